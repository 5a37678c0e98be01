//! Consent to named parties (個人情報の第三者提供の同意): a consent no longer follows the care team
//! as it changes. Each consent names its recipient organizations; two flags record what the
//! client also agreed to (organizations that join later; records from before an organization's
//! first day); and another member can object to an organization's addition, which suspends what
//! is shared with it until the objection is withdrawn.
//!
//! Existing consents that said "the current care team" (recipients NULL) are given, as named
//! recipients, the organizations that were on the team when the consent was recorded (added no
//! later than it, and not ended before it was granted): that is the team the client signed for.
//! They keep showing those organizations the whole history they saw before
//! (`includes_earlier_records` true); organizations added after the consent are no longer
//! covered by it, which is the point of this change.

use sea_orm_migration::{
    prelude::*,
    schema::*,
    sea_orm::{ConnectionTrait, Statement},
};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum SharingConsents {
    Table,
    Id,
    RecipientOrganizationIds,
    CoversFutureMembers,
    IncludesEarlierRecords,
}

#[derive(DeriveIden)]
enum CareTeamObjections {
    Table,
    Id,
    ClientId,
    MembershipId,
    MemberOrganizationId,
    OrganizationId,
    StaffMemberId,
    Reason,
    CreatedAt,
    WithdrawnAt,
    WithdrawnByStaffMemberId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(SharingConsents::Table)
                    .add_column(boolean(SharingConsents::CoversFutureMembers).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SharingConsents::Table)
                    .add_column(boolean(SharingConsents::IncludesEarlierRecords).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CareTeamObjections::Table)
                    .col(pk_uuid(CareTeamObjections::Id))
                    .col(uuid(CareTeamObjections::ClientId))
                    .col(uuid(CareTeamObjections::MembershipId))
                    .col(uuid(CareTeamObjections::MemberOrganizationId))
                    .col(uuid(CareTeamObjections::OrganizationId))
                    .col(uuid(CareTeamObjections::StaffMemberId))
                    .col(text(CareTeamObjections::Reason))
                    .col(timestamp_with_time_zone(CareTeamObjections::CreatedAt))
                    .col(timestamp_with_time_zone_null(
                        CareTeamObjections::WithdrawnAt,
                    ))
                    .col(uuid_null(CareTeamObjections::WithdrawnByStaffMemberId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_care_team_objections_client")
                    .table(CareTeamObjections::Table)
                    .col(CareTeamObjections::ClientId)
                    .col(CareTeamObjections::MembershipId)
                    .to_owned(),
            )
            .await?;
        name_the_recipients_of_care_team_consents(manager).await
    }
}

/// Gives every "current care team" consent the team it was recorded for (see the module doc).
async fn name_the_recipients_of_care_team_consents(
    manager: &SchemaManager<'_>,
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT c.id AS consent_id, m.organization_id AS organization_id \
             FROM sharing_consents c \
             LEFT JOIN care_team_memberships m ON m.client_id = c.client_id \
               AND m.created_at <= c.created_at \
               AND (m.end_date IS NULL OR m.end_date >= c.granted_on) \
             WHERE c.recipient_organization_ids IS NULL \
             ORDER BY c.id, m.organization_id",
        ))
        .await?;
    let mut named: Vec<(uuid::Uuid, Vec<uuid::Uuid>)> = Vec::new();
    for row in rows {
        let consent: uuid::Uuid = row.try_get("", "consent_id")?;
        let org: Option<uuid::Uuid> = row.try_get("", "organization_id")?;
        match named.last_mut() {
            Some((c, orgs)) if *c == consent => orgs.extend(org),
            _ => named.push((consent, org.into_iter().collect())),
        }
    }
    for (consent, mut orgs) in named {
        orgs.dedup();
        let ids: Vec<String> = orgs.iter().map(ToString::to_string).collect();
        manager
            .exec_stmt(
                Query::update()
                    .table(SharingConsents::Table)
                    .value(
                        SharingConsents::RecipientOrganizationIds,
                        serde_json::json!(ids),
                    )
                    .value(SharingConsents::IncludesEarlierRecords, true)
                    .and_where(Expr::col(SharingConsents::Id).eq(consent))
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}
