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

/// Every migration, once for both backends: `{{BYTES}}` and the other placeholders of
/// [`render`] are all that differ. Never edit a shipped migration (databases keep its checksum
/// and refuse a changed one); add the next number.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/0001_init.sql")),
    (2, "leases", include_str!("../migrations/0002_leases.sql")),
    (3, "scanning", include_str!("../migrations/0003_scanning.sql")),
    (4, "matters_shares", include_str!("../migrations/0004_matters_shares.sql")),
    (5, "lockout", include_str!("../migrations/0005_lockout.sql")),
    (6, "accounts", include_str!("../migrations/0006_accounts.sql")),
    (7, "api_tokens", include_str!("../migrations/0007_api_tokens.sql")),
    (8, "passkeys", include_str!("../migrations/0008_passkeys.sql")),
    (9, "lifecycle", include_str!("../migrations/0009_lifecycle.sql")),
    (10, "watch", include_str!("../migrations/0010_watch.sql")),
    (11, "language", include_str!("../migrations/0011_language.sql")),
    (12, "tus", include_str!("../migrations/0012_tus.sql")),
    (13, "firm_profile", include_str!("../migrations/0013_firm_profile.sql")),
    (14, "staff_language", include_str!("../migrations/0014_staff_language.sql")),
    (15, "document_pages", include_str!("../migrations/0015_document_pages.sql")),
    (16, "live_portal_counts", include_str!("../migrations/0016_live_portal_counts.sql")),
    (17, "firm_logo", include_str!("../migrations/0017_firm_logo.sql")),
    (18, "tus_cut_back", include_str!("../migrations/0018_tus_cut_back.sql")),
];

/// A migration's SQL for `backend`: the byte type, byte literals and (in 0001's comment) the
/// other backend's name.
fn render(sql: &str, backend: Backend) -> String {
    let zero_hash = "0".repeat(64);
    let (bytes, zero, empty, other) = match backend {
        Backend::Sqlite => ("BLOB", format!("X'{zero_hash}'"), "X''", "postgres"),
        Backend::Postgres => ("BYTEA", format!("'\\x{zero_hash}'::bytea"), "''::bytea", "sqlite"),
    };
    sql.replace("{{BYTES}}", bytes)
        .replace("{{ZERO_HASH}}", &zero)
        .replace("{{NO_BYTES}}", empty)
        .replace("{{OTHER}}", other)
}

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
            // sqlx pings every connection when it goes back to the pool; a second ping when it
            // comes out again doubled the round trips of every query. Only a connection idle for
            // a second or more (the database may have restarted meanwhile) is pinged before use.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= Duration::from_secs(1) {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
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
                    } else {
                        // A row lock held elsewhere (an insider's open transaction on the audit
                        // head) fails the statement after 15 s instead of stalling it for good;
                        // the caller gets 503 and nothing half-done stays.
                        conn.execute("SET lock_timeout = '15s'").await?;
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
        self.migrate_to(i64::MAX).await
    }

    /// Applies the migrations up to `version` only (a restore loads a backup into the schema it
    /// was taken with, then migrates the rest).
    pub async fn migrate_to(&self, version: i64) -> Result<()> {
        let migrations: Vec<Migration> = MIGRATIONS
            .iter()
            .filter(|(v, _, _)| *v <= version)
            .map(|(v, d, sql)| {
                let sql = Cow::Owned(render(sql, self.backend));
                Migration::new(*v, Cow::Borrowed(*d), MigrationType::Simple, sql, false)
            })
            .collect();
        let mut migrator = Migrator::DEFAULT;
        migrator.migrations = Cow::Owned(migrations);
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// The newest migration this build knows.
    pub fn latest_version() -> i64 {
        MIGRATIONS.last().map_or(0, |(v, _, _)| *v)
    }

    /// The newest migration applied to this database (0 for none).
    pub async fn schema_version(&self) -> Result<i64> {
        let row =
            sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM _sqlx_migrations").fetch_one(&self.pool).await?;
        crate::col(&row, "v")
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

    /// One trivial query: whether the database answers (the health check).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod migration_tests {
    use super::*;

    /// The SHA-384 checksums sqlx recorded for the two trees of migrations this single source
    /// replaced: a database migrated before keeps working only if each rendering is the same
    /// text, byte for byte.
    const SHIPPED: &[(i64, &str, &str)] = &[
        (
            1,
            "fea464e0109df388dd3689be9ce512d06cb702ab7a34092308687a52cd42da1192a3b54ed0cea4861b022a8e9e1eae36",
            "dd20884a8bd194c7fa2200ddaae23d8d3bfcdd4aeda2694e9b2f0d06a6461f78db2e0e3ec605e790972575136f6eae57",
        ),
        (
            2,
            "2098b16f4ab6f01df86a30687070b2703e4c3618ed4799823a12cc2e761003fc1ff620775eacfa7d98e796c8bd5c4344",
            "2098b16f4ab6f01df86a30687070b2703e4c3618ed4799823a12cc2e761003fc1ff620775eacfa7d98e796c8bd5c4344",
        ),
        (
            3,
            "381771cad5a18ecf65a03fbf94ae2f5e059aa336d2791641b6b606503bac2e8377da34276346609f1f77636762ab804e",
            "381771cad5a18ecf65a03fbf94ae2f5e059aa336d2791641b6b606503bac2e8377da34276346609f1f77636762ab804e",
        ),
        (
            4,
            "bc738fde88faf5b05d6515e53469931ac6d9d9377155c86cae7dac965047c786245c4d620f3560a1db4dd93b1f3d7332",
            "c605b3da1b83600aef03463fef6f9889599998c11963ee1ef018245d643675afdc6858915cef54c030536576747dec92",
        ),
        (
            5,
            "52438752d02690e7715c14d43492f8c77aef1e4afbf8a193d0613e5e906796946c211d402dc14dec9a809db8ad10b384",
            "52438752d02690e7715c14d43492f8c77aef1e4afbf8a193d0613e5e906796946c211d402dc14dec9a809db8ad10b384",
        ),
        (
            6,
            "d39d6f3befb641190abaa2294853fca9dadaa427969222dab5ddbc1cf16621b841afea36f9ab6d9542d11e891ad00b62",
            "0cd9184bf9887e9dd04786e125acb4980d9dce0d3c72a2840961a2156cd701b86a5df3c240990687d2323342aac66911",
        ),
        (
            7,
            "1e708762886e8d5bb4effd72c439963de840db651c3acfaa8e1f73d7b7c234bf56cb8bd8cd0c790655c35f71c322992a",
            "76a8b62f521b102d0621543491e11109f9cb9aba4d771d7b964ec227330d51263367d853074737e84a8376b56bc09da4",
        ),
        (
            8,
            "19977ff4aa230cf5db5d5b9f3a8183eb798fe2e9d324f56e89921d4d6b81cca9fa045a8f8a68b3eeb38e8743fbfa9694",
            "0fc420b16461e65d8e06e0dd88dde92cd7d89445247369bdf4f175fb942031ea52db71cef6b00fd376f4812e17f379ec",
        ),
        (
            9,
            "0e17ca5340092835831da9dd744bb7e9697696e44ccdf5cd52b151ed332e230e357e35d28c849980f0a8aa958bdda5d6",
            "0e17ca5340092835831da9dd744bb7e9697696e44ccdf5cd52b151ed332e230e357e35d28c849980f0a8aa958bdda5d6",
        ),
    ];

    fn checksum(v: i64, backend: Backend) -> String {
        let (_, d, sql) = MIGRATIONS.iter().find(|(n, _, _)| *n == v).expect("migration");
        let m = Migration::new(v, Cow::Borrowed(*d), MigrationType::Simple, Cow::Owned(render(sql, backend)), false);
        m.checksum.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn each_rendering_is_the_migration_databases_already_ran() {
        for (v, sqlite, postgres) in SHIPPED {
            assert_eq!(checksum(*v, Backend::Sqlite), *sqlite, "migration {v} on SQLite changed");
            assert_eq!(checksum(*v, Backend::Postgres), *postgres, "migration {v} on PostgreSQL changed");
        }
    }

    #[test]
    fn no_placeholder_is_left_unrendered() {
        for (v, _, sql) in MIGRATIONS {
            for backend in [Backend::Sqlite, Backend::Postgres] {
                assert!(!render(sql, backend).contains("{{"), "migration {v} for {backend:?}");
            }
        }
    }
}
