//! The consultation office's monitoring calendar (モニタリング実施予定表): the monitoring months
//! of its caseload that are overdue, due this month or coming, from each client's certificate.

use async_graphql::{Context, Enum, Object};
use uuid::Uuid;

use super::{
    certificate::MonitoringScheduleBasis, client::Client, context::ContextExt, scalars::Date,
};
use crate::{
    error::ApiError,
    service::{
        access::today,
        monitoring::{
            calendar::{self, CalendarMonth},
            schedule::MonthStatus,
        },
    },
};

/// Where a monitoring month stands (実施状況).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "MonthStatus")]
pub enum MonitoringMonthStatus {
    /// A monitoring report was written in this month or later (実施済み).
    Done,
    /// The month passed without a monitoring report (未実施・期限超過).
    Overdue,
    /// This month, no report yet (今月実施).
    Due,
    /// A later month (実施予定).
    Upcoming,
}

/// One monitoring month of one client (モニタリング実施月).
pub(super) struct ScheduledMonitoring(pub CalendarMonth);

/// One monitoring month of one client of your caseload (モニタリング実施月).
#[Object]
impl ScheduledMonitoring {
    /// The month (first day) the monitoring is due in (実施月).
    async fn month(&self) -> Date {
        Date(self.0.month)
    }
    /// Overdue, due this month or upcoming (実施状況).
    async fn status(&self) -> MonitoringMonthStatus {
        self.0.status.into()
    }
    /// Where the month comes from: the printed decision, a count-from entry or the national
    /// standard (根拠).
    async fn basis(&self) -> MonitoringScheduleBasis {
        self.0.basis.into()
    }
    /// The client (本人).
    async fn client(&self, ctx: &Context<'_>) -> async_graphql::Result<Client> {
        Client::load(ctx, self.0.client_id).await
    }
}

/// The monitoring months of `clients` that are overdue, due or within `months_ahead` months,
/// oldest first, at most `first` (default and maximum 200). Clients whose profile (certificate)
/// the viewer may not see are left out.
pub(super) async fn monitoring_calendar(
    ctx: &Context<'_>,
    clients: &[Uuid],
    months_ahead: Option<i32>,
    first: Option<i32>,
) -> async_graphql::Result<Vec<ScheduledMonitoring>> {
    let ahead = match months_ahead {
        None => 3,
        Some(n) => u32::try_from(n).ok().filter(|n| *n <= 12).ok_or_else(|| {
            ApiError::bad_input("monthsAhead", "monthsAhead must be between 0 and 12.")
        })?,
    };
    let limit = match first {
        None => 200,
        Some(n) => usize::try_from(n)
            .ok()
            .filter(|n| *n <= 200)
            .ok_or_else(|| ApiError::bad_input("first", "first must be between 0 and 200."))?,
    };
    let scope = ctx.loaders()?.ctx.scope().await?;
    let months =
        calendar::monitoring_calendar(&ctx.state()?.db, &scope, clients, today(), ahead).await?;
    Ok(months
        .into_iter()
        .take(limit)
        .map(ScheduledMonitoring)
        .collect())
}
