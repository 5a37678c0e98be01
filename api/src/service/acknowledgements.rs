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
    state::AppState,
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
    organization_id: Uuid,
    happened: Option<DateTime<Utc>>,
    recorded: DateTime<Utc>,
}

/// Acknowledges records the viewer's organization may see and did not write. Idempotent: a
/// record acknowledged before keeps its first acknowledgement.
pub async fn acknowledge(
    state: &AppState,
    viewer: &Viewer,
    subjects: &[(Subject, Uuid)],
) -> ApiResult<Vec<acknowledgement::Model>> {
    if subjects.is_empty() || subjects.len() > MAX_PER_CALL {
        return Err(ApiError::bad_input(
            "ids",
            format!("Acknowledge 1 to {MAX_PER_CALL} records at a time."),
        ));
    }
    let scope = Scope::for_viewer(&state.db, viewer).await?;
    let ids = |s: Subject| -> Vec<Uuid> {
        subjects
            .iter()
            .filter(|(k, _)| *k == s)
            .map(|(_, id)| *id)
            .collect()
    };
    // (subject, id, client, writer, recorded)
    let mut found: Vec<(Subject, Uuid, Uuid, Uuid, DateTime<Utc>)> = Vec::new();
    for o in observation::Entity::find()
        .filter(observation::Column::Id.is_in(ids(Subject::Observation)))
        .all(&state.db)
        .await?
    {
        if scope.can_see_observation(&o) {
            found.push((
                Subject::Observation,
                o.id,
                o.client_id,
                o.organization_id,
                o.recorded_at,
            ));
        }
    }
    for b in meeting_brief::Entity::find()
        .filter(meeting_brief::Column::Id.is_in(ids(Subject::MeetingBrief)))
        .all(&state.db)
        .await?
    {
        if scope.can_see_record(b.client_id, meetings::brief_facts(&b)) {
            found.push((
                Subject::MeetingBrief,
                b.id,
                b.client_id,
                b.organization_id,
                b.submitted_at,
            ));
        }
    }
    for r in monitoring_report::Entity::find()
        .filter(monitoring_report::Column::Id.is_in(ids(Subject::MonitoringReport)))
        .all(&state.db)
        .await?
    {
        if scope.can_see_record(r.client_id, monitoring::facts(&r)) {
            found.push((
                Subject::MonitoringReport,
                r.id,
                r.client_id,
                r.organization_id,
                r.created_at,
            ));
        }
    }
    // Every id must be a record the viewer may see; unknown and invisible ones look the same.
    let mut wanted: Vec<Uuid> = subjects.iter().map(|(_, id)| *id).collect();
    wanted.sort_unstable();
    wanted.dedup();
    if found.len() != wanted.len() {
        return Err(ApiError::NotFound("Record"));
    }
    if found.iter().any(|f| f.3 == viewer.organization_id) {
        return Err(ApiError::bad_input(
            "ids",
            "Acknowledge records other organizations shared with you, not your own.",
        ));
    }
    let existing: HashMap<Uuid, acknowledgement::Model> = acknowledgement::Entity::find()
        .filter(acknowledgement::Column::OrganizationId.eq(viewer.organization_id))
        .filter(acknowledgement::Column::SubjectId.is_in(wanted.iter().copied()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|a| (a.subject_id, a))
        .collect();
    let now = super::now();
    let mut out = Vec::with_capacity(found.len());
    for (subject, id, client, writer, recorded) in found {
        if let Some(a) = existing.get(&id) {
            out.push(a.clone());
            continue;
        }
        let model = acknowledgement::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(viewer.organization_id),
            staff_member_id: Set(viewer.staff_member_id),
            client_id: Set(client),
            subject_type: Set(subject.as_str().to_owned()),
            subject_id: Set(id),
            subject_organization_id: Set(writer),
            subject_recorded_at: Set(recorded),
            acknowledged_at: Set(now),
        };
        match model.insert(&state.db).await {
            Ok(a) => out.push(a),
            // A concurrent acknowledgement of the same record won: keep it.
            Err(e) if super::is_unique_violation(&e) => {
                if let Some(a) = acknowledgement::Entity::find()
                    .filter(acknowledgement::Column::OrganizationId.eq(viewer.organization_id))
                    .filter(acknowledgement::Column::SubjectId.eq(id))
                    .one(&state.db)
                    .await?
                {
                    out.push(a);
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    super::events::record_read(
        &state.db,
        viewer,
        "ACKNOWLEDGE",
        out.first().map(|a| a.client_id),
        &out.iter().map(|a| a.subject_id).collect::<Vec<_>>(),
    )
    .await?;
    Ok(out)
}

fn jst_midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() - Duration::hours(9)
}

/// The period `[from, to]` in JST days (default the last 90 days), as times.
fn period(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
    let to = to.unwrap_or_else(today);
    let from = from.unwrap_or(to - Duration::days(89));
    if from > to || (to - from).num_days() > 366 {
        return Err(ApiError::bad_input(
            "from",
            "from must not be after to, and the period at most 366 days.",
        ));
    }
    Ok((jst_midnight(from), jst_midnight(to) + Duration::days(1)))
}

/// Shared records of a client recorded in `[start, end)` that the scope may see.
async fn shared(
    db: &impl ConnectionTrait,
    scope: &Scope,
    client_id: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> ApiResult<Vec<Shared>> {
    let mut out: Vec<Shared> = observation::Entity::find()
        .filter(scope.observation_condition())
        .filter(observation::Column::ClientId.eq(client_id))
        .filter(observation::Column::Status.eq(RecordStatus::Current))
        .filter(observation::Column::Visibility.ne(Visibility::Internal))
        .filter(observation::Column::RecordedAt.gte(start))
        .filter(observation::Column::RecordedAt.lt(end))
        .limit(MAX_ITEMS)
        .all(db)
        .await?
        .into_iter()
        .filter(|o| scope.can_see_observation(o))
        .map(|o| Shared {
            subject: Subject::Observation,
            id: o.id,
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
            .limit(MAX_ITEMS)
            .all(db)
            .await?
            .into_iter()
            .filter(|b| scope.can_see_record(b.client_id, meetings::brief_facts(b)))
            .map(|b| Shared {
                subject: Subject::MeetingBrief,
                id: b.id,
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
            .limit(MAX_ITEMS)
            .all(db)
            .await?
            .into_iter()
            .filter(|r| scope.can_see_record(r.client_id, monitoring::facts(r)))
            .map(|r| Shared {
                subject: Subject::MonitoringReport,
                id: r.id,
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
    state: &AppState,
    viewer: &Viewer,
    client_id: Uuid,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> ApiResult<Loaded> {
    let (start, end) = period(from, to)?;
    let scope = Scope::for_client(&state.db, viewer, client_id).await?;
    scope.require(client_id)?;
    let items = shared(&state.db, &scope, client_id, start, end).await?;
    let visible: HashSet<Uuid> = items.iter().map(|i| i.id).collect();
    let acks: Vec<acknowledgement::Model> = acknowledgement::Entity::find()
        .filter(acknowledgement::Column::ClientId.eq(client_id))
        .filter(acknowledgement::Column::SubjectRecordedAt.gte(start))
        .filter(acknowledgement::Column::SubjectRecordedAt.lt(end))
        .order_by_asc(acknowledgement::Column::AcknowledgedAt)
        .all(&state.db)
        .await?
        .into_iter()
        .filter(|a| visible.contains(&a.subject_id))
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
    state: &AppState,
    viewer: &Viewer,
    client_id: Uuid,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> ApiResult<Vec<Freshness>> {
    let l = load(state, viewer, client_id, from, to).await?;
    let mut out = Vec::new();
    for side in [Side::Facility, Side::Consultation] {
        let items: Vec<&Shared> = l
            .items
            .iter()
            .filter(|i| l.sides.get(&i.organization_id) == Some(&side))
            .collect();
        let mut unack = Vec::new();
        let (mut rec_lag, mut ack_lag, mut total_lag) = (Vec::new(), Vec::new(), Vec::new());
        for i in &items {
            if let Some(h) = i.happened {
                rec_lag.push((i.recorded - h).num_minutes().max(0));
            }
            let first = l.acks.iter().find(|a| {
                a.subject_id == i.id && l.sides.get(&a.organization_id).is_some_and(|s| *s != side)
            });
            match first {
                Some(a) => {
                    ack_lag.push((a.acknowledged_at - i.recorded).num_minutes().max(0));
                    if let Some(h) = i.happened {
                        total_lag.push((a.acknowledged_at - h).num_minutes().max(0));
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
    state: &AppState,
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

/// Risk signs shared with the viewer's office and not yet acknowledged by it, oldest first,
/// with whether each is past the office's deadline (`risk_acknowledgement_hours`).
pub async fn unacknowledged_risk_signs(
    state: &AppState,
    viewer: &Viewer,
    scope: &Scope,
    limit: u64,
) -> ApiResult<(Vec<observation::Model>, DateTime<Utc>)> {
    let hours = organization::Entity::find_by_id(viewer.organization_id)
        .one(&state.db)
        .await?
        .map(|o| o.risk_acknowledgement_hours)
        .unwrap_or(24);
    let deadline = super::now() - Duration::hours(i64::from(hours));
    let clients = scope.current_clients(None);
    let acknowledged = acknowledgement::Entity::find()
        .select_only()
        .column(acknowledgement::Column::SubjectId)
        .filter(acknowledgement::Column::OrganizationId.eq(viewer.organization_id))
        .filter(acknowledgement::Column::SubjectType.eq(Subject::Observation.as_str()))
        .filter(acknowledgement::Column::ClientId.is_in(clients.iter().copied()))
        .into_query();
    let list = observation::Entity::find()
        .filter(scope.observation_condition())
        .filter(observation::Column::ClientId.is_in(clients))
        .filter(observation::Column::Category.eq(ObservationCategory::RiskSign))
        .filter(observation::Column::Status.eq(RecordStatus::Current))
        .filter(observation::Column::OrganizationId.ne(viewer.organization_id))
        .filter(observation::Column::RecordedAt.gte(super::now() - Duration::days(90)))
        .filter(observation::Column::Id.not_in_subquery(acknowledged))
        .order_by_asc(observation::Column::RecordedAt)
        .limit(limit)
        .all(&state.db)
        .await?
        .into_iter()
        .filter(|o| scope.can_see_observation(o))
        .collect();
    Ok((list, deadline))
}

/// Raises `RISK_SIGN_OVERDUE` once per risk sign that a current consultation office of the
/// client may see, has not acknowledged, and received longer ago than its deadline. Run by
/// every instance's hub; the alert row's primary key makes the event appear once however many
/// instances sweep at the same time.
pub async fn raise_overdue(db: &sea_orm::DatabaseConnection) -> ApiResult<usize> {
    use entity::{care_team_membership, risk_sign_alert};
    let now = super::now();
    let alerted = risk_sign_alert::Entity::find()
        .select_only()
        .column(risk_sign_alert::Column::ObservationId)
        .into_query();
    let candidates = observation::Entity::find()
        .filter(observation::Column::Category.eq(ObservationCategory::RiskSign))
        .filter(observation::Column::Status.eq(RecordStatus::Current))
        .filter(observation::Column::Visibility.ne(Visibility::Internal))
        .filter(observation::Column::RecordedAt.gte(now - Duration::days(30)))
        .filter(observation::Column::Id.not_in_subquery(alerted))
        .order_by_asc(observation::Column::RecordedAt)
        .limit(500)
        .all(db)
        .await?;
    if candidates.is_empty() {
        return Ok(0);
    }
    let clients: Vec<Uuid> = candidates.iter().map(|o| o.client_id).collect();
    let offices: Vec<care_team_membership::Model> = care_team_membership::Entity::find()
        .filter(care_team_membership::Column::ClientId.is_in(clients))
        .filter(
            care_team_membership::Column::Relationship
                .eq(entity::care_team_membership::CareRelationship::Consultation),
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
    let acked: HashSet<(Uuid, Uuid)> = acknowledgement::Entity::find()
        .filter(acknowledgement::Column::SubjectId.is_in(candidates.iter().map(|o| o.id)))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.organization_id, a.subject_id))
        .collect();
    let mut scopes: HashMap<Uuid, Scope> = HashMap::new();
    let mut raised = 0;
    for o in &candidates {
        let mut overdue = false;
        for m in offices.iter().filter(|m| m.client_id == o.client_id) {
            let deadline = o.recorded_at
                + Duration::hours(i64::from(*hours.get(&m.organization_id).unwrap_or(&24)));
            if now < deadline || acked.contains(&(m.organization_id, o.id)) {
                continue;
            }
            let scope = match scopes.entry(m.organization_id) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(Scope::for_organization(db, m.organization_id).await?)
                }
            };
            if scope.can_see_observation(o) {
                overdue = true;
            }
        }
        if !overdue {
            continue;
        }
        let txn = crate::db::begin_write(db).await?;
        let inserted = risk_sign_alert::ActiveModel {
            observation_id: Set(o.id),
            client_id: Set(o.client_id),
            raised_at: Set(now),
        }
        .insert(&txn)
        .await;
        match inserted {
            Ok(_) => {
                super::outbox::append_as(
                    &txn,
                    (o.author_staff_member_id, o.organization_id),
                    super::events::EventKind::RiskSignOverdue.as_str(),
                    o.client_id,
                    "Observation",
                    o.id,
                )
                .await?;
                txn.commit().await?;
                raised += 1;
            }
            // Another instance raised it first.
            Err(e) if super::is_unique_violation(&e) => txn.rollback().await?,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(raised)
}

/// Sets how many hours the viewer's consultation office has to acknowledge a shared risk sign
/// (org admins and specialists of consultation offices; 0–720, where 0 alerts at once).
pub async fn set_deadline(state: &AppState, viewer: &Viewer, hours: i32) -> ApiResult<i32> {
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
