//! Goals read as measures (目標の測り方): target, direction, threshold and period, and the
//! per-period tally of dated judgements against them.

use std::sync::LazyLock;

use chrono::{Datelike, Duration, NaiveDate};
use regex::Regex;

use super::{CONCEPTS, Occurrence, Outcome, Polarity, Target};
use crate::language::{counters, text};

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
    crate::language::text::pattern(
        r"(1ヶ月|1か月|1カ月|ひと月|一ヶ月|毎月|月|1週間|一週間|毎週|週|1日|一日)\s*(?:に|あたり|で)?\s*([0-9]+|[〇一二三四五六七八九十]+)\s*(回|度|日|食)\s*(以下|以内|未満|まで|以上|超)?",
    )
});
static BARE: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(
        r"([0-9]+|[〇一二三四五六七八九十]+)\s*(回|度|日)\s*(以下|以内|未満|まで|以上)",
    )
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
                .and_then(|m| counters::parse_quantity(m.as_str()))
                .and_then(|q| match q {
                    counters::Quantity::Number(n) => u32::try_from(n).ok(),
                    counters::Quantity::Which => None,
                });
            days = c.get(3).is_some_and(|m| m.as_str() == "日");
            bound = c.get(4).map(|m| m.as_str());
        } else if let Some(c) = BARE.captures(&g) {
            threshold = c
                .get(1)
                .and_then(|m| counters::parse_quantity(m.as_str()))
                .and_then(|q| match q {
                    counters::Quantity::Number(n) => u32::try_from(n).ok(),
                    counters::Quantity::Which => None,
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
    crate::language::text::pattern(
        r"[0-9〇一二三四五六七八九十]+\s*(回|度|日|食|分|時間)|以上|以下|以内|未満|毎日|毎週|毎月|[1一]?(ヶ月|か月|カ月|週間)|[月週日]に",
    )
});

/// The behaviour a goal names when no concept is known: the word before its first を/が/は,
/// else the last run of kanji or katakana (週に3回以上散歩する → 散歩).
fn behaviour_word(g: &str) -> Option<String> {
    let Some(cut) = g.find(['を', 'が', 'は']) else {
        let stripped = MEASURE_WORDS.replace_all(g, "、");
        let run = stripped
            .split(|c: char| !(is_kanji(c) || is_katakana(c)))
            .rfind(|w| w.chars().count() >= 2)?;
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
