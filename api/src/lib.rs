//! Kakehashi (架け橋): a role-aware GraphQL API between disability-welfare facilities
//! (障害福祉サービス事業所) and consultation-support offices (相談支援事業所).
//!
//! The layers (`http` → `graphql` → `realtime` → `service` → `config` → `auth`/`language` →
//! `db`/`metrics`/`persisted` → `error`, over the `entity` crate) and where each concept lives
//! are in ARCHITECTURE.md; `tests/integration/architecture.rs` keeps the imports to them.
//!
//! Public API: what `kakehashi-tools` (the binary, demo seed, import/export), the integration
//! tests and the benchmarks use. That is [`Server`], [`build_state`], [`Config`] and
//! [`AppState`]; the service layer with what it takes and returns (`service`, `auth`, `db`,
//! `config`, `error`, `language`); the schema (`graphql::build_schema`, `graphql::sdl`,
//! `graphql::ids`); and `realtime::feed` (replay tests). Everything else is `pub(crate)` or
//! narrower, kept so by the `unreachable_pub` lint.
//!
//! The same code runs on SQLite (embedded default) and PostgreSQL (production). This crate is
//! the server only: the `kakehashi` binary, the demo seed, import/export and the schema
//! compatibility check are the `kakehashi-tools` crate (`tools/`), built on this one's public API.

pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod graphql;
pub mod http;
pub mod language;
pub(crate) mod metrics;
pub(crate) mod persisted;
pub mod realtime;
pub mod service;

use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::TcpListener;

pub use config::Config;
pub use http::AppState;

/// Connections of the background pool (event hub, webhook sender, sweeps).
const BACKGROUND_CONNECTIONS: u32 = 2;
/// How long shutdown waits for the background jobs to end before aborting them.
const JOBS_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Connects, migrates (unless switched off) and builds the state.
pub async fn build_state(mut config: Config) -> anyhow::Result<AppState> {
    config.resolve_jwt_secret()?;
    language::lexicon::Lexicon::check_builtin()?;
    language::translation::Glossary::check_shipped()?;
    language::analysis::configure(
        config.language_dictionary.clone(),
        config.language_cache_dir.clone(),
    );
    match language::analysis::status() {
        language::analysis::Status::Absent { reason } => tracing::warn!(
            %reason,
            "Japanese analysis is unavailable: the fact check, readings and renderings run degraded (README: Language features)"
        ),
        status => tracing::info!(analyser = status.label(), "Japanese analysis available"),
    }
    let db = db::connect(&config.database_url, config.db_max_connections).await?;
    if config.run_migrations {
        db::migrate(&db).await?;
    }
    db::optimize(&db).await?;
    let background_db = db::connect(&config.database_url, BACKGROUND_CONNECTIONS).await?;
    auth::password::PasswordHasher::warm_up();
    AppState::new(db, background_db, config)
}

/// A server bound to a port, ready to run.
pub struct Server {
    listener: TcpListener,
    state: AppState,
}

impl Server {
    /// Binds the configured address (port 0 picks a free one).
    pub async fn bind(state: AppState) -> anyhow::Result<Self> {
        let addr = state.config.bind_addr;
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding {addr}"))?;
        Ok(Self { listener, state })
    }

    /// The bound address.
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` resolves, with the connection bounds and timeouts of
    /// [`http::connections`]; then finishes the requests in flight, closes WebSockets with 1001
    /// and returns.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        self.state
            .hub
            .prepare(&self.state.background_db)
            .await
            .map_err(|_| {
                anyhow::anyhow!("starting event delivery: the outbox could not be read")
            })?;
        service::webhooks::start_at_head(&self.state.background_db)
            .await
            .map_err(|_| anyhow::anyhow!("starting webhooks: the outbox could not be read"))?;
        realtime::jobs::start(&self.state, graphql::webhook_payload);
        // Compile the Japanese dictionary into its cache now, off the request path, so that the
        // first use only reads it (it is loaded into memory on first use, not here).
        tokio::task::spawn_blocking(|| {
            if let Err(e) = language::analysis::prepare_cache() {
                tracing::warn!(error = %e, "cannot prepare the Japanese dictionary");
            }
        });
        let hub = self.state.hub.clone();
        let jobs = self.state.jobs.clone();
        let read_audits = self.state.read_audits.clone();
        let config = self.state.config.clone();
        let app = http::router(self.state);
        // Each request carries its client's address (login throttling keys on it).
        http::connections::serve(self.listener, app, &config, async move {
            shutdown.await;
            // Upgraded sockets are not HTTP requests: tell them to close (1001).
            hub.stop();
        })
        .await;
        // The requests are done and the jobs told to stop: let them finish what they hold
        // (subscription reads still to audit), then commit the reads audited in batched mode.
        jobs.finish(JOBS_GRACE).await;
        read_audits.flush().await;
        Ok(())
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
