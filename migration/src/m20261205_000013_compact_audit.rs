//! Compact read audits (issue 22 item 4). A read of a page of 50 records was one `audit_events`
//! row of about 1 KB (the ids as JSON text); a municipality's year of reads filled the disk and
//! slowed every insert. Reads now go to `read_audits`, about 110 bytes a row on PostgreSQL:
//!
//! - the id is a UUIDv7 whose millisecond timestamp *is* the time of the read (no separate
//!   time column, and pruning by time is a walk of the primary key);
//! - the operation is a small integer code (`entity::read_audit::ReadOperation`);
//! - one record read is its id; several are the 16-byte hash of the page, whose ids are stored
//!   once per month in `read_audit_pages` however many times the page is read (staff reread the
//!   same first page of a client's history many times before it changes).
//!
//! Additive: `audit_events` keeps the writes and every read row written before this migration;
//! the audit log reads both tables.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum ReadAudits {
    Table,
    /// UUIDv7: its timestamp is when the read happened.
    Id,
    StaffMemberId,
    OrganizationId,
    ClientId,
    /// `ReadOperation` code.
    Operation,
    /// The one record read (null when none or several).
    RecordId,
    /// The hash of the page of records read (when several), a key of `read_audit_pages`.
    Page,
}

#[derive(DeriveIden)]
enum ReadAuditPages {
    Table,
    /// The month of the reads that share this row, as `YYYYMM`: pruned with them.
    Month,
    /// The first 16 bytes of the SHA-256 of `record_ids`.
    Hash,
    /// The record ids read, 16 bytes each, in the order the page showed them.
    RecordIds,
}

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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ReadAudits::Table)
                    .col(pk_uuid(ReadAudits::Id))
                    .col(uuid(ReadAudits::StaffMemberId))
                    .col(uuid(ReadAudits::OrganizationId))
                    .col(uuid_null(ReadAudits::ClientId))
                    .col(small_integer(ReadAudits::Operation))
                    .col(uuid_null(ReadAudits::RecordId))
                    .col(blob_null(ReadAudits::Page))
                    .to_owned(),
            )
            .await?;
        // The two lists the API shows: an organization's staff, a client's accesses.
        index(
            manager,
            "idx_read_audits_org",
            ReadAudits::Table,
            &["organization_id", "id"],
        )
        .await?;
        index(
            manager,
            "idx_read_audits_client",
            ReadAudits::Table,
            &["client_id", "id"],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReadAuditPages::Table)
                    .col(integer(ReadAuditPages::Month))
                    .col(blob(ReadAuditPages::Hash))
                    .col(blob(ReadAuditPages::RecordIds))
                    .primary_key(
                        Index::create()
                            .col(ReadAuditPages::Month)
                            .col(ReadAuditPages::Hash),
                    )
                    .to_owned(),
            )
            .await
    }
}
