//! Who is asking: tokens, passwords, the viewer, and the pure authorization policy.
//!
//! `policy` holds every access rule as a pure function over plain values so that its unit tests
//! cover it completely; the service layer calls it and scopes its queries accordingly.

pub mod jwt;
pub mod password;
pub mod policy;
pub mod statutory;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use entity::{organization::OrganizationKind, staff_member::StaffRole};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The authenticated staff member behind a request, as re-checked against the database on every
/// request (so deactivation and logout take effect at once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub staff_member_id: Uuid,
    pub organization_id: Uuid,
    pub organization_kind: OrganizationKind,
    pub role: StaffRole,
    /// The login session the access token belongs to.
    pub session_id: Uuid,
}

/// The client's network address as the server saw it: the TCP peer, or, behind a trusted
/// reverse proxy (`TRUSTED_PROXIES`), the address that proxy reports in `X-Forwarded-For`.
/// Login throttling keys on it; `None` when it is not known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientAddress(pub Option<std::net::IpAddr>);

impl ClientAddress {
    /// From the peer and the request's headers.
    pub fn from_peer(
        peer: Option<std::net::IpAddr>,
        headers: &axum::http::HeaderMap,
        trusted_proxies: &[std::net::IpAddr],
    ) -> Self {
        let Some(peer) = peer else {
            return Self(None);
        };
        if !trusted_proxies.contains(&peer) {
            return Self(Some(peer));
        }
        // The proxy appends the address it saw last; earlier entries are the client's word.
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter_map(|a| a.parse::<std::net::IpAddr>().ok())
            .rev()
            .find(|a| !trusted_proxies.contains(a));
        Self(Some(forwarded.unwrap_or(peer)))
    }
}

/// What the request's `Authorization` header amounted to.
#[derive(Debug, Clone)]
pub enum Credential {
    /// No header: only public operations (login, refresh) work.
    Anonymous,
    /// A valid token of an active staff member in a live session.
    Viewer(Viewer),
    /// A header was sent but is not acceptable (forged, expired, revoked…).
    Invalid,
    /// The token could not be checked because the database did not answer: an internal error,
    /// not a reason to sign the client out.
    Unavailable,
}

impl Credential {
    pub fn viewer(&self) -> Option<&Viewer> {
        match self {
            Self::Viewer(v) => Some(v),
            _ => None,
        }
    }
}

/// 256 random bits, URL-safe: refresh tokens and development secrets.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// How opaque tokens are stored: SHA-256, hex. (They carry 256 random bits, so a fast hash is
/// enough; the database never holds a usable token.)
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_hashes_differ_from_them() {
        let a = random_token();
        let b = random_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        let h = hash_token(&a);
        assert_eq!(h.len(), 64);
        assert_ne!(h, a);
        assert_eq!(h, hash_token(&a));
    }
}
