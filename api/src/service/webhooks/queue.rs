//! The delivery queue: events turned into deliveries (one per endpoint and event), claimed so
//! that one instance sends each attempt, outcomes recorded with exponential backoff, and the
//! log pruned past the retention.

use super::*;

/// When the next pending delivery of an active endpoint falls due (one indexed statement), so
/// that an idle sender sleeps until then instead of polling.
pub async fn next_attempt_at(db: &impl ConnectionTrait) -> ApiResult<Option<DateTime<Utc>>> {
    use sea_orm::sea_query::Query;
    let active = Query::select()
        .column(webhook_endpoint::Column::Id)
        .from(webhook_endpoint::Entity)
        .and_where(webhook_endpoint::Column::Active.eq(true))
        .to_owned();
    let next: Option<Option<DateTime<Utc>>> = webhook_delivery::Entity::find()
        .select_only()
        .column_as(webhook_delivery::Column::NextAttemptAt.min(), "next")
        .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
        .filter(webhook_delivery::Column::EndpointId.in_subquery(active))
        .into_tuple()
        .one(db)
        .await?;
    Ok(next.flatten())
}

/// Sets the dispatcher's place in the outbox if it has none (a new installation): at the current
/// head, before the server takes requests, so that history is not replayed to endpoints
/// registered later and no event written after the start is skipped (created on the
/// dispatcher's first pass instead, it could land after an event written meanwhile).
pub async fn start_at_head(db: &impl ConnectionTrait) -> ApiResult<()> {
    cursor(db).await.map(|_| ())
}

/// Where the dispatcher stands in the outbox; created at the current head the first time, so a
/// new installation does not replay history to endpoints registered later.
async fn cursor(db: &impl ConnectionTrait) -> ApiResult<i64> {
    if let Some(c) = webhook_cursor::Entity::find_by_id(1).one(db).await? {
        return Ok(c.last_event_id);
    }
    let head = outbox::head(db).await?;
    webhook_cursor::Entity::insert(webhook_cursor::ActiveModel {
        id: Set(1),
        last_event_id: Set(head),
    })
    .on_conflict(
        OnConflict::column(webhook_cursor::Column::Id)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(webhook_cursor::Entity::find_by_id(1)
        .one(db)
        .await?
        .map_or(head, |c| c.last_event_id))
}

/// Turns the next outbox events into deliveries for every active endpoint whose organization
/// may see them. Safe on several instances at once: a delivery is unique per endpoint and
/// event, and the cursor only moves forward from where this step read it. `payload` builds
/// the body for one event and endpoint. Returns how many events were processed.
pub async fn enqueue_next(
    db: &impl ConnectionTrait,
    payload: impl Fn(&Delivery, &webhook_endpoint::Model, Uuid) -> serde_json::Value,
) -> ApiResult<usize> {
    let after = cursor(db).await?;
    let rows = outbox::read_after(db, after, None, ENQUEUE_BATCH).await?;
    let Some(last) = rows.last().map(|e| e.id) else {
        return Ok(0);
    };
    let processed = rows.len();
    let endpoints = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::Active.eq(true))
        .all(db)
        .await?;
    if !endpoints.is_empty() {
        let mut scopes: HashMap<Uuid, Scope> = HashMap::new();
        for e in &endpoints {
            if let std::collections::hash_map::Entry::Vacant(slot) = scopes.entry(e.organization_id)
            {
                slot.insert(Scope::for_organization(db, e.organization_id).await?);
            }
        }
        let kinds: Vec<(Uuid, Vec<EventKind>)> =
            endpoints.iter().map(|e| (e.id, kinds_of(e))).collect();
        let now = crate::service::now();
        let mut rows_out = Vec::new();
        for d in deliveries::load(db, rows).await? {
            let kind = d.event.kind;
            for (e, (_, wanted)) in endpoints.iter().zip(&kinds) {
                if wanted.contains(&kind) && d.visible_to(&scopes[&e.organization_id]) {
                    let id = Uuid::now_v7();
                    rows_out.push(webhook_delivery::ActiveModel {
                        id: Set(id),
                        endpoint_id: Set(e.id),
                        organization_id: Set(e.organization_id),
                        event_id: Set(d.event.id),
                        event_kind: Set(kind),
                        payload: Set(payload(&d, e, id)),
                        status: Set(DeliveryStatus::Pending),
                        attempts: Set(0),
                        next_attempt_at: Set(now),
                        last_attempt_at: Set(None),
                        last_status_code: Set(None),
                        last_error: Set(None),
                        created_at: Set(now),
                        delivered_at: Set(None),
                    });
                }
            }
        }
        for chunk in rows_out.chunks(100) {
            webhook_delivery::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::columns([
                        webhook_delivery::Column::EndpointId,
                        webhook_delivery::Column::EventId,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(db)
                .await?;
        }
    }
    webhook_cursor::Entity::update_many()
        .col_expr(webhook_cursor::Column::LastEventId, Expr::value(last))
        .filter(webhook_cursor::Column::Id.eq(1))
        .filter(webhook_cursor::Column::LastEventId.lt(last))
        .exec(db)
        .await?;
    Ok(processed)
}

/// A delivery claimed for one attempt, with where and how to send it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery: webhook_delivery::Model,
    pub url: String,
    pub secret: String,
    /// The due time the claim set: the outcome is recorded only while it still stands.
    pub claimed_until: DateTime<Utc>,
}

/// Claims up to `limit` due deliveries of active endpoints: each is pushed `lease` into the
/// future first (a compare-and-set on its due time), so no other instance sends it meanwhile.
pub async fn claim_due(
    db: &impl ConnectionTrait,
    limit: u64,
    lease: Duration,
) -> ApiResult<Vec<Claimed>> {
    let now = crate::service::now();
    // Only active endpoints' deliveries: a paused endpoint's backlog must never stand in
    // front of everyone else's.
    let endpoints: HashMap<Uuid, webhook_endpoint::Model> = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::Active.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    if endpoints.is_empty() {
        return Ok(Vec::new());
    }
    let due = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
        .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
        .filter(webhook_delivery::Column::EndpointId.is_in(endpoints.keys().copied()))
        .order_by_asc(webhook_delivery::Column::NextAttemptAt)
        .limit(limit)
        .all(db)
        .await?;
    let until = now + chrono::Duration::from_std(lease).map_err(ApiError::internal)?;
    let mut claimed = Vec::new();
    for d in due {
        let Some(e) = endpoints.get(&d.endpoint_id) else {
            continue;
        };
        let won = webhook_delivery::Entity::update_many()
            .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(until))
            .filter(webhook_delivery::Column::Id.eq(d.id))
            .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
            .filter(webhook_delivery::Column::NextAttemptAt.eq(d.next_attempt_at))
            .exec(db)
            .await?
            .rows_affected
            == 1;
        if won {
            claimed.push(Claimed {
                url: e.url.clone(),
                secret: e.secret.clone(),
                claimed_until: until,
                delivery: d,
            });
        }
    }
    Ok(claimed)
}

/// Judges claimed deliveries again, as they are about to be sent: an event is delivered only if
/// the endpoint's organization may see its record *now* (it may have been made internal, entered
/// in error, or a consent revoked since the delivery was queued). Those it may not see are marked
/// `WITHHELD` (under their claim) and left out. The payload is ids only, and the receiver fetches
/// the record with its own key, judged again then; so the only window left is between this check
/// and the POST, milliseconds, and it leaks no content.
pub async fn still_visible(
    db: &impl ConnectionTrait,
    claimed: Vec<Claimed>,
) -> ApiResult<Vec<Claimed>> {
    if claimed.is_empty() {
        return Ok(claimed);
    }
    let event_ids: Vec<i64> = claimed.iter().map(|c| c.delivery.event_id).collect();
    let events = entity::outbox_event::Entity::find()
        .filter(entity::outbox_event::Column::Id.is_in(event_ids))
        .all(db)
        .await?;
    let deliveries: HashMap<i64, Delivery> = deliveries::load(db, events)
        .await?
        .into_iter()
        .map(|d| (d.event.id, d))
        .collect();
    let mut scopes: HashMap<Uuid, Scope> = HashMap::new();
    let mut send = Vec::with_capacity(claimed.len());
    for c in claimed {
        let org = c.delivery.organization_id;
        if let std::collections::hash_map::Entry::Vacant(slot) = scopes.entry(org) {
            slot.insert(Scope::for_organization(db, org).await?);
        }
        // An event pruned from the outbox cannot be judged: it is not sent.
        let visible = deliveries
            .get(&c.delivery.event_id)
            .is_some_and(|d| d.visible_to(&scopes[&org]));
        if visible {
            send.push(c);
        } else {
            webhook_delivery::Entity::update_many()
                .col_expr(
                    webhook_delivery::Column::Status,
                    Expr::value(DeliveryStatus::Withheld),
                )
                .col_expr(
                    webhook_delivery::Column::LastError,
                    Expr::value("withheld: the record is no longer visible to this organization"),
                )
                .filter(webhook_delivery::Column::Id.eq(c.delivery.id))
                .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
                .filter(webhook_delivery::Column::NextAttemptAt.eq(c.claimed_until))
                .exec(db)
                .await?;
        }
    }
    Ok(send)
}

/// The wait before attempt `attempts + 1`: `base × 2^(attempts − 1)`, at most six hours.
pub fn backoff(base: Duration, attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    base.saturating_mul(1 << exp).min(MAX_BACKOFF)
}

/// How one attempt went.
#[derive(Debug, Clone)]
pub enum AttemptOutcome {
    /// The endpoint answered with this status (2xx counts as delivered).
    Answered(u16),
    /// No answer (connection refused, timeout, refused address…): a short description.
    Failed(String),
}

/// Records an attempt: delivered, or scheduled again with backoff, or failed for good. Only
/// while the claim stands: if a manual redelivery or another instance took the delivery over
/// meanwhile, this stale outcome is dropped. Returns the new status.
pub async fn record_attempt(
    db: &impl ConnectionTrait,
    config: &Config,
    claim: &Claimed,
    outcome: &AttemptOutcome,
) -> ApiResult<DeliveryStatus> {
    let delivery = &claim.delivery;
    let now = crate::service::now();
    let attempts = delivery.attempts + 1;
    let (code, error) = match outcome {
        AttemptOutcome::Answered(c) => (Some(i32::from(*c)), None),
        AttemptOutcome::Failed(e) => (None, Some(e.chars().take(300).collect::<String>())),
    };
    let delivered = code.is_some_and(|c| (200..300).contains(&c));
    let status = if delivered {
        DeliveryStatus::Succeeded
    } else if attempts >= config.webhook_max_attempts {
        DeliveryStatus::Failed
    } else {
        DeliveryStatus::Pending
    };
    let next: DateTime<Utc> = now
        + chrono::Duration::from_std(backoff(config.webhook_retry_base, attempts))
            .map_err(ApiError::internal)?;
    let mut q = webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Attempts, Expr::value(attempts))
        .col_expr(webhook_delivery::Column::Status, Expr::value(status))
        .col_expr(webhook_delivery::Column::LastAttemptAt, Expr::value(now))
        .col_expr(webhook_delivery::Column::LastStatusCode, Expr::value(code))
        .col_expr(webhook_delivery::Column::LastError, Expr::value(error))
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(next))
        .filter(webhook_delivery::Column::Id.eq(delivery.id))
        .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
        .filter(webhook_delivery::Column::NextAttemptAt.eq(claim.claimed_until));
    if delivered {
        q = q.col_expr(webhook_delivery::Column::DeliveredAt, Expr::value(now));
    }
    q.exec(db).await?;
    Ok(status)
}

/// The last outbox event turned into deliveries (the outbox keeps everything after it).
pub async fn cursor_position(db: &impl ConnectionTrait) -> ApiResult<Option<i64>> {
    Ok(webhook_cursor::Entity::find_by_id(1)
        .one(db)
        .await?
        .map(|c| c.last_event_id))
}

/// Deletes finished deliveries created before `before` (the log keeps the outbox's retention).
pub async fn prune(db: &impl ConnectionTrait, before: DateTime<Utc>) -> ApiResult<u64> {
    Ok(webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::Status.ne(DeliveryStatus::Pending))
        .filter(webhook_delivery::Column::CreatedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}

/// Deliveries waiting (for `/metrics`).
pub async fn pending_count(db: &impl ConnectionTrait) -> ApiResult<u64> {
    Ok(webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
        .count(db)
        .await?)
}
