//! What the tests of the real binary share: starting `kakehashi serve` and reading its log.

#![expect(
    clippy::expect_used,
    reason = "a test should fail loudly on an unexpected value"
)]
#![allow(
    dead_code,
    reason = "each test binary compiles this module and uses a part of it"
)]

use std::{process::Stdio, time::Duration};

use tokio::{
    io::{AsyncBufReadExt, BufReader, Lines},
    process::{Child, ChildStderr, Command},
};

/// The rest of a server's log, after the line that said where it listens.
pub(crate) type Log = Lines<BufReader<ChildStderr>>;

/// Starts `kakehashi serve` on a free port with JSON logs and the given extra environment;
/// returns the process, its base URL, the log lines read so far and the rest of the log.
/// The caller must keep reading the log (or hand it to [`drain`]) so the child never blocks.
pub(crate) async fn serve(
    database_url: &str,
    jwt_secret: &str,
    demo: bool,
    env: &[(&str, &str)],
) -> (Child, String, Vec<String>, Log) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kakehashi"));
    cmd.args(["serve", "--bind", "127.0.0.1:0"]);
    if demo {
        cmd.arg("--demo");
    }
    cmd.env("DATABASE_URL", database_url)
        .env("JWT_SECRET", jwt_secret)
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the server binary runs");
    let mut log = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut seen = Vec::new();
    let base = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let line = log
                .next_line()
                .await
                .expect("read the log")
                .expect("the server started");
            seen.push(line.clone());
            if let Some(at) = line.find("listening on http://") {
                let rest = &line[at + "listening on ".len()..];
                break rest.split("/graphql").next().expect("url").to_owned();
            }
        }
    })
    .await
    .expect("the server listened in time");
    (child, base, seen, log)
}

/// POSTs a GraphQL operation to `<base>/graphql` and returns the response body.
pub(crate) async fn gql(
    http: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    query: &str,
    variables: serde_json::Value,
) -> serde_json::Value {
    let mut req = http
        .post(format!("{base}/graphql"))
        .json(&serde_json::json!({ "query": query, "variables": variables }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send()
        .await
        .expect("request")
        .json()
        .await
        .expect("a JSON body")
}

/// Signs a demo account in (password `kakehashi-demo`) and returns its access token.
pub(crate) async fn login(http: &reqwest::Client, base: &str, email: &str) -> String {
    let body = gql(
        http,
        base,
        None,
        "mutation($e: String!) { login(input: { email: $e, password: \"kakehashi-demo\" }) { accessToken } }",
        serde_json::json!({ "e": email }),
    )
    .await;
    body["data"]["login"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

/// The id of one of the signed-in facility's current clients, by display name.
pub(crate) async fn facility_client(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    name: &str,
) -> String {
    let page = gql(
        http,
        base,
        Some(token),
        "{ facility { clients(first: 100) { nodes { id displayName } } } }",
        serde_json::json!({}),
    )
    .await;
    page["data"]["facility"]["clients"]["nodes"]
        .as_array()
        .and_then(|nodes| nodes.iter().find(|c| c["displayName"] == name))
        .and_then(|c| c["id"].as_str())
        .unwrap_or_else(|| panic!("no client {name} in {page}"))
        .to_owned()
}

/// Reads and drops the rest of a log in the background.
pub(crate) fn drain(mut log: Log) {
    tokio::spawn(async move { while let Ok(Some(_)) = log.next_line().await {} });
}

/// `postgres://user@host:port/db?x` → `postgres://user@host:port`.
pub(crate) fn server_part(url: &str) -> String {
    let without_query = url.split('?').next().unwrap_or(url);
    let scheme_end = without_query.find("://").map_or(0, |i| i + 3);
    match without_query[scheme_end..].find('/') {
        Some(slash) => without_query[..scheme_end + slash].to_owned(),
        None => without_query.to_owned(),
    }
}
