//! Each organization's translation glossary (用語集): term → wording per audience, with a
//! reading for furigana. Applied on top of the shipped glossary (`api/data/glossary.toml`).

use entity::glossary_entry;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::{
    auth::{Viewer, policy},
    error::{ApiError, ApiResult},
    language::translation::{Audience, EntrySource, Glossary, GlossaryEntry},
    service::Ctx,
};

/// Most entries an organization keeps.
pub const MAX_ENTRIES: usize = 1_000;

pub fn entry_of(m: &glossary_entry::Model) -> GlossaryEntry {
    let renderings = m
        .renderings
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| Some((Audience::parse(k)?, v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    GlossaryEntry {
        term: m.term.clone(),
        reading: m.reading.clone(),
        renderings,
        source: EntrySource::Organization,
    }
}

/// The organization's own entries, by term.
pub async fn entries(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
) -> ApiResult<Vec<glossary_entry::Model>> {
    Ok(glossary_entry::Entity::find()
        .filter(glossary_entry::Column::OrganizationId.eq(organization_id))
        .all(db)
        .await?)
}

/// The glossaries of some organizations, in one statement (for a DataLoader).
pub async fn glossaries_for(
    db: &impl ConnectionTrait,
    organizations: &[Uuid],
) -> ApiResult<std::collections::HashMap<Uuid, std::sync::Arc<Glossary>>> {
    let shipped =
        Glossary::shipped().map_err(|e| ApiError::internal(anyhow::anyhow!("glossary: {e}")))?;
    let rows = glossary_entry::Entity::find()
        .filter(glossary_entry::Column::OrganizationId.is_in(organizations.iter().copied()))
        .all(db)
        .await?;
    let by_org = super::group_by(rows, |e| e.organization_id);
    Ok(organizations
        .iter()
        .map(|org| {
            let own = by_org
                .get(org)
                .map(|l| l.iter().map(entry_of).collect())
                .unwrap_or_default();
            (*org, std::sync::Arc::new(shipped.with_organization(own)))
        })
        .collect())
}

/// The shipped glossary with the organization's entries on top.
pub async fn glossary_for(db: &impl ConnectionTrait, organization_id: Uuid) -> ApiResult<Glossary> {
    let shipped =
        Glossary::shipped().map_err(|e| ApiError::internal(anyhow::anyhow!("glossary: {e}")))?;
    let own = entries(db, organization_id).await?;
    Ok(shipped.with_organization(own.iter().map(entry_of).collect()))
}

fn require_coordinator(viewer: &Viewer) -> ApiResult<()> {
    if policy::coordinates(viewer.role) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "Service managers, consultation specialists and admins maintain the glossary.",
        ))
    }
}

/// Adds or replaces the organization's entry for a term (coordinators only).
pub async fn set_entry(
    state: &Ctx,
    viewer: &Viewer,
    term: &str,
    reading: Option<&str>,
    renderings: &[(Audience, String)],
) -> ApiResult<glossary_entry::Model> {
    require_coordinator(viewer)?;
    let term = super::required_text("term", term, 50)?;
    let reading = match reading.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) if r.chars().count() > 100 => {
            return Err(ApiError::bad_input(
                "reading",
                "reading must be at most 100 characters.",
            ));
        }
        Some(r)
            if !r
                .chars()
                .all(|c| ('\u{3041}'..='\u{309F}').contains(&c) || c == 'ー' || c == ' ') =>
        {
            return Err(ApiError::bad_input(
                "reading",
                "reading is written in hiragana.",
            ));
        }
        r => r.map(str::to_owned),
    };
    if renderings.len() > Audience::ALL.len() {
        return Err(ApiError::bad_input(
            "renderings",
            "One wording per audience.",
        ));
    }
    let mut map = serde_json::Map::new();
    for (a, w) in renderings {
        let w = super::required_text("renderings.wording", w, 500)?;
        if map.insert(a.as_str().to_owned(), w.into()).is_some() {
            return Err(ApiError::bad_input(
                "renderings",
                "One wording per audience.",
            ));
        }
    }
    let existing = entries(&state.db, viewer.organization_id).await?;
    let now = super::now();
    if let Some(e) = existing.iter().find(|e| e.term == term) {
        let mut m: glossary_entry::ActiveModel = e.clone().into();
        m.reading = Set(reading);
        m.renderings = Set(map.into());
        m.updated_by_staff_member_id = Set(viewer.staff_member_id);
        m.updated_at = Set(now);
        return Ok(m.update(&state.db).await?);
    }
    if existing.len() >= MAX_ENTRIES {
        return Err(ApiError::bad_input(
            "term",
            format!("An organization keeps at most {MAX_ENTRIES} glossary entries."),
        ));
    }
    let model = glossary_entry::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(viewer.organization_id),
        term: Set(term),
        reading: Set(reading),
        renderings: Set(map.into()),
        updated_by_staff_member_id: Set(viewer.staff_member_id),
        updated_at: Set(now),
    };
    model.insert(&state.db).await.map_err(|e| {
        if super::is_unique_violation(&e) {
            ApiError::conflict("The entry was changed at the same time; try again.")
        } else {
            e.into()
        }
    })
}

/// Removes the organization's entry for a term (coordinators only).
pub async fn remove_entry(
    state: &Ctx,
    viewer: &Viewer,
    term: &str,
) -> ApiResult<glossary_entry::Model> {
    require_coordinator(viewer)?;
    let e = entries(&state.db, viewer.organization_id)
        .await?
        .into_iter()
        .find(|e| e.term == term.trim())
        .ok_or(ApiError::NotFound("Glossary entry"))?;
    glossary_entry::Entity::delete_by_id(e.id)
        .exec(&state.db)
        .await?;
    Ok(e)
}
