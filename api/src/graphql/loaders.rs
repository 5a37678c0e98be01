//! DataLoaders, created fresh for every request so that a cached value can never be served to
//! another viewer. Each batch is one SQL statement (or a fixed few) whatever the number of keys.
//!
//! The request's [`RequestCtx`] also caches the viewer's [`Scope`] (what it may see of which
//! client), loaded at most once per request.

use std::{collections::HashMap, future::Future, hash::Hash, pin::Pin, sync::Arc};

use async_graphql::dataloader::{CacheFactory, DataLoader, HashMapCache, Loader, NoCache};
use chrono::{DateTime, Utc};
use entity::{
    care_team_membership, care_team_objection, client, meeting, meeting_brief, monitoring_report,
    observation, observation_version, organization, recipient_certificate, sharing_consent,
    staff_member, support_plan, support_plan_version,
};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::{
    auth::{Credential, Viewer},
    error::{ApiError, ApiResult},
    service::{self, access::Scope},
};

/// Per-request context shared by the loaders.
pub(crate) struct RequestCtx {
    pub db: DatabaseConnection,
    /// Where the request's reads are audited (grouped with other requests' reads).
    pub audits: Arc<service::read_audits::ReadAudits>,
    /// Scopes shared across requests (see [`service::access::ScopeCache`]).
    scopes: Arc<service::access::ScopeCache>,
    /// Clients' rows shared across requests (see [`service::clients::ClientRows`]).
    client_rows: Arc<service::clients::ClientRows>,
    pub viewer: Option<Viewer>,
    scope: std::sync::Mutex<Option<Arc<Scope>>>,
    loading: tokio::sync::Mutex<()>,
}

impl RequestCtx {
    /// The viewer's scope over all its clients (once per request; one statement when the
    /// organization's cached scope is current, four otherwise).
    pub(crate) async fn scope(&self) -> ApiResult<Arc<Scope>> {
        if let Some(s) = self.cached_scope() {
            return Ok(s);
        }
        let viewer = self.viewer()?;
        let _single_flight = self.loading.lock().await;
        if let Some(s) = self.cached_scope() {
            return Ok(s);
        }
        let scope = self.scopes.get(&self.db, viewer.organization_id).await?;
        self.set_scope(scope.clone());
        Ok(scope)
    }

    /// Replaces the scope: a subscription resolves each event with the scope that authorized it.
    pub(crate) fn set_scope(&self, scope: Arc<Scope>) {
        *self
            .scope
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(scope);
    }

    fn cached_scope(&self) -> Option<Arc<Scope>> {
        self.scope
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn viewer(&self) -> ApiResult<&Viewer> {
        self.viewer.as_ref().ok_or(ApiError::Unauthenticated)
    }
}

/// How long a loader waits to collect keys before querying. async-graphql's 1 ms default splits
/// a level of a large page into several batches under load; a few milliseconds keep one
/// statement per level.
const BATCH_DELAY: std::time::Duration = std::time::Duration::from_millis(3);

type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
type LoadFn<K, V> = for<'a> fn(&'a RequestCtx, &'a [K]) -> BoxFut<'a, ApiResult<HashMap<K, V>>>;

/// A loader defined by one batch function.
pub(crate) struct BatchLoader<K, V> {
    ctx: Arc<RequestCtx>,
    load: LoadFn<K, V>,
}

/// The error type loaders share (async-graphql needs `Clone`).
#[derive(Clone)]
pub struct LoadError(pub Arc<ApiError>);

impl From<LoadError> for async_graphql::Error {
    /// Every caller of a failed batch gets the batch's own error, code and all (a database
    /// outage is `SERVICE_UNAVAILABLE` on every nested list, not an internal error).
    fn from(e: LoadError) -> Self {
        Arc::unwrap_or_clone(e.0).into()
    }
}

impl<K, V> Loader<K> for BatchLoader<K, V>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    V: Send + Sync + Clone + 'static,
{
    type Value = V;
    type Error = LoadError;

    async fn load(&self, keys: &[K]) -> Result<HashMap<K, V>, LoadError> {
        (self.load)(&self.ctx, keys)
            .await
            .map_err(|e| LoadError(Arc::new(e)))
    }
}

fn loader<K, V>(ctx: &Arc<RequestCtx>, load: LoadFn<K, V>) -> DataLoader<BatchLoader<K, V>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    V: Send + Sync + Clone + 'static,
{
    loader_with_cache(ctx, load, NoCache)
}

/// [`loader`] that remembers what it loaded for the rest of the request: for names shown on
/// every item of a page (authors, organizations). Without it, items that resolve a few
/// milliseconds apart under load ask for the same few staff members in several statements.
fn remembering_loader<K, V>(
    ctx: &Arc<RequestCtx>,
    load: LoadFn<K, V>,
) -> DataLoader<BatchLoader<K, V>, HashMapCache>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    V: Send + Sync + Clone + 'static,
{
    loader_with_cache(ctx, load, HashMapCache::default())
}

fn loader_with_cache<K, V, C: CacheFactory>(
    ctx: &Arc<RequestCtx>,
    load: LoadFn<K, V>,
    cache: C,
) -> DataLoader<BatchLoader<K, V>, C>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    V: Send + Sync + Clone + 'static,
{
    DataLoader::with_cache(
        BatchLoader {
            ctx: ctx.clone(),
            load,
        },
        tokio::spawn,
        cache,
    )
    .delay(BATCH_DELAY)
}

/// The loaders that remember names, held apart so that a subscription can forget them before
/// each event: its loaders live as long as the subscription, and a renamed or deactivated staff
/// member must show as they are now.
pub(crate) struct Names {
    organizations: Arc<DataLoader<BatchLoader<Uuid, organization::Model>, HashMapCache>>,
    staff_members: Arc<DataLoader<BatchLoader<Uuid, staff_member::Model>, HashMapCache>>,
}

impl Names {
    pub(crate) fn forget(&self) {
        self.organizations.clear::<Uuid>();
        self.staff_members.clear::<Uuid>();
    }
}

/// The loaders of one request.
pub(crate) struct Loaders {
    pub ctx: Arc<RequestCtx>,
    /// Remembered for the request, or for one event of a subscription (see [`Names`]).
    pub organizations: Arc<DataLoader<BatchLoader<Uuid, organization::Model>, HashMapCache>>,
    pub staff_members: Arc<DataLoader<BatchLoader<Uuid, staff_member::Model>, HashMapCache>>,
    pub clients: DataLoader<BatchLoader<Uuid, client::Model>>,
    /// Key: (client, how many).
    pub recent_observations: DataLoader<BatchLoader<(Uuid, u64), Vec<observation::Model>>>,
    /// (new shared observations since last review, risk signs in 30 days).
    pub client_counts: DataLoader<BatchLoader<Uuid, (u64, u64)>>,
    pub reviews: DataLoader<BatchLoader<Uuid, DateTime<Utc>>>,
    pub care_teams: DataLoader<BatchLoader<Uuid, Vec<care_team_membership::Model>>>,
    pub consents: DataLoader<BatchLoader<Uuid, Vec<sharing_consent::Model>>>,
    /// Objections raised on each client's care team.
    pub care_team_objections: DataLoader<BatchLoader<Uuid, Vec<care_team_objection::Model>>>,
    pub certificates: DataLoader<BatchLoader<Uuid, Vec<recipient_certificate::Model>>>,
    pub external_ids: DataLoader<BatchLoader<Uuid, String>>,
    pub observation_versions: DataLoader<BatchLoader<Uuid, Vec<observation_version::Model>>>,
    /// Per client, filtered by the scope; the batch's read is audited.
    pub plans_by_client: DataLoader<BatchLoader<Uuid, Vec<support_plan::Model>>>,
    pub meetings_by_client: DataLoader<BatchLoader<Uuid, Vec<meeting::Model>>>,
    pub reports_by_client: DataLoader<BatchLoader<Uuid, Vec<monitoring_report::Model>>>,
    /// Per plan / per meeting; callers filter by visibility.
    pub plan_versions: DataLoader<BatchLoader<Uuid, Vec<support_plan_version::Model>>>,
    /// Per plan: its client (for a version's profile check).
    pub plan_clients: DataLoader<BatchLoader<Uuid, Uuid>>,
    pub meeting_briefs: DataLoader<BatchLoader<Uuid, Vec<meeting_brief::Model>>>,
    /// Audits profile reads (wishes, family, certificates): once per client per request, all
    /// clients of a page in one statement.
    pub profile_reads: DataLoader<BatchLoader<Uuid, ()>>,
    /// Each organization's glossary (shipped entries with its own on top).
    pub glossaries: DataLoader<BatchLoader<Uuid, Arc<crate::language::translation::Glossary>>>,
    /// Each organization's own fact-check terms, compiled.
    pub own_lexicons:
        DataLoader<BatchLoader<Uuid, Arc<crate::language::lexicon::OrganizationLexicon>>>,
}

impl Loaders {
    /// Hands the remembering loaders the people and organizations a page already loaded (see
    /// [`service::history::records_of`]): a page's nested `author { organization }` then
    /// resolves from memory instead of waiting one batch delay per nesting level.
    pub(crate) async fn feed_names(
        &self,
        staff: HashMap<Uuid, staff_member::Model>,
        organizations: HashMap<Uuid, organization::Model>,
    ) {
        self.organizations.feed_many(organizations).await;
        self.staff_members.feed_many(staff).await;
    }

    /// The remembering loaders (see [`Names`]).
    pub(crate) fn names(&self) -> Names {
        Names {
            organizations: self.organizations.clone(),
            staff_members: self.staff_members.clone(),
        }
    }

    pub(crate) fn new(state: &crate::realtime::Live, credential: &Credential) -> Self {
        let ctx = Arc::new(RequestCtx {
            db: state.db.clone(),
            audits: state.read_audits.clone(),
            scopes: state.scopes.clone(),
            client_rows: state.client_rows.clone(),
            viewer: credential.viewer().cloned(),
            scope: Default::default(),
            loading: Default::default(),
        });
        Self {
            organizations: Arc::new(remembering_loader(&ctx, |c, k| {
                Box::pin(service::organizations::by_ids(&c.db, k))
            })),
            staff_members: Arc::new(remembering_loader(&ctx, |c, k| {
                Box::pin(service::staff::by_ids(&c.db, k))
            })),
            clients: loader(&ctx, |c, k| Box::pin(c.client_rows.load(&c.db, k))),
            recent_observations: loader(&ctx, |c, k| Box::pin(recent(c, k))),
            client_counts: loader(&ctx, |c, k| {
                Box::pin(async move {
                    let scope = c.scope().await?;
                    service::observations::counts_for_clients(&c.db, c.viewer()?, &scope, k).await
                })
            }),
            reviews: loader(&ctx, |c, k| {
                Box::pin(async move { service::observations::reviews(&c.db, c.viewer()?, k).await })
            }),
            care_teams: loader(&ctx, |c, k| {
                Box::pin(service::care_team::of_clients(&c.db, k))
            }),
            consents: loader(&ctx, |c, k| {
                Box::pin(service::consents::of_clients(&c.db, k))
            }),
            care_team_objections: loader(&ctx, |c, k| {
                Box::pin(service::care_team::objections_of_clients(&c.db, k))
            }),
            certificates: loader(&ctx, |c, k| {
                Box::pin(service::certificates::certificates(&c.db, k))
            }),
            external_ids: loader(&ctx, |c, k| {
                Box::pin(async move {
                    service::clients::external_ids(&c.db, c.viewer()?.organization_id, k).await
                })
            }),
            observation_versions: loader(&ctx, |c, k| {
                Box::pin(service::observations::versions(&c.db, k))
            }),
            plans_by_client: loader(&ctx, |c, k| {
                Box::pin(async move {
                    let found = service::plans::of_clients(&c.db, &*c.scope().await?, k).await?;
                    audit(c, entity::read_audit::ReadOperation::Plans, &found, |p| {
                        p.id
                    })
                    .await?;
                    Ok(found)
                })
            }),
            meetings_by_client: loader(&ctx, |c, k| {
                Box::pin(async move {
                    let found = service::meetings::of_clients(&c.db, &*c.scope().await?, k).await?;
                    audit(
                        c,
                        entity::read_audit::ReadOperation::Meetings,
                        &found,
                        |m| m.id,
                    )
                    .await?;
                    Ok(found)
                })
            }),
            reports_by_client: loader(&ctx, |c, k| {
                Box::pin(async move {
                    let found =
                        service::monitoring::of_clients(&c.db, &*c.scope().await?, k).await?;
                    audit(
                        c,
                        entity::read_audit::ReadOperation::Monitoring,
                        &found,
                        |r| r.id,
                    )
                    .await?;
                    Ok(found)
                })
            }),
            plan_versions: loader(&ctx, |c, k| Box::pin(service::plans::versions(&c.db, k))),
            plan_clients: loader(&ctx, |c, k| Box::pin(service::plans::clients_of(&c.db, k))),
            meeting_briefs: loader(&ctx, |c, k| Box::pin(service::meetings::briefs(&c.db, k))),
            profile_reads: loader(&ctx, |c, k| {
                Box::pin(async move {
                    let reads = k
                        .iter()
                        .map(|client| (Some(*client), vec![*client]))
                        .collect();
                    c.audits
                        .record(
                            c.viewer()?,
                            entity::read_audit::ReadOperation::Profile,
                            reads,
                        )
                        .await?;
                    Ok(k.iter().map(|client| (*client, ())).collect())
                })
            }),
            glossaries: loader(&ctx, |c, k| {
                Box::pin(service::glossaries::glossaries_for(&c.db, k))
            }),
            own_lexicons: loader(&ctx, |c, k| {
                Box::pin(service::fact_checks::lexicons(&c.db, k))
            }),
            ctx,
        }
    }
}

/// One audit statement for the records a batch read, per client.
async fn audit<M>(
    c: &RequestCtx,
    operation: entity::read_audit::ReadOperation,
    found: &HashMap<Uuid, Vec<M>>,
    id: impl Fn(&M) -> Uuid,
) -> ApiResult<()> {
    let reads = found
        .iter()
        .map(|(client, list)| (Some(*client), list.iter().map(&id).collect()))
        .collect();
    c.audits.record(c.viewer()?, operation, reads).await
}

/// Recent observations for (client, limit) keys: one statement per distinct limit.
async fn recent(
    c: &RequestCtx,
    keys: &[(Uuid, u64)],
) -> ApiResult<HashMap<(Uuid, u64), Vec<observation::Model>>> {
    let scope = c.scope().await?;
    let mut by_limit: HashMap<u64, Vec<Uuid>> = HashMap::new();
    for (client, limit) in keys {
        by_limit.entry(*limit).or_default().push(*client);
    }
    let mut out = HashMap::new();
    for (limit, clients) in by_limit {
        let mut found =
            service::observations::recent_for_clients(&c.db, &scope, &clients, limit).await?;
        for client in clients {
            out.insert((client, limit), found.remove(&client).unwrap_or_default());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch failure reaches every field that waited on it with its own code: two callers
    /// sharing one outage both read `SERVICE_UNAVAILABLE`, and a bug stays an internal error.
    #[test]
    fn every_caller_of_a_failed_batch_gets_its_code() {
        for (err, code) in [
            (ApiError::Unavailable, "SERVICE_UNAVAILABLE"),
            (ApiError::NotFound("Client"), "NOT_FOUND"),
            (
                ApiError::internal(anyhow::anyhow!("bug")),
                "INTERNAL_SERVER_ERROR",
            ),
        ] {
            let shared = LoadError(Arc::new(err));
            let (a, b) = (shared.clone(), shared);
            for e in [async_graphql::Error::from(a), async_graphql::Error::from(b)] {
                let ext = e.extensions.expect("extensions");
                assert_eq!(
                    ext.get("code"),
                    Some(&async_graphql::Value::from(code)),
                    "{}",
                    e.message
                );
            }
        }
    }
}
