//! Signing in and out, and `me`.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::{
    context::ContextExt,
    organization::Organization,
    staff::{StaffMember, StaffRole},
};
use crate::{auth, error::ApiError, service};

/// The signed-in staff member (閲覧者) and what they act as.
pub(super) struct Viewer(auth::Viewer);

/// The viewer (閲覧者): who is signed in, for which organization, in which role.
#[Object]
impl Viewer {
    /// The staff member behind the token.
    async fn staff_member(&self, ctx: &Context<'_>) -> async_graphql::Result<StaffMember> {
        let member = ctx
            .loaders()?
            .staff_members
            .load_one(self.0.staff_member_id)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        Ok(StaffMember::viewer_self(member))
    }

    /// The organization the viewer acts for (所属事業所).
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        Organization::load(ctx, self.0.organization_id).await
    }

    /// The viewer's role (役割), which decides what they may do.
    async fn role(&self) -> StaffRole {
        self.0.role.into()
    }
}

#[derive(Default)]
pub(super) struct SessionQuery;

#[Object]
impl SessionQuery {
    /// The signed-in viewer. `UNAUTHENTICATED` without a valid access token.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Viewer> {
        Ok(Viewer(ctx.viewer()?.clone()))
    }
}

/// Input of `login`.
#[derive(InputObject)]
pub(super) struct LoginInput {
    /// Login email (case does not matter).
    pub email: String,
    /// Password.
    pub password: String,
}

/// Input of `refreshSession`.
#[derive(InputObject)]
pub(super) struct RefreshSessionInput {
    /// The refresh token from the last `login` or `refreshSession`; each can be used once.
    pub refresh_token: String,
}

/// Tokens of a session (ログインセッション). Send the access token as `Authorization: Bearer …`;
/// before it expires, exchange the refresh token with `refreshSession`.
#[derive(SimpleObject)]
pub(super) struct SessionPayload {
    /// Short-lived JWT for `Authorization: Bearer …`.
    pub access_token: String,
    /// When the access token stops working.
    pub access_token_expires_at: DateTime<Utc>,
    /// Opaque, single-use token for `refreshSession`. Reusing one signs the session out.
    pub refresh_token: String,
    /// When the session ends and a new login is needed.
    pub refresh_token_expires_at: DateTime<Utc>,
    /// Who signed in.
    pub viewer: Viewer,
}

impl From<service::sessions::IssuedSession> for SessionPayload {
    fn from(s: service::sessions::IssuedSession) -> Self {
        Self {
            access_token: s.access_token,
            access_token_expires_at: s.access_token_expires_at,
            refresh_token: s.refresh_token,
            refresh_token_expires_at: s.refresh_token_expires_at,
            viewer: Viewer(s.viewer),
        }
    }
}

/// Result of `logout`.
#[derive(SimpleObject)]
pub(super) struct LogoutPayload {
    /// Always true: the session's refresh token and access tokens no longer work.
    pub revoked: bool,
}

#[derive(Default)]
pub(super) struct SessionMutation;

#[Object]
impl SessionMutation {
    /// Signs in (ログイン). A wrong password and an unknown email get the same
    /// `UNAUTHENTICATED`; repeated failures get `RATE_LIMITED` with `retryAfterSeconds`.
    async fn login(
        &self,
        ctx: &Context<'_>,
        input: LoginInput,
    ) -> async_graphql::Result<SessionPayload> {
        let state = ctx.state()?;
        let address = ctx
            .data_opt::<crate::auth::ClientAddress>()
            .copied()
            .unwrap_or_default();
        let origin = service::sessions::AttemptOrigin::of(
            address.0,
            state.config.jwt_secret.as_deref().unwrap_or_default(),
        );
        let issued =
            service::sessions::login(state, &origin, &input.email, &input.password).await?;
        Ok(issued.into())
    }

    /// Exchanges a refresh token for a new access token and refresh token. Presenting a refresh
    /// token a second time revokes the whole session (it was copied).
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        input: RefreshSessionInput,
    ) -> async_graphql::Result<SessionPayload> {
        let state = ctx.state()?;
        let issued = service::sessions::refresh(state, &input.refresh_token).await?;
        Ok(issued.into())
    }

    /// Signs out (ログアウト): the current session's tokens stop working at once.
    async fn logout(&self, ctx: &Context<'_>) -> async_graphql::Result<LogoutPayload> {
        let viewer = ctx.viewer()?;
        let state = ctx.state()?;
        service::sessions::logout(state, viewer).await?;
        Ok(LogoutPayload { revoked: true })
    }
}
