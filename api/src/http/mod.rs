//! The HTTP surface: `/graphql` (GraphQL over HTTP), `/graphql/ws` (subscriptions, see
//! [`ws`]; the sockets of one viewer running the same subscription share one execution,
//! [`ws::shared`]), `/healthz`, `/readyz`.
//!
//! async-graphql-axum's stock service is too permissive (batches, mutations over GET, any content
//! type, always 200), so the handler is written out here to follow the GraphQL-over-HTTP spec:
//!
//! - POST needs `Content-Type: application/json` (UTF-8), else 415; the body is capped (413);
//!   batches (a JSON array) are refused (400).
//! - GET runs queries only; a mutation over GET is 405 with `Allow: POST`.
//! - `Accept` decides the response type: `application/graphql-response+json` (request errors then
//!   get 400 and no `data`) or `application/json` (legacy: 200); anything else is 406.
//! - Every response carries `x-request-id`; every error carries `extensions.code`.
//! - Persisted queries ([`crate::persisted`]): a hash in `extensions.persistedQuery` may stand
//!   for the query text (Apollo APQ), or, in allow-list mode, only listed operations run.
//!
//! Around the router: connections, their bounds and clocks ([`connections`], [`timeouts`]),
//! request bodies ([`body`]), CORS ([`cors`]) and the headers every response carries
//! ([`headers`]).

mod body;
pub(crate) mod connections;
mod cors;
mod endpoint;
mod graphiql;
mod headers;
mod state;
mod timeouts;
pub(crate) mod ws;

use std::sync::Arc;

use async_graphql::{Variables, parser::types::OperationType};
use axum::{
    Router,
    body::{Body, Bytes},
    extract::{FromRequestParts, State},
    http::{HeaderMap, HeaderValue, Request, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

use crate::{
    auth::{ClientAddress, Credential},
    error::ErrorCode,
    graphql::{self, limits},
    metrics::OperationKind,
    persisted,
    service::credentials,
};

pub use state::AppState;

pub use endpoint::authenticate;
use endpoint::{graphql_get, graphql_post};

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json; charset=utf-8";
const JSON: &str = "application/json; charset=utf-8";

/// The response media type the client accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaType {
    GraphQLResponseJson,
    Json,
}

impl MediaType {
    fn content_type(self) -> &'static str {
        match self {
            Self::GraphQLResponseJson => GRAPHQL_RESPONSE_JSON,
            Self::Json => JSON,
        }
    }
}

/// Builds the router with every layer.
pub fn router(state: AppState) -> Router {
    let middleware = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<Body>| {
            let request_id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id)
        })
        // One line per response (status and latency), inside the span with the request id.
        // Never the query, its variables or a header: they may hold personal data or secrets.
        .on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(tower_http::LatencyUnit::Millis)))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("handler panicked");
            error_response(StatusCode::INTERNAL_SERVER_ERROR, MediaType::Json, ErrorCode::InternalServerError, "Internal server error.")
        }));
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/graphql/ws", get(crate::http::ws::upgrade))
        .route("/graphiql/{file}", get(graphiql_asset))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            connections::over_bound_gate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            cors::cors,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            count_responses,
        ))
        .layer(axum::middleware::from_fn(headers::browser_headers))
        .layer(middleware)
        .with_state(state)
}

/// The client's address: the TCP peer (from the connection), or a trusted proxy's report.
fn client_address(parts: &axum::http::request::Parts, state: &AppState) -> ClientAddress {
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    ClientAddress::from_peer(peer, &parts.headers, &state.config.trusted_proxies)
}

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(client_address(parts, state))
    }
}

/// GraphiQL's embedded files (only where GraphiQL is enabled).
async fn graphiql_asset(
    State(state): State<AppState>,
    file: axum::extract::Path<String>,
) -> Response {
    if !state.config.graphiql {
        return (
            StatusCode::NOT_FOUND,
            "GraphiQL is disabled on this server.",
        )
            .into_response();
    }
    graphiql::asset(file).await
}

/// Counts every response by status (including those refused before GraphQL runs).
async fn count_responses(
    State(state): State<AppState>,
    req: Request<Body>,
    next: axum::middleware::Next,
) -> Response {
    let res = next.run(req).await;
    state.metrics.http_response(res.status().as_u16());
    res
}

/// Prometheus metrics; with `METRICS_TOKEN` set, only for `Authorization: Bearer <token>`.
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(expected) = &state.config.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        let same = crate::auth::hash_token(given) == crate::auth::hash_token(expected);
        if !same {
            return (StatusCode::UNAUTHORIZED, "metrics need the metrics token").into_response();
        }
    }
    let m = &state.metrics;
    m.subscription_feeds
        .set(i64::try_from(state.hub.subscriber_count()).unwrap_or(i64::MAX));
    if let Ok(head) = crate::service::outbox::head(&state.background_db).await {
        m.outbox_lag_events.set((head - state.hub.head()).max(0));
    }
    if let Ok(n) = crate::service::webhooks::pending_count(&state.background_db).await {
        m.webhook_pending.set(i64::try_from(n).unwrap_or(i64::MAX));
    }
    let mut res = m.render().into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    res
}

/// Ready when the database answers (503 otherwise). The JSON body says what a degraded but
/// ready server lacks: the Japanese analyser (`absent` / `failed`: the language features run
/// degraded, see the README), or `available` (not loaded yet: it loads on first use).
async fn readyz(State(state): State<AppState>) -> Response {
    let database = crate::db::ping(&state.db).await;
    let language = crate::language::analysis::status();
    let detail = match &language {
        crate::language::analysis::Status::Absent { reason }
        | crate::language::analysis::Status::Failed { reason } => Some(reason.clone()),
        _ => None,
    };
    let body = json!({
        "status": if database { "ready" } else { "unavailable" },
        "database": if database { "ok" } else { "unreachable" },
        "language": { "analyzer": language.label(), "detail": detail },
    });
    let status = if database {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    res
}

/// A GraphQL-shaped error document with a code, for failures before execution.
fn error_response(
    status: StatusCode,
    media: MediaType,
    code: ErrorCode,
    message: &str,
) -> Response {
    let body =
        json!({ "errors": [{ "message": message, "extensions": { "code": code.as_str() } }] });
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.content_type()),
    );
    res
}
