//! The monitoring schedule as the municipality decided it and as the 受給者証 prints it
//! (「3月ごと（2027年2月〜）」): the first 実施月, the printed range's last month, the months
//! monitored monthly after a new plan or a change (変更後), the start of services and the
//! situations that shorten the national standard period. Existing certificates keep their
//! period and count-from month (`monitoring_basis = COUNT_FROM`). Also the grant reminders raised
//! by the background sweep: one row per grant (client, service, last day) and reminder window, so
//! the event appears once however many instances sweep, and a certificate re-issued with the same
//! grant does not raise it again.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum RecipientCertificates {
    Table,
    /// `PRINTED` (the decision as printed), `COUNT_FROM` (period counted from a start month, the
    /// first version's entry) or `NATIONAL_STANDARD` (no decision recorded).
    MonitoringBasis,
    /// The first monitoring month (実施月) as printed, first day of the month.
    MonitoringFirstMonth,
    /// The printed range's last month, when printed.
    MonitoringLastMonth,
    /// Months monitored monthly after a new plan or a change (変更後), `["2027-02-01", …]`.
    MonitoringMonthlyMonths,
    /// When the client's services start (サービス利用開始日), if recorded.
    ServicesStartOn,
    /// Situations the national standard periods weigh, `["LIVING_ALONE", …]`.
    MonitoringSituations,
}

#[derive(DeriveIden)]
enum GrantReminders {
    Table,
    CertificateId,
    ServiceType,
    GrantUntil,
    /// `RENEWAL_PREPARATION` (3 months before the end) or `EXPIRED`.
    Window,
    ClientId,
    RaisedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        let columns = [
            string(RecipientCertificates::MonitoringBasis)
                .default("COUNT_FROM")
                .to_owned(),
            date_null(RecipientCertificates::MonitoringFirstMonth),
            date_null(RecipientCertificates::MonitoringLastMonth),
            json(RecipientCertificates::MonitoringMonthlyMonths)
                .default("[]")
                .to_owned(),
            date_null(RecipientCertificates::ServicesStartOn),
            json(RecipientCertificates::MonitoringSituations)
                .default("[]")
                .to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(RecipientCertificates::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(GrantReminders::Table)
                    .col(uuid(GrantReminders::CertificateId))
                    .col(string(GrantReminders::ServiceType))
                    .col(date(GrantReminders::GrantUntil))
                    .col(string(GrantReminders::Window))
                    .col(uuid(GrantReminders::ClientId))
                    .col(timestamp_with_time_zone(GrantReminders::RaisedAt))
                    .primary_key(
                        Index::create()
                            .col(GrantReminders::ClientId)
                            .col(GrantReminders::ServiceType)
                            .col(GrantReminders::GrantUntil)
                            .col(GrantReminders::Window),
                    )
                    .to_owned(),
            )
            .await
    }
}
