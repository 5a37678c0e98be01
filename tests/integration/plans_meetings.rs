//! Support plans, meetings with three-point briefs, monitoring, schedules and the client
//! history, end to end through the API.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::{helpers::*, views::client_id};

fn date(days_from_today: i64) -> String {
    let jst_today = (chrono::Utc::now() + chrono::Duration::hours(9)).date_naive();
    (jst_today + chrono::Duration::days(days_from_today)).to_string()
}

const CREATE_PLAN: &str = "mutation($i: CreateSupportPlanInput!) { createSupportPlan(input: $i) { supportPlan { id version status basedOn { id } } } }";
const TRANSITION: &str = "mutation($i: TransitionSupportPlanInput!) { transitionSupportPlan(input: $i) { supportPlan { id version status activatedOn reviewDueOn } } }";
const CONSENT: &str = "mutation($i: RecordSupportPlanConsentInput!) { recordSupportPlanConsent(input: $i) { supportPlan { version record { consentSignedBy consentSignedOn explainedBy } } } }";
const DELIVER: &str = "mutation($i: RecordSupportPlanDeliveryInput!) { recordSupportPlanDelivery(input: $i) { supportPlan { version record { deliveries { recipient deliveredOn } } } } }";
const PLAN: &str = "query($id: ID!) { supportPlan(id: $id) { id kind status version content { clientWishes familyWishes needs { priority need clientRole } goals { text expressedBy achievement } axis { familyWorries } } versions { version status } } }";

pub(crate) fn plan_input(client: &str, kind: &str) -> Value {
    json!({ "clientId": client, "kind": kind, "periodFrom": date(0), "periodTo": date(365), "content": {
        "clientWishes": "「パンを作る仕事をしてみたい」",
        "familyWishes": "母: 通い続けられるか心配",
        "overallPolicy": "職業体験を重ね、本人の関心を具体的な仕事につなげる。",
        "axis": { "clientWishes": "パン作り", "familyWorries": "体力が続くか", "facilityExpertise": "作業分解", "communityResources": "地域のパン工房" },
        "goals": [{ "text": "週4日通所を続ける", "expressedBy": "CLIENT", "achievement": "NOT_ASSESSED" }],
        "needs": [{ "priority": 1, "need": "働く体験が少ない", "supportGoal": "パン工房で月2回体験する", "serviceType": "就労継続支援B型", "amount": "週4日", "clientRole": "体験の感想を話す" }],
        "monitoringPeriodMonths": 3
    } })
}

/// Moves a plan from draft to active (propose, consent, activate) and returns its state.
async fn activate(app: &TestApp, token: &str, plan: &str) -> Value {
    let p = app
        .gql(
            Some(token),
            TRANSITION,
            json!({ "i": { "planId": plan, "expectedVersion": 1, "transition": "PROPOSE" } }),
        )
        .await;
    assert_eq!(
        p["data"]["transitionSupportPlan"]["supportPlan"]["status"], "PROPOSED",
        "{p}"
    );
    let early = app
        .gql(
            Some(token),
            TRANSITION,
            json!({ "i": { "planId": plan, "expectedVersion": 2, "transition": "ACTIVATE" } }),
        )
        .await;
    assert_error(&early, "BAD_USER_INPUT");
    let c = app.gql(Some(token), CONSENT, json!({ "i": { "planId": plan, "expectedVersion": 2, "explainedOn": date(0), "explainedBy": "担当", "signedBy": "小川 さくら", "signedOn": date(0), "method": "署名" } })).await;
    assert_eq!(
        c["data"]["recordSupportPlanConsent"]["supportPlan"]["record"]["consentSignedBy"],
        "小川 さくら",
        "{c}"
    );
    let a = app
        .gql(
            Some(token),
            TRANSITION,
            json!({ "i": { "planId": plan, "expectedVersion": 3, "transition": "ACTIVATE" } }),
        )
        .await;
    assert_eq!(
        a["data"]["transitionSupportPlan"]["supportPlan"]["status"], "ACTIVE",
        "{a}"
    );
    a["data"]["transitionSupportPlan"]["supportPlan"].clone()
}

#[tokio::test]
async fn a_specialist_writes_the_service_use_plan_and_a_manager_an_individual_plan_that_follows_it()
{
    let app = TestApp::spawn().await;
    let (manager, _) = app.login("manager@himawari.example").await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let (mirai, _) = app.login("specialist@mirai.example").await;
    let (aozora, _) = app.login("specialist@aozora.example").await;
    let ogawa = client_id(&app, &manager, "小川 さくら").await;

    // 小川 さくら has a self-made plan: no consultation office, so no specialist may write one.
    let denied = app
        .gql(
            Some(&mirai),
            CREATE_PLAN,
            json!({ "i": plan_input(&ogawa, "SERVICE_USE_PLAN") }),
        )
        .await;
    assert_error(&denied, "NOT_FOUND");
    // みらい joins as consultation office (ひまわり invites it), with consent for plans.
    let orgs = app
        .gql(
            Some(&manager),
            "{ organizations(first: 10) { nodes { id name } } }",
            json!({}),
        )
        .await;
    let org = |name: &str| {
        orgs["data"]["organizations"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let add = app.gql(Some(&manager), "mutation($c: ID!, $o: ID!) { addCareTeamMember(input: { clientId: $c, organizationId: $o, relationship: CONSULTATION }) { careTeamMember { id } } }",
        json!({ "c": ogawa, "o": org("みらい相談室") })).await;
    assert!(add.get("errors").is_none(), "{add}");
    let consent = app.gql(Some(&manager), "mutation($c: ID!, $d: Date!) { recordSharingConsent(input: { clientId: $c, grantedBy: \"小川 さくら\", signerRelationship: CLIENT, grantedOn: $d, dataCategories: [PLANS, MEETINGS] }) { sharingConsent { id } } }",
        json!({ "c": ogawa, "d": date(0) })).await;
    assert!(consent.get("errors").is_none(), "{consent}");

    // Only the client's specialist writes the service-use plan; a facility manager cannot.
    assert_error(
        &app.gql(
            Some(&manager),
            CREATE_PLAN,
            json!({ "i": plan_input(&ogawa, "SERVICE_USE_PLAN") }),
        )
        .await,
        "FORBIDDEN",
    );
    assert_error(
        &app.gql(
            Some(&aozora),
            CREATE_PLAN,
            json!({ "i": plan_input(&ogawa, "SERVICE_USE_PLAN") }),
        )
        .await,
        "NOT_FOUND",
    );
    let created = app
        .gql(
            Some(&mirai),
            CREATE_PLAN,
            json!({ "i": plan_input(&ogawa, "SERVICE_USE_PLAN") }),
        )
        .await;
    let sup = created["data"]["createSupportPlan"]["supportPlan"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        created["data"]["createSupportPlan"]["supportPlan"]["status"],
        "DRAFT"
    );

    // A draft is internal to the writer.
    assert_error(
        &app.gql(Some(&manager), PLAN, json!({ "id": sup })).await,
        "NOT_FOUND",
    );
    let proposed = activate(&app, &mirai, &sup).await;
    assert_eq!(proposed["version"], 4);
    // Active and shared under consent: the facility reads it, client's words and family's kept apart.
    let read = app.gql(Some(&manager), PLAN, json!({ "id": sup })).await;
    let p = &read["data"]["supportPlan"];
    assert_eq!(p["status"], "ACTIVE", "{read}");
    assert_eq!(
        p["content"]["clientWishes"],
        "「パンを作る仕事をしてみたい」"
    );
    assert_eq!(p["content"]["familyWishes"], "母: 通い続けられるか心配");
    assert_eq!(
        p["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["status"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["PROPOSED", "PROPOSED", "ACTIVE"],
        "the draft stays the writer's"
    );
    // Active plans are not rewritten; stale versions conflict.
    let revise = "mutation($i: ReviseSupportPlanInput!) { reviseSupportPlan(input: $i) { supportPlan { version } } }";
    let mut input = plan_input(&ogawa, "SERVICE_USE_PLAN");
    let content = input["content"].take();
    let stale = app.gql(Some(&mirai), revise, json!({ "i": { "planId": sup, "expectedVersion": 3, "periodFrom": date(0), "content": content } })).await;
    assert_error(&stale, "CONFLICT");
    let active = app.gql(Some(&mirai), revise, json!({ "i": { "planId": sup, "expectedVersion": 4, "periodFrom": date(0), "content": content } })).await;
    assert_error(&active, "CONFLICT");

    // The facility's individual plan follows the active service-use plan automatically.
    assert_error(
        &app.gql(
            Some(&staff),
            CREATE_PLAN,
            json!({ "i": plan_input(&ogawa, "INDIVIDUAL_SUPPORT_PLAN") }),
        )
        .await,
        "FORBIDDEN",
    );
    let isp = app
        .gql(
            Some(&manager),
            CREATE_PLAN,
            json!({ "i": plan_input(&ogawa, "INDIVIDUAL_SUPPORT_PLAN") }),
        )
        .await;
    let isp_plan = &isp["data"]["createSupportPlan"]["supportPlan"];
    assert_eq!(isp_plan["basedOn"]["id"], sup.as_str(), "{isp}");
    let isp_id = isp_plan["id"].as_str().unwrap().to_owned();
    let active = activate(&app, &manager, &isp_id).await;
    // Reviewed at most 6 months after activation (就労継続支援B型).
    let activated: chrono::NaiveDate = active["activatedOn"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        active["reviewDueOn"].as_str().unwrap(),
        activated
            .checked_add_months(chrono::Months::new(6))
            .unwrap()
            .to_string()
    );
    let delivered = app.gql(Some(&manager), DELIVER, json!({ "i": { "planId": isp_id, "expectedVersion": 4, "recipient": "CONSULTATION_OFFICE", "deliveredOn": date(0) } })).await;
    assert_eq!(
        delivered["data"]["recordSupportPlanDelivery"]["supportPlan"]["record"]["deliveries"][0]["recipient"],
        "CONSULTATION_OFFICE",
        "{delivered}"
    );
    // The consultation office reads the delivered individual plan; a new one supersedes the old.
    assert_eq!(
        app.gql(Some(&mirai), PLAN, json!({ "id": isp_id })).await["data"]["supportPlan"]["kind"],
        "INDIVIDUAL_SUPPORT_PLAN"
    );
    let second = app
        .gql(
            Some(&manager),
            CREATE_PLAN,
            json!({ "i": plan_input(&ogawa, "INDIVIDUAL_SUPPORT_PLAN") }),
        )
        .await;
    let second_id = second["data"]["createSupportPlan"]["supportPlan"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    activate(&app, &manager, &second_id).await;
    let old = app.gql(Some(&manager), PLAN, json!({ "id": isp_id })).await;
    assert_eq!(old["data"]["supportPlan"]["status"], "SUPERSEDED", "{old}");
}

const SCHEDULE: &str = "mutation($i: ScheduleMeetingInput!) { scheduleMeeting(input: $i) { meeting { id version status } } }";
const BRIEF: &str = "mutation($i: SubmitMeetingBriefInput!) { submitMeetingBrief(input: $i) { brief { id submittedAt } } }";
const MINUTES: &str = "mutation($i: RecordMeetingMinutesInput!) { recordMeetingMinutes(input: $i) { meeting { status direction previousDirection directionChangeReason } } }";
const MEETING: &str = "query($id: ID!) { meeting(id: $id) { status briefArrivals { organization { name } submittedAt } briefs { organization { name } content { recentChanges { text observationIds } } } minutes { discussion } } }";

fn brief(observation: Option<&str>) -> Value {
    let cites: Vec<&str> = observation.into_iter().collect();
    json!({
        "recentChanges": [{ "text": "前日予告で大声が減った(この1週間0回)。", "observationIds": cites }],
        "unstablePoints": [{ "text": "昼食を半分残す日が3日続いた。" }],
        "focusNextMonth": [{ "text": "食事量を毎日記録する。" }]
    })
}

#[tokio::test]
async fn a_meeting_gathers_briefs_records_minutes_and_keeps_its_direction_honest() {
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let (himawari, _) = app.login("manager@himawari.example").await;
    let (himawari_staff, _) = app.login("staff@himawari.example").await;
    let (komorebi, _) = app.login("manager@komorebi.example").await;
    let yamada = client_id(&app, &specialist, "山田 太郎").await;
    let orgs = app
        .gql(
            Some(&specialist),
            "{ organizations(kind: FACILITY) { nodes { id name } } }",
            json!({}),
        )
        .await;
    let ids: Vec<String> = orgs["data"]["organizations"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    let when = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();

    let bad = app.gql(Some(&specialist), SCHEDULE, json!({ "i": { "clientId": yamada, "kind": "SERVICE_COORDINATION", "scheduledAt": when, "invitedOrganizationIds": ids } })).await;
    assert_error(&bad, "BAD_USER_INPUT"); // neither a place nor online
    assert_error(&app.gql(Some(&himawari_staff), SCHEDULE, json!({ "i": { "clientId": yamada, "kind": "CASE_CONFERENCE", "scheduledAt": when, "online": true } })).await, "FORBIDDEN");
    let m = app.gql(Some(&specialist), SCHEDULE, json!({ "i": { "clientId": yamada, "kind": "SERVICE_COORDINATION", "scheduledAt": when, "place": "相談室", "invitedOrganizationIds": ids, "agenda": "計画の見直し" } })).await;
    let meeting = m["data"]["scheduleMeeting"]["meeting"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Briefs: three parts required, cited observations must be visible, service managers only.
    let obs = app
        .gql(
            Some(&himawari),
            "query($c: ID!) { client(id: $c) { observations(first: 1) { nodes { id } } } }",
            json!({ "c": yamada }),
        )
        .await;
    let cited = obs["data"]["client"]["observations"]["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let partial = json!({ "recentChanges": [{ "text": "変化" }] });
    assert_error(
        &app.gql(
            Some(&himawari),
            BRIEF,
            json!({ "i": { "meetingId": meeting, "content": partial } }),
        )
        .await,
        "BAD_USER_INPUT",
    );
    assert_error(
        &app.gql(
            Some(&himawari_staff),
            BRIEF,
            json!({ "i": { "meetingId": meeting, "content": brief(None) } }),
        )
        .await,
        "FORBIDDEN",
    );
    assert_error(
        &app.gql(
            Some(&himawari),
            BRIEF,
            json!({ "i": { "meetingId": meeting, "content": brief(Some(&yamada)) } }),
        )
        .await,
        "NOT_FOUND",
    );
    let b = app
        .gql(
            Some(&himawari),
            BRIEF,
            json!({ "i": { "meetingId": meeting, "content": brief(Some(&cited)) } }),
        )
        .await;
    assert!(
        b["data"]["submitMeetingBrief"]["brief"]["submittedAt"].is_string(),
        "{b}"
    );

    // The consultation side sees which briefs arrived, and when; こもれび's is still missing.
    let view = app
        .gql(Some(&specialist), MEETING, json!({ "id": meeting }))
        .await;
    let arrivals = view["data"]["meeting"]["briefArrivals"].as_array().unwrap();
    assert!(
        arrivals
            .iter()
            .any(|a| a["organization"]["name"] == "ひまわり作業所" && a["submittedAt"].is_string()),
        "{view}"
    );
    assert!(arrivals.iter().any(
        |a| a["organization"]["name"] == "グループホームこもれび" && a["submittedAt"].is_null()
    ));
    assert_eq!(
        view["data"]["meeting"]["briefs"][0]["content"]["recentChanges"][0]["observationIds"][0],
        cited.as_str()
    );
    // こもれび does not read ひまわり's brief.
    let other = app
        .gql(Some(&komorebi), MEETING, json!({ "id": meeting }))
        .await;
    assert_eq!(other["data"]["meeting"]["briefs"], json!([]), "{other}");

    // Minutes come after the meeting: not before it has taken place.
    let early = app.gql(Some(&specialist), MINUTES, json!({ "i": { "meetingId": meeting, "expectedVersion": 1, "minutes": { "discussion": "x" }, "direction": "x" } })).await;
    assert_error(&early, "BAD_USER_INPUT");
    let moved = app.gql(Some(&specialist), "mutation($i: UpdateMeetingInput!) { updateMeeting(input: $i) { meeting { version } } }",
        json!({ "i": { "meetingId": meeting, "expectedVersion": 1, "scheduledAt": (chrono::Utc::now() - chrono::Duration::minutes(90)).to_rfc3339() } })).await;
    assert_eq!(
        moved["data"]["updateMeeting"]["meeting"]["version"], 2,
        "{moved}"
    );
    // Minutes: the demo's previous meeting set a direction; a different one needs a reason.
    let minutes = |direction: &str, reason: Value, version: i32| {
        json!({ "i": { "meetingId": meeting, "expectedVersion": version,
        "attendance": [{ "affiliation": "本人", "name": "山田 太郎", "attended": true }],
        "minutes": { "discussion": "前日予告の効果を確認した。", "decisions": [{ "text": "食事量を記録", "ownerOrganizationId": ids[0] }] },
        "direction": direction, "directionChangeReason": reason } })
    };
    // An owner must be an organization: a client's id names no organization, a broken id is
    // bad input; neither records anything.
    for (owner, code) in [
        (yamada.as_str(), "NOT_FOUND"),
        ("not-an-id", "BAD_USER_INPUT"),
    ] {
        let mut wrong = minutes("前日予告を続ける", Value::Null, 2);
        wrong["i"]["minutes"]["decisions"][0]["ownerOrganizationId"] = json!(owner);
        assert_error(&app.gql(Some(&specialist), MINUTES, wrong).await, code);
    }
    let unexplained = app
        .gql(
            Some(&specialist),
            MINUTES,
            minutes("一人暮らしの準備を始める", Value::Null, 2),
        )
        .await;
    assert_error(&unexplained, "BAD_USER_INPUT");
    assert_eq!(
        unexplained["errors"][0]["extensions"]["field"],
        "directionChangeReason"
    );
    assert_error(
        &app.gql(Some(&himawari), MINUTES, minutes("x", Value::Null, 2))
            .await,
        "FORBIDDEN",
    );
    let held = app
        .gql(
            Some(&specialist),
            MINUTES,
            minutes(
                "一人暮らしの準備を始める",
                json!("本人が一人暮らしを希望したため"),
                2,
            ),
        )
        .await;
    let h = &held["data"]["recordMeetingMinutes"]["meeting"];
    assert_eq!(h["status"], "HELD", "{held}");
    assert_eq!(
        h["previousDirection"],
        "予定の見通しを持てる支援を両事業所で揃える"
    );
    assert_eq!(h["directionChangeReason"], "本人が一人暮らしを希望したため");
    // Minutes are recorded once, and briefs come before the meeting, not after.
    assert_error(
        &app.gql(
            Some(&specialist),
            MINUTES,
            minutes("見守り", json!("理由"), 3),
        )
        .await,
        "CONFLICT",
    );
    assert_error(
        &app.gql(
            Some(&komorebi),
            BRIEF,
            json!({ "i": { "meetingId": meeting, "content": brief(None) } }),
        )
        .await,
        "CONFLICT",
    );
}

#[tokio::test]
async fn monitoring_reports_are_the_specialists_and_move_the_due_date() {
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let (manager, _) = app.login("manager@himawari.example").await;
    // A client whose 3-monthly cycle started four months ago: the first monitoring (two months
    // ago) was missed.
    let reg = app.gql(Some(&specialist), "mutation { registerClient(input: { displayName: \"試験 花子\", nameKana: \"しけん はなこ\", startDate: \"2020-01-01\" }) { client { id } } }", json!({})).await;
    let client = reg["data"]["registerClient"]["client"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cert = "mutation($i: AddRecipientCertificateInput!) { addRecipientCertificate(input: $i) { recipientCertificate { id } } }";
    let c = app.gql(Some(&specialist), cert, json!({ "i": { "clientId": client, "number": "1300099999", "municipality": "千代田区",
        "validFrom": date(-120), "validUntil": date(240), "monitoringPeriodMonths": 3, "monitoringStartMonth": date(-120) } })).await;
    assert!(c.get("errors").is_none(), "{c}");
    let due = "query($c: ID!) { client(id: $c) { dueItems { kind dueOn overdue } } }";
    let monitoring = |body: &Value| {
        body["data"]["client"]["dueItems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["kind"] == "MONITORING")
            .cloned()
            .unwrap()
    };
    let before = monitoring(
        &app.gql(Some(&specialist), due, json!({ "c": client }))
            .await,
    );
    assert_eq!(before["overdue"], true, "{before}");

    let report = "mutation($i: RecordMonitoringReportInput!) { recordMonitoringReport(input: $i) { monitoringReport { id outcome content { goalRows { clientImpression achievement } } } } }";
    let input = json!({ "i": { "clientId": client, "monitoredOn": date(0), "method": "VISIT", "outcome": "CONTINUE", "content": {
        "overallSituation": "通所は安定。", "changeServiceType": false, "changeAmount": false, "changeWeeklySchedule": false,
        "goalRows": [{ "goal": "定時に通う", "serviceStatusFromFacility": "5日間定時", "clientImpression": "「たのしい」", "achievement": "ACHIEVED" }] } } });
    let yamada = client_id(&app, &specialist, "山田 太郎").await;
    let mut for_yamada = input.clone();
    for_yamada["i"]["clientId"] = json!(yamada);
    assert_error(
        &app.gql(Some(&manager), report, for_yamada).await,
        "FORBIDDEN",
    );
    let r = app.gql(Some(&specialist), report, input).await;
    assert_eq!(
        r["data"]["recordMonitoringReport"]["monitoringReport"]["content"]["goalRows"][0]["clientImpression"],
        "「たのしい」",
        "{r}"
    );
    let after = monitoring(
        &app.gql(Some(&specialist), due, json!({ "c": client }))
            .await,
    );
    assert_eq!(after["overdue"], false, "{after}");
    assert!(
        after["dueOn"].as_str() > before["dueOn"].as_str(),
        "{before} → {after}"
    );
    // The facility reads 山田's reports (consent covers plans), not this client's (not a member).
    let seen = app
        .gql(
            Some(&manager),
            "query($c: ID!) { client(id: $c) { monitoringReports { outcome } } }",
            json!({ "c": yamada }),
        )
        .await;
    assert_eq!(
        seen["data"]["client"]["monitoringReports"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "{seen}"
    );
    assert_error(
        &app.gql(
            Some(&manager),
            "query($c: ID!) { client(id: $c) { monitoringReports { outcome } } }",
            json!({ "c": client }),
        )
        .await,
        "NOT_FOUND",
    );
}

/// For every demo account and every client it sees, the history holds exactly the items the
/// individual fields show.
#[tokio::test]
async fn history_returns_the_same_items_as_the_individual_queries_for_every_demo_account() {
    let app = TestApp::spawn().await;
    let q = "query($c: ID!, $after: String) { client(id: $c) {
      observations(first: 100) { nodes { id } }
      supportPlans { versions { id } }
      meetings { id briefs { id } }
      monitoringReports { id }
      sharingConsents { id revokedOn }
      history(first: 7, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { kind item {
        ... on Observation { id } ... on SupportPlanVersion { id } ... on Meeting { id } ... on MeetingBrief { id }
        ... on MonitoringReport { id } ... on SharingConsent { id } } } } }
    } }";
    for email in [
        "staff@himawari.example",
        "manager@himawari.example",
        "staff@komorebi.example",
        "manager@komorebi.example",
        "specialist@aozora.example",
        "specialist@mirai.example",
    ] {
        let (token, _) = app.login(email).await;
        let kind = app
            .gql(Some(&token), "{ me { organization { kind } } }", json!({}))
            .await;
        let list = if kind["data"]["me"]["organization"]["kind"] == "FACILITY" {
            app.gql(
                Some(&token),
                "{ facility { clients { nodes { id } } } }",
                json!({}),
            )
            .await["data"]["facility"]["clients"]["nodes"]
                .clone()
        } else {
            let c = app
                .gql(
                    Some(&token),
                    "{ consultation { caseload { nodes { client { id } } } } }",
                    json!({}),
                )
                .await;
            Value::Array(
                c["data"]["consultation"]["caseload"]["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n["client"].clone())
                    .collect(),
            )
        };
        for client in list.as_array().unwrap() {
            let id = client["id"].as_str().unwrap();
            let mut expected = BTreeSet::new();
            let mut history = BTreeSet::new();
            let mut after = Value::Null;
            let mut total = None;
            loop {
                let body = app
                    .gql(Some(&token), q, json!({ "c": id, "after": after }))
                    .await;
                assert!(body.get("errors").is_none(), "{email}: {body}");
                let c = &body["data"]["client"];
                if expected.is_empty() {
                    let ids = |v: &Value| {
                        v.as_array()
                            .unwrap()
                            .iter()
                            .map(|n| n["id"].as_str().unwrap().to_owned())
                            .collect::<Vec<_>>()
                    };
                    expected.extend(
                        ids(&c["observations"]["nodes"])
                            .into_iter()
                            .map(|i| ("OBSERVATION", i)),
                    );
                    for p in c["supportPlans"].as_array().unwrap() {
                        expected
                            .extend(ids(&p["versions"]).into_iter().map(|i| ("PLAN_VERSION", i)));
                    }
                    for m in c["meetings"].as_array().unwrap() {
                        expected.insert(("MEETING", m["id"].as_str().unwrap().to_owned()));
                        expected.extend(ids(&m["briefs"]).into_iter().map(|i| ("BRIEF", i)));
                    }
                    expected.extend(
                        ids(&c["monitoringReports"])
                            .into_iter()
                            .map(|i| ("MONITORING_REPORT", i)),
                    );
                    for s in c["sharingConsents"].as_array().unwrap() {
                        expected.insert(("CONSENT_GRANTED", s["id"].as_str().unwrap().to_owned()));
                        if !s["revokedOn"].is_null() {
                            expected
                                .insert(("CONSENT_REVOKED", s["id"].as_str().unwrap().to_owned()));
                        }
                    }
                }
                total.get_or_insert(c["history"]["totalCount"].as_u64().unwrap());
                for e in c["history"]["edges"].as_array().unwrap() {
                    let kind = e["node"]["kind"].as_str().unwrap();
                    let kind: &'static str = Box::leak(kind.to_owned().into_boxed_str());
                    assert!(
                        history
                            .insert((kind, e["node"]["item"]["id"].as_str().unwrap().to_owned())),
                        "{email}: duplicate in history"
                    );
                }
                if c["history"]["pageInfo"]["hasNextPage"] != true {
                    break;
                }
                after = c["history"]["pageInfo"]["endCursor"].clone();
            }
            assert_eq!(history, expected, "{email} / {id}");
            assert_eq!(total, Some(history.len() as u64), "{email} / {id}");
        }
    }
}

/// Who may read and write plans, meetings and reports: one row per (account, operation) over
/// the demo world, each denial next to a success of the same operation.
#[tokio::test]
async fn plan_and_meeting_permission_table() {
    let app = TestApp::spawn().await;
    let mut tokens = std::collections::HashMap::new();
    for email in [
        "staff@himawari.example",
        "manager@himawari.example",
        "manager@komorebi.example",
        "specialist@aozora.example",
        "specialist@mirai.example",
        "admin@aozora.example",
    ] {
        tokens.insert(email, app.login(email).await.0);
    }
    let specialist = &tokens["specialist@aozora.example"];
    let yamada = client_id(&app, specialist, "山田 太郎").await;
    let mori = client_id(&app, specialist, "森 陽介").await;
    let plans = app.gql(Some(specialist), "query($c: ID!) { client(id: $c) { supportPlans { id kind organization { name } } meetings { id status } } }", json!({ "c": yamada })).await;
    let plan_of = |org: &str| {
        plans["data"]["client"]["supportPlans"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["organization"]["name"] == org)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let sup = plan_of("あおぞら相談支援センター");
    let himawari_isp = plan_of("ひまわり作業所");
    let held = plans["data"]["client"]["meetings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["status"] == "HELD")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let read_plan = "query($id: ID!) { supportPlan(id: $id) { id } }";
    let read_node = "query($id: ID!) { node(id: $id) { id } }";
    let minutes_of = "query($id: ID!) { meeting(id: $id) { minutes { discussion } direction } }";
    let schedule = |client: &str| json!({ "i": { "clientId": client, "kind": "CASE_CONFERENCE", "scheduledAt": (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339(), "online": true } });
    let plan_for = |client: &str, kind: &str| json!({ "i": plan_input(client, kind) });
    let report = |client: &str| {
        json!({ "i": { "clientId": client, "monitoredOn": date(0), "method": "PHONE", "outcome": "CONTINUE",
        "content": { "overallSituation": "電話で確認", "changeServiceType": false, "changeAmount": false, "changeWeeklySchedule": false } } })
    };
    let record_report = "mutation($i: RecordMonitoringReportInput!) { recordMonitoringReport(input: $i) { monitoringReport { id } } }";

    // (account, operation, query, variables, expected: None = success, Some(code))
    let rows: Vec<(&str, &str, &str, Value, Option<&str>)> = vec![
        (
            "manager@komorebi.example",
            "read the active service-use plan (consent covers plans)",
            read_plan,
            json!({ "id": sup }),
            None,
        ),
        (
            "staff@himawari.example",
            "read the active service-use plan",
            read_plan,
            json!({ "id": sup }),
            None,
        ),
        (
            "specialist@aozora.example",
            "read ひまわり's delivered individual plan",
            read_plan,
            json!({ "id": himawari_isp }),
            None,
        ),
        (
            "manager@komorebi.example",
            "read ひまわり's individual plan (it goes to the consultation office only)",
            read_plan,
            json!({ "id": himawari_isp }),
            Some("NOT_FOUND"),
        ),
        (
            "specialist@mirai.example",
            "read a plan of a client not on its caseload",
            read_plan,
            json!({ "id": sup }),
            Some("NOT_FOUND"),
        ),
        (
            "manager@komorebi.example",
            "read ひまわり's individual plan through node",
            read_node,
            json!({ "id": himawari_isp }),
            Some("NOT_FOUND"),
        ),
        (
            "specialist@aozora.example",
            "read ひまわり's delivered individual plan through node",
            read_node,
            json!({ "id": himawari_isp }),
            None,
        ),
        (
            "specialist@mirai.example",
            "read another office's client's meeting through node",
            read_node,
            json!({ "id": held }),
            Some("NOT_FOUND"),
        ),
        (
            "manager@komorebi.example",
            "read a meeting of its client through node",
            read_node,
            json!({ "id": held }),
            None,
        ),
        (
            "specialist@aozora.example",
            "write a service-use plan for its client",
            CREATE_PLAN,
            plan_for(&mori, "SERVICE_USE_PLAN"),
            None,
        ),
        (
            "manager@himawari.example",
            "write a service-use plan",
            CREATE_PLAN,
            plan_for(&yamada, "SERVICE_USE_PLAN"),
            Some("FORBIDDEN"),
        ),
        (
            "specialist@mirai.example",
            "write a service-use plan for another office's client",
            CREATE_PLAN,
            plan_for(&yamada, "SERVICE_USE_PLAN"),
            Some("NOT_FOUND"),
        ),
        (
            "specialist@aozora.example",
            "write an individual support plan",
            CREATE_PLAN,
            plan_for(&yamada, "INDIVIDUAL_SUPPORT_PLAN"),
            Some("FORBIDDEN"),
        ),
        (
            "manager@himawari.example",
            "write an individual plan for a client it does not serve",
            CREATE_PLAN,
            plan_for(&mori, "INDIVIDUAL_SUPPORT_PLAN"),
            Some("NOT_FOUND"),
        ),
        (
            "specialist@aozora.example",
            "schedule a case conference",
            SCHEDULE,
            schedule(&yamada),
            None,
        ),
        (
            "staff@himawari.example",
            "schedule a meeting",
            SCHEDULE,
            schedule(&yamada),
            Some("FORBIDDEN"),
        ),
        (
            "manager@himawari.example",
            "schedule a meeting for a client it does not serve",
            SCHEDULE,
            schedule(&mori),
            Some("NOT_FOUND"),
        ),
        (
            "manager@komorebi.example",
            "read the minutes (consent covers meetings)",
            minutes_of,
            json!({ "id": held }),
            None,
        ),
        (
            "specialist@mirai.example",
            "read a meeting of another office's client",
            minutes_of,
            json!({ "id": held }),
            Some("NOT_FOUND"),
        ),
        (
            "specialist@aozora.example",
            "record a monitoring report",
            record_report,
            report(&yamada),
            None,
        ),
        (
            "admin@aozora.example",
            "record a monitoring report (admins are not specialists)",
            record_report,
            report(&yamada),
            Some("FORBIDDEN"),
        ),
        (
            "manager@himawari.example",
            "record a monitoring report",
            record_report,
            report(&yamada),
            Some("FORBIDDEN"),
        ),
        (
            "specialist@mirai.example",
            "record a monitoring report for another office's client",
            record_report,
            report(&yamada),
            Some("NOT_FOUND"),
        ),
    ];
    for (email, what, query, vars, expected) in rows {
        let body = app.gql(Some(&tokens[email]), query, vars).await;
        match expected {
            None => assert!(
                body.get("errors").is_none(),
                "{email} should {what}: {body}"
            ),
            Some(code) => assert_eq!(
                error_code(&body),
                Some(code),
                "{email} must not {what}: {body}"
            ),
        }
        assert_no_internals(&body);
    }

    // Without consent for meetings, a member sees the invitation but not the minutes.
    let m = app.gql(Some(specialist), SCHEDULE, json!({ "i": { "clientId": mori, "kind": "SERVICE_COORDINATION", "scheduledAt": (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339(), "online": true } })).await;
    let id = m["data"]["scheduleMeeting"]["meeting"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let held = app.gql(Some(specialist), MINUTES, json!({ "i": { "meetingId": id, "expectedVersion": 1, "minutes": { "discussion": "あざの経過を共有した" }, "direction": "見守りを強める" } })).await;
    assert!(held.get("errors").is_none(), "{held}");
    let komorebi = app
        .gql(
            Some(&tokens["manager@komorebi.example"]),
            minutes_of,
            json!({ "id": id }),
        )
        .await;
    // こもれび registered 森 but wrote no consent: it is not the host, so the minutes stay hidden.
    assert!(
        komorebi["data"]["meeting"]["minutes"].is_null()
            && komorebi["data"]["meeting"]["direction"].is_null(),
        "{komorebi}"
    );
    let host = app
        .gql(Some(specialist), minutes_of, json!({ "id": id }))
        .await;
    assert_eq!(
        host["data"]["meeting"]["direction"], "見守りを強める",
        "{host}"
    );
}

/// Leaks found in review, kept closed: profile-derived due dates, another host's direction,
/// earlier internal versions of a shared observation, other organizations' record keys.
#[tokio::test]
async fn derived_fields_do_not_leak_what_their_source_hides() {
    let app = TestApp::spawn().await;
    let (manager, _) = app.login("manager@himawari.example").await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let (mirai, _) = app.login("specialist@mirai.example").await;
    let (aozora_admin, _) = app.login("admin@aozora.example").await;
    let sasaki = client_id(&app, &manager, "佐々木 健").await;

    // 1. A certificate is profile data; みらい's consent covers observations only.
    let cert = app.gql(Some(&manager), "mutation($i: AddRecipientCertificateInput!) { addRecipientCertificate(input: $i) { recipientCertificate { id } } }",
        json!({ "i": { "clientId": sasaki, "number": "1300055555", "municipality": "千代田区", "validFrom": date(-30), "validUntil": date(300),
            "monitoringPeriodMonths": 3, "monitoringStartMonth": date(-30),
            "grantedServices": [{ "serviceType": "就労継続支援B型", "amount": 22, "unit": "DAYS_PER_MONTH", "grantFrom": date(-30), "grantUntil": date(300) }] } })).await;
    assert!(cert.get("errors").is_none(), "{cert}");
    let due = "query($c: ID!) { client(id: $c) { profileVisible dueItems { kind } } }";
    let own = app.gql(Some(&manager), due, json!({ "c": sasaki })).await;
    assert!(
        !own["data"]["client"]["dueItems"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{own}"
    );
    let other = app.gql(Some(&mirai), due, json!({ "c": sasaki })).await;
    assert_eq!(other["data"]["client"]["profileVisible"], false);
    assert_eq!(other["data"]["client"]["dueItems"], json!([]), "{other}");

    // 2. みらい's held meeting sets a direction ひまわり may not read (no MEETINGS consent).
    let m = app.gql(Some(&mirai), SCHEDULE, json!({ "i": { "clientId": sasaki, "kind": "SERVICE_COORDINATION", "scheduledAt": (chrono::Utc::now() - chrono::Duration::days(5)).to_rfc3339(), "online": true } })).await;
    let held = m["data"]["scheduleMeeting"]["meeting"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app.gql(Some(&mirai), MINUTES, json!({ "i": { "meetingId": held, "expectedVersion": 1, "minutes": { "discussion": "金銭管理" }, "direction": "成年後見の申立てを検討する(秘)", "directionChangeReason": "金銭の貸し借りが続いたため" } })).await;
    assert!(r.get("errors").is_none(), "{r}");
    let p = app.gql(Some(&manager), SCHEDULE, json!({ "i": { "clientId": sasaki, "kind": "PLANNING", "scheduledAt": (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339(), "place": "相談室" } })).await;
    let planning = p["data"]["scheduleMeeting"]["meeting"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let seen = app
        .gql(
            Some(&manager),
            "query($id: ID!) { meeting(id: $id) { previousDirection } }",
            json!({ "id": planning }),
        )
        .await;
    assert!(
        seen["data"]["meeting"]["previousDirection"].is_null(),
        "{seen}"
    );
    // …nor is it compared against: a different direction needs no reason.
    let own_minutes = app.gql(Some(&manager), MINUTES, json!({ "i": { "meetingId": planning, "expectedVersion": 1, "minutes": { "discussion": "計画作成" }, "direction": "一人暮らしの練習を始める" } })).await;
    assert!(own_minutes.get("errors").is_none(), "{own_minutes}");

    // 3. An observation first written INTERNAL, then shared: the internal text stays internal.
    let rec = app.gql(Some(&staff), "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { observation { id } } }",
        json!({ "i": { "clientId": sasaki, "content": { "fact": "昼食代を貸した", "interpretation": "職員Aとの関係悪化(事業所内限り)", "category": "ROUTINE", "occurredFrom": chrono::Utc::now().to_rfc3339(), "visibility": "INTERNAL" } } })).await;
    let obs = rec["data"]["recordObservation"]["observation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let amended = app.gql(Some(&staff), "mutation($i: AmendObservationInput!) { amendObservation(input: $i) { observation { version } } }",
        json!({ "i": { "observationId": obs, "expectedVersion": 1, "content": { "fact": "昼食代を貸した", "category": "ROUTINE", "occurredFrom": chrono::Utc::now().to_rfc3339(), "visibility": "CARE_TEAM" } } })).await;
    assert_eq!(
        amended["data"]["amendObservation"]["observation"]["version"], 2,
        "{amended}"
    );
    let versions = "query($id: ID!) { node(id: $id) { ... on Observation { versions { version interpretation } } } }";
    let theirs = app.gql(Some(&mirai), versions, json!({ "id": obs })).await;
    assert_eq!(
        theirs["data"]["node"]["versions"],
        json!([{ "version": 2, "interpretation": null }]),
        "{theirs}"
    );
    let ours = app.gql(Some(&staff), versions, json!({ "id": obs })).await;
    assert_eq!(
        ours["data"]["node"]["versions"].as_array().unwrap().len(),
        2
    );

    // 4. Access history names other organizations' actions without their record keys.
    let aozora_client = client_id(&app, &aozora_admin, "山田 太郎").await;
    let history = app.gql(Some(&aozora_admin), "query($c: ID!) { client(id: $c) { accessHistory(first: 100) { nodes { organization { name } recordKeys } } } }", json!({ "c": aozora_client })).await;
    let nodes = history["data"]["client"]["accessHistory"]["nodes"]
        .as_array()
        .unwrap();
    assert!(
        nodes
            .iter()
            .any(|n| n["organization"]["name"] != "あおぞら相談支援センター"),
        "{history}"
    );
    for n in nodes {
        if n["organization"]["name"] != "あおぞら相談支援センター" {
            assert_eq!(n["recordKeys"], json!([]), "{n}");
        }
    }
    assert!(
        nodes
            .iter()
            .any(|n| n["organization"]["name"] == "あおぞら相談支援センター"
                && !n["recordKeys"].as_array().unwrap().is_empty())
    );
}

#[tokio::test]
async fn consent_belongs_to_the_text_it_was_given_for() {
    let app = TestApp::spawn().await;
    let (manager, _) = app.login("manager@himawari.example").await;
    let yamada = client_id(&app, &manager, "山田 太郎").await;
    let created = app
        .gql(
            Some(&manager),
            CREATE_PLAN,
            json!({ "i": plan_input(&yamada, "INDIVIDUAL_SUPPORT_PLAN") }),
        )
        .await;
    let plan = created["data"]["createSupportPlan"]["supportPlan"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.gql(
        Some(&manager),
        TRANSITION,
        json!({ "i": { "planId": plan, "expectedVersion": 1, "transition": "PROPOSE" } }),
    )
    .await;
    let backwards = app.gql(Some(&manager), CONSENT, json!({ "i": { "planId": plan, "expectedVersion": 2, "explainedOn": date(0), "explainedBy": "鈴木", "signedBy": "山田 太郎", "signedOn": date(-1), "method": "署名" } })).await;
    assert_error(&backwards, "BAD_USER_INPUT");
    let signed = app.gql(Some(&manager), CONSENT, json!({ "i": { "planId": plan, "expectedVersion": 2, "explainedOn": date(-2), "explainedBy": "鈴木", "signedBy": "山田 太郎", "signedOn": date(-1), "method": "署名" } })).await;
    assert!(signed.get("errors").is_none(), "{signed}");
    // Activating before the day of consent, or in the future, is refused.
    for day in [date(-5), date(3)] {
        let bad = app.gql(Some(&manager), TRANSITION, json!({ "i": { "planId": plan, "expectedVersion": 3, "transition": "ACTIVATE", "effectiveOn": day } })).await;
        assert_error(&bad, "BAD_USER_INPUT");
    }
    // Revising the text voids the consent: it must be explained and signed again.
    let mut input = plan_input(&yamada, "INDIVIDUAL_SUPPORT_PLAN");
    let revised = app.gql(Some(&manager), "mutation($i: ReviseSupportPlanInput!) { reviseSupportPlan(input: $i) { supportPlan { version record { consentSignedOn } } } }",
        json!({ "i": { "planId": plan, "expectedVersion": 3, "periodFrom": date(0), "content": input["content"].take() } })).await;
    assert!(
        revised["data"]["reviseSupportPlan"]["supportPlan"]["record"]["consentSignedOn"].is_null(),
        "{revised}"
    );
    let activate = app
        .gql(
            Some(&manager),
            TRANSITION,
            json!({ "i": { "planId": plan, "expectedVersion": 4, "transition": "ACTIVATE" } }),
        )
        .await;
    assert_error(&activate, "BAD_USER_INPUT");
}

/// Stored documents hold plain UUIDs, not the API's ids: the migration rewrites a brief written
/// the old way (global ids in `observationIds`), and the rewritten document reads back as the
/// same observations.
#[tokio::test]
async fn the_migration_stores_document_ids_as_uuids() {
    use kakehashi::service::documents::{BriefContent, ObservationRef};
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{
        ConnectionTrait, EntityTrait,
        sea_query::{Alias, Query},
    };

    let db_handle = TestDb::create().await;
    let db = sea_orm::Database::connect(db_handle.url()).await.unwrap();
    Migrator::up(&db, Some(13)).await.unwrap();
    let (cited, other) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let global = |kind: &str, id: uuid::Uuid| kakehashi::graphql::ids::encode(kind, id).0;
    let legacy = json!({
        "recentChanges": [{ "text": "大声0回(この1週間)", "observationIds": [global("Observation", cited)] }],
        "stablePoints": [{ "text": "通所は週5日", "observationIds": [other.to_string()] }],
        "unstablePoints": [],
        "focusNextMonth": []
    });
    let brief_id = uuid::Uuid::now_v7();
    let insert = Query::insert()
        .into_table(Alias::new("meeting_briefs"))
        .columns(
            [
                "id",
                "meeting_id",
                "client_id",
                "organization_id",
                "content",
                "version",
                "submitted_by_staff_member_id",
                "submitted_at",
            ]
            .map(Alias::new),
        )
        .values_panic([
            brief_id.into(),
            uuid::Uuid::now_v7().into(),
            uuid::Uuid::now_v7().into(),
            uuid::Uuid::now_v7().into(),
            legacy.into(),
            1.into(),
            uuid::Uuid::now_v7().into(),
            chrono::Utc::now().into(),
        ])
        .to_owned();
    db.execute(&insert).await.unwrap();

    Migrator::up(&db, None).await.unwrap();
    let stored = entity::meeting_brief::Entity::find_by_id(brief_id)
        .one(&db)
        .await
        .unwrap()
        .unwrap()
        .content;
    assert_eq!(
        stored["recentChanges"][0]["observationIds"],
        json!([cited.to_string()]),
        "a global id becomes the UUID inside it"
    );
    assert_eq!(
        stored["stablePoints"][0]["observationIds"],
        json!([other.to_string()])
    );
    let content: BriefContent = serde_json::from_value(stored).unwrap();
    assert_eq!(
        content.recent_changes[0].observation_ids,
        [ObservationRef(cited)]
    );
    db.close().await.unwrap();
}

/// A stored plan that no longer decodes is reported as an error, never shown as an empty plan,
/// and a write to it is refused rather than saving an empty record over what it held.
#[tokio::test]
async fn a_plan_that_does_not_decode_is_an_error_not_an_empty_plan() {
    use sea_orm::{
        ConnectionTrait, EntityTrait,
        sea_query::{Alias, Expr, ExprTrait, Query},
    };

    let app = TestApp::spawn().await;
    let (manager, _) = app.login("manager@himawari.example").await;
    let yamada = client_id(&app, &manager, "山田 太郎").await;
    let plans = app
        .gql(
            Some(&manager),
            "query($c: ID!) { client(id: $c) { supportPlans { id version kind content { overallPolicy } } } }",
            json!({ "c": yamada }),
        )
        .await;
    let plan = plans["data"]["client"]["supportPlans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "INDIVIDUAL_SUPPORT_PLAN")
        .expect("the demo's individual plan")
        .clone();
    assert!(plan["content"]["overallPolicy"].is_string(), "{plan}");
    let uuid = kakehashi::graphql::ids::decode(
        "SupportPlan",
        "id",
        &async_graphql::ID(plan["id"].as_str().unwrap().to_owned()),
    )
    .unwrap();
    let stored = entity::support_plan::Entity::find_by_id(uuid)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    // A document a later release cannot read (a list where an object belongs).
    for column in ["content", "record"] {
        app.state
            .db
            .execute(
                &Query::update()
                    .table(Alias::new("support_plans"))
                    .value(
                        Alias::new(column),
                        json!({ "goals": "not a list", "deliveries": 3 }),
                    )
                    .and_where(Expr::col(Alias::new("id")).eq(uuid))
                    .to_owned(),
            )
            .await
            .unwrap();
    }
    let read = app
        .gql(
            Some(&manager),
            "query($c: ID!) { client(id: $c) { supportPlans { id content { overallPolicy } record { deliveries { deliveredOn } } } } }",
            json!({ "c": yamada }),
        )
        .await;
    assert_error(&read, "INTERNAL_SERVER_ERROR");
    assert!(
        !read.to_string().contains("decode"),
        "no internal detail leaks: {read}"
    );
    let write = app
        .gql(
            Some(&manager),
            DELIVER,
            json!({ "i": { "planId": plan["id"], "expectedVersion": plan["version"], "recipient": "CLIENT", "deliveredOn": date(0) } }),
        )
        .await;
    assert_error(&write, "INTERNAL_SERVER_ERROR");
    let after = entity::support_plan::Entity::find_by_id(uuid)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        after.record,
        json!({ "goals": "not a list", "deliveries": 3 }),
        "nothing written over it"
    );
    assert_eq!(after.version, stored.version);
}
