//! Staff members: created and deactivated by their organization's admin; each changes their own
//! password. Deactivation revokes every session of the account at once.

use std::collections::HashMap;

use entity::{
    session,
    staff_member::{self, StaffRole},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set,
    sea_query::Expr,
};
use uuid::Uuid;

use super::page::{Page, PageArgs, paginate};
use crate::{
    auth::{Viewer, password::PasswordHasher, policy},
    db,
    error::{ApiError, ApiResult},
    service::Ctx,
};

/// Longest accepted email address (RFC 5321).
pub const MAX_EMAIL_BYTES: usize = 254;

/// What an admin supplies to create an account.
#[derive(Debug, Clone)]
pub struct NewStaffMember {
    pub email: String,
    pub display_name: String,
    pub role: StaffRole,
    pub initial_password: String,
    /// The organization's own id for the person (unique per organization).
    pub external_id: Option<String>,
}

/// The login name as stored: trimmed and lower-cased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

fn validate_email(field: &str, email: &str) -> ApiResult<String> {
    let email = normalize_email(email);
    let plausible = email.len() <= MAX_EMAIL_BYTES
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    if plausible {
        Ok(email)
    } else {
        Err(ApiError::bad_input(field, "Enter a valid email address."))
    }
}

/// Creates a staff member in the viewer's own organization (org admins only).
pub async fn create(
    state: &Ctx,
    viewer: &Viewer,
    new: NewStaffMember,
) -> ApiResult<staff_member::Model> {
    if !policy::can_manage_staff(viewer, viewer.organization_id) {
        return Err(ApiError::forbidden(
            "Only the organization's admin can create staff accounts.",
        ));
    }
    if !policy::role_fits(viewer.organization_kind, new.role) {
        return Err(ApiError::bad_input(
            "role",
            "This role does not exist in an organization of this kind.",
        ));
    }
    // A retried create with the same external id returns the account it made, also when the
    // two calls raced and the other one inserted first.
    let ext = super::external_ids::validate(new.external_id.clone())?;
    if let Some(found) = same_external_id(&state.db, viewer, ext.as_deref(), &new.email).await? {
        return found;
    }
    let email = new.email.clone();
    match insert(&state.db, &state.passwords, viewer.organization_id, new).await {
        Err(ApiError::Conflict(message)) => {
            match same_external_id(&state.db, viewer, ext.as_deref(), &email).await? {
                Some(found) => found,
                None => Err(ApiError::Conflict(message)),
            }
        }
        other => other,
    }
}

/// The account already created with this external id: itself when the email matches, a
/// conflict otherwise; `None` when there is none.
async fn same_external_id(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    external_id: Option<&str>,
    email: &str,
) -> ApiResult<Option<ApiResult<staff_member::Model>>> {
    let Some(ext) = external_id else {
        return Ok(None);
    };
    let existing = staff_member::Entity::find()
        .filter(staff_member::Column::OrganizationId.eq(viewer.organization_id))
        .filter(staff_member::Column::ExternalId.eq(ext))
        .one(db)
        .await?;
    Ok(existing.map(|m| {
        if m.email == normalize_email(email) {
            Ok(m)
        } else {
            Err(ApiError::conflict(
                "Your organization already uses this externalId for another staff member.",
            ))
        }
    }))
}

/// Inserts an account without an authorization check: the CLI bootstrap (`create-admin`) and the
/// demo seed call this directly; API callers go through [`create`].
pub async fn insert(
    db: &impl ConnectionTrait,
    passwords: &PasswordHasher,
    organization_id: Uuid,
    new: NewStaffMember,
) -> ApiResult<staff_member::Model> {
    let email = validate_email("email", &new.email)?;
    let display_name = super::required_text("displayName", &new.display_name, 100)?;
    let external_id = super::external_ids::validate(new.external_id)?;
    let password_hash = passwords
        .hash(&new.initial_password, "initialPassword")
        .await?;
    let now = super::now();
    let model = staff_member::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(organization_id),
        email: Set(email),
        display_name: Set(display_name),
        role: Set(new.role),
        password_hash: Set(password_hash),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        external_id: Set(external_id),
        service_account: Set(false),
    };
    model.insert(db).await.map_err(|e| {
        if super::is_unique_violation(&e) {
            ApiError::conflict(
                "A staff member with this email, or this externalId, already exists.",
            )
        } else {
            e.into()
        }
    })
}

/// Deactivates or reactivates an account of the admin's own organization. Deactivating revokes
/// all its sessions in the same transaction.
pub async fn set_active(
    state: &Ctx,
    viewer: &Viewer,
    staff_member_id: Uuid,
    active: bool,
) -> ApiResult<staff_member::Model> {
    let txn = db::begin_write(&state.db).await?;
    let member = staff_member::Entity::find_by_id(staff_member_id)
        .filter(staff_member::Column::OrganizationId.eq(viewer.organization_id))
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("Staff member"))?;
    if !policy::can_manage_staff(viewer, member.organization_id) {
        return Err(ApiError::forbidden(
            "Only the organization's admin can change accounts.",
        ));
    }
    if member.service_account {
        return Err(ApiError::bad_input(
            "staffMemberId",
            "This is an API key's service account: revoke the key instead.",
        ));
    }
    if member.id == viewer.staff_member_id && !active {
        return Err(ApiError::forbidden(
            "You cannot deactivate your own account.",
        ));
    }
    let mut am = member.into_active_model();
    am.active = Set(active);
    am.updated_at = Set(super::now());
    let member = am.update(&txn).await?;
    if !active {
        revoke_all_sessions(&txn, member.id, None, "DEACTIVATED").await?;
    }
    txn.commit().await?;
    Ok(member)
}

/// Changes the viewer's own password after checking the current one; every other session of the
/// account is revoked.
pub async fn change_password(
    state: &Ctx,
    viewer: &Viewer,
    current_password: &str,
    new_password: &str,
) -> ApiResult<()> {
    let member = staff_member::Entity::find_by_id(viewer.staff_member_id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    if member.service_account {
        return Err(ApiError::bad_input(
            "currentPassword",
            "An API key's service account has no password.",
        ));
    }
    if !state
        .passwords
        .verify(current_password, Some(member.password_hash.clone()))
        .await?
    {
        return Err(ApiError::bad_input(
            "currentPassword",
            "The current password is wrong.",
        ));
    }
    if current_password == new_password {
        return Err(ApiError::bad_input(
            "newPassword",
            "Choose a password different from the current one.",
        ));
    }
    let hash = state.passwords.hash(new_password, "newPassword").await?;
    let txn = db::begin_write(&state.db).await?;
    let mut am = member.into_active_model();
    am.password_hash = Set(hash);
    am.updated_at = Set(super::now());
    am.update(&txn).await?;
    revoke_all_sessions(
        &txn,
        viewer.staff_member_id,
        Some(viewer.session_id),
        "PASSWORD_CHANGED",
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Revokes every live session of an account, optionally sparing one.
async fn revoke_all_sessions(
    db: &impl ConnectionTrait,
    staff_member_id: Uuid,
    except: Option<Uuid>,
    reason: &str,
) -> ApiResult<()> {
    super::outbox::announce_ended(db).await?;
    let mut q = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(super::now()))
        .col_expr(session::Column::RevokedReason, Expr::value(reason))
        .filter(session::Column::StaffMemberId.eq(staff_member_id))
        .filter(session::Column::RevokedAt.is_null());
    if let Some(keep) = except {
        q = q.filter(session::Column::Id.ne(keep));
    }
    q.exec(db).await?;
    Ok(())
}

/// The staff of the viewer's own organization.
pub async fn list_own(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    include_inactive: bool,
    page: &PageArgs,
) -> ApiResult<Page<staff_member::Model>> {
    if !policy::can_list_staff(viewer, viewer.organization_id) {
        return Err(ApiError::forbidden(
            "You cannot list this organization's staff.",
        ));
    }
    let mut q = staff_member::Entity::find()
        .filter(staff_member::Column::OrganizationId.eq(viewer.organization_id));
    if !include_inactive {
        q = q.filter(staff_member::Column::Active.eq(true));
    }
    paginate(db, q, staff_member::Column::Id, page).await
}

/// Staff members by id in one query (for DataLoader). Names and organizations are shown across
/// organizations (authors of shared records); contact details are filtered in the GraphQL type.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, staff_member::Model>> {
    use sea_orm::{Iterable, QuerySelect, sea_query::Expr};
    // Everything but the password hash (read only by sign-in, never by a display name): the
    // column comes back empty.
    Ok(staff_member::Entity::find()
        .select_only()
        .columns(
            staff_member::Column::iter()
                .filter(|c| !matches!(c, staff_member::Column::PasswordHash)),
        )
        .column_as(Expr::value(""), "password_hash")
        .filter(staff_member::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            validate_email("e", "  Staff@Himawari.Example ").unwrap(),
            "staff@himawari.example"
        );
        for bad in [
            "",
            "no-at-sign",
            "@x.jp",
            "a@nodot",
            "a b@x.jp",
            "a@.jp",
            &format!("{}@x.jp", "a".repeat(260)),
        ] {
            assert!(validate_email("e", bad).is_err(), "{bad:?}");
        }
    }
}
