//! The records behind a page of a client's history (経過): one statement whatever the page's size
//! and the kinds of record on it. The page's entries are joined to each kind's table present on
//! the page (and, when the page shows them, the observations' authors and their organizations),
//! so a page of plan versions, meetings and observations costs what a page of observations costs.
//!
//! The page itself (which entries, in which order, filtered by the viewer's scope) is
//! [`super::timeline::history`]; this module only loads what its entries point to.

use std::collections::{BTreeMap, HashMap};

use entity::{
    accident_report, complaint_record, meeting, meeting_brief, monitoring_report, observation,
    organization, restraint_record, sharing_consent, staff_member, support_plan_version,
    timeline_entry,
};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, IdenStatic,
    Iterable, QueryResult, TryGetable,
    sea_query::{Alias, Condition, Expr, ExprTrait, JoinType, Query, SelectStatement, SimpleExpr},
};
use uuid::Uuid;

use super::timeline::EntryKind;
use crate::error::{ApiError, ApiResult};

/// The record an entry points to.
pub enum HistoryRecord {
    Observation(observation::Model),
    PlanVersion(support_plan_version::Model),
    Meeting(meeting::Model),
    Brief(meeting_brief::Model),
    MonitoringReport(monitoring_report::Model),
    /// Both a consent's grant and its revocation point to the consent.
    Consent(sharing_consent::Model),
    Restraint(restraint_record::Model),
    Accident(accident_report::Model),
    Complaint(complaint_record::Model),
}

/// What a page's entries point to.
#[derive(Default)]
pub struct PageRecords {
    /// By the entry's kind and record id.
    pub records: HashMap<(EntryKind, Uuid), HistoryRecord>,
    /// The observations' authors (only when asked for; never with a password hash).
    pub authors: HashMap<Uuid, staff_member::Model>,
    /// The authors' organizations (only when asked for).
    pub organizations: HashMap<Uuid, organization::Model>,
}

/// The entries' table in the statement, and the aliases of its two selected columns.
const ENTRY: &str = "entry";
const ENTRY_KIND: &str = "entry_kind";
const ENTRY_RECORD: &str = "entry_record_id";
/// Aliases (and column prefixes) of the joined author and organization.
const AUTHOR: &str = "author";
const AUTHOR_ORGANIZATION: &str = "author_org";

/// Each record table's alias in the statement; its columns come back as `<alias>_<column>`.
fn alias(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Observation => "observation",
        EntryKind::PlanVersion => "plan_version",
        EntryKind::Meeting => "meeting",
        EntryKind::Brief => "brief",
        EntryKind::MonitoringReport => "monitoring",
        EntryKind::ConsentGranted | EntryKind::ConsentRevoked => "consent",
        EntryKind::Restraint => "restraint",
        EntryKind::Accident => "accident",
        EntryKind::Complaint => "complaint",
    }
}

/// What a page shows beyond its records' plain columns, so that the statement reads no more.
#[derive(Clone, Copy, Debug)]
pub struct Shown {
    /// The observations' authors (every column but the password hash, which comes back empty)
    /// and the authors' organizations.
    pub authors: bool,
    /// The plan versions' text and record: two JSON documents, the costliest cells of a page to
    /// decode. Left out, they come back as JSON `null`.
    pub plan_text: bool,
}

/// Loads the records behind `entries` in one statement, with what `shown` asks for.
pub async fn records_of(
    db: &impl ConnectionTrait,
    entries: &[timeline_entry::Model],
    shown: Shown,
) -> ApiResult<PageRecords> {
    let authors = shown.authors;
    let mut page = PageRecords::default();
    if entries.is_empty() {
        return Ok(page);
    }
    // Ordered, so that the same kinds give the same statement text (and its prepared statement).
    let mut by_kind: BTreeMap<EntryKind, Vec<Uuid>> = BTreeMap::new();
    for e in entries {
        by_kind.entry(e.kind).or_default().push(e.record_id);
    }
    let mut q = Query::select();
    q.from_as(timeline_entry::Entity, Alias::new(ENTRY))
        .expr_as(
            Expr::col((Alias::new(ENTRY), timeline_entry::Column::Kind)),
            Alias::new(ENTRY_KIND),
        )
        .expr_as(
            Expr::col((Alias::new(ENTRY), timeline_entry::Column::RecordId)),
            Alias::new(ENTRY_RECORD),
        );
    // Each entry by its primary key (kind, record id), so the statement walks no more entries
    // than the page holds.
    let mut wanted = Condition::any();
    for (kind, ids) in &by_kind {
        wanted = wanted.add(
            Condition::all()
                .add(
                    Expr::col((Alias::new(ENTRY), timeline_entry::Column::Kind))
                        .eq(kind.to_value()),
                )
                .add(
                    Expr::col((Alias::new(ENTRY), timeline_entry::Column::RecordId))
                        .is_in(ids.iter().copied()),
                ),
        );
    }
    q.cond_where(wanted);
    let present = |kinds: &[EntryKind]| kinds.iter().any(|k| by_kind.contains_key(k));
    if present(&[EntryKind::Observation]) {
        join::<observation::Entity>(&mut q, &[EntryKind::Observation], &[]);
        if authors {
            q.join_as(
                JoinType::LeftJoin,
                staff_member::Entity,
                Alias::new(AUTHOR),
                Expr::col((Alias::new(AUTHOR), staff_member::Column::Id)).equals((
                    Alias::new(alias(EntryKind::Observation)),
                    observation::Column::AuthorStaffMemberId,
                )),
            );
            // A name on a page never carries a password hash.
            let blank = [(staff_member::Column::PasswordHash.as_str(), Expr::value(""))];
            select_columns::<staff_member::Entity>(&mut q, AUTHOR, &blank);
            q.join_as(
                JoinType::LeftJoin,
                organization::Entity,
                Alias::new(AUTHOR_ORGANIZATION),
                Expr::col((Alias::new(AUTHOR_ORGANIZATION), organization::Column::Id))
                    .equals((Alias::new(AUTHOR), staff_member::Column::OrganizationId)),
            );
            select_columns::<organization::Entity>(&mut q, AUTHOR_ORGANIZATION, &[]);
        }
    }
    if present(&[EntryKind::PlanVersion]) {
        let null = || Expr::value(serde_json::Value::Null);
        let blank = [
            (support_plan_version::Column::Content.as_str(), null()),
            (support_plan_version::Column::Record.as_str(), null()),
        ];
        let blank: &[_] = if shown.plan_text { &[] } else { &blank };
        join::<support_plan_version::Entity>(&mut q, &[EntryKind::PlanVersion], blank);
    }
    let simple: [(EntryKind, JoinKind); 6] = [
        (EntryKind::Meeting, join::<meeting::Entity>),
        (EntryKind::Brief, join::<meeting_brief::Entity>),
        (
            EntryKind::MonitoringReport,
            join::<monitoring_report::Entity>,
        ),
        (EntryKind::Restraint, join::<restraint_record::Entity>),
        (EntryKind::Accident, join::<accident_report::Entity>),
        (EntryKind::Complaint, join::<complaint_record::Entity>),
    ];
    for (kind, join) in simple {
        if present(&[kind]) {
            join(&mut q, &[kind], &[]);
        }
    }
    let consents = [EntryKind::ConsentGranted, EntryKind::ConsentRevoked];
    if present(&consents) {
        join::<sharing_consent::Entity>(&mut q, &consents, &[]);
    }
    let statement = db.get_database_backend().build(&q);
    // The entry's two columns, then the observation's, its author's and the author's
    // organization's (joined first, so their positions are known).
    let observation_at = 2;
    let author_at = observation_at + observation::Column::iter().count();
    let organization_at = author_at + staff_member::Column::iter().count();
    for row in db.query_all_raw(statement).await? {
        let kind: String = row.try_get_by_index(0)?;
        let Some(kind) = EntryKind::parse(&kind) else {
            continue;
        };
        let record = if kind == EntryKind::Observation {
            observation::Model::at(&row, observation_at)?.map(HistoryRecord::Observation)
        } else {
            record(&row, kind)?
        };
        // A page's 50 observations have a few authors: each is decoded once.
        if kind == EntryKind::Observation && authors {
            let id: Option<Uuid> = cell(&row, author_at)?;
            if id.is_some_and(|id| !page.authors.contains_key(&id))
                && let Some(a) = staff_member::Model::at(&row, author_at)?
            {
                page.authors.insert(a.id, a);
            }
            let id: Option<Uuid> = cell(&row, organization_at)?;
            if id.is_some_and(|id| !page.organizations.contains_key(&id))
                && let Some(o) = organization::Model::at(&row, organization_at)?
            {
                page.organizations.insert(o.id, o);
            }
        }
        if let Some(record) = record {
            let id: Uuid = row.try_get_by_index(1)?;
            page.records.insert((kind, id), record);
        }
    }
    Ok(page)
}

/// Reads a model from its columns' positions in a row (as [`select_columns`] selected them):
/// the page's hot models, whose ~2,000 cells a page would otherwise each find by a formatted
/// name and a scan of the row's columns (a quarter of the page's server CPU, BENCHMARKS.md).
/// `None` when the left join found no row. The fields are read in the order of the entity's
/// columns, which the tests pin.
trait ByPosition: Sized {
    fn at(row: &QueryResult, start: usize) -> Result<Option<Self>, DbErr>;
}

/// The cell at `i`.
fn cell<T: TryGetable>(row: &QueryResult, i: usize) -> Result<T, DbErr> {
    row.try_get_by_index(i)
}

/// Implements [`ByPosition`] for a model whose first column is its `id`, reading the other
/// fields in the order given (the order of the entity's columns, which the tests pin).
macro_rules! by_position {
    ($model:ty { $($field:ident),* $(,)? }) => {
        impl ByPosition for $model {
            fn at(row: &QueryResult, i: usize) -> Result<Option<Self>, DbErr> {
                let Some(id) = cell::<Option<Uuid>>(row, i)? else {
                    return Ok(None);
                };
                let mut at = i;
                // Fields are evaluated in the order written, one column after another.
                Ok(Some(Self {
                    id,
                    $($field: {
                        at += 1;
                        cell(row, at)?
                    }),*
                }))
            }
        }
    };
}

by_position!(observation::Model {
    client_id,
    organization_id,
    author_staff_member_id,
    version,
    fact,
    interpretation,
    client_words,
    category,
    occurred_from,
    occurred_to,
    recorded_at,
    visibility,
    tags,
    cited_observation_ids,
    status,
    entered_in_error_reason,
    updated_by_staff_member_id,
    updated_at,
    external_id,
});

by_position!(staff_member::Model {
    organization_id,
    email,
    display_name,
    role,
    password_hash,
    active,
    created_at,
    updated_at,
    external_id,
    service_account,
});

by_position!(organization::Model {
    kind,
    name,
    service_types,
    municipality,
    office_number,
    created_at,
    risk_acknowledgement_hours,
});

/// The record of `kind` in `row` (`None` when the entry's record is gone).
fn record(row: &QueryResult, kind: EntryKind) -> ApiResult<Option<HistoryRecord>> {
    fn read<M: FromQueryResult>(row: &QueryResult, kind: EntryKind) -> ApiResult<Option<M>> {
        M::from_query_result_optional(row, &prefix(alias(kind))).map_err(ApiError::from)
    }
    use HistoryRecord as R;
    Ok(match kind {
        EntryKind::Observation => read(row, kind)?.map(R::Observation),
        EntryKind::PlanVersion => read(row, kind)?.map(R::PlanVersion),
        EntryKind::Meeting => read(row, kind)?.map(R::Meeting),
        EntryKind::Brief => read(row, kind)?.map(R::Brief),
        EntryKind::MonitoringReport => read(row, kind)?.map(R::MonitoringReport),
        EntryKind::ConsentGranted | EntryKind::ConsentRevoked => read(row, kind)?.map(R::Consent),
        EntryKind::Restraint => read(row, kind)?.map(R::Restraint),
        EntryKind::Accident => read(row, kind)?.map(R::Accident),
        EntryKind::Complaint => read(row, kind)?.map(R::Complaint),
    })
}

fn prefix(alias: &str) -> String {
    format!("{alias}_")
}

/// Joins one record table to the entries of some kinds (see [`join`]).
type JoinKind = fn(&mut SelectStatement, &[EntryKind], &[(&str, SimpleExpr)]);

/// Joins `E` (every record table's key is `id`) to the entries of `kinds` and selects its
/// columns, those in `blank` as the value given.
fn join<E: EntityTrait>(
    q: &mut SelectStatement,
    kinds: &[EntryKind],
    blank: &[(&str, SimpleExpr)],
) {
    let table = alias(kinds[0]);
    q.join_as(
        JoinType::LeftJoin,
        E::default(),
        Alias::new(table),
        Condition::all()
            .add(
                Expr::col((Alias::new(ENTRY), timeline_entry::Column::Kind))
                    .is_in(kinds.iter().map(ActiveEnum::to_value)),
            )
            .add(
                Expr::col((Alias::new(table), Alias::new("id")))
                    .equals((Alias::new(ENTRY), timeline_entry::Column::RecordId)),
            ),
    );
    select_columns::<E>(q, table, blank);
}

/// Selects every column of the table joined as `table`, as `<table>_<column>`; a column named
/// in `blank` as the value given instead.
fn select_columns<E: EntityTrait>(
    q: &mut SelectStatement,
    table: &str,
    blank: &[(&str, SimpleExpr)],
) {
    for c in E::Column::iter() {
        let name = c.as_str();
        let expr = match blank.iter().find(|(b, _)| *b == name) {
            Some((_, value)) => value.clone(),
            None => c.select_as(Expr::col((Alias::new(table), c))),
        };
        q.expr_as(expr, Alias::new(format!("{table}_{name}")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`ByPosition`] reads each model's fields in this order: a column added, removed or moved
    /// in an entity must be read here too.
    #[test]
    fn the_models_read_by_position_have_the_columns_they_read() {
        let names = |cols: Vec<&'static str>| cols;
        assert_eq!(
            names(observation::Column::iter().map(|c| c.as_str()).collect()),
            [
                "id",
                "client_id",
                "organization_id",
                "author_staff_member_id",
                "version",
                "fact",
                "interpretation",
                "client_words",
                "category",
                "occurred_from",
                "occurred_to",
                "recorded_at",
                "visibility",
                "tags",
                "cited_observation_ids",
                "status",
                "entered_in_error_reason",
                "updated_by_staff_member_id",
                "updated_at",
                "external_id",
            ]
        );
        assert_eq!(
            names(staff_member::Column::iter().map(|c| c.as_str()).collect()),
            [
                "id",
                "organization_id",
                "email",
                "display_name",
                "role",
                "password_hash",
                "active",
                "created_at",
                "updated_at",
                "external_id",
                "service_account",
            ]
        );
        assert_eq!(
            names(organization::Column::iter().map(|c| c.as_str()).collect()),
            [
                "id",
                "kind",
                "name",
                "service_types",
                "municipality",
                "office_number",
                "created_at",
                "risk_acknowledgement_hours",
            ]
        );
    }
}
