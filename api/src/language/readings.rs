//! Furigana (ふりがな): the reading of every word with kanji, from the analysis of the whole
//! sentence ([`super::analysis`]), with numbers and their counters read together as Japanese reads
//! them (2回 にかい, 9月 くがつ, 一人 ひとり, 1日 ついたち or いちにち: [`super::counters`]), and
//! the glossary's readings for its own terms first. Without the analyser there are no readings
//! (a guessed reading is worse than none).

use std::collections::HashMap;

use super::{
    analysis::{Analyzer, Token},
    counters::{self, DayUse, Quantity},
};

/// A piece of text and, when it has kanji, its reading in hiragana.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ruby {
    pub text: String,
    pub reading: Option<String>,
}

/// Whether a string has kanji (or 々).
pub fn has_kanji(s: &str) -> bool {
    s.chars().any(|c| {
        ('\u{4E00}'..='\u{9FFF}').contains(&c)
            || ('\u{3400}'..='\u{4DBF}').contains(&c)
            || c == '々'
    })
}

/// Katakana to hiragana (ー stays).
pub fn hiragana(katakana: &str) -> String {
    katakana
        .chars()
        .map(|c| match c {
            '\u{30A1}'..='\u{30F6}' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

fn is_number(t: &Token) -> bool {
    t.is(&["名詞", "数"]) && !t.surface.contains(['.', '．', ',', '，', ':', '：'])
}

/// The counter that follows a number at `i` (it may take two tokens: か+月, ヶ+月, 週+間), with
/// how many tokens it spans.
fn counter_at(tokens: &[Token], i: usize) -> Option<(String, usize)> {
    let first = tokens.get(i)?;
    let second = tokens.get(i + 1).map(|t| t.surface.as_str());
    let pair = second.map(|s| format!("{}{s}", first.surface));
    if let Some(pair) = pair.filter(|p| counters::is_counter(p)) {
        return Some((pair, 2));
    }
    counters::is_counter(&first.surface).then(|| (first.surface.clone(), 1))
}

/// Whether a number with 日 names a day of the month: after a month (10月1日), or before a
/// weekday in brackets, or with 付/に… as a date; otherwise a count of days (1日2回, 1日中).
fn day_use(tokens: &[Token], number_start: usize, after: usize) -> DayUse {
    let before_is_month = number_start > 0 && tokens[number_start - 1].surface == "月";
    let next = tokens.get(after).map(|t| t.surface.as_str()).unwrap_or("");
    if before_is_month || matches!(next, "(" | "（" | "付" | "付け") {
        return DayUse::Date;
    }
    if matches!(next, "中" | "間" | "おき" | "あたり" | "当たり" | "平均")
        || tokens
            .get(after)
            .zip(tokens.get(after + 1))
            .is_some_and(|(a, b)| a.surface == "に" && is_number(b))
    {
        return DayUse::Duration;
    }
    // A bare 1日 is more often "a day" in records (1日3回); larger numbers read the same either way.
    DayUse::Duration
}

/// Ruby for `text`: every word with kanji gets its reading; terms in `glossary` (term → reading)
/// take theirs first.
pub fn ruby(analyzer: &Analyzer, text: &str, glossary: &HashMap<String, String>) -> Vec<Ruby> {
    let tokens = analyzer.analyze(text);
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<Ruby> = Vec::new();
    let push = |out: &mut Vec<Ruby>, text: String, reading: Option<String>| {
        match (out.last_mut(), &reading) {
            // Runs of text without kanji are one piece.
            (Some(last), None) if last.reading.is_none() => last.text.push_str(&text),
            _ => out.push(Ruby { text, reading }),
        }
    };
    let mut terms: Vec<(&String, &String)> =
        glossary.iter().filter(|(t, _)| has_kanji(t)).collect();
    terms.sort_by_key(|(t, _)| std::cmp::Reverse(t.chars().count()));
    let mut i = 0;
    let mut pos = 0; // chars consumed
    while i < tokens.len() {
        let t = &tokens[i];
        // Text between tokens (spaces vibrato skipped) is kept as it is.
        if t.span.start > pos {
            push(&mut out, chars[pos..t.span.start].iter().collect(), None);
        }
        // A glossary term starting here.
        let rest: String = chars[t.span.start..].iter().collect();
        if let Some((term, reading)) = terms
            .iter()
            .find(|(term, _)| rest.starts_with(term.as_str()))
        {
            let end = t.span.start + term.chars().count();
            if let Some(j) = tokens.iter().position(|u| u.span.end == end) {
                push(&mut out, (*term).clone(), Some((*reading).clone()));
                pos = end;
                i = j + 1;
                continue;
            }
        }
        // A number and its counter.
        if is_number(t) {
            let mut j = i;
            let mut number = String::new();
            while j < tokens.len() && is_number(&tokens[j]) {
                number.push_str(&tokens[j].surface);
                j += 1;
            }
            if let (Some(q), Some((counter, len))) =
                (counters::parse_quantity(&number), counter_at(&tokens, j))
            {
                let day = day_use(&tokens, i, j + len);
                if let Some(reading) = counters::read(&counter, q, day) {
                    let end = tokens[j + len - 1].span.end;
                    push(
                        &mut out,
                        chars[t.span.start..end].iter().collect(),
                        Some(reading),
                    );
                    pos = end;
                    i = j + len;
                    continue;
                }
            }
            // A number alone: digits need no ruby; kanji numerals get theirs.
            let reading = match counters::parse_quantity(&number) {
                Some(Quantity::Number(n)) if has_kanji(&number) => Some(counters::read_number(n)),
                _ => None,
            };
            let end = tokens[j - 1].span.end;
            push(&mut out, chars[t.span.start..end].iter().collect(), reading);
            pos = end;
            i = j;
            continue;
        }
        let reading = has_kanji(&t.surface)
            .then(|| t.reading.as_deref().map(hiragana))
            .flatten();
        push(&mut out, t.surface.clone(), reading);
        pos = t.span.end;
        i += 1;
    }
    if pos < chars.len() {
        push(&mut out, chars[pos..].iter().collect(), None);
    }
    out
}

/// The reading of `surface` where it stands in `text` (the first occurrence), from the ruby of
/// the whole text: kana as written, kanji by their readings. `None` when a piece with kanji has
/// no reading, or the surface starts or ends inside a piece with a reading.
pub fn reading_of(pieces: &[Ruby], text: &str, surface: &str) -> Option<String> {
    let start = text.find(surface).map(|b| text[..b].chars().count())?;
    let end = start + surface.chars().count();
    let mut out = String::new();
    let mut at = 0;
    for p in pieces {
        let len = p.text.chars().count();
        let (from, to) = (at, at + len);
        at = to;
        if to <= start || from >= end {
            continue;
        }
        match &p.reading {
            Some(r) => {
                if from < start || to > end {
                    return None;
                }
                out.push_str(r);
            }
            None => {
                let part: String = p
                    .text
                    .chars()
                    .skip(start.saturating_sub(from))
                    .take(end.min(to) - from.max(start))
                    .collect();
                if has_kanji(&part) {
                    return None;
                }
                out.push_str(&hiragana(&part));
            }
        }
    }
    Some(out)
}

/// The gold list of readings (`api/data/translation/readings.tsv`): word, reading, and the
/// sentence it is read in.
pub const GOLD: &str = include_str!("../../data/translation/readings.tsv");

/// The bar for reading accuracy on the gold list.
pub const TARGET: f64 = 0.98;

/// How many words of a gold list the analyser and the counter rules read right.
#[derive(Debug, Clone, Default)]
pub struct Accuracy {
    pub right: usize,
    pub total: usize,
    /// `word (context): expected → read`, for each miss.
    pub misses: Vec<String>,
}

impl Accuracy {
    pub fn ratio(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.right as f64 / self.total as f64
        }
    }
}

/// Scores `gold` (tab-separated: word, reading, optional context sentence; `#` comments):
/// each word is read where it stands in its sentence (or alone), with the glossary's readings
/// (term → reading) first, as furigana are made.
pub fn accuracy(
    analyzer: &Analyzer,
    gold: &str,
    glossary: &HashMap<String, String>,
) -> Result<Accuracy, String> {
    let mut a = Accuracy::default();
    for (n, line) in gold.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(word), Some(want)) = (cols.first(), cols.get(1)) else {
            return Err(format!("line {}: expected word<TAB>reading", n + 1));
        };
        let context = cols.get(2).filter(|c| !c.trim().is_empty()).unwrap_or(word);
        let got = reading_of(&ruby(analyzer, context, glossary), context, word);
        a.total += 1;
        if got.as_deref() == Some(*want) {
            a.right += 1;
        } else {
            a.misses.push(format!(
                "{word} ({context}): {want} → {}",
                got.unwrap_or_default()
            ));
        }
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyzer() -> Option<&'static Analyzer> {
        let a = super::super::analysis::get();
        if a.is_none() {
            assert!(std::env::var_os("KAKEHASHI_REQUIRE_DICTIONARY").is_none());
            eprintln!("SKIPPED: no IPADIC sources");
        }
        a
    }

    fn read(text: &str, surface: &str) -> Option<String> {
        let a = analyzer()?;
        reading_of(&ruby(a, text, &HashMap::new()), text, surface)
    }

    #[test]
    fn counters_are_read_with_their_numbers() {
        if analyzer().is_none() {
            return;
        }
        assert_eq!(
            read("今日は2回大声を出した。", "2回").as_deref(),
            Some("にかい")
        );
        assert_eq!(
            read("9月10日に面談した。", "9月").as_deref(),
            Some("くがつ")
        );
        assert_eq!(
            read("10月1日から通所した。", "1日").as_deref(),
            Some("ついたち")
        );
        assert_eq!(
            read("1日3回、服薬する。", "1日").as_deref(),
            Some("いちにち")
        );
        assert_eq!(
            read("一人で買い物に行った。", "一人").as_deref(),
            Some("ひとり")
        );
        assert_eq!(
            read("作業を30分続けた。", "30分").as_deref(),
            Some("さんじゅっぷん")
        );
        assert_eq!(
            read("3か月ごとにモニタリングする。", "3か月").as_deref(),
            Some("さんかげつ")
        );
    }

    #[test]
    fn glossary_terms_keep_their_own_reading() {
        let Some(a) = analyzer() else { return };
        let mut g = HashMap::new();
        g.insert("見通し支援".to_owned(), "みとおししえん".to_owned());
        let pieces = ruby(a, "見通し支援を続ける。", &g);
        assert_eq!(pieces[0].text, "見通し支援");
        assert_eq!(pieces[0].reading.as_deref(), Some("みとおししえん"));
        // Every piece with kanji has a reading.
        assert!(
            pieces
                .iter()
                .all(|p| !has_kanji(&p.text) || p.reading.is_some()),
            "{pieces:?}"
        );
    }

    #[test]
    fn the_gold_readings_are_read_at_the_target_accuracy() {
        let Some(a) = analyzer() else { return };
        let glossary: HashMap<String, String> = crate::language::translation::Glossary::shipped()
            .map(|g| {
                g.entries()
                    .iter()
                    .filter_map(|e| Some((e.term.clone(), e.reading.clone()?)))
                    .collect()
            })
            .unwrap_or_default();
        let acc = accuracy(a, GOLD, &glossary).expect("gold list");
        eprintln!(
            "readings {}/{}: misses {:?}",
            acc.right, acc.total, acc.misses
        );
        assert!(acc.total >= 300, "{}", acc.total);
        assert!(
            acc.ratio() >= TARGET,
            "{:.3} {:#?}",
            acc.ratio(),
            acc.misses
        );
    }
}
