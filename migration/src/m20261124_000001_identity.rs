//! Organizations, staff members, login sessions with rotating refresh tokens, and login throttling.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Organizations::Table)
                    .col(pk_uuid(Organizations::Id))
                    .col(string(Organizations::Kind))
                    .col(string(Organizations::Name))
                    .col(json(Organizations::ServiceTypes))
                    .col(string(Organizations::Municipality))
                    .col(string_null(Organizations::OfficeNumber).unique_key())
                    .col(timestamp_with_time_zone(Organizations::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(StaffMembers::Table)
                    .col(pk_uuid(StaffMembers::Id))
                    .col(uuid(StaffMembers::OrganizationId))
                    .col(string(StaffMembers::Email).unique_key())
                    .col(string(StaffMembers::DisplayName))
                    .col(string(StaffMembers::Role))
                    .col(string(StaffMembers::PasswordHash))
                    .col(boolean(StaffMembers::Active))
                    .col(timestamp_with_time_zone(StaffMembers::CreatedAt))
                    .col(timestamp_with_time_zone(StaffMembers::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(StaffMembers::Table, StaffMembers::OrganizationId)
                            .to(Organizations::Table, Organizations::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_staff_members_organization")
                    .table(StaffMembers::Table)
                    .col(StaffMembers::OrganizationId)
                    .col(StaffMembers::Id)
                    .to_owned(),
            )
            .await?;

        // A session is one login: the family of refresh tokens it rotates through. Access tokens
        // name their session, so revoking it (logout, token reuse, deactivation) stops them at once.
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(pk_uuid(Sessions::Id))
                    .col(uuid(Sessions::StaffMemberId))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                    .col(string_null(Sessions::RevokedReason))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::StaffMemberId)
                            .to(StaffMembers::Table, StaffMembers::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_staff_member")
                    .table(Sessions::Table)
                    .col(Sessions::StaffMemberId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(pk_uuid(RefreshTokens::Id))
                    .col(uuid(RefreshTokens::SessionId))
                    .col(string(RefreshTokens::TokenHash).unique_key())
                    .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RefreshTokens::Table, RefreshTokens::SessionId)
                            .to(Sessions::Table, Sessions::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_tokens_session")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::SessionId)
                    .to_owned(),
            )
            .await?;

        // Keyed by the normalised email the client typed, known or not, so that an unknown account
        // is throttled exactly like a real one.
        manager
            .create_table(
                Table::create()
                    .table(LoginThrottles::Table)
                    .col(string(LoginThrottles::Email).primary_key())
                    .col(integer(LoginThrottles::Failures))
                    .col(timestamp_with_time_zone(LoginThrottles::LastFailureAt))
                    .col(timestamp_with_time_zone_null(LoginThrottles::LockedUntil))
                    .to_owned(),
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
    Kind,
    Name,
    ServiceTypes,
    Municipality,
    OfficeNumber,
    CreatedAt,
}

#[derive(DeriveIden)]
enum StaffMembers {
    Table,
    Id,
    OrganizationId,
    Email,
    DisplayName,
    Role,
    PasswordHash,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    StaffMemberId,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    RevokedReason,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    SessionId,
    TokenHash,
    CreatedAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum LoginThrottles {
    Table,
    Email,
    Failures,
    LastFailureAt,
    LockedUntil,
}
