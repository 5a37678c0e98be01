//! Organizations (事業所): facilities and consultation-support offices.

use async_graphql::{Context, Enum, ID, Object};
use entity::organization as db;

use super::{
    context::ContextExt,
    ids,
    pagination::{connection_types, page_args},
};
use crate::service;

/// Kind of organization (事業所の種別).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::organization::OrganizationKind")]
pub enum OrganizationKind {
    /// Disability-welfare service provider (障害福祉サービス事業所), e.g. 就労継続支援B型 or グループホーム.
    Facility,
    /// Consultation-support office (相談支援事業所), home of the consultation specialists.
    ConsultationOffice,
}

/// An organization (事業所): a facility providing services, or a consultation-support office.
#[derive(Clone)]
pub struct Organization(pub db::Model);

connection_types!(
    OrganizationConnection,
    OrganizationEdge,
    Organization,
    "organizations (事業所)"
);

/// Organization (事業所): a service-providing facility or a consultation-support office.
#[Object]
impl Organization {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode("Organization", self.0.id)
    }

    /// Facility or consultation office (種別).
    async fn kind(&self) -> OrganizationKind {
        self.0.kind.into()
    }

    /// Name (事業所名), e.g. ひまわり作業所.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Service types the facility offers (サービス種別), e.g. 就労継続支援B型; empty for a
    /// consultation office.
    async fn service_types(&self) -> Vec<String> {
        self.0.service_type_list()
    }

    /// Municipality (市町村) the organization is registered in.
    async fn municipality(&self) -> &str {
        &self.0.municipality
    }

    /// Office number (事業所番号, 10 digits); null when not registered.
    async fn office_number(&self) -> Option<&str> {
        self.0.office_number.as_deref()
    }
}

impl Organization {
    /// Loads an organization through the request's DataLoader. Organizations are a public
    /// directory, so a missing one is a broken reference: `NOT_FOUND`.
    pub async fn load(ctx: &Context<'_>, id: uuid::Uuid) -> async_graphql::Result<Organization> {
        let org = ctx
            .loaders()?
            .organizations
            .load_one(id)
            .await?
            .ok_or(crate::error::ApiError::NotFound("Organization"))?;
        Ok(Organization(org))
    }
}

#[derive(Default)]
pub(super) struct OrganizationQuery;

#[Object]
impl OrganizationQuery {
    /// One organization by id. Null never: an unknown id is `NOT_FOUND`.
    async fn organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization's global id.")] id: ID,
    ) -> async_graphql::Result<Organization> {
        let viewer = ctx.viewer()?;
        let uuid = ids::decode("Organization", "id", &id)?;
        let state = ctx.state()?;
        Ok(Organization(
            service::organizations::get(&state.db, viewer, uuid).await?,
        ))
    }

    /// The directory of organizations (事業所一覧) in this installation, to find the other side of
    /// a client's care team. Every signed-in staff member may read it.
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only organizations of this kind.")] kind: Option<OrganizationKind>,
        #[graphql(desc = "Page size from the start (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to continue before.")] before: Option<String>,
    ) -> async_graphql::Result<OrganizationConnection> {
        let viewer = ctx.viewer()?;
        let args = page_args(ctx, first, after, last, before)?;
        let state = ctx.state()?;
        let page =
            service::organizations::list(&state.db, viewer, kind.map(Into::into), &args).await?;
        Ok(OrganizationConnection::from_page(
            page,
            |o| o.id,
            Organization,
        ))
    }
}
