//! Clients (本人): registration (the registering organization becomes the first care-team
//! member), profile reads filtered by consent, external ids. Recipient certificates live in
//! [`super::certificates`].

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use entity::{
    care_team_membership::{self, CareRelationship},
    client, client_external_id,
    organization::OrganizationKind,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    access::{Scope, today},
    events::{self, EventKind, RecordType},
    invalidation, optional_text,
    page::{Page, PageArgs, paginate},
    required_text,
};
use crate::{
    auth::{Viewer, policy},
    db,
    error::{ApiError, ApiResult},
    service::Ctx,
};

/// A family member or guardian, as contact data (not an account).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FamilyContact {
    pub name: String,
    pub relationship: String,
    pub phone: Option<String>,
    pub note: Option<String>,
}

/// What it takes to register a client.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub display_name: String,
    pub name_kana: String,
    pub birth_date: Option<NaiveDate>,
    pub support_category: Option<i32>,
    pub wishes: Option<String>,
    pub family_contacts: Vec<FamilyContact>,
    pub external_id: Option<String>,
    /// For a facility: the service it provides to the client (defaults to its first).
    pub service_type: Option<String>,
    pub start_date: Option<NaiveDate>,
}

fn validate_contacts(contacts: Vec<FamilyContact>) -> ApiResult<Vec<FamilyContact>> {
    if contacts.len() > 10 {
        return Err(ApiError::bad_input(
            "familyContacts",
            "At most 10 family contacts.",
        ));
    }
    contacts
        .into_iter()
        .map(|c| {
            Ok(FamilyContact {
                name: required_text("familyContacts.name", &c.name, 100)?,
                relationship: required_text("familyContacts.relationship", &c.relationship, 50)?,
                phone: optional_text("familyContacts.phone", c.phone, 30)?,
                note: optional_text("familyContacts.note", c.note, 500)?,
            })
        })
        .collect()
}

/// Registers a client; the viewer's organization becomes its first care-team member.
pub async fn register(state: &Ctx, viewer: &Viewer, new: NewClient) -> ApiResult<client::Model> {
    db::retrying(|| register_once(state, viewer, new.clone())).await
}

/// One attempt of [`register`].
async fn register_once(state: &Ctx, viewer: &Viewer, new: NewClient) -> ApiResult<client::Model> {
    let prepared = prepare(&state.db, viewer, new).await?;
    let txn = db::begin_write(&state.db).await?;
    let model = insert_prepared(&txn, viewer, prepared).await?;
    txn.commit().await?;
    Ok(model)
}

/// A new client's validated profile, with the care-team relationship it starts with.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub profile: Profile,
    external_id: Option<String>,
    relationship: CareRelationship,
    service_type: Option<String>,
    start_date: NaiveDate,
}

/// The parts of a client's record its registering organization writes (and an import compares).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Profile {
    pub display_name: String,
    pub name_kana: String,
    pub birth_date: Option<NaiveDate>,
    pub support_category: Option<i32>,
    pub wishes: Option<String>,
    pub family_contacts: serde_json::Value,
}

impl Profile {
    /// The stored profile, for comparison with an incoming one.
    pub(crate) fn of(c: &client::Model) -> Self {
        Self {
            display_name: c.display_name.clone(),
            name_kana: c.name_kana.clone(),
            birth_date: c.birth_date,
            support_category: c.support_category,
            wishes: c.wishes.clone(),
            family_contacts: c.family_contacts.clone(),
        }
    }
}

/// Checks the viewer's right and the input; reads the organization (outside any transaction).
pub(crate) async fn prepare(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    new: NewClient,
) -> ApiResult<Prepared> {
    if !policy::can_register_client(viewer) {
        return Err(ApiError::forbidden(
            "Only service managers, consultation specialists and admins register clients.",
        ));
    }
    let display_name = required_text("displayName", &new.display_name, 100)?;
    let name_kana = required_text("nameKana", &new.name_kana, 100)?;
    if let Some(c) = new.support_category
        && !(1..=6).contains(&c)
    {
        return Err(ApiError::bad_input(
            "supportCategory",
            "The support category (障害支援区分) is 1 to 6.",
        ));
    }
    let today = today();
    if let Some(b) = new.birth_date
        && (b > today || b.year_ce().1 < 1900)
    {
        return Err(ApiError::bad_input(
            "birthDate",
            "The birth date must be between 1900 and today.",
        ));
    }
    let wishes = optional_text("wishes", new.wishes, 2000)?;
    let contacts = validate_contacts(new.family_contacts)?;
    let external_id = super::external_ids::validate(new.external_id)?;
    let org = super::organizations::get_unchecked(db, viewer.organization_id).await?;
    let (relationship, service_type) = match org.kind {
        OrganizationKind::ConsultationOffice => (CareRelationship::Consultation, None),
        OrganizationKind::Facility => {
            let offered = org.service_type_list();
            let chosen = match new.service_type {
                Some(s) if offered.contains(&s) => s,
                Some(_) => {
                    return Err(ApiError::bad_input(
                        "serviceType",
                        "Your organization does not offer this service type.",
                    ));
                }
                None => offered.into_iter().next().ok_or_else(|| {
                    ApiError::bad_input("serviceType", "Your organization offers no service.")
                })?,
            };
            (CareRelationship::ServiceProvider, Some(chosen))
        }
    };
    Ok(Prepared {
        profile: Profile {
            display_name,
            name_kana,
            birth_date: new.birth_date,
            support_category: new.support_category,
            wishes,
            family_contacts: serde_json::to_value(&contacts).map_err(ApiError::internal)?,
        },
        external_id,
        relationship,
        service_type,
        start_date: new.start_date.unwrap_or(today),
    })
}

/// Inserts a prepared client, its first care-team membership and its external id, with the
/// event, in the caller's transaction.
pub(crate) async fn insert_prepared(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    prepared: Prepared,
) -> ApiResult<client::Model> {
    let now = super::now();
    let p = prepared.profile;
    let model = client::ActiveModel {
        id: Set(Uuid::now_v7()),
        display_name: Set(p.display_name),
        name_kana: Set(p.name_kana),
        birth_date: Set(p.birth_date),
        support_category: Set(p.support_category),
        wishes: Set(p.wishes),
        family_contacts: Set(p.family_contacts),
        registered_by_organization_id: Set(viewer.organization_id),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(txn)
    .await?;
    care_team_membership::ActiveModel {
        id: Set(Uuid::now_v7()),
        client_id: Set(model.id),
        organization_id: Set(viewer.organization_id),
        relationship: Set(prepared.relationship),
        service_type: Set(prepared.service_type),
        start_date: Set(prepared.start_date),
        end_date: Set(None),
        added_by_staff_member_id: Set(viewer.staff_member_id),
        ended_by_staff_member_id: Set(None),
        created_at: Set(now),
    }
    .insert(txn)
    .await?;
    if let Some(ext) = prepared.external_id {
        client_external_id::ActiveModel {
            organization_id: Set(viewer.organization_id),
            external_id: Set(ext),
            client_id: Set(model.id),
        }
        .insert(txn)
        .await
        .map_err(|e| {
            if super::is_unique_violation(&e) {
                ApiError::conflict(
                    "Your organization already uses this external id for another client.",
                )
            } else {
                e.into()
            }
        })?;
    }
    events::record_change(
        txn,
        viewer,
        EventKind::ClientRegistered,
        model.id,
        RecordType::Client,
        model.id,
    )
    .await?;
    Ok(model)
}

/// Replaces a client's profile (its registering organization only), as a new version.
pub(crate) async fn update_profile(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    current: client::Model,
    profile: Profile,
) -> ApiResult<client::Model> {
    if current.registered_by_organization_id != viewer.organization_id {
        return Err(ApiError::forbidden(
            "Only the organization that registered the client changes its profile.",
        ));
    }
    let version = current.version;
    let mut am = current.into_active_model();
    am.display_name = Set(profile.display_name);
    am.name_kana = Set(profile.name_kana);
    am.birth_date = Set(profile.birth_date);
    am.support_category = Set(profile.support_category);
    am.wishes = Set(profile.wishes);
    am.family_contacts = Set(profile.family_contacts);
    am.version = Set(version + 1);
    am.updated_at = Set(super::now());
    let model = am.update(txn).await?;
    // Before the commit: no row read from now on is kept under the old generation.
    invalidation::CLIENTS.written(model.id);
    events::record_change(
        txn,
        viewer,
        EventKind::ClientUpdated,
        model.id,
        RecordType::Client,
        model.id,
    )
    .await?;
    Ok(model)
}

/// The client an organization knows by its own external id.
pub async fn by_external_id(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    external_id: &str,
) -> ApiResult<Option<Uuid>> {
    Ok(
        client_external_id::Entity::find_by_id((organization_id, external_id.to_owned()))
            .one(db)
            .await?
            .map(|e| e.client_id),
    )
}

/// One client as the viewer may see it, with the viewer's relation to it; the read is audited.
/// `scope` is the viewer organization's (the request's cached one).
pub async fn get(
    state: &Ctx,
    viewer: &Viewer,
    scope: &Scope,
    client_id: Uuid,
) -> ApiResult<(client::Model, crate::auth::policy::ClientRelation)> {
    let rel = scope.require(client_id)?.clone();
    let model = state
        .client_rows
        .load(&state.db, &[client_id])
        .await?
        .remove(&client_id)
        .ok_or(ApiError::NotFound("Client"))?;
    state
        .read_audits
        .record(
            viewer,
            entity::read_audit::ReadOperation::Client,
            vec![(Some(client_id), vec![client_id])],
        )
        .await?;
    Ok((model, rel))
}

/// Clients by id in one query (for DataLoader); callers filter by scope.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, client::Model>> {
    Ok(client::Entity::find()
        .filter(client::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect())
}

/// Clients' rows kept between requests, each until the client's next event (see
/// [`invalidation::CLIENTS`]: a profile written here, any event of the client read by the hub)
/// or for at most [`invalidation::MAX_AGE`]. Nearly every read of a client, a history page
/// above all, starts with its row, and a profile changes far more rarely than it is read.
/// Writes read the row in their own transaction, never from here.
#[derive(Default)]
pub struct ClientRows {
    rows: std::sync::Mutex<HashMap<Uuid, KeptRow>>,
}

struct KeptRow {
    model: client::Model,
    generation: u64,
    loaded: std::time::Instant,
}

/// How many rows are kept (a row is well under 1 KiB).
const ROWS_KEPT: usize = 10_000;

impl ClientRows {
    /// The rows of `ids` that exist: the kept ones, and the others in one statement.
    pub async fn load(
        &self,
        db: &impl ConnectionTrait,
        ids: &[Uuid],
    ) -> ApiResult<HashMap<Uuid, client::Model>> {
        let mut found = HashMap::with_capacity(ids.len());
        // Each missing row with the generation read before it is loaded: a write committed
        // meanwhile moves it, and the row is then never used.
        let mut missing = Vec::new();
        {
            let rows = self.rows.lock().unwrap_or_else(|e| e.into_inner());
            for &id in ids {
                let generation = invalidation::CLIENTS.current(id);
                match rows.get(&id) {
                    Some(kept)
                        if kept.generation == generation
                            && kept.loaded.elapsed() < invalidation::MAX_AGE =>
                    {
                        found.insert(id, kept.model.clone());
                    }
                    _ => missing.push((id, generation)),
                }
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let ids: Vec<Uuid> = missing.iter().map(|(id, _)| *id).collect();
        let loaded = by_ids(db, &ids).await?;
        let mut rows = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        if rows.len() + loaded.len() > ROWS_KEPT {
            rows.clear();
        }
        let now = std::time::Instant::now();
        for (id, generation) in missing {
            if let Some(model) = loaded.get(&id) {
                let kept = KeptRow {
                    model: model.clone(),
                    generation,
                    loaded: now,
                };
                rows.insert(id, kept);
            }
        }
        found.extend(loaded);
        Ok(found)
    }
}

/// Clients among `ids`, as a page in registration order.
pub async fn page_of(
    db: &impl ConnectionTrait,
    ids: Vec<Uuid>,
    page: &PageArgs,
) -> ApiResult<Page<client::Model>> {
    let q = client::Entity::find().filter(client::Column::Id.is_in(ids));
    paginate(db, q, client::Column::Id, page).await
}

/// The viewer organization's external ids for clients (one query).
pub async fn external_ids(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    clients: &[Uuid],
) -> ApiResult<HashMap<Uuid, String>> {
    Ok(client_external_id::Entity::find()
        .filter(client_external_id::Column::OrganizationId.eq(organization_id))
        .filter(client_external_id::Column::ClientId.is_in(clients.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.client_id, e.external_id))
        .collect())
}
