//! Plan checks (計画のチェック): the four-part axis of a plan, the alignment map between the
//! service-use plan's goals and each facility's individual-plan goals, and drift between the
//! two sides' latest achievement ratings for the same goal.
//!
//! Pure functions over plans the caller already filtered by the viewer's scope: what a viewer
//! may not see never enters a check. Goals are matched by character-bigram similarity
//! (`language::similarity`), shown with its score so a reader can judge each pairing.

use entity::{
    monitoring_report,
    support_plan::{self, PlanKind, PlanStatus},
};

use super::documents::{Achievement, MonitoringContent, PlanContent};
use crate::error::ApiResult;
use crate::language::similarity::{COUNTERPART, similarity};

/// One of the four things a plan must bind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AxisPart {
    ClientWishes,
    FamilyWorries,
    FacilityExpertise,
    CommunityResources,
}

/// How one axis part is covered.
#[derive(Debug, Clone)]
pub struct AxisFinding {
    pub part: AxisPart,
    pub text: Option<String>,
    /// For the client's wishes: written in the client's own words (a quotation or a wish in the
    /// first person, 〜したい), not an abstract goal.
    pub own_words: bool,
}

fn present(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The axis of a plan: the axis fields, falling back to the plan's wishes fields.
pub fn axis(c: &PlanContent) -> Vec<AxisFinding> {
    let wishes = present(&c.axis.client_wishes).or_else(|| present(&c.client_wishes));
    let own_words = wishes
        .as_deref()
        .is_some_and(|w| w.contains('「') || w.contains("たい"));
    vec![
        AxisFinding {
            part: AxisPart::ClientWishes,
            text: wishes,
            own_words,
        },
        AxisFinding {
            part: AxisPart::FamilyWorries,
            text: present(&c.axis.family_worries).or_else(|| present(&c.family_wishes)),
            own_words: false,
        },
        AxisFinding {
            part: AxisPart::FacilityExpertise,
            text: present(&c.axis.facility_expertise),
            own_words: false,
        },
        AxisFinding {
            part: AxisPart::CommunityResources,
            text: present(&c.axis.community_resources),
            own_words: false,
        },
    ]
}

/// A goal of a plan, with where it stands.
#[derive(Debug, Clone)]
pub struct GoalRef {
    pub plan: support_plan::Model,
    /// `goals.0.text`, `needs.1.supportGoal` …
    pub field: String,
    pub text: String,
    /// Goal rows carry one; need rows do not.
    pub achievement: Option<Achievement>,
    /// For a need row: the provider named for it (提供事業者).
    pub provider: Option<uuid::Uuid>,
}

fn goals_of(plan: &support_plan::Model) -> ApiResult<Vec<GoalRef>> {
    let c = super::plans::content_of(&plan.content)?;
    let mut out: Vec<GoalRef> = c
        .goals
        .iter()
        .enumerate()
        .map(|(i, g)| GoalRef {
            plan: plan.clone(),
            field: format!("goals.{i}.text"),
            text: g.text.clone(),
            achievement: Some(g.achievement),
            provider: None,
        })
        .collect();
    out.extend(c.needs.iter().enumerate().map(|(i, n)| GoalRef {
        plan: plan.clone(),
        field: format!("needs.{i}.supportGoal"),
        text: n.support_goal.clone(),
        achievement: None,
        provider: n.provider_organization_id.map(|r| r.0),
    }));
    Ok(out)
}

/// A facility goal paired with a service-use goal.
#[derive(Debug, Clone)]
pub struct Counterpart {
    pub goal: GoalRef,
    pub similarity: f64,
    /// Paired because the need row names this goal's facility as its provider (rather than
    /// by the words they share).
    pub by_provider: bool,
}

/// One service-use goal and its counterparts.
#[derive(Debug, Clone)]
pub struct AlignedGoal {
    pub goal: GoalRef,
    pub counterparts: Vec<Counterpart>,
    /// The consultation side's latest rating: the newest monitoring report's row for this goal,
    /// else the goal's own achievement.
    pub consultation_rating: Option<Achievement>,
    pub rated_in_report: Option<monitoring_report::Model>,
}

/// Ratings of the same goal that disagree.
#[derive(Debug, Clone)]
pub struct Drift {
    pub service_use_goal: GoalRef,
    pub facility_goal: GoalRef,
    pub consultation: Achievement,
    pub facility: Achievement,
}

/// The alignment map of a client's plans.
#[derive(Debug, Clone, Default)]
pub struct Alignment {
    pub service_use_plan: Option<support_plan::Model>,
    pub individual_plans: Vec<support_plan::Model>,
    pub goals: Vec<AlignedGoal>,
    /// Facility goals with no counterpart in the service-use plan.
    pub unmatched_facility_goals: Vec<GoalRef>,
    pub drifts: Vec<Drift>,
}

/// The plan in force of a kind: the active one, else the newest proposal.
fn in_force(
    plans: &[support_plan::Model],
    pred: impl Fn(&support_plan::Model) -> bool,
) -> Option<&support_plan::Model> {
    plans
        .iter()
        .filter(|p| pred(p))
        .find(|p| p.status == PlanStatus::Active)
        .or_else(|| {
            plans
                .iter()
                .filter(|p| pred(p))
                .find(|p| p.status == PlanStatus::Proposed)
        })
}

fn assessed(a: Achievement) -> bool {
    !matches!(a, Achievement::NotAssessed)
}

/// Builds the alignment map from visible plans (newest first) and visible monitoring reports
/// (newest first).
pub fn align(
    plans: &[support_plan::Model],
    reports: &[monitoring_report::Model],
) -> ApiResult<Alignment> {
    let sup = in_force(plans, |p| p.kind == PlanKind::ServiceUsePlan).cloned();
    let mut facilities: Vec<support_plan::Model> = Vec::new();
    for p in plans
        .iter()
        .filter(|p| p.kind == PlanKind::IndividualSupportPlan)
    {
        if !facilities
            .iter()
            .any(|f| f.organization_id == p.organization_id)
            && let Some(f) = in_force(plans, |q| {
                q.kind == PlanKind::IndividualSupportPlan && q.organization_id == p.organization_id
            })
        {
            facilities.push(f.clone());
        }
    }
    let mut facility_goals: Vec<GoalRef> = Vec::new();
    for f in &facilities {
        facility_goals.extend(goals_of(f)?);
    }
    let latest_report = reports.first();
    let rows: Vec<(String, Achievement)> = match latest_report {
        Some(r) => super::documents::stored::<MonitoringContent>("monitoring report", &r.content)?
            .goal_rows
            .into_iter()
            .map(|row| (row.goal, row.achievement))
            .collect(),
        None => Vec::new(),
    };

    let mut matched = vec![false; facility_goals.len()];
    let mut out = Alignment {
        service_use_plan: sup.clone(),
        individual_plans: facilities.clone(),
        ..Default::default()
    };
    for goal in sup.as_ref().map(goals_of).transpose()?.unwrap_or_default() {
        let mut counterparts: Vec<Counterpart> = Vec::new();
        for (i, f) in facility_goals.iter().enumerate() {
            let s = similarity(&goal.text, &f.text);
            let by_provider = goal.provider == Some(f.plan.organization_id);
            if s >= COUNTERPART || by_provider {
                matched[i] = true;
                counterparts.push(Counterpart {
                    goal: f.clone(),
                    similarity: s,
                    by_provider,
                });
            }
        }
        counterparts.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
        let from_report = rows
            .iter()
            .map(|(text, a)| (similarity(&goal.text, text), *a))
            .filter(|(s, _)| *s >= COUNTERPART)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, a)| a);
        let consultation_rating = from_report.or(goal.achievement);
        for c in &counterparts {
            if let (Some(cons), Some(fac)) = (consultation_rating, c.goal.achievement)
                && assessed(cons)
                && assessed(fac)
                && cons != fac
            {
                out.drifts.push(Drift {
                    service_use_goal: goal.clone(),
                    facility_goal: c.goal.clone(),
                    consultation: cons,
                    facility: fac,
                });
            }
        }
        out.goals.push(AlignedGoal {
            rated_in_report: from_report.and(latest_report.cloned()),
            goal,
            counterparts,
            consultation_rating,
        });
    }
    out.unmatched_facility_goals = facility_goals
        .into_iter()
        .zip(matched)
        .filter(|(_, m)| !m)
        .map(|(g, _)| g)
        .collect();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::documents::{ExpressedBy, NeedRow, PlanGoal};
    use chrono::Utc;
    use uuid::Uuid;

    fn plan(
        kind: PlanKind,
        org: Uuid,
        goals: &[(&str, Achievement)],
        needs: &[(&str, Option<Uuid>)],
    ) -> support_plan::Model {
        let content = PlanContent {
            goals: goals
                .iter()
                .map(|(t, a)| PlanGoal {
                    text: (*t).into(),
                    expressed_by: ExpressedBy::Facility,
                    achievement: *a,
                    target_date: None,
                    ..Default::default()
                })
                .collect(),
            needs: needs
                .iter()
                .map(|(t, provider)| NeedRow {
                    priority: 1,
                    need: "課題".into(),
                    support_goal: (*t).into(),
                    target_date: None,
                    service_type: None,
                    service_content: None,
                    amount: None,
                    provider_organization_id: provider
                        .map(crate::service::documents::OrganizationRef),
                    client_role: None,
                    evaluation_date: None,
                    notes: None,
                })
                .collect(),
            ..Default::default()
        };
        let now = Utc::now();
        support_plan::Model {
            id: Uuid::now_v7(),
            client_id: Uuid::nil(),
            organization_id: org,
            kind,
            based_on_plan_id: None,
            status: PlanStatus::Active,
            version: 1,
            service_type: None,
            period_from: now.date_naive(),
            period_to: None,
            activated_on: None,
            content: serde_json::to_value(content).unwrap_or_default(),
            record: serde_json::json!({}),
            created_by_staff_member_id: Uuid::nil(),
            created_at: now,
            updated_by_staff_member_id: Uuid::nil(),
            updated_at: now,
            external_id: None,
        }
    }

    #[test]
    fn goals_pair_by_words_or_provider_and_disagreeing_ratings_are_drift() {
        let (office, a, b) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let sup = plan(
            PlanKind::ServiceUsePlan,
            office,
            &[(
                "一人でバスに乗って通所できるようになる",
                Achievement::Improving,
            )],
            &[("夜間に安心して眠れる", Some(b))],
        );
        let fa = plan(
            PlanKind::IndividualSupportPlan,
            a,
            &[
                (
                    "バスに一人で乗って通所する練習をする",
                    Achievement::Worsening,
                ),
                ("昼食を残さず食べる", Achievement::Improving),
            ],
            &[],
        );
        let fb = plan(
            PlanKind::IndividualSupportPlan,
            b,
            &[(
                "21時以降の見回りの声かけを小さくする",
                Achievement::NoChange,
            )],
            &[],
        );
        let al = align(&[sup, fa, fb], &[]).unwrap();
        assert_eq!(al.individual_plans.len(), 2);
        let bus = &al.goals[0];
        assert_eq!(bus.counterparts.len(), 1);
        assert!(!bus.counterparts[0].by_provider);
        let night = &al.goals[1];
        assert_eq!(night.counterparts.len(), 1);
        assert!(night.counterparts[0].by_provider);
        let unmatched: Vec<&str> = al
            .unmatched_facility_goals
            .iter()
            .map(|g| g.text.as_str())
            .collect();
        assert_eq!(unmatched, vec!["昼食を残さず食べる"]);
        assert_eq!(al.drifts.len(), 1);
        assert_eq!(al.drifts[0].consultation, Achievement::Improving);
        assert_eq!(al.drifts[0].facility, Achievement::Worsening);
    }

    #[test]
    fn the_axis_notices_missing_parts_and_wishes_not_in_the_clients_words() {
        let mut c = PlanContent {
            client_wishes: Some("安定した生活".into()),
            ..Default::default()
        };
        let a = axis(&c);
        assert!(a[0].text.is_some() && !a[0].own_words);
        assert!(a[1..].iter().all(|x| x.text.is_none()));
        c.client_wishes = Some("「一人暮らしをしたい」".into());
        assert!(axis(&c)[0].own_words);
    }
}
