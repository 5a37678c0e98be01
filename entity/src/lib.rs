//! sea-orm entities: one module per table, nothing about GraphQL or HTTP.
//!
//! Enumerations are stored as strings so that SQLite and PostgreSQL hold the same values and a
//! new variant needs no database type change.

pub mod login_throttle;
pub mod organization;
pub mod refresh_token;
pub mod session;
pub mod staff_member;
