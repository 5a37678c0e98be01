//! Drafted three-point briefs (事前共有の3点の下書き): the facility's recent changes, stable and
//! unstable points and focus for next month, drafted from its own shared observations since the
//! last meeting or monitoring, each point citing its facts. Nothing is stored: the service
//! manager edits the draft and submits it with `submitMeetingBrief`.
//!
//! A brief goes to the client's consultation office, so a draft uses only the facility's
//! observations that every current consultation office of the client may already read (never
//! an internal note, never one the client's consent keeps from the office): nothing reaches the
//! office through a draft that it could not read anyway. A client without a consultation office
//! (セルフプラン) gets drafts from the facility's shared observations.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use entity::{
    meeting, monitoring_report,
    observation::{self, ObservationCategory, RecordStatus, Visibility},
    support_plan::{self, PlanKind, PlanStatus},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{documents::Achievement, meetings, observations, plans};
use crate::{
    auth::{Viewer, policy},
    error::{ApiError, ApiResult},
    state::AppState,
};

/// Most observations a draft reads.
const MAX_OBSERVATIONS: u64 = 500;
/// Points per part.
const MAX_POINTS: usize = 5;

/// A drafted point: text and the observations it rests on.
#[derive(Debug, Clone)]
pub struct DraftPoint {
    pub text: String,
    pub observation_ids: Vec<Uuid>,
}

/// A drafted brief.
#[derive(Debug, Clone)]
pub struct BriefDraft {
    pub meeting: meeting::Model,
    /// Observations from this time on were considered.
    pub since: DateTime<Utc>,
    pub previous_meeting: Option<meeting::Model>,
    pub recent_changes: Vec<DraftPoint>,
    pub stable_points: Vec<DraftPoint>,
    pub unstable_points: Vec<DraftPoint>,
    pub focus_next_month: Vec<DraftPoint>,
    pub observations: Vec<observation::Model>,
}

fn short(text: &str, max: usize) -> String {
    let t: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        format!("{t}…")
    } else {
        t
    }
}

fn point(o: &observation::Model) -> DraftPoint {
    DraftPoint {
        text: format!(
            "{} {}",
            super::jst_month_day(o.occurred_from),
            short(&o.fact, 120)
        ),
        observation_ids: vec![o.id],
    }
}

/// Drafts the viewer's facility's brief for a meeting it is invited to.
pub async fn draft(state: &AppState, viewer: &Viewer, meeting_id: Uuid) -> ApiResult<BriefDraft> {
    let (m, scope) = meetings::get(state, viewer, meeting_id).await?;
    let rel = scope.require(m.client_id)?;
    if !meetings::invited(&m).contains(&viewer.organization_id)
        || !policy::can_write_individual_plan(viewer, rel)
    {
        return Err(ApiError::forbidden(
            "Briefs are drafted by the service managers of invited facilities.",
        ));
    }
    let previous = meetings::previous_held(&state.db, &scope, &m).await?;
    let last_monitoring = monitoring_report::Entity::find()
        .filter(monitoring_report::Column::ClientId.eq(m.client_id))
        .order_by_desc(monitoring_report::Column::MonitoredOn)
        .one(&state.db)
        .await?
        .filter(|r| scope.can_see_record(r.client_id, super::monitoring::facts(r)))
        .and_then(|r| super::jst_day_start("monitoredOn", r.monitored_on).ok());
    let since = [previous.as_ref().map(|p| p.scheduled_at), last_monitoring]
        .into_iter()
        .flatten()
        .max()
        .filter(|t| *t < m.scheduled_at)
        .unwrap_or(m.scheduled_at.min(super::now()) - Duration::days(30));

    let observations: Vec<observation::Model> = observation::Entity::find()
        .filter(observation::Column::ClientId.eq(m.client_id))
        .filter(observation::Column::OrganizationId.eq(viewer.organization_id))
        .filter(observation::Column::Status.eq(RecordStatus::Current))
        .filter(observation::Column::Visibility.ne(Visibility::Internal))
        .filter(observation::Column::OccurredFrom.gte(since))
        .filter(observation::Column::OccurredFrom.lte(m.scheduled_at))
        .order_by_desc(observation::Column::OccurredFrom)
        .limit(MAX_OBSERVATIONS)
        .all(&state.db)
        .await?
        .into_iter()
        .filter(|o| scope.can_see_observation(o))
        .collect();
    let office_scopes =
        super::care_team::consultation_office_scopes(&state.db, m.client_id).await?;
    let observations: Vec<observation::Model> = observations
        .into_iter()
        .filter(|o| office_scopes.iter().all(|s| s.can_see_observation(o)))
        .collect();
    observations::audit_reads(state, viewer, &observations).await?;

    let of = |cats: &[ObservationCategory]| -> Vec<&observation::Model> {
        observations
            .iter()
            .filter(|o| cats.contains(&o.category))
            .collect()
    };
    let mut recent_changes: Vec<DraftPoint> = of(&[ObservationCategory::Change])
        .into_iter()
        .take(MAX_POINTS)
        .map(point)
        .collect();
    // Repeated tags are evidence of change with numbers.
    let mut by_tag: BTreeMap<String, Vec<&observation::Model>> = BTreeMap::new();
    for o in &observations {
        for t in observations::tags(o) {
            by_tag.entry(t).or_default().push(o);
        }
    }
    // The most repeated tags first (ties by name, so drafts are stable).
    let mut repeated: Vec<(&String, &Vec<&observation::Model>)> =
        by_tag.iter().filter(|(_, l)| l.len() >= 2).collect();
    repeated.sort_by_key(|(tag, l)| (std::cmp::Reverse(l.len()), (*tag).clone()));
    for (tag, list) in repeated.into_iter().take(3) {
        let first = list.iter().map(|o| o.occurred_from).min();
        let last = list.iter().map(|o| o.occurred_from).max();
        if let (Some(first), Some(last)) = (first, last) {
            recent_changes.push(DraftPoint {
                text: format!(
                    "「{tag}」の記録が{}件（{}〜{}）",
                    list.len(),
                    super::jst_month_day(first),
                    super::jst_month_day(last)
                ),
                observation_ids: list.iter().take(20).map(|o| o.id).collect(),
            });
        }
    }
    let stable_points: Vec<DraftPoint> = of(&[ObservationCategory::Stable])
        .into_iter()
        .take(MAX_POINTS)
        .map(point)
        .collect();
    let unstable: Vec<&observation::Model> =
        of(&[ObservationCategory::Unstable, ObservationCategory::RiskSign]);
    let unstable_points: Vec<DraftPoint> =
        unstable.iter().take(MAX_POINTS).map(|o| point(o)).collect();

    // Focus: the facility's active plan goals not yet achieved, resting on the unstable points.
    let plan = support_plan::Entity::find()
        .filter(support_plan::Column::ClientId.eq(m.client_id))
        .filter(support_plan::Column::OrganizationId.eq(viewer.organization_id))
        .filter(support_plan::Column::Kind.eq(PlanKind::IndividualSupportPlan))
        .filter(support_plan::Column::Status.eq(PlanStatus::Active))
        .one(&state.db)
        .await?;
    let unstable_ids: Vec<Uuid> = unstable.iter().take(5).map(|o| o.id).collect();
    let mut focus_next_month: Vec<DraftPoint> = plan
        .map(|p| plans::content_of(&p.content).goals)
        .unwrap_or_default()
        .into_iter()
        .filter(|g| {
            !matches!(
                g.achievement,
                Achievement::Achieved | Achievement::Discontinued
            )
        })
        .take(3)
        .map(|g| DraftPoint {
            text: format!("次の1ヶ月: {}", short(&g.text, 120)),
            observation_ids: unstable_ids.clone(),
        })
        .collect();
    if focus_next_month.is_empty()
        && let Some(o) = unstable.first()
    {
        focus_next_month.push(DraftPoint {
            text: format!("次の1ヶ月: 不安定な点への対応（{}）", short(&o.fact, 80)),
            observation_ids: vec![o.id],
        });
    }
    Ok(BriefDraft {
        meeting: m,
        since,
        previous_meeting: previous,
        recent_changes,
        stable_points,
        unstable_points,
        focus_next_month,
        observations,
    })
}
