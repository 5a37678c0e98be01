//! `fanout SUBSCRIBERS [DATABASE_URL]`: mutation-to-delivery latency and server memory per
//! connection with SUBSCRIBERS WebSocket subscribers on one instance.
//!
//! The server runs in a child process (this binary, `serve-child`), so its memory is measured
//! alone. The subscribers (staff of the three organizations on 山田 太郎's care team, each
//! socket running `myEvents`) connect over loopback; then one observation is recorded every
//! 250 ms, and each subscriber notes when the event arrives. Latency = arrival − the moment
//! before the `recordObservation` request was sent, so it includes the HTTP mutation, the
//! commit, the hub's read, per-subscriber authorization, GraphQL resolution and the socket.
//!
//! By default the server and the load generator share the machine's cores. To keep them apart:
//! `BENCH_SERVER_CPUS=0 taskset -c 1 bench fanout 10000` (server on CPU 0, subscribers on 1).
//! The sockets of one staff member share one execution (`http::ws::shared`); `FANOUT_DISTINCT=1`
//! gives each socket its own operation name, so that none does.

use std::{
    process::Stdio,
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt, stream};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_tungstenite::{
    MaybeTlsStream,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

pub(crate) const SECRET: &[u8] = b"bench-secret-bench-secret-bench-secret";
const EVENTS: usize = 20;
/// The subscription of socket `i`: the same document for all, or with `FANOUT_DISTINCT=1` one
/// operation name per socket, so that no two sockets share an execution (the worst case of
/// `http::ws::shared`: every socket a viewer of its own).
fn document(i: usize) -> String {
    if std::env::var("FANOUT_DISTINCT").is_ok_and(|v| v == "1") {
        SUBSCRIPTION.replacen("subscription {", &format!("subscription S{i} {{"), 1)
    } else {
        SUBSCRIPTION.to_owned()
    }
}

const SUBSCRIPTION: &str = "subscription { myEvents { cursor kind occurredAt client { displayName } actor { displayName } record { ... on Observation { id fact category } } } }";

/// The server half: seeds the demo data, listens on a free port and prints it.
pub(crate) async fn serve_child(database_url: String) -> anyhow::Result<()> {
    let config = kakehashi::Config {
        database_url,
        bind_addr: "127.0.0.1:0".parse()?,
        jwt_secret: Some(SECRET.to_vec()),
        access_token_ttl: Duration::from_secs(3600),
        db_max_connections: 16,
        ..kakehashi::Config::default()
    };
    let state = kakehashi::build_state(config).await?;
    kakehashi_tools::seed::seed_demo(&state).await?;
    let server = kakehashi::Server::bind(state).await?;
    println!("PORT {}", server.local_addr()?.port());
    server.run(std::future::pending()).await
}

/// Starts this binary's `serve-child` on the database; returns the process, its pid and port.
pub(crate) async fn spawn_server(
    database_url: &str,
) -> anyhow::Result<(tokio::process::Child, u32, u16)> {
    // `BENCH_SERVER_CPUS=0` runs the server on CPU 0 only (`taskset`), so that a load generator
    // started on the other CPUs (`taskset -c 1 bench …`) does not take the server's time.
    let mut command = match std::env::var("BENCH_SERVER_CPUS") {
        Ok(cpus) if !cpus.is_empty() => {
            let mut c = tokio::process::Command::new("taskset");
            c.args(["-c", &cpus]).arg(std::env::current_exe()?);
            c
        }
        _ => tokio::process::Command::new(std::env::current_exe()?),
    };
    let mut child = command
        .args(["serve-child", database_url])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().context("child pid")?;
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let port = loop {
        let line = lines.next_line().await?.context("the server exited")?;
        if let Some(p) = line.strip_prefix("PORT ") {
            break p.parse()?;
        }
    };
    Ok((child, pid, port))
}

pub(crate) fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("VmRSS")
}

/// CPU time (user + system) the process has used, in seconds.
pub(crate) fn cpu_secs(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').context("stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11).context("utime")?.parse()?;
    let stime: f64 = fields.get(12).context("stime")?.parse()?;
    Ok((utime + stime) / 100.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The sequence number in an event message (`"fact":"fanout 12 …"`), without parsing JSON.
fn sequence(text: &[u8]) -> Option<usize> {
    const MARK: &[u8] = b"\"fact\":\"fanout ";
    let start = text.windows(MARK.len()).position(|w| w == MARK)? + MARK.len();
    let digits = &text[start..];
    let end = digits
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    std::str::from_utf8(&digits[..end]).ok()?.parse().ok()
}

/// Which reader the subscribers use once subscribed: by default a minimal reader of the server's
/// WebSocket frames on the bare TCP stream (the handshake, `connection_init` and `subscribe`
/// still go through tokio-tungstenite); `FANOUT_READER=tungstenite` reads every message through
/// tokio-tungstenite, as earlier rounds did. At 10,000 subscribers the reader's cost per message
/// decides when the last subscriber has read an event, so a cheaper reader measures the server's
/// delivery more closely (BENCHMARKS.md).
fn raw_reader() -> bool {
    std::env::var("FANOUT_READER").map_or(true, |v| v != "tungstenite")
}

/// Reads the server's frames (unmasked, never fragmented by this server) from `stream` and hands
/// each text payload to `each` until it returns false, a close frame comes or the stream ends.
async fn read_frames(
    mut stream: tokio::net::TcpStream,
    mut each: impl FnMut(&[u8]) -> bool,
) -> std::io::Result<()> {
    use tokio::io::AsyncReadExt;
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    loop {
        // Every complete frame in the buffer.
        let mut at = 0;
        loop {
            let rest = &buf[at..];
            if rest.len() < 2 {
                break;
            }
            let opcode = rest[0] & 0x0f;
            let (len, header) = match rest[1] & 0x7f {
                126 if rest.len() >= 4 => (usize::from(u16::from_be_bytes([rest[2], rest[3]])), 4),
                127 if rest.len() >= 10 => {
                    let mut n = [0u8; 8];
                    n.copy_from_slice(&rest[2..10]);
                    (
                        usize::try_from(u64::from_be_bytes(n)).unwrap_or(usize::MAX),
                        10,
                    )
                }
                126 | 127 => break,
                n => (usize::from(n), 2),
            };
            if rest.len() < header + len {
                break;
            }
            let payload = &rest[header..header + len];
            match opcode {
                0x1 if !each(payload) => return Ok(()),
                0x8 => return Ok(()),
                _ => {}
            }
            at += header + len;
        }
        buf.drain(..at);
        if buf.capacity() - buf.len() < 1024 {
            buf.reserve(4096);
        }
        if stream.read_buf(&mut buf).await? == 0 {
            return Ok(());
        }
    }
}

pub(crate) async fn run(subscribers: usize, url: Option<String>) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let database_url = url.unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("fanout.db").display()
        )
    });
    let (mut child, pid, port) = spawn_server(&database_url).await?;
    let http_url = format!("http://127.0.0.1:{port}/graphql");
    let ws_url = format!("ws://127.0.0.1:{port}/graphql/ws");
    let http = reqwest::Client::new();
    let login = |email: &'static str| {
        let (http, url) = (http.clone(), http_url.clone());
        async move {
            let body: Value = http
                .post(&url)
                .json(&json!({ "query": "mutation($e: String!) { login(input: { email: $e, password: \"kakehashi-demo\" }) { accessToken } }", "variables": { "e": email } }))
                .send()
                .await?
                .json()
                .await?;
            body["data"]["login"]["accessToken"]
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("login {email}: {body}"))
        }
    };
    let tokens = [
        login("specialist@aozora.example").await?,
        login("staff@himawari.example").await?,
        login("staff@komorebi.example").await?,
    ];
    let writer = login("manager@himawari.example").await?;
    let yamada = {
        let body: Value = http
            .post(&http_url)
            .bearer_auth(&writer)
            .json(&json!({ "query": "{ facility { clients(first: 100) { nodes { id displayName } } } }" }))
            .send()
            .await?
            .json()
            .await?;
        body["data"]["facility"]["clients"]["nodes"]
            .as_array()
            .and_then(|l| l.iter().find(|c| c["displayName"] == "山田 太郎"))
            .and_then(|c| c["id"].as_str())
            .map(str::to_owned)
            .with_context(|| format!("山田 太郎 in {body}"))?
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_kib = rss_kib(pid)?;

    // t0 of each event, in µs since `base`.
    let base = Instant::now();
    let sent_at: Arc<Vec<AtomicU64>> = Arc::new((0..=EVENTS).map(|_| AtomicU64::new(0)).collect());
    let warmed = Arc::new(AtomicUsize::new(0));
    let connect_started = Instant::now();
    let readers: Vec<_> = stream::iter(0..subscribers)
        .map(|i| {
            let token = tokens[i % tokens.len()].clone();
            let ws_url = ws_url.clone();
            let (sent_at, warmed) = (sent_at.clone(), warmed.clone());
            async move {
                let mut request = ws_url.into_client_request()?;
                request.headers_mut().insert(
                    "sec-websocket-protocol",
                    HeaderValue::from_static("graphql-transport-ws"),
                );
                let (mut ws, _) = tokio_tungstenite::connect_async(request).await?;
                ws.send(Message::Text(
                    json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } })
                        .to_string()
                        .into(),
                ))
                .await?;
                ws.next().await.context("ack")??;
                ws.send(Message::Text(
                    json!({ "type": "subscribe", "id": "1", "payload": { "query": document(i) } })
                        .to_string()
                        .into(),
                ))
                .await?;
                anyhow::Ok(tokio::spawn(async move {
                    let mut latencies = Vec::with_capacity(EVENTS);
                    let mut live = false;
                    // Notes one message; false once the last event has arrived.
                    let mut note = |text: &[u8]| {
                        let arrived = base.elapsed().as_micros() as u64;
                        match sequence(text) {
                            Some(0) if !live => {
                                live = true;
                                warmed.fetch_add(1, Ordering::Relaxed);
                            }
                            // Later warm-up events are not measured.
                            Some(0) => {}
                            Some(seq) if seq <= EVENTS => {
                                let t0 = sent_at[seq].load(Ordering::Acquire);
                                latencies.push((arrived.saturating_sub(t0)) as f64 / 1000.0);
                                return seq < EVENTS;
                            }
                            _ => {}
                        }
                        true
                    };
                    if raw_reader() {
                        // Tungstenite read up to the acknowledgement, and the server sends
                        // nothing else before the first event (events start once every socket is
                        // subscribed): what follows is still in the socket. A lost byte would
                        // show as a missing delivery, which fails the run.
                        if let MaybeTlsStream::Plain(tcp) = ws.into_inner() {
                            let _ = read_frames(tcp, note).await;
                        }
                    } else {
                        while let Some(Ok(message)) = ws.next().await {
                            let Message::Text(text) = message else { continue };
                            if !note(text.as_bytes()) {
                                break;
                            }
                        }
                    }
                    latencies
                }))
            }
        })
        .buffer_unordered(100)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let connect_secs = connect_started.elapsed().as_secs_f64();

    let record = |seq: usize| {
        let (http, url, writer, yamada) = (
            http.clone(),
            http_url.clone(),
            writer.clone(),
            yamada.clone(),
        );
        async move {
            let body: Value = http
                .post(&url)
                .bearer_auth(&writer)
                .json(&json!({
                    "query": "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { observation { id } } }",
                    "variables": { "i": { "clientId": yamada, "content": {
                        "fact": format!("fanout {seq}: 作業を続けた。"), "category": "ROUTINE",
                        "occurredFrom": chrono::Utc::now().to_rfc3339(), "visibility": "CARE_TEAM" } } }
                }))
                .send()
                .await?
                .json()
                .await?;
            if body.get("errors").is_some() {
                bail!("recordObservation failed: {body}");
            }
            anyhow::Ok(())
        }
    };
    // Warm-up: every subscriber is live once it has received a warm-up event (sequence 0). A
    // subscription without a cursor starts at the moment the server registers it, which for the
    // last sockets can come after the first warm-up event: so one is recorded every 2 s until
    // all have received one.
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut next_warm_up = Instant::now();
    while warmed.load(Ordering::Relaxed) < subscribers {
        if Instant::now() > deadline {
            bail!(
                "only {} of {subscribers} subscribers went live",
                warmed.load(Ordering::Relaxed)
            );
        }
        if Instant::now() >= next_warm_up {
            record(0).await?;
            next_warm_up = Instant::now() + Duration::from_secs(2);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Warm-up events still in flight must not count as measured ones.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let connected_kib = rss_kib(pid)?;
    let cpu_before = cpu_secs(pid)?;
    let own_cpu_before = cpu_secs(std::process::id())?;

    for seq in 1..=EVENTS {
        tokio::time::sleep(Duration::from_millis(250)).await;
        sent_at[seq].store(base.elapsed().as_micros() as u64, Ordering::Release);
        record(seq).await?;
    }
    let mut all = Vec::with_capacity(subscribers * EVENTS);
    let collect = async {
        for r in readers {
            all.extend(r.await?);
        }
        anyhow::Ok(())
    };
    tokio::time::timeout(Duration::from_secs(300), collect)
        .await
        .context("deliveries did not finish in 5 minutes")??;
    let peak_kib = rss_kib(pid)?;
    let server_cpu = cpu_secs(pid)? - cpu_before;
    let client_cpu = cpu_secs(std::process::id())? - own_cpu_before;
    let _ = child.kill().await;

    all.sort_by(f64::total_cmp);
    let expected = subscribers * EVENTS;
    println!(
        "database: {}",
        if database_url.starts_with("sqlite") {
            "SQLite (temporary file)"
        } else {
            "PostgreSQL"
        }
    );
    println!("subscribers: {subscribers} (connected and subscribed in {connect_secs:.1} s)");
    println!(
        "deliveries: {} of {expected} ({EVENTS} events, one every 250 ms)",
        all.len()
    );
    println!(
        "mutation-to-delivery latency: p50 {:.1} ms   p99 {:.1} ms   max {:.1} ms",
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        all.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "server CPU: {server_cpu:.2} s for {} deliveries ({:.1} µs per delivery)",
        all.len(),
        server_cpu * 1e6 / all.len().max(1) as f64
    );
    println!(
        "load generator CPU on the same 2 cores: {client_cpu:.2} s ({:.1} µs per delivery)",
        client_cpu * 1e6 / all.len().max(1) as f64
    );
    println!(
        "server memory: idle {:.1} MiB, with subscribers {:.1} MiB ({:.1} KiB per connection), after the run {:.1} MiB",
        idle_kib as f64 / 1024.0,
        connected_kib as f64 / 1024.0,
        (connected_kib.saturating_sub(idle_kib)) as f64 / subscribers as f64,
        peak_kib as f64 / 1024.0
    );
    if all.len() != expected {
        bail!("{} deliveries missing", expected - all.len());
    }
    Ok(())
}
