//! Unit tests of the renderings: the glossary, each audience's rules, and the persons.

use super::{
    easy::furigana,
    glossary::{is_kanji, is_reading, ruby_pieces},
    *,
};

fn shipped() -> &'static Glossary {
    Glossary::shipped().expect("glossary")
}

fn to(text: &str, audience: Audience) -> String {
    render(text, audience, shipped()).text
}

#[test]
fn the_shipped_glossary_parses_and_every_kanji_term_has_a_reading() {
    let g = shipped();
    let rendered = g.entries().iter().filter(|e| !e.renderings.is_empty());
    assert!(rendered.count() >= 40);
    for e in g.entries() {
        assert_eq!(e.source, EntrySource::Shipped);
        if e.term.chars().any(is_kanji) {
            let reading = e.reading.as_deref().unwrap_or_default();
            assert!(is_reading(reading), "{}: reading {reading:?}", e.term);
        }
    }
    assert_eq!(g.reading("服薬"), Some("ふくやく"));
    for a in Audience::ALL {
        assert_eq!(Audience::parse(a.as_str()), Some(a));
        assert_eq!(Audience::parse(&a.as_str().to_lowercase()), Some(a));
    }
    assert_eq!(Audience::parse("client-easy"), Some(Audience::ClientEasy));
    assert_eq!(Audience::parse("nobody"), None);
    Glossary::check_shipped().expect("start-up check");
}

#[test]
fn a_broken_file_is_refused_with_the_entry_named() {
    let no_reading = "[[entry]]\nterm = \"服薬\"\nfamily = \"お薬\"\n";
    assert!(
        Glossary::parse(no_reading)
            .expect_err("no reading")
            .contains("服薬")
    );
    let katakana = "[[entry]]\nterm = \"服薬\"\nreading = \"フクヤク\"\n";
    assert!(
        Glossary::parse(katakana)
            .expect_err("katakana")
            .contains("服薬")
    );
    let twice = "[[entry]]\nterm = \"GH\"\n[[entry]]\nterm = \"GH\"\n";
    assert!(Glossary::parse(twice).expect_err("twice").contains("GH"));
    let quoted = "[[entry]]\nterm = \"GH\"\nfamily = \"「家」\"\n";
    assert!(Glossary::parse(quoted).is_err());
    let unknown = "[[entry]]\nterm = \"GH\"\nfamilly = \"家\"\n";
    assert!(Glossary::parse(unknown).is_err());
}

#[test]
fn every_kanji_in_an_easy_rendering_gets_furigana() {
    let g = shipped();
    for e in g.entries() {
        let Some(easy) = e.rendering(Audience::ClientEasy) else {
            continue;
        };
        for s in furigana(easy, g, None) {
            assert!(
                s.reading.is_some() || !s.text.chars().any(is_kanji),
                "{}: {easy} has {} without a reading",
                e.term,
                s.text
            );
        }
    }
}

/// DOMAIN.md §5: 「パニックになった」 through support, record, plan, family and client.
#[test]
fn the_domain_chain_reads_in_every_audience() {
    let said = "パニックになった";
    let support = render(said, Audience::Support, shipped());
    assert_eq!(support.text, said);
    assert!(support.changes.is_empty());
    let record = to(said, Audience::Record);
    assert!(
        record.starts_with("強く混乱した（時刻・きっかけ"),
        "{record}"
    );
    let plan = to(said, Audience::Plan);
    assert_eq!(plan, "予定変更時の見通し支援");
    assert_eq!(
        to(said, Audience::Family),
        "驚いて、気持ちが大きく乱れてしまいました"
    );
    assert_eq!(to(said, Audience::ClientEasy), "とても びっくりしました");
    assert_eq!(to(said, Audience::Administration), "強い混乱状態となった");
    // The plan's wording, told to the family and to the client.
    assert_eq!(
        to(&plan, Audience::Family),
        "予定が急に変わるときに前もってお知らせする工夫"
    );
    assert_eq!(
        to(&plan, Audience::ClientEasy),
        "よていが かわる ときは まえに しらせる こと"
    );
}

#[test]
fn every_change_names_its_entry_or_rule() {
    let r = render("作業中にパニックになった。", Audience::Family, shipped());
    assert_eq!(r.text, "作業中に驚いて、気持ちが大きく乱れてしまいました。");
    assert_eq!(
        r.changes[0],
        Change {
            original: "パニックになった".into(),
            replacement: "驚いて、気持ちが大きく乱れてしまった".into(),
            reason: ChangeReason::Glossary {
                term: "パニックになった".into(),
                source: EntrySource::Shipped
            },
        }
    );
    assert!(matches!(
        r.changes[1].reason,
        ChangeReason::Rule {
            id: "family.polite",
            ..
        }
    ));
    assert_eq!(r.changes.len(), 2);
}

#[test]
fn quotations_are_untouched() {
    let text = "「パニックになった、服薬したくない」と本人が話した。";
    for a in Audience::ALL {
        let r = render(text, a, shipped());
        assert!(
            r.text.starts_with("「パニックになった、服薬したくない」と"),
            "{a:?}: {}",
            r.text
        );
    }
    assert_eq!(
        to(text, Audience::Family),
        "「パニックになった、服薬したくない」とご本人が話しました。"
    );
    // A sentence that ends inside a quotation keeps its ending.
    assert_eq!(
        to("本人「もう帰った", Audience::Family),
        "ご本人「もう帰った"
    );
    assert_eq!(to("「疲れた。」", Audience::Family), "「疲れた。」");
}

#[test]
fn abbreviations_expand_for_all_but_support() {
    let text = "サビ管と放デイの件でGHに連絡した。";
    assert_eq!(to(text, Audience::Support), text);
    assert_eq!(
        to(text, Audience::Record),
        "サービス管理責任者と放課後等デイサービスの件でグループホームに連絡した。"
    );
    assert_eq!(
        to(text, Audience::Family),
        "サービス管理責任者と放課後等デイサービスの件でグループホームに連絡しました。"
    );
    assert_eq!(
        to("GH入居", Audience::Administration),
        "共同生活援助（グループホーム）入居"
    );
    // Already expanded, inside a longer word, or another word: left alone.
    assert_eq!(to("就労継続支援B型", Audience::Plan), "就労継続支援B型");
    assert_eq!(to("B型肝炎の予防接種", Audience::Plan), "B型肝炎の予防接種");
    assert_eq!(to("GHQ", Audience::Plan), "GHQ");
    assert_eq!(to("B型に通う", Audience::Plan), "就労継続支援B型に通う");
    // A replacement is never replaced again (本人 → ご本人, not ごご本人).
    // 利用者 is never the client (DOMAIN.md §1); beside 本人 it is someone else.
    assert_eq!(to("利用者と本人", Audience::Family), "他のご利用者とご本人");
    assert_eq!(
        to("利用者が来た。", Audience::Family),
        "利用者の方が来ました。"
    );
    assert_eq!(to("ご本人", Audience::Family), "ご本人");
}

#[test]
fn an_organization_entry_overrides_a_shipped_one_and_is_named() {
    let own = GlossaryEntry {
        term: "支援員".into(),
        reading: None,
        renderings: vec![(Audience::Family, "職員".into())],
        source: EntrySource::Shipped,
    };
    let g = shipped().with_organization(vec![own]);
    let r = render("支援員が声かけした。", Audience::Family, &g);
    assert_eq!(r.text, "職員が声をかけました。");
    assert_eq!(
        r.changes[0].reason,
        ChangeReason::Glossary {
            term: "支援員".into(),
            source: EntrySource::Organization
        }
    );
    assert_eq!(g.reading("支援員"), Some("しえんいん"));
    assert_eq!(g.entries().len(), shipped().entries().len());
    // The shipped glossary is unchanged.
    assert_eq!(to("支援員", Audience::Family), "スタッフ");
}

#[test]
fn family_endings_become_polite_only_where_safe() {
    for (text, want) in [
        ("作業をした。", "作業をしました。"),
        ("雨だった。", "雨でした。"),
        ("見直しが必要である。", "見直しが必要です。"),
        ("昼食を食べていない。", "お昼ごはんを食べていません。"),
        ("途中で帰ることはしない。", "途中で帰ることはしません。"),
        ("食欲がない！", "食欲がありません！"),
        ("声をかけた。", "声をかけました。"),
        ("服薬した。", "お薬を飲みました。"),
        ("楽しかった。", "楽しかったです。"),
        ("9時に来た\n昼に帰った", "9時に来ました\n昼に帰りました"),
        // Already polite: unchanged.
        ("作業をしました。", "作業をしました。"),
        ("元気でした。", "元気でした。"),
        ("明日は休み", "明日は休み"),
    ] {
        assert_eq!(to(text, Audience::Family), want, "{text}");
    }
    // Without the analyser, endings whose conjugation the form does not fix stay.
    for text in ["作業に行かない。", "机を拭いた。", "だらしない。"] {
        let r = render_with_readings(text, Audience::Family, shipped(), None);
        assert_eq!(r.text, text);
    }
    // With it, every verb's class is known.
    if crate::language::analysis::tests::analyzer().is_some() {
        for (text, want) in [
            ("作業に行かない。", "作業に行きません。"),
            ("机を拭いた。", "机を拭きました。"),
            ("床に座り込んだ。", "床に座り込みました。"),
            (
                "相手の利用者にけがはなかった。",
                "他のご利用者にけがはありませんでした。",
            ),
        ] {
            assert_eq!(to(text, Audience::Family), want, "{text}");
        }
    }
    // Other audiences keep the endings as written.
    assert_eq!(to("作業をした。", Audience::Record), "作業をした。");
}

#[test]
fn easy_japanese_splits_long_sentences_and_carries_furigana() {
    let text = "午前中は作業に参加して、昼食後は他の利用者と話をして、午後は送迎車で帰宅した。";
    let r = render(text, Audience::ClientEasy, shipped());
    assert_eq!(
        r.text,
        "午前中はしごとに参加しました。ひるごはん後はほかの利用者と話をしました。\
         午後はおくりむかえの くるまで帰宅しました。"
    );
    assert!(r.changes.iter().any(|c| matches!(
        c.reason,
        ChangeReason::Rule {
            id: "easy.split",
            ..
        }
    )));
    let joined: String = r.segments.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(joined, r.text);
    let reading = |t: &str| {
        r.segments
            .iter()
            .find(|s| s.text == t)
            .map(|s| s.reading.clone())
    };
    assert_eq!(reading("午前"), Some(Some("ごぜん".into())));
    assert_eq!(reading("午後"), Some(Some("ごご".into())));
    for s in &r.segments {
        if s.reading.is_some() {
            assert!(s.text.chars().any(is_kanji), "{s:?}");
        }
    }
    // With the analyser every kanji word carries its reading; without it, only glossary
    // words do and nothing is made up.
    let 参加 = r
        .segments
        .iter()
        .find(|s| s.text.contains("参加"))
        .expect("参加");
    match crate::language::analysis::tests::analyzer() {
        Some(_) => assert_eq!(参加.reading.as_deref(), Some("さんか")),
        None => assert_eq!(参加.reading, None),
    }
    // A short sentence stays whole; other audiences get no segments.
    assert_eq!(
        to("今日、作業をした。", Audience::ClientEasy),
        "今日、しごとをしました。"
    );
    assert!(
        render(text, Audience::Family, shipped())
            .segments
            .is_empty()
    );
}

#[test]
fn furigana_stands_over_the_kanji_only() {
    assert_eq!(
        ruby_pieces("見通し", "みとおし"),
        vec![
            Segment {
                text: "見通".into(),
                reading: Some("みとお".into())
            },
            Segment {
                text: "し".into(),
                reading: None
            },
        ]
    );
    let pieces = ruby_pieces("サービス等利用計画", "さーびすとうりようけいかく");
    assert_eq!(pieces[1].reading.as_deref(), Some("とうりようけいかく"));
    assert!(ruby_pieces("パニック", "ぱにっく").is_empty());
    // Kana that do not line up: the whole term carries the whole reading.
    assert_eq!(ruby_pieces("見通し", "けんとう")[0].text, "見通し");
}

#[test]
fn rendering_is_deterministic() {
    let text = "サビ管と相談。本人は「帰る」と言い、不穏になった。昼食後に頓服を服薬した。";
    for a in Audience::ALL {
        assert_eq!(render(text, a, shipped()), render(text, a, shipped()));
        let reparsed = Glossary::parse(SOURCE).expect("glossary");
        assert_eq!(render(text, a, shipped()), render(text, a, &reparsed));
    }
}

#[test]
fn an_empty_text_renders_to_empty() {
    for a in Audience::ALL {
        let r = render("", a, shipped());
        assert_eq!(r.text, "");
        assert!(r.changes.is_empty() && r.segments.is_empty());
    }
}

#[test]
fn the_analyser_reads_kanji_the_glossary_does_not_know() {
    let g = Glossary::shipped().unwrap();
    let text = "参加した。";
    let without = render_with_readings(text, Audience::ClientEasy, g, None);
    assert!(
        without.segments.iter().all(|s| s.reading.is_none()),
        "{without:?}"
    );
    let Some(a) = crate::language::analysis::get() else {
        assert!(std::env::var_os("KAKEHASHI_REQUIRE_DICTIONARY").is_none());
        return;
    };
    let with = render_with_readings(text, Audience::ClientEasy, g, Some(a));
    let ruby: Vec<(String, Option<String>)> = with
        .segments
        .iter()
        .map(|s| (s.text.clone(), s.reading.clone()))
        .collect();
    assert_eq!(
        ruby[0],
        ("参加".to_owned(), Some("さんか".to_owned())),
        "{ruby:?}"
    );
    let joined: String = with.segments.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(joined, with.text);
}

fn has_analyser() -> bool {
    crate::language::analysis::tests::analyzer().is_some()
}

/// Issue 19: 利用者 of another party never becomes the client, and names of others go.
#[test]
fn other_users_never_become_the_client() {
    let text = "相手の利用者にけがはなかった。";
    let family = to(text, Audience::Family);
    assert!(
        family.contains("他のご利用者") && !family.contains("本人"),
        "{family}"
    );
    let easy = to(text, Audience::ClientEasy);
    assert!(
        easy.contains("ほかの利用者") && !easy.contains("あなた"),
        "{easy}"
    );
    let named = "利用者Bさんに噛みつきがあった。Bさんは泣いていた。";
    for a in [Audience::Family, Audience::ClientEasy] {
        let r = render(named, a, shipped());
        assert!(!r.text.contains("Bさん"), "{a:?}: {}", r.text);
        assert!(r.text.contains("噛みつき"), "{a:?}: {}", r.text);
        assert!(
            !r.text.contains("本人") && !r.text.contains("あなた"),
            "{}",
            r.text
        );
    }
    // Records keep names as written; the client's own name is the client.
    assert!(to(named, Audience::Record).contains("Bさん"));
    let options = Options {
        client_names: vec!["山田".into()],
    };
    let r = render_with(
        "山田さんとCさんが話した。",
        Audience::Family,
        shipped(),
        crate::language::analysis::get(),
        &options,
    );
    assert_eq!(r.text, "ご本人と他の方が話しました。");
    // 他害 names no act, so its wording names none; the act written stays.
    let r = to("他害行為（噛みつき）があった。", Audience::Family);
    assert!(r.contains("噛みつき") && !r.contains("たたく"), "{r}");
}

#[test]
fn an_unsafe_rendering_is_kept_as_written_and_marked() {
    let own = GlossaryEntry {
        term: "噛みつき".into(),
        reading: Some("かみつき".into()),
        renderings: vec![(Audience::Family, "たたくこと".into())],
        source: EntrySource::Organization,
    };
    let g = shipped().with_organization(vec![own]);
    let text = "作業中に噛みつきがあった。Bさんが3回叩いた。";
    let r = render(text, Audience::Family, &g);
    let first = &r.sentences[0];
    assert_eq!(first.text, "作業中に噛みつきがあった。");
    assert!(matches!(
        first.kept_as_written,
        Some(invariants::Violation::ActChanged { .. })
    ));
    assert!(r.kept_as_written());
    // The other sentence is rendered; its name is gone in either case.
    assert!(r.sentences[1].kept_as_written.is_none(), "{r:?}");
    assert!(
        r.text.contains("3回") && !r.text.contains("Bさん"),
        "{}",
        r.text
    );
}

#[test]
fn replacements_leave_no_seams() {
    assert_eq!(
        to("グループホーム世話人より連絡があった。", Audience::Family),
        "グループホームのスタッフより連絡がありました。"
    );
    assert_eq!(
        to("頓服（1錠）を服薬した。", Audience::Family),
        "調子が悪いときに飲むお薬（1錠）を飲みました。"
    );
}

#[test]
fn easy_japanese_splits_where_clauses_end() {
    if !has_analyser() {
        return;
    }
    for (text, want) in [
        (
            "大声を出し、床に座り込んだ。",
            "大声を出しました。床に座り込みました。",
        ),
        (
            "とても疲れたので、早めに休んだ。",
            "とても疲れました。だから、早めに休みました。",
        ),
        ("今日は、作業をした。", "今日は、しごとをしました。"),
    ] {
        assert_eq!(to(text, Audience::ClientEasy), want, "{text}");
    }
    let r = render(
        "9月に2回、一人で病院へ行った。",
        Audience::ClientEasy,
        shipped(),
    );
    let reading = |t: &str| {
        r.segments
            .iter()
            .find(|s| s.text == t)
            .and_then(|s| s.reading.clone())
    };
    assert_eq!(
        reading("9月").as_deref(),
        Some("くがつ"),
        "{:?}",
        r.segments
    );
    assert_eq!(reading("2回").as_deref(), Some("にかい"));
    assert_eq!(reading("一人").as_deref(), Some("ひとり"));
}

#[test]
fn an_incident_for_the_municipality_is_laid_out() {
    let text =
        "10月3日14時頃、作業室で他利用者に噛みつきがあった。職員が間に入り、離れるよう声かけした。";
    let r = to(text, Audience::Administration);
    assert!(
        r.starts_with("【日時】10月3日、14時頃\n【場所】作業室\n【状況】"),
        "{r}"
    );
    assert!(r.contains("【今後の対応】記載なし"), "{r}");
    assert!(r.contains("噛みつき"));
}

#[test]
fn the_family_letter_keeps_one_register_and_children_names_go() {
    if !has_analyser() {
        return;
    }
    assert_eq!(
        to("ゆきちゃんと遊んだが、途中で泣いた。", Audience::Family),
        "他の方と遊びましたが、途中で泣きました。"
    );
    // Inside a quotation nothing changes.
    assert_eq!(
        to("「疲れたけど楽しかった」と話した。", Audience::Family),
        "「疲れたけど楽しかった」と話しました。"
    );
}

#[test]
fn a_user_beside_the_client_and_a_named_staff_member_are_not_the_client() {
    let r = to(
        "本人の隣に座っていた利用者が本人の肩を押した。",
        Audience::Family,
    );
    assert!(r.contains("隣に座っていた他のご利用者"), "{r}");
    assert_eq!(
        to("利用者同士で話した。", Audience::Family),
        "利用者の方同士で話しました。"
    );
    if has_analyser() {
        assert_eq!(
            to("担当の鈴木が家族に電話をした。", Audience::Family),
            "担当の職員が家族に電話をしました。"
        );
    }
}
