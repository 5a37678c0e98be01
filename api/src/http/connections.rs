//! Accepting connections: the bounds on how many are served at once, the health-check lane for
//! those over the bounds, and graceful shutdown. The per-connection clocks live in
//! [`super::timeouts`].
//!
//! Why this is not `axum::serve`: it accepts every connection and gives none a deadline, so
//! 20,000 idle sockets from one client used up the open-file limit (`accept error: Too many open
//! files`) and every real request waited until they went away.
//!
//! - **Bounds.** At most `MAX_CONNECTIONS` at once (WebSockets included), lowered at start to
//!   what the open-file limit leaves after the database pools and files; at most
//!   `MAX_CONNECTIONS_PER_ADDRESS` from one client address, except loopback (a reverse proxy or
//!   benchmark on the same host carries many clients on one address).
//! - **The lane.** A connection over a bound is still accepted, into a small lane: its request
//!   must arrive within a second, `/healthz` and `/readyz` are answered as usual, anything else
//!   gets 503 with `Retry-After`, and the connection closes. So a load balancer keeps seeing the
//!   instance alive and clients get an answer they can act on, instead of a hang. When the lane
//!   is full too, the connection is closed at once. An address under the per-address bound may
//!   hold only a quarter of the lane, so that a single client cannot take it from the health
//!   checks.
//! - **Open files.** The soft `RLIMIT_NOFILE` is raised to the hard limit at start (through the
//!   `rlimit` crate: our code has no `unsafe`).
//! - **Shutdown.** On the signal the listener closes, idle connections close, requests in flight
//!   finish, and the caller's shutdown hook (the hub's 1001 to WebSockets) runs; `serve` returns
//!   when the last HTTP connection has ended.
//!
//! Only HTTP/1.1 is served, as before (axum's HTTP/2 feature was never on): it is what reverse
//! proxies speak to their upstreams and what WebSocket upgrades need.

use std::{
    collections::HashMap,
    io,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Body,
    extract::State,
    http::{HeaderValue, Request, StatusCode, header},
    response::Response,
};
use hyper_util::rt::TokioIo;
use tokio::{net::TcpListener, sync::watch, time::Instant};

use super::timeouts::{Activity, ConnService, OverBound, Timeouts, Watched};
use crate::{config::Config, error::ErrorCode, http::AppState};

/// File descriptors kept for everything that is not a client connection: the database pools,
/// webhook deliveries, log and data files, the runtime's own.
const RESERVED_FILES: u64 = 256;
/// The longest a lane connection may take to send its request: health checkers send at once.
const LANE_TIMEOUT: Duration = Duration::from_secs(1);
/// How often at most a warning says that connections are over their bounds.
const WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// The effective bounds on connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bounds {
    pub total: usize,
    /// 0: no bound per address.
    pub per_address: usize,
    /// Connections over the bounds accepted for health checks.
    pub lane: usize,
}

impl Bounds {
    /// The configured bounds, with the total lowered to what `open_files` allows (`None`: the
    /// limit is unknown).
    pub(crate) fn new(config: &Config, open_files: Option<u64>) -> Self {
        let configured = config.max_connections.max(1);
        // A sixteenth of the bound, between 4 and 64: enough for health checks and a few
        // refusals in flight, too few to matter for memory or file descriptors.
        let lane = (configured / 16).clamp(4, 64);
        let total = match open_files {
            Some(limit) => {
                let reserved =
                    RESERVED_FILES + u64::from(config.db_max_connections) + 2 + lane as u64;
                let allowed = usize::try_from(limit.saturating_sub(reserved)).unwrap_or(usize::MAX);
                configured.min(allowed.max(1))
            }
            None => configured,
        };
        Self {
            total,
            per_address: config.max_connections_per_address,
            lane,
        }
    }
}

/// Where an accepted connection goes.
pub(crate) enum Admit {
    Serve(Permit),
    Lane(Permit),
    Refuse,
}

/// Counts open connections against the [`Bounds`].
pub(crate) struct Admission {
    bounds: Bounds,
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    open: usize,
    lane_open: usize,
    /// (served, in the lane) per bounded address; entries at zero are removed.
    by_address: HashMap<IpAddr, (usize, usize)>,
    last_warning: Option<Instant>,
    over_since_warning: u64,
}

impl Admission {
    pub(crate) fn new(bounds: Bounds) -> Arc<Self> {
        Arc::new(Self {
            bounds,
            counts: Mutex::new(Counts::default()),
        })
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The address the per-address bound counts, if it applies to `ip`.
    fn bounded_address(&self, ip: IpAddr) -> Option<IpAddr> {
        let ip = ip.to_canonical();
        (self.bounds.per_address > 0 && !ip.is_loopback()).then_some(ip)
    }

    /// Decides for a new connection from `ip`.
    pub(crate) fn admit(self: &Arc<Self>, ip: IpAddr) -> Admit {
        let address = self.bounded_address(ip);
        let b = self.bounds;
        let mut c = self.counts();
        let (served, in_lane) = address
            .and_then(|a| c.by_address.get(&a).copied())
            .unwrap_or((0, 0));
        let address_ok = address.is_none() || served < b.per_address;
        if c.open < b.total && address_ok {
            c.open += 1;
            if let Some(a) = address {
                c.by_address.entry(a).or_default().0 += 1;
            }
            return Admit::Serve(self.permit(address, false));
        }
        self.warn(&mut c, address_ok);
        let lane_share = (b.lane / 4).max(1);
        if c.lane_open < b.lane && (address.is_none() || in_lane < lane_share) {
            c.lane_open += 1;
            if let Some(a) = address {
                c.by_address.entry(a).or_default().1 += 1;
            }
            return Admit::Lane(self.permit(address, true));
        }
        Admit::Refuse
    }

    fn permit(self: &Arc<Self>, address: Option<IpAddr>, lane: bool) -> Permit {
        Permit {
            admission: self.clone(),
            address,
            lane,
        }
    }

    /// Says, at most every [`WARNING_INTERVAL`], that connections are over their bounds. The
    /// client's address is not logged: it is personal data, like everything else the logs omit.
    fn warn(&self, c: &mut Counts, address_ok: bool) {
        c.over_since_warning += 1;
        let now = Instant::now();
        if c.last_warning.is_some_and(|t| now < t + WARNING_INTERVAL) {
            return;
        }
        if address_ok {
            tracing::warn!(
                open = c.open,
                max_connections = self.bounds.total,
                over_bound = c.over_since_warning,
                "connection bound reached: new connections get health checks only (MAX_CONNECTIONS)"
            );
        } else {
            tracing::warn!(
                max_connections_per_address = self.bounds.per_address,
                over_bound = c.over_since_warning,
                "a client address reached its connection bound: its new connections get health \
                 checks only (MAX_CONNECTIONS_PER_ADDRESS; behind a reverse proxy on another \
                 host, set it to 0)"
            );
        }
        c.last_warning = Some(now);
        c.over_since_warning = 0;
    }
}

/// A connection's place under the bounds, given back when the socket closes.
pub(crate) struct Permit {
    admission: Arc<Admission>,
    address: Option<IpAddr>,
    lane: bool,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut c = self.admission.counts();
        if self.lane {
            c.lane_open = c.lane_open.saturating_sub(1);
        } else {
            c.open = c.open.saturating_sub(1);
        }
        if let Some(a) = self.address
            && let Some(entry) = c.by_address.get_mut(&a)
        {
            let n = if self.lane {
                &mut entry.1
            } else {
                &mut entry.0
            };
            *n = n.saturating_sub(1);
            if *entry == (0, 0) {
                c.by_address.remove(&a);
            }
        }
    }
}

/// Raises the soft open-file limit to the hard one; returns the limit now in force.
pub(crate) fn raise_open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(n) => Some(n),
            Err(e) => {
                tracing::warn!(error = %e, "could not read or raise the open-file limit");
                rlimit::getrlimit(rlimit::Resource::NOFILE)
                    .ok()
                    .map(|(soft, _)| soft)
            }
        }
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then drains as the module doc says.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let open_files = raise_open_file_limit();
    let bounds = Bounds::new(config, open_files);
    if bounds.total < config.max_connections {
        tracing::warn!(
            max_connections = config.max_connections,
            open_file_limit = open_files,
            effective = bounds.total,
            "MAX_CONNECTIONS lowered to what the open-file limit allows"
        );
    }
    tracing::info!(
        max_connections = bounds.total,
        max_connections_per_address = bounds.per_address,
        header_read_timeout_s = config.header_read_timeout.as_secs_f64(),
        body_read_timeout_s = config.body_read_timeout.as_secs_f64(),
        idle_timeout_s = config.idle_timeout.as_secs_f64(),
        "connection limits"
    );
    let admission = Admission::new(bounds);
    let timeouts = Timeouts {
        header: config.header_read_timeout,
        body: config.body_read_timeout,
        idle: config.idle_timeout,
    };
    let lane_timeouts = Timeouts {
        header: timeouts.header.min(LANE_TIMEOUT),
        body: timeouts.body.min(LANE_TIMEOUT),
        idle: timeouts.idle.min(LANE_TIMEOUT),
    };
    let http = hyper::server::conn::http1::Builder::new();
    let mut lane_http = hyper::server::conn::http1::Builder::new();
    lane_http.keep_alive(false);

    // Dropped to tell every connection to finish; each connection holds a `done` receiver
    // until it has ended, so `closed()` resolves with the last one.
    let (stop_tx, stop_rx) = watch::channel(());
    let (done_tx, done_rx) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let (permit, over_bound) = match admission.admit(peer.ip()) {
            Admit::Serve(p) => (p, false),
            Admit::Lane(p) => (p, true),
            Admit::Refuse => continue,
        };
        let activity = Activity::new(if over_bound { lane_timeouts } else { timeouts });
        let io = TokioIo::new(Watched::new(stream, activity.clone(), permit));
        let service = ConnService {
            router: router.clone(),
            activity,
            over_bound,
            peer,
        };
        let builder = if over_bound { &lane_http } else { &http };
        let conn = builder.serve_connection(io, service).with_upgrades();
        let mut stop = stop_rx.clone();
        let done = done_rx.clone();
        tokio::spawn(async move {
            tokio::pin!(conn);
            let mut stopping = false;
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(error = %e, "connection ended");
                        }
                        break;
                    }
                    _ = stop.changed(), if !stopping => {
                        stopping = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(done);
        });
    }
    drop(listener);
    drop(stop_rx);
    let _ = stop_tx.send(());
    drop(done_rx);
    done_tx.closed().await;
}

/// Accept errors: one connection's (reset before it was accepted) are skipped; others (out of
/// files or memory) wait a moment, since retrying at once would spin.
async fn accept_failed(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept error");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Router middleware: on a connection over the bounds, serves health checks and answers
/// anything else 503 with `Retry-After` (after reading a small body, so that `fetch()` sees the
/// answer; the connection closes after it).
pub(crate) async fn over_bound_gate(
    State(state): State<AppState>,
    req: Request<Body>,
    next: axum::middleware::Next,
) -> Response {
    if req.extensions().get::<OverBound>().is_none()
        || matches!(req.uri().path(), "/healthz" | "/readyz")
    {
        return next.run(req).await;
    }
    let limit = state.config.max_body_bytes as u64;
    super::body::discard(req.into_body(), limit).await;
    let mut res = super::error_response(
        StatusCode::SERVICE_UNAVAILABLE,
        super::MediaType::Json,
        ErrorCode::ServiceUnavailable,
        "The server is at its connection limit: retry in a moment.",
    );
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    res
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    fn admission(total: usize, per_address: usize) -> Arc<Admission> {
        Admission::new(Bounds {
            total,
            per_address,
            lane: 4,
        })
    }

    fn kind(a: &Admit) -> &'static str {
        match a {
            Admit::Serve(_) => "serve",
            Admit::Lane(_) => "lane",
            Admit::Refuse => "refuse",
        }
    }

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn one_address_over_its_bound_goes_to_its_share_of_the_lane_and_others_are_served() {
        let adm = admission(100, 2);
        let mut held = Vec::new();
        let mut seen = Vec::new();
        for _ in 0..4 {
            let a = adm.admit(A);
            seen.push(kind(&a));
            held.push(a);
        }
        // Two served, one in the lane (a quarter of 4), then refused.
        assert_eq!(seen, ["serve", "serve", "lane", "refuse"]);
        assert_eq!(kind(&adm.admit(B)), "serve");
        // The same address in its IPv4-mapped IPv6 form is the same client.
        let mapped = IpAddr::V6(Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped());
        assert_eq!(kind(&adm.admit(mapped)), "refuse");
        // Closing a served connection frees its place.
        held.remove(0);
        assert_eq!(kind(&adm.admit(A)), "serve");
    }

    #[test]
    fn loopback_counts_only_against_the_total_and_the_lane_has_a_bound_too() {
        let adm = admission(3, 1);
        let local = IpAddr::V6(Ipv6Addr::LOCALHOST);
        let held: Vec<_> = (0..3).map(|_| adm.admit(local)).collect();
        assert!(held.iter().all(|a| kind(a) == "serve"));
        // Over the total: the lane (no share per address for loopback), then refusal.
        let lane: Vec<_> = (0..4)
            .map(|_| adm.admit(IpAddr::V4(Ipv4Addr::LOCALHOST)))
            .collect();
        assert!(lane.iter().all(|a| kind(a) == "lane"));
        assert_eq!(kind(&adm.admit(B)), "refuse");
        drop(lane);
        assert_eq!(kind(&adm.admit(B)), "lane");
        drop(held);
        assert_eq!(kind(&adm.admit(B)), "serve");
        assert!(
            adm.counts().by_address.len() <= 1,
            "empty entries are removed"
        );
    }

    #[test]
    fn no_per_address_bound_when_it_is_zero() {
        let adm = admission(10, 0);
        let held: Vec<_> = (0..10).map(|_| adm.admit(A)).collect();
        assert!(held.iter().all(|a| kind(a) == "serve"));
        assert!(adm.counts().by_address.is_empty());
    }

    #[test]
    fn the_total_leaves_room_for_the_pools_and_files_under_the_open_file_limit() {
        let config = Config {
            max_connections: 16_384,
            db_max_connections: 8,
            ..Config::default()
        };
        assert_eq!(Bounds::new(&config, None).total, 16_384);
        assert_eq!(Bounds::new(&config, Some(1_000_000)).total, 16_384);
        // 1,024 files: 256 reserved, 10 for the pools, 64 for the lane.
        let b = Bounds::new(&config, Some(1024));
        assert_eq!((b.total, b.lane), (1024 - 256 - 10 - 64, 64));
        assert_eq!(Bounds::new(&config, Some(10)).total, 1);
    }
}
