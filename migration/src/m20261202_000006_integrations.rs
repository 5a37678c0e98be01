//! Integrations: each organization's own ids for staff, observations, plans and meetings (clients
//! already have theirs in `client_external_ids`), API keys for service accounts, and webhooks
//! with their delivery log.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum StaffMembers {
    Table,
    ServiceAccount,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    OrganizationId,
    StaffMemberId,
    Name,
    Prefix,
    KeyHash,
    CreatedByStaffMemberId,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    OrganizationId,
    Url,
    Description,
    EventKinds,
    Secret,
    Active,
    CreatedByStaffMemberId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    EndpointId,
    OrganizationId,
    EventId,
    EventKind,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    LastAttemptAt,
    LastStatusCode,
    LastError,
    CreatedAt,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum WebhookCursor {
    Table,
    Id,
    LastEventId,
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

/// Adds a nullable `external_id` to a record table, unique per organization (NULLs never clash).
async fn external_id(
    manager: &SchemaManager<'_>,
    table: &'static str,
    org_column: &'static str,
) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(Alias::new(table))
                .add_column(string_null(Alias::new("external_id")))
                .to_owned(),
        )
        .await?;
    index(
        manager,
        &format!("idx_{table}_external_id"),
        Alias::new(table),
        &[org_column, "external_id"],
        true,
    )
    .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        external_id(manager, "staff_members", "organization_id").await?;
        external_id(manager, "observations", "organization_id").await?;
        external_id(manager, "support_plans", "organization_id").await?;
        external_id(manager, "meetings", "organization_id").await?;
        manager
            .alter_table(
                Table::alter()
                    .table(StaffMembers::Table)
                    .add_column(boolean(StaffMembers::ServiceAccount).default(false))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(pk_uuid(ApiKeys::Id))
                    .col(uuid(ApiKeys::OrganizationId))
                    .col(uuid(ApiKeys::StaffMemberId))
                    .col(string(ApiKeys::Name))
                    .col(string(ApiKeys::Prefix))
                    .col(string_uniq(ApiKeys::KeyHash))
                    .col(uuid(ApiKeys::CreatedByStaffMemberId))
                    .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_api_keys_org",
            ApiKeys::Table,
            &["organization_id", "created_at"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoints::Table)
                    .col(pk_uuid(WebhookEndpoints::Id))
                    .col(uuid(WebhookEndpoints::OrganizationId))
                    .col(string(WebhookEndpoints::Url))
                    .col(string_null(WebhookEndpoints::Description))
                    .col(json(WebhookEndpoints::EventKinds))
                    .col(string(WebhookEndpoints::Secret))
                    .col(boolean(WebhookEndpoints::Active))
                    .col(uuid(WebhookEndpoints::CreatedByStaffMemberId))
                    .col(timestamp_with_time_zone(WebhookEndpoints::CreatedAt))
                    .col(timestamp_with_time_zone(WebhookEndpoints::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_webhook_endpoints_org",
            WebhookEndpoints::Table,
            &["organization_id"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(pk_uuid(WebhookDeliveries::Id))
                    .col(uuid(WebhookDeliveries::EndpointId))
                    .col(uuid(WebhookDeliveries::OrganizationId))
                    .col(big_integer(WebhookDeliveries::EventId))
                    .col(string(WebhookDeliveries::EventKind))
                    .col(json(WebhookDeliveries::Payload))
                    .col(string(WebhookDeliveries::Status))
                    .col(integer(WebhookDeliveries::Attempts))
                    .col(timestamp_with_time_zone(WebhookDeliveries::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::LastAttemptAt,
                    ))
                    .col(integer_null(WebhookDeliveries::LastStatusCode))
                    .col(string_null(WebhookDeliveries::LastError))
                    .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::DeliveredAt,
                    ))
                    .to_owned(),
            )
            .await?;
        // One delivery per endpoint and event, however many instances enqueue it.
        index(
            manager,
            "idx_webhook_deliveries_endpoint_event",
            WebhookDeliveries::Table,
            &["endpoint_id", "event_id"],
            true,
        )
        .await?;
        // The log lists an endpoint's deliveries newest first.
        index(
            manager,
            "idx_webhook_deliveries_endpoint_id",
            WebhookDeliveries::Table,
            &["endpoint_id", "id"],
            false,
        )
        .await?;
        // The sender picks due deliveries.
        index(
            manager,
            "idx_webhook_deliveries_due",
            WebhookDeliveries::Table,
            &["status", "next_attempt_at"],
            false,
        )
        .await?;

        // How far the outbox has been turned into webhook deliveries (one row, id 1).
        manager
            .create_table(
                Table::create()
                    .table(WebhookCursor::Table)
                    .col(integer(WebhookCursor::Id).primary_key())
                    .col(big_integer(WebhookCursor::LastEventId))
                    .to_owned(),
            )
            .await
    }
}
