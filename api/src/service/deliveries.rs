//! Deliveries: committed outbox events with the client, actor and record subscribers and
//! webhooks need, loaded once per batch, and the one rule for who receives each.

use std::collections::HashMap;

use entity::{
    accident_report, care_team_membership, client, complaint_record, meeting, meeting_brief,
    monitoring_report, observation, outbox_event, outbox_event::RecordType, recipient_certificate,
    restraint_record, sharing_consent, staff_member, support_plan,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::{access::Scope, consents, meetings, monitoring, outbox::Cursor, plans, statutory};
use crate::{auth::policy, error::ApiResult};

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
    let ids_of = |t: RecordType| -> Vec<Uuid> {
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
        ($name:expr, $entity:ident, $variant:ident) => {
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
    load_kind!(RecordType::Client, client, Client);
    load_kind!(
        RecordType::CareTeamMembership,
        care_team_membership,
        CareTeamMember
    );
    load_kind!(RecordType::SharingConsent, sharing_consent, SharingConsent);
    load_kind!(
        RecordType::RecipientCertificate,
        recipient_certificate,
        RecipientCertificate
    );
    load_kind!(RecordType::Observation, observation, Observation);
    load_kind!(RecordType::SupportPlan, support_plan, SupportPlan);
    load_kind!(RecordType::Meeting, meeting, Meeting);
    load_kind!(RecordType::MeetingBrief, meeting_brief, MeetingBrief);
    load_kind!(
        RecordType::MonitoringReport,
        monitoring_report,
        MonitoringReport
    );
    load_kind!(
        RecordType::RestraintRecord,
        restraint_record,
        RestraintRecord
    );
    load_kind!(RecordType::AccidentReport, accident_report, AccidentReport);
    load_kind!(
        RecordType::ComplaintRecord,
        complaint_record,
        ComplaintRecord
    );

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
