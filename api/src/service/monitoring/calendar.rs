//! A caseload's monitoring calendar and grant reminders, read from the certificates: which
//! certificate is in force, which monitoring months are overdue, due or coming, and when a grant
//! period (支給決定期間) enters its renewal-preparation window.
//!
//! Renewal preparation starts 2–3 months before a grant ends (DOMAIN.md §4): the reminder is due
//! [`PREPARATION_MONTHS`] months before the last day of the grant, and is overdue once fewer than
//! [`LATE_MONTHS`] months remain without a renewal recorded. A grant counts as renewed when a
//! later certificate of the client grants the same service beyond it. The background sweep
//! ([`raise_grant_reminders`]) emits `GRANT_RENEWAL_DUE` once per grant when its window opens,
//! and `GRANT_EXPIRED` once when a grant ends with no renewal recorded; the `grant_reminders` row's primary key (client, service, last day, window) makes it once
//! however many instances sweep and however often the certificate is re-issued.
//!
//! Everything here is profile data (the certificate): callers pass a scope, and only clients
//! whose profile the viewer may see are read.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::{
    care_team_membership, monitoring_report,
    recipient_certificate::{self, GrantedService},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::schedule::{self, MonthStatus, Schedule, add_months, first_of_month};
use crate::{
    auth::policy,
    error::ApiResult,
    service::{access::Scope, outbox},
};

/// Renewal preparation is due this many months before a grant ends.
pub const PREPARATION_MONTHS: u32 = 3;
/// With fewer months than this left and no renewal recorded, preparation is late.
pub const LATE_MONTHS: u32 = 2;

/// The certificates, latest reports and care-team starts of some clients (three queries).
pub struct Caseload {
    certificates: HashMap<Uuid, Vec<recipient_certificate::Model>>,
    last_reports: HashMap<Uuid, NaiveDate>,
    starts: HashMap<Uuid, schedule::ServiceStarts>,
}

impl Caseload {
    pub async fn load(db: &impl ConnectionTrait, clients: &[Uuid]) -> ApiResult<Self> {
        let mut certificates: HashMap<Uuid, Vec<recipient_certificate::Model>> = HashMap::new();
        for c in recipient_certificate::Entity::find()
            .filter(recipient_certificate::Column::ClientId.is_in(clients.iter().copied()))
            .order_by_asc(recipient_certificate::Column::ValidFrom)
            .order_by_asc(recipient_certificate::Column::CreatedAt)
            .all(db)
            .await?
        {
            certificates.entry(c.client_id).or_default().push(c);
        }
        let last_reports: Vec<(Uuid, Option<NaiveDate>)> = monitoring_report::Entity::find()
            .select_only()
            .column(monitoring_report::Column::ClientId)
            .column_as(monitoring_report::Column::MonitoredOn.max(), "last")
            .filter(monitoring_report::Column::ClientId.is_in(clients.iter().copied()))
            .group_by(monitoring_report::Column::ClientId)
            .into_tuple()
            .all(db)
            .await?;
        let mut teams: HashMap<Uuid, Vec<care_team_membership::Model>> = HashMap::new();
        for m in care_team_membership::Entity::find()
            .filter(care_team_membership::Column::ClientId.is_in(clients.iter().copied()))
            .all(db)
            .await?
        {
            teams.entry(m.client_id).or_default().push(m);
        }
        let last_reports = last_reports
            .into_iter()
            .filter_map(|(c, d)| d.map(|d| (c, d)))
            .collect();
        Ok(Self {
            certificates,
            last_reports,
            starts: teams
                .into_iter()
                .map(|(c, team)| (c, schedule::ServiceStarts::of(team.iter())))
                .collect(),
        })
    }

    /// The certificate in force on `today` (the latest that has started; a replacement recorded
    /// later wins a tie), else the latest that has started, else the first.
    pub fn in_force(
        &self,
        client: Uuid,
        today: NaiveDate,
    ) -> Option<&recipient_certificate::Model> {
        let list = self.certificates.get(&client)?;
        list.iter()
            .rev()
            .find(|c| c.valid_from <= today && c.valid_until >= today)
            .or_else(|| list.iter().rev().find(|c| c.valid_from <= today))
            .or_else(|| list.first())
    }

    /// The monitoring schedule in force for a client.
    pub fn schedule(&self, client: Uuid, today: NaiveDate) -> Option<Schedule> {
        let cert = self.in_force(client, today)?;
        Some(schedule::of_certificate(
            cert,
            self.starts
                .get(&client)
                .unwrap_or(&schedule::ServiceStarts::default()),
        ))
    }

    /// The month of the client's latest monitoring report.
    pub fn last_report(&self, client: Uuid) -> Option<NaiveDate> {
        self.last_reports.get(&client).copied()
    }

    /// The grants of the certificate in force that end on or after `since` and are not renewed
    /// by a later certificate, soonest ending first.
    pub fn open_grants(
        &self,
        client: Uuid,
        today: NaiveDate,
        since: NaiveDate,
    ) -> Vec<(&recipient_certificate::Model, GrantedService)> {
        let Some(cert) = self.in_force(client, today) else {
            return Vec::new();
        };
        let all = self
            .certificates
            .get(&client)
            .map_or(&[][..], Vec::as_slice);
        let mut grants: Vec<_> = granted(cert)
            .into_iter()
            .filter(|g| g.grant_until >= since)
            .filter(|g| !renewed(all, cert.id, g))
            .map(|g| (cert, g))
            .collect();
        grants.sort_by_key(|(_, g)| g.grant_until);
        grants
    }
}

fn granted(cert: &recipient_certificate::Model) -> Vec<GrantedService> {
    cert.granted_services.0.clone()
}

/// Whether another certificate grants the same service beyond this grant's end.
fn renewed(all: &[recipient_certificate::Model], this: Uuid, g: &GrantedService) -> bool {
    all.iter().filter(|c| c.id != this).any(|c| {
        granted(c)
            .iter()
            .any(|o| o.service_type == g.service_type && o.grant_until > g.grant_until)
    })
}

/// When renewal preparation of a grant ending on `until` is due, and when it is late.
pub fn preparation_window(until: NaiveDate) -> (NaiveDate, NaiveDate) {
    let back = |n: u32| {
        until
            .checked_sub_months(chrono::Months::new(n))
            .unwrap_or(until)
    };
    (back(PREPARATION_MONTHS), back(LATE_MONTHS))
}

/// One month of a caseload's monitoring calendar.
#[derive(Debug, Clone)]
pub struct CalendarMonth {
    pub client_id: Uuid,
    pub month: NaiveDate,
    pub status: MonthStatus,
    pub basis: schedule::MonitoringBasis,
}

/// The monitoring months of the clients whose profile the scope may see that are overdue, due
/// this month or due within `months_ahead` months, oldest first (three queries).
pub async fn monitoring_calendar(
    db: &impl ConnectionTrait,
    scope: &Scope,
    clients: &[Uuid],
    today: NaiveDate,
    months_ahead: u32,
) -> ApiResult<Vec<CalendarMonth>> {
    let visible: Vec<Uuid> = clients
        .iter()
        .copied()
        .filter(|c| {
            scope
                .relation(*c)
                .is_some_and(|rel| policy::can_see_profile(scope.viewer_org, rel))
        })
        .collect();
    let caseload = Caseload::load(db, &visible).await?;
    let horizon = add_months(first_of_month(today), months_ahead);
    let mut out = Vec::new();
    for client in visible {
        let Some(s) = caseload.schedule(client, today) else {
            continue;
        };
        for (month, status) in schedule::statuses(&s.months, caseload.last_report(client), today) {
            if status != MonthStatus::Done && month <= horizon {
                out.push(CalendarMonth {
                    client_id: client,
                    month,
                    status,
                    basis: s.basis,
                });
            }
        }
    }
    out.sort_by_key(|m| (m.month, m.client_id));
    Ok(out)
}

/// What a grant reminder says: its window (the `grant_reminders.window` key) and its event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reminder {
    /// Renewal preparation opened, 3 months before the grant ends (更新準備の開始).
    RenewalPreparation,
    /// The grant ended with no renewal recorded (支給決定期間の終了・更新未登録).
    Expired,
}

impl Reminder {
    const fn window(self) -> &'static str {
        match self {
            Self::RenewalPreparation => "RENEWAL_PREPARATION",
            Self::Expired => "EXPIRED",
        }
    }

    const fn event(self) -> crate::service::events::EventKind {
        match self {
            Self::RenewalPreparation => crate::service::events::EventKind::GrantRenewalDue,
            Self::Expired => crate::service::events::EventKind::GrantExpired,
        }
    }

    /// The reminder a grant ending on `until` calls for on `today`, if any. A grant that ended
    /// gets only `Expired`, even if its preparation reminder was never raised (a certificate
    /// recorded late).
    fn on(until: NaiveDate, today: NaiveDate) -> Option<Self> {
        if until < today {
            Some(Self::Expired)
        } else if preparation_window(until).0 <= today {
            Some(Self::RenewalPreparation)
        } else {
            None
        }
    }
}

/// Raises `GRANT_RENEWAL_DUE` once per grant whose renewal-preparation window has opened and
/// `GRANT_EXPIRED` once per grant that ended, for grants that ended at most a month ago and were
/// not renewed by a later certificate. Run by every instance's hub; the reminder row's key makes
/// each event happen once whatever the number of instances.
pub async fn raise_grant_reminders(db: &DatabaseConnection) -> ApiResult<usize> {
    let today = crate::service::access::today();
    let since = today - chrono::Duration::days(31);
    let clients: Vec<Uuid> = recipient_certificate::Entity::find()
        .select_only()
        .column(recipient_certificate::Column::ClientId)
        .filter(recipient_certificate::Column::ValidUntil.gte(since))
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    let raised_already: std::collections::HashSet<(Uuid, String, NaiveDate, String)> =
        entity::grant_reminder::Entity::find()
            .filter(entity::grant_reminder::Column::GrantUntil.gte(since))
            .all(db)
            .await?
            .into_iter()
            .map(|r| (r.client_id, r.service_type, r.grant_until, r.window))
            .collect();
    let mut raised = 0;
    for chunk in clients.chunks(200) {
        let caseload = Caseload::load(db, chunk).await?;
        for client in chunk {
            for (cert, g) in caseload.open_grants(*client, today, since) {
                let Some(reminder) = Reminder::on(g.grant_until, today) else {
                    continue;
                };
                let key = (
                    cert.client_id,
                    g.service_type.clone(),
                    g.grant_until,
                    reminder.window().to_owned(),
                );
                if !raised_already.contains(&key) && raise(db, cert, &g, reminder).await? {
                    raised += 1;
                }
            }
        }
    }
    Ok(raised)
}

/// Writes one reminder row and its event in one transaction; `false` when another instance won.
async fn raise(
    db: &DatabaseConnection,
    cert: &recipient_certificate::Model,
    g: &GrantedService,
    reminder: Reminder,
) -> ApiResult<bool> {
    let txn = crate::db::begin_write(db).await?;
    let inserted = entity::grant_reminder::ActiveModel {
        certificate_id: Set(cert.id),
        service_type: Set(g.service_type.clone()),
        grant_until: Set(g.grant_until),
        window: Set(reminder.window().to_owned()),
        client_id: Set(cert.client_id),
        raised_at: Set(crate::service::now()),
    }
    .insert(&txn)
    .await;
    match inserted {
        Ok(_) => {
            // A reminder has no actor: the nil staff member reads as `actor: null`.
            outbox::append(
                &txn,
                outbox::NewEvent {
                    actor: outbox::Actor {
                        staff_member_id: Uuid::nil(),
                        organization_id: cert.recorded_by_organization_id,
                    },
                    kind: reminder.event(),
                    client_id: cert.client_id,
                    record_type: outbox::RecordType::RecipientCertificate,
                    record_id: cert.id,
                },
            )
            .await?;
            txn.commit().await?;
            Ok(true)
        }
        Err(e) if crate::service::is_unique_violation(&e) => {
            txn.rollback().await?;
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_preparation_opens_three_months_before_and_is_late_at_two() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            preparation_window(d("2027-03-31")),
            (d("2026-12-31"), d("2027-01-31"))
        );
    }
}
