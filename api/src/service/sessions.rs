//! Login, refresh-token rotation, logout, login throttling, and turning an access token back
//! into a [`Viewer`].
//!
//! A session is one login. Its refresh tokens rotate: each is exchanged once for a new pair, and
//! presenting a used one again means it was stolen, so the whole session is revoked. Access
//! tokens name their session and are re-checked against it on every request.
//!
//! Throttling is per typed email, known or not: after [`FREE_FAILURES`] failures each attempt
//! must wait a growing delay, and at [`LOCK_AFTER`] failures the account locks for
//! [`LOCK_DURATION`]. An unknown email is verified against a dummy hash, so it fails with the same
//! error and in the same time as a wrong password.

use chrono::{DateTime, Duration, Utc};
use entity::{
    login_throttle, organization, refresh_token, session,
    staff_member::{self, StaffRole},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType,
    QueryFilter, QuerySelect, RelationTrait, Set,
    sea_query::{Expr, OnConflict},
};
use uuid::Uuid;

use super::staff::{MAX_EMAIL_BYTES, normalize_email};
use crate::{
    auth::{Viewer, hash_token, jwt::AccessClaims, password::MAX_PASSWORD_BYTES, random_token},
    db,
    error::{ApiError, ApiResult},
    state::AppState,
};

/// Failures allowed before delays start.
pub const FREE_FAILURES: i32 = 3;
/// Failures after which the account is locked.
pub const LOCK_AFTER: i32 = 10;
/// How long a lock lasts.
pub const LOCK_DURATION: Duration = Duration::minutes(15);
/// The longest delay between attempts before the lock.
const MAX_DELAY_SECS: i64 = 60;

/// Tokens handed to a client after login or refresh.
#[derive(Debug)]
pub struct IssuedSession {
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_token_expires_at: DateTime<Utc>,
    pub viewer: Viewer,
}

/// The delay required after `failures` failed attempts, or the lock.
fn wait_required(
    failures: i32,
    last_failure_at: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<i64> {
    if let Some(until) = locked_until.filter(|u| *u > now) {
        return Some(ceil_secs(until - now));
    }
    if !(FREE_FAILURES..LOCK_AFTER).contains(&failures) {
        // Under the threshold, or an expired lock: a fresh start.
        return None;
    }
    let delay = (1i64 << (failures - FREE_FAILURES).min(6)).min(MAX_DELAY_SECS);
    let ready_at = last_failure_at + Duration::seconds(delay);
    (ready_at > now).then(|| ceil_secs(ready_at - now))
}

/// Whole seconds, rounded up, at least one: what a client must wait.
fn ceil_secs(d: Duration) -> i64 {
    ((d.num_milliseconds() + 999) / 1000).max(1)
}

/// Checks the password and opens a session.
pub async fn login(state: &AppState, email: &str, password: &str) -> ApiResult<IssuedSession> {
    if email.len() > MAX_EMAIL_BYTES {
        return Err(ApiError::bad_input(
            "email",
            "The email address is too long.",
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::bad_input("password", "The password is too long."));
    }
    let key = normalize_email(email);
    // One attempt per account at a time: parallel guesses would all pass the throttle check
    // before any of them recorded its failure.
    let Some(_in_flight) = InFlight::claim(&state.logins_in_flight, &key) else {
        return Err(ApiError::RateLimited {
            retry_after_secs: 1,
        });
    };
    let now = super::now();

    if let Some(t) = login_throttle::Entity::find_by_id(key.clone())
        .one(&state.db)
        .await?
    {
        if let Some(retry_after_secs) =
            wait_required(t.failures, t.last_failure_at, t.locked_until, now)
        {
            return Err(ApiError::RateLimited {
                retry_after_secs: u64::try_from(retry_after_secs).unwrap_or(1),
            });
        }
        if t.failures >= LOCK_AFTER {
            // The lock has run out: counting starts again.
            login_throttle::Entity::delete_by_id(key.clone())
                .exec(&state.db)
                .await?;
        }
    }

    let member = staff_member::Entity::find()
        .filter(staff_member::Column::Email.eq(key.as_str()))
        .filter(staff_member::Column::ServiceAccount.eq(false))
        .one(&state.db)
        .await?;
    let matches = state
        .passwords
        .verify(password, member.as_ref().map(|m| m.password_hash.clone()))
        .await?;
    let member = match member {
        Some(m) if matches && m.active => m,
        _ => {
            record_failure(&state.db, &key).await?;
            return Err(invalid_credentials());
        }
    };

    login_throttle::Entity::delete_by_id(key)
        .exec(&state.db)
        .await?;
    let txn = db::begin_write(&state.db).await?;
    let session_id = Uuid::now_v7();
    let expires_at =
        now + Duration::from_std(state.config.refresh_token_ttl).map_err(ApiError::internal)?;
    session::ActiveModel {
        id: Set(session_id),
        staff_member_id: Set(member.id),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        revoked_reason: Set(None),
    }
    .insert(&txn)
    .await?;
    let refresh = new_refresh_token(&txn, session_id).await?;
    txn.commit().await?;
    let viewer = viewer_of(&state.db, member.id, session_id)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    issue(state, viewer, refresh, expires_at)
}

/// Emails with a login attempt in progress on this server.
pub type LoginsInFlight = std::sync::Arc<std::sync::Mutex<std::collections::HashSet<String>>>;

/// A claim on an email's single in-flight login attempt, released on drop.
struct InFlight(LoginsInFlight, String);

impl InFlight {
    fn claim(set: &LoginsInFlight, key: &str) -> Option<Self> {
        let mut held = set.lock().unwrap_or_else(|e| e.into_inner());
        held.insert(key.to_owned())
            .then(|| Self(set.clone(), key.to_owned()))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.1);
    }
}

/// The one error for an unknown email, a wrong password and a deactivated account.
fn invalid_credentials() -> ApiError {
    ApiError::Unauthenticated
}

async fn record_failure(db: &impl ConnectionTrait, key: &str) -> ApiResult<()> {
    let now = super::now();
    let mut insert = login_throttle::Entity::insert(login_throttle::ActiveModel {
        email: Set(key.to_owned()),
        failures: Set(1),
        last_failure_at: Set(now),
        locked_until: Set(None),
    });
    insert = insert.on_conflict(
        OnConflict::column(login_throttle::Column::Email)
            .value(
                login_throttle::Column::Failures,
                sea_orm::sea_query::ExprTrait::add(
                    Expr::col((login_throttle::Entity, login_throttle::Column::Failures)),
                    1,
                ),
            )
            .update_column(login_throttle::Column::LastFailureAt)
            .to_owned(),
    );
    insert.exec_without_returning(db).await?;
    login_throttle::Entity::update_many()
        .col_expr(
            login_throttle::Column::LockedUntil,
            Expr::value(now + LOCK_DURATION),
        )
        .filter(login_throttle::Column::Email.eq(key))
        .filter(login_throttle::Column::Failures.gte(LOCK_AFTER))
        .exec(db)
        .await?;
    Ok(())
}

async fn new_refresh_token(db: &impl ConnectionTrait, session_id: Uuid) -> ApiResult<String> {
    let token = random_token();
    refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        session_id: Set(session_id),
        token_hash: Set(hash_token(&token)),
        created_at: Set(super::now()),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(token)
}

fn issue(
    state: &AppState,
    viewer: Viewer,
    refresh_token: String,
    refresh_expires_at: DateTime<Utc>,
) -> ApiResult<IssuedSession> {
    let (access_token, exp) = state
        .tokens
        .issue(viewer.staff_member_id, viewer.session_id)
        .map_err(ApiError::internal)?;
    Ok(IssuedSession {
        access_token,
        access_token_expires_at: DateTime::from_timestamp(exp, 0).unwrap_or_else(Utc::now),
        refresh_token,
        refresh_token_expires_at: refresh_expires_at,
        viewer,
    })
}

/// Exchanges a refresh token for a new pair. A token presented a second time revokes its session.
pub async fn refresh(state: &AppState, presented: &str) -> ApiResult<IssuedSession> {
    if presented.len() > 256 {
        return Err(ApiError::Unauthenticated);
    }
    match rotate(state, presented).await {
        // Two exchanges of one token at the same moment: on PostgreSQL the loser is aborted as
        // a serialization conflict. That is reuse too: revoke the session.
        Err(ApiError::Conflict(_)) => {
            if let Some(token) = refresh_token::Entity::find()
                .filter(refresh_token::Column::TokenHash.eq(hash_token(presented)))
                .one(&state.db)
                .await?
            {
                revoke(&state.db, token.session_id, "REFRESH_TOKEN_REUSED").await?;
            }
            Err(ApiError::Unauthenticated)
        }
        other => other,
    }
}

async fn rotate(state: &AppState, presented: &str) -> ApiResult<IssuedSession> {
    let now = super::now();
    let txn = db::begin_write(&state.db).await?;
    let token = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash_token(presented)))
        .one(&txn)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let sess = session::Entity::find_by_id(token.session_id)
        .one(&txn)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    if sess.revoked_at.is_some() || sess.expires_at <= now {
        return Err(ApiError::Unauthenticated);
    }
    let claimed = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(token.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        // Reuse: someone holds a copy. Revoke the family and keep that decision.
        revoke(&txn, sess.id, "REFRESH_TOKEN_REUSED").await?;
        txn.commit().await?;
        tracing::warn!(session = %sess.id, "refresh token reused: session revoked");
        return Err(ApiError::Unauthenticated);
    }
    let new_token = new_refresh_token(&txn, sess.id).await?;
    let viewer = viewer_of(&txn, sess.staff_member_id, sess.id)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    txn.commit().await?;
    issue(state, viewer, new_token, sess.expires_at)
}

/// Ends the viewer's session: its refresh token and every access token issued for it stop working.
pub async fn logout(state: &AppState, viewer: &Viewer) -> ApiResult<()> {
    // An API key's session is its key: only an admin's revocation ends it (so a key that is
    // listed as working always works).
    if entity::api_key::Entity::find_by_id(viewer.session_id)
        .one(&state.db)
        .await?
        .is_some()
    {
        return Err(ApiError::bad_input(
            "session",
            "An API key does not log out: an org admin revokes it.",
        ));
    }
    revoke(&state.db, viewer.session_id, "LOGOUT").await
}

async fn revoke(db: &impl ConnectionTrait, session_id: Uuid, reason: &str) -> ApiResult<()> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(super::now()))
        .col_expr(session::Column::RevokedReason, Expr::value(reason))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

#[derive(FromQueryResult)]
struct ViewerRow {
    staff_member_id: Uuid,
    organization_id: Uuid,
    role: StaffRole,
    organization_kind: organization::OrganizationKind,
}

/// Whether a session is still live (not revoked, not expired).
pub async fn is_live(db: &impl ConnectionTrait, session_id: Uuid) -> ApiResult<bool> {
    Ok(session::Entity::find_by_id(session_id)
        .one(db)
        .await?
        .is_some_and(|s| s.revoked_at.is_none() && s.expires_at > Utc::now()))
}

/// The viewer behind verified token claims: one query that also checks that the session is live
/// and the account active.
/// The viewer behind an API key (see [`super::api_keys`]), re-checked like a session, with the
/// key's expiry.
pub async fn resolve_api_key(
    db: &sea_orm::DatabaseConnection,
    key: &str,
) -> ApiResult<Option<(Viewer, Option<DateTime<Utc>>)>> {
    let Some(live) = super::api_keys::authenticate(db, key).await? else {
        return Ok(None);
    };
    Ok(viewer_of(db, live.staff_member_id, live.session_id)
        .await?
        .map(|v| (v, live.expires_at)))
}

pub async fn resolve_viewer(
    db: &impl ConnectionTrait,
    claims: &AccessClaims,
) -> ApiResult<Option<Viewer>> {
    viewer_of(db, claims.sub, claims.sid).await
}

async fn viewer_of(
    db: &impl ConnectionTrait,
    staff_member_id: Uuid,
    session_id: Uuid,
) -> ApiResult<Option<Viewer>> {
    let now = super::now();
    let row = session::Entity::find_by_id(session_id)
        .select_only()
        .column_as(staff_member::Column::Id, "staff_member_id")
        .column_as(staff_member::Column::OrganizationId, "organization_id")
        .column_as(staff_member::Column::Role, "role")
        .column_as(organization::Column::Kind, "organization_kind")
        .join(JoinType::InnerJoin, session::Relation::StaffMember.def())
        .join(
            JoinType::InnerJoin,
            staff_member::Relation::Organization.def(),
        )
        .filter(session::Column::StaffMemberId.eq(staff_member_id))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(now))
        .filter(staff_member::Column::Active.eq(true))
        .into_model::<ViewerRow>()
        .one(db)
        .await?;
    Ok(row.map(|r| Viewer {
        staff_member_id: r.staff_member_id,
        organization_id: r.organization_id,
        organization_kind: r.organization_kind,
        role: r.role,
        session_id,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_then_the_account_locks() {
        let now = Utc::now();
        let just_now = now - Duration::milliseconds(10);
        assert_eq!(wait_required(1, just_now, None, now), None);
        assert_eq!(wait_required(2, just_now, None, now), None);
        assert_eq!(wait_required(3, just_now, None, now), Some(1));
        assert_eq!(wait_required(4, just_now, None, now), Some(2));
        assert_eq!(wait_required(6, just_now, None, now), Some(8));
        assert_eq!(wait_required(9, just_now, None, now), Some(60));
        // Waited long enough: allowed.
        assert_eq!(
            wait_required(4, now - Duration::seconds(3), None, now),
            None
        );
        // Locked: refused until the lock ends, however long ago the last failure was.
        let until = now + Duration::minutes(10);
        assert_eq!(
            wait_required(10, now - Duration::hours(1), Some(until), now),
            Some(600)
        );
        // An expired lock: a fresh start.
        assert_eq!(
            wait_required(
                10,
                now - Duration::hours(1),
                Some(now - Duration::seconds(1)),
                now
            ),
            None
        );
    }
}
