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
