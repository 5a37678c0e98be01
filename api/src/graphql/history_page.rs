//! A client's history page (経過) answered by code written for its shape, without the general
//! executor (issue 22): the read a specialist's screen repeats most.
//!
//! The general executor resolves each of a page's few hundred fields through its own future,
//! builds a value tree and serializes it; for a page of fifty observations that costs more CPU
//! than the database spends finding them. A document of the history page's shape is compiled
//! once into a [`Plan`] (what to write, under which response keys, in which order), and a page
//! is then written straight from the rows into the response's JSON.
//!
//! What keeps it truthful:
//! - **Only a document the executor already answered.** A document is compiled only after the
//!   executor ran the same text without an error ([`Plans::learn`]), so parsing, validation and
//!   the limits have passed for it; a plan never meets a document the executor would refuse.
//! - **Only the happy path.** Anything but a whole page (no viewer, an invisible client, a bad
//!   cursor or id or page size, a variable of an unexpected shape, a record or name the page's
//!   statements did not bring) falls back to the executor, which answers with its own error
//!   and codes. Nothing is written before the page is complete, so a fallback repeats no audit.
//! - **The same work.** The same service calls as the resolvers (the viewer's scope, the page
//!   under the same condition, the client's row, the read audits), so authorization, consent
//!   and auditing are the ones every other read goes through; only the page and its records
//!   come in one statement instead of two ([`crate::service::history::observation_page`]).
//! - **The same bytes.** A test sends each document as written and with a directive that keeps
//!   it from the plan, and compares the bodies (`tests/integration/history_page.rs`).
//!
//! The shape: one operation, no fragments, no directives, no variable defaults; the root selects
//! `client(id:)` alone; the client `id`, `__typename` and `history(first:, after:)`; the
//! connection's `totalCount`, `pageInfo` and `edges { cursor node { kind occurredAt item } }`;
//! the item's `__typename` and `... on Observation` with the observation's own columns, its
//! `author` and `organization` (id, name). Other documents run through the executor as before.

mod render;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use sea_orm::IdenStatic;

use async_graphql::{
    Name,
    parser::types::{DocumentOperations, ExecutableDocument, Field, OperationType, Selection},
};
use async_graphql_value::Value;

pub(crate) use render::answer;

/// A response key and what goes under it.
type Keyed<T> = Vec<(String, T)>;

/// A compiled history-page document.
pub(crate) struct Plan {
    /// The operation's name in the document, for the request metrics.
    operation_name: Option<String>,
    /// The root field's response key (`client`, or its alias).
    client_key: String,
    /// The `client` field's `id` argument.
    client_id: Arg,
    /// What the client object shows.
    client: Keyed<ClientField>,
    /// `history`'s `first` and `after`.
    first: Arg,
    after: Arg,
    /// Whether `totalCount` is selected (it is counted only then, as by the resolver).
    counts_total: bool,
    /// Whether an observation shows its author or organization (the statement then joins the
    /// names, as the resolver's look-ahead decides).
    shows_authors: bool,
    /// The observations' columns the page shows (the statement reads no others).
    observation_columns: Vec<entity::observation::Column>,
}

/// An argument: left out, written in the document, or a variable.
enum Arg {
    Absent,
    Literal(async_graphql::Value),
    Variable(Name),
}

enum ClientField {
    Typename,
    Id,
    History(Keyed<ConnectionField>),
}

enum ConnectionField {
    Typename,
    TotalCount,
    PageInfo(Keyed<PageInfoField>),
    Edges(Keyed<EdgeField>),
}

enum PageInfoField {
    Typename,
    HasPreviousPage,
    HasNextPage,
    StartCursor,
    EndCursor,
}

enum EdgeField {
    Typename,
    Cursor,
    Node(Keyed<EntryField>),
}

enum EntryField {
    Typename,
    Kind,
    OccurredAt,
    Item(Keyed<ItemField>),
}

/// A field of the history item: `__typename` of whichever record it is, or an observation's
/// field from `... on Observation` (nothing for the other kinds).
enum ItemField {
    Typename,
    Observation(ObservationField),
}

enum ObservationField {
    Typename,
    Id,
    Fact,
    Interpretation,
    ClientWords,
    Category,
    OccurredFrom,
    OccurredTo,
    RecordedAt,
    UpdatedAt,
    Visibility,
    RecordStatus,
    EnteredInErrorReason,
    Tags,
    Author(Keyed<StaffField>),
    Organization(Keyed<OrganizationField>),
}

enum StaffField {
    Typename,
    Id,
    DisplayName,
    Organization(Keyed<OrganizationField>),
}

enum OrganizationField {
    Typename,
    Id,
    Name,
}

impl Plan {
    /// The operation's name in the document.
    pub(crate) fn operation_name(&self) -> Option<&str> {
        self.operation_name.as_deref()
    }

    /// Compiles the operation that runs, or `None` when the document is not of the page's shape.
    pub(crate) fn compile(doc: &ExecutableDocument, operation_name: Option<&str>) -> Option<Plan> {
        if !doc.fragments.is_empty() {
            return None;
        }
        let (named, op) = match (&doc.operations, operation_name) {
            (DocumentOperations::Single(op), _) => (None, op),
            (DocumentOperations::Multiple(ops), name) if ops.len() == 1 => {
                let (only, op) = ops.iter().next()?;
                if name.is_some_and(|n| n != only.as_str()) {
                    return None;
                }
                (Some(only.to_string()), op)
            }
            _ => return None,
        };
        let op = &op.node;
        if op.ty != OperationType::Query
            || !op.directives.is_empty()
            || op
                .variable_definitions
                .iter()
                .any(|v| v.node.default_value.is_some() || !v.node.directives.is_empty())
        {
            return None;
        }
        let [(client_key, client)] = <[_; 1]>::try_from(fields(&op.selection_set.node)?).ok()?;
        if client.name.node != "client" {
            return None;
        }
        let client_id = single_argument(client, &["id"])?.remove(0);
        let mut first = Arg::Absent;
        let mut after = Arg::Absent;
        let mut histories = 0;
        let client_fields = keyed(&client.selection_set.node, |f| {
            Some(match f.name.node.as_str() {
                "__typename" => ClientField::Typename,
                "id" => ClientField::Id,
                "history" => {
                    histories += 1;
                    let [f_first, f_after] =
                        <[Arg; 2]>::try_from(single_argument(f, &["first", "after"])?).ok()?;
                    (first, after) = (f_first, f_after);
                    ClientField::History(connection(f)?)
                }
                _ => return None,
            })
        })?;
        // One page per document: a second `history` under another alias has its own arguments.
        if histories != 1 || matches!(client_id, Arg::Absent) {
            return None;
        }
        let connection = client_fields.iter().flat_map(|(_, f)| match f {
            ClientField::History(fields) => fields.as_slice(),
            _ => &[],
        });
        let counts_total = connection
            .clone()
            .any(|(_, f)| matches!(f, ConnectionField::TotalCount));
        let shows_authors = connection.clone().any(|(_, f)| shows_authors(f));
        let mut observation_columns = Vec::new();
        for (_, f) in connection {
            observation_fields(f, &mut |f| {
                if let Some(c) = f.column()
                    && !observation_columns
                        .iter()
                        .any(|k: &entity::observation::Column| k.as_str() == c.as_str())
                {
                    observation_columns.push(c);
                }
            });
        }
        Some(Plan {
            operation_name: named,
            client_key: client_key.to_owned(),
            client_id,
            client: client_fields,
            first,
            after,
            counts_total,
            shows_authors,
            observation_columns,
        })
    }
}

/// Whether the connection's field shows an observation's author or organization.
fn shows_authors(field: &ConnectionField) -> bool {
    let mut shows = false;
    observation_fields(field, &mut |f| {
        shows |= matches!(
            f,
            ObservationField::Author(_) | ObservationField::Organization(_)
        );
    });
    shows
}

/// Calls `each` with every observation field the connection's field selects.
fn observation_fields(field: &ConnectionField, each: &mut impl FnMut(&ObservationField)) {
    let ConnectionField::Edges(edge) = field else {
        return;
    };
    for (_, f) in edge {
        let EdgeField::Node(entry) = f else { continue };
        for (_, f) in entry {
            let EntryField::Item(item) = f else { continue };
            for (_, f) in item {
                if let ItemField::Observation(f) = f {
                    each(f);
                }
            }
        }
    }
}

impl ObservationField {
    /// The observation's column the field shows (the names come with the author's join).
    fn column(&self) -> Option<entity::observation::Column> {
        use entity::observation::Column as C;
        Some(match self {
            Self::Fact => C::Fact,
            Self::Interpretation => C::Interpretation,
            Self::ClientWords => C::ClientWords,
            Self::Category => C::Category,
            Self::OccurredFrom => C::OccurredFrom,
            Self::OccurredTo => C::OccurredTo,
            Self::RecordedAt => C::RecordedAt,
            Self::UpdatedAt => C::UpdatedAt,
            Self::Visibility => C::Visibility,
            Self::RecordStatus => C::Status,
            Self::EnteredInErrorReason => C::EnteredInErrorReason,
            Self::Tags => C::Tags,
            Self::Typename | Self::Id | Self::Author(_) | Self::Organization(_) => return None,
        })
    }
}

/// The arguments `allowed` in this order (each left out, literal or variable); `None` when the
/// field has another.
fn single_argument(field: &Field, allowed: &[&str]) -> Option<Vec<Arg>> {
    let mut args: Vec<Arg> = allowed.iter().map(|_| Arg::Absent).collect();
    for (name, value) in &field.arguments {
        let at = allowed.iter().position(|a| *a == name.node.as_str())?;
        args[at] = match &value.node {
            Value::Variable(v) => Arg::Variable(v.clone()),
            other => Arg::Literal(other.clone().into_const()?),
        };
    }
    Some(args)
}

/// The fields of a selection set by response key, in order: `None` for a fragment, a directive,
/// an argument or a response key selected twice (the executor would merge them).
fn fields(set: &async_graphql::parser::types::SelectionSet) -> Option<Vec<(&str, &Field)>> {
    let mut out: Vec<(&str, &Field)> = Vec::with_capacity(set.items.len());
    for item in &set.items {
        let Selection::Field(f) = &item.node else {
            return None;
        };
        push_field(&mut out, &f.node)?;
    }
    Some(out)
}

fn push_field<'a>(out: &mut Vec<(&'a str, &'a Field)>, f: &'a Field) -> Option<()> {
    if !f.directives.is_empty() {
        return None;
    }
    let key = f.alias.as_ref().unwrap_or(&f.name).node.as_str();
    if out.iter().any(|(k, _)| *k == key) {
        return None;
    }
    out.push((key, f));
    Some(())
}

/// Each field of `set` through `map` (which also refuses what it does not know); fields other
/// than the ones `map` reads arguments from must have none.
fn keyed<T>(
    set: &async_graphql::parser::types::SelectionSet,
    mut map: impl FnMut(&Field) -> Option<T>,
) -> Option<Keyed<T>> {
    fields(set)?
        .into_iter()
        .map(|(key, f)| Some((key.to_owned(), map(f)?)))
        .collect()
}

/// A leaf or object field without arguments.
fn plain(f: &Field) -> Option<&Field> {
    f.arguments.is_empty().then_some(f)
}

fn connection(f: &Field) -> Option<Keyed<ConnectionField>> {
    keyed(&f.selection_set.node, |f| {
        Some(match plain(f)?.name.node.as_str() {
            "__typename" => ConnectionField::Typename,
            "totalCount" => ConnectionField::TotalCount,
            "pageInfo" => ConnectionField::PageInfo(keyed(&f.selection_set.node, |f| {
                Some(match plain(f)?.name.node.as_str() {
                    "__typename" => PageInfoField::Typename,
                    "hasPreviousPage" => PageInfoField::HasPreviousPage,
                    "hasNextPage" => PageInfoField::HasNextPage,
                    "startCursor" => PageInfoField::StartCursor,
                    "endCursor" => PageInfoField::EndCursor,
                    _ => return None,
                })
            })?),
            "edges" => ConnectionField::Edges(keyed(&f.selection_set.node, |f| {
                Some(match plain(f)?.name.node.as_str() {
                    "__typename" => EdgeField::Typename,
                    "cursor" => EdgeField::Cursor,
                    "node" => EdgeField::Node(entry(f)?),
                    _ => return None,
                })
            })?),
            _ => return None,
        })
    })
}

fn entry(f: &Field) -> Option<Keyed<EntryField>> {
    keyed(&f.selection_set.node, |f| {
        Some(match plain(f)?.name.node.as_str() {
            "__typename" => EntryField::Typename,
            "kind" => EntryField::Kind,
            "occurredAt" => EntryField::OccurredAt,
            "item" => EntryField::Item(item(f)?),
            _ => return None,
        })
    })
}

/// The union's selection: `__typename`, and inline fragments on `Observation` (flattened in
/// document order, as the executor collects them).
fn item(f: &Field) -> Option<Keyed<ItemField>> {
    let mut collected: Vec<(&str, &Field, bool)> = Vec::new();
    for selection in &f.selection_set.node.items {
        match &selection.node {
            Selection::Field(f) => collected.push(field_key(&f.node, false)?),
            Selection::InlineFragment(fragment) => {
                let fragment = &fragment.node;
                let on = fragment.type_condition.as_ref()?;
                if on.node.on.node != "Observation" || !fragment.directives.is_empty() {
                    return None;
                }
                for inner in &fragment.selection_set.node.items {
                    let Selection::Field(f) = &inner.node else {
                        return None;
                    };
                    collected.push(field_key(&f.node, true)?);
                }
            }
            Selection::FragmentSpread(_) => return None,
        }
    }
    let mut out: Keyed<ItemField> = Vec::with_capacity(collected.len());
    for (key, f, observation_only) in collected {
        if out.iter().any(|(k, _)| k == key) {
            return None;
        }
        let field = match (observation_only, plain(f)?.name.node.as_str()) {
            (false, "__typename") => ItemField::Typename,
            (false, _) => return None,
            (true, _) => ItemField::Observation(observation_field(f)?),
        };
        out.push((key.to_owned(), field));
    }
    Some(out)
}

fn field_key(f: &Field, observation_only: bool) -> Option<(&str, &Field, bool)> {
    if !f.directives.is_empty() {
        return None;
    }
    Some((
        f.alias.as_ref().unwrap_or(&f.name).node.as_str(),
        f,
        observation_only,
    ))
}

fn observation_field(f: &Field) -> Option<ObservationField> {
    use ObservationField as O;
    Some(match f.name.node.as_str() {
        "__typename" => O::Typename,
        "id" => O::Id,
        "fact" => O::Fact,
        "interpretation" => O::Interpretation,
        "clientWords" => O::ClientWords,
        "category" => O::Category,
        "occurredFrom" => O::OccurredFrom,
        "occurredTo" => O::OccurredTo,
        "recordedAt" => O::RecordedAt,
        "updatedAt" => O::UpdatedAt,
        "visibility" => O::Visibility,
        "recordStatus" => O::RecordStatus,
        "enteredInErrorReason" => O::EnteredInErrorReason,
        "tags" => O::Tags,
        "author" => O::Author(keyed(&f.selection_set.node, |f| {
            Some(match plain(f)?.name.node.as_str() {
                "__typename" => StaffField::Typename,
                "id" => StaffField::Id,
                "displayName" => StaffField::DisplayName,
                "organization" => StaffField::Organization(organization(f)?),
                _ => return None,
            })
        })?),
        "organization" => O::Organization(organization(f)?),
        _ => return None,
    })
}

fn organization(f: &Field) -> Option<Keyed<OrganizationField>> {
    keyed(&f.selection_set.node, |f| {
        Some(match plain(f)?.name.node.as_str() {
            "__typename" => OrganizationField::Typename,
            "id" => OrganizationField::Id,
            "name" => OrganizationField::Name,
            _ => return None,
        })
    })
}

/// How many documents are remembered (each a few hundred bytes); full, the memory starts over.
const PLANS_KEPT: usize = 1_000;

/// What is known of a document's text under one operation name.
struct Known {
    operation_name: Option<String>,
    plan: Arc<Plan>,
    /// Answered by the executor without an error: from now on the plan answers it.
    proven: bool,
}

/// The compiled history-page documents of this instance, by text and operation name.
#[derive(Default)]
pub(crate) struct Plans {
    known: Mutex<HashMap<String, Vec<Known>>>,
}

impl Plans {
    /// The plan that answers this text, once the executor has answered it without an error.
    pub(crate) fn proven(&self, query: &str, operation_name: Option<&str>) -> Option<Arc<Plan>> {
        self.lock()
            .get(query)?
            .iter()
            .find(|k| k.proven && k.operation_name.as_deref() == operation_name)
            .map(|k| k.plan.clone())
    }

    /// Notes a document before the executor runs it: compiled, from its text as sent (not
    /// `prepared`, the document rewritten for this request's variables), when it has the page's
    /// shape. Returns whether it did, so that [`Plans::learn`] is called only for those.
    pub(crate) fn note(
        &self,
        query: &str,
        operation_name: Option<&str>,
        prepared: &ExecutableDocument,
    ) -> bool {
        let known = |k: &Known| k.operation_name.as_deref() == operation_name;
        if let Some(names) = self.lock().get(query)
            && names.iter().any(known)
        {
            return true;
        }
        // The rewrite only leaves arguments out: a document of another shape is told apart
        // without parsing its text again.
        if Plan::compile(prepared, operation_name).is_none() {
            return false;
        }
        let Some(plan) = async_graphql::parser::parse_query(query)
            .ok()
            .and_then(|doc| Plan::compile(&doc, operation_name))
        else {
            return false;
        };
        let mut all = self.lock();
        if all.len() >= PLANS_KEPT {
            all.clear();
        }
        let names = all.entry(query.to_owned()).or_default();
        if !names.iter().any(known) {
            names.push(Known {
                operation_name: operation_name.map(str::to_owned),
                plan: Arc::new(plan),
                proven: false,
            });
        }
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Known>>> {
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// After the executor answered a noted document: without an error, the plan answers it from
    /// now on.
    pub(crate) fn learn(&self, query: &str, operation_name: Option<&str>, answered_cleanly: bool) {
        if !answered_cleanly {
            return;
        }
        if let Some(k) = self.lock().get_mut(query).and_then(|names| {
            names
                .iter_mut()
                .find(|k| k.operation_name.as_deref() == operation_name)
        }) {
            k.proven = true;
        }
    }
}

#[cfg(test)]
mod tests;
