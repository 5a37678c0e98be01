//! Token buckets kept in the database (`rate_budgets`), so that every instance takes from the
//! same budget: a budget holds up to `capacity` tokens and refills at `per_second`; taking one is
//! a single atomic statement (an upsert that refills, checks and takes at once), so parallel
//! requests on any number of instances can never take more than there is.

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

use crate::error::{ApiError, ApiResult};

/// A budget's size and refill.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// Tokens a full budget holds (the burst).
    pub capacity: f64,
    /// Tokens added per second.
    pub per_second: f64,
}

impl Budget {
    /// `per_minute` tokens a minute, bursting to `burst`.
    pub fn per_minute(burst: u32, per_minute: u32) -> Self {
        Self {
            capacity: f64::from(burst.max(1)),
            per_second: f64::from(per_minute) / 60.0,
        }
    }
}

/// Takes one token from the budget `key`, or says how many seconds until one is there.
pub async fn take(
    db: &impl ConnectionTrait,
    key: &str,
    budget: Budget,
) -> ApiResult<Result<(), u64>> {
    let now_ms = Utc::now().timestamp_millis();
    let per_ms = budget.per_second / 1000.0;
    let backend = db.get_database_backend();
    let sql = upsert_sql(backend);
    let values = vec![
        key.into(),
        budget.capacity.into(),
        now_ms.into(),
        per_ms.into(),
    ];
    let taken = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    if taken.is_some() {
        return Ok(Ok(()));
    }
    // Empty: how long until the next token.
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT tokens, updated_ms FROM rate_budgets WHERE key = {}",
                p(backend, 1)
            ),
            vec![key.into()],
        ))
        .await?;
    let wait = match row {
        Some(row) => {
            let tokens: f64 = row.try_get("", "tokens")?;
            let updated: i64 = row.try_get("", "updated_ms")?;
            let now_tokens = (tokens + (now_ms - updated) as f64 * per_ms).min(budget.capacity);
            if budget.per_second <= 0.0 {
                u64::MAX / 2
            } else {
                whole_seconds(((1.0 - now_tokens) / budget.per_second).ceil().max(1.0))
            }
        }
        None => 1,
    };
    Ok(Err(wait))
}

/// The `n`th bind parameter in the backend's syntax (`$n` / `?n`).
fn p(backend: DatabaseBackend, n: u8) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("${n}"),
        _ => format!("?{n}"),
    }
}

/// Refill, check and take in one statement: the row is updated only when a whole token is there
/// after the refill, and `RETURNING` says whether it was. `LEAST` in PostgreSQL, the two-argument
/// scalar `MIN` in SQLite.
fn upsert_sql(backend: DatabaseBackend) -> String {
    let (cap, now, rate) = (p(backend, 2), p(backend, 3), p(backend, 4));
    let least = match backend {
        DatabaseBackend::Postgres => "LEAST",
        _ => "MIN",
    };
    let refilled =
        format!("{least}({cap}, rate_budgets.tokens + ({now} - rate_budgets.updated_ms) * {rate})");
    format!(
        "INSERT INTO rate_budgets (key, tokens, updated_ms) VALUES ({key}, {cap} - 1, {now}) \
         ON CONFLICT (key) DO UPDATE SET tokens = {refilled} - 1, updated_ms = {now} \
         WHERE {refilled} >= 1 \
         RETURNING tokens",
        key = p(backend, 1)
    )
}

/// Gives a token back (an attempt that turned out legitimate, e.g. a successful sign-in, should
/// not count against the budgets that exist to slow guessing).
pub async fn give_back(db: &impl ConnectionTrait, key: &str, budget: Budget) -> ApiResult<()> {
    let backend = db.get_database_backend();
    let least = match backend {
        DatabaseBackend::Postgres => "LEAST",
        _ => "MIN",
    };
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        format!(
            "UPDATE rate_budgets SET tokens = {least}({cap}, tokens + 1) WHERE key = {key}",
            cap = p(backend, 2),
            key = p(backend, 1)
        ),
        vec![key.into(), budget.capacity.into()],
    ))
    .await?;
    Ok(())
}

/// Empties nothing and refills fully: the budget `key` starts again (after a success).
pub async fn reset(db: &impl ConnectionTrait, key: &str) -> ApiResult<()> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        format!(
            "DELETE FROM rate_budgets WHERE key = {}",
            p(db.get_database_backend(), 1)
        ),
        vec![key.into()],
    ))
    .await?;
    Ok(())
}

/// Budgets nobody used for a day are full again: forget them (called by the periodic sweep).
pub async fn prune(db: &impl ConnectionTrait) -> ApiResult<u64> {
    let day_ago = Utc::now().timestamp_millis() - 24 * 3600 * 1000;
    Ok(db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            format!(
                "DELETE FROM rate_budgets WHERE updated_ms < {}",
                p(db.get_database_backend(), 1)
            ),
            vec![day_ago.into()],
        ))
        .await?
        .rows_affected())
}

/// `RATE_LIMITED` with the wait.
pub fn limited(retry_after_secs: u64) -> ApiError {
    ApiError::RateLimited {
        retry_after_secs: retry_after_secs.max(1),
    }
}

/// Seconds as a whole number (at least 1 here); Rust's float-to-integer cast saturates, so a
/// huge or infinite wait stays `u64::MAX`, never wraps.
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "float-to-integer casts saturate; the value is at least 1"
)]
fn whole_seconds(seconds: f64) -> u64 {
    seconds as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Database;

    async fn db() -> sea_orm::DatabaseConnection {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        db.execute_unprepared(
            "CREATE TABLE rate_budgets (key TEXT PRIMARY KEY, tokens DOUBLE NOT NULL, updated_ms BIGINT NOT NULL)",
        )
        .await
        .unwrap();
        db
    }

    #[tokio::test]
    async fn a_budget_gives_its_burst_then_refills_at_its_rate() {
        let db = db().await;
        let budget = Budget::per_minute(3, 60);
        for _ in 0..3 {
            assert_eq!(take(&db, "k", budget).await.unwrap(), Ok(()));
        }
        // Empty: the wait is about one token's refill (a second at 60 a minute).
        assert_eq!(take(&db, "k", budget).await.unwrap(), Err(1));
        // Other keys are other budgets.
        assert_eq!(take(&db, "other", budget).await.unwrap(), Ok(()));
        // A token given back can be taken again, never beyond the capacity.
        give_back(&db, "k", budget).await.unwrap();
        assert_eq!(take(&db, "k", budget).await.unwrap(), Ok(()));
        for _ in 0..10 {
            give_back(&db, "other", budget).await.unwrap();
        }
        for _ in 0..3 {
            assert_eq!(take(&db, "other", budget).await.unwrap(), Ok(()));
        }
        assert!(take(&db, "other", budget).await.unwrap().is_err());
        // After the refill time a token is back; a reset fills the budget.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        assert_eq!(take(&db, "k", budget).await.unwrap(), Ok(()));
        reset(&db, "k").await.unwrap();
        for _ in 0..3 {
            assert_eq!(take(&db, "k", budget).await.unwrap(), Ok(()));
        }
    }
}
