//! Clauses (節) of a sentence, from the analysis: a clause ends at a comma after a predicate
//! (大声を出し、| 不機嫌で、| 戻った後、) or at a conjunctive particle (〜が | 〜ので); a comma
//! after a bare topic or time (毎日、 / 午前中、) does not end one. A boundary after
//! が・けど・のに・ものの is a contrast: a fact on its other side does not support the claim
//! (作業を30分続けたが、やる気はなさそうだった).

use std::ops::Range;

use super::Tok;

/// How a clause is joined to the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Join {
    /// The first clause, or a plain continuation (〜し、〜て、〜で、).
    Plain,
    /// A contrast (〜が、〜けど、〜のに): facts on one side do not support claims on the other.
    Contrast,
    /// A cause and what followed (〜ため、): what staff did next is no evidence of the cause.
    Cause,
}

/// One clause: its byte range in the sentence and how it is joined to the one before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Clause {
    pub bytes: Range<usize>,
    pub join: Join,
}

/// Conjunctive particles that set their clause against the next.
const CONTRAST: [&str; 6] = ["が", "けど", "けれど", "けれども", "のに", "ものの"];
/// Conjunctive particles that end a clause even without a comma.
const ENDS_CLAUSE: [&str; 10] = [
    "が",
    "けど",
    "けれど",
    "けれども",
    "のに",
    "ものの",
    "ので",
    "から",
    "し",
    "ため",
];

/// Splits a sentence into clauses. Without tokens (degraded mode) commas and 。 split it.
pub(super) fn split(s: &str, tokens: &[Tok], quotes: &[Range<usize>]) -> Vec<Clause> {
    let in_quote = |at: usize| quotes.iter().any(|q| q.start < at && at < q.end);
    let mut cuts: Vec<(usize, Join)> = Vec::new();
    let join_after = |t: &crate::language::analysis::Token| {
        if t.is(&["助詞", "接続助詞"]) && CONTRAST.contains(&t.surface.as_str()) {
            Join::Contrast
        } else if matches!(t.surface.as_str(), "ため" | "為" | "ので")
            || matches!(t.base.as_str(), "判断" | "思う" | "考える")
        {
            Join::Cause
        } else {
            Join::Plain
        }
    };
    if tokens.is_empty() {
        for (i, c) in s.char_indices() {
            if matches!(c, '、' | ',' | '，') && !in_quote(i) {
                cuts.push((i + c.len_utf8(), Join::Plain));
            }
        }
    } else {
        let mut predicate = false;
        for (i, tok) in tokens.iter().enumerate() {
            let t = &tok.t;
            if in_quote(tok.bytes.start) {
                continue;
            }
            if matches!(t.pos[0].as_str(), "動詞" | "形容詞" | "助動詞")
                || t.is(&["名詞", "接尾", "助動詞語幹"])
            {
                predicate = true;
            }
            let comma = t.is(&["記号", "読点"]) || matches!(t.surface.as_str(), "," | "，");
            // のに right after a verb's plain form is a purpose (降りるのに手を借りた), not a
            // contrast (声をかけたのに).
            let purpose = t.surface == "のに"
                && i.checked_sub(1).is_some_and(|j| {
                    let v = &tokens[j].t;
                    v.is(&["動詞", "自立"]) && v.conj_form == "基本形"
                });
            let conj = t.is(&["助詞", "接続助詞"])
                && ENDS_CLAUSE.contains(&t.surface.as_str())
                && !purpose;
            let next_is_comma = tokens
                .get(i + 1)
                .is_some_and(|n| n.t.is(&["記号", "読点"]) || n.t.surface == ",");
            if comma && predicate {
                // The word before the comma, or the one before it (判断し、 ため、).
                let join = match i.checked_sub(1).map(|j| join_after(&tokens[j].t)) {
                    Some(Join::Plain) | None => {
                        i.checked_sub(2)
                            .map_or(Join::Plain, |j| match join_after(&tokens[j].t) {
                                Join::Contrast => Join::Plain,
                                other => other,
                            })
                    }
                    Some(other) => other,
                };
                cuts.push((tok.bytes.end, join));
                predicate = false;
            } else if conj && !next_is_comma {
                cuts.push((tok.bytes.end, join_after(t)));
                predicate = false;
            }
        }
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut join = Join::Plain;
    for (cut, next_join) in cuts {
        if cut > start && cut < s.len() {
            out.push(Clause {
                bytes: start..cut,
                join,
            });
            start = cut;
            join = next_join;
        }
    }
    out.push(Clause {
        bytes: start..s.len(),
        join,
    });
    out
}
