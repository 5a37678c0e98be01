//! The test app: server, database, HTTP client and GraphQL helpers.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Mutex,
    time::Duration,
};

use kakehashi::Config;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// The JWT secret every test server uses, so tests can forge tokens on purpose.
pub(crate) const TEST_JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";
pub(crate) const DEMO_PASSWORD: &str = kakehashi_tools::seed::DEMO_PASSWORD;

/// A database of one test, removed when the test ends (even when it panics).
pub(crate) enum TestDb {
    Sqlite {
        _dir: tempfile::TempDir,
        url: String,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
    /// Another server's database (a second instance); its owner removes it.
    Shared { url: String },
}

impl TestDb {
    pub(crate) async fn create() -> Self {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(base) if base.starts_with("postgres") => {
                let server = server_part(&base);
                let admin_url = format!("{server}/postgres");
                let name = format!("kk_test_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(&admin_url)
                    .await
                    .expect("connect to TEST_DATABASE_URL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let url = format!("{server}/{name}");
                TestDb::Postgres {
                    admin_url,
                    name,
                    url,
                }
            }
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("kakehashi.db").display()
                );
                TestDb::Sqlite { _dir: dir, url }
            }
        }
    }

    pub(crate) fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url, .. } | TestDb::Postgres { url, .. } | TestDb::Shared { url } => {
                url
            }
        }
    }
}

/// `postgres://user@host:port/db?x` → `postgres://user@host:port`.
fn server_part(url: &str) -> String {
    let without_query = url.split('?').next().unwrap_or(url);
    let scheme_end = without_query.find("://").map_or(0, |i| i + 3);
    match without_query[scheme_end..].find('/') {
        Some(slash) => without_query[..scheme_end + slash].to_owned(),
        None => without_query.to_owned(),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres {
            admin_url, name, ..
        } = self
        {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs inside the test's runtime: do the async work on a thread of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async {
                    let admin = Database::connect(&admin_url).await.ok()?;
                    admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await
                        .ok()?;
                    admin.close().await.ok()
                })
            })
            .join();
        }
    }
}

/// A running server with its database.
pub(crate) struct TestApp {
    pub addr: SocketAddr,
    pub url: String,
    pub client: reqwest::Client,
    pub db: TestDb,
    pub state: kakehashi::AppState,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// CI installs the Japanese dictionary and sets `KAKEHASHI_REQUIRE_DICTIONARY`: there a server
/// without it fails here, by name, rather than as a fact check that answers differently.
fn require_dictionary() {
    use kakehashi::language::analysis::{self, Status};
    if std::env::var_os("KAKEHASHI_REQUIRE_DICTIONARY").is_none() {
        return;
    }
    if let status @ (Status::Absent { .. } | Status::Failed { .. }) = analysis::status() {
        panic!(
            "KAKEHASHI_REQUIRE_DICTIONARY is set but Japanese analysis is unavailable \
             ({status:?}): install mecab-ipadic (README: Japanese analysis)"
        );
    }
}

impl TestApp {
    /// A server with the demo organizations and accounts.
    pub(crate) async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub(crate) async fn spawn_with(tweak: impl FnOnce(&mut Config) + Send + 'static) -> Self {
        Self::spawn_on(TestDb::create().await, tweak, true).await
    }

    /// A second server on this server's database (as two instances behind a load balancer).
    /// Drop it before `self`.
    pub(crate) async fn spawn_sibling(&self) -> Self {
        self.spawn_sibling_with(|_| {}).await
    }

    /// [`TestApp::spawn_sibling`] with its own configuration tweak.
    pub(crate) async fn spawn_sibling_with(
        &self,
        tweak: impl FnOnce(&mut Config) + Send + 'static,
    ) -> Self {
        Self::spawn_on(
            TestDb::Shared {
                url: self.db.url().to_owned(),
            },
            tweak,
            false,
        )
        .await
    }

    /// A server with an empty (migrated) database.
    pub(crate) async fn spawn_empty_with(tweak: impl FnOnce(&mut Config) + Send + 'static) -> Self {
        Self::spawn_on(TestDb::create().await, tweak, false).await
    }

    /// Seeds the demo (when asked) before the server starts, as `kakehashi serve` does: the
    /// event hub and the webhook dispatcher then start after the seed's events, which a
    /// webhook registered later must never receive.
    async fn spawn_on(
        db: TestDb,
        tweak: impl FnOnce(&mut Config) + Send + 'static,
        demo: bool,
    ) -> Self {
        let mut config = Self::config(db.url());
        tweak(&mut config);
        let state = kakehashi::build_state(config).await.expect("build state");
        require_dictionary();
        if demo {
            kakehashi_tools::seed::seed_demo(&state)
                .await
                .expect("seed demo");
        }
        let server = kakehashi::Server::bind(state.clone()).await.expect("bind");
        let addr = server.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(server.run(async move {
            let _ = rx.await;
        }));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        TestApp {
            addr,
            url: format!("http://{addr}/graphql"),
            client,
            db,
            state,
            shutdown: Some(tx),
        }
    }

    /// Starts a graceful shutdown (as SIGTERM would).
    pub(crate) fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// The WebSocket endpoint.
    pub(crate) fn ws_url(&self) -> String {
        format!("ws://{}/graphql/ws", self.addr)
    }

    /// The configuration of a test server on `database_url`.
    pub(crate) fn config(database_url: &str) -> Config {
        Config {
            database_url: database_url.to_owned(),
            bind_addr: "127.0.0.1:0".parse().expect("addr"),
            jwt_secret: Some(TEST_JWT_SECRET.as_bytes().to_vec()),
            // The demo's risk signs happened days ago, so the first sweep would push
            // RISK_SIGN_OVERDUE into other tests' subscriptions; the test of the sweep sets its own.
            risk_sweep_interval: std::time::Duration::from_secs(3600),
            ..Config::default()
        }
    }

    /// POSTs a GraphQL operation (as `application/json`) and returns the whole response body.
    pub(crate) async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut req = self
            .client
            .post(&self.url)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request");
        assert_eq!(
            res.status(),
            200,
            "GraphQL over application/json answers 200"
        );
        res.json().await.expect("json body")
    }

    /// Signs in and returns (access token, refresh token).
    pub(crate) async fn login(&self, email: &str) -> (String, String) {
        self.login_with(email, DEMO_PASSWORD)
            .await
            .expect("login succeeds")
    }

    pub(crate) async fn login_with(
        &self,
        email: &str,
        password: &str,
    ) -> Result<(String, String), Value> {
        let body = self
            .gql(
                None,
                "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken } }",
                json!({ "i": { "email": email, "password": password } }),
            )
            .await;
        match body.pointer("/data/login") {
            Some(l) if !l.is_null() => Ok((
                l["accessToken"].as_str().expect("accessToken").to_owned(),
                l["refreshToken"].as_str().expect("refreshToken").to_owned(),
            )),
            _ => Err(body),
        }
    }
}

/// The first error's `extensions.code`, or `None` when the response has no error.
pub(crate) fn error_code(body: &Value) -> Option<&str> {
    body.pointer("/errors/0/extensions/code")
        .and_then(Value::as_str)
}

/// Asserts the response failed with `code` and leaked nothing internal.
#[track_caller]
pub(crate) fn assert_error(body: &Value, code: &str) {
    assert_eq!(error_code(body), Some(code), "expected {code}, got {body}");
    assert_no_internals(body);
}

/// No SQL, table names or Rust internals in what a client sees.
#[track_caller]
pub(crate) fn assert_no_internals(body: &Value) {
    let text = body.to_string().to_lowercase();
    for needle in [
        "sqlx",
        "sqlite",
        "postgres",
        "select ",
        "staff_members",
        "panicked",
        "dberr",
        "src/",
    ] {
        assert!(!text.contains(needle), "response leaks {needle:?}: {body}");
    }
}

/// The folder with the Node clients, their dependencies installed (once per test run, and again
/// whenever `package-lock.json` changed since the last install).
pub(crate) fn js_dir() -> PathBuf {
    static INSTALLED: Mutex<bool> = Mutex::new(false);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("js");
    let mut done = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    if !*done {
        let lock =
            std::fs::read(dir.join("package-lock.json")).expect("tests/js/package-lock.json");
        let stamp_path = dir.join("node_modules").join(".kakehashi-lock");
        let current = std::fs::read(&stamp_path).is_ok_and(|stamp| stamp == lock);
        if !current {
            let status = std::process::Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&dir)
                .status()
                .expect("npm must be installed to run the JavaScript client tests");
            assert!(status.success(), "npm ci in tests/js failed");
            std::fs::write(&stamp_path, &lock).expect("write the install stamp");
        }
    }
    *done = true;
    dir
}
