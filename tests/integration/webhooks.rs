//! Webhooks end to end: a real HTTP receiver verifies every signature, sees retries after
//! failures, and never receives an event its organization may not see.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    routing::post,
};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::{helpers::*, views::client_id};

/// One request the receiver got, with its signature already checked.
#[derive(Debug, Clone)]
struct Received {
    body: Value,
    delivery: String,
    event: String,
}

/// A webhook receiver: per path, the secret to verify with and how many requests to fail first.
#[derive(Default)]
struct Receiver {
    secrets: HashMap<String, String>,
    fail_first: HashMap<String, usize>,
    got: HashMap<String, Vec<Received>>,
    attempts: HashMap<String, usize>,
    bad_signatures: usize,
}

type Shared = Arc<Mutex<Receiver>>;

/// Verifies `Kakehashi-Signature: t=…,v1=…` as the README tells receivers to.
fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1 = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    if (chrono::Utc::now().timestamp() - t).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    mac.verify_slice(&v1).is_ok()
}

async fn receive(
    State(shared): State<Shared>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut r = shared.lock().unwrap();
    let attempt = {
        let n = r.attempts.entry(path.clone()).or_default();
        *n += 1;
        *n
    };
    let secret = r.secrets.get(&path).cloned().unwrap_or_default();
    let signature = headers
        .get("kakehashi-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !verify(&secret, signature, &body) {
        r.bad_signatures += 1;
        return StatusCode::UNAUTHORIZED;
    }
    if attempt <= r.fail_first.get(&path).copied().unwrap_or(0) {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let header = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let got = Received {
        body: serde_json::from_slice(&body).unwrap(),
        delivery: header("kakehashi-delivery"),
        event: header("kakehashi-event"),
    };
    r.got.entry(path).or_default().push(got);
    StatusCode::NO_CONTENT
}

async fn start_receiver() -> (String, Shared) {
    let shared: Shared = Arc::default();
    let app = Router::new()
        .route("/hooks/{path}", post(receive))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hooks"), shared)
}

const REGISTER: &str = "mutation($i: RegisterWebhookInput!) { registerWebhook(input: $i) { secret webhook { id url eventKinds active } } }";
const LOG: &str = "query { webhooks { id deliveries(first: 20) { totalCount nodes { id eventKind status attempts lastStatusCode payload deliveredAt } } } }";

/// Registers an endpoint at `<base>/<path>` and tells the receiver its secret.
async fn register(
    app: &TestApp,
    admin: &str,
    base: &str,
    path: &str,
    kinds: Value,
    receiver: &Shared,
) -> String {
    let body = app
        .gql(
            Some(admin),
            REGISTER,
            json!({ "i": { "url": format!("{base}/{path}"), "eventKinds": kinds, "description": path } }),
        )
        .await;
    let r = &body["data"]["registerWebhook"];
    let secret = r["secret"].as_str().unwrap_or_else(|| panic!("{body}"));
    assert!(secret.starts_with("whsec_"));
    receiver
        .lock()
        .unwrap()
        .secrets
        .insert(path.to_owned(), secret.to_owned());
    r["webhook"]["id"].as_str().unwrap().to_owned()
}

/// Waits until `path` has received `n` deliveries, then a little longer to catch extras.
async fn received(shared: &Shared, path: &str, n: usize) -> Vec<Received> {
    for _ in 0..400 {
        if shared.lock().unwrap().got.get(path).map_or(0, Vec::len) >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    shared
        .lock()
        .unwrap()
        .got
        .get(path)
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn webhooks_are_signed_retried_and_only_carry_events_the_organization_may_see() {
    let app = TestApp::spawn_with(|c| {
        c.webhook_allow_insecure = true;
        c.webhook_retry_base = Duration::from_millis(200);
        c.webhook_max_attempts = 3;
        c.outbox_poll_interval = Duration::from_millis(100);
    })
    .await;
    let (receiver_base, shared) = start_receiver().await;
    let (himawari_admin, _) = app.login("admin@himawari.example").await;
    let (aozora_admin, _) = app.login("admin@aozora.example").await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let (komorebi, _) = app.login("manager@komorebi.example").await;

    // Only admins register; URLs are checked.
    let denied = app
        .gql(
            Some(&staff),
            REGISTER,
            json!({ "i": { "url": format!("{receiver_base}/x"), "eventKinds": ["OBSERVATION_RECORDED"] } }),
        )
        .await;
    assert_error(&denied, "FORBIDDEN");
    for (url, kinds) in [
        ("ftp://example.com/", json!(["OBSERVATION_RECORDED"])),
        ("https://example.com/", json!([])),
    ] {
        let body = app
            .gql(
                Some(&himawari_admin),
                REGISTER,
                json!({ "i": { "url": url, "eventKinds": kinds } }),
            )
            .await;
        assert_error(&body, "BAD_USER_INPUT");
    }

    // himawari's endpoint fails twice before it accepts; aozora's accepts at once; a third
    // endpoint always fails.
    shared
        .lock()
        .unwrap()
        .fail_first
        .insert("himawari".into(), 2);
    shared
        .lock()
        .unwrap()
        .fail_first
        .insert("broken".into(), usize::MAX);
    register(
        &app,
        &himawari_admin,
        &receiver_base,
        "himawari",
        json!(["OBSERVATION_RECORDED"]),
        &shared,
    )
    .await;
    register(
        &app,
        &aozora_admin,
        &receiver_base,
        "aozora",
        json!(["OBSERVATION_RECORDED", "OBSERVATION_AMENDED"]),
        &shared,
    )
    .await;

    // A shared record, an internal one, and another facility's record of a client whose office
    // (あおぞら) has no consent on file: that one must reach no endpoint.
    let yamada = client_id(&app, &staff, "山田 太郎").await;
    let shared_fact =
        crate::views::record(&app, &staff, &yamada, "午前の作業に参加した。", "CARE_TEAM").await;
    let internal =
        crate::views::record(&app, &staff, &yamada, "職員間の申し送り。", "INTERNAL").await;
    let mori = client_id(&app, &komorebi, "森 陽介").await;
    crate::views::record(&app, &komorebi, &mori, "こもれびの記録。", "CARE_TEAM").await;

    let to_aozora = received(&shared, "aozora", 1).await;
    let to_himawari = received(&shared, "himawari", 2).await;
    let record_ids = |list: &[Received]| -> Vec<String> {
        list.iter()
            .map(|r| r.body["record"]["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let shared_id = shared_fact["id"].as_str().unwrap().to_owned();
    let internal_id = internal["id"].as_str().unwrap().to_owned();
    assert_eq!(
        record_ids(&to_aozora),
        vec![shared_id.clone()],
        "the office gets only the shared record"
    );
    assert_eq!(
        record_ids(&to_himawari),
        vec![shared_id.clone(), internal_id],
        "the writer gets its own records, once each"
    );

    // Thin, signed payloads: ids and kinds, never the record's text.
    let first = &to_aozora[0];
    assert_eq!(first.event, "OBSERVATION_RECORDED");
    assert_eq!(first.body["kind"], "OBSERVATION_RECORDED");
    assert_eq!(first.body["clientId"], yamada.as_str());
    assert_eq!(first.body["record"]["type"], "Observation");
    assert_eq!(first.body["deliveryId"], first.delivery.as_str());
    assert!(!first.body.to_string().contains("午前の作業"));
    assert_eq!(shared.lock().unwrap().bad_signatures, 0);
    // The failures before success were real attempts.
    assert_eq!(
        shared.lock().unwrap().attempts["himawari"],
        4,
        "2 failures, then 2 deliveries"
    );

    // The delivery log: both delivered in the end; the two failed attempts are counted.
    let log = app.gql(Some(&himawari_admin), LOG, json!({})).await;
    let deliveries = log["data"]["webhooks"][0]["deliveries"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{log}"))
        .clone();
    assert_eq!(deliveries.len(), 2, "{log}");
    let attempts: Vec<i64> = deliveries
        .iter()
        .map(|d| d["attempts"].as_i64().unwrap())
        .collect();
    assert_eq!(attempts.iter().sum::<i64>(), 4, "{log}");
    for d in &deliveries {
        assert_eq!(d["status"], "SUCCEEDED", "{log}");
        assert_eq!(d["lastStatusCode"], 204);
        assert!(d["deliveredAt"].is_string());
    }
    let oldest = deliveries.last().unwrap();
    // Another organization's admin sees none of it, and cannot redeliver it.
    let theirs = app.gql(Some(&aozora_admin), LOG, json!({})).await;
    assert_eq!(theirs["data"]["webhooks"].as_array().unwrap().len(), 1);
    let redeliver =
        "mutation($d: ID!) { redeliverWebhook(deliveryId: $d) { delivery { status attempts } } }";
    let foreign = app
        .gql(Some(&aozora_admin), redeliver, json!({ "d": oldest["id"] }))
        .await;
    assert_error(&foreign, "NOT_FOUND");
    assert_error(&app.gql(Some(&staff), LOG, json!({})).await, "FORBIDDEN");

    // An endpoint that never accepts: failed after the configured attempts, then redelivered
    // by hand once it works.
    register(
        &app,
        &himawari_admin,
        &receiver_base,
        "broken",
        json!(["OBSERVATION_AMENDED"]),
        &shared,
    )
    .await;
    let amend = app
        .gql(
            Some(&staff),
            "mutation($i: AmendObservationInput!) { amendObservation(input: $i) { observation { version } } }",
            json!({ "i": { "observationId": shared_id, "expectedVersion": 1, "content": { "fact": "午前の作業に40分参加した。", "category": "ROUTINE", "occurredFrom": chrono::Utc::now().to_rfc3339() } } }),
        )
        .await;
    assert_eq!(
        amend["data"]["amendObservation"]["observation"]["version"], 2,
        "{amend}"
    );
    let amended_to_aozora = received(&shared, "aozora", 2).await;
    assert_eq!(amended_to_aozora[1].body["kind"], "OBSERVATION_AMENDED");
    let failed = wait_for_status(&app, &himawari_admin, "broken", "FAILED").await;
    assert_eq!(failed["attempts"], 3);
    assert_eq!(failed["lastStatusCode"], 500);
    shared.lock().unwrap().fail_first.insert("broken".into(), 0);
    let again = app
        .gql(
            Some(&himawari_admin),
            redeliver,
            json!({ "d": failed["id"] }),
        )
        .await;
    assert_eq!(
        again["data"]["redeliverWebhook"]["delivery"]["status"], "PENDING",
        "{again}"
    );
    let done = wait_for_status(&app, &himawari_admin, "broken", "SUCCEEDED").await;
    assert_eq!(done["attempts"], 4);
    assert_eq!(received(&shared, "broken", 1).await.len(), 1);

    // Pausing stops new deliveries; removing deletes the endpoint.
    let list = app
        .gql(
            Some(&himawari_admin),
            "{ webhooks { id description } }",
            json!({}),
        )
        .await;
    let himawari_hook = list["data"]["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["description"] == "himawari")
        .unwrap()["id"]
        .clone();
    // Another organization's admin cannot pause or remove it, nor can a non-admin.
    let update =
        "mutation($i: UpdateWebhookInput!) { updateWebhook(input: $i) { webhook { active } } }";
    let remove = "mutation($id: ID!) { removeWebhook(id: $id) { removedId } }";
    assert_error(
        &app.gql(
            Some(&aozora_admin),
            update,
            json!({ "i": { "id": himawari_hook, "active": false } }),
        )
        .await,
        "NOT_FOUND",
    );
    assert_error(
        &app.gql(Some(&aozora_admin), remove, json!({ "id": himawari_hook }))
            .await,
        "NOT_FOUND",
    );
    assert_error(
        &app.gql(Some(&staff), remove, json!({ "id": himawari_hook }))
            .await,
        "FORBIDDEN",
    );
    let paused = app
        .gql(
            Some(&himawari_admin),
            "mutation($i: UpdateWebhookInput!) { updateWebhook(input: $i) { webhook { active } } }",
            json!({ "i": { "id": himawari_hook, "active": false } }),
        )
        .await;
    assert_eq!(
        paused["data"]["updateWebhook"]["webhook"]["active"], false,
        "{paused}"
    );
    crate::views::record(&app, &staff, &yamada, "一時停止中の記録。", "CARE_TEAM").await;
    assert_eq!(
        received(&shared, "aozora", 3).await.len(),
        3,
        "others still receive"
    );
    assert_eq!(
        received(&shared, "himawari", 2).await.len(),
        2,
        "a paused endpoint receives nothing"
    );
    let removed = app
        .gql(
            Some(&himawari_admin),
            "mutation($id: ID!) { removeWebhook(id: $id) { removedId } }",
            json!({ "id": himawari_hook }),
        )
        .await;
    assert_eq!(
        removed["data"]["removeWebhook"]["removedId"], himawari_hook,
        "{removed}"
    );
}

/// Polls the delivery log of the endpoint described `description` until its newest delivery
/// has `status`.
async fn wait_for_status(app: &TestApp, admin: &str, description: &str, status: &str) -> Value {
    let q = "query { webhooks { description deliveries(first: 1) { nodes { id status attempts lastStatusCode } } } }";
    let mut last = Value::Null;
    for _ in 0..200 {
        let body = app.gql(Some(admin), q, json!({})).await;
        last = body["data"]["webhooks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["description"] == description)
            .map(|w| w["deliveries"]["nodes"][0].clone())
            .unwrap_or(Value::Null);
        if last["status"] == status {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{description} never reached {status}: {last}");
}

/// A delivery is judged when it goes out, not only when it was queued: an observation made
/// INTERNAL after the first (failed) attempt is not sent again; the delivery is `WITHHELD`.
#[tokio::test]
async fn a_record_hidden_after_queueing_is_withheld_not_sent() {
    let app = TestApp::spawn_with(|c| {
        c.webhook_allow_insecure = true;
        c.webhook_retry_base = Duration::from_millis(600);
        c.webhook_max_attempts = 5;
        c.outbox_poll_interval = Duration::from_millis(100);
    })
    .await;
    let (receiver_base, shared) = start_receiver().await;
    let (aozora_admin, _) = app.login("admin@aozora.example").await;
    let (staff, _) = app.login("staff@himawari.example").await;
    register(
        &app,
        &aozora_admin,
        &receiver_base,
        "office",
        json!(["OBSERVATION_RECORDED"]),
        &shared,
    )
    .await;
    shared.lock().unwrap().fail_first.insert("office".into(), 1);
    let client = client_id(&app, &staff, "山田 太郎").await;
    let obs = crate::views::record(
        &app,
        &staff,
        &client,
        "10:05 来所し、作業を始めた。",
        "CARE_TEAM",
    )
    .await;
    // Wait for the first attempt (answered 500; up to 20 s on a loaded machine), then hide the
    // record before the retry.
    for _ in 0..2000 {
        if shared
            .lock()
            .unwrap()
            .attempts
            .get("office")
            .copied()
            .unwrap_or(0)
            >= 1
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        shared.lock().unwrap().attempts.get("office").copied(),
        Some(1)
    );
    let amend = app
        .gql(
            Some(&staff),
            "mutation($i: AmendObservationInput!) { amendObservation(input: $i) { observation { visibility } } }",
            json!({ "i": { "observationId": obs["id"], "expectedVersion": 1, "content": {
                "fact": "10:05 来所し、作業を始めた。", "category": "ROUTINE",
                "occurredFrom": chrono::Utc::now().to_rfc3339(), "visibility": "INTERNAL" } } }),
        )
        .await;
    assert_eq!(
        amend["data"]["amendObservation"]["observation"]["visibility"], "INTERNAL",
        "{amend}"
    );
    // Well past the retry: nothing more arrived, and the log says why.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        shared.lock().unwrap().attempts.get("office").copied(),
        Some(1)
    );
    assert!(
        shared
            .lock()
            .unwrap()
            .got
            .get("office")
            .is_none_or(Vec::is_empty)
    );
    let log = app.gql(Some(&aozora_admin), LOG, json!({})).await;
    let deliveries = log["data"]["webhooks"][0]["deliveries"]["nodes"]
        .as_array()
        .unwrap();
    assert_eq!(deliveries.len(), 1, "{log}");
    assert_eq!(deliveries[0]["status"], "WITHHELD", "{log}");
    assert_eq!(deliveries[0]["attempts"], 1);
}

/// The first event a fresh server writes reaches an endpoint registered before it: the
/// dispatcher takes its place in the outbox when the server starts, not on its first pass
/// (which, woken by that very event, used to start after it and skip it).
#[tokio::test]
async fn the_first_event_after_start_is_delivered() {
    let app = TestApp::spawn_with(|c| {
        c.webhook_allow_insecure = true;
        // No safety poll during the test: only the event itself wakes the dispatcher.
        c.outbox_poll_interval = Duration::from_secs(600);
    })
    .await;
    let (receiver_base, shared) = start_receiver().await;
    let (aozora_admin, _) = app.login("admin@aozora.example").await;
    let (staff, _) = app.login("staff@himawari.example").await;
    register(
        &app,
        &aozora_admin,
        &receiver_base,
        "first",
        json!(["OBSERVATION_RECORDED"]),
        &shared,
    )
    .await;
    let client = client_id(&app, &staff, "山田 太郎").await;
    let obs = crate::views::record(&app, &staff, &client, "10:00 来所した。", "CARE_TEAM").await;
    let got = received(&shared, "first", 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].event, "OBSERVATION_RECORDED");
    assert!(
        got[0]
            .body
            .to_string()
            .contains(obs["id"].as_str().unwrap()),
        "{got:?}"
    );
}
