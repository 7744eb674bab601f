//! Portal rows.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Executor};

use crate::{Result, StoreError, col};

#[derive(Debug, Clone)]
pub struct PortalRecord {
    pub id: String,
    pub matter_id: Option<String>,
    pub matter_name: Option<String>,
    /// The matter is archived: its portals are closed.
    pub matter_archived: bool,
    pub label: String,
    pub passcode_hash: Option<String>,
    pub max_file_size: i64,
    pub expires_at: Option<i64>,
    pub enabled: bool,
    pub created_by: String,
    pub created_at: i64,
    pub deleted_at: Option<i64>,
    pub document_count: i64,
    pub last_upload_at: Option<i64>,
    /// Comma-separated type names; `None`: the firm's allowlist.
    pub allowed_types: Option<String>,
    /// `None`: the firm's default.
    pub dlp_action: Option<courier_core::DlpAction>,
    /// The portal's own retention (ms); `None`: its matter's, then the firm's.
    pub retention_ms: Option<i64>,
    pub matter_retention_ms: Option<i64>,
    /// Who is told about uploads (a user id), and whether they want to be.
    pub owner_id: Option<String>,
    pub owner_email: Option<String>,
    /// The client page's language; `None`: the client's browser decides.
    pub language: Option<courier_core::Language>,
    pub notify: bool,
}

pub struct NewPortal<'a> {
    pub id: &'a str,
    pub matter_id: Option<&'a str>,
    pub label: &'a str,
    pub token_hash: &'a [u8],
    pub passcode_hash: Option<&'a str>,
    pub max_file_size: i64,
    pub expires_at: Option<i64>,
    pub created_by: &'a str,
    pub created_at: i64,
    pub allowed_types: Option<&'a str>,
    pub dlp_action: Option<&'a str>,
    pub retention_ms: Option<i64>,
    pub owner_id: Option<&'a str>,
    pub notify: bool,
    pub language: Option<&'a str>,
}

const SELECT: &str = "SELECT p.id, p.matter_id, m.name AS matter_name, \
     CASE WHEN m.archived_at IS NULL THEN 0 ELSE 1 END AS matter_archived, p.label, p.passcode_hash, \
     p.max_file_size, p.expires_at, p.enabled, p.created_by, p.created_at, p.deleted_at, \
     p.allowed_types, p.dlp_action, p.retention_ms, m.retention_ms AS matter_retention_ms, \
     p.owner_id, (SELECT u.email FROM users u WHERE u.id = p.owner_id) AS owner_email, p.notify, p.language, \
     (SELECT COUNT(*) FROM documents d WHERE d.portal_id = p.id AND d.deleted_at IS NULL) AS document_count, \
     (SELECT MAX(d.uploaded_at) FROM documents d WHERE d.portal_id = p.id) AS last_upload_at \
     FROM portals p LEFT JOIN matters m ON m.id = p.matter_id";

fn from_row(row: &AnyRow) -> Result<PortalRecord> {
    Ok(PortalRecord {
        id: col(row, "id")?,
        matter_id: col(row, "matter_id")?,
        matter_name: col(row, "matter_name")?,
        matter_archived: col::<i64>(row, "matter_archived")? != 0,
        label: col(row, "label")?,
        passcode_hash: col(row, "passcode_hash")?,
        max_file_size: col(row, "max_file_size")?,
        expires_at: col(row, "expires_at")?,
        enabled: col::<i64>(row, "enabled")? != 0,
        created_by: col(row, "created_by")?,
        created_at: col(row, "created_at")?,
        deleted_at: col(row, "deleted_at")?,
        document_count: col(row, "document_count")?,
        last_upload_at: col(row, "last_upload_at")?,
        allowed_types: col(row, "allowed_types")?,
        dlp_action: crate::word_or_null(row, "dlp_action")?,
        retention_ms: col(row, "retention_ms")?,
        matter_retention_ms: col(row, "matter_retention_ms")?,
        owner_id: col(row, "owner_id")?,
        owner_email: col(row, "owner_email")?,
        notify: col::<i64>(row, "notify")? != 0,
        language: crate::word_or_null(row, "language")?,
    })
}

pub async fn insert(conn: &mut AnyConnection, p: &NewPortal<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO portals (id, matter_id, label, token_hash, passcode_hash, max_file_size, expires_at, \
         enabled, created_by, created_at, allowed_types, dlp_action, retention_ms, owner_id, notify, language) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(p.id)
    .bind(p.matter_id)
    .bind(p.label)
    .bind(p.token_hash)
    .bind(p.passcode_hash)
    .bind(p.max_file_size)
    .bind(p.expires_at)
    .bind(p.created_by)
    .bind(p.created_at)
    .bind(p.allowed_types)
    .bind(p.dlp_action)
    .bind(p.retention_ms)
    .bind(p.owner_id)
    .bind(i64::from(p.notify))
    .bind(p.language)
    .execute(conn)
    .await
    .map_err(StoreError::on_conflict)?;
    Ok(())
}

pub async fn get<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, id: &str) -> Result<Option<PortalRecord>> {
    let row =
        sqlx::query(&format!("{SELECT} WHERE p.id = $1 AND p.deleted_at IS NULL")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()
}

/// The matter of live portal `id` (`Some(None)`: in no matter), without the record's counts:
/// what a policy decision needs, read by the primary key alone.
pub async fn live_matter<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, id: &str) -> Result<Option<Option<String>>> {
    let row = sqlx::query("SELECT matter_id FROM portals WHERE id = $1 AND deleted_at IS NULL")
        .bind(id)
        .fetch_optional(ex)
        .await?;
    row.map(|r| col(&r, "matter_id")).transpose()
}

/// The live (not deleted) portal whose token hashes to `token_hash`, whatever its state.
pub async fn by_token_hash<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    token_hash: &[u8],
) -> Result<Option<PortalRecord>> {
    let row = sqlx::query(&format!("{SELECT} WHERE p.token_hash = $1 AND p.deleted_at IS NULL"))
        .bind(token_hash)
        .fetch_optional(ex)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Re-reads a live portal inside a write transaction, taking its row lock (the no-op update
/// locks the row on PostgreSQL; SQLite's transaction holds the write lock already), so a
/// concurrent delete or disable is ordered before or after the caller, never in between.
pub async fn lock_live(conn: &mut AnyConnection, id: &str) -> Result<Option<PortalRecord>> {
    let r = sqlx::query("UPDATE portals SET enabled = enabled WHERE id = $1 AND deleted_at IS NULL")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if r.rows_affected() == 0 {
        return Ok(None);
    }
    get(&mut *conn, id).await
}

pub async fn list<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E) -> Result<Vec<PortalRecord>> {
    let rows = sqlx::query(&format!("{SELECT} WHERE p.deleted_at IS NULL ORDER BY p.created_at DESC, p.id"))
        .fetch_all(ex)
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn set_enabled(conn: &mut AnyConnection, id: &str, enabled: bool) -> Result<bool> {
    let r = sqlx::query("UPDATE portals SET enabled = $1 WHERE id = $2 AND deleted_at IS NULL")
        .bind(i64::from(enabled))
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Sets (or, with `None`, clears) the portal's own retention.
pub async fn set_retention(conn: &mut AnyConnection, id: &str, retention_ms: Option<i64>) -> Result<bool> {
    let r = sqlx::query("UPDATE portals SET retention_ms = $1 WHERE id = $2 AND deleted_at IS NULL")
        .bind(retention_ms)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn set_token_hash(conn: &mut AnyConnection, id: &str, token_hash: &[u8]) -> Result<bool> {
    let r = sqlx::query("UPDATE portals SET token_hash = $1 WHERE id = $2 AND deleted_at IS NULL")
        .bind(token_hash)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn mark_deleted(conn: &mut AnyConnection, id: &str, now: i64) -> Result<bool> {
    let r = sqlx::query("UPDATE portals SET deleted_at = $1, enabled = 0 WHERE id = $2 AND deleted_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Portals that have expired and whose expiry is not yet in the audit trail.
pub async fn expired_unrecorded(conn: &mut AnyConnection, now: i64) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT id FROM portals WHERE deleted_at IS NULL AND expiry_recorded = 0 \
         AND expires_at IS NOT NULL AND expires_at <= $1 ORDER BY expires_at",
    )
    .bind(now)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| col(r, "id")).collect()
}

/// Claims the right to record one portal's expiry; false if another process did already.
pub async fn mark_expiry_recorded(conn: &mut AnyConnection, id: &str) -> Result<bool> {
    let r = sqlx::query("UPDATE portals SET expiry_recorded = 1 WHERE id = $1 AND expiry_recorded = 0")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Whether the portal's owner is told about its uploads; false if there is no live portal.
pub async fn set_notify(conn: &mut AnyConnection, id: &str, notify: bool) -> Result<bool> {
    let r = sqlx::query("UPDATE portals SET notify = $1 WHERE id = $2 AND deleted_at IS NULL")
        .bind(i64::from(notify))
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}
