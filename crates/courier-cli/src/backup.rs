//! `courier backup …`: keys, creating, listing, checking, restoring and drilling backups
//! (`docs/backups.md`). Only `create` opens the installation; the others work on files (and
//! `restore` on the empty installation it fills).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use courier_server::Config;
use courier_server::backup::{self, Journal};
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
        /// The directory to write it into (it must exist), e.g. a mounted NAS.
        #[arg(long)]
        to: PathBuf,
        /// The age recipient (age1…); default: the setting `backup_recipient`.
        #[arg(long)]
        recipient: Option<String>,
        #[command(flatten)]
        json: Json,
    },
    /// The backups in a directory, newest first.
    List {
        /// The directory backups are written to.
        #[arg(long)]
        from: PathBuf,
        #[command(flatten)]
        json: Json,
    },
    /// Check a backup by restoring it into a temporary installation: exit 0 only when it
    /// restores completely (every part, every document's SHA-256, the audit chain).
    Verify {
        /// The backup file.
        file: PathBuf,
        /// The age identity file (from `backup keygen`).
        #[arg(long)]
        identity: PathBuf,
        #[command(flatten)]
        json: Json,
    },
    /// Restore a backup into the installation named by --data-dir / the configuration, which
    /// must be empty; every document in the deletion journal is shredded again first.
    Restore {
        /// The backup file.
        file: PathBuf,
        /// The age identity file (from `backup keygen`).
        #[arg(long)]
        identity: PathBuf,
        /// The old installation's deletion journal (its audit/shreds.log).
        #[arg(long, required_unless_present = "no_journal", conflicts_with = "no_journal")]
        journal: Option<PathBuf>,
        /// Restore without a deletion journal (documents shredded after the backup come back).
        #[arg(long)]
        no_journal: bool,
        #[command(flatten)]
        json: Json,
    },
    /// Restore the newest backup of a directory into a temporary installation, check every
    /// document and the audit chain, delete it, and report (exit non-zero unless ok).
    Drill {
        /// The directory backups are written to.
        #[arg(long)]
        from: PathBuf,
        /// The age identity file (from `backup keygen`).
        #[arg(long)]
        identity: PathBuf,
        #[command(flatten)]
        json: Json,
    },
}

/// The commands that do not open the installation; `None` for `create`.
pub(crate) async fn offline(config: &Config, cmd: &BackupCommand) -> Option<Result<ExitCode>> {
    Some(match cmd {
        BackupCommand::Keygen { output, json } => keygen(output, json.json),
        BackupCommand::List { from, json } => list(from, json.json),
        BackupCommand::Verify { file, identity, json } => drill_file(file, identity, json.json).await,
        BackupCommand::Drill { from, identity, json } => match backup::list(from) {
            Ok(found) => match found.first() {
                Some((name, _)) => drill_file(&from.join(name), identity, json.json).await,
                None => Err(anyhow::anyhow!("no backup in {}", from.display())),
            },
            Err(e) => Err(anyhow::anyhow!("{}", e.public_message())),
        },
        BackupCommand::Restore { file, identity, journal, no_journal: _, json } => {
            restore(config, file, identity, journal.clone(), json.json).await
        }
        BackupCommand::Create { .. } => return None,
    })
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

fn list(from: &Path, as_json: bool) -> Result<ExitCode> {
    let found = backup::list(from).map_err(|e| anyhow::anyhow!("{}", e.public_message()))?;
    let entries: Vec<_> = found
        .iter()
        .map(|(name, bytes)| json!({ "file": name, "location": from.join(name).display().to_string(), "bytes": bytes }))
        .collect();
    if as_json {
        return print_json(&entries);
    }
    for (name, bytes) in &found {
        println!("{name}  {bytes} bytes");
    }
    Ok(ExitCode::SUCCESS)
}

async fn drill_file(file: &Path, identity: &Path, as_json: bool) -> Result<ExitCode> {
    let identity = backup::read_identity(identity).map_err(|e| anyhow::anyhow!("{}", e.public_message()))?;
    let report = backup::drill(file, &identity).await;
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
    file: &Path,
    identity: &Path,
    journal: Option<PathBuf>,
    as_json: bool,
) -> Result<ExitCode> {
    let identity = backup::read_identity(identity).map_err(|e| anyhow::anyhow!("{}", e.public_message()))?;
    let journal = journal.map_or(Journal::None, Journal::File);
    let restored = service(backup::restore(config, file, &identity, journal).await)?;
    if as_json {
        return print_json(&restored);
    }
    println!(
        "Restored backup {} ({}): {} documents; {} shredded again from the deletion journal.",
        restored.backup_id, restored.created_at, restored.documents, restored.reshredded
    );
    Ok(ExitCode::SUCCESS)
}

/// `backup create`, on the opened installation.
pub(crate) async fn create(
    me: &Acting,
    config: &Config,
    to: &Path,
    recipient: Option<String>,
    as_json: bool,
) -> Result<ExitCode> {
    let Some(recipient) = recipient.or_else(|| config.backup_recipient.clone()) else {
        bail!("give --recipient age1… or set backup_recipient (the identity stays offline)");
    };
    let created = service(me.create_backup(to, &recipient).await)?;
    if as_json {
        return print_json(&created);
    }
    println!(
        "Wrote {} ({} bytes, {} documents, audit event {}).",
        created.location, created.bytes, created.documents, created.audit_seq
    );
    Ok(ExitCode::SUCCESS)
}
