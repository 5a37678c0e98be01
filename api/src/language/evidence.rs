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

use std::{ops::Range, sync::LazyLock};

use chrono::{Datelike, Duration, NaiveDate};
use regex::Regex;

use super::{
    analysis::{self, Analyzer, Token},
    text,
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

/// A behaviour records speak of, with its vocabulary.
#[derive(Debug)]
pub struct Concept {
    pub id: &'static str,
    /// The name shown in counts (大声, 食事 …).
    pub label: &'static str,
    /// Tags and goal words that mean this behaviour.
    pub names: &'static [&'static str],
    /// Words a record uses when the behaviour happens (negated: it did not).
    pub cues: &'static [&'static str],
    /// Words of a complete outcome (完食).
    pub complete: &'static [&'static str],
    /// Words of a partial outcome (残した, 半分); negated they mean complete (残さず).
    pub partial: &'static [&'static str],
    /// Words of its absence (不眠, 欠食); negated they mean it happened.
    pub absent: &'static [&'static str],
    /// Labels of the outcomes (full, partial, none), for graded behaviours.
    pub outcomes: Option<[&'static str; 3]>,
    /// Something to have less of (an outburst): a goal without a direction word means fewer.
    pub unwanted: bool,
}

/// The behaviours Kakehashi knows by name. Order matters only for ties (first wins).
pub static CONCEPTS: &[Concept] = &[
    Concept {
        id: "outburst",
        label: "大声",
        names: &[
            "大声",
            "怒りの表出",
            "怒り",
            "暴言",
            "怒鳴",
            "かんしゃく",
            "癇癪",
        ],
        cues: &[
            "大声",
            "怒鳴",
            "叫",
            "怒りの表出",
            "怒り",
            "怒っ",
            "怒る",
            "声を荒",
            "暴言",
            "かんしゃく",
            "癇癪",
        ],
        complete: &[],
        partial: &[],
        absent: &[],
        outcomes: None,
        unwanted: true,
    },
    Concept {
        id: "harm",
        label: "他害",
        names: &["他害", "叩く", "たたく"],
        cues: &[
            "他害",
            "叩",
            "たたい",
            "たたく",
            "蹴",
            "噛みつ",
            "つかみかか",
        ],
        complete: &[],
        partial: &[],
        absent: &[],
        outcomes: None,
        unwanted: true,
    },
    Concept {
        id: "self_harm",
        label: "自傷",
        names: &["自傷"],
        cues: &["自傷", "頭を打ち付け", "手を噛"],
        complete: &[],
        partial: &[],
        absent: &[],
        outcomes: None,
        unwanted: true,
    },
    Concept {
        id: "meal",
        label: "食事",
        names: &[
            "食事", "昼食", "夕食", "朝食", "給食", "食欲", "完食", "食べ",
        ],
        cues: &[
            "食べ", "食事", "昼食", "夕食", "朝食", "給食", "弁当", "摂取",
        ],
        complete: &["完食", "全量", "全部食べ", "完食し"],
        partial: &[
            "残し",
            "残す",
            "残さ",
            "半分",
            "半量",
            "少量",
            "一口",
            "割程度",
        ],
        absent: &["欠食", "拒食", "食事拒否"],
        outcomes: Some(["完食", "一部残した", "食べなかった"]),
        unwanted: false,
    },
    Concept {
        id: "sleep",
        label: "睡眠",
        names: &["睡眠", "入眠", "眠", "寝", "就寝", "不眠"],
        cues: &[
            "眠",
            "入眠",
            "寝付",
            "寝つ",
            "就寝",
            "熟睡",
            "寝た",
            "寝て",
            "寝られ",
        ],
        complete: &["熟睡", "朝まで"],
        partial: &[
            "中途覚醒",
            "目が覚め",
            "目を覚ま",
            "夜中に起き",
            "夜間に起き",
        ],
        absent: &["不眠", "徹夜", "一睡も"],
        outcomes: Some(["眠れた", "途中で目が覚めた", "眠れなかった"]),
        unwanted: false,
    },
    Concept {
        id: "medication",
        label: "服薬",
        names: &["服薬", "服用", "内服", "薬"],
        cues: &["服薬", "服用", "内服", "薬を飲", "薬飲"],
        complete: &[],
        partial: &["飲み忘れ"],
        absent: &["拒薬", "服薬拒否"],
        outcomes: Some(["服薬した", "一部飲み忘れ", "服薬しなかった"]),
        unwanted: false,
    },
    Concept {
        id: "attendance",
        label: "通所",
        names: &["通所", "出勤", "出席", "登所"],
        cues: &["通所", "出勤", "出席", "登所", "来所"],
        complete: &[],
        partial: &["早退", "遅刻"],
        absent: &["欠席", "欠勤", "休ん", "休み"],
        outcomes: Some(["通所した", "遅刻・早退", "休んだ"]),
        unwanted: false,
    },
];

/// A concept by its id.
pub fn concept(id: &str) -> Option<&'static Concept> {
    CONCEPTS.iter().find(|c| c.id == id)
}

/// The concept a tag (or goal word) names: an exact name first, then a name or cue inside it.
pub fn concept_of_tag(tag: &str) -> Option<&'static Concept> {
    let tag = text::fold(tag.trim());
    CONCEPTS
        .iter()
        .find(|c| c.names.contains(&tag.as_str()))
        .or_else(|| {
            CONCEPTS.iter().find(|c| {
                c.names
                    .iter()
                    .chain(c.cues)
                    .any(|w| tag.contains(w) || (tag.chars().count() >= 2 && w.contains(&*tag)))
            })
        })
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
    Regex::new(r"([0-9]+|[〇一二三四五六七八九十]+)\s*(回|度)").unwrap_or_else(|_| unreachable!())
});

/// Someone other than the client as the subject of a clause (DOMAIN.md: 利用者 alone names
/// any service user).
static OTHER_PERSON: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(他の|ほかの|別の|相手の)?利用者[A-Za-z]?さん?[がのにはも]|他の利用者|他利用者|相手の",
    )
    .unwrap_or_else(|_| unreachable!())
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
            Some(a) if !mentions.is_empty() => tokens_of(a, s),
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
                    negated_by_tokens(s, &tokens, &m.bytes)
                } else {
                    negated_by_rule(s, &m.bytes)
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

struct Tok {
    bytes: Range<usize>,
    t: Token,
}

fn tokens_of(a: &Analyzer, s: &str) -> Vec<Tok> {
    let offsets: Vec<usize> = s.char_indices().map(|(i, _)| i).chain([s.len()]).collect();
    a.analyze(s)
        .into_iter()
        .filter_map(|t| {
            let start = *offsets.get(t.span.start)?;
            let end = *offsets.get(t.span.end)?;
            Some(Tok {
                bytes: start..end,
                t,
            })
        })
        .collect()
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

fn is_negation(t: &Token) -> bool {
    (t.is(&["助動詞"]) && ["ない", "ぬ", "ん"].contains(&t.base.as_str()))
        || (t.is(&["形容詞", "自立"])
            && ["ない", "無い", "なし", "無し"].contains(&t.base.as_str()))
        || ["なし", "無し", "ナシ"].contains(&t.surface.as_str())
}

/// Follows the mention to its predicate and reads a negation on it.
fn negated_by_tokens(s: &str, tokens: &[Tok], r: &Range<usize>) -> bool {
    let Some(last) = tokens.iter().rposition(|t| t.bytes.start < r.end) else {
        return negated_by_rule(s, r);
    };
    // The mention itself may end in a negation (寝られない as one cue).
    if tokens[..=last]
        .iter()
        .any(|t| t.bytes.start > r.start && is_negation(&t.t))
    {
        return true;
    }
    let mut head = false;
    let mut i = last + 1;
    // The mention may itself be the predicate (眠れなかった, 叩かなかった).
    if tokens[last].t.is(&["動詞"]) || tokens[last].t.is(&["形容詞"]) {
        head = true;
    }
    while let Some(tok) = tokens.get(i) {
        let t = &tok.t;
        if t.is(&["記号"]) {
            break;
        }
        if is_negation(t) {
            return true;
        }
        if !head {
            if t.is(&["動詞"]) || t.is(&["形容詞"]) {
                head = true;
            } else if t.is(&["助詞", "接続助詞"]) {
                break;
            }
        } else {
            let keep = t.is(&["助動詞"])
                || t.is(&["動詞", "非自立"])
                || t.is(&["動詞", "接尾"])
                || t.is(&["形容詞", "非自立"])
                || t.is(&["名詞", "非自立"])
                // 〜ことはありません: ある carries the negation.
                || (t.is(&["動詞"]) && t.base == "ある")
                || t.is(&["助詞", "係助詞"])
                || t.is(&["助詞", "副助詞"])
                || (t.is(&["助詞", "接続助詞"]) && ["て", "で"].contains(&t.surface.as_str()));
            if !keep {
                break;
            }
        }
        i += 1;
    }
    false
}

/// The rule stand-in: a negation in the rest of the clause (until 、 or 。), leaving out words
/// that only look like one.
fn negated_by_rule(s: &str, r: &Range<usize>) -> bool {
    let rest = &s[r.start..];
    let end = rest
        .find(['、', '。', '，', ','])
        .or_else(|| rest.find("が"))
        .unwrap_or(rest.len());
    let mut clause = rest[..end].to_owned();
    for fake in [
        "少な",
        "危な",
        "必ず",
        "まず",
        "ずっと",
        "きずな",
        "数",
        "ずつ",
    ] {
        clause = clause.replace(fake, "＿");
    }
    [
        "ない",
        "なし",
        "無い",
        "無し",
        "なかっ",
        "なく",
        "ず",
        "ません",
        "無く",
    ]
    .iter()
    .any(|n| clause.contains(n))
}

/// Which way a goal points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// At most the threshold (以下・以内・未満・減らす・なくす).
    AtMost,
    /// At least the threshold (以上・増やす・続ける・毎日).
    AtLeast,
}

/// The period a threshold counts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    pub fn ja(self) -> &'static str {
        match self {
            Self::Day => "日",
            Self::Week => "週",
            Self::Month => "月",
        }
    }
}

/// A goal read as a measure: what, which way, how many, per what.
#[derive(Debug, Clone)]
pub struct GoalSpec {
    pub target: Target,
    pub direction: Direction,
    /// The limit or the minimum (`None`: a direction without a number, 減らす).
    pub threshold: Option<u32>,
    pub period: Option<Period>,
    /// Counted in days (週5日以上, 毎日) rather than times.
    pub days: bool,
    /// Success requires a complete outcome (完食する).
    pub requires_full: bool,
}

static THRESHOLD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(1ヶ月|1か月|1カ月|ひと月|一ヶ月|毎月|月|1週間|一週間|毎週|週|1日|一日)\s*(?:に|あたり|で)?\s*([0-9]+|[〇一二三四五六七八九十]+)\s*(回|度|日|食)\s*(以下|以内|未満|まで|以上|超)?",
    )
    .unwrap_or_else(|_| unreachable!())
});
static BARE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"([0-9]+|[〇一二三四五六七八九十]+)\s*(回|度|日)\s*(以下|以内|未満|まで|以上)")
        .unwrap_or_else(|_| unreachable!())
});

fn period_of(word: &str) -> Period {
    if word.contains('月') {
        Period::Month
    } else if word.contains('週') {
        Period::Week
    } else {
        Period::Day
    }
}

impl GoalSpec {
    /// Reads a goal's measure. Returns `None` when the goal names no behaviour this module can
    /// find in records (no known concept and no word before を/が/の).
    pub fn parse(goal: &str) -> Option<Self> {
        let g = text::fold(goal);
        let concept = CONCEPTS
            .iter()
            .filter_map(|c| {
                c.names
                    .iter()
                    .chain(c.cues)
                    .filter_map(|w| g.find(w))
                    .min()
                    .map(|at| (at, c))
            })
            .min_by_key(|(at, _)| *at)
            .map(|(_, c)| c);
        let word = behaviour_word(&g);
        let target = match (concept, &word) {
            (Some(c), _) => Target {
                concept: Some(c),
                label: c.label.to_owned(),
                words: Vec::new(),
            },
            (None, Some(w)) => Target {
                concept: None,
                label: w.clone(),
                words: vec![w.clone()],
            },
            (None, None) => return None,
        };
        let mut threshold = None;
        let mut period = None;
        let mut days = false;
        let mut bound: Option<&str> = None;
        if let Some(c) = THRESHOLD.captures(&g) {
            period = c.get(1).map(|m| period_of(m.as_str()));
            threshold = c
                .get(2)
                .and_then(|m| super::counters::parse_quantity(m.as_str()))
                .and_then(|q| match q {
                    super::counters::Quantity::Number(n) => u32::try_from(n).ok(),
                    super::counters::Quantity::Which => None,
                });
            days = c.get(3).is_some_and(|m| m.as_str() == "日");
            bound = c.get(4).map(|m| m.as_str());
        } else if let Some(c) = BARE.captures(&g) {
            threshold = c
                .get(1)
                .and_then(|m| super::counters::parse_quantity(m.as_str()))
                .and_then(|q| match q {
                    super::counters::Quantity::Number(n) => u32::try_from(n).ok(),
                    super::counters::Quantity::Which => None,
                });
            days = c.get(2).is_some_and(|m| m.as_str() == "日");
            bound = c.get(3).map(|m| m.as_str());
        }
        let fewer = [
            "減らす",
            "減る",
            "なくす",
            "無くす",
            "なくなる",
            "控える",
            "抑える",
        ]
        .iter()
        .any(|w| g.contains(w));
        let more = [
            "増やす",
            "増える",
            "続ける",
            "継続",
            "維持",
            "毎日",
            "できる",
        ]
        .iter()
        .any(|w| g.contains(w));
        let direction = match bound {
            Some("以下" | "以内" | "未満" | "まで") => Direction::AtMost,
            Some(_) => Direction::AtLeast,
            None if fewer => Direction::AtMost,
            None if more => Direction::AtLeast,
            None if target.concept.is_some_and(|c| c.unwanted) => Direction::AtMost,
            None => Direction::AtLeast,
        };
        if bound == Some("未満") {
            threshold = threshold.map(|t| t.saturating_sub(1));
        }
        if threshold.is_none()
            && ["なくす", "無くす", "なくなる", "0回"]
                .iter()
                .any(|w| g.contains(w))
        {
            threshold = Some(0);
            period = period.or(Some(Period::Month));
        }
        if g.contains("毎日") && threshold.is_none() {
            threshold = Some(1);
            period = Some(Period::Day);
            days = true;
        }
        let requires_full = target
            .concept
            .is_some_and(|c| c.complete.iter().any(|w| g.contains(w)));
        Some(Self {
            target,
            direction,
            threshold,
            period: if threshold.is_some() {
                period.or(Some(Period::Month))
            } else {
                period
            },
            days,
            requires_full,
        })
    }

    /// Whether a judgement counts toward the goal's measure: the behaviour happened, and for a
    /// goal of completion (完食) or of doing a graded behaviour, completely.
    pub fn counts(&self, o: &Occurrence) -> bool {
        // A goal of doing something (眠れる日を週5日以上) counts only complete outcomes: a night
        // of waking or a half-eaten meal is evidence, but not a success.
        let full_only = self.requires_full
            || (self.direction == Direction::AtLeast
                && self.target.concept.is_some_and(|c| c.outcomes.is_some()));
        o.polarity == Polarity::Occurred
            && (!full_only || o.outcome.is_none_or(|x| x == Outcome::Full))
    }

    /// The goal in words: 月2回以下, 週5日以上, 毎日.
    pub fn measure_ja(&self) -> String {
        let unit = if self.days { "日" } else { "回" };
        match (self.period, self.threshold) {
            (Some(Period::Day), Some(1)) if self.direction == Direction::AtLeast => "毎日".into(),
            (Some(p), Some(t)) => format!(
                "{}{t}{unit}{}",
                p.ja(),
                match self.direction {
                    Direction::AtMost => "以下",
                    Direction::AtLeast => "以上",
                }
            ),
            _ => match self.direction {
                Direction::AtMost => "減らす".into(),
                Direction::AtLeast => "増やす・続ける".into(),
            },
        }
    }
}

/// Words of a goal's measure, never its behaviour.
static MEASURE_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[0-9〇一二三四五六七八九十]+\s*(回|度|日|食|分|時間)|以上|以下|以内|未満|毎日|毎週|毎月|[1一]?(ヶ月|か月|カ月|週間)|[月週日]に")
        .unwrap_or_else(|_| unreachable!())
});

/// The behaviour a goal names when no concept is known: the word before its first を/が/は,
/// else the last run of kanji or katakana (週に3回以上散歩する → 散歩).
fn behaviour_word(g: &str) -> Option<String> {
    let Some(cut) = g.find(['を', 'が', 'は']) else {
        let stripped = MEASURE_WORDS.replace_all(g, "、");
        let run = stripped
            .split(|c: char| !(is_kanji(c) || is_katakana(c)))
            .filter(|w| w.chars().count() >= 2)
            .last()?;
        return Some(run.to_owned());
    };
    let w: String = g[..cut]
        .chars()
        .rev()
        .take_while(|c| !matches!(c, '、' | '。' | 'の' | 'に' | 'で' | ' ' | '（' | '('))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (w.chars().count() >= 2).then_some(w)
}

fn is_kanji(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c) || c == '々'
}

fn is_katakana(c: char) -> bool {
    ('\u{30A1}'..='\u{30FA}').contains(&c) || c == 'ー'
}

/// How a period's count stands against the goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Within the limit, or the minimum reached.
    Met,
    /// Exactly at the limit (上限).
    AtLimit,
    /// Over the limit, or short of the minimum.
    NotMet,
    /// No threshold to compare with.
    Unmeasured,
}

/// One period's count against the goal, with the records behind it.
#[derive(Debug, Clone)]
pub struct Tally<T> {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// 11月, 11/24〜11/30.
    pub label: String,
    /// Times (or days) it happened.
    pub count: u32,
    /// Records behind the count.
    pub counted: Vec<T>,
    /// Records that say it did not happen, or happened short of the goal (failures for a goal
    /// of doing something; calm days for a goal of less).
    pub other: Vec<T>,
    pub standing: Standing,
    /// 11月: 大声 2回（目標 月2回以下、上限）.
    pub summary: String,
    /// Whether the period lies only partly inside the counted range.
    pub partial_period: bool,
}

/// Counts dated judgements against `goal` per period inside `[from, to]`.
pub fn tally<T: Clone>(
    goal: &GoalSpec,
    judged: &[(NaiveDate, Occurrence, T)],
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<Tally<T>> {
    let mut periods: Vec<(NaiveDate, NaiveDate, String)> = Vec::new();
    match goal.period.unwrap_or(Period::Month) {
        Period::Month | Period::Day => {
            let mut d = from.with_day(1).unwrap_or(from);
            while d <= to {
                let next = d
                    .checked_add_months(chrono::Months::new(1))
                    .unwrap_or(to + Duration::days(1));
                periods.push((d, next - Duration::days(1), format!("{}月", d.month())));
                d = next;
            }
        }
        Period::Week => {
            let mut d = from - Duration::days(i64::from(from.weekday().num_days_from_monday()));
            while d <= to {
                let end = d + Duration::days(6);
                periods.push((
                    d,
                    end,
                    format!("{}/{}〜{}/{}", d.month(), d.day(), end.month(), end.day()),
                ));
                d = end + Duration::days(1);
            }
        }
    }
    periods
        .into_iter()
        .map(|(start, end, label)| {
            let (lo, hi) = (start.max(from), end.min(to));
            let inside: Vec<&(NaiveDate, Occurrence, T)> = judged
                .iter()
                .filter(|(d, o, _)| *d >= lo && *d <= hi && o.polarity != Polarity::Unrelated)
                .collect();
            let counted: Vec<&(NaiveDate, Occurrence, T)> = inside
                .iter()
                .copied()
                .filter(|(_, o, _)| goal.counts(o))
                .collect();
            let count = if goal.days {
                let mut days: Vec<NaiveDate> = counted.iter().map(|(d, ..)| *d).collect();
                days.sort_unstable();
                days.dedup();
                u32::try_from(days.len()).unwrap_or(u32::MAX)
            } else {
                counted.iter().map(|(_, o, _)| o.count.max(1)).sum()
            };
            let partial_period = lo != start || hi != end;
            let (standing, note) = standing(goal, count, lo, hi, partial_period);
            let unit = if goal.days { "日" } else { "回" };
            let summary = format!(
                "{label}: {} {count}{unit}（目標 {}{}）",
                goal.target.label,
                goal.measure_ja(),
                if note.is_empty() {
                    String::new()
                } else {
                    format!("、{note}")
                }
            );
            Tally {
                from: lo,
                to: hi,
                label,
                count,
                counted: counted.iter().map(|(.., t)| t.clone()).collect(),
                other: inside
                    .iter()
                    .filter(|(_, o, _)| !goal.counts(o))
                    .map(|(.., t)| t.clone())
                    .collect(),
                standing,
                summary,
                partial_period,
            }
        })
        .collect()
}

fn standing(
    goal: &GoalSpec,
    count: u32,
    lo: NaiveDate,
    hi: NaiveDate,
    partial: bool,
) -> (Standing, String) {
    let Some(limit) = goal.threshold else {
        return (Standing::Unmeasured, String::new());
    };
    // 毎日: the minimum is every day of the range.
    let limit = if goal.period == Some(Period::Day) {
        let days = u32::try_from((hi - lo).num_days() + 1).unwrap_or(u32::MAX);
        limit.saturating_mul(days)
    } else {
        limit
    };
    let so_far = if partial { "・期間途中" } else { "" };
    match goal.direction {
        Direction::AtMost if count < limit => (Standing::Met, format!("範囲内{so_far}")),
        Direction::AtMost if count == limit => (Standing::AtLimit, format!("上限{so_far}")),
        Direction::AtMost => (Standing::NotMet, format!("{}回超過{so_far}", count - limit)),
        Direction::AtLeast if count >= limit => (Standing::Met, format!("達成{so_far}")),
        Direction::AtLeast => (
            Standing::NotMet,
            format!(
                "{}{}不足{so_far}",
                limit - count,
                if goal.days { "日" } else { "回" }
            ),
        ),
    }
}

#[cfg(test)]
mod tests;
