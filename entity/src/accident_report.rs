//! Accident or near-miss report (事故・ヒヤリハット報告).

use sea_orm::entity::prelude::*;

use crate::observation::{RecordStatus, Visibility};

/// Accident (事故) or near miss (ヒヤリハット).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum AccidentKind {
    #[sea_orm(string_value = "ACCIDENT")]
    Accident,
    #[sea_orm(string_value = "NEAR_MISS")]
    NearMiss,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accident_reports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    pub organization_id: Uuid,
    pub recorder_staff_member_id: Uuid,
    pub version: i32,
    pub kind: AccidentKind,
    /// When it happened (発生日時); reporting deadlines run from here.
    pub occurred_at: DateTimeUtc,
    /// Where (発生場所).
    pub place: String,
    /// What happened (状況).
    pub situation: String,
    /// What staff did (対応).
    pub response: String,
    /// When the family was told (家族への報告).
    pub family_reported_at: Option<DateTimeUtc>,
    /// When the municipality was told (市町村への報告).
    pub municipality_reported_at: Option<DateTimeUtc>,
    /// Measures against recurrence (再発防止策).
    pub prevention_measures: Option<String>,
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
