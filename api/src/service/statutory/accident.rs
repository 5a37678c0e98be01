//! Accident and near-miss reports (事故・ヒヤリハット報告): when and where it happened, what
//! happened, what staff did, when the family and the municipality were told, and what will keep
//! it from happening again. Reporting deadlines run from when it happened (`occurred_at`), the
//! time it was written is kept apart (DOMAIN.md §4). Which accidents a municipality wants
//! reported is its own rule (data it publishes, not a national constant), so the municipal
//! report is optional here and the audit summary lists accidents without one.

use chrono::{DateTime, Utc};
use entity::{
    accident_report::{self, AccidentKind},
    observation::{RecordStatus, Visibility},
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

/// An accident or near miss as reported.
#[derive(Debug, Clone)]
pub struct NewAccident {
    pub client_id: Uuid,
    pub kind: AccidentKind,
    /// 発生日時.
    pub occurred_at: DateTime<Utc>,
    /// 場所.
    pub place: String,
    /// 状況.
    pub situation: String,
    /// 対応.
    pub response: String,
    /// 家族への報告.
    pub family_reported_at: Option<DateTime<Utc>>,
    /// 市町村への報告.
    pub municipality_reported_at: Option<DateTime<Utc>>,
    /// 再発防止策.
    pub prevention_measures: Option<String>,
    pub visibility: Visibility,
}

/// The policy's view of an accident report.
pub fn record_facts(a: &accident_report::Model) -> crate::auth::policy::AnyRecordFacts {
    facts(
        a.organization_id,
        a.visibility,
        DataCategory::Accidents,
        a.occurred_at,
    )
}

/// The report as it will be stored, or the first field that is wrong.
fn checked(viewer: &Viewer, n: NewAccident) -> ApiResult<accident_report::Model> {
    let occurred_at = past_moment("occurredAt", n.occurred_at)?;
    let place = required_text("location", &n.place, 500)?;
    let situation = required_text("situation", &n.situation, MAX_TEXT)?;
    let response = required_text("actionTaken", &n.response, MAX_TEXT)?;
    let family_reported_at = follow_up(
        "familyReportedAt",
        n.family_reported_at,
        occurred_at,
        "occurredAt",
    )?;
    let municipality_reported_at = follow_up(
        "municipalityReportedAt",
        n.municipality_reported_at,
        occurred_at,
        "occurredAt",
    )?;
    if n.kind == AccidentKind::NearMiss && municipality_reported_at.is_some() {
        return Err(ApiError::bad_input(
            "municipalityReportedAt",
            "A near miss (ヒヤリハット) harmed no one and is not reported to the municipality; record it as an ACCIDENT if it was.",
        ));
    }
    let prevention_measures = optional_text("preventionMeasures", n.prevention_measures, MAX_TEXT)?;
    let now = crate::service::now();
    Ok(accident_report::Model {
        id: Uuid::now_v7(),
        client_id: n.client_id,
        organization_id: viewer.organization_id,
        recorder_staff_member_id: viewer.staff_member_id,
        version: 1,
        kind: n.kind,
        occurred_at,
        place,
        situation,
        response,
        family_reported_at,
        municipality_reported_at,
        prevention_measures,
        visibility: n.visibility,
        status: RecordStatus::Current,
        entered_in_error_reason: None,
        recorded_at: now,
        updated_at: now,
    })
}

/// Records an accident or near miss for the viewer's facility.
pub async fn record(
    state: &Ctx,
    viewer: &Viewer,
    new: NewAccident,
) -> ApiResult<accident_report::Model> {
    db::retrying(|| record_once(state, viewer, new.clone())).await
}

async fn record_once(
    state: &Ctx,
    viewer: &Viewer,
    new: NewAccident,
) -> ApiResult<accident_report::Model> {
    let txn = ClientWrite::for_client(viewer, new.client_id)
        .open(
            state,
            |_, rel| statutory::can_record_at_facility(rel),
            "Accident reports are written by a facility that serves the client today.",
        )
        .await?;
    let model = checked(viewer, new)?;
    let model = model.into_active_model().insert(&txn).await?;
    announce(
        &txn,
        viewer,
        (
            EntryKind::Accident,
            EventKind::AccidentReported,
            RecordType::AccidentReport,
        ),
        model.id,
        model.client_id,
        model.occurred_at,
        model.visibility,
        DataCategory::Accidents,
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// What happened after the report (報告・再発防止策の追記): each given value replaces the stored
/// one; `None` keeps it.
#[derive(Debug, Clone)]
pub struct FollowUp {
    pub id: Uuid,
    pub expected_version: i32,
    pub family_reported_at: Option<DateTime<Utc>>,
    pub municipality_reported_at: Option<DateTime<Utc>>,
    pub prevention_measures: Option<String>,
}

/// Adds the reports to the family and the municipality and the measures against recurrence to
/// an accident report: its recorder, or a service manager or admin of the facility.
pub async fn follow_up_report(
    state: &Ctx,
    viewer: &Viewer,
    f: FollowUp,
) -> ApiResult<accident_report::Model> {
    db::retrying(|| follow_up_once(state, viewer, f.clone())).await
}

async fn follow_up_once(
    state: &Ctx,
    viewer: &Viewer,
    f: FollowUp,
) -> ApiResult<accident_report::Model> {
    if f.family_reported_at.is_none()
        && f.municipality_reported_at.is_none()
        && f.prevention_measures.is_none()
    {
        return Err(ApiError::bad_input(
            "familyReportedAt",
            "Give at least one of familyReportedAt, municipalityReportedAt and preventionMeasures.",
        ));
    }
    let txn = db::begin_write(&state.db).await?;
    let a = accident_report::Entity::find_by_id(f.id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("Accident report"))?;
    check_change(
        &txn,
        viewer,
        Target {
            what: "Accident report",
            client_id: a.client_id,
            organization_id: a.organization_id,
            recorder: a.recorder_staff_member_id,
            version: a.version,
            status: a.status,
            facts: record_facts(&a),
            may_change: crate::auth::policy::can_amend_observation,
            refusal: "Only the recorder, or a service manager or admin of the facility, adds to an accident report.",
        },
        f.expected_version,
    )
    .await?;
    // The whole report as it would be, re-checked by the same rules as a new one.
    let merged = NewAccident {
        client_id: a.client_id,
        kind: a.kind,
        occurred_at: a.occurred_at,
        place: a.place.clone(),
        situation: a.situation.clone(),
        response: a.response.clone(),
        family_reported_at: f.family_reported_at.or(a.family_reported_at),
        municipality_reported_at: f.municipality_reported_at.or(a.municipality_reported_at),
        prevention_measures: f.prevention_measures.or(a.prevention_measures.clone()),
        visibility: a.visibility,
    };
    let checked = checked(viewer, merged)?;
    let next = a.version + 1;
    let mut am = a.into_active_model();
    am.version = Set(next);
    am.family_reported_at = Set(checked.family_reported_at);
    am.municipality_reported_at = Set(checked.municipality_reported_at);
    am.prevention_measures = Set(checked.prevention_measures);
    am.updated_at = Set(crate::service::now());
    let model = am.update(&txn).await?;
    announce(
        &txn,
        viewer,
        (
            EntryKind::Accident,
            EventKind::AccidentUpdated,
            RecordType::AccidentReport,
        ),
        model.id,
        model.client_id,
        model.occurred_at,
        model.visibility,
        DataCategory::Accidents,
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// One accident report the viewer may see (the read is audited).
pub async fn get(state: &Ctx, viewer: &Viewer, id: Uuid) -> ApiResult<accident_report::Model> {
    let found = accident_report::Entity::find_by_id(id)
        .one(&state.db)
        .await?;
    visible(state, viewer, "Accident report", found, |a| {
        (a.id, a.client_id, record_facts(a))
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

    fn new(kind: AccidentKind) -> NewAccident {
        NewAccident {
            client_id: Uuid::now_v7(),
            kind,
            occurred_at: Utc::now() - Duration::hours(3),
            place: "作業室".into(),
            situation: "椅子から立ち上がる際にふらつき膝をついた。".into(),
            response: "看護師が確認し、外傷なし。".into(),
            family_reported_at: None,
            municipality_reported_at: None,
            prevention_measures: None,
            visibility: Visibility::Consultation,
        }
    }

    #[test]
    fn statutory_accident_fields_and_report_times_are_checked() {
        assert!(checked(&viewer(), new(AccidentKind::Accident)).is_ok());
        let mut n = new(AccidentKind::Accident);
        n.place = " ".into();
        assert!(matches!(
            checked(&viewer(), n),
            Err(ApiError::BadUserInput { field: Some(f), .. }) if f == "location"
        ));
        let mut n = new(AccidentKind::Accident);
        n.municipality_reported_at = Some(n.occurred_at - Duration::minutes(5));
        assert!(matches!(
            checked(&viewer(), n),
            Err(ApiError::BadUserInput { field: Some(f), .. }) if f == "municipalityReportedAt"
        ));
        let mut n = new(AccidentKind::NearMiss);
        n.municipality_reported_at = Some(n.occurred_at + Duration::minutes(5));
        assert!(checked(&viewer(), n).is_err());
    }
}
