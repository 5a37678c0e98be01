//! The facility and consultation views over the demo world, the observation lifecycle, and the
//! statement count of nested lists.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::*;

fn names(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|n| {
            n["displayName"]
                .as_str()
                .or(n["client"]["displayName"].as_str())
                .unwrap()
                .to_owned()
        })
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

const FACILITY: &str = "{ facility {
  organization { name }
  clients(first: 100) { totalCount nodes { displayName profileVisible } }
  recentObservations(first: 100) { totalCount nodes { fact visibility organization { name } client { displayName } } }
  clientsWithOpenRiskSigns { nodes { displayName } }
} }";

const CONSULTATION: &str = "{ consultation {
  caseload(first: 100) { totalCount nodes { newSharedObservationCount openRiskSignCount client { displayName profileVisible wishes } } }
  sharedObservations(first: 100) { totalCount nodes { fact visibility category organization { name } } }
  riskSigns { nodes { fact } }
} }";

#[tokio::test]
async fn each_demo_facility_sees_its_own_clients_and_what_is_shared_with_it() {
    let app = TestApp::spawn().await;
    let (himawari, _) = app.login("staff@himawari.example").await;
    let body = app.gql(Some(&himawari), FACILITY, json!({})).await;
    let f = &body["data"]["facility"];
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        names(&f["clients"]["nodes"]),
        set(&["山田 太郎", "佐々木 健", "小川 さくら"])
    );
    assert_eq!(
        names(&f["clientsWithOpenRiskSigns"]["nodes"]),
        set(&["山田 太郎", "佐々木 健"])
    );
    let observations = f["recentObservations"]["nodes"].as_array().unwrap();
    // Own records of all three clients, plus what こもれび and あおぞら share about 山田 with
    // the care team; こもれび's CONSULTATION-only record and everything about 森 stay out.
    assert!(
        observations
            .iter()
            .any(|o| o["organization"]["name"] == "グループホームこもれび"
                && o["visibility"] == "CARE_TEAM")
    );
    assert!(
        observations
            .iter()
            .any(|o| o["organization"]["name"] == "あおぞら相談支援センター")
    );
    assert!(
        !observations
            .iter()
            .any(|o| o["organization"]["name"] == "グループホームこもれび"
                && o["visibility"] != "CARE_TEAM"),
        "{body}"
    );
    assert!(
        !observations
            .iter()
            .any(|o| o["client"]["displayName"] == "森 陽介")
    );
    assert_eq!(f["recentObservations"]["totalCount"], observations.len());

    let (komorebi, _) = app.login("staff@komorebi.example").await;
    let body = app.gql(Some(&komorebi), FACILITY, json!({})).await;
    let f = &body["data"]["facility"];
    assert_eq!(
        names(&f["clients"]["nodes"]),
        set(&["山田 太郎", "森 陽介"])
    );
    let observations = f["recentObservations"]["nodes"].as_array().unwrap();
    assert!(
        !observations
            .iter()
            .any(|o| o["client"]["displayName"] == "佐々木 健"
                || o["client"]["displayName"] == "小川 さくら")
    );
    // ひまわり's INTERNAL record about 山田 never reaches こもれび.
    assert!(!observations.iter().any(|o| o["organization"]["name"] == "ひまわり作業所" && o["visibility"] == "INTERNAL"));
    // Profile: こもれび registered 森 (visible); 山田's consent covers PROFILE (visible).
    for c in f["clients"]["nodes"].as_array().unwrap() {
        assert_eq!(c["profileVisible"], true, "{c}");
    }

    // Consultation staff have no facility view, and facility staff no consultation view.
    let (specialist, _) = app.login("specialist@aozora.example").await;
    assert_error(
        &app.gql(Some(&specialist), FACILITY, json!({})).await,
        "FORBIDDEN",
    );
    assert_error(
        &app.gql(Some(&himawari), CONSULTATION, json!({})).await,
        "FORBIDDEN",
    );
}

#[tokio::test]
async fn each_consultation_office_sees_its_caseload_across_facilities() {
    let app = TestApp::spawn().await;
    let (aozora, _) = app.login("specialist@aozora.example").await;
    let body = app.gql(Some(&aozora), CONSULTATION, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    let c = &body["data"]["consultation"];
    let caseload = c["caseload"]["nodes"].as_array().unwrap();
    assert_eq!(
        names(&c["caseload"]["nodes"]),
        set(&["山田 太郎", "森 陽介"])
    );
    for entry in caseload {
        match entry["client"]["displayName"].as_str().unwrap() {
            "山田 太郎" => {
                // Every record of ひまわり and こもれび that is not INTERNAL.
                assert_eq!(
                    entry["newSharedObservationCount"],
                    shared_count(&app, "山田 太郎").await,
                    "{entry}"
                );
                assert_eq!(entry["openRiskSignCount"], 2);
                assert_eq!(entry["client"]["profileVisible"], true);
            }
            _ => {
                // 森: no consent on file. Only the safeguarding record reaches the office.
                assert_eq!(entry["newSharedObservationCount"], 1, "{entry}");
                assert_eq!(entry["client"]["profileVisible"], false);
                assert!(entry["client"]["wishes"].is_null());
            }
        }
    }
    let shared = c["sharedObservations"]["nodes"].as_array().unwrap();
    assert_eq!(shared.len(), shared_count(&app, "山田 太郎").await + 1);
    assert!(
        shared
            .iter()
            .all(|o| o["organization"]["name"] != "あおぞら相談支援センター")
    );
    assert!(shared.iter().any(|o| o["category"] == "SAFEGUARDING"));

    let (mirai, _) = app.login("specialist@mirai.example").await;
    let body = app.gql(Some(&mirai), CONSULTATION, json!({})).await;
    let c = &body["data"]["consultation"];
    assert_eq!(names(&c["caseload"]["nodes"]), set(&["佐々木 健"]));
    // Consent covers observations but not the profile, which ひまわり registered.
    assert_eq!(c["caseload"]["nodes"][0]["client"]["profileVisible"], false);
    let sasaki = shared_count(&app, "佐々木 健").await;
    assert_eq!(
        c["caseload"]["nodes"][0]["newSharedObservationCount"],
        sasaki
    );
    assert_eq!(c["sharedObservations"]["totalCount"], sasaki);

    // Reviewing resets "new since you last looked"; new records count again.
    let id = client_id(&app, &mirai, "佐々木 健").await;
    let r = app
        .gql(
            Some(&mirai),
            "mutation($c: ID!) { markClientReviewed(input: { clientId: $c }) { reviewedAt } }",
            json!({ "c": id }),
        )
        .await;
    assert!(
        r["data"]["markClientReviewed"]["reviewedAt"].is_string(),
        "{r}"
    );
    let (staff, _) = app.login("staff@himawari.example").await;
    record(
        &app,
        &staff,
        &id,
        "13時に作業所で財布の中身を一緒に数えた。残金は3200円。",
        "CARE_TEAM",
    )
    .await;
    let body = app
        .gql(
            Some(&mirai),
            "{ consultation { caseload { nodes { newSharedObservationCount lastReviewedAt } } } }",
            json!({}),
        )
        .await;
    let entry = &body["data"]["consultation"]["caseload"]["nodes"][0];
    assert_eq!(entry["newSharedObservationCount"], 1, "{body}");
    assert!(entry["lastReviewedAt"].is_string());
}

pub(crate) async fn client_id(app: &TestApp, token: &str, name: &str) -> String {
    let body = app
        .gql(
            Some(token),
            "{ organizations(first: 1) { totalCount } me { organization { kind } } }",
            json!({}),
        )
        .await;
    let kind = body["data"]["me"]["organization"]["kind"]
        .as_str()
        .unwrap()
        .to_owned();
    let q = if kind == "FACILITY" {
        "{ facility { clients(first: 100) { nodes { id displayName } } } }"
    } else {
        "{ consultation { caseload(first: 100) { nodes { client { id displayName } } } } }"
    };
    let body = app.gql(Some(token), q, json!({})).await;
    let nodes = body["data"]["facility"]["clients"]["nodes"]
        .as_array()
        .or(body["data"]["consultation"]["caseload"]["nodes"].as_array())
        .unwrap();
    nodes
        .iter()
        .map(|n| {
            if n["client"].is_object() {
                &n["client"]
            } else {
                n
            }
        })
        .find(|n| n["displayName"] == name)
        .unwrap_or_else(|| panic!("{name} not found in {body}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

const RECORD: &str = "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { observation { id version fact recordedAt } } }";

pub(crate) async fn record(
    app: &TestApp,
    token: &str,
    client: &str,
    fact: &str,
    visibility: &str,
) -> Value {
    let body = app
        .gql(Some(token), RECORD, json!({ "i": { "clientId": client, "content": {
            "fact": fact, "category": "ROUTINE", "occurredFrom": chrono::Utc::now().to_rfc3339(), "visibility": visibility
        } } }))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["recordObservation"]["observation"].clone()
}

#[tokio::test]
async fn observations_are_amended_as_versions_and_never_deleted() {
    let app = TestApp::spawn().await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let (manager, _) = app.login("manager@himawari.example").await;
    let client = client_id(&app, &staff, "小川 さくら").await;
    let occurred = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    let body = app
        .gql(
            Some(&staff),
            RECORD,
            json!({ "i": { "clientId": client, "content": {
            "fact": "昼食後、15分間ひとりで散歩に出た。", "interpretation": "落ち着いていた。",
            "clientWords": "「そとにいきたい」", "category": "CHANGE", "occurredFrom": occurred,
            "visibility": "INTERNAL", "tags": ["散歩", "散歩", "外出"]
        } } }),
        )
        .await;
    let o = &body["data"]["recordObservation"]["observation"];
    let id = o["id"].as_str().unwrap().to_owned();
    assert_eq!(o["version"], 1, "{body}");

    let amend = "mutation($i: AmendObservationInput!) { amendObservation(input: $i) { observation { version fact interpretation tags versions { version fact editedBy { displayName } } } } }";
    let content = json!({ "fact": "昼食後、15分間ひとりで散歩に出て、13:05に戻った。", "category": "CHANGE", "occurredFrom": occurred, "visibility": "INTERNAL", "tags": ["散歩"] });
    let body = app
        .gql(
            Some(&staff),
            amend,
            json!({ "i": { "observationId": id, "expectedVersion": 1, "content": content } }),
        )
        .await;
    let o = &body["data"]["amendObservation"]["observation"];
    assert_eq!(o["version"], 2, "{body}");
    assert!(o["interpretation"].is_null());
    assert_eq!(o["tags"], json!(["散歩"]));
    let versions = o["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["fact"], "昼食後、15分間ひとりで散歩に出た。");
    assert_eq!(versions[1]["version"], 2);

    // A stale version is a conflict and changes nothing.
    let stale = app
        .gql(
            Some(&manager),
            amend,
            json!({ "i": { "observationId": id, "expectedVersion": 1, "content": content } }),
        )
        .await;
    assert_error(&stale, "CONFLICT");

    // The manager marks it entered-in-error: gone from lists, kept in the record.
    let mark = "mutation($i: MarkObservationEnteredInErrorInput!) { markObservationEnteredInError(input: $i) { observation { status version enteredInErrorReason } } }";
    let body = app.gql(Some(&manager), mark, json!({ "i": { "observationId": id, "expectedVersion": 2, "reason": "別の利用者の記録だった" } })).await;
    assert_eq!(
        body["data"]["markObservationEnteredInError"]["observation"]["status"], "ENTERED_IN_ERROR",
        "{body}"
    );
    let list = "query($c: ID!, $all: Boolean!) { client(id: $c) { observations(includeEnteredInError: $all, first: 100) { nodes { id status } } } }";
    let current = app
        .gql(Some(&staff), list, json!({ "c": client, "all": false }))
        .await;
    assert!(!current.to_string().contains(&id), "{current}");
    let all = app
        .gql(Some(&staff), list, json!({ "c": client, "all": true }))
        .await;
    assert!(all.to_string().contains(&id));
    let again = app
        .gql(
            Some(&manager),
            amend,
            json!({ "i": { "observationId": id, "expectedVersion": 3, "content": content } }),
        )
        .await;
    assert_error(&again, "CONFLICT");
}

#[tokio::test]
async fn observation_input_is_checked_field_by_field() {
    let app = TestApp::spawn().await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let client = client_id(&app, &staff, "小川 さくら").await;
    let now = chrono::Utc::now();
    let count_query = "query($c: ID!) { client(id: $c) { observations { totalCount } } }";
    let before = app
        .gql(Some(&staff), count_query, json!({ "c": client }))
        .await["data"]["client"]["observations"]["totalCount"]
        .clone();
    let cases = [
        (
            "fact",
            json!({ "fact": "   ", "category": "ROUTINE", "occurredFrom": now.to_rfc3339() }),
        ),
        (
            "fact",
            json!({ "fact": "あ".repeat(4001), "category": "ROUTINE", "occurredFrom": now.to_rfc3339() }),
        ),
        (
            "occurredFrom",
            json!({ "fact": "x", "category": "ROUTINE", "occurredFrom": (now + chrono::Duration::days(2)).to_rfc3339() }),
        ),
        (
            "occurredTo",
            json!({ "fact": "x", "category": "ROUTINE", "occurredFrom": now.to_rfc3339(), "occurredTo": (now - chrono::Duration::days(1)).to_rfc3339() }),
        ),
        (
            "tags",
            json!({ "fact": "x", "category": "ROUTINE", "occurredFrom": now.to_rfc3339(), "tags": (0..21).map(|i| i.to_string()).collect::<Vec<_>>() }),
        ),
        (
            "citedObservationIds",
            json!({ "fact": "x", "category": "ROUTINE", "occurredFrom": now.to_rfc3339(), "citedObservationIds": [client.clone()] }),
        ),
    ];
    for (field, content) in cases {
        let body = app
            .gql(
                Some(&staff),
                RECORD,
                json!({ "i": { "clientId": client, "content": content } }),
            )
            .await;
        assert_error(
            &body,
            if field == "citedObservationIds" {
                "NOT_FOUND"
            } else {
                "BAD_USER_INPUT"
            },
        );
        if field != "citedObservationIds" {
            assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
        }
    }
    // Nothing was stored.
    let count = app
        .gql(
            Some(&staff),
            "query($c: ID!) { client(id: $c) { observations { totalCount } } }",
            json!({ "c": client }),
        )
        .await;
    assert_eq!(
        count["data"]["client"]["observations"]["totalCount"], before,
        "{count}"
    );
    // Malformed dates are refused by the scalar.
    let body = app.gql(Some(&staff), RECORD, json!({ "i": { "clientId": client, "content": { "fact": "x", "category": "ROUTINE", "occurredFrom": "yesterday" } } })).await;
    assert_error(&body, "BAD_USER_INPUT");
}

/// A page of clients with their recent observations, authors and organizations takes the same
/// number of SQL statements whatever the page size.
/// A facility with more clients than a query lists one by one (over 100) gets the same newest-first
/// page: the list is then answered by walking the newest records first (see
/// `observations::filter_condition`).
#[tokio::test]
async fn recent_observations_over_many_clients_come_newest_first() {
    let app = TestApp::spawn().await;
    let (manager, _) = app.login("manager@himawari.example").await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let mut ids = Vec::new();
    for i in 0..101 {
        let body = app
            .gql(Some(&manager), "mutation($i: RegisterClientInput!) { registerClient(input: $i) { client { id } } }",
                json!({ "i": { "displayName": format!("多数 利用者{i}"), "nameKana": "たすう" } }))
            .await;
        ids.push(
            body["data"]["registerClient"]["client"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut recorded = Vec::new();
    for (i, client) in ids.iter().enumerate().step_by(25) {
        recorded.push(
            record(
                &app,
                &staff,
                client,
                &format!("多数{i}: 10時に作業を始めた。"),
                "CARE_TEAM",
            )
            .await["id"]
                .clone(),
        );
    }
    let q = "{ facility { recentObservations(first: 3) { totalCount pageInfo { hasNextPage }
        nodes { id fact } } } }";
    let body = app.gql(Some(&staff), q, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    let list = &body["data"]["facility"]["recentObservations"];
    let got: Vec<&Value> = list["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| &n["id"])
        .collect();
    let newest: Vec<&Value> = recorded.iter().rev().take(3).collect();
    assert_eq!(got, newest, "{body}");
    assert_eq!(list["pageInfo"]["hasNextPage"], true);
    assert!(list["totalCount"].as_u64().unwrap() > recorded.len() as u64);
}

/// `totalCount` is counted only when selected, however it is selected: directly, through a named
/// or an inline fragment, or on an aliased list beside one that does not ask for it.
#[tokio::test]
async fn total_count_is_counted_whenever_it_is_selected() {
    let app = TestApp::spawn().await;
    let (aozora, _) = app.login("specialist@aozora.example").await;
    let q = "query { consultation {
        direct: sharedObservations(first: 1) { totalCount nodes { id } }
        named: sharedObservations(first: 1) { ...Counted }
        inline: sharedObservations(first: 1) { ... on ObservationConnection { totalCount } }
        uncounted: sharedObservations(first: 1) { nodes { id } }
      } }
      fragment Counted on ObservationConnection { totalCount }";
    let body = app.gql(Some(&aozora), q, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    let c = &body["data"]["consultation"];
    let total = c["direct"]["totalCount"].as_u64().unwrap();
    // 山田's shared records and 森's safeguarding record (see the test above).
    assert_eq!(
        usize::try_from(total).unwrap(),
        shared_count(&app, "山田 太郎").await + 1,
        "{body}"
    );
    assert_eq!(c["named"]["totalCount"], total);
    assert_eq!(c["inline"]["totalCount"], total);
    assert_eq!(c["uncounted"]["nodes"].as_array().unwrap().len(), 1);
}

/// The fewest SQL statements of three runs of `query` whose answers pass `check`. Other tests in
/// this process may drop the shared session and scope caches meanwhile (their generations are
/// process-wide), so only requests during which none moved count.
pub(crate) async fn fewest_statements(
    app: &TestApp,
    token: &str,
    query: &str,
    variables: Value,
    check: impl Fn(&Value),
) -> u64 {
    let mut fewest = u64::MAX;
    let (mut settled, mut tries) = (0, 0);
    while settled < 3 {
        tries += 1;
        assert!(
            tries <= 30,
            "the shared caches never stood still for a request"
        );
        let marks = kakehashi::service::invalidation::marks();
        let before = app.state.statement_count();
        let body = app.gql(Some(token), query, variables.clone()).await;
        let after = app.state.statement_count();
        if !kakehashi::service::invalidation::marks().same_access(&marks) {
            continue;
        }
        settled += 1;
        check(&body);
        fewest = fewest.min(after - before);
    }
    fewest
}

/// A history page with each record's author and the author's organization costs the same
/// statements at 5 items as at 30 (authors and organizations come with the page's records, not
/// level by level): the page with its count, the observations with their authors and
/// organizations (the client's row is kept between requests; read audits are written off the
/// request path, on the background pool).
#[tokio::test]
async fn a_history_page_with_authors_costs_a_fixed_number_of_statements() {
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let yamada = client_id(&app, &specialist, "山田 太郎").await;
    let q = "query($c: ID!, $n: Int!) { client(id: $c) { history(first: $n, kinds: [OBSERVATION]) {
        totalCount edges { node { item { ... on Observation { fact category author { displayName organization { name } } organization { name } } } } } } } }";
    let mut counts = Vec::new();
    for n in [5, 30] {
        let fewest = fewest_statements(
            &app,
            &specialist,
            q,
            json!({ "c": yamada, "n": n }),
            |body| {
                let edges = body["data"]["client"]["history"]["edges"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{body}"));
                assert_eq!(edges.len(), n as usize, "{body}");
                assert!(
                    edges
                        .iter()
                        .all(|e| e["node"]["item"]["author"]["organization"]["name"].is_string()),
                    "{body}"
                );
            },
        )
        .await;
        counts.push(fewest);
    }
    assert_eq!(
        counts[0], counts[1],
        "statements at 5 and 30 items: {counts:?}"
    );
    // The page with its count, the observations with their authors and organizations: the
    // session, the scope and the client's row come from caches kept current by events.
    assert!(counts[1] <= 2, "statements per history page: {counts:?}");
}

/// A page mixing every kind of record (observations, plan versions, meetings, briefs, consents
/// …) costs the statements of a page of observations alone: the records of all kinds come in one
/// statement, whatever kinds and how many of each the page holds.
#[tokio::test]
async fn a_history_page_of_mixed_kinds_costs_the_statements_of_one_kind() {
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let yamada = client_id(&app, &specialist, "山田 太郎").await;
    let q = "query($c: ID!, $n: Int!, $k: [HistoryKind!]! = []) { client(id: $c) { history(first: $n, kinds: $k) {
        totalCount edges { node { kind item { __typename
          ... on Observation { fact author { displayName organization { name } } }
          ... on SupportPlanVersion { version status }
          ... on Meeting { meetingKind }
          ... on MeetingBrief { id }
          ... on MonitoringReport { outcome }
          ... on SharingConsent { id } } } } } } }";
    let mut counts = Vec::new();
    let mut kinds_seen = std::collections::BTreeSet::new();
    for (n, kinds) in [
        (5, json!(["OBSERVATION"])),
        (25, json!(["OBSERVATION"])),
        (5, json!([])),
        (25, json!([])),
    ] {
        let fewest = fewest_statements(
            &app,
            &specialist,
            q,
            json!({ "c": yamada, "n": n, "k": kinds }),
            |body| {
                let edges = body["data"]["client"]["history"]["edges"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{body}"));
                assert_eq!(edges.len(), n as usize, "{body}");
                for e in edges {
                    let item = &e["node"]["item"];
                    // Every entry came with its record, and each record with its own fields.
                    match item["__typename"].as_str().unwrap_or_default() {
                        "Observation" => assert!(
                            item["fact"].is_string()
                                && item["author"]["organization"]["name"].is_string(),
                            "{item}"
                        ),
                        "SupportPlanVersion" => assert!(item["version"].is_number(), "{item}"),
                        "Meeting" => assert!(item["meetingKind"].is_string(), "{item}"),
                        "MonitoringReport" => assert!(item["outcome"].is_string(), "{item}"),
                        "MeetingBrief" | "SharingConsent" => {
                            assert!(item["id"].is_string(), "{item}")
                        }
                        other => panic!("unexpected item {other}: {item}"),
                    }
                }
            },
        )
        .await;
        counts.push(fewest);
        let body = app
            .gql(
                Some(&specialist),
                q,
                json!({ "c": yamada, "n": n, "k": kinds }),
            )
            .await;
        for e in body["data"]["client"]["history"]["edges"]
            .as_array()
            .unwrap()
        {
            kinds_seen.insert(e["node"]["kind"].as_str().unwrap().to_owned());
        }
    }
    assert!(
        kinds_seen.len() >= 4,
        "the demo's newest entries mix kinds: {kinds_seen:?}"
    );
    assert!(
        counts.iter().all(|c| *c == counts[0]),
        "statements for 5 and 25 observations, 5 and 25 mixed entries: {counts:?}"
    );
    assert!(counts[0] <= 2, "statements per history page: {counts:?}");
}

/// The items of a `client.history` page, in order.
fn history_items(body: &Value) -> Vec<Value> {
    body["data"]["client"]["history"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| e["node"]["item"].clone())
        .collect()
}

/// Pages of the same shape (five observations each) share one built statement and differ only
/// in their ids: walked five at a time, the history shows the same records, in the same order,
/// with the same facts and authors, as one page of twenty-five.
#[tokio::test]
async fn pages_of_one_shape_each_show_their_own_records() {
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let yamada = client_id(&app, &specialist, "山田 太郎").await;
    let q = "query($c: ID!, $n: Int!, $after: String) { client(id: $c) {
        history(first: $n, after: $after, kinds: [OBSERVATION]) {
          pageInfo { endCursor }
          edges { node { item { ... on Observation { id fact author { displayName } } } } } } } }";
    let whole = history_items(
        &app.gql(
            Some(&specialist),
            q,
            json!({ "c": yamada, "n": 25, "after": null }),
        )
        .await,
    );
    assert_eq!(whole.len(), 25, "the demo client has 25 observations");
    let mut walked = Vec::new();
    let mut after = Value::Null;
    for _ in 0..5 {
        let body = app
            .gql(
                Some(&specialist),
                q,
                json!({ "c": yamada, "n": 5, "after": after }),
            )
            .await;
        walked.extend(history_items(&body));
        after = body["data"]["client"]["history"]["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(walked, whole);
    let ids: std::collections::HashSet<_> = walked.iter().map(|i| i["id"].clone()).collect();
    assert_eq!(ids.len(), 25, "no record shown twice: {walked:?}");
}

/// A page reads a plan version's text only when it shows it, and then shows it whole: the same
/// versions with and without `content`, and with it the goals the plan states.
#[tokio::test]
async fn a_plan_version_on_a_history_page_shows_its_text_when_asked() {
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let yamada = client_id(&app, &specialist, "山田 太郎").await;
    let page = |fields: &str| {
        format!(
            "query($c: ID!) {{ client(id: $c) {{ history(first: 20, kinds: [PLAN_VERSION]) {{
              edges {{ node {{ item {{ ... on SupportPlanVersion {{ id version {fields} }} }} }} }} }} }} }}"
        )
    };
    let bare = app
        .gql(Some(&specialist), &page(""), json!({ "c": yamada }))
        .await;
    let full = app
        .gql(
            Some(&specialist),
            &page("content { longTermGoal shortTermGoal } record { consentMethod }"),
            json!({ "c": yamada }),
        )
        .await;
    assert!(
        bare.get("errors").is_none() && full.get("errors").is_none(),
        "{bare}\n{full}"
    );
    let (bare, full) = (history_items(&bare), history_items(&full));
    assert!(!full.is_empty(), "the demo client has plan versions");
    assert_eq!(
        bare.iter().map(|i| &i["id"]).collect::<Vec<_>>(),
        full.iter().map(|i| &i["id"]).collect::<Vec<_>>()
    );
    assert!(
        full.iter()
            .all(|i| i["content"].is_object() && i["record"].is_object()),
        "{full:?}"
    );
    assert!(
        full.iter().any(|i| i["content"]["longTermGoal"]
            .as_str()
            .is_some_and(|g| !g.is_empty())),
        "the demo's service-use plan states a long-term goal: {full:?}"
    );
}

#[tokio::test]
async fn nested_lists_do_not_multiply_sql_statements() {
    let app = TestApp::spawn().await;
    let (manager, _) = app.login("manager@himawari.example").await;
    let (staff, _) = app.login("staff@himawari.example").await;
    for i in 0..12 {
        let body = app
            .gql(Some(&manager), "mutation($i: RegisterClientInput!) { registerClient(input: $i) { client { id } } }",
                json!({ "i": { "displayName": format!("テスト 利用者{i}"), "nameKana": "てすと" } }))
            .await;
        let id = body["data"]["registerClient"]["client"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        for j in 0..3 {
            record(
                &app,
                &staff,
                &id,
                &format!("{j}回目の記録: 9時に来所した。"),
                "CARE_TEAM",
            )
            .await;
        }
    }
    let q = "query($n: Int!) { facility { clients(first: $n) { totalCount nodes {
        id displayName externalId careTeam { organization { name } }
        recentObservations(limit: 3) { fact author { displayName organization { name } } organization { name } }
        supportPlans { status versions { version } } meetings { kind briefs { id } briefArrivals { submittedAt } }
        monitoringReports { outcome }
    } } } }";
    let mut counts = Vec::new();
    for n in [2, 5, 15] {
        // The fewest of three runs: on a loaded machine a loader's keys can straddle its batch
        // delay and split into two statements now and then; an N+1 adds statements every time.
        let fewest = fewest_statements(&app, &staff, q, json!({ "n": n }), |body| {
            assert!(body.get("errors").is_none(), "{body}");
            let nodes = body["data"]["facility"]["clients"]["nodes"]
                .as_array()
                .unwrap();
            assert_eq!(nodes.len(), n as usize);
            assert!(
                nodes
                    .iter()
                    .all(|c| !c["recentObservations"].as_array().unwrap().is_empty())
            );
        })
        .await;
        counts.push(fewest);
    }
    // An N+1 would add at least 13 statements between the first and last page size. Batches of
    // different loaders may coincide in time and merge, which saves a statement, or (on a
    // machine busy with other tests) straddle a batch delay in all three runs, which adds one:
    // a margin of 3 absorbs both and still fails any N+1.
    let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
    assert!(
        max - min <= 3,
        "statements per page size 2/5/15: {counts:?}"
    );
    // The clients' count and page, and one batch per nested field (authentication and the
    // scope come from caches).
    assert!(*max <= 24, "statements per page: {counts:?}");
}

#[tokio::test]
async fn the_audit_log_records_reads_and_writes_and_only_admins_read_it() {
    let app = TestApp::spawn().await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let (admin, _) = app.login("admin@himawari.example").await;
    let client = client_id(&app, &staff, "小川 さくら").await;
    app.gql(
        Some(&staff),
        "query($c: ID!) { client(id: $c) { wishes observations { totalCount } } }",
        json!({ "c": client }),
    )
    .await;
    record(&app, &staff, &client, "10時に来所した。", "INTERNAL").await;
    let log = app
        .gql(
            Some(&admin),
            "{ auditLog(first: 50) { nodes { operation clientId staffMember { email } } } }",
            json!({}),
        )
        .await;
    let ops: Vec<(String, String)> = log["data"]["auditLog"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["operation"].as_str().unwrap().to_owned(),
                n["staffMember"]["email"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for op in ["READ_CLIENT", "READ_PROFILE", "OBSERVATION_RECORDED"] {
        assert!(
            ops.contains(&(op.to_owned(), "staff@himawari.example".to_owned())),
            "{op} missing: {log}"
        );
    }
    assert_error(
        &app.gql(Some(&staff), "{ auditLog { totalCount } }", json!({}))
            .await,
        "FORBIDDEN",
    );
    let history = app.gql(Some(&admin), "query($c: ID!) { client(id: $c) { accessHistory { totalCount nodes { operation } } } }", json!({ "c": client })).await;
    assert!(
        history["data"]["client"]["accessHistory"]["totalCount"]
            .as_u64()
            .unwrap()
            >= 2,
        "{history}"
    );
    let denied = app
        .gql(
            Some(&staff),
            "query($c: ID!) { client(id: $c) { accessHistory { totalCount } } }",
            json!({ "c": client }),
        )
        .await;
    assert_error(&denied, "FORBIDDEN");
    // There is no mutation that edits or deletes audit entries.
    let schema = kakehashi::graphql::sdl();
    let mutation_block = schema
        .split("type Mutation {")
        .nth(1)
        .unwrap()
        .split("\n}")
        .next()
        .unwrap();
    assert!(!mutation_block.to_lowercase().contains("audit"));
}

/// How many of a client's records the facilities share (not INTERNAL), read from the database:
/// what a consultation office with full consent sees as new.
async fn shared_count(app: &TestApp, name: &str) -> usize {
    use entity::{
        observation::{Column, Entity, Visibility},
        organization::{self, OrganizationKind},
    };
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let db = &app.state.db;
    let client = entity::client::Entity::find()
        .filter(entity::client::Column::DisplayName.eq(name))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let offices: Vec<uuid::Uuid> = organization::Entity::find()
        .filter(organization::Column::Kind.eq(OrganizationKind::ConsultationOffice))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.id)
        .collect();
    let n = Entity::find()
        .filter(Column::ClientId.eq(client.id))
        .filter(Column::Visibility.ne(Visibility::Internal))
        .filter(Column::OrganizationId.is_not_in(offices))
        .count(db)
        .await
        .unwrap();
    usize::try_from(n).unwrap()
}
