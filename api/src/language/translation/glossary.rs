//! The glossary (用語集): reviewed terms and how each reads for every audience, the shipped
//! file plus an organization's own entries, and the one pass that replaces terms in a sentence.
//!
//! Why one pass with claims: a replaced term must never be looked at again (利用者 → ご利用者
//! must not become ごご利用者), and words the person rules already decided (who is who) must
//! not be re-worded by a glossary entry, or a role could change behind the check's back.

use std::{ops::Range, sync::LazyLock};

use regex::Regex;
use serde::Deserialize;

use super::{Audience, Change, ChangeReason, Segment};
use crate::language::text::overlaps;

/// Where a glossary entry comes from, so that a change can say whose wording it used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntrySource {
    /// The reviewed data file shipped with Kakehashi.
    Shipped,
    /// The organization's own glossary.
    Organization,
}

/// One term and how it reads for each audience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlossaryEntry {
    /// The words as staff write them, matched literally.
    pub term: String,
    /// The term's reading in hiragana, for furigana.
    pub reading: Option<String>,
    /// The rendering per audience; an audience not listed keeps the term as written.
    pub renderings: Vec<(Audience, String)>,
    pub source: EntrySource,
}

impl GlossaryEntry {
    /// The rendering for `audience`, when the entry has one.
    pub fn rendering(&self, audience: Audience) -> Option<&str> {
        self.renderings
            .iter()
            .find(|(a, _)| *a == audience)
            .map(|(_, r)| r.as_str())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    term: String,
    reading: Option<String>,
    support: Option<String>,
    record: Option<String>,
    plan: Option<String>,
    administration: Option<String>,
    family: Option<String>,
    client_easy: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    entry: Vec<RawEntry>,
}

/// Glossary entries, prepared for matching.
#[derive(Debug, Clone, Default)]
pub struct Glossary {
    pub(super) entries: Vec<GlossaryEntry>,
    /// Indices into `entries`, longest term first (ties by term): the order terms are
    /// matched in, so that a longer term wins and the result does not depend on file order.
    pub(super) order: Vec<usize>,
    /// Per entry, its term cut into furigana pieces (empty without kanji or reading).
    pub(super) ruby: Vec<Vec<Segment>>,
}

/// The data file, part of the binary so that every installation renders the same way.
pub const SOURCE: &str = include_str!("../../../data/glossary.toml");

static SHIPPED: LazyLock<Result<Glossary, String>> = LazyLock::new(|| Glossary::parse(SOURCE));

impl Glossary {
    /// The shipped glossary. Its data file is checked by a unit test and at start-up
    /// ([`Glossary::check_shipped`]), so the error arm is unreachable in a running server.
    pub fn shipped() -> Result<&'static Glossary, &'static str> {
        SHIPPED.as_ref().map_err(String::as_str)
    }

    /// Fails start-up when the shipped glossary does not parse.
    pub fn check_shipped() -> anyhow::Result<()> {
        Self::shipped()
            .map(|_| ())
            .map_err(|e| anyhow::anyhow!("translation glossary: {e}"))
    }

    /// Parses a glossary file (see the header of `api/data/glossary.toml`). Refuses a term
    /// listed twice, a kanji term without a reading, a reading that is not hiragana, and an
    /// empty or quoted rendering (quotation marks would shield text from later rules).
    pub fn parse(source: &str) -> Result<Self, String> {
        let raw: RawFile = toml::from_str(source).map_err(|e| e.to_string())?;
        let mut entries: Vec<GlossaryEntry> = Vec::with_capacity(raw.entry.len());
        for r in raw.entry {
            let term = r.term;
            if term.trim().is_empty() || term.trim() != term {
                return Err(format!(
                    "{term:?}: a term must be non-empty, without spaces around"
                ));
            }
            if entries.iter().any(|e| e.term == term) {
                return Err(format!("{term}: listed twice"));
            }
            match &r.reading {
                None if term.chars().any(is_kanji) => {
                    return Err(format!("{term}: a term with kanji needs a reading"));
                }
                Some(reading) if !is_reading(reading) => {
                    return Err(format!("{term}: the reading {reading:?} must be hiragana"));
                }
                _ => {}
            }
            let renderings: Vec<(Audience, String)> = [
                (Audience::Support, r.support),
                (Audience::Record, r.record),
                (Audience::Plan, r.plan),
                (Audience::Administration, r.administration),
                (Audience::Family, r.family),
                (Audience::ClientEasy, r.client_easy),
            ]
            .into_iter()
            .filter_map(|(a, t)| t.map(|t| (a, t)))
            .collect();
            for (a, t) in &renderings {
                if t.trim().is_empty() {
                    return Err(format!("{term}: empty {} rendering", a.as_str()));
                }
                if t.contains(['「', '」', '『', '』']) {
                    return Err(format!("{term}: no quotation marks in a rendering"));
                }
            }
            entries.push(GlossaryEntry {
                term,
                reading: r.reading,
                renderings,
                source: EntrySource::Shipped,
            });
        }
        Ok(Self::new(entries))
    }

    /// A glossary of `entries`. An empty term is dropped (it would match everywhere); a
    /// later entry replaces an earlier one with the same term.
    pub fn new(entries: Vec<GlossaryEntry>) -> Self {
        let mut kept: Vec<GlossaryEntry> = Vec::with_capacity(entries.len());
        for e in entries.into_iter().filter(|e| !e.term.is_empty()) {
            kept.retain(|k| k.term != e.term);
            kept.push(e);
        }
        let mut order: Vec<usize> = (0..kept.len()).collect();
        order.sort_by(|&a, &b| {
            let (a, b) = (&kept[a].term, &kept[b].term);
            b.chars()
                .count()
                .cmp(&a.chars().count())
                .then_with(|| a.cmp(b))
        });
        let ruby = kept
            .iter()
            .map(|e| {
                e.reading
                    .as_deref()
                    .map(|r| ruby_pieces(&e.term, r))
                    .unwrap_or_default()
            })
            .collect();
        Self {
            entries: kept,
            order,
            ruby,
        }
    }

    /// This glossary with an organization's own entries on top: an entry of theirs replaces
    /// the one with the same term, and is marked [`EntrySource::Organization`] so that its
    /// changes name it. An own entry without a reading keeps the replaced entry's reading
    /// (how a word reads is not a matter of house style).
    pub fn with_organization(&self, own: Vec<GlossaryEntry>) -> Glossary {
        let mut entries = self.entries.clone();
        for mut e in own {
            e.source = EntrySource::Organization;
            if e.reading.is_none() {
                e.reading = self.reading(&e.term).map(str::to_owned);
            }
            entries.push(e);
        }
        Self::new(entries)
    }

    pub fn entries(&self) -> &[GlossaryEntry] {
        &self.entries
    }

    /// The reading of the entry whose term is `word`.
    pub fn reading(&self, word: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.term == word)
            .and_then(|e| e.reading.as_deref())
    }
}

/// A span the person rules decided before the glossary runs: replaced by `replacement` and
/// closed to glossary terms, so that no entry can turn another user into the client.
#[derive(Debug, Clone)]
pub(super) struct Fixed {
    pub span: Range<usize>,
    pub replacement: String,
    pub reason: ChangeReason,
}

/// One pass over `text`: each term claims its words, longest term first, outside `protected`
/// ranges (quotations) and text already claimed (the `fixed` spans first); the claims are
/// then replaced in one go, so replaced text is never looked at again. A term with no
/// rendering for the audience still claims its words, so that a shorter term inside it (B型
/// in B型肝炎) is left alone. For the family and the client, a replacement that would repeat
/// the words just before it (グループホーム + グループホームのスタッフ) or give a verb a second
/// object (お薬（1錠）を + お薬を飲んだ) drops the repeated part.
pub(super) fn apply(
    text: &str,
    audience: Audience,
    glossary: &Glossary,
    protected: &[Range<usize>],
    fixed: Vec<Fixed>,
    changes: &mut Vec<Change>,
) -> String {
    enum Claim<'a> {
        Fixed(String, ChangeReason),
        Term(Option<&'a str>, &'a GlossaryEntry),
    }
    let mut claims: Vec<(Range<usize>, Claim<'_>)> = fixed
        .into_iter()
        .filter(|f| text.get(f.span.clone()).is_some())
        .map(|f| (f.span, Claim::Fixed(f.replacement, f.reason)))
        .collect();
    let free = |r: &Range<usize>, claims: &[(Range<usize>, Claim<'_>)]| {
        !protected.iter().any(|q| overlaps(q, r)) && !claims.iter().any(|(c, _)| overlaps(c, r))
    };
    for &i in &glossary.order {
        let entry = &glossary.entries[i];
        let rendering = entry.rendering(audience).filter(|r| *r != entry.term);
        for (start, _) in text.match_indices(entry.term.as_str()) {
            let span = start..start + entry.term.len();
            if !at_word_boundary(text, &span) || !free(&span, &claims) {
                continue;
            }
            // A noun wording (席を離れること) before する would read 離れることした: the term
            // stays as written there rather than break the sentence.
            let verb_follows = ["し", "す", "さ", "せ"]
                .iter()
                .any(|k| text[span.end..].starts_with(k));
            let rendering = rendering.filter(|r| !(verb_follows && r.ends_with("こと")));
            match rendering.and_then(|r| already_rendered(text, &span, &entry.term, r)) {
                Some(whole) => {
                    if free(&whole, &claims) {
                        claims.push((whole, Claim::Term(None, entry)));
                    }
                }
                None => claims.push((span, Claim::Term(rendering, entry))),
            }
        }
    }
    claims.sort_by_key(|(r, _)| r.start);
    let tidy = matches!(audience, Audience::Family | Audience::ClientEasy);
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (span, claim) in claims {
        out.push_str(&text[last..span.start]);
        let (replacement, reason) = match claim {
            Claim::Fixed(r, reason) => (r, reason),
            Claim::Term(Some(r), entry) => (
                r.to_owned(),
                ChangeReason::Glossary {
                    term: entry.term.clone(),
                    source: entry.source,
                },
            ),
            Claim::Term(None, _) => {
                out.push_str(&text[span.clone()]);
                last = span.end;
                continue;
            }
        };
        if replacement == text[span.clone()] {
            out.push_str(&replacement);
            last = span.end;
            continue;
        }
        let replacement = if tidy {
            without_repetition(&out, &replacement)
        } else {
            replacement
        };
        out.push_str(&replacement);
        changes.push(Change {
            original: text[span.clone()].to_owned(),
            replacement,
            reason,
        });
        last = span.end;
    }
    out.push_str(&text[last..]);
    out
}

/// Particles after which a repeated noun phrase may be dropped.
const LINKS: [char; 2] = ['の', 'を'];

/// `replacement` without the words that the text just before it already says: a noun phrase
/// it starts with (グループホーム|のスタッフ after グループホーム, or after グループホームの), or
/// an object of its own when the text before ends in を (…を + お薬を飲んだ → 飲んだ).
fn without_repetition(before: &str, replacement: &str) -> String {
    for (i, c) in replacement.char_indices() {
        if !LINKS.contains(&c) || i == 0 {
            continue;
        }
        let head = &replacement[..i];
        if head.chars().count() < 2 {
            continue;
        }
        if c == 'の' && before.ends_with(&format!("{head}の")) {
            return replacement[i + c.len_utf8()..].to_owned();
        }
        if c == 'の' && before.ends_with(head) {
            return replacement[i..].to_owned();
        }
        if c == 'を' && before.ends_with('を') {
            let rest = replacement[i + c.len_utf8()..].trim_start();
            if !rest.is_empty() {
                return rest.to_owned();
            }
        }
    }
    replacement.to_owned()
}

/// A latin term (GH) matches only as a whole word, not inside AGH or GHQ.
fn at_word_boundary(text: &str, span: &Range<usize>) -> bool {
    let term = &text[span.clone()];
    let first = term
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let last = term
        .chars()
        .next_back()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let before = text[..span.start]
        .chars()
        .next_back()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let after = text[span.end..]
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    !(first && before || last && after)
}

/// The span of `rendering` when it already stands around the term (ご本人 for 本人,
/// 就労継続支援B型 for B型), so that rendering a rendering changes nothing more.
fn already_rendered(
    text: &str,
    span: &Range<usize>,
    term: &str,
    rendering: &str,
) -> Option<Range<usize>> {
    let k = rendering.find(term)?;
    let from = span.start.checked_sub(k)?;
    let whole = from..from + rendering.len();
    (text.get(whole.clone()) == Some(rendering)).then_some(whole)
}

/// A term cut into furigana pieces: its kana stay bare and each run of other chars gets the
/// part of the reading between them (見通し/みとおし → 見通〔みとお〕 + し), so that the ruby
/// stands over the kanji only. When the kana do not line up with the reading, the whole term
/// carries the whole reading.
pub(super) fn ruby_pieces(term: &str, reading: &str) -> Vec<Segment> {
    if !term.chars().any(is_kanji) {
        return Vec::new();
    }
    let whole = || {
        vec![Segment {
            text: term.to_owned(),
            reading: Some(reading.to_owned()),
        }]
    };
    let mut runs: Vec<(bool, String)> = Vec::new();
    for c in term.chars() {
        let kana = is_kana(c);
        match runs.last_mut() {
            Some((k, s)) if *k == kana => s.push(c),
            _ => runs.push((kana, c.to_string())),
        }
    }
    let pattern: String = runs
        .iter()
        .map(|(kana, s)| {
            if *kana {
                regex::escape(&hiragana(s))
            } else {
                "(.+?)".to_owned()
            }
        })
        .collect();
    let Ok(re) = Regex::new(&format!("^{pattern}$")) else {
        return whole();
    };
    let reading = hiragana(reading);
    let Some(caps) = re.captures(&reading) else {
        return whole();
    };
    let mut group = 0;
    runs.into_iter()
        .map(|(kana, text)| {
            let reading = if kana {
                None
            } else {
                group += 1;
                caps.get(group)
                    .filter(|_| text.chars().any(is_kanji))
                    .map(|m| m.as_str().to_owned())
            };
            Segment { text, reading }
        })
        .collect()
}

pub(super) fn is_kanji(c: char) -> bool {
    matches!(c,
        '々' | '〆'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FFFF}')
}

fn is_kana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{3096}' | '\u{309D}' | '\u{309E}' | '\u{30A1}'..='\u{30FA}' | 'ー' | 'ヽ' | 'ヾ')
}

/// A reading: hiragana and the long-vowel mark (さーびす) only.
pub(super) fn is_reading(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| matches!(c, '\u{3041}'..='\u{3096}' | 'ー'))
}

/// Katakana folded to hiragana, to line a term's kana up with its reading.
fn hiragana(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{30A1}'..='\u{30F6}' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}
