//! The API's one error type and its stable `extensions.code`s.
//!
//! `ApiError` deliberately does not implement `Display`: async-graphql turns any `Display` type
//! into an error *without* a code, so the only way out of a resolver is the explicit
//! `From<ApiError> for async_graphql::Error` below. Internal errors are logged here (inside the
//! request's span, which carries the request id) and reach the client as a generic message.

use async_graphql::ErrorExtensions;
use sea_orm::DbErr;

/// The closed set of error codes. They are API contract: add, never rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    Conflict,
    RateLimited,
    QueryTooComplex,
    InternalServerError,
    CursorExpired,
    SubscriberTooSlow,
    ServiceUnavailable,
    /// Automatic persisted queries: the server does not know this hash; the client resends the
    /// text (Apollo clients look for exactly this code and the message `PersistedQueryNotFound`).
    PersistedQueryNotFound,
}

impl ErrorCode {
    /// Every code, for the metrics that count them.
    pub const ALL: [Self; 12] = [
        Self::Unauthenticated,
        Self::Forbidden,
        Self::NotFound,
        Self::BadUserInput,
        Self::Conflict,
        Self::RateLimited,
        Self::QueryTooComplex,
        Self::InternalServerError,
        Self::CursorExpired,
        Self::SubscriberTooSlow,
        Self::ServiceUnavailable,
        Self::PersistedQueryNotFound,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Conflict => "CONFLICT",
            Self::RateLimited => "RATE_LIMITED",
            Self::QueryTooComplex => "QUERY_TOO_COMPLEX",
            Self::InternalServerError => "INTERNAL_SERVER_ERROR",
            Self::CursorExpired => "CURSOR_EXPIRED",
            Self::SubscriberTooSlow => "SUBSCRIBER_TOO_SLOW",
            Self::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            Self::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
        }
    }
}

/// What a client reads while the database is unreachable or (SQLite) its write lock stays taken.
pub const UNAVAILABLE_MESSAGE: &str =
    "The database is unreachable or too busy right now. Try again in a few seconds.";

/// Everything that can go wrong in a request, as the service layer reports it.
/// `Clone` so that an error shared by several callers (a loader's batch) keeps its code for
/// each of them.
#[derive(Debug, Clone)]
pub enum ApiError {
    /// No valid credentials (missing, forged, expired, revoked, or a deactivated account).
    Unauthenticated,
    /// The viewer can see the record but may not do this to it.
    Forbidden(String),
    /// Does not exist, or the viewer may not see it: the two are indistinguishable on purpose.
    NotFound(&'static str),
    /// The input is wrong; `field` names the input field when one is to blame.
    BadUserInput {
        message: String,
        field: Option<String>,
    },
    /// A uniqueness or optimistic-concurrency clash.
    Conflict(String),
    /// PostgreSQL aborted the transaction to keep it serializable (a concurrent transaction won
    /// a race): worth retrying as a whole ([`crate::db::retrying`]); `CONFLICT` if it persists.
    Contention,
    /// Too many attempts; try again after the given number of seconds.
    RateLimited { retry_after_secs: u64 },
    /// The query exceeds a depth, complexity or alias limit.
    QueryTooComplex(String),
    /// A subscription's `after` cursor is older than the outbox keeps: refetch, then subscribe
    /// without `after`.
    CursorExpired,
    /// A live subscriber fell further behind than the server buffers; it should resubscribe
    /// with `after` set to `cursor`, the last event it received.
    SubscriberTooSlow { cursor: Option<String> },
    /// The database cannot be reached (restarting, network down): try again in a few seconds.
    Unavailable,
    /// A bug; the detail is logged, never shown.
    Internal(std::sync::Arc<anyhow::Error>),
}

impl ApiError {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            message: message.into(),
            field: Some(field.into()),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(std::sync::Arc::new(err.into()))
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthenticated => ErrorCode::Unauthenticated,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::BadUserInput { .. } => ErrorCode::BadUserInput,
            Self::Conflict(_) | Self::Contention => ErrorCode::Conflict,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::QueryTooComplex(_) => ErrorCode::QueryTooComplex,
            Self::Internal(_) => ErrorCode::InternalServerError,
            Self::Unavailable => ErrorCode::ServiceUnavailable,
            Self::CursorExpired => ErrorCode::CursorExpired,
            Self::SubscriberTooSlow { .. } => ErrorCode::SubscriberTooSlow,
        }
    }

    /// The message a client sees.
    pub fn public_message(&self) -> String {
        match self {
            Self::Unauthenticated => {
                "Authentication required: the token is missing, invalid or expired.".into()
            }
            Self::Forbidden(m) | Self::Conflict(m) | Self::QueryTooComplex(m) => m.clone(),
            Self::NotFound(what) => format!("{what} not found."),
            Self::BadUserInput { message, .. } => message.clone(),
            Self::RateLimited { retry_after_secs } => {
                format!("Too many attempts. Try again in {retry_after_secs} seconds.")
            }
            Self::Internal(_) => "Internal server error.".into(),
            Self::Unavailable => UNAVAILABLE_MESSAGE.into(),
            Self::Contention => "A concurrent change got there first: reload and try again.".into(),
            Self::CursorExpired => {
                "The cursor is older than the event retention: refetch, then subscribe without `after`.".into()
            }
            Self::SubscriberTooSlow { .. } => {
                "Events arrived faster than this subscriber read them: resubscribe with `after` set to the last cursor received.".into()
            }
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    /// A uniqueness violation or a serialization failure means a concurrent change won: the
    /// client should reload and retry (`CONFLICT`); anything else is internal.
    fn from(err: sea_orm::DbErr) -> Self {
        if is_serialization_failure(&err) {
            tracing::info!(error = %err, "serialization failure");
            return Self::Contention;
        }
        if is_unreachable(&err) {
            tracing::warn!(error = %err, "database unreachable");
            return Self::Unavailable;
        }
        if is_busy(&err) {
            tracing::warn!(error = %err, "database busy");
            return Self::Unavailable;
        }
        if is_unique_violation(&err) {
            tracing::info!(error = %err, "write conflict");
            return Self::Conflict(
                "A concurrent change got there first: reload and try again.".into(),
            );
        }
        Self::internal(err)
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        let code = err.code();
        if let ApiError::Internal(inner) = &err {
            tracing::error!(error = ?inner, "internal error");
        }
        let message = err.public_message();
        async_graphql::Error::new(message).extend_with(|_, ext| {
            ext.set("code", code.as_str());
            match &err {
                ApiError::BadUserInput {
                    field: Some(field), ..
                } => ext.set("field", field.as_str()),
                ApiError::SubscriberTooSlow {
                    cursor: Some(cursor),
                } => ext.set("cursor", cursor.as_str()),
                ApiError::RateLimited { retry_after_secs } => {
                    ext.set("retryAfterSeconds", *retry_after_secs)
                }
                _ => {}
            }
        })
    }
}

/// The result type of every resolver and service function.
pub type ApiResult<T> = Result<T, ApiError>;

/// A GraphQL server error carrying a code, for the places outside resolvers (parsing,
/// validation, the HTTP handler).
pub fn server_error(code: ErrorCode, message: impl Into<String>) -> async_graphql::ServerError {
    let mut e = async_graphql::ServerError::new(message, None);
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", code.as_str());
    e.extensions = Some(ext);
    e
}

// How database errors are told apart (they decide the code a failed write reports).

/// `true` for PostgreSQL's "could not serialize access" (SQLSTATE 40001) and for a detected
/// deadlock (40P01): either way one side lost a race and may retry.
pub fn is_serialization_failure(err: &DbErr) -> bool {
    let text = err.to_string();
    text.contains("40001")
        || text.contains("could not serialize access")
        || text.contains("40P01")
        || text.contains("deadlock detected")
}

/// `true` when the error says the database could not be reached at all (PostgreSQL restarting,
/// the network gone, the pool unable to open a connection), as opposed to a statement it
/// refused. Such a request changed nothing the client can rely on, and trying again later may
/// succeed: it is reported as `SERVICE_UNAVAILABLE`, never as an internal error.
pub fn is_unreachable(err: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx::Error};
    let runtime = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(e) | DbErr::Exec(e) | DbErr::Query(e) => e,
        _ => return false,
    };
    match runtime {
        RuntimeErr::SqlxError(e) => match e.as_ref() {
            Error::Io(_)
            | Error::Tls(_)
            | Error::Protocol(_)
            | Error::PoolTimedOut
            | Error::PoolClosed
            | Error::WorkerCrashed
            | Error::BeginFailed => true,
            // Class 08: connection exception; 57P01–57P03: the server is shutting down,
            // crashed, or cannot accept connections yet.
            Error::Database(db) => db
                .code()
                .is_some_and(|c| c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03")),
            _ => false,
        },
        RuntimeErr::Internal(text) => text.contains("Connection pool timed out"),
    }
}

/// `true` when SQLite gave up waiting for the write lock (`SQLITE_BUSY` after the busy timeout:
/// more writers than the file can take in that time). Nothing was written, and trying again later
/// may succeed: it is reported as `SERVICE_UNAVAILABLE`, never as an internal error.
pub fn is_busy(err: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx::Error};
    let (DbErr::Conn(RuntimeErr::SqlxError(e))
    | DbErr::Exec(RuntimeErr::SqlxError(e))
    | DbErr::Query(RuntimeErr::SqlxError(e))) = err
    else {
        return false;
    };
    // SQLITE_BUSY and its extended codes (RECOVERY, SNAPSHOT, TIMEOUT).
    matches!(e.as_ref(), Error::Database(db)
        if db.code().is_some_and(|c| matches!(&*c, "5" | "261" | "517" | "773")))
}

/// `true` when a database error is a uniqueness violation (same check on both backends).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(err: ApiError) -> (String, String) {
        let gql: async_graphql::Error = err.into();
        let ext = gql.extensions.expect("every error has extensions");
        let code = match ext.get("code") {
            Some(async_graphql::Value::String(s)) => s.clone(),
            other => panic!("code missing: {other:?}"),
        };
        (code, gql.message)
    }

    #[test]
    fn every_variant_maps_to_its_stable_code() {
        let cases = [
            (ApiError::Unauthenticated, "UNAUTHENTICATED"),
            (ApiError::forbidden("no"), "FORBIDDEN"),
            (ApiError::NotFound("Client"), "NOT_FOUND"),
            (ApiError::bad_input("email", "bad"), "BAD_USER_INPUT"),
            (ApiError::conflict("stale"), "CONFLICT"),
            (
                ApiError::RateLimited {
                    retry_after_secs: 3,
                },
                "RATE_LIMITED",
            ),
            (
                ApiError::QueryTooComplex("deep".into()),
                "QUERY_TOO_COMPLEX",
            ),
            (
                ApiError::internal(anyhow::anyhow!("x")),
                "INTERNAL_SERVER_ERROR",
            ),
            (ApiError::Unavailable, "SERVICE_UNAVAILABLE"),
        ];
        for (err, expected) in cases {
            assert_eq!(err.code().as_str(), expected);
            assert_eq!(code_of(err).0, expected);
        }
    }

    #[test]
    fn uniqueness_clashes_are_conflicts() {
        let clash = sea_orm::DbErr::Query(sea_orm::RuntimeErr::Internal(
            "could not serialize access due to read/write dependencies among transactions".into(),
        ));
        assert_eq!(ApiError::from(clash).code(), ErrorCode::Conflict);
    }

    #[test]
    fn an_unreachable_database_is_unavailable_not_internal() {
        use std::sync::Arc;
        let refused = sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(Arc::new(
            sea_orm::sqlx::Error::Io(std::io::ErrorKind::ConnectionRefused.into()),
        )));
        assert_eq!(
            ApiError::from(refused).code(),
            ErrorCode::ServiceUnavailable
        );
        let pool = sea_orm::DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout);
        assert_eq!(ApiError::from(pool).code(), ErrorCode::ServiceUnavailable);
        // A statement the database refused is not an outage.
        let refused_statement = sea_orm::DbErr::Query(sea_orm::RuntimeErr::Internal(
            "syntax error at or near".into(),
        ));
        assert_eq!(
            ApiError::from(refused_statement).code(),
            ErrorCode::InternalServerError
        );
    }

    #[test]
    fn internal_details_never_reach_the_client() {
        let db = sea_orm::DbErr::Custom("relation \"staff_members\" does not exist".into());
        let (code, message) = code_of(db.into());
        assert_eq!(code, "INTERNAL_SERVER_ERROR");
        assert!(!message.contains("staff_members"));
    }

    #[test]
    fn bad_input_names_the_field_and_rate_limit_says_when() {
        let gql: async_graphql::Error = ApiError::bad_input("input.email", "bad").into();
        let ext = gql.extensions.unwrap();
        assert_eq!(
            ext.get("field"),
            Some(&async_graphql::Value::from("input.email"))
        );
        let gql: async_graphql::Error = ApiError::RateLimited {
            retry_after_secs: 7,
        }
        .into();
        assert_eq!(
            gql.extensions.unwrap().get("retryAfterSeconds"),
            Some(&async_graphql::Value::from(7u64))
        );
    }
}
