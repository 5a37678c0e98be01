//! Physical restraint records (身体拘束等の記録). The operating standards allow restraint only
//! when all three requirements hold — 切迫性 (imminent danger to life or body), 非代替性 (no
//! other means of care), 一時性 (temporary) — and require the form, the time, the client's
//! condition and the reason to be recorded: a record missing any of them is refused.

use chrono::{DateTime, Utc};
use entity::{
    observation::{RecordStatus, Visibility},
    restraint_record,
};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use uuid::Uuid;

use super::{MAX_TEXT, Target, announce, check_change, facts, follow_up, past_moment, visible};
use crate::service::ClientWrite;
use crate::{
    auth::{Viewer, policy::DataCategory, statutory},
    db,
    error::{ApiError, ApiResult},
    service::Ctx,
    service::{
        events::{EventKind, RecordType},
        optional_text, required_text,
        timeline::EntryKind,
    },
};

/// The longest single restraint a record may report (a longer one is a different measure and
/// must be recorded as several episodes, each re-judged against the three requirements).
const MAX_MINUTES: i64 = 24 * 60;

/// A restraint as reported.
#[derive(Debug, Clone)]
pub struct NewRestraint {
    pub client_id: Uuid,
    /// 態様.
    pub form: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    /// 心身の状況.
    pub client_condition: String,
    /// 切迫性.
    pub urgency: String,
    /// 非代替性.
    pub non_substitutability: String,
    /// 一時性.
    pub temporariness: String,
    pub family_explained_at: Option<DateTime<Utc>>,
    pub family_explanation: Option<String>,
    pub visibility: Visibility,
}

/// The policy's view of a restraint record.
pub fn record_facts(r: &restraint_record::Model) -> crate::auth::policy::AnyRecordFacts {
    facts(
        r.organization_id,
        r.visibility,
        DataCategory::Restraints,
        r.started_at,
    )
}

/// Whole minutes from start to end, rounded up (a 90-second restraint counts as 2 minutes).
fn minutes(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    let secs = (to - from).num_seconds();
    (secs + 59) / 60
}

/// The record as it will be stored, or the first field that is wrong.
fn checked(viewer: &Viewer, n: NewRestraint) -> ApiResult<restraint_record::Model> {
    let form = required_text("form", &n.form, 1000)?;
    let started_at = past_moment("startedAt", n.started_at)?;
    let ended_at = past_moment("endedAt", n.ended_at)?;
    if ended_at <= started_at {
        return Err(ApiError::bad_input(
            "endedAt",
            "endedAt must come after startedAt.",
        ));
    }
    let duration = minutes(started_at, ended_at);
    if duration > MAX_MINUTES {
        return Err(ApiError::bad_input(
            "endedAt",
            "A single restraint record covers at most 24 hours; record each episode.",
        ));
    }
    let client_condition = required_text("clientCondition", &n.client_condition, MAX_TEXT)?;
    let urgency = required_text("urgency", &n.urgency, MAX_TEXT)
        .map_err(|_| requirement("urgency", "切迫性"))?;
    let non_substitutability =
        required_text("nonSubstitutability", &n.non_substitutability, MAX_TEXT)
            .map_err(|_| requirement("nonSubstitutability", "非代替性"))?;
    let temporariness = required_text("temporariness", &n.temporariness, MAX_TEXT)
        .map_err(|_| requirement("temporariness", "一時性"))?;
    let family_explanation = optional_text("familyExplanation", n.family_explanation, MAX_TEXT)?;
    let family_explained_at = follow_up(
        "familyExplainedAt",
        n.family_explained_at,
        started_at,
        "startedAt",
    )?;
    if family_explained_at.is_some() != family_explanation.is_some() {
        return Err(ApiError::bad_input(
            "familyExplanation",
            "Give the explanation to the family (家族への説明) together with when it was given.",
        ));
    }
    let now = crate::service::now();
    Ok(restraint_record::Model {
        id: Uuid::now_v7(),
        client_id: n.client_id,
        organization_id: viewer.organization_id,
        recorder_staff_member_id: viewer.staff_member_id,
        version: 1,
        form,
        started_at,
        ended_at,
        duration_minutes: i32::try_from(duration).unwrap_or(i32::MAX),
        client_condition,
        urgency,
        non_substitutability,
        temporariness,
        family_explained_at,
        family_explanation,
        visibility: n.visibility,
        status: RecordStatus::Current,
        entered_in_error_reason: None,
        recorded_at: now,
        updated_at: now,
    })
}

/// The error for a missing requirement: it names the field and the requirement.
fn requirement(field: &str, label: &str) -> ApiError {
    ApiError::bad_input(
        field,
        format!(
            "{field} ({label}) must be explained: restraint is allowed only when 切迫性・非代替性・一時性 all hold, each with its reason."
        ),
    )
}

/// Records a restraint for the viewer's facility.
pub async fn record(
    state: &Ctx,
    viewer: &Viewer,
    new: NewRestraint,
) -> ApiResult<restraint_record::Model> {
    db::retrying(|| record_once(state, viewer, new.clone())).await
}

async fn record_once(
    state: &Ctx,
    viewer: &Viewer,
    new: NewRestraint,
) -> ApiResult<restraint_record::Model> {
    let txn = ClientWrite::for_client(viewer, new.client_id)
        .open(
            state,
            |_, rel| statutory::can_record_at_facility(rel),
            "Restraint records are written by a facility that serves the client today.",
        )
        .await?;
    let model = checked(viewer, new)?;
    let model = model.into_active_model().insert(&txn).await?;
    announce(
        &txn,
        viewer,
        (
            EntryKind::Restraint,
            EventKind::RestraintRecorded,
            RecordType::RestraintRecord,
        ),
        model.id,
        model.client_id,
        model.started_at,
        model.visibility,
        DataCategory::Restraints,
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// The explanation to the family, given after the record was written (家族への説明).
#[derive(Debug, Clone)]
pub struct FamilyExplanation {
    pub id: Uuid,
    pub expected_version: i32,
    pub explained_at: DateTime<Utc>,
    pub explanation: String,
}

/// Records the explanation to the family on a restraint record that has none yet: its recorder,
/// or a service manager or admin of the facility.
pub async fn explain_to_family(
    state: &Ctx,
    viewer: &Viewer,
    e: FamilyExplanation,
) -> ApiResult<restraint_record::Model> {
    db::retrying(|| explain_once(state, viewer, e.clone())).await
}

async fn explain_once(
    state: &Ctx,
    viewer: &Viewer,
    e: FamilyExplanation,
) -> ApiResult<restraint_record::Model> {
    let explanation = required_text("explanation", &e.explanation, MAX_TEXT)?;
    let txn = db::begin_write(&state.db).await?;
    let r = restraint_record::Entity::find_by_id(e.id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("Restraint record"))?;
    check_change(
        &txn,
        viewer,
        Target {
            what: "Restraint record",
            client_id: r.client_id,
            organization_id: r.organization_id,
            recorder: r.recorder_staff_member_id,
            version: r.version,
            status: r.status,
            facts: record_facts(&r),
            may_change: crate::auth::policy::can_amend_observation,
            refusal: "Only the recorder, or a service manager or admin of the facility, adds the family explanation.",
        },
        e.expected_version,
    )
    .await?;
    if r.family_explained_at.is_some() {
        return Err(ApiError::conflict(
            "The family explanation is already recorded.",
        ));
    }
    let explained_at = follow_up(
        "explainedAt",
        Some(e.explained_at),
        r.started_at,
        "startedAt",
    )?;
    let next = r.version + 1;
    let mut am = r.into_active_model();
    am.version = Set(next);
    am.family_explained_at = Set(explained_at);
    am.family_explanation = Set(Some(explanation));
    am.updated_at = Set(crate::service::now());
    let model = am.update(&txn).await?;
    announce(
        &txn,
        viewer,
        (
            EntryKind::Restraint,
            EventKind::RestraintUpdated,
            RecordType::RestraintRecord,
        ),
        model.id,
        model.client_id,
        model.started_at,
        model.visibility,
        DataCategory::Restraints,
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// One restraint record the viewer may see (the read is audited).
pub async fn get(state: &Ctx, viewer: &Viewer, id: Uuid) -> ApiResult<restraint_record::Model> {
    let found = restraint_record::Entity::find_by_id(id)
        .one(&state.db)
        .await?;
    visible(state, viewer, "Restraint record", found, |r| {
        (r.id, r.client_id, record_facts(r))
    })
    .await
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use entity::{organization::OrganizationKind, staff_member::StaffRole};

    use super::*;

    fn viewer() -> Viewer {
        Viewer {
            staff_member_id: Uuid::now_v7(),
            organization_id: Uuid::now_v7(),
            organization_kind: OrganizationKind::Facility,
            role: StaffRole::FacilityStaff,
            session_id: Uuid::now_v7(),
        }
    }

    fn new() -> NewRestraint {
        let start = Utc::now() - Duration::hours(5);
        NewRestraint {
            client_id: Uuid::now_v7(),
            form: "車椅子のベルト".into(),
            started_at: start,
            ended_at: start + Duration::seconds(90),
            client_condition: "興奮し立ち上がりを繰り返した。".into(),
            urgency: "転倒の危険が差し迫っていた。".into(),
            non_substitutability: "見守りでは防げなかった。".into(),
            temporariness: "落ち着くまでの短時間に限った。".into(),
            family_explained_at: None,
            family_explanation: None,
            visibility: Visibility::Consultation,
        }
    }

    fn field_of(e: ApiError) -> Option<String> {
        match e {
            ApiError::BadUserInput { field, .. } => field,
            _ => None,
        }
    }

    #[test]
    fn statutory_restraint_needs_each_of_the_three_requirements() {
        let ok = checked(&viewer(), new()).unwrap();
        assert_eq!(ok.duration_minutes, 2, "minutes round up");
        for field in ["urgency", "nonSubstitutability", "temporariness"] {
            let mut n = new();
            match field {
                "urgency" => n.urgency = "  ".into(),
                "nonSubstitutability" => n.non_substitutability = String::new(),
                _ => n.temporariness = "\n".into(),
            }
            assert_eq!(
                field_of(checked(&viewer(), n).unwrap_err()).as_deref(),
                Some(field)
            );
        }
    }

    #[test]
    fn statutory_restraint_times_and_family_explanation_are_checked() {
        let mut n = new();
        n.ended_at = n.started_at;
        assert_eq!(
            field_of(checked(&viewer(), n).unwrap_err()).as_deref(),
            Some("endedAt")
        );
        let mut n = new();
        n.ended_at = n.started_at + Duration::hours(25);
        assert!(checked(&viewer(), n).is_err());
        let mut n = new();
        n.family_explanation = Some("電話で説明した。".into());
        assert_eq!(
            field_of(checked(&viewer(), n).unwrap_err()).as_deref(),
            Some("familyExplanation")
        );
        let mut n = new();
        n.family_explanation = Some("電話で説明した。".into());
        n.family_explained_at = Some(n.started_at - Duration::hours(1));
        assert_eq!(
            field_of(checked(&viewer(), n).unwrap_err()).as_deref(),
            Some("familyExplainedAt")
        );
    }
}
