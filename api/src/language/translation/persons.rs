//! Who is who (人と役割): the mentions of people in a sentence and how each is worded for an
//! audience.
//!
//! Why this runs before the glossary and claims its words: 利用者 means any service user
//! (DOMAIN.md §1). In 相手の利用者にけがはなかった the 利用者 is another person; a glossary that
//! maps 利用者 to ご本人 turns the other party into the client, which changes the facts of an
//! incident. So a mention is decided here, from the words around it, and the glossary never
//! sees it:
//! - the client: 本人 / ご本人, or a name the caller says is the client's;
//! - another user: 相手の・他の・別の・同室の・隣の… 利用者 (メンバー, 入居者, 通所者), 他利用者,
//!   他児, or 利用者 with a name (利用者Bさん);
//! - another person: a name with an honorific (Bさん, 田中君, 山田氏, 佐藤様) that is not the
//!   client's. Names of others never reach the family or the client (要配慮個人情報 of someone
//!   who did not consent), so they become 他の方 / ほかの人;
//! - a service user not said to be anyone (利用者 alone): neutral (利用者の方), never the client.
//!
//! Names are found by the analyser (人名 tokens before an honorific or a role word) and, with
//! or without it, by the shapes records use for initials (Bさん, Ａ氏).

use std::{ops::Range, sync::LazyLock};

use regex::Regex;

use super::Audience;
use crate::language::analysis::Analyzer;

/// Whom a mention refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Person {
    /// The client (本人).
    Client,
    /// Another service user (他の利用者), named or not.
    OtherUser,
    /// Another person named in the text (Bさん, 田中氏).
    OtherPerson,
    /// 利用者 without anything saying who: kept neutral.
    AnyUser,
}

/// One mention of a person, in byte offsets of the analysed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    pub span: Range<usize>,
    pub person: Person,
    /// The name written in the mention, when it has one (Bさん).
    pub name: Option<String>,
    /// A name next to a role word (田中|支援員, 担当の|鈴木): the role says who, the name goes
    /// (after a role and の, 職員 / スタッフ stands in its place).
    pub before_role: bool,
    /// The name follows its role and の (担当の鈴木).
    pub after_role: bool,
}

/// Honorifics after a name.
const HONORIFICS: &str = "さん|さま|様|くん|君|氏|ちゃん|殿";
/// Words that stand before さん but are no one's name (母さん, 皆さん, ヘルパーさん).
const NOT_NAMES: &[&str] = &[
    "皆",
    "みな",
    "母",
    "父",
    "兄",
    "姉",
    "奥",
    "婆",
    "爺",
    "叔母",
    "叔父",
    "伯母",
    "伯父",
    "祖母",
    "祖父",
    "お母",
    "お父",
    "お兄",
    "お姉",
    "おば",
    "おじ",
    "おばあ",
    "おじい",
    "職員",
    "担当",
    "看護師",
    "運転手",
    "利用者",
    "ヘルパー",
    "スタッフ",
    "ドライバー",
    "ナース",
    "店員",
    "先生",
    "業者",
    "家族",
    "相手",
    "本人",
    "ご本人",
    "患者",
    "医師",
    "主治医",
    "隣",
    "お隣",
    "他",
    "おにい",
    "おねえ",
    "あか",
    "おかあ",
    "おとう",
    "ねえ",
    "にい",
    "じい",
    "ばあ",
    "大家",
    "警察",
    "お巡り",
    "社長",
    "園長",
    "所長",
    "施設長",
    "管理人",
    "先輩",
    "後輩",
    "友達",
    "子",
    "赤",
    "皆様",
    "お客",
    "客",
    "員",
    "師",
    "士",
];

fn re(pattern: &str) -> Regex {
    // Constant patterns, all compiled by the unit tests: a broken one must fail loudly there,
    // never silently match nothing (these checks guard privacy and facts).
    crate::language::text::pattern(pattern)
}

/// A name shape records use for initials and given names in katakana, before an honorific.
/// A child's given name in hiragana (ゆきちゃん, たろうくん), after a non-hiragana char so that
/// it does not start inside a word.
static NAME_KANA_CHILD: LazyLock<Regex> =
    LazyLock::new(|| re("(?:^|[^ぁ-ゖ])([ぁ-ゖ]{2,4}(?:ちゃん|くん))"));

static NAME_INITIAL: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        "(?:[A-ZＡ-Ｚ]{{1,2}}|[ァ-ヴー]{{2,6}})(?:{HONORIFICS})"
    ))
});

/// One to four kanji before an honorific: a name when the analyser is absent (with it, the
/// analysis finds where the name starts).
static NAME_KANJI: LazyLock<Regex> =
    LazyLock::new(|| re(&format!("[一-龥々]{{1,4}}(?:{HONORIFICS})")));

/// Role words that may follow a name (田中支援員): the name goes, the role stays.
const ROLES: [&str; 7] = [
    "支援員",
    "職員",
    "看護師",
    "世話人",
    "管理者",
    "先生",
    "担当",
];

/// Another user, with an optional name after it.
static OTHER_USER: LazyLock<Regex> = LazyLock::new(|| {
    let who = "(?:ご)?(?:利用者|メンバー|入居者|通所者|仲間)(?:さん|の方)?";
    let name =
        format!("(?:の?(?:[A-ZＡ-Ｚ]{{1,2}}|[ァ-ヴー]{{2,6}}|[一-龥々]{{1,4}})(?:{HONORIFICS}))?");
    re(&format!(
        "(?:(?:相手|他|ほか|外|別|同室|同じ部屋|同じグループ|同じテーブル|隣|隣席|隣の席|周り|周囲|近く|その場|一緒)の{who}{name}|他利用者(?:さん)?{name}|他児(?:童)?{name}|{who}(?:の)?(?:[A-ZＡ-Ｚ]{{1,2}}|[ァ-ヴー]{{2,6}}|[一-龥々]{{1,4}})(?:{HONORIFICS}))"
    ))
});

/// Generic words for other people, as the renderings write them (so that a rendering can be
/// checked with the same rules as its source).
static OTHER_GENERIC: LazyLock<Regex> =
    LazyLock::new(|| re("他の方|ほかの方|他の人|ほかの人|ほかの ひと|相手の方"));

static CLIENT: LazyLock<Regex> = LazyLock::new(|| re("ご本人|本人|あなた"));
static ANY_USER: LazyLock<Regex> = LazyLock::new(|| re("利用者(?:の方|さん)?"));

/// The mentions of people in `text`, in text order, not overlapping. `client_names` are the
/// client's own names (with or without honorific); a name among them is the client.
pub fn find(text: &str, client_names: &[String], analyzer: Option<&Analyzer>) -> Vec<Mention> {
    let mut out: Vec<Mention> = Vec::new();
    let free = |r: &Range<usize>, out: &[Mention]| {
        !out.iter()
            .any(|m| m.span.start < r.end && r.start < m.span.end)
    };
    for m in OTHER_USER.find_iter(text) {
        let name = NAME_INITIAL
            .find(m.as_str())
            .or_else(|| NAME_KANJI.find(m.as_str()))
            .map(|n| n.as_str().to_owned())
            .filter(|n| !is_not_a_name(n));
        out.push(Mention {
            span: m.range(),
            person: Person::OtherUser,
            name,
            before_role: false,
            after_role: false,
        });
    }
    let shapes: &[&Regex] = match analyzer {
        Some(_) => &[&NAME_INITIAL],
        None => &[&NAME_INITIAL, &NAME_KANJI],
    };
    let mut names: Vec<(Range<usize>, bool)> = shapes
        .iter()
        .flat_map(|p| p.find_iter(text))
        .filter(|m| !is_not_a_name(m.as_str()))
        .map(|m| (trim_name(text, m.range()), false))
        .filter(|(r, _)| !r.is_empty())
        .collect();
    names.extend(
        NAME_KANA_CHILD
            .captures_iter(text)
            .filter_map(|c| c.get(1))
            .filter(|m| !is_not_a_name(m.as_str()))
            .map(|m| (m.range(), false)),
    );
    if let Some(a) = analyzer {
        names.extend(analysed_names(a, text));
    }
    names.sort_by_key(|(r, _)| (r.start, std::cmp::Reverse(r.end)));
    for (r, before_role) in names {
        if !free(&r, &out) {
            continue;
        }
        let name = text[r.clone()].to_owned();
        let is_client = client_names
            .iter()
            .filter(|c| !c.trim().is_empty())
            .any(|c| name.starts_with(strip_honorific(c)) || c.starts_with(strip_honorific(&name)));
        out.push(Mention {
            span: r.clone(),
            person: if is_client {
                Person::Client
            } else {
                Person::OtherPerson
            },
            name: (!is_client).then_some(name),
            after_role: before_role && text[..r.start].ends_with('の'),
            before_role,
        });
    }
    for (pattern, person) in [
        (&*OTHER_GENERIC, Person::OtherPerson),
        (&*CLIENT, Person::Client),
        (&*ANY_USER, Person::AnyUser),
    ] {
        for m in pattern.find_iter(text) {
            if free(&m.range(), &out) {
                out.push(Mention {
                    span: m.range(),
                    person,
                    name: None,
                    before_role: false,
                    after_role: false,
                });
            }
        }
    }
    out.sort_by_key(|m| m.span.start);
    // Where the sentence names the client apart, a bare 利用者 is someone else (本人の隣に座って
    // いた利用者); a group (利用者同士, 利用者全員) stays neutral, and 利用者（本人） is the client.
    let client_apart = out.iter().any(|m| m.person == Person::Client);
    for m in &mut out {
        if m.person != Person::AnyUser {
            continue;
        }
        let after = &text[m.span.end..];
        if after.starts_with("（本人）") || after.starts_with("(本人)") {
            m.person = Person::Client;
        } else if client_apart
            && ![
                "同士",
                "全員",
                "たち",
                "達",
                "みんな",
                "皆",
                "一同",
                "の方々",
            ]
            .iter()
            .any(|g| after.starts_with(g))
        {
            m.person = Person::OtherUser;
        }
    }
    out
}

fn strip_honorific(name: &str) -> &str {
    let name = name.trim();
    HONORIFICS
        .split('|')
        .find_map(|h| name.strip_suffix(h))
        .unwrap_or(name)
}

fn is_not_a_name(with_honorific: &str) -> bool {
    let bare = strip_honorific(with_honorific);
    NOT_NAMES.iter().any(|n| bare == *n || bare.ends_with(n))
}

/// A kanji name found without the analyser may have swallowed a role word before it
/// (看護師田中さん): the name starts after the role.
fn trim_name(text: &str, r: Range<usize>) -> Range<usize> {
    let mut start = r.start;
    for role in ROLES {
        for (i, _) in text.match_indices(role) {
            let end = i + role.len();
            if i < r.end && end > start && end <= r.end {
                start = end;
            }
        }
    }
    start..r.end
}

/// Names by the analysis: runs of 人名 tokens (姓, 名) before an honorific or a role word, or
/// a 姓 followed by a 名.
fn analysed_names(a: &Analyzer, text: &str) -> Vec<(Range<usize>, bool)> {
    let tokens = a.analyze(text);
    let offsets: Vec<usize> = text
        .char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(text.len()))
        .collect();
    let byte = |c: usize| offsets.get(c).copied().unwrap_or(text.len());
    let mut out = Vec::new();
    // Any noun right before an honorific (望月さん even where the dictionary does not know the
    // name as one), with the 人名 tokens before it (姓 + 名).
    for (k, t) in tokens.iter().enumerate() {
        let honorific =
            t.is(&["名詞", "接尾", "人名"]) && HONORIFICS.split('|').any(|h| h == t.surface);
        if k == 0 || !honorific {
            continue;
        }
        let prev = &tokens[k - 1];
        if !prev.is(&["名詞"]) || prev.is(&["名詞", "代名詞"]) || prev.is(&["名詞", "接尾"])
        {
            continue;
        }
        let mut start = k - 1;
        while start > 0 && tokens[start - 1].is(&["名詞", "固有名詞", "人名"]) {
            start -= 1;
        }
        let name: String = tokens[start..=k]
            .iter()
            .map(|t| t.surface.as_str())
            .collect();
        if !is_not_a_name(&name) {
            out.push((byte(tokens[start].span.start)..byte(t.span.end), false));
        }
    }
    let mut i = 0;
    while i < tokens.len() {
        if !tokens[i].is(&["名詞", "固有名詞", "人名"]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < tokens.len() && tokens[i].is(&["名詞", "固有名詞", "人名"]) {
            i += 1;
        }
        let next = tokens.get(i);
        let honorific = next.is_some_and(|t| t.is(&["名詞", "接尾", "人名"]));
        let after: String = tokens[i..]
            .iter()
            .take(2)
            .map(|t| t.surface.as_str())
            .collect();
        let role = ROLES.iter().any(|r| after.starts_with(r));
        // 担当の鈴木, 看護師の田中: a name after a role word and の.
        let before: String = tokens[start.saturating_sub(2)..start]
            .iter()
            .map(|t| t.surface.as_str())
            .collect();
        let named_role = start >= 2 && ROLES.iter().any(|r| before == format!("{r}の"));
        if honorific || role || named_role || i - start >= 2 {
            let end = if honorific {
                tokens[i].span.end
            } else {
                tokens[i - 1].span.end
            };
            out.push((
                byte(tokens[start].span.start)..byte(end),
                (role || named_role) && !honorific,
            ));
        }
    }
    out
}

/// How a mention reads for `audience`: `None` keeps it as written (records, plans and the
/// municipality keep names and roles as staff wrote them).
pub fn wording(m: &Mention, original: &str, audience: Audience) -> Option<&'static str> {
    let family = audience == Audience::Family;
    let easy = audience == Audience::ClientEasy;
    if !family && !easy {
        return None;
    }
    if m.before_role && m.person == Person::OtherPerson {
        return Some(match (m.after_role, family) {
            (false, _) => "",
            (true, true) => "職員",
            (true, false) => "スタッフ",
        });
    }
    Some(match m.person {
        Person::OtherUser => {
            if family {
                "他のご利用者"
            } else {
                "ほかの利用者"
            }
        }
        Person::OtherPerson => {
            if family {
                "他の方"
            } else {
                "ほかの人"
            }
        }
        Person::Client if m.name.is_none() && original != "あなた" => {
            if family {
                "ご本人"
            } else {
                "あなた"
            }
        }
        Person::Client => return None,
        Person::AnyUser => {
            if family {
                "利用者の方"
            } else {
                "利用者"
            }
        }
    })
}

/// Whether a glossary term is about people, so that its renderings cannot add the client.
pub fn is_person_word(term: &str) -> bool {
    OTHER_USER.is_match(term)
        || CLIENT.is_match(term)
        || ANY_USER.is_match(term)
        || NAME_INITIAL.is_match(term)
        || term.contains("相手")
}

/// Counts of who a text mentions, for the invariant check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Census {
    pub client: usize,
    pub others: usize,
}

pub fn census(mentions: &[Mention]) -> Census {
    let mut c = Census::default();
    for m in mentions {
        match m.person {
            Person::Client => c.client += 1,
            Person::OtherUser | Person::OtherPerson if !m.before_role => c.others += 1,
            Person::OtherUser | Person::OtherPerson => {}
            Person::AnyUser => {}
        }
    }
    c
}
