//! The service layer. `Courier` owns the backends and the keys; each submodule owns one part
//! of the domain and every transaction it needs, with the audit event inside it.

pub mod access;
pub mod api_tokens;
pub mod archive;
pub mod audit;
pub mod audit_events;
mod audit_group;
pub mod authz;
pub mod backup;
mod batch_pool;
pub mod branding;
pub mod certificates;
pub mod clock;
pub mod documents;
pub mod firm;
pub mod handles;
pub mod heads_log;
pub mod inflight;
pub mod keys;
pub mod lifecycle;
pub mod lockout;
pub mod maintenance;
pub mod matters;
pub mod mfa;
pub mod pages;
pub mod passkeys;
pub mod passwords;
pub mod portals;
pub mod scanning;
pub mod sessions;
pub mod shares;
pub mod staff;
pub mod tus;
pub mod users;
pub mod watch;
pub mod watermark;

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use courier_crypto::audit::HeadSigner;
use courier_store::Db;
use courier_store::blob::BlobStore;

use crate::Config;

pub use audit::AuditLog;

/// The right to act as the local operator ([`Courier::operator`]). `startup::open` hands out
/// the only one, to the CLI; the web router gets the `Courier` without it, so no route can
/// reach an operator handle.
pub struct OperatorKey(());

/// Everything a request or a CLI command needs; cheap to share behind an `Arc`.
pub struct Courier {
    config: Config,
    db: Db,
    blobs: Arc<dyn BlobStore>,
    keys: keys::MasterKeys,
    audit: Arc<AuditLog>,
    /// Staff passwords; link passcodes queue apart in `passcodes`.
    passwords: passwords::PasswordHasher,
    passcodes: passwords::PasswordHasher,
    /// Uploads in flight per portal link and per client address, and stamped downloads per
    /// share link and per address.
    uploads: Arc<inflight::InFlight>,
    scanning: scanning::Scanning,
    authz: authz::Authorizer,
    /// Bounds the memory of in-memory watermarking (PDF, images).
    stamping: Arc<tokio::sync::Semaphore>,
    /// This process among the instances of a cluster (for leases).
    instance_id: String,
    /// The time for session, code and link expiry; tests move it forward.
    clock: Arc<clock::Clock>,
    /// Whether a WebAuthn relying party can be made (the public URL has a host name); it is
    /// made per ceremony, under the firm's current name.
    passkeys: bool,
    /// HMAC key for short-lived signed cookies (portal unlock, login CSRF); derived from the
    /// master key so every instance sharing that key agrees.
    cookie_key: courier_crypto::MacKey,
    /// Mail, webhook and alert settings (shared with the audit log, whose events drive them).
    watch: Arc<watch::WatchSettings>,
    /// The lockdown switch as last read, briefly cached.
    lockdown: watch::lockdown::Cached,
    metrics: Arc<crate::metrics::Metrics>,
    branding: branding::BrandCell,
    /// Complete resumable uploads whose checks failed for a while, and when to try again.
    tus_retry: tus::RetryAfter,
}

impl Courier {
    // Called once, by `startup::open`, with every part it opened.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: Config,
        db: Db,
        blobs: Arc<dyn BlobStore>,
        keys: keys::MasterKeys,
        signer: HeadSigner,
        cookie_key: courier_crypto::MacKey,
        address_key: courier_crypto::MacKey,
        scanning: scanning::Scanning,
        authz: authz::Authorizer,
        watch: watch::WatchSettings,
        branding: branding::Branding,
    ) -> (Self, OperatorKey) {
        let branding = branding::BrandCell::new(branding);
        // Mails and alerts tell times in the brand's zone as it is, not as it was at start.
        let watch = Arc::new(watch::WatchSettings { brand: Some(branding.clone()), ..watch });
        let stamping_permits = config.watermark_at_once.max(1);
        let busy_wait = std::time::Duration::from_secs(config.busy_wait_secs.max(1));
        let clock = Arc::new(clock::Clock::default());
        let heads_log = config.data_dir.join("audit").join("heads.log");
        let audit = Arc::new(AuditLog::new(signer, address_key, heads_log, clock.clone(), watch.clone()));
        let instance_id = uuid::Uuid::new_v4().to_string();
        let passkeys = passkeys::relying_party(&config, &config.firm_name).is_some();
        let courier = Self {
            config,
            db,
            blobs,
            keys,
            audit,
            passwords: passwords::PasswordHasher::new(2, busy_wait),
            passcodes: passwords::PasswordHasher::new(1, busy_wait),
            uploads: Arc::default(),
            scanning,
            authz,
            stamping: Arc::new(tokio::sync::Semaphore::new(stamping_permits)),
            instance_id,
            clock,
            passkeys,
            cookie_key,
            watch,
            lockdown: Default::default(),
            metrics: Arc::default(),
            branding,
            tus_retry: Default::default(),
        };
        (courier, OperatorKey(()))
    }

    /// The settings this instance runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The firm's scanning rules (type allowlist, DLP action), for forms and pages.
    pub fn scanning(&self) -> &scanning::Scanning {
        &self.scanning
    }

    /// Counters and gauges for `/metrics`.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.metrics
    }

    /// The firm's name, logo, colour, contact line and time zone, as they are now.
    pub fn branding(&self) -> Arc<branding::Branding> {
        self.branding.get()
    }

    /// The live brand, for the pages (read at each render).
    pub fn brand_cell(&self) -> branding::BrandCell {
        self.branding.clone()
    }

    /// The firm's name, as it is now.
    pub fn firm_name(&self) -> String {
        self.branding.get().firm_name.clone()
    }

    /// A profile as it is stored: checked, without what the configuration sets (which wins
    /// anyway), the time zone under its canonical name.
    fn profile_to_store(
        &self,
        given: &courier_store::firm_profile::FirmProfile,
    ) -> crate::Result<courier_store::firm_profile::FirmProfile> {
        let mut p = branding::check_profile(given).map_err(crate::Error::BadRequest)?;
        for (key, value) in p.fields_mut() {
            if self.config.explicit.contains(key) {
                *value = None;
            }
        }
        if self.config.firm_logo.is_some() {
            p.logo = None;
        }
        Ok(p)
    }

    /// The brand this installation would have with `profile` (the configuration's settings win).
    fn branded(&self, profile: &courier_store::firm_profile::FirmProfile) -> crate::Result<branding::Branding> {
        let mut config = self.config.clone();
        branding::apply_profile(&mut config, profile);
        // The configuration's logo file wins, and is already read.
        let logo = match (&config.firm_logo, &profile.logo) {
            (Some(_), _) => self.branding.get().logo.clone(),
            (None, Some(bytes)) => Some((bytes.clone(), branding::logo_type(bytes).map_err(crate::Error::BadRequest)?)),
            (None, None) => None,
        };
        branding::Branding::from_config(&config, logo).map_err(|e| crate::Error::BadRequest(e.into()))
    }

    /// Puts a saved profile in force. It was checked before it was saved; should it not apply
    /// after all, that is logged and the brand stays (the next start applies what is stored).
    fn rebrand(&self, profile: &courier_store::firm_profile::FirmProfile) {
        match self.branded(profile) {
            Ok(brand) => self.branding.set(brand),
            Err(e) => tracing::error!(error = %e, "the firm profile could not be applied; the brand is unchanged"),
        }
    }

    /// The clock for expiries; tests move it forward.
    pub fn clock(&self) -> &clock::Clock {
        &self.clock
    }

    /// The loaded Cedar policies (`policy check`).
    pub fn policies(&self) -> &authz::Authorizer {
        &self.authz
    }

    /// Whether passkeys can be used (the public URL names a host).
    pub fn passkeys_enabled(&self) -> bool {
        self.passkeys
    }

    /// Closes the database pool (the CLI, before it exits).
    pub async fn close(&self) {
        self.db.close().await;
    }

    /// Audits a certificate reload on SIGHUP (`tls.reloaded` or `tls.reload_failed`).
    pub async fn record_tls_reload(&self, reloaded: bool, details: serde_json::Value) -> crate::Result<()> {
        let action = if reloaded { audit::AuditAction::TlsReloaded } else { audit::AuditAction::TlsReloadFailed };
        self.audit.record(&self.db, &Caller::system(), action, "tls", details).await
    }

    /// The login form's CSRF token, bound to its pre-session cookie.
    pub fn login_csrf(&self, pre_session: &str) -> String {
        hex::encode(self.mac(&[b"login-csrf", pre_session.as_bytes()]))
    }

    /// A one-time link's form token, bound to the link.
    pub fn link_csrf(&self, form: LinkForm, token: &str) -> String {
        let purpose: &[u8] = match form {
            LinkForm::Setup => b"setup-csrf",
            LinkForm::Invitation => b"invite-csrf",
        };
        hex::encode(self.mac(&[purpose, token.as_bytes()]))
    }

    /// HMAC-SHA256 over `parts` with the cookie key.
    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        self.cookie_key.mac(parts)
    }

    /// Checks the passcode a client or recipient gave for a link (`hash` is the link's
    /// argon2id passcode hash); a wrong one is audited as `portal.passcode_failed` or
    /// `share.passcode_failed`, never with the passcode.
    async fn check_passcode(
        &self,
        caller: &Caller,
        link: Unlock,
        link_id: &str,
        hash: Option<String>,
        passcode: zeroize::Zeroizing<String>,
    ) -> crate::Result<bool> {
        let kind = link.kind();
        self.begin_passcode_attempt(caller.ip, link, link_id).await?;
        let ok = self.passcodes.verify(passcode, hash).await?;
        if !ok {
            let details = serde_json::json!({ format!("{kind}_id"): link_id });
            let action = link.audit_failed();
            self.audit.record(&self.db, caller, action, &format!("{kind}:{link_id}"), details).await?;
        }
        self.end_passcode_attempt(caller.ip, link, link_id, ok).await?;
        Ok(ok)
    }

    /// A signed cookie value proving that the passcode of `link` (a portal or a share, named
    /// by `purpose`) was given, valid for `portal_unlock_secs`.
    fn unlock_cookie(&self, purpose: Unlock, link_id: &str) -> String {
        let secs = std::time::Duration::from_secs(self.config.portal_unlock_secs);
        let expires = self.clock.now_ms() + secs.as_millis() as i64;
        let mac = self.mac(&[purpose.tag(), link_id.as_bytes(), &expires.to_be_bytes()]);
        format!("{expires}.{}", hex::encode(mac))
    }

    /// Whether `cookie` is an unexpired `unlock_cookie` for this link.
    fn unlocked(&self, purpose: Unlock, link_id: &str, cookie: Option<&str>) -> bool {
        let Some((expires, mac)) = cookie.and_then(|c| c.split_once('.')) else {
            return false;
        };
        let (Ok(expires), Ok(mac)) = (expires.parse::<i64>(), hex::decode(mac)) else {
            return false;
        };
        let expected = self.mac(&[purpose.tag(), link_id.as_bytes(), &expires.to_be_bytes()]);
        courier_crypto::ct_eq(&expected, &mac) && expires > self.clock.now_ms()
    }
}

/// A short name or label typed by staff: trimmed, `min` to `max_chars` characters (empty allowed
/// with `allow_empty`), no control characters. `what` is one of `TEXT_FIELDS`, whose message
/// names it on a page in the member's language.
pub(crate) fn text_field(what: &str, raw: &str, allow_empty: bool, max_chars: usize) -> crate::Result<String> {
    let v = raw.trim();
    let hidden = |c: char| c.is_control() || courier_core::is_invisible_format_char(c);
    if (!allow_empty && v.is_empty()) || v.chars().count() > max_chars || v.chars().any(hidden) {
        let min = if allow_empty { 0 } else { 1 };
        let text = format!(
            "the {what} must be {min} to {max_chars} characters, without control or invisible formatting characters"
        );
        let said = TEXT_FIELDS.iter().find(|(name, _)| *name == what).map(|(_, id)| {
            crate::error::Said::new("staff-refused-text-field")
                .with("field", crate::error::SaidArg::Messages(vec![(*id).to_owned()]))
                .with("min", crate::error::SaidArg::Text(min.to_string()))
                .with("max", crate::error::SaidArg::Text(max_chars.to_string()))
        });
        return Err(crate::Error::BadRequest(crate::error::Reason { text, said }));
    }
    Ok(v.to_owned())
}

/// The fields `text_field` checks, with the message that names each.
pub(crate) const TEXT_FIELDS: [(&str, &str); 6] = [
    ("reason", "staff-field-reason"),
    ("department", "staff-field-department"),
    ("token name", "staff-field-token-name"),
    ("matter name", "staff-field-matter-name"),
    ("passkey name", "staff-field-passkey-name"),
    ("DMS reference", "staff-field-dms-reference"),
];

/// The form behind a one-time link (its CSRF token is bound to the link and to this).
#[derive(Debug, Clone, Copy)]
pub enum LinkForm {
    Setup,
    Invitation,
}

/// Which kind of link a passcode cookie unlocks (the MAC is bound to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlock {
    Portal,
    Share,
}

impl Unlock {
    pub(crate) fn kind(self) -> &'static str {
        match self {
            Self::Portal => "portal",
            Self::Share => "share",
        }
    }

    fn audit_failed(self) -> audit::AuditAction {
        match self {
            Self::Portal => audit::AuditAction::PortalPasscodeFailed,
            Self::Share => audit::AuditAction::SharePasscodeFailed,
        }
    }

    fn audit_locked(self) -> audit::AuditAction {
        match self {
            Self::Portal => audit::AuditAction::PortalPasscodeLocked,
            Self::Share => audit::AuditAction::SharePasscodeLocked,
        }
    }

    fn audit_unlocked(self) -> audit::AuditAction {
        match self {
            Self::Portal => audit::AuditAction::PortalPasscodeUnlocked,
            Self::Share => audit::AuditAction::SharePasscodeUnlocked,
        }
    }

    fn tag(self) -> &'static [u8] {
        match self {
            Self::Portal => b"portal-unlock",
            Self::Share => b"share-unlock",
        }
    }
}

/// Who acts, as written into the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Staff(String),
    Client(String),
    /// The recipient of a share, by share id.
    Recipient(String),
    Cli(String),
    System,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Staff(id) => write!(f, "staff:{id}"),
            Self::Client(portal) => write!(f, "client:{portal}"),
            Self::Recipient(share) => write!(f, "recipient:{share}"),
            Self::Cli(user) => write!(f, "cli:{user}"),
            Self::System => f.write_str("system"),
        }
    }
}

/// The actor of a call, where it came from and how it authenticated.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub ip: Option<IpAddr>,
    pub via: Via,
    /// The staff member as this request's authentication read them (see [`Known`]).
    known: Option<Known>,
}

/// A staff member's role and department as authentication read them, and when. Decisions in
/// the same request use them instead of reading the account a second time, for at most
/// [`Known::FOR`]: a request that runs longer (a large upload) reads the account again, so a
/// change made meanwhile (disabled, another role) binds it.
#[derive(Debug, Clone)]
struct Known {
    principal: authz::Principal,
    read_at: std::time::Instant,
}

impl Known {
    const FOR: std::time::Duration = std::time::Duration::from_secs(1);

    /// What was read at `read_at` (taken right after the read, before any other wait).
    fn read(principal: authz::Principal, read_at: std::time::Instant) -> Self {
        Self { principal, read_at }
    }

    /// The principal, if it is `id`'s and still fresh.
    fn principal_of(&self, id: &str) -> Option<&authz::Principal> {
        (self.principal.id == id && self.read_at.elapsed() < Self::FOR).then_some(&self.principal)
    }
}

/// How a staff caller authenticated: policies see it (`context.via`, `context.mfa`), and an API
/// token's scopes bound what it may do on top of the user's own rights.
#[derive(Debug, Clone, Default)]
pub enum Via {
    /// The operator, the system, a client or recipient link.
    #[default]
    Direct,
    /// A web session, with the second factor that made it.
    Session { mfa: String },
    /// A personal API token.
    Api(api_tokens::Grant),
}

impl Via {
    /// Refuses an API token without `scope` (other callers' rights the policies alone decide).
    pub fn require(&self, scope: api_tokens::Scope) -> crate::Result<()> {
        match self {
            Self::Api(grant) if !grant.scopes.contains(&scope) => {
                Err(crate::Error::MissingScope(scope.as_str().to_owned()))
            }
            _ => Ok(()),
        }
    }
}

impl Caller {
    pub fn new(actor: Actor, ip: Option<IpAddr>) -> Self {
        Self { actor, ip, via: Via::Direct, known: None }
    }

    /// A staff member signed in by `via`, with their account as authentication read it.
    fn authenticated(known: Known, ip: Option<IpAddr>, via: Via) -> Self {
        Self { actor: Actor::Staff(known.principal.id.clone()), ip, via, known: Some(known) }
    }

    pub fn system() -> Self {
        Self::new(Actor::System, None)
    }

    /// The local operator running a CLI command.
    pub fn cli() -> Self {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .ok()
            .filter(|u| !u.is_empty())
            .or_else(os_user_name)
            .unwrap_or_else(|| "unknown".into());
        Self::new(Actor::Cli(user), None)
    }
}

/// The name of this process's real uid from `/etc/passwd` (or `uid:N`), for when the
/// environment names no user (services, CI). Read from files: no unsafe libc call.
fn os_user_name() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status.lines().find_map(|l| l.strip_prefix("Uid:"))?.split_whitespace().next()?.to_owned();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let name = passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)? == uid).then(|| name.to_owned())
    });
    Some(name.unwrap_or_else(|| format!("uid:{uid}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What authentication read stands in for the account only for the same staff member, and
    /// only briefly: an older reading (a long upload) is read again.
    #[test]
    fn a_known_principal_stands_for_its_own_account_and_only_briefly() {
        let principal = authz::Principal { id: "ann".into(), role: "attorney".into(), department: String::new() };
        let caller = Caller::authenticated(Known::read(principal, std::time::Instant::now()), None, Via::Direct);
        assert_eq!(caller.actor, Actor::Staff("ann".into()));
        let known = caller.known.clone().unwrap();
        assert!(known.principal_of("ann").is_some());
        assert!(known.principal_of("bob").is_none());
        let old = std::time::Instant::now().checked_sub(Known::FOR).unwrap();
        assert!(Known { read_at: old, ..known }.principal_of("ann").is_none());
        assert!(Caller::new(Actor::Staff("ann".into()), None).known.is_none());
    }
}
