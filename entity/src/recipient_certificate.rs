//! Recipient certificate (受給者証): what the municipality granted and the monitoring period.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recipient_certificates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    pub number: String,
    pub municipality: String,
    pub valid_from: Date,
    pub valid_until: Date,
    /// Monitoring every N months (1, 3, 6 …), decided by the municipality.
    pub monitoring_period_months: i32,
    /// First day of the month the monitoring cycle counts from.
    pub monitoring_start_month: Date,
    pub copay_cap_yen: Option<i32>,
    /// `[{serviceType, amount, unit, grantFrom, grantUntil}]`
    pub granted_services: Json,
    /// `[{organizationId, serviceType, amount}]`
    pub contracted_amounts: Json,
    pub recorded_by_organization_id: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
