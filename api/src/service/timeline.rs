//! The client timeline: one row per history item, written in the same transaction as the record
//! it points to, so `client.history` is a single indexed keyset query filtered by the same
//! policy as every other read.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use entity::{
    observation::{RecordStatus, Visibility},
    timeline_entry,
};
use sea_orm::{
    ActiveEnum, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Set,
    sea_query::{Expr, ExprTrait, OnConflict, QueryStatementBuilder},
};
use uuid::Uuid;

use super::{
    access::{Scope, category_str},
    invalidation,
};
use crate::{
    auth::policy::DataCategory,
    error::{ApiError, ApiResult},
    service::page::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE},
};

pub use entity::timeline_entry::EntryKind;

/// The alias of the page's total count.
const TOTAL: &str = "history_total_count";

/// An entry of a page, with the history's total count when it was asked for.
struct PageRow {
    entry: timeline_entry::Model,
    total: Option<u64>,
}

impl sea_orm::FromQueryResult for PageRow {
    fn from_query_result(row: &sea_orm::QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(Self {
            entry: timeline_entry::Model::from_query_result(row, pre)?,
            total: total_of(row, pre)?,
        })
    }
}

/// The total's cell of a page row (null when it was not counted).
pub fn total_of(row: &sea_orm::QueryResult, pre: &str) -> Result<Option<u64>, sea_orm::DbErr> {
    let total: Option<i64> = row.try_get(pre, TOTAL)?;
    Ok(total.and_then(|n| u64::try_from(n).ok()))
}

/// One entry to write (or overwrite: an amended record keeps one entry).
#[derive(Debug, Clone)]
pub struct Entry {
    pub kind: EntryKind,
    pub record_id: Uuid,
    pub client_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub organization_id: Uuid,
    pub visibility: Visibility,
    pub data: Option<DataCategory>,
    pub category: Option<String>,
    pub status: RecordStatus,
}

/// Writes the entry of a new record (call inside the change's transaction). A plain insert:
/// on PostgreSQL an `ON CONFLICT` probe takes a predicate lock on the index page, which makes
/// concurrent recordings for the same client abort each other under `SERIALIZABLE`.
pub async fn insert(db: &impl ConnectionTrait, e: Entry) -> ApiResult<()> {
    insert_many(db, vec![e]).await
}

/// [`insert`] for several new records written together (one statement).
pub async fn insert_many(db: &impl ConnectionTrait, entries: Vec<Entry>) -> ApiResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    for e in &entries {
        invalidation::CLIENTS.written(e.client_id);
    }
    timeline_entry::Entity::insert_many(entries.into_iter().map(row))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

fn row(e: Entry) -> timeline_entry::ActiveModel {
    timeline_entry::ActiveModel {
        kind: Set(e.kind),
        record_id: Set(e.record_id),
        client_id: Set(e.client_id),
        occurred_at: Set(e.occurred_at),
        organization_id: Set(e.organization_id),
        visibility: Set(e.visibility),
        data_category: Set(e.data.map(|d| category_str(d).to_owned())),
        category: Set(e.category),
        status: Set(e.status),
    }
}

/// Writes or replaces an entry (call inside the change's transaction).
pub async fn put(db: &impl ConnectionTrait, e: Entry) -> ApiResult<()> {
    use timeline_entry::Column as T;
    invalidation::CLIENTS.written(e.client_id);
    timeline_entry::Entity::insert(row(e))
        .on_conflict(
            OnConflict::columns([T::Kind, T::RecordId])
                .update_columns([
                    T::OccurredAt,
                    T::Visibility,
                    T::DataCategory,
                    T::Category,
                    T::Status,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Filters of `client.history`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct HistoryFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub kinds: Vec<EntryKind>,
}

/// A page of history, newest first, with its cursors.
pub struct HistoryPage {
    pub items: Vec<(String, timeline_entry::Model)>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub total_count: u64,
}

/// Position of an entry in the newest-first order: (time, record id, kind).
fn cursor_of(e: &timeline_entry::Model) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "{}|{}|{}",
        e.occurred_at.timestamp_micros(),
        e.record_id,
        e.kind.to_value()
    ))
}

fn parse_cursor(c: &str) -> ApiResult<(DateTime<Utc>, Uuid, String)> {
    let bad = || ApiError::bad_input("after", "after is not a valid cursor.");
    let text =
        String::from_utf8(URL_SAFE_NO_PAD.decode(c).map_err(|_| bad())?).map_err(|_| bad())?;
    let mut parts = text.splitn(3, '|');
    let micros: i64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let id = parts
        .next()
        .and_then(|p| Uuid::parse_str(p).ok())
        .ok_or_else(bad)?;
    let kind = parts
        .next()
        .filter(|k| EntryKind::parse(k).is_some())
        .ok_or_else(bad)?
        .to_owned();
    Ok((
        DateTime::from_timestamp_micros(micros).ok_or_else(bad)?,
        id,
        kind,
    ))
}

/// A client's history as the scope may see it, newest first (forward paging only), counted
/// whole only when `count_total` asks for it.
pub async fn history(
    db: &impl ConnectionTrait,
    counts: &TotalCounts,
    scope: &Scope,
    client_id: Uuid,
    filter: &HistoryFilter,
    page: (Option<i32>, Option<&str>),
    count_total: bool,
) -> ApiResult<HistoryPage> {
    let query = PageQuery::new(counts, scope, client_id, filter, page, count_total)?;
    let rows = query
        .select
        .clone()
        .into_model::<PageRow>()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.entry, r.total, ()))
        .collect();
    Ok(query.page(db, counts, rows).await?.0)
}

/// The statement of a history page before it runs, and what turns its rows into the page:
/// [`history`] runs it as it is; a page that brings its records along adds them to it.
pub struct PageQuery {
    /// The entries (every column of `timeline_entries`, then the total's column) under the
    /// scope's condition, the filter and the cursor, newest first, one more than the page.
    pub select: sea_orm::Select<timeline_entry::Entity>,
    size: u64,
    base: Condition,
    count_total: bool,
    resumed: bool,
    count_key: Option<CountKey>,
    known: Option<u64>,
    timeline_generation: u64,
}

/// How many columns come before the first one a caller adds to [`PageQuery::select`].
pub fn page_columns() -> usize {
    use sea_orm::Iterable;
    timeline_entry::Column::iter().count() + 1
}

impl PageQuery {
    pub fn new(
        counts: &TotalCounts,
        scope: &Scope,
        client_id: Uuid,
        filter: &HistoryFilter,
        (first, after): (Option<i32>, Option<&str>),
        count_total: bool,
    ) -> ApiResult<Self> {
        use timeline_entry::Column as T;
        let size = match first {
            None => DEFAULT_PAGE_SIZE,
            Some(n) => u64::try_from(n)
                .ok()
                .filter(|n| *n <= MAX_PAGE_SIZE)
                .ok_or_else(|| {
                    ApiError::bad_input(
                        "first",
                        format!("first must be between 0 and {MAX_PAGE_SIZE}."),
                    )
                })?,
        };
        let mut base = Condition::all()
            .add(T::ClientId.eq(client_id))
            .add(T::Status.eq(RecordStatus::Current))
            .add(scope.timeline_condition_of(client_id));
        if let Some(from) = filter.from {
            base = base.add(T::OccurredAt.gte(from));
        }
        if let Some(to) = filter.to {
            base = base.add(T::OccurredAt.lt(to));
        }
        if !filter.kinds.is_empty() {
            base = base.add(T::Kind.is_in(filter.kinds.iter().copied()));
        }
        // A count kept since the client's last timeline write is reused; otherwise the total
        // rides along with the page as an uncorrelated subquery (both databases evaluate it
        // once): one statement for the page and its count.
        let count_key = count_total.then(|| CountKey::new(scope, client_id, filter));
        // Read before the count: a write committed meanwhile moves it.
        let timeline_generation = invalidation::CLIENTS.current(client_id);
        let known = count_key.as_ref().and_then(|k| counts.get(k));
        let count = (count_total && known.is_none()).then(|| {
            timeline_entry::Entity::find()
                .select_only()
                .expr(Expr::cust("COUNT(*)"))
                .filter(base.clone())
                .into_query()
        });
        let mut q = timeline_entry::Entity::find().filter(base.clone());
        q = match count {
            Some(count) => q.expr_as(
                Expr::SubQuery(None, Box::new(count.into_sub_query_statement())),
                TOTAL,
            ),
            // A typed null, so that every row decodes the same way and a bad count is an error.
            None => q.expr_as(Expr::cust("CAST(NULL AS BIGINT)"), TOTAL),
        };
        if let Some(c) = after {
            // A row-value comparison, which both SQLite and PostgreSQL answer from the
            // (client_id, occurred_at, record_id) index without walking the newer rows: deep
            // pages cost the same as the first.
            let (t, id, kind) = parse_cursor(c)?;
            q = q.filter(
                Expr::tuple([
                    Expr::col((timeline_entry::Entity, T::OccurredAt)),
                    Expr::col((timeline_entry::Entity, T::RecordId)),
                    Expr::col((timeline_entry::Entity, T::Kind)),
                ])
                .lt(Expr::tuple([Expr::val(t), Expr::val(id), Expr::val(kind)])),
            );
        }
        let select = q
            .order_by_desc(T::OccurredAt)
            .order_by_desc(T::RecordId)
            .order_by_desc(T::Kind)
            .limit(size + 1);
        Ok(Self {
            select,
            size,
            base,
            count_total,
            resumed: after.is_some(),
            count_key,
            known,
            timeline_generation,
        })
    }

    /// The page from the statement's rows (each an entry, the total's cell, and whatever the
    /// caller read beside them), with the rest of each row for the entries on the page.
    pub async fn page<R>(
        self,
        db: &impl ConnectionTrait,
        counts: &TotalCounts,
        mut rows: Vec<(timeline_entry::Model, Option<u64>, R)>,
    ) -> ApiResult<(HistoryPage, Vec<R>)> {
        let total_count = match (self.known, rows.first()) {
            _ if !self.count_total => 0,
            (Some(n), _) => n,
            (None, Some(r)) => r.1.unwrap_or(0),
            // Past the last page: the count alone.
            (None, None) if self.resumed => {
                timeline_entry::Entity::find()
                    .filter(self.base)
                    .count(db)
                    .await?
            }
            (None, None) => 0,
        };
        if let (Some(key), None) = (self.count_key, self.known) {
            counts.put(key, total_count, self.timeline_generation);
        }
        let has_next_page = rows.len() as u64 > self.size;
        rows.truncate(usize::try_from(self.size).unwrap_or(usize::MAX));
        let (items, rest) = rows
            .into_iter()
            .map(|(e, _, r)| ((cursor_of(&e), e), r))
            .unzip();
        Ok((
            HistoryPage {
                items,
                has_next_page,
                has_previous_page: self.resumed,
                total_count,
            },
            rest,
        ))
    }
}

/// What a cached history count answers: one organization's view (under the access generation and
/// day its scope was loaded for) of one client's history with one filter.
#[derive(Clone, PartialEq, Eq, Hash)]
struct CountKey {
    organization_id: Uuid,
    client_id: Uuid,
    access: u64,
    day: chrono::NaiveDate,
    filter: HistoryFilter,
}

impl CountKey {
    fn new(scope: &Scope, client_id: Uuid, filter: &HistoryFilter) -> Self {
        let mut filter = filter.clone();
        filter.kinds.sort_unstable();
        filter.kinds.dedup();
        Self {
            organization_id: scope.viewer_org,
            client_id,
            // Read before the count: an access change committed meanwhile moves it.
            access: invalidation::ACCESS.current(),
            day: super::access::today(),
            filter,
        }
    }
}

struct CachedCount {
    count: u64,
    timeline: u64,
    loaded: std::time::Instant,
}

/// `client.history`'s `totalCount` per organization, client and filter, kept until the client's
/// next timeline write (see [`invalidation::CLIENTS`]) or an access change. Counting a long
/// history under the scope's condition costs more than the rest of the page together; a
/// specialist paging through it, or several staff opening the same client, count it once.
#[derive(Default)]
pub struct TotalCounts {
    entries: std::sync::Mutex<std::collections::HashMap<CountKey, CachedCount>>,
}

/// How many counts are kept (about 150 bytes each).
const COUNTS_KEPT: usize = 10_000;

impl TotalCounts {
    fn get(&self, key: &CountKey) -> Option<u64> {
        let timeline = invalidation::CLIENTS.current(key.client_id);
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|c| c.timeline == timeline && c.loaded.elapsed() < invalidation::MAX_AGE)
            .map(|c| c.count)
    }

    /// Keeps a count under the generations read before it was counted: when a write committed
    /// since moved either, the entry is never used.
    fn put(&self, key: CountKey, count: u64, timeline: u64) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= COUNTS_KEPT {
            entries.clear();
        }
        entries.insert(
            key,
            CachedCount {
                count,
                timeline,
                loaded: std::time::Instant::now(),
            },
        );
    }
}
