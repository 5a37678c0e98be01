//! Care teams (支援チーム): which organizations support a client, in which relationship, when.
//!
//! Only a coordinator (service manager, specialist or admin) of a current member adds another
//! organization or ends a membership; nobody adds their own organization (it must be invited).
//! A client has at most one current consultation office, and may have none (セルフプラン).
//!
//! Adding an organization does not widen any consent: a consent shares with the organizations it
//! names (or, when the client said so, with later members), so a new member receives shared
//! records only under a consent that covers it (see `policy::consent_covers`). Every addition is
//! an event the other members are notified of, and a coordinator of another member can object to
//! it: while the objection is open nothing is shared with the new member under consent.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::{
    care_team_membership::{self, CareRelationship},
    care_team_objection,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

use super::{
    access::{Scope, today},
    events::{self, EventKind, RecordType},
};
use crate::service::ClientWrite;
use crate::{
    auth::{Viewer, policy},
    db,
    error::{ApiError, ApiResult},
    service::Ctx,
};

/// An invitation of another organization onto a client's care team.
#[derive(Debug, Clone)]
pub struct NewMembership {
    pub client_id: Uuid,
    pub organization_id: Uuid,
    pub relationship: CareRelationship,
    pub service_type: Option<String>,
    pub start_date: Option<NaiveDate>,
}

/// Adds an organization to a client's care team.
pub async fn add(
    state: &Ctx,
    viewer: &Viewer,
    new: NewMembership,
) -> ApiResult<care_team_membership::Model> {
    db::retrying(|| add_once(state, viewer, new.clone())).await
}

/// One attempt of [`add`].
async fn add_once(
    state: &Ctx,
    viewer: &Viewer,
    new: NewMembership,
) -> ApiResult<care_team_membership::Model> {
    let txn = ClientWrite::for_client(viewer, new.client_id)
        .open(
            state,
            policy::can_coordinate_client,
            "Only coordinators of a current care-team member change the care team.",
        )
        .await?;
    if new.organization_id == viewer.organization_id {
        return Err(ApiError::forbidden(
            "An organization cannot add itself to a care team.",
        ));
    }
    let org = super::organizations::get_unchecked(&txn, new.organization_id).await?;
    if !policy::relationship_fits(org.kind, new.relationship) {
        return Err(ApiError::bad_input(
            "relationship",
            "Facilities provide services; consultation offices consult.",
        ));
    }
    let service_type = match new.relationship {
        CareRelationship::Consultation => None,
        CareRelationship::ServiceProvider => {
            let offered = org.service_type_list();
            match new.service_type {
                Some(s) if offered.contains(&s) => Some(s),
                Some(_) => {
                    return Err(ApiError::bad_input(
                        "serviceType",
                        "That organization does not offer this service type.",
                    ));
                }
                None => offered.into_iter().next(),
            }
        }
    };
    let today = today();
    let start = new.start_date.unwrap_or(today);
    let existing = care_team_membership::Entity::find()
        .filter(care_team_membership::Column::ClientId.eq(new.client_id))
        .all(&txn)
        .await?;
    let open = |m: &&care_team_membership::Model| m.end_date.is_none_or(|e| e >= start);
    if existing
        .iter()
        .filter(open)
        .any(|m| m.organization_id == new.organization_id)
    {
        return Err(ApiError::conflict(
            "That organization is already on the care team.",
        ));
    }
    if new.relationship == CareRelationship::Consultation
        && existing
            .iter()
            .filter(open)
            .any(|m| m.relationship == CareRelationship::Consultation)
    {
        return Err(ApiError::conflict(
            "The client already has a consultation office; end that membership first.",
        ));
    }
    let model = care_team_membership::ActiveModel {
        id: Set(Uuid::now_v7()),
        client_id: Set(new.client_id),
        organization_id: Set(new.organization_id),
        relationship: Set(new.relationship),
        service_type: Set(service_type),
        start_date: Set(start),
        end_date: Set(None),
        added_by_staff_member_id: Set(viewer.staff_member_id),
        ended_by_staff_member_id: Set(None),
        created_at: Set(super::now()),
    }
    .insert(&txn)
    .await?;
    events::record_change(
        &txn,
        viewer,
        EventKind::CareTeamChanged,
        new.client_id,
        RecordType::CareTeamMembership,
        model.id,
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// Ends a membership on `end_date` (default today). The organization keeps its own records but
/// no longer sees other organizations' records from the day after.
pub async fn end(
    state: &Ctx,
    viewer: &Viewer,
    membership_id: Uuid,
    end_date: Option<NaiveDate>,
) -> ApiResult<care_team_membership::Model> {
    db::retrying(|| end_once(state, viewer, membership_id, end_date)).await
}

/// One attempt of [`end`].
async fn end_once(
    state: &Ctx,
    viewer: &Viewer,
    membership_id: Uuid,
    end_date: Option<NaiveDate>,
) -> ApiResult<care_team_membership::Model> {
    let membership = care_team_membership::Entity::find_by_id(membership_id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("Care-team membership"))?;
    let txn = ClientWrite::for_record(viewer, membership.client_id, "Care-team membership")
        .open(
            state,
            policy::can_coordinate_client,
            "Only coordinators of a current care-team member change the care team.",
        )
        .await?;
    if membership.end_date.is_some() {
        return Err(ApiError::conflict("This membership has already ended."));
    }
    let end = end_date.unwrap_or_else(today);
    if end < membership.start_date {
        return Err(ApiError::bad_input(
            "endDate",
            "The end date is before the start date.",
        ));
    }
    let client_id = membership.client_id;
    // Check again inside the write transaction: a concurrent call may have ended it.
    let membership = care_team_membership::Entity::find_by_id(membership_id)
        .one(&txn)
        .await?
        .filter(|m| m.end_date.is_none())
        .ok_or_else(|| ApiError::conflict("This membership has already ended."))?;
    let mut am = membership.into_active_model();
    am.end_date = Set(Some(end));
    am.ended_by_staff_member_id = Set(Some(viewer.staff_member_id));
    let model = am.update(&txn).await?;
    events::record_change(
        &txn,
        viewer,
        EventKind::CareTeamChanged,
        client_id,
        RecordType::CareTeamMembership,
        model.id,
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// Objects to an organization's addition to a client's care team: until the objection is
/// withdrawn, no consent shares records with that organization (it keeps its own records and the
/// care team's coordination data). Coordinators of another current member only.
pub async fn object(
    state: &Ctx,
    viewer: &Viewer,
    membership_id: Uuid,
    reason: String,
) -> ApiResult<(care_team_membership::Model, care_team_objection::Model)> {
    db::retrying(|| object_once(state, viewer, membership_id, reason.clone())).await
}

async fn object_once(
    state: &Ctx,
    viewer: &Viewer,
    membership_id: Uuid,
    reason: String,
) -> ApiResult<(care_team_membership::Model, care_team_objection::Model)> {
    let membership = care_team_membership::Entity::find_by_id(membership_id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("Care-team membership"))?;
    let txn = ClientWrite::for_record(viewer, membership.client_id, "Care-team membership")
        .open(
            state,
            |viewer, rel| policy::can_object_to_member(viewer, rel, membership.organization_id),
            "Only coordinators of another current care-team member object to a member's addition.",
        )
        .await?;
    if !membership.is_current_on(today()) && membership.start_date <= today() {
        return Err(ApiError::conflict("This membership has ended."));
    }
    let reason = super::required_text("reason", &reason, 1000)?;
    let open = care_team_objection::Entity::find()
        .filter(care_team_objection::Column::MembershipId.eq(membership_id))
        .filter(care_team_objection::Column::OrganizationId.eq(viewer.organization_id))
        .filter(care_team_objection::Column::WithdrawnAt.is_null())
        .one(&txn)
        .await?;
    if open.is_some() {
        return Err(ApiError::conflict(
            "Your organization already has an open objection to this member.",
        ));
    }
    let objection = care_team_objection::ActiveModel {
        id: Set(Uuid::now_v7()),
        client_id: Set(membership.client_id),
        membership_id: Set(membership_id),
        member_organization_id: Set(membership.organization_id),
        organization_id: Set(viewer.organization_id),
        staff_member_id: Set(viewer.staff_member_id),
        reason: Set(reason),
        created_at: Set(super::now()),
        withdrawn_at: Set(None),
        withdrawn_by_staff_member_id: Set(None),
    }
    .insert(&txn)
    .await?;
    // The membership's sharing changed: every member (and every instance's cached scope) hears.
    events::record_change(
        &txn,
        viewer,
        EventKind::CareTeamChanged,
        membership.client_id,
        RecordType::CareTeamMembership,
        membership_id,
    )
    .await?;
    txn.commit().await?;
    Ok((membership, objection))
}

/// Withdraws an objection: a coordinator of the organization that raised it.
pub async fn withdraw_objection(
    state: &Ctx,
    viewer: &Viewer,
    objection_id: Uuid,
) -> ApiResult<(care_team_membership::Model, care_team_objection::Model)> {
    db::retrying(|| withdraw_once(state, viewer, objection_id)).await
}

async fn withdraw_once(
    state: &Ctx,
    viewer: &Viewer,
    objection_id: Uuid,
) -> ApiResult<(care_team_membership::Model, care_team_objection::Model)> {
    let objection = care_team_objection::Entity::find_by_id(objection_id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("Objection"))?;
    let txn = ClientWrite::for_record(viewer, objection.client_id, "Objection")
        .open(
            state,
            |viewer, _| {
                objection.organization_id == viewer.organization_id
                    && policy::coordinates(viewer.role)
            },
            "Only coordinators of the organization that objected withdraw an objection.",
        )
        .await?;
    let objection = care_team_objection::Entity::find_by_id(objection_id)
        .one(&txn)
        .await?
        .filter(|o| o.withdrawn_at.is_none())
        .ok_or_else(|| ApiError::conflict("This objection has already been withdrawn."))?;
    let membership = care_team_membership::Entity::find_by_id(objection.membership_id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("Care-team membership"))?;
    let mut am = objection.into_active_model();
    am.withdrawn_at = Set(Some(super::now()));
    am.withdrawn_by_staff_member_id = Set(Some(viewer.staff_member_id));
    let objection = am.update(&txn).await?;
    events::record_change(
        &txn,
        viewer,
        EventKind::CareTeamChanged,
        membership.client_id,
        RecordType::CareTeamMembership,
        membership.id,
    )
    .await?;
    txn.commit().await?;
    Ok((membership, objection))
}

/// Objections raised on clients' care teams, oldest first (one query).
pub async fn objections_of_clients(
    db: &impl ConnectionTrait,
    clients: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<care_team_objection::Model>>> {
    Ok(super::capped(super::group_by(
        care_team_objection::Entity::find()
            .filter(care_team_objection::Column::ClientId.is_in(clients.iter().copied()))
            .order_by_asc(care_team_objection::Column::Id)
            .all(db)
            .await?,
        |r| r.client_id,
    )))
}

/// What the consents in force share with a member today: each category from the day its records
/// are shared (the same rule as the member's own scope, from the client's consents).
pub fn shares_with(
    member: &care_team_membership::Model,
    consents: &[entity::sharing_consent::Model],
    objections: &[care_team_objection::Model],
) -> std::collections::BTreeMap<policy::DataCategory, policy::SharedFrom> {
    let today = today();
    let mut shares = std::collections::BTreeMap::new();
    if !member.is_current_on(today) {
        return shares;
    }
    let objected: std::collections::HashSet<Uuid> = objections
        .iter()
        .filter(|o| o.withdrawn_at.is_none())
        .map(|o| o.membership_id)
        .collect();
    let facts = super::access::member_facts(member, &objected);
    for c in consents.iter().filter(|c| c.revoked_at.is_none()) {
        policy::add_shares(
            &mut shares,
            policy::consent_covers(
                &super::access::consent_facts(c),
                member.organization_id,
                Some(&facts),
                today,
            ),
        );
    }
    shares
}

/// Memberships of clients, oldest first (one query; at most a few per client).
pub async fn of_clients(
    db: &impl ConnectionTrait,
    clients: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<care_team_membership::Model>>> {
    Ok(super::capped(super::group_by(
        care_team_membership::Entity::find()
            .filter(care_team_membership::Column::ClientId.is_in(clients.iter().copied()))
            .order_by_asc(care_team_membership::Column::Id)
            .all(db)
            .await?,
        |r| r.client_id,
    )))
}

/// The scopes of the client's current consultation offices, to judge what may travel to them
/// (a brief, its draft, an overdue alert): empty for a self-made plan (セルフプラン).
pub async fn consultation_office_scopes(
    db: &impl ConnectionTrait,
    client_id: Uuid,
) -> ApiResult<Vec<Scope>> {
    let offices: Vec<Uuid> = care_team_membership::Entity::find()
        .filter(care_team_membership::Column::ClientId.eq(client_id))
        .filter(care_team_membership::Column::Relationship.eq(CareRelationship::Consultation))
        .all(db)
        .await?
        .into_iter()
        .filter(|m| m.is_current_on(today()))
        .map(|m| m.organization_id)
        .collect();
    let mut scopes = Vec::with_capacity(offices.len());
    for office in offices {
        scopes.push(Scope::for_organization_client(db, office, client_id).await?);
    }
    Ok(scopes)
}
