//! Monitoring report (モニタリング報告書) by the consultation specialist.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "monitoring_reports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    pub organization_id: Uuid,
    /// The service-use plan monitored.
    pub plan_id: Option<Uuid>,
    pub monitored_on: Date,
    /// `VISIT`, `OFFICE`, `PHONE`.
    pub method: String,
    /// `CONTINUE`, `CHANGE`, `RENEW`, `END`.
    pub outcome: String,
    /// Overall situation, goal rows, plan-change flags (JSON).
    pub content: Json,
    pub author_staff_member_id: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
