//! Document rows. A row is inserted only once its blob is complete, so a row that exists is
//! a whole document; shredding clears `wrapped_dek` and sets `deleted_at`.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Executor};

use crate::{Backend, Result, StoreError, col};

#[derive(Debug, Clone)]
pub struct DocumentRecord {
    pub id: String,
    pub portal_id: Option<String>,
    pub matter_id: Option<String>,
    pub receipt_id: Option<String>,
    pub name: String,
    pub size: i64,
    pub content_type: String,
    pub sha256: String,
    pub blob_key: String,
    pub wrapped_dek: Option<Vec<u8>>,
    pub uploaded_at: i64,
    pub deleted_at: Option<i64>,
    pub scan: ScanRecord,
    pub lifecycle: LifecycleRecord,
}

/// When the document goes by itself: written by lifecycle actions, except the retentions and
/// the hold, which are read from its portal, its matter and the holds with it.
#[derive(Debug, Clone, Default)]
pub struct LifecycleRecord {
    pub filed_at: Option<i64>,
    pub filed_reference: Option<String>,
    pub deletion_reason: Option<courier_core::ShredReason>,
    pub portal_retention: Option<i64>,
    pub matter_retention: Option<i64>,
    /// An unreleased legal hold names the document or its matter.
    pub on_hold: bool,
}

/// The scan result as stored: findings and checks are JSON text written by the service layer.
#[derive(Debug, Clone)]
pub struct ScanRecord {
    pub status: courier_core::ScanStatus,
    pub malware: Option<String>,
    pub findings: Option<String>,
    pub checks: Option<String>,
    /// Held back from every download until released.
    pub held: bool,
    pub released_at: Option<i64>,
}

const SELECT: &str = "SELECT id, portal_id, matter_id, receipt_id, name, size, content_type, sha256, blob_key, \
     wrapped_dek, uploaded_at, deleted_at, scan_status, scan_malware, scan_findings, scan_checks, held, released_at, \
     filed_at, filed_reference, deletion_reason, \
     (SELECT p.retention_ms FROM portals p WHERE p.id = documents.portal_id) AS portal_retention, \
     (SELECT m.retention_ms FROM matters m WHERE m.id = documents.matter_id) AS matter_retention, \
     CASE WHEN EXISTS (SELECT 1 FROM legal_holds h WHERE h.released_at IS NULL \
       AND (h.document_id = documents.id OR h.matter_id = documents.matter_id)) THEN 1 ELSE 0 END AS on_hold \
     FROM documents";

fn from_row(row: &AnyRow) -> Result<DocumentRecord> {
    Ok(DocumentRecord {
        id: col(row, "id")?,
        portal_id: col(row, "portal_id")?,
        matter_id: col(row, "matter_id")?,
        receipt_id: col(row, "receipt_id")?,
        name: col(row, "name")?,
        size: col(row, "size")?,
        content_type: col(row, "content_type")?,
        sha256: col(row, "sha256")?,
        blob_key: col(row, "blob_key")?,
        wrapped_dek: col(row, "wrapped_dek")?,
        uploaded_at: col(row, "uploaded_at")?,
        deleted_at: col(row, "deleted_at")?,
        scan: ScanRecord {
            status: crate::word(row, "scan_status")?,
            malware: col(row, "scan_malware")?,
            findings: col(row, "scan_findings")?,
            checks: col(row, "scan_checks")?,
            held: col::<i64>(row, "held")? != 0,
            released_at: col(row, "released_at")?,
        },
        lifecycle: LifecycleRecord {
            filed_at: col(row, "filed_at")?,
            filed_reference: col(row, "filed_reference")?,
            deletion_reason: crate::word_or_null(row, "deletion_reason")?,
            portal_retention: col(row, "portal_retention")?,
            matter_retention: col(row, "matter_retention")?,
            on_hold: col::<i64>(row, "on_hold")? != 0,
        },
    })
}

pub async fn insert(conn: &mut AnyConnection, d: &DocumentRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO documents (id, portal_id, matter_id, receipt_id, name, size, content_type, sha256, blob_key, \
         wrapped_dek, uploaded_at, scan_status, scan_malware, scan_findings, scan_checks, held) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(&d.id)
    .bind(&d.portal_id)
    .bind(&d.matter_id)
    .bind(&d.receipt_id)
    .bind(&d.name)
    .bind(d.size)
    .bind(&d.content_type)
    .bind(&d.sha256)
    .bind(&d.blob_key)
    .bind(&d.wrapped_dek)
    .bind(d.uploaded_at)
    .bind(d.scan.status.as_str())
    .bind(&d.scan.malware)
    .bind(&d.scan.findings)
    .bind(&d.scan.checks)
    .bind(i64::from(d.scan.held))
    .execute(conn)
    .await
    .map_err(StoreError::on_conflict)?;
    Ok(())
}

pub async fn get<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, id: &str) -> Result<Option<DocumentRecord>> {
    let row = sqlx::query(&format!("{SELECT} WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()
}

/// The documents (live or not) a portal received under `receipt_id`.
pub async fn in_receipt<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    portal_id: &str,
    receipt_id: &str,
) -> Result<Vec<DocumentRecord>> {
    let rows = sqlx::query(&format!("{SELECT} WHERE portal_id = $1 AND receipt_id = $2 ORDER BY uploaded_at, id"))
        .bind(portal_id)
        .bind(receipt_id)
        .fetch_all(ex)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Every document, newest first; of one portal if given; shredded ones only if asked (portal
/// deletion reads its portal's whole list in its transaction; listings use [`page`]).
pub async fn list<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    portal_id: Option<&str>,
    include_deleted: bool,
) -> Result<Vec<DocumentRecord>> {
    let live = if include_deleted { "" } else { " AND deleted_at IS NULL" };
    let rows = match portal_id {
        Some(p) => {
            let sql = format!("{SELECT} WHERE portal_id = $1{live} ORDER BY uploaded_at DESC, id");
            sqlx::query(&sql).bind(p).fetch_all(ex).await?
        }
        None => {
            let sql = format!("{SELECT} WHERE 1 = 1{live} ORDER BY uploaded_at DESC, id");
            sqlx::query(&sql).fetch_all(ex).await?
        }
    };
    rows.iter().map(from_row).collect()
}

/// Which documents a page is taken from.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    All,
    Portal(&'a str),
    Matter(&'a str),
}

/// A position in a newest-first list: the last row of the page before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    pub uploaded_at: i64,
    pub id: String,
}

/// The statement [`page`] runs (public so that tests can ask the database for its plan).
pub fn page_statement(scope: Scope<'_>, include_deleted: bool, after: bool) -> String {
    let (mut sql, mut next) = match scope {
        Scope::All => (format!("{SELECT} WHERE 1 = 1"), 1),
        Scope::Portal(_) => (format!("{SELECT} WHERE portal_id = $1"), 2),
        Scope::Matter(_) => (format!("{SELECT} WHERE matter_id = $1"), 2),
    };
    if !include_deleted {
        sql.push_str(" AND deleted_at IS NULL");
    }
    if after {
        // The first term is a range the index serves; the second sorts out ties.
        sql.push_str(&format!(" AND uploaded_at <= ${next} AND (uploaded_at < ${next} OR id < ${})", next + 1));
        next += 2;
    }
    sql.push_str(&format!(" ORDER BY uploaded_at DESC, id DESC LIMIT ${next}"));
    sql
}

/// At most `limit` documents of `scope`, newest first (ties by id, descending), starting just
/// after `after`. A keyset page: each shape is its own statement and reads its index
/// (`documents_portal`, `documents_matter`, `documents_uploaded`, migration 0015) from the
/// cursor on, so page 10,000 costs what page 1 does.
pub async fn page<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    scope: Scope<'_>,
    include_deleted: bool,
    after: Option<&After>,
    limit: u32,
) -> Result<Vec<DocumentRecord>> {
    let sql = page_statement(scope, include_deleted, after.is_some());
    let mut query = sqlx::query(&sql);
    if let Scope::Portal(key) | Scope::Matter(key) = scope {
        query = query.bind(key);
    }
    if let Some(after) = after {
        query = query.bind(after.uploaded_at).bind(&after.id);
    }
    let rows = query.bind(i64::from(limit)).fetch_all(ex).await?;
    rows.iter().map(from_row).collect()
}

/// The shredded documents of one matter, most recently shredded first (at most 500).
pub async fn list_shredded_in_matter<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    matter_id: &str,
) -> Result<Vec<DocumentRecord>> {
    let sql =
        format!("{SELECT} WHERE matter_id = $1 AND deleted_at IS NOT NULL ORDER BY deleted_at DESC, id LIMIT 500");
    let rows = sqlx::query(&sql).bind(matter_id).fetch_all(ex).await?;
    rows.iter().map(from_row).collect()
}

/// Shreds: forgets the wrapped key, says why, and marks the shredding as not yet in the
/// deletion journal. Returns false if the document was already shredded.
pub async fn shred(conn: &mut AnyConnection, id: &str, now: i64, reason: courier_core::ShredReason) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE documents SET wrapped_dek = NULL, deleted_at = $1, deletion_reason = $2, journaled = 0 \
         WHERE id = $3 AND deleted_at IS NULL",
    )
    .bind(now)
    .bind(reason.as_str())
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The live document `id`, locked until the transaction ends (with its matter's row shared
/// first, the order hold placement uses), so that a hold placed meanwhile is either seen by
/// the caller or waits for it. SQLite's write transaction is the lock there.
pub async fn lock_for_shred(conn: &mut AnyConnection, backend: Backend, id: &str) -> Result<Option<DocumentRecord>> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT m.id FROM matters m JOIN documents d ON d.matter_id = m.id WHERE d.id = $1 FOR SHARE OF m")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        sqlx::query("SELECT id FROM documents WHERE id = $1 FOR UPDATE").bind(id).fetch_optional(&mut *conn).await?;
    }
    Ok(get(&mut *conn, id).await?.filter(|d| d.deleted_at.is_none()))
}

/// Marks live documents as filed in the DMS (the first filing counts; a later one only adds a
/// reference where none was given). False: no such live document.
pub async fn mark_filed(conn: &mut AnyConnection, id: &str, now: i64, reference: Option<&str>) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE documents SET filed_at = COALESCE(filed_at, $1), filed_reference = COALESCE(filed_reference, $2) \
         WHERE id = $3 AND deleted_at IS NULL",
    )
    .bind(now)
    .bind(reference)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Live documents whose retention or filing grace has run out at `now` and that no legal hold
/// keeps, oldest first, at most `limit`.
pub async fn due_for_shredding<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    now: i64,
    default_retention: i64,
    filed_grace: i64,
    limit: i64,
) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT d.id FROM documents d \
         LEFT JOIN portals p ON p.id = d.portal_id LEFT JOIN matters m ON m.id = d.matter_id \
         WHERE d.deleted_at IS NULL \
           AND (d.uploaded_at + COALESCE(p.retention_ms, m.retention_ms, $1) <= $2 \
                OR (d.filed_at IS NOT NULL AND d.filed_at + $3 <= $2)) \
           AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.released_at IS NULL \
                           AND (h.document_id = d.id OR h.matter_id = d.matter_id)) \
         ORDER BY d.uploaded_at, d.id LIMIT $4",
    )
    .bind(default_retention)
    .bind(now)
    .bind(filed_grace)
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.iter().map(|r| col(r, "id")).collect()
}

/// Shredded documents whose shredding is not in the deletion journal yet: (id, deleted_at).
pub async fn unjournaled<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, limit: i64) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query("SELECT id, deleted_at FROM documents WHERE journaled = 0 ORDER BY deleted_at, id LIMIT $1")
        .bind(limit)
        .fetch_all(ex)
        .await?;
    rows.iter().map(|r| Ok((col(r, "id")?, col(r, "deleted_at")?))).collect()
}

pub async fn mark_journaled<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, id: &str) -> Result<()> {
    sqlx::query("UPDATE documents SET journaled = 1 WHERE id = $1").bind(id).execute(ex).await?;
    Ok(())
}

/// Releases a held document with its new status; false if it is not held (or shredded).
pub async fn release(conn: &mut AnyConnection, id: &str, status: courier_core::ScanStatus, now: i64) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE documents SET held = 0, released_at = $1, scan_status = $2 \
         WHERE id = $3 AND held = 1 AND deleted_at IS NULL",
    )
    .bind(now)
    .bind(status.as_str())
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Whether a live (unshredded) document references this blob key; a blob without one is an orphan.
pub async fn blob_key_known<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, blob_key: &str) -> Result<bool> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM documents WHERE blob_key = $1 AND deleted_at IS NULL")
        .bind(blob_key)
        .fetch_one(ex)
        .await?;
    Ok(col::<i64>(&row, "n")? > 0)
}

/// Where wrapped data keys are kept: documents, and resumable uploads not yet finished.
#[derive(Debug, Clone, Copy)]
pub enum DataKeyHolder {
    Documents,
    Uploads,
}

impl DataKeyHolder {
    pub const ALL: [Self; 2] = [Self::Documents, Self::Uploads];

    fn table(self) -> &'static str {
        match self {
            Self::Documents => "documents",
            Self::Uploads => "tus_uploads",
        }
    }
}

/// Wrapped data keys after `after_id`, by id, at most `limit` (a shredded document, a finished
/// upload hold none): what key rotation re-wraps and what a version's retirement waits for.
pub async fn wrapped_keys_page<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    holder: DataKeyHolder,
    after_id: &str,
    limit: i64,
) -> Result<Vec<(String, Vec<u8>)>> {
    let sql = format!(
        "SELECT id, wrapped_dek FROM {} WHERE wrapped_dek IS NOT NULL AND length(wrapped_dek) > 0 AND id > $1 \
         ORDER BY id LIMIT $2",
        holder.table()
    );
    let rows = sqlx::query(&sql).bind(after_id).bind(limit).fetch_all(ex).await?;
    rows.iter().map(|r| Ok((col(r, "id")?, col(r, "wrapped_dek")?))).collect()
}

/// Replaces a wrapped key only if it is still `old` (not shredded, finished or re-wrapped
/// meanwhile).
pub async fn replace_wrapped_key(
    conn: &mut AnyConnection,
    holder: DataKeyHolder,
    id: &str,
    old: &[u8],
    new: &[u8],
) -> Result<bool> {
    let sql = format!("UPDATE {} SET wrapped_dek = $1 WHERE id = $2 AND wrapped_dek = $3", holder.table());
    let r = sqlx::query(&sql).bind(new).bind(id).bind(old).execute(conn).await?;
    Ok(r.rows_affected() == 1)
}

/// The master key versions that the database's wrapped document keys and sealed secrets were
/// made with (the first four bytes of each, big-endian), so that start-up can refuse to run
/// without one of them rather than make a new key over data it could never open again.
pub async fn master_key_versions_in_use<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E) -> Result<Vec<u32>> {
    let rows = sqlx::query(
        "SELECT DISTINCT substr(wrapped_dek, 1, 4) AS v FROM documents WHERE wrapped_dek IS NOT NULL \
         UNION SELECT DISTINCT substr(totp_sealed, 1, 4) AS v FROM users WHERE length(totp_sealed) >= 4 \
         UNION SELECT DISTINCT substr(wrapped_dek, 1, 4) AS v FROM tus_uploads WHERE length(wrapped_dek) >= 4",
    )
    .fetch_all(ex)
    .await?;
    let mut versions = Vec::new();
    for row in &rows {
        let prefix: Vec<u8> = col(row, "v")?;
        let bytes: [u8; 4] = prefix
            .as_slice()
            .try_into()
            .map_err(|_| crate::StoreError::Corrupt("a wrapped key is shorter than its version".into()))?;
        versions.push(u32::from_be_bytes(bytes));
    }
    versions.sort_unstable();
    versions.dedup();
    Ok(versions)
}
