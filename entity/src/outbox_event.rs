//! Outbox event: one change, written in the same transaction as the change itself, delivered
//! to subscribers and webhooks after commit.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// e.g. `OBSERVATION_RECORDED`.
    pub kind: String,
    pub client_id: Uuid,
    pub record_type: String,
    pub record_id: Uuid,
    pub actor_staff_member_id: Uuid,
    pub actor_organization_id: Uuid,
    pub occurred_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
