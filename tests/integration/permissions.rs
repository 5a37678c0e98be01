//! The role × operation permission table (権限表), on the demo world's two facilities and two
//! consultation offices, with clients made here with and without consent.
//!
//! A record a viewer may not see is `NOT_FOUND` on every path (root fields, `node`, nested
//! lists, counts and connections of both views) and every mutation checks the role. Each denial
//! sits beside the matching success, so an allow-all or a deny-all bug fails. The demo seed may
//! hold clients and observations of its own: assertions are about the records made here, and
//! the views' totals are compared between phases (they may change only by these records).
//! Tables are kept one row per line (`rustfmt::skip`) so they read as tables.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Duration, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::helpers::*;

const HS: &str = "staff@himawari.example";
const HM: &str = "manager@himawari.example";
const HA: &str = "admin@himawari.example";
const KS: &str = "staff@komorebi.example";
const KM: &str = "manager@komorebi.example";
const AS: &str = "specialist@aozora.example";
const AA: &str = "admin@aozora.example";
const MS: &str = "specialist@mirai.example";
const ACCOUNTS: [&str; 8] = [HS, HM, HA, KS, KM, AS, AA, MS];

const HIMAWARI: &str = "ひまわり作業所";
const KOMOREBI: &str = "グループホームこもれび";
const AOZORA: &str = "あおぞら相談支援センター";
const MIRAI: &str = "みらい相談室";

/// Success, or the error code a row expects.
type Want = Result<(), &'static str>;
const OK: Want = Ok(());
const NOT_FOUND: Want = Err("NOT_FOUND");
const FORBIDDEN: Want = Err("FORBIDDEN");
const CONFLICT: Want = Err("CONFLICT");

/// One row of a mutation table: (row, viewer, expected outcome, operation, variables).
type OpRow<'a> = (&'a str, &'static str, Want, &'static str, Value);
/// One viewer's expected reads of a client: the labels of the observations it sees (`None`: the
/// client is `NOT_FOUND` to it) and whether the profile fields are visible.
type ReadRow<'a> = (&'static str, Option<&'a [&'a str]>, bool);
/// Observations made by a test: (label, global id). A label starts with the writer's letter.
type Obs = Vec<(&'static str, String)>;

const REGISTER: &str =
    "mutation($i: RegisterClientInput!) { registerClient(input: $i) { client { id } } }";
const ADD: &str = "mutation($i: AddCareTeamMemberInput!) {
  addCareTeamMember(input: $i) { careTeamMember { id } } }";
const END: &str = "mutation($i: EndCareTeamMembershipInput!) {
  endCareTeamMembership(input: $i) { careTeamMember { current } } }";
const CONSENT: &str = "mutation($i: RecordSharingConsentInput!) {
  recordSharingConsent(input: $i) { sharingConsent { id } } }";
const REVOKE: &str = "mutation($i: RevokeSharingConsentInput!) {
  revokeSharingConsent(input: $i) { sharingConsent { revokedOn } } }";
const RECORD: &str = "mutation($i: RecordObservationInput!) {
  recordObservation(input: $i) { observation { id } } }";
const AMEND: &str = "mutation($i: AmendObservationInput!) {
  amendObservation(input: $i) { observation { version } } }";
const MARK: &str = "mutation($i: MarkObservationEnteredInErrorInput!) {
  markObservationEnteredInError(input: $i) { observation { status } } }";
const REVIEWED: &str =
    "mutation($c: ID!) { markClientReviewed(input: { clientId: $c }) { reviewedAt } }";
const CLIENT: &str =
    "query($id: ID!) { client(id: $id) { displayName viewerMembership profileVisible
  birthDate supportCategory wishes familyContacts { name } recipientCertificates { number }
  observations(first: 100) { totalCount nodes { id } } } }";
const NODE: &str = "query($id: ID!) { node(id: $id) { id } }";
const FACILITY: &str = "{ facility { clients(first: 100) { totalCount nodes { id } }
  recentObservations(first: 100) { totalCount nodes { id } } } }";
const CONSULTATION: &str = "{ consultation {
  caseload(first: 100) { totalCount nodes { newSharedObservationCount client { id } } }
  sharedObservations(first: 100) { totalCount nodes { id } } } }";
const SHARED_OF: &str = "query($c: ID!) { consultation {
  sharedObservations(clientId: $c, first: 100) { totalCount nodes { id } } } }";
const HISTORY: &str = "query($c: ID!) { client(id: $c) {
  accessHistory(first: 100) { totalCount nodes { operation organization { name } } } } }";
const AUDIT: &str =
    "{ auditLog(first: 100) { nodes { operation clientId staffMember { email } } } }";

/// Today in Japan, where membership and consent dates live.
fn today() -> NaiveDate {
    (Utc::now() + Duration::hours(9)).date_naive()
}

fn days_ago(n: i64) -> Option<NaiveDate> {
    Some(today() - Duration::days(n))
}

/// The letter an account's organization puts at the start of its observation labels.
fn letter(who: &str) -> char {
    let domain = who.split('@').nth(1).unwrap();
    domain.chars().next().unwrap().to_ascii_uppercase()
}

fn is_office(who: &str) -> bool {
    who.ends_with("aozora.example") || who.ends_with("mirai.example")
}

/// The string at a JSON pointer.
fn text(v: &Value, pointer: &str) -> String {
    let found = v.pointer(pointer).and_then(Value::as_str);
    found
        .unwrap_or_else(|| panic!("no {pointer} in {v}"))
        .to_owned()
}

/// Ids of a list of nodes (or of caseload entries' clients).
fn ids(list: &Value) -> BTreeSet<String> {
    let id = |n: &Value| {
        let pointer = if n["id"].is_string() {
            "/id"
        } else {
            "/client/id"
        };
        text(n, pointer)
    };
    list.as_array().unwrap().iter().map(id).collect()
}

fn content(fact: &str, category: &str, visibility: &str) -> Value {
    let occurred = (Utc::now() - Duration::hours(1)).to_rfc3339();
    json!({ "fact": fact, "category": category, "visibility": visibility, "occurredFrom": occurred })
}

/// The demo world with every demo account signed in.
struct World {
    app: TestApp,
    tokens: HashMap<&'static str, String>,
    orgs: HashMap<String, String>,
}

impl World {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let mut tokens = HashMap::new();
        for who in ACCOUNTS {
            tokens.insert(who, app.login(who).await.0);
        }
        let q = "{ organizations(first: 10) { nodes { id name } } }";
        let body = app.gql(Some(&tokens[HS]), q, json!({})).await;
        let nodes = body["data"]["organizations"]["nodes"].as_array().unwrap();
        let orgs = nodes.iter().map(|o| (text(o, "/name"), text(o, "/id")));
        let orgs = orgs.collect();
        Self { app, tokens, orgs }
    }

    fn org(&self, name: &str) -> String {
        self.orgs[name].clone()
    }

    /// Runs one row and checks its outcome; the message names the row.
    async fn expect(&self, row: &str, who: &str, want: Want, query: &str, vars: Value) -> Value {
        let body = self.app.gql(Some(&self.tokens[who]), query, vars).await;
        let got = error_code(&body);
        assert_eq!(got, want.err(), "[{row}] {who}: {body}");
        assert_no_internals(&body);
        body
    }

    async fn ok(&self, who: &str, query: &str, vars: Value) -> Value {
        self.expect("expected to succeed", who, OK, query, vars)
            .await
    }

    /// Runs a table of operations in order.
    async fn run(&self, table: Vec<OpRow<'_>>) {
        for (row, who, want, query, vars) in table {
            self.expect(row, who, want, query, vars).await;
        }
    }

    async fn register(&self, who: &str, name: &str, start: Option<NaiveDate>) -> String {
        let contacts = json!([{ "name": "母", "relationship": "母", "phone": "090-0000-0000" }]);
        let i = json!({ "displayName": name, "nameKana": "てすと", "birthDate": "1990-04-01",
            "supportCategory": 3, "wishes": "「ひとりで電車に乗りたい」", "familyContacts": contacts,
            "startDate": start.map(|d| d.to_string()) });
        let body = self.ok(who, REGISTER, json!({ "i": i })).await;
        text(&body, "/data/registerClient/client/id")
    }

    fn add_input(&self, client: &str, org: &str, start: Option<NaiveDate>) -> Value {
        let office = org == AOZORA || org == MIRAI;
        let relationship = if office {
            "CONSULTATION"
        } else {
            "SERVICE_PROVIDER"
        };
        json!({ "i": { "clientId": client, "organizationId": self.org(org),
            "relationship": relationship, "startDate": start.map(|d| d.to_string()) } })
    }

    /// Adds an organization to the care team; returns the membership id.
    async fn add(&self, who: &str, client: &str, org: &str, start: Option<NaiveDate>) -> String {
        let vars = self.add_input(client, org, start);
        let body = self.ok(who, ADD, vars).await;
        text(&body, "/data/addCareTeamMember/careTeamMember/id")
    }

    /// A consent signed today; `recipients: None` names the organizations on the team today.
    /// It includes earlier records: these tests are about categories and recipients, and their
    /// records may have happened (an hour ago) on the day before the members' first day (just
    /// after midnight in Japan); `consent_covers_named_parties_not_the_changing_team` tests the
    /// first-day rule.
    fn consent_input(&self, client: &str, data: &[&str], recipients: Option<&[&str]>) -> Value {
        let recipients = recipients.map(|r| r.iter().map(|o| self.org(o)).collect::<Vec<_>>());
        json!({ "i": { "clientId": client, "grantedBy": "本人", "signerRelationship": "CLIENT",
            "grantedOn": today().to_string(), "dataCategories": data,
            "recipientOrganizationIds": recipients, "includesEarlierRecords": true } })
    }

    async fn consent(&self, who: &str, c: &str, data: &[&str], to: Option<&[&str]>) -> String {
        let vars = self.consent_input(c, data, to);
        let body = self.ok(who, CONSENT, vars).await;
        text(&body, "/data/recordSharingConsent/sharingConsent/id")
    }

    /// Records observations given as (writer, label, category, visibility).
    async fn records(&self, c: &str, rows: &[(&str, &'static str, &str, &str)]) -> Obs {
        let mut obs = Vec::new();
        for &(who, label, category, visibility) in rows {
            let fact = format!("{label}: 10時に来所し、作業を90分続けた。");
            let content = content(&fact, category, visibility);
            let vars = json!({ "i": { "clientId": c, "content": content } });
            let body = self.expect(label, who, OK, RECORD, vars).await;
            obs.push((label, text(&body, "/data/recordObservation/observation/id")));
        }
        obs
    }

    /// Checks every read path of `client` against the rows. Returns each viewer's view totals
    /// minus this client's share of them, which must not change from phase to phase.
    async fn check_reads(
        &self,
        phase: &str,
        client: &str,
        obs: &Obs,
        rows: &[ReadRow<'_>],
    ) -> BTreeMap<&'static str, (i64, i64)> {
        let fixture: BTreeSet<String> = obs.iter().map(|(_, id)| id.clone()).collect();
        let mut totals = BTreeMap::new();
        for &(who, sees, profile) in rows {
            let row = format!("{phase} / {who}");
            let exists = found(sees.is_some());
            let labels = sees.unwrap_or_default();
            let pick = |shared_only: bool| -> BTreeSet<String> {
                let own = |l: &str| l.starts_with(letter(who));
                let seen = obs.iter().filter(|(l, _)| labels.contains(l));
                let seen = seen.filter(|(l, _)| !(shared_only && own(l)));
                seen.map(|(_, id)| id.clone()).collect()
            };
            let (want, shared) = (pick(false), pick(true));

            // The root field, the client's own connection and its profile fields.
            let vars = json!({ "id": client });
            let body = self.expect(&row, who, exists, CLIENT, vars).await;
            let c = &body["data"]["client"];
            let current = sees.is_some() && c["viewerMembership"] != "FORMER";
            if sees.is_some() {
                let what = format!("{row}: client.observations");
                assert_list(&c["observations"], &want, &what);
                assert_eq!(c["profileVisible"], profile, "[{row}] profileVisible");
                for f in ["birthDate", "supportCategory", "wishes"] {
                    assert_eq!(!c[f].is_null(), profile, "[{row}] {f}: {c}");
                }
                for f in ["familyContacts", "recipientCertificates"] {
                    assert_eq!(!c[f].is_null(), profile, "[{row}] {f}: {c}");
                }
            }
            // node(id) of the client and of each observation.
            let vars = json!({ "id": client });
            let node_row = format!("{row} / node(client)");
            self.expect(&node_row, who, exists, NODE, vars).await;
            for (label, id) in obs {
                let (node_row, vars) = (format!("{row} / node({label})"), json!({ "id": id }));
                let want = found(labels.contains(label));
                self.expect(&node_row, who, want, NODE, vars).await;
            }
            // The view of the viewer's organization kind: its client list and observation list.
            let (view, keys, in_view) = if is_office(who) {
                let mut body = self.expect(&row, who, OK, CONSULTATION, json!({})).await;
                let view = &body["data"]["consultation"];
                let entries = view["caseload"]["nodes"].as_array().unwrap();
                if let Some(e) = entries.iter().find(|e| e["client"]["id"] == client) {
                    let count = &e["newSharedObservationCount"];
                    assert_eq!(count, &json!(shared.len()), "[{row}] caseload count");
                }
                let vars = json!({ "c": client });
                let of = self.expect(&row, who, exists, SHARED_OF, vars).await;
                if sees.is_some() {
                    let want = if current { shared.clone() } else { none() };
                    let list = &of["data"]["consultation"]["sharedObservations"];
                    assert_list(list, &want, &format!("{row}: sharedObservations(clientId)"));
                }
                let view = body["data"]["consultation"].take();
                (view, ("caseload", "sharedObservations"), shared)
            } else {
                let mut body = self.expect(&row, who, OK, FACILITY, json!({})).await;
                let view = body["data"]["facility"].take();
                (view, ("clients", "recentObservations"), want)
            };
            let (list, items) = (&view[keys.0], &view[keys.1]);
            let listed = ids(&list["nodes"]).contains(client);
            assert_eq!(listed, current, "[{row}] client listed in {}", keys.0);
            let seen: BTreeSet<String> = ids(&items["nodes"])
                .intersection(&fixture)
                .cloned()
                .collect();
            let expected = if current { in_view } else { none() };
            assert_eq!(seen, expected, "[{row}] observations in {}", keys.1);
            let total = |v: &Value| v["totalCount"].as_i64().unwrap();
            let count = i64::try_from(expected.len()).unwrap();
            totals.insert(who, (total(list) - i64::from(listed), total(items) - count));
        }
        totals
    }
}

fn none() -> BTreeSet<String> {
    BTreeSet::new()
}

/// Success when `yes`, otherwise `NOT_FOUND`.
fn found(yes: bool) -> Want {
    if yes { OK } else { NOT_FOUND }
}

/// Asserts a connection holds exactly `want` (ids) and counts them.
fn assert_list(list: &Value, want: &BTreeSet<String>, what: &str) {
    assert_eq!(&ids(&list["nodes"]), want, "[{what}] nodes");
    assert_eq!(list["totalCount"], want.len(), "[{what}] totalCount");
}

/// Asserts the views' totals changed only by the fixture's records between two phases.
fn assert_same_totals(a: &BTreeMap<&str, (i64, i64)>, b: &BTreeMap<&str, (i64, i64)>) {
    for (who, totals) in a.iter().filter(|(who, _)| b.contains_key(*who)) {
        assert_eq!(
            totals, &b[who],
            "{who}: view totals changed by other records"
        );
    }
}

#[tokio::test]
async fn a_client_exists_only_for_its_care_team_on_every_read_path() {
    let w = World::new().await;
    // One client known to one organization each: two facilities and a consultation office.
    let mut fixtures = Vec::new();
    #[rustfmt::skip]
    let owners = [(HM, HS, "越境テスト ひまわり", "H_CARE_TEAM"), (KM, KS, "越境テスト こもれび", "K_CARE_TEAM"),
        (AS, AS, "越境テスト あおぞら", "A_CARE_TEAM")];
    for (coordinator, writer, name, label) in owners {
        let c = w.register(coordinator, name, None).await;
        let obs = [(writer, label, "ROUTINE", "CARE_TEAM")];
        let obs = w.records(&c, &obs).await;
        fixtures.push((c, obs));
    }
    for (client, obs) in &fixtures {
        let labels = [obs[0].0];
        let owner = labels[0].chars().next().unwrap();
        let own = |who: &str| letter(who) == owner;
        let rows = [HS, HM, KS, KM, AS, AA, MS]
            .map(|who| (who, own(who).then_some(&labels[..]), own(who)));
        let phase = format!("only {owner}");
        w.check_reads(&phase, client, obs, &rows).await;
    }
    let [x, y, z] = [0, 1, 2].map(|i| fixtures[i].0.clone());
    // Writes through a client id you cannot see are NOT_FOUND as well.
    let note = content("9時に来所した。", "ROUTINE", "CARE_TEAM");
    let record = |c: &str| json!({ "i": { "clientId": c, "content": note } });
    #[rustfmt::skip]
    let table = vec![
        ("review another facility's client", KS, NOT_FOUND, REVIEWED, json!({ "c": x })),
        ("review own client",                HS, OK,        REVIEWED, json!({ "c": x })),
        ("record for another's client",      HS, NOT_FOUND, RECORD,   record(&y)),
        ("record for own client",            KS, OK,        RECORD,   record(&y)),
        ("record for an office's client",    MS, NOT_FOUND, RECORD,   record(&z)),
        ("record for own client",            AS, OK,        RECORD,   record(&z)),
    ];
    w.run(table).await;
}

#[tokio::test]
async fn consent_decides_what_other_members_see_and_revocation_takes_it_back_at_once() {
    let w = World::new().await;
    let c = w.register(HM, "同意テスト 花子", None).await;
    w.add(HM, &c, KOMOREBI, None).await;
    w.add(HM, &c, AOZORA, None).await;
    #[rustfmt::skip]
    let obs = w.records(&c, &[
        (HS, "H_CARE_TEAM",    "ROUTINE",  "CARE_TEAM"),
        (HS, "H_CONSULTATION", "CHANGE",   "CONSULTATION"),
        (HS, "H_INTERNAL",     "UNSTABLE", "INTERNAL"),
        (KS, "K_CARE_TEAM",    "STABLE",   "CARE_TEAM"),
        (KS, "K_INTERNAL",     "ROUTINE",  "INTERNAL"),
    ]).await;
    let h_own: &[&str] = &["H_CARE_TEAM", "H_CONSULTATION", "H_INTERNAL"];
    let k_own: &[&str] = &["K_CARE_TEAM", "K_INTERNAL"];
    let to_office: &[&str] = &["H_CARE_TEAM", "H_CONSULTATION", "K_CARE_TEAM"];
    // Without consent every member sees the name, its own records and no profile (except the
    // registering facility); the other office does not know the client at all.
    #[rustfmt::skip]
    let no_consent = [(HS, Some(h_own), true), (HM, Some(h_own), true), (KS, Some(k_own), false),
        (AS, Some(&[][..]), false), (MS, None, false)];
    let base = w.check_reads("no consent", &c, &obs, &no_consent).await;

    let observations = w.consent(HM, &c, &["OBSERVATIONS"], None).await;
    w.consent(HM, &c, &["PROFILE"], Some(&[AOZORA])).await;
    #[rustfmt::skip]
    let consented = [
        (HS, Some(&["H_CARE_TEAM", "H_CONSULTATION", "H_INTERNAL", "K_CARE_TEAM"][..]), true),
        (KS, Some(&["K_CARE_TEAM", "K_INTERNAL", "H_CARE_TEAM"][..]), false),
        (AS, Some(to_office), true),
        (MS, None, false),
    ];
    let with_consent = w.check_reads("consent", &c, &obs, &consented).await;
    assert_same_totals(&with_consent, &base);

    // Revoking the observations consent hides them at once; the profile consent still holds.
    let revoke = json!({ "i": { "sharingConsentId": observations, "note": "本人の申し出" } });
    #[rustfmt::skip]
    let table = vec![
        ("non-member revokes",     MS, NOT_FOUND, REVOKE, revoke.clone()),
        ("facility staff revokes", KS, FORBIDDEN, REVOKE, revoke.clone()),
        ("office revokes",         AS, OK,        REVOKE, revoke.clone()),
        ("revoked twice",          HM, CONFLICT,  REVOKE, revoke),
    ];
    w.run(table).await;
    #[rustfmt::skip]
    let revoked = [(HS, Some(h_own), true), (KS, Some(k_own), false), (AS, Some(&[][..]), true),
        (MS, None, false)];
    assert_same_totals(&w.check_reads("revoked", &c, &obs, &revoked).await, &base);

    // A consent naming only the office reaches the office, not the other facility.
    w.consent(HM, &c, &["OBSERVATIONS"], Some(&[AOZORA])).await;
    #[rustfmt::skip]
    let named = [(HS, Some(h_own), true), (KS, Some(k_own), false), (AS, Some(to_office), true),
        (MS, None, false)];
    assert_same_totals(&w.check_reads("named", &c, &obs, &named).await, &base);
}

#[tokio::test]
async fn a_former_member_keeps_only_its_own_records() {
    let w = World::new().await;
    let c = w.register(HM, "終了テスト 次郎", days_ago(30)).await;
    let komorebi = w.add(HM, &c, KOMOREBI, days_ago(30)).await;
    let aozora = w.add(HM, &c, AOZORA, days_ago(30)).await;
    w.consent(HM, &c, &["OBSERVATIONS", "PROFILE"], None).await;
    #[rustfmt::skip]
    let obs = w.records(&c, &[
        (HS, "H_CARE_TEAM", "ROUTINE", "CARE_TEAM"),
        (KS, "K_CARE_TEAM", "ROUTINE", "CARE_TEAM"),
        (KS, "K_INTERNAL",  "ROUTINE", "INTERNAL"),
        (AS, "A_CARE_TEAM", "CHANGE",  "CARE_TEAM"),
    ]).await;
    let shared: &[&str] = &["H_CARE_TEAM", "K_CARE_TEAM", "A_CARE_TEAM"];
    #[rustfmt::skip]
    let members = [
        (HS, Some(shared), true),
        (KS, Some(&["H_CARE_TEAM", "K_CARE_TEAM", "K_INTERNAL", "A_CARE_TEAM"][..]), true),
        (AS, Some(shared), true),
        (MS, None, false),
    ];
    let before = w.check_reads("member", &c, &obs, &members).await;

    let yesterday = today() - Duration::days(1);
    let end =
        |id: &str| json!({ "i": { "careTeamMemberId": id, "endDate": yesterday.to_string() } });
    #[rustfmt::skip]
    let table = vec![
        ("facility staff ends a membership", HS, FORBIDDEN, END, end(&komorebi)),
        ("non-member ends a membership",     MS, NOT_FOUND, END, end(&komorebi)),
        ("manager ends komorebi",            HM, OK,        END, end(&komorebi)),
        ("manager ends aozora",              HM, OK,        END, end(&aozora)),
        ("ended twice",                      HM, CONFLICT,  END, end(&komorebi)),
    ];
    w.run(table).await;
    // Former members keep their own records and nothing else; the remaining member still sees
    // what they shared while on the team.
    #[rustfmt::skip]
    let former = [(HS, Some(shared), true), (KS, Some(&["K_CARE_TEAM", "K_INTERNAL"][..]), false),
        (AS, Some(&["A_CARE_TEAM"][..]), false), (MS, None, false)];
    assert_same_totals(&w.check_reads("former", &c, &obs, &former).await, &before);
    for who in [KS, AS] {
        let body = w.ok(who, CLIENT, json!({ "id": c })).await;
        let membership = &body["data"]["client"]["viewerMembership"];
        assert_eq!(membership, "FORMER", "{who}: {body}");
    }

    let note = content("9時に来所した。", "ROUTINE", "CARE_TEAM");
    let record = json!({ "i": { "clientId": c, "content": note } });
    let amend =
        json!({ "i": { "observationId": obs[1].1, "expectedVersion": 1, "content": note } });
    let invite = w.add_input(&c, MIRAI, None);
    let consent = w.consent_input(&c, &["OBSERVATIONS"], None);
    let history = json!({ "c": c });
    #[rustfmt::skip]
    let table = vec![
        ("former member records",              KS, FORBIDDEN, RECORD,  record.clone()),
        ("current member records",             HS, OK,        RECORD,  record),
        ("former author amends own record",    KS, FORBIDDEN, AMEND,   amend),
        ("former coordinator invites",         KM, FORBIDDEN, ADD,     invite.clone()),
        ("former coordinator records consent", KM, FORBIDDEN, CONSENT, consent.clone()),
        ("former member's admin: history",     AA, FORBIDDEN, HISTORY, history.clone()),
        ("current member's admin: history",    HA, OK,        HISTORY, history),
        ("current coordinator records consent", HM, OK,       CONSENT, consent),
        ("current coordinator invites",        HM, OK,        ADD,     invite),
    ];
    w.run(table).await;
}

#[tokio::test]
async fn escalation_through_mutation_input_is_refused() {
    let w = World::new().await;
    let d = w.register(HM, "権限テスト 三郎", None).await;
    let aozora = w.add(HM, &d, AOZORA, None).await;
    let consent = w.consent(HM, &d, &["OBSERVATIONS"], None).await;
    let e = w.register(KM, "権限テスト こもれび", None).await;
    let ke = w.records(&e, &[(KS, "K_CARE_TEAM", "ROUTINE", "CARE_TEAM")]);
    let ke = &ke.await[0].1;
    #[rustfmt::skip]
    let obs = w.records(&d, &[
        (HS, "H_CARE_TEAM",  "ROUTINE", "CARE_TEAM"),
        (HS, "H_INTERNAL",   "ROUTINE", "INTERNAL"),
        (HM, "H_BY_MANAGER", "ROUTINE", "CARE_TEAM"),
    ]).await;
    let (hd, internal, by_manager) = (&obs[0].1, &obs[1].1, &obs[2].1);
    // An observation id that exists nowhere.
    let ghost = format!("Observation:{}", uuid::Uuid::new_v4());
    let ghost = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, ghost);

    let note = content("訂正: 10時に来所した。", "ROUTINE", "CARE_TEAM");
    let record = |c: &str, cited: &[&str]| {
        let mut input = note.clone();
        input["citedObservationIds"] = json!(cited);
        json!({ "i": { "clientId": c, "content": input } })
    };
    let amend = |o: &str, v: i32| json!({ "i": { "observationId": o, "expectedVersion": v, "content": note } });
    let mark = |o: &str, v: i32| json!({ "i": { "observationId": o, "expectedVersion": v, "reason": "別の利用者の記録" } });
    let add = |c: &str, org: &str, relationship: &str| json!({ "i": { "clientId": c, "organizationId": w.org(org), "relationship": relationship } });
    let (provider, consultation) = ("SERVICE_PROVIDER", "CONSULTATION");
    let revoke = json!({ "i": { "sharingConsentId": consent } });
    let end = json!({ "i": { "careTeamMemberId": aozora } });
    let profile = w.consent_input(&d, &["PROFILE"], None);
    let to_komorebi = w.consent_input(&d, &["OBSERVATIONS"], Some(&[KOMOREBI]));
    let new_client = |name: &str| json!({ "i": { "displayName": name, "nameKana": "てすと" } });
    let himawari = w.org(HIMAWARI);
    #[rustfmt::skip]
    let table = vec![
        // Ids of the wrong type, or of records out of reach.
        ("client id as an observation id",    HM, NOT_FOUND, AMEND,    amend(&d, 1)),
        ("organization id as a client id",    HM, NOT_FOUND, RECORD,   record(&himawari, &[])),
        ("observation id as a client id",     HM, NOT_FOUND, ADD,      add(hd, KOMOREBI, provider)),
        // Citing an unseen record answers exactly like citing one that does not exist.
        ("cite another facility's record",    HS, Err("BAD_USER_INPUT"), RECORD, record(&d, &[ke])),
        ("cite a record that does not exist", HS, Err("BAD_USER_INPUT"), RECORD, record(&d, &[&ghost])),
        ("cite an INTERNAL record (office)",  AS, Err("BAD_USER_INPUT"), RECORD, record(&d, &[internal])),
        ("cite a record of the same client",  HS, OK,        RECORD,   record(&d, &[hd])),
        // The care team: coordinators of a current member only, never adding themselves.
        ("add own organization",              HM, FORBIDDEN, ADD,      add(&d, HIMAWARI, provider)),
        ("add self to another's client",      HM, NOT_FOUND, ADD,      add(&e, HIMAWARI, provider)),
        ("facility staff adds a member",      HS, FORBIDDEN, ADD,      add(&d, KOMOREBI, provider)),
        ("relationship must fit the kind",    HM, Err("BAD_USER_INPUT"), ADD, add(&d, KOMOREBI, consultation)),
        ("manager adds a member",             HM, OK,        ADD,      add(&d, KOMOREBI, provider)),
        // Adding it widened no consent: the record it could not see stays out of reach …
        ("new member amends before consent",  KS, NOT_FOUND, AMEND,    amend(hd, 1)),
        // … until a consent names it.
        ("consent naming the new member",     HM, OK,        CONSENT,  to_komorebi),
        ("facility staff ends a membership",  HS, FORBIDDEN, END,      end.clone()),
        ("non-member ends a membership",      MS, NOT_FOUND, END,      end),
        // Consents.
        ("facility staff records consent",    HS, FORBIDDEN, CONSENT,  profile.clone()),
        ("non-member records consent",        MS, NOT_FOUND, CONSENT,  profile.clone()),
        ("admin records consent",             HA, OK,        CONSENT,  profile),
        // Observations: the author, or a manager or admin of the writing organization.
        ("specialist amends a facility's",    AS, FORBIDDEN, AMEND,    amend(hd, 1)),
        ("specialist marks it in error",      AS, FORBIDDEN, MARK,     mark(hd, 1)),
        ("other facility amends a shared",    KS, FORBIDDEN, AMEND,    amend(hd, 1)),
        ("other facility's manager amends",   KM, FORBIDDEN, AMEND,    amend(hd, 1)),
        ("office admin marks it in error",    AA, FORBIDDEN, MARK,     mark(hd, 1)),
        ("specialist amends an INTERNAL",     AS, NOT_FOUND, AMEND,    amend(internal, 1)),
        ("manager amends another's unseen",   HM, NOT_FOUND, AMEND,    amend(ke, 1)),
        ("staff amends a colleague's",        HS, FORBIDDEN, AMEND,    amend(by_manager, 1)),
        ("author amends",                     HS, OK,        AMEND,    amend(hd, 1)),
        ("stale version",                     HM, CONFLICT,  AMEND,    amend(hd, 1)),
        ("manager of the writer amends",      HM, OK,        AMEND,    amend(hd, 2)),
        ("admin of the writer marks in error", HA, OK,       MARK,     mark(hd, 3)),
        // Revocation.
        ("non-member revokes",                MS, NOT_FOUND, REVOKE,   revoke.clone()),
        ("other facility's staff revokes",    KS, FORBIDDEN, REVOKE,   revoke.clone()),
        ("specialist revokes",                AS, OK,        REVOKE,   revoke),
        // Registering: coordinators of any organization, never facility staff.
        ("facility staff registers",          HS, FORBIDDEN, REGISTER, new_client("登録テスト 1")),
        ("facility staff registers",          KS, FORBIDDEN, REGISTER, new_client("登録テスト 2")),
        ("manager registers",                 KM, OK,        REGISTER, new_client("登録テスト 3")),
        ("specialist registers",              MS, OK,        REGISTER, new_client("登録テスト 4")),
        ("admin registers",                   AA, OK,        REGISTER, new_client("登録テスト 5")),
    ];
    w.run(table).await;

    // The refused writes changed nothing.
    let q = "query($id: ID!) { node(id: $id) { ... on Observation { version status } } }";
    let body = w.ok(HS, q, json!({ "id": hd })).await;
    let expected = json!({ "version": 4, "status": "ENTERED_IN_ERROR" });
    assert_eq!(body["data"]["node"], expected, "{body}");
    let q = "query($id: ID!) { client(id: $id) {
      careTeam { organization { name } } observations { totalCount } } }";
    let body = w.ok(HM, q, json!({ "id": d })).await;
    let team = body["data"]["client"]["careTeam"].as_array().unwrap();
    let team: Vec<String> = team.iter().map(|m| text(m, "/organization/name")).collect();
    assert_eq!(team, [HIMAWARI, AOZORA, KOMOREBI], "{body}");
    let body = w.ok(KM, q, json!({ "id": e })).await;
    let count = &body["data"]["client"]["observations"]["totalCount"];
    assert_eq!(count, 1, "{body}");
}

#[tokio::test]
async fn safeguarding_reaches_the_current_consultation_office_without_consent() {
    let w = World::new().await;
    let c = w.register(HM, "虐待通報テスト 四郎", days_ago(30)).await;
    w.add(HM, &c, KOMOREBI, None).await;
    let aozora = w.add(HM, &c, AOZORA, days_ago(30)).await;
    #[rustfmt::skip]
    let obs = w.records(&c, &[
        (HS, "H_SAFEGUARDING_CONSULTATION", "SAFEGUARDING", "CONSULTATION"),
        (HS, "H_SAFEGUARDING_CARE_TEAM",    "SAFEGUARDING", "CARE_TEAM"),
        (HS, "H_SAFEGUARDING_INTERNAL",     "SAFEGUARDING", "INTERNAL"),
        (HS, "H_ROUTINE_CONSULTATION",      "ROUTINE",      "CONSULTATION"),
    ]).await;
    let all: Vec<&str> = obs.iter().map(|(l, _)| *l).collect();
    let reach: &[&str] = &["H_SAFEGUARDING_CONSULTATION", "H_SAFEGUARDING_CARE_TEAM"];
    // No consent on file: the office sees the safeguarding records that reach it; the other
    // facility sees none of them (the bypass is for the consultation office only).
    #[rustfmt::skip]
    let rows = [(HS, Some(&all[..]), true), (KS, Some(&[][..]), false), (AS, Some(reach), false),
        (MS, None, false)];
    let base = w.check_reads("no consent", &c, &obs, &rows).await;
    // Another office takes over: the path follows the current office, not the former one.
    let end = json!({ "i": { "careTeamMemberId": aozora, "endDate": days_ago(1) } });
    w.expect("end aozora", HM, OK, END, end).await;
    w.add(HM, &c, MIRAI, None).await;
    #[rustfmt::skip]
    let rows = [(HS, Some(&all[..]), true), (KS, Some(&[][..]), false), (AS, Some(&[][..]), false),
        (MS, Some(reach), false)];
    let after = w.check_reads("office changed", &c, &obs, &rows).await;
    assert_same_totals(&after, &base);
}

#[tokio::test]
async fn views_audit_log_and_access_history_check_the_role() {
    let w = World::new().await;
    let c = w.register(HM, "監査テスト 五郎", None).await;
    w.add(HM, &c, AOZORA, None).await;
    let read = json!({ "id": c });
    #[rustfmt::skip]
    let table = vec![("facility reads", HS, OK, CLIENT, read.clone()), ("office reads", AS, OK, CLIENT, read)];
    w.run(table).await;

    let mut table: Vec<OpRow<'_>> = Vec::new();
    for who in ACCOUNTS {
        let (office, admin) = (is_office(who), who.starts_with("admin@"));
        let member = who.contains("himawari") || who.contains("aozora");
        // Access history: admins of current members; other members FORBIDDEN; for the rest the
        // client does not exist.
        let history = match (member, admin) {
            (false, _) => NOT_FOUND,
            (true, true) => OK,
            (true, false) => FORBIDDEN,
        };
        #[rustfmt::skip]
        table.extend([
            ("facility view",     who, if office { FORBIDDEN } else { OK }, FACILITY,     json!({})),
            ("consultation view", who, if office { OK } else { FORBIDDEN }, CONSULTATION, json!({})),
            ("audit log",         who, if admin { OK } else { FORBIDDEN },  AUDIT,        json!({})),
            ("access history",    who, history,                             HISTORY,      json!({ "c": c })),
        ]);
    }
    w.run(table).await;

    // Each admin sees its own staff's actions, and only those.
    for (admin, own, other) in [(HA, HS, AS), (AA, AS, HS)] {
        let body = w.expect("audit log", admin, OK, AUDIT, json!({})).await;
        let nodes = body["data"]["auditLog"]["nodes"].as_array().unwrap();
        let on_client = |n: &&Value| n["clientId"] == c.as_str();
        let by = |who: &str| {
            nodes
                .iter()
                .filter(on_client)
                .any(|n| n["staffMember"]["email"] == who)
        };
        assert!(by(own), "{admin}: {own}'s read is missing: {body}");
        assert!(!by(other), "{admin} sees {other}'s actions: {body}");
        let email = |n: &Value| n["staffMember"]["email"].as_str().map(str::to_owned);
        let domain = admin.split('@').nth(1).unwrap();
        let foreign = nodes.iter().filter_map(email).any(|e| !e.ends_with(domain));
        assert!(!foreign, "{admin} sees other organizations' staff: {body}");
    }
    // The access history shows every organization's access to the client.
    let body = w.ok(HA, HISTORY, json!({ "c": c })).await;
    let nodes = body["data"]["client"]["accessHistory"]["nodes"].as_array();
    let org = |n: &Value| text(n, "/organization/name");
    let orgs: BTreeSet<String> = nodes.unwrap().iter().map(org).collect();
    let expected = BTreeSet::from([HIMAWARI.to_owned(), AOZORA.to_owned()]);
    assert_eq!(orgs, expected, "{body}");
}
