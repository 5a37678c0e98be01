//! What quoted words show by their grammar (引用の文法): a wish, a try, a refusal, a question
//! of how to go on, a fear of what would follow; and whether they are written in katakana alone.
//! Their vocabulary is read against the lexicon in [`super::evidence`].

use std::ops::Range;

use super::Sentence;
use crate::language::lexicon::States;

/// Whether quoted words are written in katakana alone (no kanji, no hiragana), as a learner's
/// or a child's speech often is.
pub(super) fn spoken_in_katakana(quote: &str) -> bool {
    let mut katakana = 0;
    for c in quote.chars() {
        match c {
            '\u{30A1}'..='\u{30FA}' => katakana += 1,
            '\u{3041}'..='\u{309F}' | '\u{4E00}'..='\u{9FFF}' => return false,
            _ => {}
        }
    }
    katakana >= 2
}

/// What the grammar of quoted words shows, whatever their vocabulary: a wish (切りたい, ずっと
/// いたい) shows wanting to take part; a prohibition (変えるな, 触るな) or a dismissal
/// (やらなくていい, いらない) shows anger or refusal.
/// Also whether that grammar says no (a prohibition, a dismissal, a plain refusal), which
/// makes the words point to a bad state.
pub(super) fn quoted_mood(sentence: &Sentence, q: &Range<usize>) -> (States, bool) {
    let mut refused = false;
    let toks: Vec<&super::Tok> = sentence
        .tokens
        .iter()
        .filter(|t| q.start <= t.bytes.start && t.bytes.end <= q.end)
        .collect();
    let mut states = States::default();
    for (i, t) in toks.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| &toks[p].t);
        if t.t.is(&["助動詞"]) && t.t.base == "たい" {
            states = states.union(States::ENGAGEMENT);
            // 「他人を家に入れたくない」: a wish not to is a refusal.
            if toks
                .get(i + 1)
                .is_some_and(|n| n.t.is(&["助動詞"]) && n.t.base == "ない")
            {
                states = states.union(States::REFUSAL);
                refused = true;
            }
        }
        // 変えるな: the sentence-final な after a verb's plain form.
        if t.t.is(&["助詞", "終助詞"])
            && t.t.surface == "な"
            && prev.is_some_and(|p| p.is(&["動詞"]) && p.conj_form == "基本形")
        {
            states = states.union(States::AROUSAL).union(States::REFUSAL);
            refused = true;
        }
    }
    // 「行かない」「食べない」: a plain no to doing something (not わからない or できない, which
    // tell what the person can or knows).
    let content: Vec<&&super::Tok> = toks
        .iter()
        .filter(|t| !t.t.is(&["記号"]) && !t.t.is(&["助詞", "終助詞"]))
        .collect();
    if let [.., verb, neg] = content.as_slice()
        && verb.t.is(&["動詞"])
        && verb.t.conj_form.starts_with("未然")
        && neg.t.is(&["助動詞"])
        && matches!(neg.t.base.as_str(), "ない" | "ん" | "ぬ")
        && ![
            "わかる",
            "分かる",
            "できる",
            "出来る",
            "知る",
            "分る",
            "わかれる",
        ]
        .contains(&verb.t.base.as_str())
    {
        states = states.union(States::REFUSAL);
        refused = true;
    }
    // 「出してみる」「やってみようかな」: a try, which shows wanting to take part.
    if toks
        .windows(2)
        .any(|w| w[0].t.surface == "て" && w[1].t.base == "みる" && w[1].t.pos[1] == "非自立")
    {
        states = states.union(States::ENGAGEMENT);
    }
    // 「母が死んだら一人で暮らせない」: what would follow if something happened, told as a no
    // (or as どうしよう): a fear of it.
    if let Some(i) = toks
        .iter()
        .position(|t| t.t.conj_form.starts_with("仮定") || t.t.surface == "たら")
        && toks[i + 1..].iter().any(|t| {
            (t.t.is(&["助動詞"]) && matches!(t.t.base.as_str(), "ない" | "ん" | "ぬ"))
                || t.t.surface.contains("どうしよう")
        })
    {
        states = states.union(States::DISTRESS);
    }
    let inner = &sentence.s[q.clone()];
    // 「最初は怖かったけど、今はもう平気」: the person telling a change in their own words.
    let then = [
        "最初",
        "初め",
        "はじめ",
        "前は",
        "以前",
        "昔",
        "先月",
        "去年",
    ];
    if then.iter().any(|w| inner.contains(w))
        && ["今は", "今も", "いまは", "最近は"]
            .iter()
            .any(|w| inner.contains(w))
    {
        states = states.union(States::COUNT).union(States::BASELINE);
    }
    // A question of how to go on (「これどうするの？」) or one asking to be reassured (「来るよね？」)
    // shows uncertainty; a question for information (「明日は何曜日？」) does not.
    // 「俺が付き添ったほうがいいかな」: words wondering what to do, or whether it will be
    // all right, with or without a question mark.
    let wonders = ["かな", "かなあ", "かなぁ", "だろうか", "でしょうか"]
        .iter()
        .any(|w| {
            inner
                .trim_end_matches(['」', '』', '。', '…', '、', '！', '!'])
                .ends_with(w)
        });
    let asks = wonders
        || inner.contains(['？', '?'])
            && [
                "どうする",
                "どうしよう",
                "どうした",
                "どうすれば",
                "どうやる",
                "よね",
                "でしょ",
                "大丈夫",
            ]
            .iter()
            .any(|w| inner.contains(w));
    if asks {
        states = states.union(States::DISTRESS);
    }
    for (phrases, shown) in ASKING {
        if phrases.iter().any(|w| inner.contains(w)) {
            states = states.union(shown);
        }
    }
    if [
        "なくていい",
        "なくてもいい",
        "なくていー",
        "いらない",
        "要らない",
        "いらん",
        "勝手に",
    ]
    .iter()
    .any(|w| inner.contains(w))
    {
        states = states.union(States::REFUSAL).union(States::DISTRESS);
        refused = true;
    }
    (states, refused)
}

/// Questions whose form shows a state, whatever they ask about.
const ASKING: [(&[&str], States); 2] = [
    // 「これ、見学できますか」「やってもいい？」: asking to do something is wanting to.
    (
        &[
            "できますか",
            "してもいい",
            "やってもいい",
            "行ってもいい",
            "やらせて",
        ],
        States::ENGAGEMENT,
    ),
    // 「次は何をすればいいですか」「今日は何曜日だっけ」: asking how to go on, or what one has
    // forgotten, shows what the person does not yet know.
    (
        &[
            "すればいい",
            "したらいい",
            "どうやる",
            "どうやって",
            "どうするの",
            "何をする",
            "だっけ",
            "っけ？",
        ],
        States::SKILL,
    ),
];
