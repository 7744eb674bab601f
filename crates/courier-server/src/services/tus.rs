//! Resumable uploads (tus 1.0.0: core, creation, termination, checksum, expiration) through a
//! portal link.
//!
//! The bytes received so far are sealed as they arrive, in format v1, into a file under
//! `data_dir/tus/` with the upload's own data key (wrapped by the master key in the row): the
//! header and every whole segment are in the file, and the segment not yet full is kept in the
//! row, sealed aside under the same key (`stream::seal_aside`), until the next request takes it
//! back and the segment stream goes on. No plaintext touches the disk, and a restart between
//! two requests loses nothing. A request commits what it added with one conditional update
//! (offset, committed file length, tail); bytes after the committed length are from a request
//! that never committed and are cut off by the next one (and the row records it: `cut_back`).
//!
//! When the last byte is in, the file goes through the same pipeline as a form upload (type
//! checks, malware and personal-data scans, the audit trail), so it becomes a document only
//! complete and checked, under the same promises. A request that brings every byte from the
//! first has fed the scanners as they arrived, and the finish only waits for their verdicts;
//! otherwise the sealed file is decrypted and streamed through them (no check state is kept
//! between requests). The document takes the upload's id, so the sealed file is a valid blob
//! of it: a local store links it into place as it is; S3, or a file whose cut-off segments'
//! nonces were used again, gets the plaintext sealed anew under a new data key (not checked
//! twice). Once a document may
//! have the file, it is never opened to append again (that would cut it back). Unfinished
//! uploads are removed after `tus_expiry`.

use std::io::SeekFrom;
use std::path::PathBuf;

use bytes::{Bytes, BytesMut};
use courier_core::UploadId;
use courier_crypto::keys::Dek;
use courier_crypto::stream::{Encryptor, HEADER_LEN, SEGMENT_SIZE, SegmentReader, TAG_LEN, open_aside, seal_aside};
use courier_store::tus::{self as rows, NewTusUpload, TusUpload};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use super::Courier;
use super::documents::{CheckedAsSealed, Destination, IncomingFile, IncomingFiles, SealedFile};
use super::handles::PortalLink;
use super::scanning::ScanFeed;
use crate::error::{Said, SaidArg, bad_request};
use crate::{Error, Result};

const SEALED_SEGMENT: i64 = (SEGMENT_SIZE + TAG_LEN) as i64;
/// Plaintext handed to the pipeline per message when a finished upload is read back.
const READ_BACK_CHUNK: usize = 256 * 1024;

/// A new upload's address and expiry.
#[derive(Debug)]
pub struct TusCreated {
    pub id: String,
    pub expires_at: i64,
}

/// Where an upload stands (`HEAD`, and the answer to a `PATCH`).
#[derive(Debug)]
pub struct TusState {
    pub offset: u64,
    pub length: u64,
    pub expires_at: i64,
    /// `{"id", "received_at", "files"}` once the file became a document.
    pub receipt: Option<serde_json::Value>,
}

/// The checksum a client sent with a `PATCH` (`Upload-Checksum: sha256 <base64>`).
pub struct Checksum(pub [u8; 32]);

impl Courier {
    fn tus_dir(&self) -> PathBuf {
        self.config.data_dir.join("tus")
    }

    fn tus_file(&self, id: &str) -> PathBuf {
        self.tus_dir().join(format!("{id}.part"))
    }

    /// What binds a kept-aside segment to its upload and to the offset it ends at.
    fn tail_aad(id: &str, received: i64) -> Vec<u8> {
        format!("courier tus tail v1 {id} {received}").into_bytes()
    }

    async fn tus_row(&self, portal_id: &str, id: &str) -> Result<TusUpload> {
        // Any form of the id is read as the one canonical form the row has.
        let id: UploadId = id.parse().map_err(|_| Error::NotFound)?;
        rows::get(self.db.pool(), portal_id, &id.to_string(), self.clock.now_ms()).await?.ok_or(Error::NotFound)
    }

    /// Removes the sealed partial file of an upload (it may not exist).
    async fn remove_tus_file(&self, id: &str) {
        match tokio::fs::remove_file(self.tus_file(id)).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(upload = id, error = %e, "could not remove a partial upload; upkeep will"),
        }
    }

    /// Removes uploads past their expiry (finished ones keep only a receipt until then), and
    /// partial files left without a row.
    pub async fn sweep_tus(&self) -> Result<usize> {
        let now = self.clock.now_ms();
        let mut removed = self.sweep_tus_orphans().await?;
        loop {
            let ids = rows::expired(self.db.pool(), now, 100).await?;
            let mut busy = 0;
            for id in &ids {
                // Not under a request that is still writing or checking it; the next run will.
                let Ok(_busy) = self.tus_lock(id) else {
                    busy += 1;
                    continue;
                };
                self.remove_tus_file(id).await;
                rows::delete(self.db.pool(), id).await?;
                removed += 1;
            }
            if busy == ids.len() {
                return Ok(removed);
            }
        }
    }

    /// Partial files whose row is gone (a crash between the two, a restored database), once
    /// older than `tus_expiry`.
    pub async fn sweep_tus_orphans(&self) -> Result<usize> {
        let mut removed = 0;
        let mut dir = match tokio::fs::read_dir(self.tus_dir()).await {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(Error::internal("resumable upload directory", e)),
        };
        let max_age = self.config.tus_expiry.0;
        while let Some(entry) = dir.next_entry().await.map_err(|e| Error::internal("resumable upload directory", e))? {
            let name = entry.file_name();
            let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".part")) else { continue };
            let old = entry
                .metadata()
                .await
                .ok()
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > max_age);
            if old && !rows::exists(self.db.pool(), id).await? {
                self.remove_tus_file(id).await;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

impl PortalLink {
    fn check_unlocked(&self, cookie: Option<&str>) -> Result<()> {
        if self.locked(cookie) { Err(Error::Unauthenticated) } else { Ok(()) }
    }

    /// `POST`: opens an upload of `length` bytes named `name`.
    pub async fn tus_create(&self, cookie: Option<&str>, length: u64, name: &str) -> Result<TusCreated> {
        self.check_unlocked(cookie)?;
        let courier = &self.courier;
        let portal = self.portal();
        if length == 0 {
            return Err(bad_request("the file is empty", Said::new("refusal-empty")));
        }
        if length > portal.max_file_size {
            return Err(Error::PayloadTooLarge(crate::error::too_large(portal.max_file_size)));
        }
        if name.trim().is_empty() {
            return Err(bad_request(
                "the upload needs a file name (Upload-Metadata: filename …)",
                Said::new("refusal-no-name"),
            ));
        }
        let now = courier.clock.now_ms();
        let cap = courier.config.tus_unfinished_per_link.max(1);
        let id = UploadId::random();
        let id_bytes = *id.as_uuid().as_bytes();
        let id = id.to_string();
        let dek = Dek::generate()?;
        let (_, header) = Encryptor::new(&dek, &id_bytes)?;
        let expires_at = now + courier.config.tus_expiry.as_millis();
        let wrapped = courier.keys.wrap(&dek, &id_bytes)?;
        // The row first: a file without one is never looked for, and upkeep removes it.
        let new = NewTusUpload {
            id: &id,
            portal_id: &portal.id,
            name,
            length: i64::try_from(length).map_err(|_| Error::PayloadTooLarge("the file is too large".into()))?,
            sealed_len: HEADER_LEN as i64,
            wrapped_dek: &wrapped,
            created_at: now,
            expires_at,
        };
        let mut tx = courier.db.begin().await?;
        if !rows::insert_within_cap(&mut tx, courier.db.backend(), &new, now, cap as i64).await? {
            return Err(Error::Busy(crate::error::Reason::said(
                format!(
                    "this link already has {cap} unfinished uploads; finish or cancel one, or wait until they expire"
                ),
                Said::new("refusal-link-busy").with("max", SaidArg::Text(cap.to_string())),
            )));
        }
        courier_store::Db::commit(tx).await?;
        let written = async {
            let mut file =
                tokio::fs::OpenOptions::new().write(true).create_new(true).open(courier.tus_file(&id)).await?;
            file.write_all(&header).await?;
            file.sync_all().await
        }
        .await;
        if let Err(e) = written {
            let _ = rows::delete(courier.db.pool(), &id).await;
            return Err(Error::internal("partial upload file", e));
        }
        Ok(TusCreated { id, expires_at })
    }

    /// `HEAD`, or the receipt once finished. An upload whose last byte is in but which is not
    /// a document yet (its request was cut while the file was checked, the scanner was down,
    /// the server restarted) is finished now; while another request finishes it, the state says
    /// so (no receipt yet). When the checks fail for a while, `HEAD` still gives the state
    /// (`for_receipt` false) and the receipt request gets the error.
    pub async fn tus_state(&self, cookie: Option<&str>, id: &str, for_receipt: bool) -> Result<TusState> {
        self.check_unlocked(cookie)?;
        let courier = &self.courier;
        let row = courier.tus_row(&self.portal().id, id).await?;
        if row.receipt.is_some() || row.received < row.length {
            return Ok(state_of(&row));
        }
        // Checks that just failed for a while are not run again at once (each reads the whole
        // file): until then, HEAD gives the state and the receipt request says to wait.
        if courier.tus_retry.waiting(&row.id) {
            return if for_receipt { Err(check_later()) } else { Ok(state_of(&row)) };
        }
        let Ok(busy) = courier.tus_lock(&row.id) else { return Ok(state_of(&row)) };
        // Read again under the lock: a request may have finished (or refused) it meanwhile.
        let row = courier.tus_row(&self.portal().id, &row.id).await?;
        if row.receipt.is_some() || row.received < row.length {
            return Ok(state_of(&row));
        }
        let slot = match courier.upload_slot(&self.portal().id, self.caller().ip) {
            Ok(slot) => slot,
            Err(_) if !for_receipt => return Ok(state_of(&row)),
            Err(e) => return Err(e),
        };
        let id_bytes = *row.id.parse::<UploadId>().map_err(|_| Error::NotFound)?.as_uuid().as_bytes();
        let dek = courier.keys.unwrap(&row.wrapped_dek, &id_bytes)?;
        match self.finish_detached(row.clone(), None, dek, id_bytes, (busy, slot)).await {
            Ok(receipt) => Ok(TusState { receipt, ..state_of(&row) }),
            Err(e) if !for_receipt && !refusal_is_final(&e) => Ok(state_of(&row)),
            Err(e) => Err(e),
        }
    }

    /// `DELETE`: ends an upload and removes what it received.
    pub async fn tus_terminate(&self, cookie: Option<&str>, id: &str) -> Result<()> {
        self.check_unlocked(cookie)?;
        // This link's upload first (another link's gets 404 without touching the lock); then
        // not while a PATCH is writing it (nor finishing it), read again under the lock.
        let row = self.courier.tus_row(&self.portal().id, id).await?;
        let _busy = self.courier.tus_lock(&row.id)?;
        let row = self.courier.tus_row(&self.portal().id, &row.id).await?;
        if row.receipt.is_some() {
            return Err(Error::Conflict("this upload is finished; the file is with the firm".into()));
        }
        // Complete but not checked (its checks failed for a while): the client may give it up,
        // unless the checks did keep it (see `finish_upload`).
        if row.received == row.length
            && !courier_store::documents::in_receipt(self.courier.db.pool(), &self.portal().id, &row.id)
                .await?
                .is_empty()
        {
            return Err(Error::Conflict(
                "every byte of this upload arrived and the file is with the firm; ask for its receipt".into(),
            ));
        }
        self.courier.tus_retry.forget(&row.id);
        self.courier.remove_tus_file(&row.id).await;
        rows::delete(self.courier.db.pool(), &row.id).await?;
        Ok(())
    }

    /// `PATCH`: appends `body` at `offset`. With `checksum`, the request's bytes count only if
    /// they all arrived and match it. The last byte makes the file a document (or refuses it).
    pub async fn tus_append(
        &self,
        cookie: Option<&str>,
        id: &str,
        offset: u64,
        mut body: BoxStream<'static, std::result::Result<Bytes, String>>,
        checksum: Option<Checksum>,
    ) -> Result<TusState> {
        self.check_unlocked(cookie)?;
        let courier = &self.courier;
        // One request at a time per upload, taken before the row is read (again): the offset
        // checked below is then the one this request writes at, and a racing request (honest or
        // not) can neither cut nor overwrite what another is writing. Another link's request
        // for the same id gets 404 before it touches the lock.
        let id: UploadId = courier.tus_row(&self.portal().id, id).await?.id.parse().map_err(|_| Error::NotFound)?;
        let _busy = courier.tus_lock(&id.to_string())?;
        let row = courier.tus_row(&self.portal().id, &id.to_string()).await?;
        if row.receipt.is_some() || offset != row.received as u64 {
            return Err(Error::Conflict(format!("the upload is at offset {}, not {offset}", row.received).into()));
        }
        // The link's and address's upload caps.
        let _slot = courier.upload_slot(&self.portal().id, self.caller().ip)?;
        let id_bytes = *id.as_uuid().as_bytes();
        if row.received == row.length {
            // Every byte is in and the file is being finished or was (its receipt not yet
            // recorded): it may be a document's blob now, and is never opened to append.
            if body.next().await.is_some_and(|chunk| chunk.is_ok_and(|c| !c.is_empty())) {
                return Err(more_than_announced());
            }
            // As for the receipt request: checks that just failed wait out their pause.
            if courier.tus_retry.waiting(&row.id) {
                return Err(check_later());
            }
            let dek = courier.keys.unwrap(&row.wrapped_dek, &id_bytes)?;
            let receipt = self.finish_detached(row.clone(), None, dek, id_bytes, (_busy, _slot)).await?;
            return Ok(TusState { receipt, ..state_of(&row) });
        }
        let dek = courier.keys.unwrap(&row.wrapped_dek, &id_bytes)?;
        let mut appended = Appender::open(courier, &row, &dek, &id_bytes).await?;
        if row.received == 0 && !appended.cut_back {
            // This request may bring the whole file: its checks run as the bytes arrive, and
            // count only if it does (a slot permitting; else the finish reads the file back).
            let name = super::documents::document_name(Some(&row.name));
            appended.checks = courier.scanning.try_start(&name, self.portal().allowed_types.clone());
        }
        let outcome = appended.take(body, checksum.is_some()).await;
        let added = match (outcome, checksum) {
            (Err(e), Some(_)) => return Err(e),
            (Ok(digest), Some(Checksum(expected))) if !courier_crypto::ct_eq(&digest, &expected) => {
                return Err(Error::ChecksumMismatch);
            }
            // Without a checksum, what arrived before the client broke off counts (tus: keep
            // what you can). A failure of Courier's own (a write) commits nothing.
            (Err(e), None) => {
                if matches!(e, Error::BadRequest(_) | Error::PayloadTooLarge(_)) {
                    appended.commit(courier, &row, &dek).await?;
                }
                return Err(e);
            }
            (Ok(_), _) => appended.commit(courier, &row, &dek).await?,
        };
        if added < row.length {
            return Ok(TusState {
                offset: added as u64,
                length: row.length as u64,
                expires_at: row.expires_at,
                receipt: None,
            });
        }
        let receipt = self.finish_detached(row.clone(), Some(appended), dek, id_bytes, (_busy, _slot)).await?;
        Ok(TusState { offset: row.length as u64, length: row.length as u64, expires_at: row.expires_at, receipt })
    }

    /// The last byte is in: finishes the upload on a task of its own that holds `guards` (the
    /// upload's lock, the link's upload slot) until it is done, so a client that goes away while
    /// its file is checked does not stop the work half-way. Without `appended` (a request cut
    /// while checking, a restart), the file is opened again at its committed length.
    async fn finish_detached(
        &self,
        row: TusUpload,
        appended: Option<Appender>,
        dek: Dek,
        id_bytes: [u8; 16],
        guards: impl Send + 'static,
    ) -> Result<Option<serde_json::Value>> {
        let (courier, portal, caller) = (self.courier.clone(), self.portal().clone(), self.caller().clone());
        let task = tokio::spawn(async move {
            let _guards = guards;
            finish_upload(&courier, &portal, &caller, &row, appended, &dek, &id_bytes).await
        });
        task.await.map_err(|e| Error::Internal(format!("finishing an upload: {e}")))?
    }
}

/// Seals the last segment, reads the file back through the upload pipeline and keeps the
/// receipt. A definite refusal forgets the upload; a failure that may pass (the scanner down,
/// a busy server, an error of ours) keeps it complete, for the next `HEAD` or receipt request.
async fn finish_upload(
    courier: &Courier,
    portal: &super::portals::OpenPortal,
    caller: &super::Caller,
    row: &TusUpload,
    appended: Option<Appender>,
    dek: &Dek,
    id_bytes: &[u8; 16],
) -> Result<Option<serde_json::Value>> {
    // The receipt's id is the upload's: when the checks already kept the file (the server
    // stopped, or the row's update failed, between the document and this row), the documents
    // are found again, not made twice.
    let receipt_id = row.id.clone();
    let earlier = courier_store::documents::in_receipt(courier.db.pool(), &portal.id, &receipt_id).await?;
    let (files, received_at) = if let Some(first) = earlier.first() {
        let files: Vec<_> = earlier
            .iter()
            .map(|d| json!({ "name": d.name, "size": d.size, "sha256": d.sha256, "content_type": d.content_type }))
            .collect();
        (files, first.uploaded_at)
    } else {
        // Opened (and cut back to its committed length) only now that no document has it:
        // once the file is a document, it is that document's blob.
        let mut appended = match appended {
            Some(a) => a,
            None => Appender::open(courier, row, dek, id_bytes).await?,
        };
        let (cut_back, known_sha256, checks) = (appended.cut_back, appended.sha256, appended.checks.take());
        appended.seal_last().await?;
        let path = courier.tus_file(&row.id);
        let id: UploadId = row.id.parse().map_err(|_| Error::Internal(format!("upload id {}", row.id)))?;
        // Read back only if the pipeline asks: not when the checks ran as the bytes arrived and
        // the file is kept as it is.
        let (bytes, sha256) = read_back(path.clone(), dek, id_bytes, known_sha256);
        let checked =
            checks.zip(known_sha256).map(|(scan, sha256)| CheckedAsSealed { scan, size: row.length as u64, sha256 });
        // A file with reused segment nonces is sealed anew under a fresh key, not kept as it is.
        let sealed = SealedFile { path, dek: dek.clone(), id: id.into(), sha256, checked, keep: !cut_back };
        let mut one = OneFile(Some(IncomingFile { name: Some(row.name.clone()), bytes, sealed: Some(sealed) }));
        let stored = match courier.ingest_all(caller, Destination::Portal(portal, &receipt_id), &mut one).await {
            Ok(stored) => stored,
            Err(e) if refusal_is_final(&e) => {
                courier.tus_retry.forget(&row.id);
                rows::delete(courier.db.pool(), &row.id).await?;
                courier.remove_tus_file(&row.id).await;
                return Err(e);
            }
            Err(e) => {
                courier.tus_retry.failed(&row.id);
                return Err(e);
            }
        };
        let files = stored
            .iter()
            .map(|d| json!({ "name": d.name, "size": d.size, "sha256": d.sha256, "content_type": d.content_type }))
            .collect();
        (files, courier.clock.now_ms())
    };
    let receipt =
        json!({ "id": receipt_id, "received_at": courier_core::time_fmt::rfc3339(received_at), "files": files });
    let mut conn = courier.db.pool().acquire().await.map_err(courier_store::StoreError::from)?;
    rows::finish(&mut conn, &row.id, &receipt.to_string()).await?;
    courier.tus_retry.forget(&row.id);
    // Checked and kept: the partial file has served.
    courier.remove_tus_file(&row.id).await;
    Ok(Some(receipt))
}

fn check_later() -> Error {
    Error::Busy(crate::error::Reason::said(
        "the file could not be checked yet; it will be tried again shortly",
        Said::new("refusal-check-later"),
    ))
}

fn more_than_announced() -> Error {
    Error::PayloadTooLarge(crate::error::Reason::said(
        "more bytes than the Upload-Length the upload was opened with",
        Said::new("refusal-more-than-announced"),
    ))
}

/// Whether the file itself was refused (type, content, size, a file that does not read back),
/// rather than the checks failing for a while.
fn refusal_is_final(e: &Error) -> bool {
    matches!(e, Error::UnsupportedType(_) | Error::Refused(_) | Error::PayloadTooLarge(_) | Error::BadRequest(_))
}

fn state_of(row: &TusUpload) -> TusState {
    TusState {
        offset: row.received.max(0) as u64,
        length: row.length.max(0) as u64,
        expires_at: row.expires_at,
        receipt: row.receipt.as_deref().and_then(|r| serde_json::from_str(r).ok()),
    }
}

/// One request's bytes going into the sealed partial file.
struct Appender {
    /// `None` only once a write on the blocking pool failed or was lost: the request fails.
    sink: Option<Sink>,
    received: i64,
    length: i64,
    /// The row's `cut_back`, as it is since this request opened the file.
    cut_back: bool,
    /// The whole file's SHA-256, when this request brought every byte from the first: the
    /// finish then reads the file back only for the checks.
    sha256: Option<[u8; 32]>,
    /// The scanners, fed every byte this request brings from the first; kept only if that is
    /// the whole file (then the finish does not read it back at all), dropped otherwise.
    checks: Option<ScanFeed>,
}

/// The file and the sealing state, moved to the blocking pool a batch at a time.
struct Sink {
    file: std::fs::File,
    encryptor: Encryptor,
    out: Vec<u8>,
    hasher: Option<courier_crypto::Sha256>,
}

/// How much of a request's body is hashed, sealed and written in one blocking job: one thread
/// hop per megabyte, overlapping the reading of the next.
const APPEND_BATCH: usize = 1 << 20;
/// Fewest bytes handed to the checks at a time (but the last): a client's small chunks are
/// gathered up to this.
const CHECK_FEED_MIN: usize = 64 << 10;

impl Sink {
    fn write(&mut self, batch: &[Bytes]) -> Result<()> {
        use std::io::Write;
        for chunk in batch {
            if let Some(h) = &mut self.hasher {
                h.update(chunk);
            }
            self.encryptor.push(chunk, &mut self.out)?;
        }
        if !self.out.is_empty() {
            self.file.write_all(&self.out).map_err(|e| Error::internal("partial upload write", e))?;
            self.out.clear();
        }
        Ok(())
    }

    /// Writes `batch` on the blocking pool; gives the sink back with the outcome.
    fn spawn(mut self, batch: Vec<Bytes>) -> tokio::task::JoinHandle<(Sink, Result<()>)> {
        tokio::task::spawn_blocking(move || {
            let written = self.write(&batch);
            (self, written)
        })
    }
}

/// How long a request waits for the write of a request that went away (its last batch, on
/// the blocking pool, cannot be stopped) before it answers 503.
const PARTIAL_FILE_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Opens the partial file for writing with an exclusive lock, and gives its length on disk.
/// The upload's lock orders requests; this one also waits out a write job that a request
/// dropped mid-way (a client gone) left running: its file, and lock, go when it ends.
fn lock_partial_file(path: &std::path::Path, wait: std::time::Duration) -> Result<(std::fs::File, u64)> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| Error::internal("partial upload file", e))?;
    let started = std::time::Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < wait => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::Busy(crate::error::Reason::said(
                    "the upload is still being written; ask for its offset again shortly",
                    Said::new("refusal-busy"),
                )));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::internal("partial upload lock", e)),
        }
    }
    let on_disk = file.metadata().map_err(|e| Error::internal("partial upload file", e))?.len();
    Ok((file, on_disk))
}

/// The sink back from a write job, or the job's failure.
async fn settle(job: tokio::task::JoinHandle<(Sink, Result<()>)>) -> Result<Sink> {
    let (sink, written) = job.await.map_err(|e| Error::internal("partial upload write task", e))?;
    written.map(|()| sink)
}

impl Appender {
    /// Opens the file at its committed length (what an unfinished request left after it is
    /// cut off) and takes back the segment kept aside.
    async fn open(courier: &Courier, row: &TusUpload, dek: &Dek, id_bytes: &[u8; 16]) -> Result<Self> {
        let broken = |what: &str| Error::Internal(format!("partial upload {}: {what}", row.id));
        let segments = (row.sealed_len - HEADER_LEN as i64) / SEALED_SEGMENT;
        if row.sealed_len < HEADER_LEN as i64 || (row.sealed_len - HEADER_LEN as i64) % SEALED_SEGMENT != 0 {
            return Err(broken("the committed length is not whole segments"));
        }
        let path = courier.tus_file(&row.id);
        let (file, on_disk) = tokio::task::spawn_blocking(move || lock_partial_file(&path, PARTIAL_FILE_LOCK_WAIT))
            .await
            .map_err(|e| Error::internal("partial upload file task", e))??;
        // Past the committed length of a complete upload is only the last segment an earlier
        // finish sealed: the same tail under the same key and nonce, the same bytes again.
        let complete = row.received == row.length;
        let cut_back = row.cut_back || (on_disk > row.sealed_len as u64 && !complete);
        if cut_back && !row.cut_back {
            // Recorded before the cut: what follows is sealed under the cut segments' nonces.
            rows::mark_cut_back(courier.db.pool(), &row.id).await?;
        }
        let sealed_len = row.sealed_len as u64;
        let (file, header) = tokio::task::spawn_blocking(move || -> std::io::Result<_> {
            use std::io::{Read, Seek};
            let mut file = file;
            file.set_len(sealed_len)?;
            let mut header = [0u8; HEADER_LEN];
            file.read_exact(&mut header)?;
            file.seek(SeekFrom::End(0))?;
            Ok((file, header))
        })
        .await
        .map_err(|e| Error::internal("partial upload file task", e))?
        .map_err(|e| Error::internal("partial upload file", e))?;
        let segments = u32::try_from(segments).map_err(|_| broken("too many segments"))?;
        let mut encryptor = Encryptor::resume(dek, id_bytes, &header, segments)?;
        let mut out = Vec::with_capacity(APPEND_BATCH + APPEND_BATCH / SEGMENT_SIZE * 2 * TAG_LEN + SEGMENT_SIZE);
        if let Some(tail) = &row.tail {
            let pending = open_aside(dek, &Courier::tail_aad(&row.id, row.received), tail)
                .map_err(|_| broken("the kept-aside segment does not open"))?;
            encryptor.push(&pending, &mut out)?;
        }
        let sink = Sink { file, encryptor, out, hasher: None };
        Ok(Self { sink: Some(sink), received: row.received, length: row.length, cut_back, sha256: None, checks: None })
    }

    /// Hands plaintext to the checks running as the bytes arrive; a refusal or a failure drops
    /// them (the finish then reads the file back and says so itself).
    async fn feed_checks(&mut self, bytes: &Bytes) {
        if let Some(checks) = &mut self.checks
            && checks.feed(bytes).await.is_err()
        {
            self.checks = None;
        }
    }

    fn sink(&mut self) -> Result<&mut Sink> {
        self.sink.as_mut().ok_or_else(|| Error::Internal("partial upload: a write failed".into()))
    }

    /// Reads the request's bytes into the file; returns their SHA-256 (when `hash`, or when
    /// the request starts at the first byte). Whatever was read before the body broke off is
    /// in the file when this returns, error or not.
    async fn take(
        &mut self,
        mut body: BoxStream<'static, std::result::Result<Bytes, String>>,
        hash: bool,
    ) -> Result<[u8; 32]> {
        let from_first_byte = self.received == 0;
        let mut idle = self.sink.take();
        if let Some(sink) = &mut idle {
            sink.hasher = (hash || from_first_byte).then(courier_crypto::Sha256::default);
        }
        let mut in_flight: Option<tokio::task::JoinHandle<(Sink, Result<()>)>> = None;
        let mut batch: Vec<Bytes> = Vec::new();
        let mut batched = 0;
        let mut gathered = BytesMut::new();
        let read: Result<()> = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk
                    .map_err(|e| bad_request(format!("the upload broke off: {e}"), Said::new("refusal-interrupted")))?;
                if self.received + chunk.len() as i64 > self.length {
                    return Err(more_than_announced());
                }
                self.received += chunk.len() as i64;
                if self.checks.is_some() {
                    // Small chunks are gathered first: each hand-off is a message to the
                    // inspector and a chunk on clamd's connection.
                    let ready = if gathered.is_empty() && chunk.len() >= CHECK_FEED_MIN {
                        Some(chunk.clone())
                    } else {
                        gathered.extend_from_slice(&chunk);
                        (gathered.len() >= CHECK_FEED_MIN).then(|| gathered.split().freeze())
                    };
                    if let Some(ready) = ready {
                        self.feed_checks(&ready).await;
                    }
                }
                batched += chunk.len();
                batch.push(chunk);
                if batched >= APPEND_BATCH {
                    let sink = match in_flight.take() {
                        Some(job) => settle(job).await?,
                        None => idle.take().ok_or_else(|| Error::Internal("partial upload: no writer".into()))?,
                    };
                    in_flight = Some(sink.spawn(std::mem::take(&mut batch)));
                    batched = 0;
                }
            }
            if !gathered.is_empty() {
                self.feed_checks(&gathered.split().freeze()).await;
            }
            Ok(())
        }
        .await;
        // What was read goes into the file before the outcome counts (a break-off commits it);
        // a failed write fails the request, and nothing is committed.
        let drained = match in_flight.take() {
            Some(job) => settle(job).await,
            None => idle.take().ok_or_else(|| Error::Internal("partial upload: a write failed".into())),
        };
        let drained = match drained {
            Ok(sink) if batch.is_empty() => Ok(sink),
            Ok(sink) => settle(sink.spawn(batch)).await,
            Err(e) => Err(e),
        };
        // The first failure is the one to tell (a write that failed inside the loop).
        let checks = self.checks.take();
        let mut sink = drained.map_err(|e| read.as_ref().err().cloned().unwrap_or(e))?;
        let digest = sink.hasher.take().map(courier_crypto::Sha256::finish);
        self.sink = Some(sink);
        read?;
        if from_first_byte && self.received == self.length {
            self.sha256 = digest;
            self.checks = checks;
        }
        Ok(digest.unwrap_or_default())
    }

    /// Makes what this request added durable, then records it. Returns the new offset.
    async fn commit(&mut self, courier: &Courier, row: &TusUpload, dek: &Dek) -> Result<i64> {
        let received = self.received;
        let sink = self.sink()?;
        let file = sink.file.try_clone().map_err(|e| Error::internal("partial upload file", e))?;
        let tail = seal_aside(dek, &Courier::tail_aad(&row.id, received), sink.encryptor.pending())?;
        let sealed_len = tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
            use std::io::Seek;
            file.sync_data()?;
            (&file).stream_position()
        })
        .await
        .map_err(|e| Error::internal("partial upload sync task", e))?
        .map_err(|e| Error::internal("partial upload sync", e))? as i64;
        let mut conn = courier.db.pool().acquire().await.map_err(courier_store::StoreError::from)?;
        if !rows::advance(&mut conn, &row.id, row.received, self.received, sealed_len, &tail, row.expires_at).await? {
            return Err(Error::Conflict("the upload moved on meanwhile; ask for its offset again".into()));
        }
        Ok(self.received)
    }

    /// Seals the last segment: the file is now a complete format v1 blob.
    async fn seal_last(mut self) -> Result<()> {
        let mut sink = self.sink.take().ok_or_else(|| Error::Internal("partial upload: a write failed".into()))?;
        tokio::task::spawn_blocking(move || -> Result<()> {
            use std::io::Write;
            sink.encryptor.finish(&mut sink.out)?;
            sink.file.write_all(&sink.out).map_err(|e| Error::internal("partial upload write", e))?;
            sink.file.sync_data().map_err(|e| Error::internal("partial upload sync", e))
        })
        .await
        .map_err(|e| Error::internal("partial upload sync task", e))?
    }
}

type PlainStream = BoxStream<'static, std::result::Result<Bytes, String>>;

/// The plaintext of a complete partial file, decrypted on a blocking thread a few chunks ahead,
/// and its SHA-256 once the last byte was read: `known` (the request that brought every byte
/// hashed them), or hashed on that thread as it goes (no hop per chunk). Nothing is read
/// until the stream is first polled.
fn read_back(
    path: PathBuf,
    dek: &Dek,
    id_bytes: &[u8; 16],
    known: Option<[u8; 32]>,
) -> (PlainStream, tokio::sync::oneshot::Receiver<[u8; 32]>) {
    let (digest_tx, digest_rx) = tokio::sync::oneshot::channel();
    let (dek, id_bytes) = (dek.clone(), *id_bytes);
    let start = move || read_back_on_thread(path, dek, id_bytes, known, digest_tx);
    let stream = futures_util::stream::once(async move { start() }).flat_map(|rx| {
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) })
    });
    (stream.boxed(), digest_rx)
}

/// Starts the reader of `read_back` on the blocking pool.
fn read_back_on_thread(
    path: PathBuf,
    dek: Dek,
    id_bytes: [u8; 16],
    known: Option<[u8; 32]>,
    digest_tx: tokio::sync::oneshot::Sender<[u8; 32]>,
) -> tokio::sync::mpsc::Receiver<std::result::Result<Bytes, String>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::result::Result<Bytes, String>>(2);
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let opened = std::fs::File::open(&path).and_then(|f| SegmentReader::new(f, &dek, &id_bytes));
        let mut reader = match opened {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.blocking_send(Err(format!("the partial upload does not open: {e}")));
                return;
            }
        };
        let mut hasher = known.is_none().then(courier_crypto::Sha256::default);
        loop {
            // Whole chunks (a read gives one segment at most), each byte zeroed once.
            let mut buf = Vec::with_capacity(READ_BACK_CHUNK);
            match (&mut reader).take(READ_BACK_CHUNK as u64).read_to_end(&mut buf) {
                Ok(0) => {
                    let _ = digest_tx.send(hasher.map_or_else(|| known.unwrap_or_default(), |h| h.finish()));
                    return;
                }
                Ok(_) => {}
                Err(e) => {
                    let _ = tx.blocking_send(Err(format!("the partial upload does not read back: {e}")));
                    return;
                }
            }
            if let Some(h) = &mut hasher {
                h.update(&buf);
            }
            if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                return;
            }
        }
    });
    rx
}

/// One file, for the pipeline.
struct OneFile(Option<IncomingFile>);

impl IncomingFiles for OneFile {
    async fn next_file(&mut self) -> Result<Option<IncomingFile>> {
        Ok(self.0.take())
    }
}

impl Courier {
    /// One request at a time per upload (on this instance).
    fn tus_lock(&self, id: &str) -> Result<super::inflight::Slot> {
        self.uploads
            .try_take(&[(format!("tus:{id}"), 1)])
            .ok_or_else(|| Error::Conflict("another request is writing this upload; try again when it ends".into()))
    }
}

/// When complete uploads whose checks failed for a while may be checked again (this instance),
/// doubling from 15 s to 10 min: a client asking again and again does not make the server
/// read the whole file each time.
#[derive(Default)]
pub(super) struct RetryAfter(std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, u32)>>);

/// At most this many uploads remembered (each is one small entry; older ones are dropped).
const RETRY_ENTRIES: usize = 10_000;

impl RetryAfter {
    fn waiting(&self, id: &str) -> bool {
        let now = std::time::Instant::now();
        self.0.lock().map(|m| m.get(id).is_some_and(|(at, _)| *at > now)).unwrap_or(false)
    }

    fn failed(&self, id: &str) {
        let now = std::time::Instant::now();
        if let Ok(mut m) = self.0.lock() {
            if m.len() >= RETRY_ENTRIES {
                m.retain(|_, (at, _)| *at > now);
            }
            if m.len() >= RETRY_ENTRIES {
                return;
            }
            let tries = m.get(id).map_or(0, |(_, n)| *n).saturating_add(1);
            let wait = std::time::Duration::from_secs((15u64 << (tries - 1).min(6)).min(600));
            m.insert(id.to_owned(), (now + wait, tries));
        }
    }

    fn forget(&self, id: &str) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A write job left running by a request that went away holds the file (and its lock)
    /// until it ends: the next request waits for it, then gets the file; not forever.
    #[test]
    fn the_partial_file_is_taken_only_once_a_stray_writer_let_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("upload.part");
        std::fs::write(&path, b"sealed").unwrap();
        let stray = std::fs::File::options().write(true).open(&path).unwrap();
        stray.lock().unwrap();

        let refused = lock_partial_file(&path, Duration::from_millis(50));
        assert!(matches!(refused, Err(Error::Busy(_))), "{:?}", refused.map(|(_, len)| len));

        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(stray);
        });
        let (file, len) = lock_partial_file(&path, Duration::from_secs(5)).unwrap();
        assert_eq!(len, 6);
        releaser.join().unwrap();
        let other = std::fs::File::options().write(true).open(&path).unwrap();
        assert!(other.try_lock().is_err(), "held while the request writes");
        drop(file);
        assert!(other.try_lock().is_ok());
    }
}
