//! Complaint records (苦情の記録): received (受付日, 申出人, 内容), handled (対応) and resolved
//! (結果, 解決日). A complaint is open until it is resolved; resolving is a new version, checked
//! against the version the writer saw.

use chrono::NaiveDate;
use entity::{
    complaint_record::{self, ComplainantRelationship},
    observation::{RecordStatus, Visibility},
};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use uuid::Uuid;

use super::{MAX_TEXT, Target, announce, check_change, facts, visible};
use crate::service::ClientWrite;
use crate::{
    auth::{Viewer, policy::DataCategory, statutory},
    db,
    error::{ApiError, ApiResult},
    service::Ctx,
    service::{
        access::{jst_day_start, today},
        events::{EventKind, RecordType},
        optional_text, required_text,
        timeline::EntryKind,
    },
};

/// A complaint as received.
#[derive(Debug, Clone)]
pub struct NewComplaint {
    pub client_id: Uuid,
    /// 受付日.
    pub received_on: NaiveDate,
    /// 申出人.
    pub complainant: String,
    pub complainant_relationship: ComplainantRelationship,
    /// 苦情の内容.
    pub content: String,
    /// 対応 (so far).
    pub response: Option<String>,
    pub visibility: Visibility,
}

/// How a complaint was resolved.
#[derive(Debug, Clone)]
pub struct Resolution {
    pub id: Uuid,
    pub expected_version: i32,
    /// 対応: what was done (required to resolve).
    pub response: String,
    /// 結果.
    pub result: String,
    pub resolved_on: NaiveDate,
}

/// The policy's view of a complaint record (dated by the day it was received).
pub fn record_facts(c: &complaint_record::Model) -> crate::auth::policy::AnyRecordFacts {
    facts(
        c.organization_id,
        c.visibility,
        DataCategory::Complaints,
        jst_day_start(c.received_on),
    )
}

/// The history entry's moment: the start of the day it was received (JST).
fn occurred_at(c: &complaint_record::Model) -> chrono::DateTime<chrono::Utc> {
    jst_day_start(c.received_on)
}

fn checked(viewer: &Viewer, n: NewComplaint) -> ApiResult<complaint_record::Model> {
    if n.received_on > today() {
        return Err(ApiError::bad_input(
            "receivedOn",
            "receivedOn cannot lie in the future.",
        ));
    }
    if n.received_on < today() - chrono::Duration::days(365 * 10) {
        return Err(ApiError::bad_input(
            "receivedOn",
            "receivedOn is more than ten years ago.",
        ));
    }
    let complainant = required_text("complainant", &n.complainant, 200)?;
    let content = required_text("details", &n.content, MAX_TEXT)?;
    let response = optional_text("response", n.response, MAX_TEXT)?;
    let now = crate::service::now();
    Ok(complaint_record::Model {
        id: Uuid::now_v7(),
        client_id: n.client_id,
        organization_id: viewer.organization_id,
        recorder_staff_member_id: viewer.staff_member_id,
        version: 1,
        received_on: n.received_on,
        complainant,
        complainant_relationship: n.complainant_relationship,
        content,
        response,
        result: None,
        resolved_on: None,
        visibility: n.visibility,
        status: RecordStatus::Current,
        entered_in_error_reason: None,
        recorded_at: now,
        updated_at: now,
    })
}

/// Records a complaint received by the viewer's organization.
pub async fn record(
    state: &Ctx,
    viewer: &Viewer,
    new: NewComplaint,
) -> ApiResult<complaint_record::Model> {
    db::retrying(|| record_once(state, viewer, new.clone())).await
}

async fn record_once(
    state: &Ctx,
    viewer: &Viewer,
    new: NewComplaint,
) -> ApiResult<complaint_record::Model> {
    let txn = ClientWrite::for_client(viewer, new.client_id)
        .open(
            state,
            |_, rel| statutory::can_record_complaint(rel),
            "Complaints are recorded by a current care-team member.",
        )
        .await?;
    let model = checked(viewer, new)?;
    let model = model.into_active_model().insert(&txn).await?;
    announce(
        &txn,
        viewer,
        (
            EntryKind::Complaint,
            EventKind::ComplaintRecorded,
            RecordType::ComplaintRecord,
        ),
        model.id,
        model.client_id,
        occurred_at(&model),
        model.visibility,
        DataCategory::Complaints,
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// Resolves an open complaint (結果と解決日): its recorder, or a coordinator of the recording
/// organization.
pub async fn resolve(
    state: &Ctx,
    viewer: &Viewer,
    resolution: Resolution,
) -> ApiResult<complaint_record::Model> {
    db::retrying(|| resolve_once(state, viewer, resolution.clone())).await
}

async fn resolve_once(
    state: &Ctx,
    viewer: &Viewer,
    r: Resolution,
) -> ApiResult<complaint_record::Model> {
    let response = required_text("response", &r.response, MAX_TEXT)?;
    let result = required_text("result", &r.result, MAX_TEXT)?;
    let txn = db::begin_write(&state.db).await?;
    let c = complaint_record::Entity::find_by_id(r.id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("Complaint record"))?;
    check_change(
        &txn,
        viewer,
        Target {
            what: "Complaint record",
            client_id: c.client_id,
            organization_id: c.organization_id,
            recorder: c.recorder_staff_member_id,
            version: c.version,
            status: c.status,
            facts: record_facts(&c),
            may_change: statutory::can_resolve_complaint,
            refusal: "Only the recorder, or a coordinator of the organization that received it, resolves a complaint.",
        },
        r.expected_version,
    )
    .await?;
    if c.resolved_on.is_some() {
        return Err(ApiError::conflict("This complaint is already resolved."));
    }
    if r.resolved_on < c.received_on || r.resolved_on > today() {
        return Err(ApiError::bad_input(
            "resolvedOn",
            "resolvedOn must lie between receivedOn and today.",
        ));
    }
    let client_id = c.client_id;
    let next = c.version + 1;
    let mut am = c.into_active_model();
    am.version = Set(next);
    am.response = Set(Some(response));
    am.result = Set(Some(result));
    am.resolved_on = Set(Some(r.resolved_on));
    am.updated_at = Set(crate::service::now());
    let model = am.update(&txn).await?;
    announce(
        &txn,
        viewer,
        (
            EntryKind::Complaint,
            EventKind::ComplaintResolved,
            RecordType::ComplaintRecord,
        ),
        model.id,
        client_id,
        occurred_at(&model),
        model.visibility,
        DataCategory::Complaints,
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// One complaint record the viewer may see (the read is audited).
pub async fn get(state: &Ctx, viewer: &Viewer, id: Uuid) -> ApiResult<complaint_record::Model> {
    let found = complaint_record::Entity::find_by_id(id)
        .one(&state.db)
        .await?;
    visible(state, viewer, "Complaint record", found, |c| {
        (c.id, c.client_id, record_facts(c))
    })
    .await
}
