//! The records behind a page of a client's history (経過): one statement whatever the page's size
//! and the kinds of record on it. Each record table present on the page is read by primary key
//! (the observations with their authors and the authors' organizations, when the page shows
//! them), all in one `UNION ALL`, so a page of plan versions, meetings and observations costs
//! what a page of observations costs. The statement's text (about three hundred columns) is
//! built once for each shape of page and kept; a page of a shape seen before only puts in its
//! own ids.
//!
//! The page itself (which entries, in which order, filtered by the viewer's scope) is
//! [`super::timeline::history`]; this module only loads what its entries point to.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, LazyLock, RwLock},
};

use entity::{
    accident_report, complaint_record, meeting, meeting_brief, monitoring_report, observation,
    organization, restraint_record, sharing_consent, staff_member, support_plan_version,
    timeline_entry,
};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult,
    IdenStatic, Iterable, QueryResult, Statement, TryGetable, Value, Values,
    sea_query::{Alias, Expr, ExprTrait, JoinType, Query, SelectStatement, SimpleExpr, UnionType},
};
use uuid::Uuid;

use super::timeline::EntryKind;
use crate::error::{ApiError, ApiResult};

/// The record an entry points to.
#[derive(Clone)]
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

/// The aliases of each row's first two columns: which table the row is from (as the first kind
/// of entry that points to it) and its record's id.
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

/// One record table's part of the statement: the kinds of entry that point to it, its columns
/// (each as `<alias>_<column>`, with the value selected from its own table) and its table.
struct Part {
    kinds: &'static [EntryKind],
    columns: Vec<(String, SimpleExpr)>,
    /// Adds the table under the part's alias.
    from: fn(&mut SelectStatement, &'static str),
    /// Whether the observations' authors and their organizations come along.
    authors: bool,
}

impl Part {
    /// The part of `E`, every column selected but those in `blank`.
    fn of<E: EntityTrait>(kinds: &'static [EntryKind], blank: &[(&str, SimpleExpr)]) -> Self {
        Self {
            kinds,
            columns: columns::<E>(alias(kinds[0]), blank),
            from: |q, table| {
                q.from_as(E::default(), Alias::new(table));
            },
            authors: false,
        }
    }

    fn table(&self) -> &'static str {
        alias(self.kinds[0])
    }
}

/// Loads the records behind `entries` in one statement, with what `shown` asks for: for each
/// record table present on the page, its rows by primary key (`UNION ALL`), each row padded
/// with nulls for the other tables' columns, so that every kind decodes from the same row
/// shape. The entries themselves are not read again: the page statement found them.
pub async fn records_of(
    db: &impl ConnectionTrait,
    entries: &[timeline_entry::Model],
    shown: Shown,
) -> ApiResult<PageRecords> {
    let mut page = PageRecords::default();
    if entries.is_empty() {
        return Ok(page);
    }
    // Ordered, so that the same kinds give the same statement text (and its prepared statement).
    let mut by_kind: BTreeMap<EntryKind, Vec<Uuid>> = BTreeMap::new();
    for e in entries {
        by_kind.entry(e.kind).or_default().push(e.record_id);
    }
    // Each part present on the page, with its records' ids.
    let present: Vec<(usize, Vec<Uuid>)> = PART_KINDS
        .iter()
        .enumerate()
        .filter_map(|(i, kinds)| {
            let mut ids: Vec<Uuid> = kinds
                .iter()
                .filter_map(|k| by_kind.get(k))
                .flatten()
                .copied()
                .collect();
            ids.sort_unstable();
            ids.dedup();
            (!ids.is_empty()).then_some((i, ids))
        })
        .collect();
    if present.is_empty() {
        return Ok(page);
    }
    let statement = statements().get(db.get_database_backend(), shown, &present);
    // The row's two columns, then the observation's, its author's and the author's
    // organization's (the first part when present, so their positions are known).
    let observation_at = 2;
    let author_at = observation_at + observation::Column::iter().count();
    let organization_at = author_at + staff_member::Column::iter().count();
    for row in db.query_all_raw(statement).await? {
        let kind: String = row.try_get_by_index(0)?;
        let Some(kind) = EntryKind::parse(&kind) else {
            continue;
        };
        let id: Uuid = row.try_get_by_index(1)?;
        let record = if kind == EntryKind::Observation {
            observation::Model::at(&row, observation_at)?.map(HistoryRecord::Observation)
        } else {
            record(&row, kind)?
        };
        // A page's 50 observations have a few authors: each is decoded once.
        if kind == EntryKind::Observation && shown.authors {
            let author: Option<Uuid> = cell(&row, author_at)?;
            if author.is_some_and(|a| !page.authors.contains_key(&a))
                && let Some(a) = staff_member::Model::at(&row, author_at)?
            {
                page.authors.insert(a.id, a);
            }
            let organization: Option<Uuid> = cell(&row, organization_at)?;
            if organization.is_some_and(|o| !page.organizations.contains_key(&o))
                && let Some(o) = organization::Model::at(&row, organization_at)?
            {
                page.organizations.insert(o.id, o);
            }
        }
        let Some(record) = record else { continue };
        // A consent's grant and its revocation both point to it; every other row was read for
        // the one kind of entry that named its id.
        if let HistoryRecord::Consent(_) = record {
            for k in [EntryKind::ConsentGranted, EntryKind::ConsentRevoked] {
                if by_kind.get(&k).is_some_and(|ids| ids.contains(&id)) {
                    page.records.insert((k, id), record.clone());
                }
            }
        } else {
            page.records.insert((kind, id), record);
        }
    }
    Ok(page)
}

/// The kinds of entry each part of the statement reads, in the order of [`parts`].
const PART_KINDS: [&[EntryKind]; 9] = [
    &[EntryKind::Observation],
    &[EntryKind::PlanVersion],
    &[EntryKind::Meeting],
    &[EntryKind::Brief],
    &[EntryKind::MonitoringReport],
    &[EntryKind::Restraint],
    &[EntryKind::Accident],
    &[EntryKind::Complaint],
    &[EntryKind::ConsentGranted, EntryKind::ConsentRevoked],
];

/// What decides the text of a records statement: the backend, what is shown, and which parts
/// are present with how many ids each. Pages of one shape (fifty observations, say) differ only
/// in their ids.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Shape {
    postgres: bool,
    authors: bool,
    plan_text: bool,
    parts: Vec<(usize, usize)>,
}

/// A built statement whose ids are the only values that change from page to page: every
/// `Uuid` among its values is one of the ids, in the order given (a part's ids after the
/// part before's), and nothing else is a `Uuid`.
struct Built {
    sql: String,
    values: Vec<Value>,
}

impl Built {
    fn with(&self, backend: DbBackend, ids: impl Iterator<Item = Uuid>) -> Statement {
        let mut ids = ids;
        let values = self
            .values
            .iter()
            .map(|v| match v {
                Value::Uuid(_) => Value::Uuid(ids.next()),
                other => other.clone(),
            })
            .collect();
        Statement::from_sql_and_values(backend, self.sql.clone(), Values(values))
    }
}

/// Built records statements by shape. The statement has about three hundred columns, and
/// building its text took a tenth of a page's server CPU; a page of a shape seen before only
/// copies it. At most [`STATEMENTS_KEPT`] shapes are kept (a page of 50 has few in practice:
/// the mix of kinds on it), then the keeper starts over.
#[derive(Default)]
struct Statements(RwLock<HashMap<Shape, Arc<Built>>>);

const STATEMENTS_KEPT: usize = 512;

fn statements() -> &'static Statements {
    static STATEMENTS: LazyLock<Statements> = LazyLock::new(Statements::default);
    &STATEMENTS
}

impl Statements {
    fn get(&self, backend: DbBackend, shown: Shown, present: &[(usize, Vec<Uuid>)]) -> Statement {
        let shape = Shape {
            postgres: backend == DbBackend::Postgres,
            authors: shown.authors,
            plan_text: shown.plan_text,
            parts: present.iter().map(|(i, ids)| (*i, ids.len())).collect(),
        };
        let ids = || present.iter().flat_map(|(_, ids)| ids.iter().copied());
        let kept = self.0.read().ok().and_then(|m| m.get(&shape).cloned());
        let built = match kept {
            Some(built) => built,
            None => {
                let statement = build(backend, shown, present);
                let built = Arc::new(Built {
                    sql: statement.sql,
                    values: statement.values.map(|v| v.0).unwrap_or_default(),
                });
                if let Ok(mut m) = self.0.write() {
                    if m.len() >= STATEMENTS_KEPT {
                        m.clear();
                    }
                    m.insert(shape, built.clone());
                }
                built
            }
        };
        built.with(backend, ids())
    }
}

/// Builds the records statement for the parts present: for each, its rows by primary key
/// (`UNION ALL`), each row padded with nulls for the other parts' columns.
fn build(backend: DbBackend, shown: Shown, present: &[(usize, Vec<Uuid>)]) -> Statement {
    let mut all = parts(shown).into_iter().enumerate();
    let parts: Vec<(Part, &[Uuid])> = present
        .iter()
        .filter_map(|(i, ids)| {
            all.by_ref()
                .find(|(j, _)| j == i)
                .map(|(_, p)| (p, ids.as_slice()))
        })
        .collect();
    // PostgreSQL types a `UNION`'s columns pairwise from the left, and two nulls make a text
    // column that a later uuid cannot join. The first branch therefore selects every real
    // column, from every table at once, and no row (`WHERE 1 = 0` costs no scan).
    let mut template = Query::select();
    template
        .expr_as(Expr::val(String::new()), Alias::new(ENTRY_KIND))
        .expr_as(
            Expr::col((Alias::new(parts[0].0.table()), Alias::new("id"))),
            Alias::new(ENTRY_RECORD),
        );
    for (part, _) in &parts {
        for (name, value) in &part.columns {
            template.expr_as(value.clone(), Alias::new(name));
        }
        (part.from)(&mut template, part.table());
        if part.authors {
            template
                .from_as(staff_member::Entity, Alias::new(AUTHOR))
                .from_as(organization::Entity, Alias::new(AUTHOR_ORGANIZATION));
        }
    }
    template.and_where(Expr::cust("1 = 0"));
    let branches = parts.iter().enumerate().map(|(i, (part, ids))| {
        let mut q = Query::select();
        let table = part.table();
        q.expr_as(Expr::val(part.kinds[0].to_value()), Alias::new(ENTRY_KIND))
            .expr_as(
                Expr::col((Alias::new(table), Alias::new("id"))),
                Alias::new(ENTRY_RECORD),
            );
        for (j, (other, _)) in parts.iter().enumerate() {
            for (name, value) in &other.columns {
                let value = if i == j {
                    value.clone()
                } else {
                    Expr::cust("NULL")
                };
                q.expr_as(value, Alias::new(name));
            }
        }
        (part.from)(&mut q, table);
        if part.authors {
            join_authors(&mut q);
        }
        q.and_where(Expr::col((Alias::new(table), Alias::new("id"))).is_in(ids.iter().copied()));
        q
    });
    let mut q = template;
    q.unions(branches.map(|b| (UnionType::All, b)).collect::<Vec<_>>());
    backend.build(&q)
}

/// The parts of the statement, observations (with their authors and organizations when shown)
/// first.
fn parts(shown: Shown) -> Vec<Part> {
    let mut observation = Part::of::<observation::Entity>(&[EntryKind::Observation], &[]);
    if shown.authors {
        // A name on a page never carries a password hash.
        let blank = [(staff_member::Column::PasswordHash.as_str(), Expr::value(""))];
        observation
            .columns
            .extend(columns::<staff_member::Entity>(AUTHOR, &blank));
        observation
            .columns
            .extend(columns::<organization::Entity>(AUTHOR_ORGANIZATION, &[]));
        observation.authors = true;
    }
    let null = || Expr::value(serde_json::Value::Null);
    let plan_blank = [
        (support_plan_version::Column::Content.as_str(), null()),
        (support_plan_version::Column::Record.as_str(), null()),
    ];
    let plan_blank: &[_] = if shown.plan_text { &[] } else { &plan_blank };
    vec![
        observation,
        Part::of::<support_plan_version::Entity>(&[EntryKind::PlanVersion], plan_blank),
        Part::of::<meeting::Entity>(&[EntryKind::Meeting], &[]),
        Part::of::<meeting_brief::Entity>(&[EntryKind::Brief], &[]),
        Part::of::<monitoring_report::Entity>(&[EntryKind::MonitoringReport], &[]),
        Part::of::<restraint_record::Entity>(&[EntryKind::Restraint], &[]),
        Part::of::<accident_report::Entity>(&[EntryKind::Accident], &[]),
        Part::of::<complaint_record::Entity>(&[EntryKind::Complaint], &[]),
        Part::of::<sharing_consent::Entity>(
            &[EntryKind::ConsentGranted, EntryKind::ConsentRevoked],
            &[],
        ),
    ]
}

/// Joins the observations' authors and the authors' organizations.
fn join_authors(q: &mut SelectStatement) {
    q.join_as(
        JoinType::LeftJoin,
        staff_member::Entity,
        Alias::new(AUTHOR),
        Expr::col((Alias::new(AUTHOR), staff_member::Column::Id)).equals((
            Alias::new(alias(EntryKind::Observation)),
            observation::Column::AuthorStaffMemberId,
        )),
    )
    .join_as(
        JoinType::LeftJoin,
        organization::Entity,
        Alias::new(AUTHOR_ORGANIZATION),
        Expr::col((Alias::new(AUTHOR_ORGANIZATION), organization::Column::Id))
            .equals((Alias::new(AUTHOR), staff_member::Column::OrganizationId)),
    );
}

/// Reads a model from its columns' positions in a row (as [`columns`] listed them):
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

/// The columns of `E` selected from the table joined as `table`, each as `<table>_<column>`; a
/// column named in `blank` as the value given instead.
fn columns<E: EntityTrait>(table: &str, blank: &[(&str, SimpleExpr)]) -> Vec<(String, SimpleExpr)> {
    E::Column::iter()
        .map(|c| {
            let name = c.as_str();
            let value = match blank.iter().find(|(b, _)| *b == name) {
                Some((_, value)) => value.clone(),
                None => c.select_as(Expr::col((Alias::new(table), c))),
            };
            (format!("{table}_{name}"), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parts are listed in the order of [`PART_KINDS`], which the keeper's shapes name.
    #[test]
    fn the_parts_read_the_kinds_listed_for_them() {
        for shown in [
            Shown {
                authors: true,
                plan_text: true,
            },
            Shown {
                authors: false,
                plan_text: false,
            },
        ] {
            let kinds: Vec<_> = parts(shown).iter().map(|p| p.kinds).collect();
            assert_eq!(kinds, PART_KINDS);
        }
    }

    /// A statement kept for one page, given another page's ids of the same shape, is the
    /// statement built for that page: same text, same values in the same places.
    #[test]
    fn a_kept_statement_with_other_ids_is_the_one_built_for_them() {
        let ids = |n: usize| (0..n).map(|_| Uuid::new_v4()).collect::<Vec<_>>();
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            for shown in [
                Shown {
                    authors: true,
                    plan_text: false,
                },
                Shown {
                    authors: false,
                    plan_text: true,
                },
            ] {
                let keeper = Statements::default();
                let first = [(0, ids(3)), (2, ids(2)), (8, ids(1))];
                let second = [(0, ids(3)), (2, ids(2)), (8, ids(1))];
                keeper.get(backend, shown, &first);
                let kept = keeper.get(backend, shown, &second);
                let built = build(backend, shown, &second);
                assert_eq!(kept.sql, built.sql);
                assert_eq!(kept.values, built.values);
                assert_ne!(kept.values, build(backend, shown, &first).values);
            }
        }
    }

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
