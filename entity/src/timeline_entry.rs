//! One item of a client's history, with the facts visibility needs.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "timeline_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: EntryKind,
    #[sea_orm(primary_key, auto_increment = false)]
    pub record_id: Uuid,
    pub client_id: Uuid,
    /// When it happened (not when it was written).
    pub occurred_at: DateTimeUtc,
    /// The organization that wrote it.
    pub organization_id: Uuid,
    pub visibility: super::observation::Visibility,
    /// The consent category that must cover it for other organizations; `None`: none needed.
    pub data_category: Option<String>,
    /// Observation category, where there is one (safeguarding bypasses consent).
    pub category: Option<String>,
    pub status: super::observation::RecordStatus,
}

/// What kind of history item an entry is (stored as `OBSERVATION`, `PLAN_VERSION` …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "SCREAMING_SNAKE_CASE"
)]
pub enum EntryKind {
    Observation,
    PlanVersion,
    Meeting,
    Brief,
    MonitoringReport,
    ConsentGranted,
    ConsentRevoked,
    /// A physical restraint record (身体拘束等).
    Restraint,
    /// An accident or near-miss report (事故・ヒヤリハット).
    Accident,
    /// A complaint record (苦情).
    Complaint,
}

impl EntryKind {
    /// The kind a stored name stands for (`None` for a name this version does not know).
    pub fn parse(name: &str) -> Option<Self> {
        <Self as sea_orm::Iterable>::iter().find(|k| sea_orm::ActiveEnum::to_value(k) == name)
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
