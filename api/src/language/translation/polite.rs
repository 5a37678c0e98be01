//! Sentence endings (文末): the です・ます form of a plain ending for the family and the
//! client, and the plain である form of a polite one for the municipality.
//!
//! Why the analysis first: a polite ending depends on the verb's conjugation class (書いた →
//! 書きました, but 起きた → 起きました, 休んだ → 休みました). With the analyser every verb's
//! class and dictionary form are known, so any ending converts; without it only the endings
//! whose written form fixes the conjugation ([`ENDINGS`]) are rewritten, and anything else is
//! left as written, because a wrong ending is worse than a plain one.

use std::ops::Range;

use crate::language::{
    analysis::{Analyzer, Token},
    text::overlaps,
};

pub(super) const TERMINATORS: &[char] = &['。', '！', '？', '!', '?'];

/// A plain sentence ending and its です・ます form.
struct Ending {
    from: &'static str,
    to: &'static str,
    /// When not empty, the char just before `from` must be one of these.
    after: &'static str,
    /// Text just before `from` that blocks the ending (だらしない is no verb).
    not_after: &'static [&'static str],
}

const fn end(from: &'static str, to: &'static str) -> Ending {
    Ending {
        from,
        to,
        after: "",
        not_after: &[],
    }
}

/// Kana that end the stem of an ichidan verb or する before た (食べた, 起きた, した): the
/// e-row and the i-row but い (書いた is godan; its polite form needs the dictionary).
/// へ is left out for へた (下手).
const ICHIDAN_STEM_END: &str = "えけげせぜてでねべぺめれきぎしじちぢにひびぴみり";

/// The endings the polite rules rewrite, tried in order (a longer ending before the shorter
/// one it ends with). Each is safe without a dictionary: its form fixes the conjugation.
/// Godan verbs in kana (行かない, 言った) are left alone, since their polite form depends on the
/// verb; those whose kanji fixes it (言った, 飲んだ) are listed one by one.
const ENDINGS: &[Ending] = &[
    end("ていなかった", "ていませんでした"),
    end("でいなかった", "でいませんでした"),
    end("できなかった", "できませんでした"),
    Ending {
        not_after: &["だら", "せわ"],
        ..end("しなかった", "しませんでした")
    },
    end("くなかった", "くありませんでした"),
    end("がなかった", "がありませんでした"),
    end("はなかった", "はありませんでした"),
    end("ていない", "ていません"),
    end("でいない", "でいません"),
    end("できない", "できません"),
    Ending {
        not_after: &["だら", "せわ"],
        ..end("しない", "しません")
    },
    end("くない", "くありません"),
    end("がない", "がありません"),
    end("はない", "はありません"),
    end("であった", "でした"),
    end("だった", "でした"),
    end("である", "です"),
    end("ていた", "ていました"),
    end("でいた", "でいました"),
    end("ている", "ています"),
    end("でいる", "でいます"),
    end("てしまった", "てしまいました"),
    end("でしまった", "でしまいました"),
    end("があった", "がありました"),
    end("がある", "があります"),
    Ending {
        not_after: &["こ", "行", "損"],
        ..end("なった", "なりました")
    },
    end("になる", "になります"),
    end("くなる", "くなります"),
    end("できる", "できます"),
    end("する", "します"),
    end("しかった", "しかったです"),
    end("よかった", "よかったです"),
    end("言った", "言いました"),
    end("入った", "入りました"),
    end("帰った", "帰りました"),
    end("座った", "座りました"),
    end("使った", "使いました"),
    end("作った", "作りました"),
    end("笑った", "笑いました"),
    end("待った", "待ちました"),
    end("飲んだ", "飲みました"),
    end("休んだ", "休みました"),
    end("読んだ", "読みました"),
    end("遊んだ", "遊びました"),
    end("選んだ", "選びました"),
    end("書いた", "書きました"),
    end("聞いた", "聞きました"),
    end("歩いた", "歩きました"),
    end("泣いた", "泣きました"),
    end("着いた", "着きました"),
    end("来た", "来ました"),
    end("見た", "見ました"),
    end("寝た", "寝ました"),
    end("出た", "出ました"),
    end("のんだ", "のみました"),
    end("はいった", "はいりました"),
    end("かよった", "かよいました"),
    end("やすんだ", "やすみました"),
    Ending {
        after: ICHIDAN_STEM_END,
        not_after: &["まし", "でし", "あし"],
        ..end("た", "ました")
    },
];

/// The sentence with its ending in です・ます by the table alone (no analyser), when the
/// ending is one of [`ENDINGS`] and stands outside a quotation.
fn polite_by_table(sentence: &str, quotes: &[Range<usize>]) -> Option<String> {
    let body = sentence.trim_end_matches(TERMINATORS);
    let rest = &sentence[body.len()..];
    for e in ENDINGS {
        let Some(stem) = body.strip_suffix(e.from) else {
            continue;
        };
        if quotes
            .iter()
            .any(|q| overlaps(q, &(stem.len()..body.len())))
        {
            return None;
        }
        let after_ok = e.after.is_empty()
            || stem
                .chars()
                .next_back()
                .is_some_and(|c| e.after.contains(c));
        if after_ok && !e.not_after.iter().any(|n| stem.ends_with(n)) {
            return Some(format!("{stem}{}{rest}", e.to));
        }
    }
    None
}

/// `family.polite` / `easy.polite`: the sentence with its ending in です・ます, or `None` when
/// it already is polite, ends inside a quotation, or has an ending that cannot be converted.
pub(super) fn polite(
    sentence: &str,
    quotes: &[Range<usize>],
    analyzer: Option<&Analyzer>,
) -> Option<String> {
    let body = sentence.trim_end_matches(TERMINATORS);
    // A note in brackets at the end (約5分) stays after the ending.
    let body = match body.strip_suffix('）') {
        Some(inner) => inner.rfind('（').map_or(body, |i| &body[..i]),
        None => body,
    };
    let rest = &sentence[body.len()..];
    if body.is_empty() || quotes.iter().any(|q| q.end >= body.len()) {
        return None;
    }
    if let Some(a) = analyzer {
        let tokens = a.analyze(body);
        if let Some(p) = polite_by_analysis(body, &tokens, !rest.is_empty()) {
            return Some(format!("{p}{rest}"));
        }
    }
    polite_by_table(sentence, quotes)
}

/// Byte offset in `body` where token `i` starts.
fn start_of(body: &str, tokens: &[Token], i: usize) -> usize {
    let c = tokens.get(i).map(|t| t.span.start).unwrap_or(0);
    body.char_indices()
        .nth(c)
        .map(|(b, _)| b)
        .unwrap_or(body.len())
}

fn aux(t: &Token, conj_type: &str) -> bool {
    t.is(&["助動詞"]) && t.conj_type == conj_type
}

/// The polite form of a plain ending, from the analysis of the sentence body.
pub(super) fn polite_by_analysis(body: &str, tokens: &[Token], terminated: bool) -> Option<String> {
    let n = tokens.len();
    let last = tokens.last()?;
    let before = |k: usize| &body[..start_of(body, tokens, k)];
    let tok = |k: usize| tokens.get(k);
    if tokens
        .iter()
        .rev()
        .take(3)
        .any(|t| aux(t, "特殊・マス") || aux(t, "特殊・デス"))
    {
        return None;
    }
    let is_verb = |t: &Token| t.is(&["動詞"]);
    let particle = |t: &Token| t.is(&["助詞"]);
    if aux(last, "特殊・タ") && n >= 2 {
        let prev = &tokens[n - 2];
        if prev.base == "ある" && n >= 3 && tokens[n - 3].surface == "で" {
            return Some(format!("{}でした", before(n - 3)));
        }
        if is_verb(prev) {
            return Some(format!("{}{}ました", before(n - 2), renyou(prev)?));
        }
        if aux(prev, "特殊・ナイ") {
            let v = tok(n.checked_sub(3)?)?;
            if is_verb(v) {
                return Some(format!("{}{}ませんでした", before(n - 3), renyou(v)?));
            }
            return None;
        }
        if prev.is(&["形容詞"]) {
            if prev.base == "ない" && n >= 3 && particle(&tokens[n - 3]) {
                return Some(format!("{}ありませんでした", before(n - 2)));
            }
            return Some(format!("{body}です"));
        }
        if aux(prev, "特殊・ダ") {
            return Some(format!("{}でした", before(n - 2)));
        }
        if aux(prev, "特殊・タイ") {
            return Some(format!("{body}です"));
        }
        return None;
    }
    if is_verb(last) && last.conj_form == "基本形" {
        if last.base == "ある" && n >= 2 && tokens[n - 2].surface == "で" {
            return Some(format!("{}です", before(n - 2)));
        }
        return Some(format!("{}{}ます", before(n - 1), renyou(last)?));
    }
    if aux(last, "特殊・ナイ") && last.conj_form == "基本形" && n >= 2 {
        let v = &tokens[n - 2];
        if is_verb(v) {
            return Some(format!("{}{}ません", before(n - 2), renyou(v)?));
        }
        return None;
    }
    if last.is(&["形容詞"]) && last.conj_form == "基本形" {
        if last.base == "ない" && n >= 2 && particle(&tokens[n - 2]) {
            return Some(format!("{}ありません", before(n - 1)));
        }
        return Some(format!("{body}です"));
    }
    if aux(last, "特殊・ダ") && last.conj_form == "基本形" {
        return Some(format!("{}です", before(n - 1)));
    }
    // A record's sentence ending in a verb's 連用形 (連絡あり。): the polite past.
    if terminated && is_verb(last) && last.conj_form == "連用形" && last.is(&["動詞", "自立"])
    {
        return Some(format!("{body}ました"));
    }
    // A record's noun ending (体言止め) on an act with its object: 朝食を完食 → 完食しました.
    if last.is(&["名詞", "サ変接続"])
        && last.surface.chars().count() >= 2
        && n >= 2
        && tokens[n - 2].surface == "を"
        && tokens[n - 2].is(&["助詞"])
    {
        return Some(format!("{body}しました"));
    }
    // Other noun endings of a finished sentence: an act done (全量摂取 → 全量摂取しました) unless
    // the sentence speaks of a plan, else a state (お休み → お休みです).
    if terminated && last.is(&["名詞"]) && !last.is(&["名詞", "接尾"]) && !last.is(&["名詞", "数"])
    {
        let planned = ["予定", "今後", "目標", "工夫", "方針", "検討"]
            .iter()
            .any(|w| body.contains(w));
        if last.is(&["名詞", "サ変接続"]) && !planned && last.surface.chars().count() >= 2 {
            return Some(format!("{body}しました"));
        }
        return Some(format!("{body}です"));
    }
    None
}

/// The conjunctive form (連用形) of a verb token, which ます follows: 飲ん(で) → 飲み.
pub(super) fn renyou(t: &Token) -> Option<String> {
    if t.conj_form == "連用形" {
        return Some(t.surface.clone());
    }
    let base = t.base.as_str();
    let ty = t.conj_type.as_str();
    if ty.starts_with("一段") {
        return base.strip_suffix('る').map(str::to_owned);
    }
    if ty.starts_with("サ変") {
        return base
            .strip_suffix("する")
            .map(|s| format!("{s}し"))
            .or_else(|| base.strip_suffix("ずる").map(|s| format!("{s}じ")));
    }
    if ty.starts_with("カ変") {
        return base
            .strip_suffix("くる")
            .map(|s| format!("{s}き"))
            .or_else(|| base.strip_suffix('る').map(str::to_owned));
    }
    if ty.starts_with("五段") {
        let mut chars: Vec<char> = base.chars().collect();
        let last = chars.pop()?;
        let i_row = match last {
            'う' => 'い',
            'く' => 'き',
            'ぐ' => 'ぎ',
            'す' => 'し',
            'つ' => 'ち',
            'ぬ' => 'に',
            'ぶ' => 'び',
            'む' => 'み',
            'る' if ty.contains("特殊") => 'い',
            'る' => 'り',
            _ => return None,
        };
        chars.push(i_row);
        return Some(chars.into_iter().collect());
    }
    None
}

/// The plain past form (た形) of a verb token: 休む → 休んだ, 書く → 書いた, 行く → 行った.
fn ta_form(t: &Token) -> Option<String> {
    let base = t.base.as_str();
    let ty = t.conj_type.as_str();
    if ty.starts_with("一段") || ty.starts_with("カ変") || ty.starts_with("サ変") {
        return renyou(t).map(|r| format!("{r}た"));
    }
    if !ty.starts_with("五段") {
        return None;
    }
    let stem: String = {
        let mut c: Vec<char> = base.chars().collect();
        c.pop()?;
        c.into_iter().collect()
    };
    let tail = if ty.contains("促音便") {
        "った"
    } else {
        match base.chars().last()? {
            'く' => "いた",
            'ぐ' => "いだ",
            'す' => "した",
            'う' | 'つ' | 'る' => "った",
            'ぬ' | 'ぶ' | 'む' => "んだ",
            _ => return None,
        }
    };
    Some(format!("{stem}{tail}"))
}

/// The negative stem (未然形) of a verb token, which ない follows: 行く → 行か.
fn mizen(t: &Token) -> Option<String> {
    let base = t.base.as_str();
    let ty = t.conj_type.as_str();
    if ty.starts_with("一段") {
        return base.strip_suffix('る').map(str::to_owned);
    }
    if ty.starts_with("サ変") {
        return base.strip_suffix("する").map(|s| format!("{s}し"));
    }
    if ty.starts_with("カ変") {
        return base
            .strip_suffix("くる")
            .map(|s| format!("{s}こ"))
            .or_else(|| base.strip_suffix('る').map(str::to_owned));
    }
    if ty.starts_with("五段") {
        let mut chars: Vec<char> = base.chars().collect();
        let last = chars.pop()?;
        let a_row = match last {
            'う' => 'わ',
            'く' => 'か',
            'ぐ' => 'が',
            'す' => 'さ',
            'つ' => 'た',
            'ぬ' => 'な',
            'ぶ' => 'ば',
            'む' => 'ま',
            'る' => 'ら',
            _ => return None,
        };
        chars.push(a_row);
        return Some(chars.into_iter().collect());
    }
    None
}

/// `admin.formal`: a polite ending in the written である form the municipality's documents
/// use (休みました → 休んだ, 元気です → 元気である). `None` when nothing is to change.
pub(super) fn formal(
    sentence: &str,
    quotes: &[Range<usize>],
    analyzer: &Analyzer,
) -> Option<String> {
    let body = sentence.trim_end_matches(TERMINATORS);
    let rest = &sentence[body.len()..];
    if body.is_empty()
        || quotes
            .iter()
            .any(|q| overlaps(q, &(body.len().saturating_sub(1)..body.len())))
    {
        return None;
    }
    let tokens = analyzer.analyze(body);
    let n = tokens.len();
    let before = |k: usize| &body[..start_of(body, &tokens, k)];
    let last = tokens.last()?;
    let out = if aux(last, "特殊・タ") && n >= 3 && aux(&tokens[n - 2], "特殊・マス") {
        let v = &tokens[n - 3];
        format!("{}{}", before(n - 3), ta_form(v)?)
    } else if aux(last, "特殊・タ") && n >= 2 && aux(&tokens[n - 2], "特殊・デス") {
        format!("{}であった", before(n - 2))
    } else if aux(last, "特殊・マス") && last.conj_form == "基本形" && n >= 2 {
        format!("{}{}", before(n - 2), tokens[n - 2].base)
    } else if aux(last, "特殊・デス") && last.conj_form == "基本形" {
        if n >= 2 && tokens[n - 2].is(&["形容詞"]) {
            before(n - 1).to_owned()
        } else {
            format!("{}である", before(n - 1))
        }
    } else if last.surface == "ん" && n >= 3 && aux(&tokens[n - 2], "特殊・マス") {
        // ません
        format!("{}{}ない", before(n - 3), mizen(&tokens[n - 3])?)
    } else {
        return None;
    };
    Some(format!("{out}{rest}"))
}

/// `family.polite` inside a sentence: a clause that ends in a plain past before が・けど
/// (赤くなったが、) in the polite form too (赤くなりましたが、), so that the family's letter
/// does not switch register mid-sentence. `None` when there is no such clause.
pub(super) fn polite_clauses(
    sentence: &str,
    quotes: &[Range<usize>],
    analyzer: &Analyzer,
) -> Option<String> {
    let tokens = analyzer.analyze(sentence);
    let mut out = sentence.to_owned();
    let mut changed = false;
    // Right to left, so that earlier offsets stay valid.
    for k in (1..tokens.len()).rev() {
        let t = &tokens[k];
        let but =
            t.is(&["助詞", "接続助詞"]) && matches!(t.surface.as_str(), "が" | "けど" | "けれど");
        if !but || !aux(&tokens[k - 1], "特殊・タ") {
            continue;
        }
        let end = start_of(sentence, &tokens, k);
        if quotes.iter().any(|q| q.start < end && end <= q.end) {
            continue;
        }
        let head = &sentence[..end];
        let Some(polite) = polite_by_analysis(head, &tokens[..k], false) else {
            continue;
        };
        out = format!("{polite}{}", &out[end..]);
        changed = true;
    }
    changed.then_some(out)
}
