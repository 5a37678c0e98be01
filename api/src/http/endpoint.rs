//! The `/graphql` endpoint over HTTP: content negotiation, POST and GET (queries only),
//! persisted queries, authentication, execution under the limits, and the response with its
//! status and headers (GraphQL over HTTP).

use super::*;

/// Picks the response type from `Accept` (no header: `application/json`, as the spec advises
/// for legacy clients). `None` means nothing we can produce is acceptable.
fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(MediaType::Json);
    };
    if accept.trim().is_empty() {
        return Some(MediaType::Json);
    }
    let mut best: Option<(f32, u8, MediaType)> = None;
    for entry in accept.split(',') {
        let mut parts = entry.split(';').map(str::trim);
        let essence = parts.next().unwrap_or("").to_ascii_lowercase();
        let mut q = 1.0f32;
        let mut charset_ok = true;
        for p in parts {
            if let Some((k, v)) = p.split_once('=') {
                let (k, v) = (
                    k.trim().to_ascii_lowercase(),
                    v.trim().trim_matches('"').to_ascii_lowercase(),
                );
                if k == "q" {
                    q = v.parse().unwrap_or(0.0);
                } else if k == "charset" && v != "utf-8" && v != "utf8" {
                    charset_ok = false;
                }
            }
        }
        if q <= 0.0 || !charset_ok {
            continue;
        }
        // Specific types beat wildcards at equal q; the newer type beats legacy JSON.
        let candidate = match essence.as_str() {
            "application/graphql-response+json" => (3, MediaType::GraphQLResponseJson),
            "application/json" => (2, MediaType::Json),
            "application/*" | "*/*" => (1, MediaType::Json),
            _ => continue,
        };
        if best.is_none_or(|(bq, rank, _)| q > bq || (q == bq && candidate.0 > rank)) {
            best = Some((q, candidate.0, candidate.1));
        }
    }
    best.map(|(_, _, m)| m)
}

/// `true` for `application/json` with no charset or UTF-8.
fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut parts = ct.split(';').map(str::trim);
    if !parts
        .next()
        .unwrap_or("")
        .eq_ignore_ascii_case("application/json")
    {
        return false;
    }
    parts.all(|p| match p.split_once('=') {
        Some((k, v)) if k.trim().eq_ignore_ascii_case("charset") => {
            matches!(
                v.trim().trim_matches('"').to_ascii_lowercase().as_str(),
                "utf-8" | "utf8"
            )
        }
        _ => true,
    })
}

/// The request parameters, whether from a JSON body or a query string. The query text may be
/// absent when a persisted query's hash stands for it.
struct Params {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<Value>,
    extensions: Option<Value>,
}

/// Validates the shape of a JSON request body.
fn params_from_json(body: Value) -> Result<Params, &'static str> {
    let Value::Object(mut map) = body else {
        return Err(if body.is_array() {
            "Batched requests are not supported: send one operation per request."
        } else {
            "The request body must be a JSON object."
        });
    };
    let query = match map.remove("query") {
        Some(Value::String(q)) => Some(q),
        None | Some(Value::Null) => None,
        Some(_) => return Err("The query parameter must be a string."),
    };
    let operation_name = match map.remove("operationName") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Err("The operationName parameter must be a string."),
    };
    let variables = match map.remove("variables") {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => Some(v),
        Some(_) => return Err("The variables parameter must be an object."),
    };
    let extensions = match map.remove("extensions") {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => Some(v),
        Some(_) => return Err("The extensions parameter must be an object."),
    };
    Ok(Params {
        query,
        operation_name,
        variables,
        extensions,
    })
}

pub(super) async fn graphql_post(
    State(state): State<AppState>,
    address: ClientAddress,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(media) = negotiate(&headers) else {
        // Read first (within the limit), so that a browser receives the answer: see `body`.
        body::discard(body, state.config.max_body_bytes as u64).await;
        return error_response(
            StatusCode::NOT_ACCEPTABLE,
            MediaType::Json,
            ErrorCode::BadUserInput,
            "Accept application/graphql-response+json or application/json.",
        );
    };
    if !is_json_content_type(&headers) {
        body::discard(body, state.config.max_body_bytes as u64).await;
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            ErrorCode::BadUserInput,
            "Send the request as Content-Type: application/json (UTF-8).",
        );
    }
    let limit = state.config.max_body_bytes;
    let bytes: Bytes = match body::read_limited(&headers, body, limit).await {
        Ok(b) => b,
        Err(e) => return body_refused(e, limit, media),
    };
    let parsed = match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) => params_from_json(v),
        Err(_) => Err("The request body is not valid JSON."),
    };
    match parsed {
        Ok(params) => {
            let query = match state
                .persisted
                .resolve(params.query.as_deref(), params.extensions.as_ref())
            {
                Ok(q) => q,
                Err(refusal) => return refused(refusal, media),
            };
            execute(
                &state,
                &headers,
                query,
                params.operation_name,
                params.variables,
                Arrival {
                    method: Method::Post,
                    media,
                    address,
                },
            )
            .await
        }
        Err(message) => error_response(
            StatusCode::BAD_REQUEST,
            media,
            ErrorCode::BadUserInput,
            message,
        ),
    }
}

/// The answer to a body that could not be read: 413 over the limit, 408 when it did not
/// arrive in time, 400 when it broke off; with `Connection: close` when part of it is unread.
fn body_refused(e: body::BodyError, limit: usize, media: MediaType) -> Response {
    let (status, message) = match e {
        body::BodyError::TooLarge { .. } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The request body exceeds {limit} bytes."),
        ),
        body::BodyError::TimedOut => (
            StatusCode::REQUEST_TIMEOUT,
            "The request body did not arrive in time.".to_owned(),
        ),
        body::BodyError::Broken => (
            StatusCode::BAD_REQUEST,
            "The request body could not be read.".to_owned(),
        ),
    };
    let mut res = error_response(status, media, ErrorCode::BadUserInput, &message);
    if e.closes() {
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    res
}

/// `GET /graphql`: a WebSocket upgrade (the same URL serves HTTP and `graphql-transport-ws`, as
/// GraphiQL, Apollo Sandbox and most clients expect), the GraphiQL page for a browser, or a query.
pub(super) async fn graphql_get(State(state): State<AppState>, request: Request<Body>) -> Response {
    let (mut parts, _) = request.into_parts();
    let upgrade = parts
        .headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if upgrade {
        let address = client_address(&parts, &state);
        return match axum::extract::ws::WebSocketUpgrade::from_request_parts(&mut parts, &state)
            .await
        {
            Ok(ws) => crate::http::ws::upgrade(State(state), parts.headers, address, ws).await,
            Err(rejection) => rejection.into_response(),
        };
    }
    let address = client_address(&parts, &state);
    let headers = parts.headers;
    let raw = parts.uri.query();
    let pairs: Vec<(String, String)> = raw
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };

    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if wants_html && get("query").is_none() {
        if state.config.graphiql {
            return graphiql::page();
        }
        return (
            StatusCode::NOT_FOUND,
            "GraphiQL is disabled on this server.",
        )
            .into_response();
    }

    let Some(media) = negotiate(&headers) else {
        return error_response(
            StatusCode::NOT_ACCEPTABLE,
            MediaType::Json,
            ErrorCode::BadUserInput,
            "Accept application/graphql-response+json or application/json.",
        );
    };
    // `variables` and `extensions` are JSON objects in the query string.
    let object = |name: &str| match get(name).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => match serde_json::from_str::<Value>(&text) {
            Ok(v @ Value::Object(_)) => Ok(Some(v)),
            Ok(Value::Null) => Ok(None),
            _ => Err(format!("The {name} parameter must be a JSON object.")),
        },
    };
    let (variables, extensions) = match (object("variables"), object("extensions")) {
        (Ok(v), Ok(e)) => (v, e),
        (Err(message), _) | (_, Err(message)) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                media,
                ErrorCode::BadUserInput,
                &message,
            );
        }
    };
    let operation_name = get("operationName").filter(|s| !s.is_empty());
    let query = match state
        .persisted
        .resolve(get("query").as_deref(), extensions.as_ref())
    {
        Ok(q) => q,
        Err(refusal) => return refused(refusal, media),
    };
    execute(
        &state,
        &headers,
        query,
        operation_name,
        variables,
        Arrival {
            method: Method::Get,
            media,
            address,
        },
    )
    .await
}

/// A persisted-query refusal as a response. The negotiation replies that make a client resend
/// its text (`PersistedQueryNotFound`) are 200 and never cached, as Apollo clients expect.
fn refused(refusal: persisted::Refusal, media: MediaType) -> Response {
    let body = json!({ "errors": [refusal.to_json()] });
    // Like any other invalid request parameter: 400, whatever the media type.
    let status = if refusal.asks_client_to_retry() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.content_type()),
    );
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache, must-revalidate"),
    );
    res
}

/// Reads the `Authorization` header into a credential (one database query when a token is sent
/// that the session cache does not hold).
pub async fn authenticate(state: &AppState, authorization: Option<&str>) -> Credential {
    credentials::authenticate(state, authorization).await.0
}

/// How a request arrived: a GET may only run queries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

/// Where a request came from and how it wants its answer.
#[derive(Clone, Copy)]
struct Arrival {
    method: Method,
    media: MediaType,
    address: ClientAddress,
}

async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    query: String,
    operation_name: Option<String>,
    variables: Option<Value>,
    arrival: Arrival,
) -> Response {
    let Arrival {
        method,
        media,
        address,
    } = arrival;
    if state.reachability.is_down() {
        // Refused before anything runs, so nothing was written.
        let mut res = error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            media,
            ErrorCode::ServiceUnavailable,
            crate::error::UNAVAILABLE_MESSAGE,
        );
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return res;
    }
    let started = std::time::Instant::now();
    let variables = variables.map(Variables::from_json).unwrap_or_default();
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("invalid"));
    // A history page whose document the executor has answered before: written by its plan,
    // or handed on to the executor (with the credential already read) when the plan declines.
    let mut credential = None;
    if let Some(plan) = state
        .history_pages
        .proven(&query, operation_name.as_deref())
    {
        let read = authenticate(state, authorization).await;
        if let Some(body) = graphql::history_page::answer(state, &plan, &read, &variables).await {
            state.metrics.direct_history_pages.inc();
            state.metrics.graphql_request(
                plan.operation_name(),
                OperationKind::Query,
                started.elapsed().as_secs_f64(),
                std::iter::empty(),
            );
            let mut res = (StatusCode::OK, body).into_response();
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(media.content_type()),
            );
            return res;
        }
        credential = Some(read);
    }
    // Parsed and measured once, before anything touches the database.
    let document = match graphql::document::prepare(
        &query,
        operation_name.as_deref(),
        &variables,
        &graphql::limits(&state.config),
    ) {
        Ok(d) => d,
        Err(e) => {
            let response = async_graphql::Response::from_errors(vec![e]);
            let kind = OperationKind::Query;
            return respond(
                state,
                response,
                operation_name.as_deref(),
                kind,
                false,
                started,
                media,
            );
        }
    };
    if method == Method::Get && document.writes() {
        let mut res = error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            media,
            ErrorCode::BadUserInput,
            "Mutations must be sent with POST.",
        );
        res.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return res;
    }
    let credential = match credential {
        Some(c) => c,
        None => authenticate(state, authorization).await,
    };
    let writes = document.writes();
    let kind = match document.operation_type {
        Some(OperationType::Mutation) => OperationKind::Mutation,
        Some(OperationType::Subscription) => OperationKind::Subscription,
        _ => OperationKind::Query,
    };
    let named = document.operation_name.clone();
    // A history page's document is kept (compiled) to be answered by its plan once the
    // executor has answered it without an error.
    let noted = (!writes
        && state
            .history_pages
            .note(&query, operation_name.as_deref(), &document.parsed))
    .then(|| (query.clone(), operation_name.clone()));
    let mut request = async_graphql::Request::new(query).variables(variables);
    if let Some(name) = operation_name {
        request = request.operation_name(name);
    }
    request.set_parsed_query(document.parsed);
    let outcome = Arc::new(limits::RequestOutcome::default());
    let request = graphql::request_data(request, state, credential, outcome.clone()).data(address);
    let marks = writes.then(crate::service::invalidation::marks);
    let response = state.schema.execute(request).await;
    if let Some(marks) = marks {
        // Committed: what a concurrent request cached meanwhile must not outlive the answer.
        crate::service::invalidation::settle(marks);
    }
    let executed = outcome.executed();
    if let Some((query, operation_name)) = noted {
        state.history_pages.learn(
            &query,
            operation_name.as_deref(),
            executed && response.errors.is_empty(),
        );
    }
    if writes && executed {
        // Committed changes wait in the outbox: deliver them now rather than at the next poll.
        state.hub.wake();
    }
    respond(
        state,
        response,
        named.as_deref(),
        kind,
        executed,
        started,
        media,
    )
}

/// Counts the request and writes its response: a request that never executed (syntax,
/// validation, a limit) is a request error, which the spec answers without `data`.
fn respond(
    state: &AppState,
    mut response: async_graphql::Response,
    operation: Option<&str>,
    kind: OperationKind,
    executed: bool,
    started: std::time::Instant,
    media: MediaType,
) -> Response {
    limits::assign_codes(&mut response.errors, executed);
    state.metrics.graphql_request(
        operation,
        kind,
        started.elapsed().as_secs_f64(),
        response.errors.iter().filter_map(|e| {
            e.extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .and_then(|v| match v {
                    async_graphql::Value::String(s) => Some(s.as_str()),
                    _ => None,
                })
        }),
    );

    let mut body = match serde_json::to_value(&response) {
        Ok(v) => v,
        Err(_) => {
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                media,
                ErrorCode::InternalServerError,
                "Internal server error.",
            );
        }
    };
    let status = if executed {
        StatusCode::OK
    } else {
        if let Some(obj) = body.as_object_mut() {
            obj.remove("data");
        }
        match media {
            MediaType::GraphQLResponseJson => StatusCode::BAD_REQUEST,
            MediaType::Json => StatusCode::OK,
        }
    };
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.content_type()),
    );
    res
}

#[cfg(test)]
mod tests;
