//! Unit tests of evidence with polarity. Tests that need the analyser skip where it is absent,
//! unless `KAKEHASHI_REQUIRE_DICTIONARY` is set (CI sets it); the rule fallback is tested
//! everywhere.

use chrono::NaiveDate;

use super::*;
use crate::language::analysis::tests::analyzer;

fn tag(t: &str) -> Target {
    Target::of_tag(t)
}

/// Judges with the analyser (when present) and with the rule fallback; both must agree.
fn both(text: &str, target: &Target) -> Occurrence {
    let rule = judge_with(text, target, None);
    if let Some(a) = analyzer() {
        let full = judge_with(text, target, Some(a));
        assert_eq!(full, rule, "analyser and rule disagree on {text}");
        full
    } else {
        rule
    }
}

fn polarity(text: &str, target: &Target) -> Polarity {
    both(text, target).polarity
}

#[test]
fn an_outburst_that_happened_is_told_from_one_that_did_not() {
    let t = tag("大声");
    for happened in [
        "10:20 作業変更を伝えた直後に大声を出し床に座り込んだ。",
        "昼食後、大声で職員を呼んだ。",
        "怒鳴る場面があった。",
        "作業の終わりに大きな声を上げた。",
        "大声を上げる場面が2回あった。",
    ] {
        assert_eq!(polarity(happened, &t), Polarity::Occurred, "{happened}");
    }
    for not in [
        "一日を通して大声はなかった。",
        "予定変更を伝えたが、大声を出すことなく作業に戻った。",
        "大声は見られなかった。",
        "大声なし。",
        "大声を出さずに最後まで過ごした。",
        "この1週間、大声は0回。",
        "大声を出すことはありませんでした。",
        "大声もなく過ごした。",
        "大声が出なかった。",
        "大声を出していない。",
    ] {
        assert_eq!(polarity(not, &t), Polarity::NotOccurred, "{not}");
    }
    for unrelated in ["穏やかに作業した。", "14時に散歩に出た。"] {
        assert_eq!(polarity(unrelated, &t), Polarity::Unrelated, "{unrelated}");
    }
    // Another person's outburst is not the client's.
    assert_eq!(
        polarity("他の利用者が大声を出したので耳をふさいだ。", &t),
        Polarity::Unrelated
    );
    // A negation in another clause belongs to that clause.
    assert_eq!(
        polarity("大声を出したが、怪我はなかった。", &t),
        Polarity::Occurred
    );
}

#[test]
fn a_tag_and_its_synonyms_name_the_same_behaviour() {
    let anger = tag("怒りの表出");
    assert_eq!(anger.concept.map(|c| c.id), Some("outburst"));
    assert!(anger.matches_tag("大声"));
    assert!(!anger.matches_tag("食事"));
    assert_eq!(
        polarity("怒りの表出はなかった。", &anger),
        Polarity::NotOccurred
    );
    assert_eq!(
        polarity("作業の順番を抜かされ、大声で怒った。", &anger),
        Polarity::Occurred
    );
}

#[test]
fn counts_in_the_text_are_read() {
    let t = tag("大声");
    let o = both("午前中に大声を3回出した。", &t);
    assert_eq!((o.polarity, o.count), (Polarity::Occurred, 3));
    assert_eq!(both("大声を出した。", &t).count, 1);
}

#[test]
fn meal_outcomes_are_kept_apart() {
    let meal = tag("食事");
    let outcome = |s: &str| both(s, &meal).outcome;
    assert_eq!(outcome("昼食を完食した。"), Some(Outcome::Full));
    assert_eq!(outcome("昼食は残さず食べた。"), Some(Outcome::Full));
    assert_eq!(outcome("昼食を半分残した。"), Some(Outcome::Partial));
    assert_eq!(outcome("夕食は3割程度で残した。"), Some(Outcome::Partial));
    assert_eq!(outcome("昼食は8割摂取。"), Some(Outcome::Partial));
    assert_eq!(outcome("夕食は全量摂取。"), Some(Outcome::Full));
    assert_eq!(outcome("昼食を食べなかった。"), Some(Outcome::None));
    assert_eq!(outcome("朝食は食べずに通所した。"), Some(Outcome::None));
    assert_eq!(
        polarity("昼食を食べなかった。", &meal),
        Polarity::NotOccurred
    );
    assert_eq!(outcome("作業を30分続けた。"), None);
}

#[test]
fn sleep_outcomes_are_kept_apart() {
    let sleep = tag("睡眠");
    let outcome = |s: &str| both(s, &sleep).outcome;
    assert_eq!(outcome("22時に入眠し、朝まで眠った。"), Some(Outcome::Full));
    assert_eq!(outcome("夜、なかなか眠れなかった。"), Some(Outcome::None));
    assert_eq!(
        outcome("23時に就寝、2時に目が覚めた。"),
        Some(Outcome::Partial)
    );
    assert_eq!(outcome("不眠の訴えあり。"), Some(Outcome::None));
}

#[test]
fn the_rule_fallback_is_not_fooled_by_words_that_look_negative() {
    let meal = tag("食事");
    assert_eq!(
        judge_with("昼食は量が少ないが完食した。", &meal, None).polarity,
        Polarity::Occurred
    );
    let t = tag("大声");
    assert_eq!(
        judge_with("作業の前に必ず大声を出す。", &t, None).polarity,
        Polarity::Occurred
    );
}

#[test]
fn an_unknown_tag_is_taken_at_the_writers_word_only_when_the_text_is_silent() {
    let t = tag("予定変更");
    assert_eq!(t.concept.map(|c| c.id), None);
    assert_eq!(
        judge_tagged("作業変更を伝えると手が止まった。", &t).polarity,
        Polarity::Occurred
    );
    assert_eq!(
        judge_tagged("予定変更はなかった。", &t).polarity,
        Polarity::NotOccurred
    );
    // A known behaviour is judged from the text: a calm day tagged 大声 is no outburst.
    assert_eq!(
        judge_tagged("穏やかに過ごした。", &tag("大声")).polarity,
        Polarity::Unrelated
    );
}

#[test]
fn goals_are_read_as_measures() {
    let g = GoalSpec::parse("大声を月2回以下にする").expect("goal");
    assert_eq!(g.target.concept.map(|c| c.id), Some("outburst"));
    assert_eq!(
        (g.direction, g.threshold, g.period, g.days),
        (Direction::AtMost, Some(2), Some(Period::Month), false)
    );
    assert_eq!(g.measure_ja(), "月2回以下");

    let g = GoalSpec::parse("週3回以上、30分の散歩を続ける").expect("goal");
    assert_eq!(
        (g.direction, g.threshold, g.period),
        (Direction::AtLeast, Some(3), Some(Period::Week))
    );
    assert_eq!(g.target.label, "散歩");

    let g = GoalSpec::parse("週に3回以上ストレッチする").expect("goal");
    assert_eq!(g.target.label, "ストレッチ");
    assert_eq!(g.measure_ja(), "週3回以上");

    let g = GoalSpec::parse("夜間に眠れる日を週5日以上にする").expect("goal");
    assert_eq!(g.target.concept.map(|c| c.id), Some("sleep"));
    assert!(g.days);
    assert_eq!(g.measure_ja(), "週5日以上");

    let g = GoalSpec::parse("昼食を毎日完食する").expect("goal");
    assert_eq!(g.target.concept.map(|c| c.id), Some("meal"));
    assert_eq!(g.measure_ja(), "毎日");
    assert!(g.requires_full);

    let g = GoalSpec::parse("他害をなくす").expect("goal");
    assert_eq!((g.direction, g.threshold), (Direction::AtMost, Some(0)));
    let g = GoalSpec::parse("怒りの表出を減らす").expect("goal");
    assert_eq!((g.direction, g.threshold), (Direction::AtMost, None));
    let g = GoalSpec::parse("１ヶ月に４回未満にする大声").expect("goal");
    assert_eq!((g.direction, g.threshold), (Direction::AtMost, Some(3)));
}

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, day).expect("date")
}

#[test]
fn a_month_exactly_at_the_limit_says_so_and_names_its_records() {
    let g = GoalSpec::parse("大声を月2回以下にする").expect("goal");
    let t = &g.target;
    let judged: Vec<(NaiveDate, Occurrence, u8)> = [
        (d(11, 3), "大声を出した。", 1),
        (d(11, 5), "大声はなかった。", 2),
        (d(11, 12), "作業中に大声を出し、机を叩いた。", 3),
        (d(11, 20), "穏やかに過ごし、大声を出すことはなかった。", 4),
        (d(11, 21), "散歩に出た。", 5),
    ]
    .into_iter()
    .map(|(day, text, id)| (day, judge(text, t), id))
    .collect();
    let tallies = tally(&g, &judged, d(11, 1), d(11, 30));
    assert_eq!(tallies.len(), 1);
    let m = &tallies[0];
    assert_eq!(m.count, 2);
    assert_eq!(m.counted, vec![1, 3]);
    assert_eq!(m.other, vec![2, 4]);
    assert_eq!(m.standing, Standing::AtLimit);
    assert_eq!(m.summary, "11月: 大声 2回（目標 月2回以下、上限）");

    // A third outburst goes over; a period cut short says so.
    let mut more = judged.clone();
    more.push((d(11, 25), judge("大声を2回出した。", t), 6));
    let over = tally(&g, &more, d(11, 10), d(11, 30));
    assert_eq!(over[0].count, 3);
    assert_eq!(over[0].standing, Standing::NotMet);
    assert!(
        over[0].summary.contains("1回超過・期間途中）"),
        "{}",
        over[0].summary
    );
}

#[test]
fn days_are_counted_against_a_weekly_minimum() {
    let g = GoalSpec::parse("夜間に眠れる日を週5日以上にする").expect("goal");
    let t = &g.target;
    let judged: Vec<(NaiveDate, Occurrence, u8)> = [
        (d(11, 23), "22時に入眠、朝まで眠った。", 1),
        (d(11, 24), "22時に入眠した。", 2),
        (d(11, 25), "眠れなかった。", 3),
        (d(11, 26), "23時に就寝し、6時まで眠った。", 4),
    ]
    .into_iter()
    .map(|(day, text, id)| (day, judge(text, t), id))
    .collect();
    let weeks = tally(&g, &judged, d(11, 23), d(11, 29));
    // 2026-11-23 is a Monday: one week.
    assert_eq!(weeks.len(), 1, "{weeks:?}");
    assert_eq!(weeks[0].count, 3);
    assert_eq!(weeks[0].counted, vec![1, 2, 4]);
    assert_eq!(weeks[0].other, vec![3]);
    assert_eq!(weeks[0].standing, Standing::NotMet);
    assert_eq!(
        weeks[0].summary,
        "11/23〜11/29: 睡眠 3日（目標 週5日以上、2日不足）"
    );
}
