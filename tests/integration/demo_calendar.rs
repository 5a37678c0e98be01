//! The demo world's calendar rules (issue 21, item 5), read from the seeded database: office
//! events on business days within office hours, 山田 太郎's plan drafted → proposed at a 担当者会議
//! → signed → activated → monitored, written times after the events they record, goal target
//! dates within their plan's period, every date a monitoring report cites backed by a record of
//! that day, the monitoring meeting in a 実施月 of the client's schedule three months after the
//! last one, and a few months of records for every client.

use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate, Utc};
use entity::{
    meeting::{self, MeetingKind},
    monitoring_report, observation, organization, recipient_certificate, sharing_consent,
    support_plan::{self, PlanKind},
};
use kakehashi::service::{
    access::jst_day,
    documents::{MonitoringContent, PlanContent, PlanRecord},
    monitoring::schedule,
};
use kakehashi_tools::seed::calendar::{is_business_day, is_office_time};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::helpers::TestApp;

/// Each client has at least this many records …
const MIN_RECORDS: usize = 20;
/// … spread over at least this many days.
const MIN_SPAN_DAYS: i64 = 60;

#[tokio::test]
async fn the_demo_world_keeps_a_consistent_calendar() {
    let app = TestApp::spawn().await;
    let db = &app.state.db;
    let orgs: HashMap<Uuid, organization::Model> = organization::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let group_home = |id: Uuid| {
        orgs[&id]
            .service_types
            .as_array()
            .is_some_and(|s| s.iter().any(|t| t == "共同生活援助"))
    };
    let clients: HashMap<Uuid, String> = entity::client::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.id, c.display_name))
        .collect();
    let now = Utc::now();

    // Records: written after what they record, with a lag of minutes to two days (not the
    // seeding moment); office records on business days within office hours.
    let observations = observation::Entity::find().all(db).await.unwrap();
    let mut lagged = 0;
    for o in &observations {
        let end = o.occurred_to.unwrap_or(o.occurred_from);
        assert!(o.recorded_at >= end, "written before it happened: {o:?}");
        assert!(o.recorded_at <= now, "{o:?}");
        assert!(
            o.recorded_at - end <= Duration::days(4),
            "written too late: {o:?}"
        );
        if o.recorded_at - end >= Duration::minutes(10) {
            lagged += 1;
        }
        if !group_home(o.organization_id) {
            assert!(
                is_office_time(o.occurred_from),
                "an office record outside office hours: {o:?}"
            );
        }
    }
    assert!(
        lagged * 10 >= observations.len() * 9,
        "most records are written some time after the event"
    );

    // A few months of records for each client.
    for (id, name) in &clients {
        let days: Vec<NaiveDate> = observations
            .iter()
            .filter(|o| o.client_id == *id)
            .map(|o| jst_day(o.occurred_from))
            .collect();
        assert!(days.len() >= MIN_RECORDS, "{name}: {} records", days.len());
        let (first, last) = (days.iter().min().unwrap(), days.iter().max().unwrap());
        assert!(
            (*last - *first).num_days() >= MIN_SPAN_DAYS,
            "{name}: records from {first} to {last}"
        );
    }

    // Meetings at office times; sharing consents signed on business days.
    let meetings = meeting::Entity::find().all(db).await.unwrap();
    for m in &meetings {
        assert!(is_office_time(m.scheduled_at), "{m:?}");
        assert!(m.created_at <= m.scheduled_at.max(now), "{m:?}");
    }
    for c in sharing_consent::Entity::find().all(db).await.unwrap() {
        assert!(is_business_day(c.granted_on), "{c:?}");
    }

    // Plans: drafted → 担当者会議 → consent → activation, goals within the period.
    let plans = support_plan::Entity::find().all(db).await.unwrap();
    assert!(!plans.is_empty());
    let reports = monitoring_report::Entity::find().all(db).await.unwrap();
    for p in &plans {
        let record: PlanRecord = serde_json::from_value(p.record.clone()).unwrap();
        let content: PlanContent = serde_json::from_value(p.content.clone()).unwrap();
        let explained = record.explained_on.unwrap().0;
        let signed = record.consent_signed_on.unwrap().0;
        let active = p.activated_on.unwrap();
        assert!(is_business_day(signed) && is_business_day(active), "{p:?}");
        assert!(jst_day(p.created_at) <= explained, "{p:?}");
        assert!(explained <= signed && signed <= active, "{p:?}");
        assert!(p.period_from <= active, "{p:?}");
        let within = |d: NaiveDate| d >= p.period_from && p.period_to.is_none_or(|to| d <= to);
        for g in &content.goals {
            assert!(g.target_date.as_ref().is_none_or(|d| within(d.0)), "{g:?}");
        }
        for n in &content.needs {
            assert!(n.target_date.as_ref().is_none_or(|d| within(d.0)), "{n:?}");
            assert!(
                n.evaluation_date.as_ref().is_none_or(|d| within(d.0)),
                "{n:?}"
            );
        }
        if p.kind == PlanKind::ServiceUsePlan {
            let proposal = meetings
                .iter()
                .filter(|m| {
                    m.client_id == p.client_id && m.kind == MeetingKind::ServiceCoordination
                })
                .map(|m| jst_day(m.scheduled_at))
                .find(|d| *d >= jst_day(p.created_at) && *d <= signed);
            assert!(
                proposal.is_some(),
                "no 担当者会議 between draft and consent: {p:?}"
            );
            for r in reports.iter().filter(|r| r.client_id == p.client_id) {
                assert!(
                    r.monitored_on > active,
                    "monitored before activation: {r:?}"
                );
            }
        }
    }

    // Monitoring reports: on business days, written after, every cited date backed by a record.
    for r in &reports {
        assert!(is_business_day(r.monitored_on), "{r:?}");
        assert!(jst_day(r.created_at) >= r.monitored_on, "{r:?}");
        let content: MonitoringContent = serde_json::from_value(r.content.clone()).unwrap();
        let mut cited = 0;
        for row in &content.goal_rows {
            let text = row.service_status_from_facility.clone().unwrap_or_default();
            for day in cited_dates(&text, r.monitored_on) {
                cited += 1;
                assert!(
                    observations
                        .iter()
                        .any(|o| o.client_id == r.client_id && jst_day(o.occurred_from) == day),
                    "{text}: no record on {day}"
                );
            }
        }
        assert!(cited > 0, "the demo report cites a day: {r:?}");
    }

    // The monitoring meeting is in a 実施月 of the client's schedule, three months after the
    // month of the last monitoring, as its label 「3か月モニタリング」 says.
    for m in meetings
        .iter()
        .filter(|m| m.kind == MeetingKind::Monitoring)
    {
        let certificate = recipient_certificate::Entity::find()
            .filter(recipient_certificate::Column::ClientId.eq(m.client_id))
            .one(db)
            .await
            .unwrap()
            .unwrap();
        let months =
            schedule::of_certificate(&certificate, &schedule::ServiceStarts::default()).months;
        let month = schedule::first_of_month(jst_day(m.scheduled_at));
        assert!(months.contains(&month), "{m:?} not in {months:?}");
        let last = reports
            .iter()
            .filter(|r| r.client_id == m.client_id)
            .map(|r| schedule::first_of_month(r.monitored_on))
            .max()
            .unwrap();
        assert!(months.contains(&last), "{last} not in {months:?}");
        if m.agenda.as_deref().is_some_and(|a| a.contains("3か月")) {
            assert_eq!(schedule::add_months(last, 3), month, "{m:?}");
        }
    }
}

/// The dates written as `M/D` in a text, in the year that puts them on or before `on`.
fn cited_dates(text: &str, on: NaiveDate) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if *c != '/' {
            continue;
        }
        let before: String = chars[..i]
            .iter()
            .rev()
            .take_while(|c| c.is_ascii_digit())
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let after: String = chars[i + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        let (Ok(m), Ok(d)) = (before.parse::<u32>(), after.parse::<u32>()) else {
            continue;
        };
        let date = NaiveDate::from_ymd_opt(on.year(), m, d)
            .filter(|x| *x <= on)
            .or_else(|| NaiveDate::from_ymd_opt(on.year() - 1, m, d));
        out.extend(date);
    }
    out
}
