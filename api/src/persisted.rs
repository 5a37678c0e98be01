//! Persisted queries (永続化クエリ): Apollo's automatic persisted queries (APQ) and a production
//! allow-list loaded from a manifest.
//!
//! The HTTP and WebSocket handlers call [`PersistedQueries::resolve`] with the request's `query`
//! and `extensions` *before* anything parses the document, and execute the text it returns
//! (checks that depend on the operation, such as "no mutation over GET", must look at that
//! text, not at the request). A [`Refusal`] becomes a GraphQL error with
//! [`Refusal::to_json`]. Nothing here knows HTTP, WebSockets or async-graphql.
//!
//! The three [`Mode`]s:
//! - `Off`: `extensions.persistedQuery` is ignored when the request carries query text; a
//!   hash-only request gets `PersistedQueryNotSupported`, after which Apollo clients stop
//!   sending hashes.
//! - `Automatic` (APQ): a hash-only request runs the cached document or gets
//!   `PersistedQueryNotFound`; the client then resends hash + text, which is verified, cached
//!   and run. Text-only requests run as usual.
//! - `AllowList`: only documents in the manifest run, whether named by hash or sent as text
//!   (byte-identical to the manifest's body); nothing is ever registered.
//!
//! Design notes:
//! - The APQ cache is a per-process LRU (the `lru` crate) behind one `Mutex`: the critical
//!   section is an O(1) map operation, far cheaper than parsing the query it saves. Worst-case
//!   memory is `capacity × max_query_bytes`.
//! - Hashes must be lowercase hex, as Apollo Client, Apollo's manifest generator and GraphQL
//!   Code Generator all produce; accepting other spellings would only create aliases.
//! - In allow-list mode a request carrying both a hash and text must be consistent (sha256 of
//!   the text equals the hash), so a client never gets the result of a different document
//!   than the one it sent.
//! - [`Refusal`] has no `Display` on purpose: async-graphql turns `Display` types into errors
//!   without `extensions.code` (see `crate::error`).

use std::{
    collections::HashMap,
    fmt,
    num::NonZeroUsize,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::ErrorCode;

/// How the server treats persisted queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// APQ disabled: only query text runs.
    Off,
    /// Automatic persisted queries with an in-memory LRU cache.
    Automatic,
    /// Only the operations of a manifest may run.
    AllowList,
}

/// Why a request cannot run: a GraphQL error with a stable `extensions.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// `PERSISTED_QUERY_NOT_FOUND`, `BAD_USER_INPUT` or `FORBIDDEN`.
    pub code: ErrorCode,
    /// The error message; Apollo clients match `PersistedQueryNotFound` and
    /// `PersistedQueryNotSupported` literally.
    pub message: &'static str,
}

impl Refusal {
    /// APQ: the hash is not (or no longer) cached; the client resends hash and text.
    pub const NOT_FOUND: Self = Self {
        code: ErrorCode::PersistedQueryNotFound,
        message: "PersistedQueryNotFound",
    };
    /// A hash-only request to a server with persisted queries off.
    pub const NOT_SUPPORTED: Self = Self::bad_input("PersistedQueryNotSupported");
    /// The text's sha256 differs from the hash sent with it.
    pub const HASH_MISMATCH: Self = Self::bad_input("provided sha does not match query");
    /// `persistedQuery.version` is not 1.
    pub const BAD_VERSION: Self =
        Self::bad_input("Unsupported persisted query version: only version 1 is supported.");
    /// `persistedQuery` is not an object with a 64-digit lowercase hex `sha256Hash`.
    pub const BAD_HASH: Self = Self::bad_input(
        "extensions.persistedQuery.sha256Hash must be a SHA-256 hash in 64 lowercase hex digits.",
    );
    /// Neither query text nor a persisted-query hash.
    pub const QUERY_REQUIRED: Self = Self::bad_input("The query parameter is required.");
    /// Allow-list mode: the operation is not listed (or a client tried to register one).
    pub const NOT_ALLOWED: Self = Self {
        code: ErrorCode::Forbidden,
        message: "This operation is not on the server's allow-list.",
    };

    const fn bad_input(message: &'static str) -> Self {
        Self {
            code: ErrorCode::BadUserInput,
            message,
        }
    }

    /// True for `PersistedQueryNotFound` and `PersistedQueryNotSupported`: the negotiation
    /// replies the client answers by retrying. Answer these with HTTP 200 whatever the media
    /// type, and `Cache-Control: private, no-cache, must-revalidate` (a CDN must not cache a
    /// miss for a GET), as Apollo Server does: Apollo Client before 3.8 switches APQ off for
    /// good on a 400 or 500.
    pub fn asks_client_to_retry(&self) -> bool {
        *self == Self::NOT_FOUND || *self == Self::NOT_SUPPORTED
    }

    /// The GraphQL error object: `{"message": …, "extensions": {"code": …}}`.
    pub fn to_json(self) -> Value {
        json!({ "message": self.message, "extensions": { "code": self.code.as_str() } })
    }
}

/// A manifest that cannot be used as an allow-list.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("reading the persisted-query manifest {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the persisted-query manifest is not valid JSON")]
    Json(#[from] serde_json::Error),
    /// Neither an Apollo manifest nor a GraphQL Code Generator `persisted-documents.json`.
    #[error("the persisted-query manifest {0}")]
    Shape(String),
    #[error("persisted-query manifest entry {entry}: {problem}")]
    BadEntry { entry: String, problem: String },
}

/// Persisted-query handling for the whole process; cloning shares the cache or allow-list.
#[derive(Clone)]
pub struct PersistedQueries {
    inner: Arc<Inner>,
}

enum Inner {
    Off,
    Automatic(Cache),
    /// sha256 hex → document.
    AllowList(HashMap<String, String>),
}

impl fmt::Debug for PersistedQueries {
    /// Mode and size only: documents are not worth a log line each.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersistedQueries")
            .field("mode", &self.mode())
            .field("len", &self.len())
            .finish()
    }
}

impl PersistedQueries {
    /// APQ with an LRU cache of at most `capacity` documents (0 caches nothing); documents
    /// longer than `max_query_bytes` run but are not cached.
    pub fn automatic(capacity: usize, max_query_bytes: usize) -> Self {
        Self::new(Inner::Automatic(Cache {
            max_query_bytes,
            lru: NonZeroUsize::new(capacity).map(|c| Mutex::new(lru::LruCache::new(c))),
        }))
    }

    /// Persisted queries switched off.
    pub fn off() -> Self {
        Self::new(Inner::Off)
    }

    /// Allow-list mode from a manifest file (see [`Self::allow_list_from_str`]).
    pub fn allow_list_from_file(path: &Path) -> Result<Self, ManifestError> {
        let json = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_owned(),
            source,
        })?;
        let this = Self::allow_list_from_str(&json)?;
        tracing::info!(operations = this.len(), path = %path.display(), "persisted-query allow-list loaded");
        Ok(this)
    }

    /// Allow-list mode from a manifest: Apollo's
    /// `{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id","name","type","body"}]}`
    /// or GraphQL Code Generator's `persisted-documents.json` (`{"<sha256 hex>": "<document>"}`).
    /// Every id must be the lowercase-hex sha256 of its body; an empty manifest is refused too.
    pub fn allow_list_from_str(json: &str) -> Result<Self, ManifestError> {
        let entries = parse_manifest(serde_json::from_str(json)?)?;
        if entries.is_empty() {
            return Err(ManifestError::Shape(
                "lists no operations: it would refuse every request".into(),
            ));
        }
        let mut documents = HashMap::with_capacity(entries.len());
        for entry in entries {
            let problem = if !is_sha256_hex(&entry.id) {
                "the id must be a SHA-256 hash in 64 lowercase hex digits".to_owned()
            } else {
                let actual = sha256_hex(&entry.body);
                if actual == entry.id {
                    documents.insert(entry.id, entry.body);
                    continue;
                }
                format!("the id is not the SHA-256 of the body, which hashes to {actual}")
            };
            return Err(ManifestError::BadEntry {
                entry: entry.label,
                problem,
            });
        }
        Ok(Self::new(Inner::AllowList(documents)))
    }

    fn new(inner: Inner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    pub fn mode(&self) -> Mode {
        match &*self.inner {
            Inner::Off => Mode::Off,
            Inner::Automatic(_) => Mode::Automatic,
            Inner::AllowList(_) => Mode::AllowList,
        }
    }

    /// Documents cached (APQ) or allowed (allow-list); 0 when off.
    pub fn len(&self) -> usize {
        match &*self.inner {
            Inner::Off => 0,
            Inner::Automatic(cache) => cache.lock().map_or(0, |lru| lru.len()),
            Inner::AllowList(documents) => documents.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The document to execute for a request with this `query` text (`None` or empty when
    /// absent) and `extensions` object (`None` when absent; a non-object counts as absent, the
    /// handler validates its shape). Registers the document in APQ mode.
    pub fn resolve(
        &self,
        query: Option<&str>,
        extensions: Option<&Value>,
    ) -> Result<String, Refusal> {
        let text = query.filter(|q| !q.is_empty());
        let reference = extensions
            .and_then(|e| e.get("persistedQuery"))
            .filter(|v| !v.is_null());
        match &*self.inner {
            Inner::Off => match (text, reference) {
                (Some(text), _) => Ok(text.to_owned()),
                (None, Some(_)) => Err(Refusal::NOT_SUPPORTED),
                (None, None) => Err(Refusal::QUERY_REQUIRED),
            },
            Inner::Automatic(cache) => {
                let Some(reference) = reference else {
                    return text.map(str::to_owned).ok_or(Refusal::QUERY_REQUIRED);
                };
                let hash = requested_hash(reference)?;
                match text {
                    Some(text) => {
                        check_hash(text, hash)?;
                        cache.insert(hash, text);
                        Ok(text.to_owned())
                    }
                    None => cache
                        .get(hash)
                        .map(|doc| doc.to_string())
                        .ok_or(Refusal::NOT_FOUND),
                }
            }
            Inner::AllowList(documents) => {
                let hash = match (reference, text) {
                    (Some(reference), text) => {
                        let hash = requested_hash(reference)?;
                        if let Some(text) = text {
                            check_hash(text, hash)?;
                        }
                        hash.to_owned()
                    }
                    (None, Some(text)) => sha256_hex(text),
                    (None, None) => return Err(Refusal::QUERY_REQUIRED),
                };
                documents.get(&hash).cloned().ok_or_else(|| {
                    tracing::debug!(%hash, "operation not on the allow-list");
                    Refusal::NOT_ALLOWED
                })
            }
        }
    }
}

/// The sha256 of `text` in 64 lowercase hex digits, as APQ and manifests spell it.
pub(crate) fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The hash of `{"version": 1, "sha256Hash": "…"}`, checked in Apollo Server's order.
fn requested_hash(reference: &Value) -> Result<&str, Refusal> {
    if reference.get("version").and_then(Value::as_u64) != Some(1) {
        return Err(Refusal::BAD_VERSION);
    }
    match reference.get("sha256Hash").and_then(Value::as_str) {
        Some(hash) if is_sha256_hex(hash) => Ok(hash),
        _ => Err(Refusal::BAD_HASH),
    }
}

fn check_hash(text: &str, hash: &str) -> Result<(), Refusal> {
    if sha256_hex(text) == hash {
        Ok(())
    } else {
        Err(Refusal::HASH_MISMATCH)
    }
}

/// One manifest operation before verification; `label` names it in errors.
struct ManifestEntry {
    label: String,
    id: String,
    body: String,
}

fn parse_manifest(json: Value) -> Result<Vec<ManifestEntry>, ManifestError> {
    let Value::Object(mut map) = json else {
        return Err(ManifestError::Shape(
            "must be a JSON object (an Apollo manifest or a persisted-documents.json)".into(),
        ));
    };
    let Some(format) = map.remove("format") else {
        // GraphQL Code Generator: {"<hash>": "<document>"}. Its keys are hashes, so a
        // `format` key always means Apollo's format.
        return map
            .into_iter()
            .map(|(id, body)| match body {
                Value::String(body) => Ok(ManifestEntry {
                    label: format!("\"{id}\""),
                    id,
                    body,
                }),
                _ => Err(ManifestError::BadEntry {
                    entry: format!("\"{id}\""),
                    problem: "the document must be a string".into(),
                }),
            })
            .collect();
    };
    if format != "apollo-persisted-query-manifest" {
        return Err(ManifestError::Shape(format!(
            "has an unknown format {format}"
        )));
    }
    if map.get("version").and_then(Value::as_u64) != Some(1) {
        return Err(ManifestError::Shape(
            "has an unsupported version (expected 1)".into(),
        ));
    }
    let Some(Value::Array(operations)) = map.remove("operations") else {
        return Err(ManifestError::Shape("needs an `operations` array".into()));
    };
    operations
        .into_iter()
        .enumerate()
        .map(|(i, op)| {
            let field = |key: &str| op.get(key).and_then(Value::as_str);
            let label = match field("name") {
                Some(name) => format!("operations[{i}] ({name})"),
                None => format!("operations[{i}]"),
            };
            let bad = |problem: &str| ManifestError::BadEntry {
                entry: label.clone(),
                problem: problem.into(),
            };
            if let Some(kind) = op.get("type")
                && !matches!(kind.as_str(), Some("query" | "mutation" | "subscription"))
            {
                return Err(bad("`type` must be query, mutation or subscription"));
            }
            let id = field("id").ok_or_else(|| bad("`id` must be a string"))?;
            let body = field("body").ok_or_else(|| bad("`body` must be a string"))?;
            Ok(ManifestEntry {
                id: id.to_owned(),
                body: body.to_owned(),
                label,
            })
        })
        .collect()
}

/// The APQ store: a bounded LRU map from hash to document.
struct Cache {
    max_query_bytes: usize,
    /// `None` when the capacity is 0: nothing is cached.
    lru: Option<Mutex<lru::LruCache<Arc<str>, Arc<str>>>>,
}

impl Cache {
    fn lock(&self) -> Option<std::sync::MutexGuard<'_, lru::LruCache<Arc<str>, Arc<str>>>> {
        // Every update leaves the map whole, so poisoning is moot.
        self.lru
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn get(&self, hash: &str) -> Option<Arc<str>> {
        self.lock()?.get(hash).cloned()
    }

    fn insert(&self, hash: &str, document: &str) {
        if document.len() > self.max_query_bytes {
            return;
        }
        if let Some(mut lru) = self.lock() {
            lru.put(hash.into(), document.into());
        }
    }
}

#[cfg(test)]
mod tests;
