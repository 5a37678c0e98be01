//! A request's GraphQL document, parsed once before it runs (over HTTP and WebSocket alike):
//! the limits ([`super::limits`]), the NUL refusal, which operation runs, and the specification's
//! rule for variables that are declared but not provided.
//!
//! That rule (GraphQL spec §6.4.1 CoerceArgumentValues): an argument whose value is a variable the
//! request did not provide (and which has no default of its own) takes the *argument's* default,
//! exactly as if it had been left out; only an explicit `null` is null. async-graphql 7 reads such
//! a variable as `null` instead, so `history(kinds: $kinds)` with `$kinds` omitted would filter by
//! nothing rather than take `kinds = []`. The document is rewritten before validation so that every
//! use of an unprovided variable is left out: an argument or input-object field is removed (its
//! default applies), a list item becomes `null`, and the variable's definition goes.

use std::collections::HashSet;

use async_graphql::{
    Name, Positioned, ServerError, Value as ConstValue, Variables,
    parser::types::{
        Directive, DocumentOperations, ExecutableDocument, OperationDefinition, OperationType,
        Selection, SelectionSet,
    },
};
use async_graphql_value::Value;

use super::limits::{self, Limits};
use crate::error::{ErrorCode, server_error};

/// A parsed, checked document ready for the executor.
pub(crate) struct Document {
    /// The document, with unprovided variables left out of the operation that runs.
    pub parsed: ExecutableDocument,
    /// The name of the operation that runs (as requested, else the document's only one).
    pub operation_name: Option<String>,
    /// Its type, when the request names an operation the document has (or it has just one).
    pub operation_type: Option<OperationType>,
    /// Top-level selections of that operation (a subscription has exactly one).
    pub root_selections: usize,
    /// Whether its top-level selections are all fields (not fragments).
    pub roots_are_fields: bool,
    /// Whether a top-level field is given `after` (a subscription resuming from a cursor).
    pub resumes: bool,
}

impl Document {
    /// A mutation or subscription: it may write (a GET must not run it).
    pub(crate) fn writes(&self) -> bool {
        matches!(
            self.operation_type,
            Some(OperationType::Mutation | OperationType::Subscription)
        )
    }
}

/// Parses and checks a request's document; the error is ready to send (it has its code).
pub(crate) fn prepare(
    query: &str,
    operation_name: Option<&str>,
    variables: &Variables,
    limits: &Limits,
) -> Result<Document, ServerError> {
    limits::check_text(query).map_err(limits::LimitExceeded::into_server_error)?;
    let mut parsed = async_graphql::parser::parse_query(query).map_err(|e| {
        let mut e = ServerError::from(e);
        e.extensions
            .get_or_insert_with(Default::default)
            .set("code", ErrorCode::BadUserInput.as_str());
        e
    })?;
    limits::check_document(&parsed, limits).map_err(limits::Refusal::into_server_error)?;
    if variables.values().any(const_has_nul) || document_has_nul(&parsed) {
        return Err(nul_refused());
    }
    let selected = selected_operation(&parsed, operation_name).map(|(name, op)| {
        let items = &op.node.selection_set.node.items;
        (
            name.map(|n| n.to_string()),
            op.node.ty,
            items.len(),
            items.iter().all(|i| matches!(i.node, Selection::Field(_))),
        )
    });
    omit_unprovided_variables(&mut parsed, operation_name, variables);
    let resumes = selected_operation(&parsed, operation_name).is_some_and(|(_, op)| {
        op.node
            .selection_set
            .node
            .items
            .iter()
            .any(|i| match &i.node {
                Selection::Field(f) => f.node.arguments.iter().any(|(n, _)| n.node == "after"),
                _ => false,
            })
    });
    let (name, ty, root_selections, roots_are_fields) = match selected {
        Some((name, ty, n, fields)) => (name, Some(ty), n, fields),
        None => (None, None, 0, true),
    };
    Ok(Document {
        parsed,
        operation_name: operation_name.map(str::to_owned).or(name),
        operation_type: ty,
        root_selections,
        roots_are_fields,
        resumes,
    })
}

/// U+0000 is refused in every input, whichever database is behind: PostgreSQL cannot store it in
/// text (or compare text with it) and would fail the statement, and SQLite would keep a value
/// that PostgreSQL could not (so an export from one could not be imported into the other).
fn nul_refused() -> ServerError {
    server_error(
        ErrorCode::BadUserInput,
        "Text must not contain the NUL character (U+0000).",
    )
}

fn const_has_nul(v: &ConstValue) -> bool {
    match v {
        ConstValue::String(s) => s.contains('\0'),
        ConstValue::List(items) => items.iter().any(const_has_nul),
        ConstValue::Object(fields) => fields
            .iter()
            .any(|(k, v)| k.contains('\0') || const_has_nul(v)),
        _ => false,
    }
}

fn value_has_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::List(items) => items.iter().any(value_has_nul),
        Value::Object(fields) => fields
            .iter()
            .any(|(k, v)| k.contains('\0') || value_has_nul(v)),
        _ => false,
    }
}

/// Whether a string literal anywhere in the document (arguments, directive arguments, variable
/// defaults) holds U+0000, e.g. written as `"\u0000"`.
fn document_has_nul(doc: &ExecutableDocument) -> bool {
    fn directives(ds: &[Positioned<Directive>]) -> bool {
        ds.iter()
            .any(|d| d.node.arguments.iter().any(|(_, v)| value_has_nul(&v.node)))
    }
    fn set(s: &SelectionSet) -> bool {
        s.items.iter().any(|item| match &item.node {
            Selection::Field(f) => {
                f.node.arguments.iter().any(|(_, v)| value_has_nul(&v.node))
                    || directives(&f.node.directives)
                    || set(&f.node.selection_set.node)
            }
            Selection::FragmentSpread(f) => directives(&f.node.directives),
            Selection::InlineFragment(f) => {
                directives(&f.node.directives) || set(&f.node.selection_set.node)
            }
        })
    }
    doc.operations.iter().any(|(_, op)| {
        op.node.variable_definitions.iter().any(|v| {
            v.node
                .default_value
                .as_ref()
                .is_some_and(|d| const_has_nul(&d.node))
                || directives(&v.node.directives)
        }) || directives(&op.node.directives)
            || set(&op.node.selection_set.node)
    }) || doc
        .fragments
        .values()
        .any(|f| directives(&f.node.directives) || set(&f.node.selection_set.node))
}

/// The operation a request runs: the named one, or the document's only one.
fn selected_operation<'a>(
    doc: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<(Option<&'a Name>, &'a Positioned<OperationDefinition>)> {
    match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some((None, op)),
        (DocumentOperations::Multiple(ops), Some(name)) => {
            ops.get_key_value(name).map(|(n, op)| (Some(n), op))
        }
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.iter().next().map(|(n, op)| (Some(n), op))
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// Leaves out every use of a variable that the running operation declares as nullable without a
/// default and the request does not provide (see the module doc).
fn omit_unprovided_variables(
    doc: &mut ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) {
    let Some((_, op)) = selected_operation(doc, operation_name) else {
        return;
    };
    let omitted: HashSet<Name> = op
        .node
        .variable_definitions
        .iter()
        .filter(|d| {
            d.node.var_type.node.nullable
                && d.node.default_value.is_none()
                && !variables.contains_key(&d.node.name.node)
        })
        .map(|d| d.node.name.node.clone())
        .collect();
    if omitted.is_empty() {
        return;
    }
    let mut fragments = HashSet::new();
    reachable_fragments(doc, &op.node.selection_set.node, &mut fragments);

    match &mut doc.operations {
        DocumentOperations::Single(op) => rewrite_operation(op, &omitted),
        DocumentOperations::Multiple(ops) => {
            let running = match operation_name {
                Some(n) => ops.get_mut(n),
                None => ops.values_mut().next(),
            };
            if let Some(op) = running {
                rewrite_operation(op, &omitted);
            }
        }
    }
    for (name, fragment) in doc.fragments.iter_mut() {
        if fragments.contains(name) {
            rewrite_directives(&mut fragment.node.directives, &omitted);
            rewrite_set(&mut fragment.node.selection_set.node, &omitted);
        }
    }
    // Another operation of the document that shared those fragments and declares the same
    // variable may no longer use it: drop its definition too, so validation (which checks every
    // operation) does not report it unused. Nothing else about it changes.
    if let DocumentOperations::Multiple(ops) = &doc.operations {
        let used: std::collections::HashMap<Name, HashSet<Name>> = ops
            .iter()
            .map(|(name, op)| {
                let mut used = HashSet::new();
                used_variables(doc, &op.node, &mut used);
                (name.clone(), used)
            })
            .collect();
        if let DocumentOperations::Multiple(ops) = &mut doc.operations {
            for (name, op) in ops.iter_mut() {
                let used = &used[name];
                op.node.variable_definitions.retain(|d| {
                    !omitted.contains(&d.node.name.node) || used.contains(&d.node.name.node)
                });
            }
        }
    }
}

fn rewrite_operation(op: &mut Positioned<OperationDefinition>, omitted: &HashSet<Name>) {
    rewrite_directives(&mut op.node.directives, omitted);
    rewrite_set(&mut op.node.selection_set.node, omitted);
    op.node
        .variable_definitions
        .retain(|d| !omitted.contains(&d.node.name.node));
}

fn is_omitted(v: &Value, omitted: &HashSet<Name>) -> bool {
    matches!(v, Value::Variable(name) if omitted.contains(name))
}

/// Inside a value: object fields holding an omitted variable go, list items become `null`.
fn rewrite_value(v: &mut Value, omitted: &HashSet<Name>) {
    match v {
        Value::List(items) => {
            for item in items {
                if is_omitted(item, omitted) {
                    *item = Value::Null;
                } else {
                    rewrite_value(item, omitted);
                }
            }
        }
        Value::Object(fields) => {
            fields.retain(|_, v| !is_omitted(v, omitted));
            for v in fields.values_mut() {
                rewrite_value(v, omitted);
            }
        }
        _ => {}
    }
}

fn rewrite_arguments(
    args: &mut Vec<(Positioned<Name>, Positioned<Value>)>,
    omitted: &HashSet<Name>,
) {
    args.retain(|(_, v)| !is_omitted(&v.node, omitted));
    for (_, v) in args {
        rewrite_value(&mut v.node, omitted);
    }
}

fn rewrite_directives(ds: &mut [Positioned<Directive>], omitted: &HashSet<Name>) {
    for d in ds {
        rewrite_arguments(&mut d.node.arguments, omitted);
    }
}

fn rewrite_set(set: &mut SelectionSet, omitted: &HashSet<Name>) {
    for item in &mut set.items {
        match &mut item.node {
            Selection::Field(f) => {
                rewrite_arguments(&mut f.node.arguments, omitted);
                rewrite_directives(&mut f.node.directives, omitted);
                rewrite_set(&mut f.node.selection_set.node, omitted);
            }
            Selection::FragmentSpread(s) => rewrite_directives(&mut s.node.directives, omitted),
            Selection::InlineFragment(i) => {
                rewrite_directives(&mut i.node.directives, omitted);
                rewrite_set(&mut i.node.selection_set.node, omitted);
            }
        }
    }
}

/// The fragments a selection set spreads, directly or through other fragments.
fn reachable_fragments(doc: &ExecutableDocument, set: &SelectionSet, out: &mut HashSet<Name>) {
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => reachable_fragments(doc, &f.node.selection_set.node, out),
            Selection::InlineFragment(i) => {
                reachable_fragments(doc, &i.node.selection_set.node, out)
            }
            Selection::FragmentSpread(s) => {
                let name = &s.node.fragment_name.node;
                if out.insert(name.clone())
                    && let Some(fragment) = doc.fragments.get(name)
                {
                    reachable_fragments(doc, &fragment.node.selection_set.node, out);
                }
            }
        }
    }
}

/// The variables an operation uses, through its fragments.
fn used_variables(doc: &ExecutableDocument, op: &OperationDefinition, out: &mut HashSet<Name>) {
    fn value(v: &Value, out: &mut HashSet<Name>) {
        match v {
            Value::Variable(n) => {
                out.insert(n.clone());
            }
            Value::List(items) => items.iter().for_each(|i| value(i, out)),
            Value::Object(fields) => fields.values().for_each(|i| value(i, out)),
            _ => {}
        }
    }
    fn directives(ds: &[Positioned<Directive>], out: &mut HashSet<Name>) {
        for d in ds {
            d.node
                .arguments
                .iter()
                .for_each(|(_, v)| value(&v.node, out));
        }
    }
    fn set(
        doc: &ExecutableDocument,
        s: &SelectionSet,
        seen: &mut HashSet<Name>,
        out: &mut HashSet<Name>,
    ) {
        for item in &s.items {
            match &item.node {
                Selection::Field(f) => {
                    f.node
                        .arguments
                        .iter()
                        .for_each(|(_, v)| value(&v.node, out));
                    directives(&f.node.directives, out);
                    set(doc, &f.node.selection_set.node, seen, out);
                }
                Selection::InlineFragment(i) => {
                    directives(&i.node.directives, out);
                    set(doc, &i.node.selection_set.node, seen, out);
                }
                Selection::FragmentSpread(sp) => {
                    directives(&sp.node.directives, out);
                    let name = &sp.node.fragment_name.node;
                    if seen.insert(name.clone())
                        && let Some(fragment) = doc.fragments.get(name)
                    {
                        directives(&fragment.node.directives, out);
                        set(doc, &fragment.node.selection_set.node, seen, out);
                    }
                }
            }
        }
    }
    directives(&op.directives, out);
    set(doc, &op.selection_set.node, &mut HashSet::new(), out);
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_depth: 12,
        max_aliases: 30,
        max_complexity: 1000,
    };

    fn vars(json: serde_json::Value) -> Variables {
        Variables::from_json(json)
    }

    fn printed_args(doc: &ExecutableDocument) -> Vec<String> {
        fn walk(s: &SelectionSet, out: &mut Vec<String>) {
            for item in &s.items {
                if let Selection::Field(f) = &item.node {
                    for (n, v) in &f.node.arguments {
                        out.push(format!("{}={}", n.node, v.node));
                    }
                    walk(&f.node.selection_set.node, out);
                }
            }
        }
        let mut out = Vec::new();
        for (_, op) in doc.operations.iter() {
            walk(&op.node.selection_set.node, &mut out);
        }
        for f in doc.fragments.values() {
            walk(&f.node.selection_set.node, &mut out);
        }
        out.sort();
        out
    }

    #[test]
    fn an_unprovided_variable_leaves_its_argument_out() {
        let q = "query($k: [HistoryKind!], $n: Int) { a(kinds: $k, first: $n, x: 1) { ...F } } \
                 fragment F on T { b(limit: $n) }";
        let d = prepare(q, None, &vars(serde_json::json!({})), &LIMITS).unwrap();
        assert_eq!(printed_args(&d.parsed), vec!["x=1"]);
        let op = d.parsed.operations.iter().next().unwrap().1;
        assert!(op.node.variable_definitions.is_empty());
    }

    #[test]
    fn explicit_null_and_provided_values_stay() {
        let q = "query($k: [HistoryKind!], $n: Int) { a(kinds: $k, first: $n) }";
        let d = prepare(
            q,
            None,
            &vars(serde_json::json!({"k": null, "n": 3})),
            &LIMITS,
        )
        .unwrap();
        assert_eq!(printed_args(&d.parsed), vec!["first=$n", "kinds=$k"]);
    }

    #[test]
    fn defaults_of_the_variable_itself_are_kept() {
        let q = "query($n: Int = 5, $m: Int!) { a(first: $n, last: $m) }";
        let d = prepare(q, None, &vars(serde_json::json!({})), &LIMITS).unwrap();
        assert_eq!(printed_args(&d.parsed), vec!["first=$n", "last=$m"]);
    }

    #[test]
    fn inside_values_fields_go_and_list_items_become_null() {
        let q = "query($a: String, $b: String) { f(input: { x: $a, y: \"k\", z: [$b, \"c\"] }) }";
        let d = prepare(q, None, &vars(serde_json::json!({})), &LIMITS).unwrap();
        assert_eq!(
            printed_args(&d.parsed),
            vec![r#"input={y: "k", z: [null, "c"]}"#]
        );
    }

    #[test]
    fn only_the_running_operation_is_rewritten() {
        let q = "query A($n: Int) { a(first: $n) ...F } query B($n: Int) { b(first: $n) ...F } \
                 fragment F on Query { c(first: $n) }";
        let d = prepare(q, Some("A"), &vars(serde_json::json!({})), &LIMITS).unwrap();
        // B keeps its own use of $n (and so its definition); the shared fragment lost it.
        assert_eq!(printed_args(&d.parsed), vec!["first=$n"]);
        assert_eq!(d.operation_name.as_deref(), Some("A"));
        assert_eq!(d.operation_type, Some(OperationType::Query));
    }

    #[test]
    fn nul_is_refused_in_literals_and_variables() {
        let e = prepare(
            r#"{ a(x: "\u0000") }"#,
            None,
            &Variables::default(),
            &LIMITS,
        )
        .err()
        .unwrap();
        assert!(e.message.contains("NUL"));
        let e = prepare(
            "query($x: String) { a(x: $x) }",
            None,
            &vars(serde_json::json!({"x": "a\u{0}b"})),
            &LIMITS,
        )
        .err()
        .unwrap();
        assert!(e.message.contains("NUL"));
    }

    #[test]
    fn the_operation_that_runs_is_known() {
        let d = prepare(
            "mutation M { logout { revoked } }",
            None,
            &Variables::default(),
            &LIMITS,
        )
        .unwrap();
        assert!(d.writes());
        assert_eq!(d.operation_name.as_deref(), Some("M"));
        let d = prepare("{ me { role } }", None, &Variables::default(), &LIMITS).unwrap();
        assert!(!d.writes());
        assert_eq!(d.root_selections, 1);
        let e = prepare("{ me ", None, &Variables::default(), &LIMITS)
            .err()
            .unwrap();
        let code = e.extensions.unwrap();
        assert_eq!(
            code.get("code"),
            Some(&ConstValue::String("BAD_USER_INPUT".into()))
        );
    }
}
