//! Risk signs left unacknowledged past the consultation office's deadline: listed, raised once
//! as `RISK_SIGN_OVERDUE` by the sweep, and the deadline itself.

use super::*;

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
    let deadline = crate::service::now() - Duration::hours(i64::from(hours));
    let candidates: Vec<observation::Model> = observation::Entity::find()
        .filter(scope.observation_condition())
        .filter(observation::Column::ClientId.is_in(scope.current_clients(None)))
        .filter(observation::Column::Category.eq(ObservationCategory::RiskSign))
        .filter(observation::Column::Status.eq(RecordStatus::Current))
        .filter(observation::Column::OrganizationId.ne(viewer.organization_id))
        .filter(
            observation::Column::RecordedAt
                .gte(crate::service::now() - Duration::days(OVERDUE_WINDOW_DAYS)),
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
    let now = crate::service::now();
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
        let hours: HashMap<Uuid, i32> = crate::service::organizations::by_ids(db, &office_ids)
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
            crate::service::outbox::append(
                &txn,
                crate::service::outbox::NewEvent {
                    actor: crate::service::outbox::Actor {
                        staff_member_id: o.author_staff_member_id,
                        organization_id: o.organization_id,
                    },
                    kind: crate::service::outbox::EventKind::RiskSignOverdue,
                    client_id: o.client_id,
                    record_type: crate::service::outbox::RecordType::Observation,
                    record_id: o.id,
                },
            )
            .await?;
            txn.commit().await?;
            Ok(true)
        }
        Err(e) if crate::service::is_unique_violation(&e) => {
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
