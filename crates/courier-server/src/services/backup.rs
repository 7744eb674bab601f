//! Taking a backup while Courier serves (`docs/backups.md`): one consistent snapshot of the
//! metadata, the blobs as stored (already encrypted), the keys and the audit logs, streamed
//! into one tar encrypted with age to the firm's recipient. Nothing is held whole in memory or
//! written in plaintext to disk.

use std::path::{Path, PathBuf};

use courier_core::time_fmt::rfc3339;
use courier_store::snapshot;
use courier_store::snapshot::PoolConnection;
use serde::Serialize;
use serde_json::{Value, json};

use super::audit::AuditAction;
use super::pages::PageRequest;
use super::{Caller, Courier};
use crate::backup::Location;
use crate::backup::archive::{self, Manifest, TarWriter};
use crate::{Error, Result};

/// What `backup create --json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct BackupCreated {
    pub id: String,
    pub location: String,
    pub created_at: String,
    pub audit_seq: i64,
    pub documents: u64,
    pub bytes: u64,
}

/// The file name of a backup: its time first, so names sort by age.
pub fn file_name(created_ms: i64, id: &str) -> String {
    let stamp = rfc3339(created_ms).replace([':', '-'], "");
    format!("courier-backup-{stamp}-{id}.tar.age")
}

impl Courier {
    /// Writes a backup to `to` (a directory that must exist, or `s3://bucket/prefix`),
    /// encrypted to `recipient`.
    pub(super) async fn create_backup(&self, caller: &Caller, to: &Location, recipient: &str) -> Result<BackupCreated> {
        let recipient = archive::parse_recipient(recipient)?;
        let now = self.clock.now_ms();
        let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        let name = file_name(now, &id);
        let (manifest, bytes) = match to {
            Location::Dir(dir) => self.backup_to_dir(dir, &name, &recipient, &id, now).await?,
            // The object appears only when the multipart upload completes; a failed one is
            // never listed (the bucket's lifecycle rule removes its parts).
            Location::S3 { files, .. } => {
                let manifest = self.write_backup(files.writer(&name), &recipient, &id, now).await?;
                let bytes = files.list().await?.into_iter().find(|(n, _)| *n == name).map_or(0, |(_, b)| b);
                (manifest, bytes)
            }
        };
        let created = BackupCreated {
            id,
            location: to.describe(&name),
            created_at: rfc3339(now),
            audit_seq: manifest.audit_seq,
            documents: manifest.documents,
            bytes,
        };
        let details = json!({ "backup_id": created.id, "location": created.location, "audit_seq": created.audit_seq,
            "documents": created.documents, "blobs": manifest.blobs, "bytes": bytes });
        self.audit
            .record(&self.db, caller, AuditAction::BackupCreated, &format!("backup:{}", created.id), details)
            .await?;
        Ok(created)
    }

    /// Into a directory: written under a hidden partial name, synced, then renamed, so a listed
    /// backup is always whole.
    async fn backup_to_dir(
        &self,
        dir: &Path,
        name: &str,
        recipient: &age::x25519::Recipient,
        id: &str,
        now: i64,
    ) -> Result<(Manifest, u64)> {
        if !tokio::fs::metadata(dir).await.is_ok_and(|m| m.is_dir()) {
            return Err(Error::BadRequest(format!("{} is not a directory (create it first)", dir.display()).into()));
        }
        let (partial, done) = (dir.join(format!(".{name}.partial")), dir.join(name));
        let file = tokio::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&partial).await?;
        let manifest = match self.write_backup(Box::pin(file), recipient, id, now).await {
            Ok(m) => m,
            Err(e) => {
                let _ = tokio::fs::remove_file(&partial).await;
                return Err(e);
            }
        };
        std::fs::File::open(&partial)?.sync_all()?;
        tokio::fs::rename(&partial, &done).await?;
        std::fs::File::open(dir)?.sync_all()?;
        Ok((manifest, tokio::fs::metadata(&done).await?.len()))
    }

    async fn write_backup(
        &self,
        sink: archive::Sink,
        recipient: &age::x25519::Recipient,
        id: &str,
        now: i64,
    ) -> Result<Manifest> {
        let mut tar = TarWriter::new(archive::encrypting(sink, recipient).await?);
        let (audit_seq, documents, blob_keys) = self.write_snapshot(&mut tar).await?;
        tar.entry_bytes("audit/heads.log", &self.heads_log_up_to(audit_seq).await?).await?;
        for (name, path) in self.key_files() {
            let bytes = zeroize::Zeroizing::new(tokio::fs::read(&path).await?);
            tar.entry_bytes(&format!("keys/{name}"), &bytes).await?;
        }
        let mut shredded_during_backup = Vec::new();
        let mut blobs = 0;
        for (doc_id, key) in blob_keys {
            let opened = match self.blobs.size(&key).await {
                Ok(size) => self.blobs.open(&key).await.map(|r| (size, r)),
                Err(e) => Err(e),
            };
            match opened {
                Ok((size, mut reader)) => {
                    tar.entry(&format!("blobs/{key}"), size, &mut reader).await?;
                    blobs += 1;
                }
                // Shredded since the snapshot: the restore shreds it again.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let now_live = courier_store::documents::get(self.db.pool(), &doc_id).await?;
                    if now_live.is_some_and(|d| d.deleted_at.is_none()) {
                        return Err(Error::Internal(format!("the blob of live document {doc_id} is missing")));
                    }
                    shredded_during_backup.push(doc_id);
                }
                Err(e) => return Err(e.into()),
            }
        }
        let mut manifest = Manifest {
            format: archive::FORMAT.to_owned(),
            id: id.to_owned(),
            created_at: rfc3339(now),
            schema_version: self.db.schema_version().await?,
            audit_seq,
            documents,
            blobs,
            shredded_during_backup,
            parts: tar.parts.clone(),
            public_key: self.audit_public_key(),
            signature: String::new(),
        };
        manifest.signature = hex::encode(self.audit.signer().sign_bytes(&manifest.signed_bytes()?));
        tar.finish(&manifest).await?;
        Ok(manifest)
    }

    /// Every kept table, read in one snapshot: `db/<table>.jsonl`, a shape line then one JSON
    /// array per row. Each table is read twice inside the snapshot (its size first, as tar
    /// wants it before the data), so no table is ever held whole. Returns the audit sequence
    /// of the snapshot, the live documents, and (document, blob key) of each.
    async fn write_snapshot(&self, tar: &mut TarWriter) -> Result<(i64, u64, Vec<(String, String)>)> {
        let mut conn = self.db.pool().acquire().await.map_err(courier_store::StoreError::from)?;
        snapshot::begin_snapshot(&mut conn, self.db.backend()).await?;
        let mut slot = Some(conn);
        let exported = self.export_tables(&mut slot, tar).await;
        // The connection holds the snapshot's transaction, which must never go back to the
        // pool open: ended on success, rolled back (or the connection closed) otherwise.
        if let Some(mut conn) = slot {
            match &exported {
                Ok(_) => snapshot::end_snapshot(&mut conn).await?,
                Err(_) => {
                    if snapshot::abort_snapshot(&mut conn).await.is_err() {
                        drop(conn.detach());
                    }
                }
            }
        }
        exported
    }

    async fn export_tables(
        &self,
        slot: &mut Option<PoolConnection>,
        tar: &mut TarWriter,
    ) -> Result<(i64, u64, Vec<(String, String)>)> {
        let backend = self.db.backend();
        let lost = || Error::Internal("the snapshot's connection was lost".into());
        let mut blob_keys = Vec::new();
        let mut audit_seq = 0;
        for table in snapshot::TABLES {
            let shape = snapshot::shape(slot.as_mut().ok_or_else(lost)?, backend, table).await?;
            let header = serde_json::to_string(&shape).map_err(|e| Error::internal("shape", e))? + "\n";
            let column = |n: &str| shape.columns.iter().position(|(c, _)| c == n);
            let (id_at, key_at, dek_at, seq_at) =
                (column("id"), column("blob_key"), column("wrapped_dek"), column("seq"));
            // First pass: the size (and what later steps need).
            let mut size = header.len() as u64;
            let (mut rows, task) = snapshot::stream_rows(slot.take().ok_or_else(lost)?, shape.clone());
            let sized: Result<()> = async {
                while let Some(row) = rows.recv().await {
                    let row = row?;
                    size += line(&row)?.len() as u64;
                    if *table == "documents"
                        && let (Some(i), Some(k), Some(d)) = (id_at, key_at, dek_at)
                        && !row[d].is_null()
                        && let (Some(id), Some(key)) = (row[i].as_str(), row[k].as_str())
                    {
                        blob_keys.push((id.to_owned(), key.to_owned()));
                    }
                    if *table == "audit_head"
                        && let Some(s) = seq_at
                    {
                        audit_seq = row[s].as_i64().unwrap_or(0);
                    }
                }
                Ok(())
            }
            .await;
            drop(rows);
            *slot = Some(task.await.map_err(|e| Error::internal("snapshot task", e))?);
            sized?;
            // Second pass, in the same snapshot: the data.
            tar.begin(&format!("db/{table}.jsonl"), size).await?;
            tar.write(header.as_bytes()).await?;
            let (mut rows, task) = snapshot::stream_rows(slot.take().ok_or_else(lost)?, shape);
            let written: Result<()> = async {
                while let Some(row) = rows.recv().await {
                    tar.write(line(&row?)?.as_bytes()).await?;
                }
                Ok(())
            }
            .await;
            drop(rows);
            *slot = Some(task.await.map_err(|e| Error::internal("snapshot task", e))?);
            written?;
            tar.end().await?;
        }
        let documents = blob_keys.len() as u64;
        Ok((audit_seq, documents, blob_keys))
    }

    /// The lines of `heads.log` up to the snapshot's head: later ones name events the backup
    /// does not hold, and a restored trail must not look rolled back.
    async fn heads_log_up_to(&self, seq: i64) -> Result<Vec<u8>> {
        let path = self.config.data_dir.join("audit").join("heads.log");
        let bytes = match tokio::fs::read(&path).await {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        // Complete lines only (the last may be still being written). A line that is not a head
        // is kept as it is: a restored log must fail verification as this one does, not come
        // back clean.
        let complete = super::heads_log::complete_lines(&bytes);
        let logged_seq = |line: &[u8]| serde_json::from_slice::<Value>(line).ok().and_then(|v| v["seq"].as_i64());
        let mut kept = Vec::new();
        for line in complete.split(|b| *b == b'\n').filter(|l| !l.trim_ascii().is_empty()) {
            if logged_seq(line).is_none_or(|s| s <= seq) {
                kept.extend_from_slice(line);
                kept.push(b'\n');
            }
        }
        Ok(kept)
    }

    /// (name in the backup, path) of the master key versions and the audit key.
    fn key_files(&self) -> Vec<(String, PathBuf)> {
        let mut files: Vec<(String, PathBuf)> = self
            .keys
            .ring()
            .versions()
            .into_iter()
            .map(|v| (format!("master.key.v{v}"), self.keys.version_path(v)))
            .collect();
        files.push(("audit.key".to_owned(), self.config.audit_key_path()));
        files
    }
}

/// Documents read from the database at a time while a restore is verified.
const VERIFY_PAGE: u32 = 500;

impl Courier {
    /// Decrypts every live document (held ones too, nothing is served) and compares it with
    /// its SHA-256: (documents checked, those that differ or do not open).
    pub(super) async fn verify_documents(self: &std::sync::Arc<Self>) -> Result<(usize, Vec<String>)> {
        use futures_util::StreamExt;
        let mut bad = Vec::new();
        let (mut checked, mut req) = (0, PageRequest::first(VERIFY_PAGE));
        loop {
            let page = self.document_page(courier_store::documents::Scope::All, false, &req).await?;
            checked += page.items.len();
            for d in &page.items {
                let opened = async {
                    let wrapped = d.wrapped_dek.as_deref().ok_or(Error::NotFound)?;
                    let id: courier_core::DocumentId = d.id.parse().map_err(|e| Error::internal("document id", e))?;
                    let dek = self.keys.unwrap(wrapped, id.as_uuid().as_bytes())?;
                    let source = self.blobs.open_source(&d.blob_key).await?;
                    let mut plain = std::pin::pin!(self.clone().decrypt_stream(source, dek, id));
                    let mut hash = courier_crypto::Sha256::default();
                    while let Some(chunk) = plain.next().await {
                        hash.update(&chunk?);
                    }
                    Ok::<_, Error>(hex::encode(hash.finish()))
                }
                .await;
                if opened.ok().as_deref() != Some(d.sha256.as_str()) {
                    bad.push(d.id.clone());
                }
            }
            let Some(next) = page.next else { break };
            req = PageRequest::after(&next, VERIFY_PAGE)?;
        }
        Ok((checked, bad))
    }
}

fn line(row: &[Value]) -> Result<String> {
    Ok(serde_json::to_string(row).map_err(|e| Error::internal("row", e))? + "\n")
}
