//! Kakehashi's benchmark harness:
//!
//! - `cargo run --release -p bench -- history [ENTRIES] [DATABASE_URL]`
//! - `cargo run --release -p bench -- fanout [SUBSCRIBERS] [DATABASE_URL]` (see [`fanout`])
//! - `cargo run --release -p bench -- load [DATABASE_URL]` (see [`load`])
//! - `cargo run --release -p bench -- peer [ENTRIES] [POSTGRES_ADMIN_URL | sqlite]`: the history
//!   page against PostGraphile on the same PostgreSQL data (see [`peer`]; needs Node and npm)
//!
//! `history`:
//! Builds a client with ENTRIES (default 10,000) history items through the service layer (the
//! real write path: observation, version, timeline entry, audit entry and outbox event per
//! record), then pages through the whole history over HTTP, 50 at a time, as the consultation
//! specialist, and reports latency and SQL statements per page for the first and the last
//! pages (keyset pagination must not slow down with depth). Any ENTRIES fits: they are 150
//! minutes apart from now − 3 years, closer when more would not fit. Without DATABASE_URL it
//! uses a temporary SQLite file; with `postgres://…/db` it uses that (empty) database.

#![expect(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    reason = "measurement arithmetic: counts, rates and durations far inside every type's range"
)]

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use kakehashi::{
    Config,
    auth::Viewer,
    service::observations::{ObservationContent, record},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

mod fanout;
mod language;
mod load;
mod peer;
mod pgcount;

/// The server's allocator (see `api/src/main.rs`), since `serve-child` runs the server here.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    // Silent unless asked: `RUST_LOG=kakehashi::sql=trace` lists each request statement.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("history") => {
            let entries: usize = args
                .get(1)
                .map(|s| s.parse())
                .transpose()?
                .unwrap_or(10_000);
            history(entries, args.get(2).cloned()).await
        }
        Some("fanout") => {
            let subscribers: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(1000);
            fanout::run(subscribers, args.get(2).cloned()).await
        }
        Some("language") => {
            language::run(args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(20))
        }
        Some("load") => load::run(args.get(1).cloned()).await,
        Some("peer") => {
            let entries: usize = args
                .get(1)
                .map(|s| s.parse())
                .transpose()?
                .unwrap_or(20_000);
            peer::run(entries, args.get(2).cloned()).await
        }
        Some("serve-child") => {
            fanout::serve_child(args.get(1).cloned().context("database url")?).await
        }
        _ => bail!(
            "usage: bench history [ENTRIES] [DATABASE_URL] | bench fanout [SUBSCRIBERS] [DATABASE_URL] | bench load [DATABASE_URL] | bench peer [ENTRIES] [POSTGRES_ADMIN_URL | sqlite] | bench language [ROUNDS]"
        ),
    }
}

/// The history page both `history` and `peer` measure: 50 entries, each observation's fact,
/// category, author and the author's organization.
pub(crate) const HISTORY_QUERY: &str = "query($c: ID!, $after: String) { client(id: $c) { history(first: 50, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { kind occurredAt item { ... on Observation { id fact category author { displayName organization { name } } } } } } } } }";

/// The time the generated history spans, ending just before now.
const HISTORY_SPAN: chrono::TimeDelta = chrono::TimeDelta::days(3 * 365);

/// When the `i`th of `entries` generated history entries happened: every 150 minutes from
/// now − 3 years, or closer together when more would not fit before now (an observation may not
/// lie in the future, so 150 minutes apart failed above 10,512 entries).
fn history_time(
    base: chrono::DateTime<chrono::Utc>,
    i: usize,
    entries: usize,
) -> chrono::DateTime<chrono::Utc> {
    let fitting = HISTORY_SPAN.num_microseconds().unwrap_or(i64::MAX) / entries.max(1) as i64;
    let spacing = chrono::TimeDelta::minutes(150)
        .num_microseconds()
        .unwrap_or(i64::MAX)
        .min(fitting);
    base + chrono::TimeDelta::microseconds(spacing.saturating_mul(i as i64))
}

/// Writes `entries` observations about the demo's 山田 太郎 as ひまわり's staff through the
/// service layer (the real write path: observation, version, timeline entry, audit entry and
/// outbox event, one transaction each), one at a time; returns the client's id. `history` and
/// `peer` measure the same data this way.
pub(crate) async fn write_history(
    state: &kakehashi::AppState,
    entries: usize,
) -> anyhow::Result<uuid::Uuid> {
    let staff = entity::staff_member::Entity::find()
        .filter(entity::staff_member::Column::Email.eq("staff@himawari.example"))
        .one(&state.db)
        .await?
        .context("demo staff")?;
    let client = entity::client::Entity::find()
        .filter(entity::client::Column::DisplayName.eq("山田 太郎"))
        .one(&state.db)
        .await?
        .context("demo client")?;
    let viewer = Viewer {
        staff_member_id: staff.id,
        organization_id: staff.organization_id,
        organization_kind: entity::organization::OrganizationKind::Facility,
        role: staff.role,
        session_id: uuid::Uuid::nil(),
    };
    let facts = [
        "9:30に来所し、袋詰め作業を15時まで行った。休憩は2回。",
        "10:20 作業内容の変更を伝えた直後に大声を出し、床に座り込んだ(約5分)。",
        "昼食を完食し、午後は箱折りを120個行った。",
        "送迎車の中で「きょうはつかれた」と話し、帰宅後すぐに休んだ。",
    ];
    let base = chrono::Utc::now() - HISTORY_SPAN;
    for i in 0..entries {
        record(
            state,
            &viewer,
            client.id,
            ObservationContent {
                fact: facts[i % facts.len()].into(),
                interpretation: (i % 3 == 0)
                    .then(|| "予定の変更が負担になっていると思われる。".into()),
                client_words: None,
                category: entity::observation::ObservationCategory::Routine,
                occurred_from: history_time(base, i, entries),
                occurred_to: None,
                visibility: entity::observation::Visibility::CareTeam,
                tags: vec!["作業".into()],
                cited_observation_ids: vec![],
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("record failed: {}", e.code().as_str()))?;
    }
    Ok(client.id)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn history(entries: usize, url: Option<String>) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let database_url = url.unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        )
    });
    let config = Config {
        database_url: database_url.clone(),
        bind_addr: "127.0.0.1:0".parse()?,
        jwt_secret: Some(b"bench-secret-bench-secret-bench-secret".to_vec()),
        ..Config::default()
    };
    let state = kakehashi::build_state(config).await?;
    kakehashi_tools::seed::seed_demo(&state).await?;

    let started = Instant::now();
    let client_id = write_history(&state, entries).await?;
    let write_secs = started.elapsed().as_secs_f64();
    println!(
        "wrote {entries} observations in {write_secs:.1} s ({:.0} per second, one writer)",
        entries as f64 / write_secs
    );

    let server = kakehashi::Server::bind(state.clone()).await?;
    let url = format!("http://{}/graphql", server.local_addr()?);
    tokio::spawn(server.run(std::future::pending()));
    let http = reqwest::Client::new();
    let login: Value = http
        .post(&url)
        .json(&json!({ "query": "mutation { login(input: { email: \"specialist@aozora.example\", password: \"kakehashi-demo\" }) { accessToken } }" }))
        .send()
        .await?
        .json()
        .await?;
    let token = login["data"]["login"]["accessToken"]
        .as_str()
        .context("login")?
        .to_owned();
    let client_gid = kakehashi::graphql::ids::encode("Client", client_id).0;
    let query = HISTORY_QUERY;

    let mut after = Value::Null;
    let mut pages: Vec<(Duration, u64)> = Vec::new();
    let mut seen = 0usize;
    loop {
        let statements = state.statement_count();
        let t = Instant::now();
        let body: Value = http
            .post(&url)
            .bearer_auth(&token)
            .json(&json!({ "query": query, "variables": { "c": client_gid, "after": after } }))
            .send()
            .await?
            .json()
            .await?;
        let elapsed = t.elapsed();
        pages.push((elapsed, state.statement_count() - statements));
        let h = &body["data"]["client"]["history"];
        let edges = h["edges"]
            .as_array()
            .with_context(|| format!("bad page: {body}"))?;
        seen += edges.len();
        if h["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = h["pageInfo"]["endCursor"].clone();
    }
    println!(
        "paged through {seen} history items in {} pages of 50",
        pages.len()
    );
    let report = |label: &str, slice: &[(Duration, u64)]| {
        let mut times: Vec<Duration> = slice.iter().map(|(d, _)| *d).collect();
        times.sort();
        let statements: Vec<u64> = slice.iter().map(|(_, s)| *s).collect();
        println!(
            "{label:>12}: p50 {:>7.2} ms   p99 {:>7.2} ms   SQL statements per page {}–{}",
            percentile(&times, 0.5).as_secs_f64() * 1000.0,
            percentile(&times, 0.99).as_secs_f64() * 1000.0,
            statements.iter().min().unwrap_or(&0),
            statements.iter().max().unwrap_or(&0),
        );
    };
    let tenth = (pages.len() / 10).max(1);
    report("first 10%", &pages[..tenth]);
    report("last 10%", &pages[pages.len() - tenth..]);
    report("all pages", &pages);
    println!(
        "database: {}",
        if database_url.starts_with("sqlite") {
            "SQLite (temporary file)"
        } else {
            "PostgreSQL"
        }
    );
    Ok(())
}
