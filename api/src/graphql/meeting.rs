//! Meetings (会議) and three-point briefs (事前共有の3点); monitoring reports are in
//! [`super::monitoring_report`].

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{meeting as db, meeting_brief};

use super::{Organization, client::Client, context::ContextExt, ids, staff::StaffMember};
use crate::service::{
    documents::{Attendee, BriefContent, Minutes},
    evidence::{self, PointFinding},
    meetings, monitoring,
};

use super::monitoring_report::screaming;
pub(super) use super::monitoring_report::{
    MonitoringReport, MonitoringReportPayload, RecordMonitoringReportInput,
};

/// Kind of meeting (会議の種類).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::meeting::MeetingKind")]
pub enum MeetingKind {
    /// Care meeting led by the consultation specialist (サービス担当者会議).
    ServiceCoordination,
    /// Meeting held at monitoring (モニタリング時の会議).
    Monitoring,
    /// A facility's planning meeting for its individual plan (個別支援計画作成会議).
    Planning,
    /// Case conference (ケース会議).
    CaseConference,
}

/// Meeting status.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::meeting::MeetingStatus")]
pub enum MeetingStatus {
    /// Planned (予定).
    Scheduled,
    /// Held, with minutes (開催済).
    Held,
    /// Called off (中止).
    Cancelled,
}

/// A meeting.
#[derive(Clone)]
pub(crate) struct Meeting(pub db::Model);

/// Whether an invited organization's brief has arrived.
#[derive(SimpleObject)]
pub(super) struct BriefArrival {
    /// The invited organization.
    pub organization: Organization,
    /// When its brief arrived; null while missing.
    pub submitted_at: Option<DateTime<Utc>>,
}

/// Meeting (会議): invitation, attendance, minutes and the meeting's direction (方向性).
#[Object]
impl Meeting {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode("Meeting", self.0.id)
    }
    /// Kind of meeting (会議の種類).
    async fn meeting_kind(&self) -> MeetingKind {
        self.0.kind.into()
    }
    /// Where the meeting stands (開催状況): scheduled, held or cancelled.
    async fn meeting_status(&self) -> MeetingStatus {
        self.0.status.into()
    }
    /// Kind of meeting.
    #[graphql(
        deprecation = "Use `meetingKind`: `kind` has other types on SupportPlan and Organization, so it cannot be selected together with theirs in `ClientEventRecord` or `Node`."
    )]
    async fn kind(&self) -> MeetingKind {
        self.0.kind.into()
    }
    /// Status.
    #[graphql(
        deprecation = "Use `meetingStatus`: `status` has other types on Observation and SupportPlan, so it cannot be selected together with theirs in `HistoryItem`, `ClientEventRecord` or `Node`."
    )]
    async fn status(&self) -> MeetingStatus {
        self.0.status.into()
    }
    /// Your organization's own id for this meeting (外部ID); null for other organizations.
    async fn external_id(&self, ctx: &Context<'_>) -> Option<&str> {
        let own = ctx.viewer().is_ok_and(|v| {
            crate::auth::policy::is_own_organization(v.organization_id, self.0.organization_id)
        });
        own.then_some(self.0.external_id.as_deref()).flatten()
    }
    /// Version; pass it back as `expectedVersion`.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The client.
    async fn client(&self, ctx: &Context<'_>) -> async_graphql::Result<Client> {
        Client::load(ctx, self.0.client_id).await
    }
    /// The host organization (主催).
    async fn host(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        Organization::load(ctx, self.0.organization_id).await
    }
    /// When (開催日時).
    async fn scheduled_at(&self) -> DateTime<Utc> {
        self.0.scheduled_at
    }
    /// Where (開催場所).
    async fn place(&self) -> Option<&str> {
        self.0.place.as_deref()
    }
    /// Held online.
    async fn online(&self) -> bool {
        self.0.online
    }
    /// Agenda (議題).
    async fn agenda(&self) -> Option<&str> {
        self.0.agenda.as_deref()
    }
    /// Invited organizations (招集先).
    async fn invited_organizations(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<Organization>> {
        let ids = meetings::invited(&self.0);
        let found = ctx
            .loaders()?
            .organizations
            .load_many(ids.iter().copied())
            .await?;
        Ok(ids
            .iter()
            .filter_map(|id| found.get(id).cloned().map(Organization))
            .collect())
    }
    /// For each invited organization: whether its three-point brief has arrived, and when.
    async fn brief_arrivals(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<BriefArrival>> {
        let invited = meetings::invited(&self.0);
        let briefs = ctx
            .loaders()?
            .meeting_briefs
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        let orgs = ctx
            .loaders()?
            .organizations
            .load_many(invited.iter().copied())
            .await?;
        Ok(invited
            .iter()
            .filter_map(|id| {
                orgs.get(id).cloned().map(|o| BriefArrival {
                    organization: Organization(o),
                    submitted_at: briefs
                        .iter()
                        .find(|b| b.organization_id == *id)
                        .map(|b| b.submitted_at),
                })
            })
            .collect())
    }
    /// The briefs you may read (your own, or all of them for the consultation office under consent).
    async fn briefs(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<MeetingBrief>> {
        let scope = ctx.loaders()?.ctx.scope().await?;
        let list = ctx
            .loaders()?
            .meeting_briefs
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        Ok(list
            .into_iter()
            .filter(|b| scope.can_see_record(b.client_id, meetings::brief_facts(b)))
            .map(MeetingBrief)
            .collect())
    }
    /// Attendance (出席者), including the client, family and absentees with written opinions.
    /// Null unless you host the meeting or consent covers meetings.
    async fn attendance(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vec<Attendee>>> {
        if !self.minutes_visible(ctx).await? {
            return Ok(None);
        }
        Ok(Some(crate::service::documents::stored(
            "attendance",
            &self.0.attendance,
        )?))
    }
    /// Minutes (会議録); null until held, or unless you host it or consent covers meetings.
    async fn minutes(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Minutes>> {
        if !self.minutes_visible(ctx).await? {
            return Ok(None);
        }
        Ok(self
            .0
            .minutes
            .as_ref()
            .map(|m| crate::service::documents::stored("minutes", m))
            .transpose()?)
    }
    /// The direction agreed (方向性); same visibility as the minutes.
    async fn direction(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        Ok(if self.minutes_visible(ctx).await? {
            self.0.direction.clone()
        } else {
            None
        })
    }
    /// Why the direction differs from the previous meeting's.
    async fn direction_change_reason(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<String>> {
        Ok(if self.minutes_visible(ctx).await? {
            self.0.direction_change_reason.clone()
        } else {
            None
        })
    }
    /// The previous held meeting's direction, for comparison (前回の方向性).
    async fn previous_direction(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        if !self.minutes_visible(ctx).await? {
            return Ok(None);
        }
        Ok(meetings::previous_held(
            &ctx.state()?.db,
            &*ctx.loaders()?.ctx.scope().await?,
            &self.0,
        )
        .await?
        .and_then(|m| m.direction))
    }
}

impl Meeting {
    async fn minutes_visible(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let scope = ctx.loaders()?.ctx.scope().await?;
        Ok(scope.can_see_record(self.0.client_id, meetings::minutes_facts(&self.0)))
    }
}

/// A three-point brief.
pub(crate) struct MeetingBrief(pub meeting_brief::Model);

/// Three-point brief (事前共有の3点) from a facility before a meeting.
#[Object]
impl MeetingBrief {
    /// Opaque global id.
    async fn id(&self) -> ID {
        ids::encode("MeetingBrief", self.0.id)
    }
    /// The meeting's global id.
    async fn meeting_id(&self) -> ID {
        ids::encode("Meeting", self.0.meeting_id)
    }
    /// The facility that wrote it.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        Organization::load(ctx, self.0.organization_id).await
    }
    /// The three points, each citing observations.
    async fn content(&self) -> async_graphql::Result<BriefContent> {
        Ok(crate::service::documents::stored("brief", &self.0.content)?)
    }
    /// The fact check on every point (事実と解釈のチェック結果): each interpretation left
    /// without evidence, with the point it stands in and the question that would make it a
    /// fact. Computed when read with the writing facility's own terms; empty when every point
    /// states its facts.
    async fn fact_findings(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<BriefFactFinding>> {
        let content: BriefContent = crate::service::documents::stored("brief", &self.0.content)?;
        let own = ctx
            .loaders()?
            .own_lexicons
            .load_one(self.0.organization_id)
            .await?;
        Ok(evidence::brief_findings(&content, own.as_deref())?
            .into_iter()
            .map(BriefFactFinding::from)
            .collect())
    }
    /// Resubmissions count up from 1.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When it arrived.
    async fn submitted_at(&self) -> DateTime<Utc> {
        self.0.submitted_at
    }
    /// Who submitted it.
    async fn submitted_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<StaffMember>> {
        Ok(ctx
            .loaders()?
            .staff_members
            .load_one(self.0.submitted_by_staff_member_id)
            .await?
            .map(StaffMember::new))
    }
}

/// Input of `scheduleMeeting`.
#[derive(InputObject)]
pub(super) struct ScheduleMeetingInput {
    /// The client's global id.
    pub client_id: ID,
    /// Kind of meeting.
    pub kind: MeetingKind,
    /// When.
    pub scheduled_at: DateTime<Utc>,
    /// Where (required unless online).
    pub place: Option<String>,
    /// Held online.
    #[graphql(default)]
    pub online: bool,
    /// Current care-team organizations to invite (their facilities submit briefs).
    #[graphql(default)]
    pub invited_organization_ids: Vec<ID>,
    /// Agenda.
    pub agenda: Option<String>,
    /// Your organization's own id for the meeting (外部ID), unique in your organization.
    /// Scheduling again with the same id returns the first meeting unchanged.
    pub external_id: Option<String>,
}

/// Result of meeting mutations.
#[derive(SimpleObject)]
pub(super) struct MeetingPayload {
    /// The meeting after the change.
    pub meeting: Meeting,
}

/// Input of `updateMeeting`.
#[derive(InputObject)]
pub(super) struct UpdateMeetingInput {
    /// The meeting's global id.
    pub meeting_id: ID,
    /// The version you are changing.
    pub expected_version: i32,
    /// New time.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// New place.
    pub place: Option<String>,
    /// Call the meeting off.
    #[graphql(default)]
    pub cancel: bool,
}

/// Input of `recordMeetingMinutes`.
#[derive(InputObject)]
pub(super) struct RecordMeetingMinutesInput {
    /// The meeting's global id.
    pub meeting_id: ID,
    /// The version you are changing.
    pub expected_version: i32,
    /// Who attended, and absentees with their written opinions.
    #[graphql(default)]
    pub attendance: Vec<Attendee>,
    /// The minutes.
    pub minutes: Minutes,
    /// The direction agreed (方向性).
    pub direction: String,
    /// Required when the direction differs from the previous held meeting's.
    pub direction_change_reason: Option<String>,
}

/// A fact-check finding on one point of a brief (要確認の解釈): an interpretation without the
/// evidence that would make it a fact.
#[derive(SimpleObject, Clone)]
pub(super) struct BriefFactFinding {
    /// The part (項目): `recentChanges`, `stablePoints`, `unstablePoints` or `focusNextMonth`.
    pub part: String,
    /// The point's position in its part, from 0.
    pub index: i32,
    /// The point's text (該当の記載).
    pub point: String,
    /// The writer marked the point as an impression (所感).
    pub impression: bool,
    /// The flagged words (解釈の語), e.g. 落ち着いている.
    pub words: String,
    /// The question whose answer would make it a fact (確認の問い).
    pub question: String,
}

impl From<PointFinding> for BriefFactFinding {
    fn from(f: PointFinding) -> Self {
        Self {
            part: f.part.to_owned(),
            index: i32::try_from(f.index).unwrap_or(i32::MAX),
            point: f.point,
            impression: f.impression,
            words: f.words,
            question: f.question,
        }
    }
}

/// Input of `submitMeetingBrief`.
#[derive(InputObject)]
pub(super) struct SubmitMeetingBriefInput {
    /// The meeting's global id.
    pub meeting_id: ID,
    /// The three points.
    pub content: BriefContent,
}

/// Result of `submitMeetingBrief`.
#[derive(SimpleObject)]
pub(super) struct MeetingBriefPayload {
    /// The brief as stored.
    pub brief: MeetingBrief,
}

#[derive(Default)]
pub(super) struct MeetingQuery;

#[Object]
impl MeetingQuery {
    /// One meeting you may see.
    async fn meeting(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The meeting's global id.")] id: ID,
    ) -> async_graphql::Result<Meeting> {
        let uuid = ids::decode("Meeting", "id", &id)?;
        Ok(Meeting(
            meetings::get(ctx.state()?, ctx.viewer()?, uuid).await?.0,
        ))
    }
}

#[derive(Default)]
pub(super) struct MeetingMutation;

#[Object]
impl MeetingMutation {
    /// Schedules a meeting and invites care-team organizations (会議の招集).
    async fn schedule_meeting(
        &self,
        ctx: &Context<'_>,
        input: ScheduleMeetingInput,
    ) -> async_graphql::Result<MeetingPayload> {
        let invited = input
            .invited_organization_ids
            .iter()
            .map(|id| ids::decode("Organization", "invitedOrganizationIds", id))
            .collect::<Result<Vec<_>, _>>()?;
        let new = meetings::NewMeeting {
            client_id: ids::decode("Client", "clientId", &input.client_id)?,
            kind: input.kind.into(),
            scheduled_at: input.scheduled_at,
            place: input.place,
            online: input.online,
            invited_organization_ids: invited,
            agenda: input.agenda,
            external_id: input.external_id,
        };
        Ok(MeetingPayload {
            meeting: Meeting(meetings::schedule(ctx.state()?, ctx.viewer()?, new).await?),
        })
    }

    /// Reschedules or cancels a meeting (host only).
    async fn update_meeting(
        &self,
        ctx: &Context<'_>,
        input: UpdateMeetingInput,
    ) -> async_graphql::Result<MeetingPayload> {
        let id = ids::decode("Meeting", "meetingId", &input.meeting_id)?;
        let m = meetings::update(
            ctx.state()?,
            ctx.viewer()?,
            id,
            input.expected_version,
            input.scheduled_at,
            input.place,
            input.cancel,
        )
        .await?;
        Ok(MeetingPayload {
            meeting: Meeting(m),
        })
    }

    /// Records the minutes (会議録) and the direction; a changed direction needs a reason.
    async fn record_meeting_minutes(
        &self,
        ctx: &Context<'_>,
        input: RecordMeetingMinutesInput,
    ) -> async_graphql::Result<MeetingPayload> {
        let id = ids::decode("Meeting", "meetingId", &input.meeting_id)?;
        let m = meetings::record_minutes(
            ctx.state()?,
            ctx.viewer()?,
            id,
            input.expected_version,
            meetings::MinutesInput {
                attendance: input.attendance,
                minutes: input.minutes,
                direction: input.direction,
                direction_change_reason: input.direction_change_reason,
            },
        )
        .await?;
        Ok(MeetingPayload {
            meeting: Meeting(m),
        })
    }

    /// Submits your facility's three-point brief before a meeting you are invited to (service
    /// managers); resubmitting replaces it.
    async fn submit_meeting_brief(
        &self,
        ctx: &Context<'_>,
        input: SubmitMeetingBriefInput,
    ) -> async_graphql::Result<MeetingBriefPayload> {
        let id = ids::decode("Meeting", "meetingId", &input.meeting_id)?;
        let b = meetings::submit_brief(ctx.state()?, ctx.viewer()?, id, input.content).await?;
        Ok(MeetingBriefPayload {
            brief: MeetingBrief(b),
        })
    }

    /// Records a monitoring report (モニタリング報告書); the client's consultation specialist only.
    async fn record_monitoring_report(
        &self,
        ctx: &Context<'_>,
        input: RecordMonitoringReportInput,
    ) -> async_graphql::Result<MonitoringReportPayload> {
        let new = monitoring::NewReport {
            client_id: ids::decode("Client", "clientId", &input.client_id)?,
            monitored_on: input.monitored_on.0,
            method: screaming(input.method),
            outcome: screaming(input.outcome),
            content: input.content,
        };
        Ok(MonitoringReportPayload {
            monitoring_report: MonitoringReport(
                monitoring::record(ctx.state()?, ctx.viewer()?, new).await?,
            ),
        })
    }
}

/// Meetings of a client as the request's scope sees them (batched and audited by the loader).
pub(super) async fn client_meetings(
    ctx: &Context<'_>,
    client_id: uuid::Uuid,
) -> async_graphql::Result<Vec<Meeting>> {
    let list = ctx
        .loaders()?
        .meetings_by_client
        .load_one(client_id)
        .await?
        .unwrap_or_default();
    Ok(list.into_iter().map(Meeting).collect())
}

/// Monitoring reports of a client as the request's scope sees them (batched and audited).
pub(super) async fn client_reports(
    ctx: &Context<'_>,
    client_id: uuid::Uuid,
) -> async_graphql::Result<Vec<MonitoringReport>> {
    let list = ctx
        .loaders()?
        .reports_by_client
        .load_one(client_id)
        .await?
        .unwrap_or_default();
    Ok(list.into_iter().map(MonitoringReport).collect())
}
