//! The monitoring schedule as the municipality decided it (受給者証), the national standard when
//! nothing is recorded, the consultation office's monitoring calendar, and grant reminders, end to
//! end through the API. Months are relative to today (JST), so the cases of issue 21 (a new
//! client from 2026-11 on three months is overdue on 2026-12-03, …) hold whatever the run date.

use std::time::Duration;

use chrono::{Datelike, Months, NaiveDate};
use serde_json::{Value, json};

use crate::{helpers::*, subscriptions::Raw, views::client_id};

const CERT: &str = "mutation($i: AddRecipientCertificateInput!) { addRecipientCertificate(input: $i) { recipientCertificate { id monitoringPeriodMonths monitoringStartMonth servicesStartOn monitoringSchedule { basis periodMonths periodLabel firstMonth lastMonth monthlyMonths servicesStartOn situations months } } } }";
const DUE: &str = "query($c: ID!) { client(id: $c) { profileVisible dueItems { kind dueOn overdue serviceType } recipientCertificates { monitoringSchedule { months } } } }";
const CALENDAR: &str =
    "{ consultation { monitoringCalendar(monthsAhead: 2) { month status basis client { id } } } }";

fn jst_today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(9)).date_naive()
}

/// The first day of this month plus `n` months (negative: earlier).
fn month(n: i32) -> NaiveDate {
    let first = jst_today().with_day(1).unwrap();
    if n >= 0 {
        first + Months::new(n.unsigned_abs())
    } else {
        first - Months::new(n.unsigned_abs())
    }
}

pub(crate) fn m(n: i32) -> String {
    month(n).to_string()
}

/// The last day of the month before `month(n)`: a year's certificate from `month(n - 12)`.
pub(crate) fn end_before(n: i32) -> String {
    (month(n) - chrono::Duration::days(1)).to_string()
}

/// A client registered by あおぞら's specialist, its care team starting on `start`.
pub(crate) async fn register(app: &TestApp, token: &str, name: &str, start: &str) -> String {
    let reg = app
        .gql(
            Some(token),
            "mutation($n: String!, $s: Date!) { registerClient(input: { displayName: $n, nameKana: \"よてい\", startDate: $s }) { client { id } } }",
            json!({ "n": name, "s": start }),
        )
        .await;
    reg["data"]["registerClient"]["client"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{reg}"))
        .to_owned()
}

/// Records a certificate valid for a year from `month(from)`, with `extra` fields merged in.
pub(crate) async fn certificate(
    app: &TestApp,
    token: &str,
    client: &str,
    from: i32,
    extra: Value,
) -> Value {
    let mut input = json!({ "clientId": client, "number": "1300077777", "municipality": "千代田区",
        "validFrom": m(from), "validUntil": end_before(from + 12) });
    for (k, v) in extra.as_object().unwrap() {
        input[k] = v.clone();
    }
    app.gql(Some(token), CERT, json!({ "i": input })).await
}

fn schedule(body: &Value) -> Value {
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["addRecipientCertificate"]["recipientCertificate"]["monitoringSchedule"].clone()
}

fn dates(list: &[i32]) -> Value {
    json!(list.iter().map(|n| m(*n)).collect::<Vec<_>>())
}

/// The client's first due item of `kind`.
async fn due(app: &TestApp, token: &str, client: &str, kind: &str) -> Value {
    let body = app.gql(Some(token), DUE, json!({ "c": client })).await;
    body["data"]["client"]["dueItems"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .find(|i| i["kind"] == kind)
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn the_decision_as_printed_gives_the_printed_months() {
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let client = register(&app, &specialist, "印字 一郎", "2020-01-01").await;
    // 「3月ごと（2か月後〜）」: the first 実施月 is printed, then every 3 months.
    let body = certificate(
        &app,
        &specialist,
        &client,
        0,
        json!({
        "monitoringDecision": { "periodMonths": 3, "firstMonth": m(2) } }),
    )
    .await;
    let s = schedule(&body);
    assert_eq!(s["basis"], "PRINTED", "{s}");
    assert_eq!(s["periodLabel"], "3か月ごと");
    assert_eq!(s["firstMonth"], m(2));
    assert_eq!(s["months"], dates(&[2, 5, 8, 11]), "{s}");
    // The first version's fields say the same months: the start month is month 1 of the cycle.
    let cert = &body["data"]["addRecipientCertificate"]["recipientCertificate"];
    assert_eq!(cert["monitoringPeriodMonths"], 3);
    assert_eq!(cert["monitoringStartMonth"], m(0));
    let next = due(&app, &specialist, &client, "MONITORING").await;
    assert_eq!(
        (next["dueOn"].clone(), next["overdue"].clone()),
        (json!(m(2)), json!(false))
    );

    // The Q&A's new client: monthly for the first three months (変更後), then 6-monthly as the
    // municipality printed it, up to the certificate's last month.
    let qa = register(&app, &specialist, "新規 花子", &m(0)).await;
    let s = schedule(
        &certificate(
            &app,
            &specialist,
            &qa,
            0,
            json!({
        "monitoringDecision": { "periodMonths": 6, "firstMonth": m(5), "lastMonth": m(11),
            "monthlyMonths": [m(0), m(1), m(2)] } }),
        )
        .await,
    );
    assert_eq!(s["months"], dates(&[0, 1, 2, 5, 11]), "{s}");
    assert_eq!(s["monthlyMonths"], dates(&[0, 1, 2]));
}

#[tokio::test]
async fn new_clients_are_monitored_from_the_month_their_services_start() {
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    // Started last month on a three-month cycle, no report: last month was due, so it is overdue
    // (issue 21: from 2026-11 on 2026-12-03).
    let november = register(&app, &specialist, "先月 開始", &m(-1)).await;
    let s = schedule(
        &certificate(
            &app,
            &specialist,
            &november,
            -1,
            json!({
        "monitoringPeriodMonths": 3, "monitoringStartMonth": m(-1) }),
        )
        .await,
    );
    assert_eq!(s["basis"], "COUNT_FROM");
    assert_eq!(s["monthlyMonths"], dates(&[-1, 0, 1]), "{s}");
    let next = due(&app, &specialist, &november, "MONITORING").await;
    assert_eq!(
        (next["dueOn"].clone(), next["overdue"].clone()),
        (json!(m(-1)), json!(true))
    );

    // Starting this month on six months: this month is due, not next month.
    let december = register(&app, &specialist, "今月 開始", &m(0)).await;
    certificate(
        &app,
        &specialist,
        &december,
        0,
        json!({
        "monitoringPeriodMonths": 6, "monitoringStartMonth": m(0) }),
    )
    .await;
    let next = due(&app, &specialist, &december, "MONITORING").await;
    assert_eq!(
        (next["dueOn"].clone(), next["overdue"].clone()),
        (json!(m(0)), json!(false))
    );

    // A monthly renewal from this month: this month is due.
    let renewal = register(&app, &specialist, "毎月 更新", "2020-01-01").await;
    certificate(
        &app,
        &specialist,
        &renewal,
        0,
        json!({
        "monitoringPeriodMonths": 1, "monitoringStartMonth": m(0) }),
    )
    .await;
    let next = due(&app, &specialist, &renewal, "MONITORING").await;
    assert_eq!(next["dueOn"], m(0), "{next}");

    // 山田 太郎 (demo): his certificate runs from January, his services started later; his
    // monthly months (if he is new under it) are from the month they started, never before it.
    let yamada = client_id(&app, &specialist, "山田 太郎").await;
    let body = app.gql(Some(&specialist), "query($c: ID!) { client(id: $c) { recipientCertificates { monitoringSchedule { servicesStartOn monthlyMonths months } } } }", json!({ "c": yamada })).await;
    let s = &body["data"]["client"]["recipientCertificates"][0]["monitoringSchedule"];
    let start: NaiveDate = s["servicesStartOn"].as_str().unwrap().parse().unwrap();
    let first_of_start = start.with_day(1).unwrap().to_string();
    assert!(
        s["monthlyMonths"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x.as_str().unwrap() >= first_of_start.as_str()),
        "{s}"
    );

    // The consultation view lists the caseload's overdue, due and coming months.
    let cal = app.gql(Some(&specialist), CALENDAR, json!({})).await;
    let rows: Vec<(String, String)> = cal["data"]["consultation"]["monitoringCalendar"]
        .as_array()
        .unwrap_or_else(|| panic!("{cal}"))
        .iter()
        .filter(|r| r["client"]["id"] == json!(november))
        .map(|r| {
            (
                r["month"].as_str().unwrap().to_owned(),
                r["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (m(-1), "OVERDUE".into()),
            (m(0), "DUE".into()),
            (m(1), "UPCOMING".into())
        ],
        "{cal}"
    );
}

#[tokio::test]
async fn without_a_decision_the_national_standard_applies() {
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let grant = |service: &str| json!([{ "serviceType": service, "amount": 22, "unit": "DAYS_PER_MONTH", "grantFrom": m(0), "grantUntil": end_before(12) }]);
    // A new client of 生活介護 (6-monthly): monthly for the first three months, this one
    // included, then counted back from the grant's last month.
    let new = register(&app, &specialist, "標準 新規", &m(0)).await;
    let s = schedule(
        &certificate(
            &app,
            &specialist,
            &new,
            0,
            json!({ "grantedServices": grant("生活介護") }),
        )
        .await,
    );
    assert_eq!(s["basis"], "NATIONAL_STANDARD", "{s}");
    assert_eq!(s["periodMonths"], 6);
    assert_eq!(s["months"], dates(&[0, 1, 2, 5, 11]), "{s}");
    // A renewal using 居宅介護 (3-monthly), and one living alone (monthly).
    let renewal = register(&app, &specialist, "標準 更新", "2020-01-01").await;
    let s = schedule(
        &certificate(
            &app,
            &specialist,
            &renewal,
            0,
            json!({ "grantedServices": grant("居宅介護") }),
        )
        .await,
    );
    assert_eq!(s["months"], dates(&[2, 5, 8, 11]), "{s}");
    let alone = register(&app, &specialist, "標準 単身", "2020-01-01").await;
    let s = schedule(
        &certificate(
            &app,
            &specialist,
            &alone,
            0,
            json!({
        "grantedServices": grant("就労継続支援B型"), "monitoringSituations": ["LIVING_ALONE"] }),
        )
        .await,
    );
    assert_eq!(
        (s["periodMonths"].clone(), s["periodLabel"].clone()),
        (json!(1), json!("毎月"))
    );
    assert_eq!(s["months"].as_array().unwrap().len(), 12, "{s}");
}

#[tokio::test]
async fn a_decision_that_cannot_be_printed_is_refused_with_its_field() {
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let client = register(&app, &specialist, "入力 誤り", "2020-01-01").await;
    for (extra, field) in [
        (
            json!({ "monitoringDecision": { "periodMonths": 0, "firstMonth": m(1) } }),
            "monitoringDecision.periodMonths",
        ),
        (
            json!({ "monitoringDecision": { "periodMonths": 13, "firstMonth": m(1) } }),
            "monitoringDecision.periodMonths",
        ),
        (
            json!({ "monitoringDecision": { "periodMonths": 3, "firstMonth": m(14) } }),
            "monitoringDecision.firstMonth",
        ),
        (
            json!({ "monitoringDecision": { "periodMonths": 3, "firstMonth": m(4), "lastMonth": m(2) } }),
            "monitoringDecision.lastMonth",
        ),
        (
            json!({ "monitoringDecision": { "periodMonths": 3, "firstMonth": m(4), "monthlyMonths": [m(-3)] } }),
            "monitoringDecision.monthlyMonths",
        ),
        (
            json!({ "monitoringDecision": { "periodMonths": 3, "firstMonth": m(1) }, "monitoringPeriodMonths": 3 }),
            "monitoringDecision",
        ),
        (
            json!({ "monitoringPeriodMonths": 3 }),
            "monitoringStartMonth",
        ),
        (
            json!({ "monitoringStartMonth": m(0) }),
            "monitoringPeriodMonths",
        ),
        (
            json!({ "monitoringPeriodMonths": 0, "monitoringStartMonth": m(0) }),
            "monitoringPeriodMonths",
        ),
        (json!({ "servicesStartOn": m(13) }), "servicesStartOn"),
    ] {
        let body = certificate(&app, &specialist, &client, 0, extra.clone()).await;
        assert_error(&body, "BAD_USER_INPUT");
        assert_eq!(
            body["errors"][0]["extensions"]["field"], field,
            "{extra} → {body}"
        );
    }
}

/// Renewal preparation is a due item from three months before a grant ends, its event is raised
/// once however many instances sweep, and neither reaches a member without profile access.
#[tokio::test]
async fn grant_reminders_reach_only_who_may_see_the_certificate_and_only_once() {
    let fast = |c: &mut kakehashi::Config| c.risk_sweep_interval = Duration::from_millis(200);
    let app = TestApp::spawn_with(fast).await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let (manager, _) = app.login("manager@himawari.example").await;
    let client = register(&app, &specialist, "更新 準備", "2020-01-01").await;
    // ひまわり serves the client but holds no consent: no profile, so no certificate.
    let orgs = app
        .gql(
            Some(&specialist),
            "{ organizations(first: 20) { nodes { id name } } }",
            json!({}),
        )
        .await;
    let himawari = orgs["data"]["organizations"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "ひまわり作業所")
        .unwrap()["id"]
        .clone();
    let add = app.gql(Some(&specialist), "mutation($c: ID!, $o: ID!) { addCareTeamMember(input: { clientId: $c, organizationId: $o, relationship: SERVICE_PROVIDER }) { careTeamMember { id } } }", json!({ "c": client, "o": himawari })).await;
    assert!(add.get("errors").is_none(), "{add}");

    let mut facility = Raw::ready(&app, &manager).await;
    facility
        .subscribe(
            "1",
            "subscription($c: ID!) { clientEvents(clientId: $c) { kind } }",
            json!({ "c": client }),
        )
        .await;
    let mut socket = Raw::ready(&app, &specialist).await;
    socket
        .subscribe("1", "subscription($c: ID!) { clientEvents(clientId: $c) { kind actor { id } record { ... on RecipientCertificate { id } } } }", json!({ "c": client }))
        .await;
    let sibling = app.spawn_sibling_with(fast).await;
    // The grant ends in 80 days: preparation opened about 10 days ago and is not late yet.
    let until = jst_today() + chrono::Duration::days(80);
    let grant = json!({
        "monitoringPeriodMonths": 6, "monitoringStartMonth": m(0),
        "grantedServices": [{ "serviceType": "就労継続支援B型", "amount": 22, "unit": "DAYS_PER_MONTH", "grantFrom": m(-11), "grantUntil": until.to_string() }] });
    let body = certificate(&app, &specialist, &client, 0, grant.clone()).await;
    let cert_id = body["data"]["addRecipientCertificate"]["recipientCertificate"]["id"].clone();
    assert!(cert_id.is_string(), "{body}");

    let renewal = due(&app, &specialist, &client, "GRANT_RENEWAL").await;
    assert_eq!(
        renewal["dueOn"],
        (until - Months::new(3)).to_string(),
        "{renewal}"
    );
    assert_eq!(renewal["overdue"], false);
    assert_eq!(renewal["serviceType"], "就労継続支援B型");
    let expiry = due(&app, &specialist, &client, "GRANT_EXPIRY").await;
    assert_eq!(expiry["dueOn"], until.to_string());

    loop {
        let e = socket.event("clientEvents").await;
        if e["kind"] == "GRANT_RENEWAL_DUE" {
            assert_eq!(e["record"]["id"], cert_id, "{e}");
            assert!(e["actor"].is_null(), "{e}");
            break;
        }
    }
    // The certificate re-issued with the same grant (a new monitoring decision), and several
    // sweeps of two instances later: still one reminder and one event for the grant.
    let reissued = certificate(&app, &specialist, &client, 0, grant).await;
    assert!(reissued.get("errors").is_none(), "{reissued}");
    tokio::time::sleep(Duration::from_millis(900)).await;
    {
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        let reminders = entity::grant_reminder::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap();
        let events = entity::outbox_event::Entity::find()
            .filter(entity::outbox_event::Column::Kind.eq("GRANT_RENEWAL_DUE"))
            .all(&app.state.db)
            .await
            .unwrap();
        let ours = events
            .iter()
            .filter(|e| e.record_type == entity::outbox_event::RecordType::RecipientCertificate)
            .count();
        assert_eq!(
            events.len(),
            usize::try_from(reminders).unwrap(),
            "{events:?}"
        );
        let cert_raw = kakehashi::graphql::ids::decode_any(
            "id",
            &async_graphql::ID(cert_id.as_str().unwrap().to_owned()),
        )
        .unwrap()
        .1;
        assert_eq!(
            events.iter().filter(|e| e.record_id == cert_raw).count(),
            1,
            "{events:?}"
        );
        let client_raw =
            kakehashi::graphql::ids::decode_any("id", &async_graphql::ID(client.clone()))
                .unwrap()
                .1;
        assert_eq!(
            events.iter().filter(|e| e.client_id == client_raw).count(),
            1,
            "{events:?}"
        );
        assert!(ours >= 1);
    }
    drop(sibling);

    // The facility without profile access sees the client but none of the schedule.
    let seen = app.gql(Some(&manager), DUE, json!({ "c": client })).await;
    assert_eq!(seen["data"]["client"]["profileVisible"], false, "{seen}");
    assert_eq!(seen["data"]["client"]["dueItems"], json!([]), "{seen}");
    assert!(
        seen["data"]["client"]["recipientCertificates"].is_null(),
        "{seen}"
    );
    // A change it may see arrives first: the certificate and its reminder, raised before it,
    // never did.
    let obs = app.gql(Some(&manager), "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { observation { id } } }", json!({ "i": { "clientId": client, "content": {
        "fact": "作業を最後まで続けた。", "category": "ROUTINE", "occurredFrom": chrono::Utc::now().to_rfc3339(), "visibility": "CARE_TEAM" } } })).await;
    assert!(obs.get("errors").is_none(), "{obs}");
    let e = facility.event("clientEvents").await;
    assert_eq!(e["kind"], "OBSERVATION_RECORDED", "{e}");
}

/// あおぞら's id for ひまわり作業所, a facility that can join a care team as a provider.
async fn himawari(app: &TestApp, token: &str) -> Value {
    let orgs = app
        .gql(
            Some(token),
            "{ organizations(first: 20) { nodes { id name } } }",
            json!({}),
        )
        .await;
    orgs["data"]["organizations"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "ひまわり作業所")
        .unwrap()["id"]
        .clone()
}

/// With no decision recorded, a provider joining the care team during the grant is a change of
/// services (変更): monitored monthly for three months from the month it joins, the periodic
/// months kept (issue 21: 変更後 monthly months under the national standard).
#[tokio::test]
async fn a_change_of_services_is_monitored_monthly_under_the_national_standard() {
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let client = register(&app, &specialist, "標準 変更", "2020-01-01").await;
    let grant = json!([{ "serviceType": "居宅介護", "amount": 20, "unit": "HOURS_PER_MONTH", "grantFrom": m(-6), "grantUntil": end_before(6) }]);
    let before = schedule(
        &certificate(
            &app,
            &specialist,
            &client,
            -6,
            json!({ "grantedServices": grant.clone() }),
        )
        .await,
    );
    // A renewal on 居宅介護: every 3 months counted back from the last month.
    assert_eq!(before["months"], dates(&[-4, -1, 2, 5]), "{before}");
    assert_eq!(before["monthlyMonths"], json!([]), "{before}");

    let org = himawari(&app, &specialist).await;
    let add = app.gql(Some(&specialist), "mutation($c: ID!, $o: ID!) { addCareTeamMember(input: { clientId: $c, organizationId: $o, relationship: SERVICE_PROVIDER }) { careTeamMember { id } } }", json!({ "c": client, "o": org })).await;
    assert!(add.get("errors").is_none(), "{add}");
    let after = schedule(
        &certificate(
            &app,
            &specialist,
            &client,
            -6,
            json!({ "grantedServices": grant }),
        )
        .await,
    );
    assert_eq!(after["basis"], "NATIONAL_STANDARD");
    assert_eq!(after["monthlyMonths"], dates(&[0, 1, 2]), "{after}");
    assert_eq!(after["months"], dates(&[-4, -1, 0, 1, 2, 5]), "{after}");
    // Never monitored: the first periodic month is the one overdue.
    let next = due(&app, &specialist, &client, "MONITORING").await;
    assert_eq!(next["dueOn"], m(-4), "{next}");
    assert_eq!(next["overdue"], true, "{next}");

    // A printed decision is authoritative: the change adds nothing it does not list.
    let printed = schedule(
        &certificate(
            &app,
            &specialist,
            &client,
            -6,
            json!({ "monitoringDecision": { "periodMonths": 3, "firstMonth": m(-4) } }),
        )
        .await,
    );
    assert_eq!(printed["basis"], "PRINTED");
    assert_eq!(printed["months"], dates(&[-4, -1, 2, 5]), "{printed}");
}

/// A grant that ended with no renewal recorded raises `GRANT_EXPIRED` once (and not a belated
/// preparation reminder); a renewed grant raises nothing.
#[tokio::test]
async fn an_unrenewed_grant_that_ended_raises_grant_expired_once() {
    let fast = |c: &mut kakehashi::Config| c.risk_sweep_interval = Duration::from_millis(200);
    let app = TestApp::spawn_with(fast).await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let ended = register(&app, &specialist, "期限 切れ", "2020-01-01").await;
    let renewed = register(&app, &specialist, "更新 済み", "2020-01-01").await;
    let mut socket = Raw::ready(&app, &specialist).await;
    socket
        .subscribe("1", "subscription($c: ID!) { clientEvents(clientId: $c) { kind actor { id } record { ... on RecipientCertificate { id validUntil } } } }", json!({ "c": ended }))
        .await;
    let last_year = |from: i32| json!({ "grantedServices": [{ "serviceType": "生活介護", "amount": 22, "unit": "DAYS_PER_MONTH", "grantFrom": m(from), "grantUntil": end_before(from + 12) }] });
    let old = certificate(&app, &specialist, &ended, -12, last_year(-12)).await;
    let old_id = old["data"]["addRecipientCertificate"]["recipientCertificate"]["id"].clone();
    assert!(old_id.is_string(), "{old}");
    // The renewal first: a sweep between the two would rightly see last year's grant ended
    // without a successor.
    for from in [0, -12] {
        let body = certificate(&app, &specialist, &renewed, from, last_year(from)).await;
        assert!(body.get("errors").is_none(), "{body}");
    }

    let e = loop {
        let e = socket.event("clientEvents").await;
        if e["kind"] != "CERTIFICATE_RECORDED" {
            break e;
        }
    };
    assert_eq!(e["kind"], "GRANT_EXPIRED", "{e}");
    assert_eq!(e["record"]["id"], old_id, "{e}");
    assert!(e["actor"].is_null(), "{e}");
    // Several sweeps later: one event for the ended grant, none for the renewed one.
    tokio::time::sleep(Duration::from_millis(900)).await;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let raw = |id: &str| {
        kakehashi::graphql::ids::decode_any("id", &async_graphql::ID(id.to_owned()))
            .unwrap()
            .1
    };
    let kinds = |client: uuid::Uuid| {
        let db = app.state.db.clone();
        async move {
            entity::outbox_event::Entity::find()
                .filter(entity::outbox_event::Column::ClientId.eq(client))
                .filter(entity::outbox_event::Column::Kind.starts_with("GRANT_"))
                .all(&db)
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.kind)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        kinds(raw(&ended)).await,
        vec![entity::outbox_event::EventKind::GrantExpired]
    );
    assert_eq!(kinds(raw(&renewed)).await, vec![]);
}
