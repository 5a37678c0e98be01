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
    /// Monitoring every N months (1, 3, 6 …), decided by the municipality (with
    /// `NATIONAL_STANDARD`: the standard period suggested when the certificate was recorded).
    pub monitoring_period_months: i32,
    /// First day of the month the monitoring cycle counts from, that month counted as month 1
    /// (with `PRINTED`: kept consistent, the first 実施月 minus the period plus one month).
    pub monitoring_start_month: Date,
    pub copay_cap_yen: Option<i32>,
    /// `[{serviceType, amount, unit, grantFrom, grantUntil}]`
    pub granted_services: Json,
    /// `[{organizationId, serviceType, amount}]`
    pub contracted_amounts: Json,
    pub recorded_by_organization_id: Uuid,
    pub created_at: DateTimeUtc,
    /// Where the monitoring months come from.
    pub monitoring_basis: MonitoringBasis,
    /// The first monitoring month (実施月) as printed (first day of the month).
    pub monitoring_first_month: Option<Date>,
    /// The printed range's last month (first day of the month), when printed.
    pub monitoring_last_month: Option<Date>,
    /// Months monitored monthly after a new plan or a change (変更後): `["2027-02-01", …]`.
    pub monitoring_monthly_months: Json,
    /// When the client's services start (サービス利用開始日).
    pub services_start_on: Option<Date>,
    /// Situations the national standard periods weigh: `["LIVING_ALONE", …]`.
    pub monitoring_situations: Json,
}

/// Where a certificate's monitoring months come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum MonitoringBasis {
    /// The municipality's decision as printed: period, first 実施月, optional last month and
    /// monthly months.
    #[sea_orm(string_value = "PRINTED")]
    Printed,
    /// A period counted from a start month (the start month is month 1 of the cycle), as first
    /// entered before the printed form existed.
    #[sea_orm(string_value = "COUNT_FROM")]
    CountFrom,
    /// No decision recorded: the national standard periods suggest the months.
    #[sea_orm(string_value = "NATIONAL_STANDARD")]
    NationalStandard,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
