//! One subscriber's feed: the events it missed (from its cursor), then live events, each one
//! authorized with the organization's *current* scope, exactly as a query now would be.
//!
//! Order and exactly-once: the feed tracks the last event id it has judged. Replay reads the
//! outbox after it; live events at or below it are skipped. The live receiver is opened only
//! after the replay caught up, followed by one more replay step, so an event published between
//! the two is read from the database instead of being lost.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::{
    Live,
    hub::{BATCH, DeliveryRead, EventHub},
};
use crate::{
    auth::{Viewer, policy},
    error::{ApiError, ApiResult},
    service::{
        access::Scope,
        deliveries::{self, Delivery, EventRecord},
        outbox::{self, Cursor},
    },
};

/// One event for one subscriber, with the scope that authorized it (nested fields resolve
/// with it too).
pub struct FeedItem {
    pub delivery: Arc<Delivery>,
    pub scope: Arc<Scope>,
}

/// What a feed follows.
#[derive(Clone, Copy)]
pub enum Follow {
    /// One client (`clientEvents`).
    Client(Uuid),
    /// Every client the viewer may see (`myEvents`).
    AllMine,
}

/// Checks the subscription and returns its stream; errors here (an unknown client, an expired
/// cursor) are the subscription's answer before any event.
pub async fn open(
    state: &Live,
    viewer: &Viewer,
    follow: Follow,
    after: Option<Cursor>,
) -> ApiResult<impl Stream<Item = ApiResult<FeedItem>> + Send + use<>> {
    let judge = Judge {
        state: state.clone(),
        viewer: viewer.clone(),
        follow,
    };
    // Fresh, not the shared cache: the hub may not have published an access change yet.
    let scope = Scope::for_organization(&state.db, viewer.organization_id).await?;
    if let Follow::Client(c) = follow
        && !policy::follows_client(scope.require(c)?)
    {
        return Err(ApiError::forbidden(
            "Only current care-team members receive a client's events.",
        ));
    }
    let head = outbox::head(&state.db).await?;
    let start = match after {
        Some(c) => {
            if c.occurred_at < expiry_line(state) {
                return Err(ApiError::CursorExpired);
            }
            if c.id > head {
                return Err(ApiError::bad_input(
                    "after",
                    "after is not a cursor of this server's events.",
                ));
            }
            c
        }
        // "From now": the newest committed event, which the hub may not have published yet.
        None => Cursor {
            id: head,
            occurred_at: Utc::now(),
        },
    };
    Ok(judge.stream(start))
}

/// Cursors older than this are expired: the retention minus a safety margin, so the sweep can
/// never have removed an event the cursor still needs.
fn expiry_line(state: &Live) -> chrono::DateTime<Utc> {
    let retention = state.config.outbox_retention;
    let margin = (retention / 10).min(Duration::from_secs(60));
    Utc::now() - (retention - margin)
}

struct Judge {
    state: Live,
    viewer: Viewer,
    follow: Follow,
}

impl Judge {
    fn hub(&self) -> &EventHub {
        &self.state.hub
    }

    async fn scope(&self) -> ApiResult<Arc<Scope>> {
        self.state
            .scopes
            .get(&self.state.db, self.viewer.organization_id)
            .await
    }

    fn stream(self, start: Cursor) -> impl Stream<Item = ApiResult<FeedItem>> + Send + 'static {
        async_stream::try_stream! {
            let mut last = start.id;
            let mut last_cursor = start;
            // Replay what was missed; then open the live receiver and replay once more for
            // anything published in between.
            let mut live = None;
            let mut live = loop {
                loop {
                    // Boxed: the stream lives as long as the subscription, and would otherwise
                    // keep room for the replay's statements all that time.
                    let (read, batch) = Box::pin(self.replay_batch(last)).await?;
                    let full = read.is_some_and(|(count, _)| count == BATCH);
                    for d in batch {
                        last = d.event.id;
                        last_cursor = d.cursor();
                        if let Some(item) = self.admit(Arc::new(d), true).await? {
                            yield item;
                        }
                    }
                    // Past events the load left out too (none exist: clients are never deleted).
                    if let Some((_, newest)) = read {
                        last = last.max(newest);
                    }
                    if !full {
                        break;
                    }
                }
                match live.take() {
                    Some(receiver) => break receiver,
                    None => live = Some(self.hub().subscribe()),
                }
            };
            loop {
                match live.recv().await {
                    Ok(d) => {
                        if d.event.id <= last {
                            continue;
                        }
                        last = d.event.id;
                        last_cursor = d.cursor();
                        if let Some(item) = self.admit(d, false).await? {
                            yield item;
                        }
                    }
                    Err(RecvError::Lagged(_)) => {
                        Err(ApiError::SubscriberTooSlow {
                            cursor: Some(last_cursor.encode()),
                        })?;
                    }
                    Err(RecvError::Closed) => break,
                }
            }
        }
    }

    /// The next stored events after `after`: (rows read, newest id) when there were any, and
    /// the loaded deliveries.
    async fn replay_batch(&self, after: i64) -> ApiResult<(Option<(u64, i64)>, Vec<Delivery>)> {
        let db = &self.state.db;
        let rows = match self.follow {
            Follow::Client(c) => outbox::read_after(db, after, Some(&[c]), BATCH).await?,
            Follow::AllMine => {
                // Only the clients followed now (a short list for one office); a very large
                // caseload is filtered in memory instead of in a huge `IN` list.
                let followed = self.scope().await?.current_clients(None);
                let filter = (followed.len() <= 1000).then_some(followed.as_slice());
                outbox::read_after(db, after, filter, BATCH).await?
            }
        };
        let read = rows.last().map(|e| (rows.len() as u64, e.id));
        Ok((read, deliveries::load(db, rows).await?))
    }

    /// The event for this subscriber, or `None` when a query would not show it. A replayed
    /// event may be ahead of the hub: if it changes access, the shared scope is reloaded
    /// before anything after it is judged (live events were handled by the hub already).
    async fn admit(&self, d: Arc<Delivery>, replayed: bool) -> ApiResult<Option<FeedItem>> {
        if replayed && d.changes_access() {
            self.state.scopes.forget(self.viewer.organization_id);
        }
        if let Follow::Client(c) = self.follow
            && d.event.client_id != c
        {
            return Ok(None);
        }
        let scope = self.scope().await?;
        if let Follow::Client(c) = self.follow
            && !scope.relation(c).is_some_and(policy::follows_client)
        {
            // Consent revoked or membership ended: the feed of this client stops here.
            return Err(ApiError::forbidden(
                "Access to this client has ended: its events are no longer delivered.",
            ));
        }
        if !d.visible_to(&scope) {
            return Ok(None);
        }
        if let Some(record_id) = audited_record(&d) {
            self.hub()
                .audit_read(DeliveryRead {
                    staff_member_id: self.viewer.staff_member_id,
                    organization_id: self.viewer.organization_id,
                    client_id: d.event.client_id,
                    record_id,
                })
                .await;
        }
        Ok(Some(FeedItem { delivery: d, scope }))
    }
}

/// Records whose reads the audit log covers (the client's own records, not coordination data).
fn audited_record(d: &Delivery) -> Option<Uuid> {
    match d.record.as_ref()? {
        EventRecord::Observation(o) => Some(o.id),
        EventRecord::SupportPlan(p) => Some(p.id),
        EventRecord::MeetingBrief(b) => Some(b.id),
        EventRecord::MonitoringReport(r) => Some(r.id),
        EventRecord::RecipientCertificate(c) => Some(c.id),
        EventRecord::RestraintRecord(r) => Some(r.id),
        EventRecord::AccidentReport(a) => Some(a.id),
        EventRecord::ComplaintRecord(c) => Some(c.id),
        EventRecord::Meeting(_)
        | EventRecord::Client(_)
        | EventRecord::CareTeamMember(_)
        | EventRecord::SharingConsent(_) => None,
    }
}
