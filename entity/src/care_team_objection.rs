//! An objection to an organization's addition to a client's care team (支援チームへの追加への異議):
//! raised by a coordinator of another member; while it is open, no consent shares records with
//! the organization objected to. Withdrawn, never deleted.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "care_team_objections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    /// The membership objected to.
    pub membership_id: Uuid,
    /// The organization objected to.
    pub member_organization_id: Uuid,
    /// The objecting organization.
    pub organization_id: Uuid,
    pub staff_member_id: Uuid,
    pub reason: String,
    pub created_at: DateTimeUtc,
    pub withdrawn_at: Option<DateTimeUtc>,
    pub withdrawn_by_staff_member_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
