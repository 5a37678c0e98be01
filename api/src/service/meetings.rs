//! Meetings (会議) and the three-point briefs (事前共有の3点) facilities submit before them.
//!
//! A meeting's invitation (kind, time, place, who is invited, whether briefs have arrived) is
//! coordination data every current care-team member sees; its minutes are shared under the
//! `MEETINGS` consent category. Briefs go from a facility to the consultation office under the
//! same category. When a meeting's direction differs from the previous held meeting's, a reason
//! is required: the direction must not wobble silently.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entity::{
    meeting::{self, MeetingKind, MeetingStatus},
    meeting_brief,
    observation::{self, RecordStatus, Visibility},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

use super::{
    access::Scope,
    documents::BriefContent,
    events::{self, EventKind, RecordType},
    optional_text,
    timeline::{self, EntryKind},
};
use crate::service::ClientWrite;
use crate::{
    auth::{
        Viewer,
        policy::{self, AnyRecordFacts, DataCategory},
    },
    db,
    error::{ApiError, ApiResult},
    service::Ctx,
};

mod minutes;
pub use minutes::{MinutesInput, direction_changed, previous_held, record_minutes};

/// Invitation facts: every current member sees a meeting.
pub fn facts(m: &meeting::Model) -> AnyRecordFacts {
    AnyRecordFacts {
        organization_id: m.organization_id,
        visibility: Visibility::CareTeam,
        data: None,
        safeguarding: false,
        on: super::access::jst_day(m.scheduled_at),
    }
}

/// Minutes facts: the host, or members whose consent covers meetings.
pub fn minutes_facts(m: &meeting::Model) -> AnyRecordFacts {
    AnyRecordFacts {
        data: Some(DataCategory::Meetings),
        ..facts(m)
    }
}

/// Brief facts: the writing facility and the consultation office, under consent.
pub fn brief_facts(b: &meeting_brief::Model) -> AnyRecordFacts {
    AnyRecordFacts {
        organization_id: b.organization_id,
        visibility: Visibility::Consultation,
        data: Some(DataCategory::Meetings),
        safeguarding: false,
        on: super::access::jst_day(b.submitted_at),
    }
}

pub fn invited(m: &meeting::Model) -> Vec<Uuid> {
    super::json_uuids(&m.invited_organization_ids)
}

/// Meetings are scheduled within the past year and the next two years.
fn check_window(at: DateTime<Utc>) -> ApiResult<()> {
    if at < Utc::now() - Duration::days(365) || at > Utc::now() + Duration::days(730) {
        return Err(ApiError::bad_input(
            "scheduledAt",
            "Schedule within the past year and the next two years.",
        ));
    }
    Ok(())
}

/// A meeting to schedule.
#[derive(Debug, Clone)]
pub struct NewMeeting {
    pub client_id: Uuid,
    pub kind: MeetingKind,
    pub scheduled_at: DateTime<Utc>,
    pub place: Option<String>,
    pub online: bool,
    pub invited_organization_ids: Vec<Uuid>,
    pub agenda: Option<String>,
    /// The convening organization's own id: a schedule repeated with the same one returns the
    /// first meeting instead of a second.
    pub external_id: Option<String>,
}

/// Schedules a meeting; the invited organizations must be current care-team members.
pub async fn schedule(state: &Ctx, viewer: &Viewer, new: NewMeeting) -> ApiResult<meeting::Model> {
    db::retrying(|| schedule_once(state, viewer, new.clone())).await
}

/// One attempt of [`schedule`].
async fn schedule_once(state: &Ctx, viewer: &Viewer, new: NewMeeting) -> ApiResult<meeting::Model> {
    let txn = ClientWrite::for_client(viewer, new.client_id)
        .open(
            state,
            policy::can_host_meeting,
            "Only coordinators of a current care-team member schedule meetings.",
        )
        .await?;
    let external_id = super::external_ids::validate(new.external_id.clone())?;
    if let Some(ext) = &external_id {
        let existing = meeting::Entity::find()
            .filter(meeting::Column::OrganizationId.eq(viewer.organization_id))
            .filter(meeting::Column::ExternalId.eq(ext.as_str()))
            .one(&txn)
            .await?;
        if let Some(m) = existing {
            return super::external_ids::same_client(m.client_id, new.client_id, m);
        }
    }
    let place = optional_text("place", new.place, 200)?;
    let agenda = optional_text("agenda", new.agenda, 4000)?;
    if place.is_none() && !new.online {
        return Err(ApiError::bad_input(
            "place",
            "Give a place, or mark the meeting online.",
        ));
    }
    check_window(new.scheduled_at)?;
    let members = super::care_team::of_clients(&txn, &[new.client_id])
        .await?
        .remove(&new.client_id)
        .unwrap_or_default();
    let today = super::access::today();
    let mut invited: Vec<Uuid> = Vec::new();
    for org in &new.invited_organization_ids {
        if !members
            .iter()
            .any(|m| m.organization_id == *org && m.is_current_on(today))
        {
            return Err(ApiError::bad_input(
                "invitedOrganizationIds",
                "Invite only current care-team members.",
            ));
        }
        if !invited.contains(org) {
            invited.push(*org);
        }
    }
    let now = super::now();
    let model = meeting::ActiveModel {
        id: Set(Uuid::now_v7()),
        client_id: Set(new.client_id),
        organization_id: Set(viewer.organization_id),
        kind: Set(new.kind),
        status: Set(MeetingStatus::Scheduled),
        version: Set(1),
        scheduled_at: Set(super::micros(new.scheduled_at)),
        place: Set(place),
        online: Set(new.online),
        invited_organization_ids: Set(serde_json::json!(invited)),
        agenda: Set(agenda),
        attendance: Set(serde_json::json!([])),
        minutes: Set(None),
        direction: Set(None),
        direction_change_reason: Set(None),
        created_by_staff_member_id: Set(viewer.staff_member_id),
        created_at: Set(now),
        updated_at: Set(now),
        external_id: Set(external_id),
    }
    .insert(&txn)
    .await
    .map_err(super::external_ids::race)?;
    put_meeting_timeline(&txn, &model).await?;
    events::record_change(
        &txn,
        viewer,
        EventKind::MeetingScheduled,
        model.client_id,
        RecordType::Meeting,
        model.id,
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

async fn put_meeting_timeline(db: &impl ConnectionTrait, m: &meeting::Model) -> ApiResult<()> {
    timeline::put(
        db,
        timeline::Entry {
            kind: EntryKind::Meeting,
            record_id: m.id,
            client_id: m.client_id,
            occurred_at: m.scheduled_at,
            organization_id: m.organization_id,
            visibility: Visibility::CareTeam,
            data: None,
            category: None,
            status: if m.status == MeetingStatus::Cancelled {
                RecordStatus::EnteredInError
            } else {
                RecordStatus::Current
            },
        },
    )
    .await
}

/// Loads a meeting for a change by its host.
async fn for_host_change(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    expected_version: i32,
) -> ApiResult<meeting::Model> {
    let m = meeting::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("Meeting"))?;
    ClientWrite::for_record(viewer, m.client_id, "Meeting")
        .seen_as(facts(&m))
        .check_in(
            db,
            |viewer, rel| {
                m.organization_id == viewer.organization_id && policy::can_host_meeting(viewer, rel)
            },
            "Only the host organization's coordinators change a meeting.",
        )
        .await?;
    if m.version != expected_version {
        return Err(ApiError::conflict(format!(
            "The meeting is at version {}, not {expected_version}: reload it.",
            m.version
        )));
    }
    Ok(m)
}

/// Reschedules or cancels a scheduled meeting.
pub async fn update(
    state: &Ctx,
    viewer: &Viewer,
    id: Uuid,
    expected_version: i32,
    scheduled_at: Option<DateTime<Utc>>,
    place: Option<String>,
    cancel: bool,
) -> ApiResult<meeting::Model> {
    db::retrying(|| {
        update_once(
            state,
            viewer,
            id,
            expected_version,
            scheduled_at,
            place.clone(),
            cancel,
        )
    })
    .await
}

/// One attempt of [`update`].
async fn update_once(
    state: &Ctx,
    viewer: &Viewer,
    id: Uuid,
    expected_version: i32,
    scheduled_at: Option<DateTime<Utc>>,
    place: Option<String>,
    cancel: bool,
) -> ApiResult<meeting::Model> {
    let txn = db::begin_write(&state.db).await?;
    let m = for_host_change(&txn, viewer, id, expected_version).await?;
    if m.status != MeetingStatus::Scheduled {
        return Err(ApiError::conflict(
            "Only a scheduled meeting can be changed.",
        ));
    }
    let mut am = m.clone().into_active_model();
    if let Some(at) = scheduled_at {
        check_window(at)?;
        am.scheduled_at = Set(super::micros(at));
    }
    if let Some(p) = optional_text("place", place, 200)? {
        am.place = Set(Some(p));
    }
    if cancel {
        am.status = Set(MeetingStatus::Cancelled);
    }
    am.version = Set(m.version + 1);
    am.updated_at = Set(super::now());
    let model = am.update(&txn).await?;
    put_meeting_timeline(&txn, &model).await?;
    events::record_change(
        &txn,
        viewer,
        EventKind::MeetingUpdated,
        model.client_id,
        RecordType::Meeting,
        model.id,
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// Submits (or resubmits) the viewer's facility's brief for a meeting it is invited to.
pub async fn submit_brief(
    state: &Ctx,
    viewer: &Viewer,
    meeting_id: Uuid,
    content: BriefContent,
) -> ApiResult<meeting_brief::Model> {
    db::retrying(|| submit_brief_once(state, viewer, meeting_id, content.clone())).await
}

/// One attempt of [`submit_brief`].
async fn submit_brief_once(
    state: &Ctx,
    viewer: &Viewer,
    meeting_id: Uuid,
    content: BriefContent,
) -> ApiResult<meeting_brief::Model> {
    content.validate()?;
    let m = meeting::Entity::find_by_id(meeting_id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("Meeting"))?;
    // Checked before the write transaction: the fact check below is analysis, not a write.
    let scope = ClientWrite::for_record(viewer, m.client_id, "Meeting")
        .seen_as(facts(&m))
        .check_in(
            &state.db,
            |viewer, rel| {
                invited(&m).contains(&viewer.organization_id)
                    && policy::can_write_individual_plan(viewer, rel)
            },
            "Briefs come from the service managers of invited facilities.",
        )
        .await?;
    if m.status != MeetingStatus::Scheduled || m.scheduled_at <= Utc::now() {
        return Err(ApiError::conflict(
            "Briefs are submitted before the meeting.",
        ));
    }
    // Every point states a fact: it cites observations, passes the fact check, or is marked by
    // its writer as an impression. What the check finds is shown on the brief (computed when
    // read, like every fact check).
    let own = super::fact_checks::lexicons(&state.db, &[viewer.organization_id])
        .await?
        .remove(&viewer.organization_id);
    super::evidence::require_facts(&content, own.as_deref())?;
    // Every cited observation must be one the facility can see, about this client, and one
    // every consultation office the brief goes to may read already: a brief never carries a
    // record past the client's consent.
    let mut cited = Vec::new();
    for p in content.points() {
        for id in &p.observation_ids {
            cited.push(id.0);
        }
    }
    if !cited.is_empty() {
        let offices = super::care_team::consultation_office_scopes(&state.db, m.client_id).await?;
        let found = observation::Entity::find()
            .filter(observation::Column::Id.is_in(cited.clone()))
            .all(&state.db)
            .await?;
        let ok = cited.iter().all(|id| {
            found.iter().any(|o| {
                o.id == *id
                    && o.client_id == m.client_id
                    && scope.can_see_observation(o)
                    && offices.iter().all(|s| s.can_see_observation(o))
            })
        });
        if !ok {
            return Err(ApiError::bad_input(
                "content.observationIds",
                "Cite only observations of this client that you and the client's consultation office may read.",
            ));
        }
    }
    let now = super::now();
    let txn = db::begin_write(&state.db).await?;
    let existing = meeting_brief::Entity::find()
        .filter(meeting_brief::Column::MeetingId.eq(meeting_id))
        .filter(meeting_brief::Column::OrganizationId.eq(viewer.organization_id))
        .one(&txn)
        .await?;
    let json = serde_json::to_value(&content).map_err(ApiError::internal)?;
    let model = match existing {
        Some(b) => {
            let version = b.version + 1;
            let mut am = b.into_active_model();
            am.content = Set(json);
            am.version = Set(version);
            am.submitted_by_staff_member_id = Set(viewer.staff_member_id);
            am.submitted_at = Set(now);
            am.update(&txn).await?
        }
        None => {
            meeting_brief::ActiveModel {
                id: Set(Uuid::now_v7()),
                meeting_id: Set(meeting_id),
                client_id: Set(m.client_id),
                organization_id: Set(viewer.organization_id),
                content: Set(json),
                version: Set(1),
                submitted_by_staff_member_id: Set(viewer.staff_member_id),
                submitted_at: Set(now),
            }
            .insert(&txn)
            .await?
        }
    };
    timeline::put(
        &txn,
        timeline::Entry {
            kind: EntryKind::Brief,
            record_id: model.id,
            client_id: model.client_id,
            occurred_at: model.submitted_at,
            organization_id: model.organization_id,
            visibility: Visibility::Consultation,
            data: Some(DataCategory::Meetings),
            category: None,
            status: RecordStatus::Current,
        },
    )
    .await?;
    events::record_change(
        &txn,
        viewer,
        EventKind::BriefSubmitted,
        model.client_id,
        RecordType::MeetingBrief,
        model.id,
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// One meeting the viewer may see.
pub async fn get(state: &Ctx, viewer: &Viewer, id: Uuid) -> ApiResult<(meeting::Model, Scope)> {
    let m = meeting::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("Meeting"))?;
    let scope = Scope::for_client(&state.db, viewer, m.client_id).await?;
    if !scope.can_see_record(m.client_id, facts(&m)) {
        return Err(ApiError::NotFound("Meeting"));
    }
    state
        .read_audits
        .record(
            viewer,
            entity::read_audit::ReadOperation::Meetings,
            vec![(Some(m.client_id), vec![m.id])],
        )
        .await?;
    Ok((m, scope))
}

/// Meetings of clients the scope may see, newest first, at most 100 each (one query).
pub async fn of_clients(
    db: &impl ConnectionTrait,
    scope: &Scope,
    clients: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<meeting::Model>>> {
    let meetings = meeting::Entity::find()
        .filter(meeting::Column::ClientId.is_in(clients.iter().copied()))
        .order_by_desc(meeting::Column::ScheduledAt)
        .all(db)
        .await?
        .into_iter()
        .filter(|m| scope.can_see_record(m.client_id, facts(m)))
        .collect();
    Ok(super::capped(super::group_by(meetings, |m| m.client_id)))
}

/// Briefs of meetings (one query), keyed by meeting.
pub async fn briefs(
    db: &impl ConnectionTrait,
    meeting_ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<meeting_brief::Model>>> {
    Ok(super::group_by(
        meeting_brief::Entity::find()
            .filter(meeting_brief::Column::MeetingId.is_in(meeting_ids.iter().copied()))
            .order_by_asc(meeting_brief::Column::Id)
            .all(db)
            .await?,
        |r| r.meeting_id,
    ))
}

/// Upcoming scheduled meetings of clients the viewer serves today, soonest first.
pub async fn upcoming(db: &impl ConnectionTrait, scope: &Scope) -> ApiResult<Vec<meeting::Model>> {
    use sea_orm::QuerySelect;
    let clients = scope.current_clients(None);
    Ok(meeting::Entity::find()
        .filter(meeting::Column::ClientId.is_in(clients))
        .filter(meeting::Column::Status.eq(MeetingStatus::Scheduled))
        .filter(meeting::Column::ScheduledAt.gte(Utc::now() - Duration::hours(12)))
        .order_by_asc(meeting::Column::ScheduledAt)
        .limit(100)
        .all(db)
        .await?
        .into_iter()
        .filter(|m| scope.can_see_record(m.client_id, facts(m)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_direction_change_is_a_change_of_words_not_of_spacing() {
        assert!(!direction_changed(None, "見通し支援を続ける"));
        assert!(!direction_changed(
            Some("見通し支援を続ける "),
            "見通し支援を続ける"
        ));
        assert!(direction_changed(
            Some("見通し支援を続ける"),
            "一人暮らしの準備を始める"
        ));
    }
}
