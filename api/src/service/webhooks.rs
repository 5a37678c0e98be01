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

mod queue;

pub use queue::*;

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
                let ([a, b], [c, d]) = (hi.to_be_bytes(), lo.to_be_bytes());
                std::net::Ipv4Addr::new(a, b, c, d)
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

#[cfg(test)]
mod tests;
