//! Documents: the streaming upload pipeline, streaming download and shredding.
//!
//! Upload: chunks -> size limit -> type sniffing (first bytes) -> SHA-256 -> segment
//! encryption -> staged blob -> commit blob -> one transaction inserts the row and its audit
//! event. Hashing and encryption run on the blocking pool in batches of `BATCH` bytes, so
//! memory per upload is a few hundred KiB whatever the file size.

use std::io;

use bytes::Bytes;
use courier_core::time_fmt::{now_ms, rfc3339};
use courier_core::{DocumentId, FileName};
use courier_crypto::Sha256;
use courier_crypto::keys::Dek;
use courier_crypto::stream::{Decryptor, Encryptor};
use courier_store::Tx;
use courier_store::audit::HeadRecord;
use courier_store::blob::{BlobReader, BlobUpload};
use courier_store::documents::{self as rows, DocumentRecord};
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use serde_json::json;
use tokio::io::AsyncReadExt;

use super::portals::OpenPortal;
use super::{Caller, Courier};
use crate::{Error, Result};

/// Plaintext bytes handed to the blocking pool at a time.
const BATCH: usize = 256 * 1024;
/// Ciphertext read and decrypted per blocking-pool hop on download. Larger than the upload batch:
/// each hop costs two thread switches, and downloads are few (staff) and short-lived.
const DOWNLOAD_BATCH: usize = 1024 * 1024;
/// Decrypted batches a download may run ahead of the client.
const DOWNLOAD_AHEAD: usize = 2;
/// Bytes kept for content-type sniffing.
const SNIFF_LEN: usize = 8 * 1024;

#[derive(Debug, Clone, Serialize)]
pub struct DocumentView {
    pub id: String,
    pub portal_id: Option<String>,
    pub name: String,
    pub size: i64,
    pub content_type: String,
    pub sha256: String,
    pub uploaded_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    pub scan: ScanView,
}

/// Scanning arrives with the upload-safety issue; until then every document says so.
#[derive(Debug, Clone, Serialize)]
pub struct ScanView {
    pub status: &'static str,
    pub malware: Option<String>,
    pub findings: Vec<serde_json::Value>,
}

pub fn view(d: &DocumentRecord) -> DocumentView {
    DocumentView {
        id: d.id.clone(),
        portal_id: d.portal_id.clone(),
        name: d.name.clone(),
        size: d.size,
        content_type: d.content_type.clone(),
        sha256: d.sha256.clone(),
        uploaded_at: rfc3339(d.uploaded_at),
        deleted_at: d.deleted_at.map(rfc3339),
        scan: ScanView { status: "unscanned", malware: None, findings: Vec::new() },
    }
}

/// The plaintext-side state of one upload, moved to the blocking pool for each batch.
struct Sealer {
    encryptor: Encryptor,
    hasher: Sha256,
    sniff: Vec<u8>,
}

impl Sealer {
    fn push(&mut self, plain: &[u8], out: &mut Vec<u8>) -> Result<()> {
        if self.sniff.len() < SNIFF_LEN {
            let take = (SNIFF_LEN - self.sniff.len()).min(plain.len());
            self.sniff.extend_from_slice(&plain[..take]);
        }
        self.hasher.update(plain);
        self.encryptor.push(plain, out)?;
        Ok(())
    }
}

struct Sealed {
    size: u64,
    sha256: [u8; 32],
    sniff: Vec<u8>,
}

/// Content type from the first bytes, never from the client's claim.
pub fn sniff_content_type(head: &[u8]) -> String {
    if let Some(kind) = infer::get(head) {
        return kind.mime_type().to_owned();
    }
    // Plain text: valid UTF-8 (a multi-byte character may be cut at the end) and no NULs.
    let valid = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    let mime = if valid && !head.contains(&0) { "text/plain" } else { "application/octet-stream" };
    mime.to_owned()
}

impl Courier {
    /// Streams one file into an encrypted blob and makes it visible as a document of `portal`,
    /// all or nothing.
    pub async fn ingest_portal_upload<S, E>(
        &self,
        caller: &Caller,
        portal: &OpenPortal,
        receipt_id: &str,
        raw_name: Option<&str>,
        stream: S,
    ) -> Result<DocumentView>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let id = DocumentId::random();
        let blob_key = uuid::Uuid::new_v4().to_string();
        let dek = Dek::generate()?;
        let mut upload = self.blobs.create(&blob_key).await?;
        let sealed = match seal_into(&mut *upload, &dek, &id, portal.max_file_size, stream).await {
            Ok(s) => s,
            Err(e) => {
                if let Err(abort) = upload.abort().await {
                    tracing::warn!(error = %abort, "could not remove a staged blob; the sweep will");
                }
                return Err(e);
            }
        };
        upload.commit().await?;

        let record = DocumentRecord {
            id: id.to_string(),
            portal_id: Some(portal.id.clone()),
            matter_id: None,
            receipt_id: Some(receipt_id.to_owned()),
            name: FileName::sanitize(raw_name.unwrap_or_default()).to_string(),
            size: sealed.size as i64,
            content_type: sniff_content_type(&sealed.sniff),
            sha256: hex::encode(sealed.sha256),
            blob_key: blob_key.clone(),
            wrapped_dek: Some(self.keys.wrap(&dek, id.as_uuid().as_bytes())?),
            uploaded_at: now_ms(),
            deleted_at: None,
        };
        let committed = async {
            let mut tx = self.db.begin().await?;
            // The portal may have been disabled, or deleted with its documents, while this
            // file streamed in; then the file must not appear.
            let live = courier_store::portals::lock_live(&mut tx, &portal.id).await?;
            if live.is_none_or(|p| super::portals::status(&p, now_ms()) != "active") {
                return Err(Error::LinkNotFound);
            }
            rows::insert(&mut tx, &record).await?;
            let details = json!({
                "document_id": record.id, "portal_id": portal.id, "receipt_id": receipt_id,
                "size": record.size, "sha256": record.sha256, "content_type": record.content_type,
            });
            let head = self
                .audit
                .append(&mut tx, caller, "document.upload", &format!("document:{}", record.id), details)
                .await?;
            self.audit.commit(tx, head).await
        }
        .await;
        if let Err(e) = committed {
            self.delete_blobs(&[blob_key]).await;
            return Err(e);
        }
        Ok(view(&record))
    }

    pub async fn list_documents(&self, portal_id: Option<&str>, include_deleted: bool) -> Result<Vec<DocumentView>> {
        Ok(rows::list(self.db.pool(), portal_id, include_deleted).await?.iter().map(view).collect())
    }

    pub async fn document(&self, id: &str) -> Result<DocumentView> {
        let d = rows::get(self.db.pool(), id).await?.ok_or(Error::NotFound)?;
        Ok(view(&d))
    }

    /// Opens a live document for reading: audits the download, then returns its metadata and
    /// a stream of authenticated plaintext. A damaged blob ends the stream with an error (and
    /// an audit event) before any unauthenticated byte.
    pub async fn open_document(
        self: &std::sync::Arc<Self>,
        caller: &Caller,
        id: &str,
    ) -> Result<(DocumentView, impl Stream<Item = io::Result<Bytes>> + Send + 'static)> {
        let d = rows::get(self.db.pool(), id).await?.ok_or(Error::NotFound)?;
        let wrapped = d.wrapped_dek.as_deref().filter(|_| d.deleted_at.is_none()).ok_or(Error::NotFound)?;
        let doc_id: DocumentId = d.id.parse().map_err(|e| Error::internal("document id", e))?;
        let dek = self.keys.unwrap(wrapped, doc_id.as_uuid().as_bytes())?;
        let reader = self.blobs.open(&d.blob_key).await?;
        let details = json!({ "document_id": d.id, "portal_id": d.portal_id, "size": d.size });
        self.audit.record(&self.db, caller, "document.download", &format!("document:{}", d.id), details).await?;
        Ok((view(&d), self.clone().decrypt_stream(reader, dek, doc_id)))
    }

    /// Plaintext of a blob as a stream. A producer task reads and decrypts (on the blocking
    /// pool) up to `DOWNLOAD_AHEAD` batches ahead of the consumer, so writing to the client
    /// overlaps with the next read and decryption; no thread is held while the client is slow.
    fn decrypt_stream(
        self: std::sync::Arc<Self>,
        mut reader: BlobReader,
        dek: Dek,
        id: DocumentId,
    ) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
        let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(DOWNLOAD_AHEAD);
        tokio::spawn(async move {
            let mut decryptor = Some(Decryptor::new(dek, id.as_uuid().as_bytes()));
            let mut buf = vec![0u8; DOWNLOAD_BATCH];
            while let Some(d) = decryptor.take() {
                match decrypt_batch(&mut reader, d, buf).await {
                    Ok((next, out, back)) => {
                        decryptor = next;
                        buf = back;
                        if tx.send(Ok(Bytes::from(out))).await.is_err() {
                            return; // the client went away
                        }
                    }
                    Err(e) => {
                        self.record_corrupt(&id, &e).await;
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                }
            }
        });
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) })
    }

    async fn record_corrupt(&self, id: &DocumentId, e: &io::Error) {
        tracing::error!(document = %id, error = %e, "document blob failed authentication or could not be read");
        let details = json!({ "document_id": id.to_string(), "error": e.to_string() });
        let target = format!("document:{id}");
        if let Err(audit) = self.audit.record(&self.db, &Caller::system(), "document.corrupt", &target, details).await {
            tracing::error!(error = %audit, "could not audit a corrupt blob");
        }
    }

    /// Shreds one document: its wrapped key is forgotten in one audited transaction, then the
    /// blob is removed.
    pub async fn delete_document(&self, caller: &Caller, id: &str) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let d = rows::get(&mut *tx, id).await?.filter(|d| d.deleted_at.is_none()).ok_or(Error::NotFound)?;
        let head = self.shred_in(&mut tx, caller, &d, now_ms()).await?;
        self.audit.commit(tx, head).await?;
        self.delete_blobs(&[d.blob_key]).await;
        Ok(())
    }

    pub(crate) async fn shred_in(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        d: &DocumentRecord,
        now: i64,
    ) -> Result<HeadRecord> {
        // Conditional on not being shredded yet: a concurrent delete (another instance, the CLI)
        // must not be recorded twice.
        if !rows::shred(tx, &d.id, now).await? {
            return Err(Error::NotFound);
        }
        let details = json!({ "document_id": d.id, "portal_id": d.portal_id, "size": d.size, "sha256": d.sha256 });
        self.audit.append(tx, caller, "document.delete", &format!("document:{}", d.id), details).await
    }

    /// Removes blobs whose rows are gone or shredded. Failures are logged; the orphan sweep
    /// retries them.
    pub(crate) async fn delete_blobs(&self, keys: &[String]) {
        if let Err(e) = self.db.purge_freed().await {
            tracing::warn!(error = %e, "could not checkpoint the database after shredding; upkeep retries");
        }
        for k in keys {
            if let Err(e) = self.blobs.delete(k).await {
                tracing::warn!(error = %e, "could not delete a blob; the orphan sweep will retry");
            }
        }
    }
}

/// Streams plaintext into `upload`. Reading the next batch from the network overlaps with
/// hashing and encrypting the previous one on the blocking pool; two plaintext buffers and one
/// ciphertext buffer circulate, so memory is about 1 MiB per upload whatever the file size.
async fn seal_into<S, E>(
    upload: &mut dyn BlobUpload,
    dek: &Dek,
    id: &DocumentId,
    max_size: u64,
    mut stream: S,
) -> Result<Sealed>
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let (encryptor, header) = Encryptor::new(dek, id.as_uuid().as_bytes())?;
    upload.write(&header).await?;
    let mut idle_sealer = Some(Sealer { encryptor, hasher: Sha256::default(), sniff: Vec::with_capacity(SNIFF_LEN) });
    let mut in_flight: Option<SealJob> = None;
    let mut filling = Vec::with_capacity(BATCH);
    let mut spare_plain = Vec::with_capacity(BATCH);
    let mut spare_out = Vec::with_capacity(BATCH + 1024);
    let mut size: u64 = 0;
    loop {
        let chunk = match stream.next().await {
            Some(Ok(c)) => Some(c),
            Some(Err(e)) => return Err(Error::BadRequest(format!("the upload was interrupted or malformed: {e}"))),
            None => None,
        };
        if let Some(c) = &chunk {
            size += c.len() as u64;
            if size > max_size {
                return Err(Error::PayloadTooLarge(format!(
                    "the file is larger than this portal accepts ({})",
                    courier_core::ByteSize(max_size)
                )));
            }
            filling.extend_from_slice(c);
        }
        let last = chunk.is_none();
        if filling.len() >= BATCH || (last && !filling.is_empty()) {
            let mut sealer = match in_flight.take() {
                Some(job) => finish_job(job, upload, &mut spare_plain, &mut spare_out).await?,
                None => idle_sealer.take().ok_or_else(|| Error::Internal("sealer lost".into()))?,
            };
            let batch = std::mem::replace(&mut filling, std::mem::take(&mut spare_plain));
            let mut out = std::mem::take(&mut spare_out);
            in_flight = Some(tokio::task::spawn_blocking(move || {
                out.clear();
                sealer.push(&batch, &mut out)?;
                Ok((sealer, batch, out))
            }));
        }
        if last {
            break;
        }
    }
    let sealer = match in_flight.take() {
        Some(job) => finish_job(job, upload, &mut spare_plain, &mut spare_out).await?,
        None => idle_sealer.take().ok_or_else(|| Error::Internal("sealer lost".into()))?,
    };
    let Sealer { encryptor, hasher, sniff } = sealer;
    spare_out.clear();
    encryptor.finish(&mut spare_out)?;
    upload.write(&spare_out).await?;
    Ok(Sealed { size, sha256: hasher.finish(), sniff })
}

/// One batch sealed on the blocking pool: the sealer, the emptied plaintext buffer and the
/// ciphertext come back for reuse.
type SealJob = tokio::task::JoinHandle<Result<(Sealer, Vec<u8>, Vec<u8>)>>;

/// Waits for a sealing job, writes its ciphertext and takes its buffers back.
async fn finish_job(
    job: SealJob,
    upload: &mut dyn BlobUpload,
    spare_plain: &mut Vec<u8>,
    spare_out: &mut Vec<u8>,
) -> Result<Sealer> {
    let (sealer, mut plain, out) = job.await.map_err(|e| Error::internal("seal task", e))??;
    upload.write(&out).await?;
    plain.clear();
    *spare_plain = plain;
    *spare_out = out;
    Ok(sealer)
}

/// Reads up to one batch of ciphertext and decrypts it on the blocking pool. Returns the
/// decryptor (none after the last segment), the plaintext and the read buffer for reuse.
async fn decrypt_batch(
    reader: &mut BlobReader,
    decryptor: Decryptor,
    mut buf: Vec<u8>,
) -> io::Result<(Option<Decryptor>, Vec<u8>, Vec<u8>)> {
    let n = read_full(reader, &mut buf).await?;
    let at_end = n < buf.len();
    tokio::task::spawn_blocking(move || {
        let mut d = decryptor;
        let mut out = Vec::with_capacity(n); // plaintext is shorter than its ciphertext
        d.push(&buf[..n], &mut out)?;
        if at_end {
            d.finish(&mut out)?;
            return Ok((None, out, buf));
        }
        Ok((Some(d), out, buf))
    })
    .await
    .map_err(io::Error::other)?
    .map_err(|e: courier_crypto::CryptoError| io::Error::new(io::ErrorKind::InvalidData, e))
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
    #[test]
    fn sniffing_uses_content_not_names() {
        assert_eq!(super::sniff_content_type(b"%PDF-1.7\n..."), "application/pdf");
        assert_eq!(super::sniff_content_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(super::sniff_content_type("Grüße, plain text".as_bytes()), "text/plain");
        assert_eq!(super::sniff_content_type(&[0, 1, 2, 0xff]), "application/octet-stream");
        assert_eq!(super::sniff_content_type(b""), "text/plain");
    }
}
