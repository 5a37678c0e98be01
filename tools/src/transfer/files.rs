//! Import files: formats, text encodings (UTF-8, Shift_JIS, EUC-JP, detected), records read
//! from CSV or JSON Lines, and the side files that make an import resumable.

use super::*;

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
pub(super) fn encoding_label(e: &'static encoding_rs::Encoding) -> &'static str {
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
pub(super) fn first_bad_line(body: &[u8], e: &'static encoding_rs::Encoding) -> usize {
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

/// Reads every record of the file as (line number, raw fields).
pub(super) fn records(opts: &ImportOptions) -> anyhow::Result<Vec<(usize, Map<String, Value>)>> {
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
pub(super) fn parse_records(
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
pub(super) fn flatten_content(
    mut record: Map<String, Value>,
) -> anyhow::Result<Map<String, Value>> {
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

pub(super) fn fingerprint(path: &Path) -> anyhow::Result<String> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

pub(super) fn side_file(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
