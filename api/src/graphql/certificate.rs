//! Recipient certificates (受給者証) as the viewer may see them (profile data), the monitoring
//! decision they record, and the monitoring schedule computed from it.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::recipient_certificate;
use uuid::Uuid;

use super::{context::ContextExt, ids, scalars::Date};
use crate::{
    error::ApiError,
    service::{
        certificates,
        monitoring::schedule::{self, MonitoringBasis, Situation},
    },
};

/// A granted service on a recipient certificate (支給決定内容).
#[derive(SimpleObject, Clone)]
pub(super) struct GrantedService {
    /// Service type (サービス種別), e.g. 就労継続支援B型.
    pub service_type: String,
    /// Granted amount (支給量), e.g. 22.
    pub amount: i32,
    /// Unit of the amount, e.g. `DAYS_PER_MONTH` (日/月).
    pub unit: String,
    /// First day of the grant period (支給決定期間).
    pub grant_from: Date,
    /// Last day of the grant period.
    pub grant_until: Date,
}

/// A facility's contracted amount (契約支給量) of a granted service.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub(super) struct ContractedAmount {
    #[graphql(skip)]
    pub organization_id: Uuid,
    /// Service type.
    pub service_type: String,
    /// Contracted amount, in the granted service's unit.
    pub amount: i32,
}

#[ComplexObject]
impl ContractedAmount {
    /// The facility holding the contract.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<super::Organization> {
        let org = ctx
            .loaders()?
            .organizations
            .load_one(self.organization_id)
            .await?
            .ok_or(ApiError::NotFound("Organization"))?;
        Ok(super::Organization(org))
    }
}

/// Recipient certificate (受給者証) issued by the municipality.
pub(crate) struct RecipientCertificate(pub recipient_certificate::Model);

/// Recipient certificate (受給者証): what the municipality granted, and the monitoring period.
#[Object]
impl RecipientCertificate {
    /// Opaque global id.
    async fn id(&self) -> ID {
        ids::encode("RecipientCertificate", self.0.id)
    }
    /// Certificate number (受給者証番号).
    async fn number(&self) -> &str {
        &self.0.number
    }
    /// Issuing municipality (市町村).
    async fn municipality(&self) -> &str {
        &self.0.municipality
    }
    /// First day of validity (有効期間).
    async fn valid_from(&self) -> Date {
        Date(self.0.valid_from)
    }
    /// Last day of validity.
    async fn valid_until(&self) -> Date {
        Date(self.0.valid_until)
    }
    /// Monitoring every N months (モニタリング期間), as the municipality decided; when no decision
    /// is recorded, the national standard period suggested when the certificate was recorded
    /// (see `monitoringSchedule` for the months).
    async fn monitoring_period_months(&self) -> i32 {
        self.0.monitoring_period_months
    }
    /// The month the monitoring cycle counts from (first day of that month), that month counted
    /// as month 1: the first monitoring month is this plus `monitoringPeriodMonths` − 1. Kept for
    /// the first version's readers; `monitoringSchedule` holds the decision as printed.
    async fn monitoring_start_month(&self) -> Date {
        Date(self.0.monitoring_start_month)
    }
    /// When the client's services start (サービス利用開始日), if recorded on the certificate.
    async fn services_start_on(&self) -> Option<Date> {
        self.0.services_start_on.map(Date)
    }
    /// The monitoring schedule (モニタリング実施月) from the decision recorded on this certificate
    /// (or the national standard periods when none is), with every monitoring month of its
    /// validity. Where services start is not recorded, the client's first care-team start is used;
    /// with no decision recorded, a provider joining later is a change of services (変更後, monthly).
    async fn monitoring_schedule(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<MonitoringSchedule> {
        // The care team through the request's loader: one query for every certificate shown.
        let team = ctx
            .loaders()?
            .care_teams
            .load_one(self.0.client_id)
            .await?
            .unwrap_or_default();
        let starts = schedule::ServiceStarts::of(team.iter());
        Ok(MonitoringSchedule(schedule::of_certificate(
            &self.0, &starts,
        )))
    }
    /// Monthly co-pay cap in yen (負担上限月額).
    async fn copay_cap_yen(&self) -> Option<i32> {
        self.0.copay_cap_yen
    }
    /// Granted services (支給決定内容).
    async fn granted_services(&self) -> Vec<GrantedService> {
        self.0
            .granted_services
            .0
            .iter()
            .map(|g| GrantedService {
                service_type: g.service_type.clone(),
                amount: g.amount,
                unit: g.unit.clone(),
                grant_from: Date(g.grant_from),
                grant_until: Date(g.grant_until),
            })
            .collect()
    }
    /// Contracted amounts per facility (契約支給量); together at most the granted amount.
    async fn contracted_amounts(&self) -> Vec<ContractedAmount> {
        self.0
            .contracted_amounts
            .0
            .iter()
            .map(|c| ContractedAmount {
                organization_id: c.organization_id,
                service_type: c.service_type.clone(),
                amount: c.amount,
            })
            .collect()
    }
}

/// A granted service, as entered.
#[derive(InputObject)]
pub(super) struct GrantedServiceInput {
    /// Service type (サービス種別).
    pub service_type: String,
    /// Granted amount (支給量).
    pub amount: i32,
    /// Unit, e.g. `DAYS_PER_MONTH`.
    pub unit: String,
    /// Grant period start.
    pub grant_from: Date,
    /// Grant period end.
    pub grant_until: Date,
}

/// A contracted amount, as entered.
#[derive(InputObject)]
pub(super) struct ContractedAmountInput {
    /// The facility's global id.
    pub organization_id: ID,
    /// Service type.
    pub service_type: String,
    /// Contracted amount.
    pub amount: i32,
}

/// Input of `addRecipientCertificate`.
#[derive(InputObject)]
pub(super) struct AddRecipientCertificateInput {
    /// The client's global id.
    pub client_id: ID,
    /// Certificate number (受給者証番号).
    pub number: String,
    /// Issuing municipality.
    pub municipality: String,
    /// First day of validity.
    pub valid_from: Date,
    /// Last day of validity.
    pub valid_until: Date,
    /// Monitoring every N months (1–12), counted from `monitoringStartMonth` (the first version's
    /// entry; give it with `monitoringStartMonth`, or give `monitoringDecision` instead, or
    /// neither when no decision is recorded: the national standard periods then apply).
    pub monitoring_period_months: Option<i32>,
    /// The month monitoring counts from (any day of it), counted as month 1 of the cycle.
    pub monitoring_start_month: Option<Date>,
    /// The municipality's monitoring decision as the certificate prints it (モニタリング期間),
    /// e.g. 「3月ごと（2027年2月〜）」.
    pub monitoring_decision: Option<MonitoringDecisionInput>,
    /// When the client's services start (サービス利用開始日); a client whose services start
    /// within the certificate is new (新規) for the national standard periods.
    pub services_start_on: Option<Date>,
    /// Situations the national standard periods weigh (標準期間の対象者), used when no decision is
    /// recorded.
    #[graphql(default)]
    pub monitoring_situations: Vec<MonitoringSituation>,
    /// Monthly co-pay cap in yen.
    pub copay_cap_yen: Option<i32>,
    /// Granted services.
    #[graphql(default)]
    pub granted_services: Vec<GrantedServiceInput>,
    /// Contracted amounts per facility; per service their sum may not exceed the granted amount.
    #[graphql(default)]
    pub contracted_amounts: Vec<ContractedAmountInput>,
}

/// Result of `addRecipientCertificate`.
#[derive(SimpleObject)]
pub(super) struct AddRecipientCertificatePayload {
    /// The stored certificate.
    pub recipient_certificate: RecipientCertificate,
}

#[derive(Default)]
pub(super) struct CertificateMutation;

#[Object]
impl CertificateMutation {
    /// Records a recipient certificate (受給者証). Coordinators of a current care-team member.
    async fn add_recipient_certificate(
        &self,
        ctx: &Context<'_>,
        input: AddRecipientCertificateInput,
    ) -> async_graphql::Result<AddRecipientCertificatePayload> {
        let viewer = ctx.viewer()?;
        let client_id = ids::decode("Client", "clientId", &input.client_id)?;
        let mut contracted = Vec::with_capacity(input.contracted_amounts.len());
        for c in input.contracted_amounts {
            contracted.push(certificates::ContractedAmount {
                organization_id: ids::decode(
                    "Organization",
                    "contractedAmounts.organizationId",
                    &c.organization_id,
                )?,
                service_type: c.service_type,
                amount: c.amount,
            });
        }
        let new = certificates::NewCertificate {
            client_id,
            number: input.number,
            municipality: input.municipality,
            valid_from: input.valid_from.0,
            valid_until: input.valid_until.0,
            monitoring_period_months: input.monitoring_period_months,
            monitoring_start_month: input.monitoring_start_month.map(|d| d.0),
            monitoring: input
                .monitoring_decision
                .map(|d| certificates::PrintedDecision {
                    period_months: d.period_months,
                    first_month: d.first_month.0,
                    last_month: d.last_month.map(|m| m.0),
                    monthly_months: d.monthly_months.into_iter().map(|m| m.0).collect(),
                }),
            services_start_on: input.services_start_on.map(|d| d.0),
            monitoring_situations: input
                .monitoring_situations
                .into_iter()
                .map(Into::into)
                .collect(),
            copay_cap_yen: input.copay_cap_yen,
            granted_services: input
                .granted_services
                .into_iter()
                .map(|g| certificates::GrantedService {
                    service_type: g.service_type,
                    amount: g.amount,
                    unit: g.unit,
                    grant_from: g.grant_from.0,
                    grant_until: g.grant_until.0,
                })
                .collect(),
            contracted_amounts: contracted,
        };
        let model = certificates::add_certificate(ctx.state()?, viewer, new).await?;
        Ok(AddRecipientCertificatePayload {
            recipient_certificate: RecipientCertificate(model),
        })
    }
}

/// The monitoring decision as printed on the 受給者証 (モニタリング期間の記載).
#[derive(InputObject)]
pub(super) struct MonitoringDecisionInput {
    /// Every N months: 1 (毎月), 3 (3か月ごと), 6 (6か月ごと) or another N, 1–12.
    pub period_months: i32,
    /// The first monitoring month (実施月) as printed, any day of it: 「3月ごと（2027年2月〜）」 is
    /// 2027-02. Within the certificate's validity.
    pub first_month: Date,
    /// The printed range's last month (「〜2027年11月」), any day of it; default: the last month
    /// of the certificate's validity.
    pub last_month: Option<Date>,
    /// Months monitored monthly after a new plan or a change of services (変更後の毎月実施月), any
    /// day of each; at most 12, within the validity.
    #[graphql(default)]
    pub monthly_months: Vec<Date>,
}

/// A situation the national standard monitoring periods weigh (標準期間の対象者).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "Situation")]
pub enum MonitoringSituation {
    /// Needs intensive support (集中的な支援が必要): monthly.
    IntensiveSupport,
    /// Moving to the community from an institution or hospital (地域移行・地域定着): monthly.
    CommunityTransition,
    /// Living alone at home (在宅で単身): monthly.
    LivingAlone,
    /// 65 or over and using long-term care insurance (65歳以上・介護保険): every 6 months.
    LongTermCareInsurance,
}

/// Where monitoring months come from (実施月の根拠).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "MonitoringBasis")]
pub enum MonitoringScheduleBasis {
    /// The municipality's decision as printed on the certificate (市町村の決定・受給者証の記載).
    Printed,
    /// A period counted from a start month, that month being month 1 (the first version's
    /// entry); a new client is monitored monthly for three months from the start of services.
    CountFrom,
    /// No decision recorded: the national standard periods (国の標準期間), counted back from
    /// the certificate's last month, monthly for a new client's first three months.
    NationalStandard,
}

/// A certificate's monitoring schedule (モニタリング実施予定).
pub(super) struct MonitoringSchedule(pub schedule::Schedule);

/// A certificate's monitoring schedule (モニタリング実施予定): the decision it comes from and
/// every monitoring month (実施月) of the certificate's validity.
#[Object]
impl MonitoringSchedule {
    /// Where the months come from (根拠).
    async fn basis(&self) -> MonitoringScheduleBasis {
        self.0.basis.into()
    }
    /// Every N months (モニタリング期間); for the national standard, the suggested period.
    async fn period_months(&self) -> i32 {
        i32::try_from(self.0.period_months).unwrap_or(i32::MAX)
    }
    /// How the certificate prints it, e.g. 「3か月ごと」 or 「毎月」 (期間の表記).
    async fn period_label(&self) -> String {
        match self.0.period_months {
            1 => "毎月".to_owned(),
            n => format!("{n}か月ごと"),
        }
    }
    /// The first periodic monitoring month (最初の実施月); null for the national standard, whose
    /// months count back from the last month.
    async fn first_month(&self) -> Option<Date> {
        self.0.first_month.map(Date)
    }
    /// The last month monitored under this certificate (実施月の終期).
    async fn last_month(&self) -> Date {
        Date(self.0.last_month)
    }
    /// The months monitored monthly (毎月実施月): after a change as printed (変更後), or a new
    /// client's first three months from the start of services (新規).
    async fn monthly_months(&self) -> Vec<Date> {
        self.0.monthly_months.iter().copied().map(Date).collect()
    }
    /// When services start (サービス利用開始日), as recorded or from the care team; null if unknown.
    async fn services_start_on(&self) -> Option<Date> {
        self.0.services_start.map(Date)
    }
    /// The situations recorded for the national standard (標準期間の対象者).
    async fn situations(&self) -> Vec<MonitoringSituation> {
        self.0.situations.iter().copied().map(Into::into).collect()
    }
    /// Every monitoring month (モニタリング実施月), first days, in order.
    async fn months(&self) -> Vec<Date> {
        self.0.months.iter().copied().map(Date).collect()
    }
}
