//! Three-point brief (事前共有の3点) a facility submits before a meeting.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "meeting_briefs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub meeting_id: Uuid,
    pub client_id: Uuid,
    pub organization_id: Uuid,
    /// Recent changes, stable and unstable points, focus for next month, each citing observations.
    pub content: Json,
    pub version: i32,
    pub submitted_by_staff_member_id: Uuid,
    pub submitted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
