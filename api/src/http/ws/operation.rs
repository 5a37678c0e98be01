//! One operation on a socket: starting it (alone, or joining a share), and forwarding its
//! responses as protocol messages.

use std::sync::Arc;

use async_graphql::Variables;
use futures_util::{
    StreamExt,
    stream::{self, AbortHandle, Abortable, BoxStream},
};
use serde_json::{Value, json};

use super::{Close, Connection, close, coded};
use crate::{
    auth::Credential,
    error::ErrorCode,
    graphql::{self, limits, subscription::LastCursor},
    http::ws::shared::{Received, ShareKey},
};

/// One item of a running operation: a response, or `None` when it has finished.
/// `generation` tells a finished operation from a newer one that reuses its id.
pub(super) type Tagged = (String, u64, Option<Outcome>);

/// A response of a running operation: executed for this socket alone, or rendered once for
/// every socket sharing it (see [`crate::http::ws::shared`]).
pub(super) enum Outcome {
    Executed(Box<async_graphql::Response>),
    Shared(Received),
}

/// A running operation as the socket tracks it.
pub(super) struct Running {
    generation: u64,
    pub(super) abort: AbortHandle,
    /// Nothing sent yet: a failure now is an `error` message, not a `next`.
    first: bool,
    /// A mutation, with the cache generations it started under: settle them before its
    /// response goes out and wake the event hub when it is done.
    writes: Option<crate::service::invalidation::Marks>,
    /// A subscription, counted among the open ones while it runs.
    _open: Option<Open>,
    /// A shareable subscription, counted among the sockets running it.
    _seat: Option<crate::http::ws::shared::Seat>,
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

impl Connection {
    /// Starts one operation; its responses are polled by the socket's own loop.
    pub(super) async fn start(
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
        let (seat, share) = match &credential {
            Credential::Viewer(viewer) if subscribes && !document.resumes => {
                let json = serde_json::to_value(&variables).unwrap_or(Value::Null);
                let key = ShareKey::new(viewer, query, operation_name.as_deref(), &json);
                let (seat, others) = self.state.shares.enter(key.clone());
                (Some(seat), others.then_some(key))
            }
            _ => (None, None),
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
                _seat: seat,
            },
        );
        Ok(())
    }

    /// Answers a `subscribe` with an `error` message (the socket stays open).
    pub(super) async fn refuse(&mut self, id: &str, errors: Value) -> Result<(), Close> {
        self.send(json!({ "type": "error", "id": id, "payload": errors }))
            .await
            .map_err(|()| Close::new(close::INTERNAL, "Internal server error"))
    }

    /// Sends an operation's response (or its end) if that operation is still the one running.
    pub(super) async fn forward(
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
}
