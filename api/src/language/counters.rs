//! How numbers with counters are read (助数詞の読み): 1回 いっかい, 3本 さんぼん, 6分 ろっぷん,
//! 1日 ついたち (a date) or いちにち (a duration), 4月 しがつ, 9時 くじ, 2人 ふたり. A dictionary
//! reads 回 as カイ whatever number stands before it; these are the sound changes (促音化・連濁)
//! and special readings that the number decides, for the counters records use.

#![expect(
    clippy::cast_possible_truncation,
    reason = "digits and day numbers (below 100) index small tables"
)]

/// A number as written: digits (`12`, `１２`) or kanji numerals (`十二`), or 何 (how many).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    Number(u64),
    /// 何 (何回, 何人): the question word.
    Which,
}

/// Parses digits (ASCII or full-width) or kanji numerals up to 万.
pub fn parse_quantity(s: &str) -> Option<Quantity> {
    if s == "何" {
        return Some(Quantity::Which);
    }
    let ascii: String = s
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            _ => c,
        })
        .collect();
    if !ascii.is_empty() && ascii.chars().all(|c| c.is_ascii_digit()) {
        return ascii.parse().ok().map(Quantity::Number);
    }
    parse_kanji(s).map(Quantity::Number)
}

fn kanji_digit(c: char) -> Option<u64> {
    Some(match c {
        '〇' | '零' => 0,
        '一' => 1,
        '二' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

/// 十二 → 12, 二百三 → 203, 三千 → 3000, 一万二千 → 12000.
fn parse_kanji(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let (mut total, mut section, mut digit) = (0u64, 0u64, None::<u64>);
    for c in s.chars() {
        if let Some(d) = kanji_digit(c) {
            digit = Some(d);
            continue;
        }
        let unit = match c {
            '十' => 10,
            '百' => 100,
            '千' => 1000,
            '万' => {
                section += digit.take().unwrap_or(0);
                total += section.max(1) * 10_000;
                section = 0;
                continue;
            }
            _ => return None,
        };
        section += digit.take().unwrap_or(1) * unit;
    }
    Some(total + section + digit.unwrap_or(0))
}

const ONES: [&str; 10] = [
    "",
    "いち",
    "に",
    "さん",
    "よん",
    "ご",
    "ろく",
    "なな",
    "はち",
    "きゅう",
];

/// The plain reading of a number (2 に, 15 じゅうご, 300 さんびゃく, 8000 はっせん).
pub fn read_number(n: u64) -> String {
    if n == 0 {
        return "ぜろ".into();
    }
    let mut out = String::new();
    let man = n / 10_000;
    if man > 0 {
        out.push_str(&read_below_10000(man));
        out.push_str("まん");
    }
    out.push_str(&read_below_10000(n % 10_000));
    out
}

fn read_below_10000(n: u64) -> String {
    let (th, hu, te, on) = (n / 1000, n / 100 % 10, n / 10 % 10, n % 10);
    let mut s = String::new();
    s.push_str(match th {
        0 => "",
        1 => "せん",
        3 => "さんぜん",
        8 => "はっせん",
        d => return format!("{}せん{}", ONES[d as usize], read_below_10000(n % 1000)),
    });
    match hu {
        0 => {}
        1 => s.push_str("ひゃく"),
        3 => s.push_str("さんびゃく"),
        6 => s.push_str("ろっぴゃく"),
        8 => s.push_str("はっぴゃく"),
        d => {
            s.push_str(ONES[d as usize]);
            s.push_str("ひゃく");
        }
    }
    match te {
        0 => {}
        1 => s.push_str("じゅう"),
        d => {
            s.push_str(ONES[d as usize]);
            s.push_str("じゅう");
        }
    }
    s.push_str(ONES[on as usize]);
    s
}

/// How a counter changes the number before it.
struct Counter {
    /// The counter's plain reading (回 かい).
    plain: &'static str,
    /// Its voiced form after 3 and 何 (本 ぼん), if any.
    after_three: Option<&'static str>,
    /// Its half-voiced form after a geminated 1, 6, 8, 10 (本 ぽん), if any; otherwise the plain
    /// form follows the geminate (回 いっかい).
    after_geminate: Option<&'static str>,
    /// Whether 1, 6, 8 and 10 geminate before it (いっ, ろっ, はっ, じゅっ).
    geminates: bool,
}

fn counter(c: &str) -> Option<Counter> {
    let k = |plain, after_three, after_geminate, geminates| Counter {
        plain,
        after_three,
        after_geminate,
        geminates,
    };
    Some(match c {
        "回" | "階" | "か月" | "ヶ月" | "カ月" | "ヵ月" | "箇月" | "個" | "件" | "課" =>
        {
            let plain = match c {
                "回" => "かい",
                "階" => "かい",
                "個" => "こ",
                "件" => "けん",
                "課" => "か",
                _ => "かげつ",
            };
            let voiced = (c == "階").then_some("がい");
            k(plain, voiced, None, true)
        }
        "本" => k("ほん", Some("ぼん"), Some("ぽん"), true),
        "杯" => k("はい", Some("ばい"), Some("ぱい"), true),
        "匹" => k("ひき", Some("びき"), Some("ぴき"), true),
        "泊" => k("はく", Some("ぱく"), Some("ぱく"), true),
        "分" => k("ふん", Some("ぷん"), Some("ぷん"), true),
        "歩" => k("ほ", Some("ぽ"), Some("ぽ"), true),
        "週" | "週間" => k(
            if c == "週" {
                "しゅう"
            } else {
                "しゅうかん"
            },
            None,
            None,
            true,
        ),
        "冊" => k("さつ", None, None, true),
        "足" => k("そく", Some("ぞく"), None, true),
        "歳" | "才" => k("さい", None, None, true),
        "頭" => k("とう", None, None, true),
        "着" => k("ちゃく", None, None, true),
        "通" => k("つう", None, None, true),
        "食" => k("しょく", None, None, true),
        "錠" => k("じょう", None, None, false),
        "枚" => k("まい", None, None, false),
        "台" => k("だい", None, None, false),
        "度" => k("ど", None, None, false),
        "名" => k("めい", None, None, false),
        "番" => k("ばん", None, None, false),
        "秒" => k("びょう", None, None, false),
        "割" => k("わり", None, None, false),
        "円" => k("えん", None, None, false),
        "時間" => k("じかん", None, None, false),
        "年" => k("ねん", None, None, false),
        "年間" => k("ねんかん", None, None, false),
        "日間" => k("にちかん", None, None, false),
        "人" => k("にん", None, None, false),
        "時" => k("じ", None, None, false),
        "月" => k("がつ", None, None, false),
        "日" => k("にち", None, None, false),
        _ => return None,
    })
}

/// Whether `c` is a counter this module reads.
pub fn is_counter(c: &str) -> bool {
    counter(c).is_some() || c == "つ"
}

/// Whether a number-with-日 is a date (10月1日) or a duration (1日に3回, 1日中): the caller
/// knows from what surrounds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayUse {
    Date,
    Duration,
}

/// The reading of a quantity with a counter: `read("回", 1)` いっかい, `read("本", 3)` さんぼん,
/// `read("日", 20)` はつか. `None` for a counter this module does not know.
pub fn read(counter_word: &str, q: Quantity, day: DayUse) -> Option<String> {
    let n = match q {
        Quantity::Which => {
            let c = counter(counter_word)?;
            let suffix = if counter_word == "人" {
                "にん"
            } else {
                c.after_three.unwrap_or(c.plain)
            };
            return Some(format!("なん{suffix}"));
        }
        Quantity::Number(n) => n,
    };
    if counter_word == "つ" {
        return match n {
            1..=9 => Some(
                [
                    "ひとつ",
                    "ふたつ",
                    "みっつ",
                    "よっつ",
                    "いつつ",
                    "むっつ",
                    "ななつ",
                    "やっつ",
                    "ここのつ",
                ][n as usize - 1]
                    .into(),
            ),
            10 => Some("とお".into()),
            _ => None,
        };
    }
    if let Some(special) = special(counter_word, n, day) {
        return Some(special);
    }
    let c = counter(counter_word)?;
    let plain = read_number(n);
    let with = |stem: &str, tail: &str, counter: &str| {
        format!("{}{tail}{counter}", &plain[..plain.len() - stem.len()])
    };
    let geminate = c.after_geminate.unwrap_or(c.plain);
    Some(match counter_word {
        "人" | "時" | "円" | "年" | "年間" | "時間" if plain.ends_with("よん") => {
            with("よん", "よ", c.plain)
        }
        "月" if plain.ends_with("よん") => with("よん", "し", c.plain),
        "時" | "月" if plain.ends_with("なな") => with("なな", "しち", c.plain),
        "時" | "月" if plain.ends_with("きゅう") => with("きゅう", "く", c.plain),
        "分" if plain.ends_with("よん") => with("よん", "よん", "ぷん"),
        _ if c.geminates && plain.ends_with("いち") => with("いち", "いっ", geminate),
        _ if c.geminates && plain.ends_with("ろく") => with("ろく", "ろっ", geminate),
        _ if c.geminates && plain.ends_with("はち") => with("はち", "はっ", geminate),
        _ if c.geminates && plain.ends_with("じゅう") => with("じゅう", "じゅっ", geminate),
        _ if c.geminates && plain.ends_with("ひゃく") => with("ひゃく", "ひゃっ", geminate),
        _ if plain.ends_with("さん") && c.after_three.is_some() => {
            format!("{plain}{}", c.after_three.unwrap_or(c.plain))
        }
        _ => format!("{plain}{}", c.plain),
    })
}

/// Readings that are words of their own.
fn special(counter_word: &str, n: u64, day: DayUse) -> Option<String> {
    let days = [
        "ふつか",
        "みっか",
        "よっか",
        "いつか",
        "むいか",
        "なのか",
        "ようか",
        "ここのか",
        "とおか",
    ];
    Some(
        match (counter_word, n, day) {
            ("人", 1, _) => "ひとり",
            ("人", 2, _) => "ふたり",
            ("日", 1, DayUse::Date) => "ついたち",
            ("日", 1, DayUse::Duration) => "いちにち",
            ("日", 2..=10, _) => days[n as usize - 2],
            ("日間", 2..=10, _) => return Some(format!("{}かん", days[n as usize - 2])),
            ("日", 14, _) => "じゅうよっか",
            ("日", 20, _) => "はつか",
            ("日", 24, _) => "にじゅうよっか",
            ("日", 17, _) => "じゅうしちにち",
            ("日", 19, _) => "じゅうくにち",
            ("日", 27, _) => "にじゅうしちにち",
            ("日", 29, _) => "にじゅうくにち",
            ("歳" | "才", 20, _) => "はたち",
            _ => return None,
        }
        .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(c: &str, n: u64) -> String {
        read(c, Quantity::Number(n), DayUse::Date).unwrap()
    }

    #[test]
    fn numbers_read_with_their_sound_changes() {
        assert_eq!(read_number(15), "じゅうご");
        assert_eq!(read_number(300), "さんびゃく");
        assert_eq!(read_number(8000), "はっせん");
        assert_eq!(read_number(12_345), "いちまんにせんさんびゃくよんじゅうご");
        assert_eq!(parse_quantity("十二"), Some(Quantity::Number(12)));
        assert_eq!(parse_quantity("二百三"), Some(Quantity::Number(203)));
        assert_eq!(parse_quantity("１２"), Some(Quantity::Number(12)));
        assert_eq!(parse_quantity("何"), Some(Quantity::Which));
    }

    #[test]
    fn counters_change_the_number_before_them() {
        for (c, n, want) in [
            ("回", 1, "いっかい"),
            ("回", 2, "にかい"),
            ("回", 6, "ろっかい"),
            ("回", 8, "はっかい"),
            ("回", 10, "じゅっかい"),
            ("回", 11, "じゅういっかい"),
            ("回", 20, "にじゅっかい"),
            ("本", 3, "さんぼん"),
            ("本", 1, "いっぽん"),
            ("分", 6, "ろっぷん"),
            ("分", 10, "じゅっぷん"),
            ("分", 30, "さんじゅっぷん"),
            ("分", 5, "ごふん"),
            ("分", 4, "よんぷん"),
            ("杯", 3, "さんばい"),
            ("階", 3, "さんがい"),
            ("人", 1, "ひとり"),
            ("人", 2, "ふたり"),
            ("人", 4, "よにん"),
            ("時", 4, "よじ"),
            ("時", 7, "しちじ"),
            ("時", 9, "くじ"),
            ("時", 10, "じゅうじ"),
            ("月", 4, "しがつ"),
            ("月", 9, "くがつ"),
            ("月", 7, "しちがつ"),
            ("日", 20, "はつか"),
            ("日", 14, "じゅうよっか"),
            ("日", 10, "とおか"),
            ("日", 11, "じゅういちにち"),
            ("錠", 2, "にじょう"),
            ("ヶ月", 3, "さんかげつ"),
            ("ヶ月", 6, "ろっかげつ"),
            ("週間", 1, "いっしゅうかん"),
            ("歳", 20, "はたち"),
            ("歳", 8, "はっさい"),
            ("つ", 3, "みっつ"),
            ("日間", 3, "みっかかん"),
            ("回", 100, "ひゃっかい"),
            ("分", 100, "ひゃっぷん"),
        ] {
            assert_eq!(r(c, n), want, "{n}{c}");
        }
        assert_eq!(
            read("日", Quantity::Number(1), DayUse::Duration).unwrap(),
            "いちにち"
        );
        assert_eq!(
            read("日", Quantity::Number(1), DayUse::Date).unwrap(),
            "ついたち"
        );
        assert_eq!(
            read("回", Quantity::Which, DayUse::Date).unwrap(),
            "なんかい"
        );
        assert_eq!(
            read("人", Quantity::Which, DayUse::Date).unwrap(),
            "なんにん"
        );
        assert_eq!(
            read("本", Quantity::Which, DayUse::Date).unwrap(),
            "なんぼん"
        );
    }
}
