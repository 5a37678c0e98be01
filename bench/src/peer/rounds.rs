//! The measured rounds: autocannon against each server in turn, the CPU of the server and of
//! the database's backends, and the table of results.

use super::*;

/// The database's backend processes, for their CPU time.
pub(super) struct Backends<'a> {
    pub(super) db: &'a DatabaseConnection,
    pub(super) name: &'a str,
}

impl Backends<'_> {
    /// CPU seconds by backend pid.
    async fn cpu(&self) -> anyhow::Result<BTreeMap<i32, f64>> {
        let rows = self
            .db
            .query_all_raw(Statement::from_string(
                self.db.get_database_backend(),
                format!(
                    "SELECT pid FROM pg_stat_activity WHERE datname = '{}'",
                    self.name
                ),
            ))
            .await?;
        let mut cpu = BTreeMap::new();
        for row in rows {
            let pid: i32 = row.try_get("", "pid")?;
            if let Ok(secs) = cpu_secs(pid as u32) {
                cpu.insert(pid, secs);
            }
        }
        Ok(cpu)
    }
}

/// One round's numbers.
#[derive(Clone, Debug)]
pub(super) struct Round {
    pub(super) rps: f64,
    p99: f64,
    pub(super) failed: u64,
    pub(super) cpu_ms: f64,
    pub(super) db_cpu_ms: Option<f64>,
}

type Results = BTreeMap<(usize, Which), Vec<Vec<Round>>>;

pub(super) async fn rounds(
    targets: &[Target],
    settings: &Settings,
    backends: Option<&Backends<'_>>,
) -> anyhow::Result<Results> {
    println!(
        "\nwarm-up: 5 s at concurrency 10 per server and page; then {} rounds of {} s per cell, interleaved",
        settings.rounds, settings.seconds
    );
    for t in targets {
        for which in [Which::First, Which::Deep] {
            load(settings, t, which, 10, 5).await?;
        }
    }
    let mut results: Results = BTreeMap::new();
    for connections in CONCURRENCY {
        for which in [Which::First, Which::Deep] {
            let cell = results
                .entry((connections, which))
                .or_insert_with(|| vec![Vec::new(); targets.len()]);
            for round in 0..settings.rounds {
                for (i, t) in targets.iter().enumerate() {
                    let cpu_before = cpu_secs(t.pid)?;
                    let db_before = match backends {
                        Some(b) => Some(b.cpu().await?),
                        None => None,
                    };
                    let out = load(settings, t, which, connections, settings.seconds).await?;
                    let cpu = cpu_secs(t.pid)? - cpu_before;
                    let db_cpu = match (backends, db_before) {
                        (Some(b), Some(before)) => Some(
                            b.cpu()
                                .await?
                                .iter()
                                .map(|(pid, after)| after - before.get(pid).copied().unwrap_or(0.0))
                                .sum::<f64>(),
                        ),
                        _ => None,
                    };
                    let number = |k: &str| out[k].as_f64().unwrap_or(0.0);
                    let total = number("total").max(1.0);
                    let r = Round {
                        rps: number("rps"),
                        p99: number("p99"),
                        failed: ["non2xx", "errors", "timeouts", "mismatches"]
                            .iter()
                            .map(|k| number(k) as u64)
                            .sum(),
                        cpu_ms: cpu * 1000.0 / total,
                        db_cpu_ms: db_cpu.map(|c| c * 1000.0 / total),
                    };
                    println!(
                        "c={connections:<2} {:<5} round {} {:<12} {:>7.1} req/s  p50 {:>6.1} ms  p99 {:>6.1} ms  server CPU {:.2} ms/req{}{}",
                        which.label(),
                        round + 1,
                        t.name,
                        r.rps,
                        number("p50"),
                        r.p99,
                        r.cpu_ms,
                        r.db_cpu_ms
                            .map(|c| format!("  database CPU {c:.2} ms/req"))
                            .unwrap_or_default(),
                        if r.failed > 0 {
                            format!("  FAILED {}", r.failed)
                        } else {
                            String::new()
                        }
                    );
                    cell[i].push(r);
                }
            }
        }
    }
    Ok(results)
}

/// One autocannon run in its own Node process; its JSON result.
pub(super) async fn load(
    settings: &Settings,
    t: &Target,
    which: Which,
    connections: usize,
    seconds: u64,
) -> anyhow::Result<Value> {
    let (body, expected) = &t.pages[&which];
    let options = json!({
        "url": t.url,
        "body": body,
        "headers": t.headers,
        "connections": connections,
        "duration": seconds,
        "expectBody": expected,
    });
    let out = Command::new("node")
        .arg(settings.peer_dir.join("load.js"))
        .arg(options.to_string())
        .stderr(Stdio::inherit())
        .output()
        .await
        .context("node load.js")?;
    if !out.status.success() {
        bail!("load.js failed: {}", out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last().unwrap_or_default())
        .with_context(|| format!("load.js printed {text}"))
}

pub(super) fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

pub(super) fn range(values: &[f64], decimals: usize) -> String {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{min:.decimals$}–{max:.decimals$}")
}

/// The results as a Markdown table (for BENCHMARKS.md).
pub(super) fn table(results: &Results, names: &[&str]) {
    let mut header = "| concurrency | page |".to_owned();
    let mut rule = "|---|---|".to_owned();
    for name in names {
        header += &format!(" {name} req/s | {name} p99 ms | {name} CPU ms/req |");
        rule += "---|---|---|";
    }
    if names.len() == 2 {
        header += " ratio of medians | database CPU ms/req |";
        rule += "---|---|";
    }
    println!("\n{header}\n{rule}");
    let mut failed = 0;
    for ((connections, which), cells) in results {
        let mut line = format!("| {connections} | {} |", which.label());
        let mut medians = Vec::new();
        let mut db = Vec::new();
        for rounds in cells {
            let rps: Vec<f64> = rounds.iter().map(|r| r.rps).collect();
            let p99: Vec<f64> = rounds.iter().map(|r| r.p99).collect();
            let mut cpu: Vec<f64> = rounds.iter().map(|r| r.cpu_ms).collect();
            let mut db_cpu: Vec<f64> = rounds.iter().filter_map(|r| r.db_cpu_ms).collect();
            failed += rounds.iter().map(|r| r.failed).sum::<u64>();
            line += &format!(
                " {} | {} | {:.2} |",
                range(&rps, 0),
                range(&p99, 0),
                median(&mut cpu)
            );
            medians.push(median(&mut rps.clone()));
            db.push(median(&mut db_cpu));
        }
        if let [k, p] = medians[..] {
            line += &format!(" {:.2} | {:.2} / {:.2} |", k / p, db[0], db[1]);
        }
        println!("{line}");
    }
    println!(
        "\nreq/s and p99: min–max over the rounds; CPU: median over the rounds of the server process's user + system time per response{}.",
        if names.len() == 2 {
            "; ratio: Kakehashi's median req/s over PostGraphile's; database CPU: PostgreSQL's backends for the database, Kakehashi / PostGraphile"
        } else {
            ""
        }
    );
    if failed > 0 {
        println!("WARNING: {failed} responses were errors or differed from the verified page");
    }
}
