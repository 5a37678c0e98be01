//! Statutory records (法定の記録): physical restraint (身体拘束等), accidents and near misses
//! (事故・ヒヤリハット) and complaints (苦情), each with its own table, required fields, consent
//! category, event and history entry, and a per-period summary for the audit (実地指導).
//!
//! Who may see them: the writing organization always; other care-team members only while a
//! consent in force shares the record's own category (`RESTRAINTS`, `ACCIDENTS`,
//! `COMPLAINTS`) and its visibility reaches them. Unlike a `SAFEGUARDING` observation, a
//! restraint record does not bypass consent: it is the facility's statutory record of a measure
//! it took, not a report of suspected abuse (an abuse concern is still written as a
//! `SAFEGUARDING` observation, which reaches the consultation office by legal duty).
//!
//! One module per concept; nothing here knows GraphQL.

pub mod accident;
pub mod complaint;
pub mod correction;
pub mod restraint;
pub mod summary;

use chrono::{DateTime, Duration, Utc};
use entity::observation::{RecordStatus, Visibility};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{
    access::{Scope, jst_day},
    events::{self, EventKind, RecordType},
    timeline::{self, EntryKind},
};
use crate::service::ClientWrite;
use crate::{
    auth::{
        Viewer,
        policy::{AnyRecordFacts, ClientRelation, DataCategory},
    },
    error::{ApiError, ApiResult},
    service::Ctx,
};

/// The longest free text of a statutory record field, in characters.
const MAX_TEXT: usize = 4000;

/// The policy's view of a statutory record of `category` about something on `at`.
fn facts(
    organization_id: Uuid,
    visibility: Visibility,
    category: DataCategory,
    at: DateTime<Utc>,
) -> AnyRecordFacts {
    AnyRecordFacts {
        organization_id,
        visibility,
        data: Some(category),
        safeguarding: false,
        on: jst_day(at),
    }
}

/// A moment a record reports as past: not ahead of now (an hour's clock skew allowed), not more
/// than ten years back.
fn past_moment(field: &str, at: DateTime<Utc>) -> ApiResult<DateTime<Utc>> {
    let now = Utc::now();
    if at > now + Duration::hours(1) {
        return Err(ApiError::bad_input(
            field,
            format!("{field} cannot lie in the future."),
        ));
    }
    if at < now - Duration::days(365 * 10) {
        return Err(ApiError::bad_input(
            field,
            format!("{field} is more than ten years ago."),
        ));
    }
    Ok(super::micros(at))
}

/// An optional follow-up moment (a report, an explanation): not before `since`, not ahead of now.
fn follow_up(
    field: &str,
    at: Option<DateTime<Utc>>,
    since: DateTime<Utc>,
    since_field: &str,
) -> ApiResult<Option<DateTime<Utc>>> {
    let Some(at) = at else { return Ok(None) };
    let at = past_moment(field, at)?;
    if at < since {
        return Err(ApiError::bad_input(
            field,
            format!("{field} cannot come before {since_field}."),
        ));
    }
    Ok(Some(at))
}

/// The history entry and the event of a new or changed statutory record, in the caller's
/// transaction (call after the record's own write).
#[expect(
    clippy::too_many_arguments,
    reason = "one call site per record kind, all named"
)]
async fn announce(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    kind: (EntryKind, EventKind, RecordType),
    record_id: Uuid,
    client_id: Uuid,
    occurred_at: DateTime<Utc>,
    visibility: Visibility,
    category: DataCategory,
) -> ApiResult<()> {
    announce_as(
        txn,
        viewer,
        kind,
        (record_id, client_id, occurred_at),
        (visibility, category, RecordStatus::Current),
    )
    .await
}

/// [`announce`] with the record's status (an entered-in-error record leaves the history).
async fn announce_as(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    kind: (EntryKind, EventKind, RecordType),
    (record_id, client_id, occurred_at): (Uuid, Uuid, DateTime<Utc>),
    (visibility, category, status): (Visibility, DataCategory, RecordStatus),
) -> ApiResult<()> {
    let (entry, event, record_type) = kind;
    timeline::put(
        txn,
        timeline::Entry {
            kind: entry,
            record_id,
            client_id,
            occurred_at,
            organization_id: viewer.organization_id,
            visibility,
            data: Some(category),
            category: None,
            status,
        },
    )
    .await?;
    events::record_change(txn, viewer, event, client_id, record_type, record_id).await
}

/// The scope of the viewer's organization for one client, from the shared cache.
async fn scope_for(state: &Ctx, viewer: &Viewer, client_id: Uuid) -> ApiResult<Scope> {
    Ok(state
        .scopes
        .get(&state.db, viewer.organization_id)
        .await?
        .narrowed(&[client_id]))
}

/// What a change to a stored record must check about it.
struct Target<'a> {
    what: &'static str,
    client_id: Uuid,
    organization_id: Uuid,
    recorder: Uuid,
    version: i32,
    status: RecordStatus,
    facts: AnyRecordFacts,
    /// Who may change it (a pure rule of `auth`).
    may_change: fn(&Viewer, &ClientRelation, Uuid, Uuid) -> bool,
    refusal: &'a str,
}

/// Checks a change by the viewer inside its transaction: `NOT_FOUND` unless the viewer may see
/// the record, `FORBIDDEN` unless the rule lets them change it, `CONFLICT` when it was entered
/// in error or `expected_version` is stale.
async fn check_change(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    t: Target<'_>,
    expected_version: i32,
) -> ApiResult<()> {
    ClientWrite::for_record(viewer, t.client_id, t.what)
        .seen_as(t.facts)
        .check_in(
            txn,
            |viewer, rel| (t.may_change)(viewer, rel, t.organization_id, t.recorder),
            t.refusal,
        )
        .await?;
    if t.status == RecordStatus::EnteredInError {
        return Err(ApiError::conflict(format!(
            "This {} was marked entered-in-error and cannot change.",
            t.what.to_lowercase()
        )));
    }
    if t.version != expected_version {
        return Err(ApiError::conflict(format!(
            "The {} is at version {}, not {expected_version}: reload it and apply your change again.",
            t.what.to_lowercase(),
            t.version
        )));
    }
    Ok(())
}

/// Answers a read of one record: `NOT_FOUND` unless the viewer may see it (exactly like a record
/// that does not exist), and the read audited.
async fn visible<M>(
    state: &Ctx,
    viewer: &Viewer,
    what: &'static str,
    found: Option<M>,
    place: impl Fn(&M) -> (Uuid, Uuid, AnyRecordFacts),
) -> ApiResult<M> {
    let m = found.ok_or(ApiError::NotFound(what))?;
    let (id, client_id, f) = place(&m);
    let scope = scope_for(state, viewer, client_id).await?;
    if !scope.can_see_record(client_id, f) {
        return Err(ApiError::NotFound(what));
    }
    state
        .read_audits
        .record(
            viewer,
            entity::read_audit::ReadOperation::StatutoryRecord,
            vec![(Some(client_id), vec![id])],
        )
        .await?;
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statutory_times_in_the_future_or_before_the_event_are_refused() {
        let now = Utc::now();
        assert!(past_moment("startedAt", now).is_ok());
        let e = past_moment("startedAt", now + Duration::hours(2)).unwrap_err();
        assert!(
            matches!(e, ApiError::BadUserInput { field: Some(ref field), .. } if field == "startedAt")
        );
        assert!(past_moment("startedAt", now - Duration::days(365 * 11)).is_err());
        let since = now - Duration::hours(3);
        assert_eq!(follow_up("x", None, since, "y").unwrap(), None);
        assert!(follow_up("x", Some(now - Duration::hours(4)), since, "y").is_err());
        assert!(follow_up("x", Some(now - Duration::hours(1)), since, "y").is_ok());
    }
}
