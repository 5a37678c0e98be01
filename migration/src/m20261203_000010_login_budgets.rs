//! Login throttling that slows the attacker's address, not the account's owner, and that every
//! instance agrees on: token buckets kept in the database (`rate_budgets`), and the addresses an
//! account signed in from (`login_known_addresses`), which a guess spread over many addresses
//! cannot lock out. The per-email lock table goes: it locked the owner out with the attacker.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum RateBudgets {
    Table,
    /// What the budget limits, e.g. `addr:<hash>`.
    Key,
    Tokens,
    /// Milliseconds since the Unix epoch when `tokens` was last computed.
    UpdatedMs,
}

#[derive(DeriveIden)]
enum LoginKnownAddresses {
    Table,
    Email,
    /// Keyed hash of the address (IPv4, or the /64 of an IPv6 address); never the address.
    AddressHash,
    LastSuccessAt,
}

#[derive(DeriveIden)]
enum LoginThrottles {
    Table,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RateBudgets::Table)
                    .col(string(RateBudgets::Key).primary_key())
                    .col(double(RateBudgets::Tokens))
                    .col(big_integer(RateBudgets::UpdatedMs))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LoginKnownAddresses::Table)
                    .col(string(LoginKnownAddresses::Email))
                    .col(string(LoginKnownAddresses::AddressHash))
                    .col(timestamp_with_time_zone(LoginKnownAddresses::LastSuccessAt))
                    .primary_key(
                        Index::create()
                            .col(LoginKnownAddresses::Email)
                            .col(LoginKnownAddresses::AddressHash),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(LoginThrottles::Table).to_owned())
            .await
    }
}
