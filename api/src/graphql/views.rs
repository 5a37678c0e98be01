//! The two role-aware views: `facility` for the organization that supports clients every day,
//! `consultation` for the specialist coordinating across facilities. They share the `Client`
//! and `Observation` types and differ where the two sides need different shapes (the caseload
//! entry with its "new since you last looked" counts).

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Duration, Utc};
use entity::care_team_membership::CareRelationship;
use uuid::Uuid;

use super::{
    Organization,
    client::{Client, ClientConnection},
    context::ContextExt,
    ids,
    observation::{Observation, ObservationCategory, ObservationConnection},
    pagination::{connection_types, page_args},
};
use crate::{
    auth::policy,
    error::{ApiError, ApiResult},
    service::{
        self,
        observations::ObservationFilter,
        page::{Page, PageArgs},
    },
};

/// How long a risk sign stays "open" in the views.
const OPEN_RISK_DAYS: i64 = 30;

async fn own_organization(ctx: &Context<'_>) -> async_graphql::Result<Organization> {
    let viewer = ctx.viewer()?;
    Organization::load(ctx, viewer.organization_id).await
}

/// A page of clients among `ids` (all from the scope), each with its relation.
async fn client_page(
    ctx: &Context<'_>,
    ids: Vec<Uuid>,
    args: &PageArgs,
) -> async_graphql::Result<Page<Client>> {
    let page = service::clients::page_of(&ctx.state()?.db, ids, args).await?;
    let scope = ctx.loaders()?.ctx.scope().await?;
    // The ids came from the scope, so every client has its relation; filter rather than assume.
    let items = page
        .items
        .iter()
        .cloned()
        .filter_map(|model| {
            scope
                .relation(model.id)
                .cloned()
                .map(|rel| Client { model, rel })
        })
        .collect();
    Ok(Page {
        items,
        has_previous_page: page.has_previous_page,
        has_next_page: page.has_next_page,
        total_count: page.total_count,
    })
}

async fn observation_page(
    ctx: &Context<'_>,
    filter: ObservationFilter,
    args: PageArgs,
) -> async_graphql::Result<ObservationConnection> {
    let viewer = ctx.viewer()?;
    let scope = ctx.loaders()?.ctx.scope().await?;
    let page = service::observations::list(ctx.state()?, viewer, &scope, &filter, &args).await?;
    Ok(ObservationConnection::from_page(
        page,
        |o| o.id,
        Observation,
    ))
}

/// The clients the viewer's organization serves today in `relationship` (any when `None`).
async fn current_clients(
    ctx: &Context<'_>,
    relationship: Option<CareRelationship>,
) -> ApiResult<Vec<Uuid>> {
    Ok(ctx
        .loaders()?
        .ctx
        .scope()
        .await?
        .current_clients(relationship))
}

fn open_risk_since() -> DateTime<Utc> {
    Utc::now() - Duration::days(OPEN_RISK_DAYS)
}

/// The facility's view (事業所ビュー).
pub(super) struct FacilityView;

/// Facility view (事業所ビュー): the clients you support today, your recent records and the
/// clients with open risk signs.
#[Object]
impl FacilityView {
    /// Your organization.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        own_organization(ctx).await
    }

    /// Clients your facility currently provides a service to (利用者一覧), in registration order.
    async fn clients(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to continue before.")] before: Option<String>,
    ) -> async_graphql::Result<ClientConnection> {
        let args = page_args(ctx, first, after, last, before)?;
        let ids = current_clients(ctx, Some(CareRelationship::ServiceProvider)).await?;
        let page = client_page(ctx, ids, &args).await?;
        Ok(ClientConnection::from_page(page, |c| c.model.id, |c| c))
    }

    /// Observations you may see about your current clients (yours and those shared with you),
    /// newest first.
    async fn recent_observations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only these categories.", default)] categories: Vec<ObservationCategory>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
    ) -> async_graphql::Result<ObservationConnection> {
        let args = page_args(ctx, first, after, None, None)?;
        let clients = current_clients(ctx, None).await?;
        let filter = ObservationFilter {
            categories: categories.into_iter().map(Into::into).collect(),
            clients: Some(clients),
            ..Default::default()
        };
        observation_page(ctx, filter, args).await
    }

    /// Upcoming meetings about your current clients, soonest first (at most 100), with whether
    /// your brief has arrived.
    async fn upcoming_meetings(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::meeting::Meeting>> {
        let scope = ctx.loaders()?.ctx.scope().await?;
        let list = service::meetings::upcoming(&ctx.state()?.db, &scope).await?;
        Ok(list.into_iter().map(super::meeting::Meeting).collect())
    }

    /// Current clients with a risk sign (リスクの兆し) in the last 30 days.
    async fn clients_with_open_risk_signs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
    ) -> async_graphql::Result<ClientConnection> {
        let args = page_args(ctx, first, after, None, None)?;
        let ids = clients_with_open_risk(ctx, Some(CareRelationship::ServiceProvider)).await?;
        let page = client_page(ctx, ids, &args).await?;
        Ok(ClientConnection::from_page(page, |c| c.model.id, |c| c))
    }
}

async fn clients_with_open_risk(
    ctx: &Context<'_>,
    relationship: Option<CareRelationship>,
) -> ApiResult<Vec<Uuid>> {
    let scope = ctx.loaders()?.ctx.scope().await?;
    let current = scope.current_clients(relationship);
    service::observations::clients_with(
        &ctx.state()?.db,
        &scope,
        &current,
        entity::observation::ObservationCategory::RiskSign,
        open_risk_since(),
    )
    .await
}

/// One client in a consultation specialist's caseload.
#[derive(Clone)]
pub(super) struct CaseloadEntry(pub Client);

connection_types!(
    CaseloadEntryConnection,
    CaseloadEntryEdge,
    CaseloadEntry,
    "caseload entries (担当ケース)"
);

/// Caseload entry (担当ケース): a client and what is new about them since you last looked.
#[Object]
impl CaseloadEntry {
    /// The client.
    async fn client(&self) -> &Client {
        &self.0
    }
    /// Observations shared by other organizations since you last marked the client reviewed
    /// (前回確認以降の新しい共有記録).
    async fn new_shared_observation_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        Ok(ctx
            .loaders()?
            .client_counts
            .load_one(self.0.model.id)
            .await?
            .unwrap_or_default()
            .0)
    }
    /// Risk signs (リスクの兆し) you may see from the last 30 days.
    async fn open_risk_sign_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        Ok(ctx
            .loaders()?
            .client_counts
            .load_one(self.0.model.id)
            .await?
            .unwrap_or_default()
            .1)
    }
    /// When you last marked the client reviewed; null if never.
    async fn last_reviewed_at(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<DateTime<Utc>>> {
        Ok(ctx.loaders()?.reviews.load_one(self.0.model.id).await?)
    }
}

/// The consultation office's view (相談支援ビュー).
pub(super) struct ConsultationView;

/// Consultation view (相談支援ビュー): your caseload across all facilities, what is new in it,
/// its risk signs and the observations facilities share with you.
#[Object]
impl ConsultationView {
    /// Your organization.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        own_organization(ctx).await
    }

    /// Clients your office currently coordinates (担当ケース一覧), in registration order.
    async fn caseload(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
    ) -> async_graphql::Result<CaseloadEntryConnection> {
        let args = page_args(ctx, first, after, None, None)?;
        let ids = current_clients(ctx, Some(CareRelationship::Consultation)).await?;
        let page = client_page(ctx, ids, &args).await?;
        Ok(CaseloadEntryConnection::from_page(
            page,
            |c| c.model.id,
            CaseloadEntry,
        ))
    }

    /// Observations other organizations share with you, newest first; optionally of one client.
    async fn shared_observations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this client.")] client_id: Option<ID>,
        #[graphql(desc = "Only these categories.", default)] categories: Vec<ObservationCategory>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
    ) -> async_graphql::Result<ObservationConnection> {
        let args = page_args(ctx, first, after, None, None)?;
        let scope = ctx.loaders()?.ctx.scope().await?;
        let clients = match client_id {
            Some(id) => {
                let id = ids::decode("Client", "clientId", &id)?;
                scope.require(id)?;
                vec![id]
            }
            None => scope.current_clients(Some(CareRelationship::Consultation)),
        };
        let filter = ObservationFilter {
            categories: categories.into_iter().map(Into::into).collect(),
            clients: Some(clients),
            shared_only: true,
            ..Default::default()
        };
        observation_page(ctx, filter, args).await
    }

    /// What falls due across your caseload, soonest first (次に期限が来るもの): monitoring months
    /// (overdue ones flagged), individual-plan reviews, grant-period expiries.
    async fn due_items(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many (at most 100).")] first: Option<i32>,
    ) -> async_graphql::Result<Vec<super::history::DueItemObject>> {
        let clients = current_clients(ctx, Some(CareRelationship::Consultation)).await?;
        super::history::due_items(ctx, &clients, first).await
    }

    /// The monitoring calendar of your caseload (モニタリング実施予定表): every monitoring month
    /// that is overdue (未実施), due this month, or due within `monthsAhead` months, oldest first,
    /// from each client's recipient certificate (the municipality's decision as printed, else the
    /// national standard periods). Clients whose profile you may not see are left out.
    async fn monitoring_calendar(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many months ahead to include (0–12, default 3).")]
        months_ahead: Option<i32>,
        #[graphql(desc = "How many (at most 200, the default).")] first: Option<i32>,
    ) -> async_graphql::Result<Vec<super::schedule::ScheduledMonitoring>> {
        let clients = current_clients(ctx, Some(CareRelationship::Consultation)).await?;
        super::schedule::monitoring_calendar(ctx, &clients, months_ahead, first).await
    }

    /// Risk signs (リスクの兆し) across your caseload from the last 30 days, newest first.
    async fn risk_signs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
    ) -> async_graphql::Result<ObservationConnection> {
        let args = page_args(ctx, first, after, None, None)?;
        let clients = current_clients(ctx, Some(CareRelationship::Consultation)).await?;
        let filter = ObservationFilter {
            categories: vec![entity::observation::ObservationCategory::RiskSign],
            clients: Some(clients),
            recorded_since: Some(open_risk_since()),
            ..Default::default()
        };
        observation_page(ctx, filter, args).await
    }

    /// Risk signs other organizations shared with your office that your office has not
    /// acknowledged yet (未確認のリスクの兆し), oldest first; those past your office's deadline
    /// are marked `overdue`. Acknowledge them with `acknowledgeRecords`.
    async fn unacknowledged_risk_signs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many (1–100, default 50).")] first: Option<i32>,
    ) -> async_graphql::Result<Vec<super::acknowledgement::UnacknowledgedRiskSign>> {
        super::acknowledgement::unacknowledged_risk_signs(ctx, first).await
    }
}

#[derive(Default)]
pub(super) struct ViewQuery;

#[Object]
impl ViewQuery {
    /// The facility view. Staff of facilities only; others get `FORBIDDEN`.
    async fn facility(&self, ctx: &Context<'_>) -> async_graphql::Result<FacilityView> {
        let viewer = ctx.viewer()?;
        if !policy::can_use_facility_view(viewer) {
            return Err(ApiError::forbidden("The facility view is for facility staff.").into());
        }
        Ok(FacilityView)
    }

    /// The consultation view. Staff of consultation offices only; others get `FORBIDDEN`.
    async fn consultation(&self, ctx: &Context<'_>) -> async_graphql::Result<ConsultationView> {
        let viewer = ctx.viewer()?;
        if !policy::can_use_consultation_view(viewer) {
            return Err(
                ApiError::forbidden("The consultation view is for consultation offices.").into(),
            );
        }
        Ok(ConsultationView)
    }
}
