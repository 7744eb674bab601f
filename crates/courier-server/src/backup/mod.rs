//! Backups beyond taking them (`services::backup` does that, inside the running service):
//! checking a backup file, restoring it into an empty installation on either backend, and the
//! drill that proves a restore works. A restore reads the file twice: first every entry is
//! hashed against the manifest and nothing is written; only then is anything written, and if
//! that fails what was written is removed again.

pub mod archive;

/// The offline key that opens backups (an age X25519 identity).
pub type Identity = age::x25519::Identity;

use std::collections::HashSet;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use courier_store::Db;
use courier_store::blob::BlobStore;
use courier_store::snapshot::{self, Shape};
use serde::Serialize;
use tokio::io::{AsyncBufReadExt, AsyncReadExt};

use self::archive::{Manifest, TarReader};
use crate::{Config, Error, Result};

/// What a restore did.
#[derive(Debug, Clone, Serialize)]
pub struct Restored {
    pub backup_id: String,
    pub created_at: String,
    pub documents: u64,
    /// Documents the deletion journal (and the backup's own list) shredded again.
    pub reshredded: usize,
    pub audit_seq: i64,
    /// The audit public key that signed the backup's manifest (compare with the published one).
    pub signed_by: String,
}

/// Where the deletion journal comes from, or that there is knowingly none.
pub enum Journal {
    /// A file, or the `s3://bucket/prefix` of the old blob store.
    File(String),
    None,
}

/// Where backups are kept: a directory (e.g. a mounted NAS) or `s3://bucket/prefix`.
pub enum Location {
    Dir(PathBuf),
    S3 { files: courier_store::blob::S3Files, bucket: String },
}

/// One backup file in a location.
pub struct BackupFile {
    pub location: Location,
    pub name: String,
}

impl Location {
    /// `s3://bucket/prefix` (with this installation's S3 endpoint and credentials) or a path.
    pub fn parse(config: &Config, text: &str) -> Result<Self> {
        if text.starts_with("s3://") {
            let settings = config.s3_settings_for(text).map_err(|e| Error::BadRequest(e.to_string().into()))?;
            let files = courier_store::blob::S3Files::new(&settings)?;
            return Ok(Self::S3 { files, bucket: settings.bucket });
        }
        Ok(Self::Dir(PathBuf::from(text)))
    }

    /// The backups here, newest first: (file name, bytes).
    pub async fn list(&self) -> Result<Vec<(String, u64)>> {
        let mut out = match self {
            Self::Dir(dir) => {
                let mut out = Vec::new();
                let entries = std::fs::read_dir(dir)
                    .map_err(|e| Error::BadRequest(format!("cannot read {}: {e}", dir.display()).into()))?;
                for entry in entries {
                    let entry = entry?;
                    out.push((entry.file_name().to_string_lossy().into_owned(), entry.metadata()?.len()));
                }
                out
            }
            Self::S3 { files, .. } => files.list().await?,
        };
        out.retain(|(name, _)| name.starts_with("courier-backup-") && name.ends_with(".tar.age"));
        out.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(out)
    }

    /// Where `name` is (a path or an `s3://` URL).
    pub fn describe(&self, name: &str) -> String {
        match self {
            Self::Dir(dir) => {
                std::path::absolute(dir.join(name)).unwrap_or_else(|_| dir.join(name)).display().to_string()
            }
            Self::S3 { files, bucket } => files.url(bucket, name),
        }
    }

    async fn open(&self, name: &str) -> Result<archive::Source> {
        match self {
            Self::Dir(dir) => open_file(&dir.join(name)).await,
            Self::S3 { files, .. } => files
                .reader(name)
                .await
                .map_err(|e| Error::BadRequest(format!("cannot read {}: {e}", self.describe(name)).into())),
        }
    }
}

impl BackupFile {
    /// A backup named by a path or an `s3://bucket/prefix/name` URL.
    pub fn parse(config: &Config, text: &str) -> Result<Self> {
        let (dir, name) = text.rsplit_once('/').unwrap_or((".", text));
        let dir = if dir.is_empty() { "/" } else { dir };
        Ok(Self { location: Location::parse(config, dir)?, name: name.to_owned() })
    }

    pub fn describe(&self) -> String {
        self.location.describe(&self.name)
    }

    async fn open(&self) -> Result<archive::Source> {
        self.location.open(&self.name).await
    }
}

/// Longest manifest read into memory (it lists every part).
const MAX_MANIFEST: u64 = 512 * 1024 * 1024;

async fn open_file(path: &Path) -> Result<archive::Source> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| Error::BadRequest(format!("cannot open {}: {e}", path.display()).into()))?;
    Ok(Box::pin(file))
}

/// Reads the identity file given to `verify`, `restore` and `drill`.
pub fn read_identity(path: &Path) -> Result<age::x25519::Identity> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| Error::BadRequest(format!("cannot read {}: {e}", path.display()).into()))?,
    );
    archive::parse_identity(&text)
}

/// First pass: decrypts the whole file and checks every entry against the manifest (size and
/// SHA-256, none missing, none extra, the manifest last). Writes nothing.
/// With `pinned_key` (the audit public key the firm published), a backup signed by any other
/// key is refused: anyone holding the recipient can make a well-formed backup, only the
/// installation can sign its manifest.
pub async fn check(file: &BackupFile, identity: &age::x25519::Identity, pinned_key: Option<&str>) -> Result<Manifest> {
    let mut tar = TarReader::new(archive::decrypting(file.open().await?, identity).await?);
    let mut seen = std::collections::BTreeMap::new();
    let mut manifest: Option<Manifest> = None;
    while let Some((name, size)) = tar.next().await? {
        if manifest.is_some() {
            return Err(Error::BadRequest("the backup has entries after its manifest".into()));
        }
        if name == "manifest.json" {
            if size > MAX_MANIFEST {
                return Err(Error::BadRequest("the backup's manifest is implausibly large".into()));
            }
            let mut text = Vec::new();
            tar.body(size).read_to_end(&mut text).await?;
            manifest = Some(
                serde_json::from_slice(&text)
                    .map_err(|e| Error::BadRequest(format!("the backup's manifest is unreadable: {e}").into()))?,
            );
        } else {
            let hash = archive::hash_body(&mut tar.body(size), size).await?;
            if seen.insert(name.clone(), (size, hash)).is_some() {
                return Err(Error::BadRequest(format!("the backup holds {name} twice").into()));
            }
        }
        tar.end_entry(size).await?;
    }
    let manifest = manifest.ok_or_else(|| Error::BadRequest("the backup has no manifest (truncated?)".into()))?;
    if manifest.format != archive::FORMAT {
        return Err(Error::BadRequest(format!("unknown backup format {:?}", manifest.format).into()));
    }
    if !manifest.signature_holds() {
        return Err(Error::BadRequest("the backup's manifest is not signed by the key it names".into()));
    }
    if let Some(pinned) = pinned_key
        && !pinned.trim().eq_ignore_ascii_case(&manifest.public_key)
    {
        return Err(Error::BadRequest(
            format!(
                "the backup is signed by audit key {}, not by the one given: it is not this firm's backup",
                manifest.public_key
            )
            .into(),
        ));
    }
    if seen != manifest.parts {
        let differs = manifest
            .parts
            .keys()
            .chain(seen.keys())
            .find(|k| seen.get(*k) != manifest.parts.get(*k))
            .cloned()
            .unwrap_or_default();
        return Err(Error::BadRequest(format!("the backup's {differs} does not match its manifest").into()));
    }
    Ok(manifest)
}

/// Restores `file` into the installation `config` names, which must be empty: its data
/// directory empty or missing, its database without tables, its blob store without blobs.
pub async fn restore(
    config: &Config,
    file: &BackupFile,
    identity: &age::x25519::Identity,
    journal: Journal,
    pinned_key: Option<&str>,
) -> Result<Restored> {
    let journal_ids = match &journal {
        Journal::File(source) => read_journal(config, source).await?,
        Journal::None => Vec::new(),
    };
    if config.data_dir.is_file() {
        return Err(Error::BadRequest(format!("{} is a file, not a data directory", config.data_dir.display()).into()));
    }
    refuse_non_empty(config).await?;
    let manifest = check(file, identity, pinned_key).await?;
    if manifest.schema_version > Db::latest_version() {
        return Err(Error::BadRequest(
            format!(
                "the backup comes from a newer Courier (schema {}; this one knows {}): restore it with that version",
                manifest.schema_version,
                Db::latest_version()
            )
            .into(),
        ));
    }
    let created_dir = !config.data_dir.exists();
    let mut written = Written::default();
    let mut replay: Vec<String> = journal_ids;
    replay.extend(manifest.shredded_during_backup.iter().cloned());
    let reshredded = match apply(config, file, identity, &manifest, &replay, &mut written).await {
        Ok(reshredded) => reshredded,
        Err(e) => {
            written.undo(config, created_dir).await;
            return Err(e);
        }
    };
    // The data is in, with the journal's documents already shredded in the same transaction;
    // what is left is recording it. Until then the marker keeps the installation from opening.
    let (courier, operator) = crate::startup::open_unchecked(config.clone()).await?;
    let me = courier.operator(&operator);
    let details = serde_json::json!({ "backup_id": manifest.id, "created_at": manifest.created_at,
        "documents": manifest.documents, "journal_lines": replay.len(), "reshredded": reshredded.len(),
        "signed_by": manifest.public_key });
    me.record_restore(&reshredded, &manifest.id, details).await?;
    courier.close().await;
    std::fs::remove_file(config.data_dir.join(crate::startup::RESTORE_MARKER))?;
    Ok(Restored {
        backup_id: manifest.id,
        created_at: manifest.created_at,
        documents: manifest.documents,
        reshredded: reshredded.len(),
        audit_seq: manifest.audit_seq,
        signed_by: manifest.public_key,
    })
}

/// The document ids of a deletion journal: a file (`audit/shreds.log`, one JSON line each) or
/// the `s3://bucket/prefix` of the old blob store (its `deletion-journal/` objects). A last
/// line cut short by a crash is skipped with a warning; anything else unreadable refuses.
async fn read_journal(config: &Config, source: &str) -> Result<Vec<String>> {
    let lines: Vec<String> = if source.starts_with("s3://") {
        let settings = config.s3_settings_for(source).map_err(|e| Error::BadRequest(e.to_string().into()))?;
        let store = courier_store::blob::S3BlobStore::new(&settings)?;
        store.journal_entries().await?.into_iter().map(|b| String::from_utf8_lossy(&b).trim().to_owned()).collect()
    } else {
        let text = std::fs::read_to_string(source)
            .map_err(|e| Error::BadRequest(format!("cannot read the deletion journal {source}: {e}").into()))?;
        let torn = !text.is_empty() && !text.ends_with('\n');
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        if torn && lines.last().is_some_and(|l| serde_json::from_str::<serde_json::Value>(l).is_err()) {
            tracing::warn!("the journal's last line was cut short (a crash while it was written); it is skipped");
            lines.pop();
        }
        lines
    };
    let mut ids = Vec::new();
    for (n, line) in lines.iter().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line)
            .map_err(|_| Error::BadRequest(format!("{source} line {} is not a journal line", n + 1).into()))?;
        let id = v["document_id"]
            .as_str()
            .filter(|id| courier_store::blob::is_valid_key(id))
            .ok_or_else(|| Error::BadRequest(format!("{source} line {} names no document", n + 1).into()))?;
        ids.push(id.to_owned());
    }
    if ids.is_empty() {
        tracing::warn!("the deletion journal names no document: nothing will be shredded again");
    }
    Ok(ids)
}

async fn refuse_non_empty(config: &Config) -> Result<()> {
    let not_empty = |what: String| {
        Err(Error::Conflict(
            format!("{what}: a backup is restored only into an empty installation (nothing is overwritten)").into(),
        ))
    };
    if let Ok(mut entries) = std::fs::read_dir(&config.data_dir)
        && entries.next().is_some()
    {
        return not_empty(format!("{} is not empty", config.data_dir.display()));
    }
    for key in [config.master_key_path(), config.audit_key_path()] {
        if key.exists() {
            return not_empty(format!("the key file {} exists", key.display()));
        }
    }
    if config.database_url.is_some() {
        let db = Db::connect(&config.database_url()).await.map_err(|e| Error::Unavailable(format!("database: {e}")))?;
        let mut conn = db.pool().acquire().await.map_err(courier_store::StoreError::from)?;
        let tables = snapshot::all_tables(&mut conn, db.backend()).await?;
        drop(conn);
        db.close().await;
        if !tables.is_empty() {
            return not_empty(format!("the database already has {} tables", tables.len()));
        }
    }
    if config.s3_settings().map_err(|e| Error::BadRequest(e.to_string().into()))?.is_some() {
        let blobs = crate::startup::blob_store(config)?;
        if !blobs.list_older_than(std::time::Duration::ZERO).await?.is_empty() {
            return not_empty("the blob store already holds blobs".into());
        }
    }
    Ok(())
}

/// What a restore wrote so far, to take back if it fails.
#[derive(Default)]
struct Written {
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
    blobs: Vec<String>,
    store: Option<Arc<dyn BlobStore>>,
    database: Option<Db>,
}

impl Written {
    async fn undo(self, config: &Config, created_dir: bool) {
        if let Some(store) = &self.store {
            for key in &self.blobs {
                if let Err(e) = store.delete(key).await {
                    tracing::warn!(error = %e, "could not remove a blob of the failed restore");
                }
            }
        }
        if let Some(db) = self.database {
            if db.backend() == courier_store::Backend::Postgres
                && let Ok(mut conn) = db.pool().acquire().await
                && let Err(e) = snapshot::drop_all(&mut conn, db.backend()).await
            {
                tracing::warn!(error = %e, "could not drop the tables of the failed restore");
            }
            db.close().await;
        }
        for f in &self.files {
            let _ = std::fs::remove_file(f);
        }
        for d in &self.dirs {
            let _ = std::fs::remove_dir_all(d);
        }
        if created_dir {
            let _ = std::fs::remove_dir_all(&config.data_dir);
        } else {
            for f in ["courier.db", "courier.db-wal", "courier.db-shm"] {
                let _ = std::fs::remove_file(config.data_dir.join(f));
            }
        }
    }
}

/// Second pass: writes the keys, the audit log, the blobs and the rows (in one transaction,
/// committed last), then migrates the schema to this version's.
async fn apply(
    config: &Config,
    file: &BackupFile,
    identity: &age::x25519::Identity,
    manifest: &Manifest,
    replay: &[String],
    written: &mut Written,
) -> Result<Vec<String>> {
    crate::startup::create_private_dir(&config.data_dir)?;
    let marker = config.data_dir.join(crate::startup::RESTORE_MARKER);
    std::fs::write(&marker, "a restore is under way, or was interrupted\n")?;
    written.files.push(marker);
    for dir in ["keys", "audit", "blobs"] {
        let path = config.data_dir.join(dir);
        if !path.exists() {
            crate::startup::create_private_dir(&path)?;
            written.dirs.push(path);
        }
    }
    if config.database_url.is_none() {
        crate::startup::create_private_file(&config.data_dir.join("courier.db"))?;
    }
    let db = Db::connect(&config.database_url()).await.map_err(|e| Error::Unavailable(format!("database: {e}")))?;
    written.database = Some(db.clone());
    db.migrate_to(manifest.schema_version).await?;
    let store = crate::startup::blob_store(config)?;
    written.store = Some(Arc::clone(&store));
    let mut tx = db.begin().await?;
    for table in snapshot::TABLES.iter().rev() {
        snapshot::clear(&mut tx, table).await?;
    }
    let mut tar = TarReader::new(archive::decrypting(file.open().await?, identity).await?);
    let mut tables_seen = HashSet::new();
    while let Some((name, size)) = tar.next().await? {
        let mut hashed = archive::Hashing::new(tar.body(size));
        let body = &mut hashed;
        if let Some(table) = name.strip_prefix("db/").and_then(|n| n.strip_suffix(".jsonl")) {
            load_table(&mut tx, db.backend(), table, body).await?;
            tables_seen.insert(table.to_owned());
        } else if let Some(key) = name.strip_prefix("blobs/") {
            let mut upload = store.create(key).await?;
            written.blobs.push(key.to_owned());
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = body.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                upload.write(&buf[..n]).await?;
            }
            upload.seal().await?;
            upload.commit().await?;
        } else if let Some(key) = name.strip_prefix("keys/") {
            let path = key_path(config, key)?;
            write_new(&path, body, written).await?;
        } else if name == "audit/heads.log" {
            write_new(&config.data_dir.join("audit").join("heads.log"), body, written).await?;
        } else if name != "manifest.json" {
            return Err(Error::BadRequest(format!("the backup holds an unknown entry {name}").into()));
        }
        tokio::io::copy(body, &mut tokio::io::sink()).await?;
        let hash = hashed.finish();
        if name != "manifest.json" && manifest.parts.get(&name) != Some(&(size, hash)) {
            return Err(Error::BadRequest(format!("the backup's {name} changed since it was checked").into()));
        }
        tar.end_entry(size).await?;
    }
    if let Some(missing) = snapshot::TABLES.iter().find(|t| !tables_seen.contains(**t)) {
        return Err(Error::BadRequest(format!("the backup has no table {missing}").into()));
    }
    // Shredded again in the same transaction as the rows arrive: there is no moment, crash
    // or not, at which a document the journal names is readable in this installation.
    let now = courier_core::time_fmt::now_ms();
    let mut reshredded = Vec::new();
    for id in replay {
        if courier_store::documents::shred(&mut tx, id, now, courier_core::ShredReason::RestoredJournal).await? {
            reshredded.push(id.clone());
        }
    }
    Db::commit(tx).await?;
    db.migrate().await?;
    db.close().await;
    Ok(reshredded)
}

/// Longest row line a restore reads (a row holds ids, short texts and wrapped keys; a line
/// longer than this is a crafted file, refused before it can take the memory).
const MAX_LINE: u64 = 16 * 1024 * 1024;

/// The next line (without its newline) into `buf`; `None` at the end.
async fn next_line<'b>(
    reader: &mut (impl tokio::io::AsyncBufRead + Unpin),
    buf: &'b mut Vec<u8>,
) -> Result<Option<&'b [u8]>> {
    buf.clear();
    let n = (&mut *reader).take(MAX_LINE + 1).read_until(b'\n', buf).await?;
    if n == 0 {
        return Ok(None);
    }
    if buf.len() as u64 > MAX_LINE {
        return Err(Error::BadRequest("the backup holds a line longer than any row".into()));
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
    }
    Ok(Some(buf.as_slice()))
}

/// Where a key file of the backup goes in this installation.
fn key_path(config: &Config, name: &str) -> Result<PathBuf> {
    if name == "audit.key" {
        return Ok(config.audit_key_path());
    }
    let version: u32 = name
        .strip_prefix("master.key.v")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| Error::BadRequest(format!("the backup holds an unknown key file {name}").into()))?;
    let base = config.master_key_path();
    Ok(if version == 1 { base } else { PathBuf::from(format!("{}.v{version}", base.display())) })
}

/// Writes a file that must not exist yet (mode 0600), synced.
async fn write_new(
    path: &Path,
    body: &mut (dyn tokio::io::AsyncRead + Unpin + Send),
    written: &mut Written,
) -> Result<()> {
    let mut bytes = zeroize::Zeroizing::new(Vec::new());
    body.read_to_end(&mut bytes).await?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::Conflict(format!("cannot create {}: {e}", path.display()).into()))?;
    written.files.push(path.to_owned());
    std::io::Write::write_all(&mut f, &bytes)?;
    f.sync_all()?;
    Ok(())
}

/// Loads one table's rows from its JSON Lines (a shape line, then one array per row).
async fn load_table(
    conn: &mut courier_store::Conn,
    backend: courier_store::Backend,
    table: &str,
    body: &mut (dyn tokio::io::AsyncRead + Unpin + Send),
) -> Result<()> {
    let bad = |what: &str| Error::BadRequest(format!("the backup's table {table}: {what}").into());
    let mut reader = tokio::io::BufReader::new(body);
    let mut line = Vec::new();
    let first = next_line(&mut reader, &mut line).await?.ok_or_else(|| bad("empty"))?;
    let shape: Shape = serde_json::from_slice(first).map_err(|_| bad("no shape line"))?;
    if shape.table != table || !snapshot::TABLES.contains(&table) {
        return Err(bad("not a table backups carry"));
    }
    // The columns must be exactly those of this table at the backup's schema (migrated to it
    // just before): names never come from the file into a statement.
    if shape != snapshot::shape(conn, backend, table).await? {
        return Err(bad("its columns differ from the schema it claims"));
    }
    while let Some(text) = next_line(&mut reader, &mut line).await? {
        let row: Vec<serde_json::Value> = serde_json::from_slice(text).map_err(|_| bad("a row is not JSON"))?;
        snapshot::insert(conn, &shape, &row).await?;
    }
    Ok(())
}

/// What `backup drill` (and `backup verify`) report.
#[derive(Debug, Clone, Serialize)]
pub struct DrillReport {
    pub backup_id: Option<String>,
    pub file: String,
    pub documents_checked: usize,
    pub audit_events: i64,
    pub ok: bool,
    pub seconds: f64,
    /// The audit public key that signed the backup (compare with the published one).
    pub signed_by: Option<String>,
    pub error: Option<String>,
}

/// Restores `file` into a temporary installation (SQLite, local blobs), decrypts every
/// document against its SHA-256, verifies the audit trail, and deletes the installation.
pub async fn drill(file: &BackupFile, identity: &age::x25519::Identity, pinned_key: Option<&str>) -> DrillReport {
    let started = std::time::Instant::now();
    remove_stale_drills();
    let dir = std::env::temp_dir().join(format!("courier-drill-{}", uuid::Uuid::new_v4().simple()));
    let config = Config { data_dir: dir.clone(), ..Config::default() };
    let mut report = DrillReport {
        backup_id: None,
        file: file.describe(),
        documents_checked: 0,
        audit_events: 0,
        ok: false,
        seconds: 0.0,
        signed_by: None,
        error: None,
    };
    let outcome = async {
        let restored = restore(&config, file, identity, Journal::None, pinned_key).await?;
        report.backup_id = Some(restored.backup_id);
        report.signed_by = Some(restored.signed_by);
        let (courier, operator) = crate::startup::open(config.clone()).await?;
        let me = courier.operator(&operator);
        let (checked, bad) = me.verify_documents().await?;
        report.documents_checked = checked;
        let audit = me.verify_audit().await?;
        report.audit_events = audit.events;
        courier.close().await;
        if let Some(e) = audit.error {
            return Err(Error::Conflict(
                format!("the restored audit trail does not verify at event {}: {}", e.seq, e.reason).into(),
            ));
        }
        if !bad.is_empty() {
            return Err(Error::Conflict(
                format!("{} documents do not match their SHA-256: {}", bad.len(), bad.join(", ")).into(),
            ));
        }
        Ok(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    match outcome {
        Ok(()) => report.ok = true,
        Err(e) => report.error = Some(e.internal_detail().map_or_else(|| e.public_message(), str::to_owned)),
    }
    report.seconds = (started.elapsed().as_secs_f64() * 100.0).round() / 100.0;
    report
}

/// Drill installations left by a drill that was killed (its keys and data would otherwise stay
/// in the temporary directory): removed once they are an hour old.
fn remove_stale_drills() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > std::time::Duration::from_secs(3600)));
        if entry.file_name().to_string_lossy().starts_with("courier-drill-") && old {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Column names in a backup's shape line never reach a statement: a shape that differs
    /// from the schema's (here carrying SQL) is refused, and nothing it names is created.
    #[tokio::test]
    async fn a_crafted_shape_is_refused_before_any_statement() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display())).await.unwrap();
        db.migrate().await.unwrap();
        let mut tx = db.begin().await.unwrap();
        let evil = r#"{"table":"legal_holds","columns":[["id\") VALUES (1); CREATE TABLE pwned (a); --","text"]]}
["x"]
"#;
        let mut body: &[u8] = evil.as_bytes();
        let refused = load_table(&mut tx, db.backend(), "legal_holds", &mut body).await;
        assert!(matches!(refused, Err(Error::BadRequest(m)) if m.contains("columns differ")));
        drop(tx);
        let mut conn = db.pool().acquire().await.unwrap();
        let tables = snapshot::all_tables(&mut conn, db.backend()).await.unwrap();
        assert!(!tables.iter().any(|t| t == "pwned"));
    }

    /// A line longer than any row is refused before it is held whole.
    #[tokio::test]
    async fn an_endless_line_is_refused() {
        let mut reader = tokio::io::BufReader::new(tokio::io::repeat(b'x'));
        let mut buf = Vec::new();
        assert!(next_line(&mut reader, &mut buf).await.is_err());
        assert!(buf.len() as u64 <= MAX_LINE + 1);
    }
}
