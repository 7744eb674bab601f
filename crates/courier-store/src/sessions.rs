//! Staff sessions, stored under the SHA-256 of their id.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Executor};

use crate::{Result, col};

#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id_hash: Vec<u8>,
    pub user_id: String,
    /// `mfa` (password given), `enrol` (must enrol an authenticator) or `full`.
    pub stage: courier_core::SessionStage,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen: i64,
    /// The second factor that made the session full (`totp`, `recovery_code`).
    pub mfa: String,
    pub ip: String,
    pub user_agent: String,
    pub notice: String,
}

fn from_row(r: &AnyRow) -> Result<SessionRecord> {
    Ok(SessionRecord {
        id_hash: col(r, "id_hash")?,
        user_id: col(r, "user_id")?,
        stage: crate::word(r, "stage")?,
        csrf_token: col(r, "csrf_token")?,
        created_at: col(r, "created_at")?,
        last_seen: col(r, "last_seen")?,
        mfa: col(r, "mfa")?,
        ip: col(r, "ip")?,
        user_agent: col(r, "user_agent")?,
        notice: col(r, "notice")?,
    })
}

const SELECT: &str =
    "SELECT id_hash, user_id, stage, csrf_token, created_at, last_seen, mfa, ip, user_agent, notice FROM sessions";

pub async fn insert(conn: &mut AnyConnection, s: &SessionRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, stage, csrf_token, created_at, last_seen, mfa, ip, user_agent, \
         notice) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&s.id_hash)
    .bind(&s.user_id)
    .bind(s.stage.as_str())
    .bind(&s.csrf_token)
    .bind(s.created_at)
    .bind(s.last_seen)
    .bind(&s.mfa)
    .bind(&s.ip)
    .bind(&s.user_agent)
    .bind(&s.notice)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, id_hash: &[u8]) -> Result<Option<SessionRecord>> {
    let row = sqlx::query(&format!("{SELECT} WHERE id_hash = $1")).bind(id_hash).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()
}

/// A user's sessions, newest first.
pub async fn for_user<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, user_id: &str) -> Result<Vec<SessionRecord>> {
    let rows = sqlx::query(&format!("{SELECT} WHERE user_id = $1 ORDER BY created_at DESC"))
        .bind(user_id)
        .fetch_all(ex)
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn touch<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, id_hash: &[u8], now: i64) -> Result<()> {
    sqlx::query("UPDATE sessions SET last_seen = $1 WHERE id_hash = $2").bind(now).bind(id_hash).execute(ex).await?;
    Ok(())
}

/// Clears the one-time notice; true if this call cleared it (so it is shown once).
pub async fn take_notice<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, id_hash: &[u8]) -> Result<bool> {
    let r = sqlx::query("UPDATE sessions SET notice = '' WHERE id_hash = $1 AND notice <> ''")
        .bind(id_hash)
        .execute(ex)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn delete<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, id_hash: &[u8]) -> Result<bool> {
    let r = sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(ex).await?;
    Ok(r.rows_affected() == 1)
}

/// Ends one of a user's sessions, named by its hash; false if it is not theirs.
pub async fn delete_of_user(conn: &mut AnyConnection, user_id: &str, id_hash: &[u8]) -> Result<bool> {
    let r = sqlx::query("DELETE FROM sessions WHERE id_hash = $1 AND user_id = $2")
        .bind(id_hash)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Ends every session of every user.
pub async fn delete_all(conn: &mut AnyConnection) -> Result<u64> {
    let r = sqlx::query("DELETE FROM sessions").execute(conn).await?;
    Ok(r.rows_affected())
}

/// Ends all of a user's sessions (account changes, an admin ending them).
pub async fn delete_for_user(conn: &mut AnyConnection, user_id: &str) -> Result<u64> {
    let r = sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(conn).await?;
    Ok(r.rows_affected())
}

/// Ends a user's full sessions except `keep` (single session; password change). Sessions still
/// at the password step are left alone: they are not signed in, and ending them would let a
/// half-finished sign-in end the real one.
pub async fn delete_others(conn: &mut AnyConnection, user_id: &str, keep: &[u8]) -> Result<u64> {
    let r = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2 AND stage = 'full'")
        .bind(user_id)
        .bind(keep)
        .execute(conn)
        .await?;
    Ok(r.rows_affected())
}

pub async fn delete_stale<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    idle_before: i64,
    created_before: i64,
) -> Result<u64> {
    let r = sqlx::query("DELETE FROM sessions WHERE last_seen < $1 OR created_at < $2")
        .bind(idle_before)
        .bind(created_before)
        .execute(ex)
        .await?;
    Ok(r.rows_affected())
}
