//! Document rows. A row is inserted only once its blob is complete, so a row that exists is
//! a whole document; shredding clears `wrapped_dek` and sets `deleted_at`.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Executor};

use crate::{Result, StoreError, col};

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
     wrapped_dek, uploaded_at, deleted_at, scan_status, scan_malware, scan_findings, scan_checks, held, released_at \
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

/// Documents, newest first; of one portal if given; shredded ones only if asked. The two
/// shapes are separate statements so that one portal's list always uses the
/// `(portal_id, uploaded_at)` index, also under PostgreSQL's generic plans.
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

/// The live documents of one matter, newest first.
pub async fn list_in_matter<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    matter_id: &str,
) -> Result<Vec<DocumentRecord>> {
    let sql = format!("{SELECT} WHERE matter_id = $1 AND deleted_at IS NULL ORDER BY uploaded_at DESC, id");
    let rows = sqlx::query(&sql).bind(matter_id).fetch_all(ex).await?;
    rows.iter().map(from_row).collect()
}

/// Shreds: forgets the wrapped key. Returns false if the document was already shredded.
pub async fn shred(conn: &mut AnyConnection, id: &str, now: i64) -> Result<bool> {
    let r =
        sqlx::query("UPDATE documents SET wrapped_dek = NULL, deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(conn)
            .await?;
    Ok(r.rows_affected() == 1)
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

/// A page of (document id, wrapped key) for live documents, ordered by id, after `after_id`.
pub async fn wrapped_keys_page<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    after_id: &str,
    limit: i64,
) -> Result<Vec<(String, Vec<u8>)>> {
    let rows = sqlx::query(
        "SELECT id, wrapped_dek FROM documents WHERE wrapped_dek IS NOT NULL AND id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after_id)
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.iter().map(|r| Ok((col(r, "id")?, col(r, "wrapped_dek")?))).collect()
}

/// Replaces a wrapped key only if it is still `old` (not shredded or re-wrapped meanwhile).
pub async fn replace_wrapped_key(conn: &mut AnyConnection, id: &str, old: &[u8], new: &[u8]) -> Result<bool> {
    let r = sqlx::query("UPDATE documents SET wrapped_dek = $1 WHERE id = $2 AND wrapped_dek = $3")
        .bind(new)
        .bind(id)
        .bind(old)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// The master key versions that the database's wrapped document keys and sealed secrets were
/// made with (the first four bytes of each, big-endian), so that start-up can refuse to run
/// without one of them rather than make a new key over data it could never open again.
pub async fn master_key_versions_in_use<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E) -> Result<Vec<u32>> {
    let rows = sqlx::query(
        "SELECT DISTINCT substr(wrapped_dek, 1, 4) AS v FROM documents WHERE wrapped_dek IS NOT NULL \
         UNION SELECT DISTINCT substr(totp_sealed, 1, 4) AS v FROM users WHERE length(totp_sealed) >= 4",
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
