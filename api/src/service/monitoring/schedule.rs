//! Monitoring months (継続サービス利用支援の実施月) as pure calendar arithmetic: no database, no
//! clock. The caller passes the certificate's recorded decision (or its absence) and today.
//!
//! Three bases, in order of authority:
//!
//! 1. **Printed** ([`MonitoringBasis::Printed`]): the municipality's decision as the 受給者証
//!    prints it. 「3月ごと（2027年2月〜）」 is period 3, first 実施月 2027-02: 2027-02, 2027-05, …
//!    up to the printed range's last month (or the certificate's last month). The months
//!    monitored monthly after a new plan or a change (変更後) are an explicit list. Nothing is
//!    re-derived: the Q&A lets the municipality count from the decision month or the month
//!    after, so only the printed months are authoritative.
//! 2. **Count-from** ([`MonitoringBasis::CountFrom`]): the first version's entry, a period counted
//!    from a start month that is month 1 of the cycle (from May every 3 months: July, October,
//!    …; monthly from December: December, January, …). A client whose services start within
//!    the certificate is new: monitored monthly for three months *from the month the services
//!    start*, that month included (MHLW 相談支援 Q&A H24.3.6 / H29.3.31).
//! 3. **National standard** ([`MonitoringBasis::NationalStandard`]): no decision recorded. The
//!    standard periods of the ordinance (2024 revision) are only what the municipality weighs
//!    (施行規則第6条の16), so they are a suggestion:
//!
//! | Situation or service used | Standard period |
//! |---|---|
//! | New plan, or a marked change of services (新規・変更) | monthly for the first 3 months, the month services start included |
//! | Needs intensive support (集中的支援), moving to the community from an institution or hospital (地域移行・地域定着の時期), living alone at home (在宅で単身) | monthly (毎月) |
//! | 居宅介護, 行動援護, 同行援護, 重度訪問介護, 短期入所, 就労移行支援, 自立訓練 (incl. 宿泊型), 就労定着支援, 自立生活援助, 日中サービス支援型共同生活援助 | every 3 months |
//! | 生活介護, 就労継続支援 A/B, 共同生活援助 (other than 日中サービス支援型), 地域移行支援, 地域定着支援, 障害児通所支援, 療養介護, 重度障害者等包括支援 | every 6 months |
//! | 施設入所支援; 65 or over using 介護保険 (long-term care insurance) | every 6 months |
//! | anything else | every 6 months |
//!
//! The shortest period of the client's situations and granted services applies. The periodic
//! months are counted **back from the grant's last month**, so that the last monitoring falls in
//! the certificate's final month, as in both worked examples of the Q&A: a renewal granted May –
//! April every 3 months is monitored July, October, January, April; a new client from May is
//! monitored May, June, July and then, 6-monthly, October and April (not January: the
//! municipality's printed 6-monthly range is October – April). DOMAIN.md §4 also advises shorter
//! periods for clients using several facilities, with unstable ties, changing facilities often,
//! needing medical coordination, or (children) around school holidays: those are the
//! municipality's judgement and only the decision can record them.

use chrono::{Datelike, Months, NaiveDate};
pub use entity::recipient_certificate::MonitoringBasis;

/// The first day of `d`'s month.
pub fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// `d` plus `n` months (the same day; the 1st stays the 1st).
pub fn add_months(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_add_months(Months::new(n)).unwrap_or(d)
}

fn sub_months(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_sub_months(Months::new(n)).unwrap_or(d)
}

pub use entity::recipient_certificate::Situation;

/// Services whose users are monitored every 3 months by the national standard. Matched after
/// removing spaces, by containment, so 宿泊型自立訓練 is 自立訓練 and 日中サービス支援型共同生活援助
/// is checked before 共同生活援助.
const THREE_MONTHLY: [&str; 10] = [
    "居宅介護",
    "行動援護",
    "同行援護",
    "重度訪問介護",
    "短期入所",
    "就労移行支援",
    "自立訓練",
    "就労定着支援",
    "自立生活援助",
    "日中サービス支援型",
];

/// The national standard period (months) for one granted service type.
pub fn standard_period_of_service(service_type: &str) -> u32 {
    let name: String = service_type
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if THREE_MONTHLY.iter().any(|s| name.contains(s)) {
        3
    } else {
        6
    }
}

/// The national standard period: the shortest over the situations and the granted services
/// (6 when nothing is known).
pub fn standard_period<'a>(
    service_types: impl IntoIterator<Item = &'a str>,
    situations: &[Situation],
) -> u32 {
    service_types
        .into_iter()
        .map(standard_period_of_service)
        .chain(situations.iter().map(|s| s.period_months()))
        .min()
        .unwrap_or(6)
}

/// A new client's monthly months: the three months from the month services start, that month
/// included (新規: 利用開始から3か月間), when services start between `from` and `last`.
pub fn new_client_months(
    services_start: Option<NaiveDate>,
    from: NaiveDate,
    last: NaiveDate,
) -> Vec<NaiveDate> {
    let (from, last) = (first_of_month(from), first_of_month(last));
    let Some(m) = services_start
        .map(first_of_month)
        .filter(|s| *s >= from && *s <= last)
    else {
        return Vec::new();
    };
    (0..3)
        .map(|k| add_months(m, k))
        .filter(|x| *x <= last)
        .collect()
}

/// When a client's services started: the first care-team start, and the later starts of service
/// providers, each a change of the services used (サービスの種類の変更).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceStarts {
    pub first: Option<NaiveDate>,
    pub providers: Vec<NaiveDate>,
}

impl ServiceStarts {
    /// From a client's care-team memberships, current or ended.
    pub fn of<'a>(team: impl IntoIterator<Item = &'a entity::care_team_membership::Model>) -> Self {
        let mut starts = Self::default();
        for m in team {
            starts.first = Some(starts.first.map_or(m.start_date, |f| f.min(m.start_date)));
            if m.relationship == entity::care_team_membership::CareRelationship::ServiceProvider {
                starts.providers.push(m.start_date);
            }
        }
        starts.providers.sort();
        starts
    }

    /// The provider starts in a later month than `services_start`: the changes.
    fn changes_after(&self, services_start: Option<NaiveDate>) -> Vec<NaiveDate> {
        let Some(start) = services_start.map(first_of_month) else {
            return Vec::new();
        };
        self.providers
            .iter()
            .copied()
            .filter(|d| first_of_month(*d) > start)
            .collect()
    }
}

/// The months monitored monthly after a change of services (変更後), when no decision lists them:
/// three months from each change's month, that month included, within the grant.
pub fn change_months(changes: &[NaiveDate], from: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
    let mut months: Vec<NaiveDate> = changes
        .iter()
        .flat_map(|c| new_client_months(Some(*c), from, last))
        .collect();
    months.sort();
    months.dedup();
    months
}

/// Printed decision: `first`, then every `period` months up to `last`, with the monthly months.
pub fn printed_months(
    period: u32,
    first: NaiveDate,
    last: NaiveDate,
    monthly: &[NaiveDate],
) -> Vec<NaiveDate> {
    let (first, last, period) = (first_of_month(first), first_of_month(last), period.max(1));
    let mut months: Vec<NaiveDate> = (0..)
        .map(|k| add_months(first, k * period))
        .take_while(|m| *m <= last)
        .chain(monthly.iter().copied().map(first_of_month))
        .collect();
    months.sort();
    months.dedup();
    months
}

/// Count-from entry: `start + period - 1`, then every `period` months up to `last`. A new client
/// (services start in or after the start month) is monitored monthly for three months from the
/// month services start, and not before it.
pub fn count_from_months(
    period: u32,
    start: NaiveDate,
    last: NaiveDate,
    services_start: Option<NaiveDate>,
) -> Vec<NaiveDate> {
    let (start, last, period) = (first_of_month(start), first_of_month(last), period.max(1));
    let monthly = new_client_months(services_start, start, last);
    let services_from = monthly.first().copied();
    let mut months: Vec<NaiveDate> = (1..)
        .map(|k| add_months(start, k * period - 1))
        .take_while(|m| *m <= last)
        .filter(|m| services_from.is_none_or(|s| *m >= s))
        .chain(monthly)
        .collect();
    months.sort();
    months.dedup();
    months
}

/// National standard (no decision recorded): periodic months counted back from the grant's last
/// month; for a new client (services start within the grant) monthly for the first three months
/// and the periodic months after them; monthly for three months after each change of services.
pub fn standard_months(
    period: u32,
    grant_from: NaiveDate,
    last: NaiveDate,
    services_start: Option<NaiveDate>,
    changes: &[NaiveDate],
) -> Vec<NaiveDate> {
    let (from, last, period) = (
        first_of_month(grant_from),
        first_of_month(last),
        period.max(1),
    );
    let monthly = new_client_months(services_start, from, last);
    let after = monthly.last().copied();
    let mut months: Vec<NaiveDate> = (0..)
        .map(|k| sub_months(last, k * period))
        .take_while(|m| *m >= from)
        .filter(|m| after.is_none_or(|a| *m > a))
        .chain(monthly)
        .chain(change_months(changes, from, last))
        .collect();
    months.sort();
    months.dedup();
    months
}

/// Where a month stands (実施状況).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonthStatus {
    /// A report was written in this month or later (実施済み).
    Done,
    /// The month passed without a report (未実施・期限超過).
    Overdue,
    /// This month, no report yet (今月実施予定).
    Due,
    /// A later month (予定).
    Upcoming,
}

/// The status of each scheduled month given the latest report: the months up to the latest
/// report's month count as done (a late monitoring covers the months it was late for).
pub fn statuses(
    months: &[NaiveDate],
    last_report: Option<NaiveDate>,
    today: NaiveDate,
) -> Vec<(NaiveDate, MonthStatus)> {
    let (done_until, this_month) = (last_report.map(first_of_month), first_of_month(today));
    months
        .iter()
        .map(|&m| {
            let status = if done_until.is_some_and(|d| m <= d) {
                MonthStatus::Done
            } else if m < this_month {
                MonthStatus::Overdue
            } else if m == this_month {
                MonthStatus::Due
            } else {
                MonthStatus::Upcoming
            };
            (m, status)
        })
        .collect()
}

/// The next month not yet done, and whether it has passed without a report.
pub fn next_due(
    months: &[NaiveDate],
    last_report: Option<NaiveDate>,
    today: NaiveDate,
) -> Option<(NaiveDate, bool)> {
    statuses(months, last_report, today)
        .into_iter()
        .find(|(_, s)| *s != MonthStatus::Done)
        .map(|(m, s)| (m, s == MonthStatus::Overdue))
}

/// A certificate's monitoring schedule, computed from what was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub basis: MonitoringBasis,
    /// Every N months (for the national standard: the suggested period).
    pub period_months: u32,
    /// The first periodic month (実施月).
    pub first_month: Option<NaiveDate>,
    /// The last month monitored under this certificate.
    pub last_month: NaiveDate,
    /// The months monitored monthly (変更後 as printed, or new-client months).
    pub monthly_months: Vec<NaiveDate>,
    /// When services start, as recorded on the certificate or from the care team.
    pub services_start: Option<NaiveDate>,
    /// The situations recorded for the national standard.
    pub situations: Vec<Situation>,
    /// Every monitoring month, in order.
    pub months: Vec<NaiveDate>,
}

/// The schedule of a certificate. `starts` are the client's care-team starts: the earliest is used
/// when the certificate does not record when services start, and under the national standard a
/// provider joining later is a change of services, monitored monthly for three months.
pub fn of_certificate(
    c: &entity::recipient_certificate::Model,
    starts: &ServiceStarts,
) -> Schedule {
    let services_start = c.services_start_on.or(starts.first);
    let changes = starts.changes_after(services_start);
    let situations = &c.monitoring_situations.0;
    let printed_monthly = &c.monitoring_monthly_months.0;
    let end = first_of_month(c.valid_until);
    let legacy_period = u32::try_from(c.monitoring_period_months)
        .unwrap_or(1)
        .max(1);
    let (period, first_month, last_month, months) = match c.monitoring_basis {
        MonitoringBasis::Printed => {
            let first = c.monitoring_first_month.unwrap_or(c.monitoring_start_month);
            let last = c.monitoring_last_month.unwrap_or(end);
            let months = printed_months(legacy_period, first, last, printed_monthly);
            (legacy_period, Some(first), last, months)
        }
        MonitoringBasis::CountFrom => {
            let start = c.monitoring_start_month;
            let months = count_from_months(legacy_period, start, end, services_start);
            let first = add_months(first_of_month(start), legacy_period - 1);
            (legacy_period, Some(first), end, months)
        }
        MonitoringBasis::NationalStandard => {
            let period = standard_period(
                c.granted_services.0.iter().map(|g| g.service_type.as_str()),
                situations,
            );
            let months = standard_months(period, c.valid_from, end, services_start, &changes);
            (period, None, end, months)
        }
    };
    let monthly_months = match c.monitoring_basis {
        MonitoringBasis::Printed => printed_monthly
            .iter()
            .copied()
            .map(first_of_month)
            .collect(),
        MonitoringBasis::CountFrom => {
            new_client_months(services_start, c.monitoring_start_month, end)
        }
        MonitoringBasis::NationalStandard => {
            let mut monthly = new_client_months(services_start, c.valid_from, end);
            monthly.extend(change_months(&changes, c.valid_from, end));
            monthly.sort();
            monthly.dedup();
            monthly
        }
    };
    Schedule {
        basis: c.monitoring_basis,
        period_months: period,
        first_month,
        last_month,
        monthly_months,
        services_start,
        situations: situations.clone(),
        months,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn ms(list: &[&str]) -> Vec<NaiveDate> {
        list.iter().map(|s| d(&format!("{s}-01"))).collect()
    }

    #[test]
    fn entry_as_printed_starts_at_the_first_monitoring_month() {
        // 「3月ごと（2027年2月〜）」 on a certificate valid to 2027-12.
        let months = printed_months(3, d("2027-02-01"), d("2027-12-31"), &[]);
        assert_eq!(months, ms(&["2027-02", "2027-05", "2027-08", "2027-11"]));
        // 「3月ごと（R6.7〜R7.4）」: July, October, January, April.
        let months = printed_months(3, d("2024-07-01"), d("2025-04-01"), &[]);
        assert_eq!(months, ms(&["2024-07", "2024-10", "2025-01", "2025-04"]));
    }

    #[test]
    fn the_qa_new_client_is_monthly_may_to_july_then_october_and_april() {
        // As printed: monthly May–July (変更後 months), then 6-monthly October–April.
        let printed = printed_months(
            6,
            d("2025-10-01"),
            d("2026-04-01"),
            &ms(&["2025-05", "2025-06", "2025-07"]),
        );
        let expected = ms(&["2025-05", "2025-06", "2025-07", "2025-10", "2026-04"]);
        assert_eq!(printed, expected);
        // With no decision recorded, the national standard suggests the same months: the
        // 6-monthly cycle counts back from the grant's last month (April).
        let standard = standard_months(
            6,
            d("2025-05-01"),
            d("2026-04-30"),
            Some(d("2025-05-01")),
            &[],
        );
        assert_eq!(standard, expected);
    }

    #[test]
    fn the_qa_renewal_every_three_months_is_july_october_january_april() {
        let standard = standard_months(
            3,
            d("2025-05-01"),
            d("2026-04-30"),
            Some(d("2019-04-01")),
            &[],
        );
        assert_eq!(standard, ms(&["2025-07", "2025-10", "2026-01", "2026-04"]));
        let counted = count_from_months(3, d("2025-05-10"), d("2026-04-30"), None);
        assert_eq!(counted, ms(&["2025-07", "2025-10", "2026-01", "2026-04"]));
    }

    #[test]
    fn a_new_client_from_december_on_six_months_is_due_in_december() {
        let today = d("2026-12-03");
        for months in [
            count_from_months(6, d("2026-12-01"), d("2027-11-30"), Some(d("2026-12-01"))),
            standard_months(
                6,
                d("2026-12-01"),
                d("2027-11-30"),
                Some(d("2026-12-01")),
                &[],
            ),
        ] {
            assert_eq!(months[..3], ms(&["2026-12", "2027-01", "2027-02"]));
            assert_eq!(
                next_due(&months, None, today),
                Some((d("2026-12-01"), false))
            );
        }
    }

    #[test]
    fn a_new_client_from_november_on_three_months_is_overdue_in_december() {
        let months = count_from_months(3, d("2026-11-01"), d("2027-10-31"), Some(d("2026-11-04")));
        assert_eq!(months[..3], ms(&["2026-11", "2026-12", "2027-01"]));
        assert_eq!(
            next_due(&months, None, d("2026-12-03")),
            Some((d("2026-11-01"), true))
        );
        let s = statuses(&months, None, d("2026-12-03"));
        assert_eq!(s[0].1, MonthStatus::Overdue);
        assert_eq!(s[1].1, MonthStatus::Due);
        assert_eq!(s[2].1, MonthStatus::Upcoming);
    }

    #[test]
    fn a_monthly_renewal_from_december_is_due_in_december() {
        let months = count_from_months(1, d("2026-12-01"), d("2027-11-30"), Some(d("2024-01-01")));
        assert_eq!(months.len(), 12);
        assert_eq!(
            next_due(&months, None, d("2026-12-03")),
            Some((d("2026-12-01"), false))
        );
    }

    #[test]
    fn a_change_of_services_is_monitored_monthly_for_three_months_under_the_standard() {
        // A renewal every 6 months (counted back from March) whose client starts a second
        // provider in August: August, September and October are monthly (変更後).
        let months = standard_months(
            6,
            d("2026-04-01"),
            d("2027-03-31"),
            Some(d("2020-04-01")),
            &[d("2026-08-17")],
        );
        assert_eq!(months, ms(&["2026-08", "2026-09", "2026-10", "2027-03"]));
        // The change window stops at the grant's last month.
        let late = standard_months(
            6,
            d("2026-04-01"),
            d("2027-03-31"),
            None,
            &[d("2027-02-03")],
        );
        assert_eq!(late, ms(&["2026-09", "2027-02", "2027-03"]));
    }

    #[test]
    fn monthly_months_never_precede_the_start_of_services() {
        // The certificate runs from January; services start in April (山田 太郎 in the demo).
        let months = count_from_months(3, d("2026-01-01"), d("2026-12-31"), Some(d("2026-04-07")));
        assert_eq!(
            months,
            ms(&["2026-04", "2026-05", "2026-06", "2026-09", "2026-12"])
        );
    }

    #[test]
    fn the_next_month_follows_the_last_report() {
        let months = count_from_months(3, d("2025-05-01"), d("2026-04-30"), None);
        assert_eq!(
            next_due(&months, None, d("2025-06-15")),
            Some((d("2025-07-01"), false))
        );
        assert_eq!(
            next_due(&months, None, d("2025-08-02")),
            Some((d("2025-07-01"), true))
        );
        assert_eq!(
            next_due(&months, Some(d("2025-07-20")), d("2025-08-02")),
            Some((d("2025-10-01"), false))
        );
        assert_eq!(
            next_due(&months, Some(d("2026-04-02")), d("2026-04-03")),
            None
        );
    }

    #[test]
    fn the_standard_table_takes_the_shortest_period() {
        assert_eq!(standard_period(["生活介護"], &[]), 6);
        assert_eq!(standard_period(["就労継続支援B型", "共同生活援助"], &[]), 6);
        assert_eq!(standard_period(["就労継続支援B型", "居宅介護"], &[]), 3);
        assert_eq!(standard_period(["日中サービス支援型共同生活援助"], &[]), 3);
        assert_eq!(standard_period(["宿泊型自立訓練"], &[]), 3);
        assert_eq!(standard_period(["就労 移行 支援"], &[]), 3);
        assert_eq!(standard_period(["地域移行支援", "地域定着支援"], &[]), 6);
        assert_eq!(standard_period(["施設入所支援"], &[]), 6);
        assert_eq!(
            standard_period(["生活介護"], &[Situation::LongTermCareInsurance]),
            6
        );
        for monthly in [
            Situation::IntensiveSupport,
            Situation::CommunityTransition,
            Situation::LivingAlone,
        ] {
            assert_eq!(standard_period(["生活介護"], &[monthly]), 1);
        }
        assert_eq!(standard_period([], &[]), 6);
    }
}
