//! Evidence with polarity and briefs held to the product's own rules, end to end: monitoring
//! rows count a goal's target against its threshold with the records behind each count
//! (failures as well as successes, tagged records reaching their goal whatever their words),
//! brief counts count only what happened and split outcomes, drafts mark interpretations and
//! plan from open risks, and `submitMeetingBrief` checks every point. Each test builds its own
//! client, team, consent and records through the API.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};

use crate::helpers::*;

const RECORD: &str =
    "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { observation { id } } }";
const MATERIALS: &str = "query($c: ID!, $f: Date!, $t: Date!) { client(id: $c) { materials(from: $f, to: $t) {
  evidenceOfChange { tag count notOccurredCount summary }
  monitoringRows { goal serviceStatusFromFacility observationIds
    measure { target direction threshold period countsDays summary }
    counts { label count threshold standing summary partialPeriod countedObservations { id } otherObservations { id } }
    evidence { observation { id } occurred label count countsTowardGoal } } } } }";
const DRAFT: &str = "query($m: ID!) { draftMeetingBrief(meetingId: $m) {
  content { recentChanges { text observationIds impression } stablePoints { text observationIds } unstablePoints { text observationIds } focusNextMonth { text observationIds } }
  factFindings { part index point words question } } }";
const SUBMIT: &str =
    "mutation($i: SubmitMeetingBriefInput!) { submitMeetingBrief(input: $i) { brief { id
  content { recentChanges { text impression } stablePoints { text impression } }
  factFindings { part index point impression words question } } } }";

fn jst_today() -> NaiveDate {
    (Utc::now() + Duration::hours(9)).date_naive()
}

/// 10:00 JST on a day.
fn at(day: NaiveDate) -> String {
    let t: DateTime<Utc> = Utc
        .from_utc_datetime(&day.and_hms_opt(1, 0, 0).unwrap())
        .min(Utc::now() - Duration::minutes(5));
    t.to_rfc3339()
}

/// The first and last day of the previous calendar month (JST).
fn previous_month() -> (NaiveDate, NaiveDate) {
    let first_this = jst_today().with_day(1).unwrap();
    let last = first_this - Duration::days(1);
    (last.with_day(1).unwrap(), last)
}

struct Team {
    client: String,
    specialist: String,
    staff: String,
    manager: String,
    komorebi: String,
    himawari_id: String,
}

/// A new client of あおぞら served by ひまわり and こもれび, with consent for `categories`, and a
/// proposed service-use plan with `goals`.
async fn team(app: &TestApp, name: &str, categories: &[&str], goals: &[&str]) -> Team {
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let (manager, _) = app.login("manager@himawari.example").await;
    let (komorebi, _) = app.login("staff@komorebi.example").await;
    let reg = app
        .gql(
            Some(&specialist),
            "mutation($n: String!) { registerClient(input: { displayName: $n, nameKana: \"こんきょ\", startDate: \"2020-01-01\" }) { client { id } } }",
            json!({ "n": name }),
        )
        .await;
    let client = reg["data"]["registerClient"]["client"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{reg}"))
        .to_owned();
    let orgs = app
        .gql(
            Some(&specialist),
            "{ organizations(first: 20) { nodes { id name } } }",
            json!({}),
        )
        .await;
    let org = |n: &str| -> String {
        orgs["data"]["organizations"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == n)
            .unwrap_or_else(|| panic!("{n} in {orgs}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let himawari_id = org("ひまわり作業所");
    for o in [himawari_id.clone(), org("グループホームこもれび")] {
        let add = app
            .gql(
                Some(&specialist),
                "mutation($c: ID!, $o: ID!) { addCareTeamMember(input: { clientId: $c, organizationId: $o, relationship: SERVICE_PROVIDER }) { careTeamMember { id } } }",
                json!({ "c": client, "o": o }),
            )
            .await;
        assert!(add.get("errors").is_none(), "{add}");
    }
    let consent = app
        .gql(
            Some(&specialist),
            "mutation($c: ID!, $n: String!, $d: Date!, $k: [DataCategory!]!) { recordSharingConsent(input: { clientId: $c, grantedBy: $n, signerRelationship: CLIENT, grantedOn: $d, dataCategories: $k }) { sharingConsent { id } } }",
            json!({ "c": client, "n": name, "d": (jst_today() - Duration::days(90)).to_string(), "k": categories }),
        )
        .await;
    assert!(consent.get("errors").is_none(), "{consent}");
    let goals: Vec<Value> = goals
        .iter()
        .map(|g| json!({ "text": g, "expressedBy": "CLIENT", "achievement": "NOT_ASSESSED" }))
        .collect();
    let plan = app
        .gql(
            Some(&specialist),
            "mutation($i: CreateSupportPlanInput!) { createSupportPlan(input: $i) { supportPlan { id } } }",
            json!({ "i": { "clientId": client, "kind": "SERVICE_USE_PLAN", "periodFrom": (jst_today() - Duration::days(60)).to_string(), "periodTo": (jst_today() + Duration::days(300)).to_string(), "content": {
                "clientWishes": "「作業を続けたい」", "overallPolicy": "日中活動と夜間の生活を両事業所で支える。",
                "goals": goals, "needs": [], "monitoringPeriodMonths": 1 } } }),
        )
        .await;
    let plan_id = plan["data"]["createSupportPlan"]["supportPlan"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{plan}"))
        .to_owned();
    let proposed = app
        .gql(
            Some(&specialist),
            "mutation($i: TransitionSupportPlanInput!) { transitionSupportPlan(input: $i) { supportPlan { status } } }",
            json!({ "i": { "planId": plan_id, "expectedVersion": 1, "transition": "PROPOSE" } }),
        )
        .await;
    assert!(proposed.get("errors").is_none(), "{proposed}");
    Team {
        client,
        specialist,
        staff,
        manager,
        komorebi,
        himawari_id,
    }
}

async fn record(
    app: &TestApp,
    token: &str,
    client: &str,
    when: String,
    fact: &str,
    category: &str,
    tags: &[&str],
) -> String {
    let body = app
        .gql(
            Some(token),
            RECORD,
            json!({ "i": { "clientId": client, "content": {
                "fact": fact, "category": category, "occurredFrom": when, "visibility": "CARE_TEAM", "tags": tags } } }),
        )
        .await;
    body["data"]["recordObservation"]["observation"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

fn ids(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|o| {
            o["id"]
                .as_str()
                .unwrap_or_else(|| o.as_str().unwrap())
                .to_owned()
        })
        .collect()
}

fn row<'a>(body: &'a Value, goal: &str) -> &'a Value {
    body["data"]["client"]["materials"]["monitoringRows"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .find(|r| r["goal"] == goal)
        .unwrap_or_else(|| panic!("no row for {goal}: {body}"))
}

#[tokio::test]
async fn a_monitoring_row_counts_the_months_outbursts_against_the_limit_with_the_records_behind_it()
{
    let app = TestApp::spawn().await;
    let outbursts = "大声を月2回以下にする";
    let sleep = "夜間に眠れる日を週5日以上にする";
    let t = team(
        &app,
        "根拠 一郎",
        &["OBSERVATIONS", "PLANS", "MEETINGS"],
        &[outbursts, sleep],
    )
    .await;
    let (first, last) = previous_month();
    let day = |d: u32| first.with_day(d).unwrap();
    let c = &t.client;
    // Four calm days, two outbursts, and another person's outburst.
    let calm1 = record(
        &app,
        &t.staff,
        c,
        at(day(3)),
        "作業中に大声はなかった。",
        "STABLE",
        &["大声"],
    )
    .await;
    let loud1 = record(
        &app,
        &t.staff,
        c,
        at(day(8)),
        "10:15 作業変更を伝えた直後に大声を出し、床に座り込んだ(約5分)。",
        "UNSTABLE",
        &["大声"],
    )
    .await;
    let calm2 = record(
        &app,
        &t.staff,
        c,
        at(day(12)),
        "午前は作業を続け、大声を出すことなく終えた。",
        "STABLE",
        &["大声"],
    )
    .await;
    let other = record(
        &app,
        &t.staff,
        c,
        at(day(19)),
        "昼食時に他の利用者Bさんが大声を出したが、本人は食べ続けた。",
        "ROUTINE",
        &[],
    )
    .await;
    let loud2 = record(
        &app,
        &t.staff,
        c,
        at(day(21)),
        "13:40 送迎の順番が変わり、車内で大声を出した。",
        "UNSTABLE",
        &[],
    )
    .await;
    let calm3 = record(
        &app,
        &t.staff,
        c,
        at(day(25)),
        "大声は見られなかった。",
        "STABLE",
        &["大声"],
    )
    .await;
    let calm4 = record(
        &app,
        &t.staff,
        c,
        at(day(27)),
        "一日を通して大声なし。",
        "STABLE",
        &["大声"],
    )
    .await;
    // The group home's sleep records share no words with the goal.
    let slept1 = record(
        &app,
        &t.komorebi,
        c,
        at(day(8)),
        "22時に就寝し、6時まで目覚めなかった。",
        "ROUTINE",
        &["睡眠"],
    )
    .await;
    let slept2 = record(
        &app,
        &t.komorebi,
        c,
        at(day(9)),
        "23時に就寝、朝まで熟睡。",
        "ROUTINE",
        &["睡眠"],
    )
    .await;
    let woke = record(
        &app,
        &t.komorebi,
        c,
        at(day(10)),
        "2時に目が覚め、その後は朝まで眠れなかった。",
        "UNSTABLE",
        &["睡眠"],
    )
    .await;

    let body = app
        .gql(
            Some(&t.specialist),
            MATERIALS,
            json!({ "c": c, "f": first.to_string(), "t": last.to_string() }),
        )
        .await;
    // The tag's evidence of change counts the tagged outburst, not the four calm days.
    let tagged = body["data"]["client"]["materials"]["evidenceOfChange"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .find(|e| e["tag"] == "大声")
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(tagged["count"], 1, "{tagged}");
    assert_eq!(tagged["notOccurredCount"], 4, "{tagged}");
    assert!(
        tagged["summary"]
            .as_str()
            .unwrap()
            .contains("なしと記録 4件"),
        "{tagged}"
    );
    let r = row(&body, outbursts);
    assert_eq!(r["measure"]["target"], "大声", "{r}");
    assert_eq!(r["measure"]["direction"], "AT_MOST");
    assert_eq!(r["measure"]["threshold"], 2);
    assert_eq!(r["measure"]["period"], "MONTH");
    let counts = r["counts"].as_array().unwrap();
    assert_eq!(counts.len(), 1, "{r}");
    let month = &counts[0];
    let summary = format!("{}月: 大声 2回（目標 月2回以下、上限）", first.month());
    assert_eq!(month["summary"], summary.as_str(), "{r}");
    assert_eq!(month["count"], 2);
    assert_eq!(month["standing"], "AT_LIMIT");
    assert_eq!(month["partialPeriod"], false);
    // Each count names its records: the two outbursts, and apart from them the calm days.
    assert_eq!(
        ids(&month["countedObservations"]),
        BTreeSet::from([loud1.clone(), loud2.clone()])
    );
    assert_eq!(
        ids(&month["otherObservations"]),
        BTreeSet::from([calm1.clone(), calm2.clone(), calm3.clone(), calm4.clone()])
    );
    // The row's text carries the count and both outbursts, not only calm days; another
    // person's outburst is no evidence at all.
    let text = r["serviceStatusFromFacility"].as_str().unwrap();
    assert!(text.contains(&summary), "{text}");
    assert!(
        text.contains("【あり】10:15 作業変更を伝えた直後に大声を出し"),
        "{text}"
    );
    assert!(text.contains("【あり】13:40 送迎の順番が変わり"), "{text}");
    assert!(text.contains("【なし】大声は見られなかった"), "{text}");
    let cited = ids(&r["observationIds"]);
    assert!(cited.contains(&loud1) && cited.contains(&loud2) && cited.contains(&calm1));
    assert!(!cited.contains(&other), "{text}");
    assert!(!cited.contains(&slept1));
    for e in r["evidence"].as_array().unwrap() {
        let id = e["observation"]["id"].as_str().unwrap();
        assert_eq!(
            e["occurred"],
            id == loud1 || id == loud2,
            "polarity of {id}: {e}"
        );
    }

    // The sleep goal is reached by the group home's sleep-tagged records; a night of waking
    // is evidence too, but does not count toward nights slept.
    let s = row(&body, sleep);
    assert_eq!(s["measure"]["target"], "睡眠", "{s}");
    assert_eq!(s["measure"]["period"], "WEEK");
    assert_eq!(s["measure"]["countsDays"], true);
    let judged: Vec<(String, bool, String)> = s["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["observation"]["id"].as_str().unwrap().to_owned(),
                e["countsTowardGoal"].as_bool().unwrap(),
                e["label"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        judged,
        vec![
            (slept1.clone(), true, "眠れた".to_owned()),
            (slept2.clone(), true, "眠れた".to_owned()),
            (woke.clone(), false, "途中で目が覚めた".to_owned()),
        ],
        "{s}"
    );
    let counted: BTreeSet<String> = s["counts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| ids(&c["countedObservations"]))
        .collect();
    assert_eq!(counted, BTreeSet::from([slept1, slept2]));
    assert!(
        s["counts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["standing"] == "NOT_MET"),
        "{s}"
    );

    // Nobody outside the client's team gets evidence.
    let (mirai, _) = app.login("specialist@mirai.example").await;
    assert_error(
        &app.gql(
            Some(&mirai),
            MATERIALS,
            json!({ "c": c, "f": first.to_string(), "t": last.to_string() }),
        )
        .await,
        "NOT_FOUND",
    );
}

#[tokio::test]
async fn without_consent_for_records_the_office_gets_no_evidence_counted() {
    let app = TestApp::spawn().await;
    let goal = "大声を月2回以下にする";
    let t = team(&app, "根拠 二郎", &["PLANS", "MEETINGS"], &[goal]).await;
    let (first, last) = previous_month();
    for d in [5, 9, 14] {
        record(
            &app,
            &t.staff,
            &t.client,
            at(first.with_day(d).unwrap()),
            "作業中に大声を出した。",
            "UNSTABLE",
            &["大声"],
        )
        .await;
    }
    let body = app
        .gql(
            Some(&t.specialist),
            MATERIALS,
            json!({ "c": t.client, "f": first.to_string(), "t": last.to_string() }),
        )
        .await;
    let r = row(&body, goal);
    assert_eq!(r["evidence"], json!([]), "{r}");
    assert_eq!(r["observationIds"], json!([]));
    assert_eq!(r["counts"][0]["count"], 0, "{r}");
    assert_eq!(r["counts"][0]["countedObservations"], json!([]));
}

#[tokio::test]
async fn briefs_count_what_happened_split_outcomes_mark_interpretations_and_plan_from_risks() {
    let app = TestApp::spawn().await;
    let t = team(
        &app,
        "根拠 三郎",
        &["OBSERVATIONS", "PLANS", "MEETINGS"],
        &["昼食を毎日完食する"],
    )
    .await;
    let c = &t.client;
    let ago = |k: i64| (Utc::now() - Duration::days(k)).to_rfc3339();
    let anger = "怒りの表出";
    let a1 = record(
        &app,
        &t.staff,
        c,
        ago(15),
        "作業手順を変えた直後、大声で怒りを表した(約3分)。",
        "UNSTABLE",
        &[anger],
    )
    .await;
    let a2 = record(
        &app,
        &t.staff,
        c,
        ago(12),
        "怒りの表出はなかった。作業は予定どおり終えた。",
        "STABLE",
        &[anger],
    )
    .await;
    let a3 = record(
        &app,
        &t.staff,
        c,
        ago(9),
        "送迎の遅れを伝えると、机をたたいて怒鳴った。",
        "UNSTABLE",
        &[anger],
    )
    .await;
    let a4 = record(
        &app,
        &t.staff,
        c,
        ago(7),
        "一日を通して怒りの表出は見られなかった。",
        "STABLE",
        &[anger],
    )
    .await;
    let meal = "食事";
    let m1 = record(
        &app,
        &t.staff,
        c,
        ago(10),
        "昼食を完食した。",
        "ROUTINE",
        &[meal],
    )
    .await;
    let m2 = record(
        &app,
        &t.staff,
        c,
        ago(8),
        "昼食は残さず食べた。",
        "ROUTINE",
        &[meal],
    )
    .await;
    let m3 = record(
        &app,
        &t.staff,
        c,
        ago(6),
        "12時 昼食を完食。",
        "ROUTINE",
        &[meal],
    )
    .await;
    let r1 = record(
        &app,
        &t.staff,
        c,
        ago(3),
        "昼食を半分残した。",
        "ROUTINE",
        &[meal],
    )
    .await;
    let r2 = record(
        &app,
        &t.staff,
        c,
        ago(2),
        "昼食を食べなかった。「おなかすいてない」と話した。",
        "ROUTINE",
        &[meal],
    )
    .await;
    let r3 = record(
        &app,
        &t.staff,
        c,
        ago(1),
        "昼食は3割程度で残した。",
        "ROUTINE",
        &[meal],
    )
    .await;
    let weight = record(
        &app,
        &t.staff,
        c,
        ago(1),
        "体重測定 48.2kg(前月比 −2.3kg)。",
        "RISK_SIGN",
        &[],
    )
    .await;
    let calm = record(
        &app,
        &t.staff,
        c,
        ago(4),
        "最近は落ち着いて過ごしている。",
        "CHANGE",
        &[],
    )
    .await;

    let scheduled = app
        .gql(
            Some(&t.specialist),
            "mutation($i: ScheduleMeetingInput!) { scheduleMeeting(input: $i) { meeting { id } } }",
            json!({ "i": { "clientId": c, "kind": "SERVICE_COORDINATION", "place": "あおぞら相談支援センター", "scheduledAt": (Utc::now() + Duration::days(3)).to_rfc3339(), "invitedOrganizationIds": [t.himawari_id] } }),
        )
        .await;
    let meeting = scheduled["data"]["scheduleMeeting"]["meeting"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{scheduled}"))
        .to_owned();
    let body = app
        .gql(Some(&t.manager), DRAFT, json!({ "m": meeting }))
        .await;
    let d = &body["data"]["draftMeetingBrief"];
    let changes = d["content"]["recentChanges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    let point = |prefix: &str| -> &Value {
        changes
            .iter()
            .find(|p| p["text"].as_str().unwrap().starts_with(prefix))
            .unwrap_or_else(|| panic!("no point {prefix} in {body}"))
    };
    // Only the records saying anger was shown count as it; the others are a count of their own.
    let shown = point("「怒りの表出」あり 2件");
    assert_eq!(ids(&shown["observationIds"]), BTreeSet::from([a1, a3]));
    let none = point("「怒りの表出」なしと記録 2件");
    assert_eq!(ids(&none["observationIds"]), BTreeSet::from([a2, a4]));
    // Meals are split by outcome.
    assert_eq!(
        ids(&point("「食事」完食 3件")["observationIds"]),
        BTreeSet::from([m1, m2, m3])
    );
    assert_eq!(
        ids(&point("「食事」一部残した 2件")["observationIds"]),
        BTreeSet::from([r1.clone(), r3.clone()])
    );
    assert_eq!(
        ids(&point("「食事」食べなかった 1件")["observationIds"]),
        BTreeSet::from([r2.clone()])
    );
    assert!(
        !changes
            .iter()
            .any(|p| p["text"].as_str().unwrap().contains("4件")
                || p["text"].as_str().unwrap().contains("6件")),
        "{body}"
    );
    // The interpretation filed as a change is marked, and its finding listed.
    let marked = changes
        .iter()
        .find(|p| ids(&p["observationIds"]).contains(&calm))
        .unwrap_or_else(|| panic!("{body}"));
    assert!(
        marked["text"]
            .as_str()
            .unwrap()
            .starts_with("【解釈・要確認】"),
        "{marked}"
    );
    assert!(
        d["factFindings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["part"] == "recentChanges"
                && f["point"] == marked["text"]
                && f["words"].as_str().unwrap().contains("落ち着")),
        "{body}"
    );
    // The next month plans for the reduced meals and the weight loss, citing them, instead of
    // pasting the plan's goal.
    let focus = d["content"]["focusNextMonth"].as_array().unwrap();
    let meals = focus
        .iter()
        .find(|p| p["text"].as_str().unwrap().contains("食事量の低下"))
        .unwrap_or_else(|| panic!("{body}"));
    assert!(
        meals["text"].as_str().unwrap().contains("3日続けて"),
        "{meals}"
    );
    assert_eq!(ids(&meals["observationIds"]), BTreeSet::from([r1, r2, r3]));
    let loss = focus
        .iter()
        .find(|p| p["text"].as_str().unwrap().contains("体重"))
        .unwrap_or_else(|| panic!("{body}"));
    assert!(loss["text"].as_str().unwrap().contains("2.3kg"), "{loss}");
    assert_eq!(ids(&loss["observationIds"]), BTreeSet::from([weight]));
    assert!(
        focus
            .iter()
            .all(|p| !p["text"].as_str().unwrap().ends_with("昼食を毎日完食する")),
        "{body}"
    );

    // The draft submits as it is, and the brief shows what the check found.
    let submitted = app
        .gql(
            Some(&t.manager),
            SUBMIT,
            json!({ "i": { "meetingId": meeting, "content": d["content"] } }),
        )
        .await;
    let findings = &submitted["data"]["submitMeetingBrief"]["brief"]["factFindings"];
    assert!(
        findings
            .as_array()
            .unwrap_or_else(|| panic!("{submitted}"))
            .iter()
            .any(|f| f["part"] == "recentChanges" && f["impression"] == false),
        "{submitted}"
    );

    // A point with no fact at all is refused, naming it; marked as an impression it is kept
    // and shown as one.
    let r1_id = point("「食事」一部残した 2件")["observationIds"][0].clone();
    let empty = |impression: bool| {
        json!({ "meetingId": meeting, "content": {
            "recentChanges": [{ "text": "特変なし。", "impression": impression }],
            "stablePoints": [{ "text": "引き続き様子を見ていく。", "impression": impression }],
            "focusNextMonth": [{ "text": "昼食の摂取量を毎食記録する。", "observationIds": [r1_id] }] } })
    };
    let refused = app
        .gql(Some(&t.manager), SUBMIT, json!({ "i": empty(false) }))
        .await;
    assert_error(&refused, "BAD_USER_INPUT");
    let message = refused["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("特変なし"), "{message}");
    let mut half = empty(false);
    half["content"]["recentChanges"][0]["impression"] = json!(true);
    let refused = app
        .gql(Some(&t.manager), SUBMIT, json!({ "i": half }))
        .await;
    assert_error(&refused, "BAD_USER_INPUT");
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("引き続き様子を見ていく"),
        "{refused}"
    );
    let kept = app
        .gql(Some(&t.manager), SUBMIT, json!({ "i": empty(true) }))
        .await;
    let brief = &kept["data"]["submitMeetingBrief"]["brief"];
    assert_eq!(
        brief["content"]["recentChanges"][0]["impression"], true,
        "{kept}"
    );
    assert!(
        brief["factFindings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["point"] == "特変なし。" && f["impression"] == true),
        "{kept}"
    );
    // The office reads the same findings on the meeting.
    let view = app
        .gql(
            Some(&t.specialist),
            "query($id: ID!) { meeting(id: $id) { briefs { content { stablePoints { text impression } } factFindings { point impression } } } }",
            json!({ "id": meeting }),
        )
        .await;
    assert_eq!(
        view["data"]["meeting"]["briefs"][0]["content"]["stablePoints"][0]["impression"], true,
        "{view}"
    );
    assert!(
        !view["data"]["meeting"]["briefs"][0]["factFindings"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Staff without the manager role, and offices outside the team, can neither draft nor
    // submit.
    assert_error(
        &app.gql(Some(&t.staff), SUBMIT, json!({ "i": empty(true) }))
            .await,
        "FORBIDDEN",
    );
    let (mirai, _) = app.login("specialist@mirai.example").await;
    assert_error(
        &app.gql(Some(&mirai), SUBMIT, json!({ "i": empty(true) }))
            .await,
        "NOT_FOUND",
    );
    assert_error(
        &app.gql(Some(&mirai), DRAFT, json!({ "m": meeting })).await,
        "NOT_FOUND",
    );
}
