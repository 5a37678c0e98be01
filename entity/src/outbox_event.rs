//! Outbox event: one change, written in the same transaction as the change itself, delivered
//! to subscribers and webhooks after commit.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: EventKind,
    pub client_id: Uuid,
    pub record_type: RecordType,
    pub record_id: Uuid,
    pub actor_staff_member_id: Uuid,
    pub actor_organization_id: Uuid,
    pub occurred_at: DateTimeUtc,
}

/// What changed, as subscribers and webhooks name it (stored as `OBSERVATION_RECORDED` …). A
/// stored name this version does not know is a read error: a release that adds a kind is
/// rolled out to every instance before any of them writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "SCREAMING_SNAKE_CASE"
)]
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

/// The kind of record an event is about (stored as its GraphQL type name, `Observation` …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "PascalCase"
)]
pub enum RecordType {
    Client,
    CareTeamMembership,
    SharingConsent,
    RecipientCertificate,
    Observation,
    SupportPlan,
    Meeting,
    MeetingBrief,
    MonitoringReport,
    RestraintRecord,
    AccidentReport,
    ComplaintRecord,
}

impl EventKind {
    /// The kind a stored name stands for (`None` for a name this version does not know).
    pub fn parse(name: &str) -> Option<Self> {
        <Self as sea_orm::Iterable>::iter().find(|k| sea_orm::ActiveEnum::to_value(k) == name)
    }
}

impl RecordType {
    /// Whether an event about a record of this type can change who sees what: a client's
    /// registration, a care-team membership, a sharing consent.
    pub const fn changes_access(self) -> bool {
        matches!(
            self,
            Self::Client | Self::CareTeamMembership | Self::SharingConsent
        )
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveEnum, Iterable};

    use super::*;

    #[test]
    fn stored_names_are_the_ones_earlier_releases_wrote() {
        assert_eq!(
            EventKind::ObservationRecorded.to_value(),
            "OBSERVATION_RECORDED"
        );
        assert_eq!(
            EventKind::StatutoryRecordEnteredInError.to_value(),
            "STATUTORY_RECORD_ENTERED_IN_ERROR"
        );
        assert_eq!(EventKind::iter().count(), 23);
        assert_eq!(
            RecordType::CareTeamMembership.to_value(),
            "CareTeamMembership"
        );
        assert_eq!(RecordType::MeetingBrief.to_value(), "MeetingBrief");
        assert!(EventKind::try_from_value(&"SOMETHING_ELSE".to_owned()).is_err());
    }
}
