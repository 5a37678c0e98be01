//! Monitoring reports (モニタリング報告書) and what falls due for a client: the next monitoring
//! month, individual-plan reviews, grant expiries and renewal preparation.
//!
//! The monitoring months themselves are computed in [`schedule`] from the decision recorded on
//! the certificate (or, with none, from the national standard periods); the monitoring calendar
//! of a caseload and the grant reminders live in [`calendar`].

pub mod calendar;
pub mod schedule;

use chrono::NaiveDate;
use entity::{
    monitoring_report,
    observation::{RecordStatus, Visibility},
    support_plan::{self, PlanKind, PlanStatus},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::{
    access::{Scope, today},
    documents::MonitoringContent,
    events::{self, EventKind, RecordType},
    timeline::{self, EntryKind},
};
use crate::service::ClientWrite;
use crate::{
    auth::{
        Viewer,
        policy::{self, AnyRecordFacts, DataCategory},
    },
    db,
    error::{ApiError, ApiResult},
    service::Ctx,
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

/// What falls due for a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DueKind {
    /// Monitoring (モニタリング) in this month.
    Monitoring,
    /// An individual support plan review (個別支援計画の見直し) of this facility.
    PlanReview { organization_id: Uuid },
    /// The end of a grant period (支給決定期間の終了).
    GrantExpiry { service_type: String },
    /// Renewal preparation (更新準備) of a grant: due 3 months before it ends, late at 2.
    GrantRenewal { service_type: String },
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
    // Monitoring months and grant periods come from the recipient certificate, a profile record:
    // only for viewers who may see the client's profile.
    let profile: Vec<Uuid> = clients
        .iter()
        .copied()
        .filter(|c| {
            scope
                .relation(*c)
                .is_some_and(|rel| policy::can_see_profile(scope.viewer_org, rel))
        })
        .collect();
    let caseload = calendar::Caseload::load(db, &profile).await?;
    let plans = support_plan::Entity::find()
        .filter(support_plan::Column::ClientId.is_in(clients.iter().copied()))
        .filter(support_plan::Column::Kind.eq(PlanKind::IndividualSupportPlan))
        .filter(support_plan::Column::Status.eq(PlanStatus::Active))
        .all(db)
        .await?;
    let mut items = Vec::new();
    for client in profile {
        if let Some(s) = caseload.schedule(client, today)
            && let Some((month, overdue)) =
                schedule::next_due(&s.months, caseload.last_report(client), today)
        {
            items.push(DueItem {
                client_id: client,
                kind: DueKind::Monitoring,
                due_on: month,
                overdue,
            });
        }
        let since = today - chrono::Duration::days(31);
        if let Some((_, g)) = caseload
            .open_grants(client, today, since)
            .into_iter()
            .next()
        {
            let (prepare_on, late_on) = calendar::preparation_window(g.grant_until);
            items.push(DueItem {
                client_id: client,
                kind: DueKind::GrantRenewal {
                    service_type: g.service_type.clone(),
                },
                due_on: prepare_on,
                overdue: late_on < today,
            });
            items.push(DueItem {
                client_id: client,
                kind: DueKind::GrantExpiry {
                    service_type: g.service_type,
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
    state: &Ctx,
    viewer: &Viewer,
    new: NewReport,
) -> ApiResult<monitoring_report::Model> {
    db::retrying(|| record_once(state, viewer, new.clone())).await
}

/// One attempt of [`record`].
async fn record_once(
    state: &Ctx,
    viewer: &Viewer,
    new: NewReport,
) -> ApiResult<monitoring_report::Model> {
    let txn = ClientWrite::for_client(viewer, new.client_id)
        .open(
            state,
            policy::can_write_service_use_plan,
            "Monitoring reports are written by the client's consultation specialist.",
        )
        .await?;
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
        .one(&txn)
        .await?;
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
        RecordType::MonitoringReport,
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
