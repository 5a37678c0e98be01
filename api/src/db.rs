//! Connecting to SQLite or PostgreSQL with the settings each needs, and beginning write
//! transactions that cannot deadlock.
//!
//! SQLite: WAL, foreign keys, `synchronous=FULL`, a busy timeout and a real pool (sea-orm's
//! SQLite default is one connection). Write transactions start `IMMEDIATE`, taking the write lock
//! up front: a deferred transaction that reads and then writes fails with "database is locked"
//! whatever the busy timeout says. PostgreSQL needs nothing special.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use migration::MigratorTrait;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, IsolationLevel, SqliteTransactionMode, TransactionOptions, TransactionTrait,
    sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
};

/// How much of a SQLite file reads may map (the file is mapped up to this size).
const MMAP_BYTES: u64 = 1 << 30;

/// How long a pooled connection may sit unused before it is pinged on its next use.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(2);

/// Opens the pool described by `url`.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(max_connections.max(2))
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(5))
        // sqlx pings every connection it hands out by default: one more round trip per
        // statement. A connection in use is known to work; one idle for a while may have been
        // dropped by a restart or a proxy, and only that one is checked first.
        .test_before_acquire_if_idle_for(IDLE_BEFORE_PING)
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        opts.map_sqlx_sqlite_opts(|o: SqliteConnectOptions| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .create_if_missing(true)
                // Reads map the file instead of copying pages into each connection's cache. In
                // WAL mode every commit (and every read is audited, so every request writes)
                // empties the other connections' caches; re-reading through the map costs
                // nothing, copying did (measured in BENCHMARKS.md).
                .pragma("mmap_size", MMAP_BYTES.to_string())
        });
    }
    Database::connect(opts)
        .await
        .with_context(|| "connecting to the database (check DATABASE_URL)")
}

/// Keeps SQLite's query planner informed: `PRAGMA optimize` refreshes the statistics (`ANALYZE`,
/// sampled by `analysis_limit`, so bounded on any size) of tables that changed enough since.
/// Without statistics SQLite guesses ten rows per index value, and for a list over hundreds of
/// clients reads every row of every client and sorts them, where walking the newest ids first
/// stops after a page (`sharedObservations(first: 20)` at 200,000 observations: 166 ms against
/// 2 ms, BENCHMARKS.md). Run at start and with each retention sweep. PostgreSQL's autovacuum
/// keeps its own statistics.
pub async fn optimize(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() == DbBackend::Sqlite {
        // One string: both pragmas must run on the same pooled connection.
        db.execute_unprepared("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;")
            .await?;
    }
    Ok(())
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    migration::Migrator::up(db, None)
        .await
        .context("applying database migrations")
}

/// Begins a transaction that will write. On SQLite `BEGIN IMMEDIATE` serializes writers. On
/// PostgreSQL the transaction is `SERIALIZABLE`, so the read-check-write steps of the service
/// layer (version checks, "at most one consultation office", "one active plan") cannot
/// interleave: a clash aborts one side, which the client receives as `CONFLICT`.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let sqlite = db.get_database_backend() == DbBackend::Sqlite;
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: sqlite.then_some(SqliteTransactionMode::Immediate),
        isolation_level: (!sqlite).then_some(IsolationLevel::Serializable),
        ..Default::default()
    })
    .await
}

/// Begins a transaction that only *adds* rows whose checks were made before it (a new
/// observation): on PostgreSQL `READ COMMITTED`, because under `SERIALIZABLE` the foreign-key
/// checks of concurrent inserts with time-ordered ids predicate-lock the same index pages and
/// abort each other for nothing. SQLite still takes the write lock up front.
pub async fn begin_insert(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let sqlite = db.get_database_backend() == DbBackend::Sqlite;
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: sqlite.then_some(SqliteTransactionMode::Immediate),
        isolation_level: (!sqlite).then_some(IsolationLevel::ReadCommitted),
        ..Default::default()
    })
    .await
}

/// Runs a whole write operation (checks, transaction, commit) again when PostgreSQL aborted it
/// to keep transactions serializable, up to 4 attempts with a short, jittered backoff. The
/// aborted attempt left nothing behind, so running it again is safe; a clash that persists
/// reaches the client as `CONFLICT`.
pub async fn retrying<T, Fut>(mut attempt: impl FnMut() -> Fut) -> crate::error::ApiResult<T>
where
    Fut: Future<Output = crate::error::ApiResult<T>>,
{
    const ATTEMPTS: u32 = 4;
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(crate::error::ApiError::Contention) if tries < ATTEMPTS => {
                let base = 5u64 << tries;
                let jitter = rand::random_range(0..=base);
                tokio::time::sleep(Duration::from_millis(base + jitter)).await;
                tries += 1;
            }
            other => return other,
        }
    }
}

/// Whether the database answered the event hub's latest read. The hub reads at every poll
/// interval (and retries every 250 ms after a failure), so while the database is down each
/// request is refused at once with `SERVICE_UNAVAILABLE` instead of waiting out the pool's
/// acquire timeout, and traffic resumes by itself as soon as a read succeeds again.
#[derive(Clone, Default)]
pub struct Reachability(Arc<AtomicBool>);

impl Reachability {
    /// `true` once the hub has seen the database unreachable and not yet seen it answer.
    pub fn is_down(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Records the outcome of a read; logs the transitions only.
    pub fn observe(&self, unreachable: bool) {
        if self.0.swap(unreachable, Ordering::Relaxed) != unreachable {
            if unreachable {
                tracing::error!("the database is unreachable; refusing requests until it answers");
            } else {
                tracing::info!("the database answers again; serving requests");
            }
        }
    }
}

/// `true` when the database answers a trivial query (for `/readyz`).
pub async fn ping(db: &DatabaseConnection) -> bool {
    tokio::time::timeout(Duration::from_secs(2), db.ping())
        .await
        .is_ok_and(|r| r.is_ok())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::error::ApiError;

    #[tokio::test]
    async fn serialization_failures_are_retried_and_then_reported_as_conflicts() {
        let calls = AtomicU32::new(0);
        let ok = retrying(|| async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(ApiError::Contention),
                _ => Ok(7),
            }
        })
        .await;
        assert_eq!(ok.ok(), Some(7));
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let calls = AtomicU32::new(0);
        let err = retrying(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(ApiError::Contention)
        })
        .await
        .unwrap_err();
        assert_eq!(err.code().as_str(), "CONFLICT");
        assert_eq!(calls.load(Ordering::SeqCst), 4);

        // Other errors are not retried.
        let calls = AtomicU32::new(0);
        let err = retrying(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(ApiError::conflict("stale version"))
        })
        .await
        .unwrap_err();
        assert_eq!(err.code().as_str(), "CONFLICT");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_write_lock_that_never_comes_is_service_unavailable() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("busy.db").display());
        let holder = connect(&url, 2).await.unwrap();
        let _lock = begin_write(&holder).await.unwrap();
        let mut opts = ConnectOptions::new(url);
        opts.map_sqlx_sqlite_opts(|o: SqliteConnectOptions| {
            o.journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::ZERO)
        });
        let impatient = Database::connect(opts).await.unwrap();
        let err = impatient
            .execute_unprepared("CREATE TABLE t (x INTEGER)")
            .await
            .unwrap_err();
        assert!(crate::error::is_busy(&err), "{err}");
        assert_eq!(ApiError::from(err).code().as_str(), "SERVICE_UNAVAILABLE");
    }
}
