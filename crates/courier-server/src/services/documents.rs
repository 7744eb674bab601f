//! Documents: the streaming upload pipeline, streaming download and shredding.
//!
//! Upload: chunks -> size limit -> scanners (type allowlist, archive limits, DLP, clamd;
//! `scanning`) alongside SHA-256 -> segment encryption -> staged blob -> verdicts -> commit
//! blob; once every file of the request is in, one transaction inserts the rows and their
//! audit events. Hashing and encryption run
//! on the blocking pool in batches of `BATCH` bytes, so memory per upload is about a MiB
//! whatever the file size.

use std::io;

use bytes::Bytes;
use courier_core::time_fmt::rfc3339;
use courier_core::{DocumentId, FileName, ShredReason};
use courier_crypto::Sha256;
use courier_crypto::keys::Dek;
use courier_crypto::stream::{Decryptor, Encryptor, PlainBuf, SEGMENT_SIZE};
use courier_store::blob::{BlobReader, BlobSource, BlobUpload};
use courier_store::documents::{self as rows, DocumentRecord};
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use serde_json::json;
use tokio::io::AsyncReadExt;

use super::audit::AuditAction;
use super::batch_pool::BatchPool;
use super::portals::OpenPortal;
use super::scanning::{self, ContentRefusal, ScanFeed, ScanView, scan_view};
use super::{Caller, Courier};
use crate::error::{Reason, Said, SaidArg, bad_request};
use crate::{Error, Result};

/// Plaintext bytes handed to the blocking pool at a time.
const BATCH: usize = 256 * 1024;
/// Ciphertext read and decrypted per blocking-pool hop on download. Larger than the upload batch:
/// each hop costs two thread switches, and downloads are few (staff) and short-lived.
const DOWNLOAD_BATCH: usize = 1024 * 1024;
/// Decrypted batches a download may run ahead of the client.
const DOWNLOAD_AHEAD: usize = 2;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DocumentView {
    pub id: String,
    pub portal_id: Option<String>,
    pub matter_id: Option<String>,
    pub name: String,
    pub size: i64,
    pub content_type: String,
    pub sha256: String,
    pub uploaded_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    /// Why it was shredded: `staff`, `retention`, `filed`, `portal_deleted`, `restored_journal`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub deletion_reason: Option<ShredReason>,
    pub scan: ScanView,
    /// A legal hold (its own or its matter's) keeps it from every shredding.
    pub hold: bool,
    /// Marked as filed in the firm's DMS, and the DMS reference given.
    pub filed_at: Option<String>,
    pub filed_reference: Option<String>,
    /// When upkeep shreds it and why (`retention` or `filed`); null while held or shredded.
    pub shred_at: Option<String>,
    #[schema(value_type = Option<String>)]
    pub shred_reason: Option<ShredReason>,
}

/// What staff see of a document; `shred` is when and why upkeep will shred it.
pub fn view(d: &DocumentRecord, shred: Option<(i64, ShredReason)>) -> DocumentView {
    DocumentView {
        id: d.id.clone(),
        portal_id: d.portal_id.clone(),
        matter_id: d.matter_id.clone(),
        name: d.name.clone(),
        size: d.size,
        content_type: d.content_type.clone(),
        sha256: d.sha256.clone(),
        uploaded_at: rfc3339(d.uploaded_at),
        deleted_at: d.deleted_at.map(rfc3339),
        deletion_reason: d.lifecycle.deletion_reason,
        scan: scan_view(&d.scan),
        hold: d.lifecycle.on_hold && d.deleted_at.is_none(),
        filed_at: d.lifecycle.filed_at.map(rfc3339),
        filed_reference: d.lifecycle.filed_reference.clone(),
        shred_at: shred.map(|(at, _)| rfc3339(at)),
        shred_reason: shred.map(|(_, why)| why),
    }
}

/// The plaintext-side state of one upload, moved to the blocking pool for each batch.
struct Sealer {
    encryptor: Encryptor,
    hasher: Sha256,
    /// The staged blob, where the store has it in a local file.
    file: Option<std::fs::File>,
}

impl Sealer {
    /// Hashes and seals `plain`. The ciphertext goes straight to the staged file if there is
    /// one (and `out` is left empty), else into `out` for the store's `write`.
    fn push(&mut self, plain: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.hasher.update(plain);
        self.encryptor.push(plain, out)?;
        if let Some(file) = &mut self.file {
            std::io::Write::write_all(file, out)?;
            out.clear();
        }
        Ok(())
    }
}

/// The name a file is kept (and checked) under.
pub(super) fn document_name(raw: Option<&str>) -> String {
    FileName::sanitize(raw.unwrap_or_default()).to_string()
}

/// Where an upload goes and the rules it is held to.
struct UploadTarget {
    portal_id: Option<String>,
    matter_id: String,
    receipt_id: Option<String>,
    allowed_types: Option<Vec<courier_scan::FileKind>>,
    dlp_action: crate::config::DlpAction,
    max_file_size: u64,
}

/// Where one upload request's files go.
#[derive(Clone, Copy)]
pub enum Destination<'a> {
    /// A client's portal, under a receipt id.
    Portal(&'a OpenPortal, &'a str),
    /// A matter, named by id or name.
    Matter(&'a str),
}

/// One file arriving: its name as sent and its bytes, streamed.
pub struct IncomingFile {
    pub name: Option<String>,
    pub bytes: futures_util::stream::BoxStream<'static, std::result::Result<Bytes, String>>,
    /// Where the bytes are on disk already, sealed (a finished resumable upload).
    pub sealed: Option<SealedFile>,
}

/// A complete format v1 blob on local disk, sealed under `dek` for the document id `id`, whose
/// plaintext is what `IncomingFile::bytes` streams. The document takes `id`; on a local store
/// the file becomes its blob as it is (read back only for the checks, its SHA-256 from that
/// reader: no second sealing, no second write; not read at all when `checked` has the checks
/// already), elsewhere the plaintext is sealed anew.
pub struct SealedFile {
    pub path: std::path::PathBuf,
    pub dek: Dek,
    pub id: DocumentId,
    /// The SHA-256 of what `IncomingFile::bytes` streamed, from its reader, once the stream ended.
    pub sha256: tokio::sync::oneshot::Receiver<[u8; 32]>,
    /// The scanners, fed every byte of the file as it was sealed: the stream (which should
    /// start reading only when first polled) is then used only if the file must be sealed anew.
    pub checked: Option<CheckedAsSealed>,
    /// False when the file must not become the blob (segments of it were sealed again under
    /// nonces used before): its plaintext is then sealed anew, whatever the store.
    pub keep: bool,
}

/// Checks that saw a sealed file's whole plaintext as it was written: its scanners (not yet
/// finished), its size and its SHA-256.
pub struct CheckedAsSealed {
    pub scan: ScanFeed,
    pub size: u64,
    pub sha256: [u8; 32],
}

/// The files of one upload request, one after another (a multipart body).
pub trait IncomingFiles: Send {
    /// The next file, or `None` after the last; a framing or transport error ends the upload.
    fn next_file(&mut self) -> impl std::future::Future<Output = Result<Option<IncomingFile>>> + Send;
}

/// A file streamed into its blob and scanned, waiting for the rest of its request.
struct Staged {
    record: DocumentRecord,
    details: serde_json::Value,
    /// The sealed, not yet visible blob: staged (and swept if this process dies) until the
    /// whole request commits, so the orphan sweep never sees it however long the request lasts.
    upload: Box<dyn courier_store::blob::BlobUpload>,
    /// The data key, wrapped only at commit: a master key version retired while the request
    /// streamed must not be the one its rows are wrapped with.
    dek: Dek,
    id: DocumentId,
}

struct Sealed {
    size: u64,
    sha256: [u8; 32],
}

/// How a file is sealed and checked.
enum Pass {
    /// Sealed here from the plaintext, checked on the way.
    Seal,
    /// Sealed already and kept as it is: read back for the checks and its SHA-256.
    ReadBack(tokio::sync::oneshot::Receiver<[u8; 32]>),
    /// Sealed already and checked as it was: only the verdicts are awaited.
    Checked(CheckedAsSealed),
    /// Sealed already but not kept (another store, a file that cannot be linked or must not
    /// be kept): read back and sealed anew; checked on the way unless it was as it arrived.
    SealAgain(Option<CheckedAsSealed>),
}

impl Pass {
    /// The metric's label for a file that came sealed.
    fn label(&self) -> Option<&'static str> {
        match self {
            Pass::Seal => None,
            Pass::ReadBack(_) => Some("read_back"),
            Pass::Checked(_) => Some("checked_as_sealed"),
            Pass::SealAgain(_) => Some("sealed_again"),
        }
    }
}

impl Courier {
    /// What staff see of a document, with when and why it goes.
    pub(super) fn doc_view(&self, d: &DocumentRecord) -> DocumentView {
        view(d, self.shred_at(d))
    }

    /// One upload request, client's or staff's: every file of `files` goes `into` the portal
    /// or the matter, at most `max_files_per_upload` of them, all or nothing, crash included.
    ///
    /// Each file is streamed into an encrypted blob and scanned on the way (`stage`); a refused
    /// file leaves no blob, only an audit event saying why (never its name or content). The
    /// blobs stay staged and sealed (no buffers held, invisible to the orphan sweep however
    /// long the request lasts) until the last file is in; then they are committed and the rows
    /// with their `document.upload` events go into the database in one transaction
    /// (`commit_staged`). If anything fails before, the staged blobs are dropped; if the
    /// process dies, the staging sweep removes them. No row ever exists without its blob.
    pub(super) async fn ingest_all<F: IncomingFiles>(
        &self,
        caller: &Caller,
        into: Destination<'_>,
        files: &mut F,
    ) -> Result<Vec<DocumentView>> {
        let target = match into {
            Destination::Portal(portal, receipt_id) => UploadTarget {
                portal_id: Some(portal.id.clone()),
                matter_id: portal.matter_id.clone(),
                receipt_id: Some(receipt_id.to_owned()),
                allowed_types: portal.allowed_types.clone(),
                dlp_action: portal.dlp_action,
                max_file_size: portal.max_file_size,
            },
            // Staff use the firm's file types and DLP action.
            Destination::Matter(matter) => {
                let m = self.resolve_matter(caller, matter, false).await?;
                let resource = self.matter_resource(&m.id).await?;
                self.authorize(caller, super::authz::Action::DocumentUpload, &resource).await?;
                UploadTarget {
                    portal_id: None,
                    matter_id: m.id,
                    receipt_id: None,
                    allowed_types: None,
                    dlp_action: self.scanning.default_dlp_action(),
                    max_file_size: self.config.default_max_file_size.bytes(),
                }
            }
        };
        let max = self.config.max_files_per_upload;
        let mut staged: Vec<Staged> = Vec::new();
        let streamed = async {
            while let Some(file) = files.next_file().await? {
                if staged.len() == max {
                    return Err(Error::PayloadTooLarge(crate::error::Reason::said(
                        format!("at most {max} files per upload"),
                        Said::new("refusal-too-many-files").with("max", SaidArg::Text(max.to_string())),
                    )));
                }
                staged.push(self.stage(caller, &target, file.name.as_deref(), file.bytes, file.sealed).await?);
            }
            if staged.is_empty() {
                return Err(Error::BadRequest(Reason::said(
                    "no file was uploaded; choose at least one file",
                    Said::new("refusal-no-file"),
                )));
            }
            Ok(())
        }
        .await;
        if let Err(e) = streamed {
            for s in staged {
                if let Err(abort) = s.upload.abort().await {
                    tracing::warn!(error = %abort, "could not remove a staged blob; the sweep will");
                }
            }
            return Err(e);
        }
        let (records, committed) = self.publish(staged).await;
        let stored = match committed {
            Ok(()) => self.commit_staged(caller, &target, &records).await,
            Err(e) => Err(e),
        };
        if let Err(e) = stored {
            for (record, _) in &records {
                // A commit reported as failed may have happened (a connection lost after
                // COMMIT): a blob with a row stays.
                if courier_store::documents::blob_key_known(self.db.pool(), &record.blob_key).await.unwrap_or(true) {
                    continue;
                }
                if let Err(delete) = self.blobs.delete(&record.blob_key).await {
                    tracing::warn!(error = %delete, "could not delete a blob of a failed upload; the sweep will");
                }
            }
            return Err(e);
        }
        Ok(records.iter().map(|(record, _)| self.doc_view(record)).collect())
    }

    /// A slot for one upload through `portal_id` from `ip`, held while it streams; refused
    /// (503) when the link or the address has `uploads_per_link`/`uploads_per_address` in
    /// flight already.
    pub(super) fn upload_slot(&self, portal_id: &str, ip: Option<std::net::IpAddr>) -> Result<super::inflight::Slot> {
        let mut caps = vec![(format!("portal:{portal_id}"), self.config.uploads_per_link.max(1))];
        if let Some(ip) = ip {
            caps.push((format!("ip:{}", super::inflight::address_key(ip)), self.config.uploads_per_address.max(1)));
        }
        self.uploads.try_take(&caps).ok_or_else(|| {
            Error::Busy(
                "Too many uploads at once through this link or from this address; please try again shortly.".into(),
            )
        })
    }

    /// Wraps each staged file's data key under the key ring in force now and commits its blob.
    /// The blobs become visible a moment before their rows (the orphan sweep's grace covers
    /// that moment). After a failure the rest are dropped, and the error is returned with
    /// every record, so the caller removes what was committed.
    async fn publish(&self, staged: Vec<Staged>) -> (Vec<(DocumentRecord, serde_json::Value)>, Result<()>) {
        let mut records = Vec::with_capacity(staged.len());
        let mut committed = Ok(());
        for s in staged {
            let mut record = s.record;
            let wrapped = match &committed {
                Ok(()) => self.keys.wrap(&s.dek, s.id.as_uuid().as_bytes()).map(Some),
                Err(_) => Ok(None),
            };
            match wrapped {
                Ok(Some(wrapped)) => {
                    record.wrapped_dek = Some(wrapped);
                    committed = s.upload.commit().await.map_err(Error::from);
                }
                failed => {
                    if let Err(e) = failed {
                        committed = Err(e);
                    }
                    if let Err(abort) = s.upload.abort().await {
                        tracing::warn!(error = %abort, "could not remove a staged blob; the sweep will");
                    }
                }
            }
            records.push((record, s.details));
        }
        (records, committed)
    }

    /// Streams one file into a sealed, staged blob, scanning it on the way; returns its row and
    /// the details of its audit event, not yet in the database.
    async fn stage<S, E>(
        &self,
        caller: &Caller,
        target: &UploadTarget,
        raw_name: Option<&str>,
        stream: S,
        sealed_file: Option<SealedFile>,
    ) -> Result<Staged>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let name = document_name(raw_name);
        let blob_key = uuid::Uuid::new_v4().to_string();
        let adopted = match &sealed_file {
            Some(f) if f.keep => self.blobs.adopt(&blob_key, &f.path).await?,
            _ => None,
        };
        let id = sealed_file.as_ref().map_or_else(DocumentId::random, |f| f.id);
        let (dek, mut upload, how) = match (adopted, sealed_file) {
            (Some(upload), Some(f)) => match f.checked {
                Some(checked) => (f.dek, upload, Pass::Checked(checked)),
                None => (f.dek, upload, Pass::ReadBack(f.sha256)),
            },
            (_, sealed_file) => {
                let how = match sealed_file {
                    Some(f) => Pass::SealAgain(f.checked),
                    None => Pass::Seal,
                };
                (Dek::generate()?, self.blobs.create(&blob_key).await?, how)
            }
        };
        if let Some(label) = how.label() {
            self.metrics.sealed_file_passes.get_or_create(&crate::metrics::PassLabels { pass: label }).inc();
        }
        let mut signature = None;
        let sealed = async {
            let (sealed, scan) = match how {
                Pass::Seal | Pass::SealAgain(None) => {
                    let mut scan = self.scanning.start(&name, target.allowed_types.clone()).await?;
                    (seal_into(&mut *upload, &dek, &id, target.max_file_size, stream, Some(&mut scan)).await?, scan)
                }
                // Checked already: sealed anew without a second pass of the scanners, and the
                // plaintext read back must be the one they saw.
                Pass::SealAgain(Some(CheckedAsSealed { scan, size, sha256 })) => {
                    let sealed = seal_into(&mut *upload, &dek, &id, target.max_file_size, stream, None).await?;
                    if (sealed.size, sealed.sha256) != (size, sha256) {
                        return Err(Error::Internal("a sealed file read back is not what was checked".into()));
                    }
                    (sealed, scan)
                }
                Pass::ReadBack(sha256) => {
                    let mut scan = self.scanning.start(&name, target.allowed_types.clone()).await?;
                    (scan_sealed(target.max_file_size, stream, sha256, &mut scan).await?, scan)
                }
                Pass::Checked(CheckedAsSealed { scan, size, sha256 }) => {
                    if size > target.max_file_size {
                        return Err(Error::PayloadTooLarge(crate::error::too_large(target.max_file_size)));
                    }
                    (Sealed { size, sha256 }, scan)
                }
            };
            let scanned = scan.finish().await?;
            let record =
                scanning::decide(&scanned, target.dlp_action, self.scanning.malware_action()).map_err(|refusal| {
                    if let ContentRefusal::Malware(s) = &refusal {
                        signature = Some(s.clone());
                    }
                    refused(refusal)
                })?;
            Ok::<_, Error>((sealed, scanned, record))
        }
        .await;
        let (sealed, scanned, scan_record) = match sealed {
            Ok(s) => s,
            Err(e) => {
                if let Err(abort) = upload.abort().await {
                    tracing::warn!(error = %abort, "could not remove a staged blob; the sweep will");
                }
                self.audit_refusal(caller, target, &e, signature.as_deref()).await;
                return Err(e);
            }
        };
        if let Err(e) = upload.seal().await {
            let _ = upload.abort().await;
            return Err(e.into());
        }
        let record = DocumentRecord {
            id: id.to_string(),
            portal_id: target.portal_id.clone(),
            matter_id: Some(target.matter_id.clone()),
            receipt_id: target.receipt_id.clone(),
            name,
            size: sealed.size as i64,
            content_type: scanned.report.kind.mime().to_owned(),
            sha256: hex::encode(sealed.sha256),
            blob_key,
            wrapped_dek: None,
            uploaded_at: self.clock.now_ms(),
            deleted_at: None,
            scan: scan_record,
            lifecycle: Default::default(),
        };
        let findings: Vec<_> = scanned
            .report
            .findings
            .clone()
            .into_vec()
            .into_iter()
            .map(|f| json!({"kind": f.kind, "count": f.count}))
            .collect();
        let details = json!({
            "document_id": record.id, "portal_id": target.portal_id, "matter_id": target.matter_id,
            "receipt_id": target.receipt_id,
            "size": record.size, "sha256": record.sha256, "content_type": record.content_type,
            "scan": { "status": record.scan.status, "malware": record.scan.malware, "findings": findings },
        });
        Ok(Staged { record, details, upload, dek, id })
    }

    /// Makes a request's files documents, in one transaction with their events.
    async fn commit_staged(
        &self,
        caller: &Caller,
        target: &UploadTarget,
        staged: &[(DocumentRecord, serde_json::Value)],
    ) -> Result<()> {
        let mut tx = self.audit.begin(&self.db).await?;
        // A lockdown turned on while the files streamed in refuses them (read here, in the
        // transaction, not from the cache): a client gets the uniform "not found", staff are told.
        if self.locked_down_now(&mut tx).await? {
            return Err(match target.portal_id {
                Some(_) => Error::LinkNotFound,
                None => Error::Locked(Reason::said(
                    "Courier is locked down: no upload is taken until it is lifted.",
                    Said::new("staff-refused-upload-locked-down"),
                )),
            });
        }
        // The portal may have been disabled, or deleted with its documents, while the files
        // streamed in; then they must not appear.
        if let Some(portal_id) = &target.portal_id {
            let live = courier_store::portals::lock_live(&mut tx, portal_id).await?;
            if live.is_none_or(|p| !super::portals::status(&p, self.clock.now_ms()).takes_uploads()) {
                return Err(Error::LinkNotFound);
            }
        }
        for (record, details) in staged {
            rows::insert(&mut tx, record).await?;
            let target = format!("document:{}", record.id);
            tx.record(caller, AuditAction::DocumentUpload, &target, details.clone()).await?;
        }
        tx.commit().await?;
        for (record, _) in staged {
            self.metrics.upload_documents.inc();
            self.metrics.upload_bytes.inc_by(record.size.max(0) as u64);
            let verdict = crate::metrics::VerdictLabels { verdict: record.scan.status.to_string() };
            self.metrics.scan_verdicts.get_or_create(&verdict).inc();
        }
        Ok(())
    }

    /// Records why a file was refused: the reason class and, for malware, the signature; for
    /// personal data, the kinds and counts. Never the file's name or a matched value.
    async fn audit_refusal(&self, caller: &Caller, to: &UploadTarget, e: &Error, signature: Option<&str>) {
        let reason = match e {
            Error::UnsupportedType(_) => "type",
            Error::Refused(_) if signature.is_some() => "malware",
            Error::Refused(_) => "content",
            Error::ScanUnavailable => "scanner_unavailable",
            Error::PayloadTooLarge(_) => "too_large",
            _ => return, // interrupted uploads and outages are not decisions about the file
        };
        self.metrics.refused(reason);
        let details = json!({ "portal_id": to.portal_id, "matter_id": to.matter_id, "reason": reason,
            "signature": signature, "message": e.public_message() });
        let target = match &to.portal_id {
            Some(p) => format!("portal:{p}"),
            None => format!("matter:{}", to.matter_id),
        };
        if let Err(audit) = self.audit.record(&self.db, caller, AuditAction::DocumentRefused, &target, details).await {
            tracing::error!(error = %audit, "could not audit a refused upload");
        }
    }

    pub(super) async fn document(&self, id: &str) -> Result<DocumentView> {
        let d = rows::get(self.db.pool(), id).await?.ok_or(Error::NotFound)?;
        Ok(self.doc_view(&d))
    }

    /// Opens a live document for a staff member: checks the policy, audits the download, then
    /// returns its metadata and a stream of authenticated plaintext. A damaged blob ends the
    /// stream with an error (and an audit event) before any unauthenticated byte.
    pub(super) async fn open_document(
        self: &std::sync::Arc<Self>,
        caller: &Caller,
        id: &str,
    ) -> Result<(DocumentView, impl Stream<Item = io::Result<Bytes>> + Send + 'static)> {
        let d = rows::get(self.db.pool(), id).await?.filter(|d| d.deleted_at.is_none()).ok_or(Error::NotFound)?;
        self.authorize(caller, super::authz::Action::DocumentDownload, &self.document_resource(&d).await?).await?;
        let stream = self.plaintext(&d).await?;
        let details =
            json!({ "document_id": d.id, "portal_id": d.portal_id, "matter_id": d.matter_id, "size": d.size });
        self.audit
            .record(&self.db, caller, AuditAction::DocumentDownload, &format!("document:{}", d.id), details)
            .await?;
        Ok((self.doc_view(&d), stream))
    }

    /// The authenticated plaintext of a live, not held document. Callers check and audit.
    pub(super) async fn plaintext(
        self: &std::sync::Arc<Self>,
        d: &DocumentRecord,
    ) -> Result<impl Stream<Item = io::Result<Bytes>> + Send + 'static + use<>> {
        let wrapped = d.wrapped_dek.as_deref().filter(|_| d.deleted_at.is_none()).ok_or(Error::NotFound)?;
        if d.scan.held {
            return Err(Error::Conflict(Reason::said(
                format!(
                    "this document is held ({}) and can be downloaded only after an attorney releases it",
                    d.scan.status
                ),
                Said::new("staff-refused-held")
                    .with("status", SaidArg::Messages(vec![format!("staff-portal-scan-{}", d.scan.status)])),
            )));
        }
        let doc_id: DocumentId = d.id.parse().map_err(|e| Error::internal("document id", e))?;
        let dek = self.keys.unwrap(wrapped, doc_id.as_uuid().as_bytes())?;
        let source = self.blobs.open_source(&d.blob_key).await?;
        let mut plain = Box::pin(self.clone().decrypt_stream(source, dek, doc_id));
        // The first batch is decrypted before any header goes out. A document of up to one
        // batch is then wholly authenticated before its `200`, and a damaged one (an empty one
        // too, whose length tells the client nothing) is an error, not a short success. Past
        // the first batch, damage cuts the body short of its `Content-Length`.
        let first = match plain.next().await {
            Some(Ok(batch)) => Some(Ok(batch)),
            Some(Err(e)) => return Err(Error::internal("decrypting the document", e)),
            None => None,
        };
        Ok(futures_util::stream::iter(first).chain(plain))
    }

    /// Plaintext of a blob as a stream. A producer task reads and decrypts (on the blocking
    /// pool) up to `DOWNLOAD_AHEAD` batches ahead of the consumer, so writing to the client
    /// overlaps with the next read and decryption; no thread is held while the client is slow.
    pub(super) fn decrypt_stream(
        self: std::sync::Arc<Self>,
        source: BlobSource,
        dek: Dek,
        id: DocumentId,
    ) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
        let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(DOWNLOAD_AHEAD);
        tokio::spawn(async move {
            let mut decryptor = Some(Decryptor::new(dek, id.as_uuid().as_bytes()));
            let mut ciphertext = Ciphertext::from(source);
            // The batches queued, the one hyper is sending and the one being filled; each
            // holds a batch's segments and, after the last batch, the one held back before.
            let batches = BatchPool::new(DOWNLOAD_AHEAD + 2, DOWNLOAD_BATCH + 2 * SEGMENT_SIZE);
            while let Some(d) = decryptor.take() {
                // A client gone stops the reading at once, not after the batch.
                let batch = tokio::select! {
                    batch = ciphertext.decrypt_batch(d, batches.take()) => batch,
                    () = tx.closed() => return,
                };
                match batch {
                    Ok((next, out)) => {
                        decryptor = next;
                        if tx.send(Ok(batches.share(out))).await.is_err() {
                            return; // the client went away
                        }
                    }
                    Err(e) => {
                        // Only a failed authentication says the blob is damaged; a store that
                        // did not answer is an outage, logged but not audited as corruption.
                        if e.kind() == io::ErrorKind::InvalidData {
                            self.record_corrupt(&id, &e).await;
                        } else {
                            tracing::error!(document = %id, error = %e, "a document's blob could not be read");
                        }
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                }
            }
        });
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) })
    }

    async fn record_corrupt(&self, id: &DocumentId, e: &io::Error) {
        tracing::error!(document = %id, error = %e, "a document's blob failed authentication");
        let details = json!({ "document_id": id.to_string(), "error": e.to_string() });
        let target = format!("document:{id}");
        if let Err(audit) =
            self.audit.record(&self.db, &Caller::system(), AuditAction::DocumentCorrupt, &target, details).await
        {
            tracing::error!(error = %audit, "could not audit a corrupt blob");
        }
    }

    /// Shreds one document at a staff member's or the operator's request (through the one
    /// shredding path, which refuses a held document), then removes its blob. `Ok(false)`:
    /// shredded, but an old copy of the key may stay in SQLite's write-ahead log until a
    /// reader lets go (finding 14); upkeep clears it.
    pub(super) async fn delete_document(&self, caller: &Caller, id: &str) -> Result<bool> {
        let d = rows::get(self.db.pool(), id).await?.filter(|d| d.deleted_at.is_none()).ok_or(Error::NotFound)?;
        self.authorize(caller, super::authz::Action::DocumentDelete, &self.document_resource(&d).await?).await?;
        let mut tx = self.audit.begin(&self.db).await?;
        let shredded = self.shred_in(&mut tx, caller, id, Some(ShredReason::Staff)).await?.ok_or(Error::NotFound)?;
        tx.commit().await?;
        Ok(self.after_shredding(&[shredded]).await)
    }

    /// Removes blobs whose rows are gone or shredded. Failures are logged; the orphan sweep
    /// retries them. Returns whether the database's write-ahead log was cleared of old pages.
    pub(super) async fn delete_blobs(&self, keys: &[String]) -> bool {
        let purged = match self.db.purge_freed(PURGE_PATIENCE).await {
            Ok(true) => true,
            Ok(false) => {
                tracing::warn!("a reader keeps the write-ahead log from being cleared after shredding; upkeep retries");
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not checkpoint the database after shredding; upkeep retries");
                false
            }
        };
        for k in keys {
            if let Err(e) = self.blobs.delete(k).await {
                tracing::warn!(error = %e, "could not delete a blob; the orphan sweep will retry");
            }
        }
        purged
    }
}

/// How long a shred waits for readers to let the write-ahead log be cleared.
const PURGE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(3);

/// The error a client sees for a file refused for its content (audited with the others).
fn refused(refusal: ContentRefusal) -> Error {
    if let ContentRefusal::Malware(signature) = &refusal {
        tracing::warn!(signature = %signature, "refused an infected upload");
    }
    refusal.into_error()
}

/// Streams plaintext into `upload` and past the scanners (if `scan`: not for a file checked
/// already). Reading the next batch from the network overlaps with hashing and encrypting the
/// previous one on the blocking pool, and with the scanners, which share each batch (no
/// copies); memory is a few batches per upload whatever the file size.
async fn seal_into<S, E>(
    upload: &mut dyn BlobUpload,
    dek: &Dek,
    id: &DocumentId,
    max_size: u64,
    mut stream: S,
    mut scan: Option<&mut ScanFeed>,
) -> Result<Sealed>
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let (encryptor, header) = Encryptor::new(dek, id.as_uuid().as_bytes())?;
    upload.write(&header).await?;
    // A local blob is written by the job that seals each batch, in the same hop.
    let file = upload.staged_file().await?;
    let mut idle_sealer = Some(Sealer { encryptor, hasher: Sha256::default(), file });
    let mut in_flight: Option<SealJob> = None;
    let mut filling = Vec::with_capacity(BATCH);
    let mut spare_out = Vec::with_capacity(BATCH + 1024);
    let mut size: u64 = 0;
    loop {
        let chunk = match stream.next().await {
            Some(Ok(c)) => Some(c),
            Some(Err(e)) => {
                return Err(bad_request(
                    format!("the upload was interrupted or malformed: {e}"),
                    Said::new("refusal-malformed"),
                ));
            }
            None => None,
        };
        let last = chunk.is_none();
        let mut rest = chunk.unwrap_or_default();
        size += rest.len() as u64;
        if size > max_size {
            return Err(Error::PayloadTooLarge(crate::error::too_large(max_size)));
        }
        // Batches of exactly `BATCH` bytes (the last one shorter), whatever the chunks' sizes:
        // a chunk can be as large as what the client got ahead of the pipeline.
        while !rest.is_empty() || (last && !filling.is_empty()) {
            if !fill_batch(&mut filling, &mut rest) && !last {
                break;
            }
            // After the last batch nothing more is filled: no buffer is made for it.
            let next = if last { Vec::new() } else { Vec::with_capacity(BATCH) };
            let batch = Bytes::from(std::mem::replace(&mut filling, next));
            if let Some(scan) = &mut scan {
                scan.feed(&batch).await?;
            }
            let mut sealer = match in_flight.take() {
                Some(job) => finish_job(job, upload, &mut spare_out).await?,
                None => idle_sealer.take().ok_or_else(|| Error::Internal("sealer lost".into()))?,
            };
            let mut out = std::mem::take(&mut spare_out);
            in_flight = Some(tokio::task::spawn_blocking(move || {
                out.clear();
                sealer.push(&batch, &mut out)?;
                Ok((sealer, out))
            }));
        }
        if last {
            break;
        }
    }
    let sealer = match in_flight.take() {
        Some(job) => finish_job(job, upload, &mut spare_out).await?,
        None => idle_sealer.take().ok_or_else(|| Error::Internal("sealer lost".into()))?,
    };
    let Sealer { encryptor, hasher, file } = sealer;
    drop(file); // its writes have returned; the last segment goes through `write`
    spare_out.clear();
    encryptor.finish(&mut spare_out)?;
    upload.write(&spare_out).await?;
    Ok(Sealed { size, sha256: hasher.finish() })
}

/// What `seal_into` does for a file that is sealed already: its plaintext is counted and fed to
/// the scanners, nothing written; its SHA-256 comes from the reader that decrypted it.
async fn scan_sealed<S, E>(
    max_size: u64,
    mut stream: S,
    sha256: tokio::sync::oneshot::Receiver<[u8; 32]>,
    scan: &mut ScanFeed,
) -> Result<Sealed>
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut size: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            bad_request(format!("the upload was interrupted or malformed: {e}"), Said::new("refusal-malformed"))
        })?;
        size += chunk.len() as u64;
        if size > max_size {
            return Err(Error::PayloadTooLarge(crate::error::too_large(max_size)));
        }
        scan.feed(&chunk).await?;
    }
    let sha256 = sha256.await.map_err(|_| Error::Internal("the sealed file's reader gave no digest".into()))?;
    Ok(Sealed { size, sha256 })
}

/// Moves the start of `rest` into `filling`, up to `BATCH` bytes; true when `filling` is full.
fn fill_batch(filling: &mut Vec<u8>, rest: &mut Bytes) -> bool {
    let take = rest.len().min(BATCH - filling.len());
    filling.extend_from_slice(&rest.split_to(take));
    filling.len() == BATCH
}

/// One batch sealed on the blocking pool: the sealer and the ciphertext buffer come back.
type SealJob = tokio::task::JoinHandle<Result<(Sealer, Vec<u8>)>>;

/// Waits for a sealing job, writes its ciphertext and takes its buffer back.
async fn finish_job(job: SealJob, upload: &mut dyn BlobUpload, spare_out: &mut Vec<u8>) -> Result<Sealer> {
    let (sealer, out) = job.await.map_err(|e| Error::internal("seal task", e))??;
    if !out.is_empty() {
        upload.write(&out).await?;
    }
    *spare_out = out;
    Ok(sealer)
}

/// A download's ciphertext and what it is read with.
enum Ciphertext {
    /// A local file: read and decrypted in one hop on the blocking pool, straight into the
    /// decryptor's buffer. `None` only while a batch is being read.
    File(Option<std::fs::File>),
    /// Any other store: read here into `buf` (kept for reuse), decrypted on the blocking pool.
    Stream { reader: BlobReader, buf: Vec<u8> },
}

impl From<BlobSource> for Ciphertext {
    fn from(source: BlobSource) -> Self {
        match source {
            BlobSource::File(file) => Ciphertext::File(Some(file)),
            BlobSource::Stream(reader) => Ciphertext::Stream { reader, buf: vec![0u8; DOWNLOAD_BATCH] },
        }
    }
}

impl Ciphertext {
    /// Reads up to one batch of ciphertext and decrypts it into `out`, an empty batch. Returns
    /// the decryptor (none after the last segment) and the filled batch.
    async fn decrypt_batch(
        &mut self,
        mut decryptor: Decryptor,
        mut out: PlainBuf,
    ) -> io::Result<(Option<Decryptor>, PlainBuf)> {
        match self {
            Ciphertext::File(slot) => {
                let mut file = slot.take().ok_or_else(|| io::Error::other("blob file lost"))?;
                let (next, out, file) = blocking(move || {
                    // The batch's segments, and after the last batch the segment held back
                    // from the one before.
                    let n = decryptor.read_from(&mut file, DOWNLOAD_BATCH, &mut out)?;
                    let next = finish_at_end(decryptor, n < DOWNLOAD_BATCH, &mut out)?;
                    Ok((next, out, file))
                })
                .await?;
                *slot = Some(file);
                Ok((next, out))
            }
            Ciphertext::Stream { reader, buf } => {
                let n = read_full(reader, buf).await?;
                let batch = std::mem::take(buf);
                let (next, out, batch) = blocking(move || {
                    decryptor.push(&batch[..n], &mut out).map_err(invalid_data)?;
                    let next = finish_at_end(decryptor, n < batch.len(), &mut out)?;
                    Ok((next, out, batch))
                })
                .await?;
                *buf = batch;
                Ok((next, out))
            }
        }
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> io::Result<T> + Send + 'static) -> io::Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(io::Error::other)?
}

/// After the batch that reached the end of the blob, the last segment is authenticated and
/// released and no decryptor is left; otherwise the decryptor goes on.
fn finish_at_end(decryptor: Decryptor, at_end: bool, out: &mut PlainBuf) -> io::Result<Option<Decryptor>> {
    if at_end {
        decryptor.finish(out).map_err(invalid_data)?;
        return Ok(None);
    }
    Ok(Some(decryptor))
}

fn invalid_data(e: courier_crypto::CryptoError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

async fn read_full(reader: &mut BlobReader, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = reader.read(&mut buf[filled..]).await?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_larger_than_a_batch_is_cut_into_whole_batches() {
        let mut rest = Bytes::from(vec![7u8; BATCH * 5 / 2]);
        let mut filling = Vec::with_capacity(BATCH);
        let mut batches = Vec::new();
        while !rest.is_empty() {
            if fill_batch(&mut filling, &mut rest) {
                batches.push(std::mem::take(&mut filling).len());
            }
        }
        assert_eq!(batches, [BATCH, BATCH]);
        assert_eq!(filling.len(), BATCH / 2, "the rest waits for the next chunk");
        // Small chunks fill one batch in turn.
        let mut small = Bytes::from(vec![1u8; BATCH / 2]);
        assert!(fill_batch(&mut filling, &mut small));
        assert!(small.is_empty());
    }
}
