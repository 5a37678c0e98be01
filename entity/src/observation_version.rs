//! One stored version of an observation (every amendment keeps the previous text).

use sea_orm::entity::prelude::*;

use super::observation::{ObservationCategory, RecordStatus, Visibility};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "observation_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub observation_id: Uuid,
    pub version: i32,
    pub fact: String,
    pub interpretation: Option<String>,
    pub client_words: Option<String>,
    pub category: ObservationCategory,
    pub occurred_from: DateTimeUtc,
    pub occurred_to: Option<DateTimeUtc>,
    pub visibility: Visibility,
    #[sea_orm(column_type = "Json")]
    pub tags: super::observation::Tags,
    #[sea_orm(column_type = "Json")]
    pub cited_observation_ids: super::observation::ObservationIds,
    pub status: RecordStatus,
    pub edited_by_staff_member_id: Uuid,
    pub edited_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
