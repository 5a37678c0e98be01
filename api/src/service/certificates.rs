//! Recipient certificates (受給者証): what the municipality granted, the contracted amounts,
//! and the monitoring decision as printed (see [`super::monitoring::schedule`] for the months it
//! gives). A certificate is profile data: callers check profile visibility.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::recipient_certificate::{self, MonitoringBasis};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::{
    events::{self, EventKind, RecordType},
    monitoring::schedule::{self, Situation, first_of_month},
    required_text,
};
use crate::service::ClientWrite;
use crate::{
    auth::{Viewer, policy},
    db,
    error::{ApiError, ApiResult},
    service::Ctx,
};

pub use entity::recipient_certificate::{ContractedAmount, GrantedService};

/// A recipient certificate as entered.
#[derive(Debug, Clone)]
pub struct NewCertificate {
    pub client_id: Uuid,
    pub number: String,
    pub municipality: String,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    /// Count-from entry (the first version's): every N months from a start month that is month 1
    /// of the cycle. Give both, or neither.
    pub monitoring_period_months: Option<i32>,
    pub monitoring_start_month: Option<NaiveDate>,
    /// The municipality's decision as printed (instead of the count-from entry).
    pub monitoring: Option<PrintedDecision>,
    /// When the client's services start (サービス利用開始日).
    pub services_start_on: Option<NaiveDate>,
    /// Situations the national standard periods weigh (used when no decision is recorded).
    pub monitoring_situations: Vec<Situation>,
    pub copay_cap_yen: Option<i32>,
    pub granted_services: Vec<GrantedService>,
    pub contracted_amounts: Vec<ContractedAmount>,
}

/// The monitoring decision as the 受給者証 prints it: 「3月ごと（2027年2月〜2027年11月）」 is
/// period 3, first month 2027-02, last month 2027-11.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintedDecision {
    /// 1 (毎月), 3 (3か月ごと), 6 (6か月ごと) or any other 1–12.
    pub period_months: i32,
    /// The first monitoring month (実施月), any day of it.
    pub first_month: NaiveDate,
    /// The printed range's last month, when printed.
    pub last_month: Option<NaiveDate>,
    /// Months monitored monthly after a new plan or a change (変更後).
    pub monthly_months: Vec<NaiveDate>,
}

/// The monitoring columns of a certificate, validated.
struct MonitoringColumns {
    basis: MonitoringBasis,
    period_months: i32,
    start_month: NaiveDate,
    first_month: Option<NaiveDate>,
    last_month: Option<NaiveDate>,
    monthly_months: Vec<NaiveDate>,
}

fn period(field: &str, months: i32) -> ApiResult<u32> {
    u32::try_from(months)
        .ok()
        .filter(|m| (1..=12).contains(m))
        .ok_or_else(|| ApiError::bad_input(field, "The monitoring period is 1 to 12 months."))
}

/// Validates the monitoring decision against the certificate's validity: printed months fall
/// within it (by month), the range is in order, at most 12 distinct monthly months.
fn monitoring_columns(new: &NewCertificate) -> ApiResult<MonitoringColumns> {
    let (from, until) = (
        first_of_month(new.valid_from),
        first_of_month(new.valid_until),
    );
    let within = |field: &str, m: NaiveDate| {
        if m < from || m > until {
            Err(ApiError::bad_input(
                field,
                "The month is outside the certificate's validity (有効期間).",
            ))
        } else {
            Ok(m)
        }
    };
    if let Some(s) = new.services_start_on
        && s > new.valid_until
    {
        return Err(ApiError::bad_input(
            "servicesStartOn",
            "Services cannot start after the certificate ends.",
        ));
    }
    if new.monitoring_situations.len() > 8 {
        return Err(ApiError::bad_input(
            "monitoringSituations",
            "Too many situations.",
        ));
    }
    match (
        &new.monitoring,
        new.monitoring_period_months,
        new.monitoring_start_month,
    ) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(ApiError::bad_input(
            "monitoringDecision",
            "Give the decision as printed or the count-from period and start month, not both.",
        )),
        (Some(d), None, None) => {
            let p = period("monitoringDecision.periodMonths", d.period_months)?;
            let first = within(
                "monitoringDecision.firstMonth",
                first_of_month(d.first_month),
            )?;
            let last = d
                .last_month
                .map(|l| within("monitoringDecision.lastMonth", first_of_month(l)))
                .transpose()?;
            if last.is_some_and(|l| l < first) {
                return Err(ApiError::bad_input(
                    "monitoringDecision.lastMonth",
                    "The last month is before the first month.",
                ));
            }
            let mut monthly = d
                .monthly_months
                .iter()
                .map(|m| within("monitoringDecision.monthlyMonths", first_of_month(*m)))
                .collect::<ApiResult<Vec<_>>>()?;
            monthly.sort();
            monthly.dedup();
            if monthly.len() > 12 {
                return Err(ApiError::bad_input(
                    "monitoringDecision.monthlyMonths",
                    "At most 12 monthly months.",
                ));
            }
            // The count-from columns say the same periodic months to readers of the first
            // version: the start month is month 1 of the cycle.
            let start_month = first
                .checked_sub_months(chrono::Months::new(p - 1))
                .unwrap_or(first);
            Ok(MonitoringColumns {
                basis: MonitoringBasis::Printed,
                period_months: d.period_months,
                start_month,
                first_month: Some(first),
                last_month: last,
                monthly_months: monthly,
            })
        }
        (None, Some(p), Some(start)) => {
            period("monitoringPeriodMonths", p)?;
            Ok(MonitoringColumns {
                basis: MonitoringBasis::CountFrom,
                period_months: p,
                start_month: first_of_month(start),
                first_month: None,
                last_month: None,
                monthly_months: Vec::new(),
            })
        }
        (None, Some(_), None) => Err(ApiError::bad_input(
            "monitoringStartMonth",
            "A monitoring period needs the month it counts from (or give monitoringDecision).",
        )),
        (None, None, Some(_)) => Err(ApiError::bad_input(
            "monitoringPeriodMonths",
            "A start month needs the monitoring period (or give monitoringDecision).",
        )),
        (None, None, None) => {
            // No decision recorded: keep the standard period suggested today in the count-from
            // columns, for readers of the first version.
            let p = schedule::standard_period(
                new.granted_services.iter().map(|g| g.service_type.as_str()),
                &new.monitoring_situations,
            );
            Ok(MonitoringColumns {
                basis: MonitoringBasis::NationalStandard,
                period_months: i32::try_from(p).unwrap_or(6),
                start_month: from,
                first_month: None,
                last_month: None,
                monthly_months: Vec::new(),
            })
        }
    }
}

/// Records a recipient certificate (受給者証). The contracted amounts of each service must not
/// add up to more than its granted amount.
pub async fn add_certificate(
    state: &Ctx,
    viewer: &Viewer,
    new: NewCertificate,
) -> ApiResult<recipient_certificate::Model> {
    db::retrying(|| add_certificate_once(state, viewer, new.clone())).await
}

/// One attempt of [`add_certificate`].
async fn add_certificate_once(
    state: &Ctx,
    viewer: &Viewer,
    new: NewCertificate,
) -> ApiResult<recipient_certificate::Model> {
    let txn = ClientWrite::for_client(viewer, new.client_id)
        .open(
            state,
            policy::can_coordinate_client,
            "Only coordinators of a current care-team member record certificates.",
        )
        .await?;
    let number = required_text("number", &new.number, 20)?;
    let municipality = required_text("municipality", &new.municipality, 100)?;
    if new.valid_until < new.valid_from {
        return Err(ApiError::bad_input(
            "validUntil",
            "validUntil is before validFrom.",
        ));
    }
    let monitoring = monitoring_columns(&new)?;
    if new.granted_services.len() > 20 || new.contracted_amounts.len() > 50 {
        return Err(ApiError::bad_input("grantedServices", "Too many services."));
    }
    for g in &new.granted_services {
        required_text("grantedServices.serviceType", &g.service_type, 100)?;
        if g.amount < 0 || g.grant_until < g.grant_from {
            return Err(ApiError::bad_input(
                "grantedServices",
                "A granted amount is negative or its period is reversed.",
            ));
        }
    }
    for c in &new.contracted_amounts {
        let granted: i32 = new
            .granted_services
            .iter()
            .filter(|g| g.service_type == c.service_type)
            .map(|g| g.amount)
            .max()
            .unwrap_or(0);
        // Summed as i64: 32-bit amounts must not wrap around the check.
        let contracted: i64 = new
            .contracted_amounts
            .iter()
            .filter(|x| x.service_type == c.service_type)
            .map(|x| i64::from(x.amount.max(0)))
            .sum();
        if c.amount < 0 || contracted > i64::from(granted) {
            return Err(ApiError::bad_input(
                "contractedAmounts",
                format!(
                    "Contracted amounts for {} exceed the granted amount ({granted}).",
                    c.service_type
                ),
            ));
        }
    }
    let model = recipient_certificate::ActiveModel {
        id: Set(Uuid::now_v7()),
        client_id: Set(new.client_id),
        number: Set(number),
        municipality: Set(municipality),
        valid_from: Set(new.valid_from),
        valid_until: Set(new.valid_until),
        monitoring_period_months: Set(monitoring.period_months),
        monitoring_start_month: Set(monitoring.start_month),
        monitoring_basis: Set(monitoring.basis),
        monitoring_first_month: Set(monitoring.first_month),
        monitoring_last_month: Set(monitoring.last_month),
        monitoring_monthly_months: Set(recipient_certificate::Months(monitoring.monthly_months)),
        services_start_on: Set(new.services_start_on),
        monitoring_situations: Set(recipient_certificate::Situations(new.monitoring_situations)),
        copay_cap_yen: Set(new.copay_cap_yen),
        granted_services: Set(recipient_certificate::GrantedServices(new.granted_services)),
        contracted_amounts: Set(recipient_certificate::ContractedAmounts(
            new.contracted_amounts,
        )),
        recorded_by_organization_id: Set(viewer.organization_id),
        created_at: Set(super::now()),
    }
    .insert(&txn)
    .await?;
    events::record_change(
        &txn,
        viewer,
        EventKind::CertificateRecorded,
        new.client_id,
        RecordType::RecipientCertificate,
        model.id,
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// Certificates of clients (one query; callers check profile visibility).
pub async fn certificates(
    db: &impl ConnectionTrait,
    clients: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<recipient_certificate::Model>>> {
    Ok(super::capped(super::group_by(
        recipient_certificate::Entity::find()
            .filter(recipient_certificate::Column::ClientId.is_in(clients.iter().copied()))
            .all(db)
            .await?,
        |r| r.client_id,
    )))
}
