//! Headers for browsers on every response: `X-Content-Type-Options: nosniff` everywhere (a JSON
//! error must never be sniffed into a script or a page), and `Cache-Control: no-store` on
//! `/graphql` unless a handler chose otherwise, since its responses carry tokens and personal
//! data that neither a shared cache nor the browser's disk should keep. The GraphiQL assets under
//! `/graphiql/` are static files and keep their own caching.

use axum::{
    body::Body,
    http::{HeaderValue, Request, header},
    response::Response,
};

/// Router middleware adding the headers above.
pub(crate) async fn browser_headers(req: Request<Body>, next: axum::middleware::Next) -> Response {
    let path = req.uri().path();
    let personal = path == "/graphql" || path.starts_with("/graphql/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if personal && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
