//! Webhook delivery: one event for one endpoint, with its attempts so far (the delivery log).

use sea_orm::entity::prelude::*;

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// The endpoint answered 2xx.
    #[sea_orm(string_value = "SUCCEEDED")]
    Succeeded,
    /// Every attempt failed; only a manual redelivery tries again.
    #[sea_orm(string_value = "FAILED")]
    Failed,
    /// Not sent: when it was due, the endpoint's organization could no longer see the record
    /// (it was made internal, entered in error, or consent or membership ended).
    #[sea_orm(string_value = "WITHHELD")]
    Withheld,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub organization_id: Uuid,
    /// The outbox event delivered.
    pub event_id: i64,
    pub event_kind: super::outbox_event::EventKind,
    /// The JSON body sent (the same bytes on every attempt).
    pub payload: Json,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub last_attempt_at: Option<DateTimeUtc>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
