//! The real binary's logs and shutdown: with `LOG_FORMAT=json` every line is one JSON object,
//! every request's line carries the `x-request-id` the client saw, no line holds personal data
//! or secrets, and SIGTERM ends the process cleanly.
//!
//! Beside the binary for the same reason as `two_processes.rs`: only here does Cargo hand a test
//! the built executable.

mod common;

use std::{sync::Arc, time::Duration};

use serde_json::{Value, json};
use tokio::{process::Command, sync::Mutex};

const SECRET: &str = "logs-test-secret-0123456789abcdef-0123";
const FACT: &str = "個人情報を含む記録テキスト（ログに出てはならない）";

#[tokio::test]
async fn json_logs_carry_request_ids_and_no_personal_data_and_sigterm_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("kakehashi.db").display()
    );
    let (mut child, base, seen, mut reader) = common::serve(&db, SECRET, true, &[]).await;
    let lines: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(seen));
    let collector = {
        let lines = lines.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = reader.next_line().await {
                lines.lock().await.push(line);
            }
        })
    };

    let http = reqwest::Client::new();
    let post = |token: Option<String>, body: Value| {
        let mut req = http.post(format!("{base}/graphql")).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let login = post(
        None,
        json!({ "query": "mutation($i: LoginInput!) { login(input: $i) { accessToken } }", "variables": { "i": { "email": "staff@himawari.example", "password": kakehashi_tools::seed::DEMO_PASSWORD } } }),
    )
    .await
    .unwrap();
    let login_id = login.headers()["x-request-id"].to_str().unwrap().to_owned();
    let token = login.json::<Value>().await.unwrap()["data"]["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let clients = post(
        Some(token.clone()),
        json!({ "query": "{ facility { clients(first: 5) { nodes { id displayName } } } }" }),
    )
    .await
    .unwrap()
    .json::<Value>()
    .await
    .unwrap();
    let client = clients["data"]["facility"]["clients"]["nodes"][0]["id"].clone();
    let name = clients["data"]["facility"]["clients"]["nodes"][0]["displayName"]
        .as_str()
        .unwrap()
        .to_owned();
    let recorded = post(
        Some(token.clone()),
        json!({ "query": "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { observation { id } } }", "variables": { "i": { "clientId": client, "content": { "fact": FACT, "category": "ROUTINE", "occurredFrom": chrono::Utc::now().to_rfc3339() } } } }),
    )
    .await
    .unwrap();
    assert_eq!(recorded.status(), 200);
    let given_id = "client-chosen-request-id-42";
    let failed = http
        .post(format!("{base}/graphql"))
        .header("x-request-id", given_id)
        .bearer_auth("forged")
        .json(&json!({ "query": "{ me { role } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(failed.headers()["x-request-id"], given_id);

    // SIGTERM: a clean exit.
    let pid = child.id().unwrap().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("the server exits after SIGTERM")
        .unwrap();
    assert!(status.success(), "exit status {status}");
    let _ = collector.await;

    let lines = lines.lock().await;
    let mut request_ids = Vec::new();
    for line in lines.iter() {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON log line: {line}"));
        if let Some(id) = v.pointer("/span/request_id").and_then(Value::as_str) {
            request_ids.push(id.to_owned());
        }
        // (The demo password is public: `--demo` prints it on purpose.)
        for secret in [FACT, name.as_str(), token.as_str(), SECRET] {
            assert!(
                !line.contains(secret),
                "a log line leaks {secret:?}: {line}"
            );
        }
    }
    assert!(request_ids.contains(&login_id), "{lines:#?}");
    assert!(request_ids.iter().any(|id| id == given_id), "{lines:#?}");
}
