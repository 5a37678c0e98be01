//! What numbers in a record measure (数と測定): counts and zeros, vital signs and the way
//! their values point, the small hours, meal amounts and output, dates that are not amounts.

use std::{ops::Range, sync::LazyLock};

use regex::Regex;

use crate::language::lexicon::Valence;

/// A number with a counter or unit: a count or a measure (not a clock time or a date).
pub(super) static COUNT: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(concat!(
        "(?:[0-9]+(?:[.,][0-9]+)?|[一二三四五六七八九十百千両]+)\\s*",
        "(?:回|度|℃|分|秒|時間|日間|日分|週間|か月|ヶ月|ヵ月|カ月|ケ月|箇月|枚|個|本|杯|錠|包|粒|",
        "mg|ml|mL|cc|g|kg|km|m|cm|mm|人|名|件|口|割|%|％|キロ|ページ|頁|行|箇所|カ所|ヶ所|か所|往復|歩|",
        "食|膳|品|点|円|袋|周|セット|問|文字|種類|缶|箱|皿|切れ|つ|曲|段|kcal|mmHg|拍|リットル|L|",
        "語|工程|項目|台|着|足|冊|局|試合|種|色|品目|段階|コマ|か所|カ所|ヶ所|社|",
        "日中|日のうち|日とも|日連続|日続け|日)",
        "|[0-9]+/[0-9]+",
        "|半分|全量|一口|ひと口|一度も|一回も|1度も|1回も|ゼロ|皆無|0回"
    ))
});

/// A count of none (0回, 一度も): what it counts did not happen.
pub(super) static ZERO: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(
        "(?:^|[^0-9.])0\\s*(?:回|度|件|日|人)|一度も|一回も|1度も|1回も|ゼロ|皆無",
    )
});

/// Whether the act ending at `at` was counted none (大声は0回, 一度もなかった): the first count
/// after it in its clause is a zero, or none follows and the clause holds one. A zero after
/// another count (4回あった（前週0回）) is a baseline, not what happened.
pub(super) fn counted_zero(clause: &str, at: usize) -> bool {
    const SPANS: [&str; 7] = ["週間", "日間", "か月", "ヶ月", "カ月", "年間", "時間"];
    let at = at.min(clause.len());
    // The period counted over (この1週間) frames the count; it is not one.
    let next = COUNT
        .find_iter(&clause[at..])
        .find(|m| !SPANS.iter().any(|u| m.as_str().ends_with(u)));
    match next {
        Some(m) => {
            // The zero pattern also needs what stands around the digits (10回 is not 0回, 一度
            // is a zero only in 一度も).
            let start = at + m.start();
            let from = clause[..start]
                .char_indices()
                .last()
                .map_or(start, |(i, _)| i);
            let to = clause[at + m.end()..]
                .char_indices()
                .nth(1)
                .map_or(clause.len(), |(i, _)| at + m.end() + i);
            ZERO.is_match(&clause[from..to])
        }
        None => ZERO.is_match(clause),
    }
}

/// Units that measure the body (vital signs, weight): evidence of health.
pub(super) static VITAL: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(
        "[0-9.]+\\s*(?:℃|度|mmHg|kg|%|％|拍)|[0-9]{2,3}/[0-9]{2,3}|SpO2|血圧|体温|脈拍|体重",
    )
});

/// A clock time in the small hours (0:40, 2時, 3時15分) or a word for them (深夜, 夜中, 未明):
/// someone acting then is awake.
pub(super) static NIGHT: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(
        "(?:^|[^0-9０-９:])0?[0-4](?::[0-5][0-9]|時(?:[0-9]+分|半|過ぎ|ごろ|頃)?)(?:[^間0-9]|$)|深夜|夜中|未明|明け方",
    )
});

/// A time in the small hours someone was up until (1:30まで, 2時過ぎまで).
pub(super) static AWAKE_UNTIL: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(
        "(?:^|[^0-9０-９:])0?[0-4](?::[0-5][0-9]|時(?:[0-9]+分|半)?)(?:過ぎ|頃|ごろ)?まで(?:起き|テレビ|ゲーム|スマホ|動画|話|居間|食堂|[^、。]{0,12}(?:てい|続け))",
    )
});

/// Which way a vital sign points: out of its usual range (37.6℃, 150/95, 脈110拍, SpO2 91%)
/// is bad, within it good, so that `体温36.4℃だったが、体調は優れないようだった` stays a guess
/// (GUIDELINE rule 1). `None` when the value measures no vital sign we know the range of.
pub(super) fn vital_valence(m: &str, before: &str) -> Option<Valence> {
    let number = |t: &str| -> Option<f64> {
        let digits: String = t
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        digits.parse().ok()
    };
    let way = |bad: bool| Some(if bad { Valence::Bad } else { Valence::Good });
    if let Some((a, b)) = m.split_once('/') {
        if not_pressure(m) {
            return None;
        }
        let (sys, dia) = (number(a)?, number(b)?);
        return way(!(90.0..140.0).contains(&sys) || dia >= 90.0);
    }
    let v = number(m)?;
    if m.ends_with('℃') || m.ends_with('度') {
        // From 37.0℃ a temperature is raised (微熱).
        return (34.0..=42.5)
            .contains(&v)
            .then_some(())
            .and_then(|_| way(!(35.5..37.0).contains(&v)));
    }
    if m.ends_with("mmHg") {
        return way(!(90.0..140.0).contains(&v));
    }
    if m.ends_with('拍') {
        return way(!(50.0..100.0).contains(&v));
    }
    let oxygen = before
        .chars()
        .rev()
        .take(10)
        .collect::<String>()
        .contains("2OpS");
    if (m.ends_with('%') || m.ends_with('％')) && oxygen {
        return way(v < 95.0);
    }
    None
}

/// Whether `N度` is a temperature (36.8度) rather than a number of times (3度目, 2度声をかけた).
pub(super) fn times_not_degrees(m: &str) -> bool {
    m.ends_with('度')
        && m.trim_end_matches('度')
            .parse::<f64>()
            .map_or(true, |v| !(30.0..=45.0).contains(&v))
}

/// The name of a vital sign (体温, 血圧, 脈拍, 検温): its value, not its name, tells about health
/// (体温36.5℃ points to a good state, 37.8℃ to a bad one; 検温した alone shows nothing).
pub(super) fn vital_name(word: &str) -> bool {
    matches!(word, "体温" | "検温" | "血圧" | "脈" | "脈拍" | "SpO2")
}

/// Whether a measure right after these words is of the surroundings (外気温32℃, 室温28度, 湯温
/// 40℃), not of the body.
pub(super) fn of_a_thing(before: &str) -> bool {
    // Back to the comma, or six characters before the number, or fourteen when the number
    // ends a range that began with the thing named (室温を24℃から26℃に).
    let reach = if before.ends_with("から") || before.ends_with('→') {
        14
    } else {
        6
    };
    let near: String = before
        .chars()
        .rev()
        .take(reach)
        .take_while(|c| !matches!(c, '、' | '。'))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    [
        "気温",
        "暖房",
        "冷房",
        "室温",
        "外気",
        "水温",
        "湯温",
        "お湯",
        "湯は",
        "設定",
        "エアコン",
        "天気",
    ]
    .iter()
    .any(|w| near.contains(w))
}

/// Whether `N/M` is no blood pressure (10/12 is a date, 2/3 a share).
pub(super) fn not_pressure(m: &str) -> bool {
    m.split_once('/').is_some_and(|(a, b)| {
        let (a, b) = (a.trim().parse::<u32>(), b.trim().parse::<u32>());
        !matches!((a, b), (Ok(sys), Ok(dia)) if (70..=250).contains(&sys) && (30..=150).contains(&dia))
    })
}

/// Amounts of a meal: evidence of appetite.
pub(super) static MEAL: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(
        "[0-9一二三四五六七八九十]+\\s*(?:割|口|杯|膳)|半分|半量|全量|完食|ひと口|一口",
    )
});

/// Counts of things made or done (枚, 個, 工程, 件 …), not of time, people or days.
pub(super) static OUTPUT: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(
        "(?:枚|個|本|袋|包|錠|件|工程|箱|セット|問|文字|ページ|頁|行|箇所|カ所|ヶ所|か所|品|点|冊|台|着|足|種類|項目|段階)$",
    )
});

/// Whether a span of time is the period a note looks back over (この2週間、/ ここ1か月は /
/// 3か月の訓練期間): the frame of what follows, not a count or measure of it. A span that is
/// what happened (3日間休んだ, 2週間入院した) still counts.
pub(super) fn frames_a_period(s: &str, r: &Range<usize>) -> bool {
    const SPANS: [&str; 8] = [
        "週間", "日間", "か月", "ヶ月", "カ月", "ケ月", "箇月", "年間",
    ];
    let m = &s[r.clone()];
    if !SPANS.iter().any(|u| m.ends_with(u)) {
        return false;
    }
    let before = s[..r.start].trim_end();
    let rest = &s[r.end..];
    let frame = ["この", "ここ", "過去", "直近", "最近", "先"]
        .iter()
        .any(|p| before.ends_with(p))
        || [
            "、",
            "，",
            ",",
            "は",
            "の間",
            "の訓練",
            "の期間",
            "の支援",
            "の利用",
            "の通所",
        ]
        .iter()
        .any(|p| rest.starts_with(p));
    // この1週間は毎朝7時に起床 / この1か月は欠席がなく: every day of the period, or none of
    // it, is a count over it.
    frame && !EVERY.is_match(rest)
}

/// Words that make a period a count: every day of it, or none.
static EVERY: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(
        "毎[朝晩夜日回週]|いずれも|すべて|全て|全日|一度も|一回も|1度も|1回も|欠かさ|連続|続けて|なく|なし|無し|0回|ゼロ",
    )
});

/// Whether `N/M` at `r` is a date (10/5の受診, 11/20から) rather than an amount (主食2/3,
/// 血圧150/90): a month and a day, not after a meal or vital word, followed by what follows a
/// date.
pub(super) fn is_date(s: &str, r: &Range<usize>, rest: &str) -> bool {
    let Some((n, m)) = s[r.clone()].split_once('/') else {
        return false;
    };
    let (Ok(month), Ok(day)) = (n.trim().parse::<u32>(), m.trim().parse::<u32>()) else {
        return false;
    };
    let before: Vec<char> = s[..r.start].chars().rev().take(3).collect();
    (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && !before
            .iter()
            .any(|c| matches!(c, '食' | '圧' | '量' | '分' | '割'))
        && [
            "の", "から", "に", "より", "まで", "（", "(", "）", ")", "〜", "~",
        ]
        .iter()
        .any(|p| rest.starts_with(p))
}
