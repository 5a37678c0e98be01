//! The layering of ARCHITECTURE.md, checked on the source: every `crate::` path in the server
//! library points down the stack, the database crates know nothing of the server, and no source
//! file outgrows what a reader takes in at once. A new top-level module fails here until it is
//! given its layer (here and in ARCHITECTURE.md).

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

/// The server library's top-level modules, top of the stack first. A module may import only
/// modules of a lower rank (and itself); modules of one rank do not import each other.
const LAYERS: &[(&str, u8)] = &[
    ("http", 8),
    ("graphql", 7),
    ("realtime", 6),
    ("service", 5),
    ("config", 4),
    ("auth", 3),
    ("language", 3),
    ("db", 2),
    ("metrics", 2),
    ("persisted", 2),
    ("error", 1),
];

/// The service layer's rank: it and everything below it is free of transport types.
const SERVICE: u8 = 5;

/// Source files this long are split by concept (tests apart).
const MAX_LINES: usize = 600;

/// The only service files that may use async-graphql: the value documents stored as JSON whose
/// shape is the API's (ARCHITECTURE.md, "One exception").
const GRAPHQL_DERIVES_IN_SERVICE: &[&str] = &["service/documents.rs", "service/documents/forms.rs"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rank(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, r)| *r)
}

/// The `.rs` files under `dir`, relative to it, with their text.
fn sources(dir: &Path) -> Vec<(String, String)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()));
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(base, &path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(base)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .replace('\\', "/");
                let text = fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
                out.push((rel, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

/// A test module file (`tests.rs`, anything under `tests/`).
fn is_test_file(rel: &str) -> bool {
    rel.ends_with("/tests.rs") || rel.contains("/tests/")
}

/// The code of a file without comments and without its `#[cfg(test)]` module (which sits at
/// the end by convention).
fn code(text: &str) -> String {
    let before_tests = text.split("#[cfg(test)]").next().unwrap_or(text);
    before_tests
        .lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a piece of code names through `crate::` paths, grouped imports
/// (`use crate::{a::X, b}`) included.
fn crate_targets(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            // Names at depth one of the brace group.
            let mut depth = 1;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
                if depth == 1 && c == ',' {
                    push_first_name(&item, &mut out);
                    item.clear();
                } else if depth == 1 {
                    item.push(c);
                }
            }
            push_first_name(&item, &mut out);
        } else {
            push_first_name(after, &mut out);
        }
        rest = after;
    }
    out.remove("self");
    out
}

fn push_first_name(s: &str, out: &mut BTreeSet<String>) {
    let name: String = s
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if !name.is_empty() {
        out.insert(name);
    }
}

/// The top-level module a file of `api/src` belongs to (`None` for `lib.rs`, the top).
fn module_of(rel: &str) -> Option<String> {
    if rel == "lib.rs" {
        return None;
    }
    let first = rel.split('/').next().unwrap_or(rel);
    Some(first.trim_end_matches(".rs").to_owned())
}

#[test]
fn imports_point_down_the_layers() {
    let src = root().join("api/src");
    let mut violations = Vec::new();
    for (rel, text) in sources(&src) {
        if is_test_file(&rel) {
            continue;
        }
        let Some(module) = module_of(&rel) else {
            continue;
        };
        let Some(own) = rank(&module) else {
            violations.push(format!(
                "{rel}: module `{module}` has no layer (add it to ARCHITECTURE.md and LAYERS)"
            ));
            continue;
        };
        for target in crate_targets(&code(&text)) {
            if target == module {
                continue;
            }
            match rank(&target) {
                // Items of lib.rs (re-exports, the server) sit at the top.
                None if target.chars().next().is_some_and(char::is_uppercase)
                    || target == "build_state"
                    || target == "Server" =>
                {
                    violations.push(format!("{rel} ({module}) uses the crate root's `{target}`"));
                }
                None => {
                    violations.push(format!("{rel}: `crate::{target}` is not a known module"));
                }
                Some(r) if r >= own => violations.push(format!(
                    "{rel} ({module}, layer {own}) imports `{target}` (layer {r})"
                )),
                Some(_) => {}
            }
        }
    }
    assert!(
        violations.is_empty(),
        "imports against the layering (ARCHITECTURE.md):\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_checker_sees_grouped_and_nested_imports() {
    // The checker above is only as good as its reading of paths: prove it on the forms used.
    let code = code(
        "use crate::{\n    error::{ApiError, ApiResult},\n    graphql::ids, // crate::http\n};\n\
         fn f() { crate::service::x(); }\n#[cfg(test)]\nmod tests { use crate::realtime; }",
    );
    let found: Vec<_> = crate_targets(&code).into_iter().collect();
    assert_eq!(found, ["error", "graphql", "service"]);
}

#[test]
fn service_and_below_use_no_transport_types() {
    let src = root().join("api/src");
    let mut violations = Vec::new();
    for (rel, text) in sources(&src) {
        let Some(module) = module_of(&rel) else {
            continue;
        };
        if is_test_file(&rel) || rank(&module).is_none_or(|r| r > SERVICE) {
            continue;
        }
        let code = code(&text);
        if code.contains("async_graphql") && !GRAPHQL_DERIVES_IN_SERVICE.contains(&rel.as_str()) {
            // `error` converts its errors into GraphQL errors (its one job at the boundary).
            if module != "error" {
                violations.push(format!("{rel} uses async_graphql"));
            }
        }
        // Authentication reads the Authorization header's value (`auth` takes a `HeaderMap`).
        if code.contains("axum") && module != "auth" {
            violations.push(format!("{rel} uses axum"));
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn database_crates_know_nothing_of_the_server() {
    for krate in ["entity", "migration"] {
        let manifest = fs::read_to_string(root().join(krate).join("Cargo.toml"))
            .unwrap_or_else(|e| panic!("reading {krate}/Cargo.toml: {e}"));
        assert!(
            !manifest.contains("kakehashi"),
            "{krate}/Cargo.toml depends on the server"
        );
        for (rel, text) in sources(&root().join(krate).join("src")) {
            assert!(
                !text.contains("kakehashi::"),
                "{krate}/src/{rel} names the server crate"
            );
        }
    }
}

#[test]
fn no_source_file_outgrows_one_concept() {
    let src = root().join("api/src");
    let long: Vec<_> = sources(&src)
        .into_iter()
        .filter(|(rel, _)| !is_test_file(rel))
        .map(|(rel, text)| (rel, text.lines().count()))
        .filter(|(_, n)| *n > MAX_LINES)
        .map(|(rel, n)| format!("{rel}: {n} lines"))
        .collect();
    assert!(
        long.is_empty(),
        "split these by concept (at most {MAX_LINES} lines):\n{}",
        long.join("\n")
    );
}
