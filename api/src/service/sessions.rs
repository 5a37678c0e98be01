//! Login, refresh-token rotation, logout, login throttling, and turning an access token back
//! into a [`Viewer`].
//!
//! A session is one login. Its refresh tokens rotate: each is exchanged once for a new pair, and
//! presenting a used one again means it was stolen, so the whole session is revoked. Access
//! tokens name their session and are re-checked against it on every request.
//!
//! Throttling slows the attacker, not the account's owner, and every instance agrees on it
//! (token buckets in the database, [`super::budgets`]). Before any password is checked, an
//! attempt takes a token from each of: its client address (spraying many emails from one place),
//! its address with the typed email (guessing one account from one place), the account's budget
//! for addresses it never signed in from (a guess spread over many places; the owner's own
//! addresses are not limited by it, so a distributed attacker cannot lock the owner out), and the
//! deployment's (the argon2 work an attacker can cause, besides the hasher's own concurrency
//! bound). Nothing locks an account: a success from an address refills that address's budget for
//! the account and makes it a known address. An unknown email is verified against a dummy hash,
//! so it fails with the same error and in the same time as a wrong password.

use chrono::{DateTime, Duration, Utc};
use entity::{
    login_known_address, organization, refresh_token, session,
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
    auth::{Viewer, hash_token, password::MAX_PASSWORD_BYTES, random_token},
    db,
    error::{ApiError, ApiResult},
    service::Ctx,
};

/// How long a successful sign-in keeps an address known for its account.
const KNOWN_ADDRESS_DAYS: i64 = 90;

/// Tokens handed to a client after login or refresh.
#[derive(Debug)]
pub struct IssuedSession {
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_token_expires_at: DateTime<Utc>,
    pub viewer: Viewer,
}

/// Where a login attempt comes from: a keyed hash of the client's address (an IPv4 address, or
/// the /64 of an IPv6 one, which one subscriber usually holds whole), or `None` when unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptOrigin(pub Option<String>);

impl AttemptOrigin {
    /// The origin of an address, hashed with the server's secret (addresses are personal data;
    /// an unkeyed hash of an IPv4 address is reversed by trying them all).
    pub fn of(address: Option<std::net::IpAddr>, secret: &[u8]) -> Self {
        use hmac::{Hmac, Mac};
        let Some(address) = address else {
            return Self(None);
        };
        let key = match address {
            std::net::IpAddr::V4(v4) => v4.to_string(),
            std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let s = v6.segments();
                    format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
                }
            },
        };
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret) else {
            return Self(None);
        };
        mac.update(key.as_bytes());
        Self(Some(hex::encode(&mac.finalize().into_bytes()[..16])))
    }

    fn key(&self) -> &str {
        self.0.as_deref().unwrap_or("unknown")
    }
}

/// The login budgets an attempt from `origin` at `email` takes from, in order (see the module
/// doc); the account's budget for unknown addresses only when the address is not known for it.
fn login_budgets(
    state: &Ctx,
    origin: &AttemptOrigin,
    email: &str,
    known: bool,
) -> Vec<(String, super::budgets::Budget)> {
    use super::budgets::Budget;
    let l = state.config.login;
    let address = origin.key();
    let mut budgets = vec![
        (
            format!("login:addr:{address}"),
            Budget::per_minute(l.address_burst, l.address_per_minute),
        ),
        (
            format!("login:addr:{address}:acct:{email}"),
            Budget::per_minute(l.account_burst, l.account_per_minute),
        ),
    ];
    if !known {
        budgets.push((
            format!("login:acct:{email}:unknown-addresses"),
            Budget {
                capacity: f64::from(l.unknown_addresses_per_hour.max(1)),
                per_second: f64::from(l.unknown_addresses_per_hour) / 3600.0,
            },
        ));
    }
    budgets.push((
        "login:global".to_owned(),
        Budget::per_minute(l.global_burst, l.global_per_minute),
    ));
    budgets
}

/// Takes a token from each login budget before any password is checked; `RATE_LIMITED` with the
/// wait when one is empty. Returns the budgets taken from.
async fn reserve_attempt(
    state: &Ctx,
    origin: &AttemptOrigin,
    email: &str,
) -> ApiResult<Vec<(String, super::budgets::Budget)>> {
    let known = is_known_address(&state.db, origin, email).await?;
    let budgets = login_budgets(state, origin, email, known);
    for (key, budget) in &budgets {
        if let Err(wait) = super::budgets::take(&state.db, key, *budget).await? {
            return Err(super::budgets::limited(wait));
        }
    }
    Ok(budgets)
}

/// Whether the account signed in from this address within [`KNOWN_ADDRESS_DAYS`].
async fn is_known_address(
    db: &impl ConnectionTrait,
    origin: &AttemptOrigin,
    email: &str,
) -> ApiResult<bool> {
    let Some(hash) = &origin.0 else {
        return Ok(false);
    };
    let since = super::now() - Duration::days(KNOWN_ADDRESS_DAYS);
    Ok(login_known_address::Entity::find()
        .filter(login_known_address::Column::Email.eq(email))
        .filter(login_known_address::Column::AddressHash.eq(hash.as_str()))
        .filter(login_known_address::Column::LastSuccessAt.gte(since))
        .one(db)
        .await?
        .is_some())
}

/// After a success: the address's budget for the account starts again, the address and the
/// account's unknown-address budgets get their token back (they exist to slow guessing, and an
/// office behind one address signs many people in), and the address is known.
async fn remember_success(
    db: &impl ConnectionTrait,
    origin: &AttemptOrigin,
    email: &str,
    taken: &[(String, super::budgets::Budget)],
) -> ApiResult<()> {
    let own = format!("login:addr:{}:acct:{email}", origin.key());
    for (key, budget) in taken {
        if *key == own {
            super::budgets::reset(db, key).await?;
        } else if key != "login:global" {
            super::budgets::give_back(db, key, *budget).await?;
        }
    }
    if let Some(hash) = &origin.0 {
        login_known_address::Entity::insert(login_known_address::ActiveModel {
            email: Set(email.to_owned()),
            address_hash: Set(hash.clone()),
            last_success_at: Set(super::now()),
        })
        .on_conflict(
            OnConflict::columns([
                login_known_address::Column::Email,
                login_known_address::Column::AddressHash,
            ])
            .update_column(login_known_address::Column::LastSuccessAt)
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// Checks the password and opens a session.
pub async fn login(
    state: &Ctx,
    origin: &AttemptOrigin,
    email: &str,
    password: &str,
) -> ApiResult<IssuedSession> {
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
    // One attempt per account at a time on this instance: a burst of parallel guesses queues
    // here instead of all taking budget at once (the budgets themselves are atomic everywhere).
    let Some(_in_flight) = InFlight::claim(&state.logins_in_flight, &key) else {
        return Err(ApiError::RateLimited {
            retry_after_secs: 1,
        });
    };
    let now = super::now();
    let taken = reserve_attempt(state, origin, &key).await?;

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
        _ => return Err(invalid_credentials()),
    };

    remember_success(&state.db, origin, &key, &taken).await?;
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
    let (viewer, _) = viewer_of(&state.db, member.id, session_id)
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
    state: &Ctx,
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
pub async fn refresh(state: &Ctx, presented: &str) -> ApiResult<IssuedSession> {
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
                revoke_now(&state.db, token.session_id, "REFRESH_TOKEN_REUSED").await?;
            }
            Err(ApiError::Unauthenticated)
        }
        other => other,
    }
}

async fn rotate(state: &Ctx, presented: &str) -> ApiResult<IssuedSession> {
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
    let (viewer, _) = viewer_of(&txn, sess.staff_member_id, sess.id)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    txn.commit().await?;
    issue(state, viewer, new_token, sess.expires_at)
}

/// Ends the viewer's session: its refresh token and every access token issued for it stop working.
pub async fn logout(state: &Ctx, viewer: &Viewer) -> ApiResult<()> {
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
    revoke_now(&state.db, viewer.session_id, "LOGOUT").await
}

/// [`revoke`] in a transaction of its own, so that the announcement goes out with the commit.
async fn revoke_now(
    db: &sea_orm::DatabaseConnection,
    session_id: Uuid,
    reason: &str,
) -> ApiResult<()> {
    let txn = db::begin_write(db).await?;
    revoke(&txn, session_id, reason).await?;
    txn.commit().await?;
    Ok(())
}

async fn revoke(db: &impl ConnectionTrait, session_id: Uuid, reason: &str) -> ApiResult<()> {
    super::outbox::announce_ended(db).await?;
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
    expires_at: DateTime<Utc>,
}

/// Whether a session is still live (not revoked, not expired).
pub async fn is_live(db: &impl ConnectionTrait, session_id: Uuid) -> ApiResult<bool> {
    Ok(session::Entity::find_by_id(session_id)
        .one(db)
        .await?
        .is_some_and(|s| s.revoked_at.is_none() && s.expires_at > Utc::now()))
}

/// The viewer of a live session of an active account, with the session's expiry.
pub(super) async fn viewer_of(
    db: &impl ConnectionTrait,
    staff_member_id: Uuid,
    session_id: Uuid,
) -> ApiResult<Option<(Viewer, DateTime<Utc>)>> {
    let now = super::now();
    let row = session::Entity::find_by_id(session_id)
        .select_only()
        .column_as(staff_member::Column::Id, "staff_member_id")
        .column_as(staff_member::Column::OrganizationId, "organization_id")
        .column_as(staff_member::Column::Role, "role")
        .column_as(organization::Column::Kind, "organization_kind")
        .column_as(session::Column::ExpiresAt, "expires_at")
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
    Ok(row.map(|r| {
        (
            Viewer {
                staff_member_id: r.staff_member_id,
                organization_id: r.organization_id,
                organization_kind: r.organization_kind,
                role: r.role,
                session_id,
            },
            r.expires_at,
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_a_keyed_hash_of_the_address_or_its_ipv6_slash_64() {
        let secret = b"test-secret-test-secret-test-secret-0123";
        let of = |a: &str| AttemptOrigin::of(Some(a.parse().unwrap()), secret);
        let a = of("203.0.113.7");
        assert_eq!(a, of("203.0.113.7"));
        assert_ne!(a, of("203.0.113.8"));
        assert!(
            !a.key().contains("203.0"),
            "the address itself is never stored"
        );
        assert_eq!(
            a,
            of("::ffff:203.0.113.7"),
            "IPv4-mapped IPv6 is the IPv4 address"
        );
        // One subscriber's /64 is one origin.
        assert_eq!(of("2001:db8:1:2::1"), of("2001:db8:1:2:ffff::9"));
        assert_ne!(of("2001:db8:1:2::1"), of("2001:db8:1:3::1"));
        // Another secret, another key.
        assert_ne!(
            a,
            AttemptOrigin::of(Some("203.0.113.7".parse().unwrap()), b"another-secret")
        );
        assert_eq!(AttemptOrigin::of(None, secret).key(), "unknown");
    }
}
