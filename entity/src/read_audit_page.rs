//! The records of a page that was read, stored once per month however often it is read.
//!
//! Keyed by the month of the reads and a hash of the ids: a staff member who rereads a client's
//! first page fifty times in a month adds fifty ~110-byte [`super::read_audit`] rows and one
//! page. The month in the key lets pruning drop whole months without asking which reads still
//! point at a page.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "read_audit_pages")]
pub struct Model {
    /// `YYYYMM` of the reads (UTC).
    #[sea_orm(primary_key, auto_increment = false)]
    pub month: i32,
    /// The first 16 bytes of the SHA-256 of `record_ids`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub hash: Vec<u8>,
    /// The record ids, 16 bytes each, in the order the page showed them.
    pub record_ids: Vec<u8>,
}

impl Model {
    /// The ids; `None` when the bytes are not whole ids (a corrupt row must not read as empty).
    pub fn ids(&self) -> Option<Vec<Uuid>> {
        unpack_ids(&self.record_ids)
    }
}

/// Ids as 16 bytes each, in order.
pub fn pack_ids(ids: &[Uuid]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ids.len() * 16);
    for id in ids {
        out.extend_from_slice(id.as_bytes());
    }
    out
}

/// The inverse of [`pack_ids`]; `None` unless the length is a multiple of 16.
pub fn unpack_ids(bytes: &[u8]) -> Option<Vec<Uuid>> {
    if !bytes.len().is_multiple_of(16) {
        return None;
    }
    bytes
        .chunks_exact(16)
        .map(|c| Uuid::from_slice(c).ok())
        .collect()
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_pack_and_unpack_in_order() {
        let ids = vec![Uuid::now_v7(), Uuid::max(), Uuid::nil()];
        let packed = pack_ids(&ids);
        assert_eq!(packed.len(), 48);
        assert_eq!(unpack_ids(&packed), Some(ids));
        assert_eq!(unpack_ids(&packed[..47]), None);
        assert_eq!(unpack_ids(&[]), Some(vec![]));
    }
}
