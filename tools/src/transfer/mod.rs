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

mod plans;

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

/// The file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

impl Format {
    /// From the extension: `.csv`, else JSON Lines (`.jsonl`, `.ndjson`, `.json`).
    pub fn of(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("csv") => Self::Csv,
            _ => Self::JsonLines,
        }
    }
}

/// The file's text encoding. Excel on a Japanese PC saves "CSV (コンマ区切り)" as Shift_JIS
/// (Windows code page 932); "CSV UTF-8" and most other tools write UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextEncoding {
    /// A byte-order mark decides; else UTF-8 if the bytes are valid UTF-8; else Shift_JIS
    /// (CP932) if they are valid there; else EUC-JP.
    #[default]
    Auto,
    Utf8,
    /// Shift_JIS as Windows writes it (CP932, with the NEC and IBM extensions such as ①, ㈱).
    ShiftJis,
    EucJp,
}

impl TextEncoding {
    fn encoding(self) -> Option<&'static encoding_rs::Encoding> {
        match self {
            Self::Auto => None,
            Self::Utf8 => Some(encoding_rs::UTF_8),
            // encoding_rs's Shift_JIS is the WHATWG one, which is CP932.
            Self::ShiftJis => Some(encoding_rs::SHIFT_JIS),
            Self::EucJp => Some(encoding_rs::EUC_JP),
        }
    }
}

/// What to call an encoding in messages.
fn encoding_label(e: &'static encoding_rs::Encoding) -> &'static str {
    if e == encoding_rs::SHIFT_JIS {
        "Shift_JIS (CP932)"
    } else {
        e.name()
    }
}

/// The file as text, and the encoding it was read in. A file that is not valid text in the
/// chosen (or any detected) encoding is refused with the line of its first bad byte and the fix;
/// nothing is guessed.
pub fn read_text(path: &Path, encoding: TextEncoding) -> anyhow::Result<(String, &'static str)> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let name = path.display();
    let decode = |e: &'static encoding_rs::Encoding, body: &[u8]| {
        e.decode_without_bom_handling_and_without_replacement(body)
            .map(|t| t.into_owned())
    };
    if let Some((bom_encoding, bom_len)) = encoding_rs::Encoding::for_bom(&bytes)
        && encoding == TextEncoding::Auto
    {
        return decode(bom_encoding, &bytes[bom_len..])
            .map(|t| (t, encoding_label(bom_encoding)))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{name}: line {} is not valid {} although the file starts with its byte-order mark. Save it again as \"CSV UTF-8\".",
                    first_bad_line(&bytes[bom_len..], bom_encoding),
                    encoding_label(bom_encoding)
                )
            });
    }
    let body = bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(&bytes);
    let candidates: Vec<&'static encoding_rs::Encoding> = match encoding.encoding() {
        Some(e) => vec![e],
        None => vec![
            encoding_rs::UTF_8,
            encoding_rs::SHIFT_JIS,
            encoding_rs::EUC_JP,
        ],
    };
    for &e in &candidates {
        if let Some(text) = decode(e, body) {
            return Ok((text, encoding_label(e)));
        }
    }
    let first = candidates[0];
    match encoding {
        TextEncoding::Auto => bail!(
            "{name}: line {} is neither UTF-8 nor Shift_JIS (CP932) nor EUC-JP text. Save it from Excel as \"CSV UTF-8 (コンマ区切り)\", or name its encoding with --encoding.",
            first_bad_line(body, encoding_rs::UTF_8)
        ),
        _ => bail!(
            "{name}: line {} is not valid {} text. Check the file's encoding (--encoding auto detects UTF-8, Shift_JIS and EUC-JP).",
            first_bad_line(body, first),
            encoding_label(first)
        ),
    }
}

/// The 1-based line holding the first byte that is not valid in `e`.
fn first_bad_line(body: &[u8], e: &'static encoding_rs::Encoding) -> usize {
    let mut decoder = e.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(body.len() * 3);
    let (result, read) = decoder.decode_to_string_without_replacement(body, &mut out, true);
    let at = match result {
        encoding_rs::DecoderResult::Malformed(bad, _) => read.saturating_sub(usize::from(bad)),
        _ => read,
    };
    1 + body[..at.min(body.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
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

/// Reads every record of the file as (line number, raw fields).
fn records(opts: &ImportOptions) -> anyhow::Result<Vec<(usize, Map<String, Value>)>> {
    let (text, encoding) = read_text(&opts.file, opts.encoding)?;
    if opts.progress {
        eprintln!("reading {} as {encoding}", opts.file.display());
    }
    if opts.kind == ImportKind::Plans && opts.format == Format::Csv {
        bail!(
            "{}: plans are nested documents (needs, goals, weekly plan); give them as JSON Lines, one CreateSupportPlanInput per line",
            opts.file.display()
        );
    }
    // A plan keeps its `content`; the other kinds accept it flattened beside flat columns.
    let flatten = opts.kind != ImportKind::Plans;
    parse_records(&text, opts.format, flatten)
        .map_err(|e| anyhow::anyhow!("{}: {e}", opts.file.display()))
}

/// The records of a file's text. Each error names its line and what to do about it.
fn parse_records(
    text: &str,
    format: Format,
    flatten: bool,
) -> anyhow::Result<Vec<(usize, Map<String, Value>)>> {
    let mut out = Vec::new();
    match format {
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .flexible(false)
                .from_reader(text.as_bytes());
            let headers = reader
                .headers()
                .map_err(|e| anyhow::anyhow!("line 1 (the header row) cannot be read: {e}"))?
                .clone();
            for (i, rec) in reader.records().enumerate() {
                let rec = rec.map_err(|e| match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        pos,
                        expected_len,
                        len,
                    } => anyhow::anyhow!(
                        "line {} has {len} cells where the header has {expected_len}: put a cell that holds a comma or a line break in double quotes (\"…\"), as Excel does",
                        pos.as_ref().map_or(i + 2, |p| usize::try_from(p.line()).unwrap_or(0))
                    ),
                    _ => anyhow::anyhow!("record {} cannot be read: {e}", i + 1),
                })?;
                let line = rec
                    .position()
                    .map_or(i + 2, |p| usize::try_from(p.line()).unwrap_or(0));
                let map = headers
                    .iter()
                    .zip(rec.iter())
                    .map(|(h, v)| (h.trim_start_matches('\u{feff}').to_owned(), json!(v)))
                    .collect();
                out.push((line, map));
            }
        }
        Format::JsonLines => {
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Value>(line) {
                    Ok(Value::Object(m)) if !flatten => out.push((i + 1, m)),
                    Ok(Value::Object(m)) => out.push((
                        i + 1,
                        flatten_content(m).map_err(|e| anyhow::anyhow!("line {}: {e}", i + 1))?,
                    )),
                    Ok(_) => bail!(
                        "line {} is not a JSON object: each line holds one record as {{…}}",
                        i + 1
                    ),
                    Err(e) => bail!(
                        "line {} is not valid JSON ({e}): each line holds one record as {{…}}, with no line breaks inside it",
                        i + 1
                    ),
                }
            }
        }
    }
    Ok(out)
}

/// Accepts the API's own nested shape (`{"externalId", "clientExternalId", "content": {"fact",
/// …}}`, as `importObservations` takes it) as well as flat columns: the content's fields join the
/// record's.
fn flatten_content(mut record: Map<String, Value>) -> anyhow::Result<Map<String, Value>> {
    match record.remove("content") {
        None => Ok(record),
        Some(Value::Object(content)) => {
            for (k, v) in content {
                if record.contains_key(&k) {
                    bail!("{k:?} is given both inside \"content\" and beside it");
                }
                record.insert(k, v);
            }
            Ok(record)
        }
        Some(_) => bail!("\"content\" must be an object of the record's fields"),
    }
}

fn fingerprint(path: &Path) -> anyhow::Result<String> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

fn side_file(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
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

/// Fields never exported: analyses computed on demand, the viewer-relative ones, and the
/// paginated lists fetched separately.
const NOT_EXPORTED: &[&str] = &[
    "materials",
    "freshness",
    "reciprocity",
    "planAlignment",
    "factCheck",
    "axisCheck",
    "rendering",
    "history",
    "dueItems",
    "accessHistory",
    "recentObservations",
    "observations",
    "client",
    "previousDirection",
    "briefArrivals",
];

/// The schema compiled into this binary, for generating selections.
struct SchemaIndex {
    types: HashMap<String, TypeKind>,
}

fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(n) => n.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

impl SchemaIndex {
    fn new() -> anyhow::Result<Self> {
        let doc = async_graphql::parser::parse_schema(kakehashi::graphql::sdl())
            .context("parsing the built-in schema")?;
        let mut types = HashMap::new();
        for d in doc.definitions {
            if let TypeSystemDefinition::Type(t) = d {
                types.insert(t.node.name.node.to_string(), t.node.kind);
            }
        }
        Ok(Self { types })
    }

    fn is_leaf(&self, name: &str) -> bool {
        matches!(
            self.types.get(name),
            None | Some(TypeKind::Scalar | TypeKind::Enum(_))
        )
    }

    /// Every readable field of `type_name`, objects to `depth` levels (leaves only at 0).
    fn selection(&self, type_name: &str, depth: u32, skip: &HashSet<&str>) -> String {
        let mut parts = Vec::new();
        match self.types.get(type_name) {
            Some(TypeKind::Object(o)) => {
                for f in &o.fields {
                    let f = &f.node;
                    let name = f.name.node.as_str();
                    let needs_args = f
                        .arguments
                        .iter()
                        .any(|a| !a.node.ty.node.nullable && a.node.default_value.is_none());
                    let child = named(&f.ty.node);
                    if skip.contains(name)
                        || NOT_EXPORTED.contains(&name)
                        || needs_args
                        || child.ends_with("Connection")
                    {
                        continue;
                    }
                    if self.is_leaf(child) {
                        parts.push(name.to_owned());
                    } else if depth > 0 {
                        let inner = self.selection(child, depth - 1, &HashSet::new());
                        if !inner.is_empty() {
                            parts.push(format!("{name} {{ {inner} }}"));
                        }
                    }
                }
            }
            Some(TypeKind::Union(u)) => {
                parts.push("__typename".into());
                for m in &u.members {
                    let inner = self.selection(m.node.as_str(), depth, &HashSet::new());
                    if !inner.is_empty() {
                        parts.push(format!("... on {} {{ {inner} }}", m.node));
                    }
                }
            }
            _ => {}
        }
        parts.join(" ")
    }
}

/// Exports one client's complete history (as the endpoint's organization may see it).
pub async fn export(endpoint: &Endpoint, client: ClientSelector) -> anyhow::Result<Value> {
    let http = reqwest::Client::new();
    let schema = SchemaIndex::new()?;
    let id = match client {
        ClientSelector::Id(id) => id,
        ClientSelector::External(ext) => {
            let data = post(
                &http,
                endpoint,
                "query ExportFind($e: String!) { clientByExternalId(externalId: $e) { id } }",
                json!({ "e": ext }),
            )
            .await?;
            data["clientByExternalId"]["id"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| anyhow::anyhow!("no client has the external id {ext:?}"))?
        }
    };
    let lists = ["supportPlans", "meetings", "monitoringReports"];
    let profile = schema.selection("Client", 3, &lists.into_iter().collect());
    let data = post(
        &http,
        endpoint,
        &format!("query ExportClient($id: ID!) {{ client(id: $id) {{ {profile} }} }}"),
        json!({ "id": id }),
    )
    .await?;
    let mut out = Map::new();
    out.insert("format".into(), json!("kakehashi-client-export"));
    out.insert("version".into(), json!(1));
    out.insert("exportedAt".into(), json!(chrono::Utc::now().to_rfc3339()));
    out.insert("client".into(), data["client"].clone());
    for list in lists {
        let type_name = match list {
            "supportPlans" => "SupportPlan",
            "meetings" => "Meeting",
            _ => "MonitoringReport",
        };
        let sel = schema.selection(type_name, 3, &HashSet::new());
        let data = post(
            &http,
            endpoint,
            &format!("query ExportList($id: ID!) {{ client(id: $id) {{ {list} {{ {sel} }} }} }}"),
            json!({ "id": id }),
        )
        .await?;
        out.insert(list.into(), data["client"][list].clone());
    }
    let sel = schema.selection("Observation", 2, &HashSet::new());
    let query = format!(
        "query ExportObservations($id: ID!, $after: String) {{ client(id: $id) {{ observations(first: 100, after: $after, includeEnteredInError: true) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {sel} }} }} }} }}"
    );
    let mut observations = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = post(&http, endpoint, &query, json!({ "id": id, "after": after })).await?;
        let page = &data["client"]["observations"];
        observations.extend(page["nodes"].as_array().cloned().unwrap_or_default());
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    out.insert("observations".into(), Value::Array(observations));
    Ok(Value::Object(out))
}

/// How `export` names the client.
#[derive(Debug, Clone)]
pub enum ClientSelector {
    Id(String),
    External(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("記録.csv");
        fs::write(&path, bytes).unwrap();
        (dir, path)
    }

    const CSV: &str = "記録ID,事実,分類\nR1,昼食を全量食べた。①,routine\nR2,\"10:20 大声を出し、床に座った\",unstable\n";

    #[test]
    fn excel_shift_jis_csv_is_read_as_written() {
        let (sjis, _, unmappable) = encoding_rs::SHIFT_JIS.encode(CSV);
        assert!(!unmappable);
        let (_dir, path) = file_with(&sjis);
        let (text, used) = read_text(&path, TextEncoding::Auto).unwrap();
        assert_eq!(text, CSV);
        assert_eq!(used, "Shift_JIS (CP932)");
        let (text, _) = read_text(&path, TextEncoding::ShiftJis).unwrap();
        assert_eq!(text, CSV);
        // Named wrongly, it is refused with its line, never guessed.
        let e = read_text(&path, TextEncoding::Utf8)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 1 is not valid UTF-8"), "{e}");
    }

    #[test]
    fn utf8_with_or_without_bom_and_euc_jp_are_read() {
        let (_dir, path) = file_with(CSV.as_bytes());
        assert_eq!(
            read_text(&path, TextEncoding::Auto).unwrap(),
            (CSV.into(), "UTF-8")
        );
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), CSV.as_bytes()].concat();
        let (_dir, path) = file_with(&with_bom);
        assert_eq!(read_text(&path, TextEncoding::Auto).unwrap().0, CSV);
        let euc = "記録ID,事実\nR1,夕食を半分残した。\n";
        let (bytes, _, _) = encoding_rs::EUC_JP.encode(euc);
        let (_dir, path) = file_with(&bytes);
        assert_eq!(read_text(&path, TextEncoding::EucJp).unwrap().0, euc);
    }

    #[test]
    fn unreadable_bytes_name_their_line_and_the_fix() {
        // Valid UTF-8 for two lines, then bytes no Japanese encoding reads.
        let bytes = [b"a,b\n1,2\n".as_slice(), &[0x80, 0xFF, 0xFE, b'\n']].concat();
        let (_dir, path) = file_with(&bytes);
        let e = read_text(&path, TextEncoding::Auto)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3"), "{e}");
        assert!(e.contains("CSV UTF-8"), "{e}");
    }

    #[test]
    fn csv_and_json_lines_errors_name_the_line() {
        let e = parse_records("a,b\n1,2\n1,2,3\n", Format::Csv, true)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 3 has 3 cells where the header has 2"),
            "{e}"
        );
        let e = parse_records("{\"a\":1}\n\n{\"a\":\n", Format::JsonLines, true)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("line 3 is not valid JSON"), "{e}");
        let e = parse_records("[1]\n", Format::JsonLines, true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 1 is not a JSON object"), "{e}");
    }

    #[test]
    fn the_apis_nested_shape_is_accepted_beside_flat_columns() {
        let nested = r#"{"externalId":"R-1","clientExternalId":"K-001","content":{"fact":"昼食を完食した。","category":"ROUTINE","occurredFrom":"2026-11-20T12:30:00+09:00","tags":["食事"]}}"#;
        let flat = r#"{"externalId":"R-1","clientExternalId":"K-001","fact":"昼食を完食した。","category":"ROUTINE","occurredFrom":"2026-11-20T12:30:00+09:00","tags":["食事"]}"#;
        let a = parse_records(nested, Format::JsonLines, true).unwrap();
        let b = parse_records(flat, Format::JsonLines, true).unwrap();
        let renames = HashMap::new();
        let items: Vec<Value> = [a, b]
            .into_iter()
            .map(|r| item(ImportKind::Observations, r[0].1.clone(), &renames).unwrap())
            .collect();
        assert_eq!(items[0], items[1]);
        assert_eq!(items[0]["content"]["fact"], "昼食を完食した。");
        let e = parse_records(
            r#"{"fact":"a","content":{"fact":"b"}}"#,
            Format::JsonLines,
            true,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 1") && e.contains("both inside"), "{e}");
    }

    #[test]
    fn spreadsheet_times_are_read_as_japan_time() {
        assert_eq!(
            normalize_time("2026-11-20T14:30:00+09:00").as_deref(),
            Some("2026-11-20T14:30:00+09:00")
        );
        assert_eq!(
            normalize_time("2026/11/20 14:30").as_deref(),
            Some("2026-11-20T14:30:00+09:00")
        );
        assert_eq!(
            normalize_time("2026-11-20 14:30:05").as_deref(),
            Some("2026-11-20T14:30:05+09:00")
        );
        assert_eq!(normalize_time("昨日"), None);
    }

    #[test]
    fn columns_map_onto_fields() {
        let raw: Map<String, Value> = serde_json::from_value(json!({
            "記録ID": "R-1", "client_external_id": "K-1", "fact": "昼食を完食した",
            "category": "routine", "occurred_from": "2026/11/20 12:30", "tags": "食事| 昼食 ", "interpretation": ""
        })).unwrap();
        let renames = HashMap::from([("記録ID".to_owned(), "externalId".to_owned())]);
        let v = item(ImportKind::Observations, raw, &renames).unwrap();
        assert_eq!(v["externalId"], "R-1");
        assert_eq!(v["clientExternalId"], "K-1");
        assert_eq!(v["content"]["category"], "ROUTINE");
        assert_eq!(v["content"]["occurredFrom"], "2026-11-20T12:30:00+09:00");
        assert_eq!(v["content"]["tags"], json!(["食事", "昼食"]));
        assert!(
            v["content"].get("interpretation").is_none(),
            "empty cells are omitted"
        );
        let unknown: Map<String, Value> =
            serde_json::from_value(json!({"shoe_size": "27"})).unwrap();
        assert!(
            item(ImportKind::Clients, unknown, &HashMap::new())
                .unwrap_err()
                .message
                .contains("shoe_size")
        );
        let missing: Map<String, Value> = serde_json::from_value(json!({"externalId": "R-2", "category": "ROUTINE", "occurredFrom": "2026-11-20T12:30:00+09:00"})).unwrap();
        assert_eq!(
            item(ImportKind::Observations, missing, &HashMap::new())
                .unwrap_err()
                .field,
            Some("fact")
        );
        let wrong: Map<String, Value> = serde_json::from_value(json!({"externalId": "R-3", "fact": "x", "category": "daily", "occurredFrom": "2026-11-20T12:30:00+09:00"})).unwrap();
        assert_eq!(
            item(ImportKind::Observations, wrong, &HashMap::new())
                .unwrap_err()
                .field,
            Some("category")
        );
    }

    #[test]
    fn export_selections_validate_against_the_schema() {
        let schema = SchemaIndex::new().unwrap();
        let profile = schema.selection(
            "Client",
            3,
            &["supportPlans", "meetings", "monitoringReports"]
                .into_iter()
                .collect(),
        );
        assert!(profile.contains("careTeam") && profile.contains("sharingConsents"));
        assert!(!profile.contains("materials"));
        let q = format!("query ExportClient($id: ID!) {{ client(id: $id) {{ {profile} }} }}");
        async_graphql::parser::parse_query(&q).unwrap();
    }
}
