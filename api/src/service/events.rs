//! The audit log and the event outbox, both written in the caller's transaction.
//!
//! Every write calls [`record_change`], which appends an audit entry *and* an outbox event in the
//! same transaction as the data: an event exists exactly when its change committed. Reads of a
//! client's records go through [`super::read_audits::ReadAudits`] (compact rows, written off the
//! request path); actions that are not changes of a client's records (acknowledgements, webhook
//! and API-key management) through [`record_read`] inside their transaction.

use entity::audit_event;
use sea_orm::{ActiveEnum, ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;

use crate::{auth::Viewer, error::ApiResult};

pub use super::outbox::{EventKind, RecordType};

/// Appends the audit entry and the outbox event of one write (call inside its transaction, after
/// its other writes: the outbox append orders commits, see [`super::outbox`]).
pub async fn record_change(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    kind: EventKind,
    client_id: Uuid,
    record_type: RecordType,
    record_id: Uuid,
) -> ApiResult<()> {
    record_changes(
        db,
        &[Change {
            viewer,
            kind,
            client_id,
            record_type,
            record_id,
        }],
    )
    .await
}

/// One write to record.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub viewer: &'a Viewer,
    pub kind: EventKind,
    pub client_id: Uuid,
    pub record_type: RecordType,
    pub record_id: Uuid,
}

/// [`record_change`] for several writes committed together: one audit insert and one outbox
/// append, events in the given order.
pub async fn record_changes(db: &impl ConnectionTrait, changes: &[Change<'_>]) -> ApiResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let now = super::now();
    let audits = changes.iter().map(|c| audit_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        occurred_at: Set(now),
        staff_member_id: Set(c.viewer.staff_member_id),
        organization_id: Set(c.viewer.organization_id),
        operation: Set(c.kind.to_value()),
        client_id: Set(Some(c.client_id)),
        record_ids: Set(serde_json::json!([c.record_id])),
    });
    audit_event::Entity::insert_many(audits)
        .exec_without_returning(db)
        .await?;
    let events = changes
        .iter()
        .map(|c| super::outbox::NewEvent {
            actor: c.viewer.into(),
            kind: c.kind,
            client_id: c.client_id,
            record_type: c.record_type,
            record_id: c.record_id,
        })
        .collect();
    super::outbox::append_many(db, events).await
}

/// Records reads of several clients' records in one statement (list pages).
pub async fn record_reads(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    operation: &str,
    reads: Vec<(Uuid, Vec<Uuid>)>,
) -> ApiResult<()> {
    if reads.is_empty() {
        return Ok(());
    }
    let reads = reads.into_iter().map(|(c, ids)| (Some(c), ids)).collect();
    audit_event::Entity::insert_many(read_rows(viewer, operation, reads))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// One audit row per client read (`None`: not about a client), all stamped with the same time.
fn read_rows(
    viewer: &Viewer,
    operation: &str,
    reads: Vec<(Option<Uuid>, Vec<Uuid>)>,
) -> Vec<audit_event::ActiveModel> {
    let now = super::now();
    reads
        .into_iter()
        .map(|(client, ids)| audit_event::ActiveModel {
            id: Set(Uuid::now_v7()),
            occurred_at: Set(now),
            staff_member_id: Set(viewer.staff_member_id),
            organization_id: Set(viewer.organization_id),
            operation: Set(operation.to_owned()),
            client_id: Set(client),
            record_ids: Set(serde_json::json!(ids)),
        })
        .collect()
}

/// Records that the viewer read a client's records (`operation` like `READ_OBSERVATIONS`).
pub async fn record_read(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    operation: &str,
    client_id: Option<Uuid>,
    record_ids: &[Uuid],
) -> ApiResult<()> {
    audit(db, viewer, operation, client_id, record_ids).await
}

async fn audit(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    operation: &str,
    client_id: Option<Uuid>,
    record_ids: &[Uuid],
) -> ApiResult<()> {
    audit_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        occurred_at: Set(super::now()),
        staff_member_id: Set(viewer.staff_member_id),
        organization_id: Set(viewer.organization_id),
        operation: Set(operation.to_owned()),
        client_id: Set(client_id),
        record_ids: Set(serde_json::json!(record_ids)),
    }
    .insert(db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveEnum, Iterable};

    use super::EventKind;

    #[test]
    fn every_kind_round_trips_through_its_name() {
        for kind in EventKind::iter() {
            assert_eq!(EventKind::parse(&kind.to_value()), Some(kind));
        }
        assert_eq!(EventKind::parse("SOMETHING_ELSE"), None);
    }
}
