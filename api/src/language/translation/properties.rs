//! Property tests of the invariants (proptest): records composed of real phrases with
//! generated numbers, dates, times, quotations, other users and names, rendered for every
//! audience. The assertions are made from the generated parts, not with the pipeline's own
//! check, so a bug in the check cannot hide a bug in a rule.

use proptest::prelude::*;

use super::{Audience, Glossary, Options, invariants, render, render_with};

const OTHERS: [&str; 8] = [
    "相手の利用者",
    "他の利用者",
    "別の利用者",
    "同室の利用者",
    "他利用者",
    "隣の席の利用者",
    "同じグループの利用者",
    "周りの利用者",
];
const QUOTES: [&str; 6] = [
    "「帰りたい」",
    "「もう嫌だ」",
    "「楽しかった」",
    "「お茶が飲みたい」",
    "「明日も来る」",
    "「痛い」",
];
const ACTS: [&str; 6] = [
    "に噛みつきがあった",
    "を叩いた",
    "の髪を引っ張った",
    "と口論になった",
    "に話しかけた",
    "の隣に座った",
];

/// One generated record and what it must keep.
#[derive(Debug, Clone)]
pub(super) struct Case {
    pub text: String,
    /// Other people's names in it (Bさん …): gone for the family and the client.
    pub names: Vec<String>,
    /// Whether it mentions the client (本人).
    pub client: bool,
}

fn phrase() -> impl Strategy<Value = (String, Option<String>, bool)> {
    let time = (1u32..12, 0u32..60).prop_map(|(h, m)| format!("{h}時{m}分"));
    let date = (1u32..13, 1u32..29).prop_map(|(m, d)| format!("{m}月{d}日"));
    let clock = (8u32..18, 0u32..60).prop_map(|(h, m)| format!("{h}:{m:02}"));
    let when = prop_oneof![time, date, clock];
    let letter = prop::sample::select(vec!['B', 'C', 'D', 'E', 'F', 'G', 'H']);
    let honorific = prop::sample::select(vec!["さん", "君", "氏"]);
    prop_oneof![
        (
            when.clone(),
            prop::sample::select(OTHERS.to_vec()),
            prop::sample::select(ACTS.to_vec())
        )
            .prop_map(|(w, o, a)| (format!("{w}、{o}{a}。"), None, false)),
        (
            when.clone(),
            letter.clone(),
            honorific.clone(),
            prop::sample::select(ACTS.to_vec())
        )
            .prop_map(|(w, l, h, a)| {
                let name = format!("{l}{h}");
                (format!("{w}、利用者{name}{a}。"), Some(name), false)
            }),
        (letter, honorific, prop::sample::select(QUOTES.to_vec())).prop_map(|(l, h, q)| {
            let name = format!("{l}{h}");
            (format!("{name}が{q}と言った。"), Some(name), false)
        }),
        (prop::sample::select(QUOTES.to_vec()), 1u32..60).prop_map(|(q, n)| (
            format!("本人は{q}と話し、{n}分休憩した。"),
            None,
            true
        )),
        (when.clone(), 1u32..4).prop_map(|(w, n)| (
            format!("{w}に頓服を{n}錠服薬した。"),
            None,
            false
        )),
        (1u32..10, 1u32..5).prop_map(|(n, k)| (
            format!("作業中に{n}回離席し、{k}人で片付けをした。"),
            None,
            false
        )),
        (when, 1u32..3).prop_map(|(w, n)| (
            format!("{w}、グループホーム世話人より{n}回連絡があった。"),
            None,
            false
        )),
        Just(("他害行為（噛みつき）があった。".to_owned(), None, false)),
        Just(("相手の利用者にけがはなかった。".to_owned(), None, false)),
    ]
}

pub(super) fn case() -> impl Strategy<Value = Case> {
    prop::collection::vec(phrase(), 1..4).prop_map(|parts| {
        let mut c = Case {
            text: String::new(),
            names: Vec::new(),
            client: false,
        };
        for (text, name, client) in parts {
            c.text.push_str(&text);
            c.names.extend(name);
            c.client |= client;
        }
        c
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn renderings_keep_numbers_quotes_persons_and_acts(c in case()) {
        let g = Glossary::shipped().map_err(|e| TestCaseError::fail(e.to_owned()))?;
        // With the analyser and in the degraded mode without it.
        let analysers = [crate::language::analysis::get(), None];
        for (a, analyser) in Audience::ALL.into_iter().flat_map(|a| analysers.map(|x| (a, x))) {
            let r = render_with(&c.text, a, g, analyser, &Options::default());
            let folded = crate::language::text::fold(&r.text);
            for n in invariants::numbers(&c.text) {
                prop_assert!(folded.contains(&n), "{a:?} lost {n}: {} → {}", c.text, r.text);
            }
            for q in invariants::quotes(&c.text) {
                prop_assert!(r.text.contains(&q), "{a:?} changed {q}: {}", r.text);
            }
            prop_assert_eq!(invariants::acts(&c.text), invariants::acts(&r.text), "{:?}: {}", a, r.text);
            if matches!(a, Audience::Family | Audience::ClientEasy) {
                for n in &c.names {
                    prop_assert!(!r.text.contains(n.as_str()), "{a:?} shows {n}: {}", r.text);
                }
                if !c.client {
                    prop_assert!(
                        !r.text.contains("本人") && !r.text.contains("あなた"),
                        "{a:?} made someone the client: {} → {}", c.text, r.text
                    );
                }
            } else {
                // Other audiences keep names as written.
                for n in &c.names {
                    prop_assert!(r.text.contains(n.as_str()), "{a:?} lost {n}: {}", r.text);
                }
            }
            if a == Audience::ClientEasy {
                let joined: String = r.segments.iter().map(|s| s.text.as_str()).collect();
                prop_assert_eq!(joined, r.text.clone());
            }
        }
    }

    /// Any text at all (broken brackets, mixed scripts, lone marks) renders without a panic, and
    /// the easy rendering's pieces still make up its text.
    #[test]
    fn any_text_renders_without_panic(text in "[「」（）()、。！？\\n ａ-ｚA-Z0-9０-９ぁ-ゖァ-ヺ一-龥々ー:：/]{0,60}") {
        let g = Glossary::shipped().map_err(|e| TestCaseError::fail(e.to_owned()))?;
        for a in Audience::ALL {
            let r = render(&text, a, g);
            if a == Audience::ClientEasy {
                let joined: String = r.segments.iter().map(|s| s.text.as_str()).collect();
                prop_assert_eq!(joined, r.text.clone());
            }
        }
    }
}
