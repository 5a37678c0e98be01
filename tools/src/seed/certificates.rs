//! The demo's recipient certificate (受給者証): 山田 太郎's, a renewal with the municipality's
//! printed monitoring decision, his granted services and the facilities' contracted amounts.

use chrono::Duration;
use kakehashi::{
    auth::Viewer,
    error::ApiError,
    service::{Ctx, certificates, certificates::PrintedDecision},
};
use uuid::Uuid;

use super::calendar::DemoDates;

/// 山田 太郎's certificate, by his consultation specialist: the workshop (就労継続支援B型) and
/// the group home (共同生活援助) each contracted for what was granted.
pub(super) async fn yamada(
    state: &Ctx,
    viewer: &Viewer,
    dates: &DemoDates,
    yamada: Uuid,
    [workshop, group_home]: [Uuid; 2],
) -> Result<(), ApiError> {
    // A renewal: the certificate runs a year from about six months ago, and the municipality's
    // printed decision is 3-monthly with the next monitoring meeting's month among its 実施月.
    let start = dates.certificate_from;
    let until = start
        .checked_add_months(chrono::Months::new(12))
        .unwrap_or(start)
        - Duration::days(1);
    certificates::add_certificate(
        state,
        viewer,
        certificates::NewCertificate {
            client_id: yamada,
            number: "1300012345".into(),
            municipality: "東京都千代田区".into(),
            valid_from: start,
            valid_until: until,
            monitoring_period_months: None,
            monitoring_start_month: None,
            monitoring: Some(PrintedDecision {
                period_months: 3,
                first_month: dates.first_monitoring_month(),
                last_month: None,
                monthly_months: Vec::new(),
            }),
            services_start_on: None,
            monitoring_situations: Vec::new(),
            copay_cap_yen: Some(9300),
            granted_services: vec![
                certificates::GrantedService {
                    service_type: "就労継続支援B型".into(),
                    amount: 22,
                    unit: "DAYS_PER_MONTH".into(),
                    grant_from: start,
                    grant_until: until,
                },
                certificates::GrantedService {
                    service_type: "共同生活援助".into(),
                    amount: 31,
                    unit: "DAYS_PER_MONTH".into(),
                    grant_from: start,
                    grant_until: until,
                },
            ],
            contracted_amounts: vec![
                certificates::ContractedAmount {
                    organization_id: workshop,
                    service_type: "就労継続支援B型".into(),
                    amount: 22,
                },
                certificates::ContractedAmount {
                    organization_id: group_home,
                    service_type: "共同生活援助".into(),
                    amount: 31,
                },
            ],
        },
    )
    .await?;
    Ok(())
}
