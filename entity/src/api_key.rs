//! API key (APIキー): a secret a service account sends as `Authorization: Bearer`. Only its
//! SHA-256 is stored; the key itself is shown once, when it is created.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    /// The service account (a `staff_members` row) the key acts as; audit entries name it.
    pub staff_member_id: Uuid,
    pub name: String,
    /// The key's first characters, to recognise it in lists (never enough to use it).
    pub prefix: String,
    #[sea_orm(unique)]
    pub key_hash: String,
    pub created_by_staff_member_id: Uuid,
    pub created_at: DateTimeUtc,
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
