//! The GraphQL schema: one module per domain concept, merged here.
//!
//! The schema is built without data (so the SDL can be exported and tested without a database);
//! live delivery and the service context (`realtime::Live`), the credential and fresh DataLoaders are attached to each request by
//! [`request_data`].

mod acknowledgement;
mod api_key;
mod audit;
mod brief_draft;
mod care_team;
mod certificate;
mod client;
pub(crate) mod context;
pub(crate) mod document;
mod fact_check;
mod history;
pub(crate) mod history_page;
pub mod ids;
mod import;
pub(crate) mod limits;
pub(crate) mod loaders;
mod materials;
mod meeting;
mod monitoring_report;
mod node;
mod observation;
mod organization;
mod pagination;
mod plan;
mod plan_check;
pub(crate) mod scalars;
mod schedule;
mod session;
mod staff;
mod statutory;
mod statutory_mutation;
mod statutory_summary;
pub(crate) mod subscription;
mod translation;
mod views;
mod webhook;

use std::sync::Arc;

use async_graphql::{MergedObject, SDLExportOptions, Schema};

pub use webhook::payload as webhook_payload;

use crate::{auth::Credential, config::Config, realtime::Live};

pub use organization::{Organization, OrganizationKind};
pub use staff::{StaffMember, StaffRole};

/// Every query root field.
#[derive(MergedObject, Default)]
pub struct Query(
    session::SessionQuery,
    views::ViewQuery,
    client::ClientQuery,
    node::NodeQuery,
    organization::OrganizationQuery,
    staff::StaffQuery,
    plan::PlanQuery,
    meeting::MeetingQuery,
    audit::AuditQuery,
    fact_check::FactCheckQuery,
    brief_draft::BriefDraftQuery,
    translation::TranslationQuery,
    api_key::ApiKeyQuery,
    webhook::WebhookQuery,
    statutory::StatutoryQuery,
    statutory::StatutorySummaryQuery,
);

/// Every mutation.
#[derive(MergedObject, Default)]
pub struct Mutation(
    session::SessionMutation,
    client::ClientMutation,
    certificate::CertificateMutation,
    care_team::CareTeamMutation,
    observation::ObservationMutation,
    plan::PlanMutation,
    meeting::MeetingMutation,
    staff::StaffMutation,
    fact_check::FactCheckMutation,
    acknowledgement::AcknowledgementMutation,
    translation::TranslationMutation,
    import::ImportMutation,
    api_key::ApiKeyMutation,
    webhook::WebhookMutation,
    statutory::StatutoryMutation,
);

pub type KakehashiSchema = Schema<Query, Mutation, subscription::SubscriptionRoot>;

/// Builds the schema for HTTP requests and WebSocket operations. Depth, aliases and nesting are
/// checked before it runs ([`document::prepare`]); complexity by its extension, after
/// validation, with its numbers.
pub fn build_schema(config: &Config) -> KakehashiSchema {
    builder(config)
        .extension(limits::QueryLimits {
            max_complexity: config.max_query_complexity,
        })
        .finish()
}

/// The limits every document is measured against.
pub fn limits(config: &Config) -> limits::Limits {
    limits::Limits {
        max_depth: config.max_query_depth,
        max_aliases: config.max_aliases,
        max_complexity: config.max_query_complexity,
    }
}

fn builder(
    config: &Config,
) -> async_graphql::SchemaBuilder<Query, Mutation, subscription::SubscriptionRoot> {
    let builder = Schema::build(
        Query::default(),
        Mutation::default(),
        subscription::SubscriptionRoot,
    )
    .register_output_type::<node::Node>()
    // A backstop only: documents are measured (and refused with their numbers) before they run.
    .limit_recursive_depth(usize::try_from(4 * limits::MAX_NESTING).unwrap_or(usize::MAX))
    .limit_directives(20)
    .disable_suggestions();
    if config.introspection {
        builder
    } else {
        builder.disable_introspection()
    }
}

/// The SDL as committed in `schema.graphql` (introspection settings do not change it).
pub fn sdl() -> String {
    build_schema(&Config::default())
        .sdl_with_options(SDLExportOptions::new().include_specified_by())
}

/// Attaches what resolvers need to one request.
pub fn request_data(
    request: async_graphql::Request,
    state: &Live,
    credential: Credential,
    outcome: Arc<limits::RequestOutcome>,
) -> async_graphql::Request {
    request
        .data(state.clone())
        .data(loaders::Loaders::new(state, &credential))
        .data(credential)
        .data(outcome)
}
