//! Unit tests of content negotiation and request parameters.

use super::*;

fn accept(v: &str) -> Option<MediaType> {
    let mut h = HeaderMap::new();
    h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
    negotiate(&h)
}

#[test]
fn accept_negotiation_follows_the_spec() {
    assert_eq!(negotiate(&HeaderMap::new()), Some(MediaType::Json));
    assert_eq!(
        accept("application/graphql-response+json"),
        Some(MediaType::GraphQLResponseJson)
    );
    assert_eq!(accept("application/json"), Some(MediaType::Json));
    assert_eq!(
        accept("application/graphql-response+json, application/json;q=0.9"),
        Some(MediaType::GraphQLResponseJson)
    );
    assert_eq!(
        accept("application/json, application/graphql-response+json"),
        Some(MediaType::GraphQLResponseJson)
    );
    assert_eq!(
        accept("application/json;q=1, application/graphql-response+json;q=0.5"),
        Some(MediaType::Json)
    );
    assert_eq!(accept("*/*"), Some(MediaType::Json));
    assert_eq!(accept("text/html"), None);
    assert_eq!(accept("application/json; charset=utf-16"), None);
    assert_eq!(accept("application/json;q=0"), None);
}

#[test]
fn content_type_must_be_utf8_json() {
    let ct = |v: &str| {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_str(v).unwrap());
        is_json_content_type(&h)
    };
    assert!(ct("application/json"));
    assert!(ct("Application/JSON; charset=UTF-8"));
    assert!(!ct("application/json; charset=latin1"));
    assert!(!ct("text/plain"));
    assert!(!ct("application/graphql"));
    assert!(!is_json_content_type(&HeaderMap::new()));
}

#[test]
fn json_bodies_are_checked_strictly() {
    assert!(params_from_json(json!({"query": "{me{role}}"})).is_ok());
    assert!(params_from_json(json!([{"query": "{a}"}])).is_err());
    assert!(params_from_json(json!({"query": 1})).is_err());
    assert!(params_from_json(json!({"extensions": {"persistedQuery": {}}})).is_ok());
    assert!(params_from_json(json!({"query": "{a}", "variables": "x"})).is_err());
    assert!(params_from_json(json!({"query": "{a}", "operationName": 3})).is_err());
    assert!(params_from_json(json!({"query": "{a}", "extensions": []})).is_err());
    assert!(params_from_json(json!(null)).is_err());
}
