//! Delivery of a plan (交付): to the client, the family, the municipality, the consultation
//! office (individual plans) or, for a service-use plan, each service provider's person in
//! charge (担当者への交付), named by organization.

use chrono::NaiveDate;
use entity::{
    care_team_membership::{self, CareRelationship},
    support_plan::{self, PlanKind, PlanStatus},
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    error::{ApiError, ApiResult},
    service::dates::Date,
    service::{
        access::today,
        documents::{DeliveryRecipient, OrganizationRef, PlanDelivery},
    },
};

/// A delivery as asked for.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub recipient: DeliveryRecipient,
    pub delivered_on: NaiveDate,
    /// For `SERVICE_PROVIDER`: the receiving organization.
    pub organization_id: Option<Uuid>,
    /// Who received it (受領した担当者).
    pub received_by: Option<String>,
}

/// Checks a delivery of plan `p` and returns it as recorded. `wrong_state` is the plan's own
/// lifecycle error.
pub(super) async fn check(
    db: &impl ConnectionTrait,
    p: &support_plan::Model,
    d: NewDelivery,
    wrong_state: impl Fn(&str) -> ApiError,
) -> ApiResult<PlanDelivery> {
    if !matches!(p.status, PlanStatus::Proposed | PlanStatus::Active) {
        return Err(wrong_state("delivered"));
    }
    if d.delivered_on > today() {
        return Err(ApiError::bad_input(
            "deliveredOn",
            "A delivery cannot be dated in the future.",
        ));
    }
    if d.recipient == DeliveryRecipient::ConsultationOffice && p.kind == PlanKind::ServiceUsePlan {
        return Err(ApiError::bad_input(
            "recipient",
            "The service-use plan is the consultation office's own.",
        ));
    }
    let received_by = crate::service::optional_text("receivedBy", d.received_by, 100)?;
    match (d.recipient, d.organization_id) {
        (DeliveryRecipient::ServiceProvider, None) => {
            return Err(ApiError::bad_input(
                "organizationId",
                "Name the service provider the plan was delivered to.",
            ));
        }
        (DeliveryRecipient::ServiceProvider, Some(org)) => {
            if p.kind != PlanKind::ServiceUsePlan {
                return Err(ApiError::bad_input(
                    "recipient",
                    "An individual plan goes to the client and the consultation office, not to other providers.",
                ));
            }
            let provider = care_team_membership::Entity::find()
                .filter(care_team_membership::Column::ClientId.eq(p.client_id))
                .filter(care_team_membership::Column::OrganizationId.eq(org))
                .filter(
                    care_team_membership::Column::Relationship
                        .eq(CareRelationship::ServiceProvider),
                )
                .all(db)
                .await?
                .iter()
                .any(|m| m.is_current_on(d.delivered_on) || m.is_current_on(today()));
            if !provider {
                return Err(ApiError::bad_input(
                    "organizationId",
                    "The organization is not a service provider on the client's care team.",
                ));
            }
        }
        (_, Some(_)) => {
            return Err(ApiError::bad_input(
                "organizationId",
                "Only a delivery to a service provider names an organization.",
            ));
        }
        (_, None) => {}
    }
    Ok(PlanDelivery {
        recipient: d.recipient,
        delivered_on: Date(d.delivered_on),
        organization_id: d.organization_id.map(OrganizationRef),
        received_by,
    })
}
