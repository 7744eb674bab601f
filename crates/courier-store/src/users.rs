//! Staff accounts and the one-time setup links.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Executor};

use crate::{Result, StoreError, col};

#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: String,
    pub email: String,
    pub role: courier_core::Role,
    pub password_hash: String,
    pub totp_sealed: Vec<u8>,
    pub totp_last_step: i64,
    pub disabled: bool,
    /// Used by attribute-based policies (a department's matters for that department).
    pub department: String,
    pub last_login_at: Option<i64>,
    /// False until the user has enrolled an authenticator (invited, or after an MFA reset).
    pub mfa_enrolled: bool,
    /// The language chosen for the staff pages; `None`: the browser's decides.
    pub language: Option<courier_core::Language>,
}

impl UserRecord {
    /// Invited and not yet accepted: no password has been set.
    pub fn invited(&self) -> bool {
        self.password_hash.is_empty()
    }
}

fn user_from_row(row: &AnyRow) -> Result<UserRecord> {
    Ok(UserRecord {
        id: col(row, "id")?,
        email: col(row, "email")?,
        role: crate::word(row, "role")?,
        password_hash: col(row, "password_hash")?,
        totp_sealed: col(row, "totp_sealed")?,
        totp_last_step: col(row, "totp_last_step")?,
        disabled: col::<i64>(row, "disabled")? != 0,
        department: col(row, "department")?,
        last_login_at: col(row, "last_login_at")?,
        mfa_enrolled: col::<i64>(row, "mfa_enrolled")? != 0,
        // A preference, not a fact: a value this version does not know is no choice at all,
        // never a reason to refuse the account.
        language: col::<Option<String>>(row, "language")?.and_then(|l| l.parse().ok()),
    })
}

const SELECT_USER: &str = "SELECT id, email, role, password_hash, totp_sealed, totp_last_step, disabled, \
     department, last_login_at, mfa_enrolled, CAST(language AS TEXT) AS language FROM users";

pub async fn insert(conn: &mut AnyConnection, u: &UserRecord, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO users (id, email, role, password_hash, totp_sealed, totp_last_step, disabled, created_at, \
         department, mfa_enrolled) VALUES ($1, $2, $3, $4, $5, 0, 0, $6, $7, $8)",
    )
    .bind(&u.id)
    .bind(&u.email)
    .bind(u.role.as_str())
    .bind(&u.password_hash)
    .bind(&u.totp_sealed)
    .bind(now)
    .bind(&u.department)
    .bind(i64::from(u.mfa_enrolled))
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

pub async fn insert_setup_token(conn: &mut AnyConnection, token_hash: &[u8], expires_at: i64) -> Result<()> {
    sqlx::query("INSERT INTO setup_tokens (token_hash, expires_at) VALUES ($1, $2)")
        .bind(token_hash)
        .bind(expires_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether any administrator account exists, enabled, disabled or still invited.
pub async fn any_admin<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E) -> Result<bool> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE role = 'admin'").fetch_one(ex).await?;
    Ok(col::<i64>(&row, "n")? > 0)
}

/// Revokes every setup token not used yet (an administrator exists now); how many.
pub async fn revoke_setup_tokens(conn: &mut AnyConnection, now: i64) -> Result<u64> {
    let r = sqlx::query("UPDATE setup_tokens SET used_at = $1 WHERE used_at IS NULL").bind(now).execute(conn).await?;
    Ok(r.rows_affected())
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

pub async fn set_language(
    conn: &mut AnyConnection,
    id: &str,
    language: Option<courier_core::Language>,
) -> Result<bool> {
    let r = sqlx::query("UPDATE users SET language = $1 WHERE id = $2")
        .bind(language.map(|l| l.as_str()))
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn set_role(conn: &mut AnyConnection, id: &str, role: courier_core::Role) -> Result<bool> {
    let r = sqlx::query("UPDATE users SET role = $1 WHERE id = $2").bind(role.as_str()).bind(id).execute(conn).await?;
    Ok(r.rows_affected() == 1)
}

pub async fn set_disabled(conn: &mut AnyConnection, id: &str, disabled: bool) -> Result<bool> {
    let r = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
        .bind(i64::from(disabled))
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn set_password(conn: &mut AnyConnection, id: &str, password_hash: &str) -> Result<bool> {
    let r = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Marks the authenticator as not enrolled (MFA reset): the next sign-in must enrol again.
pub async fn clear_mfa(conn: &mut AnyConnection, id: &str) -> Result<bool> {
    let r = sqlx::query("UPDATE users SET mfa_enrolled = 0 WHERE id = $1").bind(id).execute(conn).await?;
    Ok(r.rows_affected() == 1)
}

/// Stores the authenticator secret offered at enrolment; only while not enrolled, so an
/// enrolled secret is never replaced this way.
pub async fn offer_totp(conn: &mut AnyConnection, id: &str, sealed: &[u8]) -> Result<bool> {
    let r = sqlx::query("UPDATE users SET totp_sealed = $1, totp_last_step = 0 WHERE id = $2 AND mfa_enrolled = 0")
        .bind(sealed)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Completes enrolment with the offered secret, if it is still the one the code matched.
pub async fn confirm_totp(conn: &mut AnyConnection, id: &str, sealed: &[u8]) -> Result<bool> {
    let r = sqlx::query("UPDATE users SET mfa_enrolled = 1 WHERE id = $1 AND mfa_enrolled = 0 AND totp_sealed = $2")
        .bind(id)
        .bind(sealed)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// On PostgreSQL, locks the rows of the enabled admins until the transaction ends, so two
/// concurrent changes cannot both remove "the other" last admin. SQLite has one writer at a
/// time, which gives the same guarantee.
pub async fn lock_admins(conn: &mut AnyConnection, backend: crate::Backend) -> Result<()> {
    if backend == crate::Backend::Postgres {
        sqlx::query("SELECT id FROM users WHERE role = 'admin' AND disabled = 0 FOR UPDATE").fetch_all(conn).await?;
    }
    Ok(())
}
