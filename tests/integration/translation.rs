//! The translation invariants through the GraphQL API (情報の翻訳): generated records (numbers,
//! dates, times, quotations, other users, names combined with real phrases) sent to
//! `translateText` for every audience; numbers, dates and quotations survive, other people's
//! names never reach the family or the client, nobody becomes the client, and every sentence
//! carries its kept-as-written mark. Runs on SQLite and, with `TEST_DATABASE_URL`, PostgreSQL.

use proptest::{
    prelude::*,
    test_runner::{Config, TestCaseError, TestRunner},
};
use serde_json::{Value, json};

use crate::helpers::TestApp;

const AUDIENCES: [&str; 6] = [
    "SUPPORT",
    "RECORD",
    "PLAN",
    "ADMINISTRATION",
    "FAMILY",
    "CLIENT_EASY",
];

const QUERY: &str = "query($t: String!) { \
    SUPPORT: translateText(text: $t, audience: SUPPORT) { ...r } \
    RECORD: translateText(text: $t, audience: RECORD) { ...r } \
    PLAN: translateText(text: $t, audience: PLAN) { ...r } \
    ADMINISTRATION: translateText(text: $t, audience: ADMINISTRATION) { ...r } \
    FAMILY: translateText(text: $t, audience: FAMILY) { ...r } \
    CLIENT_EASY: translateText(text: $t, audience: CLIENT_EASY) { ...r } } \
    fragment r on Rendering { text keptAsWritten ruby { text } \
    sentences { source text keptAsWritten reasonCode reason } }";

#[derive(Debug, Clone)]
struct Case {
    text: String,
    /// What must survive as written: numbers with counters, dates, times, quotations.
    kept: Vec<String>,
    /// Other people's names.
    names: Vec<String>,
    client: bool,
}

fn phrase() -> impl Strategy<Value = Case> {
    let when = prop_oneof![
        (1u32..13, 1u32..29).prop_map(|(m, d)| format!("{m}月{d}日")),
        (8u32..18, 0u32..60).prop_map(|(h, m)| format!("{h}:{m:02}")),
        (1u32..12, 1u32..60).prop_map(|(h, m)| format!("{h}時{m}分")),
    ];
    let other = prop::sample::select(vec![
        "相手の利用者",
        "他の利用者",
        "別の利用者",
        "同室の利用者",
        "他利用者",
    ]);
    let act = prop::sample::select(vec![
        "に噛みつきがあった",
        "と口論になった",
        "に話しかけた",
        "の隣に座った",
    ]);
    let quote = prop::sample::select(vec!["「帰りたい」", "「楽しかった」", "「もう嫌だ」"]);
    let name = (
        prop::sample::select(vec!['B', 'C', 'D', 'E']),
        prop::sample::select(vec!["さん", "君", "氏"]),
    )
        .prop_map(|(l, h)| format!("{l}{h}"));
    prop_oneof![
        (when.clone(), other, act.clone()).prop_map(|(w, o, a)| Case {
            text: format!("{w}、{o}{a}。"),
            kept: vec![w],
            names: vec![],
            client: false,
        }),
        (when.clone(), name.clone(), act).prop_map(|(w, n, a)| Case {
            text: format!("{w}、利用者{n}{a}。"),
            kept: vec![w],
            names: vec![n],
            client: false,
        }),
        (quote.clone(), 1u32..60).prop_map(|(q, m)| Case {
            text: format!("本人は{q}と話し、{m}分休憩した。"),
            kept: vec![q.to_owned(), format!("{m}分")],
            names: vec![],
            client: true,
        }),
        (when, 1u32..4).prop_map(|(w, n)| Case {
            text: format!("{w}に頓服を{n}錠服薬した。"),
            kept: vec![w, format!("{n}錠")],
            names: vec![],
            client: false,
        }),
        (name, quote).prop_map(|(n, q)| Case {
            text: format!("{n}が{q}と言った。"),
            kept: vec![q.to_owned()],
            names: vec![n],
            client: false,
        }),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    prop::collection::vec(phrase(), 1..4).prop_map(|parts| {
        parts.into_iter().fold(
            Case {
                text: String::new(),
                kept: vec![],
                names: vec![],
                client: false,
            },
            |mut acc, p| {
                acc.text.push_str(&p.text);
                acc.kept.extend(p.kept);
                acc.names.extend(p.names);
                acc.client |= p.client;
                acc
            },
        )
    })
}

fn check(case: &Case, body: &Value) -> Result<(), TestCaseError> {
    let data = &body["data"];
    prop_assert!(body["errors"].is_null(), "{body}");
    for a in AUDIENCES {
        let r = &data[a];
        let text = r["text"].as_str().unwrap_or_default();
        let private = matches!(a, "FAMILY" | "CLIENT_EASY");
        for k in &case.kept {
            // A quotation with a name in it loses the name for the family and the client.
            if private && case.names.iter().any(|n| k.contains(n.as_str())) {
                continue;
            }
            prop_assert!(
                text.contains(k.as_str()),
                "{a} lost {k}: {} → {text}",
                case.text
            );
        }
        if private {
            for n in &case.names {
                prop_assert!(!text.contains(n.as_str()), "{a} shows {n}: {text}");
            }
            if !case.client {
                prop_assert!(
                    !text.contains("本人") && !text.contains("あなた"),
                    "{a} made someone the client: {} → {text}",
                    case.text
                );
            }
        }
        let sentences = r["sentences"].as_array().cloned().unwrap_or_default();
        prop_assert!(!sentences.is_empty(), "{a}: {r}");
        let any_kept = sentences.iter().any(|s| s["keptAsWritten"] == true);
        prop_assert_eq!(r["keptAsWritten"].as_bool(), Some(any_kept));
        for s in &sentences {
            let kept = s["keptAsWritten"] == true;
            prop_assert_eq!(kept, s["reasonCode"].is_string(), "{}", s);
        }
        if a == "CLIENT_EASY" {
            let joined: String = r["ruby"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["text"].as_str())
                .collect();
            prop_assert_eq!(joined.as_str(), text);
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_records_keep_their_facts_through_the_api_for_every_audience() {
    let app = TestApp::spawn().await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let handle = tokio::runtime::Handle::current();
    let result = tokio::task::block_in_place(|| {
        runner.run(&case(), |c| {
            let body = handle.block_on(app.gql(Some(&staff), QUERY, json!({ "t": c.text })));
            check(&c, &body)
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }

    // The issue's own example.
    let body = app
        .gql(
            Some(&staff),
            QUERY,
            json!({ "t": "相手の利用者にけがはなかった。" }),
        )
        .await;
    assert_eq!(
        body["data"]["FAMILY"]["text"], "他のご利用者にけがはありませんでした。",
        "{body}"
    );
    assert_eq!(
        body["data"]["CLIENT_EASY"]["text"], "ほかの利用者にけがはありませんでした。",
        "{body}"
    );

    // The client's name is the client; any other name is removed.
    let named = app
        .gql(
            Some(&staff),
            "query($t: String!, $c: String) { translateText(text: $t, audience: FAMILY, clientName: $c) { text keptAsWritten } }",
            json!({ "t": "山田さんとBさんが話した。", "c": "山田 太郎" }),
        )
        .await;
    assert_eq!(
        named["data"]["translateText"]["text"], "ご本人と他の方が話しました。",
        "{named}"
    );
    assert_eq!(named["data"]["translateText"]["keptAsWritten"], false);

    // An organization's wording that would name another act: that sentence is kept as written
    // and says why; the other sentence is rendered.
    let (manager, _) = app.login("manager@himawari.example").await;
    let set = app
        .gql(
            Some(&manager),
            "mutation($i: SetGlossaryEntryInput!) { setGlossaryEntry(input: $i) { entry { term } } }",
            json!({ "i": { "term": "噛みつき", "reading": "かみつき",
                "wordings": [{ "audience": "FAMILY", "wording": "たたくこと" }] } }),
        )
        .await;
    assert!(set["errors"].is_null(), "{set}");
    let kept = app
        .gql(
            Some(&staff),
            QUERY,
            json!({ "t": "作業中に噛みつきがあった。昼食は完食した。" }),
        )
        .await;
    let family = &kept["data"]["FAMILY"];
    assert_eq!(family["keptAsWritten"], true, "{kept}");
    assert_eq!(family["sentences"][0]["text"], "作業中に噛みつきがあった。");
    assert_eq!(family["sentences"][0]["reasonCode"], "ACT_CHANGED");
    assert_eq!(family["sentences"][1]["keptAsWritten"], false);
    assert!(
        family["text"]
            .as_str()
            .unwrap()
            .contains("作業中に噛みつきがあった。")
    );
}
