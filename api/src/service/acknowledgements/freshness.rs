//! Freshness (鮮度) per client and side, and reciprocity (who contributed what).

use super::*;

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
