use super::*;

fn compiled(query: &str, operation_name: Option<&str>) -> Option<Plan> {
    Plan::compile(
        &async_graphql::parser::parse_query(query).unwrap(),
        operation_name,
    )
}

const PAGE: &str = "query($c: ID!, $after: String) { client(id: $c) { history(first: 50, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { kind occurredAt item { ... on Observation { id fact category author { displayName organization { name } } } } } } } } }";

#[test]
fn the_page_compiles_with_its_arguments() {
    let plan = compiled(PAGE, None).expect("the page's shape");
    assert_eq!(plan.client_key, "client");
    assert!(matches!(&plan.client_id, Arg::Variable(n) if n.as_str() == "c"));
    assert!(matches!(&plan.first, Arg::Literal(v) if v.to_string() == "50"));
    assert!(matches!(&plan.after, Arg::Variable(n) if n.as_str() == "after"));
    // What the statement must bring, read from the selection.
    assert!(plan.counts_total && plan.shows_authors);
    let lean = compiled(
        "query($c: ID!) { client(id: $c) { history { edges { node { item { ... on Observation { fact } } } } } } }",
        None,
    )
    .unwrap();
    assert!(!lean.counts_total && !lean.shows_authors);
    let lean = PAGE.replacen(
        "author { displayName organization { name } }",
        "organization { name }",
        1,
    );
    assert!(
        compiled(&lean, None).unwrap().shows_authors,
        "the observation's organization"
    );
    // A named operation, chosen by name or as the only one.
    let named = PAGE.replacen("query(", "query Page(", 1);
    assert_eq!(
        compiled(&named, Some("Page"))
            .unwrap()
            .operation_name
            .as_deref(),
        Some("Page")
    );
    assert!(compiled(&named, None).is_some());
    assert!(compiled(&named, Some("Other")).is_none());
}

#[test]
fn a_document_of_any_other_shape_is_left_to_the_executor() {
    let refused = [
        // A directive, a fragment spread, a mutation, a default, an argument the plan lacks.
        PAGE.replacen("{ kind", "{ kind @skip(if: false)", 1),
        format!(
            "{} fragment F on Observation {{ id }}",
            PAGE.replacen("{ id fact", "{ ...F fact", 1)
        ),
        PAGE.replacen("query(", "mutation(", 1),
        PAGE.replacen("$after: String", "$after: String = \"x\"", 1),
        PAGE.replacen("first: 50", "first: 50, kinds: [OBSERVATION]", 1),
        // A field outside the page's shape at each level.
        PAGE.replacen("history(", "displayName history(", 1),
        PAGE.replacen("totalCount", "totalCount dueItems", 1),
        PAGE.replacen("{ id fact", "{ externalId fact", 1),
        PAGE.replacen("displayName", "displayName email", 1),
        PAGE.replacen("{ name }", "{ name officeNumber }", 1),
        // Another member of the union, a second page, a response key selected twice.
        PAGE.replacen(
            "... on Observation",
            "... on Meeting { id } ... on Observation",
            1,
        ),
        PAGE.replacen("history(", "again: history { totalCount } history(", 1),
        PAGE.replacen("{ id fact", "{ id id: fact", 1),
        // Two root fields.
        PAGE.replacen("{ client(", "{ me { id } client(", 1),
    ];
    for query in refused {
        assert!(compiled(&query, None).is_none(), "{query}");
    }
}

#[test]
fn the_item_keeps_the_order_in_which_its_fields_are_collected() {
    let plan = compiled(
        "query($c: ID!) { client(id: $c) { history { edges { node { item { ... on Observation { fact } t: __typename ... on Observation { category } } } } } } }",
        None,
    )
    .unwrap();
    let ClientField::History(connection) = &plan.client[0].1 else {
        panic!("history")
    };
    let ConnectionField::Edges(edge) = &connection[0].1 else {
        panic!("edges")
    };
    let EdgeField::Node(entry) = &edge[0].1 else {
        panic!("node")
    };
    let EntryField::Item(item) = &entry[0].1 else {
        panic!("item")
    };
    let keys: Vec<&str> = item.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["fact", "t", "category"]);
    assert!(matches!(item[1].1, ItemField::Typename));
}

#[test]
fn a_document_is_answered_by_its_plan_only_after_a_clean_answer() {
    let plans = Plans::default();
    let parsed = |q: &str| async_graphql::parser::parse_query(q).unwrap();
    assert!(plans.note(PAGE, None, &parsed(PAGE)));
    assert!(plans.proven(PAGE, None).is_none(), "not yet answered");
    plans.learn(PAGE, None, false);
    assert!(plans.proven(PAGE, None).is_none(), "answered with an error");
    plans.learn(PAGE, None, true);
    assert!(plans.proven(PAGE, None).is_some());
    // Another operation name is another document.
    assert!(plans.proven(PAGE, Some("Other")).is_none());
    assert!(!plans.note("{ me { id } }", None, &parsed("{ me { id } }")));
}

/// A document prepared for a request without `$after` has lost the argument; the plan keeps it,
/// from the text as sent.
#[test]
fn the_plan_keeps_the_arguments_a_request_left_out() {
    let plans = Plans::default();
    let prepared = PAGE
        .replacen(", after: $after", "", 1)
        .replacen(", $after: String", "", 1);
    let prepared = async_graphql::parser::parse_query(&prepared).unwrap();
    assert!(plans.note(PAGE, None, &prepared));
    plans.learn(PAGE, None, true);
    let plan = plans.proven(PAGE, None).unwrap();
    assert!(matches!(&plan.after, Arg::Variable(n) if n.as_str() == "after"));
}
