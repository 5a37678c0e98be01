//! For integrators: API keys acting as named service accounts, idempotent upserts and imports
//! keyed by external ids, and the `import` / `export` commands, all through the public API.

use std::{path::Path, time::Duration};

use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::{helpers::*, subscriptions::Raw, views::client_id};

const CREATE_KEY: &str = "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret apiKey { id name prefix role createdAt expiresAt revokedAt lastUsedAt serviceAccount { id displayName serviceAccount } } } }";
const IMPORT_CLIENTS: &str = "mutation($i: ImportClientsInput!) { importClients(input: $i) { committed created updated unchanged failed items { index externalId outcome id error { code field message } } } }";
const IMPORT_OBSERVATIONS: &str = "mutation($i: ImportObservationsInput!) { importObservations(input: $i) { committed created updated unchanged failed items { index externalId outcome id error { code field message } } } }";

/// Creates an API key as `admin` and returns (key, its global id).
pub(crate) async fn api_key(
    app: &TestApp,
    admin: &str,
    name: &str,
    role: &str,
) -> (String, String) {
    let body = app
        .gql(
            Some(admin),
            CREATE_KEY,
            json!({ "i": { "name": name, "role": role } }),
        )
        .await;
    let created = &body["data"]["createApiKey"];
    assert!(created.is_object(), "{body}");
    (
        created["secret"].as_str().unwrap().to_owned(),
        created["apiKey"]["id"].as_str().unwrap().to_owned(),
    )
}

/// Rows in a table (to prove that a replay wrote nothing).
async fn count(app: &TestApp, table: &str) -> i64 {
    let db = &app.state.db;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// The tables an import writes to, with their row counts.
async fn footprint(app: &TestApp) -> Vec<(&'static str, i64)> {
    let mut out = Vec::new();
    for t in [
        "clients",
        "client_external_ids",
        "care_team_memberships",
        "observations",
        "observation_versions",
        "outbox_events",
    ] {
        out.push((t, count(app, t).await));
    }
    out
}

fn observation_item(ext: &str, client_ext: &str, fact: &str) -> Value {
    json!({
        "externalId": ext,
        "clientExternalId": client_ext,
        "content": {
            "fact": fact,
            "category": "ROUTINE",
            "occurredFrom": "2026-11-20T12:30:00+09:00",
            "visibility": "CARE_TEAM",
            "tags": ["食事"]
        }
    })
}

#[tokio::test]
async fn api_keys_act_as_named_service_accounts_and_stop_at_revocation_or_expiry() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.login("admin@himawari.example").await;
    let (manager, _) = app.login("manager@himawari.example").await;
    let (other_admin, _) = app.login("admin@aozora.example").await;

    // Only an org admin creates keys, never with the admin role, never already expired.
    let denied = app
        .gql(
            Some(&manager),
            CREATE_KEY,
            json!({ "i": { "name": "x", "role": "FACILITY_STAFF" } }),
        )
        .await;
    assert_error(&denied, "FORBIDDEN");
    for input in [
        json!({ "name": "x", "role": "ORG_ADMIN" }),
        json!({ "name": "x", "role": "CONSULTATION_SPECIALIST" }),
        json!({ "name": "x", "role": "FACILITY_STAFF", "expiresAt": "2020-01-01T00:00:00Z" }),
    ] {
        let body = app
            .gql(Some(&admin), CREATE_KEY, json!({ "i": input }))
            .await;
        assert_error(&body, "BAD_USER_INPUT");
    }

    let body = app
        .gql(
            Some(&admin),
            CREATE_KEY,
            json!({ "i": { "name": "記録システム連携", "role": "SERVICE_MANAGER" } }),
        )
        .await;
    let created = &body["data"]["createApiKey"];
    let key = created["secret"].as_str().unwrap().to_owned();
    let key_id = created["apiKey"]["id"].as_str().unwrap().to_owned();
    assert!(key.starts_with("kkh_") && key.len() > 40, "{body}");
    assert!(key.starts_with(created["apiKey"]["prefix"].as_str().unwrap()));
    assert_eq!(created["apiKey"]["serviceAccount"]["serviceAccount"], true);
    assert_eq!(created["apiKey"]["lastUsedAt"], Value::Null);

    // The key acts as its service account, named after it, with its role.
    let me = app
        .gql(
            Some(&key),
            "{ me { role staffMember { displayName } organization { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["data"]["me"]["role"], "SERVICE_MANAGER", "{me}");
    assert_eq!(
        me["data"]["me"]["staffMember"]["displayName"],
        "記録システム連携"
    );

    // What it writes names it, and the audit log has it under that name.
    let yamada = client_id(&app, &manager, "山田 太郎").await;
    let rec = app
        .gql(
            Some(&key),
            "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { observation { id author { displayName } } } }",
            json!({ "i": { "clientId": yamada, "content": { "fact": "連携テストの記録", "category": "ROUTINE", "occurredFrom": chrono::Utc::now().to_rfc3339() } } }),
        )
        .await;
    assert_eq!(
        rec["data"]["recordObservation"]["observation"]["author"]["displayName"],
        "記録システム連携",
        "{rec}"
    );
    let log = app
        .gql(
            Some(&admin),
            "{ auditLog(first: 50) { nodes { operation staffMember { displayName } } } }",
            json!({}),
        )
        .await;
    let by_key: Vec<&str> = log["data"]["auditLog"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["staffMember"]["displayName"] == "記録システム連携")
        .map(|n| n["operation"].as_str().unwrap())
        .collect();
    assert!(by_key.contains(&"OBSERVATION_RECORDED"), "{log}");

    // Listed for the admin with its last use, never with the secret; not for other orgs.
    let list = app
        .gql(
            Some(&admin),
            "{ apiKeys { id name lastUsedAt revokedAt } }",
            json!({}),
        )
        .await;
    let listed = &list["data"]["apiKeys"][0];
    assert_eq!(listed["id"], key_id.as_str(), "{list}");
    assert!(listed["lastUsedAt"].is_string(), "{list}");
    assert!(!list.to_string().contains(&key));
    assert_error(
        &app.gql(Some(&manager), "{ apiKeys { id } }", json!({}))
            .await,
        "FORBIDDEN",
    );

    // The service account can never sign in with a password.
    let staff = app
        .gql(
            Some(&admin),
            "{ staffMembers(first: 50) { nodes { email serviceAccount } } }",
            json!({}),
        )
        .await;
    let account_email = staff["data"]["staffMembers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["serviceAccount"] == true)
        .unwrap()["email"]
        .as_str()
        .unwrap()
        .to_owned();
    for password in ["!service-account", "", DEMO_PASSWORD] {
        let refused = app.login_with(&account_email, password).await.unwrap_err();
        assert!(error_code(&refused).is_some(), "{refused}");
    }

    // A key neither logs out nor has a password to change.
    let logout = app
        .gql(Some(&key), "mutation { logout { revoked } }", json!({}))
        .await;
    assert_error(&logout, "BAD_USER_INPUT");
    let change = app
        .gql(
            Some(&key),
            "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { changed } }",
            json!({ "i": { "currentPassword": "!service-account", "newPassword": "another-long-password" } }),
        )
        .await;
    assert!(error_code(&change).is_some(), "{change}");
    assert_no_internals(&change);

    // The key opens a socket; revoking it closes the socket and refuses the key over HTTP.
    let mut socket = Raw::ready(&app, &key).await;
    let foreign = app
        .gql(
            Some(&other_admin),
            "mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { revokedAt } } }",
            json!({ "id": key_id }),
        )
        .await;
    assert_error(&foreign, "NOT_FOUND");
    let revoked = app
        .gql(
            Some(&admin),
            "mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { revokedAt } } }",
            json!({ "id": key_id }),
        )
        .await;
    assert!(
        revoked["data"]["revokeApiKey"]["apiKey"]["revokedAt"].is_string(),
        "{revoked}"
    );
    assert_eq!(socket.closed().await, 4403);
    assert_error(
        &app.gql(Some(&key), "{ me { role } }", json!({})).await,
        "UNAUTHENTICATED",
    );

    // A key past its expiry stops by itself.
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let body = app
        .gql(
            Some(&admin),
            CREATE_KEY,
            json!({ "i": { "name": "短期", "role": "FACILITY_STAFF", "expiresAt": soon } }),
        )
        .await;
    let short = body["data"]["createApiKey"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let ok = app.gql(Some(&short), "{ me { role } }", json!({})).await;
    assert_eq!(ok["data"]["me"]["role"], "FACILITY_STAFF", "{ok}");
    let mut short_socket = Raw::ready(&app, &short).await;
    assert_eq!(
        short_socket.closed().await,
        4403,
        "its socket closes at the expiry"
    );
    assert_error(
        &app.gql(Some(&short), "{ me { role } }", json!({})).await,
        "UNAUTHENTICATED",
    );
    // A made-up key is simply invalid.
    assert_error(
        &app.gql(Some("kkh_made-up"), "{ me { role } }", json!({}))
            .await,
        "UNAUTHENTICATED",
    );
}

#[tokio::test]
async fn imports_are_idempotent_report_per_item_and_can_be_all_or_nothing() {
    let app = TestApp::spawn_with(|c| c.import_max_items = 5).await;
    let (admin, _) = app.login("admin@himawari.example").await;
    let (key, _) = api_key(&app, &admin, "請求ソフト", "SERVICE_MANAGER").await;

    let clients = json!([
        { "externalId": "K-001", "displayName": "井上 陽子", "nameKana": "いのうえ ようこ", "supportCategory": 3 },
        { "externalId": "K-002", "displayName": "木村 大輔", "nameKana": "きむら だいすけ" },
    ]);
    let first = app
        .gql(
            Some(&key),
            IMPORT_CLIENTS,
            json!({ "i": { "items": clients } }),
        )
        .await;
    let r = &first["data"]["importClients"];
    assert_eq!(
        (r["created"].as_i64(), r["committed"].as_bool()),
        (Some(2), Some(true)),
        "{first}"
    );

    let items = json!([
        observation_item("R-1", "K-001", "朝食を完食した。"),
        observation_item("R-2", "K-001", "午後の作業に30分参加した。"),
        observation_item("R-3", "K-002", "送迎車で9時に到着した。"),
    ]);
    let first = app
        .gql(
            Some(&key),
            IMPORT_OBSERVATIONS,
            json!({ "i": { "items": items } }),
        )
        .await;
    let r = &first["data"]["importObservations"];
    assert_eq!(r["created"], 3, "{first}");
    let ids: Vec<Value> = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].clone())
        .collect();

    // The same files again: nothing written, the same records named.
    let before = footprint(&app).await;
    let again = app
        .gql(
            Some(&key),
            IMPORT_CLIENTS,
            json!({ "i": { "items": clients } }),
        )
        .await;
    assert_eq!(again["data"]["importClients"]["unchanged"], 2, "{again}");
    let again = app
        .gql(
            Some(&key),
            IMPORT_OBSERVATIONS,
            json!({ "i": { "items": items } }),
        )
        .await;
    let r = &again["data"]["importObservations"];
    assert_eq!(r["unchanged"], 3, "{again}");
    let again_ids: Vec<Value> = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].clone())
        .collect();
    assert_eq!(ids, again_ids);
    assert_eq!(footprint(&app).await, before, "a replay writes nothing");

    // A changed item is an amendment (a new version), and says so; the single-item upsert agrees.
    let changed = app
        .gql(
            Some(&key),
            "mutation($i: ObservationImportItem!) { upsertObservation(input: $i) { outcome observation { id version fact externalId } } }",
            json!({ "i": observation_item("R-2", "K-001", "午後の作業に45分参加した。") }),
        )
        .await;
    let u = &changed["data"]["upsertObservation"];
    assert_eq!(u["outcome"], "UPDATED", "{changed}");
    assert_eq!(u["observation"]["version"], 2);
    assert_eq!(u["observation"]["id"], ids[1]);
    assert_eq!(u["observation"]["externalId"], "R-2");
    let same = app
        .gql(
            Some(&key),
            "mutation($i: ObservationImportItem!) { upsertObservation(input: $i) { outcome } }",
            json!({ "i": observation_item("R-2", "K-001", "午後の作業に45分参加した。") }),
        )
        .await;
    assert_eq!(
        same["data"]["upsertObservation"]["outcome"], "UNCHANGED",
        "{same}"
    );

    // Per item: bad items are reported with code and field, good ones commit.
    let mixed = json!([
        observation_item("R-4", "K-002", "昼食後に散歩した。"),
        observation_item("R-5", "K-999", "存在しない利用者"),
        observation_item("R-6", "K-001", "   "),
        { "externalId": "R-7", "clientId": "not-an-id", "content": { "fact": "x", "category": "ROUTINE", "occurredFrom": "2026-11-20T12:30:00+09:00" } },
    ]);
    let body = app
        .gql(
            Some(&key),
            IMPORT_OBSERVATIONS,
            json!({ "i": { "items": mixed } }),
        )
        .await;
    let r = &body["data"]["importObservations"];
    assert_eq!(
        (r["created"].as_i64(), r["failed"].as_i64()),
        (Some(1), Some(3)),
        "{body}"
    );
    let errs: Vec<(Value, Value)> = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["error"]["code"].clone(), i["error"]["field"].clone()))
        .collect();
    assert_eq!(errs[1], (json!("NOT_FOUND"), Value::Null));
    assert_eq!(errs[2], (json!("BAD_USER_INPUT"), json!("fact")));
    assert_eq!(errs[3].0, json!("BAD_USER_INPUT"));

    // All or nothing: one bad item and nothing is stored.
    let before = footprint(&app).await;
    let body = app
        .gql(
            Some(&key),
            IMPORT_OBSERVATIONS,
            json!({ "i": { "allOrNothing": true, "items": [
                observation_item("R-8", "K-002", "入浴を見守った。"),
                observation_item("R-9", "K-999", "存在しない利用者"),
            ] } }),
        )
        .await;
    let r = &body["data"]["importObservations"];
    assert_eq!(r["committed"], false, "{body}");
    assert_eq!(r["items"][0]["outcome"], "CREATED");
    assert_eq!(
        r["items"][0]["id"],
        Value::Null,
        "nothing was stored, so no id"
    );
    assert_eq!(footprint(&app).await, before);

    // At most the configured number of items per call.
    let six: Vec<Value> = (0..6)
        .map(|i| observation_item(&format!("B-{i}"), "K-001", "多すぎる"))
        .collect();
    let body = app
        .gql(
            Some(&key),
            IMPORT_OBSERVATIONS,
            json!({ "i": { "items": six } }),
        )
        .await;
    assert_error(&body, "BAD_USER_INPUT");

    // External ids are per organization: another facility's K-001 is another client, and it
    // cannot write into himawari's client by id.
    let (komorebi, _) = app.login("manager@komorebi.example").await;
    let k1 = r#"query { clientByExternalId(externalId: "K-001") { id displayName } }"#;
    let own = app.gql(Some(&key), k1, json!({})).await;
    assert_eq!(
        own["data"]["clientByExternalId"]["displayName"], "井上 陽子",
        "{own}"
    );
    let theirs = app.gql(Some(&komorebi), k1, json!({})).await;
    assert_eq!(
        theirs["data"]["clientByExternalId"],
        Value::Null,
        "{theirs}"
    );
    let client_uuid = own["data"]["clientByExternalId"]["id"].clone();
    let intrude = app
        .gql(
            Some(&komorebi),
            IMPORT_OBSERVATIONS,
            json!({ "i": { "items": [{ "externalId": "R-1", "clientId": client_uuid, "content": { "fact": "侵入", "category": "ROUTINE", "occurredFrom": "2026-11-20T12:30:00+09:00" } }] } }),
        )
        .await;
    assert_eq!(
        intrude["data"]["importObservations"]["items"][0]["error"]["code"], "NOT_FOUND",
        "{intrude}"
    );

    // A staff key cannot register clients; only the registering organization edits a profile.
    let (staff_key, _) = api_key(&app, &admin, "日報アプリ", "FACILITY_STAFF").await;
    let body = app
        .gql(
            Some(&staff_key),
            "mutation($i: RegisterClientInput!) { upsertClient(input: $i) { outcome } }",
            json!({ "i": { "externalId": "K-003", "displayName": "新規", "nameKana": "しんき" } }),
        )
        .await;
    assert_error(&body, "FORBIDDEN");
    let body = app
        .gql(
            Some(&key),
            "mutation($i: RegisterClientInput!) { upsertClient(input: $i) { outcome client { displayName version: supportCategory } } }",
            json!({ "i": { "externalId": "K-001", "displayName": "井上 陽子", "nameKana": "いのうえ ようこ", "supportCategory": 4 } }),
        )
        .await;
    assert_eq!(body["data"]["upsertClient"]["outcome"], "UPDATED", "{body}");
    assert_eq!(body["data"]["upsertClient"]["client"]["version"], 4);
}

/// Runs `kakehashi <args>` in this process, as the binary would.
async fn cli(args: &[&str]) -> anyhow::Result<()> {
    let mut all = vec!["kakehashi"];
    all.extend_from_slice(args);
    kakehashi_tools::cli::run_args(all, kakehashi::Config::default()).await
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

/// What Japanese offices have: a CSV saved by Excel (Shift_JIS, CP932, with ① and ㈱ that only
/// CP932 has), and JSON Lines in the API's own nested shape. Both import as written.
#[tokio::test]
async fn excel_shift_jis_csv_and_nested_json_lines_import_as_written() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.login("admin@himawari.example").await;
    let (key, _) = api_key(&app, &admin, "Excel取り込み", "SERVICE_MANAGER").await;
    let dir = tempfile::tempdir().unwrap();
    let url = app.url.clone();
    let clients = dir.path().join("利用者.csv");
    let text = "外部ID,氏名,ふりがな\r\nX-1,髙橋 ①子,たかはし いちこ\r\nX-2,㈱の 山﨑,やまざき\r\n";
    let (sjis, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!unmappable && std::str::from_utf8(&sjis).is_err());
    std::fs::write(&clients, &sjis).unwrap();
    let map = [
        "--map",
        "外部ID=externalId",
        "--map",
        "氏名=displayName",
        "--map",
        "ふりがな=nameKana",
    ];
    let mut args = vec![
        "import",
        clients.to_str().unwrap(),
        "--kind",
        "clients",
        "--url",
        &url,
        "--api-key",
        &key,
    ];
    args.extend_from_slice(&map);
    cli(&args).await.unwrap();
    let body = app
        .gql(Some(&admin), "{ a: clientByExternalId(externalId: \"X-1\") { displayName } b: clientByExternalId(externalId: \"X-2\") { displayName } }", json!({}))
        .await;
    assert_eq!(body["data"]["a"]["displayName"], "髙橋 ①子", "{body}");
    assert_eq!(body["data"]["b"]["displayName"], "㈱の 山﨑", "{body}");

    let records = dir.path().join("records.jsonl");
    write(
        &records,
        r#"{"externalId":"N-1","clientExternalId":"X-1","content":{"fact":"昼食を全量食べた。","category":"ROUTINE","occurredFrom":"2026-11-20T12:30:00+09:00","tags":["食事"]}}"#,
    );
    cli(&[
        "import",
        records.to_str().unwrap(),
        "--kind",
        "observations",
        "--url",
        &url,
        "--api-key",
        &key,
    ])
    .await
    .unwrap();
    let facts = snapshot(&app).await;
    assert!(
        facts
            .iter()
            .any(|(id, _, fact)| id == "N-1" && fact == "昼食を全量食べた。"),
        "{facts:?}"
    );

    // Bytes that no Japanese encoding reads: one message with the line and the fix.
    let broken = dir.path().join("broken.csv");
    std::fs::write(
        &broken,
        [
            b"externalId,displayName,nameKana\nY-1,".as_slice(),
            &[0x80, 0xFF],
            b",x\n",
        ]
        .concat(),
    )
    .unwrap();
    let e = cli(&[
        "import",
        broken.to_str().unwrap(),
        "--kind",
        "clients",
        "--url",
        &url,
        "--api-key",
        &key,
    ])
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains("line 2") && e.contains("CSV UTF-8"), "{e}");
}

/// Every observation of the organization as (external id, version, fact), sorted.
async fn snapshot(app: &TestApp) -> Vec<(String, i32, String)> {
    let db = &app.state.db;
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT external_id, version, fact FROM observations WHERE external_id IS NOT NULL ORDER BY external_id".to_owned(),
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            (
                r.try_get::<String>("", "external_id").unwrap(),
                r.try_get::<i32>("", "version").unwrap(),
                r.try_get::<String>("", "fact").unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_import_command_replays_without_change_and_resumes_after_an_interruption() {
    let mut app = TestApp::spawn().await;
    let (admin, _) = app.login("admin@himawari.example").await;
    let (key, _) = api_key(&app, &admin, "移行ツール", "SERVICE_MANAGER").await;
    let dir = tempfile::tempdir().unwrap();

    // Clients from JSON Lines, observations from a CSV with Japanese headers mapped onto fields.
    let clients = dir.path().join("clients.jsonl");
    write(
        &clients,
        "{\"externalId\":\"C-1\",\"displayName\":\"西田 優\",\"nameKana\":\"にしだ ゆう\",\"familyContacts\":[{\"name\":\"西田 恵\",\"relationship\":\"母\"}]}\n\n{\"external_id\":\"C-2\",\"display_name\":\"東 翔\",\"name_kana\":\"ひがし しょう\",\"support_category\":\"2\"}\n",
    );
    let url = app.url.clone();
    cli(&[
        "import",
        clients.to_str().unwrap(),
        "--kind",
        "clients",
        "--url",
        &url,
        "--api-key",
        &key,
    ])
    .await
    .unwrap();

    let rows = 300;
    let mut csv = String::from("記録ID,利用者ID,事実,分類,日時,タグ\n");
    for i in 0..rows {
        let client = if i % 2 == 0 { "C-1" } else { "C-2" };
        csv.push_str(&format!("R{i:04},{client},\"作業に{i}分参加した, 途中で休憩した\",routine,2026/11/{:02} 10:{:02},作業|午前\n", 1 + i % 20, i % 60));
    }
    // One bad row: reported in the errors file, the rest goes on.
    csv.push_str("R9999,C-1,,routine,2026/11/20 10:00,\n");
    let file = dir.path().join("records.csv");
    write(&file, &csv);
    let progress = dir.path().join("records.csv.progress.json");
    let errors = dir.path().join("records.csv.errors.jsonl");
    let args = |url: &str| {
        vec![
            "import".to_owned(),
            file.to_str().unwrap().to_owned(),
            "--kind".into(),
            "observations".into(),
            "--url".into(),
            url.to_owned(),
            "--api-key".into(),
            key.clone(),
            "--batch".into(),
            "5".into(),
            "--map".into(),
            "記録ID=externalId".into(),
            "--map".into(),
            "利用者ID=clientExternalId".into(),
            "--map".into(),
            "事実=fact".into(),
            "--map".into(),
            "分類=category".into(),
            "--map".into(),
            "日時=occurredFrom".into(),
            "--map".into(),
            "タグ=tags".into(),
        ]
    };

    // Interrupt the first run: the server goes away after a few batches have committed.
    let first_args = args(&url);
    let run = tokio::spawn(async move {
        let refs: Vec<&str> = first_args.iter().map(String::as_str).collect();
        cli(&refs).await
    });
    let done_at_stop = loop {
        if let Ok(text) = std::fs::read_to_string(&progress)
            && let Ok(v) = serde_json::from_str::<Value>(&text)
            && v["done"].as_u64().unwrap_or(0) >= 20
        {
            app.stop();
            break v["done"].as_u64().unwrap();
        }
        assert!(
            !run.is_finished(),
            "the import finished before it could be interrupted"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    let outcome = run.await.unwrap();
    assert!(outcome.is_err(), "the interrupted run reports the failure");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&progress).unwrap()).unwrap();
    let saved = saved["done"].as_u64().unwrap();
    assert!(
        saved >= done_at_stop && saved < rows + 1,
        "progress {saved} of {rows}"
    );

    // Restart on another instance of the same database: it completes without duplicates.
    let sibling = app.spawn_sibling().await;
    let resumed_args = args(&sibling.url);
    let refs: Vec<&str> = resumed_args.iter().map(String::as_str).collect();
    cli(&refs).await.unwrap();
    assert!(
        !progress.exists(),
        "a finished import leaves no position behind"
    );
    let after = snapshot(&sibling).await;
    assert_eq!(after.len(), rows as usize, "every row once, none twice");
    assert!(after.iter().all(|(_, version, _)| *version == 1));
    assert_eq!(after[7].2, "作業に7分参加した, 途中で休憩した");
    let refused = std::fs::read_to_string(&errors).unwrap();
    assert!(refused.contains("\"field\":\"fact\""), "{refused}");
    let errors_lines: Vec<&str> = refused.lines().collect();
    assert_eq!(
        errors_lines.len(),
        1,
        "the bad row is reported once: {refused}"
    );

    // Replaying the whole file changes nothing at all.
    let before = footprint(&sibling).await;
    cli(&refs).await.unwrap();
    assert_eq!(snapshot(&sibling).await, after);
    assert_eq!(footprint(&sibling).await, before);

    // Export: the client's history as JSON, with what was imported.
    let out = dir.path().join("export.json");
    cli(&[
        "export",
        "--client-external-id",
        "C-1",
        "--url",
        &sibling.url,
        "--api-key",
        &key,
        "--out",
        out.to_str().unwrap(),
    ])
    .await
    .unwrap();
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(doc["format"], "kakehashi-client-export");
    assert_eq!(doc["client"]["displayName"], "西田 優");
    assert_eq!(doc["client"]["familyContacts"][0]["relationship"], "母");
    assert_eq!(
        doc["client"]["careTeam"][0]["organization"]["name"]
            .as_str()
            .map(|s| !s.is_empty()),
        Some(true)
    );
    assert_eq!(
        doc["observations"].as_array().unwrap().len(),
        rows as usize / 2,
        "all pages"
    );
    assert!(doc["supportPlans"].is_array() && doc["meetings"].is_array());

    // Another organization cannot export a client it does not serve.
    let (other_admin, _) = sibling.login("admin@aozora.example").await;
    let (other_key, _) = api_key(
        &sibling,
        &other_admin,
        "他事業所",
        "CONSULTATION_SPECIALIST",
    )
    .await;
    let client = doc["client"]["id"].as_str().unwrap().to_owned();
    let denied = cli(&[
        "export",
        "--client",
        &client,
        "--url",
        &sibling.url,
        "--api-key",
        &other_key,
    ])
    .await;
    let message = format!("{:#}", denied.unwrap_err());
    assert!(message.contains("NOT_FOUND"), "{message}");
    drop(sibling);
}

#[tokio::test]
async fn creating_plans_meetings_and_staff_again_with_the_same_external_id_returns_the_first() {
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let (admin, _) = app.login("admin@himawari.example").await;
    let yamada = client_id(&app, &specialist, "山田 太郎").await;
    let mori = client_id(&app, &specialist, "森 陽介").await;

    let mut plan = crate::plans_meetings::plan_input(&yamada, "SERVICE_USE_PLAN");
    plan["externalId"] = json!("PLAN-2026-12");
    let create = "mutation($i: CreateSupportPlanInput!) { createSupportPlan(input: $i) { supportPlan { id version externalId } } }";
    let first = app
        .gql(Some(&specialist), create, json!({ "i": plan }))
        .await;
    let again = app
        .gql(Some(&specialist), create, json!({ "i": plan }))
        .await;
    let id = &first["data"]["createSupportPlan"]["supportPlan"]["id"];
    assert!(id.is_string(), "{first}");
    assert_eq!(&again["data"]["createSupportPlan"]["supportPlan"]["id"], id);
    assert_eq!(
        again["data"]["createSupportPlan"]["supportPlan"]["version"],
        1
    );
    assert_eq!(
        first["data"]["createSupportPlan"]["supportPlan"]["externalId"],
        "PLAN-2026-12"
    );
    plan["clientId"] = json!(mori);
    assert_error(
        &app.gql(Some(&specialist), create, json!({ "i": plan }))
            .await,
        "CONFLICT",
    );

    let when = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let schedule = "mutation($i: ScheduleMeetingInput!) { scheduleMeeting(input: $i) { meeting { id externalId } } }";
    let input = json!({ "i": { "clientId": yamada, "kind": "SERVICE_COORDINATION", "scheduledAt": when, "online": true, "externalId": "MTG-1" } });
    let first = app.gql(Some(&specialist), schedule, input.clone()).await;
    let again = app.gql(Some(&specialist), schedule, input).await;
    assert!(
        first["data"]["scheduleMeeting"]["meeting"]["id"].is_string(),
        "{first}"
    );
    assert_eq!(
        again["data"]["scheduleMeeting"]["meeting"]["id"],
        first["data"]["scheduleMeeting"]["meeting"]["id"]
    );
    let meetings = app
        .gql(
            Some(&specialist),
            "query($c: ID!) { client(id: $c) { meetings { externalId } } }",
            json!({ "c": yamada }),
        )
        .await;
    let with_id = meetings["data"]["client"]["meetings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["externalId"] == "MTG-1")
        .count();
    assert_eq!(with_id, 1, "{meetings}");
    // Another organization never sees your external ids.
    let (manager, _) = app.login("manager@himawari.example").await;
    let theirs = app
        .gql(
            Some(&manager),
            "query($c: ID!) { client(id: $c) { meetings { externalId } } }",
            json!({ "c": yamada }),
        )
        .await;
    assert!(
        theirs["data"]["client"]["meetings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["externalId"].is_null()),
        "{theirs}"
    );

    let staff = "mutation($i: CreateStaffMemberInput!) { createStaffMember(input: $i) { staffMember { id externalId } } }";
    let input = json!({ "i": { "email": "new@himawari.example", "displayName": "新人 職員", "role": "FACILITY_STAFF", "initialPassword": "a-long-initial-pass", "externalId": "HR-77" } });
    let first = app.gql(Some(&admin), staff, input.clone()).await;
    let again = app.gql(Some(&admin), staff, input).await;
    assert_eq!(
        first["data"]["createStaffMember"]["staffMember"]["externalId"], "HR-77",
        "{first}"
    );
    assert_eq!(
        again["data"]["createStaffMember"]["staffMember"]["id"],
        first["data"]["createStaffMember"]["staffMember"]["id"]
    );
    let other = json!({ "i": { "email": "other@himawari.example", "displayName": "別人", "role": "FACILITY_STAFF", "initialPassword": "a-long-initial-pass", "externalId": "HR-77" } });
    assert_error(&app.gql(Some(&admin), staff, other).await, "CONFLICT");
}

/// `kakehashi import --kind plans`: a JSON line per plan, with the national form's fields; a
/// client named by the organization's external id; refusals in the errors file with their line
/// and code (one refused by the reader, one by the server, one for an unknown client); a replay
/// sends nothing new. CSV is refused with the reason, before anything is sent.
#[tokio::test]
async fn the_import_command_takes_plans_with_their_form_fields() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.login("admin@aozora.example").await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let (key, _) = api_key(&app, &admin, "計画の移行", "CONSULTATION_SPECIALIST").await;
    let yamada = client_id(&app, &specialist, "山田 太郎").await;
    // A client the office knows by its own external id.
    let reg = app.gql(Some(&specialist), "mutation { registerClient(input: { displayName: \"移行 花子\", nameKana: \"いこう はなこ\", externalId: \"K-77\" }) { client { id } } }", json!({})).await;
    let hanako = reg["data"]["registerClient"]["client"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{reg}"))
        .to_owned();
    let content = json!({
        "clientWishes": "「一人で買い物に行けるようになりたい」",
        "planAuthor": "渡辺 直子",
        "proposalDate": "2026-11-02",
        "goals": [{ "text": "週1回、職員と近所のスーパーへ買い物に行く", "expressedBy": "CLIENT", "achievement": "NOT_ASSESSED" }],
        "needs": [{ "priority": 1, "need": "一人で外出するのが不安", "supportGoal": "慣れた道を一人で歩ける",
            "serviceType": "行動援護", "amount": "月8時間", "clientRole": "行き先を前日に決める" }],
        "weeklyPlan": { "slots": [{ "weekday": "SATURDAY", "startTime": "10:00", "endTime": "12:00", "activity": "行動援護", "service": true }],
            "nonWeeklyServices": "月1回 短期入所" }
    });
    let line = |v: Value| v.to_string();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plans.jsonl");
    write(
        &file,
        &[
            line(
                json!({ "externalId": "P-1", "clientExternalId": "K-77", "kind": "SERVICE_USE_PLAN", "periodFrom": "2026-12-01", "periodTo": "2027-11-30", "content": content }),
            ),
            line(
                json!({ "externalId": "P-2", "clientId": yamada, "kind": "SERVICE_USE_PLAN", "periodFrom": "2026-12-01", "content": content }),
            ),
            line(
                json!({ "externalId": "P-3", "clientId": yamada, "kind": "SERVICE_USE_PLAN", "periodFrom": "2026-12-01" }),
            ),
            line(
                json!({ "externalId": "P-4", "clientExternalId": "NO-SUCH", "kind": "SERVICE_USE_PLAN", "periodFrom": "2026-12-01", "content": content }),
            ),
            line(
                json!({ "externalId": "P-5", "clientId": yamada, "kind": "SERVICE_USE_PLAN", "periodFrom": "2026-12-01", "periodTo": "2026-11-01", "content": content }),
            ),
        ]
        .join("\n"),
    );
    let args = [
        "import",
        file.to_str().unwrap(),
        "--kind",
        "plans",
        "--url",
        &app.url,
        "--api-key",
        &key,
    ];
    cli(&args).await.unwrap();

    let plans = "query($c: ID!) { client(id: $c) { supportPlans { externalId status content { planAuthor proposalDate needs { priority serviceType clientRole } weeklyPlan { slots { weekday startTime } nonWeeklyServices } } } } }";
    let read = |c: String| {
        let app = &app;
        let specialist = specialist.clone();
        async move {
            let body = app.gql(Some(&specialist), plans, json!({ "c": c })).await;
            body["data"]["client"]["supportPlans"]
                .as_array()
                .unwrap_or_else(|| panic!("{body}"))
                .iter()
                .filter(|p| p["externalId"].is_string())
                .cloned()
                .collect::<Vec<_>>()
        }
    };
    let imported = read(hanako.clone()).await;
    let errors_file = dir.path().join("plans.jsonl.errors.jsonl");
    assert_eq!(
        imported.len(),
        1,
        "{imported:?} {}",
        std::fs::read_to_string(&errors_file).unwrap_or_default()
    );
    let p = &imported[0];
    assert_eq!(p["externalId"], "P-1");
    assert_eq!(p["status"], "DRAFT");
    assert_eq!(p["content"]["planAuthor"], "渡辺 直子");
    assert_eq!(p["content"]["proposalDate"], "2026-11-02");
    assert_eq!(
        p["content"]["needs"][0]["clientRole"],
        "行き先を前日に決める"
    );
    assert_eq!(
        p["content"]["weeklyPlan"]["slots"][0]["weekday"],
        "SATURDAY"
    );
    assert_eq!(
        p["content"]["weeklyPlan"]["nonWeeklyServices"],
        "月1回 短期入所"
    );
    let theirs: Vec<Value> = read(yamada.clone())
        .await
        .into_iter()
        .map(|p| p["externalId"].clone())
        .collect();
    assert_eq!(theirs, vec![json!("P-2")]);

    // Refusals: the reader's (no content), the unknown client's, the server's (period).
    let errors = std::fs::read_to_string(dir.path().join("plans.jsonl.errors.jsonl")).unwrap();
    let errors: Vec<Value> = errors
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut seen: Vec<(Value, Value, Value)> = errors
        .iter()
        .map(|e| (e["line"].clone(), e["code"].clone(), e["field"].clone()))
        .collect();
    seen.sort_by_key(|(line, _, _)| line.as_u64());
    assert_eq!(
        seen,
        vec![
            (json!(3), json!("BAD_USER_INPUT"), json!("content")),
            (json!(4), json!("NOT_FOUND"), json!("clientExternalId")),
            (json!(5), json!("BAD_USER_INPUT"), json!("periodTo")),
        ],
        "{errors:?}"
    );

    // A replay creates nothing.
    let before = count(&app, "support_plans").await;
    cli(&args).await.unwrap();
    assert_eq!(count(&app, "support_plans").await, before);
    assert_eq!(read(hanako).await.len(), 1);

    // CSV cannot hold a plan: refused with the reason, nothing sent.
    let csv = dir.path().join("plans.csv");
    write(&csv, "externalId,kind\nP-9,SERVICE_USE_PLAN\n");
    let e = cli(&[
        "import",
        csv.to_str().unwrap(),
        "--kind",
        "plans",
        "--url",
        &app.url,
        "--api-key",
        &key,
    ])
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains("JSON Lines"), "{e}");
    assert_eq!(count(&app, "support_plans").await, before);
}
