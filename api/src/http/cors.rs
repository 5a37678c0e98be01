//! Cross-origin requests (CORS) from the origins in `CORS_ALLOWED_ORIGINS`: front-end teams serve
//! their UI from their own origin and call `/graphql` from it.
//!
//! Written out rather than tower-http's `CorsLayer`, because that layer answers every `OPTIONS`
//! request as a preflight and adds `Access-Control-Allow-Methods`, `-Allow-Headers` and
//! `-Expose-Headers` to responses for any origin (only `-Allow-Origin` depends on the list):
//! here an origin that is not listed gets no CORS header at all, and its preflight reaches the
//! router like any other `OPTIONS` request (405).
//!
//! Tokens travel in the `Authorization` header, never in cookies, so credentials are not
//! allowed and `*` (any origin) is possible: a page cannot use a token it does not hold.

use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::http::AppState;

/// Methods a cross-origin page may use: GraphQL over HTTP needs no others.
const ALLOW_METHODS: &str = "GET, POST";
/// Request headers a cross-origin page may send: ours, and those Apollo Client sends
/// (client awareness, and the CSRF-prevention headers Apollo's servers ask for).
const ALLOW_HEADERS: &str = "authorization, content-type, accept, x-request-id, \
     apollographql-client-name, apollographql-client-version, apollo-require-preflight, \
     x-apollo-operation-name";
/// Response headers a cross-origin page may read besides the safelisted ones: the request id to
/// quote in a bug report, and how long to wait after a 503.
const EXPOSE_HEADERS: &str = "x-request-id, retry-after";
/// How long a browser may reuse a preflight (Chromium caps this at two hours): a changed
/// allow-list reaches browsers within the hour.
const MAX_AGE_SECONDS: &str = "3600";

/// The value of `Access-Control-Allow-Origin` for a request from `origin`, if it is allowed.
fn allowed_origin(allowed: &[String], headers: &HeaderMap) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?;
    if allowed.iter().any(|a| a == "*") {
        return Some(HeaderValue::from_static("*"));
    }
    let text = origin.to_str().ok()?.trim_end_matches('/');
    allowed
        .iter()
        .any(|a| a.eq_ignore_ascii_case(text))
        .then(|| origin.clone())
}

/// Router middleware: answers preflights from allowed origins and marks their responses.
pub(crate) async fn cors(
    State(state): State<AppState>,
    req: Request<Body>,
    next: axum::middleware::Next,
) -> Response {
    let allowed = &state.config.cors_allowed_origins;
    if allowed.is_empty() {
        return next.run(req).await;
    }
    let any = allowed.iter().any(|a| a == "*");
    let origin = allowed_origin(allowed, req.headers());
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut res = match (&origin, preflight) {
        (Some(origin), true) => {
            let mut res = StatusCode::NO_CONTENT.into_response();
            let h = res.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(ALLOW_METHODS),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(ALLOW_HEADERS),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static(MAX_AGE_SECONDS),
            );
            res
        }
        (Some(origin), false) => {
            let mut res = next.run(req).await;
            let h = res.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            h.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSE_HEADERS),
            );
            res
        }
        (None, _) => next.run(req).await,
    };
    // The answer depends on the origin: a shared cache must not give one origin's to another.
    if !any {
        res.headers_mut()
            .append(header::VARY, HeaderValue::from_static("origin"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(origin: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        h
    }

    #[test]
    fn only_listed_origins_are_allowed_and_echoed() {
        let list = vec!["https://app.example.jp".to_owned()];
        assert_eq!(
            allowed_origin(&list, &from("https://app.example.jp")).unwrap(),
            "https://app.example.jp"
        );
        assert_eq!(
            allowed_origin(&list, &from("HTTPS://APP.example.jp")).unwrap(),
            "HTTPS://APP.example.jp"
        );
        assert!(allowed_origin(&list, &from("https://evil.example")).is_none());
        assert!(allowed_origin(&list, &from("https://app.example.jp.evil.example")).is_none());
        assert!(allowed_origin(&list, &from("null")).is_none());
        assert!(allowed_origin(&list, &HeaderMap::new()).is_none());
        let any = vec!["*".to_owned()];
        assert_eq!(
            allowed_origin(&any, &from("https://x.example")).unwrap(),
            "*"
        );
    }
}
