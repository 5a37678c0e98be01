//! Recording a meeting's minutes (会議録): the meeting is held. Split from `meetings` so that
//! the form's checks (開催時間, 本人・家族の出席, 照会) sit beside the write they guard.

use chrono::{DateTime, Duration, Utc};
use entity::meeting::{self, MeetingStatus};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

use super::{for_host_change, minutes_facts, put_meeting_timeline};
use crate::{
    auth::Viewer,
    db,
    error::{ApiError, ApiResult},
    service::Ctx,
    service::{
        access::Scope,
        documents::{Attendee, Minutes},
        events::{self, EventKind, RecordType},
        optional_text,
    },
};

/// Minutes as recorded.
#[derive(Debug, Clone)]
pub struct MinutesInput {
    pub attendance: Vec<Attendee>,
    pub minutes: Minutes,
    pub direction: String,
    pub direction_change_reason: Option<String>,
}

/// Whether two directions differ (ignoring surrounding white space).
pub fn direction_changed(previous: Option<&str>, next: &str) -> bool {
    previous.is_some_and(|p| p.trim() != next.trim())
}

/// Records the minutes: the meeting is held. A direction unlike the previous held meeting's needs
/// a reason.
pub async fn record_minutes(
    state: &Ctx,
    viewer: &Viewer,
    id: Uuid,
    expected_version: i32,
    input: MinutesInput,
) -> ApiResult<meeting::Model> {
    db::retrying(|| record_minutes_once(state, viewer, id, expected_version, input.clone())).await
}

/// One attempt of [`record_minutes`].
async fn record_minutes_once(
    state: &Ctx,
    viewer: &Viewer,
    id: Uuid,
    expected_version: i32,
    input: MinutesInput,
) -> ApiResult<meeting::Model> {
    input.minutes.validate()?;
    if input.attendance.len() > 50 {
        return Err(ApiError::bad_input("attendance", "At most 50 attendees."));
    }
    for a in &input.attendance {
        crate::service::required_text("attendance.name", &a.name, 100)?;
        crate::service::required_text("attendance.affiliation", &a.affiliation, 200)?;
    }
    // Organization ids in the minutes were checked to be organization ids when the input was
    // read (`graphql::ids`); they are stored as named, like an enquiry's free-text addressee.
    let direction = crate::service::required_text("direction", &input.direction, 1000)?;
    let reason = optional_text("directionChangeReason", input.direction_change_reason, 2000)?;
    let txn = db::begin_write(&state.db).await?;
    let m = for_host_change(&txn, viewer, id, expected_version).await?;
    if m.status != MeetingStatus::Scheduled {
        return Err(ApiError::conflict(
            "Minutes are recorded once, for a scheduled meeting.",
        ));
    }
    if m.scheduled_at > Utc::now() + Duration::hours(1) {
        return Err(ApiError::bad_input(
            "meetingId",
            "The meeting has not taken place yet.",
        ));
    }
    check_hours(&input.minutes, m.scheduled_at)?;
    // Compare with the previous meeting whose minutes the host may read (never reveal others').
    let scope = Scope::for_client(&txn, viewer, m.client_id).await?;
    let previous = previous_held(&txn, &scope, &m).await?;
    if direction_changed(
        previous.as_ref().and_then(|p| p.direction.as_deref()),
        &direction,
    ) && reason.is_none()
    {
        return Err(ApiError::bad_input(
            "directionChangeReason",
            "The direction differs from the previous meeting's: say why it changed.",
        ));
    }
    let mut am = m.clone().into_active_model();
    am.status = Set(MeetingStatus::Held);
    am.attendance = Set(serde_json::to_value(&input.attendance).map_err(ApiError::internal)?);
    am.minutes = Set(Some(
        serde_json::to_value(&input.minutes).map_err(ApiError::internal)?,
    ));
    am.direction = Set(Some(direction));
    am.direction_change_reason = Set(reason);
    am.version = Set(m.version + 1);
    am.updated_at = Set(crate::service::now());
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

/// The latest held meeting before `m` whose minutes the scope may read (for "previous
/// direction": a direction the viewer may not read is never revealed or compared against).
pub async fn previous_held(
    db: &impl ConnectionTrait,
    scope: &Scope,
    m: &meeting::Model,
) -> ApiResult<Option<meeting::Model>> {
    use sea_orm::QuerySelect;
    Ok(meeting::Entity::find()
        .filter(meeting::Column::ClientId.eq(m.client_id))
        .filter(meeting::Column::Status.eq(MeetingStatus::Held))
        .filter(meeting::Column::Id.ne(m.id))
        .filter(meeting::Column::ScheduledAt.lte(m.scheduled_at))
        .order_by_desc(meeting::Column::ScheduledAt)
        .limit(50)
        .all(db)
        .await?
        .into_iter()
        .find(|p| scope.can_see_record(p.client_id, minutes_facts(p))))
}

/// The meeting's hours (開催時間): it ends after it starts (its recorded start, else the
/// scheduled time), lasts at most 12 hours, and has ended by now.
fn check_hours(minutes: &Minutes, scheduled_at: DateTime<Utc>) -> ApiResult<()> {
    let start = minutes.started_at.unwrap_or(scheduled_at);
    let Some(end) = minutes.ended_at else {
        return Ok(());
    };
    let jst = |t: DateTime<Utc>| {
        (t + Duration::hours(9))
            .format("%Y-%m-%d %H:%M JST")
            .to_string()
    };
    if end <= start {
        return Err(ApiError::bad_input(
            "minutes.endedAt",
            format!(
                "The meeting ends after it starts (開催時間): endedAt {} is not after {}.",
                jst(end),
                jst(start)
            ),
        ));
    }
    if end - start > Duration::hours(12) {
        return Err(ApiError::bad_input(
            "minutes.endedAt",
            "A meeting lasts at most 12 hours.",
        ));
    }
    if end > Utc::now() + Duration::minutes(5) {
        return Err(ApiError::bad_input(
            "minutes.endedAt",
            "The meeting's end cannot be in the future.",
        ));
    }
    Ok(())
}
