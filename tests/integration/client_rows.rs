//! A client's row is kept between requests (nearly every read of a client starts with it) and
//! must still be the truth after a change: a profile written through one instance shows on the
//! next read, on that instance and on another one sharing the database.

use serde_json::{Value, json};

use crate::{helpers::*, integrations::api_key};

const IMPORT: &str = "mutation($i: ImportClientsInput!) { importClients(input: $i) { created updated items { id } } }";
const READ: &str =
    "query($c: ID!) { client(id: $c) { displayName nameKana history(first: 5) { totalCount } } }";

async fn import(app: &TestApp, key: &str, name: &str, kana: &str) -> Value {
    let body = app
        .gql(
            Some(key),
            IMPORT,
            json!({ "i": { "items": [{ "externalId": "K-100", "displayName": name, "nameKana": kana }] } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["importClients"].clone()
}

async fn shown(app: &TestApp, token: &str, client: &str) -> (String, String) {
    let body = app.gql(Some(token), READ, json!({ "c": client })).await;
    assert!(body.get("errors").is_none(), "{body}");
    let c = &body["data"]["client"];
    (
        c["displayName"].as_str().unwrap().to_owned(),
        c["nameKana"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_changed_profile_shows_on_the_next_read_on_every_instance() {
    let app = TestApp::spawn().await;
    let sibling = app.spawn_sibling().await;
    let (admin, _) = app.login("admin@himawari.example").await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let (key, _) = api_key(&app, &admin, "請求ソフト", "SERVICE_MANAGER").await;

    let created = import(&app, &key, "井上 陽子", "いのうえ ようこ").await;
    assert_eq!(created["created"], 1, "{created}");
    let client = created["items"][0]["id"].as_str().unwrap().to_owned();
    let before = ("井上 陽子".to_owned(), "いのうえ ようこ".to_owned());
    // Read twice on each instance, so that each keeps the row.
    for server in [&app, &sibling, &app, &sibling] {
        assert_eq!(shown(server, &staff, &client).await, before);
    }

    let updated = import(&app, &key, "井上 洋子", "いのうえ ひろこ").await;
    assert_eq!(updated["updated"], 1, "{updated}");
    let after = ("井上 洋子".to_owned(), "いのうえ ひろこ".to_owned());
    assert_eq!(
        shown(&app, &staff, &client).await,
        after,
        "the instance that wrote shows the change on its next read"
    );
    // The other instance hears of it through its event hub (NOTIFY on PostgreSQL, a poll on
    // SQLite); a kept row must not outlive that.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let seen = shown(&sibling, &staff, &client).await;
        if seen == after {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the other instance still shows {seen:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    drop(sibling);
}
