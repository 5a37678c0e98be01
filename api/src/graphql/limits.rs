//! The limits a GraphQL document is measured against before it runs, each refusal naming its
//! limit and its numbers (`depth 16 > 12`), and the extension that enforces complexity after
//! validation and tells the HTTP layer whether execution began.
//!
//! Data fields and introspection are measured apart. Standard introspection
//! (`getIntrospectionQuery()` with every option, as GraphiQL, codegen, Postman and Apollo send it)
//! nests 13–16 levels through `ofType`, deeper than any data query needs; it is exempt from the
//! data depth limit and bounded by rules of its own instead: a depth ceiling, and at most three
//! nested lists of schema parts (`types { fields { args } }`), so that a `__type { ofType … }`
//! chain or a `types { fields { type { fields … } } }` fan-out is still refused.
//!
//! A fragment cycle is a validation error (`BAD_USER_INPUT`), not a limit.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use async_graphql::{
    Response, ServerError, ValidationResult,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextValidation},
    parser::types::{ExecutableDocument, Field, Selection, SelectionSet},
};

use crate::error::{ErrorCode, server_error};

/// Deepest nesting of brackets in the raw text, and of selections through fragments: what keeps
/// the parser's and the executor's stacks safe.
pub(crate) const MAX_NESTING: u64 = 64;
/// Deepest introspection subtree (`__schema` / `__type` and everything below them).
pub(crate) const MAX_INTROSPECTION_DEPTH: u64 = 20;
/// Most lists of schema parts nested inside one introspection subtree.
pub(crate) const MAX_INTROSPECTION_LISTS: u64 = 3;
/// Most field selections an operation may expand to once its fragments are expanded.
pub(crate) const MAX_SELECTIONS: u64 = 10_000;

/// Introspection fields whose value is a list of schema parts: each one multiplies the answer.
const INTROSPECTION_LISTS: [&str; 8] = [
    "types",
    "fields",
    "args",
    "inputFields",
    "interfaces",
    "possibleTypes",
    "enumValues",
    "directives",
];

/// The configurable limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest nesting of data fields.
    pub max_depth: usize,
    /// Most aliases in one operation.
    pub max_aliases: usize,
    /// Highest complexity (async-graphql's count: one per field, more for costly fields).
    pub max_complexity: usize,
}

/// Which limit refused a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    /// Bracket or fragment nesting ([`MAX_NESTING`]).
    Nesting,
    /// Depth of data fields.
    Depth,
    /// Depth of an introspection subtree.
    IntrospectionDepth,
    /// Nested lists of schema parts in an introspection subtree.
    IntrospectionLists,
    /// Aliases in one operation.
    Aliases,
    /// Field selections once fragments are expanded.
    Selections,
    /// async-graphql's complexity.
    Complexity,
}

impl Limit {
    /// The name clients read in `extensions.limit`.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::Nesting => "nesting",
            Self::Depth => "depth",
            Self::IntrospectionDepth => "introspectionDepth",
            Self::IntrospectionLists => "introspectionLists",
            Self::Aliases => "aliases",
            Self::Selections => "selections",
            Self::Complexity => "complexity",
        }
    }

    fn explanation(self) -> &'static str {
        match self {
            Self::Nesting => "brackets or fragments are nested too deeply",
            Self::Depth => "data fields are nested too deeply (introspection is measured apart)",
            Self::IntrospectionDepth => "an introspection subtree is nested too deeply",
            Self::IntrospectionLists => {
                "an introspection subtree nests too many lists of schema parts"
            }
            Self::Aliases => "the operation uses too many aliases",
            Self::Selections => "the operation selects too many fields once fragments are expanded",
            Self::Complexity => "the operation is too complex",
        }
    }
}

/// A refusal: which limit, what the document measured, and the most allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LimitExceeded {
    pub limit: Limit,
    pub actual: u64,
    pub maximum: u64,
}

impl LimitExceeded {
    fn check(limit: Limit, actual: u64, maximum: u64) -> Result<(), Self> {
        if actual > maximum {
            Err(Self {
                limit,
                actual,
                maximum,
            })
        } else {
            Ok(())
        }
    }

    /// The message, e.g. "Query refused: data fields are nested too deeply (depth 16 > 12)."
    pub(crate) fn message(&self) -> String {
        format!(
            "Query refused: {} ({} {} > {}).",
            self.limit.explanation(),
            self.limit.as_str(),
            self.actual,
            self.maximum
        )
    }

    /// `QUERY_TOO_COMPLEX` with `extensions.limit`, `.actual` and `.maximum`.
    pub(crate) fn into_server_error(self) -> ServerError {
        let mut e = server_error(ErrorCode::QueryTooComplex, self.message());
        if let Some(ext) = e.extensions.as_mut() {
            ext.set("limit", self.limit.as_str());
            ext.set("actual", self.actual);
            ext.set("maximum", self.maximum);
        }
        e
    }
}

/// Why a parsed document is refused before validation.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    Limit(LimitExceeded),
    /// A fragment spreads itself, directly or through others.
    FragmentCycle(String),
}

impl Refusal {
    pub(crate) fn into_server_error(self) -> ServerError {
        match self {
            Self::Limit(l) => l.into_server_error(),
            Self::FragmentCycle(name) => server_error(
                ErrorCode::BadUserInput,
                format!("Cannot spread fragment \"{name}\" within itself."),
            ),
        }
    }
}

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

/// The schema's extension: the complexity limit (from validation's own count, so the refusal
/// carries its code and numbers, over HTTP and WebSocket alike) and the "execution began" flag.
/// It does not wrap fields ([`Extension::wraps_fields`]), so events and pages resolve as fast as
/// without it.
pub(crate) struct QueryLimits {
    pub max_complexity: usize,
}

impl ExtensionFactory for QueryLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(QueryLimitsExtension {
            max_complexity: self.max_complexity,
        })
    }
}

struct QueryLimitsExtension {
    max_complexity: usize,
}

#[async_trait::async_trait]
impl Extension for QueryLimitsExtension {
    /// Only the request's validation and execution: fields resolve without the extension chain
    /// (a patch of the vendored async-graphql; see `vendor/async-graphql/KAKEHASHI-PATCH.md`).
    fn wraps_fields(&self) -> bool {
        false
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        LimitExceeded::check(
            Limit::Complexity,
            result.complexity as u64,
            self.max_complexity as u64,
        )
        .map_err(|e| vec![e.into_server_error()])?;
        Ok(result)
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

/// Gives every error that has no code one: before execution that is syntax, validation or an
/// unknown operation; during execution the only uncoded errors are async-graphql's own input
/// coercion (a malformed scalar): resolvers return `ApiError`s, which always carry a code.
pub(crate) fn assign_codes(errors: &mut [ServerError], executed: bool) {
    for e in errors {
        let has_code = e
            .extensions
            .as_ref()
            .is_some_and(|x| x.get("code").is_some());
        if has_code {
            continue;
        }
        if executed {
            tracing::info!(message = %e.message, "input coercion error");
        }
        e.extensions
            .get_or_insert_with(Default::default)
            .set("code", ErrorCode::BadUserInput.as_str());
    }
}

/// The deepest nesting of `{`, `[` and `(` outside strings and comments: checked before parsing
/// so that a deeply nested text cannot exhaust the parser's stack.
pub(crate) fn text_nesting(query: &str) -> u64 {
    let (mut depth, mut max) = (0u64, 0u64);
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

/// Checks the raw text before parsing.
pub(crate) fn check_text(query: &str) -> Result<(), LimitExceeded> {
    LimitExceeded::check(Limit::Nesting, text_nesting(query), MAX_NESTING)
}

/// Whether a selection set is measured as data or as introspection.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Mode {
    Data,
    Introspection,
}

/// What a selection set costs once its fragments are expanded.
#[derive(Clone, Copy, Default)]
struct Cost {
    /// Data-field depth.
    depth: u64,
    /// Depth of introspection subtrees (their root field included).
    introspection_depth: u64,
    /// Nested lists of schema parts inside introspection subtrees.
    introspection_lists: u64,
    /// Selections, inline fragments and spreads nested (stack use).
    nesting: u64,
    aliases: u64,
    selections: u64,
}

impl Cost {
    fn merge(&mut self, other: Cost) {
        self.depth = self.depth.max(other.depth);
        self.introspection_depth = self.introspection_depth.max(other.introspection_depth);
        self.introspection_lists = self.introspection_lists.max(other.introspection_lists);
        self.nesting = self.nesting.max(other.nesting);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.selections = self.selections.saturating_add(other.selections);
    }
}

/// Measures every operation of a parsed document. Each fragment is measured once per mode and
/// reused, so a chain of fragments that each spread the previous one twice (2^N expanded fields
/// in a few hundred bytes) is measured in linear time and refused.
pub(crate) fn check_document(doc: &ExecutableDocument, limits: &Limits) -> Result<(), Refusal> {
    let mut memo = HashMap::new();
    for (_, op) in doc.operations.iter() {
        let c = measure(doc, &op.node.selection_set.node, Mode::Data, &mut memo)?;
        LimitExceeded::check(Limit::Nesting, c.nesting, MAX_NESTING)
            .and_then(|()| LimitExceeded::check(Limit::Depth, c.depth, limits.max_depth as u64))
            .and_then(|()| {
                LimitExceeded::check(
                    Limit::IntrospectionDepth,
                    c.introspection_depth,
                    MAX_INTROSPECTION_DEPTH,
                )
            })
            .and_then(|()| {
                LimitExceeded::check(
                    Limit::IntrospectionLists,
                    c.introspection_lists,
                    MAX_INTROSPECTION_LISTS,
                )
            })
            .and_then(|()| {
                LimitExceeded::check(Limit::Aliases, c.aliases, limits.max_aliases as u64)
            })
            .and_then(|()| LimitExceeded::check(Limit::Selections, c.selections, MAX_SELECTIONS))
            .map_err(Refusal::Limit)?;
    }
    // Fragments no operation uses are still checked for cycles (validation would loop on them).
    for name in doc.fragments.keys() {
        if !memo.contains_key(&(name.as_str(), Mode::Data))
            && !memo.contains_key(&(name.as_str(), Mode::Introspection))
        {
            spread(doc, name.as_str(), Mode::Data, &mut memo)?;
        }
    }
    Ok(())
}

type Memo<'a> = HashMap<(&'a str, Mode), Option<Cost>>;

fn measure<'a>(
    doc: &'a ExecutableDocument,
    set: &'a SelectionSet,
    mode: Mode,
    memo: &mut Memo<'a>,
) -> Result<Cost, Refusal> {
    let mut total = Cost::default();
    for item in &set.items {
        let inner = match &item.node {
            Selection::Field(f) => field(doc, &f.node, mode, memo)?,
            Selection::FragmentSpread(s) => {
                let mut c = spread(doc, s.node.fragment_name.node.as_str(), mode, memo)?;
                c.nesting += 1;
                c
            }
            Selection::InlineFragment(i) => {
                let mut c = measure(doc, &i.node.selection_set.node, mode, memo)?;
                c.nesting += 1;
                c
            }
        };
        total.merge(inner);
    }
    Ok(total)
}

fn field<'a>(
    doc: &'a ExecutableDocument,
    f: &'a Field,
    mode: Mode,
    memo: &mut Memo<'a>,
) -> Result<Cost, Refusal> {
    let name = f.name.node.as_str();
    let enters_introspection = mode == Mode::Data && (name == "__schema" || name == "__type");
    let below_mode = if enters_introspection {
        Mode::Introspection
    } else {
        mode
    };
    let below = measure(doc, &f.selection_set.node, below_mode, memo)?;
    let mut c = below;
    c.nesting += 1;
    c.aliases = c.aliases.saturating_add(u64::from(f.alias.is_some()));
    c.selections = c.selections.saturating_add(1);
    match (mode, enters_introspection) {
        (Mode::Data, false) => c.depth += 1,
        (Mode::Data, true) => {
            c.depth += 1;
            c.introspection_depth += 1;
        }
        (Mode::Introspection, _) => {
            c.introspection_depth += 1;
            if INTROSPECTION_LISTS.contains(&name) {
                c.introspection_lists += 1;
            }
        }
    }
    Ok(c)
}

fn spread<'a>(
    doc: &'a ExecutableDocument,
    name: &'a str,
    mode: Mode,
    memo: &mut Memo<'a>,
) -> Result<Cost, Refusal> {
    match memo.get(&(name, mode)) {
        Some(Some(c)) => return Ok(*c),
        Some(None) => return Err(Refusal::FragmentCycle(name.to_owned())),
        None => {}
    }
    let Some((key, fragment)) = doc.fragments.iter().find(|(n, _)| n.as_str() == name) else {
        // Unknown: validation reports it.
        return Ok(Cost::default());
    };
    memo.insert((key.as_str(), mode), None);
    let c = measure(doc, &fragment.node.selection_set.node, mode, memo)?;
    memo.insert((key.as_str(), mode), Some(c));
    Ok(c)
}

#[cfg(test)]
mod tests;
