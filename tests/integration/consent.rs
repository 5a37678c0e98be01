//! Consent that means what it says (個人情報の第三者提供の同意), through the API: each record type is
//! shared under the category the SDL documents for it; a consent shares with the organizations it
//! names, not with whoever joins the care team later; records from before a member's first day
//! need the client's say-so; an addition is an event every member hears of and can object to,
//! and an open objection suspends sharing.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::{helpers::*, subscriptions::Raw};

const REGISTER: &str =
    "mutation($i: RegisterClientInput!) { registerClient(input: $i) { client { id } } }";
const ADD: &str = "mutation($i: AddCareTeamMemberInput!) { addCareTeamMember(input: $i) { careTeamMember { id } } }";
const CONSENT: &str = "mutation($i: RecordSharingConsentInput!) { recordSharingConsent(input: $i) { sharingConsent { id recipientOrganizations { name } coversFutureMembers includesEarlierRecords } } }";
const REVOKE: &str = "mutation($i: RevokeSharingConsentInput!) { revokeSharingConsent(input: $i) { sharingConsent { id } } }";
const RECORD: &str =
    "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { observation { id } } }";
const OBJECT: &str = "mutation($i: ObjectToCareTeamMemberInput!) { objectToCareTeamMember(input: $i) { objection { id reason withdrawnAt organization { name } } careTeamMember { id } } }";
const WITHDRAW: &str = "mutation($i: WithdrawCareTeamObjectionInput!) { withdrawCareTeamObjection(input: $i) { objection { id withdrawnAt } } }";
const SEEN: &str =
    "query($c: ID!) { client(id: $c) { observations(first: 100) { nodes { fact } } } }";
const TEAM: &str = "query($c: ID!) { client(id: $c) { careTeam { id organization { name } consentShares { category recordsFrom } objections { reason withdrawnAt } } } }";

/// The JST calendar day `days` from today.
fn day(days: i64) -> String {
    ((Utc::now() + Duration::hours(9)).date_naive() + Duration::days(days)).to_string()
}

/// Noon (JST) of that day.
fn noon(days: i64) -> String {
    format!("{}T12:00:00+09:00", day(days))
}

struct Team {
    app: TestApp,
    tokens: BTreeMap<&'static str, String>,
    orgs: BTreeMap<String, String>,
}

impl Team {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let mut tokens = BTreeMap::new();
        for who in [
            "manager@himawari.example",
            "staff@himawari.example",
            "manager@komorebi.example",
            "staff@komorebi.example",
            "specialist@aozora.example",
            "specialist@mirai.example",
        ] {
            tokens.insert(who, app.login(who).await.0);
        }
        let body = app
            .gql(
                Some(&tokens["manager@himawari.example"]),
                "{ organizations(first: 20) { nodes { id name } } }",
                json!({}),
            )
            .await;
        let orgs = body["data"]["organizations"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["name"].as_str().unwrap().to_owned(),
                    o["id"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        Self { app, tokens, orgs }
    }

    fn org(&self, fragment: &str) -> String {
        self.orgs
            .iter()
            .find(|(name, _)| name.contains(fragment))
            .map(|(_, id)| id.clone())
            .unwrap_or_else(|| panic!("no organization like {fragment}"))
    }

    async fn gql(&self, who: &str, query: &str, vars: Value) -> Value {
        self.app.gql(Some(&self.tokens[who]), query, vars).await
    }

    async fn ok(&self, who: &str, query: &str, vars: Value) -> Value {
        let body = self.gql(who, query, vars).await;
        assert!(body.get("errors").is_none(), "{who}: {body}");
        body
    }

    /// A client registered by ひまわり 60 days ago, with あおぞら as its office from then.
    async fn client(&self, name: &str) -> String {
        let body = self
            .ok(
                "manager@himawari.example",
                REGISTER,
                json!({ "i": { "displayName": name, "nameKana": "てすと", "startDate": day(-60) } }),
            )
            .await;
        let client = body["data"]["registerClient"]["client"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        self.add(&client, "あおぞら", "CONSULTATION", -60).await;
        client
    }

    async fn add(&self, client: &str, org: &str, relationship: &str, start: i64) -> String {
        let body = self
            .ok(
                "manager@himawari.example",
                ADD,
                json!({ "i": { "clientId": client, "organizationId": self.org(org),
                    "relationship": relationship, "startDate": day(start) } }),
            )
            .await;
        body["data"]["addCareTeamMember"]["careTeamMember"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn consent(&self, client: &str, categories: &[&str], extra: Value) -> String {
        let mut i = json!({ "clientId": client, "grantedBy": "本人", "signerRelationship": "CLIENT",
            "grantedOn": day(0), "dataCategories": categories });
        for (k, v) in extra.as_object().unwrap() {
            i[k] = v.clone();
        }
        let body = self
            .ok("manager@himawari.example", CONSENT, json!({ "i": i }))
            .await;
        body["data"]["recordSharingConsent"]["sharingConsent"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn record(&self, who: &str, client: &str, fact: &str, days: i64) {
        self.ok(who, RECORD, json!({ "i": { "clientId": client, "content": {
            "fact": fact, "category": "ROUTINE", "visibility": "CARE_TEAM", "occurredFrom": noon(days) } } }))
            .await;
    }

    /// The facts of the observations `who` sees of the client (`None`: the client is unknown).
    async fn sees(&self, who: &str, client: &str) -> Option<BTreeSet<String>> {
        let body = self.gql(who, SEEN, json!({ "c": client })).await;
        if error_code(&body) == Some("NOT_FOUND") {
            return None;
        }
        let nodes = body["data"]["client"]["observations"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{who}: {body}"));
        Some(
            nodes
                .iter()
                .map(|n| n["fact"].as_str().unwrap().to_owned())
                .collect(),
        )
    }

    async fn team(&self, who: &str, client: &str) -> Vec<Value> {
        let body = self.ok(who, TEAM, json!({ "c": client })).await;
        body["data"]["client"]["careTeam"]
            .as_array()
            .unwrap()
            .clone()
    }
}

fn set(items: &[&str]) -> Option<BTreeSet<String>> {
    Some(items.iter().map(|s| (*s).to_owned()).collect())
}

/// The shares `consentShares` reports for the organization named like `org`.
fn shares_of(team: &[Value], org: &str) -> Vec<(String, Option<String>)> {
    let member = team
        .iter()
        .find(|m| m["organization"]["name"].as_str().unwrap().contains(org))
        .unwrap_or_else(|| panic!("{org} is not on the team: {team:?}"));
    member["consentShares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["category"].as_str().unwrap().to_owned(),
                s["recordsFrom"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_revoked_consent_stops_sharing_from_the_next_request_although_scopes_are_cached() {
    // The office's scope is cached across requests; the revocation must not outlive it.
    let t = Team::new().await;
    let c = t.client("撤回 確認").await;
    t.record("staff@himawari.example", &c, "昼食を全量食べた。", -1)
        .await;
    let consent = t.consent(&c, &["OBSERVATIONS"], json!({})).await;
    for _ in 0..2 {
        assert_eq!(
            t.sees("specialist@aozora.example", &c).await,
            set(&["昼食を全量食べた。"])
        );
    }
    t.ok(
        "manager@himawari.example",
        REVOKE,
        json!({ "i": { "sharingConsentId": consent } }),
    )
    .await;
    assert_eq!(t.sees("specialist@aozora.example", &c).await, set(&[]));
}

#[tokio::test]
async fn consent_covers_named_parties_not_the_changing_team() {
    let t = Team::new().await;
    let c = t.client("同意範囲 一郎").await;
    t.record(
        "staff@himawari.example",
        &c,
        "40日前: 作業を60分続けた。",
        -40,
    )
    .await;
    t.record(
        "staff@himawari.example",
        &c,
        "2日前: 昼食を全量食べた。",
        -2,
    )
    .await;
    let both = set(&["40日前: 作業を60分続けた。", "2日前: 昼食を全量食べた。"]);
    // Recorded without naming anyone: it names the team of today (ひまわり, あおぞら).
    let body = t
        .gql(
            "manager@himawari.example",
            CONSENT,
            json!({ "i": { "clientId": c, "grantedBy": "本人", "signerRelationship": "CLIENT",
                "grantedOn": day(0), "dataCategories": ["OBSERVATIONS"] } }),
        )
        .await;
    let consent = &body["data"]["recordSharingConsent"]["sharingConsent"];
    let named: BTreeSet<&str> = consent["recipientOrganizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(named.len(), 2, "{body}");
    assert!(
        named.iter().any(|n| n.contains("ひまわり"))
            && named.iter().any(|n| n.contains("あおぞら"))
    );
    assert_eq!(consent["coversFutureMembers"], false);
    assert_eq!(consent["includesEarlierRecords"], false);
    // あおぞら joined 60 days ago: both records happened since.
    assert_eq!(t.sees("specialist@aozora.example", &c).await, both);

    // The office hears of the addition as it happens.
    let mut office = Raw::ready(&t.app, &t.tokens["specialist@aozora.example"]).await;
    office
        .subscribe(
            "1",
            "subscription($c: ID!) { clientEvents(clientId: $c) { kind record { __typename ... on CareTeamMember { organization { name } } } } }",
            json!({ "c": c }),
        )
        .await;
    crate::subscriptions::live_subscribers(&t.app, 1).await;
    // A coordinator adds こもれび (from 10 days ago): that widens nothing.
    let komorebi = t.add(&c, "こもれび", "SERVICE_PROVIDER", -10).await;
    let event = office.event("clientEvents").await;
    assert_eq!(event["kind"], "CARE_TEAM_CHANGED");
    assert!(
        event["record"]["organization"]["name"]
            .as_str()
            .unwrap()
            .contains("こもれび"),
        "{event}"
    );
    assert_eq!(t.sees("staff@komorebi.example", &c).await, set(&[]));
    let team = t.team("specialist@aozora.example", &c).await;
    assert!(shares_of(&team, "こもれび").is_empty(), "{team:?}");
    assert_eq!(
        shares_of(&team, "あおぞら"),
        vec![("OBSERVATIONS".into(), Some(day(-60)))]
    );
    // The addition is in the adding organization's audit log.
    let (admin, _) = t.app.login("admin@himawari.example").await;
    let audit = t
        .app
        .gql(
            Some(&admin),
            "{ auditLog(first: 50) { nodes { operation staffMember { email } } } }",
            json!({}),
        )
        .await;
    assert!(
        audit["data"]["auditLog"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["operation"] == "CARE_TEAM_CHANGED"
                && n["staffMember"]["email"] == "manager@himawari.example"),
        "{audit}"
    );

    // A consent that names こもれび shares from its first day on …
    let named = t
        .consent(
            &c,
            &["OBSERVATIONS"],
            json!({ "recipientOrganizationIds": [t.org("こもれび")] }),
        )
        .await;
    assert_eq!(
        t.sees("staff@komorebi.example", &c).await,
        set(&["2日前: 昼食を全量食べた。"])
    );
    let team = t.team("manager@komorebi.example", &c).await;
    assert_eq!(
        shares_of(&team, "こもれび"),
        vec![("OBSERVATIONS".into(), Some(day(-10)))]
    );
    // … and earlier records only when the client consented to them too.
    t.ok(
        "manager@himawari.example",
        REVOKE,
        json!({ "i": { "sharingConsentId": named } }),
    )
    .await;
    t.consent(
        &c,
        &["OBSERVATIONS"],
        json!({ "recipientOrganizationIds": [t.org("こもれび")], "includesEarlierRecords": true }),
    )
    .await;
    assert_eq!(t.sees("staff@komorebi.example", &c).await, both);
    let _ = komorebi;
}

#[tokio::test]
async fn a_consent_for_future_members_covers_a_later_addition_from_its_first_day() {
    let t = Team::new().await;
    let c = t.client("将来同意 二郎").await;
    t.record("staff@himawari.example", &c, "30日前: 9時に来所した。", -30)
        .await;
    t.record("staff@himawari.example", &c, "1日前: 15時に帰宅した。", -1)
        .await;
    t.consent(
        &c,
        &["OBSERVATIONS"],
        json!({ "coversFutureMembers": true }),
    )
    .await;
    t.add(&c, "こもれび", "SERVICE_PROVIDER", -5).await;
    assert_eq!(
        t.sees("staff@komorebi.example", &c).await,
        set(&["1日前: 15時に帰宅した。"])
    );
    // A member added before the consent was recorded is not a "future" member of it.
    let c2 = t.client("将来同意 三郎").await;
    t.record(
        "staff@himawari.example",
        &c2,
        "1日前: 昼食を全量食べた。",
        -1,
    )
    .await;
    t.add(&c2, "こもれび", "SERVICE_PROVIDER", -5).await;
    t.consent(
        &c2,
        &["OBSERVATIONS"],
        json!({ "recipientOrganizationIds": [t.org("ひまわり")], "coversFutureMembers": true }),
    )
    .await;
    assert_eq!(t.sees("staff@komorebi.example", &c2).await, set(&[]));
}

#[tokio::test]
async fn another_member_can_object_to_an_addition_which_suspends_sharing_until_withdrawn() {
    let t = Team::new().await;
    let c = t.client("異議 四郎").await;
    t.record(
        "staff@himawari.example",
        &c,
        "1日前: 作業を30分続けた。",
        -1,
    )
    .await;
    t.consent(
        &c,
        &["OBSERVATIONS"],
        json!({ "coversFutureMembers": true, "includesEarlierRecords": true }),
    )
    .await;
    let member = t.add(&c, "こもれび", "SERVICE_PROVIDER", 0).await;
    let shared = set(&["1日前: 作業を30分続けた。"]);
    assert_eq!(t.sees("staff@komorebi.example", &c).await, shared);

    let object = |reason: &str| json!({ "i": { "careTeamMemberId": member, "reason": reason } });
    // Who may object: coordinators of another current member.
    assert_error(
        &t.gql("staff@himawari.example", OBJECT, object("x")).await,
        "FORBIDDEN",
    );
    assert_error(
        &t.gql("manager@komorebi.example", OBJECT, object("x")).await,
        "FORBIDDEN",
    );
    assert_error(
        &t.gql("specialist@mirai.example", OBJECT, object("x")).await,
        "NOT_FOUND",
    );
    assert_error(
        &t.gql("specialist@aozora.example", OBJECT, object(" "))
            .await,
        "BAD_USER_INPUT",
    );
    let body = t
        .ok(
            "specialist@aozora.example",
            OBJECT,
            object("本人に追加の説明をしていない"),
        )
        .await;
    let objection = body["data"]["objectToCareTeamMember"]["objection"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_error(
        &t.gql(
            "specialist@aozora.example",
            OBJECT,
            object("本人に追加の説明をしていない"),
        )
        .await,
        "CONFLICT",
    );
    // While it is open, nothing is shared with the organization objected to; it still knows
    // the client and sees the objection.
    assert_eq!(t.sees("staff@komorebi.example", &c).await, set(&[]));
    let team = t.team("manager@komorebi.example", &c).await;
    assert!(shares_of(&team, "こもれび").is_empty());
    let open = team.iter().find(|m| m["id"] == member).unwrap()["objections"].clone();
    assert_eq!(open[0]["reason"], "本人に追加の説明をしていない");
    assert!(open[0]["withdrawnAt"].is_null());
    // Only the objecting organization withdraws it, once.
    let withdraw = json!({ "i": { "objectionId": objection } });
    assert_error(
        &t.gql("manager@himawari.example", WITHDRAW, withdraw.clone())
            .await,
        "FORBIDDEN",
    );
    t.ok("specialist@aozora.example", WITHDRAW, withdraw.clone())
        .await;
    assert_error(
        &t.gql("specialist@aozora.example", WITHDRAW, withdraw).await,
        "CONFLICT",
    );
    assert_eq!(t.sees("staff@komorebi.example", &c).await, shared);
}

/// The record types each `DataCategory` value covers, as the SDL documents them (the backticked
/// type names in its description).
fn documented_categories() -> BTreeMap<String, String> {
    let sdl = kakehashi::graphql::sdl();
    let doc = async_graphql::parser::parse_schema(&sdl).unwrap();
    let mut out = BTreeMap::new();
    for def in &doc.definitions {
        let async_graphql::parser::types::TypeSystemDefinition::Type(t) = def else {
            continue;
        };
        if t.node.name.node != "DataCategory" {
            continue;
        }
        let async_graphql::parser::types::TypeKind::Enum(e) = &t.node.kind else {
            continue;
        };
        for v in &e.values {
            let text = v.node.description.as_ref().unwrap().node.clone();
            for (i, part) in text.split('`').enumerate() {
                if i % 2 == 1 {
                    out.insert(part.to_owned(), v.node.value.node.to_string());
                }
            }
        }
    }
    out
}

/// Every record type is shared under exactly the category the SDL documents for it: with a
/// consent naming only that category the other organization sees it, with any other it does
/// not. (Monitoring reports travel with the plans they evaluate.)
#[tokio::test]
async fn every_record_type_is_shared_under_its_documented_category() {
    let documented = documented_categories();
    for t in [
        "Observation",
        "SupportPlan",
        "SupportPlanVersion",
        "MonitoringReport",
        "MeetingBrief",
    ] {
        assert!(
            documented.contains_key(t),
            "{t} is in no category's documentation: {documented:?}"
        );
    }
    let t = Team::new().await;
    let c = t.client("区分 五郎").await;
    let himawari = "manager@himawari.example";
    let office = "specialist@aozora.example";
    // The facility's observation and brief; the office's plan (proposed), report and minutes.
    t.record("staff@himawari.example", &c, "10時に来所した。", -1)
        .await;
    let plan = t
        .ok(
            office,
            "mutation($i: CreateSupportPlanInput!) { createSupportPlan(input: $i) { supportPlan { id } } }",
            json!({ "i": crate::plans_meetings::plan_input(&c, "SERVICE_USE_PLAN") }),
        )
        .await["data"]["createSupportPlan"]["supportPlan"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    t.ok(
        office,
        "mutation($i: TransitionSupportPlanInput!) { transitionSupportPlan(input: $i) { supportPlan { id } } }",
        json!({ "i": { "planId": plan, "expectedVersion": 1, "transition": "PROPOSE" } }),
    )
    .await;
    t.ok(
        office,
        "mutation($i: RecordMonitoringReportInput!) { recordMonitoringReport(input: $i) { monitoringReport { id } } }",
        json!({ "i": { "clientId": c, "monitoredOn": day(0), "method": "VISIT", "outcome": "CONTINUE", "content": {
            "overallSituation": "通所は安定。", "changeServiceType": false, "changeAmount": false, "changeWeeklySchedule": false,
            "goalRows": [] } } }),
    )
    .await;
    let soon = (Utc::now() + Duration::days(3)).to_rfc3339();
    let meeting = t
        .ok(
            office,
            "mutation($i: ScheduleMeetingInput!) { scheduleMeeting(input: $i) { meeting { id } } }",
            json!({ "i": { "clientId": c, "kind": "SERVICE_COORDINATION", "scheduledAt": soon, "place": "相談室",
                "invitedOrganizationIds": [t.org("ひまわり")] } }),
        )
        .await["data"]["scheduleMeeting"]["meeting"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    t.ok(
        himawari,
        "mutation($i: SubmitMeetingBriefInput!) { submitMeetingBrief(input: $i) { brief { id } } }",
        json!({ "i": { "meetingId": meeting, "content": {
            "recentChanges": [{ "text": "この1週間、大声は0回。" }],
            "unstablePoints": [{ "text": "昼食を半分残した日が2日。" }],
            "focusNextMonth": [{ "text": "食事量を毎日記録する。" }] } } }),
    )
    .await;
    let seen_by = |who: &'static str, q: &'static str, pointer: &'static str| {
        let t = &t;
        let c = c.clone();
        async move {
            let body = t.ok(who, q, json!({ "c": c })).await;
            let v = body
                .pointer(pointer)
                .unwrap_or_else(|| panic!("{pointer}: {body}"));
            v.as_array().map_or(!v.is_null(), |a| !a.is_empty())
        }
    };
    // (record type, who reads it, query, what must be non-empty)
    let checks: [(&str, &'static str, &'static str, &'static str); 5] = [
        (
            "Observation",
            office,
            "query($c: ID!) { client(id: $c) { observations(first: 5) { nodes { id } } } }",
            "/data/client/observations/nodes",
        ),
        (
            "SupportPlan",
            himawari,
            "query($c: ID!) { client(id: $c) { supportPlans { id } } }",
            "/data/client/supportPlans",
        ),
        (
            "SupportPlanVersion",
            himawari,
            "query($c: ID!) { client(id: $c) { history(first: 20, kinds: [PLAN_VERSION]) { edges { cursor } } } }",
            "/data/client/history/edges",
        ),
        (
            "MonitoringReport",
            himawari,
            "query($c: ID!) { client(id: $c) { monitoringReports { id } } }",
            "/data/client/monitoringReports",
        ),
        (
            "MeetingBrief",
            office,
            "query($c: ID!) { client(id: $c) { meetings { briefs { id } } } }",
            "/data/client/meetings/0/briefs",
        ),
    ];
    let mut consent: Option<String> = None;
    for category in ["PROFILE", "OBSERVATIONS", "PLANS", "MEETINGS"] {
        if let Some(previous) = consent.take() {
            t.ok(
                himawari,
                REVOKE,
                json!({ "i": { "sharingConsentId": previous } }),
            )
            .await;
        }
        consent = Some(
            t.consent(&c, &[category], json!({ "includesEarlierRecords": true }))
                .await,
        );
        for (record, who, q, pointer) in checks {
            let expected = documented[record] == category;
            assert_eq!(
                seen_by(who, q, pointer).await,
                expected,
                "{record} under a consent for {category} only (documented: {})",
                documented[record]
            );
        }
    }
}

/// Migration 0009 gives every "current care team" consent the team it was recorded for: the
/// organizations added no later than the consent and not gone before it was granted; members
/// added later are not named, and the named keep the whole history they saw before.
#[tokio::test]
async fn the_migration_names_the_team_each_care_team_consent_was_recorded_for() {
    use entity::{care_team_membership, client, organization};
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{
        ActiveModelTrait, ConnectionTrait, EntityTrait, Set,
        sea_query::{Alias, Query},
    };

    let db_handle = TestDb::create().await;
    let db = sea_orm::Database::connect(db_handle.url()).await.unwrap();
    Migrator::up(&db, Some(8)).await.unwrap();
    let now = Utc::now();
    let today = now.date_naive();
    let mut orgs = Vec::new();
    for (i, kind) in [
        organization::OrganizationKind::Facility,
        organization::OrganizationKind::Facility,
        organization::OrganizationKind::ConsultationOffice,
        organization::OrganizationKind::Facility,
    ]
    .into_iter()
    .enumerate()
    {
        let id = uuid::Uuid::now_v7();
        organization::ActiveModel {
            id: Set(id),
            kind: Set(kind),
            name: Set(format!("旧データ {i}")),
            service_types: Set(json!([])),
            municipality: Set("千代田区".into()),
            office_number: Set(None),
            created_at: Set(now),
            risk_acknowledgement_hours: Set(24),
        }
        .insert(&db)
        .await
        .unwrap();
        orgs.push(id);
    }
    let client_id = uuid::Uuid::now_v7();
    client::ActiveModel {
        id: Set(client_id),
        display_name: Set("旧 同意".into()),
        name_kana: Set("きゅう".into()),
        birth_date: Set(None),
        support_category: Set(None),
        wishes: Set(None),
        family_contacts: Set(json!([])),
        registered_by_organization_id: Set(orgs[0]),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&db)
    .await
    .unwrap();
    let consent_at = now - Duration::days(10);
    // (org, added, ended): on the team when the consent was recorded; ended before it was
    // granted; added after it.
    for (org, added, ended) in [
        (orgs[0], now - Duration::days(30), None),
        (orgs[2], now - Duration::days(20), None),
        (
            orgs[1],
            now - Duration::days(40),
            Some(today - Duration::days(35)),
        ),
        (orgs[3], now - Duration::days(2), None),
    ] {
        care_team_membership::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            client_id: Set(client_id),
            organization_id: Set(org),
            relationship: Set(care_team_membership::CareRelationship::ServiceProvider),
            service_type: Set(None),
            start_date: Set(added.date_naive()),
            end_date: Set(ended),
            added_by_staff_member_id: Set(uuid::Uuid::now_v7()),
            ended_by_staff_member_id: Set(None),
            created_at: Set(added),
        }
        .insert(&db)
        .await
        .unwrap();
    }
    let consent_id = uuid::Uuid::now_v7();
    let insert = Query::insert()
        .into_table(Alias::new("sharing_consents"))
        .columns(
            [
                "id",
                "client_id",
                "granted_by",
                "signer_relationship",
                "granted_on",
                "data_categories",
                "recorded_by_staff_member_id",
                "recorded_by_organization_id",
                "created_at",
            ]
            .map(Alias::new),
        )
        .values_panic([
            consent_id.into(),
            client_id.into(),
            "本人".into(),
            "CLIENT".into(),
            (today - Duration::days(11)).into(),
            json!(["OBSERVATIONS"]).into(),
            uuid::Uuid::now_v7().into(),
            orgs[0].into(),
            consent_at.into(),
        ])
        .to_owned();
    db.execute(&insert).await.unwrap();

    Migrator::up(&db, None).await.unwrap();
    let migrated = entity::sharing_consent::Entity::find_by_id(consent_id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let mut named =
        kakehashi::service::json_uuids(migrated.recipient_organization_ids.as_ref().unwrap());
    named.sort();
    let mut expected = vec![orgs[0], orgs[2]];
    expected.sort();
    assert_eq!(
        named, expected,
        "the team the consent was recorded for, no later member"
    );
    assert!(migrated.includes_earlier_records && !migrated.covers_future_members);
    db.close().await.unwrap();
}

const MATERIALS: &str = "query($c: ID!, $o: ID) { client(id: $c) { materials(organizationId: $o) {
    summary { observationCount countsByCategory { category count } keyFacts { id fact } }
    evidenceOfChange { tag count baselineCount summary }
    facilityDirections { organization { id } plan { id } focusNextMonth }
    riskSigns { id }
    monitoringRows { goal achievement serviceStatusFromFacility }
} } }";

/// A facility's materials preview is the very document the consultation office reads as that
/// facility's materials, on every demo client with an office, in every consent state; and it
/// holds nothing the facility itself may not read.
#[tokio::test]
async fn a_facility_previews_exactly_the_materials_the_office_reads() {
    let app = TestApp::spawn().await;
    let mut tokens = BTreeMap::new();
    for who in [
        "manager@himawari.example",
        "manager@komorebi.example",
        "specialist@aozora.example",
        "specialist@mirai.example",
    ] {
        tokens.insert(who, app.login(who).await.0);
    }
    // (client, office, facilities on its team)
    let cases = [
        (
            "山田 太郎",
            "specialist@aozora.example",
            vec![
                ("manager@himawari.example", "ひまわり"),
                ("manager@komorebi.example", "こもれび"),
            ],
        ),
        (
            "佐々木 健",
            "specialist@mirai.example",
            vec![("manager@himawari.example", "ひまわり")],
        ),
        (
            "森 陽介",
            "specialist@aozora.example",
            vec![("manager@komorebi.example", "こもれび")],
        ),
    ];
    let orgs = app
        .gql(
            Some(&tokens["specialist@aozora.example"]),
            "{ organizations(first: 20) { nodes { id name } } }",
            json!({}),
        )
        .await;
    let org_id = |name: &str| {
        orgs["data"]["organizations"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"].as_str().unwrap().contains(name))
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let mut compared = 0;
    for state in ["as seeded", "no consent", "observations only", "everything"] {
        for (client, office, facilities) in &cases {
            let c = crate::views::client_id(&app, &tokens[office], client).await;
            match state {
                "as seeded" => {}
                _ => {
                    // Revoke whatever is in force, then record the state's consent.
                    let list = app
                        .gql(Some(&tokens[office]), "query($c: ID!) { client(id: $c) { sharingConsents { id revokedOn } } }", json!({ "c": c }))
                        .await;
                    for k in list["data"]["client"]["sharingConsents"]
                        .as_array()
                        .unwrap()
                    {
                        if k["revokedOn"].is_null() {
                            let r = app
                                .gql(
                                    Some(&tokens[office]),
                                    REVOKE,
                                    json!({ "i": { "sharingConsentId": k["id"] } }),
                                )
                                .await;
                            assert!(r.get("errors").is_none(), "{r}");
                        }
                    }
                    let categories: &[&str] = match state {
                        "observations only" => &["OBSERVATIONS"],
                        "everything" => &["PROFILE", "OBSERVATIONS", "PLANS", "MEETINGS"],
                        _ => &[],
                    };
                    if !categories.is_empty() {
                        let r = app.gql(Some(&tokens[office]), CONSENT, json!({ "i": { "clientId": c, "grantedBy": "本人",
                            "signerRelationship": "CLIENT", "grantedOn": day(0), "dataCategories": categories,
                            "includesEarlierRecords": true } })).await;
                        assert!(r.get("errors").is_none(), "{r}");
                    }
                }
            }
            for (facility, name) in facilities {
                let preview = app
                    .gql(Some(&tokens[facility]), MATERIALS, json!({ "c": c }))
                    .await;
                let office_view = app
                    .gql(
                        Some(&tokens[office]),
                        MATERIALS,
                        json!({ "c": c, "o": org_id(name) }),
                    )
                    .await;
                assert!(preview.get("errors").is_none(), "{preview}");
                assert_eq!(
                    preview["data"], office_view["data"],
                    "[{state}] {client}: {facility}'s preview differs from what {office} reads"
                );
                // Nothing the facility may not read: every key fact is one it can open itself.
                for fact in preview["data"]["client"]["materials"]["summary"]["keyFacts"]
                    .as_array()
                    .unwrap()
                {
                    let own = app
                        .gql(
                            Some(&tokens[facility]),
                            "query($id: ID!) { node(id: $id) { id } }",
                            json!({ "id": fact["id"] }),
                        )
                        .await;
                    assert!(
                        own.get("errors").is_none(),
                        "[{state}] {facility} cannot read its own preview's {fact}: {own}"
                    );
                }
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 16);
}
