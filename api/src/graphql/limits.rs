//! Query limits checked before execution, and the bookkeeping the HTTP layer needs to answer
//! with the right status.
//!
//! Three cheap checks run in the parse phase: raw nesting of brackets in the text (so a deeply
//! nested document cannot exhaust the parser's stack), selection depth with fragments expanded,
//! and the number of aliases. async-graphql's complexity and depth limits run in validation as a
//! second line. All of them answer `QUERY_TOO_COMPLEX`. The parse phase also refuses U+0000 in
//! any string of the variables or the document (`BAD_USER_INPUT`, see `nul_refused`).

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use async_graphql::{
    Positioned, Response, ServerError, ServerResult, ValidationResult, Value as ConstValue,
    Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextValidation,
    },
    parser::types::{Directive, ExecutableDocument, Selection, SelectionSet},
};

use crate::error::{ErrorCode, server_error};

/// Deepest bracket nesting accepted in the raw text.
pub(crate) const MAX_TEXT_NESTING: usize = 64;

/// Per-request flags the HTTP layer reads after execution.
#[derive(Debug, Default)]
pub struct RequestOutcome {
    executed: AtomicBool,
}

impl RequestOutcome {
    /// `true` once execution began, i.e. the document parsed and validated.
    pub fn executed(&self) -> bool {
        self.executed.load(Ordering::Relaxed)
    }
}

/// The extension factory installed on the schema.
pub struct QueryLimits {
    pub max_depth: usize,
    pub max_aliases: usize,
}

impl ExtensionFactory for QueryLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(QueryLimitsExtension {
            max_depth: self.max_depth,
            max_aliases: self.max_aliases,
        })
    }
}

struct QueryLimitsExtension {
    max_depth: usize,
    max_aliases: usize,
}

#[async_trait::async_trait]
impl Extension for QueryLimitsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        check_query(query, self.max_depth, self.max_aliases)?;
        if variables.values().any(const_has_nul) {
            return Err(nul_refused());
        }
        let doc = next.run(ctx, query, variables).await?;
        if document_has_nul(&doc) {
            return Err(nul_refused());
        }
        Ok(doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let Some(outcome) = ctx.data_opt::<Arc<RequestOutcome>>() {
            outcome.executed.store(true, Ordering::Relaxed);
        }
        next.run(ctx, operation_name).await
    }
}

/// The limits, checked before async-graphql parses the document: raw nesting (protects the
/// parser), then depth and aliases with fragments expanded linearly. async-graphql's own
/// parse-time checks expand fragment spreads recursively (exponential on doubling fragment
/// chains). A syntax error is left to the real parse, which reports it properly.
pub fn check_query(query: &str, max_depth: usize, max_aliases: usize) -> ServerResult<()> {
    if text_nesting(query) > MAX_TEXT_NESTING {
        return Err(too_complex("The query is nested too deeply."));
    }
    if let Ok(doc) = async_graphql::parser::parse_query(query) {
        check_document(&doc, max_depth, max_aliases).map_err(too_complex)?;
    }
    Ok(())
}

fn too_complex(message: &str) -> ServerError {
    server_error(ErrorCode::QueryTooComplex, message)
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

/// Whether a string literal anywhere in the document (arguments, directive arguments, variable
/// defaults) holds U+0000, e.g. written as `"\u0000"`.
fn document_has_nul(doc: &ExecutableDocument) -> bool {
    // An argument's literal, its variables (checked on their own) taken as null. (A macro: the
    // parser's non-constant value type is not exported by name.)
    macro_rules! literal {
        ($v:expr) => {
            $v.node
                .clone()
                .into_const_with(|_| Ok::<_, ()>(ConstValue::Null))
                .is_ok_and(|c| const_has_nul(&c))
        };
    }
    fn directives(ds: &[Positioned<Directive>]) -> bool {
        ds.iter()
            .any(|d| d.node.arguments.iter().any(|(_, v)| literal!(v)))
    }
    fn set(s: &SelectionSet) -> bool {
        s.items.iter().any(|item| match &item.node {
            Selection::Field(f) => {
                f.node.arguments.iter().any(|(_, v)| literal!(v))
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

/// Gives every error that has no code one: limits become `QUERY_TOO_COMPLEX`; everything else
/// is `BAD_USER_INPUT`. Before execution that is syntax, validation, an unknown operation;
/// during execution the only uncoded errors are async-graphql's own input coercion (a missing
/// variable, a malformed scalar): resolvers return `ApiError`s, which always carry a code, and
/// loader failures are converted to `INTERNAL_SERVER_ERROR` there.
pub fn assign_codes(errors: &mut [ServerError], executed: bool) {
    for e in errors {
        let has_code = e
            .extensions
            .as_ref()
            .is_some_and(|x| x.get("code").is_some());
        if has_code {
            continue;
        }
        let limit = e.message.starts_with("Query is too complex")
            || e.message.starts_with("Query is nested too deep")
            || e.message.contains("recursion limit exceeded")
            || e.message.contains("recursion depth of the query");
        let code = if limit {
            ErrorCode::QueryTooComplex
        } else {
            if executed {
                tracing::info!(message = %e.message, "input coercion error");
            }
            ErrorCode::BadUserInput
        };
        e.extensions
            .get_or_insert_with(Default::default)
            .set("code", code.as_str());
    }
}

/// The deepest nesting of `{`, `[` and `(` outside strings and comments.
pub(crate) fn text_nesting(query: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let mut chars = query.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' || c == '\r' {
                        break;
                    }
                }
            }
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    match (escaped, c) {
                        (false, '\\') => escaped = true,
                        (false, '"') => break,
                        _ => escaped = false,
                    }
                }
            }
            '{' | '[' | '(' => {
                depth += 1;
                max = max.max(depth);
            }
            '}' | ']' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// The most field selections an operation may expand to (fragments expanded).
const MAX_SELECTIONS: u64 = 10_000;

/// What a selection set costs once its fragments are expanded.
#[derive(Clone, Copy, Default)]
struct Cost {
    depth: u64,
    aliases: u64,
    selections: u64,
}

/// Depth, aliases and expanded size of every operation. Each fragment's cost is computed once
/// and reused, so a chain of fragments that each spread the previous one twice (2^N expanded
/// fields in a few hundred bytes) is measured in linear time and refused.
fn check_document(
    doc: &ExecutableDocument,
    max_depth: usize,
    max_aliases: usize,
) -> Result<(), &'static str> {
    use std::collections::HashMap;

    fn cost<'a>(
        doc: &'a ExecutableDocument,
        set: &'a SelectionSet,
        memo: &mut HashMap<&'a str, Option<Cost>>,
    ) -> Cost {
        let mut total = Cost::default();
        for item in &set.items {
            let inner = match &item.node {
                Selection::Field(f) => {
                    let below = cost(doc, &f.node.selection_set.node, memo);
                    Cost {
                        depth: below.depth + 1,
                        aliases: below
                            .aliases
                            .saturating_add(u64::from(f.node.alias.is_some())),
                        selections: below.selections.saturating_add(1),
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    match memo.get(name) {
                        Some(Some(c)) => *c,
                        // A cycle (validation rejects it properly) or an unknown fragment.
                        Some(None) => Cost::default(),
                        None => match doc.fragments.get(&spread.node.fragment_name.node) {
                            Some(fragment) => {
                                memo.insert(name, None);
                                let c = cost(doc, &fragment.node.selection_set.node, memo);
                                memo.insert(name, Some(c));
                                c
                            }
                            None => Cost::default(),
                        },
                    }
                }
                Selection::InlineFragment(i) => cost(doc, &i.node.selection_set.node, memo),
            };
            total.depth = total.depth.max(inner.depth);
            total.aliases = total.aliases.saturating_add(inner.aliases);
            total.selections = total.selections.saturating_add(inner.selections);
        }
        total
    }

    let mut memo = HashMap::new();
    for (_, op) in doc.operations.iter() {
        let c = cost(doc, &op.node.selection_set.node, &mut memo);
        if c.depth > max_depth as u64 {
            return Err("The query is nested too deeply.");
        }
        if c.aliases > max_aliases as u64 {
            return Err("The query uses too many aliases.");
        }
        if c.selections > MAX_SELECTIONS {
            return Err("The query selects too many fields once its fragments are expanded.");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn nested(levels: usize) -> String {
        format!("{}{}", "{ a ".repeat(levels), "}".repeat(levels))
    }

    #[test]
    fn text_nesting_ignores_strings_and_comments() {
        assert_eq!(text_nesting("{ a(x: \"{{{{\") { b } } # {{{{"), 2);
        assert_eq!(text_nesting(&nested(50)), 50);
        assert_eq!(text_nesting("{ a(x: \"\\\"{\") }"), 2);
    }

    #[test]
    fn depth_counts_through_fragments() {
        let doc = parse_query("query { a { ...F } } fragment F on T { b { c { d } } }").unwrap();
        assert!(check_document(&doc, 4, 10).is_ok());
        assert!(check_document(&doc, 3, 10).is_err());
    }

    #[test]
    fn aliases_are_counted_per_operation() {
        let many: String = (0..31).map(|i| format!("a{i}: me ")).collect();
        let doc = parse_query(format!("{{ {many} }}")).unwrap();
        assert_eq!(
            check_document(&doc, 10, 30),
            Err("The query uses too many aliases.")
        );
        assert!(check_document(&doc, 10, 31).is_ok());
    }

    #[test]
    fn doubling_fragment_chains_are_measured_quickly_and_refused() {
        let mut q = String::from("query { ...F30 } fragment F0 on Query { __typename }");
        for i in 1..=30 {
            q.push_str(&format!(
                " fragment F{i} on Query {{ ...F{} ...F{} }}",
                i - 1,
                i - 1
            ));
        }
        let doc = parse_query(&q).unwrap();
        let started = std::time::Instant::now();
        assert_eq!(
            check_document(&doc, 12, 30),
            Err("The query selects too many fields once its fragments are expanded.")
        );
        assert!(started.elapsed() < std::time::Duration::from_millis(100));
        // A chain that stays small is fine.
        let mut small = String::from("query { ...F3 } fragment F0 on Query { __typename }");
        for i in 1..=3 {
            small.push_str(&format!(
                " fragment F{i} on Query {{ ...F{} ...F{} }}",
                i - 1,
                i - 1
            ));
        }
        assert!(check_document(&parse_query(&small).unwrap(), 12, 30).is_ok());
    }

    #[test]
    fn fragment_cycles_do_not_loop() {
        let doc =
            parse_query("{ ...A } fragment A on Q { ...B } fragment B on Q { ...A }").unwrap();
        assert!(check_document(&doc, 10, 10).is_ok());
    }
}
