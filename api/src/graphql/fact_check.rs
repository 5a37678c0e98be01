//! The fact check (事実と解釈を分ける) over GraphQL: free-text checks, findings on stored
//! observations and plans, and the organization's own terms.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::lexicon_term;

use super::{context::ContextExt, ids};
use crate::{
    language::{
        fact_check::{Finding, FoundAnchor, Mode, Report},
        lexicon::{AnchorKind as Anchor, Asks, OwnTermKind, TermKind},
        text::utf16_range,
    },
    service::fact_checks,
};

/// Which rules a text is checked by.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum TextKind {
    /// A daily record (支援記録): an interpretation needs evidence of the state it claims in
    /// its clause or the next.
    Record,
    /// A plan goal (計画の目標): goals must be checkable.
    Plan,
}

/// What kind of problem a finding is.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum FindingKind {
    /// An interpretive expression without a fact beside it (解釈語), e.g. 落ち着いている.
    Interpretation,
    /// A marker that turns a fact into a guess (解釈の標識), e.g. 〜様子, 〜と思われる.
    Marker,
    /// A vague amount or frequency without a number (曖昧な量・頻度), e.g. 時々, 少し.
    VagueAmount,
    /// A plan goal nobody could check (抽象的な目標), e.g. 安定した生活.
    VagueGoal,
}

/// The question a finding asks its writer.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum FactQuestion {
    /// 何をもってそう判断した？ (what did you see or hear?)
    Evidence,
    /// 何回？ どのくらい？ (how many, how much?)
    HowMany,
    /// いつからいつまで？ (since when, until when?)
    When,
    /// 本人は何と言った？ (what did the client say?)
    Words,
    /// 何が、いつまでに、どのくらいできたら達成？ (what, by when, how much?)
    Measure,
}

/// What makes a sentence checkable (事実の錨).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum FactAnchorKind {
    /// A number with a counter or unit (3回, 90分).
    Number,
    /// A clock time, date or concrete period (9時, 10/3, 昼食後).
    Time,
    /// A concrete, observable action (言った, 席を立った).
    Action,
    /// Someone's own words in 「」.
    Words,
}

/// One problem found in a text. Offsets are UTF-16 code units (JavaScript string indices)
/// into the checked text.
#[derive(SimpleObject, Clone)]
pub(super) struct TextFinding {
    /// The field the text came from (`fact`, `goals.0.text` …); null for free text.
    pub field: Option<String>,
    /// Start of the flagged words.
    pub start: i32,
    /// End of the flagged words (exclusive).
    pub end: i32,
    /// The flagged words as written.
    pub text: String,
    /// Start of the clause (節) they stand in: the evidence that would clear them belongs in
    /// this clause or the next.
    pub clause_start: i32,
    /// End of that clause (exclusive).
    pub clause_end: i32,
    /// Start of the sentence they stand in.
    pub sentence_start: i32,
    /// End of that sentence (exclusive).
    pub sentence_end: i32,
    /// The kind of problem.
    pub kind: FindingKind,
    /// The lexicon entry behind the finding (`calm`, `org:…` for the organization's own).
    pub term_id: String,
    /// The entry's canonical phrase, e.g. 落ち着いている.
    pub label: String,
    /// The question to answer.
    pub question: FactQuestion,
    /// The question in words, naming the flagged words, e.g.
    /// 「落ち着かない」と判断したのは、どんな様子から？
    pub question_text: String,
    /// The sentence reports what someone else said (伝聞: 〜とのこと, 母より…): the finding
    /// is about the report, not the writer's own observation.
    pub hearsay: bool,
}

/// A sentence that reports what someone other than the writer said or saw (伝聞).
#[derive(SimpleObject, Clone)]
pub(super) struct HearsaySentence {
    /// Start (UTF-16 code units).
    pub start: i32,
    /// End (exclusive).
    pub end: i32,
}

/// A fact anchor found in a text (what makes its sentence checkable).
#[derive(SimpleObject, Clone)]
pub(super) struct FactAnchor {
    /// Start (UTF-16 code units).
    pub start: i32,
    /// End (exclusive).
    pub end: i32,
    /// The words as written.
    pub text: String,
    /// The kind of anchor.
    pub kind: FactAnchorKind,
}

/// The result of checking a text (事実と解釈のチェック).
#[derive(SimpleObject, Clone)]
pub(super) struct FactCheckResult {
    /// True when nothing was found.
    pub clear: bool,
    /// Problems, in text order.
    pub findings: Vec<TextFinding>,
    /// Fact anchors, in text order.
    pub anchors: Vec<FactAnchor>,
    /// Sentences checked.
    pub sentence_count: i32,
    /// Sentences with at least one finding.
    pub flagged_sentence_count: i32,
    /// Sentences that report what someone else said (伝聞), in text order.
    pub hearsay_sentences: Vec<HearsaySentence>,
    /// Checked without the morphological analyser (形態素解析なし; the server lacks the IPADIC
    /// dictionary): every interpretive word is flagged and nothing is cleared by evidence.
    pub degraded: bool,
}

fn n(v: usize) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

impl TextFinding {
    pub(super) fn new(text: &str, field: Option<String>, f: Finding) -> Self {
        let span = utf16_range(text, f.span.clone());
        let clause = utf16_range(text, f.clause.clone());
        let sentence = utf16_range(text, f.sentence.clone());
        Self {
            field,
            start: n(span.start),
            end: n(span.end),
            text: f.text,
            clause_start: n(clause.start),
            clause_end: n(clause.end),
            sentence_start: n(sentence.start),
            sentence_end: n(sentence.end),
            kind: match f.kind {
                TermKind::Interpretation => FindingKind::Interpretation,
                TermKind::Marker => FindingKind::Marker,
                TermKind::VagueAmount => FindingKind::VagueAmount,
                TermKind::VagueGoal => FindingKind::VagueGoal,
            },
            term_id: f.term_id,
            label: f.label,
            question: match f.asks {
                Asks::Evidence => FactQuestion::Evidence,
                Asks::HowMany => FactQuestion::HowMany,
                Asks::When => FactQuestion::When,
                Asks::Words => FactQuestion::Words,
                Asks::Measure => FactQuestion::Measure,
            },
            question_text: f.question,
            hearsay: f.hearsay,
        }
    }
}

impl FactCheckResult {
    pub(super) fn new(text: &str, field: Option<&str>, r: Report) -> Self {
        let flagged = r.flagged_sentences();
        let anchor = |a: FoundAnchor| {
            let span = utf16_range(text, a.span);
            FactAnchor {
                start: n(span.start),
                end: n(span.end),
                text: a.text,
                kind: match a.kind {
                    Anchor::Number => FactAnchorKind::Number,
                    Anchor::Time => FactAnchorKind::Time,
                    Anchor::Action => FactAnchorKind::Action,
                    Anchor::Words => FactAnchorKind::Words,
                },
            }
        };
        Self {
            clear: r.findings.is_empty(),
            findings: r
                .findings
                .into_iter()
                .map(|f| TextFinding::new(text, field.map(str::to_owned), f))
                .collect(),
            anchors: r.anchors.into_iter().map(anchor).collect(),
            sentence_count: n(r.sentence_count),
            flagged_sentence_count: n(flagged),
            hearsay_sentences: r
                .hearsay
                .iter()
                .map(|h| {
                    let range = utf16_range(text, h.clone());
                    HearsaySentence {
                        start: n(range.start),
                        end: n(range.end),
                    }
                })
                .collect(),
            degraded: r.degraded,
        }
    }
}

/// How an organization's own term is used.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum LexiconTermKind {
    /// An extra interpretive word to flag (解釈語).
    Interpretation,
    /// An extra vague amount to flag (曖昧な量).
    VagueAmount,
    /// An extra vague plan phrase to flag (抽象的な目標).
    VagueGoal,
    /// Your own concrete word, e.g. the name of a work task (事実の錨): it makes a plan line
    /// concrete and clears a claim of no particular state, but is no evidence of a mood or an
    /// ability.
    Anchor,
    /// Never flagged, e.g. a room called 落ち着きルーム (許可語).
    Allowed,
}

impl From<LexiconTermKind> for OwnTermKind {
    fn from(k: LexiconTermKind) -> Self {
        match k {
            LexiconTermKind::Interpretation => Self::Interpretation,
            LexiconTermKind::VagueAmount => Self::VagueAmount,
            LexiconTermKind::VagueGoal => Self::VagueGoal,
            LexiconTermKind::Anchor => Self::Anchor,
            LexiconTermKind::Allowed => Self::Allowed,
        }
    }
}

/// A term your organization added to the fact check (自事業所の用語).
#[derive(SimpleObject, Clone)]
pub(super) struct LexiconTerm {
    /// Opaque id.
    pub id: ID,
    /// The phrase, matched literally.
    pub phrase: String,
    /// How it is used.
    pub kind: LexiconTermKind,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

impl LexiconTerm {
    fn new(t: lexicon_term::Model) -> Self {
        let kind = match fact_checks::parse_kind(&t.kind) {
            Some(OwnTermKind::Interpretation) | None => LexiconTermKind::Interpretation,
            Some(OwnTermKind::VagueAmount) => LexiconTermKind::VagueAmount,
            Some(OwnTermKind::VagueGoal) => LexiconTermKind::VagueGoal,
            Some(OwnTermKind::Anchor) => LexiconTermKind::Anchor,
            Some(OwnTermKind::Allowed) => LexiconTermKind::Allowed,
        };
        Self {
            id: ids::encode("LexiconTerm", t.id),
            phrase: t.phrase,
            kind,
            created_at: t.created_at,
        }
    }
}

#[derive(Default)]
pub(super) struct FactCheckQuery;

#[Object]
impl FactCheckQuery {
    /// Checks a text before it is saved (記録のチェック): interpretive words and markers without
    /// a fact in the same sentence, vague amounts without a number, and (for `PLAN`) goals
    /// nobody could check. Uses your organization's own terms. At most 10,000 characters.
    async fn check_record_text(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The text to check.")] text: String,
        #[graphql(desc = "Record or plan rules.", default_with = "TextKind::Record")]
        kind: TextKind,
    ) -> async_graphql::Result<FactCheckResult> {
        let viewer = ctx.viewer()?;
        let own = ctx
            .loaders()?
            .own_lexicons
            .load_one(viewer.organization_id)
            .await?;
        let mode = match kind {
            TextKind::Record => Mode::Record,
            TextKind::Plan => Mode::Plan,
        };
        let report = fact_checks::check(&text, mode, own.as_deref())?;
        Ok(FactCheckResult::new(&text, None, report))
    }

    /// Your organization's own fact-check terms, oldest first.
    async fn lexicon_terms(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<LexiconTerm>> {
        let viewer = ctx.viewer()?;
        let state = ctx.state()?;
        Ok(fact_checks::terms(&state.db, viewer.organization_id)
            .await?
            .into_iter()
            .map(LexiconTerm::new)
            .collect())
    }
}

/// Input of `addLexiconTerm`.
#[derive(InputObject)]
pub(super) struct AddLexiconTermInput {
    /// The phrase (1–50 characters), matched literally.
    pub phrase: String,
    /// How it is used.
    pub kind: LexiconTermKind,
}

/// Input of `removeLexiconTerm`.
#[derive(InputObject)]
pub(super) struct RemoveLexiconTermInput {
    /// The term's id.
    pub id: ID,
}

/// Result of a lexicon change.
#[derive(SimpleObject)]
pub(super) struct LexiconTermPayload {
    /// The term added or removed.
    pub term: LexiconTerm,
}

#[derive(Default)]
pub(super) struct FactCheckMutation;

#[Object]
impl FactCheckMutation {
    /// Adds a term to your organization's fact check (service managers, specialists, admins).
    /// `CONFLICT` when it is already there.
    async fn add_lexicon_term(
        &self,
        ctx: &Context<'_>,
        input: AddLexiconTermInput,
    ) -> async_graphql::Result<LexiconTermPayload> {
        let t = fact_checks::add_term(
            ctx.state()?,
            ctx.viewer()?,
            &input.phrase,
            input.kind.into(),
        )
        .await?;
        Ok(LexiconTermPayload {
            term: LexiconTerm::new(t),
        })
    }

    /// Removes one of your organization's terms.
    async fn remove_lexicon_term(
        &self,
        ctx: &Context<'_>,
        input: RemoveLexiconTermInput,
    ) -> async_graphql::Result<LexiconTermPayload> {
        let id = ids::decode("LexiconTerm", "id", &input.id)?;
        let t = fact_checks::remove_term(ctx.state()?, ctx.viewer()?, id).await?;
        Ok(LexiconTermPayload {
            term: LexiconTerm::new(t),
        })
    }
}
