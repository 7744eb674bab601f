//! Watch and respond (DESIGN.md promise 9): what happens because an audit event was written.
//!
//! Every audited transaction passes each of its events through [`on_event`], inside the same
//! transaction: it queues the webhook of the event, counts a client upload into its portal's
//! notification window, and runs the alert rules, whose windows live in the database so that
//! they hold across restarts and instances. A raised alert is itself an audit event
//! (`alert.raised`) with its mail and webhook queued beside it. So an action, its alert and
//! its deliveries commit together or not at all; the leader's [`delivery`] worker sends them.

pub mod delivery;
pub mod incident;
pub mod lockdown;
mod settings;
pub mod views;

use std::net::IpAddr;

use serde_json::{Value, json};

pub use settings::{OfficeHours, Threshold, WatchSettings};

use super::audit::AuditAction;
use super::{Actor, Caller, Via};
use crate::Result;
use crate::error::{Said, SaidArg};
use courier_core::time_fmt::rfc3339;
use courier_store::{Tx, watch as rows};

/// What an alert is about (the `alert` field of its event, mail and webhook).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    /// Many unknown-link answers on `/p` or `/s` to one address.
    LinkProbing,
    /// One user or token downloaded many documents.
    BulkDownload,
    /// Repeated failures locked a sign-in name.
    AccountLocked,
    /// An upload carried malware (refused or quarantined).
    Malware,
    /// A staff sign-in outside `office_hours`.
    OffHoursSignIn,
    /// The periodic verification found the audit trail broken.
    AuditBroken,
    /// The installation was locked down, or released.
    Lockdown,
    /// An operator started a new `heads.log` (`courier audit restart-log`): what an insider
    /// would run after deleting the newest events, so the firm hears of every one.
    AuditLogRestarted,
}

impl AlertKind {
    pub const ALL: [Self; 8] = [
        Self::LinkProbing,
        Self::BulkDownload,
        Self::AccountLocked,
        Self::Malware,
        Self::OffHoursSignIn,
        Self::AuditBroken,
        Self::Lockdown,
        Self::AuditLogRestarted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::LinkProbing => "link_probing",
            Self::BulkDownload => "bulk_download",
            Self::AccountLocked => "account_locked",
            Self::Malware => "malware",
            Self::OffHoursSignIn => "off_hours_sign_in",
            Self::AuditBroken => "audit_broken",
            Self::Lockdown => "lockdown",
            Self::AuditLogRestarted => "audit_log_restarted",
        }
    }
}

/// An alert about to be raised.
#[derive(Debug, Clone)]
pub struct Alert {
    pub kind: AlertKind,
    /// What happened, in one sentence (no file name, nothing a client typed), in English for
    /// the audit trail and the webhook.
    pub summary: String,
    /// The same sentence as a message, for mails and pages in another language.
    pub said: Said,
    /// Where from: the address, if one is known. A client's goes into the chain only as its
    /// keyed hash; the mail and the webhook carry it readable.
    pub ip: Option<IpAddr>,
    /// Who, when it is someone: `staff:<id>`, `token:<id>`.
    pub actor: Option<String>,
    pub details: Value,
}

/// The webhook events (DESIGN.md, Watch and respond).
fn webhook_event(action: AuditAction) -> Option<&'static str> {
    match action {
        AuditAction::DocumentUpload => Some("document.uploaded"),
        AuditAction::DocumentDelete => Some("document.shredded"),
        AuditAction::ShareDownload => Some("share.downloaded"),
        _ => None,
    }
}

/// One audit event as the rules see it.
pub(crate) struct Event<'a> {
    pub caller: &'a Caller,
    pub action: AuditAction,
    pub target: &'a str,
    pub details: &'a Value,
    pub seq: i64,
    pub at: i64,
}

/// Runs inside the event's transaction: queues its webhook, counts a client upload into its
/// portal's window, and returns the alerts the event raises (the caller records them).
pub(crate) async fn on_event(tx: &mut Tx, log: &super::AuditLog, ev: &Event<'_>) -> Result<Vec<Alert>> {
    let w = log.watch();
    if let Some(event) = webhook_event(ev.action) {
        let data = json!({ "target": ev.target, "audit_seq": ev.seq, "details": ev.details });
        enqueue_webhook(tx, w, event, ev.at, data).await?;
    }
    let mut alerts = Vec::new();
    match ev.action {
        AuditAction::DocumentUpload => {
            if let (Actor::Client(_), Some(portal)) = (&ev.caller.actor, ev.details["portal_id"].as_str()) {
                let size = ev.details["size"].as_i64().unwrap_or(0);
                let closes = ev.at + w.notify_batch.as_millis() as i64;
                rows::count_upload(tx, portal, size, ev.at, closes).await?;
            }
            if let Some(signature) = ev.details["scan"]["malware"].as_str() {
                alerts.push(malware(ev, signature, false));
            }
        }
        AuditAction::DocumentRefused if ev.details["reason"] == "malware" => {
            let signature = ev.details["signature"].as_str().unwrap_or("unknown");
            alerts.push(malware(ev, signature, true));
        }
        AuditAction::AccountLocked => alerts.extend(account_locked(tx, log, ev).await?),
        AuditAction::LoginSuccess if w.off_hours(ev.at) => alerts.push(Alert {
            kind: AlertKind::OffHoursSignIn,
            summary: format!("{} signed in outside office hours ({}).", ev.caller.actor, w.local_time(ev.at)),
            said: Said::new("alert-off-hours")
                .with("who", SaidArg::Text(ev.caller.actor.to_string()))
                .with("when", SaidArg::Time(ev.at)),
            ip: ev.caller.ip,
            actor: Some(ev.caller.actor.to_string()),
            details: json!({ "user": ev.target, "method": ev.details["method"] }),
        }),
        // Staff downloads count per user, whatever the session or token; a share's per link.
        AuditAction::DocumentDownload | AuditAction::ShareDownload => {
            let who = ev.caller.actor.to_string();
            if let Some(total) = crossed(tx, "bulk_download", &who, ev.at, 1, w.bulk_download).await? {
                let token = match &ev.caller.via {
                    Via::Api(grant) => Some(grant.token_id.clone()),
                    _ => None,
                };
                let via = token.as_ref().map(|t| format!(" (last through API token {t})")).unwrap_or_default();
                alerts.push(Alert {
                    kind: AlertKind::BulkDownload,
                    summary: format!(
                        "{who} downloaded {total} documents within {}{via}.",
                        courier_core::DurationSpec(w.bulk_download.window).human()
                    ),
                    said: Said::new("alert-bulk-download")
                        .with("who", SaidArg::Text(who.clone()))
                        .with("count", SaidArg::Number(total))
                        .with("window", SaidArg::Duration(w.bulk_download.window.as_secs()))
                        .with("token", SaidArg::Text(token.unwrap_or_else(|| "none".into()))),
                    ip: ev.caller.ip,
                    actor: Some(who),
                    details: json!({ "documents": total, "window": courier_core::DurationSpec(w.bulk_download.window) }),
                });
            }
        }
        _ => {}
    }
    Ok(alerts)
}

/// A lock of an existing account is an alert naming it. A lock of a name nobody has (an
/// attacker's text) names nothing typed, and fires once per window and address, so that
/// made-up names cannot flood the security contact.
async fn account_locked(tx: &mut Tx, log: &super::AuditLog, ev: &Event<'_>) -> Result<Option<Alert>> {
    let typed = ev.details["email"].as_str().unwrap_or_default();
    let known = courier_store::users::by_email(&mut **tx, typed).await?;
    if let Some(user) = known {
        return Ok(Some(Alert {
            kind: AlertKind::AccountLocked,
            summary: format!("Sign-ins as {} are locked after repeated failed attempts.", user.email),
            said: Said::new("alert-account-locked").with("email", SaidArg::Text(user.email.clone())),
            ip: ev.caller.ip,
            actor: Some(format!("staff:{}", user.id)),
            details: json!({ "user_id": user.id }),
        }));
    }
    let w = log.watch();
    let subject = ev.caller.ip.map_or_else(|| "unknown".to_owned(), |ip| log.keyed_network(ip));
    let once = Threshold { count: 1, window: w.probe.window };
    Ok(crossed(tx, "account_locked_unknown", &subject, ev.at, 1, once).await?.map(|_| Alert {
        kind: AlertKind::AccountLocked,
        summary: "Sign-ins with names no account has were locked after repeated failed attempts.".into(),
        said: Said::new("alert-account-locked-unknown"),
        ip: ev.caller.ip,
        actor: None,
        details: json!({ "known_account": false }),
    }))
}

fn malware(ev: &Event<'_>, signature: &str, refused: bool) -> Alert {
    let outcome = if refused { "refused" } else { "kept in quarantine" };
    Alert {
        kind: AlertKind::Malware,
        summary: format!("An upload carried malware ({signature}); it was {outcome}."),
        said: Said::new("alert-malware")
            .with("signature", SaidArg::Text(signature.to_owned()))
            .with("outcome", SaidArg::Text(if refused { "refused" } else { "kept" }.to_owned())),
        ip: ev.caller.ip,
        actor: Some(ev.caller.actor.to_string()),
        details: json!({ "signature": signature, "portal_id": ev.details["portal_id"],
            "matter_id": ev.details["matter_id"], "document_id": ev.details["document_id"] }),
    }
}

/// Counts an event for a threshold rule; the total when this event makes the rule fire (it
/// fires once per window and subject, on every instance together).
pub(crate) async fn crossed(
    tx: &mut Tx,
    rule: &str,
    subject: &str,
    at: i64,
    weight: i64,
    t: Threshold,
) -> Result<Option<i64>> {
    let window = t.window.as_millis() as i64;
    let total = rows::count_hit(tx, rule, subject, at, weight, at - window).await?;
    if total < t.count {
        return Ok(None);
    }
    Ok(rows::try_fire(tx, rule, subject, at, at - window).await?.then_some(total))
}

/// Queues a signed webhook (when `webhook_url` is set). The body is fixed now, so every retry
/// sends the same bytes with the same id.
pub(crate) async fn enqueue_webhook(tx: &mut Tx, w: &WatchSettings, event: &str, at: i64, data: Value) -> Result<()> {
    if w.webhook.is_none() {
        return Ok(());
    }
    let id = uuid::Uuid::new_v4().to_string();
    let body = json!({ "id": id, "event": event, "time": rfc3339(at), "data": data }).to_string();
    rows::enqueue(tx, &id, delivery::WEBHOOK, event, &body, at).await?;
    Ok(())
}

/// Queues a mail (when `smtp_url` is set).
pub(crate) async fn enqueue_mail(
    tx: &mut Tx,
    w: &WatchSettings,
    topic: &str,
    to: &[String],
    subject: &str,
    body: &str,
    at: i64,
) -> Result<()> {
    if w.mail.is_none() || to.is_empty() {
        return Ok(());
    }
    let id = uuid::Uuid::new_v4().to_string();
    let payload = json!({ "to": to, "subject": subject, "body": body }).to_string();
    rows::enqueue(tx, &id, delivery::MAIL, topic, &payload, at).await?;
    Ok(())
}

/// The mail and webhook of an alert recorded as event `seq`.
pub(crate) async fn enqueue_alert(
    tx: &mut Tx,
    w: &WatchSettings,
    alert: &Alert,
    seq: Option<i64>,
    at: i64,
) -> Result<()> {
    let kind = alert.kind.as_str();
    let link = format!("{}/alerts", w.public_url);
    let from = match (&alert.ip, &alert.actor) {
        (Some(ip), Some(actor)) => format!("{actor} at {ip}"),
        (Some(ip), None) => ip.to_string(),
        (None, Some(actor)) => actor.clone(),
        (None, None) => "-".into(),
    };
    let event =
        seq.map_or_else(|| "none (the trail takes no new events while it is broken)".to_owned(), |s| s.to_string());
    let (subject, body) = match alert_mail(w, alert, seq, &link, at) {
        Some(said) => said,
        None => {
            let body = format!(
                "Courier raised an alert.\n\nAlert: {kind}\nWhat: {}\nWhen: {}\nFrom: {from}\nAudit event: {event}\n\nReview it: {link}\n",
                alert.summary,
                w.local_time(at)
            );
            (format!("[Courier alert] {kind}: {}", alert.summary), body)
        }
    };
    enqueue_mail(tx, w, "alert", &w.alert_to, &subject, &body, at).await?;
    let data = json!({ "alert": kind, "summary": alert.summary, "at": rfc3339(at), "ip": alert.ip.map(|i| i.to_string()),
        "actor": alert.actor, "audit_seq": seq, "details": alert.details, "link": link });
    enqueue_webhook(tx, w, "alert", at, data).await
}

/// The alert's mail in `alert_language` when that is not English (English keeps the text the
/// audit trail has); `None` for English, or if a message is missing (logged; English goes).
fn alert_mail(w: &WatchSettings, alert: &Alert, seq: Option<i64>, link: &str, at: i64) -> Option<(String, String)> {
    use courier_core::Language;
    let lang = w.alert_language;
    if lang == Language::En {
        return None;
    }
    let catalog = crate::i18n::catalog();
    let said = || -> std::result::Result<(String, String), String> {
        let what = catalog.said(lang, &alert.said, &|ms| w.local_time(ms))?;
        let kind = catalog.message(lang, &format!("staff-alerts-kind-{}", alert.kind.as_str()), None)?;
        let mut args = fluent_bundle::FluentArgs::new();
        args.set("actor", alert.actor.clone().unwrap_or_default());
        args.set("ip", alert.ip.map(|ip| ip.to_string()).unwrap_or_default());
        let from = match (&alert.ip, &alert.actor) {
            (Some(_), Some(_)) => catalog.message(lang, "mail-alert-from", Some(&args))?,
            (Some(ip), None) => ip.to_string(),
            (None, Some(actor)) => actor.clone(),
            (None, None) => "-".into(),
        };
        args.set("kind", kind);
        args.set("what", what);
        args.set("when", w.local_time(at));
        args.set("from", from);
        match seq {
            Some(seq) => args.set("event", seq.to_string()),
            None => args.set("event", catalog.message(lang, "mail-alert-no-event", None)?),
        }
        args.set("link", link.to_owned());
        Ok((
            catalog.message(lang, "mail-alert-subject", Some(&args))?,
            catalog.message(lang, "mail-alert-body", Some(&args))?,
        ))
    };
    said().map_err(|e| tracing::error!(error = %e, "an alert mail has no message in its language")).ok()
}

impl super::Courier {
    /// Counts an unknown-link answer to `ip`; `link_probing` fires at the threshold, once per
    /// window and address. The address is counted under its keyed hash.
    pub async fn note_refused_link(&self, ip: IpAddr) -> Result<()> {
        // By network: an IPv6 host has a /64 of addresses to rotate through.
        let subject = self.audit.keyed_network(ip);
        let now = self.clock.now_ms();
        let mut tx = self.audit.begin(&self.db).await?;
        if let Some(total) = crossed(&mut tx, "link_probing", &subject, now, 1, self.watch.probe).await? {
            let window = courier_core::DurationSpec(self.watch.probe.window);
            tx.raise(Alert {
                kind: AlertKind::LinkProbing,
                summary: format!(
                    "{total} requests for unknown or closed links came from one address within {}.",
                    window.human()
                ),
                said: Said::new("alert-link-probing")
                    .with("count", SaidArg::Number(total))
                    .with("window", SaidArg::Duration(window.0.as_secs())),
                ip: Some(ip),
                actor: None,
                details: json!({ "count": total, "window": window }),
            })
            .await?;
        }
        tx.commit_even_if_silent().await
    }

    /// `Ok` when the database answers within two seconds; else the part and why.
    pub async fn health(&self) -> std::result::Result<(), String> {
        match tokio::time::timeout(std::time::Duration::from_secs(2), self.db.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("database ({e})")),
            Err(_) => Err("database (no answer within 2 s)".into()),
        }
    }

    /// Sets the gauges that are read rather than counted, before `/metrics` answers.
    pub async fn refresh_gauges(&self) {
        if let Ok((pending, failed)) = rows::counts(self.db.pool()).await {
            self.metrics.outbox_pending.set(pending);
            self.metrics.outbox_failed.set(failed);
        }
        self.metrics.db_connections.set(i64::from(self.db.pool().size()));
        self.metrics.db_connections_idle.set(self.db.pool().num_idle() as i64);
        if let Ok(active) = self.locked_down().await {
            self.metrics.lockdown.set(i64::from(active));
        }
    }
}
