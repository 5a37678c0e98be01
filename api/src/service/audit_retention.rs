//! Retention of the audit log (監査ログの保存期間): rows older than the retention period are
//! exported to a JSON-lines file and then deleted, so that years of reads neither fill the disk
//! nor slow the inserts of today's rows.
//!
//! The retention counts whole months (`AUDIT_RETENTION_MONTHS`, default 60): in December 2031
//! with 60 months, everything before 1 December 2026 goes. Both tables are keyed by UUIDv7, whose
//! first 48 bits are the time, so "older than the cut" is a walk of the primary key: no time
//! index to maintain on every insert.
//!
//! Order of work, so that nothing is deleted that is not safely exported: write every row below
//! the cut to `<dir>/audit-before-YYYY-MM-<when>.jsonl.partial`, fsync it, rename it to `.jsonl`
//! (and fsync the folder), and only then delete those rows (in chunks, so no statement holds
//! locks for long). Pages of months before the cut go last. A crash before the rename leaves a
//! `.partial` file and every row; the next run exports them again. Two instances pruning at the
//! same moment may both export the same rows (two files, duplicates): the union is complete.
//!
//! PostgreSQL monthly partitions would make the delete a `DROP`; they were not worth their
//! upkeep here (a partition created ahead of each month, a primary key that includes the
//! partition key): deleting a month by the primary key once a month is cheap next to a month of
//! inserts, and autovacuum makes the space reusable, so the table stays at the retention's size.
//! SQLite likewise reuses the freed pages; the file stops growing instead of shrinking.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, TimeZone, Utc};
use entity::{audit_event, read_audit, read_audit_page};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use super::read_audits::{first_id_at, month_number};
use crate::config::AuditSettings;

/// Rows exported per statement, and deleted per statement.
const CHUNK: u64 = 2000;

/// What one pruning run did.
#[derive(Debug, Default)]
pub struct Pruned {
    /// Rows exported and deleted (both tables).
    pub rows: u64,
    /// The export file, when there was anything to prune.
    pub file: Option<PathBuf>,
}

/// The first instant kept: the first day of the month `months` before `now`'s month (UTC).
pub fn cutoff(now: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    let index = i64::from(now.year()) * 12 + i64::from(now.month0()) - i64::from(months);
    let (Ok(year), Ok(month0)) = (
        i32::try_from(index.div_euclid(12)),
        u32::try_from(index.rem_euclid(12)),
    ) else {
        return DateTime::<Utc>::MIN_UTC;
    };
    Utc.with_ymd_and_hms(year, month0 + 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Each instance prunes every `prune_interval` until the server stops.
pub async fn run(
    db: DatabaseConnection,
    settings: AuditSettings,
    stopping: impl Future<Output = ()>,
) {
    if settings.retention_months == 0 {
        return;
    }
    tokio::pin!(stopping);
    loop {
        tokio::select! {
            () = &mut stopping => return,
            () = tokio::time::sleep(settings.prune_interval) => {}
        }
        match prune(&db, &settings, Utc::now()).await {
            Ok(Pruned { rows: 0, .. }) => {}
            Ok(p) => {
                tracing::info!(rows = p.rows, file = ?p.file, "exported and pruned the audit log")
            }
            Err(e) => {
                tracing::warn!(error = ?e, "pruning the audit log failed; nothing was deleted unless exported")
            }
        }
    }
}

/// One audit entry as exported: the fields `auditLog` shows, with plain UUIDs.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    id: Uuid,
    occurred_at: DateTime<Utc>,
    operation: &'a str,
    staff_member_id: Uuid,
    organization_id: Uuid,
    client_id: Option<Uuid>,
    record_ids: &'a serde_json::Value,
}

/// Exports, then deletes, every audit row before the retention's cut (see the module doc).
pub async fn prune(
    db: &DatabaseConnection,
    settings: &AuditSettings,
    now: DateTime<Utc>,
) -> anyhow::Result<Pruned> {
    if settings.retention_months == 0 {
        return Ok(Pruned::default());
    }
    let cut = cutoff(now, settings.retention_months);
    let floor = first_id_at(cut);
    let old_events = audit_event::Entity::find()
        .filter(audit_event::Column::Id.lt(floor))
        .one(db)
        .await?
        .is_some();
    let old_reads = read_audit::Entity::find()
        .filter(read_audit::Column::Id.lt(floor))
        .one(db)
        .await?
        .is_some();
    let mut pruned = Pruned::default();
    if old_events || old_reads {
        let name = format!(
            "audit-before-{}-{}.jsonl",
            cut.format("%Y-%m"),
            now.format("%Y%m%dT%H%M%S%.3fZ")
        );
        let file = settings.export_dir.join(name);
        let (events_upto, reads_upto, rows) = export(db, floor, &file).await?;
        pruned.rows = rows;
        pruned.file = Some(file);
        if let Some(upto) = events_upto {
            delete_events(db, floor, upto).await?;
        }
        if let Some(upto) = reads_upto {
            delete_reads(db, floor, upto).await?;
        }
    }
    read_audit_page::Entity::delete_many()
        .filter(read_audit_page::Column::Month.lt(month_number(cut)))
        .exec(db)
        .await?;
    Ok(pruned)
}

/// Writes every row below `floor` to `file`, durably; returns the last id exported of each
/// table and the number of rows.
async fn export(
    db: &DatabaseConnection,
    floor: Uuid,
    file: &Path,
) -> anyhow::Result<(Option<Uuid>, Option<Uuid>, u64)> {
    use anyhow::Context as _;
    let dir = file.parent().unwrap_or(Path::new("."));
    tokio::fs::create_dir_all(dir)
        .await
        .with_context(|| format!("creating the audit export folder {}", dir.display()))?;
    let partial = file.with_extension("jsonl.partial");
    let mut out = tokio::io::BufWriter::new(
        tokio::fs::File::create(&partial)
            .await
            .with_context(|| format!("creating {}", partial.display()))?,
    );
    let mut rows = 0;
    let mut events_upto = None;
    loop {
        let mut q = audit_event::Entity::find().filter(audit_event::Column::Id.lt(floor));
        if let Some(after) = events_upto {
            q = q.filter(audit_event::Column::Id.gt(after));
        }
        let batch = q
            .order_by_asc(audit_event::Column::Id)
            .limit(CHUNK)
            .all(db)
            .await?;
        let Some(last) = batch.last().map(|e| e.id) else {
            break;
        };
        rows += write_lines(&mut out, &batch).await?;
        events_upto = Some(last);
    }
    let mut reads_upto = None;
    loop {
        let mut q = read_audit::Entity::find().filter(read_audit::Column::Id.lt(floor));
        if let Some(after) = reads_upto {
            q = q.filter(read_audit::Column::Id.gt(after));
        }
        let batch = q
            .order_by_asc(read_audit::Column::Id)
            .limit(CHUNK)
            .all(db)
            .await?;
        let Some(last) = batch.last().map(|r| r.id) else {
            break;
        };
        let entries = super::audit_log::as_events(db, batch)
            .await
            .map_err(|e| anyhow::anyhow!("reading read audits to export: {e:?}"))?;
        rows += write_lines(&mut out, &entries).await?;
        reads_upto = Some(last);
    }
    out.flush().await?;
    let out = out.into_inner();
    out.sync_all().await?;
    drop(out);
    tokio::fs::rename(&partial, file).await?;
    // The rename itself must survive a crash before the rows are deleted.
    tokio::fs::File::open(dir).await?.sync_all().await?;
    Ok((events_upto, reads_upto, rows))
}

async fn write_lines(
    out: &mut tokio::io::BufWriter<tokio::fs::File>,
    entries: &[audit_event::Model],
) -> anyhow::Result<u64> {
    let mut text = Vec::with_capacity(entries.len() * 256);
    for e in entries {
        serde_json::to_writer(
            &mut text,
            &Line {
                id: e.id,
                occurred_at: e.occurred_at,
                operation: &e.operation,
                staff_member_id: e.staff_member_id,
                organization_id: e.organization_id,
                client_id: e.client_id,
                record_ids: &e.record_ids,
            },
        )?;
        text.push(b'\n');
    }
    out.write_all(&text).await?;
    Ok(entries.len() as u64)
}

/// Deletes exported `audit_events` rows (below `floor`, up to the last exported), in chunks.
async fn delete_events(db: &DatabaseConnection, floor: Uuid, upto: Uuid) -> anyhow::Result<()> {
    loop {
        let ids: Vec<Uuid> = audit_event::Entity::find()
            .select_only()
            .column(audit_event::Column::Id)
            .filter(audit_event::Column::Id.lt(floor))
            .filter(audit_event::Column::Id.lte(upto))
            .limit(CHUNK)
            .into_tuple()
            .all(db)
            .await?;
        if ids.is_empty() {
            return Ok(());
        }
        audit_event::Entity::delete_many()
            .filter(audit_event::Column::Id.is_in(ids))
            .exec(db)
            .await?;
    }
}

/// Deletes exported `read_audits` rows (below `floor`, up to the last exported), in chunks.
async fn delete_reads(db: &DatabaseConnection, floor: Uuid, upto: Uuid) -> anyhow::Result<()> {
    loop {
        let ids: Vec<Uuid> = read_audit::Entity::find()
            .select_only()
            .column(read_audit::Column::Id)
            .filter(read_audit::Column::Id.lt(floor))
            .filter(read_audit::Column::Id.lte(upto))
            .limit(CHUNK)
            .into_tuple()
            .all(db)
            .await?;
        if ids.is_empty() {
            return Ok(());
        }
        read_audit::Entity::delete_many()
            .filter(read_audit::Column::Id.is_in(ids))
            .exec(db)
            .await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
    }

    #[test]
    fn the_cut_is_the_first_of_a_month_whole_months_back() {
        assert_eq!(
            cutoff(at(2031, 12, 15), 60),
            Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(
            cutoff(at(2027, 1, 31), 1),
            Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(
            cutoff(at(2027, 3, 1), 14),
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(
            cutoff(at(2027, 3, 1), 0),
            Utc.with_ymd_and_hms(2027, 3, 1, 0, 0, 0).unwrap()
        );
    }
}
