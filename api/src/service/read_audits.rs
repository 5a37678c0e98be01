//! The read audit (閲覧の監査): every read of a client's records leaves a compact row in
//! `read_audits` (see `entity::read_audit` for the row and why it is small).
//!
//! Rows are written off the request path by one writer task per instance, in groups (one
//! transaction, so one commit and one disk flush for every read of the group). When the response
//! may go out is the durability rule, [`AuditDurability`]:
//!
//! - `strict`: the read waits until its group is committed, so a response that showed records
//!   was audited. A lone read sees no added delay; concurrent reads share commits.
//! - `batched` (default): the read hands its rows to the writer and returns. The writer gathers
//!   for at most the flush delay (50 ms) from the first row of a group, so a row is committed
//!   within that delay plus one write. A graceful shutdown (SIGTERM) flushes everything; a
//!   crash loses at most the rows of the last interval. Reading the audit log flushes this
//!   instance's pending rows first, so an auditor never sees a log older than its own reads.
//!
//! The queue is bounded: when the database is slower than the reads, reads wait for room rather
//! than growing memory or dropping rows.

use std::{collections::HashMap, time::Duration};

use chrono::{DateTime, Datelike, Utc};
use entity::{
    read_audit::{self, ReadOperation},
    read_audit_page,
};
use sea_orm::{DatabaseConnection, EntityTrait, Set, sea_query::OnConflict};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::batch::{Batcher, Group, Limits};
use crate::{
    auth::Viewer,
    config::AuditDurability,
    error::{ApiError, ApiResult},
};

/// Rows per statement (7 parameters each: well under SQLite's 32,766 parameters).
const ROWS_PER_STATEMENT: usize = 500;
/// Jobs the queue holds before reads wait for the writer.
const QUEUE: usize = 4096;
/// Rows of one group at most (a group is one transaction).
const ROWS_PER_GROUP: usize = 5000;
/// Attempts at writing a batched group before its rows are given up (and logged).
const ATTEMPTS: u32 = 5;

/// One read to record: the audit row and, when it read several records, their page.
pub struct ReadRow {
    pub audit: read_audit::Model,
    pub page: Option<read_audit_page::Model>,
}

/// The rows of one viewer's reads, per client (`None`: not about a client), stamped now.
pub fn rows(
    staff_member_id: Uuid,
    organization_id: Uuid,
    operation: ReadOperation,
    reads: Vec<(Option<Uuid>, Vec<Uuid>)>,
) -> Vec<ReadRow> {
    reads
        .into_iter()
        .map(|(client_id, ids)| {
            // The id is the time of the read (UUIDv7): the row needs no time column.
            let id = Uuid::now_v7();
            let (record_id, page) = match ids.as_slice() {
                [] => (None, None),
                [one] => (Some(*one), None),
                _ => {
                    let record_ids = read_audit_page::pack_ids(&ids);
                    let hash = Sha256::digest(&record_ids)[..16].to_vec();
                    let page = read_audit_page::Model {
                        month: month_of(id),
                        hash,
                        record_ids,
                    };
                    (None, Some(page))
                }
            };
            ReadRow {
                audit: read_audit::Model {
                    id,
                    staff_member_id,
                    organization_id,
                    client_id,
                    operation,
                    record_id,
                    page: page.as_ref().map(|p| p.hash.clone()),
                },
                page,
            }
        })
        .collect()
}

/// When the row with this UUIDv7 id was made (millisecond precision); `None` for another kind
/// of UUID.
pub fn time_of(id: Uuid) -> Option<DateTime<Utc>> {
    let (secs, nanos) = id.get_timestamp()?.to_unix();
    DateTime::from_timestamp(i64::try_from(secs).ok()?, nanos)
}

/// `YYYYMM` of a time (UTC).
pub fn month_number(t: DateTime<Utc>) -> i32 {
    t.year() * 100 + t.month().cast_signed()
}

/// `YYYYMM` of the row with this UUIDv7 id.
fn month_of(id: Uuid) -> i32 {
    month_number(time_of(id).unwrap_or_else(Utc::now))
}

/// The smallest UUIDv7 of a time: every row made before `t` has a smaller id.
pub fn first_id_at(t: DateTime<Utc>) -> Uuid {
    let ms = u128::try_from(t.timestamp_millis()).unwrap_or(0);
    Uuid::from_u128(ms << 80)
}

/// This instance's read-audit writer (see the module doc).
pub struct ReadAudits {
    durability: AuditDurability,
    batcher: Batcher<AuditRows>,
}

impl ReadAudits {
    pub fn new(db: DatabaseConnection, durability: AuditDurability, flush_delay: Duration) -> Self {
        let delay = match durability {
            AuditDurability::Strict => Duration::ZERO,
            AuditDurability::Batched => flush_delay,
        };
        Self {
            durability,
            batcher: Batcher::new(
                AuditRows { db },
                Limits {
                    queue: QUEUE,
                    take: 256,
                    weight: ROWS_PER_GROUP,
                    delay,
                },
            ),
        }
    }

    /// Audits that the viewer read these records, per client (`None`: not about a client).
    pub async fn record(
        &self,
        viewer: &Viewer,
        operation: ReadOperation,
        reads: Vec<(Option<Uuid>, Vec<Uuid>)>,
    ) -> ApiResult<()> {
        if reads.is_empty() {
            return Ok(());
        }
        self.record_rows(rows(
            viewer.staff_member_id,
            viewer.organization_id,
            operation,
            reads,
        ))
        .await
    }

    /// Queues rows made by [`rows`]; waits for their commit in `strict` mode.
    pub async fn record_rows(&self, rows: Vec<ReadRow>) -> ApiResult<()> {
        let stopped = |_| ApiError::internal(anyhow::anyhow!("the audit writer stopped"));
        match self.durability {
            AuditDurability::Strict => self.batcher.submit(rows).await.map_err(stopped)?,
            AuditDurability::Batched => self.batcher.enqueue(rows).await.map_err(stopped),
        }
    }

    /// Returns once every row queued before the call is committed (or was given up after
    /// failed attempts, which the writer logs): before the audit log is read, and at shutdown.
    pub async fn flush(&self) {
        self.batcher.flush().await;
    }
}

/// The group writer of [`ReadAudits`]: one caller's rows per item.
struct AuditRows {
    db: DatabaseConnection,
}

impl Group for AuditRows {
    type Item = Vec<ReadRow>;
    type Answer = ApiResult<()>;

    async fn write(&self, items: Vec<Vec<ReadRow>>, waited: bool) -> Vec<ApiResult<()>> {
        let count = items.len();
        let rows: Vec<ReadRow> = items.into_iter().flatten().collect();
        let written = write_with_retries(&self.db, rows, waited)
            .await
            .map_err(ApiError::from);
        vec![written; count]
    }

    fn weight(rows: &Vec<ReadRow>) -> usize {
        rows.len()
    }
}

/// A group someone waits for is tried once (the reads answer with the error, as before); a
/// batched group, whose reads already answered, is tried a few times before it is given up.
async fn write_with_retries(
    db: &DatabaseConnection,
    rows: Vec<ReadRow>,
    waited: bool,
) -> Result<(), sea_orm::DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    let attempts = if waited { 1 } else { ATTEMPTS };
    let mut last = Ok(());
    for attempt in 1..=attempts {
        // A panic fails this group but never stops the writer.
        let write = std::panic::AssertUnwindSafe(self::write(db, &rows));
        last = match futures_util::FutureExt::catch_unwind(write).await {
            Ok(written) => written,
            Err(_) => Err(sea_orm::DbErr::Custom(
                "writing read audits panicked".into(),
            )),
        };
        match &last {
            Ok(()) => return Ok(()),
            Err(e) if attempt < attempts => {
                tracing::warn!(error = %e, rows = rows.len(), attempt, "writing read audits failed; retrying");
                tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
            }
            Err(e) => {
                tracing::error!(error = %e, rows = rows.len(), "read audits could not be written")
            }
        }
    }
    last
}

/// Writes rows at once: their pages (each once; one already stored this month is kept) and
/// the rows, in one transaction.
pub async fn write(db: &DatabaseConnection, rows: &[ReadRow]) -> Result<(), sea_orm::DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut pages: HashMap<(i32, &[u8]), &read_audit_page::Model> = HashMap::new();
    for p in rows.iter().filter_map(|r| r.page.as_ref()) {
        pages.entry((p.month, p.hash.as_slice())).or_insert(p);
    }
    let pages: Vec<_> = pages.into_values().collect();
    let txn = crate::db::begin_insert(db).await?;
    for chunk in pages.chunks(ROWS_PER_STATEMENT) {
        let models = chunk.iter().map(|p| read_audit_page::ActiveModel {
            month: Set(p.month),
            hash: Set(p.hash.clone()),
            record_ids: Set(p.record_ids.clone()),
        });
        read_audit_page::Entity::insert_many(models)
            .on_conflict(
                OnConflict::columns([
                    read_audit_page::Column::Month,
                    read_audit_page::Column::Hash,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
    }
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let models = chunk.iter().map(|r| {
            let a = &r.audit;
            read_audit::ActiveModel {
                id: Set(a.id),
                staff_member_id: Set(a.staff_member_id),
                organization_id: Set(a.organization_id),
                client_id: Set(a.client_id),
                operation: Set(a.operation),
                record_id: Set(a.record_id),
                page: Set(a.page.clone()),
            }
        });
        read_audit::Entity::insert_many(models)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_its_time_and_a_page_is_shared_by_equal_reads() {
        let (staff, org, client) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let ids: Vec<Uuid> = (0..50).map(|_| Uuid::now_v7()).collect();
        let before = Utc::now() - chrono::TimeDelta::milliseconds(1);
        let r = rows(
            staff,
            org,
            ReadOperation::History,
            vec![(Some(client), ids.clone()), (Some(client), ids.clone())],
        );
        let at = time_of(r[0].audit.id).unwrap();
        assert!(at >= before && at <= Utc::now(), "{at}");
        let (a, b) = (r[0].page.as_ref().unwrap(), r[1].page.as_ref().unwrap());
        assert_eq!((a.month, &a.hash), (b.month, &b.hash));
        assert_eq!(a.hash.len(), 16);
        assert_eq!(a.ids().unwrap(), ids);
        assert_eq!(r[0].audit.page.as_ref(), Some(&a.hash));
        let one = rows(
            staff,
            org,
            ReadOperation::Client,
            vec![(None, vec![ids[0]])],
        );
        assert_eq!(one[0].audit.record_id, Some(ids[0]));
        assert!(one[0].page.is_none() && one[0].audit.page.is_none());
    }

    #[test]
    fn the_first_id_of_a_time_is_below_every_later_id_and_above_earlier_ones() {
        let cut = Utc::now();
        let later = Uuid::now_v7();
        assert!(first_id_at(cut) <= later);
        assert!(first_id_at(cut + chrono::TimeDelta::milliseconds(2)) > later);
        assert_eq!(
            month_number(DateTime::from_timestamp(0, 0).unwrap()),
            197001
        );
    }
}
