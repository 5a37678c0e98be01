//! A history page answered by the plan compiled for its shape (issue 22) must be the executor's
//! answer, byte for byte, for every viewer and page; and everything that is not a whole page
//! (a denial, a bad argument, no token) must still be the executor's own error.
//!
//! Each document is sent in two texts: as written (compiled, and answered by its plan once the
//! executor has answered it cleanly) and with `@include(if: true)` on the `client` field, which
//! changes nothing in the answer but keeps the document off the plan, so the executor answers
//! it every time. `kakehashi_direct_history_pages_total` tells which of the two answered.

use std::time::Duration;

use entity::read_audit;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::{
    helpers::*,
    views::{client_id, fewest_statements, record},
};

/// The benchmark's page: each observation's fact, category, author and author's organization.
const BENCH: &str = "query($c: ID!, $after: String) { client(id: $c)%D { history(first: 50, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { kind occurredAt item { ... on Observation { id fact category author { displayName organization { name } } } } } } } } }";

/// Every field the plan knows, under aliases, in an order of its own, named.
const EVERYTHING: &str = "query Page($c: ID!, $n: Int, $after: String) { who: client(id: $c)%D { __typename cid: id h: history(after: $after, first: $n) { __typename pi: pageInfo { __typename hasPreviousPage hasNextPage startCursor endCursor } total: totalCount list: edges { n: node { it: item { t: __typename ... on Observation { __typename oid: id fact interpretation clientWords category occurredFrom occurredTo recordedAt updatedAt visibility recordStatus enteredInErrorReason tags org: organization { name id __typename } by: author { __typename id displayName organization { __typename id name } } } } __typename k: kind at: occurredAt } __typename c: cursor } } } }";

/// Only the kind of record, from a literal page size; two fragments around `__typename`.
const TYPES: &str = "query($c: ID!, $after: String) { client(id: $c)%D { history(first: 7, after: $after) { edges { cursor node { item { ... on Observation { fact } __typename ... on Observation { category } } kind } } pageInfo { endCursor hasNextPage startCursor } } } }";

const DOCUMENTS: [&str; 3] = [BENCH, EVERYTHING, TYPES];

/// The document answered by its plan (once proven) and the same document the executor always
/// answers.
fn texts(document: &str) -> (String, String) {
    (
        document.replace("%D", ""),
        document.replace("%D", " @include(if: true)"),
    )
}

/// The response's status and body text, as sent.
async fn raw(app: &TestApp, token: Option<&str>, query: &str, variables: &Value) -> (u16, String) {
    let mut req = app
        .client
        .post(&app.url)
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    (status, res.text().await.expect("body"))
}

fn direct_pages(app: &TestApp) -> u64 {
    app.state.metrics.direct_history_pages.get()
}

/// Sends `variables` through both texts of `document` and asserts the same status and bytes;
/// returns the body and whether the plan answered.
async fn both(
    app: &TestApp,
    token: Option<&str>,
    document: &str,
    variables: &Value,
) -> (String, bool) {
    let (planned, executed) = texts(document);
    let before = direct_pages(app);
    let by_executor = raw(app, token, &executed, variables).await;
    assert_eq!(
        direct_pages(app),
        before,
        "a directive keeps it off the plan"
    );
    let by_plan = raw(app, token, &planned, variables).await;
    let direct = direct_pages(app) > before;
    assert_eq!(
        without_locations(&by_plan),
        without_locations(&by_executor),
        "plan (direct: {direct}) against executor for {variables}"
    );
    (by_plan.1, direct)
}

/// An answer with errors without their locations (the directive moves the columns); any other
/// answer as sent.
fn without_locations((status, body): &(u16, String)) -> (u16, String) {
    let mut value: Value = serde_json::from_str(body).unwrap();
    let Some(errors) = value.get_mut("errors").and_then(Value::as_array_mut) else {
        return (*status, body.clone());
    };
    for e in errors {
        e.as_object_mut().unwrap().remove("locations");
    }
    (*status, value.to_string())
}

/// The cursor of the page's last entry, under whichever key the document names it.
fn end_cursor(body: &str) -> Option<String> {
    let body: Value = serde_json::from_str(body).unwrap();
    let client = body["data"]
        .as_object()?
        .values()
        .next()?
        .as_object()?
        .clone();
    let history = client.values().find(|v| v.is_object())?;
    let page_info = history
        .as_object()?
        .values()
        .find(|v| v.get("hasNextPage").is_some())?;
    (page_info["hasNextPage"] == true).then(|| page_info["endCursor"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn the_plan_writes_the_executors_bytes_for_every_viewer_and_page() {
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let (komorebi, _) = app.login("staff@komorebi.example").await;
    let yamada = client_id(&app, &staff, "山田 太郎").await;
    // Text that JSON must escape, shared and internal, so that pages differ by viewer.
    record(
        &app,
        &staff,
        &yamada,
        "「もう帰る」と言い、\"玄関\"で靴を履いた。\\ 改行\nの後 😀 </script>",
        "CARE_TEAM",
    )
    .await;
    record(&app, &staff, &yamada, "居室の換気をした。", "INTERNAL").await;

    let mut direct = 0;
    for document in DOCUMENTS {
        // The first clean answer by the executor proves the document.
        let (planned, _) = texts(document);
        let warm = app
            .gql(Some(&staff), &planned, json!({ "c": yamada, "n": 5 }))
            .await;
        assert!(warm.get("errors").is_none(), "{warm}");
        for token in [&specialist, &staff, &komorebi] {
            let mut after = Value::Null;
            for _ in 0..3 {
                let variables = json!({ "c": yamada, "after": after, "n": 4 });
                let (body, by_plan) = both(&app, Some(token), document, &variables).await;
                assert!(by_plan, "a whole page is the plan's: {body}");
                direct += 1;
                match end_cursor(&body) {
                    Some(c) => after = json!(c),
                    None => break,
                }
            }
        }
    }
    assert!(direct >= 15, "{direct} pages by plan");

    // What each viewer was shown is theirs: the specialist never sees the internal record.
    let (planned, _) = texts(BENCH);
    let page = |token: String| {
        let (app, planned, yamada) = (&app, &planned, &yamada);
        async move {
            raw(app, Some(&token), planned, &json!({ "c": yamada }))
                .await
                .1
        }
    };
    assert!(!page(specialist.clone()).await.contains("居室の換気"));
    assert!(page(staff.clone()).await.contains("居室の換気"));
    assert!(
        page(specialist)
            .await
            .contains(r#"\"玄関\"で靴を履いた。\\ 改行\nの後 😀"#)
    );
}

#[tokio::test]
async fn anything_but_a_whole_page_is_the_executors_own_answer() {
    let app = TestApp::spawn().await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let (outsider, _) = app.login("specialist@mirai.example").await;
    let yamada = client_id(&app, &staff, "山田 太郎").await;
    let (planned, _) = texts(BENCH);
    let proven = app
        .gql(Some(&staff), &planned, json!({ "c": yamada }))
        .await;
    assert!(proven.get("errors").is_none(), "{proven}");

    let refused: [(Option<&str>, Value, &str); 6] = [
        // An office outside the client's care team.
        (Some(&outsider), json!({ "c": yamada }), "NOT_FOUND"),
        // No token, and a token that is not one.
        (None, json!({ "c": yamada }), "UNAUTHENTICATED"),
        (
            Some("forged.token.here"),
            json!({ "c": yamada }),
            "UNAUTHENTICATED",
        ),
        // A cursor that is not one, an id of another type, an id of the wrong shape.
        (
            Some(&staff),
            json!({ "c": yamada, "after": "bm9wZQ" }),
            "BAD_USER_INPUT",
        ),
        (
            Some(&staff),
            json!({ "c": "U3RhZmZNZW1iZXI6MDE5MmY3YzItMDAwMC03MDAwLTgwMDAtMDAwMDAwMDAwMDAw" }),
            "NOT_FOUND",
        ),
        (Some(&staff), json!({ "c": 12 }), "BAD_USER_INPUT"),
    ];
    for (token, variables, code) in refused {
        let (body, by_plan) = both(&app, token, BENCH, &variables).await;
        assert!(!by_plan, "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error_code(&body), Some(code), "{variables}: {body}");
    }
    // A page size over the bound, from a variable: the executor's refusal.
    let (body, by_plan) = both(
        &app,
        Some(&staff),
        EVERYTHING,
        &json!({ "c": yamada, "n": 1000 }),
    )
    .await;
    assert!(!by_plan);
    assert_error(&serde_json::from_str(&body).unwrap(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn a_page_by_plan_is_one_statement_audited_as_a_page_by_the_executor() {
    let app = TestApp::spawn().await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let yamada = client_id(&app, &staff, "山田 太郎").await;
    let (planned, executed) = texts(BENCH);
    app.gql(Some(&staff), &planned, json!({ "c": yamada }))
        .await;
    let audited = || async {
        // Longer than the read audits' flush delay.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let count = |op| {
            read_audit::Entity::find()
                .filter(read_audit::Column::Operation.eq(op))
                .count(&app.state.db)
        };
        (
            count(read_audit::ReadOperation::Client).await.unwrap(),
            count(read_audit::ReadOperation::History).await.unwrap(),
        )
    };
    let start = audited().await;
    let before = direct_pages(&app);
    raw(&app, Some(&staff), &executed, &json!({ "c": yamada })).await;
    let after_executor = audited().await;
    raw(&app, Some(&staff), &planned, &json!({ "c": yamada })).await;
    assert_eq!(direct_pages(&app), before + 1);
    let after_plan = audited().await;
    assert_eq!(after_executor, (start.0 + 1, start.1 + 1));
    assert_eq!(after_plan, (start.0 + 2, start.1 + 2));

    // The viewer's session, its scope and the client's row are kept: a page by plan is one
    // statement (the executor's, two).
    let one = |text: String| {
        let (app, staff, yamada) = (&app, &staff, &yamada);
        async move {
            fewest_statements(app, staff, &text, json!({ "c": yamada }), |body| {
                assert!(body.get("errors").is_none(), "{body}")
            })
            .await
        }
    };
    let by_plan = direct_pages(&app);
    assert_eq!(one(planned).await, 1);
    assert!(direct_pages(&app) > by_plan);
    assert_eq!(one(executed).await, 2);
}

#[tokio::test]
async fn a_document_of_another_shape_never_reaches_the_plan() {
    let app = TestApp::spawn().await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let yamada = client_id(&app, &staff, "山田 太郎").await;
    let others = [
        // A filter, a field the plan does not know, another union member, a named fragment.
        "query($c: ID!) { client(id: $c) { history(first: 5, kinds: [OBSERVATION]) { edges { cursor } } } }",
        "query($c: ID!) { client(id: $c) { displayName history(first: 5) { edges { cursor } } } }",
        "query($c: ID!) { client(id: $c) { history(first: 5) { edges { node { item { ... on Meeting { id } } } } } } }",
        "query($c: ID!) { client(id: $c) { history(first: 5) { edges { node { item { ...O } } } } } } fragment O on Observation { fact }",
    ];
    let before = direct_pages(&app);
    for query in others {
        for _ in 0..3 {
            let body = app.gql(Some(&staff), query, json!({ "c": yamada })).await;
            assert!(body.get("errors").is_none(), "{body}");
        }
    }
    assert_eq!(direct_pages(&app), before);
}
