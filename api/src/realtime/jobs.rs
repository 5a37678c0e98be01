//! The instance's background jobs as one supervised set: event delivery, the `NOTIFY` listener,
//! the audit of subscription reads, the risk and grant sweeps, maintenance (pruning, planner
//! statistics), audit retention, and the webhook dispatcher and sender.
//!
//! Each job runs until the instance stops ([`crate::realtime::hub::EventHub::stop`], the same
//! signal that closes WebSockets with 1001). A job that panics is restarted after a second: a
//! bug must not silently stop delivery for the life of the process. At shutdown
//! [`Jobs::finish`] waits for every job to end (a bounded time, then aborts the rest), so
//! what they hold, such as subscription reads still to be audited, is written before the
//! process exits.

use std::{future::Future, sync::Mutex, time::Duration};

use chrono::Utc;
use sea_orm::{DatabaseConnection, DbBackend};
use tokio::task::JoinSet;

use super::Live;
use super::hub::EventHub;
use crate::service;

/// The supervised set (one per instance).
pub struct Jobs {
    hub: EventHub,
    set: Mutex<JoinSet<()>>,
}

impl Jobs {
    /// An empty set whose jobs stop with `hub`.
    pub fn new(hub: EventHub) -> Self {
        Self {
            hub,
            set: Mutex::new(JoinSet::new()),
        }
    }

    /// Runs `job()` until it returns; after a panic, again (unless the instance is stopping).
    pub fn spawn<F, Fut>(&self, name: &'static str, mut job: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let hub = self.hub.clone();
        self.set
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .spawn(async move {
                loop {
                    let run = tokio::spawn(job());
                    // Aborting this supervisor (at the end of `finish`) aborts the job too.
                    let _abort = AbortOnDrop(run.abort_handle());
                    match run.await {
                        Err(e) if e.is_panic() && !hub.is_stopping() => {
                            tracing::error!(job = name, "a background job panicked; restarting it");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                        _ => return,
                    }
                }
            });
    }

    /// Waits for every job to end after [`EventHub::stop`], at most `grace`; aborts the rest.
    pub async fn finish(&self, grace: Duration) {
        let mut set = std::mem::take(
            &mut *self
                .set
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        let all = async { while set.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!(
                left = set.len(),
                "background jobs did not stop in time; aborting them"
            );
            set.shutdown().await;
        }
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts every background job of the instance (the hub must be prepared: its head read);
/// `webhook_payload` renders a webhook delivery's body.
pub fn start(state: &Live, webhook_payload: super::webhooks::Payload) {
    let jobs = &state.jobs;
    let hub = state.hub.clone();
    let db = state.background_db.clone();

    let (h, s) = (hub.clone(), state.clone());
    jobs.spawn("event delivery", move || h.clone().run(s.clone()));
    if db.get_database_backend() == DbBackend::Postgres {
        let (h, d) = (hub.clone(), db.clone());
        jobs.spawn("outbox notifications", move || h.clone().listen(d.clone()));
    }
    if let Some(reads) = hub.take_reads() {
        let audits = state.read_audits.clone();
        let stopping = hub.stopping();
        // Not restartable (it owns the queue); it drains the queue when the instance stops.
        let mut once = Some((reads, audits, stopping));
        jobs.spawn("subscription read audits", move || {
            let taken = once.take();
            async move {
                if let Some((reads, audits, stopping)) = taken {
                    super::hub::write_reads(audits, reads, stopping).await;
                }
            }
        });
    }
    let (h, d, every) = (hub.clone(), db.clone(), state.config.risk_sweep_interval);
    jobs.spawn("risk and grant sweeps", move || {
        sweep(h.clone(), d.clone(), every)
    });
    let (h, d) = (hub.clone(), db.clone());
    let (poll, retention) = (
        state.config.outbox_poll_interval,
        state.config.outbox_retention,
    );
    jobs.spawn("maintenance", move || {
        maintain(h.clone(), d.clone(), poll, retention)
    });
    let (h, d, settings) = (hub.clone(), db.clone(), state.config.audit.clone());
    jobs.spawn("audit retention", move || {
        service::audit_retention::run(d.clone(), settings.clone(), h.stopping())
    });
    let s = state.clone();
    jobs.spawn("webhook dispatcher", move || {
        super::webhooks::dispatch(s.clone(), webhook_payload)
    });
    let s = state.clone();
    jobs.spawn("webhook sender", move || super::webhooks::send(s.clone()));
}

/// Raises overdue risk signs and grant reminders on their own schedule, apart from delivery,
/// so a slow sweep never holds events back.
async fn sweep(hub: EventHub, db: DatabaseConnection, every: Duration) {
    let stopping = hub.stopping();
    tokio::pin!(stopping);
    loop {
        tokio::select! {
            () = &mut stopping => return,
            () = tokio::time::sleep(every) => {}
        }
        match service::acknowledgements::raise_overdue(&db).await {
            Ok(0) => {}
            // Publish them now rather than at the next poll.
            Ok(_) => hub.wake(),
            Err(e) => tracing::warn!(error = ?e, "raising overdue risk signs failed"),
        }
        match service::monitoring::calendar::raise_grant_reminders(&db).await {
            Ok(0) => {}
            Ok(_) => hub.wake(),
            Err(e) => tracing::warn!(error = ?e, "raising grant reminders failed"),
        }
    }
}

/// Prunes what is past the outbox retention (events no webhook still needs, delivered webhook
/// attempts, full rate budgets) and refreshes the planner's statistics, every quarter of the
/// retention (at least every second, at most every hour).
async fn maintain(hub: EventHub, db: DatabaseConnection, poll: Duration, retention: Duration) {
    let every = (retention / 4).clamp(Duration::from_secs(1), Duration::from_secs(3600));
    let stopping = hub.stopping();
    tokio::pin!(stopping);
    loop {
        tokio::select! {
            () = &mut stopping => return,
            () = tokio::time::sleep(every.max(poll)) => {}
        }
        let before = Utc::now() - retention;
        // Never below what webhooks still have to turn into deliveries.
        let kept = service::webhooks::cursor_position(&db).await.ok().flatten();
        match service::webhooks::prune(&db, before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deliveries = n, "pruned the webhook delivery log"),
            Err(e) => tracing::warn!(error = ?e, "pruning webhook deliveries failed"),
        }
        match service::outbox::prune(&db, before, kept).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(events = n, "pruned the outbox"),
            Err(e) => tracing::warn!(error = ?e, "pruning the outbox failed"),
        }
        if let Err(e) = service::budgets::prune(&db).await {
            tracing::warn!(error = ?e, "pruning full rate budgets failed");
        }
        if let Err(e) = crate::db::optimize(&db).await {
            tracing::warn!(error = ?e, "refreshing the planner's statistics failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    };

    use super::*;

    /// A job that panics is run again; a job that returns is not; after `stop`, `finish` waits
    /// for the jobs that watch the signal and aborts one that never ends.
    #[tokio::test]
    async fn a_panicking_job_restarts_and_finish_waits_then_aborts() {
        let hub = EventHub::new(16);
        let jobs = Jobs::new(hub.clone());
        let runs = Arc::new(AtomicU32::new(0));
        let r = runs.clone();
        jobs.spawn("flaky", move || {
            let r = r.clone();
            async move {
                if r.fetch_add(1, Ordering::SeqCst) == 0 {
                    panic!("the first run fails");
                }
            }
        });
        let stopped = Arc::new(AtomicU32::new(0));
        let (h, s) = (hub.clone(), stopped.clone());
        jobs.spawn("polite", move || {
            let (stopping, s) = (h.stopping(), s.clone());
            async move {
                stopping.await;
                s.fetch_add(1, Ordering::SeqCst);
            }
        });
        let alive = Arc::new(());
        let held = alive.clone();
        jobs.spawn("stubborn", move || {
            let held = held.clone();
            async move {
                std::future::pending::<()>().await;
                drop(held);
            }
        });
        tokio::time::sleep(Duration::from_millis(1300)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 2, "restarted once, then done");
        hub.stop();
        let started = std::time::Instant::now();
        jobs.finish(Duration::from_millis(300)).await;
        assert_eq!(
            stopped.load(Ordering::SeqCst),
            1,
            "the polite job saw the signal"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "finish did not wait past its grace"
        );
        for _ in 0..100 {
            if Arc::strong_count(&alive) == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            Arc::strong_count(&alive),
            1,
            "the stubborn job was aborted, not left running"
        );
    }
}
