//! Leases in the database, so that one instance of a cluster runs a piece of background work
//! at a time.

use sqlx::Executor;

use crate::Result;

/// Takes or renews the lease `name` for `holder` until `until_ms`. Succeeds when the lease is
/// free, expired (`expires_at < now_ms`) or already held by `holder`; one statement, so two
/// instances racing cannot both win.
pub async fn try_acquire<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    name: &str,
    holder: &str,
    now_ms: i64,
    until_ms: i64,
) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
         WHERE leases.holder = excluded.holder OR leases.expires_at < $4",
    )
    .bind(name)
    .bind(holder)
    .bind(until_ms)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(r.rows_affected() == 1)
}
