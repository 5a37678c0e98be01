//! Statutory records (法定の記録): physical restraint (身体拘束等), accidents and near misses
//! (事故・ヒヤリハット) and complaints (苦情) as structured records, and the audit summary
//! (実地指導用の集計). Rules and storage live in `service::statutory`; this module only maps
//! GraphQL to them.

use async_graphql::{Context, Enum, ID, Object, Union};
use chrono::{DateTime, Utc};
use entity::{accident_report, complaint_record, restraint_record};

use super::{
    Organization,
    client::Client,
    context::ContextExt,
    ids,
    observation::{RecordStatus, Visibility},
    scalars::Date,
    staff::StaffMember,
};
use crate::{
    error::ApiError,
    service::statutory::{accident, complaint, restraint},
};

pub(super) use super::{
    statutory_mutation::StatutoryMutation, statutory_summary::StatutorySummaryQuery,
};

/// Accident (事故) or near miss (ヒヤリハット).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::accident_report::AccidentKind")]
pub enum AccidentKind {
    /// An accident: someone was harmed or property damaged (事故).
    Accident,
    /// A near miss: it almost happened, no one was harmed (ヒヤリハット).
    NearMiss,
}

/// Who made a complaint, relative to the client (申出人の続柄).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::complaint_record::ComplainantRelationship")]
pub enum ComplainantRelationship {
    /// The client (本人).
    Client,
    /// Family or guardian (家族・保護者).
    Family,
    /// Someone else (その他).
    Other,
}

/// A statutory record of any kind (法定の記録).
#[derive(Union)]
pub(super) enum StatutoryRecord {
    RestraintRecord(RestraintRecord),
    AccidentReport(AccidentReport),
    ComplaintRecord(ComplaintRecord),
}

/// Loads the staff member who recorded a statutory record (記録者).
async fn recorder(ctx: &Context<'_>, id: uuid::Uuid) -> async_graphql::Result<StaffMember> {
    let s = ctx
        .loaders()?
        .staff_members
        .load_one(id)
        .await?
        .ok_or(ApiError::NotFound("Staff member"))?;
    Ok(StaffMember::new(s))
}

/// A physical restraint record (身体拘束等の記録).
#[derive(Clone)]
pub(crate) struct RestraintRecord(pub restraint_record::Model);

/// Physical restraint record (身体拘束等の記録): the form, the time, the client's condition and
/// the reason under the three requirements 切迫性・非代替性・一時性, each explained. Shared
/// beyond the writing facility only under a consent for `RESTRAINTS`.
#[Object]
impl RestraintRecord {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode("RestraintRecord", self.0.id)
    }
    /// The client (本人).
    async fn client(&self, ctx: &Context<'_>) -> async_graphql::Result<Client> {
        Client::load(ctx, self.0.client_id).await
    }
    /// The facility that restrained and recorded it (記録した事業所).
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        Organization::load(ctx, self.0.organization_id).await
    }
    /// Who recorded it (記録者).
    async fn recorder(&self, ctx: &Context<'_>) -> async_graphql::Result<StaffMember> {
        recorder(ctx, self.0.recorder_staff_member_id).await
    }
    /// Version number, starting at 1.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Form of restraint (態様), e.g. 車椅子のベルト.
    async fn form(&self) -> &str {
        &self.0.form
    }
    /// When it began (開始時間).
    async fn started_at(&self) -> DateTime<Utc> {
        self.0.started_at
    }
    /// When it ended (終了時間).
    async fn ended_at(&self) -> DateTime<Utc> {
        self.0.ended_at
    }
    /// How long it lasted, in whole minutes rounded up (拘束時間).
    async fn duration_minutes(&self) -> i32 {
        self.0.duration_minutes
    }
    /// The client's physical and mental condition at the time (心身の状況).
    async fn client_condition(&self) -> &str {
        &self.0.client_condition
    }
    /// Urgency (切迫性): why the life or body of the client or others was in imminent danger.
    async fn urgency(&self) -> &str {
        &self.0.urgency
    }
    /// Non-substitutability (非代替性): why no other means of care would do.
    async fn non_substitutability(&self) -> &str {
        &self.0.non_substitutability
    }
    /// Temporariness (一時性): why the restraint was only temporary.
    async fn temporariness(&self) -> &str {
        &self.0.temporariness
    }
    /// When the family was told (家族への説明日時); null while not yet told.
    async fn family_explained_at(&self) -> Option<DateTime<Utc>> {
        self.0.family_explained_at
    }
    /// What the family was told (家族への説明内容); null while not yet told.
    async fn family_explanation(&self) -> Option<&str> {
        self.0.family_explanation.as_deref()
    }
    /// Who besides the writing facility may read it (公開範囲); consent must also cover it.
    async fn visibility(&self) -> Visibility {
        self.0.visibility.into()
    }
    /// When it was written (記録日時); the gap to `startedAt` is the information lag.
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
    /// In force, or marked entered-in-error (記載誤り); never deleted.
    async fn record_status(&self) -> RecordStatus {
        self.0.status.into()
    }
    /// Why it was marked entered-in-error (記載誤りの理由); null while in force.
    async fn entered_in_error_reason(&self) -> Option<&str> {
        self.0.entered_in_error_reason.as_deref()
    }
}

/// An accident or near-miss report (事故・ヒヤリハット報告).
#[derive(Clone)]
pub(crate) struct AccidentReport(pub accident_report::Model);

/// Accident or near-miss report (事故・ヒヤリハット報告): when and where, what happened, what
/// staff did, the reports to the family and the municipality, and measures against recurrence.
/// Shared beyond the writing facility only under a consent for `ACCIDENTS`.
#[Object]
impl AccidentReport {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode("AccidentReport", self.0.id)
    }
    /// The client (本人).
    async fn client(&self, ctx: &Context<'_>) -> async_graphql::Result<Client> {
        Client::load(ctx, self.0.client_id).await
    }
    /// The facility that reported it (報告した事業所).
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        Organization::load(ctx, self.0.organization_id).await
    }
    /// Who recorded it (記録者).
    async fn recorder(&self, ctx: &Context<'_>) -> async_graphql::Result<StaffMember> {
        recorder(ctx, self.0.recorder_staff_member_id).await
    }
    /// Version number, starting at 1.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Accident or near miss (事故／ヒヤリハット).
    async fn accident_kind(&self) -> AccidentKind {
        self.0.kind.into()
    }
    /// Accident or near miss.
    #[graphql(
        deprecation = "Use `accidentKind`: `kind` has other types on Organization, Meeting and SupportPlan, so it cannot be selected together with theirs in `Node`."
    )]
    async fn kind(&self) -> AccidentKind {
        self.0.kind.into()
    }
    /// When it happened (発生日時); reporting deadlines run from here.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    /// Where it happened (発生場所).
    async fn location(&self) -> &str {
        &self.0.place
    }
    /// What happened (発生状況).
    async fn situation(&self) -> &str {
        &self.0.situation
    }
    /// What staff did (対応).
    async fn action_taken(&self) -> &str {
        &self.0.response
    }
    /// When the family was told (家族への報告日時); null while not yet.
    async fn family_reported_at(&self) -> Option<DateTime<Utc>> {
        self.0.family_reported_at
    }
    /// When the municipality was told (市町村への報告日時); null while not reported.
    async fn municipality_reported_at(&self) -> Option<DateTime<Utc>> {
        self.0.municipality_reported_at
    }
    /// Measures against recurrence (再発防止策); null until decided.
    async fn prevention_measures(&self) -> Option<&str> {
        self.0.prevention_measures.as_deref()
    }
    /// Who besides the writing facility may read it (公開範囲); consent must also cover it.
    async fn visibility(&self) -> Visibility {
        self.0.visibility.into()
    }
    /// When it was written (記録日時).
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
    /// In force, or marked entered-in-error (記載誤り); never deleted.
    async fn record_status(&self) -> RecordStatus {
        self.0.status.into()
    }
    /// Why it was marked entered-in-error (記載誤りの理由); null while in force.
    async fn entered_in_error_reason(&self) -> Option<&str> {
        self.0.entered_in_error_reason.as_deref()
    }
}

/// A complaint record (苦情の記録).
#[derive(Clone)]
pub(crate) struct ComplaintRecord(pub complaint_record::Model);

/// Complaint record (苦情の記録): received (受付), handled (対応) and resolved (結果). Shared
/// beyond the receiving organization only under a consent for `COMPLAINTS`.
#[Object]
impl ComplaintRecord {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode("ComplaintRecord", self.0.id)
    }
    /// The client (本人).
    async fn client(&self, ctx: &Context<'_>) -> async_graphql::Result<Client> {
        Client::load(ctx, self.0.client_id).await
    }
    /// The organization that received it (受け付けた事業所).
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        Organization::load(ctx, self.0.organization_id).await
    }
    /// Who recorded it (記録者).
    async fn recorder(&self, ctx: &Context<'_>) -> async_graphql::Result<StaffMember> {
        recorder(ctx, self.0.recorder_staff_member_id).await
    }
    /// Version number, starting at 1; pass it back as `expectedVersion` when resolving.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The day it was received (受付日).
    async fn received_on(&self) -> Date {
        Date(self.0.received_on)
    }
    /// Who made it (申出人).
    async fn complainant(&self) -> &str {
        &self.0.complainant
    }
    /// The complainant's relation to the client (申出人の続柄).
    async fn complainant_relationship(&self) -> ComplainantRelationship {
        self.0.complainant_relationship.into()
    }
    /// What the complaint says (苦情の内容).
    async fn details(&self) -> &str {
        &self.0.content
    }
    /// What was done about it (対応); null until something was.
    async fn response(&self) -> Option<&str> {
        self.0.response.as_deref()
    }
    /// How it ended (結果); null while open.
    async fn result(&self) -> Option<&str> {
        self.0.result.as_deref()
    }
    /// The day it was resolved (解決日); null while open.
    async fn resolved_on(&self) -> Option<Date> {
        self.0.resolved_on.map(Date)
    }
    /// True until it is resolved (未解決).
    async fn open(&self) -> bool {
        self.0.resolved_on.is_none()
    }
    /// Who besides the receiving organization may read it (公開範囲); consent must also cover it.
    async fn visibility(&self) -> Visibility {
        self.0.visibility.into()
    }
    /// When it was written (記録日時).
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
    /// In force, or marked entered-in-error (記載誤り); never deleted.
    async fn record_status(&self) -> RecordStatus {
        self.0.status.into()
    }
    /// Why it was marked entered-in-error (記載誤りの理由); null while in force.
    async fn entered_in_error_reason(&self) -> Option<&str> {
        self.0.entered_in_error_reason.as_deref()
    }
}

#[derive(Default)]
pub(super) struct StatutoryQuery;

#[Object]
impl StatutoryQuery {
    /// One physical restraint record (身体拘束等の記録). `NOT_FOUND` when it does not exist or you
    /// may not see it.
    async fn restraint_record(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The record's global id.")] id: ID,
    ) -> async_graphql::Result<RestraintRecord> {
        let id = ids::decode("RestraintRecord", "id", &id)?;
        Ok(RestraintRecord(
            restraint::get(ctx.state()?, ctx.viewer()?, id).await?,
        ))
    }

    /// One accident or near-miss report (事故・ヒヤリハット報告). `NOT_FOUND` when it does not
    /// exist or you may not see it.
    async fn accident_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The report's global id.")] id: ID,
    ) -> async_graphql::Result<AccidentReport> {
        let id = ids::decode("AccidentReport", "id", &id)?;
        Ok(AccidentReport(
            accident::get(ctx.state()?, ctx.viewer()?, id).await?,
        ))
    }

    /// One complaint record (苦情の記録). `NOT_FOUND` when it does not exist or you may not
    /// see it.
    async fn complaint_record(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The record's global id.")] id: ID,
    ) -> async_graphql::Result<ComplaintRecord> {
        let id = ids::decode("ComplaintRecord", "id", &id)?;
        Ok(ComplaintRecord(
            complaint::get(ctx.state()?, ctx.viewer()?, id).await?,
        ))
    }
}
