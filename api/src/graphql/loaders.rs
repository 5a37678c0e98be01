//! DataLoaders, created fresh for every request so that a cached value can never be served to
//! another viewer. Each batch is one SQL statement whatever the number of keys.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, Loader};
use entity::{organization, staff_member};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::service;

/// The loaders of one request.
pub struct Loaders {
    pub organizations: DataLoader<OrganizationLoader>,
    pub staff_members: DataLoader<StaffMemberLoader>,
}

impl Loaders {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            organizations: DataLoader::new(OrganizationLoader(db.clone()), tokio::spawn),
            staff_members: DataLoader::new(StaffMemberLoader(db), tokio::spawn),
        }
    }
}

/// The error type loaders share (async-graphql needs `Clone`).
#[derive(Clone)]
pub struct LoadError(pub Arc<crate::error::ApiError>);

impl From<LoadError> for async_graphql::Error {
    fn from(e: LoadError) -> Self {
        // Loader failures are database failures: report them as internal.
        let inner = match Arc::try_unwrap(e.0) {
            Ok(err) => err,
            Err(shared) => crate::error::ApiError::internal(anyhow::anyhow!(
                "loader failed ({})",
                shared.code().as_str()
            )),
        };
        inner.into()
    }
}

fn wrap(e: crate::error::ApiError) -> LoadError {
    LoadError(Arc::new(e))
}

pub struct OrganizationLoader(DatabaseConnection);

impl Loader<Uuid> for OrganizationLoader {
    type Value = organization::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        service::organizations::by_ids(&self.0, keys)
            .await
            .map_err(wrap)
    }
}

pub struct StaffMemberLoader(DatabaseConnection);

impl Loader<Uuid> for StaffMemberLoader {
    type Value = staff_member::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        service::staff::by_ids(&self.0, keys).await.map_err(wrap)
    }
}
