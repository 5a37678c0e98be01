//! Monitoring reports (モニタリング報告書): how and when the consultation specialist monitored,
//! what was decided, and the report goal by goal.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::monitoring_report;

use super::{context::ContextExt, ids, scalars::Date, staff::StaffMember};
use crate::{error::ApiError, service::documents::MonitoringContent};

/// How a monitoring was done.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum MonitoringMethod {
    /// Home visit (居宅訪問).
    Visit,
    /// At the office (来所).
    Office,
    /// By phone (電話).
    Phone,
}

/// What a monitoring decided (モニタリング結果).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum MonitoringOutcome {
    /// Continue the plan (継続).
    Continue,
    /// Change it mid-term (計画変更).
    Change,
    /// Renew it (更新).
    Renew,
    /// End support (終了).
    End,
}

pub(super) fn screaming<T: std::fmt::Debug>(v: T) -> String {
    format!("{v:?}").to_uppercase()
}

/// A monitoring report.
pub(crate) struct MonitoringReport(pub monitoring_report::Model);

/// Monitoring report (モニタリング報告書) by the consultation specialist.
#[Object]
impl MonitoringReport {
    /// Opaque global id.
    async fn id(&self) -> ID {
        ids::encode("MonitoringReport", self.0.id)
    }
    /// Date of monitoring (実施日).
    async fn monitored_on(&self) -> Date {
        Date(self.0.monitored_on)
    }
    /// How it was done.
    async fn method(&self) -> MonitoringMethod {
        match self.0.method.as_str() {
            "VISIT" => MonitoringMethod::Visit,
            "PHONE" => MonitoringMethod::Phone,
            _ => MonitoringMethod::Office,
        }
    }
    /// What was decided.
    async fn outcome(&self) -> MonitoringOutcome {
        match self.0.outcome.as_str() {
            "CHANGE" => MonitoringOutcome::Change,
            "RENEW" => MonitoringOutcome::Renew,
            "END" => MonitoringOutcome::End,
            _ => MonitoringOutcome::Continue,
        }
    }
    /// Overall situation, goal rows and plan-change flags.
    async fn content(&self) -> async_graphql::Result<MonitoringContent> {
        Ok(crate::service::documents::stored(
            "monitoring report",
            &self.0.content,
        )?)
    }
    /// The service-use plan monitored (its `SupportPlan` global id); null when the client had
    /// no plan in force at the time of monitoring.
    async fn monitored_plan_id(&self) -> Option<ID> {
        self.0.plan_id.map(|p| ids::encode("SupportPlan", p))
    }
    /// The service-use plan monitored (its global id).
    #[graphql(
        deprecation = "Use `monitoredPlanId`: `planId` is non-null on SupportPlanVersion, so the two cannot be selected together in `HistoryItem`."
    )]
    async fn plan_id(&self) -> Option<ID> {
        self.0.plan_id.map(|p| ids::encode("SupportPlan", p))
    }
    /// The specialist who wrote it (作成者).
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<StaffMember> {
        let s = ctx
            .loaders()?
            .staff_members
            .load_one(self.0.author_staff_member_id)
            .await?
            .ok_or(ApiError::NotFound("Staff member"))?;
        Ok(StaffMember::new(s))
    }
}

/// Input of `recordMonitoringReport`.
#[derive(InputObject)]
pub(super) struct RecordMonitoringReportInput {
    /// The client's global id.
    pub client_id: ID,
    /// Date of monitoring.
    pub monitored_on: Date,
    /// How.
    pub method: MonitoringMethod,
    /// What was decided.
    pub outcome: MonitoringOutcome,
    /// The report's body.
    pub content: MonitoringContent,
}

/// Result of `recordMonitoringReport`.
#[derive(SimpleObject)]
pub(super) struct MonitoringReportPayload {
    /// The stored report.
    pub monitoring_report: MonitoringReport,
}
