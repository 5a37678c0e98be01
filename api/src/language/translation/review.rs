//! Renderings printed for a person to review (ignored tests, run with `--include-ignored
//! --nocapture`; `KAKEHASHI_PRINT_FILE` names a file of records, one per line).

use super::{glossary::is_kanji, *};

fn shipped() -> &'static Glossary {
    Glossary::shipped().expect("glossary")
}

#[test]
#[ignore = "prints renderings for review"]
fn print_renderings() {
    let from_file = std::env::var("KAKEHASHI_PRINT_FILE")
        .ok()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    let lines: Vec<&str> = from_file.lines().filter(|l| !l.trim().is_empty()).collect();
    let defaults = [
        "相手の利用者にけがはなかった。",
        "利用者Bさんに噛みつきがあり、大声を出し、床に座り込んだ。",
        "他害行為（噛みつき）があった。",
        "グループホーム世話人より連絡があった。",
        "頓服（1錠）を服薬した。",
        "10時に来所し、支援員が作業室へ誘導した。管理者に報告済み。",
    ];
    let texts: Vec<&str> = if lines.is_empty() {
        defaults.to_vec()
    } else {
        lines
    };
    for text in texts {
        for a in [
            Audience::Family,
            Audience::ClientEasy,
            Audience::Administration,
        ] {
            let r = render(text, a, shipped());
            println!(
                "{a:?}\t{text}\t{}\t{:?}",
                r.text,
                r.sentences
                    .iter()
                    .map(|s| &s.kept_as_written)
                    .collect::<Vec<_>>()
            );
        }
    }
}

#[test]
#[ignore = "prints easy-Japanese words with kanji but no reading, for review"]
fn print_kanji_without_furigana() {
    let set = regression::parse(regression::SHIPPED).expect("set");
    let (mut with, mut without) = (0, 0);
    for r in &set.record {
        let out = render(&r.text, Audience::ClientEasy, shipped());
        for s in &out.segments {
            if s.text.chars().any(is_kanji) {
                if s.reading.is_some() {
                    with += 1;
                } else {
                    without += 1;
                    println!("NO READING {} in {}", s.text, out.text);
                }
            }
        }
    }
    println!("kanji pieces with furigana: {with}/{}", with + without);
}
