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
use chrono::{NaiveDate, Utc};
use entity::{
    care_team_membership::CareRelationship,
    meeting::MeetingKind,
    observation::{ObservationCategory, Visibility},
    support_plan::PlanKind,
};
use kakehashi::{
    auth::{Viewer, policy::DataCategory},
    service::{
        care_team, clients, consents, meetings,
        observations::{self, ObservationContent},
        plans,
    },
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::fanout::{SECRET, rss_kib, spawn_server};

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

/// Writes the clients and their records that are not there yet.
///
/// On PostgreSQL the generator's own connections commit with `synchronous_commit = off` (a
/// crash could lose the last moments of generated data, never make it inconsistent) and it
/// runs 8 writers: each commit no longer waits for the disk, which made generation take over
/// 20 minutes. The measured server that follows connects with the database's defaults.
async fn generate(database_url: &str) -> anyhow::Result<()> {
    let postgres = database_url.starts_with("postgres");
    let generator_url = if postgres {
        let sep = if database_url.contains('?') { '&' } else { '?' };
        format!("{database_url}{sep}options=-c%20synchronous_commit%3Doff")
    } else {
        database_url.to_owned()
    };
    // SQLite has one writer at a time: more than 4 only wait for its lock.
    let writers = if postgres { 8 } else { 4 };
    let config = kakehashi::Config {
        database_url: generator_url,
        bind_addr: "127.0.0.1:0".parse()?,
        jwt_secret: Some(SECRET.to_vec()),
        db_max_connections: 16,
        ..kakehashi::Config::default()
    };
    let state = kakehashi::build_state(config).await?;
    kakehashi_tools::seed::seed_demo(&state).await?;
    let existing = entity::client::Entity::find()
        .filter(entity::client::Column::DisplayName.starts_with(NAME_PREFIX))
        .count(&state.db)
        .await? as usize;
    if existing >= CLIENTS {
        println!("data: {existing} generated clients already present");
        return Ok(());
    }
    // Half the clients with あおぞら and ひまわり, half with みらい and こもれび.
    let teams = [
        (
            viewer(&state, "specialist@aozora.example").await?,
            viewer(&state, "staff@himawari.example").await?,
        ),
        (
            viewer(&state, "specialist@mirai.example").await?,
            viewer(&state, "staff@komorebi.example").await?,
        ),
    ];
    let started = std::time::Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|worker| {
            let (state, teams) = (state.clone(), teams.clone());
            tokio::spawn(async move {
                for i in (existing..CLIENTS).filter(|i| i % writers == worker) {
                    let (office, facility) = &teams[i % 2];
                    one_client(&state, office, facility, i, OBSERVATIONS_PER_CLIENT).await?;
                    if i.is_multiple_of(100) {
                        println!(
                            "data: client {i} of {CLIENTS} ({:.0} s)",
                            started.elapsed().as_secs_f64()
                        );
                    }
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    let written = (CLIENTS - existing) * (OBSERVATIONS_PER_CLIENT + 5);
    println!(
        "data: {} clients, {} observations written through the service layer in {secs:.0} s ({:.0} writes/s, {writers} writers)",
        CLIENTS - existing,
        (CLIENTS - existing) * OBSERVATIONS_PER_CLIENT,
        written as f64 / secs
    );
    Ok(())
}

const FAMILY: [&str; 10] = [
    "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤",
];
const GIVEN: [&str; 10] = [
    "健",
    "陽子",
    "大輔",
    "美咲",
    "翔",
    "由美",
    "拓也",
    "恵",
    "直樹",
    "さくら",
];
const WORK: [&str; 8] = [
    "袋詰め作業",
    "箱折り",
    "部品の組み立て",
    "清掃作業",
    "パンの袋詰め",
    "シール貼り",
    "検品",
    "農園の草取り",
];
const WORDS: [&str; 6] = [
    "きょうはつかれた",
    "あしたもくる",
    "うるさいのはいや",
    "もっとやりたい",
    "おなかすいた",
    "ひとりになりたい",
];

/// A demo account as the service layer's viewer.
pub(crate) async fn viewer(
    state: &kakehashi::AppState,
    email: &'static str,
) -> anyhow::Result<Viewer> {
    let member = entity::staff_member::Entity::find()
        .filter(entity::staff_member::Column::Email.eq(email))
        .one(&state.db)
        .await?
        .context("demo account")?;
    let org = entity::organization::Entity::find_by_id(member.organization_id)
        .one(&state.db)
        .await?
        .context("organization")?;
    Ok(Viewer {
        staff_member_id: member.id,
        organization_id: org.id,
        organization_kind: org.kind,
        role: member.role,
        session_id: uuid::Uuid::nil(),
    })
}

/// One generated client (the `i`th) with its team, consent, plan, meeting and `observations`
/// observations, one a day up to now.
pub(crate) async fn one_client(
    state: &kakehashi::AppState,
    office: &Viewer,
    facility: &Viewer,
    i: usize,
    observations: usize,
) -> anyhow::Result<()> {
    let fail = |what: &'static str| {
        move |e: kakehashi::error::ApiError| anyhow::anyhow!("{what}: {}", e.code().as_str())
    };
    let today = Utc::now().date_naive();
    let name = format!(
        "{NAME_PREFIX}{} {}{i}",
        FAMILY[i % 10],
        GIVEN[(i / 10) % 10]
    );
    let client = clients::register(
        state,
        office,
        clients::NewClient {
            display_name: name.clone(),
            name_kana: "ふか".into(),
            birth_date: NaiveDate::from_ymd_opt(
                1970 + (i % 35) as i32,
                1 + (i % 12) as u32,
                1 + (i % 28) as u32,
            ),
            support_category: Some(1 + (i % 6) as i32),
            wishes: Some(format!(
                "{}を続けたい。休みの日は家でゆっくりしたい。",
                WORK[i % 8]
            )),
            family_contacts: vec![],
            external_id: None,
            service_type: None,
            start_date: Some(today - chrono::Duration::days(400)),
        },
    )
    .await
    .map_err(fail("register"))?
    .id;
    care_team::add(
        state,
        office,
        care_team::NewMembership {
            client_id: client,
            organization_id: facility.organization_id,
            relationship: CareRelationship::ServiceProvider,
            service_type: None,
            start_date: Some(today - chrono::Duration::days(400)),
        },
    )
    .await
    .map_err(fail("care team"))?;
    consents::record(
        state,
        office,
        consents::NewConsent {
            client_id: client,
            granted_by: name.clone(),
            signer_relationship: "CLIENT".into(),
            granted_on: today - chrono::Duration::days(300),
            recipient_organization_ids: None,
            covers_future_members: false,
            includes_earlier_records: true,
            data_categories: vec![
                DataCategory::Profile,
                DataCategory::Observations,
                DataCategory::Plans,
                DataCategory::Meetings,
            ],
            expires_on: Some(today + chrono::Duration::days(60)),
            document_reference: Some("同意書".into()),
        },
    )
    .await
    .map_err(fail("consent"))?;
    plans::create(
        state,
        office,
        plans::NewPlan {
            client_id: client,
            kind: PlanKind::ServiceUsePlan,
            based_on_plan_id: None,
            period_from: today - chrono::Duration::days(30),
            period_to: Some(today + chrono::Duration::days(335)),
            content: kakehashi::service::documents::PlanContent {
                client_wishes: Some(format!("「{}をつづけたい」", WORK[i % 8])),
                long_term_goal: Some(
                    "週4日の通所を続けながら、地域で自分のペースで暮らす。".into(),
                ),
                short_term_goal: Some("3か月間、月の欠席を2日以下にする。".into()),
                ..Default::default()
            },
            external_id: None,
        },
    )
    .await
    .map_err(fail("plan"))?;
    meetings::schedule(
        state,
        office,
        meetings::NewMeeting {
            client_id: client,
            kind: MeetingKind::Monitoring,
            scheduled_at: Utc::now() + chrono::Duration::days(7 + (i % 50) as i64),
            place: Some("事業所 相談室".into()),
            online: false,
            invited_organization_ids: vec![facility.organization_id],
            agenda: Some("モニタリング".into()),
            external_id: None,
        },
    )
    .await
    .map_err(fail("meeting"))?;
    let start = Utc::now() - chrono::Duration::days(observations as i64);
    for k in 0..observations {
        let n = i * observations + k;
        let (category, fact, interpretation, words) = match n % 10 {
            0 => (
                ObservationCategory::Change,
                format!(
                    "{}時{}分、作業内容の変更を伝えた直後に大声を出し、約{}分座り込んだ。",
                    9 + n % 6,
                    n % 60,
                    2 + n % 8
                ),
                Some("予定の変更が負担になっていると思われる。".to_owned()),
                None,
            ),
            1 => (
                ObservationCategory::Unstable,
                format!(
                    "昼食を半分残し、午後の{}を{}回中断した。",
                    WORK[n % 8],
                    1 + n % 4
                ),
                None,
                Some(WORDS[n % 6].to_owned()),
            ),
            2 if n % 20 == 2 => (
                ObservationCategory::RiskSign,
                format!(
                    "帰りの送迎で「{}」と話し、顔に{}cmほどのすり傷があった。",
                    WORDS[n % 6],
                    1 + n % 3
                ),
                Some("家庭での様子を確認したい。".to_owned()),
                Some(WORDS[n % 6].to_owned()),
            ),
            3 | 4 => (
                ObservationCategory::Stable,
                format!(
                    "{}を{}個行い、休憩は{}回。終わりに道具を自分で片付けた。",
                    WORK[n % 8],
                    40 + n % 120,
                    1 + n % 3
                ),
                None,
                None,
            ),
            _ => (
                ObservationCategory::Routine,
                format!(
                    "{}:{:02}に来所し、{}を15時まで行った。",
                    9 + n % 2,
                    n % 60,
                    WORK[n % 8]
                ),
                None,
                None,
            ),
        };
        observations::record(
            state,
            facility,
            client,
            ObservationContent {
                fact,
                interpretation,
                client_words: words,
                category,
                occurred_from: start + chrono::Duration::hours(k as i64 * 24 + (n % 8) as i64),
                occurred_to: None,
                visibility: if n.is_multiple_of(7) {
                    Visibility::Internal
                } else {
                    Visibility::CareTeam
                },
                tags: vec![WORK[n % 8].to_owned()],
                cited_observation_ids: vec![],
            },
        )
        .await
        .map_err(fail("observation"))?;
    }
    Ok(())
}
