//! A server that stays up, through real sockets: idle and slow clients are cut by the header,
//! body and idle timeouts, connections over the bounds get health checks only, a WebSocket
//! outlives the HTTP timeouts, an oversized body reaches `fetch()` as a 413, and browsers get
//! CORS for listed origins only, `nosniff` everywhere and `no-store` on `/graphql`.
//!
//! Timeouts are shortened to fractions of a second so the suite stays fast; the measured numbers
//! are printed (`cargo test hardening -- --nocapture`).

use std::time::Duration;

use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    time::Instant,
};

use crate::helpers::*;

/// A client without a connection pool: the servers here close idle connections within a second,
/// and a pooled connection could be reused in the instant the server closes it.
fn fresh_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A response as read off the socket.
struct Raw {
    status: u16,
    head: String,
    body: String,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Reads one response with a `Content-Length` body.
async fn read_response(s: &mut TcpStream) -> Raw {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let status = head.split(' ').nth(1).unwrap().parse().unwrap();
            let raw = Raw {
                status,
                head,
                body: String::new(),
            };
            let length: usize = raw
                .header("content-length")
                .map_or(0, |v| v.parse().unwrap());
            while buf.len() < end + 4 + length {
                let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut chunk))
                    .await
                    .unwrap()
                    .unwrap();
                assert!(n > 0, "closed in the middle of a body");
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + length]).into_owned();
            return Raw { body, ..raw };
        }
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut chunk))
            .await
            .expect("a response in time")
            .expect("read");
        assert!(n > 0, "closed before a response");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Waits until the server closes `s` (end of stream or reset), at most `limit`; returns how
/// long that took, or `None` if it stayed open.
async fn closed_within(s: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut chunk = [0u8; 1024];
    loop {
        let left = limit.checked_sub(started.elapsed())?;
        match tokio::time::timeout(left, s.read(&mut chunk)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n")
}

fn post_graphql(query: &str) -> String {
    let body = json!({ "query": query }).to_string();
    format!(
        "POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// One request on a new connection; returns the response and how long it took.
async fn once(app: &TestApp, request: &str) -> (Raw, Duration) {
    let started = Instant::now();
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let res = read_response(&mut s).await;
    (res, started.elapsed())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::test]
async fn connections_over_the_bound_get_health_checks_only_and_idle_ones_are_shed() {
    const BOUND: usize = 200;
    const OVER: usize = 1000;
    let header = Duration::from_millis(1500);
    let app = TestApp::spawn_with(move |c| {
        c.max_connections = BOUND;
        c.header_read_timeout = header;
        c.idle_timeout = header;
    })
    .await;
    // The bound is reached by clients that connect and never send.
    let opened = Instant::now();
    let mut idle = Vec::new();
    for _ in 0..BOUND {
        idle.push(TcpStream::connect(app.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Health checks are still answered, each on a new connection, like a load balancer's.
    let mut latencies = Vec::new();
    for path in ["/healthz", "/readyz"].repeat(10) {
        let (res, took) = once(&app, &get(path)).await;
        assert_eq!(res.status, 200, "{path}: {}", res.body);
        assert_eq!(res.header("connection"), Some("close"));
        latencies.push(took);
    }
    latencies.sort();
    // Anything else is told to come back, with a GraphQL-shaped error.
    let (res, _) = once(&app, &post_graphql("{ __typename }")).await;
    assert_eq!(res.status, 503, "{}", res.body);
    assert_eq!(res.header("retry-after"), Some("1"));
    assert_eq!(res.header("connection"), Some("close"));
    let body: Value = serde_json::from_str(&res.body).unwrap();
    assert_error(&body, "SERVICE_UNAVAILABLE");

    // Many more idle connections: a few wait in the lane, the rest are closed at once.
    let mut over = Vec::new();
    for _ in 0..OVER {
        over.push(TcpStream::connect(app.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut refused = 0;
    for s in &mut over {
        if closed_within(s, Duration::from_millis(20)).await.is_some() {
            refused += 1;
        }
    }
    let lane = OVER - refused;
    assert!(
        (1..=64).contains(&lane),
        "{lane} connections over the bound stayed open"
    );

    // The idle connections under the bound are closed by the header timeout.
    let mut last = Duration::ZERO;
    for s in idle.iter_mut().chain(over.iter_mut()) {
        let left = (header + Duration::from_secs(5)).saturating_sub(opened.elapsed());
        assert!(
            closed_within(s, left).await.is_some(),
            "an idle connection outlived the header timeout"
        );
        last = last.max(opened.elapsed());
    }
    assert!(last >= header, "closed before the header timeout: {last:?}");

    // And the server is itself again: a real request on a new connection succeeds.
    let started = Instant::now();
    let body: Value = fresh_client()
        .post(&app.url)
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"]["__typename"], "Query");
    eprintln!(
        "hardening: {BOUND} idle connections filled MAX_CONNECTIONS={BOUND}; health checks over \
         the bound: median {:.1} ms, max {:.1} ms; {OVER} more connections: {refused} closed at \
         once, {lane} held in the health-check lane; the last idle connection was closed {:.0} ms \
         after the first opened (header timeout {:.0} ms); a GraphQL request then took {:.1} ms",
        ms(latencies[latencies.len() / 2]),
        ms(latencies[latencies.len() - 1]),
        ms(last),
        ms(header),
        ms(started.elapsed()),
    );
}

#[tokio::test]
async fn slow_clients_are_cut_and_a_keep_alive_connection_may_idle_longer_than_headers_take() {
    let header = Duration::from_millis(500);
    let body = Duration::from_millis(500);
    let idle = Duration::from_secs(2);
    let app = TestApp::spawn_with(move |c| {
        c.header_read_timeout = header;
        c.body_read_timeout = body;
        c.idle_timeout = idle;
    })
    .await;
    let margin = Duration::from_secs(5);
    // Our clock starts a moment after the server's may have; timers fire late, never early.
    let early = Duration::from_millis(20);

    // A client that connects and never sends a byte.
    let mut silent = TcpStream::connect(app.addr).await.unwrap();
    let silent_took = closed_within(&mut silent, header + margin).await.unwrap();
    assert!(silent_took >= header - early, "{silent_took:?}");

    // A slow-loris client trickling its headers, a byte every 50 ms (it would take 10 s).
    let mut loris = TcpStream::connect(app.addr).await.unwrap();
    let request = format!(
        "GET /healthz HTTP/1.1\r\nHost: test\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(160)
    );
    let started = Instant::now();
    let mut sent = 0;
    for byte in request.as_bytes() {
        if loris.write_all(&[*byte]).await.is_err() {
            break;
        }
        sent += 1;
        let mut probe = [0u8; 64];
        match tokio::time::timeout(Duration::from_millis(50), loris.read(&mut probe)).await {
            Err(_) => {}
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(_)) => panic!("the slow-loris request was answered"),
        }
    }
    let loris_took = started.elapsed();
    assert!(sent < request.len(), "the whole request was accepted");
    assert!(
        loris_took >= header - early && loris_took < header + margin,
        "{loris_took:?}"
    );

    // Headers on time, then the body stalls: 408 and the connection closes.
    let mut stalled = TcpStream::connect(app.addr).await.unwrap();
    stalled
        .write_all(
            b"POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"query\":",
        )
        .await
        .unwrap();
    let started = Instant::now();
    let res = read_response(&mut stalled).await;
    let stalled_took = started.elapsed();
    assert_eq!(res.status, 408, "{}", res.body);
    assert_eq!(res.header("connection"), Some("close"));
    assert_error(&serde_json::from_str(&res.body).unwrap(), "BAD_USER_INPUT");
    assert!(closed_within(&mut stalled, margin).await.is_some());
    assert!(
        stalled_took >= body - early && stalled_took < body + margin,
        "{stalled_took:?}"
    );

    // A keep-alive connection may wait longer than the header timeout between requests...
    let mut kept = TcpStream::connect(app.addr).await.unwrap();
    kept.write_all(get("/healthz").as_bytes()).await.unwrap();
    let first = read_response(&mut kept).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("keep-alive"), Some("timeout=2"));
    tokio::time::sleep(header * 2).await;
    kept.write_all(get("/healthz").as_bytes()).await.unwrap();
    assert_eq!(read_response(&mut kept).await.status, 200);
    // ...and is closed after the idle timeout.
    // (The server's clock started when it wrote the response, a moment before we read it.)
    let idle_took = closed_within(&mut kept, idle + margin).await.unwrap();
    assert!(
        idle_took >= idle - Duration::from_millis(300),
        "{idle_took:?}"
    );
    eprintln!(
        "hardening: silent connection closed after {:.0} ms, slow loris after {:.0} ms ({sent} \
         of {} bytes sent), stalled body answered 408 after {:.0} ms (header and body timeouts \
         {:.0} ms); an idle keep-alive connection closed after {:.0} ms (idle timeout {:.0} ms)",
        ms(silent_took),
        ms(loris_took),
        request.len(),
        ms(stalled_took),
        ms(header),
        ms(idle_took),
        ms(idle),
    );
}

#[tokio::test]
async fn a_websocket_subscription_outlives_the_http_timeouts() {
    let app = TestApp::spawn_with(|c| {
        c.header_read_timeout = Duration::from_millis(300);
        c.body_read_timeout = Duration::from_millis(300);
        c.idle_timeout = Duration::from_millis(500);
    })
    .await;
    let client = fresh_client();
    let gql = |token: String, query: &'static str, variables: Value| {
        let client = client.clone();
        let url = app.url.clone();
        async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "query": query, "variables": variables }))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let login = client
        .post(&app.url)
        .json(&json!({ "query": "mutation($i: LoginInput!) { login(input: $i) { accessToken } }", "variables": { "i": { "email": "staff@himawari.example", "password": DEMO_PASSWORD } } }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let token = login["data"]["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let clients = gql(
        token.clone(),
        "{ facility { clients(first: 1) { nodes { id } } } }",
        json!({}),
    )
    .await;
    let client_id = clients["data"]["facility"]["clients"]["nodes"][0]["id"].clone();

    let mut ws = crate::subscriptions::Raw::ready(&app, &token).await;
    ws.subscribe("1", "subscription { myEvents { kind } }", json!({}))
        .await;
    crate::subscriptions::live_subscribers(&app, 1).await;
    // Six idle timeouts without a frame either way (the WebSocket pings every 15 s).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let recorded = gql(
        token.clone(),
        "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { observation { id } } }",
        json!({ "i": { "clientId": client_id, "content": { "fact": "午後も落ち着いて作業した。", "category": "ROUTINE", "occurredFrom": chrono::Utc::now().to_rfc3339() } } }),
    )
    .await;
    assert!(recorded.get("errors").is_none(), "{recorded}");
    assert_eq!(ws.event("myEvents").await["kind"], "OBSERVATION_RECORDED");
}

#[tokio::test]
async fn oversized_bodies_reach_fetch_as_413() {
    let app = TestApp::spawn().await;
    let dir = js_dir();
    let out = tokio::process::Command::new("node")
        .arg("oversized.mjs")
        .arg(&app.url)
        .current_dir(dir)
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    for line in &lines[..3] {
        assert_eq!(line["status"], 413, "fetch must receive the 413: {line}");
        assert_error(&line["body"], "BAD_USER_INPUT");
    }
    assert_eq!(lines[3]["status"], 200, "{}", lines[3]);
    eprintln!("hardening: fetch() with oversized bodies: {stdout}");

    // The rest of the body was read, not left unread: the connection serves the next request.
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    let big = 5 * 1024 * 1024;
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {big}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&vec![b' '; big]).await.unwrap();
    let res = read_response(&mut s).await;
    assert_eq!(res.status, 413);
    assert_eq!(res.header("connection"), None);
    s.write_all(post_graphql("{ __typename }").as_bytes())
        .await
        .unwrap();
    assert_eq!(read_response(&mut s).await.status, 200);
}

#[tokio::test]
async fn browsers_get_cors_for_listed_origins_only_nosniff_everywhere_and_no_store_on_graphql() {
    const APP: &str = "https://app.example.jp";
    let app = TestApp::spawn_with(|c| c.cors_allowed_origins = vec![APP.to_owned()]).await;
    let client = &app.client;
    let preflight = |origin: &'static str| {
        client
            .request(reqwest::Method::OPTIONS, &app.url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let res = preflight(APP).await.unwrap();
    assert_eq!(res.status(), 204);
    let h = res.headers();
    assert_eq!(h["access-control-allow-origin"], APP);
    assert_eq!(h["access-control-allow-methods"], "GET, POST");
    let allowed = h["access-control-allow-headers"].to_str().unwrap();
    for name in ["authorization", "content-type", "accept", "x-request-id"] {
        assert!(allowed.contains(name), "{allowed}");
    }
    assert!(h.contains_key("access-control-max-age"));
    assert!(h.contains_key("x-request-id"));

    // Another origin gets no CORS header at all: its preflight is an unknown OPTIONS request.
    let res = preflight("https://evil.example").await.unwrap();
    assert_eq!(res.status(), 405);
    assert!(
        !res.headers()
            .keys()
            .any(|k| k.as_str().starts_with("access-control-")),
        "{:?}",
        res.headers()
    );

    let post = |origin: &'static str| {
        client
            .post(&app.url)
            .header("origin", origin)
            .json(&json!({ "query": "{ __typename }" }))
            .send()
    };
    let res = post(APP).await.unwrap();
    assert_eq!(res.status(), 200);
    let h = res.headers();
    assert_eq!(h["access-control-allow-origin"], APP);
    assert!(
        h["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("x-request-id")
    );
    assert_eq!(h["vary"], "origin");
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let res = post("https://evil.example").await.unwrap();
    assert!(
        !res.headers()
            .keys()
            .any(|k| k.as_str().starts_with("access-control-"))
    );

    // nosniff everywhere; no-store on /graphql (GET, errors, GraphiQL's page), not elsewhere.
    let base = format!("http://{}", app.addr);
    for (url, accept, store) in [
        (
            format!("{base}/graphql?query=%7B__typename%7D"),
            "application/json",
            false,
        ),
        (
            format!("{base}/graphql?query=%7B"),
            "application/json",
            false,
        ),
        (format!("{base}/graphql"), "text/html", false),
        (format!("{base}/healthz"), "*/*", true),
        (format!("{base}/graphiql/nothing.js"), "*/*", true),
        (format!("{base}/no-such-path"), "*/*", true),
    ] {
        let res = client
            .get(&url)
            .header("accept", accept)
            .send()
            .await
            .unwrap();
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{url}");
        let cache = h.get("cache-control").map(|v| v.to_str().unwrap());
        if store {
            assert_ne!(cache, Some("no-store"), "{url}");
        } else {
            assert_eq!(cache, Some("no-store"), "{url}");
        }
    }

    // Without a list (the default), no origin is allowed: same-origin pages need none.
    let plain = TestApp::spawn().await;
    let res = plain
        .client
        .request(reqwest::Method::OPTIONS, &plain.url)
        .header("origin", APP)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert!(!res.headers().contains_key("access-control-allow-origin"));
}
