//! Sign-in throttling and account lockout. Failures (wrong password, wrong or replayed code)
//! count per account e-mail and per source address. An account with `lockout_threshold`
//! failures within `lockout_window_secs` is locked for `lockout_secs`; an address with recent
//! failures waits longer for each answer. Unknown e-mails are counted and locked exactly like
//! real ones, so neither the answers nor their timing tell whether an account exists.

use std::net::IpAddr;
use std::time::Duration;

use courier_core::time_fmt::rfc3339;
use courier_store::lockout as rows;
use serde_json::json;

use super::authz::{Action, Resource};
use super::{Actor, Caller, Courier};
use crate::{Error, Result};

/// Failures from one address before answers are delayed.
const FREE_FAILURES: i64 = 3;
const FIRST_DELAY_MS: u64 = 250;

/// How e-mails are keyed: as typed, trimmed and lower-cased, at most an e-mail's length.
pub fn login_key(email: &str) -> String {
    email.trim().to_lowercase().chars().take(254).collect()
}

impl Courier {
    fn window_start(&self, now: i64) -> i64 {
        now - Duration::from_secs(self.config.lockout_window_secs).as_millis() as i64
    }

    /// Waits before answering an address with recent failures: 250 ms after the third,
    /// doubling with each one, at most `login_delay_max_ms`.
    pub(crate) async fn throttle(&self, ip: Option<IpAddr>) -> Result<()> {
        let Some(ip) = ip else { return Ok(()) };
        let n =
            rows::failures_since(self.db.pool(), &format!("ip:{ip}"), self.window_start(self.clock.now_ms())).await?;
        if n >= FREE_FAILURES {
            let shift = (n - FREE_FAILURES).min(16) as u32;
            let delay = FIRST_DELAY_MS.saturating_mul(1 << shift).min(self.config.login_delay_max_ms);
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        Ok(())
    }

    /// `Locked` when the account is locked now; the attempt is audited.
    pub(crate) async fn refuse_if_locked(&self, ip: Option<IpAddr>, email: &str) -> Result<()> {
        let Some(until) = rows::locked_until(self.db.pool(), email, self.clock.now_ms()).await? else {
            return Ok(());
        };
        let caller = Caller::new(Actor::System, ip);
        let details = json!({ "email": email, "locked_until": rfc3339(until) });
        self.audit.record(&self.db, &caller, "login.locked_out", "login", details).await?;
        Err(Error::Locked(format!(
            "Too many failed sign-ins: this account is locked until {}. An administrator can unlock it sooner.",
            rfc3339(until)
        )))
    }

    /// Counts a failed password or code, and locks the account at the threshold.
    pub(crate) async fn sign_in_failed(&self, ip: Option<IpAddr>, email: &str) -> Result<()> {
        let now = self.clock.now_ms();
        let key = format!("email:{email}");
        rows::record_failure(self.db.pool(), &key, now).await?;
        if let Some(ip) = ip {
            rows::record_failure(self.db.pool(), &format!("ip:{ip}"), now).await?;
        }
        let failures = rows::failures_since(self.db.pool(), &key, self.window_start(now)).await?;
        if failures < self.config.lockout_threshold {
            return Ok(());
        }
        let until = now + Duration::from_secs(self.config.lockout_secs).as_millis() as i64;
        let mut tx = self.db.begin().await?;
        rows::lock(&mut tx, email, until).await?;
        rows::clear_failures(&mut *tx, &key).await?;
        let caller = Caller::new(Actor::System, ip);
        let details = json!({ "email": email, "failures": failures, "locked_until": rfc3339(until) });
        let head = self.audit.append(&mut tx, &caller, "account.locked", "login", details).await?;
        self.audit.commit(tx, head).await
    }

    pub(crate) async fn sign_in_succeeded(&self, email: &str) -> Result<()> {
        Ok(rows::clear_failures(self.db.pool(), &format!("email:{email}")).await?)
    }

    /// An admin (or the operator) lifts a lock before it runs out; audited.
    pub async fn unlock_account(&self, caller: &Caller, email: &str) -> Result<bool> {
        self.authorize(caller, Action::UserManage, &Resource::Firm).await?;
        let email = login_key(email);
        let mut tx = self.db.begin().await?;
        let was_locked = rows::unlock(&mut tx, &email, self.clock.now_ms()).await?;
        let details = json!({ "email": email, "was_locked": was_locked });
        let head = self.audit.append(&mut tx, caller, "account.unlock", "login", details).await?;
        self.audit.commit(tx, head).await?;
        Ok(was_locked)
    }

    /// Upkeep: old failures and locks that ran out.
    pub(crate) async fn prune_login_failures(&self) -> Result<u64> {
        let now = self.clock.now_ms();
        let mut conn = self.db.pool().acquire().await.map_err(courier_store::StoreError::from)?;
        Ok(rows::prune(&mut conn, self.window_start(now), now).await?)
    }
}
