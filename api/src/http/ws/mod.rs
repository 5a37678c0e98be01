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

use std::{collections::HashMap, future::Future, pin::Pin, time::Duration};

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
    stream::{BoxStream, SelectAll, SplitSink},
};
use serde_json::{Value, json};
use tokio::{sync::broadcast::error::RecvError, time::Instant};

use crate::{auth::Credential, error::ErrorCode, http::AppState, service::credentials};

mod operation;
pub(crate) mod shared;

use operation::{Running, Tagged};

/// The one subprotocol spoken here.
pub(crate) const SUBPROTOCOL: &str = "graphql-transport-ws";
/// A socket that cannot take a message for this long is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// The close codes of the protocol.
mod close {
    pub(super) const INVALID_MESSAGE: u16 = 4400;
    pub(super) const UNAUTHORIZED: u16 = 4401;
    pub(super) const FORBIDDEN: u16 = 4403;
    pub(super) const SUBPROTOCOL_NOT_ACCEPTABLE: u16 = 4406;
    pub(super) const INIT_TIMEOUT: u16 = 4408;
    pub(super) const SUBSCRIBER_EXISTS: u16 = 4409;
    pub(super) const TOO_MANY_INITS: u16 = 4429;
    pub(super) const INTERNAL: u16 = 4500;
    /// The database is unreachable: the client should reconnect in a moment (RFC 6455's
    /// "Try Again Later"; `graphql-ws` retries it like any non-4xxx close).
    pub(super) const TRY_AGAIN_LATER: u16 = 1013;
    pub(super) const TOO_BIG: u16 = 1009;
    pub(super) const GOING_AWAY: u16 = 1001;
}

/// `GET /graphql/ws`: checks the origin, then upgrades.
pub(crate) async fn upgrade(
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
        let (credential, exp) = credentials::authenticate(&self.state, authorization).await;
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
