//! Evidence in a record sentence (根拠): behaviours and signs from the lexicon, quotations with
//! the states their words express, counts and measures, each with the states it shows.

use std::{ops::Range, sync::LazyLock};

use regex::Regex;

use super::{Sentence, Wanted, record::Claim};
use crate::language::{
    lexicon::{AnchorKind, Lexicon, OrganizationLexicon, States, TermKind, Valence},
    negation,
    text::overlaps,
};

/// A number with a counter or unit: a count or a measure (not a clock time or a date).
pub(super) static COUNT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        "(?:[0-9]+(?:[.,][0-9]+)?|[一二三四五六七八九十百千両]+)\\s*",
        "(?:回|度|℃|分|秒|時間|日間|日分|週間|か月|ヶ月|ヵ月|カ月|ケ月|箇月|枚|個|本|杯|錠|包|粒|",
        "mg|ml|mL|cc|g|kg|km|m|cm|mm|人|名|件|口|割|%|％|キロ|ページ|頁|行|箇所|カ所|ヶ所|か所|往復|歩|",
        "食|膳|品|点|円|袋|周|セット|問|文字|種類|缶|箱|皿|切れ|つ|曲|段|kcal|mmHg|拍|リットル|L|",
        "語|工程|項目|台|着|足|冊|局|試合|種|色|品目|段階|コマ|か所|カ所|ヶ所|",
        "日中|日のうち|日とも|日連続|日続け|日)",
        "|[0-9]+/[0-9]+",
        "|半分|全量|一口|ひと口|一度も|一回も|1度も|1回も|ゼロ|皆無|0回"
    ))
    .expect("count pattern")
});

/// A count of none (0回, 一度も): what it counts did not happen.
static ZERO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new("(?:^|[^0-9.])0\\s*(?:回|度|件|日|人)|一度も|一回も|1度も|1回も|ゼロ|皆無")
        .expect("zero pattern")
});

/// Units that measure the body (vital signs, weight): evidence of health.
static VITAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new("[0-9.]+\\s*(?:℃|度|mmHg|kg|%|％|拍)|[0-9]{2,3}/[0-9]{2,3}|SpO2|血圧|体温|脈拍|体重")
        .expect("vital pattern")
});

/// Amounts of a meal: evidence of appetite.
static MEAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new("[0-9一二三四五六七八九十]+\\s*(?:割|口|杯|膳)|半分|半量|全量|完食|ひと口|一口")
        .expect("meal pattern")
});

/// Whether a match starts a content word (not で・き in 馴染んできた).
fn content_start(sentence: &Sentence, r: &Range<usize>) -> bool {
    if !sentence.analysed {
        return true;
    }
    match sentence.tokens.iter().find(|t| t.bytes.contains(&r.start)) {
        Some(t) => {
            t.bytes.start == r.start
                && !matches!(t.t.pos[0].as_str(), "助詞" | "助動詞")
                && t.t.pos[1] != "非自立"
        }
        None => true,
    }
}

/// A piece of evidence and the clause it stands in.
pub(super) struct Found {
    pub bytes: Range<usize>,
    pub clause: usize,
    pub states: States,
    /// Which way it points (大声: bad, 大声はなかった: good, 完食: good), when known.
    pub valence: Option<Valence>,
    pub kind: AnchorKind,
}

impl Found {
    /// What it shows, for matching against a claim.
    pub fn shows(&self) -> Wanted {
        Wanted {
            states: self.states,
            valence: self.valence,
        }
    }
}

/// Evidence in the sentence: behaviours and signs from the lexicon, quotations with the
/// states their words express, counts and measures. A word the writer only guesses at or
/// generalises (泣きそう, 休みがち) is no evidence, nor is a flagged word itself.
pub(super) fn evidence(
    sentence: &Sentence,
    lexicon: &Lexicon,
    own: Option<&OrganizationLexicon>,
    claims: &[Claim],
) -> Vec<Found> {
    let s = sentence.s;
    let flagged = |r: &Range<usize>| {
        claims
            .iter()
            .any(|c| c.parts.iter().any(|(k, _)| overlaps(k, r)))
    };
    let guessed = |r: &Range<usize>| {
        claims.iter().any(|c| {
            c.parts.iter().any(|(k, t)| {
                t.kind == TermKind::Marker
                    && k.start >= r.end
                    && s[r.end..k.start].chars().count() <= 6
                    && !s[r.end..k.start].contains(['、', '。', ',', '」'])
            })
        })
    };
    let mut out: Vec<Found> = Vec::new();
    let push = |bytes: Range<usize>,
                states: States,
                valence: Option<Valence>,
                kind: AnchorKind,
                out: &mut Vec<Found>| {
        if states.is_empty() {
            return;
        }
        if let Some(f) = out.iter_mut().find(|f| f.bytes == bytes) {
            f.states = f.states.union(states);
            if f.valence != valence {
                f.valence = None;
            }
            return;
        }
        out.push(Found {
            clause: sentence.clause_of(bytes.start),
            bytes,
            states,
            valence,
            kind,
        });
    };
    for q in &sentence.quotes {
        // What the quoted words express, and how they were said (訴えた, 叫んだ).
        let inner = &s[q.clone()];
        let mut states = States::default();
        // Which way the words point: known only when every word that points agrees and no
        // negation turns them round (「楽しくない」).
        let mut ways: Vec<Valence> = Vec::new();
        for t in &lexicon.terms {
            if t.kind == TermKind::Interpretation {
                for r in t.find(inner) {
                    states = states.union(t.states);
                    ways.extend(t.valence(&inner[r]));
                }
            }
        }
        for e in lexicon.evidence.iter().chain(&lexicon.state_words) {
            for r in e.find(inner) {
                states = states.union(e.states);
                ways.extend(e.valence(&inner[r]));
            }
        }
        let after: String = s[q.end..].chars().take(6).collect();
        for e in &lexicon.evidence {
            if e.id.starts_with("said_") {
                for r in e.find(&after) {
                    states = states.union(e.states);
                    ways.extend(e.valence(&after[r]));
                }
            }
        }
        let negated = ["ない", "なく", "ません", "ず", "なかっ"]
            .iter()
            .any(|n| inner.contains(n));
        let valence = match ways.split_first() {
            Some((first, rest)) if !negated && rest.iter().all(|w| w == first) => Some(*first),
            _ => None,
        };
        // Any words at all are a fact about a claim of no particular state.
        states = states.union(States::CONCRETE);
        push(q.clone(), states, valence, AnchorKind::Words, &mut out);
    }
    for e in lexicon
        .evidence
        .iter()
        .chain(own.into_iter().flat_map(|o| o.evidence.iter()))
    {
        if e.id.starts_with("said_") {
            continue;
        }
        for r in e.find(s) {
            if sentence.shielded(&r) || flagged(&r) || guessed(&r) || !content_start(sentence, &r) {
                continue;
            }
            // 大声は|なかった, 大声は0回: a negation or a zero turns the fact round.
            let clause = &sentence.clauses[sentence.clause_of(r.start)].bytes;
            let valence = e.valence(&s[r.clone()]).map(|v| {
                if negation::negated_after(&sentence.tokens, r.end)
                    || ZERO.is_match(&s[clause.clone()])
                {
                    v.flipped()
                } else {
                    v
                }
            });
            push(r, e.states, valence, AnchorKind::Action, &mut out);
        }
    }
    for m in COUNT.find_iter(s) {
        let r = m.range();
        // 一人で / 1人で means alone, not a count.
        let alone = matches!(m.as_str(), "一人" | "1人" | "ひとり") && s[r.end..].starts_with('で');
        if sentence.shielded(&r) || flagged(&r) || alone {
            continue;
        }
        let mut states = States::COUNT;
        if VITAL.is_match(m.as_str()) {
            states = states.union(States::HEALTH);
        }
        if MEAL.is_match(m.as_str()) {
            states = states.union(States::APPETITE);
        }
        push(r, states, None, AnchorKind::Number, &mut out);
    }
    for m in VITAL.find_iter(s).chain(MEAL.find_iter(s)) {
        let r = m.range();
        if sentence.shielded(&r) || flagged(&r) || out.iter().any(|f| overlaps(&f.bytes, &r)) {
            continue;
        }
        let states = if VITAL.is_match(m.as_str()) {
            States::HEALTH
        } else {
            States::APPETITE
        };
        push(r, states, None, AnchorKind::Number, &mut out);
    }
    out.sort_by_key(|f| f.bytes.start);
    // An amount takes the way of the act it measures in its clause (半分|残した, 全量|食べた).
    let acts: Vec<(usize, States, Valence)> = out
        .iter()
        .filter(|f| f.kind == AnchorKind::Action)
        .filter_map(|f| f.valence.map(|v| (f.clause, f.states, v)))
        .collect();
    for f in out
        .iter_mut()
        .filter(|f| f.kind != AnchorKind::Words && f.valence.is_none())
    {
        let measures = f.states.without(States::COUNT);
        let mut ways = acts
            .iter()
            .filter(|(clause, states, _)| *clause == f.clause && states.intersects(measures))
            .map(|(_, _, v)| *v);
        if let Some(first) = ways.next()
            && ways.all(|v| v == first)
        {
            f.valence = Some(first);
        }
    }
    out
}
