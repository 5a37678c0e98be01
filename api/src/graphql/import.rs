//! Idempotent writes for integrators (取り込み): upserts and bulk imports keyed by your
//! organization's external ids (外部ID).

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};

use super::{
    client::{Client, RegisterClientInput},
    context::ContextExt,
    ids,
    observation::{Observation, ObservationContentInput},
};
use crate::{
    error::ApiError,
    service::{
        self,
        external_ids::Outcome,
        imports::{self, ClientRef, ImportItem, ObservationItem},
    },
};

/// What an idempotent write did (取り込み結果).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "Outcome")]
pub enum UpsertOutcome {
    /// Nothing had this external id: the record was created (新規).
    Created,
    /// The record existed and differed: it was updated, as a new version where records keep
    /// versions (更新).
    Updated,
    /// The record already held exactly this: nothing was written (変更なし).
    Unchanged,
}

/// Why one import item was refused (取り込みエラー).
#[derive(SimpleObject)]
pub(super) struct ImportItemError {
    /// The stable error code, as in `extensions.code` (e.g. `BAD_USER_INPUT`, `NOT_FOUND`).
    pub code: String,
    /// The input field to blame, when one is (e.g. `fact`, `occurredFrom`).
    pub field: Option<String>,
    /// What is wrong, for a person.
    pub message: String,
}

/// The result of one import item (1件ごとの結果).
#[derive(SimpleObject)]
pub(super) struct ImportItemResult {
    /// The item's position in `items`, from 0.
    pub index: i32,
    /// The item's external id, as sent.
    pub external_id: Option<String>,
    /// What happened; null when the item was refused.
    pub outcome: Option<UpsertOutcome>,
    /// The record's global id; null when the item was refused or nothing was committed.
    pub id: Option<ID>,
    /// Why the item was refused; null when it was not.
    pub error: Option<ImportItemError>,
}

/// The result of an import (取り込み結果).
#[derive(SimpleObject)]
pub(super) struct ImportResult {
    /// Whether the changes were stored. False only with `allOrNothing` when an item failed:
    /// then nothing was stored and `outcome` says what would have happened.
    pub committed: bool,
    /// Items created.
    pub created: i32,
    /// Items updated.
    pub updated: i32,
    /// Items already up to date.
    pub unchanged: i32,
    /// Items refused.
    pub failed: i32,
    /// One result per item, in order.
    pub items: Vec<ImportItemResult>,
}

/// Input of `importClients`.
#[derive(InputObject)]
pub(super) struct ImportClientsInput {
    /// The clients; each needs its `externalId`. At most `IMPORT_MAX_ITEMS` (500 by default).
    pub items: Vec<RegisterClientInput>,
    /// Store nothing if any item fails (default: store every item that succeeds).
    #[graphql(default)]
    pub all_or_nothing: bool,
}

/// One observation to import: matched on your external id.
#[derive(InputObject)]
pub(super) struct ObservationImportItem {
    /// Your organization's id for the record (外部ID), unique in your organization.
    pub external_id: String,
    /// The client's global id (or give `clientExternalId`).
    pub client_id: Option<ID>,
    /// Your organization's id for the client (or give `clientId`).
    pub client_external_id: Option<String>,
    /// The record. `citedObservationIds` is not imported: citations added in Kakehashi stay.
    pub content: ObservationContentInput,
}

/// Input of `importObservations`.
#[derive(InputObject)]
pub(super) struct ImportObservationsInput {
    /// The observations. At most `IMPORT_MAX_ITEMS` (500 by default).
    pub items: Vec<ObservationImportItem>,
    /// Store nothing if any item fails (default: store every item that succeeds).
    #[graphql(default)]
    pub all_or_nothing: bool,
}

/// Result of `upsertClient`.
#[derive(SimpleObject)]
pub(super) struct ClientUpsertPayload {
    /// What happened.
    pub outcome: UpsertOutcome,
    /// The client as it is now.
    pub client: Client,
}

/// Result of `upsertObservation`.
#[derive(SimpleObject)]
pub(super) struct ObservationUpsertPayload {
    /// What happened.
    pub outcome: UpsertOutcome,
    /// The observation as it is now.
    pub observation: Observation,
}

impl ObservationImportItem {
    fn into_item(self) -> ImportItem {
        match self.convert() {
            Ok(item) => ImportItem::Observation(item),
            Err(error) => ImportItem::Invalid {
                external_id: None,
                error: imports::ItemError::of(&error),
            },
        }
    }

    fn convert(self) -> Result<ObservationItem, ApiError> {
        let client = match (self.client_id, self.client_external_id) {
            (Some(id), None) => ClientRef::Id(ids::decode("Client", "clientId", &id)?),
            (None, Some(ext)) => ClientRef::External(ext),
            _ => {
                return Err(ApiError::bad_input(
                    "clientId",
                    "Give exactly one of clientId and clientExternalId.",
                ));
            }
        };
        Ok(ObservationItem {
            external_id: self.external_id,
            client,
            content: self.content.into_content()?,
        })
    }
}

fn report(r: imports::ImportReport, type_name: &str) -> ImportResult {
    let mut out = ImportResult {
        committed: r.committed,
        created: 0,
        updated: 0,
        unchanged: 0,
        failed: 0,
        items: Vec::with_capacity(r.items.len()),
    };
    for item in r.items {
        let (outcome, id, error) = match item.result {
            Ok((outcome, id)) => {
                match outcome {
                    Outcome::Created => out.created += 1,
                    Outcome::Updated => out.updated += 1,
                    Outcome::Unchanged => out.unchanged += 1,
                }
                (
                    Some(outcome.into()),
                    r.committed.then(|| ids::encode(type_name, id)),
                    None,
                )
            }
            Err(e) => {
                out.failed += 1;
                (
                    None,
                    None,
                    Some(ImportItemError {
                        code: e.code.to_owned(),
                        field: e.field,
                        message: e.message,
                    }),
                )
            }
        };
        out.items.push(ImportItemResult {
            index: i32::try_from(item.index).unwrap_or(i32::MAX),
            external_id: item.external_id,
            outcome,
            id,
            error,
        });
    }
    out
}

#[derive(Default)]
pub(super) struct ImportMutation;

#[Object]
impl ImportMutation {
    /// Registers the client your organization knows by `externalId`, or brings its profile up
    /// to date (registering organization only), or changes nothing when it already matches
    /// (利用者の登録・更新). `externalId` is required here.
    async fn upsert_client(
        &self,
        ctx: &Context<'_>,
        input: RegisterClientInput,
    ) -> async_graphql::Result<ClientUpsertPayload> {
        let viewer = ctx.viewer()?;
        let state = ctx.state()?;
        let (outcome, model) = imports::upsert_client(state, viewer, input.into_new()).await?;
        let scope = service::access::Scope::for_client(&state.db, viewer, model.id).await?;
        let rel = scope.require(model.id)?.clone();
        Ok(ClientUpsertPayload {
            outcome: outcome.into(),
            client: Client { model, rel },
        })
    }

    /// Records the observation your organization knows by `externalId`, or amends it (a new
    /// version) when it differs, or changes nothing when it already matches (記録の登録・更新).
    async fn upsert_observation(
        &self,
        ctx: &Context<'_>,
        input: ObservationImportItem,
    ) -> async_graphql::Result<ObservationUpsertPayload> {
        let viewer = ctx.viewer()?;
        let (outcome, model) =
            imports::upsert_observation(ctx.state()?, viewer, input.convert()?).await?;
        Ok(ObservationUpsertPayload {
            outcome: outcome.into(),
            observation: Observation(model),
        })
    }

    /// Upserts many clients at once (利用者の一括取り込み), with a result per item. Sending the
    /// same items again changes nothing.
    async fn import_clients(
        &self,
        ctx: &Context<'_>,
        input: ImportClientsInput,
    ) -> async_graphql::Result<ImportResult> {
        let viewer = ctx.viewer()?;
        let items = input
            .items
            .into_iter()
            .map(|c| ImportItem::Client(c.into_new()))
            .collect();
        let r = imports::import(ctx.state()?, viewer, items, input.all_or_nothing).await?;
        Ok(report(r, "Client"))
    }

    /// Upserts many observations at once (記録の一括取り込み), with a result per item. Sending
    /// the same items again changes nothing.
    async fn import_observations(
        &self,
        ctx: &Context<'_>,
        input: ImportObservationsInput,
    ) -> async_graphql::Result<ImportResult> {
        let viewer = ctx.viewer()?;
        let items = input
            .items
            .into_iter()
            .map(ObservationImportItem::into_item)
            .collect();
        let r = imports::import(ctx.state()?, viewer, items, input.all_or_nothing).await?;
        Ok(report(r, "Observation"))
    }
}
