//! Indexes for real-time delivery: pruning the outbox by age and noticing ended sessions.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The retention sweep deletes the oldest events.
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_events_occurred_at")
                    .table(Alias::new("outbox_events"))
                    .col(Alias::new("occurred_at"))
                    .to_owned(),
            )
            .await?;
        // Every instance polls for sessions revoked since its last look, to close their sockets.
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_revoked_at")
                    .table(Alias::new("sessions"))
                    .col(Alias::new("revoked_at"))
                    .to_owned(),
            )
            .await
    }
}
