//! Subscriptions over `/graphql/ws`: the protocol's close codes with a raw client, delivery,
//! authorization and resume with both a raw Rust client and the npm `graphql-ws` client, and
//! two server instances on one database.

use std::{collections::BTreeSet, process::Stdio, time::Duration};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, BufReader, Lines},
    net::TcpStream,
    process::{Child, ChildStdout, Command},
};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{self, Message, client::IntoClientRequest, http::HeaderValue},
};

use crate::{
    helpers::{TestApp, js_dir},
    views::{client_id, record},
};

const WAIT: Duration = Duration::from_secs(20);

pub(crate) const MY_EVENTS: &str = "subscription($after: String) { myEvents(after: $after) { cursor kind occurredAt client { displayName } actor { displayName } record { __typename ... on Observation { id fact visibility } ... on SharingConsent { id } ... on CareTeamMember { id current } } } }";
const CLIENT_EVENTS: &str = "subscription($c: ID!, $after: String) { clientEvents(clientId: $c, after: $after) { cursor kind record { __typename ... on Observation { id fact } } } }";

/// A client speaking `graphql-transport-ws` frame by frame.
pub(crate) struct Raw {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Raw {
    async fn connect(app: &TestApp) -> Self {
        Self::connect_with(app, Some("graphql-transport-ws"), None)
            .await
            .expect("connect")
    }

    async fn connect_with(
        app: &TestApp,
        protocol: Option<&str>,
        origin: Option<&str>,
    ) -> Result<Self, tungstenite::Error> {
        Self::connect_to(app.ws_url(), protocol, origin).await
    }

    async fn connect_to(
        url: String,
        protocol: Option<&str>,
        origin: Option<&str>,
    ) -> Result<Self, tungstenite::Error> {
        let mut request = url.into_client_request()?;
        if let Some(p) = protocol {
            request
                .headers_mut()
                .insert("sec-websocket-protocol", HeaderValue::from_str(p).unwrap());
        }
        if let Some(o) = origin {
            request
                .headers_mut()
                .insert("origin", HeaderValue::from_str(o).unwrap());
        }
        let (ws, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(Self { ws })
    }

    /// Signs in over the socket and waits for the acknowledgement.
    pub(crate) async fn ready(app: &TestApp, token: &str) -> Self {
        let raw = Self::connect(app).await;
        raw.init(token).await
    }

    async fn init(mut self, token: &str) -> Self {
        self.send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }))
            .await;
        assert_eq!(self.recv().await["type"], "connection_ack");
        self
    }

    pub(crate) async fn send(&mut self, message: Value) {
        self.ws
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("send");
    }

    pub(crate) async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "type": "subscribe", "id": id, "payload": { "query": query, "variables": variables } }))
            .await;
    }

    /// The next protocol message (server pings answered), or `{"closed": code}`. The wait is
    /// bounded as a whole: server pings do not extend it, so a message that never comes fails
    /// the test instead of hanging it.
    pub(crate) async fn recv(&mut self) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .expect("a message in time");
            match frame {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(t.as_str()).expect("JSON message");
                    if v["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    return v;
                }
                Some(Ok(Message::Close(frame))) => {
                    let code = frame.map_or(1005, |f| u16::from(f.code));
                    return json!({ "closed": code });
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return json!({ "closed": 1006 }),
            }
        }
    }

    /// The close code the server ends with.
    pub(crate) async fn closed(&mut self) -> u16 {
        loop {
            let m = self.recv().await;
            if let Some(code) = m["closed"].as_u64() {
                return u16::try_from(code).unwrap();
            }
        }
    }

    /// The next `next` payload's event (`data.<field>`), failing on anything else.
    pub(crate) async fn event(&mut self, field: &str) -> Value {
        let m = self.recv().await;
        assert_eq!(m["type"], "next", "expected an event, got {m}");
        assert!(m["payload"].get("errors").is_none(), "{m}");
        m["payload"]["data"][field].clone()
    }
}

/// The npm `graphql-ws` client in a Node process, one JSON line per thing it saw.
struct NodeClient {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl NodeClient {
    fn start(app: &TestApp, token: &str, query: &str, variables: Value) -> Self {
        let dir = js_dir();
        let mut child = Command::new("node")
            .arg(dir.join("subscribe.mjs"))
            .arg(app.ws_url())
            .arg(token)
            .arg(query)
            .arg(variables.to_string())
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs");
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Self { child, lines }
    }

    async fn line(&mut self) -> Value {
        let line = tokio::time::timeout(WAIT, self.lines.next_line())
            .await
            .expect("the client printed in time")
            .expect("read")
            .expect("the client is still running");
        serde_json::from_str(&line).unwrap()
    }

    /// The next event (`next.data.<field>`), skipping connection notices.
    pub(crate) async fn event(&mut self, field: &str) -> Value {
        loop {
            let l = self.line().await;
            if l.get("connected").is_some() {
                continue;
            }
            assert!(l.get("next").is_some(), "expected an event, got {l}");
            assert!(l["next"].get("errors").is_none(), "{l}");
            return l["next"]["data"][field].clone();
        }
    }
}

impl Drop for NodeClient {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// The viewer behind an access token, as the server resolves it (for service-level tests).
async fn viewer(app: &TestApp, token: &str) -> kakehashi::auth::Viewer {
    kakehashi::http::authenticate(&app.state, Some(&format!("Bearer {token}")))
        .await
        .viewer()
        .cloned()
        .unwrap()
}

/// The UUID inside a global id.
fn uuid_of(id: &str) -> uuid::Uuid {
    kakehashi::graphql::ids::decode_any("id", &async_graphql::ID(id.to_owned()))
        .unwrap()
        .1
}

/// The global id of the client's one unrevoked sharing consent.
async fn active_consent(app: &TestApp, token: &str, client: &str) -> String {
    let body = app
        .gql(
            Some(token),
            "query($c: ID!) { client(id: $c) { sharingConsents { id revokedOn } } }",
            json!({ "c": client }),
        )
        .await;
    body["data"]["client"]["sharingConsents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["revokedOn"].is_null())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Waits until `n` live subscribers are attached to the app's hub (so a change made next is
/// one they must receive).
pub(crate) async fn live_subscribers(app: &TestApp, n: usize) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while app.state.hub.subscriber_count() < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "subscribers did not go live"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_protocol_closes_with_its_codes() {
    let app = TestApp::spawn_with(|c| {
        c.ws_init_timeout = Duration::from_millis(300);
        c.ws_max_message_bytes = 4096;
        c.ws_allowed_origins = vec!["https://app.example.jp".into()];
    })
    .await;
    let (token, _) = app.login("staff@himawari.example").await;
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });

    // 4400: not JSON, an unknown type, a subscribe without id.
    for bad in [
        json!("not a message"),
        json!({ "type": "wave" }),
        json!({ "type": "subscribe" }),
    ] {
        let mut raw = Raw::ready(&app, &token).await;
        match bad {
            Value::String(s) => raw.ws.send(Message::Text(s.into())).await.unwrap(),
            other => raw.send(other).await,
        }
        assert_eq!(raw.closed().await, 4400);
    }
    // 4401: subscribe before the acknowledgement.
    let mut raw = Raw::connect(&app).await;
    raw.subscribe("1", MY_EVENTS, json!({})).await;
    assert_eq!(raw.closed().await, 4401);
    // 4403: a forged token, and no token at all.
    for payload in [
        json!({ "authorization": "Bearer forged.token.here" }),
        json!({}),
    ] {
        let mut raw = Raw::connect(&app).await;
        raw.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        assert_eq!(raw.closed().await, 4403);
    }
    // 4408: no connection_init in time.
    let mut raw = Raw::connect(&app).await;
    assert_eq!(raw.closed().await, 4408);
    // 4409: a subscription id that is already running.
    let mut raw = Raw::ready(&app, &token).await;
    raw.subscribe("same", MY_EVENTS, json!({})).await;
    raw.subscribe("same", MY_EVENTS, json!({})).await;
    assert_eq!(raw.closed().await, 4409);
    // 4429: a second connection_init.
    let mut raw = Raw::ready(&app, &token).await;
    raw.send(init.clone()).await;
    assert_eq!(raw.closed().await, 4429);
    // 4406: the subprotocol was not offered.
    let mut raw = Raw::connect_with(&app, None, None).await.unwrap();
    assert_eq!(raw.closed().await, 4406);
    // 1009: larger than the cap.
    let mut raw = Raw::ready(&app, &token).await;
    raw.subscribe(
        "big",
        &format!("{MY_EVENTS} # {}", "x".repeat(8000)),
        json!({}),
    )
    .await;
    assert_eq!(raw.closed().await, 1009);
    // A browser page from another origin is refused before the upgrade; a listed one is not.
    let refused = Raw::connect_with(
        &app,
        Some("graphql-transport-ws"),
        Some("https://evil.example"),
    )
    .await;
    match refused {
        Err(tungstenite::Error::Http(res)) => assert_eq!(res.status(), 403),
        Err(other) => panic!("expected HTTP 403, got {other}"),
        Ok(_) => panic!("a foreign origin was let in"),
    }
    let mut listed = Raw::connect_with(
        &app,
        Some("graphql-transport-ws"),
        Some("https://app.example.jp"),
    )
    .await
    .unwrap();
    listed.send(init).await;
    assert_eq!(listed.recv().await["type"], "connection_ack");
    // Pings are answered.
    listed.send(json!({ "type": "ping" })).await;
    assert_eq!(listed.recv().await["type"], "pong");
}

#[tokio::test]
async fn bad_subscriptions_answer_error_messages_and_the_socket_stays_open() {
    let app = TestApp::spawn_with(|c| c.outbox_retention = Duration::from_secs(2)).await;
    let (token, _) = app.login("specialist@aozora.example").await;
    let yamada = client_id(&app, &token, "山田 太郎").await;
    let mut raw = Raw::ready(&app, &token).await;

    // A well-formed cursor of an event that does not exist yet.
    let future_cursor = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        format!("ev:999999999:{}", chrono::Utc::now().timestamp_micros()),
    );
    let cases = [
        (
            "1",
            "subscription { myEvents { nope } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "2",
            "subscription { myEvents(after: \"garbage\") { cursor } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "3",
            CLIENT_EVENTS,
            json!({ "c": "Q2xpZW50OjAxOWEwMDAwLTAwMDAtNzAwMC04MDAwLTAwMDAwMDAwMDAwMA" }),
            "NOT_FOUND",
        ),
        (
            "4",
            "subscription { a: myEvents { cursor } b: myEvents { cursor } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "5",
            "subscription($after: String) { myEvents(after: $after) { cursor } }",
            json!({ "after": future_cursor }),
            "BAD_USER_INPUT",
        ),
    ];
    for (id, query, variables, code) in cases {
        raw.subscribe(id, query, variables).await;
        let m = raw.recv().await;
        assert_eq!(m["type"], "error", "{m}");
        assert_eq!(m["id"], id);
        assert_eq!(m["payload"][0]["extensions"]["code"], code, "{m}");
    }

    // A cursor older than the retention is CURSOR_EXPIRED.
    raw.subscribe("live", CLIENT_EVENTS, json!({ "c": yamada }))
        .await;
    live_subscribers(&app, 1).await;
    let (staff, _) = app.login("staff@himawari.example").await;
    record(&app, &staff, &yamada, "昼食を完食した。", "CARE_TEAM").await;
    let event = raw.event("clientEvents").await;
    let cursor = event["cursor"].as_str().unwrap().to_owned();
    raw.send(json!({ "type": "complete", "id": "live" })).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    raw.subscribe(
        "old",
        CLIENT_EVENTS,
        json!({ "c": yamada, "after": cursor }),
    )
    .await;
    let m = raw.recv().await;
    assert_eq!(m["type"], "error", "{m}");
    assert_eq!(m["payload"][0]["extensions"]["code"], "CURSOR_EXPIRED");
    // Still open and usable.
    raw.send(json!({ "type": "ping" })).await;
    assert_eq!(raw.recv().await["type"], "pong");
}

#[tokio::test]
async fn the_socket_closes_with_4403_when_the_token_expires_or_the_session_ends() {
    let app = TestApp::spawn_with(|c| {
        c.access_token_ttl = Duration::from_secs(2);
        c.outbox_poll_interval = Duration::from_millis(100);
    })
    .await;
    let (short, _) = app.login("staff@himawari.example").await;
    let mut raw = Raw::ready(&app, &short).await;
    raw.subscribe("1", MY_EVENTS, json!({})).await;
    let started = std::time::Instant::now();
    assert_eq!(raw.closed().await, 4403);
    assert!(started.elapsed() < Duration::from_secs(4));

    // Logout from another tab ends the session: the socket closes at once.
    let (token, _) = app.login("specialist@aozora.example").await;
    let mut raw = Raw::ready(&app, &token).await;
    let body = app
        .gql(Some(&token), "mutation { logout { revoked } }", json!({}))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(raw.closed().await, 4403);
}

#[tokio::test]
async fn events_reach_each_subscriber_as_its_own_queries_would_show_them() {
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let (other_office, _) = app.login("specialist@mirai.example").await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let yamada = client_id(&app, &specialist, "山田 太郎").await;

    // The npm graphql-ws client on the consultation side; a raw one at another office.
    let mut consultation = NodeClient::start(&app, &specialist, MY_EVENTS, json!({}));
    let mut stranger = Raw::ready(&app, &other_office).await;
    stranger.subscribe("1", MY_EVENTS, json!({})).await;
    live_subscribers(&app, 2).await;

    let internal = record(
        &app,
        &staff,
        &yamada,
        "事業所内メモ：送迎の順番を変えた。",
        "INTERNAL",
    )
    .await;
    let shared = record(
        &app,
        &staff,
        &yamada,
        "10:20 作業変更の直後に大声を出した(約5分)。",
        "CARE_TEAM",
    )
    .await;
    let event = consultation.event("myEvents").await;
    assert_eq!(event["kind"], "OBSERVATION_RECORDED");
    assert_eq!(event["record"]["__typename"], "Observation");
    assert_eq!(
        event["record"]["id"], shared["id"],
        "the internal note was skipped"
    );
    assert_ne!(event["record"]["id"], internal["id"]);
    assert_eq!(
        event["record"]["fact"],
        "10:20 作業変更の直後に大声を出した(約5分)。"
    );
    assert_eq!(event["client"]["displayName"], "山田 太郎");
    assert!(event["actor"]["displayName"].is_string());
    assert!(event["cursor"].is_string() && event["occurredAt"].is_string());

    // The other office is not on 山田さん's care team: its first event is its own.
    let mirai_client = client_id(&app, &other_office, "佐々木 健").await;
    record(
        &app,
        &staff,
        &yamada,
        "15:00 落ち着いて作業に戻った。",
        "CARE_TEAM",
    )
    .await;
    let body = app
        .gql(
            Some(&other_office),
            "mutation($i: RecordSharingConsentInput!) { recordSharingConsent(input: $i) { sharingConsent { id } } }",
            json!({ "i": { "clientId": mirai_client, "grantedBy": "佐々木 健", "signerRelationship": "CLIENT", "grantedOn": chrono::Utc::now().date_naive().to_string(), "dataCategories": ["OBSERVATIONS"] } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let own = stranger.event("myEvents").await;
    assert_eq!(own["client"]["displayName"], "佐々木 健", "{own}");
    assert_eq!(own["kind"], "CONSENT_CHANGED");
}

#[tokio::test]
async fn revoked_consent_and_an_ended_membership_stop_delivery_at_once() {
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let (himawari, _) = app.login("staff@himawari.example").await;
    let (komorebi, _) = app.login("staff@komorebi.example").await;
    let yamada = client_id(&app, &specialist, "山田 太郎").await;

    let mut raw = Raw::ready(&app, &komorebi).await;
    raw.subscribe("y", CLIENT_EVENTS, json!({ "c": yamada }))
        .await;
    live_subscribers(&app, 1).await;

    // Under consent, the other facility's shared observation arrives.
    let before = record(
        &app,
        &himawari,
        &yamada,
        "朝の送迎時、笑顔で挨拶した。",
        "CARE_TEAM",
    )
    .await;
    let e = raw.event("clientEvents").await;
    assert_eq!(e["record"]["id"], before["id"]);

    // Revoke: the revocation itself (coordination data) arrives, then nothing of ひまわり's.
    let consent = active_consent(&app, &specialist, &yamada).await;
    let body = app
        .gql(
            Some(&specialist),
            "mutation($i: RevokeSharingConsentInput!) { revokeSharingConsent(input: $i) { sharingConsent { id } } }",
            json!({ "i": { "sharingConsentId": consent, "note": "本人の申し出" } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(raw.event("clientEvents").await["kind"], "CONSENT_CHANGED");
    let hidden = record(
        &app,
        &himawari,
        &yamada,
        "昼食後に居眠りをした。",
        "CARE_TEAM",
    )
    .await;
    let own = record(
        &app,
        &komorebi,
        &yamada,
        "夕食を残さず食べた。",
        "CARE_TEAM",
    )
    .await;
    let next = raw.event("clientEvents").await;
    assert_eq!(
        next["record"]["id"], own["id"],
        "the next event is ours, not {hidden}"
    );

    // The membership ends: the subscription ends with FORBIDDEN.
    let team = app
        .gql(
            Some(&specialist),
            "query($c: ID!) { client(id: $c) { careTeam { id current organization { name } } } }",
            json!({ "c": yamada }),
        )
        .await;
    let member = team["data"]["client"]["careTeam"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| {
            m["current"] == true
                && m["organization"]["name"]
                    .as_str()
                    .unwrap()
                    .contains("こもれび")
        })
        .unwrap_or_else(|| panic!("こもれび in {team}"))["id"]
        .clone();
    let body = app
        .gql(
            Some(&specialist),
            "mutation($i: EndCareTeamMembershipInput!) { endCareTeamMembership(input: $i) { careTeamMember { current } } }",
            json!({ "i": { "careTeamMemberId": member, "endDate": (chrono::Utc::now().date_naive() - chrono::Duration::days(1)).to_string() } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let m = raw.recv().await;
    assert_eq!(m["type"], "next", "{m}");
    assert_eq!(
        m["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{m}"
    );
    assert_eq!(raw.recv().await["type"], "complete");
}

/// Records `n` observations with a few concurrent writers; returns their ids.
async fn burst(app: &TestApp, token: &str, client: &str, n: usize, label: &str) -> Vec<String> {
    let writers = 4;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (client, token, label) = (client.to_owned(), token.to_owned(), label.to_owned());
        let app_url = app.url.clone();
        let http = app.client.clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in (w..n).step_by(writers) {
                let body: Value = http
                    .post(&app_url)
                    .bearer_auth(&token)
                    .json(&json!({
                        "query": "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { observation { id } } }",
                        "variables": { "i": { "clientId": client, "content": {
                            "fact": format!("{label} {i}: 作業を続けた。"), "category": "ROUTINE",
                            "occurredFrom": chrono::Utc::now().to_rfc3339(), "visibility": "CARE_TEAM" } } }
                    }))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                ids.push(
                    body["data"]["recordObservation"]["observation"]["id"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{body}"))
                        .to_owned(),
                );
            }
            ids
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.extend(t.await.unwrap());
    }
    ids
}

#[tokio::test]
async fn a_subscriber_that_reconnects_mid_burst_misses_and_repeats_nothing() {
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let yamada = client_id(&app, &specialist, "山田 太郎").await;

    let mut raw = Raw::ready(&app, &specialist).await;
    raw.subscribe("a", MY_EVENTS, json!({})).await;
    live_subscribers(&app, 1).await;
    let writer = {
        let (staff, yamada) = (staff.clone(), yamada.clone());
        let app_ref = &app;
        async move { burst(app_ref, &staff, &yamada, 1000, "連続").await }
    };
    let reader = async {
        let mut seen = Vec::new();
        let mut cursor = String::new();
        for _ in 0..250 {
            let e = raw.event("myEvents").await;
            cursor = e["cursor"].as_str().unwrap().to_owned();
            seen.push(e["record"]["id"].as_str().unwrap().to_owned());
        }
        // The connection drops mid-burst; the client comes back with its last cursor.
        drop(raw);
        let mut again = Raw::ready(&app, &specialist).await;
        again
            .subscribe("b", MY_EVENTS, json!({ "after": cursor }))
            .await;
        while seen.len() < 1000 {
            let e = again.event("myEvents").await;
            seen.push(e["record"]["id"].as_str().unwrap().to_owned());
        }
        (seen, again)
    };
    let (written, (seen, mut again)) = tokio::join!(writer, reader);
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 1000, "no event delivered twice");
    assert_eq!(
        unique,
        written.iter().collect::<BTreeSet<_>>(),
        "every event delivered"
    );
    // And nothing extra is pending.
    record(&app, &staff, &yamada, "最後の記録。", "CARE_TEAM").await;
    assert_eq!(
        again.event("myEvents").await["record"]["fact"],
        "最後の記録。"
    );
}

#[tokio::test]
async fn two_instances_deliver_each_others_changes_in_order_exactly_once() {
    let a = TestApp::spawn_with(|c| c.outbox_poll_interval = Duration::from_millis(200)).await;
    let b = a.spawn_sibling().await;
    let (specialist, _) = b.login("specialist@aozora.example").await;
    let (staff_a, _) = a.login("staff@himawari.example").await;
    let (staff_b, _) = b.login("staff@komorebi.example").await;
    let yamada = client_id(&a, &staff_a, "山田 太郎").await;

    // The npm client on instance B; writers on both instances at once.
    let mut node = NodeClient::start(&b, &specialist, MY_EVENTS, json!({}));
    live_subscribers(&b, 1).await;
    let (from_a, from_b) = tokio::join!(
        burst(&a, &staff_a, &yamada, 120, "A"),
        burst(&b, &staff_b, &yamada, 80, "B"),
    );
    let mut cursors = Vec::new();
    let mut seen = BTreeSet::new();
    while seen.len() < 200 {
        let e = node.event("myEvents").await;
        assert!(
            seen.insert(e["record"]["id"].as_str().unwrap().to_owned()),
            "duplicate {e}"
        );
        cursors.push(e["cursor"].as_str().unwrap().to_owned());
    }
    let expected: BTreeSet<String> = from_a.into_iter().chain(from_b).collect();
    assert_eq!(seen, expected);
    // In commit order: the cursors' event ids increase.
    let ids: Vec<i64> = cursors
        .iter()
        .map(|c| {
            let text = String::from_utf8(
                base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, c)
                    .unwrap(),
            )
            .unwrap();
            text.split(':').nth(1).unwrap().parse().unwrap()
        })
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    drop(node);
    drop(b);
}

#[tokio::test]
async fn a_live_subscriber_that_falls_behind_is_told_to_resume_from_its_cursor() {
    use kakehashi::realtime::feed::{self, Follow};

    let app = TestApp::spawn_with(|c| c.subscriber_buffer = 16).await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let yamada = client_id(&app, &specialist, "山田 太郎").await;
    let viewer = viewer(&app, &specialist).await;
    let stream = feed::open(&app.state, &viewer, Follow::AllMine, None)
        .await
        .unwrap();
    tokio::pin!(stream);
    // Poll once so that the feed goes live, read one live event, then stop reading while 40
    // more arrive.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), stream.next())
            .await
            .is_err()
    );
    live_subscribers(&app, 1).await;
    record(&app, &staff, &yamada, "開始。", "CARE_TEAM").await;
    let first = tokio::time::timeout(WAIT, stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let cursor = first.delivery.cursor().encode();
    burst(&app, &staff, &yamada, 40, "遅延").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    match tokio::time::timeout(WAIT, stream.next()).await.unwrap() {
        Some(Err(kakehashi::error::ApiError::SubscriberTooSlow { cursor: Some(c) })) => {
            assert_eq!(c, cursor, "resume from the last event delivered")
        }
        Some(Err(e)) => panic!("expected SUBSCRIBER_TOO_SLOW, got {}", e.code().as_str()),
        Some(Ok(_)) => panic!("an overflowed subscriber kept going"),
        None => panic!("the feed ended silently"),
    }
    // Resuming from the cursor returns all 40 from the database.
    let after = kakehashi::service::outbox::Cursor::decode("after", &cursor).unwrap();
    let resumed = feed::open(&app.state, &viewer, Follow::AllMine, Some(after))
        .await
        .unwrap();
    tokio::pin!(resumed);
    for _ in 0..40 {
        let item = tokio::time::timeout(WAIT, resumed.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(
            item.delivery.event.kind,
            kakehashi::service::events::EventKind::ObservationRecorded
        );
    }
}

#[tokio::test]
async fn a_rolled_back_change_is_never_delivered() {
    use kakehashi::{
        realtime::feed::{self, Follow},
        service::events::{self, EventKind},
    };
    use sea_orm::TransactionTrait;

    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let yamada = client_id(&app, &specialist, "山田 太郎").await;
    let yamada_uuid = uuid_of(&yamada);
    let reader = viewer(&app, &specialist).await;
    let writer = viewer(&app, &staff).await;
    let stream = feed::open(&app.state, &reader, Follow::AllMine, None)
        .await
        .unwrap();
    tokio::pin!(stream);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), stream.next())
            .await
            .is_err()
    );

    // A change whose transaction rolls back leaves no event behind.
    let txn = app.state.db.begin().await.unwrap();
    events::record_change(
        &txn,
        &writer,
        EventKind::ObservationRecorded,
        yamada_uuid,
        events::RecordType::Observation,
        uuid::Uuid::now_v7(),
    )
    .await
    .unwrap();
    txn.rollback().await.unwrap();
    app.state.hub.wake();
    let committed = record(&app, &staff, &yamada, "14:00 散歩から戻った。", "CARE_TEAM").await;
    let item = tokio::time::timeout(WAIT, stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        item.delivery.event.record_id,
        uuid_of(committed["id"].as_str().unwrap()),
        "the next event is the committed one"
    );
}

#[tokio::test]
async fn shutting_down_closes_sockets_with_1001() {
    let mut app = TestApp::spawn().await;
    let (token, _) = app.login("staff@himawari.example").await;
    let mut raw = Raw::ready(&app, &token).await;
    raw.subscribe("1", MY_EVENTS, json!({})).await;
    live_subscribers(&app, 1).await;
    app.stop();
    assert_eq!(raw.closed().await, 1001);
}

#[tokio::test]
async fn a_replay_ahead_of_the_hub_still_judges_with_the_access_it_replays() {
    use kakehashi::{
        realtime::feed::{self, Follow},
        service::{consents, observations},
    };

    // The hub polls rarely and service-layer writes do not wake it: a resuming subscriber
    // reads the revocation from the database before the hub has published it.
    let app = TestApp::spawn_with(|c| c.outbox_poll_interval = Duration::from_secs(60)).await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let (himawari, _) = app.login("staff@himawari.example").await;
    let (komorebi, _) = app.login("staff@komorebi.example").await;
    let yamada = client_id(&app, &specialist, "山田 太郎").await;
    let yamada_uuid = uuid_of(&yamada);
    let reader = viewer(&app, &komorebi).await;
    let writer = viewer(&app, &himawari).await;
    let coordinator = viewer(&app, &specialist).await;

    // Live: an observation under consent arrives, and the office's scope is cached.
    let live = feed::open(&app.state, &reader, Follow::AllMine, None)
        .await
        .unwrap();
    tokio::pin!(live);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), live.next())
            .await
            .is_err()
    );
    record(&app, &himawari, &yamada, "朝の会に参加した。", "CARE_TEAM").await;
    let seen = tokio::time::timeout(WAIT, live.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let cursor = seen.delivery.cursor();

    // Revoke and record behind the hub's back.
    let consent = uuid_of(&active_consent(&app, &specialist, &yamada).await);
    consents::revoke(&app.state, &coordinator, consent, None, None)
        .await
        .unwrap();
    let content = |fact: &str| observations::ObservationContent {
        fact: fact.into(),
        interpretation: None,
        client_words: None,
        category: entity::observation::ObservationCategory::Routine,
        occurred_from: chrono::Utc::now(),
        occurred_to: None,
        visibility: entity::observation::Visibility::CareTeam,
        tags: vec![],
        cited_observation_ids: vec![],
    };
    let hidden = observations::record(
        &app.state,
        &writer,
        yamada_uuid,
        content("昼食後に居眠りをした。"),
    )
    .await
    .unwrap();
    let own = observations::record(
        &app.state,
        &reader,
        yamada_uuid,
        content("夕食を残さず食べた。"),
    )
    .await
    .unwrap();

    // Resume: the revocation, then our own record; ひまわり's is not shown.
    let resumed = feed::open(&app.state, &reader, Follow::AllMine, Some(cursor))
        .await
        .unwrap();
    tokio::pin!(resumed);
    let first = tokio::time::timeout(WAIT, resumed.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        first.delivery.event.kind,
        kakehashi::service::events::EventKind::ConsentChanged
    );
    let second = tokio::time::timeout(WAIT, resumed.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(second.delivery.event.record_id, own.id, "not {}", hidden.id);
}

/// A subscription lives long, and names it shows are as they are at each event: an author
/// deactivated between two events shows as inactive in the second (the names a subscription's
/// loaders remember are forgotten before each event).
#[tokio::test]
async fn each_event_shows_the_author_as_they_are_now() {
    const AUTHORS: &str = "subscription { myEvents { kind record { ... on Observation { id author { displayName active } } } } }";
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let (manager, _) = app.login("manager@himawari.example").await;
    let (admin, _) = app.login("admin@himawari.example").await;
    let yamada = client_id(&app, &specialist, "山田 太郎").await;
    let mut raw = Raw::ready(&app, &specialist).await;
    raw.subscribe("1", AUTHORS, json!({})).await;
    live_subscribers(&app, 1).await;

    let recorded = record(&app, &staff, &yamada, "10:00 来所した。", "CARE_TEAM").await;
    let first = raw.event("myEvents").await;
    assert_eq!(first["record"]["author"]["active"], true, "{first}");

    let staff_member =
        crate::staff_accounts::staff_id(&app, &admin, "staff@himawari.example").await;
    let body = app
        .gql(Some(&admin), "mutation($id: ID!) { deactivateStaffMember(input: { staffMemberId: $id }) { staffMember { active } } }", json!({ "id": staff_member }))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    // The manager corrects the record; its author is still the deactivated staff member.
    let body = app
        .gql(Some(&manager), "mutation($i: AmendObservationInput!) { amendObservation(input: $i) { observation { version } } }",
            json!({ "i": { "observationId": recorded["id"], "expectedVersion": 1, "content": {
                "fact": "10:05 来所した。", "category": "ROUTINE", "occurredFrom": chrono::Utc::now().to_rfc3339(), "visibility": "CARE_TEAM" } } }))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let second = loop {
        let e = raw.event("myEvents").await;
        if e["record"]["id"] == recorded["id"] && e["kind"] != first["kind"] {
            break e;
        }
    };
    assert_eq!(second["record"]["author"]["active"], false, "{second}");
}

/// GraphiQL, Apollo Sandbox and most clients open the socket on the GraphQL URL itself.
#[tokio::test]
async fn the_graphql_url_serves_the_websocket_protocol_too() {
    let app = TestApp::spawn().await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let client = client_id(&app, &staff, "山田 太郎").await;
    let url = format!("ws://{}/graphql", app.addr);
    let raw = Raw::connect_to(url.clone(), Some("graphql-transport-ws"), None)
        .await
        .expect("the upgrade is accepted on /graphql");
    let mut raw = raw.init(&specialist).await;
    raw.subscribe("1", MY_EVENTS, json!({})).await;
    live_subscribers(&app, 1).await;
    let written = record(
        &app,
        &staff,
        &client,
        "11:00 昼食を全量食べた。",
        "CARE_TEAM",
    )
    .await;
    let event = raw.event("myEvents").await;
    assert_eq!(event["record"]["id"], written["id"]);
    // The same rules as /graphql/ws: a browser from another origin is refused before the upgrade.
    let refused = Raw::connect_to(
        url,
        Some("graphql-transport-ws"),
        Some("https://evil.example"),
    )
    .await;
    assert!(refused.is_err());
    // Plain GETs of /graphql still answer queries.
    let res = app
        .client
        .get(format!("{}?query={{__typename}}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}
