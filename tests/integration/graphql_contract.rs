//! The GraphQL contract front-end teams build on, through the public surface: standard
//! introspection, graphql-codegen against the live URL, the README's operations under graphql-js,
//! GraphiQL in a real browser with no network, omitted variables taking argument defaults,
//! response keys in selection order, non-null abstract fields that are never null, and limit
//! refusals that name their limit.

use std::{path::Path, process::Output};

use async_graphql::parser::{parse_schema, types::TypeKind, types::TypeSystemDefinition};
use serde_json::{Value, json};

use crate::{
    helpers::*,
    views::{client_id, record},
};

/// Runs one of the Node scripts in `tests/js` and returns its output.
async fn node(script: &str, args: &[&str]) -> Output {
    let dir = js_dir();
    tokio::process::Command::new("node")
        .arg(script)
        .args(args)
        .current_dir(dir)
        .output()
        .await
        .expect("node runs")
}

#[track_caller]
fn assert_node_ok(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what}:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn repo(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
        .display()
        .to_string()
}

#[tokio::test]
async fn standard_introspection_builds_the_committed_schema() {
    let app = TestApp::spawn().await;
    let (token, _) = app.login("staff@himawari.example").await;
    let out = node(
        "introspection.mjs",
        &[&app.url, &token, &repo("schema.graphql")],
    )
    .await;
    assert_node_ok("getIntrospectionQuery() against the live server", &out);
    // Eight combinations (two option sets × POST/GET × signed in/out), the bomb, the unions.
    let lines = String::from_utf8_lossy(&out.stdout).lines().count();
    assert_eq!(lines, 10, "{}", String::from_utf8_lossy(&out.stdout));
}

#[tokio::test]
async fn graphql_codegen_generates_types_from_the_live_url() {
    let app = TestApp::spawn().await;
    let out = node("codegen.mjs", &[&app.url]).await;
    assert_node_ok("graphql-codegen against the live URL", &out);
}

#[tokio::test]
async fn every_readme_operation_validates_under_graphql_js_and_its_queries_run_on_the_demo_data() {
    let app = TestApp::spawn().await;
    let out = node(
        "readme.mjs",
        &[&app.url, &repo("README.md"), &repo("schema.graphql")],
    )
    .await;
    assert_node_ok("README operations under graphql-js", &out);
}

/// GraphiQL in Debian's Chromium with every request outside 127.0.0.1 blocked. `.ci/run`
/// installs Chromium and sets `KAKEHASHI_REQUIRE_BROWSER=1`, so there a missing browser fails;
/// elsewhere the test says it was skipped.
#[tokio::test]
async fn graphiql_works_offline_in_a_real_browser() {
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        assert!(
            std::env::var("KAKEHASHI_REQUIRE_BROWSER").is_err(),
            "KAKEHASHI_REQUIRE_BROWSER is set but there is no browser at {chromium}"
        );
        eprintln!("SKIPPED graphiql_works_offline_in_a_real_browser: no browser at {chromium}");
        return;
    }
    let app = TestApp::spawn().await;
    let (token, _) = app.login("staff@himawari.example").await;
    let client = client_id(&app, &token, "山田 太郎").await;
    let artifacts = repo("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let screenshot = format!("{artifacts}/graphiql.png");
    let base = format!("http://{}", app.addr);
    let out = node(
        "graphiql_browser.mjs",
        &[&base, &token, &client, &screenshot],
    )
    .await;
    assert_node_ok("GraphiQL in Chromium", &out);
    eprintln!("GraphiQL screenshot: {screenshot}");
    assert!(Path::new(&screenshot).exists());
}

/// One runnable use of each argument that has a default: (`Type.field.argument`, account,
/// operation). `{VARS}` takes the variable declaration (`{(VARS)}` with its parentheses, where the
/// operation declares nothing else) and `{ARG}` the argument (commas are
/// whitespace in GraphQL), or `{(ARG)}` with its parentheses for a field with no other argument,
/// so the same operation runs with the argument left out, given as an unprovided variable, and
/// given as its default literal.
const DEFAULTED_ARGUMENTS: &[(&str, &str, &str)] = &[
    (
        "Client.observations.categories",
        "staff@himawari.example",
        "query({VARS} $c: ID!) { client(id: $c) { observations(first: 100, {ARG}) { totalCount nodes { id } } } }",
    ),
    (
        "Client.observations.includeEnteredInError",
        "staff@himawari.example",
        "query({VARS} $c: ID!) { client(id: $c) { observations(first: 100, {ARG}) { totalCount nodes { id } } } }",
    ),
    (
        "Client.recentObservations.limit",
        "staff@himawari.example",
        "query({VARS} $c: ID!) { client(id: $c) { recentObservations{(ARG)} { id } } }",
    ),
    (
        "Client.history.kinds",
        "specialist@aozora.example",
        "query({VARS} $c: ID!) { client(id: $c) { history(first: 100, {ARG}) { totalCount edges { node { kind } } } } }",
    ),
    (
        "ConsultationView.sharedObservations.categories",
        "specialist@aozora.example",
        "query({VARS} $c: ID!) { consultation { sharedObservations(first: 100, {ARG}) { totalCount nodes { id } } } client(id: $c) { id } }",
    ),
    (
        "FacilityView.recentObservations.categories",
        "staff@himawari.example",
        "query({VARS} $c: ID!) { facility { recentObservations(first: 100, {ARG}) { totalCount nodes { id } } } client(id: $c) { id } }",
    ),
    (
        "Query.staffMembers.includeInactive",
        "admin@himawari.example",
        "query{(VARS)} { staffMembers(first: 100, {ARG}) { totalCount nodes { id } } }",
    ),
    (
        "Query.checkRecordText.kind",
        "staff@himawari.example",
        "query{(VARS)} { checkRecordText(text: \"毎日、穏やかに過ごせるよう支援する。\", {ARG}) { clear findings { kind } } }",
    ),
];

/// Every (Type.field.argument, type, default literal) of the served schema.
fn arguments_with_defaults() -> Vec<(String, String, String)> {
    let doc = parse_schema(kakehashi::graphql::sdl()).unwrap();
    let mut out = Vec::new();
    for def in &doc.definitions {
        let TypeSystemDefinition::Type(t) = def else {
            continue;
        };
        let fields = match &t.node.kind {
            TypeKind::Object(o) => &o.fields,
            TypeKind::Interface(i) => &i.fields,
            _ => continue,
        };
        for f in fields {
            for a in &f.node.arguments {
                if let Some(default) = &a.node.default_value {
                    out.push((
                        format!(
                            "{}.{}.{}",
                            t.node.name.node, f.node.name.node, a.node.name.node
                        ),
                        a.node.ty.node.to_string(),
                        default.node.to_string(),
                    ));
                }
            }
        }
    }
    out
}

#[tokio::test]
async fn an_unprovided_variable_gives_every_argument_its_default() {
    let app = TestApp::spawn().await;
    let arguments = arguments_with_defaults();
    assert!(arguments.len() >= 8, "{arguments:?}");
    for (key, ty, default) in &arguments {
        let (_, account, template) = DEFAULTED_ARGUMENTS
            .iter()
            .find(|(k, _, _)| k == key)
            .unwrap_or_else(|| panic!("{key} has a default: add a probe for it here"));
        let argument = key.rsplit('.').next().unwrap();
        let (token, _) = app.login(account).await;
        let client = client_id(&app, &token, "山田 太郎").await;
        // The variable may be nullable where the argument is not, because the argument has a
        // default (the spec's "Variables In Allowed Position").
        let nullable = ty.strip_suffix('!').unwrap_or(ty);
        let run = |vars: String, arg: String, variables: Value| {
            let parenthesized = if arg.is_empty() {
                String::new()
            } else {
                format!("({arg})")
            };
            let declared = if vars.is_empty() {
                String::new()
            } else {
                format!("({})", vars.trim_end_matches(','))
            };
            let q = template
                .replace("{(VARS)}", &declared)
                .replace("{VARS}", &vars)
                .replace("{(ARG)}", &parenthesized)
                .replace("{ARG}", &arg);
            let app = &app;
            let token = token.clone();
            async move { app.gql(Some(&token), &q, variables).await }
        };
        let left_out = run(String::new(), String::new(), json!({ "c": client })).await;
        let unprovided = run(
            format!("$v: {nullable},"),
            format!("{argument}: $v"),
            json!({ "c": client }),
        )
        .await;
        let literal = run(
            String::new(),
            format!("{argument}: {default}"),
            json!({ "c": client }),
        )
        .await;
        assert!(left_out.get("errors").is_none(), "{key}: {left_out}");
        assert_eq!(
            unprovided, left_out,
            "{key}: an unprovided $v must act as no argument"
        );
        assert_eq!(
            literal, left_out,
            "{key}: no argument must act as `{default}`"
        );
    }
}

#[tokio::test]
async fn an_explicit_null_stays_null() {
    let app = TestApp::spawn().await;
    let (token, _) = app.login("specialist@aozora.example").await;
    let client = client_id(&app, &token, "山田 太郎").await;
    // `kinds: [HistoryKind!]! = []` given an explicit null is a field error (a non-null
    // argument), unlike the same variable left out.
    let q = "query($k: [HistoryKind!], $c: ID!) { client(id: $c) { history(first: 5, kinds: $k) { totalCount } } }";
    let given_null = app
        .gql(Some(&token), q, json!({ "c": client, "k": null }))
        .await;
    assert_error(&given_null, "BAD_USER_INPUT");
    let left_out = app.gql(Some(&token), q, json!({ "c": client })).await;
    assert!(left_out.get("errors").is_none(), "{left_out}");
}

/// The keys of a response object, in order.
fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

#[tokio::test]
async fn response_keys_follow_the_selection_order_every_time() {
    let app = TestApp::spawn().await;
    let (token, _) = app.login("specialist@aozora.example").await;
    let client = client_id(&app, &token, "山田 太郎").await;
    let me =
        "{ me { role organization { name kind municipality } staffMember { displayName email } } }";
    let aliased = "query { b: me { staffMember { email d: displayName } r: role } ...F } \
                   fragment F on Query { a: me { role } }";
    // A key first named in a fragment that does not apply to the record comes where the
    // applying selection names it.
    let history = "query($c: ID!) { client(id: $c) { history(first: 100) { edges { node { item { \
                   ... on Observation { id fact } \
                   ... on Meeting { meetingKind id } \
                   __typename \
                   ... on SupportPlanVersion { status version } \
                   ... on MonitoringReport { outcome id } } } } } } }";
    let mut seen_kinds = std::collections::BTreeSet::new();
    for _ in 0..10 {
        let body = app.gql(Some(&token), me, json!({})).await;
        let me = &body["data"]["me"];
        assert_eq!(keys(me), ["role", "organization", "staffMember"]);
        assert_eq!(keys(&me["organization"]), ["name", "kind", "municipality"]);
        assert_eq!(keys(&me["staffMember"]), ["displayName", "email"]);

        let body = app.gql(Some(&token), aliased, json!({})).await;
        assert_eq!(keys(&body["data"]), ["b", "a"]);
        assert_eq!(keys(&body["data"]["b"]), ["staffMember", "r"]);
        assert_eq!(keys(&body["data"]["b"]["staffMember"]), ["email", "d"]);

        let body = app.gql(Some(&token), history, json!({ "c": client })).await;
        let edges = body["data"]["client"]["history"]["edges"]
            .as_array()
            .unwrap();
        assert!(!edges.is_empty(), "{body}");
        for e in edges {
            let item = &e["node"]["item"];
            let kind = item["__typename"].as_str().unwrap();
            seen_kinds.insert(kind.to_owned());
            let expected: &[&str] = match kind {
                "Observation" => &["id", "fact", "__typename"],
                "Meeting" => &["meetingKind", "id", "__typename"],
                "SupportPlanVersion" => &["__typename", "status", "version"],
                "MonitoringReport" => &["__typename", "outcome", "id"],
                _ => &["__typename"],
            };
            assert_eq!(keys(item), expected, "{kind}");
        }
    }
    assert!(
        seen_kinds.contains("Observation") && seen_kinds.contains("Meeting"),
        "the demo history mixes kinds: {seen_kinds:?}"
    );
}

#[tokio::test]
async fn a_non_null_abstract_item_is_an_empty_object_when_no_fragment_matches() {
    let app = TestApp::spawn().await;
    let (token, _) = app.login("specialist@aozora.example").await;
    let client = client_id(&app, &token, "山田 太郎").await;
    let body = app
        .gql(
            Some(&token),
            "query($c: ID!) { client(id: $c) { history(first: 100) { edges { node { kind item { ... on Meeting { meetingKind } } } } } } }",
            json!({ "c": client }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let edges = body["data"]["client"]["history"]["edges"]
        .as_array()
        .unwrap();
    let mut empty = 0;
    for e in edges {
        let item = &e["node"]["item"];
        assert!(item.is_object(), "HistoryEntry.item is HistoryItem!: {e}");
        if e["node"]["kind"] == "MEETING" {
            assert!(item["meetingKind"].is_string(), "{e}");
        } else {
            assert_eq!(item, &json!({}), "{e}");
            empty += 1;
        }
    }
    assert!(empty > 0, "the demo history has items other than meetings");

    // The same holds for the event feed's record union over the socket: an observation event
    // selected only with a Meeting fragment.
    let (staff, _) = app.login("staff@himawari.example").await;
    let yamada = client_id(&app, &staff, "山田 太郎").await;
    let mut raw = crate::subscriptions::Raw::ready(&app, &token).await;
    raw.subscribe(
        "1",
        "subscription { myEvents { kind record { ... on Meeting { meetingKind } } } }",
        json!({}),
    )
    .await;
    crate::subscriptions::live_subscribers(&app, 1).await;
    record(
        &app,
        &staff,
        &yamada,
        "10:00 作業室で箱を3つ組み立てた。",
        "CARE_TEAM",
    )
    .await;
    let event = raw.event("myEvents").await;
    assert_eq!(event["kind"], "OBSERVATION_RECORDED");
    assert_eq!(event["record"], json!({}));
}

#[tokio::test]
async fn a_field_error_nulls_the_nearest_nullable_place_and_keeps_its_siblings() {
    let app = TestApp::spawn().await;
    let (token, _) = app.login("staff@himawari.example").await;
    // `consultation` is non-null and refused for facility staff: the error propagates to `data`
    // (there is no nullable place above it), and is reported once with its path.
    let body = app
        .gql(
            Some(&token),
            "{ me { role } consultation { caseload(first: 1) { totalCount } } }",
            json!({}),
        )
        .await;
    assert!(body["data"].is_null(), "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["consultation"]));
    // A nullable field's error nulls that field only; its siblings stay (signed out,
    // `clientByExternalId` is UNAUTHENTICATED).
    let body = app
        .gql(
            None,
            "{ __typename clientByExternalId(externalId: \"K-001\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        keys(&body["data"]),
        ["__typename", "clientByExternalId"],
        "{body}"
    );
    assert_eq!(body["data"]["__typename"], "Query");
    assert!(body["data"]["clientByExternalId"].is_null(), "{body}");
    assert_eq!(
        body["errors"][0]["path"],
        json!(["clientByExternalId"]),
        "{body}"
    );
}

#[tokio::test]
async fn limit_refusals_name_their_limit_and_numbers() {
    let app = TestApp::spawn().await;
    let (token, _) = app.login("specialist@aozora.example").await;
    // Thirteen levels of data: one over the depth limit of 12 (measured before validation).
    let deep = format!("{}{}", "{ a ".repeat(13), "}".repeat(13));
    let body = app.gql(Some(&token), &deep, json!({})).await;
    assert_error(&body, "QUERY_TOO_COMPLEX");
    let e = &body["errors"][0];
    assert_eq!(e["extensions"]["limit"], "depth", "{body}");
    assert_eq!(e["extensions"]["actual"], 13);
    assert_eq!(e["extensions"]["maximum"], 12);
    assert!(
        e["message"].as_str().unwrap().contains("depth 13 > 12"),
        "{body}"
    );
    // A fragment cycle is a validation error, not a limit.
    let body = app
        .gql(
            Some(&token),
            "{ ...A } fragment A on Query { me { role } ...B } fragment B on Query { ...A }",
            json!({}),
        )
        .await;
    assert_error(&body, "BAD_USER_INPUT");
    // Aliases: 31 over 30.
    let many: String = (0..31).map(|i| format!("a{i}: __typename ")).collect();
    let body = app
        .gql(Some(&token), &format!("{{ {many} }}"), json!({}))
        .await;
    assert_error(&body, "QUERY_TOO_COMPLEX");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("aliases 31 > 30")
    );
}
