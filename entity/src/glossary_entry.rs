//! An organization's glossary entry (用語集): a term, its reading, and its wording per audience.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "glossary_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub term: String,
    /// Reading in hiragana, for furigana.
    pub reading: Option<String>,
    /// JSON object: audience name → wording.
    pub renderings: Json,
    pub updated_by_staff_member_id: Uuid,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
