//! Sign-in failures and account locks.

use sqlx::{AnyConnection, Executor};

use crate::{Result, col};

pub async fn record_failure<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, key: &str, at: i64) -> Result<()> {
    sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)").bind(key).bind(at).execute(ex).await?;
    Ok(())
}

/// Failures recorded under `key` since `since`.
pub async fn failures_since<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, key: &str, since: i64) -> Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM login_failures WHERE key = $1 AND at >= $2")
        .bind(key)
        .bind(since)
        .fetch_one(ex)
        .await?;
    col(&row, "n")
}

pub async fn clear_failures<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, key: &str) -> Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE key = $1").bind(key).execute(ex).await?;
    Ok(())
}

/// Upkeep: failures older than `before` no longer count, and locks that ran out by `now`
/// (also those of unknown e-mails an attacker typed) are gone.
pub async fn prune(conn: &mut AnyConnection, before: i64, now: i64) -> Result<u64> {
    let r = sqlx::query("DELETE FROM login_failures WHERE at < $1").bind(before).execute(&mut *conn).await?;
    sqlx::query("DELETE FROM login_locks WHERE locked_until <= $1").bind(now).execute(conn).await?;
    Ok(r.rows_affected())
}

/// Locks `key` until `until` unless a lock is in force at `now`; true if this call took it.
/// One statement, so that of racing callers (PostgreSQL runs them at once) exactly one wins.
pub async fn lock_if_unlocked(conn: &mut AnyConnection, key: &str, until: i64, now: i64) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO login_locks (email, locked_until) VALUES ($1, $2) \
         ON CONFLICT (email) DO UPDATE SET locked_until = excluded.locked_until \
         WHERE login_locks.locked_until <= $3",
    )
    .bind(key)
    .bind(until)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Until when `email` is locked, if it is locked at `now`.
pub async fn locked_until<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    email: &str,
    now: i64,
) -> Result<Option<i64>> {
    let row = sqlx::query("SELECT locked_until FROM login_locks WHERE email = $1 AND locked_until > $2")
        .bind(email)
        .bind(now)
        .fetch_optional(ex)
        .await?;
    row.map(|r| col(&r, "locked_until")).transpose()
}

/// Lifts an account's lock; true if there was one in force.
pub async fn unlock(conn: &mut AnyConnection, email: &str, now: i64) -> Result<bool> {
    lift(conn, email, &format!("email:{email}"), now).await
}

/// Lifts the lock of a link's passcode (its lock and failure keys are the same).
pub async fn unlock_key(conn: &mut AnyConnection, key: &str, now: i64) -> Result<bool> {
    lift(conn, key, key, now).await
}

/// Deletes the lock under `lock_key` and the failures under `failures_key`; true if a lock
/// was in force.
async fn lift(conn: &mut AnyConnection, lock_key: &str, failures_key: &str, now: i64) -> Result<bool> {
    let r = sqlx::query("DELETE FROM login_locks WHERE email = $1 AND locked_until > $2")
        .bind(lock_key)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM login_failures WHERE key = $1").bind(failures_key).execute(conn).await?;
    Ok(r.rows_affected() > 0)
}

/// Takes back one failure counted under `key` in advance (an attempt that turned out right),
/// leaving the others: the newest row, by the backend's own row identity.
pub async fn forgive_one(conn: &mut AnyConnection, key: &str, backend: crate::Backend) -> Result<()> {
    let sql = match backend {
        crate::Backend::Sqlite => {
            "DELETE FROM login_failures WHERE rowid = \
             (SELECT rowid FROM login_failures WHERE key = $1 ORDER BY at DESC LIMIT 1)"
        }
        crate::Backend::Postgres => {
            "DELETE FROM login_failures WHERE ctid = \
             (SELECT ctid FROM login_failures WHERE key = $1 ORDER BY at DESC LIMIT 1)"
        }
    };
    sqlx::query(sql).bind(key).execute(conn).await?;
    Ok(())
}
