//! The fact check (事実と解釈を分ける, DOMAIN.md §5).
//!
//! A record sentence is flagged when it holds an interpretive expression or marker and no fact
//! anchor (a number with a counter, a time or period, someone's words in 「」, a concrete
//! action) stands in the same sentence, or a vague amount and no number. A plan sentence is
//! flagged when it holds a vague goal (or an interpretive expression) and nothing checkable.
//! Each finding carries its span, the lexicon entry behind it and the question to answer.

use std::ops::Range;

use super::{
    lexicon::{AnchorKind, Asks, Lexicon, OrganizationLexicon, Term, TermKind},
    text::{self, overlaps},
};

/// The entry id of a plan goal with no checkable element and no known vague phrase.
pub const UNMEASURABLE_GOAL: &str = "unmeasurable_goal";

/// Which rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Daily records (支援記録): facts must stand beside interpretations.
    Record,
    /// Plan goals and policies (計画): goals must be checkable.
    Plan,
}

/// One problem in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Char range of the flagged words in the original text.
    pub span: Range<usize>,
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
}

impl Report {
    /// Sentences with at least one finding.
    pub fn flagged_sentences(&self) -> usize {
        let mut starts: Vec<usize> = self.findings.iter().map(|f| f.sentence.start).collect();
        starts.dedup();
        starts.len()
    }
}

/// Checks `text` with the shipped lexicon and, when given, an organization's additions.
pub fn check(
    text: &str,
    mode: Mode,
    lexicon: &Lexicon,
    own: Option<&OrganizationLexicon>,
) -> Report {
    let folded = text::fold(text);
    let mut report = Report::default();
    for sentence in text::sentences(&folded) {
        report.sentence_count += 1;
        check_sentence(&folded, text, sentence, mode, lexicon, own, &mut report);
    }
    report
}

fn check_sentence(
    folded: &str,
    original: &str,
    sentence: Range<usize>,
    mode: Mode,
    lexicon: &Lexicon,
    own: Option<&OrganizationLexicon>,
    report: &mut Report,
) {
    let s = &folded[sentence.clone()];
    let quotes = text::quotations(s);
    let allowed = own.map(|o| o.allowed(s)).unwrap_or_default();
    let terms = lexicon
        .terms
        .iter()
        .chain(own.into_iter().flat_map(|o| o.terms.iter()))
        .filter(|t| mode == Mode::Plan || t.kind != TermKind::VagueGoal);

    // Candidates outside quotations and allow-listed phrases; the longest wins where they overlap.
    let mut candidates: Vec<(Range<usize>, &Term)> = terms
        .flat_map(|t| t.find(s).into_iter().map(move |r| (r, t)))
        .filter(|(r, _)| !quotes.iter().chain(&allowed).any(|q| overlaps(q, r)))
        .collect();
    candidates.sort_by_key(|(r, t)| (r.start, std::cmp::Reverse(r.end), t.kind as u8));
    let mut kept: Vec<(Range<usize>, &Term)> = Vec::new();
    for (r, t) in candidates {
        if !kept.iter().any(|(k, _)| overlaps(k, &r)) {
            kept.push((r, t));
        }
    }

    // Anchors; the flagged words themselves are no evidence.
    let mut anchors: Vec<(Range<usize>, AnchorKind)> = quotes
        .iter()
        .map(|q| (q.clone(), AnchorKind::Words))
        .collect();
    for a in lexicon
        .anchors
        .iter()
        .chain(own.into_iter().flat_map(|o| o.anchors.iter()))
        .filter(|a| mode == Mode::Record || !a.record_only)
    {
        for r in a.find(s) {
            // An action the writer only guesses at or generalises (泣きそう, 欠席しがち,
            // 時々休む) is no evidence either.
            let guessed = a.kind == AnchorKind::Action
                && kept.iter().any(|(k, t)| {
                    matches!(t.kind, TermKind::Marker)
                        && k.start >= r.end
                        && s[r.end..k.start].chars().count() <= 2
                });
            if !guessed
                && !kept.iter().any(|(k, _)| overlaps(k, &r))
                && !anchors.iter().any(|(q, _)| overlaps(q, &r))
            {
                anchors.push((r, a.kind));
            }
        }
    }
    anchors.sort_by_key(|(r, _)| r.start);
    let anchored = !anchors.is_empty();
    let counted = anchors.iter().any(|(_, k)| *k == AnchorKind::Number);

    let to_chars = |r: &Range<usize>| {
        text::char_range(folded, sentence.start + r.start..sentence.start + r.end)
    };
    let sentence_chars = text::char_range(folded, sentence.clone());
    let slice = |chars: &Range<usize>| -> String {
        original
            .chars()
            .skip(chars.start)
            .take(chars.len())
            .collect()
    };
    if mode == Mode::Plan && !anchored && kept.is_empty() {
        // A goal with nothing checkable is vague even in words the lexicon does not know.
        report.findings.push(Finding {
            text: slice(&sentence_chars),
            span: sentence_chars.clone(),
            sentence: sentence_chars.clone(),
            kind: TermKind::VagueGoal,
            term_id: UNMEASURABLE_GOAL.into(),
            label: "測れる要素のない目標".into(),
            asks: Asks::Measure,
        });
    }
    for (r, t) in &kept {
        let flagged = match t.kind {
            TermKind::VagueAmount => !counted,
            TermKind::Interpretation | TermKind::Marker | TermKind::VagueGoal => !anchored,
        };
        if flagged {
            let span = to_chars(r);
            report.findings.push(Finding {
                text: slice(&span),
                span,
                sentence: sentence_chars.clone(),
                kind: t.kind,
                term_id: t.id.clone(),
                label: t.label.clone(),
                asks: t.asks,
            });
        }
    }
    for (r, kind) in anchors {
        let span = to_chars(&r);
        report.anchors.push(FoundAnchor {
            text: slice(&span),
            span,
            kind,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language::lexicon::OwnTermKind;

    fn lex() -> &'static Lexicon {
        Lexicon::builtin().expect("lexicon")
    }

    fn flags(text: &str, mode: Mode) -> Vec<String> {
        check(text, mode, lex(), None)
            .findings
            .into_iter()
            .map(|f| f.text)
            .collect()
    }

    #[test]
    fn conjugations_and_variants_are_caught() {
        for s in [
            "最近は落ち着いています。",
            "ずっと落ち着かない。",
            "落ち着いた様子で過ごされた。",
            "落ちつきがなかった。",
        ] {
            assert!(!flags(s, Mode::Record).is_empty(), "{s}");
        }
    }

    #[test]
    fn a_fact_anchor_in_the_same_sentence_clears_the_interpretation() {
        assert!(flags("この1週間、怒りの表出がありませんでした。", Mode::Record).is_empty());
        assert!(
            flags(
                "昼食後に3回席を立ち、落ち着かない様子だった。",
                Mode::Record
            )
            .is_empty()
        );
        assert!(flags("「もう帰りたい」と不満そうだった。", Mode::Record).is_empty());
        // The anchor must be in the same sentence.
        assert_eq!(
            flags("3回席を立った。落ち着かない様子だった。", Mode::Record),
            vec!["落ち着", "様子"]
        );
    }

    #[test]
    fn vague_amounts_need_a_number_not_just_any_anchor() {
        assert_eq!(
            flags("時々、作業中に席を立った。", Mode::Record),
            vec!["時々"]
        );
        assert!(flags("作業中に4回席を立った。", Mode::Record).is_empty());
    }

    #[test]
    fn quoted_words_are_never_flagged() {
        assert!(flags("「今日は楽しかった、元気です」と話した。", Mode::Record).is_empty());
    }

    #[test]
    fn findings_carry_span_question_and_entry() {
        let text = "ＡさんはＢ型作業で頑張っていた。";
        let r = check(text, Mode::Record, lex(), None);
        let f = &r.findings[0];
        assert_eq!(f.text, "頑張");
        let chars: String = text.chars().skip(f.span.start).take(f.span.len()).collect();
        assert_eq!(chars, "頑張");
        assert_eq!(f.term_id, "effort");
        assert_eq!(f.asks, Asks::Evidence);
        assert_eq!(f.sentence, 0..text.chars().count());
    }

    #[test]
    fn vague_plan_goals_are_flagged_and_concrete_ones_are_not() {
        assert!(!flags("安定した生活を送る。", Mode::Plan).is_empty());
        assert!(!flags("その人らしく地域で暮らせるよう支援する。", Mode::Plan).is_empty());
        assert!(flags("週4日、9:30から15:00まで作業に参加する。", Mode::Plan).is_empty());
        // Vague goals are plan language only.
        assert!(flags("その人らしく地域で暮らせるよう支援する。", Mode::Record).is_empty());
    }

    #[test]
    fn an_organization_adds_terms_and_allow_lists_its_own_phrases() {
        let own = OrganizationLexicon::new([
            ("落ち着きルーム", OwnTermKind::Allowed, "org:a".into()),
            ("しんみり", OwnTermKind::Interpretation, "org:b".into()),
            ("袋詰め作業", OwnTermKind::Anchor, "org:c".into()),
        ]);
        let check_own = |s: &str| {
            check(s, Mode::Record, lex(), Some(&own))
                .findings
                .into_iter()
                .map(|f| f.term_id)
                .collect::<Vec<_>>()
        };
        assert!(check_own("落ち着きルームへ移動した。").is_empty());
        assert_eq!(check_own("しんみりしていた。"), vec!["org:b"]);
        assert!(check_own("意欲的に袋詰め作業をした。").is_empty());
    }

    /// Precision and recall over a labelled set (`kind<TAB>label<TAB>text<TAB>note`): a
    /// sentence is predicted FLAG when it has at least one finding.
    fn score(name: &str, tsv: &str) -> (f64, f64, usize, Vec<String>) {
        let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
        let mut misses = Vec::new();
        let mut n = 0;
        for line in tsv.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            let cols: Vec<&str> = line.split('\t').collect();
            assert!(cols.len() >= 3, "{name}: bad line {line}");
            let mode = match cols[0] {
                "PLAN" => Mode::Plan,
                _ => Mode::Record,
            };
            let expected = cols[1] == "FLAG";
            let report = check(cols[2], mode, lex(), None);
            let predicted = !report.findings.is_empty();
            n += 1;
            match (expected, predicted) {
                (true, true) => tp += 1,
                (false, true) => {
                    fp += 1;
                    misses.push(format!(
                        "FP {} {:?}",
                        cols[2],
                        report.findings.iter().map(|f| &f.text).collect::<Vec<_>>()
                    ));
                }
                (true, false) => {
                    fn_ += 1;
                    misses.push(format!("FN {}", cols[2]));
                }
                (false, false) => {}
            }
        }
        let precision = tp as f64 / (tp + fp).max(1) as f64;
        let recall = tp as f64 / (tp + fn_).max(1) as f64;
        (precision, recall, n, misses)
    }

    #[test]
    fn precision_and_recall_on_the_labelled_sets_are_at_least_0_9() {
        for (name, tsv) in [
            (
                "fact_check_cases.tsv",
                include_str!("../../data/fact_check_cases.tsv"),
            ),
            (
                "fact_check_holdout.tsv",
                include_str!("../../data/fact_check_holdout.tsv"),
            ),
            (
                "fact_check_fresh.tsv",
                include_str!("../../data/fact_check_fresh.tsv"),
            ),
        ] {
            let (p, r, n, misses) = score(name, tsv);
            println!("{name}: {n} sentences, precision {p:.3}, recall {r:.3}");
            for m in &misses {
                println!("  {m}");
            }
            assert!(n >= 80, "{name}: only {n} sentences");
            assert!(
                p >= 0.9 && r >= 0.9,
                "{name}: precision {p:.3}, recall {r:.3}"
            );
        }
    }
}
