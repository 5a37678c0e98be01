//! Client (本人 / 利用者): the person with a disability whom the care team supports.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub display_name: String,
    pub name_kana: String,
    pub birth_date: Option<Date>,
    /// 障害支援区分 1–6; `None` when not assessed (非該当 / children).
    pub support_category: Option<i32>,
    /// The client's wishes in their own words (本人の希望).
    pub wishes: Option<String>,
    /// Family and guardian contacts as data (not accounts): a JSON array.
    pub family_contacts: Json,
    pub registered_by_organization_id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
