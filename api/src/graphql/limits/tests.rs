use super::*;
use async_graphql::parser::parse_query;

const LIMITS: Limits = Limits {
    max_depth: 12,
    max_aliases: 30,
    max_complexity: 1000,
};

fn check(q: &str, limits: Limits) -> Result<(), Refusal> {
    check_document(&parse_query(q).unwrap(), &limits)
}

fn refused_by(q: &str, limits: Limits) -> (Limit, u64, u64) {
    match check(q, limits) {
        Err(Refusal::Limit(l)) => (l.limit, l.actual, l.maximum),
        other => panic!("expected a limit, got {other:?}"),
    }
}

fn nested(levels: usize) -> String {
    format!("{}{}", "{ a ".repeat(levels), "}".repeat(levels))
}

#[test]
fn text_nesting_ignores_strings_and_comments() {
    assert_eq!(text_nesting("{ a(x: \"{{{{\") { b } } # {{{{"), 2);
    assert_eq!(text_nesting(&nested(50)), 50);
    assert_eq!(text_nesting("{ a(x: \"\\\"{\") }"), 2);
    assert_eq!(
        check_text(&nested(65)),
        Err(LimitExceeded {
            limit: Limit::Nesting,
            actual: 65,
            maximum: 64
        })
    );
}

#[test]
fn depth_counts_data_fields_through_fragments_and_names_its_numbers() {
    let q = "query { a { ...F } } fragment F on T { b { c { d } } }";
    let four = Limits {
        max_depth: 4,
        ..LIMITS
    };
    assert!(check(q, four).is_ok());
    let three = Limits {
        max_depth: 3,
        ..LIMITS
    };
    assert_eq!(refused_by(q, three), (Limit::Depth, 4, 3));
    let e = LimitExceeded {
        limit: Limit::Depth,
        actual: 16,
        maximum: 15,
    };
    assert!(e.message().contains("depth 16 > 15"), "{}", e.message());
}

#[test]
fn introspection_is_measured_apart_from_data() {
    // 14 levels through ofType: over the data limit, within introspection's own.
    let mut type_ref = String::from("kind name");
    for _ in 0..8 {
        type_ref = format!("kind name ofType {{ {type_ref} }}");
    }
    let q = format!(
        "{{ __schema {{ types {{ fields {{ args {{ type {{ {type_ref} }} }} }} }} }} me {{ role }} }}"
    );
    assert!(check(&q, LIMITS).is_ok());
    // A bomb down ofType is refused by introspection's ceiling.
    let mut bomb = String::from("name");
    for _ in 0..25 {
        bomb = format!("ofType {{ {bomb} }}");
    }
    let (limit, actual, max) =
        refused_by(&format!("{{ __type(name: \"X\") {{ {bomb} }} }}"), LIMITS);
    assert_eq!(
        (limit, max),
        (Limit::IntrospectionDepth, MAX_INTROSPECTION_DEPTH)
    );
    assert_eq!(actual, 27);
    // A fan-out of lists is refused by the list rule, whatever its depth.
    let fan = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
    assert_eq!(refused_by(fan, LIMITS).0, Limit::IntrospectionLists);
    // Data below the introspection root still counts as data elsewhere.
    let deep_data = nested(13);
    assert_eq!(refused_by(&deep_data, LIMITS), (Limit::Depth, 13, 12));
}

#[test]
fn aliases_are_counted_per_operation() {
    let many: String = (0..31).map(|i| format!("a{i}: me ")).collect();
    let q = format!("{{ {many} }}");
    assert_eq!(refused_by(&q, LIMITS), (Limit::Aliases, 31, 30));
    let more = Limits {
        max_aliases: 31,
        ..LIMITS
    };
    assert!(check(&q, more).is_ok());
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
    let started = std::time::Instant::now();
    assert_eq!(refused_by(&q, LIMITS).0, Limit::Selections);
    assert!(started.elapsed() < std::time::Duration::from_millis(100));
    let mut small = String::from("query { ...F3 } fragment F0 on Query { __typename }");
    for i in 1..=3 {
        small.push_str(&format!(
            " fragment F{i} on Query {{ ...F{} ...F{} }}",
            i - 1,
            i - 1
        ));
    }
    assert!(check(&small, LIMITS).is_ok());
}

#[test]
fn fragment_cycles_are_validation_errors_not_limits() {
    assert_eq!(
        check(
            "{ ...A } fragment A on Q { ...B } fragment B on Q { ...A }",
            LIMITS
        ),
        Err(Refusal::FragmentCycle("A".into()))
    );
    // An unused cycle too.
    assert!(matches!(
        check("{ me } fragment A on Q { ...A }", LIMITS),
        Err(Refusal::FragmentCycle(_))
    ));
}

#[test]
fn long_spread_chains_count_as_nesting() {
    let mut q = String::from("{ ...F0 }");
    for i in 0..70 {
        q.push_str(&format!(" fragment F{i} on Query {{ ...F{} }}", i + 1));
    }
    q.push_str(" fragment F70 on Query { __typename }");
    assert_eq!(refused_by(&q, LIMITS).0, Limit::Nesting);
}
