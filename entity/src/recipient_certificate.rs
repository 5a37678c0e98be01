//! Recipient certificate (受給者証): what the municipality granted and the monitoring period.

use sea_orm::{FromJsonQueryResult, entity::prelude::*};
use serde::{Deserialize, Serialize};

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
    #[sea_orm(column_type = "Json")]
    pub granted_services: GrantedServices,
    /// `[{organizationId, serviceType, amount}]`
    #[sea_orm(column_type = "Json")]
    pub contracted_amounts: ContractedAmounts,
    pub recorded_by_organization_id: Uuid,
    pub created_at: DateTimeUtc,
    /// Where the monitoring months come from.
    pub monitoring_basis: MonitoringBasis,
    /// The first monitoring month (実施月) as printed (first day of the month).
    pub monitoring_first_month: Option<Date>,
    /// The printed range's last month (first day of the month), when printed.
    pub monitoring_last_month: Option<Date>,
    /// Months monitored monthly after a new plan or a change (変更後): `["2027-02-01", …]`.
    #[sea_orm(column_type = "Json")]
    pub monitoring_monthly_months: Months,
    /// When the client's services start (サービス利用開始日).
    pub services_start_on: Option<Date>,
    /// Situations the national standard periods weigh: `["LIVING_ALONE", …]`.
    #[sea_orm(column_type = "Json")]
    pub monitoring_situations: Situations,
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

/// A service granted on a certificate (支給決定): its type, amount and grant period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantedService {
    pub service_type: String,
    pub amount: i32,
    /// e.g. `DAYS_PER_MONTH`, `HOURS_PER_MONTH`.
    pub unit: String,
    pub grant_from: Date,
    pub grant_until: Date,
}

/// A facility's contracted amount (契約支給量) of a granted service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContractedAmount {
    pub organization_id: Uuid,
    pub service_type: String,
    pub amount: i32,
}

/// A situation the national standard monitoring periods weigh (モニタリング標準期間の対象者).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Situation {
    /// Needs intensive support (集中的な支援が必要): monthly.
    IntensiveSupport,
    /// Moving to the community from an institution or hospital (地域移行・地域定着): monthly.
    CommunityTransition,
    /// Living alone at home (在宅で単身): monthly.
    LivingAlone,
    /// 65 or over and using long-term care insurance (65歳以上・介護保険): every 6 months.
    LongTermCareInsurance,
}

impl Situation {
    /// The standard period of the situation in months.
    pub const fn period_months(self) -> u32 {
        match self {
            Self::IntensiveSupport | Self::CommunityTransition | Self::LivingAlone => 1,
            Self::LongTermCareInsurance => 6,
        }
    }
}

// The JSON columns, typed: a stored value that does not decode is an error when the row is
// read (`DbErr::Json`), never an empty list.

/// The granted services of a certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct GrantedServices(pub Vec<GrantedService>);

/// The contracted amounts of a certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct ContractedAmounts(pub Vec<ContractedAmount>);

/// Months (first day of each), e.g. the printed monthly months after a change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct Months(pub Vec<Date>);

/// The situations recorded for the national standard periods.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct Situations(pub Vec<Situation>);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
