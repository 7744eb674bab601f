//! Background upkeep: recording portal expiries in the audit trail, shredding what retention
//! and the filing grace say is due, redacting old client addresses, removing dead staging
//! blobs and orphaned blobs, and ending stale sessions.

use std::time::Duration;

use serde_json::json;

use super::audit::AuditAction;
use super::{Caller, Courier};
use crate::Result;

/// What one round of upkeep did (`courier maintenance run`).
#[derive(Debug, Default, serde::Serialize)]
pub struct MaintenanceReport {
    pub expiries_recorded: usize,
    /// Documents shredded because their retention ran out, or the grace after filing.
    pub shredded_retention: usize,
    pub shredded_filed: usize,
    /// Due, but a legal hold placed meanwhile kept them.
    pub shredding_held: usize,
    /// Shreddings appended to the deletion journal late (their first append failed).
    pub journal_caught_up: usize,
    /// Client addresses made unreadable (audit events and share downloads).
    pub addresses_redacted: u64,
    pub stale_uploads_removed: usize,
    pub orphan_blobs_removed: usize,
    /// Resumable uploads past `tus_expiry`, with what they had received.
    pub resumable_uploads_expired: usize,
    pub sessions_expired: u64,
    /// Alert counts and old deliveries forgotten.
    pub watch_rows_pruned: u64,
    /// `courier upkeep run` only: the deliveries it made, and whether the trail verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliveries: Option<super::watch::delivery::DeliveryReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_intact: Option<bool>,
}

/// A committed blob without a live row is an orphan only after this grace period: an upload
/// commits its blob a moment before its row.
const ORPHAN_GRACE: Duration = Duration::from_secs(15 * 60);

impl Courier {
    /// Writes one `portal.expire` event per portal that expired since the last run.
    pub(super) async fn record_expiries(&self) -> Result<usize> {
        let mut conn = self.db.pool().acquire().await.map_err(courier_store::StoreError::from)?;
        let expired = courier_store::portals::expired_unrecorded(&mut conn, self.clock.now_ms()).await?;
        drop(conn);
        let mut recorded = 0;
        for id in expired {
            let mut tx = self.audit.begin(&self.db).await?;
            // Claimed inside the transaction, so two instances never record the same expiry.
            if !courier_store::portals::mark_expiry_recorded(&mut tx, &id).await? {
                continue;
            }
            tx.record(
                &Caller::system(),
                AuditAction::PortalExpire,
                &format!("portal:{id}"),
                json!({ "portal_id": id }),
            )
            .await?;
            tx.commit().await?;
            recorded += 1;
        }
        Ok(recorded)
    }

    /// Removes staging blobs of dead uploads, and committed blobs that no live document
    /// references (crash between blob commit and row insert, or a failed delete).
    pub(super) async fn sweep_blobs(&self, grace: Option<Duration>) -> Result<(usize, usize)> {
        let staging = self.blobs.sweep_staging().await?;
        let mut orphans = 0;
        for key in self.blobs.list_older_than(grace.unwrap_or(ORPHAN_GRACE)).await? {
            if !courier_store::documents::blob_key_known(self.db.pool(), &key).await? {
                self.blobs.delete(&key).await?;
                orphans += 1;
            }
        }
        if staging + orphans > 0 {
            tracing::info!(staging, orphans, "removed leftover blobs");
        }
        Ok((staging, orphans))
    }

    /// Forgets alert counts older than the longest rule window, and deliveries done longer
    /// ago than `client_ip_retention` (an alert's mail names the address it came from).
    async fn prune_watch(&self) -> Result<u64> {
        use courier_store::watch as rows;
        let now = self.clock.now_ms();
        let window = self.watch.probe.window.max(self.watch.bulk_download.window).as_millis() as i64;
        let hits = rows::prune_hits(self.db.pool(), now - window).await?;
        let fired = rows::prune_fired(self.db.pool(), now - window.max(86_400_000)).await?;
        let done = rows::purge_done(self.db.pool(), now - self.config.client_ip_retention.as_millis()).await?;
        Ok(hits + fired + done)
    }

    pub(super) async fn expire_sessions(&self) -> Result<u64> {
        let now = self.clock.now_ms();
        let idle = now - self.config.session_idle_timeout().as_millis() as i64;
        let absolute = now - self.config.session_absolute_timeout().as_millis() as i64;
        courier_store::passkeys::delete_expired_ceremonies(self.db.pool(), now).await?;
        Ok(courier_store::sessions::delete_stale(self.db.pool(), idle, absolute).await?)
    }

    /// Runs the upkeep every `every` until the process ends, on one instance of a cluster at a
    /// time (a database lease, taken over when its holder stops renewing it). Errors are
    /// logged and retried at the next tick.
    pub async fn run_maintenance(self: std::sync::Arc<Self>, every: Duration) {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            // Every instance, lease or not: pick up a new master key version promptly.
            if let Err(e) = self.keys.reload() {
                tracing::warn!(error = %e, "could not reload the master key files");
            }
            // And the firm profile another instance may have changed.
            if let Err(e) = self.follow_firm_profile().await {
                tracing::warn!(error = %e, "could not follow the stored firm profile");
            }
            let now = self.clock.now_ms();
            let until = now + 3 * every.as_millis() as i64;
            match courier_store::leases::try_acquire(self.db.pool(), "maintenance", &self.instance_id, now, until).await
            {
                Ok(true) => {
                    let report = self.maintain_once().await;
                    tracing::debug!(?report, "upkeep done");
                }
                Ok(false) => tracing::debug!("another instance holds the maintenance lease"),
                Err(e) => tracing::warn!(error = %e, "could not take the maintenance lease"),
            }
        }
    }

    /// One round of upkeep; failures are logged and counted as zero.
    pub(super) async fn maintain_once(&self) -> MaintenanceReport {
        let mut report = MaintenanceReport::default();
        match self.record_expiries().await {
            Ok(n) => report.expiries_recorded = n,
            Err(e) => tracing::warn!(error = %e, detail = e.internal_detail(), "recording expiries failed"),
        }
        match self.shred_due().await {
            Ok(done) => {
                (report.shredded_retention, report.shredded_filed, report.shredding_held) =
                    (done.retention, done.filed, done.held)
            }
            Err(e) => tracing::warn!(error = %e, detail = e.internal_detail(), "retention shredding failed"),
        }
        match self.journal_pending().await {
            Ok(n) => report.journal_caught_up = n,
            Err(e) => tracing::error!(error = %e, detail = e.internal_detail(), "the deletion journal is behind"),
        }
        match self.redact_client_addresses().await {
            Ok(n) => report.addresses_redacted = n,
            Err(e) => tracing::warn!(error = %e, detail = e.internal_detail(), "client address redaction failed"),
        }
        match self.sweep_blobs(None).await {
            Ok((staging, orphans)) => (report.stale_uploads_removed, report.orphan_blobs_removed) = (staging, orphans),
            Err(e) => tracing::warn!(error = %e, detail = e.internal_detail(), "blob sweep failed"),
        }
        match self.sweep_tus().await {
            Ok(n) => report.resumable_uploads_expired = n,
            Err(e) => tracing::warn!(error = %e, detail = e.internal_detail(), "resumable upload expiry failed"),
        }
        match self.db.purge_freed(std::time::Duration::from_secs(1)).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!("a reader keeps the write-ahead log from being cleared; next upkeep retries"),
            Err(e) => tracing::warn!(error = %e, "database checkpoint failed"),
        }
        match self.expire_sessions().await {
            Ok(n) => report.sessions_expired = n,
            Err(e) => tracing::warn!(error = %e, detail = e.internal_detail(), "session expiry failed"),
        }
        if let Err(e) = self.prune_login_failures().await {
            tracing::warn!(error = %e, detail = e.internal_detail(), "pruning old sign-in failures failed");
        }
        match self.prune_watch().await {
            Ok(n) => report.watch_rows_pruned = n,
            Err(e) => tracing::warn!(error = %e, detail = e.internal_detail(), "pruning alert counts failed"),
        }
        self.metrics.upkeep_runs.inc();
        report
    }
}
