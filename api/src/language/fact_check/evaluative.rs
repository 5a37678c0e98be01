//! Evaluative predicates the lexicon does not list (反応が薄かった, 仕事ぶりは真面目だ,
//! のびのびと描いていた): an adjective or an adjectival noun said of the person is a judgement
//! whatever its word, unless it describes something seen or measured (顔が赤い, 声が大きい,
//! 部屋が暗い). The lexicon's entries say which state a word claims; this catches the long tail
//! of words no list holds, as claims of no particular state.

use std::ops::Range;

use super::Sentence;

/// Adjectives that describe what can be seen, felt or measured, or that other rules handle
/// (vague amounts, time, feelings in state words).
const PLAIN_ADJECTIVES: &[&str] = &[
    "多い",
    "少ない",
    "大きい",
    "小さい",
    "長い",
    "短い",
    "高い",
    "低い",
    "早い",
    "速い",
    "遅い",
    "近い",
    "遠い",
    "重い",
    "軽い",
    "熱い",
    "暑い",
    "寒い",
    "冷たい",
    "温かい",
    "暖かい",
    "ぬるい",
    "赤い",
    "青い",
    "白い",
    "黒い",
    "黄色い",
    "茶色い",
    "痛い",
    "かゆい",
    "痒い",
    "苦しい",
    "ない",
    "無い",
    "良い",
    "よい",
    "いい",
    "悪い",
    "新しい",
    "古い",
    "広い",
    "狭い",
    "固い",
    "硬い",
    "柔らかい",
    "細かい",
    "強い",
    "弱い",
    "欲しい",
    "ほしい",
    "眠い",
    "正しい",
    "等しい",
    "明るい",
    "暗い",
    "うるさい",
    "まぶしい",
    "臭い",
    "くさい",
    "甘い",
    "辛い",
    "苦い",
    "酸っぱい",
    "しょっぱい",
    "おいしい",
    "美味しい",
    "まずい",
    "太い",
    "細い",
    "厚い",
    "薄い",
    "深い",
    "浅い",
    "丸い",
    "四角い",
    "汚い",
    "きたない",
    "危ない",
    "可愛い",
    "かわいい",
    "怖い",
    "こわい",
    "すごい",
    "凄い",
    "ひどい",
    "酷い",
    "つらい",
    "楽しい",
    "嬉しい",
    "うれしい",
    "悲しい",
    "寂しい",
    "さみしい",
    "面白い",
    "おもしろい",
    "難しい",
    "易しい",
    "やさしい",
    "優しい",
    "忙しい",
    "珍しい",
    "激しい",
    "だるい",
    "しんどい",
    "恥ずかしい",
    "悔しい",
    "眠たい",
    "騒がしい",
    "騒々しい",
    "めずらしい",
];

/// Adjectival nouns (形容動詞) that describe what is seen or done, not how well.
const PLAIN_NOUNS: &[&str] = &[
    "同じ",
    "同様",
    "一緒",
    "別",
    "必要",
    "不要",
    "可能",
    "不可能",
    "大丈夫",
    "いっぱい",
    "満腹",
    "空腹",
    "透明",
    "真っ赤",
    "真っ青",
    "真っ白",
    "真っ暗",
    "静か",
    "にぎやか",
    "賑やか",
    "急",
    "無理",
    "簡単",
    "複雑",
    "自由",
    "不自由",
    "平気",
    "元気",
    "十分",
    "充分",
    "不十分",
    "苦手",
    "得意",
    "好き",
    "嫌い",
    "大好き",
    "大嫌い",
    "特別",
    "普通",
    "確か",
    "明らか",
    "様々",
    "色々",
    "いろいろ",
    "さまざま",
    "大変",
    "残念",
    "心配",
    "不安",
    "安心",
    "迷惑",
    "面倒",
    "嫌",
    "いや",
    "ダメ",
    "だめ",
    "駄目",
    "無事",
    "健康",
    "病気",
    "不明",
    "上手",
    "下手",
    "きれい",
    "綺麗",
    "キレイ",
    "正確",
    "的確",
    "適切",
    "完全",
    "不完全",
    "半分",
    "前向き",
    "後ろ向き",
    "横向き",
    "上向き",
    "下向き",
    "逆",
    "反対",
    "斜め",
    "縦",
    "横",
];

/// Byte ranges of evaluative predicates said of the person, outside quotations.
pub(super) fn find(sentence: &Sentence, things: &[String]) -> Vec<Range<usize>> {
    if !sentence.analysed {
        return Vec::new();
    }
    let toks = &sentence.tokens;
    let mut out = Vec::new();
    for (i, tok) in toks.iter().enumerate() {
        let t = &tok.t;
        if sentence.shielded(&tok.bytes) {
            continue;
        }
        let next = toks.get(i + 1).map(|n| &n.t);
        let adjective = t.is(&["形容詞", "自立"]) && !PLAIN_ADJECTIVES.contains(&t.base.as_str());
        let adjectival = t.is(&["名詞", "形容動詞語幹"])
            && !PLAIN_NOUNS.contains(&t.base.as_str())
            && next.is_some_and(|n| {
                (n.is(&["助動詞"]) && matches!(n.base.as_str(), "だ" | "です"))
                    || (n.is(&["助詞"]) && matches!(n.surface.as_str(), "で" | "に" | "と"))
            });
        if !(adjective || adjectival) {
            continue;
        }
        // Said of a thing (部屋が清潔, 天気が穏やか): not of the person.
        let subject = toks[..i]
            .iter()
            .rev()
            .take(3)
            .find(|k| !k.t.is(&["助詞"]))
            .map(|k| k.t.base.as_str());
        if subject.is_some_and(|w| things.iter().any(|x| x == w)) {
            continue;
        }
        out.push(tok.bytes.clone());
    }
    out
}
