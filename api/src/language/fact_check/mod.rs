//! The fact check (事実と解釈を分ける, DOMAIN.md §5), clause by clause over the morphological
//! analysis.
//!
//! **Records.** An interpretation (落ち着かない, 嬉しそう, 意欲的, 〜様子, 〜ようだ, 〜つつある …)
//! is cleared only by evidence *of the state it claims* in its own clause or the next one on
//! either side: an observable behaviour (机を叩いた, 作業を30分続けた), the person's own words in
//! 「」 that express that state, a measure of it (37.6℃, 8割), or, for a claim of change
//! (増えてきた, 慣れてきた), a count. Times, places, topics, what staff did, the fact that a call
//! was made, and a fact across a contrast (〜したが、) are no evidence. A vague amount (時々, 少し)
//! needs a number in its clause, unless it only grades an interpretation (やや興奮). Saying that
//! an observable event did not happen is a fact (大声はなかった); negating an interpretation
//! is still an interpretation (不穏な様子はなかった), and phrases that name nothing (特変なし) are
//! never cleared. Sentences reporting what someone else said (とのこと, 母によると) are labelled
//! hearsay; their content is judged the same way.
//!
//! **Plans.** A goal or support line must contain something a third person could check: a
//! concrete act (手洗いを自分で行う, カードを見せて伝える), or a change with a number (月2回以下に
//! する). A purpose or condition clause (〜できるよう、〜したときは) may be vague; the line it
//! leads into may not.
//!
//! **Without the analyser** (IPADIC absent) the check runs degraded: every interpretive word,
//! marker and vague amount is flagged and nothing clears it, since clauses and parts of speech
//! are unknown; the report says so (`degraded`).
//!
//! Each finding names its words, its clause and sentence, the lexicon entry behind it, and the
//! question whose answer would make it a fact.

mod claim;
mod clauses;
mod direction;
mod evaluative;
mod evidence;
mod hearsay;
mod measures;
mod plan;
mod quoted;
mod record;
mod said_of;

use std::ops::Range;

use crate::language::lexicon::{States, Valence};

use super::{
    analysis::{self, Analyzer, Tok},
    lexicon::{AnchorKind, Asks, Lexicon, OrganizationLexicon, TermKind},
    text,
};

/// The entry id of a plan line with no checkable element and no known vague phrase.
pub const UNMEASURABLE_GOAL: &str = "unmeasurable_goal";

/// Which rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Daily records (支援記録): interpretations need evidence of the state they claim.
    Record,
    /// Plan goals and policies (計画): goals must be checkable.
    Plan,
}

/// One problem in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Char range of the flagged words in the original text.
    pub span: Range<usize>,
    /// Char range of the clause they stand in.
    pub clause: Range<usize>,
    /// Char range of the sentence they stand in.
    pub sentence: Range<usize>,
    /// The flagged words as written.
    pub text: String,
    pub kind: TermKind,
    /// The lexicon entry (`calm`, `org:<id>` …).
    pub term_id: String,
    /// The entry's canonical phrase.
    pub label: String,
    pub asks: Asks,
    /// The question that would make it a fact, naming the words
    /// (「落ち着かない」と判断したのは、どんな様子から？).
    pub question: String,
    /// The sentence reports what someone else said (伝聞).
    pub hearsay: bool,
}

/// A fact anchor found in a text (for highlighting what makes a sentence checkable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundAnchor {
    pub span: Range<usize>,
    pub text: String,
    pub kind: AnchorKind,
}

/// The result of checking one text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub anchors: Vec<FoundAnchor>,
    pub sentence_count: usize,
    /// Char ranges of the sentences that report what someone else said (伝聞).
    pub hearsay: Vec<Range<usize>>,
    /// Checked without the analyser: every interpretive word is flagged.
    pub degraded: bool,
}

impl Report {
    /// Sentences with at least one finding.
    pub fn flagged_sentences(&self) -> usize {
        let mut starts: Vec<usize> = self.findings.iter().map(|f| f.sentence.start).collect();
        starts.dedup();
        starts.len()
    }
}

/// Checks `text` with the shipped lexicon and, when given, an organization's additions, using
/// the analyser when it is available.
pub fn check(
    text: &str,
    mode: Mode,
    lexicon: &Lexicon,
    own: Option<&OrganizationLexicon>,
) -> Report {
    check_with(text, mode, lexicon, own, analysis::get())
}

/// [`check`] with an explicit analyser (`None`: the degraded mode).
pub fn check_with(
    text: &str,
    mode: Mode,
    lexicon: &Lexicon,
    own: Option<&OrganizationLexicon>,
    analyzer: Option<&Analyzer>,
) -> Report {
    let folded = text::fold(text);
    let mut report = Report {
        degraded: analyzer.is_none(),
        ..Report::default()
    };
    // The previous sentence's findings that evidence opening this one may still clear.
    let mut pending: Vec<(usize, Wanted)> = Vec::new();
    // What the previous sentence's last clause showed, for claims opening this one.
    let mut trailing: Vec<Wanted> = Vec::new();
    for range in text::sentences(&folded) {
        report.sentence_count += 1;
        let sentence = Sentence::new(&folded, range, analyzer, own);
        let hearsay = hearsay::reports_someone_else(&sentence);
        let sentence_chars = text::char_range(&folded, sentence.range.clone());
        if hearsay {
            report.hearsay.push(sentence_chars.clone());
        }
        let raw = match mode {
            Mode::Record => record::check(&sentence, lexicon, own),
            Mode::Plan => plan::check(&sentence, lexicon, own),
        };
        let slice = |chars: &Range<usize>| -> String {
            text.chars().skip(chars.start).take(chars.len()).collect()
        };
        let mut cleared: Vec<usize> = pending
            .drain(..)
            .filter(|(_, wanted)| raw.leading_evidence.iter().any(|e| wanted.met_by(e)))
            .map(|(i, _)| i)
            .collect();
        cleared.sort_unstable();
        for i in cleared.into_iter().rev() {
            report.findings.remove(i);
        }
        for f in raw.findings {
            if f.previous_sentence_clears
                .is_some_and(|w| trailing.iter().any(|e| w.met_by(e)))
            {
                continue;
            }
            if let Some(wanted) = f.next_sentence_clears {
                pending.push((report.findings.len(), wanted));
            }
            let span = sentence.chars(&f.span);
            let clause = sentence.chars(&f.clause);
            let text_of = slice(&span);
            report.findings.push(Finding {
                question: question(f.asks, &text_of, f.kind),
                text: text_of,
                span,
                clause,
                sentence: sentence_chars.clone(),
                kind: f.kind,
                term_id: f.term_id,
                label: f.label,
                asks: f.asks,
                hearsay,
            });
        }
        for (r, kind) in raw.anchors {
            let span = sentence.chars(&r);
            report.anchors.push(FoundAnchor {
                text: slice(&span),
                span,
                kind,
            });
        }
        trailing = raw.trailing_evidence;
    }
    report
}

/// The question for one finding, naming the words.
fn question(asks: Asks, words: &str, kind: TermKind) -> String {
    match (asks, kind) {
        (_, TermKind::VagueGoal) | (Asks::Measure, _) => format!(
            "「{words}」は、誰が見ても確かめられる形にすると？ 何を、いつまでに、何回・どのくらい？"
        ),
        (Asks::HowMany, _) => format!("「{words}」は何回？ どのくらい？ 数で書いてください。"),
        (Asks::When, _) => format!("「{words}」は、いつからいつまで、何が変わった？"),
        (Asks::Words, _) => {
            format!("「{words}」と判断したのは、本人のどんな言葉や行動から？ 言葉は「」で。")
        }
        (Asks::Evidence, _) => {
            format!(
                "「{words}」と判断したのは、どんな様子から？ 見たこと・聞いたことを書いてください。"
            )
        }
    }
}

/// A finding before it is placed in the whole text (byte ranges in the sentence).
pub(super) struct RawFinding {
    pub span: Range<usize>,
    pub clause: Range<usize>,
    pub kind: TermKind,
    pub term_id: String,
    pub label: String,
    pub asks: Asks,
    /// Evidence in the first clause of the next sentence that would clear it, when the claim
    /// stands in its sentence's last clause (落ち着かない様子だった。3回席を立った。).
    pub next_sentence_clears: Option<Wanted>,
    /// Evidence in the last clause of the sentence before that would clear it, when the claim
    /// stands in its sentence's first clause (3回席を立った。落ち着かない様子だった。).
    pub previous_sentence_clears: Option<Wanted>,
}

/// What one sentence's rules found.
#[derive(Default)]
pub(super) struct RawReport {
    pub findings: Vec<RawFinding>,
    pub anchors: Vec<(Range<usize>, AnchorKind)>,
    /// What the evidence in the sentence's first clause shows (for the sentence before it).
    pub leading_evidence: Vec<Wanted>,
    /// What the evidence in the sentence's last clause shows (for the sentence after it).
    pub trailing_evidence: Vec<Wanted>,
}

/// What a claim asks of evidence, or what a piece of evidence shows: states, and which way
/// they point when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Wanted {
    pub states: States,
    pub valence: Option<Valence>,
}

impl Wanted {
    /// Whether evidence showing `shown` clears this claim: one of its states, pointing the same
    /// way (or either way unknown).
    pub(super) fn met_by(&self, shown: &Wanted) -> bool {
        self.states.cleared_by(shown.states) && Valence::agrees(self.valence, shown.valence)
    }
}

/// One sentence, folded, with its analysis.
pub(super) struct Sentence<'a> {
    /// The whole folded text and this sentence's byte range in it.
    whole: &'a str,
    pub range: Range<usize>,
    /// The sentence's text.
    pub s: &'a str,
    /// Tokens (empty in the degraded mode).
    pub tokens: Vec<Tok>,
    /// Quotations (「…」), brackets included.
    pub quotes: Vec<Range<usize>>,
    /// Phrases the organization allow-listed.
    pub allowed: Vec<Range<usize>>,
    pub clauses: Vec<clauses::Clause>,
    pub analysed: bool,
}

impl<'a> Sentence<'a> {
    fn new(
        whole: &'a str,
        range: Range<usize>,
        analyzer: Option<&Analyzer>,
        own: Option<&OrganizationLexicon>,
    ) -> Self {
        let s = &whole[range.clone()];
        let tokens: Vec<Tok> = analyzer.map(|a| a.tokens(s)).unwrap_or_default();
        let quotes = text::quotations(s);
        let clauses = clauses::split(s, &tokens, &quotes);
        Self {
            whole,
            s,
            allowed: own.map(|o| o.allowed(s)).unwrap_or_default(),
            tokens,
            quotes,
            clauses,
            range,
            analysed: analyzer.is_some(),
        }
    }

    /// Char range in the whole text of a byte range in the sentence.
    fn chars(&self, r: &Range<usize>) -> Range<usize> {
        text::char_range(
            self.whole,
            self.range.start + r.start..self.range.start + r.end,
        )
    }

    /// Whether a byte range lies in a quotation or an allow-listed phrase.
    pub(super) fn shielded(&self, r: &Range<usize>) -> bool {
        self.quotes
            .iter()
            .chain(&self.allowed)
            .any(|q| text::overlaps(q, r))
    }

    /// The index of the clause holding byte `at`.
    pub(super) fn clause_of(&self, at: usize) -> usize {
        self.clauses
            .iter()
            .position(|c| c.bytes.contains(&at))
            .unwrap_or(self.clauses.len().saturating_sub(1))
    }

    /// The token starting at or covering byte `at`.
    pub(super) fn token_at(&self, at: usize) -> Option<usize> {
        self.tokens.iter().position(|t| t.bytes.contains(&at))
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_hearsay;
#[cfg(test)]
mod tests_quality;
#[cfg(test)]
mod tests_rounds;
#[cfg(test)]
mod tests_signs;
