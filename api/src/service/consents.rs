//! Sharing consents (情報共有の同意): recorded from the signed document, revocable, never deleted.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::sharing_consent;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

use super::{
    access::{category_str, today},
    events::{self, EventKind, RecordType},
    optional_text, required_text,
    timeline::EntryKind,
};
use crate::service::ClientWrite;
use crate::{
    auth::{
        Viewer,
        policy::{self, DataCategory},
    },
    db,
    error::{ApiError, ApiResult},
    service::Ctx,
};

/// Who signed.
pub const SIGNER_RELATIONSHIPS: [&str; 4] = ["CLIENT", "GUARDIAN", "FAMILY", "OTHER"];

/// A consent as written on paper.
#[derive(Debug, Clone)]
pub struct NewConsent {
    pub client_id: Uuid,
    pub granted_by: String,
    pub signer_relationship: String,
    pub granted_on: NaiveDate,
    /// The named recipients; `None`: the organizations on the care team today, named as such
    /// (the consent does not follow the team as it changes).
    pub recipient_organization_ids: Option<Vec<Uuid>>,
    /// The client also consents to organizations that join the care team later.
    pub covers_future_members: bool,
    /// Recipients also receive records from before their first day on the team.
    pub includes_earlier_records: bool,
    pub data_categories: Vec<DataCategory>,
    pub expires_on: Option<NaiveDate>,
    pub document_reference: Option<String>,
}

/// Records a consent.
pub async fn record(
    state: &Ctx,
    viewer: &Viewer,
    new: NewConsent,
) -> ApiResult<sharing_consent::Model> {
    db::retrying(|| record_once(state, viewer, new.clone())).await
}

/// One attempt of [`record`].
async fn record_once(
    state: &Ctx,
    viewer: &Viewer,
    new: NewConsent,
) -> ApiResult<sharing_consent::Model> {
    let txn = ClientWrite::for_client(viewer, new.client_id)
        .open(
            state,
            policy::can_coordinate_client,
            "Only coordinators of a current care-team member record consents.",
        )
        .await?;
    let granted_by = required_text("grantedBy", &new.granted_by, 100)?;
    if !SIGNER_RELATIONSHIPS.contains(&new.signer_relationship.as_str()) {
        return Err(ApiError::bad_input(
            "signerRelationship",
            "Use CLIENT, GUARDIAN, FAMILY or OTHER.",
        ));
    }
    if new.granted_on > today() {
        return Err(ApiError::bad_input(
            "grantedOn",
            "A consent cannot be dated in the future.",
        ));
    }
    if new.expires_on.is_some_and(|e| e < new.granted_on) {
        return Err(ApiError::bad_input(
            "expiresOn",
            "The expiry is before the grant date.",
        ));
    }
    if new.data_categories.is_empty() {
        return Err(ApiError::bad_input(
            "dataCategories",
            "Name at least one data category.",
        ));
    }
    if new
        .recipient_organization_ids
        .as_ref()
        .is_some_and(|r| r.is_empty() || r.len() > 50)
    {
        return Err(ApiError::bad_input(
            "recipientOrganizationIds",
            "Name 1 to 50 organizations, or none for the organizations on the care team today.",
        ));
    }
    let document_reference = optional_text("documentReference", new.document_reference, 200)?;
    let mut categories: Vec<&str> = new
        .data_categories
        .iter()
        .map(|c| category_str(*c))
        .collect();
    categories.sort_unstable();
    categories.dedup();
    let recipients = match new.recipient_organization_ids {
        Some(mut ids) => {
            ids.sort_unstable();
            ids.dedup();
            ids
        }
        None => {
            let today = today();
            let mut ids: Vec<Uuid> = entity::care_team_membership::Entity::find()
                .filter(entity::care_team_membership::Column::ClientId.eq(new.client_id))
                .all(&txn)
                .await?
                .into_iter()
                .filter(|m| m.is_current_on(today))
                .map(|m| m.organization_id)
                .collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        }
    };
    let model = sharing_consent::ActiveModel {
        id: Set(Uuid::now_v7()),
        client_id: Set(new.client_id),
        granted_by: Set(granted_by),
        signer_relationship: Set(new.signer_relationship),
        granted_on: Set(new.granted_on),
        recipient_organization_ids: Set(Some(serde_json::json!(recipients))),
        covers_future_members: Set(new.covers_future_members),
        includes_earlier_records: Set(new.includes_earlier_records),
        data_categories: Set(serde_json::json!(categories)),
        expires_on: Set(new.expires_on),
        document_reference: Set(document_reference),
        recorded_by_staff_member_id: Set(viewer.staff_member_id),
        recorded_by_organization_id: Set(viewer.organization_id),
        created_at: Set(super::now()),
        revoked_on: Set(None),
        revoked_at: Set(None),
        revoked_by_staff_member_id: Set(None),
        revocation_note: Set(None),
    }
    .insert(&txn)
    .await?;
    put_timeline(&txn, &model, EntryKind::ConsentGranted, model.created_at).await?;
    events::record_change(
        &txn,
        viewer,
        EventKind::ConsentChanged,
        new.client_id,
        RecordType::SharingConsent,
        model.id,
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// Revokes a consent: sharing stops at once; the record stays, dated.
pub async fn revoke(
    state: &Ctx,
    viewer: &Viewer,
    consent_id: Uuid,
    revoked_on: Option<NaiveDate>,
    note: Option<String>,
) -> ApiResult<sharing_consent::Model> {
    db::retrying(|| revoke_once(state, viewer, consent_id, revoked_on, note.clone())).await
}

/// One attempt of [`revoke`].
async fn revoke_once(
    state: &Ctx,
    viewer: &Viewer,
    consent_id: Uuid,
    revoked_on: Option<NaiveDate>,
    note: Option<String>,
) -> ApiResult<sharing_consent::Model> {
    let consent = sharing_consent::Entity::find_by_id(consent_id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("Sharing consent"))?;
    let txn = ClientWrite::for_record(viewer, consent.client_id, "Sharing consent")
        .open(
            state,
            policy::can_coordinate_client,
            "Only coordinators of a current care-team member revoke consents.",
        )
        .await?;
    if consent.revoked_at.is_some() {
        return Err(ApiError::conflict("This consent has already been revoked."));
    }
    let note = optional_text("note", note, 1000)?;
    let client_id = consent.client_id;
    // Check again inside the write transaction: a concurrent call may have revoked it.
    let consent = sharing_consent::Entity::find_by_id(consent_id)
        .one(&txn)
        .await?
        .filter(|c| c.revoked_at.is_none())
        .ok_or_else(|| ApiError::conflict("This consent has already been revoked."))?;
    let mut am = consent.into_active_model();
    am.revoked_on = Set(Some(revoked_on.unwrap_or_else(today)));
    am.revoked_at = Set(Some(super::now()));
    am.revoked_by_staff_member_id = Set(Some(viewer.staff_member_id));
    am.revocation_note = Set(note);
    let model = am.update(&txn).await?;
    put_timeline(
        &txn,
        &model,
        EntryKind::ConsentRevoked,
        model.revoked_at.unwrap_or(model.created_at),
    )
    .await?;
    events::record_change(
        &txn,
        viewer,
        EventKind::ConsentChanged,
        client_id,
        RecordType::SharingConsent,
        model.id,
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// The policy facts of a consent record: coordination data every current member sees; a former
/// member keeps only the consents it recorded.
pub fn record_facts(c: &sharing_consent::Model) -> crate::auth::policy::AnyRecordFacts {
    crate::auth::policy::AnyRecordFacts {
        organization_id: c.recorded_by_organization_id,
        visibility: entity::observation::Visibility::CareTeam,
        data: None,
        safeguarding: false,
        on: super::access::jst_day(c.created_at),
    }
}

/// Consent changes are coordination data every current member sees (no consent needed).
async fn put_timeline(
    db: &impl ConnectionTrait,
    c: &sharing_consent::Model,
    kind: EntryKind,
    at: chrono::DateTime<chrono::Utc>,
) -> ApiResult<()> {
    super::timeline::put(
        db,
        super::timeline::Entry {
            kind,
            record_id: c.id,
            client_id: c.client_id,
            occurred_at: at,
            organization_id: c.recorded_by_organization_id,
            visibility: entity::observation::Visibility::CareTeam,
            data: None,
            category: None,
            status: entity::observation::RecordStatus::Current,
        },
    )
    .await
}

/// Consents of clients, oldest first (one query).
pub async fn of_clients(
    db: &impl ConnectionTrait,
    clients: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<sharing_consent::Model>>> {
    Ok(super::capped(super::group_by(
        sharing_consent::Entity::find()
            .filter(sharing_consent::Column::ClientId.is_in(clients.iter().copied()))
            .order_by_asc(sharing_consent::Column::Id)
            .all(db)
            .await?,
        |r| r.client_id,
    )))
}
