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

fn median(mut v: Vec<i64>) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let mid = v.len() / 2;
    Some(if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2
    } else {
        v[mid]
    })
}

/// Freshness of one side's shared records.
#[derive(Debug, Clone)]
pub struct Freshness {
    /// The side that shared the records.
    pub side: Side,
    pub shared: usize,
    pub unacknowledged: usize,
    pub oldest_unacknowledged_at: Option<DateTime<Utc>>,
    /// Happened → recorded, observations only.
    pub median_recording_lag_minutes: Option<i64>,
    /// Recorded → acknowledged by the other side.
    pub median_acknowledgement_lag_minutes: Option<i64>,
    /// Happened → acknowledged, observations only.
    pub median_total_lag_minutes: Option<i64>,
}

/// What each organization contributed.
#[derive(Debug, Clone)]
pub struct Contribution {
    pub organization_id: Uuid,
    pub side: Side,
    pub shared_observations: usize,
    pub briefs: usize,
    pub monitoring_reports: usize,
    pub acknowledgements: usize,
    /// Recorded → its acknowledgement, over the acknowledgements it made.
    pub median_response_minutes: Option<i64>,
}

struct Loaded {
    items: Vec<Shared>,
    acks: Vec<acknowledgement::Model>,
    sides: HashMap<Uuid, Side>,
}

async fn load(
    state: &Ctx,
    viewer: &Viewer,
    client_id: Uuid,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> ApiResult<Loaded> {
    use entity::care_team_membership;
    let (start, end) = period(from, to)?;
    let scope = Scope::for_client(&state.db, viewer, client_id).await?;
    let rel = scope.require(client_id)?;
    // What happens between the team's members now is no former member's business.
    if !crate::auth::policy::follows_client(rel) {
        return Err(ApiError::forbidden(
            "Freshness and reciprocity are for the client's current care team.",
        ));
    }
    let members: Vec<Uuid> = care_team_membership::Entity::find()
        .filter(care_team_membership::Column::ClientId.eq(client_id))
        .all(&state.db)
        .await?
        .into_iter()
        .filter(|m| m.is_current_on(today()))
        .map(|m| m.organization_id)
        .collect();
    let member_sides = sides(&state.db, members.iter().copied()).await?;
    let mut others = Vec::with_capacity(member_sides.len());
    for (org, side) in &member_sides {
        others.push((
            *side,
            Scope::for_organization_client(&state.db, *org, client_id).await?,
        ));
    }
    let items = shared(&state.db, &scope, &others, client_id, start, end).await?;
    let current: HashMap<Uuid, i32> = items.iter().map(|i| (i.id, i.version)).collect();
    let acks: Vec<acknowledgement::Model> = acknowledgement::Entity::find()
        .filter(acknowledgement::Column::ClientId.eq(client_id))
        .filter(acknowledgement::Column::SubjectRecordedAt.gte(start))
        .filter(acknowledgement::Column::SubjectRecordedAt.lt(end))
        .order_by_asc(acknowledgement::Column::AcknowledgedAt)
        .limit(MAX_ITEMS)
        .all(&state.db)
        .await?
        .into_iter()
        // Only acknowledgements of what the viewer sees, at its current version.
        .filter(|a| current.get(&a.subject_id) == Some(&a.subject_version))
        .collect();
    let sides = sides(
        &state.db,
        items
            .iter()
            .map(|i| i.organization_id)
            .chain(acks.iter().map(|a| a.organization_id)),
    )
    .await?;
    Ok(Loaded { items, acks, sides })
}

/// Per side: unacknowledged records, the oldest, and median lags over the period (default the
/// last 90 days).
pub async fn freshness(
    state: &Ctx,
    viewer: &Viewer,
    client_id: Uuid,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> ApiResult<Vec<Freshness>> {
    let l = load(state, viewer, client_id, from, to).await?;
    // The first acknowledgement of each record by each side (acks come oldest first).
    let mut first_ack: HashMap<(Uuid, Side), DateTime<Utc>> = HashMap::new();
    for a in &l.acks {
        if let Some(side) = l.sides.get(&a.organization_id) {
            first_ack
                .entry((a.subject_id, *side))
                .or_insert(a.acknowledged_at);
        }
    }
    let mut out = Vec::new();
    for side in [Side::Facility, Side::Consultation] {
        let other = match side {
            Side::Facility => Side::Consultation,
            Side::Consultation => Side::Facility,
        };
        let items: Vec<&Shared> = l
            .items
            .iter()
            .filter(|i| l.sides.get(&i.organization_id) == Some(&side))
            .filter(|i| i.reaches.contains(&other))
            .collect();
        let mut unack = Vec::new();
        let (mut rec_lag, mut ack_lag, mut total_lag) = (Vec::new(), Vec::new(), Vec::new());
        for i in &items {
            if let Some(h) = i.happened {
                rec_lag.push((i.recorded - h).num_minutes().max(0));
            }
            match first_ack.get(&(i.id, other)) {
                Some(at) => {
                    ack_lag.push((*at - i.recorded).num_minutes().max(0));
                    if let Some(h) = i.happened {
                        total_lag.push((*at - h).num_minutes().max(0));
                    }
                }
                None => unack.push(i.recorded),
            }
        }
        out.push(Freshness {
            side,
            shared: items.len(),
            unacknowledged: unack.len(),
            oldest_unacknowledged_at: unack.into_iter().min(),
            median_recording_lag_minutes: median(rec_lag),
            median_acknowledgement_lag_minutes: median(ack_lag),
            median_total_lag_minutes: median(total_lag),
        });
    }
    Ok(out)
}

/// What each organization contributed over the period (default the last 90 days).
pub async fn reciprocity(
    state: &Ctx,
    viewer: &Viewer,
    client_id: Uuid,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> ApiResult<Vec<Contribution>> {
    let l = load(state, viewer, client_id, from, to).await?;
    let recorded: HashMap<Uuid, DateTime<Utc>> =
        l.items.iter().map(|i| (i.id, i.recorded)).collect();
    let mut orgs: Vec<Uuid> = l.sides.keys().copied().collect();
    orgs.sort_unstable();
    Ok(orgs
        .into_iter()
        .map(|org| {
            let mine = |s: Subject| {
                l.items
                    .iter()
                    .filter(|i| i.organization_id == org && i.subject == s)
                    .count()
            };
            let acks: Vec<&acknowledgement::Model> =
                l.acks.iter().filter(|a| a.organization_id == org).collect();
            Contribution {
                organization_id: org,
                side: l.sides.get(&org).copied().unwrap_or(Side::Facility),
                shared_observations: mine(Subject::Observation),
                briefs: mine(Subject::MeetingBrief),
                monitoring_reports: mine(Subject::MonitoringReport),
                acknowledgements: acks.len(),
                median_response_minutes: median(
                    acks.iter()
                        .filter_map(|a| {
                            recorded
                                .get(&a.subject_id)
                                .map(|r| (a.acknowledged_at - *r).num_minutes().max(0))
                        })
                        .collect(),
                ),
            }
        })
        .collect())
}

/// Risk signs shared with the viewer's office and not yet acknowledged by it (at their current
/// version), oldest first, with the time before which a risk sign is overdue: the deadline
/// counts from when the sign occurred, so a sign written days late is overdue at once.
pub async fn unacknowledged_risk_signs(
    state: &Ctx,
    viewer: &Viewer,
    scope: &Scope,
    limit: usize,
) -> ApiResult<(Vec<observation::Model>, DateTime<Utc>)> {
    let hours = organization::Entity::find_by_id(viewer.organization_id)
        .one(&state.db)
        .await?
        .map(|o| o.risk_acknowledgement_hours)
        .unwrap_or(24);
    let deadline = super::now() - Duration::hours(i64::from(hours));
    let candidates: Vec<observation::Model> = observation::Entity::find()
        .filter(scope.observation_condition())
        .filter(observation::Column::ClientId.is_in(scope.current_clients(None)))
        .filter(observation::Column::Category.eq(ObservationCategory::RiskSign))
        .filter(observation::Column::Status.eq(RecordStatus::Current))
        .filter(observation::Column::OrganizationId.ne(viewer.organization_id))
        .filter(
            observation::Column::RecordedAt.gte(super::now() - Duration::days(OVERDUE_WINDOW_DAYS)),
        )
        .order_by_asc(observation::Column::RecordedAt)
        .limit(MAX_ITEMS)
        .all(&state.db)
        .await?
        .into_iter()
        .filter(|o| scope.can_see_observation(o))
        .collect();
    let acked: HashSet<(Uuid, i32)> = acknowledgement::Entity::find()
        .filter(acknowledgement::Column::OrganizationId.eq(viewer.organization_id))
        .filter(acknowledgement::Column::SubjectId.is_in(candidates.iter().map(|o| o.id)))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|a| (a.subject_id, a.subject_version))
        .collect();
    let list = candidates
        .into_iter()
        .filter(|o| !acked.contains(&(o.id, o.version)))
        .take(limit)
        .collect();
    Ok((list, deadline))
}

/// How far back risk signs are watched: longer than the longest deadline (720 hours) plus a
/// sweep.
const OVERDUE_WINDOW_DAYS: i64 = 31;

/// Raises `RISK_SIGN_OVERDUE` once per risk sign that a current consultation office of the
/// client (not its writer) may see and has not acknowledged at its current version, when the
/// sign occurred longer ago than that office's deadline. Run by every instance's hub; the alert
/// row's primary key makes the event appear once however many instances sweep at the same time. Candidates are read a
/// page at a time, so risk signs that can never be alerted do not hide newer ones.
pub async fn raise_overdue(db: &sea_orm::DatabaseConnection) -> ApiResult<usize> {
    use entity::{care_team_membership, risk_sign_alert};
    let now = super::now();
    let mut raised = 0;
    let mut after: Option<(DateTime<Utc>, Uuid)> = None;
    let mut scopes: HashMap<(Uuid, Uuid), Scope> = HashMap::new();
    loop {
        let alerted = risk_sign_alert::Entity::find()
            .select_only()
            .column(risk_sign_alert::Column::ObservationId)
            .into_query();
        let mut q = observation::Entity::find()
            .filter(observation::Column::Category.eq(ObservationCategory::RiskSign))
            .filter(observation::Column::Status.eq(RecordStatus::Current))
            .filter(observation::Column::Visibility.ne(Visibility::Internal))
            .filter(observation::Column::RecordedAt.gte(now - Duration::days(OVERDUE_WINDOW_DAYS)))
            .filter(observation::Column::Id.not_in_subquery(alerted));
        if let Some((at, id)) = after {
            q = q.filter(
                sea_orm::Condition::any()
                    .add(observation::Column::RecordedAt.gt(at))
                    .add(
                        sea_orm::Condition::all()
                            .add(observation::Column::RecordedAt.eq(at))
                            .add(observation::Column::Id.gt(id)),
                    ),
            );
        }
        let candidates = q
            .order_by_asc(observation::Column::RecordedAt)
            .order_by_asc(observation::Column::Id)
            .limit(200)
            .all(db)
            .await?;
        let Some(last) = candidates.last() else {
            return Ok(raised);
        };
        after = Some((last.recorded_at, last.id));
        let clients: Vec<Uuid> = candidates.iter().map(|o| o.client_id).collect();
        let offices: Vec<care_team_membership::Model> = care_team_membership::Entity::find()
            .filter(care_team_membership::Column::ClientId.is_in(clients))
            .filter(
                care_team_membership::Column::Relationship
                    .eq(care_team_membership::CareRelationship::Consultation),
            )
            .all(db)
            .await?
            .into_iter()
            .filter(|m| m.is_current_on(today()))
            .collect();
        let office_ids: Vec<Uuid> = offices.iter().map(|m| m.organization_id).collect();
        let hours: HashMap<Uuid, i32> = super::organizations::by_ids(db, &office_ids)
            .await?
            .into_values()
            .map(|o| (o.id, o.risk_acknowledgement_hours))
            .collect();
        let acked: HashSet<(Uuid, Uuid, i32)> = acknowledgement::Entity::find()
            .filter(acknowledgement::Column::SubjectId.is_in(candidates.iter().map(|o| o.id)))
            .all(db)
            .await?
            .into_iter()
            .map(|a| (a.organization_id, a.subject_id, a.subject_version))
            .collect();
        for o in &candidates {
            let mut overdue = false;
            for m in offices.iter().filter(|m| m.client_id == o.client_id) {
                let hours = i64::from(*hours.get(&m.organization_id).unwrap_or(&24));
                if m.organization_id == o.organization_id
                    || now < o.occurred_from + Duration::hours(hours)
                    || acked.contains(&(m.organization_id, o.id, o.version))
                {
                    continue;
                }
                let scope = match scopes.entry((m.organization_id, o.client_id)) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => e.insert(
                        Scope::for_organization_client(db, m.organization_id, o.client_id).await?,
                    ),
                };
                overdue |= scope.can_see_observation(o);
            }
            if overdue && raise(db, o, now).await? {
                raised += 1;
            }
        }
    }
}

/// Writes one alert and its event in one transaction; `false` when another instance won.
async fn raise(
    db: &sea_orm::DatabaseConnection,
    o: &observation::Model,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    let txn = crate::db::begin_write(db).await?;
    let inserted = entity::risk_sign_alert::ActiveModel {
        observation_id: Set(o.id),
        client_id: Set(o.client_id),
        raised_at: Set(now),
    }
    .insert(&txn)
    .await;
    match inserted {
        Ok(_) => {
            super::outbox::append(
                &txn,
                super::outbox::NewEvent {
                    actor: super::outbox::Actor {
                        staff_member_id: o.author_staff_member_id,
                        organization_id: o.organization_id,
                    },
                    kind: super::outbox::EventKind::RiskSignOverdue,
                    client_id: o.client_id,
                    record_type: super::outbox::RecordType::Observation,
                    record_id: o.id,
                },
            )
            .await?;
            txn.commit().await?;
            Ok(true)
        }
        Err(e) if super::is_unique_violation(&e) => {
            txn.rollback().await?;
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

/// Sets how many hours the viewer's consultation office has to acknowledge a shared risk sign
/// (org admins and specialists of consultation offices; 0–720, where 0 alerts at once).
pub async fn set_deadline(state: &Ctx, viewer: &Viewer, hours: i32) -> ApiResult<i32> {
    use entity::staff_member::StaffRole;
    if viewer.organization_kind != OrganizationKind::ConsultationOffice
        || !matches!(
            viewer.role,
            StaffRole::OrgAdmin | StaffRole::ConsultationSpecialist
        )
    {
        return Err(ApiError::forbidden(
            "The acknowledgement deadline is set by a consultation office's admins and specialists.",
        ));
    }
    if !(0..=720).contains(&hours) {
        return Err(ApiError::bad_input("hours", "hours is 0 to 720."));
    }
    let org = organization::Entity::find_by_id(viewer.organization_id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("Organization"))?;
    let mut m: organization::ActiveModel = org.into();
    m.risk_acknowledgement_hours = Set(hours);
    Ok(m.update(&state.db).await?.risk_acknowledgement_hours)
}
