//! `bench language`: throughput of the fact check and the translation on the shipped labelled
//! sentences (pure CPU, one core): what a `checkRecordText` or a page of `factCheck` fields costs.

use std::time::{Duration, Instant};

use kakehashi::language::{
    fact_check::{self, Mode},
    lexicon::Lexicon,
    translation::{self, Audience, Glossary},
};

const SETS: [&str; 2] = [
    include_str!("../../api/data/fact_check/dev.tsv"),
    include_str!("../../api/data/fact_check/holdout.tsv"),
];

fn sentences() -> Vec<(Mode, &'static str)> {
    SETS.iter()
        .flat_map(|tsv| tsv.lines().skip(1))
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            let mode = if cols.first() == Some(&"PLAN") {
                Mode::Plan
            } else {
                Mode::Record
            };
            cols.get(3).map(|t| (mode, *t))
        })
        .collect()
}

fn report(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let total: Duration = times.iter().sum();
    println!(
        "{name}: {} calls, {:.0} per second, p50 {:?}, p99 {:?}",
        times.len(),
        times.len() as f64 / total.as_secs_f64(),
        super::percentile(&times, 0.5),
        super::percentile(&times, 0.99),
    );
}

pub(crate) fn run(rounds: usize) -> anyhow::Result<()> {
    let lexicon = Lexicon::builtin().map_err(|e| anyhow::anyhow!(e))?;
    let glossary = Glossary::shipped().map_err(|e| anyhow::anyhow!(e))?;
    let list = sentences();
    let mut check = Vec::with_capacity(list.len() * rounds);
    let mut render = Vec::with_capacity(list.len() * rounds);
    let mut findings = 0;
    for _ in 0..rounds {
        for (mode, text) in &list {
            let t = Instant::now();
            findings += fact_check::check(text, *mode, lexicon, None).findings.len();
            check.push(t.elapsed());
            let t = Instant::now();
            let r = translation::render(text, Audience::ClientEasy, glossary);
            render.push(t.elapsed());
            std::hint::black_box(r);
        }
    }
    println!(
        "{} sentences x {rounds} rounds ({findings} findings)",
        list.len()
    );
    report("fact check, one sentence", check);
    report("CLIENT_EASY rendering, one sentence", render);
    Ok(())
}
