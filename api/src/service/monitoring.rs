//! Monitoring reports (モニタリング報告書) and the schedules computed from recipient
//! certificates and plans: the next monitoring month, individual-plan reviews, grant expiries.
//!
//! Monitoring months follow the municipality's period counted from the certificate's start
//! month, the start month being the first month of the cycle: from May every 3 months gives
//! July, October, January, April. A new client is monitored monthly for the three months after
//! the start month.

use chrono::{Datelike, Months, NaiveDate};
use entity::{
    monitoring_report,
    observation::{RecordStatus, Visibility},
    recipient_certificate,
    support_plan::{self, PlanKind, PlanStatus},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::{
    access::{Scope, today},
    documents::MonitoringContent,
    events::{self, EventKind},
    timeline::{self, EntryKind},
};
use crate::{
    auth::{
        Viewer,
        policy::{self, AnyRecordFacts, DataCategory},
    },
    db,
    error::{ApiError, ApiResult},
    state::AppState,
};

pub const METHODS: [&str; 3] = ["VISIT", "OFFICE", "PHONE"];
pub const OUTCOMES: [&str; 4] = ["CONTINUE", "CHANGE", "RENEW", "END"];

/// Reports are shared with the care team under the `PLANS` category: a monitoring report
/// evaluates the service-use plan goal by goal and decides whether it must change (see
/// [`DataCategory`]).
pub fn facts(r: &monitoring_report::Model) -> AnyRecordFacts {
    AnyRecordFacts {
        organization_id: r.organization_id,
        visibility: Visibility::CareTeam,
        data: Some(DataCategory::Plans),
        safeguarding: false,
        on: r.monitored_on,
    }
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn add_months(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_add_months(Months::new(n)).unwrap_or(d)
}

/// The monitoring months (first days) from `start` over `horizon` months.
pub fn monitoring_months(
    start: NaiveDate,
    period_months: u32,
    new_client: bool,
    horizon: u32,
) -> Vec<NaiveDate> {
    let start = first_of_month(start);
    let period = period_months.max(1);
    let mut months: Vec<NaiveDate> = (1..=horizon / period + 1)
        .map(|k| add_months(start, k * period - 1))
        .filter(|m| *m != start)
        .collect();
    if new_client {
        months.extend((1..=3).map(|k| add_months(start, k)));
    }
    months.sort();
    months.dedup();
    months.retain(|m| *m <= add_months(start, horizon));
    months
}

/// The next monitoring month due after the last report (or from the start), and whether it has
/// passed without a report.
pub fn next_monitoring(
    start: NaiveDate,
    period_months: u32,
    new_client: bool,
    last_report: Option<NaiveDate>,
    today: NaiveDate,
) -> Option<(NaiveDate, bool)> {
    let after = last_report.map(first_of_month);
    let horizon = 12 * 20;
    monitoring_months(start, period_months, new_client, horizon)
        .into_iter()
        .find(|m| after.is_none_or(|a| *m > a))
        .map(|m| (m, m < first_of_month(today)))
}

/// What falls due for a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DueKind {
    /// Monitoring (モニタリング) in this month.
    Monitoring,
    /// An individual support plan review (個別支援計画の見直し) of this facility.
    PlanReview { organization_id: Uuid },
    /// The end of a grant period (支給決定期間の終了): renewal work starts 3 months before.
    GrantExpiry { service_type: String },
}

/// One due item.
#[derive(Debug, Clone)]
pub struct DueItem {
    pub client_id: Uuid,
    pub kind: DueKind,
    pub due_on: NaiveDate,
    pub overdue: bool,
}

/// Everything due for the given clients, soonest first (four queries for any number of clients).
pub async fn due_items(
    db: &impl ConnectionTrait,
    scope: &Scope,
    clients: &[Uuid],
) -> ApiResult<Vec<DueItem>> {
    let today = today();
    let certificates = recipient_certificate::Entity::find()
        .filter(recipient_certificate::Column::ClientId.is_in(clients.iter().copied()))
        .order_by_asc(recipient_certificate::Column::ValidFrom)
        .all(db)
        .await?;
    let last_reports: Vec<(Uuid, Option<NaiveDate>)> = monitoring_report::Entity::find()
        .select_only()
        .column(monitoring_report::Column::ClientId)
        .column_as(monitoring_report::Column::MonitoredOn.max(), "last")
        .filter(monitoring_report::Column::ClientId.is_in(clients.iter().copied()))
        .group_by(monitoring_report::Column::ClientId)
        .into_tuple()
        .all(db)
        .await?;
    let first_starts: Vec<(Uuid, Option<NaiveDate>)> = entity::care_team_membership::Entity::find()
        .select_only()
        .column(entity::care_team_membership::Column::ClientId)
        .column_as(
            entity::care_team_membership::Column::StartDate.min(),
            "first",
        )
        .filter(entity::care_team_membership::Column::ClientId.is_in(clients.iter().copied()))
        .group_by(entity::care_team_membership::Column::ClientId)
        .into_tuple()
        .all(db)
        .await?;
    let plans = support_plan::Entity::find()
        .filter(support_plan::Column::ClientId.is_in(clients.iter().copied()))
        .filter(support_plan::Column::Kind.eq(PlanKind::IndividualSupportPlan))
        .filter(support_plan::Column::Status.eq(PlanStatus::Active))
        .all(db)
        .await?;
    let mut items = Vec::new();
    for client in clients {
        // Monitoring months and grant periods come from the recipient certificate, a profile
        // record: only for viewers who may see the client's profile.
        let profile = scope
            .relation(*client)
            .is_some_and(|rel| policy::can_see_profile(scope.viewer_org, rel));
        if !profile {
            continue;
        }
        // The certificate in force (the latest that has started).
        let Some(cert) = certificates
            .iter()
            .rev()
            .find(|c| c.client_id == *client && c.valid_from <= today && c.valid_until >= today)
            .or_else(|| certificates.iter().find(|c| c.client_id == *client))
        else {
            continue;
        };
        let start = cert.monitoring_start_month;
        let first_service = first_starts
            .iter()
            .find(|(c, _)| c == client)
            .and_then(|(_, d)| *d);
        let new_client = first_service.is_some_and(|d| first_of_month(d) >= first_of_month(start));
        let last = last_reports
            .iter()
            .find(|(c, _)| c == client)
            .and_then(|(_, d)| *d);
        let period = u32::try_from(cert.monitoring_period_months).unwrap_or(1);
        if let Some((month, overdue)) = next_monitoring(start, period, new_client, last, today) {
            items.push(DueItem {
                client_id: *client,
                kind: DueKind::Monitoring,
                due_on: month,
                overdue,
            });
        }
        let services: Vec<super::clients::GrantedService> =
            serde_json::from_value(cert.granted_services.clone()).unwrap_or_default();
        if let Some(g) = services
            .iter()
            .filter(|g| g.grant_until >= today - chrono::Duration::days(31))
            .min_by_key(|g| g.grant_until)
        {
            items.push(DueItem {
                client_id: *client,
                kind: DueKind::GrantExpiry {
                    service_type: g.service_type.clone(),
                },
                due_on: g.grant_until,
                overdue: g.grant_until < today,
            });
        }
    }
    for p in plans
        .iter()
        .filter(|p| scope.can_see_record(p.client_id, super::plans::facts(p)))
    {
        if let Some(due) = super::plans::review_due(p) {
            items.push(DueItem {
                client_id: p.client_id,
                kind: DueKind::PlanReview {
                    organization_id: p.organization_id,
                },
                due_on: due,
                overdue: due < today,
            });
        }
    }
    items.sort_by_key(|i| (i.due_on, i.client_id));
    Ok(items)
}

/// A monitoring report as written.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub client_id: Uuid,
    pub monitored_on: NaiveDate,
    pub method: String,
    pub outcome: String,
    pub content: MonitoringContent,
}

/// Records a monitoring report against the client's active service-use plan.
pub async fn record(
    state: &AppState,
    viewer: &Viewer,
    new: NewReport,
) -> ApiResult<monitoring_report::Model> {
    db::retrying(|| record_once(state, viewer, new.clone())).await
}

/// One attempt of [`record`].
async fn record_once(
    state: &AppState,
    viewer: &Viewer,
    new: NewReport,
) -> ApiResult<monitoring_report::Model> {
    let scope = Scope::for_client(&state.db, viewer, new.client_id).await?;
    let rel = scope.require(new.client_id)?;
    if !policy::can_write_service_use_plan(viewer, rel) {
        return Err(ApiError::forbidden(
            "Monitoring reports are written by the client's consultation specialist.",
        ));
    }
    if !METHODS.contains(&new.method.as_str()) {
        return Err(ApiError::bad_input(
            "method",
            "The method is VISIT, OFFICE or PHONE.",
        ));
    }
    if !OUTCOMES.contains(&new.outcome.as_str()) {
        return Err(ApiError::bad_input(
            "outcome",
            "The outcome is CONTINUE, CHANGE, RENEW or END.",
        ));
    }
    if new.monitored_on > today() {
        return Err(ApiError::bad_input(
            "monitoredOn",
            "A monitoring cannot be dated in the future.",
        ));
    }
    new.content.validate()?;
    let plan = support_plan::Entity::find()
        .filter(support_plan::Column::ClientId.eq(new.client_id))
        .filter(support_plan::Column::Kind.eq(PlanKind::ServiceUsePlan))
        .filter(support_plan::Column::Status.eq(PlanStatus::Active))
        .one(&state.db)
        .await?;
    let txn = db::begin_write(&state.db).await?;
    let model = monitoring_report::ActiveModel {
        id: Set(Uuid::now_v7()),
        client_id: Set(new.client_id),
        organization_id: Set(viewer.organization_id),
        plan_id: Set(plan.map(|p| p.id)),
        monitored_on: Set(new.monitored_on),
        method: Set(new.method),
        outcome: Set(new.outcome),
        content: Set(serde_json::to_value(&new.content).map_err(ApiError::internal)?),
        author_staff_member_id: Set(viewer.staff_member_id),
        created_at: Set(super::now()),
    }
    .insert(&txn)
    .await?;
    let noon_jst = new
        .monitored_on
        .and_hms_opt(3, 0, 0)
        .unwrap_or_default()
        .and_utc();
    timeline::put(
        &txn,
        timeline::Entry {
            kind: EntryKind::MonitoringReport,
            record_id: model.id,
            client_id: model.client_id,
            occurred_at: noon_jst,
            organization_id: model.organization_id,
            visibility: Visibility::CareTeam,
            data: Some(DataCategory::Plans),
            category: None,
            status: RecordStatus::Current,
        },
    )
    .await?;
    events::record_change(
        &txn,
        viewer,
        EventKind::MonitoringRecorded,
        model.client_id,
        "MonitoringReport",
        model.id,
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// Reports of clients the scope may see, newest first, at most 100 each (one query).
pub async fn of_clients(
    db: &impl ConnectionTrait,
    scope: &Scope,
    clients: &[Uuid],
) -> ApiResult<std::collections::HashMap<Uuid, Vec<monitoring_report::Model>>> {
    let reports = monitoring_report::Entity::find()
        .filter(monitoring_report::Column::ClientId.is_in(clients.iter().copied()))
        .order_by_desc(monitoring_report::Column::MonitoredOn)
        .all(db)
        .await?
        .into_iter()
        .filter(|r| scope.can_see_record(r.client_id, facts(r)))
        .collect();
    Ok(super::capped(super::group_by(reports, |r| r.client_id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn every_three_months_from_may_is_july_october_january_april() {
        let months = monitoring_months(d("2025-05-10"), 3, false, 12);
        assert_eq!(
            months[..4],
            [
                d("2025-07-01"),
                d("2025-10-01"),
                d("2026-01-01"),
                d("2026-04-01")
            ]
        );
    }

    #[test]
    fn every_six_months_from_may_is_october_and_april() {
        let months = monitoring_months(d("2025-05-01"), 6, false, 12);
        assert_eq!(months[..2], [d("2025-10-01"), d("2026-04-01")]);
    }

    #[test]
    fn a_new_client_is_monitored_monthly_for_three_months_first() {
        let months = monitoring_months(d("2025-05-01"), 6, true, 12);
        assert_eq!(
            months[..4],
            [
                d("2025-06-01"),
                d("2025-07-01"),
                d("2025-08-01"),
                d("2025-10-01")
            ]
        );
        let monthly = monitoring_months(d("2025-05-01"), 1, false, 3);
        assert_eq!(monthly, [d("2025-06-01"), d("2025-07-01"), d("2025-08-01")]);
    }

    #[test]
    fn the_next_month_follows_the_last_report_and_knows_when_it_is_overdue() {
        let start = d("2025-05-01");
        assert_eq!(
            next_monitoring(start, 3, false, None, d("2025-06-15")),
            Some((d("2025-07-01"), false))
        );
        assert_eq!(
            next_monitoring(start, 3, false, None, d("2025-08-02")),
            Some((d("2025-07-01"), true))
        );
        assert_eq!(
            next_monitoring(start, 3, false, Some(d("2025-07-20")), d("2025-08-02")),
            Some((d("2025-10-01"), false))
        );
    }
}
