//! Quality figures of the language features, measured on the labelled sets kept in the
//! repository (`kakehashi language eval`; the figures in BENCHMARKS.md).
//!
//! The fact-check sets (`api/data/fact_check/*.tsv`, labelled by hand under
//! `api/data/fact_check/GUIDELINE.md`): `dev.tsv` is what the rules were built and tuned on;
//! `dev2.tsv` to `dev35.tsv` were written later by other authors and each scored once before any
//! rule was changed for it (`dev8` and `dev11` to `dev35` were blind held-out sets first:
//! BENCHMARKS.md has their first scores). `holdout.tsv`, `holdout3.tsv`, `holdout4.tsv`,
//! `holdout10.tsv`, `holdout11.tsv`, `holdout14.tsv`, `holdout15.tsv`, `holdout18.tsv` to
//! `holdout22.tsv`, `holdout25.tsv`, `holdout26.tsv`, `holdout28.tsv`, `holdout30.tsv` to
//! `holdout32.tsv`, `holdout35.tsv` to `holdout42.tsv`, `holdout45.tsv` to `holdout47.tsv`,
//! `holdout49.tsv`, `holdout51.tsv` to `holdout53.tsv`, `holdout56.tsv` to `holdout58.tsv`,
//! `holdout61.tsv`, `holdout63.tsv`, `holdout65.tsv` and `holdout66.tsv` were labelled
//! separately and only ever scored, never read to tune a rule (their misses are never printed).
//! A sentence is predicted FLAG when the check has at least one finding on it; hearsay is
//! predicted when the check labels any sentence of it as hearsay.

use std::{fmt::Write, path::PathBuf};

use anyhow::Context;

use super::{
    analysis,
    fact_check::{self, Mode},
    lexicon::Lexicon,
    readings, translation,
};

/// The bar for precision and recall of flagging, records and plan goals alike.
pub const TARGET: f64 = 0.95;

/// One shipped set by name: its name, its contents, whether the rules were tuned on it.
macro_rules! labelled_set {
    ($name:literal, $tuned:literal) => {
        (
            $name,
            include_str!(concat!("../../data/fact_check/", $name, ".tsv")),
            $tuned,
        )
    };
}

/// The shipped sets: name, contents, whether the rules were tuned on it.
pub const SHIPPED: [(&str, &str, bool); 75] = [
    labelled_set!("dev", true),
    labelled_set!("dev2", true),
    labelled_set!("dev3", true),
    labelled_set!("dev4", true),
    labelled_set!("dev5", true),
    labelled_set!("dev6", true),
    labelled_set!("dev7", true),
    labelled_set!("dev8", true),
    labelled_set!("dev9", true),
    labelled_set!("dev10", true),
    labelled_set!("dev11", true),
    labelled_set!("dev12", true),
    labelled_set!("dev13", true),
    labelled_set!("dev14", true),
    labelled_set!("dev15", true),
    labelled_set!("dev16", true),
    labelled_set!("dev17", true),
    labelled_set!("dev18", true),
    labelled_set!("dev19", true),
    labelled_set!("dev20", true),
    labelled_set!("dev21", true),
    labelled_set!("dev22", true),
    labelled_set!("dev23", true),
    labelled_set!("dev24", true),
    labelled_set!("dev25", true),
    labelled_set!("dev26", true),
    labelled_set!("dev27", true),
    labelled_set!("dev28", true),
    labelled_set!("dev29", true),
    labelled_set!("dev30", true),
    labelled_set!("dev31", true),
    labelled_set!("dev32", true),
    labelled_set!("dev33", true),
    labelled_set!("dev34", true),
    labelled_set!("dev35", true),
    labelled_set!("holdout", false),
    labelled_set!("holdout3", false),
    labelled_set!("holdout4", false),
    labelled_set!("holdout10", false),
    labelled_set!("holdout11", false),
    labelled_set!("holdout14", false),
    labelled_set!("holdout15", false),
    labelled_set!("holdout18", false),
    labelled_set!("holdout19", false),
    labelled_set!("holdout20", false),
    labelled_set!("holdout21", false),
    labelled_set!("holdout22", false),
    labelled_set!("holdout25", false),
    labelled_set!("holdout26", false),
    labelled_set!("holdout28", false),
    labelled_set!("holdout30", false),
    labelled_set!("holdout31", false),
    labelled_set!("holdout32", false),
    labelled_set!("holdout35", false),
    labelled_set!("holdout36", false),
    labelled_set!("holdout37", false),
    labelled_set!("holdout38", false),
    labelled_set!("holdout39", false),
    labelled_set!("holdout40", false),
    labelled_set!("holdout41", false),
    labelled_set!("holdout42", false),
    labelled_set!("holdout45", false),
    labelled_set!("holdout46", false),
    labelled_set!("holdout47", false),
    labelled_set!("holdout49", false),
    labelled_set!("holdout51", false),
    labelled_set!("holdout52", false),
    labelled_set!("holdout53", false),
    labelled_set!("holdout56", false),
    labelled_set!("holdout57", false),
    labelled_set!("holdout58", false),
    labelled_set!("holdout61", false),
    labelled_set!("holdout63", false),
    labelled_set!("holdout65", false),
    labelled_set!("holdout66", false),
];

/// Counts for one kind of text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub true_flags: usize,
    pub false_flags: usize,
    pub missed_flags: usize,
    pub true_clears: usize,
    /// Sentences whose hearsay label the check got right, of those labelled.
    pub hearsay_right: usize,
    pub hearsay_labelled: usize,
}

impl Counts {
    pub fn total(&self) -> usize {
        self.true_flags + self.false_flags + self.missed_flags + self.true_clears
    }
    pub fn precision(&self) -> f64 {
        ratio(self.true_flags, self.true_flags + self.false_flags)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.true_flags, self.true_flags + self.missed_flags)
    }
    pub fn meets(&self) -> bool {
        self.total() == 0 || (self.precision() >= TARGET && self.recall() >= TARGET)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// One labelled set, scored.
#[derive(Debug, Clone, Default)]
pub struct SetScore {
    pub record: Counts,
    pub plan: Counts,
    /// `FP`/`FN`/`HEARSAY` lines for the sentences scored wrongly.
    pub misses: Vec<String>,
}

/// Scores a labelled set (`kind<TAB>label<TAB>hearsay<TAB>text…`, a header row first).
pub fn score(tsv: &str, lexicon: &Lexicon) -> Result<SetScore, String> {
    let mut out = SetScore::default();
    for (n, line) in tsv.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let [kind, label, hearsay, text, ..] = cols[..] else {
            return Err(format!("line {}: fewer than 4 columns", n + 1));
        };
        let (mode, counts) = match kind {
            "PLAN" => (Mode::Plan, &mut out.plan),
            "RECORD" => (Mode::Record, &mut out.record),
            other => return Err(format!("line {}: unknown kind {other:?}", n + 1)),
        };
        let expected = match label {
            "FLAG" => true,
            "CLEAR" => false,
            other => return Err(format!("line {}: unknown label {other:?}", n + 1)),
        };
        let report = fact_check::check(text, mode, lexicon, None);
        let predicted = !report.findings.is_empty();
        let found: Vec<&str> = report.findings.iter().map(|f| f.text.as_str()).collect();
        match (expected, predicted) {
            (true, true) => counts.true_flags += 1,
            (false, false) => counts.true_clears += 1,
            (false, true) => {
                counts.false_flags += 1;
                out.misses.push(format!("FP {kind} {text}  {found:?}"));
            }
            (true, false) => {
                counts.missed_flags += 1;
                out.misses.push(format!("FN {kind} {text}"));
            }
        }
        if let Some(expected_hearsay) = match hearsay {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        } {
            counts.hearsay_labelled += 1;
            if report.hearsay.is_empty() != expected_hearsay {
                counts.hearsay_right += 1;
            } else {
                out.misses.push(format!(
                    "HEARSAY expected {} {text}",
                    if expected_hearsay { "yes" } else { "no" }
                ));
            }
        }
    }
    Ok(out)
}

/// What `kakehashi language eval` prints, and whether every figure met its target.
pub struct Outcome {
    pub text: String,
    pub met: bool,
}

/// Scores the given sets (or the shipped ones) and formats the figures.
pub fn evaluate(paths: &[PathBuf], show_misses: bool) -> anyhow::Result<Outcome> {
    let lexicon = Lexicon::builtin().map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut sets: Vec<(String, String, bool)> = Vec::new();
    if paths.is_empty() {
        for (name, tsv, tuned) in SHIPPED {
            sets.push((name.to_owned(), tsv.to_owned(), tuned));
        }
    } else {
        for p in paths {
            let tsv =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            sets.push((p.display().to_string(), tsv, false));
        }
    }
    let mut text = String::new();
    let mut met = true;
    let _ = writeln!(
        text,
        "analyser: {}",
        match analysis::get() {
            Some(a) => format!("IPADIC from {}", a.loaded_from.display()),
            None => format!("absent ({}): degraded mode", analysis::status().label()),
        }
    );
    let _ = writeln!(
        text,
        "fact check (target: precision and recall ≥ {TARGET:.2} for records and plan goals)"
    );
    for (name, tsv, tuned) in &sets {
        let s = score(tsv, lexicon).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        for (kind, c) in [("RECORD", &s.record), ("PLAN", &s.plan)] {
            if c.total() == 0 {
                continue;
            }
            let _ = writeln!(
                text,
                "  {name:<8} {kind:<6} n={:<4} precision {:.3}  recall {:.3}  (TP {} FP {} FN {} TN {}){}{}",
                c.total(),
                c.precision(),
                c.recall(),
                c.true_flags,
                c.false_flags,
                c.missed_flags,
                c.true_clears,
                if c.hearsay_labelled > 0 {
                    format!(
                        "  hearsay labels {}/{}",
                        c.hearsay_right, c.hearsay_labelled
                    )
                } else {
                    String::new()
                },
                if *tuned { "  [tuned on]" } else { "" },
            );
            met &= c.meets();
        }
        // Misses of a held-out set are never printed: reading them would be tuning on it.
        if show_misses && (*tuned || !paths.is_empty()) {
            for m in &s.misses {
                let _ = writeln!(text, "    {m}");
            }
        }
    }
    translation_figures(&mut text, &mut met);
    Ok(Outcome { text, met })
}

/// The readings line (gold list, target [`readings::TARGET`]) and the translation invariants
/// line (the regression set for every audience it covers: renderings whose numbers, quotations,
/// persons and acts hold, renderings as reviewed, sentences kept as written).
fn translation_figures(text: &mut String, met: &mut bool) {
    let Ok(glossary) = translation::Glossary::shipped() else {
        let _ = writeln!(text, "translation: the shipped glossary does not parse");
        *met = false;
        return;
    };
    match analysis::get() {
        Some(a) => {
            let readings: std::collections::HashMap<String, String> = glossary
                .entries()
                .iter()
                .filter_map(|e| Some((e.term.clone(), e.reading.clone()?)))
                .collect();
            match readings::accuracy(a, readings::GOLD, &readings) {
                Ok(acc) => {
                    let _ = writeln!(
                        text,
                        "readings: {}/{} = {:.3} (target ≥ {:.2})",
                        acc.right,
                        acc.total,
                        acc.ratio(),
                        readings::TARGET
                    );
                    *met &= acc.ratio() >= readings::TARGET;
                }
                Err(e) => {
                    let _ = writeln!(text, "readings: gold list unreadable: {e}");
                    *met = false;
                }
            }
        }
        None => {
            let _ = writeln!(text, "readings: no analyser (degraded mode: no furigana)");
        }
    }
    match translation::regression::parse(translation::regression::SHIPPED) {
        Ok(set) => {
            let (s, _) = translation::regression::score(&set, glossary, analysis::get());
            let _ = writeln!(
                text,
                "translation invariants: {}/{} renderings hold (numbers, quotations, persons, acts); {}/{} as reviewed; {}/{} sentences kept as written",
                s.invariants_hold,
                s.renderings,
                s.as_expected,
                s.renderings,
                s.kept_as_written,
                s.sentences
            );
            *met &= s.invariants_hold == s.renderings;
        }
        Err(e) => {
            let _ = writeln!(
                text,
                "translation invariants: regression set unreadable: {e}"
            );
            *met = false;
        }
    }
}
