//! The committed `schema.graphql` is what the server serves, and every part of it is documented.

use std::path::Path;

use async_graphql::parser::{
    parse_schema,
    types::{TypeKind, TypeSystemDefinition},
};
use serde_json::json;

use crate::helpers::*;

fn committed() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
    std::fs::read_to_string(path).expect("schema.graphql at the repository root")
}

#[test]
fn committed_schema_matches_the_code() {
    let generated = kakehashi::graphql::sdl();
    assert!(
        committed() == generated,
        "schema.graphql is stale: run `cargo run -- export-schema --out schema.graphql`"
    );
}

#[tokio::test]
async fn the_server_serves_the_committed_types() {
    let app = TestApp::spawn().await;
    let body = app
        .gql(None, "{ __schema { types { name } } }", json!({}))
        .await;
    let mut served: Vec<String> = body["data"]["__schema"]["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .filter(|n| !n.starts_with("__"))
        .collect();
    served.sort();
    let doc = parse_schema(committed()).unwrap();
    let mut declared: Vec<String> = doc
        .definitions
        .iter()
        .filter_map(|d| match d {
            TypeSystemDefinition::Type(t) => Some(t.node.name.node.to_string()),
            _ => None,
        })
        .chain(["Boolean", "Float", "ID", "Int", "String"].map(String::from))
        .collect();
    declared.sort();
    declared.dedup();
    assert_eq!(served, declared);
}

#[test]
fn every_type_field_argument_and_value_has_a_description() {
    let doc = parse_schema(committed()).unwrap();
    let mut missing = Vec::new();
    for def in &doc.definitions {
        let TypeSystemDefinition::Type(t) = def else {
            continue;
        };
        let t = &t.node;
        let name = t.name.node.as_str();
        if t.description.is_none() {
            missing.push(name.to_owned());
        }
        match &t.kind {
            TypeKind::Object(o) => {
                for f in &o.fields {
                    if f.node.description.is_none() {
                        missing.push(format!("{name}.{}", f.node.name.node));
                    }
                    for a in &f.node.arguments {
                        if a.node.description.is_none() && a.node.name.node != "input" {
                            missing
                                .push(format!("{name}.{}({})", f.node.name.node, a.node.name.node));
                        }
                    }
                }
            }
            TypeKind::InputObject(o) => {
                for f in &o.fields {
                    if f.node.description.is_none() {
                        missing.push(format!("{name}.{}", f.node.name.node));
                    }
                }
            }
            TypeKind::Enum(e) => {
                for v in &e.values {
                    if v.node.description.is_none() {
                        missing.push(format!("{name}.{}", v.node.value.node));
                    }
                }
            }
            _ => {}
        }
    }
    assert!(
        missing.is_empty(),
        "undocumented in schema.graphql: {missing:?}"
    );
}

/// Every GraphQL example in the README parses and validates against the schema (each named
/// operation runs without data: any error must come from a resolver, never from validation).
#[tokio::test]
async fn every_readme_example_operation_is_valid() {
    use async_graphql::parser::parse_query;
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let schema = kakehashi::graphql::build_schema(&kakehashi::Config::default());
    let mut checked = 0;
    for block in readme.split("```graphql\n").skip(1) {
        let block = block.split("```").next().unwrap();
        let doc = parse_query(block)
            .unwrap_or_else(|e| panic!("README example does not parse: {e}\n{block}"));
        let names: Vec<Option<String>> = doc
            .operations
            .iter()
            .map(|(n, _)| n.map(|n| n.to_string()))
            .collect();
        for name in names {
            let mut request = async_graphql::Request::new(block);
            if let Some(n) = &name {
                request = request.operation_name(n);
            }
            // Subscriptions run as streams; their first response tells the same.
            let response = futures_util::StreamExt::next(&mut schema.execute_stream(request))
                .await
                .unwrap();
            for e in &response.errors {
                assert!(
                    !e.path.is_empty(),
                    "README operation {name:?} is invalid: {}\n{block}",
                    e.message
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} README operations found");
}
