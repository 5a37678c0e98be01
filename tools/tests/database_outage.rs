//! PostgreSQL restarted under load: while the database is unreachable, requests fail fast with
//! `SERVICE_UNAVAILABLE` (never a 500 or `INTERNAL_SERVER_ERROR`), `/readyz` says 503, and
//! when it is back the same server process takes writes again and its subscribers receive
//! every acknowledged change exactly once, in commit order, resuming from their cursors.
//!
//! The server reaches PostgreSQL through a TCP proxy in this test. "Down" closes every proxied
//! connection and refuses new ones, which is what a restart looks like from the server's side
//! (connections reset, then connections refused), without stopping the PostgreSQL that other
//! tests share. Runs with `TEST_DATABASE_URL=postgres://…`; on SQLite it has nothing to test.

#![expect(
    clippy::unwrap_used,
    reason = "a test should fail loudly on an unexpected value"
)]

mod common;

use common::login;

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};
use tokio::{net::TcpListener, sync::broadcast};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

const SECRET: &str = "database-outage-test-secret-0123456789";
const OUTAGE: Duration = Duration::from_secs(4);

/// A TCP proxy to PostgreSQL that can be taken down and brought back.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    cut: broadcast::Sender<()>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let (cut, _) = broadcast::channel(1);
        let (accepting, cutter) = (up.clone(), cut.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if !accepting.load(Ordering::SeqCst) {
                    continue; // dropped: the connection closes at once
                }
                let mut cut = cutter.subscribe();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.recv() => {}
                    }
                });
            }
        });
        Self { port, up, cut }
    }

    fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        let _ = self.cut.send(());
    }

    fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// What one `recordObservation` came back with.
#[derive(Debug)]
enum Outcome {
    Acknowledged,
    /// Refused before it ran (HTTP 503): must not be stored.
    Refused,
    /// Failed while running with this code: may or may not have committed.
    Failed(String),
}

async fn record(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    client: &str,
    fact: &str,
) -> (Outcome, u16) {
    let res = http
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({
            "query": "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { observation { id } } }",
            "variables": { "i": { "clientId": client, "content": { "fact": fact, "category": "ROUTINE",
                "occurredFrom": chrono::Utc::now().to_rfc3339(), "visibility": "CARE_TEAM" } } }
        }))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    let outcome = match body["errors"][0]["extensions"]["code"].as_str() {
        None => Outcome::Acknowledged,
        Some("SERVICE_UNAVAILABLE") if status == 503 => Outcome::Refused,
        Some(code) => Outcome::Failed(code.to_owned()),
    };
    (outcome, status)
}

/// A `myEvents` subscriber that resubscribes from its last cursor whenever its subscription
/// or its socket ends, as the README tells clients to do.
struct Subscriber {
    url: String,
    token: String,
    cursor: Option<String>,
    ws: Option<
        tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
    >,
    resubscribed: usize,
}

impl Subscriber {
    async fn connect(&mut self) -> bool {
        let mut request = self.url.as_str().into_client_request().unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let Ok((mut ws, _)) = tokio_tungstenite::connect_async(request).await else {
            return false;
        };
        let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {}", self.token) } });
        let subscribe = json!({ "type": "subscribe", "id": "1", "payload": {
            "query": "subscription($after: String) { myEvents(after: $after) { cursor record { ... on Observation { fact } } } }",
            "variables": { "after": self.cursor } } });
        for m in [init, subscribe] {
            if ws.send(Message::Text(m.to_string().into())).await.is_err() {
                return false;
            }
        }
        self.ws = Some(ws);
        true
    }

    /// The next observation's fact, or `None` when nothing arrives within `wait`.
    async fn next(&mut self, wait: Duration) -> Option<String> {
        let until = Instant::now() + wait;
        loop {
            let left = until.checked_duration_since(Instant::now())?;
            if self.ws.is_none() && !self.connect().await {
                tokio::time::sleep(Duration::from_millis(200).min(left)).await;
                continue;
            }
            let ws = self.ws.as_mut().unwrap();
            let frame = match tokio::time::timeout(left, ws.next()).await {
                Err(_) => return None,
                Ok(Some(Ok(frame))) => frame,
                Ok(_) => {
                    // The socket closed (e.g. 1013 while the database was down): reconnect.
                    self.ws = None;
                    self.resubscribed += 1;
                    continue;
                }
            };
            let Message::Text(text) = frame else { continue };
            let m: Value = serde_json::from_str(text.as_str()).unwrap();
            match m["type"].as_str() {
                Some("next") => {
                    let e = &m["payload"]["data"]["myEvents"];
                    if e.is_null() {
                        // An error ended this subscription: resubscribe from the cursor.
                        self.ws = None;
                        self.resubscribed += 1;
                        continue;
                    }
                    self.cursor = e["cursor"].as_str().map(str::to_owned);
                    if let Some(fact) = e["record"]["fact"].as_str() {
                        return Some(fact.to_owned());
                    }
                }
                Some("error" | "complete") => {
                    let code = &m["payload"][0]["extensions"]["code"];
                    assert_ne!(code, "INTERNAL_SERVER_ERROR", "{m}");
                    self.ws = None;
                    self.resubscribed += 1;
                }
                _ => {}
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarting_under_load_fails_fast_and_recovers_without_a_restart() {
    let Some(base) = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
    else {
        eprintln!("skipped: needs TEST_DATABASE_URL=postgres://… (a SQLite file cannot go away)");
        return;
    };
    let server = common::server_part(&base);
    let upstream = server
        .rsplit('@')
        .next()
        .unwrap()
        .trim_start_matches("postgres://")
        .to_owned();
    let user = server
        .trim_start_matches("postgres://")
        .split('@')
        .next()
        .unwrap()
        .to_owned();
    let name = format!("kk_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(format!("{server}/postgres"))
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let direct = Database::connect(format!("{server}/{name}")).await.unwrap();

    let proxy = Proxy::start(upstream).await;
    let via_proxy = format!("postgres://{user}@127.0.0.1:{}/{name}", proxy.port);
    let (mut child, url, _, log) =
        common::serve(&via_proxy, SECRET, true, &[("OUTBOX_POLL_MILLIS", "200")]).await;
    common::drain(log);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let staff = login(&http, &url, "staff@himawari.example").await;
    let specialist = login(&http, &url, "specialist@aozora.example").await;
    let yamada = common::facility_client(&http, &url, &staff, "山田 太郎").await;

    let mut subscriber = Subscriber {
        url: format!("{}/graphql/ws", url.replace("http://", "ws://")),
        token: specialist,
        cursor: None,
        ws: None,
        resubscribed: 0,
    };
    // Live once a marker arrives.
    let mut live = false;
    for i in 0..30 {
        record(&http, &url, &staff, &yamada, &format!("marker {i}")).await;
        if subscriber.next(Duration::from_secs(2)).await.is_some() {
            live = true;
            break;
        }
    }
    assert!(live, "the subscriber never went live");
    while subscriber.next(Duration::from_millis(500)).await.is_some() {}
    subscriber.resubscribed = 0;

    // Four writers for the whole run; the database goes away for OUTAGE in the middle.
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (http, url, staff, yamada, stop) = (
                http.clone(),
                url.clone(),
                staff.clone(),
                yamada.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                let mut results = Vec::new();
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let fact = format!("w{w}-{i}");
                    let sent = started.elapsed();
                    let t = Instant::now();
                    let (outcome, status) = record(&http, &url, &staff, &yamada, &fact).await;
                    results.push((fact, sent, t.elapsed(), outcome, status));
                    i += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                results
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_secs(1)).await;
    let down_at = started.elapsed();
    proxy.down();
    tokio::time::sleep(OUTAGE / 2).await;
    let ready = http.get(format!("{url}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503, "/readyz while the database is down");
    tokio::time::sleep(OUTAGE / 2).await;
    let up_at = started.elapsed();
    proxy.up();
    // Writers go on after the database is back, until writes succeed again for a while.
    tokio::time::sleep(Duration::from_secs(6)).await;
    stop.store(true, Ordering::SeqCst);
    let mut results = Vec::new();
    for w in writers {
        results.extend(w.await.unwrap());
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the server kept running"
    );

    // Fail fast, with the clear code only.
    let mut failures: Vec<Duration> = Vec::new();
    let mut refused = BTreeSet::new();
    let mut acknowledged = BTreeSet::new();
    let mut ambiguous = BTreeSet::new();
    let mut first_success_after_up = None;
    for (fact, sent, took, outcome, status) in &results {
        assert!(*status < 500 || *status == 503, "{fact}: HTTP {status}");
        match outcome {
            Outcome::Acknowledged => {
                if *sent >= up_at && first_success_after_up.is_none_or(|f| *sent < f) {
                    first_success_after_up = Some(*sent);
                }
                acknowledged.insert(fact.clone());
            }
            Outcome::Refused => {
                failures.push(*took);
                refused.insert(fact.clone());
            }
            Outcome::Failed(code) => {
                assert_eq!(code, "SERVICE_UNAVAILABLE", "{fact} failed with {code}");
                failures.push(*took);
                ambiguous.insert(fact.clone());
            }
        }
    }
    failures.sort();
    assert!(
        refused.len() >= 10,
        "requests during the outage are refused at once ({} refused)",
        refused.len()
    );
    let p50 = failures[failures.len() / 2];
    let max = *failures.last().unwrap();
    assert!(p50 < Duration::from_millis(100), "failures p50 {p50:?}");
    assert!(max < Duration::from_secs(7), "slowest failure {max:?}");
    let recovered = first_success_after_up.expect("writes succeed again without a restart") - up_at;
    assert!(
        recovered < Duration::from_secs(5),
        "recovered after {recovered:?}"
    );
    eprintln!(
        "outage {:?}–{:?}: {} acknowledged, {} refused (503), {} failed in flight; failures p50 {p50:?}, max {max:?}; writes again {recovered:?} after the database came back",
        down_at,
        up_at,
        acknowledged.len(),
        refused.len(),
        ambiguous.len()
    );

    // Stored: every acknowledged write once, no refused one.
    let rows = direct
        .query_all_raw(Statement::from_string(
            direct.get_database_backend(),
            "SELECT fact, count(*) AS n FROM observations WHERE fact LIKE 'w%-%' GROUP BY fact",
        ))
        .await
        .unwrap();
    let stored: BTreeMap<String, i64> = rows
        .iter()
        .map(|r| (r.try_get("", "fact").unwrap(), r.try_get("", "n").unwrap()))
        .collect();
    for fact in &acknowledged {
        assert_eq!(stored.get(fact), Some(&1), "{fact} acknowledged");
    }
    for fact in &refused {
        assert!(!stored.contains_key(fact), "{fact} was refused but stored");
    }

    // Delivered: every acknowledged write exactly once, and nothing that is not stored.
    let mut delivered = BTreeSet::new();
    while let Some(fact) = subscriber.next(Duration::from_secs(3)).await {
        assert!(delivered.insert(fact.clone()), "{fact} delivered twice");
    }
    let missing: Vec<_> = acknowledged.difference(&delivered).collect();
    assert!(missing.is_empty(), "never delivered: {missing:?}");
    for fact in &delivered {
        assert!(stored.contains_key(fact), "{fact} delivered but not stored");
    }
    eprintln!(
        "subscriber: {} delivered, resubscribed {} times",
        delivered.len(),
        subscriber.resubscribed
    );

    drop(child);
    drop(direct);
    tokio::time::sleep(Duration::from_millis(300)).await;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .unwrap();
}
