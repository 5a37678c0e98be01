//! The family's text (家族への言葉): everyday words from the glossary, です・ます endings, and
//! a last pass that removes the seams replacements can leave.
//!
//! Why a tidy pass: each glossary wording is right on its own, but two next to each other can
//! repeat a word or a particle (…をを, グループホームグループホーム); a family reads such a
//! letter as careless. Only repetitions are removed, so no word of the record is lost.

use std::sync::LazyLock;

use regex::Regex;

/// Particles that are never doubled in a sentence (のの, をを …).
const PARTICLES: [&str; 6] = ["を", "に", "が", "は", "の", "で"];

static REPEATED_WORD: LazyLock<Regex> =
    LazyLock::new(|| crate::language::text::pattern("(?:[ァ-ヴー]{3,}|[一-龥]{2,}[ァ-ヴー]*)"));

/// `family.tidy` / `easy.tidy`: the sentence without a doubled particle or a word written
/// twice in a row by two replacements; `None` when there is none.
pub(super) fn tidy(sentence: &str) -> Option<String> {
    let mut out = sentence.to_owned();
    for p in PARTICLES {
        let doubled = format!("{p}{p}");
        // のの and にに may be words (ののしる, ににんさんきゃく are rare in records, but
        // をを, がが, はは, でで never are); only the sure ones are merged.
        if matches!(p, "を" | "が") {
            while out.contains(&doubled) {
                out = out.replace(&doubled, p);
            }
        }
    }
    // A word repeated directly (グループホームグループホーム): keep one.
    let mut result = String::with_capacity(out.len());
    let mut last = 0;
    for m in REPEATED_WORD.find_iter(&out) {
        let w = m.as_str();
        let chars: Vec<char> = w.chars().collect();
        let n = chars.len();
        let half: String = chars[..n / 2].iter().collect();
        if n >= 4 && n.is_multiple_of(2) && w == format!("{half}{half}") {
            result.push_str(&out[last..m.start()]);
            result.push_str(&half);
            last = m.end();
        }
    }
    result.push_str(&out[last..]);
    (result != sentence).then_some(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seams_are_removed_and_nothing_else() {
        assert_eq!(
            tidy("グループホームグループホームのスタッフより").as_deref(),
            Some("グループホームのスタッフより")
        );
        assert_eq!(
            tidy("お薬をを飲みました").as_deref(),
            Some("お薬を飲みました")
        );
        assert_eq!(tidy("時々休みました"), None);
        assert_eq!(tidy("作業をしました"), None);
    }
}
