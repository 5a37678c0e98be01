//! What the service layer works with: the database, the configuration, the keys and the caches
//! that decide who may see what. Nothing of HTTP or GraphQL (no schema, no persisted queries, no
//! event hub): `realtime::Live` and `http::AppState` hold a `Ctx` and hand it down.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    auth::{jwt::TokenKeys, password::PasswordHasher},
    config::Config,
};

use super::{
    access::ScopeCache, credentials::SessionCache, observations::GroupCommit,
    read_audits::ReadAudits, sessions::LoginsInFlight, timeline::TotalCounts,
};

/// The service context, cheap to clone (every field is shared).
#[derive(Clone)]
pub struct Ctx {
    /// The connection pool for requests (SQLite or PostgreSQL).
    pub db: DatabaseConnection,
    /// The configuration the server started with.
    pub config: Arc<Config>,
    /// Signs and verifies access tokens.
    pub tokens: Arc<TokenKeys>,
    /// Argon2id with bounded concurrency.
    pub passwords: PasswordHasher,
    /// Emails with a login attempt in progress (one at a time per account).
    pub logins_in_flight: LoginsInFlight,
    /// Writes read audits off the request path, in groups (durability: `config.audit`).
    pub read_audits: Arc<ReadAudits>,
    /// Commits concurrent `recordObservation`s together (one transaction and flush per group).
    pub observation_writer: Arc<GroupCommit>,
    /// Each organization's scope, reused while no access change was committed: the one scope
    /// cache, dropped by [`super::invalidation`] on access events.
    pub scopes: Arc<ScopeCache>,
    /// Verified sessions and API keys, reused while none was revoked.
    pub sessions: Arc<SessionCache>,
    /// Clients' history counts, reused until the client's next timeline write.
    pub history_counts: Arc<TotalCounts>,
    /// Clients' rows, reused until the client's next event.
    pub client_rows: Arc<super::clients::ClientRows>,
}

impl Ctx {
    /// The context over `db`; read audits are written through `audit_db` (the background pool,
    /// so that the writer never queues behind requests for a connection). The configuration
    /// must already have its JWT secret resolved.
    pub fn new(
        db: DatabaseConnection,
        audit_db: DatabaseConnection,
        config: Arc<Config>,
    ) -> anyhow::Result<Self> {
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
        Ok(Self {
            observation_writer: Arc::new(GroupCommit::new(db.clone())),
            read_audits: Arc::new(ReadAudits::new(
                audit_db,
                config.audit.durability,
                config.audit.flush_delay,
            )),
            db,
            passwords: PasswordHasher::new(config.password_hash_concurrency),
            tokens: Arc::new(tokens),
            config,
            logins_in_flight: Default::default(),
            scopes: Default::default(),
            sessions: Default::default(),
            history_counts: Default::default(),
            client_rows: Default::default(),
        })
    }
}
