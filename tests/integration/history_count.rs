//! `client.history`'s `totalCount` is kept between requests (counting a long history is most of
//! a page's cost) and must still be the truth after every change: it always equals the number of
//! entries the viewer reaches by paging through the whole history, for each viewer and filter,
//! right after a record is added, hidden, amended, marked entered-in-error, or a consent is
//! revoked.

use serde_json::{Value, json};

use crate::{
    helpers::*,
    views::{client_id, record},
};

const PAGE: &str = "query($c: ID!, $after: String, $kinds: [HistoryKind!]!) {
  client(id: $c) { history(first: 100, after: $after, kinds: $kinds) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { kind } } } } }";

/// The count the first page states, after checking that every page states the same count and
/// that it is the number of entries the pages hold.
async fn counted(app: &TestApp, token: &str, client: &str, kinds: &[&str]) -> u64 {
    let (mut after, mut walked, mut stated) = (Value::Null, 0u64, None);
    loop {
        let body = app
            .gql(
                Some(token),
                PAGE,
                json!({ "c": client, "after": after, "kinds": kinds }),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        let history = &body["data"]["client"]["history"];
        let total = history["totalCount"].as_u64().unwrap();
        assert_eq!(*stated.get_or_insert(total), total, "{body}");
        walked += history["edges"].as_array().unwrap().len() as u64;
        if history["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = history["pageInfo"]["endCursor"].clone();
    }
    let total = stated.unwrap();
    assert_eq!(
        total, walked,
        "totalCount {total} against {walked} entries walked ({kinds:?})"
    );
    total
}

const AMEND: &str = "mutation($i: AmendObservationInput!) { amendObservation(input: $i) { observation { version } } }";
const MARK: &str = "mutation($i: MarkObservationEnteredInErrorInput!) { markObservationEnteredInError(input: $i) { observation { status } } }";

#[tokio::test]
async fn the_history_count_is_the_truth_after_every_change() {
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let (manager, _) = app.login("manager@himawari.example").await;
    let client = client_id(&app, &staff, "山田 太郎").await;
    let observations = ["OBSERVATION"];

    let s0 = counted(&app, &specialist, &client, &[]).await;
    let so0 = counted(&app, &specialist, &client, &observations).await;
    let f0 = counted(&app, &staff, &client, &[]).await;
    // Asked again, unchanged: the kept count.
    assert_eq!(counted(&app, &specialist, &client, &[]).await, s0);

    // A record shared with the care team: the specialist's count, with and without a filter.
    let shared = record(&app, &staff, &client, "昼食を完食した。", "CARE_TEAM").await;
    assert_eq!(counted(&app, &specialist, &client, &[]).await, s0 + 1);
    assert_eq!(
        counted(&app, &specialist, &client, &observations).await,
        so0 + 1
    );
    assert_eq!(counted(&app, &staff, &client, &[]).await, f0 + 1);

    // An internal record: the facility's count only.
    let internal = record(&app, &staff, &client, "居室の換気をした。", "INTERNAL").await;
    assert_eq!(counted(&app, &specialist, &client, &[]).await, s0 + 1);
    assert_eq!(counted(&app, &staff, &client, &[]).await, f0 + 2);

    // The shared record made internal: gone from the specialist's count.
    let content = json!({ "fact": "昼食を完食した。", "category": "ROUTINE",
        "occurredFrom": chrono::Utc::now().to_rfc3339(), "visibility": "INTERNAL" });
    let body = app
        .gql(
            Some(&staff),
            AMEND,
            json!({ "i": { "observationId": shared["id"],
            "expectedVersion": 1, "content": content } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(counted(&app, &specialist, &client, &[]).await, s0);
    assert_eq!(
        counted(&app, &specialist, &client, &observations).await,
        so0
    );

    // Entered in error: gone from every count.
    let body = app
        .gql(
            Some(&manager),
            MARK,
            json!({ "i": { "observationId": internal["id"],
            "expectedVersion": 1, "reason": "別の利用者の記録だった" } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(counted(&app, &staff, &client, &[]).await, f0 + 1);

    // The consent that shares the facilities' observations with the office revoked: the
    // specialist no longer counts them (an access change, not a timeline write, moved it).
    let body = app
        .gql(
            Some(&manager),
            "query($c: ID!) { client(id: $c) { sharingConsents { id revokedOn } } }",
            json!({ "c": client }),
        )
        .await;
    let consents: Vec<Value> = body["data"]["client"]["sharingConsents"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .filter(|c| c["revokedOn"].is_null())
        .map(|c| c["id"].clone())
        .collect();
    assert!(!consents.is_empty(), "{body}");
    let before = counted(&app, &specialist, &client, &observations).await;
    for id in consents {
        let body = app
            .gql(
                Some(&manager),
                "mutation($i: RevokeSharingConsentInput!) { revokeSharingConsent(input: $i) { sharingConsent { id } } }",
                json!({ "i": { "sharingConsentId": id } }),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    let after = counted(&app, &specialist, &client, &observations).await;
    assert!(
        after < before,
        "revoking the consents left {after} of {before} observations counted"
    );
}
