//! Two `kakehashi serve` processes on one database: a change made through instance A reaches a
//! subscriber on instance B, in commit order, exactly once, while both take writes; and an access
//! change or an ended session made through A holds on B as soon as B's event hub has read it
//! (both instances cache scopes and sessions and drop them on events, not by re-reading).
//!
//! This test lives beside the binary (not in the workspace's `tests/`) because only here does
//! Cargo hand a test the path of the built `kakehashi` executable. With `TEST_DATABASE_URL`
//! set to PostgreSQL it creates and drops its own database; otherwise both processes share one
//! SQLite file (the second instance then learns of A's events by its safety poll).

#![expect(
    clippy::unwrap_used,
    reason = "a test should fail loudly on an unexpected value"
)]

mod common;

use common::{gql, login};

use std::{collections::BTreeSet, time::Duration};

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio::process::Child;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

const SECRET: &str = "two-process-test-secret-0123456789abcdef";

/// Starts `kakehashi serve` and returns it with its base URL.
async fn serve(database_url: &str, demo: bool) -> (Child, String) {
    let (child, base, _, log) =
        common::serve(database_url, SECRET, demo, &[("OUTBOX_POLL_MILLIS", "200")]).await;
    common::drain(log);
    (child, base)
}

async fn record(http: &reqwest::Client, base: &str, token: &str, client: &str, fact: &str) {
    let body = gql(
        http,
        base,
        Some(token),
        "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { observation { id } } }",
        json!({ "i": { "clientId": client, "content": { "fact": fact, "category": "ROUTINE",
            "occurredFrom": chrono::Utc::now().to_rfc3339(), "visibility": "CARE_TEAM" } } }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
}

/// Polls `done` every 20 ms for up to 3 s; how long it took to hold.
async fn until(mut done: impl AsyncFnMut() -> bool) -> Option<Duration> {
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        if done().await {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

/// The event id inside a cursor (`base64url("ev:<id>:<micros>")`).
fn event_id(cursor: &str) -> i64 {
    let text = String::from_utf8(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(cursor)
            .unwrap(),
    )
    .unwrap();
    text.split(':').nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_deliver_each_others_changes_in_order_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let (database_url, cleanup) = match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            let server = common::server_part(&base);
            let name = format!("kk_test_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(format!("{server}/postgres"))
                .await
                .unwrap();
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            (format!("{server}/{name}"), Some((admin, name)))
        }
        _ => (
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("shared.db").display()
            ),
            None,
        ),
    };

    let (_a, a) = serve(&database_url, true).await;
    let (_b, b) = serve(&database_url, false).await;
    let http = reqwest::Client::new();
    let specialist = login(&http, &b, "specialist@aozora.example").await;
    let staff_a = login(&http, &a, "staff@himawari.example").await;
    let staff_b = login(&http, &b, "staff@komorebi.example").await;
    let yamada = common::facility_client(&http, &a, &staff_a, "山田 太郎").await;

    // The subscriber on B.
    let mut request = format!("{}/graphql/ws", b.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    ws.send(Message::Text(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {specialist}") } }).to_string().into())).await.unwrap();
    ws.send(Message::Text(json!({ "type": "subscribe", "id": "1", "payload": { "query": "subscription { myEvents { cursor record { ... on Observation { fact } } } }" } }).to_string().into())).await.unwrap();
    let mut next_event = async || -> Option<(i64, String)> {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(2), ws.next())
                .await
                .ok()??
                .unwrap();
            let Message::Text(text) = frame else { continue };
            let m: Value = serde_json::from_str(text.as_str()).unwrap();
            if m["type"] == "next" {
                let e = &m["payload"]["data"]["myEvents"];
                return Some((
                    event_id(e["cursor"].as_str().unwrap()),
                    e["record"]["fact"].as_str().unwrap().to_owned(),
                ));
            }
        }
    };
    // Live once a marker written through A arrives on B.
    let mut marker = 0;
    loop {
        marker += 1;
        record(&http, &a, &staff_a, &yamada, &format!("marker {marker}")).await;
        if let Some((_, fact)) = next_event().await {
            assert!(fact.starts_with("marker"));
            break;
        }
        assert!(marker < 30, "the subscriber on B never went live");
    }
    while next_event().await.is_some() {} // later markers, if any

    // Both instances take writes at once.
    let writers = [
        (a.clone(), staff_a.clone(), "A", 60),
        (b.clone(), staff_b.clone(), "B", 40),
    ]
    .map(|(base, token, label, n)| {
        let (http, yamada) = (http.clone(), yamada.clone());
        tokio::spawn(async move {
            for i in 0..n {
                record(&http, &base, &token, &yamada, &format!("{label}-{i}")).await;
            }
        })
    });
    for w in writers {
        w.await.unwrap();
    }
    let mut ids = Vec::new();
    let mut facts = BTreeSet::new();
    while facts.len() < 100 {
        let (id, fact) = next_event()
            .await
            .unwrap_or_else(|| panic!("only {} of 100 arrived", facts.len()));
        assert!(facts.insert(fact.clone()), "{fact} arrived twice");
        ids.push(id);
    }
    let expected: BTreeSet<String> = (0..60)
        .map(|i| format!("A-{i}"))
        .chain((0..40).map(|i| format!("B-{i}")))
        .collect();
    assert_eq!(facts, expected);
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "out of commit order: {ids:?}"
    );
    assert!(next_event().await.is_none(), "nothing beyond the 100");

    // Access changed through A is enforced by B once B's hub has read the event (B has just
    // served this viewer, so it holds the office's scope): こもれび sees ひまわり's records
    // under the client's consent, and no longer once the consent is revoked on A.
    let himawari_records = async |token: &str| -> usize {
        let body = gql(
            &http,
            &b,
            Some(token),
            "query($c: ID!) { client(id: $c) { observations(first: 100) { nodes { organization { name } } } } }",
            json!({ "c": yamada }),
        )
        .await;
        let nodes = body["data"]["client"]["observations"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"));
        nodes
            .iter()
            .filter(|n| {
                n["organization"]["name"]
                    .as_str()
                    .unwrap()
                    .contains("ひまわり")
            })
            .count()
    };
    assert!(himawari_records(&staff_b).await > 0, "shared under consent");

    // B keeps the history count it has counted; a record written through A moves it once B's
    // hub has read the record's event.
    let count = async |token: &str| -> u64 {
        let body = gql(
            &http,
            &b,
            Some(token),
            "query($c: ID!) { client(id: $c) { history(first: 1) { totalCount } } }",
            json!({ "c": yamada }),
        )
        .await;
        body["data"]["client"]["history"]["totalCount"]
            .as_u64()
            .unwrap_or_else(|| panic!("{body}"))
    };
    let counted = count(&staff_b).await;
    assert_eq!(
        count(&staff_b).await,
        counted,
        "kept while nothing is written"
    );
    record(&http, &a, &staff_a, &yamada, "counted-on-B").await;
    let lag = until(async || count(&staff_b).await == counted + 1)
        .await
        .expect("B's history count still missed A's record 3 s after it");
    eprintln!("B counted A's record after {lag:?}");

    let specialist_a = login(&http, &a, "specialist@aozora.example").await;
    let consents = gql(
        &http,
        &a,
        Some(&specialist_a),
        "query($c: ID!) { client(id: $c) { sharingConsents { id revokedOn } } }",
        json!({ "c": yamada }),
    )
    .await;
    let consent = consents["data"]["client"]["sharingConsents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["revokedOn"].is_null())
        .unwrap()["id"]
        .clone();
    let revoked = gql(
        &http,
        &a,
        Some(&specialist_a),
        "mutation($i: RevokeSharingConsentInput!) { revokeSharingConsent(input: $i) { sharingConsent { id } } }",
        json!({ "i": { "sharingConsentId": consent, "note": "本人の申し出" } }),
    )
    .await;
    assert!(revoked.get("errors").is_none(), "{revoked}");
    let lag = until(async || himawari_records(&staff_b).await == 0)
        .await
        .expect("B still showed ひまわり's records 3 s after the consent was revoked on A");
    eprintln!("B enforced the revocation after {lag:?}");

    // A session ended through A is refused by B once B's hub has read the revocation.
    let me = async |base: &str, token: &str| {
        gql(&http, base, Some(token), "{ me { role } }", json!({})).await["errors"][0]["extensions"]
            ["code"]
            .as_str()
            .map(str::to_owned)
    };
    let session = login(&http, &b, "manager@komorebi.example").await;
    assert_eq!(me(&b, &session).await, None, "B holds the session");
    let out = gql(
        &http,
        &a,
        Some(&session),
        "mutation { logout { revoked } }",
        json!({}),
    )
    .await;
    assert_eq!(out["data"]["logout"]["revoked"], true, "{out}");
    assert_eq!(me(&a, &session).await.as_deref(), Some("UNAUTHENTICATED"));
    let lag = until(async || me(&b, &session).await.as_deref() == Some("UNAUTHENTICATED"))
        .await
        .expect("B still accepted the session 3 s after it ended on A");
    eprintln!("B refused the ended session after {lag:?}");

    drop((_a, _b));
    if let Some((admin, name)) = cleanup {
        tokio::time::sleep(Duration::from_millis(300)).await;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .unwrap();
    }
}
