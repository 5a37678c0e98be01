//! Evidence for monitoring rows and briefs (根拠): records selected by what they assert about a
//! goal's target, counted with polarity against the goal's threshold, and the fact check applied
//! to every point of a brief.
//!
//! Selection is by the goal's target (its behaviour's tags and words, see
//! [`crate::language::evidence`]), never by text similarity alone: a sleep-tagged record reaches
//! a sleep goal whatever words it uses, and a record saying 大声はなかった is evidence *against*
//! an outburst, listed but never counted as one. Works on observations already read and
//! authorized by the caller: no queries here.

use chrono::NaiveDate;
use entity::observation;
use uuid::Uuid;

use super::{access::jst_day, documents::BriefContent, observations};
use crate::{
    error::{ApiError, ApiResult},
    language::{
        evidence::{self, GoalSpec, Occurrence, Outcome, Polarity, Tally, Target},
        fact_check::{self, Mode, Report},
        lexicon::{Lexicon, OrganizationLexicon},
    },
};

/// One record judged against a target.
#[derive(Debug, Clone)]
pub struct Judged {
    pub observation: observation::Model,
    pub occurrence: Occurrence,
}

/// A goal's measured evidence: the goal read as a measure, its counts per period and the records
/// that speak of its target (happened and did not), oldest first.
#[derive(Debug, Clone)]
pub struct GoalEvidence {
    pub spec: GoalSpec,
    pub tallies: Vec<Tally<Uuid>>,
    pub judged: Vec<Judged>,
}

/// How a record stands to a target: judged from its text; a record tagged with the target and
/// silent about it is taken at the writer's word only for behaviours the module does not know.
pub fn judge(o: &observation::Model, target: &Target) -> Occurrence {
    let tagged = observations::tags(o).iter().any(|t| target.matches_tag(t));
    if tagged {
        evidence::judge_tagged(&o.fact, target)
    } else {
        evidence::judge(&o.fact, target)
    }
}

/// The evidence for the first of `goal_texts` that reads as a measure (the service-use goal,
/// else a facility counterpart's), over `records` in `[from, to]`.
pub fn for_goal(
    goal_texts: &[&str],
    records: &[&observation::Model],
    from: NaiveDate,
    to: NaiveDate,
) -> Option<GoalEvidence> {
    let specs: Vec<GoalSpec> = goal_texts
        .iter()
        .filter_map(|t| GoalSpec::parse(t))
        .collect();
    // A threshold beats a bare direction; a known behaviour beats a guessed word.
    let spec = specs
        .iter()
        .find(|s| s.threshold.is_some() && s.target.concept.is_some())
        .or_else(|| specs.iter().find(|s| s.target.concept.is_some()))
        .or_else(|| specs.iter().find(|s| s.threshold.is_some()))
        .or_else(|| specs.first())?
        .clone();
    let mut judged: Vec<Judged> = records
        .iter()
        .map(|o| Judged {
            occurrence: judge(o, &spec.target),
            observation: (*o).clone(),
        })
        .filter(|j| j.occurrence.polarity != Polarity::Unrelated)
        .collect();
    judged.sort_by_key(|j| (j.observation.occurred_from, j.observation.id));
    let dated: Vec<(NaiveDate, Occurrence, Uuid)> = judged
        .iter()
        .map(|j| {
            (
                jst_day(j.observation.occurred_from),
                j.occurrence,
                j.observation.id,
            )
        })
        .collect();
    let tallies = evidence::tally(&spec, &dated, from, to);
    Some(GoalEvidence {
        spec,
        tallies,
        judged,
    })
}

/// What a judgement says, in a word: あり / なし, or the outcome (完食 / 一部残した …).
pub fn outcome_label(target: &Target, o: &Occurrence) -> &'static str {
    let labels = target.concept.and_then(|c| c.outcomes);
    match (o.polarity, o.outcome, labels) {
        (_, Some(Outcome::Full), Some(l)) => l[0],
        (_, Some(Outcome::Partial), Some(l)) => l[1],
        (_, Some(Outcome::None), Some(l)) => l[2],
        (Polarity::Occurred, ..) => "あり",
        (Polarity::NotOccurred, ..) => "なし",
        (Polarity::Unrelated, ..) => "言及なし",
    }
}

/// A group of tagged records with the same judgement, for a brief's evidence counts.
#[derive(Debug, Clone)]
pub struct TagCount {
    pub tag: String,
    /// あり, なし, 完食, 一部残した …
    pub label: &'static str,
    pub polarity: Polarity,
    pub outcome: Option<Outcome>,
    pub observations: Vec<observation::Model>,
}

impl TagCount {
    /// 「怒りの表出」あり 2件（11/3〜11/10）.
    pub fn text(&self) -> String {
        let first = self.observations.iter().map(|o| o.occurred_from).min();
        let last = self.observations.iter().map(|o| o.occurred_from).max();
        let span = match (first, last) {
            (Some(a), Some(b)) if a != b => format!(
                "（{}〜{}）",
                super::jst_month_day(a),
                super::jst_month_day(b)
            ),
            (Some(a), _) => format!("（{}）", super::jst_month_day(a)),
            _ => String::new(),
        };
        let label = if self.polarity == Polarity::NotOccurred && self.outcome.is_none() {
            "なしと記録"
        } else {
            self.label
        };
        format!(
            "「{}」{label} {}件{span}",
            self.tag,
            self.observations.len()
        )
    }
}

/// Evidence counts per tag: only records that say the behaviour happened count as it, those
/// that say it did not are a count of their own, and graded behaviours are split by outcome.
/// Tags on fewer than `min_records` records are left out.
pub fn tag_counts(records: &[observation::Model], min_records: usize) -> Vec<TagCount> {
    let mut tags: Vec<String> = records.iter().flat_map(observations::tags).collect();
    tags.sort();
    tags.dedup();
    let mut out: Vec<(usize, TagCount)> = Vec::new();
    for tag in tags {
        let tagged: Vec<&observation::Model> = records
            .iter()
            .filter(|o| observations::tags(o).contains(&tag))
            .collect();
        if tagged.len() < min_records {
            continue;
        }
        let target = Target::of_tag(&tag);
        let mut groups: Vec<TagCount> = Vec::new();
        for o in &tagged {
            let j = evidence::judge_tagged(&o.fact, &target);
            if j.polarity == Polarity::Unrelated {
                continue;
            }
            let label = outcome_label(&target, &j);
            match groups.iter_mut().find(|g| g.label == label) {
                Some(g) => g.observations.push((*o).clone()),
                None => groups.push(TagCount {
                    tag: tag.clone(),
                    label,
                    polarity: j.polarity,
                    outcome: j.outcome,
                    observations: vec![(*o).clone()],
                }),
            }
        }
        groups.sort_by_key(|g| (g.polarity != Polarity::Occurred, g.outcome));
        out.extend(groups.into_iter().map(|g| (tagged.len(), g)));
    }
    // The most recorded tags first (ties by name, so drafts are stable).
    out.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.tag.cmp(&b.1.tag)));
    out.into_iter().map(|(_, g)| g).collect()
}

/// A fact-check finding on one point of a brief.
#[derive(Debug, Clone)]
pub struct PointFinding {
    /// `recentChanges`, `stablePoints`, `unstablePoints` or `focusNextMonth`.
    pub part: &'static str,
    pub index: usize,
    pub point: String,
    pub impression: bool,
    pub words: String,
    pub question: String,
}

fn builtin() -> ApiResult<&'static Lexicon> {
    Lexicon::builtin().map_err(|e| ApiError::internal(anyhow::anyhow!("lexicon: {e}")))
}

/// Checks a point's text: recent changes and support points as records, the focus for next
/// month as a plan line.
pub fn check_point(part: &str, text: &str, own: Option<&OrganizationLexicon>) -> ApiResult<Report> {
    let mode = if part == "focusNextMonth" {
        Mode::Plan
    } else {
        Mode::Record
    };
    Ok(fact_check::check(text, mode, builtin()?, own))
}

/// Whether a checked text states a fact on its own: one sentence at least with something
/// checkable in it and nothing left uncleared.
pub fn states_a_fact(text: &str, r: &Report) -> bool {
    let folded = crate::language::text::fold(text);
    crate::language::text::sentences(&folded)
        .into_iter()
        .map(|bytes| crate::language::text::char_range(&folded, bytes))
        .any(|sentence| {
            r.anchors
                .iter()
                .any(|a| a.span.start >= sentence.start && a.span.end <= sentence.end)
                && !r.findings.iter().any(|f| f.sentence == sentence)
        })
}

/// The fact check on every point of a brief.
pub fn brief_findings(
    content: &BriefContent,
    own: Option<&OrganizationLexicon>,
) -> ApiResult<Vec<PointFinding>> {
    let mut out = Vec::new();
    for (part, points) in content.parts() {
        for (index, p) in points.iter().enumerate() {
            for f in check_point(part, &p.text, own)?.findings {
                out.push(PointFinding {
                    part,
                    index,
                    point: p.text.clone(),
                    impression: p.impression,
                    words: f.text,
                    question: f.question,
                });
            }
        }
    }
    Ok(out)
}

/// Refuses a point with no fact at all: no citation, nothing that passes the fact check, and
/// not marked as an impression by its writer.
pub fn require_facts(content: &BriefContent, own: Option<&OrganizationLexicon>) -> ApiResult<()> {
    for (part, points) in content.parts() {
        for (index, p) in points.iter().enumerate() {
            if p.impression || !p.observation_ids.is_empty() {
                continue;
            }
            if !states_a_fact(&p.text, &check_point(part, &p.text, own)?) {
                return Err(ApiError::bad_input(
                    format!("content.{part}.{index}"),
                    format!(
                        "「{}」 ({part} {}) states no fact: cite the observations it rests on, write what was seen (a count, a time, an act, the client's words), or mark it as an impression (impression: true).",
                        p.text.trim(),
                        index + 1
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{language::analysis::tests::analyzer, service::documents::BriefPoint};

    fn point(text: &str) -> BriefPoint {
        BriefPoint {
            text: text.to_owned(),
            observation_ids: Vec::new(),
            impression: false,
        }
    }

    fn content(changes: &str, stable: &str, focus: &str) -> BriefContent {
        BriefContent {
            recent_changes: vec![point(changes)],
            stable_points: vec![point(stable)],
            unstable_points: Vec::new(),
            focus_next_month: vec![point(focus)],
        }
    }

    #[test]
    fn a_point_without_any_fact_is_refused_unless_marked_as_an_impression() {
        if analyzer().is_none() {
            return;
        }
        for (part, text) in [
            ("recentChanges", "この1週間、大声は0回。"),
            (
                "recentChanges",
                "前日予告を始めてから、作業変更の日も大声が出ていない(この1週間0回)。",
            ),
            ("stablePoints", "5日間すべて定時に来所している。"),
            ("unstablePoints", "昼食を半分残す日が3日続いた。"),
            ("unstablePoints", "昼食を半分残した日が2日。"),
            ("focusNextMonth", "食事量を毎日記録する。"),
            (
                "focusNextMonth",
                "昼食の摂取量を毎日記録し、3日続けて半分以上残したら家族に電話で伝える。",
            ),
        ] {
            let r = check_point(part, text, None).expect("check");
            assert!(states_a_fact(text, &r), "{part} {text}: {r:?}");
        }
        for (part, text) in [
            ("recentChanges", "特変なし。"),
            ("stablePoints", "引き続き様子を見ていく。"),
            ("recentChanges", "最近は落ち着いて過ごしている。"),
            (
                "focusNextMonth",
                "食事量の変化を記録し、体調の変化を早めにつかむ。",
            ),
        ] {
            let r = check_point(part, text, None).expect("check");
            assert!(!states_a_fact(text, &r), "{part} {text}: {r:?}");
        }
        let bare = content(
            "特変なし。",
            "5日間すべて定時に来所している。",
            "食事量を毎日記録する。",
        );
        let err = require_facts(&bare, None).expect_err("refused");
        assert!(format!("{err:?}").contains("特変なし"), "{err:?}");
        let mut marked = bare.clone();
        marked.recent_changes[0].impression = true;
        assert!(require_facts(&marked, None).is_ok());
        let found = brief_findings(&marked, None).expect("findings");
        assert!(
            found
                .iter()
                .any(|f| f.part == "recentChanges" && f.impression)
        );
    }
}
