//! Real-time delivery: committed outbox events reach subscribers over WebSocket.
//!
//! - [`hub`]: one per instance; reads the outbox in commit order and broadcasts.
//! - [`feed`]: one per subscription; replays from a cursor, then follows the hub, authorizing
//!   every event for the subscriber.
//! - [`webhooks`]: turns the same events into signed HTTPS deliveries for organizations' endpoints.
//! - [`shared`]: the sockets of one viewer running the same subscription share one execution
//!   and its rendered bytes.
//! - [`ws`]: the `graphql-transport-ws` protocol at `/graphql/ws`.
//! - [`jobs`]: the instance's background jobs (delivery, sweeps, maintenance, webhooks) as one
//!   supervised set, stopped and awaited at shutdown.

pub mod feed;
pub mod hub;
pub mod jobs;
pub mod shared;
pub mod webhooks;
pub mod ws;
