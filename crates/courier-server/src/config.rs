//! Settings: one TOML file plus `COURIER_*` environment variables that override it
//! (DESIGN.md, Configuration). Loaded once at start and kept in the app state.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use courier_core::{ByteSize, DurationSpec};
use serde::Deserialize;

#[derive(Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The settings the file or the environment gave (the others are defaults): these win
    /// over the firm profile stored by the setup page.
    #[serde(skip)]
    pub explicit: std::collections::BTreeSet<String>,
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; default: `courier.db` in the data directory.
    pub database_url: Option<String>,
    /// Default: the `blobs/` directory in the data directory; `s3://bucket/prefix` for S3.
    pub blob_store: Option<String>,
    /// S3-compatible endpoint (path-style requests), e.g. `http://127.0.0.1:3900`; unset for AWS.
    pub s3_endpoint: Option<String>,
    pub s3_region: String,
    pub s3_access_key_id: Option<String>,
    pub s3_secret_access_key: Option<String>,
    /// An S3 upload still unfinished after this long is taken as dead (its instance was killed)
    /// and aborted by the sweep.
    pub s3_stale_upload_secs: u64,
    /// A request to S3 not finished in this long fails, and is retried for up to six times as
    /// long from its first try. A download is read in as many requests as it needs: a slow
    /// client is not limited by it.
    pub s3_timeout_secs: u64,
    pub bind: SocketAddr,
    /// Base of the links Courier hands out; default `http://<bind>`.
    pub public_url: Option<String>,
    pub firm_name: String,
    /// The firm's logo (PNG or SVG, at most 512 KiB) on client and share pages.
    pub firm_logo: Option<PathBuf>,
    /// `#rrggbb` for buttons and links on client and share pages.
    pub brand_color: Option<String>,
    /// One line shown to clients, e.g. who to call with questions.
    pub client_contact: Option<String>,
    /// How long a resumable upload may stay unfinished (and a finished one's receipt kept).
    pub tus_expiry: DurationSpec,
    /// Unfinished resumable uploads per portal link at a time.
    pub tus_unfinished_per_link: usize,
    pub master_key_file: Option<PathBuf>,
    pub audit_key_file: Option<PathBuf>,
    /// Addresses of reverse proxies allowed to set `X-Forwarded-For`/`-Proto`. Needed (or TLS)
    /// to bind anything but loopback.
    pub trusted_proxy: Vec<IpAddr>,
    /// PEM certificate chain and private key: `serve` speaks TLS itself (1.2 and 1.3), and
    /// reads both files again on SIGHUP.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub default_max_file_size: ByteSize,
    /// Most files in one upload request.
    pub max_files_per_upload: usize,
    pub session_idle_timeout_secs: u64,
    pub session_absolute_timeout_secs: u64,
    /// A new sign-in ends the user's older sessions (and says so on the next page).
    pub single_session: bool,
    /// Staff may sign in with a passkey alone (e-mail, then the passkey with user
    /// verification), without password or code.
    pub passwordless_passkeys: bool,
    /// How long an invitation link stays valid.
    pub invitation_ttl_secs: u64,
    /// Failed sign-ins (password or code) of one account within `lockout_window_secs` that
    /// lock it for `lockout_secs`.
    pub lockout_threshold: i64,
    pub lockout_window_secs: u64,
    pub lockout_secs: u64,
    /// Longest delay before answering a source address with recent failures (it doubles with
    /// each failure past the third).
    pub login_delay_max_ms: u64,
    /// Requests per minute and per client address on `/p/` and on the login forms.
    pub rate_limit_per_minute: u32,
    /// Passcode unlock cookie lifetime.
    pub portal_unlock_secs: u64,
    /// How often background upkeep (expiry records, blob sweep, session expiry) runs.
    pub maintenance_interval_secs: u64,
    /// ClamAV daemon: `unix:/path/to/clamd.sock` or `host:port`. Setting it turns malware
    /// scanning on (fail closed).
    pub clamd_addr: Option<String>,
    /// `true` requires `clamd_addr`; `false` switches malware scanning off explicitly; unset:
    /// on exactly when `clamd_addr` is set.
    pub malware_scanning: Option<bool>,
    /// What happens to an infected upload: `refuse` it, or keep it in `quarantine`.
    pub malware_action: MalwareAction,
    /// clamd's own configuration file, read at start to check that a local clamd keeps the
    /// uploads it scans on a tmpfs (its `TemporaryDirectory`).
    pub clamd_config: PathBuf,
    /// How long clamd may take for its verdict once the last byte is sent.
    pub clamd_timeout_secs: u64,
    /// Look for personal data in uploads.
    pub dlp_scanning: bool,
    /// Default action on personal data; a portal can choose its own.
    pub dlp_action: DlpAction,
    /// The firm's own terms to look for (case-insensitive) and regular expressions.
    pub dlp_keywords: Vec<String>,
    pub dlp_patterns: Vec<String>,
    /// Accepted file types (by content); a portal can narrow or widen it.
    pub allowed_types: Vec<String>,
    pub archive_max_entries: u64,
    pub archive_max_expanded: ByteSize,
    pub archive_max_ratio: u64,
    pub archive_max_depth: u32,
    /// PDFs and Outlook messages are held for random access up to this size (in memory up to
    /// 256 KiB, beyond that in a sealed scratch file), at most `scan_buffered_at_once` read at a time.
    pub scan_max_buffered: ByteSize,
    pub scan_buffered_at_once: usize,
    /// The firm's own Cedar policies (`*.cedar`), added to the defaults at start.
    pub policy_dir: Option<PathBuf>,
    /// The office clock that `context.hour` and `context.weekday` of policies use, in minutes
    /// east of UTC (e.g. 60 for CET in winter).
    pub policy_utc_offset_minutes: i64,
    /// PDFs and images are stamped in memory for a share download up to this size, at most
    /// `watermark_at_once` at a time; larger ones are refused for sharing.
    pub watermark_max_size: ByteSize,
    pub watermark_at_once: usize,
    /// An upload body must bring at least this many bytes per second, averaged over each
    /// `upload_rate_window_secs` (a trickle would hold an inspection slot for ever).
    pub upload_min_rate: ByteSize,
    pub upload_rate_window_secs: u64,
    /// Uploads in flight at once through one portal link, and from one client address.
    pub uploads_per_link: usize,
    pub uploads_per_address: usize,
    /// How long a request waits for a busy resource (an inspection slot, a stamping permit, a
    /// password-hashing slot) before it is answered 503 with `Retry-After`.
    pub busy_wait_secs: u64,
    /// Open connections at once; more are closed at once (`LimitNOFILE` must be higher).
    pub max_connections: usize,
    /// Open connections at once from one client address (trusted proxies are not capped).
    pub connections_per_address: usize,
    /// A connection must send a request's headers within this time, and a response write
    /// that makes no progress for `write_stall_secs` ends the connection.
    pub header_read_timeout_secs: u64,
    pub write_stall_secs: u64,
    /// A form body (anything but an upload) must arrive in all within this.
    pub form_body_timeout_secs: u64,
    /// How long a document stays when neither its portal nor its matter says otherwise.
    pub retention: DurationSpec,
    /// How long a document stays once it is marked as filed in the firm's DMS.
    pub filed_grace: DurationSpec,
    /// How long the address of a client (portal upload, share download, link visitor) stays
    /// readable in the audit trail and the download records.
    pub client_ip_retention: DurationSpec,
    /// The age recipient (age1…) backups are encrypted to; its identity stays offline.
    pub backup_recipient: Option<String>,
    /// Mail relay, `smtp://host:port` (STARTTLS when offered) or `smtps://host:port`; user and
    /// password in the URL or in `smtp_username`/`smtp_password`. Unset: no mail.
    pub smtp_url: Option<String>,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    /// The sender of Courier's mails.
    pub mail_from: String,
    /// Who receives alerts by mail (the firm's security contact).
    pub alert_to: Vec<String>,
    /// The language alert mails are written in (`en` or `fr`).
    pub alert_language: String,
    /// Where webhooks are POSTed, and the file holding the secret that signs them.
    pub webhook_url: Option<String>,
    pub webhook_secret_file: Option<PathBuf>,
    /// One upload mail per portal per window: the first upload opens it.
    pub notify_batch: DurationSpec,
    /// The firm's time zone (IANA name) for office hours and the times in mails.
    pub timezone: String,
    /// When staff normally sign in, e.g. `Mon-Fri 07:00-20:00`; a sign-in outside raises
    /// `off_hours_sign_in`. Unset: no such alert.
    pub office_hours: Option<String>,
    /// `link_probing`: this many unknown-link answers to one address within the window.
    pub probe_alert_threshold: i64,
    pub probe_alert_window: DurationSpec,
    /// `bulk_download`: this many documents downloaded by one user or token within the window.
    pub bulk_download_threshold: i64,
    pub bulk_download_window: DurationSpec,
    /// How often the leader verifies the whole audit trail (`audit_broken` when it fails).
    pub audit_verify_interval: DurationSpec,
    /// A mail or webhook still failing after this long is given up (and shown as failed).
    pub outbox_give_up: DurationSpec,
    /// Serve Prometheus `/metrics` on this address (its own listener); unset: no metrics.
    pub metrics_bind: Option<SocketAddr>,
    /// `text` or `json` (one JSON object per line) on stderr.
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MalwareAction {
    Refuse,
    Quarantine,
}

/// What happens to an upload with personal data in it (defined with the domain's other words).
pub use courier_core::DlpAction;

impl Default for Config {
    fn default() -> Self {
        Self {
            explicit: Default::default(),
            data_dir: PathBuf::from("courier-data"),
            database_url: None,
            blob_store: None,
            s3_endpoint: None,
            s3_region: "us-east-1".to_owned(),
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_stale_upload_secs: 24 * 3600,
            s3_timeout_secs: 30,
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            firm_name: "Courier".to_owned(),
            firm_logo: None,
            brand_color: None,
            client_contact: None,
            tus_expiry: DurationSpec(std::time::Duration::from_secs(24 * 3600)),
            tus_unfinished_per_link: 20,
            master_key_file: None,
            audit_key_file: None,
            trusted_proxy: Vec::new(),
            tls_cert: None,
            tls_key: None,
            default_max_file_size: ByteSize::gib(2),
            max_files_per_upload: 20,
            session_idle_timeout_secs: 30 * 60,
            session_absolute_timeout_secs: 12 * 3600,
            single_session: true,
            invitation_ttl_secs: 72 * 3600,
            passwordless_passkeys: false,
            lockout_threshold: 10,
            lockout_window_secs: 15 * 60,
            lockout_secs: 15 * 60,
            login_delay_max_ms: 8000,
            rate_limit_per_minute: 120,
            portal_unlock_secs: 30 * 60,
            maintenance_interval_secs: 60,
            policy_dir: None,
            policy_utc_offset_minutes: 0,
            watermark_max_size: ByteSize::mib(32),
            watermark_at_once: 2,
            upload_min_rate: ByteSize::kib(1),
            upload_rate_window_secs: 30,
            uploads_per_link: 16,
            uploads_per_address: 16,
            busy_wait_secs: 20,
            max_connections: 1024,
            connections_per_address: 64,
            header_read_timeout_secs: 10,
            write_stall_secs: 60,
            form_body_timeout_secs: 20,
            retention: DurationSpec::from_secs(30 * 86_400),
            filed_grace: DurationSpec::from_secs(86_400),
            client_ip_retention: DurationSpec::from_secs(30 * 86_400),
            backup_recipient: None,
            smtp_url: None,
            smtp_username: None,
            smtp_password: None,
            mail_from: "courier@localhost".to_owned(),
            alert_to: Vec::new(),
            alert_language: "en".to_owned(),
            webhook_url: None,
            webhook_secret_file: None,
            notify_batch: DurationSpec::from_secs(5 * 60),
            timezone: "UTC".to_owned(),
            office_hours: None,
            probe_alert_threshold: 20,
            probe_alert_window: DurationSpec::from_secs(10 * 60),
            bulk_download_threshold: 50,
            bulk_download_window: DurationSpec::from_secs(10 * 60),
            audit_verify_interval: DurationSpec::from_secs(3600),
            outbox_give_up: DurationSpec::from_secs(3 * 86_400),
            metrics_bind: None,
            log_format: LogFormat::Text,
            clamd_addr: None,
            malware_scanning: None,
            malware_action: MalwareAction::Refuse,
            clamd_timeout_secs: 120,
            clamd_config: PathBuf::from("/etc/clamav/clamd.conf"),
            dlp_scanning: true,
            dlp_action: DlpAction::Flag,
            dlp_keywords: Vec::new(),
            dlp_patterns: Vec::new(),
            allowed_types: courier_scan::FileKind::ALL.iter().map(|k| k.name().to_owned()).collect(),
            archive_max_entries: 10_000,
            archive_max_expanded: ByteSize::gib(8),
            archive_max_ratio: 100,
            archive_max_depth: 3,
            scan_max_buffered: ByteSize::gib(2),
            scan_buffered_at_once: 4,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("config file {0}: {1}")]
    Parse(PathBuf, String),
    #[error("environment variable {0}: {1}")]
    Env(String, String),
    #[error("{0}")]
    Invalid(String),
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Everything but the S3 secret key, which must never reach a log.
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_ref().map(|_| "(set)"))
            .field("blob_store", &self.blob_store)
            .field("s3_endpoint", &self.s3_endpoint)
            .field("s3_region", &self.s3_region)
            .field("bind", &self.bind)
            .field("public_url", &self.public_url)
            .field("trusted_proxy", &self.trusted_proxy)
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key)
            .finish_non_exhaustive()
    }
}

/// How an environment variable's text becomes a setting's value.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// Taken as it is (paths, URLs, words; sizes like `100MiB`).
    Text,
    /// A whole number.
    Number,
    /// `on`/`off` (or `true`/`false`, `yes`/`no`, `1`/`0`).
    Switch,
    /// Comma-separated.
    List,
    /// One per line (regular expressions may hold commas).
    Lines,
    /// Text that may instead be read from the file named by `<VARIABLE>_FILE`.
    Secret,
}

/// Every setting, by its name in the TOML file. Its environment variable is `COURIER_` and the
/// name in capitals; a secret's may also be `…_FILE`. The loader, `docs/configuration.md`
/// (a test checks it names every variable) and the struct (a test checks every field is here)
/// read from this one table.
const SETTINGS: &[(&str, Kind)] = &[
    ("data_dir", Kind::Text),
    ("database_url", Kind::Secret),
    ("blob_store", Kind::Text),
    ("s3_endpoint", Kind::Text),
    ("s3_region", Kind::Text),
    ("s3_access_key_id", Kind::Secret),
    ("s3_secret_access_key", Kind::Secret),
    ("s3_stale_upload_secs", Kind::Number),
    ("s3_timeout_secs", Kind::Number),
    ("bind", Kind::Text),
    ("public_url", Kind::Text),
    ("firm_name", Kind::Text),
    ("firm_logo", Kind::Text),
    ("brand_color", Kind::Text),
    ("client_contact", Kind::Text),
    ("tus_expiry", Kind::Text),
    ("tus_unfinished_per_link", Kind::Number),
    ("master_key_file", Kind::Text),
    ("audit_key_file", Kind::Text),
    ("trusted_proxy", Kind::List),
    ("tls_cert", Kind::Text),
    ("tls_key", Kind::Text),
    ("default_max_file_size", Kind::Text),
    ("max_files_per_upload", Kind::Number),
    ("session_idle_timeout_secs", Kind::Number),
    ("session_absolute_timeout_secs", Kind::Number),
    ("single_session", Kind::Switch),
    ("passwordless_passkeys", Kind::Switch),
    ("invitation_ttl_secs", Kind::Number),
    ("lockout_threshold", Kind::Number),
    ("lockout_window_secs", Kind::Number),
    ("lockout_secs", Kind::Number),
    ("login_delay_max_ms", Kind::Number),
    ("rate_limit_per_minute", Kind::Number),
    ("portal_unlock_secs", Kind::Number),
    ("maintenance_interval_secs", Kind::Number),
    ("clamd_addr", Kind::Text),
    ("malware_scanning", Kind::Switch),
    ("malware_action", Kind::Text),
    ("clamd_config", Kind::Text),
    ("clamd_timeout_secs", Kind::Number),
    ("dlp_scanning", Kind::Switch),
    ("dlp_action", Kind::Text),
    ("dlp_keywords", Kind::List),
    ("dlp_patterns", Kind::Lines),
    ("allowed_types", Kind::List),
    ("archive_max_entries", Kind::Number),
    ("archive_max_expanded", Kind::Text),
    ("archive_max_ratio", Kind::Number),
    ("archive_max_depth", Kind::Number),
    ("scan_max_buffered", Kind::Text),
    ("scan_buffered_at_once", Kind::Number),
    ("policy_dir", Kind::Text),
    ("policy_utc_offset_minutes", Kind::Number),
    ("watermark_max_size", Kind::Text),
    ("watermark_at_once", Kind::Number),
    ("upload_min_rate", Kind::Text),
    ("upload_rate_window_secs", Kind::Number),
    ("uploads_per_link", Kind::Number),
    ("uploads_per_address", Kind::Number),
    ("busy_wait_secs", Kind::Number),
    ("max_connections", Kind::Number),
    ("connections_per_address", Kind::Number),
    ("header_read_timeout_secs", Kind::Number),
    ("write_stall_secs", Kind::Number),
    ("form_body_timeout_secs", Kind::Number),
    ("retention", Kind::Text),
    ("filed_grace", Kind::Text),
    ("client_ip_retention", Kind::Text),
    ("backup_recipient", Kind::Text),
    ("smtp_url", Kind::Secret),
    ("smtp_username", Kind::Secret),
    ("smtp_password", Kind::Secret),
    ("mail_from", Kind::Text),
    ("alert_to", Kind::List),
    ("alert_language", Kind::Text),
    // Secret: a receiver's URL may carry credentials (`https://user:pass@…`, `?token=…`).
    ("webhook_url", Kind::Secret),
    ("webhook_secret_file", Kind::Text),
    ("notify_batch", Kind::Text),
    ("timezone", Kind::Text),
    ("office_hours", Kind::Text),
    ("probe_alert_threshold", Kind::Number),
    ("probe_alert_window", Kind::Text),
    ("bulk_download_threshold", Kind::Number),
    ("bulk_download_window", Kind::Text),
    ("audit_verify_interval", Kind::Text),
    ("outbox_give_up", Kind::Text),
    ("metrics_bind", Kind::Text),
    ("log_format", Kind::Text),
];

/// A TOML error as line, column and message, never quoting the file: the line may hold a
/// secret (toml's own text shows the line, and a type error shows the value).
fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let at = e.span().map(|s| s.start).unwrap_or(0).min(text.len());
    let line = text[..at].matches('\n').count() + 1;
    let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    let line_text = text.lines().nth(line - 1).unwrap_or_default();
    let key = SETTINGS
        .iter()
        .filter(|(_, kind)| *kind == Kind::Secret)
        .map(|(name, _)| *name)
        .find(|name| line_text.trim_start().starts_with(name));
    format!("line {line}, column {column}: {}", redacted(e.message(), key))
}

/// `message`, or for a secret only that its value is not valid.
fn redacted(message: &str, secret: Option<&str>) -> String {
    match secret {
        Some(name) => format!("the value of {name} is not valid (not shown: it is a secret)"),
        // serde lists every setting after an unknown one; the list helps less than the docs.
        None => match message.strip_prefix("unknown field ").and_then(|m| m.split(", expected").next()) {
            Some(key) => format!("unknown setting {key} (docs/configuration.md lists every setting)"),
            None => message.to_owned(),
        },
    }
}

/// The secret setting an error message names, if any. An unknown key's message lists every
/// setting ("expected one of …"): it names none of them, and the unknown key is no secret.
fn secret_named_in(message: &str) -> Option<&'static str> {
    if message.starts_with("unknown field") {
        return None;
    }
    SETTINGS
        .iter()
        .filter(|(_, kind)| *kind == Kind::Secret)
        .map(|(name, _)| *name)
        .find(|name| message.contains(&format!("`{name}`")) || message.contains(name))
}

/// The variable of a setting.
pub fn env_name(setting: &str) -> String {
    format!("COURIER_{}", setting.to_ascii_uppercase())
}

/// Lays the `COURIER_*` variables over the file's table. An empty variable means "not set
/// here": the file's value, or else the default, holds.
fn apply_env(table: &mut toml::Table, vars: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
    for &(name, kind) in SETTINGS {
        let var = env_name(name);
        let raw = match (kind, vars(&format!("{var}_FILE"))) {
            (Kind::Secret, Some(_)) if vars(&var).is_some_and(|v| !v.trim().is_empty()) => {
                return Err(ConfigError::Env(var.clone(), format!("set {var} or {var}_FILE, not both")));
            }
            (Kind::Secret, Some(path)) => {
                let value = std::fs::read_to_string(&path)
                    .map(|s| s.trim_end_matches(['\r', '\n']).to_owned())
                    .map_err(|e| ConfigError::Env(format!("{var}_FILE"), format!("cannot read {path}: {e}")))?;
                // An empty secret file is a mistake (a mount that did not happen), not "unset".
                if value.trim().is_empty() {
                    return Err(ConfigError::Env(format!("{var}_FILE"), format!("{path} is empty")));
                }
                Some(value)
            }
            _ => vars(&var),
        };
        let Some(raw) = raw else { continue };
        if raw.trim().is_empty() {
            table.remove(name);
            continue;
        }
        let bad = |what: &str| ConfigError::Env(var.clone(), format!("{raw:?} is not {what}"));
        let value = match kind {
            Kind::Text | Kind::Secret => toml::Value::String(raw.clone()),
            Kind::Number => toml::Value::Integer(raw.trim().parse().map_err(|_| bad("a whole number"))?),
            Kind::Switch => toml::Value::Boolean(parse_switch(&raw).ok_or_else(|| bad("on or off"))?),
            Kind::List | Kind::Lines => {
                let separator = if kind == Kind::List { ',' } else { '\n' };
                let items = raw.split(separator).map(str::trim).filter(|s| !s.is_empty());
                toml::Value::Array(items.map(|s| toml::Value::String(s.to_owned())).collect())
            }
        };
        table.insert(name.to_owned(), value);
    }
    Ok(())
}

impl Config {
    /// Reads the optional TOML file, then lays the environment over it (`vars` is the process
    /// environment in production, a map in tests). A bad value names the file or the variable.
    pub fn load(file: Option<&Path>, vars: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.to_owned(), e))?;
                let bad = |e: toml::de::Error| ConfigError::Parse(path.to_owned(), describe_toml_error(&text, &e));
                let table: toml::Table = toml::from_str(&text).map_err(bad)?;
                // The file alone must be valid, so its mistakes are reported as the file's.
                Config::deserialize(toml::Value::Table(table.clone())).map_err(|e| {
                    let key = secret_named_in(&e.to_string());
                    ConfigError::Parse(path.to_owned(), redacted(e.message(), key))
                })?;
                table
            }
            None => toml::Table::new(),
        };
        apply_env(&mut table, &vars)?;
        let explicit = table.keys().cloned().collect();
        let mut cfg = Config::deserialize(toml::Value::Table(table)).map_err(|e| {
            // Only variables can be wrong here (the file was checked alone): name the one.
            let text = e.to_string();
            let setting = SETTINGS.iter().map(|(n, _)| *n).find(|n| text.contains(&format!("`{n}`")));
            match setting {
                Some(n) => ConfigError::Env(env_name(n), redacted(e.message(), secret_named_in(n))),
                None => ConfigError::Invalid(format!("a COURIER_* environment variable: {}", e.message())),
            }
        })?;
        cfg.allowed_kinds()?;
        if cfg.malware_scanning == Some(true) && cfg.clamd_addr.is_none() {
            return Err(ConfigError::Invalid(
                "malware_scanning is on but clamd_addr (COURIER_CLAMD_ADDR) is not set".into(),
            ));
        }
        if let Some(addr) = &cfg.clamd_addr {
            addr.parse::<courier_scan::clamd::ClamdAddr>().map_err(ConfigError::Invalid)?;
        }
        crate::services::watch::WatchSettings::check(&cfg).map_err(ConfigError::Invalid)?;
        cfg.explicit = explicit;
        Ok(cfg)
    }

    /// The allowlist as file kinds.
    pub fn allowed_kinds(&self) -> Result<Vec<courier_scan::FileKind>, ConfigError> {
        parse_kinds(&self.allowed_types).map_err(|e| ConfigError::Invalid(e.to_string()))
    }

    /// Where clamd listens, if malware scanning is on.
    pub fn clamd(&self) -> Option<courier_scan::clamd::ClamdAddr> {
        if self.malware_scanning == Some(false) {
            return None;
        }
        self.clamd_addr.as_deref().and_then(|a| a.parse().ok())
    }

    /// The S3 settings when `blob_store` names a bucket.
    pub fn s3_settings(&self) -> Result<Option<courier_store::blob::S3Settings>, ConfigError> {
        let Some(url) = self.blob_store.as_deref().filter(|u| u.starts_with("s3://")) else { return Ok(None) };
        self.s3_settings_for(url).map(Some)
    }

    /// S3 settings for `url` (`s3://bucket/prefix`) with this installation's endpoint and
    /// credentials (backups go to another bucket of the same service).
    pub fn s3_settings_for(&self, url: &str) -> Result<courier_store::blob::S3Settings, ConfigError> {
        let (bucket, prefix) = courier_store::blob::S3Settings::parse_url(url)
            .ok_or_else(|| ConfigError::Invalid(format!("{url:?} is not s3://bucket/prefix")))?;
        let need =
            |v: &Option<String>, name: &str| v.clone().ok_or_else(|| ConfigError::Invalid(format!("S3 needs {name}")));
        Ok(courier_store::blob::S3Settings {
            bucket,
            prefix,
            endpoint: self.s3_endpoint.clone(),
            region: self.s3_region.clone(),
            access_key_id: need(&self.s3_access_key_id, "s3_access_key_id (COURIER_S3_ACCESS_KEY_ID)")?,
            secret_access_key: need(&self.s3_secret_access_key, "s3_secret_access_key (COURIER_S3_SECRET_ACCESS_KEY)")?,
            stale_upload_after: Duration::from_secs(self.s3_stale_upload_secs),
            timeout: match self.s3_timeout_secs {
                0 => return Err(ConfigError::Invalid("s3_timeout_secs must be at least 1".into())),
                secs => Duration::from_secs(secs),
            },
        })
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            let path = std::path::absolute(self.data_dir.join("courier.db"))
                .unwrap_or_else(|_| self.data_dir.join("courier.db"));
            format!("sqlite://{}?mode=rwc", path.display())
        })
    }

    pub fn public_url(&self) -> String {
        let scheme = if self.tls() { "https" } else { "http" };
        let url = self.public_url.clone().unwrap_or_else(|| format!("{scheme}://{}", self.bind));
        url.trim_end_matches('/').to_owned()
    }

    pub fn master_key_path(&self) -> PathBuf {
        self.master_key_file.clone().unwrap_or_else(|| self.data_dir.join("keys").join("master.key"))
    }

    pub fn audit_key_path(&self) -> PathBuf {
        self.audit_key_file.clone().unwrap_or_else(|| self.data_dir.join("keys").join("audit.key"))
    }

    pub fn session_idle_timeout(&self) -> Duration {
        Duration::from_secs(self.session_idle_timeout_secs)
    }

    pub fn session_absolute_timeout(&self) -> Duration {
        Duration::from_secs(self.session_absolute_timeout_secs)
    }

    /// Plain HTTP is allowed only on loopback, unless a trusted reverse proxy terminates TLS.
    pub fn check_transport(&self) -> Result<(), String> {
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err("TLS needs both tls_cert and tls_key (COURIER_TLS_CERT, COURIER_TLS_KEY)".into());
        }
        if self.tls() || self.bind.ip().is_loopback() || !self.trusted_proxy.is_empty() {
            return Ok(());
        }
        Err(format!(
            "refusing to serve plain HTTP on {}: set tls_cert and tls_key (COURIER_TLS_CERT, \
             COURIER_TLS_KEY), bind a loopback address, or put Courier behind a TLS-terminating \
             reverse proxy and name it in `trusted_proxy` (COURIER_TRUSTED_PROXY)",
            self.bind
        ))
    }

    /// Every setting as JSON, each secret replaced by `"(set)"` (the forensic bundle).
    pub fn without_secrets(&self) -> serde_json::Value {
        let mut all = serde_json::to_value(self).unwrap_or_default();
        if let Some(map) = all.as_object_mut() {
            for (name, kind) in SETTINGS {
                if *kind == Kind::Secret && map.get(*name).is_some_and(|v| !v.is_null()) {
                    map.insert((*name).to_owned(), serde_json::Value::from("(set)"));
                }
            }
        }
        all
    }

    /// Whether `serve` terminates TLS itself.
    pub fn tls(&self) -> bool {
        self.tls_cert.is_some() && self.tls_key.is_some()
    }
}

fn parse_switch(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Some(true),
        "off" | "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// `pdf, docx` to file kinds; an empty list means the firm's list.
pub fn parse_type_list(list: &str) -> Result<Option<Vec<courier_scan::FileKind>>, crate::error::Reason> {
    let names: Vec<String> =
        list.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
    if names.is_empty() {
        return Ok(None);
    }
    parse_kinds(&names).map(Some)
}

/// File type names (`pdf`, `docx`, … as in [`courier_scan::FileKind`]) to kinds.
pub fn parse_kinds(names: &[String]) -> Result<Vec<courier_scan::FileKind>, crate::error::Reason> {
    use crate::error::{Reason, Said, SaidArg};
    let mut kinds = Vec::new();
    for n in names {
        let k = courier_scan::FileKind::parse(n).ok_or_else(|| {
            let known: Vec<_> = courier_scan::FileKind::ALL.iter().map(|k| k.name()).collect();
            let known = known.join(", ");
            let said = Said::new("staff-refused-unknown-type")
                .with("name", SaidArg::Text(n.clone()))
                .with("known", SaidArg::Text(known.clone()));
            Reason::said(format!("unknown file type {n:?} (known: {known})"), said)
        })?;
        if !kinds.contains(&k) {
            kinds.push(k);
        }
    }
    if kinds.is_empty() {
        return Err(Reason::said("the list of allowed file types is empty", Said::new("staff-refused-no-type")));
    }
    Ok(kinds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_setting_is_named_and_no_secret_is_blamed() {
        let dir = tempfile_dir();
        let file = dir.join("typo.toml");
        std::fs::write(&file, "smtp_pasword = \"hunter2-secret\"\n").unwrap();
        let e = Config::load(Some(&file), |_| None).err().unwrap().to_string();
        assert!(e.contains("unknown setting `smtp_pasword`") && !e.contains("database_url"), "{e}");
        assert!(!e.contains("hunter2-secret"), "{e}");
    }

    #[test]
    fn env_overrides_file_and_defaults_are_secure() {
        let dir = tempfile_dir();
        let file = dir.join("courier.toml");
        std::fs::write(
            &file,
            "firm_name = \"Dewey & Partners\"\nbind = \"0.0.0.0:9000\"\ndefault_max_file_size = \"500MiB\"\n",
        )
        .unwrap();
        let cfg = Config::load(Some(&file), |k| (k == "COURIER_BIND").then(|| "127.0.0.1:9999".to_owned())).unwrap();
        assert_eq!(cfg.firm_name, "Dewey & Partners");
        assert_eq!(cfg.default_max_file_size, ByteSize::mib(500));
        assert_eq!(cfg.bind.port(), 9999);
        assert_eq!(cfg.public_url(), "http://127.0.0.1:9999");
        assert!(cfg.check_transport().is_ok());

        let exposed = Config::load(Some(&file), |_| None).unwrap();
        assert!(exposed.check_transport().unwrap_err().contains("trusted_proxy"));
        let half = Config::load(Some(&file), |k| (k == "COURIER_TLS_CERT").then(|| "/c.pem".to_owned())).unwrap();
        assert!(half.check_transport().unwrap_err().contains("both"));
        let tls = Config::load(Some(&file), |k| k.starts_with("COURIER_TLS_").then(|| "/x.pem".to_owned())).unwrap();
        assert!(tls.check_transport().is_ok());
        assert_eq!(tls.public_url(), "https://0.0.0.0:9000");
        let dir2 = dir.join("secret");
        std::fs::write(&dir2, "s3cr3t\n").unwrap();
        let secret_path = dir2.display().to_string();
        let s3 = Config::load(None, |k| match k {
            "COURIER_BLOB_STORE" => Some("s3://courier/blobs".into()),
            "COURIER_S3_ACCESS_KEY_ID" => Some("GK123".into()),
            "COURIER_S3_SECRET_ACCESS_KEY_FILE" => Some(secret_path.clone()),
            _ => None,
        })
        .unwrap();
        let settings = s3.s3_settings().unwrap().unwrap();
        assert_eq!((settings.bucket.as_str(), settings.prefix.as_str()), ("courier", "blobs"));
        assert_eq!(settings.secret_access_key, "s3cr3t");
        assert!(!format!("{s3:?} {settings:?}").contains("s3cr3t"));
        assert_eq!(settings.timeout, Duration::from_secs(30));
        let no_wait = Config { s3_timeout_secs: 0, ..s3.clone() };
        assert!(no_wait.s3_settings().unwrap_err().to_string().contains("s3_timeout_secs"), "a zero timeout");
        let no_secret = Config::load(None, |k| (k == "COURIER_BLOB_STORE").then(|| "s3://courier".into())).unwrap();
        assert!(no_secret.s3_settings().is_err());

        std::fs::write(&file, "no_such_setting = 1\n").unwrap();
        assert!(matches!(Config::load(Some(&file), |_| None), Err(ConfigError::Parse(..))));

        // A file's mistake never quotes a secret: not the line, not the value.
        for text in [
            "s3_secret_access_key = Sup3rS3cret\n",
            "s3_secret_access_key = 12345678901234\n",
            "database_url = 42424242\n",
        ] {
            std::fs::write(&file, text).unwrap();
            let err = Config::load(Some(&file), |_| None).unwrap_err().to_string();
            assert!(
                !err.contains("Sup3rS3cret") && !err.contains("12345678901234") && !err.contains("42424242"),
                "{err}"
            );
            assert!(err.contains("line 1") || err.contains("not shown: it is a secret"), "{err}");
        }
    }

    #[test]
    fn every_setting_has_a_variable_that_works() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
        };
        let cfg = Config::load(
            None,
            env(&[
                ("COURIER_RATE_LIMIT_PER_MINUTE", "600"),
                ("COURIER_SINGLE_SESSION", "on"),
                ("COURIER_DEFAULT_MAX_FILE_SIZE", "2GiB"),
                ("COURIER_DLP_KEYWORDS", "Project Falcon, Hawk"),
                ("COURIER_DLP_PATTERNS", "AB-[0-9]{3,5}\nCD,EF"),
                ("COURIER_POLICY_UTC_OFFSET_MINUTES", "-300"),
                ("COURIER_UPLOAD_MIN_RATE", "1KiB"),
                ("COURIER_WATERMARK_AT_ONCE", "3"),
                ("COURIER_CLAMD_ADDR", ""),
            ]),
        )
        .unwrap();
        assert_eq!(cfg.rate_limit_per_minute, 600);
        assert!(cfg.single_session);
        assert_eq!(cfg.default_max_file_size, ByteSize::gib(2));
        assert_eq!(cfg.dlp_keywords, ["Project Falcon", "Hawk"]);
        assert_eq!(cfg.dlp_patterns, ["AB-[0-9]{3,5}", "CD,EF"]);
        assert_eq!(cfg.policy_utc_offset_minutes, -300);
        assert_eq!(cfg.upload_min_rate, ByteSize::kib(1));
        assert_eq!(cfg.watermark_at_once, 3);
        assert!(cfg.clamd_addr.is_none(), "an empty variable means the default");

        let err = Config::load(None, env(&[("COURIER_LOCKOUT_SECS", "ten")])).unwrap_err().to_string();
        assert!(err.contains("COURIER_LOCKOUT_SECS") && err.contains("whole number"), "{err}");
        let err = Config::load(None, env(&[("COURIER_BIND", "everywhere")])).unwrap_err().to_string();
        assert!(err.contains("COURIER_BIND"), "{err}");
        let err = Config::load(None, env(&[("COURIER_DATABASE_URL_FILE", "/nonexistent/db-url")])).unwrap_err();
        assert!(err.to_string().contains("COURIER_DATABASE_URL"), "{err}");
        // An empty secret file is a mount that did not happen, not "use the local default".
        let empty = tempfile_dir().join("empty-secret");
        std::fs::write(&empty, "\n").unwrap();
        let path = empty.display().to_string();
        let err = Config::load(None, |k| (k == "COURIER_DATABASE_URL_FILE").then(|| path.clone())).unwrap_err();
        assert!(err.to_string().contains("is empty"), "{err}");
        let both = Config::load(None, |k| match k {
            "COURIER_DATABASE_URL_FILE" => Some(path.clone()),
            "COURIER_DATABASE_URL" => Some("postgres://x".into()),
            _ => None,
        })
        .unwrap_err();
        assert!(both.to_string().contains("not both"), "{both}");
    }

    /// The settings table, the struct and the documentation name the same settings.
    #[test]
    fn the_settings_table_covers_every_field_and_the_docs_every_variable() {
        let source = include_str!("config.rs");
        let body = &source[source.find("pub struct Config {").unwrap()..];
        let body = &body[..body.find("\n}\n").unwrap()];
        // `explicit` records which settings were given; it is not one.
        let fields: Vec<&str> = body
            .lines()
            .filter_map(|l| l.strip_prefix("    pub ")?.split(':').next())
            .filter(|f| *f != "explicit")
            .collect();
        let table: Vec<&str> = SETTINGS.iter().map(|(n, _)| *n).collect();
        assert_eq!(fields, table, "Config's fields and SETTINGS differ (same order)");
        let docs = include_str!("../../../docs/configuration.md");
        for (name, kind) in SETTINGS {
            let var = env_name(name);
            assert!(docs.contains(&format!("`{var}`")), "docs/configuration.md does not name {var}");
            if *kind == Kind::Secret {
                assert!(docs.contains(&format!("`{var}_FILE`")), "docs/configuration.md does not name {var}_FILE");
            }
        }
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("courier-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
