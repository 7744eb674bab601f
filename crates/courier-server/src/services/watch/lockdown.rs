//! Lockdown: one switch that closes every link, refuses uploads in flight, ends every staff
//! session, refuses API tokens and lets only administrators sign in, on every instance.
//!
//! The switch is one database row. Link and session checks read it at most once per [`CACHE`]
//! per instance, so another instance follows within that time; the checks that decide
//! something lasting (an upload becoming a document, a sign-in) read the row itself.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;
use zeroize::Zeroizing;

use super::{Alert, AlertKind};
use crate::Result;
use crate::error::{Said, SaidArg, bad_request, conflict};
use crate::services::audit::AuditAction;
use crate::services::{Caller, Courier};
use courier_core::time_fmt::rfc3339;
use courier_store::watch::{self as rows, Lockdown};

/// How long an instance trusts its last reading of the switch.
pub const CACHE: Duration = Duration::from_secs(1);

/// The switch as last read by this instance.
#[derive(Default)]
pub struct Cached(Mutex<Option<(Instant, bool)>>);

/// The switch, for `lockdown status` and the admin page.
#[derive(Debug, Serialize)]
pub struct LockdownView {
    pub active: bool,
    pub reason: String,
    pub changed_by: String,
    pub changed_at: Option<String>,
}

fn view(l: Lockdown) -> LockdownView {
    LockdownView {
        active: l.active,
        reason: l.reason,
        changed_by: l.changed_by,
        changed_at: (l.changed_at > 0).then(|| rfc3339(l.changed_at)),
    }
}

impl Courier {
    /// Whether the installation is locked down, read at most once per [`CACHE`]. A database
    /// that cannot be read is an error (503 for the caller), never "not locked down".
    pub async fn locked_down(&self) -> Result<bool> {
        if let Ok(cached) = self.lockdown.0.lock()
            && let Some((at, active)) = *cached
            && at.elapsed() < CACHE
        {
            return Ok(active);
        }
        let active = rows::lockdown(self.db.pool()).await?.active;
        if let Ok(mut cached) = self.lockdown.0.lock() {
            *cached = Some((Instant::now(), active));
        }
        Ok(active)
    }

    /// The switch as stored now (no cache), for decisions that last.
    pub(crate) async fn locked_down_now(&self, conn: &mut courier_store::Conn) -> Result<bool> {
        Ok(rows::lockdown(conn).await?.active)
    }

    pub(in crate::services) async fn lockdown_status(&self) -> Result<LockdownView> {
        Ok(view(rows::lockdown(self.db.pool()).await?))
    }

    /// Turns the switch. On: every staff session ends in the same transaction. Both ways the
    /// change is audited and raises a `lockdown` alert. Already in that position: `Conflict`.
    pub(in crate::services) async fn set_lockdown(
        &self,
        caller: &Caller,
        on: bool,
        reason: &str,
    ) -> Result<LockdownView> {
        let reason = crate::services::text_field("reason", reason, false, 500)?;
        let now = self.clock.now_ms();
        let by = caller.actor.to_string();
        let mut tx = self.audit.begin(&self.db).await?;
        let l = Lockdown { active: on, reason: reason.clone(), changed_by: by.clone(), changed_at: now };
        if !rows::set_lockdown(&mut tx, &l).await? {
            let (state, id) =
                if on { ("on", "staff-refused-lockdown-on") } else { ("off", "staff-refused-lockdown-off") };
            return Err(conflict(format!("lockdown is already {state}"), Said::new(id)));
        }
        let (action, details, summary, said) = if on {
            let ended = courier_store::sessions::delete_all(&mut tx).await?;
            let summary = format!("{by} locked Courier down: {reason}");
            (
                AuditAction::LockdownOn,
                json!({ "reason": reason, "sessions_ended": ended }),
                summary,
                "alert-lockdown-on",
            )
        } else {
            let summary = format!("{by} lifted the lockdown: {reason}");
            (AuditAction::LockdownOff, json!({ "reason": reason }), summary, "alert-lockdown-off")
        };
        let said = Said::new(said).with("by", SaidArg::Text(by.clone())).with("reason", SaidArg::Text(reason.clone()));
        tx.record(caller, action, "lockdown", details.clone()).await?;
        let alert = Alert { kind: AlertKind::Lockdown, summary, said, ip: caller.ip, actor: Some(by), details };
        tx.raise(alert).await?;
        tx.commit().await?;
        if let Ok(mut cached) = self.lockdown.0.lock() {
            *cached = Some((Instant::now(), on));
        }
        Ok(view(l))
    }

    /// An administrator proves themselves again before turning the switch from the web: the
    /// password (`reauthenticate`, as for other sensitive steps), then a TOTP or recovery code,
    /// used up. A failure counts towards the account's lock.
    pub(in crate::services) async fn confirm_identity(
        &self,
        caller: &Caller,
        session: &crate::services::sessions::StaffSession,
        password: Zeroizing<String>,
        code: &str,
    ) -> Result<()> {
        let user = self.reauthenticate(caller, session, password).await?;
        let code = code.trim();
        let recovery = crate::services::mfa::looks_like_recovery_code(code);
        let step = if recovery || !user.mfa_enrolled { None } else { self.matching_totp_step(&user, code)? };
        let mut tx = self.audit.begin(&self.db).await?;
        let code_ok = if recovery {
            self.consume_recovery_code(&mut tx, &user.id, code).await?
        } else if let Some(step) = step {
            courier_store::users::advance_totp_step(&mut tx, &user.id, step).await?
        } else {
            false
        };
        if !code_ok {
            let details = json!({ "step": "confirm_identity" });
            tx.record(caller, AuditAction::LoginFailed, &format!("user:{}", user.id), details).await?;
            tx.commit().await?;
            self.sign_in_failed(caller.ip, &user.email).await?;
            return Err(bad_request("the code is wrong (or already used)", Said::new("staff-refused-code-wrong")));
        }
        tx.commit_even_if_silent().await
    }
}
