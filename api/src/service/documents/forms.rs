//! The fields of the national forms that the first version of the documents lacked: the
//! service-use plan's header (計画作成担当者, 計画案作成日, 障害支援区分 and its validity), the
//! children's variant (障害児支援利用計画), the weekly schedule as a grid (週間計画表), the
//! monitoring report's visit and the client's confirmation, and a meeting's absentee enquiries
//! (照会).
//!
//! Every field is optional (or has a default) so that rows written before these fields existed
//! still decode to what they said. Validation names the field with its API path.

use async_graphql::{Enum, InputObject, SimpleObject};
use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

use super::{opt, req};
use crate::{
    error::{ApiError, ApiResult},
    service::dates::Date,
};

/// The children's variant of the service-use plan (障害児支援利用計画): a child's plan names the
/// guardian (保護者) and the day-service certificate (通所受給者証). The guardian's name is
/// profile data: it is shown only to viewers who may see the client's profile.
#[derive(SimpleObject, InputObject, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[graphql(input_name = "ChildPlanInput")]
#[serde(rename_all = "camelCase")]
pub struct ChildPlan {
    /// Number of the day-service recipient certificate (通所受給者証番号). Null when you may
    /// not see the client's profile.
    pub day_service_certificate_number: Option<String>,
    /// The guardian's name (保護者氏名); required in input. Null when you may not see the
    /// client's profile.
    pub guardian_name: Option<String>,
    /// The guardian's relationship to the child (続柄), e.g. 母. Null when you may not see the
    /// client's profile.
    pub guardian_relationship: Option<String>,
}

impl ChildPlan {
    fn validate(&self) -> ApiResult<()> {
        match &self.guardian_name {
            Some(n) if !n.trim().is_empty() => req("content.childPlan.guardianName", n, 100)?,
            _ => {
                return Err(ApiError::bad_input(
                    "content.childPlan.guardianName",
                    "A children's plan (障害児支援利用計画) names the guardian (保護者).",
                ));
            }
        }
        opt(
            "content.childPlan.guardianRelationship",
            &self.guardian_relationship,
            50,
        )?;
        if let Some(n) = &self.day_service_certificate_number
            && (n.is_empty() || n.len() > 20 || !n.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(ApiError::bad_input(
                "content.childPlan.dayServiceCertificateNumber",
                "The 通所受給者証 number is up to 20 digits.",
            ));
        }
        Ok(())
    }

    /// The child plan as a viewer without profile access sees it.
    pub fn redacted(&self) -> Self {
        Self::default()
    }
}

/// Disability support category (障害支援区分) as decided, with its validity period (有効期間).
#[derive(SimpleObject, InputObject, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[graphql(input_name = "SupportCategoryPeriodInput")]
#[serde(rename_all = "camelCase")]
pub struct SupportCategoryPeriod {
    /// The category, 1 to 6 (区分1〜6).
    pub category: i32,
    /// First day of validity (有効期間の開始日).
    pub valid_from: Option<Date>,
    /// Last day of validity (有効期間の終了日).
    pub valid_until: Option<Date>,
}

impl SupportCategoryPeriod {
    fn validate(&self) -> ApiResult<()> {
        if !(1..=6).contains(&self.category) {
            return Err(ApiError::bad_input(
                "content.supportCategory.category",
                "The support category (障害支援区分) is 1 to 6.",
            ));
        }
        if let (Some(f), Some(u)) = (self.valid_from, self.valid_until)
            && u.0 < f.0
        {
            return Err(ApiError::bad_input(
                "content.supportCategory.validUntil",
                "The support category's validity ends before it starts.",
            ));
        }
        Ok(())
    }
}

/// A day of the week (曜日).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Weekday {
    /// 月曜日.
    Monday,
    /// 火曜日.
    Tuesday,
    /// 水曜日.
    Wednesday,
    /// 木曜日.
    Thursday,
    /// 金曜日.
    Friday,
    /// 土曜日.
    Saturday,
    /// 日曜日.
    Sunday,
}

/// One cell of the weekly schedule (週間計画表): what the client does on a weekday from one time
/// to another, e.g. 月曜 9:30–15:00 就労継続支援B型.
#[derive(SimpleObject, InputObject, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[graphql(input_name = "WeeklySlotInput")]
#[serde(rename_all = "camelCase")]
pub struct WeeklySlot {
    /// Weekday (曜日).
    pub weekday: Weekday,
    /// Start time, `HH:MM` in Japan time (開始時刻).
    pub start_time: String,
    /// End time, `HH:MM`, after the start (終了時刻).
    pub end_time: String,
    /// What happens: a service or a daily activity (サービス・活動内容), e.g. 就労継続支援B型, 通院.
    pub activity: String,
    /// Whether the activity is a welfare service in the plan (福祉サービス) rather than a daily
    /// activity (日常生活上の活動).
    #[graphql(default)]
    #[serde(default)]
    pub service: bool,
}

/// The weekly schedule (週間計画表) attached to a service-use plan.
#[derive(SimpleObject, InputObject, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[graphql(input_name = "WeeklyPlanInput")]
#[serde(rename_all = "camelCase")]
pub struct WeeklyPlan {
    /// The grid's cells, weekday × time (at most 100).
    #[graphql(default)]
    #[serde(default)]
    pub slots: Vec<WeeklySlot>,
    /// The client's main daily activities (主な日常生活上の活動).
    pub main_activities: Option<String>,
    /// Services not used on a weekly basis (週単位以外のサービス), e.g. 短期入所 月2回.
    pub non_weekly_services: Option<String>,
}

/// `HH:MM` as a time of day.
fn time_of(field: &str, text: &str) -> ApiResult<NaiveTime> {
    let t = text.trim();
    let ok = t.len() == 5 && t.as_bytes()[2] == b':';
    ok.then(|| NaiveTime::parse_from_str(t, "%H:%M").ok())
        .flatten()
        .ok_or_else(|| {
            ApiError::bad_input(
                field,
                format!("{field} must be a time of day as HH:MM (00:00 to 23:59), not {t:?}."),
            )
        })
}

impl WeeklyPlan {
    fn validate(&self) -> ApiResult<()> {
        if self.slots.len() > 100 {
            return Err(ApiError::bad_input(
                "content.weeklyPlan.slots",
                "At most 100 cells in the weekly schedule.",
            ));
        }
        let mut taken: Vec<(Weekday, NaiveTime, NaiveTime)> = Vec::new();
        for s in &self.slots {
            let from = time_of("content.weeklyPlan.slots.startTime", &s.start_time)?;
            let to = time_of("content.weeklyPlan.slots.endTime", &s.end_time)?;
            if to <= from {
                return Err(ApiError::bad_input(
                    "content.weeklyPlan.slots.endTime",
                    format!(
                        "A cell ends after it starts ({:?} {}–{}).",
                        s.weekday, s.start_time, s.end_time
                    ),
                ));
            }
            req("content.weeklyPlan.slots.activity", &s.activity, 200)?;
            if let Some((d, f, t)) = taken
                .iter()
                .find(|(d, f, t)| *d == s.weekday && from < *t && *f < to)
            {
                return Err(ApiError::bad_input(
                    "content.weeklyPlan.slots",
                    format!(
                        "Two cells overlap on {d:?}: {}–{} and {}–{}.",
                        f.format("%H:%M"),
                        t.format("%H:%M"),
                        from.format("%H:%M"),
                        to.format("%H:%M")
                    ),
                ));
            }
            taken.push((s.weekday, from, to));
        }
        opt(
            "content.weeklyPlan.mainActivities",
            &self.main_activities,
            4000,
        )?;
        opt(
            "content.weeklyPlan.nonWeeklyServices",
            &self.non_weekly_services,
            4000,
        )
    }
}

/// The new header fields of a plan, validated together.
pub(super) fn validate_plan_forms(c: &super::PlanContent) -> ApiResult<()> {
    opt("content.planAuthor", &c.plan_author, 100)?;
    if let Some(child) = &c.child_plan {
        child.validate()?;
    }
    if let Some(sc) = &c.support_category {
        sc.validate()?;
    }
    if let Some(w) = &c.weekly_plan {
        w.validate()?;
    }
    for g in &c.goals {
        for (f, v) in [
            ("content.goals.supportContent", &g.support_content),
            ("content.goals.clientRole", &g.client_role),
            ("content.goals.staffInCharge", &g.staff_in_charge),
            ("content.goals.frequencyPeriod", &g.frequency_period),
        ] {
            opt(f, v, 2000)?;
        }
        if g.priority.is_some_and(|p| !(1..=99).contains(&p)) {
            return Err(ApiError::bad_input(
                "content.goals.priority",
                "Priority is 1 to 99.",
            ));
        }
    }
    Ok(())
}

/// Where the specialist met the client for a monitoring (面接場所).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VisitPlace {
    /// At the client's home (居宅訪問).
    HomeVisit,
    /// Online (オンライン), where the municipality allows it.
    Online,
    /// At the consultation office (相談支援事業所).
    Office,
    /// At a facility the client uses (通所先・事業所).
    Facility,
    /// Elsewhere (その他).
    Other,
}

/// Who the specialist met, and where, for a monitoring (面接).
#[derive(SimpleObject, InputObject, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[graphql(input_name = "MonitoringVisitInput")]
#[serde(rename_all = "camelCase")]
pub struct MonitoringVisit {
    /// Where (面接場所).
    pub place: VisitPlace,
    /// The place in words when it needs them (場所の詳細), e.g. グループホームさくら.
    pub place_detail: Option<String>,
    /// Who was met (面接した人), e.g. 本人, 母 (at least one).
    pub met_with: Vec<String>,
    /// Whether the client was met in person (本人との面接).
    pub met_client: bool,
    /// The day of the visit (面接日).
    pub visited_on: Option<Date>,
}

/// The client's confirmation of a monitoring report (本人の確認): the signature's equivalent.
#[derive(SimpleObject, InputObject, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[graphql(input_name = "ClientConfirmationInput")]
#[serde(rename_all = "camelCase")]
pub struct ClientConfirmation {
    /// The day the client (or guardian) confirmed the report (確認日).
    pub confirmed_on: Date,
    /// Who confirmed it (署名者), the client or their guardian.
    pub confirmed_by: String,
    /// How, e.g. 署名, 記名押印, 口頭確認 (確認方法).
    pub method: Option<String>,
}

/// The new fields of a monitoring report, validated together.
pub(super) fn validate_monitoring_forms(c: &super::MonitoringContent) -> ApiResult<()> {
    if let Some(v) = &c.visit {
        if v.met_with.is_empty() || v.met_with.len() > 20 {
            return Err(ApiError::bad_input(
                "content.visit.metWith",
                "Name who was met (1 to 20 people), e.g. 本人.",
            ));
        }
        for m in &v.met_with {
            req("content.visit.metWith", m, 100)?;
        }
        opt("content.visit.placeDetail", &v.place_detail, 200)?;
    }
    if let Some(cc) = &c.client_confirmation {
        req(
            "content.clientConfirmation.confirmedBy",
            &cc.confirmed_by,
            100,
        )?;
        opt("content.clientConfirmation.method", &cc.method, 50)?;
        if cc.confirmed_on.0 > crate::service::access::today() {
            return Err(ApiError::bad_input(
                "content.clientConfirmation.confirmedOn",
                "A confirmation cannot be dated in the future.",
            ));
        }
    }
    for r in &c.goal_rows {
        opt("content.goalRows.otherNotes", &r.other_notes, 4000)?;
        if r.priority.is_some_and(|p| !(1..=99).contains(&p)) {
            return Err(ApiError::bad_input(
                "content.goalRows.priority",
                "Priority is 1 to 99.",
            ));
        }
    }
    Ok(())
}

/// An enquiry to someone who could not attend a meeting (照会): to whom, when, and the answer.
#[derive(SimpleObject, InputObject, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[graphql(input_name = "MeetingEnquiryInput")]
#[serde(rename_all = "camelCase")]
pub struct MeetingEnquiry {
    /// To whom: organization and name (照会先), e.g. ひまわり作業所 サビ管 佐藤.
    pub addressee: String,
    /// The addressee's organization's global id, when it is in Kakehashi.
    pub organization_id: Option<super::OrganizationRef>,
    /// The day the enquiry was made (照会年月日).
    pub asked_on: Date,
    /// What was asked (照会内容).
    pub question: Option<String>,
    /// The answer (回答内容).
    pub answer: Option<String>,
    /// The day of the answer (回答年月日); on or after `askedOn`.
    pub answered_on: Option<Date>,
}

/// The new fields of meeting minutes, validated together (the times against the meeting's own
/// are checked where the meeting is at hand, in `meetings::minutes`).
pub(super) fn validate_minutes_forms(m: &super::Minutes) -> ApiResult<()> {
    if m.meeting_number.is_some_and(|n| !(1..=999).contains(&n)) {
        return Err(ApiError::bad_input(
            "minutes.meetingNumber",
            "The meeting number (開催回数) is 1 to 999.",
        ));
    }
    if let (Some(s), Some(e)) = (m.started_at, m.ended_at)
        && e <= s
    {
        return Err(ApiError::bad_input(
            "minutes.endedAt",
            "The meeting ends after it starts (開催時間).",
        ));
    }
    for (attended, reason, field, who) in [
        (
            m.client_attended,
            &m.client_absence_reason,
            "minutes.clientAbsenceReason",
            "the client (本人)",
        ),
        (
            m.family_attended,
            &m.family_absence_reason,
            "minutes.familyAbsenceReason",
            "the family (家族)",
        ),
    ] {
        opt(field, reason, 1000)?;
        if attended == Some(false) && reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
            return Err(ApiError::bad_input(
                field,
                format!("Say why {who} did not attend."),
            ));
        }
    }
    if m.enquiries.len() > 30 {
        return Err(ApiError::bad_input(
            "minutes.enquiries",
            "At most 30 enquiries.",
        ));
    }
    for q in &m.enquiries {
        req("minutes.enquiries.addressee", &q.addressee, 200)?;
        opt("minutes.enquiries.question", &q.question, 4000)?;
        opt("minutes.enquiries.answer", &q.answer, 4000)?;
        if q.answered_on.is_some_and(|a| a.0 < q.asked_on.0) {
            return Err(ApiError::bad_input(
                "minutes.enquiries.answeredOn",
                "An enquiry is answered on or after the day it was made.",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
