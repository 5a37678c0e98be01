//! The event hub: one per instance. It reads committed outbox events in order, loads each
//! event's record once, and broadcasts it to every subscriber on this instance.
//!
//! Wake-ups: after every local mutation (in-process), on PostgreSQL `NOTIFY` from any instance,
//! and a periodic safety poll. Whatever wakes it, the hub reads "everything after the last id I
//! published", so a missed or duplicated wake-up costs nothing but latency.
//!
//! The hub is also how changes made elsewhere reach this instance's caches of who may see what:
//! an access-changing event or an ended session moves the generation those caches are kept
//! under (see [`crate::service::invalidation`]) before anything after it is delivered.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicI64, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::Utc;
use entity::session;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use tokio::sync::{Notify, broadcast, mpsc};
use uuid::Uuid;

use super::Live;
use crate::{
    error::{ApiError, ApiResult},
    service::{
        deliveries::{self, Delivery},
        outbox,
    },
};

/// Events read from the outbox per statement.
pub const BATCH: u64 = 500;
/// Overlap of the revoked-sessions poll, so a session revoked by a slightly slow clock on
/// another instance is still seen.
const SESSION_POLL_OVERLAP: chrono::TimeDelta = chrono::TimeDelta::seconds(5);

/// A read of a record through a subscription, audited like a query's read.
pub struct DeliveryRead {
    pub staff_member_id: Uuid,
    pub organization_id: Uuid,
    pub client_id: Uuid,
    pub record_id: Uuid,
}

struct Inner {
    events: broadcast::Sender<Arc<Delivery>>,
    sessions_ended: broadcast::Sender<Arc<Vec<Uuid>>>,
    wake: Notify,
    /// Signalled after new events were published (the webhook dispatcher waits on it).
    published: Notify,
    /// Signalled when webhook deliveries may have become due (the webhook sender waits on it).
    webhooks_due: Notify,
    /// The last event id published (set from the outbox head when the hub starts).
    head: AtomicI64,
    /// An instance announced ended sessions (PostgreSQL `NOTIFY`): check before the next poll.
    sessions_due: AtomicBool,
    reads: mpsc::Sender<DeliveryRead>,
    stopping: tokio::sync::watch::Sender<bool>,
    reads_rx: Mutex<Option<mpsc::Receiver<DeliveryRead>>>,
}

/// Cheap to clone; all clones share one hub.
#[derive(Clone)]
pub struct EventHub(Arc<Inner>);

impl EventHub {
    /// A hub that buffers `capacity` events for its live subscribers.
    pub fn new(capacity: usize) -> Self {
        let (reads, reads_rx) = mpsc::channel(65_536);
        Self(Arc::new(Inner {
            events: broadcast::channel(capacity.max(16)).0,
            sessions_ended: broadcast::channel(64).0,
            wake: Notify::new(),
            published: Notify::new(),
            webhooks_due: Notify::new(),
            head: AtomicI64::new(0),
            sessions_due: AtomicBool::new(false),
            reads,
            reads_rx: Mutex::new(Some(reads_rx)),
            stopping: tokio::sync::watch::channel(false).0,
        }))
    }

    /// Asks the hub to look for new events now (after a local commit).
    pub fn wake(&self) {
        self.0.wake.notify_one();
    }

    /// Live events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Delivery>> {
        self.0.events.subscribe()
    }

    /// Ids of sessions that ended (logout, deactivation, password change, token reuse).
    pub fn sessions_ended(&self) -> broadcast::Receiver<Arc<Vec<Uuid>>> {
        self.0.sessions_ended.subscribe()
    }

    /// Tells every socket that the server is shutting down.
    pub fn stop(&self) {
        self.0.stopping.send_replace(true);
    }

    /// Resolves once [`EventHub::stop`] was called.
    pub fn stopping(&self) -> impl Future<Output = ()> + Send + use<> {
        let mut rx = self.0.stopping.subscribe();
        async move {
            if rx.wait_for(|stop| *stop).await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// Resolves after the hub published new events (a permit is kept if nobody waits).
    pub async fn published(&self) {
        self.0.published.notified().await;
    }

    /// Tells the webhook sender that deliveries may be due now (queued, redelivered, resumed).
    pub fn wake_webhooks(&self) {
        self.0.webhooks_due.notify_one();
    }

    /// Resolves after [`EventHub::wake_webhooks`] (a permit is kept if nobody waits).
    pub async fn webhooks_due(&self) {
        self.0.webhooks_due.notified().await;
    }

    /// The id of the last event this instance published.
    pub fn head(&self) -> i64 {
        self.0.head.load(Ordering::Acquire)
    }

    /// Live subscribers on this instance.
    pub fn subscriber_count(&self) -> usize {
        self.0.events.receiver_count()
    }

    /// Audits that a subscriber received a record (written in batches in the background).
    pub async fn audit_read(&self, read: DeliveryRead) {
        // Waits when the writer is behind: delivery slows down rather than dropping audit rows.
        let _ = self.0.reads.send(read).await;
    }

    /// Reads the outbox head, so that delivery starts with what is committed from now on (the
    /// background jobs, [`super::jobs::start`], then run the hub).
    pub async fn prepare(&self, db: &DatabaseConnection) -> ApiResult<()> {
        let head = outbox::head(db).await?;
        self.0.head.store(head, Ordering::Release);
        Ok(())
    }

    /// Whether [`EventHub::stop`] was called.
    pub fn is_stopping(&self) -> bool {
        *self.0.stopping.borrow()
    }

    /// The queue of subscription reads to audit (once: its one consumer is a background job).
    pub(super) fn take_reads(&self) -> Option<mpsc::Receiver<DeliveryRead>> {
        self.0
            .reads_rx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    /// Delivers committed events until the instance stops: reads the outbox when woken (a
    /// local commit, `NOTIFY`) or at each poll, and checks for sessions ended elsewhere.
    pub(super) async fn run(self, state: Live) {
        let poll = state.config.outbox_poll_interval;
        let stopping = self.stopping();
        tokio::pin!(stopping);
        let mut sessions_checked = Utc::now();
        let mut recently_ended = std::collections::HashSet::new();
        let mut last_session_check = Instant::now();
        let db = &state.background_db;
        loop {
            tokio::select! {
                () = &mut stopping => return,
                () = self.0.wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
            let read = self.publish_new(db).await;
            state
                .reachability
                .observe(matches!(read, Err(ApiError::Unavailable)));
            if let Err(e) = read {
                tracing::warn!(error = ?e, "reading the outbox failed; retrying");
                tokio::time::sleep(Duration::from_millis(250)).await;
                continue;
            }
            // At most once per poll interval, however many writes wake the hub; at once when
            // another instance announced ended sessions.
            if self.0.sessions_due.swap(false, Ordering::AcqRel)
                || last_session_check.elapsed() >= poll
            {
                last_session_check = Instant::now();
                match self
                    .check_sessions(db, sessions_checked, &mut recently_ended)
                    .await
                {
                    Ok(at) => sessions_checked = at,
                    Err(e) => tracing::warn!(error = ?e, "checking ended sessions failed"),
                }
            }
        }
    }

    /// Publishes every committed event after the head, in id order.
    async fn publish_new(&self, db: &DatabaseConnection) -> ApiResult<()> {
        loop {
            let head = self.0.head.load(Ordering::Acquire);
            let rows = outbox::read_after(db, head, None, BATCH).await?;
            let Some(last) = rows.last().map(|e| e.id) else {
                return Ok(());
            };
            let full = rows.len() as u64 == BATCH;
            for d in deliveries::load(db, rows).await? {
                if d.changes_access() {
                    // Before the event goes out, so no subscriber judges it with an old scope.
                    crate::service::invalidation::ACCESS.advance();
                }
                // A write made elsewhere (or one this instance's count raced): the client's
                // history count is counted again.
                crate::service::invalidation::CLIENTS.advance(d.event.client_id);
                // An error only means nobody is listening right now.
                let _ = self.0.events.send(Arc::new(d));
            }
            self.0.head.store(last, Ordering::Release);
            self.0.published.notify_one();
            if !full {
                return Ok(());
            }
        }
    }

    /// Tells sockets about sessions revoked since `since`; returns the new mark.
    async fn check_sessions(
        &self,
        db: &DatabaseConnection,
        since: chrono::DateTime<Utc>,
        recently_ended: &mut std::collections::HashSet<Uuid>,
    ) -> ApiResult<chrono::DateTime<Utc>> {
        let now = Utc::now();
        let ended: Vec<Uuid> = session::Entity::find()
            .select_only()
            .column(session::Column::Id)
            .filter(session::Column::RevokedAt.gt(since - SESSION_POLL_OVERLAP))
            .into_tuple()
            .all(db)
            .await?;
        if ended.iter().any(|id| !recently_ended.contains(id)) {
            // Verified sessions are cached: none of these is accepted again. (The poll's overlap
            // finds each ended session several times; the caches are dropped once.)
            crate::service::invalidation::SESSIONS.advance();
        }
        *recently_ended = ended.iter().copied().collect();
        if !ended.is_empty() {
            let _ = self.0.sessions_ended.send(Arc::new(ended));
        }
        Ok(now)
    }

    /// PostgreSQL: wakes the hub on every `NOTIFY` from any instance.
    /// Wakes the hub on PostgreSQL `NOTIFY` from any instance until the instance stops.
    pub(super) async fn listen(self, db: DatabaseConnection) {
        let stopping = self.stopping();
        tokio::select! {
            () = stopping => {}
            () = self.listen_forever(db) => {}
        }
    }

    async fn listen_forever(&self, db: DatabaseConnection) {
        use sea_orm::sqlx::postgres::PgListener;
        let pool = db.get_postgres_connection_pool().clone();
        loop {
            let mut listener = match PgListener::connect_with(&pool).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "LISTEN connection failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if let Err(e) = listener.listen(outbox::NOTIFY_CHANNEL).await {
                tracing::warn!(error = %e, "LISTEN failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            // Anything committed while we were not listening.
            self.wake();
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) => {
                        if n.payload() == outbox::SESSIONS_ENDED_PAYLOAD {
                            self.0.sessions_due.store(true, Ordering::Release);
                        }
                        self.wake();
                    }
                    // The connection was lost; sqlx reconnects on the next call.
                    Ok(None) => self.wake(),
                    Err(e) => {
                        tracing::warn!(error = %e, "LISTEN connection lost; reconnecting");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        break;
                    }
                }
            }
        }
    }
}

/// Hands audited subscription reads to the read-audit writer, so they follow the same durability
/// rule as a query's reads (`AUDIT_DURABILITY`) and are flushed with them at shutdown.
///
/// A staff member with several sockets (tabs, devices), or several subscriptions, receives each
/// record several times; the audit log needs it once ("who received what, when"): a receipt of a
/// record by a staff member whose previous receipt of it was written less than
/// [`READ_DEDUPE_WINDOW`] ago is not written again. Nothing waits for that: the first receipt is
/// handed on at once, and a receipt after the window is written like a first one.
/// Without it, 10,000 sockets of three staff members that each run their own subscription wrote
/// one row per socket and event, and delivery waited behind the audit writer (BENCHMARKS.md).
///
/// When the instance stops, the queue is closed and what it holds is still written: the job
/// ends once it is empty.
pub(super) async fn write_reads(
    audits: Arc<crate::service::read_audits::ReadAudits>,
    mut rx: mpsc::Receiver<DeliveryRead>,
    stopping: impl Future<Output = ()> + Send,
) {
    let mut batch = Vec::with_capacity(4096);
    let mut receipts = Receipts::new(Instant::now());
    tokio::pin!(stopping);
    let mut stopped = false;
    loop {
        let n = tokio::select! {
            biased;
            n = rx.recv_many(&mut batch, 4096) => n,
            () = &mut stopping, if !stopped => {
                stopped = true;
                rx.close();
                continue;
            }
        };
        if n == 0 {
            return;
        }
        let now = Instant::now();
        batch.retain(|r| receipts.first_in_window((r.staff_member_id, r.record_id), now));
        if batch.is_empty() {
            continue;
        }
        let rows = batch
            .drain(..)
            .flat_map(|r| {
                crate::service::read_audits::rows(
                    r.staff_member_id,
                    r.organization_id,
                    entity::read_audit::ReadOperation::Event,
                    vec![(Some(r.client_id), vec![r.record_id])],
                )
            })
            .collect();
        if let Err(e) = audits.record_rows(rows).await {
            tracing::error!(error = ?e, "auditing subscription reads failed");
        }
    }
}

/// When each (staff member, record) receipt was last written, for [`READ_DEDUPE_WINDOW`].
struct Receipts {
    written: HashMap<(Uuid, Uuid), Instant>,
    pruned: Instant,
}

impl Receipts {
    fn new(now: Instant) -> Self {
        Self {
            written: HashMap::new(),
            pruned: now,
        }
    }

    /// Whether the receipt of `key` at `now` is to be written (and if so, notes it).
    fn first_in_window(&mut self, key: (Uuid, Uuid), now: Instant) -> bool {
        if now.duration_since(self.pruned) >= READ_DEDUPE_WINDOW {
            self.written
                .retain(|_, at| now.duration_since(*at) < READ_DEDUPE_WINDOW);
            self.pruned = now;
        }
        match self.written.get(&key) {
            Some(at) if now.duration_since(*at) < READ_DEDUPE_WINDOW => false,
            _ => {
                self.written.insert(key, now);
                true
            }
        }
    }
}

/// How long a staff member's receipt of a record, once audited, stands for their later receipts
/// of it (see [`write_reads`]): the log says who received which record to within this time.
pub(super) const READ_DEDUPE_WINDOW: Duration = Duration::from_secs(5);

#[cfg(test)]
mod tests {
    use super::*;

    /// A staff member's later receipts of a record within the window add no row; one after the
    /// window (a re-read minutes later) is written like a first one; other staff members and
    /// records are their own receipts.
    #[test]
    fn a_receipt_is_written_once_per_window_and_again_after_it() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let (a, b, record, other) = (
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
        );
        let mut receipts = Receipts::new(start);
        assert!(receipts.first_in_window((a, record), at(0)));
        assert!(
            !receipts.first_in_window((a, record), at(10)),
            "another socket, same moment"
        );
        assert!(
            receipts.first_in_window((b, record), at(10)),
            "another staff member"
        );
        assert!(
            receipts.first_in_window((a, other), at(10)),
            "another record"
        );
        let window = u64::try_from(READ_DEDUPE_WINDOW.as_millis()).unwrap();
        assert!(!receipts.first_in_window((a, record), at(window - 1)));
        assert!(
            receipts.first_in_window((a, record), at(window)),
            "after the window"
        );
        // Long idle: nothing from an hour ago holds back a new receipt.
        assert!(receipts.first_in_window((b, record), at(3_600_000)));
        assert!(receipts.written.len() <= 2, "old receipts are pruned");
    }
}
