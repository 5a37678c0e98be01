//! The server's state, cheap to clone into every request.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    config::{Config, PersistedQueriesMode},
    graphql::KakehashiSchema,
    persisted::PersistedQueries,
    realtime::Live,
    service::Ctx,
};

/// Queries the automatic persisted-query cache keeps per instance, and the largest it keeps:
/// at most 16 MiB, however many anonymous callers register documents. A larger query still
/// runs; it is just sent as text every time.
const APQ_CAPACITY: usize = 1000;
const APQ_MAX_QUERY_BYTES: usize = 16 * 1024;

/// The HTTP-level state: live delivery and the service context ([`Live`]) plus what only the
/// transport needs (the schema, persisted queries, shared subscription renders). It dereferences
/// to [`Live`] and through it to [`Ctx`], so a handler passes `&state` where a service asks for
/// `&Ctx`; services never see the rest.
#[derive(Clone)]
pub struct AppState {
    /// The service context, the event hub, background jobs and metrics.
    pub live: Live,
    /// The GraphQL schema (HTTP and WebSocket), built once without data; per-request data is
    /// attached to each request.
    pub schema: KakehashiSchema,
    /// SQL statements run for requests so far (`kakehashi_sql_statements_total`; tests and
    /// benchmarks read statements per operation from it).
    pub statements: prometheus_client::metrics::counter::Counter,
    /// Persisted queries (APQ cache or allow-list).
    pub persisted: PersistedQueries,
    /// Subscriptions executed once for the sockets of one viewer running the same operation.
    pub shares: Arc<crate::http::ws::shared::Shares>,
    /// History-page documents compiled for their shape (answered without the executor).
    pub(crate) history_pages: Arc<crate::graphql::history_page::Plans>,
}

impl std::ops::Deref for AppState {
    type Target = Live;

    fn deref(&self) -> &Live {
        &self.live
    }
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
                micros = u64::try_from(info.elapsed.as_micros()).unwrap_or(u64::MAX),
                sql = %info.statement.sql,
            );
        });
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
        let ctx = Ctx::new(db, background_db.clone(), Arc::new(config))?;
        let hub = crate::realtime::hub::EventHub::new(config_buffer);
        Ok(Self {
            live: Live {
                ctx,
                background_db,
                jobs: Arc::new(crate::realtime::jobs::Jobs::new(hub.clone())),
                hub,
                metrics,
                reachability: Default::default(),
            },
            schema,
            statements,
            persisted,
            shares: Default::default(),
            history_pages: Default::default(),
        })
    }
}

impl AppState {
    /// SQL statements run since the server started.
    pub fn statement_count(&self) -> u64 {
        self.statements.get()
    }
}
