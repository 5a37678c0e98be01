//! Keyset pagination over UUIDv7 primary keys (which sort in creation order).
//!
//! Every list the API exposes goes through here, so every list is bounded by [`MAX_PAGE_SIZE`].

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

/// The largest page any list returns.
pub const MAX_PAGE_SIZE: u64 = 100;
/// The page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE_SIZE: u64 = 20;

/// Relay-style arguments, already decoded.
#[derive(Debug, Clone, Default)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<Uuid>,
    pub last: Option<i32>,
    pub before: Option<Uuid>,
    /// Whether to count the whole list ([`Page::total_count`] is 0 otherwise).
    pub count_total: bool,
}

/// One page of a list.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_previous_page: bool,
    pub has_next_page: bool,
    pub total_count: u64,
}

impl PageArgs {
    /// The page size and direction, refusing contradictory or absurd arguments.
    pub(crate) fn size(&self) -> ApiResult<(u64, bool)> {
        let check = |name: &str, n: i32| -> ApiResult<u64> {
            match u64::try_from(n) {
                Ok(n) if n <= MAX_PAGE_SIZE => Ok(n),
                _ => Err(ApiError::bad_input(
                    name,
                    format!("{name} must be between 0 and {MAX_PAGE_SIZE}."),
                )),
            }
        };
        match (self.first, self.last) {
            (Some(_), Some(_)) => Err(ApiError::bad_input("last", "Use first or last, not both.")),
            (Some(n), None) => Ok((check("first", n)?, false)),
            (None, Some(n)) => Ok((check("last", n)?, true)),
            (None, None) => Ok((
                DEFAULT_PAGE_SIZE,
                self.before.is_some() && self.after.is_none(),
            )),
        }
    }
}

/// The order of a list by its UUIDv7 keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Oldest first (directories, staff).
    OldestFirst,
    /// Newest first (records, timelines).
    NewestFirst,
}

/// Runs `select` as one page ordered by `id_col`, oldest first (see [`paginate_ordered`]).
pub async fn paginate<E, C>(
    db: &C,
    select: Select<E>,
    id_col: E::Column,
    args: &PageArgs,
) -> ApiResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    paginate_ordered(db, select, id_col, args, Order::OldestFirst).await
}

/// Runs `select` as one page in `order` by `id_col`, plus a count of the whole (filtered) list
/// when [`PageArgs::count_total`] asks for it (a count reads every row of the list).
pub async fn paginate_ordered<E, C>(
    db: &C,
    select: Select<E>,
    id_col: E::Column,
    args: &PageArgs,
    order: Order,
) -> ApiResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let (size, backward) = args.size()?;
    let total_count = if args.count_total {
        select.clone().count(db).await?
    } else {
        0
    };
    let mut q = select;
    let newest_first = order == Order::NewestFirst;
    if let Some(after) = args.after {
        q = q.filter(if newest_first {
            id_col.lt(after)
        } else {
            id_col.gt(after)
        });
    }
    if let Some(before) = args.before {
        q = q.filter(if newest_first {
            id_col.gt(before)
        } else {
            id_col.lt(before)
        });
    }
    // Walk the list in its own order, or against it when paging backwards.
    q = if backward != newest_first {
        q.order_by_desc(id_col)
    } else {
        q.order_by_asc(id_col)
    };
    let mut items = q.limit(size + 1).all(db).await?;
    let more = items.len() as u64 > size;
    items.truncate(usize::try_from(size).unwrap_or(usize::MAX));
    if backward {
        items.reverse();
    }
    let (has_previous_page, has_next_page) = if backward {
        (more, args.before.is_some())
    } else {
        (args.after.is_some(), more)
    };
    Ok(Page {
        items,
        has_previous_page,
        has_next_page,
        total_count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_are_bounded_and_unambiguous() {
        let a = |first, last| PageArgs {
            first,
            last,
            ..Default::default()
        };
        assert_eq!(a(None, None).size().unwrap(), (DEFAULT_PAGE_SIZE, false));
        assert_eq!(a(Some(5), None).size().unwrap(), (5, false));
        assert_eq!(a(None, Some(5)).size().unwrap(), (5, true));
        assert!(a(Some(101), None).size().is_err());
        assert!(a(Some(-1), None).size().is_err());
        assert!(a(None, Some(i32::MAX)).size().is_err());
        assert!(a(Some(1), Some(1)).size().is_err());
    }
}
