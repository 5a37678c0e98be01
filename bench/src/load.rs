//! `cargo run --release -p bench -- load [DATABASE_URL]`: the load scenarios, driven by
//! [`oha`](https://github.com/hatoo/oha) against a server in a child process.
//!
//! 1. **Data.** Unless the database already holds them, generates 1,000 clients through the
//!    service layer (the real write path): each registered by a consultation office, on one
//!    facility's care team, with a sharing consent, a draft service-use plan, a scheduled
//!    meeting and 200 observations of varied Japanese text (200,000 in all). Without
//!    DATABASE_URL the data lives in `target/bench-load/load.db`, kept between runs.
//! 2. **Server.** `serve-child` (the library and allocator of `kakehashi serve`) on that
//!    database; its resident memory is read from `/proc` when idle and after each scenario.
//! 3. **Scenarios**, each 10 seconds of `oha` (the views at 10 concurrent requests, the history
//!    page at 100, `recordObservation` with 50 writers, login one at a time per account) (`OHA` names the binary; default `oha` on the
//!    PATH, from `cargo install oha --locked`): login; the facility view; the consultation
//!    caseload; a client history page of 50; `recordObservation`. For each: throughput, p50 /
//!    p99 latency, SQL statements per operation (from `kakehashi_sql_statements_total` in `/metrics`)
//!    and the GraphQL errors counted by the server (`oha` sees only HTTP statuses).

use std::{path::Path, time::Duration};

use anyhow::{Context, bail};
use chrono::Utc;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::fanout::{rss_kib, spawn_server};

mod data;

use data::generate;
pub(crate) use data::{one_client, viewer};

const CLIENTS: usize = 1_000;
const OBSERVATIONS_PER_CLIENT: usize = 200;
/// Generated clients' names start with this, so a rerun sees how many exist already.
const NAME_PREFIX: &str = "負荷";
const SECONDS: u32 = 10;

pub(crate) async fn run(url: Option<String>) -> anyhow::Result<()> {
    let database_url = match url {
        Some(u) => u,
        None => {
            std::fs::create_dir_all("target/bench-load")?;
            let path = Path::new("target/bench-load/load.db")
                .canonicalize()
                .or_else(|_| {
                    std::fs::File::create("target/bench-load/load.db")?;
                    Path::new("target/bench-load/load.db").canonicalize()
                })?;
            format!("sqlite://{}?mode=rwc", path.display())
        }
    };
    generate(&database_url).await?;
    if database_url.starts_with("postgres") {
        // What autovacuum does in time on a real server: with statistics from before the data
        // (or before earlier runs' writes) the planner guesses, and may sort a whole client's
        // history for one page.
        let db = sea_orm::Database::connect(&database_url).await?;
        db.execute_unprepared("ANALYZE").await?;
        db.close().await?;
    }

    let oha = std::env::var("OHA").unwrap_or_else(|_| "oha".into());
    // Kept until the end: dropping it stops the server.
    let (_server, pid, port) = spawn_server(&database_url).await?;
    let base = format!("http://127.0.0.1:{port}");
    let url = format!("{base}/graphql");
    tokio::time::sleep(Duration::from_secs(3)).await;
    println!("server idle after start: {}", memory(pid)?);

    let http = reqwest::Client::new();
    let staff = login(&http, &url, "staff@himawari.example").await?;
    let specialist = login(&http, &url, "specialist@aozora.example").await?;
    println!(
        "after two logins: {} (argon2id takes 19 MiB per hash)",
        memory(pid)?
    );
    let page: Value = post(
        &http,
        &url,
        Some(&staff),
        json!({ "query": format!("{{ facility {{ clients(first: 100) {{ nodes {{ id displayName }} }} }} }}") }),
    )
    .await?;
    // The history page reads one generated client, `recordObservation` writes to another: each
    // run pages through the same 200 observations however many runs wrote before it.
    let generated: Vec<String> = page["data"]["facility"]["clients"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|n| {
            n["displayName"]
                .as_str()
                .is_some_and(|d| d.starts_with(NAME_PREFIX))
        })
        .filter_map(|n| n["id"].as_str().map(str::to_owned))
        .take(2)
        .collect();
    let [client_id, written_client_id] = <[String; 2]>::try_from(generated).map_err(|_| {
        anyhow::anyhow!("fewer than two generated clients in the facility view: {page}")
    })?;

    let scenarios: Vec<(&str, u32, Option<&str>, Value)> = vec![
        (
            "facility view",
            10,
            Some(&staff),
            json!({ "query": "query FacilityView { facility {
                clients(first: 50) { nodes { id displayName profileVisible
                  recentObservations(limit: 3) { fact interpretation category occurredFrom author { displayName } } } }
                clientsWithOpenRiskSigns { nodes { displayName } }
                recentObservations(first: 20, categories: [RISK_SIGN, UNSTABLE]) {
                  nodes { fact clientWords organization { name } client { displayName } } } } }" }),
        ),
        (
            "consultation caseload",
            10,
            Some(&specialist),
            json!({ "query": "query Caseload { consultation {
                caseload(first: 50) { nodes { newSharedObservationCount openRiskSignCount lastReviewedAt
                  client { id displayName careTeam { organization { name } relationship current } } } }
                sharedObservations(first: 20) { nodes { fact interpretation category organization { name } } }
                riskSigns { nodes { fact occurredFrom client { displayName } } } } }" }),
        ),
        (
            "client history page of 50",
            100,
            Some(&specialist),
            json!({ "query": "query History($c: ID!) { client(id: $c) { history(first: 50) {
                pageInfo { hasNextPage endCursor }
                edges { node { kind occurredAt item { ... on Observation { id fact category author { displayName } } } } } } } }",
                "variables": { "c": client_id } }),
        ),
        (
            "recordObservation",
            50,
            Some(&staff),
            json!({ "query": "mutation Record($i: RecordObservationInput!) { recordObservation(input: $i) { observation { id version recordedAt } } }",
                "variables": { "i": { "clientId": written_client_id, "content": {
                    "fact": "14:10 作業の終わりに「きょうは120個できた」と話し、道具を自分で片付けた。",
                    "category": "STABLE", "occurredFrom": Utc::now().to_rfc3339(), "visibility": "CARE_TEAM",
                    "tags": ["作業"] } } } }),
        ),
        (
            "login",
            1,
            None,
            json!({ "query": "mutation Login { login(input: { email: \"manager@himawari.example\", password: \"kakehashi-demo\" }) { accessToken } }" }),
        ),
    ];

    println!(
        "\n{:<28} {:>5} {:>10} {:>9} {:>9} {:>9} {:>11} {:>7} {:>9}",
        "scenario",
        "conc",
        "requests",
        "per s",
        "p50 ms",
        "p99 ms",
        "SQL per op",
        "errors",
        "anon MiB"
    );
    for (name, concurrency, token, body) in scenarios {
        let before = scrape(&http, &base).await?;
        let report = oha_run(&oha, &url, concurrency, token, &body).await?;
        let after = scrape(&http, &base).await?;
        let requests = report.requests.max(1);
        let statements = after.statements - before.statements;
        let errors = after.errors - before.errors;
        println!(
            "{name:<28} {concurrency:>5} {:>10} {:>9.0} {:>9.2} {:>9.2} {:>11.1} {:>7} {:>9.1}",
            report.requests,
            report.per_second,
            report.p50_ms,
            report.p99_ms,
            statements as f64 / requests as f64,
            errors + report.non_200,
            anon_kib(pid)? as f64 / 1024.0
        );
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    println!(
        "\nserver after the scenarios and 5 s idle: {}",
        memory(pid)?
    );
    println!(
        "database: {}",
        if database_url.starts_with("sqlite") {
            "SQLite"
        } else {
            "PostgreSQL"
        }
    );
    Ok(())
}

/// The server's own memory (anonymous: heap, stacks) and its resident total, which also counts
/// the mapped SQLite file and the binary's pages (shared with the page cache, reclaimable).
fn memory(pid: u32) -> anyhow::Result<String> {
    Ok(format!(
        "{:.1} MiB anonymous, {:.1} MiB resident with mapped files",
        anon_kib(pid)? as f64 / 1024.0,
        rss_kib(pid)? as f64 / 1024.0
    ))
}

fn anon_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("RssAnon")
}

struct OhaReport {
    requests: u64,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    non_200: u64,
}

async fn oha_run(
    oha: &str,
    url: &str,
    concurrency: u32,
    token: Option<&str>,
    body: &Value,
) -> anyhow::Result<OhaReport> {
    let mut cmd = tokio::process::Command::new(oha);
    cmd.args(["--no-tui", "--output-format", "json", "-z"])
        .arg(format!("{SECONDS}s"))
        .args([
            "-c",
            &concurrency.to_string(),
            "-m",
            "POST",
            "-T",
            "application/json",
        ])
        .args(["-d", &body.to_string()]);
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    let out = cmd
        .arg(url)
        .output()
        .await
        .with_context(|| format!("running {oha} (cargo install oha --locked, or set OHA)"))?;
    if !out.status.success() {
        bail!("oha failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let v: Value = serde_json::from_slice(&out.stdout)?;
    let statuses = v["statusCodeDistribution"]
        .as_object()
        .context("statuses")?;
    let count = |k: &str| statuses.get(k).and_then(Value::as_u64).unwrap_or(0);
    let requests: u64 = statuses.values().filter_map(Value::as_u64).sum();
    let seconds = |k: &str| v["latencyPercentiles"][k].as_f64().unwrap_or(f64::NAN) * 1000.0;
    Ok(OhaReport {
        requests,
        per_second: requests as f64 / v["summary"]["total"].as_f64().unwrap_or(f64::NAN),
        p50_ms: seconds("p50"),
        p99_ms: seconds("p99"),
        non_200: requests - count("200"),
    })
}

pub(crate) struct Scrape {
    pub(crate) statements: u64,
    pub(crate) errors: u64,
}

/// The server's statement count and its GraphQL error total, from `/metrics`.
pub(crate) async fn scrape(http: &reqwest::Client, base: &str) -> anyhow::Result<Scrape> {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    let number = |line: &str| -> u64 {
        line.rsplit(' ')
            .next()
            .and_then(|n| n.parse::<f64>().ok())
            .unwrap_or(0.0) as u64
    };
    Ok(Scrape {
        statements: text
            .lines()
            .find(|l| l.starts_with("kakehashi_sql_statements_total "))
            .map(number)
            .context("kakehashi_sql_statements_total")?,
        errors: text
            .lines()
            .filter(|l| l.starts_with("kakehashi_graphql_errors_total{"))
            .map(number)
            .sum(),
    })
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: Value,
) -> anyhow::Result<Value> {
    let mut req = http.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    Ok(req.send().await?.json().await?)
}

async fn login(http: &reqwest::Client, url: &str, email: &str) -> anyhow::Result<String> {
    let body = post(
        http,
        url,
        None,
        json!({ "query": "mutation($e: String!) { login(input: { email: $e, password: \"kakehashi-demo\" }) { accessToken } }",
                "variables": { "e": email } }),
    )
    .await?;
    body["data"]["login"]["accessToken"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("login failed: {body}"))
}
