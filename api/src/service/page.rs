//! Keyset pagination over UUIDv7 primary keys (which sort in creation order).
//!
//! Every list the API exposes goes through here, so every list is bounded by [`MAX_PAGE_SIZE`].

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select,
    sea_query::{Alias, Asterisk, Query, SelectStatement, UnionType},
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
    fn size(&self) -> ApiResult<(u64, bool)> {
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
/// when [`PageArgs::count_total`] asks for it.
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
    let walk = Walk::new(args, order)?;
    let total_count = if args.count_total {
        select.clone().count(db).await?
    } else {
        0
    };
    let items = walk.apply(select, id_col).all(db).await?;
    Ok(walk.finish(items, args, total_count))
}

/// [`paginate_ordered`] over the union of `parts` (the same list split by client, say): each
/// part is walked on its own, at most a page of it, and the walks are merged by `key`.
///
/// Over many clients this is the fast shape on both databases: each part is one range of a
/// `(client_id, id)` index that stops after a page, where a single statement over all the clients
/// reads and sorts every row of every client to find the newest few. `whole` (the same list as
/// one select) is used only for `totalCount`.
pub async fn paginate_merged<E, C>(
    db: &C,
    parts: Vec<Select<E>>,
    whole: Select<E>,
    id_col: E::Column,
    key: impl Fn(&E::Model) -> Uuid,
    args: &PageArgs,
    order: Order,
) -> ApiResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let walk = Walk::new(args, order)?;
    let total_count = if args.count_total {
        whole.count(db).await?
    } else {
        0
    };
    let backend = db.get_database_backend();
    let mut items = Vec::new();
    let mut parts = parts.into_iter().peekable();
    while parts.peek().is_some() {
        let branches = parts
            .by_ref()
            .take(MAX_UNION_BRANCHES)
            .map(|p| walk.apply(p, id_col).into_query());
        if let Some(union) = union_all(branches) {
            let stmt = sea_orm::StatementBuilder::build(&union, &backend);
            items.extend(E::find().from_raw_sql(stmt).all(db).await?);
        }
    }
    if walk.descending {
        items.sort_unstable_by_key(|m| std::cmp::Reverse(key(m)));
    } else {
        items.sort_unstable_by_key(&key);
    }
    items.truncate(walk.size as usize + 1);
    Ok(walk.finish(items, args, total_count))
}

/// Members per `UNION ALL` statement (SQLite allows at most 500 by default).
pub const MAX_UNION_BRANCHES: usize = 400;

/// `SELECT * FROM (b1) UNION ALL SELECT * FROM (b2) ...`: each branch keeps its own `ORDER BY` and
/// `LIMIT` (SQLite allows them in a compound's member only inside a subquery). `None` when there
/// is no branch.
pub fn union_all(branches: impl IntoIterator<Item = SelectStatement>) -> Option<SelectStatement> {
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

/// One page's walk through a list: its size, and whether it runs newest first in the database.
struct Walk {
    size: u64,
    after: Option<Uuid>,
    before: Option<Uuid>,
    backward: bool,
    descending: bool,
    newest_first: bool,
}

impl Walk {
    fn new(args: &PageArgs, order: Order) -> ApiResult<Self> {
        let (size, backward) = args.size()?;
        let newest_first = order == Order::NewestFirst;
        Ok(Self {
            size,
            after: args.after,
            before: args.before,
            backward,
            // Walk the list in its own order, or against it when paging backwards.
            descending: backward != newest_first,
            newest_first,
        })
    }

    /// `select` after/before the cursors, in walk order, one row more than the page.
    fn apply<E: EntityTrait>(&self, select: Select<E>, id_col: E::Column) -> Select<E> {
        let mut q = select;
        if let Some(after) = self.after {
            q = q.filter(if self.newest_first {
                id_col.lt(after)
            } else {
                id_col.gt(after)
            });
        }
        if let Some(before) = self.before {
            q = q.filter(if self.newest_first {
                id_col.gt(before)
            } else {
                id_col.lt(before)
            });
        }
        q = if self.descending {
            q.order_by_desc(id_col)
        } else {
            q.order_by_asc(id_col)
        };
        q.limit(self.size + 1)
    }

    fn finish<T>(&self, mut items: Vec<T>, args: &PageArgs, total_count: u64) -> Page<T> {
        let more = items.len() as u64 > self.size;
        items.truncate(self.size as usize);
        if self.backward {
            items.reverse();
        }
        let (has_previous_page, has_next_page) = if self.backward {
            (more, args.before.is_some())
        } else {
            (args.after.is_some(), more)
        };
        Page {
            items,
            has_previous_page,
            has_next_page,
            total_count,
        }
    }
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
