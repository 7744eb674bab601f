//! Portals: inbound collection links. Only the SHA-256 of a portal's token is stored; the token
//! is shown once at creation (and at "new link"). Every way a link can be unusable (unknown,
//! malformed, disabled, expired, deleted) gives the same `LinkNotFound`.

use courier_core::time_fmt::rfc3339;
use courier_core::{ByteSize, DurationSpec, PortalFacts, PortalId, PortalStatus};
use courier_crypto::token::Token;
use courier_store::portals::{self as rows, NewPortal, PortalRecord};
use serde::Serialize;
use serde_json::json;
use zeroize::Zeroizing;

use super::audit::AuditAction;
use super::authz::{Action, Resource};
use super::scanning::Scanning;
use super::{Caller, Courier};
use crate::config::DlpAction;
use crate::error::{Said, bad_request, said_with};
use crate::{Error, Result};
use courier_scan::FileKind;

pub const MAX_LABEL_CHARS: usize = 200;
pub const MIN_PASSCODE_CHARS: usize = 6;

#[derive(Debug, Default)]
pub struct PortalRequest {
    pub label: String,
    pub matter: Option<String>,
    pub expires_at_ms: Option<i64>,
    pub passcode: Option<Zeroizing<String>>,
    pub max_file_size: Option<ByteSize>,
    /// Narrows or widens the firm's allowlist for this portal.
    pub allowed_types: Option<Vec<FileKind>>,
    pub dlp_action: Option<DlpAction>,
    /// Its documents' own retention; `None`: the matter's, then the firm's.
    pub retention: Option<courier_core::DurationSpec>,
    /// Who is told about uploads (an e-mail, the operator's choice); staff who create a
    /// portal own it themselves.
    pub owner: Option<String>,
    /// Tell the owner about uploads (default on).
    pub notify: Option<bool>,
    /// The client page's language; `None`: the client's browser decides.
    pub language: Option<courier_core::Language>,
}

/// What staff see of a portal.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PortalView {
    pub id: String,
    pub label: String,
    pub matter: Option<String>,
    pub matter_id: Option<String>,
    pub status: &'static str,
    pub enabled: bool,
    pub has_passcode: bool,
    pub max_file_size: u64,
    pub expires_at: Option<String>,
    pub created_at: String,
    pub created_by: String,
    pub document_count: i64,
    pub last_upload_at: Option<String>,
    /// The file types this portal accepts, and what it does with personal data.
    pub allowed_types: Vec<&'static str>,
    pub dlp_action: &'static str,
    /// How long its documents stay (the portal's own, else its matter's, else the firm's),
    /// and which of the three it is.
    pub retention: String,
    pub retention_from: &'static str,
    /// Who is told about uploads, and whether they are.
    pub owner: Option<String>,
    pub notify: bool,
    /// The client page's language (`en`, `fr`); `null`: the client's browser decides.
    pub language: Option<&'static str>,
}

/// A link shown once: at creation and after "new link".
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedLink {
    pub id: String,
    pub url: String,
    pub token: String,
    pub expires_at: Option<String>,
}

/// What a client's instruction sheet says about a portal and its current link.
#[derive(Debug, Serialize)]
pub struct InstructionSheet {
    pub label: String,
    pub url: String,
    /// How every genuine link of this firm begins (`https://host/p/`).
    pub link_prefix: String,
    pub has_passcode: bool,
    pub expires_at: Option<String>,
    /// How long files stay: a count and its unit (said in the sheet's language).
    pub kept_n: u64,
    pub kept_unit: &'static str,
    /// The portal's language, the sheet's default.
    #[serde(skip)]
    pub language: Option<courier_core::Language>,
}

/// A portal as a client reaches it through a working link.
#[derive(Debug, Clone)]
pub struct OpenPortal {
    pub id: String,
    pub matter_id: String,
    pub label: String,
    pub passcode_hash: Option<String>,
    pub max_file_size: u64,
    pub expires_at: Option<i64>,
    /// `None`: the firm's allowlist.
    pub allowed_types: Option<Vec<FileKind>>,
    pub dlp_action: DlpAction,
    /// How long files sent through it stay (told to the client).
    pub retention: DurationSpec,
    pub language: Option<courier_core::Language>,
}

pub fn status(p: &PortalRecord, now: i64) -> PortalStatus {
    let facts = PortalFacts {
        deleted: p.deleted_at.is_some(),
        expires_at: p.expires_at,
        enabled: p.enabled,
        matter_archived: p.matter_archived,
    };
    PortalStatus::of(facts, now)
}

/// A portal's size limit; a negative one was written behind Courier's back.
fn max_file_size(p: &PortalRecord) -> Result<u64> {
    u64::try_from(p.max_file_size).map_err(|_| {
        Error::Internal(format!("portal {}: the stored size limit {} is unreadable", p.id, p.max_file_size))
    })
}

/// A portal's own allowlist; `None`: the firm's. Names are validated on the way in, so a stored
/// list that does not parse was changed behind Courier's back: that is an error (uploads are
/// refused), never the firm's wider list.
pub fn allowed_types(p: &PortalRecord) -> Result<Option<Vec<FileKind>>> {
    let Some(stored) = p.allowed_types.as_deref() else {
        return Ok(None);
    };
    let names: Vec<String> = stored.split(',').map(str::to_owned).collect();
    crate::config::parse_kinds(&names)
        .map(Some)
        .map_err(|e| Error::Internal(format!("portal {}: the stored allowlist is unreadable ({e})", p.id)))
}

pub fn dlp_action(p: &PortalRecord, default: DlpAction) -> DlpAction {
    p.dlp_action.unwrap_or(default)
}

/// What staff see of a portal. A portal whose stored allowlist is unreadable is shown as
/// `unreadable` with no accepted types (and takes nothing) instead of failing every listing.
pub fn view(p: &PortalRecord, now: i64, scanning: &Scanning, firm_retention: DurationSpec) -> PortalView {
    let (retention, retention_from) = retention(p, firm_retention);
    let (status, allowed) = match allowed_types(p).and_then(|own| max_file_size(p).map(|_| own)) {
        Ok(own) => (status(p, now), own.unwrap_or_else(|| scanning.default_allowed().to_vec())),
        Err(e) => {
            tracing::error!(error = %e, detail = e.internal_detail(), "a portal's stored rules are unreadable; it takes no uploads");
            (PortalStatus::Unreadable, Vec::new())
        }
    };
    PortalView {
        allowed_types: allowed.iter().map(|k| k.name()).collect(),
        dlp_action: dlp_action(p, scanning.default_dlp_action()).as_str(),
        id: p.id.clone(),
        label: p.label.clone(),
        matter: p.matter_name.clone(),
        matter_id: p.matter_id.clone(),
        status: status.as_str(),
        enabled: p.enabled,
        has_passcode: p.passcode_hash.is_some(),
        max_file_size: p.max_file_size.max(0) as u64,
        expires_at: p.expires_at.map(rfc3339),
        created_at: rfc3339(p.created_at),
        created_by: p.created_by.clone(),
        document_count: p.document_count,
        last_upload_at: p.last_upload_at.map(rfc3339),
        retention: retention.to_string(),
        retention_from,
        owner: p.owner_email.clone(),
        notify: p.notify,
        language: p.language.map(courier_core::Language::as_str),
    }
}

/// How long the portal's documents stay, and whose rule that is (`portal`, `matter`, `firm`).
pub fn retention(p: &PortalRecord, firm: DurationSpec) -> (DurationSpec, &'static str) {
    let ms = |v: i64| DurationSpec::from_secs(u64::try_from(v / 1000).unwrap_or(0).max(1));
    match (p.retention_ms, p.matter_retention_ms) {
        (Some(own), _) => (ms(own), "portal"),
        (None, Some(matter)) => (ms(matter), "matter"),
        (None, None) => (firm, "firm"),
    }
}

impl Courier {
    pub(super) fn portal_url(&self, token: &Token) -> String {
        format!("{}/p/{}", self.config.public_url(), token.expose())
    }

    pub(super) async fn create_portal(&self, caller: &Caller, req: PortalRequest) -> Result<IssuedLink> {
        let label = req.label.trim();
        if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
            return Err(bad_request(
                format!("the label must be 1 to {MAX_LABEL_CHARS} characters, without control characters"),
                said_with("staff-refused-label", "max", MAX_LABEL_CHARS),
            ));
        }
        let now = self.clock.now_ms();
        if req.expires_at_ms.is_some_and(|e| e <= now) {
            return Err(bad_request("the expiry must be in the future", Said::new("staff-refused-expiry-past")));
        }
        let max = req.max_file_size.unwrap_or(self.config.default_max_file_size);
        if max.bytes() == 0 || max.bytes() > i64::MAX as u64 {
            return Err(bad_request("the maximum file size must be positive", Said::new("staff-refused-max-size")));
        }
        let passcode_hash = match req.passcode {
            Some(p) if p.chars().count() < MIN_PASSCODE_CHARS => {
                return Err(bad_request(
                    format!("a passcode needs at least {MIN_PASSCODE_CHARS} characters"),
                    said_with("staff-refused-passcode-short", "min", MIN_PASSCODE_CHARS),
                ));
            }
            Some(p) if p.len() > 1024 => {
                return Err(bad_request("the passcode is too long", Said::new("staff-refused-passcode-long")));
            }
            Some(p) => Some(self.passwords.hash(p).await?),
            None => None,
        };
        let matter = req.matter.as_deref().map(str::trim).filter(|m| !m.is_empty());
        if matter.is_some_and(|m| m.chars().count() > MAX_LABEL_CHARS || m.chars().any(char::is_control)) {
            return Err(bad_request(
                format!("the matter must be 1 to {MAX_LABEL_CHARS} characters"),
                said_with("staff-refused-matter-name", "max", MAX_LABEL_CHARS),
            ));
        }
        // Portals without a matter go to the firm-wide General matter. The operator's unknown
        // matter name is opened; staff name one they can see (see `resolve_matter`).
        let name = matter.unwrap_or(courier_store::matters::GENERAL);
        let matter = self.resolve_matter(caller, name, true).await.map_err(|e| match e {
            Error::NotFound => bad_request(
                format!(
                    "there is no matter {name:?} that you can use; open it under Matters first, or ask to be added to it"
                ),
                said_with("staff-refused-no-matter", "name", name),
            ),
            e => e,
        })?;
        self.authorize(caller, Action::PortalCreate, &self.matter_resource(&matter.id).await?).await?;
        if req.retention.is_some() {
            // Its own retention may shred sooner than the matter's: that is the matter's call.
            self.authorize(caller, Action::MatterRetention, &self.matter_resource(&matter.id).await?).await?;
        }
        let allowed =
            req.allowed_types.as_ref().map(|kinds| kinds.iter().map(|k| k.name()).collect::<Vec<_>>().join(","));
        if req.allowed_types.as_ref().is_some_and(Vec::is_empty) {
            return Err(bad_request("a portal must accept at least one file type", Said::new("staff-refused-no-type")));
        }
        let dlp_action = req.dlp_action.map(DlpAction::as_str);
        let owner_id = self.portal_owner(caller, req.owner.as_deref()).await?;
        let notify = req.notify.unwrap_or(true);
        let token = Token::generate()?;
        let id = PortalId::random().to_string();
        let mut tx = self.audit.begin(&self.db).await?;
        let matter_id = Some(matter.id);
        rows::insert(
            &mut tx,
            &NewPortal {
                id: &id,
                matter_id: matter_id.as_deref(),
                label,
                token_hash: &token.hash(),
                passcode_hash: passcode_hash.as_deref(),
                max_file_size: max.bytes() as i64,
                expires_at: req.expires_at_ms,
                created_by: &caller.actor.to_string(),
                created_at: now,
                allowed_types: allowed.as_deref(),
                dlp_action,
                retention_ms: req.retention.map(courier_core::DurationSpec::as_millis),
                owner_id: owner_id.as_deref(),
                notify,
                language: req.language.map(courier_core::Language::as_str),
            },
        )
        .await?;
        let details = json!({
            "portal_id": id, "matter_id": matter_id, "expires_at": req.expires_at_ms.map(rfc3339),
            "passcode": passcode_hash.is_some(), "max_file_size": max.bytes(),
            "allowed_types": allowed, "dlp_action": dlp_action, "retention": req.retention,
            "owner_id": owner_id, "notify": notify, "language": req.language,
        });
        tx.record(caller, AuditAction::PortalCreate, &format!("portal:{id}"), details).await?;
        tx.commit().await?;
        Ok(IssuedLink {
            url: self.portal_url(&token),
            token: token.expose().to_owned(),
            expires_at: req.expires_at_ms.map(rfc3339),
            id,
        })
    }

    /// The owner of a new portal: the staff member creating it, or the user the operator
    /// names (an unknown or disabled one is refused); nobody when the operator names none.
    async fn portal_owner(&self, caller: &Caller, owner: Option<&str>) -> Result<Option<String>> {
        match (&caller.actor, owner) {
            (super::Actor::Staff(id), None) => Ok(Some(id.clone())),
            (super::Actor::Staff(_), Some(_)) => {
                Err(Error::BadRequest("a portal created by staff is owned by its creator".into()))
            }
            (_, None) => Ok(None),
            (_, Some(email)) => {
                let email = super::staff::normalize_email(email)?;
                let user = courier_store::users::by_email(self.db.pool(), &email)
                    .await?
                    .filter(|u| !u.disabled && !u.invited())
                    .ok_or_else(|| {
                        bad_request(
                            format!("there is no active staff member {email}"),
                            said_with("staff-refused-no-member", "email", email),
                        )
                    })?;
                Ok(Some(user.id))
            }
        }
    }

    /// Switches upload notifications for a portal's owner on or off.
    pub(super) async fn set_portal_notify(&self, caller: &Caller, id: &str, notify: bool) -> Result<()> {
        let portal = rows::get(self.db.pool(), id).await?.ok_or(Error::NotFound)?;
        self.authorize(caller, Action::PortalManage, &self.portal_resource(&portal).await?).await?;
        let mut tx = self.audit.begin(&self.db).await?;
        if !rows::set_notify(&mut tx, id, notify).await? {
            return Err(Error::NotFound);
        }
        tx.record(
            caller,
            AuditAction::PortalNotify,
            &format!("portal:{id}"),
            json!({ "portal_id": id, "notify": notify }),
        )
        .await?;
        tx.commit().await
    }

    /// The portals `caller` may see.
    pub(super) async fn list_portals(&self, caller: &Caller) -> Result<Vec<PortalView>> {
        let now = self.clock.now_ms();
        let mut out = Vec::new();
        let mut sieve = self.sieve(caller).await?;
        for p in rows::list(self.db.pool()).await? {
            let matter = sieve.matter(p.matter_id.as_deref().unwrap_or(courier_store::matters::GENERAL)).await?;
            if sieve.may(Action::PortalView, &Resource::Portal { matter, id: p.id.clone() }) {
                out.push(view(&p, now, &self.scanning, self.config.retention));
            }
        }
        Ok(out)
    }

    /// A portal as `caller` may see it.
    pub(super) async fn portal_for(&self, caller: &Caller, id: &str) -> Result<PortalView> {
        let p = rows::get(self.db.pool(), id).await?.ok_or(Error::NotFound)?;
        self.authorize(caller, Action::PortalView, &self.portal_resource(&p).await?).await?;
        Ok(view(&p, self.clock.now_ms(), &self.scanning, self.config.retention))
    }

    /// Reads only the portal's matter, not its record (whose counts cost more than the decision).
    pub(super) async fn authorize_portal(&self, caller: &Caller, action: Action, id: &str) -> Result<()> {
        let matter = rows::live_matter(self.db.pool(), id).await?.ok_or(Error::NotFound)?;
        self.authorize(caller, action, &self.portal_resource_in(id, matter.as_deref()).await?).await
    }

    pub(super) async fn portal(&self, id: &str) -> Result<PortalView> {
        let p = rows::get(self.db.pool(), id).await?.ok_or(Error::NotFound)?;
        Ok(view(&p, self.clock.now_ms(), &self.scanning, self.config.retention))
    }

    /// The facts for the client's instruction sheet, for someone who may see the portal and
    /// holds its current link (shown once, when issued). The link is checked against the
    /// stored fingerprint, so a sheet never carries a link that is not this portal's.
    pub(super) async fn instruction_sheet(&self, caller: &Caller, id: &str, url: &str) -> Result<InstructionSheet> {
        self.authorize_portal(caller, Action::PortalView, id).await?;
        let not_current = || {
            bad_request(
                "that is not this portal's current link; instructions are printed from the page that shows a new link",
                Said::new("staff-refused-sheet-link"),
            )
        };
        let link_prefix = format!("{}/p/", self.config.public_url());
        let token = url.trim().strip_prefix(&link_prefix).and_then(Token::parse).ok_or_else(not_current)?;
        let p = rows::by_token_hash(self.db.pool(), &token.hash())
            .await?
            .filter(|p| p.id == id && p.deleted_at.is_none())
            .ok_or_else(not_current)?;
        // A sheet for a link that does not work would send the client to the uniform 404.
        if !status(&p, self.clock.now_ms()).takes_uploads() || self.locked_down().await? {
            return Err(bad_request(
                "this portal's link does not work now (disabled, expired, its matter archived, or the installation \
                 locked down); enable it or issue a new link before printing instructions",
                Said::new("staff-refused-sheet-closed"),
            ));
        }
        let (kept_n, kept_unit) = retention(&p, self.config.retention).0.count_and_unit();
        Ok(InstructionSheet {
            label: p.label,
            url: self.portal_url(&token),
            link_prefix,
            has_passcode: p.passcode_hash.is_some(),
            expires_at: p.expires_at.map(rfc3339),
            kept_n,
            kept_unit,
            language: p.language,
        })
    }

    /// Lifts the lock that wrong passcodes put on the portal's link (review finding 12).
    pub(super) async fn unlock_portal_passcode(&self, caller: &Caller, id: &str) -> Result<bool> {
        self.authorize_portal(caller, Action::PortalManage, id).await?;
        self.unlock_link_passcode(caller, super::Unlock::Portal, id).await
    }

    pub(super) async fn set_portal_enabled(&self, caller: &Caller, id: &str, enabled: bool) -> Result<PortalView> {
        self.authorize_portal(caller, Action::PortalManage, id).await?;
        let mut tx = self.audit.begin(&self.db).await?;
        if !rows::set_enabled(&mut tx, id, enabled).await? {
            return Err(Error::NotFound);
        }
        let action = if enabled { AuditAction::PortalEnable } else { AuditAction::PortalDisable };
        tx.record(caller, action, &format!("portal:{id}"), json!({ "portal_id": id })).await?;
        tx.commit().await?;
        self.portal(id).await
    }

    /// Issues a fresh token; the old link stops working at once.
    pub(super) async fn new_portal_link(&self, caller: &Caller, id: &str) -> Result<IssuedLink> {
        self.authorize_portal(caller, Action::PortalManage, id).await?;
        let token = Token::generate()?;
        let mut tx = self.audit.begin(&self.db).await?;
        if !rows::set_token_hash(&mut tx, id, &token.hash()).await? {
            return Err(Error::NotFound);
        }
        tx.record(caller, AuditAction::PortalNewLink, &format!("portal:{id}"), json!({ "portal_id": id })).await?;
        tx.commit().await?;
        let p = self.portal(id).await?;
        Ok(IssuedLink {
            id: p.id,
            url: self.portal_url(&token),
            token: token.expose().to_owned(),
            expires_at: p.expires_at,
        })
    }

    /// Deletes a portal and shreds its documents, all in one transaction.
    pub(super) async fn delete_portal(&self, caller: &Caller, id: &str) -> Result<usize> {
        self.authorize_portal(caller, Action::PortalDelete, id).await?;
        let now = self.clock.now_ms();
        let mut tx = self.audit.begin(&self.db).await?;
        // The portal's row lock first, as an upload's commit takes it: documents committing
        // meanwhile are either in the list below or refused, and the locks come in one order.
        if rows::lock_live(&mut tx, id).await?.is_none() {
            return Err(Error::NotFound);
        }
        let docs = courier_store::documents::list(tx.conn(), Some(id), false).await?;
        // Every document's lock before the first event takes the chain's head: a hold being
        // placed on one of them (its row, then the head) then waits here, never in a cycle.
        for d in &docs {
            courier_store::documents::lock_for_shred(tx.conn(), self.db.backend(), &d.id).await?;
        }
        let mut shredded = Vec::with_capacity(docs.len());
        for d in &docs {
            // A held document refuses, and with it the whole deletion.
            let reason = Some(courier_core::ShredReason::PortalDeleted);
            shredded.extend(self.shred_in(&mut tx, caller, &d.id, reason).await?);
        }
        rows::mark_deleted(&mut tx, id, now).await?;
        let details = json!({ "portal_id": id, "documents_shredded": shredded.len() });
        tx.record(caller, AuditAction::PortalDelete, &format!("portal:{id}"), details).await?;
        tx.commit().await?;
        let _purged = self.after_shredding(&shredded).await;
        Ok(shredded.len())
    }

    /// Resolves a client-presented token to a portal accepting uploads. Malformed, unknown,
    /// disabled, expired and deleted all give `LinkNotFound`.
    pub(super) async fn open_portal(&self, token: &str) -> Result<OpenPortal> {
        let token = Token::parse(token).ok_or(Error::LinkNotFound)?;
        let p = rows::by_token_hash(self.db.pool(), &token.hash()).await?.ok_or(Error::LinkNotFound)?;
        if !status(&p, self.clock.now_ms()).takes_uploads() {
            return Err(Error::LinkNotFound);
        }
        // Unreadable rules: the link answers like any dead link (the error is logged).
        let unreadable = |e: Error| {
            tracing::error!(error = %e, detail = e.internal_detail(), "a portal's stored rules are unreadable; its link is refused");
            Error::LinkNotFound
        };
        let allowed_types = allowed_types(&p).map_err(unreadable)?;
        let max_file_size = max_file_size(&p).map_err(unreadable)?;
        Ok(OpenPortal {
            retention: retention(&p, self.config.retention).0,
            matter_id: p.matter_id.clone().unwrap_or_else(|| courier_store::matters::GENERAL.to_owned()),
            allowed_types,
            dlp_action: dlp_action(&p, self.scanning.default_dlp_action()),
            id: p.id,
            label: p.label,
            passcode_hash: p.passcode_hash,
            max_file_size,
            expires_at: p.expires_at,
            language: p.language,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(allowed_types: Option<&str>) -> PortalRecord {
        PortalRecord {
            id: "p1".into(),
            matter_id: None,
            matter_name: None,
            matter_archived: false,
            label: "x".into(),
            passcode_hash: None,
            max_file_size: 1,
            expires_at: None,
            enabled: true,
            created_by: "x".into(),
            owner_id: None,
            owner_email: None,
            notify: true,
            language: None,
            created_at: 0,
            deleted_at: None,
            document_count: 0,
            last_upload_at: None,
            allowed_types: allowed_types.map(str::to_owned),
            dlp_action: None,
            retention_ms: None,
            matter_retention_ms: None,
        }
    }

    /// Review finding of issue 14: a stored allowlist that no longer parsed became the firm's
    /// wider list. Now it is an error, and the portal takes nothing.
    #[test]
    fn an_unreadable_allowlist_fails_closed() {
        assert!(allowed_types(&record(None)).unwrap().is_none(), "no list: the firm's");
        let narrow = allowed_types(&record(Some("pdf"))).unwrap().unwrap();
        assert_eq!(narrow.iter().map(|k| k.name()).collect::<Vec<_>>(), ["pdf"]);
        for corrupt in ["pdf,shrug", "", ",", "pdf;docx"] {
            let e = allowed_types(&record(Some(corrupt))).unwrap_err();
            assert!(matches!(e, Error::Internal(ref m) if m.contains("portal p1")), "{corrupt:?}: {e:?}");
        }
    }
}
