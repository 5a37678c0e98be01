//! Statutory records (法定の記録) with their own structure instead of free-text safeguarding
//! observations: physical restraint (身体拘束等), accidents and near misses (事故・ヒヤリハット)
//! and complaints (苦情). Additive: three new tables, each indexed for the filters the API exposes
//! (a client's records by time, an organization's records in a period for the audit summary).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: &[&'static str],
) -> Result<(), DbErr> {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for c in cols {
        idx.col(Alias::new(*c));
    }
    manager.create_index(idx.to_owned()).await
}

fn fk(
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    to_col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(to_table, to_col)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use RestraintRecords as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(pk_uuid(R::Id))
                    .col(uuid(R::ClientId))
                    .col(uuid(R::OrganizationId))
                    .col(uuid(R::RecorderStaffMemberId))
                    .col(integer(R::Version))
                    .col(text(R::Form))
                    .col(timestamp_with_time_zone(R::StartedAt))
                    .col(timestamp_with_time_zone(R::EndedAt))
                    .col(integer(R::DurationMinutes))
                    .col(text(R::ClientCondition))
                    .col(text(R::Urgency))
                    .col(text(R::NonSubstitutability))
                    .col(text(R::Temporariness))
                    .col(timestamp_with_time_zone_null(R::FamilyExplainedAt))
                    .col(text_null(R::FamilyExplanation))
                    .col(string(R::Visibility))
                    .col(string(R::Status))
                    .col(text_null(R::EnteredInErrorReason))
                    .col(timestamp_with_time_zone(R::RecordedAt))
                    .col(timestamp_with_time_zone(R::UpdatedAt))
                    .foreign_key(&mut fk(R::Table, R::ClientId, Clients::Table, Clients::Id))
                    .foreign_key(&mut fk(
                        R::Table,
                        R::OrganizationId,
                        Organizations::Table,
                        Organizations::Id,
                    ))
                    .foreign_key(&mut fk(
                        R::Table,
                        R::RecorderStaffMemberId,
                        StaffMembers::Table,
                        StaffMembers::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_restraint_records_client",
            R::Table,
            &["client_id", "started_at"],
        )
        .await?;
        index(
            manager,
            "idx_restraint_records_org",
            R::Table,
            &["organization_id", "started_at"],
        )
        .await?;

        use AccidentReports as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(pk_uuid(A::Id))
                    .col(uuid(A::ClientId))
                    .col(uuid(A::OrganizationId))
                    .col(uuid(A::RecorderStaffMemberId))
                    .col(integer(A::Version))
                    .col(string(A::Kind))
                    .col(timestamp_with_time_zone(A::OccurredAt))
                    .col(text(A::Place))
                    .col(text(A::Situation))
                    .col(text(A::Response))
                    .col(timestamp_with_time_zone_null(A::FamilyReportedAt))
                    .col(timestamp_with_time_zone_null(A::MunicipalityReportedAt))
                    .col(text_null(A::PreventionMeasures))
                    .col(string(A::Visibility))
                    .col(string(A::Status))
                    .col(text_null(A::EnteredInErrorReason))
                    .col(timestamp_with_time_zone(A::RecordedAt))
                    .col(timestamp_with_time_zone(A::UpdatedAt))
                    .foreign_key(&mut fk(A::Table, A::ClientId, Clients::Table, Clients::Id))
                    .foreign_key(&mut fk(
                        A::Table,
                        A::OrganizationId,
                        Organizations::Table,
                        Organizations::Id,
                    ))
                    .foreign_key(&mut fk(
                        A::Table,
                        A::RecorderStaffMemberId,
                        StaffMembers::Table,
                        StaffMembers::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_accident_reports_client",
            A::Table,
            &["client_id", "occurred_at"],
        )
        .await?;
        index(
            manager,
            "idx_accident_reports_org",
            A::Table,
            &["organization_id", "occurred_at"],
        )
        .await?;

        use ComplaintRecords as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(pk_uuid(C::Id))
                    .col(uuid(C::ClientId))
                    .col(uuid(C::OrganizationId))
                    .col(uuid(C::RecorderStaffMemberId))
                    .col(integer(C::Version))
                    .col(date(C::ReceivedOn))
                    .col(text(C::Complainant))
                    .col(string(C::ComplainantRelationship))
                    .col(text(C::Content))
                    .col(text_null(C::Response))
                    .col(text_null(C::Result))
                    .col(date_null(C::ResolvedOn))
                    .col(string(C::Visibility))
                    .col(string(C::Status))
                    .col(text_null(C::EnteredInErrorReason))
                    .col(timestamp_with_time_zone(C::RecordedAt))
                    .col(timestamp_with_time_zone(C::UpdatedAt))
                    .foreign_key(&mut fk(C::Table, C::ClientId, Clients::Table, Clients::Id))
                    .foreign_key(&mut fk(
                        C::Table,
                        C::OrganizationId,
                        Organizations::Table,
                        Organizations::Id,
                    ))
                    .foreign_key(&mut fk(
                        C::Table,
                        C::RecorderStaffMemberId,
                        StaffMembers::Table,
                        StaffMembers::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_complaint_records_client",
            C::Table,
            &["client_id", "received_on"],
        )
        .await?;
        index(
            manager,
            "idx_complaint_records_org",
            C::Table,
            &["organization_id", "received_on"],
        )
        .await
    }
}

#[derive(DeriveIden)]
enum RestraintRecords {
    Table,
    Id,
    ClientId,
    OrganizationId,
    RecorderStaffMemberId,
    Version,
    Form,
    StartedAt,
    EndedAt,
    DurationMinutes,
    ClientCondition,
    Urgency,
    NonSubstitutability,
    Temporariness,
    FamilyExplainedAt,
    FamilyExplanation,
    Visibility,
    Status,
    EnteredInErrorReason,
    RecordedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AccidentReports {
    Table,
    Id,
    ClientId,
    OrganizationId,
    RecorderStaffMemberId,
    Version,
    Kind,
    OccurredAt,
    Place,
    Situation,
    Response,
    FamilyReportedAt,
    MunicipalityReportedAt,
    PreventionMeasures,
    Visibility,
    Status,
    EnteredInErrorReason,
    RecordedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ComplaintRecords {
    Table,
    Id,
    ClientId,
    OrganizationId,
    RecorderStaffMemberId,
    Version,
    ReceivedOn,
    Complainant,
    ComplainantRelationship,
    Content,
    Response,
    Result,
    ResolvedOn,
    Visibility,
    Status,
    EnteredInErrorReason,
    RecordedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum StaffMembers {
    Table,
    Id,
}
