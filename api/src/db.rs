//! Connecting to SQLite or PostgreSQL with the settings each needs, and beginning write
//! transactions that cannot deadlock.
//!
//! SQLite: WAL, foreign keys, `synchronous=FULL`, a busy timeout and a real pool (sea-orm's
//! SQLite default is one connection). Write transactions start `IMMEDIATE`, taking the write lock
//! up front: a deferred transaction that reads and then writes fails with "database is locked"
//! whatever the busy timeout says. PostgreSQL needs nothing special.

use std::time::Duration;

use anyhow::Context;
use migration::MigratorTrait;
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    IsolationLevel, SqliteTransactionMode, TransactionOptions, TransactionTrait,
    sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
};

/// Opens the pool described by `url`.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(max_connections.max(2))
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        opts.map_sqlx_sqlite_opts(|o: SqliteConnectOptions| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .create_if_missing(true)
        });
    }
    Database::connect(opts)
        .await
        .with_context(|| "connecting to the database (check DATABASE_URL)")
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

/// `true` for PostgreSQL's "could not serialize access" (SQLSTATE 40001) and for a detected
/// deadlock (40P01): either way one side lost a race and may retry.
pub fn is_serialization_failure(err: &DbErr) -> bool {
    let text = err.to_string();
    text.contains("40001")
        || text.contains("could not serialize access")
        || text.contains("40P01")
        || text.contains("deadlock detected")
}

/// `true` when the database answers a trivial query (for `/readyz`).
pub async fn ping(db: &DatabaseConnection) -> bool {
    tokio::time::timeout(Duration::from_secs(2), db.ping())
        .await
        .is_ok_and(|r| r.is_ok())
}
