//! The fact check (事実と解釈) applied to stored texts, and each organization's own terms.
//!
//! Findings are computed when read, never stored: a lexicon change (shipped or the
//! organization's own) applies to every record at once. An observation is checked with its
//! writing organization's terms, since the words are theirs.

use std::{collections::HashMap, sync::Arc};

use entity::lexicon_term;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::documents::PlanContent;
use crate::{
    auth::{Viewer, policy},
    error::{ApiError, ApiResult},
    language::{
        fact_check::{self, Finding, Mode, Report},
        lexicon::{Lexicon, OrganizationLexicon, OwnTermKind},
    },
    service::Ctx,
};

/// Longest text `checkRecordText` accepts (characters).
pub const MAX_TEXT: usize = 10_000;
/// Most own terms an organization keeps.
pub const MAX_TERMS: usize = 500;

pub fn kind_str(k: OwnTermKind) -> &'static str {
    match k {
        OwnTermKind::Interpretation => "INTERPRETATION",
        OwnTermKind::VagueAmount => "VAGUE_AMOUNT",
        OwnTermKind::VagueGoal => "VAGUE_GOAL",
        OwnTermKind::Anchor => "ANCHOR",
        OwnTermKind::Allowed => "ALLOWED",
    }
}

pub fn parse_kind(s: &str) -> Option<OwnTermKind> {
    [
        OwnTermKind::Interpretation,
        OwnTermKind::VagueAmount,
        OwnTermKind::VagueGoal,
        OwnTermKind::Anchor,
        OwnTermKind::Allowed,
    ]
    .into_iter()
    .find(|k| kind_str(*k) == s)
}

fn builtin() -> ApiResult<&'static Lexicon> {
    Lexicon::builtin().map_err(|e| ApiError::internal(anyhow::anyhow!("lexicon: {e}")))
}

/// The own terms of some organizations, compiled, in one statement.
pub async fn lexicons(
    db: &impl ConnectionTrait,
    organizations: &[Uuid],
) -> ApiResult<HashMap<Uuid, Arc<OrganizationLexicon>>> {
    let rows = lexicon_term::Entity::find()
        .filter(lexicon_term::Column::OrganizationId.is_in(organizations.iter().copied()))
        .all(db)
        .await?;
    let by_org = super::group_by(rows, |t| t.organization_id);
    Ok(organizations
        .iter()
        .map(|org| {
            let rows = by_org.get(org).map(Vec::as_slice).unwrap_or_default();
            let own = OrganizationLexicon::new(rows.iter().filter_map(|t| {
                parse_kind(&t.kind).map(|k| (t.phrase.as_str(), k, format!("org:{}", t.id)))
            }));
            (*org, Arc::new(own))
        })
        .collect())
}

/// Checks free text, as `checkRecordText` does.
pub fn check(text: &str, mode: Mode, own: Option<&OrganizationLexicon>) -> ApiResult<Report> {
    if text.chars().count() > MAX_TEXT {
        return Err(ApiError::bad_input(
            "text",
            format!("text must be at most {MAX_TEXT} characters."),
        ));
    }
    Ok(fact_check::check(text, mode, builtin()?, own))
}

/// Findings on a plan's goals, each with the field it stands in (`goals.0.text` …). Wishes and
/// the overall policy are left alone: they are the client's words and a summary, not goals.
pub fn plan_findings(
    content: &PlanContent,
    own: Option<&OrganizationLexicon>,
) -> ApiResult<Vec<(String, Finding)>> {
    let lexicon = builtin()?;
    let mut fields: Vec<(String, &str)> = Vec::new();
    if let Some(t) = &content.long_term_goal {
        fields.push(("longTermGoal".into(), t));
    }
    if let Some(t) = &content.short_term_goal {
        fields.push(("shortTermGoal".into(), t));
    }
    for (i, g) in content.goals.iter().enumerate() {
        fields.push((format!("goals.{i}.text"), &g.text));
    }
    for (i, n) in content.needs.iter().enumerate() {
        fields.push((format!("needs.{i}.supportGoal"), &n.support_goal));
    }
    Ok(fields
        .into_iter()
        .flat_map(|(field, text)| {
            fact_check::check(text, Mode::Plan, lexicon, own)
                .findings
                .into_iter()
                .map(move |f| (field.clone(), f))
        })
        .collect())
}

/// The organization's own terms, oldest first.
pub async fn terms(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
) -> ApiResult<Vec<lexicon_term::Model>> {
    Ok(lexicon_term::Entity::find()
        .filter(lexicon_term::Column::OrganizationId.eq(organization_id))
        .all(db)
        .await?)
}

fn require_coordinator(viewer: &Viewer) -> ApiResult<()> {
    if policy::coordinates(viewer.role) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "Service managers, consultation specialists and admins maintain the organization's terms.",
        ))
    }
}

/// Adds a term to the viewer's organization (coordinators only).
pub async fn add_term(
    state: &Ctx,
    viewer: &Viewer,
    phrase: &str,
    kind: OwnTermKind,
) -> ApiResult<lexicon_term::Model> {
    require_coordinator(viewer)?;
    let phrase = super::required_text("phrase", phrase, 50)?;
    if terms(&state.db, viewer.organization_id).await?.len() >= MAX_TERMS {
        return Err(ApiError::bad_input(
            "phrase",
            format!("An organization keeps at most {MAX_TERMS} terms."),
        ));
    }
    let model = lexicon_term::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(viewer.organization_id),
        phrase: Set(phrase),
        kind: Set(kind_str(kind).to_owned()),
        created_by_staff_member_id: Set(viewer.staff_member_id),
        created_at: Set(super::now()),
    };
    model.insert(&state.db).await.map_err(|e| {
        if super::is_unique_violation(&e) {
            ApiError::conflict("This term is already in the organization's lexicon.")
        } else {
            e.into()
        }
    })
}

/// Removes one of the organization's terms (coordinators only).
pub async fn remove_term(state: &Ctx, viewer: &Viewer, id: Uuid) -> ApiResult<lexicon_term::Model> {
    require_coordinator(viewer)?;
    let term = lexicon_term::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|t| t.organization_id == viewer.organization_id)
        .ok_or(ApiError::NotFound("Lexicon term"))?;
    lexicon_term::Entity::delete_by_id(id)
        .exec(&state.db)
        .await?;
    Ok(term)
}
