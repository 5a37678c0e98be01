//! A history page whose records are shown only as observations (the page a specialist's screen
//! repeats most): the entries and their observations, with the authors and the authors'
//! organizations when shown, in **one** statement. The page's statement
//! ([`PageQuery`]) is joined to `observations` by the entry's kind and id; for an entry of any
//! other kind the statement says only whether its record exists, which is all such an entry
//! shows here (its type). [`super::records_of`] reads every kind's columns in a second
//! statement; this reads what the page shows in the first.

use std::collections::HashMap;

use entity::{
    accident_report, complaint_record, meeting, meeting_brief, monitoring_report, observation,
    organization, restraint_record, sharing_consent, staff_member, support_plan_version,
    timeline_entry,
};
use sea_orm::{
    ActiveEnum, ConnectionTrait, DbErr, EntityName, FromQueryResult, IdenStatic, QueryTrait,
    sea_query::{Alias, Condition, Expr, ExprTrait, JoinType},
};
use uuid::Uuid;

use super::{
    cell,
    statement::{AUTHOR, AUTHOR_ORGANIZATION, join_authors},
};
use crate::{
    error::ApiResult,
    service::timeline::{self, EntryKind, HistoryPage, PageQuery, TotalCounts},
};

/// The observations' table in the statement.
const OBSERVATION: &str = "observation";

/// A page with what it shows of its records.
pub struct ObservationPage {
    /// Every entry of the page, as [`timeline::history`] gives them.
    pub page: HistoryPage,
    /// The entries whose record exists, by kind and id: with the observation for an
    /// observation's entry, `None` for an entry of another kind. An observation holds its id
    /// and the columns asked for; every other field is its type's empty value.
    pub records: HashMap<(EntryKind, Uuid), Option<observation::Model>>,
    /// The observations' authors (only when asked for).
    pub authors: HashMap<Uuid, PageAuthor>,
    /// The authors' organizations (only when asked for).
    pub organizations: HashMap<Uuid, PageOrganization>,
}

/// What a page shows of an observation's author (記録者).
pub struct PageAuthor {
    pub id: Uuid,
    pub display_name: String,
    pub organization_id: Uuid,
}

/// What a page shows of an author's organization (事業所).
pub struct PageOrganization {
    pub id: Uuid,
    pub name: String,
}

/// The page `query` finds, with its observations' `columns` (and, when `authors`, their
/// authors' names and the authors' organizations' names), in one statement.
pub async fn observation_page(
    db: &impl ConnectionTrait,
    counts: &TotalCounts,
    mut query: PageQuery,
    columns: &[observation::Column],
    authors: bool,
) -> ApiResult<ObservationPage> {
    use observation::Column as O;
    let mut shown: Vec<O> = Vec::with_capacity(columns.len() + 2);
    let wanted = columns.iter().chain(
        authors
            .then_some([O::AuthorStaffMemberId, O::OrganizationId].iter())
            .into_iter()
            .flatten(),
    );
    for c in wanted {
        // Columns compare by name (the entity's enum has no equality).
        if c.as_str() != O::Id.as_str() && !shown.iter().any(|s| s.as_str() == c.as_str()) {
            shown.push(*c);
        }
    }
    let select = QueryTrait::query(&mut query.select);
    // Named apart from the entry's own columns, which are read by name.
    select.expr_as(Expr::cust(record_found()), Alias::new("record_found"));
    for c in std::iter::once(&O::Id).chain(&shown) {
        select.expr_as(
            Expr::col((Alias::new(OBSERVATION), *c)),
            Alias::new(format!("{OBSERVATION}_{}", c.as_str())),
        );
    }
    select.join_as(
        JoinType::LeftJoin,
        observation::Entity,
        Alias::new(OBSERVATION),
        Condition::all()
            .add(
                Expr::col((timeline_entry::Entity, timeline_entry::Column::Kind))
                    .eq(EntryKind::Observation.to_value()),
            )
            .add(
                Expr::col((Alias::new(OBSERVATION), observation::Column::Id))
                    .equals((timeline_entry::Entity, timeline_entry::Column::RecordId)),
            ),
    );
    if authors {
        use organization::Column as G;
        use staff_member::Column as S;
        for (table, column) in [
            (AUTHOR, S::Id.as_str()),
            (AUTHOR, S::DisplayName.as_str()),
            (AUTHOR, S::OrganizationId.as_str()),
            (AUTHOR_ORGANIZATION, G::Id.as_str()),
            (AUTHOR_ORGANIZATION, G::Name.as_str()),
        ] {
            select.expr_as(
                Expr::col((Alias::new(table), Alias::new(column))),
                Alias::new(format!("{table}_{column}")),
            );
        }
        join_authors(select);
    }
    let statement = query.select.build(db.get_database_backend());
    // After the entry's columns and the total: whether the record exists, then the
    // observation's columns, the author's and the author's organization's.
    let found_at = timeline::page_columns();
    let observation_at = found_at + 1;
    let author_at = observation_at + 1 + shown.len();
    let organization_at = author_at + 3;
    let mut rows = Vec::new();
    let mut names = (HashMap::new(), HashMap::new());
    for row in db.query_all_raw(statement).await? {
        let entry = timeline_entry::Model::from_query_result(&row, "")?;
        let total = timeline::total_of(&row, "")?;
        let found: Option<bool> = cell(&row, found_at)?;
        let observation = partial_observation(&row, observation_at, &shown)?;
        if authors && observation.is_some() {
            let (authors, organizations) = &mut names;
            // A page's 50 observations have a few authors: each is decoded once.
            if let Some(id) = cell::<Option<Uuid>>(&row, author_at)?
                && !authors.contains_key(&id)
            {
                let author = PageAuthor {
                    id,
                    display_name: cell(&row, author_at + 1)?,
                    organization_id: cell(&row, author_at + 2)?,
                };
                authors.insert(id, author);
            }
            if let Some(id) = cell::<Option<Uuid>>(&row, organization_at)?
                && !organizations.contains_key(&id)
            {
                let name = cell(&row, organization_at + 1)?;
                organizations.insert(id, PageOrganization { id, name });
            }
        }
        rows.push((entry, total, (found == Some(true), observation)));
    }
    let (page, found) = query.page(db, counts, rows).await?;
    let records = page
        .items
        .iter()
        .zip(found)
        .filter(|(_, (found, _))| *found)
        .map(|((_, e), (_, observation))| ((e.kind, e.record_id), observation))
        .collect();
    Ok(ObservationPage {
        page,
        records,
        authors: names.0,
        organizations: names.1,
    })
}

/// The observation at `at` (its id, then `shown` in order), the other fields empty; `None`
/// when the entry is not an observation's.
fn partial_observation(
    row: &sea_orm::QueryResult,
    at: usize,
    shown: &[observation::Column],
) -> Result<Option<observation::Model>, DbErr> {
    use observation::Column as O;
    let Some(id) = cell::<Option<Uuid>>(row, at)? else {
        return Ok(None);
    };
    let epoch = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
    let mut o = observation::Model {
        id,
        client_id: Uuid::nil(),
        organization_id: Uuid::nil(),
        author_staff_member_id: Uuid::nil(),
        version: 0,
        fact: String::new(),
        interpretation: None,
        client_words: None,
        category: observation::ObservationCategory::Routine,
        occurred_from: epoch,
        occurred_to: None,
        recorded_at: epoch,
        visibility: observation::Visibility::Internal,
        tags: Default::default(),
        cited_observation_ids: Default::default(),
        status: observation::RecordStatus::Current,
        entered_in_error_reason: None,
        updated_by_staff_member_id: Uuid::nil(),
        updated_at: epoch,
        external_id: None,
    };
    for (i, c) in shown.iter().enumerate() {
        let at = at + 1 + i;
        match c {
            O::Id => {}
            O::ClientId => o.client_id = cell(row, at)?,
            O::OrganizationId => o.organization_id = cell(row, at)?,
            O::AuthorStaffMemberId => o.author_staff_member_id = cell(row, at)?,
            O::Version => o.version = cell(row, at)?,
            O::Fact => o.fact = cell(row, at)?,
            O::Interpretation => o.interpretation = cell(row, at)?,
            O::ClientWords => o.client_words = cell(row, at)?,
            O::Category => o.category = cell(row, at)?,
            O::OccurredFrom => o.occurred_from = cell(row, at)?,
            O::OccurredTo => o.occurred_to = cell(row, at)?,
            O::RecordedAt => o.recorded_at = cell(row, at)?,
            O::Visibility => o.visibility = cell(row, at)?,
            O::Tags => o.tags = cell(row, at)?,
            O::CitedObservationIds => o.cited_observation_ids = cell(row, at)?,
            O::Status => o.status = cell(row, at)?,
            O::EnteredInErrorReason => o.entered_in_error_reason = cell(row, at)?,
            O::UpdatedByStaffMemberId => o.updated_by_staff_member_id = cell(row, at)?,
            O::UpdatedAt => o.updated_at = cell(row, at)?,
            O::ExternalId => o.external_id = cell(row, at)?,
        }
    }
    Ok(Some(o))
}

/// Whether the entry's record exists: the joined observation for an observation's entry, one
/// look-up by primary key for another kind (a `CASE` evaluates only its own branch).
fn record_found() -> String {
    let entries = timeline_entry::Entity.table_name();
    let mut sql = format!("CASE \"{entries}\".\"kind\"");
    for kind in [
        EntryKind::Observation,
        EntryKind::PlanVersion,
        EntryKind::Meeting,
        EntryKind::Brief,
        EntryKind::MonitoringReport,
        EntryKind::ConsentGranted,
        EntryKind::ConsentRevoked,
        EntryKind::Restraint,
        EntryKind::Accident,
        EntryKind::Complaint,
    ] {
        let found = match table(kind) {
            None => format!("\"{OBSERVATION}\".\"id\" IS NOT NULL"),
            Some(t) => format!(
                "EXISTS (SELECT 1 FROM \"{t}\" WHERE \"{t}\".\"id\" = \"{entries}\".\"record_id\")"
            ),
        };
        sql.push_str(&format!(" WHEN '{}' THEN {found}", kind.to_value()));
    }
    sql.push_str(" END");
    sql
}

/// The table of a kind's records (`None` for observations, which the statement joins).
fn table(kind: EntryKind) -> Option<&'static str> {
    Some(match kind {
        EntryKind::Observation => return None,
        EntryKind::PlanVersion => support_plan_version::Entity.table_name(),
        EntryKind::Meeting => meeting::Entity.table_name(),
        EntryKind::Brief => meeting_brief::Entity.table_name(),
        EntryKind::MonitoringReport => monitoring_report::Entity.table_name(),
        EntryKind::ConsentGranted | EntryKind::ConsentRevoked => {
            sharing_consent::Entity.table_name()
        }
        EntryKind::Restraint => restraint_record::Entity.table_name(),
        EntryKind::Accident => accident_report::Entity.table_name(),
        EntryKind::Complaint => complaint_record::Entity.table_name(),
    })
}
