//! The one-statement SQL floor (issue 22): the page's rows — the client's timeline entries by
//! the history's key, each observation with its author and the author's organization — by one
//! prepared SQL statement through `pgbench` at concurrency 10, in the same minutes as the rounds,
//! so that "≥ 25% of the floor" compares two figures of the same machine state.

use std::{path::Path, process::Stdio};

use anyhow::{Context, bail};
use tokio::process::Command;
use uuid::Uuid;

/// The first page's statement; the deep page adds the keyset condition.
fn page(client: Uuid, org: Uuid, after: Option<&str>) -> String {
    format!(
        "SELECT t.kind, t.occurred_at, o.id, o.fact, o.category, s.display_name, g.name \
         FROM timeline_entries t \
         LEFT JOIN observations o ON t.kind = 'OBSERVATION' AND o.id = t.record_id \
         LEFT JOIN staff_members s ON s.id = o.author_staff_member_id \
         LEFT JOIN organizations g ON g.id = s.organization_id \
         WHERE t.client_id = '{client}' AND t.status = 'CURRENT' \
         AND (t.visibility <> 'INTERNAL' OR t.organization_id = '{org}') {} \
         ORDER BY t.occurred_at DESC, t.record_id DESC, t.kind DESC LIMIT 50;\n",
        after.unwrap_or("")
    )
}

/// Runs `pgbench` on both pages for `seconds` each and prints pages per second and a quarter
/// of it (the bar for Kakehashi at the same concurrency).
pub(super) async fn floor(
    url: &str,
    (client, org): (Uuid, Uuid),
    deep_after: usize,
    seconds: u64,
    dir: &Path,
) -> anyhow::Result<()> {
    // The deep page's keyset: the key of the entry it starts after.
    let key = psql(
        url,
        &format!(
            "SELECT occurred_at, record_id, kind FROM timeline_entries WHERE client_id = '{client}' \
             AND status = 'CURRENT' AND (visibility <> 'INTERNAL' OR organization_id = '{org}') \
             ORDER BY occurred_at DESC, record_id DESC, kind DESC OFFSET {} LIMIT 1",
            deep_after.saturating_sub(1)
        ),
    )
    .await?;
    let mut parts = key.trim().split('|');
    let (Some(at), Some(id), Some(kind)) = (parts.next(), parts.next(), parts.next()) else {
        bail!("no entry {deep_after} in the history: {key:?}");
    };
    let after = format!(
        "AND (t.occurred_at, t.record_id, t.kind) < ('{at}'::timestamptz, '{id}'::uuid, '{kind}')"
    );
    println!(
        "\none-statement SQL floor (pgbench -M prepared, concurrency 10, {seconds} s per page, same data):"
    );
    for (label, sql) in [
        ("first", page(client, org, None)),
        ("deep", page(client, org, Some(&after))),
    ] {
        let script = dir.join(format!("floor-{label}.sql"));
        tokio::fs::write(&script, sql).await?;
        let out = Command::new("pgbench")
            .args(["-n", "-M", "prepared", "-c", "10", "-j", "2", "-T"])
            .arg(seconds.to_string())
            .arg("-f")
            .arg(&script)
            .arg(url)
            .stdin(Stdio::null())
            .output()
            .await
            .context("pgbench (apt install postgresql-client)")?;
        let text = String::from_utf8_lossy(&out.stdout);
        let tps = text
            .lines()
            .find_map(|l| l.strip_prefix("tps = "))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .with_context(|| format!("pgbench: {text}{}", String::from_utf8_lossy(&out.stderr)))?;
        println!(
            "  {label:5} page: {tps:.0} pages/s; a quarter of it: {:.0} req/s",
            tps / 4.0
        );
    }
    Ok(())
}

async fn psql(url: &str, sql: &str) -> anyhow::Result<String> {
    let out = Command::new("psql")
        .args(["-X", "-A", "-t", "-c", sql, url])
        .stdin(Stdio::null())
        .output()
        .await
        .context("psql")?;
    if !out.status.success() {
        bail!("psql: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
