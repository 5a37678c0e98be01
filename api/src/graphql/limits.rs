//! Query limits checked before execution, and the bookkeeping the HTTP layer needs to answer
//! with the right status.
//!
//! Three cheap checks run in the parse phase: raw nesting of brackets in the text (so a deeply
//! nested document cannot exhaust the parser's stack), selection depth with fragments expanded,
//! and the number of aliases. async-graphql's complexity and depth limits run in validation as a
//! second line. All of them answer `QUERY_TOO_COMPLEX`.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use async_graphql::{
    Response, ServerError, ServerResult, ValidationResult, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextValidation,
    },
    parser::types::{ExecutableDocument, Selection, SelectionSet},
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
        if text_nesting(query) > MAX_TEXT_NESTING {
            return Err(too_complex("The query is nested too deeply."));
        }
        let doc = next.run(ctx, query, variables).await?;
        check_document(&doc, self.max_depth, self.max_aliases).map_err(too_complex)?;
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

fn too_complex(message: &str) -> ServerError {
    server_error(ErrorCode::QueryTooComplex, message)
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

/// Depth (fragments expanded) and alias count of every operation.
fn check_document(
    doc: &ExecutableDocument,
    max_depth: usize,
    max_aliases: usize,
) -> Result<(), &'static str> {
    struct Walk<'a> {
        doc: &'a ExecutableDocument,
        aliases: usize,
        // Guards against fragment cycles (validation reports them properly later).
        fragment_stack: Vec<&'a str>,
    }
    impl<'a> Walk<'a> {
        fn depth(
            &mut self,
            set: &'a SelectionSet,
            level: usize,
            max_depth: usize,
        ) -> Result<(), &'static str> {
            if level > max_depth {
                return Err("The query is nested too deeply.");
            }
            for item in &set.items {
                match &item.node {
                    Selection::Field(f) => {
                        if f.node.alias.is_some() {
                            self.aliases += 1;
                        }
                        if !f.node.selection_set.node.items.is_empty() {
                            self.depth(&f.node.selection_set.node, level + 1, max_depth)?;
                        }
                    }
                    Selection::FragmentSpread(s) => {
                        let name = s.node.fragment_name.node.as_str();
                        if self.fragment_stack.contains(&name) {
                            continue;
                        }
                        if let Some(frag) = self.doc.fragments.get(&s.node.fragment_name.node) {
                            self.fragment_stack.push(name);
                            self.depth(&frag.node.selection_set.node, level, max_depth)?;
                            self.fragment_stack.pop();
                        }
                    }
                    Selection::InlineFragment(i) => {
                        self.depth(&i.node.selection_set.node, level, max_depth)?;
                    }
                }
            }
            Ok(())
        }
    }
    for (_, op) in doc.operations.iter() {
        let mut walk = Walk {
            doc,
            aliases: 0,
            fragment_stack: Vec::new(),
        };
        walk.depth(&op.node.selection_set.node, 1, max_depth)?;
        if walk.aliases > max_aliases {
            return Err("The query uses too many aliases.");
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
    fn fragment_cycles_do_not_loop() {
        let doc =
            parse_query("{ ...A } fragment A on Q { ...B } fragment B on Q { ...A }").unwrap();
        assert!(check_document(&doc, 10, 10).is_ok());
    }
}
