//! A backend-neutral copy of the metadata, for backups: every kept table as a shape (columns
//! and their kind) and rows of JSON values (bytes as hex), read in one snapshot and written
//! back in one transaction, on SQLite or PostgreSQL alike.

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::{Backend, Result, StoreError};

/// The tables a backup carries, in an order that inserts parents before children. Left out:
/// what only makes sense on the machine that ran it (sessions, ceremonies, sign-in failure
/// counters and locks, leases): after a restore everyone signs in again.
pub const TABLES: &[&str] = &[
    "users",
    "setup_tokens",
    "matters",
    "portals",
    "documents",
    "audit_events",
    "audit_head",
    "audit_addresses",
    "matter_members",
    "break_glass",
    "shares",
    "share_documents",
    "share_downloads",
    "access_reviews",
    "recovery_codes",
    "invitations",
    "api_tokens",
    "passkeys",
    "legal_holds",
    "notifications",
    "lockdown",
    "firm_profile",
];

/// Tables that exist but are not backed up (a test checks that every table is in one list).
pub const NOT_BACKED_UP: &[&str] = &[
    "sessions",
    "webauthn_ceremonies",
    "login_failures",
    "login_locks",
    "leases",
    "_sqlx_migrations",
    // Deliveries, windows and counters of the moment: a restored installation must not resend
    // old mails and webhooks, nor alert on yesterday's counts.
    "outbox",
    "notify_windows",
    "alert_hits",
    "alert_fired",
    // Resumable uploads in progress: their bytes are files on the machine that received them.
    "tus_uploads",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Text,
    Integer,
    Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shape {
    pub table: String,
    pub columns: Vec<(String, Kind)>,
}

fn kind_of(declared: &str) -> Result<Kind> {
    match declared.to_ascii_lowercase().as_str() {
        "text" | "character varying" => Ok(Kind::Text),
        "bigint" | "integer" | "int8" => Ok(Kind::Integer),
        "blob" | "bytea" => Ok(Kind::Bytes),
        other => Err(StoreError::Corrupt(format!("a column of type {other:?} cannot be backed up"))),
    }
}

/// Every table of the schema (to check that each is either backed up or knowingly not).
pub async fn all_tables(conn: &mut AnyConnection, backend: Backend) -> Result<Vec<String>> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT table_name::text AS name FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        }
    };
    let rows = sqlx::query(sql).fetch_all(conn).await?;
    rows.iter().map(|r| crate::col(r, "name")).collect()
}

/// The columns of `table`, in their order.
pub async fn shape(conn: &mut AnyConnection, backend: Backend, table: &str) -> Result<Shape> {
    if !TABLES.contains(&table) {
        return Err(StoreError::Corrupt(format!("{table:?} is not a table backups carry")));
    }
    let rows = match backend {
        // The name comes from TABLES, never from input.
        Backend::Sqlite => {
            sqlx::query(&format!("SELECT name, type AS kind FROM pragma_table_info('{table}') ORDER BY cid"))
                .fetch_all(conn)
                .await?
        }
        Backend::Postgres => {
            sqlx::query(
                "SELECT column_name::text AS name, data_type::text AS kind FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            )
            .bind(table)
            .fetch_all(conn)
            .await?
        }
    };
    let columns = rows
        .iter()
        .map(|r| Ok((crate::col::<String>(r, "name")?, kind_of(&crate::col::<String>(r, "kind")?)?)))
        .collect::<Result<Vec<_>>>()?;
    Ok(Shape { table: table.to_owned(), columns })
}

fn column_list(shape: &Shape) -> String {
    shape.columns.iter().map(|(c, _)| format!("\"{c}\"")).collect::<Vec<_>>().join(", ")
}

fn to_json(row: &AnyRow, shape: &Shape) -> Result<Vec<Value>> {
    shape
        .columns
        .iter()
        .enumerate()
        .map(|(i, (_, kind))| {
            Ok(match kind {
                Kind::Text => row.try_get::<Option<String>, _>(i)?.map_or(Value::Null, Value::String),
                Kind::Integer => row.try_get::<Option<i64>, _>(i)?.map_or(Value::Null, Value::from),
                Kind::Bytes => {
                    row.try_get::<Option<Vec<u8>>, _>(i)?.map_or(Value::Null, |b| Value::String(hex::encode(b)))
                }
            })
        })
        .collect()
}

/// The rows of a table as JSON values, streamed through a bounded channel from a task that
/// owns the snapshot's connection and hands it back when the table is done.
pub fn stream_rows(
    mut conn: sqlx::pool::PoolConnection<sqlx::Any>,
    shape: Shape,
) -> (tokio::sync::mpsc::Receiver<Result<Vec<Value>>>, tokio::task::JoinHandle<sqlx::pool::PoolConnection<sqlx::Any>>) {
    let (tx, rx) = tokio::sync::mpsc::channel(256);
    let task = tokio::spawn(async move {
        let sql = format!("SELECT {} FROM \"{}\" ORDER BY 1", column_list(&shape), shape.table);
        {
            let mut rows = sqlx::query(&sql).fetch(&mut *conn);
            while let Some(row) = rows.next().await {
                let item = row.map_err(StoreError::from).and_then(|r| to_json(&r, &shape));
                let failed = item.is_err();
                if tx.send(item).await.is_err() || failed {
                    break;
                }
            }
        }
        conn
    });
    (rx, task)
}

/// Starts a read snapshot on `conn`: every later read sees the database as it was now.
pub async fn begin_snapshot(conn: &mut AnyConnection, backend: Backend) -> Result<()> {
    let sql = match backend {
        Backend::Sqlite => "BEGIN",
        Backend::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    };
    sqlx::query(sql).execute(&mut *conn).await?;
    // SQLite takes its snapshot at the first read, not at BEGIN.
    sqlx::query("SELECT COUNT(*) FROM audit_head").execute(&mut *conn).await?;
    Ok(())
}

/// A pooled connection, as the snapshot's reads hold one.
pub type PoolConnection = sqlx::pool::PoolConnection<sqlx::Any>;

/// Ends a snapshot that failed half-way.
pub async fn abort_snapshot(conn: &mut AnyConnection) -> Result<()> {
    sqlx::query("ROLLBACK").execute(conn).await?;
    Ok(())
}

pub async fn end_snapshot(conn: &mut AnyConnection) -> Result<()> {
    sqlx::query("COMMIT").execute(conn).await?;
    Ok(())
}

/// Empties a table inside the restore's transaction (migrations seed some rows).
pub async fn clear(conn: &mut AnyConnection, table: &str) -> Result<()> {
    if !TABLES.contains(&table) {
        return Err(StoreError::Corrupt(format!("{table:?} is not a table backups carry")));
    }
    sqlx::query(&format!("DELETE FROM \"{table}\"")).execute(conn).await?;
    Ok(())
}

/// Inserts one row as the backup holds it; a value of the wrong kind is `Corrupt`.
pub async fn insert(conn: &mut AnyConnection, shape: &Shape, values: &[Value]) -> Result<()> {
    if values.len() != shape.columns.len() {
        return Err(StoreError::Corrupt(format!("a row of {} has {} values", shape.table, values.len())));
    }
    let marks: Vec<String> = (1..=values.len()).map(|i| format!("${i}")).collect();
    let sql = format!("INSERT INTO \"{}\" ({}) VALUES ({})", shape.table, column_list(shape), marks.join(", "));
    let mut q = sqlx::query(&sql);
    let bad = |c: &str| StoreError::Corrupt(format!("{}.{c}: a value of the wrong kind", shape.table));
    for ((column, kind), v) in shape.columns.iter().zip(values) {
        q = match (kind, v) {
            (Kind::Text, Value::Null) => q.bind(None::<String>),
            (Kind::Text, Value::String(s)) => q.bind(s.clone()),
            (Kind::Integer, Value::Null) => q.bind(None::<i64>),
            (Kind::Integer, Value::Number(n)) => q.bind(n.as_i64().ok_or_else(|| bad(column))?),
            (Kind::Bytes, Value::Null) => q.bind(None::<Vec<u8>>),
            (Kind::Bytes, Value::String(h)) => q.bind(hex::decode(h).map_err(|_| bad(column))?),
            _ => return Err(bad(column)),
        };
    }
    q.execute(conn).await?;
    Ok(())
}

/// Whether the database holds anything a restore would overwrite: any document, user, matter
/// besides the seeded General one, or audit event.
pub async fn is_empty(conn: &mut AnyConnection) -> Result<bool> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM documents) + \
         (SELECT COUNT(*) FROM audit_events) + (SELECT COUNT(*) FROM matters WHERE firm_wide = 0) AS n",
    )
    .fetch_one(conn)
    .await?;
    Ok(crate::col::<i64>(&row, "n")? == 0)
}

/// Drops every table (a failed restore into what was an empty PostgreSQL database).
pub async fn drop_all(conn: &mut AnyConnection, backend: Backend) -> Result<()> {
    for t in all_tables(&mut *conn, backend).await? {
        sqlx::query(&format!("DROP TABLE IF EXISTS \"{t}\" CASCADE")).execute(&mut *conn).await?;
    }
    Ok(())
}
