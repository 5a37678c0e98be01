//! The quality bar on the labelled sets, as `kakehashi language eval` measures it.

use super::tests::lex;
use crate::language::{analysis::tests::analyzer, quality};

/// The quality bar on the labelled sets (`kakehashi language eval` prints the same figures).
/// The sets the rules were tuned on must meet the target (0.95). A held-out set, never read
/// while tuning, is guarded at the level first measured (BENCHMARKS.md), so its figure cannot
/// silently drop; raising a floor is a deliberate edit here.
#[test]
fn precision_and_recall_on_the_labelled_sets_meet_the_bar() {
    if analyzer().is_none() {
        return;
    }
    // (precision, recall) floors for the held-out sets as measured, RECORD then PLAN: they
    // are below the bar, and must not fall further.
    let holdout_floor = |name: &str| -> [(f64, f64); 2] {
        match name {
            // Round 12 (an act "as usual" or a guessed cause no longer clears) let one of its
            // flags go: recall 0.993 → 0.985.
            "holdout" => [(0.93, 0.98), (0.96, 0.99)],
            "holdout3" => [(0.99, 0.95), (1.0, 1.0)],
            "holdout4" => [(0.95, 0.96), (0.96, 1.0)],
            "holdout10" => [(0.94, 0.92), (1.0, 0.93)],
            "holdout11" => [(0.99, 0.90), (0.96, 1.0)],
            "holdout14" => [(0.94, 0.91), (0.96, 1.0)],
            // Round 10 flagged one more of its facts: precision 0.991 → 0.982.
            "holdout15" => [(0.98, 0.91), (1.0, 1.0)],
            "holdout18" => [(0.89, 0.90), (1.0, 0.93)],
            // Round 8 (how often shows the will to act) cleared one of its flags: 0.925 → 0.917.
            "holdout19" => [(0.96, 0.91), (1.0, 1.0)],
            "holdout20" => [(0.91, 0.88), (0.93, 0.93)],
            // Round 16 flagged one more of its facts: precision 0.965 → 0.957.
            "holdout21" => [(0.95, 0.90), (1.0, 0.93)],
            "holdout22" => [(0.96, 0.93), (1.0, 1.0)],
            "holdout25" => [(0.95, 0.94), (0.96, 1.0)],
            "holdout26" => [(0.94, 0.93), (1.0, 1.0)],
            "holdout28" => [(0.96, 0.96), (0.96, 0.90)],
            "holdout30" => [(0.97, 0.95), (1.0, 0.96)],
            "holdout31" => [(0.95, 0.97), (0.93, 1.0)],
            "holdout32" => [(0.96, 0.94), (1.0, 0.93)],
            // Round 14 flagged one more of its facts: precision 0.983 → 0.974.
            "holdout35" => [(0.97, 0.95), (0.96, 1.0)],
            "holdout36" => [(0.98, 0.93), (1.0, 0.93)],
            "holdout37" => [(0.96, 0.94), (1.0, 0.93)],
            "holdout38" => [(0.95, 0.97), (1.0, 0.83)],
            "holdout39" => [(0.99, 0.96), (1.0, 0.93)],
            // Round 13 let one of its flags go (recall 0.925 → 0.917) and round 14 flagged one
            // more of its facts (precision 0.965 → 0.957).
            "holdout40" => [(0.95, 0.91), (0.96, 0.96)],
            "holdout41" => [(0.98, 0.96), (0.96, 0.96)],
            "holdout42" => [(0.94, 0.98), (0.90, 0.96)],
            "holdout45" => [(0.94, 0.94), (0.96, 1.0)],
            "holdout46" => [(0.92, 0.98), (0.90, 0.93)],
            "holdout47" => [(0.97, 0.97), (0.96, 0.93)],
            "holdout49" => [(0.97, 0.96), (0.90, 1.0)],
            "holdout51" => [(0.98, 0.94), (0.96, 0.96)],
            "holdout52" => [(0.92, 0.94), (0.96, 1.0)],
            // Round 16 let one of its flags go: recall 0.933 → 0.925.
            "holdout53" => [(0.96, 0.92), (0.96, 0.96)],
            // Round 16 flagged one more of its facts: precision 0.983 → 0.975.
            "holdout56" => [(0.97, 0.96), (1.0, 0.90)],
            "holdout57" => [(0.98, 0.97), (0.96, 0.96)],
            "holdout58" => [(0.97, 0.97), (0.93, 1.0)],
            "holdout61" => [(0.98, 0.94), (0.93, 0.93)],
            "holdout63" => [(0.95, 0.96), (0.93, 0.96)],
            "holdout65" => [(0.92, 0.96), (0.90, 0.90)],
            "holdout66" => [(0.97, 0.92), (1.0, 1.0)],
            other => panic!("no floor for held-out set {other}"),
        }
    };
    let mut failures = Vec::new();
    for (name, tsv, tuned) in quality::SHIPPED {
        let s = quality::score(tsv, lex()).expect("labelled set");
        for (i, (kind, c, n)) in [("RECORD", s.record, 200), ("PLAN", s.plan, 40)]
            .into_iter()
            .enumerate()
        {
            println!(
                "{name} {kind}: n={} precision {:.3} recall {:.3}",
                c.total(),
                c.precision(),
                c.recall()
            );
            let (p, r) = if tuned {
                (quality::TARGET, quality::TARGET)
            } else {
                holdout_floor(name)[i]
            };
            if c.total() < n || c.precision() < p || c.recall() < r {
                failures.push(format!("{name} {kind}: {c:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
