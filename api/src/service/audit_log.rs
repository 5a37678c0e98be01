//! Reading the audit log: `audit_events` (writes, and reads audited before the compact rows
//! existed) and `read_audits` (reads) as one list, newest first.
//!
//! Both tables are keyed by UUIDv7, so one keyset over the ids pages through the two: each
//! table gives its own page for the same arguments, and the union's page is the first (or, going
//! backwards, the last) `size` of the two merged. A compact row is shown as the entry it stands
//! for (the same operation names, record ids and time as an `audit_events` row), so the API's
//! answers did not change when reads moved.

use std::collections::HashMap;

use entity::{audit_event, read_audit, read_audit_page};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::IntoCondition};
use uuid::Uuid;

use super::{
    page::{Order, Page, PageArgs, paginate_ordered},
    read_audits::time_of,
};
use crate::error::{ApiError, ApiResult};

/// The actions of one organization's staff, newest first.
pub async fn log_for_organization(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    page: &PageArgs,
) -> ApiResult<Page<audit_event::Model>> {
    merged(
        db,
        audit_event::Column::OrganizationId.eq(organization_id),
        read_audit::Column::OrganizationId.eq(organization_id),
        page,
    )
    .await
}

/// Everyone's access to one client's records, newest first.
pub async fn log_for_client(
    db: &impl ConnectionTrait,
    client_id: Uuid,
    page: &PageArgs,
) -> ApiResult<Page<audit_event::Model>> {
    merged(
        db,
        audit_event::Column::ClientId.eq(client_id),
        read_audit::Column::ClientId.eq(client_id),
        page,
    )
    .await
}

async fn merged(
    db: &impl ConnectionTrait,
    events: impl IntoCondition,
    reads: impl IntoCondition,
    args: &PageArgs,
) -> ApiResult<Page<audit_event::Model>> {
    let (size, backward) = args.size()?;
    let newest_first = Order::NewestFirst;
    let a = paginate_ordered(
        db,
        audit_event::Entity::find().filter(events),
        audit_event::Column::Id,
        args,
        newest_first,
    )
    .await?;
    let b = paginate_ordered(
        db,
        read_audit::Entity::find().filter(reads),
        read_audit::Column::Id,
        args,
        newest_first,
    )
    .await?;
    let mut items = a.items;
    items.extend(as_events(db, b.items).await?);
    items.sort_unstable_by_key(|e| std::cmp::Reverse(e.id));
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let more = items.len() > size;
    if backward {
        items.drain(..items.len().saturating_sub(size));
    } else {
        items.truncate(size);
    }
    let (has_previous_page, has_next_page) = if backward {
        (
            more || a.has_previous_page || b.has_previous_page,
            args.before.is_some(),
        )
    } else {
        (
            args.after.is_some(),
            more || a.has_next_page || b.has_next_page,
        )
    };
    Ok(Page {
        items,
        has_previous_page,
        has_next_page,
        total_count: a.total_count + b.total_count,
    })
}

/// Compact rows as the entries they stand for (their pages read in one statement). A row whose
/// id is not a UUIDv7 or whose page is missing is corrupt data: an error, not a quiet blank.
pub async fn as_events(
    db: &impl ConnectionTrait,
    rows: Vec<read_audit::Model>,
) -> ApiResult<Vec<audit_event::Model>> {
    let keys: Vec<(i32, Vec<u8>)> = rows
        .iter()
        .filter_map(|r| Some((page_month(r)?, r.page.clone()?)))
        .collect();
    let mut pages = HashMap::new();
    if !keys.is_empty() {
        let mut months: Vec<i32> = keys.iter().map(|k| k.0).collect();
        months.sort_unstable();
        months.dedup();
        let hashes: Vec<Vec<u8>> = keys.into_iter().map(|k| k.1).collect();
        for p in read_audit_page::Entity::find()
            .filter(read_audit_page::Column::Month.is_in(months))
            .filter(read_audit_page::Column::Hash.is_in(hashes))
            .all(db)
            .await?
        {
            pages.insert((p.month, p.hash.clone()), p);
        }
    }
    rows.into_iter()
        .map(|r| {
            let corrupt =
                |what: &str| ApiError::internal(anyhow::anyhow!("read audit {}: {what}", r.id));
            let occurred_at = time_of(r.id).ok_or_else(|| corrupt("its id is not a UUIDv7"))?;
            let ids = match (&r.record_id, &r.page) {
                (Some(id), _) => vec![*id],
                (None, Some(hash)) => {
                    let month = page_month(&r).ok_or_else(|| corrupt("no month"))?;
                    pages
                        .get(&(month, hash.clone()))
                        .and_then(read_audit_page::Model::ids)
                        .ok_or_else(|| corrupt("its page is missing or damaged"))?
                }
                (None, None) => Vec::new(),
            };
            Ok(audit_event::Model {
                id: r.id,
                occurred_at,
                staff_member_id: r.staff_member_id,
                organization_id: r.organization_id,
                operation: r.operation.as_str().to_owned(),
                client_id: r.client_id,
                record_ids: serde_json::json!(ids),
            })
        })
        .collect()
}

fn page_month(r: &read_audit::Model) -> Option<i32> {
    Some(super::read_audits::month_number(time_of(r.id)?))
}
