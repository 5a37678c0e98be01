//! Counts the SQL statements a server sends to PostgreSQL, on the wire.
//!
//! `pg_stat_statements` needs `shared_preload_libraries` (a server restart) and the statement
//! log needs the server's configuration and its log file; neither is the harness's to change.
//! A loopback proxy between a server and PostgreSQL needs neither, and counts every server the
//! same way whatever its driver: each simple `Query` message and each `Execute` of the extended
//! protocol is one statement, named by its first SQL word (`SELECT`, `INSERT`, `BEGIN`, …, the
//! word the `Parse` of its prepared statement began with), and each `Query` or `Sync` is one
//! round trip (the client waits for the server's `ReadyForQuery`); `Parse` messages are counted
//! apart (a statement prepared again rather than reused). The proxy refuses TLS (a
//! client that prefers it goes on in plain text) and adds a hop, so it is used only to count,
//! never for a measured round.

use std::{
    collections::{BTreeMap, HashMap},
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use anyhow::Context;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// Statements by first SQL word, [`ROUND_TRIPS`] and [`PREPARES`].
pub(crate) type Counts = BTreeMap<String, u64>;

/// The running proxy's counters.
#[derive(Clone, Default)]
pub(crate) struct Counter(Arc<Mutex<Counts>>);

impl Counter {
    pub(crate) fn snapshot(&self) -> Counts {
        self.0.lock().map(|c| c.clone()).unwrap_or_default()
    }

    fn add(&self, key: &str) {
        if let Ok(mut c) = self.0.lock() {
            *c.entry(key.to_owned()).or_default() += 1;
        }
    }
}

/// The key under which round trips are counted.
pub(crate) const ROUND_TRIPS: &str = "round trips";
/// The key under which `Parse` messages are counted: statements prepared, not reused.
pub(crate) const PREPARES: &str = "prepares";

/// Listens on a free loopback port and forwards each connection to `upstream`, counting.
pub(crate) async fn start(upstream: SocketAddr) -> anyhow::Result<(u16, Counter)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let counter = Counter::default();
    let c = counter.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let c = c.clone();
            tokio::spawn(async move {
                if let Ok(server) = TcpStream::connect(upstream).await {
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let _ = relay(client, server, c).await;
                }
            });
        }
    });
    Ok((port, counter))
}

/// The first SQL word of a statement, upper-cased.
fn verb(sql: &[u8]) -> String {
    String::from_utf8_lossy(sql)
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_start_matches('(')
        .to_ascii_uppercase()
}

/// The NUL-terminated string at the start of `b`, and the rest.
fn cstr(b: &[u8]) -> (&[u8], &[u8]) {
    match b.iter().position(|&x| x == 0) {
        Some(i) => (&b[..i], &b[i + 1..]),
        None => (b, &[]),
    }
}

async fn relay(mut client: TcpStream, server: TcpStream, counter: Counter) -> anyhow::Result<()> {
    // Startup: SSLRequest / GSSENCRequest are answered "no" here; the startup message passes.
    let startup = loop {
        let len = client.read_u32().await? as usize;
        let mut body = vec![0; len.checked_sub(4).context("startup length")?];
        client.read_exact(&mut body).await?;
        let code = body
            .get(..4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        if matches!(code, Some(80877103 | 80877104)) {
            client.write_all(b"N").await?;
            continue;
        }
        let mut message = (len as u32).to_be_bytes().to_vec();
        message.extend_from_slice(&body);
        break message;
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    server_write.write_all(&startup).await?;
    let back = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
    });
    // Per connection: prepared statement and portal names → their first SQL word.
    let mut statements: HashMap<Vec<u8>, String> = HashMap::new();
    let mut portals: HashMap<Vec<u8>, String> = HashMap::new();
    let forward = async {
        loop {
            let kind = client_read.read_u8().await?;
            let len = client_read.read_u32().await? as usize;
            let mut body = vec![0; len.checked_sub(4).context("message length")?];
            client_read.read_exact(&mut body).await?;
            match kind {
                b'Q' => {
                    counter.add(&verb(cstr(&body).0));
                    counter.add(ROUND_TRIPS);
                }
                b'P' => {
                    let (name, rest) = cstr(&body);
                    statements.insert(name.to_vec(), verb(cstr(rest).0));
                    counter.add(PREPARES);
                }
                b'B' => {
                    let (portal, rest) = cstr(&body);
                    let statement = statements.get(cstr(rest).0).cloned().unwrap_or_default();
                    portals.insert(portal.to_vec(), statement);
                }
                b'E' => {
                    let statement = portals.get(cstr(&body).0).cloned().unwrap_or_default();
                    counter.add(&statement);
                }
                b'S' => counter.add(ROUND_TRIPS),
                _ => {}
            }
            // One write per message: with Nagle's algorithm, three small ones could wait for
            // delayed acknowledgements.
            let mut message = Vec::with_capacity(1 + len);
            message.push(kind);
            message.extend_from_slice(&(len as u32).to_be_bytes());
            message.extend_from_slice(&body);
            server_write.write_all(&message).await?;
            if kind == b'X' {
                return anyhow::Ok(());
            }
        }
    };
    let result = forward.await;
    back.abort();
    result
}

/// `after − before` per key.
pub(crate) fn delta(before: &Counts, after: &Counts) -> Counts {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, v)| *v > 0)
        .collect()
}
