//! `courier backup …`: keys, creating, listing, checking, restoring and drilling backups
//! (`docs/backups.md`). Only `create` opens the installation; the others work on files (and
//! `restore` on the empty installation it fills).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use courier_server::Config;
use courier_server::backup::{self, BackupFile, Journal, Location};
use courier_server::services::handles::Acting;
use serde_json::json;

use crate::Json;
use crate::commands::{print_json, service};

#[derive(Subcommand)]
pub(crate) enum BackupCommand {
    /// Make an age identity for backups (on an offline machine; keep it in the safe) and
    /// print its recipient (age1…), which goes into the setting `backup_recipient`.
    Keygen {
        /// Where to write the identity (never over an existing file; mode 0600).
        #[arg(long)]
        output: PathBuf,
        #[command(flatten)]
        json: Json,
    },
    /// Write a backup of this installation, while it serves, into a directory.
    Create {
        /// A directory (it must exist, e.g. a mounted NAS) or s3://bucket/prefix.
        #[arg(long)]
        to: String,
        /// The age recipient (age1…); default: the setting `backup_recipient`.
        #[arg(long)]
        recipient: Option<String>,
        #[command(flatten)]
        json: Json,
    },
    /// The backups in a directory, newest first.
    List {
        /// The directory or s3://bucket/prefix backups are written to.
        #[arg(long)]
        from: String,
        #[command(flatten)]
        json: Json,
    },
    /// Check a backup by restoring it into a temporary installation: exit 0 only when it
    /// restores completely (every part, every document's SHA-256, the audit chain).
    Verify {
        /// The backup file (a path, or s3://bucket/prefix/name).
        file: String,
        #[command(flatten)]
        opening: Opening,
        #[command(flatten)]
        json: Json,
    },
    /// Restore a backup into the installation named by --data-dir / the configuration, which
    /// must be empty; every document in the deletion journal is shredded again first.
    Restore {
        /// The backup file (a path, or s3://bucket/prefix/name).
        file: String,
        #[command(flatten)]
        opening: Opening,
        /// The old installation's deletion journal: its audit/shreds.log, or the
        /// s3://bucket/prefix of its blob store (whose deletion-journal/ objects are used).
        #[arg(long, required_unless_present = "no_journal", conflicts_with = "no_journal")]
        journal: Option<String>,
        /// Restore without a deletion journal (documents shredded after the backup come back).
        #[arg(long)]
        no_journal: bool,
        #[command(flatten)]
        json: Json,
    },
    /// Restore the newest backup of a directory into a temporary installation, check every
    /// document and the audit chain, delete it, and report (exit non-zero unless ok).
    Drill {
        /// The directory or s3://bucket/prefix backups are written to.
        #[arg(long)]
        from: String,
        #[command(flatten)]
        opening: Opening,
        #[command(flatten)]
        json: Json,
    },
}

/// What opens a backup: the offline identity, and the key its manifest must be signed with.
#[derive(Args)]
pub(crate) struct Opening {
    /// The age identity file (from `backup keygen`).
    #[arg(long)]
    identity: PathBuf,
    /// The audit public key the firm published (`audit public-key`), or a file holding it: a
    /// backup signed by another key is refused.
    #[arg(long)]
    public_key: Option<String>,
}

impl Opening {
    fn identity(&self) -> Result<backup::Identity> {
        backup::read_identity(&self.identity).map_err(|e| anyhow::anyhow!("{}", e.public_message()))
    }

    /// The published audit key, if one was given (hex, or a file holding it).
    fn pinned(&self) -> Option<String> {
        self.public_key.as_deref().map(crate::lifecycle::key_arg)
    }
}

/// The commands that do not open the installation; `None` for `create`.
pub(crate) async fn offline(config: &Config, cmd: &BackupCommand) -> Option<Result<ExitCode>> {
    let public = |e: courier_server::Error| anyhow::anyhow!("{}", e.public_message());
    Some(match cmd {
        BackupCommand::Keygen { output, json } => keygen(output, json.json),
        BackupCommand::List { from, json } => match Location::parse(config, from) {
            Ok(location) => list(&location, json.json).await,
            Err(e) => Err(public(e)),
        },
        BackupCommand::Verify { file, opening, json } => match BackupFile::parse(config, file) {
            Ok(file) => drill_file(&file, opening, json.json).await,
            Err(e) => Err(public(e)),
        },
        BackupCommand::Drill { from, opening, json } => match newest(config, from).await {
            Ok(file) => drill_file(&file, opening, json.json).await,
            Err(e) => Err(public(e)),
        },
        BackupCommand::Restore { file, opening, journal, no_journal: _, json } => {
            match BackupFile::parse(config, file) {
                Ok(file) => restore(config, &file, opening, journal.clone(), json.json).await,
                Err(e) => Err(public(e)),
            }
        }
        BackupCommand::Create { .. } => return None,
    })
}

/// The newest backup of a location.
async fn newest(config: &Config, from: &str) -> courier_server::Result<BackupFile> {
    let location = Location::parse(config, from)?;
    let name = location
        .list()
        .await?
        .into_iter()
        .next()
        .map(|(name, _)| name)
        .ok_or_else(|| courier_server::Error::BadRequest(format!("no backup in {from}").into()))?;
    Ok(BackupFile { location, name })
}

fn keygen(output: &Path, as_json: bool) -> Result<ExitCode> {
    let (text, recipient) = backup::archive::keygen();
    let text = zeroize::Zeroizing::new(text);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(output)
        .with_context(|| format!("creating {} (an existing file is never replaced)", output.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    if as_json {
        return print_json(&json!({ "recipient": recipient, "identity_file": output.display().to_string() }));
    }
    println!("{recipient}");
    eprintln!(
        "Wrote the identity to {}; keep it offline, in the safe. Put the line above in backup_recipient.",
        output.display()
    );
    Ok(ExitCode::SUCCESS)
}

async fn list(from: &Location, as_json: bool) -> Result<ExitCode> {
    let found = from.list().await.map_err(|e| anyhow::anyhow!("{}", e.public_message()))?;
    let entries: Vec<_> = found
        .iter()
        .map(|(name, bytes)| json!({ "file": name, "location": from.describe(name), "bytes": bytes }))
        .collect();
    if as_json {
        return print_json(&entries);
    }
    for (name, bytes) in &found {
        println!("{name}  {bytes} bytes");
    }
    Ok(ExitCode::SUCCESS)
}

async fn drill_file(file: &BackupFile, opening: &Opening, as_json: bool) -> Result<ExitCode> {
    let report = backup::drill(file, &opening.identity()?, opening.pinned().as_deref()).await;
    let code = if report.ok { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    if as_json {
        print_json(&report)?;
    } else if report.ok {
        println!(
            "OK: {} restores completely: {} documents match their SHA-256, {} audit events verify ({} s).",
            report.file, report.documents_checked, report.audit_events, report.seconds
        );
    } else {
        println!("FAILED: {}: {}", report.file, report.error.as_deref().unwrap_or("unknown"));
    }
    Ok(code)
}

async fn restore(
    config: &Config,
    file: &BackupFile,
    opening: &Opening,
    journal: Option<String>,
    as_json: bool,
) -> Result<ExitCode> {
    let identity = opening.identity()?;
    let journal = journal.map_or(Journal::None, Journal::File);
    let restored = service(backup::restore(config, file, &identity, journal, opening.pinned().as_deref()).await)?;
    if as_json {
        return print_json(&restored);
    }
    println!(
        "Restored backup {} ({}): {} documents; {} shredded again from the deletion journal. Signed by audit key {} \
         (compare it with the one the firm published).",
        restored.backup_id, restored.created_at, restored.documents, restored.reshredded, restored.signed_by
    );
    Ok(ExitCode::SUCCESS)
}

/// `backup create`, on the opened installation.
pub(crate) async fn create(
    me: &Acting,
    config: &Config,
    to: &str,
    recipient: Option<String>,
    as_json: bool,
) -> Result<ExitCode> {
    let Some(recipient) = recipient.or_else(|| config.backup_recipient.clone()) else {
        bail!("give --recipient age1… or set backup_recipient (the identity stays offline)");
    };
    let to = service(Location::parse(config, to))?;
    let created = service(me.create_backup(&to, &recipient).await)?;
    if as_json {
        return print_json(&created);
    }
    println!(
        "Wrote {} ({} bytes, {} documents, audit event {}).",
        created.location, created.bytes, created.documents, created.audit_seq
    );
    Ok(ExitCode::SUCCESS)
}
