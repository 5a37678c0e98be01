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

use std::collections::HashMap;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use entity::{
    accident_report, care_team_membership, client, complaint_record, meeting, meeting_brief,
    monitoring_report, observation, outbox_event, recipient_certificate, restraint_record,
    sharing_consent, staff_member, support_plan,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set, Statement,
};
use uuid::Uuid;

use super::{access::Scope, consents, meetings, monitoring, plans, statutory};
use crate::{
    auth::{Viewer, policy},
    error::{ApiError, ApiResult},
};

/// The PostgreSQL channel instances listen on for new events.
pub const NOTIFY_CHANNEL: &str = "kakehashi_outbox";
/// The advisory-lock key that orders outbox appends (an arbitrary constant, "kakehash").
const ORDER_LOCK_KEY: i64 = 0x6B61_6B65_6861_7368;

/// Appends one event (call inside the change's transaction, as its last statement).
pub async fn append(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    kind: &str,
    client_id: Uuid,
    record_type: &str,
    record_id: Uuid,
) -> ApiResult<()> {
    let actor = (viewer.staff_member_id, viewer.organization_id);
    append_as(db, actor, kind, client_id, record_type, record_id).await
}

/// [`append`] for an event no request caused (a deadline passing): `actor` is the staff member
/// and organization the event is about.
pub async fn append_as(
    db: &impl ConnectionTrait,
    actor: (Uuid, Uuid),
    kind: &str,
    client_id: Uuid,
    record_type: &str,
    record_id: Uuid,
) -> ApiResult<()> {
    append_many(db, vec![(actor, kind, client_id, record_type, record_id)]).await
}

/// One event to append: the actor (staff member, organization), kind, client, record type and
/// record id.
pub type NewEvent<'a> = ((Uuid, Uuid), &'a str, Uuid, &'a str, Uuid);

/// Appends events in the given order with one insert (call inside the change's transaction, as
/// its last statement): a group of observations committed together is one lock, one insert and
/// one `NOTIFY`, whatever its size.
pub async fn append_many(db: &impl ConnectionTrait, events: Vec<NewEvent<'_>>) -> ApiResult<()> {
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
    if events.iter().any(|e| changes_access(e.3)) {
        // Before the commit; see `invalidation` for the second move after it.
        super::invalidation::ACCESS.advance();
    }
    let now = super::now();
    let rows = events
        .into_iter()
        .map(
            |(actor, kind, client_id, record_type, record_id)| outbox_event::ActiveModel {
                kind: Set(kind.to_owned()),
                client_id: Set(client_id),
                record_type: Set(record_type.to_owned()),
                record_id: Set(record_id),
                actor_staff_member_id: Set(actor.0),
                actor_organization_id: Set(actor.1),
                occurred_at: Set(now),
                ..Default::default()
            },
        );
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

/// Whether an event about a record of this type can change who sees what: a client's
/// registration, a care-team membership, a sharing consent.
fn changes_access(record_type: &str) -> bool {
    matches!(
        record_type,
        "Client" | "CareTeamMembership" | "SharingConsent"
    )
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

/// The changed record of an event, loaded after commit (its state now, not at the event).
#[derive(Debug, Clone)]
pub enum EventRecord {
    Client(client::Model),
    CareTeamMember(care_team_membership::Model),
    SharingConsent(sharing_consent::Model),
    RecipientCertificate(recipient_certificate::Model),
    Observation(observation::Model),
    SupportPlan(support_plan::Model),
    Meeting(meeting::Model),
    MeetingBrief(meeting_brief::Model),
    MonitoringReport(monitoring_report::Model),
    RestraintRecord(restraint_record::Model),
    AccidentReport(accident_report::Model),
    ComplaintRecord(complaint_record::Model),
}

/// One committed event with everything subscribers need, loaded once for all of them.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub event: outbox_event::Model,
    pub client: client::Model,
    pub actor: Option<staff_member::Model>,
    /// `None` when the record no longer exists (nothing is delivered then).
    pub record: Option<EventRecord>,
}

impl Delivery {
    pub fn cursor(&self) -> Cursor {
        Cursor::of(&self.event)
    }

    /// Whether the event can change who sees what (subscribers then reload their scope).
    pub fn changes_access(&self) -> bool {
        matches!(
            self.record,
            Some(
                EventRecord::Client(_)
                    | EventRecord::CareTeamMember(_)
                    | EventRecord::SharingConsent(_)
            )
        )
    }

    /// Whether the scope's organization receives this event: it follows the client (a current
    /// care-team member) and a query would show it the record. The one rule for subscriptions,
    /// webhooks and anything else that pushes events.
    pub fn visible_to(&self, scope: &Scope) -> bool {
        let client_id = self.event.client_id;
        let Some(rel) = scope
            .relation(client_id)
            .filter(|r| policy::follows_client(r))
        else {
            return false;
        };
        match &self.record {
            None => false,
            Some(EventRecord::Client(_) | EventRecord::CareTeamMember(_)) => true,
            Some(EventRecord::SharingConsent(c)) => {
                scope.can_see_record(client_id, consents::record_facts(c))
            }
            Some(EventRecord::RecipientCertificate(_)) => {
                policy::can_see_profile(scope.viewer_org, rel)
            }
            Some(EventRecord::Observation(o)) => scope.can_see_observation(o),
            Some(EventRecord::SupportPlan(p)) => scope.can_see_record(client_id, plans::facts(p)),
            Some(EventRecord::Meeting(m)) => scope.can_see_record(client_id, meetings::facts(m)),
            Some(EventRecord::MeetingBrief(b)) => {
                scope.can_see_record(client_id, meetings::brief_facts(b))
            }
            Some(EventRecord::MonitoringReport(r)) => {
                scope.can_see_record(client_id, monitoring::facts(r))
            }
            Some(EventRecord::RestraintRecord(r)) => {
                scope.can_see_record(client_id, statutory::restraint::record_facts(r))
            }
            Some(EventRecord::AccidentReport(a)) => {
                scope.can_see_record(client_id, statutory::accident::record_facts(a))
            }
            Some(EventRecord::ComplaintRecord(c)) => {
                scope.can_see_record(client_id, statutory::complaint::record_facts(c))
            }
        }
    }
}

/// Loads the clients, actors and records of a batch of events: one statement per kind of
/// record present, whatever the batch size.
pub async fn load(
    db: &impl ConnectionTrait,
    events: Vec<outbox_event::Model>,
) -> ApiResult<Vec<Delivery>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let ids_of = |t: &str| -> Vec<Uuid> {
        events
            .iter()
            .filter(|e| e.record_type == t)
            .map(|e| e.record_id)
            .collect()
    };
    let client_ids: Vec<Uuid> = events.iter().map(|e| e.client_id).collect();
    let actor_ids: Vec<Uuid> = events.iter().map(|e| e.actor_staff_member_id).collect();
    let clients = super::clients::by_ids(db, &client_ids).await?;
    let actors = super::staff::by_ids(db, &actor_ids).await?;

    let mut records: HashMap<Uuid, EventRecord> = HashMap::new();
    macro_rules! load_kind {
        ($name:literal, $entity:ident, $variant:ident) => {
            let ids = ids_of($name);
            if !ids.is_empty() {
                for m in $entity::Entity::find()
                    .filter($entity::Column::Id.is_in(ids))
                    .all(db)
                    .await?
                {
                    records.insert(m.id, EventRecord::$variant(m));
                }
            }
        };
    }
    load_kind!("Client", client, Client);
    load_kind!("CareTeamMembership", care_team_membership, CareTeamMember);
    load_kind!("SharingConsent", sharing_consent, SharingConsent);
    load_kind!(
        "RecipientCertificate",
        recipient_certificate,
        RecipientCertificate
    );
    load_kind!("Observation", observation, Observation);
    load_kind!("SupportPlan", support_plan, SupportPlan);
    load_kind!("Meeting", meeting, Meeting);
    load_kind!("MeetingBrief", meeting_brief, MeetingBrief);
    load_kind!("MonitoringReport", monitoring_report, MonitoringReport);
    load_kind!("RestraintRecord", restraint_record, RestraintRecord);
    load_kind!("AccidentReport", accident_report, AccidentReport);
    load_kind!("ComplaintRecord", complaint_record, ComplaintRecord);

    Ok(events
        .into_iter()
        .filter_map(|event| {
            let client = clients.get(&event.client_id)?.clone();
            Some(Delivery {
                actor: actors.get(&event.actor_staff_member_id).cloned(),
                record: records.get(&event.record_id).cloned(),
                client,
                event,
            })
        })
        .collect())
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
