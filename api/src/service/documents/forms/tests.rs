//! Unit tests of the form fields' validation.

use serde_json::json;

use crate::service::documents::{Minutes, MonitoringContent, PlanContent};

fn field_of(r: crate::error::ApiResult<()>) -> String {
    match r {
        Err(crate::error::ApiError::BadUserInput { field, .. }) => field.unwrap_or_default(),
        other => panic!("expected BAD_USER_INPUT, got {other:?}"),
    }
}

/// Plan content with the fields every stored row has, and `v`'s.
fn plan(v: serde_json::Value) -> PlanContent {
    serde_json::from_value(with(json!({ "axis": {}, "goals": [], "needs": [] }), v)).unwrap()
}

/// `base` with the fields of `extra` added.
fn with(base: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    let mut base = base;
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    base
}

#[test]
fn rows_written_before_the_form_fields_still_decode() {
    let old: PlanContent = plan(json!({
        "clientWishes": "「働きたい」", "axis": {}, "goals": [{ "text": "週4日通う", "expressedBy": "CLIENT", "achievement": "IMPROVING" }],
        "needs": [], "weeklySchedule": "月〜金 作業所"
    }));
    assert!(old.child_plan.is_none() && old.weekly_plan.is_none());
    assert_eq!(old.goals[0].priority, None);
    old.validate().unwrap();
    let m: MonitoringContent = serde_json::from_value(json!({
        "overallSituation": "通えている", "goalRows": [{ "goal": "g", "achievement": "IMPROVING" }],
        "changeServiceType": false, "changeAmount": false, "changeWeeklySchedule": false
    }))
    .unwrap();
    assert!(!m.goal_rows[0].change_amount && m.visit.is_none());
    let minutes: Minutes =
        serde_json::from_value(json!({ "discussion": "d", "decisions": [] })).unwrap();
    assert!(minutes.enquiries.is_empty() && minutes.ended_at.is_none());
}

#[test]
fn a_childrens_plan_names_the_guardian() {
    let p = plan(json!({ "childPlan": { "dayServiceCertificateNumber": "1310000001" } }));
    assert_eq!(field_of(p.validate()), "content.childPlan.guardianName");
    let p = plan(json!({ "childPlan": { "guardianName": "  " } }));
    assert_eq!(field_of(p.validate()), "content.childPlan.guardianName");
    let p = plan(
        json!({ "childPlan": { "guardianName": "佐々木 恵", "dayServiceCertificateNumber": "13-1" } }),
    );
    assert_eq!(
        field_of(p.validate()),
        "content.childPlan.dayServiceCertificateNumber"
    );
    let p = plan(
        json!({ "childPlan": { "guardianName": "佐々木 恵", "guardianRelationship": "母", "dayServiceCertificateNumber": "1310000001" } }),
    );
    p.validate().unwrap();
    assert_eq!(
        field_of(p.validate_for(entity::support_plan::PlanKind::IndividualSupportPlan)),
        "content.childPlan"
    );
}

#[test]
fn the_weekly_grid_takes_weekdays_and_times_that_exist() {
    let slot = |from: &str, to: &str| json!({ "weekday": "MONDAY", "startTime": from, "endTime": to, "activity": "就労継続支援B型", "service": true });
    for (slots, field) in [
        (
            vec![slot("25:00", "26:00")],
            "content.weeklyPlan.slots.startTime",
        ),
        (
            vec![slot("9:30", "15:00")],
            "content.weeklyPlan.slots.startTime",
        ),
        (
            vec![slot("09:30", "15:60")],
            "content.weeklyPlan.slots.endTime",
        ),
        (
            vec![slot("15:00", "09:30")],
            "content.weeklyPlan.slots.endTime",
        ),
        (
            vec![slot("09:30", "15:00"), slot("14:00", "16:00")],
            "content.weeklyPlan.slots",
        ),
    ] {
        let p = plan(json!({ "weeklyPlan": { "slots": slots } }));
        assert_eq!(field_of(p.validate()), field, "{slots:?}");
    }
    let p = plan(
        json!({ "weeklyPlan": { "slots": [slot("09:30", "15:00"), slot("15:00", "16:00")], "nonWeeklyServices": "短期入所 月2回" } }),
    );
    p.validate().unwrap();
    assert!(
        serde_json::from_value::<PlanContent>(with(
            json!({ "axis": {}, "goals": [], "needs": [] }),
            json!({ "weeklyPlan": { "slots": [{ "weekday": "FUNDAY", "startTime": "09:00", "endTime": "10:00", "activity": "x" }] } })
        ))
        .is_err()
    );
}

#[test]
fn support_category_and_goal_rows_are_in_range() {
    let p = plan(json!({ "supportCategory": { "category": 7 } }));
    assert_eq!(field_of(p.validate()), "content.supportCategory.category");
    let p = plan(
        json!({ "supportCategory": { "category": 4, "validFrom": "2026-04-01", "validUntil": "2026-03-31" } }),
    );
    assert_eq!(field_of(p.validate()), "content.supportCategory.validUntil");
    let p = plan(
        json!({ "goals": [{ "text": "t", "expressedBy": "CLIENT", "achievement": "NOT_ASSESSED", "priority": 0 }] }),
    );
    assert_eq!(field_of(p.validate()), "content.goals.priority");
}

#[test]
fn absent_client_or_family_needs_a_reason_and_enquiries_are_answered_after_asked() {
    let m = |v: serde_json::Value| -> Minutes {
        serde_json::from_value(with(json!({ "discussion": "d", "decisions": [] }), v)).unwrap()
    };
    assert_eq!(
        field_of(m(json!({ "clientAttended": false })).validate()),
        "minutes.clientAbsenceReason"
    );
    assert_eq!(
        field_of(
            m(json!({ "clientAttended": true, "familyAttended": false, "familyAbsenceReason": " " }))
                .validate()
        ),
        "minutes.familyAbsenceReason"
    );
    m(json!({ "clientAttended": false, "clientAbsenceReason": "体調不良のため。事前に意向を聞き取った。" }))
        .validate()
        .unwrap();
    assert_eq!(
        field_of(
            m(json!({ "startedAt": "2026-11-20T05:00:00Z", "endedAt": "2026-11-20T04:00:00Z" }))
                .validate()
        ),
        "minutes.endedAt"
    );
    assert_eq!(
        field_of(
            m(json!({ "enquiries": [{ "addressee": "こもれび 伊藤", "askedOn": "2026-11-18", "answeredOn": "2026-11-17" }] }))
                .validate()
        ),
        "minutes.enquiries.answeredOn"
    );
    assert_eq!(
        field_of(m(json!({ "meetingNumber": 0 })).validate()),
        "minutes.meetingNumber"
    );
}

#[test]
fn a_monitoring_visit_names_who_was_met() {
    let c = |v: serde_json::Value| -> MonitoringContent {
        serde_json::from_value(with(
            json!({ "overallSituation": "s", "goalRows": [], "changeServiceType": false, "changeAmount": false, "changeWeeklySchedule": false }),
            v,
        ))
        .unwrap()
    };
    assert_eq!(
        field_of(
            c(json!({ "visit": { "place": "HOME_VISIT", "metWith": [], "metClient": true } }))
                .validate()
        ),
        "content.visit.metWith"
    );
    assert_eq!(
        field_of(
            c(json!({ "clientConfirmation": { "confirmedOn": "2099-01-01", "confirmedBy": "本人" } }))
                .validate()
        ),
        "content.clientConfirmation.confirmedOn"
    );
    c(json!({ "visit": { "place": "ONLINE", "metWith": ["本人", "母"], "metClient": true },
              "goalRows": [{ "goal": "g", "achievement": "IMPROVING", "priority": 1, "changeAmount": true, "otherNotes": "通院日と重ならないように" }] }))
        .validate()
        .unwrap();
}
