//! The records statement of a history page, and the keeper of its built text: for each record
//! table present on the page, its rows by primary key (`UNION ALL`), each row padded with nulls
//! for the other tables' columns, so that every kind decodes from the same row shape.

use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, RwLock},
};

use entity::{
    accident_report, complaint_record, meeting, meeting_brief, monitoring_report, observation,
    organization, restraint_record, sharing_consent, staff_member, support_plan_version,
};
use sea_orm::{
    ActiveEnum, ColumnTrait, DbBackend, EntityTrait, IdenStatic, Iterable, Statement, Value,
    Values,
    sea_query::{Alias, Expr, ExprTrait, JoinType, Query, SelectStatement, SimpleExpr, UnionType},
};
use uuid::Uuid;

use super::Shown;
use crate::service::timeline::EntryKind;

/// The aliases of each row's first two columns: which table the row is from (as the first kind
/// of entry that points to it) and its record's id.
const ENTRY_KIND: &str = "entry_kind";
const ENTRY_RECORD: &str = "entry_record_id";
/// Aliases (and column prefixes) of the joined author and organization.
pub(super) const AUTHOR: &str = "author";
pub(super) const AUTHOR_ORGANIZATION: &str = "author_org";

/// Each record table's alias in the statement; its columns come back as `<alias>_<column>`.
pub(super) fn alias(kind: EntryKind) -> &'static str {
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

/// The kinds of entry each part of the statement reads, in the order of [`parts`].
pub(super) const PART_KINDS: [&[EntryKind]; 9] = [
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
pub(super) struct Statements(RwLock<HashMap<Shape, Arc<Built>>>);

const STATEMENTS_KEPT: usize = 512;

pub(super) fn statements() -> &'static Statements {
    static STATEMENTS: LazyLock<Statements> = LazyLock::new(Statements::default);
    &STATEMENTS
}

impl Statements {
    pub(super) fn get(
        &self,
        backend: DbBackend,
        shown: Shown,
        present: &[(usize, Vec<Uuid>)],
    ) -> Statement {
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
    // A union's columns take their names from its first branch: the others need none, and
    // without them the statement's text (which the driver hashes on every execution to find
    // its prepared statement) is less than half as long on a page of mixed kinds.
    let branches = parts.iter().enumerate().map(|(i, (part, ids))| {
        let mut q = Query::select();
        let table = part.table();
        q.expr(Expr::val(part.kinds[0].to_value()))
            .expr(Expr::col((Alias::new(table), Alias::new("id"))));
        for (j, (other, _)) in parts.iter().enumerate() {
            for (_, value) in &other.columns {
                q.expr(if i == j {
                    value.clone()
                } else {
                    Expr::cust("NULL")
                });
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
pub(super) fn join_authors(q: &mut SelectStatement) {
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
}
