//! The municipality's text (行政の言葉): abbreviations expanded by the glossary, endings in
//! the written である form, and an incident laid out as 日時・場所・状況・対応・今後の対応.
//!
//! Why a fixed layout for incidents: an accident or near-miss report (事故・ヒヤリハット報告) is
//! read against that structure, and a part the record does not give must show as missing
//! (記載なし) rather than be filled in: the layout only moves the record's own sentences and
//! copies its own words for the date and the place, so nothing is invented. A sentence goes
//! to 対応 when it says what staff did about the event, to 今後の対応 when it speaks of what
//! will be done, and to 状況 otherwise.

use std::sync::LazyLock;

use regex::Regex;

use crate::language::text;

/// What a part shows when the record does not give it.
pub(super) const MISSING: &str = "記載なし";

fn re(pattern: &str) -> Regex {
    // Constant patterns, all compiled by the unit tests: a broken one must fail loudly there,
    // never silently match nothing (these checks guard privacy and facts).
    crate::language::text::pattern(pattern)
}

static INCIDENT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        "事故|ヒヤリハット|ヒヤリ・ハット|転倒|転落|他害|自傷|誤薬|誤嚥|怪我|けが|ケガ|負傷|出血|噛みつ|噛み付|叩い|蹴っ|殴っ|離設|無断外出|行方不明|やけど|火傷|骨折|打撲|救急",
    )
});

static WHEN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?:令和|R|Ｒ)?[0-9０-９]+年[0-9０-９]+月[0-9０-９]+日|[0-9０-９]+月[0-9０-９]+日(?:[（(][月火水木金土日][）)])?|[0-9０-９]{1,2}[/／][0-9０-９]{1,2}(?:[（(][月火水木金土日][）)])?|(?:午前|午後)?[0-9０-９]{1,2}[:：][0-9０-９]{2}(?:頃|ごろ)?|(?:午前|午後)?[0-9０-９]{1,2}時(?:[0-9０-９]{1,2}分)?(?:頃|ごろ)?|昼食後|昼食時|昼食中|朝食後|朝食時|夕食後|夕食時|送迎中|入浴中|作業中|休憩中|夜間|早朝|午前中|夕方|昼休み|帰りの会|朝の会",
    )
});

static WHERE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        "[一-龥ァ-ヴー]{0,8}(?:室|場|事業所|棟|廊下|トイレ|食堂|玄関|駐車場|ホール|居室|階段|浴室|庭|車内|送迎車|公園|店|駅|自宅|ホーム|グループホーム)(?:内)?(?:で|にて|において)",
    )
});

static RESPONSE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        "対応|声をかけ|声かけ|声掛け|確認し|確認を|離し|離れるよう|止め|制止|間に入|連絡し|連絡を|報告し|報告済|受診|手当|冷やし|冷却|消毒|付き添|誘導|介助し|処置|謝罪|説明し|移動し|見守っ|救急車",
    )
});

static FUTURE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        "今後|再発防止|検討|見直|予定である|予定です|していく|徹底|注意する|気をつける|配慮する|継続する|共有する|観察を続け",
    )
});

/// Whether `text` reports an incident (事故, ヒヤリハット, 転倒, 他害 …).
pub(super) fn is_incident(text: &str) -> bool {
    INCIDENT.is_match(text)
}

/// The report layout of an incident: `sources` are the record's sentences as written (dates
/// and places are copied from those that tell what happened, not from plans), `sentences` the
/// same sentences as rendered, in order.
pub(super) fn layout(sources: &[String], sentences: &[String]) -> String {
    let told: Vec<&String> = sources.iter().filter(|s| !FUTURE.is_match(s)).collect();
    let mut when: Vec<&str> = Vec::new();
    for s in &told {
        for m in WHEN.find_iter(s) {
            if !when.contains(&m.as_str()) {
                when.push(m.as_str());
            }
        }
    }
    let mut place: Vec<String> = Vec::new();
    for sentence in &told {
        let quotes = text::quotations(sentence);
        for m in WHERE.find_iter(sentence) {
            if quotes.iter().any(|q| text::overlaps(q, &m.range())) {
                continue;
            }
            let p = m
                .as_str()
                .trim_end_matches("において")
                .trim_end_matches("にて")
                .trim_end_matches('で')
                .to_owned();
            if !p.is_empty() && !place.contains(&p) {
                place.push(p);
            }
        }
    }
    let (mut situation, mut response, mut future) = (String::new(), String::new(), String::new());
    for s in sentences {
        let outside: String = {
            let q = text::quotations(s);
            s.char_indices()
                .filter(|(i, _)| !q.iter().any(|r| r.contains(i)))
                .map(|(_, c)| c)
                .collect()
        };
        let part = if FUTURE.is_match(&outside) {
            &mut future
        } else if RESPONSE.is_match(&outside) && !situation.is_empty() {
            &mut response
        } else {
            &mut situation
        };
        part.push_str(s);
    }
    let or_missing = |s: String| if s.is_empty() { MISSING.to_owned() } else { s };
    format!(
        "【日時】{}\n【場所】{}\n【状況】{}\n【対応】{}\n【今後の対応】{}",
        or_missing(when.join("、")),
        or_missing(place.join("、")),
        or_missing(situation),
        or_missing(response),
        or_missing(future),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_incident_is_laid_out_and_missing_parts_say_so() {
        let source = "10月3日14時頃、作業室で利用者Bさんに噛みつきがあった。職員が間に入り、離れるよう声をかけた。";
        assert!(is_incident(source));
        let sentences: Vec<String> = text::sentences(source)
            .into_iter()
            .map(|r| source[r].to_owned())
            .collect();
        let out = layout(&sentences, &sentences);
        assert!(
            out.starts_with("【日時】10月3日、14時頃\n【場所】作業室\n【状況】10月3日"),
            "{out}"
        );
        assert!(out.contains("【対応】職員が間に入り"), "{out}");
        assert!(out.ends_with("【今後の対応】記載なし"), "{out}");
        assert!(!is_incident("作業に参加した。"));
    }
}
