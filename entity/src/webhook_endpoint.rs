//! Webhook endpoint: an organization's HTTPS URL that receives the events it may see.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub url: String,
    pub description: Option<String>,
    /// JSON array of event kind names (`OBSERVATION_RECORDED`, …).
    pub event_kinds: Json,
    /// The HMAC-SHA256 signing secret (needed to sign, so kept; shown once at registration).
    pub secret: String,
    pub active: bool,
    pub created_by_staff_member_id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
