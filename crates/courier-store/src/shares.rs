//! Outbound share rows, the documents they carry and every download through them.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Executor};

use crate::{Result, StoreError, col};

#[derive(Debug, Clone)]
pub struct ShareRecord {
    pub id: String,
    pub matter_id: String,
    pub recipient: String,
    pub passcode_hash: Option<String>,
    pub expires_at: Option<i64>,
    pub max_downloads: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    /// The matter is archived: its shares are closed.
    pub matter_archived: bool,
}

pub struct NewShare<'a> {
    pub record: &'a ShareRecord,
    pub token_hash: &'a [u8],
    pub document_ids: &'a [String],
}

#[derive(Debug, Clone)]
pub struct DownloadRecord {
    pub document_id: String,
    pub at: i64,
    pub ip: String,
    pub user_agent: String,
    pub watermarked: bool,
}

const SELECT: &str = "SELECT s.id, s.matter_id, s.recipient, s.passcode_hash, s.expires_at, s.max_downloads, \
     s.created_by, s.created_at, s.revoked_at, CASE WHEN m.archived_at IS NULL THEN 0 ELSE 1 END AS matter_archived \
     FROM shares s JOIN matters m ON m.id = s.matter_id";

fn from_row(row: &AnyRow) -> Result<ShareRecord> {
    Ok(ShareRecord {
        id: col(row, "id")?,
        matter_id: col(row, "matter_id")?,
        recipient: col(row, "recipient")?,
        passcode_hash: col(row, "passcode_hash")?,
        expires_at: col(row, "expires_at")?,
        max_downloads: col(row, "max_downloads")?,
        created_by: col(row, "created_by")?,
        created_at: col(row, "created_at")?,
        revoked_at: col(row, "revoked_at")?,
        matter_archived: col::<i64>(row, "matter_archived")? != 0,
    })
}

pub async fn insert(conn: &mut AnyConnection, s: &NewShare<'_>) -> Result<()> {
    let r = s.record;
    sqlx::query(
        "INSERT INTO shares (id, matter_id, recipient, token_hash, passcode_hash, expires_at, max_downloads, \
         created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&r.id)
    .bind(&r.matter_id)
    .bind(&r.recipient)
    .bind(s.token_hash)
    .bind(&r.passcode_hash)
    .bind(r.expires_at)
    .bind(r.max_downloads)
    .bind(&r.created_by)
    .bind(r.created_at)
    .execute(&mut *conn)
    .await
    .map_err(StoreError::on_conflict)?;
    for doc in s.document_ids {
        sqlx::query("INSERT INTO share_documents (share_id, document_id) VALUES ($1, $2)")
            .bind(&r.id)
            .bind(doc)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::on_conflict)?;
    }
    Ok(())
}

pub async fn get<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, id: &str) -> Result<Option<ShareRecord>> {
    let row = sqlx::query(&format!("{SELECT} WHERE s.id = $1")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn by_token_hash<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    token_hash: &[u8],
) -> Result<Option<ShareRecord>> {
    let row = sqlx::query(&format!("{SELECT} WHERE s.token_hash = $1")).bind(token_hash).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E) -> Result<Vec<ShareRecord>> {
    let rows = sqlx::query(&format!("{SELECT} ORDER BY s.created_at DESC, s.id")).fetch_all(ex).await?;
    rows.iter().map(from_row).collect()
}

/// The ids of the documents a share carries, in the order they were added.
pub async fn document_ids<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, share_id: &str) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT sd.document_id FROM share_documents sd JOIN documents d ON d.id = sd.document_id \
         WHERE sd.share_id = $1 ORDER BY d.name, d.id",
    )
    .bind(share_id)
    .fetch_all(ex)
    .await?;
    rows.iter().map(|r| col(r, "document_id")).collect()
}

pub async fn revoke(conn: &mut AnyConnection, id: &str, now: i64) -> Result<bool> {
    let r = sqlx::query("UPDATE shares SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Counts one download of `document_id` if the share's limit allows it, in the caller's
/// transaction; false when the limit is reached. The share row is locked first (a no-op
/// update) so two concurrent downloads cannot both take the last one.
pub async fn take_download(
    conn: &mut AnyConnection,
    share_id: &str,
    d: &DownloadRecord,
    id: &str,
    limit: Option<i64>,
) -> Result<bool> {
    sqlx::query("UPDATE shares SET max_downloads = max_downloads WHERE id = $1")
        .bind(share_id)
        .execute(&mut *conn)
        .await?;
    if let Some(limit) = limit {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM share_downloads WHERE share_id = $1 AND document_id = $2")
            .bind(share_id)
            .bind(&d.document_id)
            .fetch_one(&mut *conn)
            .await?;
        if col::<i64>(&row, "n")? >= limit {
            return Ok(false);
        }
    }
    sqlx::query(
        "INSERT INTO share_downloads (id, share_id, document_id, at, ip, user_agent, watermarked) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(share_id)
    .bind(&d.document_id)
    .bind(d.at)
    .bind(&d.ip)
    .bind(&d.user_agent)
    .bind(i64::from(d.watermarked))
    .execute(conn)
    .await?;
    Ok(true)
}

pub async fn downloads<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    share_id: &str,
) -> Result<Vec<DownloadRecord>> {
    let rows = sqlx::query(
        "SELECT document_id, at, ip, user_agent, watermarked FROM share_downloads WHERE share_id = $1 ORDER BY at, id",
    )
    .bind(share_id)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DownloadRecord {
                document_id: col(r, "document_id")?,
                at: col(r, "at")?,
                ip: col(r, "ip")?,
                user_agent: col(r, "user_agent")?,
                watermarked: col::<i64>(r, "watermarked")? != 0,
            })
        })
        .collect()
}

/// Forgets the client address of share downloads older than `before`; returns how many.
pub async fn redact_download_addresses<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, before: i64) -> Result<u64> {
    let r =
        sqlx::query("UPDATE share_downloads SET ip = '' WHERE at < $1 AND ip <> ''").bind(before).execute(ex).await?;
    Ok(r.rows_affected())
}
