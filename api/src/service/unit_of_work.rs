//! The opening every change to a client's records shares (書き込みの手順), in one place: begin one
//! write transaction, read the viewer's relation to the client in it (so the change is decided
//! on what it commits against: a membership ended a moment ago counts), hide a record the viewer
//! may not see (`NOT_FOUND`), and refuse what the policy does not allow (`FORBIDDEN`). The change
//! then writes its rows and its outbox event in that transaction and commits; the public
//! function runs the whole attempt under [`crate::db::retrying`], so an attempt aborted for
//! contention starts again from the relation.

use entity::observation;
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use uuid::Uuid;

use super::{Ctx, access::Scope};
use crate::{
    auth::{
        Viewer,
        policy::{self, AnyRecordFacts, ClientRelation},
    },
    db,
    error::{ApiError, ApiResult},
};

/// A change to one client's records (or to one record of theirs), by one viewer.
pub(crate) struct ClientWrite<'a> {
    viewer: &'a Viewer,
    client_id: Uuid,
    /// What a viewer who may not see the client (or the record) is told does not exist.
    unseen: &'static str,
    /// The record changed, when it must be visible to the viewer.
    record: Option<Seen<'a>>,
}

/// A record the viewer must be able to see to change it.
#[derive(Clone, Copy)]
enum Seen<'a> {
    /// Any client record, by its policy facts.
    Record(AnyRecordFacts),
    /// An observation (its category and day decide what a consent shares).
    Observation(&'a observation::Model),
}

impl<'a> ClientWrite<'a> {
    /// A change to `client_id`'s records (a client the viewer may not see is `NOT_FOUND`).
    pub(crate) fn for_client(viewer: &'a Viewer, client_id: Uuid) -> Self {
        Self {
            viewer,
            client_id,
            unseen: "Client",
            record: None,
        }
    }

    /// A change to an existing `what` of `client_id`: a viewer who may not see the client is
    /// told the record does not exist (which client it belongs to is not theirs to learn).
    pub(crate) fn for_record(viewer: &'a Viewer, client_id: Uuid, what: &'static str) -> Self {
        Self {
            viewer,
            client_id,
            unseen: what,
            record: None,
        }
    }

    /// The record must also be one the viewer may see (its facts under the policy), else it is
    /// `NOT_FOUND` like one that does not exist.
    pub(crate) fn seen_as(mut self, facts: AnyRecordFacts) -> Self {
        self.record = Some(Seen::Record(facts));
        self
    }

    /// The same for an observation.
    pub(crate) fn seen_as_observation(mut self, o: &'a observation::Model) -> Self {
        self.record = Some(Seen::Observation(o));
        self
    }

    /// Begins the write transaction and checks the viewer in it: `allowed` decides from the
    /// relation (else `FORBIDDEN` with `denied`). Dropped without a commit, the transaction
    /// rolls back.
    pub(crate) async fn open(
        self,
        ctx: &Ctx,
        allowed: impl FnOnce(&Viewer, &ClientRelation) -> bool,
        denied: &str,
    ) -> ApiResult<DatabaseTransaction> {
        let txn = db::begin_write(&ctx.db).await?;
        self.check_in(&txn, allowed, denied).await?;
        Ok(txn)
    }

    /// The same check in a write transaction the change already began (it read the record
    /// there first, to know its client); returns the viewer's scope, for rules that look at
    /// more of it.
    pub(crate) async fn check_in(
        &self,
        txn: &impl ConnectionTrait,
        allowed: impl FnOnce(&Viewer, &ClientRelation) -> bool,
        denied: &str,
    ) -> ApiResult<Scope> {
        let scope = Scope::for_client(txn, self.viewer, self.client_id).await?;
        let relation = scope
            .relation(self.client_id)
            .ok_or(ApiError::NotFound(self.unseen))?;
        let visible = match self.record {
            None => true,
            Some(Seen::Record(facts)) => {
                policy::can_see_record(self.viewer.organization_id, relation, facts)
            }
            Some(Seen::Observation(o)) => scope.can_see_observation(o),
        };
        if !visible {
            return Err(ApiError::NotFound(self.unseen));
        }
        if !allowed(self.viewer, relation) {
            return Err(ApiError::forbidden(denied));
        }
        Ok(scope)
    }
}
