//! Organizations: the directory every signed-in staff member can search (to find the other side
//! of a client's care team), and their creation from the CLI when an installation starts.

use std::collections::HashMap;

use entity::organization::{self, OrganizationKind};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::page::{Page, PageArgs, paginate};
use crate::{
    auth::Viewer,
    error::{ApiError, ApiResult},
};

/// What it takes to register an organization.
#[derive(Debug, Clone)]
pub struct NewOrganization {
    pub kind: OrganizationKind,
    pub name: String,
    pub service_types: Vec<String>,
    pub municipality: String,
    pub office_number: Option<String>,
}

/// Validates and stores a new organization (CLI bootstrap and demo data; not exposed over the
/// API, where no one may create organizations).
pub async fn create(
    db: &impl ConnectionTrait,
    new: NewOrganization,
) -> ApiResult<organization::Model> {
    let name = super::required_text("name", &new.name, 200)?;
    let municipality = super::required_text("municipality", &new.municipality, 100)?;
    let mut service_types = Vec::new();
    for s in &new.service_types {
        service_types.push(super::required_text("serviceTypes", s, 100)?);
    }
    match new.kind {
        OrganizationKind::Facility if service_types.is_empty() => {
            return Err(ApiError::bad_input(
                "serviceTypes",
                "A facility offers at least one service type.",
            ));
        }
        OrganizationKind::ConsultationOffice if !service_types.is_empty() => {
            return Err(ApiError::bad_input(
                "serviceTypes",
                "Service types describe facilities; a consultation office has none.",
            ));
        }
        _ => {}
    }
    let office_number = match new.office_number.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(n) if n.len() == 10 && n.bytes().all(|b| b.is_ascii_digit()) => Some(n.to_owned()),
        Some(_) => {
            return Err(ApiError::bad_input(
                "officeNumber",
                "The office number (事業所番号) has 10 digits.",
            ));
        }
    };
    let model = organization::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(new.kind),
        name: Set(name),
        service_types: Set(serde_json::json!(service_types)),
        municipality: Set(municipality),
        office_number: Set(office_number),
        created_at: Set(super::now()),
        risk_acknowledgement_hours: Set(24),
    };
    model.insert(db).await.map_err(|e| {
        if super::is_unique_violation(&e) {
            ApiError::conflict("An organization with this office number already exists.")
        } else {
            e.into()
        }
    })
}

/// One organization. The directory is visible to every signed-in staff member.
pub async fn get(
    db: &impl ConnectionTrait,
    _viewer: &Viewer,
    id: Uuid,
) -> ApiResult<organization::Model> {
    organization::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("Organization"))
}

/// Organizations by id in one query (for DataLoader).
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, organization::Model>> {
    Ok(organization::Entity::find()
        .filter(organization::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect())
}

/// The directory, optionally of one kind, in registration order.
pub async fn list(
    db: &impl ConnectionTrait,
    _viewer: &Viewer,
    kind: Option<OrganizationKind>,
    page: &PageArgs,
) -> ApiResult<Page<organization::Model>> {
    let mut q = organization::Entity::find();
    if let Some(kind) = kind {
        q = q.filter(organization::Column::Kind.eq(kind));
    }
    paginate(db, q, organization::Column::Id, page).await
}

/// One organization without a viewer (internal use).
pub async fn get_unchecked(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<organization::Model> {
    organization::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("Organization"))
}
