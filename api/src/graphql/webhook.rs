//! Webhooks (Webhook通知): org admins register HTTPS endpoints for event kinds and read the
//! delivery log.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{webhook_delivery, webhook_endpoint};
use sea_orm::ActiveEnum;

use super::{
    context::ContextExt,
    ids,
    pagination::{connection_types, page_args},
    subscription::ClientEventKind,
};
use crate::service::{deliveries::Delivery, events::EventKind, outbox::Cursor, webhooks};

/// Where a webhook delivery stands (配信状況).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::webhook_delivery::DeliveryStatus")]
pub enum WebhookDeliveryStatus {
    /// Waiting for its next attempt (未配信・再試行待ち).
    Pending,
    /// The endpoint answered 2xx (配信済み).
    Succeeded,
    /// Every attempt failed; only `redeliverWebhook` tries again (配信失敗).
    Failed,
    /// Not sent (配信保留): when it was due, your organization could no longer see the record
    /// (made internal, entered in error, consent or membership ended). Deliveries are judged when
    /// they go out, not only when they are queued.
    Withheld,
}

/// A webhook endpoint (Webhook送信先): receives, signed, the events your organization may see.
pub(super) struct Webhook(webhook_endpoint::Model);

/// A webhook endpoint (Webhook送信先): receives, signed, the events your organization may see.
#[Object]
impl Webhook {
    /// Opaque global id.
    async fn id(&self) -> ID {
        ids::encode("Webhook", self.0.id)
    }
    /// The HTTPS URL deliveries are posted to.
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// A note for people (e.g. 記録システム連携).
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The event kinds it receives.
    async fn event_kinds(&self) -> Vec<ClientEventKind> {
        webhooks::kinds_of(&self.0)
            .into_iter()
            .map(Into::into)
            .collect()
    }
    /// False while paused: no new deliveries are made for it.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// When it was registered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Its delivery log (配信履歴), newest first.
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only deliveries in this status.")] status: Option<WebhookDeliveryStatus>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
    ) -> async_graphql::Result<WebhookDeliveryConnection> {
        let viewer = ctx.viewer()?;
        let args = page_args(ctx, first, after, None, None)?;
        let page = webhooks::deliveries(
            &ctx.state()?.db,
            viewer,
            self.0.id,
            status.map(Into::into),
            &args,
        )
        .await?;
        Ok(WebhookDeliveryConnection::from_page(
            page,
            |d| d.id,
            WebhookDelivery,
        ))
    }
}

/// One event sent to one endpoint, with its attempts so far (配信記録).
#[derive(Clone)]
pub(super) struct WebhookDelivery(webhook_delivery::Model);

connection_types!(
    WebhookDeliveryConnection,
    WebhookDeliveryEdge,
    WebhookDelivery,
    "webhook deliveries (配信記録)"
);

/// One event sent to one endpoint, with its attempts so far (配信記録).
#[Object]
impl WebhookDelivery {
    /// Opaque global id; also sent as the `Kakehashi-Delivery` header and `deliveryId`.
    async fn id(&self) -> ID {
        ids::encode("WebhookDelivery", self.0.id)
    }
    /// The event kind.
    async fn event_kind(&self) -> Option<ClientEventKind> {
        Some(self.0.event_kind.into())
    }
    /// The JSON body sent (the same on every attempt).
    async fn payload(&self) -> async_graphql::Json<serde_json::Value> {
        async_graphql::Json(self.0.payload.clone())
    }
    /// Where it stands.
    async fn status(&self) -> WebhookDeliveryStatus {
        self.0.status.into()
    }
    /// Attempts made so far.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// When the last attempt was made.
    async fn last_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_attempt_at
    }
    /// The HTTP status the endpoint last answered; null when it did not answer.
    async fn last_status_code(&self) -> Option<i32> {
        self.0.last_status_code
    }
    /// Why the last attempt got no answer (timed out, connection failed, …).
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// When the next attempt is due, while pending.
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        (self.0.status == webhook_delivery::DeliveryStatus::Pending)
            .then_some(self.0.next_attempt_at)
    }
    /// When the endpoint accepted it.
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
    /// When it was created (after the event committed).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Input of `registerWebhook`.
#[derive(InputObject)]
pub(super) struct RegisterWebhookInput {
    /// The endpoint: `https://…`, public, without credentials.
    pub url: String,
    /// The event kinds to receive (at least one).
    pub event_kinds: Vec<ClientEventKind>,
    /// A note for people (at most 200 characters).
    pub description: Option<String>,
}

/// Input of `updateWebhook`.
#[derive(InputObject)]
pub(super) struct UpdateWebhookInput {
    /// The endpoint's global id.
    pub id: ID,
    /// New event kinds (omit to keep them).
    pub event_kinds: Option<Vec<ClientEventKind>>,
    /// Pause (false) or resume (true); omit to keep.
    pub active: Option<bool>,
}

/// Result of `registerWebhook`.
#[derive(SimpleObject)]
pub(super) struct RegisterWebhookPayload {
    /// The endpoint.
    pub webhook: Webhook,
    /// The signing secret (署名用シークレット). Shown this once: verify every delivery's
    /// `Kakehashi-Signature` with it (see the README).
    pub secret: String,
}

/// Result of webhook changes.
#[derive(SimpleObject)]
pub(super) struct WebhookPayload {
    /// The endpoint after the change.
    pub webhook: Webhook,
}

/// Result of `removeWebhook`.
#[derive(SimpleObject)]
pub(super) struct RemoveWebhookPayload {
    /// The removed endpoint's global id.
    pub removed_id: ID,
}

/// Result of `redeliverWebhook`.
#[derive(SimpleObject)]
pub(super) struct RedeliverWebhookPayload {
    /// The delivery, due again now.
    pub delivery: WebhookDelivery,
}

fn kinds(list: Vec<ClientEventKind>) -> Vec<EventKind> {
    list.into_iter().map(Into::into).collect()
}

#[derive(Default)]
pub(super) struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// Your organization's webhook endpoints (org admins only; at most 20).
    async fn webhooks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Webhook>> {
        let viewer = ctx.viewer()?;
        let list = webhooks::list(&ctx.state()?.db, viewer).await?;
        Ok(list.into_iter().map(Webhook).collect())
    }
}

#[derive(Default)]
pub(super) struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Registers an endpoint for event kinds (org admins only). It receives, from now on,
    /// every event of those kinds your organization may see, signed with the returned secret.
    async fn register_webhook(
        &self,
        ctx: &Context<'_>,
        input: RegisterWebhookInput,
    ) -> async_graphql::Result<RegisterWebhookPayload> {
        let viewer = ctx.viewer()?;
        let (model, secret) = webhooks::register(
            ctx.state()?,
            viewer,
            webhooks::NewEndpoint {
                url: input.url,
                event_kinds: kinds(input.event_kinds),
                description: input.description,
            },
        )
        .await?;
        Ok(RegisterWebhookPayload {
            webhook: Webhook(model),
            secret,
        })
    }

    /// Changes an endpoint's event kinds, or pauses or resumes it (org admins only).
    async fn update_webhook(
        &self,
        ctx: &Context<'_>,
        input: UpdateWebhookInput,
    ) -> async_graphql::Result<WebhookPayload> {
        let viewer = ctx.viewer()?;
        let id = ids::decode("Webhook", "id", &input.id)?;
        let model = webhooks::update(
            ctx.state()?,
            viewer,
            id,
            input.event_kinds.map(kinds),
            input.active,
        )
        .await?;
        // A resumed endpoint's waiting deliveries go out now.
        ctx.state()?.hub.wake_webhooks();
        Ok(WebhookPayload {
            webhook: Webhook(model),
        })
    }

    /// Removes an endpoint and its delivery log (org admins only).
    async fn remove_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's global id.")] id: ID,
    ) -> async_graphql::Result<RemoveWebhookPayload> {
        let viewer = ctx.viewer()?;
        let uuid = ids::decode("Webhook", "id", &id)?;
        let removed = webhooks::remove(ctx.state()?, viewer, uuid).await?;
        Ok(RemoveWebhookPayload {
            removed_id: ids::encode("Webhook", removed),
        })
    }

    /// Sends a delivery again now, whatever its status (org admins only): one more attempt.
    async fn redeliver_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery's global id.")] delivery_id: ID,
    ) -> async_graphql::Result<RedeliverWebhookPayload> {
        let viewer = ctx.viewer()?;
        let uuid = ids::decode("WebhookDelivery", "deliveryId", &delivery_id)?;
        let model = webhooks::redeliver(ctx.state()?, viewer, uuid).await?;
        ctx.state()?.hub.wake_webhooks();
        Ok(RedeliverWebhookPayload {
            delivery: WebhookDelivery(model),
        })
    }
}

/// The JSON body of one webhook delivery: ids only, in the API's global-id form, so the
/// receiver fetches the record through the API, authorized as itself (README: Webhooks).
pub fn payload(d: &Delivery, delivery_id: uuid::Uuid) -> serde_json::Value {
    let e = &d.event;
    serde_json::json!({
        "deliveryId": delivery_id.to_string(),
        "eventId": Cursor::of(e).encode(),
        "kind": e.kind.to_value(),
        "occurredAt": e.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "clientId": ids::encode("Client", e.client_id).0,
        "record": {
            "type": ids::record_type_name(e.record_type),
            "id": ids::encode(ids::record_type_name(e.record_type), e.record_id).0,
        },
        "actorOrganizationId": ids::encode("Organization", e.actor_organization_id).0,
    })
}
