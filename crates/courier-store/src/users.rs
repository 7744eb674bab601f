//! Staff accounts, their sessions and the one-time setup links.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Executor};

use crate::{Result, StoreError, col};

#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: String,
    pub email: String,
    pub role: String,
    pub password_hash: String,
    pub totp_sealed: Vec<u8>,
    pub totp_last_step: i64,
    pub disabled: bool,
    /// Used by attribute-based policies (a department's matters for that department).
    pub department: String,
    pub last_login_at: Option<i64>,
}

fn user_from_row(row: &AnyRow) -> Result<UserRecord> {
    Ok(UserRecord {
        id: col(row, "id")?,
        email: col(row, "email")?,
        role: col(row, "role")?,
        password_hash: col(row, "password_hash")?,
        totp_sealed: col(row, "totp_sealed")?,
        totp_last_step: col(row, "totp_last_step")?,
        disabled: col::<i64>(row, "disabled")? != 0,
        department: col(row, "department")?,
        last_login_at: col(row, "last_login_at")?,
    })
}

const SELECT_USER: &str = "SELECT id, email, role, password_hash, totp_sealed, totp_last_step, disabled, \
     department, last_login_at FROM users";

pub async fn insert(conn: &mut AnyConnection, u: &UserRecord, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO users (id, email, role, password_hash, totp_sealed, totp_last_step, disabled, created_at, \
         department) VALUES ($1, $2, $3, $4, $5, 0, 0, $6, $7)",
    )
    .bind(&u.id)
    .bind(&u.email)
    .bind(&u.role)
    .bind(&u.password_hash)
    .bind(&u.totp_sealed)
    .bind(now)
    .bind(&u.department)
    .execute(conn)
    .await
    .map_err(StoreError::on_conflict)?;
    Ok(())
}

pub async fn by_email<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, email: &str) -> Result<Option<UserRecord>> {
    let row = sqlx::query(&format!("{SELECT_USER} WHERE email = $1")).bind(email).fetch_optional(ex).await?;
    row.as_ref().map(user_from_row).transpose()
}

pub async fn by_id<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, id: &str) -> Result<Option<UserRecord>> {
    let row = sqlx::query(&format!("{SELECT_USER} WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(user_from_row).transpose()
}

pub async fn list<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E) -> Result<Vec<UserRecord>> {
    let rows = sqlx::query(&format!("{SELECT_USER} ORDER BY email")).fetch_all(ex).await?;
    rows.iter().map(user_from_row).collect()
}

pub async fn set_last_login<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2").bind(now).bind(id).execute(ex).await?;
    Ok(())
}

pub async fn count_admins<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E) -> Result<i64> {
    let row =
        sqlx::query("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled = 0").fetch_one(ex).await?;
    col(&row, "n")
}

/// Records a used TOTP time step; false if that step (or a later one) was used already, which
/// makes each code single-use even when two logins race.
pub async fn advance_totp_step(conn: &mut AnyConnection, id: &str, step: i64) -> Result<bool> {
    let r = sqlx::query("UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1")
        .bind(step)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub user_id: String,
    pub stage: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen: i64,
}

pub async fn insert_session(
    conn: &mut AnyConnection,
    id_hash: &[u8],
    user_id: &str,
    stage: &str,
    csrf_token: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, stage, csrf_token, created_at, last_seen) VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(id_hash)
    .bind(user_id)
    .bind(stage)
    .bind(csrf_token)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn session<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    id_hash: &[u8],
) -> Result<Option<SessionRecord>> {
    let row = sqlx::query("SELECT user_id, stage, csrf_token, created_at, last_seen FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .fetch_optional(ex)
        .await?;
    row.map(|r| {
        Ok(SessionRecord {
            user_id: col(&r, "user_id")?,
            stage: col(&r, "stage")?,
            csrf_token: col(&r, "csrf_token")?,
            created_at: col(&r, "created_at")?,
            last_seen: col(&r, "last_seen")?,
        })
    })
    .transpose()
}

pub async fn touch_session<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, id_hash: &[u8], now: i64) -> Result<()> {
    sqlx::query("UPDATE sessions SET last_seen = $1 WHERE id_hash = $2").bind(now).bind(id_hash).execute(ex).await?;
    Ok(())
}

pub async fn delete_session<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, id_hash: &[u8]) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(ex).await?;
    Ok(())
}

/// Ends all of a user's sessions (single-session policy, logout everywhere).
pub async fn delete_user_sessions(conn: &mut AnyConnection, user_id: &str) -> Result<u64> {
    let r = sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(conn).await?;
    Ok(r.rows_affected())
}

pub async fn delete_stale_sessions<'c, E: Executor<'c, Database = sqlx::Any>>(
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

pub async fn insert_setup_token(conn: &mut AnyConnection, token_hash: &[u8], expires_at: i64) -> Result<()> {
    sqlx::query("INSERT INTO setup_tokens (token_hash, expires_at) VALUES ($1, $2)")
        .bind(token_hash)
        .bind(expires_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether a setup token is live (unused, unexpired).
pub async fn setup_token_valid<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    token_hash: &[u8],
    now: i64,
) -> Result<bool> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM setup_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_one(ex)
    .await?;
    Ok(col::<i64>(&row, "n")? == 1)
}

/// Uses up a setup token; false if it was not live. Single use even under races.
pub async fn consume_setup_token(conn: &mut AnyConnection, token_hash: &[u8], now: i64) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE setup_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(token_hash)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// A page of (user id, sealed TOTP seed), ordered by id, after `after_id`.
pub async fn sealed_secrets_page<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    after_id: &str,
    limit: i64,
) -> Result<Vec<(String, Vec<u8>)>> {
    let rows = sqlx::query("SELECT id, totp_sealed FROM users WHERE id > $1 ORDER BY id LIMIT $2")
        .bind(after_id)
        .bind(limit)
        .fetch_all(ex)
        .await?;
    rows.iter().map(|r| Ok((col(r, "id")?, col(r, "totp_sealed")?))).collect()
}

/// Replaces a sealed TOTP seed only if it is still `old`.
pub async fn replace_sealed_secret(conn: &mut AnyConnection, id: &str, old: &[u8], new: &[u8]) -> Result<bool> {
    let r = sqlx::query("UPDATE users SET totp_sealed = $1 WHERE id = $2 AND totp_sealed = $3")
        .bind(new)
        .bind(id)
        .bind(old)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn set_department(conn: &mut AnyConnection, id: &str, department: &str) -> Result<bool> {
    let r =
        sqlx::query("UPDATE users SET department = $1 WHERE id = $2").bind(department).bind(id).execute(conn).await?;
    Ok(r.rows_affected() == 1)
}
