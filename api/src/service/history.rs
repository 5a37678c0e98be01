//! The records behind a page of a client's history (経過): one statement per record kind present
//! on the page, whatever its size, with the observations' authors and their organizations joined
//! into the observations' statement when the page shows them.
//!
//! The page itself (which entries, in which order, filtered by the viewer's scope) is
//! [`super::timeline::history`]; this module only loads what its entries point to.

use std::collections::HashMap;

use entity::{
    accident_report, complaint_record, meeting, meeting_brief, monitoring_report, observation,
    organization, restraint_record, sharing_consent, staff_member, support_plan_version,
    timeline_entry,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, IdenStatic, Iterable,
    JoinType, QueryFilter, QueryResult, QuerySelect, RelationDef, RelationTrait, sea_query::Expr,
};
use uuid::Uuid;

use super::timeline::EntryKind;
use crate::error::ApiResult;

/// The record an entry points to.
pub enum HistoryRecord {
    Observation(observation::Model),
    PlanVersion(support_plan_version::Model),
    Meeting(meeting::Model),
    Brief(meeting_brief::Model),
    MonitoringReport(monitoring_report::Model),
    /// Both a consent's grant and its revocation point to the consent.
    Consent(sharing_consent::Model),
    Restraint(restraint_record::Model),
    Accident(accident_report::Model),
    Complaint(complaint_record::Model),
}

/// What a page's entries point to.
#[derive(Default)]
pub struct PageRecords {
    /// By the entry's kind and record id.
    pub records: HashMap<(EntryKind, Uuid), HistoryRecord>,
    /// The observations' authors (only when asked for; never with a password hash).
    pub authors: HashMap<Uuid, staff_member::Model>,
    /// The authors' organizations (only when asked for).
    pub organizations: HashMap<Uuid, organization::Model>,
}

/// Loads the records behind `entries`; with `authors`, the observations come with their authors
/// and the authors' organizations in the same statement.
pub async fn records_of(
    db: &impl ConnectionTrait,
    entries: &[timeline_entry::Model],
    authors: bool,
) -> ApiResult<PageRecords> {
    let ids_of = |kinds: &[EntryKind]| -> Vec<Uuid> {
        entries
            .iter()
            .filter(|e| kinds.contains(&e.kind))
            .map(|e| e.record_id)
            .collect()
    };
    let mut page = PageRecords::default();
    let ids = ids_of(&[EntryKind::Observation]);
    if !ids.is_empty() {
        if authors {
            observations_with_authors(db, ids, &mut page).await?;
        } else {
            for o in observation::Entity::find()
                .filter(observation::Column::Id.is_in(ids))
                .all(db)
                .await?
            {
                page.records.insert(
                    (EntryKind::Observation, o.id),
                    HistoryRecord::Observation(o),
                );
            }
        }
    }
    macro_rules! load {
        ($kind:expr, $entity:ident, $variant:ident) => {
            let ids = ids_of(&[$kind]);
            if !ids.is_empty() {
                for m in $entity::Entity::find()
                    .filter($entity::Column::Id.is_in(ids))
                    .all(db)
                    .await?
                {
                    page.records
                        .insert(($kind, m.id), HistoryRecord::$variant(m));
                }
            }
        };
    }
    load!(EntryKind::PlanVersion, support_plan_version, PlanVersion);
    load!(EntryKind::Meeting, meeting, Meeting);
    load!(EntryKind::Brief, meeting_brief, Brief);
    load!(
        EntryKind::MonitoringReport,
        monitoring_report,
        MonitoringReport
    );
    load!(EntryKind::Restraint, restraint_record, Restraint);
    load!(EntryKind::Accident, accident_report, Accident);
    load!(EntryKind::Complaint, complaint_record, Complaint);
    let ids = ids_of(&[EntryKind::ConsentGranted, EntryKind::ConsentRevoked]);
    if !ids.is_empty() {
        for c in sharing_consent::Entity::find()
            .filter(sharing_consent::Column::Id.is_in(ids))
            .all(db)
            .await?
        {
            page.records.insert(
                (EntryKind::ConsentGranted, c.id),
                HistoryRecord::Consent(c.clone()),
            );
            page.records
                .insert((EntryKind::ConsentRevoked, c.id), HistoryRecord::Consent(c));
        }
    }
    Ok(page)
}

/// Column prefixes of the joined author and organization.
const AUTHOR: &str = "author_";
const AUTHOR_ORGANIZATION: &str = "author_org_";

/// An observation with its author and the author's organization, read from one row.
struct ObservationRow {
    observation: observation::Model,
    author: Option<staff_member::Model>,
    organization: Option<organization::Model>,
}

impl FromQueryResult for ObservationRow {
    fn from_query_result(row: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        Ok(Self {
            observation: observation::Model::from_query_result(row, pre)?,
            author: staff_member::Model::from_query_result_optional(row, AUTHOR)?,
            organization: organization::Model::from_query_result_optional(
                row,
                AUTHOR_ORGANIZATION,
            )?,
        })
    }
}

/// One statement: the observations joined to their authors (every column but the password
/// hash, which comes back empty) and the authors' organizations.
async fn observations_with_authors(
    db: &impl ConnectionTrait,
    ids: Vec<Uuid>,
    page: &mut PageRecords,
) -> ApiResult<()> {
    let author: RelationDef = observation::Entity::belongs_to(staff_member::Entity)
        .from(observation::Column::AuthorStaffMemberId)
        .to(staff_member::Column::Id)
        .into();
    let mut q = observation::Entity::find()
        .join(JoinType::LeftJoin, author)
        .join(
            JoinType::LeftJoin,
            staff_member::Relation::Organization.def(),
        )
        .filter(observation::Column::Id.is_in(ids));
    for c in staff_member::Column::iter() {
        let alias = format!("{AUTHOR}{}", c.as_str());
        q = match c {
            staff_member::Column::PasswordHash => q.column_as(Expr::value(""), alias),
            c => q.column_as(c, alias),
        };
    }
    for c in organization::Column::iter() {
        q = q.column_as(c, format!("{AUTHOR_ORGANIZATION}{}", c.as_str()));
    }
    for row in q.into_model::<ObservationRow>().all(db).await? {
        if let Some(a) = row.author {
            page.authors.insert(a.id, a);
        }
        if let Some(o) = row.organization {
            page.organizations.insert(o.id, o);
        }
        let o = row.observation;
        page.records.insert(
            (EntryKind::Observation, o.id),
            HistoryRecord::Observation(o),
        );
    }
    Ok(())
}
