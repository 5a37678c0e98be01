//! Audit log entry: who read or wrote which client's records, when. Append-only.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub occurred_at: DateTimeUtc,
    pub staff_member_id: Uuid,
    pub organization_id: Uuid,
    /// e.g. `READ_CLIENT`, `RECORD_OBSERVATION`.
    pub operation: String,
    pub client_id: Option<Uuid>,
    /// JSON array of the record ids involved.
    pub record_ids: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
