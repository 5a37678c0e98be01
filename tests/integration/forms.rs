//! The national forms' fields (DOMAIN.md §3) through the API: the service-use plan's header and
//! its children's variant, the weekly grid, delivery to each provider, the individual plan's
//! goal rows, the monitoring report's visit and confirmation, and a meeting's hours,
//! attendance and enquiries. Each refusal names its field; the guardian (profile data) stays
//! hidden from a viewer without profile access; an export carries the fields and its content
//! is accepted back as input.

use serde_json::{Value, json};

use crate::helpers::*;

fn date(days_from_today: i64) -> String {
    let jst_today = (chrono::Utc::now() + chrono::Duration::hours(9)).date_naive();
    (jst_today + chrono::Duration::days(days_from_today)).to_string()
}

const CREATE_PLAN: &str = "mutation($i: CreateSupportPlanInput!) { createSupportPlan(input: $i) { supportPlan { id version } } }";
const PROPOSE: &str = "mutation($i: TransitionSupportPlanInput!) { transitionSupportPlan(input: $i) { supportPlan { status } } }";
const DELIVER: &str = "mutation($i: RecordSupportPlanDeliveryInput!) { recordSupportPlanDelivery(input: $i) { supportPlan { version record { deliveries { recipient deliveredOn organizationId receivedBy } } } } }";
const PLAN_FORM: &str = "query($id: ID!) { supportPlan(id: $id) { content {
    planAuthor proposalDate supportCategory { category validFrom validUntil }
    childPlan { guardianName guardianRelationship dayServiceCertificateNumber }
    weeklyPlan { slots { weekday startTime endTime activity service } mainActivities nonWeeklyServices }
    goals { text supportContent clientRole staffInCharge frequencyPeriod priority } }
  versions { content { childPlan { guardianName } } } } }";

/// The field a refusal names.
fn field(body: &Value) -> &str {
    body["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or_default()
}

/// A fresh client of あおぞら's specialist, with ひまわり as a provider that has consent for
/// plans and meetings only (not the profile). Returns (client, ひまわり's id, こもれび's id).
async fn client_with_provider(app: &TestApp, specialist: &str) -> (String, String, String) {
    let reg = app.gql(Some(specialist), "mutation { registerClient(input: { displayName: \"佐藤 ひなた\", nameKana: \"さとう ひなた\", startDate: \"2025-04-01\" }) { client { id } } }", json!({})).await;
    let client = reg["data"]["registerClient"]["client"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let orgs = app
        .gql(
            Some(specialist),
            "{ organizations(kind: FACILITY) { nodes { id name } } }",
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
    let (himawari, komorebi) = (org("ひまわり作業所"), org("グループホームこもれび"));
    let add = app.gql(Some(specialist), "mutation($c: ID!, $o: ID!) { addCareTeamMember(input: { clientId: $c, organizationId: $o, relationship: SERVICE_PROVIDER }) { careTeamMember { id } } }",
        json!({ "c": client, "o": himawari })).await;
    assert!(add.get("errors").is_none(), "{add}");
    let consent = app.gql(Some(specialist), "mutation($c: ID!, $d: Date!) { recordSharingConsent(input: { clientId: $c, grantedBy: \"佐藤 恵\", signerRelationship: GUARDIAN, grantedOn: $d, includesEarlierRecords: true, dataCategories: [PLANS, MEETINGS] }) { sharingConsent { id } } }",
        json!({ "c": client, "d": date(0) })).await;
    assert!(consent.get("errors").is_none(), "{consent}");
    (client, himawari, komorebi)
}

fn child_plan_input(client: &str) -> Value {
    json!({ "clientId": client, "kind": "SERVICE_USE_PLAN", "periodFrom": date(0), "periodTo": date(180), "content": {
        "clientWishes": "「ブロックであそびたい」",
        "familyWishes": "母: 小学校に上がる前に、集団に慣れてほしい。",
        "planAuthor": "相談支援専門員 青木 みどり",
        "proposalDate": date(-3),
        "childPlan": { "guardianName": "佐藤 恵", "guardianRelationship": "母", "dayServiceCertificateNumber": "1310000123" },
        "weeklyPlan": {
            "slots": [
                { "weekday": "MONDAY", "startTime": "10:00", "endTime": "14:00", "activity": "児童発達支援", "service": true },
                { "weekday": "WEDNESDAY", "startTime": "10:00", "endTime": "14:00", "activity": "児童発達支援", "service": true },
                { "weekday": "SATURDAY", "startTime": "09:00", "endTime": "11:00", "activity": "公園で母と遊ぶ" }
            ],
            "mainActivities": "平日午前は保育園、午後は自宅で過ごす。",
            "nonWeeklyServices": "保育所等訪問支援 月1回"
        },
        "goals": [{ "text": "友だちと同じ遊びを10分続ける", "expressedBy": "FAMILY", "achievement": "NOT_ASSESSED" }]
    } })
}

#[tokio::test]
async fn a_childrens_service_use_plan_holds_the_forms_fields_and_hides_the_guardian_without_profile_access()
 {
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let (himawari_manager, _) = app.login("manager@himawari.example").await;
    let (client, himawari, komorebi) = client_with_provider(&app, &specialist).await;

    // Refusals name their field.
    let mut no_guardian = child_plan_input(&client);
    no_guardian["content"]["childPlan"] = json!({ "dayServiceCertificateNumber": "1310000123" });
    let body = app
        .gql(Some(&specialist), CREATE_PLAN, json!({ "i": no_guardian }))
        .await;
    assert_error(&body, "BAD_USER_INPUT");
    assert_eq!(field(&body), "content.childPlan.guardianName", "{body}");
    let mut bad_time = child_plan_input(&client);
    bad_time["content"]["weeklyPlan"]["slots"][0]["endTime"] = json!("25:00");
    let body = app
        .gql(Some(&specialist), CREATE_PLAN, json!({ "i": bad_time }))
        .await;
    assert_error(&body, "BAD_USER_INPUT");
    assert_eq!(field(&body), "content.weeklyPlan.slots.endTime", "{body}");
    let mut bad_day = child_plan_input(&client);
    bad_day["content"]["weeklyPlan"]["slots"][0]["weekday"] = json!("GETSUYOU");
    assert_error(
        &app.gql(Some(&specialist), CREATE_PLAN, json!({ "i": bad_day }))
            .await,
        "BAD_USER_INPUT",
    );
    let mut bad_category = child_plan_input(&client);
    bad_category["content"]["supportCategory"] =
        json!({ "category": 3, "validFrom": date(0), "validUntil": date(-1) });
    let body = app
        .gql(Some(&specialist), CREATE_PLAN, json!({ "i": bad_category }))
        .await;
    assert_eq!(field(&body), "content.supportCategory.validUntil", "{body}");

    let created = app
        .gql(
            Some(&specialist),
            CREATE_PLAN,
            json!({ "i": child_plan_input(&client) }),
        )
        .await;
    let plan = created["data"]["createSupportPlan"]["supportPlan"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned();
    let p = app
        .gql(
            Some(&specialist),
            PROPOSE,
            json!({ "i": { "planId": plan, "expectedVersion": 1, "transition": "PROPOSE" } }),
        )
        .await;
    assert_eq!(
        p["data"]["transitionSupportPlan"]["supportPlan"]["status"], "PROPOSED",
        "{p}"
    );

    // The writer sees everything, as entered.
    let own = app
        .gql(Some(&specialist), PLAN_FORM, json!({ "id": plan }))
        .await;
    let c = &own["data"]["supportPlan"]["content"];
    assert_eq!(c["planAuthor"], "相談支援専門員 青木 みどり", "{own}");
    assert_eq!(c["proposalDate"], date(-3));
    assert_eq!(c["childPlan"]["guardianName"], "佐藤 恵");
    assert_eq!(c["childPlan"]["dayServiceCertificateNumber"], "1310000123");
    assert_eq!(c["weeklyPlan"]["slots"][1]["weekday"], "WEDNESDAY");
    assert_eq!(c["weeklyPlan"]["slots"][2]["service"], false);
    assert_eq!(
        c["weeklyPlan"]["nonWeeklyServices"],
        "保育所等訪問支援 月1回"
    );
    // ひまわり may read the proposed plan (consent for plans) but not the client's profile: the
    // guardian and certificate are null, in the plan and in its versions.
    let other = app
        .gql(Some(&himawari_manager), PLAN_FORM, json!({ "id": plan }))
        .await;
    assert!(other.get("errors").is_none(), "{other}");
    let c = &other["data"]["supportPlan"]["content"];
    assert_eq!(c["weeklyPlan"]["slots"][0]["activity"], "児童発達支援");
    assert_eq!(c["childPlan"]["guardianName"], Value::Null, "{other}");
    assert_eq!(c["childPlan"]["guardianRelationship"], Value::Null);
    assert_eq!(c["childPlan"]["dayServiceCertificateNumber"], Value::Null);
    for v in other["data"]["supportPlan"]["versions"].as_array().unwrap() {
        assert_eq!(
            v["content"]["childPlan"]["guardianName"],
            Value::Null,
            "{v}"
        );
    }
    assert!(!other.to_string().contains("佐藤 恵"), "{other}");

    // Delivery to each provider's person in charge (担当者): a provider on the care team only.
    let deliver = |version: i32, recipient: &str, org: Option<&str>| {
        json!({ "i": { "planId": plan, "expectedVersion": version, "recipient": recipient, "deliveredOn": date(0),
            "organizationId": org, "receivedBy": "児童発達支援管理責任者 鈴木" } })
    };
    let body = app
        .gql(
            Some(&specialist),
            DELIVER,
            deliver(2, "SERVICE_PROVIDER", None),
        )
        .await;
    assert_eq!(field(&body), "organizationId", "{body}");
    let body = app
        .gql(
            Some(&specialist),
            DELIVER,
            deliver(2, "SERVICE_PROVIDER", Some(&komorebi)),
        )
        .await;
    assert_error(&body, "BAD_USER_INPUT");
    assert_eq!(field(&body), "organizationId", "{body}");
    let body = app
        .gql(
            Some(&specialist),
            DELIVER,
            deliver(2, "CLIENT", Some(&himawari)),
        )
        .await;
    assert_eq!(field(&body), "organizationId", "{body}");
    let d = app
        .gql(
            Some(&specialist),
            DELIVER,
            deliver(2, "SERVICE_PROVIDER", Some(&himawari)),
        )
        .await;
    let delivered =
        &d["data"]["recordSupportPlanDelivery"]["supportPlan"]["record"]["deliveries"][0];
    assert_eq!(delivered["recipient"], "SERVICE_PROVIDER", "{d}");
    assert_eq!(delivered["organizationId"], himawari.as_str());
    assert_eq!(delivered["receivedBy"], "児童発達支援管理責任者 鈴木");

    // The export carries the fields; its content is accepted back as input (a new draft).
    let export = kakehashi_tools::transfer::export(
        &kakehashi_tools::transfer::Endpoint {
            url: app.url.clone(),
            token: specialist.clone(),
        },
        kakehashi_tools::transfer::ClientSelector::Id(client.clone()),
    )
    .await
    .unwrap();
    let exported = export["supportPlans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == plan.as_str())
        .unwrap()
        .clone();
    let content = &exported["content"];
    assert_eq!(
        content["childPlan"]["guardianName"], "佐藤 恵",
        "{exported}"
    );
    assert_eq!(content["weeklyPlan"]["slots"][0]["startTime"], "10:00");
    assert_eq!(
        exported["record"]["deliveries"][0]["organizationId"],
        himawari.as_str()
    );
    let again = app
        .gql(
            Some(&specialist),
            CREATE_PLAN,
            json!({ "i": { "clientId": client, "kind": "SERVICE_USE_PLAN", "periodFrom": date(0), "content": content } }),
        )
        .await;
    let copy = again["data"]["createSupportPlan"]["supportPlan"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{again}"));
    let copied = app
        .gql(Some(&specialist), PLAN_FORM, json!({ "id": copy }))
        .await;
    assert_eq!(
        copied["data"]["supportPlan"]["content"],
        own["data"]["supportPlan"]["content"]
    );
}

#[tokio::test]
async fn individual_plan_goals_carry_support_content_role_staff_frequency_and_priority() {
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let (manager, _) = app.login("manager@himawari.example").await;
    let (client, _, _) = client_with_provider(&app, &specialist).await;
    let input = |goal: Value, extra: Value| {
        let mut content = json!({ "clientWishes": "「ブロックであそびたい」", "goals": [goal] });
        if let (Some(c), Some(e)) = (content.as_object_mut(), extra.as_object()) {
            c.extend(e.clone());
        }
        json!({ "i": { "clientId": client, "kind": "INDIVIDUAL_SUPPORT_PLAN", "periodFrom": date(0), "periodTo": date(180), "content": content } })
    };
    let goal = json!({ "text": "友だちと同じ遊びを10分続ける", "expressedBy": "FAMILY", "achievement": "NOT_ASSESSED",
        "supportContent": "遊びの始めと終わりを絵カードで示す", "clientRole": "終わりのカードを自分でめくる",
        "staffInCharge": "保育士 田中", "frequencyPeriod": "通所日ごと・6か月", "priority": 1 });
    let mut bad = goal.clone();
    bad["priority"] = json!(100);
    let body = app
        .gql(Some(&manager), CREATE_PLAN, input(bad, json!({})))
        .await;
    assert_eq!(field(&body), "content.goals.priority", "{body}");
    // The weekly grid and the children's header belong to the service-use plan.
    let body = app
        .gql(
            Some(&manager),
            CREATE_PLAN,
            input(goal.clone(), json!({ "weeklyPlan": { "slots": [] } })),
        )
        .await;
    assert_error(&body, "BAD_USER_INPUT");
    assert_eq!(field(&body), "content.weeklyPlan", "{body}");
    let created = app
        .gql(Some(&manager), CREATE_PLAN, input(goal, json!({})))
        .await;
    let plan = created["data"]["createSupportPlan"]["supportPlan"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"));
    let read = app
        .gql(Some(&manager), PLAN_FORM, json!({ "id": plan }))
        .await;
    let g = &read["data"]["supportPlan"]["content"]["goals"][0];
    assert_eq!(
        g["supportContent"], "遊びの始めと終わりを絵カードで示す",
        "{read}"
    );
    assert_eq!(g["clientRole"], "終わりのカードを自分でめくる");
    assert_eq!(g["staffInCharge"], "保育士 田中");
    assert_eq!(g["frequencyPeriod"], "通所日ごと・6か月");
    assert_eq!(g["priority"], 1);
}

const SCHEDULE: &str =
    "mutation($i: ScheduleMeetingInput!) { scheduleMeeting(input: $i) { meeting { id version } } }";
const MINUTES: &str = "mutation($i: RecordMeetingMinutesInput!) { recordMeetingMinutes(input: $i) { meeting { status minutes {
    startedAt endedAt meetingNumber clientAttended clientAbsenceReason familyAttended familyAbsenceReason
    enquiries { addressee organizationId askedOn question answer answeredOn } } } } }";

#[tokio::test]
async fn a_care_meeting_records_its_hours_number_attendance_and_enquiries() {
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let (himawari_manager, _) = app.login("manager@himawari.example").await;
    let (client, himawari, _) = client_with_provider(&app, &specialist).await;
    let start = (chrono::Utc::now() - chrono::Duration::days(2))
        .date_naive()
        .and_hms_opt(5, 0, 0)
        .unwrap()
        .and_utc();
    let m = app.gql(Some(&specialist), SCHEDULE, json!({ "i": { "clientId": client, "kind": "SERVICE_COORDINATION",
        "scheduledAt": start.to_rfc3339(), "place": "相談室", "invitedOrganizationIds": [himawari] } })).await;
    let meeting = m["data"]["scheduleMeeting"]["meeting"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{m}"))
        .to_owned();
    let minutes = |extra: Value| {
        let mut body = json!({ "discussion": "集団での遊びの様子を共有した。", "decisions": [] });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        json!({ "i": { "meetingId": meeting, "expectedVersion": 1,
            "attendance": [{ "affiliation": "家族", "role": "母", "name": "佐藤 恵", "attended": true }],
            "minutes": body, "direction": "集団に慣れる経験を週2回重ねる" } })
    };
    // The end before the (scheduled) start, and the end before a recorded start.
    let body = app
        .gql(
            Some(&specialist),
            MINUTES,
            minutes(json!({ "endedAt": (start - chrono::Duration::minutes(30)).to_rfc3339() })),
        )
        .await;
    assert_error(&body, "BAD_USER_INPUT");
    assert_eq!(field(&body), "minutes.endedAt", "{body}");
    let body = app
        .gql(
            Some(&specialist),
            MINUTES,
            minutes(
                json!({ "startedAt": (start + chrono::Duration::hours(2)).to_rfc3339(),
        "endedAt": (start + chrono::Duration::hours(1)).to_rfc3339() }),
            ),
        )
        .await;
    assert_eq!(field(&body), "minutes.endedAt", "{body}");
    // The client absent without a reason.
    let body = app
        .gql(
            Some(&specialist),
            MINUTES,
            minutes(json!({ "clientAttended": false, "familyAttended": true })),
        )
        .await;
    assert_error(&body, "BAD_USER_INPUT");
    assert_eq!(field(&body), "minutes.clientAbsenceReason", "{body}");
    let body = app
        .gql(
            Some(&specialist),
            MINUTES,
            minutes(
                json!({ "enquiries": [{ "addressee": "ひまわり作業所 児発管 鈴木",
        "askedOn": date(-3), "answeredOn": date(-4) }] }),
            ),
        )
        .await;
    assert_eq!(field(&body), "minutes.enquiries.answeredOn", "{body}");

    let ended = start + chrono::Duration::minutes(50);
    let ok = app.gql(Some(&specialist), MINUTES, minutes(json!({
        "endedAt": ended.to_rfc3339(), "meetingNumber": 2,
        "clientAttended": false, "clientAbsenceReason": "午睡の時間のため。前日に自宅で本人の様子を確認した。", "familyAttended": true,
        "enquiries": [{ "addressee": "ひまわり作業所 児発管 鈴木", "organizationId": himawari, "askedOn": date(-4),
            "question": "集団活動の参加時間", "answer": "現在は5分程度", "answeredOn": date(-3) }] }))).await;
    let recorded = &ok["data"]["recordMeetingMinutes"]["meeting"];
    assert_eq!(recorded["status"], "HELD", "{ok}");
    let mins = &recorded["minutes"];
    assert_eq!(mins["meetingNumber"], 2);
    assert_eq!(mins["clientAttended"], false);
    assert_eq!(mins["familyAttended"], true);
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(mins["endedAt"].as_str().unwrap()).unwrap(),
        ended
    );
    assert_eq!(mins["enquiries"][0]["answer"], "現在は5分程度");
    assert_eq!(mins["enquiries"][0]["organizationId"], himawari.as_str());
    // The invited provider reads the minutes under its consent for meetings.
    let seen = app.gql(Some(&himawari_manager), "query($id: ID!) { meeting(id: $id) { minutes { meetingNumber clientAbsenceReason enquiries { addressee } } } }",
        json!({ "id": meeting })).await;
    assert_eq!(
        seen["data"]["meeting"]["minutes"]["meetingNumber"], 2,
        "{seen}"
    );
}

#[tokio::test]
async fn a_monitoring_report_records_the_visit_row_flags_and_the_clients_confirmation() {
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let (client, _, _) = client_with_provider(&app, &specialist).await;
    let report = "mutation($i: RecordMonitoringReportInput!) { recordMonitoringReport(input: $i) { monitoringReport { content {
        goalRows { priority targetDate changeServiceType changeAmount changeWeeklySchedule otherNotes }
        visit { place placeDetail metWith metClient visitedOn } clientConfirmation { confirmedOn confirmedBy method } } } } }";
    let input = |extra: Value| {
        let mut content = json!({ "overallSituation": "週2回通所できている。", "changeServiceType": false, "changeAmount": true, "changeWeeklySchedule": false,
            "goalRows": [{ "goal": "友だちと同じ遊びを10分続ける", "achievement": "IMPROVING", "priority": 1, "targetDate": date(90),
                "changeAmount": true, "otherNotes": "通院日と重ならないように調整" }] });
        if let (Some(c), Some(e)) = (content.as_object_mut(), extra.as_object()) {
            c.extend(e.clone());
        }
        json!({ "i": { "clientId": client, "monitoredOn": date(0), "method": "VISIT", "outcome": "CONTINUE", "content": content } })
    };
    let body = app
        .gql(
            Some(&specialist),
            report,
            input(json!({ "visit": { "place": "HOME_VISIT", "metWith": [], "metClient": true } })),
        )
        .await;
    assert_error(&body, "BAD_USER_INPUT");
    assert_eq!(field(&body), "content.visit.metWith", "{body}");
    let body = app.gql(Some(&specialist), report, input(json!({ "clientConfirmation": { "confirmedOn": date(3), "confirmedBy": "佐藤 恵" } }))).await;
    assert_eq!(
        field(&body),
        "content.clientConfirmation.confirmedOn",
        "{body}"
    );
    let ok = app.gql(Some(&specialist), report, input(json!({
        "visit": { "place": "HOME_VISIT", "metWith": ["本人", "母"], "metClient": true, "visitedOn": date(0) },
        "clientConfirmation": { "confirmedOn": date(0), "confirmedBy": "佐藤 恵（母）", "method": "署名" } }))).await;
    let c = &ok["data"]["recordMonitoringReport"]["monitoringReport"]["content"];
    assert_eq!(c["visit"]["place"], "HOME_VISIT", "{ok}");
    assert_eq!(c["visit"]["metWith"], json!(["本人", "母"]));
    assert_eq!(c["clientConfirmation"]["confirmedBy"], "佐藤 恵（母）");
    let row = &c["goalRows"][0];
    assert_eq!(row["priority"], 1);
    assert_eq!(row["targetDate"], date(90));
    assert_eq!(row["changeAmount"], true);
    assert_eq!(row["changeServiceType"], false);
    assert_eq!(row["otherNotes"], "通院日と重ならないように調整");
}
