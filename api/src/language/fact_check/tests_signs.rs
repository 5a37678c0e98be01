//! Unit tests of what a sign or a measure shows: vital signs by their range, acts in the small
//! hours, injuries that did not happen, and the vague ways of saying how often or how much.

use super::{Mode, tests::expect};

#[test]
fn a_vital_sign_supports_a_health_claim_only_when_it_is_out_of_range() {
    expect(
        &[
            ("体温36.3℃だったが、だるそうにしていた。", true),
            ("だるそうで、検温すると37.8℃あった。", false),
            ("具合が悪そうで、血圧は168/102だった。", false),
            ("具合が悪そうだったが、血圧は122/76だった。", true),
            // 3度 counts times here, not a temperature.
            ("3度声をかけたが、体調が悪そうだった。", true),
        ],
        Mode::Record,
    );
}

#[test]
fn acting_in_the_small_hours_is_evidence_of_poor_sleep() {
    expect(
        &[
            (
                "寝つけない様子で、1:10から2:00まで食堂でテレビを見ていた。",
                false,
            ),
            ("眠れないようで、深夜に廊下を3往復した。", false),
            // Up at two points the other way from a good night.
            ("よく眠れたようで、2時に廊下を歩き回っていた。", true),
            // Fourteen o'clock is no night, and an hour is no clock time.
            ("眠れていないようで、14時に廊下を歩き回っていた。", true),
        ],
        Mode::Record,
    );
}

#[test]
fn an_injury_that_did_not_happen_is_a_fact_but_a_graded_one_is_not() {
    expect(
        &[
            ("階段で転倒したが、けがはなかった。", false),
            ("双方けがなし。", false),
            ("大きなけがはなかった。", true),
            ("相手とぶつかったが、大事には至らなかった。", true),
            ("昨夜、軽い発作があった。", true),
        ],
        Mode::Record,
    );
}

#[test]
fn now_and_then_without_a_number_asks_how_often() {
    expect(
        &[
            ("作業中に席を立つことがある。", true),
            ("作業中に席を立つことが3回あった。", false),
            ("適宜、水分補給の声かけを行った。", true),
            ("財布の管理が難しくなってきている。", true),
            (
                "起床が遅くなってきており、今週は5日中4日が8時過ぎだった。",
                false,
            ),
            ("財布がなくなっていた。", false),
            ("転倒のおそれがあるため、付き添いを増やした。", true),
        ],
        Mode::Record,
    );
}

#[test]
fn a_physical_act_or_a_form_field_is_not_an_interpretation() {
    expect(
        &[("両耳を手でふさぎ、その場に約1分しゃがみ込んだ。", false)],
        Mode::Record,
    );
    expect(
        &[(
            "発作時は開始時刻と様子を記録用紙に記入し、当日中に家族へ電話で伝える。",
            false,
        )],
        Mode::Plan,
    );
}
