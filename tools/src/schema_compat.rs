//! Breaking-change detection between two versions of the SDL (`schema.graphql`).
//!
//! Front-end teams and integrators build against the committed `schema.graphql`; a change that
//! makes one of their already-written operations invalid, or makes a response they already handle
//! surprise them, breaks them without warning. CI (`.ci/schema-compat`) runs
//! [`breaking_changes`] on every commit that touched the SDL, so such a change needs a
//! deprecation first: a removal is allowed only when the removed thing carried `@deprecated` in
//! the old SDL. Additions never break anyone.
//!
//! Why a pure function over two SDL strings, and not over the live schema: the check must compare
//! *past* versions (from git) with the current one, so both sides have to be text; and the
//! comparison needs no database, no server and no async-graphql schema, so it is cheap to unit
//! test completely. Only `async_graphql::parser` is used, for its syntax tree.
//!
//! The rules, per position:
//! - output field types may only get stricter (`String` → `String!`, `[T]` → `[T!]`), never
//!   change their named type or list shape;
//! - argument and input-field types may only get looser (`Int!` → `Int`), and a non-null one
//!   must not appear without a default, nor lose its default;
//! - types, fields, arguments, input fields and enum values may go only after `@deprecated`;
//!   union members and implemented interfaces cannot carry it, so removing them always breaks.
//!
//! Not checked (deliberately, to stay small and never flag a harmless change): directive
//! definitions, descriptions, a default value that changes (rather than disappears) and the
//! `schema { … }` block (renaming a root type already shows up as the old type's removal).

use std::collections::{BTreeMap, BTreeSet};

use async_graphql::parser::{
    Positioned, parse_schema,
    types::{
        BaseType, ConstDirective, FieldDefinition, InputValueDefinition, ServiceDocument, Type,
        TypeKind, TypeSystemDefinition,
    },
};

/// Describes every change from `old_sdl` to `new_sdl` that breaks existing clients, one sentence
/// each, sorted by type name. Empty when the new schema is compatible. `Err` when either SDL does
/// not parse or defines a type twice.
pub fn breaking_changes(old_sdl: &str, new_sdl: &str) -> Result<Vec<String>, String> {
    let old_doc = parse_schema(old_sdl).map_err(|e| format!("old schema does not parse: {e}"))?;
    let new_doc = parse_schema(new_sdl).map_err(|e| format!("new schema does not parse: {e}"))?;
    let old = index(&old_doc).map_err(|e| format!("old schema: {e}"))?;
    let new = index(&new_doc).map_err(|e| format!("new schema: {e}"))?;

    let mut out = Vec::new();
    for (name, o) in &old {
        let Some(n) = new.get(name) else {
            if !o.deprecated {
                out.push(format!("type {name} ({}) was removed", o.kind));
            }
            continue;
        };
        if o.kind != n.kind {
            out.push(format!(
                "type {name} changed kind from {} to {}",
                o.kind, n.kind
            ));
            continue;
        }
        compare_type(name, o, n, &mut out);
    }
    Ok(out)
}

/// The kind of a named type, as shown in messages.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Scalar,
    Object,
    Interface,
    Union,
    Enum,
    InputObject,
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Scalar => "scalar",
            Kind::Object => "object",
            Kind::Interface => "interface",
            Kind::Union => "union",
            Kind::Enum => "enum",
            Kind::InputObject => "input object",
        })
    }
}

/// One named type, with `extend` definitions merged in. Only the parts its kind has are filled.
struct TypeInfo<'a> {
    kind: Kind,
    deprecated: bool,
    /// Object and interface fields.
    fields: BTreeMap<&'a str, FieldInfo<'a>>,
    /// Input-object fields.
    inputs: BTreeMap<&'a str, InputInfo<'a>>,
    /// Implemented interfaces (objects, interfaces) or members (unions).
    names: BTreeSet<&'a str>,
    /// Enum values, with whether each is deprecated.
    values: BTreeMap<&'a str, bool>,
}

struct FieldInfo<'a> {
    ty: &'a Type,
    deprecated: bool,
    args: BTreeMap<&'a str, InputInfo<'a>>,
}

/// An argument or an input-object field.
struct InputInfo<'a> {
    ty: &'a Type,
    has_default: bool,
    deprecated: bool,
}

fn deprecated(directives: &[Positioned<ConstDirective>]) -> bool {
    directives.iter().any(|d| d.node.name.node == "deprecated")
}

fn input_info(v: &InputValueDefinition) -> InputInfo<'_> {
    InputInfo {
        ty: &v.ty.node,
        has_default: v.default_value.is_some(),
        deprecated: deprecated(&v.directives),
    }
}

fn field_info(f: &FieldDefinition) -> FieldInfo<'_> {
    FieldInfo {
        ty: &f.ty.node,
        deprecated: deprecated(&f.directives),
        args: f
            .arguments
            .iter()
            .map(|a| (a.node.name.node.as_str(), input_info(&a.node)))
            .collect(),
    }
}

fn index(doc: &ServiceDocument) -> Result<BTreeMap<&str, TypeInfo<'_>>, String> {
    let mut types: BTreeMap<&str, TypeInfo<'_>> = BTreeMap::new();
    for def in &doc.definitions {
        let TypeSystemDefinition::Type(t) = def else {
            continue;
        };
        let t = &t.node;
        let name = t.name.node.as_str();
        let kind = match &t.kind {
            TypeKind::Scalar => Kind::Scalar,
            TypeKind::Object(_) => Kind::Object,
            TypeKind::Interface(_) => Kind::Interface,
            TypeKind::Union(_) => Kind::Union,
            TypeKind::Enum(_) => Kind::Enum,
            TypeKind::InputObject(_) => Kind::InputObject,
        };
        let info = match types.get_mut(name) {
            Some(_) if !t.extend => return Err(format!("type {name} is defined twice")),
            Some(existing) if existing.kind != kind => {
                return Err(format!("extension of {name} has a different kind"));
            }
            Some(existing) => existing,
            None => types.entry(name).or_insert(TypeInfo {
                kind,
                deprecated: false,
                fields: BTreeMap::new(),
                inputs: BTreeMap::new(),
                names: BTreeSet::new(),
                values: BTreeMap::new(),
            }),
        };
        info.deprecated |= deprecated(&t.directives);
        let (fields, names) = match &t.kind {
            TypeKind::Object(o) => (&o.fields[..], &o.implements[..]),
            TypeKind::Interface(i) => (&i.fields[..], &i.implements[..]),
            TypeKind::Union(u) => (&[][..], &u.members[..]),
            _ => (&[][..], &[][..]),
        };
        for f in fields {
            info.fields
                .insert(f.node.name.node.as_str(), field_info(&f.node));
        }
        info.names.extend(names.iter().map(|n| n.node.as_str()));
        if let TypeKind::InputObject(i) = &t.kind {
            for f in &i.fields {
                info.inputs
                    .insert(f.node.name.node.as_str(), input_info(&f.node));
            }
        }
        if let TypeKind::Enum(e) = &t.kind {
            for v in &e.values {
                info.values
                    .insert(v.node.value.node.as_str(), deprecated(&v.node.directives));
            }
        }
    }
    Ok(types)
}

/// Compares two versions of a type of the same kind.
fn compare_type(name: &str, old: &TypeInfo<'_>, new: &TypeInfo<'_>, out: &mut Vec<String>) {
    for (field, o) in &old.fields {
        let Some(n) = new.fields.get(field) else {
            if !o.deprecated {
                out.push(format!("field {name}.{field} was removed"));
            }
            continue;
        };
        if !output_compatible(o.ty, n.ty) {
            out.push(format!(
                "field {name}.{field} changed type from {} to {}",
                o.ty, n.ty
            ));
        }
        let what = format!("argument {name}.{field}(");
        compare_inputs(&what, &o.args, &n.args, out);
    }
    compare_inputs(
        &format!("input field {name}."),
        &old.inputs,
        &new.inputs,
        out,
    );
    for gone in old.names.difference(&new.names) {
        out.push(match old.kind {
            Kind::Union => format!("union {name} no longer includes {gone}"),
            _ => format!("type {name} no longer implements {gone}"),
        });
    }
    for (value, was_deprecated) in &old.values {
        if !was_deprecated && !new.values.contains_key(value) {
            out.push(format!("enum value {name}.{value} was removed"));
        }
    }
}

/// Compares arguments (`prefix` = `argument T.f(`) or input fields (`prefix` = `input field T.`).
fn compare_inputs(
    prefix: &str,
    old: &BTreeMap<&str, InputInfo<'_>>,
    new: &BTreeMap<&str, InputInfo<'_>>,
    out: &mut Vec<String>,
) {
    let suffix = if prefix.ends_with('(') { ":)" } else { "" };
    for (name, o) in old {
        let Some(n) = new.get(name) else {
            if !o.deprecated {
                out.push(format!("{prefix}{name}{suffix} was removed"));
            }
            continue;
        };
        if !input_compatible(o.ty, n.ty) {
            out.push(format!(
                "{prefix}{name}{suffix} changed type from {} to {}",
                o.ty, n.ty
            ));
        } else if o.has_default && !n.has_default && !n.ty.nullable {
            out.push(format!(
                "{prefix}{name}{suffix} ({}) lost its default value",
                n.ty
            ));
        }
    }
    for (name, n) in new {
        if !old.contains_key(name) && !n.ty.nullable && !n.has_default {
            out.push(format!(
                "{prefix}{name}{suffix} was added as non-null without a default ({})",
                n.ty
            ));
        }
    }
}

/// An output position may only get stricter: every value the new type produces, the old one
/// could have produced (same named type and list shape; nullable → non-null at any level).
fn output_compatible(old: &Type, new: &Type) -> bool {
    (old.nullable || !new.nullable)
        && match (&old.base, &new.base) {
            (BaseType::Named(a), BaseType::Named(b)) => a == b,
            (BaseType::List(a), BaseType::List(b)) => output_compatible(a, b),
            _ => false,
        }
}

/// An input position may only get looser: every value a client could send before is still
/// accepted (same named type and list shape; non-null → nullable at any level).
fn input_compatible(old: &Type, new: &Type) -> bool {
    (!old.nullable || new.nullable)
        && match (&old.base, &new.base) {
            (BaseType::Named(a), BaseType::Named(b)) => a == b,
            (BaseType::List(a), BaseType::List(b)) => input_compatible(a, b),
            _ => false,
        }
}

#[cfg(test)]
mod tests {
    use super::breaking_changes;

    const BASE: &str = r#"
        interface Node { id: ID! }
        interface Named { name: String }
        type Query {
          user(id: ID!, verbose: Boolean): User
          users(first: Int! = 20, after: String): [User!]!
          legacy: String @deprecated(reason: "gone soon")
          search(term: String!, mode: String @deprecated): [SearchResult!]!
        }
        type User implements Node & Named {
          id: ID!
          name: String
          email: String
          oldName: String @deprecated
        }
        type Group { id: ID! }
        union SearchResult = User | Group
        input UserInput { name: String!, email: String, nick: String @deprecated }
        enum Role { ADMIN STAFF GUEST @deprecated }
        scalar Date
        type Legacy @deprecated { id: ID! }
    "#;

    /// Breaking changes after applying `edits` (pairs of exact text → replacement) to BASE.
    fn after(edits: &[(&str, &str)]) -> Vec<String> {
        let mut new = BASE.to_owned();
        for (from, to) in edits {
            assert!(new.contains(from), "test edit not applicable: {from}");
            new = new.replacen(from, to, 1);
        }
        breaking_changes(BASE, &new).unwrap()
    }

    fn breaks(edits: &[(&str, &str)], expected: &str) {
        assert_eq!(after(edits), vec![expected.to_owned()]);
    }

    fn allowed(edits: &[(&str, &str)]) {
        assert_eq!(after(edits), Vec::<String>::new());
    }

    #[test]
    fn the_committed_schema_is_compatible_with_itself() {
        let sdl = include_str!("../../schema.graphql");
        assert_eq!(breaking_changes(sdl, sdl).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_field_removed_from_the_committed_schema_is_found() {
        let sdl = include_str!("../../schema.graphql");
        let new = sdl.replacen("\tmyEvents(", "\tmyEventz(", 1);
        assert_eq!(
            breaking_changes(sdl, &new).unwrap(),
            vec!["field Subscription.myEvents was removed".to_owned()]
        );
    }

    #[test]
    fn unparsable_sdl_is_an_error() {
        assert!(
            breaking_changes("type {", BASE)
                .unwrap_err()
                .starts_with("old")
        );
        assert!(
            breaking_changes(BASE, "type {")
                .unwrap_err()
                .starts_with("new")
        );
        let twice = format!("{BASE} scalar Date");
        assert!(breaking_changes(BASE, &twice).is_err());
    }

    #[test]
    fn additions_never_break() {
        allowed(&[
            (
                "scalar Date",
                "scalar Date scalar Time type Extra { a: Int! }",
            ),
            ("email: String\n", "email: String\n age: Int!\n"),
            (
                "verbose: Boolean",
                "verbose: Boolean, limit: Int, page: Int! = 1",
            ),
            (
                "email: String,",
                "email: String, age: Int, tags: [String!]! = [],",
            ),
            ("ADMIN STAFF", "ADMIN STAFF OWNER"),
            ("User | Group", "User | Group | Extra"),
            ("type Group {", "type Group implements Node {"),
        ]);
    }

    #[test]
    fn removed_types() {
        breaks(
            &[("type Group { id: ID! }", "")],
            "type Group (object) was removed",
        );
        breaks(&[("scalar Date", "")], "type Date (scalar) was removed");
        breaks(
            &[("enum Role { ADMIN STAFF GUEST @deprecated }", "")],
            "type Role (enum) was removed",
        );
        allowed(&[("type Legacy @deprecated { id: ID! }", "")]);
    }

    #[test]
    fn changed_kinds() {
        breaks(
            &[("type Group { id: ID! }", "input Group { id: ID! }")],
            "type Group changed kind from object to input object",
        );
        breaks(
            &[("scalar Date", "enum Date { TODAY }")],
            "type Date changed kind from scalar to enum",
        );
    }

    #[test]
    fn removed_and_renamed_fields() {
        breaks(&[("email: String\n", "")], "field User.email was removed");
        breaks(
            &[("email: String\n", "mail: String\n")],
            "field User.email was removed",
        );
        breaks(
            &[(
                "interface Named { name: String }",
                "interface Named { title: String }",
            )],
            "field Named.name was removed",
        );
        allowed(&[("oldName: String @deprecated", "")]);
        allowed(&[("legacy: String @deprecated(reason: \"gone soon\")", "")]);
    }

    #[test]
    fn output_field_types() {
        allowed(&[("name: String\n  ", "name: String!\n  ")]);
        allowed(&[("): User\n", "): User!\n")]);
        breaks(
            &[("id: ID!\n          name", "id: ID\n          name")],
            "field User.id changed type from ID! to ID",
        );
        breaks(
            &[("email: String\n", "email: ID\n")],
            "field User.email changed type from String to ID",
        );
        breaks(
            &[("email: String\n", "email: [String]\n")],
            "field User.email changed type from String to [String]",
        );
        breaks(
            &[("[User!]!\n", "[User]!\n")],
            "field Query.users changed type from [User!]! to [User]!",
        );
    }

    #[test]
    fn arguments() {
        breaks(
            &[("user(id: ID!, verbose: Boolean)", "user(id: ID!)")],
            "argument Query.user(verbose:) was removed",
        );
        allowed(&[("term: String!, mode: String @deprecated", "term: String!")]);
        allowed(&[("user(id: ID!,", "user(id: ID,")]);
        breaks(
            &[("verbose: Boolean)", "verbose: Boolean!)")],
            "argument Query.user(verbose:) changed type from Boolean to Boolean!",
        );
        breaks(
            &[("user(id: ID!,", "user(id: String!,")],
            "argument Query.user(id:) changed type from ID! to String!",
        );
        breaks(
            &[("verbose: Boolean)", "verbose: Boolean, limit: Int!)")],
            "argument Query.user(limit:) was added as non-null without a default (Int!)",
        );
        allowed(&[("verbose: Boolean)", "verbose: Boolean, limit: Int! = 10)")]);
        breaks(
            &[("first: Int! = 20", "first: Int!")],
            "argument Query.users(first:) (Int!) lost its default value",
        );
    }

    #[test]
    fn input_fields() {
        breaks(
            &[("email: String, nick", "nick")],
            "input field UserInput.email was removed",
        );
        allowed(&[(", nick: String @deprecated", "")]);
        allowed(&[("{ name: String!,", "{ name: String,")]);
        breaks(
            &[("email: String,", "email: String!,")],
            "input field UserInput.email changed type from String to String!",
        );
        breaks(
            &[("{ name: String!,", "{ name: [String!],")],
            "input field UserInput.name changed type from String! to [String!]",
        );
        breaks(
            &[("email: String,", "email: String, age: Int!,")],
            "input field UserInput.age was added as non-null without a default (Int!)",
        );
        allowed(&[(
            "email: String,",
            "email: String, age: Int! = 0, nickname: String,",
        )]);
    }

    #[test]
    fn enum_values() {
        breaks(
            &[("ADMIN STAFF", "ADMIN")],
            "enum value Role.STAFF was removed",
        );
        allowed(&[(" GUEST @deprecated", "")]);
    }

    #[test]
    fn union_members_and_interfaces() {
        breaks(
            &[("= User | Group", "= User")],
            "union SearchResult no longer includes Group",
        );
        breaks(
            &[("implements Node & Named", "implements Node")],
            "type User no longer implements Named",
        );
    }

    #[test]
    fn type_extensions_are_merged() {
        let split = BASE.replace(
            "email: String\n",
            "email: String\n }\n extend type User {\n",
        );
        assert_eq!(
            breaking_changes(BASE, &split).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            breaking_changes(&split, BASE).unwrap(),
            Vec::<String>::new()
        );
    }
}
