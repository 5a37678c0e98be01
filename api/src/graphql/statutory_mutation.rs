//! Statutory record mutations (法定の記録の登録・追記): the inputs and payloads of
//! `recordRestraint`, `reportAccident`, `recordComplaint` and their follow-ups.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::{
    context::ContextExt,
    ids,
    observation::Visibility,
    scalars::Date,
    statutory::{
        AccidentKind, AccidentReport, ComplainantRelationship, ComplaintRecord, RestraintRecord,
        StatutoryRecord,
    },
};
use crate::error::ApiError;
use crate::service::statutory::{
    accident::{self, FollowUp, NewAccident},
    complaint::{self, NewComplaint, Resolution},
    correction::{self, Kind, Marked},
    restraint::{self, FamilyExplanation, NewRestraint},
};

/// Input of `recordRestraint` (身体拘束等の記録). Every text is required and must not be blank;
/// a record without any one of the three requirements is refused with `BAD_USER_INPUT` naming it.
#[derive(InputObject)]
pub(super) struct RecordRestraintInput {
    /// The client's global id.
    pub client_id: ID,
    /// Form of restraint (態様), e.g. 車椅子のベルト.
    pub form: String,
    /// When it began (開始時間); not in the future.
    pub started_at: DateTime<Utc>,
    /// When it ended (終了時間); after `startedAt`, at most 24 hours later.
    pub ended_at: DateTime<Utc>,
    /// The client's physical and mental condition (心身の状況).
    pub client_condition: String,
    /// Urgency (切迫性): why the danger was imminent.
    pub urgency: String,
    /// Non-substitutability (非代替性): why no other means would do.
    pub non_substitutability: String,
    /// Temporariness (一時性): why it was only temporary.
    pub temporariness: String,
    /// When the family was told (家族への説明日時); give it with `familyExplanation`.
    pub family_explained_at: Option<DateTime<Utc>>,
    /// What the family was told (家族への説明内容); give it with `familyExplainedAt`.
    pub family_explanation: Option<String>,
    /// Who besides your facility may read it (default: `CONSULTATION`); consent must also cover it.
    #[graphql(default_with = "Visibility::Consultation")]
    pub visibility: Visibility,
}

/// Input of `reportAccident` (事故・ヒヤリハット報告).
#[derive(InputObject)]
pub(super) struct ReportAccidentInput {
    /// The client's global id.
    pub client_id: ID,
    /// Accident or near miss (事故／ヒヤリハット).
    pub kind: AccidentKind,
    /// When it happened (発生日時); not in the future.
    pub occurred_at: DateTime<Utc>,
    /// Where it happened (発生場所).
    pub location: String,
    /// What happened (発生状況).
    pub situation: String,
    /// What staff did (対応).
    pub action_taken: String,
    /// When the family was told (家族への報告日時); not before `occurredAt`.
    pub family_reported_at: Option<DateTime<Utc>>,
    /// When the municipality was told (市町村への報告日時); accidents only, not before `occurredAt`.
    pub municipality_reported_at: Option<DateTime<Utc>>,
    /// Measures against recurrence (再発防止策).
    pub prevention_measures: Option<String>,
    /// Who besides your facility may read it (default: `CONSULTATION`); consent must also cover it.
    #[graphql(default_with = "Visibility::Consultation")]
    pub visibility: Visibility,
}

/// Input of `recordComplaint` (苦情の受付).
#[derive(InputObject)]
pub(super) struct RecordComplaintInput {
    /// The client's global id.
    pub client_id: ID,
    /// The day it was received (受付日); not in the future.
    pub received_on: Date,
    /// Who made it (申出人).
    pub complainant: String,
    /// The complainant's relation to the client (申出人の続柄).
    pub complainant_relationship: ComplainantRelationship,
    /// What the complaint says (苦情の内容).
    pub details: String,
    /// What has been done so far (対応).
    pub response: Option<String>,
    /// Who besides your organization may read it (default: `INTERNAL`); consent must also cover it.
    #[graphql(default_with = "Visibility::Internal")]
    pub visibility: Visibility,
}

/// Input of `resolveComplaint` (苦情の解決).
#[derive(InputObject)]
pub(super) struct ResolveComplaintInput {
    /// The complaint's global id.
    pub complaint_id: ID,
    /// The version you are resolving; a stale one is `CONFLICT`.
    pub expected_version: i32,
    /// What was done (対応).
    pub response: String,
    /// How it ended (結果).
    pub result: String,
    /// The day it was resolved (解決日); between `receivedOn` and today.
    pub resolved_on: Date,
}

/// Input of `recordRestraintFamilyExplanation` (家族への説明の追記).
#[derive(InputObject)]
pub(super) struct RecordRestraintFamilyExplanationInput {
    /// The restraint record's global id.
    pub restraint_id: ID,
    /// The version you are changing; a stale one is `CONFLICT`.
    pub expected_version: i32,
    /// When the family was told (家族への説明日時); not before the restraint began.
    pub explained_at: DateTime<Utc>,
    /// What the family was told (家族への説明内容).
    pub explanation: String,
}

/// Input of `followUpAccidentReport` (報告・再発防止策の追記). Each value given replaces the
/// stored one; omitted ones are kept. At least one is required.
#[derive(InputObject)]
pub(super) struct FollowUpAccidentReportInput {
    /// The accident report's global id.
    pub accident_id: ID,
    /// The version you are changing; a stale one is `CONFLICT`.
    pub expected_version: i32,
    /// When the family was told (家族への報告日時); not before `occurredAt`.
    pub family_reported_at: Option<DateTime<Utc>>,
    /// When the municipality was told (市町村への報告日時); accidents only.
    pub municipality_reported_at: Option<DateTime<Utc>>,
    /// Measures against recurrence (再発防止策).
    pub prevention_measures: Option<String>,
}

/// Input of `markStatutoryRecordEnteredInError` (法定記録の記載誤り).
#[derive(InputObject)]
pub(super) struct MarkStatutoryRecordEnteredInErrorInput {
    /// The global id of a `RestraintRecord`, `AccidentReport` or `ComplaintRecord`.
    pub record_id: ID,
    /// The version you are marking; a stale one is `CONFLICT`.
    pub expected_version: i32,
    /// Why it is wrong (記載誤りの理由), e.g. 別の利用者の記録だった.
    pub reason: String,
}

/// Result of `markStatutoryRecordEnteredInError`.
#[derive(SimpleObject)]
pub(super) struct StatutoryRecordPayload {
    /// The record after the change.
    pub record: StatutoryRecord,
}

/// Result of `recordRestraint` and `recordRestraintFamilyExplanation`.
#[derive(SimpleObject)]
pub(super) struct RestraintRecordPayload {
    /// The stored record.
    pub restraint_record: RestraintRecord,
}

/// Result of `reportAccident` and `followUpAccidentReport`.
#[derive(SimpleObject)]
pub(super) struct AccidentReportPayload {
    /// The stored report.
    pub accident_report: AccidentReport,
}

/// Result of `recordComplaint` and `resolveComplaint`.
#[derive(SimpleObject)]
pub(super) struct ComplaintRecordPayload {
    /// The complaint after the change.
    pub complaint_record: ComplaintRecord,
}

#[derive(Default)]
pub(super) struct StatutoryMutation;

#[Object]
impl StatutoryMutation {
    /// Records a physical restraint (身体拘束等の記録) for your facility. Any staff of a facility
    /// serving the client today; all three requirements (切迫性・非代替性・一時性) must be explained.
    async fn record_restraint(
        &self,
        ctx: &Context<'_>,
        input: RecordRestraintInput,
    ) -> async_graphql::Result<RestraintRecordPayload> {
        let viewer = ctx.viewer()?;
        let client_id = ids::decode("Client", "clientId", &input.client_id)?;
        let model = restraint::record(
            ctx.state()?,
            viewer,
            NewRestraint {
                client_id,
                form: input.form,
                started_at: input.started_at,
                ended_at: input.ended_at,
                client_condition: input.client_condition,
                urgency: input.urgency,
                non_substitutability: input.non_substitutability,
                temporariness: input.temporariness,
                family_explained_at: input.family_explained_at,
                family_explanation: input.family_explanation,
                visibility: input.visibility.into(),
            },
        )
        .await?;
        Ok(RestraintRecordPayload {
            restraint_record: RestraintRecord(model),
        })
    }

    /// Reports an accident or near miss (事故・ヒヤリハット報告) for your facility. Any staff of a
    /// facility serving the client today.
    async fn report_accident(
        &self,
        ctx: &Context<'_>,
        input: ReportAccidentInput,
    ) -> async_graphql::Result<AccidentReportPayload> {
        let viewer = ctx.viewer()?;
        let client_id = ids::decode("Client", "clientId", &input.client_id)?;
        let model = accident::record(
            ctx.state()?,
            viewer,
            NewAccident {
                client_id,
                kind: input.kind.into(),
                occurred_at: input.occurred_at,
                place: input.location,
                situation: input.situation,
                response: input.action_taken,
                family_reported_at: input.family_reported_at,
                municipality_reported_at: input.municipality_reported_at,
                prevention_measures: input.prevention_measures,
                visibility: input.visibility.into(),
            },
        )
        .await?;
        Ok(AccidentReportPayload {
            accident_report: AccidentReport(model),
        })
    }

    /// Adds the explanation to the family (家族への説明) to a restraint record that has none:
    /// its recorder, or a service manager or admin of the facility.
    async fn record_restraint_family_explanation(
        &self,
        ctx: &Context<'_>,
        input: RecordRestraintFamilyExplanationInput,
    ) -> async_graphql::Result<RestraintRecordPayload> {
        let viewer = ctx.viewer()?;
        let id = ids::decode("RestraintRecord", "restraintId", &input.restraint_id)?;
        let model = restraint::explain_to_family(
            ctx.state()?,
            viewer,
            FamilyExplanation {
                id,
                expected_version: input.expected_version,
                explained_at: input.explained_at,
                explanation: input.explanation,
            },
        )
        .await?;
        Ok(RestraintRecordPayload {
            restraint_record: RestraintRecord(model),
        })
    }

    /// Adds the reports to the family and the municipality, or the measures against recurrence,
    /// to an accident report (報告・再発防止策の追記): its recorder, or a service manager or admin
    /// of the facility.
    async fn follow_up_accident_report(
        &self,
        ctx: &Context<'_>,
        input: FollowUpAccidentReportInput,
    ) -> async_graphql::Result<AccidentReportPayload> {
        let viewer = ctx.viewer()?;
        let id = ids::decode("AccidentReport", "accidentId", &input.accident_id)?;
        let model = accident::follow_up_report(
            ctx.state()?,
            viewer,
            FollowUp {
                id,
                expected_version: input.expected_version,
                family_reported_at: input.family_reported_at,
                municipality_reported_at: input.municipality_reported_at,
                prevention_measures: input.prevention_measures,
            },
        )
        .await?;
        Ok(AccidentReportPayload {
            accident_report: AccidentReport(model),
        })
    }

    /// Marks a restraint, accident or complaint record entered-in-error (記載誤り): it is kept,
    /// leaves the history and the `statutorySummary`, and cannot change any more. Its recorder, or a
    /// service manager or admin of the writing organization.
    async fn mark_statutory_record_entered_in_error(
        &self,
        ctx: &Context<'_>,
        input: MarkStatutoryRecordEnteredInErrorInput,
    ) -> async_graphql::Result<StatutoryRecordPayload> {
        let viewer = ctx.viewer()?;
        let (type_name, id) = ids::decode_any("recordId", &input.record_id)?;
        let kind = match type_name.as_str() {
            "RestraintRecord" => Kind::Restraint,
            "AccidentReport" => Kind::Accident,
            "ComplaintRecord" => Kind::Complaint,
            _ => {
                return Err(ApiError::bad_input(
                    "recordId",
                    "recordId must name a RestraintRecord, AccidentReport or ComplaintRecord.",
                )
                .into());
            }
        };
        let marked = correction::mark_entered_in_error(
            ctx.state()?,
            viewer,
            kind,
            id,
            input.expected_version,
            &input.reason,
        )
        .await?;
        Ok(StatutoryRecordPayload {
            record: match marked {
                Marked::Restraint(r) => StatutoryRecord::RestraintRecord(RestraintRecord(r)),
                Marked::Accident(a) => StatutoryRecord::AccidentReport(AccidentReport(a)),
                Marked::Complaint(c) => StatutoryRecord::ComplaintRecord(ComplaintRecord(c)),
            },
        })
    }

    /// Records a complaint received by your organization (苦情の受付). Any staff of a current
    /// care-team member.
    async fn record_complaint(
        &self,
        ctx: &Context<'_>,
        input: RecordComplaintInput,
    ) -> async_graphql::Result<ComplaintRecordPayload> {
        let viewer = ctx.viewer()?;
        let client_id = ids::decode("Client", "clientId", &input.client_id)?;
        let model = complaint::record(
            ctx.state()?,
            viewer,
            NewComplaint {
                client_id,
                received_on: input.received_on.0,
                complainant: input.complainant,
                complainant_relationship: input.complainant_relationship.into(),
                content: input.details,
                response: input.response,
                visibility: input.visibility.into(),
            },
        )
        .await?;
        Ok(ComplaintRecordPayload {
            complaint_record: ComplaintRecord(model),
        })
    }

    /// Resolves an open complaint (苦情の解決): its recorder, or a service manager, consultation
    /// specialist or admin of the organization that received it.
    async fn resolve_complaint(
        &self,
        ctx: &Context<'_>,
        input: ResolveComplaintInput,
    ) -> async_graphql::Result<ComplaintRecordPayload> {
        let viewer = ctx.viewer()?;
        let id = ids::decode("ComplaintRecord", "complaintId", &input.complaint_id)?;
        let model = complaint::resolve(
            ctx.state()?,
            viewer,
            Resolution {
                id,
                expected_version: input.expected_version,
                response: input.response,
                result: input.result,
                resolved_on: input.resolved_on.0,
            },
        )
        .await?;
        Ok(ComplaintRecordPayload {
            complaint_record: ComplaintRecord(model),
        })
    }
}
