//! Unit tests of the persisted-query cache and allow-list.

use super::*;

const ME: &str = "query Me { me { role } }";

fn hash_only(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

/// Registers `query` under its own hash, as an Apollo client does after a miss.
fn register(pq: &PersistedQueries, query: &str) -> Result<String, Refusal> {
    pq.resolve(Some(query), Some(&hash_only(&sha256_hex(query))))
}

fn fetch(pq: &PersistedQueries, query: &str) -> Result<String, Refusal> {
    pq.resolve(None, Some(&hash_only(&sha256_hex(query))))
}

#[test]
fn sha256_hex_is_lowercase_hex() {
    assert_eq!(
        sha256_hex(""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert!(is_sha256_hex(&sha256_hex(ME)));
}

#[test]
fn apq_miss_is_not_found_with_the_apollo_message() {
    let pq = PersistedQueries::automatic(10, 1024);
    let refusal = fetch(&pq, ME).unwrap_err();
    assert_eq!(refusal, Refusal::NOT_FOUND);
    assert!(refusal.asks_client_to_retry());
    assert_eq!(
        refusal.to_json(),
        json!({"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}})
    );
}

#[test]
fn apq_registers_then_hits() {
    let pq = PersistedQueries::automatic(10, 1024);
    assert_eq!(register(&pq, ME).unwrap(), ME);
    assert_eq!(pq.len(), 1);
    // A clone shares the cache, and an empty query counts as absent.
    let shared = pq.clone();
    let ext = hash_only(&sha256_hex(ME));
    assert_eq!(shared.resolve(Some(""), Some(&ext)).unwrap(), ME);
    // Text without a hash runs but is not registered.
    assert_eq!(pq.resolve(Some("{ a }"), None).unwrap(), "{ a }");
    assert_eq!(pq.len(), 1);
}

#[test]
fn apq_rejects_a_hash_that_does_not_match_the_text() {
    let pq = PersistedQueries::automatic(10, 1024);
    let ext = hash_only(&sha256_hex("{ other }"));
    let refusal = pq.resolve(Some(ME), Some(&ext)).unwrap_err();
    assert_eq!(refusal, Refusal::HASH_MISMATCH);
    assert_eq!(
        (refusal.code.as_str(), refusal.message),
        ("BAD_USER_INPUT", "provided sha does not match query")
    );
    assert!(pq.is_empty());
}

#[test]
fn apq_needs_version_1_and_a_well_formed_hash() {
    let pq = PersistedQueries::automatic(10, 1024);
    let hash = sha256_hex(ME);
    for version in [json!(2), json!("1"), Value::Null] {
        let ext = json!({"persistedQuery": {"version": version, "sha256Hash": hash}});
        assert_eq!(pq.resolve(Some(ME), Some(&ext)), Err(Refusal::BAD_VERSION));
    }
    let malformed = [
        json!({"persistedQuery": {"version": 1}}),
        json!({"persistedQuery": {"version": 1, "sha256Hash": 42}}),
        hash_only(&hash.to_uppercase()),
        hash_only(&hash[..63]),
        hash_only(&format!("{}g", &hash[..63])),
    ];
    for ext in malformed {
        let refusal = pq.resolve(None, Some(&ext)).unwrap_err();
        assert_eq!(refusal, Refusal::BAD_HASH, "{ext}");
        assert_eq!(refusal.code.as_str(), "BAD_USER_INPUT");
        assert!(!refusal.asks_client_to_retry());
    }
    assert!(pq.is_empty());
}

#[test]
fn apq_runs_but_does_not_cache_oversize_queries() {
    let pq = PersistedQueries::automatic(10, ME.len() - 1);
    assert_eq!(register(&pq, ME).unwrap(), ME);
    assert!(pq.is_empty());
    assert_eq!(fetch(&pq, ME), Err(Refusal::NOT_FOUND));
    // At the limit exactly it is cached.
    let pq = PersistedQueries::automatic(10, ME.len());
    register(&pq, ME).unwrap();
    assert_eq!(fetch(&pq, ME).unwrap(), ME);
}

#[test]
fn apq_evicts_the_least_recently_used_at_capacity() {
    let pq = PersistedQueries::automatic(2, 1024);
    let (a, b, c) = ("{ a }", "{ b }", "{ c }");
    register(&pq, a).unwrap();
    register(&pq, b).unwrap();
    fetch(&pq, a).unwrap(); // a is now more recent than b
    register(&pq, c).unwrap();
    assert_eq!(pq.len(), 2);
    assert_eq!(fetch(&pq, b), Err(Refusal::NOT_FOUND));
    assert_eq!(fetch(&pq, a).unwrap(), a);
    assert_eq!(fetch(&pq, c).unwrap(), c);
    // Re-registering counts as a use: c was the most recent until a is sent again.
    register(&pq, a).unwrap();
    register(&pq, b).unwrap();
    assert_eq!(fetch(&pq, c), Err(Refusal::NOT_FOUND));
    assert_eq!(fetch(&pq, a).unwrap(), a);

    let none = PersistedQueries::automatic(0, 1024);
    assert_eq!(register(&none, a).unwrap(), a);
    assert!(none.is_empty());
}

#[test]
fn apq_many_hits_keep_recency_and_the_bound() {
    let pq = PersistedQueries::automatic(3, 1024);
    for q in ["{ a }", "{ b }", "{ c }"] {
        register(&pq, q).unwrap();
    }
    for _ in 0..1000 {
        fetch(&pq, "{ b }").unwrap();
    }
    let Inner::Automatic(cache) = &*pq.inner else {
        unreachable!()
    };
    assert_eq!(cache.lock().map_or(0, |lru| lru.len()), 3);
    // The oldest untouched entry is still the one evicted.
    register(&pq, "{ d }").unwrap();
    assert_eq!(fetch(&pq, "{ a }"), Err(Refusal::NOT_FOUND));
    assert_eq!(fetch(&pq, "{ b }").unwrap(), "{ b }");
    assert_eq!(fetch(&pq, "{ c }").unwrap(), "{ c }");
}

#[test]
fn off_runs_text_and_refuses_hash_only_requests() {
    let pq = PersistedQueries::off();
    assert_eq!(pq.mode(), Mode::Off);
    assert_eq!(pq.resolve(Some(ME), None).unwrap(), ME);
    // Text with a (even wrong) hash: the extension is ignored.
    let wrong = hash_only(&sha256_hex("{ x }"));
    assert_eq!(pq.resolve(Some(ME), Some(&wrong)).unwrap(), ME);
    let refusal = fetch(&pq, ME).unwrap_err();
    assert_eq!(refusal, Refusal::NOT_SUPPORTED);
    assert_eq!(
        (refusal.code.as_str(), refusal.message),
        ("BAD_USER_INPUT", "PersistedQueryNotSupported")
    );
    assert!(refusal.asks_client_to_retry());
    assert_eq!(pq.resolve(None, None), Err(Refusal::QUERY_REQUIRED));
    assert_eq!(
        pq.resolve(Some(""), Some(&json!({"persistedQuery": null}))),
        Err(Refusal::QUERY_REQUIRED)
    );
    assert!(pq.is_empty());
}

fn codegen_manifest(docs: &[&str]) -> String {
    let map: serde_json::Map<String, Value> = docs
        .iter()
        .map(|d| (sha256_hex(d), Value::from(*d)))
        .collect();
    Value::Object(map).to_string()
}

fn apollo_manifest(docs: &[(&str, &str, &str)]) -> String {
    let operations: Vec<Value> = docs
        .iter()
        .map(|(name, kind, body)| {
            json!({"id": sha256_hex(body), "name": name, "type": kind, "body": body})
        })
        .collect();
    json!({"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations})
        .to_string()
}

#[test]
fn allow_list_loads_both_manifest_formats() {
    let logout = "mutation Logout { logout { revoked } }";
    let apollo = PersistedQueries::allow_list_from_str(&apollo_manifest(&[
        ("Me", "query", ME),
        ("Logout", "mutation", logout),
    ]))
    .unwrap();
    let codegen = PersistedQueries::allow_list_from_str(&codegen_manifest(&[ME, logout])).unwrap();
    for pq in [apollo, codegen] {
        assert_eq!(pq.mode(), Mode::AllowList);
        assert_eq!(pq.len(), 2);
        assert_eq!(fetch(&pq, ME).unwrap(), ME);
        assert_eq!(register(&pq, logout).unwrap(), logout);
    }
}

#[test]
fn the_shipped_fixture_is_a_valid_allow_list() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/persisted-documents.json");
    let pq = PersistedQueries::allow_list_from_file(&path).unwrap();
    assert_eq!(pq.len(), 2);
    let missing = PersistedQueries::allow_list_from_file(Path::new("/nonexistent/pq.json"));
    assert!(matches!(missing, Err(ManifestError::Read { .. })));
}

#[test]
fn manifests_with_a_bad_entry_are_refused_by_name() {
    let wrong_hash = json!({"format": "apollo-persisted-query-manifest", "version": 1,
    "operations": [
        {"id": sha256_hex(ME), "name": "Me", "type": "query", "body": ME},
        {"id": sha256_hex(ME), "name": "Sneaky", "type": "query", "body": "{ staffMembers { totalCount } }"},
    ]});
    match PersistedQueries::allow_list_from_str(&wrong_hash.to_string()) {
        Err(ManifestError::BadEntry { entry, problem }) => {
            assert_eq!(entry, "operations[1] (Sneaky)");
            assert!(problem.contains("not the SHA-256"), "{problem}");
        }
        other => panic!("{other:?}"),
    }
    let upper = json!({ sha256_hex(ME).to_uppercase(): ME });
    let err = PersistedQueries::allow_list_from_str(&upper.to_string()).unwrap_err();
    assert!(
        err.to_string().contains(&sha256_hex(ME).to_uppercase()),
        "{err}"
    );
    assert!(matches!(err, ManifestError::BadEntry { .. }));

    let refused = [
        json!({ sha256_hex(ME): 1 }).to_string(),
        json!({}).to_string(),
        json!([]).to_string(),
        json!({"format": "relay", "operations": []}).to_string(),
        json!({"format": "apollo-persisted-query-manifest", "version": 2, "operations": []})
            .to_string(),
        json!({"format": "apollo-persisted-query-manifest", "version": 1,
            "operations": [{"id": sha256_hex(ME), "type": "fragment", "body": ME}]})
        .to_string(),
        json!({"format": "apollo-persisted-query-manifest", "version": 1,
            "operations": [{"id": sha256_hex(ME)}]})
        .to_string(),
        "not json".to_owned(),
    ];
    for json in refused {
        assert!(
            PersistedQueries::allow_list_from_str(&json).is_err(),
            "{json}"
        );
    }
}

#[test]
fn allow_list_runs_listed_text_and_refuses_the_rest() {
    let pq = PersistedQueries::allow_list_from_str(&codegen_manifest(&[ME])).unwrap();
    assert_eq!(pq.resolve(Some(ME), None).unwrap(), ME);
    // Byte-identical only: reformatting changes the hash.
    let refusal = pq
        .resolve(Some("query Me { me { role }}"), None)
        .unwrap_err();
    assert_eq!(refusal, Refusal::NOT_ALLOWED);
    assert_eq!(
        refusal.to_json(),
        json!({"message": "This operation is not on the server's allow-list.", "extensions": {"code": "FORBIDDEN"}})
    );
    assert!(!refusal.asks_client_to_retry());
    assert_eq!(fetch(&pq, "{ other }"), Err(Refusal::NOT_ALLOWED));
    assert_eq!(pq.resolve(None, None), Err(Refusal::QUERY_REQUIRED));
}

#[test]
fn allow_list_refuses_apq_registration_and_inconsistent_requests() {
    let pq = PersistedQueries::allow_list_from_str(&codegen_manifest(&[ME])).unwrap();
    let new = "{ staffMembers { totalCount } }";
    assert_eq!(register(&pq, new), Err(Refusal::NOT_ALLOWED));
    assert_eq!(fetch(&pq, new), Err(Refusal::NOT_ALLOWED));
    assert_eq!(pq.len(), 1);
    // A listed hash with other text never runs either document.
    let ext = hash_only(&sha256_hex(ME));
    assert_eq!(
        pq.resolve(Some(new), Some(&ext)),
        Err(Refusal::HASH_MISMATCH)
    );
    let bad_version = json!({"persistedQuery": {"version": 3, "sha256Hash": sha256_hex(ME)}});
    assert_eq!(
        pq.resolve(None, Some(&bad_version)),
        Err(Refusal::BAD_VERSION)
    );
}
