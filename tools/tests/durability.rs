//! Durability under SIGKILL: concurrent writers record observations while the real server is
//! killed at random moments and restarted. Afterwards every acknowledged write is stored exactly
//! once, every refused write is absent, nothing appears that was never sent, and every stored
//! observation has exactly one outbox event (the transactional outbox never loses or invents
//! one). On SQLite the database file also passes `PRAGMA integrity_check`.
//!
//! Reads are audited by the rule `AUDIT_DURABILITY` sets: the second test kills the server
//! under concurrent reads and checks what each mode may lose.
//!
//! `DURABILITY_CYCLES` sets the number of kill/restart cycles (3 in CI; the soak runs 50).
//! With `TEST_DATABASE_URL` set to PostgreSQL it uses a fresh database of its own.

#![expect(
    clippy::expect_used,
    reason = "a test should fail loudly on an unexpected value"
)]

mod common;

use common::gql;

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};
use tokio::process::Child;

const SECRET: &str = "durability-test-secret-0123456789abcdef";
const WRITERS: usize = 8;

/// Starts `kakehashi serve`; returns it with its base URL.
async fn serve(database_url: &str, demo: bool) -> (Child, String) {
    let (child, base, _, log) = common::serve(
        database_url,
        SECRET,
        demo,
        &[("RUST_LOG", "warn,kakehashi=info")],
    )
    .await;
    common::drain(log);
    (child, base)
}

/// What the writers know about each fact they sent.
#[derive(Default)]
struct Ledger {
    /// Answered with the stored record.
    acknowledged: BTreeSet<String>,
    /// Answered with an error: must not be stored.
    refused: BTreeSet<String>,
    /// No answer (the server died mid-request): stored or not, but never twice.
    unknown: BTreeSet<String>,
}

async fn writer(
    http: reqwest::Client,
    base: String,
    token: String,
    client: String,
    prefix: String,
    ledger: Arc<Mutex<Ledger>>,
) {
    for i in 0.. {
        let fact = format!("{prefix}-{i}");
        // Every seventh write, starting with each writer's second, is invalid (a future time):
        // the server must refuse and store nothing. Starting early keeps the refusals exercised
        // even when a loaded machine gets through only a few writes before the kill.
        let occurred = if i % 7 == 1 {
            chrono::Utc::now() + chrono::Duration::days(2)
        } else {
            chrono::Utc::now()
        };
        let body = json!({
            "query": "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { observation { id } } }",
            "variables": { "i": { "clientId": client, "content": { "fact": fact, "category": "ROUTINE", "occurredFrom": occurred.to_rfc3339() } } }
        });
        let answer = async {
            let res = http
                .post(format!("{base}/graphql"))
                .bearer_auth(&token)
                .json(&body)
                .timeout(Duration::from_secs(10))
                .send()
                .await?;
            res.json::<Value>().await
        }
        .await;
        let mut ledger = ledger.lock().expect("ledger");
        match answer {
            Ok(v) if v["data"]["recordObservation"]["observation"]["id"].is_string() => {
                ledger.acknowledged.insert(fact);
            }
            Ok(v) if v["errors"].is_array() => {
                ledger.refused.insert(fact);
            }
            _ => {
                ledger.unknown.insert(fact);
                return;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_write_survives_sigkill_and_no_refused_write_appears() {
    let cycles: usize = std::env::var("DURABILITY_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let dir = tempfile::tempdir().expect("temp dir");
    let (database_url, cleanup) = database(&dir).await;
    let http = reqwest::Client::new();
    let ledger: Arc<Mutex<Ledger>> = Arc::default();

    let mut token = String::new();
    let mut client = String::new();
    for cycle in 0..cycles {
        let (mut child, base) = serve(&database_url, cycle == 0).await;
        if cycle == 0 {
            let login = gql(&http, &base, None, "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                json!({ "i": { "email": "staff@himawari.example", "password": kakehashi_tools::seed::DEMO_PASSWORD } })).await;
            token = login["data"]["login"]["accessToken"]
                .as_str()
                .expect("token")
                .to_owned();
            let clients = gql(
                &http,
                &base,
                Some(&token),
                "{ facility { clients(first: 1) { nodes { id } } } }",
                json!({}),
            )
            .await;
            client = clients["data"]["facility"]["clients"]["nodes"][0]["id"]
                .as_str()
                .expect("client")
                .to_owned();
        }
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                tokio::spawn(writer(
                    http.clone(),
                    base.clone(),
                    token.clone(),
                    client.clone(),
                    format!("D{cycle}-{w}"),
                    ledger.clone(),
                ))
            })
            .collect();
        // Kill at a random moment while the writers are busy.
        tokio::time::sleep(Duration::from_millis(rand::random_range(300..1500))).await;
        child.start_kill().expect("SIGKILL");
        child.wait().await.expect("the server died");
        for w in writers {
            w.await.expect("writer");
        }
    }

    // A last start proves the database opens (and migrates) after the final kill.
    let (mut child, base) = serve(&database_url, false).await;
    let alive = gql(&http, &base, Some(&token), "{ me { role } }", json!({})).await;
    assert_eq!(alive["data"]["me"]["role"], "FACILITY_STAFF", "{alive}");
    child.start_kill().expect("kill");
    child.wait().await.expect("stopped");

    let db = Database::connect(&database_url).await.expect("connect");
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT o.fact AS fact, (SELECT COUNT(*) FROM outbox_events e WHERE e.record_id = o.id AND e.kind = 'OBSERVATION_RECORDED') AS events FROM observations o WHERE o.fact LIKE 'D%-%-%'".to_owned(),
        ))
        .await
        .expect("query");
    let mut stored: BTreeMap<String, usize> = BTreeMap::new();
    for r in &rows {
        let fact: String = r.try_get("", "fact").expect("fact");
        let events: i64 = r.try_get("", "events").expect("events");
        assert_eq!(events, 1, "{fact} has {events} outbox events");
        *stored.entry(fact).or_default() += 1;
    }
    let ledger = std::mem::take(&mut *ledger.lock().expect("ledger"));
    assert!(
        ledger.acknowledged.len() > 20,
        "too few writes to judge: {}",
        ledger.acknowledged.len()
    );
    assert!(
        !ledger.refused.is_empty(),
        "the refused writes were exercised"
    );
    for fact in &ledger.acknowledged {
        assert_eq!(
            stored.get(fact),
            Some(&1),
            "acknowledged {fact} is stored exactly once"
        );
    }
    for fact in &ledger.refused {
        assert!(!stored.contains_key(fact), "refused {fact} was stored");
    }
    for (fact, n) in &stored {
        assert_eq!(*n, 1, "{fact} stored {n} times");
        assert!(
            ledger.acknowledged.contains(fact) || ledger.unknown.contains(fact),
            "{fact} was stored but never sent"
        );
    }
    eprintln!(
        "durability: {cycles} kills, {} acknowledged, {} refused, {} in flight at a kill ({} of them committed)",
        ledger.acknowledged.len(),
        ledger.refused.len(),
        ledger.unknown.len(),
        ledger
            .unknown
            .iter()
            .filter(|f| stored.contains_key(*f))
            .count()
    );
    if backend == sea_orm::DbBackend::Sqlite {
        let check = db
            .query_one_raw(Statement::from_string(
                backend,
                "PRAGMA integrity_check".to_owned(),
            ))
            .await
            .expect("integrity check")
            .expect("a row");
        let verdict: String = check.try_get_by_index(0).expect("verdict");
        assert_eq!(verdict, "ok");
    }
    db.close().await.ok();
    if let Some((admin, name)) = cleanup {
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .ok();
    }
}

/// Reads acknowledged by the readers of [`read_audits_follow_the_durability_rule_under_sigkill`],
/// with when each answer arrived.
type Acks = Arc<Mutex<Vec<chrono::DateTime<chrono::Utc>>>>;

async fn reader(http: reqwest::Client, base: String, token: String, client: String, acks: Acks) {
    loop {
        let answer = async {
            http.post(format!("{base}/graphql"))
                .bearer_auth(&token)
                .json(&json!({ "query": "query($c: ID!) { client(id: $c) { displayName } }", "variables": { "c": client } }))
                .timeout(Duration::from_secs(10))
                .send()
                .await?
                .json::<Value>()
                .await
        }
        .await;
        match answer {
            Ok(v) if v["data"]["client"]["displayName"].is_string() => {
                acks.lock().expect("acks").push(chrono::Utc::now());
            }
            _ => return,
        }
    }
}

/// The read-audit durability rule under SIGKILL (README: "Audit log"). Readers read a client
/// (each read audited as one `READ_CLIENT` row, whose UUIDv7 id carries its time) until the
/// server is killed. A read answered at time `t` has its row timestamped before `t`, so if no
/// read answered by `x` was lost, the rows timestamped up to `x` are at least the reads answered
/// up to `x`. `strict`: that holds for every `x` up to the kill (nothing answered is lost).
/// `batched` (50 ms): it holds up to the kill less a bound (the flush delay plus the time of a
/// write on a loaded machine, 1 s here); the test prints what was actually lost and how recent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_audits_follow_the_durability_rule_under_sigkill() {
    for (mode, bound_ms) in [("strict", 0), ("batched", 1000)] {
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_url, cleanup) = database(&dir).await;
        let (mut child, base, _, log) = common::serve(
            &database_url,
            SECRET,
            true,
            &[
                ("RUST_LOG", "warn,kakehashi=info"),
                ("AUDIT_DURABILITY", mode),
            ],
        )
        .await;
        common::drain(log);
        let http = reqwest::Client::new();
        let token = common::login(&http, &base, "staff@himawari.example").await;
        let client = common::facility_client(&http, &base, &token, "山田 太郎").await;
        let started = chrono::Utc::now();
        let acks: Acks = Arc::default();
        let readers: Vec<_> = (0..WRITERS)
            .map(|_| {
                tokio::spawn(reader(
                    http.clone(),
                    base.clone(),
                    token.clone(),
                    client.clone(),
                    acks.clone(),
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(rand::random_range(800..1500))).await;
        let killed = chrono::Utc::now();
        child.start_kill().expect("SIGKILL");
        child.wait().await.expect("the server died");
        for r in readers {
            r.await.expect("reader");
        }

        let db = Database::connect(&database_url).await.expect("connect");
        // The client's READ_CLIENT rows.
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
        let client_uuid = kakehashi::graphql::ids::decode("Client", "id", &client.clone().into())
            .expect("client id");
        let ids: Vec<uuid::Uuid> = entity::read_audit::Entity::find()
            .select_only()
            .column(entity::read_audit::Column::Id)
            .filter(entity::read_audit::Column::ClientId.eq(client_uuid))
            .filter(
                entity::read_audit::Column::Operation.eq(entity::read_audit::ReadOperation::Client),
            )
            .into_tuple()
            .all(&db)
            .await
            .expect("rows");
        let mut rows: Vec<_> = ids
            .iter()
            .filter_map(|id| kakehashi::service::read_audits::time_of(*id))
            .filter(|t| *t >= started - chrono::TimeDelta::milliseconds(1))
            .collect();
        rows.sort_unstable();
        let mut acked = std::mem::take(&mut *acks.lock().expect("acks"));
        acked.sort_unstable();
        assert!(
            acked.len() > 20,
            "{mode}: too few reads to judge: {}",
            acked.len()
        );
        // The first answer time by which fewer rows than answers exist: a read answered then
        // (or before) is not in the log. Rows of reads that never answered (in flight at the
        // kill) are stamped just before the kill, so they cannot hide an older loss.
        let first_short = acked
            .iter()
            .enumerate()
            .find(|(i, t)| rows.partition_point(|r| r <= *t) < i + 1)
            .map(|(_, t)| *t);
        let lost = acked.len().saturating_sub(rows.len());
        let window = first_short.map(|t| (killed - t).num_milliseconds());
        eprintln!(
            "read audits, {mode}: {} reads answered, {} rows, {lost} lost; the oldest lost answer {:?} ms before the kill",
            acked.len(),
            rows.len(),
            window
        );
        match window {
            None => {}
            Some(_) if mode == "strict" => panic!("{mode}: an answered read is not in the log"),
            Some(ms) => assert!(
                ms <= bound_ms,
                "{mode}: lost a read answered {ms} ms before the kill"
            ),
        }
        db.close().await.ok();
        if let Some((admin, name)) = cleanup {
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .ok();
        }
    }
}

/// A fresh database: SQLite in `dir`, or a new PostgreSQL database when `TEST_DATABASE_URL`
/// names a server (returned with what drops it).
async fn database(
    dir: &tempfile::TempDir,
) -> (String, Option<(sea_orm::DatabaseConnection, String)>) {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            let server = common::server_part(&base);
            let name = format!("kk_test_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(format!("{server}/postgres"))
                .await
                .expect("connect");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create database");
            (format!("{server}/{name}"), Some((admin, name)))
        }
        _ => (
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("durable.db").display()
            ),
            None,
        ),
    }
}

/// `batched` reads are committed at a graceful shutdown (SIGTERM), not only by the flush timer:
/// with a one-second flush delay, a server stopped right after answering reads exits with all
/// their rows committed, sooner than the timer could have written them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_read_audits_are_committed_at_graceful_shutdown() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (database_url, cleanup) = database(&dir).await;
    let (mut child, base, _, log) = common::serve(
        &database_url,
        SECRET,
        true,
        &[
            ("RUST_LOG", "warn,kakehashi=info"),
            ("AUDIT_DURABILITY", "batched"),
            ("AUDIT_FLUSH_MILLIS", "1000"),
        ],
    )
    .await;
    common::drain(log);
    let http = reqwest::Client::new();
    let token = common::login(&http, &base, "staff@himawari.example").await;
    let client = common::facility_client(&http, &base, &token, "山田 太郎").await;
    // Let the rows of the set-up's reads be written by the timer, then read 20 times.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let from = chrono::Utc::now();
    for _ in 0..20 {
        let body = gql(
            &http,
            &base,
            Some(&token),
            "query($c: ID!) { client(id: $c) { displayName } }",
            json!({ "c": client }),
        )
        .await;
        assert!(body["data"]["client"]["displayName"].is_string(), "{body}");
    }
    // Three events delivered to a subscriber right before the signal: their reads wait in
    // the hub's queue or the writer's batch, and only the shutdown can write them in time.
    let delivered = deliver_three(&http, &base, &token, &client).await;
    let answered = std::time::Instant::now();
    let pid = child.id().expect("pid").to_string();
    let term = tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("kill");
    assert!(term.success());
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("the server exits after SIGTERM")
        .expect("status");
    let exited_after = answered.elapsed();
    assert!(status.success(), "exit status {status}");

    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let db = Database::connect(&database_url).await.expect("connect");
    let client_uuid =
        kakehashi::graphql::ids::decode("Client", "id", &client.clone().into()).expect("client id");
    let since = kakehashi::service::read_audits::first_id_at(from);
    let rows = entity::read_audit::Entity::find()
        .filter(entity::read_audit::Column::ClientId.eq(client_uuid))
        .filter(entity::read_audit::Column::Operation.eq(entity::read_audit::ReadOperation::Client))
        .filter(entity::read_audit::Column::Id.gte(since))
        .count(&db)
        .await
        .expect("count");
    eprintln!(
        "graceful shutdown: 20 reads, {rows} rows, exited {exited_after:?} after the last answer"
    );
    assert_eq!(rows, 20, "every answered read audited once");
    let event_reads = entity::read_audit::Entity::find()
        .filter(entity::read_audit::Column::Operation.eq(entity::read_audit::ReadOperation::Event))
        .filter(entity::read_audit::Column::Id.gte(since))
        .all(&db)
        .await
        .expect("event reads")
        .into_iter()
        .filter(|r| r.record_id.is_some_and(|id| delivered.contains(&id)))
        .count();
    assert_eq!(event_reads, 3, "every delivered event audited at shutdown");
    assert!(
        exited_after < Duration::from_millis(1000),
        "the exit took {exited_after:?}: longer than the flush delay, so the timer may have written the rows"
    );
    db.close().await.ok();
    if let Some((admin, name)) = cleanup {
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .ok();
    }
}

/// Subscribes to the staff member's events, records three observations and waits until all
/// three arrived; returns their ids.
async fn deliver_three(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    client: &str,
) -> Vec<uuid::Uuid> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};
    let mut request = format!("{}/graphql/ws", base.replacen("http", "ws", 1))
        .into_client_request()
        .expect("ws request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.expect("ws");
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
    let subscribe = json!({ "type": "subscribe", "id": "1", "payload": {
        "query": "subscription { myEvents { record { ... on Observation { id } } } }" } });
    for m in [init, subscribe] {
        ws.send(Message::Text(m.to_string().into()))
            .await
            .expect("send");
    }
    // The subscription is registered once the acknowledgement has come and the server had a
    // moment to open it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let body = gql(
            http,
            base,
            Some(token),
            "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { observation { id } } }",
            json!({ "i": { "clientId": client, "content": { "fact": format!("終了直前の記録{n}"), "category": "ROUTINE", "occurredFrom": chrono::Utc::now().to_rfc3339() } } }),
        )
        .await;
        let id = body["data"]["recordObservation"]["observation"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned();
        ids.push(id);
    }
    let mut seen = 0;
    while seen < 3 {
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("the three events arrive")
            .expect("open")
            .expect("frame");
        let Message::Text(text) = frame else { continue };
        let m: Value = serde_json::from_str(text.as_str()).expect("json");
        if m["type"] == "next"
            && m["payload"]["data"]["myEvents"]["record"]["id"]
                .as_str()
                .is_some_and(|id| ids.iter().any(|i| i == id))
        {
            seen += 1;
        }
    }
    ids.iter()
        .map(|id| {
            kakehashi::graphql::ids::decode("Observation", "id", &id.clone().into()).expect("id")
        })
        .collect()
}
