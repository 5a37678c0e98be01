//! Acknowledgement and freshness (確認と鮮度): the other side acknowledges what was shared with
//! it; per client and side, what is still unacknowledged, the age of the oldest, and the
//! information lag (happened → recorded → acknowledged); risk signs left unacknowledged past
//! the office's deadline; and reciprocity (who contributed what, for team reviews).
//!
//! Shared records are observations beyond the writer (`CONSULTATION`, `CARE_TEAM`), briefs and
//! monitoring reports. A record counts as acknowledged when an organization of the other side
//! (facility ↔ consultation office) acknowledged it. Everything is computed from records the
//! viewer may see.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::{
    acknowledgement, meeting_brief, monitoring_report,
    observation::{self, ObservationCategory, RecordStatus, Visibility},
    organization::{self, OrganizationKind},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Set,
};
use uuid::Uuid;

use super::{
    access::{Scope, today},
    meetings, monitoring,
};
use crate::{
    auth::Viewer,
    error::{ApiError, ApiResult},
    service::Ctx,
};

mod freshness;
mod risk_signs;

pub use freshness::{Contribution, Freshness, freshness, reciprocity};
pub use risk_signs::{raise_overdue, set_deadline, unacknowledged_risk_signs};

/// Most records one `acknowledge` call takes.
pub const MAX_PER_CALL: usize = 100;
/// Most shared records read for one freshness or reciprocity answer.
const MAX_ITEMS: u64 = 5_000;

/// What kind of record is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    Observation,
    MeetingBrief,
    MonitoringReport,
}

impl Subject {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Observation => "OBSERVATION",
            Self::MeetingBrief => "MEETING_BRIEF",
            Self::MonitoringReport => "MONITORING_REPORT",
        }
    }
}

/// Which side of the collaboration an organization is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Facility,
    Consultation,
}

fn side_of(kind: OrganizationKind) -> Side {
    match kind {
        OrganizationKind::ConsultationOffice => Side::Consultation,
        _ => Side::Facility,
    }
}

/// A shared record, reduced to what freshness needs.
#[derive(Debug, Clone)]
struct Shared {
    subject: Subject,
    id: Uuid,
    version: i32,
    organization_id: Uuid,
    happened: Option<DateTime<Utc>>,
    recorded: DateTime<Utc>,
    /// Sides with a current care-team member that may read it (a record nobody on the other
    /// side may read can never be acknowledged, so it does not count as waiting).
    reaches: Vec<Side>,
}

/// The sides of current members whose scopes admit a record.
fn reach(others: &[(Side, Scope)], sees: impl Fn(&Scope) -> bool) -> Vec<Side> {
    let mut out: Vec<Side> = others
        .iter()
        .filter(|(_, scope)| sees(scope))
        .map(|(side, _)| *side)
        .collect();
    out.dedup();
    out
}

/// One record to acknowledge, as found.
struct Found {
    subject: Subject,
    id: Uuid,
    version: i32,
    client_id: Uuid,
    writer: Uuid,
    recorded: DateTime<Utc>,
}

/// Acknowledges records the viewer's organization may see and did not write. Idempotent for
/// the record's current version; an amended record is acknowledged anew.
pub async fn acknowledge(
    state: &Ctx,
    viewer: &Viewer,
    subjects: &[(Subject, Uuid)],
) -> ApiResult<Vec<acknowledgement::Model>> {
    if subjects.is_empty() || subjects.len() > MAX_PER_CALL {
        return Err(ApiError::bad_input(
            "ids",
            format!("Acknowledge 1 to {MAX_PER_CALL} records at a time."),
        ));
    }
    crate::db::retrying(|| acknowledge_once(state, viewer, subjects)).await
}

async fn find_subjects(
    db: &impl ConnectionTrait,
    scope: &Scope,
    subjects: &[(Subject, Uuid)],
) -> ApiResult<Vec<Found>> {
    let ids = |s: Subject| -> Vec<Uuid> {
        subjects
            .iter()
            .filter(|(k, _)| *k == s)
            .map(|(_, id)| *id)
            .collect()
    };
    let mut found = Vec::new();
    for o in observation::Entity::find()
        .filter(observation::Column::Id.is_in(ids(Subject::Observation)))
        .all(db)
        .await?
    {
        if scope.can_see_observation(&o) {
            found.push(Found {
                subject: Subject::Observation,
                id: o.id,
                version: o.version,
                client_id: o.client_id,
                writer: o.organization_id,
                recorded: o.recorded_at,
            });
        }
    }
    for b in meeting_brief::Entity::find()
        .filter(meeting_brief::Column::Id.is_in(ids(Subject::MeetingBrief)))
        .all(db)
        .await?
    {
        if scope.can_see_record(b.client_id, meetings::brief_facts(&b)) {
            found.push(Found {
                subject: Subject::MeetingBrief,
                id: b.id,
                version: b.version,
                client_id: b.client_id,
                writer: b.organization_id,
                recorded: b.submitted_at,
            });
        }
    }
    for r in monitoring_report::Entity::find()
        .filter(monitoring_report::Column::Id.is_in(ids(Subject::MonitoringReport)))
        .all(db)
        .await?
    {
        if scope.can_see_record(r.client_id, monitoring::facts(&r)) {
            found.push(Found {
                subject: Subject::MonitoringReport,
                id: r.id,
                version: 1,
                client_id: r.client_id,
                writer: r.organization_id,
                recorded: r.created_at,
            });
        }
    }
    Ok(found)
}

async fn acknowledge_once(
    state: &Ctx,
    viewer: &Viewer,
    subjects: &[(Subject, Uuid)],
) -> ApiResult<Vec<acknowledgement::Model>> {
    let scope = Scope::for_viewer(&state.db, viewer).await?;
    let found = find_subjects(&state.db, &scope, subjects).await?;
    // Every id must be a record the viewer may see; unknown and invisible ones look the same.
    let mut wanted: Vec<Uuid> = subjects.iter().map(|(_, id)| *id).collect();
    wanted.sort_unstable();
    wanted.dedup();
    if found.len() != wanted.len() {
        return Err(ApiError::NotFound("Record"));
    }
    if found.iter().any(|f| f.writer == viewer.organization_id) {
        return Err(ApiError::bad_input(
            "ids",
            "Acknowledge records other organizations shared with you, not your own.",
        ));
    }
    let txn = crate::db::begin_write(&state.db).await?;
    let existing: HashMap<Uuid, acknowledgement::Model> = acknowledgement::Entity::find()
        .filter(acknowledgement::Column::OrganizationId.eq(viewer.organization_id))
        .filter(acknowledgement::Column::SubjectId.is_in(wanted.iter().copied()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|a| (a.subject_id, a))
        .collect();
    let now = super::now();
    let mut out = Vec::with_capacity(found.len());
    for f in found {
        let written = match existing.get(&f.id) {
            Some(a) if a.subject_version == f.version => a.clone(),
            Some(a) => {
                let mut m: acknowledgement::ActiveModel = a.clone().into();
                m.staff_member_id = Set(viewer.staff_member_id);
                m.subject_version = Set(f.version);
                m.subject_recorded_at = Set(f.recorded);
                m.acknowledged_at = Set(now);
                m.update(&txn).await?
            }
            None => acknowledgement::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(viewer.organization_id),
                staff_member_id: Set(viewer.staff_member_id),
                client_id: Set(f.client_id),
                subject_type: Set(f.subject.as_str().to_owned()),
                subject_id: Set(f.id),
                subject_organization_id: Set(f.writer),
                subject_version: Set(f.version),
                subject_recorded_at: Set(f.recorded),
                acknowledged_at: Set(now),
            }
            .insert(&txn)
            .await
            // A concurrent acknowledgement of the same record won: retry, and find it.
            .map_err(|e| {
                if super::is_unique_violation(&e) {
                    ApiError::Contention
                } else {
                    e.into()
                }
            })?,
        };
        out.push(written);
    }
    let mut by_client: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for a in &out {
        by_client.entry(a.client_id).or_default().push(a.subject_id);
    }
    super::events::record_reads(&txn, viewer, "ACKNOWLEDGE", by_client.into_iter().collect())
        .await?;
    txn.commit().await?;
    Ok(out)
}

/// The period `[from, to]` in JST days (default the last 90 days), as times.
fn period(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
    let to = to.unwrap_or_else(today);
    let end = super::jst_day_start("to", to)? + Duration::days(1);
    let from = from.unwrap_or(to - Duration::days(89));
    let start = super::jst_day_start("from", from)?;
    if from > to || (to - from).num_days() >= 366 {
        return Err(ApiError::bad_input(
            "from",
            "from must not be after to, and the period at most 366 days.",
        ));
    }
    Ok((start, end))
}

/// Shared records of a client recorded in `[start, end)` that the scope may see, newest first.
async fn shared(
    db: &impl ConnectionTrait,
    scope: &Scope,
    others: &[(Side, Scope)],
    client_id: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> ApiResult<Vec<Shared>> {
    let mut out: Vec<Shared> = observation::Entity::find()
        .filter(scope.narrowed(&[client_id]).observation_condition())
        .filter(observation::Column::ClientId.eq(client_id))
        .filter(observation::Column::Status.eq(RecordStatus::Current))
        .filter(observation::Column::Visibility.ne(Visibility::Internal))
        .filter(observation::Column::RecordedAt.gte(start))
        .filter(observation::Column::RecordedAt.lt(end))
        .order_by_desc(observation::Column::RecordedAt)
        .limit(MAX_ITEMS)
        .all(db)
        .await?
        .into_iter()
        .filter(|o| scope.can_see_observation(o))
        .map(|o| Shared {
            reaches: reach(others, |s| s.can_see_observation(&o)),
            subject: Subject::Observation,
            id: o.id,
            version: o.version,
            organization_id: o.organization_id,
            happened: Some(o.occurred_from),
            recorded: o.recorded_at,
        })
        .collect();
    out.extend(
        meeting_brief::Entity::find()
            .filter(meeting_brief::Column::ClientId.eq(client_id))
            .filter(meeting_brief::Column::SubmittedAt.gte(start))
            .filter(meeting_brief::Column::SubmittedAt.lt(end))
            .order_by_desc(meeting_brief::Column::SubmittedAt)
            .limit(MAX_ITEMS)
            .all(db)
            .await?
            .into_iter()
            .filter(|b| scope.can_see_record(b.client_id, meetings::brief_facts(b)))
            .map(|b| Shared {
                reaches: reach(others, |s| {
                    s.can_see_record(b.client_id, meetings::brief_facts(&b))
                }),
                subject: Subject::MeetingBrief,
                id: b.id,
                version: b.version,
                organization_id: b.organization_id,
                happened: None,
                recorded: b.submitted_at,
            }),
    );
    out.extend(
        monitoring_report::Entity::find()
            .filter(monitoring_report::Column::ClientId.eq(client_id))
            .filter(monitoring_report::Column::CreatedAt.gte(start))
            .filter(monitoring_report::Column::CreatedAt.lt(end))
            .order_by_desc(monitoring_report::Column::CreatedAt)
            .limit(MAX_ITEMS)
            .all(db)
            .await?
            .into_iter()
            .filter(|r| scope.can_see_record(r.client_id, monitoring::facts(r)))
            .map(|r| Shared {
                reaches: reach(others, |s| {
                    s.can_see_record(r.client_id, monitoring::facts(&r))
                }),
                subject: Subject::MonitoringReport,
                id: r.id,
                version: 1,
                organization_id: r.organization_id,
                happened: None,
                recorded: r.created_at,
            }),
    );
    Ok(out)
}

async fn sides(
    db: &impl ConnectionTrait,
    orgs: impl IntoIterator<Item = Uuid>,
) -> ApiResult<HashMap<Uuid, Side>> {
    let ids: Vec<Uuid> = orgs
        .into_iter()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    Ok(super::organizations::by_ids(db, &ids)
        .await?
        .into_values()
        .map(|o: organization::Model| (o.id, side_of(o.kind)))
        .collect())
}
