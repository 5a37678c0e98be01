//! Materials for the consultation side (素材) over GraphQL.

use async_graphql::{Context, ID, SimpleObject};

use super::{
    Organization, ids,
    observation::{Observation, ObservationCategory},
    plan::SupportPlan,
    scalars::Date,
};
use crate::service::{documents::Achievement, materials as svc};

/// How many observations of a category the period holds.
#[derive(SimpleObject, Clone)]
pub struct CategoryCount {
    /// The category.
    pub category: ObservationCategory,
    /// How many.
    pub count: i32,
}

/// A short summary of the records (記録の要約).
#[derive(SimpleObject, Clone)]
pub struct RecordSummary {
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
pub struct ChangeEvidence {
    /// The tag (タグ), e.g. 大声.
    pub tag: String,
    /// Tagged observations in the period.
    pub count: i32,
    /// The same per week.
    pub per_week: f64,
    /// Tagged observations in the 4 weeks before the period.
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
pub struct FacilityDirection {
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
pub struct MonitoringRowDraft {
    /// The service-use plan's goal.
    pub goal: String,
    /// The consultation side's latest rating, to confirm.
    pub achievement: Achievement,
    /// Service status as heard from the facility (サービス提供状況・事業者からの聞き取り): the
    /// facility goals that pursue it with their ratings, and related facility records.
    pub service_status_from_facility: String,
    /// The observations quoted.
    pub observation_ids: Vec<ID>,
}

/// Materials for the consultation side (素材) for a period: what the facility hands over,
/// built only from records you may see and never from internal notes.
#[derive(SimpleObject, Clone)]
pub struct Materials {
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
                        "「{}」: 期間中 {}件（週{:.1}件）／直前4週 平均 週{:.1}件",
                        t.tag, t.count, t.per_week, t.baseline_per_week
                    ),
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
                    focus_next_month: d
                        .latest_brief
                        .as_ref()
                        .map(svc::brief_focus)
                        .unwrap_or_default(),
                })
                .collect(),
            risk_signs: m.risk_signs.into_iter().map(Observation).collect(),
            monitoring_rows: m
                .monitoring_rows
                .into_iter()
                .map(|r| MonitoringRowDraft {
                    goal: r.goal,
                    achievement: r.achievement,
                    service_status_from_facility: r.service_status_from_facility,
                    observation_ids: r
                        .observation_ids
                        .into_iter()
                        .map(|id| ids::encode("Observation", id))
                        .collect(),
                })
                .collect(),
        }
    }
}
