//! Turning a presented credential (an access token's claims or an API key) into the viewer it
//! stands for, with the verified ones cached per instance ([`SessionCache`]), so that a request
//! does not re-read its session. Sign-in, rotation and revocation are [`super::sessions`].

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::sessions::viewer_of;
use crate::{
    auth::{Viewer, hash_token, jwt::AccessClaims},
    error::ApiResult,
    service::invalidation,
};

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
