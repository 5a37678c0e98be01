//! One batching primitive for the writers that share a transaction between many callers (group
//! commit): new observations ([`crate::service::observations`]) and read audits
//! ([`crate::service::read_audits`]). A [`Batcher`] owns one writer task per instance, started
//! on first use, fed by a bounded queue (callers wait for room rather than grow memory). The
//! writer takes whatever is queued as one group, waits up to a gathering delay for more when
//! nobody is waiting for an answer, and hands the group to its [`Group`]. A panic while writing
//! fails that group's callers, never the writer.

use std::{
    future::Future,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use futures_util::FutureExt;
use tokio::sync::{mpsc, oneshot};

/// What a batcher does with one group.
pub(crate) trait Group: Send + Sync + 'static {
    /// One caller's contribution.
    type Item: Send + 'static;
    /// One caller's answer.
    type Answer: Send + 'static;

    /// Writes a group; one answer per item, in the items' order. `waited` says whether any
    /// caller is waiting for its answer (a group nobody waits for may retry longer).
    fn write(
        &self,
        items: Vec<Self::Item>,
        waited: bool,
    ) -> impl Future<Output = Vec<Self::Answer>> + Send;

    /// How much of a group an item takes (rows, say); a group stops gathering at
    /// [`Limits::weight`].
    fn weight(_item: &Self::Item) -> usize {
        1
    }
}

/// The bounds of a batcher.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Items the queue holds before callers wait for room.
    pub(crate) queue: usize,
    /// Items taken from the queue at once.
    pub(crate) take: usize,
    /// A group stops gathering at this weight.
    pub(crate) weight: usize,
    /// How long a group nobody waits for gathers from its first item (zero: no gathering).
    pub(crate) delay: Duration,
}

/// The writer stopped or dropped the item (it panicked while writing its group).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dropped;

enum Job<G: Group> {
    /// An item, and where to answer (none: nobody waits).
    Item(G::Item, Option<oneshot::Sender<G::Answer>>),
    /// Answered once everything queued before it was written.
    Flush(oneshot::Sender<()>),
}

impl<G: Group> Job<G> {
    fn waits(&self) -> bool {
        !matches!(self, Job::Item(_, None))
    }

    fn weight(&self) -> usize {
        match self {
            Job::Item(item, _) => G::weight(item),
            Job::Flush(_) => 0,
        }
    }
}

/// A group-commit writer for `G` (see the module doc).
pub(crate) struct Batcher<G: Group> {
    group: Arc<G>,
    limits: Limits,
    queue: OnceLock<mpsc::Sender<Job<G>>>,
}

impl<G: Group> Batcher<G> {
    pub(crate) fn new(group: G, limits: Limits) -> Self {
        Self {
            group: Arc::new(group),
            limits,
            queue: OnceLock::new(),
        }
    }

    fn queue(&self) -> &mpsc::Sender<Job<G>> {
        self.queue.get_or_init(|| {
            // Started on first use, inside the runtime; it ends when the batcher is dropped.
            let (tx, rx) = mpsc::channel(self.limits.queue);
            tokio::spawn(write_groups(self.group.clone(), rx, self.limits));
            tx
        })
    }

    /// Queues `item` and waits for its answer.
    pub(crate) async fn submit(&self, item: G::Item) -> Result<G::Answer, Dropped> {
        let (reply, answer) = oneshot::channel();
        self.queue()
            .send(Job::Item(item, Some(reply)))
            .await
            .map_err(|_| Dropped)?;
        answer.await.map_err(|_| Dropped)
    }

    /// Queues `item` without waiting for it to be written.
    pub(crate) async fn enqueue(&self, item: G::Item) -> Result<(), Dropped> {
        self.queue()
            .send(Job::Item(item, None))
            .await
            .map_err(|_| Dropped)
    }

    /// Returns once every item queued before the call is written (or its group failed).
    pub(crate) async fn flush(&self) {
        let Some(queue) = self.queue.get() else {
            return; // Nothing was ever queued.
        };
        let (reply, done) = oneshot::channel();
        if queue.send(Job::Flush(reply)).await.is_ok() {
            let _ = done.await;
        }
    }
}

async fn write_groups<G: Group>(group: Arc<G>, mut queue: mpsc::Receiver<Job<G>>, limits: Limits) {
    let mut jobs = Vec::with_capacity(limits.take);
    while queue.recv_many(&mut jobs, limits.take).await > 0 {
        // Gather until the first item has waited `delay`, unless someone waits or it is full.
        let deadline = Instant::now() + limits.delay;
        while !limits.delay.is_zero()
            && !jobs.iter().any(Job::waits)
            && jobs.iter().map(Job::weight).sum::<usize>() < limits.weight
        {
            tokio::select! {
                got = queue.recv_many(&mut jobs, limits.take) => if got == 0 { break },
                () = tokio::time::sleep_until(deadline.into()) => break,
            }
        }
        let mut items = Vec::with_capacity(jobs.len());
        let mut replies = Vec::with_capacity(jobs.len());
        let mut flushes = Vec::new();
        for job in jobs.drain(..) {
            match job {
                Job::Item(item, reply) => {
                    items.push(item);
                    replies.push(reply);
                }
                Job::Flush(done) => flushes.push(done),
            }
        }
        if !items.is_empty() {
            let waited = replies.iter().any(Option::is_some);
            let write = std::panic::AssertUnwindSafe(group.write(items, waited));
            match write.catch_unwind().await {
                Ok(answers) => {
                    for (answer, reply) in answers.into_iter().zip(replies) {
                        if let Some(reply) = reply {
                            let _ = reply.send(answer);
                        }
                    }
                }
                // The group's callers are answered `Dropped` (their senders drop here).
                Err(_) => tracing::error!("writing a group panicked; the writer goes on"),
            }
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Records the groups it is given; panics on a group holding 13.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<Vec<u32>>>);

    impl Group for Arc<Recorder> {
        type Item = u32;
        type Answer = u32;

        async fn write(&self, items: Vec<u32>, _waited: bool) -> Vec<u32> {
            assert!(!items.contains(&13), "unlucky group");
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(items.clone());
            items.into_iter().map(|i| i * 10).collect()
        }
    }

    fn limits(delay: Duration) -> Limits {
        Limits {
            queue: 64,
            take: 64,
            weight: 64,
            delay,
        }
    }

    #[tokio::test]
    async fn concurrent_callers_share_groups_and_each_gets_its_own_answer() {
        let recorder = Arc::new(Recorder::default());
        let batcher = Arc::new(Batcher::new(recorder.clone(), limits(Duration::ZERO)));
        // 13 would panic its group (see `Recorder`).
        let calls: Vec<_> = (20..60)
            .map(|i| {
                let b = batcher.clone();
                tokio::spawn(async move { (i, b.submit(i).await) })
            })
            .collect();
        for call in calls {
            let (i, answer) = call.await.unwrap_or((0, Err(Dropped)));
            assert_eq!(answer, Ok(i * 10));
        }
        let groups = recorder.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert_eq!(groups.iter().map(Vec::len).sum::<usize>(), 40);
    }

    #[tokio::test]
    async fn a_panicking_group_fails_its_callers_and_the_writer_goes_on() {
        let batcher = Batcher::new(Arc::new(Recorder::default()), limits(Duration::ZERO));
        assert_eq!(batcher.submit(13).await, Err(Dropped));
        assert_eq!(batcher.submit(2).await, Ok(20));
    }

    #[tokio::test]
    async fn queued_items_gather_for_the_delay_and_flush_waits_for_them() {
        let recorder = Arc::new(Recorder::default());
        let batcher = Batcher::new(recorder.clone(), limits(Duration::from_millis(200)));
        for i in 0..5 {
            assert_eq!(batcher.enqueue(i).await, Ok(()));
        }
        batcher.flush().await;
        let groups = recorder.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        // Enqueued without waiting: gathered into one group, written before flush returned.
        assert_eq!(groups, vec![vec![0, 1, 2, 3, 4]]);
    }
}
