//! Evidence with polarity (根拠の極性): whether a record says a behaviour happened, says it did
//! **not** happen, or is about something else, and how a goal's target is measured.
//!
//! Text similarity cannot tell 「大声を出した」 from 「大声はなかった」: both share every piece.
//! So evidence is judged by what the record asserts about the target:
//!
//! - **Target.** A goal or a tag names a behaviour (大声, 食事, 睡眠 …). Known behaviours are
//!   [`Concept`]s with the words records use for them (cues), the words of a complete or partial
//!   outcome (完食 / 半分残した) and of its absence (不眠, 欠食). An unknown tag or goal is its own
//!   single cue word, so the rule still applies to vocabulary this table lacks.
//! - **Polarity.** Each mention of a cue is followed to the predicate it belongs to; a negation
//!   on that predicate (ない・ず・ぬ・ん・なし, 〜ことなく, 〜ことはない, 見られなかった) makes it a
//!   statement that the behaviour did not happen. A zero count (0回, 一度も) does too. With the
//!   analyser, the predicate and its auxiliaries come from the morphology (so 少ない or 必ず never
//!   read as negations, and a negation across 〜が、 belongs to another clause); without it a rule
//!   over the rest of the clause stands in.
//! - **Outcomes** of graded behaviours (meals, sleep, medication, attendance) are kept apart:
//!   完食 vs 半分残した vs 食べなかった, 入眠 vs 夜中に目が覚めた vs 眠れなかった.
//! - **Counts.** A number with 回/度 in the mention's clause is the count (大声を3回); otherwise a
//!   record that says it happened counts once.
//! - **Goals** ([`GoalSpec::parse`]): the target, the direction (以下・以内・未満・減らす・なくす vs
//!   以上・増やす・続ける・毎日), the threshold and its period (月2回以下, 週3回以上, 毎日), and
//!   [`tally`] counts dated judgements against it per calendar month, week or day range.
//!
//! Pure: no database, no GraphQL. Deterministic: the same text gives the same judgement.

mod concepts;
mod goal;

use std::{ops::Range, sync::LazyLock};

use regex::Regex;

pub use self::{
    concepts::{CONCEPTS, Concept, concept, concept_of_tag},
    goal::{Direction, GoalSpec, Period, Standing, Tally, tally},
};
use super::{
    analysis::{self, Analyzer},
    negation, text,
};

/// What a record asserts about a target behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Polarity {
    /// It happened (大声を出した, 完食した, 23時に入眠).
    Occurred,
    /// It explicitly did not happen (大声はなかった, 大声を出すことなく, 眠れなかった, なし).
    NotOccurred,
    /// The record does not speak of it.
    Unrelated,
}

/// How a graded behaviour turned out (完食 / 一部 / なし).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// Fully (完食, 朝まで眠った, 服薬した).
    Full,
    /// In part (半分残した, 夜中に目が覚めた).
    Partial,
    /// Not at all (食べなかった, 眠れなかった).
    None,
}

/// What to look for in a record: a known concept and/or literal words.
#[derive(Debug, Clone)]
pub struct Target {
    pub concept: Option<&'static Concept>,
    /// Extra words (an unknown tag, a goal's behaviour word).
    pub words: Vec<String>,
    /// The name shown in counts.
    pub label: String,
}

impl Target {
    /// The target a tag names: its concept when known, and the tag itself as a cue.
    pub fn of_tag(tag: &str) -> Self {
        let tag = text::fold(tag.trim());
        Self {
            concept: concept_of_tag(&tag),
            label: tag.clone(),
            words: vec![tag],
        }
    }

    /// Whether a tag names this target.
    pub fn matches_tag(&self, tag: &str) -> bool {
        let tag = text::fold(tag.trim());
        if self.words.contains(&tag) {
            return true;
        }
        match (self.concept, concept_of_tag(&tag)) {
            (Some(a), Some(b)) => a.id == b.id,
            _ => false,
        }
    }
}

/// One record's judgement against a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    pub polarity: Polarity,
    /// For graded targets: how it turned out (`None` for NotOccurred is `Some(Outcome::None)`).
    pub outcome: Option<Outcome>,
    /// How many times it happened (0 unless it occurred).
    pub count: u32,
}

impl Occurrence {
    const UNRELATED: Self = Self {
        polarity: Polarity::Unrelated,
        outcome: None,
        count: 0,
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Cue,
    Complete,
    Partial,
    Absent,
}

/// One mention of a target word in a sentence (byte range in the folded sentence).
struct Mention {
    bytes: Range<usize>,
    kind: Kind,
}

static COUNT: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(r"([0-9]+|[〇一二三四五六七八九十]+)\s*(回|度)")
});

/// Someone other than the client as the subject of a clause (DOMAIN.md: 利用者 alone names
/// any service user).
static OTHER_PERSON: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(
        r"(他の|ほかの|別の|相手の)?利用者[A-Za-z]?さん?[がのにはも]|他の利用者|他利用者|相手の",
    )
});

/// Judges `text` against `target` with the analyser when it is available.
pub fn judge(text: &str, target: &Target) -> Occurrence {
    judge_with(text, target, analysis::get())
}

/// [`judge`] for a record its writer tagged with the target: a tag of no known behaviour whose
/// word the text never uses is taken at the writer's word (it happened, once or as counted);
/// a known behaviour is judged from the text alone, so a calm day tagged 大声 stays unrelated.
pub fn judge_tagged(text: &str, target: &Target) -> Occurrence {
    let o = judge(text, target);
    if o.polarity == Polarity::Unrelated && target.concept.is_none() {
        let folded = text::fold(text);
        return Occurrence {
            polarity: Polarity::Occurred,
            outcome: None,
            count: count_in(&folded).filter(|n| *n > 0).unwrap_or(1),
        };
    }
    o
}

/// [`judge`] with an explicit analyser (`None`: the rule fallback).
pub fn judge_with(text: &str, target: &Target, analyzer: Option<&Analyzer>) -> Occurrence {
    let folded = text::fold(text);
    let mut words: Vec<(&str, Kind)> = Vec::new();
    if let Some(c) = target.concept {
        words.extend(c.cues.iter().map(|w| (*w, Kind::Cue)));
        words.extend(c.complete.iter().map(|w| (*w, Kind::Complete)));
        words.extend(c.partial.iter().map(|w| (*w, Kind::Partial)));
        words.extend(c.absent.iter().map(|w| (*w, Kind::Absent)));
    }
    words.extend(
        target
            .words
            .iter()
            .filter(|w| !w.is_empty())
            .map(|w| (w.as_str(), Kind::Cue)),
    );
    // Longer words first, so 怒りの表出 wins over 怒り and 中途覚醒 over 覚醒.
    words.sort_by_key(|(w, _)| std::cmp::Reverse(w.len()));

    let (mut occurred, mut negated, mut partial, mut absent) = (false, false, false, false);
    let mut count = 0u32;
    // Most records never mention the target: look for its words before analysing anything.
    if !words
        .iter()
        .any(|(w, _)| !w.is_empty() && folded.contains(w))
    {
        return Occurrence::UNRELATED;
    }
    for range in text::sentences(&folded) {
        let s = &folded[range];
        let mut taken: Vec<Range<usize>> = Vec::new();
        let mut mentions: Vec<Mention> = Vec::new();
        for (w, kind) in &words {
            for (at, _) in s.match_indices(w) {
                let r = at..at + w.len();
                if taken.iter().any(|t| text::overlaps(t, &r)) {
                    continue;
                }
                taken.push(r.clone());
                mentions.push(Mention {
                    bytes: r,
                    kind: *kind,
                });
            }
        }
        mentions.sort_by_key(|m| m.bytes.start);
        let tokens = match analyzer {
            Some(a) if !mentions.is_empty() => a.tokens(s),
            _ => Vec::new(),
        };
        for m in mentions {
            let clause = clause_of(s, &m.bytes);
            // Another person's behaviour (他の利用者が大声を出した) is not the client's.
            if OTHER_PERSON.is_match(&s[clause.start..m.bytes.start]) {
                continue;
            }
            let n = count_in(&s[clause.clone()]);
            let zero = n == Some(0) || s[clause].contains("一度も");
            let neg = zero
                || if analyzer.is_some() {
                    negation::negated(s, &tokens, &m.bytes)
                } else {
                    negation::negated_by_rule(s, &m.bytes)
                };
            match (m.kind, neg) {
                (Kind::Cue, false) => {
                    occurred = true;
                    count = count.max(n.unwrap_or(1));
                }
                (Kind::Cue, true) => negated = true,
                (Kind::Complete, false) => {
                    occurred = true;
                    count = count.max(n.unwrap_or(1));
                }
                (Kind::Complete, true) | (Kind::Partial, false) => {
                    occurred = true;
                    partial = true;
                    count = count.max(1);
                }
                (Kind::Partial, true) | (Kind::Absent, true) => {
                    occurred = true;
                    count = count.max(1);
                }
                (Kind::Absent, false) => absent = true,
            }
        }
    }
    let graded = target.concept.is_some_and(|c| c.outcomes.is_some());
    if occurred {
        let outcome = graded.then_some(if partial || absent {
            Outcome::Partial
        } else {
            Outcome::Full
        });
        Occurrence {
            polarity: Polarity::Occurred,
            outcome,
            count: count.max(1),
        }
    } else if negated || absent {
        Occurrence {
            polarity: Polarity::NotOccurred,
            outcome: graded.then_some(Outcome::None),
            count: 0,
        }
    } else {
        Occurrence::UNRELATED
    }
}

/// The clause around a mention: from the previous 、 (or the sentence start) to the next 、 or
/// the sentence end.
fn clause_of(s: &str, r: &Range<usize>) -> Range<usize> {
    let stops = ['、', '，', ',', '。'];
    let start = s[..r.start]
        .rfind(stops)
        .map(|i| i + s[i..].chars().next().map_or(1, char::len_utf8))
        .unwrap_or(0);
    let end = s[r.end..].find(stops).map_or(s.len(), |i| r.end + i);
    start..end
}

/// The number of a count (3回, 三度) in a clause.
fn count_in(clause: &str) -> Option<u32> {
    let c = COUNT.captures(clause)?;
    let n = c.get(1)?.as_str();
    match super::counters::parse_quantity(n)? {
        super::counters::Quantity::Number(v) => u32::try_from(v).ok(),
        super::counters::Quantity::Which => None,
    }
}

#[cfg(test)]
mod tests;
