//! The records behind a page of a client's history (経過): one statement whatever the page's size
//! and the kinds of record on it. Each record table present on the page is read by primary key
//! (the observations with their authors and the authors' organizations, when the page shows
//! them), all in one `UNION ALL`, so a page of plan versions, meetings and observations costs
//! what a page of observations costs. The statement's text (about three hundred columns) is
//! built once for each shape of page and kept; a page of a shape seen before only puts in its
//! own ids.
//!
//! The page itself (which entries, in which order, filtered by the viewer's scope) is
//! [`super::timeline::history`]; this module only loads what its entries point to.

use std::collections::{BTreeMap, HashMap};

use entity::{
    accident_report, complaint_record, meeting, meeting_brief, monitoring_report, observation,
    organization, restraint_record, sharing_consent, staff_member, support_plan_version,
    timeline_entry,
};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Iterable, QueryResult, TryGetable};
use uuid::Uuid;

use super::timeline::EntryKind;
use crate::error::{ApiError, ApiResult};

mod observation_page;
mod statement;

pub use observation_page::{ObservationPage, PageAuthor, PageOrganization, observation_page};

use statement::{PART_KINDS, alias, statements};

/// The record an entry points to.
#[derive(Clone)]
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

/// What a page shows beyond its records' plain columns, so that the statement reads no more.
#[derive(Clone, Copy, Debug)]
pub struct Shown {
    /// The observations' authors (every column but the password hash, which comes back empty)
    /// and the authors' organizations.
    pub authors: bool,
    /// The plan versions' text and record: two JSON documents, the costliest cells of a page to
    /// decode. Left out, they come back as JSON `null`.
    pub plan_text: bool,
}

/// Loads the records behind `entries` in one statement, with what `shown` asks for: for each
/// record table present on the page, its rows by primary key (`UNION ALL`), each row padded
/// with nulls for the other tables' columns, so that every kind decodes from the same row
/// shape. The entries themselves are not read again: the page statement found them.
pub async fn records_of(
    db: &impl ConnectionTrait,
    entries: &[timeline_entry::Model],
    shown: Shown,
) -> ApiResult<PageRecords> {
    let mut page = PageRecords::default();
    if entries.is_empty() {
        return Ok(page);
    }
    // Ordered, so that the same kinds give the same statement text (and its prepared statement).
    let mut by_kind: BTreeMap<EntryKind, Vec<Uuid>> = BTreeMap::new();
    for e in entries {
        by_kind.entry(e.kind).or_default().push(e.record_id);
    }
    // Each part present on the page, with its records' ids.
    let present: Vec<(usize, Vec<Uuid>)> = PART_KINDS
        .iter()
        .enumerate()
        .filter_map(|(i, kinds)| {
            let mut ids: Vec<Uuid> = kinds
                .iter()
                .filter_map(|k| by_kind.get(k))
                .flatten()
                .copied()
                .collect();
            ids.sort_unstable();
            ids.dedup();
            (!ids.is_empty()).then_some((i, ids))
        })
        .collect();
    if present.is_empty() {
        return Ok(page);
    }
    let statement = statements().get(db.get_database_backend(), shown, &present);
    // The row's two columns, then the observation's, its author's and the author's
    // organization's (the first part when present, so their positions are known).
    let observation_at = 2;
    let author_at = observation_at + observation::Column::iter().count();
    let organization_at = author_at + staff_member::Column::iter().count();
    for row in db.query_all_raw(statement).await? {
        let kind: String = row.try_get_by_index(0)?;
        let Some(kind) = EntryKind::parse(&kind) else {
            continue;
        };
        let id: Uuid = row.try_get_by_index(1)?;
        let record = if kind == EntryKind::Observation {
            observation::Model::at(&row, observation_at)?.map(HistoryRecord::Observation)
        } else {
            record(&row, kind)?
        };
        // A page's 50 observations have a few authors: each is decoded once.
        if kind == EntryKind::Observation && shown.authors {
            let author: Option<Uuid> = cell(&row, author_at)?;
            if author.is_some_and(|a| !page.authors.contains_key(&a))
                && let Some(a) = staff_member::Model::at(&row, author_at)?
            {
                page.authors.insert(a.id, a);
            }
            let organization: Option<Uuid> = cell(&row, organization_at)?;
            if organization.is_some_and(|o| !page.organizations.contains_key(&o))
                && let Some(o) = organization::Model::at(&row, organization_at)?
            {
                page.organizations.insert(o.id, o);
            }
        }
        let Some(record) = record else { continue };
        // A consent's grant and its revocation both point to it; every other row was read for
        // the one kind of entry that named its id.
        if let HistoryRecord::Consent(_) = record {
            for k in [EntryKind::ConsentGranted, EntryKind::ConsentRevoked] {
                if by_kind.get(&k).is_some_and(|ids| ids.contains(&id)) {
                    page.records.insert((k, id), record.clone());
                }
            }
        } else {
            page.records.insert((kind, id), record);
        }
    }
    Ok(page)
}

/// Reads a model from its columns' positions in a row (as [`columns`] listed them):
/// the page's hot models, whose ~2,000 cells a page would otherwise each find by a formatted
/// name and a scan of the row's columns (a quarter of the page's server CPU, BENCHMARKS.md).
/// `None` when the left join found no row. The fields are read in the order of the entity's
/// columns, which the tests pin.
trait ByPosition: Sized {
    fn at(row: &QueryResult, start: usize) -> Result<Option<Self>, DbErr>;
}

/// The cell at `i`.
fn cell<T: TryGetable>(row: &QueryResult, i: usize) -> Result<T, DbErr> {
    row.try_get_by_index(i)
}

/// Implements [`ByPosition`] for a model whose first column is its `id`, reading the other
/// fields in the order given (the order of the entity's columns, which the tests pin).
macro_rules! by_position {
    ($model:ty { $($field:ident),* $(,)? }) => {
        impl ByPosition for $model {
            fn at(row: &QueryResult, i: usize) -> Result<Option<Self>, DbErr> {
                let Some(id) = cell::<Option<Uuid>>(row, i)? else {
                    return Ok(None);
                };
                let mut at = i;
                // Fields are evaluated in the order written, one column after another.
                Ok(Some(Self {
                    id,
                    $($field: {
                        at += 1;
                        cell(row, at)?
                    }),*
                }))
            }
        }
    };
}

by_position!(observation::Model {
    client_id,
    organization_id,
    author_staff_member_id,
    version,
    fact,
    interpretation,
    client_words,
    category,
    occurred_from,
    occurred_to,
    recorded_at,
    visibility,
    tags,
    cited_observation_ids,
    status,
    entered_in_error_reason,
    updated_by_staff_member_id,
    updated_at,
    external_id,
});

by_position!(staff_member::Model {
    organization_id,
    email,
    display_name,
    role,
    password_hash,
    active,
    created_at,
    updated_at,
    external_id,
    service_account,
});

by_position!(organization::Model {
    kind,
    name,
    service_types,
    municipality,
    office_number,
    created_at,
    risk_acknowledgement_hours,
});

/// The record of `kind` in `row` (`None` when the entry's record is gone).
fn record(row: &QueryResult, kind: EntryKind) -> ApiResult<Option<HistoryRecord>> {
    fn read<M: FromQueryResult>(row: &QueryResult, kind: EntryKind) -> ApiResult<Option<M>> {
        M::from_query_result_optional(row, &prefix(alias(kind))).map_err(ApiError::from)
    }
    use HistoryRecord as R;
    Ok(match kind {
        EntryKind::Observation => read(row, kind)?.map(R::Observation),
        EntryKind::PlanVersion => read(row, kind)?.map(R::PlanVersion),
        EntryKind::Meeting => read(row, kind)?.map(R::Meeting),
        EntryKind::Brief => read(row, kind)?.map(R::Brief),
        EntryKind::MonitoringReport => read(row, kind)?.map(R::MonitoringReport),
        EntryKind::ConsentGranted | EntryKind::ConsentRevoked => read(row, kind)?.map(R::Consent),
        EntryKind::Restraint => read(row, kind)?.map(R::Restraint),
        EntryKind::Accident => read(row, kind)?.map(R::Accident),
        EntryKind::Complaint => read(row, kind)?.map(R::Complaint),
    })
}

fn prefix(alias: &str) -> String {
    format!("{alias}_")
}

#[cfg(test)]
mod tests {
    use sea_orm::IdenStatic;

    use super::*;

    /// [`ByPosition`] reads each model's fields in this order: a column added, removed or moved
    /// in an entity must be read here too.
    #[test]
    fn the_models_read_by_position_have_the_columns_they_read() {
        let names = |cols: Vec<&'static str>| cols;
        assert_eq!(
            names(observation::Column::iter().map(|c| c.as_str()).collect()),
            [
                "id",
                "client_id",
                "organization_id",
                "author_staff_member_id",
                "version",
                "fact",
                "interpretation",
                "client_words",
                "category",
                "occurred_from",
                "occurred_to",
                "recorded_at",
                "visibility",
                "tags",
                "cited_observation_ids",
                "status",
                "entered_in_error_reason",
                "updated_by_staff_member_id",
                "updated_at",
                "external_id",
            ]
        );
        assert_eq!(
            names(staff_member::Column::iter().map(|c| c.as_str()).collect()),
            [
                "id",
                "organization_id",
                "email",
                "display_name",
                "role",
                "password_hash",
                "active",
                "created_at",
                "updated_at",
                "external_id",
                "service_account",
            ]
        );
        assert_eq!(
            names(organization::Column::iter().map(|c| c.as_str()).collect()),
            [
                "id",
                "kind",
                "name",
                "service_types",
                "municipality",
                "office_number",
                "created_at",
                "risk_acknowledgement_hours",
            ]
        );
    }
}
