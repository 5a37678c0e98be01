//! Domain logic, authorization and persistence: every function takes `&Ctx`, plain values and
//! the viewer and returns `ApiResult`, so the same rules serve GraphQL over HTTP and WebSocket,
//! webhooks and the tools (the layering: ARCHITECTURE.md).

pub mod access;
pub mod acknowledgements;
pub mod api_keys;
pub mod audit_log;
pub mod audit_retention;
pub(crate) mod batch;
pub mod brief_drafts;
pub mod budgets;
pub mod care_team;
pub mod certificates;
pub mod clients;
pub mod consents;
pub mod credentials;
pub mod ctx;
pub mod dates;
pub mod deliveries;
pub mod documents;
pub mod events;
pub mod evidence;
pub mod external_ids;
pub mod fact_checks;
pub mod glossaries;
pub mod history;
pub mod imports;
pub mod invalidation;
pub mod materials;
pub mod meetings;
pub mod monitoring;
pub mod observations;
pub mod organizations;
pub mod outbox;
pub mod page;
pub mod plan_checks;
pub mod plans;
pub mod read_audits;
pub mod risk_directions;
pub mod sessions;
pub mod staff;
pub mod statutory;
pub mod timeline;
mod unit_of_work;
pub mod webhooks;

use chrono::{DateTime, SubsecRound, Utc};

pub use ctx::Ctx;
pub(crate) use unit_of_work::ClientWrite;

/// The ids in a JSON array column (entries that are not UUIDs are skipped).
pub fn json_uuids(value: &serde_json::Value) -> Vec<uuid::Uuid> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().and_then(|s| uuid::Uuid::parse_str(s).ok()))
                .collect()
        })
        .unwrap_or_default()
}

/// The current time at microsecond precision, the finest both SQLite and PostgreSQL keep, so a
/// value reads back exactly as it was written.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A client-supplied time at microsecond precision (what both databases keep), so that what is
/// read back equals what was stored on either.
pub fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// Midnight (JST) starting a calendar day, as UTC. Years outside 1900–2100 are refused, so
/// date arithmetic on client input can never overflow.
pub fn jst_day_start(
    field: &str,
    day: chrono::NaiveDate,
) -> crate::error::ApiResult<DateTime<Utc>> {
    use chrono::Datelike;
    if !(1900..=2100).contains(&day.year()) {
        return Err(crate::error::ApiError::bad_input(
            field,
            format!("{field} must be between 1900 and 2100."),
        ));
    }
    Ok(day.and_time(chrono::NaiveTime::MIN).and_utc() - chrono::Duration::hours(9))
}

/// A time as its Japanese calendar day, month/day (11/3), as records cite dates.
pub fn jst_month_day(t: DateTime<Utc>) -> String {
    (t + chrono::Duration::hours(9))
        .format("%-m/%-d")
        .to_string()
}

/// Trims an optional text; empty becomes `None`.
pub fn optional_text(
    field: &str,
    value: Option<String>,
    max_chars: usize,
) -> crate::error::ApiResult<Option<String>> {
    match value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
        Some(v) if v.chars().count() > max_chars => Err(crate::error::ApiError::bad_input(
            field,
            format!("{field} must be at most {max_chars} characters."),
        )),
        other => Ok(other),
    }
}

/// Trims a required text field and checks its length in characters.
pub fn required_text(
    field: &str,
    value: &str,
    max_chars: usize,
) -> crate::error::ApiResult<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(crate::error::ApiError::bad_input(
            field,
            format!("{field} must not be empty."),
        ));
    }
    if trimmed.chars().count() > max_chars {
        return Err(crate::error::ApiError::bad_input(
            field,
            format!("{field} must be at most {max_chars} characters."),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Groups rows by a key (per-client lists for DataLoaders), keeping their order.
pub fn group_by<M>(
    rows: Vec<M>,
    key: impl Fn(&M) -> uuid::Uuid,
) -> std::collections::HashMap<uuid::Uuid, Vec<M>> {
    let mut out: std::collections::HashMap<uuid::Uuid, Vec<M>> = std::collections::HashMap::new();
    for row in rows {
        out.entry(key(&row)).or_default().push(row);
    }
    out
}

/// The most items a nested per-parent list returns.
pub const MAX_NESTED: usize = 100;

/// Caps each group at [`MAX_NESTED`] items (nested lists are bounded like pages).
pub fn capped<M>(
    mut groups: std::collections::HashMap<uuid::Uuid, Vec<M>>,
) -> std::collections::HashMap<uuid::Uuid, Vec<M>> {
    for list in groups.values_mut() {
        list.truncate(MAX_NESTED);
    }
    groups
}

pub use crate::error::is_unique_violation;
