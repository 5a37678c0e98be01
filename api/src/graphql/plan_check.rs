//! Plan checks (計画のチェック) over GraphQL: axis completeness, the alignment map between the
//! service-use plan and the individual plans, and rating drift.

use async_graphql::{Context, Enum, SimpleObject};

use super::{Organization, plan::SupportPlan, scalars::Date};
use crate::service::{
    documents::{Achievement, PlanContent},
    plan_checks::{self, AxisPart},
};

/// One of the four things a plan must bind (計画の軸).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum PlanAxisPart {
    /// The client's wishes, in their own words (本人の希望).
    ClientWishes,
    /// The family's worries (家族の不安).
    FamilyWorries,
    /// The facility's expertise (事業所の専門性).
    FacilityExpertise,
    /// Links to community resources (地域資源との接続).
    CommunityResources,
}

/// How a plan covers one axis part.
#[derive(SimpleObject, Clone)]
pub(super) struct AxisCheck {
    /// The part.
    pub part: PlanAxisPart,
    /// True when the plan says something about it.
    pub present: bool,
    /// What it says.
    pub text: Option<String>,
    /// For the client's wishes: written in the client's own words (a quotation or a first-person
    /// wish, 〜したい) rather than an abstract goal. False for the other parts.
    pub in_own_words: bool,
    /// What to add, when something is missing (空欄の指摘); null when covered.
    pub advice: Option<String>,
}

pub(super) fn axis_checks(c: &PlanContent) -> Vec<AxisCheck> {
    plan_checks::axis(c)
        .into_iter()
        .map(|a| {
            let part = match a.part {
                AxisPart::ClientWishes => PlanAxisPart::ClientWishes,
                AxisPart::FamilyWorries => PlanAxisPart::FamilyWorries,
                AxisPart::FacilityExpertise => PlanAxisPart::FacilityExpertise,
                AxisPart::CommunityResources => PlanAxisPart::CommunityResources,
            };
            let advice = match (a.part, &a.text, a.own_words) {
                (AxisPart::ClientWishes, None, _) => {
                    Some("本人の希望を、本人の言葉（「」）で書いてください。")
                }
                (AxisPart::ClientWishes, Some(_), false) => {
                    Some("本人の希望が本人の言葉になっていません。「」で本人の言ったことを書いてください。")
                }
                (AxisPart::FamilyWorries, None, _) => {
                    Some("家族の不安・意向を、本人の希望とは分けて書いてください。")
                }
                (AxisPart::FacilityExpertise, None, _) => {
                    Some("事業所の専門性（何を、どう支援できるか）を書いてください。")
                }
                (AxisPart::CommunityResources, None, _) => {
                    Some("地域資源（サービス以外の場・人・制度）とのつながりを書いてください。")
                }
                _ => None,
            };
            AxisCheck {
                part,
                present: a.text.is_some(),
                in_own_words: a.own_words,
                text: a.text,
                advice: advice.map(str::to_owned),
            }
        })
        .collect()
}

/// A goal of a plan, with where it stands.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub(super) struct PlanGoalRef {
    /// The plan.
    pub plan: SupportPlan,
    /// The field the goal stands in (`goals.0.text`, `needs.1.supportGoal`).
    pub field: String,
    /// The goal.
    pub text: String,
    /// Its achievement, for goal rows (need rows carry none).
    pub achievement: Option<Achievement>,
    /// How alike it is to the goal it is paired with, 0–1 (character bigrams); null where
    /// there is no pairing.
    pub similarity: Option<f64>,
    /// Why it is paired: the need row names its facility as provider, or their words are alike
    /// (similarity at least 0.15); null where there is no pairing.
    pub paired_by: Option<GoalPairing>,
}

/// Why two goals are paired in the alignment map.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum GoalPairing {
    /// The service-use plan's need row names this facility as its provider (提供事業者).
    Provider,
    /// Their words are alike (character bigrams).
    SimilarWords,
}

#[async_graphql::ComplexObject]
impl PlanGoalRef {
    /// The organization whose plan it is.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        Organization::load(ctx, self.plan.0.organization_id).await
    }
}

impl PlanGoalRef {
    fn new(g: plan_checks::GoalRef, similarity: Option<f64>) -> Self {
        Self::paired(g, similarity, None)
    }

    fn paired(
        g: plan_checks::GoalRef,
        similarity: Option<f64>,
        paired_by: Option<GoalPairing>,
    ) -> Self {
        Self {
            paired_by,
            plan: SupportPlan(g.plan),
            field: g.field,
            text: g.text,
            achievement: g.achievement,
            similarity: similarity.map(|s| (s * 100.0).round() / 100.0),
        }
    }
}

/// A service-use plan goal with the facility goals that pursue it.
#[derive(SimpleObject, Clone)]
pub(super) struct AlignedGoal {
    /// The service-use plan's goal.
    pub goal: PlanGoalRef,
    /// Facility goals that pursue it, most alike first; empty when no facility plan does.
    pub counterparts: Vec<PlanGoalRef>,
    /// The consultation side's latest rating (the newest monitoring report's row for it, else
    /// the goal's own achievement).
    pub consultation_rating: Option<Achievement>,
    /// The date of the monitoring report that rated it, when one did.
    pub rated_on: Option<Date>,
}

/// The two sides rate the same goal differently (評価のずれ).
#[derive(SimpleObject, Clone)]
pub(super) struct AchievementDrift {
    /// The service-use plan's goal.
    pub service_use_goal: PlanGoalRef,
    /// The facility's goal paired with it.
    pub facility_goal: PlanGoalRef,
    /// The consultation side's latest rating.
    pub consultation_rating: Achievement,
    /// The facility's rating.
    pub facility_rating: Achievement,
}

/// The alignment map (目標の対応表) between the service-use plan and each facility's individual
/// plan, built only from plans and reports you may see.
#[derive(SimpleObject, Clone)]
pub(super) struct PlanAlignment {
    /// The service-use plan in force (active, else the newest proposal); null when none is
    /// visible to you.
    pub service_use_plan: Option<SupportPlan>,
    /// Each facility's individual plan in force.
    pub individual_plans: Vec<SupportPlan>,
    /// Every service-use goal with its counterparts; goals with none need a facility plan row.
    pub goals: Vec<AlignedGoal>,
    /// Facility goals with no counterpart in the service-use plan.
    pub unmatched_facility_goals: Vec<PlanGoalRef>,
    /// Goals the two sides rate differently.
    pub drifts: Vec<AchievementDrift>,
}

/// The alignment map of a client, from the request's scope-filtered plans and reports.
pub(super) async fn alignment(
    ctx: &Context<'_>,
    client_id: uuid::Uuid,
) -> async_graphql::Result<PlanAlignment> {
    let plans: Vec<_> = super::plan::client_plans(ctx, client_id)
        .await?
        .into_iter()
        .map(|p| p.0)
        .collect();
    let reports: Vec<_> = super::meeting::client_reports(ctx, client_id)
        .await?
        .into_iter()
        .map(|r| r.0)
        .collect();
    let a = plan_checks::align(&plans, &reports)?;
    Ok(PlanAlignment {
        service_use_plan: a.service_use_plan.map(SupportPlan),
        individual_plans: a.individual_plans.into_iter().map(SupportPlan).collect(),
        goals: a
            .goals
            .into_iter()
            .map(|g| AlignedGoal {
                goal: PlanGoalRef::new(g.goal, None),
                counterparts: g
                    .counterparts
                    .into_iter()
                    .map(|c| {
                        let by = if c.by_provider {
                            GoalPairing::Provider
                        } else {
                            GoalPairing::SimilarWords
                        };
                        PlanGoalRef::paired(c.goal, Some(c.similarity), Some(by))
                    })
                    .collect(),
                consultation_rating: g.consultation_rating,
                rated_on: g.rated_in_report.map(|r| Date(r.monitored_on)),
            })
            .collect(),
        unmatched_facility_goals: a
            .unmatched_facility_goals
            .into_iter()
            .map(|g| PlanGoalRef::new(g, None))
            .collect(),
        drifts: a
            .drifts
            .into_iter()
            .map(|d| AchievementDrift {
                service_use_goal: PlanGoalRef::new(d.service_use_goal, None),
                facility_goal: PlanGoalRef::new(d.facility_goal, None),
                consultation_rating: d.consultation,
                facility_rating: d.facility,
            })
            .collect(),
    })
}
