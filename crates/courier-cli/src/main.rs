//! The `courier` binary: argument parsing and wiring. Commands act on the data directory as
//! the local operator (actor `cli:<os user>`); `serve` runs the web application.

mod backup;
mod clamd_disk;
mod commands;
mod lifecycle;
mod listener;
mod matters;
mod serve;
mod users;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "courier", version, about = "Secure document portal for law firms")]
struct Cli {
    /// Data directory (database, keys, encrypted blobs, audit head log).
    #[arg(long, global = true, env = "COURIER_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// TOML configuration file; COURIER_* environment variables override it.
    #[arg(long, global = true, env = "COURIER_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create an installation (data directory, database, master and audit keys) without
    /// serving; every other command also creates one where none exists, and says so.
    Init {
        #[command(flatten)]
        json: Json,
    },
    /// Run the web application.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long, env = "COURIER_BIND")]
        bind: Option<std::net::SocketAddr>,
    },
    /// Staff accounts.
    #[command(subcommand)]
    User(users::UserCommand),
    /// Personal API tokens for /api/v1.
    #[command(subcommand)]
    Token(users::TokenCommand),
    /// Inbound collection portals.
    #[command(subcommand)]
    Portal(PortalCommand),
    /// Documents.
    #[command(subcommand)]
    Doc(DocCommand),
    /// The tamper-evident audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Matters (case folders), their members, archive and break glass.
    #[command(subcommand)]
    Matter(MatterCommand),
    /// Outbound shares: documents offered to a named recipient through a link.
    #[command(subcommand)]
    Share(ShareCommand),
    /// The authorization policies (Cedar).
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Periodic access review.
    #[command(subcommand)]
    Access(AccessCommand),
    /// Master key versions: rotate, re-wrap, retire.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Background upkeep (the same as `upkeep`).
    #[command(subcommand)]
    Maintenance(MaintenanceCommand),
    /// Background upkeep: expiries, retention and filing grace, address redaction, sweeps.
    #[command(subcommand)]
    Upkeep(MaintenanceCommand),
    /// Legal holds: documents under a hold are never shredded until it is released.
    #[command(subcommand)]
    Hold(lifecycle::HoldCommand),
    /// Certificates of deletion.
    #[command(subcommand)]
    Certificate(lifecycle::CertificateCommand),
    /// Encrypted backups: keys, create, list, verify, restore, drill.
    #[command(subcommand)]
    Backup(backup::BackupCommand),
    /// Incident response: close every link, end every session, refuse API tokens.
    #[command(subcommand)]
    Lockdown(watch::LockdownCommand),
    /// Incident response: the forensic bundle.
    #[command(subcommand)]
    Incident(watch::IncidentCommand),
}

#[derive(Subcommand)]
enum MaintenanceCommand {
    /// Run one round now (expiry records, retention and filing grace, client address
    /// redaction, stale uploads, orphan blobs, sessions); the server does this every
    /// `maintenance_interval_secs` by itself.
    Run {
        #[command(flatten)]
        json: Json,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Master key versions and how many wrapped keys use each.
    Status {
        #[command(flatten)]
        json: Json,
    },
    /// Add the next version (or use `master.key.vN` already placed on every instance) and
    /// re-wrap every data key under it.
    Rotate {
        #[command(flatten)]
        json: Json,
    },
    /// Re-wrap whatever is not yet under the current version (e.g. keys an instance wrapped
    /// before it loaded the new version).
    Rewrap {
        #[command(flatten)]
        json: Json,
    },
    /// Erase an old version once nothing uses it.
    Retire {
        /// The master key version to erase.
        #[arg(long)]
        version: u32,
        #[command(flatten)]
        json: Json,
    },
}

#[derive(Args, Clone, Copy)]
pub(crate) struct Json {
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Subcommand)]
pub(crate) enum MatterCommand {
    /// Create a matter (case folder).
    Create {
        /// A name to recognise it by.
        #[arg(long)]
        name: String,
        /// The department attribute-based policies see (empty: none).
        #[arg(long)]
        department: Option<String>,
        /// normal (default), confidential or restricted (members only).
        #[arg(long, value_parser = ["normal", "confidential", "restricted"])]
        sensitivity: Option<String>,
        /// How long its documents stay unless their portal says otherwise, e.g. 90d
        /// (default: the firm's `retention`).
        #[arg(long)]
        retention: Option<String>,
        #[command(flatten)]
        json: Json,
    },
    /// Set a matter's own retention, or hand it back to the firm's (--inherit).
    SetRetention {
        /// The matter, by id or name.
        matter: String,
        /// e.g. 90d, 12h, 30s
        #[arg(long, required_unless_present = "inherit", conflicts_with = "inherit")]
        retention: Option<String>,
        /// Use the firm's retention again.
        #[arg(long)]
        inherit: bool,
        #[command(flatten)]
        json: Json,
    },
    /// Add a member to a matter, or change their role on it.
    AddMember {
        /// The matter, by id or name.
        matter: String,
        /// The member's e-mail address.
        #[arg(long)]
        user: String,
        /// attorney or paralegal on this matter.
        #[arg(long, value_parser = ["attorney", "paralegal"])]
        role: String,
        #[command(flatten)]
        json: Json,
    },
    /// Take a member off a matter.
    RemoveMember {
        /// The matter, by id or name.
        matter: String,
        /// The member's e-mail address.
        #[arg(long)]
        user: String,
        #[command(flatten)]
        json: Json,
    },
    /// Every matter with its members.
    List {
        #[command(flatten)]
        json: Json,
    },
    /// One matter with its members.
    Show {
        /// The matter, by id or name.
        matter: String,
        #[command(flatten)]
        json: Json,
    },
    /// Archive a matter: its portals and shares close.
    Archive {
        /// The matter, by id or name.
        matter: String,
        #[command(flatten)]
        json: Json,
    },
    /// Open an archived matter again.
    Unarchive {
        /// The matter, by id or name.
        matter: String,
        #[command(flatten)]
        json: Json,
    },
}

#[derive(Subcommand)]
pub(crate) enum ShareCommand {
    /// Share documents of a matter with a recipient; prints the link once.
    Create {
        /// The matter, by id or name.
        #[arg(long)]
        matter: String,
        /// A document id to share (repeat for several).
        #[arg(long = "doc", required = true)]
        docs: Vec<String>,
        /// Who the link is for (shown on the page and stamped on each watermarked copy).
        #[arg(long)]
        recipient: String,
        /// How long the link works, e.g. 7d or 12h (default: no expiry).
        #[arg(long)]
        expires_in: Option<String>,
        /// Downloads allowed per document (default: unlimited).
        #[arg(long)]
        max_downloads: Option<i64>,
        /// Read a passcode from the first line of standard input.
        #[arg(long)]
        passcode_stdin: bool,
        /// Share documents in which personal data was found (refused otherwise).
        #[arg(long)]
        allow_findings: bool,
        #[command(flatten)]
        json: Json,
    },
    /// Shares with their status and downloads.
    List {
        /// The matter, by id or name.
        #[arg(long)]
        matter: Option<String>,
        #[command(flatten)]
        json: Json,
    },
    /// One share: its documents, downloads and status.
    Show {
        /// The id (as `list` prints it).
        id: String,
        #[command(flatten)]
        json: Json,
    },
    /// Revoke a share; its link stops working at once.
    Revoke {
        /// The id (as `list` prints it).
        id: String,
        #[command(flatten)]
        json: Json,
    },
}

#[derive(Subcommand)]
pub(crate) enum PolicyCommand {
    /// Explains one decision offline: allowed or denied, and by which policy.
    Check {
        /// A staff member's email.
        #[arg(long)]
        principal: String,
        /// e.g. document.download
        #[arg(long)]
        action: String,
        /// firm, matter:ID|NAME, document:ID, portal:ID or share:ID
        #[arg(long)]
        resource: String,
        /// The request's source address (default 127.0.0.1).
        #[arg(long)]
        ip: Option<std::net::IpAddr>,
        /// The request's time, RFC 3339 (default now).
        #[arg(long)]
        at: Option<String>,
        #[command(flatten)]
        json: Json,
    },
    /// Loads and validates the policies; lists their ids.
    Validate {
        #[command(flatten)]
        json: Json,
    },
}

#[derive(Subcommand)]
pub(crate) enum AccessCommand {
    /// Who can reach what, with flags for a reviewer.
    Review {
        #[command(flatten)]
        json: Json,
    },
    /// Records that a matter's access was reviewed.
    Record {
        /// The matter, by id or name.
        #[arg(long)]
        matter: String,
        /// Who was taken off, for the record.
        #[arg(long, default_value = "")]
        removed: String,
        /// What was checked, for the record.
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        json: Json,
    },
}

#[derive(Subcommand)]
enum PortalCommand {
    /// Open a portal; prints its link once.
    Create {
        /// What the client sees at the top of the page (e.g. the case and what to send).
        #[arg(long)]
        label: String,
        /// The matter, by id or name.
        #[arg(long)]
        matter: Option<String>,
        /// e.g. 30m, 12h, 7d
        #[arg(long, conflicts_with = "expires_at")]
        expires_in: Option<String>,
        /// RFC 3339 time
        #[arg(long)]
        expires_at: Option<String>,
        /// Read a passcode from the first line of standard input.
        #[arg(long)]
        passcode_stdin: bool,
        /// e.g. 100MiB (default 2GiB)
        #[arg(long)]
        max_file_size: Option<String>,
        /// Accepted file types, e.g. pdf,docx,xlsx (default: the firm's `allowed_types`).
        #[arg(long)]
        allow_types: Option<String>,
        /// What to do with a file carrying personal data: flag, quarantine or block
        /// (default: the firm's `dlp_action`).
        #[arg(long)]
        dlp_action: Option<String>,
        /// How long its documents stay before they are shredded, e.g. 30d, 12h, 30s
        /// (default: the matter's, else the firm's `retention`).
        #[arg(long)]
        retention: Option<String>,
        /// The staff member told about uploads (one mail per portal per `notify_batch`).
        #[arg(long)]
        owner: Option<String>,
        /// Do not tell the owner about uploads.
        #[arg(long)]
        no_notify: bool,
        /// The language of the client's page: en or fr (default: the client's browser).
        #[arg(long)]
        language: Option<String>,
        #[command(flatten)]
        json: Json,
    },
    /// Switch upload notifications for the portal's owner on or off.
    Notify {
        /// The id (as `list` prints it).
        id: String,
        /// `on` to mail the owner about uploads, `off` to stop.
        #[arg(value_parser = ["on", "off"])]
        state: String,
        #[command(flatten)]
        json: Json,
    },
    /// Set a portal's own retention, or hand it back to its matter's (--inherit).
    SetRetention {
        /// The id (as `list` prints it).
        id: String,
        /// e.g. 30d, 12h, 30s
        #[arg(long, required_unless_present = "inherit", conflicts_with = "inherit")]
        retention: Option<String>,
        /// Use the matter's (or the firm's) retention again.
        #[arg(long)]
        inherit: bool,
        #[command(flatten)]
        json: Json,
    },
    /// Every portal with its status and document count.
    List {
        #[command(flatten)]
        json: Json,
    },
    /// One portal: status, expiry, limits, documents.
    Show {
        /// The id (as `list` prints it).
        id: String,
        #[command(flatten)]
        json: Json,
    },
    /// Close the portal's link (enable opens it again).
    Disable {
        /// The id (as `list` prints it).
        id: String,
        #[command(flatten)]
        json: Json,
    },
    /// Open a disabled portal's link again.
    Enable {
        /// The id (as `list` prints it).
        id: String,
        #[command(flatten)]
        json: Json,
    },
    /// Lift the lock that too many wrong passcodes put on the portal's link.
    UnlockPasscode {
        /// The id (as `list` prints it).
        id: String,
        #[command(flatten)]
        json: Json,
    },
    /// Issue a fresh link; the old one stops working.
    NewLink {
        /// The id (as `list` prints it).
        id: String,
        #[command(flatten)]
        json: Json,
    },
    /// Delete the portal and shred its documents.
    Delete {
        /// The id (as `list` prints it).
        id: String,
        #[command(flatten)]
        json: Json,
    },
}

#[derive(Subcommand)]
enum DocCommand {
    /// A staff document uploaded to a matter (e.g. to share), scanned and encrypted.
    Upload {
        /// The matter, by id or name.
        #[arg(long)]
        matter: String,
        /// The file to upload.
        file: PathBuf,
        #[command(flatten)]
        json: Json,
    },
    /// Documents with their scan results (live ones unless --include-deleted).
    List {
        /// Only this portal's documents (by id).
        #[arg(long)]
        portal: Option<String>,
        /// The matter, by id or name.
        #[arg(long, conflicts_with = "portal")]
        matter: Option<String>,
        /// Also list shredded documents (with deleted_at).
        #[arg(long)]
        include_deleted: bool,
        /// Only one page of this many documents (1 to 1000); the cursor of the next page is
        /// printed on standard error. Without it (and without --after) every page is listed.
        #[arg(long)]
        limit: Option<u32>,
        /// Start after this cursor (as a previous page printed it).
        #[arg(long)]
        after: Option<String>,
        #[command(flatten)]
        json: Json,
    },
    /// Decrypt a document to FILE (`-` for standard output).
    Get {
        /// The document's id.
        id: String,
        /// Where to write the plaintext (mode 0600); `-` writes to standard output.
        #[arg(long, short)]
        output: PathBuf,
        /// Replace FILE if it exists (without it, an existing file is never overwritten).
        #[arg(long)]
        force: bool,
    },
    /// Shred a document.
    Delete {
        /// The id (as `list` prints it).
        id: String,
        #[command(flatten)]
        json: Json,
    },
    /// Mark documents as filed in the firm's DMS: they are shredded once `filed_grace` has
    /// passed (unless a legal hold keeps them).
    Filed {
        /// The documents' ids.
        #[arg(required = true)]
        ids: Vec<String>,
        /// The DMS reference (e.g. the document number in the DMS).
        #[arg(long)]
        reference: Option<String>,
        #[command(flatten)]
        json: Json,
    },
    /// A shredded document's certificate of deletion (signed JSON).
    Certificate {
        /// The document's id.
        id: String,
        /// Write it to FILE (never over an existing file) instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Release a document held in quarantine (personal data) or found infected.
    Release {
        /// The id (as `list` prints it).
        id: String,
        /// Why it may be downloaded (kept in the audit trail).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        json: Json,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the chain, the signed head and heads.log; exit status 1 on the first broken link.
    Verify {
        #[command(flatten)]
        json: Json,
    },
    /// After restoring a database older than audit/heads.log, or once a deleted or damaged
    /// heads.log has been looked into: keep the old log aside (heads.log.replaced-<ms>) and
    /// start a new one at the database's signed head. The database's own chain must verify;
    /// the restart is audited with the reason and what the old log held.
    RestartLog {
        /// Why (e.g. "restored the 02:00 database backup after disk failure").
        #[arg(long)]
        reason: String,
        /// How many logged events the restore lost (the command says the number if wrong).
        #[arg(long, default_value_t = 0)]
        accept_lost_events: i64,
        #[command(flatten)]
        json: Json,
    },
    /// Print the audit key's Ed25519 public key (hex), to publish for offline checks of
    /// certificates of deletion.
    PublicKey {
        #[command(flatten)]
        json: Json,
    },
    /// Print the keyed hash an event's `ip_hmac` holds for ADDRESS, to confirm a suspected
    /// client address against the trail (the trail itself cannot be searched for addresses).
    AddressHash {
        /// The address, e.g. 203.0.113.7
        address: std::net::IpAddr,
    },
    /// Print events as JSON Lines.
    Export {
        /// Only events at or after this RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
        #[command(flatten)]
        json: Json,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("courier: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            fatal(&format!("courier: {e:#}"));
            ExitCode::FAILURE
        }
    }
}

/// The error that ends the process, on stderr: one JSON object when the logs are JSON (also
/// when the configuration that says so could not be read, from its variable), else text.
fn fatal(message: &str) {
    let json = commands::JSON_LOGS.load(std::sync::atomic::Ordering::Relaxed)
        || std::env::var("COURIER_LOG_FORMAT").is_ok_and(|f| f.trim() == "json");
    if json {
        let now = time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339);
        let line = serde_json::json!({ "timestamp": now.unwrap_or_default(), "level": "ERROR",
            "fields": { "message": message }, "target": "courier" });
        eprintln!("{line}");
    } else {
        eprintln!("{message}");
    }
}

#[cfg(test)]
mod help_tests {
    use clap::CommandFactory;

    /// Every command and every flag explains itself in `--help`.
    #[test]
    fn every_command_and_flag_has_help_text() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", cmd.get_name());
            if cmd.get_about().is_none() {
                missing.push(format!("{path}: no about"));
            }
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if !matches!(id, "help" | "version") && arg.get_help().is_none() {
                    missing.push(format!("{path} --{id}: no help"));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &path, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "{} without help text:\n{}", missing.len(), missing.join("\n"));
    }
}
