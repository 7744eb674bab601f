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

use super::audit::AuditAction;
use super::authz::{Action, Resource};
use super::{Actor, Caller, Courier, Unlock};
use crate::error::{Reason, Said, SaidArg};
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
    pub(super) async fn throttle(&self, ip: Option<IpAddr>) -> Result<()> {
        let Some(ip) = ip else { return Ok(()) };
        let n =
            rows::failures_since(self.db.pool(), &format!("ip:{ip}"), self.window_start(self.clock.now_ms())).await?;
        if let Some(delay) = self.backoff(n) {
            tokio::time::sleep(delay).await;
        }
        Ok(())
    }

    /// The wait before answering after `failures` recent failures: none for the first
    /// three, then 250 ms doubling with each, at most `login_delay_max_ms`.
    fn backoff(&self, failures: i64) -> Option<Duration> {
        let past_free = u32::try_from(failures - FREE_FAILURES).ok()?;
        Some(Duration::from_millis(
            FIRST_DELAY_MS.saturating_mul(1 << past_free.min(16)).min(self.config.login_delay_max_ms),
        ))
    }

    /// `Locked` when the account is locked now; the attempt is audited.
    pub(super) async fn refuse_if_locked(&self, ip: Option<IpAddr>, email: &str) -> Result<()> {
        let Some(until) = rows::locked_until(self.db.pool(), email, self.clock.now_ms()).await? else {
            return Ok(());
        };
        let caller = Caller::new(Actor::System, ip);
        let details = json!({ "email": email, "locked_until": rfc3339(until) });
        self.audit.record(&self.db, &caller, AuditAction::LoginLockedOut, "login", details).await?;
        Err(account_locked(until))
    }

    /// Takes the slot for one sign-in attempt of `email` before its secret is checked
    /// (review finding 3): the attempt counts as a failure from now on, so of any number
    /// sent at once at most `lockout_threshold` are ever checked; the rest are refused, and
    /// the account is locked, without hashing. Call [`Courier::sign_in_failed`] or
    /// [`Courier::sign_in_succeeded`] once the secret is checked.
    pub(super) async fn begin_sign_in(&self, ip: Option<IpAddr>, email: &str) -> Result<()> {
        self.throttle(ip).await?;
        self.refuse_if_locked(ip, email).await?;
        let lock = Lock::account(email);
        self.take_attempt(ip, &lock).await?.map(drop).map_err(account_locked)
    }

    /// Counts one attempt under `lock` before its secret is checked: `Ok(attempts so far)`, or
    /// `Err(locked until)` when this attempt passed the threshold (the lock is then taken) or
    /// a lock is in force.
    async fn take_attempt(&self, ip: Option<IpAddr>, lock: &Lock) -> Result<std::result::Result<i64, i64>> {
        let now = self.clock.now_ms();
        rows::record_failure(self.db.pool(), &lock.failures_key, now).await?;
        let attempts = rows::failures_since(self.db.pool(), &lock.failures_key, self.window_start(now)).await?;
        if attempts > self.config.lockout_threshold {
            return Ok(Err(self.lock_once(ip, lock, attempts).await?));
        }
        // A lock taken between the first look and the count cleared the count it was taken
        // on (this attempt's row may have gone with it): look again.
        match rows::locked_until(self.db.pool(), &lock.key, now).await? {
            Some(until) => Ok(Err(until)),
            None => Ok(Ok(attempts)),
        }
    }

    /// A failed password or code (its attempt was counted by `begin_sign_in`): counts the
    /// address, and locks the account at the threshold.
    pub(super) async fn sign_in_failed(&self, ip: Option<IpAddr>, email: &str) -> Result<()> {
        let now = self.clock.now_ms();
        if let Some(ip) = ip {
            rows::record_failure(self.db.pool(), &format!("ip:{ip}"), now).await?;
        }
        let key = format!("email:{email}");
        let failures = rows::failures_since(self.db.pool(), &key, self.window_start(now)).await?;
        if failures >= self.config.lockout_threshold {
            self.lock_once(ip, &Lock::account(email), failures).await?;
        }
        Ok(())
    }

    /// A right secret. Attempts sent alongside it may have locked the account meanwhile: then
    /// it is refused all the same, or guessing in parallel would still pay.
    pub(super) async fn sign_in_succeeded(&self, ip: Option<IpAddr>, email: &str) -> Result<()> {
        self.refuse_if_locked(ip, email).await?;
        Ok(rows::clear_failures(self.db.pool(), &format!("email:{email}")).await?)
    }

    /// A right password on the way to a full sign-in (or a re-authentication): refused if
    /// parallel guesses locked the account meanwhile; otherwise its own advance count is taken
    /// back and earlier failures stay until the sign-in completes.
    pub(super) async fn sign_in_step_passed(&self, ip: Option<IpAddr>, email: &str) -> Result<()> {
        self.refuse_if_locked(ip, email).await?;
        let mut conn = self.db.pool().acquire().await.map_err(courier_store::StoreError::from)?;
        Ok(rows::forgive_one(&mut conn, &format!("email:{email}"), self.db.backend()).await?)
    }

    /// Locks `lock.key` until `lockout_secs` from now, unless it is locked already (then the
    /// lock in force is kept and nothing is audited again); returns until when it is locked.
    async fn lock_once(&self, ip: Option<IpAddr>, lock: &Lock, failures: i64) -> Result<i64> {
        let now = self.clock.now_ms();
        let until = now + Duration::from_secs(self.config.lockout_secs).as_millis() as i64;
        let mut tx = self.audit.begin(&self.db).await?;
        if !rows::lock_if_unlocked(&mut tx, &lock.key, until, now).await? {
            // Locked already: nothing was written, nothing to record; the transaction ends.
            let current = rows::locked_until(tx.conn(), &lock.key, now).await?;
            return Ok(current.unwrap_or(until));
        }
        rows::clear_failures(tx.conn(), &lock.failures_key).await?;
        let mut details = lock.details.clone();
        details["failures"] = json!(failures);
        details["locked_until"] = json!(rfc3339(until));
        let caller = Caller::new(Actor::System, ip);
        tx.record(&caller, lock.action, &lock.target, details).await?;
        tx.commit().await?;
        Ok(until)
    }

    /// Until when the passcode of a link is locked, if it is (review finding 12).
    pub(super) async fn link_locked_until(&self, kind: Unlock, link_id: &str) -> Result<Option<i64>> {
        Ok(rows::locked_until(self.db.pool(), &Lock::link(kind, link_id).key, self.clock.now_ms()).await?)
    }

    /// Takes the slot for one passcode attempt at a link, from any address: refused while the
    /// link is locked, and counted before the passcode is hashed, as for staff sign-in.
    pub(super) async fn begin_passcode_attempt(&self, ip: Option<IpAddr>, kind: Unlock, link_id: &str) -> Result<()> {
        let lock = Lock::link(kind, link_id);
        if let Some(until) = rows::locked_until(self.db.pool(), &lock.key, self.clock.now_ms()).await? {
            return Err(link_locked(until));
        }
        let attempts = self.take_attempt(ip, &lock).await?.map_err(link_locked)?;
        // Growing waits past the third wrong passcode, as for an address at sign-in.
        if let Some(delay) = self.backoff(attempts - 1) {
            tokio::time::sleep(delay).await;
        }
        Ok(())
    }

    /// After the passcode was checked: a wrong one locks the link at the threshold; a right
    /// one is still refused if parallel guesses locked it meanwhile, and clears the count.
    pub(super) async fn end_passcode_attempt(
        &self,
        ip: Option<IpAddr>,
        kind: Unlock,
        link_id: &str,
        right: bool,
    ) -> Result<()> {
        let lock = Lock::link(kind, link_id);
        let now = self.clock.now_ms();
        if right {
            if let Some(until) = rows::locked_until(self.db.pool(), &lock.key, now).await? {
                return Err(link_locked(until));
            }
            return Ok(rows::clear_failures(self.db.pool(), &lock.failures_key).await?);
        }
        // A wrong one is answered as wrong; the lock shows from the next attempt on.
        let failures = rows::failures_since(self.db.pool(), &lock.failures_key, self.window_start(now)).await?;
        if failures >= self.config.lockout_threshold {
            self.lock_once(ip, &lock, failures).await?;
        }
        Ok(())
    }

    /// The link's owner (or an admin, or the operator) lifts a passcode lock; audited.
    pub(super) async fn unlock_link_passcode(&self, caller: &Caller, kind: Unlock, link_id: &str) -> Result<bool> {
        let key = Lock::link(kind, link_id).key;
        let mut tx = self.audit.begin(&self.db).await?;
        let was_locked = rows::unlock_key(&mut tx, &key, self.clock.now_ms()).await?;
        let details = json!({ format!("{}_id", kind.kind()): link_id, "was_locked": was_locked });
        let target = format!("{}:{link_id}", kind.kind());
        tx.record(caller, kind.audit_unlocked(), &target, details).await?;
        tx.commit().await?;
        Ok(was_locked)
    }

    /// An admin (or the operator) lifts a lock before it runs out; audited.
    pub(super) async fn unlock_account(&self, caller: &Caller, email: &str) -> Result<bool> {
        self.authorize(caller, Action::UserManage, &Resource::Firm).await?;
        let email = login_key(email);
        let mut tx = self.audit.begin(&self.db).await?;
        let was_locked = rows::unlock(&mut tx, &email, self.clock.now_ms()).await?;
        let details = json!({ "email": email, "was_locked": was_locked });
        tx.record(caller, AuditAction::AccountUnlock, "login", details).await?;
        tx.commit().await?;
        Ok(was_locked)
    }

    /// Upkeep: old failures and locks that ran out.
    pub(super) async fn prune_login_failures(&self) -> Result<u64> {
        let now = self.clock.now_ms();
        let mut conn = self.db.pool().acquire().await.map_err(courier_store::StoreError::from)?;
        Ok(rows::prune(&mut conn, self.window_start(now), now).await?)
    }
}

fn account_locked(until: i64) -> Error {
    Error::Locked(Reason::said(
        format!(
            "Too many failed sign-ins: this account is locked until {}. An administrator can unlock it sooner.",
            rfc3339(until)
        ),
        Said::new("staff-refused-account-locked").with("until", SaidArg::Time(until)),
    ))
}

fn link_locked(until: i64) -> Error {
    Error::Locked(Reason::said(
        format!(
            "Too many wrong passcodes: this link is locked until {}. The person who sent it can unlock it sooner.",
            rfc3339(until)
        ),
        Said::new("refusal-link-locked").with("until", SaidArg::Time(until)),
    ))
}

/// What a run of failures locks: the lock's key, the key its failures count under, and how
/// taking it is audited.
struct Lock {
    key: String,
    failures_key: String,
    action: AuditAction,
    target: String,
    details: serde_json::Value,
}

impl Lock {
    /// An account, by its login key (the e-mail as typed, lower-cased).
    fn account(email: &str) -> Self {
        Self {
            key: email.to_owned(),
            failures_key: format!("email:{email}"),
            action: AuditAction::AccountLocked,
            target: "login".into(),
            details: json!({ "email": email }),
        }
    }

    /// A link's passcode. Upper case: no e-mail typed at sign-in (they are lower-cased by
    /// `login_key`) can name it and lock a link.
    fn link(link: Unlock, link_id: &str) -> Self {
        let kind = link.kind();
        let key = format!("LINK:{kind}:{link_id}");
        Self {
            failures_key: key.clone(),
            key,
            action: link.audit_locked(),
            target: format!("{kind}:{link_id}"),
            details: json!({ format!("{kind}_id"): link_id }),
        }
    }
}
