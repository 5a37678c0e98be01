//! Reading observations: pages, per-client newest and counts, reviews and versions.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entity::{
    client_review,
    observation::{self, ObservationCategory, RecordStatus},
    observation_version,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Set, StatementBuilder,
    sea_query::{Alias, Asterisk, Expr, OnConflict, Query, SelectStatement, UnionType},
};
use uuid::Uuid;

use crate::service::{
    access::Scope,
    page::{Order, Page, PageArgs, paginate_ordered},
};
use crate::{auth::Viewer, error::ApiResult, service::Ctx};

/// Filters for observation lists.
#[derive(Debug, Clone, Default)]
pub struct ObservationFilter {
    pub categories: Vec<ObservationCategory>,
    pub include_entered_in_error: bool,
    /// Only observations recorded at or after this time.
    pub recorded_since: Option<DateTime<Utc>>,
    /// Only these clients (intersected with the scope).
    pub clients: Option<Vec<Uuid>>,
    /// Only records of other organizations.
    pub shared_only: bool,
}

/// A filter on at most this many clients narrows the scope's condition to them (larger lists
/// are about as long as the scope itself).
const NARROW_UP_TO: usize = 100;

/// Observations visible to the scope, newest first, as a page; the read is audited per client.
pub async fn list(
    state: &Ctx,
    viewer: &Viewer,
    scope: &Scope,
    filter: &ObservationFilter,
    page: &PageArgs,
) -> ApiResult<Page<observation::Model>> {
    let condition = match &filter.clients {
        Some(clients) if clients.len() <= NARROW_UP_TO => {
            scope.narrowed(clients).observation_condition()
        }
        _ => scope.observation_condition(),
    };
    let mut q = observation::Entity::find().filter(condition);
    let walk_newest = state.db.get_database_backend() == sea_orm::DbBackend::Sqlite
        && filter.categories.is_empty()
        && filter
            .clients
            .as_ref()
            .is_some_and(|c| c.len() > NARROW_UP_TO);
    q = q.filter(filter_condition(scope, filter, walk_newest));
    let result = paginate_ordered(
        &state.db,
        q,
        observation::Column::Id,
        page,
        Order::NewestFirst,
    )
    .await?;
    audit_reads(state, viewer, &result.items).await?;
    Ok(result)
}

/// `walk_newest` (SQLite only) keeps SQLite from answering the client list from an index: for
/// an unfiltered list over many clients, walking the newest ids first stops after a page, while
/// the `(client_id, …)` indexes read every row of every client and sort them. SQLite 3.51 picks
/// the latter even with statistics (`sharedObservations(first: 20)` over 500 clients and 200,000
/// observations: 1.4 ms against 120–170 ms); a category filter is selective, and the index wins
/// there. The unary `+` changes no value, only the plan.
fn filter_condition(scope: &Scope, f: &ObservationFilter, walk_newest: bool) -> Condition {
    use observation::Column as O;
    let mut c = Condition::all();
    if !f.categories.is_empty() {
        c = c.add(O::Category.is_in(f.categories.iter().copied()));
    }
    if !f.include_entered_in_error {
        c = c.add(O::Status.eq(RecordStatus::Current));
    }
    if let Some(since) = f.recorded_since {
        c = c.add(O::RecordedAt.gte(since));
    }
    if let Some(clients) = &f.clients {
        c = c.add(if walk_newest {
            use sea_orm::sea_query::ExprTrait;
            Expr::cust("+\"client_id\"").is_in(clients.iter().copied())
        } else {
            O::ClientId.is_in(clients.iter().copied())
        });
    }
    if f.shared_only {
        c = c.add(O::OrganizationId.ne(scope.viewer_org));
    }
    c
}

/// One audit entry per client whose records were read, all in one statement.
pub async fn audit_reads(
    state: &Ctx,
    viewer: &Viewer,
    items: &[observation::Model],
) -> ApiResult<()> {
    let mut by_client: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for o in items {
        by_client.entry(o.client_id).or_default().push(o.id);
    }
    state
        .read_audits
        .record(
            viewer,
            entity::read_audit::ReadOperation::Observations,
            by_client
                .into_iter()
                .map(|(c, ids)| (Some(c), ids))
                .collect(),
        )
        .await
}

/// The newest `limit` visible, current observations of each client, in one statement, for
/// `Client.recentObservations` on a page of clients.
///
/// Each client is its own `ORDER BY id DESC LIMIT n` branch of a `UNION ALL`: both databases
/// answer a branch by walking the `(client_id, id)` index backwards and stop after `n` visible
/// rows. (A window function over the same rows ranks every observation of every client first:
/// 10,000 rows for a page of 50 clients with 200 each.)
pub async fn recent_for_clients(
    db: &impl ConnectionTrait,
    scope: &Scope,
    clients: &[Uuid],
    limit: u64,
) -> ApiResult<HashMap<Uuid, Vec<observation::Model>>> {
    let mut out: HashMap<Uuid, Vec<observation::Model>> = HashMap::new();
    if clients.is_empty() || limit == 0 {
        return Ok(out);
    }
    let backend = db.get_database_backend();
    let newest = |client_id: Uuid| {
        Query::select()
            .column(Asterisk)
            .from(observation::Entity)
            .cond_where(
                Condition::all()
                    .add(observation::Column::ClientId.eq(client_id))
                    .add(observation::Column::Status.eq(RecordStatus::Current))
                    .add(scope.narrowed(&[client_id]).observation_condition()),
            )
            .order_by(observation::Column::Id, sea_orm::sea_query::Order::Desc)
            .limit(limit)
            .to_owned()
    };
    for chunk in clients.chunks(MAX_UNION_BRANCHES) {
        let Some(union) = union_all(chunk.iter().map(|c| newest(*c))) else {
            continue;
        };
        let rows = observation::Model::find_by_statement(StatementBuilder::build(&union, &backend))
            .all(db)
            .await?;
        for o in rows {
            out.entry(o.client_id).or_default().push(o);
        }
    }
    for list in out.values_mut() {
        list.sort_unstable_by_key(|o| std::cmp::Reverse(o.id));
    }
    Ok(out)
}

/// Members per `UNION ALL` statement (SQLite allows at most 500 by default).
const MAX_UNION_BRANCHES: usize = 100;

/// `SELECT * FROM (b1) UNION ALL SELECT * FROM (b2) ...`: each branch keeps its own `ORDER BY` and
/// `LIMIT` (SQLite allows them in a compound's member only inside a subquery). `None` when there
/// is no branch.
fn union_all(branches: impl IntoIterator<Item = SelectStatement>) -> Option<SelectStatement> {
    let mut union: Option<SelectStatement> = None;
    for (i, branch) in branches.into_iter().enumerate() {
        let wrapped = Query::select()
            .column(Asterisk)
            .from_subquery(branch, Alias::new(format!("b{i}")))
            .to_owned();
        match union.as_mut() {
            None => union = Some(wrapped),
            Some(u) => {
                u.union(UnionType::All, wrapped);
            }
        }
    }
    union
}

/// Per client: visible, current observations of other organizations recorded since the viewer
/// last reviewed the client, and risk signs of the last 30 days. Two statements for any number
/// of clients.
pub async fn counts_for_clients(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    scope: &Scope,
    clients: &[Uuid],
) -> ApiResult<HashMap<Uuid, (u64, u64)>> {
    let reviews: HashMap<Uuid, DateTime<Utc>> = client_review::Entity::find()
        .filter(client_review::Column::StaffMemberId.eq(viewer.staff_member_id))
        .filter(client_review::Column::ClientId.is_in(clients.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.client_id, r.last_reviewed_at))
        .collect();
    // New since review: one OR-branch per distinct review time (clients never reviewed count all).
    let mut since = Condition::any();
    let never: Vec<Uuid> = clients
        .iter()
        .copied()
        .filter(|c| !reviews.contains_key(c))
        .collect();
    since = since.add(observation::Column::ClientId.is_in(never));
    for (client, at) in &reviews {
        since = since.add(
            Condition::all()
                .add(observation::Column::ClientId.eq(*client))
                .add(observation::Column::RecordedAt.gt(*at)),
        );
    }
    let narrowed = scope.narrowed(clients);
    let base = || {
        observation::Entity::find()
            .select_only()
            .column(observation::Column::ClientId)
            .column_as(observation::Column::Id.count(), "n")
            .filter(narrowed.observation_condition())
            .filter(observation::Column::ClientId.is_in(clients.iter().copied()))
            .filter(observation::Column::Status.eq(RecordStatus::Current))
            .group_by(observation::Column::ClientId)
    };
    let new_rows: Vec<(Uuid, i64)> = base()
        .filter(observation::Column::OrganizationId.ne(viewer.organization_id))
        .filter(since)
        .into_tuple()
        .all(db)
        .await?;
    let risk_rows: Vec<(Uuid, i64)> = base()
        .filter(observation::Column::Category.eq(ObservationCategory::RiskSign))
        .filter(observation::Column::OccurredFrom.gte(Utc::now() - Duration::days(30)))
        .into_tuple()
        .all(db)
        .await?;
    let mut out: HashMap<Uuid, (u64, u64)> = clients.iter().map(|c| (*c, (0, 0))).collect();
    for (c, n) in new_rows {
        out.entry(c).or_default().0 = u64::try_from(n).unwrap_or(0);
    }
    for (c, n) in risk_rows {
        out.entry(c).or_default().1 = u64::try_from(n).unwrap_or(0);
    }
    Ok(out)
}

/// Marks a client's shared records as reviewed by the viewer now ("new since last look" resets).
pub async fn mark_reviewed(
    state: &Ctx,
    viewer: &Viewer,
    client_id: Uuid,
) -> ApiResult<DateTime<Utc>> {
    let scope = Scope::for_client(&state.db, viewer, client_id).await?;
    scope.require(client_id)?;
    let now = crate::service::now();
    client_review::Entity::insert(client_review::ActiveModel {
        staff_member_id: Set(viewer.staff_member_id),
        client_id: Set(client_id),
        last_reviewed_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            client_review::Column::StaffMemberId,
            client_review::Column::ClientId,
        ])
        .update_column(client_review::Column::LastReviewedAt)
        .to_owned(),
    )
    .exec_without_returning(&state.db)
    .await?;
    Ok(now)
}

/// When the viewer last reviewed each client.
pub async fn reviews(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    clients: &[Uuid],
) -> ApiResult<HashMap<Uuid, DateTime<Utc>>> {
    Ok(client_review::Entity::find()
        .filter(client_review::Column::StaffMemberId.eq(viewer.staff_member_id))
        .filter(client_review::Column::ClientId.is_in(clients.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.client_id, r.last_reviewed_at))
        .collect())
}

/// Every version of observations (oldest first), one query; callers check visibility.
pub async fn versions(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<observation_version::Model>>> {
    Ok(crate::service::capped(crate::service::group_by(
        observation_version::Entity::find()
            .filter(observation_version::Column::ObservationId.is_in(ids.iter().copied()))
            .order_by_asc(observation_version::Column::Version)
            .all(db)
            .await?,
        |r| r.observation_id,
    )))
}

/// Clients among `clients` with a visible, current observation of `category` that happened
/// since `since` (one statement).
pub async fn clients_with(
    db: &impl ConnectionTrait,
    scope: &Scope,
    clients: &[Uuid],
    category: ObservationCategory,
    since: DateTime<Utc>,
) -> ApiResult<Vec<Uuid>> {
    Ok(observation::Entity::find()
        .select_only()
        .column(observation::Column::ClientId)
        .distinct()
        .filter(scope.narrowed(clients).observation_condition())
        .filter(observation::Column::ClientId.is_in(clients.iter().copied()))
        .filter(observation::Column::Category.eq(category))
        .filter(observation::Column::Status.eq(RecordStatus::Current))
        .filter(observation::Column::OccurredFrom.gte(since))
        .into_tuple()
        .all(db)
        .await?)
}
