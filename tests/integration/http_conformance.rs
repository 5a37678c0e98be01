//! GraphQL over HTTP as the spec and our documentation say: statuses, media types, limits,
//! request ids, and never a 500 or internal text for bad input.

use serde_json::{Value, json};

use crate::helpers::*;

const GQL_JSON: &str = "application/graphql-response+json";

async fn post_raw(
    app: &TestApp,
    content_type: Option<&str>,
    accept: &str,
    body: impl Into<reqwest::Body>,
) -> (u16, String, Value) {
    let mut req = app
        .client
        .post(&app.url)
        .header("accept", accept)
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        res.headers().contains_key("x-request-id"),
        "every response has a request id"
    );
    let text = res.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, ct, json)
}

#[tokio::test]
async fn the_graphql_http_server_audit_passes_without_warnings() {
    let app = TestApp::spawn().await;
    let dir = js_dir();
    let out = tokio::process::Command::new("node")
        .arg("audit.mjs")
        .arg(&app.url)
        .current_dir(dir)
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "graphql-http audit:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" 0 not ok"), "{stdout}");
}

#[tokio::test]
async fn malformed_requests_get_their_documented_status_and_code() {
    let app = TestApp::spawn().await;
    // (content type, body, expected status)
    let big = format!(
        "{{\"query\": \"{{ me {{ role }} }}\", \"pad\": \"{}\"}}",
        "x".repeat(300 * 1024)
    );
    let cases: Vec<(&str, Option<&str>, Vec<u8>, u16)> = vec![
        (
            "malformed JSON",
            Some("application/json"),
            b"{\"query\": ".to_vec(),
            400,
        ),
        (
            "invalid UTF-8",
            Some("application/json"),
            vec![b'{', 0xff, 0xfe, b'}'],
            400,
        ),
        (
            "JSON that is not an object",
            Some("application/json"),
            b"\"{ me { role } }\"".to_vec(),
            400,
        ),
        (
            "batch",
            Some("application/json"),
            br#"[{"query":"{ me { role } }"}]"#.to_vec(),
            400,
        ),
        (
            "missing query",
            Some("application/json"),
            br#"{"variables":{}}"#.to_vec(),
            400,
        ),
        (
            "variables not an object",
            Some("application/json"),
            br#"{"query":"{ me { role } }","variables":"x"}"#.to_vec(),
            400,
        ),
        (
            "wrong content type",
            Some("text/plain"),
            br#"{"query":"{ me { role } }"}"#.to_vec(),
            415,
        ),
        (
            "no content type",
            None,
            br#"{"query":"{ me { role } }"}"#.to_vec(),
            415,
        ),
        (
            "non-UTF-8 charset",
            Some("application/json; charset=utf-16"),
            br#"{"query":"{ me { role } }"}"#.to_vec(),
            415,
        ),
        (
            "oversized body",
            Some("application/json"),
            big.into_bytes(),
            413,
        ),
    ];
    for (name, ct, body, expected) in cases {
        for accept in [GQL_JSON, "application/json"] {
            let (status, content_type, json) = post_raw(&app, ct, accept, body.clone()).await;
            assert_eq!(status, expected, "{name} ({accept}): {json}");
            assert!(content_type.starts_with(accept), "{name}: {content_type}");
            assert_error(&json, "BAD_USER_INPUT");
            assert!(
                json.get("data").is_none(),
                "{name}: no data on request errors"
            );
        }
    }
    // Nothing we can produce is acceptable: 406.
    let (status, _, json) = post_raw(
        &app,
        Some("application/json"),
        "text/html",
        r#"{"query":"{ me { role } }"}"#,
    )
    .await;
    assert_eq!(status, 406);
    assert_error(&json, "BAD_USER_INPUT");
}

#[tokio::test]
async fn parse_and_validation_errors_are_400_with_the_new_media_type_and_200_with_legacy_json() {
    let app = TestApp::spawn().await;
    for (query, code) in [
        ("{ me { role ", "BAD_USER_INPUT"),
        ("{ me { nope } }", "BAD_USER_INPUT"),
    ] {
        let body = json!({ "query": query, "variables": {} }).to_string();
        let (status, _, json) =
            post_raw(&app, Some("application/json"), GQL_JSON, body.clone()).await;
        assert_eq!(status, 400, "{query}: {json}");
        assert_error(&json, code);
        assert!(json.get("data").is_none());
        let (status, _, json) =
            post_raw(&app, Some("application/json"), "application/json", body).await;
        assert_eq!(status, 200, "{query}");
        assert_error(&json, code);
    }
    // A missing required variable is the caller's mistake too.
    let body = json!({ "query": "query($x: Int!) { organizations(first: $x) { totalCount } }", "variables": {} }).to_string();
    let (_, _, json) = post_raw(&app, Some("application/json"), GQL_JSON, body).await;
    assert_error(&json, "BAD_USER_INPUT");
    // Wrong variable types are caught before execution.
    let body = json!({ "query": "query($x: Int) { organizations(first: $x) { totalCount } }", "variables": { "x": "ten" } }).to_string();
    let (status, _, json) = post_raw(&app, Some("application/json"), GQL_JSON, body).await;
    assert_eq!(status, 400);
    assert_error(&json, "BAD_USER_INPUT");
}

#[tokio::test]
async fn no_field_suggestions_are_given() {
    let app = TestApp::spawn().await;
    let body = app.gql(None, "{ mee { role } }", json!({})).await;
    assert_error(&body, "BAD_USER_INPUT");
    assert!(
        !body.to_string().to_lowercase().contains("did you mean"),
        "{body}"
    );
}

#[tokio::test]
async fn deep_and_wide_queries_are_rejected_before_execution() {
    let app = TestApp::spawn().await;
    let (token, _) = app.login("staff@himawari.example").await;
    let deep = format!("{{ {} role {} }}", "me { ".repeat(49), "}".repeat(49));
    let aliases: String = (0..1000).map(|i| format!("a{i}: me {{ role }} ")).collect();
    let fragment_bomb = "query { ...A } fragment A on Query { me { ...B } } fragment B on Viewer { organization { name } staffMember { organization { name } } role }".to_owned();
    let very_deep = format!("{{{}}}", "a {".repeat(5000)) + &"}".repeat(5000);
    // 27 fragments, each spreading the previous one twice: 2^26 fields in about 1 KB.
    let mut doubling = String::from("query { ...F26 } fragment F0 on Query { __typename }");
    for i in 1..=26 {
        doubling.push_str(&format!(
            " fragment F{i} on Query {{ ...F{} ...F{} }}",
            i - 1,
            i - 1
        ));
    }
    for (name, query) in [
        ("50 levels", deep),
        ("1,000 aliases", format!("{{ {aliases} }}")),
        ("5,000 levels", very_deep),
        ("doubling fragments", doubling),
    ] {
        let body = json!({ "query": query }).to_string();
        let res = app
            .client
            .post(&app.url)
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .header("accept", GQL_JSON)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{name}");
        let json: Value = res.json().await.unwrap();
        assert_error(&json, "QUERY_TOO_COMPLEX");
    }
    // A legitimate query with fragments still runs.
    let ok = app.gql(Some(&token), &fragment_bomb, json!({})).await;
    assert!(ok.get("errors").is_none(), "{ok}");
}

#[tokio::test]
async fn get_runs_queries_but_not_mutations() {
    let app = TestApp::spawn().await;
    let (token, _) = app.login("staff@himawari.example").await;
    let res = app
        .client
        .get(&app.url)
        .query(&[("query", "{ me { role } }")])
        .bearer_auth(&token)
        .header("accept", GQL_JSON)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(GQL_JSON)
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["data"]["me"]["role"], "FACILITY_STAFF");

    let res = app
        .client
        .get(&app.url)
        .query(&[("query", "mutation { logout { revoked } }")])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "POST");
    // The session survived: the mutation did not run.
    assert!(
        app.gql(Some(&token), "{ me { role } }", json!({}))
            .await
            .get("errors")
            .is_none()
    );
    // Other methods are refused.
    let res = app.client.put(&app.url).send().await.unwrap();
    assert_eq!(res.status(), 405);
}

#[tokio::test]
async fn graphiql_health_and_readiness() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(&app.url)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("graphiql")
    );
    let base = format!("http://{}", app.addr);
    assert_eq!(
        app.client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        app.client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn production_switches_off_introspection_and_graphiql() {
    let app = TestApp::spawn_with(|c| {
        c.introspection = false;
        c.graphiql = false;
    })
    .await;
    let res = app
        .client
        .get(&app.url)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let body = app
        .gql(None, "{ __schema { types { name } } }", json!({}))
        .await;
    assert!(
        body["data"]["__schema"].is_null() || body.get("errors").is_some(),
        "{body}"
    );
    assert!(!body.to_string().contains("StaffMember"), "{body}");
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_honours_a_given_one() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(&app.url)
        .header("x-request-id", "trace-me-123")
        .json(&json!({ "query": "{ me { role } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-me-123");
    let res = app
        .client
        .get(format!("http://{}/healthz", app.addr))
        .send()
        .await
        .unwrap();
    assert!(!res.headers()["x-request-id"].is_empty());
}
