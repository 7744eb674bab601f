//! Resumable uploads in progress (`tus_uploads`): how much arrived, how much of the sealed
//! file is committed, the pending segment sealed aside, and the receipt once finished.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Executor};

use crate::{Backend, Result, col};

#[derive(Debug, Clone)]
pub struct TusUpload {
    pub id: String,
    pub portal_id: String,
    pub name: String,
    pub length: i64,
    pub received: i64,
    pub sealed_len: i64,
    pub wrapped_dek: Vec<u8>,
    pub tail: Option<Vec<u8>>,
    pub created_at: i64,
    pub expires_at: i64,
    /// JSON, once the file became a document.
    pub receipt: Option<String>,
    /// Whether sealed segments past the committed length were ever cut off (see `mark_cut_back`).
    pub cut_back: bool,
}

pub struct NewTusUpload<'a> {
    pub id: &'a str,
    pub portal_id: &'a str,
    pub name: &'a str,
    pub length: i64,
    pub sealed_len: i64,
    pub wrapped_dek: &'a [u8],
    pub created_at: i64,
    pub expires_at: i64,
}

fn from_row(row: &AnyRow) -> Result<TusUpload> {
    Ok(TusUpload {
        id: col(row, "id")?,
        portal_id: col(row, "portal_id")?,
        name: col(row, "name")?,
        length: col(row, "length")?,
        received: col(row, "received")?,
        sealed_len: col(row, "sealed_len")?,
        wrapped_dek: col(row, "wrapped_dek")?,
        tail: col(row, "tail")?,
        created_at: col(row, "created_at")?,
        expires_at: col(row, "expires_at")?,
        receipt: col(row, "receipt")?,
        cut_back: col::<i64>(row, "cut_back")? != 0,
    })
}

pub async fn insert<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, u: &NewTusUpload<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO tus_uploads (id, portal_id, name, length, received, sealed_len, wrapped_dek, created_at, \
         expires_at) VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $8)",
    )
    .bind(u.id)
    .bind(u.portal_id)
    .bind(u.name)
    .bind(u.length)
    .bind(u.sealed_len)
    .bind(u.wrapped_dek)
    .bind(u.created_at)
    .bind(u.expires_at)
    .execute(ex)
    .await?;
    Ok(())
}

/// Inserts `u` unless its portal already has `cap` unfinished uploads that have not expired;
/// returns whether it did. Call inside a write transaction: the count and the insert are one
/// step (SQLite's write lock; on PostgreSQL the portal's row, locked here), so two requests
/// racing for the last place cannot both take it.
pub async fn insert_within_cap(
    conn: &mut AnyConnection,
    backend: Backend,
    u: &NewTusUpload<'_>,
    now: i64,
    cap: i64,
) -> Result<bool> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT id FROM portals WHERE id = $1 FOR UPDATE")
            .bind(u.portal_id)
            .fetch_optional(&mut *conn)
            .await?;
    }
    if unfinished(&mut *conn, u.portal_id, now).await? >= cap {
        return Ok(false);
    }
    insert(&mut *conn, u).await?;
    Ok(true)
}

/// The upload `id` of `portal_id`, if it has not expired.
pub async fn get<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    portal_id: &str,
    id: &str,
    now: i64,
) -> Result<Option<TusUpload>> {
    let row = sqlx::query("SELECT * FROM tus_uploads WHERE id = $1 AND portal_id = $2 AND expires_at > $3")
        .bind(id)
        .bind(portal_id)
        .bind(now)
        .fetch_optional(ex)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Records what one request added, if nobody else moved the upload since `from` bytes.
/// Returns whether it did.
#[allow(clippy::too_many_arguments)]
pub async fn advance(
    conn: &mut AnyConnection,
    id: &str,
    from: i64,
    received: i64,
    sealed_len: i64,
    tail: &[u8],
    expires_at: i64,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE tus_uploads SET received = $1, sealed_len = $2, tail = $3, expires_at = $4 \
         WHERE id = $5 AND received = $6 AND receipt IS NULL",
    )
    .bind(received)
    .bind(sealed_len)
    .bind(tail)
    .bind(expires_at)
    .bind(id)
    .bind(from)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Records, before they are cut off, that sealed segments past the committed length existed:
/// the next request reuses their segment nonces, so the file may no longer become a blob as it
/// is. Never cleared.
pub async fn mark_cut_back<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, id: &str) -> Result<()> {
    sqlx::query("UPDATE tus_uploads SET cut_back = 1 WHERE id = $1").bind(id).execute(ex).await?;
    Ok(())
}

/// The file became a document: keep only its receipt (the key and the tail go).
pub async fn finish(conn: &mut AnyConnection, id: &str, receipt: &str) -> Result<()> {
    sqlx::query("UPDATE tus_uploads SET receipt = $1, tail = NULL, wrapped_dek = $2 WHERE id = $3")
        .bind(receipt)
        .bind(Vec::<u8>::new())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether a row (finished or not, expired or not) has this id.
pub async fn exists<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, id: &str) -> Result<bool> {
    let row = sqlx::query("SELECT 1 AS one FROM tus_uploads WHERE id = $1").bind(id).fetch_optional(ex).await?;
    Ok(row.is_some())
}

pub async fn delete<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, id: &str) -> Result<bool> {
    let r = sqlx::query("DELETE FROM tus_uploads WHERE id = $1").bind(id).execute(ex).await?;
    Ok(r.rows_affected() == 1)
}

/// Uploads of a portal still receiving bytes, not expired. A complete upload waiting for
/// its checks does not count: a scanner that is down must not close the link.
pub async fn unfinished<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, portal_id: &str, now: i64) -> Result<i64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM tus_uploads WHERE portal_id = $1 AND receipt IS NULL AND received < length \
         AND expires_at > $2",
    )
    .bind(portal_id)
    .bind(now)
    .fetch_one(ex)
    .await?;
    col(&row, "n")
}

/// Ids of uploads expired by `now` (finished or not), at most `limit`.
pub async fn expired<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, now: i64, limit: i64) -> Result<Vec<String>> {
    let rows = sqlx::query("SELECT id FROM tus_uploads WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2")
        .bind(now)
        .bind(limit)
        .fetch_all(ex)
        .await?;
    rows.iter().map(|r| col(r, "id")).collect()
}
