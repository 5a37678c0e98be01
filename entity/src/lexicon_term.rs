//! An organization's own fact-check term (自事業所の用語): an extra interpretive word, vague
//! amount or vague goal, an anchor, or an allow-listed phrase.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lexicon_terms")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub phrase: String,
    /// `INTERPRETATION`, `VAGUE_AMOUNT`, `VAGUE_GOAL`, `ANCHOR` or `ALLOWED`.
    pub kind: String,
    pub created_by_staff_member_id: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
