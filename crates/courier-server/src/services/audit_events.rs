//! The audit trail's catalogue: every action an event can record, with what it means. Writers
//! name an [`AuditAction`], never a free-form string; `docs/audit-events.md` lists the same
//! catalogue (a test keeps the two in step).

/// What an audit event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// A staff request was refused: the action, the deciding policy (or `api-token-scope`) and the address.
    AccessDenied,
    /// The operator printed the access review (`courier access review`).
    AccessReport,
    /// A matter's access review was recorded: who was removed, the note.
    AccessReview,
    /// Wrong passwords or codes locked a sign-in name (once per lock).
    AccountLocked,
    /// Staff or the operator lifted a sign-in lock.
    AccountUnlock,
    /// A personal API token was made: its name, scopes and expiry (never the token).
    ApiTokenCreate,
    /// A bearer token was refused: unknown, revoked, expired or its user disabled; the method and route.
    ApiTokenRefused,
    /// A personal API token was revoked.
    ApiTokenRevoke,
    /// A request was made with a personal API token: the method and route.
    ApiTokenUsed,
    /// The operator exported the audit trail.
    AuditExport,
    /// The operator started a new `heads.log` (after restoring an older database, or with the old log deleted or damaged), with the reason, the events lost, how many heads the old log held (`replaced_heads`) and what was wrong with it (`replaced_problem`, `replaced_bad_lines`); it raises the alert `audit_log_restarted`.
    AuditLogRestarted,
    /// The audit trail was verified and found intact (a broken trail gets nothing appended).
    AuditVerify,
    /// A stored document failed authentication while being read (tampered or damaged blob).
    DocumentCorrupt,
    /// A document was crypto-shredded, with the reason (`staff`, `retention`, `filed`, `portal_deleted`, `restored_journal`).
    DocumentDelete,
    /// Staff downloaded a document.
    DocumentDownload,
    /// The operator listed documents.
    DocumentList,
    /// An upload was refused: the reason class (type, malware with its signature, content, size, scanner unavailable), never the name or content.
    DocumentRefused,
    /// A held document was released, with the reason.
    DocumentRelease,
    /// A document was stored: portal or matter, receipt, size, SHA-256 and scan result.
    DocumentUpload,
    /// The operator retired a master key version no document uses.
    KeyRetire,
    /// The operator re-wrapped every document key under the newest master key.
    KeyRewrap,
    /// The operator made a new master key version and re-wrapped the document keys.
    KeyRotate,
    /// The operator printed the key ring's status.
    KeyStatus,
    /// A sign-in step failed (wrong password, code or passkey).
    LoginFailed,
    /// A sign-in was refused because the name or address is locked.
    LoginLockedOut,
    /// The password step passed; the second factor is owed.
    LoginPasswordOk,
    /// A staff member signed in (the second factor used).
    LoginSuccess,
    /// A staff member signed out.
    Logout,
    /// The operator ran upkeep by hand (`upkeep run`): expiries recorded, documents shredded by retention and filing, addresses redacted, stale uploads and orphan blobs removed, sessions ended.
    MaintenanceRun,
    /// A matter was archived (its portals and shares close).
    MatterArchive,
    /// Someone took time-limited access to a matter they are not on, with the reason.
    MatterBreakGlass,
    /// A matter was created.
    MatterCreate,
    /// The operator listed matters.
    MatterList,
    /// A member was taken off a matter.
    MatterMemberRemove,
    /// A member was added to a matter or their role changed (before and after).
    MatterMemberSet,
    /// The operator showed a matter.
    MatterShow,
    /// An archived matter was opened again.
    MatterUnarchive,
    /// An authenticator was enrolled.
    MfaEnrolled,
    /// A new authenticator secret was offered for enrolment.
    MfaEnrolmentOffered,
    /// A passkey was registered.
    MfaPasskeyAdded,
    /// A passkey was removed.
    MfaPasskeyRemoved,
    /// A recovery code was used as the second factor.
    MfaRecoveryCodeUsed,
    /// New recovery codes replaced the old ones.
    MfaRecoveryCodesRegenerated,
    /// The operator asked how the policies decide a request (`courier policy check`).
    PolicyCheck,
    /// A portal was opened.
    PortalCreate,
    /// A portal was deleted and its documents shredded.
    PortalDelete,
    /// A portal's link was closed.
    PortalDisable,
    /// A closed portal's link was opened again.
    PortalEnable,
    /// Upkeep recorded that a portal's link expired.
    PortalExpire,
    /// The operator listed portals.
    PortalList,
    /// A portal got a new link; the old one stopped working.
    PortalNewLink,
    /// A wrong passcode was given for a portal's link (never the passcode).
    PortalPasscodeFailed,
    /// Wrong passcodes locked a portal's link for a while (once per lock).
    PortalPasscodeLocked,
    /// Staff lifted the lock that wrong passcodes put on a portal's link.
    PortalPasscodeUnlocked,
    /// The operator showed a portal.
    PortalShow,
    /// A staff member ended one of their sessions.
    SessionEnded,
    /// A new sign-in ended the older session (single-session mode).
    SessionEndedByNewLogin,
    /// A staff member ended their other sessions.
    SessionEndedOthers,
    /// An admin ended every session of every user.
    SessionsEndedAll,
    /// A first-admin setup link was issued.
    SetupLinkIssued,
    /// The first admin was created through the setup link.
    SetupLinkUsed,
    /// Documents were shared with a recipient through a link.
    ShareCreate,
    /// A recipient downloaded a shared (watermarked) document.
    ShareDownload,
    /// The operator listed shares.
    ShareList,
    /// A wrong passcode was given for a share's link.
    SharePasscodeFailed,
    /// Wrong passcodes locked a share's link for a while (once per lock).
    SharePasscodeLocked,
    /// Staff lifted the lock that wrong passcodes put on a share's link.
    SharePasscodeUnlocked,
    /// A share's link was revoked.
    ShareRevoke,
    /// The operator showed a share.
    ShareShow,
    /// SIGHUP found a certificate and key that do not load; the old pair stays.
    TlsReloadFailed,
    /// SIGHUP loaded a renewed certificate.
    TlsReloaded,
    /// The operator created a staff account.
    UserCreate,
    /// A user's department changed.
    UserDepartment,
    /// A user was disabled (sessions and tokens end).
    UserDisable,
    /// A staff member chose the language of their pages.
    UserLanguage,
    /// A disabled user was enabled again.
    UserEnable,
    /// An invited user set their password.
    UserInvitationAccepted,
    /// A staff member was invited.
    UserInvite,
    /// A user's second factors were removed; they enrol again.
    UserMfaReset,
    /// A user changed their own password (their tokens are revoked).
    UserPasswordChanged,
    /// A user set a new password through a reset link.
    UserPasswordReset,
    /// An admin issued a password reset link.
    UserPasswordResetIssued,
    /// A user's role changed (before and after).
    UserRole,
    /// An admin ended a user's sessions.
    UserSessionsEnded,
    /// A certificate of deletion was issued for a shredded document.
    DocumentCertificate,
    /// Documents were marked as filed in the firm's DMS (ids, the DMS reference); they are shredded once `filed_grace` has passed.
    DocumentFiled,
    /// An administrator changed the firm's profile (name, colour, contact line, time zone, logo) after setup, before and after.
    FirmProfileChange,
    /// A legal hold was placed on a matter or a document, with the reason.
    HoldPlaced,
    /// A legal hold was released, with the reason.
    HoldReleased,
    /// The operator listed the legal holds.
    HoldList,
    /// A matter's own retention was set or cleared.
    MatterRetention,
    /// A portal's own retention was set or cleared.
    PortalRetention,
    /// Upkeep made client addresses older than `client_ip_retention` unreadable (counts of audit events and share downloads).
    AddressesRedacted,
    /// A backup was written: its id, location, audit sequence and counts (never the identity).
    BackupCreated,
    /// This installation was restored from a backup: its id, the counts, and how many documents the deletion journal shredded again.
    BackupRestored,
    /// An alert was raised (`link_probing`, `bulk_download`, `account_locked`, `malware`, `off_hours_sign_in`, `lockdown`, `audit_log_restarted`): what, and from where; its mail and webhook are queued with it.
    AlertRaised,
    /// The installation was locked down: every link closed, every session ended, tokens refused; the reason.
    LockdownOn,
    /// The lockdown was lifted, with the reason.
    LockdownOff,
    /// The operator wrote a forensic bundle: since when, how many events, the SHA-256 of its manifest.
    IncidentExport,
    /// A portal's upload notifications were switched on or off.
    PortalNotify,
    /// A staff member marked their upload notifications as read.
    NotificationsRead,
}

impl AuditAction {
    pub const ALL: &'static [Self] = &[
        Self::AccessDenied,
        Self::AccessReport,
        Self::AccessReview,
        Self::AccountLocked,
        Self::AccountUnlock,
        Self::ApiTokenCreate,
        Self::ApiTokenRefused,
        Self::ApiTokenRevoke,
        Self::ApiTokenUsed,
        Self::AuditExport,
        Self::AuditLogRestarted,
        Self::AuditVerify,
        Self::DocumentCorrupt,
        Self::DocumentDelete,
        Self::DocumentDownload,
        Self::DocumentList,
        Self::DocumentRefused,
        Self::DocumentRelease,
        Self::DocumentUpload,
        Self::KeyRetire,
        Self::KeyRewrap,
        Self::KeyRotate,
        Self::KeyStatus,
        Self::LoginFailed,
        Self::LoginLockedOut,
        Self::LoginPasswordOk,
        Self::LoginSuccess,
        Self::Logout,
        Self::MaintenanceRun,
        Self::MatterArchive,
        Self::MatterBreakGlass,
        Self::MatterCreate,
        Self::MatterList,
        Self::MatterMemberRemove,
        Self::MatterMemberSet,
        Self::MatterShow,
        Self::MatterUnarchive,
        Self::MfaEnrolled,
        Self::MfaEnrolmentOffered,
        Self::MfaPasskeyAdded,
        Self::MfaPasskeyRemoved,
        Self::MfaRecoveryCodeUsed,
        Self::MfaRecoveryCodesRegenerated,
        Self::PolicyCheck,
        Self::PortalCreate,
        Self::PortalDelete,
        Self::PortalDisable,
        Self::PortalEnable,
        Self::PortalExpire,
        Self::PortalList,
        Self::PortalNewLink,
        Self::PortalPasscodeFailed,
        Self::PortalPasscodeLocked,
        Self::PortalPasscodeUnlocked,
        Self::PortalShow,
        Self::SessionEnded,
        Self::SessionEndedByNewLogin,
        Self::SessionEndedOthers,
        Self::SessionsEndedAll,
        Self::SetupLinkIssued,
        Self::SetupLinkUsed,
        Self::ShareCreate,
        Self::ShareDownload,
        Self::ShareList,
        Self::SharePasscodeFailed,
        Self::SharePasscodeLocked,
        Self::SharePasscodeUnlocked,
        Self::ShareRevoke,
        Self::ShareShow,
        Self::TlsReloadFailed,
        Self::TlsReloaded,
        Self::UserCreate,
        Self::UserDepartment,
        Self::UserDisable,
        Self::UserEnable,
        Self::UserInvitationAccepted,
        Self::UserInvite,
        Self::UserLanguage,
        Self::UserMfaReset,
        Self::UserPasswordChanged,
        Self::UserPasswordReset,
        Self::UserPasswordResetIssued,
        Self::UserRole,
        Self::UserSessionsEnded,
        Self::DocumentCertificate,
        Self::DocumentFiled,
        Self::FirmProfileChange,
        Self::HoldPlaced,
        Self::HoldReleased,
        Self::HoldList,
        Self::MatterRetention,
        Self::PortalRetention,
        Self::AddressesRedacted,
        Self::BackupCreated,
        Self::BackupRestored,
        Self::AlertRaised,
        Self::LockdownOn,
        Self::LockdownOff,
        Self::IncidentExport,
        Self::PortalNotify,
        Self::NotificationsRead,
    ];

    /// The action as stored in `audit_events.action`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessDenied => "access.denied",
            Self::AccessReport => "access.report",
            Self::AccessReview => "access.review",
            Self::AccountLocked => "account.locked",
            Self::AccountUnlock => "account.unlock",
            Self::ApiTokenCreate => "api_token.create",
            Self::ApiTokenRefused => "api_token.refused",
            Self::ApiTokenRevoke => "api_token.revoke",
            Self::ApiTokenUsed => "api_token.used",
            Self::AuditExport => "audit.export",
            Self::AuditLogRestarted => "audit.log_restarted",
            Self::AuditVerify => "audit.verify",
            Self::DocumentCorrupt => "document.corrupt",
            Self::DocumentDelete => "document.delete",
            Self::DocumentDownload => "document.download",
            Self::DocumentList => "document.list",
            Self::DocumentRefused => "document.refused",
            Self::DocumentRelease => "document.release",
            Self::DocumentUpload => "document.upload",
            Self::KeyRetire => "key.retire",
            Self::KeyRewrap => "key.rewrap",
            Self::KeyRotate => "key.rotate",
            Self::KeyStatus => "key.status",
            Self::LoginFailed => "login.failed",
            Self::LoginLockedOut => "login.locked_out",
            Self::LoginPasswordOk => "login.password_ok",
            Self::LoginSuccess => "login.success",
            Self::Logout => "logout",
            Self::MaintenanceRun => "maintenance.run",
            Self::MatterArchive => "matter.archive",
            Self::MatterBreakGlass => "matter.break_glass",
            Self::MatterCreate => "matter.create",
            Self::MatterList => "matter.list",
            Self::MatterMemberRemove => "matter.member_remove",
            Self::MatterMemberSet => "matter.member_set",
            Self::MatterShow => "matter.show",
            Self::MatterUnarchive => "matter.unarchive",
            Self::MfaEnrolled => "mfa.enrolled",
            Self::MfaEnrolmentOffered => "mfa.enrolment_offered",
            Self::MfaPasskeyAdded => "mfa.passkey_added",
            Self::MfaPasskeyRemoved => "mfa.passkey_removed",
            Self::MfaRecoveryCodeUsed => "mfa.recovery_code_used",
            Self::MfaRecoveryCodesRegenerated => "mfa.recovery_codes_regenerated",
            Self::PolicyCheck => "policy.check",
            Self::PortalCreate => "portal.create",
            Self::PortalDelete => "portal.delete",
            Self::PortalDisable => "portal.disable",
            Self::PortalEnable => "portal.enable",
            Self::PortalExpire => "portal.expire",
            Self::PortalList => "portal.list",
            Self::PortalNewLink => "portal.new_link",
            Self::PortalPasscodeFailed => "portal.passcode_failed",
            Self::PortalPasscodeLocked => "portal.passcode_locked",
            Self::PortalPasscodeUnlocked => "portal.passcode_unlocked",
            Self::PortalShow => "portal.show",
            Self::SessionEnded => "session.ended",
            Self::SessionEndedByNewLogin => "session.ended_by_new_login",
            Self::SessionEndedOthers => "session.ended_others",
            Self::SessionsEndedAll => "sessions.ended_all",
            Self::SetupLinkIssued => "setup.link_issued",
            Self::SetupLinkUsed => "setup.link_used",
            Self::ShareCreate => "share.create",
            Self::ShareDownload => "share.download",
            Self::ShareList => "share.list",
            Self::SharePasscodeFailed => "share.passcode_failed",
            Self::SharePasscodeLocked => "share.passcode_locked",
            Self::SharePasscodeUnlocked => "share.passcode_unlocked",
            Self::ShareRevoke => "share.revoke",
            Self::ShareShow => "share.show",
            Self::TlsReloadFailed => "tls.reload_failed",
            Self::TlsReloaded => "tls.reloaded",
            Self::UserCreate => "user.create",
            Self::UserDepartment => "user.department",
            Self::UserLanguage => "user.language",
            Self::UserDisable => "user.disable",
            Self::UserEnable => "user.enable",
            Self::UserInvitationAccepted => "user.invitation_accepted",
            Self::UserInvite => "user.invite",
            Self::UserMfaReset => "user.mfa_reset",
            Self::UserPasswordChanged => "user.password_changed",
            Self::UserPasswordReset => "user.password_reset",
            Self::UserPasswordResetIssued => "user.password_reset_issued",
            Self::UserRole => "user.role",
            Self::UserSessionsEnded => "user.sessions_ended",
            Self::DocumentCertificate => "document.certificate",
            Self::DocumentFiled => "document.filed",
            Self::FirmProfileChange => "firm.profile_change",
            Self::HoldPlaced => "hold.placed",
            Self::HoldReleased => "hold.released",
            Self::HoldList => "hold.list",
            Self::MatterRetention => "matter.retention",
            Self::PortalRetention => "portal.retention",
            Self::AddressesRedacted => "audit.addresses_redacted",
            Self::BackupCreated => "backup.created",
            Self::BackupRestored => "backup.restored",
            Self::AlertRaised => "alert.raised",
            Self::LockdownOn => "lockdown.on",
            Self::LockdownOff => "lockdown.off",
            Self::IncidentExport => "incident.export",
            Self::PortalNotify => "portal.notify",
            Self::NotificationsRead => "notifications.read",
        }
    }
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::AuditAction;

    #[test]
    fn the_catalogue_and_docs_audit_events_md_agree() {
        let doc = include_str!("../../../../docs/audit-events.md");
        let documented: std::collections::BTreeSet<&str> =
            doc.lines().filter_map(|l| l.strip_prefix("| `")?.split('`').next()).collect();
        let catalogue: std::collections::BTreeSet<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(documented, catalogue, "docs/audit-events.md and AuditAction differ");
        assert_eq!(catalogue.len(), AuditAction::ALL.len(), "an action is named twice");
    }
}
