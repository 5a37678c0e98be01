//! GraphQL over WebSocket at `/graphql/ws`, the `graphql-transport-ws` protocol (the one the
//! `graphql-ws` client speaks), written out here so that every rule is ours to test:
//!
//! - The client must offer the `graphql-transport-ws` subprotocol (else 4406) and, from a
//!   browser, come from an allowed `Origin` (else HTTP 403 before the upgrade).
//! - Authentication travels in `connection_init`'s payload (`{"authorization": "Bearer …"}`),
//!   never in the URL. No valid token: 4403. No `connection_init` in time: 4408. A second one:
//!   4429. `subscribe` before `connection_ack`: 4401. A subscription id already running: 4409.
//!   Anything that is not a protocol message: 4400. Larger than the cap: 1009.
//! - The socket closes with 4403 when the access token expires or its session ends (logout,
//!   deactivation, password change): the client refreshes and reconnects with `after`.
//! - Requests that fail before execution (syntax, validation, an unknown client, an expired
//!   cursor) answer `error`; events answer `next`; a finished operation `complete`.
//! - The socket's own task polls its operations' response streams: a client that does not read
//!   stops its subscriptions from pulling events, which then fall behind the hub's buffer and
//!   end with `SUBSCRIBER_TOO_SLOW`. Memory stays bounded by the hub's buffer.
//! - When the server shuts down, sockets close with 1001 (going away) and clients reconnect to
//!   another instance with `after`.

use std::{collections::HashMap, future::Future, pin::Pin, sync::Arc, time::Duration};

use async_graphql::Variables;
use axum::{
    extract::{
        State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use futures_util::{
    SinkExt, StreamExt,
    stream::{self, AbortHandle, Abortable, BoxStream, SelectAll, SplitSink},
};
use serde_json::{Value, json};
use tokio::{sync::broadcast::error::RecvError, time::Instant};

use super::shared::{LastCursor, Received, ShareKey};
use crate::{
    auth::Credential,
    error::ErrorCode,
    graphql::{self, limits},
    http::authenticate_until,
    state::AppState,
};

/// The one subprotocol spoken here.
pub const SUBPROTOCOL: &str = "graphql-transport-ws";
/// A socket that cannot take a message for this long is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// The close codes of the protocol.
mod close {
    pub const INVALID_MESSAGE: u16 = 4400;
    pub const UNAUTHORIZED: u16 = 4401;
    pub const FORBIDDEN: u16 = 4403;
    pub const SUBPROTOCOL_NOT_ACCEPTABLE: u16 = 4406;
    pub const INIT_TIMEOUT: u16 = 4408;
    pub const SUBSCRIBER_EXISTS: u16 = 4409;
    pub const TOO_MANY_INITS: u16 = 4429;
    pub const INTERNAL: u16 = 4500;
    /// The database is unreachable: the client should reconnect in a moment (RFC 6455's
    /// "Try Again Later"; `graphql-ws` retries it like any non-4xxx close).
    pub const TRY_AGAIN_LATER: u16 = 1013;
    pub const TOO_BIG: u16 = 1009;
    pub const GOING_AWAY: u16 = 1001;
}

/// `GET /graphql/ws`: checks the origin, then upgrades.
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    address: crate::auth::ClientAddress,
    ws: WebSocketUpgrade,
) -> Response {
    if !origin_allowed(&state.config.ws_allowed_origins, &headers) {
        return (StatusCode::FORBIDDEN, "Origin not allowed.").into_response();
    }
    let cap = state.config.ws_max_message_bytes;
    // Small buffers: 10,000 idle sockets should not hold 128 KiB each (the defaults); a socket
    // whose unsent data passes 1 MiB is broken off.
    let ws = ws
        .protocols([SUBPROTOCOL])
        .max_message_size(cap)
        .max_frame_size(cap)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(1024 * 1024);
    let spoken = ws.selected_protocol().is_some();
    ws.on_upgrade(move |socket| Connection::run(state, socket, spoken, address))
}

/// Resolves when the session ends (logout, deactivation, password change, token reuse), as the
/// hub hears from the database; if its notices were missed, the session is checked directly.
async fn session_ends(state: AppState, session_id: uuid::Uuid) {
    let mut ended = state.hub.sessions_ended();
    // A revocation announced between authentication and subscribing above.
    if !crate::service::sessions::is_live(&state.db, session_id)
        .await
        .unwrap_or(true)
    {
        return;
    }
    loop {
        match ended.recv().await {
            Ok(ids) if ids.contains(&session_id) => return,
            Ok(_) => {}
            Err(RecvError::Lagged(_)) => {
                if !crate::service::sessions::is_live(&state.db, session_id)
                    .await
                    .unwrap_or(true)
                {
                    return;
                }
            }
            Err(RecvError::Closed) => std::future::pending().await,
        }
    }
}

/// A one-error GraphQL `errors` list with a stable code.
fn coded(code: ErrorCode, message: &str) -> Value {
    json!([{ "message": message, "extensions": { "code": code.as_str() } }])
}

/// Browsers send `Origin`; other clients usually do not. A browser page may connect from the
/// server's own origin or one in `WS_ALLOWED_ORIGINS` (`*` allows any).
fn origin_allowed(allowed: &[String], headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim_end_matches('/');
    if allowed
        .iter()
        .any(|a| a == "*" || a.eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    matches!((host, origin_host), (Some(h), Some(o)) if h.eq_ignore_ascii_case(o))
}

/// One item of a running operation: a response, or `None` when it has finished.
/// `generation` tells a finished operation from a newer one that reuses its id.
type Tagged = (String, u64, Option<Outcome>);

/// A response of a running operation: executed for this socket alone, or rendered once for
/// every socket sharing it (see [`super::shared`]).
enum Outcome {
    Executed(Box<async_graphql::Response>),
    Shared(super::shared::Received),
}

/// A running operation as the socket tracks it.
struct Running {
    generation: u64,
    abort: AbortHandle,
    /// Nothing sent yet: a failure now is an `error` message, not a `next`.
    first: bool,
    /// A mutation, with the cache generations it started under: settle them before its
    /// response goes out and wake the event hub when it is done.
    writes: Option<crate::service::invalidation::Marks>,
    /// A subscription, counted among the open ones while it runs.
    _open: Option<Open>,
}

/// Counts an open subscription in `kakehashi_active_subscriptions` for as long as it lives.
struct Open(prometheus_client::metrics::gauge::Gauge);

impl Open {
    fn new(gauge: &prometheus_client::metrics::gauge::Gauge) -> Self {
        gauge.inc();
        Self(gauge.clone())
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// A `next` message written straight to its text.
#[derive(serde::Serialize)]
struct NextFrame<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    payload: &'a async_graphql::Response,
}

/// Why the socket closes.
struct Close(u16, String);

impl Close {
    fn new(code: u16, reason: impl Into<String>) -> Self {
        Self(code, reason.into())
    }
}

struct Connection {
    state: AppState,
    sink: SplitSink<WebSocket, Message>,
    init_received: bool,
    credential: Option<Credential>,
    subscriptions: HashMap<String, Running>,
    /// The operations' response streams, polled by the socket's own task: one wake-up per
    /// event instead of a task and a queue per subscription.
    streams: SelectAll<BoxStream<'static, Tagged>>,
    generation: u64,
    /// The client's address (a login over the socket is throttled by it).
    address: crate::auth::ClientAddress,
}

impl Connection {
    async fn run(
        state: AppState,
        socket: WebSocket,
        spoken: bool,
        address: crate::auth::ClientAddress,
    ) {
        let (sink, mut incoming) = socket.split();
        let mut conn = Connection {
            state,
            sink,
            init_received: false,
            credential: None,
            subscriptions: HashMap::new(),
            streams: SelectAll::new(),
            generation: 0,
            address,
        };
        if !spoken {
            conn.close(Close::new(
                close::SUBPROTOCOL_NOT_ACCEPTABLE,
                "Subprotocol not acceptable",
            ))
            .await;
            return;
        }
        let config = conn.state.config.clone();
        let init_deadline = tokio::time::sleep(config.ws_init_timeout);
        tokio::pin!(init_deadline);
        // Reset to the token's expiry once acknowledged.
        let expiry = tokio::time::sleep(Duration::from_secs(365 * 24 * 3600));
        tokio::pin!(expiry);
        let mut keep_alive = tokio::time::interval(config.ws_keep_alive);
        keep_alive.reset();
        // Long-lived futures, pinned once: re-creating them on every turn of the loop would
        // register and drop a waiter per event on every socket.
        let mut session_end: Pin<Box<dyn Future<Output = ()> + Send>> =
            Box::pin(std::future::pending());
        let stopping = conn.state.hub.stopping();
        tokio::pin!(stopping);

        let ending = loop {
            let acked = conn.credential.is_some();
            tokio::select! {
                frame = incoming.next() => match frame {
                    Some(Ok(Message::Text(text))) => match conn.on_text(text.as_str()).await {
                        Ok(Some(exp)) => {
                            expiry.as_mut().reset(exp);
                            if let Some(Credential::Viewer(v)) = &conn.credential {
                                session_end = Box::pin(session_ends(conn.state.clone(), v.session_id));
                            }
                        }
                        Ok(None) => {}
                        Err(close) => break Some(close),
                    },
                    Some(Ok(Message::Binary(_))) => {
                        break Some(Close::new(close::INVALID_MESSAGE, "Binary messages are not supported"));
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(Message::Close(_))) | None => break None,
                    Some(Err(e)) => {
                        let too_big = e.to_string().to_ascii_lowercase().contains("too long")
                            || e.to_string().to_ascii_lowercase().contains("size");
                        break too_big.then(|| Close::new(close::TOO_BIG, "Message too big"));
                    }
                },
                () = &mut init_deadline, if !conn.init_received => {
                    break Some(Close::new(close::INIT_TIMEOUT, "Connection initialisation timeout"));
                }
                () = &mut expiry, if acked => {
                    break Some(Close::new(close::FORBIDDEN, "Forbidden: the access token expired"));
                }
                Some((id, generation, item)) = conn.streams.next(), if !conn.streams.is_empty() => {
                    if conn.forward(id, generation, item).await.is_err() {
                        break None;
                    }
                }
                _ = keep_alive.tick(), if acked => {
                    if conn.send(json!({ "type": "ping" })).await.is_err() {
                        break None;
                    }
                }
                () = &mut session_end => {
                    break Some(Close::new(close::FORBIDDEN, "Forbidden: the session ended"));
                }
                () = &mut stopping => {
                    break Some(Close::new(close::GOING_AWAY, "Server shutting down"));
                }
            }
        };
        for (_, running) in conn.subscriptions.drain() {
            running.abort.abort();
        }
        if let Some(close) = ending {
            conn.close(close).await;
        }
    }

    /// Handles one client message; `Ok(Some(t))` when the socket now lives until `t`.
    async fn on_text(&mut self, text: &str) -> Result<Option<Instant>, Close> {
        let invalid = || Close::new(close::INVALID_MESSAGE, "Invalid message received");
        let message: Value = serde_json::from_str(text).map_err(|_| invalid())?;
        let kind = message
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(invalid)?;
        match kind {
            "connection_init" => self.on_init(message.get("payload")).await.map(Some),
            "ping" => {
                self.send(json!({ "type": "pong" }))
                    .await
                    .map_err(|()| invalid())?;
                Ok(None)
            }
            "pong" => Ok(None),
            "subscribe" => {
                let id = message
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|id| !id.is_empty() && id.len() <= 128)
                    .ok_or_else(invalid)?;
                let payload = message.get("payload").ok_or_else(invalid)?;
                let Some(credential) = self.credential.clone() else {
                    return Err(Close::new(close::UNAUTHORIZED, "Unauthorized"));
                };
                let text = match payload.get("query") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(q)) => Some(q.as_str()),
                    Some(_) => return Err(invalid()),
                };
                // Persisted queries (APQ hashes, or the allow-list) apply to sockets too.
                let query = match self
                    .state
                    .persisted
                    .resolve(text, payload.get("extensions"))
                {
                    Ok(q) => q,
                    Err(refusal) => {
                        return self
                            .refuse(id, json!([refusal.to_json()]))
                            .await
                            .map(|()| None);
                    }
                };
                let query = query.as_str();
                let operation_name = match payload.get("operationName") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(_) => return Err(invalid()),
                };
                let variables = match payload.get("variables") {
                    None | Some(Value::Null) => None,
                    Some(v @ Value::Object(_)) => Some(v.clone()),
                    Some(_) => return Err(invalid()),
                };
                if self.subscriptions.contains_key(id) {
                    return Err(Close::new(
                        close::SUBSCRIBER_EXISTS,
                        format!("Subscriber for {id} already exists"),
                    ));
                }
                self.start(id.to_owned(), credential, query, operation_name, variables)
                    .await?;
                Ok(None)
            }
            "complete" => {
                let id = message
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or_else(invalid)?;
                if let Some(running) = self.subscriptions.remove(id) {
                    running.abort.abort();
                }
                Ok(None)
            }
            _ => Err(invalid()),
        }
    }

    async fn on_init(&mut self, payload: Option<&Value>) -> Result<Instant, Close> {
        if self.init_received {
            return Err(Close::new(
                close::TOO_MANY_INITS,
                "Too many initialisation requests",
            ));
        }
        self.init_received = true;
        let forbidden = || Close::new(close::FORBIDDEN, "Forbidden");
        let authorization = match payload {
            None | Some(Value::Null) => None,
            Some(Value::Object(p)) => p
                .get("authorization")
                .or_else(|| p.get("Authorization"))
                .and_then(Value::as_str),
            Some(_) => {
                return Err(Close::new(
                    close::INVALID_MESSAGE,
                    "Invalid message received",
                ));
            }
        };
        let (credential, exp) = authenticate_until(&self.state, authorization).await;
        let exp = match (&credential, exp) {
            (Credential::Viewer(_), Some(exp)) => exp,
            // An API key does not expire like a token; its revocation ends the session instead.
            (Credential::Viewer(_), None) => chrono::Utc::now().timestamp() + 365 * 24 * 3600,
            (Credential::Unavailable, _) => {
                return Err(Close::new(close::TRY_AGAIN_LATER, "Database unavailable"));
            }
            _ => return Err(forbidden()),
        };
        let left = exp - chrono::Utc::now().timestamp();
        if left <= 0 {
            return Err(forbidden());
        }
        self.credential = Some(credential);
        self.send(json!({ "type": "connection_ack" }))
            .await
            .map_err(|()| forbidden())?;
        Ok(Instant::now() + Duration::from_secs(left.unsigned_abs()))
    }

    /// Starts one operation; its responses are polled by the socket's own loop.
    async fn start(
        &mut self,
        id: String,
        credential: Credential,
        query: &str,
        operation_name: Option<String>,
        variables: Option<Value>,
    ) -> Result<(), Close> {
        let config = self.state.config.clone();
        if self.subscriptions.len() >= config.ws_max_subscriptions {
            let message = format!(
                "At most {} operations may run on one socket.",
                config.ws_max_subscriptions
            );
            return self
                .refuse(&id, coded(ErrorCode::RateLimited, &message))
                .await;
        }
        let variables = variables.map(Variables::from_json).unwrap_or_default();
        let document = match graphql::document::prepare(
            query,
            operation_name.as_deref(),
            &variables,
            &graphql::limits(&config),
        ) {
            Ok(d) => d,
            Err(e) => {
                let errors = serde_json::to_value(vec![e]).unwrap_or(Value::Null);
                return self.refuse(&id, errors).await;
            }
        };
        // The rule async-graphql leaves unchecked: a subscription has exactly one root field.
        if document.operation_type
            == Some(async_graphql::parser::types::OperationType::Subscription)
            && (document.root_selections != 1 || !document.roots_are_fields)
        {
            let message = "A subscription selects exactly one root field.";
            return self
                .refuse(&id, coded(ErrorCode::BadUserInput, message))
                .await;
        }
        self.generation += 1;
        let generation = self.generation;
        // Only a mutation writes (a subscription's settling would drop every cache at each event
        // after any access change since it started).
        let writes = (document.operation_type
            == Some(async_graphql::parser::types::OperationType::Mutation))
        .then(crate::service::invalidation::marks);
        let subscribes = document.operation_type
            == Some(async_graphql::parser::types::OperationType::Subscription);
        // A subscription from now, by a staff member: shared with their other sockets running it.
        let share = match &credential {
            Credential::Viewer(viewer) if subscribes && !document.resumes => {
                let json = serde_json::to_value(&variables).unwrap_or(Value::Null);
                Some(ShareKey::new(
                    viewer,
                    query,
                    operation_name.as_deref(),
                    &json,
                ))
            }
            _ => None,
        };
        let mut request = async_graphql::Request::new(query).variables(variables);
        if let Some(name) = operation_name {
            request = request.operation_name(name);
        }
        request.set_parsed_query(document.parsed);
        let outcome = Arc::new(limits::RequestOutcome::default());
        let request =
            graphql::request_data(request, &self.state, credential, outcome).data(self.address);
        let (abort, registration) = AbortHandle::new_pair();
        let (tag, end_tag) = (id.clone(), id.clone());
        let responses: BoxStream<'static, Outcome> = match share {
            Some(key) => {
                let schema = self.state.schema.clone();
                self.state
                    .shares
                    .join(
                        key,
                        config.subscriber_buffer,
                        self.state.metrics.clone(),
                        move || {
                            let cursor = LastCursor::default();
                            let request = request.data(cursor.clone());
                            (schema.execute_stream(request), cursor)
                        },
                    )
                    .map(Outcome::Shared)
                    .boxed()
            }
            None => self
                .state
                .schema
                .execute_stream(request)
                .map(|r| Outcome::Executed(Box::new(r)))
                .boxed(),
        };
        let responses = Abortable::new(responses, registration)
            .map(move |r| (tag.clone(), generation, Some(r)))
            .chain(stream::once(async move { (end_tag, generation, None) }));
        self.streams.push(responses.boxed());
        self.subscriptions.insert(
            id,
            Running {
                generation,
                abort,
                first: true,
                writes,
                _open: subscribes.then(|| Open::new(&self.state.metrics.active_subscriptions)),
            },
        );
        Ok(())
    }

    /// Answers a `subscribe` with an `error` message (the socket stays open).
    async fn refuse(&mut self, id: &str, errors: Value) -> Result<(), Close> {
        self.send(json!({ "type": "error", "id": id, "payload": errors }))
            .await
            .map_err(|()| Close::new(close::INTERNAL, "Internal server error"))
    }

    /// Sends an operation's response (or its end) if that operation is still the one running.
    async fn forward(
        &mut self,
        id: String,
        generation: u64,
        item: Option<Outcome>,
    ) -> Result<(), ()> {
        let Some(running) = self
            .subscriptions
            .get_mut(&id)
            .filter(|r| r.generation == generation)
        else {
            return Ok(());
        };
        let Some(item) = item else {
            let writes = running.writes;
            self.subscriptions.remove(&id);
            if writes.is_some() {
                // Committed changes wait in the outbox: deliver them now.
                self.state.hub.wake();
            }
            return self.send(json!({ "type": "complete", "id": id })).await;
        };
        let mut response = match item {
            Outcome::Executed(response) => {
                self.state.metrics.subscription_renders.inc();
                *response
            }
            Outcome::Shared(received) => {
                let first = std::mem::replace(&mut running.first, false);
                let payload = match &received {
                    Received::Rendered(r) => match &r.failed {
                        Some(errors) if first => {
                            if let Some(running) = self.subscriptions.remove(&id) {
                                running.abort.abort();
                            }
                            let id = serde_json::to_string(&id).map_err(|_| ())?;
                            return self
                                .send_text(format!(
                                    r#"{{"type":"error","id":{id},"payload":{errors}}}"#
                                ))
                                .await;
                        }
                        _ => &r.payload,
                    },
                    Received::TooSlow(payload) => payload,
                };
                self.state.metrics.subscription_messages.inc();
                let id = serde_json::to_string(&id).map_err(|_| ())?;
                return self
                    .send_text(format!(
                        r#"{{"type":"next","id":{id},"payload":{payload}}}"#
                    ))
                    .await;
            }
        };
        if let Some(marks) = running.writes {
            // Committed: what a concurrent request cached meanwhile must not outlive the answer.
            crate::service::invalidation::settle(marks);
        }
        limits::assign_codes(&mut response.errors, false);
        let failed = response.data == async_graphql::Value::Null && !response.errors.is_empty();
        if running.first && failed {
            if let Some(running) = self.subscriptions.remove(&id) {
                running.abort.abort();
            }
            let errors = serde_json::to_value(&response.errors).unwrap_or(Value::Null);
            return self
                .send(json!({ "type": "error", "id": id, "payload": errors }))
                .await;
        }
        running.first = false;
        self.state.metrics.subscription_messages.inc();
        let frame = NextFrame {
            kind: "next",
            id: &id,
            payload: &response,
        };
        match serde_json::to_string(&frame) {
            Ok(text) => self.send_text(text).await,
            Err(_) => {
                tracing::error!("a response could not be serialized");
                Ok(())
            }
        }
    }

    async fn send(&mut self, message: Value) -> Result<(), ()> {
        self.send_text(message.to_string()).await
    }

    async fn send_text(&mut self, text: String) -> Result<(), ()> {
        match tokio::time::timeout(SEND_TIMEOUT, self.sink.send(Message::Text(text.into()))).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(()),
        }
    }

    async fn close(&mut self, Close(code, reason): Close) {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ =
            tokio::time::timeout(SEND_TIMEOUT, self.sink.send(Message::Close(Some(frame)))).await;
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h
    }

    #[test]
    fn origins_are_the_servers_own_or_listed() {
        let none: Vec<String> = vec![];
        let listed = vec!["https://app.example.jp".to_owned()];
        assert!(origin_allowed(&none, &headers(None, "api:8080")));
        assert!(origin_allowed(
            &none,
            &headers(Some("http://api:8080"), "api:8080")
        ));
        assert!(!origin_allowed(
            &none,
            &headers(Some("https://evil.example"), "api:8080")
        ));
        assert!(!origin_allowed(&none, &headers(Some("null"), "api:8080")));
        assert!(origin_allowed(
            &listed,
            &headers(Some("https://app.example.jp/"), "api:8080")
        ));
        assert!(!origin_allowed(
            &listed,
            &headers(Some("https://app.example.jp.evil"), "api:8080")
        ));
        assert!(origin_allowed(
            &["*".to_owned()],
            &headers(Some("https://any.where"), "api")
        ));
    }
}
