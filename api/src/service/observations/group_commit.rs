//! Group commit of new observations: concurrent `recordObservation`s share one transaction.

use std::time::Duration;

use entity::{
    observation::{self, RecordStatus},
    observation_version,
};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, TransactionTrait,
};
use uuid::Uuid;

use crate::service::{
    batch::{Batcher, Group, Limits},
    events::{self, EventKind, RecordType},
};
use crate::{
    auth::Viewer,
    db,
    error::{ApiError, ApiResult},
};

use super::{Checked, ObservationContent, timeline_entry, version_row};

/// A checked observation waiting for the [`GroupCommit`] writer.
pub(super) struct NewRow {
    pub(super) viewer: Viewer,
    pub(super) client_id: Uuid,
    pub(super) checked: Checked,
    pub(super) content: ObservationContent,
}

/// Commits concurrent new observations together: one transaction, so one disk flush, for every
/// insert waiting when the previous group committed, inserted with one statement per table (if
/// that fails, one savepoint per insert, so that one failure fails only its own request). SQLite
/// with `synchronous=FULL` commits at most as often as the disk flushes (about 1,300 times a
/// second on the benchmark machine), which without grouping would cap `recordObservation` there
/// however many writers wait. A lone writer sees no delay: a group is whatever is queued,
/// possibly one (no gathering delay). The request is answered only after the commit.
pub struct GroupCommit(Batcher<Observations>);

/// The most inserts committed as one group.
const GROUP_MAX: usize = 128;

impl GroupCommit {
    pub fn new(db: DatabaseConnection) -> Self {
        Self(Batcher::new(
            Observations { db },
            Limits {
                queue: 4 * GROUP_MAX,
                take: GROUP_MAX,
                weight: GROUP_MAX,
                delay: Duration::ZERO,
            },
        ))
    }

    pub(super) async fn insert(&self, row: NewRow) -> ApiResult<observation::Model> {
        self.0.submit(row).await.map_err(|_| {
            ApiError::internal(anyhow::anyhow!("the observation writer dropped a write"))
        })?
    }
}

/// The group writer of [`GroupCommit`].
struct Observations {
    db: DatabaseConnection,
}

impl Group for Observations {
    type Item = NewRow;
    type Answer = ApiResult<observation::Model>;

    async fn write(&self, rows: Vec<NewRow>, _waited: bool) -> Vec<Self::Answer> {
        commit_group(&self.db, rows).await
    }
}

/// Inserts a group in one transaction; one answer per row, in order.
pub(super) async fn commit_group(
    db: &DatabaseConnection,
    rows: Vec<NewRow>,
) -> Vec<ApiResult<observation::Model>> {
    let txn = match db::begin_insert(db).await {
        Ok(txn) => txn,
        Err(e) => return rows.iter().map(|_| Err(e.clone().into())).collect(),
    };
    let inserted = match insert_together(&txn, &rows).await {
        Ok(models) => models.into_iter().map(Ok).collect(),
        // One of them failed: each again in its own savepoint, so it fails alone.
        Err(_) => insert_one_by_one(&txn, rows).await,
    };
    match txn.commit().await {
        Ok(()) => inserted,
        Err(e) => inserted
            .into_iter()
            .map(|r| r.and(Err(e.clone().into())))
            .collect(),
    }
}

/// The whole group in one savepoint and one statement per table (the usual case).
async fn insert_together(
    txn: &DatabaseTransaction,
    rows: &[NewRow],
) -> ApiResult<Vec<observation::Model>> {
    let rows = rows
        .iter()
        .map(|row| NewObservation {
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
    rows: Vec<NewRow>,
) -> Vec<ApiResult<observation::Model>> {
    let mut inserted = Vec::with_capacity(rows.len());
    for row in rows {
        let NewRow {
            viewer,
            client_id,
            checked,
            content,
        } = row;
        let attempt = in_savepoint(txn, async |savepoint| {
            insert_checked(savepoint, &viewer, client_id, checked, &content, None).await
        });
        inserted.push(attempt.await);
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
pub(super) async fn insert_checked(
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
    let now = crate::service::now();
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
            tags: observation::Tags(n.checked.tags.clone()),
            cited_observation_ids: observation::ObservationIds(
                n.content.cited_observation_ids.clone(),
            ),
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
    crate::service::timeline::insert_many(txn, models.iter().map(timeline_entry).collect()).await?;
    let changes: Vec<events::Change<'_>> = new
        .iter()
        .zip(&models)
        .map(|(n, m)| events::Change {
            viewer: n.viewer,
            kind: EventKind::ObservationRecorded,
            client_id: n.client_id,
            record_type: RecordType::Observation,
            record_id: m.id,
        })
        .collect();
    events::record_changes(txn, &changes).await?;
    Ok(models)
}
