//! Counters and gauges for Prometheus (`/metrics`, served only on `metrics_bind`). Labels are
//! route templates and fixed words, never a link token, an address or a file name, so the
//! number of series stays bounded.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The route template (`/p/{token}`), or `unmatched`.
    pub route: String,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VerdictLabels {
    pub verdict: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PassLabels {
    /// `checked_as_sealed`, `read_back` or `sealed_again`.
    pub pass: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    pub channel: &'static str,
    pub state: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub upload_bytes: Counter,
    pub upload_documents: Counter,
    /// Refused requests and files: `type`, `malware`, `content`, `too_large`,
    /// `scanner_unavailable`, `rate_limited`, `link_not_found`, `lockdown`.
    pub refusals: Family<ReasonLabels, Counter>,
    pub scan_verdicts: Family<VerdictLabels, Counter>,
    /// Finished resumable uploads (files that arrive sealed), by how they were checked.
    pub sealed_file_passes: Family<PassLabels, Counter>,
    pub deliveries: Family<DeliveryLabels, Counter>,
    pub upkeep_runs: Counter,
    pub outbox_pending: Gauge,
    pub outbox_failed: Gauge,
    pub db_connections: Gauge,
    pub db_connections_idle: Gauge,
    pub lockdown: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("courier");
        let m = Self {
            requests: Family::default(),
            upload_bytes: Counter::default(),
            upload_documents: Counter::default(),
            refusals: Family::default(),
            scan_verdicts: Family::default(),
            sealed_file_passes: Family::default(),
            deliveries: Family::default(),
            upkeep_runs: Counter::default(),
            outbox_pending: Gauge::default(),
            outbox_failed: Gauge::default(),
            db_connections: Gauge::default(),
            db_connections_idle: Gauge::default(),
            lockdown: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register("http_requests", "HTTP requests by route template and status", m.requests.clone());
        registry.register("upload_bytes", "Bytes of documents accepted", m.upload_bytes.clone());
        registry.register("upload_documents", "Documents accepted", m.upload_documents.clone());
        registry.register("refusals", "Refused requests and files, by reason", m.refusals.clone());
        registry.register("scan_verdicts", "Scan verdicts of accepted uploads", m.scan_verdicts.clone());
        registry.register(
            "sealed_file_passes",
            "Finished resumable uploads, by how they were checked: checked_as_sealed (while the \
             bytes arrived), read_back (read once more after the last byte), sealed_again",
            m.sealed_file_passes.clone(),
        );
        registry.register("deliveries", "Mail and webhook attempts, by outcome", m.deliveries.clone());
        registry.register("upkeep_runs", "Rounds of background upkeep", m.upkeep_runs.clone());
        registry.register("outbox_pending", "Mails and webhooks waiting to be sent", m.outbox_pending.clone());
        registry.register("outbox_failed", "Mails and webhooks given up", m.outbox_failed.clone());
        registry.register("db_connections", "Open database connections", m.db_connections.clone());
        registry.register("db_connections_idle", "Idle database connections", m.db_connections_idle.clone());
        registry.register("lockdown", "1 while the installation is locked down", m.lockdown.clone());
        Self { registry, ..m }
    }
}

impl Metrics {
    pub fn refused(&self, reason: &'static str) {
        self.refusals.get_or_create(&ReasonLabels { reason }).inc();
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
