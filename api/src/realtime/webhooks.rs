//! Sends webhook deliveries: the dispatcher turns published outbox events into deliveries, the
//! sender posts due ones, signed, and records each attempt (see [`crate::service::webhooks`]).
//!
//! **Payloads are thin**: the event's kind, time, cursor and the global ids of the client and the
//! record, never their content. A receiver fetches what it needs through the API with its own
//! key, so a leaked webhook log holds no personal data and the API's authorization stays the
//! only gate to records.
//!
//! **Signature** (documented in the README): header
//! `Kakehashi-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. The
//! receiver recomputes it over the raw body, compares in constant time, and rejects timestamps
//! older than a few minutes (replays).

use std::time::Duration;

use futures_util::future::join_all;
use hmac::{Hmac, Mac};
use sea_orm::ActiveEnum;
use sha2::Sha256;

use super::Live;
use crate::{
    metrics::WebhookOutcome,
    service::{
        deliveries::Delivery,
        webhooks::{self, AttemptOutcome, Claimed},
    },
};

/// Deliveries sent at once by one instance.
const SEND_BATCH: u64 = 16;
/// The sender's pause between batches while deliveries are due, and its shortest sleep.
const SENDER_TICK: Duration = Duration::from_millis(250);
/// The longest the sender sleeps with nothing due: the bound on how late a delivery made due
/// elsewhere (another instance's redelivery or resumed endpoint) goes out.
const SENDER_IDLE: Duration = Duration::from_secs(5);

/// The `Kakehashi-Signature` header value for a body sent at `timestamp`.
#[expect(
    clippy::expect_used,
    reason = "HMAC takes a key of any length: new_from_slice never fails for it"
)]
pub(crate) fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Builds the JSON body of one delivery: the API's public representation of the event, so it
/// is given by the GraphQL layer (global ids), see `graphql::webhook_payload`.
pub(crate) type Payload = fn(&Delivery, uuid::Uuid) -> serde_json::Value;

/// Turns published events into webhook deliveries until the instance stops (a background job,
/// see [`super::jobs`]).
pub(super) async fn dispatch(state: Live, payload: Payload) {
    let hub = state.hub.clone();
    let stopping = hub.stopping();
    tokio::pin!(stopping);
    let db = &state.background_db;
    // The hub's head when the outbox was last read to its end: while it stays, nothing new was
    // published (the hub reads every instance's events), so the safety tick reads nothing.
    let mut caught_up_at: Option<i64> = None;
    loop {
        tokio::select! {
            () = &mut stopping => return,
            () = hub.published() => {}
            () = tokio::time::sleep(state.config.outbox_poll_interval) => {
                if caught_up_at == Some(hub.head()) {
                    continue;
                }
            }
        }
        let head = hub.head();
        loop {
            match webhooks::enqueue_next(db, |d, _, id| payload(d, id)).await {
                Ok(200..) => {
                    hub.wake_webhooks();
                    continue;
                }
                Ok(n) => {
                    if n > 0 {
                        hub.wake_webhooks();
                    }
                    caught_up_at = Some(head);
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = ?e, "turning events into webhook deliveries failed");
                    break;
                }
            }
        }
    }
}

/// Sends due webhook deliveries until the instance stops (a background job).
pub(super) async fn send(state: Live) {
    let mut builder = reqwest::Client::builder()
        .timeout(state.config.webhook_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Kakehashi-Webhooks/", env!("CARGO_PKG_VERSION")));
    if !state.config.webhook_allow_insecure {
        // Checked where the connection is made, so a name cannot resolve to a public address
        // for the check and to an internal one for the request (DNS rebinding).
        builder = builder.dns_resolver(std::sync::Arc::new(PublicOnly));
    }
    let client = match builder.build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the webhook HTTP client; webhooks are off");
            return;
        }
    };
    let lease = state.config.webhook_timeout + Duration::from_secs(5);
    let stopping = state.hub.stopping();
    tokio::pin!(stopping);
    let mut wait = Duration::ZERO;
    loop {
        tokio::select! {
            () = &mut stopping => return,
            () = state.hub.webhooks_due() => {}
            () = tokio::time::sleep(wait) => {}
        }
        wait = SENDER_TICK;
        let claimed = match webhooks::claim_due(&state.background_db, SEND_BATCH, lease).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = ?e, "claiming webhook deliveries failed");
                continue;
            }
        };
        if claimed.is_empty() {
            // Asleep until the next retry falls due or something is queued (woken), with a
            // safety tick for wake-ups from elsewhere (another instance's redelivery).
            wait = match webhooks::next_attempt_at(&state.background_db).await {
                Ok(Some(at)) => (at - chrono::Utc::now())
                    .to_std()
                    .unwrap_or_default()
                    .clamp(SENDER_TICK, SENDER_IDLE),
                _ => SENDER_IDLE,
            };
            continue;
        }
        // Judged again as they go out, not only when they were queued.
        let claimed = match webhooks::still_visible(&state.background_db, claimed).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = ?e, "judging webhook deliveries failed");
                continue;
            }
        };
        join_all(claimed.into_iter().map(|c| attempt(&state, &client, c))).await;
    }
}

/// One attempt of one delivery, recorded whatever happens.
async fn attempt(state: &Live, client: &reqwest::Client, c: Claimed) {
    // The whole attempt (name resolution included) ends before its claim does.
    let budget = state.config.webhook_timeout + Duration::from_secs(3);
    let outcome = match tokio::time::timeout(budget, post(state, client, &c)).await {
        Ok(outcome) => outcome,
        Err(_) => AttemptOutcome::Failed("timed out".into()),
    };
    if let AttemptOutcome::Failed(reason) = &outcome {
        tracing::info!(delivery = %c.delivery.id, reason, "webhook attempt failed");
    }
    state.metrics.webhook_attempt(match &outcome {
        AttemptOutcome::Answered(c) if (200..300).contains(c) => WebhookOutcome::Delivered,
        AttemptOutcome::Answered(_) => WebhookOutcome::Rejected,
        AttemptOutcome::Failed(_) => WebhookOutcome::Unreachable,
    });
    if let Err(e) =
        webhooks::record_attempt(&state.background_db, &state.config, &c, &outcome).await
    {
        tracing::warn!(error = ?e, delivery = %c.delivery.id, "recording a webhook attempt failed");
    }
}

async fn post(state: &Live, client: &reqwest::Client, c: &Claimed) -> AttemptOutcome {
    let Ok(url) = reqwest::Url::parse(&c.url) else {
        return AttemptOutcome::Failed("invalid URL".into());
    };
    if !state.config.webhook_allow_insecure
        && let Err(reason) = resolves_publicly(&url).await
    {
        return AttemptOutcome::Failed(reason);
    }
    let body = c.delivery.payload.to_string().into_bytes();
    let timestamp = chrono::Utc::now().timestamp();
    let result = client
        .post(url)
        .header("content-type", "application/json")
        .header(
            "kakehashi-signature",
            signature(&c.secret, timestamp, &body),
        )
        .header("kakehashi-delivery", c.delivery.id.to_string())
        .header("kakehashi-event", c.delivery.event_kind.to_value())
        .body(body)
        .send()
        .await;
    match result {
        Ok(res) => AttemptOutcome::Answered(res.status().as_u16()),
        Err(e) if e.is_timeout() => AttemptOutcome::Failed("timed out".into()),
        Err(e) if e.is_connect() => AttemptOutcome::Failed("connection failed".into()),
        Err(_) => AttemptOutcome::Failed("request failed".into()),
    }
}

/// A resolver that returns public addresses only.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|a| webhooks::is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err("the host resolves to no public address".into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Refuses hosts that resolve to internal addresses, with a clear reason for the delivery log
/// (the resolver above enforces it for the connection itself; a literal address skips DNS).
async fn resolves_publicly(url: &reqwest::Url) -> Result<(), String> {
    let host = url.host_str().ok_or("no host")?;
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|_| "the host does not resolve".to_owned())?;
    for a in addrs {
        if !webhooks::is_public(a.ip()) {
            return Err("the host resolves to a private or local address".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_documented_recipe() {
        // Computed independently with Python's hmac module:
        // hmac.new(b"whsec_test", b"1700000000.{}", hashlib.sha256).hexdigest()
        let sig = signature("whsec_test", 1_700_000_000, b"{}");
        assert_eq!(
            sig,
            "t=1700000000,v1=35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91"
        );
        assert_ne!(sig, signature("whsec_other", 1_700_000_000, b"{}"));
        assert_ne!(sig, signature("whsec_test", 1_700_000_001, b"{}"));
        assert_ne!(sig, signature("whsec_test", 1_700_000_000, b"{ }"));
    }
}
