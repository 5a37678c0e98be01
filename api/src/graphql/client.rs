//! Clients (本人), their profile, certificates and care team, as the viewer may see them.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::client as db;
use uuid::Uuid;

pub(super) use super::certificate::RecipientCertificate;
use super::{
    audit::AuditEventConnection,
    care_team::{CareTeamMember, SharingConsent},
    context::ContextExt,
    ids,
    observation::{Observation, ObservationCategory, ObservationConnection},
    pagination::{connection_types, page_args},
    scalars::Date,
};
use crate::{
    auth::policy::{self, ClientRelation, Membership},
    error::ApiError,
    service::{self, clients, observations::ObservationFilter},
};

/// A client (本人 / 利用者) as one viewer sees them.
#[derive(Clone)]
pub(crate) struct Client {
    pub model: db::Model,
    pub rel: ClientRelation,
}

connection_types!(ClientConnection, ClientEdge, Client, "clients (本人)");

impl Client {
    /// One client as the viewer may see it (its read audited), with the request's cached scope.
    pub(crate) async fn visible(ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Self> {
        let scope = ctx.loaders()?.ctx.scope().await?;
        let (model, rel) = service::clients::get(ctx.state()?, ctx.viewer()?, &scope, id).await?;
        Ok(Self { model, rel })
    }

    /// Whether the profile is visible; a visible profile read is audited (batched per request).
    async fn read_profile(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        if !self.shows_profile(ctx) {
            return Ok(false);
        }
        ctx.loaders()?.profile_reads.load_one(self.model.id).await?;
        Ok(true)
    }

    fn shows_profile(&self, ctx: &Context<'_>) -> bool {
        ctx.viewer()
            .is_ok_and(|v| policy::can_see_profile(v.organization_id, &self.rel))
    }

    /// Loads one client through the request's scope; `NOT_FOUND` when invisible.
    pub(crate) async fn load(ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Client> {
        let loaders = ctx.loaders()?;
        let rel = loaders.ctx.scope().await?.require(id)?.clone();
        let model = loaders
            .clients
            .load_one(id)
            .await?
            .ok_or(ApiError::NotFound("Client"))?;
        Ok(Client { model, rel })
    }
}

/// The viewer organization's relationship to a client today.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ViewerMembership {
    /// A current service provider (サービス提供事業所) for the client.
    ServiceProvider,
    /// The client's current consultation office (相談支援事業所).
    Consultation,
    /// A former member: only its own records remain visible.
    Former,
}

/// A family member or guardian (家族・保護者) as contact data; not an account.
#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "FamilyContactInput")]
pub(super) struct FamilyContact {
    /// Name (氏名).
    pub name: String,
    /// Relationship to the client (続柄), e.g. 母.
    pub relationship: String,
    /// Phone number (電話番号).
    pub phone: Option<String>,
    /// Notes, e.g. when to call (備考).
    pub note: Option<String>,
}

/// Client (本人 / 利用者). Basic identification is visible to every care-team member; profile
/// fields are null unless your organization registered the client or a sharing consent covers
/// `PROFILE` for it.
#[Object]
impl Client {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode("Client", self.model.id)
    }

    /// Name (氏名).
    async fn display_name(&self) -> &str {
        &self.model.display_name
    }

    /// Name in kana (ふりがな).
    async fn name_kana(&self) -> &str {
        &self.model.name_kana
    }

    /// Your organization's relationship to the client today.
    async fn viewer_membership(&self) -> ViewerMembership {
        match self.rel.membership {
            Membership::Current(
                entity::care_team_membership::CareRelationship::ServiceProvider,
            ) => ViewerMembership::ServiceProvider,
            Membership::Current(entity::care_team_membership::CareRelationship::Consultation) => {
                ViewerMembership::Consultation
            }
            _ => ViewerMembership::Former,
        }
    }

    /// True when the profile fields below are visible to you.
    async fn profile_visible(&self, ctx: &Context<'_>) -> bool {
        self.shows_profile(ctx)
    }

    /// Birth date (生年月日). Profile field.
    async fn birth_date(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Date>> {
        Ok(self
            .read_profile(ctx)
            .await?
            .then_some(self.model.birth_date.map(Date))
            .flatten())
    }

    /// Disability support category (障害支援区分) 1–6; null when not assessed. Profile field.
    async fn support_category(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i32>> {
        Ok(self
            .read_profile(ctx)
            .await?
            .then_some(self.model.support_category)
            .flatten())
    }

    /// The client's wishes in their own words (本人の希望). Profile field.
    async fn wishes(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Ok(self
            .read_profile(ctx)
            .await?
            .then_some(self.model.wishes.as_deref())
            .flatten())
    }

    /// Family and guardian contacts (家族・保護者の連絡先). Profile field: null when hidden.
    async fn family_contacts(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<FamilyContact>>> {
        if !self.read_profile(ctx).await? {
            return Ok(None);
        }
        let parsed: Vec<clients::FamilyContact> =
            crate::service::documents::stored("family contacts", &self.model.family_contacts)?;
        Ok(Some(
            parsed
                .into_iter()
                .map(|c| FamilyContact {
                    name: c.name,
                    relationship: c.relationship,
                    phone: c.phone,
                    note: c.note,
                })
                .collect(),
        ))
    }

    /// Recipient certificates (受給者証), oldest first. Profile field: null when hidden.
    async fn recipient_certificates(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<RecipientCertificate>>> {
        if !self.read_profile(ctx).await? {
            return Ok(None);
        }
        let list = ctx
            .loaders()?
            .certificates
            .load_one(self.model.id)
            .await?
            .unwrap_or_default();
        Ok(Some(list.into_iter().map(RecipientCertificate).collect()))
    }

    /// Your organization's own id for this client (e.g. your record system's number), if set.
    async fn external_id(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        Ok(ctx.loaders()?.external_ids.load_one(self.model.id).await?)
    }

    /// The care team (支援チーム): every membership, current and ended, oldest first.
    async fn care_team(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CareTeamMember>> {
        let list = ctx
            .loaders()?
            .care_teams
            .load_one(self.model.id)
            .await?
            .unwrap_or_default();
        Ok(list.into_iter().map(CareTeamMember).collect())
    }

    /// Sharing consents (情報共有の同意), including revoked ones, oldest first. A former member
    /// sees only the consents it recorded.
    async fn sharing_consents(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<SharingConsent>> {
        let loaders = ctx.loaders()?;
        let scope = loaders.ctx.scope().await?;
        let list = loaders
            .consents
            .load_one(self.model.id)
            .await?
            .unwrap_or_default();
        // Coordination data for current members; a former member keeps only what it recorded.
        Ok(list
            .into_iter()
            .filter(|c| scope.can_see_record(c.client_id, service::consents::record_facts(c)))
            .map(SharingConsent)
            .collect())
    }

    /// Observations (支援記録) you may see, newest first. Entered-in-error records are left out
    /// unless asked for.
    #[expect(
        clippy::too_many_arguments,
        reason = "a GraphQL field with this many arguments: each is one argument of the API"
    )]
    async fn observations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only these categories.", default)] categories: Vec<ObservationCategory>,
        #[graphql(desc = "Include records marked entered-in-error.", default = false)]
        include_entered_in_error: bool,
        #[graphql(desc = "Page size from the newest (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size from the oldest (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to continue before.")] before: Option<String>,
    ) -> async_graphql::Result<ObservationConnection> {
        let args = page_args(ctx, first, after, last, before)?;
        let state = ctx.state()?;
        let viewer = ctx.viewer()?;
        let scope = ctx.loaders()?.ctx.scope().await?;
        let filter = ObservationFilter {
            categories: categories.into_iter().map(Into::into).collect(),
            include_entered_in_error,
            clients: Some(vec![self.model.id]),
            ..Default::default()
        };
        let page = service::observations::list(state, viewer, &scope, &filter, &args).await?;
        Ok(ObservationConnection::from_page(
            page,
            |o| o.id,
            Observation,
        ))
    }

    /// The newest observations you may see (at most 20), for overviews of many clients.
    async fn recent_observations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many (1–20).", default = 5)] limit: i32,
    ) -> async_graphql::Result<Vec<Observation>> {
        let limit = u64::try_from(limit)
            .ok()
            .filter(|l| (1..=20).contains(l))
            .ok_or_else(|| ApiError::bad_input("limit", "limit must be 1 to 20."))?;
        let list = ctx
            .loaders()?
            .recent_observations
            .load_one((self.model.id, limit))
            .await?
            .unwrap_or_default();
        Ok(list.into_iter().map(Observation).collect())
    }

    /// Support plans you may see (service-use and individual), newest first. Drafts only by
    /// their writers.
    async fn support_plans(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::plan::SupportPlan>> {
        super::plan::client_plans(ctx, self.model.id).await
    }

    /// Meetings about the client, newest first (at most 100).
    async fn meetings(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::meeting::Meeting>> {
        super::meeting::client_meetings(ctx, self.model.id).await
    }

    /// Materials for the consultation side (素材) for a period (default the last 28 days, at
    /// most 366): record summary, evidence of change with numbers, each facility's direction,
    /// signs of risk and pre-filled monitoring rows. Built only from records you may see, never
    /// from internal notes. A facility gets its own materials exactly as the client's
    /// consultation office reads them (through the office's consent and visibility); the office
    /// gets everyone's, or one facility's with `organizationId`, which is the same document that
    /// facility previews.
    #[graphql(complexity = 50)]
    async fn materials(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "First day (JST); default 27 days before `to`.")] from: Option<
            super::scalars::Date,
        >,
        #[graphql(desc = "Last day (JST); default today.")] to: Option<super::scalars::Date>,
        #[graphql(
            desc = "Only this organization's materials (its records, plan and briefs). A facility may name only itself."
        )]
        organization_id: Option<ID>,
    ) -> async_graphql::Result<super::materials::Materials> {
        let viewer = ctx.viewer()?;
        let organization = organization_id
            .map(|id| ids::decode("Organization", "organizationId", &id))
            .transpose()?;
        if viewer.organization_kind == entity::organization::OrganizationKind::Facility
            && organization.is_some_and(|o| o != viewer.organization_id)
        {
            return Err(ApiError::bad_input(
                "organizationId",
                "A facility's materials are its own: leave organizationId out or name your organization.",
            )
            .into());
        }
        Ok(crate::service::materials::materials(
            ctx.state()?,
            viewer,
            self.model.id,
            from.map(|d| d.0),
            to.map(|d| d.0),
            organization,
        )
        .await?
        .into())
    }

    /// Information freshness per side (情報の鮮度) over a period (default the last 90 days):
    /// unacknowledged shared records, the age of the oldest, and median lags happened →
    /// recorded → acknowledged.
    #[graphql(complexity = 50)]
    async fn freshness(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "First day (JST); default 89 days before `to`.")] from: Option<
            super::scalars::Date,
        >,
        #[graphql(desc = "Last day (JST); default today.")] to: Option<super::scalars::Date>,
    ) -> async_graphql::Result<Vec<super::acknowledgement::SideFreshness>> {
        super::acknowledgement::freshness(ctx, self.model.id, from, to).await
    }

    /// What each organization contributed (相互性) over a period (default the last 90 days):
    /// shared observations, briefs, monitoring reports, acknowledgements, median response time.
    /// For team reviews, not blame.
    #[graphql(complexity = 50)]
    async fn reciprocity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "First day (JST); default 89 days before `to`.")] from: Option<
            super::scalars::Date,
        >,
        #[graphql(desc = "Last day (JST); default today.")] to: Option<super::scalars::Date>,
    ) -> async_graphql::Result<Vec<super::acknowledgement::Contribution>> {
        super::acknowledgement::reciprocity(ctx, self.model.id, from, to).await
    }

    /// The alignment map (目標の対応表) between the service-use plan's goals and each
    /// facility's individual-plan goals, with goals missing on either side and rating drift.
    /// Built only from plans and monitoring reports you may see.
    #[graphql(complexity = 50)]
    async fn plan_alignment(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<super::plan_check::PlanAlignment> {
        super::plan_check::alignment(ctx, self.model.id).await
    }

    /// Monitoring reports you may see, newest first (at most 100).
    async fn monitoring_reports(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::meeting::MonitoringReport>> {
        super::meeting::client_reports(ctx, self.model.id).await
    }

    /// The client's history (経過): observations, plan versions, meetings, briefs, monitoring
    /// reports and consent changes in one list, newest first, filtered exactly like the
    /// individual fields.
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Only items that happened at or after this time.")] from: Option<
            chrono::DateTime<chrono::Utc>,
        >,
        #[graphql(desc = "Only items that happened before this time.")] to: Option<
            chrono::DateTime<chrono::Utc>,
        >,
        #[graphql(desc = "Only these kinds.", default)] kinds: Vec<super::history::HistoryKind>,
    ) -> async_graphql::Result<super::history::HistoryConnection> {
        super::history::client_history(
            ctx,
            self.model.id,
            super::history::filter(from, to, kinds),
            first,
            after,
        )
        .await
    }

    /// What falls due for the client, soonest first: monitoring, plan reviews, grant expiries.
    async fn due_items(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::history::DueItemObject>> {
        super::history::due_items(ctx, &[self.model.id], None).await
    }

    /// Who accessed this client's records, newest first (閲覧履歴). Admins of current care-team
    /// organizations only; others get `FORBIDDEN`.
    async fn access_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
    ) -> async_graphql::Result<AuditEventConnection> {
        let viewer = ctx.viewer()?;
        if !policy::can_read_client_access_history(viewer, &self.rel) {
            return Err(ApiError::forbidden(
                "Only admins of a current care-team organization read the access history.",
            )
            .into());
        }
        let args = page_args(ctx, first, after, None, None)?;
        let state = ctx.state()?;
        // This instance's batched reads first: the log is never older than its own reads.
        state.read_audits.flush().await;
        let page = service::audit_log::log_for_client(&state.db, self.model.id, &args).await?;
        Ok(AuditEventConnection::from_page(
            page,
            |e| e.id,
            super::audit::AuditEvent,
        ))
    }
}

#[derive(Default)]
pub(super) struct ClientQuery;

#[Object]
impl ClientQuery {
    /// One client you may see (the read is audited). `NOT_FOUND` for a client that does not exist
    /// or is not yours to see.
    async fn client(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The client's global id.")] id: ID,
    ) -> async_graphql::Result<Client> {
        Client::visible(ctx, ids::decode("Client", "id", &id)?).await
    }

    /// The client your organization knows by its own external id (外部ID); null when none.
    async fn client_by_external_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Your organization's id for the client.")] external_id: String,
    ) -> async_graphql::Result<Option<Client>> {
        let viewer = ctx.viewer()?;
        let state = ctx.state()?;
        let Some(uuid) =
            clients::by_external_id(&state.db, viewer.organization_id, external_id.trim()).await?
        else {
            return Ok(None);
        };
        Ok(Some(Client::visible(ctx, uuid).await?))
    }
}

/// Input of `registerClient`.
#[derive(InputObject)]
pub(super) struct RegisterClientInput {
    /// Name (氏名).
    pub display_name: String,
    /// Name in kana (ふりがな).
    pub name_kana: String,
    /// Birth date (生年月日).
    pub birth_date: Option<Date>,
    /// Disability support category (障害支援区分) 1–6.
    pub support_category: Option<i32>,
    /// The client's wishes in their own words (本人の希望).
    pub wishes: Option<String>,
    /// Family and guardian contacts (at most 10).
    #[graphql(default)]
    pub family_contacts: Vec<FamilyContact>,
    /// Your organization's own id for the client (unique within your organization).
    pub external_id: Option<String>,
    /// For a facility: the service you provide (default: your first service type).
    pub service_type: Option<String>,
    /// When your care-team membership starts (default: today).
    pub start_date: Option<Date>,
}

impl RegisterClientInput {
    pub(super) fn into_new(self) -> clients::NewClient {
        clients::NewClient {
            display_name: self.display_name,
            name_kana: self.name_kana,
            birth_date: self.birth_date.map(|d| d.0),
            support_category: self.support_category,
            wishes: self.wishes,
            family_contacts: self
                .family_contacts
                .into_iter()
                .map(|c| clients::FamilyContact {
                    name: c.name,
                    relationship: c.relationship,
                    phone: c.phone,
                    note: c.note,
                })
                .collect(),
            external_id: self.external_id,
            service_type: self.service_type,
            start_date: self.start_date.map(|d| d.0),
        }
    }
}

/// Result of `registerClient`.
#[derive(SimpleObject)]
pub(super) struct RegisterClientPayload {
    /// The new client; your organization is its first care-team member.
    pub client: Client,
}

/// Input of `markClientReviewed`.
#[derive(InputObject)]
pub(super) struct MarkClientReviewedInput {
    /// The client's global id.
    pub client_id: ID,
}

/// Result of `markClientReviewed`.
#[derive(SimpleObject)]
pub(super) struct MarkClientReviewedPayload {
    /// When you reviewed; "new since last look" counts restart from here.
    pub reviewed_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Default)]
pub(super) struct ClientMutation;

#[Object]
impl ClientMutation {
    /// Registers a client (本人登録). Service managers, consultation specialists and admins.
    async fn register_client(
        &self,
        ctx: &Context<'_>,
        input: RegisterClientInput,
    ) -> async_graphql::Result<RegisterClientPayload> {
        let viewer = ctx.viewer()?;
        let new = input.into_new();
        let state = ctx.state()?;
        let model = clients::register(state, viewer, new).await?;
        let scope = service::access::Scope::for_client(&state.db, viewer, model.id).await?;
        let rel = scope.require(model.id)?.clone();
        Ok(RegisterClientPayload {
            client: Client { model, rel },
        })
    }

    /// Marks a client's shared records as reviewed by you now (確認済み): the consultation view's
    /// "new since you last looked" counts restart.
    async fn mark_client_reviewed(
        &self,
        ctx: &Context<'_>,
        input: MarkClientReviewedInput,
    ) -> async_graphql::Result<MarkClientReviewedPayload> {
        let viewer = ctx.viewer()?;
        let client_id = ids::decode("Client", "clientId", &input.client_id)?;
        let reviewed_at =
            service::observations::mark_reviewed(ctx.state()?, viewer, client_id).await?;
        Ok(MarkClientReviewedPayload { reviewed_at })
    }
}
