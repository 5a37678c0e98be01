//! Shared application state, cheap to clone into every request.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    auth::{jwt::TokenKeys, password::PasswordHasher},
    config::{Config, PersistedQueriesMode},
    graphql::KakehashiSchema,
    persisted::PersistedQueries,
};

/// Queries the automatic persisted-query cache keeps per instance, and the largest it keeps:
/// at most 16 MiB, however many anonymous callers register documents. A larger query still
/// runs; it is just sent as text every time.
const APQ_CAPACITY: usize = 1000;
const APQ_MAX_QUERY_BYTES: usize = 16 * 1024;

#[derive(Clone)]
pub struct AppState {
    /// The connection pool (SQLite or PostgreSQL).
    pub db: DatabaseConnection,
    /// A pool of its own for background work (event delivery, pruning, the reachability
    /// check), so that requests filling the main pool under load never starve event delivery,
    /// nor make the hub believe the database is gone; left out of
    /// [`AppState::statement_count`] so that it counts requests only.
    pub background_db: DatabaseConnection,
    /// The configuration the server started with.
    pub config: Arc<Config>,
    /// Signs and verifies access tokens.
    pub tokens: Arc<TokenKeys>,
    /// Argon2id with bounded concurrency.
    pub passwords: PasswordHasher,
    /// The GraphQL schema (HTTP and WebSocket), built once without data; per-request data is
    /// attached to each request.
    pub schema: KakehashiSchema,
    /// SQL statements run for requests so far (`kakehashi_sql_statements_total`; tests and
    /// benchmarks read statements per operation from it).
    pub statements: prometheus_client::metrics::counter::Counter,
    /// Emails with a login attempt in progress (one at a time per account).
    pub logins_in_flight: crate::service::sessions::LoginsInFlight,
    /// Delivers committed events to this instance's subscribers.
    pub hub: crate::realtime::hub::EventHub,
    /// Prometheus series for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Persisted queries (APQ cache or allow-list).
    pub persisted: crate::persisted::PersistedQueries,
    /// Writes read audits off the request path, in groups (durability: `config.audit`).
    pub read_audits: Arc<crate::service::read_audits::ReadAudits>,
    /// Commits concurrent `recordObservation`s together (one transaction and flush per group).
    pub observation_writer: Arc<crate::service::observations::GroupCommit>,
    /// Whether the database answers (kept by the event hub): requests fail fast while it does not.
    pub reachability: crate::db::Reachability,
    /// Each organization's scope, reused by requests while no access change was committed.
    pub scopes: Arc<crate::service::access::ScopeCache>,
    /// Verified sessions and API keys, reused while none was revoked.
    pub sessions: Arc<crate::service::credentials::SessionCache>,
    /// Clients' history counts, reused until the client's next timeline write.
    pub history_counts: Arc<crate::service::timeline::TotalCounts>,
    /// Subscriptions executed once for the sockets of one viewer running the same operation.
    pub shares: Arc<crate::realtime::shared::Shares>,
}

impl AppState {
    /// Builds the state; the configuration must already have its JWT secret resolved.
    pub fn new(
        mut db: DatabaseConnection,
        background_db: DatabaseConnection,
        config: Config,
    ) -> anyhow::Result<Self> {
        let metrics = crate::metrics::Metrics::new();
        let statements = metrics.sql_statements.clone();
        let counter = statements.clone();
        db.set_metric_callback(move |info| {
            counter.inc();
            // Every request statement with its time, for `RUST_LOG=kakehashi::sql=trace`.
            tracing::trace!(
                target: "kakehashi::sql",
                micros = info.elapsed.as_micros() as u64,
                sql = %info.statement.sql,
            );
        });
        let secret = config
            .jwt_secret
            .clone()
            .ok_or_else(|| anyhow::anyhow!("the JWT secret was not resolved"))?;
        let tokens = TokenKeys::new(
            &secret,
            &config.jwt_issuer,
            &config.jwt_audience,
            config.access_token_ttl,
        );
        let schema = crate::graphql::build_schema(&config);
        let config_buffer = config.subscriber_buffer;
        let persisted = match (config.persisted_queries, &config.persisted_queries_file) {
            (PersistedQueriesMode::Off, _) => PersistedQueries::off(),
            (PersistedQueriesMode::Automatic, _) => {
                PersistedQueries::automatic(APQ_CAPACITY, APQ_MAX_QUERY_BYTES)
            }
            (PersistedQueriesMode::AllowList, Some(path)) => {
                PersistedQueries::allow_list_from_file(path).map_err(|e| {
                    anyhow::anyhow!("loading PERSISTED_QUERIES_FILE {}: {e}", path.display())
                })?
            }
            (PersistedQueriesMode::AllowList, None) => {
                anyhow::bail!("PERSISTED_QUERIES=allowlist needs PERSISTED_QUERIES_FILE")
            }
        };
        let observation_writer =
            Arc::new(crate::service::observations::GroupCommit::new(db.clone()));
        // On the background pool: the writer then never queues behind requests for a
        // connection (the flush delay holds under load), and its statements are not counted as
        // requests' (it runs off the request path).
        let read_audits = Arc::new(crate::service::read_audits::ReadAudits::new(
            background_db.clone(),
            config.audit.durability,
            config.audit.flush_delay,
        ));
        Ok(Self {
            db,
            read_audits,
            background_db,
            passwords: PasswordHasher::new(config.password_hash_concurrency),
            tokens: Arc::new(tokens),
            config: Arc::new(config),
            schema,
            statements,
            logins_in_flight: Default::default(),
            hub: crate::realtime::hub::EventHub::new(config_buffer),
            metrics,
            persisted,
            reachability: Default::default(),
            observation_writer,
            scopes: Default::default(),
            sessions: Default::default(),
            history_counts: Default::default(),
            shares: Default::default(),
        })
    }
}

impl AppState {
    /// SQL statements run since the server started.
    pub fn statement_count(&self) -> u64 {
        self.statements.get()
    }
}
