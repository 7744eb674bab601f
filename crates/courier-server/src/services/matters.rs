//! Matters, their members and break glass; and `authorize`, the one place where the service
//! layer asks the authorizer about a staff member's request.

use courier_core::{MemberRole, Sensitivity};
use std::net::{IpAddr, Ipv4Addr};

use courier_core::time_fmt::{now_ms, rfc3339};
use courier_store::documents::DocumentRecord;
use courier_store::matters::{self as rows, MatterRecord};
use courier_store::portals::PortalRecord;
use courier_store::shares::ShareRecord;
use serde::Serialize;
use serde_json::json;

use super::api_tokens::Scope;
use super::audit::AuditAction;
use super::authz::{Action, Decision, MatterFacts, Principal, RequestContext, Resource};
use super::{Actor, Caller, Courier, Via, text_field};
use crate::error::{Said, bad_request, conflict, said_with};
use crate::{Error, Result};

pub(crate) const MAX_NAME_CHARS: usize = 200;
/// Longest break-glass grant.
pub const MAX_BREAK_GLASS_MS: i64 = 24 * 3_600_000;

#[derive(Debug, Default)]
pub struct MatterRequest {
    pub name: String,
    pub department: Option<String>,
    pub sensitivity: Option<String>,
    /// Its documents' own retention; `None`: the firm's.
    pub retention: Option<courier_core::DurationSpec>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub user_id: String,
    pub email: String,
    /// `attorney` or `paralegal`.
    #[schema(value_type = String)]
    pub role: MemberRole,
    pub added_at: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MatterView {
    pub id: String,
    pub name: String,
    pub department: String,
    pub sensitivity: String,
    pub firm_wide: bool,
    pub archived: bool,
    pub archived_at: Option<String>,
    pub created_at: String,
    pub last_reviewed_at: Option<String>,
    pub members: Vec<MemberView>,
    /// How long its documents stay unless their portal says otherwise, and whose rule that
    /// is (`matter` or `firm`).
    pub retention: String,
    pub retention_from: &'static str,
}

/// A document as the authorizer sees it, given its matter's facts.
pub(crate) fn document_resource_in(d: &DocumentRecord, matter: MatterFacts) -> Resource {
    let kind = courier_scan::FileKind::ALL.iter().find(|k| k.mime() == d.content_type).map_or("unknown", |k| k.name());
    Resource::Document {
        matter,
        id: d.id.clone(),
        kind: kind.to_owned(),
        scan_status: d.scan.status.as_str().to_owned(),
        held: d.scan.held,
        watermarkable: super::watermark::Stamp::supports(&d.content_type),
    }
}

impl Courier {
    /// The staff member behind `caller`, or `None` for the local operator and the system,
    /// which staff policies do not bind (DESIGN.md). Clients never reach staff actions.
    pub(super) async fn principal(&self, caller: &Caller) -> Result<Option<Principal>> {
        match &caller.actor {
            Actor::Staff(id) => {
                if let Some(known) = caller.known.as_ref().and_then(|k| k.principal_of(id)) {
                    return Ok(Some(known.clone()));
                }
                let user = courier_store::users::by_id(self.db.pool(), id).await?.ok_or(Error::Unauthenticated)?;
                if user.disabled {
                    return Err(Error::Unauthenticated);
                }
                Ok(Some(Principal::from(&user)))
            }
            Actor::Cli(_) | Actor::System => Ok(None),
            Actor::Client(_) | Actor::Recipient(_) => Err(Error::Forbidden),
        }
    }

    pub(super) fn request_context(&self, caller: &Caller) -> RequestContext {
        let (via, mfa) = match &caller.via {
            Via::Api(_) => ("api", "api_token".to_owned()),
            Via::Session { mfa } => ("session", mfa.clone()),
            Via::Direct => ("session", String::new()),
        };
        RequestContext {
            ip: caller.ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            at_ms: self.clock.now_ms(),
            via,
            mfa,
        }
    }

    /// Refuses an API token whose scopes do not cover `action`, whatever the user may do.
    fn check_scope(caller: &Caller, action: Action) -> Result<()> {
        let Via::Api(grant) = &caller.via else {
            return Ok(());
        };
        let allowing = Scope::allowing(action);
        if allowing.iter().any(|s| grant.scopes.contains(s)) {
            return Ok(());
        }
        let needed = match allowing.first() {
            Some(s) => s.as_str().to_owned(),
            None => "a signed-in person (no token scope allows it)".to_owned(),
        };
        Err(Error::MissingScope(needed))
    }

    /// Allows or refuses `action` on `resource` for `caller`. A denial is audited with the
    /// deciding policy. Someone who may not even see the resource's matter gets `NotFound`,
    /// so ids of other matters reveal nothing; otherwise `Forbidden`.
    pub(super) async fn authorize(&self, caller: &Caller, action: Action, resource: &Resource) -> Result<()> {
        let Some(principal) = self.principal(caller).await? else {
            return Ok(());
        };
        if let Err(e) = Self::check_scope(caller, action) {
            let details = json!({ "action": action.name(), "policy": "api-token-scope" });
            self.audit.record(&self.db, caller, AuditAction::AccessDenied, &resource.target(), details).await?;
            return Err(e);
        }
        let ctx = self.request_context(caller);
        let decision = self.authz.decide(&principal, action, resource, &ctx);
        if decision.allowed {
            return Ok(());
        }
        for e in &decision.errors {
            tracing::error!(error = %e, action = action.name(), "policy evaluation error (denied)");
        }
        let details = json!({
            "action": action.name(), "policy": decision.deciding_policy(),
            "ip": caller.ip.map(|i| i.to_string()),
        });
        self.audit.record(&self.db, caller, AuditAction::AccessDenied, &resource.target(), details).await?;
        let sees_matter = match resource.matter() {
            Some(m) => self.authz.decide(&principal, Action::MatterView, &Resource::Matter(m.clone()), &ctx).allowed,
            None => true,
        };
        Err(if sees_matter { Error::Forbidden } else { Error::NotFound })
    }

    /// True when `caller` may do `action` (for showing or hiding buttons and list entries);
    /// nothing is audited.
    pub(super) async fn may(&self, caller: &Caller, action: Action, resource: &Resource) -> Result<bool> {
        Ok(self.sieve(caller).await?.may(action, resource))
    }

    /// The decisions of one listing for `caller` (see [`Sieve`]).
    pub(super) async fn sieve<'a>(&'a self, caller: &'a Caller) -> Result<Sieve<'a>> {
        Ok(Sieve {
            principal: self.principal(caller).await?,
            ctx: self.request_context(caller),
            courier: self,
            caller,
            matters: std::collections::HashMap::new(),
        })
    }

    pub(super) async fn matter_facts(&self, id: &str) -> Result<MatterFacts> {
        let access = rows::with_access(self.db.pool(), id, self.clock.now_ms()).await?.ok_or(Error::NotFound)?;
        Ok(MatterFacts::from(access))
    }

    pub(super) async fn document_resource(&self, d: &DocumentRecord) -> Result<Resource> {
        let matter = self.matter_facts(d.matter_id.as_deref().unwrap_or(rows::GENERAL)).await?;
        Ok(document_resource_in(d, matter))
    }

    pub(super) async fn portal_resource(&self, p: &PortalRecord) -> Result<Resource> {
        self.portal_resource_in(&p.id, p.matter_id.as_deref()).await
    }

    /// Portal `id` in its matter (`None`: the General matter), for a decision.
    pub(super) async fn portal_resource_in(&self, id: &str, matter_id: Option<&str>) -> Result<Resource> {
        let matter = self.matter_facts(matter_id.unwrap_or(rows::GENERAL)).await?;
        Ok(Resource::Portal { matter, id: id.to_owned() })
    }

    pub(super) async fn share_resource(&self, s: &ShareRecord) -> Result<Resource> {
        Ok(Resource::Share { matter: self.matter_facts(&s.matter_id).await?, id: s.id.clone() })
    }

    pub(super) async fn matter_resource(&self, id: &str) -> Result<Resource> {
        Ok(Resource::Matter(self.matter_facts(id).await?))
    }

    /// A matter named by id or name. An unknown name is created when `create` is set (the
    /// CLI's `portal create --matter NAME`), audited like `matter create`.
    ///
    /// Staff (web and API) see only the matters they may view: one they may not gets the same
    /// answer as one that does not exist, and no matter is created implicitly for them, since
    /// "created" against "refused" would tell that a name exists (review finding 13).
    pub(super) async fn resolve_matter(&self, caller: &Caller, id_or_name: &str, create: bool) -> Result<MatterRecord> {
        let name = id_or_name.trim();
        let found = rows::find(self.db.pool(), name).await?;
        if let Actor::Staff(_) = &caller.actor {
            let visible = match found {
                Some(m) if self.may(caller, Action::MatterView, &self.matter_resource(&m.id).await?).await? => Some(m),
                _ => None,
            };
            return visible.ok_or(Error::NotFound);
        }
        if let Some(m) = found {
            return Ok(m);
        }
        if !create {
            return Err(bad_request(
                format!("there is no matter {name:?}"),
                said_with("staff-refused-unknown-matter", "name", name),
            ));
        }
        let view = self.create_matter(caller, MatterRequest { name: id_or_name.into(), ..Default::default() }).await?;
        rows::get(self.db.pool(), &view.id).await?.ok_or(Error::NotFound)
    }

    /// Opens a matter. A staff member who opens one becomes its attorney.
    pub(super) async fn create_matter(&self, caller: &Caller, req: MatterRequest) -> Result<MatterView> {
        self.authorize(caller, Action::MatterCreate, &Resource::Firm).await?;
        let name = text_field("matter name", &req.name, false, MAX_NAME_CHARS)?;
        let department = text_field("department", req.department.as_deref().unwrap_or(""), true, MAX_NAME_CHARS)?;
        let sensitivity: Sensitivity = req.sensitivity.as_deref().map(str::trim).unwrap_or("normal").parse()?;
        let now = self.clock.now_ms();
        let record = MatterRecord {
            id: uuid::Uuid::new_v4().to_string(),
            name,
            department,
            sensitivity,
            firm_wide: false,
            created_at: now,
            archived_at: None,
            last_reviewed_at: None,
            retention_ms: req.retention.map(courier_core::DurationSpec::as_millis),
        };
        let mut tx = self.audit.begin(&self.db).await?;
        rows::insert(&mut tx, &record).await.map_err(|e| match e {
            courier_store::StoreError::Conflict => {
                conflict("a matter with that name exists", Said::new("staff-refused-matter-exists"))
            }
            e => e.into(),
        })?;
        if let Actor::Staff(user_id) = &caller.actor {
            rows::upsert_member(&mut tx, &record.id, user_id, MemberRole::Attorney, now).await?;
        }
        let details = json!({
            "matter_id": record.id, "name": record.name, "department": record.department,
            "sensitivity": record.sensitivity, "retention": req.retention,
        });
        tx.record(caller, AuditAction::MatterCreate, &format!("matter:{}", record.id), details).await?;
        tx.commit().await?;
        self.matter_view(&record.id).await
    }

    /// Adds a member or changes their role on the matter; audited with before and after.
    pub(super) async fn add_member(
        &self,
        caller: &Caller,
        matter: &str,
        email: &str,
        role: &str,
    ) -> Result<MatterView> {
        let m = self.resolve_matter(caller, matter, false).await?;
        self.authorize(caller, Action::MatterManageMembers, &self.matter_resource(&m.id).await?).await?;
        let role: MemberRole = role.parse()?;
        let email = super::staff::normalize_email(email)?;
        let user = courier_store::users::by_email(self.db.pool(), &email).await?.ok_or_else(|| {
            bad_request(
                format!("there is no staff account {email}"),
                said_with("staff-refused-no-account", "email", email),
            )
        })?;
        // Nobody grants themselves a place on a matter (review finding 7): an admin who needs
        // one goes through break glass (a reason, a time limit, audited), or another admin or
        // the operator adds them.
        if matches!(&caller.actor, Actor::Staff(me) if *me == user.id) {
            return Err(conflict(
                "you cannot change your own membership of a matter; use break glass (with a reason) or ask another \
                 administrator",
                Said::new("staff-refused-own-membership"),
            ));
        }
        self.refuse_outsider_membership_change(caller, &m).await?;
        let mut tx = self.audit.begin(&self.db).await?;
        let before = rows::upsert_member(&mut tx, &m.id, &user.id, role, self.clock.now_ms()).await?;
        let details = json!({ "matter_id": m.id, "user_id": user.id, "before": before, "after": role });
        tx.record(caller, AuditAction::MatterMemberSet, &format!("matter:{}", m.id), details).await?;
        tx.commit().await?;
        self.matter_view(&m.id).await
    }

    /// On a restricted matter only its attorneys (or the operator) change who is on it: an
    /// admin off it could otherwise add an account of their own making (an invitation they
    /// accept themselves), or remove every attorney (second review of issue 13).
    async fn refuse_outsider_membership_change(&self, caller: &Caller, m: &MatterRecord) -> Result<()> {
        let Actor::Staff(me) = &caller.actor else { return Ok(()) };
        if m.sensitivity != Sensitivity::Restricted {
            return Ok(());
        }
        let members = rows::members(self.db.pool(), &m.id).await?;
        if members.iter().any(|member| member.user_id == *me && member.role == MemberRole::Attorney) {
            return Ok(());
        }
        Err(conflict(
            "only attorneys of a restricted matter change who is on it; use break glass (with a reason) to read it, \
             or ask one of its attorneys or the operator",
            Said::new("staff-refused-restricted-members"),
        ))
    }

    pub(super) async fn remove_member(&self, caller: &Caller, matter: &str, email: &str) -> Result<MatterView> {
        let m = self.resolve_matter(caller, matter, false).await?;
        self.authorize(caller, Action::MatterManageMembers, &self.matter_resource(&m.id).await?).await?;
        self.refuse_outsider_membership_change(caller, &m).await?;
        let email = super::staff::normalize_email(email)?;
        let user = courier_store::users::by_email(self.db.pool(), &email).await?.ok_or(Error::NotFound)?;
        let mut tx = self.audit.begin(&self.db).await?;
        if !rows::remove_member(&mut tx, &m.id, &user.id).await? {
            return Err(Error::NotFound);
        }
        let details = json!({ "matter_id": m.id, "user_id": user.id });
        tx.record(caller, AuditAction::MatterMemberRemove, &format!("matter:{}", m.id), details).await?;
        tx.commit().await?;
        self.matter_view(&m.id).await
    }

    pub(super) async fn set_matter_archived(
        &self,
        caller: &Caller,
        matter: &str,
        archived: bool,
    ) -> Result<MatterView> {
        let m = self.resolve_matter(caller, matter, false).await?;
        self.authorize(caller, Action::MatterArchive, &self.matter_resource(&m.id).await?).await?;
        let mut tx = self.audit.begin(&self.db).await?;
        if !rows::set_archived(&mut tx, &m.id, archived.then(now_ms)).await? {
            return Err(bad_request(
                "the General matter cannot be archived",
                Said::new("staff-refused-archive-general"),
            ));
        }
        let action = if archived { AuditAction::MatterArchive } else { AuditAction::MatterUnarchive };
        tx.record(caller, action, &format!("matter:{}", m.id), json!({"matter_id": m.id})).await?;
        tx.commit().await?;
        self.matter_view(&m.id).await
    }

    /// Break glass: an admin reads a matter it is not a member of, for a limited time and
    /// with a reason, audited.
    pub(super) async fn break_glass(&self, caller: &Caller, matter: &str, reason: &str, for_ms: i64) -> Result<String> {
        self.authorize(caller, Action::MatterBreakGlass, &Resource::Firm).await?;
        let Actor::Staff(user_id) = &caller.actor else {
            return Err(Error::BadRequest("break glass is for a signed-in admin".into()));
        };
        let m = self.resolve_matter(caller, matter, false).await?;
        let reason = text_field("reason", reason, false, MAX_NAME_CHARS)?;
        if for_ms <= 0 || for_ms > MAX_BREAK_GLASS_MS {
            return Err(bad_request("break glass lasts at most 24 hours", Said::new("staff-refused-break-glass-long")));
        }
        let now = self.clock.now_ms();
        let id = uuid::Uuid::new_v4().to_string();
        let mut tx = self.audit.begin(&self.db).await?;
        rows::insert_break_glass(&mut tx, &id, &m.id, user_id, &reason, now, now + for_ms).await?;
        let details = json!({ "matter_id": m.id, "reason": reason, "expires_at": rfc3339(now + for_ms) });
        tx.record(caller, AuditAction::MatterBreakGlass, &format!("matter:{}", m.id), details).await?;
        tx.commit().await?;
        Ok(rfc3339(now + for_ms))
    }

    pub(super) async fn matter_view(&self, id: &str) -> Result<MatterView> {
        let m = rows::get(self.db.pool(), id).await?.ok_or(Error::NotFound)?;
        let members = rows::members(self.db.pool(), &m.id).await?;
        Ok(MatterView {
            id: m.id,
            name: m.name,
            department: m.department,
            sensitivity: m.sensitivity.as_str().to_owned(),
            firm_wide: m.firm_wide,
            archived: m.archived_at.is_some(),
            archived_at: m.archived_at.map(rfc3339),
            created_at: rfc3339(m.created_at),
            last_reviewed_at: m.last_reviewed_at.map(rfc3339),
            retention: m
                .retention_ms
                .map_or(self.config.retention, |ms| courier_core::DurationSpec::from_secs((ms / 1000).max(1) as u64))
                .to_string(),
            retention_from: if m.retention_ms.is_some() { "matter" } else { "firm" },
            members: members
                .into_iter()
                .map(|x| MemberView { user_id: x.user_id, email: x.email, role: x.role, added_at: rfc3339(x.added_at) })
                .collect(),
        })
    }

    /// A matter as `caller` may see it.
    pub(super) async fn matter_for(&self, caller: &Caller, id_or_name: &str) -> Result<MatterView> {
        let m = rows::find(self.db.pool(), id_or_name).await?.ok_or(Error::NotFound)?;
        self.authorize(caller, Action::MatterView, &self.matter_resource(&m.id).await?).await?;
        self.matter_view(&m.id).await
    }

    /// The matters `caller` may see.
    pub(super) async fn list_matters(&self, caller: &Caller) -> Result<Vec<MatterView>> {
        let mut out = Vec::new();
        let mut sieve = self.sieve(caller).await?;
        for m in rows::list(self.db.pool()).await? {
            let matter = sieve.matter(&m.id).await?;
            if sieve.may(Action::MatterView, &Resource::Matter(matter)) {
                out.push(self.matter_view(&m.id).await?);
            }
        }
        Ok(out)
    }

    /// `courier policy check`: the decision for a named user, action and resource, and why.
    pub(super) async fn explain(
        &self,
        email: &str,
        action: Action,
        resource: &str,
        ip: IpAddr,
        at_ms: i64,
    ) -> Result<Decision> {
        let email = super::staff::normalize_email(email)?;
        let user = courier_store::users::by_email(self.db.pool(), &email).await?.ok_or_else(|| {
            bad_request(
                format!("there is no staff account {email}"),
                said_with("staff-refused-no-account", "email", email),
            )
        })?;
        let resource = self.named_resource(resource).await?;
        let ctx = RequestContext { ip, at_ms, via: "session", mfa: "totp".into() };
        Ok(self.authz.decide(&Principal::from(&user), action, &resource, &ctx))
    }

    /// `firm`, `matter:ID|NAME`, `document:ID`, `portal:ID` or `share:ID`.
    async fn named_resource(&self, name: &str) -> Result<Resource> {
        let unknown = || Error::BadRequest(format!("no such resource {name:?}").into());
        match name.split_once(':') {
            None if name == "firm" => Ok(Resource::Firm),
            Some(("matter", m)) => {
                let m = rows::find(self.db.pool(), m).await?.ok_or_else(unknown)?;
                self.matter_resource(&m.id).await
            }
            Some(("document", id)) => {
                let d = courier_store::documents::get(self.db.pool(), id).await?.ok_or_else(unknown)?;
                self.document_resource(&d).await
            }
            Some(("portal", id)) => {
                let p = courier_store::portals::get(self.db.pool(), id).await?.ok_or_else(unknown)?;
                self.portal_resource(&p).await
            }
            Some(("share", id)) => {
                let s = courier_store::shares::get(self.db.pool(), id).await?.ok_or_else(unknown)?;
                self.share_resource(&s).await
            }
            _ => Err(Error::BadRequest(
                format!("name the resource as firm, matter:ID, document:ID, portal:ID or share:ID, not {name:?}")
                    .into(),
            )),
        }
    }
}

/// The decisions of one listing: the caller read once, and each matter's facts (members,
/// break-glass grants) once however many rows belong to it, instead of both again for every
/// row. A list of 5 portals in one matter took 20 queries before the list itself.
pub(super) struct Sieve<'a> {
    courier: &'a Courier,
    caller: &'a Caller,
    principal: Option<Principal>,
    ctx: RequestContext,
    matters: std::collections::HashMap<String, MatterFacts>,
}

impl Sieve<'_> {
    /// Matter `id`'s facts, read on first use.
    pub async fn matter(&mut self, id: &str) -> Result<MatterFacts> {
        if let Some(m) = self.matters.get(id) {
            return Ok(m.clone());
        }
        let m = self.courier.matter_facts(id).await?;
        self.matters.insert(id.to_owned(), m.clone());
        Ok(m)
    }

    /// Whether the caller may do `action` on `resource`, as `Courier::may` decides it.
    pub fn may(&self, action: Action, resource: &Resource) -> bool {
        match &self.principal {
            None => true,
            Some(_) if Courier::check_scope(self.caller, action).is_err() => false,
            Some(p) => self.courier.authz.decide(p, action, resource, &self.ctx).allowed,
        }
    }
}
