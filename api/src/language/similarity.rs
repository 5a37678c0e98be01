//! How alike two goal texts are, for the alignment map between a service-use plan and the
//! individual plans that follow it. Character bigrams (Dice coefficient) suit Japanese, which has
//! no spaces, and are explainable: the score is the share of two-character pieces they share.

use std::collections::HashMap;

use super::text::fold;

/// The score at or above which two goals count as counterparts. Low on purpose: paraphrased
/// goals share few pieces (予定変更の前日予告… and 作業変更は前日の終礼で予告… score 0.18),
/// and every pairing is shown with its score.
pub const COUNTERPART: f64 = 0.15;

/// A text's bigram counts, computed once when compared many times.
#[derive(Debug, Clone, Default)]
pub struct Profile(HashMap<(char, char), usize>);

impl Profile {
    pub fn of(text: &str) -> Self {
        Self(bigrams(text))
    }

    /// Dice coefficient against another profile.
    pub fn similarity(&self, other: &Profile) -> f64 {
        dice(&self.0, &other.0)
    }
}

fn bigrams(text: &str) -> HashMap<(char, char), usize> {
    let chars: Vec<char> = fold(text).chars().filter(|c| c.is_alphanumeric()).collect();
    let mut out = HashMap::new();
    for w in chars.windows(2) {
        *out.entry((w[0], w[1])).or_insert(0) += 1;
    }
    out
}

/// Dice coefficient of the character bigrams of `a` and `b`, from 0 (nothing shared) to 1.
pub fn similarity(a: &str, b: &str) -> f64 {
    dice(&bigrams(a), &bigrams(b))
}

fn dice(x: &HashMap<(char, char), usize>, y: &HashMap<(char, char), usize>) -> f64 {
    let total: usize = x.values().sum::<usize>() + y.values().sum::<usize>();
    if total == 0 {
        return 0.0;
    }
    let shared: usize = x
        .iter()
        .map(|(k, n)| (*n).min(*y.get(k).unwrap_or(&0)))
        .sum();
    2.0 * shared as f64 / total as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn related_goals_score_above_the_threshold_and_unrelated_below() {
        let sup = "一人でバスに乗って通所できるようになる";
        assert!(similarity(sup, "バスに一人で乗って通所する練習をする") >= COUNTERPART);
        assert!(similarity(sup, "昼食を残さず食べる") < COUNTERPART);
        assert_eq!(similarity("同じ", "同じ"), 1.0);
        assert_eq!(similarity("", "x"), 0.0);
    }
}
