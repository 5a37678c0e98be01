//! The client's text in やさしい日本語: one idea per sentence, です・ます, furigana on every
//! word with kanji.
//!
//! Why split by the analysis and not at every 、: a comma also stands after a subject or a
//! time (今日は、), and cutting there leaves a fragment (大声を出し。床に座り込んだ). A
//! sentence is cut only where a clause ends: a verb in its て/で form or 連用形 before 、, a
//! noun with で (雨で、), or the conjunctions ので・から (→ だから) and が・けど・のに (→ でも).
//! Each cut clause ends in the tense of the whole sentence. Without the analyser the old
//! rule applies: sentences over 30 characters are cut at 、 when the piece ends in して.

use std::ops::Range;

use super::{
    Glossary, Segment,
    glossary::ruby_pieces,
    polite::{self, TERMINATORS},
};
use crate::language::analysis::{Analyzer, Token};

/// An easy-Japanese sentence longer than this (in chars) is split at its 、 (no analyser).
const EASY_MAX_CHARS: usize = 30;
/// A piece shorter than this stays with its neighbour rather than standing alone.
const EASY_MIN_PIECE: usize = 8;
/// A clause shorter than this (in chars) is not cut off by the analysed split.
const MIN_CLAUSE: usize = 4;

/// `easy.split`: the sentence cut at its clause boundaries, each clause a sentence ending in
/// 。; `None` when there is nothing to cut.
pub(super) fn split(
    sentence: &str,
    quotes: &[Range<usize>],
    analyzer: Option<&Analyzer>,
) -> Option<String> {
    match analyzer {
        Some(a) => split_by_analysis(sentence, quotes, a),
        None => split_long(sentence, quotes),
    }
}

/// How a clause ends where the sentence is cut.
enum Cut {
    /// て/で form or 連用形 of a verb, adjective or だ: the clause ends in its own polite form.
    Continuative,
    /// ので・から: the next sentence starts with だから.
    Because,
    /// が・けど・のに: the next sentence starts with でも.
    But,
}

fn split_by_analysis(sentence: &str, quotes: &[Range<usize>], a: &Analyzer) -> Option<String> {
    let tokens = a.analyze(sentence);
    let byte_of: Vec<usize> = sentence
        .char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(sentence.len()))
        .collect();
    let at = |c: usize| byte_of.get(c).copied().unwrap_or(sentence.len());
    let n = tokens.len();
    // The tense of the sentence is that of its last predicate, past any note in brackets.
    let mut depth_back = 0i32;
    let past = tokens
        .iter()
        .rev()
        .filter(|t| {
            match t.surface.as_str() {
                "）" | ")" => depth_back += 1,
                "（" | "(" => depth_back -= 1,
                _ => {}
            }
            depth_back == 0 && !t.is(&["記号"])
        })
        .take(4)
        .any(|t| t.is(&["助動詞"]) && t.conj_type == "特殊・タ");
    // (end of the clause's last token, where the next clause starts, how it was cut)
    let mut cuts: Vec<(usize, usize, usize, Cut)> = Vec::new();
    let mut depth = 0i32;
    for (i, t) in tokens.iter().enumerate() {
        match t.surface.as_str() {
            "（" | "(" | "「" | "『" => depth += 1,
            "）" | ")" | "」" | "』" => depth -= 1,
            _ => {}
        }
        if depth != 0 || quotes.iter().any(|q| q.contains(&at(t.span.start))) {
            continue;
        }
        let comma_next = tokens.get(i + 1).is_some_and(|u| u.surface == "、");
        let next_start = if comma_next { i + 2 } else { i + 1 };
        if next_start >= n {
            continue;
        }
        let conj = t.is(&["助詞", "接続助詞"]);
        let cut = match t.surface.as_str() {
            "て" | "で" if conj && comma_next => Some(Cut::Continuative),
            "ので" | "から" if conj => Some(Cut::Because),
            "が" | "けど" | "けれど" | "けれども" | "のに" if conj => Some(Cut::But),
            "で" if comma_next && t.is(&["助動詞"]) => Some(Cut::Continuative),
            _ if comma_next && t.is(&["動詞"]) && t.conj_form == "連用形" => {
                Some(Cut::Continuative)
            }
            _ => None,
        };
        if let Some(cut) = cut {
            cuts.push((i, i + 1, next_start, cut));
        }
    }
    if cuts.is_empty() {
        return None;
    }
    let mut out = String::new();
    let mut from = 0usize; // token index where the current clause starts
    let mut prefix = "";
    let mut made = 0;
    for (last, _end, next, cut) in cuts {
        if last < from {
            continue;
        }
        let clause = &tokens[from..=last];
        let text_start = at(tokens[from].span.start);
        let clause_chars = tokens[last].span.end - tokens[from].span.start;
        let rest_chars = tokens[n - 1]
            .span
            .end
            .saturating_sub(tokens[next].span.start);
        if clause_chars < MIN_CLAUSE || rest_chars < MIN_CLAUSE {
            continue;
        }
        let ended = match cut {
            Cut::Continuative => continuative_end(sentence, &at, clause, past),
            Cut::Because | Cut::But => {
                let body_end = at(tokens[last].span.start);
                let body = &sentence[text_start..body_end];
                let inner = &tokens[from..last];
                rebase(body, inner).and_then(|(b, t)| polite::polite_by_analysis(&b, &t, false))
            }
        };
        let Some(ended) = ended else { continue };
        out.push_str(prefix);
        out.push_str(&ended);
        out.push('。');
        prefix = match cut {
            Cut::Continuative => "",
            Cut::Because => "だから、",
            Cut::But => "でも、",
        };
        from = next;
        made += 1;
    }
    if made == 0 {
        return None;
    }
    out.push_str(prefix);
    out.push_str(&sentence[at(tokens[from].span.start)..]);
    Some(out)
}

/// Tokens re-offset to start at 0, with the body they cover.
fn rebase(body: &str, tokens: &[Token]) -> Option<(String, Vec<Token>)> {
    let first = tokens.first()?.span.start;
    let shifted = tokens
        .iter()
        .map(|t| {
            let mut t = t.clone();
            t.span = t.span.start - first..t.span.end - first;
            t
        })
        .collect();
    Some((body.to_owned(), shifted))
}

/// A clause that ends in a continuative form, with a polite sentence ending instead.
fn continuative_end(
    sentence: &str,
    at: &dyn Fn(usize) -> usize,
    clause: &[Token],
    past: bool,
) -> Option<String> {
    let start = at(clause.first()?.span.start);
    let last = clause.last()?;
    let (masu, desu, mashita) = if past {
        ("ました", "でした", "かったです")
    } else {
        ("ます", "です", "いです")
    };
    // Drop a て/で particle; what stands before it decides the ending.
    let (head, pred) = if last.is(&["助詞", "接続助詞"]) {
        let k = clause.len().checked_sub(2)?;
        (&clause[..k], &clause[k])
    } else {
        (&clause[..clause.len() - 1], last)
    };
    let before = &sentence[start..at(pred.span.start)];
    let _ = head;
    if pred.is(&["動詞"]) {
        return Some(format!("{before}{}{masu}", polite::renyou(pred)?));
    }
    if pred.is(&["形容詞"]) {
        let stem = pred.base.strip_suffix('い')?;
        if pred.base == "ない" {
            return None;
        }
        return Some(format!("{before}{stem}{mashita}"));
    }
    if pred.is(&["助動詞"]) && pred.surface == "で" {
        return Some(format!("{before}{desu}"));
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
pub(super) fn split_long(sentence: &str, quotes: &[Range<usize>]) -> Option<String> {
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
pub(super) fn furigana(
    text: &str,
    glossary: &Glossary,
    dictionary: Option<&Analyzer>,
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
        for piece in crate::language::readings::ruby(analyzer, text, &readings) {
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
