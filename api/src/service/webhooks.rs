//! Webhooks (Webhook通知): an organization's HTTPS endpoints receive the events it may see, from
//! the same outbox as subscriptions.
//!
//! This module keeps the rules and the rows: registering endpoints (org admins only), turning
//! outbox events into deliveries (one per endpoint and event, judged by the same
//! [`Delivery::visible_to`] as subscriptions), claiming due deliveries so that one instance
//! sends each attempt, recording outcomes with exponential backoff, the delivery log and manual
//! redelivery. Sending and signing live in [`crate::realtime::webhooks`].

use std::{collections::HashMap, net::IpAddr, time::Duration};

use chrono::{DateTime, Utc};
use entity::{
    webhook_cursor,
    webhook_delivery::{self, DeliveryStatus},
    webhook_endpoint,
};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, sea_query::Expr,
    sea_query::OnConflict,
};
use uuid::Uuid;

use super::{
    access::Scope,
    deliveries::{self, Delivery},
    events::{self, EventKind},
    outbox,
    page::{Order, Page, PageArgs, paginate_ordered},
};
use crate::{
    auth::{Viewer, policy, random_token},
    config::Config,
    db,
    error::{ApiError, ApiResult},
    service::Ctx,
};

/// Endpoints one organization may register.
pub const MAX_ENDPOINTS: u64 = 20;
/// Outbox events turned into deliveries per step.
const ENQUEUE_BATCH: u64 = 200;
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(6 * 3600);

/// What an admin registers.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub url: String,
    pub event_kinds: Vec<EventKind>,
    pub description: Option<String>,
}

fn require_admin(viewer: &Viewer, action: &str) -> ApiResult<()> {
    if policy::can_manage_staff(viewer, viewer.organization_id) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "Only the organization's admin {action} webhooks."
        )))
    }
}

/// Checks a webhook URL: absolute HTTPS (HTTP only when the configuration allows insecure
/// endpoints), no credentials, and, for literal addresses, no private or loopback host.
pub fn check_url(config: &Config, url: &str) -> ApiResult<reqwest::Url> {
    let bad = |m: &str| ApiError::bad_input("url", m);
    if url.len() > 2000 {
        return Err(bad("The URL is longer than 2000 characters."));
    }
    let parsed = reqwest::Url::parse(url.trim()).map_err(|_| bad("The URL is not valid."))?;
    match parsed.scheme() {
        "https" => {}
        "http" if config.webhook_allow_insecure => {}
        _ => return Err(bad("Webhook URLs must use https.")),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad(
            "Put no credentials in the URL: verify the signature instead.",
        ));
    }
    let Some(host) = parsed.host_str() else {
        return Err(bad("The URL has no host."));
    };
    if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>()
        && !config.webhook_allow_insecure
        && !is_public(ip)
    {
        return Err(bad(
            "Webhook URLs must not point to private or local addresses.",
        ));
    }
    Ok(parsed)
}

/// Whether an address is public unicast: not loopback, private, shared (CGN), link-local,
/// documentation, benchmarking, multicast or reserved, including IPv4 addresses embedded in
/// IPv6 (mapped, compatible, NAT64, 6to4), which would otherwise reach the same hosts.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(a == 0
                || a == 10
                || a == 127
                || (a == 100 && (64..128).contains(&b))
                || (a == 169 && b == 254)
                || (a == 172 && (16..32).contains(&b))
                || (a == 192 && b == 168)
                || (a == 192 && b == 0 && c == 0)
                || (a == 192 && b == 0 && c == 2)
                || (a == 198 && (b == 18 || b == 19))
                || (a == 198 && b == 51 && c == 100)
                || (a == 203 && b == 0 && c == 113)
                || a >= 224)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                std::net::Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)
            };
            // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated).
            if s[..5] == [0; 5] && (s[5] == 0xffff || s[5] == 0) && !(s[5] == 0 && s[6] == 0) {
                return is_public(IpAddr::V4(embedded(s[6], s[7])));
            }
            // NAT64 (64:ff9b::/96) and 6to4 (2002::/16).
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return is_public(IpAddr::V4(embedded(s[6], s[7])));
            }
            if s[0] == 0x2002 {
                return is_public(IpAddr::V4(embedded(s[1], s[2])));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                || (s[0] & 0xff00) == 0xff00
                || (s[0] == 0x2001 && s[1] == 0x0db8))
        }
    }
}

fn kinds_json(kinds: &[EventKind]) -> ApiResult<serde_json::Value> {
    if kinds.is_empty() {
        return Err(ApiError::bad_input(
            "eventKinds",
            "Choose at least one event kind.",
        ));
    }
    let mut names: Vec<String> = kinds.iter().map(|k| k.to_value()).collect();
    names.sort_unstable();
    names.dedup();
    Ok(serde_json::json!(names))
}

/// The event kinds an endpoint receives.
pub fn kinds_of(e: &webhook_endpoint::Model) -> Vec<EventKind> {
    e.event_kinds
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().and_then(EventKind::parse))
                .collect()
        })
        .unwrap_or_default()
}

/// Registers an endpoint; returns it with its signing secret (shown once).
pub async fn register(
    state: &Ctx,
    viewer: &Viewer,
    new: NewEndpoint,
) -> ApiResult<(webhook_endpoint::Model, String)> {
    require_admin(viewer, "registers")?;
    let url = check_url(&state.config, &new.url)?;
    let kinds = kinds_json(&new.event_kinds)?;
    let description = super::optional_text("description", new.description, 200)?;
    let count = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::OrganizationId.eq(viewer.organization_id))
        .count(&state.db)
        .await?;
    if count >= MAX_ENDPOINTS {
        return Err(ApiError::bad_input(
            "url",
            format!("An organization registers at most {MAX_ENDPOINTS} webhooks."),
        ));
    }
    let secret = format!("whsec_{}", random_token());
    let now = super::now();
    let txn = db::begin_write(&state.db).await?;
    let model = webhook_endpoint::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(viewer.organization_id),
        url: Set(url.to_string()),
        description: Set(description),
        event_kinds: Set(kinds),
        secret: Set(secret.clone()),
        active: Set(true),
        created_by_staff_member_id: Set(viewer.staff_member_id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    events::record_read(&txn, viewer, "REGISTER_WEBHOOK", None, &[model.id]).await?;
    txn.commit().await?;
    Ok((model, secret))
}

async fn own_endpoint(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> ApiResult<webhook_endpoint::Model> {
    webhook_endpoint::Entity::find_by_id(id)
        .filter(webhook_endpoint::Column::OrganizationId.eq(viewer.organization_id))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("Webhook"))
}

/// Changes an endpoint's event kinds or pauses/resumes it (paused endpoints get no new
/// deliveries; pending ones wait).
pub async fn update(
    state: &Ctx,
    viewer: &Viewer,
    id: Uuid,
    event_kinds: Option<Vec<EventKind>>,
    active: Option<bool>,
) -> ApiResult<webhook_endpoint::Model> {
    require_admin(viewer, "changes")?;
    let endpoint = own_endpoint(&state.db, viewer, id).await?;
    let mut am = endpoint.into_active_model();
    if let Some(kinds) = event_kinds {
        am.event_kinds = Set(kinds_json(&kinds)?);
    }
    if let Some(active) = active {
        am.active = Set(active);
    }
    am.updated_at = Set(super::now());
    let txn = db::begin_write(&state.db).await?;
    let model = am.update(&txn).await?;
    events::record_read(&txn, viewer, "UPDATE_WEBHOOK", None, &[model.id]).await?;
    txn.commit().await?;
    Ok(model)
}

/// Removes an endpoint and its delivery log.
pub async fn remove(state: &Ctx, viewer: &Viewer, id: Uuid) -> ApiResult<Uuid> {
    require_admin(viewer, "removes")?;
    let endpoint = own_endpoint(&state.db, viewer, id).await?;
    let txn = db::begin_write(&state.db).await?;
    webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint.id))
        .exec(&txn)
        .await?;
    webhook_endpoint::Entity::delete_by_id(endpoint.id)
        .exec(&txn)
        .await?;
    events::record_read(&txn, viewer, "REMOVE_WEBHOOK", None, &[endpoint.id]).await?;
    txn.commit().await?;
    Ok(endpoint.id)
}

/// The organization's endpoints (admins only).
pub async fn list(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
) -> ApiResult<Vec<webhook_endpoint::Model>> {
    require_admin(viewer, "lists")?;
    Ok(webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::OrganizationId.eq(viewer.organization_id))
        .order_by_asc(webhook_endpoint::Column::CreatedAt)
        .limit(MAX_ENDPOINTS)
        .all(db)
        .await?)
}

/// One endpoint's delivery log, newest first.
pub async fn deliveries(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    endpoint_id: Uuid,
    status: Option<DeliveryStatus>,
    page: &PageArgs,
) -> ApiResult<Page<webhook_delivery::Model>> {
    require_admin(viewer, "reads the log of")?;
    let mut q = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint_id))
        .filter(webhook_delivery::Column::OrganizationId.eq(viewer.organization_id));
    if let Some(s) = status {
        q = q.filter(webhook_delivery::Column::Status.eq(s));
    }
    paginate_ordered(
        db,
        q,
        webhook_delivery::Column::Id,
        page,
        Order::NewestFirst,
    )
    .await
}

/// Sends a delivery again as soon as possible (whatever its status); one more attempt.
pub async fn redeliver(
    state: &Ctx,
    viewer: &Viewer,
    delivery_id: Uuid,
) -> ApiResult<webhook_delivery::Model> {
    require_admin(viewer, "redelivers")?;
    let txn = db::begin_write(&state.db).await?;
    let d = webhook_delivery::Entity::find_by_id(delivery_id)
        .filter(webhook_delivery::Column::OrganizationId.eq(viewer.organization_id))
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("Webhook delivery"))?;
    let mut am = d.into_active_model();
    am.status = Set(DeliveryStatus::Pending);
    am.next_attempt_at = Set(super::now());
    let model = am.update(&txn).await?;
    events::record_read(&txn, viewer, "REDELIVER_WEBHOOK", None, &[model.id]).await?;
    txn.commit().await?;
    Ok(model)
}

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
        let now = super::now();
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
    let now = super::now();
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
    let now = super::now();
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

#[cfg(test)]
mod tests;
