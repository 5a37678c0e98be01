//! Unit tests of reading the configuration from the environment.

use super::*;
use std::collections::HashMap;

fn from(pairs: &[(&str, &str)]) -> anyhow::Result<Config> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned())
}

#[test]
fn production_turns_off_developer_conveniences_and_requires_a_secret() {
    let mut c = from(&[("KAKEHASHI_ENV", "production")]).unwrap();
    assert!(!c.introspection && !c.graphiql);
    assert_eq!(c.log_format, LogFormat::Json);
    assert!(c.resolve_jwt_secret().is_err());
}

#[test]
fn short_secrets_and_bad_values_are_refused() {
    assert!(from(&[("JWT_SECRET", "short")]).is_err());
    assert!(from(&[("BIND_ADDR", "nowhere")]).is_err());
    assert!(from(&[("GRAPHIQL", "maybe")]).is_err());
}

#[test]
fn debug_output_redacts_secrets() {
    let c = from(&[
        ("DATABASE_URL", "postgres://kk:hunter2hunter2@db/kk"),
        ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
    ])
    .unwrap();
    let shown = format!("{c:?}");
    assert!(!shown.contains("hunter2") && !shown.contains("0123456789abcdef"));
    assert!(shown.contains("postgres://kk:<redacted>@db/kk"));
}

#[test]
fn connection_settings_are_read_with_timeouts_of_at_least_a_second() {
    let c = from(&[]).unwrap();
    assert_eq!(c.header_read_timeout, Duration::from_secs(10));
    assert_eq!(c.body_read_timeout, Duration::from_secs(30));
    assert_eq!(c.idle_timeout, Duration::from_secs(60));
    let c = from(&[
        ("HEADER_READ_TIMEOUT_SECONDS", "3"),
        ("BODY_READ_TIMEOUT_SECONDS", "0"),
        ("IDLE_TIMEOUT_SECONDS", "120"),
        ("MAX_CONNECTIONS", "500"),
        ("MAX_CONNECTIONS_PER_ADDRESS", "0"),
    ])
    .unwrap();
    assert_eq!(c.header_read_timeout, Duration::from_secs(3));
    assert_eq!(c.body_read_timeout, Duration::from_secs(1));
    assert_eq!(c.idle_timeout, Duration::from_secs(120));
    assert_eq!((c.max_connections, c.max_connections_per_address), (500, 0));
    assert!(from(&[("MAX_CONNECTIONS", "many")]).is_err());
}

#[test]
fn cors_origins_open_websockets_too_unless_those_are_listed() {
    let c = from(&[]).unwrap();
    assert!(c.cors_allowed_origins.is_empty() && c.ws_allowed_origins.is_empty());
    let c = from(&[(
        "CORS_ALLOWED_ORIGINS",
        "https://app.example.jp/, https://admin.example.jp",
    )])
    .unwrap();
    let expected = ["https://app.example.jp", "https://admin.example.jp"];
    assert_eq!(c.cors_allowed_origins, expected);
    assert_eq!(c.ws_allowed_origins, expected);
    let c = from(&[
        ("CORS_ALLOWED_ORIGINS", "https://app.example.jp"),
        ("WS_ALLOWED_ORIGINS", "https://other.example.jp"),
    ])
    .unwrap();
    assert_eq!(c.ws_allowed_origins, ["https://other.example.jp"]);
}

#[test]
fn development_secret_lives_beside_the_sqlite_file() {
    assert_eq!(
        sqlite_sibling("sqlite://data/kk.db?mode=rwc", "jwt-secret"),
        PathBuf::from("data/kk.jwt-secret")
    );
    assert_eq!(
        sqlite_sibling("postgres://x/y", "jwt-secret"),
        PathBuf::from("kakehashi.jwt-secret")
    );
}
