//! Support plans (計画): service-use plans and individual support plans, with their versions.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{support_plan as db, support_plan_version};

use super::{
    Organization, client::Client, context::ContextExt, ids, scalars::Date, staff::StaffMember,
};
use crate::service::{
    documents::{DeliveryRecipient, PlanContent, PlanRecord},
    plans::{self, NewPlan, PlanChange},
};

/// The goal texts of a plan by field path, as `fact_checks::plan_findings` names them.
fn plan_texts(c: &PlanContent) -> std::collections::HashMap<String, &str> {
    let mut out = std::collections::HashMap::new();
    if let Some(t) = &c.long_term_goal {
        out.insert("longTermGoal".to_owned(), t.as_str());
    }
    if let Some(t) = &c.short_term_goal {
        out.insert("shortTermGoal".to_owned(), t.as_str());
    }
    for (i, g) in c.goals.iter().enumerate() {
        out.insert(format!("goals.{i}.text"), g.text.as_str());
    }
    for (i, n) in c.needs.iter().enumerate() {
        out.insert(format!("needs.{i}.supportGoal"), n.support_goal.as_str());
    }
    out
}

/// Kind of support plan (計画の種類).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::support_plan::PlanKind")]
pub enum PlanKind {
    /// Service-use plan (サービス等利用計画), by the consultation specialist.
    ServiceUsePlan,
    /// Individual support plan (個別支援計画), by a facility's service manager.
    IndividualSupportPlan,
}

/// Plan lifecycle (計画の状態).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::support_plan::PlanStatus")]
pub enum PlanStatus {
    /// Being written; visible only to the writing organization (作成中).
    Draft,
    /// Proposed to the client and team (案).
    Proposed,
    /// In force, after written consent (本案・実施中).
    Active,
    /// Replaced by a newer active plan (変更済).
    Superseded,
    /// Ended (終了).
    Ended,
}

/// A support plan.
#[derive(Clone)]
pub(crate) struct SupportPlan(pub db::Model);

impl SupportPlan {
    /// The findings behind `factFindings` (and its deprecated name).
    async fn goal_findings(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::fact_check::TextFinding>> {
        let own = ctx
            .loaders()?
            .own_lexicons
            .load_one(self.0.organization_id)
            .await?;
        let content = plans::content_of(&self.0.content)?;
        let texts = plan_texts(&content);
        Ok(
            crate::service::fact_checks::plan_findings(&content, own.as_deref())?
                .into_iter()
                .map(|(field, f)| {
                    let text = texts.get(&field).copied().unwrap_or_default();
                    super::fact_check::TextFinding::new(text, Some(field), f)
                })
                .collect(),
        )
    }
}

/// Support plan (計画): a service-use plan or an individual support plan, at its current version.
#[Object]
impl SupportPlan {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode("SupportPlan", self.0.id)
    }
    /// Service-use plan (サービス等利用計画) or individual support plan (個別支援計画).
    async fn plan_kind(&self) -> PlanKind {
        self.0.kind.into()
    }
    /// Service-use plan or individual support plan.
    #[graphql(
        deprecation = "Use `planKind`: `kind` has other types on Meeting and Organization, so it cannot be selected together with theirs in `ClientEventRecord` or `Node`."
    )]
    async fn kind(&self) -> PlanKind {
        self.0.kind.into()
    }
    /// Lifecycle status.
    async fn status(&self) -> PlanStatus {
        self.0.status.into()
    }
    /// Your organization's own id for this plan (外部ID); null for other organizations.
    async fn external_id(&self, ctx: &Context<'_>) -> Option<&str> {
        let own = ctx.viewer().is_ok_and(|v| {
            crate::auth::policy::is_own_organization(v.organization_id, self.0.organization_id)
        });
        own.then_some(self.0.external_id.as_deref()).flatten()
    }
    /// Current version number; pass it back as `expectedVersion`.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The client.
    async fn client(&self, ctx: &Context<'_>) -> async_graphql::Result<Client> {
        Client::load(ctx, self.0.client_id).await
    }
    /// The writing organization.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        Organization::load(ctx, self.0.organization_id).await
    }
    /// For an individual plan: the service-use plan it follows (null if none, or not visible).
    async fn based_on(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<SupportPlan>> {
        let Some(id) = self.0.based_on_plan_id else {
            return Ok(None);
        };
        match plans::get(ctx.state()?, ctx.viewer()?, id).await {
            Ok(p) => Ok(Some(SupportPlan(p))),
            Err(crate::error::ApiError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
    /// The facility's service, for individual plans.
    async fn service_type(&self) -> Option<&str> {
        self.0.service_type.as_deref()
    }
    /// First day of the plan period (計画期間).
    async fn period_from(&self) -> Date {
        Date(self.0.period_from)
    }
    /// Last day of the plan period.
    async fn period_to(&self) -> Option<Date> {
        self.0.period_to.map(Date)
    }
    /// The day the plan came into force.
    async fn activated_on(&self) -> Option<Date> {
        self.0.activated_on.map(Date)
    }
    /// For an active individual plan: when it must be reviewed (6 months after activation, 3 for
    /// 就労移行支援 and 自立訓練).
    async fn review_due_on(&self) -> Option<Date> {
        plans::review_due(&self.0).map(Date)
    }
    /// The plan's text. In a children's plan (`childPlan`) the guardian and certificate are
    /// profile data: null unless you may see the client's profile.
    async fn content(&self, ctx: &Context<'_>) -> async_graphql::Result<PlanContent> {
        shown_content(ctx, self.0.client_id, &self.0.content).await
    }
    /// Explanation, written consent and deliveries (説明・同意・交付).
    async fn record(&self) -> async_graphql::Result<PlanRecord> {
        Ok(plans::record_of(&self.0.record)?)
    }
    /// The fact check (事実と解釈のチェック) of the plan's goals (long- and short-term goals, goal rows, need rows'
    /// support goals): goals nobody could check, with the question that makes them checkable.
    /// Each finding names its field, e.g. `goals.0.text`.
    async fn fact_findings(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::fact_check::TextFinding>> {
        self.goal_findings(ctx).await
    }
    /// The fact check of the plan's goals (long- and short-term goals, goal rows, need rows'
    /// support goals): goals nobody could check, with the question that makes them checkable.
    /// Each finding names its field, e.g. `goals.0.text`.
    #[graphql(
        deprecation = "Use `factFindings` (the same list): `factCheck` is an object on Observation, so the two cannot be selected together in `ClientEventRecord` or `Node`."
    )]
    async fn fact_check(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::fact_check::TextFinding>> {
        self.goal_findings(ctx).await
    }
    /// Axis completeness (計画の軸): whether the plan binds the client's wishes in their own
    /// words, the family's worries, the facility's expertise and links to community resources.
    async fn axis_check(&self) -> async_graphql::Result<Vec<super::plan_check::AxisCheck>> {
        Ok(super::plan_check::axis_checks(&plans::content_of(
            &self.0.content,
        )?))
    }
    /// Every version you may see, oldest first (変更履歴): another organization's drafts stay
    /// hidden even after the plan is active.
    async fn versions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SupportPlanVersion>> {
        let loaders = ctx.loaders()?;
        let scope = loaders.ctx.scope().await?;
        let list = loaders
            .plan_versions
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        Ok(list
            .into_iter()
            .filter(|v| plans::version_visible(&scope, &self.0, v))
            .map(SupportPlanVersion)
            .collect())
    }
    /// When the current version was written.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// One version of a plan.
pub(super) struct SupportPlanVersion(pub support_plan_version::Model);

/// A version of a support plan (計画の版), as it stood.
#[Object]
impl SupportPlanVersion {
    /// Opaque global id.
    async fn id(&self) -> ID {
        ids::encode("SupportPlanVersion", self.0.id)
    }
    /// The plan's global id.
    async fn plan_id(&self) -> ID {
        ids::encode("SupportPlan", self.0.plan_id)
    }
    /// Version number.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Status at this version.
    async fn status(&self) -> PlanStatus {
        self.0.status.into()
    }
    /// Plan period start at this version.
    async fn period_from(&self) -> Date {
        Date(self.0.period_from)
    }
    /// Plan period end at this version.
    async fn period_to(&self) -> Option<Date> {
        self.0.period_to.map(Date)
    }
    /// The text at this version (the guardian's details as in `SupportPlan.content`).
    async fn content(&self, ctx: &Context<'_>) -> async_graphql::Result<PlanContent> {
        let content = plans::content_of(&self.0.content)?;
        if content.child_plan.is_none() {
            return Ok(content);
        }
        // Only a children's plan needs its client (for the profile check), batched per request.
        let client_id = ctx
            .loaders()?
            .plan_clients
            .load_one(self.0.plan_id)
            .await?
            .ok_or(crate::error::ApiError::NotFound("Support plan"))?;
        shown_content(ctx, client_id, &self.0.content).await
    }
    /// Explanation, consent and deliveries at this version.
    async fn record(&self) -> async_graphql::Result<PlanRecord> {
        Ok(plans::record_of(&self.0.record)?)
    }
    /// When this version was written.
    async fn edited_at(&self) -> DateTime<Utc> {
        self.0.edited_at
    }
    /// Who wrote it.
    async fn edited_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<StaffMember>> {
        Ok(ctx
            .loaders()?
            .staff_members
            .load_one(self.0.edited_by_staff_member_id)
            .await?
            .map(StaffMember::new))
    }
}

/// Input of `createSupportPlan`.
#[derive(InputObject)]
pub(super) struct CreateSupportPlanInput {
    /// The client's global id.
    pub client_id: ID,
    /// Which plan: a consultation specialist writes the service-use plan, a facility's service
    /// manager its individual support plan.
    pub kind: PlanKind,
    /// For an individual plan: the service-use plan it follows (default: the client's active one).
    pub based_on_plan_id: Option<ID>,
    /// First day of the plan period.
    pub period_from: Date,
    /// Last day of the plan period.
    pub period_to: Option<Date>,
    /// The plan's text.
    pub content: PlanContentInput,
    /// Your organization's own id for the plan (外部ID), unique in your organization. Creating
    /// again with the same id returns the first plan unchanged, so a retried call never
    /// duplicates it.
    pub external_id: Option<String>,
}

pub(super) use crate::service::documents::PlanContent as PlanContentInput;

/// Result of plan mutations.
#[derive(SimpleObject)]
pub(super) struct SupportPlanPayload {
    /// The plan after the change.
    pub support_plan: SupportPlan,
}

/// Input of `reviseSupportPlan` (drafts and proposals only).
#[derive(InputObject)]
pub(super) struct ReviseSupportPlanInput {
    /// The plan's global id.
    pub plan_id: ID,
    /// The version you are changing.
    pub expected_version: i32,
    /// First day of the plan period.
    pub period_from: Date,
    /// Last day of the plan period.
    pub period_to: Option<Date>,
    /// The whole new text.
    pub content: PlanContentInput,
}

/// A lifecycle step of a plan.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum PlanTransition {
    /// Draft → proposed (案として提示).
    Propose,
    /// Proposed → active; needs recorded written consent. Supersedes the previous active plan.
    Activate,
    /// Active → ended.
    End,
}

/// Input of `transitionSupportPlan`.
#[derive(InputObject)]
pub(super) struct TransitionSupportPlanInput {
    /// The plan's global id.
    pub plan_id: ID,
    /// The version you are changing.
    pub expected_version: i32,
    /// The step.
    pub transition: PlanTransition,
    /// For `ACTIVATE`: the day it comes into force (default: today).
    pub effective_on: Option<Date>,
}

/// Input of `recordSupportPlanConsent`: explanation and written consent (説明・同意).
#[derive(InputObject)]
pub(super) struct RecordSupportPlanConsentInput {
    /// The plan's global id.
    pub plan_id: ID,
    /// The version you are changing.
    pub expected_version: i32,
    /// Date the plan was explained.
    pub explained_on: Date,
    /// Who explained it.
    pub explained_by: String,
    /// Who signed (the client, or their guardian).
    pub signed_by: String,
    /// Date of signature.
    pub signed_on: Date,
    /// How, e.g. 署名.
    pub method: String,
}

/// Input of `recordSupportPlanDelivery` (交付).
#[derive(InputObject)]
pub(super) struct RecordSupportPlanDeliveryInput {
    /// The plan's global id.
    pub plan_id: ID,
    /// The version you are changing.
    pub expected_version: i32,
    /// Who received a copy.
    pub recipient: DeliveryRecipient,
    /// When.
    pub delivered_on: Date,
    /// For `SERVICE_PROVIDER`: the receiving organization's global id (交付先事業所), a service
    /// provider on the client's care team.
    pub organization_id: Option<ID>,
    /// The person who received it (受領した担当者), e.g. サービス管理責任者 佐藤.
    pub received_by: Option<String>,
}

/// The stored text of a plan as the viewer may see it: a children's plan's guardian and
/// certificate (障害児支援利用計画) are profile data, shown (and their read audited) only to
/// viewers who may see the client's profile.
async fn shown_content(
    ctx: &Context<'_>,
    client_id: uuid::Uuid,
    stored: &serde_json::Value,
) -> async_graphql::Result<PlanContent> {
    let mut content = plans::content_of(stored)?;
    if let Some(child) = &content.child_plan {
        let loaders = ctx.loaders()?;
        let scope = loaders.ctx.scope().await?;
        let profile = scope
            .relation(client_id)
            .is_some_and(|rel| crate::auth::policy::can_see_profile(scope.viewer_org, rel));
        if profile {
            loaders.profile_reads.load_one(client_id).await?;
        } else {
            content.child_plan = Some(child.redacted());
        }
    }
    Ok(content)
}

#[derive(Default)]
pub(super) struct PlanQuery;

#[Object]
impl PlanQuery {
    /// One support plan you may see (drafts only by their writers).
    async fn support_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The plan's global id.")] id: ID,
    ) -> async_graphql::Result<SupportPlan> {
        let uuid = ids::decode("SupportPlan", "id", &id)?;
        Ok(SupportPlan(
            plans::get(ctx.state()?, ctx.viewer()?, uuid).await?,
        ))
    }
}

#[derive(Default)]
pub(super) struct PlanMutation;

#[Object]
impl PlanMutation {
    /// Starts a support plan as a draft (計画の作成).
    async fn create_support_plan(
        &self,
        ctx: &Context<'_>,
        input: CreateSupportPlanInput,
    ) -> async_graphql::Result<SupportPlanPayload> {
        let new = NewPlan {
            client_id: ids::decode("Client", "clientId", &input.client_id)?,
            kind: input.kind.into(),
            based_on_plan_id: input
                .based_on_plan_id
                .as_ref()
                .map(|id| ids::decode("SupportPlan", "basedOnPlanId", id))
                .transpose()?,
            period_from: input.period_from.0,
            period_to: input.period_to.map(|d| d.0),
            content: input.content,
            external_id: input.external_id,
        };
        let model = plans::create(ctx.state()?, ctx.viewer()?, new).await?;
        Ok(SupportPlanPayload {
            support_plan: SupportPlan(model),
        })
    }

    /// Rewrites a draft or proposed plan as a new version.
    async fn revise_support_plan(
        &self,
        ctx: &Context<'_>,
        input: ReviseSupportPlanInput,
    ) -> async_graphql::Result<SupportPlanPayload> {
        let id = ids::decode("SupportPlan", "planId", &input.plan_id)?;
        let change = PlanChange::Revise {
            content: Box::new(input.content),
            period_from: input.period_from.0,
            period_to: input.period_to.map(|d| d.0),
        };
        apply(ctx, id, input.expected_version, change).await
    }

    /// Moves a plan through its lifecycle: propose, activate (needs written consent), end.
    async fn transition_support_plan(
        &self,
        ctx: &Context<'_>,
        input: TransitionSupportPlanInput,
    ) -> async_graphql::Result<SupportPlanPayload> {
        let id = ids::decode("SupportPlan", "planId", &input.plan_id)?;
        let change = match input.transition {
            PlanTransition::Propose => PlanChange::Propose,
            PlanTransition::Activate => PlanChange::Activate {
                activated_on: input.effective_on.map(|d| d.0),
            },
            PlanTransition::End => PlanChange::End,
        };
        apply(ctx, id, input.expected_version, change).await
    }

    /// Records the explanation and the client's written consent to a proposed plan.
    async fn record_support_plan_consent(
        &self,
        ctx: &Context<'_>,
        input: RecordSupportPlanConsentInput,
    ) -> async_graphql::Result<SupportPlanPayload> {
        let id = ids::decode("SupportPlan", "planId", &input.plan_id)?;
        let change = PlanChange::RecordConsent {
            explained_on: input.explained_on.0,
            explained_by: input.explained_by,
            signed_by: input.signed_by,
            signed_on: input.signed_on.0,
            method: input.method,
        };
        apply(ctx, id, input.expected_version, change).await
    }

    /// Records that a copy was delivered (交付): to the client, and an individual plan to the
    /// client's consultation office.
    async fn record_support_plan_delivery(
        &self,
        ctx: &Context<'_>,
        input: RecordSupportPlanDeliveryInput,
    ) -> async_graphql::Result<SupportPlanPayload> {
        let id = ids::decode("SupportPlan", "planId", &input.plan_id)?;
        let change = PlanChange::RecordNamedDelivery(plans::NewDelivery {
            recipient: input.recipient,
            delivered_on: input.delivered_on.0,
            organization_id: input
                .organization_id
                .as_ref()
                .map(|o| ids::decode("Organization", "organizationId", o))
                .transpose()?,
            received_by: input.received_by,
        });
        apply(ctx, id, input.expected_version, change).await
    }
}

async fn apply(
    ctx: &Context<'_>,
    id: uuid::Uuid,
    expected_version: i32,
    change: PlanChange,
) -> async_graphql::Result<SupportPlanPayload> {
    let model = plans::change(ctx.state()?, ctx.viewer()?, id, expected_version, change).await?;
    Ok(SupportPlanPayload {
        support_plan: SupportPlan(model),
    })
}

/// Plans of a client as the request's scope sees them (batched and audited by the loader).
pub(super) async fn client_plans(
    ctx: &Context<'_>,
    client_id: uuid::Uuid,
) -> async_graphql::Result<Vec<SupportPlan>> {
    let list = ctx
        .loaders()?
        .plans_by_client
        .load_one(client_id)
        .await?
        .unwrap_or_default();
    Ok(list.into_iter().map(SupportPlan).collect())
}
