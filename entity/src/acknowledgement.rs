//! Acknowledgement (確認): an organization has read a record another organization shared.
//! Keeps the record's writer, version and times so freshness needs no join.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "acknowledgements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The acknowledging organization.
    pub organization_id: Uuid,
    pub staff_member_id: Uuid,
    pub client_id: Uuid,
    /// `OBSERVATION`, `MEETING_BRIEF` or `MONITORING_REPORT`.
    pub subject_type: String,
    pub subject_id: Uuid,
    /// The organization that wrote the record.
    pub subject_organization_id: Uuid,
    /// The record's version when acknowledged: an amended record needs a new acknowledgement.
    pub subject_version: i32,
    /// When the record was written (recorded / submitted).
    pub subject_recorded_at: DateTimeUtc,
    pub acknowledged_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
