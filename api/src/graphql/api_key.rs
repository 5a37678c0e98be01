//! API keys (APIキー) for service accounts: created, listed and revoked by org admins.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::api_key as db;

use super::{
    context::ContextExt,
    ids,
    staff::{StaffMember, StaffRole},
};
use crate::service::api_keys::{self, NewApiKey};

/// An API key (APIキー): a service account's credential, sent as `Authorization: Bearer <key>`.
/// The key itself is shown only once, by `createApiKey`.
pub(super) struct ApiKey(db::Model);

impl ApiKey {
    async fn account(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<entity::staff_member::Model> {
        Ok(ctx
            .loaders()?
            .staff_members
            .load_one(self.0.staff_member_id)
            .await?
            .ok_or(crate::error::ApiError::NotFound("Staff member"))?)
    }
}

/// An API key (APIキー): a service account's credential, sent as `Authorization: Bearer <key>`.
/// The key itself is shown only once, by `createApiKey`.
#[Object]
impl ApiKey {
    /// Opaque global id.
    async fn id(&self) -> ID {
        ids::encode("ApiKey", self.0.id)
    }
    /// What the key is for (e.g. 請求ソフト連携); its service account carries the same name,
    /// so every record and audit entry it makes names it.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The key's first characters (e.g. `kkh_AbC123`), to recognise it; never enough to use it.
    async fn prefix(&self) -> &str {
        &self.0.prefix
    }
    /// The role the key acts with.
    async fn role(&self, ctx: &Context<'_>) -> async_graphql::Result<StaffRole> {
        Ok(self.account(ctx).await?.role.into())
    }
    /// The service account (サービスアカウント) the key acts as.
    async fn service_account(&self, ctx: &Context<'_>) -> async_graphql::Result<StaffMember> {
        Ok(StaffMember::new(self.account(ctx).await?))
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it stops working by itself; null for never.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
    /// When it was revoked; null while it works.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
    /// When it was last used (to the minute); null if never.
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
}

/// Input of `createApiKey`.
#[derive(InputObject)]
pub(super) struct CreateApiKeyInput {
    /// What the key is for (at most 100 characters).
    pub name: String,
    /// The role it acts with: a working role of your organization (not `ORG_ADMIN`).
    pub role: StaffRole,
    /// When it stops working; null for never (rotate keys anyway).
    pub expires_at: Option<DateTime<Utc>>,
}

/// Result of `createApiKey`.
#[derive(SimpleObject)]
pub(super) struct CreateApiKeyPayload {
    /// The new key's record.
    pub api_key: ApiKey,
    /// The key itself. Shown this once: only its hash is stored.
    pub secret: String,
}

/// Result of `revokeApiKey`.
#[derive(SimpleObject)]
pub(super) struct RevokeApiKeyPayload {
    /// The key, now revoked.
    pub api_key: ApiKey,
}

#[derive(Default)]
pub(super) struct ApiKeyQuery;

#[Object]
impl ApiKeyQuery {
    /// Your organization's API keys (org admins only): every unrevoked one (at most 50 exist),
    /// then the 50 most recently created revoked ones; newest first in each group.
    async fn api_keys(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ApiKey>> {
        let viewer = ctx.viewer()?;
        let list = api_keys::list(&ctx.state()?.db, viewer, 50).await?;
        Ok(list.into_iter().map(ApiKey).collect())
    }
}

#[derive(Default)]
pub(super) struct ApiKeyMutation;

#[Object]
impl ApiKeyMutation {
    /// Creates an API key for your organization (org admins only). The answer holds the key
    /// once; store it in your integration's secret store.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        input: CreateApiKeyInput,
    ) -> async_graphql::Result<CreateApiKeyPayload> {
        let viewer = ctx.viewer()?;
        let (model, secret) = api_keys::create(
            ctx.state()?,
            viewer,
            NewApiKey {
                name: input.name,
                role: input.role.into(),
                expires_at: input.expires_at,
            },
        )
        .await?;
        Ok(CreateApiKeyPayload {
            api_key: ApiKey(model),
            secret,
        })
    }

    /// Revokes an API key at once (org admins only): requests with it are refused and its
    /// open subscriptions close.
    async fn revoke_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key's global id.")] id: ID,
    ) -> async_graphql::Result<RevokeApiKeyPayload> {
        let viewer = ctx.viewer()?;
        let uuid = ids::decode("ApiKey", "id", &id)?;
        let model = api_keys::revoke(ctx.state()?, viewer, uuid).await?;
        Ok(RevokeApiKeyPayload {
            api_key: ApiKey(model),
        })
    }
}
