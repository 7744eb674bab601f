//! Audit rows. The chain logic (hashing, signing, verifying) lives in the service layer; this
//! module only reads and writes rows.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Executor};

use crate::{Backend, Result, col};

#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub ip: String,
    pub details: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
    /// The readable address of an event whose `ip` is a keyed hash, until upkeep purges it
    /// (`audit_addresses`; not part of the chain).
    pub address: Option<String>,
}

#[derive(Debug, Clone)]
pub struct HeadRecord {
    pub seq: i64,
    pub hash: Vec<u8>,
    pub at: i64,
    pub signature: Vec<u8>,
}

fn from_row(row: &AnyRow) -> Result<AuditRecord> {
    Ok(AuditRecord {
        seq: col(row, "seq")?,
        at: col(row, "at")?,
        actor: col(row, "actor")?,
        action: col(row, "action")?,
        target: col(row, "target")?,
        ip: col(row, "ip")?,
        details: col(row, "details")?,
        prev_hash: col(row, "prev_hash")?,
        hash: col(row, "hash")?,
        address: col(row, "address")?,
    })
}

/// Takes the chain's write lock for this transaction and returns the current head, if any:
/// the head row's lock on PostgreSQL (`FOR UPDATE`, no write), and on SQLite the write lock
/// the transaction took at `BEGIN IMMEDIATE`.
pub async fn lock_head(conn: &mut AnyConnection, backend: Backend) -> Result<Option<HeadRecord>> {
    match backend {
        Backend::Postgres => {
            let row = sqlx::query("SELECT seq, hash, at, signature FROM audit_head WHERE id = 1 FOR UPDATE")
                .fetch_optional(&mut *conn)
                .await?;
            row.as_ref().map(head_from_row).transpose()
        }
        Backend::Sqlite => head(conn).await,
    }
}

pub async fn head<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E) -> Result<Option<HeadRecord>> {
    let row = sqlx::query("SELECT seq, hash, at, signature FROM audit_head WHERE id = 1").fetch_optional(ex).await?;
    row.as_ref().map(head_from_row).transpose()
}

/// The number of event rows and the head row (if any), read by one statement and so at one
/// instant, which a verification beside appends needs: read apart, an append committing in
/// between would show as a row outside the chain or a head past its end.
pub async fn count_and_head<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E) -> Result<(i64, Option<HeadRecord>)> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM audit_events) AS n, h.seq, h.hash, h.at, h.signature \
         FROM (SELECT 1 AS one) AS one LEFT JOIN audit_head h ON h.id = 1",
    )
    .fetch_one(ex)
    .await?;
    let head = match col::<Option<i64>>(&row, "seq")? {
        Some(_) => Some(head_from_row(&row)?),
        None => None,
    };
    Ok((col(&row, "n")?, head))
}

fn head_from_row(r: &AnyRow) -> Result<HeadRecord> {
    Ok(HeadRecord { seq: col(r, "seq")?, hash: col(r, "hash")?, at: col(r, "at")?, signature: col(r, "signature")? })
}

pub async fn insert_event(conn: &mut AnyConnection, e: &AuditRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_events (seq, at, actor, action, target, ip, details, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(e.seq)
    .bind(e.at)
    .bind(&e.actor)
    .bind(&e.action)
    .bind(&e.target)
    .bind(&e.ip)
    .bind(&e.details)
    .bind(&e.prev_hash)
    .bind(&e.hash)
    .execute(conn)
    .await?;
    Ok(())
}

/// Keeps the readable address of event `seq`, whose chain field holds only its keyed hash.
pub async fn insert_address(conn: &mut AnyConnection, seq: i64, ip: &str, at: i64) -> Result<()> {
    sqlx::query("INSERT INTO audit_addresses (seq, ip, at) VALUES ($1, $2, $3)")
        .bind(seq)
        .bind(ip)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets the readable addresses of events older than `before`; returns how many.
pub async fn purge_addresses<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, before: i64) -> Result<u64> {
    let r = sqlx::query("DELETE FROM audit_addresses WHERE at < $1").bind(before).execute(ex).await?;
    Ok(r.rows_affected())
}

/// Moves the head (the row exists from the first migration on; a missing one is `Corrupt`).
pub async fn write_head(conn: &mut AnyConnection, h: &HeadRecord) -> Result<()> {
    let r = sqlx::query("UPDATE audit_head SET seq = $1, hash = $2, at = $3, signature = $4 WHERE id = 1")
        .bind(h.seq)
        .bind(&h.hash)
        .bind(h.at)
        .bind(&h.signature)
        .execute(conn)
        .await?;
    if r.rows_affected() != 1 {
        return Err(crate::StoreError::Corrupt("the audit head row is missing".into()));
    }
    Ok(())
}

/// A page of events in chain order, starting after `after_seq`.
pub async fn page<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    after_seq: i64,
    since_ms: i64,
    limit: i64,
) -> Result<Vec<AuditRecord>> {
    let rows = sqlx::query(
        "SELECT e.seq, e.at, e.actor, e.action, e.target, e.ip, e.details, e.prev_hash, e.hash, a.ip AS address \
         FROM audit_events e LEFT JOIN audit_addresses a ON a.seq = e.seq \
         WHERE e.seq > $1 AND e.at >= $2 ORDER BY e.seq LIMIT $3",
    )
    .bind(after_seq)
    .bind(since_ms)
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Whether the trail has any event (then its signing key must not be made anew).
pub async fn has_events<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E) -> Result<bool> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM audit_events").fetch_one(ex).await?;
    Ok(crate::col::<i64>(&row, "n")? > 0)
}

/// The hash of event `seq`, if there is one.
pub async fn event_hash(conn: &mut AnyConnection, seq: i64) -> Result<Option<Vec<u8>>> {
    let row = sqlx::query("SELECT hash FROM audit_events WHERE seq = $1").bind(seq).fetch_optional(conn).await?;
    row.map(|r| col(&r, "hash")).transpose()
}

/// The newest event with this action on this target.
pub async fn latest_event<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    target: &str,
    action: &str,
) -> Result<Option<AuditRecord>> {
    let row = sqlx::query(
        "SELECT e.seq, e.at, e.actor, e.action, e.target, e.ip, e.details, e.prev_hash, e.hash, CAST(NULL AS TEXT) AS address \
         FROM audit_events e WHERE e.target = $1 AND e.action = $2 ORDER BY e.seq DESC LIMIT 1",
    )
    .bind(target)
    .bind(action)
    .fetch_optional(ex)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The newest events with this action, newest first, with their readable address if kept.
pub async fn latest_with_action<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    action: &str,
    limit: i64,
) -> Result<Vec<AuditRecord>> {
    let rows = sqlx::query(
        "SELECT e.seq, e.at, e.actor, e.action, e.target, e.ip, e.details, e.prev_hash, e.hash, a.ip AS address \
         FROM audit_events e LEFT JOIN audit_addresses a ON a.seq = e.seq \
         WHERE e.action = $1 ORDER BY e.seq DESC LIMIT $2",
    )
    .bind(action)
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.iter().map(from_row).collect()
}
