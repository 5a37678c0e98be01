//! Support plans with versions, meetings, three-point briefs, monitoring reports, and the client
//! timeline that the history query reads (backfilled from observations and consents).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut idx = Index::create();
    idx.name(name).table(table);
    if unique {
        idx.unique();
    }
    for c in cols {
        idx.col(Alias::new(*c));
    }
    manager.create_index(idx.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SupportPlans::Table)
                    .col(pk_uuid(SupportPlans::Id))
                    .col(uuid(SupportPlans::ClientId))
                    .col(uuid(SupportPlans::OrganizationId))
                    .col(string(SupportPlans::Kind))
                    .col(uuid_null(SupportPlans::BasedOnPlanId))
                    .col(string(SupportPlans::Status))
                    .col(integer(SupportPlans::Version))
                    .col(string_null(SupportPlans::ServiceType))
                    .col(date(SupportPlans::PeriodFrom))
                    .col(date_null(SupportPlans::PeriodTo))
                    .col(date_null(SupportPlans::ActivatedOn))
                    .col(json(SupportPlans::Content))
                    .col(json(SupportPlans::Record))
                    .col(uuid(SupportPlans::CreatedByStaffMemberId))
                    .col(timestamp_with_time_zone(SupportPlans::CreatedAt))
                    .col(uuid(SupportPlans::UpdatedByStaffMemberId))
                    .col(timestamp_with_time_zone(SupportPlans::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_support_plans_client",
            SupportPlans::Table,
            &["client_id", "kind", "id"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_support_plans_org",
            SupportPlans::Table,
            &["organization_id", "id"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(SupportPlanVersions::Table)
                    .col(pk_uuid(SupportPlanVersions::Id))
                    .col(uuid(SupportPlanVersions::PlanId))
                    .col(integer(SupportPlanVersions::Version))
                    .col(string(SupportPlanVersions::Status))
                    .col(date(SupportPlanVersions::PeriodFrom))
                    .col(date_null(SupportPlanVersions::PeriodTo))
                    .col(json(SupportPlanVersions::Content))
                    .col(json(SupportPlanVersions::Record))
                    .col(uuid(SupportPlanVersions::EditedByStaffMemberId))
                    .col(timestamp_with_time_zone(SupportPlanVersions::EditedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_support_plan_versions_unique",
            SupportPlanVersions::Table,
            &["plan_id", "version"],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Meetings::Table)
                    .col(pk_uuid(Meetings::Id))
                    .col(uuid(Meetings::ClientId))
                    .col(uuid(Meetings::OrganizationId))
                    .col(string(Meetings::Kind))
                    .col(string(Meetings::Status))
                    .col(integer(Meetings::Version))
                    .col(timestamp_with_time_zone(Meetings::ScheduledAt))
                    .col(string_null(Meetings::Place))
                    .col(boolean(Meetings::Online))
                    .col(json(Meetings::InvitedOrganizationIds))
                    .col(text_null(Meetings::Agenda))
                    .col(json(Meetings::Attendance))
                    .col(json_null(Meetings::Minutes))
                    .col(text_null(Meetings::Direction))
                    .col(text_null(Meetings::DirectionChangeReason))
                    .col(uuid(Meetings::CreatedByStaffMemberId))
                    .col(timestamp_with_time_zone(Meetings::CreatedAt))
                    .col(timestamp_with_time_zone(Meetings::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_meetings_client",
            Meetings::Table,
            &["client_id", "scheduled_at"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(MeetingBriefs::Table)
                    .col(pk_uuid(MeetingBriefs::Id))
                    .col(uuid(MeetingBriefs::MeetingId))
                    .col(uuid(MeetingBriefs::ClientId))
                    .col(uuid(MeetingBriefs::OrganizationId))
                    .col(json(MeetingBriefs::Content))
                    .col(integer(MeetingBriefs::Version))
                    .col(uuid(MeetingBriefs::SubmittedByStaffMemberId))
                    .col(timestamp_with_time_zone(MeetingBriefs::SubmittedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_meeting_briefs_unique",
            MeetingBriefs::Table,
            &["meeting_id", "organization_id"],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(MonitoringReports::Table)
                    .col(pk_uuid(MonitoringReports::Id))
                    .col(uuid(MonitoringReports::ClientId))
                    .col(uuid(MonitoringReports::OrganizationId))
                    .col(uuid_null(MonitoringReports::PlanId))
                    .col(date(MonitoringReports::MonitoredOn))
                    .col(string(MonitoringReports::Method))
                    .col(string(MonitoringReports::Outcome))
                    .col(json(MonitoringReports::Content))
                    .col(uuid(MonitoringReports::AuthorStaffMemberId))
                    .col(timestamp_with_time_zone(MonitoringReports::CreatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_monitoring_reports_client",
            MonitoringReports::Table,
            &["client_id", "monitored_on"],
            false,
        )
        .await?;

        // One row per item of a client's history, carrying what visibility needs, so the history
        // is one indexed keyset query whatever the mix of record kinds.
        manager
            .create_table(
                Table::create()
                    .table(TimelineEntries::Table)
                    .col(string(TimelineEntries::Kind))
                    .col(uuid(TimelineEntries::RecordId))
                    .col(uuid(TimelineEntries::ClientId))
                    .col(timestamp_with_time_zone(TimelineEntries::OccurredAt))
                    .col(uuid(TimelineEntries::OrganizationId))
                    .col(string(TimelineEntries::Visibility))
                    .col(string_null(TimelineEntries::DataCategory))
                    .col(string_null(TimelineEntries::Category))
                    .col(string(TimelineEntries::Status))
                    .primary_key(
                        Index::create()
                            .col(TimelineEntries::Kind)
                            .col(TimelineEntries::RecordId),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_timeline_client_time",
            TimelineEntries::Table,
            &["client_id", "occurred_at", "record_id"],
            false,
        )
        .await?;

        // Backfill what already exists.
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO timeline_entries (kind, record_id, client_id, occurred_at, organization_id, visibility, data_category, category, status) \
             SELECT 'OBSERVATION', id, client_id, occurred_from, organization_id, visibility, 'OBSERVATIONS', category, status FROM observations",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO timeline_entries (kind, record_id, client_id, occurred_at, organization_id, visibility, data_category, category, status) \
             SELECT 'CONSENT_GRANTED', id, client_id, created_at, recorded_by_organization_id, 'CARE_TEAM', NULL, NULL, 'CURRENT' FROM sharing_consents",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO timeline_entries (kind, record_id, client_id, occurred_at, organization_id, visibility, data_category, category, status) \
             SELECT 'CONSENT_REVOKED', id, client_id, revoked_at, recorded_by_organization_id, 'CARE_TEAM', NULL, NULL, 'CURRENT' FROM sharing_consents WHERE revoked_at IS NOT NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "migrations are forward-only; restore a backup to go back".into(),
        ))
    }
}

#[derive(DeriveIden)]
enum SupportPlans {
    Table,
    Id,
    ClientId,
    OrganizationId,
    Kind,
    BasedOnPlanId,
    Status,
    Version,
    ServiceType,
    PeriodFrom,
    PeriodTo,
    ActivatedOn,
    Content,
    Record,
    CreatedByStaffMemberId,
    CreatedAt,
    UpdatedByStaffMemberId,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SupportPlanVersions {
    Table,
    Id,
    PlanId,
    Version,
    Status,
    PeriodFrom,
    PeriodTo,
    Content,
    Record,
    EditedByStaffMemberId,
    EditedAt,
}

#[derive(DeriveIden)]
enum Meetings {
    Table,
    Id,
    ClientId,
    OrganizationId,
    Kind,
    Status,
    Version,
    ScheduledAt,
    Place,
    Online,
    InvitedOrganizationIds,
    Agenda,
    Attendance,
    Minutes,
    Direction,
    DirectionChangeReason,
    CreatedByStaffMemberId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MeetingBriefs {
    Table,
    Id,
    MeetingId,
    ClientId,
    OrganizationId,
    Content,
    Version,
    SubmittedByStaffMemberId,
    SubmittedAt,
}

#[derive(DeriveIden)]
enum MonitoringReports {
    Table,
    Id,
    ClientId,
    OrganizationId,
    PlanId,
    MonitoredOn,
    Method,
    Outcome,
    Content,
    AuthorStaffMemberId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TimelineEntries {
    Table,
    Kind,
    RecordId,
    ClientId,
    OccurredAt,
    OrganizationId,
    Visibility,
    DataCategory,
    Category,
    Status,
}
