//! One item of a client's history, with the facts visibility needs.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "timeline_entries")]
pub struct Model {
    /// `OBSERVATION`, `PLAN_VERSION`, `MEETING`, `BRIEF`, `MONITORING_REPORT`,
    /// `CONSENT_GRANTED`, `CONSENT_REVOKED`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
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

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
