//! Observation (支援記録): a fact seen or heard, kept apart from its interpretation.

use sea_orm::{FromJsonQueryResult, entity::prelude::*};
use serde::{Deserialize, Serialize};

/// What the observation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ObservationCategory {
    #[sea_orm(string_value = "CHANGE")]
    Change,
    #[sea_orm(string_value = "STABLE")]
    Stable,
    #[sea_orm(string_value = "UNSTABLE")]
    Unstable,
    #[sea_orm(string_value = "RISK_SIGN")]
    RiskSign,
    #[sea_orm(string_value = "ROUTINE")]
    Routine,
    #[sea_orm(string_value = "SAFEGUARDING")]
    Safeguarding,
}

/// Who besides the writing organization may read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Visibility {
    #[sea_orm(string_value = "INTERNAL")]
    Internal,
    #[sea_orm(string_value = "CONSULTATION")]
    Consultation,
    #[sea_orm(string_value = "CARE_TEAM")]
    CareTeam,
}

/// Record status: never deleted, at most marked entered-in-error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum RecordStatus {
    #[sea_orm(string_value = "CURRENT")]
    Current,
    #[sea_orm(string_value = "ENTERED_IN_ERROR")]
    EnteredInError,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "observations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    pub organization_id: Uuid,
    pub author_staff_member_id: Uuid,
    pub version: i32,
    pub fact: String,
    pub interpretation: Option<String>,
    pub client_words: Option<String>,
    pub category: ObservationCategory,
    /// When it happened: a moment, or the start of a period.
    pub occurred_from: DateTimeUtc,
    /// The end of the period, when it was one ("this week").
    pub occurred_to: Option<DateTimeUtc>,
    /// When it was written (the gap to `occurred_from` is the information lag).
    pub recorded_at: DateTimeUtc,
    pub visibility: Visibility,
    /// JSON array of strings.
    #[sea_orm(column_type = "Json")]
    pub tags: Tags,
    /// JSON array of observation ids the interpretation rests on.
    #[sea_orm(column_type = "Json")]
    pub cited_observation_ids: ObservationIds,
    pub status: RecordStatus,
    pub entered_in_error_reason: Option<String>,
    pub updated_by_staff_member_id: Uuid,
    pub updated_at: DateTimeUtc,
    /// The writing organization's own id for this record (unique per organization).
    pub external_id: Option<String>,
}

/// An observation's tags, stored as a JSON array of strings; a stored value that is not one
/// fails the read (`DbErr::Json`), never reads as no tags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct Tags(pub Vec<String>);

/// The observations an interpretation rests on, stored as a JSON array of UUIDs; a stored value
/// that is not one fails the read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct ObservationIds(pub Vec<Uuid>);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
