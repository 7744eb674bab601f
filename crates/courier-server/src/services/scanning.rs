//! Upload safety in the service layer: the inspector (type allowlist, archive limits, DLP) and
//! clamd are fed the plaintext batches of an upload while it is sealed, and their verdicts
//! decide whether the document is refused, held in quarantine, flagged or clean. Releasing a
//! held document is an audited decision of an attorney (or the operator).

use courier_core::ScanStatus;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use courier_core::time_fmt::rfc3339;
use courier_scan::clamd::{self, ClamdAddr, Verdict};
use courier_scan::{
    ChunkMsg, ChunkReader, Detector, FileKind, Finding, FindingKind, FirmRules, Inspector, Refusal, Report, TextStatus,
    TypeRefusal,
};
use courier_store::documents::{self as rows, ScanRecord};
use serde::Serialize;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use super::audit::AuditAction;
use super::{Caller, Courier};
use crate::config::{DlpAction, MalwareAction};
use crate::error::{Reason, Said, SaidArg, bad_request, conflict, said_with};
use crate::{Config, Error, Result};

/// Batches queued for the inspector before the upload waits for it.
const INSPECT_QUEUE: usize = 2;
pub const MAX_REASON_CHARS: usize = 500;

/// The scanning side of an installation, built once from the settings.
pub struct Scanning {
    /// Its policy holds the allowlist, the limits and clamd's address and timeout.
    inspector: Arc<Inspector>,
    malware_action: MalwareAction,
    dlp_action: DlpAction,
    /// Inspections running at once, each on a thread of its own.
    slots: Arc<tokio::sync::Semaphore>,
    /// How long an upload waits for a slot before it is answered 503.
    slot_wait: Duration,
}

/// What any one stream inside a PDF may take: a page's contents are decoded whole, and this
/// bounds the memory one page costs. Pages over it leave the file's text `not_extractable`.
const MAX_INFLATE: usize = 8 << 20;

/// Most uploads inspected at once; more wait for a slot.
const MAX_INSPECTIONS: usize = 128;

impl Scanning {
    pub fn from_config(config: &Config) -> std::result::Result<Self, String> {
        let rules = FirmRules { keywords: config.dlp_keywords.clone(), patterns: config.dlp_patterns.clone() };
        let detector = Detector::new(&rules).map_err(|e| e.to_string())?;
        let policy = courier_scan::Policy {
            allowed: config.allowed_kinds().map_err(|e| e.to_string())?,
            archive: courier_scan::ArchiveLimits {
                max_entries: config.archive_max_entries,
                max_total: config.archive_max_expanded.bytes(),
                max_ratio: config.archive_max_ratio.max(1),
                max_depth: config.archive_max_depth,
            },
            dlp: config.dlp_scanning,
            max_buffered: config.scan_max_buffered.bytes(),
            max_inflate: MAX_INFLATE,
            // Made with the data directory's other folders at start-up.
            scratch_dir: config.data_dir.join("scratch"),
            clamd: config.clamd().map(|addr| (addr, Duration::from_secs(config.clamd_timeout_secs.max(1)))),
            read_slot_wait: Duration::from_secs(config.busy_wait_secs.max(1)),
        };
        Ok(Self {
            inspector: Arc::new(Inspector::new(detector, policy, config.scan_buffered_at_once)),
            malware_action: config.malware_action,
            dlp_action: config.dlp_action,
            slots: Arc::new(tokio::sync::Semaphore::new(MAX_INSPECTIONS)),
            slot_wait: Duration::from_secs(config.busy_wait_secs.max(1)),
        })
    }

    pub fn malware_scanning(&self) -> Option<&ClamdAddr> {
        self.inspector.policy().clamd.as_ref().map(|(addr, _)| addr)
    }

    pub fn malware_action(&self) -> MalwareAction {
        self.malware_action
    }

    pub fn default_dlp_action(&self) -> DlpAction {
        self.dlp_action
    }

    pub fn default_allowed(&self) -> &[FileKind] {
        &self.inspector.policy().allowed
    }

    /// Starts the scanners for one file.
    pub async fn start(&self, name: &str, allowed: Option<Vec<FileKind>>) -> Result<ScanFeed> {
        let permit = match tokio::time::timeout(self.slot_wait, self.slots.clone().acquire_owned()).await {
            Ok(permit) => permit.map_err(|e| Error::internal("scan slots", e))?,
            Err(_) => {
                return Err(Error::Busy(Reason::said(
                    "Too many uploads are being checked; please try again shortly.",
                    Said::new("refusal-checks-busy"),
                )));
            }
        };
        self.start_with(permit, name, allowed)
    }

    /// Starts the scanners for one file only if a slot is free now: for checks run ahead of
    /// need (a resumable upload's bytes as they arrive), which must never make another upload
    /// wait. `None` leaves the checks to the usual pass.
    pub fn try_start(&self, name: &str, allowed: Option<Vec<FileKind>>) -> Option<ScanFeed> {
        // At most half the slots, so that they never crowd out checks that are due now.
        if self.slots.available_permits() <= MAX_INSPECTIONS / 2 {
            return None;
        }
        let permit = self.slots.clone().try_acquire_owned().ok()?;
        self.start_with(permit, name, allowed).ok()
    }

    fn start_with(
        &self,
        permit: tokio::sync::OwnedSemaphorePermit,
        name: &str,
        allowed: Option<Vec<FileKind>>,
    ) -> Result<ScanFeed> {
        let (tx, rx) = mpsc::channel(INSPECT_QUEUE);
        let (done_tx, done_rx) = oneshot::channel();
        let inspector = self.inspector.clone();
        let name = name.to_owned();
        // A thread of its own, not the blocking pool: an inspection waits for the upload's next
        // batch, and must never hold a thread that the upload's own sealing needs.
        std::thread::Builder::new()
            .name("courier-inspect".into())
            .spawn(move || {
                let _permit = permit;
                let result = inspector.inspect(ChunkReader::new(rx), &name, allowed.as_deref());
                let _ = done_tx.send(result);
            })
            .map_err(|e| Error::internal("inspector thread", e))?;
        let (clamd, clamd_timeout) = match &self.inspector.policy().clamd {
            Some((addr, timeout)) => (Some(clamd::Scan::start(addr)), *timeout),
            None => (None, Duration::ZERO),
        };
        Ok(ScanFeed { inspect: Inspection::Running(tx, done_rx), clamd, clamd_timeout })
    }
}

enum Inspection {
    Running(mpsc::Sender<ChunkMsg>, oneshot::Receiver<std::result::Result<Report, Refusal>>),
    /// The inspector decided before the end of the file (an image, say).
    Done(Report),
    /// It refused the file; the error went to the caller already.
    Refused,
}

/// The scanners of one upload, fed batch by batch.
pub struct ScanFeed {
    inspect: Inspection,
    clamd: Option<clamd::Scan>,
    clamd_timeout: Duration,
}

/// What the scanners said of a whole file.
pub struct Scanned {
    pub report: Report,
    pub malware: MalwareCheck,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MalwareCheck {
    Off,
    Clean,
    Infected(String),
}

impl ScanFeed {
    /// Hands one batch of plaintext to every scanner. An error refuses the file now (a type
    /// the inspector refused after the first bytes, a scanner that went away).
    pub async fn feed(&mut self, batch: &Bytes) -> Result<()> {
        if let Inspection::Running(tx, _) = &self.inspect
            && tx.send(ChunkMsg::Data(batch.clone())).await.is_err()
        {
            // The inspector stopped reading: it has decided, one way or the other.
            self.inspection_ended().await?;
        }
        if let Some(mut scan) = self.clamd.take() {
            // A clamd that stops reading (hung, overloaded) would hold the upload for ever.
            match tokio::time::timeout(self.clamd_timeout, scan.feed(batch.clone())).await {
                Ok(Ok(())) => {}
                Ok(Err(())) => {
                    // The scan ended early: its outcome says why (clamd gone, stream refused).
                    let why = scan.finish(Duration::from_secs(1)).await.err();
                    return Err(scanner_unavailable(
                        &why.unwrap_or_else(|| clamd::Unavailable("the scan ended early".into())),
                    ));
                }
                Err(_) => {
                    let secs = self.clamd_timeout.as_secs();
                    return Err(scanner_unavailable(&clamd::Unavailable(format!("clamd took no data for {secs} s"))));
                }
            }
            self.clamd = Some(scan);
        }
        Ok(())
    }

    /// Takes the verdict of an inspector that stopped reading before the end of the file.
    async fn inspection_ended(&mut self) -> Result<()> {
        let state = std::mem::replace(&mut self.inspect, Inspection::Refused);
        let Inspection::Running(_, done) = state else {
            self.inspect = state;
            return Ok(());
        };
        match done.await {
            Ok(Ok(report)) => {
                self.inspect = Inspection::Done(report);
                Ok(())
            }
            Ok(Err(refusal)) => Err(refusal_error(refusal)),
            Err(_) => Err(Error::Internal("the inspector thread died".into())),
        }
    }

    /// The end of the file: waits for every verdict.
    pub async fn finish(mut self) -> Result<Scanned> {
        let report = match std::mem::replace(&mut self.inspect, Inspection::Refused) {
            Inspection::Running(tx, done) => {
                let _ = tx.send(ChunkMsg::End).await;
                drop(tx);
                match done.await {
                    Ok(Ok(report)) => report,
                    Ok(Err(refusal)) => return Err(refusal_error(refusal)),
                    Err(_) => return Err(Error::Internal("the inspector thread died".into())),
                }
            }
            Inspection::Done(report) => report,
            Inspection::Refused => return Err(Error::Internal("finishing a refused file".into())),
        };
        let malware = match self.clamd.take() {
            None => MalwareCheck::Off,
            Some(scan) => match scan.finish(self.clamd_timeout).await {
                Ok(Verdict::Clean) => MalwareCheck::Clean,
                Ok(Verdict::Infected(signature)) => MalwareCheck::Infected(signature),
                Err(e) => return Err(scanner_unavailable(&e)),
            },
        };
        Ok(Scanned { report, malware })
    }
}

fn scanner_unavailable(e: &clamd::Unavailable) -> Error {
    tracing::error!(error = %e, "malware scanner unavailable: refusing the upload (fail closed)");
    Error::ScanUnavailable
}

fn refusal_error(r: Refusal) -> Error {
    match r {
        Refusal::Type(t) => Error::UnsupportedType(Reason::said(t.to_string(), type_said(&t))),
        // The details (sizes, counts, depths) stay in the English text.
        Refusal::Archive(reason) => {
            Error::Refused(Reason::said(courier_scan::kind::capitalise(&reason), Said::new("refusal-archive")))
        }
        Refusal::Interrupted => bad_request("the upload was interrupted", Said::new("refusal-interrupted")),
        Refusal::ScannerUnavailable(detail) => scanner_unavailable(&clamd::Unavailable(detail)),
        Refusal::Busy => Error::Busy(Reason::said(
            "Too many files are being checked; please try again shortly.",
            Said::new("refusal-checks-busy"),
        )),
    }
}

/// The message that names a kind of finding.
fn finding_message(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::Ssn => "finding-ssn",
        FindingKind::PaymentCard => "finding-payment-card",
        FindingKind::Iban => "finding-iban",
        FindingKind::FrNir => "finding-fr-nir",
        FindingKind::Email => "finding-email",
        FindingKind::Phone => "finding-phone",
        FindingKind::Keyword => "finding-keyword",
    }
}

/// A type refusal as a client page says it in its language.
fn type_said(t: &TypeRefusal) -> Said {
    match t {
        TypeRefusal::Executable(_) => Said::new("refusal-executable"),
        TypeRefusal::Macros => Said::new("refusal-macros"),
        TypeRefusal::Disguised { ext, .. } => Said::new("refusal-disguised").with("ext", SaidArg::Text(ext.clone())),
        TypeRefusal::OldOffice => Said::new("refusal-old-office"),
        TypeRefusal::NotAllowed(_, accepted) => {
            Said::new("refusal-not-allowed").with("accepted", SaidArg::Text(accepted.clone()))
        }
    }
}

/// The checks that ran, as stored and shown.
#[derive(Debug, Clone, Serialize)]
pub struct Checks {
    #[serde(rename = "type")]
    pub kind: FileKind,
    pub malware: &'static str,
    pub text: TextStatus,
}

/// Turns the verdicts into the stored scan result, or the refusal a client sees.
pub fn decide(
    scanned: &Scanned,
    dlp_action: DlpAction,
    malware_action: MalwareAction,
) -> std::result::Result<ScanRecord, ContentRefusal> {
    let report = &scanned.report;
    let findings: Vec<Finding> = report.findings.clone().into_vec();
    let personal_data = report.findings.score() >= 1.0;
    // clamd's verdict on the whole stream, or on an archive entry scanned on its own.
    let infected = match (&scanned.malware, &report.malware) {
        (MalwareCheck::Infected(signature), _) | (_, Some(signature)) => Some(signature),
        _ => None,
    };
    let (status, malware, held) = match infected {
        Some(signature) => {
            if malware_action == MalwareAction::Refuse {
                return Err(ContentRefusal::Malware(signature.clone()));
            }
            (ScanStatus::Infected, Some(signature.clone()), true)
        }
        _ if personal_data => match dlp_action {
            DlpAction::Block => return Err(ContentRefusal::PersonalData(findings)),
            DlpAction::Quarantine => (ScanStatus::Quarantined, None, true),
            DlpAction::Flag => (ScanStatus::Flagged, None, false),
        },
        None if scanned.malware == MalwareCheck::Off && report.text == TextStatus::Off => {
            (ScanStatus::Unscanned, None, false)
        }
        _ if report.text == TextStatus::NotExtractable => (ScanStatus::Unscanned, None, false),
        _ => (ScanStatus::Clean, None, false),
    };
    let checks = Checks {
        kind: report.kind,
        malware: match (&scanned.malware, infected) {
            (_, Some(_)) => "infected",
            (MalwareCheck::Off, None) => "off",
            _ => "clean",
        },
        text: report.text,
    };
    Ok(ScanRecord {
        status,
        malware,
        findings: Some(serde_json::to_string(&findings).unwrap_or_else(|_| "[]".into())),
        checks: Some(serde_json::to_string(&checks).unwrap_or_else(|_| "{}".into())),
        held,
        released_at: None,
    })
}

/// A file refused for what is in it (rather than for its type).
#[derive(Debug)]
pub enum ContentRefusal {
    Malware(String),
    PersonalData(Vec<Finding>),
}

impl ContentRefusal {
    pub fn into_error(self) -> Error {
        match self {
            Self::Malware(signature) => Error::Refused(Reason::said(
                format!(
                    "This file was refused: the malware scanner found {signature} in it. Please check the file with \
                     your IT support before sending it again."
                ),
                Said::new("refusal-malware").with("signature", SaidArg::Text(signature)),
            )),
            Self::PersonalData(findings) => {
                let mut weighty: Vec<FindingKind> =
                    findings.iter().filter(|f| f.kind.weight() >= 1.0).map(|f| f.kind).collect();
                weighty.sort();
                weighty.dedup();
                let kinds: Vec<&str> = weighty.iter().map(|k| k.describe()).collect();
                let kinds = if kinds.is_empty() { vec!["personal data"] } else { kinds };
                let ids = if weighty.is_empty() {
                    vec!["finding-personal-data".to_owned()]
                } else {
                    weighty.iter().map(|k| finding_message(*k).to_owned()).collect()
                };
                Error::Refused(Reason::said(
                    format!(
                        "This file was refused because it appears to contain {}. Please remove or redact them and \
                         upload the file again.",
                        kinds.join(", ")
                    ),
                    Said::new("refusal-personal-data").with("kinds", SaidArg::Messages(ids)),
                ))
            }
        }
    }
}

/// The scan result as `doc list --json` shows it (DESIGN.md).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScanView {
    pub status: String,
    pub malware: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub findings: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub checks: Option<serde_json::Value>,
    pub held: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub released_at: Option<String>,
}

pub fn scan_view(s: &ScanRecord) -> ScanView {
    let parse = |v: &Option<String>| v.as_deref().and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok());
    let findings = match parse(&s.findings) {
        Some(serde_json::Value::Array(items)) => items,
        _ => Vec::new(),
    };
    ScanView {
        status: s.status.as_str().to_owned(),
        malware: s.malware.clone(),
        findings,
        checks: parse(&s.checks),
        held: s.held,
        released_at: s.released_at.map(rfc3339),
    }
}

impl Courier {
    /// Releases a document held in quarantine (personal data) or found infected, so that it
    /// can be downloaded. The matter's attorneys may (policy `document.release`); the reason
    /// goes into the audit trail.
    pub(super) async fn release_document(&self, caller: &Caller, id: &str, reason: &str) -> Result<()> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS || reason.chars().any(char::is_control) {
            return Err(bad_request(
                format!("give a reason of 1 to {MAX_REASON_CHARS} characters for releasing the document"),
                said_with("staff-refused-release-reason", "max", MAX_REASON_CHARS),
            ));
        }
        let d = rows::get(self.db.pool(), id).await?.filter(|d| d.deleted_at.is_none()).ok_or(Error::NotFound)?;
        self.authorize(caller, super::authz::Action::DocumentRelease, &self.document_resource(&d).await?).await?;
        let mut tx = self.audit.begin(&self.db).await?;
        let d = rows::get(tx.conn(), id).await?.filter(|d| d.deleted_at.is_none()).ok_or(Error::NotFound)?;
        if !d.scan.held {
            return Err(conflict("this document is not held", Said::new("staff-refused-not-held")));
        }
        let status = if d.scan.status == ScanStatus::Quarantined { ScanStatus::Flagged } else { d.scan.status };
        if !rows::release(&mut tx, id, status, self.clock.now_ms()).await? {
            return Err(conflict("this document is not held", Said::new("staff-refused-not-held")));
        }
        let details = json!({
            "document_id": id, "portal_id": d.portal_id, "previous_status": d.scan.status,
            "malware": d.scan.malware, "reason": reason,
        });
        tx.record(caller, AuditAction::DocumentRelease, &format!("document:{id}"), details).await?;
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks started ahead of need (a resumable upload's bytes as they arrive) never take a
    /// slot from checks that are due: at most half, and none once half are taken.
    #[tokio::test]
    async fn checks_ahead_of_need_take_at_most_half_the_slots_and_never_wait() {
        let config = Config::load(None, |k| (k == "COURIER_MALWARE_SCANNING").then(|| "false".to_owned())).unwrap();
        let scanning = Scanning::from_config(&config).unwrap();
        let mut ahead = Vec::new();
        while let Some(feed) = scanning.try_start("notes.txt", None) {
            ahead.push(feed);
            assert!(ahead.len() <= MAX_INSPECTIONS, "never stops");
        }
        assert_eq!(ahead.len(), MAX_INSPECTIONS / 2);
        let mut due = Vec::new();
        for _ in 0..MAX_INSPECTIONS / 2 {
            let started = tokio::time::timeout(Duration::from_millis(500), scanning.start("due.txt", None)).await;
            due.push(started.expect("a check that is due gets a slot at once").unwrap());
        }
        assert!(scanning.try_start("notes.txt", None).is_none());
        drop(due);
        drop(ahead);
    }
}
