//! The reviewed regression set (`api/data/translation/regression.toml`): realistic records with
//! their expected renderings for the family, the client and the municipality, and the
//! invariants measured on them for `kakehashi language eval`.
//!
//! Why expected texts and not only the invariants: the invariants say what must not change;
//! the expected texts, reviewed by a person, also pin down how the renderings read, so a rule
//! change that makes them worse shows up as a diff to review.

use serde::{Deserialize, Serialize};

use super::{Audience, Glossary, Options, Rendering, invariants, persons, render_with};
use crate::language::analysis::Analyzer;

/// The shipped set.
pub const SHIPPED: &str = include_str!("../../../data/translation/regression.toml");

/// One record and its expected renderings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub text: String,
    pub family: String,
    pub client_easy: String,
    pub administration: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Set {
    pub record: Vec<Record>,
}

/// The audiences the set has expectations for.
pub const AUDIENCES: [Audience; 3] = [
    Audience::Family,
    Audience::ClientEasy,
    Audience::Administration,
];

impl Record {
    pub fn expected(&self, audience: Audience) -> Option<&str> {
        match audience {
            Audience::Family => Some(&self.family),
            Audience::ClientEasy => Some(&self.client_easy),
            Audience::Administration => Some(&self.administration),
            _ => None,
        }
    }
}

pub fn parse(source: &str) -> Result<Set, String> {
    toml::from_str(source).map_err(|e| e.to_string())
}

/// The invariants checked from the outside, independently of the rules' own check: numbers
/// and quotations survive, other people's names are gone for the family and the client, no
/// client appears where the source names none, and the acts are the same.
pub fn violations(source: &str, r: &Rendering) -> Vec<String> {
    let mut out = Vec::new();
    let folded = crate::language::text::fold(&r.text);
    for n in invariants::numbers(source) {
        if !folded.contains(&n) {
            out.push(format!("number {n}"));
        }
    }
    let mentions = persons::find(source, &[], crate::language::analysis::get());
    let names: Vec<&str> = mentions.iter().filter_map(|m| m.name.as_deref()).collect();
    for q in invariants::quotes(source) {
        if !names.iter().any(|n| q.contains(n)) && !r.text.contains(&q) {
            out.push(format!("quote {q}"));
        }
    }
    if matches!(r.audience, Audience::Family | Audience::ClientEasy) {
        for n in &names {
            if r.text.contains(n) {
                out.push(format!("name {n}"));
            }
        }
        let clients = persons::census(&mentions).client;
        let glossary_client = r.changes.iter().any(|c| {
            matches!(c.reason, super::ChangeReason::Glossary { .. })
                && (c.replacement.contains("あなた") || c.replacement.contains("ご本人"))
        });
        if clients == 0
            && !glossary_client
            && (r.text.contains("あなた") || r.text.contains("本人"))
        {
            out.push("client appears".into());
        }
    }
    if invariants::acts(source) != invariants::acts(&r.text) {
        out.push("acts changed".into());
    }
    out
}

/// Figures of the set, for `kakehashi language eval`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Score {
    pub renderings: usize,
    /// Renderings with no violation of [`violations`].
    pub invariants_hold: usize,
    /// Renderings equal to the reviewed expectation.
    pub as_expected: usize,
    pub sentences: usize,
    pub kept_as_written: usize,
}

pub fn score(set: &Set, glossary: &Glossary, analyzer: Option<&Analyzer>) -> (Score, Vec<String>) {
    let mut s = Score::default();
    let mut misses = Vec::new();
    for rec in &set.record {
        for a in AUDIENCES {
            let r = render_with(&rec.text, a, glossary, analyzer, &Options::default());
            s.renderings += 1;
            s.sentences += r.sentences.len();
            s.kept_as_written += r
                .sentences
                .iter()
                .filter(|x| x.kept_as_written.is_some())
                .count();
            let v = violations(&rec.text, &r);
            if v.is_empty() {
                s.invariants_hold += 1;
            } else {
                misses.push(format!("{} {}: {v:?}", a.as_str(), rec.text));
            }
            if rec.expected(a) == Some(r.text.as_str()) {
                s.as_expected += 1;
            } else {
                misses.push(format!("{} differs: {} → {}", a.as_str(), rec.text, r.text));
            }
        }
    }
    (s, misses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_regression_set_renders_as_reviewed_and_keeps_the_invariants() {
        let Some(a) = crate::language::analysis::tests::analyzer() else {
            return;
        };
        let set = parse(SHIPPED).expect("regression set");
        assert!(set.record.len() >= 60);
        let g = Glossary::shipped().expect("glossary");
        if std::env::var_os("KAKEHASHI_WRITE_REGRESSION").is_some() {
            let records = set
                .record
                .iter()
                .map(|r| {
                    let at = |x| render_with(&r.text, x, g, Some(a), &Options::default()).text;
                    Record {
                        text: r.text.clone(),
                        family: at(Audience::Family),
                        client_easy: at(Audience::ClientEasy),
                        administration: at(Audience::Administration),
                    }
                })
                .collect::<Vec<Record>>();
            let q = |s: &str| format!("{s:?}");
            let out: String = records
                .iter()
                .map(|r: &Record| {
                    format!(
                        "[[record]]\ntext = {}\nfamily = {}\nclient_easy = {}\nadministration = {}\n\n",
                        q(&r.text),
                        q(&r.family),
                        q(&r.client_easy),
                        q(&r.administration)
                    )
                })
                .collect();
            let header: String = SHIPPED
                .lines()
                .take_while(|l| l.starts_with('#'))
                .map(|l| format!("{l}\n"))
                .collect();
            std::fs::write(
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/data/translation/regression.toml"
                ),
                format!("{header}\n{out}"),
            )
            .expect("write");
            return;
        }
        let (score, misses) = score(&set, g, Some(a));
        assert!(misses.is_empty(), "{misses:#?}");
        assert_eq!(score.invariants_hold, score.renderings);
    }
}
