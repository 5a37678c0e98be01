//! The post-condition every rendering must meet (翻訳で事実を変えない), checked sentence by
//! sentence after the rules ran; a sentence that fails is kept as written and marked.
//!
//! Why a check after the fact instead of trusting the rules: a glossary entry (possibly an
//! organization's own) or a rule can change a fact in ways no rule author foresaw. The check
//! states what must hold whatever the rules did:
//! - every number with its counter or unit, date and time of the source is still there (as
//!   written: 3回 stays 3回, 10:30 stays 10:30), and every 「」 quotation word for word;
//! - nobody changes: the client is mentioned as often as before (plus where a glossary wording
//!   names the client's own plan or situation), other people at least as often, and in the
//!   family's and the client's text no other person's name remains;
//! - no act is added or lost: a specific act (噛みつき, 叩く, 蹴る …) in the source stays
//!   named, and a rendering names no act the source does not.

use std::{collections::BTreeSet, fmt, sync::LazyLock};

use regex::Regex;

use super::persons::{self, Mention};
use crate::language::{analysis::Analyzer, text};

/// Why a rendering of a sentence was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// A number, date, time or count of the source is missing.
    LostNumber(String),
    /// A quotation of the source is missing or changed.
    LostQuote(String),
    /// The client is mentioned a different number of times.
    ClientChanged { source: usize, rendered: usize },
    /// Fewer mentions of other people than in the source.
    OtherPersonLost { source: usize, rendered: usize },
    /// Another person's name is still in a text for the family or the client.
    NameShown(String),
    /// An act the source does not name, or one it names that is gone.
    ActChanged {
        added: Vec<String>,
        lost: Vec<String>,
    },
}

impl Violation {
    /// A stable code for the API (`LOST_NUMBER` …).
    pub fn code(&self) -> &'static str {
        match self {
            Self::LostNumber(_) => "LOST_NUMBER",
            Self::LostQuote(_) => "LOST_QUOTE",
            Self::ClientChanged { .. } => "CLIENT_CHANGED",
            Self::OtherPersonLost { .. } => "OTHER_PERSON_LOST",
            Self::NameShown(_) => "NAME_SHOWN",
            Self::ActChanged { .. } => "ACT_CHANGED",
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LostNumber(n) => write!(f, "数値・日時「{n}」が訳文から消える"),
            Self::LostQuote(q) => write!(f, "発言{q}が訳文で変わる"),
            Self::ClientChanged { source, rendered } => {
                write!(f, "本人への言及が{source}か所から{rendered}か所に変わる")
            }
            Self::OtherPersonLost { source, rendered } => {
                write!(f, "他の人への言及が{source}か所から{rendered}か所に減る")
            }
            Self::NameShown(n) => write!(f, "他の人の名前「{n}」が残る"),
            Self::ActChanged { added, lost } => {
                write!(f, "行為が変わる（加わる: {added:?}、消える: {lost:?}）")
            }
        }
    }
}

fn re(pattern: &str) -> Regex {
    // Constant patterns, all compiled by the unit tests: a broken one must fail loudly there,
    // never silently match nothing (these checks guard privacy and facts).
    crate::language::text::pattern(pattern)
}

/// Numbers with what follows them (counter, unit, the rest of a date or time), on folded text.
static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"[0-9]+(?:[.:/][0-9]+)*(?:か月|ヶ月|カ月|ヵ月|週間|時間|日間|年間|kg|cm|mm|ml|mL|[回人日月年時分秒錠枚本個件円度歳才階杯食名番割週%℃gL])?",
    )
});
/// Kanji numerals with a counter (一人, 二回, 三日間).
static KANJI_COUNT: LazyLock<Regex> = LazyLock::new(|| {
    re("[一二三四五六七八九十百千]+(?:か月|ヶ月|週間|時間|日間|人|回|日|つ|枚|本|錠|個|件|杯|食)")
});

/// Specific acts and the written forms that name them.
const ACTS: &[(&str, &[&str])] = &[
    ("噛みつき", &["噛みつ", "噛み付", "かみつ", "噛ん", "咬"]),
    ("叩く", &["叩", "たたい", "たたく", "たたか", "たたき"]),
    ("蹴る", &["蹴"]),
    ("殴る", &["殴", "なぐっ", "なぐら", "なぐり", "なぐる"]),
    ("つねる", &["つねっ", "つねら", "つねり", "つねる", "抓"]),
    (
        "引っかく",
        &[
            "引っ掻",
            "引っかい",
            "引っかく",
            "ひっかい",
            "ひっかく",
            "掻きむし",
        ],
    ),
    ("頭突き", &["頭突き", "ずつき"]),
    ("唾吐き", &["唾", "つばを", "つば吐"]),
    (
        "髪を引っ張る",
        &["髪を引っ張", "髪の毛を引っ張", "髪をつか", "髪を掴"],
    ),
    ("突き飛ばす", &["突き飛ば", "押し倒", "突き倒"]),
    ("物を投げる", &["投げ"]),
    ("物を壊す", &["壊し", "壊す", "破っ", "破い", "割っ"]),
];

/// The acts a text names.
pub fn acts(text: &str) -> BTreeSet<&'static str> {
    ACTS.iter()
        .filter(|(_, forms)| forms.iter().any(|f| text.contains(f)))
        .map(|(name, _)| *name)
        .collect()
}

/// The numbers (with counters) of a text, folded to ASCII digits.
pub fn numbers(text: &str) -> Vec<String> {
    let folded = text::fold(text);
    let mut out: Vec<String> = NUMBER
        .find_iter(&folded)
        .map(|m| m.as_str().to_owned())
        .collect();
    out.extend(
        KANJI_COUNT
            .find_iter(&folded)
            .map(|m| m.as_str().to_owned()),
    );
    out
}

/// The quotations of a text, brackets included.
pub fn quotes(text: &str) -> Vec<String> {
    text::quotations(text)
        .into_iter()
        .map(|r| text[r].to_owned())
        .collect()
}

/// What the check needs to know about one sentence's rendering.
pub struct Subject<'a> {
    /// The sentence as written (with names in quotations already replaced where the audience
    /// needs it).
    pub source: &'a str,
    pub rendered: &'a str,
    /// Whether other people's names must be gone (family, client).
    pub hide_names: bool,
    /// Mentions of the client that glossary wordings added (あなたの しえんの けいかく).
    pub added_client: usize,
    pub client_names: &'a [String],
}

/// The first violation of the invariants, if any.
pub fn check(s: &Subject<'_>, analyzer: Option<&Analyzer>) -> Result<(), Violation> {
    let folded = text::fold(s.rendered);
    let mut wanted: Vec<String> = numbers(s.source);
    wanted.sort();
    for n in &wanted {
        let need = wanted.iter().filter(|w| *w == n).count();
        let got = folded.matches(n.as_str()).count();
        if got < need {
            return Err(Violation::LostNumber(n.clone()));
        }
    }
    for q in quotes(s.source) {
        if !s.rendered.contains(&q) {
            return Err(Violation::LostQuote(q));
        }
    }
    let before: Vec<Mention> = persons::find(s.source, s.client_names, analyzer);
    let after: Vec<Mention> = persons::find(s.rendered, s.client_names, analyzer);
    let (b, a) = (persons::census(&before), persons::census(&after));
    if a.client != b.client + s.added_client {
        return Err(Violation::ClientChanged {
            source: b.client + s.added_client,
            rendered: a.client,
        });
    }
    if a.others < b.others {
        return Err(Violation::OtherPersonLost {
            source: b.others,
            rendered: a.others,
        });
    }
    if s.hide_names {
        for m in &before {
            let Some(name) = &m.name else { continue };
            if s.rendered.contains(name.as_str()) {
                return Err(Violation::NameShown(name.clone()));
            }
        }
    }
    let (from, to) = (acts(s.source), acts(s.rendered));
    if from != to {
        return Err(Violation::ActChanged {
            added: to.difference(&from).map(|a| (*a).to_owned()).collect(),
            lost: from.difference(&to).map(|a| (*a).to_owned()).collect(),
        });
    }
    Ok(())
}
