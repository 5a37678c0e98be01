//! Typed access to per-request data from a resolver.

use async_graphql::Context;

use crate::{
    auth::{Credential, Viewer},
    error::{ApiError, ApiResult},
    graphql::loaders::Loaders,
    realtime::Live,
};

pub(crate) trait ContextExt {
    /// The application state.
    fn state(&self) -> ApiResult<&Live>;
    /// The signed-in viewer, or `UNAUTHENTICATED`.
    fn viewer(&self) -> ApiResult<&Viewer>;
    /// This request's DataLoaders.
    fn loaders(&self) -> ApiResult<&Loaders>;
}

impl ContextExt for Context<'_> {
    fn state(&self) -> ApiResult<&Live> {
        self.data_opt::<Live>()
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("Live missing from request")))
    }

    fn viewer(&self) -> ApiResult<&Viewer> {
        match self.data_opt::<Credential>() {
            Some(Credential::Viewer(v)) => Ok(v),
            Some(Credential::Unavailable) => Err(ApiError::Unavailable),
            _ => Err(ApiError::Unauthenticated),
        }
    }

    fn loaders(&self) -> ApiResult<&Loaders> {
        self.data_opt::<Loaders>()
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("Loaders missing from request")))
    }
}
