//! The record rules: interpretations need evidence of their own state nearby.

use std::{ops::Range, sync::LazyLock};

use regex::Regex;

use super::{
    RawFinding, RawReport, Sentence, Wanted,
    claim::{Claim, group},
    clauses::Join,
    direction,
    evidence::{COUNT, Found, evidence},
};
use crate::language::{
    lexicon::{AnchorKind, Lexicon, OrganizationLexicon, States, Term, TermKind},
    text::overlaps,
};

/// Claims of change (増えてきた, 慣れつつある, 上達した): a count of the thing clears them.
static CHANGE: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(
        "^[^、。]{0,8}?(?:てき|つつあ|増え|増加|減っ|減り|減少|上が|下が|高ま|低下|向上|改善|悪化|定着|になってき|ようにな[っりる]|上達|成長|進歩|後退|伸び)",
    )
});

/// Whether a claim speaks of a change (高まってきている, できるようになってきた, 上達した): read
/// from the last character of each of its words, so that the word itself (上達) and what
/// follows it (落ち着いて|きた) both count.
fn claims_change(s: &str, claim: &Claim) -> bool {
    claim.parts.iter().any(|(r, _)| {
        let last = s[..r.end].char_indices().last().map_or(r.end, |(i, _)| i);
        CHANGE.is_match(&s[r.start..]) || CHANGE.is_match(&s[last..])
    })
}

/// Whether a count follows the claim at `end` directly (体調不良2日, パニック3回).
fn counted_right_after(s: &str, end: usize) -> bool {
    let rest: String = s[end..].chars().take(6).collect();
    COUNT.find(&rest).is_some_and(|m| {
        let gap = &rest[..m.start()];
        // Only the rest of the same compound noun may stand between (不良 in 体調不良2日).
        gap.chars().count() <= 3
            && gap
                .chars()
                .all(|c| matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{30a0}'..='\u{30ff}'))
            && !matches!(m.as_str(), "一日" | "1日")
    })
}

pub(super) fn check(
    sentence: &Sentence,
    lexicon: &Lexicon,
    own: Option<&OrganizationLexicon>,
) -> RawReport {
    let s = sentence.s;
    let matches = term_matches(sentence, lexicon, own);
    let mut claims = group(sentence, lexicon, matches);
    for c in &mut claims {
        c.valence = direction::of_claim(sentence, c);
    }
    let evidence = evidence(sentence, lexicon, own, &claims);

    // `RUST_LOG=kakehashi::language::fact_check=trace` shows why a sentence was flagged.
    if tracing::enabled!(tracing::Level::TRACE) {
        for c in &claims {
            tracing::trace!(
                "claim {:?} states {:?} valence {:?} vague {}",
                c.parts
                    .iter()
                    .map(|(r, _)| &s[r.clone()])
                    .collect::<Vec<_>>(),
                c.states,
                c.valence,
                c.vague_amount
            );
        }
        for e in &evidence {
            tracing::trace!(
                "evidence {:?} clause {} states {:?} valence {:?}",
                &s[e.bytes.clone()],
                e.clause,
                e.states,
                e.valence
            );
        }
        tracing::trace!("clauses {:?}", sentence.clauses);
    }
    let mut out = RawReport::default();
    for claim in &claims {
        let clause = sentence.clause_of(claim.start());
        let change = !claim.vague_amount && claims_change(s, claim);
        let wanted = if claim.vague_amount {
            // 熱が高め、37.8℃ is measured; 体重が増えており、食べ過ぎの傾向 is not.
            let body = BODY.is_match(&s[sentence.clauses[clause].bytes.clone()]);
            Wanted {
                states: if body {
                    States::COUNT.union(States::MEASURE)
                } else {
                    States::COUNT
                },
                valence: None,
            }
        } else if change {
            // 増えてきた: a count of the thing clears it, whichever way it went. A claim that a
            // skill grew (できるようになってきた, 上達した) needs the count: the act alone
            // (自分で洗濯した) shows it can be done now, not that it changed. A measure of the
            // body counts only for a claim about health.
            let of = claim.states.without(States::SKILL).without(States::COUNT);
            let measured = if of.is_empty() || of == States::ANY || of.intersects(States::HEALTH) {
                States::MEASURE
            } else {
                States::default()
            };
            Wanted {
                states: claim
                    .states
                    .without(States::SKILL)
                    .union(States::COUNT)
                    .union(measured),
                valence: claim.valence,
            }
        } else {
            Wanted {
                states: claim.states,
                valence: claim.valence,
            }
        };
        let cleared = sentence.analysed
            && (
                // 体調不良2日, 不穏3回: the claim is counted where it stands.
                (!claim.vague_amount && counted_right_after(s, claim.end()))
                    // 先月の平均1:30が今月は23:45: a change measured against a baseline.
                    || (change && compared(sentence, &evidence).is_some())
                    || evidence.iter().any(|e| {
                        reaches(sentence, clause, e)
                            && wanted.met_by(&e.shows())
                            // 意欲が低下、1時間でタオルを8枚しか: output, or the time it took, is
                            // no count of motivation or attention (GUIDELINE rule 3).
                            && !(change
                                && claim.states.intersects(States::ENGAGEMENT)
                                && (e.states.contains(States::SKILL.union(States::COUNT))
                                    || (e.kind == AnchorKind::Number
                                        && s[e.bytes.end..].starts_with('で'))))
                            // ほぼ全量: the amount the vague word blurs is not its measure
                            // (いつもより20分早い is measured).
                            && !(e.bytes.start == claim.end()
                                && claim.parts.iter().any(|(_, t)| t.id == "mostly"))
                    })
            );
        if !cleared {
            // Beyond its own sentence a change needs evidence of the state that changed: a
            // count next door may count something else (短期入所初日。夕食全量。環境に慣れて
            // きている。).
            // A claim of no particular state is not cleared by a bare number there either
            // (レントゲン2枚撮影。痛みは軽減しているようだ。).
            let across = match claim.states.without(States::SKILL) {
                rest if change && rest == States::COUNT => Wanted {
                    states: States::BASELINE,
                    valence: claim.valence,
                },
                rest if change && rest.is_empty() => Wanted {
                    states: wanted.states.union(States::BASELINE),
                    valence: wanted.valence,
                },
                rest if change && !rest.is_empty() && rest != States::ANY => Wanted {
                    states: rest.without(States::COUNT).union(States::BASELINE),
                    valence: claim.valence,
                },
                _ if wanted.states == States::ANY => Wanted {
                    states: States::SPECIFIC,
                    valence: wanted.valence,
                },
                // A grade (計画的に, スムーズ) or a vague amount next to a number of something
                // else (残金2,340円。計画的に使えている。, 体重+1.5kg。食べ過ぎの傾向): only a
                // measure of how it was done (声かけ1回で, 15分で20枚) or counts against a
                // baseline tell a grade, and only a count an amount.
                _ if claim.vague_amount => Wanted {
                    states: States::COUNT,
                    valence: None,
                },
                _ if wanted.states == States::COUNT => Wanted {
                    states: States::BASELINE.union(States::SKILL),
                    valence: wanted.valence,
                },
                _ => wanted,
            };
            // Evidence may also open the next sentence, when nothing turns against the claim
            // in between (a contrast such as しかし starts no evidence: see `leading`).
            let next_sentence_clears = (sentence.analysed
                && clause + 1 == sentence.clauses.len()
                && !across.states.is_empty())
            .then_some(across);
            // Or close the sentence before, when this one does not turn against it and says
            // more than the judgement (`朝食全量。良好。`, `入眠22時。熟睡。` are two notes:
            // GUIDELINE rule 10).
            let previous_sentence_clears = (clause == 0
                && !across.states.is_empty()
                && !turns(sentence)
                && !bare_note(sentence))
            .then_some(across);
            for (r, t) in &claim.parts {
                out.findings.push(RawFinding {
                    span: r.clone(),
                    clause: sentence.clauses[clause].bytes.clone(),
                    kind: t.kind,
                    term_id: t.id.clone(),
                    label: t.label.clone(),
                    asks: t.asks,
                    next_sentence_clears,
                    previous_sentence_clears,
                });
            }
        }
    }
    out.leading_evidence = leading(sentence, &evidence);
    out.trailing_evidence = trailing(sentence, &evidence);
    for e in evidence {
        out.anchors.push((e.bytes, e.kind));
    }
    out.anchors.sort_by_key(|(r, _)| r.start);
    out
}

/// Whether a sentence is a bare note: four characters or fewer, no verb and no ending (良好。,
/// 熟睡。, だるそう。; not 怒っていた。 or 眠そうだった。).
fn bare_note(sentence: &Sentence) -> bool {
    let short = sentence
        .s
        .chars()
        .filter(|c| !c.is_whitespace() && !"。、・:：-".contains(*c))
        .count()
        <= 4;
    short
        && !sentence.tokens.iter().any(|t| {
            t.t.is(&["動詞"])
                || (t.t.is(&["助動詞"])
                    && matches!(t.t.base.as_str(), "た" | "だ" | "です" | "ます"))
        })
}

/// What evidence at the start of the sentence shows, for a claim closing the sentence before
/// (落ち込んでいる様子。「どうせ…」と言い、30分間手をつけなかった。): its first clause and those
/// joined to it without a contrast; nothing when the sentence opens with a contrast (しかし,
/// だが, でも, ただ) or is someone else's report.
fn leading(sentence: &Sentence, evidence: &[Found]) -> Vec<Wanted> {
    if turns(sentence) {
        return Vec::new();
    }
    let until = sentence
        .clauses
        .iter()
        .skip(1)
        .position(|c| c.join == Join::Contrast)
        .map_or(sentence.clauses.len(), |i| i + 1);
    evidence
        .iter()
        .filter(|e| e.clause < until)
        .map(Found::shows)
        .chain(compared(sentence, evidence))
        .collect()
}

/// Two clock times, the one against the other (平均入眠時刻1:30が今月は23:45).
static CLOCKS: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern("[0-9]{1,2}:[0-5][0-9][^。]*?[0-9]{1,2}:[0-5][0-9]")
});

/// A vital sign or the body named in a clause (熱, 体温, 血圧, 体重): a body measure there
/// measures what a vague word said of it.
static BODY: LazyLock<Regex> =
    LazyLock::new(|| crate::language::text::pattern("熱|体温|血圧|脈|SpO2|酸素|体重|血糖"));

/// Counts set against a baseline (先月は8日だったが、今月は18日): a change shown.
static BASELINE: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(
        "(?:先月|先週|前月|前週|前回|昨年|去年|以前|前は|当初|入所時|開始時|利用開始)[^。]*?[0-9０-９一二三四五六七八九十]|→|⇒|[0-9０-９]+月[^。]*?[0-9０-９]+月",
    )
});

fn compared(sentence: &Sentence, evidence: &[Found]) -> Option<Wanted> {
    let measured =
        evidence.iter().any(|e| e.states.contains(States::COUNT)) || CLOCKS.is_match(sentence.s);
    (BASELINE.is_match(sentence.s) && measured).then_some(Wanted {
        states: States::BASELINE,
        valence: None,
    })
}

/// What evidence at the end of the sentence shows, for a claim opening the next sentence
/// (3回席を立った。落ち着かない様子だった。): its last clause and those joined to it without
/// a contrast; nothing when this sentence is someone else's report.
fn trailing(sentence: &Sentence, evidence: &[Found]) -> Vec<Wanted> {
    if !sentence.analysed || super::hearsay::reports_someone_else(sentence) {
        return Vec::new();
    }
    let from = sentence
        .clauses
        .iter()
        .rposition(|c| c.join == Join::Contrast)
        .unwrap_or(0);
    evidence
        .iter()
        .filter(|e| e.clause >= from)
        .map(Found::shows)
        .chain(compared(sentence, evidence))
        .collect()
}

/// Whether a sentence stands apart from the one before it: it opens with a contrast (しかし,
/// だが, でも, ただ) or reports what someone else said, or is not analysed.
fn turns(sentence: &Sentence) -> bool {
    const CONTRAST: [&str; 7] = [
        "しかし",
        "だが",
        "でも",
        "ただ",
        "けれど",
        "ところが",
        "一方",
    ];
    let opening = sentence.s.trim_start_matches(['・', '-', ' ', '　']);
    !sentence.analysed
        || CONTRAST.iter().any(|c| opening.starts_with(c))
        || super::hearsay::reports_someone_else(sentence)
}

/// How many clauses away evidence may stand from its claim.
const REACH: usize = 2;

/// Whether evidence in clause `from` may support a claim in clause `to`: the same clause or a
/// neighbour, not across a contrast (〜たが、), and not from what followed a cause (〜ため、):
/// a response is no evidence of what caused it.
fn reaches(sentence: &Sentence, to: usize, e: &Found) -> bool {
    let from = e.clause;
    let joins = |range: std::ops::RangeInclusive<usize>| range.map(|i| sentence.clauses[i].join);
    // After a cause only a measurement of the body still tells about it (しんどそうだったので
    // 熱を測ると37.4℃): what staff then did or gave is no evidence.
    let measured = e.kind == AnchorKind::Number && e.states.contains(States::HEALTH);
    match from.cmp(&to) {
        std::cmp::Ordering::Equal => true,
        std::cmp::Ordering::Less => {
            to - from <= REACH && joins(from + 1..=to).all(|j| j != Join::Contrast)
        }
        std::cmp::Ordering::Greater => {
            from - to <= REACH
                && joins(to + 1..=from).all(|j| j == Join::Plain || (j == Join::Cause && measured))
        }
    }
}

/// The lexicon entry of evaluative predicates found by part of speech.
const EVALUATIVE: &str = "evaluative";

/// Lexicon matches outside quotations and allow-listed phrases; the longest wins.
fn term_matches<'l>(
    sentence: &Sentence,
    lexicon: &'l Lexicon,
    own: Option<&'l OrganizationLexicon>,
) -> Vec<(Range<usize>, &'l Term)> {
    let s = sentence.s;
    let mut candidates: Vec<(Range<usize>, &Term)> = lexicon
        .terms
        .iter()
        .chain(own.into_iter().flat_map(|o| o.terms.iter()))
        .filter(|t| t.kind != TermKind::VagueGoal)
        .flat_map(|t| t.find(s).into_iter().map(move |r| (r, t)))
        .filter(|(r, _)| !sentence.shielded(r))
        .filter(|(r, t)| genuine(sentence, r, t) && said_of_someone(sentence, r, t))
        .collect();
    candidates.sort_by_key(|(r, t)| (r.start, std::cmp::Reverse(r.end), t.kind as u8));
    // The long tail no entry lists, after every listed word (a listed word wins where they
    // overlap).
    if let Some(term) = lexicon.terms.iter().find(|t| t.id == EVALUATIVE) {
        for r in super::evaluative::find(sentence, &lexicon.record.things) {
            if said_of_someone(sentence, &r, term) {
                candidates.push((r, term));
            }
        }
    }
    let mut kept: Vec<(Range<usize>, &Term)> = Vec::new();
    for (r, t) in candidates {
        if !kept.iter().any(|(k, _)| overlaps(k, &r)) {
            kept.push((r, t));
        }
    }
    kept
}

/// Drops markers the analysis shows are something else: the hearsay そう (来るそうだ), よう in
/// a purpose (来られるよう支援).
fn genuine(sentence: &Sentence, r: &Range<usize>, t: &Term) -> bool {
    if t.id == SHOWS_FEELING {
        return shows_feeling(sentence, r);
    }
    if !sentence.analysed || t.kind != TermKind::Marker {
        return true;
    }
    let Some(i) = sentence.token_at(r.start) else {
        return true;
    };
    let tok = &sentence.tokens[i].t;
    match tok.surface.as_str() {
        "そう" => !tok.is(&["名詞", "特殊"]),
        "げ" => tok.is(&["名詞", "接尾"]),
        _ => true,
    }
}

/// The marker entry for a feeling read from outside (寂しがる).
pub(super) const SHOWS_FEELING: &str = "shows_feeling";

/// Whether the match is the suffix がる (寂し|がっ), not the particle が (少し|がっかり); only the
/// analysis can tell, so without it the marker is never used.
pub(super) fn shows_feeling(sentence: &Sentence, r: &Range<usize>) -> bool {
    sentence.analysed
        && sentence.token_at(r.start).is_some_and(|i| {
            let tok = &sentence.tokens[i];
            tok.bytes.start == r.start && tok.t.is(&["動詞", "接尾"]) && tok.t.base == "がる"
        })
}

/// A condition (不穏時の対応, 疲れた時に使うカード) describes no one's state now.
static CONDITION: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern("^\\p{Hiragana}{0,4}(?:時|とき|際|場合)(?:の|に|は|用|を|、)")
});

/// Nouns an interpretation may describe (落ち着いた様子, 穏やかな一日, 不安な気持ち); any other
/// noun it modifies is a thing (穏やかな曲, 不安定な脚立, 調子の悪いプリンター), not a person.
const STATE_NOUNS: [&str; 65] = [
    "様子",
    "変化",
    "表情",
    "顔",
    "顔つき",
    "態度",
    "口調",
    "声",
    "状態",
    "気持ち",
    "気分",
    "一日",
    "日",
    "日々",
    "毎日",
    "時間",
    "時期",
    "生活",
    "性格",
    "人",
    "方",
    "子",
    "感じ",
    "雰囲気",
    "印象",
    "姿",
    "姿勢",
    "目",
    "目つき",
    "動き",
    "歩行",
    "足取り",
    "時",
    "ところ",
    "面",
    "部分",
    "傾向",
    "反応",
    "言動",
    "行動",
    "発言",
    "様",
    "笑顔",
    "顔色",
    "こと",
    "状況",
    "調子",
    "体調",
    "取り組み",
    "過ごし方",
    "話し方",
    "仕草",
    "しぐさ",
    "感情",
    "心",
    "気",
    "場面",
    "声色",
    "返事",
    "返答",
    "一面",
    "朝",
    "夜",
    "日中",
    "ご様子",
];

fn lexicon_things() -> &'static [String] {
    Lexicon::builtin().map_or(&[], |l| l.record.things.as_slice())
}

/// Whether an interpretation is said of someone, not a condition or a thing's quality.
fn said_of_someone(sentence: &Sentence, r: &Range<usize>, t: &Term) -> bool {
    if t.kind == TermKind::VagueAmount {
        return true;
    }
    if !sentence.analysed {
        return !CONDITION.is_match(&sentence.s[r.end..]);
    }
    // A condition: 時・とき・際・場合 as a word of its own within the next few (調子が悪い時に).
    let after = sentence
        .tokens
        .iter()
        .skip_while(|k| k.bytes.start < r.end)
        .take(5);
    let mut prev_noun = false;
    for (n, k) in after.enumerate() {
        if k.t.pos[0] == "記号" {
            break;
        }
        if matches!(k.t.surface.as_str(), "時" | "とき" | "際" | "場合")
            && k.t.pos[0] == "名詞"
            && (n == 0 || !prev_noun)
        {
            let next = sentence
                .tokens
                .iter()
                .find(|x| x.bytes.start >= k.bytes.end);
            if next.is_some_and(|x| {
                matches!(
                    x.t.surface.as_str(),
                    "の" | "に" | "は" | "用" | "を" | "、" | "も"
                )
            }) {
                return false;
            }
        }
        prev_noun = k.t.pos[0] == "名詞" && k.t.pos[1] != "接尾";
    }
    // Said of a thing (天候が不安定, 接続が不安定で).
    if let Some(i) = sentence.tokens.iter().position(|k| k.bytes.end == r.start) {
        let particle = &sentence.tokens[i].t;
        if i > 0 && matches!(particle.surface.as_str(), "が" | "は" | "も" | "の") {
            let subject = &sentence.tokens[i - 1];
            if lexicon_things()
                .iter()
                .any(|t| t == &subject.t.base || t == &subject.t.surface)
            {
                return false;
            }
        }
    }
    // Skip what joins the claim to the noun it modifies (な, の悪い, した), then look at it.
    let Some(mut i) = sentence.tokens.iter().position(|k| k.bytes.start >= r.end) else {
        return true;
    };
    let mut skipped = 0;
    while skipped < 3 {
        let Some(k) = sentence.tokens.get(i) else {
            return true;
        };
        let joins = matches!(
            k.t.surface.as_str(),
            "な" | "の" | "が" | "た" | "だ" | "ない" | "い"
        ) || k.t.pos[0] == "形容詞"
            || (k.t.pos[0] == "動詞" && k.t.conj_form == "基本形")
            || k.t.pos[0] == "助動詞";
        if !joins {
            break;
        }
        i += 1;
        skipped += 1;
    }
    if skipped == 0 {
        return true;
    }
    // The compound noun modified (ピアノ曲): a thing when none of it names a state.
    let mut j = i;
    while sentence.tokens.get(j).is_some_and(|n| {
        n.t.pos[0] == "名詞"
            && matches!(
                n.t.pos[1].as_str(),
                "一般" | "固有名詞" | "サ変接続" | "接尾"
            )
    }) {
        j += 1;
    }
    if j == i {
        return true;
    }
    let nouns = &sentence.tokens[i..j];
    let thing = nouns
        .iter()
        .all(|n| !STATE_NOUNS.contains(&n.t.base.as_str()) && !sentence.shielded(&n.bytes));
    // A thing followed by a particle (曲を, 脚立は) is what the words describe.
    let followed = sentence
        .tokens
        .get(j)
        .is_some_and(|n| n.t.pos[0] == "助詞" || n.t.pos[0] == "記号");
    !(thing && followed)
}
