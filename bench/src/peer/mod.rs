//! `peer [ENTRIES] [POSTGRES_ADMIN_URL | sqlite]`: a client's history page, Kakehashi against
//! PostGraphile 4 on the same PostgreSQL data, interleaved (issue 22).
//!
//! The peer a team would otherwise pick is a generic GraphQL layer over PostgreSQL, so the
//! history page must be measured against one, side by side, not against Kakehashi's own past.
//!
//! 1. **Data.** A fresh database `kk_peer_<pid>` on the PostgreSQL server of
//!    POSTGRES_ADMIN_URL (default `postgres://postgres@127.0.0.1:5432`, which needs to be allowed
//!    to create databases), dropped at the end, also after an error. Kakehashi's migrations and
//!    demo seed, then through the service layer ENTRIES (default 20,000) observations about
//!    山田 太郎 ([`crate::write_history`], the data of `history`) and 200 other clients on the
//!    same care teams with 50 observations each ([`crate::load::one_client`]).
//! 2. **Servers**, each in its own process: Kakehashi (`serve-child`) and PostGraphile 4.14.1
//!    (`bench/peer/server.js`, pinned with autocannon in `bench/peer/package-lock.json`, installed
//!    by `npm ci` when `bench/peer/node_modules` is missing; Node 20 and npm must be on the PATH).
//!    Both talk to PostgreSQL in plain text: sqlx prefers TLS when the server offers it (Debian's
//!    does) while node-postgres does not, and TLS on one side only is not the same work
//!    (`PEER_KAKEHASHI_TLS=1` lets sqlx choose, to see what TLS costs).
//! 3. **The same page on both**, verified before anything is measured: the first page of 50
//!    history entries, newest first, with totalCount and each observation's fact, category,
//!    author and the author's organization; and a deep page after min(ENTRIES / 2, 10,000)
//!    entries by cursor. Kakehashi answers as the consultation specialist (a bearer token from
//!    `login`). PostGraphile walks `timeline_entries` (condition on the client and the status,
//!    and, through the connection-filter plugin, no other organization's internal records:
//!    what the specialist may see; ordered by the history's key), the index Kakehashi walks, with each entry's observation by
//!    a smart-tag foreign key (`bench/peer/postgraphile.tags.json5`; `record_id` points at a
//!    record of any kind, so the schema has none). Querying `observations` directly would sort
//!    the client's 20,000 rows for each page: there is no index on `(client_id, occurred_from)`.
//!    PostGraphile does no authorization, consent or audit; Kakehashi does all three.
//! 4. **Statements per page**, counted on the wire by a proxy ([`crate::pgcount`]) in front of a
//!    second instance of each server (`pg_stat_statements` needs a server restart to load),
//!    over 100 sequential pages after a warm-up, less what the idle server sent over the same
//!    time; Kakehashi's own counter (`/metrics`) is printed beside it.
//! 5. **Rounds.** For concurrency 1, 10 and 50 and each page: a Kakehashi round, then a
//!    PostGraphile round, PEER_ROUNDS times (default 3; 0 stops after the counts and the check),
//!    PEER_SECONDS each (default 15), driven by autocannon 9 in its own Node process
//!    (`bench/peer/load.js`), which compares each response body with the verified one (latency
//!    to the millisecond). Each round also reads the server's CPU time and that of the
//!    database's backends from `/proc`. Printed: req/s (min–max over rounds), p99, the ratio of
//!    the median req/s, CPU per request.
//! 6. **The floor.** The same rows by one prepared SQL statement through `pgbench` at
//!    concurrency 10, first and deep page, right after the rounds ([`floor`]): issue 22 asks for
//!    a quarter of it.
//!
//! `peer [ENTRIES] sqlite` runs Kakehashi alone on a temporary SQLite file, the embedded
//! default, with the same data, query and concurrency (statements from `/metrics`).
//!
//! Everything shares the machine's cores: the load generator, both servers and PostgreSQL.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};
use uuid::Uuid;

mod floor;
mod page;
mod rounds;

use page::*;
use rounds::*;

use crate::{
    HISTORY_QUERY,
    fanout::{SECRET, cpu_secs, spawn_server},
    pgcount,
};

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432";
const OTHER_CLIENTS: usize = 200;
const OTHER_OBSERVATIONS: usize = 50;
const PAGE_SIZE: usize = 50;
const DEEPEST: usize = 10_000;
const CONCURRENCY: [usize; 3] = [1, 10, 50];
/// Sequential pages over which statements are counted.
const COUNTED_PAGES: usize = 100;

/// PostGraphile's equivalent of [`HISTORY_QUERY`] (see the module documentation).
const POSTGRAPHILE_QUERY: &str = "query($c: UUID!, $org: UUID!, $after: Cursor) { allTimelineEntries(first: 50, after: $after, condition: { clientId: $c, status: \"CURRENT\" }, filter: { or: [{ visibility: { notEqualTo: \"INTERNAL\" } }, { organizationId: { equalTo: $org } }] }, orderBy: [OCCURRED_AT_DESC, RECORD_ID_DESC, KIND_DESC]) { totalCount pageInfo { hasNextPage endCursor } edges { node { kind occurredAt observationByRecordId { id fact category staffMemberByAuthorStaffMemberId { displayName organizationByOrganizationId { name } } } } } } }";

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Which {
    First,
    Deep,
}

impl Which {
    fn label(self) -> &'static str {
        match self {
            Which::First => "first",
            Which::Deep => "deep",
        }
    }
}

/// How long and how often each round runs.
struct Settings {
    seconds: u64,
    rounds: usize,
    peer_dir: PathBuf,
}

/// One server under load: where to send the page, and its two request bodies.
struct Target {
    name: &'static str,
    url: String,
    headers: Value,
    pid: u32,
    /// The request body and the verified response body of each page.
    pages: BTreeMap<Which, (String, Option<String>)>,
}

pub(crate) async fn run(entries: usize, target: Option<String>) -> anyhow::Result<()> {
    let peer_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("peer");
    let env_number = |name: &str, default: u64| -> anyhow::Result<u64> {
        std::env::var(name)
            .ok()
            .map(|v| v.parse().with_context(|| format!("{name}={v}")))
            .transpose()
            .map(|v| v.unwrap_or(default))
    };
    let settings = Settings {
        seconds: env_number("PEER_SECONDS", 15)?,
        rounds: env_number("PEER_ROUNDS", 3)? as usize,
        peer_dir,
    };
    if target.as_deref() == Some("sqlite") {
        ensure_node(&settings.peer_dir).await?;
        return sqlite(entries, &settings).await;
    }
    ensure_node(&settings.peer_dir).await?;
    let admin = target.unwrap_or_else(|| DEFAULT_ADMIN_URL.into());
    // The server part of the URL: scheme, user and host, without a database or parameters.
    let scheme_end = admin.find("://").context("POSTGRES_ADMIN_URL")? + 3;
    let server = match admin[scheme_end..].find(['/', '?']) {
        Some(i) => admin[..scheme_end + i].to_owned(),
        None => admin.clone(),
    };
    let name = format!("kk_peer_{}", std::process::id());
    let admin_db = sea_orm::Database::connect(format!("{server}/postgres")).await?;
    admin_db
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    println!("database: PostgreSQL, {name} on {server} (dropped at the end)");
    let result = postgres(entries, &server, &name, &admin_db, &settings).await;
    // PEER_KEEP=1 keeps the data for a look at the statements' plans (EXPLAIN ANALYZE).
    if std::env::var_os("PEER_KEEP").is_some() {
        println!("kept {name}: drop it with DROP DATABASE {name} WITH (FORCE)");
        return result;
    }
    // The servers were killed when their handles dropped; FORCE ends what is left of them.
    let dropped = admin_db
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await;
    match (&result, dropped) {
        (_, Ok(_)) => println!("dropped {name}"),
        (Ok(_), Err(e)) => return Err(e).context(format!("dropping {name}")),
        (Err(_), Err(e)) => eprintln!("could not drop {name}: {e}"),
    }
    result
}

async fn postgres(
    entries: usize,
    server: &str,
    name: &str,
    admin_db: &DatabaseConnection,
    settings: &Settings,
) -> anyhow::Result<()> {
    let url = format!("{server}/{name}");
    // The generator's own commits need not wait for the disk (see `load::generate`).
    let client = generate(
        &format!("{url}?options=-c%20synchronous_commit%3Doff"),
        entries,
    )
    .await?;
    let db = sea_orm::Database::connect(&url).await?;
    db.execute_unprepared("ANALYZE").await?;
    db.close().await?;

    // Statements per page, through the counting proxy, one server at a time.
    // `postgres://user@` and `host:port` of the server, to put the proxy's port in between.
    let host_start = server
        .rfind('@')
        .map(|i| i + 1)
        .or_else(|| server.find("://").map(|i| i + 3))
        .context("POSTGRES_ADMIN_URL")?;
    let (prefix, host) = server.split_at(host_start);
    let host = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    };
    let upstream: SocketAddr = tokio::net::lookup_host(&host)
        .await?
        .next()
        .context("PostgreSQL's address")?;
    let (proxy_port, counter) = pgcount::start(upstream).await?;
    let proxied = format!("{prefix}127.0.0.1:{proxy_port}/{name}");
    let http = reqwest::Client::new();
    let deep_after = deep_after(entries);
    println!(
        "\nSQL statements per page, counted on the wire over {COUNTED_PAGES} sequential pages (after a warm-up, less the idle server's own traffic over the same time):"
    );
    {
        let (_child, pid, port) = spawn_server(&proxied).await?;
        let target = kakehashi(&http, client, port, pid, deep_after).await?;
        count_statements(&http, &target, Some(&counter), port).await?;
    }
    {
        let (_child, pid, port) = spawn_postgraphile(&settings.peer_dir, &proxied).await?;
        let target = postgraphile(&http, client, port, pid, deep_after).await?;
        count_statements(&http, &target, Some(&counter), 0).await?;
    }

    // The measured servers, straight to PostgreSQL.
    let kakehashi_url = if std::env::var_os("PEER_KAKEHASHI_TLS").is_some() {
        url.clone()
    } else {
        format!("{url}?sslmode=disable")
    };
    let (_kakehashi_child, k_pid, k_port) = spawn_server(&kakehashi_url).await?;
    let (_postgraphile_child, p_pid, p_port) = spawn_postgraphile(&settings.peer_dir, &url).await?;
    let k = kakehashi(&http, client, k_port, k_pid, deep_after).await?;
    let p = postgraphile(&http, client, p_port, p_pid, deep_after).await?;
    let ssl = admin_db
        .query_one_raw(Statement::from_string(
            admin_db.get_database_backend(),
            format!(
                "SELECT count(*) FILTER (WHERE s.ssl)::bigint AS tls, count(*)::bigint AS all FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = '{name}'"
            ),
        ))
        .await?
        .context("pg_stat_ssl")?;
    println!(
        "\nconnections to {name} over TLS: {} of {}",
        ssl.try_get::<i64>("", "tls")?,
        ssl.try_get::<i64>("", "all")?
    );
    check(&http, &k, &p).await?;
    if settings.rounds == 0 {
        return Ok(());
    }
    let backends = Backends { db: admin_db, name };
    let results = rounds(&[k, p], settings, Some(&backends)).await?;
    table(&results, &["Kakehashi", "PostGraphile"]);
    let scripts = tempfile::tempdir()?;
    floor::floor(&url, client, deep_after, settings.seconds, scripts.path()).await?;
    Ok(())
}

async fn sqlite(entries: usize, settings: &Settings) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("peer.db").display());
    println!("database: SQLite (temporary file), Kakehashi alone");
    let client = generate(&url, entries).await?;
    let http = reqwest::Client::new();
    let (_child, pid, port) = spawn_server(&url).await?;
    let k = kakehashi(&http, client, port, pid, deep_after(entries)).await?;
    println!(
        "\nSQL statements per page, from Kakehashi's counter over {COUNTED_PAGES} sequential pages:"
    );
    count_statements(&http, &k, None, port).await?;
    if settings.rounds == 0 {
        return Ok(());
    }
    let results = rounds(&[k], settings, None).await?;
    table(&results, &["Kakehashi"]);
    Ok(())
}

/// Where the deep page starts: half the entries, at most 10,000, on a page boundary.
fn deep_after(entries: usize) -> usize {
    (entries / 2).min(DEEPEST) / PAGE_SIZE * PAGE_SIZE
}

/// Node must be there to run the scenario (not to build it); its packages are installed from
/// the lock file when missing.
async fn ensure_node(peer_dir: &Path) -> anyhow::Result<()> {
    let version = Command::new("node")
        .arg("--version")
        .output()
        .await
        .context("`bench peer` needs Node 20 and npm on the PATH")?;
    println!("node {}", String::from_utf8_lossy(&version.stdout).trim());
    if !peer_dir.join("node_modules").exists() {
        let status = Command::new("npm")
            .args(["ci", "--prefix"])
            .arg(peer_dir)
            .status()
            .await
            .context("npm")?;
        if !status.success() {
            bail!("npm ci --prefix {} failed", peer_dir.display());
        }
    }
    Ok(())
}

/// The demo seed, the history and the other clients, written through the service layer.
/// Returns 山田 太郎's id and that of the specialist's organization.
async fn generate(database_url: &str, entries: usize) -> anyhow::Result<(Uuid, Uuid)> {
    let state = kakehashi::build_state(kakehashi::Config {
        database_url: database_url.into(),
        bind_addr: "127.0.0.1:0".parse()?,
        jwt_secret: Some(SECRET.to_vec()),
        db_max_connections: 8,
        ..kakehashi::Config::default()
    })
    .await?;
    kakehashi_tools::seed::seed_demo(&state).await?;
    let office = crate::load::viewer(&state, "specialist@aozora.example").await?;
    let facility = crate::load::viewer(&state, "staff@himawari.example").await?;
    let started = Instant::now();
    // The other clients are written beside the history, by three more writers.
    let writers = 3;
    let others: Vec<_> = (0..writers)
        .map(|w| {
            let (state, office, facility) = (state.clone(), office.clone(), facility.clone());
            tokio::spawn(async move {
                for i in (0..OTHER_CLIENTS).filter(|i| i % writers == w) {
                    crate::load::one_client(&state, &office, &facility, i, OTHER_OBSERVATIONS)
                        .await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    let client = crate::write_history(&state, entries).await?;
    for t in others {
        t.await??;
    }
    println!(
        "data: {entries} observations about 山田 太郎 and {OTHER_CLIENTS} other clients with {OTHER_OBSERVATIONS} each, written through the service layer in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok((client, office.organization_id))
}

/// Starts `bench/peer/server.js` on the database; returns the process, its pid and port.
async fn spawn_postgraphile(peer_dir: &Path, url: &str) -> anyhow::Result<(Child, u32, u16)> {
    let mut child = Command::new("node")
        .arg(peer_dir.join("server.js"))
        .arg(url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("node")?;
    let pid = child.id().context("child pid")?;
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let port = tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            let line = lines.next_line().await?.context("PostGraphile exited")?;
            if let Some(p) = line.strip_prefix("PORT ") {
                break anyhow::Ok(p.parse::<u16>()?);
            }
            eprintln!("postgraphile: {line}");
        }
    })
    .await
    .context("PostGraphile did not start in 2 minutes")??;
    // Whatever it prints later goes to stderr, not into a closed pipe.
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("postgraphile: {line}");
        }
    });
    Ok((child, pid, port))
}

/// Statements per page for both pages of `target`: on the wire through `counter` if given,
/// and from Kakehashi's `/metrics` if `metrics_port` is not 0.
async fn count_statements(
    http: &reqwest::Client,
    target: &Target,
    counter: Option<&pgcount::Counter>,
    metrics_port: u16,
) -> anyhow::Result<()> {
    let metrics_base = format!("http://127.0.0.1:{metrics_port}");
    let snapshot = || counter.map(pgcount::Counter::snapshot).unwrap_or_default();
    for (which, (body, _)) in &target.pages {
        for _ in 0..10 {
            post_text(http, &target.url, &target.headers, body).await?;
        }
        // Batched read audits are flushed within 50 ms; let the warm-up's go first.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let idle_started = Instant::now();
        let idle_before = snapshot();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let idle = pgcount::delta(&idle_before, &snapshot());
        let idle_secs = idle_started.elapsed().as_secs_f64();

        let metrics_before = if metrics_port != 0 {
            Some(crate::load::scrape(http, &metrics_base).await?)
        } else {
            None
        };
        let started = Instant::now();
        let before = snapshot();
        for _ in 0..COUNTED_PAGES {
            let text = post_text(http, &target.url, &target.headers, body).await?;
            parse_page(&serde_json::from_str(&text)?)?;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let during = pgcount::delta(&before, &snapshot());
        let secs = started.elapsed().as_secs_f64();
        let metrics_after = if metrics_port != 0 {
            Some(crate::load::scrape(http, &metrics_base).await?)
        } else {
            None
        };

        let mut line = format!("{:>12} {:>5} page:", target.name, which.label());
        if counter.is_some() {
            let per_page = |key: &str| {
                let idle_part = idle.get(key).copied().unwrap_or(0) as f64 * secs / idle_secs;
                ((during.get(key).copied().unwrap_or(0) as f64 - idle_part).max(0.0))
                    / COUNTED_PAGES as f64
            };
            let mut statements = 0.0;
            let mut parts = Vec::new();
            let counted =
                |k: &&String| ![pgcount::ROUND_TRIPS, pgcount::PREPARES].contains(&k.as_str());
            for key in during.keys().filter(counted) {
                let n = per_page(key);
                if n >= 0.005 {
                    statements += n;
                    parts.push(format!("{key} {n:.2}"));
                }
            }
            let idle_rate: u64 = idle
                .iter()
                .filter(|(k, _)| counted(k))
                .map(|(_, v)| v)
                .sum();
            line += &format!(
                " {statements:.2} statements ({}), {:.2} Sync/Query messages (each waits for the server), {:.2} Parse messages; idle traffic subtracted: {:.1} statements/s",
                parts.join(", "),
                per_page(pgcount::ROUND_TRIPS),
                per_page(pgcount::PREPARES),
                idle_rate as f64 / idle_secs
            );
        }
        if let (Some(a), Some(b)) = (metrics_before, metrics_after) {
            line += &format!(
                "{} Kakehashi's counter: {:.2} statements per page",
                if counter.is_some() { ";" } else { "" },
                (b.statements - a.statements) as f64 / COUNTED_PAGES as f64
            );
            if b.errors > a.errors {
                bail!("{} GraphQL errors while counting", b.errors - a.errors);
            }
        }
        println!("{line}");
    }
    Ok(())
}
