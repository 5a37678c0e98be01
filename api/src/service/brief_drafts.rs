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

use chrono::{DateTime, Duration, Utc};
use entity::{
    meeting, monitoring_report,
    observation::{self, ObservationCategory, RecordStatus, Visibility},
    support_plan::{self, PlanKind, PlanStatus},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{
    access::jst_day,
    documents::Achievement,
    evidence::{self, PointFinding},
    meetings, observations, plans,
};
use crate::{
    auth::{Viewer, policy},
    error::{ApiError, ApiResult},
    service::Ctx,
};

/// Most observations a draft reads.
const MAX_OBSERVATIONS: u64 = 500;
/// Points per part.
const MAX_POINTS: usize = 5;
/// Evidence-count points (per tag and outcome) in recent changes.
const MAX_COUNT_POINTS: usize = 6;
/// The mark put before a drafted sentence the fact check flags.
pub const FLAG_MARK: &str = "【解釈・要確認】";

pub use super::risk_directions::DraftPoint;

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
    /// The fact check on every drafted point (flagged sentences are also marked in their text).
    pub findings: Vec<PointFinding>,
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
pub async fn draft(state: &Ctx, viewer: &Viewer, meeting_id: Uuid) -> ApiResult<BriefDraft> {
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
    // Evidence counts per tag: only records saying it happened count as it; records saying it
    // did not, and each outcome of a graded behaviour (完食 / 残した), are counts of their own.
    for c in evidence::tag_counts(&observations, 2)
        .into_iter()
        .take(MAX_COUNT_POINTS)
    {
        recent_changes.push(DraftPoint {
            text: c.text(),
            observation_ids: c.observations.iter().take(20).map(|o| o.id).collect(),
        });
    }
    let mut stable_points: Vec<DraftPoint> = of(&[ObservationCategory::Stable])
        .into_iter()
        .take(MAX_POINTS)
        .map(point)
        .collect();
    let unstable: Vec<&observation::Model> =
        of(&[ObservationCategory::Unstable, ObservationCategory::RiskSign]);
    let mut unstable_points: Vec<DraftPoint> =
        unstable.iter().take(MAX_POINTS).map(|o| point(o)).collect();

    // Focus: directions from open risk signs and unmet goals, each citing its records; the
    // plan's goals themselves only when nothing else calls for attention.
    let plan = support_plan::Entity::find()
        .filter(support_plan::Column::ClientId.eq(m.client_id))
        .filter(support_plan::Column::OrganizationId.eq(viewer.organization_id))
        .filter(support_plan::Column::Kind.eq(PlanKind::IndividualSupportPlan))
        .filter(support_plan::Column::Status.eq(PlanStatus::Active))
        .one(&state.db)
        .await?;
    let goals: Vec<String> = plan
        .map(|p| plans::content_of(&p.content))
        .transpose()?
        .map(|c| c.goals)
        .unwrap_or_default()
        .into_iter()
        .filter(|g| {
            !matches!(
                g.achievement,
                Achievement::Achieved | Achievement::Discontinued
            )
        })
        .map(|g| g.text)
        .collect();
    let from = jst_day(since);
    let to = jst_day(m.scheduled_at.min(super::now()));
    let mut focus_next_month = super::risk_directions::directions(&observations, &goals, from, to);
    focus_next_month.truncate(MAX_POINTS);
    if focus_next_month.is_empty() {
        // Nothing calls for attention: the open goals, each with the records that speak of it.
        let refs: Vec<&observation::Model> = observations.iter().collect();
        focus_next_month.extend(goals.iter().take(3).map(|g| {
            let cited: Vec<Uuid> = evidence::for_goal(&[g.as_str()], &refs, from, to)
                .map(|e| {
                    e.judged
                        .iter()
                        .rev()
                        .take(20)
                        .map(|j| j.observation.id)
                        .collect()
                })
                .unwrap_or_default();
            DraftPoint {
                text: format!(
                    "次の1ヶ月: 計画の目標「{}」に向けて、できた日とできなかった日を毎日記録する",
                    short(g, 100)
                ),
                observation_ids: cited,
            }
        }));
    }
    if focus_next_month.is_empty()
        && let Some(o) = unstable.first()
    {
        focus_next_month.push(DraftPoint {
            text: format!("次の1ヶ月: 不安定な点への対応（{}）", short(&o.fact, 80)),
            observation_ids: vec![o.id],
        });
    }

    // Never present an interpretation as a fact: flagged sentences are marked, and the
    // findings listed beside the draft.
    let own = super::fact_checks::lexicons(&state.db, &[viewer.organization_id])
        .await?
        .remove(&viewer.organization_id);
    let mut findings = Vec::new();
    for (part, list) in [
        ("recentChanges", &mut recent_changes),
        ("stablePoints", &mut stable_points),
        ("unstablePoints", &mut unstable_points),
        ("focusNextMonth", &mut focus_next_month),
    ] {
        for (index, p) in list.iter_mut().enumerate() {
            let report = evidence::check_point(part, &p.text, own.as_deref())?;
            if report.findings.is_empty() {
                continue;
            }
            p.text = format!("{FLAG_MARK}{}", p.text);
            findings.extend(report.findings.into_iter().map(|f| PointFinding {
                part,
                index,
                point: p.text.clone(),
                impression: false,
                words: f.text,
                question: f.question,
            }));
        }
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
        findings,
    })
}
