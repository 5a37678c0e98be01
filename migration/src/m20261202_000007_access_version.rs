//! An index for the access version: every request reads the newest outbox event that can change
//! who sees what (per record type), to know whether its organization's cached scope is current.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_events_record_type")
                    .table(Alias::new("outbox_events"))
                    .col(Alias::new("record_type"))
                    .col(Alias::new("id"))
                    .to_owned(),
            )
            .await
    }
}
