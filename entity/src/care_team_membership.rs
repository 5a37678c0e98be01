//! Care-team membership (支援チーム): an organization's part in a client's support, for a period.

use sea_orm::entity::prelude::*;

/// How the organization relates to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum CareRelationship {
    /// Provides a service (サービス提供事業所).
    #[sea_orm(string_value = "SERVICE_PROVIDER")]
    ServiceProvider,
    /// The client's consultation office (計画相談支援).
    #[sea_orm(string_value = "CONSULTATION")]
    Consultation,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "care_team_memberships")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    pub organization_id: Uuid,
    pub relationship: CareRelationship,
    pub service_type: Option<String>,
    pub start_date: Date,
    /// Last day of membership; `None` while ongoing.
    pub end_date: Option<Date>,
    pub added_by_staff_member_id: Uuid,
    pub ended_by_staff_member_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// Whether the membership covers `day`.
    pub fn is_current_on(&self, day: Date) -> bool {
        self.start_date <= day && self.end_date.is_none_or(|end| end >= day)
    }
}
