//! WebAuthn passkeys and the state of ceremonies in progress.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Executor};

use crate::{Result, StoreError, col};

#[derive(Debug, Clone)]
pub struct PasskeyRecord {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub credential_id: Vec<u8>,
    pub passkey: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

fn from_row(r: &AnyRow) -> Result<PasskeyRecord> {
    Ok(PasskeyRecord {
        id: col(r, "id")?,
        user_id: col(r, "user_id")?,
        name: col(r, "name")?,
        credential_id: col(r, "credential_id")?,
        passkey: col(r, "passkey")?,
        created_at: col(r, "created_at")?,
        last_used_at: col(r, "last_used_at")?,
    })
}

const SELECT: &str = "SELECT id, user_id, name, credential_id, passkey, created_at, last_used_at FROM passkeys";

pub async fn insert(conn: &mut AnyConnection, p: &PasskeyRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO passkeys (id, user_id, name, credential_id, passkey, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&p.id)
    .bind(&p.user_id)
    .bind(&p.name)
    .bind(&p.credential_id)
    .bind(&p.passkey)
    .bind(p.created_at)
    .execute(conn)
    .await
    .map_err(StoreError::on_conflict)?;
    Ok(())
}

pub async fn for_user<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, user_id: &str) -> Result<Vec<PasskeyRecord>> {
    let rows =
        sqlx::query(&format!("{SELECT} WHERE user_id = $1 ORDER BY created_at")).bind(user_id).fetch_all(ex).await?;
    rows.iter().map(from_row).collect()
}

/// Stores the passkey's new state (its signature counter) after a use.
pub async fn record_use(conn: &mut AnyConnection, id: &str, passkey: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE passkeys SET passkey = $1, last_used_at = $2 WHERE id = $3")
        .bind(passkey)
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes one of a user's passkeys; false if it is not theirs.
pub async fn delete(conn: &mut AnyConnection, user_id: &str, id: &str) -> Result<Option<PasskeyRecord>> {
    let row = sqlx::query(&format!("{SELECT} WHERE id = $1 AND user_id = $2"))
        .bind(id)
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(record) = row.as_ref().map(from_row).transpose()? else {
        return Ok(None);
    };
    sqlx::query("DELETE FROM passkeys WHERE id = $1").bind(id).execute(conn).await?;
    Ok(Some(record))
}

pub async fn delete_all(conn: &mut AnyConnection, user_id: &str) -> Result<u64> {
    let r = sqlx::query("DELETE FROM passkeys WHERE user_id = $1").bind(user_id).execute(conn).await?;
    Ok(r.rows_affected())
}

/// Keeps a ceremony's state (replacing one of the same kind started by the same key).
pub async fn put_ceremony(
    conn: &mut AnyConnection,
    key_hash: &[u8],
    kind: &str,
    user_id: &str,
    state: &str,
    expires_at: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM webauthn_ceremonies WHERE key_hash = $1 AND kind = $2")
        .bind(key_hash)
        .bind(kind)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO webauthn_ceremonies (key_hash, kind, user_id, state, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(key_hash)
    .bind(kind)
    .bind(user_id)
    .bind(state)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes (and so uses up) a live ceremony: its user id and state.
pub async fn take_ceremony(
    conn: &mut AnyConnection,
    key_hash: &[u8],
    kind: &str,
    now: i64,
) -> Result<Option<(String, String)>> {
    let row =
        sqlx::query("SELECT user_id, state, expires_at FROM webauthn_ceremonies WHERE key_hash = $1 AND kind = $2")
            .bind(key_hash)
            .bind(kind)
            .fetch_optional(&mut *conn)
            .await?;
    sqlx::query("DELETE FROM webauthn_ceremonies WHERE key_hash = $1 AND kind = $2")
        .bind(key_hash)
        .bind(kind)
        .execute(conn)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    if col::<i64>(&row, "expires_at")? <= now {
        return Ok(None);
    }
    Ok(Some((col(&row, "user_id")?, col(&row, "state")?)))
}

pub async fn delete_expired_ceremonies<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, now: i64) -> Result<u64> {
    let r = sqlx::query("DELETE FROM webauthn_ceremonies WHERE expires_at <= $1").bind(now).execute(ex).await?;
    Ok(r.rows_affected())
}
