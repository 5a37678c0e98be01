//! The client history (経過): one time-ordered list over observations, plan versions, meetings,
//! briefs, monitoring reports, consent changes and statutory records, filtered exactly like the individual queries,
//! and the schedules of what falls due.

use async_graphql::{Context, Enum, Object, SimpleObject, Union};
use chrono::{DateTime, Utc};
use entity::timeline_entry;
use uuid::Uuid;

use super::{
    Organization,
    care_team::SharingConsent,
    client::Client,
    context::ContextExt,
    meeting::{Meeting, MeetingBrief, MonitoringReport},
    observation::Observation,
    plan::SupportPlanVersion,
    scalars::Date,
    statutory::{AccidentReport, ComplaintRecord, RestraintRecord},
};
use crate::{
    error::ApiError,
    service::{
        history,
        monitoring::{DueItem, DueKind},
        timeline::{self, EntryKind},
    },
};

/// Kind of history item.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum HistoryKind {
    /// An observation (支援記録).
    Observation,
    /// A version of a support plan (計画の版).
    PlanVersion,
    /// A meeting (会議).
    Meeting,
    /// A three-point brief (事前共有).
    Brief,
    /// A monitoring report (モニタリング).
    MonitoringReport,
    /// A sharing consent was given (同意).
    ConsentGranted,
    /// A sharing consent was revoked (同意撤回).
    ConsentRevoked,
    /// A physical restraint record (身体拘束等の記録).
    Restraint,
    /// An accident or near-miss report (事故・ヒヤリハット報告).
    Accident,
    /// A complaint record (苦情の記録).
    Complaint,
}

impl From<HistoryKind> for EntryKind {
    fn from(k: HistoryKind) -> Self {
        match k {
            HistoryKind::Observation => EntryKind::Observation,
            HistoryKind::PlanVersion => EntryKind::PlanVersion,
            HistoryKind::Meeting => EntryKind::Meeting,
            HistoryKind::Brief => EntryKind::Brief,
            HistoryKind::MonitoringReport => EntryKind::MonitoringReport,
            HistoryKind::ConsentGranted => EntryKind::ConsentGranted,
            HistoryKind::ConsentRevoked => EntryKind::ConsentRevoked,
            HistoryKind::Restraint => EntryKind::Restraint,
            HistoryKind::Accident => EntryKind::Accident,
            HistoryKind::Complaint => EntryKind::Complaint,
        }
    }
}

pub(super) fn history_kind(k: EntryKind) -> HistoryKind {
    match k {
        EntryKind::Observation => HistoryKind::Observation,
        EntryKind::PlanVersion => HistoryKind::PlanVersion,
        EntryKind::Meeting => HistoryKind::Meeting,
        EntryKind::Brief => HistoryKind::Brief,
        EntryKind::MonitoringReport => HistoryKind::MonitoringReport,
        EntryKind::ConsentGranted => HistoryKind::ConsentGranted,
        EntryKind::ConsentRevoked => HistoryKind::ConsentRevoked,
        EntryKind::Restraint => HistoryKind::Restraint,
        EntryKind::Accident => HistoryKind::Accident,
        EntryKind::Complaint => HistoryKind::Complaint,
    }
}

/// The record behind a history item.
#[derive(Union)]
pub(super) enum HistoryItem {
    Observation(Observation),
    SupportPlanVersion(SupportPlanVersion),
    Meeting(Meeting),
    MeetingBrief(MeetingBrief),
    MonitoringReport(MonitoringReport),
    SharingConsent(SharingConsent),
    RestraintRecord(RestraintRecord),
    AccidentReport(AccidentReport),
    ComplaintRecord(ComplaintRecord),
}

/// One item of a client's history.
#[derive(SimpleObject)]
pub(super) struct HistoryEntry {
    /// What kind of item.
    pub kind: HistoryKind,
    /// When it happened (for observations: when the event took place, not when it was written).
    pub occurred_at: DateTime<Utc>,
    /// The record itself.
    pub item: HistoryItem,
}

/// One history item with its cursor.
#[derive(SimpleObject)]
pub(super) struct HistoryEdge {
    /// Opaque cursor; pass it as `after`.
    pub cursor: String,
    /// The item.
    pub node: HistoryEntry,
}

/// A page of a client's history (Relay connection), newest first.
#[derive(SimpleObject)]
pub(super) struct HistoryConnection {
    /// The items of this page with cursors.
    pub edges: Vec<HistoryEdge>,
    /// Where this page sits in the whole history.
    pub page_info: super::pagination::PageInfo,
    /// How many items the whole history holds under the same filters.
    pub total_count: u64,
}

/// The GraphQL object of a loaded record.
fn item(record: history::HistoryRecord) -> HistoryItem {
    use history::HistoryRecord as R;
    match record {
        R::Observation(o) => HistoryItem::Observation(Observation(o)),
        R::PlanVersion(v) => HistoryItem::SupportPlanVersion(SupportPlanVersion(v)),
        R::Meeting(m) => HistoryItem::Meeting(Meeting(m)),
        R::Brief(b) => HistoryItem::MeetingBrief(MeetingBrief(b)),
        R::MonitoringReport(r) => HistoryItem::MonitoringReport(MonitoringReport(r)),
        R::Consent(c) => HistoryItem::SharingConsent(SharingConsent(c)),
        R::Restraint(r) => HistoryItem::RestraintRecord(RestraintRecord(r)),
        R::Accident(a) => HistoryItem::AccidentReport(AccidentReport(a)),
        R::Complaint(c) => HistoryItem::ComplaintRecord(ComplaintRecord(c)),
    }
}

/// `client.history`: see [`super::client::Client`].
pub(super) async fn client_history(
    ctx: &Context<'_>,
    client_id: Uuid,
    filter: timeline::HistoryFilter,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<HistoryConnection> {
    let state = ctx.state()?;
    // The history's condition lists this one client, not the organization's whole caseload.
    let scope = ctx.loaders()?.ctx.scope().await?.narrowed(&[client_id]);
    let page = timeline::history(
        &state.db,
        &state.history_counts,
        &scope,
        client_id,
        &filter,
        (first, after.as_deref()),
        super::pagination::wants_total_count(ctx),
    )
    .await?;
    let entries: Vec<timeline_entry::Model> = page.items.iter().map(|(_, e)| e.clone()).collect();
    // The observations' authors and organizations come with the observations when the page
    // shows them, and wait in the remembering loaders for the nested fields. The look-ahead
    // does not tell the union's members apart: a field of that name on any of them counts.
    let selected = ctx.look_ahead().field("edges").field("node").field("item");
    let shown = history::Shown {
        authors: selected.field("author").exists() || selected.field("organization").exists(),
        // `SupportPlanVersion.content` and `.record` are the only fields that read them.
        plan_text: selected.field("content").exists() || selected.field("record").exists(),
    };
    let records = history::records_of(&state.db, &entries, shown).await?;
    ctx.loaders()?
        .feed_names(records.authors, records.organizations)
        .await;
    let mut items = records.records;
    let read: Vec<Uuid> = entries.iter().map(|e| e.record_id).collect();
    state
        .read_audits
        .record(
            ctx.viewer()?,
            entity::read_audit::ReadOperation::History,
            vec![(Some(client_id), read)],
        )
        .await?;
    let mut edges = Vec::with_capacity(page.items.len());
    for (cursor, e) in page.items {
        let kind = e.kind;
        let Some(record) = items.remove(&(kind, e.record_id)) else {
            continue;
        };
        edges.push(HistoryEdge {
            cursor,
            node: HistoryEntry {
                kind: history_kind(kind),
                occurred_at: e.occurred_at,
                item: item(record),
            },
        });
    }
    let page_info = super::pagination::PageInfo {
        has_previous_page: page.has_previous_page,
        has_next_page: page.has_next_page,
        start_cursor: edges.first().map(|e| e.cursor.clone()),
        end_cursor: edges.last().map(|e| e.cursor.clone()),
    };
    Ok(HistoryConnection {
        edges,
        page_info,
        total_count: page.total_count,
    })
}

/// What falls due (期限の種類).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum DueItemKind {
    /// Monitoring (モニタリング) is due in the month of `dueOn`.
    Monitoring,
    /// An individual support plan must be reviewed (個別支援計画の見直し).
    PlanReview,
    /// A grant period ends (支給決定期間の終了); renewal work starts 2–3 months before.
    GrantExpiry,
    /// Renewal preparation of a grant (支給決定の更新準備): `dueOn` is 3 months before the grant
    /// ends; overdue once fewer than 2 months remain and no later certificate renews it.
    GrantRenewal,
}

/// Something that falls due for a client (期限).
pub(super) struct DueItemObject(pub DueItem);

/// Something that falls due for a client: monitoring, a plan review, a grant expiry.
#[Object(name = "DueItem")]
impl DueItemObject {
    /// What falls due.
    async fn kind(&self) -> DueItemKind {
        match self.0.kind {
            DueKind::Monitoring => DueItemKind::Monitoring,
            DueKind::PlanReview { .. } => DueItemKind::PlanReview,
            DueKind::GrantExpiry { .. } => DueItemKind::GrantExpiry,
            DueKind::GrantRenewal { .. } => DueItemKind::GrantRenewal,
        }
    }
    /// When (for monitoring: the first day of the month it is due in).
    async fn due_on(&self) -> Date {
        Date(self.0.due_on)
    }
    /// True when the date has passed without it being done.
    async fn overdue(&self) -> bool {
        self.0.overdue
    }
    /// The client.
    async fn client(&self, ctx: &Context<'_>) -> async_graphql::Result<Client> {
        Client::load(ctx, self.0.client_id).await
    }
    /// For a plan review: the facility whose plan it is.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        let DueKind::PlanReview { organization_id } = self.0.kind else {
            return Ok(None);
        };
        Ok(ctx
            .loaders()?
            .organizations
            .load_one(organization_id)
            .await?
            .map(Organization))
    }
    /// For a grant expiry or renewal: the service whose grant ends.
    async fn service_type(&self) -> Option<&str> {
        match &self.0.kind {
            DueKind::GrantExpiry { service_type } | DueKind::GrantRenewal { service_type } => {
                Some(service_type)
            }
            _ => None,
        }
    }
}

/// Items due for `clients`, soonest first, at most 100 (`first` bounded like any page).
pub(super) async fn due_items(
    ctx: &Context<'_>,
    clients: &[Uuid],
    first: Option<i32>,
) -> async_graphql::Result<Vec<DueItemObject>> {
    let limit = match first {
        None => 100,
        Some(n) => match usize::try_from(n) {
            Ok(n) if n <= 100 => n,
            _ => {
                return Err(
                    ApiError::bad_input("first", "first must be between 0 and 100.").into(),
                );
            }
        },
    };
    let scope = ctx.loaders()?.ctx.scope().await?;
    let items = crate::service::monitoring::due_items(&ctx.state()?.db, &scope, clients).await?;
    Ok(items.into_iter().take(limit).map(DueItemObject).collect())
}

/// History filters as GraphQL arguments.
pub(super) fn filter(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    kinds: Vec<HistoryKind>,
) -> timeline::HistoryFilter {
    timeline::HistoryFilter {
        from,
        to,
        kinds: kinds.into_iter().map(Into::into).collect(),
    }
}
