//! `courier incident export`: the forensic bundle an incident responder takes away. A tar
//! file holding the audit events since a time (`events.jsonl`, as `audit export`), the
//! verification report, `heads.log`, the settings without their secrets, the version, and a
//! manifest with the SHA-256 of each part. The export is itself an audit event that records
//! the manifest's hash, so the bundle can later be shown to be the one taken.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;

use crate::services::audit::AuditAction;
use crate::services::{Caller, Courier};
use crate::{Error, Result};
use courier_core::time_fmt::rfc3339;

/// What was written.
#[derive(Debug, Serialize)]
pub struct IncidentBundle {
    pub path: String,
    pub since: String,
    pub events: u64,
    pub trail_intact: bool,
    pub manifest_sha256: String,
    pub files: Vec<(String, String)>,
}

impl Courier {
    /// Writes the bundle to `output`, which must not exist (nothing is ever overwritten). The
    /// bundle is written to a hidden file beside it (mode 0600: it holds client addresses and
    /// e-mails), synced, then linked into place, which fails if `output` appeared meanwhile;
    /// an interrupted export leaves at most that hidden `.partial` file, never `output`.
    pub(in crate::services) async fn incident_export(
        &self,
        caller: &Caller,
        since_ms: i64,
        output: &Path,
    ) -> Result<IncidentBundle> {
        let refuse = |e: std::io::Error| {
            Error::BadRequest(
                format!("cannot create {} ({e}); an existing file is never overwritten", output.display()).into(),
            )
        };
        if std::fs::symlink_metadata(output).is_ok() {
            return Err(refuse(std::io::ErrorKind::AlreadyExists.into()));
        }
        let partial = scratch_path(output);
        let file = private_file(&partial).map_err(refuse)?;
        let written = self.write_bundle(caller, since_ms, output, file).await;
        let placed = written.and_then(|b| std::fs::hard_link(&partial, output).map(|()| b).map_err(refuse));
        let _ = std::fs::remove_file(&partial);
        let bundle = placed?;
        // A broken trail takes no new event; the bundle is still written (it is the evidence).
        if bundle.trail_intact {
            let details = json!({ "since": bundle.since, "events": bundle.events, "trail_intact": true,
                "manifest_sha256": bundle.manifest_sha256 });
            self.audit.record(&self.db, caller, AuditAction::IncidentExport, "incident", details).await?;
        }
        Ok(bundle)
    }

    async fn write_bundle(
        &self,
        caller: &Caller,
        since_ms: i64,
        output: &Path,
        file: std::fs::File,
    ) -> Result<IncidentBundle> {
        let io = |what: &str, e: std::io::Error| Error::internal(what, e);
        // The events go through a scratch file beside the output: a tar entry needs its size first.
        let scratch = scratch_path(output);
        let mut events_file = private_file(&scratch).map_err(|e| io("incident scratch file", e))?;
        let _ = std::fs::remove_file(&scratch); // unlinked at once: it vanishes with the handle
        let mut events = 0u64;
        let mut hasher = courier_crypto::Sha256::default();
        {
            let mut w = std::io::BufWriter::new(&mut events_file);
            self.audit
                .export(&self.db, since_ms, |event| {
                    let mut line = serde_json::to_vec(&event).map_err(std::io::Error::other)?;
                    line.push(b'\n');
                    hasher.update(&line);
                    events += 1;
                    w.write_all(&line)
                })
                .await?;
            w.flush().map_err(|e| io("incident events", e))?;
        }
        let events_sha = hex::encode(hasher.finish());
        let verify = self.audit.verify(&self.db).await?;
        // heads.log grows with every audited transaction and may be appended to meanwhile: it
        // is copied, as it is now, to a second unlinked scratch file in bounded steps.
        let heads_scratch = scratch_path(output);
        let mut heads_file = private_file(&heads_scratch).map_err(|e| io("incident scratch file", e))?;
        let _ = std::fs::remove_file(&heads_scratch);
        let heads_path = self.config.data_dir.join("audit").join("heads.log");
        let heads_sha = match std::fs::File::open(&heads_path) {
            Ok(mut src) => {
                let mut hashing = HashingWriter { inner: &mut heads_file, hash: courier_crypto::Sha256::default() };
                std::io::copy(&mut src, &mut hashing).map_err(|e| io("heads.log", e))?;
                hex::encode(hashing.hash.finish())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => hex::encode(courier_crypto::sha256(b"")),
            Err(e) => return Err(io("heads.log", e)),
        };
        let small = [
            ("verify.json", serde_json::to_vec_pretty(&verify).map_err(|e| Error::internal("verify report", e))?),
            (
                "settings.json",
                serde_json::to_vec_pretty(&self.config.without_secrets())
                    .map_err(|e| Error::internal("settings", e))?,
            ),
            (
                "version.json",
                serde_json::to_vec_pretty(&json!({
                    "courier": env!("CARGO_PKG_VERSION"),
                    "schema": self.db.schema_version().await?,
                    "exported_at": rfc3339(self.clock.now_ms()),
                    "since": rfc3339(since_ms),
                    "exported_by": caller.actor.to_string(),
                }))
                .map_err(|e| Error::internal("version", e))?,
            ),
        ];
        let mut files = vec![("events.jsonl".to_owned(), events_sha), ("heads.log".to_owned(), heads_sha)];
        files
            .extend(small.iter().map(|(name, bytes)| ((*name).to_owned(), hex::encode(courier_crypto::sha256(bytes)))));
        let manifest = serde_json::to_vec_pretty(
            &json!({ "files": files.iter().map(|(n, h)| json!({"name": n, "sha256": h})).collect::<Vec<_>>() }),
        )
        .map_err(|e| Error::internal("manifest", e))?;
        let manifest_sha256 = hex::encode(courier_crypto::sha256(&manifest));
        let output_owned: PathBuf = output.to_owned();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            use std::io::Seek;
            let mut tar = tar::Builder::new(std::io::BufWriter::new(file));
            let header = |size: u64| {
                let mut h = tar::Header::new_gnu();
                h.set_size(size);
                h.set_mode(0o600);
                h.set_mtime(0);
                h
            };
            let len = events_file.seek(std::io::SeekFrom::End(0))?;
            events_file.rewind()?;
            tar.append_data(&mut header(len), "events.jsonl", &mut events_file)?;
            let len = heads_file.seek(std::io::SeekFrom::End(0))?;
            heads_file.rewind()?;
            tar.append_data(&mut header(len), "heads.log", &mut heads_file)?;
            for (name, bytes) in &small {
                tar.append_data(&mut header(bytes.len() as u64), name, bytes.as_slice())?;
            }
            tar.append_data(&mut header(manifest.len() as u64), "manifest.json", manifest.as_slice())?;
            let out = tar.into_inner()?.into_inner().map_err(|e| e.into_error())?;
            out.sync_all()
        })
        .await
        .map_err(|e| Error::internal("incident bundle task", e))?
        .map_err(|e| io("incident bundle", e))?;
        Ok(IncidentBundle {
            path: output_owned.display().to_string(),
            since: rfc3339(since_ms),
            events,
            trail_intact: verify.ok,
            manifest_sha256,
            files,
        })
    }
}

/// Writes through, hashing what passes.
struct HashingWriter<W> {
    inner: W,
    hash: courier_crypto::Sha256,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A new file only this user can read (create_new: never an existing file or a symlink).
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().read(true).write(true).create_new(true).mode(0o600).open(path)
}

/// A hidden name beside `output`.
fn scratch_path(output: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(output.file_name().map(|n| n.to_os_string()).unwrap_or_default());
    name.push(format!(".{}.partial", uuid::Uuid::new_v4()));
    output.with_file_name(name)
}
