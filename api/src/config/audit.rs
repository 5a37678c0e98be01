//! The audit log's settings: how durable a read's audit row is before the response, and how
//! long audit rows are kept (README: "Audit log").

use std::{path::PathBuf, time::Duration};

use anyhow::bail;

/// When a read's audit row is committed, relative to the response that shows the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditDurability {
    /// The response waits until the row is committed: no response ever showed records whose
    /// read is not in the log, even if the process dies the next instant.
    Strict,
    /// The response goes out at once; the row is committed within [`AuditSettings::flush_delay`]
    /// (plus the time of one write), and at graceful shutdown. A crash (SIGKILL, power loss)
    /// loses at most the reads of that last interval; writes are never affected (their audit
    /// row is in their own transaction).
    Batched,
}

/// `AUDIT_*` settings.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    /// `AUDIT_DURABILITY`: `batched` (default) or `strict`.
    pub durability: AuditDurability,
    /// `AUDIT_FLUSH_MILLIS` (batched only): the longest a read's audit row waits in memory.
    pub flush_delay: Duration,
    /// `AUDIT_RETENTION_MONTHS`: audit rows are kept for this many whole months after the month
    /// they were written in, then exported and deleted; 0 keeps them for ever.
    pub retention_months: u32,
    /// `AUDIT_EXPORT_DIR`: where the pruning job writes what it is about to delete.
    pub export_dir: PathBuf,
    /// `AUDIT_PRUNE_SECONDS`: how often each instance looks for rows past the retention.
    pub prune_interval: Duration,
}

impl AuditSettings {
    /// Defaults for a database at `database_url` (the export folder sits beside an SQLite file).
    pub fn new(database_url: &str) -> Self {
        Self {
            durability: AuditDurability::Batched,
            flush_delay: Duration::from_millis(50),
            // Five years: the retention period of welfare service records (記録の保存期間) in
            // most municipalities' ordinances.
            retention_months: 60,
            export_dir: super::sqlite_sibling(database_url, "audit-export"),
            prune_interval: Duration::from_secs(3600),
        }
    }

    /// Reads the `AUDIT_*` variables over the defaults for `database_url`.
    pub fn from_lookup(
        get: &impl Fn(&str) -> Option<String>,
        database_url: &str,
    ) -> anyhow::Result<Self> {
        let mut a = Self::new(database_url);
        if let Some(v) = get("AUDIT_DURABILITY") {
            a.durability = match v.to_ascii_lowercase().as_str() {
                "strict" => AuditDurability::Strict,
                "batched" => AuditDurability::Batched,
                other => bail!("AUDIT_DURABILITY must be strict or batched, not {other:?}"),
            };
        }
        if let Some(v) = get("AUDIT_FLUSH_MILLIS") {
            // At most a second: the bound is what the durability rule promises.
            a.flush_delay = Duration::from_millis(
                super::parse_num::<u64>(&v, "AUDIT_FLUSH_MILLIS")?.clamp(1, 1000),
            );
        }
        if let Some(v) = get("AUDIT_RETENTION_MONTHS") {
            a.retention_months = super::parse_num::<u32>(&v, "AUDIT_RETENTION_MONTHS")?.min(1200);
        }
        if let Some(v) = get("AUDIT_EXPORT_DIR").filter(|v| !v.trim().is_empty()) {
            a.export_dir = v.into();
        }
        if let Some(v) = get("AUDIT_PRUNE_SECONDS") {
            a.prune_interval = Duration::from_secs(
                super::parse_num::<u64>(&v, "AUDIT_PRUNE_SECONDS")?.clamp(1, 7 * 86_400),
            );
        }
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> anyhow::Result<AuditSettings> {
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| (*v).to_owned())
        };
        AuditSettings::from_lookup(&get, "sqlite:///var/lib/kk/kakehashi.db?mode=rwc")
    }

    #[test]
    fn defaults_are_batched_within_50_ms_and_five_years() {
        let a = read(&[]).unwrap();
        assert_eq!(a.durability, AuditDurability::Batched);
        assert_eq!(a.flush_delay, Duration::from_millis(50));
        assert_eq!(a.retention_months, 60);
        assert_eq!(
            a.export_dir,
            PathBuf::from("/var/lib/kk/kakehashi.audit-export")
        );
    }

    #[test]
    fn settings_are_read_and_bounded() {
        let a = read(&[
            ("AUDIT_DURABILITY", "STRICT"),
            ("AUDIT_FLUSH_MILLIS", "0"),
            ("AUDIT_RETENTION_MONTHS", "0"),
            ("AUDIT_EXPORT_DIR", "/tmp/x"),
        ])
        .unwrap();
        assert_eq!(a.durability, AuditDurability::Strict);
        assert_eq!(a.flush_delay, Duration::from_millis(1));
        assert_eq!(a.retention_months, 0);
        assert_eq!(a.export_dir, PathBuf::from("/tmp/x"));
        assert!(read(&[("AUDIT_DURABILITY", "sometimes")]).is_err());
        assert!(read(&[("AUDIT_RETENTION_MONTHS", "-1")]).is_err());
    }
}
