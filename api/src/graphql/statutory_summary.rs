//! The audit summary (実地指導用の集計) of your organization's statutory records over a period.

use async_graphql::{Context, Object};

use super::{Organization, client::Client, context::ContextExt, scalars::Date};
use crate::service::statutory::summary::{self, ClientCounts, Summary};

/// Your organization's statutory records over a period, ready for an audit (実地指導).
pub(super) struct StatutorySummary(Summary);

/// Statutory records of your organization over a period (実地指導用の集計): restraints with their
/// total minutes and completeness, accidents and near misses with their municipal reports,
/// complaints open and resolved, and the same per client. Entered-in-error records are left out.
#[Object]
impl StatutorySummary {
    /// Your organization (事業所).
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        Organization::load(ctx, self.0.organization_id).await
    }
    /// First day of the period (期間の開始日), JST.
    async fn from(&self) -> Date {
        Date(self.0.from)
    }
    /// Last day of the period (期間の終了日), JST, inclusive.
    async fn to(&self) -> Date {
        Date(self.0.to)
    }
    /// Physical restraint records begun in the period (身体拘束等の件数).
    async fn restraint_count(&self) -> i64 {
        self.0.restraints
    }
    /// Their total duration in minutes (身体拘束の合計時間・分).
    async fn restraint_total_minutes(&self) -> i64 {
        self.0.restraint_minutes
    }
    /// Restraint records stating all three requirements, 切迫性・非代替性・一時性 (三要件の記載あり).
    async fn restraints_with_all_requirements(&self) -> i64 {
        self.0.restraints_with_all_requirements
    }
    /// Restraint records without an explanation to the family yet (家族への説明なし).
    async fn restraints_without_family_explanation(&self) -> i64 {
        self.0.restraints_without_family_explanation
    }
    /// True when every restraint record in the period states the three requirements and the
    /// explanation to the family (記録の不備なし); true when there are none.
    async fn restraint_records_complete(&self) -> bool {
        self.0.restraints_with_all_requirements == self.0.restraints
            && self.0.restraints_without_family_explanation == 0
    }
    /// Accidents in the period (事故の件数).
    async fn accident_count(&self) -> i64 {
        self.0.accidents
    }
    /// Near misses in the period (ヒヤリハットの件数).
    async fn near_miss_count(&self) -> i64 {
        self.0.near_misses
    }
    /// Accidents reported to the municipality (市町村へ報告済みの事故).
    async fn accidents_reported_to_municipality(&self) -> i64 {
        self.0.accidents_reported_to_municipality
    }
    /// Accidents with no municipal report recorded (市町村への報告なしの事故); which ones the
    /// municipality wants reported is its own rule.
    async fn accidents_without_municipal_report(&self) -> i64 {
        self.0.accidents_without_municipal_report
    }
    /// Accidents with no report to the family recorded (家族への報告なしの事故).
    async fn accidents_without_family_report(&self) -> i64 {
        self.0.accidents_without_family_report
    }
    /// Complaints received in the period (苦情の受付件数).
    async fn complaint_count(&self) -> i64 {
        self.0.complaints
    }
    /// Of them, still open (未解決).
    async fn open_complaint_count(&self) -> i64 {
        self.0.open_complaints
    }
    /// Of them, resolved (解決済み).
    async fn resolved_complaint_count(&self) -> i64 {
        self.0.complaints - self.0.open_complaints
    }
    /// The same counts per client with any record in the period (利用者別).
    async fn clients(&self) -> Vec<ClientStatutoryCounts> {
        self.0
            .clients
            .iter()
            .map(|(id, c)| ClientStatutoryCounts(*id, c.clone()))
            .collect()
    }
}

/// One client's statutory records in the period (利用者別の件数).
pub(super) struct ClientStatutoryCounts(uuid::Uuid, ClientCounts);

/// One client's statutory records in the summary's period (利用者別の件数).
#[Object]
impl ClientStatutoryCounts {
    /// The client (本人).
    async fn client(&self, ctx: &Context<'_>) -> async_graphql::Result<Client> {
        Client::load(ctx, self.0).await
    }
    /// Physical restraint records (身体拘束等の件数).
    async fn restraint_count(&self) -> i64 {
        self.1.restraints
    }
    /// Their total minutes (合計時間・分).
    async fn restraint_total_minutes(&self) -> i64 {
        self.1.restraint_minutes
    }
    /// Accidents (事故).
    async fn accident_count(&self) -> i64 {
        self.1.accidents
    }
    /// Near misses (ヒヤリハット).
    async fn near_miss_count(&self) -> i64 {
        self.1.near_misses
    }
    /// Complaints received (苦情).
    async fn complaint_count(&self) -> i64 {
        self.1.complaints
    }
    /// Of them, still open (未解決).
    async fn open_complaint_count(&self) -> i64 {
        self.1.open_complaints
    }
}

#[derive(Default)]
pub(super) struct StatutorySummaryQuery;

#[Object]
impl StatutorySummaryQuery {
    /// Your organization's statutory records from `from` to `to` (JST days, inclusive, at most
    /// 366 days) for an audit (実地指導用の集計). Service managers, consultation specialists and
    /// admins; `FORBIDDEN` for other staff.
    async fn statutory_summary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "First day of the period (期間の開始日).")] from: Date,
        #[graphql(desc = "Last day of the period, inclusive (期間の終了日).")] to: Date,
    ) -> async_graphql::Result<StatutorySummary> {
        let s = summary::of_period(&ctx.state()?.db, ctx.viewer()?, from.0, to.0).await?;
        Ok(StatutorySummary(s))
    }
}
