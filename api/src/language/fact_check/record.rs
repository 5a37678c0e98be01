//! The record rules: interpretations need evidence of their own state nearby.

use std::{ops::Range, sync::LazyLock};

use regex::Regex;

use super::{
    RawFinding, RawReport, Sentence, Wanted,
    claim::{Claim, group},
    clauses::Join,
    direction,
    evidence::{COUNT, Found, evidence},
    said_of,
};
use crate::language::{
    lexicon::{AnchorKind, Lexicon, OrganizationLexicon, States, Term, TermKind, Valence},
    text::overlaps,
};

/// Claims of change (増えてきた, 慣れつつある, 上達した): a count of the thing clears them.
static CHANGE: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(
        "^[^、。]{0,8}?(?:てき|つつあ|増え|増加|減っ|減り|減少|上が|下が|高ま|低下|向上|改善|悪化|定着|になってき|になってお|ようにな[っりる]|上達|成長|進歩|後退|伸び|回復)",
    )
});

/// Whether a claim speaks of a change (高まってきている, できるようになってきた, 上達した): read
/// from the last character of each of its words, so that the word itself (上達) and what
/// follows it (落ち着いて|きた) both count.
fn claims_change(s: &str, claim: &Claim) -> bool {
    // 回復傾向, 改善傾向: the change named right before the marker.
    let named_before = ["回復", "改善", "悪化", "増加", "減少", "低下", "向上"]
        .iter()
        .any(|w| s[..claim.start()].ends_with(w));
    named_before
        || claim.parts.iter().any(|(r, _)| {
            let last = s[..r.end].char_indices().last().map_or(r.end, |(i, _)| i);
            CHANGE.is_match(&s[r.start..]) || CHANGE.is_match(&s[last..])
        })
}

/// Whether a count follows the claim at `end` directly (体調不良2日, パニック3回).
fn counted_right_after(s: &str, end: usize) -> bool {
    // 集中できないようで、30分で1枚: past the clause's end the count is of something else.
    if s[..end].ends_with(['、', '。', ',']) {
        return false;
    }
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
        let quantity = claim.vague_amount
            && claim
                .parts
                .iter()
                .any(|(r, _)| QUANTITY_WORDS.contains(&&s[r.clone()]));
        // 意欲的に求職活動をし、ハローワークに2回行き / 自炊に前向きで、米を3回炊き: how often
        // someone did something shows the will to do it (an amount of output does not:
        // GUIDELINE rule 3, and the time it took is no count of occasions).
        let willing = !change
            && claim.states.intersects(States::ENGAGEMENT)
            && claim
                .parts
                .iter()
                .any(|(r, _)| WILLING.iter().any(|w| s[r.clone()].contains(w)));
        // 注意の持続は20分程度と思われる, 痛みを我慢している感じだった: what a guess stands on
        // in its own clause is what it guesses, not the evidence for it (the person's own
        // words still are: 「もう死にたいとは思わない」 希死念慮は消失していると思われる).
        let guess = claim.states == States::ANY
            && claim
                .parts
                .iter()
                .all(|(_, t)| t.kind == TermKind::Marker && GUESSES.contains(&t.id.as_str()));
        let compares = claim.parts.iter().any(|(_, t)| t.id == "compared");
        let guessed = claim
            .parts
            .iter()
            .any(|(_, t)| t.kind == TermKind::Marker && GUESSES.contains(&t.id.as_str()));
        let attention = claim.parts.iter().any(|(_, t)| t.id == "concentration");
        // 相変わらず時々ある: a word of how often asks for a count, whatever it joined.
        let how_often = claim
            .parts
            .iter()
            .any(|(_, t)| t.kind == TermKind::VagueAmount && t.id == "sometimes");
        // 同じ質問を繰り返すことが多かった: how often, so the length of the meeting is no answer.
        let occasions = claim.vague_amount
            && ["ことが", "ことも", "場面が", "場面も", "ときが", "時が"]
                .iter()
                .any(|w| s[..claim.start()].ends_with(w));
        let counted = |e: &Found| {
            e.kind == AnchorKind::Number
                && !(occasions
                    && ["時間", "分", "分間", "秒"]
                        .iter()
                        .any(|u| s[e.bytes.clone()].ends_with(u)))
        };
        let how_often_counted = !how_often
            || claim.vague_amount
            || evidence
                .iter()
                .any(|e| counted(e) && reaches(sentence, clause, e));
        // 雨のせいか機嫌が悪い: a guessed cause rests on nothing the sentence shows.
        let cause = claim.parts.iter().any(|(_, t)| t.id == CAUSE);
        let cleared = sentence.analysed
            && !cause
            && how_often_counted
            && (
                // 体調不良2日, 不穏3回: the claim is counted where it stands.
                (!claim.vague_amount && counted_right_after(s, claim.end()))
                    || (willing
                        && evidence.iter().any(|e| {
                            e.kind == AnchorKind::Number
                                && ["回", "度", "日", "日分", "社", "か所", "カ所", "ヶ所"]
                                    .iter()
                                    .any(|u| s[e.bytes.clone()].ends_with(u))
                                // 「眠い」と2回話し、やる気がない: it counts the words, and
                                // they show no will either way.
                                && !s[..e.bytes.start].ends_with("」と")
                                && reaches(sentence, clause, e)
                                && Valence::agrees(claim.valence, e.valence)
                                // 意欲的で、手を止めて窓の外を見ることが4回: what is counted
                                // points the other way.
                                && !evidence.iter().any(|a| {
                                    a.clause == e.clause
                                        && !Valence::agrees(claim.valence, a.valence)
                                })
                        }))
                    // 先月の平均1:30が今月は23:45: a change measured against a baseline; so is
                    // a comparison (以前より) or a guess of no particular state (〜と考えられ、
                    // 8月は流しが空だったが、今回は食器が15枚), though a contrast parts them.
                    || ((change || compares || guess) && compared(sentence, &evidence).is_some())
                    || evidence.iter().any(|e| {
                        reaches(sentence, clause, e)
                            && !(guess && e.clause == clause && e.kind != AnchorKind::Words)
                            // 昼過ぎまで寝ていたので、夜は眠れていなかったと思われる: a guess
                            // reasoned from a cause is not seen.
                            && !(guessed
                                && e.clause < clause
                                && (e.clause + 1..=clause)
                                    .any(|i| sentence.clauses[i].join == Join::Cause))
                            // 上達してきて、日本語教室に今月4回出席した: how often someone went
                            // somewhere counts the going, not a change in anything else.
                            // (単独通所に慣れてきており、5日間単独来所: the going is the thing.)
                            && !(change
                                && !claim.states.intersects(States::ENGAGEMENT.union(States::RHYTHM))
                                && e.kind == AnchorKind::Number
                                && names_attendance(sentence, e.clause)
                                && !names_attendance(sentence, clause))
                            && wanted.met_by(&e.shows())
                            // 意欲が低下、1時間でタオルを8枚しか: output, or the time it took, is
                            // no count of motivation or attention (GUIDELINE rule 3).
                            // (集中できないようで、1時間で1枚: attention, changed or not.)
                            && !((change || attention)
                                && claim.states.intersects(States::ENGAGEMENT)
                                && (e.states.contains(States::SKILL.union(States::COUNT))
                                    || (e.kind == AnchorKind::Number
                                        && s[e.bytes.end..].starts_with('で'))))
                            // ほぼ全量: the amount the vague word blurs is not its measure
                            // (いつもより20分早い is measured).
                            && !(e.bytes.start == claim.end()
                                && claim.parts.iter().any(|(_, t)| t.id == "mostly"))
                            && (!occasions || counted(e))
                            // 少量×2回: how often is no measure of how much.
                            && !(quantity
                                && e.kind == AnchorKind::Number
                                && counts_occasions(&s[e.bytes.clone()]))
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
                && !cause
                && clause + 1 == sentence.clauses.len()
                && !across.states.is_empty())
            .then_some(across);
            // Or close the sentence before, when this one does not turn against it and says
            // more than the judgement (`朝食全量。良好。`, `入眠22時。熟睡。` are two notes:
            // GUIDELINE rule 10).
            // A vague amount is measured by the note that goes on to count it (少ない傾向。
            // 本日の総水分量600ml), not by a count of something before it (昼食は全量摂取。
            // 昼食後は居眠りが多かった。).
            let previous_sentence_clears = (clause == 0
                && !cause
                && !later(sentence)
                && !claim.vague_amount
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

/// Whether a clause names going somewhere or calling (4回出席, 週3日通所, 電話は3回): a number
/// there counts the going.
fn names_attendance(sentence: &Sentence, clause: usize) -> bool {
    const ATTENDANCE: [&str; 13] = [
        "出席",
        "参加",
        "通っ",
        "通い",
        "通所",
        "通院",
        "来所",
        "登所",
        "通学",
        "出勤",
        "受講",
        "電話",
        "利用し",
    ];
    let clause = &sentence.s[sentence.clauses[clause].bytes.clone()];
    ATTENDANCE.iter().any(|w| clause.contains(w))
}

/// Markers of the writer's own guess or impression (〜と思われる, 〜感じ).
const GUESSES: [&str; 2] = ["presumed", "feel"];
/// The marker of a guessed cause (〜のせいか, 〜の影響と思われる).
const CAUSE: &str = "cause";

/// Vague words for how much (少量, 多め), as opposed to how often (時々, よく).
const QUANTITY_WORDS: [&str; 11] = [
    "少量",
    "多量",
    "大量",
    "中等量",
    "中量",
    "多め",
    "少なめ",
    "普通量",
    "通常量",
    "適量",
    "適度",
];

/// Whether a count counts occasions (2回, 3件, 5日), not an amount.
/// Words of a will to act (not of attention: 集中 is no count of occasions).
const WILLING: [&str; 6] = ["意欲", "前向き", "積極", "やる気", "熱心", "張り切"];

fn counts_occasions(count: &str) -> bool {
    ["回", "度", "件", "日", "人", "名"]
        .iter()
        .any(|u| count.ends_with(u))
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
        "(?:先月|先週|前月|前週|前回|昨年|去年|以前|前は|当初|入所時|開始時|利用開始)[^。]*?[0-9０-９一二三四五六七八九十]|→|⇒|[0-9０-９]+月[^。]*?[0-9０-９]+月|[0-9０-９]+月[^。]*?(?:今回|今月|現在)[^。]*?[0-9０-９]",
    )
});

/// The person's own words then and now (前回は「いらない」と言っていたが、今回は「出してみる」).
static WORDS_THEN_AND_NOW: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(
        "(?:先月|先週|前月|前週|前回|以前|前は|当初|最初|初めは|はじめは|入所時|利用開始時|[0-9]+月(?:は|に|の))[^。「]{0,8}「[^」]+」[^。]*?(?:今回|今日|本日|今は|今月|今週|現在|最近)[^。「]{0,8}「",
    )
});

fn compared(sentence: &Sentence, evidence: &[Found]) -> Option<Wanted> {
    let measured =
        evidence.iter().any(|e| e.states.contains(States::COUNT)) || CLOCKS.is_match(sentence.s);
    ((BASELINE.is_match(sentence.s) && measured) || WORDS_THEN_AND_NOW.is_match(sentence.s))
        .then_some(Wanted {
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

/// Whether a sentence opens on a later time than the one before (22時巡視：入眠中。その後も
/// 良眠。): what was seen before is no evidence of what came after.
fn later(sentence: &Sentence) -> bool {
    const LATER: [&str; 6] = ["その後", "以降", "それ以降", "それから", "あとは", "後は"];
    let opening = sentence.s.trim_start_matches(['・', '-', ' ', '　']);
    LATER.iter().any(|c| opening.starts_with(c))
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
        .filter(|(r, t)| {
            said_of::genuine(sentence, r, t) && said_of::said_of_someone(sentence, r, t)
        })
        .collect();
    candidates.sort_by_key(|(r, t)| (r.start, std::cmp::Reverse(r.end), t.kind as u8));
    // The long tail no entry lists, after every listed word (a listed word wins where they
    // overlap).
    if let Some(term) = lexicon.terms.iter().find(|t| t.id == EVALUATIVE) {
        for r in super::evaluative::find(sentence, &lexicon.record.things) {
            if said_of::said_of_someone(sentence, &r, term) {
                candidates.push((r, term));
            }
        }
    }
    let starts: Vec<usize> = candidates.iter().map(|(r, _)| r.start).collect();
    candidates.retain(|(r, t)| {
        t.kind != TermKind::Interpretation || !said_of::names_a_thing(sentence, r, &starts)
    });
    let mut kept: Vec<(Range<usize>, &Term)> = Vec::new();
    for (r, t) in candidates {
        if !kept.iter().any(|(k, _)| overlaps(k, &r)) {
            kept.push((r, t));
        }
    }
    kept
}
