//! Shared application state, cheap to clone into every request.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    auth::{jwt::TokenKeys, password::PasswordHasher},
    config::Config,
    graphql::KakehashiSchema,
};

#[derive(Clone)]
pub struct AppState {
    /// The connection pool (SQLite or PostgreSQL).
    pub db: DatabaseConnection,
    /// The configuration the server started with.
    pub config: Arc<Config>,
    /// Signs and verifies access tokens.
    pub tokens: Arc<TokenKeys>,
    /// Argon2id with bounded concurrency.
    pub passwords: PasswordHasher,
    /// The GraphQL schema, built once without data; per-request data is attached to each request.
    pub schema: KakehashiSchema,
}

impl AppState {
    /// Builds the state; the configuration must already have its JWT secret resolved.
    pub fn new(db: DatabaseConnection, config: Config) -> anyhow::Result<Self> {
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
        Ok(Self {
            db,
            passwords: PasswordHasher::new(config.password_hash_concurrency),
            tokens: Arc::new(tokens),
            config: Arc::new(config),
            schema,
        })
    }
}
