//! Password hashing: argon2id at OWASP parameters (19 MiB, 2 passes), off the async runtime and
//! behind a semaphore so that a burst of logins cannot exhaust memory or starve other requests.

use std::sync::{Arc, LazyLock};

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier, Version,
    password_hash::{SaltString, rand_core::OsRng},
};
use tokio::sync::Semaphore;

use crate::error::{ApiError, ApiResult};

/// Shortest and longest accepted password, in characters / bytes. The byte cap keeps hashing
/// cost bounded whatever a client sends.
pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_BYTES: usize = 256;

fn argon2() -> Argon2<'static> {
    // OWASP: m=19456 KiB, t=2, p=1.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A real hash of a random string, verified against when the email is unknown so that an unknown
/// account costs the same time as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(crate::auth::random_token().as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// Hashes and verifies passwords with bounded concurrency.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
}

impl PasswordHasher {
    pub fn new(concurrency: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    /// Checks a new password's length and hashes it.
    pub async fn hash(&self, password: &str, field: &str) -> ApiResult<String> {
        validate_new_password(password, field)?;
        let password = password.to_owned();
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| ApiError::internal(anyhow::anyhow!("hashing failed: {e}")))
        })
        .await?
    }

    /// `true` when `password` matches `hash`; with `None` it verifies against a dummy hash and
    /// returns `false`, taking the same time.
    pub async fn verify(&self, password: &str, hash: Option<String>) -> ApiResult<bool> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Ok(false);
        }
        let password = password.to_owned();
        self.run(move || {
            let known = hash.is_some();
            let hash = hash.unwrap_or_else(|| DUMMY_HASH.clone());
            let ok = PasswordHash::new(&hash)
                .map(|parsed| {
                    argon2()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false);
            known && ok
        })
        .await
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(ApiError::internal)
    }

    /// Computes the dummy hash now rather than during the first login with an unknown email.
    pub fn warm_up() {
        LazyLock::force(&DUMMY_HASH);
    }
}

/// Length rules for a password being set.
pub fn validate_new_password(password: &str, field: &str) -> ApiResult<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::bad_input(
            field,
            format!("The password must have at least {MIN_PASSWORD_CHARS} characters."),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::bad_input(
            field,
            format!("The password must be at most {MAX_PASSWORD_BYTES} bytes."),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify_only_the_right_password() {
        let h = PasswordHasher::new(2);
        let hash = h.hash("correct horse battery", "p").await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            h.verify("correct horse battery", Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(!h.verify("wrong horse battery", Some(hash)).await.unwrap());
        assert!(!h.verify("correct horse battery", None).await.unwrap());
    }

    #[test]
    fn lengths_are_enforced() {
        assert!(validate_new_password("short", "p").is_err());
        assert!(validate_new_password(&"x".repeat(MAX_PASSWORD_BYTES + 1), "p").is_err());
        assert!(validate_new_password("ちょうど十文字のパスワ", "p").is_ok());
    }
}
