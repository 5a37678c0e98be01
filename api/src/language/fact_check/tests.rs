//! Unit tests of the fact check. Tests that need the analyser skip where it is absent, unless
//! `KAKEHASHI_REQUIRE_DICTIONARY` is set (CI sets it).

use super::*;
use crate::language::{analysis::tests::analyzer, lexicon::OwnTermKind};

pub(super) fn lex() -> &'static Lexicon {
    Lexicon::builtin().expect("lexicon")
}

fn flags_with(text: &str, mode: Mode, a: &Analyzer) -> Vec<String> {
    check_with(text, mode, lex(), None, Some(a))
        .findings
        .into_iter()
        .map(|f| f.text)
        .collect()
}

/// Asserts each record sentence is flagged (`true`) or cleared (`false`).
pub(super) fn expect(cases: &[(&str, bool)], mode: Mode) {
    let Some(a) = analyzer() else { return };
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|(text, flag)| {
            let found = flags_with(text, mode, a);
            (found.is_empty() == *flag).then(|| {
                format!(
                    "{} expected, got {found:?}: {text}",
                    if *flag { "FLAG" } else { "CLEAR" }
                )
            })
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_time_word_topic_or_unrelated_act_does_not_clear_an_interpretation() {
    expect(
        &[
            ("帰りの会の前は落ち着かない様子だった。", true),
            ("月曜日は情緒が不安定だった。", true),
            ("おやつの時間は嬉しそうだった。", true),
            ("シャワーの間は機嫌が良かった。", true),
            ("兄にメールを送ったが、寂しそうだった。", true),
            ("送迎車を降りて、満足そうな顔をしていた。", true),
            ("工賃袋を手渡すと、安心した様子だった。", true),
        ],
        Mode::Record,
    );
}

#[test]
fn evidence_of_the_same_state_clears_it() {
    expect(
        &[
            ("落ち着かない様子で、作業机を2回叩いた。", false),
            ("意欲的で、袋詰めを休憩なしで40分続けた。", false),
            ("「もう帰る」と3回繰り返し、不満そうだった。", false),
            ("眠そうで、朝の会の間に4回あくびをした。", false),
            ("体調が悪そうで、検温すると37.8℃だった。", false),
            ("嬉しそうに、両手を上げて「やった」と言った。", false),
        ],
        Mode::Record,
    );
}

#[test]
fn evidence_of_another_state_or_across_a_contrast_does_not() {
    expect(
        &[
            // A count of output is no evidence of attention.
            ("集中できておらず、1時間で箱を12個折った。", true),
            // A normal temperature does not show being unwell.
            ("体温は36.2℃だったが、しんどそうだった。", true),
            // Across a contrast the fact does not support the claim.
            ("作業を45分続けたが、意欲はなさそうだった。", true),
            // What staff did in response is no evidence of the cause.
            ("ひどく汗をかいていたため、職員が麦茶を300ml渡した。", true),
            // The quoted words express another state.
            ("「お腹すいた」と言い、不安そうな表情だった。", true),
        ],
        Mode::Record,
    );
}

#[test]
fn change_and_vague_amounts_need_a_count() {
    expect(
        &[
            ("自信が高まってきている。", true),
            ("手順を覚えつつある。", true),
            ("欠席が増えている。", true),
            ("欠席が増え、今月は既に4日休んだ。", false),
            ("嫌々ながら掃除をした。", true),
            ("時々、作業中に席を立った。", true),
            ("作業中に4回席を立った。", false),
            ("何度も廊下に出て、職員が声をかけた。", true),
        ],
        Mode::Record,
    );
}

#[test]
fn negated_events_are_facts_and_negated_interpretations_are_not() {
    expect(
        &[
            ("本日、他害はなかった。", false),
            ("外出中、大声を出すことは一度もなかった。", false),
            ("・自傷：なし", false),
            ("特に不穏な様子はなかった。", true),
            ("特変なし。", true),
            ("引き続き様子を見ていく。", true),
            ("大きな問題なく過ごされた。", true),
        ],
        Mode::Record,
    );
}

#[test]
fn interpretive_words_about_things_or_conditions_are_not_claims() {
    expect(
        &[
            ("昼食時、穏やかな音楽を流した。", false),
            ("不安定な台は片付け、職員が踏み台を用意した。", false),
            ("不穏時の連絡手順を職員会議で確認した。", false),
            ("疲れた時に使う休憩カードを机に置いた。", false),
        ],
        Mode::Record,
    );
}

#[test]
fn plan_goals_need_something_a_third_person_could_check() {
    expect(
        &[
            ("毎日、穏やかに過ごせるよう支援する。", true),
            ("定期的に通院する。", true),
            ("必要に応じて声かけを行う。", true),
            ("作業への意欲を高める。", true),
            ("暴力を減らす。", true),
            ("暴力を月1回以下に減らす。", false),
            (
                "落ち着いて過ごせるよう、朝9時に写真カードで一日の予定を伝える。",
                false,
            ),
            ("おやつの前に、手洗いを自分で行う。", false),
            ("6月までに、一人で電車に乗って通所できるようになる。", false),
            ("イライラしたときは、休憩カードを職員に渡す。", false),
        ],
        Mode::Plan,
    );
}

#[test]
fn findings_name_their_clause_and_ask_a_question() {
    let Some(a) = analyzer() else { return };
    let text = "9時に来所し、意欲的に作業していた。";
    let r = check_with(text, Mode::Record, lex(), None, Some(a));
    let f = &r.findings[0];
    let chars = |r: &std::ops::Range<usize>| -> String {
        text.chars().skip(r.start).take(r.len()).collect()
    };
    assert_eq!(chars(&f.span), "意欲");
    assert_eq!(chars(&f.clause), "意欲的に作業していた。");
    assert_eq!(f.sentence, 0..text.chars().count());
    assert!(f.question.contains("「意欲」"), "{}", f.question);
    assert!(f.question.contains("どんな様子から"), "{}", f.question);
    let v = check_with("時々席を立った。", Mode::Record, lex(), None, Some(a));
    assert!(v.findings[0].question.contains("何回"), "{:?}", v.findings);
}

#[test]
fn without_the_analyser_every_interpretation_is_flagged_and_the_report_says_so() {
    let r = check_with(
        "落ち着かない様子で、机を2回叩いた。",
        Mode::Record,
        lex(),
        None,
        None,
    );
    assert!(r.degraded);
    assert!(!r.findings.is_empty(), "never cleared without the analysis");
    // Plain facts stay clear; quoted words are never flagged.
    let r = check_with(
        "10時に来所した。「楽しかった」と話した。",
        Mode::Record,
        lex(),
        None,
        None,
    );
    assert!(r.findings.is_empty(), "{r:?}");
}

#[test]
fn quoted_words_are_never_flagged() {
    let Some(a) = analyzer() else { return };
    assert!(flags_with("「今日は楽しかった、元気です」と話した。", Mode::Record, a).is_empty());
}

#[test]
fn an_organization_adds_terms_and_allow_lists_its_own_phrases() {
    let Some(a) = analyzer() else { return };
    let own = OrganizationLexicon::new([
        ("落ち着きルーム", OwnTermKind::Allowed, "org:a".into()),
        ("しんみり", OwnTermKind::Interpretation, "org:b".into()),
        ("袋詰め作業", OwnTermKind::Anchor, "org:c".into()),
    ]);
    let check_own = |s: &str| {
        check_with(s, Mode::Record, lex(), Some(&own), Some(a))
            .findings
            .into_iter()
            .map(|f| f.term_id)
            .collect::<Vec<_>>()
    };
    assert!(check_own("落ち着きルームへ移動した。").is_empty());
    assert_eq!(check_own("しんみりしていた。"), vec!["org:b"]);
    // The organization's own concrete word clears a claim of no particular state…
    assert!(check_own("しんみりした様子で袋詰め作業をした。").is_empty());
    // …but it is no evidence of motivation.
    assert!(!check_own("意欲的に袋詰め作業をした。").is_empty());
}

/// Any text, however broken (unclosed quotes, emoji, full-width digits, stray punctuation),
/// gets a report whose spans (character offsets; the API turns them into UTF-16) point at the
/// finding's own words.
#[test]
fn any_text_gets_a_report_with_spans_that_point_at_its_words() {
    const PIECES: [&str; 24] = [
        "落ち着いて",
        "様子だった",
        "嬉しそうに",
        "「帰りたい」",
        "「",
        "」",
        "😀",
        "👨‍👩‍👧",
        "３回",
        "12:30",
        "、",
        "。",
        "が、",
        "ため、",
        "とのこと。",
        "机を叩いた",
        "時々",
        "毎日",
        "穏やかに過ごせるよう",
        "\n",
        " ",
        "e\u{301}",
        "大声はなかった",
        "ｱｲｳ",
    ];
    let analysers: Vec<Option<&Analyzer>> = match analyzer() {
        Some(a) => vec![Some(a), None],
        None => vec![None],
    };
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for round in 0..400 {
        let mut text = String::new();
        for _ in 0..(round % 12) + 1 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            text.push_str(PIECES[usize::try_from(seed % PIECES.len() as u64).unwrap()]);
        }
        let chars: Vec<char> = text.chars().collect();
        for a in &analysers {
            for mode in [Mode::Record, Mode::Plan] {
                let report = check_with(&text, mode, lex(), None, *a);
                for f in &report.findings {
                    assert!(
                        f.span.start < f.span.end && f.span.end <= chars.len(),
                        "{text:?}: {f:?}"
                    );
                    assert!(f.clause.start <= f.span.start && f.span.end <= f.clause.end);
                    let words: String = chars[f.span.clone()].iter().collect();
                    assert_eq!(words, f.text, "{text:?}");
                }
            }
        }
    }
}

/// The clause right after a claim may open the next sentence: evidence there clears it, unless
/// that sentence turns against it (しかし, でも) or reports someone else's observation.
#[test]
fn evidence_opening_the_next_sentence_clears_the_claim_that_closes_this_one() {
    expect(
        &[
            ("落ち着かない様子だった。10分間に3回席を立った。", false),
            ("できるようになってきた。今日は4回とも順番を待てた。", false),
            // Or close the sentence before (a summary after the facts).
            ("10分間に3回席を立った。落ち着かない様子だった。", false),
            (
                "面談で「来年は一般就労したい」と2回話し、求人票を3枚持ち帰った。就労意欲は高い。",
                false,
            ),
            (
                "机を2回叩いたが、その後は静かだった。落ち着かない様子だった。",
                true,
            ),
            (
                "10分間に3回席を立った。しかし、落ち着かない様子はなかった。",
                true,
            ),
            ("寂しそうだった。「お母さんに会いたい」と2回言った。", false),
            // Another state, a contrast, a report, or a clause too far away: still flagged.
            ("落ち着かない様子だった。昼食は完食した。", true),
            ("嬉しそうだった。でも、「もう帰る」と3回言った。", true),
            ("不安そうだった。母によると、夜は3回起きたとのこと。", true),
            (
                "不安そうで、昼食を半分残した。「帰りたい」と2回言った。",
                true,
            ),
        ],
        Mode::Record,
    );
}

/// Evidence must point the same way as the claim (GUIDELINE rule 1): standing up three times
/// does not support 落ち着いて, leftovers do not support 食欲がある; a negation or a zero turns
/// a fact round (大声は一度もなかった supports 落ち着いて).
#[test]
fn evidence_pointing_the_other_way_clears_nothing() {
    expect(
        &[
            ("最近は落ち着いて過ごし、昼食後に3回席を立った。", true),
            ("落ち着いて過ごしている。昼食後に3回席を立った。", true),
            ("最近落ち着いて過ごしている。昼食後に3回席を立った。", true),
            ("落ち着かない様子で、10分間に3回席を立った。", false),
            ("落ち着いて過ごし、大声を出すことは一度もなかった。", false),
            (
                "夜間は落ち着いており、夜間の大声はこの1週間0回である。",
                false,
            ),
            ("落ち着いていたが、机を2回叩いた。", true),
            ("食欲がなく、昼食を半分残した。", false),
            ("食欲があり、昼食はおかわりを1回した。", false),
            ("食欲がなく、昼食はおかわりを1回した。", true),
            (
                "意欲が落ちている様子で、手を止めて窓の外を見ることが4回あった。",
                false,
            ),
            ("意欲的で、手を止めて窓の外を見ることが4回あった。", true),
            ("嬉しそうに「やったー」と両手を上げた。", false),
            ("嬉しそうで、泣きながら「帰りたい」と2回言った。", true),
            ("調子が悪そうで、検温すると37.6度あった。", false),
            ("不安そうで、目を合わせず、質問に答えなかった。", false),
        ],
        Mode::Record,
    );
}

/// A purpose のに (降りるのに) is no contrast; how an observed act was done (強く閉めた) is no
/// vague amount; 〜するたびに counts every time.
#[test]
fn clause_and_manner_words_read_as_a_reviewer_reads_them() {
    expect(
        &[
            (
                "元気がなく、送迎車から降りるのに職員の手を借り、作業中も2回横になった。",
                false,
            ),
            (
                "イライラした様子で、ドアを強く閉め、「うるさい」と怒鳴った。",
                false,
            ),
            (
                "レクでは、ボールを受け取るたびに声をあげて笑い、楽しんでいた。",
                false,
            ),
            ("声をかけたのに返事をしなかったが、落ち着いていた。", true),
            ("作業中、かなり大声を出していた。", true),
        ],
        Mode::Record,
    );
}

/// A plan line's act may be a light verb with a concrete object (小遣い帳をつける), a counted
/// act on an abstract object (活動を1つ書く) or a verbal noun ending a counted line (週3回 利用).
#[test]
fn plan_lines_name_their_act_in_the_forms_plans_use() {
    expect(
        &[
            ("週1回、世話人と一緒に小遣い帳をつける。", false),
            (
                "放課後等デイサービス 週3回（月・水・金）15:00〜17:30 利用。",
                false,
            ),
            ("帰る前に、連絡帳に本人がその日の活動を1つ書く。", false),
            ("自信をつける。", true),
            ("食事のバランスに気をつける。", true),
            ("関係性を築く。", true),
            ("必要に応じて支援。", true),
        ],
        Mode::Plan,
    );
}

/// A noun that names only the topic (排便コントロールは, 〜のことを) is no evidence; the same noun
/// with what happened (入眠は22時, 大声はなかった) is.
#[test]
fn a_topic_noun_is_not_evidence_but_an_occurrence_is() {
    expect(
        &[
            ("夜間の排尿は相変わらず。", true),
            ("入浴拒否のことで悩んでいる様子だった。", true),
            ("入眠は22時10分、起床は6時で、良眠だった。", false),
            ("大声はこの1週間一度もなく、穏やかだった。", false),
        ],
        Mode::Record,
    );
}

/// How well something was done (上手に, きちんと, スムーズに, 良好) is a grade: a measure makes it
/// a fact, the act it grades does not.
#[test]
fn a_grade_of_how_well_needs_a_measure() {
    expect(
        &[
            ("シーツ交換を上手に行えた。", true),
            ("歯磨きはきちんとできていた。", true),
            ("更衣はスムーズだった。", true),
            ("服薬管理は良好。", true),
            ("タオルたたみが上手で、10分で30枚たたんだ。", false),
            ("更衣はスムーズで、声かけ1回、5分で終えた。", false),
            ("服薬管理は良好で、今月の飲み忘れは0回。", false),
        ],
        Mode::Record,
    );
}

/// A claim that a skill grew needs a count; the act done once shows only that it can be done.
#[test]
fn a_claim_of_growth_needs_a_count() {
    expect(
        &[
            ("買い物は一人でできるようになってきた。", true),
            ("レジ打ちが上達した。", true),
            (
                "レジ打ちが上達し、1件あたりの時間は先月の90秒から今月は60秒になった。",
                false,
            ),
        ],
        Mode::Record,
    );
}

/// Feelings named outright (照れる, 飽きる, 悔しがる, ほっとする) are interpretations like
/// 〜様子: they need evidence of the same feeling.
#[test]
fn a_feeling_named_outright_needs_evidence() {
    expect(
        &[
            ("歌を褒められて照れていた。", true),
            ("パズルに飽きていた。", true),
            ("試合に負けて悔しがっていた。", true),
            ("迎えの車が来てほっとしていた。", true),
            ("予定が変わって困っていた。", true),
            ("午後は退屈していた。", true),
            (
                "試合に負けて悔しがり、「もう1回やる」と言って床を2回踏み鳴らした。",
                false,
            ),
            // 上が|った: the verb 上がる, not the suffix がる.
            ("熱が上がったので受診した。", false),
        ],
        Mode::Record,
    );
}

/// The grammar of quoted words tells what they express: a wish (〜たい) shows wanting to take
/// part, a prohibition (触るな) anger.
#[test]
fn the_grammar_of_quoted_words_shows_their_feeling() {
    expect(
        &[
            ("意欲的で、「次はミシンもやりたい」と職員に話した。", false),
            (
                "怒った様子で「俺の物に触るな」と言い、ペンを取り返した。",
                false,
            ),
            ("怒った様子で「おはよう」と言った。", true),
        ],
        Mode::Record,
    );
}

/// A report that opens with its source (主治医より、…) is hearsay.
#[test]
fn a_report_opening_with_its_source_is_hearsay() {
    let Some(a) = analyzer() else { return };
    for (text, hearsay) in [
        ("通所先より、今月の欠席は2日と報告あり。", true),
        ("主治医より、血圧は安定しているとの見立て。", true),
        ("実習先の担当者より：始業前に持ち場に着いていた。", true),
        ("本人は「来週も作業所に行く」と話した。", false),
    ] {
        let r = check_with(text, Mode::Record, lex(), None, Some(a));
        assert_eq!(!r.hearsay.is_empty(), hearsay, "{text}");
    }
}

/// Cases a review found: a negation on the topic noun's own predicate, a fraction that is an
/// amount, another person's or a place's report only when it is one.
#[test]
fn review_cases_keep_their_meaning() {
    expect(
        &[
            ("大声は出さず、穏やかに過ごした。", false),
            ("主食2/3、副食全量摂取で、食欲はあった。", false),
            ("腕を傷つけた。", false),
            ("毎朝散歩に行くようになった。", true),
        ],
        Mode::Record,
    );
    let Some(a) = analyzer() else { return };
    for (text, hearsay) in [
        ("本人との相談の上、通所日を週4日に決めた。", false),
        ("病院から戻り、居室で横になった。", false),
    ] {
        let r = check_with(text, Mode::Record, lex(), None, Some(a));
        assert_eq!(!r.hearsay.is_empty(), hearsay, "{text}");
    }
}

/// Stems of feeling words do not fire inside other words (キレイ is not キレる).
#[test]
fn feeling_stems_stay_inside_their_words() {
    expect(
        &[
            ("机の上をキレイに拭いた。", false),
            ("職員の注意にキレて、机を2回叩いた。", false),
            ("職員の注意にキレていた。", true),
        ],
        Mode::Record,
    );
}
