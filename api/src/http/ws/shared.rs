//! Subscriptions rendered once per viewer and operation, their bytes shared by the sockets.
//!
//! A staff member often has the same view open in several tabs and devices, and a front end
//! subscribes with the same document from each. Executing and serializing every event for every
//! socket was most of a delivery's cost (BENCHMARKS.md, fan-out), so sockets that run the *same
//! operation* (document, operation name and variables) as the *same viewer* (staff member,
//! organization and role: what authorization and every resolver look at) under the *same access
//! generation* share one execution: one feed judges and audits each event once, as it would for
//! any one of them, and the rendered text goes to every socket.
//!
//! A viewer's first socket running an operation runs it alone, as before sharing (one socket
//! costs nothing more); the second and later ones share one execution. Only operations that
//! start "from now" are shared: with an `after` cursor a subscriber first
//! replays what it missed, which is its own. Joining a running share is "from now" too: a
//! joiner receives what the share renders after it joined. Each socket keeps its own rules:
//! its session and token expiry close it alone, and a socket whose queue (`SUBSCRIBER_BUFFER`
//! responses) is full when the next one is rendered sends what is queued and then ends alone with
//! `SUBSCRIBER_TOO_SLOW` and the cursor of the last event it sent.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicBool, Ordering},
    },
};

use futures_util::{Stream, StreamExt, stream::AbortHandle};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::{
    auth::Viewer,
    error::{ApiError, ErrorCode},
    graphql::{limits, subscription::LastCursor},
    metrics::Metrics,
};

/// What makes two subscriptions render the same bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ShareKey {
    staff_member_id: Uuid,
    organization_id: Uuid,
    organization_kind: entity::organization::OrganizationKind,
    role: entity::staff_member::StaffRole,
    access: u64,
    query: String,
    operation_name: Option<String>,
    /// The variables as JSON text.
    variables: String,
}

impl ShareKey {
    pub fn new(
        viewer: &Viewer,
        query: &str,
        operation_name: Option<&str>,
        variables: &serde_json::Value,
    ) -> Self {
        Self {
            staff_member_id: viewer.staff_member_id,
            organization_id: viewer.organization_id,
            organization_kind: viewer.organization_kind,
            role: viewer.role,
            access: crate::service::invalidation::ACCESS.current(),
            query: query.to_owned(),
            operation_name: operation_name.map(str::to_owned),
            variables: variables.to_string(),
        }
    }
}

/// One response of a shared operation, serialized once.
pub struct Rendered {
    /// The `payload` of a `next` message (the whole GraphQL response).
    pub payload: Box<str>,
    /// The errors of a response without data: as a socket's first response, it is an `error`
    /// message instead.
    pub failed: Option<Box<str>>,
    /// The event's resume cursor, when the response is an event.
    pub cursor: Option<String>,
}

/// What a socket receives from its share.
pub enum Received {
    Rendered(Arc<Rendered>),
    /// The socket fell behind the share: its last response, then nothing more.
    TooSlow(Box<str>),
}

/// One socket of a share: its queue, and whether it fell behind.
struct Member {
    queue: mpsc::Sender<Arc<Rendered>>,
    behind: Arc<AtomicBool>,
}

/// The running shares of this instance.
#[derive(Default)]
pub struct Shares {
    running: Mutex<HashMap<ShareKey, Weak<Share>>>,
    /// Sockets running each shareable operation. The first runs alone, as any subscription
    /// did before sharing (a viewer with one socket pays nothing for it); the others share one
    /// execution.
    sockets: Mutex<HashMap<ShareKey, usize>>,
}

/// One socket counted among those running an operation, for as long as it runs it.
pub struct Seat {
    shares: Arc<Shares>,
    key: ShareKey,
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut sockets = self.shares.sockets();
        if let Some(n) = sockets.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                sockets.remove(&self.key);
            }
        }
    }
}

/// One running operation and its sockets' channel. Dropped (and its execution stopped) with its
/// last socket.
pub(crate) struct Share {
    key: ShareKey,
    /// Each socket's queue. Per socket, not one ring for all: a bounded `mpsc` queue takes
    /// memory only for what is queued, where a broadcast ring of `SUBSCRIBER_BUFFER` slots
    /// would cost about 160 KiB per share up front (a viewer with two sockets is a share).
    members: Mutex<Vec<Member>>,
    /// The cursor of the last event rendered: a joiner that falls behind before receiving
    /// anything resumes from there.
    last: Mutex<Option<String>>,
    driver: Mutex<Option<AbortHandle>>,
    shares: Weak<Shares>,
}

impl Drop for Share {
    fn drop(&mut self) {
        if let Some(driver) = self.driver.lock().unwrap_or_else(|e| e.into_inner()).take() {
            driver.abort();
        }
        if let Some(shares) = self.shares.upgrade() {
            let mut running = shares.lock();
            if running
                .get(&self.key)
                .is_some_and(|w| w.strong_count() == 0)
            {
                running.remove(&self.key);
            }
        }
    }
}

impl Share {
    fn members(&self) -> std::sync::MutexGuard<'_, Vec<Member>> {
        self.members.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Shares {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ShareKey, Weak<Share>>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sockets(&self) -> std::sync::MutexGuard<'_, HashMap<ShareKey, usize>> {
        self.sockets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Shares running now.
    pub fn running(&self) -> usize {
        self.lock().len()
    }

    /// Counts one more socket running `key`; with it, whether another socket runs it already
    /// (then this one joins the share, see [`Shares::join`]; otherwise it runs alone).
    pub fn enter(self: &Arc<Self>, key: ShareKey) -> (Seat, bool) {
        let mut sockets = self.sockets();
        let n = sockets.entry(key.clone()).or_default();
        *n += 1;
        let others = *n > 1;
        drop(sockets);
        (
            Seat {
                shares: Arc::clone(self),
                key,
            },
            others,
        )
    }

    /// The responses of the operation `key` for one more socket: joins the running share, or
    /// starts one with `execute` (the operation's response stream, with a [`LastCursor`] in its
    /// request data) and `buffer` responses of slack per socket.
    pub fn join<S>(
        self: &Arc<Self>,
        key: ShareKey,
        buffer: usize,
        metrics: Arc<Metrics>,
        execute: impl FnOnce() -> (S, LastCursor),
    ) -> futures_util::stream::BoxStream<'static, Received>
    where
        S: Stream<Item = async_graphql::Response> + Send + 'static,
    {
        let (queue, receiver) = mpsc::channel(buffer.max(1));
        let behind = Arc::new(AtomicBool::new(false));
        let member = Member {
            queue,
            behind: Arc::clone(&behind),
        };
        let (share, last) = {
            let mut running = self.lock();
            match running.get(&key).and_then(Weak::upgrade) {
                Some(share) => {
                    share.members().push(member);
                    let last = share.last.lock().unwrap_or_else(|e| e.into_inner()).clone();
                    (share, last)
                }
                None => {
                    let share = Arc::new(Share {
                        key: key.clone(),
                        members: Mutex::new(vec![member]),
                        last: Mutex::default(),
                        driver: Mutex::default(),
                        shares: Arc::downgrade(self),
                    });
                    running.insert(key, Arc::downgrade(&share));
                    let (responses, cursor) = execute();
                    let (abort, registration) = AbortHandle::new_pair();
                    *share.driver.lock().unwrap_or_else(|e| e.into_inner()) = Some(abort);
                    let driven = Arc::downgrade(&share);
                    let shares = Arc::clone(self);
                    tokio::spawn(futures_util::stream::Abortable::new(
                        drive(responses, cursor, driven, shares, metrics),
                        registration,
                    ));
                    (share, None)
                }
            }
        };
        listen(share, receiver, behind, last).boxed()
    }
}

/// Executes the operation once, renders each response and hands it to every socket.
async fn drive<S>(
    responses: S,
    cursor: LastCursor,
    share: Weak<Share>,
    shares: Arc<Shares>,
    metrics: Arc<Metrics>,
) where
    S: Stream<Item = async_graphql::Response> + Send + 'static,
{
    let mut responses = std::pin::pin!(responses);
    while let Some(mut response) = responses.next().await {
        let Some(share) = share.upgrade() else {
            return;
        };
        limits::assign_codes(&mut response.errors, false);
        let failed = (response.data == async_graphql::Value::Null && !response.errors.is_empty())
            .then(|| serde_json::to_string(&response.errors).ok())
            .flatten()
            .map(String::into_boxed_str);
        let Ok(payload) = serde_json::to_string(&response) else {
            tracing::error!("a response could not be serialized");
            continue;
        };
        let cursor = cursor.take();
        if cursor.is_some() {
            *share.last.lock().unwrap_or_else(|e| e.into_inner()) = cursor.clone();
        }
        metrics.subscription_renders.inc();
        let rendered = Arc::new(Rendered {
            payload: payload.into_boxed_str(),
            failed,
            cursor,
        });
        // A socket gone is dropped; one whose queue is full has fallen behind: its queue is
        // closed, and it ends with SUBSCRIBER_TOO_SLOW once it has sent what is queued.
        share
            .members()
            .retain(|m| match m.queue.try_send(Arc::clone(&rendered)) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    m.behind.store(true, Ordering::Release);
                    false
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            });
    }
    // The operation ended: no socket joins it any more, and every socket ends after what is
    // queued for it (its queue closes).
    if let Some(share) = share.upgrade() {
        let mut running = shares.lock();
        if running
            .get(&share.key)
            .is_some_and(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(&share)))
        {
            running.remove(&share.key);
        }
        share.members().clear();
    }
}

/// One socket's view of a share.
fn listen(
    share: Arc<Share>,
    mut queue: mpsc::Receiver<Arc<Rendered>>,
    behind: Arc<AtomicBool>,
    mut last: Option<String>,
) -> impl Stream<Item = Received> + Send {
    async_stream::stream! {
        // Held for as long as the socket listens: the share lives while anyone does.
        let _share = share;
        while let Some(rendered) = queue.recv().await {
            if rendered.cursor.is_some() {
                last.clone_from(&rendered.cursor);
            }
            yield Received::Rendered(rendered);
        }
        if behind.load(Ordering::Acquire) {
            yield Received::TooSlow(too_slow(last.take()));
        }
    }
}

/// The response that ends a socket which fell behind: what the feed itself answers then.
fn too_slow(cursor: Option<String>) -> Box<str> {
    let error: async_graphql::Error = ApiError::SubscriberTooSlow { cursor }.into();
    let mut errors = vec![error.into_server_error(async_graphql::Pos::default())];
    limits::assign_codes(&mut errors, false);
    debug_assert!(errors.iter().all(|e| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .is_some_and(|c| {
                *c == async_graphql::Value::from(ErrorCode::SubscriberTooSlow.as_str())
            })
    }));
    let response = async_graphql::Response::from_errors(errors);
    serde_json::to_string(&response)
        .unwrap_or_else(|_| String::from("{\"data\":null}"))
        .into_boxed_str()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::sync::mpsc;

    use super::*;

    fn key(n: u32) -> ShareKey {
        ShareKey {
            staff_member_id: Uuid::nil(),
            organization_id: Uuid::nil(),
            organization_kind: entity::organization::OrganizationKind::Facility,
            role: entity::staff_member::StaffRole::FacilityStaff,
            access: 0,
            query: format!("subscription {{ n{n} }}"),
            operation_name: None,
            variables: String::new(),
        }
    }

    /// An operation whose responses the test releases one at a time: response `i` carries the
    /// cursor `c{i}`, as the feed sets it.
    fn operation(
        executions: &Arc<AtomicUsize>,
    ) -> (
        mpsc::UnboundedSender<u32>,
        impl FnOnce() -> (
            futures_util::stream::BoxStream<'static, async_graphql::Response>,
            LastCursor,
        ),
    ) {
        let (sender, receiver) = mpsc::unbounded_channel::<u32>();
        let executions = Arc::clone(executions);
        let execute = move || {
            executions.fetch_add(1, Ordering::SeqCst);
            let cursor = LastCursor::default();
            let set = cursor.clone();
            let responses = futures_util::stream::unfold(receiver, move |mut r| {
                let set = set.clone();
                async move {
                    let i = r.recv().await?;
                    set.set(format!("c{i}"));
                    Some((
                        async_graphql::Response::new(async_graphql::Value::from(i)),
                        r,
                    ))
                }
            });
            (responses.boxed(), cursor)
        };
        (sender, execute)
    }

    async fn next(s: &mut (impl Stream<Item = Received> + Unpin)) -> Option<String> {
        match tokio::time::timeout(std::time::Duration::from_secs(5), s.next())
            .await
            .expect("in time")?
        {
            Received::Rendered(r) => Some(r.payload.to_string()),
            Received::TooSlow(p) => Some(format!("too slow: {p}")),
        }
    }

    #[tokio::test]
    async fn one_execution_serves_every_socket_and_a_slow_one_ends_alone_with_its_cursor() {
        let shares = Arc::new(Shares::default());
        let metrics = Metrics::new();
        let executions = Arc::new(AtomicUsize::new(0));
        let (release, execute) = operation(&executions);
        let mut fast = shares.join(key(1), 4, metrics.clone(), execute);
        let (_, unused) = operation(&executions);
        let mut slow = shares.join(key(1), 4, metrics.clone(), unused);
        assert_eq!(
            executions.load(Ordering::SeqCst),
            1,
            "the second socket joins"
        );
        release.send(1).unwrap();
        assert_eq!(next(&mut fast).await.unwrap(), r#"{"data":1}"#);
        assert_eq!(next(&mut slow).await.unwrap(), r#"{"data":1}"#);
        // The slow socket stops reading while ten more go out.
        for i in 2..12 {
            release.send(i).unwrap();
            assert_eq!(next(&mut fast).await.unwrap(), format!(r#"{{"data":{i}}}"#));
        }
        // It still gets what was queued for it (its buffer of four), then the end.
        for i in 2..6 {
            assert_eq!(next(&mut slow).await.unwrap(), format!(r#"{{"data":{i}}}"#));
        }
        let ended = next(&mut slow).await.unwrap();
        assert!(ended.starts_with("too slow: "), "{ended}");
        let payload: serde_json::Value =
            serde_json::from_str(ended.trim_start_matches("too slow: ")).unwrap();
        let extensions = &payload["errors"][0]["extensions"];
        assert_eq!(extensions["code"], "SUBSCRIBER_TOO_SLOW", "{payload}");
        assert_eq!(
            extensions["cursor"], "c5",
            "resume after the last event it received"
        );
        assert!(next(&mut slow).await.is_none(), "then nothing more");
        release.send(12).unwrap();
        assert_eq!(next(&mut fast).await.unwrap(), r#"{"data":12}"#);
        assert_eq!(metrics.subscription_renders.get(), 12, "rendered once each");
    }

    #[tokio::test]
    async fn a_share_stops_with_its_last_socket_and_an_ended_one_is_never_joined() {
        let shares = Arc::new(Shares::default());
        let metrics = Metrics::new();
        let executions = Arc::new(AtomicUsize::new(0));
        let (release, execute) = operation(&executions);
        let socket = shares.join(key(2), 4, metrics.clone(), execute);
        assert_eq!(shares.running(), 1);
        drop(socket);
        // The execution is stopped: its stream (and the receiver inside it) is dropped.
        tokio::time::timeout(std::time::Duration::from_secs(5), release.closed())
            .await
            .expect("the execution stops");
        assert_eq!(shares.running(), 0);

        // An operation that ends (its stream finishes) ends for its sockets, and the next
        // socket starts it again instead of joining what ended.
        let (release, execute) = operation(&executions);
        let mut socket = shares.join(key(3), 4, metrics.clone(), execute);
        release.send(1).unwrap();
        assert_eq!(next(&mut socket).await.unwrap(), r#"{"data":1}"#);
        drop(release);
        assert!(next(&mut socket).await.is_none());
        let (_, again) = operation(&executions);
        let _socket = shares.join(key(3), 4, metrics, again);
        assert_eq!(executions.load(Ordering::SeqCst), 3);
    }
}
