//! Observations (支援記録): the fact apart from its interpretation, when it happened apart from
//! when it was written, every amendment kept as a version, never deleted.

use std::{collections::HashMap, sync::OnceLock};

use chrono::{DateTime, Duration, Utc};
use entity::{
    client_review,
    observation::{self, ObservationCategory, RecordStatus, Visibility},
    observation_version,
};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, FromQueryResult, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, Set, StatementBuilder, TransactionTrait,
    sea_query::{Alias, Asterisk, Expr, OnConflict, Query, SelectStatement, UnionType},
};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::{
    access::Scope,
    clients::optional_text,
    events::{self, EventKind},
    page::{Order, Page, PageArgs, paginate_ordered},
};
use crate::{
    auth::{Viewer, policy},
    db,
    error::{ApiError, ApiResult},
    state::AppState,
};

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
    state: &AppState,
    viewer: &Viewer,
    client_id: Uuid,
    content: ObservationContent,
) -> ApiResult<observation::Model> {
    db::retrying(|| record_once(state, viewer, client_id, content.clone())).await
}

/// One attempt of [`record`].
async fn record_once(
    state: &AppState,
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

/// A checked observation waiting for the [`GroupCommit`] writer.
struct NewRow {
    viewer: Viewer,
    client_id: Uuid,
    checked: Checked,
    content: ObservationContent,
}

type Job = (NewRow, oneshot::Sender<ApiResult<observation::Model>>);

/// Commits concurrent new observations together: one transaction, so one disk flush, for every
/// insert waiting when the previous group committed, inserted with one statement per table (if
/// that fails, one savepoint per insert, so that one failure fails only its own request). SQLite with `synchronous=FULL` commits at most as often as
/// the disk flushes (about 1,300 times a second on the benchmark machine), which without grouping
/// would cap `recordObservation` there however many writers wait. A lone writer sees no delay: a
/// group is whatever is queued, possibly one. The request is answered only after the commit.
pub struct GroupCommit {
    db: DatabaseConnection,
    queue: OnceLock<mpsc::Sender<Job>>,
}

/// The most inserts committed as one group.
const GROUP_MAX: usize = 128;

impl GroupCommit {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            queue: OnceLock::new(),
        }
    }

    async fn insert(&self, row: NewRow) -> ApiResult<observation::Model> {
        let queue = self.queue.get_or_init(|| {
            // Started on first use, inside the runtime; it ends when the state is dropped.
            let (tx, rx) = mpsc::channel(4 * GROUP_MAX);
            tokio::spawn(write_groups(self.db.clone(), rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        queue
            .send((row, reply))
            .await
            .map_err(|_| ApiError::internal(anyhow::anyhow!("the observation writer stopped")))?;
        answer.await.map_err(|_| {
            ApiError::internal(anyhow::anyhow!("the observation writer dropped a write"))
        })?
    }
}

async fn write_groups(db: DatabaseConnection, mut queue: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(GROUP_MAX);
    while queue.recv_many(&mut jobs, GROUP_MAX).await > 0 {
        // A bug in one group must not stop every later write: its requests get an internal
        // error (their answers are dropped) and the writer goes on.
        let group = std::panic::AssertUnwindSafe(commit_group(&db, std::mem::take(&mut jobs)));
        if futures_util::FutureExt::catch_unwind(group).await.is_err() {
            tracing::error!("writing a group of observations panicked; the writer goes on");
        }
    }
}

async fn commit_group(db: &DatabaseConnection, jobs: Vec<Job>) {
    let txn = match db::begin_insert(db).await {
        Ok(txn) => txn,
        Err(e) => {
            for (_, reply) in jobs {
                let _ = reply.send(Err(e.clone().into()));
            }
            return;
        }
    };
    let inserted = match insert_together(&txn, &jobs).await {
        Ok(models) => models
            .into_iter()
            .zip(jobs.into_iter().map(|(_, r)| r))
            .collect(),
        // One of them failed: each again in its own savepoint, so it fails alone.
        Err(_) => insert_one_by_one(&txn, jobs).await,
    };
    match txn.commit().await {
        Ok(()) => {
            for (model, reply) in inserted {
                let _ = reply.send(Ok(model));
            }
        }
        Err(e) => {
            for (_, reply) in inserted {
                let _ = reply.send(Err(e.clone().into()));
            }
        }
    }
}

/// The whole group in one savepoint and one statement per table (the usual case).
async fn insert_together(
    txn: &DatabaseTransaction,
    jobs: &[Job],
) -> ApiResult<Vec<observation::Model>> {
    let rows = jobs
        .iter()
        .map(|(row, _)| NewObservation {
            viewer: &row.viewer,
            client_id: row.client_id,
            checked: &row.checked,
            content: &row.content,
            external_id: None,
        })
        .collect();
    in_savepoint(txn, async |savepoint| insert_all(savepoint, rows).await).await
}

/// Runs `insert` in a savepoint of `txn`: kept when it succeeds, rolled back when it fails.
async fn in_savepoint<T>(
    txn: &DatabaseTransaction,
    insert: impl AsyncFnOnce(&DatabaseTransaction) -> ApiResult<T>,
) -> ApiResult<T> {
    let savepoint = txn.begin().await?;
    match insert(&savepoint).await {
        Ok(value) => {
            savepoint.commit().await?;
            Ok(value)
        }
        Err(e) => {
            savepoint.rollback().await?;
            Err(e)
        }
    }
}

/// Each insert of the group in a savepoint of its own: a failing one is answered with its error
/// and the others still commit.
async fn insert_one_by_one(
    txn: &DatabaseTransaction,
    jobs: Vec<Job>,
) -> Vec<(
    observation::Model,
    oneshot::Sender<ApiResult<observation::Model>>,
)> {
    let mut inserted = Vec::with_capacity(jobs.len());
    for (row, reply) in jobs {
        let NewRow {
            viewer,
            client_id,
            checked,
            content,
        } = row;
        let attempt = in_savepoint(txn, async |savepoint| {
            insert_checked(savepoint, &viewer, client_id, checked, &content, None).await
        });
        match attempt.await {
            Ok(model) => inserted.push((model, reply)),
            Err(e) => {
                let _ = reply.send(Err(e));
            }
        }
    }
    inserted
}

/// A checked observation to insert, with who records it.
struct NewObservation<'a> {
    viewer: &'a Viewer,
    client_id: Uuid,
    checked: &'a Checked,
    content: &'a ObservationContent,
    external_id: Option<String>,
}

/// Inserts a checked observation with its first version, history entry and event, in the
/// caller's transaction.
async fn insert_checked(
    txn: &impl ConnectionTrait,
    viewer: &Viewer,
    client_id: Uuid,
    checked: Checked,
    content: &ObservationContent,
    external_id: Option<String>,
) -> ApiResult<observation::Model> {
    let new = NewObservation {
        viewer,
        client_id,
        checked: &checked,
        content,
        external_id,
    };
    let mut models = insert_all(txn, vec![new]).await?;
    models
        .pop()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no observation inserted")))
}

/// Inserts checked observations with their first versions, history entries, audit entries and
/// events: one statement per table whatever their number, events in the given order.
async fn insert_all(
    txn: &impl ConnectionTrait,
    new: Vec<NewObservation<'_>>,
) -> ApiResult<Vec<observation::Model>> {
    let now = super::now();
    let models: Vec<observation::Model> = new
        .iter()
        .map(|n| observation::Model {
            id: Uuid::now_v7(),
            client_id: n.client_id,
            organization_id: n.viewer.organization_id,
            author_staff_member_id: n.viewer.staff_member_id,
            version: 1,
            fact: n.checked.fact.clone(),
            interpretation: n.checked.interpretation.clone(),
            client_words: n.checked.client_words.clone(),
            category: n.content.category,
            occurred_from: n.content.occurred_from,
            occurred_to: n.content.occurred_to,
            recorded_at: now,
            visibility: n.content.visibility,
            tags: serde_json::json!(n.checked.tags),
            cited_observation_ids: serde_json::json!(n.content.cited_observation_ids),
            status: RecordStatus::Current,
            entered_in_error_reason: None,
            updated_by_staff_member_id: n.viewer.staff_member_id,
            updated_at: now,
            external_id: n.external_id.clone(),
        })
        .collect();
    observation::Entity::insert_many(models.iter().cloned().map(observation::ActiveModel::from))
        .exec_without_returning(txn)
        .await?;
    observation_version::Entity::insert_many(
        new.iter()
            .zip(&models)
            .map(|(n, m)| version_row(m, n.viewer.staff_member_id)),
    )
    .exec_without_returning(txn)
    .await?;
    super::timeline::insert_many(txn, models.iter().map(timeline_entry).collect()).await?;
    let changes: Vec<events::Change<'_>> = new
        .iter()
        .zip(&models)
        .map(|(n, m)| {
            (
                n.viewer,
                EventKind::ObservationRecorded,
                n.client_id,
                "Observation",
                m.id,
            )
        })
        .collect();
    events::record_changes(txn, &changes).await?;
    Ok(models)
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
    let scope = Scope::for_client(db, viewer, o.client_id).await?;
    if !scope.can_see_observation(&o) {
        return Err(ApiError::NotFound("Observation"));
    }
    let rel = scope.require(o.client_id)?;
    if !policy::can_amend_observation(viewer, rel, o.organization_id, o.author_staff_member_id) {
        return Err(ApiError::forbidden(
            "Only the author, or a service manager or admin of the writing organization, changes an observation.",
        ));
    }
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
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    expected_version: i32,
    content: ObservationContent,
) -> ApiResult<observation::Model> {
    db::retrying(|| amend_once(state, viewer, id, expected_version, content.clone())).await
}

/// One attempt of [`amend`].
async fn amend_once(
    state: &AppState,
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
    am.tags = Set(serde_json::json!(checked.tags));
    am.cited_observation_ids = Set(serde_json::json!(content.cited_observation_ids));
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
        "Observation",
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
        && o.tags == serde_json::json!(incoming.tags);
    if same {
        return Ok((Outcome::Unchanged, o));
    }
    content.cited_observation_ids = super::json_uuids(&o.cited_observation_ids);
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
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    expected_version: i32,
    reason: &str,
) -> ApiResult<observation::Model> {
    db::retrying(|| mark_entered_in_error_once(state, viewer, id, expected_version, reason)).await
}

/// One attempt of [`mark_entered_in_error`].
async fn mark_entered_in_error_once(
    state: &AppState,
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
        "Observation",
        model.id,
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// One observation the viewer may see; the read is audited.
pub async fn get(state: &AppState, viewer: &Viewer, id: Uuid) -> ApiResult<observation::Model> {
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

/// An observation's tags (stored as a JSON array of strings).
pub fn tags(o: &observation::Model) -> Vec<String> {
    o.tags
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Filters for observation lists.
#[derive(Debug, Clone, Default)]
pub struct ObservationFilter {
    pub categories: Vec<ObservationCategory>,
    pub include_entered_in_error: bool,
    /// Only observations recorded at or after this time.
    pub recorded_since: Option<DateTime<Utc>>,
    /// Only these clients (intersected with the scope).
    pub clients: Option<Vec<Uuid>>,
    /// Only records of other organizations.
    pub shared_only: bool,
}

/// A filter on at most this many clients narrows the scope's condition to them (larger lists
/// are about as long as the scope itself).
const NARROW_UP_TO: usize = 100;

/// Observations visible to the scope, newest first, as a page; the read is audited per client.
pub async fn list(
    state: &AppState,
    viewer: &Viewer,
    scope: &Scope,
    filter: &ObservationFilter,
    page: &PageArgs,
) -> ApiResult<Page<observation::Model>> {
    let condition = match &filter.clients {
        Some(clients) if clients.len() <= NARROW_UP_TO => {
            scope.narrowed(clients).observation_condition()
        }
        _ => scope.observation_condition(),
    };
    let mut q = observation::Entity::find().filter(condition);
    let walk_newest = state.db.get_database_backend() == sea_orm::DbBackend::Sqlite
        && filter.categories.is_empty()
        && filter
            .clients
            .as_ref()
            .is_some_and(|c| c.len() > NARROW_UP_TO);
    q = q.filter(filter_condition(scope, filter, walk_newest));
    let result = paginate_ordered(
        &state.db,
        q,
        observation::Column::Id,
        page,
        Order::NewestFirst,
    )
    .await?;
    audit_reads(state, viewer, &result.items).await?;
    Ok(result)
}

/// `walk_newest` (SQLite only) keeps SQLite from answering the client list from an index: for
/// an unfiltered list over many clients, walking the newest ids first stops after a page, while
/// the `(client_id, …)` indexes read every row of every client and sort them. SQLite 3.51 picks
/// the latter even with statistics (`sharedObservations(first: 20)` over 500 clients and 200,000
/// observations: 1.4 ms against 120–170 ms); a category filter is selective, and the index wins
/// there. The unary `+` changes no value, only the plan.
fn filter_condition(scope: &Scope, f: &ObservationFilter, walk_newest: bool) -> Condition {
    use observation::Column as O;
    let mut c = Condition::all();
    if !f.categories.is_empty() {
        c = c.add(O::Category.is_in(f.categories.iter().copied()));
    }
    if !f.include_entered_in_error {
        c = c.add(O::Status.eq(RecordStatus::Current));
    }
    if let Some(since) = f.recorded_since {
        c = c.add(O::RecordedAt.gte(since));
    }
    if let Some(clients) = &f.clients {
        c = c.add(if walk_newest {
            use sea_orm::sea_query::ExprTrait;
            Expr::cust("+\"client_id\"").is_in(clients.iter().copied())
        } else {
            O::ClientId.is_in(clients.iter().copied())
        });
    }
    if f.shared_only {
        c = c.add(O::OrganizationId.ne(scope.viewer_org));
    }
    c
}

/// One audit entry per client whose records were read, all in one statement.
pub async fn audit_reads(
    state: &AppState,
    viewer: &Viewer,
    items: &[observation::Model],
) -> ApiResult<()> {
    let mut by_client: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for o in items {
        by_client.entry(o.client_id).or_default().push(o.id);
    }
    state
        .read_audits
        .record(
            viewer,
            entity::read_audit::ReadOperation::Observations,
            by_client
                .into_iter()
                .map(|(c, ids)| (Some(c), ids))
                .collect(),
        )
        .await
}

/// The newest `limit` visible, current observations of each client, in one statement, for
/// `Client.recentObservations` on a page of clients.
///
/// Each client is its own `ORDER BY id DESC LIMIT n` branch of a `UNION ALL`: both databases
/// answer a branch by walking the `(client_id, id)` index backwards and stop after `n` visible
/// rows. (A window function over the same rows ranks every observation of every client first:
/// 10,000 rows for a page of 50 clients with 200 each.)
pub async fn recent_for_clients(
    db: &impl ConnectionTrait,
    scope: &Scope,
    clients: &[Uuid],
    limit: u64,
) -> ApiResult<HashMap<Uuid, Vec<observation::Model>>> {
    let mut out: HashMap<Uuid, Vec<observation::Model>> = HashMap::new();
    if clients.is_empty() || limit == 0 {
        return Ok(out);
    }
    let backend = db.get_database_backend();
    let newest = |client_id: Uuid| {
        Query::select()
            .column(Asterisk)
            .from(observation::Entity)
            .cond_where(
                Condition::all()
                    .add(observation::Column::ClientId.eq(client_id))
                    .add(observation::Column::Status.eq(RecordStatus::Current))
                    .add(scope.narrowed(&[client_id]).observation_condition()),
            )
            .order_by(observation::Column::Id, sea_orm::sea_query::Order::Desc)
            .limit(limit)
            .to_owned()
    };
    for chunk in clients.chunks(MAX_UNION_BRANCHES) {
        let Some(union) = union_all(chunk.iter().map(|c| newest(*c))) else {
            continue;
        };
        let rows = observation::Model::find_by_statement(StatementBuilder::build(&union, &backend))
            .all(db)
            .await?;
        for o in rows {
            out.entry(o.client_id).or_default().push(o);
        }
    }
    for list in out.values_mut() {
        list.sort_unstable_by_key(|o| std::cmp::Reverse(o.id));
    }
    Ok(out)
}

/// Members per `UNION ALL` statement (SQLite allows at most 500 by default).
const MAX_UNION_BRANCHES: usize = 100;

/// `SELECT * FROM (b1) UNION ALL SELECT * FROM (b2) ...`: each branch keeps its own `ORDER BY` and
/// `LIMIT` (SQLite allows them in a compound's member only inside a subquery). `None` when there
/// is no branch.
fn union_all(branches: impl IntoIterator<Item = SelectStatement>) -> Option<SelectStatement> {
    let mut union: Option<SelectStatement> = None;
    for (i, branch) in branches.into_iter().enumerate() {
        let wrapped = Query::select()
            .column(Asterisk)
            .from_subquery(branch, Alias::new(format!("b{i}")))
            .to_owned();
        match union.as_mut() {
            None => union = Some(wrapped),
            Some(u) => {
                u.union(UnionType::All, wrapped);
            }
        }
    }
    union
}

/// Per client: visible, current observations of other organizations recorded since the viewer
/// last reviewed the client, and risk signs of the last 30 days. Two statements for any number
/// of clients.
pub async fn counts_for_clients(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    scope: &Scope,
    clients: &[Uuid],
) -> ApiResult<HashMap<Uuid, (u64, u64)>> {
    let reviews: HashMap<Uuid, DateTime<Utc>> = client_review::Entity::find()
        .filter(client_review::Column::StaffMemberId.eq(viewer.staff_member_id))
        .filter(client_review::Column::ClientId.is_in(clients.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.client_id, r.last_reviewed_at))
        .collect();
    // New since review: one OR-branch per distinct review time (clients never reviewed count all).
    let mut since = Condition::any();
    let never: Vec<Uuid> = clients
        .iter()
        .copied()
        .filter(|c| !reviews.contains_key(c))
        .collect();
    since = since.add(observation::Column::ClientId.is_in(never));
    for (client, at) in &reviews {
        since = since.add(
            Condition::all()
                .add(observation::Column::ClientId.eq(*client))
                .add(observation::Column::RecordedAt.gt(*at)),
        );
    }
    let narrowed = scope.narrowed(clients);
    let base = || {
        observation::Entity::find()
            .select_only()
            .column(observation::Column::ClientId)
            .column_as(observation::Column::Id.count(), "n")
            .filter(narrowed.observation_condition())
            .filter(observation::Column::ClientId.is_in(clients.iter().copied()))
            .filter(observation::Column::Status.eq(RecordStatus::Current))
            .group_by(observation::Column::ClientId)
    };
    let new_rows: Vec<(Uuid, i64)> = base()
        .filter(observation::Column::OrganizationId.ne(viewer.organization_id))
        .filter(since)
        .into_tuple()
        .all(db)
        .await?;
    let risk_rows: Vec<(Uuid, i64)> = base()
        .filter(observation::Column::Category.eq(ObservationCategory::RiskSign))
        .filter(observation::Column::OccurredFrom.gte(Utc::now() - Duration::days(30)))
        .into_tuple()
        .all(db)
        .await?;
    let mut out: HashMap<Uuid, (u64, u64)> = clients.iter().map(|c| (*c, (0, 0))).collect();
    for (c, n) in new_rows {
        out.entry(c).or_default().0 = u64::try_from(n).unwrap_or(0);
    }
    for (c, n) in risk_rows {
        out.entry(c).or_default().1 = u64::try_from(n).unwrap_or(0);
    }
    Ok(out)
}

/// Marks a client's shared records as reviewed by the viewer now ("new since last look" resets).
pub async fn mark_reviewed(
    state: &AppState,
    viewer: &Viewer,
    client_id: Uuid,
) -> ApiResult<DateTime<Utc>> {
    let scope = Scope::for_client(&state.db, viewer, client_id).await?;
    scope.require(client_id)?;
    let now = super::now();
    client_review::Entity::insert(client_review::ActiveModel {
        staff_member_id: Set(viewer.staff_member_id),
        client_id: Set(client_id),
        last_reviewed_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            client_review::Column::StaffMemberId,
            client_review::Column::ClientId,
        ])
        .update_column(client_review::Column::LastReviewedAt)
        .to_owned(),
    )
    .exec_without_returning(&state.db)
    .await?;
    Ok(now)
}

/// When the viewer last reviewed each client.
pub async fn reviews(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    clients: &[Uuid],
) -> ApiResult<HashMap<Uuid, DateTime<Utc>>> {
    Ok(client_review::Entity::find()
        .filter(client_review::Column::StaffMemberId.eq(viewer.staff_member_id))
        .filter(client_review::Column::ClientId.is_in(clients.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.client_id, r.last_reviewed_at))
        .collect())
}

/// Every version of observations (oldest first), one query; callers check visibility.
pub async fn versions(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<observation_version::Model>>> {
    Ok(super::capped(super::group_by(
        observation_version::Entity::find()
            .filter(observation_version::Column::ObservationId.is_in(ids.iter().copied()))
            .order_by_asc(observation_version::Column::Version)
            .all(db)
            .await?,
        |r| r.observation_id,
    )))
}

/// Clients among `clients` with a visible, current observation of `category` that happened
/// since `since` (one statement).
pub async fn clients_with(
    db: &impl ConnectionTrait,
    scope: &Scope,
    clients: &[Uuid],
    category: ObservationCategory,
    since: DateTime<Utc>,
) -> ApiResult<Vec<Uuid>> {
    Ok(observation::Entity::find()
        .select_only()
        .column(observation::Column::ClientId)
        .distinct()
        .filter(scope.narrowed(clients).observation_condition())
        .filter(observation::Column::ClientId.is_in(clients.iter().copied()))
        .filter(observation::Column::Category.eq(category))
        .filter(observation::Column::Status.eq(RecordStatus::Current))
        .filter(observation::Column::OccurredFrom.gte(since))
        .into_tuple()
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use entity::{audit_event, outbox_event, timeline_entry};
    use sea_orm::{Database, PaginatorTrait};

    use super::*;

    /// A fresh database: a SQLite file, or with `TEST_DATABASE_URL=postgres://…` a PostgreSQL
    /// database of its own (dropped by [`drop_database`]).
    async fn fresh_state(dir: &std::path::Path) -> (AppState, Option<(String, String)>) {
        let (url, pg) = match std::env::var("TEST_DATABASE_URL") {
            Ok(base) if base.starts_with("postgres") => {
                // `postgres://user@host:port[/db][?…]` → `postgres://user@host:port`.
                let base = base.split('?').next().unwrap_or(&base);
                let authority = base.find("://").map_or(0, |i| i + 3);
                let server = match base[authority..].find('/') {
                    Some(slash) => &base[..authority + slash],
                    None => base,
                };
                let name = format!("kk_unit_{}", Uuid::new_v4().simple());
                let admin = Database::connect(format!("{server}/postgres"))
                    .await
                    .unwrap();
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap();
                (format!("{server}/{name}"), Some((server.to_owned(), name)))
            }
            _ => (
                format!("sqlite://{}?mode=rwc", dir.join("group.db").display()),
                None,
            ),
        };
        let config = crate::Config {
            database_url: url,
            jwt_secret: Some(b"unit-test-secret-unit-test-secret-0123".to_vec()),
            ..crate::Config::default()
        };
        let state = crate::build_state(config).await.unwrap();
        crate::seed::seed_demo(&state).await.unwrap();
        (state, pg)
    }

    async fn drop_database(state: AppState, pg: Option<(String, String)>) {
        drop(state);
        if let Some((server, name)) = pg {
            let admin = Database::connect(format!("{server}/postgres"))
                .await
                .unwrap();
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .unwrap();
        }
    }

    fn content(fact: &str) -> ObservationContent {
        ObservationContent {
            fact: fact.to_owned(),
            interpretation: None,
            client_words: None,
            category: ObservationCategory::Stable,
            occurred_from: super::super::micros(Utc::now()),
            occurred_to: None,
            visibility: Visibility::CareTeam,
            tags: vec![],
            cited_observation_ids: vec![],
        }
    }

    /// Queues the facts as one group; a fact starting with "✗" names a client that does not
    /// exist, so its insert fails in the database. Returns each request's answer.
    async fn group(
        state: &AppState,
        viewer: &Viewer,
        client_id: Uuid,
        facts: &[&str],
    ) -> Vec<ApiResult<observation::Model>> {
        let mut jobs = Vec::new();
        let mut answers = Vec::new();
        for fact in facts {
            let c = content(fact);
            let (reply, answer) = oneshot::channel();
            let client_id = if fact.starts_with('✗') {
                Uuid::now_v7()
            } else {
                client_id
            };
            jobs.push((
                NewRow {
                    viewer: viewer.clone(),
                    client_id,
                    checked: texts(&c).unwrap(),
                    content: c,
                },
                reply,
            ));
            answers.push(answer);
        }
        commit_group(&state.db, jobs).await;
        let mut out = Vec::new();
        for a in answers {
            out.push(a.await.unwrap());
        }
        out
    }

    /// A group is committed with one statement per table; when one of its inserts fails, that
    /// request alone gets the error and every other one is stored whole, with its version,
    /// history entry, audit entry and event, the events in the order the requests came.
    #[tokio::test]
    async fn a_group_commits_together_and_a_failing_insert_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let (state, pg) = fresh_state(dir.path()).await;
        let viewer = crate::seed::act_as(&state.db, "staff@himawari.example")
            .await
            .unwrap();
        let scope = state
            .scopes
            .get(&state.db, viewer.organization_id)
            .await
            .unwrap();
        let client_id = scope.current_clients(None)[0];

        let before = outbox_event::Entity::find().count(&state.db).await.unwrap();
        let all_good = group(
            &state,
            &viewer,
            client_id,
            &["一群の1", "一群の2", "一群の3"],
        )
        .await;
        let with_bad = group(
            &state,
            &viewer,
            client_id,
            &["混成の1", "✗ 存在しない本人", "混成の2"],
        )
        .await;
        assert!(all_good.iter().all(Result::is_ok));
        assert!(with_bad[0].is_ok() && with_bad[2].is_ok(), "{with_bad:?}");
        assert!(with_bad[1].is_err());

        let stored: Vec<Uuid> = all_good
            .iter()
            .chain([&with_bad[0], &with_bad[2]])
            .map(|r| r.as_ref().unwrap().id)
            .collect();
        for id in &stored {
            let o = observation::Entity::find_by_id(*id)
                .one(&state.db)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(o.client_id, client_id);
            let versions = observation_version::Entity::find()
                .filter(observation_version::Column::ObservationId.eq(*id))
                .count(&state.db)
                .await
                .unwrap();
            let entries = timeline_entry::Entity::find()
                .filter(timeline_entry::Column::RecordId.eq(*id))
                .count(&state.db)
                .await
                .unwrap();
            let audits = audit_event::Entity::find()
                .filter(audit_event::Column::Operation.eq("OBSERVATION_RECORDED"))
                .all(&state.db)
                .await
                .unwrap()
                .into_iter()
                .filter(|a| a.record_ids == serde_json::json!([id]))
                .count();
            assert_eq!((versions, entries, audits), (1, 1, 1), "observation {id}");
        }
        let events: Vec<Uuid> = outbox_event::Entity::find()
            .order_by_asc(outbox_event::Column::Id)
            .all(&state.db)
            .await
            .unwrap()
            .into_iter()
            .skip(before as usize)
            .map(|e| e.record_id)
            .collect();
        assert_eq!(events, stored, "one event each, in request order");
        let facts: Vec<String> = observation::Entity::find()
            .filter(observation::Column::Fact.contains("存在しない"))
            .all(&state.db)
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.fact)
            .collect();
        assert!(
            facts.is_empty(),
            "the failed insert left nothing: {facts:?}"
        );
        drop_database(state, pg).await;
    }
}
