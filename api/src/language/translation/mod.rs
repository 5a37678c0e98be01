//! Renderings of one text for each audience (情報の翻訳, DOMAIN.md §2 remedy 4): the same
//! information in the languages of support, records, plans, administration, the family and
//! the client (やさしい日本語). Unless it is translated, it does not arrive; but a translation
//! that changes a fact is worse than none, so every rendering is checked.
//!
//! The pipeline, sentence by sentence:
//! 1. [`persons`] decides who each mention of a person is (the client, another user, another
//!    named person) and how the audience words it; those words are closed to the glossary;
//! 2. [`glossary`] replaces reviewed terms (the shipped file and an organization's own);
//! 3. the audience's rules: [`family`] (です・ます, seams removed), [`easy`] (clauses split
//!    where the analysis finds them, です・ます, furigana), [`administration`] (である, an
//!    incident laid out as 日時・場所・状況・対応・今後の対応);
//! 4. [`invariants`]: numbers, dates, quotations, persons and acts of the source must hold in
//!    the result; a sentence that fails is kept as written (other people's names still
//!    removed for the family and the client) and marked with the reason.
//!
//! Every change names the glossary entry or rule behind it, and the client's own words in 「」
//! are never changed. A rendering is a draft a person reads before sending.

mod administration;
mod easy;
mod family;
mod glossary;
pub mod invariants;
pub mod persons;
mod polite;
#[cfg(test)]
mod properties;
pub mod regression;
#[cfg(test)]
mod review;
#[cfg(test)]
mod tests;

pub use glossary::{EntrySource, Glossary, GlossaryEntry, SOURCE};

use std::ops::Range;

use super::{analysis::Analyzer, text};
use glossary::Fixed;
use persons::Person;

/// Who a rendering is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// Staff's own words (支援の言葉), as the texts are written.
    Support,
    /// Daily records (記録の言葉).
    Record,
    /// Plans (計画の言葉).
    Plan,
    /// Documents for the municipality (行政の言葉).
    Administration,
    /// The family (家族への言葉): everyday words, です・ます.
    Family,
    /// The client in easy Japanese (やさしい日本語): short sentences, hiragana, furigana.
    ClientEasy,
}

impl Audience {
    pub const ALL: [Self; 6] = [
        Self::Support,
        Self::Record,
        Self::Plan,
        Self::Administration,
        Self::Family,
        Self::ClientEasy,
    ];

    /// The stable name used by the API (lower-cased, it is the key in the glossary file).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Support => "SUPPORT",
            Self::Record => "RECORD",
            Self::Plan => "PLAN",
            Self::Administration => "ADMINISTRATION",
            Self::Family => "FAMILY",
            Self::ClientEasy => "CLIENT_EASY",
        }
    }

    /// Reads a name written by [`Audience::as_str`], in either case, with `-` or `_`.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().replace('-', "_");
        Self::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(&s))
    }

    /// Whether other people's names must not reach this reader.
    const fn hides_names(self) -> bool {
        matches!(self, Self::Family | Self::ClientEasy)
    }
}

/// Why a change was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeReason {
    /// A glossary entry's rendering for the audience.
    Glossary { term: String, source: EntrySource },
    /// A rule of the audience (see [`RULES`]).
    Rule {
        id: &'static str,
        description: &'static str,
    },
}

/// One change from the text as written to its rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The words as they stood when the change was made: a term, or a whole sentence for a
    /// rule (so that the reader sees its context).
    pub original: String,
    pub replacement: String,
    pub reason: ChangeReason,
}

/// A piece of a rendering with its furigana.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub text: String,
    /// Set only on a piece with kanji whose reading is known.
    pub reading: Option<String>,
}

/// One sentence of the source and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedSentence {
    pub source: String,
    pub text: String,
    /// Set when the rendering would have broken an invariant: the sentence is kept as written
    /// (other people's names still removed for the family and the client).
    pub kept_as_written: Option<invariants::Violation>,
}

/// A text rendered for one audience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendering {
    pub audience: Audience,
    pub text: String,
    /// In the order they were made, sentence by sentence.
    pub changes: Vec<Change>,
    /// The text cut into pieces with furigana, for CLIENT_EASY only (empty otherwise); the
    /// pieces concatenated are `text`.
    pub segments: Vec<Segment>,
    /// Per sentence of the source, its rendering and whether it was kept as written.
    pub sentences: Vec<RenderedSentence>,
}

impl Rendering {
    /// Whether any sentence was kept as written.
    pub fn kept_as_written(&self) -> bool {
        self.sentences.iter().any(|s| s.kept_as_written.is_some())
    }
}

/// A rule an audience applies.
pub(crate) struct Rule {
    id: &'static str,
    description: &'static str,
}

const fn rule(id: &'static str, description: &'static str) -> Rule {
    Rule { id, description }
}

const PERSON_OTHER_USER: Rule = rule(
    "person.other_user",
    "他の利用者（相手の・別の・同室の利用者、名前のある利用者）は本人ではなく「他のご利用者」「ほかの利用者」と書く",
);
const PERSON_OTHER: Rule = rule(
    "person.other",
    "本人以外の人の名前（Bさん、田中氏 など）は家族・本人向けの文に出さず「他の方」「ほかの人」にする",
);
const PERSON_CLIENT: Rule = rule("person.client", "本人を「ご本人」「あなた」と書く");
const PERSON_USER: Rule = rule(
    "person.user",
    "誰か書かれていない「利用者」は本人とせず「利用者の方」と書く",
);
const FAMILY_POLITE: Rule = rule(
    "family.polite",
    "文末を です・ます にそろえる（解析で活用がわかる語尾、解析がないときは確かに言い換えられる語尾だけ）",
);
const FAMILY_TIDY: Rule = rule(
    "family.tidy",
    "置き換えのつなぎ目で重なった語や助詞（〜をを、グループホームグループホーム）を一つにする",
);
const EASY_SPLIT: Rule = rule(
    "easy.split",
    "文を節の切れ目（て・で形や連用形＋読点、ので・から→だから、が・けど→でも）で短い文に分ける",
);
const EASY_POLITE: Rule = rule("easy.polite", "文末を です・ます にそろえる");
const ADMIN_FORMAL: Rule = rule(
    "admin.formal",
    "文末を である調（〜した、〜である）にそろえる",
);
const ADMIN_LAYOUT: Rule = rule(
    "admin.layout",
    "事故・ヒヤリハット等を 日時・場所・状況・対応・今後の対応 に並べる（書かれていない項目は「記載なし」）",
);

/// Every rule's id and description, for listing what a rendering may do.
pub const RULES: [(&str, &str); 10] = [
    (PERSON_OTHER_USER.id, PERSON_OTHER_USER.description),
    (PERSON_OTHER.id, PERSON_OTHER.description),
    (PERSON_CLIENT.id, PERSON_CLIENT.description),
    (PERSON_USER.id, PERSON_USER.description),
    (FAMILY_POLITE.id, FAMILY_POLITE.description),
    (FAMILY_TIDY.id, FAMILY_TIDY.description),
    (EASY_SPLIT.id, EASY_SPLIT.description),
    (EASY_POLITE.id, EASY_POLITE.description),
    (ADMIN_FORMAL.id, ADMIN_FORMAL.description),
    (ADMIN_LAYOUT.id, ADMIN_LAYOUT.description),
];

/// Who the text is about, when the caller knows.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The client's names (姓, 名, with or without honorific): a name among them is the client,
    /// any other name is someone else's.
    pub client_names: Vec<String>,
}

/// Renders `text` for `audience` with the analyser, if it is loaded.
pub fn render(text: &str, audience: Audience, glossary: &Glossary) -> Rendering {
    render_with(
        text,
        audience,
        glossary,
        super::analysis::get(),
        &Options::default(),
    )
}

/// [`render`] with an explicit analyser.
pub fn render_with_readings(
    text: &str,
    audience: Audience,
    glossary: &Glossary,
    analyzer: Option<&Analyzer>,
) -> Rendering {
    render_with(text, audience, glossary, analyzer, &Options::default())
}

/// [`render`] with an explicit analyser and options.
pub fn render_with(
    text: &str,
    audience: Audience,
    glossary: &Glossary,
    analyzer: Option<&Analyzer>,
    options: &Options,
) -> Rendering {
    let mut changes = Vec::new();
    let mut sentences = Vec::new();
    let mut out = String::with_capacity(text.len() * 2);
    let mut last = 0;
    for s in text::sentences(text) {
        out.push_str(&text[last..s.start]);
        let r = sentence(&text[s.clone()], audience, glossary, analyzer, options);
        out.push_str(&r.text);
        changes.extend(r.changes);
        sentences.push(r.rendered);
        last = s.end;
    }
    out.push_str(&text[last..]);
    if audience == Audience::Administration && administration::is_incident(text) {
        let parts: Vec<String> = sentences.iter().map(|s| s.text.clone()).collect();
        let sources: Vec<String> = sentences.iter().map(|s| s.source.clone()).collect();
        let laid = administration::layout(&sources, &parts);
        let whole = invariants::Subject {
            source: text,
            rendered: &laid,
            hide_names: false,
            added_client: 0,
            client_names: &options.client_names,
        };
        if invariants::check(&whole, analyzer).is_ok() {
            changes.push(rule_change(&ADMIN_LAYOUT, &out, &laid));
            out = laid;
        }
    }
    let segments = if audience == Audience::ClientEasy {
        easy::furigana(&out, glossary, analyzer)
    } else {
        Vec::new()
    };
    Rendering {
        audience,
        text: out,
        changes,
        segments,
        sentences,
    }
}

struct SentenceResult {
    text: String,
    changes: Vec<Change>,
    rendered: RenderedSentence,
}

fn rule_change(rule: &Rule, original: &str, replacement: &str) -> Change {
    Change {
        original: original.to_owned(),
        replacement: replacement.to_owned(),
        reason: ChangeReason::Rule {
            id: rule.id,
            description: rule.description,
        },
    }
}

/// One sentence of the source through persons, glossary, the audience's rules and the check.
fn sentence(
    source: &str,
    audience: Audience,
    glossary: &Glossary,
    analyzer: Option<&Analyzer>,
    options: &Options,
) -> SentenceResult {
    let quotes = text::quotations(source);
    let mentions = persons::find(source, &options.client_names, analyzer);
    let in_quote = |r: &Range<usize>| quotes.iter().any(|q| text::overlaps(q, r));
    let mut fixed = Vec::new();
    // Names inside quotations go too (the quotation is otherwise kept word for word).
    let mut names_only = Vec::new();
    for m in &mentions {
        let original = &source[m.span.clone()];
        let wording = persons::wording(m, original, audience);
        let rule = match m.person {
            Person::OtherUser => &PERSON_OTHER_USER,
            Person::OtherPerson => &PERSON_OTHER,
            Person::Client => &PERSON_CLIENT,
            Person::AnyUser => &PERSON_USER,
        };
        let named = m.name.is_some() && audience.hides_names();
        if named {
            names_only.push(Fixed {
                span: m.span.clone(),
                replacement: wording.unwrap_or(original).to_owned(),
                reason: ChangeReason::Rule {
                    id: rule.id,
                    description: rule.description,
                },
            });
        }
        if in_quote(&m.span) && !named {
            continue;
        }
        fixed.push(Fixed {
            span: m.span.clone(),
            replacement: wording.unwrap_or(original).to_owned(),
            reason: ChangeReason::Rule {
                id: rule.id,
                description: rule.description,
            },
        });
    }
    // The source as the check sees it: names in quotations already replaced.
    let mut ignore = Vec::new();
    let checked_source = replace_spans(
        source,
        names_only
            .iter()
            .filter(|f| in_quote(&f.span))
            .cloned()
            .collect(),
        &mut ignore,
    );
    let mut changes = Vec::new();
    let mut out = glossary::apply(source, audience, glossary, &quotes, fixed, &mut changes);
    let added_client: usize = changes
        .iter()
        .filter(|c| matches!(c.reason, ChangeReason::Glossary { .. }))
        .filter(|c| !persons::is_person_word(&c.original))
        .map(|c| {
            let after = persons::census(&persons::find(&c.replacement, &[], None)).client;
            let before = persons::census(&persons::find(&c.original, &[], None)).client;
            after.saturating_sub(before)
        })
        .sum();
    out = audience_rules(&out, audience, analyzer, &mut changes);
    let subject = invariants::Subject {
        source: &checked_source,
        rendered: &out,
        hide_names: audience.hides_names(),
        added_client,
        client_names: &options.client_names,
    };
    match invariants::check(&subject, analyzer) {
        Ok(()) => SentenceResult {
            rendered: RenderedSentence {
                source: source.to_owned(),
                text: out.clone(),
                kept_as_written: None,
            },
            text: out,
            changes,
        },
        Err(violation) => {
            let mut changes = Vec::new();
            let kept = replace_spans(source, names_only, &mut changes);
            SentenceResult {
                rendered: RenderedSentence {
                    source: source.to_owned(),
                    text: kept.clone(),
                    kept_as_written: Some(violation),
                },
                text: kept,
                changes,
            }
        }
    }
}

/// `text` with the fixed spans replaced (non-overlapping, any order).
fn replace_spans(text: &str, mut spans: Vec<Fixed>, changes: &mut Vec<Change>) -> String {
    spans.sort_by_key(|f| f.span.start);
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for f in spans {
        if f.span.start < last || text.get(f.span.clone()).is_none() {
            continue;
        }
        out.push_str(&text[last..f.span.start]);
        out.push_str(&f.replacement);
        changes.push(Change {
            original: text[f.span.clone()].to_owned(),
            replacement: f.replacement,
            reason: f.reason,
        });
        last = f.span.end;
    }
    out.push_str(&text[last..]);
    out
}

/// A sentence rule: the sentence and its quotations (in its own byte offsets) → its new form.
type SentenceRule<'a> = &'a dyn Fn(&str, &[Range<usize>]) -> Option<String>;

/// The audience's rules over one rendered sentence (which the split may make several).
fn audience_rules(
    s: &str,
    audience: Audience,
    analyzer: Option<&Analyzer>,
    changes: &mut Vec<Change>,
) -> String {
    let each =
        |text: &str, rule: &Rule, changes: &mut Vec<Change>, f: SentenceRule<'_>| -> String {
            let quotes = text::quotations(text);
            let mut out = String::with_capacity(text.len());
            let mut last = 0;
            for r in text::sentences(text) {
                let piece = &text[r.clone()];
                let local: Vec<Range<usize>> = quotes
                    .iter()
                    .filter(|q| text::overlaps(q, &r))
                    .map(|q| q.start.max(r.start) - r.start..q.end.min(r.end) - r.start)
                    .collect();
                out.push_str(&text[last..r.start]);
                match f(piece, &local) {
                    Some(new) if new != piece => {
                        changes.push(rule_change(rule, piece, &new));
                        out.push_str(&new);
                    }
                    _ => out.push_str(piece),
                }
                last = r.end;
            }
            out.push_str(&text[last..]);
            out
        };
    match audience {
        Audience::Family => {
            let mut out = each(s, &FAMILY_POLITE, changes, &|t, q| {
                polite::polite(t, q, analyzer)
            });
            if let Some(a) = analyzer {
                out = each(&out, &FAMILY_POLITE, changes, &|t, q| {
                    polite::polite_clauses(t, q, a)
                });
            }
            each(&out, &FAMILY_TIDY, changes, &|t, _| family::tidy(t))
        }
        Audience::ClientEasy => {
            let out = each(s, &EASY_SPLIT, changes, &|t, q| easy::split(t, q, analyzer));
            let out = each(&out, &EASY_POLITE, changes, &|t, q| {
                polite::polite(t, q, analyzer)
            });
            each(&out, &FAMILY_TIDY, changes, &|t, _| family::tidy(t))
        }
        Audience::Administration => match analyzer {
            Some(a) => each(s, &ADMIN_FORMAL, changes, &|t, q| polite::formal(t, q, a)),
            None => s.to_owned(),
        },
        Audience::Support | Audience::Record | Audience::Plan => s.to_owned(),
    }
}
