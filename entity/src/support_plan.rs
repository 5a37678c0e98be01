//! Support plan (計画): a service-use plan (サービス等利用計画) by the consultation specialist, or
//! an individual support plan (個別支援計画) by a facility's service manager. The row holds the
//! current version; every version is also kept in `support_plan_versions`.

use sea_orm::entity::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum PlanKind {
    #[sea_orm(string_value = "SERVICE_USE_PLAN")]
    ServiceUsePlan,
    #[sea_orm(string_value = "INDIVIDUAL_SUPPORT_PLAN")]
    IndividualSupportPlan,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum PlanStatus {
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    #[sea_orm(string_value = "PROPOSED")]
    Proposed,
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    #[sea_orm(string_value = "SUPERSEDED")]
    Superseded,
    #[sea_orm(string_value = "ENDED")]
    Ended,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "support_plans")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    pub organization_id: Uuid,
    pub kind: PlanKind,
    /// The service-use plan an individual support plan follows (FHIR `basedOn`).
    pub based_on_plan_id: Option<Uuid>,
    pub status: PlanStatus,
    pub version: i32,
    /// For individual plans: the facility's service (decides the review interval).
    pub service_type: Option<String>,
    pub period_from: Date,
    pub period_to: Option<Date>,
    pub activated_on: Option<Date>,
    /// The plan's text: wishes, policy, goals, need rows, axis … (JSON).
    pub content: Json,
    /// Explanation, consent and delivery (説明・同意・交付) records (JSON).
    pub record: Json,
    pub created_by_staff_member_id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_by_staff_member_id: Uuid,
    pub updated_at: DateTimeUtc,
    /// The writing organization's own id for this plan (unique per organization).
    pub external_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
