//! Observations (支援記録): the fact apart from its interpretation, when it happened apart from
//! when it was written, every amendment kept as a version, never deleted.

use chrono::{DateTime, Duration, Utc};
use entity::{
    observation::{self, ObservationCategory, RecordStatus, Visibility},
    observation_version,
};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, Set,
};
use uuid::Uuid;

use super::{
    access::Scope,
    events::{self, EventKind, RecordType},
    optional_text,
};
use crate::service::ClientWrite;
use crate::{
    auth::{Viewer, policy},
    db,
    error::{ApiError, ApiResult},
    service::Ctx,
};

mod group_commit;
mod reads;
#[cfg(test)]
mod tests;

pub use group_commit::GroupCommit;
use group_commit::{NewRow, insert_checked};
pub use reads::*;

/// The content of an observation, as recorded or amended.
#[derive(Debug, Clone)]
pub struct ObservationContent {
    pub fact: String,
    pub interpretation: Option<String>,
    pub client_words: Option<String>,
    pub category: ObservationCategory,
    pub occurred_from: DateTime<Utc>,
    pub occurred_to: Option<DateTime<Utc>>,
    pub visibility: Visibility,
    pub tags: Vec<String>,
    pub cited_observation_ids: Vec<Uuid>,
}

impl ObservationContent {
    /// Times at the precision the database keeps.
    fn normalized(mut self) -> Self {
        self.occurred_from = super::micros(self.occurred_from);
        self.occurred_to = self.occurred_to.map(super::micros);
        self
    }
}

/// Validated content, ready to store.
struct Checked {
    fact: String,
    interpretation: Option<String>,
    client_words: Option<String>,
    tags: Vec<String>,
}

/// The texts and tags as they would be stored (trimmed, bounded, tags without duplicates).
fn texts(c: &ObservationContent) -> ApiResult<Checked> {
    let fact = super::required_text("fact", &c.fact, 4000)?;
    let interpretation = optional_text("interpretation", c.interpretation.clone(), 4000)?;
    let client_words = optional_text("clientWords", c.client_words.clone(), 2000)?;
    if c.tags.len() > 20 {
        return Err(ApiError::bad_input("tags", "At most 20 tags."));
    }
    let mut tags = Vec::with_capacity(c.tags.len());
    for t in &c.tags {
        let t = super::required_text("tags", t, 50)?;
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    Ok(Checked {
        fact,
        interpretation,
        client_words,
        tags,
    })
}

async fn check(
    db: &impl ConnectionTrait,
    scope: &Scope,
    client_id: Uuid,
    c: &ObservationContent,
    own_id: Option<Uuid>,
) -> ApiResult<Checked> {
    let checked = texts(c)?;
    let now = Utc::now();
    if c.occurred_from > now + Duration::hours(1) {
        return Err(ApiError::bad_input(
            "occurredFrom",
            "An observation cannot happen in the future.",
        ));
    }
    if c.occurred_from < now - Duration::days(365 * 10) {
        return Err(ApiError::bad_input(
            "occurredFrom",
            "occurredFrom is more than ten years ago.",
        ));
    }
    if let Some(to) = c.occurred_to
        && (to < c.occurred_from || to > now + Duration::days(7))
    {
        return Err(ApiError::bad_input(
            "occurredTo",
            "occurredTo must follow occurredFrom and not lie far ahead.",
        ));
    }
    if c.cited_observation_ids.len() > 20 {
        return Err(ApiError::bad_input(
            "citedObservationIds",
            "Cite at most 20 observations.",
        ));
    }
    if !c.cited_observation_ids.is_empty() {
        // Cited observations must exist, belong to the same client and be visible to the writer.
        let cited = observation::Entity::find()
            .filter(observation::Column::Id.is_in(c.cited_observation_ids.iter().copied()))
            .all(db)
            .await?;
        let all_ok = c.cited_observation_ids.iter().all(|id| {
            Some(*id) != own_id
                && cited.iter().any(|o| {
                    o.id == *id && o.client_id == client_id && scope.can_see_observation(o)
                })
        });
        if !all_ok {
            return Err(ApiError::bad_input(
                "citedObservationIds",
                "Cite only visible observations of the same client.",
            ));
        }
    }
    Ok(checked)
}

/// The history entry of an observation (one per observation, following its current version).
async fn put_timeline(db: &impl ConnectionTrait, o: &observation::Model) -> ApiResult<()> {
    super::timeline::put(db, timeline_entry(o)).await
}

fn timeline_entry(o: &observation::Model) -> super::timeline::Entry {
    super::timeline::Entry {
        kind: super::timeline::EntryKind::Observation,
        record_id: o.id,
        client_id: o.client_id,
        occurred_at: o.occurred_from,
        organization_id: o.organization_id,
        visibility: o.visibility,
        data: Some(crate::auth::policy::DataCategory::Observations),
        category: Some(o.category.to_value()),
        status: o.status,
    }
}

fn version_row(o: &observation::Model, editor: Uuid) -> observation_version::ActiveModel {
    observation_version::ActiveModel {
        id: Set(Uuid::now_v7()),
        observation_id: Set(o.id),
        version: Set(o.version),
        fact: Set(o.fact.clone()),
        interpretation: Set(o.interpretation.clone()),
        client_words: Set(o.client_words.clone()),
        category: Set(o.category),
        occurred_from: Set(o.occurred_from),
        occurred_to: Set(o.occurred_to),
        visibility: Set(o.visibility),
        tags: Set(o.tags.clone()),
        cited_observation_ids: Set(o.cited_observation_ids.clone()),
        status: Set(o.status),
        edited_by_staff_member_id: Set(editor),
        edited_at: Set(o.updated_at),
    }
}

/// Records an observation for the viewer's organization.
pub async fn record(
    state: &Ctx,
    viewer: &Viewer,
    client_id: Uuid,
    content: ObservationContent,
) -> ApiResult<observation::Model> {
    db::retrying(|| record_once(state, viewer, client_id, content.clone())).await
}

/// One attempt of [`record`].
async fn record_once(
    state: &Ctx,
    viewer: &Viewer,
    client_id: Uuid,
    content: ObservationContent,
) -> ApiResult<observation::Model> {
    let content = content.normalized();
    // The organization's cached scope (one indexed statement while access is unchanged; see
    // `ScopeCache`), narrowed to this client for the checks' conditions.
    let scope = state
        .scopes
        .get(&state.db, viewer.organization_id)
        .await?
        .narrowed(&[client_id]);
    let rel = scope.require(client_id)?;
    if !policy::can_record_observation(rel) {
        return Err(ApiError::forbidden(
            "Only current care-team members record observations.",
        ));
    }
    let checked = check(&state.db, &scope, client_id, &content, None).await?;
    state
        .observation_writer
        .insert(NewRow {
            viewer: viewer.clone(),
            client_id,
            checked,
            content,
        })
        .await
}

/// Loads an observation for a change by the viewer, checking visibility, the rule and the
/// expected version (inside the write transaction).
async fn for_change(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    expected_version: i32,
) -> ApiResult<(observation::Model, Scope)> {
    let o = observation::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("Observation"))?;
    let scope = ClientWrite::for_record(viewer, o.client_id, "Observation")
        .seen_as_observation(&o)
        .check_in(
            db,
            |viewer, rel| {
                policy::can_amend_observation(viewer, rel, o.organization_id, o.author_staff_member_id)
            },
            "Only the author, or a service manager or admin of the writing organization, changes an observation.",
        )
        .await?;
    if o.status == RecordStatus::EnteredInError {
        return Err(ApiError::conflict(
            "This observation was marked entered-in-error and cannot change.",
        ));
    }
    if o.version != expected_version {
        return Err(ApiError::conflict(format!(
            "The observation is at version {}, not {expected_version}: reload it and apply your change again.",
            o.version
        )));
    }
    Ok((o, scope))
}

/// Amends an observation: a new version; the previous one stays readable.
pub async fn amend(
    state: &Ctx,
    viewer: &Viewer,
    id: Uuid,
    expected_version: i32,
    content: ObservationContent,
) -> ApiResult<observation::Model> {
    db::retrying(|| amend_once(state, viewer, id, expected_version, content.clone())).await
}

/// One attempt of [`amend`].
async fn amend_once(
    state: &Ctx,
    viewer: &Viewer,
    id: Uuid,
    expected_version: i32,
    content: ObservationContent,
) -> ApiResult<observation::Model> {
    let content = content.normalized();
    let txn = db::begin_write(&state.db).await?;
    let (o, scope) = for_change(&txn, viewer, id, expected_version).await?;
    let checked = check(&txn, &scope, o.client_id, &content, Some(o.id)).await?;
    let model = apply_amendment(&txn, viewer, o, checked, &content).await?;
    txn.commit().await?;
    Ok(model)
}

/// Writes a checked amendment as the next version, in the caller's transaction.
async fn apply_amendment(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    o: observation::Model,
    checked: Checked,
    content: &ObservationContent,
) -> ApiResult<observation::Model> {
    let client_id = o.client_id;
    let next_version = o.version + 1;
    let mut am = o.into_active_model();
    am.version = Set(next_version);
    am.fact = Set(checked.fact);
    am.interpretation = Set(checked.interpretation);
    am.client_words = Set(checked.client_words);
    am.category = Set(content.category);
    am.occurred_from = Set(content.occurred_from);
    am.occurred_to = Set(content.occurred_to);
    am.visibility = Set(content.visibility);
    am.tags = Set(observation::Tags(checked.tags));
    am.cited_observation_ids = Set(observation::ObservationIds(
        content.cited_observation_ids.clone(),
    ));
    am.updated_by_staff_member_id = Set(viewer.staff_member_id);
    am.updated_at = Set(super::now());
    let model = am.update(txn).await?;
    version_row(&model, viewer.staff_member_id)
        .insert(txn)
        .await?;
    put_timeline(txn, &model).await?;
    events::record_change(
        txn,
        viewer,
        EventKind::ObservationAmended,
        client_id,
        RecordType::Observation,
        model.id,
    )
    .await?;
    Ok(model)
}

/// Records or amends the observation the viewer's organization knows by `external_id`, in the
/// caller's transaction: the same item sent again changes nothing. Citations are not imported;
/// those already on a record are kept.
pub(crate) async fn upsert_in(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    scope: &Scope,
    client_id: Uuid,
    external_id: String,
    content: ObservationContent,
) -> ApiResult<(super::external_ids::Outcome, observation::Model)> {
    use super::external_ids::Outcome;
    let mut content = content.normalized();
    let rel = scope.require(client_id)?;
    let existing = observation::Entity::find()
        .filter(observation::Column::OrganizationId.eq(viewer.organization_id))
        .filter(observation::Column::ExternalId.eq(external_id.as_str()))
        .one(txn)
        .await?;
    let Some(o) = existing else {
        if !policy::can_record_observation(rel) {
            return Err(ApiError::forbidden(
                "Only current care-team members record observations.",
            ));
        }
        content.cited_observation_ids.clear();
        let checked = check(txn, scope, client_id, &content, None).await?;
        let model =
            insert_checked(txn, viewer, client_id, checked, &content, Some(external_id)).await?;
        return Ok((Outcome::Created, model));
    };
    if o.client_id != client_id {
        return Err(ApiError::conflict(
            "This externalId already names an observation of another client.",
        ));
    }
    // Compare first: an unchanged item is answered without re-judging what is stored (a cited
    // record may have become invisible since, and a replay must still say UNCHANGED).
    let incoming = texts(&content)?;
    let same = o.fact == incoming.fact
        && o.interpretation == incoming.interpretation
        && o.client_words == incoming.client_words
        && o.category == content.category
        && o.occurred_from == content.occurred_from
        && o.occurred_to == content.occurred_to
        && o.visibility == content.visibility
        && o.tags.0 == incoming.tags;
    if same {
        return Ok((Outcome::Unchanged, o));
    }
    content.cited_observation_ids = o.cited_observation_ids.0.clone();
    let checked = check(txn, scope, client_id, &content, Some(o.id)).await?;
    if o.status == RecordStatus::EnteredInError {
        return Err(ApiError::conflict(
            "This observation was marked entered-in-error and cannot change.",
        ));
    }
    if !policy::can_amend_observation(viewer, rel, o.organization_id, o.author_staff_member_id) {
        return Err(ApiError::forbidden(
            "Only the author, or a service manager or admin of the writing organization, changes an observation.",
        ));
    }
    let model = apply_amendment(txn, viewer, o, checked, &content).await?;
    Ok((Outcome::Updated, model))
}

/// Marks an observation entered-in-error (記載誤り): it stays stored and auditable, out of lists.
pub async fn mark_entered_in_error(
    state: &Ctx,
    viewer: &Viewer,
    id: Uuid,
    expected_version: i32,
    reason: &str,
) -> ApiResult<observation::Model> {
    db::retrying(|| mark_entered_in_error_once(state, viewer, id, expected_version, reason)).await
}

/// One attempt of [`mark_entered_in_error`].
async fn mark_entered_in_error_once(
    state: &Ctx,
    viewer: &Viewer,
    id: Uuid,
    expected_version: i32,
    reason: &str,
) -> ApiResult<observation::Model> {
    let reason = super::required_text("reason", reason, 1000)?;
    let txn = db::begin_write(&state.db).await?;
    let (o, _) = for_change(&txn, viewer, id, expected_version).await?;
    let client_id = o.client_id;
    let mut am = o.into_active_model();
    am.version = Set(expected_version + 1);
    am.status = Set(RecordStatus::EnteredInError);
    am.entered_in_error_reason = Set(Some(reason));
    am.updated_by_staff_member_id = Set(viewer.staff_member_id);
    am.updated_at = Set(super::now());
    let model = am.update(&txn).await?;
    version_row(&model, viewer.staff_member_id)
        .insert(&txn)
        .await?;
    put_timeline(&txn, &model).await?;
    events::record_change(
        &txn,
        viewer,
        EventKind::ObservationEnteredInError,
        client_id,
        RecordType::Observation,
        model.id,
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// One observation the viewer may see; the read is audited.
pub async fn get(state: &Ctx, viewer: &Viewer, id: Uuid) -> ApiResult<observation::Model> {
    let o = observation::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("Observation"))?;
    let scope = Scope::for_client(&state.db, viewer, o.client_id).await?;
    if !scope.can_see_observation(&o) {
        return Err(ApiError::NotFound("Observation"));
    }
    state
        .read_audits
        .record(
            viewer,
            entity::read_audit::ReadOperation::Observations,
            vec![(Some(o.client_id), vec![o.id])],
        )
        .await?;
    Ok(o)
}

/// An observation's tags.
pub fn tags(o: &observation::Model) -> Vec<String> {
    o.tags.0.clone()
}
