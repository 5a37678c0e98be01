//! A grant period (支給決定期間) whose reminder window was entered and whose event was raised
//! (once per grant and window, whatever the number of instances sweeping).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "grant_reminders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub certificate_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_type: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub grant_until: Date,
    /// `RENEWAL_PREPARATION` or `EXPIRED`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub window: String,
    pub client_id: Uuid,
    pub raised_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
