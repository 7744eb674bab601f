//! What staff see of watch and respond: the admin's alerts page (alerts, deliveries, the
//! lockdown switch) and each user's upload notifications.

use serde::Serialize;
use serde_json::{Value, json};

use super::lockdown::LockdownView;
use crate::Result;
use crate::services::audit::AuditAction;
use crate::services::{Caller, Courier};
use courier_core::time_fmt::rfc3339;
use courier_store::watch as rows;

#[derive(Debug, Serialize)]
pub struct AlertView {
    pub seq: i64,
    pub at: String,
    pub alert: String,
    pub summary: String,
    /// The summary as a message, for a page in another language (alerts raised by older
    /// versions have none and stay English).
    #[serde(skip)]
    pub said: Option<crate::error::Said>,
    /// The readable address while it is kept (`client_ip_retention`), else the chain's value.
    pub from: String,
    pub actor: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DeliveryView {
    pub id: String,
    pub channel: String,
    pub topic: String,
    pub created_at: String,
    pub attempts: i64,
    pub state: &'static str,
    pub last_error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct WatchOverview {
    pub lockdown: LockdownView,
    pub alerts: Vec<AlertView>,
    pub pending: i64,
    pub failed: i64,
    pub deliveries: Vec<DeliveryView>,
    pub mail: bool,
    pub webhook: bool,
    pub alert_to: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct NotificationView {
    pub portal_id: String,
    pub label: String,
    pub files: i64,
    pub bytes: i64,
    pub from: String,
    pub to: String,
    pub read: bool,
}

impl Courier {
    pub(in crate::services) async fn watch_overview(&self) -> Result<WatchOverview> {
        let events =
            courier_store::audit::latest_with_action(self.db.pool(), AuditAction::AlertRaised.as_str(), 50).await?;
        let alerts = events
            .into_iter()
            .map(|e| {
                let details: Value = serde_json::from_str(&e.details).unwrap_or_default();
                AlertView {
                    seq: e.seq,
                    at: rfc3339(e.at),
                    alert: details["alert"].as_str().unwrap_or_default().to_owned(),
                    summary: details["summary"].as_str().unwrap_or_default().to_owned(),
                    said: serde_json::from_value(details["said"].clone()).ok(),
                    from: e.address.unwrap_or(e.ip),
                    actor: details["actor"].as_str().map(str::to_owned),
                }
            })
            .collect();
        let (pending, failed) = rows::counts(self.db.pool()).await?;
        let deliveries = rows::recent(self.db.pool(), 50)
            .await?
            .into_iter()
            .map(|r| DeliveryView {
                state: match (r.sent_at, r.failed_at) {
                    (Some(_), _) => "sent",
                    (None, Some(_)) => "given up",
                    (None, None) if r.attempts > 0 => "retrying",
                    (None, None) => "waiting",
                },
                id: r.id,
                channel: r.channel,
                topic: r.topic,
                created_at: rfc3339(r.created_at),
                attempts: r.attempts,
                last_error: r.last_error,
            })
            .collect();
        Ok(WatchOverview {
            lockdown: self.lockdown_status().await?,
            alerts,
            pending,
            failed,
            deliveries,
            mail: self.watch.mail.is_some(),
            webhook: self.watch.webhook.is_some(),
            alert_to: self.watch.alert_to.clone(),
        })
    }

    pub(in crate::services) async fn notifications(&self, user_id: &str) -> Result<(Vec<NotificationView>, i64)> {
        let list = rows::notifications_for(self.db.pool(), user_id, 100).await?;
        let unread = rows::unread_count(self.db.pool(), user_id).await?;
        let views = list
            .into_iter()
            .map(|n| NotificationView {
                portal_id: n.portal_id,
                label: n.label,
                files: n.files,
                bytes: n.bytes,
                from: rfc3339(n.opened_at),
                to: rfc3339(n.created_at),
                read: n.read_at.is_some(),
            })
            .collect();
        Ok((views, unread))
    }

    pub(in crate::services) async fn unread_notifications(&self, user_id: &str) -> Result<i64> {
        Ok(rows::unread_count(self.db.pool(), user_id).await?)
    }

    pub(in crate::services) async fn mark_notifications_read(&self, caller: &Caller, user_id: &str) -> Result<u64> {
        let mut tx = self.audit.begin(&self.db).await?;
        let n = rows::mark_read(tx.conn(), user_id, self.clock.now_ms()).await?;
        tx.record(caller, AuditAction::NotificationsRead, &format!("user:{user_id}"), json!({ "count": n })).await?;
        tx.commit().await?;
        Ok(n)
    }
}
