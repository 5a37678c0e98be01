//! The audit summary (実地指導用の集計) of an organization's own statutory records over a
//! period: counts by kind and per client, the restraint minutes and whether every restraint
//! record states the three requirements and the explanation to the family, accidents with and
//! without a municipal report, complaints open and resolved.
//!
//! Bounded: a period of at most 366 days, aggregated in SQL (one grouped statement per table,
//! each answered from its `(organization_id, time)` index), so the cost follows the number of
//! clients, not of records.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use entity::{
    accident_report::{self, AccidentKind},
    complaint_record,
    observation::RecordStatus,
    restraint_record,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    auth::{Viewer, statutory},
    error::{ApiError, ApiResult},
    service::access::jst_day_start,
};

/// The longest period one summary covers, in days.
pub const MAX_DAYS: i64 = 366;

/// One client's statutory records in the period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientCounts {
    pub restraints: i64,
    pub restraint_minutes: i64,
    pub accidents: i64,
    pub near_misses: i64,
    pub complaints: i64,
    pub open_complaints: i64,
}

/// The organization's statutory records in the period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub organization_id: Uuid,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub restraints: i64,
    pub restraint_minutes: i64,
    /// Restraint records stating all three requirements (切迫性・非代替性・一時性).
    pub restraints_with_all_requirements: i64,
    /// Restraint records with no explanation to the family yet.
    pub restraints_without_family_explanation: i64,
    pub accidents: i64,
    pub near_misses: i64,
    pub accidents_reported_to_municipality: i64,
    pub accidents_without_municipal_report: i64,
    pub accidents_without_family_report: i64,
    pub complaints: i64,
    pub open_complaints: i64,
    /// Per client, in client id order.
    pub clients: BTreeMap<Uuid, ClientCounts>,
}

/// The summary of the viewer's own organization's records from `from` to `to` (JST days,
/// inclusive).
pub async fn of_period(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<Summary> {
    if !statutory::can_read_statutory_summary(viewer) {
        return Err(ApiError::forbidden(
            "The audit summary is for service managers, consultation specialists and admins.",
        ));
    }
    if to < from {
        return Err(ApiError::bad_input("to", "to must not come before from."));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(ApiError::bad_input(
            "to",
            format!("A summary covers at most {MAX_DAYS} days."),
        ));
    }
    let start = jst_day_start(from);
    let end = jst_day_start(to + chrono::Duration::days(1));
    let org = viewer.organization_id;
    let mut s = Summary {
        organization_id: org,
        from,
        to,
        ..Summary::default()
    };

    use restraint_record::Column as R;
    let restraints: Vec<(Uuid, i64, i64, i64, i64)> = restraint_record::Entity::find()
        .select_only()
        .column(R::ClientId)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .column_as(Expr::cust("SUM(duration_minutes)"), "minutes")
        .column_as(
            Expr::cust(
                "SUM(CASE WHEN urgency <> '' AND non_substitutability <> '' AND temporariness <> '' THEN 1 ELSE 0 END)",
            ),
            "complete",
        )
        .column_as(
            Expr::cust("SUM(CASE WHEN family_explained_at IS NULL THEN 1 ELSE 0 END)"),
            "unexplained",
        )
        .filter(R::OrganizationId.eq(org))
        .filter(R::StartedAt.gte(start))
        .filter(R::StartedAt.lt(end))
        .filter(R::Status.eq(RecordStatus::Current))
        .group_by(R::ClientId)
        .into_tuple()
        .all(db)
        .await?;
    for (client, n, minutes, complete, unexplained) in restraints {
        s.restraints += n;
        s.restraint_minutes += minutes;
        s.restraints_with_all_requirements += complete;
        s.restraints_without_family_explanation += unexplained;
        let c = s.clients.entry(client).or_default();
        c.restraints += n;
        c.restraint_minutes += minutes;
    }

    use accident_report::Column as A;
    let accidents: Vec<(Uuid, AccidentKind, i64, i64, i64)> = accident_report::Entity::find()
        .select_only()
        .column(A::ClientId)
        .column(A::Kind)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .column_as(
            Expr::cust("SUM(CASE WHEN municipality_reported_at IS NULL THEN 0 ELSE 1 END)"),
            "reported",
        )
        .column_as(
            Expr::cust("SUM(CASE WHEN family_reported_at IS NULL THEN 1 ELSE 0 END)"),
            "unreported_family",
        )
        .filter(A::OrganizationId.eq(org))
        .filter(A::OccurredAt.gte(start))
        .filter(A::OccurredAt.lt(end))
        .filter(A::Status.eq(RecordStatus::Current))
        .group_by(A::ClientId)
        .group_by(A::Kind)
        .into_tuple()
        .all(db)
        .await?;
    for (client, kind, n, reported, unreported_family) in accidents {
        let c = s.clients.entry(client).or_default();
        match kind {
            AccidentKind::Accident => {
                s.accidents += n;
                s.accidents_reported_to_municipality += reported;
                s.accidents_without_municipal_report += n - reported;
                s.accidents_without_family_report += unreported_family;
                c.accidents += n;
            }
            AccidentKind::NearMiss => {
                s.near_misses += n;
                c.near_misses += n;
            }
        }
    }

    use complaint_record::Column as C;
    let complaints: Vec<(Uuid, i64, i64)> = complaint_record::Entity::find()
        .select_only()
        .column(C::ClientId)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .column_as(
            Expr::cust("SUM(CASE WHEN resolved_on IS NULL THEN 1 ELSE 0 END)"),
            "open",
        )
        .filter(C::OrganizationId.eq(org))
        .filter(C::ReceivedOn.gte(from))
        .filter(C::ReceivedOn.lte(to))
        .filter(C::Status.eq(RecordStatus::Current))
        .group_by(C::ClientId)
        .into_tuple()
        .all(db)
        .await?;
    for (client, n, open) in complaints {
        s.complaints += n;
        s.open_complaints += open;
        let c = s.clients.entry(client).or_default();
        c.complaints += n;
        c.open_complaints += open;
    }
    Ok(s)
}
