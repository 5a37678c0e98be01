//! Negation (否定) read from the analysis: whether the predicate a mention belongs to is
//! negated (大声は|なかった, 叩か|なかった, 眠れ|なかった). Shared by the evidence tally (did it
//! happen?) and the fact check (which way does a claim or a fact point?).

use std::ops::Range;

use super::analysis::{Tok, Token};

/// A word that negates: ない・ぬ・ん, ない/無い as an adjective, なし.
pub fn is_negation(t: &Token) -> bool {
    (t.is(&["助動詞"]) && ["ない", "ぬ", "ん"].contains(&t.base.as_str()))
        || (t.is(&["形容詞", "自立"])
            && ["ない", "無い", "なし", "無し"].contains(&t.base.as_str()))
        || ["なし", "無し", "ナシ"].contains(&t.surface.as_str())
}

/// Follows the mention to its predicate and reads a negation on it; the mention itself may
/// end in one (寝られない as one cue).
pub fn negated(s: &str, tokens: &[Tok], r: &Range<usize>) -> bool {
    let Some(last) = tokens.iter().rposition(|t| t.bytes.start < r.end) else {
        return negated_by_rule(s, r);
    };
    // The mention itself may end in a negation (寝られない as one cue).
    if tokens[..=last]
        .iter()
        .any(|t| t.bytes.start > r.start && is_negation(&t.t))
    {
        return true;
    }
    // The mention may itself be the predicate (眠れなかった, 叩かなかった).
    let head = tokens[last].t.is(&["動詞"]) || tokens[last].t.is(&["形容詞"]);
    predicate_negated(tokens, last + 1, head)
}

/// Reads from token `i` to the end of the predicate (`head`: the predicate's verb or adjective
/// has been seen) and says whether a negation stands on it.
fn predicate_negated(tokens: &[Tok], mut i: usize, mut head: bool) -> bool {
    while let Some(tok) = tokens.get(i) {
        let t = &tok.t;
        // A folded colon is tagged a noun (不安緊張:一度も目を合わせず): it ends the heading.
        if t.is(&["記号"]) || matches!(t.surface.as_str(), ":" | "：") {
            break;
        }
        if is_negation(t) {
            return true;
        }
        // 不機嫌な様子で…返事をせず: で (the copula's or a particle) ends a noun's predicate,
        // so a negation on a later verb is another predicate's (不安でない and 不安ではない keep
        // theirs).
        if !head
            && (t.is(&["助動詞"]) || t.is(&["助詞", "格助詞"]))
            && t.surface == "で"
            && tokens
                .get(i + 1)
                .is_none_or(|n| !is_negation(&n.t) && !matches!(n.t.surface.as_str(), "は" | "も"))
        {
            break;
        }
        if !head {
            if t.is(&["動詞"]) || t.is(&["形容詞"]) {
                head = true;
            } else if t.is(&["助詞", "接続助詞"]) {
                break;
            }
        } else {
            let keep = t.is(&["助動詞"])
                || t.is(&["動詞", "非自立"])
                || t.is(&["動詞", "接尾"])
                || t.is(&["形容詞", "非自立"])
                || t.is(&["名詞", "非自立"])
                // 〜ことはありません: ある carries the negation.
                || (t.is(&["動詞"]) && t.base == "ある")
                || t.is(&["助詞", "係助詞"])
                || t.is(&["助詞", "副助詞"])
                || (t.is(&["助詞", "接続助詞"]) && ["て", "で"].contains(&t.surface.as_str()));
            if !keep {
                break;
            }
        }
        i += 1;
    }
    false
}

/// The rule stand-in: a negation in the rest of the clause (until 、 or 。), leaving out words
/// that only look like one.
pub fn negated_by_rule(s: &str, r: &Range<usize>) -> bool {
    let rest = &s[r.start..];
    let end = rest
        .find(['、', '。', '，', ','])
        .or_else(|| rest.find("が"))
        .unwrap_or(rest.len());
    let mut clause = rest[..end].to_owned();
    for fake in [
        "少な",
        "危な",
        "必ず",
        "まず",
        "ずっと",
        "きずな",
        "数",
        "ずつ",
    ] {
        clause = clause.replace(fake, "＿");
    }
    [
        "ない",
        "なし",
        "無い",
        "無し",
        "なかっ",
        "なく",
        "ず",
        "ません",
        "無く",
    ]
    .iter()
    .any(|n| clause.contains(n))
}

/// Whether a negation follows the words ending at `end` on their predicate, leaving out any
/// negation inside the words themselves (元気がな|く is the lexicon's own 元気がない, not a
/// negation of it): 落ち着か|ない, 不穏な様子は|なかった, 調子が良く|ない.
pub fn negated_after(tokens: &[Tok], end: usize) -> bool {
    let Some(last) = tokens.iter().rposition(|t| t.bytes.start < end) else {
        return false;
    };
    let head = tokens[last].t.is(&["動詞"]) || tokens[last].t.is(&["形容詞"]);
    predicate_negated(tokens, last + 1, head)
}
