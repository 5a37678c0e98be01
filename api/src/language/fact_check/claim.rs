//! Claims: the interpretive words of a sentence grouped with the markers and vague words that
//! belong to them (落ち着か|ない|様子, やや|興奮), each with the states that would clear it.

use std::ops::Range;

use super::Sentence;
use crate::language::lexicon::{Lexicon, States, Term, TermKind, Valence};

/// A vague word grading the claim it stands right before (やや興奮, 少し眠そう).
const GRADE_GAP: usize = 6;
/// A marker belongs to the claim right before it (落ち着か|ない|様子).
const MARKER_GAP: usize = 12;

/// One interpretation in a sentence, with the vague words and markers that belong to it.
pub(super) struct Claim<'l> {
    /// The flagged matches (term and byte range).
    pub(super) parts: Vec<(Range<usize>, &'l Term)>,
    pub(super) states: States,
    /// Which way the claim points (落ち着いて: good, 落ち着かない: bad), when known.
    pub(super) valence: Option<Valence>,
    /// A vague amount standing alone (少し残した): it needs a number in its clause.
    pub(super) vague_amount: bool,
}

impl Claim<'_> {
    pub(super) fn start(&self) -> usize {
        self.parts[0].0.start
    }
    pub(super) fn end(&self) -> usize {
        self.parts.iter().map(|(r, _)| r.end).max().unwrap_or(0)
    }
}

/// Groups matches into claims: a marker joins the interpretation right before it, a vague
/// word the one right after it; a marker alone takes the state of the word before it.
pub(super) fn group<'l>(
    sentence: &Sentence,
    lexicon: &Lexicon,
    matches: Vec<(Range<usize>, &'l Term)>,
) -> Vec<Claim<'l>> {
    let s = sentence.s;
    let gap_ok = |from: usize, to: usize, max: usize| {
        from <= to
            && to - from <= max
            && !s[from..to].contains(['、', '。', ',', '「', '」'])
            && sentence.clause_of(from) == sentence.clause_of(to.saturating_sub(1).max(from))
    };
    let mut claims: Vec<Claim> = Vec::new();
    for (r, t) in matches {
        match t.kind {
            TermKind::Marker => {
                if let Some(last) = claims
                    .last_mut()
                    .filter(|c| gap_ok(c.end(), r.start, MARKER_GAP))
                {
                    if last.vague_amount && t.id != "tends" {
                        // 強い様子, 少し眠そう: the vague word grades what the marker claims.
                        // (少ない傾向 stays a claim of amount: a number answers it.)
                        last.states = marker_state(sentence, lexicon, r.start);
                        last.vague_amount = false;
                    }
                    last.parts.push((r, t));
                    continue;
                }
                let states = marker_state(sentence, lexicon, r.start);
                claims.push(Claim {
                    parts: vec![(r, t)],
                    states,
                    valence: None,
                    vague_amount: false,
                });
            }
            TermKind::VagueAmount => {
                // こだわりが強く, 疲労感が強い, 不安が強く: the vague word grades the claim before
                // it, right after it or as the predicate past its subject's particle (体調は概ね
                // 良好 is no grade of 体調: 概ね reaches forward to the next word).
                let predicate = ["強", "弱", "激し", "はげし"]
                    .iter()
                    .any(|p| s[r.clone()].starts_with(p));
                let grades = |c: &Claim| {
                    !c.vague_amount
                        && (gap_ok(c.end(), r.start, 2)
                            || (predicate
                                && c.end() <= r.start
                                && ["が", "は", "も"].contains(&&s[c.end()..r.start])))
                };
                if let Some(last) = claims.last_mut().filter(|c| grades(c)) {
                    last.parts.push((r, t));
                    continue;
                }
                claims.push(Claim {
                    parts: vec![(r, t)],
                    states: States::default(),
                    valence: None,
                    vague_amount: true,
                })
            }
            TermKind::Interpretation | TermKind::VagueGoal => {
                // 寝返りが多く眠りが浅い: a vague word that is its subject's predicate (〜が多く)
                // says how much of that subject, and grades nothing after it.
                let predicate_of = |c: &Claim| {
                    ["が", "は", "も"]
                        .iter()
                        .any(|p| s[..c.start()].ends_with(p))
                };
                if let Some(last) = claims.last_mut().filter(|c| {
                    c.vague_amount && gap_ok(c.end(), r.start, GRADE_GAP) && !predicate_of(c)
                }) {
                    // The vague word grades this interpretation: they stand or fall together.
                    last.parts.push((r, t));
                    last.states = t.states;
                    last.vague_amount = false;
                    continue;
                }
                if let Some(last) = claims
                    .last_mut()
                    .filter(|c| !c.vague_amount && gap_ok(c.end(), r.start, 2))
                {
                    // 機嫌良好: a grade of how something went asks for a count of it; graded
                    // onto a state (機嫌), only evidence of that state tells it (a count of
                    // something else next door does not: 機嫌良好。昼食全量。).
                    let graded = |c: &Claim| c.parts.iter().all(|(_, p)| p.id == "manner");
                    let states = if t.id == "manner" && !graded(last) {
                        last.states
                    } else if graded(last) && t.id != "manner" {
                        t.states
                    } else {
                        last.states.joined(t.states)
                    };
                    last.parts.push((r, t));
                    last.states = states;
                    continue;
                }
                claims.push(Claim {
                    parts: vec![(r, t)],
                    states: t.states,
                    valence: None,
                    vague_amount: false,
                });
            }
        }
    }
    claims
}

/// The state of a marker standing alone: from a state word right before it (退屈そう), else
/// any (a fact of any kind nearby clears it).
fn marker_state(sentence: &Sentence, lexicon: &Lexicon, at: usize) -> States {
    let s = sentence.s;
    let from = s[..at]
        .char_indices()
        .rev()
        .take(6)
        .last()
        .map_or(at, |(i, _)| i);
    let before = &s[from..at];
    let mut states = States::default();
    for w in &lexicon.state_words {
        if w.find(before)
            .iter()
            .any(|r| r.end + from >= at.saturating_sub(9))
        {
            states = states.union(w.states);
        }
    }
    if states.is_empty() {
        States::ANY
    } else {
        states
    }
}
