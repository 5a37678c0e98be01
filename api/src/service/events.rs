//! The audit log and the event outbox, both written in the caller's transaction.
//!
//! Every write calls [`record_change`], which appends an audit entry *and* an outbox event in the
//! same transaction as the data: an event exists exactly when its change committed. Reads of a
//! client's records go through [`super::read_audits::ReadAudits`] (compact rows, written off the
//! request path); actions that are not changes of a client's records (acknowledgements, webhook
//! and API-key management) through [`record_read`] inside their transaction.

use entity::audit_event;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;

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
    /// A grant period entered its renewal-preparation window (3 months before it ends); the
    /// record is the certificate, and the event has no actor.
    GrantRenewalDue,
    /// A grant period ended with no renewal recorded (支給決定期間の終了); the record is the
    /// certificate, and the event has no actor.
    GrantExpired,
    /// A physical restraint was recorded (身体拘束等の記録).
    RestraintRecorded,
    /// A restraint record got its explanation to the family (家族への説明の追記).
    RestraintUpdated,
    /// An accident or near miss was reported (事故・ヒヤリハット報告).
    AccidentReported,
    /// An accident report got its reports or measures against recurrence (報告・再発防止策の追記).
    AccidentUpdated,
    /// A complaint was received (苦情の受付).
    ComplaintRecorded,
    /// A complaint was resolved (苦情の解決).
    ComplaintResolved,
    /// A restraint, accident or complaint record was marked entered-in-error (法定記録の記載誤り).
    StatutoryRecordEnteredInError,
}

impl EventKind {
    pub const ALL: [Self; 23] = [
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
        Self::GrantRenewalDue,
        Self::GrantExpired,
        Self::RestraintRecorded,
        Self::RestraintUpdated,
        Self::AccidentReported,
        Self::AccidentUpdated,
        Self::ComplaintRecorded,
        Self::ComplaintResolved,
        Self::StatutoryRecordEnteredInError,
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
            Self::GrantRenewalDue => "GRANT_RENEWAL_DUE",
            Self::GrantExpired => "GRANT_EXPIRED",
            Self::RestraintRecorded => "RESTRAINT_RECORDED",
            Self::RestraintUpdated => "RESTRAINT_UPDATED",
            Self::AccidentReported => "ACCIDENT_REPORTED",
            Self::AccidentUpdated => "ACCIDENT_UPDATED",
            Self::ComplaintRecorded => "COMPLAINT_RECORDED",
            Self::ComplaintResolved => "COMPLAINT_RESOLVED",
            Self::StatutoryRecordEnteredInError => "STATUTORY_RECORD_ENTERED_IN_ERROR",
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
    record_changes(db, &[(viewer, kind, client_id, record_type, record_id)]).await
}

/// One write to record: its viewer, kind, client, record type and record id.
pub type Change<'a> = (&'a Viewer, EventKind, Uuid, &'a str, Uuid);

/// [`record_change`] for several writes committed together: one audit insert and one outbox
/// append, events in the given order.
pub async fn record_changes(db: &impl ConnectionTrait, changes: &[Change<'_>]) -> ApiResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let now = super::now();
    let audits =
        changes.iter().map(
            |&(viewer, kind, client_id, _, record_id)| audit_event::ActiveModel {
                id: Set(Uuid::now_v7()),
                occurred_at: Set(now),
                staff_member_id: Set(viewer.staff_member_id),
                organization_id: Set(viewer.organization_id),
                operation: Set(kind.as_str().to_owned()),
                client_id: Set(Some(client_id)),
                record_ids: Set(serde_json::json!([record_id])),
            },
        );
    audit_event::Entity::insert_many(audits)
        .exec_without_returning(db)
        .await?;
    let events = changes
        .iter()
        .map(|&(viewer, kind, client_id, record_type, record_id)| {
            (
                (viewer.staff_member_id, viewer.organization_id),
                kind.as_str(),
                client_id,
                record_type,
                record_id,
            )
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
    use super::EventKind;

    #[test]
    fn every_kind_round_trips_through_its_name() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventKind::parse("SOMETHING_ELSE"), None);
    }
}
