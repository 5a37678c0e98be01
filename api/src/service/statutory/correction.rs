//! Marking a statutory record entered-in-error (記載誤り): records are never deleted (they are
//! kept five years and audited); a wrong one is marked, keeps its content and leaves the
//! history and the audit summary. Its recorder, or a service manager or admin of the writing
//! organization.

use entity::{accident_report, complaint_record, observation::RecordStatus, restraint_record};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use uuid::Uuid;

use super::{Target, accident, announce_as, check_change, complaint, restraint};
use crate::{
    auth::{Viewer, policy::DataCategory},
    db,
    error::{ApiError, ApiResult},
    service::Ctx,
    service::{
        events::{EventKind, RecordType},
        required_text,
        timeline::EntryKind,
    },
};

/// Which kind of statutory record an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Restraint,
    Accident,
    Complaint,
}

/// A statutory record after the change.
#[derive(Debug, Clone)]
pub enum Marked {
    Restraint(restraint_record::Model),
    Accident(accident_report::Model),
    Complaint(complaint_record::Model),
}

const REFUSAL: &str = "Only the recorder, or a service manager or admin of the writing organization, marks a statutory record entered-in-error.";

/// Marks the record entered-in-error with the reason.
pub async fn mark_entered_in_error(
    state: &Ctx,
    viewer: &Viewer,
    kind: Kind,
    id: Uuid,
    expected_version: i32,
    reason: &str,
) -> ApiResult<Marked> {
    let reason = required_text("reason", reason, 1000)?;
    db::retrying(|| mark_once(state, viewer, kind, id, expected_version, reason.clone())).await
}

/// The common part of a target: who may change it.
fn target(
    what: &'static str,
    (client_id, organization_id, recorder): (Uuid, Uuid, Uuid),
    (version, status): (i32, RecordStatus),
    facts: crate::auth::policy::AnyRecordFacts,
) -> Target<'static> {
    Target {
        what,
        client_id,
        organization_id,
        recorder,
        version,
        status,
        facts,
        may_change: crate::auth::policy::can_amend_observation,
        refusal: REFUSAL,
    }
}

async fn mark_once(
    state: &Ctx,
    viewer: &Viewer,
    kind: Kind,
    id: Uuid,
    expected_version: i32,
    reason: String,
) -> ApiResult<Marked> {
    let txn = db::begin_write(&state.db).await?;
    let now = crate::service::now();
    let event = EventKind::StatutoryRecordEnteredInError;
    // The same change on each kind's table: load, authorize, bump the version, mark, announce.
    macro_rules! mark {
        ($table:ident, $what:literal, $facts:path, $entry:expr, $typename:expr, $category:expr, $at:expr, $variant:ident) => {{
            let r = $table::Entity::find_by_id(id)
                .one(&txn)
                .await?
                .ok_or(ApiError::NotFound($what))?;
            let t = target(
                $what,
                (r.client_id, r.organization_id, r.recorder_staff_member_id),
                (r.version, r.status),
                $facts(&r),
            );
            check_change(&txn, viewer, t, expected_version).await?;
            let mut am = r.clone().into_active_model();
            am.version = Set(r.version + 1);
            am.status = Set(RecordStatus::EnteredInError);
            am.entered_in_error_reason = Set(Some(reason));
            am.updated_at = Set(now);
            let m = am.update(&txn).await?;
            let at: fn(&$table::Model) -> chrono::DateTime<chrono::Utc> = $at;
            announce_as(
                &txn,
                viewer,
                ($entry, event, $typename),
                (m.id, m.client_id, at(&m)),
                (m.visibility, $category, m.status),
            )
            .await?;
            Marked::$variant(m)
        }};
    }
    let marked = match kind {
        Kind::Restraint => mark!(
            restraint_record,
            "Restraint record",
            restraint::record_facts,
            EntryKind::Restraint,
            RecordType::RestraintRecord,
            DataCategory::Restraints,
            |m| m.started_at,
            Restraint
        ),
        Kind::Accident => mark!(
            accident_report,
            "Accident report",
            accident::record_facts,
            EntryKind::Accident,
            RecordType::AccidentReport,
            DataCategory::Accidents,
            |m| m.occurred_at,
            Accident
        ),
        Kind::Complaint => mark!(
            complaint_record,
            "Complaint record",
            complaint::record_facts,
            EntryKind::Complaint,
            RecordType::ComplaintRecord,
            DataCategory::Complaints,
            |m| crate::service::access::jst_day_start(m.received_on),
            Complaint
        ),
    };
    txn.commit().await?;
    Ok(marked)
}
