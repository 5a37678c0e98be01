//! Renderings of one text for each audience (情報の翻訳, DOMAIN.md §2 remedy 4): the same
//! information in the languages of support, records, plans, administration, the family and
//! the client (やさしい日本語). Unless it is translated, it does not arrive.
//!
//! Glossary terms are replaced from the reviewed data file `api/data/glossary.toml` (plus an
//! organization's own entries), then a few small rules run for the family and the client.
//! Every change names the glossary entry or rule behind it, and the client's own words in 「」
//! are never changed. The rules only touch sentence endings they can conjugate without a
//! dictionary; anything else is left as written, because a rendering is a draft a person
//! reads before sending, and a wrong ending is worse than a plain one.

use std::{ops::Range, sync::LazyLock};

use regex::Regex;
use serde::Deserialize;

use super::text::{self, overlaps};

/// Who a rendering is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// Staff's own words (支援の言葉), as the texts are written.
    Support,
    /// Daily records (記録の言葉).
    Record,
    /// Plans (計画の言葉).
    Plan,
    /// Documents for the municipality (行政の言葉).
    Administration,
    /// The family (家族への言葉): everyday words, です・ます.
    Family,
    /// The client in easy Japanese (やさしい日本語): short sentences, hiragana, furigana.
    ClientEasy,
}

impl Audience {
    pub const ALL: [Self; 6] = [
        Self::Support,
        Self::Record,
        Self::Plan,
        Self::Administration,
        Self::Family,
        Self::ClientEasy,
    ];

    /// The stable name used by the API (lower-cased, it is the key in the glossary file).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Support => "SUPPORT",
            Self::Record => "RECORD",
            Self::Plan => "PLAN",
            Self::Administration => "ADMINISTRATION",
            Self::Family => "FAMILY",
            Self::ClientEasy => "CLIENT_EASY",
        }
    }

    /// Reads a name written by [`Audience::as_str`], in either case, with `-` or `_`.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().replace('-', "_");
        Self::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(&s))
    }
}

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
    entries: Vec<GlossaryEntry>,
    /// Indices into `entries`, longest term first (ties by term): the order terms are
    /// matched in, so that a longer term wins and the result does not depend on file order.
    order: Vec<usize>,
    /// Per entry, its term cut into furigana pieces (empty without kanji or reading).
    ruby: Vec<Vec<Segment>>,
}

/// The data file, part of the binary so that every installation renders the same way.
pub const SOURCE: &str = include_str!("../../data/glossary.toml");

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

/// Why a change was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeReason {
    /// A glossary entry's rendering for the audience.
    Glossary { term: String, source: EntrySource },
    /// A rule of the audience (see [`RULES`]).
    Rule {
        id: &'static str,
        description: &'static str,
    },
}

/// One change from the text as written to its rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The words as they stood when the change was made: a term, or a whole sentence for a
    /// rule (so that the reader sees its context).
    pub original: String,
    pub replacement: String,
    pub reason: ChangeReason,
}

/// A piece of a rendering with its furigana.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub text: String,
    /// Set only on a piece with kanji whose reading the glossary knows.
    pub reading: Option<String>,
}

/// A text rendered for one audience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendering {
    pub audience: Audience,
    pub text: String,
    /// In the order they were made: glossary terms in text order, then each rule's changes.
    pub changes: Vec<Change>,
    /// The text cut into pieces with furigana, for CLIENT_EASY only (empty otherwise); the
    /// pieces concatenated are `text`.
    pub segments: Vec<Segment>,
}

/// A rule an audience applies after the glossary.
struct Rule {
    id: &'static str,
    description: &'static str,
}

const FAMILY_POLITE: Rule = Rule {
    id: "family.polite",
    description: "文末を です・ます にそろえる（した→しました、だった→でした、である→です、ていない→ていません など、確かに言い換えられる語尾だけ）",
};

const EASY_SPLIT: Rule = Rule {
    id: "easy.split",
    description: "30文字を超える文を読点（、）で区切り、短い文に分ける（過去の文では、区切った「〜して」を「〜した」にする）",
};

const EASY_POLITE: Rule = Rule {
    id: "easy.polite",
    description: "文末を です・ます にそろえる（家族向けと同じ語尾だけ）",
};

/// Every rule's id and description, for listing what a rendering may do.
pub const RULES: [(&str, &str); 3] = [
    (FAMILY_POLITE.id, FAMILY_POLITE.description),
    (EASY_SPLIT.id, EASY_SPLIT.description),
    (EASY_POLITE.id, EASY_POLITE.description),
];

/// An easy-Japanese sentence longer than this (in chars) is split at its 、.
const EASY_MAX_CHARS: usize = 30;
/// A piece shorter than this stays with its neighbour rather than standing alone.
const EASY_MIN_PIECE: usize = 8;

/// Renders `text` for `audience`: glossary terms first, then the audience's rules. Furigana
/// come from the glossary, then from the analyser's reading of the sentence, if it is loaded.
pub fn render(text: &str, audience: Audience, glossary: &Glossary) -> Rendering {
    render_with_readings(text, audience, glossary, super::analysis::get())
}

/// [`render`] with an explicit analyser.
pub fn render_with_readings(
    text: &str,
    audience: Audience,
    glossary: &Glossary,
    dictionary: Option<&super::analysis::Analyzer>,
) -> Rendering {
    let mut changes = Vec::new();
    let mut out = apply_glossary(text, audience, glossary, &mut changes);
    match audience {
        Audience::Family => out = rewrite_sentences(&out, &FAMILY_POLITE, polite, &mut changes),
        Audience::ClientEasy => {
            out = rewrite_sentences(&out, &EASY_SPLIT, split_long, &mut changes);
            out = rewrite_sentences(&out, &EASY_POLITE, polite, &mut changes);
        }
        Audience::Support | Audience::Record | Audience::Plan | Audience::Administration => {}
    }
    let segments = if audience == Audience::ClientEasy {
        furigana(&out, glossary, dictionary)
    } else {
        Vec::new()
    };
    Rendering {
        audience,
        text: out,
        changes,
        segments,
    }
}

/// One pass over the text as written: each term claims its words, longest term first, outside
/// quotations and text already claimed; the claims are then replaced in one go, so replaced
/// text is never looked at again. A term with no rendering for the audience still claims its
/// words, so that a shorter term inside it (B型 in B型肝炎) is left alone.
fn apply_glossary(
    text: &str,
    audience: Audience,
    glossary: &Glossary,
    changes: &mut Vec<Change>,
) -> String {
    let quotes = text::quotations(text);
    let mut claims: Vec<(Range<usize>, Option<&str>, &GlossaryEntry)> = Vec::new();
    let free = |r: &Range<usize>, claims: &[(Range<usize>, Option<&str>, &GlossaryEntry)]| {
        !quotes.iter().any(|q| overlaps(q, r)) && !claims.iter().any(|(c, _, _)| overlaps(c, r))
    };
    for &i in &glossary.order {
        let entry = &glossary.entries[i];
        let rendering = entry.rendering(audience).filter(|r| *r != entry.term);
        for (start, _) in text.match_indices(entry.term.as_str()) {
            let span = start..start + entry.term.len();
            if !at_word_boundary(text, &span) || !free(&span, &claims) {
                continue;
            }
            match rendering.and_then(|r| already_rendered(text, &span, &entry.term, r)) {
                Some(whole) => {
                    if free(&whole, &claims) {
                        claims.push((whole, None, entry));
                    }
                }
                None => claims.push((span, rendering, entry)),
            }
        }
    }
    claims.sort_by_key(|(r, _, _)| r.start);
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (span, replacement, entry) in claims {
        out.push_str(&text[last..span.start]);
        match replacement {
            Some(r) => {
                out.push_str(r);
                changes.push(Change {
                    original: text[span.clone()].to_owned(),
                    replacement: r.to_owned(),
                    reason: ChangeReason::Glossary {
                        term: entry.term.clone(),
                        source: entry.source,
                    },
                });
            }
            None => out.push_str(&text[span.clone()]),
        }
        last = span.end;
    }
    out.push_str(&text[last..]);
    out
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

/// Applies a sentence rule to every sentence of `text` (white space between sentences is
/// kept), recording one change per rewritten sentence. The rule gets the sentence and the
/// quotations in it, in the sentence's byte offsets.
fn rewrite_sentences(
    text: &str,
    rule: &Rule,
    rewrite: fn(&str, &[Range<usize>]) -> Option<String>,
    changes: &mut Vec<Change>,
) -> String {
    let quotes = text::quotations(text);
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for s in text::sentences(text) {
        let sentence = &text[s.clone()];
        let local: Vec<Range<usize>> = quotes
            .iter()
            .filter(|q| overlaps(q, &s))
            .map(|q| q.start.max(s.start) - s.start..q.end.min(s.end) - s.start)
            .collect();
        out.push_str(&text[last..s.start]);
        match rewrite(sentence, &local) {
            Some(new) if new != sentence => {
                changes.push(Change {
                    original: sentence.to_owned(),
                    replacement: new.clone(),
                    reason: ChangeReason::Rule {
                        id: rule.id,
                        description: rule.description,
                    },
                });
                out.push_str(&new);
            }
            _ => out.push_str(sentence),
        }
        last = s.end;
    }
    out.push_str(&text[last..]);
    out
}

const TERMINATORS: &[char] = &['。', '！', '？', '!', '?'];

/// A plain sentence ending and its です・ます form.
struct Ending {
    from: &'static str,
    to: &'static str,
    /// When not empty, the char just before `from` must be one of these.
    after: &'static str,
    /// Text just before `from` that blocks the ending (だらしない is no verb).
    not_after: &'static [&'static str],
}

const fn end(from: &'static str, to: &'static str) -> Ending {
    Ending {
        from,
        to,
        after: "",
        not_after: &[],
    }
}

/// Kana that end the stem of an ichidan verb or する before た (食べた, 起きた, した): the
/// e-row and the i-row but い (書いた is godan; its polite form needs the dictionary).
/// へ is left out for へた (下手).
const ICHIDAN_STEM_END: &str = "えけげせぜてでねべぺめれきぎしじちぢにひびぴみり";

/// The endings the polite rules rewrite, tried in order (a longer ending before the shorter
/// one it ends with). Each is safe without a dictionary: its form fixes the conjugation.
/// Godan verbs in kana (行かない, 言った) are left alone, since their polite form depends on the
/// verb; those whose kanji fixes it (言った, 飲んだ) are listed one by one.
const ENDINGS: &[Ending] = &[
    end("ていなかった", "ていませんでした"),
    end("でいなかった", "でいませんでした"),
    end("できなかった", "できませんでした"),
    Ending {
        not_after: &["だら", "せわ"],
        ..end("しなかった", "しませんでした")
    },
    end("くなかった", "くありませんでした"),
    end("がなかった", "がありませんでした"),
    end("はなかった", "はありませんでした"),
    end("ていない", "ていません"),
    end("でいない", "でいません"),
    end("できない", "できません"),
    Ending {
        not_after: &["だら", "せわ"],
        ..end("しない", "しません")
    },
    end("くない", "くありません"),
    end("がない", "がありません"),
    end("はない", "はありません"),
    end("であった", "でした"),
    end("だった", "でした"),
    end("である", "です"),
    end("ていた", "ていました"),
    end("でいた", "でいました"),
    end("ている", "ています"),
    end("でいる", "でいます"),
    end("てしまった", "てしまいました"),
    end("でしまった", "でしまいました"),
    end("があった", "がありました"),
    end("がある", "があります"),
    Ending {
        not_after: &["こ", "行", "損"],
        ..end("なった", "なりました")
    },
    end("になる", "になります"),
    end("くなる", "くなります"),
    end("できる", "できます"),
    end("する", "します"),
    end("しかった", "しかったです"),
    end("よかった", "よかったです"),
    end("言った", "言いました"),
    end("入った", "入りました"),
    end("帰った", "帰りました"),
    end("座った", "座りました"),
    end("使った", "使いました"),
    end("作った", "作りました"),
    end("笑った", "笑いました"),
    end("待った", "待ちました"),
    end("飲んだ", "飲みました"),
    end("休んだ", "休みました"),
    end("読んだ", "読みました"),
    end("遊んだ", "遊びました"),
    end("選んだ", "選びました"),
    end("書いた", "書きました"),
    end("聞いた", "聞きました"),
    end("歩いた", "歩きました"),
    end("泣いた", "泣きました"),
    end("着いた", "着きました"),
    end("来た", "来ました"),
    end("見た", "見ました"),
    end("寝た", "寝ました"),
    end("出た", "出ました"),
    end("のんだ", "のみました"),
    end("はいった", "はいりました"),
    end("かよった", "かよいました"),
    end("やすんだ", "やすみました"),
    Ending {
        after: ICHIDAN_STEM_END,
        not_after: &["まし", "でし", "あし"],
        ..end("た", "ました")
    },
];

/// `family.polite` / `easy.polite`: the sentence with its ending in です・ます, when the
/// ending is one of [`ENDINGS`] and stands outside a quotation.
fn polite(sentence: &str, quotes: &[Range<usize>]) -> Option<String> {
    let body = sentence.trim_end_matches(TERMINATORS);
    let rest = &sentence[body.len()..];
    for e in ENDINGS {
        let Some(stem) = body.strip_suffix(e.from) else {
            continue;
        };
        if quotes
            .iter()
            .any(|q| overlaps(q, &(stem.len()..body.len())))
        {
            return None;
        }
        let after_ok = e.after.is_empty()
            || stem
                .chars()
                .next_back()
                .is_some_and(|c| e.after.contains(c));
        if after_ok && !e.not_after.iter().any(|n| stem.ends_with(n)) {
            return Some(format!("{stem}{}{rest}", e.to));
        }
    }
    None
}

/// Conjunctions and set phrases that end in して but are no action of their own.
const NOT_AN_ACTION: &[&str] = &[
    "そして",
    "決して",
    "として",
    "対して",
    "関して",
    "通して",
    "際して",
];

/// `easy.split`: a sentence longer than [`EASY_MAX_CHARS`] cut at its 、 (outside quotations
/// and brackets) into sentences ending in 。. Pieces shorter than [`EASY_MIN_PIECE`] stay
/// with the next one. In a sentence about the past, a piece ending in 〜して becomes 〜した,
/// so that it can stand as a sentence (作業をして、… 帰った。 → 作業をした。… 帰った。).
fn split_long(sentence: &str, quotes: &[Range<usize>]) -> Option<String> {
    if sentence.chars().count() <= EASY_MAX_CHARS {
        return None;
    }
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut depth = 0usize;
    for (i, c) in sentence.char_indices() {
        match c {
            '（' | '(' => depth += 1,
            '）' | ')' => depth = depth.saturating_sub(1),
            '、' if depth == 0 && !quotes.iter().any(|q| q.contains(&i)) => {
                pieces.push(&sentence[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    pieces.push(&sentence[start..]);
    let mut merged: Vec<String> = Vec::new();
    let mut pending = String::new();
    for p in pieces {
        if !pending.is_empty() {
            pending.push('、');
        }
        pending.push_str(p);
        if pending.chars().count() >= EASY_MIN_PIECE {
            merged.push(std::mem::take(&mut pending));
        }
    }
    if !pending.is_empty() {
        match merged.last_mut() {
            Some(last) => {
                last.push('、');
                last.push_str(&pending);
            }
            None => merged.push(pending),
        }
    }
    if merged.len() < 2 {
        return None;
    }
    let past = merged
        .last()
        .map(|s| s.trim_end_matches(TERMINATORS))
        .is_some_and(|s| s.ends_with('た') || s.ends_with('だ'));
    let n = merged.len();
    let mut out = String::with_capacity(sentence.len() + n * 3);
    for (i, piece) in merged.iter().enumerate() {
        let piece = piece.trim();
        if i + 1 == n {
            out.push_str(piece);
            break;
        }
        match piece.strip_suffix("して") {
            Some(stem) if past && !NOT_AN_ACTION.iter().any(|w| piece.ends_with(w)) => {
                out.push_str(stem);
                out.push_str("した");
            }
            _ => out.push_str(piece),
        }
        out.push('。');
    }
    Some(out)
}

/// The text cut into furigana pieces: glossary terms give their own pieces; with the analyser,
/// every other word with kanji gets the reading the analysis of the sentence gives it (numbers
/// with counters read together); without it, only glossary terms have readings.
fn furigana(
    text: &str,
    glossary: &Glossary,
    dictionary: Option<&super::analysis::Analyzer>,
) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    if let Some(analyzer) = dictionary {
        let readings: std::collections::HashMap<String, String> = glossary
            .order
            .iter()
            .filter_map(|&k| {
                let e = &glossary.entries[k];
                e.reading.clone().map(|r| (e.term.clone(), r))
            })
            .collect();
        for piece in super::readings::ruby(analyzer, text, &readings) {
            match &piece.reading {
                Some(r) => {
                    let pieces = ruby_pieces(&piece.text, r);
                    if pieces.is_empty() {
                        push_segment(&mut out, &piece.text, None);
                    }
                    for p in pieces {
                        push_segment(&mut out, &p.text, p.reading.as_deref());
                    }
                }
                None => push_segment(&mut out, &piece.text, None),
            }
        }
        return out;
    }
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        let found = glossary
            .order
            .iter()
            .map(|&k| (&glossary.entries[k].term, &glossary.ruby[k]))
            .find(|(term, ruby)| !ruby.is_empty() && text[i..].starts_with(term.as_str()));
        match found {
            Some((term, ruby)) => {
                for piece in ruby {
                    push_segment(&mut out, &piece.text, piece.reading.as_deref());
                }
                i += term.len();
            }
            None => {
                push_segment(&mut out, &text[i..i + c.len_utf8()], None);
                i += c.len_utf8();
            }
        }
    }
    out
}

fn push_segment(out: &mut Vec<Segment>, text: &str, reading: Option<&str>) {
    if reading.is_none()
        && let Some(last) = out.last_mut().filter(|s| s.reading.is_none())
    {
        last.text.push_str(text);
        return;
    }
    out.push(Segment {
        text: text.to_owned(),
        reading: reading.map(str::to_owned),
    });
}

/// A term cut into furigana pieces: its kana stay bare and each run of other chars gets the
/// part of the reading between them (見通し/みとおし → 見通〔みとお〕 + し), so that the ruby
/// stands over the kanji only. When the kana do not line up with the reading, the whole term
/// carries the whole reading.
fn ruby_pieces(term: &str, reading: &str) -> Vec<Segment> {
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

fn is_kanji(c: char) -> bool {
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
fn is_reading(s: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> &'static Glossary {
        Glossary::shipped().expect("glossary")
    }

    fn to(text: &str, audience: Audience) -> String {
        render(text, audience, shipped()).text
    }

    #[test]
    fn the_shipped_glossary_parses_and_every_kanji_term_has_a_reading() {
        let g = shipped();
        let rendered = g.entries().iter().filter(|e| !e.renderings.is_empty());
        assert!(rendered.count() >= 40);
        for e in g.entries() {
            assert_eq!(e.source, EntrySource::Shipped);
            if e.term.chars().any(is_kanji) {
                let reading = e.reading.as_deref().unwrap_or_default();
                assert!(is_reading(reading), "{}: reading {reading:?}", e.term);
            }
        }
        assert_eq!(g.reading("服薬"), Some("ふくやく"));
        for a in Audience::ALL {
            assert_eq!(Audience::parse(a.as_str()), Some(a));
            assert_eq!(Audience::parse(&a.as_str().to_lowercase()), Some(a));
        }
        assert_eq!(Audience::parse("client-easy"), Some(Audience::ClientEasy));
        assert_eq!(Audience::parse("nobody"), None);
        Glossary::check_shipped().expect("start-up check");
    }

    #[test]
    fn a_broken_file_is_refused_with_the_entry_named() {
        let no_reading = "[[entry]]\nterm = \"服薬\"\nfamily = \"お薬\"\n";
        assert!(
            Glossary::parse(no_reading)
                .expect_err("no reading")
                .contains("服薬")
        );
        let katakana = "[[entry]]\nterm = \"服薬\"\nreading = \"フクヤク\"\n";
        assert!(
            Glossary::parse(katakana)
                .expect_err("katakana")
                .contains("服薬")
        );
        let twice = "[[entry]]\nterm = \"GH\"\n[[entry]]\nterm = \"GH\"\n";
        assert!(Glossary::parse(twice).expect_err("twice").contains("GH"));
        let quoted = "[[entry]]\nterm = \"GH\"\nfamily = \"「家」\"\n";
        assert!(Glossary::parse(quoted).is_err());
        let unknown = "[[entry]]\nterm = \"GH\"\nfamilly = \"家\"\n";
        assert!(Glossary::parse(unknown).is_err());
    }

    #[test]
    fn every_kanji_in_an_easy_rendering_gets_furigana() {
        let g = shipped();
        for e in g.entries() {
            let Some(easy) = e.rendering(Audience::ClientEasy) else {
                continue;
            };
            for s in furigana(easy, g, None) {
                assert!(
                    s.reading.is_some() || !s.text.chars().any(is_kanji),
                    "{}: {easy} has {} without a reading",
                    e.term,
                    s.text
                );
            }
        }
    }

    /// DOMAIN.md §5: 「パニックになった」 through support, record, plan, family and client.
    #[test]
    fn the_domain_chain_reads_in_every_audience() {
        let said = "パニックになった";
        let support = render(said, Audience::Support, shipped());
        assert_eq!(support.text, said);
        assert!(support.changes.is_empty());
        let record = to(said, Audience::Record);
        assert!(
            record.starts_with("強く混乱した（時刻・きっかけ"),
            "{record}"
        );
        let plan = to(said, Audience::Plan);
        assert_eq!(plan, "予定変更時の見通し支援");
        assert_eq!(
            to(said, Audience::Family),
            "驚いて、気持ちが大きく乱れてしまいました"
        );
        assert_eq!(to(said, Audience::ClientEasy), "とても びっくりしました");
        assert_eq!(to(said, Audience::Administration), "強い混乱状態となった");
        // The plan's wording, told to the family and to the client.
        assert_eq!(
            to(&plan, Audience::Family),
            "予定が急に変わるときに前もってお知らせする工夫"
        );
        assert_eq!(
            to(&plan, Audience::ClientEasy),
            "よていが かわる ときは まえに しらせる こと"
        );
    }

    #[test]
    fn every_change_names_its_entry_or_rule() {
        let r = render("作業中にパニックになった。", Audience::Family, shipped());
        assert_eq!(r.text, "作業中に驚いて、気持ちが大きく乱れてしまいました。");
        assert_eq!(
            r.changes[0],
            Change {
                original: "パニックになった".into(),
                replacement: "驚いて、気持ちが大きく乱れてしまった".into(),
                reason: ChangeReason::Glossary {
                    term: "パニックになった".into(),
                    source: EntrySource::Shipped
                },
            }
        );
        assert!(matches!(
            r.changes[1].reason,
            ChangeReason::Rule {
                id: "family.polite",
                ..
            }
        ));
        assert_eq!(r.changes.len(), 2);
    }

    #[test]
    fn quotations_are_untouched() {
        let text = "「パニックになった、服薬したくない」と本人が話した。";
        for a in Audience::ALL {
            let r = render(text, a, shipped());
            assert!(
                r.text.starts_with("「パニックになった、服薬したくない」と"),
                "{a:?}: {}",
                r.text
            );
        }
        assert_eq!(
            to(text, Audience::Family),
            "「パニックになった、服薬したくない」とご本人が話しました。"
        );
        // A sentence that ends inside a quotation keeps its ending.
        assert_eq!(
            to("本人「もう帰った", Audience::Family),
            "ご本人「もう帰った"
        );
        assert_eq!(to("「疲れた。」", Audience::Family), "「疲れた。」");
    }

    #[test]
    fn abbreviations_expand_for_all_but_support() {
        let text = "サビ管と放デイの件でGHに連絡した。";
        assert_eq!(to(text, Audience::Support), text);
        assert_eq!(
            to(text, Audience::Record),
            "サービス管理責任者と放課後等デイサービスの件でグループホームに連絡した。"
        );
        assert_eq!(
            to(text, Audience::Family),
            "サービス管理責任者と放課後等デイサービスの件でグループホームに連絡しました。"
        );
        assert_eq!(
            to("GH入居", Audience::Administration),
            "共同生活援助（グループホーム）入居"
        );
        // Already expanded, inside a longer word, or another word: left alone.
        assert_eq!(to("就労継続支援B型", Audience::Plan), "就労継続支援B型");
        assert_eq!(to("B型肝炎の予防接種", Audience::Plan), "B型肝炎の予防接種");
        assert_eq!(to("GHQ", Audience::Plan), "GHQ");
        assert_eq!(to("B型に通う", Audience::Plan), "就労継続支援B型に通う");
        // A replacement is never replaced again (利用者 → ご本人, not ごご本人).
        assert_eq!(to("利用者と本人", Audience::Family), "ご本人とご本人");
        assert_eq!(to("ご本人", Audience::Family), "ご本人");
    }

    #[test]
    fn an_organization_entry_overrides_a_shipped_one_and_is_named() {
        let own = GlossaryEntry {
            term: "支援員".into(),
            reading: None,
            renderings: vec![(Audience::Family, "職員".into())],
            source: EntrySource::Shipped,
        };
        let g = shipped().with_organization(vec![own]);
        let r = render("支援員が声かけした。", Audience::Family, &g);
        assert_eq!(r.text, "職員が声をかけました。");
        assert_eq!(
            r.changes[0].reason,
            ChangeReason::Glossary {
                term: "支援員".into(),
                source: EntrySource::Organization
            }
        );
        assert_eq!(g.reading("支援員"), Some("しえんいん"));
        assert_eq!(g.entries().len(), shipped().entries().len());
        // The shipped glossary is unchanged.
        assert_eq!(to("支援員", Audience::Family), "スタッフ");
    }

    #[test]
    fn family_endings_become_polite_only_where_safe() {
        for (text, want) in [
            ("作業をした。", "作業をしました。"),
            ("雨だった。", "雨でした。"),
            ("見直しが必要である。", "見直しが必要です。"),
            ("昼食を食べていない。", "お昼ごはんを食べていません。"),
            ("途中で帰ることはしない。", "途中で帰ることはしません。"),
            ("食欲がない！", "食欲がありません！"),
            ("声をかけた。", "声をかけました。"),
            ("服薬した。", "お薬を飲みました。"),
            ("楽しかった。", "楽しかったです。"),
            ("9時に来た\n昼に帰った", "9時に来ました\n昼に帰りました"),
            // Already polite, or not safe without a dictionary: unchanged.
            ("作業をしました。", "作業をしました。"),
            ("元気でした。", "元気でした。"),
            ("作業に行かない。", "作業に行かない。"),
            ("机を拭いた。", "机を拭いた。"),
            ("だらしない。", "だらしない。"),
            ("明日は休み", "明日は休み"),
        ] {
            assert_eq!(to(text, Audience::Family), want, "{text}");
        }
        // Other audiences keep the endings as written.
        assert_eq!(to("作業をした。", Audience::Record), "作業をした。");
    }

    #[test]
    fn easy_japanese_splits_long_sentences_and_carries_furigana() {
        let text = "午前中は作業に参加して、昼食後は他の利用者と話をして、午後は送迎車で帰宅した。";
        let r = render(text, Audience::ClientEasy, shipped());
        assert_eq!(
            r.text,
            "午前中はしごとに参加しました。ひるごはん後はほかの なかまと話をしました。\
             午後はおくりむかえの くるまで帰宅しました。"
        );
        assert!(r.changes.iter().any(|c| matches!(
            c.reason,
            ChangeReason::Rule {
                id: "easy.split",
                ..
            }
        )));
        let joined: String = r.segments.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(joined, r.text);
        let reading = |t: &str| {
            r.segments
                .iter()
                .find(|s| s.text == t)
                .map(|s| s.reading.clone())
        };
        assert_eq!(reading("午前"), Some(Some("ごぜん".into())));
        assert_eq!(reading("午後"), Some(Some("ごご".into())));
        for s in &r.segments {
            if s.reading.is_some() {
                assert!(s.text.chars().any(is_kanji), "{s:?}");
            }
        }
        // With the analyser every kanji word carries its reading; without it, only glossary
        // words do and nothing is made up.
        let 参加 = r
            .segments
            .iter()
            .find(|s| s.text.contains("参加"))
            .expect("参加");
        match crate::language::analysis::tests::analyzer() {
            Some(_) => assert_eq!(参加.reading.as_deref(), Some("さんか")),
            None => assert_eq!(参加.reading, None),
        }
        // A short sentence stays whole; other audiences get no segments.
        assert_eq!(
            to("今日、作業をした。", Audience::ClientEasy),
            "今日、しごとをしました。"
        );
        assert!(
            render(text, Audience::Family, shipped())
                .segments
                .is_empty()
        );
    }

    #[test]
    fn furigana_stands_over_the_kanji_only() {
        assert_eq!(
            ruby_pieces("見通し", "みとおし"),
            vec![
                Segment {
                    text: "見通".into(),
                    reading: Some("みとお".into())
                },
                Segment {
                    text: "し".into(),
                    reading: None
                },
            ]
        );
        let pieces = ruby_pieces("サービス等利用計画", "さーびすとうりようけいかく");
        assert_eq!(pieces[1].reading.as_deref(), Some("とうりようけいかく"));
        assert!(ruby_pieces("パニック", "ぱにっく").is_empty());
        // Kana that do not line up: the whole term carries the whole reading.
        assert_eq!(ruby_pieces("見通し", "けんとう")[0].text, "見通し");
    }

    #[test]
    fn rendering_is_deterministic() {
        let text = "サビ管と相談。本人は「帰る」と言い、不穏になった。昼食後に頓服を服薬した。";
        for a in Audience::ALL {
            assert_eq!(render(text, a, shipped()), render(text, a, shipped()));
            let reparsed = Glossary::parse(SOURCE).expect("glossary");
            assert_eq!(render(text, a, shipped()), render(text, a, &reparsed));
        }
    }

    #[test]
    fn an_empty_text_renders_to_empty() {
        for a in Audience::ALL {
            let r = render("", a, shipped());
            assert_eq!(r.text, "");
            assert!(r.changes.is_empty() && r.segments.is_empty());
        }
    }

    #[test]
    fn the_analyser_reads_kanji_the_glossary_does_not_know() {
        let g = Glossary::shipped().unwrap();
        let text = "参加した。";
        let without = render_with_readings(text, Audience::ClientEasy, g, None);
        assert!(
            without.segments.iter().all(|s| s.reading.is_none()),
            "{without:?}"
        );
        let Some(a) = crate::language::analysis::get() else {
            assert!(std::env::var_os("KAKEHASHI_REQUIRE_DICTIONARY").is_none());
            return;
        };
        let with = render_with_readings(text, Audience::ClientEasy, g, Some(a));
        let ruby: Vec<(String, Option<String>)> = with
            .segments
            .iter()
            .map(|s| (s.text.clone(), s.reading.clone()))
            .collect();
        assert_eq!(
            ruby[0],
            ("参加".to_owned(), Some("さんか".to_owned())),
            "{ruby:?}"
        );
        let joined: String = with.segments.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(joined, with.text);
    }
}
