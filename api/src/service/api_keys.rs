//! API keys (APIキー) for service accounts: integrations that act without a person logging in.
//!
//! A key is created by an org admin for their own organization, with a role and an optional
//! expiry. Behind it stands a *service account*: a `staff_members` row that can never log in with
//! a password, named after the key, so that every record it writes and every audit entry names
//! the key. The key also owns a login session: authentication, revocation and the closing of its
//! WebSockets reuse exactly the path of a person's session. The key itself is shown once; only
//! its SHA-256 is stored.

use chrono::{DateTime, Utc};
use entity::{api_key, session, staff_member, staff_member::StaffRole};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, sea_query::Expr,
};
use uuid::Uuid;

use super::events;
use crate::{
    auth::{Viewer, hash_token, policy, random_token},
    db,
    error::{ApiError, ApiResult},
    service::Ctx,
};

/// Every key starts with this, so secret scanners and people recognise one.
pub const KEY_PREFIX: &str = "kkh_";
/// A session that never expires on its own still needs an end date.
const NO_EXPIRY_YEARS: i64 = 100;
/// Unrevoked keys one organization may hold (so that every one of them is always listed).
pub const MAX_ACTIVE_KEYS: u64 = 50;
/// Last-used times are written at most this often per key (seconds), not on every request.
const LAST_USED_RESOLUTION_SECS: i64 = 60;

/// What an admin asks for.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: String,
    pub role: StaffRole,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Whether a bearer credential looks like an API key rather than an access token.
pub fn is_api_key(token: &str) -> bool {
    token.starts_with(KEY_PREFIX)
}

/// Creates a key and its service account; returns the key's row and the key itself (shown once).
pub async fn create(
    state: &Ctx,
    viewer: &Viewer,
    new: NewApiKey,
) -> ApiResult<(api_key::Model, String)> {
    if !policy::can_manage_staff(viewer, viewer.organization_id) {
        return Err(ApiError::forbidden(
            "Only the organization's admin creates API keys.",
        ));
    }
    let name = super::required_text("name", &new.name, 100)?;
    if new.role == StaffRole::OrgAdmin || !policy::role_fits(viewer.organization_kind, new.role) {
        return Err(ApiError::bad_input(
            "role",
            "Give a key a working role of your organization (not ORG_ADMIN: keys do not manage accounts, keys or webhooks).",
        ));
    }
    let now = super::now();
    if new.expires_at.is_some_and(|e| e <= now) {
        return Err(ApiError::bad_input(
            "expiresAt",
            "expiresAt must lie in the future.",
        ));
    }
    let expires_at = new.expires_at.map(super::micros);
    let active = api_key::Entity::find()
        .filter(api_key::Column::OrganizationId.eq(viewer.organization_id))
        .filter(api_key::Column::RevokedAt.is_null())
        .count(&state.db)
        .await?;
    if active >= MAX_ACTIVE_KEYS {
        return Err(ApiError::bad_input(
            "name",
            format!(
                "An organization holds at most {MAX_ACTIVE_KEYS} unrevoked keys: revoke unused ones first."
            ),
        ));
    }
    let key = format!("{KEY_PREFIX}{}", random_token());
    let id = Uuid::now_v7();
    let txn = db::begin_write(&state.db).await?;
    let account = staff_member::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(viewer.organization_id),
        // Never a deliverable address: `.invalid` is reserved (RFC 2606).
        email: Set(format!("api-key-{id}@service-account.invalid")),
        display_name: Set(name.clone()),
        role: Set(new.role),
        // Not a PHC string: no password can ever match it.
        password_hash: Set("!service-account".into()),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        external_id: Set(None),
        service_account: Set(true),
    }
    .insert(&txn)
    .await?;
    session::ActiveModel {
        id: Set(id),
        staff_member_id: Set(account.id),
        created_at: Set(now),
        expires_at: Set(expires_at.unwrap_or(now + chrono::Duration::days(365 * NO_EXPIRY_YEARS))),
        revoked_at: Set(None),
        revoked_reason: Set(None),
    }
    .insert(&txn)
    .await?;
    let model = api_key::ActiveModel {
        id: Set(id),
        organization_id: Set(viewer.organization_id),
        staff_member_id: Set(account.id),
        name: Set(name),
        prefix: Set(key.chars().take(KEY_PREFIX.len() + 6).collect()),
        key_hash: Set(hash_token(&key)),
        created_by_staff_member_id: Set(viewer.staff_member_id),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        last_used_at: Set(None),
    }
    .insert(&txn)
    .await?;
    events::record_read(&txn, viewer, "CREATE_API_KEY", None, &[model.id]).await?;
    txn.commit().await?;
    Ok((model, key))
}

/// Revokes a key at once: its session ends (open sockets close), its account is deactivated.
pub async fn revoke(state: &Ctx, viewer: &Viewer, id: Uuid) -> ApiResult<api_key::Model> {
    let txn = db::begin_write(&state.db).await?;
    let key = api_key::Entity::find_by_id(id)
        .filter(api_key::Column::OrganizationId.eq(viewer.organization_id))
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("API key"))?;
    if !policy::can_manage_staff(viewer, key.organization_id) {
        return Err(ApiError::forbidden(
            "Only the organization's admin revokes API keys.",
        ));
    }
    if key.revoked_at.is_some() {
        return Ok(key);
    }
    let now = super::now();
    super::outbox::announce_ended(&txn).await?;
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .col_expr(
            session::Column::RevokedReason,
            Expr::value("API_KEY_REVOKED"),
        )
        .filter(session::Column::Id.eq(key.id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    staff_member::Entity::update_many()
        .col_expr(staff_member::Column::Active, Expr::value(false))
        .col_expr(staff_member::Column::UpdatedAt, Expr::value(now))
        .filter(staff_member::Column::Id.eq(key.staff_member_id))
        .exec(&txn)
        .await?;
    let mut am = key.into_active_model();
    am.revoked_at = Set(Some(now));
    let key = am.update(&txn).await?;
    events::record_read(&txn, viewer, "REVOKE_API_KEY", None, &[key.id]).await?;
    txn.commit().await?;
    Ok(key)
}

/// The organization's keys (admins only): every unrevoked one, then the newest revoked ones
/// up to `revoked_limit`, each group newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    revoked_limit: u64,
) -> ApiResult<Vec<api_key::Model>> {
    if !policy::can_manage_staff(viewer, viewer.organization_id) {
        return Err(ApiError::forbidden(
            "Only the organization's admin lists API keys.",
        ));
    }
    let own = || {
        api_key::Entity::find()
            .filter(api_key::Column::OrganizationId.eq(viewer.organization_id))
            .order_by_desc(api_key::Column::CreatedAt)
    };
    let mut keys = own()
        .filter(api_key::Column::RevokedAt.is_null())
        .limit(MAX_ACTIVE_KEYS)
        .all(db)
        .await?;
    keys.extend(
        own()
            .filter(api_key::Column::RevokedAt.is_not_null())
            .limit(revoked_limit)
            .all(db)
            .await?,
    );
    Ok(keys)
}

/// A live key: its service account, its session, and when it expires.
#[derive(Debug, Clone, Copy)]
pub struct LiveKey {
    pub staff_member_id: Uuid,
    pub session_id: Uuid,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The session a key stands for, if the key exists and is neither revoked nor expired; records
/// when it was last used (at most once a minute, in the background, so a busy database never
/// fails a read). The caller then resolves the viewer exactly as for a person's session.
pub async fn authenticate(db: &DatabaseConnection, key: &str) -> ApiResult<Option<LiveKey>> {
    if key.len() > 200 {
        return Ok(None);
    }
    let now = super::now();
    let Some(row) = api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(hash_token(key)))
        .filter(api_key::Column::RevokedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if row.expires_at.is_some_and(|e| e <= now) {
        return Ok(None);
    }
    if row
        .last_used_at
        .is_none_or(|t| (now - t).num_seconds() >= LAST_USED_RESOLUTION_SECS)
    {
        let db = db.clone();
        let id = row.id;
        tokio::spawn(async move {
            let written = api_key::Entity::update_many()
                .col_expr(api_key::Column::LastUsedAt, Expr::value(now))
                .filter(api_key::Column::Id.eq(id))
                .exec(&db)
                .await;
            if let Err(e) = written {
                tracing::debug!(error = %e, "recording an API key's last use failed");
            }
        });
    }
    Ok(Some(LiveKey {
        staff_member_id: row.staff_member_id,
        session_id: row.id,
        expires_at: row.expires_at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_told_apart_from_access_tokens() {
        assert!(is_api_key("kkh_abc"));
        assert!(!is_api_key("eyJhbGciOiJIUzI1NiJ9.e30.x"));
    }
}
