//! Courier's storage: the metadata database (SQLite by default, PostgreSQL for several
//! instances) behind one portable SQL dialect, and the blob stores behind one trait.
//!
//! Repositories are free functions over a connection, so the service layer decides where a
//! transaction starts and ends and can put an action and its audit event in the same one.

pub mod api_tokens;
pub mod audit;
pub mod blob;
mod db;
pub mod documents;
pub mod firm_profile;
pub mod invitations;
pub mod leases;
pub mod legal_holds;
pub mod lockout;
pub mod matters;
pub mod passkeys;
pub mod portals;
pub mod recovery_codes;
pub mod sessions;
pub mod shares;
pub mod snapshot;
pub mod tus;
pub mod users;
pub mod watch;

pub use db::{Backend, Conn, Db, Tx};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("blob store error: {0}")]
    Blob(#[from] std::io::Error),
    #[error("a record with the same unique key exists")]
    Conflict,
    #[error("stored data is malformed: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Turns a unique-constraint violation into `Conflict`, leaving other errors alone.
    pub fn on_conflict(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => Self::Conflict,
            _ => Self::Db(e),
        }
    }

    /// True when the database could not be reached or was busy, as opposed to a bad query:
    /// the client may retry (503 with `Retry-After`), nothing is wrong with its request.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Db(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed) => true,
            Self::Db(sqlx::Error::Database(d)) => d.code().is_some_and(|c| is_busy_code(&c) || is_gone_code(&c)),
            _ => false,
        }
    }
}

/// SQLite's SQLITE_BUSY and SQLITE_LOCKED (with their extended codes, whose low byte is
/// the primary one); PostgreSQL's lock_not_available, serialization_failure and
/// deadlock_detected.
fn is_busy_code(code: &str) -> bool {
    match code {
        "55P03" | "40001" | "40P01" => true,
        numeric => numeric.parse::<i64>().is_ok_and(|n| matches!(n & 0xff, 5 | 6)),
    }
}

/// PostgreSQL's connection exceptions (class 08) and a server shutting down or starting
/// (admin_shutdown, crash_shutdown, cannot_connect_now): the database is away, not broken, and
/// a pooled connection may learn it only on its next query (it is not pinged before every use).
fn is_gone_code(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Reads a column, mapping decoding problems to `Corrupt`.
pub(crate) fn col<'r, T>(row: &'r sqlx::any::AnyRow, name: &str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    use sqlx::Row;
    row.try_get(name).map_err(|e| StoreError::Corrupt(format!("column {name}: {e}")))
}

/// Reads a column holding one of the domain's words (a role, a stage): a word outside the set
/// is `Corrupt`, never a default.
pub(crate) fn word<T>(row: &sqlx::any::AnyRow, name: &str) -> Result<T>
where
    T: std::str::FromStr<Err = courier_core::UnknownWord>,
{
    let raw: String = col(row, name)?;
    raw.parse().map_err(|e| StoreError::Corrupt(format!("column {name}: {e}")))
}

/// `word` for a column that may be NULL.
pub(crate) fn word_or_null<T>(row: &sqlx::any::AnyRow, name: &str) -> Result<Option<T>>
where
    T: std::str::FromStr<Err = courier_core::UnknownWord>,
{
    let raw: Option<String> = col(row, name)?;
    raw.map(|w| w.parse().map_err(|e| StoreError::Corrupt(format!("column {name}: {e}")))).transpose()
}

#[cfg(test)]
mod busy_tests {
    #[test]
    fn busy_and_locked_databases_are_unavailable_not_broken() {
        for code in ["5", "6", "261", "517", "262", "55P03", "40001", "40P01"] {
            assert!(super::is_busy_code(code), "{code}");
        }
        for code in ["1", "19", "2067", "23505", "42P01"] {
            assert!(!super::is_busy_code(code), "{code}");
        }
    }
}
