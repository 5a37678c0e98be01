//! Materials for the consultation side (素材) over GraphQL.

use async_graphql::{Context, Enum, ID, SimpleObject};

use super::{
    Organization, ids,
    observation::{Observation, ObservationCategory},
    plan::SupportPlan,
    scalars::Date,
};
use crate::{
    language::evidence as lang,
    service::{documents::Achievement, evidence as ev, materials as svc},
};

/// How many observations of a category the period holds.
#[derive(SimpleObject, Clone)]
pub(super) struct CategoryCount {
    /// The category.
    pub category: ObservationCategory,
    /// How many.
    pub count: i32,
}

/// A short summary of the records (記録の要約).
#[derive(SimpleObject, Clone)]
pub(super) struct RecordSummary {
    /// Observations in the period you may see (internal notes never count).
    pub observation_count: i32,
    /// Counts by category.
    pub counts_by_category: Vec<CategoryCount>,
    /// The key facts: risk signs, changes and unstable points first, newest first (at most 10).
    pub key_facts: Vec<Observation>,
}

/// Evidence of change (変化の根拠): a tag's count in the period against the 4 weeks before it,
/// e.g. this period 0 「大声」 (0.0 a week) vs 2.1 a week before.
#[derive(SimpleObject, Clone)]
pub(super) struct ChangeEvidence {
    /// The tag (タグ), e.g. 大声.
    pub tag: String,
    /// Tagged observations in the period that say the behaviour happened (records saying it
    /// did not, e.g. 大声はなかった, are never counted as it).
    pub count: i32,
    /// Tagged observations in the period that say it did not happen (なしと記録).
    pub not_occurred_count: i32,
    /// The same per week.
    pub per_week: f64,
    /// Tagged observations in the 4 weeks before the period that say it happened.
    pub baseline_count: i32,
    /// The same per week (the 4-week average).
    pub baseline_per_week: f64,
    /// The change in words, e.g. 「大声」: 期間中 0件（週0.0件）／直前4週 平均 週2.1件.
    pub summary: String,
}

/// A facility's direction (事業所の方向性): its individual plan in force and its latest brief's
/// focus for next month.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub(super) struct FacilityDirection {
    #[graphql(skip)]
    pub organization_id: uuid::Uuid,
    /// Its individual support plan in force, when you may see one.
    pub plan: Option<SupportPlan>,
    /// The focus for next month of its latest brief you may see.
    pub focus_next_month: Vec<String>,
}

#[async_graphql::ComplexObject]
impl FacilityDirection {
    /// The facility.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        Organization::load(ctx, self.organization_id).await
    }
}

/// A monitoring report row pre-filled from the facility's side (モニタリング下書き).
#[derive(SimpleObject, Clone)]
pub(super) struct MonitoringRowDraft {
    /// The service-use plan's goal.
    pub goal: String,
    /// The consultation side's latest rating, to confirm.
    pub achievement: Achievement,
    /// Service status as heard from the facility (サービス提供状況・事業者からの聞き取り): the
    /// facility goals that pursue it with their ratings, the counts against the goal per period
    /// (11月: 大声 2回（目標 月2回以下、上限）), and the facility records that speak of its target,
    /// each marked with what it says (【あり】, 【なし】, 【完食】 …).
    pub service_status_from_facility: String,
    /// The observations quoted.
    pub observation_ids: Vec<ID>,
    /// The goal read as a measure (目標の測り方), e.g. target 大声, 月2回以下; null when the goal
    /// names no behaviour the records speak of.
    pub measure: Option<GoalMeasure>,
    /// Counts against the goal per period (期間ごとの回数), e.g. 11月: 大声 2回（目標 月2回以下、
    /// 上限）, each with the observations behind it.
    pub counts: Vec<EvidenceCount>,
    /// Every record that speaks of the goal's target, oldest first, with what it says
    /// (happened or not, and how): failures as well as successes (根拠の一覧).
    pub evidence: Vec<JudgedObservation>,
}

/// Which way a goal points (目標の方向).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum GoalDirection {
    /// At most the threshold (以下・以内・減らす).
    AtMost,
    /// At least the threshold (以上・増やす・続ける・毎日).
    AtLeast,
}

/// The period a goal's threshold counts over (集計期間).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum GoalPeriod {
    /// A day (日・毎日).
    Day,
    /// A week (週).
    Week,
    /// A calendar month (月).
    Month,
}

/// A goal read as a measure (目標の測り方).
#[derive(SimpleObject, Clone)]
pub(super) struct GoalMeasure {
    /// The behaviour counted (対象の行動), e.g. 大声, 食事, 睡眠.
    pub target: String,
    /// Which way the goal points.
    pub direction: GoalDirection,
    /// The limit or minimum per period (基準値); null for a direction without a number (減らす).
    pub threshold: Option<i32>,
    /// The period the threshold counts over.
    pub period: Option<GoalPeriod>,
    /// Counted in days rather than times (日数で数える).
    pub counts_days: bool,
    /// The measure in words, e.g. 月2回以下, 週5日以上, 毎日.
    pub summary: String,
}

/// How a period's count stands against its goal (目標との比較).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum EvidenceStanding {
    /// Within the limit or the minimum reached (範囲内・達成).
    Met,
    /// Exactly at the limit (上限).
    AtLimit,
    /// Over the limit or short of the minimum (超過・不足).
    NotMet,
    /// The goal has no number to compare with (基準なし).
    Unmeasured,
}

/// One period's count against a goal (期間の回数), with the records behind it.
#[derive(SimpleObject, Clone)]
pub(super) struct EvidenceCount {
    /// The period, e.g. 11月 or 11/23〜11/29.
    pub label: String,
    /// First day counted (JST), inside the materials' period.
    pub from: Date,
    /// Last day counted (JST).
    pub to: Date,
    /// The period lies only partly inside the materials' period (期間途中).
    pub partial_period: bool,
    /// Times (or days) the behaviour happened: only records that say it happened count.
    pub count: i32,
    /// The goal's limit or minimum for the period (基準値), when it has one.
    pub threshold: Option<i32>,
    /// Against the goal.
    pub standing: EvidenceStanding,
    /// The count in words, e.g. 11月: 大声 2回（目標 月2回以下、上限）.
    pub summary: String,
    /// The observations behind the count (回数の根拠).
    pub counted_observations: Vec<Observation>,
    /// Observations of the period saying it did not happen or fell short (なし・未達の記録).
    pub other_observations: Vec<Observation>,
}

/// What one record says about a goal's target (記録の判定).
#[derive(SimpleObject, Clone)]
pub(super) struct JudgedObservation {
    /// The record.
    pub observation: Observation,
    /// Whether it says the behaviour happened (true) or explicitly did not (false).
    pub occurred: bool,
    /// Times it happened by the record (回数).
    pub count: i32,
    /// What it says in a word (判定): あり, なし, 完食, 一部残した, 食べなかった, 眠れた …
    pub label: String,
    /// Counted toward the goal's measure (集計に算入).
    pub counts_toward_goal: bool,
}

/// Materials for the consultation side (素材) for a period: what the facility hands over,
/// built only from records you may see and never from internal notes.
#[derive(SimpleObject, Clone)]
pub(super) struct Materials {
    /// First day of the period (JST).
    pub from: Date,
    /// Last day of the period (JST).
    pub to: Date,
    /// A short summary of the records.
    pub summary: RecordSummary,
    /// Evidence of change with numbers, per tag.
    pub evidence_of_change: Vec<ChangeEvidence>,
    /// Each facility's direction.
    pub facility_directions: Vec<FacilityDirection>,
    /// Signs of risk (リスクの兆し) in the period, newest first.
    pub risk_signs: Vec<Observation>,
    /// Rows for the monitoring report, one per service-use plan goal.
    pub monitoring_rows: Vec<MonitoringRowDraft>,
}

fn n(v: usize) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

impl From<svc::Materials> for Materials {
    fn from(m: svc::Materials) -> Self {
        Self {
            from: Date(m.from),
            to: Date(m.to),
            summary: RecordSummary {
                observation_count: n(m.observation_count),
                counts_by_category: m
                    .counts
                    .into_iter()
                    .map(|(c, k)| CategoryCount {
                        category: c.into(),
                        count: n(k),
                    })
                    .collect(),
                key_facts: m.key_facts.into_iter().map(Observation).collect(),
            },
            evidence_of_change: m
                .trends
                .into_iter()
                .map(|t| ChangeEvidence {
                    summary: format!(
                        "「{}」: 期間中 {}件（週{:.1}件）／直前4週 平均 週{:.1}件{}",
                        t.tag,
                        t.count,
                        t.per_week,
                        t.baseline_per_week,
                        if t.not_occurred_count > 0 {
                            format!("（ほか なしと記録 {}件）", t.not_occurred_count)
                        } else {
                            String::new()
                        }
                    ),
                    not_occurred_count: n(t.not_occurred_count),
                    tag: t.tag,
                    count: n(t.count),
                    per_week: t.per_week,
                    baseline_count: n(t.baseline_count),
                    baseline_per_week: t.baseline_per_week,
                })
                .collect(),
            facility_directions: m
                .directions
                .into_iter()
                .map(|d| FacilityDirection {
                    organization_id: d.organization_id,
                    plan: d.plan.map(SupportPlan),
                    focus_next_month: d.focus_next_month,
                })
                .collect(),
            risk_signs: m.risk_signs.into_iter().map(Observation).collect(),
            monitoring_rows: m
                .monitoring_rows
                .into_iter()
                .map(|r| {
                    let (measure, counts, evidence) =
                        r.evidence.map(row_evidence).unwrap_or_default();
                    MonitoringRowDraft {
                        goal: r.goal,
                        achievement: r.achievement,
                        service_status_from_facility: r.service_status_from_facility,
                        observation_ids: r
                            .observation_ids
                            .into_iter()
                            .map(|id| ids::encode("Observation", id))
                            .collect(),
                        measure,
                        counts,
                        evidence,
                    }
                })
                .collect(),
        }
    }
}

/// A row's evidence for GraphQL, from the records already read (no further loads).
fn row_evidence(
    e: ev::GoalEvidence,
) -> (
    Option<GoalMeasure>,
    Vec<EvidenceCount>,
    Vec<JudgedObservation>,
) {
    let spec = &e.spec;
    let measure = GoalMeasure {
        target: spec.target.label.clone(),
        direction: match spec.direction {
            lang::Direction::AtMost => GoalDirection::AtMost,
            lang::Direction::AtLeast => GoalDirection::AtLeast,
        },
        threshold: spec.threshold.map(|t| i32::try_from(t).unwrap_or(i32::MAX)),
        period: spec.period.map(|p| match p {
            lang::Period::Day => GoalPeriod::Day,
            lang::Period::Week => GoalPeriod::Week,
            lang::Period::Month => GoalPeriod::Month,
        }),
        counts_days: spec.days,
        summary: spec.measure_ja(),
    };
    let of = |ids: &[uuid::Uuid]| -> Vec<Observation> {
        ids.iter()
            .filter_map(|id| e.judged.iter().find(|j| j.observation.id == *id))
            .map(|j| Observation(j.observation.clone()))
            .collect()
    };
    let counts = e
        .tallies
        .iter()
        .map(|t| EvidenceCount {
            label: t.label.clone(),
            from: Date(t.from),
            to: Date(t.to),
            partial_period: t.partial_period,
            count: i32::try_from(t.count).unwrap_or(i32::MAX),
            threshold: spec.threshold.map(|t| i32::try_from(t).unwrap_or(i32::MAX)),
            standing: match t.standing {
                lang::Standing::Met => EvidenceStanding::Met,
                lang::Standing::AtLimit => EvidenceStanding::AtLimit,
                lang::Standing::NotMet => EvidenceStanding::NotMet,
                lang::Standing::Unmeasured => EvidenceStanding::Unmeasured,
            },
            summary: t.summary.clone(),
            counted_observations: of(&t.counted),
            other_observations: of(&t.other),
        })
        .collect();
    let evidence = e
        .judged
        .iter()
        .map(|j| JudgedObservation {
            observation: Observation(j.observation.clone()),
            occurred: j.occurrence.polarity == lang::Polarity::Occurred,
            count: i32::try_from(j.occurrence.count).unwrap_or(i32::MAX),
            label: ev::outcome_label(&spec.target, &j.occurrence).to_owned(),
            counts_toward_goal: spec.counts(&j.occurrence),
        })
        .collect();
    (Some(measure), counts, evidence)
}
