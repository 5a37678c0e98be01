//! Unit tests of the plan rules that need no database.

use chrono::NaiveDate;
use entity::support_plan::{self, PlanKind, PlanStatus};
use uuid::Uuid;

use super::{quarterly_review, review_due};

fn plan(service_type: Option<&str>) -> support_plan::Model {
    let now = chrono::Utc::now();
    support_plan::Model {
        id: Uuid::nil(),
        client_id: Uuid::nil(),
        organization_id: Uuid::nil(),
        kind: PlanKind::IndividualSupportPlan,
        based_on_plan_id: None,
        status: PlanStatus::Active,
        version: 3,
        service_type: service_type.map(str::to_owned),
        period_from: day(2026, 4, 1),
        period_to: None,
        activated_on: Some(day(2026, 4, 1)),
        content: serde_json::json!({}),
        record: serde_json::json!({}),
        created_by_staff_member_id: Uuid::nil(),
        created_at: now,
        updated_by_staff_member_id: Uuid::nil(),
        updated_at: now,
        external_id: None,
    }
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn plans_review_every_three_months_for_every_kind_of_independence_and_transition_training() {
    for s in [
        "就労移行支援",
        "就労移行支援（養成施設）",
        "自立訓練",
        "自立訓練（生活訓練）",
        "自立訓練(機能訓練)",
        "宿泊型自立訓練",
        "宿泊型 自立訓練",
    ] {
        assert!(quarterly_review(s), "{s}");
        assert_eq!(review_due(&plan(Some(s))), Some(day(2026, 7, 1)), "{s}");
    }
    for s in [
        "就労継続支援B型",
        "生活介護",
        "共同生活援助",
        "就労定着支援",
    ] {
        assert!(!quarterly_review(s), "{s}");
        assert_eq!(review_due(&plan(Some(s))), Some(day(2026, 10, 1)), "{s}");
    }
    assert_eq!(review_due(&plan(None)), Some(day(2026, 10, 1)));
}

#[test]
fn only_active_individual_plans_have_a_review_date() {
    let mut p = plan(Some("宿泊型自立訓練"));
    p.status = PlanStatus::Proposed;
    assert_eq!(review_due(&p), None);
    let mut p = plan(Some("宿泊型自立訓練"));
    p.kind = PlanKind::ServiceUsePlan;
    assert_eq!(review_due(&p), None);
}
