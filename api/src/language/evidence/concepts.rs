//! The behaviours Kakehashi knows by name (行動の語彙): the words records use for each, its
//! outcomes and its absence. Data, not rules: adding a behaviour is adding an entry.

use crate::language::text;

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
            "大きな声",
            "大きい声",
            "奇声",
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
            "割ほど",
            "割摂取",
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
