//! External ids (外部ID): each organization's own identifier for a record, from the system it
//! already uses (billing software, a daily-record app, a spreadsheet). Unique per organization,
//! they make writes idempotent: sending the same item twice finds the first and changes nothing.

use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

/// The longest external id accepted (characters).
pub const MAX_CHARS: usize = 100;

/// What an idempotent write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// No record had this external id: one was created.
    Created,
    /// The record existed and differed: it now holds the item (a new version where records keep
    /// versions).
    Updated,
    /// The record existed and already held the item: nothing was written.
    Unchanged,
}

/// Trims an optional external id; empty means none. Control characters are refused, since the
/// id travels through CSV files and logs.
pub fn validate(value: Option<String>) -> ApiResult<Option<String>> {
    let Some(v) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > MAX_CHARS || v.chars().any(char::is_control) {
        return Err(ApiError::bad_input(
            "externalId",
            format!("externalId must be at most {MAX_CHARS} printable characters."),
        ));
    }
    Ok(Some(v))
}

/// [`validate`] for a write keyed by its external id: one is required.
pub fn required(value: String) -> ApiResult<String> {
    validate(Some(value))?
        .ok_or_else(|| ApiError::bad_input("externalId", "externalId must not be empty."))
}

/// The record an idempotent create found under its external id, if it is for the same client.
pub fn same_client<T>(existing_client: Uuid, requested_client: Uuid, record: T) -> ApiResult<T> {
    if existing_client == requested_client {
        Ok(record)
    } else {
        Err(ApiError::conflict(
            "Your organization already uses this externalId for another client's record.",
        ))
    }
}

/// A uniqueness clash on insert: a concurrent create with the same external id won the race, so
/// the write is retried and then finds that record.
pub fn race(err: sea_orm::DbErr) -> ApiError {
    if super::is_unique_violation(&err) {
        ApiError::Contention
    } else {
        err.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_ids_are_trimmed_bounded_and_printable() {
        assert_eq!(validate(None).unwrap(), None);
        assert_eq!(validate(Some("  ".into())).unwrap(), None);
        assert_eq!(
            validate(Some(" K-001 ".into())).unwrap().as_deref(),
            Some("K-001")
        );
        assert_eq!(
            validate(Some("利用者-7".into())).unwrap().as_deref(),
            Some("利用者-7")
        );
        for bad in ["a\nb".to_owned(), "x".repeat(101)] {
            let err = validate(Some(bad)).unwrap_err();
            assert_eq!(err.code().as_str(), "BAD_USER_INPUT");
        }
        assert!(required(" ".into()).is_err());
    }
}
