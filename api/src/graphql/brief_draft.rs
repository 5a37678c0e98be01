//! Drafted three-point briefs (事前共有の3点の下書き) over GraphQL.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::{
    context::ContextExt,
    ids,
    meeting::{BriefFactFinding, Meeting},
    observation::Observation,
};
use crate::service::{
    brief_drafts::{self, DraftPoint},
    documents::{BriefContent, BriefPoint},
};

/// A drafted three-point brief for a meeting (事前共有の下書き): edit it, then submit it with
/// `submitMeetingBrief`. Nothing is stored by drafting.
#[derive(SimpleObject)]
pub(super) struct MeetingBriefDraft {
    /// The meeting.
    pub meeting: Meeting,
    /// Observations that happened from this time on were considered: the last held meeting or
    /// monitoring, else 30 days before the meeting.
    pub since: DateTime<Utc>,
    /// The previous held meeting whose minutes you may read.
    pub previous_meeting: Option<Meeting>,
    /// The direction decided at the previous meeting (前回の方向性), to show beside the draft.
    pub previous_direction: Option<String>,
    /// The drafted three points, each citing the observations it rests on.
    pub content: BriefContent,
    /// The observations cited (all written by your facility and shared beyond it).
    pub cited_observations: Vec<Observation>,
    /// How many observations were read.
    pub observations_considered: i32,
    /// The fact check on the drafted points (事実と解釈のチェック結果): a point holding an
    /// interpretation without evidence is marked 【解釈・要確認】 in its text and listed here
    /// with its question.
    pub fact_findings: Vec<BriefFactFinding>,
    /// Parts with nothing to draft from (`recentChanges`, `stableOrUnstablePoints`,
    /// `focusNextMonth`): write them yourself before submitting.
    pub missing_parts: Vec<String>,
}

fn points(list: Vec<DraftPoint>) -> Vec<BriefPoint> {
    list.into_iter()
        .map(|p| BriefPoint {
            text: p.text,
            observation_ids: p
                .observation_ids
                .into_iter()
                .map(crate::service::documents::ObservationRef)
                .collect(),
            impression: false,
        })
        .collect()
}

#[derive(Default)]
pub(super) struct BriefDraftQuery;

#[Object]
impl BriefDraftQuery {
    /// Drafts your facility's three-point brief for a meeting you are invited to (service
    /// managers), from your facility's shared observations since the last meeting or monitoring:
    /// recent changes (with evidence counts per tag that count only what happened and split
    /// outcomes, 完食 / 一部残した), stable and unstable points, and the focus for next month from
    /// open risk signs and unmet goals (your active individual plan's open goals only when
    /// nothing else calls for attention). Sentences the fact check flags are marked
    /// 【解釈・要確認】 and listed in `factFindings`.
    async fn draft_meeting_brief(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The meeting's global id.")] meeting_id: ID,
    ) -> async_graphql::Result<MeetingBriefDraft> {
        let id = ids::decode("Meeting", "meetingId", &meeting_id)?;
        let d = brief_drafts::draft(ctx.state()?, ctx.viewer()?, id).await?;
        let mut cited: Vec<uuid::Uuid> = d
            .recent_changes
            .iter()
            .chain(&d.stable_points)
            .chain(&d.unstable_points)
            .chain(&d.focus_next_month)
            .flat_map(|p| p.observation_ids.iter().copied())
            .collect();
        cited.sort_unstable();
        cited.dedup();
        let mut missing = Vec::new();
        if d.recent_changes.is_empty() {
            missing.push("recentChanges".to_owned());
        }
        if d.stable_points.is_empty() && d.unstable_points.is_empty() {
            missing.push("stableOrUnstablePoints".to_owned());
        }
        if d.focus_next_month.is_empty() {
            missing.push("focusNextMonth".to_owned());
        }
        Ok(MeetingBriefDraft {
            previous_direction: d
                .previous_meeting
                .as_ref()
                .and_then(|p| p.direction.clone()),
            previous_meeting: d.previous_meeting.map(Meeting),
            meeting: Meeting(d.meeting),
            since: d.since,
            cited_observations: d
                .observations
                .iter()
                .filter(|o| cited.binary_search(&o.id).is_ok())
                .cloned()
                .map(Observation)
                .collect(),
            observations_considered: i32::try_from(d.observations.len()).unwrap_or(i32::MAX),
            content: BriefContent {
                recent_changes: points(d.recent_changes),
                stable_points: points(d.stable_points),
                unstable_points: points(d.unstable_points),
                focus_next_month: points(d.focus_next_month),
            },
            missing_parts: missing,
            fact_findings: d.findings.into_iter().map(BriefFactFinding::from).collect(),
        })
    }
}
