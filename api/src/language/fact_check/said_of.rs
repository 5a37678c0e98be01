//! What an interpretive word is said of: a person (a claim), or a thing, a name or a
//! condition (no claim): 穏やかな天気, 就労定着支援, 不穏時の対応, 来るそうだ.

use std::{ops::Range, sync::LazyLock};

use regex::Regex;

use super::Sentence;
use crate::language::lexicon::{Lexicon, Term, TermKind};

/// Suffixes that make a word the name of a thing (気分安定|薬, 安定|剤).
const THING_SUFFIXES: [&str; 12] = [
    "薬", "剤", "室", "費", "料", "表", "票", "帳", "券", "棟", "科", "所",
];
/// Head nouns that keep a compound a state or an act of the person (こだわり|行動, 不穏|状態).
const STATE_HEADS: [&str; 16] = [
    "行動",
    "反応",
    "傾向",
    "症状",
    "気味",
    "面",
    "的",
    "感",
    "力",
    "性",
    "度",
    "ぶり",
    "さ",
    "心",
    "斜め",
    "ななめ",
];

/// Whether an interpretive word at `r` is part of a name, not a claim: inside a proper noun
/// (元気寿司), or the modifier of a compound whose head names a thing or a service
/// (就労定着|支援, 気分安定|薬) and is no interpretation itself (体調|不良, 意欲|低下 stay
/// claims: `starts` holds where other entries matched).
pub(super) fn names_a_thing(sentence: &Sentence, r: &Range<usize>, starts: &[usize]) -> bool {
    if !sentence.analysed {
        return false;
    }
    let toks = &sentence.tokens;
    let inside_name = toks.iter().any(|k| {
        k.t.is(&["名詞", "固有名詞"])
            && k.bytes.start <= r.start
            && r.end <= k.bytes.end
            && k.bytes.len() > r.len()
    });
    if inside_name {
        return true;
    }
    // いつも通り入眠, 予定どおり出発: 〜通り says how the next word went; it names nothing.
    if ["通り", "どおり"]
        .iter()
        .any(|w| sentence.s[..r.end].ends_with(w))
    {
        return false;
    }
    // The match must end where a word ends, and the next word must be a noun heading it.
    let modifier = |k: &&super::Tok| {
        k.bytes.end == r.end
            && (k.t.is(&["名詞", "一般"])
                || k.t.is(&["名詞", "サ変接続"])
                || k.t.is(&["名詞", "形容動詞語幹"]))
    };
    if !toks.iter().any(|k| modifier(&k)) {
        return false;
    }
    let Some(head) = toks.iter().find(|k| k.bytes.start == r.end) else {
        return false;
    };
    let base = head.t.base.as_str();
    // A folded colon or slash is tagged a noun (体調:良); a head is a word.
    if base.is_ascii() {
        return false;
    }
    let noun_head = head.t.is(&["名詞", "一般"]) || head.t.is(&["名詞", "サ変接続"]);
    let thing_suffix = head.t.is(&["名詞", "接尾"]) && THING_SUFFIXES.contains(&base);
    (noun_head || thing_suffix)
        && !STATE_NOUNS.contains(&base)
        && !STATE_HEADS.contains(&base)
        && !starts.contains(&head.bytes.start)
}

/// Whether quotation marks hold a name, not anyone's words: nouns alone, followed by a
/// particle that makes them a place, an event or an owner (「前向きカフェ」に参加,
/// 「やすらぎ」の相談員, 「元気アップ体操」で). Words someone said are followed by と or って
/// (「怖い」と話した), or hold more than nouns (「おはよう」の挨拶).
pub(super) fn quote_names_a_thing(sentence: &Sentence, q: &Range<usize>) -> bool {
    if !sentence.analysed {
        return false;
    }
    let after = &sentence.s[q.end..];
    if !["の", "に", "で", "へ"]
        .iter()
        .any(|p| after.starts_with(p))
    {
        return false;
    }
    let inside: Vec<_> = sentence
        .tokens
        .iter()
        .filter(|t| q.start <= t.bytes.start && t.bytes.end <= q.end)
        .filter(|t| !t.t.is(&["記号"]))
        .collect();
    !inside.is_empty()
        && inside
            .iter()
            .all(|t| t.t.is(&["名詞"]) && !t.t.is(&["名詞", "代名詞"]))
}

/// Drops markers the analysis shows are something else: the hearsay そう (来るそうだ), よう in
/// a purpose (来られるよう支援).
pub(super) fn genuine(sentence: &Sentence, r: &Range<usize>, t: &Term) -> bool {
    if t.id == SHOWS_FEELING {
        return shows_feeling(sentence, r);
    }
    if !sentence.analysed || t.kind != TermKind::Marker {
        return true;
    }
    let Some(i) = sentence.token_at(r.start) else {
        return true;
    };
    let tok = &sentence.tokens[i].t;
    match tok.surface.as_str() {
        // 来るそうだ is hearsay; 言いたそうだ is how someone looked.
        "そう" => !tok.is(&["名詞", "特殊"]) || wish_looked(sentence, i),
        "げ" => tok.is(&["名詞", "接尾"]),
        _ => true,
    }
}

/// Whether the そう at token `i`, which the dictionary reads as hearsay, is a wish seen from
/// outside (言いたそうだ): たい's stem, read as the past た after a 五段 verb's 連用形, whose
/// real past would be 連用タ接続 (言った). 寝たそうだ and 乾かしたそうだ stay hearsay: a 一段
/// or サ行 verb's past looks the same.
pub(super) fn wish_looked(sentence: &Sentence, i: usize) -> bool {
    i >= 2
        && sentence.tokens[i - 1].t.surface == "た"
        && sentence.tokens[i - 2].t.conj_form == "連用形"
        && sentence.tokens[i - 2].t.conj_type.starts_with("五段")
        && !sentence.tokens[i - 2].t.conj_type.contains("サ行")
}

/// The marker entry for a feeling read from outside (寂しがる).
pub(super) const SHOWS_FEELING: &str = "shows_feeling";

/// Whether the match is the suffix がる (寂し|がっ), not the particle が (少し|がっかり); only the
/// analysis can tell, so without it the marker is never used.
pub(super) fn shows_feeling(sentence: &Sentence, r: &Range<usize>) -> bool {
    sentence.analysed
        && sentence.token_at(r.start).is_some_and(|i| {
            let tok = &sentence.tokens[i];
            tok.bytes.start == r.start && tok.t.is(&["動詞", "接尾"]) && tok.t.base == "がる"
        })
}

/// A condition (不穏時の対応, 疲れた時に使うカード) describes no one's state now.
static CONDITION: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern("^\\p{Hiragana}{0,4}(?:時|とき|際|場合)(?:の|に|は|用|を|、)")
});

/// Nouns an interpretation may describe (落ち着いた様子, 穏やかな一日, 不安な気持ち); any other
/// noun it modifies is a thing (穏やかな曲, 不安定な脚立, 調子の悪いプリンター), not a person.
const STATE_NOUNS: [&str; 98] = [
    "様子",
    "変化",
    "表情",
    "顔",
    "顔つき",
    "態度",
    "口調",
    "声",
    "状態",
    "気持ち",
    "気分",
    "一日",
    "日",
    "日々",
    "毎日",
    "時間",
    "時期",
    "生活",
    "性格",
    "人",
    "方",
    "子",
    "感じ",
    "雰囲気",
    "印象",
    "姿",
    "姿勢",
    "目",
    "目つき",
    "動き",
    "歩行",
    "足取り",
    "時",
    "ところ",
    "面",
    "部分",
    "傾向",
    "反応",
    "言動",
    "行動",
    "発言",
    "様",
    "笑顔",
    "顔色",
    "こと",
    "状況",
    "調子",
    "体調",
    "取り組み",
    "過ごし方",
    "話し方",
    "仕草",
    "しぐさ",
    "感情",
    "心",
    "気",
    "場面",
    "声色",
    "返事",
    "返答",
    "一面",
    "朝",
    "夜",
    "日中",
    "ご様子",
    // A change of it (意欲の低下, 体調の悪化): the claim named as a noun.
    "低下",
    "向上",
    "改善",
    "悪化",
    "増加",
    "減少",
    "上昇",
    "回復",
    "進歩",
    "成長",
    "後退",
    "変動",
    "波",
    "乱れ",
    "崩れ",
    "寝顔",
    "横顔",
    "口元",
    "目元",
    // How much or how often (いつも通りの量, 普段より多い回数): a vague amount of what happened.
    "量",
    "回数",
    "頻度",
    "ペース",
    "程度",
    // Who someone is (穏やかな人柄だ): said of the person, like 人 and 性格.
    "人柄",
    "気質",
    "性分",
    "人物",
    "青年",
    "男性",
    "女性",
    "子ども",
    "子供",
];

fn lexicon_things() -> &'static [String] {
    Lexicon::builtin().map_or(&[], |l| l.record.things.as_slice())
}

/// Whether an interpretation is said of someone, not a condition or a thing's quality.
pub(super) fn said_of_someone(sentence: &Sentence, r: &Range<usize>, t: &Term) -> bool {
    if t.kind == TermKind::VagueAmount {
        return true;
    }
    if !sentence.analysed {
        return !CONDITION.is_match(&sentence.s[r.end..]);
    }
    // A condition: 時・とき・際・場合 as a word of its own within the next few (調子が悪い時に).
    let after = sentence
        .tokens
        .iter()
        .skip_while(|k| k.bytes.start < r.end)
        .take(5);
    let mut prev_noun = false;
    for (n, k) in after.enumerate() {
        if k.t.pos[0] == "記号" {
            break;
        }
        if matches!(k.t.surface.as_str(), "時" | "とき" | "際" | "場合")
            && k.t.pos[0] == "名詞"
            && (n == 0 || !prev_noun)
        {
            let next = sentence
                .tokens
                .iter()
                .find(|x| x.bytes.start >= k.bytes.end);
            if next.is_some_and(|x| {
                matches!(
                    x.t.surface.as_str(),
                    "の" | "に" | "は" | "用" | "を" | "、" | "も" | "）" | ")"
                )
            }) {
                return false;
            }
        }
        prev_noun = k.t.pos[0] == "名詞" && k.t.pos[1] != "接尾";
    }
    // Said of a thing (天候が不安定, 接続が不安定で).
    if let Some(i) = sentence.tokens.iter().position(|k| k.bytes.end == r.start) {
        let particle = &sentence.tokens[i].t;
        if i > 0 && matches!(particle.surface.as_str(), "が" | "は" | "も" | "の") {
            let subject = &sentence.tokens[i - 1];
            if lexicon_things()
                .iter()
                .any(|t| t == &subject.t.base || t == &subject.t.surface)
            {
                return false;
            }
        }
    }
    // Words quoted or reported (休みがちとの連絡, 不安定だとの話) modify no noun.
    if sentence.s[r.end..].starts_with('と') {
        return true;
    }
    // Skip what joins the claim to the noun it modifies (な, の悪い, した), then look at it.
    let Some(mut i) = sentence.tokens.iter().position(|k| k.bytes.start >= r.end) else {
        return true;
    };
    let mut skipped = 0;
    while skipped < 3 {
        let Some(k) = sentence.tokens.get(i) else {
            return true;
        };
        let joins = matches!(
            k.t.surface.as_str(),
            "な" | "の" | "が" | "た" | "だ" | "ない" | "い"
        ) || (k.t.pos[0] == "形容詞"
            // 機嫌良く着替えに協力: an adverb (連用形) says how the act went; only the
            // attributive form (機嫌の悪いプリンター) names a thing.
            && matches!(k.t.conj_form.as_str(), "基本形" | "体言接続"))
            || (k.t.pos[0] == "動詞" && k.t.conj_form == "基本形")
            || k.t.pos[0] == "助動詞";
        if !joins {
            break;
        }
        i += 1;
        skipped += 1;
    }
    if skipped == 0 {
        return true;
    }
    // The compound noun modified (ピアノ曲): a thing when none of it names a state.
    let mut j = i;
    while sentence.tokens.get(j).is_some_and(|n| {
        n.t.pos[0] == "名詞"
            && matches!(
                n.t.pos[1].as_str(),
                "一般" | "固有名詞" | "サ変接続" | "接尾"
            )
    }) {
        j += 1;
    }
    if j == i {
        return true;
    }
    let nouns = &sentence.tokens[i..j];
    let named_thing = !nouns[0].t.is(&["名詞", "接尾"]);
    let thing = nouns
        .iter()
        .all(|n| !STATE_NOUNS.contains(&n.t.base.as_str()) && !sentence.shielded(&n.bytes));
    // A thing followed by a particle (曲を, 脚立は) is what the words describe.
    let followed = sentence.tokens.get(j).is_some_and(|n| {
        n.t.pos[0] == "助詞"
                || n.t.pos[0] == "記号"
                // 穏やかな天気だった: the thing is what the sentence is about.
                || (named_thing
                    && n.t.pos[0] == "助動詞"
                    && matches!(n.t.base.as_str(), "だ" | "です"))
    });
    !(thing && followed)
}
