//! A grant period (支給決定期間) whose reminder window was entered and whose event was raised
//! (once per grant — client, service, last day — and window, whatever the number of instances
//! sweeping or of certificates re-issued with the same grant).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "grant_reminders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_type: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub grant_until: Date,
    /// `RENEWAL_PREPARATION` or `EXPIRED`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub window: String,
    /// The certificate in force when the reminder was raised (the event's record).
    pub certificate_id: Uuid,
    pub raised_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
