//! Physical restraint record (身体拘束等の記録): the form, the time, the client's condition and the
//! reason under the three requirements 切迫性・非代替性・一時性, each with its own explanation.

use sea_orm::entity::prelude::*;

use crate::observation::{RecordStatus, Visibility};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "restraint_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    /// The writing organization (the facility that restrained).
    pub organization_id: Uuid,
    /// Who recorded it (記録者).
    pub recorder_staff_member_id: Uuid,
    pub version: i32,
    /// The form of restraint (態様).
    pub form: String,
    pub started_at: DateTimeUtc,
    pub ended_at: DateTimeUtc,
    /// `ended_at - started_at` in whole minutes (rounded up), stored so period sums run in SQL.
    pub duration_minutes: i32,
    /// The client's condition (心身の状況).
    pub client_condition: String,
    /// 切迫性: why the client's or others' life or body was in imminent danger.
    pub urgency: String,
    /// 非代替性: why no other means of care would do.
    pub non_substitutability: String,
    /// 一時性: why the restraint was temporary.
    pub temporariness: String,
    /// When the family was told (家族への説明).
    pub family_explained_at: Option<DateTimeUtc>,
    pub family_explanation: Option<String>,
    pub visibility: Visibility,
    pub status: RecordStatus,
    /// Why it was marked entered-in-error (記載誤りの理由).
    pub entered_in_error_reason: Option<String>,
    pub recorded_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
