//! `courier user`: staff accounts from the command line (create, invite, list, disable,
//! enable, role, MFA reset, unlock, ending sessions), and `courier token`: their API tokens.
//! Every change is audited as `cli:<user>`.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use courier_core::DurationSpec;
use courier_server::services::api_tokens::Scope;
use courier_server::services::handles::Acting;
use courier_server::services::users::Change;
use serde_json::json;

use crate::Json;
use crate::commands::{print_json, read_secret_line, service, service_on};

const ROLES: [&str; 3] = ["admin", "attorney", "paralegal"];

#[derive(Subcommand)]
pub(crate) enum UserCommand {
    /// Create a staff account; prints its TOTP enrolment and recovery codes once.
    Create {
        /// The staff member's e-mail address.
        #[arg(long)]
        email: String,
        /// admin, attorney or paralegal.
        #[arg(long, value_parser = ROLES)]
        role: String,
        /// Read the password from the first line of standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Used by attribute-based policies (a department's matters for that department).
        #[arg(long)]
        department: Option<String>,
        #[command(flatten)]
        json: Json,
    },
    /// Invite someone: a single-use link to set a password; they enrol MFA at first sign-in.
    /// Inviting someone who has not accepted yet replaces their link.
    Invite {
        /// The staff member's e-mail address.
        #[arg(long)]
        email: String,
        /// admin, attorney or paralegal.
        #[arg(long, value_parser = ROLES)]
        role: String,
        /// The department attribute-based policies see (empty: none).
        #[arg(long, default_value = "")]
        department: String,
        /// How long the link works (default `invitation_ttl_secs`, 72 hours).
        #[arg(long)]
        expires_in: Option<DurationSpec>,
        #[command(flatten)]
        json: Json,
    },
    /// Every staff account with its status, MFA, lock and sessions.
    List {
        #[command(flatten)]
        json: Json,
    },
    /// Disable an account (its sessions end; the last enabled admin cannot be disabled).
    Disable {
        /// The staff member's e-mail address.
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled account again.
    Enable {
        /// The staff member's e-mail address.
        #[arg(long)]
        email: String,
    },
    /// Change a role (the user's sessions end; the last enabled admin cannot be demoted).
    SetRole {
        /// The staff member's e-mail address.
        #[arg(long)]
        email: String,
        /// admin, attorney or paralegal.
        #[arg(long, value_parser = ROLES)]
        role: String,
    },
    /// Remove the authenticator and recovery codes; the user enrols again at next sign-in.
    ResetMfa {
        /// The staff member's e-mail address.
        #[arg(long)]
        email: String,
    },
    /// End every session of a user, or of everyone with --all.
    EndSessions {
        /// The staff member's e-mail address.
        #[arg(long, required_unless_present = "all", conflicts_with = "all")]
        email: Option<String>,
        /// Every user, this operator's own sessions included.
        #[arg(long)]
        all: bool,
    },
    /// A single-use link (24 h at most) through which a user who forgot their password sets a
    /// new one; their second factor is still asked for.
    ResetPassword {
        /// The staff member's e-mail address.
        #[arg(long)]
        email: String,
        #[command(flatten)]
        json: Json,
    },
    /// Lift a sign-in lockout before it runs out.
    Unlock {
        /// The staff member's e-mail address.
        #[arg(long)]
        email: String,
        #[command(flatten)]
        json: Json,
    },
}

pub(crate) async fn user(me: &Acting, cmd: UserCommand) -> Result<ExitCode> {
    let change = |email: String, change: Change| async move {
        let user = service_on("user", &email, me.user_by_email(&email).await)?;
        service(me.change_user(&user.id, change).await)?;
        println!("{}: done", user.email);
        Ok(ExitCode::SUCCESS)
    };
    match cmd {
        UserCommand::Create { email, role, password_stdin: _, department, json } => {
            let password = read_secret_line("password")?;
            let enrolment = service(
                me.create_user(&email, role.parse::<courier_server::services::staff::Role>()?, password).await,
            )?;
            if let Some(department) = department {
                service(me.set_user_department(&enrolment.id, &department).await)?;
            }
            if json.json {
                return print_json(&enrolment);
            }
            println!("Created {} ({}), id {}", enrolment.email, enrolment.role.as_str(), enrolment.id);
            println!("Enrol this TOTP secret in an authenticator app now; it is not shown again:");
            println!("  secret: {}\n  uri:    {}", enrolment.totp_secret, enrolment.otpauth_uri);
            println!("Recovery codes (each works once; keep them safe):");
            for code in &enrolment.recovery_codes {
                println!("  {code}");
            }
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::Invite { email, role, department, expires_in, json } => {
            let role = role.parse::<courier_server::services::staff::Role>()?;
            let ttl = expires_in.map(|d| d.0);
            let invitation = service(me.invite_user(&email, role, &department, ttl).await)?;
            crate::commands::warn_default_link_base(me);
            if json.json {
                return print_json(&invitation);
            }
            println!("Invitation for {} ({}), valid until {}:", invitation.email, role.as_str(), invitation.expires_at);
            println!("  {}", invitation.url);
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::List { json } => {
            let users = service(me.list_users().await)?;
            if json.json {
                return print_json(&users);
            }
            for u in users {
                let mfa = if u.mfa.is_empty() { "enrols at next sign-in".to_owned() } else { u.mfa.join(", ") };
                let locked = u.locked_until.map(|t| format!(", locked until {t}")).unwrap_or_default();
                println!(
                    "{}  {}  {}  [{}{locked}]  mfa: {mfa}  sessions: {}",
                    u.id, u.email, u.role, u.status, u.sessions
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::Disable { email } => change(email, Change::Disable).await,
        UserCommand::Enable { email } => change(email, Change::Enable).await,
        UserCommand::SetRole { email, role } => {
            change(email, Change::Role(role.parse::<courier_server::services::staff::Role>()?)).await
        }
        UserCommand::ResetMfa { email } => change(email, Change::ResetMfa).await,
        UserCommand::EndSessions { email: None, all: _ } => {
            let ended = service(me.end_everyones_sessions().await)?;
            println!("everyone: {ended} sessions ended");
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::EndSessions { email: Some(email), all: _ } => {
            let user = service_on("user", &email, me.user_by_email(&email).await)?;
            let ended = service(me.end_user_sessions(&user.id).await)?;
            println!("{}: {ended} sessions ended", user.email);
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::ResetPassword { email, json } => {
            let user = service_on("user", &email, me.user_by_email(&email).await)?;
            let link = service(me.password_reset_link(&user.id).await)?;
            crate::commands::warn_default_link_base(me);
            if json.json {
                return print_json(&link);
            }
            println!(
                "Password reset link for {}, valid until {} (send it through a channel you trust):",
                link.email, link.expires_at
            );
            println!("  {}", link.url);
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::Unlock { email, json } => {
            let was_locked = service(me.unlock_account(&email).await)?;
            if json.json {
                return print_json(&json!({ "email": email, "was_locked": was_locked }));
            }
            println!("{email}: {}", if was_locked { "unlocked" } else { "was not locked" });
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[derive(Subcommand)]
pub(crate) enum TokenCommand {
    /// Make a personal API token for a user; prints it once.
    Create {
        /// The staff member's e-mail address.
        #[arg(long)]
        email: String,
        /// A name to recognise it by.
        #[arg(long)]
        name: String,
        /// documents:read, documents:write, portals:read, portals:write, matters:read, lifecycle:write
        /// (repeatable).
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// How long it works (default 90d, at most a year).
        #[arg(long)]
        expires_in: Option<DurationSpec>,
        #[command(flatten)]
        json: Json,
    },
    /// Tokens of one user, or of everybody.
    List {
        /// The staff member's e-mail address.
        #[arg(long)]
        email: Option<String>,
        #[command(flatten)]
        json: Json,
    },
    /// Revoke a token; it stops working at once.
    Revoke {
        /// The id (as `list` prints it).
        id: String,
    },
}

pub(crate) async fn token(me: &Acting, cmd: TokenCommand) -> Result<ExitCode> {
    match cmd {
        TokenCommand::Create { email, name, scopes, expires_in, json } => {
            let user = service_on("user", &email, me.user_by_email(&email).await)?;
            let scopes = scopes.iter().map(|s| s.parse()).collect::<courier_server::Result<Vec<Scope>>>();
            let ttl = expires_in.map(|d| d.0);
            let token = service(me.create_api_token(&user.id, &name, &service(scopes)?, ttl).await)?;
            if json.json {
                return print_json(&token);
            }
            println!(
                "Token {} for {} (id {}), valid until {}; shown only now:",
                token.name, user.email, token.id, token.expires_at
            );
            println!("  {}", token.token);
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::List { email, json } => {
            let user = match email {
                Some(e) => Some(service_on("user", &e, me.user_by_email(&e).await)?.id),
                None => None,
            };
            let tokens = service(me.list_api_tokens(user.as_deref()).await)?;
            if json.json {
                return print_json(&tokens);
            }
            for t in tokens {
                let scopes: Vec<_> = t.scopes.iter().map(|s| s.as_str()).collect();
                println!("{}  {}  [{}]  {}  expires {}", t.id, t.name, t.status, scopes.join(" "), t.expires_at);
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Revoke { id } => {
            service_on("API token", &id, me.revoke_api_token(&id).await)?;
            println!("{id}: revoked");
            Ok(ExitCode::SUCCESS)
        }
    }
}
