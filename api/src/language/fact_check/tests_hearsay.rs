//! Unit tests of hearsay (伝聞): who the information comes from, and what is still judged.

use super::{Mode, check_with, tests::lex};
use crate::language::analysis::tests::analyzer;

#[test]
fn hearsay_is_labelled_and_judged_on_its_content() {
    let Some(a) = analyzer() else { return };
    let check = |t: &str| check_with(t, Mode::Record, lex(), None, Some(a));
    for t in [
        "母より、昨夜は21時に寝たとのこと。",
        "GHの世話人から、週末は2回嘔吐したと聞いた。",
        "明日は雨が降るそうだ。",
        "父は「家では毎晩ゲームをしています」と話していた。",
    ] {
        let r = check(t);
        assert_eq!(r.hearsay.len(), 1, "{t}: {r:?}");
        assert!(r.findings.is_empty(), "{t}: {r:?}");
    }
    // Reported content with an interpretation is still flagged, and the finding says hearsay.
    let r = check("母より、家では落ち着いているとのこと。");
    assert!(r.findings.iter().all(|f| f.hearsay) && !r.findings.is_empty());
    // Someone else's words, quoted after their name, or an instruction passed on.
    for t in [
        "Dr「このまま様子を見ましょう」。",
        "看護師は「食欲が落ちている」と述べた。",
        "主治医の指示により、頓服は1日2回までとなった。",
        "主治医より、疲労が要因と考えられるとの見解が示された。",
    ] {
        assert_eq!(check(t).hearsay.len(), 1, "{t}");
    }
    // The client's own words, recorded as words, are the writer's observation.
    for t in [
        "本人が「頭が痛い」と言った。",
        "眠そうな顔で、本人は「寝てない」と話した。",
        "本人より「昨夜はよく眠れた」との話があった。",
        "面談中に2回、「何の話でしたっけ」と聞き返した。",
        // Words that start inside the quotation are the speaker's (職場は… is the client's).
        "本人は面談で「今の職場はみんな優しいので続けたい」と話した。",
        // A name in quotation marks after an office is no one's words.
        "相談支援事業所「やすらぎ」の相談員と、16:00から職場で三者面談を行った。",
    ] {
        assert!(check(t).hearsay.is_empty(), "{t}");
    }
    // The employer's people and the neighbourhood report too.
    for t in [
        "チーフより「明日から冷凍庫の作業もお願いしたい」と打診あり。",
        "班長の佐藤様から、仕事ぶりは概ね良好と報告がありました。",
        "人事の方から、戦力になりつつあるとのお言葉をいただきました。",
        "大家さんより、10月分の家賃がまだ振り込まれていないと電話があった。",
    ] {
        assert_eq!(check(t).hearsay.len(), 1, "{t}");
    }
}
