//! The clocks of one connection: how long a client may take to send a request's headers, to
//! send its body, to come back with the next request, and to read a response.
//!
//! hyper has a header-read timeout of its own, but its clock starts whenever the connection
//! waits for a request, so it is also the keep-alive idle timeout: ten seconds for headers would
//! close every idle keep-alive connection after ten seconds too. The phases are told apart here
//! instead:
//!
//! - **Headers.** The first request must arrive within the header timeout of the connection's
//!   opening (a client that connects and never sends is cut); a later one within the header
//!   timeout of its first byte (a client trickling header bytes is cut).
//! - **Idle.** Between requests, a connection may wait the idle timeout for that first byte.
//! - **Body.** Counted from the headers' arrival, on the body itself ([`DeadlineBody`]), so the
//!   handler answers 408.
//! - **In flight.** No clock while a handler runs; a response the client stops reading for the
//!   idle timeout ends the connection.
//! - **Upgraded.** A WebSocket is not HTTP any more: no clock at all (it has its own pings,
//!   see [`crate::http::ws`]).
//!
//! [`Watched`] wraps the socket and enforces the read and write clocks (hyper closes the
//! connection on the error it returns); [`Tracked`] marks requests in flight from the moment
//! their headers are parsed until their response has been written.

use std::{
    convert::Infallible,
    io,
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll, Waker},
    time::Duration,
};

use axum::{
    Router,
    body::{Body, Bytes, HttpBody},
    http::{HeaderValue, Request, Response, StatusCode, header},
};
use futures_util::future::BoxFuture;
use http_body::{Frame, SizeHint};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
    time::{Instant, Sleep},
};
use tower::ServiceExt;

use super::body::DeadlineBody;

/// The three durations of a connection's clocks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    pub header: Duration,
    pub body: Duration,
    pub idle: Duration,
}

/// What a connection is doing, shared by its socket and its requests.
pub(crate) struct Activity {
    timeouts: Timeouts,
    phase: Mutex<Phase>,
    /// Read without the lock: a WebSocket reads through [`Watched`] for hours.
    upgraded: AtomicBool,
}

struct Phase {
    in_flight: usize,
    /// Whether a request was ever received: the first must come within the header timeout.
    served: bool,
    /// Since when no request has been in flight.
    waiting_since: Instant,
    /// The first byte of the next request, read while none was in flight.
    head_started: Option<Instant>,
    /// The task last left waiting for bytes. hyper does not read again when a response is done
    /// (it waits for the socket), so the idle clock, which starts then, would never be armed:
    /// the last request's end wakes this task to arm it.
    reader: Option<Waker>,
}

impl Activity {
    pub(crate) fn new(timeouts: Timeouts) -> Arc<Self> {
        Arc::new(Self {
            timeouts,
            phase: Mutex::new(Phase {
                in_flight: 0,
                served: false,
                waiting_since: Instant::now(),
                head_started: None,
                reader: None,
            }),
            upgraded: AtomicBool::new(false),
        })
    }

    fn phase(&self) -> std::sync::MutexGuard<'_, Phase> {
        // Nothing panics while holding the lock; a poisoned one still holds valid counts.
        self.phase.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// When the connection must have received more, or `None` when no clock runs; remembers
    /// the task waiting for it.
    fn read_deadline(&self, reader: &Waker) -> Option<Instant> {
        if self.upgraded.load(Ordering::Relaxed) {
            return None;
        }
        let mut p = self.phase();
        if !p.reader.as_ref().is_some_and(|w| w.will_wake(reader)) {
            p.reader = Some(reader.clone());
        }
        if p.in_flight > 0 {
            None
        } else if let Some(started) = p.head_started {
            Some(started + self.timeouts.header)
        } else if !p.served {
            Some(p.waiting_since + self.timeouts.header)
        } else {
            Some(p.waiting_since + self.timeouts.idle)
        }
    }

    /// Bytes arrived: if no request is in flight, they start the next one's headers.
    fn received(&self) {
        let mut p = self.phase();
        if p.in_flight == 0 && p.head_started.is_none() {
            p.head_started = Some(Instant::now());
        }
    }

    /// A request's headers were parsed; it is in flight until the returned guard is dropped
    /// with its response.
    fn begin(self: &Arc<Self>) -> InFlight {
        let mut p = self.phase();
        p.in_flight += 1;
        p.served = true;
        p.head_started = None;
        InFlight(self.clone())
    }
}

/// A request in flight; dropped with its response's body (written or abandoned).
struct InFlight(Arc<Activity>);

impl InFlight {
    /// The response switched protocols: the socket now belongs to a WebSocket.
    fn upgraded(&self) {
        self.0.upgraded.store(true, Ordering::Relaxed);
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let reader = {
            let mut p = self.0.phase();
            p.in_flight = p.in_flight.saturating_sub(1);
            if p.in_flight > 0 {
                return;
            }
            p.waiting_since = Instant::now();
            p.reader.take()
        };
        if let Some(w) = reader {
            w.wake();
        }
    }
}

/// Whether `deadline` has passed, registering the task to wake at it otherwise.
fn expired(timer: &mut Option<Pin<Box<Sleep>>>, deadline: Instant, cx: &mut Context<'_>) -> bool {
    let timer = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
    if timer.deadline() != deadline {
        timer.as_mut().reset(deadline);
    }
    timer.as_mut().poll(cx).is_ready()
}

/// The accepted socket with its clocks and its place under the connection bounds: the permit
/// (the connection limiter's guard, given back when dropped) lives as long as the socket,
/// WebSocket included.
pub(crate) struct Watched {
    io: TcpStream,
    activity: Arc<Activity>,
    read_timer: Option<Pin<Box<Sleep>>>,
    /// Since when the client has not taken what is written to it.
    write_stalled: Option<Instant>,
    write_timer: Option<Pin<Box<Sleep>>>,
    _permit: Box<dyn Send + Sync>,
}

impl Watched {
    pub(crate) fn new(
        io: TcpStream,
        activity: Arc<Activity>,
        permit: impl Send + Sync + 'static,
    ) -> Self {
        Self {
            io,
            activity,
            read_timer: None,
            write_stalled: None,
            write_timer: None,
            _permit: Box::new(permit),
        }
    }

    /// Applies the write clock to the result of a write, flush or shutdown.
    fn write_clock<T>(
        &mut self,
        result: Poll<io::Result<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<T>> {
        if self.activity.upgraded.load(Ordering::Relaxed) {
            return result;
        }
        match result {
            Poll::Pending => {
                let since = *self.write_stalled.get_or_insert_with(Instant::now);
                if expired(
                    &mut self.write_timer,
                    since + self.activity.timeouts.idle,
                    cx,
                ) {
                    Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client stopped reading",
                    )))
                } else {
                    Poll::Pending
                }
            }
            ready => {
                self.write_stalled = None;
                ready
            }
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.activity.upgraded.load(Ordering::Relaxed) {
            return Pin::new(&mut this.io).poll_read(cx, buf);
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.activity.received();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match this.activity.read_deadline(cx.waker()) {
                Some(deadline) if expired(&mut this.read_timer, deadline, cx) => Poll::Ready(Err(
                    io::Error::new(io::ErrorKind::TimedOut, "the client was too slow"),
                )),
                _ => Poll::Pending,
            },
        }
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.io).poll_write(cx, buf);
        this.write_clock(result, cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.write_clock(result, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.io).poll_flush(cx);
        this.write_clock(result, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.io).poll_shutdown(cx);
        this.write_clock(result, cx)
    }
}

/// Marks a request of a connection that is over its bounds: only health checks are served
/// (see [`super::connections`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct OverBound;

/// The router as one connection's hyper service: gives each request a body deadline and keeps
/// it in flight until its response is written.
#[derive(Clone)]
pub(crate) struct ConnService {
    pub router: Router,
    pub activity: Arc<Activity>,
    pub over_bound: bool,
    /// The client's end of the connection: each request carries it (`ConnectInfo`), so that
    /// login throttling can key on the client's address.
    pub peer: std::net::SocketAddr,
}

impl hyper::service::Service<Request<hyper::body::Incoming>> for ConnService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn call(&self, req: Request<hyper::body::Incoming>) -> Self::Future {
        let in_flight = self.activity.begin();
        let deadline = Instant::now() + self.activity.timeouts.body;
        let mut req = req.map(|b| Body::new(DeadlineBody::new(b, deadline)));
        if self.over_bound {
            req.extensions_mut().insert(OverBound);
        }
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(self.peer));
        let router = self.router.clone();
        let keep_alive = (!self.over_bound).then_some(self.activity.timeouts.idle.as_secs());
        Box::pin(async move {
            let Ok(mut res) = router.oneshot(req).await;
            if res.status() == StatusCode::SWITCHING_PROTOCOLS {
                in_flight.upgraded();
            } else if let Some(seconds) = keep_alive.filter(|s| *s > 0)
                && !res.headers().contains_key(header::CONNECTION)
            {
                // Clients that read it (Node's fetch) then keep an idle connection about as
                // long as we do, instead of their own few seconds, and drop it just before we
                // would.
                if let Ok(v) = HeaderValue::from_str(&format!("timeout={seconds}")) {
                    res.headers_mut().insert("keep-alive", v);
                }
            }
            Ok(res.map(|inner| {
                Body::new(Tracked {
                    inner,
                    _in_flight: in_flight,
                })
            }))
        })
    }
}

/// A response body that keeps its request in flight until hyper has written it.
struct Tracked {
    inner: Body,
    _in_flight: InFlight,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timeouts = Timeouts {
        header: Duration::from_secs(10),
        body: Duration::from_secs(30),
        idle: Duration::from_secs(60),
    };

    /// Asserts `deadline` is `after` past some moment between `from` and now.
    #[track_caller]
    fn due(deadline: Option<Instant>, from: Instant, after: Duration) {
        let d = deadline.expect("a clock runs");
        assert!(d >= from + after && d <= Instant::now() + after, "{d:?}");
    }

    #[tokio::test]
    async fn each_phase_has_its_clock() {
        let opened = Instant::now();
        let a = Activity::new(T);
        // A new connection must send its first request within the header timeout.
        due(a.read_deadline(Waker::noop()), opened, T.header);
        let first_byte = Instant::now();
        a.received();
        due(a.read_deadline(Waker::noop()), first_byte, T.header);
        // In flight: no clock, however long the handler takes.
        let request = a.begin();
        a.received();
        assert_eq!(a.read_deadline(Waker::noop()), None);
        let ended = Instant::now();
        drop(request);
        // Idle between requests: the idle timeout, until the next request's first byte.
        due(a.read_deadline(Waker::noop()), ended, T.idle);
        let next = Instant::now();
        a.received();
        due(a.read_deadline(Waker::noop()), next, T.header);
        a.received();
        due(a.read_deadline(Waker::noop()), next, T.header);
        // Upgraded: no clock at all.
        let upgrade = a.begin();
        upgrade.upgraded();
        drop(upgrade);
        assert_eq!(a.read_deadline(Waker::noop()), None);
    }

    #[tokio::test]
    async fn concurrent_requests_keep_the_connection_busy_until_the_last_ends() {
        let a = Activity::new(T);
        let first = a.begin();
        let second = a.begin();
        drop(first);
        assert_eq!(a.read_deadline(Waker::noop()), None);
        let ended = Instant::now();
        drop(second);
        due(a.read_deadline(Waker::noop()), ended, T.idle);
    }

    #[test]
    fn the_end_of_the_last_request_wakes_the_reader_to_arm_the_idle_clock() {
        struct Count(std::sync::atomic::AtomicUsize);
        impl futures_util::task::ArcWake for Count {
            fn wake_by_ref(arc: &Arc<Self>) {
                arc.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let count = Arc::new(Count(std::sync::atomic::AtomicUsize::new(0)));
        let waker = futures_util::task::waker(count.clone());
        let a = Activity::new(T);
        let first = a.begin();
        let second = a.begin();
        // hyper polled the socket while the requests ran: no clock, but the task is known.
        assert_eq!(a.read_deadline(&waker), None);
        drop(first);
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
        drop(second);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }
}
