//! Observations (支援記録): fact, interpretation, the client's words, and their history.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{observation as db, observation_version};

use super::{
    Organization, client::Client, context::ContextExt, ids, pagination::connection_types,
    staff::StaffMember,
};
use crate::{
    error::ApiError,
    service::{self, observations::ObservationContent},
};

/// What an observation is about (記録の分類).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::observation::ObservationCategory")]
pub enum ObservationCategory {
    /// A change in the client (変化).
    Change,
    /// Something stable in support (安定).
    Stable,
    /// Something unstable in support (不安定).
    Unstable,
    /// An early sign of risk (リスクの兆し).
    RiskSign,
    /// Routine daily record (日常の記録).
    Routine,
    /// Abuse concern, restraint or other safeguarding matter (虐待・身体拘束等). Reaches the
    /// consultation office even without consent.
    Safeguarding,
}

/// Who besides the writing organization may read an observation (公開範囲).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::observation::Visibility")]
pub enum Visibility {
    /// Your organization only (事業所内).
    Internal,
    /// Your organization and the client's consultation office (相談支援事業所まで).
    Consultation,
    /// The whole care team (支援チーム全体), where consent covers it.
    CareTeam,
}

/// Record status: records are never deleted, only marked entered-in-error.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::observation::RecordStatus")]
pub enum RecordStatus {
    /// In force.
    Current,
    /// Marked as written in error (記載誤り); kept for the record.
    EnteredInError,
}

/// An observation (支援記録).
#[derive(Clone)]
pub(crate) struct Observation(pub db::Model);

connection_types!(
    ObservationConnection,
    ObservationEdge,
    Observation,
    "observations (支援記録)"
);

/// Observation (支援記録): what was seen or heard (the fact), kept apart from what staff make of
/// it (the interpretation), with when it happened kept apart from when it was written.
#[Object]
impl Observation {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode("Observation", self.0.id)
    }
    /// The client it is about.
    async fn client(&self, ctx: &Context<'_>) -> async_graphql::Result<Client> {
        Client::load(ctx, self.0.client_id).await
    }
    /// The organization that wrote it.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        Organization::load(ctx, self.0.organization_id).await
    }
    /// The staff member who wrote it (記録者).
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<StaffMember> {
        let s = ctx
            .loaders()?
            .staff_members
            .load_one(self.0.author_staff_member_id)
            .await?
            .ok_or(ApiError::NotFound("Staff member"))?;
        Ok(StaffMember::new(s))
    }
    /// Your organization's own id for this record (外部ID); null for other organizations.
    async fn external_id(&self, ctx: &Context<'_>) -> Option<&str> {
        let own = ctx.viewer().is_ok_and(|v| {
            crate::auth::policy::is_own_organization(v.organization_id, self.0.organization_id)
        });
        own.then_some(self.0.external_id.as_deref()).flatten()
    }
    /// Version number, starting at 1; pass it back as `expectedVersion` when changing it.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The fact (事実): what was seen or heard, checkable by anyone, e.g.
    /// 「10:20 作業変更を伝えた直後に大声を出し床に座り込んだ(約5分)」.
    async fn fact(&self) -> &str {
        &self.0.fact
    }
    /// The interpretation (解釈): what staff make of the fact; null when none was given.
    async fn interpretation(&self) -> Option<&str> {
        self.0.interpretation.as_deref()
    }
    /// The client's own words (本人の言葉), quoted.
    async fn client_words(&self) -> Option<&str> {
        self.0.client_words.as_deref()
    }
    /// The fact check of the `fact` text (事実と解釈のチェック), with the writing
    /// organization's own terms: interpretive words without a fact beside them, vague amounts.
    async fn fact_check(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<super::fact_check::FactCheckResult> {
        let own = ctx
            .loaders()?
            .own_lexicons
            .load_one(self.0.organization_id)
            .await?;
        let report = service::fact_checks::check(
            &self.0.fact,
            crate::language::fact_check::Mode::Record,
            own.as_deref(),
        )?;
        Ok(super::fact_check::FactCheckResult::new(
            &self.0.fact,
            Some("fact"),
            report,
        ))
    }
    /// The fact rendered for an audience (情報の翻訳), with your organization's glossary;
    /// every change names its glossary entry or rule. The client's own name in the fact is the
    /// client (本人); any other name is removed for the family and the client.
    async fn rendering(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Who it is for.")] audience: super::translation::Audience,
    ) -> async_graphql::Result<super::translation::Rendering> {
        // Without the client's name, their own name would read as someone else's.
        let name = Client::load(ctx, self.0.client_id)
            .await
            .ok()
            .map(|c| c.model.display_name);
        super::translation::render(ctx, &self.0.fact, audience, name.as_deref()).await
    }
    /// Category (分類).
    async fn category(&self) -> ObservationCategory {
        self.0.category.into()
    }
    /// When it happened, or when the period began (発生日時).
    async fn occurred_from(&self) -> DateTime<Utc> {
        self.0.occurred_from
    }
    /// When the period ended, for observations over a period ("this week"); null for a moment.
    async fn occurred_to(&self) -> Option<DateTime<Utc>> {
        self.0.occurred_to
    }
    /// When it was first written (記録日時); the gap to `occurredFrom` is the information lag.
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
    /// When the current version was written.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Who may read it besides the writing organization.
    async fn visibility(&self) -> Visibility {
        self.0.visibility.into()
    }
    /// Free tags, e.g. 怒りの表出, for counting over time.
    async fn tags(&self) -> Vec<String> {
        self.0.tags.0.clone()
    }
    /// Global ids of the observations the interpretation rests on.
    async fn cited_observation_ids(&self) -> Vec<ID> {
        self.0
            .cited_observation_ids
            .0
            .iter()
            .map(|u| ids::encode("Observation", *u))
            .collect()
    }
    /// In force, or entered-in-error (記録の状態).
    async fn record_status(&self) -> RecordStatus {
        self.0.status.into()
    }
    /// In force, or entered-in-error.
    #[graphql(
        deprecation = "Use `recordStatus`: `status` has other types on Meeting and SupportPlan, so it cannot be selected together with theirs in `HistoryItem`, `ClientEventRecord` or `Node`."
    )]
    async fn status(&self) -> RecordStatus {
        self.0.status.into()
    }
    /// Why it was marked entered-in-error.
    async fn entered_in_error_reason(&self) -> Option<&str> {
        self.0.entered_in_error_reason.as_deref()
    }
    /// Every version you may see, oldest first (修正履歴): each with the visibility it had then.
    async fn versions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ObservationVersion>> {
        let loaders = ctx.loaders()?;
        let scope = loaders.ctx.scope().await?;
        let list = loaders
            .observation_versions
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        // Each version with the visibility it had: an earlier INTERNAL text stays internal even
        // after the record was shared.
        Ok(list
            .into_iter()
            .filter(|v| {
                scope.can_see_record(
                    self.0.client_id,
                    crate::auth::policy::AnyRecordFacts {
                        organization_id: self.0.organization_id,
                        visibility: v.visibility,
                        data: Some(crate::auth::policy::DataCategory::Observations),
                        safeguarding: v.category
                            == entity::observation::ObservationCategory::Safeguarding,
                        on: crate::service::access::jst_day(v.occurred_from),
                    },
                )
            })
            .map(ObservationVersion)
            .collect())
    }
}

/// One stored version of an observation.
pub(super) struct ObservationVersion(pub observation_version::Model);

/// A version of an observation (記録の版): what it said from `editedAt` until the next version.
#[Object]
impl ObservationVersion {
    /// Version number.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The fact as it stood.
    async fn fact(&self) -> &str {
        &self.0.fact
    }
    /// The interpretation as it stood.
    async fn interpretation(&self) -> Option<&str> {
        self.0.interpretation.as_deref()
    }
    /// The client's words as they stood.
    async fn client_words(&self) -> Option<&str> {
        self.0.client_words.as_deref()
    }
    /// The category as it stood.
    async fn category(&self) -> ObservationCategory {
        self.0.category.into()
    }
    /// The visibility as it stood.
    async fn visibility(&self) -> Visibility {
        self.0.visibility.into()
    }
    /// The status as it stood.
    async fn status(&self) -> RecordStatus {
        self.0.status.into()
    }
    /// When this version was written.
    async fn edited_at(&self) -> DateTime<Utc> {
        self.0.edited_at
    }
    /// Who wrote this version.
    async fn edited_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<StaffMember>> {
        Ok(ctx
            .loaders()?
            .staff_members
            .load_one(self.0.edited_by_staff_member_id)
            .await?
            .map(StaffMember::new))
    }
}

/// The content of an observation, as written.
#[derive(InputObject)]
pub(super) struct ObservationContentInput {
    /// The fact (事実): required, at most 4,000 characters.
    pub fact: String,
    /// The interpretation (解釈), resting on the fact or on cited observations.
    pub interpretation: Option<String>,
    /// The client's own words (本人の言葉).
    pub client_words: Option<String>,
    /// Category.
    pub category: ObservationCategory,
    /// When it happened (or the period began); not in the future.
    pub occurred_from: DateTime<Utc>,
    /// End of the period, for observations over a period.
    pub occurred_to: Option<DateTime<Utc>>,
    /// Who may read it (default: `CARE_TEAM`).
    #[graphql(default_with = "Visibility::CareTeam")]
    pub visibility: Visibility,
    /// Tags (at most 20).
    #[graphql(default)]
    pub tags: Vec<String>,
    /// Observations of the same client the interpretation rests on (at most 20).
    #[graphql(default)]
    pub cited_observation_ids: Vec<ID>,
}

impl ObservationContentInput {
    pub(crate) fn into_content(self) -> Result<ObservationContent, ApiError> {
        let cited = self
            .cited_observation_ids
            .iter()
            .map(|id| ids::decode("Observation", "citedObservationIds", id))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ObservationContent {
            fact: self.fact,
            interpretation: self.interpretation,
            client_words: self.client_words,
            category: self.category.into(),
            occurred_from: self.occurred_from,
            occurred_to: self.occurred_to,
            visibility: self.visibility.into(),
            tags: self.tags,
            cited_observation_ids: cited,
        })
    }
}

/// Input of `recordObservation`.
#[derive(InputObject)]
pub(super) struct RecordObservationInput {
    /// The client's global id.
    pub client_id: ID,
    /// What to record.
    pub content: ObservationContentInput,
}

/// Input of `amendObservation`.
#[derive(InputObject)]
pub(super) struct AmendObservationInput {
    /// The observation's global id.
    pub observation_id: ID,
    /// The version you are changing; a stale one is `CONFLICT`.
    pub expected_version: i32,
    /// The new content (the whole record).
    pub content: ObservationContentInput,
}

/// Input of `markObservationEnteredInError`.
#[derive(InputObject)]
pub(super) struct MarkObservationEnteredInErrorInput {
    /// The observation's global id.
    pub observation_id: ID,
    /// The version you are marking; a stale one is `CONFLICT`.
    pub expected_version: i32,
    /// Why it is wrong (e.g. 別の利用者の記録だった).
    pub reason: String,
}

/// Result of observation changes.
#[derive(SimpleObject)]
pub(super) struct ObservationPayload {
    /// The observation after the change.
    pub observation: Observation,
}

#[derive(Default)]
pub(super) struct ObservationMutation;

#[Object]
impl ObservationMutation {
    /// Records an observation for your organization (支援記録の登録). Any staff of a current
    /// care-team member.
    async fn record_observation(
        &self,
        ctx: &Context<'_>,
        input: RecordObservationInput,
    ) -> async_graphql::Result<ObservationPayload> {
        let viewer = ctx.viewer()?;
        let client_id = ids::decode("Client", "clientId", &input.client_id)?;
        let model = service::observations::record(
            ctx.state()?,
            viewer,
            client_id,
            input.content.into_content()?,
        )
        .await?;
        Ok(ObservationPayload {
            observation: Observation(model),
        })
    }

    /// Amends an observation (修正): a new version; earlier versions stay readable. The author,
    /// or a service manager or admin of the writing organization.
    async fn amend_observation(
        &self,
        ctx: &Context<'_>,
        input: AmendObservationInput,
    ) -> async_graphql::Result<ObservationPayload> {
        let viewer = ctx.viewer()?;
        let id = ids::decode("Observation", "observationId", &input.observation_id)?;
        let model = service::observations::amend(
            ctx.state()?,
            viewer,
            id,
            input.expected_version,
            input.content.into_content()?,
        )
        .await?;
        Ok(ObservationPayload {
            observation: Observation(model),
        })
    }

    /// Marks an observation entered-in-error (記載誤り). Nothing is ever deleted.
    async fn mark_observation_entered_in_error(
        &self,
        ctx: &Context<'_>,
        input: MarkObservationEnteredInErrorInput,
    ) -> async_graphql::Result<ObservationPayload> {
        let viewer = ctx.viewer()?;
        let id = ids::decode("Observation", "observationId", &input.observation_id)?;
        let model = service::observations::mark_entered_in_error(
            ctx.state()?,
            viewer,
            id,
            input.expected_version,
            &input.reason,
        )
        .await?;
        Ok(ObservationPayload {
            observation: Observation(model),
        })
    }
}
