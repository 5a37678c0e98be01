//! Bootstrapping a real installation from the command line, without demo data.

use kakehashi_tools::cli::run_args;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn create_org_and_create_admin_bootstrap_an_installation() {
    let app = TestApp::spawn_empty_with(|_| {}).await;
    let config = TestApp::config(app.db.url());
    run_args(
        [
            "kakehashi",
            "create-org",
            "--kind",
            "facility",
            "--name",
            "さくら工房",
            "--municipality",
            "横浜市",
            "--service-type",
            "生活介護",
            "--office-number",
            "1410200031",
        ],
        config.clone(),
    )
    .await
    .expect("create-org");
    let dir = tempfile::tempdir().unwrap();
    let password_file = dir.path().join("password");
    std::fs::write(&password_file, "bootstrap-password-1\n").unwrap();
    run_args(
        [
            "kakehashi",
            "create-admin",
            "--org",
            "1410200031",
            "--email",
            "admin@sakura.example",
            "--name",
            "管理者",
            "--password-file",
            password_file.to_str().unwrap(),
        ],
        config.clone(),
    )
    .await
    .expect("create-admin");

    let (token, _) = app
        .login_with("admin@sakura.example", "bootstrap-password-1")
        .await
        .expect("login");
    let me = app
        .gql(
            Some(&token),
            "{ me { role organization { name serviceTypes officeNumber } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["data"]["me"]["role"], "ORG_ADMIN", "{me}");
    assert_eq!(me["data"]["me"]["organization"]["name"], "さくら工房");
    assert_eq!(
        me["data"]["me"]["organization"]["officeNumber"],
        "1410200031"
    );

    // Bad input is refused with a readable message, and nothing half-made remains.
    let err = run_args(
        [
            "kakehashi",
            "create-org",
            "--kind",
            "facility",
            "--name",
            "x",
            "--municipality",
            "y",
        ],
        config.clone(),
    )
    .await
    .unwrap_err();
    assert!(format!("{err:#}").contains("BAD_USER_INPUT"), "{err:#}");
    let err = run_args(
        [
            "kakehashi",
            "create-org",
            "--kind",
            "consultation-office",
            "--name",
            "重複",
            "--municipality",
            "y",
            "--office-number",
            "1410200031",
        ],
        config,
    )
    .await
    .unwrap_err();
    assert!(format!("{err:#}").contains("CONFLICT"), "{err:#}");
}
