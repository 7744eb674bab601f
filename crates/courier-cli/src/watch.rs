//! Incident response commands: the lockdown switch and the forensic bundle.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use courier_server::services::handles::Acting;

use crate::Json;
use crate::commands::{print_json, service};

#[derive(Subcommand)]
pub(crate) enum LockdownCommand {
    /// Close every link, refuse uploads in flight and API tokens, end every staff session;
    /// only administrators can sign in until it is lifted.
    On {
        /// Why (kept in the audit trail and sent with the alert).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        json: Json,
    },
    /// Lift the lockdown: links, tokens and sign-ins work again.
    Off {
        /// Why it is lifted (kept in the audit trail and sent with the alert).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        json: Json,
    },
    /// Whether the installation is locked down, since when, by whom and why.
    Status {
        #[command(flatten)]
        json: Json,
    },
}

#[derive(Subcommand)]
pub(crate) enum IncidentCommand {
    /// Write the forensic bundle (a tar file): audit events since T, the verification report,
    /// heads.log, the settings without secrets, the version, and a manifest of SHA-256 sums.
    Export {
        /// RFC 3339 time, or a duration back from now (e.g. 72h, 30d).
        #[arg(long)]
        since: String,
        /// The bundle to write; an existing file is never overwritten.
        #[arg(long)]
        output: PathBuf,
        #[command(flatten)]
        json: Json,
    },
}

pub(crate) async fn lockdown(me: &Acting, cmd: LockdownCommand) -> Result<ExitCode> {
    let (view, json) = match cmd {
        LockdownCommand::On { reason, json } => (service(me.set_lockdown(true, &reason).await)?, json),
        LockdownCommand::Off { reason, json } => (service(me.set_lockdown(false, &reason).await)?, json),
        LockdownCommand::Status { json } => (service(me.lockdown_status().await)?, json),
    };
    if json.json {
        return print_json(&view);
    }
    if view.active {
        println!(
            "Locked down since {} by {}: {}",
            view.changed_at.as_deref().unwrap_or("?"),
            view.changed_by,
            view.reason
        );
    } else {
        println!("Not locked down.");
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn incident(me: &Acting, cmd: IncidentCommand) -> Result<ExitCode> {
    let IncidentCommand::Export { since, output, json } = cmd;
    let since_ms = match courier_core::time_fmt::parse_rfc3339(&since) {
        Ok(ms) => ms,
        Err(_) => {
            let back = since.parse::<courier_core::DurationSpec>().map_err(|_| {
                anyhow::anyhow!("--since {since:?} is neither an RFC 3339 time nor a duration like 72h")
            })?;
            courier_core::time_fmt::now_ms() - back.as_millis()
        }
    };
    let bundle = service(me.incident_export(since_ms, &output).await)?;
    if json.json {
        return print_json(&bundle);
    }
    println!(
        "Wrote {} ({} events since {}; trail {}; manifest SHA-256 {}).",
        bundle.path,
        bundle.events,
        bundle.since,
        if bundle.trail_intact { "intact" } else { "BROKEN: see verify.json" },
        bundle.manifest_sha256
    );
    Ok(ExitCode::SUCCESS)
}
