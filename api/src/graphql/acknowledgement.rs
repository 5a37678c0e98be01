//! Acknowledgement, freshness and reciprocity (確認・鮮度・相互性) over GraphQL.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::acknowledgement;

use super::{Organization, context::ContextExt, ids, observation::Observation, scalars::Date};
use crate::{
    error::ApiError,
    service::acknowledgements::{self as svc, Side, Subject},
};

/// A side of the collaboration (連携の側).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CollaborationSide {
    /// Service providers (事業所).
    Facility,
    /// Consultation offices (相談支援事業所).
    Consultation,
}

impl From<Side> for CollaborationSide {
    fn from(s: Side) -> Self {
        match s {
            Side::Facility => Self::Facility,
            Side::Consultation => Self::Consultation,
        }
    }
}

/// Your organization has read a record another organization shared (確認済み).
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub(super) struct Acknowledgement {
    /// Global id of the record: an `Observation`, `MeetingBrief` or `MonitoringReport`.
    pub record_id: ID,
    /// When it was acknowledged.
    pub acknowledged_at: DateTime<Utc>,
    /// When the record was written.
    pub record_recorded_at: DateTime<Utc>,
    #[graphql(skip)]
    pub organization_id: uuid::Uuid,
}

#[async_graphql::ComplexObject]
impl Acknowledgement {
    /// The acknowledging organization.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        Organization::load(ctx, self.organization_id).await
    }
}

impl From<acknowledgement::Model> for Acknowledgement {
    fn from(a: acknowledgement::Model) -> Self {
        let type_name = match a.subject_type.as_str() {
            "MEETING_BRIEF" => "MeetingBrief",
            "MONITORING_REPORT" => "MonitoringReport",
            _ => "Observation",
        };
        Self {
            record_id: ids::encode(type_name, a.subject_id),
            acknowledged_at: a.acknowledged_at,
            record_recorded_at: a.subject_recorded_at,
            organization_id: a.organization_id,
        }
    }
}

/// How fresh one side's shared information is for a client (情報の鮮度).
#[derive(SimpleObject, Clone)]
pub(super) struct SideFreshness {
    /// The side that shared the records.
    pub side: CollaborationSide,
    /// Records it shared in the period (observations beyond the writer, briefs, monitoring
    /// reports) that you may see.
    pub shared_count: i32,
    /// Of those, not yet acknowledged by the other side (未確認).
    pub unacknowledged_count: i32,
    /// When the oldest unacknowledged one was written.
    pub oldest_unacknowledged_at: Option<DateTime<Utc>>,
    /// Age of the oldest unacknowledged one, in hours.
    pub oldest_unacknowledged_age_hours: Option<i64>,
    /// Median minutes from happening to being recorded (observations).
    pub median_recording_lag_minutes: Option<i64>,
    /// Median minutes from being recorded to the other side's acknowledgement.
    pub median_acknowledgement_lag_minutes: Option<i64>,
    /// Median minutes from happening to the other side's acknowledgement (observations): the
    /// information lag this product exists to shrink.
    pub median_total_lag_minutes: Option<i64>,
}

/// What one organization contributed for a client over a period (相互性), for team reviews,
/// not blame.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub(super) struct Contribution {
    #[graphql(skip)]
    pub organization_id: uuid::Uuid,
    /// Its side.
    pub side: CollaborationSide,
    /// Observations it shared beyond itself.
    pub shared_observations: i32,
    /// Briefs it submitted.
    pub briefs: i32,
    /// Monitoring reports it wrote.
    pub monitoring_reports: i32,
    /// Records of others it acknowledged.
    pub acknowledgements: i32,
    /// Median minutes from a record being written to its acknowledgement by this organization.
    pub median_response_minutes: Option<i64>,
}

#[async_graphql::ComplexObject]
impl Contribution {
    /// The organization.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        Organization::load(ctx, self.organization_id).await
    }
}

/// A risk sign shared with your office that your office has not acknowledged yet.
#[derive(SimpleObject, Clone)]
pub(super) struct UnacknowledgedRiskSign {
    /// The risk sign.
    pub observation: Observation,
    /// True when more time than your office's deadline (default 24 hours) has passed since the
    /// sign *occurred* (not since it was written: a sign written late is overdue sooner).
    /// Highlight it.
    pub overdue: bool,
}

fn n(v: usize) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

pub(super) async fn freshness(
    ctx: &Context<'_>,
    client_id: uuid::Uuid,
    from: Option<Date>,
    to: Option<Date>,
) -> async_graphql::Result<Vec<SideFreshness>> {
    let now = Utc::now();
    Ok(svc::freshness(
        ctx.state()?,
        ctx.viewer()?,
        client_id,
        from.map(|d| d.0),
        to.map(|d| d.0),
    )
    .await?
    .into_iter()
    .map(|f| SideFreshness {
        side: f.side.into(),
        shared_count: n(f.shared),
        unacknowledged_count: n(f.unacknowledged),
        oldest_unacknowledged_age_hours: f.oldest_unacknowledged_at.map(|t| (now - t).num_hours()),
        oldest_unacknowledged_at: f.oldest_unacknowledged_at,
        median_recording_lag_minutes: f.median_recording_lag_minutes,
        median_acknowledgement_lag_minutes: f.median_acknowledgement_lag_minutes,
        median_total_lag_minutes: f.median_total_lag_minutes,
    })
    .collect())
}

pub(super) async fn reciprocity(
    ctx: &Context<'_>,
    client_id: uuid::Uuid,
    from: Option<Date>,
    to: Option<Date>,
) -> async_graphql::Result<Vec<Contribution>> {
    Ok(svc::reciprocity(
        ctx.state()?,
        ctx.viewer()?,
        client_id,
        from.map(|d| d.0),
        to.map(|d| d.0),
    )
    .await?
    .into_iter()
    .map(|c| Contribution {
        organization_id: c.organization_id,
        side: c.side.into(),
        shared_observations: n(c.shared_observations),
        briefs: n(c.briefs),
        monitoring_reports: n(c.monitoring_reports),
        acknowledgements: n(c.acknowledgements),
        median_response_minutes: c.median_response_minutes,
    })
    .collect())
}

pub(super) async fn unacknowledged_risk_signs(
    ctx: &Context<'_>,
    first: Option<i32>,
) -> async_graphql::Result<Vec<UnacknowledgedRiskSign>> {
    let limit = usize::try_from(first.unwrap_or(50).clamp(1, 100)).unwrap_or(50);
    let loaders = ctx.loaders()?;
    let scope = loaders.ctx.scope().await?;
    let (list, deadline) =
        svc::unacknowledged_risk_signs(ctx.state()?, ctx.viewer()?, &scope, limit).await?;
    crate::service::observations::audit_reads(ctx.state()?, ctx.viewer()?, &list).await?;
    Ok(list
        .into_iter()
        .map(|o| UnacknowledgedRiskSign {
            overdue: o.occurred_from < deadline,
            observation: Observation(o),
        })
        .collect())
}

/// Input of `acknowledgeRecords`.
#[derive(InputObject)]
pub(super) struct AcknowledgeRecordsInput {
    /// Global ids of observations, briefs or monitoring reports shared with you (1–100).
    pub ids: Vec<ID>,
}

/// Result of `acknowledgeRecords`.
#[derive(SimpleObject)]
pub(super) struct AcknowledgeRecordsPayload {
    /// One acknowledgement per record (an earlier one is kept as it was).
    pub acknowledgements: Vec<Acknowledgement>,
}

/// Input of `setRiskAcknowledgementDeadline`.
#[derive(InputObject)]
pub(super) struct SetRiskAcknowledgementDeadlineInput {
    /// Hours your office has to acknowledge a shared risk sign (0–720; 0 alerts at once).
    pub hours: i32,
}

/// Result of `setRiskAcknowledgementDeadline`.
#[derive(SimpleObject)]
pub(super) struct RiskAcknowledgementDeadlinePayload {
    /// The deadline now in force, in hours.
    pub hours: i32,
}

#[derive(Default)]
pub(super) struct AcknowledgementMutation;

#[Object]
impl AcknowledgementMutation {
    /// Sets how many hours your consultation office has to acknowledge a shared risk sign
    /// before it is marked overdue and `RISK_SIGN_OVERDUE` is pushed (default 24). Admins and
    /// specialists of consultation offices.
    async fn set_risk_acknowledgement_deadline(
        &self,
        ctx: &Context<'_>,
        input: SetRiskAcknowledgementDeadlineInput,
    ) -> async_graphql::Result<RiskAcknowledgementDeadlinePayload> {
        let hours = svc::set_deadline(ctx.state()?, ctx.viewer()?, input.hours).await?;
        Ok(RiskAcknowledgementDeadlinePayload { hours })
    }

    /// Acknowledges records other organizations shared with you (確認): observations, briefs,
    /// monitoring reports. Idempotent. `NOT_FOUND` when any id is not a record you may see;
    /// `BAD_USER_INPUT` for your own organization's records.
    async fn acknowledge_records(
        &self,
        ctx: &Context<'_>,
        input: AcknowledgeRecordsInput,
    ) -> async_graphql::Result<AcknowledgeRecordsPayload> {
        if input.ids.len() > svc::MAX_PER_CALL {
            return Err(
                ApiError::bad_input("ids", "Acknowledge at most 100 records at a time.").into(),
            );
        }
        let mut subjects = Vec::with_capacity(input.ids.len());
        for id in &input.ids {
            let (type_name, uuid) = ids::decode_any("ids", id)?;
            let subject = match type_name.as_str() {
                "Observation" => Subject::Observation,
                "MeetingBrief" => Subject::MeetingBrief,
                "MonitoringReport" => Subject::MonitoringReport,
                _ => return Err(ApiError::NotFound("Record").into()),
            };
            subjects.push((subject, uuid));
        }
        let list = svc::acknowledge(ctx.state()?, ctx.viewer()?, &subjects).await?;
        Ok(AcknowledgeRecordsPayload {
            acknowledgements: list.into_iter().map(Into::into).collect(),
        })
    }
}
