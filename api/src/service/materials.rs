//! Materials for the consultation side (素材): a short record summary, evidence of change with
//! numbers, the facility's direction, signs of risk, and the "service status as heard from the
//! facility" row of a monitoring report pre-filled goal by goal.
//!
//! Built only from what the viewer may see, and never from internal notes (visibility
//! `INTERNAL`), even the viewer's own: materials are handed over.
//!
//! Monitoring rows select their evidence by the goal's target and count it with polarity
//! against the goal's threshold (see [`super::evidence`]); text similarity is left only for
//! goals that name no behaviour the records speak of.
//!
//! A facility's materials are what it hands over, seen through the consultation office's own
//! access path: its records, plan and briefs as the client's current consultation office may read
//! them (that office's scope, with its consent and visibility rules), and nothing the facility
//! itself may not read. The office asks for the same with `organization`, so a facility's preview
//! and the office's view of that facility's materials are the same document. A client without a
//! consultation office (セルフプラン) has no such path: the facility's preview is its own records
//! shared beyond itself.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::{
    meeting_brief,
    observation::{self, ObservationCategory, RecordStatus, Visibility},
    support_plan,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{
    access::{Scope, today},
    documents::{Achievement, BriefContent},
    evidence, meetings, monitoring, observations, plan_checks, plans,
};
use crate::{
    auth::Viewer,
    error::{ApiError, ApiResult},
    language::{
        evidence::{Polarity, Target, judge_tagged},
        similarity::{COUNTERPART, Profile},
    },
    service::Ctx,
};

/// Longest period materials cover.
const MAX_DAYS: i64 = 366;
/// Most observations read for one set of materials.
const MAX_OBSERVATIONS: u64 = 5_000;
/// Key facts listed.
const KEY_FACTS: usize = 10;
/// Records quoted in a monitoring row's text (all of them are cited and counted).
const MAX_ROW_LINES: usize = 12;

/// A tag's count in the period against the four weeks before it (変化の根拠).
#[derive(Debug, Clone)]
pub struct TagTrend {
    pub tag: String,
    /// Tagged records saying the behaviour happened (a tag the text never speaks of counts as
    /// happened for behaviours the evidence module does not know).
    pub count: usize,
    /// Tagged records saying it did not happen.
    pub not_occurred_count: usize,
    pub per_week: f64,
    pub baseline_count: usize,
    pub baseline_per_week: f64,
}

/// A facility's direction: its plan in force and its latest brief's focus.
#[derive(Debug, Clone)]
pub struct FacilityDirection {
    pub organization_id: Uuid,
    pub plan: Option<support_plan::Model>,
    pub latest_brief: Option<meeting_brief::Model>,
    /// The latest brief's focus for the next month (次の1ヶ月の焦点).
    pub focus_next_month: Vec<String>,
}

/// A pre-filled monitoring row.
#[derive(Debug, Clone)]
pub struct PrefilledRow {
    pub goal: String,
    pub achievement: Achievement,
    pub service_status_from_facility: String,
    pub observation_ids: Vec<Uuid>,
    /// The goal read as a measure and counted per period, when it reads as one.
    pub evidence: Option<evidence::GoalEvidence>,
}

#[derive(Debug, Clone)]
pub struct Materials {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub counts: Vec<(ObservationCategory, usize)>,
    pub key_facts: Vec<observation::Model>,
    pub trends: Vec<TagTrend>,
    pub directions: Vec<FacilityDirection>,
    pub risk_signs: Vec<observation::Model>,
    pub monitoring_rows: Vec<PrefilledRow>,
    pub observation_count: usize,
}

fn achievement_ja(a: Achievement) -> &'static str {
    match a {
        Achievement::NotAssessed => "未評価",
        Achievement::Improving => "改善",
        Achievement::NoChange => "変化なし",
        Achievement::Worsening => "悪化",
        Achievement::Achieved => "達成",
        Achievement::Discontinued => "中止",
    }
}

/// The materials of a client for `[from, to]` (Japanese calendar days; default the last 28 days):
/// for a consultation office, of every organization or of `organization` only; for a facility,
/// its own, as the office reads them.
pub async fn materials(
    state: &Ctx,
    viewer: &Viewer,
    client_id: Uuid,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    organization: Option<Uuid>,
) -> ApiResult<Materials> {
    let to = to.unwrap_or_else(today);
    let end = super::jst_day_start("to", to)? + Duration::days(1);
    let from = from.unwrap_or(to - Duration::days(27));
    let start = super::jst_day_start("from", from)?;
    if from > to || (to - from).num_days() >= MAX_DAYS {
        return Err(ApiError::bad_input(
            "from",
            format!("from must not be after to, and the period at most {MAX_DAYS} days."),
        ));
    }
    let viewer_scope = Scope::for_client(&state.db, viewer, client_id).await?;
    viewer_scope.require(client_id)?;
    let facility = viewer.organization_kind == entity::organization::OrganizationKind::Facility;
    // `scope`: the access path the materials are read through (the office's); `own`: the
    // organization whose materials they are, which must be able to read all of it too; `writer`:
    // whose records, plan and briefs they are.
    let (scope, own, writer) = if facility {
        let office = super::care_team::consultation_office_scopes(&state.db, client_id)
            .await?
            .into_iter()
            .next();
        (
            office.unwrap_or_else(|| viewer_scope.clone()),
            viewer_scope,
            Some(viewer.organization_id),
        )
    } else if let Some(org) = organization {
        let theirs = Scope::for_organization_client(&state.db, org, client_id).await?;
        (viewer_scope, theirs, Some(org))
    } else {
        (viewer_scope.clone(), viewer_scope, None)
    };
    let written_by = |org: Uuid| writer.is_none_or(|w| w == org);
    let baseline_start = start - Duration::days(28);
    // The period and its 4-week baseline are read separately, so a busy period cannot crowd
    // the baseline out of the cap (which would fake a rise).
    let read = |from: DateTime<Utc>, to: DateTime<Utc>| {
        observation::Entity::find()
            .filter(scope.observation_condition())
            .filter(observation::Column::ClientId.eq(client_id))
            .filter(observation::Column::Status.eq(RecordStatus::Current))
            .filter(observation::Column::Visibility.ne(Visibility::Internal))
            .filter(observation::Column::OccurredFrom.gte(from))
            .filter(observation::Column::OccurredFrom.lt(to))
            .order_by_desc(observation::Column::OccurredFrom)
            .limit(MAX_OBSERVATIONS)
            .all(&state.db)
    };
    // Read through the lens's scope, and never anything the viewer itself may not read.
    let shown = |o: &observation::Model| {
        written_by(o.organization_id) && scope.can_see_observation(o) && own.can_see_observation(o)
    };
    let period: Vec<observation::Model> =
        read(start, end).await?.into_iter().filter(shown).collect();
    let baseline: Vec<observation::Model> = read(baseline_start, start)
        .await?
        .into_iter()
        .filter(shown)
        .collect();
    observations::audit_reads(state, viewer, &period).await?;

    let mut counts: BTreeMap<u8, (ObservationCategory, usize)> = BTreeMap::new();
    for o in &period {
        counts.entry(o.category as u8).or_insert((o.category, 0)).1 += 1;
    }
    let mut key_facts: Vec<observation::Model> = period
        .iter()
        .filter(|o| {
            matches!(
                o.category,
                ObservationCategory::RiskSign
                    | ObservationCategory::Change
                    | ObservationCategory::Unstable
                    | ObservationCategory::Safeguarding
            )
        })
        .take(KEY_FACTS)
        .cloned()
        .collect();
    if key_facts.len() < KEY_FACTS {
        let more: Vec<_> = period
            .iter()
            .filter(|o| !key_facts.iter().any(|k| k.id == o.id))
            .take(KEY_FACTS - key_facts.len())
            .cloned()
            .collect();
        key_facts.extend(more);
    }

    let weeks = ((to - from).num_days() + 1) as f64 / 7.0;
    // A tag counts the records saying its behaviour happened; records saying it did not
    // (大声はなかった) are counted apart, never as the behaviour.
    let tally_tags = |list: &[observation::Model]| {
        let mut happened: BTreeMap<String, usize> = BTreeMap::new();
        let mut not: BTreeMap<String, usize> = BTreeMap::new();
        for o in list {
            for t in observations::tags(o) {
                let j = judge_tagged(&o.fact, &Target::of_tag(&t));
                let counter = match j.polarity {
                    Polarity::NotOccurred => not.entry(t).or_default(),
                    _ => happened.entry(t).or_default(),
                };
                *counter += usize::from(j.polarity != Polarity::Unrelated);
            }
        }
        (happened, not)
    };
    let (period_tags, period_not) = tally_tags(&period);
    let (baseline_tags, _) = tally_tags(&baseline);
    let mut names: Vec<&String> = period_tags.keys().chain(baseline_tags.keys()).collect();
    names.sort();
    names.dedup();
    let round = |v: f64| (v * 10.0).round() / 10.0;
    let trends = names
        .into_iter()
        .map(|tag| {
            let count = period_tags.get(tag).copied().unwrap_or(0);
            let baseline_count = baseline_tags.get(tag).copied().unwrap_or(0);
            TagTrend {
                tag: tag.clone(),
                not_occurred_count: period_not.get(tag).copied().unwrap_or(0),
                count,
                per_week: round(count as f64 / weeks),
                baseline_count,
                baseline_per_week: round(baseline_count as f64 / 4.0),
            }
        })
        .collect();

    // The facility's direction: visible plans in force and latest visible briefs (a service-use
    // plan is the office's and frames every facility's goals; individual plans are the writer's).
    let visible_plans: Vec<support_plan::Model> =
        plans::of_clients(&state.db, &scope, &[client_id])
            .await?
            .remove(&client_id)
            .unwrap_or_default()
            .into_iter()
            .filter(|p| {
                own.can_see_record(client_id, plans::facts(p))
                    && (p.kind == entity::support_plan::PlanKind::ServiceUsePlan
                        || written_by(p.organization_id))
            })
            .collect();
    let alignment = plan_checks::align(&visible_plans, &[])?;
    let meetings_list = meetings::of_clients(&state.db, &scope, &[client_id])
        .await?
        .remove(&client_id)
        .unwrap_or_default();
    let meeting_ids: Vec<Uuid> = meetings_list.iter().map(|m| m.id).collect();
    let mut briefs: Vec<meeting_brief::Model> = meetings::briefs(&state.db, &meeting_ids)
        .await?
        .into_values()
        .flatten()
        .filter(|b| {
            written_by(b.organization_id)
                && scope.can_see_record(b.client_id, meetings::brief_facts(b))
                && own.can_see_record(b.client_id, meetings::brief_facts(b))
        })
        .collect();
    briefs.sort_by_key(|b| std::cmp::Reverse(b.submitted_at));
    let mut directions: Vec<FacilityDirection> = alignment
        .individual_plans
        .iter()
        .map(|p| FacilityDirection {
            organization_id: p.organization_id,
            plan: Some(p.clone()),
            latest_brief: None,
            focus_next_month: Vec::new(),
        })
        .collect();
    for b in briefs {
        match directions
            .iter_mut()
            .find(|d| d.organization_id == b.organization_id)
        {
            Some(d) if d.latest_brief.is_none() => d.latest_brief = Some(b),
            Some(_) => {}
            None => directions.push(FacilityDirection {
                organization_id: b.organization_id,
                plan: None,
                latest_brief: Some(b),
                focus_next_month: Vec::new(),
            }),
        }
    }

    for d in &mut directions {
        if let Some(b) = &d.latest_brief {
            d.focus_next_month = brief_focus(b)?;
        }
    }

    // The plans and briefs whose words the materials quote are reads like any other.
    let quoted: Vec<Uuid> = alignment
        .service_use_plan
        .iter()
        .map(|p| p.id)
        .chain(directions.iter().flat_map(|d| {
            d.plan
                .iter()
                .map(|p| p.id)
                .chain(d.latest_brief.iter().map(|b| b.id))
        }))
        .collect();
    if !quoted.is_empty() {
        state
            .read_audits
            .record(
                viewer,
                entity::read_audit::ReadOperation::Plans,
                vec![(Some(client_id), quoted)],
            )
            .await?;
    }
    let risk_signs: Vec<observation::Model> = period
        .iter()
        .filter(|o| o.category == ObservationCategory::RiskSign)
        .cloned()
        .collect();

    // Pre-filled monitoring rows: per service-use goal, the facility counterparts' ratings and
    // the facility records that mention the goal's words.
    let reports: Vec<entity::monitoring_report::Model> =
        monitoring_reports(state, &scope, client_id)
            .await?
            .into_iter()
            .filter(|r| own.can_see_record(client_id, monitoring::facts(r)))
            .collect();
    let full = plan_checks::align(&visible_plans, &reports)?;
    // What the facility said: records written by facilities.
    let writers: Vec<Uuid> = period.iter().map(|o| o.organization_id).collect();
    let facilities: std::collections::HashSet<Uuid> =
        super::organizations::by_ids(&state.db, &writers)
            .await?
            .into_values()
            .filter(|o| o.kind == entity::organization::OrganizationKind::Facility)
            .map(|o| o.id)
            .collect();
    let facility_period: Vec<&observation::Model> = period
        .iter()
        .filter(|o| facilities.contains(&o.organization_id))
        .collect();
    let profiles: Vec<(&observation::Model, Profile)> = facility_period
        .iter()
        .map(|o| (*o, Profile::of(&o.fact)))
        .collect();
    let monitoring_rows = full
        .goals
        .iter()
        .map(|g| {
            let mut parts: Vec<String> = g
                .counterparts
                .iter()
                .map(|c| {
                    format!(
                        "個別支援計画「{}」: {}",
                        c.goal.text,
                        c.goal.achievement.map(achievement_ja).unwrap_or("未評価")
                    )
                })
                .collect();
            let texts: Vec<&str> = std::iter::once(g.goal.text.as_str())
                .chain(g.counterparts.iter().map(|c| c.goal.text.as_str()))
                .collect();
            // Evidence by the goal's target with polarity; text similarity only for a goal that
            // names no behaviour records speak of.
            let found = evidence::for_goal(&texts, &facility_period, from, to);
            let cited: Vec<(&observation::Model, &'static str)> = match &found {
                Some(e) => {
                    parts.extend(e.tallies.iter().map(|t| t.summary.clone()));
                    e.judged
                        .iter()
                        .map(|j| {
                            (
                                &j.observation,
                                evidence::outcome_label(&e.spec.target, &j.occurrence),
                            )
                        })
                        .collect()
                }
                None => {
                    let goal_profiles: Vec<Profile> =
                        texts.iter().map(|t| Profile::of(t)).collect();
                    profiles
                        .iter()
                        .filter(|(_, p)| {
                            goal_profiles.iter().any(|g| g.similarity(p) >= COUNTERPART)
                        })
                        .map(|(o, _)| (*o, ""))
                        .take(5)
                        .collect()
                }
            };
            for (o, label) in cited.iter().take(MAX_ROW_LINES) {
                let mark = if label.is_empty() {
                    String::new()
                } else {
                    format!("【{label}】")
                };
                parts.push(format!(
                    "{} {mark}{}",
                    super::jst_month_day(o.occurred_from),
                    o.fact.chars().take(80).collect::<String>()
                ));
            }
            if cited.len() > MAX_ROW_LINES {
                parts.push(format!("ほか{}件", cited.len() - MAX_ROW_LINES));
            }
            if cited.is_empty() {
                parts.push("期間中、この目標に関する事業所からの記録はありません。".to_owned());
            }
            PrefilledRow {
                goal: g.goal.text.clone(),
                achievement: g.consultation_rating.unwrap_or(Achievement::NotAssessed),
                service_status_from_facility: parts.join("\n"),
                observation_ids: cited.iter().map(|(o, _)| o.id).collect(),
                evidence: found,
            }
        })
        .collect();

    Ok(Materials {
        from,
        to,
        observation_count: period.len(),
        counts: counts.into_values().collect(),
        key_facts,
        trends,
        directions,
        risk_signs,
        monitoring_rows,
    })
}

async fn monitoring_reports(
    state: &Ctx,
    scope: &Scope,
    client_id: Uuid,
) -> ApiResult<Vec<entity::monitoring_report::Model>> {
    Ok(monitoring::of_clients(&state.db, scope, &[client_id])
        .await?
        .remove(&client_id)
        .unwrap_or_default())
}

/// The brief's focus points, for a facility's direction.
pub fn brief_focus(b: &meeting_brief::Model) -> ApiResult<Vec<String>> {
    let content: BriefContent = super::documents::stored("brief", &b.content)?;
    Ok(content
        .focus_next_month
        .into_iter()
        .map(|p| p.text)
        .collect())
}
