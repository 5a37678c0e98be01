//! One staff member's sockets running the same subscription share one execution (all but the
//! first, which runs alone): each event is judged, audited and rendered once for them and the
//! same text goes to every socket (`/metrics` counts renders and messages). What each socket receives is still exactly what it would receive alone:
//! other viewers and other documents are rendered for themselves, internal records stay with
//! their facility, and a socket whose session ends closes alone while the others go on.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    helpers::TestApp,
    subscriptions::{MY_EVENTS, Raw},
    views::{client_id, record},
};

const WAIT: Duration = Duration::from_secs(20);
const SHORT: &str = "subscription { myEvents { cursor kind } }";

/// Renders and messages so far, from `/metrics`.
async fn counts(app: &TestApp) -> (u64, u64) {
    let text = app
        .client
        .get(format!("http://{}/metrics", app.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let value = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in\n{text}"))
    };
    (
        value("kakehashi_subscription_renders_total"),
        value("kakehashi_subscription_messages_total"),
    )
}

/// Waits for the hub to have `n` feeds (executions) following it.
async fn feeds(app: &TestApp, n: usize) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while app.state.hub.subscriber_count() != n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected {n} feeds, have {}",
            app.state.hub.subscriber_count()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The next message, which must be an event: its whole payload.
async fn next(raw: &mut Raw) -> Value {
    let m = raw.recv().await;
    assert_eq!(m["type"], "next", "{m}");
    assert!(m["payload"].get("errors").is_none(), "{m}");
    m["payload"].clone()
}

#[tokio::test]
async fn one_viewers_sockets_share_each_render_and_each_socket_keeps_its_own_rules() {
    let app = TestApp::spawn().await;
    let (first_session, _) = app.login("specialist@aozora.example").await;
    let (second_session, _) = app.login("specialist@aozora.example").await;
    let (komorebi, _) = app.login("staff@komorebi.example").await;
    let (writer, _) = app.login("staff@himawari.example").await;
    let yamada = client_id(&app, &writer, "山田 太郎").await;

    // The specialist on two sessions (two tabs on one device, one on another), once more with
    // another document, and a facility's staff with the same document as the specialist. The
    // first socket of an operation runs alone; the second (the laptop) starts a share that the
    // third (the phone, on the other session) joins.
    // Shares are keyed by the access generation, which is process-wide: another test of this
    // binary changing a care team in between (before the tab's socket or the phone's) makes a
    // socket run under a key of its own, as it must (a scope read under a newer generation is
    // not the others').
    let generation = kakehashi::service::invalidation::ACCESS.current();
    let mut tab = Raw::ready(&app, &first_session).await;
    tab.subscribe("a", MY_EVENTS, json!({})).await;
    feeds(&app, 1).await;
    let mut laptop = Raw::ready(&app, &first_session).await;
    laptop.subscribe("l", MY_EVENTS, json!({})).await;
    // The share exists before the phone asks (otherwise the phone could start one of its own).
    feeds(&app, 2).await;
    let mut phone = Raw::ready(&app, &second_session).await;
    phone.subscribe("b", MY_EVENTS, json!({})).await;
    let mut short = Raw::ready(&app, &first_session).await;
    short.subscribe("c", SHORT, json!({})).await;
    let mut facility = Raw::ready(&app, &komorebi).await;
    facility.subscribe("d", MY_EVENTS, json!({})).await;
    // Four feeds; five when the generation moved between the laptop's socket and the phone's
    // (the phone then runs under a key of its own, see above).
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let have = app.state.hub.subscriber_count();
        let moved = kakehashi::service::invalidation::ACCESS.current() != generation;
        if have == 4 || (moved && have == 5) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected 4 feeds (5 after a generation change), have {have}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let (renders, messages) = counts(&app).await;
    record(&app, &writer, &yamada, "朝食を完食した。", "CARE_TEAM").await;
    let (a, b) = (next(&mut tab).await, next(&mut phone).await);
    assert_eq!(
        a, b,
        "the two sessions of one viewer receive the same event"
    );
    assert_eq!(next(&mut laptop).await, a);
    assert_eq!(a["data"]["myEvents"]["record"]["fact"], "朝食を完食した。");
    let c = next(&mut short).await;
    assert_eq!(
        c["data"]["myEvents"]["cursor"],
        a["data"]["myEvents"]["cursor"]
    );
    assert!(
        c["data"]["myEvents"].get("record").is_none(),
        "each document gets its own selection: {c}"
    );
    let d = next(&mut facility).await;
    assert_eq!(d["data"]["myEvents"]["record"]["fact"], "朝食を完食した。");
    let (renders_now, messages_now) = counts(&app).await;
    let moved = kakehashi::service::invalidation::ACCESS.current() != generation;
    assert_eq!(messages_now, messages + 5, "one message per socket");
    assert!(
        renders_now == renders + 4 || (moved && renders_now == renders + 5),
        "four renders for five sockets (the laptop and the phone share one), five only when the \
         access generation moved meanwhile: {} renders, generation moved: {moved}",
        renders_now - renders
    );

    // An internal record stays with its facility: the next event anyone here receives is the
    // shared one after it.
    record(&app, &writer, &yamada, "職員間の申し送り。", "INTERNAL").await;
    record(&app, &writer, &yamada, "昼食を完食した。", "CARE_TEAM").await;
    for raw in [&mut tab, &mut laptop, &mut phone, &mut facility] {
        let e = next(raw).await;
        assert_eq!(e["data"]["myEvents"]["record"]["fact"], "昼食を完食した。");
    }
    assert_eq!(
        next(&mut short).await["data"]["myEvents"]["kind"],
        "OBSERVATION_RECORDED"
    );

    // The first session ends: its sockets close, the second session's goes on receiving from
    // the execution the first session's laptop started.
    let body = app
        .gql(
            Some(&first_session),
            "mutation { logout { revoked } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["logout"]["revoked"], true, "{body}");
    assert_eq!(tab.closed().await, 4403);
    assert_eq!(laptop.closed().await, 4403);
    assert_eq!(short.closed().await, 4403);
    record(&app, &writer, &yamada, "夕食を完食した。", "CARE_TEAM").await;
    assert_eq!(
        next(&mut phone).await["data"]["myEvents"]["record"]["fact"],
        "夕食を完食した。"
    );
    assert_eq!(
        next(&mut facility).await["data"]["myEvents"]["record"]["fact"],
        "夕食を完食した。"
    );

    // The last socket of a share completing stops its execution.
    feeds(&app, 2).await;
    phone.send(json!({ "type": "complete", "id": "b" })).await;
    feeds(&app, 1).await;
}

/// A subscription with `after` replays what its socket missed, so it runs alone, and from then on
/// receives what the shared ones receive.
#[tokio::test]
async fn a_resuming_subscription_replays_alone() {
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let (writer, _) = app.login("staff@himawari.example").await;
    let yamada = client_id(&app, &writer, "山田 太郎").await;
    let mut live = Raw::ready(&app, &specialist).await;
    live.subscribe("a", MY_EVENTS, json!({})).await;
    feeds(&app, 1).await;
    record(&app, &writer, &yamada, "一件目。", "CARE_TEAM").await;
    let first = next(&mut live).await;
    record(&app, &writer, &yamada, "二件目。", "CARE_TEAM").await;
    let second = next(&mut live).await;

    let mut resumed = Raw::ready(&app, &specialist).await;
    let cursor = first["data"]["myEvents"]["cursor"].clone();
    resumed
        .subscribe("r", MY_EVENTS, json!({ "after": cursor }))
        .await;
    assert_eq!(
        next(&mut resumed).await,
        second,
        "the missed event, replayed"
    );
    feeds(&app, 2).await;
    record(&app, &writer, &yamada, "三件目。", "CARE_TEAM").await;
    assert_eq!(next(&mut resumed).await, next(&mut live).await);
}
