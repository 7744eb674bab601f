//! Personal API tokens, stored as the SHA-256 of the token.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Executor};

use crate::{Result, StoreError, col};

#[derive(Debug, Clone)]
pub struct ApiTokenRecord {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub token_hash: Vec<u8>,
    pub scopes: String,
    pub created_at: i64,
    pub created_by: String,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

fn from_row(r: &AnyRow) -> Result<ApiTokenRecord> {
    Ok(ApiTokenRecord {
        id: col(r, "id")?,
        user_id: col(r, "user_id")?,
        name: col(r, "name")?,
        token_hash: col(r, "token_hash")?,
        scopes: col(r, "scopes")?,
        created_at: col(r, "created_at")?,
        created_by: col(r, "created_by")?,
        expires_at: col(r, "expires_at")?,
        last_used_at: col(r, "last_used_at")?,
        revoked_at: col(r, "revoked_at")?,
    })
}

const SELECT: &str = "SELECT id, user_id, name, token_hash, scopes, created_at, created_by, expires_at, \
     last_used_at, revoked_at FROM api_tokens";

pub async fn insert(conn: &mut AnyConnection, t: &ApiTokenRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO api_tokens (id, user_id, name, token_hash, scopes, created_at, created_by, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&t.id)
    .bind(&t.user_id)
    .bind(&t.name)
    .bind(&t.token_hash)
    .bind(&t.scopes)
    .bind(t.created_at)
    .bind(&t.created_by)
    .bind(t.expires_at)
    .execute(conn)
    .await
    .map_err(StoreError::on_conflict)?;
    Ok(())
}

/// What an API request's decisions need of a token's owner.
#[derive(Debug, Clone)]
pub struct TokenOwner {
    pub role: courier_core::Role,
    pub department: String,
    pub disabled: bool,
}

/// The token with this hash and its owner (`None` if the account row is gone), in one round
/// trip: every API request starts here.
pub async fn by_hash_with_owner<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    hash: &[u8],
) -> Result<Option<(ApiTokenRecord, Option<TokenOwner>)>> {
    let row = sqlx::query(
        "SELECT t.id, t.user_id, t.name, t.token_hash, t.scopes, t.created_at, t.created_by, t.expires_at, \
         t.last_used_at, t.revoked_at, u.role AS owner_role, u.department AS owner_department, \
         u.disabled AS owner_disabled FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1",
    )
    .bind(hash)
    .fetch_optional(ex)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let owner = match crate::word_or_null(&row, "owner_role")? {
        Some(role) => Some(TokenOwner {
            role,
            department: col(&row, "owner_department")?,
            disabled: col::<i64>(&row, "owner_disabled")? != 0,
        }),
        None => None,
    };
    Ok(Some((from_row(&row)?, owner)))
}

pub async fn by_id<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, id: &str) -> Result<Option<ApiTokenRecord>> {
    let row = sqlx::query(&format!("{SELECT} WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()
}

/// A user's tokens (all users' with `None`), newest first.
pub async fn list<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    user_id: Option<&str>,
) -> Result<Vec<ApiTokenRecord>> {
    let rows = match user_id {
        Some(u) => {
            sqlx::query(&format!("{SELECT} WHERE user_id = $1 ORDER BY created_at DESC")).bind(u).fetch_all(ex).await?
        }
        None => sqlx::query(&format!("{SELECT} ORDER BY created_at DESC")).fetch_all(ex).await?,
    };
    rows.iter().map(from_row).collect()
}

pub async fn touch<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2").bind(now).bind(id).execute(ex).await?;
    Ok(())
}

/// Revokes a token; false if it was revoked already (or does not exist).
pub async fn revoke(conn: &mut AnyConnection, id: &str, now: i64) -> Result<bool> {
    let r = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Revokes every live token of `user_id` (account recovery), or of everyone with `None`
/// (incident response); how many were live.
pub async fn revoke_all(conn: &mut AnyConnection, user_id: Option<&str>, now: i64) -> Result<u64> {
    let r = match user_id {
        Some(user) => {
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(user)
                .execute(conn)
                .await?
        }
        None => {
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE revoked_at IS NULL")
                .bind(now)
                .execute(conn)
                .await?
        }
    };
    Ok(r.rows_affected())
}
