//! Which way a claim points (good: 落ち着いて, bad: 落ち着かない), read from its words, the
//! grade after them and a negation on their predicate. Evidence clears a claim only when it
//! points the same way (GUIDELINE rule 1).

use std::{ops::Range, sync::LazyLock};

use regex::Regex;

use super::{Sentence, claim::Claim};
use crate::language::{
    lexicon::{Term, TermKind, Valence},
    negation,
};

/// A grade right after an interpretation (意欲が落ちている, 機嫌が悪い, 体調は良好, 食欲がない):
/// a fall or a negation turns the words round; a word of no direction of its own takes the
/// grade's.
static GRADE: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(concat!(
        "^(?:が|は|も|の)?(?:とても|すごく|非常に|かなり|あまり|少し|やや|特に|徐々に|次第に)?",
        "(?:(?P<good>良|よ[いくかさ]|いい|好|優れ|すぐれ|ある|あり|あっ|旺盛|戻|高)",
        "|(?P<none>ない|なく|なかっ|無)",
        "|(?P<bad>悪|わる|落ち[てたるぎ気]|低下|低|崩|乱|途切れ|とぎれ|切れ|きれ|続かな|薄れ|欠け|減|失))"
    ))
});

/// Which way a claim points: its first interpretation's own direction as written, turned
/// round by a fall or a negation after it (落ち着か|ない, 不穏な様子は|なかった, 意欲が|落ちて,
/// 調子が良く|ない); a word of no direction of its own takes the grade after it (機嫌が悪い).
/// Unknown for markers, vague amounts and words of no direction.
pub(super) fn of_claim(sentence: &Sentence, claim: &Claim) -> Option<Valence> {
    if claim.vague_amount || !sentence.analysed {
        return None;
    }
    // 最近落ち着いて: the first word that points a way decides.
    let way = claim
        .parts
        .iter()
        .filter(|(_, t)| t.kind == TermKind::Interpretation)
        .find_map(|(r, t)| way_of(sentence, r, t))?;
    // 集中が持続しにくく, 落ち着きづらい: hard to keep a good state is a bad one.
    let hard = claim.parts.iter().any(|(r, t)| {
        t.kind == TermKind::Marker
            && t.id == "tends"
            && ["にく", "づら"]
                .iter()
                .any(|h| sentence.s[r.clone()].starts_with(h))
    });
    Some(if hard { way.flipped() } else { way })
}

/// Which way one interpretation points, with the grade and negation after it.
fn way_of(sentence: &Sentence, r: &Range<usize>, t: &Term) -> Option<Valence> {
    let own = t.valence(&sentence.s[r.clone()]);
    let grade = GRADE.captures(&sentence.s[r.end..]);
    let graded = |name: &str| grade.as_ref().is_some_and(|g| g.name(name).is_some());
    let way = if graded("none") {
        // 食欲がない, 不安がなくなった: the grade is the negation itself.
        return Some(own.map_or(Valence::Bad, Valence::flipped));
    } else if graded("bad") {
        own.map_or(Valence::Bad, Valence::flipped)
    } else if graded("good") {
        own.unwrap_or(Valence::Good)
    } else {
        own?
    };
    if negation::negated_after(&sentence.tokens, r.end) {
        Some(way.flipped())
    } else {
        Some(way)
    }
}
