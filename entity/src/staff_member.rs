//! Staff member (職員): a person who logs in, always belonging to one organization.

use sea_orm::entity::prelude::*;

/// A staff member's role; it must fit the organization's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum StaffRole {
    /// 支援員 / 生活支援員 / 世話人
    #[sea_orm(string_value = "FACILITY_STAFF")]
    FacilityStaff,
    /// サービス管理責任者 / 児童発達支援管理責任者
    #[sea_orm(string_value = "SERVICE_MANAGER")]
    ServiceManager,
    /// 相談支援専門員
    #[sea_orm(string_value = "CONSULTATION_SPECIALIST")]
    ConsultationSpecialist,
    /// The organization's administrator (管理者).
    #[sea_orm(string_value = "ORG_ADMIN")]
    OrgAdmin,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    /// Lower-cased; unique across the installation (it is the login name).
    #[sea_orm(unique)]
    pub email: String,
    pub display_name: String,
    pub role: StaffRole,
    /// Argon2id PHC string; never leaves the service layer.
    pub password_hash: String,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The organization's own id for this person (e.g. from its HR or billing system).
    pub external_id: Option<String>,
    /// A service account behind an API key: it never logs in with a password.
    pub service_account: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::OrganizationId",
        to = "super::organization::Column::Id"
    )]
    Organization,
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
