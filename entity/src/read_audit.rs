//! A compact read audit (閲覧の監査記録): who read which client's records, when. Append-only;
//! pruned after the retention period (once exported).
//!
//! About 110 bytes a row on PostgreSQL instead of the kilobyte of an `audit_events` read row:
//! the time is the id's (UUIDv7, millisecond precision), the operation a small code, and a page
//! of several records the key of a [`super::read_audit_page`] row shared by every read of that
//! page in a month. Writes are still audited in `audit_events`, in their own transaction.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "read_audits")]
pub struct Model {
    /// UUIDv7; its timestamp is when the read happened.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub staff_member_id: Uuid,
    pub organization_id: Uuid,
    pub client_id: Option<Uuid>,
    pub operation: ReadOperation,
    /// The one record read; `None` when none or several were.
    pub record_id: Option<Uuid>,
    /// When several records were read: the hash of their page (see [`super::read_audit_page`]).
    pub page: Option<Vec<u8>>,
}

/// What was read. The numbers are stored: never renumber or reuse one, only add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "i16", db_type = "SmallInteger")]
pub enum ReadOperation {
    /// A client's basic record (`client(id:)`).
    #[sea_orm(num_value = 1)]
    Client,
    /// A client's profile (profile-consent data).
    #[sea_orm(num_value = 2)]
    Profile,
    #[sea_orm(num_value = 3)]
    Observations,
    /// A page of a client's history (経過).
    #[sea_orm(num_value = 4)]
    History,
    #[sea_orm(num_value = 5)]
    Plans,
    #[sea_orm(num_value = 6)]
    Meetings,
    #[sea_orm(num_value = 7)]
    Monitoring,
    /// A restraint, accident or complaint record.
    #[sea_orm(num_value = 8)]
    StatutoryRecord,
    /// A record delivered through a subscription.
    #[sea_orm(num_value = 9)]
    Event,
}

impl ReadOperation {
    /// The name the audit log shows (the `operation` string that `audit_events` rows carried).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Client => "READ_CLIENT",
            Self::Profile => "READ_PROFILE",
            Self::Observations => "READ_OBSERVATIONS",
            Self::History => "READ_HISTORY",
            Self::Plans => "READ_PLANS",
            Self::Meetings => "READ_MEETINGS",
            Self::Monitoring => "READ_MONITORING",
            Self::StatutoryRecord => "READ_STATUTORY_RECORD",
            Self::Event => "READ_EVENT",
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
