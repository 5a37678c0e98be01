//! Generations of the caches that decide who may see what: the organizations' scopes
//! ([`super::access::ScopeCache`]) and verified sessions ([`super::credentials::SessionCache`]);
//! and of what is kept about each client: its history counts ([`super::timeline::TotalCounts`])
//! and its row ([`super::clients::ClientRows`]), see [`CLIENTS`].
//!
//! A cached entry is used only while the generation it was loaded under is current; no request
//! re-reads the database to find out. A generation moves, and with it every entry is dropped:
//!
//! 1. inside the writing transaction, before it commits (an access-changing outbox event in
//!    [`super::outbox::append_many`], a session revoked in [`super::sessions`] or
//!    [`super::staff`]), so that nothing loaded after the commit is kept under the old one;
//! 2. again when the request that wrote has finished ([`settle`]), so that an entry a concurrent
//!    request loaded between step 1 and the commit (the old state under the new generation) is
//!    dropped before the writer hears back: the instance that made a change enforces it from the
//!    writer's next request on;
//! 3. when the event hub reads a change made elsewhere (another instance, the CLI): an
//!    access-changing outbox event or an ended session. On PostgreSQL `NOTIFY` wakes the hub
//!    within milliseconds; otherwise its poll (`OUTBOX_POLL_MILLIS`, 1 s by default) bounds the
//!    delay.
//!
//! Entries also expire after [`MAX_AGE`], so a change made behind the application's back (SQL by
//! hand) is seen within a minute. The generations are process-wide: several servers in one
//! process (tests) only drop each other's entries more often than needed.

use std::{
    collections::VecDeque,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

/// How long any cached entry is trusted, however quiet the events are.
pub const MAX_AGE: Duration = Duration::from_secs(60);

/// A counter that moves whenever what a cache holds may have changed.
pub struct Generation(AtomicU64);

impl Generation {
    const fn new() -> Self {
        Self(AtomicU64::new(0))
    }

    /// The current generation (read it before loading what is cached under it).
    pub fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Drops every entry cached under an earlier generation.
    pub fn advance(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// Memberships, consents and client registrations: the organizations' scopes.
pub static ACCESS: Generation = Generation::new();
/// Sessions and the accounts behind them: verified access tokens and API keys.
pub static SESSIONS: Generation = Generation::new();

/// Each client's history and profile: advanced for a client inside every transaction that
/// writes one of its timeline entries ([`super::timeline`]) or its profile
/// ([`super::clients::update_profile`]), again by [`settle`] once the writing request is done
/// (step 2), and when the event hub reads any event of the client (step 3). The history's
/// `totalCount` and the client's row are cached under it.
pub static CLIENTS: Stripes = Stripes::new();

/// Generations per client, in a fixed number of stripes (no growth with the number of
/// clients; a write drops the counts of the few other clients sharing its stripe), with a log of
/// the most recent writes for [`settle`].
pub struct Stripes {
    stripes: [AtomicU64; STRIPES],
    /// Writes so far, and the clients of the latest [`LOGGED`] of them.
    writes: AtomicU64,
    log: Mutex<VecDeque<(u64, uuid::Uuid)>>,
}

const STRIPES: usize = 512;
const LOGGED: usize = 4096;

impl Stripes {
    const fn new() -> Self {
        Self {
            stripes: [const { AtomicU64::new(0) }; STRIPES],
            writes: AtomicU64::new(0),
            log: Mutex::new(VecDeque::new()),
        }
    }

    fn stripe(&self, client_id: uuid::Uuid) -> &AtomicU64 {
        let (high, low) = client_id.as_u64_pair();
        // UUIDv7's low half is random, its high half a timestamp: mix both.
        &self.stripes[usize::try_from((high ^ low) % STRIPES as u64).unwrap_or(0)]
    }

    /// The client's current generation (read it before counting).
    pub fn current(&self, client_id: uuid::Uuid) -> u64 {
        self.stripe(client_id).load(Ordering::Acquire)
    }

    /// A write of the client's history, inside its transaction (step 1).
    pub fn written(&self, client_id: uuid::Uuid) {
        self.advance(client_id);
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let seq = self.writes.fetch_add(1, Ordering::AcqRel);
        if log.len() == LOGGED {
            log.pop_front();
        }
        log.push_back((seq, client_id));
    }

    /// Drops what was cached about the client's history (step 3).
    pub fn advance(&self, client_id: uuid::Uuid) {
        self.stripe(client_id).fetch_add(1, Ordering::AcqRel);
    }

    /// Advances every client written since `since` writes (all of them when the log no longer
    /// reaches back that far).
    fn settle(&self, since: u64) {
        if self.writes.load(Ordering::Acquire) == since {
            return;
        }
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        if log.front().is_some_and(|(first, _)| *first <= since) {
            for (_, client_id) in log.iter().filter(|(seq, _)| *seq >= since) {
                self.advance(*client_id);
            }
        } else {
            for stripe in &self.stripes {
                stripe.fetch_add(1, Ordering::AcqRel);
            }
        }
    }
}

/// The generations as a request found them (see [`settle`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Marks {
    access: u64,
    sessions: u64,
    clients: u64,
}

impl Marks {
    /// Whether no scope or session was dropped between two marks (tests that count statements
    /// rely on it; a dropped history count changes no statement count, the page folds it).
    pub fn same_access(&self, other: &Marks) -> bool {
        self.access == other.access && self.sessions == other.sessions
    }
}

/// Notes the generations before a request that may write runs.
pub fn marks() -> Marks {
    Marks {
        access: ACCESS.current(),
        sessions: SESSIONS.current(),
        clients: CLIENTS.writes.load(Ordering::Acquire),
    }
}

/// After a request that wrote: advances each generation its transactions moved (step 2 above).
/// A generation moved by a concurrent writer is advanced too, which costs one reload.
pub fn settle(before: Marks) {
    settle_one(&ACCESS, before.access);
    settle_one(&SESSIONS, before.sessions);
    CLIENTS.settle(before.clients);
}

fn settle_one(generation: &Generation, before: u64) {
    if generation.current() != before {
        generation.advance();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settling_advances_only_a_generation_that_moved_during_the_request() {
        let g = Generation::new();
        let before = g.current();
        settle_one(&g, before);
        assert_eq!(g.current(), before, "a read-only request moves nothing");
        g.advance();
        let moved = g.current();
        settle_one(&g, before);
        assert!(
            g.current() > moved,
            "what a concurrent request cached between the write and its commit is dropped"
        );
    }

    #[test]
    fn settling_advances_the_clients_written_during_the_request() {
        let t = Stripes::new();
        let (written, other) = (uuid::Uuid::from_u128(7), uuid::Uuid::from_u128(8));
        let before = t.writes.load(Ordering::Acquire);
        t.settle(before);
        assert_eq!(t.current(written), 0, "nothing written, nothing moved");
        t.written(written);
        let after_write = t.current(written);
        t.settle(before);
        assert!(
            t.current(written) > after_write,
            "advanced again after the commit"
        );
        assert_eq!(t.current(other), 0, "another client's count is kept");
        // A request older than the log drops every count.
        for _ in 0..=LOGGED {
            t.written(written);
        }
        t.settle(before);
        assert_eq!(t.current(other), 1);
    }
}
