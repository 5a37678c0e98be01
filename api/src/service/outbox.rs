//! The event outbox: appended in the transaction of each change, read after commit in commit
//! order, pruned after the retention window.
//!
//! **Commit order.** Subscribers resume from "the last id I saw", so an event must never
//! become visible *below* an id that was already read. On SQLite writers are serialized
//! (`BEGIN IMMEDIATE`), so id order is commit order. On PostgreSQL two transactions can draw ids
//! 10 and 11 and commit 11 first; a reader would pass 11 and never see 10. Every outbox append
//! therefore takes a transaction-scoped advisory lock just before drawing its id, and holds it
//! to commit: ids are drawn and committed one transaction at a time, so whatever a reader sees
//! is a prefix of what will ever exist. The lock is taken by the last statement of each write,
//! so it is held only for the commit itself. The same transaction sends `NOTIFY`, which
//! PostgreSQL delivers to listeners only if and when it commits.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use entity::outbox_event;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set, Statement,
};
use uuid::Uuid;

pub use entity::outbox_event::{EventKind, RecordType};

use crate::{
    auth::Viewer,
    error::{ApiError, ApiResult},
};

/// The PostgreSQL channel instances listen on for new events.
pub const NOTIFY_CHANNEL: &str = "kakehashi_outbox";
/// The advisory-lock key that orders outbox appends (an arbitrary constant, "kakehash").
const ORDER_LOCK_KEY: i64 = 0x6B61_6B65_6861_7368;

/// The `NOTIFY` payload that tells every instance's event hub to look for ended sessions now.
pub const SESSIONS_ENDED_PAYLOAD: &str = "sessions";

/// Call in a transaction that ends sessions, before it commits: drops this instance's cached
/// sessions (see [`super::invalidation`] for the second drop after the commit) and, on
/// PostgreSQL, wakes every instance's event hub at the commit to check for ended sessions at
/// once rather than at its next poll.
pub async fn announce_ended(db: &impl ConnectionTrait) -> ApiResult<()> {
    super::invalidation::SESSIONS.advance();
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [NOTIFY_CHANNEL.into(), SESSIONS_ENDED_PAYLOAD.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Who caused an event: a staff member and their organization. An event no request caused (a
/// deadline passing) names the organization it concerns and the nil staff member, which reads
/// as `actor: null`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub staff_member_id: Uuid,
    pub organization_id: Uuid,
}

impl From<&Viewer> for Actor {
    fn from(v: &Viewer) -> Self {
        Self {
            staff_member_id: v.staff_member_id,
            organization_id: v.organization_id,
        }
    }
}

/// One event to append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewEvent {
    pub actor: Actor,
    pub kind: EventKind,
    pub client_id: Uuid,
    /// The kind of record changed, and its id.
    pub record_type: RecordType,
    pub record_id: Uuid,
}

/// Appends one event (call inside the change's transaction, as its last statement).
pub async fn append(db: &impl ConnectionTrait, event: NewEvent) -> ApiResult<()> {
    append_many(db, vec![event]).await
}

/// Appends events in the given order with one insert (call inside the change's transaction, as
/// its last statement): a group of observations committed together is one lock, one insert and
/// one `NOTIFY`, whatever its size.
pub async fn append_many(db: &impl ConnectionTrait, events: Vec<NewEvent>) -> ApiResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    if postgres {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [ORDER_LOCK_KEY.into()],
        ))
        .await?;
    }
    if events.iter().any(|e| e.record_type.changes_access()) {
        // Before the commit; see `invalidation` for the second move after it.
        super::invalidation::ACCESS.advance();
    }
    let now = super::now();
    let rows = events.into_iter().map(|e| outbox_event::ActiveModel {
        kind: Set(e.kind),
        client_id: Set(e.client_id),
        record_type: Set(e.record_type),
        record_id: Set(e.record_id),
        actor_staff_member_id: Set(e.actor.staff_member_id),
        actor_organization_id: Set(e.actor.organization_id),
        occurred_at: Set(now),
        ..Default::default()
    });
    // The ids are drawn in the order of the rows, under the lock.
    outbox_event::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    if postgres {
        db.execute_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("NOTIFY {NOTIFY_CHANNEL}"),
        ))
        .await?;
    }
    Ok(())
}

/// Events after `after` in id (= commit) order, optionally of some clients only.
pub async fn read_after(
    db: &impl ConnectionTrait,
    after: i64,
    clients: Option<&[Uuid]>,
    limit: u64,
) -> ApiResult<Vec<outbox_event::Model>> {
    let mut q = outbox_event::Entity::find().filter(outbox_event::Column::Id.gt(after));
    if let Some(clients) = clients {
        q = q.filter(outbox_event::Column::ClientId.is_in(clients.iter().copied()));
    }
    Ok(q.order_by_asc(outbox_event::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// The newest event id (0 when there is none).
pub async fn head(db: &impl ConnectionTrait) -> ApiResult<i64> {
    let max: Option<Option<i64>> = outbox_event::Entity::find()
        .select_only()
        .column_as(outbox_event::Column::Id.max(), "max")
        .into_tuple()
        .one(db)
        .await?;
    Ok(max.flatten().unwrap_or(0))
}

/// Deletes events older than `before` (and, given `up_to`, none after that id); returns how
/// many went.
pub async fn prune(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
    up_to: Option<i64>,
) -> ApiResult<u64> {
    let mut q =
        outbox_event::Entity::delete_many().filter(outbox_event::Column::OccurredAt.lt(before));
    if let Some(last) = up_to {
        q = q.filter(outbox_event::Column::Id.lte(last));
    }
    Ok(q.exec(db).await?.rows_affected)
}

/// A position in the event stream, opaque to clients: the event id and when it happened (so an
/// expired cursor is recognised even after its event was pruned).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
}

impl Cursor {
    pub fn of(e: &outbox_event::Model) -> Self {
        Self {
            id: e.id,
            occurred_at: e.occurred_at,
        }
    }

    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "ev:{}:{}",
            self.id,
            self.occurred_at.timestamp_micros()
        ))
    }

    /// `BAD_USER_INPUT` for anything that is not one of ours.
    pub fn decode(field: &str, text: &str) -> ApiResult<Self> {
        let bad = || ApiError::bad_input(field, format!("{field} is not a valid event cursor."));
        if text.len() > 100 {
            return Err(bad());
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let mut parts = text.split(':');
        let (Some("ev"), Some(id), Some(micros), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let id: i64 = id.parse().map_err(|_| bad())?;
        let occurred_at = micros
            .parse()
            .ok()
            .and_then(DateTime::from_timestamp_micros)
            .ok_or_else(bad)?;
        if id < 0 {
            return Err(bad());
        }
        Ok(Self { id, occurred_at })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_anything_else() {
        let c = Cursor {
            id: 42,
            occurred_at: DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap(),
        };
        assert_eq!(Cursor::decode("after", &c.encode()).unwrap(), c);
        for bad in [
            "",
            "not base64!",
            &URL_SAFE_NO_PAD.encode("ev:1"),
            &URL_SAFE_NO_PAD.encode("ev:-1:0"),
            &URL_SAFE_NO_PAD.encode("xx:1:0"),
            &URL_SAFE_NO_PAD.encode("ev:1:0:9"),
            &"A".repeat(200),
        ] {
            let err = Cursor::decode("after", bad).unwrap_err();
            assert_eq!(err.code().as_str(), "BAD_USER_INPUT", "{bad}");
        }
    }
}
