//! Translation between the languages of support, records, plans, administration and family
//! (情報の翻訳) over GraphQL, driven by the shipped glossary and the organization's own.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::glossary_entry;

use super::context::ContextExt;
use crate::{
    language::translation::{self as tr, ChangeReason, EntrySource},
    service::glossaries,
};

/// Who the text is for (読み手).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::language::translation::Audience")]
pub enum Audience {
    /// Support staff (支援の言葉).
    Support,
    /// Records (記録の言葉).
    Record,
    /// Plans (計画の言葉).
    Plan,
    /// Administration, e.g. the municipality (行政の言葉).
    Administration,
    /// Family (家族の言葉).
    Family,
    /// The client, in easy Japanese with furigana (やさしい日本語).
    ClientEasy,
}

/// Why a change was made.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ChangeSource {
    /// An entry of the shipped glossary.
    ShippedGlossary,
    /// An entry of your organization's glossary.
    OrganizationGlossary,
    /// A rule (e.g. `family.polite`: です・ます endings).
    Rule,
}

/// One change a rendering made, with what made it (説明できる翻訳).
#[derive(SimpleObject, Clone)]
pub(super) struct RenderingChange {
    /// The words replaced.
    pub original: String,
    /// What they became.
    pub replacement: String,
    /// Glossary or rule.
    pub source: ChangeSource,
    /// The glossary term, or the rule id (`family.polite`, `easy.split`, `easy.polite`).
    pub reference: String,
    /// The rule in words; null for glossary changes.
    pub description: Option<String>,
}

/// A piece of easy-Japanese text with its reading (ルビ).
#[derive(SimpleObject, Clone)]
pub(super) struct RubySegment {
    /// The text.
    pub text: String,
    /// Its reading in hiragana, where it holds kanji with a known reading.
    pub reading: Option<String>,
}

/// One sentence of the text and its rendering (文ごとの翻訳).
#[derive(SimpleObject, Clone)]
pub(super) struct RenderedSentence {
    /// The sentence as written (原文).
    pub source: String,
    /// Its rendering (訳文); the sentence as written when `keptAsWritten` is true.
    pub text: String,
    /// True when rendering it would have changed a fact (a number, a quotation, who is who, an
    /// act), so it is kept as written (原文のまま); other people's names are still removed for
    /// the family and the client.
    pub kept_as_written: bool,
    /// Why it was kept as written (理由), e.g. `ACT_CHANGED`; null otherwise.
    pub reason_code: Option<String>,
    /// The reason in words (理由の説明); null otherwise.
    pub reason: Option<String>,
}

/// A text rendered for an audience.
#[derive(SimpleObject, Clone)]
pub(super) struct Rendering {
    /// The audience.
    pub audience: Audience,
    /// The rendered text.
    pub text: String,
    /// Every change, in order, each naming its glossary entry or rule.
    pub changes: Vec<RenderingChange>,
    /// For `CLIENT_EASY`: the text in pieces with furigana readings (concatenated, they are
    /// `text`); empty for other audiences.
    pub ruby: Vec<RubySegment>,
    /// Each sentence of the text with its rendering and the kept-as-written mark (原文のまま).
    pub sentences: Vec<RenderedSentence>,
    /// True when at least one sentence was kept as written (原文のままの文あり): read those
    /// before sending.
    pub kept_as_written: bool,
}

impl From<tr::Rendering> for Rendering {
    fn from(r: tr::Rendering) -> Self {
        let kept_as_written = r.kept_as_written();
        Self {
            kept_as_written,
            sentences: r
                .sentences
                .into_iter()
                .map(|s| RenderedSentence {
                    source: s.source,
                    text: s.text,
                    kept_as_written: s.kept_as_written.is_some(),
                    reason_code: s.kept_as_written.as_ref().map(|v| v.code().to_owned()),
                    reason: s.kept_as_written.as_ref().map(ToString::to_string),
                })
                .collect(),
            audience: r.audience.into(),
            text: r.text,
            changes: r
                .changes
                .into_iter()
                .map(|c| {
                    let (source, reference, description) = match c.reason {
                        ChangeReason::Glossary { term, source } => (
                            match source {
                                EntrySource::Shipped => ChangeSource::ShippedGlossary,
                                EntrySource::Organization => ChangeSource::OrganizationGlossary,
                            },
                            term,
                            None,
                        ),
                        ChangeReason::Rule { id, description } => (
                            ChangeSource::Rule,
                            id.to_owned(),
                            Some(description.to_owned()),
                        ),
                    };
                    RenderingChange {
                        original: c.original,
                        replacement: c.replacement,
                        source,
                        reference,
                        description,
                    }
                })
                .collect(),
            ruby: r
                .segments
                .into_iter()
                .map(|s| RubySegment {
                    text: s.text,
                    reading: s.reading,
                })
                .collect(),
        }
    }
}

/// Renders `text` for `audience` with the viewer organization's glossary.
pub(super) async fn render(
    ctx: &Context<'_>,
    text: &str,
    audience: Audience,
    client_name: Option<&str>,
) -> async_graphql::Result<Rendering> {
    let viewer = ctx.viewer()?;
    let glossary = ctx
        .loaders()?
        .glossaries
        .load_one(viewer.organization_id)
        .await?
        .ok_or_else(|| crate::error::ApiError::internal(anyhow::anyhow!("glossary missing")))?;
    let options = tr::Options {
        client_names: client_name
            .map(|n| n.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default(),
    };
    // Analysis of a long text takes a while: off the async workers, so that other requests
    // are not held up.
    let text = text.to_owned();
    let rendering = tokio::task::spawn_blocking(move || {
        let analyzer = crate::language::analysis::get();
        tr::render_with(&text, audience.into(), &glossary, analyzer, &options)
    })
    .await
    .map_err(|e| crate::error::ApiError::internal(anyhow::anyhow!("rendering: {e}")))?;
    Ok(rendering.into())
}

/// A wording for one audience.
#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "AudienceWordingInput")]
pub(super) struct AudienceWording {
    /// The audience.
    pub audience: Audience,
    /// The wording for it.
    pub wording: String,
}

/// A glossary entry (用語集): a term, its reading and its wording per audience.
#[derive(SimpleObject, Clone)]
pub(super) struct GlossaryEntry {
    /// The term as support staff write it.
    pub term: String,
    /// Its reading in hiragana (for furigana).
    pub reading: Option<String>,
    /// Wordings per audience.
    pub wordings: Vec<AudienceWording>,
    /// True for your organization's own entries; false for shipped ones.
    pub own: bool,
    /// When your organization last changed it; null for shipped entries.
    pub updated_at: Option<DateTime<Utc>>,
}

fn entry(e: &tr::GlossaryEntry, updated_at: Option<DateTime<Utc>>) -> GlossaryEntry {
    GlossaryEntry {
        term: e.term.clone(),
        reading: e.reading.clone(),
        wordings: e
            .renderings
            .iter()
            .map(|(a, w)| AudienceWording {
                audience: (*a).into(),
                wording: w.clone(),
            })
            .collect(),
        own: e.source == EntrySource::Organization,
        updated_at,
    }
}

fn own_entry(m: glossary_entry::Model) -> GlossaryEntry {
    entry(&glossaries::entry_of(&m), Some(m.updated_at))
}

#[derive(Default)]
pub(super) struct TranslationQuery;

#[Object]
impl TranslationQuery {
    /// Renders a text for an audience (情報の翻訳) with your organization's glossary: every
    /// change names the glossary entry or rule that made it. At most 10,000 characters.
    async fn translate_text(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The text.")] text: String,
        #[graphql(desc = "Who it is for.")] audience: Audience,
        #[graphql(
            desc = "The client's name (本人の氏名), surname and given name separated by a space: that name is the client; any other name is someone else's and is removed for the family and the client."
        )]
        client_name: Option<String>,
    ) -> async_graphql::Result<Rendering> {
        if text.chars().count() > 10_000 {
            return Err(crate::error::ApiError::bad_input(
                "text",
                "text must be at most 10000 characters.",
            )
            .into());
        }
        if client_name
            .as_ref()
            .is_some_and(|n| n.chars().count() > 100)
        {
            return Err(crate::error::ApiError::bad_input(
                "clientName",
                "clientName must be at most 100 characters.",
            )
            .into());
        }
        render(ctx, &text, audience, client_name.as_deref()).await
    }

    /// The glossary in force for your organization: your own entries and the shipped ones
    /// they do not replace, by term.
    async fn glossary(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<GlossaryEntry>> {
        let viewer = ctx.viewer()?;
        let db = &ctx.state()?.db;
        let own = glossaries::entries(db, viewer.organization_id).await?;
        let merged = glossaries::glossary_for(db, viewer.organization_id).await?;
        let mut out: Vec<GlossaryEntry> = merged
            .entries()
            .iter()
            .map(|e| {
                let at = own.iter().find(|o| o.term == e.term).map(|o| o.updated_at);
                entry(e, at)
            })
            .collect();
        out.sort_by(|a, b| a.term.cmp(&b.term));
        Ok(out)
    }
}

/// Input of `setGlossaryEntry`.
#[derive(InputObject)]
pub(super) struct SetGlossaryEntryInput {
    /// The term (1–50 characters).
    pub term: String,
    /// Its reading in hiragana.
    pub reading: Option<String>,
    /// Wordings per audience (at most one each).
    #[graphql(default)]
    pub wordings: Vec<AudienceWording>,
}

/// Input of `removeGlossaryEntry`.
#[derive(InputObject)]
pub(super) struct RemoveGlossaryEntryInput {
    /// The term.
    pub term: String,
}

/// Result of a glossary change.
#[derive(SimpleObject)]
pub(super) struct GlossaryEntryPayload {
    /// The entry set or removed.
    pub entry: GlossaryEntry,
}

#[derive(Default)]
pub(super) struct TranslationMutation;

#[Object]
impl TranslationMutation {
    /// Adds or replaces your organization's glossary entry for a term (service managers,
    /// specialists, admins); it takes precedence over a shipped entry with the same term.
    async fn set_glossary_entry(
        &self,
        ctx: &Context<'_>,
        input: SetGlossaryEntryInput,
    ) -> async_graphql::Result<GlossaryEntryPayload> {
        let wordings: Vec<(tr::Audience, String)> = input
            .wordings
            .into_iter()
            .map(|w| (w.audience.into(), w.wording))
            .collect();
        let m = glossaries::set_entry(
            ctx.state()?,
            ctx.viewer()?,
            &input.term,
            input.reading.as_deref(),
            &wordings,
        )
        .await?;
        Ok(GlossaryEntryPayload {
            entry: own_entry(m),
        })
    }

    /// Removes your organization's entry for a term (the shipped one, if any, applies again).
    async fn remove_glossary_entry(
        &self,
        ctx: &Context<'_>,
        input: RemoveGlossaryEntryInput,
    ) -> async_graphql::Result<GlossaryEntryPayload> {
        let m = glossaries::remove_entry(ctx.state()?, ctx.viewer()?, &input.term).await?;
        Ok(GlossaryEntryPayload {
            entry: own_entry(m),
        })
    }
}
