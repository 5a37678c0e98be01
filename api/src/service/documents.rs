//! Value documents stored as JSON inside plans, meetings, briefs and monitoring reports.
//!
//! These derive both serde (storage) and async-graphql (their shape *is* the API): this is the
//! one deliberate exception to "no GraphQL types in the service layer", because writing every
//! nested row twice, once per layer, would be error-prone for no gain. Ids inside them are
//! typed UUIDs (`refs`), which the GraphQL layer spells as global ids, so what is stored does
//! not depend on the API's id encoding. Validation lives here too.

use async_graphql::{Enum, InputObject, SimpleObject};
use serde::{Deserialize, Serialize};

use crate::{
    error::{ApiError, ApiResult},
    service::dates::Date,
};

mod forms;
mod refs;
pub use forms::{
    ChildPlan, ClientConfirmation, MeetingEnquiry, MonitoringVisit, SupportCategoryPeriod,
    VisitPlace, Weekday, WeeklyPlan, WeeklySlot,
};
pub use refs::{ObservationRef, OrganizationRef};

/// A document read back from its JSON column. One that does not decode is an error (logged;
/// `INTERNAL_SERVER_ERROR` to the caller, without detail), never an empty document: shown empty
/// it would tell the reader the record says nothing, and written back it would erase what it
/// held.
pub fn stored<T: serde::de::DeserializeOwned>(
    what: &'static str,
    value: &serde_json::Value,
) -> ApiResult<T> {
    serde_json::from_value(value.clone())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("stored {what} does not decode: {e}")))
}

fn opt(field: &str, v: &Option<String>, max: usize) -> ApiResult<()> {
    match v {
        Some(s) if s.chars().count() > max => Err(ApiError::bad_input(
            field,
            format!("{field} must be at most {max} characters."),
        )),
        _ => Ok(()),
    }
}

fn req(field: &str, v: &str, max: usize) -> ApiResult<()> {
    super::required_text(field, v, max).map(|_| ())
}

/// Who expressed a goal (FHIR Goal.expressedBy).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExpressedBy {
    /// The client (本人).
    #[default]
    Client,
    /// The family (家族).
    Family,
    /// The facility (事業所).
    Facility,
    /// The consultation specialist (相談支援専門員).
    Consultation,
}

/// How far a goal has come (達成状況).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Achievement {
    /// Not assessed yet (未評価).
    #[default]
    NotAssessed,
    /// Improving (改善).
    Improving,
    /// No change (変化なし).
    NoChange,
    /// Worsening (悪化).
    Worsening,
    /// Achieved (達成).
    Achieved,
    /// No longer pursued (中止).
    Discontinued,
}

/// A goal of a plan, with who expressed it and how far it has come.
#[derive(SimpleObject, InputObject, Clone, Debug, Default, Serialize, Deserialize)]
#[graphql(input_name = "PlanGoalInput")]
#[serde(rename_all = "camelCase")]
pub struct PlanGoal {
    /// The goal in concrete words (目標).
    pub text: String,
    /// Who expressed it.
    pub expressed_by: ExpressedBy,
    /// Achievement status.
    pub achievement: Achievement,
    /// Target date (達成時期).
    pub target_date: Option<Date>,
    /// Support content for this goal (支援内容), in an individual support plan.
    pub support_content: Option<String>,
    /// The client's own role for this goal (本人の役割).
    pub client_role: Option<String>,
    /// Staff in charge (担当者), e.g. 生活支援員 田中.
    pub staff_in_charge: Option<String>,
    /// Frequency and period (頻度・期間), e.g. 週3回・6か月.
    pub frequency_period: Option<String>,
    /// Priority (優先順位), 1 first.
    pub priority: Option<i32>,
}

/// A need row (解決すべき課題) of a plan.
#[derive(SimpleObject, InputObject, Clone, Debug, Serialize, Deserialize)]
#[graphql(input_name = "NeedRowInput")]
#[serde(rename_all = "camelCase")]
pub struct NeedRow {
    /// Priority (優先順位), 1 first.
    pub priority: i32,
    /// The need to solve (解決すべき課題), in the client's terms.
    pub need: String,
    /// Support goal (支援目標).
    pub support_goal: String,
    /// Target date (達成時期).
    pub target_date: Option<Date>,
    /// Service type (サービス種別), e.g. 就労継続支援B型.
    pub service_type: Option<String>,
    /// Service content (サービス内容).
    pub service_content: Option<String>,
    /// Amount, frequency and time, e.g. 週5日 9:30–15:00 (量・頻度・時間).
    pub amount: Option<String>,
    /// Provider organization's global id (提供事業者).
    pub provider_organization_id: Option<OrganizationRef>,
    /// The client's own role (本人の役割).
    pub client_role: Option<String>,
    /// Evaluation date (評価時期).
    pub evaluation_date: Option<Date>,
    /// Notes (留意事項).
    pub notes: Option<String>,
}

/// The four things a plan must bind (計画の軸), so that none dominates.
#[derive(SimpleObject, InputObject, Clone, Debug, Default, Serialize, Deserialize)]
#[graphql(input_name = "PlanAxisInput")]
#[serde(rename_all = "camelCase")]
pub struct PlanAxis {
    /// The client's wishes (本人の希望).
    pub client_wishes: Option<String>,
    /// The family's worries (家族の不安).
    pub family_worries: Option<String>,
    /// The facility's expertise (事業所の専門性).
    pub facility_expertise: Option<String>,
    /// Links to community resources (地域資源との接続).
    pub community_resources: Option<String>,
}

/// The text of a support plan.
#[derive(SimpleObject, InputObject, Clone, Debug, Default, Serialize, Deserialize)]
#[graphql(input_name = "PlanContentInput")]
#[serde(rename_all = "camelCase")]
pub struct PlanContent {
    /// The client's wishes about their life, in their own words (本人の意向). No abstract goals.
    pub client_wishes: Option<String>,
    /// The family's wishes, kept apart from the client's (家族の意向).
    pub family_wishes: Option<String>,
    /// Overall support policy (総合的な援助の方針).
    pub overall_policy: Option<String>,
    /// Long-term goal (長期目標).
    pub long_term_goal: Option<String>,
    /// Short-term goal (短期目標).
    pub short_term_goal: Option<String>,
    /// The four-part axis.
    #[graphql(default)]
    pub axis: PlanAxis,
    /// Goals with who expressed them and their achievement.
    #[graphql(default)]
    pub goals: Vec<PlanGoal>,
    /// Need rows (usually at most 6; at most 20).
    #[graphql(default)]
    pub needs: Vec<NeedRow>,
    /// Monitoring period in months (モニタリング期間), for service-use plans.
    pub monitoring_period_months: Option<i32>,
    /// Standard service hours (標準的な支援時間), for individual plans.
    pub standard_service_hours: Option<String>,
    /// Weekly schedule (週間計画表), as text. See `weeklyPlan` for the grid.
    pub weekly_schedule: Option<String>,
    /// The plan's author (計画作成担当者): the consultation specialist (相談支援専門員) who wrote
    /// it, by name.
    pub plan_author: Option<String>,
    /// The day the draft proposal was made (計画案作成日).
    pub proposal_date: Option<Date>,
    /// Disability support category (障害支援区分) and its validity, for service-use plans.
    pub support_category: Option<SupportCategoryPeriod>,
    /// The children's variant (障害児支援利用計画): the guardian and the day-service
    /// certificate. Only on service-use plans.
    pub child_plan: Option<ChildPlan>,
    /// The weekly schedule as a weekday × time grid, with services not used weekly
    /// (週間計画表・週単位以外のサービス).
    pub weekly_plan: Option<WeeklyPlan>,
}

impl PlanContent {
    pub fn validate(&self) -> ApiResult<()> {
        for (f, v) in [
            ("content.clientWishes", &self.client_wishes),
            ("content.familyWishes", &self.family_wishes),
            ("content.overallPolicy", &self.overall_policy),
            ("content.longTermGoal", &self.long_term_goal),
            ("content.shortTermGoal", &self.short_term_goal),
            ("content.axis.clientWishes", &self.axis.client_wishes),
            ("content.axis.familyWorries", &self.axis.family_worries),
            (
                "content.axis.facilityExpertise",
                &self.axis.facility_expertise,
            ),
            (
                "content.axis.communityResources",
                &self.axis.community_resources,
            ),
            ("content.standardServiceHours", &self.standard_service_hours),
            ("content.weeklySchedule", &self.weekly_schedule),
        ] {
            opt(f, v, 4000)?;
        }
        if self.goals.len() > 20 || self.needs.len() > 20 {
            return Err(ApiError::bad_input(
                "content.needs",
                "At most 20 goals and 20 need rows.",
            ));
        }
        for g in &self.goals {
            req("content.goals.text", &g.text, 1000)?;
        }
        for n in &self.needs {
            req("content.needs.need", &n.need, 2000)?;
            req("content.needs.supportGoal", &n.support_goal, 2000)?;
            if !(1..=99).contains(&n.priority) {
                return Err(ApiError::bad_input(
                    "content.needs.priority",
                    "Priority is 1 to 99.",
                ));
            }
            for (f, v) in [
                ("content.needs.serviceType", &n.service_type),
                ("content.needs.serviceContent", &n.service_content),
                ("content.needs.amount", &n.amount),
                ("content.needs.clientRole", &n.client_role),
                ("content.needs.notes", &n.notes),
            ] {
                opt(f, v, 2000)?;
            }
        }
        if let Some(m) = self.monitoring_period_months
            && !(1..=12).contains(&m)
        {
            return Err(ApiError::bad_input(
                "content.monitoringPeriodMonths",
                "The monitoring period is 1 to 12 months.",
            ));
        }
        forms::validate_plan_forms(self)
    }

    /// [`PlanContent::validate`], and the fields only one kind of plan has: the children's
    /// variant and the weekly grid belong to the service-use plan.
    pub fn validate_for(&self, kind: entity::support_plan::PlanKind) -> ApiResult<()> {
        self.validate()?;
        if kind == entity::support_plan::PlanKind::IndividualSupportPlan {
            for (field, given) in [
                ("content.childPlan", self.child_plan.is_some()),
                ("content.weeklyPlan", self.weekly_plan.is_some()),
                ("content.supportCategory", self.support_category.is_some()),
            ] {
                if given {
                    return Err(ApiError::bad_input(
                        field,
                        format!("{field} belongs to the service-use plan (サービス等利用計画)."),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// How a plan was explained, consented to and delivered (説明・同意・交付).
#[derive(SimpleObject, Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanRecord {
    /// Date the plan was explained to the client (説明日).
    pub explained_on: Option<Date>,
    /// Who explained it.
    pub explained_by: Option<String>,
    /// Who signed the written consent (同意署名者).
    pub consent_signed_by: Option<String>,
    /// Date of written consent (同意日).
    pub consent_signed_on: Option<Date>,
    /// How consent was given, e.g. 署名, 記名押印.
    pub consent_method: Option<String>,
    /// Deliveries of the plan (交付).
    #[serde(default)]
    pub deliveries: Vec<PlanDelivery>,
}

/// Who receives a copy of a plan (交付先).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryRecipient {
    /// The client (本人).
    Client,
    /// The family or guardian (家族・保護者).
    Family,
    /// The client's consultation office (相談支援事業所), required for individual plans since 2024.
    ConsultationOffice,
    /// The municipality (市町村), for service-use plans.
    Municipality,
    /// A service provider on the client's care team (サービス提供事業者の担当者), for
    /// service-use plans; name the organization.
    ServiceProvider,
}

/// One delivery of a plan (交付).
#[derive(SimpleObject, Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanDelivery {
    /// Who received it.
    pub recipient: DeliveryRecipient,
    /// When.
    pub delivered_on: Date,
    /// For `SERVICE_PROVIDER`: the receiving organization's global id (交付先事業所).
    pub organization_id: Option<OrganizationRef>,
    /// The person who received it (受領した担当者), e.g. サービス管理責任者 佐藤.
    pub received_by: Option<String>,
}

/// A point of a three-point brief, citing the observations it rests on.
#[derive(SimpleObject, InputObject, Clone, Debug, Serialize, Deserialize)]
#[graphql(input_name = "BriefPointInput")]
#[serde(rename_all = "camelCase")]
pub struct BriefPoint {
    /// The point, in a sentence or two.
    pub text: String,
    /// Global ids of the observations it rests on.
    #[graphql(default)]
    pub observation_ids: Vec<ObservationRef>,
    /// Marked by its writer as an impression (所感), not a fact: a point with no citation and
    /// nothing that passes the fact check is accepted only so marked, and shown as such.
    #[graphql(default)]
    #[serde(default)]
    pub impression: bool,
}

/// The three things a facility shares before a meeting (事前共有の3点).
#[derive(SimpleObject, InputObject, Clone, Debug, Default, Serialize, Deserialize)]
#[graphql(input_name = "BriefContentInput")]
#[serde(rename_all = "camelCase")]
pub struct BriefContent {
    /// The client's recent changes (最近の変化).
    #[graphql(default)]
    pub recent_changes: Vec<BriefPoint>,
    /// Stable points in support (安定ポイント).
    #[graphql(default)]
    pub stable_points: Vec<BriefPoint>,
    /// Unstable points in support (不安定ポイント).
    #[graphql(default)]
    pub unstable_points: Vec<BriefPoint>,
    /// What matters most in the next month (次の1ヶ月の方向).
    #[graphql(default)]
    pub focus_next_month: Vec<BriefPoint>,
}

impl BriefContent {
    /// Each part with its API name (`recentChanges` …), in the brief's order.
    pub fn parts(&self) -> [(&'static str, &[BriefPoint]); 4] {
        [
            ("recentChanges", &self.recent_changes),
            ("stablePoints", &self.stable_points),
            ("unstablePoints", &self.unstable_points),
            ("focusNextMonth", &self.focus_next_month),
        ]
    }

    pub fn points(&self) -> impl Iterator<Item = &BriefPoint> {
        self.recent_changes
            .iter()
            .chain(&self.stable_points)
            .chain(&self.unstable_points)
            .chain(&self.focus_next_month)
    }

    pub fn validate(&self) -> ApiResult<()> {
        if self.recent_changes.is_empty()
            || self.focus_next_month.is_empty()
            || (self.stable_points.is_empty() && self.unstable_points.is_empty())
        {
            return Err(ApiError::bad_input(
                "content",
                "A brief has all three parts: recent changes, stable or unstable points, and the focus for next month.",
            ));
        }
        if self.points().count() > 40 {
            return Err(ApiError::bad_input("content", "At most 40 points."));
        }
        for p in self.points() {
            req("content.text", &p.text, 1000)?;
            if p.observation_ids.len() > 20 {
                return Err(ApiError::bad_input(
                    "content.observationIds",
                    "Cite at most 20 observations per point.",
                ));
            }
        }
        Ok(())
    }
}

/// An attendee of a meeting (出席者), including the client and family.
#[derive(SimpleObject, InputObject, Clone, Debug, Serialize, Deserialize)]
#[graphql(input_name = "AttendeeInput")]
#[serde(rename_all = "camelCase")]
pub struct Attendee {
    /// Organization name, or 本人 / 家族.
    pub affiliation: String,
    /// Role (職種), e.g. サービス管理責任者.
    pub role: Option<String>,
    /// Name (氏名).
    pub name: String,
    /// False for an absentee (欠席).
    pub attended: bool,
    /// An absentee's written opinion (照会・意見).
    pub written_opinion: Option<String>,
}

/// A decision of a meeting, with who carries it out by when.
#[derive(SimpleObject, InputObject, Clone, Debug, Serialize, Deserialize)]
#[graphql(input_name = "DecisionInput")]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// What was decided.
    pub text: String,
    /// Global id of the organization responsible.
    pub owner_organization_id: OrganizationRef,
    /// Due date.
    pub due_on: Option<Date>,
}

/// Minutes of a meeting (会議録).
#[derive(SimpleObject, InputObject, Clone, Debug, Default, Serialize, Deserialize)]
#[graphql(input_name = "MinutesInput")]
#[serde(rename_all = "camelCase")]
pub struct Minutes {
    /// Items discussed and the discussion (検討内容).
    pub discussion: String,
    /// Conclusions (結論).
    pub conclusions: Option<String>,
    /// Decisions, each with an owner and a due date.
    #[graphql(default)]
    pub decisions: Vec<Decision>,
    /// Remaining issues (残された課題).
    pub remaining_issues: Option<String>,
    /// Date of the next meeting (次回開催予定).
    pub next_date: Option<Date>,
    /// When the meeting actually began (開催時間・開始); default the scheduled time.
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When the meeting ended (開催時間・終了); after its start.
    pub ended_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The meeting's number for this client (開催回数), e.g. 3 for the third.
    pub meeting_number: Option<i32>,
    /// Whether the client attended (本人の出席); if not, say why.
    pub client_attended: Option<bool>,
    /// Why the client did not attend (本人欠席の理由); required when `clientAttended` is false.
    pub client_absence_reason: Option<String>,
    /// Whether the family attended (家族の出席); if not, say why.
    pub family_attended: Option<bool>,
    /// Why the family did not attend (家族欠席の理由); required when `familyAttended` is false.
    pub family_absence_reason: Option<String>,
    /// Enquiries to those who could not attend (照会): to whom, when, and the answer.
    #[graphql(default)]
    #[serde(default)]
    pub enquiries: Vec<MeetingEnquiry>,
}

impl Minutes {
    pub fn validate(&self) -> ApiResult<()> {
        req("minutes.discussion", &self.discussion, 10_000)?;
        opt("minutes.conclusions", &self.conclusions, 4000)?;
        opt("minutes.remainingIssues", &self.remaining_issues, 4000)?;
        if self.decisions.len() > 30 {
            return Err(ApiError::bad_input(
                "minutes.decisions",
                "At most 30 decisions.",
            ));
        }
        for d in &self.decisions {
            req("minutes.decisions.text", &d.text, 1000)?;
        }
        forms::validate_minutes_forms(self)
    }
}

/// One goal row of a monitoring report.
#[derive(SimpleObject, InputObject, Clone, Debug, Default, Serialize, Deserialize)]
#[graphql(input_name = "MonitoringGoalRowInput")]
#[serde(rename_all = "camelCase")]
pub struct MonitoringGoalRow {
    /// The goal of the service-use plan (支援目標).
    pub goal: String,
    /// Service status as heard from the facility (サービス提供状況・事業者からの聞き取り).
    pub service_status_from_facility: Option<String>,
    /// The client's impression and satisfaction, in their own words (本人の感想・満足度).
    pub client_impression: Option<String>,
    /// Degree of achievement (達成度).
    pub achievement: Achievement,
    /// Remaining issues and how to solve them (今後の課題・解決方法).
    pub remaining_issues: Option<String>,
    /// Priority (優先順位), 1 first.
    pub priority: Option<i32>,
    /// Target date (達成時期).
    pub target_date: Option<Date>,
    /// This goal needs a change of service type (計画変更の必要性・サービス種類の変更).
    #[graphql(default)]
    #[serde(default)]
    pub change_service_type: bool,
    /// This goal needs a change of service amount (計画変更の必要性・サービス量の変更).
    #[graphql(default)]
    #[serde(default)]
    pub change_amount: bool,
    /// This goal needs a change of the weekly schedule (計画変更の必要性・週間計画の変更).
    #[graphql(default)]
    #[serde(default)]
    pub change_weekly_schedule: bool,
    /// Other notes (その他留意事項).
    pub other_notes: Option<String>,
}

/// The body of a monitoring report.
#[derive(SimpleObject, InputObject, Clone, Debug, Default, Serialize, Deserialize)]
#[graphql(input_name = "MonitoringContentInput")]
#[serde(rename_all = "camelCase")]
pub struct MonitoringContent {
    /// Overall situation (全体の状況).
    pub overall_situation: String,
    /// One row per goal of the active service-use plan.
    #[graphql(default)]
    pub goal_rows: Vec<MonitoringGoalRow>,
    /// The service type must change (サービス種類の変更).
    pub change_service_type: bool,
    /// The service amount must change (サービス量の変更).
    pub change_amount: bool,
    /// The weekly schedule must change (週間計画の変更).
    pub change_weekly_schedule: bool,
    /// Who was met and where (面接: 居宅訪問 / オンライン / 事業所).
    pub visit: Option<MonitoringVisit>,
    /// The client's confirmation of the report (本人の確認).
    pub client_confirmation: Option<ClientConfirmation>,
}

impl MonitoringContent {
    pub fn validate(&self) -> ApiResult<()> {
        req("content.overallSituation", &self.overall_situation, 4000)?;
        if self.goal_rows.len() > 20 {
            return Err(ApiError::bad_input(
                "content.goalRows",
                "At most 20 goal rows.",
            ));
        }
        for r in &self.goal_rows {
            req("content.goalRows.goal", &r.goal, 1000)?;
            for (f, v) in [
                (
                    "content.goalRows.serviceStatusFromFacility",
                    &r.service_status_from_facility,
                ),
                ("content.goalRows.clientImpression", &r.client_impression),
                ("content.goalRows.remainingIssues", &r.remaining_issues),
            ] {
                opt(f, v, 4000)?;
            }
        }
        forms::validate_monitoring_forms(self)
    }
}
