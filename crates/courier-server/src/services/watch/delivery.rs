//! The delivery worker: on the instance holding the `watch` lease, it closes upload windows
//! into notifications and mails, sends what the outbox holds (mails over SMTP, signed
//! webhooks over HTTPS), retries failures with backoff, and verifies the audit trail now and
//! then. Rows are claimed one by one, so a restart or a second instance can send a row
//! twice but never lose one: at least once, as promised.

use std::sync::Arc;
use std::time::{Duration, Instant};

use courier_core::Language;
use fluent_bundle::FluentArgs;
use futures_util::StreamExt;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::Serialize;

use super::settings::{MailSettings, WatchSettings};
use super::{Alert, AlertKind};
use crate::services::Courier;
use crate::{Error, Result};
use courier_store::watch::{self as rows, Notification, OutboxRow};

pub const MAIL: &str = "mail";
pub const WEBHOOK: &str = "webhook";

/// Deliveries claimed per round, and how long a claim lasts.
const BATCH: i64 = 20;
const CLAIM: Duration = Duration::from_secs(120);
/// Deliveries attempted at once.
const SENDERS: usize = 4;
/// One attempt's limit (connect, send, answer).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);
/// Backoff: 10 s, 20 s, 40 s, … at most an hour.
const FIRST_RETRY: Duration = Duration::from_secs(10);
const LONGEST_RETRY: Duration = Duration::from_secs(3600);

/// What one round did (`courier upkeep run` reports it too).
#[derive(Debug, Default, Serialize)]
pub struct DeliveryReport {
    pub notifications: usize,
    pub sent: usize,
    pub failed_attempts: usize,
    pub given_up: usize,
}

/// The mail relay and the HTTP client, built once.
pub struct Sender {
    mailer: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Option<lettre::message::Mailbox>,
    http: reqwest::Client,
}

impl Sender {
    pub fn new(w: &WatchSettings) -> Result<Self> {
        let mailer = w.mail.as_ref().map(smtp).transpose()?;
        let from = w.mail.as_ref().map(|m| m.from.parse().map_err(|e| Error::internal("mail_from", e))).transpose()?;
        // reqwest's own TLS: rustls on aws-lc-rs, TLS 1.2 and 1.3, the platform's roots.
        let http = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            // A redirect could send the signed body somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::internal("webhook client", e))?;
        Ok(Self { mailer, from, http })
    }
}

fn smtp(m: &MailSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>> {
    let tls = TlsParameters::new(m.host.clone()).map_err(|e| Error::internal("SMTP TLS", e))?;
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&m.host)
        .port(m.port)
        .timeout(Some(ATTEMPT_TIMEOUT))
        // STARTTLS when offered; required when a password would go over the connection (a
        // relay, or someone in between, that offers no STARTTLS must not get it in clear).
        .tls(match (m.implicit_tls, m.credentials.is_some()) {
            (true, _) => Tls::Wrapper(tls),
            (false, true) => Tls::Required(tls),
            (false, false) => Tls::Opportunistic(tls),
        });
    if let Some((user, password)) = &m.credentials {
        b = b.credentials(Credentials::new(user.clone(), password.to_string()));
    }
    Ok(b.build())
}

impl Courier {
    /// Runs deliveries every `every` until the process ends, on one instance at a time (the
    /// `watch` lease). Mails and webhooks are two lanes, each with its own round in flight:
    /// a receiver that hangs delays its own lane only, never the security contact's mail.
    pub async fn run_deliveries(self: Arc<Self>, every: Duration) {
        let sender = match Sender::new(&self.watch) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                tracing::error!(error = %e, detail = e.internal_detail(), "mails and webhooks cannot be sent");
                return;
            }
        };
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut lanes: [Option<tokio::task::JoinHandle<()>>; 2] = [None, None];
        let mut verifying: Option<tokio::task::JoinHandle<()>> = None;
        let mut last_verify: Option<Instant> = None;
        loop {
            tick.tick().await;
            let now = self.clock.now_ms();
            let until = now + 10 * every.as_millis().max(1000) as i64;
            match courier_store::leases::try_acquire(self.db.pool(), "watch", &self.instance_id, now, until).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "could not take the watch lease");
                    continue;
                }
            }
            if let Err(e) = self.close_windows().await {
                tracing::warn!(error = %e, detail = e.internal_detail(), "closing upload windows failed");
            }
            for (lane, channel) in lanes.iter_mut().zip([MAIL, WEBHOOK]) {
                if lane.as_ref().is_some_and(|t| !t.is_finished()) {
                    continue;
                }
                let (courier, sender) = (Arc::clone(&self), Arc::clone(&sender));
                *lane = Some(tokio::spawn(async move {
                    let mut report = DeliveryReport::default();
                    if let Err(e) = courier.send_due(&sender, channel, &mut report).await {
                        tracing::warn!(error = %e, detail = e.internal_detail(), channel, "sending the outbox failed");
                    }
                }));
            }
            // A long trail takes a while to verify: on its own task, one at a time.
            let idle = verifying.as_ref().is_none_or(|t| t.is_finished());
            if idle && last_verify.is_none_or(|at| at.elapsed() >= self.watch.audit_verify_interval) {
                last_verify = Some(Instant::now());
                let courier = Arc::clone(&self);
                verifying = Some(tokio::spawn(async move {
                    if let Err(e) = courier.verify_and_alert().await {
                        tracing::warn!(error = %e, detail = e.internal_detail(), "periodic audit verification failed to run");
                    }
                }));
            }
        }
    }

    /// One round of both lanes at once (`courier upkeep run`). Errors are logged, not returned.
    pub(in crate::services) async fn deliver_once(&self, sender: &Sender) -> DeliveryReport {
        let mut report = DeliveryReport::default();
        match self.close_windows().await {
            Ok(n) => report.notifications = n,
            Err(e) => tracing::warn!(error = %e, detail = e.internal_detail(), "closing upload windows failed"),
        }
        for channel in [MAIL, WEBHOOK] {
            if let Err(e) = self.send_due(sender, channel, &mut report).await {
                tracing::warn!(error = %e, detail = e.internal_detail(), channel, "sending the outbox failed");
            }
        }
        report
    }

    /// Turns every closed upload window into a notification and a mail to the portal's owner.
    async fn close_windows(&self) -> Result<usize> {
        let now = self.clock.now_ms();
        let mut done = 0;
        for portal_id in rows::closed_windows(self.db.pool(), now).await? {
            let mut tx = self.db.begin().await?;
            let Some(w) = rows::take_window(&mut tx, &portal_id, now).await? else { continue };
            let portal = courier_store::portals::get(&mut *tx, &w.portal_id).await?;
            let owner = courier_store::users::by_id(&mut *tx, &w.owner_id).await?.filter(|u| !u.disabled);
            let (Some(portal), Some(owner)) = (portal.filter(|p| p.notify), owner) else {
                // A deleted portal, one switched off meanwhile, or a disabled owner: nobody to tell.
                courier_store::Db::commit(tx).await?;
                continue;
            };
            let n = Notification {
                id: uuid::Uuid::new_v4().to_string(),
                user_id: owner.id.clone(),
                portal_id: portal.id.clone(),
                label: portal.label.clone(),
                files: w.files,
                bytes: w.bytes,
                opened_at: w.opened_at,
                created_at: now,
                read_at: None,
            };
            rows::insert_notification(&mut tx, &n).await?;
            let (subject, body) = upload_mail(&self.watch, &n, owner.language.unwrap_or(Language::En));
            super::enqueue_mail(
                &mut tx,
                &self.watch,
                "upload",
                std::slice::from_ref(&owner.email),
                &subject,
                &body,
                now,
            )
            .await?;
            courier_store::Db::commit(tx).await?;
            done += 1;
        }
        Ok(done)
    }

    async fn send_due(&self, sender: &Sender, channel: &str, report: &mut DeliveryReport) -> Result<()> {
        let now = self.clock.now_ms();
        let mut conn = self.db.pool().acquire().await.map_err(courier_store::StoreError::from)?;
        let due = rows::claim_due(&mut conn, channel, now, now + CLAIM.as_millis() as i64, BATCH).await?;
        drop(conn);
        // A few at a time: one receiver that times out must not hold up every mail.
        let outcomes = futures_util::stream::iter(due)
            .map(|row| async move {
                let outcome = match tokio::time::timeout(ATTEMPT_TIMEOUT, self.send(sender, &row)).await {
                    Ok(r) => r,
                    Err(_) => Err("timed out".to_owned()),
                };
                (row, outcome)
            })
            .buffer_unordered(SENDERS)
            .collect::<Vec<_>>()
            .await;
        for (row, outcome) in outcomes {
            let now = self.clock.now_ms();
            match outcome {
                Ok(()) => {
                    rows::mark_sent(self.db.pool(), &row.id, now).await?;
                    self.metrics.deliveries.get_or_create(&delivery_labels(&row.channel, "sent")).inc();
                    report.sent += 1;
                }
                Err(why) => {
                    let give_up = now - row.created_at >= self.watch.give_up.as_millis() as i64;
                    let wait = FIRST_RETRY.saturating_mul(1 << row.attempts.clamp(0, 16) as u32).min(LONGEST_RETRY);
                    let due = now + wait.as_millis() as i64;
                    rows::mark_attempt_failed(self.db.pool(), &row.id, now, due, &why, give_up).await?;
                    let state = if give_up { "given_up" } else { "retrying" };
                    self.metrics.deliveries.get_or_create(&delivery_labels(&row.channel, state)).inc();
                    if give_up {
                        tracing::error!(id = %row.id, channel = %row.channel, topic = %row.topic, error = %why, "gave up a delivery");
                        report.given_up += 1;
                    } else {
                        tracing::warn!(id = %row.id, channel = %row.channel, attempt = row.attempts + 1, error = %why, "delivery failed; will retry");
                    }
                    report.failed_attempts += 1;
                }
            }
        }
        Ok(())
    }

    /// One attempt; the error is a short description without secrets.
    async fn send(&self, sender: &Sender, row: &OutboxRow) -> std::result::Result<(), String> {
        match row.channel.as_str() {
            MAIL => {
                let (Some(mailer), Some(from)) = (&sender.mailer, &sender.from) else {
                    return Err("no smtp_url is set".into());
                };
                let mail: MailPayload = serde_json::from_str(&row.payload).map_err(|e| format!("bad payload: {e}"))?;
                let mut builder = lettre::Message::builder()
                    .from(from.clone())
                    .subject(mail.subject)
                    .message_id(Some(format!("<{}@courier>", row.id)))
                    .header(lettre::message::header::ContentType::TEXT_PLAIN);
                for to in &mail.to {
                    builder = builder.to(to.parse().map_err(|_| format!("{to:?} is not an address"))?);
                }
                // 8bit where lettre allows it (short lines), else its own choice of encoding.
                let body = lettre::message::Body::new_with_encoding(
                    mail.body,
                    lettre::message::header::ContentTransferEncoding::EightBit,
                )
                .unwrap_or_else(lettre::message::Body::new);
                let message = builder.body(body).map_err(|e| format!("mail: {e}"))?;
                mailer.send(message).await.map(|_| ()).map_err(|e| format!("SMTP: {e}"))
            }
            WEBHOOK => {
                let Some(hook) = &self.watch.webhook else {
                    return Err("no webhook_url is set".into());
                };
                let signature = hex::encode(courier_crypto::hmac_sha256(&hook.secret, row.payload.as_bytes()));
                let resp = sender
                    .http
                    .post(&hook.url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header("X-Courier-Event", &row.topic)
                    .header("X-Courier-Signature", format!("sha256={signature}"))
                    .body(row.payload.clone())
                    .send()
                    .await
                    .map_err(|e| format!("webhook: {}", e.without_url()))?;
                if resp.status().is_success() { Ok(()) } else { Err(format!("webhook answered {}", resp.status())) }
            }
            other => Err(format!("unknown channel {other:?}")),
        }
    }

    /// Verifies the whole trail; a broken one raises `audit_broken` once a day at most. The
    /// alert cannot be an event of the broken trail (nothing is appended to it): only its
    /// mail and webhook go out.
    pub(in crate::services) async fn verify_and_alert(&self) -> Result<bool> {
        let report = self.audit.verify(&self.db).await?;
        if report.ok {
            return Ok(true);
        }
        let now = self.clock.now_ms();
        let mut tx = self.db.begin().await?;
        let day = 86_400_000;
        if rows::try_fire(&mut tx, "audit_broken", "trail", now, now - day).await? {
            let at = report.error.as_ref().map(|e| e.seq);
            let why = report.error.as_ref().map(|e| e.reason.clone()).unwrap_or_default();
            let alert = Alert {
                kind: AlertKind::AuditBroken,
                summary: format!("The audit trail failed verification at event {}: {why}", at.unwrap_or(0)),
                said: crate::error::Said::new("alert-audit-broken")
                    .with("seq", crate::error::SaidArg::Number(at.unwrap_or(0)))
                    .with("why", crate::error::SaidArg::Text(why.clone())),
                ip: None,
                actor: None,
                details: serde_json::to_value(&report).unwrap_or_default(),
            };
            super::enqueue_alert(&mut tx, &self.watch, &alert, None, now).await?;
            tracing::error!(seq = ?at, reason = %why, "the audit trail failed verification; alert raised");
        }
        courier_store::Db::commit(tx).await?;
        Ok(false)
    }
}

fn delivery_labels(channel: &str, state: &'static str) -> crate::metrics::DeliveryLabels {
    crate::metrics::DeliveryLabels { channel: if channel == MAIL { "mail" } else { "webhook" }, state }
}

#[derive(serde::Deserialize)]
struct MailPayload {
    to: Vec<String>,
    subject: String,
    body: String,
}

/// The upload mail: the portal's label, how many files and bytes, when, and the link. Never
/// a file name, nothing a client typed, no content.
/// The mail to a portal's owner, in the language they chose for their pages (English if none:
/// a mail has no browser to ask).
fn upload_mail(w: &WatchSettings, n: &Notification, lang: Language) -> (String, String) {
    let link = format!("{}/portals/{}", w.public_url, n.portal_id);
    say_upload(n, &link, (w.local_time(n.opened_at), w.local_time(n.created_at)), lang)
}

/// The upload mail's subject and body: the window (`from`, `to`) as local times.
fn say_upload(n: &Notification, link: &str, (from, to): (String, String), lang: Language) -> (String, String) {
    let mut args = FluentArgs::new();
    args.set("files", n.files);
    args.set("size", crate::i18n::size_in(lang, n.bytes.max(0) as u64));
    args.set("label", n.label.clone());
    args.set("from", from);
    args.set("to", to);
    args.set("link", link.to_owned());
    let say = |key: &str| {
        let catalog = crate::i18n::catalog();
        catalog
            .message(lang, key, Some(&args))
            .or_else(|_| catalog.message(Language::En, key, Some(&args)))
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "a mail has no message");
                String::new()
            })
    };
    (say("mail-upload-subject"), say("mail-upload-body"))
}

#[cfg(test)]
mod mail_tests {
    use super::*;

    fn window(files: i64) -> Notification {
        Notification {
            id: "n".into(),
            user_id: "u".into(),
            portal_id: "p1".into(),
            label: "Smith v. Jones".into(),
            files,
            bytes: 3 * 1024 * 1024,
            opened_at: 0,
            created_at: 0,
            read_at: None,
        }
    }

    #[test]
    fn the_upload_mail_is_said_in_the_owners_language() {
        let times = || ("2026-12-05 10:00 Europe/Paris".to_owned(), "2026-12-05 10:05 Europe/Paris".to_owned());
        let (subject, body) = say_upload(&window(3), "https://c/portals/p1", times(), Language::En);
        assert_eq!(subject, "3 new files in Smith v. Jones");
        assert!(
            body.starts_with("A client sent 3 new files (3 MiB in all) to the portal\n\"Smith v. Jones\".\n"),
            "{body}"
        );
        assert!(body.contains("Open the portal: https://c/portals/p1") && body.contains("sign in to see"), "{body}");
        let (subject, _) = say_upload(&window(1), "l", times(), Language::En);
        assert_eq!(subject, "1 new file in Smith v. Jones");
        let (subject, body) = say_upload(&window(3), "https://c/portals/p1", times(), Language::Fr);
        assert_eq!(subject, "3 nouveaux fichiers dans « Smith v. Jones »");
        assert!(body.contains("Ouvrir le portail") && body.contains("2026-12-05 10:05 Europe/Paris"), "{body}");
        assert!(!body.contains("new file"), "{body}");
    }
}
