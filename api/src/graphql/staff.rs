//! Staff members (職員) and the admin's account management.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::staff_member as db;

use super::{
    context::ContextExt,
    ids,
    organization::Organization,
    pagination::{connection_types, page_args},
};
use crate::service;

/// Role of a staff member (職種・役割). It must fit the organization's kind.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::staff_member::StaffRole")]
pub enum StaffRole {
    /// Facility support staff (支援員 / 生活支援員 / 世話人): writes daily records.
    FacilityStaff,
    /// Service manager (サービス管理責任者 / 児童発達支援管理責任者): writes the individual support plan.
    ServiceManager,
    /// Consultation specialist (相談支援専門員): writes the service-use plan, runs monitoring.
    ConsultationSpecialist,
    /// The organization's administrator (管理者): manages its staff accounts.
    OrgAdmin,
}

/// A staff member (職員) of a facility or consultation office.
#[derive(Clone)]
pub struct StaffMember {
    model: db::Model,
    /// Set for the viewer's own record (also right after login, before any token is sent).
    is_viewer: bool,
}

impl StaffMember {
    pub fn new(model: db::Model) -> Self {
        Self {
            model,
            is_viewer: false,
        }
    }

    /// The viewer's own record: contact details always visible.
    pub fn viewer_self(model: db::Model) -> Self {
        Self {
            model,
            is_viewer: true,
        }
    }
}

connection_types!(
    StaffMemberConnection,
    StaffMemberEdge,
    StaffMember,
    "staff members (職員)"
);

/// Staff member (職員): a person who signs in and acts for one organization.
#[Object]
impl StaffMember {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode("StaffMember", self.model.id)
    }

    /// Name as shown to colleagues (表示名).
    async fn display_name(&self) -> &str {
        &self.model.display_name
    }

    /// Login email (メールアドレス). Null unless the viewer belongs to the same organization.
    async fn email(&self, ctx: &Context<'_>) -> Option<&str> {
        let same_org = ctx.viewer().is_ok_and(|v| {
            crate::auth::policy::is_own_organization(v.organization_id, self.model.organization_id)
        });
        (self.is_viewer || same_org).then_some(self.model.email.as_str())
    }

    /// Role (役割).
    async fn role(&self) -> StaffRole {
        self.model.role.into()
    }

    /// False once the organization's admin deactivated the account (利用停止).
    async fn active(&self) -> bool {
        self.model.active
    }

    /// True for an API key's service account (サービスアカウント): its name is the key's.
    async fn service_account(&self) -> bool {
        self.model.service_account
    }

    /// Your organization's own id for the person (外部ID). Null for other organizations.
    async fn external_id(&self, ctx: &Context<'_>) -> Option<&str> {
        let same_org = ctx.viewer().is_ok_and(|v| {
            crate::auth::policy::is_own_organization(v.organization_id, self.model.organization_id)
        });
        same_org
            .then_some(self.model.external_id.as_deref())
            .flatten()
    }

    /// The organization the staff member works for (所属事業所).
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        Organization::load(ctx, self.model.organization_id).await
    }
}

#[derive(Default)]
pub(super) struct StaffQuery;

#[Object]
impl StaffQuery {
    /// Staff of the viewer's own organization (自事業所の職員一覧), in creation order.
    async fn staff_members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Include deactivated accounts.", default = false)] include_inactive: bool,
        #[graphql(desc = "Page size from the start (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to continue before.")] before: Option<String>,
    ) -> async_graphql::Result<StaffMemberConnection> {
        let viewer = ctx.viewer()?;
        let args = page_args(ctx, first, after, last, before)?;
        let state = ctx.state()?;
        let page = service::staff::list_own(&state.db, viewer, include_inactive, &args).await?;
        Ok(StaffMemberConnection::from_page(
            page,
            |s| s.id,
            StaffMember::new,
        ))
    }
}

/// Input of `createStaffMember`.
#[derive(InputObject)]
pub(super) struct CreateStaffMemberInput {
    /// Login email; unique in the installation.
    pub email: String,
    /// Name as shown to colleagues (表示名), at most 100 characters.
    pub display_name: String,
    /// Role; must fit the organization's kind.
    pub role: StaffRole,
    /// First password (at least 10 characters); the staff member should change it.
    pub initial_password: String,
    /// Your organization's own id for the person (外部ID, e.g. from HR), unique in your
    /// organization. Creating again with the same id (and email) returns the first account.
    pub external_id: Option<String>,
}

/// Result of `createStaffMember`.
#[derive(SimpleObject)]
pub(super) struct CreateStaffMemberPayload {
    /// The new account.
    pub staff_member: StaffMember,
}

/// Input of `deactivateStaffMember` and `reactivateStaffMember`.
#[derive(InputObject)]
pub(super) struct StaffMemberStatusInput {
    /// The staff member's global id (of the admin's own organization).
    pub staff_member_id: ID,
}

/// Result of `deactivateStaffMember` and `reactivateStaffMember`.
#[derive(SimpleObject)]
pub(super) struct StaffMemberStatusPayload {
    /// The account after the change.
    pub staff_member: StaffMember,
}

/// Input of `changePassword`.
#[derive(InputObject)]
pub(super) struct ChangePasswordInput {
    /// The password in use now.
    pub current_password: String,
    /// The new password (at least 10 characters).
    pub new_password: String,
}

/// Result of `changePassword`.
#[derive(SimpleObject)]
pub(super) struct ChangePasswordPayload {
    /// Always true; every other session of the account was signed out.
    pub changed: bool,
}

#[derive(Default)]
pub(super) struct StaffMutation;

#[Object]
impl StaffMutation {
    /// Creates a staff account in the admin's own organization (org admins only).
    async fn create_staff_member(
        &self,
        ctx: &Context<'_>,
        input: CreateStaffMemberInput,
    ) -> async_graphql::Result<CreateStaffMemberPayload> {
        let viewer = ctx.viewer()?;
        let state = ctx.state()?;
        let new = service::staff::NewStaffMember {
            email: input.email,
            display_name: input.display_name,
            role: input.role.into(),
            initial_password: input.initial_password,
            external_id: input.external_id,
        };
        let member = service::staff::create(state, viewer, new).await?;
        Ok(CreateStaffMemberPayload {
            staff_member: StaffMember::new(member),
        })
    }

    /// Deactivates an account of the admin's own organization: its tokens stop working at once.
    async fn deactivate_staff_member(
        &self,
        ctx: &Context<'_>,
        input: StaffMemberStatusInput,
    ) -> async_graphql::Result<StaffMemberStatusPayload> {
        set_active(ctx, input, false).await
    }

    /// Reactivates a deactivated account of the admin's own organization.
    async fn reactivate_staff_member(
        &self,
        ctx: &Context<'_>,
        input: StaffMemberStatusInput,
    ) -> async_graphql::Result<StaffMemberStatusPayload> {
        set_active(ctx, input, true).await
    }

    /// Changes the viewer's own password; other sessions of the account are signed out.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        input: ChangePasswordInput,
    ) -> async_graphql::Result<ChangePasswordPayload> {
        let viewer = ctx.viewer()?;
        let state = ctx.state()?;
        service::staff::change_password(
            state,
            viewer,
            &input.current_password,
            &input.new_password,
        )
        .await?;
        Ok(ChangePasswordPayload { changed: true })
    }
}

async fn set_active(
    ctx: &Context<'_>,
    input: StaffMemberStatusInput,
    active: bool,
) -> async_graphql::Result<StaffMemberStatusPayload> {
    let viewer = ctx.viewer()?;
    let id = ids::decode("StaffMember", "staffMemberId", &input.staff_member_id)?;
    let state = ctx.state()?;
    let member = service::staff::set_active(state, viewer, id, active).await?;
    // A later field of the same operation must not show the member as it was.
    ctx.loaders()?.staff_members.clear::<uuid::Uuid>();
    Ok(StaffMemberStatusPayload {
        staff_member: StaffMember::new(member),
    })
}
