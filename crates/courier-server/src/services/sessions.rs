//! Staff sessions: 256-bit random ids stored hashed, idle and absolute timeouts on Courier's
//! clock, a fresh id whenever the privilege changes, single session or a list the user manages.

use courier_crypto::token::Token;
use courier_store::sessions::{self as rows, SessionRecord};
use courier_store::users;
use serde::Serialize;
use serde_json::json;

use courier_core::SessionStage;

use super::audit::{AuditAction, AuditedTx};
use super::mfa::SecondFactor;
use super::{Actor, Caller, Courier, Via};
use crate::{Error, Result};

/// Longest user agent kept for the session list.
const MAX_USER_AGENT: usize = 300;

/// The one-time notice that a sign-in ended other sessions; the count follows.
pub const SESSIONS_ENDED: &str = "sessions_ended:";

/// A signed-in (or signing-in) staff member, as the web layer sees it.
#[derive(Debug, Clone)]
pub struct StaffSession {
    /// SHA-256 of the session id: names this session without being able to use it.
    pub(super) id_hash: Vec<u8>,
    pub(super) user_id: String,
    pub email: String,
    pub role: courier_core::Role,
    pub csrf_token: String,
    /// Password given, second factor not yet.
    pub(super) awaiting_mfa: bool,
    /// Must enrol an authenticator before going on (invited, or MFA reset).
    pub must_enrol: bool,
    /// The second factor that made this session full.
    pub(super) mfa: String,
    /// A message to show once (for example, that older sessions were ended).
    pub notice: Option<String>,
    /// The language chosen for the staff pages; `None`: the browser's decides.
    pub language: Option<courier_core::Language>,
    /// The account's facts for decisions, as this request read them, and when.
    known: super::Known,
    /// Only `Courier::session` makes one: a handle built from a session cannot be forged.
    _sealed: (),
}

impl StaffSession {
    /// The signed-in user's id (read-only: handles are built from it).
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// Password given, second factor not yet.
    pub fn awaiting_mfa(&self) -> bool {
        self.awaiting_mfa
    }

    pub(super) fn caller(&self, ip: Option<std::net::IpAddr>) -> Caller {
        Caller::authenticated(self.known.clone(), ip, Via::Session { mfa: self.mfa.clone() })
    }
}

/// One of a user's sessions, as their session list shows it.
#[derive(Debug, Serialize)]
pub struct SessionView {
    /// Hex of the stored hash: names the session without being able to use it.
    pub handle: String,
    pub created_at: String,
    pub last_seen: String,
    pub ip: String,
    pub device: String,
    pub current: bool,
    pub signed_in: bool,
}

/// Where a sign-in comes from, kept with its session.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<std::net::IpAddr>,
    pub user_agent: String,
}

impl Origin {
    pub fn new(ip: Option<std::net::IpAddr>, user_agent: Option<&str>) -> Self {
        let ua: String =
            user_agent.unwrap_or_default().chars().filter(|c| !c.is_control()).take(MAX_USER_AGENT).collect();
        Self { ip, user_agent: ua }
    }
}

impl Courier {
    /// Starts a session at `stage` (`Mfa` or `Enrol`) for a user who gave their password.
    pub(super) async fn start_pending_session(
        &self,
        tx: &mut courier_store::Tx,
        user_id: &str,
        stage: SessionStage,
        origin: &Origin,
    ) -> Result<Token> {
        self.refuse_during_lockdown(tx, user_id).await?;
        let id = Token::generate()?;
        let now = self.clock.now_ms();
        let record = SessionRecord {
            id_hash: id.hash(),
            user_id: user_id.to_owned(),
            stage,
            csrf_token: Token::generate()?.expose().to_owned(),
            created_at: now,
            last_seen: now,
            mfa: String::new(),
            ip: origin.ip.map(|ip| ip.to_string()).unwrap_or_default(),
            user_agent: origin.user_agent.clone(),
            notice: String::new(),
        };
        rows::insert(tx, &record).await?;
        Ok(id)
    }

    /// Replaces the pending session `pending` by a full one with a fresh id (the privilege
    /// changes) and, with `single_session`, ends the user's older sessions, saying so once on
    /// the next page and in the trail.
    pub(super) async fn start_full_session(
        &self,
        tx: &mut AuditedTx<'_>,
        caller: &Caller,
        pending: &str,
        user_id: &str,
        factor: SecondFactor,
    ) -> Result<Token> {
        self.refuse_during_lockdown(tx.conn(), user_id).await?;
        let old = Token::parse(pending).map(|t| t.hash()).unwrap_or_default();
        let origin = rows::get(tx.conn(), &old).await?.ok_or(Error::Unauthenticated)?;
        rows::delete(tx.conn(), &old).await?;
        let fresh = Token::generate()?;
        let ended = if self.config.single_session { rows::delete_others(tx, user_id, &fresh.hash()).await? } else { 0 };
        let now = self.clock.now_ms();
        // Said in the page's language when shown (`web::templates::Templates::notice`).
        let notice = if ended == 0 { String::new() } else { format!("{SESSIONS_ENDED}{ended}") };
        let record = SessionRecord {
            id_hash: fresh.hash(),
            stage: SessionStage::Full,
            csrf_token: Token::generate()?.expose().to_owned(),
            created_at: now,
            last_seen: now,
            mfa: factor.as_str().into(),
            notice,
            ..origin
        };
        rows::insert(tx, &record).await?;
        users::set_last_login(tx.conn(), user_id, now).await?;
        if ended > 0 {
            let details = json!({ "count": ended });
            tx.record(caller, AuditAction::SessionEndedByNewLogin, &format!("user:{user_id}"), details).await?;
        }
        Ok(fresh)
    }

    /// During a lockdown only administrators sign in (the switch is read in the sign-in's
    /// own transaction, not from the cache).
    async fn refuse_during_lockdown(&self, conn: &mut courier_store::Conn, user_id: &str) -> Result<()> {
        if !self.locked_down_now(conn).await? {
            return Ok(());
        }
        let admin = users::by_id(&mut *conn, user_id).await?.is_some_and(|u| u.role == super::staff::Role::Admin);
        if admin {
            return Ok(());
        }
        Err(Error::Locked(crate::error::Reason::said(
            "Courier is locked down: only administrators can sign in until it is lifted.",
            crate::error::Said::new("staff-login-locked-down"),
        )))
    }

    /// Looks up a session, enforcing the idle and absolute timeouts, and marks it used.
    /// The language chosen by the member whose live session this is, without marking the
    /// session used (an error page asks; it must not keep an idle session alive).
    pub async fn session_language(&self, session: &str) -> Result<Option<courier_core::Language>> {
        let Some(token) = Token::parse(session) else {
            return Ok(None);
        };
        let Some(s) = rows::get(self.db.pool(), &token.hash()).await? else {
            return Ok(None);
        };
        if self.timed_out(&s, self.clock.now_ms()) {
            return Ok(None);
        }
        Ok(users::by_id(self.db.pool(), &s.user_id).await?.filter(|u| !u.disabled).and_then(|u| u.language))
    }

    /// Idle for too long, or older than the absolute limit.
    fn timed_out(&self, s: &SessionRecord, now: i64) -> bool {
        let idle = self.config.session_idle_timeout().as_millis() as i64;
        let absolute = self.config.session_absolute_timeout().as_millis() as i64;
        now - s.last_seen > idle || now - s.created_at > absolute
    }

    pub async fn session(&self, session: &str) -> Result<Option<StaffSession>> {
        let Some(token) = Token::parse(session) else {
            return Ok(None);
        };
        let hash = token.hash();
        let Some(s) = rows::get(self.db.pool(), &hash).await? else {
            return Ok(None);
        };
        let now = self.clock.now_ms();
        if self.timed_out(&s, now) {
            rows::delete(self.db.pool(), &hash).await?;
            return Ok(None);
        }
        let Some(user) = users::by_id(self.db.pool(), &s.user_id).await?.filter(|u| !u.disabled) else {
            return Ok(None);
        };
        let read_at = std::time::Instant::now();
        // Lockdown ended every session; one that outlived it (made on an instance that had not
        // yet seen the switch) does not count, unless it is an administrator's.
        if user.role != super::staff::Role::Admin && self.locked_down().await? {
            return Ok(None);
        }
        // Writing on every request would serialise reads behind SQLite's writer; a minute's
        // precision is plenty for a 30-minute idle timeout.
        if now - s.last_seen > 60_000 {
            rows::touch(self.db.pool(), &hash, now).await?;
        }
        Ok(Some(StaffSession {
            known: super::Known::read(super::authz::Principal::from(&user), read_at),
            id_hash: hash,
            user_id: user.id,
            email: user.email,
            role: user.role,
            csrf_token: s.csrf_token,
            awaiting_mfa: s.stage != SessionStage::Full,
            must_enrol: s.stage == SessionStage::Enrol,
            mfa: s.mfa,
            notice: Some(s.notice).filter(|n| !n.is_empty()),
            language: user.language,
            _sealed: (),
        }))
    }

    /// The session's one-time notice, cleared so it is shown once.
    pub(super) async fn take_notice(&self, staff: &StaffSession) -> Result<Option<String>> {
        let taken = staff.notice.is_some() && rows::take_notice(self.db.pool(), &staff.id_hash).await?;
        Ok(staff.notice.clone().filter(|_| taken))
    }

    /// Ends the caller's own session (`me`, from the session cookie the handle was made with).
    pub(super) async fn logout(&self, caller: &Caller, me: &StaffSession) -> Result<()> {
        let mut tx = self.audit.begin(&self.db).await?;
        rows::delete(tx.conn(), &me.id_hash).await?;
        tx.record(caller, AuditAction::Logout, "session", json!({})).await?;
        tx.commit().await
    }

    /// The signed-in user's sessions, newest first, marking the one asking.
    pub(super) async fn my_sessions(&self, me: &StaffSession) -> Result<Vec<SessionView>> {
        let list = rows::for_user(self.db.pool(), &me.user_id).await?;
        Ok(list.into_iter().map(|s| view(s, &me.id_hash)).collect())
    }

    /// Ends one of the signed-in user's own sessions, named by its handle.
    pub(super) async fn end_my_session(&self, caller: &Caller, handle: &str) -> Result<()> {
        let Actor::Staff(user_id) = &caller.actor else {
            return Err(Error::Forbidden);
        };
        let hash = hex::decode(handle).map_err(|_| Error::NotFound)?;
        let mut tx = self.audit.begin(&self.db).await?;
        if !rows::delete_of_user(&mut tx, user_id, &hash).await? {
            return Err(Error::NotFound);
        }
        tx.record(caller, AuditAction::SessionEnded, &format!("user:{user_id}"), json!({})).await?;
        tx.commit().await
    }

    /// Gives the session `current` a fresh id and ends the user's other sessions (after a
    /// password change). Returns the new id and how many others ended.
    pub(super) async fn renew_session(
        &self,
        tx: &mut courier_store::Tx,
        current: &StaffSession,
    ) -> Result<(Token, u64)> {
        let user_id = &current.user_id;
        let record = rows::get(&mut **tx, &current.id_hash)
            .await?
            .filter(|s| &s.user_id == user_id)
            .ok_or(Error::Unauthenticated)?;
        let ended = rows::delete_for_user(tx, user_id).await?.saturating_sub(1);
        let fresh = Token::generate()?;
        let record =
            SessionRecord { id_hash: fresh.hash(), csrf_token: Token::generate()?.expose().to_owned(), ..record };
        rows::insert(tx, &record).await?;
        Ok((fresh, ended))
    }

    /// Ends the signed-in user's other sessions (this one goes on).
    pub(super) async fn end_other_sessions(&self, caller: &Caller, me: &StaffSession) -> Result<u64> {
        let mut tx = self.audit.begin(&self.db).await?;
        let ended = rows::delete_others(&mut tx, &me.user_id, &me.id_hash).await?;
        // "Sign out everywhere else" is what someone does who fears their account is used by
        // another: tokens made from it go too (the person makes new ones under Account).
        let revoked = courier_store::api_tokens::revoke_all(&mut tx, Some(&me.user_id), self.clock.now_ms()).await?;
        let details = json!({ "count": ended, "tokens_revoked": revoked });
        tx.record(caller, AuditAction::SessionEndedOthers, &format!("user:{}", me.user_id), details).await?;
        tx.commit().await?;
        Ok(ended)
    }

    /// Ends every session of a user (an admin, the operator, or an account change).
    pub(super) async fn end_all_sessions(&self, tx: &mut courier_store::Tx, user_id: &str) -> Result<u64> {
        Ok(rows::delete_for_user(tx, user_id).await?)
    }
}

fn view(s: SessionRecord, current: &[u8]) -> SessionView {
    use courier_core::time_fmt::rfc3339;
    SessionView {
        handle: hex::encode(&s.id_hash),
        created_at: rfc3339(s.created_at),
        last_seen: rfc3339(s.last_seen),
        ip: s.ip,
        device: if s.user_agent.is_empty() { "unknown".into() } else { s.user_agent },
        current: s.id_hash == current,
        signed_in: s.stage == SessionStage::Full,
    }
}
