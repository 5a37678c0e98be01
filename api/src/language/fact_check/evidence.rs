//! Evidence in a record sentence (根拠): behaviours and signs from the lexicon, quotations with
//! the states their words express, counts and measures, each with the states it shows.

use std::{ops::Range, sync::LazyLock};

use regex::Regex;

use super::{
    Sentence, Wanted,
    claim::Claim,
    measures::{
        AWAKE_UNTIL, MEAL, NIGHT, OUTPUT, VITAL, counted_zero, frames_a_period, is_date,
        not_pressure, of_a_thing, times_not_degrees, vital_name, vital_valence,
    },
    quoted::{quoted_mood, spoken_in_katakana},
};

pub(super) use super::measures::COUNT;
use crate::language::{
    lexicon::{AnchorKind, Lexicon, OrganizationLexicon, States, TermKind, Valence},
    negation,
    text::overlaps,
};

/// Someone other than the client speaking the quoted words (Cさんが「やめて」, 母は「…」):
/// they show that person's state, not the client's.
static OTHER_SPEAKER: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(
        "(?:さん|くん|君|ちゃん|様|氏|職員|スタッフ|支援員|利用者|友達|友人|相手|母|父|姉|兄|妹|弟|家族|先生|看護師|医師|ヘルパー|世話人)(?:が|は|から)[、\\s]?$",
    )
});

/// Someone plainly other than the client doing the act right after (母が泣いて, 隣の人が大声を),
/// or owning the voice (他利用者の泣き声): it shows what happened around the client, not the
/// client's state. (他利用者のトレーを押した, 職員の手を払いのけた: the client's acts on them.)
static OTHER_ACTOR: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(
        "(?:他(?:の)?利用者|他児|他の(?:子|児童|人|方|メンバー|生徒)|隣の(?:人|席の人|利用者|子|部屋)|周り(?:の人|の利用者)|相手|同室者|母親?|父親?|家族|職員|スタッフ)(?:が[^、。とてで]{0,4}|(?P<of>の))$",
    )
});

/// Whether the evidence at `r` is someone else's act or voice (see [`OTHER_ACTOR`]).
fn someone_elses(s: &str, clause_start: usize, r: &Range<usize>) -> bool {
    OTHER_ACTOR
        .captures(&s[clause_start..r.start])
        .is_some_and(|c| {
            c.name("of").is_none()
                || ["泣", "大声", "大きな声", "叫", "奇声", "笑", "怒鳴", "声"]
                    .iter()
                    .any(|w| s[r.clone()].starts_with(w))
        })
}

/// Whether a match starts a content word (not で・き in 馴染んできた).
fn content_start(sentence: &Sentence, r: &Range<usize>) -> bool {
    if !sentence.analysed {
        return true;
    }
    match sentence.tokens.iter().find(|t| t.bytes.contains(&r.start)) {
        Some(t) => {
            t.bytes.start == r.start
                && !matches!(t.t.pos[0].as_str(), "助詞" | "助動詞")
                // 触り続けた: an act kept up is a sign, though 続ける follows another verb.
                && (t.t.pos[1] != "非自立" || t.t.base == "続ける")
        }
        None => true,
    }
}

/// What a topic noun may be followed by that still tells what happened (自傷は見られた,
/// 大声はなかった, 離席は3回).
static EVENT_AFTER_TOPIC: LazyLock<Regex> = LazyLock::new(|| {
    crate::language::text::pattern(
        "^(?:見られ[たずま]|見られる|出[てたしさま]|あっ|あり|有り|無し|なし|なく|なかっ|ありませ|ない|[0-9０-９一二三四五六七八九十])",
    )
});

/// Whether an evidence noun is only the topic of the sentence (排便コントロールは良好, 朝の起床は
/// 相変わらず, 作業ミスのことを気にして): it names what the writer speaks about, not something
/// that happened. It is evidence again when a number, a time or an occurrence follows it in its
/// clause (入眠は22時, 大声はなかった).
fn topic_only(sentence: &Sentence, r: &Range<usize>) -> bool {
    if !sentence.analysed {
        return false;
    }
    let tokens = &sentence.tokens;
    let Some(first) = tokens.iter().position(|t| t.bytes.contains(&r.start)) else {
        return false;
    };
    if !tokens[first].t.is(&["名詞"]) {
        return false;
    }
    // The end of the noun compound the words stand in (排便|コントロール).
    let mut next = tokens
        .iter()
        .position(|t| t.bytes.start >= r.end)
        .unwrap_or(tokens.len());
    if tokens[first..next].iter().any(|t| !t.t.is(&["名詞"])) {
        return false;
    }
    while next < tokens.len() && tokens[next].t.is(&["名詞"]) && !tokens[next].t.is(&["名詞", "数"])
    {
        next += 1;
    }
    let Some(after) = tokens.get(next) else {
        return false;
    };
    let rest = &sentence.s[after.bytes.start..];
    if [
        "のこと",
        "の事",
        "の話",
        "の件",
        "について",
        "に関して",
        "に関する",
    ]
    .iter()
    .any(|p| rest.starts_with(p))
    {
        return true;
    }
    if !(after.t.is(&["助詞", "係助詞"]) && matches!(after.t.surface.as_str(), "は" | "も"))
    {
        return false;
    }
    let clause = &sentence.clauses[sentence.clause_of(r.start)].bytes;
    let tail = &sentence.s[after.bytes.end..clause.end.max(after.bytes.end)];
    !(EVENT_AFTER_TOPIC.is_match(tail)
        || tail.chars().any(|c| c.is_ascii_digit())
        || COUNT.is_match(tail)
        || negation::negated_after(tokens, r.end))
}

/// A piece of evidence and the clause it stands in.
pub(super) struct Found {
    pub bytes: Range<usize>,
    pub clause: usize,
    pub states: States,
    /// Which way it points (大声: bad, 大声はなかった: good, 完食: good), when known.
    pub valence: Option<Valence>,
    pub kind: AnchorKind,
}

impl Found {
    /// What it shows, for matching against a claim.
    pub(super) fn shows(&self) -> Wanted {
        Wanted {
            states: self.states,
            valence: self.valence,
        }
    }
}

/// Evidence in the sentence: behaviours and signs from the lexicon, quotations with the
/// states their words express, counts and measures. A word the writer only guesses at or
/// generalises (泣きそう, 休みがち) is no evidence, nor is a flagged word itself.
pub(super) fn evidence(
    sentence: &Sentence,
    lexicon: &Lexicon,
    own: Option<&OrganizationLexicon>,
    claims: &[Claim],
) -> Vec<Found> {
    let s = sentence.s;
    let flagged = |r: &Range<usize>| {
        claims
            .iter()
            .any(|c| c.parts.iter().any(|(k, _)| overlaps(k, r)))
    };
    let guessed = |r: &Range<usize>| {
        claims.iter().any(|c| {
            c.parts.iter().any(|(k, t)| {
                t.kind == TermKind::Marker
                    && k.start >= r.end
                    && s[r.end..k.start].chars().count() <= 6
                    && !s[r.end..k.start].contains(['、', '。', ',', '」'])
            })
        })
    };
    let mut out: Vec<Found> = Vec::new();
    let push = |bytes: Range<usize>,
                states: States,
                valence: Option<Valence>,
                kind: AnchorKind,
                out: &mut Vec<Found>| {
        if states.is_empty() {
            return;
        }
        if let Some(f) = out.iter_mut().find(|f| f.bytes == bytes) {
            f.states = f.states.union(states);
            if f.valence != valence {
                f.valence = None;
            }
            return;
        }
        out.push(Found {
            clause: sentence.clause_of(bytes.start),
            bytes,
            states,
            valence,
            kind,
        });
    };
    for q in &sentence.quotes {
        let before: String = {
            let clause = &sentence.clauses[sentence.clause_of(q.start)].bytes;
            let from = clause.start.min(q.start);
            s[from..q.start]
                .chars()
                .rev()
                .take(12)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect()
        };
        if OTHER_SPEAKER.is_match(&before) || super::said_of::quote_names_a_thing(sentence, q) {
            continue;
        }
        // What the quoted words express, and how they were said (訴えた, 叫んだ).
        let inner = &s[q.clone()];
        // Words written all in katakana (「ニュウカン、コワイ」: a learner of Japanese, a child,
        // a shout) say what they would in hiragana.
        let folded = spoken_in_katakana(inner).then(|| crate::language::readings::hiragana(inner));
        let mut states = States::default();
        // Which way the words point: known only when every word that points agrees and no
        // negation turns them round (「楽しくない」).
        let mut ways: Vec<Valence> = Vec::new();
        for inner in std::iter::once(inner).chain(folded.as_deref()) {
            for t in &lexicon.terms {
                if t.kind == TermKind::Interpretation {
                    for r in t.find(inner) {
                        states = states.union(t.states);
                        ways.extend(t.valence(&inner[r]));
                    }
                }
            }
            for e in lexicon.evidence.iter().chain(&lexicon.state_words) {
                for r in e.find(inner) {
                    states = states.union(e.states);
                    ways.extend(e.valence(&inner[r]));
                }
            }
        }
        // How they were said: the words after the quotation, up to the clause's end
        // (「…」と訴えた, 「…」と15分間に5回確かめた).
        let after: String = s[q.end..]
            .chars()
            .take(12)
            .take_while(|c| !matches!(c, '、' | '。' | '「'))
            .collect();
        for e in &lexicon.evidence {
            if e.id.starts_with("said_") {
                for r in e.find(&after) {
                    states = states.union(e.states);
                    ways.extend(e.valence(&after[r]));
                }
            }
        }
        let negated = ["ない", "なく", "ません", "ず", "なかっ"]
            .iter()
            .any(|n| inner.contains(n));
        let (mut mood, turned) = quoted_mood(sentence, q);
        // The analyser reads no grammar in katakana: a wish (「ハタラキタイ」) is read here.
        if let Some(f) = &folded
            && f.split(|c: char| !('\u{3041}'..='\u{309F}').contains(&c) && c != 'ー')
                .any(|w| w.len() > "たい".len() && w.ends_with("たい"))
        {
            mood = mood.union(States::ENGAGEMENT);
        }
        // The grammar wins over the vocabulary: 「話しかけるな」 is a refusal, whatever
        // 話しかける says elsewhere.
        let valence = match ways.split_first() {
            _ if turned => Some(Valence::Bad),
            Some((first, rest)) if !negated && rest.iter().all(|w| w == first) => Some(*first),
            _ => None,
        };
        states = states.union(mood);
        // Words that express something are a fact about a claim of no particular state too;
        // words that express nothing we can read (「さようなら」) clear no guess about a
        // feeling (GUIDELINE rule 2).
        if !states.is_empty() {
            states = states.union(States::CONCRETE);
        }
        push(q.clone(), states, valence, AnchorKind::Words, &mut out);
    }
    for e in lexicon
        .evidence
        .iter()
        .chain(own.into_iter().flat_map(|o| o.evidence.iter()))
    {
        if e.id.starts_with("said_") {
            continue;
        }
        for r in e.find(s) {
            if sentence.shielded(&r)
                || flagged(&r)
                || guessed(&r)
                || !content_start(sentence, &r)
                || topic_only(sentence, &r)
                || vital_name(&s[r.clone()])
                || someone_elses(
                    s,
                    sentence.clauses[sentence.clause_of(r.start)].bytes.start,
                    &r,
                )
            {
                continue;
            }
            // 大声は|なかった, 大声は0回: a negation or a zero turns the fact round.
            let clause = &sentence.clauses[sentence.clause_of(r.start)].bytes;
            // 一度も目を合わせなかった: words that hold their own negation are not turned
            // round again by the zero.
            let negative = ["な", "ず", "ない", "せず", "ません"]
                .iter()
                .any(|n| s[r.clone()].ends_with(n));
            let valence = e.valence(&s[r.clone()]).map(|v| {
                if negation::negated_after(&sentence.tokens, r.end)
                    || (!negative
                        && counted_zero(&s[clause.clone()], r.end.saturating_sub(clause.start)))
                {
                    v.flipped()
                } else {
                    v
                }
            });
            push(r, e.states, valence, AnchorKind::Action, &mut out);
        }
    }
    for m in COUNT.find_iter(s) {
        let r = m.range();
        // 一人で / 1人で means alone, not a count; 入居3日目 is a day in time, not a count, and
        // 10/5の受診 a date, not an amount.
        let alone = matches!(m.as_str(), "一人" | "1人" | "ひとり")
            && (s[r.end..].starts_with('で') || s[r.end..].starts_with("暮らし"));
        let rest = &s[r.end..];
        // 2回目の利用: which time it was, not how many (an ordinal, like 3日目).
        let day_in_time = rest.starts_with('目')
            && ["日", "週", "月", "年", "日間", "回", "度"]
                .iter()
                .any(|u| m.as_str().ends_with(u));
        let date = is_date(s, &r, rest);
        // 入居から2週間が経過した: time gone by since something, not a count of anything.
        let after = rest.strip_prefix('が').unwrap_or(rest);
        let elapsed = (s[..r.start].ends_with("から") || s[..r.start].ends_with("して"))
            && ["経過", "経っ", "たっ", "過ぎ"]
                .iter()
                .any(|p| after.starts_with(p));
        // 8時50分: the minutes of a clock time; 6:15 着替え: minutes after a colon are never
        // a count, whatever follows them.
        let clock = (m.as_str().ends_with('分') && s[..r.start].ends_with(['時', ':']))
            || s[..r.start].ends_with(':');
        if sentence.shielded(&r)
            || flagged(&r)
            || alone
            || day_in_time
            || date
            || elapsed
            || clock
            || frames_a_period(s, &r)
        {
            continue;
        }
        // 一日中 is a whole day, not a count of days (5日中4日 is).
        // 一日の大部分 / 1日の水分: a day as the frame, not a count of days.
        let whole_day = (m.as_str().ends_with("日中")
            && !rest.starts_with(|c: char| c.is_ascii_digit()))
            || (matches!(m.as_str(), "一日" | "1日") && rest.starts_with('の'));
        if whole_day {
            continue;
        }
        let mut states = States::COUNT;
        let mut valence = None;
        if VITAL.is_match(m.as_str())
            && !times_not_degrees(m.as_str())
            && !not_pressure(m.as_str())
            && !of_a_thing(&s[..r.start])
        {
            states = States::HEALTH.union(States::MEASURE);
            valence = vital_valence(m.as_str(), &s[..r.start]);
        }
        if MEAL.is_match(m.as_str()) {
            states = states.union(States::APPETITE);
        }
        // An amount of output (20枚, 5工程, 伝票50件) shows how well something is done; a
        // length of time alone does not.
        if OUTPUT.is_match(m.as_str()) {
            states = states.union(States::SKILL);
        }
        push(r, states, valence, AnchorKind::Number, &mut out);
    }
    for m in VITAL.find_iter(s).chain(MEAL.find_iter(s)) {
        let r = m.range();
        // A vital sign named without its value (体重増加傾向, SpO2低下) measures nothing.
        let unmeasured = matches!(m.as_str(), "SpO2" | "血圧" | "体温" | "脈拍" | "体重");
        // 3:00 口の中に: the minutes of a clock time.
        if unmeasured
            || s[..r.start].ends_with(':')
            || sentence.shielded(&r)
            || flagged(&r)
            || out.iter().any(|f| overlaps(&f.bytes, &r))
        {
            continue;
        }
        let states = if VITAL.is_match(m.as_str()) {
            States::HEALTH
        } else {
            States::APPETITE
        };
        push(r, states, None, AnchorKind::Number, &mut out);
    }
    // Up until a time in the small hours (1:30まで居間でテレビを見ていた): awake then.
    for m in AWAKE_UNTIL.find_iter(s) {
        let r = m.range();
        if !sentence.shielded(&r) && !out.iter().any(|f| overlaps(&f.bytes, &r)) {
            push(
                r,
                States::SLEEP,
                Some(Valence::Bad),
                AnchorKind::Action,
                &mut out,
            );
        }
    }
    out.sort_by_key(|f| f.bytes.start);
    // An amount takes the way of the act it measures in its clause (半分|残した, 全量|食べた).
    let acts: Vec<(usize, States, Valence)> = out
        .iter()
        .filter(|f| f.kind == AnchorKind::Action)
        .filter_map(|f| f.valence.map(|v| (f.clause, f.states, v)))
        .collect();
    for f in out
        .iter_mut()
        .filter(|f| f.kind != AnchorKind::Words && f.valence.is_none())
    {
        let measures = f.states.without(States::COUNT).without(States::MEASURE);
        let mut ways = acts
            .iter()
            .filter(|(clause, states, _)| *clause == f.clause && states.intersects(measures))
            .map(|(_, _, v)| *v);
        if let Some(first) = ways.next()
            && ways.all(|v| v == first)
        {
            f.valence = Some(first);
        }
    }
    // Acting in the small hours (0:40〜1:30に4往復, 深夜にテレビを見ていた) shows being awake:
    // evidence of poor sleep.
    // An act that points to a good state (ベッドに座って, calm) then loses its way: it is
    // still poor sleep.
    for f in out.iter_mut().filter(|f| f.kind == AnchorKind::Action) {
        let clause = &sentence.clauses[f.clause].bytes;
        if !f.states.contains(States::SLEEP) && NIGHT.is_match(&s[clause.clone()]) {
            f.states = f.states.union(States::SLEEP);
            if f.valence == Some(Valence::Good) {
                f.valence = None;
            }
        }
    }
    out
}
