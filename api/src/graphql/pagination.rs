//! Relay connections over service-layer pages: decoding `first/after/last/before` and building
//! connections with `totalCount`.
//!
//! The connection types are declared here (with [`connection_types!`]) rather than taken from
//! async-graphql, whose generated types carry no descriptions: every type in `schema.graphql`
//! is documented for the front-end teams that read it.

use async_graphql::SimpleObject;
use uuid::Uuid;

use super::ids;
use crate::{
    error::ApiResult,
    service::page::{Page, PageArgs},
};

/// Pagination state of a connection (Relay `PageInfo`).
#[derive(SimpleObject)]
pub(super) struct PageInfo {
    /// True when items exist before this page.
    pub has_previous_page: bool,
    /// True when items exist after this page.
    pub has_next_page: bool,
    /// Cursor of the first item of this page; pass it as `before` to page backwards.
    pub start_cursor: Option<String>,
    /// Cursor of the last item of this page; pass it as `after` to page forwards.
    pub end_cursor: Option<String>,
}

/// Decodes Relay arguments; the page-size bounds are checked by the service layer.
/// Whether the connection field being resolved selects `totalCount` (directly or in a fragment).
pub(super) fn wants_total_count(ctx: &async_graphql::Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

/// Relay arguments of a connection field; `totalCount` is counted only when it is selected (a
/// count reads every row of the filtered list, a page only its own).
pub(super) fn page_args(
    ctx: &async_graphql::Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> ApiResult<PageArgs> {
    Ok(PageArgs {
        first,
        after: after
            .as_deref()
            .map(|c| ids::decode_cursor("after", c))
            .transpose()?,
        last,
        before: before
            .as_deref()
            .map(|c| ids::decode_cursor("before", c))
            .transpose()?,
        count_total: wants_total_count(ctx),
    })
}

/// The parts of a connection: edges (cursor + node), page info and total count.
pub(super) fn parts<M, T>(
    page: Page<M>,
    key: impl Fn(&M) -> Uuid,
    node: impl Fn(M) -> T,
) -> (Vec<(String, T)>, PageInfo, u64) {
    let edges: Vec<(String, T)> = page
        .items
        .into_iter()
        .map(|m| (ids::cursor(key(&m)), node(m)))
        .collect();
    let info = PageInfo {
        has_previous_page: page.has_previous_page,
        has_next_page: page.has_next_page,
        start_cursor: edges.first().map(|(c, _)| c.clone()),
        end_cursor: edges.last().map(|(c, _)| c.clone()),
    };
    (edges, info, page.total_count)
}

/// Declares `<Name>Connection` and `<Name>Edge` for a node type, with descriptions.
macro_rules! connection_types {
    ($connection:ident, $edge:ident, $node:ty, $what:literal) => {
        #[doc = concat!("A page of ", $what, " (Relay connection).")]
        #[derive(async_graphql::SimpleObject)]
        pub(crate) struct $connection {
            #[doc = concat!("The ", $what, " of this page, each with its cursor.")]
            pub(crate) edges: Vec<$edge>,
            #[doc = concat!("The ", $what, " of this page, without cursors.")]
            pub(crate) nodes: Vec<$node>,
            /// Where this page sits in the whole list.
            pub(crate) page_info: $crate::graphql::pagination::PageInfo,
            /// How many items the whole list holds (all pages), under the same filters.
            pub(crate) total_count: u64,
        }

        #[doc = concat!("One of the ", $what, " with its cursor.")]
        #[derive(async_graphql::SimpleObject)]
        pub(crate) struct $edge {
            /// Opaque cursor; pass it as `after` or `before`.
            pub(crate) cursor: String,
            /// The item.
            pub(crate) node: $node,
        }

        impl $connection {
            pub(crate) fn from_page<M>(
                page: $crate::service::page::Page<M>,
                key: impl Fn(&M) -> uuid::Uuid,
                node: impl Fn(M) -> $node,
            ) -> Self
            where
                $node: Clone,
            {
                let (edges, page_info, total_count) =
                    $crate::graphql::pagination::parts(page, key, node);
                Self {
                    nodes: edges.iter().map(|(_, n)| n.clone()).collect(),
                    edges: edges
                        .into_iter()
                        .map(|(cursor, node)| $edge { cursor, node })
                        .collect(),
                    page_info,
                    total_count,
                }
            }
        }
    };
}
pub(crate) use connection_types;
