//! Sharing consent (情報共有の同意): the client's or guardian's written consent to share
//! special-care personal information among the care team. Revoked, never deleted.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sharing_consents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    /// Name of the person who signed.
    pub granted_by: String,
    /// `CLIENT`, `GUARDIAN`, `FAMILY`, `OTHER`.
    pub signer_relationship: String,
    pub granted_on: Date,
    /// JSON array of organization ids; `None` means "the current care team".
    pub recipient_organization_ids: Option<Json>,
    /// JSON array of data categories (`PROFILE`, `OBSERVATIONS`, `PLANS`, `MEETINGS`).
    pub data_categories: Json,
    pub expires_on: Option<Date>,
    /// Where the signed paper is kept (e.g. a file number).
    pub document_reference: Option<String>,
    pub recorded_by_staff_member_id: Uuid,
    pub recorded_by_organization_id: Uuid,
    pub created_at: DateTimeUtc,
    pub revoked_on: Option<Date>,
    pub revoked_at: Option<DateTimeUtc>,
    pub revoked_by_staff_member_id: Option<Uuid>,
    pub revocation_note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
