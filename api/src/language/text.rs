//! Character-level helpers shared by the fact check and the translation: width folding,
//! sentence splitting and offsets in the units clients use.

use std::ops::Range;

/// Compiles one of the crate's constant patterns. Each is used by its module's unit tests, so a
/// pattern that does not compile fails the tests, never a request.
#[expect(
    clippy::expect_used,
    reason = "constant patterns, each compiled by its module's tests"
)]
pub(crate) fn pattern(source: &str) -> regex::Regex {
    regex::Regex::new(source).expect("a constant pattern compiles")
}

/// Folds full-width ASCII (０-９, Ａ-ｚ, ：, ／ …) and the ideographic space to ASCII, one char
/// for one char, so that char indices in the folded text are char indices in the original.
pub fn fold(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect()
}

/// Byte ranges of the sentences of `text`: a sentence ends after 。！？!? or a line break, never
/// inside a quotation (「」『』). Surrounding white space is left out; empty sentences are skipped.
pub fn sentences(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let push = |from: usize, to: usize, out: &mut Vec<Range<usize>>| {
        let s = &text[from..to];
        let lead = s.len() - s.trim_start().len();
        let trail = s.len() - s.trim_end().len();
        if from + lead < to - trail {
            out.push(from + lead..to - trail);
        }
    };
    for (i, c) in text.char_indices() {
        match c {
            '「' | '『' => depth += 1,
            '」' | '』' => depth = depth.saturating_sub(1),
            '。' | '！' | '？' | '!' | '?' if depth == 0 => {
                let end = i + c.len_utf8();
                push(start, end, &mut out);
                start = end;
            }
            '\n' | '\r' => {
                push(start, i, &mut out);
                start = i + c.len_utf8();
                depth = 0;
            }
            _ => {}
        }
    }
    push(start, text.len(), &mut out);
    out
}

/// Byte ranges of the quotations in `text`, brackets included (「…」 and 『…』, nested ones
/// inside their outer quotation). An unclosed quotation runs to the end.
pub fn quotations(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '「' | '『' => {
                if depth == 0 {
                    start = i;
                }
                depth += 1;
            }
            '」' | '』' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    out.push(start..i + c.len_utf8());
                }
            }
            _ => {}
        }
    }
    if depth > 0 {
        out.push(start..text.len());
    }
    out
}

/// Whether two ranges share at least one position.
pub fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// Converts a byte range of `text` into a char range.
pub fn char_range(text: &str, bytes: Range<usize>) -> Range<usize> {
    let start = text[..bytes.start].chars().count();
    start..start + text[bytes].chars().count()
}

/// Converts a char range of `text` into a UTF-16 code-unit range (JavaScript string indices).
pub fn utf16_range(text: &str, chars: Range<usize>) -> Range<usize> {
    let mut units = 0;
    let mut start = None;
    for (i, c) in text.chars().enumerate() {
        if i == chars.start {
            start = Some(units);
        }
        if i == chars.end {
            return start.unwrap_or(units)..units;
        }
        units += c.len_utf16();
    }
    start.unwrap_or(units)..units
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_keeps_one_char_per_char() {
        assert_eq!(fold("１２：３０に３回"), "12:30に3回");
        assert_eq!(
            fold("ＡＢＣ　x").chars().count(),
            "ＡＢＣ　x".chars().count()
        );
    }

    #[test]
    fn sentences_split_outside_quotations_only() {
        let t = "朝食を完食。「もう帰る。嫌だ！」と言った。\n午後は作業";
        let s: Vec<&str> = sentences(t).into_iter().map(|r| &t[r]).collect();
        assert_eq!(
            s,
            vec![
                "朝食を完食。",
                "「もう帰る。嫌だ！」と言った。",
                "午後は作業"
            ]
        );
    }

    #[test]
    fn quotations_include_nested_and_unclosed() {
        let t = "「母が『帰る』と」言った。「途中";
        let q: Vec<&str> = quotations(t).into_iter().map(|r| &t[r]).collect();
        assert_eq!(q, vec!["「母が『帰る』と」", "「途中"]);
    }

    #[test]
    fn utf16_offsets_count_surrogate_pairs() {
        let t = "𠮷野さんが来た";
        assert_eq!(utf16_range(t, 1..3), 2..4);
        assert_eq!(utf16_range(t, 0..7), 0..8);
        assert_eq!(char_range(t, 4..10), 1..3);
    }
}
