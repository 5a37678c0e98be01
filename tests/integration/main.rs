//! Kakehashi's integration tests: one binary, a real server on a random port per test, its own
//! database (a temporary SQLite file, or a fresh PostgreSQL database when `TEST_DATABASE_URL`
//! is set), and real clients (reqwest; Node's graphql-http audit).

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a test should fail loudly on an unexpected value; its counts are small"
)]

mod helpers;

mod architecture;
mod audit_log;
mod auth_sessions;
mod bad_input;
mod cli_bootstrap;
mod client_rows;
mod collaboration;
mod consent;
mod demo_calendar;
mod evidence;
mod forms;
mod graphql_contract;
mod hardening;
mod history_count;
mod history_page;
mod http_conformance;
mod integrations;
mod monitoring_schedule;
mod operations;
mod permissions;
mod plans_meetings;
mod policy_equivalence;
mod schema_file;
mod shared_subscriptions;
mod staff_accounts;
mod statutory;
mod stored_data;
mod subscriptions;
mod translation;
mod views;
mod webhooks;
