//! The fact-check lexicon: the reviewed data file `api/data/fact_check_lexicon.toml`, compiled
//! once, plus each organization's own terms and allow-list on top.

use std::{ops::Range, sync::LazyLock};

use regex::Regex;
use serde::Deserialize;

use super::text::overlaps;

mod states;

use states::ValenceRule;
pub use states::{States, Valence};

/// What kind of problem a term signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TermKind {
    /// An interpretive expression (解釈語): 落ち着いている, 不穏, 頑張っている …
    Interpretation,
    /// A marker that turns a fact into a guess (解釈の標識): 〜様子, 〜そう, 〜と思われる …
    Marker,
    /// A vague amount or frequency (曖昧な量・頻度): 少し, 時々, よく …
    VagueAmount,
    /// A vague plan goal (抽象的な目標): 安定した生活, その人らしく … (plan texts only)
    VagueGoal,
}

/// The question a finding asks its writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Asks {
    Evidence,
    HowMany,
    When,
    Words,
    Measure,
}

impl Asks {
    /// The question, in the words staff use.
    pub const fn question(self) -> &'static str {
        match self {
            Self::Evidence => "何をもってそう判断した？ 見たこと・聞いたことを書いてください。",
            Self::HowMany => "何回？ どのくらい？ 数で書いてください。",
            Self::When => "いつからいつまで？ 期間と、何が変わったかを書いてください。",
            Self::Words => "本人は何と言った？ 本人の言葉を「」で書いてください。",
            Self::Measure => {
                "何が、いつまでに、どのくらいできたら達成？ 本人の行動と回数・期間で書いてください。"
            }
        }
    }
}

/// What makes a sentence checkable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AnchorKind {
    /// A number with a counter or unit (3回, 90分, 38.2度).
    Number,
    /// A clock time, date or concrete period (9時, 10/3, 昼食後).
    Time,
    /// A concrete, observable action (言った, 席を立った, 完食した).
    Action,
    /// Someone's own words in 「」.
    Words,
}

/// Literal stems and context patterns with their look-alike exceptions.
#[derive(Debug)]
struct Matcher {
    patterns: Vec<Regex>,
    except: Vec<Regex>,
}

impl Matcher {
    fn new(words: &[String], patterns: &[String], except: &[String]) -> Result<Self, String> {
        let mut compiled = Vec::new();
        if !words.is_empty() {
            let mut sorted: Vec<&String> = words.iter().collect();
            // Longest first, so the alternation prefers the longer stem.
            sorted.sort_by_key(|w| std::cmp::Reverse(w.len()));
            let alt = sorted
                .iter()
                .map(|w| regex::escape(w))
                .collect::<Vec<_>>()
                .join("|");
            compiled.push(Regex::new(&alt).map_err(|e| e.to_string())?);
        }
        for p in patterns {
            compiled.push(Regex::new(p).map_err(|e| format!("{p}: {e}"))?);
        }
        let except = except
            .iter()
            .map(|p| Regex::new(p).map_err(|e| format!("{p}: {e}")))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            patterns: compiled,
            except,
        })
    }

    /// Byte ranges matched in `s` (a pattern's group `m` when it has one), minus look-alikes.
    fn find(&self, s: &str) -> Vec<Range<usize>> {
        let excepted: Vec<Range<usize>> = self
            .except
            .iter()
            .flat_map(|re| re.find_iter(s).map(|m| m.range()))
            .collect();
        let mut out = Vec::new();
        for re in &self.patterns {
            for caps in re.captures_iter(s) {
                let Some(m) = caps.name("m").or_else(|| caps.get(0)) else {
                    continue;
                };
                let r = m.range();
                if !r.is_empty() && !excepted.iter().any(|e| overlaps(e, &r)) {
                    out.push(r);
                }
            }
        }
        out
    }
}

/// One entry that flags text.
#[derive(Debug)]
pub struct Term {
    /// Stable id (`calm`, `org:…` for an organization's own terms).
    pub id: String,
    /// The canonical phrase shown to the writer.
    pub label: String,
    pub kind: TermKind,
    pub asks: Asks,
    /// What the claim is about; empty for markers (they take the state of the word they
    /// follow) and for phrases that name nothing checkable (特変なし), which no fact clears.
    pub states: States,
    matcher: Matcher,
    valence: ValenceRule,
}

impl Term {
    pub fn find(&self, s: &str) -> Vec<Range<usize>> {
        self.matcher.find(s)
    }

    /// Which way the matched words point, as written (before any negation after them).
    pub fn valence(&self, matched: &str) -> Option<Valence> {
        self.valence.of(matched)
    }
}

/// One entry that anchors a sentence in fact.
#[derive(Debug)]
pub struct Anchor {
    pub id: String,
    pub kind: AnchorKind,
    /// Anchors a record sentence but not a plan goal (parts of the day, staff actions).
    pub record_only: bool,
    matcher: Matcher,
}

impl Anchor {
    pub fn find(&self, s: &str) -> Vec<Range<usize>> {
        self.matcher.find(s)
    }
}

/// Observable evidence of a state (a behaviour, a sign, a measure), or a word that gives a
/// marker its state (`state_word`: 退屈 in 退屈そう).
#[derive(Debug)]
pub struct Evidence {
    pub id: String,
    pub states: States,
    matcher: Matcher,
    valence: ValenceRule,
}

impl Evidence {
    pub fn find(&self, s: &str) -> Vec<Range<usize>> {
        self.matcher.find(s)
    }

    /// Which way the matched words point, as written (before any negation after them).
    pub fn valence(&self, matched: &str) -> Option<Valence> {
        self.valence.of(matched)
    }
}

/// Words for the record rules.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordWords {
    /// Things an interpretive word may be said of (天候が不安定): then it is no claim about a
    /// person.
    pub things: Vec<String>,
}

/// Words that make a plan line uncheckable however it is phrased (dictionary forms).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanWords {
    /// Verbs that name no act a third person could see happen (過ごす, 支援する, 図る …).
    pub vague_verbs: Vec<String>,
    /// Nouns that, as the object of する/行う, name no act (支援, 対応, 見守り …).
    pub vague_nouns: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvidence {
    id: String,
    states: Vec<String>,
    #[serde(default)]
    words: Vec<String>,
    #[serde(default)]
    patterns: Vec<String>,
    #[serde(default)]
    except: Vec<String>,
    #[serde(default)]
    valence: Option<Valence>,
    #[serde(default)]
    good: Vec<String>,
    #[serde(default)]
    bad: Vec<String>,
    #[serde(default)]
    neutral: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTerm {
    id: String,
    label: String,
    #[serde(default)]
    states: Vec<String>,
    #[serde(default)]
    words: Vec<String>,
    #[serde(default)]
    patterns: Vec<String>,
    #[serde(default)]
    except: Vec<String>,
    asks: Asks,
    #[serde(default)]
    valence: Option<Valence>,
    #[serde(default)]
    good: Vec<String>,
    #[serde(default)]
    bad: Vec<String>,
    #[serde(default)]
    neutral: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnchor {
    id: String,
    #[serde(rename = "type")]
    kind: AnchorKind,
    #[serde(default)]
    record_only: bool,
    #[serde(default)]
    words: Vec<String>,
    #[serde(default)]
    patterns: Vec<String>,
    #[serde(default)]
    except: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    interpretation: Vec<RawTerm>,
    marker: Vec<RawTerm>,
    vague_amount: Vec<RawTerm>,
    vague_goal: Vec<RawTerm>,
    evidence: Vec<RawEvidence>,
    state_word: Vec<RawEvidence>,
    anchor: Vec<RawAnchor>,
    record: RecordWords,
    plan: PlanWords,
}

/// The shipped lexicon, compiled.
#[derive(Debug)]
pub struct Lexicon {
    pub terms: Vec<Term>,
    pub evidence: Vec<Evidence>,
    pub state_words: Vec<Evidence>,
    pub anchors: Vec<Anchor>,
    pub record: RecordWords,
    pub plan: PlanWords,
}

/// The data file, part of the binary so that every installation checks the same way.
pub const SOURCE: &str = include_str!("../../../data/fact_check_lexicon.toml");

static BUILTIN: LazyLock<Result<Lexicon, String>> = LazyLock::new(|| Lexicon::parse(SOURCE));

impl Lexicon {
    /// The shipped lexicon. Its data file is checked by a unit test and at start-up
    /// ([`Lexicon::check_builtin`]), so the error arm is unreachable in a running server.
    pub fn builtin() -> Result<&'static Lexicon, &'static str> {
        BUILTIN.as_ref().map_err(String::as_str)
    }

    /// Fails start-up when the shipped lexicon does not compile.
    pub fn check_builtin() -> anyhow::Result<()> {
        Self::builtin()
            .map(|_| ())
            .map_err(|e| anyhow::anyhow!("fact-check lexicon: {e}"))
    }

    pub fn parse(source: &str) -> Result<Self, String> {
        let raw: RawFile = toml::from_str(source).map_err(|e| e.to_string())?;
        let mut terms = Vec::new();
        for (kind, list) in [
            (TermKind::Interpretation, raw.interpretation),
            (TermKind::Marker, raw.marker),
            (TermKind::VagueAmount, raw.vague_amount),
            (TermKind::VagueGoal, raw.vague_goal),
        ] {
            for t in list {
                let matcher = Matcher::new(&t.words, &t.patterns, &t.except)
                    .map_err(|e| format!("{}: {e}", t.id))?;
                let states = States::parse(&t.states).map_err(|e| format!("{}: {e}", t.id))?;
                let valence = ValenceRule::new(t.valence, &t.good, &t.bad, &t.neutral)
                    .map_err(|e| format!("{}: {e}", t.id))?;
                terms.push(Term {
                    id: t.id,
                    label: t.label,
                    kind,
                    asks: t.asks,
                    states,
                    matcher,
                    valence,
                });
            }
        }
        let anchors = raw
            .anchor
            .into_iter()
            .map(|a| {
                Ok(Anchor {
                    matcher: Matcher::new(&a.words, &a.patterns, &a.except)
                        .map_err(|e| format!("{}: {e}", a.id))?,
                    id: a.id,
                    kind: a.kind,
                    record_only: a.record_only,
                })
            })
            .collect::<Result<_, String>>()?;
        let evidence_list = |list: Vec<RawEvidence>| {
            list.into_iter()
                .map(|e| {
                    let (words, mut patterns) = with_counts_between(&e.words);
                    patterns.extend(e.patterns.iter().cloned());
                    Ok(Evidence {
                        matcher: Matcher::new(&words, &patterns, &e.except)
                            .map_err(|err| format!("{}: {err}", e.id))?,
                        states: States::parse(&e.states)
                            .map_err(|err| format!("{}: {err}", e.id))?,
                        valence: ValenceRule::new(e.valence, &e.good, &e.bad, &e.neutral)
                            .map_err(|err| format!("{}: {err}", e.id))?,
                        id: e.id,
                    })
                })
                .collect::<Result<Vec<_>, String>>()
        };
        Ok(Self {
            terms,
            evidence: evidence_list(raw.evidence)?,
            state_words: evidence_list(raw.state_word)?,
            anchors,
            record: raw.record,
            plan: raw.plan,
        })
    }
}

/// Behaviours written with a count or an adverb between object and verb (席を3回立った,
/// 机を強く叩いた) still match `席を立` and `机を叩`: a phrase with a particle becomes a pattern
/// allowing one such word after the particle.
fn with_counts_between(words: &[String]) -> (Vec<String>, Vec<String>) {
    const BETWEEN: &str = "(?:[0-9一二三四五六七八九十]+\\s*(?:回|度|枚|個|本|つ)|何度も|何回も|すぐに?|急に|突然|強く|いきなり|再び|また)?";
    let mut plain = Vec::new();
    let mut patterns = Vec::new();
    for w in words {
        let split = w
            .char_indices()
            .skip(1)
            .find(|(i, c)| matches!(c, 'を' | 'に' | 'が') && i + c.len_utf8() < w.len());
        match split {
            Some((i, c)) => {
                let (head, tail) = w.split_at(i + c.len_utf8());
                patterns.push(format!(
                    "{}{BETWEEN}{}",
                    regex::escape(head),
                    regex::escape(tail)
                ));
            }
            None => plain.push(w.clone()),
        }
    }
    (plain, patterns)
}

/// How an organization's own term is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OwnTermKind {
    Interpretation,
    VagueAmount,
    VagueGoal,
    /// Counts as a concrete action (e.g. the name of the facility's own work task).
    Anchor,
    /// Never flagged (e.g. a room called 落ち着きルーム).
    Allowed,
}

/// An organization's additions: its own flagged terms, anchors and allow-list.
#[derive(Debug, Default)]
pub struct OrganizationLexicon {
    pub terms: Vec<Term>,
    /// The organization's concrete words: they clear claims of no particular state and make a
    /// plan line concrete, but are no evidence of a mood or an ability.
    pub evidence: Vec<Evidence>,
    allowed: Vec<Matcher>,
}

impl OrganizationLexicon {
    /// Builds the additions from `(phrase, kind, id)` rows; phrases are literal text.
    pub fn new<'a>(rows: impl IntoIterator<Item = (&'a str, OwnTermKind, String)>) -> Self {
        let mut out = Self::default();
        for (phrase, kind, id) in rows {
            let phrase = super::text::fold(phrase);
            let Ok(matcher) = Matcher::new(std::slice::from_ref(&phrase), &[], &[]) else {
                continue;
            };
            let flagged = match kind {
                OwnTermKind::Interpretation => Some((TermKind::Interpretation, Asks::Evidence)),
                OwnTermKind::VagueAmount => Some((TermKind::VagueAmount, Asks::HowMany)),
                OwnTermKind::VagueGoal => Some((TermKind::VagueGoal, Asks::Measure)),
                OwnTermKind::Anchor | OwnTermKind::Allowed => None,
            };
            match (flagged, kind) {
                (Some((kind, asks)), _) => out.terms.push(Term {
                    id,
                    label: phrase,
                    kind,
                    asks,
                    states: if kind == TermKind::Interpretation {
                        States::ANY
                    } else {
                        States::default()
                    },
                    matcher,
                    valence: ValenceRule::default(),
                }),
                (None, OwnTermKind::Anchor) => out.evidence.push(Evidence {
                    id,
                    states: States::CONCRETE,
                    matcher,
                    valence: ValenceRule::default(),
                }),
                (None, _) => out.allowed.push(matcher),
            }
        }
        out
    }

    /// Byte ranges of allow-listed phrases in `s`.
    pub fn allowed(&self, s: &str) -> Vec<Range<usize>> {
        self.allowed.iter().flat_map(|m| m.find(s)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_lexicon_compiles_with_unique_ids() {
        let lex = Lexicon::builtin().expect("lexicon");
        assert!(lex.terms.len() > 50, "{} terms", lex.terms.len());
        let mut ids: Vec<&str> = lex.terms.iter().map(|t| t.id.as_str()).collect();
        ids.extend(lex.anchors.iter().map(|a| a.id.as_str()));
        ids.extend(lex.evidence.iter().map(|a| a.id.as_str()));
        ids.extend(lex.state_words.iter().map(|a| a.id.as_str()));
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate ids in the lexicon");
    }

    #[test]
    fn a_broken_file_is_refused_with_the_entry_named() {
        let bad = SOURCE.replacen("\"落ち着\",", "\"落ち着(\", \"x\",", 1);
        let bad = bad.replacen("words = [\"落ち着(\"", "patterns = [\"落ち着(\"", 1);
        let err = Lexicon::parse(&bad).expect_err("must fail");
        assert!(err.contains("calm"), "{err}");
    }
}
