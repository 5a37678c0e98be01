//! The demo world's calendar: business days (Monday–Friday, not a Japanese national holiday and
//! not the 年末年始 closure of 12/29–1/3 most welfare offices keep), office hours (9:00–18:00
//! JST) and the fixed dates of the demo's story, all computed from "today" so that the world
//! neither drifts onto a Sunday night nor ages out of the features that read recent records.
//!
//! Office events (a 担当者会議, a signature, a monitoring visit, a day-service record) fall on a
//! business day within office hours; group-home records (夜間・早朝の記録) may fall on any day
//! and hour. The holidays are listed for 2025–2027 (内閣府「国民の祝日」, with 振替休日 and
//! 国民の休日); outside those years only weekends and the closure count.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc, Weekday};

use kakehashi::service::{
    access::{jst_day, jst_day_start},
    monitoring::schedule::first_of_month,
};

/// Japanese national holidays (国民の祝日・振替休日・国民の休日), 2025–2027.
const HOLIDAYS: &[(i32, u32, u32)] = &[
    (2025, 1, 1),
    (2025, 1, 13),
    (2025, 2, 11),
    (2025, 2, 23),
    (2025, 2, 24),
    (2025, 3, 20),
    (2025, 4, 29),
    (2025, 5, 3),
    (2025, 5, 4),
    (2025, 5, 5),
    (2025, 5, 6),
    (2025, 7, 21),
    (2025, 8, 11),
    (2025, 9, 15),
    (2025, 9, 23),
    (2025, 10, 13),
    (2025, 11, 3),
    (2025, 11, 23),
    (2025, 11, 24),
    (2026, 1, 1),
    (2026, 1, 12),
    (2026, 2, 11),
    (2026, 2, 23),
    (2026, 3, 20),
    (2026, 4, 29),
    (2026, 5, 3),
    (2026, 5, 4),
    (2026, 5, 5),
    (2026, 5, 6),
    (2026, 7, 20),
    (2026, 8, 11),
    (2026, 9, 21),
    (2026, 9, 22),
    (2026, 9, 23),
    (2026, 10, 12),
    (2026, 11, 3),
    (2026, 11, 23),
    (2027, 1, 1),
    (2027, 1, 11),
    (2027, 2, 11),
    (2027, 2, 23),
    (2027, 3, 21),
    (2027, 3, 22),
    (2027, 4, 29),
    (2027, 5, 3),
    (2027, 5, 4),
    (2027, 5, 5),
    (2027, 7, 19),
    (2027, 8, 11),
    (2027, 9, 20),
    (2027, 9, 23),
    (2027, 10, 11),
    (2027, 11, 3),
    (2027, 11, 23),
];

/// Office hours in JST: from 9:00, until 18:00.
pub const OFFICE_HOURS: (u32, u32) = (9, 18);

/// A national holiday in the list.
pub fn is_holiday(d: NaiveDate) -> bool {
    HOLIDAYS.contains(&(d.year(), d.month(), d.day()))
}

/// A business day: Monday–Friday, not a holiday, not 12/29–1/3.
pub fn is_business_day(d: NaiveDate) -> bool {
    let closed = (d.month() == 12 && d.day() >= 29) || (d.month() == 1 && d.day() <= 3);
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !is_holiday(d) && !closed
}

/// The business day `d` or the last one before it.
pub fn on_or_before(mut d: NaiveDate) -> NaiveDate {
    while !is_business_day(d) {
        d -= Duration::days(1);
    }
    d
}

/// The business day `d` or the first one after it.
pub fn on_or_after(mut d: NaiveDate) -> NaiveDate {
    while !is_business_day(d) {
        d += Duration::days(1);
    }
    d
}

/// `n` business days after (or, negative, before) the business day on or before `d`.
pub fn add_business_days(d: NaiveDate, n: i64) -> NaiveDate {
    let mut d = on_or_before(d);
    let step = if n < 0 { -1 } else { 1 };
    for _ in 0..n.abs() {
        d += Duration::days(step);
        while !is_business_day(d) {
            d += Duration::days(step);
        }
    }
    d
}

/// `day` at `hour:minute` JST, as a UTC moment.
pub fn at(day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    jst_day_start(day) + Duration::hours(i64::from(hour)) + Duration::minutes(i64::from(minute))
}

/// Whether a moment lies on a business day within office hours (JST).
pub fn is_office_time(t: DateTime<Utc>) -> bool {
    let local = t.with_timezone(&chrono::FixedOffset::east_opt(9 * 3600).unwrap_or_else(|| {
        chrono::FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!("zero offset"))
    }));
    let minutes = local.hour() * 60 + local.minute();
    is_business_day(jst_day(t)) && minutes >= OFFICE_HOURS.0 * 60 && minutes < OFFICE_HOURS.1 * 60
}

/// The fixed points of the demo's story, in the order they happen. 山田 太郎's service-use plan
/// is drafted, proposed at a 担当者会議, signed the next business day and activated that day; the
/// facilities' individual plans follow a week later; the last monitoring visit was in a monitoring
/// month (実施月) of his 3-monthly printed decision and the next monitoring meeting is in the next
/// one, so the label 「3か月モニタリング」 is true by construction.
#[derive(Debug, Clone, Copy)]
pub struct DemoDates {
    pub today: NaiveDate,
    /// The monitoring month of the upcoming meeting.
    pub next_monitoring_month: NaiveDate,
    /// The upcoming monitoring meeting (a business day, 14:00).
    pub next_meeting: NaiveDate,
    /// The last monitoring visit (in the 実施月 three months before).
    pub last_monitoring: NaiveDate,
    /// The service-use plan draft (案) is written and proposed.
    pub plan_drafted: NaiveDate,
    /// The 担当者会議 that discusses the draft.
    pub proposal_meeting: NaiveDate,
    /// Consent signed and the plan activated (the plan's first day).
    pub plan_active: NaiveDate,
    /// The facilities' individual support plans are signed and activated.
    pub individual_plans_active: NaiveDate,
    /// The only outburst between the plan's start and the last monitoring visit (cited there).
    pub cited_outburst: NaiveDate,
    /// The recipient certificate's first day (a renewal: services started before it).
    pub certificate_from: NaiveDate,
    /// First day of the daily records.
    pub records_from: NaiveDate,
}

impl DemoDates {
    pub fn new(today: NaiveDate) -> Self {
        let next_meeting = on_or_after(today + Duration::days(10));
        let next_monitoring_month = first_of_month(next_meeting);
        let last_month = first_of_month(next_monitoring_month - Duration::days(70));
        let last_monitoring = on_or_after(last_month + Duration::days(9));
        let plan_active = add_business_days(last_monitoring, -25);
        let proposal_meeting = add_business_days(plan_active, -1);
        let plan_drafted = add_business_days(proposal_meeting, -10);
        Self {
            today,
            next_monitoring_month,
            next_meeting,
            last_monitoring,
            plan_drafted,
            proposal_meeting,
            plan_active,
            individual_plans_active: add_business_days(plan_active, 5),
            cited_outburst: add_business_days(plan_active, 8),
            certificate_from: first_of_month(first_of_month(today) - Duration::days(170)),
            records_from: plan_active - Duration::days(7),
        }
    }

    /// A business day about `days` before today (snapped back).
    pub fn office_day(&self, days: i64) -> NaiveDate {
        on_or_before(self.today - Duration::days(days))
    }

    /// The printed decision's first monitoring month: the earliest 3-monthly month on the
    /// certificate that leads to the next monitoring month.
    pub fn first_monitoring_month(&self) -> NaiveDate {
        let mut m = self.next_monitoring_month;
        while let Some(prev) = m.checked_sub_months(chrono::Months::new(3)) {
            if prev < self.certificate_from {
                break;
            }
            m = prev;
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kakehashi::service::monitoring::schedule::add_months;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn weekends_holidays_and_the_new_year_closure_are_not_business_days() {
        assert!(!is_business_day(d(2026, 12, 6))); // Sunday
        assert!(!is_business_day(d(2026, 9, 22))); // 国民の休日
        assert!(!is_business_day(d(2027, 3, 22))); // 振替休日
        assert!(!is_business_day(d(2026, 12, 30)));
        assert!(is_business_day(d(2026, 12, 4)));
        assert_eq!(on_or_before(d(2026, 12, 6)), d(2026, 12, 4));
        assert_eq!(on_or_after(d(2026, 12, 29)), d(2027, 1, 4));
        assert_eq!(add_business_days(d(2026, 11, 20), 1), d(2026, 11, 24));
        assert_eq!(add_business_days(d(2026, 11, 24), -1), d(2026, 11, 20));
    }

    #[test]
    fn office_time_is_nine_to_six_jst_on_business_days() {
        assert!(is_office_time(at(d(2026, 12, 4), 9, 0)));
        assert!(!is_office_time(at(d(2026, 12, 4), 18, 0)));
        assert!(!is_office_time(at(d(2026, 12, 6), 14, 0)));
    }

    #[test]
    fn the_story_keeps_its_order_whatever_today_is() {
        let mut today = d(2025, 6, 1);
        while today < d(2027, 6, 1) {
            let s = DemoDates::new(today);
            assert!(s.plan_drafted < s.proposal_meeting, "{s:?}");
            assert!(s.proposal_meeting < s.plan_active, "{s:?}");
            assert!(s.plan_active < s.cited_outburst, "{s:?}");
            assert!(s.cited_outburst < s.last_monitoring, "{s:?}");
            assert!(s.last_monitoring < today, "{s:?}");
            assert_eq!(
                add_months(first_of_month(s.last_monitoring), 3),
                s.next_monitoring_month,
                "{s:?}"
            );
            assert!(s.certificate_from <= s.first_monitoring_month(), "{s:?}");
            assert!(s.first_monitoring_month() <= first_of_month(s.last_monitoring));
            for day in [
                s.plan_drafted,
                s.proposal_meeting,
                s.plan_active,
                s.individual_plans_active,
                s.last_monitoring,
                s.next_meeting,
            ] {
                assert!(is_business_day(day), "{s:?}");
            }
            today += Duration::days(1);
        }
    }
}
