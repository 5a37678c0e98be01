//! The audit log and the event outbox, both written in the caller's transaction.
//!
//! Every write calls [`record_change`], which appends an audit entry *and* an outbox event in the
//! same transaction as the data: an event exists exactly when its change committed. Reads of a
//! client's records call [`record_read`].

use entity::audit_event;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::page::{Order, Page, PageArgs, paginate_ordered};
use crate::{auth::Viewer, error::ApiResult};

/// What changed, as subscribers and webhooks name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    ClientRegistered,
    /// The registering organization changed the client's profile (an import update).
    ClientUpdated,
    CareTeamChanged,
    ConsentChanged,
    CertificateRecorded,
    ObservationRecorded,
    ObservationAmended,
    ObservationEnteredInError,
    PlanChanged,
    MeetingScheduled,
    MeetingUpdated,
    BriefSubmitted,
    MonitoringRecorded,
    /// A shared risk sign passed the consultation office's acknowledgement deadline.
    RiskSignOverdue,
}

impl EventKind {
    pub const ALL: [Self; 14] = [
        Self::ClientRegistered,
        Self::ClientUpdated,
        Self::CareTeamChanged,
        Self::ConsentChanged,
        Self::CertificateRecorded,
        Self::ObservationRecorded,
        Self::ObservationAmended,
        Self::ObservationEnteredInError,
        Self::PlanChanged,
        Self::MeetingScheduled,
        Self::MeetingUpdated,
        Self::BriefSubmitted,
        Self::MonitoringRecorded,
        Self::RiskSignOverdue,
    ];

    /// The kind an outbox row names (`None` for a name this version does not know).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClientRegistered => "CLIENT_REGISTERED",
            Self::ClientUpdated => "CLIENT_UPDATED",
            Self::CareTeamChanged => "CARE_TEAM_CHANGED",
            Self::ConsentChanged => "CONSENT_CHANGED",
            Self::CertificateRecorded => "CERTIFICATE_RECORDED",
            Self::ObservationRecorded => "OBSERVATION_RECORDED",
            Self::ObservationAmended => "OBSERVATION_AMENDED",
            Self::ObservationEnteredInError => "OBSERVATION_ENTERED_IN_ERROR",
            Self::PlanChanged => "PLAN_CHANGED",
            Self::MeetingScheduled => "MEETING_SCHEDULED",
            Self::MeetingUpdated => "MEETING_UPDATED",
            Self::BriefSubmitted => "BRIEF_SUBMITTED",
            Self::MonitoringRecorded => "MONITORING_RECORDED",
            Self::RiskSignOverdue => "RISK_SIGN_OVERDUE",
        }
    }
}

/// Appends the audit entry and the outbox event of one write (call inside its transaction, after
/// its other writes: the outbox append orders commits, see [`super::outbox`]).
pub async fn record_change(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    kind: EventKind,
    client_id: Uuid,
    record_type: &str,
    record_id: Uuid,
) -> ApiResult<()> {
    audit(db, viewer, kind.as_str(), Some(client_id), &[record_id]).await?;
    super::outbox::append(db, viewer, kind.as_str(), client_id, record_type, record_id).await
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
    let now = super::now();
    let rows = reads
        .into_iter()
        .map(|(client, ids)| audit_event::ActiveModel {
            id: Set(Uuid::now_v7()),
            occurred_at: Set(now),
            staff_member_id: Set(viewer.staff_member_id),
            organization_id: Set(viewer.organization_id),
            operation: Set(operation.to_owned()),
            client_id: Set(Some(client)),
            record_ids: Set(serde_json::json!(ids)),
        });
    audit_event::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Records reads through subscriptions (one statement for the batch).
pub async fn record_deliveries(
    db: &impl ConnectionTrait,
    reads: &[crate::realtime::hub::DeliveryRead],
) -> ApiResult<()> {
    if reads.is_empty() {
        return Ok(());
    }
    let now = super::now();
    let rows = reads.iter().map(|r| audit_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        occurred_at: Set(now),
        staff_member_id: Set(r.staff_member_id),
        organization_id: Set(r.organization_id),
        operation: Set("READ_EVENT".to_owned()),
        client_id: Set(Some(r.client_id)),
        record_ids: Set(serde_json::json!([r.record_id])),
    });
    audit_event::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
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

/// The actions of one organization's staff, newest first.
pub async fn log_for_organization(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    page: &PageArgs,
) -> ApiResult<Page<audit_event::Model>> {
    let q =
        audit_event::Entity::find().filter(audit_event::Column::OrganizationId.eq(organization_id));
    paginate_ordered(db, q, audit_event::Column::Id, page, Order::NewestFirst).await
}

/// Everyone's access to one client's records, newest first.
pub async fn log_for_client(
    db: &impl ConnectionTrait,
    client_id: Uuid,
    page: &PageArgs,
) -> ApiResult<Page<audit_event::Model>> {
    let q = audit_event::Entity::find().filter(audit_event::Column::ClientId.eq(client_id));
    paginate_ordered(db, q, audit_event::Column::Id, page, Order::NewestFirst).await
}

#[cfg(test)]
mod tests {
    use super::EventKind;

    #[test]
    fn every_kind_round_trips_through_its_name() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventKind::parse("SOMETHING_ELSE"), None);
    }
}
