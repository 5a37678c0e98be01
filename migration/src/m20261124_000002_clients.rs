//! Clients, recipient certificates, care teams, sharing consents, observations with their
//! version history, review marks, the audit log and the event outbox.

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
        manager
            .create_table(
                Table::create()
                    .table(Clients::Table)
                    .col(pk_uuid(Clients::Id))
                    .col(string(Clients::DisplayName))
                    .col(string(Clients::NameKana))
                    .col(date_null(Clients::BirthDate))
                    .col(integer_null(Clients::SupportCategory))
                    .col(text_null(Clients::Wishes))
                    .col(json(Clients::FamilyContacts))
                    .col(uuid(Clients::RegisteredByOrganizationId))
                    .col(timestamp_with_time_zone(Clients::CreatedAt))
                    .col(timestamp_with_time_zone(Clients::UpdatedAt))
                    .col(integer(Clients::Version))
                    .foreign_key(&mut fk(
                        Clients::Table,
                        Clients::RegisteredByOrganizationId,
                        Organizations::Table,
                        Organizations::Id,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ClientExternalIds::Table)
                    .col(uuid(ClientExternalIds::OrganizationId))
                    .col(string(ClientExternalIds::ExternalId))
                    .col(uuid(ClientExternalIds::ClientId))
                    .primary_key(
                        Index::create()
                            .col(ClientExternalIds::OrganizationId)
                            .col(ClientExternalIds::ExternalId),
                    )
                    .foreign_key(&mut fk(
                        ClientExternalIds::Table,
                        ClientExternalIds::ClientId,
                        Clients::Table,
                        Clients::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_client_external_ids_client",
            ClientExternalIds::Table,
            &["client_id", "organization_id"],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(RecipientCertificates::Table)
                    .col(pk_uuid(RecipientCertificates::Id))
                    .col(uuid(RecipientCertificates::ClientId))
                    .col(string(RecipientCertificates::Number))
                    .col(string(RecipientCertificates::Municipality))
                    .col(date(RecipientCertificates::ValidFrom))
                    .col(date(RecipientCertificates::ValidUntil))
                    .col(integer(RecipientCertificates::MonitoringPeriodMonths))
                    .col(date(RecipientCertificates::MonitoringStartMonth))
                    .col(integer_null(RecipientCertificates::CopayCapYen))
                    .col(json(RecipientCertificates::GrantedServices))
                    .col(json(RecipientCertificates::ContractedAmounts))
                    .col(uuid(RecipientCertificates::RecordedByOrganizationId))
                    .col(timestamp_with_time_zone(RecipientCertificates::CreatedAt))
                    .foreign_key(&mut fk(
                        RecipientCertificates::Table,
                        RecipientCertificates::ClientId,
                        Clients::Table,
                        Clients::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_recipient_certificates_client",
            RecipientCertificates::Table,
            &["client_id", "id"],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CareTeamMemberships::Table)
                    .col(pk_uuid(CareTeamMemberships::Id))
                    .col(uuid(CareTeamMemberships::ClientId))
                    .col(uuid(CareTeamMemberships::OrganizationId))
                    .col(string(CareTeamMemberships::Relationship))
                    .col(string_null(CareTeamMemberships::ServiceType))
                    .col(date(CareTeamMemberships::StartDate))
                    .col(date_null(CareTeamMemberships::EndDate))
                    .col(uuid(CareTeamMemberships::AddedByStaffMemberId))
                    .col(uuid_null(CareTeamMemberships::EndedByStaffMemberId))
                    .col(timestamp_with_time_zone(CareTeamMemberships::CreatedAt))
                    .foreign_key(&mut fk(
                        CareTeamMemberships::Table,
                        CareTeamMemberships::ClientId,
                        Clients::Table,
                        Clients::Id,
                    ))
                    .foreign_key(&mut fk(
                        CareTeamMemberships::Table,
                        CareTeamMemberships::OrganizationId,
                        Organizations::Table,
                        Organizations::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_care_team_org_client",
            CareTeamMemberships::Table,
            &["organization_id", "client_id"],
        )
        .await?;
        index(
            manager,
            "idx_care_team_client",
            CareTeamMemberships::Table,
            &["client_id", "organization_id"],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(SharingConsents::Table)
                    .col(pk_uuid(SharingConsents::Id))
                    .col(uuid(SharingConsents::ClientId))
                    .col(string(SharingConsents::GrantedBy))
                    .col(string(SharingConsents::SignerRelationship))
                    .col(date(SharingConsents::GrantedOn))
                    .col(json_null(SharingConsents::RecipientOrganizationIds))
                    .col(json(SharingConsents::DataCategories))
                    .col(date_null(SharingConsents::ExpiresOn))
                    .col(string_null(SharingConsents::DocumentReference))
                    .col(uuid(SharingConsents::RecordedByStaffMemberId))
                    .col(uuid(SharingConsents::RecordedByOrganizationId))
                    .col(timestamp_with_time_zone(SharingConsents::CreatedAt))
                    .col(date_null(SharingConsents::RevokedOn))
                    .col(timestamp_with_time_zone_null(SharingConsents::RevokedAt))
                    .col(uuid_null(SharingConsents::RevokedByStaffMemberId))
                    .col(text_null(SharingConsents::RevocationNote))
                    .foreign_key(&mut fk(
                        SharingConsents::Table,
                        SharingConsents::ClientId,
                        Clients::Table,
                        Clients::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_sharing_consents_client",
            SharingConsents::Table,
            &["client_id", "id"],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Observations::Table)
                    .col(pk_uuid(Observations::Id))
                    .col(uuid(Observations::ClientId))
                    .col(uuid(Observations::OrganizationId))
                    .col(uuid(Observations::AuthorStaffMemberId))
                    .col(integer(Observations::Version))
                    .col(text(Observations::Fact))
                    .col(text_null(Observations::Interpretation))
                    .col(text_null(Observations::ClientWords))
                    .col(string(Observations::Category))
                    .col(timestamp_with_time_zone(Observations::OccurredFrom))
                    .col(timestamp_with_time_zone_null(Observations::OccurredTo))
                    .col(timestamp_with_time_zone(Observations::RecordedAt))
                    .col(string(Observations::Visibility))
                    .col(json(Observations::Tags))
                    .col(json(Observations::CitedObservationIds))
                    .col(string(Observations::Status))
                    .col(text_null(Observations::EnteredInErrorReason))
                    .col(uuid(Observations::UpdatedByStaffMemberId))
                    .col(timestamp_with_time_zone(Observations::UpdatedAt))
                    .foreign_key(&mut fk(
                        Observations::Table,
                        Observations::ClientId,
                        Clients::Table,
                        Clients::Id,
                    ))
                    .foreign_key(&mut fk(
                        Observations::Table,
                        Observations::OrganizationId,
                        Organizations::Table,
                        Organizations::Id,
                    ))
                    .foreign_key(&mut fk(
                        Observations::Table,
                        Observations::AuthorStaffMemberId,
                        StaffMembers::Table,
                        StaffMembers::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_observations_client",
            Observations::Table,
            &["client_id", "id"],
        )
        .await?;
        index(
            manager,
            "idx_observations_org",
            Observations::Table,
            &["organization_id", "id"],
        )
        .await?;
        index(
            manager,
            "idx_observations_client_category",
            Observations::Table,
            &["client_id", "category", "id"],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ObservationVersions::Table)
                    .col(pk_uuid(ObservationVersions::Id))
                    .col(uuid(ObservationVersions::ObservationId))
                    .col(integer(ObservationVersions::Version))
                    .col(text(ObservationVersions::Fact))
                    .col(text_null(ObservationVersions::Interpretation))
                    .col(text_null(ObservationVersions::ClientWords))
                    .col(string(ObservationVersions::Category))
                    .col(timestamp_with_time_zone(ObservationVersions::OccurredFrom))
                    .col(timestamp_with_time_zone_null(
                        ObservationVersions::OccurredTo,
                    ))
                    .col(string(ObservationVersions::Visibility))
                    .col(json(ObservationVersions::Tags))
                    .col(json(ObservationVersions::CitedObservationIds))
                    .col(string(ObservationVersions::Status))
                    .col(uuid(ObservationVersions::EditedByStaffMemberId))
                    .col(timestamp_with_time_zone(ObservationVersions::EditedAt))
                    .foreign_key(&mut fk(
                        ObservationVersions::Table,
                        ObservationVersions::ObservationId,
                        Observations::Table,
                        Observations::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_observation_versions_unique")
                    .table(ObservationVersions::Table)
                    .col(ObservationVersions::ObservationId)
                    .col(ObservationVersions::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ClientReviews::Table)
                    .col(uuid(ClientReviews::StaffMemberId))
                    .col(uuid(ClientReviews::ClientId))
                    .col(timestamp_with_time_zone(ClientReviews::LastReviewedAt))
                    .primary_key(
                        Index::create()
                            .col(ClientReviews::StaffMemberId)
                            .col(ClientReviews::ClientId),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(pk_uuid(AuditEvents::Id))
                    .col(timestamp_with_time_zone(AuditEvents::OccurredAt))
                    .col(uuid(AuditEvents::StaffMemberId))
                    .col(uuid(AuditEvents::OrganizationId))
                    .col(string(AuditEvents::Operation))
                    .col(uuid_null(AuditEvents::ClientId))
                    .col(json(AuditEvents::RecordIds))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_audit_events_org",
            AuditEvents::Table,
            &["organization_id", "id"],
        )
        .await?;
        index(
            manager,
            "idx_audit_events_client",
            AuditEvents::Table,
            &["client_id", "id"],
        )
        .await?;

        // The transactional outbox: written in the same transaction as each change; delivery
        // (subscriptions, webhooks) reads it after commit.
        manager
            .create_table(
                Table::create()
                    .table(OutboxEvents::Table)
                    .col(big_pk_auto(OutboxEvents::Id))
                    .col(string(OutboxEvents::Kind))
                    .col(uuid(OutboxEvents::ClientId))
                    .col(string(OutboxEvents::RecordType))
                    .col(uuid(OutboxEvents::RecordId))
                    .col(uuid(OutboxEvents::ActorStaffMemberId))
                    .col(uuid(OutboxEvents::ActorOrganizationId))
                    .col(timestamp_with_time_zone(OutboxEvents::OccurredAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_outbox_events_client",
            OutboxEvents::Table,
            &["client_id", "id"],
        )
        .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "migrations are forward-only; restore a backup to go back".into(),
        ))
    }
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

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
    DisplayName,
    NameKana,
    BirthDate,
    SupportCategory,
    Wishes,
    FamilyContacts,
    RegisteredByOrganizationId,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum ClientExternalIds {
    Table,
    OrganizationId,
    ExternalId,
    ClientId,
}

#[derive(DeriveIden)]
enum RecipientCertificates {
    Table,
    Id,
    ClientId,
    Number,
    Municipality,
    ValidFrom,
    ValidUntil,
    MonitoringPeriodMonths,
    MonitoringStartMonth,
    CopayCapYen,
    GrantedServices,
    ContractedAmounts,
    RecordedByOrganizationId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CareTeamMemberships {
    Table,
    Id,
    ClientId,
    OrganizationId,
    Relationship,
    ServiceType,
    StartDate,
    EndDate,
    AddedByStaffMemberId,
    EndedByStaffMemberId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SharingConsents {
    Table,
    Id,
    ClientId,
    GrantedBy,
    SignerRelationship,
    GrantedOn,
    RecipientOrganizationIds,
    DataCategories,
    ExpiresOn,
    DocumentReference,
    RecordedByStaffMemberId,
    RecordedByOrganizationId,
    CreatedAt,
    RevokedOn,
    RevokedAt,
    RevokedByStaffMemberId,
    RevocationNote,
}

#[derive(DeriveIden)]
enum Observations {
    Table,
    Id,
    ClientId,
    OrganizationId,
    AuthorStaffMemberId,
    Version,
    Fact,
    Interpretation,
    ClientWords,
    Category,
    OccurredFrom,
    OccurredTo,
    RecordedAt,
    Visibility,
    Tags,
    CitedObservationIds,
    Status,
    EnteredInErrorReason,
    UpdatedByStaffMemberId,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ObservationVersions {
    Table,
    Id,
    ObservationId,
    Version,
    Fact,
    Interpretation,
    ClientWords,
    Category,
    OccurredFrom,
    OccurredTo,
    Visibility,
    Tags,
    CitedObservationIds,
    Status,
    EditedByStaffMemberId,
    EditedAt,
}

#[derive(DeriveIden)]
enum ClientReviews {
    Table,
    StaffMemberId,
    ClientId,
    LastReviewedAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    OccurredAt,
    StaffMemberId,
    OrganizationId,
    Operation,
    ClientId,
    RecordIds,
}

#[derive(DeriveIden)]
enum OutboxEvents {
    Table,
    Id,
    Kind,
    ClientId,
    RecordType,
    RecordId,
    ActorStaffMemberId,
    ActorOrganizationId,
    OccurredAt,
}
