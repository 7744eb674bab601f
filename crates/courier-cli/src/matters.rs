//! `courier matter`, `share`, `policy` and `access`: the access model from the command line.
//! The CLI is the local operator: not bound by staff policies, but every action is audited.

use std::process::ExitCode;

use anyhow::{Context, Result};
use courier_core::DurationSpec;
use courier_core::time_fmt::{now_ms, parse_rfc3339};
use courier_server::Courier;
use courier_server::services::audit::AuditAction;
use courier_server::services::authz::Action;
use courier_server::services::handles::Acting;
use courier_server::services::matters::{MatterRequest, MatterView};
use courier_server::services::shares::{ShareRequest, ShareView};
use serde_json::json;

use crate::commands::{audit_read, print_json, read_secret_line, service, service_on};
use crate::{AccessCommand, MatterCommand, PolicyCommand, ShareCommand};

fn show_matter(m: &MatterView, as_json: bool) -> Result<ExitCode> {
    if as_json {
        return print_json(m);
    }
    let archived = if m.archived { " [archived]" } else { "" };
    println!("{}  {}  ({}){archived}", m.id, m.name, m.sensitivity);
    println!("  department:    {}", if m.department.is_empty() { "none" } else { &m.department });
    println!("  last review:   {}", m.last_reviewed_at.as_deref().unwrap_or("never"));
    println!("  retention:     {} ({})", m.retention, m.retention_from);
    for x in &m.members {
        println!("  member:        {} ({})", x.email, x.role);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn matter(me: &Acting, cmd: MatterCommand) -> Result<ExitCode> {
    match cmd {
        MatterCommand::Create { name, department, sensitivity, retention, json } => {
            let retention = crate::lifecycle::retention_flag(retention)?;
            let m = service(me.create_matter(MatterRequest { name, department, sensitivity, retention }).await)?;
            if json.json {
                return print_json(&json!({ "id": m.id, "name": m.name, "department": m.department,
                    "sensitivity": m.sensitivity }));
            }
            show_matter(&m, false)
        }
        MatterCommand::SetRetention { matter, retention, inherit: _, json } => {
            let retention = crate::lifecycle::retention_flag(retention)?;
            service_on("matter", &matter, me.set_matter_retention(&matter, retention).await)?;
            crate::lifecycle::print_retention_set("matter", &matter, retention, json.json)
        }
        MatterCommand::AddMember { matter, user, role, json } => show_matter(
            &service_on("matter or user", &format!("{matter} / {user}"), me.add_member(&matter, &user, &role).await)?,
            json.json,
        ),
        MatterCommand::RemoveMember { matter, user, json } => show_matter(
            &service_on("matter or member", &format!("{matter} / {user}"), me.remove_member(&matter, &user).await)?,
            json.json,
        ),
        MatterCommand::Archive { matter, json } => {
            show_matter(&service_on("matter", &matter, me.set_matter_archived(&matter, true).await)?, json.json)
        }
        MatterCommand::Unarchive { matter, json } => {
            show_matter(&service_on("matter", &matter, me.set_matter_archived(&matter, false).await)?, json.json)
        }
        MatterCommand::Show { matter, json } => {
            let m = service_on("matter", &matter, me.matter(&matter).await)?;
            audit_read(me, AuditAction::MatterShow, &format!("matter:{}", m.id), json!({})).await?;
            show_matter(&m, json.json)
        }
        MatterCommand::List { json } => {
            let matters = service(me.list_matters().await)?;
            audit_read(me, AuditAction::MatterList, "matters", json!({})).await?;
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
        println!("  downloaded:    {} {} from {}", d.at, d.name, d.ip.as_deref().unwrap_or("(address deleted)"));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn share(me: &Acting, cmd: ShareCommand) -> Result<ExitCode> {
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
            let created = service(me.create_share(req).await)?;
            crate::commands::warn_default_link_base(me);
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
                Some(m) => Some(service_on("matter", &m, me.resolve_matter(&m, false).await)?),
                None => None,
            };
            let shares = service(me.list_shares(matter_id.as_deref()).await)?;
            audit_read(me, AuditAction::ShareList, "shares", json!({ "matter_id": matter_id })).await?;
            if json.json {
                return print_json(&shares);
            }
            for s in &shares {
                println!("{}  {:<8} {:>3} files  {}", s.id, s.status, s.files.len(), s.recipient);
            }
            Ok(ExitCode::SUCCESS)
        }
        ShareCommand::Show { id, json } => {
            let s = service_on("share", &id, me.share(&id).await)?;
            audit_read(me, AuditAction::ShareShow, &format!("share:{id}"), json!({})).await?;
            show_share(&s, json.json)
        }
        ShareCommand::Revoke { id, json } => {
            show_share(&service_on("share", &id, me.revoke_share(&id).await)?, json.json)
        }
    }
}

pub async fn policy(courier: &Courier, me: &Acting, cmd: PolicyCommand) -> Result<ExitCode> {
    match cmd {
        PolicyCommand::Check { principal, action, resource, ip, at, json } => {
            let action: Action = action.parse().map_err(anyhow::Error::msg)?;
            let at_ms = at.map(|t| parse_rfc3339(&t)).transpose().context("--at")?.unwrap_or_else(now_ms);
            let ip = ip.unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
            let decision = service(me.explain(&principal, action, &resource, ip, at_ms).await)?;
            audit_read(
                me,
                AuditAction::PolicyCheck,
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
            let sources: Vec<String> = courier.policies().sources.iter().map(|p| p.display().to_string()).collect();
            if json.json {
                return print_json(
                    &json!({ "ok": true, "policies": courier.policies().policy_count(), "files": sources }),
                );
            }
            println!("OK: {} policies from {}", courier.policies().policy_count(), sources.join(", "));
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub async fn access(me: &Acting, cmd: AccessCommand) -> Result<ExitCode> {
    match cmd {
        AccessCommand::Review { json } => {
            let report = service(me.access_review().await)?;
            audit_read(me, AuditAction::AccessReport, "firm", json!({})).await?;
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
            let at = service(me.record_review(&matter, &removed, &note).await)?;
            if json.json {
                return print_json(&json!({ "matter": matter, "reviewed_at": at }));
            }
            println!("Recorded the access review of {matter} at {at}.");
            Ok(ExitCode::SUCCESS)
        }
    }
}
