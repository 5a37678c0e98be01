//! Japanese morphological analysis (形態素解析): `vibrato` (a Viterbi tokenizer over a MeCab
//! dictionary, with connection costs) over IPADIC, as Debian's `mecab-ipadic` package installs its
//! sources (`/usr/share/mecab/dic/ipadic`, EUC-JP), plus Kakehashi's own lexicon of welfare words
//! and readings (`api/data/user_lexicon.csv`). Each token has its part of speech, conjugation,
//! base form and reading, chosen by analysing the whole sentence, not by longest match.
//!
//! The dictionary is compiled once (about 2 s) and cached (`LANGUAGE_CACHE_DIR`, 48 MB); a server
//! compiles it in the background at start when no cache exists, and loads it on first use (about
//! 0.1 s; some 60 MB of memory), so an idle server stays small. Without the sources the server
//! still starts: it says so in its log and in `/readyz`, and the language features run in their
//! documented degraded mode (see `fact_check` and `translation`).

use std::{
    ops::Range,
    path::{Path, PathBuf},
    sync::{Mutex, OnceLock},
    time::Instant,
};

use anyhow::Context;
use sha2::{Digest, Sha256};

/// Kakehashi's own words (welfare terms, counters and readings IPADIC lacks or gets wrong), in
/// MeCab's CSV format with IPADIC's connection ids.
const USER_LEXICON: &str = include_str!("../../data/user_lexicon.csv");
/// Changes whenever the cached form could change.
const CACHE_FORMAT: &str = "kakehashi-ipadic-vibrato-0.5-v1";
/// Where Debian installs the IPADIC sources.
pub const DEFAULT_SOURCES: &str = "/usr/share/mecab/dic/ipadic";

/// One morpheme of an analysed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// As written.
    pub surface: String,
    /// Char range in the analysed text.
    pub span: Range<usize>,
    /// Part of speech (品詞) and its three subdivisions, `*` where none.
    pub pos: [String; 4],
    /// Conjugation type and form (活用型・活用形), `*` for words that do not conjugate.
    pub conj_type: String,
    pub conj_form: String,
    /// Dictionary form (原形); the surface for unknown words.
    pub base: String,
    /// Reading in katakana, when the dictionary knows it.
    pub reading: Option<String>,
}

impl Token {
    fn from_feature(surface: &str, span: Range<usize>, feature: &str) -> Self {
        let f: Vec<&str> = feature.split(',').collect();
        let get = |i: usize| f.get(i).copied().unwrap_or("*").to_owned();
        let base = match f.get(6) {
            Some(b) if *b != "*" => (*b).to_owned(),
            _ => surface.to_owned(),
        };
        Self {
            surface: surface.to_owned(),
            span,
            pos: [get(0), get(1), get(2), get(3)],
            conj_type: get(4),
            conj_form: get(5),
            base,
            reading: f.get(7).filter(|r| **r != "*").map(|r| (*r).to_owned()),
        }
    }

    /// Whether the part of speech starts with these levels (`is(&["名詞", "数"])`).
    pub fn is(&self, levels: &[&str]) -> bool {
        levels
            .iter()
            .zip(&self.pos)
            .all(|(want, have)| want == have)
    }
}

/// A loaded analyser.
pub struct Analyzer {
    tokenizer: vibrato::Tokenizer,
    /// Where it came from and what it cost, for `/readyz` and the log.
    pub loaded_from: PathBuf,
    pub load_millis: u128,
}

/// A token with its byte range in the analysed text (for slicing and matching the text).
#[derive(Debug, Clone)]
pub struct Tok {
    pub bytes: Range<usize>,
    pub t: Token,
}

impl Analyzer {
    /// [`Analyzer::analyze`] with byte ranges.
    pub fn tokens(&self, s: &str) -> Vec<Tok> {
        let offsets: Vec<usize> = s.char_indices().map(|(i, _)| i).chain([s.len()]).collect();
        self.analyze(s)
            .into_iter()
            .filter_map(|t| {
                let start = *offsets.get(t.span.start)?;
                let end = *offsets.get(t.span.end)?;
                Some(Tok {
                    bytes: start..end,
                    t,
                })
            })
            .collect()
    }

    /// Analyses `text` (any length; newlines are kept as tokens of their own).
    pub fn analyze(&self, text: &str) -> Vec<Token> {
        let mut out = Vec::new();
        let mut worker = self.tokenizer.new_worker();
        // vibrato analyses one line at a time; lines keep their char offsets.
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let body = line.trim_end_matches(['\n', '\r']);
            if !body.is_empty() {
                worker.reset_sentence(body);
                worker.tokenize();
                for i in 0..worker.num_tokens() {
                    let t = worker.token(i);
                    let r = t.range_char();
                    out.push(Token::from_feature(
                        t.surface(),
                        offset + r.start..offset + r.end,
                        t.feature(),
                    ));
                }
            }
            offset += line.chars().count();
        }
        out
    }
}

/// Where the analyser stands, for `/readyz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// No sources configured or found: the language features are degraded.
    Absent { reason: String },
    /// Sources found; compiled or cached, not loaded yet (loaded on first use).
    Available { sources: PathBuf },
    /// Loaded.
    Loaded { sources: PathBuf, load_millis: u128 },
    /// Loading failed: degraded, with the reason.
    Failed { reason: String },
}

impl Status {
    /// For `/readyz`: `loaded`, `available`, `absent` or `failed`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Absent { .. } => "absent",
            Self::Available { .. } => "available",
            Self::Loaded { .. } => "loaded",
            Self::Failed { .. } => "failed",
        }
    }
}

struct Setup {
    sources: Option<PathBuf>,
    cache_dir: PathBuf,
}

static SETUP: OnceLock<Setup> = OnceLock::new();
static ANALYZER: OnceLock<Result<Analyzer, String>> = OnceLock::new();
/// One compilation at a time (the background warm-up and a first use may race).
static COMPILING: Mutex<()> = Mutex::new(());

/// Sets where the dictionary sources and the cache are (once, at start; later calls are
/// ignored). `sources: None` looks in [`DEFAULT_SOURCES`].
pub fn configure(sources: Option<PathBuf>, cache_dir: PathBuf) {
    let sources = sources.or_else(|| {
        let default = PathBuf::from(DEFAULT_SOURCES);
        default.join("matrix.def").exists().then_some(default)
    });
    let _ = SETUP.set(Setup { sources, cache_dir });
}

fn setup() -> &'static Setup {
    SETUP.get_or_init(|| Setup {
        sources: {
            let default = PathBuf::from(DEFAULT_SOURCES);
            default.join("matrix.def").exists().then_some(default)
        },
        cache_dir: default_cache_dir(),
    })
}

/// `$XDG_CACHE_HOME/kakehashi`, else `~/.cache/kakehashi`, else the system's temporary directory.
pub fn default_cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("kakehashi")
}

/// The analyser, loaded on first use; `None` (degraded) when there are no sources or loading
/// failed.
pub fn get() -> Option<&'static Analyzer> {
    ANALYZER
        .get_or_init(|| {
            let setup = setup();
            let Some(sources) = &setup.sources else {
                return Err("no IPADIC sources (install Debian's mecab-ipadic)".into());
            };
            load(sources, &setup.cache_dir).map_err(|e| format!("{e:#}"))
        })
        .as_ref()
        .ok()
}

/// The analyser's state, without loading it.
pub fn status() -> Status {
    match ANALYZER.get() {
        Some(Ok(a)) => Status::Loaded {
            sources: a.loaded_from.clone(),
            load_millis: a.load_millis,
        },
        Some(Err(reason)) => Status::Failed {
            reason: reason.clone(),
        },
        None => match &setup().sources {
            Some(s) => Status::Available { sources: s.clone() },
            None => Status::Absent {
                reason:
                    "no IPADIC sources: install Debian's mecab-ipadic or set LANGUAGE_DICTIONARY"
                        .into(),
            },
        },
    }
}

/// Compiles the dictionary into the cache if it is not there yet (a start-up task: the first
/// use then only reads the cache), without keeping it in memory.
pub fn prepare_cache() -> anyhow::Result<Option<PathBuf>> {
    let setup = setup();
    let Some(sources) = &setup.sources else {
        return Ok(None);
    };
    let path = cache_path(sources, &setup.cache_dir)?;
    if !path.exists() {
        let _compiling = COMPILING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !path.exists() {
            let dict = compile(sources)?;
            write_cache(&dict, &path)?;
        }
    }
    Ok(Some(path))
}

fn load(sources: &Path, cache_dir: &Path) -> anyhow::Result<Analyzer> {
    let started = Instant::now();
    let path = cache_path(sources, cache_dir)?;
    let dict = match std::fs::File::open(&path) {
        Ok(f) => vibrato::Dictionary::read(std::io::BufReader::new(f))
            .with_context(|| format!("reading the cached dictionary {}", path.display()))?,
        Err(_) => {
            let _compiling = COMPILING
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let dict = compile(sources)?;
            // A cache that cannot be written only costs the next start a compilation.
            if let Err(e) = write_cache(&dict, &path) {
                tracing::warn!(error = %e, path = %path.display(), "cannot cache the compiled dictionary");
            }
            dict
        }
    };
    let analyzer = Analyzer {
        tokenizer: vibrato::Tokenizer::new(dict),
        loaded_from: sources.to_owned(),
        load_millis: started.elapsed().as_millis(),
    };
    tracing::info!(
        sources = %sources.display(),
        millis = analyzer.load_millis,
        "Japanese analyser loaded"
    );
    Ok(analyzer)
}

/// The cache file for these sources: named by a hash of the sources (names, sizes, times), the
/// user lexicon and the format, so a changed source or lexicon compiles anew.
fn cache_path(sources: &Path, cache_dir: &Path) -> anyhow::Result<PathBuf> {
    let mut h = Sha256::new();
    h.update(CACHE_FORMAT);
    h.update(USER_LEXICON);
    let mut files: Vec<PathBuf> = std::fs::read_dir(sources)
        .with_context(|| format!("reading {}", sources.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "csv" || e == "def"))
        .collect();
    files.sort();
    for f in &files {
        let meta = std::fs::metadata(f)?;
        h.update(f.to_string_lossy().as_bytes());
        h.update(meta.len().to_le_bytes());
        if let Ok(modified) = meta.modified()
            && let Ok(d) = modified.duration_since(std::time::UNIX_EPOCH)
        {
            h.update(d.as_secs().to_le_bytes());
        }
    }
    Ok(cache_dir.join(format!("ipadic-{}.dic", &hex::encode(h.finalize())[..16])))
}

fn write_cache(dict: &vibrato::Dictionary, path: &Path) -> anyhow::Result<()> {
    let dir = path.parent().context("cache path without a directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // Written aside and renamed: a reader never sees half a file.
    let tmp = dir.join(format!(".{}.tmp", uuid::Uuid::now_v7()));
    let file = std::fs::File::create(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
    dict.write(std::io::BufWriter::new(file))?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Decodes a source file: UTF-8 when it is, else EUC-JP (IPADIC's own encoding).
fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => encoding_rs::EUC_JP.decode(bytes).0.into_owned(),
    }
}

/// Compiles IPADIC's sources with the user lexicon.
fn compile(sources: &Path) -> anyhow::Result<vibrato::Dictionary> {
    let started = Instant::now();
    let read = |name: &str| -> anyhow::Result<Vec<u8>> {
        let p = sources.join(name);
        std::fs::read(&p).with_context(|| format!("reading {}", p.display()))
    };
    let mut csvs: Vec<PathBuf> = std::fs::read_dir(sources)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    csvs.sort();
    anyhow::ensure!(!csvs.is_empty(), "no *.csv in {}", sources.display());
    let mut lexicon = String::new();
    for p in &csvs {
        let text = decode(&std::fs::read(p).with_context(|| format!("reading {}", p.display()))?);
        lexicon.push_str(text.trim_end_matches('\n'));
        lexicon.push('\n');
    }
    let user: String = USER_LEXICON
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    lexicon.push_str(&user);
    let matrix = read("matrix.def")?;
    let chars = decode(&read("char.def")?);
    let unknown = decode(&read("unk.def")?);
    let dict = vibrato::SystemDictionaryBuilder::from_readers(
        lexicon.as_bytes(),
        matrix.as_slice(),
        chars.as_bytes(),
        unknown.as_bytes(),
    )
    .context("compiling the dictionary")?;
    tracing::info!(
        millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        sources = %sources.display(),
        "compiled the Japanese dictionary"
    );
    Ok(dict)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Skips (with a message) where the dictionary is not installed; CI installs it and sets
    /// `KAKEHASHI_REQUIRE_DICTIONARY`, so there it must be present.
    pub(crate) fn analyzer() -> Option<&'static Analyzer> {
        let a = get();
        if a.is_none() {
            assert!(
                std::env::var_os("KAKEHASHI_REQUIRE_DICTIONARY").is_none(),
                "KAKEHASHI_REQUIRE_DICTIONARY is set but the analyser is {:?}",
                status()
            );
            eprintln!("SKIPPED: no IPADIC sources ({:?})", status());
        }
        a
    }

    #[test]
    fn tokens_carry_part_of_speech_base_form_and_reading() {
        let Some(a) = analyzer() else { return };
        let t = a.analyze("夕方は落ち着かない様子だった。");
        let verb = t.iter().find(|t| t.base == "落ち着く").unwrap();
        assert!(verb.is(&["動詞", "自立"]));
        assert_eq!(verb.conj_form, "未然形");
        assert_eq!(verb.span, 3..7);
        assert!(
            t.iter()
                .any(|t| t.surface == "様子" && t.reading.as_deref() == Some("ヨウス"))
        );
        // Offsets survive newlines.
        let t = a.analyze("大声。\n机を叩いた。");
        let desk = t.iter().find(|t| t.surface == "机").unwrap();
        assert_eq!(desk.span, 4..5);
    }

    #[test]
    fn the_user_lexicon_fixes_words_ipadic_splits_or_misreads() {
        let Some(a) = analyzer() else { return };
        let t = a.analyze("一人で就労継続支援B型に通所した。");
        assert!(
            t.iter()
                .any(|t| t.surface == "一人" && t.reading.as_deref() == Some("ヒトリ")),
            "{t:?}"
        );
    }
}
