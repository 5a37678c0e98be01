//! The audit log (監査ログ): read-only through the API.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::audit_event;

use super::{
    Organization,
    context::ContextExt,
    ids,
    pagination::{connection_types, page_args},
    staff::StaffMember,
};
use crate::{auth::policy, error::ApiError, service};

/// An audit-log entry.
#[derive(Clone)]
pub(super) struct AuditEvent(pub audit_event::Model);

connection_types!(
    AuditEventConnection,
    AuditEventEdge,
    AuditEvent,
    "audit-log entries (監査ログ)"
);

/// Audit-log entry (監査ログ): who read or wrote which client's records, when.
#[Object]
impl AuditEvent {
    /// Opaque global id.
    async fn id(&self) -> ID {
        ids::encode("AuditEvent", self.0.id)
    }
    /// When it happened.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    /// What was done, e.g. `READ_CLIENT`, `READ_OBSERVATIONS`, `OBSERVATION_RECORDED`.
    async fn operation(&self) -> &str {
        &self.0.operation
    }
    /// Who did it.
    async fn staff_member(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<StaffMember>> {
        Ok(ctx
            .loaders()?
            .staff_members
            .load_one(self.0.staff_member_id)
            .await?
            .map(StaffMember::new))
    }
    /// For which organization.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        Ok(ctx
            .loaders()?
            .organizations
            .load_one(self.0.organization_id)
            .await?
            .map(Organization))
    }
    /// The client concerned (as a global id; the client itself may no longer be visible to you).
    async fn client_id(&self) -> Option<ID> {
        self.0.client_id.map(|c| ids::encode("Client", c))
    }
    /// Internal keys of the records involved; empty for another organization's actions.
    async fn record_keys(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        // Another organization's record keys would reveal records you may not see.
        if !policy::is_own_organization(ctx.viewer()?.organization_id, self.0.organization_id) {
            return Ok(Vec::new());
        }
        Ok(self
            .0
            .record_ids
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }
}

#[derive(Default)]
pub(super) struct AuditQuery;

#[Object]
impl AuditQuery {
    /// What your organization's staff did, newest first (org admins only; others `FORBIDDEN`).
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
    ) -> async_graphql::Result<AuditEventConnection> {
        let viewer = ctx.viewer()?;
        if !policy::can_read_audit_log(viewer) {
            return Err(
                ApiError::forbidden("Only the organization's admin reads its audit log.").into(),
            );
        }
        let args = page_args(ctx, first, after, None, None)?;
        let state = ctx.state()?;
        // This instance's batched reads first: the log is never older than its own reads.
        state.read_audits.flush().await;
        let page =
            service::audit_log::log_for_organization(&state.db, viewer.organization_id, &args)
                .await?;
        Ok(AuditEventConnection::from_page(page, |e| e.id, AuditEvent))
    }
}
