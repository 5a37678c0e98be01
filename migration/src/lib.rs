//! Forward-only schema migrations for Kakehashi.
//!
//! One file per migration; a migration is never edited after it lands (write a new one instead).
//! This crate does not depend on `entity`: old migrations must keep describing the tables as they
//! were, whatever the entities look like today. Column types are chosen so that SQLite and
//! PostgreSQL behave the same (enums as strings, times as `timestamptz`, ids as UUIDs).
//!
//! Public API: `Migrator` and the re-exported `sea_orm_migration` prelude; the migrations
//! themselves are private.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_identity;
mod m20261124_000002_clients;
mod m20261124_000003_plans_meetings;
mod m20261201_000004_realtime;
mod m20261201_000005_collaboration;
mod m20261202_000006_integrations;
mod m20261202_000007_access_version;
mod m20261202_000008_timeline_sort_key;
mod m20261203_000009_named_consent_recipients;
mod m20261203_000010_login_budgets;
mod m20261204_000011_monitoring_schedule;
mod m20261204_000012_statutory_records;
mod m20261205_000013_compact_audit;
mod m20261206_000014_document_ids_as_uuids;

/// The ordered list of every migration.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_identity::Migration),
            Box::new(m20261124_000002_clients::Migration),
            Box::new(m20261124_000003_plans_meetings::Migration),
            Box::new(m20261201_000004_realtime::Migration),
            Box::new(m20261201_000005_collaboration::Migration),
            Box::new(m20261202_000006_integrations::Migration),
            Box::new(m20261202_000007_access_version::Migration),
            Box::new(m20261202_000008_timeline_sort_key::Migration),
            Box::new(m20261203_000009_named_consent_recipients::Migration),
            Box::new(m20261203_000010_login_budgets::Migration),
            Box::new(m20261204_000011_monitoring_schedule::Migration),
            Box::new(m20261204_000012_statutory_records::Migration),
            Box::new(m20261205_000013_compact_audit::Migration),
            Box::new(m20261206_000014_document_ids_as_uuids::Migration),
        ]
    }
}
