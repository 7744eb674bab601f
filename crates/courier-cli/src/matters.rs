//! `courier matter`, `share`, `policy` and `access`: the access model from the command line.
//! The CLI is the local operator: not bound by staff policies, but every action is audited.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use courier_core::DurationSpec;
use courier_core::time_fmt::{now_ms, parse_rfc3339};
use courier_server::Courier;
use courier_server::services::Caller;
use courier_server::services::authz::Action;
use courier_server::services::matters::{MatterRequest, MatterView};
use courier_server::services::shares::{ShareRequest, ShareView};
use serde_json::json;

use crate::commands::{audit_read, print_json, read_secret_line, service};
use crate::{AccessCommand, MatterCommand, PolicyCommand, ShareCommand};

fn show_matter(m: &MatterView, as_json: bool) -> Result<ExitCode> {
    if as_json {
        return print_json(m);
    }
    let archived = if m.archived { " [archived]" } else { "" };
    println!("{}  {}  ({}){archived}", m.id, m.name, m.sensitivity);
    println!("  department:    {}", if m.department.is_empty() { "none" } else { &m.department });
    println!("  last review:   {}", m.last_reviewed_at.as_deref().unwrap_or("never"));
    for x in &m.members {
        println!("  member:        {} ({})", x.email, x.role);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn matter(courier: &Courier, caller: &Caller, cmd: MatterCommand) -> Result<ExitCode> {
    match cmd {
        MatterCommand::Create { name, department, sensitivity, json } => {
            let m = service(courier.create_matter(caller, MatterRequest { name, department, sensitivity }).await)?;
            if json.json {
                return print_json(&json!({ "id": m.id, "name": m.name, "department": m.department,
                    "sensitivity": m.sensitivity }));
            }
            show_matter(&m, false)
        }
        MatterCommand::AddMember { matter, user, role, json } => {
            show_matter(&service(courier.add_member(caller, &matter, &user, &role).await)?, json.json)
        }
        MatterCommand::RemoveMember { matter, user, json } => {
            show_matter(&service(courier.remove_member(caller, &matter, &user).await)?, json.json)
        }
        MatterCommand::Archive { matter, json } => {
            show_matter(&service(courier.set_matter_archived(caller, &matter, true).await)?, json.json)
        }
        MatterCommand::Unarchive { matter, json } => {
            show_matter(&service(courier.set_matter_archived(caller, &matter, false).await)?, json.json)
        }
        MatterCommand::Show { matter, json } => {
            let m = service(courier.matter_for(caller, &matter).await)?;
            audit_read(courier, caller, "matter.show", &format!("matter:{}", m.id), json!({})).await?;
            show_matter(&m, json.json)
        }
        MatterCommand::List { json } => {
            let matters = service(courier.list_matters(caller).await)?;
            audit_read(courier, caller, "matter.list", "matters", json!({})).await?;
            if json.json {
                return print_json(&matters);
            }
            for m in &matters {
                println!("{}  {:<13} {:>3} members  {}", m.id, m.sensitivity, m.members.len(), m.name);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn show_share(s: &ShareView, as_json: bool) -> Result<ExitCode> {
    if as_json {
        return print_json(s);
    }
    println!("{}  for {}  [{}]", s.id, s.recipient, s.status);
    println!("  expires:       {}", s.expires_at.as_deref().unwrap_or("never"));
    println!(
        "  downloads:     {} (limit per file: {})",
        s.downloads.len(),
        s.max_downloads.map_or("none".into(), |n| n.to_string())
    );
    for f in &s.files {
        let mark = if f.watermarked { "watermarked" } else { "served unchanged" };
        println!("  file:          {} ({mark}, {} downloads)", f.name, f.downloads);
    }
    for d in &s.downloads {
        println!("  downloaded:    {} {} from {}", d.at, d.name, d.ip);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn share(courier: &Arc<Courier>, caller: &Caller, cmd: ShareCommand) -> Result<ExitCode> {
    match cmd {
        ShareCommand::Create {
            matter,
            docs,
            recipient,
            expires_in,
            max_downloads,
            passcode_stdin,
            allow_findings,
            json,
        } => {
            let expires_at_ms = match expires_in {
                Some(d) => Some(now_ms() + d.parse::<DurationSpec>()?.0.as_millis() as i64),
                None => None,
            };
            let passcode = if passcode_stdin { Some(read_secret_line("passcode")?) } else { None };
            let req = ShareRequest {
                matter,
                documents: docs,
                recipient,
                expires_at_ms,
                passcode,
                max_downloads,
                allow_findings,
            };
            let created = service(courier.create_share(caller, req).await)?;
            if json.json {
                return print_json(&created);
            }
            println!("Share {} created. Give this link to the recipient (it is not shown again):", created.link.id);
            println!("  {}", created.link.url);
            if !created.served_unchanged.is_empty() {
                println!("Not watermarked (served unchanged): {}", created.served_unchanged.join(", "));
            }
            Ok(ExitCode::SUCCESS)
        }
        ShareCommand::List { matter, json } => {
            let matter_id = match matter {
                Some(m) => Some(service(courier.resolve_matter(caller, &m, false).await)?.id),
                None => None,
            };
            let shares = service(courier.list_shares(caller, matter_id.as_deref()).await)?;
            audit_read(courier, caller, "share.list", "shares", json!({ "matter_id": matter_id })).await?;
            if json.json {
                return print_json(&shares);
            }
            for s in &shares {
                println!("{}  {:<8} {:>3} files  {}", s.id, s.status, s.files.len(), s.recipient);
            }
            Ok(ExitCode::SUCCESS)
        }
        ShareCommand::Show { id, json } => {
            let s = service(courier.share(caller, &id).await)?;
            audit_read(courier, caller, "share.show", &format!("share:{id}"), json!({})).await?;
            show_share(&s, json.json)
        }
        ShareCommand::Revoke { id, json } => show_share(&service(courier.revoke_share(caller, &id).await)?, json.json),
    }
}

pub async fn policy(courier: &Courier, caller: &Caller, cmd: PolicyCommand) -> Result<ExitCode> {
    match cmd {
        PolicyCommand::Check { principal, action, resource, ip, at, json } => {
            let action: Action = action.parse().map_err(anyhow::Error::msg)?;
            let at_ms = at.map(|t| parse_rfc3339(&t)).transpose().context("--at")?.unwrap_or_else(now_ms);
            let ip = ip.unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
            let decision = service(courier.explain(&principal, action, &resource, ip, at_ms).await)?;
            audit_read(
                courier,
                caller,
                "policy.check",
                &resource,
                json!({ "principal": principal,
                "action": action.name(), "allowed": decision.allowed, "policy": decision.deciding_policy() }),
            )
            .await?;
            let code = if decision.allowed { ExitCode::SUCCESS } else { ExitCode::from(3) };
            if json.json {
                print_json(
                    &json!({ "allowed": decision.allowed, "decision": if decision.allowed { "allow" } else { "deny" },
                    "policies": decision.policies, "errors": decision.errors, "explanation": decision.explain() }),
                )?;
            } else {
                println!("{}", decision.explain());
                for e in &decision.errors {
                    println!("  error: {e}");
                }
            }
            Ok(code)
        }
        PolicyCommand::Validate { json } => {
            let sources: Vec<String> = courier.authz.sources.iter().map(|p| p.display().to_string()).collect();
            if json.json {
                return print_json(&json!({ "ok": true, "policies": courier.authz.policy_count(), "files": sources }));
            }
            println!("OK: {} policies from {}", courier.authz.policy_count(), sources.join(", "));
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub async fn access(courier: &Courier, caller: &Caller, cmd: AccessCommand) -> Result<ExitCode> {
    match cmd {
        AccessCommand::Review { json } => {
            let report = service(courier.access_review(caller).await)?;
            audit_read(courier, caller, "access.report", "firm", json!({})).await?;
            if json.json {
                return print_json(&report);
            }
            println!("Access review, {}", report.generated_at);
            for u in &report.users {
                let matters: Vec<String> = u
                    .matters
                    .iter()
                    .map(|m| format!("{} ({})", m["name"].as_str().unwrap_or("?"), m["role"].as_str().unwrap_or("?")))
                    .collect();
                println!(
                    "{:<32} {:<9} last sign-in {:<25} {}",
                    u.email,
                    u.role,
                    u.last_login_at.as_deref().unwrap_or("never"),
                    matters.join(", ")
                );
                for f in &u.flags {
                    println!("    ! {f}");
                }
            }
            for m in &report.matters {
                println!(
                    "matter {} ({}), {} members, {} portals, {} shares, reviewed {}",
                    m.name,
                    m.sensitivity,
                    m.members.len(),
                    m.portals.len(),
                    m.shares.len(),
                    m.last_reviewed_at.as_deref().unwrap_or("never")
                );
                for f in &m.flags {
                    println!("    ! {f}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        AccessCommand::Record { matter, removed, note, json } => {
            let at = service(courier.record_review(caller, &matter, &removed, &note).await)?;
            if json.json {
                return print_json(&json!({ "matter": matter, "reviewed_at": at }));
            }
            println!("Recorded the access review of {matter} at {at}.");
            Ok(ExitCode::SUCCESS)
        }
    }
}
