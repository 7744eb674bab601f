//! Account management by admins (and the operator): invitations, disable and enable, role
//! changes, MFA reset, ending sessions; and a user's own password change. Every change is
//! audited with what it was before and after; the last enabled admin cannot be removed.

use std::time::Duration;

use courier_core::UserId;
use courier_core::time_fmt::rfc3339;
use courier_crypto::token::Token;
use courier_store::users::{self as rows, UserRecord};
use courier_store::{invitations, lockout, recovery_codes, sessions};
use serde::Serialize;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::audit::AuditAction;
use super::authz::{Action, Resource};
use super::sessions::{Origin, StaffSession};
use super::staff::{Role, check_password_policy, normalize_email};
use super::{Actor, Caller, Courier};
use crate::error::{Said, bad_request, conflict};
use crate::{Error, Result};

/// A staff account as the users page and `user list` show it.
#[derive(Debug, Serialize)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub role: courier_core::Role,
    pub department: String,
    /// `active`, `invited` or `disabled`.
    pub status: &'static str,
    /// Enrolled second factors (`totp`); empty until the user enrols.
    pub mfa: Vec<&'static str>,
    pub recovery_codes_left: i64,
    pub locked_until: Option<String>,
    pub last_login_at: Option<String>,
    pub sessions: usize,
    pub invitation_expires_at: Option<String>,
}

/// A new invitation link, shown once.
// No `Debug`: it holds the link token, which must never reach a log.
#[derive(Serialize)]
pub struct Invitation {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub url: String,
    pub token: String,
    pub expires_at: String,
}

/// An admin's change to an account. Each ends the user's sessions: disabling and MFA reset
/// take access away, and a role change is a privilege change that needs a fresh session.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    Disable,
    Enable,
    Role(Role),
    /// Removes the authenticator and recovery codes; the user enrols again at next sign-in.
    ResetMfa,
}

impl Change {
    fn action(self) -> AuditAction {
        match self {
            Self::Disable => AuditAction::UserDisable,
            Self::Enable => AuditAction::UserEnable,
            Self::Role(_) => AuditAction::UserRole,
            Self::ResetMfa => AuditAction::UserMfaReset,
        }
    }
}

/// What an account looks like in an audit event's `before` and `after`.
fn snapshot(u: &UserRecord, mfa: &[&str]) -> Value {
    json!({ "role": u.role, "disabled": u.disabled, "mfa": mfa })
}

impl Courier {
    pub(super) async fn list_users(&self, caller: &Caller) -> Result<Vec<UserView>> {
        self.authorize(caller, Action::UserManage, &Resource::Firm).await?;
        let pool = self.db.pool();
        let now = self.clock.now_ms();
        let mut out = Vec::new();
        for u in rows::list(pool).await? {
            let status = match (u.disabled, u.invited()) {
                (true, _) => "disabled",
                (false, true) => "invited",
                (false, false) => "active",
            };
            out.push(UserView {
                recovery_codes_left: recovery_codes::unused(pool, &u.id).await?,
                locked_until: lockout::locked_until(pool, &u.email, now).await?.map(rfc3339),
                last_login_at: u.last_login_at.map(rfc3339),
                sessions: sessions::for_user(pool, &u.id)
                    .await?
                    .iter()
                    .filter(|s| s.stage == courier_core::SessionStage::Full)
                    .count(),
                invitation_expires_at: invitations::pending_until(pool, &u.id).await?.filter(|t| *t > now).map(rfc3339),
                mfa: self.mfa_methods(&u).await?,
                status,
                id: u.id,
                email: u.email,
                role: u.role,
                department: u.department,
            });
        }
        Ok(out)
    }

    /// The signed-in user's own account, for their account page.
    pub(super) async fn my_account(&self, caller: &Caller) -> Result<Value> {
        let Actor::Staff(id) = &caller.actor else {
            return Err(Error::Forbidden);
        };
        let u = self.user(id).await?;
        let left = recovery_codes::unused(self.db.pool(), id).await?;
        Ok(json!({ "email": u.email, "role": u.role, "department": u.department,
            "mfa": self.mfa_methods(&u).await?, "passkeys": self.passkeys_of(id).await?,
            "recovery_codes_left": left, "language": u.language }))
    }

    /// The caller's choice of language for the staff pages (`None`: their browser's), audited
    /// with before and after.
    pub(super) async fn set_my_language(
        &self,
        caller: &Caller,
        language: Option<courier_core::Language>,
    ) -> Result<()> {
        let Actor::Staff(id) = &caller.actor else {
            return Err(Error::Forbidden);
        };
        let mut tx = self.audit.begin(&self.db).await?;
        let before = rows::by_id(tx.conn(), id).await?.ok_or(Error::NotFound)?.language;
        if before == language {
            // Nothing changes, so nothing is recorded (a repeated form fills no trail).
            return Ok(());
        }
        rows::set_language(&mut tx, id, language).await?;
        let details = json!({ "before": before, "after": language });
        tx.record(caller, AuditAction::UserLanguage, &format!("user:{id}"), details).await?;
        tx.commit().await
    }

    pub(super) async fn user(&self, id: &str) -> Result<UserRecord> {
        rows::by_id(self.db.pool(), id).await?.ok_or(Error::NotFound)
    }

    pub(super) async fn user_by_email(&self, email: &str) -> Result<UserRecord> {
        let email = normalize_email(email)?;
        rows::by_email(self.db.pool(), &email).await?.ok_or(Error::NotFound)
    }

    /// Invites a new user (or sends a new link to one who has not accepted yet, keeping the
    /// role and department of the first invitation; `change_user` changes the role): a
    /// single-use link through which they set a password, then enrol an authenticator.
    pub(super) async fn invite_user(
        &self,
        caller: &Caller,
        email: &str,
        role: Role,
        department: &str,
        ttl: Option<Duration>,
    ) -> Result<Invitation> {
        self.authorize(caller, Action::UserManage, &Resource::Firm).await?;
        let email = normalize_email(email)?;
        let department = super::text_field("department", department, true, super::matters::MAX_NAME_CHARS)?;
        let ttl = ttl.unwrap_or(Duration::from_secs(self.config.invitation_ttl_secs));
        if ttl.is_zero() || ttl > Duration::from_secs(30 * 24 * 3600) {
            return Err(bad_request(
                "an invitation may last at most 30 days",
                Said::new("staff-refused-invitation-long"),
            ));
        }
        let token = Token::generate()?;
        let now = self.clock.now_ms();
        let expires_at = now + ttl.as_millis() as i64;
        let mut tx = self.audit.begin(&self.db).await?;
        let user_id = match rows::by_email(tx.conn(), &email).await? {
            Some(u) if !u.invited() => {
                return Err(conflict("a user with this email exists", Said::new("staff-refused-user-exists")));
            }
            Some(u) => {
                let details = json!({ "user_id": u.id, "email": u.email, "reissued": true });
                tx.record(caller, AuditAction::UserInvite, &format!("user:{}", u.id), details).await?;
                u.id
            }
            None => {
                let id = UserId::random().to_string();
                // A sealed secret is always present (key rotation re-seals it); this one is
                // never shown: enrolment offers a new one.
                let (totp_sealed, _) = self.new_totp(&id, &email)?;
                let record = UserRecord {
                    id: id.clone(),
                    email: email.clone(),
                    role,
                    password_hash: String::new(),
                    totp_sealed,
                    totp_last_step: 0,
                    disabled: false,
                    department: department.clone(),
                    last_login_at: None,
                    language: None,
                    mfa_enrolled: false,
                };
                self.insert_user(&mut tx, caller, &record, &[]).await?;
                let details = json!({ "user_id": id, "email": email, "role": role.as_str(), "department": department });
                tx.record(caller, AuditAction::UserInvite, &format!("user:{id}"), details).await?;
                id
            }
        };
        invitations::insert(&mut tx, &token.hash(), &user_id, &caller.actor.to_string(), now, expires_at).await?;
        tx.commit().await?;
        Ok(Invitation {
            id: user_id,
            email,
            role,
            url: format!("{}/invite/{}", self.config.public_url(), token.expose()),
            token: token.expose().to_owned(),
            expires_at: rfc3339(expires_at),
        })
    }

    /// A single-use link through which a user who forgot their password sets a new one
    /// (ASVS 6.4.3). The admin never learns or chooses the password, and the link does not
    /// bypass MFA: the second factor is asked for right after.
    pub(super) async fn password_reset_link(&self, caller: &Caller, user_id: &str) -> Result<Invitation> {
        self.authorize(caller, Action::UserManage, &Resource::Firm).await?;
        let user = rows::by_id(self.db.pool(), user_id).await?.filter(|u| !u.disabled).ok_or(Error::NotFound)?;
        if user.invited() {
            return Err(conflict(
                "this person has not accepted their invitation; invite them again",
                Said::new("staff-refused-not-accepted"),
            ));
        }
        let token = Token::generate()?;
        let now = self.clock.now_ms();
        let expires_at = now + (self.config.invitation_ttl_secs.min(24 * 3600) as i64) * 1000;
        let mut tx = self.audit.begin(&self.db).await?;
        invitations::insert(&mut tx, &token.hash(), &user.id, &caller.actor.to_string(), now, expires_at).await?;
        let details = json!({ "user_id": user.id, "email": user.email, "expires_at": rfc3339(expires_at) });
        tx.record(caller, AuditAction::UserPasswordResetIssued, &format!("user:{}", user.id), details).await?;
        tx.commit().await?;
        Ok(Invitation {
            id: user.id,
            email: user.email,
            role: user.role,
            url: format!("{}/invite/{}", self.config.public_url(), token.expose()),
            token: token.expose().to_owned(),
            expires_at: rfc3339(expires_at),
        })
    }

    /// The account behind a live invitation or password reset link.
    pub async fn invitation(&self, token: &str) -> Result<UserRecord> {
        let token = Token::parse(token).ok_or(Error::LinkNotFound)?;
        let user_id =
            invitations::live(self.db.pool(), &token.hash(), self.clock.now_ms()).await?.ok_or(Error::LinkNotFound)?;
        rows::by_id(self.db.pool(), &user_id).await?.filter(|u| !u.disabled).ok_or(Error::LinkNotFound)
    }

    /// Uses up an invitation or reset link: sets the password, ends the user's sessions, and
    /// starts one that must give the second factor next (or enrol one, if there is none yet).
    pub async fn accept_invitation(&self, origin: &Origin, token: &str, password: Zeroizing<String>) -> Result<Token> {
        let user = self.invitation(token).await?;
        check_password_policy(&password, &user.email, &self.firm_name())?;
        let hash = self.passwords.hash(password).await?;
        let token = Token::parse(token).ok_or(Error::LinkNotFound)?;
        let mut tx = self.audit.begin(&self.db).await?;
        if invitations::consume(&mut tx, &token.hash(), self.clock.now_ms()).await?.as_deref() != Some(&user.id) {
            return Err(Error::LinkNotFound);
        }
        rows::set_password(&mut tx, &user.id, &hash).await?;
        let ended = self.end_all_sessions(&mut tx, &user.id).await?;
        // A reset is account recovery: whoever had the account may have made tokens too.
        let revoked = courier_store::api_tokens::revoke_all(&mut tx, Some(&user.id), self.clock.now_ms()).await?;
        let stage = if user.mfa_enrolled { courier_core::SessionStage::Mfa } else { courier_core::SessionStage::Enrol };
        let session = self.start_pending_session(&mut tx, &user.id, stage, origin).await?;
        let caller = Caller::new(Actor::Staff(user.id.clone()), origin.ip);
        let (action, details) = if user.invited() {
            (AuditAction::UserInvitationAccepted, json!({}))
        } else {
            (AuditAction::UserPasswordReset, json!({ "sessions_ended": ended, "tokens_revoked": revoked }))
        };
        tx.record(&caller, action, &format!("user:{}", user.id), details).await?;
        tx.commit().await?;
        Ok(session)
    }

    /// Disables or enables an account, changes its role, or resets its MFA (see [`Change`]).
    /// The user's sessions end; the change is undone if no enabled admin would be left.
    pub(super) async fn change_user(&self, caller: &Caller, user_id: &str, change: Change) -> Result<()> {
        self.authorize(caller, Action::UserManage, &Resource::Firm).await?;
        let mut tx = self.audit.begin(&self.db).await?;
        rows::lock_admins(&mut tx, self.db.backend()).await?;
        let before = rows::by_id(tx.conn(), user_id).await?.ok_or(Error::NotFound)?;
        let mfa_before = self.mfa_methods(&before).await?;
        match change {
            Change::Disable => rows::set_disabled(&mut tx, user_id, true).await?,
            Change::Enable => rows::set_disabled(&mut tx, user_id, false).await?,
            Change::Role(role) => rows::set_role(&mut tx, user_id, role).await?,
            Change::ResetMfa => {
                recovery_codes::delete_all(&mut tx, user_id).await?;
                courier_store::passkeys::delete_all(&mut tx, user_id).await?;
                rows::clear_mfa(&mut tx, user_id).await?
            }
        };
        let after = rows::by_id(tx.conn(), user_id).await?.ok_or(Error::NotFound)?;
        let was_admin = before.role == Role::Admin && !before.disabled;
        if was_admin && rows::count_admins(tx.conn()).await? == 0 {
            return Err(conflict(
                "this is the last enabled administrator; make another admin first",
                Said::new("staff-refused-last-admin"),
            ));
        }
        let ended = self.end_all_sessions(&mut tx, user_id).await?;
        // Disabling and an MFA reset are how an account is taken back: its API tokens go
        // with its sessions (review finding 6). A role change keeps them; Cedar sees the new
        // role on every request.
        let revoked = match change {
            Change::Disable | Change::ResetMfa => {
                courier_store::api_tokens::revoke_all(&mut tx, Some(user_id), self.clock.now_ms()).await?
            }
            Change::Enable | Change::Role(_) => 0,
        };
        let mfa_after = match change {
            Change::ResetMfa => Vec::new(),
            _ => mfa_before.clone(),
        };
        let details = json!({ "user_id": user_id, "email": before.email, "before": snapshot(&before, &mfa_before),
            "after": snapshot(&after, &mfa_after), "sessions_ended": ended, "tokens_revoked": revoked });
        tx.record(caller, change.action(), &format!("user:{user_id}"), details).await?;
        tx.commit().await
    }

    /// Ends every session of every user and revokes every API token (incident response); the
    /// caller signs in again too.
    pub(super) async fn end_everyones_sessions(&self, caller: &Caller) -> Result<u64> {
        self.authorize(caller, Action::UserManage, &Resource::Firm).await?;
        let mut tx = self.audit.begin(&self.db).await?;
        let ended = sessions::delete_all(&mut tx).await?;
        let revoked = courier_store::api_tokens::revoke_all(&mut tx, None, self.clock.now_ms()).await?;
        let details = json!({ "count": ended, "tokens_revoked": revoked });
        tx.record(caller, AuditAction::SessionsEndedAll, "sessions", details).await?;
        tx.commit().await?;
        Ok(ended)
    }

    /// Ends every session of a user and revokes their API tokens.
    pub(super) async fn end_user_sessions(&self, caller: &Caller, user_id: &str) -> Result<u64> {
        self.authorize(caller, Action::UserManage, &Resource::Firm).await?;
        let mut tx = self.audit.begin(&self.db).await?;
        rows::by_id(tx.conn(), user_id).await?.ok_or(Error::NotFound)?;
        let ended = self.end_all_sessions(&mut tx, user_id).await?;
        let revoked = courier_store::api_tokens::revoke_all(&mut tx, Some(user_id), self.clock.now_ms()).await?;
        let details = json!({ "user_id": user_id, "count": ended, "tokens_revoked": revoked });
        tx.record(caller, AuditAction::UserSessionsEnded, &format!("user:{user_id}"), details).await?;
        tx.commit().await?;
        Ok(ended)
    }

    /// Asks the signed-in user for their password again before a change to how they sign in
    /// or to their sessions (ASVS 7.5.1, 7.5.2). A wrong one is audited and counts towards the
    /// lockout like a failed sign-in.
    pub(super) async fn reauthenticate(
        &self,
        caller: &Caller,
        session: &StaffSession,
        password: Zeroizing<String>,
    ) -> Result<UserRecord> {
        let user = rows::by_id(self.db.pool(), &session.user_id).await?.ok_or(Error::Unauthenticated)?;
        self.begin_sign_in(caller.ip, &user.email).await?;
        if !self.passwords.verify(password, Some(user.password_hash.clone())).await? {
            let details = json!({ "step": "reauthenticate" });
            self.audit
                .record(&self.db, caller, AuditAction::LoginFailed, &format!("user:{}", user.id), details)
                .await?;
            self.sign_in_failed(caller.ip, &user.email).await?;
            return Err(bad_request("your password is not right", Said::new("staff-refused-password-wrong")));
        }
        self.sign_in_step_passed(caller.ip, &user.email).await?;
        Ok(user)
    }

    /// Changes the signed-in user's password (the current one is asked again). Their other
    /// sessions end and this one gets a fresh id.
    pub(super) async fn change_password(
        &self,
        caller: &Caller,
        session: &StaffSession,
        current: Zeroizing<String>,
        new: Zeroizing<String>,
    ) -> Result<Token> {
        let user_id = &session.user_id;
        let user = self.reauthenticate(caller, session, current).await?;
        check_password_policy(&new, &user.email, &self.firm_name())?;
        let hash = self.passwords.hash(new).await?;
        let mut tx = self.audit.begin(&self.db).await?;
        rows::set_password(&mut tx, user_id, &hash).await?;
        let (fresh, ended) = self.renew_session(&mut tx, session).await?;
        // Changing one's password is self-recovery too: tokens made with the old one go.
        let revoked = courier_store::api_tokens::revoke_all(&mut tx, Some(user_id), self.clock.now_ms()).await?;
        let details = json!({ "sessions_ended": ended, "tokens_revoked": revoked });
        tx.record(caller, AuditAction::UserPasswordChanged, &format!("user:{user_id}"), details).await?;
        tx.commit().await?;
        Ok(fresh)
    }
}
