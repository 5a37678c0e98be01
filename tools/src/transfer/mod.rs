//! `kakehashi import` and `kakehashi export`: moving records in and out through the public API,
//! as an integrator would, with an API key (or any access token). Going through the API means
//! the same authorization, validation, audit and events as every other write.
//!
//! **Import** reads CSV (with a header row) or JSON Lines, maps columns onto the fields of
//! `importClients` / `importObservations`, and sends batches. Plans (`--kind plans`, JSON Lines
//! only: a plan is a nested document) go one `createSupportPlan` per line ([`plans`]). Every item is keyed by its
//! external id, so a batch sent twice changes nothing; after each committed batch the number of
//! records done is written to `<file>.progress.json`. An interrupted import, run again, skips
//! what was done (a batch that committed just before the interruption is simply answered
//! `UNCHANGED`). Refused items are written to `<file>.errors.jsonl` with their line.
//!
//! **Export** writes a client's complete history as one JSON document. The selections are
//! generated from the schema compiled into the binary (every field a client may read, except
//! derived analyses and paginated lists, which are fetched page by page), so the export follows
//! the schema as it grows.

use std::{
    collections::{HashMap, HashSet},
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};
use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

mod export;
mod files;
mod plans;

pub use export::{ClientSelector, export};
pub use files::{Format, TextEncoding, read_text};
use files::{fingerprint, records, side_file};

/// Where and as whom to talk to the server.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `http(s)://host:port/graphql`.
    pub url: String,
    /// An API key (`kkh_…`) or an access token.
    pub token: String,
}

/// What an import file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    Clients,
    Observations,
    /// Support plans with their form fields, one `CreateSupportPlanInput` per JSON line.
    Plans,
}

/// Options of one import run.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub file: PathBuf,
    pub kind: ImportKind,
    pub format: Format,
    /// The text encoding (auto-detected by default).
    pub encoding: TextEncoding,
    /// Records per request.
    pub batch: usize,
    /// Source column → field renames (`--map 記録ID=externalId`).
    pub renames: HashMap<String, String>,
    /// Ignore a saved position and start from the first record.
    pub restart: bool,
    /// Show a progress bar (when standard error is a terminal).
    pub progress: bool,
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub records: usize,
    pub skipped_as_done: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub failed: usize,
}

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} records: {} created, {} updated, {} unchanged, {} failed",
            self.records, self.created, self.updated, self.unchanged, self.failed
        )?;
        if self.skipped_as_done > 0 {
            write!(
                f,
                " ({} already done in an earlier run)",
                self.skipped_as_done
            )?;
        }
        Ok(())
    }
}

/// Fields of each kind, as GraphQL names them; snake_case headers are accepted too.
const CLIENT_FIELDS: &[&str] = &[
    "externalId",
    "displayName",
    "nameKana",
    "birthDate",
    "supportCategory",
    "wishes",
    "familyContacts",
    "serviceType",
    "startDate",
];
const OBSERVATION_FIELDS: &[&str] = &[
    "externalId",
    "clientId",
    "clientExternalId",
    "fact",
    "interpretation",
    "clientWords",
    "category",
    "occurredFrom",
    "occurredTo",
    "visibility",
    "tags",
];

fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.trim().chars() {
        if c == '_' || c == '-' || c == ' ' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A time as the API wants it (RFC 3339). Spreadsheet times without an offset
/// (`2026/11/20 14:30`, `2026-11-20 14:30:00`) are read as Japan time.
pub fn normalize_time(text: &str) -> Option<String> {
    let t = text.trim();
    if chrono::DateTime::parse_from_rfc3339(t).is_ok() {
        return Some(t.to_owned());
    }
    const FORMATS: [&str; 6] = [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ];
    let naive = FORMATS
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(t, f).ok())?;
    Some(format!("{}+09:00", naive.format("%Y-%m-%dT%H:%M:%S")))
}

/// Values the API's enums accept (checked here, so one bad cell cannot fail a whole batch).
const CATEGORIES: &[&str] = &[
    "CHANGE",
    "STABLE",
    "UNSTABLE",
    "RISK_SIGN",
    "ROUTINE",
    "SAFEGUARDING",
];
const VISIBILITIES: &[&str] = &["INTERNAL", "CONSULTATION", "CARE_TEAM"];

/// A record that cannot become an item, with the field to blame.
#[derive(Debug, PartialEq, Eq)]
struct BadRecord {
    field: Option<&'static str>,
    message: String,
}

fn bad(field: &'static str, message: impl Into<String>) -> BadRecord {
    BadRecord {
        field: Some(field),
        message: message.into(),
    }
}

/// Turns one record's raw fields into an import item; required fields and enum values are
/// checked here, everything else by the server.
fn item(
    kind: ImportKind,
    raw: Map<String, Value>,
    renames: &HashMap<String, String>,
) -> Result<Value, BadRecord> {
    let required: &[&'static str] = match kind {
        ImportKind::Clients => &["externalId", "displayName", "nameKana"],
        ImportKind::Observations => &["externalId", "fact", "category", "occurredFrom"],
        ImportKind::Plans => return plans::item(raw),
    };
    let v = item_fields(kind, raw, renames)?;
    let content = v.get("content").unwrap_or(&v);
    for f in required {
        if v.get(*f).or_else(|| content.get(*f)).is_none() {
            return Err(bad(f, format!("{f} is required")));
        }
    }
    Ok(v)
}

fn item_fields(
    kind: ImportKind,
    raw: Map<String, Value>,
    renames: &HashMap<String, String>,
) -> Result<Value, BadRecord> {
    let known = match kind {
        ImportKind::Clients => CLIENT_FIELDS,
        ImportKind::Observations => OBSERVATION_FIELDS,
        ImportKind::Plans => return plans::item(raw),
    };
    let mut fields = Map::new();
    for (k, v) in raw {
        let name = renames.get(k.trim()).cloned().unwrap_or_else(|| camel(&k));
        if !known.contains(&name.as_str()) {
            return Err(BadRecord {
                field: None,
                message: format!("unknown column {k:?} (map it with --map '{k}=<field>')"),
            });
        }
        // Empty cells mean "not given".
        if v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty()) {
            continue;
        }
        fields.insert(name, v);
    }
    let text = |fields: &Map<String, Value>, k: &str| {
        fields.get(k).and_then(Value::as_str).map(str::to_owned)
    };
    match kind {
        ImportKind::Clients => {
            if let Some(Value::String(s)) = fields.get("supportCategory") {
                let n: i64 = s.trim().parse().map_err(|_| {
                    bad(
                        "supportCategory",
                        "supportCategory must be a number from 1 to 6",
                    )
                })?;
                fields.insert("supportCategory".into(), json!(n));
            }
            if let Some(Value::String(s)) = fields.get("familyContacts") {
                let v: Value = serde_json::from_str(s)
                    .map_err(|_| bad("familyContacts", "familyContacts must be a JSON array"))?;
                fields.insert("familyContacts".into(), v);
            }
            Ok(Value::Object(fields))
        }
        ImportKind::Observations => {
            let mut content = Map::new();
            for k in [
                "fact",
                "interpretation",
                "clientWords",
                "category",
                "visibility",
            ] {
                if let Some(v) = fields.remove(k) {
                    let v = match (k, v) {
                        ("category", Value::String(s)) => enum_value("category", &s, CATEGORIES)?,
                        ("visibility", Value::String(s)) => {
                            enum_value("visibility", &s, VISIBILITIES)?
                        }
                        (_, v) => v,
                    };
                    content.insert(k.into(), v);
                }
            }
            for k in ["occurredFrom", "occurredTo"] {
                if let Some(v) = fields.remove(k) {
                    let field = if k == "occurredFrom" {
                        "occurredFrom"
                    } else {
                        "occurredTo"
                    };
                    let s = v
                        .as_str()
                        .ok_or_else(|| bad(field, format!("{k} must be a time")))?;
                    let t = normalize_time(s).ok_or_else(|| {
                        bad(
                            field,
                            format!("{k}: {s:?} is not a time like 2026-11-20T14:30:00+09:00"),
                        )
                    })?;
                    content.insert(k.into(), json!(t));
                }
            }
            if let Some(v) = fields.remove("tags") {
                let tags: Vec<String> = match v {
                    Value::String(s) => s
                        .split('|')
                        .map(|t| t.trim().to_owned())
                        .filter(|t| !t.is_empty())
                        .collect(),
                    Value::Array(a) => a
                        .into_iter()
                        .filter_map(|t| t.as_str().map(str::to_owned))
                        .collect(),
                    _ => return Err(bad("tags", "tags must be a list or text separated by |")),
                };
                content.insert("tags".into(), json!(tags));
            }
            let mut out = Map::new();
            for k in ["externalId", "clientId", "clientExternalId"] {
                if let Some(v) = text(&fields, k) {
                    out.insert(k.into(), json!(v));
                }
            }
            out.insert("content".into(), Value::Object(content));
            Ok(Value::Object(out))
        }
        ImportKind::Plans => plans::item(Map::new()),
    }
}

fn enum_value(field: &'static str, text: &str, allowed: &[&str]) -> Result<Value, BadRecord> {
    let v = text.trim().to_uppercase();
    if allowed.contains(&v.as_str()) {
        Ok(json!(v))
    } else {
        Err(bad(
            field,
            format!("{field} must be one of {}", allowed.join(", ")),
        ))
    }
}

/// Posts one GraphQL operation; top-level errors become an `Err` with their codes.
async fn post(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    query: &str,
    variables: Value,
) -> anyhow::Result<Value> {
    let body = post_raw(http, endpoint, query, variables).await?;
    if let Some(errors) = body
        .get("errors")
        .and_then(Value::as_array)
        .filter(|e| !e.is_empty())
    {
        let text: Vec<String> = errors
            .iter()
            .map(|e| {
                format!(
                    "{} ({})",
                    e["message"].as_str().unwrap_or("error"),
                    e["extensions"]["code"].as_str().unwrap_or("?")
                )
            })
            .collect();
        bail!("the server refused the request: {}", text.join("; "));
    }
    Ok(body["data"].clone())
}

/// Posts one GraphQL operation and returns the whole answer, errors included.
async fn post_raw(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    query: &str,
    variables: Value,
) -> anyhow::Result<Value> {
    let res = http
        .post(&endpoint.url)
        .bearer_auth(&endpoint.token)
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .with_context(|| format!("sending the request to {}", endpoint.url))?;
    let status = res.status();
    res.json()
        .await
        .with_context(|| format!("reading the answer (HTTP {status})"))
}

const IMPORT_CLIENTS: &str = "mutation ImportClients($items: [RegisterClientInput!]!) { importClients(input: {items: $items}) { committed items { index outcome error { code field message } } } }";
const IMPORT_OBSERVATIONS: &str = "mutation ImportObservations($items: [ObservationImportItem!]!) { importObservations(input: {items: $items}) { committed items { index outcome error { code field message } } } }";

/// Runs an import; see the module documentation.
pub async fn import(endpoint: &Endpoint, opts: &ImportOptions) -> anyhow::Result<ImportSummary> {
    let all = records(opts)?;
    let fingerprint = fingerprint(&opts.file)?;
    let progress_path = side_file(&opts.file, ".progress.json");
    let errors_path = side_file(&opts.file, ".errors.jsonl");
    let mut done = 0usize;
    if !opts.restart
        && let Ok(text) = fs::read_to_string(&progress_path)
        && let Ok(saved) = serde_json::from_str::<Value>(&text)
        && saved["sha256"] == json!(fingerprint)
    {
        done = saved["done"]
            .as_u64()
            .and_then(|d| usize::try_from(d).ok())
            .unwrap_or(0)
            .min(all.len());
    }
    if done == 0 {
        let _ = fs::remove_file(&errors_path);
    }
    let mut summary = ImportSummary {
        records: all.len(),
        skipped_as_done: done,
        ..Default::default()
    };
    let bar = if opts.progress {
        ProgressBar::new(all.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} records ({per_sec}, {eta} left) {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_position(done as u64);
    let http = reqwest::Client::new();
    let (query, field) = match opts.kind {
        ImportKind::Clients => (IMPORT_CLIENTS, "importClients"),
        ImportKind::Observations => (IMPORT_OBSERVATIONS, "importObservations"),
        ImportKind::Plans => ("", ""),
    };
    let mut plan_import = plans::PlanImport::default();
    let mut errors = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&errors_path)
        .with_context(|| format!("opening {}", errors_path.display()))?;
    for batch in all[done..].chunks(opts.batch.max(1)) {
        // Items that cannot even be read are reported here and not sent.
        let mut sent_lines = Vec::new();
        let mut items = Vec::new();
        for (line, raw) in batch {
            match item(opts.kind, raw.clone(), &opts.renames) {
                Ok(v) => {
                    sent_lines.push(*line);
                    items.push(v);
                }
                Err(e) => {
                    summary.failed += 1;
                    writeln!(
                        errors,
                        "{}",
                        json!({ "line": line, "code": "BAD_USER_INPUT", "field": e.field, "message": e.message })
                    )?;
                }
            }
        }
        if !items.is_empty() {
            let results = if opts.kind == ImportKind::Plans {
                plan_import.send(&http, endpoint, items).await?
            } else {
                let mut data = post(&http, endpoint, query, json!({ "items": items })).await?;
                match data[field]["items"].take() {
                    Value::Array(results) => results,
                    _ => Vec::new(),
                }
            };
            for r in &results {
                let line = r["index"]
                    .as_u64()
                    .and_then(|i| sent_lines.get(usize::try_from(i).ok()?))
                    .copied();
                match r["outcome"].as_str() {
                    Some("CREATED") => summary.created += 1,
                    Some("UPDATED") => summary.updated += 1,
                    Some("UNCHANGED") => summary.unchanged += 1,
                    _ => {
                        summary.failed += 1;
                        writeln!(
                            errors,
                            "{}",
                            json!({ "line": line, "code": r["error"]["code"], "field": r["error"]["field"], "message": r["error"]["message"] })
                        )?;
                    }
                }
            }
        }
        done += batch.len();
        let tmp = side_file(&progress_path, ".tmp");
        fs::write(
            &tmp,
            json!({ "sha256": fingerprint, "done": done }).to_string(),
        )?;
        fs::rename(&tmp, &progress_path)?;
        bar.set_position(done as u64);
    }
    bar.finish_and_clear();
    // Finished: the next run of the same file is a fresh (idempotent) replay.
    let _ = fs::remove_file(&progress_path);
    if summary.failed == 0 {
        let _ = fs::remove_file(&errors_path);
    }
    Ok(summary)
}

#[cfg(test)]
mod tests;
