//! Meeting (会議): service coordination (サービス担当者会議), monitoring, planning
//! (個別支援計画作成会議) or case conference.

use sea_orm::entity::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum MeetingKind {
    #[sea_orm(string_value = "SERVICE_COORDINATION")]
    ServiceCoordination,
    #[sea_orm(string_value = "MONITORING")]
    Monitoring,
    #[sea_orm(string_value = "PLANNING")]
    Planning,
    #[sea_orm(string_value = "CASE_CONFERENCE")]
    CaseConference,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum MeetingStatus {
    #[sea_orm(string_value = "SCHEDULED")]
    Scheduled,
    #[sea_orm(string_value = "HELD")]
    Held,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "meetings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    /// The host organization.
    pub organization_id: Uuid,
    pub kind: MeetingKind,
    pub status: MeetingStatus,
    pub version: i32,
    pub scheduled_at: DateTimeUtc,
    pub place: Option<String>,
    pub online: bool,
    /// JSON array of organization ids.
    pub invited_organization_ids: Json,
    pub agenda: Option<String>,
    /// JSON array of attendees (organization, role, name, attended, written opinion).
    pub attendance: Json,
    /// JSON minutes once held.
    pub minutes: Option<Json>,
    pub direction: Option<String>,
    pub direction_change_reason: Option<String>,
    pub created_by_staff_member_id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The convening organization's own id for this meeting (unique per organization).
    pub external_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
