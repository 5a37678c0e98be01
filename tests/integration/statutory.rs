//! Statutory records through the API (身体拘束等・事故・ヒヤリハット・苦情): required fields refused
//! with `BAD_USER_INPUT` naming the field, each record shared only under its own consent
//! category, denial for other organizations, non-members and viewers without consent, history
//! entries, live events, and the audit summary (実地指導用の集計).

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::{helpers::*, subscriptions::Raw};

const REGISTER: &str =
    "mutation($i: RegisterClientInput!) { registerClient(input: $i) { client { id } } }";
const ADD: &str = "mutation($i: AddCareTeamMemberInput!) { addCareTeamMember(input: $i) { careTeamMember { id } } }";
const CONSENT: &str = "mutation($i: RecordSharingConsentInput!) { recordSharingConsent(input: $i) { sharingConsent { id } } }";
const RESTRAINT: &str = "mutation($i: RecordRestraintInput!) { recordRestraint(input: $i) { restraintRecord { id version durationMinutes urgency nonSubstitutability temporariness familyExplainedAt recorder { email } organization { name } } } }";
const READ_RESTRAINT: &str =
    "query($id: ID!) { restraintRecord(id: $id) { id form clientCondition durationMinutes } }";
/// The same record through Relay's `node(id:)`, filtered exactly like `restraintRecord`.
const READ_NODE: &str = "query($id: ID!) { node(id: $id) { id ... on RestraintRecord { form } ... on AccidentReport { location accidentKind } ... on ComplaintRecord { details } ... on Organization { kind } } }";
const ACCIDENT: &str = "mutation($i: ReportAccidentInput!) { reportAccident(input: $i) { accidentReport { id accidentKind municipalityReportedAt } } }";
const READ_ACCIDENT: &str = "query($id: ID!) { accidentReport(id: $id) { id location situation } }";
const COMPLAINT: &str = "mutation($i: RecordComplaintInput!) { recordComplaint(input: $i) { complaintRecord { id version open } } }";
const RESOLVE: &str = "mutation($i: ResolveComplaintInput!) { resolveComplaint(input: $i) { complaintRecord { id version open result resolvedOn } } }";
const READ_COMPLAINT: &str = "query($id: ID!) { complaintRecord(id: $id) { id details open } }";
const HISTORY: &str = "query($c: ID!) { client(id: $c) { history(first: 20, kinds: [RESTRAINT, ACCIDENT, COMPLAINT]) { edges { node { kind item { __typename ... on RestraintRecord { id } ... on AccidentReport { id } ... on ComplaintRecord { id } } } } } } }";
const FOLLOW_UP: &str = "mutation($i: FollowUpAccidentReportInput!) { followUpAccidentReport(input: $i) { accidentReport { id version municipalityReportedAt preventionMeasures } } }";
const EXPLAIN: &str = "mutation($i: RecordRestraintFamilyExplanationInput!) { recordRestraintFamilyExplanation(input: $i) { restraintRecord { id version familyExplainedAt } } }";
const MARK: &str = "mutation($i: MarkStatutoryRecordEnteredInErrorInput!) { markStatutoryRecordEnteredInError(input: $i) { record { __typename ... on AccidentReport { recordStatus version enteredInErrorReason } } } }";
const SUMMARY: &str = "query($f: Date!, $t: Date!) { statutorySummary(from: $f, to: $t) { from to restraintCount restraintTotalMinutes restraintsWithAllRequirements restraintsWithoutFamilyExplanation restraintRecordsComplete accidentCount nearMissCount accidentsReportedToMunicipality accidentsWithoutMunicipalReport accidentsWithoutFamilyReport complaintCount openComplaintCount resolvedComplaintCount clients { client { id } restraintCount restraintTotalMinutes accidentCount nearMissCount complaintCount openComplaintCount } } }";

const MANAGER: &str = "manager@himawari.example";
const STAFF: &str = "staff@himawari.example";
const OTHER_FACILITY: &str = "staff@komorebi.example";
const OFFICE: &str = "specialist@aozora.example";
const STRANGER: &str = "specialist@mirai.example";

/// The JST calendar day `days` from today.
fn day(days: i64) -> String {
    ((Utc::now() + Duration::hours(9)).date_naive() + Duration::days(days)).to_string()
}

/// `hours` ago, as RFC 3339.
fn ago(hours: i64) -> String {
    (Utc::now() - Duration::hours(hours)).to_rfc3339()
}

struct World {
    app: TestApp,
    tokens: BTreeMap<&'static str, String>,
    orgs: BTreeMap<String, String>,
    /// A client of ひまわり, with あおぞら as its office and こもれび as a second facility.
    client: String,
}

impl World {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let mut tokens = BTreeMap::new();
        for who in [MANAGER, STAFF, OTHER_FACILITY, OFFICE, STRANGER] {
            tokens.insert(who, app.login(who).await.0);
        }
        let body = app
            .gql(
                Some(&tokens[MANAGER]),
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
        let mut w = Self {
            app,
            tokens,
            orgs,
            client: String::new(),
        };
        let body = w
            .ok(
                MANAGER,
                REGISTER,
                json!({ "i": { "displayName": "記録 花子", "nameKana": "きろく はなこ", "startDate": day(-60) } }),
            )
            .await;
        w.client = body["data"]["registerClient"]["client"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        for (org, relationship) in [
            ("あおぞら", "CONSULTATION"),
            ("こもれび", "SERVICE_PROVIDER"),
        ] {
            w.ok(
                MANAGER,
                ADD,
                json!({ "i": { "clientId": w.client, "organizationId": w.org(org),
                    "relationship": relationship, "startDate": day(-60) } }),
            )
            .await;
        }
        w
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

    /// Consent (signed today, earlier records included) sharing `categories` with `recipients`.
    async fn consent(&self, categories: &[&str], recipients: &[&str]) {
        let recipients: Vec<String> = recipients.iter().map(|r| self.org(r)).collect();
        self.ok(
            MANAGER,
            CONSENT,
            json!({ "i": { "clientId": self.client, "grantedBy": "本人", "signerRelationship": "CLIENT",
                "grantedOn": day(0), "dataCategories": categories, "includesEarlierRecords": true,
                "recipientOrganizationIds": recipients } }),
        )
        .await;
    }

    /// Whether `who` can read the record (`NOT_FOUND` otherwise, never anything else).
    async fn sees(&self, who: &str, query: &str, id: &str) -> bool {
        let body = self.gql(who, query, json!({ "id": id })).await;
        if body.get("errors").is_some() {
            assert_error(&body, "NOT_FOUND");
            false
        } else {
            true
        }
    }

    /// The kinds of statutory history entries `who` sees of the client.
    async fn history(&self, who: &str) -> Vec<String> {
        let body = self.ok(who, HISTORY, json!({ "c": self.client })).await;
        body["data"]["client"]["history"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["kind"].as_str().unwrap().to_owned())
            .collect()
    }
}

fn restraint(client: &str) -> Value {
    json!({
        "clientId": client,
        "form": "車椅子の腰ベルト",
        "startedAt": ago(5),
        "endedAt": (Utc::now() - Duration::hours(5) + Duration::minutes(30)).to_rfc3339(),
        "clientCondition": "10:20 作業変更を伝えた直後に立ち上がりを繰り返し、2回ふらついた。",
        "urgency": "ふらつきがあり転倒・骨折の危険が差し迫っていた。",
        "nonSubstitutability": "職員2名で見守ったが立ち上がりを防げなかった。",
        "temporariness": "落ち着くまでの30分に限り、その後すぐ外した。",
    })
}

/// The field a `BAD_USER_INPUT` error names (in `extensions.field` or, for validation errors,
/// in its message).
#[track_caller]
fn assert_bad_field(body: &Value, field: &str) {
    assert_error(body, "BAD_USER_INPUT");
    let named = body
        .pointer("/errors/0/extensions/field")
        .and_then(Value::as_str)
        == Some(field)
        || body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains(field));
    assert!(named, "the error names {field}: {body}");
}

#[tokio::test]
async fn statutory_restraint_needs_all_three_requirements_and_is_shared_only_under_its_consent() {
    let w = World::new().await;
    // Each requirement missing (blank or left out) is refused, naming it; nothing is stored.
    for field in ["urgency", "nonSubstitutability", "temporariness"] {
        let mut blank = restraint(&w.client);
        blank[field] = json!("   ");
        assert_bad_field(&w.gql(STAFF, RESTRAINT, json!({ "i": blank })).await, field);
        let mut missing = restraint(&w.client);
        missing.as_object_mut().unwrap().remove(field);
        assert_bad_field(
            &w.gql(STAFF, RESTRAINT, json!({ "i": missing })).await,
            field,
        );
    }
    // End before start, a start in the future, half a family explanation.
    let mut backwards = restraint(&w.client);
    backwards["endedAt"] = json!(ago(6));
    assert_bad_field(
        &w.gql(STAFF, RESTRAINT, json!({ "i": backwards })).await,
        "endedAt",
    );
    let mut future = restraint(&w.client);
    future["startedAt"] = json!((Utc::now() + Duration::hours(3)).to_rfc3339());
    assert_bad_field(
        &w.gql(STAFF, RESTRAINT, json!({ "i": future })).await,
        "startedAt",
    );
    let mut half = restraint(&w.client);
    half["familyExplanation"] = json!("母に電話で説明した。");
    assert_bad_field(
        &w.gql(STAFF, RESTRAINT, json!({ "i": half })).await,
        "familyExplanation",
    );
    assert!(w.history(MANAGER).await.is_empty(), "nothing was stored");

    // Who may record: a facility serving the client; not its office, not a stranger.
    assert_error(
        &w.gql(OFFICE, RESTRAINT, json!({ "i": restraint(&w.client) }))
            .await,
        "FORBIDDEN",
    );
    assert_error(
        &w.gql(STRANGER, RESTRAINT, json!({ "i": restraint(&w.client) }))
            .await,
        "NOT_FOUND",
    );

    // The office hears of a record it may see, live.
    let mut office = Raw::ready(&w.app, &w.tokens[OFFICE]).await;
    office
        .subscribe(
            "1",
            "subscription($c: ID!) { clientEvents(clientId: $c) { kind record { __typename ... on RestraintRecord { form } } } }",
            json!({ "c": w.client }),
        )
        .await;
    crate::subscriptions::live_subscribers(&w.app, 1).await;

    let body = w
        .ok(STAFF, RESTRAINT, json!({ "i": restraint(&w.client) }))
        .await;
    let r = &body["data"]["recordRestraint"]["restraintRecord"];
    assert_eq!(r["durationMinutes"], 30);
    assert_eq!(r["version"], 1);
    assert_eq!(r["recorder"]["email"], STAFF);
    assert!(r["familyExplainedAt"].is_null());
    let id = r["id"].as_str().unwrap().to_owned();

    // Without consent only the writing facility sees it: not the office, not the other
    // facility, not a stranger.
    assert!(w.sees(MANAGER, READ_RESTRAINT, &id).await);
    assert!(w.sees(MANAGER, READ_NODE, &id).await);
    for who in [OFFICE, OTHER_FACILITY, STRANGER] {
        assert!(!w.sees(who, READ_RESTRAINT, &id).await, "{who}");
        assert!(!w.sees(who, READ_NODE, &id).await, "{who}");
    }
    assert_eq!(w.history(MANAGER).await, ["RESTRAINT"]);
    assert!(w.history(OFFICE).await.is_empty());

    // A consent for another category does not share it.
    w.consent(&["ACCIDENTS", "OBSERVATIONS"], &["あおぞら"])
        .await;
    assert!(!w.sees(OFFICE, READ_RESTRAINT, &id).await);
    // A consent for RESTRAINTS naming the office does; the other facility is neither named nor
    // reached by CONSULTATION visibility.
    w.consent(&["RESTRAINTS"], &["あおぞら"]).await;
    assert!(w.sees(OFFICE, READ_RESTRAINT, &id).await);
    assert!(w.sees(OFFICE, READ_NODE, &id).await);
    assert!(!w.sees(OTHER_FACILITY, READ_RESTRAINT, &id).await);
    assert!(!w.sees(OTHER_FACILITY, READ_NODE, &id).await);
    assert_eq!(w.history(OFFICE).await, ["RESTRAINT"]);

    // The second record, now shared, arrives as an event with the record; the first, written
    // while the office could not see it, never did (only the consent changes came before).
    let mut second = restraint(&w.client);
    second["form"] = json!("居室の施錠");
    w.ok(STAFF, RESTRAINT, json!({ "i": second })).await;
    let event = loop {
        let event = office.event("clientEvents").await;
        if event["kind"] != "CONSENT_CHANGED" {
            break event;
        }
    };
    assert_eq!(event["kind"], "RESTRAINT_RECORDED", "{event}");
    assert_eq!(event["record"]["__typename"], "RestraintRecord");
    assert_eq!(event["record"]["form"], "居室の施錠");
}

#[tokio::test]
async fn statutory_accidents_and_complaints_are_checked_scoped_and_summed_for_the_audit() {
    let w = World::new().await;
    let accident = |kind: &str, municipal: Option<String>| {
        json!({ "i": {
            "clientId": w.client, "kind": kind, "occurredAt": ago(30), "location": "作業室",
            "situation": "立ち上がる際にふらつき、机の角で右膝を打った。",
            "actionTaken": "看護師が確認し冷却した。受診し打撲と診断。",
            "familyReportedAt": ago(28), "municipalityReportedAt": municipal,
            "preventionMeasures": "机の角にガードを付けた。",
        } })
    };
    // Reports cannot come before the event; a near miss is not reported to the municipality.
    assert_bad_field(
        &w.gql(STAFF, ACCIDENT, accident("ACCIDENT", Some(ago(40))))
            .await,
        "municipalityReportedAt",
    );
    assert_bad_field(
        &w.gql(STAFF, ACCIDENT, accident("NEAR_MISS", Some(ago(20))))
            .await,
        "municipalityReportedAt",
    );
    let mut blank = accident("ACCIDENT", None);
    blank["i"]["situation"] = json!("");
    assert_bad_field(&w.gql(STAFF, ACCIDENT, blank).await, "situation");
    assert_error(
        &w.gql(OFFICE, ACCIDENT, accident("ACCIDENT", None)).await,
        "FORBIDDEN",
    );

    let reported = w
        .ok(STAFF, ACCIDENT, accident("ACCIDENT", Some(ago(20))))
        .await["data"]["reportAccident"]["accidentReport"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let unreported = w.ok(STAFF, ACCIDENT, accident("ACCIDENT", None)).await["data"]
        ["reportAccident"]["accidentReport"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    w.ok(STAFF, ACCIDENT, accident("NEAR_MISS", None)).await;
    let unexplained = w
        .ok(STAFF, RESTRAINT, json!({ "i": restraint(&w.client) }))
        .await["data"]["recordRestraint"]["restraintRecord"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut explained = restraint(&w.client);
    explained["familyExplainedAt"] = json!(ago(1));
    explained["familyExplanation"] = json!("母に電話で、理由と時間を説明した。");
    w.ok(STAFF, RESTRAINT, json!({ "i": explained })).await;

    // Complaints: one resolved, one open.
    let complaint = |content: &str| {
        json!({ "i": { "clientId": w.client, "receivedOn": day(-1), "complainant": "山田 花子",
            "complainantRelationship": "FAMILY", "details": content } })
    };
    assert_bad_field(&w.gql(STAFF, COMPLAINT, complaint(" ")).await, "details");
    let c = w
        .ok(
            STAFF,
            COMPLAINT,
            complaint("送迎の時間が毎回10分以上遅れる。"),
        )
        .await["data"]["recordComplaint"]["complaintRecord"]
        .clone();
    assert_eq!(c["open"], true);
    let cid = c["id"].as_str().unwrap().to_owned();
    w.ok(
        STAFF,
        COMPLAINT,
        complaint("連絡帳の返事がない日が週に2日ある。"),
    )
    .await;
    let resolve = |version: i32, on: String| {
        json!({ "i": { "complaintId": cid, "expectedVersion": version,
            "response": "送迎表を見直し、運転手を1名増やした。", "result": "翌週から遅れなし。家族も了承。",
            "resolvedOn": on } })
    };
    // Another organization cannot even see it; a resolution before receipt is refused.
    assert_error(
        &w.gql(OTHER_FACILITY, RESOLVE, resolve(1, day(0))).await,
        "NOT_FOUND",
    );
    assert_bad_field(
        &w.gql(MANAGER, RESOLVE, resolve(1, day(-3))).await,
        "resolvedOn",
    );
    let done = w.ok(MANAGER, RESOLVE, resolve(1, day(0))).await;
    let done = &done["data"]["resolveComplaint"]["complaintRecord"];
    assert_eq!(done["open"], false);
    assert_eq!(done["version"], 2);
    assert_error(
        &w.gql(MANAGER, RESOLVE, resolve(1, day(0))).await,
        "CONFLICT",
    );

    // Visibility: complaints are INTERNAL by default; accidents need their own consent.
    for who in [OFFICE, OTHER_FACILITY, STRANGER] {
        assert!(!w.sees(who, READ_ACCIDENT, &reported).await, "{who}");
        assert!(!w.sees(who, READ_COMPLAINT, &cid).await, "{who}");
    }
    w.consent(&["ACCIDENTS", "COMPLAINTS"], &["あおぞら"]).await;
    assert!(w.sees(OFFICE, READ_ACCIDENT, &reported).await);
    assert!(w.sees(OFFICE, READ_NODE, &reported).await);
    assert!(!w.sees(OFFICE, READ_COMPLAINT, &cid).await, "INTERNAL");
    assert!(!w.sees(OFFICE, READ_NODE, &cid).await, "INTERNAL");
    assert!(w.sees(MANAGER, READ_NODE, &cid).await);
    assert!(!w.sees(OTHER_FACILITY, READ_ACCIDENT, &reported).await);
    let mut kinds = w.history(MANAGER).await;
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "ACCIDENT",
            "ACCIDENT",
            "ACCIDENT",
            "COMPLAINT",
            "COMPLAINT",
            "RESTRAINT",
            "RESTRAINT"
        ]
    );

    // The audit summary of ひまわり over the last week.
    let period = json!({ "f": day(-7), "t": day(0) });
    let s = w.ok(MANAGER, SUMMARY, period.clone()).await["data"]["statutorySummary"].clone();
    assert_eq!(s["restraintCount"], 2);
    assert_eq!(s["restraintTotalMinutes"], 60);
    assert_eq!(s["restraintsWithAllRequirements"], 2);
    assert_eq!(s["restraintsWithoutFamilyExplanation"], 1);
    assert_eq!(s["restraintRecordsComplete"], false);
    assert_eq!(s["accidentCount"], 2);
    assert_eq!(s["nearMissCount"], 1);
    assert_eq!(s["accidentsReportedToMunicipality"], 1);
    assert_eq!(s["accidentsWithoutMunicipalReport"], 1);
    assert_eq!(s["accidentsWithoutFamilyReport"], 0);
    assert_eq!(s["complaintCount"], 2);
    assert_eq!(s["openComplaintCount"], 1);
    assert_eq!(s["resolvedComplaintCount"], 1);
    let clients = s["clients"].as_array().unwrap();
    assert_eq!(clients.len(), 1, "{s}");
    assert_eq!(clients[0]["client"]["id"], w.client.as_str());
    assert_eq!(clients[0]["restraintTotalMinutes"], 60);
    assert_eq!(clients[0]["accidentCount"], 2);
    assert_eq!(clients[0]["nearMissCount"], 1);
    assert_eq!(clients[0]["openComplaintCount"], 1);
    // A period before the records counts nothing.
    let before = w
        .ok(MANAGER, SUMMARY, json!({ "f": day(-30), "t": day(-10) }))
        .await;
    assert_eq!(before["data"]["statutorySummary"]["restraintCount"], 0);
    assert_eq!(
        before["data"]["statutorySummary"]["restraintRecordsComplete"],
        true
    );
    // Another organization's summary holds only its own records; plain staff get none; the
    // period is bounded.
    let (komorebi, _) = w.app.login("manager@komorebi.example").await;
    let other = w.app.gql(Some(&komorebi), SUMMARY, period.clone()).await;
    assert_eq!(
        other["data"]["statutorySummary"]["accidentCount"], 0,
        "{other}"
    );
    assert_eq!(other["data"]["statutorySummary"]["clients"], json!([]));
    assert_error(&w.gql(STAFF, SUMMARY, period).await, "FORBIDDEN");
    assert_bad_field(
        &w.gql(MANAGER, SUMMARY, json!({ "f": day(-400), "t": day(0) }))
            .await,
        "to",
    );
    assert_bad_field(
        &w.gql(MANAGER, SUMMARY, json!({ "f": day(0), "t": day(-1) }))
            .await,
        "to",
    );

    // Follow-ups complete the records: the municipal report of the second accident and the
    // family explanation of the first restraint. Others cannot add them.
    let follow = |version: i32| {
        json!({ "i": { "accidentId": unreported, "expectedVersion": version,
            "municipalityReportedAt": ago(2), "preventionMeasures": "立ち上がり時に職員が声をかける。" } })
    };
    assert_error(
        &w.gql(OTHER_FACILITY, FOLLOW_UP, follow(1)).await,
        "NOT_FOUND",
    );
    // The office sees the accident under its consent but does not write the facility's report.
    assert_error(&w.gql(OFFICE, FOLLOW_UP, follow(1)).await, "FORBIDDEN");
    assert_bad_field(
        &w.gql(
            STAFF,
            FOLLOW_UP,
            json!({ "i": { "accidentId": unreported, "expectedVersion": 1 } }),
        )
        .await,
        "familyReportedAt",
    );
    let followed = w.ok(STAFF, FOLLOW_UP, follow(1)).await;
    assert_eq!(
        followed["data"]["followUpAccidentReport"]["accidentReport"]["version"],
        2
    );
    assert_error(&w.gql(STAFF, FOLLOW_UP, follow(1)).await, "CONFLICT");
    let explain = |at: String| {
        json!({ "i": { "restraintId": unexplained, "expectedVersion": 1, "explainedAt": at,
            "explanation": "母に面談で、理由・時間・三要件を説明した。" } })
    };
    assert_bad_field(
        &w.gql(MANAGER, EXPLAIN, explain(ago(10))).await,
        "explainedAt",
    );
    assert_error(
        &w.gql(OTHER_FACILITY, EXPLAIN, explain(ago(1))).await,
        "NOT_FOUND",
    );
    w.ok(MANAGER, EXPLAIN, explain(ago(1))).await;
    assert_error(&w.gql(MANAGER, EXPLAIN, explain(ago(1))).await, "CONFLICT");
    let s = w
        .ok(MANAGER, SUMMARY, json!({ "f": day(-7), "t": day(0) }))
        .await["data"]["statutorySummary"]
        .clone();
    assert_eq!(s["restraintRecordsComplete"], true, "{s}");
    assert_eq!(s["restraintsWithoutFamilyExplanation"], 0);
    assert_eq!(s["accidentsReportedToMunicipality"], 2);
    assert_eq!(s["accidentsWithoutMunicipalReport"], 0);

    // A wrong record is marked entered-in-error, never deleted: it keeps its content, leaves the
    // history and the summary, and cannot change any more.
    let mark = |id: &str, version: i32| json!({ "i": { "recordId": id, "expectedVersion": version, "reason": "別の利用者の記録だった。" } });
    assert_error(&w.gql(OFFICE, MARK, mark(&reported, 1)).await, "FORBIDDEN");
    assert_error(
        &w.gql(OTHER_FACILITY, MARK, mark(&reported, 1)).await,
        "NOT_FOUND",
    );
    assert_bad_field(&w.gql(STAFF, MARK, mark(&w.client, 1)).await, "recordId");
    assert_error(&w.gql(STAFF, MARK, mark(&reported, 7)).await, "CONFLICT");
    let marked = w.ok(STAFF, MARK, mark(&reported, 1)).await;
    let record = &marked["data"]["markStatutoryRecordEnteredInError"]["record"];
    assert_eq!(record["__typename"], "AccidentReport");
    assert_eq!(record["recordStatus"], "ENTERED_IN_ERROR");
    assert_eq!(record["version"], 2);
    let follow_marked = json!({ "i": { "accidentId": reported, "expectedVersion": 2,
        "preventionMeasures": "x" } });
    assert_error(&w.gql(STAFF, FOLLOW_UP, follow_marked).await, "CONFLICT");
    let s = w
        .ok(MANAGER, SUMMARY, json!({ "f": day(-7), "t": day(0) }))
        .await["data"]["statutorySummary"]
        .clone();
    assert_eq!(s["accidentCount"], 1, "{s}");
    assert_eq!(s["accidentsReportedToMunicipality"], 1);
    assert_eq!(
        w.history(MANAGER)
            .await
            .iter()
            .filter(|k| *k == "ACCIDENT")
            .count(),
        2
    );
    assert!(w.sees(MANAGER, READ_ACCIDENT, &reported).await, "kept");
}
