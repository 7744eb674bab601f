//! Legal holds: kept for ever, released rather than deleted. A hold names a matter (and then
//! covers every document of it, also those uploaded later) or one document.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Executor};

use crate::{Backend, Result, col};

#[derive(Debug, Clone)]
pub struct HoldRecord {
    pub id: String,
    pub matter_id: Option<String>,
    pub document_id: Option<String>,
    pub reason: String,
    pub placed_by: String,
    pub placed_at: i64,
    pub released_by: Option<String>,
    pub released_at: Option<i64>,
    pub release_reason: Option<String>,
}

const SELECT: &str = "SELECT id, matter_id, document_id, reason, placed_by, placed_at, released_by, released_at, \
     release_reason FROM legal_holds";

fn from_row(row: &AnyRow) -> Result<HoldRecord> {
    Ok(HoldRecord {
        id: col(row, "id")?,
        matter_id: col(row, "matter_id")?,
        document_id: col(row, "document_id")?,
        reason: col(row, "reason")?,
        placed_by: col(row, "placed_by")?,
        placed_at: col(row, "placed_at")?,
        released_by: col(row, "released_by")?,
        released_at: col(row, "released_at")?,
        release_reason: col(row, "release_reason")?,
    })
}

pub async fn insert(conn: &mut AnyConnection, h: &HoldRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO legal_holds (id, matter_id, document_id, reason, placed_by, placed_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&h.id)
    .bind(&h.matter_id)
    .bind(&h.document_id)
    .bind(&h.reason)
    .bind(&h.placed_by)
    .bind(h.placed_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Releases an active hold; false if there is none with that id (or it was released already).
pub async fn release(conn: &mut AnyConnection, id: &str, by: &str, at: i64, reason: &str) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE legal_holds SET released_by = $1, released_at = $2, release_reason = $3 \
         WHERE id = $4 AND released_at IS NULL",
    )
    .bind(by)
    .bind(at)
    .bind(reason)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn get<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, id: &str) -> Result<Option<HoldRecord>> {
    let row = sqlx::query(&format!("{SELECT} WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()
}

/// Every hold, newest first; released ones too when asked.
pub async fn list<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, include_released: bool) -> Result<Vec<HoldRecord>> {
    let filter = if include_released { "" } else { " WHERE released_at IS NULL" };
    let rows = sqlx::query(&format!("{SELECT}{filter} ORDER BY placed_at DESC, id")).fetch_all(ex).await?;
    rows.iter().map(from_row).collect()
}

/// The active holds that keep a document: its own and its matter's, oldest first.
pub async fn active_on<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    document_id: &str,
    matter_id: Option<&str>,
) -> Result<Vec<HoldRecord>> {
    let rows = sqlx::query(&format!(
        "{SELECT} WHERE released_at IS NULL AND (document_id = $1 OR matter_id = $2) ORDER BY placed_at, id"
    ))
    .bind(document_id)
    .bind(matter_id)
    .fetch_all(ex)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Locks the row a new hold is about (the matter, or the document) until the transaction
/// ends, so that a shredding that locked it first finishes before the hold is placed, and
/// one that comes later sees the hold. SQLite's write transaction is the lock there.
pub async fn lock_subject(
    conn: &mut AnyConnection,
    backend: Backend,
    matter_id: Option<&str>,
    document_id: Option<&str>,
) -> Result<()> {
    if backend != Backend::Postgres {
        return Ok(());
    }
    if let Some(m) = matter_id {
        sqlx::query("SELECT id FROM matters WHERE id = $1 FOR UPDATE").bind(m).fetch_optional(&mut *conn).await?;
    }
    if let Some(d) = document_id {
        sqlx::query("SELECT id FROM documents WHERE id = $1 FOR UPDATE").bind(d).fetch_optional(&mut *conn).await?;
    }
    Ok(())
}
