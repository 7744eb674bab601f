//! Invitation links: single use, expiring, stored as the hash of their token.

use sqlx::{AnyConnection, Executor};

use crate::{Result, col};

/// Issues a link for `user_id`, revoking any earlier one (the newest link is the only one).
pub async fn insert(
    conn: &mut AnyConnection,
    token_hash: &[u8],
    user_id: &str,
    created_by: &str,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM invitations WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO invitations (token_hash, user_id, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(created_by)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The invited user's id, if the link is live (unused, unexpired).
pub async fn live<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    token_hash: &[u8],
    now: i64,
) -> Result<Option<String>> {
    let row =
        sqlx::query("SELECT user_id FROM invitations WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2")
            .bind(token_hash)
            .bind(now)
            .fetch_optional(ex)
            .await?;
    row.map(|r| col(&r, "user_id")).transpose()
}

/// Uses up a link; the invited user's id, or `None` if it was not live. Single use under races.
pub async fn consume(conn: &mut AnyConnection, token_hash: &[u8], now: i64) -> Result<Option<String>> {
    let user = live(&mut *conn, token_hash, now).await?;
    let r = sqlx::query(
        "UPDATE invitations SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(token_hash)
    .execute(conn)
    .await?;
    Ok(user.filter(|_| r.rows_affected() == 1))
}

/// When the newest unused link of a user runs out, if there is one.
pub async fn pending_until<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, user_id: &str) -> Result<Option<i64>> {
    let row = sqlx::query("SELECT MAX(expires_at) AS t FROM invitations WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id)
        .fetch_one(ex)
        .await?;
    col(&row, "t")
}
