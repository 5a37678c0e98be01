//! Sign-in, tokens and sessions: what a client relies on, and every way a bad credential fails.

use std::time::{Duration, Instant};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::helpers::*;

const ME: &str = "{ me { role organization { name kind } staffMember { displayName email } } }";

#[tokio::test]
async fn every_demo_account_signs_in_and_me_names_role_and_organization() {
    let app = TestApp::spawn().await;
    let accounts = [
        (
            "staff@himawari.example",
            "FACILITY_STAFF",
            "ひまわり作業所",
            "FACILITY",
        ),
        (
            "manager@himawari.example",
            "SERVICE_MANAGER",
            "ひまわり作業所",
            "FACILITY",
        ),
        (
            "admin@himawari.example",
            "ORG_ADMIN",
            "ひまわり作業所",
            "FACILITY",
        ),
        (
            "staff@komorebi.example",
            "FACILITY_STAFF",
            "グループホームこもれび",
            "FACILITY",
        ),
        (
            "manager@komorebi.example",
            "SERVICE_MANAGER",
            "グループホームこもれび",
            "FACILITY",
        ),
        (
            "specialist@aozora.example",
            "CONSULTATION_SPECIALIST",
            "あおぞら相談支援センター",
            "CONSULTATION_OFFICE",
        ),
        (
            "admin@aozora.example",
            "ORG_ADMIN",
            "あおぞら相談支援センター",
            "CONSULTATION_OFFICE",
        ),
        (
            "specialist@mirai.example",
            "CONSULTATION_SPECIALIST",
            "みらい相談室",
            "CONSULTATION_OFFICE",
        ),
    ];
    for (email, role, org, kind) in accounts {
        // Email is case-insensitive and trimmed.
        let (access, _) = app.login(&format!("  {}", email.to_uppercase())).await;
        let body = app.gql(Some(&access), ME, json!({})).await;
        assert!(body.get("errors").is_none(), "{body}");
        let me = &body["data"]["me"];
        assert_eq!(me["role"], role, "{email}");
        assert_eq!(me["organization"]["name"], org);
        assert_eq!(me["organization"]["kind"], kind);
        assert_eq!(me["staffMember"]["email"], email);
    }
}

#[tokio::test]
async fn me_without_a_token_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let body = app.gql(None, ME, json!({})).await;
    assert_error(&body, "UNAUTHENTICATED");
    assert!(body["data"].is_null());
}

fn forge(header: Header, claims: &Value, key: &[u8]) -> String {
    encode(&header, claims, &EncodingKey::from_secret(key)).unwrap()
}

#[tokio::test]
async fn forged_expired_wrong_audience_alg_none_and_refresh_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let (access, refresh) = app.login("staff@himawari.example").await;
    // Take the real claims so that only one thing differs in each case.
    let payload = access.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let with = |k: &str, v: Value| {
        let mut c = claims.clone();
        c[k] = v;
        c
    };
    let typed = || {
        let mut h = Header::new(Algorithm::HS256);
        h.typ = Some("at+jwt".into());
        h
    };
    let secret = TEST_JWT_SECRET.as_bytes();
    let now = chrono::Utc::now().timestamp();

    // Control: re-signing the same claims with the right key works, so each refusal below is
    // caused by the one thing changed.
    let control = forge(typed(), &claims, secret);
    assert!(
        app.gql(Some(&control), ME, json!({}))
            .await
            .get("errors")
            .is_none()
    );

    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
    let none_token = format!("{none_header}.{payload}.");
    let cases = [
        (
            "forged (wrong key)",
            forge(typed(), &claims, b"not-the-server-secret-not-the-server"),
        ),
        (
            "expired",
            forge(typed(), &with("exp", json!(now - 120)), secret),
        ),
        (
            "wrong audience",
            forge(typed(), &with("aud", json!("another-api")), secret),
        ),
        (
            "wrong issuer",
            forge(typed(), &with("iss", json!("someone-else")), secret),
        ),
        ("alg none", none_token),
        ("refresh token as access token", refresh.clone()),
        (
            "untyped",
            forge(Header::new(Algorithm::HS256), &claims, secret),
        ),
        ("garbage", "abc.def.ghi".to_owned()),
    ];
    for (name, token) in cases {
        let body = app.gql(Some(&token), ME, json!({})).await;
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{name}: {body}");
    }
    // A non-Bearer scheme is refused too.
    let res = app
        .client
        .post(&app.url)
        .header("authorization", format!("Basic {access}"))
        .json(&json!({ "query": ME }))
        .send()
        .await
        .unwrap();
    assert_error(&res.json::<Value>().await.unwrap(), "UNAUTHENTICATED");
}

const REFRESH: &str = "mutation($t: String!) { refreshSession(input: { refreshToken: $t }) { accessToken refreshToken } }";

async fn refresh(app: &TestApp, token: &str) -> Value {
    app.gql(None, REFRESH, json!({ "t": token })).await
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let app = TestApp::spawn().await;
    let (access1, refresh1) = app.login("specialist@aozora.example").await;

    let body = refresh(&app, &refresh1).await;
    let access2 = body["data"]["refreshSession"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let refresh2 = body["data"]["refreshSession"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(refresh1, refresh2, "refresh tokens rotate");
    assert!(
        app.gql(Some(&access2), ME, json!({}))
            .await
            .get("errors")
            .is_none()
    );

    // The old refresh token presented again: refused, and the session is revoked.
    assert_error(&refresh(&app, &refresh1).await, "UNAUTHENTICATED");
    assert_error(&refresh(&app, &refresh2).await, "UNAUTHENTICATED");
    for token in [&access1, &access2] {
        assert_error(
            &app.gql(Some(token), ME, json!({})).await,
            "UNAUTHENTICATED",
        );
    }

    // Another session of the same account is unaffected.
    let (other, _) = app.login("specialist@aozora.example").await;
    assert!(
        app.gql(Some(&other), ME, json!({}))
            .await
            .get("errors")
            .is_none()
    );
    // An unknown refresh token is simply refused.
    assert_error(&refresh(&app, "not-a-token").await, "UNAUTHENTICATED");
}

#[tokio::test]
async fn logout_stops_the_access_and_refresh_tokens_at_once() {
    let app = TestApp::spawn().await;
    let (access, refresh_token) = app.login("staff@komorebi.example").await;
    let (other_session, _) = app.login("staff@komorebi.example").await;
    let body = app
        .gql(Some(&access), "mutation { logout { revoked } }", json!({}))
        .await;
    assert_eq!(body["data"]["logout"]["revoked"], true, "{body}");
    assert_error(
        &app.gql(Some(&access), ME, json!({})).await,
        "UNAUTHENTICATED",
    );
    assert_error(&refresh(&app, &refresh_token).await, "UNAUTHENTICATED");
    assert!(
        app.gql(Some(&other_session), ME, json!({}))
            .await
            .get("errors")
            .is_none()
    );
    // Logging out needs a session.
    assert_error(
        &app.gql(None, "mutation { logout { revoked } }", json!({}))
            .await,
        "UNAUTHENTICATED",
    );
}

#[tokio::test]
async fn access_tokens_expire_with_the_configured_lifetime() {
    let app = TestApp::spawn_with(|c| c.access_token_ttl = Duration::from_secs(1)).await;
    let (access, refresh_token) = app.login("staff@himawari.example").await;
    assert!(
        app.gql(Some(&access), ME, json!({}))
            .await
            .get("errors")
            .is_none()
    );
    // Leeway is 5 seconds: wait past it.
    tokio::time::sleep(Duration::from_secs(7)).await;
    assert_error(
        &app.gql(Some(&access), ME, json!({})).await,
        "UNAUTHENTICATED",
    );
    // The refresh token still yields a fresh access token.
    let body = refresh(&app, &refresh_token).await;
    let fresh = body["data"]["refreshSession"]["accessToken"]
        .as_str()
        .unwrap();
    assert!(
        app.gql(Some(fresh), ME, json!({}))
            .await
            .get("errors")
            .is_none()
    );
}

const LOGIN: &str = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }";

async fn try_login(app: &TestApp, email: &str, password: &str) -> Value {
    app.gql(
        None,
        LOGIN,
        json!({ "i": { "email": email, "password": password } }),
    )
    .await
}

/// Signs in from a given source address on the loopback network (127.0.0.0/8 all reaches the
/// server), over a real socket.
async fn login_from(app: &TestApp, from: &str, email: &str, password: &str) -> Value {
    let client = reqwest::Client::builder()
        .local_address(from.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    client
        .post(&app.url)
        .json(&json!({ "query": LOGIN, "variables": { "i": { "email": email, "password": password } } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn guesses_slow_the_guessing_address_not_the_accounts_owner() {
    // One more guess a second after the third (the default is one every 20 s).
    let app = TestApp::spawn_with(|c| c.login.account_per_minute = 60).await;
    let email = "manager@himawari.example";
    let attacker = "127.0.0.2";
    for _ in 0..3 {
        assert_error(
            &login_from(&app, attacker, email, "wrong-password-1").await,
            "UNAUTHENTICATED",
        );
    }
    let body = login_from(&app, attacker, email, "wrong-password-1").await;
    assert_error(&body, "RATE_LIMITED");
    assert!(
        body["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .unwrap()
            >= 1
    );
    // From the guessing address even the right password waits …
    assert_error(
        &login_from(&app, attacker, email, DEMO_PASSWORD).await,
        "RATE_LIMITED",
    );
    // … but the owner, elsewhere, is not locked out.
    let owner = login_from(&app, "127.0.0.3", email, DEMO_PASSWORD).await;
    assert!(owner["data"]["login"]["accessToken"].is_string(), "{owner}");
    // After the wait, the right password works from the guessing address too.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let later = login_from(&app, attacker, email, DEMO_PASSWORD).await;
    assert!(later["data"]["login"]["accessToken"].is_string(), "{later}");
    // Unknown accounts are throttled exactly like real ones (at the default refill, one guess
    // every 20 s, so that slow hashing on a busy machine cannot refill the bucket between them).
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        assert_error(
            &login_from(
                &app,
                attacker,
                "nobody@nowhere.example",
                "whatever-password",
            )
            .await,
            "UNAUTHENTICATED",
        );
    }
    assert_error(
        &login_from(
            &app,
            attacker,
            "nobody@nowhere.example",
            "whatever-password",
        )
        .await,
        "RATE_LIMITED",
    );
}

#[tokio::test]
async fn spraying_many_accounts_from_one_address_is_rate_limited() {
    let app = TestApp::spawn_with(|c| {
        c.login.address_burst = 5;
        c.login.address_per_minute = 5;
    })
    .await;
    let sprayer = "127.0.0.4";
    let mut checked = 0;
    let mut limited = 0;
    for i in 0..9 {
        let body = login_from(
            &app,
            sprayer,
            &format!("user{i}@spray.example"),
            "Password1!",
        )
        .await;
        match error_code(&body) {
            Some("UNAUTHENTICATED") => checked += 1,
            Some("RATE_LIMITED") => limited += 1,
            other => panic!("{other:?}: {body}"),
        }
    }
    assert_eq!(
        (checked, limited),
        (5, 4),
        "five password checks, then the address waits"
    );
    // Someone else signs in meanwhile.
    let other = login_from(&app, "127.0.0.5", "staff@himawari.example", DEMO_PASSWORD).await;
    assert!(other["data"]["login"]["accessToken"].is_string(), "{other}");
}

#[tokio::test]
async fn a_guess_spread_over_many_addresses_cannot_lock_the_owner_out() {
    let app = TestApp::spawn_with(|c| c.login.unknown_addresses_per_hour = 4).await;
    let email = "specialist@aozora.example";
    // The owner's usual address becomes known by signing in from it.
    let home = "127.0.0.9";
    assert!(login_from(&app, home, email, DEMO_PASSWORD).await["data"]["login"].is_object());
    let mut outcomes = Vec::new();
    for i in 1..=7 {
        let body = login_from(&app, &format!("127.0.1.{i}"), email, "guess-guess-1").await;
        outcomes.push(error_code(&body).map(str::to_owned));
    }
    let limited = outcomes
        .iter()
        .filter(|o| o.as_deref() == Some("RATE_LIMITED"))
        .count();
    assert_eq!(
        limited, 3,
        "four guesses from unknown addresses, then they wait: {outcomes:?}"
    );
    // The owner, from a known address, still signs in.
    let owner = login_from(&app, home, email, DEMO_PASSWORD).await;
    assert!(owner["data"]["login"]["accessToken"].is_string(), "{owner}");
}

#[tokio::test]
async fn every_instance_draws_on_the_same_login_budget() {
    let tight = |c: &mut kakehashi::Config| {
        c.login.global_burst = 4;
        c.login.global_per_minute = 1;
    };
    let app = TestApp::spawn_with(tight).await;
    let sibling = app.spawn_sibling_with(tight).await;
    let mut checked = 0;
    for i in 0..8 {
        let instance = if i % 2 == 0 { &app } else { &sibling };
        let body = login_from(
            instance,
            &format!("127.0.2.{i}"),
            &format!("u{i}@x.example"),
            "pw-pw-pw-1",
        )
        .await;
        if error_code(&body) == Some("UNAUTHENTICATED") {
            checked += 1;
        } else {
            assert_error(&body, "RATE_LIMITED");
        }
    }
    assert_eq!(
        checked, 4,
        "the two instances together checked the budget's four passwords"
    );
    drop(sibling);
}

#[tokio::test]
async fn an_unknown_email_and_a_wrong_password_look_the_same() {
    let app = TestApp::spawn().await;
    let wrong = try_login(&app, "staff@himawari.example", "not-the-password").await;
    let unknown = try_login(&app, "ghost@himawari.example", "not-the-password").await;
    assert_eq!(
        wrong["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    assert_eq!(error_code(&wrong), Some("UNAUTHENTICATED"));
    assert_eq!(error_code(&unknown), Some("UNAUTHENTICATED"));

    // Timing: the unknown account costs a real argon2 verification too. Median of a few tries
    // on distinct emails (so throttling stays out of the way). Skipping the hash would make the
    // unknown email about a hundred times faster; the wide bounds keep a loaded machine (other
    // tests hashing in parallel) from failing a correct server.
    let mut known = Vec::new();
    let mut ghost = Vec::new();
    for (i, email) in [
        "manager@komorebi.example",
        "admin@aozora.example",
        "specialist@mirai.example",
    ]
    .iter()
    .enumerate()
    {
        let t = Instant::now();
        try_login(&app, email, "not-the-password").await;
        known.push(t.elapsed());
        let t = Instant::now();
        try_login(
            &app,
            &format!("ghost{i}@nowhere.example"),
            "not-the-password",
        )
        .await;
        ghost.push(t.elapsed());
    }
    known.sort();
    ghost.sort();
    let (k, g) = (known[1].as_secs_f64(), ghost[1].as_secs_f64());
    assert!(
        g > k * 0.25 && g < k * 4.0,
        "unknown email {g:.4}s vs wrong password {k:.4}s"
    );
}

#[tokio::test]
async fn oversized_credentials_are_refused_without_hashing() {
    let app = TestApp::spawn().await;
    let body = try_login(&app, "staff@himawari.example", &"x".repeat(10_000)).await;
    assert_error(&body, "BAD_USER_INPUT");
    let body = try_login(&app, &format!("{}@x.example", "a".repeat(400)), "whatever").await;
    assert_error(&body, "BAD_USER_INPUT");
}

#[tokio::test]
async fn parallel_guesses_cannot_outrun_the_throttle() {
    let app = TestApp::spawn().await;
    let attempts = (0..20).map(|i| {
        let app = &app;
        async move { try_login(app, "admin@aozora.example", &format!("wrong-guess-{i}")).await }
    });
    let results = futures_util::future::join_all(attempts).await;
    let checked = results
        .iter()
        .filter(|b| error_code(b) == Some("UNAUTHENTICATED"))
        .count();
    let limited = results
        .iter()
        .filter(|b| error_code(b) == Some("RATE_LIMITED"))
        .count();
    assert_eq!(checked + limited, 20);
    // Only the free attempts may reach the password check, whatever the parallelism.
    assert!(checked <= 3, "{checked} guesses were checked in parallel");
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = TestApp::spawn().await;
    let (access, _) = app.login("staff@himawari.example").await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let res = app
            .client
            .post(&app.url)
            .header("authorization", format!("{scheme} {access}"))
            .json(&json!({ "query": ME }))
            .send()
            .await
            .unwrap();
        let body: Value = res.json().await.unwrap();
        assert!(body.get("errors").is_none(), "{scheme}: {body}");
    }
}
