//! Lifecycle commands: legal holds, filing, retention, certificates of deletion, upkeep.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use courier_core::DurationSpec;
use courier_server::services::audit::AuditAction;
use courier_server::services::handles::Acting;
use courier_server::services::lifecycle::{HoldSubject, HoldView};
use serde_json::json;

use crate::Json;
use crate::commands::{audit_read, print_json, service, service_on};

#[derive(Subcommand)]
pub(crate) enum HoldCommand {
    /// Place a legal hold on a matter (all its documents, also later ones) or one document.
    Place {
        /// The matter, by id or name.
        #[arg(long, required_unless_present = "doc", conflicts_with = "doc")]
        matter: Option<String>,
        /// The document's id.
        #[arg(long)]
        doc: Option<String>,
        /// Why (kept with the hold and in the audit trail), e.g. "litigation Dupont v. Acme".
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        json: Json,
    },
    /// Release a hold; what it kept goes at the next upkeep if it is due by then.
    Release {
        /// The hold's id (as `hold list` prints it).
        id: String,
        /// Why it is released.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        json: Json,
    },
    /// Every hold, active and released (holds are never deleted).
    List {
        /// Only the active ones.
        #[arg(long)]
        active: bool,
        #[command(flatten)]
        json: Json,
    },
}

#[derive(Subcommand)]
pub(crate) enum CertificateCommand {
    /// Check a certificate of deletion offline: exit 0 only for a genuine, unaltered one.
    Verify {
        /// The certificate (JSON, as `doc certificate` wrote it).
        file: PathBuf,
        /// The audit public key (hex, as `audit public-key` prints it) or a file holding it;
        /// without it, this installation's own key.
        #[arg(long)]
        public_key: Option<String>,
        #[command(flatten)]
        json: Json,
    },
}

/// `certificate verify` with a key given: no installation is opened (the DPO's machine).
/// A public key given on the command line as hex, or as a file holding it.
pub(crate) fn key_arg(key: &str) -> String {
    std::fs::read_to_string(key).map_or_else(|_| key.trim().to_owned(), |text| text.trim().to_owned())
}

pub(crate) fn verify_offline(file: &PathBuf, key: &str, as_json: bool) -> Result<ExitCode> {
    let key = key_arg(key);
    let text = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let check = courier_server::services::certificates::verify_certificate(&text, &key);
    let code = if check.ok { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    if as_json {
        print_json(&check)?;
    } else if check.ok {
        println!(
            "GENUINE: document {} was shredded at {} ({}).",
            check.document_id.as_deref().unwrap_or_default(),
            check.shredded_at.as_deref().unwrap_or_default(),
            check.reason.as_deref().unwrap_or_default()
        );
    } else {
        println!("NOT VALID: {}", check.error.as_deref().unwrap_or("unknown reason"));
    }
    Ok(code)
}

fn print_hold(h: &HoldView) {
    let on = match (&h.matter_id, &h.document_id) {
        (Some(m), _) => format!("matter {m}"),
        (None, Some(d)) => format!("document {d}"),
        _ => "nothing".into(),
    };
    let state = match &h.released_at {
        Some(at) => format!("released {at} by {}", h.released_by.as_deref().unwrap_or("?")),
        None => "ACTIVE".into(),
    };
    println!("{}  {on}  {state}  placed {} by {}: {}", h.id, h.placed_at, h.placed_by, h.reason);
}

pub(crate) async fn hold(me: &Acting, cmd: HoldCommand) -> Result<ExitCode> {
    match cmd {
        HoldCommand::Place { matter, doc, reason, json } => {
            let (subject, what, id) = match (matter, doc) {
                (Some(m), _) => (HoldSubject::Matter(m.clone()), "matter", m),
                (None, Some(d)) => (HoldSubject::Document(d.clone()), "document", d),
                (None, None) => bail!("name a --matter or a --doc"),
            };
            let hold = service_on(what, &id, me.place_hold(subject, &reason).await)?;
            if json.json {
                return print_json(&hold);
            }
            println!("Placed legal hold {}.", hold.id);
            Ok(ExitCode::SUCCESS)
        }
        HoldCommand::Release { id, reason, json } => {
            let hold = match me.release_hold(&id, &reason).await {
                Err(courier_server::Error::NotFound) => bail!("no legal hold {id:?} (see `courier hold list`)"),
                other => service(other)?,
            };
            if json.json {
                return print_json(&hold);
            }
            println!("Released legal hold {}.", hold.id);
            Ok(ExitCode::SUCCESS)
        }
        HoldCommand::List { active, json } => {
            audit_read(me, AuditAction::HoldList, "holds", json!({ "active_only": active })).await?;
            let holds = service(me.list_holds(!active).await)?;
            if json.json {
                return print_json(&holds);
            }
            holds.iter().for_each(print_hold);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `doc filed`.
pub(crate) async fn filed(me: &Acting, ids: Vec<String>, reference: Option<String>, as_json: bool) -> Result<ExitCode> {
    let docs = service_on("document", &ids.join(", "), me.mark_filed(&ids, reference.as_deref()).await)?;
    if as_json {
        return print_json(&docs);
    }
    for d in &docs {
        println!("Filed {}; it is shredded at {}.", d.id, d.shred_at.as_deref().unwrap_or("(held: not while held)"));
    }
    Ok(ExitCode::SUCCESS)
}

/// `doc certificate`: to standard output, or to a new file (never over an existing one).
pub(crate) async fn certificate(me: &Acting, id: &str, output: Option<PathBuf>) -> Result<ExitCode> {
    // Checked before the certificate is issued (and its issue audited).
    if let Some(path) = &output
        && path.exists()
    {
        bail!("{} exists; an existing file is never replaced", path.display());
    }
    let cert = service_on("document", id, me.certificate(id).await)?;
    let text = serde_json::to_string_pretty(&cert)? + "\n";
    match output {
        None => print!("{text}"),
        Some(path) => {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o644)
                .open(&path)
                .with_context(|| format!("creating {} (an existing file is never replaced)", path.display()))?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            eprintln!("Wrote the certificate of deletion of {id} to {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `--retention D` or `--inherit` (None).
pub(crate) fn retention_flag(retention: Option<String>) -> Result<Option<DurationSpec>> {
    retention.map(|r| r.parse::<DurationSpec>().map_err(anyhow::Error::msg)).transpose()
}

pub(crate) fn print_retention_set(
    what: &str,
    id: &str,
    retention: Option<DurationSpec>,
    as_json: bool,
) -> Result<ExitCode> {
    if as_json {
        return print_json(&json!({ "id": id, "retention": retention }));
    }
    match retention {
        Some(r) => println!("The {what}'s documents now stay {}.", r.human()),
        None => println!("The {what} uses the retention it inherits again."),
    }
    Ok(ExitCode::SUCCESS)
}
