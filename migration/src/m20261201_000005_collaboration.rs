//! Collaboration intelligence: each organization's fact-check terms and translation glossary,
//! acknowledgements of shared records, the risk-sign alerts already raised, and the per-office
//! deadline for acknowledging a risk sign.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum LexiconTerms {
    Table,
    Id,
    OrganizationId,
    Phrase,
    Kind,
    CreatedByStaffMemberId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum GlossaryEntries {
    Table,
    Id,
    OrganizationId,
    Term,
    Reading,
    Renderings,
    UpdatedByStaffMemberId,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Acknowledgements {
    Table,
    Id,
    OrganizationId,
    StaffMemberId,
    ClientId,
    SubjectType,
    SubjectId,
    SubjectOrganizationId,
    SubjectVersion,
    SubjectRecordedAt,
    AcknowledgedAt,
}

#[derive(DeriveIden)]
enum RiskSignAlerts {
    Table,
    ObservationId,
    ClientId,
    RaisedAt,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    RiskAcknowledgementHours,
}

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
                    .table(LexiconTerms::Table)
                    .col(pk_uuid(LexiconTerms::Id))
                    .col(uuid(LexiconTerms::OrganizationId))
                    .col(string(LexiconTerms::Phrase))
                    .col(string(LexiconTerms::Kind))
                    .col(uuid(LexiconTerms::CreatedByStaffMemberId))
                    .col(timestamp_with_time_zone(LexiconTerms::CreatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_lexicon_terms_org_phrase",
            LexiconTerms::Table,
            &["organization_id", "phrase", "kind"],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(GlossaryEntries::Table)
                    .col(pk_uuid(GlossaryEntries::Id))
                    .col(uuid(GlossaryEntries::OrganizationId))
                    .col(string(GlossaryEntries::Term))
                    .col(string_null(GlossaryEntries::Reading))
                    .col(json(GlossaryEntries::Renderings))
                    .col(uuid(GlossaryEntries::UpdatedByStaffMemberId))
                    .col(timestamp_with_time_zone(GlossaryEntries::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_glossary_entries_org_term",
            GlossaryEntries::Table,
            &["organization_id", "term"],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Acknowledgements::Table)
                    .col(pk_uuid(Acknowledgements::Id))
                    .col(uuid(Acknowledgements::OrganizationId))
                    .col(uuid(Acknowledgements::StaffMemberId))
                    .col(uuid(Acknowledgements::ClientId))
                    .col(string(Acknowledgements::SubjectType))
                    .col(uuid(Acknowledgements::SubjectId))
                    .col(uuid(Acknowledgements::SubjectOrganizationId))
                    .col(integer(Acknowledgements::SubjectVersion))
                    .col(timestamp_with_time_zone(
                        Acknowledgements::SubjectRecordedAt,
                    ))
                    .col(timestamp_with_time_zone(Acknowledgements::AcknowledgedAt))
                    .to_owned(),
            )
            .await?;
        // One acknowledgement per organization and record; lookups by record and by client.
        index(
            manager,
            "idx_acknowledgements_org_subject",
            Acknowledgements::Table,
            &["organization_id", "subject_id"],
            true,
        )
        .await?;
        index(
            manager,
            "idx_acknowledgements_subject",
            Acknowledgements::Table,
            &["subject_id"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_acknowledgements_client",
            Acknowledgements::Table,
            &["client_id", "acknowledged_at"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(RiskSignAlerts::Table)
                    .col(pk_uuid(RiskSignAlerts::ObservationId))
                    .col(uuid(RiskSignAlerts::ClientId))
                    .col(timestamp_with_time_zone(RiskSignAlerts::RaisedAt))
                    .to_owned(),
            )
            .await?;
        // The overdue sweep and the materials read risk signs by category and time.
        index(
            manager,
            "idx_observations_category_recorded",
            Alias::new("observations"),
            &["category", "recorded_at"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_observations_client_occurred",
            Alias::new("observations"),
            &["client_id", "occurred_from"],
            false,
        )
        .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(Organizations::Table)
                    .add_column(integer(Organizations::RiskAcknowledgementHours).default(24))
                    .to_owned(),
            )
            .await
    }
}
