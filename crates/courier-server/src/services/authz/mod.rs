//! The one authorizer. Every staff decision goes through `Authorizer::decide`, a Cedar
//! request (principal, action, resource, context) checked against the default policies
//! shipped in `policies/` and the firm's own from `policy_dir`. Cedar denies what no policy
//! permits, and any `forbid` beats every `permit`.
//!
//! Handlers never decide; the service layer builds the facts (`facts.rs`) from the database
//! and asks here.

mod facts;

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use cedar_policy::{
    Context, Decision as CedarDecision, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicyId, PolicySet,
    Request, RestrictedExpression, Schema, ValidationMode, Validator,
};
use miette::Diagnostic;

pub use facts::{MatterFacts, Principal, Resource};

const SCHEMA: &str = include_str!("../../../policies/courier.cedarschema");
const DEFAULT_POLICIES: &str = include_str!("../../../policies/default.cedar");

/// Staff actions, as named in the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    MatterView,
    MatterManageMembers,
    MatterArchive,
    MatterReview,
    DocumentUpload,
    PortalCreate,
    ShareCreate,
    DocumentDownload,
    DocumentDelete,
    DocumentRelease,
    DocumentShare,
    PortalView,
    PortalManage,
    PortalDelete,
    ShareView,
    ShareRevoke,
    MatterCreate,
    MatterBreakGlass,
    AccessReview,
    UserManage,
    DocumentFile,
    MatterHold,
    MatterRetention,
}

impl Action {
    pub const ALL: [Action; 23] = [
        Self::MatterView,
        Self::MatterManageMembers,
        Self::MatterArchive,
        Self::MatterReview,
        Self::DocumentUpload,
        Self::PortalCreate,
        Self::ShareCreate,
        Self::DocumentDownload,
        Self::DocumentDelete,
        Self::DocumentRelease,
        Self::DocumentShare,
        Self::PortalView,
        Self::PortalManage,
        Self::PortalDelete,
        Self::ShareView,
        Self::ShareRevoke,
        Self::MatterCreate,
        Self::MatterBreakGlass,
        Self::AccessReview,
        Self::UserManage,
        Self::DocumentFile,
        Self::MatterHold,
        Self::MatterRetention,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::MatterView => "matter.view",
            Self::MatterManageMembers => "matter.manage_members",
            Self::MatterArchive => "matter.archive",
            Self::MatterReview => "matter.review",
            Self::DocumentUpload => "document.upload",
            Self::PortalCreate => "portal.create",
            Self::ShareCreate => "share.create",
            Self::DocumentDownload => "document.download",
            Self::DocumentDelete => "document.delete",
            Self::DocumentRelease => "document.release",
            Self::DocumentShare => "document.share",
            Self::PortalView => "portal.view",
            Self::PortalManage => "portal.manage",
            Self::PortalDelete => "portal.delete",
            Self::ShareView => "share.view",
            Self::ShareRevoke => "share.revoke",
            Self::MatterCreate => "matter.create",
            Self::MatterBreakGlass => "matter.break_glass",
            Self::AccessReview => "access.review",
            Self::UserManage => "user.manage",
            Self::DocumentFile => "document.file",
            Self::MatterHold => "matter.hold",
            Self::MatterRetention => "matter.retention",
        }
    }
}

impl FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|a| a.name() == s).ok_or_else(|| {
            let names: Vec<_> = Self::ALL.iter().map(|a| a.name()).collect();
            format!("unknown action {s:?}; the actions are {}", names.join(", "))
        })
    }
}

/// Where and when a request is made.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub ip: IpAddr,
    /// Unix milliseconds.
    pub at_ms: i64,
    /// "session" (web UI) or "api".
    pub via: &'static str,
    /// The session's second factor ("totp", "recovery_code"), or "api_token".
    pub mfa: String,
}

/// The answer, with the policies that decided it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Decision {
    pub allowed: bool,
    /// For an allow, the permitting policies; for a deny, the forbidding ones (empty: no
    /// policy permits, the default deny).
    pub policies: Vec<String>,
    pub errors: Vec<String>,
}

impl Decision {
    /// One line for people: which policy decided.
    pub fn explain(&self) -> String {
        match (self.allowed, self.policies.is_empty()) {
            (true, _) => format!("allowed by {}", self.policies.join(", ")),
            (false, true) => "denied: no policy permits it (deny by default)".into(),
            (false, false) => format!("denied by {}", self.policies.join(", ")),
        }
    }

    /// What the audit trail records as the deciding policy.
    pub fn deciding_policy(&self) -> String {
        if self.policies.is_empty() { "default-deny".into() } else { self.policies.join(",") }
    }
}

pub struct Authorizer {
    schema: Schema,
    names: Names,
    policies: PolicySet,
    engine: cedar_policy::Authorizer,
    utc_offset_minutes: i64,
    /// The files the policies came from, for `policy check` and the docs.
    pub sources: Vec<PathBuf>,
}

impl Authorizer {
    /// The default policies plus every `*.cedar` file of `dir`, in name order, each parsed
    /// and validated against the schema. An error names the file and line.
    pub fn load(dir: Option<&Path>, utc_offset_minutes: i64) -> Result<Self, String> {
        let (schema, _) = Schema::from_cedarschema_str(SCHEMA).map_err(|e| format!("the built-in schema: {e}"))?;
        let mut files = vec![(PathBuf::from("<built-in>/default.cedar"), DEFAULT_POLICIES.to_owned())];
        if let Some(dir) = dir {
            let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(|e| format!("policy_dir {}: {e}", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "cedar"))
                .collect();
            names.sort();
            for path in names {
                let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                files.push((path, text));
            }
        }
        let validator = Validator::new(schema.clone());
        let mut policies = PolicySet::new();
        let mut sources = Vec::new();
        for (path, text) in &files {
            let parsed = PolicySet::from_str(text).map_err(|e| located(path, text, &e))?;
            let result = validator.validate(&parsed, ValidationMode::Strict);
            if let Some(e) = result.validation_errors().next() {
                return Err(located(path, text, e));
            }
            for policy in parsed.policies() {
                let id = policy.annotation("id").map(str::to_owned).unwrap_or_else(|| {
                    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                    format!("{stem}:{}", policy.id())
                });
                policies
                    .add(policy.new_id(PolicyId::new(&id)))
                    .map_err(|e| format!("{}: policy {id:?}: {e} (each @id must be unique)", path.display()))?;
            }
            sources.push(path.clone());
        }
        let names = Names::parse()?;
        Ok(Self { schema, names, policies, engine: cedar_policy::Authorizer::new(), utc_offset_minutes, sources })
    }

    pub fn policy_count(&self) -> usize {
        self.policies.policies().count()
    }

    pub fn decide(&self, principal: &Principal, action: Action, resource: &Resource, ctx: &RequestContext) -> Decision {
        match self.request(principal, action, resource, ctx) {
            Ok((request, entities)) => {
                let response = self.engine.is_authorized(&request, &self.policies, &entities);
                let diagnostics = response.diagnostics();
                Decision {
                    allowed: response.decision() == CedarDecision::Allow,
                    policies: diagnostics.reason().map(ToString::to_string).collect(),
                    errors: diagnostics.errors().map(ToString::to_string).collect(),
                }
            }
            // A request the schema rejects is a bug on our side; it is denied, never allowed.
            Err(e) => Decision { allowed: false, policies: Vec::new(), errors: vec![e] },
        }
    }

    fn request(
        &self,
        principal: &Principal,
        action: Action,
        resource: &Resource,
        ctx: &RequestContext,
    ) -> Result<(Request, Entities), String> {
        let n = &self.names;
        let user = uid(&n.user, &principal.id);
        let mut entities = vec![entity(
            user.clone(),
            [("role", string(&principal.role)), ("department", string(&principal.department))],
            [],
        )?];
        let resource_uid = match resource {
            Resource::Firm => {
                let firm = uid(&n.firm, "firm");
                entities.push(entity(firm.clone(), [], [])?);
                firm
            }
            Resource::Matter(m) => {
                entities.push(matter_entity(n, m)?);
                uid(&n.matter, &m.id)
            }
            Resource::Document { matter, id, kind, scan_status, held, watermarkable } => {
                entities.push(matter_entity(n, matter)?);
                let doc = uid(&n.document, id);
                let m = RestrictedExpression::new_entity_uid(uid(&n.matter, &matter.id));
                entities.push(entity(
                    doc.clone(),
                    [
                        ("matter", m),
                        ("sensitivity", string(&matter.sensitivity)),
                        ("kind", string(kind)),
                        ("scan_status", string(scan_status)),
                        ("held", RestrictedExpression::new_bool(*held)),
                        ("watermarkable", RestrictedExpression::new_bool(*watermarkable)),
                    ],
                    [uid(&n.matter, &matter.id)],
                )?);
                doc
            }
            Resource::Portal { matter, id } | Resource::Share { matter, id } => {
                entities.push(matter_entity(n, matter)?);
                let kind = if matches!(resource, Resource::Portal { .. }) { &n.portal } else { &n.share };
                let r = uid(kind, id);
                let m = RestrictedExpression::new_entity_uid(uid(&n.matter, &matter.id));
                entities.push(entity(r.clone(), [("matter", m)], [uid(&n.matter, &matter.id)])?);
                r
            }
        };
        let local_ms = ctx.at_ms + self.utc_offset_minutes * 60_000;
        let minute_of_day = local_ms.div_euclid(60_000).rem_euclid(1440);
        // 1970-01-01 was a Thursday (4).
        let weekday = (local_ms.div_euclid(86_400_000) + 3).rem_euclid(7) + 1;
        let context = Context::from_pairs([
            ("source_ip".to_owned(), RestrictedExpression::new_ip(ctx.ip.to_string())),
            ("hour".to_owned(), RestrictedExpression::new_long(minute_of_day / 60)),
            ("minute_of_day".to_owned(), RestrictedExpression::new_long(minute_of_day)),
            ("weekday".to_owned(), RestrictedExpression::new_long(weekday)),
            ("via".to_owned(), string(ctx.via)),
            ("mfa".to_owned(), string(&ctx.mfa)),
        ])
        .map_err(|e| e.to_string())?;
        let action_uid = uid(&n.action, action.name());
        let request = Request::new(user, action_uid, resource_uid, context, Some(&self.schema))
            .map_err(|e| format!("request does not match the schema: {e}"))?;
        let entities = Entities::from_entities(entities, Some(&self.schema)).map_err(|e| e.to_string())?;
        Ok((request, entities))
    }
}

/// The schema's entity type names, parsed once: cedar parses a name with a lexer it builds
/// for the purpose, which cost more than the rest of a decision when done for every entity.
struct Names {
    user: EntityTypeName,
    firm: EntityTypeName,
    matter: EntityTypeName,
    document: EntityTypeName,
    portal: EntityTypeName,
    share: EntityTypeName,
    action: EntityTypeName,
}

impl Names {
    fn parse() -> Result<Self, String> {
        let name = |kind: &str| EntityTypeName::from_str(&format!("Courier::{kind}")).map_err(|e| e.to_string());
        Ok(Self {
            user: name("User")?,
            firm: name("Firm")?,
            matter: name("Matter")?,
            document: name("Document")?,
            portal: name("Portal")?,
            share: name("Share")?,
            action: name("Action")?,
        })
    }
}

fn uid(kind: &EntityTypeName, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(kind.clone(), EntityId::new(id))
}

fn string(s: &str) -> RestrictedExpression {
    RestrictedExpression::new_string(s.to_owned())
}

fn entity<const N: usize, const P: usize>(
    uid: EntityUid,
    attrs: [(&str, RestrictedExpression); N],
    parents: [EntityUid; P],
) -> Result<Entity, String> {
    let attrs: HashMap<String, RestrictedExpression> = attrs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    Entity::new(uid, attrs, parents.into_iter().collect::<HashSet<_>>()).map_err(|e| e.to_string())
}

fn matter_entity(n: &Names, m: &MatterFacts) -> Result<Entity, String> {
    let users = |ids: &[String]| {
        RestrictedExpression::new_set(ids.iter().map(|id| RestrictedExpression::new_entity_uid(uid(&n.user, id))))
    };
    let me = uid(&n.matter, &m.id);
    entity(
        me.clone(),
        [
            ("matter", RestrictedExpression::new_entity_uid(me)),
            ("department", string(&m.department)),
            ("sensitivity", string(&m.sensitivity)),
            ("firm_wide", RestrictedExpression::new_bool(m.firm_wide)),
            ("archived", RestrictedExpression::new_bool(m.archived)),
            ("attorneys", users(&m.attorneys)),
            ("paralegals", users(&m.paralegals)),
            ("break_glass", users(&m.break_glass)),
        ],
        [],
    )
}

/// "file:line:column: message" for a parse or validation error.
fn located(path: &Path, text: &str, e: &(dyn Diagnostic + Send + Sync + 'static)) -> String {
    let offset = e.labels().and_then(|mut labels| labels.next()).map(|l| l.offset());
    let (line, column) = match offset {
        Some(o) => {
            let before = &text[..o.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            (line, column)
        }
        None => (1, 1),
    };
    let help = e.help().map(|h| format!(" ({h})")).unwrap_or_default();
    format!("{}:{line}:{column}: {e}{help}", path.display())
}

#[cfg(test)]
mod tests;
