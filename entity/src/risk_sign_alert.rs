//! A risk sign whose acknowledgement deadline passed and whose overdue event was raised (once).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "risk_sign_alerts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub observation_id: Uuid,
    pub client_id: Uuid,
    pub raised_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
