//! The CLI commands other than `serve`. Output: text by default, one JSON document with
//! `--json` (JSON Lines for `audit export`); only command output goes to stdout.

use std::io::{BufRead, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use courier_core::time_fmt::{now_ms, parse_rfc3339};
use courier_core::{ByteSize, DurationSpec};
use courier_server::Config;
use courier_server::services::audit::AuditAction;
use courier_server::services::documents::{DocumentView, IncomingFile, IncomingFiles};
use courier_server::services::handles::Acting;
use courier_server::services::pages::PageRequest;
use courier_server::services::portals::{PortalRequest, PortalView};
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::json;
use zeroize::Zeroizing;

use crate::lifecycle::{CertificateCommand, print_retention_set, retention_flag};
use crate::matters as matter_commands;
use crate::{AuditCommand, Cli, Command, DocCommand, KeyCommand, MaintenanceCommand, PortalCommand};

pub async fn run(cli: Cli) -> Result<ExitCode> {
    let serving = matches!(cli.command, Command::Serve { .. });
    let mut config =
        Config::load(cli.config.as_deref(), |k| std::env::var(k).ok()).context("loading the configuration")?;
    init_logging(if serving { "info" } else { "warn" }, config.log_format);
    if let Some(dir) = cli.data_dir {
        config.data_dir = dir;
    }
    if let Command::Serve { bind } = cli.command {
        return crate::serve::run(config, bind).await.map(|()| ExitCode::SUCCESS);
    }
    // Backups other than `create` work on files, or fill an empty installation themselves.
    if let Command::Backup(cmd) = &cli.command
        && let Some(done) = crate::backup::offline(&config, cmd).await
    {
        return done;
    }
    // A certificate checked against a given key needs no installation (the DPO's machine).
    if let Command::Certificate(CertificateCommand::Verify { file, public_key: Some(key), json }) = &cli.command {
        return crate::lifecycle::verify_offline(file, key, json.json);
    }
    // DESIGN.md lets any command start an installation (keys are made at first start), so a
    // missing directory is created; but a mistyped --data-dir must not pass unnoticed.
    let data_dir = config.data_dir.clone();
    let fresh = !data_dir.exists();
    let (courier, operator) = courier_server::startup::open(config)
        .await
        .map_err(|e| anyhow::anyhow!("{e}: {}", e.internal_detail().unwrap_or("")))?;
    if fresh && !matches!(cli.command, Command::Init { .. }) {
        eprintln!(
            "note: {} did not exist, so a new, empty installation was made there; if you meant an existing \
             one, check --data-dir (COURIER_DATA_DIR)",
            data_dir.display()
        );
    }
    let me = courier.operator(&operator);
    let result = match cli.command {
        Command::Serve { .. } => unreachable_serve(),
        Command::Init { json } => {
            let made = serde_json::json!({ "data_dir": data_dir.display().to_string(), "created": fresh });
            if json.json {
                print_json(&made)
            } else {
                let what = if fresh { "Created" } else { "Already in place:" };
                println!("{what} an installation in {} (database, keys, audit log).", data_dir.display());
                Ok(ExitCode::SUCCESS)
            }
        }
        Command::User(c) => crate::users::user(&me, c).await,
        Command::Token(c) => crate::users::token(&me, c).await,
        Command::Portal(c) => portal(&me, c).await,
        Command::Doc(c) => doc(&me, c).await,
        Command::Audit(c) => audit(&me, c).await,
        Command::Matter(c) => matter_commands::matter(&me, c).await,
        Command::Share(c) => matter_commands::share(&me, c).await,
        Command::Policy(c) => matter_commands::policy(&courier, &me, c).await,
        Command::Access(c) => matter_commands::access(&me, c).await,
        Command::Key(c) => key(&me, c).await,
        Command::Maintenance(MaintenanceCommand::Run { json }) | Command::Upkeep(MaintenanceCommand::Run { json }) => {
            let report = service(me.maintain_once().await)?;
            audit_read(&me, AuditAction::MaintenanceRun, "maintenance", serde_json::to_value(&report)?).await?;
            if json.json {
                print_json(&report)
            } else {
                println!(
                    "Recorded {} expiries; shredded {} documents by retention and {} after filing ({} kept by a \
                     hold); redacted {} client addresses; removed {} stale uploads and {} orphan blobs; ended {} \
                     sessions.",
                    report.expiries_recorded,
                    report.shredded_retention,
                    report.shredded_filed,
                    report.shredding_held,
                    report.addresses_redacted,
                    report.stale_uploads_removed,
                    report.orphan_blobs_removed,
                    report.sessions_expired
                );
                Ok(ExitCode::SUCCESS)
            }
        }
        Command::Hold(c) => crate::lifecycle::hold(&me, c).await,
        Command::Lockdown(c) => crate::watch::lockdown(&me, c).await,
        Command::Incident(c) => crate::watch::incident(&me, c).await,
        Command::Backup(crate::backup::BackupCommand::Create { to, recipient, json }) => {
            crate::backup::create(&me, courier.config(), &to, recipient, json.json).await
        }
        Command::Backup(_) => unreachable_serve(),
        Command::Certificate(CertificateCommand::Verify { file, public_key: _, json }) => {
            crate::lifecycle::verify_offline(&file, &me.audit_public_key(), json.json)
        }
    };
    courier.close().await;
    result
}

fn unreachable_serve() -> Result<ExitCode> {
    bail!("serve is handled above")
}

/// Set once the logs are JSON, so that the fatal error is too.
pub(crate) static JSON_LOGS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Logs on stderr: text (coloured only on a terminal) or one JSON object per line.
fn init_logging(default: &str, format: courier_server::config::LogFormat) {
    use std::io::IsTerminal;
    // lopdf's own log lines quote what it parses (whole font dictionaries of an upload), so
    // they are off: a global level in RUST_LOG (`debug`, `trace`) does not bring them back.
    // Only a directive naming a lopdf module would (docs/configuration.md says not to).
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    if let Ok(quiet) = "lopdf=off".parse() {
        filter = filter.add_directive(quiet);
    }
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        courier_server::config::LogFormat::Json => {
            JSON_LOGS.store(true, std::sync::atomic::Ordering::Relaxed);
            builder.json().with_ansi(false).try_init()
        }
        courier_server::config::LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
    };
}

/// `service`, with a "not found" that says what was looked for.
pub(crate) fn service_on<T>(what: &str, id: &str, r: courier_server::Result<T>) -> Result<T> {
    match r {
        Err(courier_server::Error::NotFound) => bail!("not found: no {what} {id:?} (or it was deleted)"),
        other => service(other),
    }
}

/// Service errors carry a public message and, for internal ones, a detail for the operator.
pub(crate) fn service<T>(r: courier_server::Result<T>) -> Result<T> {
    r.map_err(|e| match e.internal_detail() {
        Some(detail) => anyhow::anyhow!("{e} ({detail})"),
        None => anyhow::anyhow!("{}", e.public_message()),
    })
}

pub(crate) fn read_secret_line(what: &str) -> Result<Zeroizing<String>> {
    let mut line = Zeroizing::new(String::new());
    std::io::stdin().lock().read_line(&mut line).with_context(|| format!("reading the {what} from standard input"))?;
    let trimmed = line.strip_suffix('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).unwrap_or(&line);
    if trimmed.is_empty() {
        bail!("no {what} on standard input");
    }
    Ok(Zeroizing::new(trimmed.to_owned()))
}

/// The operator's reads are audited too (DESIGN.md: every CLI action).
pub(crate) async fn audit_read(
    me: &Acting,
    action: AuditAction,
    target: &str,
    details: serde_json::Value,
) -> Result<()> {
    service(me.audit_read(action, target, details).await)
}

/// Links built on the default public URL (`http://<bind>`) reach only this machine; say so on
/// standard error (the link on standard output stays machine-readable).
pub(crate) fn warn_default_link_base(me: &Acting) {
    if let Some(base) = me.default_link_base() {
        eprintln!(
            "warning: public_url is not set, so this link starts with {base}, which only this machine can \
             open; set public_url (COURIER_PUBLIC_URL) to the address clients use, then issue a new link"
        );
    }
}

pub(crate) fn print_json(value: &impl Serialize) -> Result<ExitCode> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(ExitCode::SUCCESS)
}

/// Documents per page when `doc list` walks them all.
const LIST_PAGE: u32 = 500;

/// `doc list`'s output written a document at a time: a JSON array (the same text as
/// `print_json` of the whole list) or one line per document.
struct DocListing {
    json: bool,
    any: bool,
}

impl DocListing {
    fn new(json: bool) -> Self {
        Self { json, any: false }
    }

    fn item(&mut self, d: &DocumentView) -> Result<()> {
        let mut out = std::io::stdout().lock();
        if self.json {
            let text = serde_json::to_string_pretty(d)?;
            write!(out, "{}\n  {}", if self.any { "," } else { "[" }, text.replace('\n', "\n  "))?;
        } else {
            let state = if d.deleted_at.is_some() { "shredded" } else { d.scan.status.as_str() };
            let goes = match (&d.deleted_at, d.hold, &d.shred_at) {
                (Some(_), _, _) => format!("({})", d.deletion_reason.map_or("?", |r| r.as_str())),
                (None, true, _) => "ON HOLD".to_owned(),
                (None, false, Some(at)) => format!("goes {at}"),
                (None, false, None) => String::new(),
            };
            writeln!(out, "{}  {:>12}  {}  {:<11}  {}  {goes}", d.id, d.size, d.uploaded_at, state, d.name)?;
        }
        self.any = true;
        Ok(())
    }

    fn finish(self) -> Result<()> {
        if self.json {
            println!("{}", if self.any { "\n]" } else { "[]" });
        }
        Ok(())
    }
}

fn print_portal(p: &PortalView) {
    println!("{}  {}  [{}]", p.id, p.label, p.status);
    if let Some(m) = &p.matter {
        println!("  matter:        {m}");
    }
    println!("  documents:     {} (last upload {})", p.document_count, p.last_upload_at.as_deref().unwrap_or("never"));
    println!("  expires:       {}", p.expires_at.as_deref().unwrap_or("never"));
    println!("  max file size: {}", ByteSize(p.max_file_size));
    println!("  passcode:      {}", if p.has_passcode { "yes" } else { "no" });
    println!("  accepts:       {}", p.allowed_types.join(", "));
    println!("  personal data: {}", p.dlp_action);
}

async fn portal(me: &Acting, cmd: PortalCommand) -> Result<ExitCode> {
    match cmd {
        PortalCommand::Create {
            label,
            matter,
            expires_in,
            expires_at,
            passcode_stdin,
            max_file_size,
            allow_types,
            dlp_action,
            retention,
            owner,
            no_notify,
            language,
            json,
        } => {
            let expires_at_ms = match (expires_in, expires_at) {
                (Some(d), _) => Some(now_ms() + d.parse::<DurationSpec>()?.0.as_millis() as i64),
                (None, Some(t)) => Some(parse_rfc3339(&t)?),
                (None, None) => None,
            };
            let max_file_size = max_file_size.map(|s| s.parse::<ByteSize>()).transpose()?;
            let passcode = if passcode_stdin { Some(read_secret_line("passcode")?) } else { None };
            let allowed_types = match allow_types {
                Some(list) => courier_server::config::parse_type_list(&list).map_err(anyhow::Error::msg)?,
                None => None,
            };
            let dlp_action = dlp_action.map(|a| a.parse()).transpose().map_err(anyhow::Error::msg)?;
            let retention = retention_flag(retention)?;
            let req = PortalRequest {
                label,
                matter,
                expires_at_ms,
                passcode,
                max_file_size,
                allowed_types,
                dlp_action,
                retention,
                owner,
                notify: Some(!no_notify),
                language: language.map(|l| l.parse()).transpose().map_err(anyhow::Error::msg)?,
            };
            let link = service(me.create_portal(req).await)?;
            warn_default_link_base(me);
            if json.json {
                return print_json(&link);
            }
            println!("Portal {} created. Its link (shown only now):\n  {}", link.id, link.url);
            Ok(ExitCode::SUCCESS)
        }
        PortalCommand::Notify { id, state, json } => {
            let on = state == "on";
            service_on("portal", &id, me.set_portal_notify(&id, on).await)?;
            if json.json {
                return print_json(&json!({ "id": id, "notify": on }));
            }
            println!("Upload notifications for portal {id}: {state}");
            Ok(ExitCode::SUCCESS)
        }
        PortalCommand::List { json } => {
            audit_read(me, AuditAction::PortalList, "portals", json!({})).await?;
            let portals = service(me.list_portals().await)?;
            if json.json {
                return print_json(&portals);
            }
            for p in &portals {
                println!("{}  {:<8}  {:>4} docs  {}", p.id, p.status, p.document_count, p.label);
            }
            Ok(ExitCode::SUCCESS)
        }
        PortalCommand::Show { id, json } => {
            let portal = service_on("portal", &id, me.portal(&id).await)?;
            audit_read(me, AuditAction::PortalShow, &format!("portal:{id}"), json!({ "portal_id": id })).await?;
            show_portal(portal, json.json)
        }
        PortalCommand::Disable { id, json } => {
            show_portal(service_on("portal", &id, me.set_portal_enabled(&id, false).await)?, json.json)
        }
        PortalCommand::Enable { id, json } => {
            show_portal(service_on("portal", &id, me.set_portal_enabled(&id, true).await)?, json.json)
        }
        PortalCommand::UnlockPasscode { id, json } => {
            let was_locked = service_on("portal", &id, me.unlock_portal_passcode(&id).await)?;
            if json.json {
                return print_json(&json!({ "portal_id": id, "was_locked": was_locked }));
            }
            println!("{}", if was_locked { "Passcode unlocked." } else { "The passcode was not locked." });
            Ok(ExitCode::SUCCESS)
        }
        PortalCommand::NewLink { id, json } => {
            let link = service_on("portal", &id, me.new_portal_link(&id).await)?;
            warn_default_link_base(me);
            if json.json {
                return print_json(&link);
            }
            println!("New link for portal {} (the old one no longer works):\n  {}", link.id, link.url);
            Ok(ExitCode::SUCCESS)
        }
        PortalCommand::SetRetention { id, retention, inherit: _, json } => {
            let retention = retention_flag(retention)?;
            service_on("portal", &id, me.set_portal_retention(&id, retention).await)?;
            print_retention_set("portal", &id, retention, json.json)
        }
        PortalCommand::Delete { id, json } => {
            let shredded = service_on("portal", &id, me.delete_portal(&id).await)?;
            if json.json {
                return print_json(&json!({ "id": id, "deleted": true, "documents_shredded": shredded }));
            }
            println!("Deleted portal {id}; shredded {shredded} documents.");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn show_portal(p: PortalView, as_json: bool) -> Result<ExitCode> {
    if as_json {
        return print_json(&p);
    }
    print_portal(&p);
    Ok(ExitCode::SUCCESS)
}

async fn doc(me: &Acting, cmd: DocCommand) -> Result<ExitCode> {
    match cmd {
        DocCommand::Upload { matter, file, json } => {
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
            let handle = tokio::fs::File::open(&file).await.with_context(|| format!("opening {}", file.display()))?;
            let stream = tokio_util::io::ReaderStream::with_capacity(handle, 256 * 1024);
            let bytes = futures_util::StreamExt::boxed(futures_util::StreamExt::map(stream, |r| {
                r.map_err(|e| format!("reading the file: {e}"))
            }));
            let mut files = OneFile(Some(IncomingFile { name, bytes, sealed: None }));
            let doc = service(me.upload_to_matter(&matter, &mut files).await)?.remove(0);
            if json.json {
                return print_json(&doc);
            }
            println!(
                "Uploaded {} as document {} (SHA-256 {}), scan: {}",
                doc.name, doc.id, doc.sha256, doc.scan.status
            );
            Ok(ExitCode::SUCCESS)
        }
        DocCommand::List { portal, matter, include_deleted, limit, after, json } => {
            let details = json!({ "portal_id": portal, "matter": matter, "include_deleted": include_deleted });
            audit_read(me, AuditAction::DocumentList, "documents", details).await?;
            let matter = match matter {
                Some(m) => Some(service_on("matter", &m, me.resolve_matter(&m, false).await)?),
                None => None,
            };
            // One page if asked for; else every page, printed as it comes, so that memory
            // stays one page however many documents there are.
            let one_page = limit.is_some() || after.is_some();
            let size = limit.unwrap_or(LIST_PAGE);
            let mut req = service(PageRequest::parse(after.as_deref(), Some(&size.to_string())))?;
            let mut out = DocListing::new(json.json);
            loop {
                let page = match &matter {
                    Some(m) => service(me.matter_documents(m, &req).await)?.map(|d| d.doc),
                    None => service(me.all_documents(portal.as_deref(), include_deleted, &req).await)?,
                };
                for d in &page.items {
                    out.item(d)?;
                }
                match page.next {
                    Some(next) if one_page => {
                        eprintln!("More documents follow: --after {next}");
                        break;
                    }
                    Some(next) => req = service(PageRequest::after(&next, size))?,
                    None => break,
                }
            }
            out.finish()?;
            Ok(ExitCode::SUCCESS)
        }
        DocCommand::Get { id, output, force } => {
            let to_stdout = output.as_os_str() == "-";
            // Checked before the document is opened (and its download audited).
            if !to_stdout && let Ok(meta) = std::fs::metadata(&output) {
                if !meta.is_file() {
                    bail!("{} is not a regular file; use --output - for standard output", output.display());
                }
                if !force {
                    bail!("{} exists; pass --force to overwrite it", output.display());
                }
            }
            let (doc, stream) = service_on("document", &id, me.open_document(&id).await)?;
            let mut stream = std::pin::pin!(stream);
            if to_stdout {
                let mut out = std::io::stdout().lock();
                while let Some(chunk) = stream.next().await {
                    out.write_all(&chunk.context("decrypting the document")?)?;
                }
                out.flush()?;
                eprintln!("Wrote {} bytes ({}) to standard output", doc.size, doc.name);
                return Ok(ExitCode::SUCCESS);
            }
            let mut partial_name = output.file_name().unwrap_or_default().to_owned();
            partial_name.push(".courier-partial");
            let partial = output.with_file_name(partial_name);
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true) // a partial file left by an interrupted run is ours to replace
                .mode(0o600) // privileged plaintext: readable by the operator only
                .open(&partial)
                .with_context(|| format!("creating {}", partial.display()))?;
            let written: Result<()> = async {
                while let Some(chunk) = stream.next().await {
                    file.write_all(&chunk.context("decrypting the document")?)?;
                }
                file.sync_all()?;
                Ok(())
            }
            .await;
            if let Err(e) = written {
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
            if force {
                std::fs::rename(&partial, &output).with_context(|| format!("writing {}", output.display()))?;
            } else {
                // A hard link fails if the name was taken meanwhile: nothing is overwritten.
                let linked = std::fs::hard_link(&partial, &output);
                let _ = std::fs::remove_file(&partial);
                linked.with_context(|| format!("writing {} (use --force to overwrite)", output.display()))?;
            }
            eprintln!("Wrote {} bytes ({}) to {}", doc.size, doc.name, output.display());
            Ok(ExitCode::SUCCESS)
        }
        DocCommand::Filed { ids, reference, json } => crate::lifecycle::filed(me, ids, reference, json.json).await,
        DocCommand::Certificate { id, output } => crate::lifecycle::certificate(me, &id, output).await,
        DocCommand::Release { id, reason, json } => {
            service_on("document", &id, me.release_document(&id, &reason).await)?;
            if json.json {
                return print_json(&json!({ "id": id, "released": true }));
            }
            println!("Released document {id}.");
            Ok(ExitCode::SUCCESS)
        }
        DocCommand::Delete { id, json } => {
            let purged = service_on("document", &id, me.delete_document(&id).await)?;
            if !purged {
                eprintln!(
                    "Warning: another connection is reading the database, so an old copy of document {id}'s key may \
                     stay in courier.db-wal until it stops; upkeep (or the next delete) clears it."
                );
            }
            if json.json {
                return print_json(&json!({ "id": id, "deleted": true, "purged": purged }));
            }
            println!("Shredded document {id}.");
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn audit(me: &Acting, cmd: AuditCommand) -> Result<ExitCode> {
    match cmd {
        AuditCommand::Verify { json } => {
            let report = service(me.verify_audit().await)?;
            // Recorded after the walk, so the report covers the trail as it was found. A broken
            // trail gets no new signed head on top: that would bless what was done to it.
            if report.ok {
                let details = json!({ "ok": true, "events": report.events });
                if let Err(e) = me.audit_read(AuditAction::AuditVerify, "audit", details).await {
                    tracing::warn!(error = %e, "could not record the verification in the audit trail");
                }
            } else {
                eprintln!("The audit trail does not verify; this verification is not appended to it.");
            }
            let code = if report.ok { ExitCode::SUCCESS } else { ExitCode::FAILURE };
            if json.json {
                print_json(&report)?;
            } else if let Some(e) = &report.error {
                println!("BROKEN at event {}: {}", e.seq, e.reason);
            } else {
                println!("OK: {} events, chain intact, signed head matches.", report.events);
            }
            if report.ok && report.heads_log_behind > 0 {
                eprintln!(
                    "warning: audit/heads.log is {} events behind the database (normal for a few while the server \
                     writes; more means its appends fail, see the server's log)",
                    report.heads_log_behind
                );
            }
            Ok(code)
        }
        AuditCommand::RestartLog { reason, accept_lost_events, json } => {
            let details = service(me.restart_audit_log(&reason, accept_lost_events).await)?;
            if details["replaced_heads"] == 0 && details["head_seq"].as_i64().is_some_and(|seq| seq > 0) {
                eprintln!(
                    "warning: the old heads.log held no heads, so events lost before this restart could not be \
                     counted; the trail records that (replaced_heads: 0)"
                );
            }
            if let Some(problem) = details["replaced_problem"].as_str() {
                eprintln!("warning: the old heads.log was damaged ({problem}); it is kept, and the trail records that");
            }
            if json.json {
                return print_json(&details);
            }
            println!(
                "Started a new heads.log at event {}; the old one is kept as {}.",
                details["head_seq"],
                details["replaced"].as_str().unwrap_or("(none)")
            );
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::PublicKey { json } => {
            let key = me.audit_public_key();
            if json.json {
                return print_json(&json!({ "algorithm": "ed25519", "public_key": key }));
            }
            println!("{key}");
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::AddressHash { address } => {
            println!("{}", service(me.address_hash(address))?);
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Export { since, json: _ } => {
            let since_ms = since.map(|s| parse_rfc3339(&s)).transpose()?.unwrap_or(i64::MIN);
            audit_read(me, AuditAction::AuditExport, "audit", json!({ "since_ms": since_ms })).await?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            // A reader that stopped early (`| head`) is not an error of the export.
            let mut reader_gone = false;
            let written = me
                .export_audit(since_ms, |event| {
                    let r = writeln!(out, "{event}");
                    reader_gone = matches!(&r, Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe);
                    r
                })
                .await;
            if reader_gone {
                return Ok(ExitCode::SUCCESS);
            }
            service(written)?;
            match out.flush() {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                other => other?,
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn key(me: &Acting, cmd: KeyCommand) -> Result<ExitCode> {
    let rewrapped = |r: courier_server::services::keys::Rewrapped, as_json: bool| -> Result<ExitCode> {
        if as_json {
            return print_json(&r);
        }
        println!(
            "Current master key version {}: re-wrapped {} document keys and {} secrets.",
            r.version, r.documents_rewrapped, r.secrets_rewrapped
        );
        Ok(ExitCode::SUCCESS)
    };
    match cmd {
        KeyCommand::Status { json } => {
            let status = service(me.key_status().await)?;
            audit_read(me, AuditAction::KeyStatus, "master_key", json!({})).await?;
            if json.json {
                return print_json(&status);
            }
            for (version, uses) in &status.versions {
                let current = if *version == status.current_version { " (current)" } else { "" };
                println!("version {version}{current}: {uses} wrapped keys");
            }
            Ok(ExitCode::SUCCESS)
        }
        KeyCommand::Rotate { json } => rewrapped(service(me.rotate_master_key().await)?, json.json),
        KeyCommand::Rewrap { json } => rewrapped(service(me.rewrap_all().await)?, json.json),
        KeyCommand::Retire { version, json } => {
            service(me.retire_master_key(version).await)?;
            if json.json {
                return print_json(&json!({ "version": version, "retired": true }));
            }
            println!("Master key version {version} erased.");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The one file of `doc upload`, as the upload use case takes files.
struct OneFile(Option<IncomingFile>);

impl IncomingFiles for OneFile {
    async fn next_file(&mut self) -> courier_server::Result<Option<IncomingFile>> {
        Ok(self.0.take())
    }
}
