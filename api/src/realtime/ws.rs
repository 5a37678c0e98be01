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
//! - Every subscription runs in its own task and hands its messages to the socket through a
//!   small bounded queue: a client that does not read stops its subscriptions from pulling
//!   events, which then fall behind the hub's buffer and end with `SUBSCRIBER_TOO_SLOW`.

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_graphql::Variables;
use axum::{
    extract::{
        State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use futures_util::{SinkExt, StreamExt, stream::SplitSink};
use serde_json::{Value, json};
use tokio::{sync::mpsc, task::AbortHandle, time::Instant};

use crate::{
    auth::Credential,
    error::ErrorCode,
    graphql::{self, limits},
    http::{authenticate_until, is_mutation},
    state::AppState,
};

/// The one subprotocol spoken here.
pub const SUBPROTOCOL: &str = "graphql-transport-ws";
/// A socket that cannot take a message for this long is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// Messages queued from a socket's subscriptions to the socket.
const OUTBOX_PER_SOCKET: usize = 64;

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
    pub const TOO_BIG: u16 = 1009;
}

/// `GET /graphql/ws`: checks the origin, then upgrades.
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !origin_allowed(&state.config.ws_allowed_origins, &headers) {
        return (StatusCode::FORBIDDEN, "Origin not allowed.").into_response();
    }
    let cap = state.config.ws_max_message_bytes;
    let ws = ws
        .protocols([SUBPROTOCOL])
        .max_message_size(cap)
        .max_frame_size(cap);
    let spoken = ws.selected_protocol().is_some();
    ws.on_upgrade(move |socket| Connection::run(state, socket, spoken))
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

/// What a subscription task hands to its socket. `generation` tells a finished subscription
/// from a newer one that reuses its id.
enum Out {
    Next {
        id: String,
        generation: u64,
        payload: Value,
    },
    Error {
        id: String,
        generation: u64,
        errors: Value,
    },
    Complete {
        id: String,
        generation: u64,
    },
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
    subscriptions: HashMap<String, (u64, AbortHandle)>,
    generation: u64,
    out: mpsc::Sender<Out>,
}

impl Connection {
    async fn run(state: AppState, socket: WebSocket, spoken: bool) {
        let (sink, mut incoming) = socket.split();
        let (out, mut queued) = mpsc::channel(OUTBOX_PER_SOCKET);
        let mut conn = Connection {
            state,
            sink,
            init_received: false,
            credential: None,
            subscriptions: HashMap::new(),
            generation: 0,
            out,
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
        let mut sessions_ended = conn.state.hub.sessions_ended();

        let ending = loop {
            let acked = conn.credential.is_some();
            tokio::select! {
                frame = incoming.next() => match frame {
                    Some(Ok(Message::Text(text))) => match conn.on_text(text.as_str()).await {
                        Ok(Some(exp)) => expiry.as_mut().reset(exp),
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
                Some(message) = queued.recv() => {
                    if let Err(close) = conn.forward(message).await {
                        break close;
                    }
                }
                _ = keep_alive.tick(), if acked => {
                    if conn.send(json!({ "type": "ping" })).await.is_err() {
                        break None;
                    }
                }
                ended = sessions_ended.recv(), if acked => {
                    if conn.session_ended(ended).await {
                        break Some(Close::new(close::FORBIDDEN, "Forbidden: the session ended"));
                    }
                }
            }
        };
        for (_, (_, task)) in conn.subscriptions.drain() {
            task.abort();
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
                let query = payload
                    .get("query")
                    .and_then(Value::as_str)
                    .ok_or_else(invalid)?;
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
                let Some(credential) = self.credential.clone() else {
                    return Err(Close::new(close::UNAUTHORIZED, "Unauthorized"));
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
                if let Some((_, task)) = self.subscriptions.remove(id) {
                    task.abort();
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
            (Credential::Unavailable, _) => {
                return Err(Close::new(close::INTERNAL, "Internal server error"));
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

    /// Starts one operation in its own task.
    async fn start(
        &mut self,
        id: String,
        credential: Credential,
        query: &str,
        operation_name: Option<String>,
        variables: Option<Value>,
    ) -> Result<(), Close> {
        if self.subscriptions.len() >= self.state.config.ws_max_subscriptions {
            let error = json!([{
                "message": format!(
                    "At most {} operations may run on one socket.",
                    self.state.config.ws_max_subscriptions
                ),
                "extensions": { "code": ErrorCode::RateLimited.as_str() },
            }]);
            let message = json!({ "type": "error", "id": id, "payload": error });
            return self
                .send(message)
                .await
                .map_err(|()| Close::new(close::INTERNAL, "Internal server error"));
        }
        self.generation += 1;
        let generation = self.generation;
        let writes = is_mutation(query, operation_name.as_deref());
        let mut request = async_graphql::Request::new(query);
        if let Some(name) = operation_name {
            request = request.operation_name(name);
        }
        if let Some(vars) = variables {
            request = request.variables(Variables::from_json(vars));
        }
        let outcome = Arc::new(limits::RequestOutcome::default());
        let request = graphql::request_data(request, &self.state, credential, outcome.clone());
        let state = self.state.clone();
        let out = self.out.clone();
        let task_id = id.clone();
        let task = tokio::spawn(async move {
            let id = task_id;
            let mut responses = state.schema.execute_stream(request);
            let mut first = true;
            while let Some(mut response) = responses.next().await {
                limits::assign_codes(&mut response.errors, outcome.executed());
                let failed =
                    response.data == async_graphql::Value::Null && !response.errors.is_empty();
                if first && failed {
                    let errors = serde_json::to_value(&response.errors).unwrap_or(Value::Null);
                    let _ = out
                        .send(Out::Error {
                            id,
                            generation,
                            errors,
                        })
                        .await;
                    return;
                }
                first = false;
                let payload = serde_json::to_value(&response).unwrap_or(Value::Null);
                if out
                    .send(Out::Next {
                        id: id.clone(),
                        generation,
                        payload,
                    })
                    .await
                    .is_err()
                {
                    return;
                }
            }
            if writes {
                state.hub.wake();
            }
            let _ = out.send(Out::Complete { id, generation }).await;
        });
        self.subscriptions
            .insert(id, (generation, task.abort_handle()));
        Ok(())
    }

    /// Sends a subscription's message if that subscription is still the one running.
    async fn forward(&mut self, message: Out) -> Result<(), Option<Close>> {
        let (id, generation, frame, finished) = match message {
            Out::Next {
                id,
                generation,
                payload,
            } => {
                let frame = json!({ "type": "next", "id": id, "payload": payload });
                (id, generation, frame, false)
            }
            Out::Error {
                id,
                generation,
                errors,
            } => {
                let frame = json!({ "type": "error", "id": id, "payload": errors });
                (id, generation, frame, true)
            }
            Out::Complete { id, generation } => {
                let frame = json!({ "type": "complete", "id": id });
                (id, generation, frame, true)
            }
        };
        if self.subscriptions.get(&id).map(|(g, _)| *g) != Some(generation) {
            return Ok(());
        }
        if finished {
            self.subscriptions.remove(&id);
        }
        self.send(frame).await.map_err(|()| None)
    }

    /// Whether this socket's session is among the ended ones (or, if the notice was missed,
    /// whether the session still holds).
    async fn session_ended(
        &self,
        ended: Result<Arc<Vec<uuid::Uuid>>, tokio::sync::broadcast::error::RecvError>,
    ) -> bool {
        let Some(Credential::Viewer(viewer)) = &self.credential else {
            return false;
        };
        match ended {
            Ok(ids) => ids.contains(&viewer.session_id),
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                !crate::service::sessions::is_live(&self.state.db, viewer.session_id)
                    .await
                    .unwrap_or(true)
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => false,
        }
    }

    async fn send(&mut self, message: Value) -> Result<(), ()> {
        let text = message.to_string();
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
