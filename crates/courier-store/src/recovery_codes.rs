//! MFA recovery codes, stored hashed; each usable once.

use sqlx::{AnyConnection, Executor};

use crate::{Result, col};

/// Replaces a user's codes with new ones (the old ones stop working).
pub async fn replace(conn: &mut AnyConnection, user_id: &str, hashes: &[[u8; 32]], now: i64) -> Result<()> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    for hash in hashes {
        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)")
            .bind(user_id)
            .bind(&hash[..])
            .bind(now)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Uses up a code; false if it is not one of the user's unused codes. Single use under races.
pub async fn consume(conn: &mut AnyConnection, user_id: &str, hash: &[u8], now: i64) -> Result<bool> {
    let r =
        sqlx::query("UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL")
            .bind(now)
            .bind(user_id)
            .bind(hash)
            .execute(conn)
            .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn unused<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, user_id: &str) -> Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id)
        .fetch_one(ex)
        .await?;
    col(&row, "n")
}

pub async fn delete_all(conn: &mut AnyConnection, user_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(conn).await?;
    Ok(())
}
