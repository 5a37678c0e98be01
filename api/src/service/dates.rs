//! The calendar date stored in documents and passed between services (日付). Its GraphQL
//! scalar (`Date`, `YYYY-MM-DD`) is implemented in `graphql::scalars`, so this layer holds the
//! value without knowing how the API writes it.

use chrono::NaiveDate;

/// A calendar date (日付), in the Japanese calendar day (no time zone); stored as `YYYY-MM-DD`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Date(pub NaiveDate);

impl From<NaiveDate> for Date {
    fn from(d: NaiveDate) -> Self {
        Date(d)
    }
}
