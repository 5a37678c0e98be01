//! The plan rules: a goal or support line must name something a third person could check.
//!
//! The line's frame (a purpose 〜できるよう / 〜ために / 〜に向けて, a condition 〜したときは /
//! 〜たら / 〜場合は, an embedded question 〜かを) may be vague; its body may not: a vague word
//! there (意欲的に, 適宜, 定期的に, 少しずつ) flags the line, and the body must hold a concrete
//! act (a verb that names something visible, or する/行う with a concrete object) or a change
//! with a number (月2回以下にする, 2kg減らす).

use std::ops::Range;

use super::{RawFinding, RawReport, Sentence, UNMEASURABLE_GOAL};
use crate::language::{
    lexicon::{AnchorKind, Asks, Lexicon, OrganizationLexicon, TermKind},
    text::overlaps,
};

/// Verbs that carry no act of their own: the act is in their object.
const LIGHT_VERBS: [&str; 12] = [
    "する",
    // 小遣い帳をつける is an act, 自信をつける is not: the object decides.
    "つける",
    "付ける",
    "行う",
    "おこなう",
    "行える",
    "おこなえる",
    "できる",
    "出来る",
    "させる",
    "れる",
    "られる",
];
/// Verbs and nouns that name a change: concrete only with a number.
const CHANGE_VERBS: [&str; 10] = [
    "減らす",
    "増やす",
    "減る",
    "増える",
    "下げる",
    "上げる",
    "縮める",
    "伸ばす",
    "延ばす",
    "短くする",
];
const CHANGE_NOUNS: [&str; 8] = [
    "減少", "増加", "短縮", "延長", "削減", "低減", "軽減", "増量",
];
/// Verbs of being, not acts.
const STATES: [&str; 5] = ["なる", "ある", "いる", "おる", "なれる"];

/// Whether the verb at `i` modifies the noun after it (〜した支援, 〜できる関係).
fn attributive(tokens: &[super::Tok], i: usize) -> bool {
    let mut j = i + 1;
    while tokens.get(j).is_some_and(|t| {
        t.t.pos[0] == "助動詞" && matches!(t.t.conj_form.as_str(), "基本形" | "体言接続")
    }) {
        j += 1;
    }
    let form = &tokens[j - 1].t.conj_form;
    // 合った働き方: a verb with 方 or ごと after it (働き|方, 困り|ごと) is a noun too.
    let verbal_noun = |k: usize| {
        tokens.get(k).is_some_and(|v| v.t.pos[0] == "動詞")
            && tokens.get(k + 1).is_some_and(|n| {
                n.t.is(&["名詞", "接尾"]) && matches!(n.t.base.as_str(), "方" | "ごと")
            })
    };
    form == "基本形"
        && (tokens.get(j).is_some_and(|n| {
            n.t.pos[0] == "名詞"
                && !matches!(n.t.pos[1].as_str(), "非自立" | "接尾")
                && n.t.surface.chars().any(char::is_alphanumeric)
        }) || verbal_noun(j))
}

pub(super) fn check(
    sentence: &Sentence,
    lexicon: &Lexicon,
    own: Option<&OrganizationLexicon>,
) -> RawReport {
    let s = sentence.s;
    let frames = frames(sentence);
    let in_frame = |r: &Range<usize>| frames.iter().any(|f| f.start <= r.start && r.end <= f.end);

    let mut out = RawReport::default();
    // Vague words in the body.
    let mut candidates: Vec<(Range<usize>, &crate::language::lexicon::Term)> = lexicon
        .terms
        .iter()
        .chain(own.into_iter().flat_map(|o| o.terms.iter()))
        .flat_map(|t| t.find(s).into_iter().map(move |r| (r, t)))
        .filter(|(r, _)| !sentence.shielded(r) && !in_frame(r))
        .filter(|(r, t)| {
            // 就労定着|支援員: part of a name, not an aim.
            t.kind != TermKind::Interpretation || !super::said_of::names_a_thing(sentence, r, &[])
        })
        .filter(|(r, t)| {
            t.id != super::said_of::SHOWS_FEELING || super::said_of::shows_feeling(sentence, r)
        })
        .filter(|(r, t)| !(t.kind == TermKind::Interpretation && names_content(s, r.end)))
        .collect();
    candidates.sort_by_key(|(r, t)| (r.start, std::cmp::Reverse(r.end), t.kind as u8));
    let mut vague: Vec<(Range<usize>, &crate::language::lexicon::Term)> = Vec::new();
    for (r, t) in candidates {
        if !vague.iter().any(|(k, _)| overlaps(k, &r)) {
            vague.push((r, t));
        }
    }

    let numbers: Vec<Range<usize>> = lexicon
        .anchors
        .iter()
        .filter(|a| a.kind == AnchorKind::Number || a.kind == AnchorKind::Time)
        .flat_map(|a| a.find(s))
        .filter(|r| !sentence.shielded(r))
        .collect();
    for r in &numbers {
        out.anchors.push((r.clone(), AnchorKind::Number));
    }
    let counted = numbers.iter().any(|r| {
        !in_frame(r)
            && lexicon.anchors.iter().any(|a| {
                a.kind == AnchorKind::Number && a.find(&s[r.clone()]).iter().any(|m| !m.is_empty())
            })
    });
    let concrete = if sentence.analysed {
        concrete_act(sentence, lexicon, own, &in_frame, counted)
    } else {
        counted
    };

    let clause_of = |r: &Range<usize>| sentence.clauses[sentence.clause_of(r.start)].bytes.clone();
    if !vague.is_empty() {
        for (r, t) in vague {
            out.findings.push(RawFinding {
                clause: clause_of(&r),
                span: r,
                kind: t.kind,
                term_id: t.id.clone(),
                label: t.label.clone(),
                asks: if t.kind == TermKind::VagueAmount {
                    Asks::HowMany
                } else {
                    Asks::Measure
                },
                next_sentence_clears: None,
                previous_sentence_clears: None,
            });
        }
    } else if !concrete {
        out.findings.push(RawFinding {
            span: 0..s.len(),
            clause: 0..s.len(),
            kind: TermKind::VagueGoal,
            term_id: UNMEASURABLE_GOAL.into(),
            label: "測れる要素のない目標".into(),
            asks: Asks::Measure,
            next_sentence_clears: None,
            previous_sentence_clears: None,
        });
    }
    out.anchors.sort_by_key(|(r, _)| r.start);
    out
}

/// Whether an interpretive word ending at `end` only says what an act is about (楽しかったこと
/// を1つ発表する, 困ったことを職員に伝える): the act is checkable whatever the content (rule 14).
fn names_content(s: &str, end: usize) -> bool {
    let rest = &s[end..];
    // 気分の波について振り返る: the topic of the act.
    if ["について", "に関して", "に関する", "をテーマに"]
        .iter()
        .any(|p| rest.starts_with(p))
    {
        return true;
    }
    let rest = rest.trim_start_matches(['た', 'だ', 'っ', 'か', 'い']);
    // 最近の様子を報告する: what is reported, whatever it is.
    let rest = rest.strip_prefix('の').unwrap_or(rest);
    ["こと", "事", "もの", "出来事", "場面", "気持ち", "様子"]
        .iter()
        .any(|n| {
            rest.strip_prefix(n)
                .is_some_and(|r| r.starts_with(['を', 'や', 'が', 'は', 'に', 'と']))
        })
}

/// Byte ranges of the frame: purpose (〜よう, 〜ために, 〜ため、), condition and embedded-question
/// parts. Numbers inside the frame do not count as the line's measure.
fn frames(sentence: &Sentence) -> Vec<Range<usize>> {
    let s = sentence.s;
    let mut out = Vec::new();
    let mut start = 0;
    let tokens = &sentence.tokens;
    for (i, tok) in tokens.iter().enumerate() {
        let t = &tok.t;
        if t.is(&["記号", "読点"]) {
            start = tok.bytes.end;
            continue;
        }
        let next = tokens.get(i + 1).map(|n| n.t.surface.as_str());
        let end = match t.surface.as_str() {
            // 〜できるよう(に), but not the goal's own ending 〜ようになる / 〜ようにする.
            "よう" if t.is(&["名詞", "非自立"]) => {
                let after = tokens.get(i + 2).map(|n| n.t.base.as_str());
                if next == Some("に") && matches!(after, Some("なる" | "する")) {
                    None
                } else if next == Some("に") {
                    Some(tokens[i + 1].bytes.end)
                } else {
                    Some(tok.bytes.end)
                }
            }
            // 〜ために, 〜に向けて, 〜を目指して
            "ため" if next == Some("に") => Some(tokens[i + 1].bytes.end),
            // 〜整えるため、
            "ため" if t.is(&["名詞"]) && next == Some("、") => Some(tok.bytes.end),
            "向け" | "目指し" if next == Some("て") => Some(tokens[i + 1].bytes.end),
            // 〜ときは, 〜場合は, 〜際は
            // (体調が悪い日は: a day named by a condition.)
            "とき" | "時" | "場合" | "際" | "日" if matches!(next, Some("は" | "に" | "も")) => {
                Some(tokens[i + 1].bytes.end)
            }
            // 〜たら, 〜れば
            "たら" | "ば" if t.pos[0] == "助動詞" || t.is(&["助詞", "接続助詞"]) => {
                Some(tok.bytes.end)
            }
            // 〜かを / 〜かどうか
            "か" if t.pos[0] == "助詞" && matches!(next, Some("を" | "どう" | "について")) => {
                Some(tokens[i + 1].bytes.end)
            }
            _ => None,
        };
        if let Some(end) = end {
            out.push(start..end);
            start = end;
        }
    }
    if !sentence.analysed {
        // Without tokens: a purpose clause ending in よう、 / ように、 / ために、.
        if let Some(i) = ["よう、", "ように、", "ために、", "ときは、", "場合は、"]
            .iter()
            .filter_map(|m| s.find(m).map(|i| i + m.len()))
            .max()
        {
            out.push(0..i);
        }
    }
    out
}

/// Whether the body holds an act a third person could see: a verb that names one, a light
/// verb whose object names one, or a change verb with a number.
fn concrete_act(
    sentence: &Sentence,
    lexicon: &Lexicon,
    own: Option<&OrganizationLexicon>,
    in_frame: &dyn Fn(&Range<usize>) -> bool,
    counted: bool,
) -> bool {
    let tokens = &sentence.tokens;
    let vague_verb = |b: &str| lexicon.plan.vague_verbs.iter().any(|v| v == b);
    let vague_noun = |b: &str| lexicon.plan.vague_nouns.iter().any(|v| v == b);
    if own.is_some_and(|o| {
        o.evidence
            .iter()
            .any(|e| e.find(sentence.s).iter().any(|r| !in_frame(r)))
    }) {
        return true;
    }
    for (i, tok) in tokens.iter().enumerate() {
        let t = &tok.t;
        if in_frame(&tok.bytes) || sentence.shielded(&tok.bytes) || !t.is(&["動詞"]) {
            continue;
        }
        if matches!(t.pos[1].as_str(), "非自立" | "接尾") || STATES.contains(&t.base.as_str())
        {
            continue;
        }
        // A verb modifying a noun (一貫した支援, 相談できる関係) or part of one (困りごと) is
        // not the line's act.
        if attributive(tokens, i) || tokens.get(i + 1).is_some_and(|n| n.t.is(&["名詞", "接尾"]))
        {
            continue;
        }
        let base = t.base.as_str();
        let object = object_of(tokens, i, &in_frame);
        // The act: the verb itself, or for する/行う/できる the noun it makes a verb of
        // (入浴する, 手洗いを行う, 通所できる).
        let act = if LIGHT_VERBS.contains(&base) {
            match &object {
                Some(noun) => noun.as_str(),
                // 月4回以下にする: a number states the target.
                None if counted => return true,
                None => continue,
            }
        } else {
            base
        };
        if CHANGE_VERBS.contains(&act) || CHANGE_NOUNS.contains(&act) {
            if counted {
                return true;
            }
            continue;
        }
        // 作業を週5日続ける, 体重を60kg以下に保つ, プリントを1枚取り組む: keeping up or doing
        // a concrete act or measure is checkable when the line counts it.
        // The object may stand before the count's commas (作業を週5日、9:30〜15:00まで続ける).
        // 睡眠記録とチェック表を見直す: going over a named record is checkable too.
        // (勤務を週4日継続する: 継続 made a verb by する keeps up the same way.)
        let keeps = matches!(
            act,
            "継続"
                | "続ける"
                | "続けられる"
                | "保つ"
                | "保てる"
                | "取り組む"
                | "取り組める"
                | "見直す"
                | "振り返る"
        );
        let kept = || {
            (1..i).rev().find_map(|j| {
                let (p, n) = (&tokens[j], &tokens[j - 1]);
                (p.t.is(&["助詞", "格助詞"]) && p.t.surface == "を" && !in_frame(&p.bytes))
                    .then(|| n.t.base.clone())
            })
        };
        if keeps && counted && kept().is_some_and(|o| !vague_noun(&o) && !vague_verb(&o)) {
            return true;
        }
        // 顔を向ける, 袖に腕を通す: a verb that is vague of an aim (意識を向ける) names a
        // movement when its object is part of the body.
        if vague_verb(act) && object.as_deref().is_some_and(|o| BODY.contains(&o)) {
            return true;
        }
        if vague_verb(act) || vague_noun(act) {
            continue;
        }
        // A concrete verb on a vague object (関係をつくる) is no act either, unless the line
        // counts it (活動を1つ書く).
        if object.as_deref().is_some_and(vague_noun) && !counted {
            continue;
        }
        return true;
    }
    // A line ending in a verbal noun (体言止め) names its act with it, and with a number it can
    // be checked (放課後等デイサービス 週3回 15:00〜17:30 利用。).
    let last = tokens
        .iter()
        .rev()
        .find(|t| !t.t.is(&["記号"]) && !in_frame(&t.bytes));
    if counted
        && last.is_some_and(|t| {
            t.t.is(&["名詞", "サ変接続"]) && !vague_noun(&t.t.base) && !vague_verb(&t.t.base)
        })
    {
        return true;
    }
    // 就労継続支援B型 週5日 9:30〜15:00 / 月2回、土曜日の9:30〜15:30の枠: how often and from when
    // to when is a schedule anyone can check.
    counted && SCHEDULE.is_match(sentence.s)
}

/// How often (週5日, 月2回) and a span of clock times (9:30〜15:00), in either order.
static SCHEDULE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    crate::language::text::pattern(
        "(?:週|月)[0-9]+(?:日|回)[^。]*?[0-9]{1,2}:[0-9]{2}\\s*[〜~－\\-]\\s*[0-9]{1,2}:[0-9]{2}|[0-9]{1,2}:[0-9]{2}\\s*[〜~－\\-]\\s*[0-9]{1,2}:[0-9]{2}[^。]*?(?:週|月)[0-9]+(?:日|回)",
    )
});

/// Parts of the body: the object of a movement (顔を向ける, 腕を通す, 手を伸ばす).
const BODY: [&str; 14] = [
    "顔", "目", "視線", "首", "腕", "手", "足", "体", "身体", "指", "頭", "背中", "肩", "腰",
];

/// The noun a light verb at `i` acts on: right before it (通所できる), or before a を/は/も
/// earlier in its clause (手洗いを自分で行う).
fn object_of(
    tokens: &[super::Tok],
    i: usize,
    in_frame: &dyn Fn(&Range<usize>) -> bool,
) -> Option<String> {
    // A mark to put down (カレンダーに×を付ける) is as concrete as a noun.
    let noun = |t: &super::Tok| {
        matches!(t.t.surface.as_str(), "×" | "○" | "◯" | "△" | "✓" | "✔")
            || t.t.pos[0] == "名詞"
                && !matches!(
                    t.t.pos[1].as_str(),
                    "副詞可能" | "代名詞" | "数" | "接尾" | "非自立"
                )
                && !in_frame(&t.bytes)
    };
    if i > 0 && noun(&tokens[i - 1]) {
        return Some(tokens[i - 1].t.base.clone());
    }
    let mut j = i;
    while j > 1 {
        j -= 1;
        let t = &tokens[j].t;
        if t.is(&["記号", "読点"]) || in_frame(&tokens[j].bytes) {
            return None;
        }
        if (t.is(&["助詞", "係助詞"]) || t.is(&["助詞", "格助詞"]))
            && matches!(t.surface.as_str(), "を" | "は" | "も")
        {
            if noun(&tokens[j - 1]) {
                return Some(tokens[j - 1].t.base.clone());
            }
            // 小遣い帳を, 関係性を: the compound's own noun decides.
            if j > 1 && tokens[j - 1].t.is(&["名詞", "接尾"]) && noun(&tokens[j - 2]) {
                return Some(tokens[j - 2].t.base.clone());
            }
        }
    }
    None
}
