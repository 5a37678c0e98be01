//! Generations of the caches that decide who may see what: the organizations' scopes
//! ([`super::access::ScopeCache`]) and verified sessions ([`super::credentials::SessionCache`]).
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
    sync::atomic::{AtomicU64, Ordering},
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

/// The generations as a request found them (see [`settle`]); equal marks before and after a
/// request mean no cache was dropped meanwhile (tests that count statements rely on it).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Marks {
    access: u64,
    sessions: u64,
}

/// Notes the generations before a request that may write runs.
pub fn marks() -> Marks {
    Marks {
        access: ACCESS.current(),
        sessions: SESSIONS.current(),
    }
}

/// After a request that wrote: advances each generation its transactions moved (step 2 above).
/// A generation moved by a concurrent writer is advanced too, which costs one reload.
pub fn settle(before: Marks) {
    settle_one(&ACCESS, before.access);
    settle_one(&SESSIONS, before.sessions);
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
}
