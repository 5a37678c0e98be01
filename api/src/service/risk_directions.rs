//! Directions for the next month (次の1ヶ月の方向) from what the records show: open risk signs
//! (meals reduced several days running, weight loss, records filed as risk signs) and goals the
//! period's counts leave unmet or at their limit. Each direction cites the records behind it;
//! the plan's goal text alone is no direction.
//!
//! Pure over observations already read and authorized by the caller.

use std::sync::LazyLock;

use chrono::{Duration, NaiveDate};
use entity::observation::{self, ObservationCategory};
use regex::Regex;
use uuid::Uuid;

use super::{access::jst_day, evidence};
use crate::language::evidence::{Direction, Outcome, Polarity, Standing, Target, concept};

/// A drafted point: text and the observations it rests on.
#[derive(Debug, Clone)]
pub struct DraftPoint {
    pub text: String,
    pub observation_ids: Vec<Uuid>,
}

/// A weight loss with its amount: 体重が2.3kg減った, 体重 −2.3kg, 体重▲1.5キロ.
static WEIGHT_LOSS: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(
        r"体重[^。]{0,15}?(?:(?:[-−－▲]|マイナス)\s*([0-9]+(?:\.[0-9]+)?)\s*(?:kg|キロ)|([0-9]+(?:\.[0-9]+)?)\s*(?:kg|キロ)(?:ほど|程度|も)?\s*(?:減|落ち|の減少|ダウン))",
    )
});

/// A weight from one value to a lower one: 体重 52.0kg→49.7kg, 体重が52.0kgから49.7kgに.
static WEIGHT_FROM_TO: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(
        r"体重[^。]{0,10}?([0-9]+(?:\.[0-9]+)?)\s*(?:kg|キロ)?\s*(?:→|->|から)\s*([0-9]+(?:\.[0-9]+)?)\s*(?:kg|キロ)",
    )
});

/// The kilograms a record says the client lost, as written (2.3).
pub fn weight_loss(fact: &str) -> Option<String> {
    let folded = crate::language::text::fold(fact);
    if let Some(c) = WEIGHT_LOSS.captures(&folded) {
        return Some(c.get(1).or_else(|| c.get(2))?.as_str().to_owned());
    }
    let c = WEIGHT_FROM_TO.captures(&folded)?;
    let before: f64 = c.get(1)?.as_str().parse().ok()?;
    let after: f64 = c.get(2)?.as_str().parse().ok()?;
    (before > after).then(|| format!("{:.1}", before - after))
}

fn short(text: &str, max: usize) -> String {
    let t: String = text.chars().take(max).collect();
    if text.chars().count() > max {
        format!("{t}…")
    } else {
        t
    }
}

/// Days whose meal records say the meal was reduced (一部残した・食べなかった), and the records.
fn reduced_meal_days(records: &[observation::Model]) -> Vec<(NaiveDate, bool, Vec<Uuid>)> {
    let Some(meal) = concept("meal") else {
        return Vec::new();
    };
    let target = Target {
        concept: Some(meal),
        words: Vec::new(),
        label: meal.label.to_owned(),
    };
    // (day, reduced, records) per day with a meal record, oldest first.
    let mut days: Vec<(NaiveDate, bool, Vec<Uuid>)> = Vec::new();
    let mut sorted: Vec<&observation::Model> = records.iter().collect();
    sorted.sort_by_key(|o| o.occurred_from);
    for o in sorted {
        let j = evidence::judge(o, &target);
        if j.polarity == Polarity::Unrelated {
            continue;
        }
        let reduced = matches!(j.outcome, Some(Outcome::Partial | Outcome::None));
        let day = jst_day(o.occurred_from);
        match days.last_mut() {
            Some((d, r, ids)) if *d == day => {
                *r |= reduced;
                ids.push(o.id);
            }
            _ => days.push((day, reduced, vec![o.id])),
        }
    }
    days
}

/// The latest run of consecutive days with reduced meals.
type Run = (NaiveDate, NaiveDate, usize, Vec<Uuid>);

fn latest_reduced_run(days: &[(NaiveDate, bool, Vec<Uuid>)]) -> Option<Run> {
    let mut best: Option<Run> = None;
    let mut run: Option<Run> = None;
    for (day, reduced, ids) in days {
        if !reduced {
            run = None;
            continue;
        }
        run = match run.take() {
            Some((first, last, n, mut all)) if *day == last + Duration::days(1) => {
                all.extend(ids);
                Some((first, *day, n + 1, all))
            }
            _ => Some((*day, *day, 1, ids.clone())),
        };
        // Runs come oldest first, so the last one long enough is the latest.
        if let Some(r) = &run
            && r.2 >= REDUCED_MEAL_RUN
        {
            best = Some(r.clone());
        }
    }
    best
}

/// Consecutive days of reduced meals that make a risk to plan for.
const REDUCED_MEAL_RUN: usize = 3;

/// Directions from risk signs and unmet goals, most pressing first.
pub fn directions(
    records: &[observation::Model],
    goals: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<DraftPoint> {
    let mut out: Vec<DraftPoint> = Vec::new();
    let mut used: Vec<Uuid> = Vec::new();

    if let Some((first, last, n, ids)) = latest_reduced_run(&reduced_meal_days(records)) {
        out.push(DraftPoint {
            text: format!(
                "次の1ヶ月: 食事量の低下への対応（{}〜{}の{n}日続けて、食事を残したか食べなかった）。毎食の摂取量を記録し、体調と受診の要否を家族・相談支援専門員と確認する",
                first.format("%-m/%-d"),
                last.format("%-m/%-d")
            ),
            observation_ids: ids.iter().take(20).copied().collect(),
        });
        used.extend(ids);
    }

    let mut weight: Vec<(&observation::Model, String)> = records
        .iter()
        .filter_map(|o| weight_loss(&o.fact).map(|kg| (o, kg)))
        .collect();
    weight.sort_by_key(|(o, _)| std::cmp::Reverse(o.occurred_from));
    if let Some((o, kg)) = weight.first() {
        out.push(DraftPoint {
            text: format!(
                "次の1ヶ月: 体重の減少への対応（{} 体重 −{kg}kg）。週1回同じ時間に体重を測って記録し、医療機関への相談を家族と決める",
                super::jst_month_day(o.occurred_from)
            ),
            observation_ids: weight.iter().take(20).map(|(o, _)| o.id).collect(),
        });
        used.extend(weight.iter().map(|(o, _)| o.id));
    }

    // Goals whose counts in the period are over or at the limit, or short of the minimum.
    let refs: Vec<&observation::Model> = records.iter().collect();
    for goal in goals {
        let Some(e) = evidence::for_goal(&[goal.as_str()], &refs, from, to) else {
            continue;
        };
        let Some(t) = e
            .tallies
            .iter()
            .rev()
            .find(|t| matches!(t.standing, Standing::NotMet | Standing::AtLimit))
        else {
            continue;
        };
        let action = match (e.spec.direction, t.standing) {
            (Direction::AtMost, Standing::AtLimit) => {
                "上限に達しているため、起きた場面と直前のきっかけを記録し、予防の手立てを事業所間で揃える"
            }
            (Direction::AtMost, _) => {
                "目標を超えているため、起きた場面と直前のきっかけを記録し、支援の方法を見直す"
            }
            _ => "目標に届いていないため、できた日とできなかった日の条件を記録し、支援を揃える",
        };
        let ids: Vec<Uuid> = t.counted.iter().chain(&t.other).copied().collect();
        used.extend(ids.iter().copied());
        out.push(DraftPoint {
            text: format!(
                "次の1ヶ月: 「{}」は{}。{action}",
                short(goal, 60),
                t.summary
            ),
            observation_ids: ids.into_iter().take(20).collect(),
        });
    }

    // Records filed as risk signs that no direction above covers yet.
    for o in records
        .iter()
        .filter(|o| o.category == ObservationCategory::RiskSign && !used.contains(&o.id))
        .take(2)
    {
        out.push(DraftPoint {
            text: format!(
                "次の1ヶ月: リスクの兆し（{} {}）の経過を記録し、対応を決める",
                super::jst_month_day(o.occurred_from),
                short(&o.fact, 60)
            ),
            observation_ids: vec![o.id],
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::weight_loss;

    #[test]
    fn a_weight_loss_is_read_in_the_forms_records_use() {
        for (fact, kg) in [
            ("体重測定 48.2kg(前月比 −2.3kg)。", Some("2.3")),
            ("体重が先月より1.5kg減った。", Some("1.5")),
            ("体重▲２キロ。", Some("2")),
            ("体重 52.0kg→49.7kg。", Some("2.3")),
            ("体重が50.1kgから51.0kgに増えた。", None),
            ("体重 50.1kg(前月と同じ)。", None),
            ("昼食を半分残した。", None),
        ] {
            assert_eq!(weight_loss(fact).as_deref(), kg, "{fact}");
        }
    }
}
