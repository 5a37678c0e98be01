//! Running Kakehashi: persisted queries (Apollo APQ and the allow-list), `/metrics`, and a
//! graceful shutdown that lets in-flight requests finish.

use std::{path::PathBuf, time::Duration};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{helpers::*, subscriptions::Raw};

const ME: &str = "query Me { me { role } }";

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn post(app: &TestApp, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut req = app
        .client
        .post(&app.url)
        .header("accept", "application/graphql-response+json")
        .json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

#[tokio::test]
async fn automatic_persisted_queries_follow_the_apollo_protocol() {
    let app = TestApp::spawn().await;
    let (token, _) = app.login("staff@himawari.example").await;
    let hash = sha256(ME);

    // Unknown hash: the client is told to send the text (200, so Apollo clients retry).
    let (status, body) = post(
        &app,
        Some(&token),
        json!({ "extensions": persisted(&hash) }),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
    assert_error(&body, "PERSISTED_QUERY_NOT_FOUND");

    // Text and hash: verified, stored, run.
    let (status, body) = post(
        &app,
        Some(&token),
        json!({ "query": ME, "extensions": persisted(&hash) }),
    )
    .await;
    assert_eq!(
        (status, &body["data"]["me"]["role"]),
        (200, &json!("FACILITY_STAFF")),
        "{body}"
    );

    // Now the hash alone runs it, over POST and GET.
    let (_, body) = post(
        &app,
        Some(&token),
        json!({ "extensions": persisted(&hash) }),
    )
    .await;
    assert_eq!(body["data"]["me"]["role"], "FACILITY_STAFF", "{body}");
    let get = app
        .client
        .get(&app.url)
        .query(&[
            ("operationName", "Me"),
            ("extensions", &persisted(&hash).to_string()),
        ])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let body: Value = get.json().await.unwrap();
    assert_eq!(body["data"]["me"]["role"], "FACILITY_STAFF", "{body}");

    // A stored mutation cannot be run over GET by its hash.
    let logout = "mutation Logout { logout { revoked } }";
    let logout_hash = sha256(logout);
    post(
        &app,
        None,
        json!({ "query": logout, "extensions": persisted(&logout_hash) }),
    )
    .await;
    let get = app
        .client
        .get(&app.url)
        .query(&[("extensions", &persisted(&logout_hash).to_string())])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);

    // A text that does not match its hash, and malformed hashes, are refused.
    let (status, body) = post(
        &app,
        Some(&token),
        json!({ "query": "query Other { me { role } }", "extensions": persisted(&hash) }),
    )
    .await;
    assert_eq!(status, 400);
    assert_error(&body, "BAD_USER_INPUT");
    let (_, body) = post(
        &app,
        Some(&token),
        json!({ "extensions": persisted("xyz") }),
    )
    .await;
    assert_error(&body, "BAD_USER_INPUT");
}

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/persisted-documents.json")
}

#[tokio::test]
async fn in_allow_list_mode_only_registered_operations_run() {
    let app = TestApp::spawn_with(|c| {
        c.persisted_queries = kakehashi::config::PersistedQueriesMode::AllowList;
        c.persisted_queries_file = Some(fixture());
    })
    .await;
    let (token, _) = app.login_with_persisted().await;
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture()).unwrap()).unwrap();
    let (hash, text) = manifest
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, t)| t.as_str().unwrap().starts_with("query Me"))
        .map(|(h, t)| (h.clone(), t.as_str().unwrap().to_owned()))
        .unwrap();

    // Listed: by hash, or by its exact text.
    let (_, body) = post(
        &app,
        Some(&token),
        json!({ "extensions": persisted(&hash) }),
    )
    .await;
    assert_eq!(body["data"]["me"]["role"], "FACILITY_STAFF", "{body}");
    let (_, body) = post(&app, Some(&token), json!({ "query": text })).await;
    assert_eq!(body["data"]["me"]["role"], "FACILITY_STAFF", "{body}");

    // Anything else, including registering a new hash, is refused.
    let (status, body) = post(&app, Some(&token), json!({ "query": ME })).await;
    assert_eq!(status, 400);
    assert_error(&body, "FORBIDDEN");
    let (_, body) = post(
        &app,
        Some(&token),
        json!({ "query": ME, "extensions": persisted(&sha256(ME)) }),
    )
    .await;
    assert_error(&body, "FORBIDDEN");

    // Subscriptions too.
    let mut raw = Raw::ready(&app, &token).await;
    raw.subscribe("1", "subscription { myEvents { cursor } }", json!({}))
        .await;
    let refused = raw.recv().await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "FORBIDDEN");

    // A manifest with a wrong hash stops the server from starting.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        json!({ sha256("query A { me { role } }"): "query B { me { role } }" }).to_string(),
    )
    .unwrap();
    let db = TestDb::create().await;
    let mut config = TestApp::config(db.url());
    config.persisted_queries = kakehashi::config::PersistedQueriesMode::AllowList;
    config.persisted_queries_file = Some(bad);
    let err = kakehashi::build_state(config).await.err().expect("refused");
    assert!(format!("{err:#}").contains("manifest"), "{err:#}");
}

impl TestApp {
    /// Signs in with the listed operations only: in allow-list mode `login` itself must be
    /// registered, so tests sign in through the service layer instead.
    async fn login_with_persisted(&self) -> (String, String) {
        let issued = kakehashi::service::sessions::login(
            &self.state,
            &kakehashi::service::sessions::AttemptOrigin(None),
            "staff@himawari.example",
            DEMO_PASSWORD,
        )
        .await
        .map_err(|e| e.public_message())
        .unwrap();
        (issued.access_token, issued.refresh_token)
    }
}

#[tokio::test]
async fn metrics_expose_requests_errors_subscriptions_outbox_and_webhooks() {
    let app = TestApp::spawn_with(|c| c.metrics_token = Some("metrics-secret".into())).await;
    let (token, _) = app.login("staff@himawari.example").await;
    app.gql(Some(&token), ME, json!({})).await;
    app.gql(None, ME, json!({})).await; // UNAUTHENTICATED
    let _socket = {
        let mut raw = Raw::ready(&app, &token).await;
        raw.subscribe("1", "subscription { myEvents { cursor } }", json!({}))
            .await;
        raw
    };
    tokio::time::sleep(Duration::from_millis(200)).await;

    let url = format!("http://{}/metrics", app.addr);
    let denied = app.client.get(&url).send().await.unwrap();
    assert_eq!(denied.status(), 401);
    let res = app
        .client
        .get(&url)
        .bearer_auth("metrics-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = res.text().await.unwrap();
    for series in [
        "kakehashi_graphql_requests_total{operation=\"Me\",type=\"query\"} 2",
        "kakehashi_graphql_request_duration_seconds_bucket{",
        "kakehashi_graphql_errors_total{code=\"UNAUTHENTICATED\"} 1",
        "kakehashi_http_responses_total{status=\"200\"}",
        "kakehashi_active_subscriptions 1",
        "kakehashi_outbox_lag_events ",
        "kakehashi_webhook_failures_total 0",
        "kakehashi_webhook_pending_deliveries 0",
    ] {
        assert!(text.contains(series), "missing {series} in\n{text}");
    }
    // The requests above ran SQL (authentication at least), and the series says how much.
    let statements: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("kakehashi_sql_statements_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("kakehashi_sql_statements_total missing in\n{text}"));
    assert!(statements > 0 && statements <= app.state.statement_count());
    // No personal data in labels: names and emails never appear.
    assert!(!text.contains("himawari") && !text.contains("山田"));
}

#[tokio::test]
async fn a_graceful_shutdown_finishes_requests_in_flight() {
    let mut app = TestApp::spawn().await;
    // A login hashes a password (tens of milliseconds): stop the server while it runs.
    let client = app.client.clone();
    let url = app.url.clone();
    let before = app.state.statement_count();
    let in_flight = tokio::spawn(async move {
        client
            .post(&url)
            .json(&json!({ "query": "mutation($i: LoginInput!) { login(input: $i) { accessToken } }", "variables": { "i": { "email": "staff@himawari.example", "password": DEMO_PASSWORD } } }))
            .send()
            .await
    });
    // Stop once the server is working on it (its first SQL statement ran), however loaded the
    // machine: a fixed delay could stop it before the request arrived.
    for _ in 0..500 {
        if app.state.statement_count() > before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    app.stop();
    let res = in_flight
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert!(body["data"]["login"]["accessToken"].is_string(), "{body}");
    // New connections are refused once it has stopped.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        app.client
            .get(format!("http://{}/healthz", app.addr))
            .send()
            .await
            .is_err()
    );
}

/// Concurrent writes are committed in groups and concurrent reads audited in groups: under 40
/// writers and 40 readers at once, every acknowledged observation is stored once with one event,
/// a write its checks refuse fails alone while the writes around it are stored, and every read that showed
/// records left its own audit row.
#[tokio::test]
async fn grouped_commits_store_each_write_once_and_audit_each_read() {
    use entity::{
        observation, outbox_event,
        read_audit::{self, ReadOperation},
    };
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

    let app = TestApp::spawn().await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let yamada = crate::views::client_id(&app, &staff, "山田 太郎").await;
    let record = "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { observation { id } } }";
    let history =
        "query($c: ID!) { client(id: $c) { history(first: 10) { edges { node { kind } } } } }";
    let before = read_audit::Entity::find()
        .filter(read_audit::Column::Operation.eq(ReadOperation::History))
        .count(&app.state.db)
        .await
        .unwrap();

    let mut tasks = Vec::new();
    for i in 0..40 {
        let (app_url, client) = (app.url.clone(), app.client.clone());
        let (staff, specialist, yamada) = (staff.clone(), specialist.clone(), yamada.clone());
        tasks.push(tokio::spawn(async move {
            // Every tenth write has an empty fact: refused by its own checks.
            let fact = if i % 10 == 9 { String::new() } else { format!("grouped {i}") };
            let write = client
                .post(&app_url)
                .bearer_auth(&staff)
                .json(&json!({ "query": record, "variables": { "i": { "clientId": yamada, "content": {
                    "fact": fact, "category": "ROUTINE", "occurredFrom": "2026-11-20T10:00:00+09:00",
                    "visibility": "CARE_TEAM" } } } }))
                .send();
            let read = client
                .post(&app_url)
                .bearer_auth(&specialist)
                .json(&json!({ "query": history, "variables": { "c": yamada } }))
                .send();
            let (w, r) = tokio::join!(write, read);
            let w: Value = w.unwrap().json().await.unwrap();
            let r: Value = r.unwrap().json().await.unwrap();
            (i, w, r)
        }));
    }
    let mut acknowledged = Vec::new();
    for t in tasks {
        let (i, w, r) = t.await.unwrap();
        assert!(r.get("errors").is_none(), "read {i}: {r}");
        if i % 10 == 9 {
            assert_error(&w, "BAD_USER_INPUT");
        } else {
            assert!(w.get("errors").is_none(), "write {i}: {w}");
            acknowledged.push(w["data"]["recordObservation"]["observation"]["id"].clone());
        }
    }
    assert_eq!(acknowledged.len(), 36);

    let stored = observation::Entity::find()
        .filter(observation::Column::Fact.starts_with("grouped "))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 36, "each acknowledged write stored once");
    for o in &stored {
        let events = outbox_event::Entity::find()
            .filter(outbox_event::Column::RecordId.eq(o.id))
            .count(&app.state.db)
            .await
            .unwrap();
        assert_eq!(events, 1, "one event for {}", o.fact);
    }
    // Batched by default: commit what the reads queued.
    app.state.read_audits.flush().await;
    let after = read_audit::Entity::find()
        .filter(read_audit::Column::Operation.eq(ReadOperation::History))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(after - before, 40, "every read audited once");
}
