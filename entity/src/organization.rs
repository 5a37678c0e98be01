//! Organization (事業所): a service-providing facility or a consultation-support office.

use sea_orm::entity::prelude::*;

/// What kind of organization this is; decides which staff roles it can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum OrganizationKind {
    /// 障害福祉サービス事業所
    #[sea_orm(string_value = "FACILITY")]
    Facility,
    /// 相談支援事業所
    #[sea_orm(string_value = "CONSULTATION_OFFICE")]
    ConsultationOffice,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organizations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: OrganizationKind,
    pub name: String,
    /// Service types offered (facilities only), e.g. `["就労継続支援B型"]`, as a JSON array.
    pub service_types: Json,
    pub municipality: String,
    /// 事業所番号, unique where present.
    pub office_number: Option<String>,
    pub created_at: DateTimeUtc,
    /// Hours a consultation office has to acknowledge a shared risk sign before it is
    /// highlighted and pushed as overdue.
    pub risk_acknowledgement_hours: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::staff_member::Entity")]
    StaffMember,
}

impl Related<super::staff_member::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::StaffMember.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The service types as strings (an empty list for consultation offices).
    pub fn service_type_list(&self) -> Vec<String> {
        self.service_types
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}
