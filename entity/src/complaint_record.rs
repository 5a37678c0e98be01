//! Complaint record (苦情の記録): received, handled, resolved.

use sea_orm::entity::prelude::*;

use crate::observation::{RecordStatus, Visibility};

/// Who made the complaint, relative to the client (申出人).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ComplainantRelationship {
    #[sea_orm(string_value = "CLIENT")]
    Client,
    #[sea_orm(string_value = "FAMILY")]
    Family,
    #[sea_orm(string_value = "OTHER")]
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "complaint_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    pub organization_id: Uuid,
    pub recorder_staff_member_id: Uuid,
    pub version: i32,
    /// The day it was received (受付日).
    pub received_on: Date,
    /// Who made it (申出人), as they gave their name.
    pub complainant: String,
    pub complainant_relationship: ComplainantRelationship,
    /// What the complaint says (苦情の内容).
    pub content: String,
    /// What was done (対応).
    pub response: Option<String>,
    /// How it ended (結果).
    pub result: Option<String>,
    /// The day it was resolved; `None` while open.
    pub resolved_on: Option<Date>,
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
