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
    /// JSON array of the named recipient organizations' ids. Always set since migration 0009
    /// (which named the team each "current care team" consent was recorded for).
    pub recipient_organization_ids: Option<Json>,
    /// The client also consented to organizations that join the care team later.
    pub covers_future_members: bool,
    /// Recipients also receive records from before their first day on the care team.
    pub includes_earlier_records: bool,
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
