//! Access review: who can reach what, with the things a reviewer should look at flagged, and
//! the record that a matter's access was reviewed.

use courier_core::time_fmt::rfc3339;
use courier_core::{PortalStatus, ShareStatus};
use courier_store::matters as matter_rows;
use serde::Serialize;
use serde_json::json;

use super::audit::AuditAction;
use super::authz::{Action, Resource};
use super::documents::DocumentView;
use super::pages::{Page, PageRequest};
use super::{Caller, Courier};
use crate::Result;
use crate::error::{Said, SaidArg, bad_request};

/// Accounts without a sign-in for this long are flagged.
pub const STALE_LOGIN_MS: i64 = 90 * 86_400_000;
const MAX_NOTE_CHARS: usize = 2000;

#[derive(Debug, Serialize)]
pub struct UserAccess {
    pub id: String,
    pub email: String,
    pub role: courier_core::Role,
    pub department: String,
    pub disabled: bool,
    pub mfa: Vec<&'static str>,
    pub last_login_at: Option<String>,
    pub matters: Vec<serde_json::Value>,
    /// Personal API tokens (none exist yet: `/api/v1` tokens come with the accounts issue).
    /// Every token the user has made, with its scopes, expiry, last use and status.
    pub api_tokens: Vec<super::api_tokens::TokenView>,
    pub flags: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct MatterAccess {
    pub id: String,
    pub name: String,
    pub department: String,
    pub sensitivity: String,
    pub archived: bool,
    pub last_reviewed_at: Option<String>,
    pub members: Vec<serde_json::Value>,
    pub portals: Vec<serde_json::Value>,
    pub shares: Vec<serde_json::Value>,
    pub flags: Vec<String>,
}

/// A document of a matter page, with the viewer's rights on it.
#[derive(Debug, Serialize)]
pub struct MatterDocument {
    pub doc: DocumentView,
    pub may_download: bool,
    pub may_delete: bool,
    /// Stamped when downloaded through a share.
    pub watermarked: bool,
}

#[derive(Debug, Serialize)]
pub struct AccessReport {
    pub generated_at: String,
    pub users: Vec<UserAccess>,
    pub matters: Vec<MatterAccess>,
}

impl Courier {
    /// One page of a matter's live documents, for someone who may see the matter, each with
    /// what the caller may do with it. The matter's facts and the principal are read once.
    pub(super) async fn matter_documents(
        &self,
        caller: &Caller,
        matter_id: &str,
        page: &PageRequest,
    ) -> Result<Page<MatterDocument>> {
        let matter = self.matter_facts(matter_id).await?;
        self.authorize(caller, Action::MatterView, &Resource::Matter(matter.clone())).await?;
        let principal = self.principal(caller).await?;
        let ctx = self.request_context(caller);
        let docs = self.document_page(courier_store::documents::Scope::Matter(matter_id), false, page).await?;
        Ok(docs.map(|d| {
            let resource = super::matters::document_resource_in(&d, matter.clone());
            let may = |action| principal.as_ref().is_none_or(|p| self.authz.decide(p, action, &resource, &ctx).allowed);
            MatterDocument {
                may_download: may(Action::DocumentDownload),
                may_delete: may(Action::DocumentDelete),
                watermarked: super::watermark::Stamp::supports(&d.content_type),
                doc: self.doc_view(&d),
            }
        }))
    }

    pub(super) async fn access_review(&self, caller: &Caller) -> Result<AccessReport> {
        self.authorize(caller, Action::AccessReview, &Resource::Firm).await?;
        let now = self.clock.now_ms();
        let pool = self.db.pool();
        let matters = matter_rows::list(pool).await?;
        let mut users = Vec::new();
        for u in courier_store::users::list(pool).await? {
            let memberships = matter_rows::memberships(pool, &u.id).await?;
            let mut flags = Vec::new();
            match u.last_login_at {
                None if !u.disabled => flags.push("never_signed_in".to_owned()),
                Some(t) if !u.disabled && now - t > STALE_LOGIN_MS => flags.push("no_sign_in_for_90_days".to_owned()),
                _ => {}
            }
            if !u.disabled && !u.mfa_enrolled {
                flags.push("mfa_not_enrolled".to_owned());
            }
            let mut on = Vec::new();
            for m in &memberships {
                let matter = matters.iter().find(|x| x.id == m.matter_id);
                if matter.is_some_and(|x| x.archived_at.is_some()) {
                    flags.push(format!("member_of_archived_matter:{}", m.matter_id));
                }
                on.push(json!({ "matter_id": m.matter_id, "name": matter.map(|x| x.name.clone()), "role": m.role }));
            }
            users.push(UserAccess {
                mfa: self.mfa_methods(&u).await?,
                api_tokens: self.tokens_of(Some(&u.id)).await?,
                id: u.id,
                email: u.email,
                role: u.role,
                department: u.department,
                disabled: u.disabled,
                last_login_at: u.last_login_at.map(rfc3339),
                matters: on,
                flags,
            });
        }
        let portals = courier_store::portals::list(pool).await?;
        let shares = courier_store::shares::list(pool).await?;
        let mut out = Vec::new();
        for m in matters {
            let mut flags = Vec::new();
            let archived = m.archived_at.is_some();
            let members = matter_rows::members(pool, &m.id).await?;
            if archived && !members.is_empty() {
                flags.push("archived_with_members".to_owned());
            }
            let mut portal_list = Vec::new();
            for p in portals.iter().filter(|p| p.matter_id.as_deref() == Some(m.id.as_str())) {
                let status = super::portals::status(p, now);
                if status == PortalStatus::Active && p.expires_at.is_none() {
                    flags.push(format!("portal_without_expiry:{}", p.id));
                }
                if status == PortalStatus::Active {
                    portal_list.push(json!({ "id": p.id, "label": p.label, "status": status,
                        "expires_at": p.expires_at.map(rfc3339) }));
                }
            }
            let mut share_list = Vec::new();
            for s in shares.iter().filter(|s| s.matter_id == m.id) {
                let status = super::shares::status(s, now);
                if status == ShareStatus::Active && s.expires_at.is_none() {
                    flags.push(format!("share_without_expiry:{}", s.id));
                }
                if status == ShareStatus::Active {
                    share_list.push(json!({ "id": s.id, "recipient": s.recipient, "status": status,
                        "expires_at": s.expires_at.map(rfc3339) }));
                }
            }
            out.push(MatterAccess {
                id: m.id,
                name: m.name,
                department: m.department,
                sensitivity: m.sensitivity.as_str().to_owned(),
                archived,
                last_reviewed_at: m.last_reviewed_at.map(rfc3339),
                members: members
                    .iter()
                    .map(|x| json!({ "user_id": x.user_id, "email": x.email, "role": x.role }))
                    .collect(),
                portals: portal_list,
                shares: share_list,
                flags,
            });
        }
        Ok(AccessReport { generated_at: rfc3339(now), users, matters: out })
    }

    /// Records that a matter's access was reviewed: by whom, when, and what was removed.
    pub(super) async fn record_review(
        &self,
        caller: &Caller,
        matter: &str,
        removed: &str,
        note: &str,
    ) -> Result<String> {
        let m = self.resolve_matter(caller, matter, false).await?;
        self.authorize(caller, Action::MatterReview, &self.matter_resource(&m.id).await?).await?;
        for (what, text) in [("removed", removed), ("note", note)] {
            if text.chars().count() > MAX_NOTE_CHARS || text.chars().any(|c| c.is_control() && c != '\n') {
                let said = Said::new("staff-refused-review-text")
                    .with("field", SaidArg::Messages(vec![format!("staff-field-review-{what}")]))
                    .with("max", SaidArg::Text(MAX_NOTE_CHARS.to_string()));
                return Err(bad_request(format!("the {what} text must be at most {MAX_NOTE_CHARS} characters"), said));
            }
        }
        let now = self.clock.now_ms();
        let id = uuid::Uuid::new_v4().to_string();
        let mut tx = self.audit.begin(&self.db).await?;
        matter_rows::record_review(&mut tx, &id, &m.id, &caller.actor.to_string(), now, removed.trim(), note.trim())
            .await?;
        let details = json!({ "matter_id": m.id, "review_id": id, "removed": removed.trim(), "note": note.trim() });
        tx.record(caller, AuditAction::AccessReview, &format!("matter:{}", m.id), details).await?;
        tx.commit().await?;
        Ok(rfc3339(now))
    }
}
