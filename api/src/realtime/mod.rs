//! Real-time delivery: committed outbox events reach subscribers over WebSocket.
//!
//! - [`hub`]: one per instance; reads the outbox in commit order and broadcasts.
//! - [`feed`]: one per subscription; replays from a cursor, then follows the hub, authorizing
//!   every event for the subscriber.
//! - [`webhooks`]: turns the same events into signed HTTPS deliveries for organizations' endpoints.
//! - [`jobs`]: the instance's background jobs (delivery, sweeps, maintenance, webhooks) as one
//!   supervised set, stopped and awaited at shutdown.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{db::Reachability, metrics::Metrics, service::Ctx};

pub mod feed;
pub mod hub;
pub mod jobs;
pub(crate) mod webhooks;

/// What live delivery works with: the services' context, a pool of its own for background work,
/// the event hub, the instance's background jobs and its metrics. [`crate::AppState`] holds one
/// and adds the transport's parts (schema, persisted queries, shared renders); resolvers see this,
/// not those. It dereferences to [`Ctx`].
#[derive(Clone)]
pub struct Live {
    /// What the service layer works with (database, configuration, keys, caches).
    pub ctx: Ctx,
    /// A pool of its own for background work (event delivery, pruning, the reachability
    /// check), so that requests filling the main pool under load never starve event delivery,
    /// nor make the hub believe the database is gone; left out of the request statement count.
    pub background_db: DatabaseConnection,
    /// Delivers committed events to this instance's subscribers.
    pub hub: hub::EventHub,
    /// The background jobs, supervised as one set (started by [`crate::Server::run`]).
    pub jobs: Arc<jobs::Jobs>,
    /// Prometheus series for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Whether the database answers (kept by the event hub): requests fail fast while it does not.
    pub reachability: Reachability,
}

impl std::ops::Deref for Live {
    type Target = Ctx;

    fn deref(&self) -> &Ctx {
        &self.ctx
    }
}
