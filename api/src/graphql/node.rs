//! Relay's `node(id:)`: any record by its global id, filtered for the viewer exactly like the
//! type-specific fields.

use async_graphql::{Context, ID, Interface, Object};

use super::{
    Organization, StaffMember, client::Client, context::ContextExt, ids, observation::Observation,
};
use crate::{error::ApiError, service};

/// Anything with a global id (Relay Node).
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global id."))]
pub(super) enum Node {
    Client(Client),
    Observation(Observation),
    Organization(Organization),
    StaffMember(StaffMember),
    SupportPlan(super::plan::SupportPlan),
    Meeting(super::meeting::Meeting),
    RestraintRecord(super::statutory::RestraintRecord),
    AccidentReport(super::statutory::AccidentReport),
    ComplaintRecord(super::statutory::ComplaintRecord),
}

#[derive(Default)]
pub(super) struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any record by global id, if you may see it; otherwise `NOT_FOUND`.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id.")] id: ID,
    ) -> async_graphql::Result<Node> {
        let viewer = ctx.viewer()?;
        let state = ctx.state()?;
        let (type_name, uuid) = ids::decode_any("id", &id)?;
        Ok(match type_name.as_str() {
            "Client" => Node::Client(Client::visible(ctx, uuid).await?),
            "Observation" => Node::Observation(Observation(
                service::observations::get(state, viewer, uuid).await?,
            )),
            "SupportPlan" => Node::SupportPlan(super::plan::SupportPlan(
                service::plans::get(state, viewer, uuid).await?,
            )),
            "Meeting" => Node::Meeting(super::meeting::Meeting(
                service::meetings::get(state, viewer, uuid).await?.0,
            )),
            "RestraintRecord" => Node::RestraintRecord(super::statutory::RestraintRecord(
                service::statutory::restraint::get(state, viewer, uuid).await?,
            )),
            "AccidentReport" => Node::AccidentReport(super::statutory::AccidentReport(
                service::statutory::accident::get(state, viewer, uuid).await?,
            )),
            "ComplaintRecord" => Node::ComplaintRecord(super::statutory::ComplaintRecord(
                service::statutory::complaint::get(state, viewer, uuid).await?,
            )),
            "Organization" => Node::Organization(Organization(
                service::organizations::get(&state.db, viewer, uuid).await?,
            )),
            "StaffMember" => {
                let member = ctx.loaders()?.staff_members.load_one(uuid).await?;
                match member {
                    Some(m)
                        if crate::auth::policy::is_own_organization(
                            viewer.organization_id,
                            m.organization_id,
                        ) =>
                    {
                        Node::StaffMember(StaffMember::new(m))
                    }
                    _ => return Err(ApiError::NotFound("Node").into()),
                }
            }
            _ => return Err(ApiError::NotFound("Node").into()),
        })
    }
}
