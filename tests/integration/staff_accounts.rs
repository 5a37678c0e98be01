//! Org admins manage their own organization's accounts; deactivation locks an account out at once.

use serde_json::{Value, json};

use crate::helpers::*;

const CREATE: &str = "mutation($i: CreateStaffMemberInput!) {
  createStaffMember(input: $i) { staffMember { id email displayName role active organization { name } } }
}";
const DEACTIVATE: &str = "mutation($id: ID!) { deactivateStaffMember(input: { staffMemberId: $id }) { staffMember { active } } }";
const REACTIVATE: &str = "mutation($id: ID!) { reactivateStaffMember(input: { staffMemberId: $id }) { staffMember { active } } }";

fn new_staff(email: &str, role: &str) -> Value {
    json!({ "i": { "email": email, "displayName": "小林 さくら", "role": role, "initialPassword": "first-password-123" } })
}

#[tokio::test]
async fn an_admin_creates_staff_who_can_then_sign_in() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.login("admin@himawari.example").await;
    let body = app
        .gql(
            Some(&admin),
            CREATE,
            new_staff("Kobayashi@Himawari.example", "FACILITY_STAFF"),
        )
        .await;
    let member = &body["data"]["createStaffMember"]["staffMember"];
    assert_eq!(member["email"], "kobayashi@himawari.example", "{body}");
    assert_eq!(member["role"], "FACILITY_STAFF");
    assert_eq!(member["active"], true);
    assert_eq!(member["organization"]["name"], "ひまわり作業所");
    assert!(
        app.login_with("kobayashi@himawari.example", "first-password-123")
            .await
            .is_ok()
    );

    // The same email again is a conflict.
    let again = app
        .gql(
            Some(&admin),
            CREATE,
            new_staff("kobayashi@himawari.example", "FACILITY_STAFF"),
        )
        .await;
    assert_error(&again, "CONFLICT");
}

#[tokio::test]
async fn roles_must_fit_the_organization_and_only_admins_create_accounts() {
    let app = TestApp::spawn().await;
    let (facility_admin, _) = app.login("admin@himawari.example").await;
    let (office_admin, _) = app.login("admin@aozora.example").await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let (manager, _) = app.login("manager@himawari.example").await;
    let (specialist, _) = app.login("specialist@aozora.example").await;

    let wrong_role = app
        .gql(
            Some(&facility_admin),
            CREATE,
            new_staff("a@himawari.example", "CONSULTATION_SPECIALIST"),
        )
        .await;
    assert_error(&wrong_role, "BAD_USER_INPUT");
    assert_eq!(wrong_role["errors"][0]["extensions"]["field"], "role");
    let wrong_role = app
        .gql(
            Some(&office_admin),
            CREATE,
            new_staff("b@aozora.example", "SERVICE_MANAGER"),
        )
        .await;
    assert_error(&wrong_role, "BAD_USER_INPUT");
    let ok = app
        .gql(
            Some(&office_admin),
            CREATE,
            new_staff("c@aozora.example", "CONSULTATION_SPECIALIST"),
        )
        .await;
    assert!(ok.get("errors").is_none(), "{ok}");

    for token in [&staff, &manager, &specialist] {
        let body = app
            .gql(
                Some(token),
                CREATE,
                new_staff("d@himawari.example", "FACILITY_STAFF"),
            )
            .await;
        assert_error(&body, "FORBIDDEN");
    }
    assert_error(
        &app.gql(
            None,
            CREATE,
            new_staff("e@himawari.example", "FACILITY_STAFF"),
        )
        .await,
        "UNAUTHENTICATED",
    );

    // Bad input is named by field, nothing is stored.
    let bad = app.gql(Some(&facility_admin), CREATE, json!({ "i": { "email": "not-an-email", "displayName": "x", "role": "FACILITY_STAFF", "initialPassword": "first-password-123" } })).await;
    assert_error(&bad, "BAD_USER_INPUT");
    assert_eq!(bad["errors"][0]["extensions"]["field"], "email");
    let short = app.gql(Some(&facility_admin), CREATE, json!({ "i": { "email": "f@himawari.example", "displayName": "x", "role": "FACILITY_STAFF", "initialPassword": "short" } })).await;
    assert_error(&short, "BAD_USER_INPUT");
    assert!(app.login_with("f@himawari.example", "short").await.is_err());
}

pub(crate) async fn staff_id(app: &TestApp, admin: &str, email: &str) -> String {
    let body = app
        .gql(
            Some(admin),
            "{ staffMembers(first: 100, includeInactive: true) { nodes { id email } } }",
            json!({}),
        )
        .await;
    body["data"]["staffMembers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["email"] == email)
        .unwrap_or_else(|| panic!("{email} not in {body}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn deactivation_locks_the_account_out_at_once_and_reactivation_lets_it_back() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.login("admin@himawari.example").await;
    let (staff_token, staff_refresh) = app.login("staff@himawari.example").await;
    let id = staff_id(&app, &admin, "staff@himawari.example").await;

    let body = app.gql(Some(&admin), DEACTIVATE, json!({ "id": id })).await;
    assert_eq!(
        body["data"]["deactivateStaffMember"]["staffMember"]["active"], false,
        "{body}"
    );

    assert_error(
        &app.gql(Some(&staff_token), "{ me { role } }", json!({}))
            .await,
        "UNAUTHENTICATED",
    );
    let refreshed = app
        .gql(
            None,
            "mutation($t: String!) { refreshSession(input: { refreshToken: $t }) { accessToken } }",
            json!({ "t": staff_refresh }),
        )
        .await;
    assert_error(&refreshed, "UNAUTHENTICATED");
    let login = app
        .login_with("staff@himawari.example", DEMO_PASSWORD)
        .await
        .unwrap_err();
    assert_error(&login, "UNAUTHENTICATED");

    // Inactive accounts are hidden from the default list.
    let list = app
        .gql(
            Some(&admin),
            "{ staffMembers { totalCount nodes { email } } }",
            json!({}),
        )
        .await;
    assert!(
        !list.to_string().contains("staff@himawari.example"),
        "{list}"
    );

    let body = app.gql(Some(&admin), REACTIVATE, json!({ "id": id })).await;
    assert_eq!(
        body["data"]["reactivateStaffMember"]["staffMember"]["active"], true,
        "{body}"
    );
    assert!(
        app.login_with("staff@himawari.example", DEMO_PASSWORD)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn nobody_manages_another_organizations_accounts() {
    let app = TestApp::spawn().await;
    let (himawari_admin, _) = app.login("admin@himawari.example").await;
    let (aozora_admin, _) = app.login("admin@aozora.example").await;
    let (manager, _) = app.login("manager@himawari.example").await;
    let aozora_specialist = staff_id(&app, &aozora_admin, "specialist@aozora.example").await;
    let himawari_staff = staff_id(&app, &himawari_admin, "staff@himawari.example").await;

    // Another organization's account is invisible: NOT_FOUND, and it keeps working.
    let body = app
        .gql(
            Some(&himawari_admin),
            DEACTIVATE,
            json!({ "id": aozora_specialist }),
        )
        .await;
    assert_error(&body, "NOT_FOUND");
    assert!(
        app.login_with("specialist@aozora.example", DEMO_PASSWORD)
            .await
            .is_ok()
    );

    // A colleague who is not admin sees the account but may not change it.
    assert_error(
        &app.gql(Some(&manager), DEACTIVATE, json!({ "id": himawari_staff }))
            .await,
        "FORBIDDEN",
    );
    // An admin cannot lock themselves out.
    let own = staff_id(&app, &himawari_admin, "admin@himawari.example").await;
    assert_error(
        &app.gql(Some(&himawari_admin), DEACTIVATE, json!({ "id": own }))
            .await,
        "FORBIDDEN",
    );

    // Staff lists only ever show the viewer's organization, and contact details of others are hidden.
    let list = app
        .gql(
            Some(&manager),
            "{ staffMembers { totalCount nodes { email organization { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(list["data"]["staffMembers"]["totalCount"], 3, "{list}");
    for n in list["data"]["staffMembers"]["nodes"].as_array().unwrap() {
        assert_eq!(n["organization"]["name"], "ひまわり作業所");
    }
    // Ids of the wrong type are NOT_FOUND, malformed ones BAD_USER_INPUT.
    let org_id = list_org_id(&app, &manager).await;
    assert_error(
        &app.gql(Some(&himawari_admin), DEACTIVATE, json!({ "id": org_id }))
            .await,
        "NOT_FOUND",
    );
    assert_error(
        &app.gql(Some(&himawari_admin), DEACTIVATE, json!({ "id": "%%%" }))
            .await,
        "BAD_USER_INPUT",
    );
}

async fn list_org_id(app: &TestApp, token: &str) -> String {
    let body = app
        .gql(Some(token), "{ me { organization { id } } }", json!({}))
        .await;
    body["data"]["me"]["organization"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

const CHANGE: &str = "mutation($c: String!, $n: String!) { changePassword(input: { currentPassword: $c, newPassword: $n }) { changed } }";

#[tokio::test]
async fn staff_change_their_own_password_and_other_sessions_end() {
    let app = TestApp::spawn().await;
    let (token, _) = app.login("specialist@mirai.example").await;
    let (other_session, _) = app.login("specialist@mirai.example").await;

    let wrong = app
        .gql(
            Some(&token),
            CHANGE,
            json!({ "c": "not-my-password", "n": "a-brand-new-password" }),
        )
        .await;
    assert_error(&wrong, "BAD_USER_INPUT");
    assert_eq!(wrong["errors"][0]["extensions"]["field"], "currentPassword");
    let short = app
        .gql(
            Some(&token),
            CHANGE,
            json!({ "c": DEMO_PASSWORD, "n": "short" }),
        )
        .await;
    assert_error(&short, "BAD_USER_INPUT");

    let ok = app
        .gql(
            Some(&token),
            CHANGE,
            json!({ "c": DEMO_PASSWORD, "n": "a-brand-new-password" }),
        )
        .await;
    assert_eq!(ok["data"]["changePassword"]["changed"], true, "{ok}");
    assert!(
        app.gql(Some(&token), "{ me { role } }", json!({}))
            .await
            .get("errors")
            .is_none()
    );
    assert_error(
        &app.gql(Some(&other_session), "{ me { role } }", json!({}))
            .await,
        "UNAUTHENTICATED",
    );
    assert!(
        app.login_with("specialist@mirai.example", DEMO_PASSWORD)
            .await
            .is_err()
    );
    assert!(
        app.login_with("specialist@mirai.example", "a-brand-new-password")
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn the_organization_directory_pages_with_bounded_sizes() {
    let app = TestApp::spawn().await;
    let (token, _) = app.login("specialist@aozora.example").await;
    let q = "query($first: Int, $after: String, $kind: OrganizationKind) {
      organizations(first: $first, after: $after, kind: $kind) {
        totalCount pageInfo { hasNextPage endCursor } nodes { name kind serviceTypes officeNumber }
      }
    }";
    let page1 = app.gql(Some(&token), q, json!({ "first": 3 })).await;
    let conn = &page1["data"]["organizations"];
    assert_eq!(conn["totalCount"], 4, "{page1}");
    assert_eq!(conn["nodes"].as_array().unwrap().len(), 3);
    assert_eq!(conn["pageInfo"]["hasNextPage"], true);
    let page2 = app
        .gql(
            Some(&token),
            q,
            json!({ "first": 3, "after": conn["pageInfo"]["endCursor"] }),
        )
        .await;
    let rest = page2["data"]["organizations"]["nodes"].as_array().unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(
        page2["data"]["organizations"]["pageInfo"]["hasNextPage"],
        false
    );

    let facilities = app
        .gql(Some(&token), q, json!({ "kind": "FACILITY" }))
        .await;
    let names: Vec<&str> = facilities["data"]["organizations"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ひまわり作業所", "グループホームこもれび"]);
    assert_eq!(
        facilities["data"]["organizations"]["nodes"][0]["serviceTypes"],
        json!(["就労継続支援B型"])
    );

    for (first, after) in [
        (json!(1000), Value::Null),
        (json!(-1), Value::Null),
        (json!(2), json!("not-a-cursor")),
    ] {
        let body = app
            .gql(Some(&token), q, json!({ "first": first, "after": after }))
            .await;
        assert_error(&body, "BAD_USER_INPUT");
    }
    assert_error(&app.gql(None, q, json!({})).await, "UNAUTHENTICATED");
}

#[tokio::test]
async fn node_shows_staff_members_only_to_their_own_organization() {
    let app = TestApp::spawn().await;
    let (himawari_admin, _) = app.login("admin@himawari.example").await;
    let (manager, _) = app.login("manager@himawari.example").await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let id = staff_id(&app, &himawari_admin, "staff@himawari.example").await;
    let q = "query($id: ID!) { node(id: $id) { ... on StaffMember { displayName email } } }";
    let own = app.gql(Some(&manager), q, json!({ "id": id })).await;
    assert_eq!(
        own["data"]["node"]["email"], "staff@himawari.example",
        "{own}"
    );
    assert_error(
        &app.gql(Some(&specialist), q, json!({ "id": id })).await,
        "NOT_FOUND",
    );
}
