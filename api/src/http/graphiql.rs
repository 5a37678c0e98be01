//! GraphiQL, self-contained: the page and every script, style and font it needs are embedded in
//! the binary (`api/assets/graphiql`, the npm registry's builds; see its README), served under
//! `/graphiql/`, and the page's Content-Security-Policy forbids every other origin. It works on a
//! machine without internet access, including the docs explorer, autocomplete, the Headers tab and
//! subscriptions over the same `/graphql` URL.

use axum::{
    extract::Path,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

/// The page's policy: scripts and connections only to this server (`'self'` covers its
/// `ws:`/`wss:` URL too); fonts and the icons GraphiQL inlines come as `data:` URLs; nothing may
/// frame the page, change its base URL or post a form. Styles may also be inline: GraphiQL's
/// resizable panes and its dialogs set them at run time (with `'self'` alone the response pane
/// has no width). Inline styles cannot run script, and every other directive stays closed.
pub(crate) const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// An embedded file: name, media type, bytes.
struct Asset {
    name: &'static str,
    media_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $media:literal) => {
        Asset {
            name: $name,
            media_type: $media,
            bytes: include_bytes!(concat!("../../assets/graphiql/", $name)),
        }
    };
}

const ASSETS: [Asset; 6] = [
    asset!("graphiql.min.js", "text/javascript; charset=utf-8"),
    asset!("graphiql.min.css", "text/css; charset=utf-8"),
    asset!("react.production.min.js", "text/javascript; charset=utf-8"),
    asset!(
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!("init.js", "text/javascript; charset=utf-8"),
    asset!("page.css", "text/css; charset=utf-8"),
];

const PAGE: &[u8] = include_bytes!("../../assets/graphiql/index.html");

/// Headers every GraphiQL response carries.
fn secure(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

/// The GraphiQL page (GET `/graphql` from a browser).
pub(crate) fn page() -> Response {
    let mut res = (StatusCode::OK, PAGE).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    secure(res)
}

/// `GET /graphiql/{file}`: one embedded asset (cached for a day: they change with the binary).
pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return (StatusCode::NOT_FOUND, "No such file.").into_response();
    };
    let mut res = (StatusCode::OK, asset.bytes).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.media_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    secure(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    const JS: &str = "text/javascript; charset=utf-8";
    const CSS: &str = "text/css; charset=utf-8";

    /// The vendored builds are exactly the registry's (as pinned in SHA256SUMS).
    #[test]
    fn embedded_builds_match_their_checksums() {
        let sums = include_str!("../../assets/graphiql/SHA256SUMS");
        let mut checked = 0;
        for line in sums.lines() {
            let (hash, name) = line.split_once("  ").expect("sha256sum format");
            let asset = ASSETS
                .iter()
                .find(|a| a.name == name)
                .unwrap_or_else(|| panic!("{name} is pinned but not embedded"));
            assert_eq!(
                hex::encode(Sha256::digest(asset.bytes)),
                hash,
                "{name} differs from the build pinned in SHA256SUMS"
            );
            checked += 1;
        }
        assert_eq!(checked, 4);
    }

    #[test]
    fn the_page_loads_only_its_own_files() {
        let page = std::str::from_utf8(PAGE).unwrap();
        for src in page
            .split(['"', '\''])
            .filter(|s| s.starts_with("/graphiql/"))
        {
            let name = &src["/graphiql/".len()..];
            assert!(
                ASSETS.iter().any(|a| a.name == name),
                "{src} is not embedded"
            );
        }
        assert!(!page.contains("http://") && !page.contains("https://") && !page.contains("//cdn"));
        // Media types: what a browser with nosniff needs to run and apply them.
        for a in &ASSETS {
            let want = if a.name.ends_with(".js") { JS } else { CSS };
            assert_eq!(a.media_type, want, "{}", a.name);
        }
    }
}
