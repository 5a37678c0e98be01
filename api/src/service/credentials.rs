//! Turning a presented credential (an access token's claims or an API key) into the viewer it
//! stands for, with the verified ones cached per instance ([`SessionCache`]), so that a request
//! does not re-read its session. Sign-in, rotation and revocation are [`super::sessions`].

use std::{collections::HashMap, time::Duration};

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::sessions::viewer_of;
use crate::{
    auth::{Credential, Viewer, hash_token, jwt::AccessClaims},
    error::ApiResult,
    service::{Ctx, invalidation},
};

/// Reads an `Authorization` header value into a credential, with the access token's expiry
/// (Unix seconds) for a viewer: a WebSocket stays open until then. One database query when a
/// token is sent that the session cache does not hold; a database that does not answer within
/// 5 s makes the credential `Unavailable`, never a viewer.
pub async fn authenticate(state: &Ctx, authorization: Option<&str>) -> (Credential, Option<i64>) {
    let Some(value) = authorization else {
        return (Credential::Anonymous, None);
    };
    // The scheme is case-insensitive (RFC 7235).
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => return (Credential::Invalid, None),
    };
    if super::api_keys::is_api_key(token) {
        return match tokio::time::timeout(
            Duration::from_secs(5),
            resolve_api_key(&state.db, &state.sessions, token),
        )
        .await
        {
            // A key without an expiry keeps its socket until it is revoked. The expiry is
            // rounded up to the second: a socket must not close before its key stops working.
            Ok(Ok(Some((viewer, expires)))) => (
                Credential::Viewer(viewer),
                expires.map(|e| e.timestamp() + i64::from(e.timestamp_subsec_nanos() > 0)),
            ),
            Ok(Ok(None)) => (Credential::Invalid, None),
            Ok(Err(_)) | Err(_) => (Credential::Unavailable, None),
        };
    }
    let Some(claims) = state.tokens.verify(token) else {
        return (Credential::Invalid, None);
    };
    let credential = match tokio::time::timeout(
        Duration::from_secs(5),
        resolve_viewer(&state.db, &state.sessions, &claims),
    )
    .await
    {
        Ok(Ok(Some(viewer))) => Credential::Viewer(viewer),
        Ok(Ok(None)) => Credential::Invalid,
        Ok(Err(_)) | Err(_) => Credential::Unavailable,
    };
    (credential, Some(claims.exp))
}

/// Verified credentials, so that a request does not re-read its session: an access token's
/// session (with its account) or an API key, mapped to the viewer it stands for.
///
/// An entry is used while [`invalidation::SESSIONS`] stands (every revocation moves it: logout,
/// token reuse, password change, deactivation, a revoked key, here or, through the event hub's
/// check of ended sessions, on another instance), until the session or key expires, and for at
/// most [`invalidation::MAX_AGE`]. Refusals are not cached.
#[derive(Default)]
pub struct SessionCache {
    entries: std::sync::Mutex<HashMap<CredentialKey, CachedViewer>>,
}

/// What a credential is cached under: never the raw API key, only its hash.
#[derive(Clone, PartialEq, Eq, Hash)]
enum CredentialKey {
    Session {
        session_id: Uuid,
        staff_member_id: Uuid,
    },
    ApiKey(String),
}

#[derive(Clone)]
struct CachedViewer {
    generation: u64,
    loaded: std::time::Instant,
    /// When the session (or the key) stops working.
    valid_until: DateTime<Utc>,
    viewer: Viewer,
    key_expires_at: Option<DateTime<Utc>>,
}

/// How many credentials are kept (a few hundred bytes each).
const SESSION_CACHE_ENTRIES: usize = 20_000;

impl SessionCache {
    fn get(&self, key: &CredentialKey) -> Option<CachedViewer> {
        let generation = invalidation::SESSIONS.current();
        let now = Utc::now();
        self.entries()
            .get(key)
            .filter(|e| {
                e.generation == generation
                    && e.valid_until > now
                    && e.loaded.elapsed() < invalidation::MAX_AGE
            })
            .cloned()
    }

    fn put(&self, key: CredentialKey, entry: CachedViewer) {
        let mut entries = self.entries();
        if entries.len() >= SESSION_CACHE_ENTRIES {
            entries.clear();
        }
        entries.insert(key, entry);
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<CredentialKey, CachedViewer>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The viewer behind an API key (see [`super::api_keys`]), re-checked like a session, with the
/// key's expiry.
pub async fn resolve_api_key(
    db: &sea_orm::DatabaseConnection,
    cache: &SessionCache,
    key: &str,
) -> ApiResult<Option<(Viewer, Option<DateTime<Utc>>)>> {
    let cache_key = CredentialKey::ApiKey(hash_token(key));
    if let Some(hit) = cache.get(&cache_key) {
        return Ok(Some((hit.viewer, hit.key_expires_at)));
    }
    // Before reading: a revocation committed meanwhile moves it, so nothing older is kept.
    let generation = invalidation::SESSIONS.current();
    let Some(live) = super::api_keys::authenticate(db, key).await? else {
        return Ok(None);
    };
    let Some((viewer, session_expires_at)) =
        viewer_of(db, live.staff_member_id, live.session_id).await?
    else {
        return Ok(None);
    };
    cache.put(
        cache_key,
        CachedViewer {
            generation,
            loaded: std::time::Instant::now(),
            valid_until: live
                .expires_at
                .map_or(session_expires_at, |k| k.min(session_expires_at)),
            viewer: viewer.clone(),
            key_expires_at: live.expires_at,
        },
    );
    Ok(Some((viewer, live.expires_at)))
}

/// The viewer behind verified token claims: the session must be live and its account active
/// (one statement, or none while the cache holds it).
pub async fn resolve_viewer(
    db: &impl ConnectionTrait,
    cache: &SessionCache,
    claims: &AccessClaims,
) -> ApiResult<Option<Viewer>> {
    let key = CredentialKey::Session {
        session_id: claims.sid,
        staff_member_id: claims.sub,
    };
    if let Some(hit) = cache.get(&key) {
        return Ok(Some(hit.viewer));
    }
    let generation = invalidation::SESSIONS.current();
    let Some((viewer, valid_until)) = viewer_of(db, claims.sub, claims.sid).await? else {
        return Ok(None);
    };
    cache.put(
        key,
        CachedViewer {
            generation,
            loaded: std::time::Instant::now(),
            valid_until,
            viewer: viewer.clone(),
            key_expires_at: None,
        },
    );
    Ok(Some(viewer))
}
