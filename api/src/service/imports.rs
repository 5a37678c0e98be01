//! Idempotent upserts and bulk imports keyed by each organization's external ids (外部ID).
//!
//! An import runs in one transaction with a savepoint per item: an item that fails is rolled
//! back alone and reported with its code and field, the others commit (`PER_ITEM`), or — when
//! the caller asks for all-or-nothing — any failure rolls everything back. Either way the same
//! file sent twice leaves the data exactly as the first time did, because every item is matched
//! on `(organization, externalId)` and compared before anything is written.

use std::collections::HashMap;

use entity::client;
use sea_orm::{ConnectionTrait, DatabaseTransaction, EntityTrait, TransactionTrait};
use uuid::Uuid;

use super::{
    access::Scope,
    clients::{self, NewClient, Profile},
    external_ids::{self, Outcome},
    observations::{self, ObservationContent},
};
use crate::{
    auth::Viewer,
    db,
    error::{ApiError, ApiResult},
    service::Ctx,
};

/// How an import item names its client.
#[derive(Debug, Clone)]
pub enum ClientRef {
    /// Kakehashi's id.
    Id(Uuid),
    /// The importing organization's own id for the client.
    External(String),
}

/// One observation to record or bring up to date.
#[derive(Debug, Clone)]
pub struct ObservationItem {
    pub external_id: String,
    pub client: ClientRef,
    pub content: ObservationContent,
}

/// One item of an import.
#[derive(Debug, Clone)]
pub enum ImportItem {
    /// A client profile; `external_id` must be set.
    Client(NewClient),
    Observation(ObservationItem),
    /// An item the caller could not even read (e.g. a malformed id): reported, never applied.
    Invalid {
        external_id: Option<String>,
        error: ItemError,
    },
}

impl ImportItem {
    fn external_id(&self) -> Option<&str> {
        match self {
            Self::Client(c) => c.external_id.as_deref(),
            Self::Observation(o) => Some(&o.external_id),
            Self::Invalid { external_id, .. } => external_id.as_deref(),
        }
    }
}

/// Why an item was refused, as reported (a copy of the error's public parts).
#[derive(Debug, Clone)]
pub struct ItemError {
    pub code: &'static str,
    pub field: Option<String>,
    pub message: String,
}

impl ItemError {
    pub fn of(e: &ApiError) -> Self {
        Self {
            code: e.code().as_str(),
            field: match e {
                ApiError::BadUserInput { field, .. } => field.clone(),
                _ => None,
            },
            message: e.public_message(),
        }
    }
}

/// How an item failed: on its own, or in a way that ends the whole import attempt.
enum Refused {
    Item(ItemError),
    Abort(ApiError),
}

impl From<ItemError> for Refused {
    fn from(e: ItemError) -> Self {
        Self::Item(e)
    }
}

impl From<ApiError> for Refused {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Contention | ApiError::Internal(_) => Self::Abort(e),
            other => Self::Item(ItemError::of(&other)),
        }
    }
}

/// What happened to one item.
#[derive(Debug)]
pub struct ItemResult {
    /// The item's position in the request (from 0).
    pub index: usize,
    pub external_id: Option<String>,
    /// The outcome and the record's id, or why the item was refused.
    pub result: Result<(Outcome, Uuid), ItemError>,
}

/// The result of a whole import.
#[derive(Debug)]
pub struct ImportReport {
    pub items: Vec<ItemResult>,
    /// `false` when all-or-nothing was asked for and an item failed: nothing was stored.
    pub committed: bool,
}

/// Records or updates the client the viewer's organization knows by `new.external_id`.
pub async fn upsert_client(
    state: &Ctx,
    viewer: &Viewer,
    new: NewClient,
) -> ApiResult<(Outcome, client::Model)> {
    db::retrying(|| async {
        let txn = db::begin_write(&state.db).await?;
        let done = upsert_client_in(&txn, viewer, new.clone()).await?;
        txn.commit().await?;
        Ok(done)
    })
    .await
}

/// Records or amends the observation the viewer's organization knows by `item.external_id`.
pub async fn upsert_observation(
    state: &Ctx,
    viewer: &Viewer,
    item: ObservationItem,
) -> ApiResult<(Outcome, entity::observation::Model)> {
    db::retrying(|| async {
        let txn = db::begin_write(&state.db).await?;
        let mut scopes = HashMap::new();
        let done = upsert_observation_in(&txn, viewer, &mut scopes, item.clone()).await?;
        txn.commit().await?;
        Ok(done)
    })
    .await
}

/// Applies every item, each in its own savepoint; see the module documentation.
pub async fn import(
    state: &Ctx,
    viewer: &Viewer,
    items: Vec<ImportItem>,
    all_or_nothing: bool,
) -> ApiResult<ImportReport> {
    let max = state.config.import_max_items;
    if items.len() > max {
        return Err(ApiError::bad_input(
            "items",
            format!("Send at most {max} items per call."),
        ));
    }
    db::retrying(|| import_once(state, viewer, items.clone(), all_or_nothing)).await
}

async fn import_once(
    state: &Ctx,
    viewer: &Viewer,
    items: Vec<ImportItem>,
    all_or_nothing: bool,
) -> ApiResult<ImportReport> {
    let txn = db::begin_write(&state.db).await?;
    let mut scopes = HashMap::new();
    let mut results = Vec::with_capacity(items.len());
    let mut failed = false;
    for (index, item) in items.into_iter().enumerate() {
        let external_id = item.external_id().map(str::to_owned);
        let savepoint = txn.begin().await?;
        let result = match item {
            ImportItem::Invalid { error, .. } => Err(Refused::Item(error)),
            ImportItem::Client(new) => upsert_client_in(&savepoint, viewer, new)
                .await
                .map(|(o, m)| (o, m.id))
                .map_err(Refused::from),
            ImportItem::Observation(o) => upsert_observation_in(&savepoint, viewer, &mut scopes, o)
                .await
                .map(|(o, m)| (o, m.id))
                .map_err(Refused::from),
        };
        match result {
            Ok(done) => {
                savepoint.commit().await?;
                results.push(ItemResult {
                    index,
                    external_id,
                    result: Ok(done),
                });
            }
            // A lost race or a broken database ends the whole attempt (it may be retried).
            Err(Refused::Abort(e)) => return Err(e),
            Err(Refused::Item(e)) => {
                savepoint.rollback().await?;
                failed = true;
                results.push(ItemResult {
                    index,
                    external_id,
                    result: Err(e),
                });
            }
        }
    }
    let committed = !(failed && all_or_nothing);
    if committed {
        txn.commit().await?;
    } else {
        txn.rollback().await?;
    }
    Ok(ImportReport {
        items: results,
        committed,
    })
}

async fn upsert_client_in(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    mut new: NewClient,
) -> ApiResult<(Outcome, client::Model)> {
    let external_id = external_ids::required(new.external_id.take().unwrap_or_default())?;
    new.external_id = Some(external_id.clone());
    let prepared = clients::prepare(txn, viewer, new).await?;
    let Some(client_id) =
        clients::by_external_id(txn, viewer.organization_id, &external_id).await?
    else {
        let model = clients::insert_prepared(txn, viewer, prepared).await?;
        return Ok((Outcome::Created, model));
    };
    let current = client::Entity::find_by_id(client_id)
        .one(txn)
        .await?
        .ok_or(ApiError::NotFound("Client"))?;
    if Profile::of(&current) == prepared.profile {
        return Ok((Outcome::Unchanged, current));
    }
    // Only while still serving the client: a former member's records stay, its say ends.
    let scope = Scope::for_client(txn, viewer, client_id).await?;
    if !matches!(
        scope.require(client_id)?.membership,
        crate::auth::policy::Membership::Current(_)
    ) {
        return Err(ApiError::forbidden(
            "Only a current care-team member changes the client's profile.",
        ));
    }
    let model = clients::update_profile(txn, viewer, current, prepared.profile).await?;
    Ok((Outcome::Updated, model))
}

async fn upsert_observation_in(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    scopes: &mut HashMap<Uuid, Scope>,
    item: ObservationItem,
) -> ApiResult<(Outcome, entity::observation::Model)> {
    let external_id = external_ids::required(item.external_id)?;
    let client_id = resolve_client(txn, viewer, &item.client).await?;
    let scope = match scopes.entry(client_id) {
        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
        std::collections::hash_map::Entry::Vacant(e) => {
            e.insert(Scope::for_client(txn, viewer, client_id).await?)
        }
    };
    observations::upsert_in(txn, viewer, scope, client_id, external_id, item.content).await
}

/// The client an item names; an unknown external id is `NOT_FOUND` like an unknown id.
async fn resolve_client(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    client: &ClientRef,
) -> ApiResult<Uuid> {
    match client {
        ClientRef::Id(id) => Ok(*id),
        ClientRef::External(ext) => clients::by_external_id(db, viewer.organization_id, ext.trim())
            .await?
            .ok_or(ApiError::NotFound("Client")),
    }
}
