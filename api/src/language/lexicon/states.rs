//! What claims and evidence are about (states) and which way they point (valence).

use regex::Regex;
use serde::Deserialize;

/// What a claim is about, and what a piece of evidence shows (a small fixed set). An
/// interpretation is cleared only by evidence of one of its states (DOMAIN.md §5: the fact
/// must show *that* state, not just stand beside it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct States(u32);

impl States {
    /// The names used in the lexicon file, in bit order.
    pub const NAMES: [&'static str; 15] = [
        "arousal",    // 落ち着き・興奮・イライラ: 大声, 席を立つ, 叩く …
        "joy",        // 嬉しい・楽しい・元気: 笑う, 歌う, 「やった」…
        "distress",   // 不安・落ち込み・不満・緊張: 泣く, うつむく, 「帰りたい」…
        "fatigue",    // 疲れ・眠気: あくび, 机に伏せる, 横になる …
        "sleep",      // 睡眠・生活リズム: 入眠, 起床, 巡視時の様子 …
        "health",     // 体調・痛み: 体温, 嘔吐, 咳, 「痛い」…
        "engagement", // 意欲・集中: 作業を続ける, 手が止まる, よそ見 …
        "skill",      // できる・慣れ・理解: 一人で, 声かけなしで, 数と時間 …
        "appetite",   // 食欲: 完食, 残した, 何割 …
        "social",     // 関係・交流: 話しかける, 一緒に遊ぶ …
        "refusal",    // 拒否・嫌がる: 首を振る, 「やらない」, 手を払う …
        "count",      // a number with a counter: clears progress claims and vague amounts
        "concrete",   // an organization's own concrete word: clears only `any` claims
        "any",        // a claim of no particular state: any evidence clears it
        "rhythm",     // 生活リズム: 起床・就寝の時刻 (not how well someone slept)
    ];
    pub const COUNT: States = States(1 << 11);
    /// A measure of the body (37.8℃, 52.4kg): clears a vague amount and a claim about health,
    /// but is no count of a change in anything else (体重-1.2kg does not show 食事量が減った).
    /// Not a lexicon name: only measured values carry it.
    pub const MEASURE: States = States(1 << 15);
    /// Counts set against a baseline (先月は8日、今月は18日): they show a change in whatever
    /// they count, even from the sentence next door. Not a lexicon name.
    pub const BASELINE: States = States(1 << 16);
    /// Every state a sign or words can show (not a count, a measure or a baseline): what a
    /// claim of no particular state needs from the sentence next door.
    pub const SPECIFIC: States = States(((1 << 11) - 1) | (1 << 12) | (1 << 14));
    pub const CONCRETE: States = States(1 << 12);
    pub const ANY: States = States(1 << 13);
    pub const HEALTH: States = States(1 << 5);
    pub const APPETITE: States = States(1 << 8);
    pub const SLEEP: States = States(1 << 4);
    pub const AROUSAL: States = States(1);
    pub const DISTRESS: States = States(1 << 2);
    pub const ENGAGEMENT: States = States(1 << 6);
    pub const SKILL: States = States(1 << 7);
    pub const REFUSAL: States = States(1 << 10);
    pub const RHYTHM: States = States(1 << 14);

    pub fn parse(names: &[String]) -> Result<Self, String> {
        let mut bits = 0;
        for n in names {
            let i = Self::NAMES
                .iter()
                .position(|k| k == n)
                .ok_or_else(|| format!("unknown state {n:?}"))?;
            bits |= 1 << i;
        }
        Ok(Self(bits))
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub const fn union(self, other: States) -> States {
        States(self.0 | other.0)
    }

    /// Whether the two share a state.
    pub const fn intersects(self, other: States) -> bool {
        self.0 & other.0 != 0
    }

    /// These states less `other`'s.
    pub const fn without(self, other: States) -> States {
        States(self.0 & !other.0)
    }

    pub const fn contains(self, other: States) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    /// The states of a claim made of two adjacent interpretations (機嫌：良好): a specific
    /// state wins over "any", or the vaguer word would let any fact clear the specific one.
    pub const fn joined(self, other: States) -> States {
        let u = self.0 | other.0;
        if u & !Self::ANY.0 != 0 {
            States(u & !Self::ANY.0)
        } else {
            States(u)
        }
    }

    /// Whether evidence showing `shown` clears a claim about `self`.
    pub const fn cleared_by(self, shown: States) -> bool {
        if self.0 & Self::ANY.0 != 0 {
            shown.0 != 0
        } else {
            self.0 & shown.0 != 0
        }
    }
}

/// Which way a claim or a piece of evidence points: a good state (落ち着いて, 完食, 笑った) or a
/// bad one (不穏, 残した, 大声). A fact that points the other way supports no interpretation
/// (DOMAIN.md §5; `最近は落ち着いて過ごし、3回席を立った` is not cleared by the standing up).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Valence {
    Good,
    Bad,
}

impl Valence {
    /// The other way (a negation after the words: 落ち着か|ない, 大声は|なかった).
    pub const fn flipped(self) -> Self {
        match self {
            Self::Good => Self::Bad,
            Self::Bad => Self::Good,
        }
    }

    /// Whether evidence pointing `shown` may support a claim pointing `claimed`: unless both
    /// are known and differ.
    pub fn agrees(claimed: Option<Self>, shown: Option<Self>) -> bool {
        !matches!((claimed, shown), (Some(a), Some(b)) if a != b)
    }
}

/// The valence of an entry's matches: the entry's own, unless the matched words say otherwise
/// (`good`, then `bad`, then `neutral` patterns over the matched text, first hit wins).
#[derive(Debug, Default)]
pub(super) struct ValenceRule {
    default: Option<Valence>,
    good: Vec<Regex>,
    bad: Vec<Regex>,
    neutral: Vec<Regex>,
}

impl ValenceRule {
    pub(super) fn new(
        default: Option<Valence>,
        good: &[String],
        bad: &[String],
        neutral: &[String],
    ) -> Result<Self, String> {
        let compile = |list: &[String]| {
            list.iter()
                .map(|p| Regex::new(p).map_err(|e| format!("{p}: {e}")))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Self {
            default,
            good: compile(good)?,
            bad: compile(bad)?,
            neutral: compile(neutral)?,
        })
    }

    pub(super) fn of(&self, matched: &str) -> Option<Valence> {
        if self.good.iter().any(|r| r.is_match(matched)) {
            Some(Valence::Good)
        } else if self.bad.iter().any(|r| r.is_match(matched)) {
            Some(Valence::Bad)
        } else if self.neutral.iter().any(|r| r.is_match(matched)) {
            None
        } else {
            self.default
        }
    }
}
