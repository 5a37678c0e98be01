//! What the viewer's organization may see of which clients: the bridge between the pure policy
//! and SQL.
//!
//! A [`Scope`] holds, for every client the organization has ever been on the care team of, its
//! [`ClientRelation`] today (membership, consented categories, who registered the client). It is
//! loaded in three queries and then answers both "may I see this record?" (through the policy)
//! and "which rows may I see?" (as a SQL condition that mirrors the policy exactly).

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::Arc,
};

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use entity::{
    care_team_membership::{self, CareRelationship},
    care_team_objection, client,
    observation::{self, ObservationCategory, Visibility},
    sharing_consent, timeline_entry,
};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::{
    auth::{
        Viewer,
        policy::{
            self, AnyRecordFacts, ClientRelation, ConsentFacts, DataCategory, MemberFacts,
            Membership, RecordFacts, SharedFrom,
        },
    },
    error::{ApiError, ApiResult},
    service::invalidation,
};

/// Japan Standard Time, UTC+9 (no daylight saving).
const JST: FixedOffset = match FixedOffset::east_opt(9 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+9 is a valid offset"),
};

/// Today in Japan: membership periods, consent dates and due dates are Japanese calendar dates.
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&JST).date_naive()
}

/// The Japanese calendar day of a moment (the day a record's event happened).
pub fn jst_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&JST).date_naive()
}

/// The first moment of a Japanese calendar day, in UTC (for SQL conditions on times).
pub fn jst_day_start(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(JST).single())
        .map_or_else(
            || day.and_time(chrono::NaiveTime::MIN).and_utc(),
            |t| t.with_timezone(&Utc),
        )
}

/// Parses a stored JSON array of category names.
pub fn parse_categories(json: &serde_json::Value) -> Vec<DataCategory> {
    json.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().and_then(category_from_str))
                .collect()
        })
        .unwrap_or_default()
}

pub fn category_from_str(s: &str) -> Option<DataCategory> {
    Some(match s {
        "PROFILE" => DataCategory::Profile,
        "OBSERVATIONS" => DataCategory::Observations,
        "PLANS" => DataCategory::Plans,
        "MEETINGS" => DataCategory::Meetings,
        "RESTRAINTS" => DataCategory::Restraints,
        "ACCIDENTS" => DataCategory::Accidents,
        "COMPLAINTS" => DataCategory::Complaints,
        _ => return None,
    })
}

pub fn category_str(c: DataCategory) -> &'static str {
    match c {
        DataCategory::Profile => "PROFILE",
        DataCategory::Observations => "OBSERVATIONS",
        DataCategory::Plans => "PLANS",
        DataCategory::Meetings => "MEETINGS",
        DataCategory::Restraints => "RESTRAINTS",
        DataCategory::Accidents => "ACCIDENTS",
        DataCategory::Complaints => "COMPLAINTS",
    }
}

/// The viewer organization's relation to each client it has ever been a care-team member of.
#[derive(Debug, Clone)]
pub struct Scope {
    pub viewer_org: Uuid,
    relations: HashMap<Uuid, ClientRelation>,
}

impl Scope {
    /// The same scope over `clients` only. A query about a few clients filters with this one:
    /// the SQL condition then lists those clients instead of every client of the organization
    /// (a consultation office may have hundreds), which is the same filter for their rows and a
    /// statement a fraction of the size to build, send and plan.
    pub fn narrowed(&self, clients: &[Uuid]) -> Scope {
        Scope {
            viewer_org: self.viewer_org,
            relations: clients
                .iter()
                .filter_map(|c| self.relations.get(c).map(|r| (*c, r.clone())))
                .collect(),
        }
    }

    /// Every client of the viewer's organization.
    pub async fn for_viewer(db: &impl ConnectionTrait, viewer: &Viewer) -> ApiResult<Self> {
        Self::load(db, viewer.organization_id, None).await
    }

    /// The same for an organization (a scope depends on the organization only; subscribers of
    /// one office share it).
    pub async fn for_organization(
        db: &impl ConnectionTrait,
        organization_id: Uuid,
    ) -> ApiResult<Self> {
        Self::load(db, organization_id, None).await
    }

    /// An organization's relation to one client (to judge what another care-team member may
    /// see of a record).
    pub async fn for_organization_client(
        db: &impl ConnectionTrait,
        organization_id: Uuid,
        client_id: Uuid,
    ) -> ApiResult<Self> {
        Self::load(db, organization_id, Some(client_id)).await
    }

    /// One client only (cheaper for single-client operations).
    pub async fn for_client(
        db: &impl ConnectionTrait,
        viewer: &Viewer,
        client_id: Uuid,
    ) -> ApiResult<Self> {
        Self::load(db, viewer.organization_id, Some(client_id)).await
    }

    async fn load(
        db: &impl ConnectionTrait,
        organization_id: Uuid,
        only: Option<Uuid>,
    ) -> ApiResult<Self> {
        let today = today();
        let mut q = care_team_membership::Entity::find()
            .filter(care_team_membership::Column::OrganizationId.eq(organization_id));
        if let Some(c) = only {
            q = q.filter(care_team_membership::Column::ClientId.eq(c));
        }
        let mut membership: HashMap<Uuid, Membership> = HashMap::new();
        let mut current: HashMap<Uuid, care_team_membership::Model> = HashMap::new();
        for m in q.all(db).await? {
            let entry = membership.entry(m.client_id).or_insert(Membership::Past);
            if m.is_current_on(today) {
                *entry = Membership::Current(m.relationship);
                // Of overlapping current memberships (the API does not make them, imports of old
                // data might), the one that began first decides what is shared from when.
                let earlier = |held: &care_team_membership::Model| {
                    (m.start_date, m.created_at, m.id) < (held.start_date, held.created_at, held.id)
                };
                if current.get(&m.client_id).is_none_or(earlier) {
                    current.insert(m.client_id, m);
                }
            }
        }
        let ids: Vec<Uuid> = membership.keys().copied().collect();
        let mut relations = HashMap::with_capacity(ids.len());
        if ids.is_empty() {
            return Ok(Self {
                viewer_org: organization_id,
                relations,
            });
        }
        let registered: Vec<(Uuid, Uuid)> = client::Entity::find()
            .select_only()
            .column(client::Column::Id)
            .column(client::Column::RegisteredByOrganizationId)
            .filter(client::Column::Id.is_in(ids.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        let consents = sharing_consent::Entity::find()
            .filter(sharing_consent::Column::ClientId.is_in(ids.iter().copied()))
            .filter(sharing_consent::Column::RevokedAt.is_null())
            .all(db)
            .await?;
        // Open objections to this organization's current memberships.
        let objected: HashSet<Uuid> = if current.is_empty() {
            HashSet::new()
        } else {
            care_team_objection::Entity::find()
                .select_only()
                .column(care_team_objection::Column::MembershipId)
                .filter(care_team_objection::Column::MemberOrganizationId.eq(organization_id))
                .filter(care_team_objection::Column::ClientId.is_in(current.keys().copied()))
                .filter(care_team_objection::Column::WithdrawnAt.is_null())
                .into_tuple::<Uuid>()
                .all(db)
                .await?
                .into_iter()
                .collect()
        };
        let mut consented: HashMap<Uuid, BTreeMap<DataCategory, SharedFrom>> = HashMap::new();
        for c in &consents {
            let member = current
                .get(&c.client_id)
                .map(|m| member_facts(m, &objected));
            let covered =
                policy::consent_covers(&consent_facts(c), organization_id, member.as_ref(), today);
            policy::add_shares(consented.entry(c.client_id).or_default(), covered);
        }
        for (client_id, registered_by) in registered {
            let m = membership
                .get(&client_id)
                .copied()
                .unwrap_or(Membership::None);
            relations.insert(
                client_id,
                ClientRelation {
                    membership: m,
                    consented: consented.remove(&client_id).unwrap_or_default(),
                    registered_by,
                },
            );
        }
        Ok(Self {
            viewer_org: organization_id,
            relations,
        })
    }

    /// The relation to a client, or `None` when the client does not exist for the viewer.
    pub fn relation(&self, client_id: Uuid) -> Option<&ClientRelation> {
        self.relations
            .get(&client_id)
            .filter(|r| policy::can_see_client(r))
    }

    /// The relation, or `NOT_FOUND` (a client the viewer may not see does not exist for them).
    pub fn require(&self, client_id: Uuid) -> ApiResult<&ClientRelation> {
        self.relation(client_id).ok_or(ApiError::NotFound("Client"))
    }

    /// Clients the organization serves today in `relationship` (any when `None`).
    pub fn current_clients(&self, relationship: Option<CareRelationship>) -> Vec<Uuid> {
        self.relations
            .iter()
            .filter(|(_, r)| match r.membership {
                Membership::Current(rel) => relationship.is_none_or(|want| want == rel),
                _ => false,
            })
            .map(|(id, _)| *id)
            .collect()
    }

    /// The policy's answer for one observation.
    pub fn can_see_observation(&self, o: &observation::Model) -> bool {
        self.relation(o.client_id).is_some_and(|r| {
            policy::can_see_observation(
                self.viewer_org,
                r,
                RecordFacts {
                    organization_id: o.organization_id,
                    visibility: o.visibility,
                    category: o.category,
                    on: jst_day(o.occurred_from),
                },
            )
        })
    }

    /// The policy's answer for any client record.
    pub fn can_see_record(&self, client_id: Uuid, facts: AnyRecordFacts) -> bool {
        self.relation(client_id)
            .is_some_and(|r| policy::can_see_record(self.viewer_org, r, facts))
    }

    /// The policy's answer for a history entry.
    pub fn can_see_entry(&self, e: &timeline_entry::Model) -> bool {
        self.can_see_record(e.client_id, entry_facts(e))
    }

    /// [`Scope::can_see_entry`] as a SQL condition on `timeline_entries`.
    pub fn timeline_condition(&self) -> Condition {
        self.timeline_rule(None)
    }

    /// The same condition for a statement that already keeps only `client_id`'s entries: each
    /// list of clients in the rule is then true or false, and left out. What remains names no
    /// client, so the database walks the client's history in its index order and stops at the
    /// page's end; PostgreSQL's generic plan of the whole condition sorted every entry.
    pub fn timeline_condition_of(&self, client_id: Uuid) -> Condition {
        self.timeline_rule(Some(client_id))
    }

    fn timeline_rule(&self, only: Option<Uuid>) -> Condition {
        use timeline_entry::Column as T;
        // A clause for the entries of `clients`: `None` when it can hold for none of them.
        let of = |clients: &[Uuid], clause: Condition| match only {
            None => Some(clause.add(T::ClientId.is_in(clients.iter().copied()))),
            Some(c) => clients.contains(&c).then_some(clause),
        };
        let any = |clauses: Vec<Option<Condition>>| {
            let held: Vec<Condition> = clauses.into_iter().flatten().collect();
            if held.is_empty() {
                // Said outright: an empty `any` may be left out of its parent, allowing all.
                return None;
            }
            Some(held.into_iter().fold(Condition::any(), Condition::add))
        };
        let mut own = Vec::new();
        let mut current = Vec::new();
        let mut consultation = Vec::new();
        // Clients whose records of a category a consent shares, from the same day.
        let mut consented: BTreeMap<(DataCategory, SharedFrom), Vec<Uuid>> = BTreeMap::new();
        for (id, r) in &self.relations {
            if r.membership == Membership::None {
                continue;
            }
            own.push(*id);
            if let Membership::Current(rel) = r.membership {
                current.push(*id);
                if rel == CareRelationship::Consultation {
                    consultation.push(*id);
                }
                for (c, from) in &r.consented {
                    consented.entry((*c, *from)).or_default().push(*id);
                }
            }
        }
        // Reach: CARE_TEAM for every current member; CONSULTATION for the consultation office.
        let reach = |clients: &[Uuid]| {
            let in_consultation: Vec<Uuid> = clients
                .iter()
                .copied()
                .filter(|c| consultation.contains(c))
                .collect();
            any(vec![
                of(
                    clients,
                    Condition::all().add(T::Visibility.eq(Visibility::CareTeam)),
                ),
                of(
                    &in_consultation,
                    Condition::all().add(T::Visibility.eq(Visibility::Consultation)),
                ),
            ])
        };
        let mut clauses = vec![
            of(
                &own,
                Condition::all().add(T::OrganizationId.eq(self.viewer_org)),
            ),
            reach(&current).map(|r| Condition::all().add(T::DataCategory.is_null()).add(r)),
            of(
                &consultation,
                Condition::all()
                    .add(T::Category.eq("SAFEGUARDING"))
                    .add(T::Visibility.ne(Visibility::Internal)),
            ),
        ];
        for ((category, from), clients) in &consented {
            clauses.push(reach(clients).map(|r| {
                let mut shared = Condition::all()
                    .add(T::DataCategory.eq(category_str(*category)))
                    .add(r);
                if let Some(from) = from {
                    shared = shared.add(T::OccurredAt.gte(jst_day_start(*from)));
                }
                shared
            }));
        }
        any(clauses)
            .unwrap_or_else(|| Condition::all().add(sea_orm::sea_query::Expr::cust("1 = 0")))
    }

    /// The same rule as [`Scope::can_see_observation`], as a SQL condition on `observations`.
    pub fn observation_condition(&self) -> Condition {
        use observation::Column as O;
        let mut own = Vec::new();
        // Clients whose observations a consent shares (from the same day), for every member and
        // for the consultation office (which CONSULTATION-visibility records also reach).
        let mut care_team: BTreeMap<SharedFrom, Vec<Uuid>> = BTreeMap::new();
        let mut consultation_consented: BTreeMap<SharedFrom, Vec<Uuid>> = BTreeMap::new();
        let mut consultation_all = Vec::new();
        for (id, r) in &self.relations {
            if r.membership == Membership::None {
                continue;
            }
            own.push(*id);
            if let Membership::Current(rel) = r.membership {
                let shared = r.consented.get(&DataCategory::Observations).copied();
                if let Some(from) = shared {
                    care_team.entry(from).or_default().push(*id);
                }
                if rel == CareRelationship::Consultation {
                    consultation_all.push(*id);
                    if let Some(from) = shared {
                        consultation_consented.entry(from).or_default().push(*id);
                    }
                }
            }
        }
        let shared = |groups: &BTreeMap<SharedFrom, Vec<Uuid>>, visibility: Visibility| {
            let mut any = Condition::any();
            for (from, clients) in groups {
                let mut c = Condition::all()
                    .add(O::ClientId.is_in(clients.iter().copied()))
                    .add(O::Visibility.eq(visibility));
                if let Some(from) = from {
                    c = c.add(O::OccurredFrom.gte(jst_day_start(*from)));
                }
                any = any.add(c);
            }
            any
        };
        Condition::any()
            .add(
                Condition::all()
                    .add(O::OrganizationId.eq(self.viewer_org))
                    .add(O::ClientId.is_in(own)),
            )
            .add(shared(&care_team, Visibility::CareTeam))
            .add(shared(&consultation_consented, Visibility::Consultation))
            .add(
                Condition::all()
                    .add(O::ClientId.is_in(consultation_all))
                    .add(O::Category.eq(ObservationCategory::Safeguarding))
                    .add(O::Visibility.ne(Visibility::Internal)),
            )
    }
}

/// The policy's view of a history entry.
pub fn entry_facts(e: &timeline_entry::Model) -> AnyRecordFacts {
    AnyRecordFacts {
        organization_id: e.organization_id,
        visibility: e.visibility,
        data: e.data_category.as_deref().and_then(category_from_str),
        safeguarding: e.category.as_deref() == Some("SAFEGUARDING"),
        on: jst_day(e.occurred_at),
    }
}

/// The policy's view of a stored consent.
pub fn consent_facts(c: &sharing_consent::Model) -> ConsentFacts {
    ConsentFacts {
        granted_on: c.granted_on,
        expires_on: c.expires_on,
        revoked: c.revoked_at.is_some(),
        recipients: c
            .recipient_organization_ids
            .as_ref()
            .map(super::json_uuids)
            .unwrap_or_default(),
        covers_future_members: c.covers_future_members,
        includes_earlier_records: c.includes_earlier_records,
        recorded_at: c.created_at,
        categories: parse_categories(&c.data_categories),
    }
}

/// The policy's view of an organization's current membership.
pub fn member_facts(m: &care_team_membership::Model, objected: &HashSet<Uuid>) -> MemberFacts {
    MemberFacts {
        start_date: m.start_date,
        added_at: m.created_at,
        objected: objected.contains(&m.id),
    }
}

/// Each organization's [`Scope`], shared by its requests and its subscribers.
///
/// Loading a scope decodes every membership and consent of the organization (hundreds of rows for
/// a consultation office), which cost more than the rest of a small query. Access changes only
/// through a client's registration or update, a care-team change or a consent change, each of
/// which appends an outbox event and so moves [`invalidation::ACCESS`]: a cached scope is used
/// while that generation stands, without a statement to check it (see [`invalidation`] for when
/// another instance's change is seen). Memberships and consents also start and end by date: the
/// day is part of the key.
#[derive(Default)]
pub struct ScopeCache {
    entries: std::sync::Mutex<HashMap<Uuid, CachedScope>>,
}

#[derive(Clone)]
struct CachedScope {
    generation: u64,
    day: NaiveDate,
    loaded: std::time::Instant,
    cell: Arc<tokio::sync::OnceCell<Arc<Scope>>>,
}

/// How many organizations' scopes are kept (each a few hundred bytes per client).
const SCOPE_CACHE_ORGANIZATIONS: usize = 1_000;

impl ScopeCache {
    /// The organization's scope as of now: cached while no access-changing event was committed
    /// since it was loaded, loaded once for all concurrent requests otherwise.
    pub async fn get(
        &self,
        db: &impl ConnectionTrait,
        organization_id: Uuid,
    ) -> ApiResult<Arc<Scope>> {
        // Read the generation first: a change committed while the scope loads moves it, so an
        // older scope is never kept under a newer generation.
        let generation = invalidation::ACCESS.current();
        let day = today();
        let cached = {
            let mut entries = self.entries();
            match entries.get(&organization_id) {
                Some(e)
                    if e.generation == generation
                        && e.day == day
                        && e.loaded.elapsed() < invalidation::MAX_AGE =>
                {
                    e.clone()
                }
                _ => {
                    if entries.len() >= SCOPE_CACHE_ORGANIZATIONS {
                        entries.clear();
                    }
                    let fresh = CachedScope {
                        generation,
                        day,
                        loaded: std::time::Instant::now(),
                        cell: Default::default(),
                    };
                    entries.insert(organization_id, fresh.clone());
                    fresh
                }
            }
        };
        cached
            .cell
            // Boxed: a cached scope is the common answer, and every future that awaits this one
            // (a subscriber's feed keeps one for as long as it runs) would otherwise carry the
            // loading statements' state inline.
            .get_or_try_init(|| async {
                Ok::<_, ApiError>(Arc::new(
                    Box::pin(Scope::for_organization(db, organization_id)).await?,
                ))
            })
            .await
            .cloned()
    }

    /// Drops one organization's scope: a subscriber replaying an access change the hub has not
    /// read yet reloads it before judging what follows.
    pub fn forget(&self, organization_id: Uuid) {
        self.entries().remove(&organization_id);
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, CachedScope>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
