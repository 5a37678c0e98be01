//! Access tokens: HS256 JWTs with every registered claim required and checked.
//!
//! The algorithm is pinned (so `alg: none` or an RSA/HMAC confusion cannot pass), `iss` and `aud`
//! are validated, leeway is a few seconds, and the header's `typ` must be `at+jwt` (RFC 9068) with
//! a matching `token_use` claim. Refresh tokens are opaque random strings, not JWTs, so one can
//! never be decoded as an access token.

use std::time::Duration;

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const ACCESS_TOKEN_TYPE: &str = "at+jwt";
const LEEWAY_SECONDS: u64 = 5;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The staff member's id.
    pub sub: Uuid,
    pub iat: i64,
    pub exp: i64,
    pub jti: Uuid,
    /// The login session; revoked sessions invalidate their access tokens at once.
    pub sid: Uuid,
    /// Always `"access"`.
    pub token_use: String,
}

/// Signs and verifies access tokens.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl TokenKeys {
    pub fn new(secret: &[u8], issuer: &str, audience: &str, ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = false;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl,
        }
    }

    /// How long an access token lives.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Issues an access token for a staff member's session; returns it with its expiry (unix s).
    pub fn issue(&self, staff_member_id: Uuid, session_id: Uuid) -> anyhow::Result<(String, i64)> {
        let now = Utc::now().timestamp();
        let exp = now + i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: staff_member_id,
            iat: now,
            exp,
            jti: Uuid::now_v7(),
            sid: session_id,
            token_use: "access".into(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(ACCESS_TOKEN_TYPE.into());
        Ok((encode(&header, &claims, &self.encoding)?, exp))
    }

    /// Verifies signature, algorithm, type and claims; `None` for anything unacceptable.
    pub fn verify(&self, token: &str) -> Option<AccessClaims> {
        // Never spend effort on absurd input.
        if token.len() > 4096 {
            return None;
        }
        let data = decode::<AccessClaims>(token, &self.decoding, &self.validation).ok()?;
        let typed = data.header.typ.as_deref() == Some(ACCESS_TOKEN_TYPE);
        let claims = data.claims;
        (typed && claims.token_use == "access" && claims.iat <= claims.exp).then_some(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn keys() -> TokenKeys {
        TokenKeys::new(
            SECRET,
            "kakehashi",
            "kakehashi-api",
            Duration::from_secs(900),
        )
    }

    fn sign(header: Header, claims: &serde_json::Value, secret: &[u8]) -> String {
        encode(&header, claims, &EncodingKey::from_secret(secret)).unwrap()
    }

    fn claims(overrides: serde_json::Value) -> serde_json::Value {
        let now = Utc::now().timestamp();
        let mut base = serde_json::json!({
            "iss": "kakehashi", "aud": "kakehashi-api", "sub": Uuid::now_v7(),
            "iat": now, "exp": now + 600, "jti": Uuid::now_v7(), "sid": Uuid::now_v7(),
            "token_use": "access"
        });
        for (k, v) in overrides.as_object().unwrap() {
            if v.is_null() {
                base.as_object_mut().unwrap().remove(k);
            } else {
                base[k] = v.clone();
            }
        }
        base
    }

    fn typed() -> Header {
        let mut h = Header::new(Algorithm::HS256);
        h.typ = Some("at+jwt".into());
        h
    }

    #[test]
    fn issued_tokens_verify() {
        let k = keys();
        let (staff, session) = (Uuid::now_v7(), Uuid::now_v7());
        let (token, exp) = k.issue(staff, session).unwrap();
        let c = k.verify(&token).expect("valid");
        assert_eq!((c.sub, c.sid, c.exp), (staff, session, exp));
    }

    #[test]
    fn every_kind_of_bad_token_is_refused() {
        let k = keys();
        let now = Utc::now().timestamp();
        let good = sign(typed(), &claims(serde_json::json!({})), SECRET);
        assert!(k.verify(&good).is_some(), "control case must pass");

        let cases = [
            (
                "wrong key",
                sign(
                    typed(),
                    &claims(serde_json::json!({})),
                    b"another-secret-another-secret-xx",
                ),
            ),
            (
                "expired",
                sign(
                    typed(),
                    &claims(serde_json::json!({"iat": now - 1000, "exp": now - 60})),
                    SECRET,
                ),
            ),
            (
                "wrong audience",
                sign(
                    typed(),
                    &claims(serde_json::json!({"aud": "other"})),
                    SECRET,
                ),
            ),
            (
                "wrong issuer",
                sign(typed(), &claims(serde_json::json!({"iss": "evil"})), SECRET),
            ),
            (
                "no exp",
                sign(typed(), &claims(serde_json::json!({"exp": null})), SECRET),
            ),
            (
                "no jti",
                sign(typed(), &claims(serde_json::json!({"jti": null})), SECRET),
            ),
            (
                "no sid",
                sign(typed(), &claims(serde_json::json!({"sid": null})), SECRET),
            ),
            (
                "exp as string",
                sign(
                    typed(),
                    &claims(serde_json::json!({"exp": (now + 600).to_string()})),
                    SECRET,
                ),
            ),
            (
                "untyped header",
                sign(
                    Header::new(Algorithm::HS256),
                    &claims(serde_json::json!({})),
                    SECRET,
                ),
            ),
            (
                "not an access token",
                sign(
                    typed(),
                    &claims(serde_json::json!({"token_use": "refresh"})),
                    SECRET,
                ),
            ),
            (
                "HS512",
                sign(
                    {
                        let mut h = Header::new(Algorithm::HS512);
                        h.typ = Some("at+jwt".into());
                        h
                    },
                    &claims(serde_json::json!({})),
                    SECRET,
                ),
            ),
            ("garbage", "not.a.jwt".to_owned()),
            ("opaque refresh token", crate::auth::random_token()),
        ];
        for (name, token) in cases {
            assert!(k.verify(&token).is_none(), "{name} must be refused");
        }

        // alg: none, signature stripped.
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
        let body = URL_SAFE_NO_PAD.encode(claims(serde_json::json!({})).to_string());
        assert!(
            k.verify(&format!("{header}.{body}.")).is_none(),
            "alg none must be refused"
        );
    }
}
