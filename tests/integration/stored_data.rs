//! Stored data that does not decode (a corrupted row, a document a later release wrote) is an
//! error, never a silent default: an empty list would tell a specialist the municipality granted
//! nothing and that no monitoring is due.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Alias, Expr, ExprTrait, Query},
};
use serde_json::json;

use crate::{
    helpers::*,
    monitoring_schedule::{certificate, end_before, m, register},
};

const READ: &str = "query($c: ID!) { client(id: $c) { recipientCertificates { grantedServices { serviceType } contractedAmounts { amount } monitoringSchedule { months situations } } } }";

#[tokio::test]
async fn a_certificate_whose_stored_lists_do_not_decode_is_an_error_not_an_empty_grant() {
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let client = register(&app, &specialist, "保存 破損", "2020-01-01").await;
    let added = certificate(
        &app,
        &specialist,
        &client,
        0,
        json!({ "grantedServices": [{ "serviceType": "生活介護", "amount": 22, "unit": "DAYS_PER_MONTH", "grantFrom": m(0), "grantUntil": end_before(12) }],
                "monitoringSituations": ["LIVING_ALONE"] }),
    )
    .await;
    assert!(added.get("errors").is_none(), "{added}");
    let read = app
        .gql(Some(&specialist), READ, json!({ "c": client }))
        .await;
    let cert = &read["data"]["client"]["recipientCertificates"][0];
    assert_eq!(
        cert["grantedServices"][0]["serviceType"], "生活介護",
        "{read}"
    );
    assert_eq!(
        cert["monitoringSchedule"]["situations"],
        json!(["LIVING_ALONE"])
    );
    assert_eq!(
        cert["monitoringSchedule"]["months"]
            .as_array()
            .map(Vec::len),
        Some(12),
        "monthly while living alone: {read}"
    );

    let uuid = kakehashi::graphql::ids::decode("Client", "id", &async_graphql::ID(client.clone()))
        .unwrap();
    let model = entity::recipient_certificate::Entity::find()
        .filter(entity::recipient_certificate::Column::ClientId.eq(uuid))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let kept = |column: &str| {
        match column {
            "granted_services" => serde_json::to_value(&model.granted_services),
            "monitoring_situations" => serde_json::to_value(&model.monitoring_situations),
            "monitoring_monthly_months" => serde_json::to_value(&model.monitoring_monthly_months),
            _ => serde_json::to_value(&model.contracted_amounts),
        }
        .unwrap()
    };
    let set = |column: &'static str, value: serde_json::Value| {
        Query::update()
            .table(Alias::new("recipient_certificates"))
            .value(Alias::new(column), value)
            .and_where(Expr::col(Alias::new("client_id")).eq(uuid))
            .to_owned()
    };
    // Each typed list column in turn holds something that is not its list.
    for (column, stored) in [
        ("granted_services", json!({ "serviceType": "生活介護" })),
        ("monitoring_situations", json!(["NOT_A_SITUATION"])),
        ("monitoring_monthly_months", json!(["not a date"])),
        ("contracted_amounts", json!([{ "amount": "many" }])),
    ] {
        app.state.db.execute(&set(column, stored)).await.unwrap();
        let read = app
            .gql(Some(&specialist), READ, json!({ "c": client }))
            .await;
        assert_error(&read, "INTERNAL_SERVER_ERROR");
        assert!(
            !read.to_string().contains(column) && !read.to_string().contains("decode"),
            "{column}: no internal detail leaks: {read}"
        );
        let due = app
            .gql(
                Some(&specialist),
                "query($c: ID!) { client(id: $c) { dueItems { kind } } }",
                json!({ "c": client }),
            )
            .await;
        assert_error(&due, "INTERNAL_SERVER_ERROR");
        app.state
            .db
            .execute(&set(column, kept(column)))
            .await
            .unwrap();
        let again = app
            .gql(Some(&specialist), READ, json!({ "c": client }))
            .await;
        assert!(again.get("errors").is_none(), "{column} restored: {again}");
    }
}

/// Sets one JSON column of one row (by its `id`) to a value that is not what the column holds.
async fn corrupt(
    app: &TestApp,
    table: &'static str,
    column: &'static str,
    id: &str,
    kind: &'static str,
) {
    let uuid =
        kakehashi::graphql::ids::decode(kind, "id", &async_graphql::ID(id.to_owned())).unwrap();
    app.state
        .db
        .execute(
            &Query::update()
                .table(Alias::new(table))
                .value(
                    Alias::new(column),
                    json!({ "not": "what this column holds" }),
                )
                .and_where(Expr::col(Alias::new("id")).eq(uuid))
                .to_owned(),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn an_observation_or_brief_that_does_not_decode_is_an_error_not_an_empty_record() {
    let app = TestApp::spawn().await;
    let (manager, _) = app.login("manager@himawari.example").await;
    let yamada = crate::views::client_id(&app, &manager, "山田 太郎").await;
    let read = app
        .gql(
            Some(&manager),
            "query($c: ID!) { client(id: $c) { recentObservations(limit: 20) { id tags } meetings { briefs { id content { recentChanges { text } } } } } }",
            json!({ "c": yamada }),
        )
        .await;
    assert!(read.get("errors").is_none(), "{read}");
    let tagged = read["data"]["client"]["recentObservations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["tags"].as_array().is_some_and(|t| !t.is_empty()))
        .unwrap_or_else(|| panic!("a demo observation with tags: {read}"))
        .clone();
    let brief = read["data"]["client"]["meetings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["briefs"].as_array().unwrap().clone())
        .find(|b| {
            b["content"]["recentChanges"]
                .as_array()
                .is_some_and(|p| !p.is_empty())
        })
        .unwrap_or_else(|| panic!("a demo brief with recent changes: {read}"));

    corrupt(
        &app,
        "observations",
        "tags",
        tagged["id"].as_str().unwrap(),
        "Observation",
    )
    .await;
    let body = app
        .gql(
            Some(&manager),
            "query($id: ID!) { node(id: $id) { ... on Observation { fact tags } } }",
            json!({ "id": tagged["id"] }),
        )
        .await;
    assert_error(&body, "INTERNAL_SERVER_ERROR");

    corrupt(
        &app,
        "meeting_briefs",
        "content",
        brief["id"].as_str().unwrap(),
        "MeetingBrief",
    )
    .await;
    let body = app
        .gql(
            Some(&manager),
            "query($c: ID!) { client(id: $c) { meetings { briefs { content { recentChanges { text } } } } } }",
            json!({ "c": yamada }),
        )
        .await;
    assert_error(&body, "INTERNAL_SERVER_ERROR");
}
