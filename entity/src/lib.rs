//! sea-orm entities: one module per table, nothing about GraphQL or HTTP.
//!
//! Enumerations are stored as strings so that SQLite and PostgreSQL hold the same values and a
//! new variant needs no database type change. One exception, on purpose: the operation of a
//! compact read audit (`read_audit::ReadOperation`) is a small integer with stable codes, since
//! that table holds a row per read for years and every byte of a row counts.
//!
//! Public API: every entity module (the server, the tools and the tests read and write them).

pub mod accident_report;
pub mod acknowledgement;
pub mod api_key;
pub mod audit_event;
pub mod care_team_membership;
pub mod care_team_objection;
pub mod client;
pub mod client_external_id;
pub mod client_review;
pub mod complaint_record;
pub mod glossary_entry;
pub mod grant_reminder;
pub mod lexicon_term;
pub mod login_known_address;
pub mod meeting;
pub mod meeting_brief;
pub mod monitoring_report;
pub mod observation;
pub mod observation_version;
pub mod organization;
pub mod outbox_event;
pub mod read_audit;
pub mod read_audit_page;
pub mod recipient_certificate;
pub mod refresh_token;
pub mod restraint_record;
pub mod risk_sign_alert;
pub mod session;
pub mod sharing_consent;
pub mod staff_member;
pub mod support_plan;
pub mod support_plan_version;
pub mod timeline_entry;
pub mod webhook_cursor;
pub mod webhook_delivery;
pub mod webhook_endpoint;
