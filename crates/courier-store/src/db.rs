//! Connecting, migrating and starting transactions, for either backend.

use std::borrow::Cow;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{Any, AnyConnection, AnyPool, Executor};

use crate::Result;

pub type Tx = sqlx::Transaction<'static, Any>;
pub type Conn = AnyConnection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/sqlite/0001_init.sql")),
    (2, "leases", include_str!("../migrations/sqlite/0002_leases.sql")),
    (3, "scanning", include_str!("../migrations/sqlite/0003_scanning.sql")),
    (4, "matters_shares", include_str!("../migrations/sqlite/0004_matters_shares.sql")),
    (5, "lockout", include_str!("../migrations/sqlite/0005_lockout.sql")),
    (6, "accounts", include_str!("../migrations/sqlite/0006_accounts.sql")),
    (7, "api_tokens", include_str!("../migrations/sqlite/0007_api_tokens.sql")),
    (8, "passkeys", include_str!("../migrations/sqlite/0008_passkeys.sql")),
];
const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/postgres/0001_init.sql")),
    (2, "leases", include_str!("../migrations/postgres/0002_leases.sql")),
    (3, "scanning", include_str!("../migrations/postgres/0003_scanning.sql")),
    (4, "matters_shares", include_str!("../migrations/postgres/0004_matters_shares.sql")),
    (5, "lockout", include_str!("../migrations/postgres/0005_lockout.sql")),
    (6, "accounts", include_str!("../migrations/postgres/0006_accounts.sql")),
    (7, "api_tokens", include_str!("../migrations/postgres/0007_api_tokens.sql")),
    (8, "passkeys", include_str!("../migrations/postgres/0008_passkeys.sql")),
];

impl Db {
    /// Connects to `url` (`sqlite://…` or `postgres://…`). Acquiring a connection gives up after
    /// about five seconds, so an unreachable database fails requests fast.
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let options: AnyConnectOptions = url.parse()?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the one writer; FULL sync because an
                        // audit event that vanished in a power cut would be a broken promise.
                        // secure_delete zeroes freed content, so a shredded document's wrapped key
                        // does not linger in free pages.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA secure_delete = ON;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Self { pool, backend })
    }

    /// Applies the embedded migrations of this backend (PostgreSQL takes an advisory lock, so
    /// instances starting together do not race).
    pub async fn migrate(&self) -> Result<()> {
        let source = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let migrations: Vec<Migration> = source
            .iter()
            .map(|(v, d, sql)| Migration::new(*v, Cow::Borrowed(*d), MigrationType::Simple, Cow::Borrowed(*sql), false))
            .collect();
        let mut migrator = Migrator::DEFAULT;
        migrator.migrations = Cow::Owned(migrations);
        migrator.run(&self.pool).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front (`BEGIN
    /// IMMEDIATE`): a deferred transaction that reads first and writes later fails with
    /// SQLITE_BUSY instead of waiting when another process writes at the same time.
    pub async fn begin(&self) -> Result<Tx> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(tx)
    }

    /// After shredding: on SQLite, copy the write-ahead log back into the (zeroed) database
    /// pages and truncate it, so no earlier page image with a wrapped key stays in the WAL.
    /// A reader (another connection, another process) holding an older snapshot keeps the
    /// checkpoint from completing: it is retried for up to `patience`, then `false` says the
    /// log still holds old pages (the next shred or upkeep tries again). Always `true` on
    /// PostgreSQL, whose files Courier does not manage.
    pub async fn purge_freed(&self, patience: std::time::Duration) -> Result<bool> {
        if self.backend != Backend::Sqlite {
            return Ok(true);
        }
        let deadline = tokio::time::Instant::now() + patience;
        let mut pause = std::time::Duration::from_millis(20);
        loop {
            // (busy, frames in the log, frames checkpointed); busy = 1: not all could be.
            let row = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&self.pool).await?;
            let busy: i64 =
                sqlx::Row::try_get(&row, 0).map_err(|e| crate::StoreError::Corrupt(format!("checkpoint: {e}")))?;
            if busy == 0 {
                return Ok(true);
            }
            if tokio::time::Instant::now() + pause > deadline {
                return Ok(false);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(std::time::Duration::from_millis(500));
        }
    }

    /// Commits a transaction started with `begin`.
    pub async fn commit(tx: Tx) -> Result<()> {
        tx.commit().await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
