//! Configuration from environment variables (the CLI maps its flags onto the same struct).
//!
//! Secrets are redacted in `Debug` so that logging the configuration at start-up is safe.

use std::{fmt, net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::{Context, bail};

mod audit;
pub use audit::{AuditDurability, AuditSettings};

/// Development generates conveniences (a JWT secret, GraphiQL); production refuses to guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Everything the server needs to know at start.
#[derive(Clone)]
pub struct Config {
    /// `sqlite://…` (the embedded default) or `postgres://…`.
    pub database_url: String,
    pub bind_addr: SocketAddr,
    pub environment: Environment,
    /// HS256 key for access tokens. `None` until [`Config::resolve_jwt_secret`] ran.
    pub jwt_secret: Option<Vec<u8>>,
    /// Where the development secret is kept (beside the SQLite file, or the working directory).
    pub jwt_secret_file: PathBuf,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub introspection: bool,
    pub graphiql: bool,
    pub log_format: LogFormat,
    /// Apply pending migrations when `serve` starts.
    pub run_migrations: bool,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Query limits, checked before execution.
    pub max_query_depth: usize,
    pub max_query_complexity: usize,
    pub max_aliases: usize,
    /// Database pool size.
    pub db_max_connections: u32,
    /// Concurrent argon2 hashes (each takes ~19 MiB).
    pub password_hash_concurrency: usize,
    /// Browser origins allowed to open `/graphql/ws` (besides the server's own); `*` allows any.
    pub ws_allowed_origins: Vec<String>,
    /// Time a new socket has to send `connection_init` before it is closed with 4408.
    pub ws_init_timeout: Duration,
    /// Interval of the server's keep-alive `ping` messages.
    pub ws_keep_alive: Duration,
    /// Largest WebSocket message accepted from a client.
    pub ws_max_message_bytes: usize,
    /// Subscriptions one socket may run at once.
    pub ws_max_subscriptions: usize,
    /// Events kept in the outbox for resuming subscriptions (`after`); older cursors get
    /// `CURSOR_EXPIRED`.
    pub outbox_retention: Duration,
    /// Safety poll of the outbox, in case a wake-up (NOTIFY) was missed.
    pub outbox_poll_interval: Duration,
    /// How often each instance looks for risk signs past their acknowledgement deadline.
    pub risk_sweep_interval: Duration,
    /// The IPADIC sources for the Japanese analyser (`LANGUAGE_DICTIONARY`; default Debian's
    /// `/usr/share/mecab/dic/ipadic` when present).
    pub language_dictionary: Option<std::path::PathBuf>,
    /// Where the compiled dictionary is cached (`LANGUAGE_CACHE_DIR`).
    pub language_cache_dir: std::path::PathBuf,
    /// Events buffered for live subscribers; one that falls further behind is told to resume.
    pub subscriber_buffer: usize,
    /// Items one `importClients` / `importObservations` call may carry.
    pub import_max_items: usize,
    /// Allow `http://` webhook URLs and private, loopback or link-local addresses (development
    /// and tests only: in production a webhook could otherwise reach internal services).
    pub webhook_allow_insecure: bool,
    /// Attempts before a delivery is marked failed (the first one included).
    pub webhook_max_attempts: i32,
    /// The first retry waits this long; each further one twice as long (capped at six hours).
    pub webhook_retry_base: Duration,
    /// How long an endpoint has to answer.
    pub webhook_timeout: Duration,
    /// Persisted queries: `off`, `automatic` (Apollo APQ, the default) or `allowlist`.
    pub persisted_queries: PersistedQueriesMode,
    /// The manifest of allowed operations (required in `allowlist` mode).
    pub persisted_queries_file: Option<PathBuf>,
    /// When set, `/metrics` requires `Authorization: Bearer <this>`.
    pub metrics_token: Option<String>,
    /// Login budgets (see [`LoginBudgets`]).
    pub login: LoginBudgets,
    /// Reverse proxies whose `X-Forwarded-For` names the client's address (login throttling
    /// keys on that address); from anyone else the header is ignored.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Browser origins whose pages may call `/graphql` (CORS); empty means same-origin only,
    /// `*` any origin. Also the default of `ws_allowed_origins`, since a front end served from
    /// its own origin needs both.
    pub cors_allowed_origins: Vec<String>,
    /// Time a client has to send a request's headers, counted from the connection's opening or
    /// from the first byte of a later request: a client that never sends, or trickles, is cut.
    pub header_read_timeout: Duration,
    /// Time a client has to send a request's whole body once its headers arrived (then 408).
    pub body_read_timeout: Duration,
    /// A connection with no request for this long is closed, as is one whose client stops
    /// reading a response for this long. Upgraded WebSockets are exempt (they have pings).
    pub idle_timeout: Duration,
    /// Connections served at once, WebSockets included; lowered at start to what the open-file
    /// limit allows. Connections over it get health checks only.
    pub max_connections: usize,
    /// Connections one client address may hold at once (0: no bound). Loopback addresses are
    /// exempt: on the server's own host they are a reverse proxy, a sidecar or a benchmark,
    /// which carry many clients on one address.
    pub max_connections_per_address: usize,
    /// Read-audit durability and the audit log's retention (`AUDIT_*`, see [`AuditSettings`]).
    pub audit: AuditSettings,
}

/// How many password checks login allows (token buckets shared by every instance through the
/// database; see `service::sessions`).
#[derive(Debug, Clone, Copy)]
pub struct LoginBudgets {
    /// Per client address, whatever the account: a burst, then so many a minute.
    pub address_burst: u32,
    pub address_per_minute: u32,
    /// Per address and account (guesses at one account from one place).
    pub account_burst: u32,
    pub account_per_minute: u32,
    /// Per account, from addresses it never signed in from (a guess spread over many
    /// addresses); addresses it signed in from are not limited by this.
    pub unknown_addresses_per_hour: u32,
    /// For the whole deployment: bounds the argon2 work an attacker can cause.
    pub global_burst: u32,
    pub global_per_minute: u32,
}

impl Default for LoginBudgets {
    fn default() -> Self {
        Self {
            address_burst: 30,
            address_per_minute: 30,
            account_burst: 3,
            account_per_minute: 3,
            unknown_addresses_per_hour: 30,
            global_burst: 60,
            global_per_minute: 600,
        }
    }
}

/// Which persisted-query protocol the server speaks (see [`crate::persisted`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersistedQueriesMode {
    Off,
    Automatic,
    AllowList,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("bind_addr", &self.bind_addr)
            .field("environment", &self.environment)
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("introspection", &self.introspection)
            .field("graphiql", &self.graphiql)
            .field("log_format", &self.log_format)
            .field("run_migrations", &self.run_migrations)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("import_max_items", &self.import_max_items)
            .field("webhook_allow_insecure", &self.webhook_allow_insecure)
            .field("persisted_queries", &self.persisted_queries)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "<redacted>"),
            )
            .field("cors_allowed_origins", &self.cors_allowed_origins)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("body_read_timeout", &self.body_read_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_connections", &self.max_connections)
            .field(
                "max_connections_per_address",
                &self.max_connections_per_address,
            )
            .field("audit", &self.audit)
            .finish_non_exhaustive()
    }
}

/// Hides a password in `scheme://user:password@host/db`.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!(
                    "{}{}:<redacted>{}",
                    &url[..scheme_end + 3],
                    user,
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl Default for Config {
    /// The development defaults: an SQLite file in the working directory.
    fn default() -> Self {
        Self {
            database_url: "sqlite://kakehashi.db?mode=rwc".into(),
            bind_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            environment: Environment::Development,
            jwt_secret: None,
            jwt_secret_file: PathBuf::from("kakehashi.jwt-secret"),
            jwt_issuer: "kakehashi".into(),
            jwt_audience: "kakehashi-api".into(),
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            introspection: true,
            graphiql: true,
            log_format: LogFormat::Pretty,
            run_migrations: true,
            max_body_bytes: 256 * 1024,
            max_query_depth: 12,
            max_query_complexity: 1000,
            max_aliases: 30,
            db_max_connections: 8,
            password_hash_concurrency: 2,
            ws_allowed_origins: Vec::new(),
            ws_init_timeout: Duration::from_secs(10),
            ws_keep_alive: Duration::from_secs(15),
            ws_max_message_bytes: 64 * 1024,
            ws_max_subscriptions: 50,
            outbox_retention: Duration::from_secs(7 * 24 * 3600),
            outbox_poll_interval: Duration::from_millis(1000),
            risk_sweep_interval: Duration::from_secs(60),
            language_dictionary: None,
            language_cache_dir: crate::language::analysis::default_cache_dir(),
            subscriber_buffer: 4096,
            import_max_items: 500,
            webhook_allow_insecure: false,
            webhook_max_attempts: 8,
            webhook_retry_base: Duration::from_secs(30),
            webhook_timeout: Duration::from_secs(10),
            persisted_queries: PersistedQueriesMode::Automatic,
            persisted_queries_file: None,
            metrics_token: None,
            login: LoginBudgets::default(),
            trusted_proxies: Vec::new(),
            cors_allowed_origins: Vec::new(),
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            // Above the 10,000 sockets of the fan-out benchmark, below common open-file limits
            // (and lowered at start to what the limit allows).
            max_connections: 16_384,
            // An office behind one NAT address: dozens of staff, each browser holding a few
            // connections and a WebSocket per tab.
            max_connections_per_address: 1_000,
            audit: AuditSettings::new("sqlite://kakehashi.db?mode=rwc"),
        }
    }
}

impl Config {
    /// Reads every `KAKEHASHI_*` / standard variable; unset ones keep their defaults.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Same as [`Config::from_env`] over any lookup (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let mut c = Self::default();
        if let Some(v) = get("KAKEHASHI_ENV") {
            c.environment = match v.to_ascii_lowercase().as_str() {
                "development" | "dev" => Environment::Development,
                "production" | "prod" => Environment::Production,
                other => bail!("KAKEHASHI_ENV must be development or production, not {other:?}"),
            };
        }
        let prod = c.environment == Environment::Production;
        c.introspection = !prod;
        c.graphiql = !prod;
        if prod {
            c.log_format = LogFormat::Json;
        }
        if let Some(v) = get("DATABASE_URL") {
            c.database_url = v;
        }
        c.jwt_secret_file = sqlite_sibling(&c.database_url, "jwt-secret");
        if let Some(v) = get("BIND_ADDR") {
            c.bind_addr = v
                .parse()
                .with_context(|| format!("BIND_ADDR {v:?} is not host:port"))?;
        }
        if let Some(v) = get("JWT_SECRET") {
            if v.len() < 32 {
                bail!("JWT_SECRET must be at least 32 bytes");
            }
            c.jwt_secret = Some(v.into_bytes());
        }
        if let Some(v) = get("JWT_ISSUER") {
            c.jwt_issuer = v;
        }
        if let Some(v) = get("JWT_AUDIENCE") {
            c.jwt_audience = v;
        }
        if let Some(v) = get("ACCESS_TOKEN_TTL_SECONDS") {
            c.access_token_ttl = Duration::from_secs(parse_num(&v, "ACCESS_TOKEN_TTL_SECONDS")?);
        }
        if let Some(v) = get("REFRESH_TOKEN_TTL_SECONDS") {
            c.refresh_token_ttl = Duration::from_secs(parse_num(&v, "REFRESH_TOKEN_TTL_SECONDS")?);
        }
        if let Some(v) = get("INTROSPECTION") {
            c.introspection = parse_bool(&v, "INTROSPECTION")?;
        }
        if let Some(v) = get("GRAPHIQL") {
            c.graphiql = parse_bool(&v, "GRAPHIQL")?;
        }
        if let Some(v) = get("LOG_FORMAT") {
            c.log_format = match v.to_ascii_lowercase().as_str() {
                "pretty" => LogFormat::Pretty,
                "json" => LogFormat::Json,
                other => bail!("LOG_FORMAT must be pretty or json, not {other:?}"),
            };
        }
        if let Some(v) = get("RUN_MIGRATIONS") {
            c.run_migrations = parse_bool(&v, "RUN_MIGRATIONS")?;
        }
        if let Some(v) = get("MAX_BODY_BYTES") {
            c.max_body_bytes = parse_num(&v, "MAX_BODY_BYTES")?;
        }
        if let Some(v) = get("DB_MAX_CONNECTIONS") {
            c.db_max_connections = parse_num(&v, "DB_MAX_CONNECTIONS")?;
        }
        if let Some(v) = get("CORS_ALLOWED_ORIGINS") {
            c.cors_allowed_origins = origins(&v);
            c.ws_allowed_origins = c.cors_allowed_origins.clone();
        }
        if let Some(v) = get("WS_ALLOWED_ORIGINS") {
            c.ws_allowed_origins = origins(&v);
        }
        if let Some(v) = get("WS_INIT_TIMEOUT_SECONDS") {
            c.ws_init_timeout = Duration::from_secs(parse_num(&v, "WS_INIT_TIMEOUT_SECONDS")?);
        }
        if let Some(v) = get("WS_KEEP_ALIVE_SECONDS") {
            c.ws_keep_alive =
                Duration::from_secs(parse_num::<u64>(&v, "WS_KEEP_ALIVE_SECONDS")?.max(1));
        }
        if let Some(v) = get("WS_MAX_MESSAGE_BYTES") {
            c.ws_max_message_bytes = parse_num(&v, "WS_MAX_MESSAGE_BYTES")?;
        }
        if let Some(v) = get("WS_MAX_SUBSCRIPTIONS") {
            c.ws_max_subscriptions = parse_num(&v, "WS_MAX_SUBSCRIPTIONS")?;
        }
        if let Some(v) = get("OUTBOX_RETENTION_SECONDS") {
            // At most ten years, so that "now minus the retention" stays a valid time.
            c.outbox_retention = Duration::from_secs(
                parse_num::<u64>(&v, "OUTBOX_RETENTION_SECONDS")?.clamp(1, 10 * 366 * 24 * 3600),
            );
        }
        // READING_DICTIONARY is the former name of LANGUAGE_DICTIONARY.
        if let Some(v) = get("LANGUAGE_DICTIONARY")
            .or_else(|| get("READING_DICTIONARY"))
            .filter(|v| !v.trim().is_empty())
        {
            c.language_dictionary = Some(v.into());
        }
        if let Some(v) = get("LANGUAGE_CACHE_DIR").filter(|v| !v.trim().is_empty()) {
            c.language_cache_dir = v.into();
        }
        if let Some(v) = get("RISK_SWEEP_SECONDS") {
            c.risk_sweep_interval =
                Duration::from_secs(parse_num::<u64>(&v, "RISK_SWEEP_SECONDS")?.clamp(1, 86_400));
        }
        if let Some(v) = get("OUTBOX_POLL_MILLIS") {
            c.outbox_poll_interval =
                Duration::from_millis(parse_num::<u64>(&v, "OUTBOX_POLL_MILLIS")?.max(10));
        }
        if let Some(v) = get("SUBSCRIBER_BUFFER") {
            c.subscriber_buffer = parse_num::<usize>(&v, "SUBSCRIBER_BUFFER")?.max(16);
        }
        if let Some(v) = get("IMPORT_MAX_ITEMS") {
            c.import_max_items = parse_num::<usize>(&v, "IMPORT_MAX_ITEMS")?.clamp(1, 10_000);
        }
        if let Some(v) = get("WEBHOOK_ALLOW_INSECURE") {
            c.webhook_allow_insecure = parse_bool(&v, "WEBHOOK_ALLOW_INSECURE")?;
        }
        if let Some(v) = get("WEBHOOK_MAX_ATTEMPTS") {
            c.webhook_max_attempts = parse_num::<i32>(&v, "WEBHOOK_MAX_ATTEMPTS")?.clamp(1, 30);
        }
        if let Some(v) = get("WEBHOOK_RETRY_BASE_MILLIS") {
            c.webhook_retry_base =
                Duration::from_millis(parse_num::<u64>(&v, "WEBHOOK_RETRY_BASE_MILLIS")?.max(10));
        }
        if let Some(v) = get("WEBHOOK_TIMEOUT_SECONDS") {
            c.webhook_timeout =
                Duration::from_secs(parse_num::<u64>(&v, "WEBHOOK_TIMEOUT_SECONDS")?.clamp(1, 60));
        }
        if let Some(v) = get("PERSISTED_QUERIES") {
            c.persisted_queries = match v.to_ascii_lowercase().as_str() {
                "off" => PersistedQueriesMode::Off,
                "automatic" => PersistedQueriesMode::Automatic,
                "allowlist" => PersistedQueriesMode::AllowList,
                other => {
                    bail!("PERSISTED_QUERIES must be off, automatic or allowlist, not {other:?}")
                }
            };
        }
        if let Some(v) = get("PERSISTED_QUERIES_FILE").filter(|v| !v.trim().is_empty()) {
            c.persisted_queries_file = Some(v.into());
        }
        if c.persisted_queries == PersistedQueriesMode::AllowList
            && c.persisted_queries_file.is_none()
        {
            bail!(
                "PERSISTED_QUERIES=allowlist needs PERSISTED_QUERIES_FILE (the operation manifest)"
            );
        }
        if let Some(v) = get("METRICS_TOKEN").filter(|v| !v.trim().is_empty()) {
            c.metrics_token = Some(v);
        }
        for (name, slot) in [
            ("LOGIN_ADDRESS_BURST", &mut c.login.address_burst),
            ("LOGIN_ADDRESS_PER_MINUTE", &mut c.login.address_per_minute),
            ("LOGIN_ACCOUNT_BURST", &mut c.login.account_burst),
            ("LOGIN_ACCOUNT_PER_MINUTE", &mut c.login.account_per_minute),
            (
                "LOGIN_UNKNOWN_ADDRESSES_PER_HOUR",
                &mut c.login.unknown_addresses_per_hour,
            ),
            ("LOGIN_GLOBAL_BURST", &mut c.login.global_burst),
            ("LOGIN_GLOBAL_PER_MINUTE", &mut c.login.global_per_minute),
        ] {
            if let Some(v) = get(name) {
                *slot = parse_num::<u32>(&v, name)?.max(1);
            }
        }
        if let Some(v) = get("TRUSTED_PROXIES") {
            c.trusted_proxies = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse()
                        .with_context(|| format!("TRUSTED_PROXIES: {s:?} is not an IP address"))
                })
                .collect::<anyhow::Result<_>>()?;
        }
        // Timeouts of at least a second: zero would cut every connection at once.
        for (name, field) in [
            ("HEADER_READ_TIMEOUT_SECONDS", &mut c.header_read_timeout),
            ("BODY_READ_TIMEOUT_SECONDS", &mut c.body_read_timeout),
            ("IDLE_TIMEOUT_SECONDS", &mut c.idle_timeout),
        ] {
            if let Some(v) = get(name) {
                *field = Duration::from_secs(parse_num::<u64>(&v, name)?.clamp(1, 3600));
            }
        }
        if let Some(v) = get("MAX_CONNECTIONS") {
            c.max_connections = parse_num::<usize>(&v, "MAX_CONNECTIONS")?.max(1);
        }
        if let Some(v) = get("MAX_CONNECTIONS_PER_ADDRESS") {
            c.max_connections_per_address = parse_num(&v, "MAX_CONNECTIONS_PER_ADDRESS")?;
        }
        c.audit = AuditSettings::from_lookup(&get, &c.database_url)?;
        Ok(c)
    }

    /// Makes sure a signing secret exists. Production must be given one; development creates a
    /// random one once and keeps it in a file so that tokens survive a restart.
    pub fn resolve_jwt_secret(&mut self) -> anyhow::Result<()> {
        if self.jwt_secret.is_some() {
            return Ok(());
        }
        if self.environment == Environment::Production {
            bail!("JWT_SECRET is required in production (KAKEHASHI_ENV=production)");
        }
        let path = &self.jwt_secret_file;
        if let Ok(existing) = std::fs::read_to_string(path) {
            let existing = existing.trim();
            if existing.len() >= 32 {
                self.jwt_secret = Some(existing.as_bytes().to_vec());
                return Ok(());
            }
        }
        let secret = crate::auth::random_token();
        std::fs::write(path, &secret)
            .with_context(|| format!("writing the development JWT secret to {}", path.display()))?;
        tracing::warn!(
            path = %path.display(),
            "no JWT_SECRET set: generated a development secret; set JWT_SECRET in production"
        );
        self.jwt_secret = Some(secret.into_bytes());
        Ok(())
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// `sqlite://dir/kakehashi.db?…` → `dir/kakehashi.jwt-secret`; other databases use the working
/// directory.
fn sqlite_sibling(url: &str, extension: &str) -> PathBuf {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(rest));
    match path {
        Some(p) if !p.is_empty() && p != ":memory:" => PathBuf::from(p).with_extension(extension),
        _ => PathBuf::from(format!("kakehashi.{extension}")),
    }
}

/// A comma-separated list of origins, compared without a trailing slash.
fn origins(v: &str) -> Vec<String> {
    v.split(',')
        .map(|o| o.trim().trim_end_matches('/').to_owned())
        .filter(|o| !o.is_empty())
        .collect()
}

fn parse_num<T: std::str::FromStr>(v: &str, name: &str) -> anyhow::Result<T> {
    v.trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("{name} must be a whole number, not {v:?}"))
}

fn parse_bool(v: &str, name: &str) -> anyhow::Result<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => bail!("{name} must be true or false, not {v:?}"),
    }
}

#[cfg(test)]
mod tests;
