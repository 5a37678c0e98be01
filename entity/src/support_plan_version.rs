//! One version of a support plan, as it stood.

use sea_orm::entity::prelude::*;

use super::support_plan::PlanStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "support_plan_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub plan_id: Uuid,
    pub version: i32,
    pub status: PlanStatus,
    pub period_from: Date,
    pub period_to: Option<Date>,
    pub content: Json,
    pub record: Json,
    pub edited_by_staff_member_id: Uuid,
    pub edited_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
