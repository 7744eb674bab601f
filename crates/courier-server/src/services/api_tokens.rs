//! Personal API tokens for `/api/v1`: scoped, expiring, shown once, stored hashed, revocable,
//! audited on every use. A token acts as its user, so the user's own rights (the Cedar
//! policies) still apply; its scopes narrow them further.

use std::str::FromStr;
use std::time::Duration;

use courier_core::time_fmt::rfc3339;
use courier_crypto::token::Token;
use courier_store::api_tokens::{self as rows, ApiTokenRecord};
use courier_store::users;
use serde::Serialize;
use serde_json::json;

use super::audit::AuditAction;
use super::authz::Action;
use super::{Actor, Caller, Courier, Via};
use crate::error::{Said, SaidArg, bad_request, conflict, said_with};
use crate::{Error, Result};

/// How stale a token's `last_used_at` may be before a request refreshes it.
const LAST_USED_PRECISION_MS: i64 = 60_000;

/// Tokens start with this, so secret scanners (and people) recognise a leaked one.
pub const TOKEN_PREFIX: &str = "courier_pat_";
pub const DEFAULT_TTL: Duration = Duration::from_secs(90 * 24 * 3600);
/// Longest token name (a label for its owner's list).
const MAX_NAME_CHARS: usize = 100;
pub const MAX_TTL: Duration = Duration::from_secs(366 * 24 * 3600);

/// What a token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub enum Scope {
    #[serde(rename = "documents:read")]
    DocumentsRead,
    #[serde(rename = "documents:write")]
    DocumentsWrite,
    #[serde(rename = "portals:read")]
    PortalsRead,
    #[serde(rename = "portals:write")]
    PortalsWrite,
    #[serde(rename = "matters:read")]
    MattersRead,
    /// Mark documents as filed, place and release legal holds, set retention (a DMS or
    /// litigation system).
    #[serde(rename = "lifecycle:write")]
    LifecycleWrite,
}

impl Scope {
    pub const ALL: [Scope; 6] = [
        Self::DocumentsRead,
        Self::DocumentsWrite,
        Self::PortalsRead,
        Self::PortalsWrite,
        Self::MattersRead,
        Self::LifecycleWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DocumentsRead => "documents:read",
            Self::DocumentsWrite => "documents:write",
            Self::PortalsRead => "portals:read",
            Self::PortalsWrite => "portals:write",
            Self::MattersRead => "matters:read",
            Self::LifecycleWrite => "lifecycle:write",
        }
    }

    /// The scopes under which a token may take `action`. Actions not listed here (sharing,
    /// releasing, matter and user administration, break glass, the access review) need a
    /// signed-in person: no token can take them.
    pub fn allowing(action: Action) -> &'static [Scope] {
        use Scope::*;
        match action {
            Action::MatterView => &[MattersRead, DocumentsRead, DocumentsWrite, PortalsRead, PortalsWrite],
            Action::PortalView => &[PortalsRead, PortalsWrite, DocumentsRead, DocumentsWrite],
            Action::PortalCreate | Action::PortalManage => &[PortalsWrite],
            Action::DocumentDownload => &[DocumentsRead],
            Action::DocumentDelete | Action::DocumentUpload => &[DocumentsWrite],
            Action::DocumentFile | Action::MatterHold | Action::MatterRetention => &[LifecycleWrite],
            _ => &[],
        }
    }
}

impl FromStr for Scope {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s.trim()).ok_or_else(|| {
            let all: Vec<_> = Self::ALL.iter().map(|x| x.as_str()).collect();
            bad_request(
                format!("unknown scope {s:?}; the scopes are {}", all.join(", ")),
                said_with("staff-refused-unknown-scope", "input", s).with("known", SaidArg::Text(all.join(", "))),
            )
        })
    }
}

fn parse_scopes(text: &str) -> Vec<Scope> {
    text.split_whitespace().filter_map(|s| s.parse().ok()).collect()
}

/// What a token grants a request.
#[derive(Debug, Clone)]
pub struct Grant {
    pub token_id: String,
    pub scopes: Vec<Scope>,
}

/// A new token, shown once.
// No `Debug`: it holds the token, which must never reach a log.
#[derive(Serialize)]
pub struct NewToken {
    pub id: String,
    pub name: String,
    pub token: String,
    pub scopes: Vec<Scope>,
    pub expires_at: String,
}

/// A token as lists show it (never the token itself).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// `active`, `expired` or `revoked`.
    pub status: &'static str,
    pub created_at: String,
    pub created_by: String,
    pub expires_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

fn token_view(t: ApiTokenRecord, now: i64) -> TokenView {
    let status = match (t.revoked_at, t.expires_at <= now) {
        (Some(_), _) => "revoked",
        (None, true) => "expired",
        (None, false) => "active",
    };
    TokenView {
        scopes: parse_scopes(&t.scopes),
        status,
        id: t.id,
        user_id: t.user_id,
        name: t.name,
        created_at: rfc3339(t.created_at),
        created_by: t.created_by,
        expires_at: rfc3339(t.expires_at),
        last_used_at: t.last_used_at.map(rfc3339),
        revoked_at: t.revoked_at.map(rfc3339),
    }
}

impl Courier {
    /// Makes a token for `user_id`: people make their own (in a web session), the operator
    /// makes one for anybody. A token cannot make tokens.
    pub(super) async fn create_api_token(
        &self,
        caller: &Caller,
        user_id: &str,
        name: &str,
        scopes: &[Scope],
        ttl: Option<Duration>,
    ) -> Result<NewToken> {
        match (&caller.actor, &caller.via) {
            (_, Via::Api(_)) => return Err(Error::Forbidden),
            (Actor::Staff(me), _) if me != user_id => return Err(Error::Forbidden),
            (Actor::Staff(_) | Actor::Cli(_), _) => {}
            _ => return Err(Error::Forbidden),
        }
        let name = super::text_field("token name", name, false, MAX_NAME_CHARS)?;
        let mut scopes: Vec<Scope> = Scope::ALL.into_iter().filter(|s| scopes.contains(s)).collect();
        scopes.dedup();
        if scopes.is_empty() {
            return Err(bad_request("a token needs at least one scope", Said::new("staff-refused-token-scope")));
        }
        let ttl = ttl.unwrap_or(DEFAULT_TTL);
        if ttl.is_zero() || ttl > MAX_TTL {
            return Err(bad_request("a token may last at most a year", Said::new("staff-refused-token-long")));
        }
        let user = users::by_id(self.db.pool(), user_id).await?.filter(|u| !u.disabled).ok_or(Error::NotFound)?;
        let secret = Token::generate()?;
        let now = self.clock.now_ms();
        let record = ApiTokenRecord {
            id: uuid::Uuid::new_v4().to_string(),
            user_id: user.id.clone(),
            name,
            token_hash: secret.hash(),
            scopes: scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "),
            created_at: now,
            created_by: caller.actor.to_string(),
            expires_at: now + ttl.as_millis() as i64,
            last_used_at: None,
            revoked_at: None,
        };
        let mut tx = self.audit.begin(&self.db).await?;
        rows::insert(&mut tx, &record).await?;
        let details = json!({ "token_id": record.id, "user_id": user.id, "name": record.name,
            "scopes": record.scopes, "expires_at": rfc3339(record.expires_at) });
        tx.record(caller, AuditAction::ApiTokenCreate, &format!("api_token:{}", record.id), details).await?;
        tx.commit().await?;
        Ok(NewToken {
            id: record.id,
            name: record.name,
            token: format!("{TOKEN_PREFIX}{}", secret.expose()),
            scopes,
            expires_at: rfc3339(record.expires_at),
        })
    }

    /// Tokens of `user_id` (all users' for the operator with `None`). Staff see their own.
    pub(super) async fn list_api_tokens(&self, caller: &Caller, user_id: Option<&str>) -> Result<Vec<TokenView>> {
        let user_id = match (&caller.actor, &caller.via) {
            (_, Via::Api(_)) => return Err(Error::Forbidden),
            (Actor::Staff(me), _) => Some(me.as_str()),
            (Actor::Cli(_), _) => user_id,
            _ => return Err(Error::Forbidden),
        };
        self.tokens_of(user_id).await
    }

    /// The tokens of one user (of all with `None`), unchecked: callers decide who may see them.
    pub(super) async fn tokens_of(&self, user_id: Option<&str>) -> Result<Vec<TokenView>> {
        let now = self.clock.now_ms();
        Ok(rows::list(self.db.pool(), user_id).await?.into_iter().map(|t| token_view(t, now)).collect())
    }

    /// Revokes a token: its owner, an admin (`user.manage`) or the operator.
    pub(super) async fn revoke_api_token(&self, caller: &Caller, id: &str) -> Result<()> {
        if matches!(caller.via, Via::Api(_)) {
            return Err(Error::Forbidden);
        }
        let token = rows::by_id(self.db.pool(), id).await?.ok_or(Error::NotFound)?;
        if !matches!(&caller.actor, Actor::Staff(me) if *me == token.user_id) {
            self.authorize(caller, Action::UserManage, &super::authz::Resource::Firm)
                .await
                .map_err(|_| Error::NotFound)?;
        }
        let mut tx = self.audit.begin(&self.db).await?;
        if !rows::revoke(&mut tx, id, self.clock.now_ms()).await? {
            return Err(conflict("this token is revoked already", Said::new("staff-refused-token-revoked")));
        }
        let details = json!({ "token_id": id, "user_id": token.user_id, "name": token.name });
        tx.record(caller, AuditAction::ApiTokenRevoke, &format!("api_token:{id}"), details).await?;
        tx.commit().await
    }

    /// The caller behind `Authorization: Bearer <token>`, for one API request. Every use is
    /// audited (`api_token.used`, with the method and route); so is every refusal
    /// (`api_token.refused`: unknown, revoked, expired, or the user is disabled).
    pub(super) async fn api_caller(
        &self,
        bearer: &str,
        ip: Option<std::net::IpAddr>,
        method: &str,
        route: &str,
    ) -> Result<Caller> {
        let parsed = bearer.strip_prefix(TOKEN_PREFIX).and_then(Token::parse);
        let (record, owner) = match &parsed {
            Some(t) => rows::by_hash_with_owner(self.db.pool(), &t.hash()).await?.unzip(),
            None => (None, None),
        };
        let owner = owner.flatten();
        let read_at = std::time::Instant::now();
        let now = self.clock.now_ms();
        let refusal = match (&record, &owner) {
            (None, _) => Some("unknown"),
            (Some(t), _) if t.revoked_at.is_some() => Some("revoked"),
            (Some(t), _) if t.expires_at <= now => Some("expired"),
            (Some(_), Some(o)) if !o.disabled => None,
            (Some(_), _) => Some("user disabled"),
        };
        // During a lockdown every token is refused (not revoked: lifting it restores them).
        let refusal = match refusal {
            None if self.locked_down().await? => Some("lockdown"),
            other => other,
        };
        let request = json!({ "method": method, "route": route });
        if let Some(reason) = refusal {
            let target = record.as_ref().map(|t| format!("api_token:{}", t.id)).unwrap_or_else(|| "api".into());
            let details = json!({ "reason": reason, "request": request });
            self.audit
                .record(&self.db, &Caller::new(Actor::System, ip), AuditAction::ApiTokenRefused, &target, details)
                .await?;
            return Err(Error::Unauthenticated);
        }
        let (Some(t), Some(owner)) = (record, owner) else { return Err(Error::Unauthenticated) };
        // "Last used" to the minute: a write on every request would cost each API call a
        // round trip and a row lock for a figure nobody reads to the millisecond.
        if t.last_used_at.is_none_or(|last| now - last >= LAST_USED_PRECISION_MS) {
            rows::touch(self.db.pool(), &t.id, now).await?;
        }
        let principal = super::authz::Principal {
            id: t.user_id.clone(),
            role: owner.role.as_str().to_owned(),
            department: owner.department,
        };
        let via = Via::Api(Grant { token_id: t.id.clone(), scopes: parse_scopes(&t.scopes) });
        let caller = Caller::authenticated(super::Known::read(principal, read_at), ip, via);
        let details = json!({ "token_id": t.id, "request": request });
        self.audit
            .record(&self.db, &caller, AuditAction::ApiTokenUsed, &format!("api_token:{}", t.id), details)
            .await?;
        Ok(caller)
    }
}
