//! Support plans: the consultation specialist's service-use plan (サービス等利用計画) and each
//! facility's individual support plan (個別支援計画), which follows it.
//!
//! Lifecycle `DRAFT → PROPOSED (案) → ACTIVE → SUPERSEDED | ENDED`. Every change (text,
//! status, explanation, consent, delivery) writes a new version; old versions stay readable;
//! writers pass the version they saw (`CONFLICT` when stale). A plan becomes active only with
//! written consent, and activating it supersedes the previous active plan of the same kind and
//! organization. Drafts are internal to the writing organization; proposals and active plans
//! are shared under the `PLANS` consent category (service-use plans with the care team,
//! individual plans with the consultation office, to which they are delivered).

use std::collections::HashMap;

use chrono::{Months, NaiveDate};
use entity::{
    observation::{RecordStatus, Visibility},
    support_plan::{self, PlanKind, PlanStatus},
    support_plan_version,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set,
};
use uuid::Uuid;

use super::{
    access::{Scope, today},
    documents::{DeliveryRecipient, PlanContent, PlanRecord},
    events::{self, EventKind, RecordType},
    timeline::{self, EntryKind},
};
use crate::service::ClientWrite;
use crate::{
    auth::{
        Viewer,
        policy::{self, AnyRecordFacts, ClientRelation, DataCategory},
    },
    db,
    error::{ApiError, ApiResult},
    service::Ctx,
    service::dates::Date,
};

mod delivery;
pub use delivery::NewDelivery;

/// Services whose individual plan is reviewed every 3 months instead of 6 (自立訓練 covers
/// 機能訓練, 生活訓練 and 宿泊型自立訓練; 就労移行支援 includes its 養成施設 variant).
const QUARTERLY_REVIEW_SERVICES: [&str; 2] = ["就労移行支援", "自立訓練"];

/// Whether a service's individual plan is reviewed every 3 months. The names are matched as
/// words anywhere in the service's name, not as prefixes: 宿泊型自立訓練 and
/// 自立訓練（生活訓練） both are 自立訓練. Spaces and full-width parentheses are ignored.
pub fn quarterly_review(service_type: &str) -> bool {
    let name: String = service_type
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    QUARTERLY_REVIEW_SERVICES.iter().any(|q| name.contains(q))
}

/// Who may read a plan in this state, besides its writer.
pub fn visibility(kind: PlanKind, status: PlanStatus) -> Visibility {
    match (status, kind) {
        (PlanStatus::Draft, _) => Visibility::Internal,
        (_, PlanKind::ServiceUsePlan) => Visibility::CareTeam,
        (_, PlanKind::IndividualSupportPlan) => Visibility::Consultation,
    }
}

/// The policy facts of a plan.
pub fn facts(p: &support_plan::Model) -> AnyRecordFacts {
    AnyRecordFacts {
        organization_id: p.organization_id,
        visibility: visibility(p.kind, p.status),
        data: Some(DataCategory::Plans),
        safeguarding: false,
        // The plan as it stands was written when its current version was.
        on: super::access::jst_day(p.updated_at),
    }
}

/// Whether a stored version is visible: each version carries the visibility of its status then
/// (another organization never sees a plan's drafts, even after the plan became active).
pub fn version_visible(
    scope: &Scope,
    p: &support_plan::Model,
    v: &support_plan_version::Model,
) -> bool {
    scope.can_see_record(
        p.client_id,
        AnyRecordFacts {
            visibility: visibility(p.kind, v.status),
            on: super::access::jst_day(v.edited_at),
            ..facts(p)
        },
    )
}

/// When an active individual plan must be reviewed: 6 months after activation (3 for
/// 就労移行支援 and 自立訓練, including 宿泊型自立訓練).
pub fn review_due(p: &support_plan::Model) -> Option<NaiveDate> {
    if p.kind != PlanKind::IndividualSupportPlan || p.status != PlanStatus::Active {
        return None;
    }
    let months = if p.service_type.as_deref().is_some_and(quarterly_review) {
        3
    } else {
        6
    };
    p.activated_on
        .and_then(|d| d.checked_add_months(Months::new(months)))
}

/// A new plan.
#[derive(Debug, Clone)]
pub struct NewPlan {
    pub client_id: Uuid,
    pub kind: PlanKind,
    pub based_on_plan_id: Option<Uuid>,
    pub period_from: NaiveDate,
    pub period_to: Option<NaiveDate>,
    pub content: PlanContent,
    /// The writing organization's own id: a create repeated with the same one returns the
    /// first plan instead of a second.
    pub external_id: Option<String>,
}

/// Who may write a plan of this kind, and what others are told.
fn writers(kind: PlanKind) -> (fn(&Viewer, &ClientRelation) -> bool, &'static str) {
    match kind {
        PlanKind::ServiceUsePlan => (
            policy::can_write_service_use_plan,
            "Service-use plans are written by the client's consultation specialist.",
        ),
        PlanKind::IndividualSupportPlan => (
            policy::can_write_individual_plan,
            "Individual support plans are written by a service manager of a current service provider.",
        ),
    }
}

/// Starts a plan as a draft.
pub async fn create(state: &Ctx, viewer: &Viewer, new: NewPlan) -> ApiResult<support_plan::Model> {
    db::retrying(|| create_once(state, viewer, new.clone())).await
}

/// One attempt of [`create`].
async fn create_once(state: &Ctx, viewer: &Viewer, new: NewPlan) -> ApiResult<support_plan::Model> {
    let txn = db::begin_write(&state.db).await?;
    let (may_write, refusal) = writers(new.kind);
    let scope = ClientWrite::for_client(viewer, new.client_id)
        .check_in(&txn, may_write, refusal)
        .await?;
    let external_id = super::external_ids::validate(new.external_id.clone())?;
    if let Some(ext) = &external_id {
        let existing = support_plan::Entity::find()
            .filter(support_plan::Column::OrganizationId.eq(viewer.organization_id))
            .filter(support_plan::Column::ExternalId.eq(ext.as_str()))
            .one(&txn)
            .await?;
        if let Some(p) = existing {
            return super::external_ids::same_client(p.client_id, new.client_id, p);
        }
    }
    new.content.validate_for(new.kind)?;
    check_period(new.period_from, new.period_to)?;
    let based_on = match (new.kind, new.based_on_plan_id) {
        (PlanKind::ServiceUsePlan, Some(_)) => {
            return Err(ApiError::bad_input(
                "basedOnPlanId",
                "A service-use plan is not based on another plan.",
            ));
        }
        (PlanKind::ServiceUsePlan, None) => None,
        (PlanKind::IndividualSupportPlan, Some(id)) => {
            let p = support_plan::Entity::find_by_id(id)
                .one(&txn)
                .await?
                .ok_or(ApiError::NotFound("Support plan"))?;
            if p.client_id != new.client_id
                || p.kind != PlanKind::ServiceUsePlan
                || !scope.can_see_record(p.client_id, facts(&p))
            {
                return Err(ApiError::NotFound("Support plan"));
            }
            Some(id)
        }
        // Follow the client's active service-use plan when there is one.
        (PlanKind::IndividualSupportPlan, None) => support_plan::Entity::find()
            .filter(support_plan::Column::ClientId.eq(new.client_id))
            .filter(support_plan::Column::Kind.eq(PlanKind::ServiceUsePlan))
            .filter(support_plan::Column::Status.eq(PlanStatus::Active))
            .one(&txn)
            .await?
            .filter(|p| scope.can_see_record(p.client_id, facts(p)))
            .map(|p| p.id),
    };
    let service_type = match new.kind {
        PlanKind::ServiceUsePlan => None,
        PlanKind::IndividualSupportPlan => entity::care_team_membership::Entity::find()
            .filter(entity::care_team_membership::Column::ClientId.eq(new.client_id))
            .filter(entity::care_team_membership::Column::OrganizationId.eq(viewer.organization_id))
            .all(&txn)
            .await?
            .into_iter()
            .filter(|m| m.is_current_on(today()))
            .find_map(|m| m.service_type),
    };
    let now = super::now();
    let model = support_plan::ActiveModel {
        id: Set(Uuid::now_v7()),
        client_id: Set(new.client_id),
        organization_id: Set(viewer.organization_id),
        kind: Set(new.kind),
        based_on_plan_id: Set(based_on),
        status: Set(PlanStatus::Draft),
        version: Set(1),
        service_type: Set(service_type),
        period_from: Set(new.period_from),
        period_to: Set(new.period_to),
        activated_on: Set(None),
        content: Set(to_json(&new.content)?),
        record: Set(to_json(&PlanRecord::default())?),
        created_by_staff_member_id: Set(viewer.staff_member_id),
        created_at: Set(now),
        updated_by_staff_member_id: Set(viewer.staff_member_id),
        updated_at: Set(now),
        external_id: Set(external_id),
    }
    .insert(&txn)
    .await
    .map_err(super::external_ids::race)?;
    write_version(&txn, viewer, &model).await?;
    txn.commit().await?;
    Ok(model)
}

fn check_period(from: NaiveDate, to: Option<NaiveDate>) -> ApiResult<()> {
    if to.is_some_and(|t| t < from) {
        return Err(ApiError::bad_input(
            "periodTo",
            "The plan period ends before it starts.",
        ));
    }
    Ok(())
}

fn to_json<T: serde::Serialize>(v: &T) -> ApiResult<serde_json::Value> {
    serde_json::to_value(v).map_err(ApiError::internal)
}

/// The stored plan text. A document that does not decode is an error, never an empty plan:
/// shown empty it would tell the reader the plan says nothing, and written back it would erase
/// what it held.
pub fn content_of(p: &serde_json::Value) -> ApiResult<PlanContent> {
    super::documents::stored("plan content", p)
}

/// The stored explanation, consent and deliveries; an error when they do not decode (see
/// [`content_of`]).
pub fn record_of(p: &serde_json::Value) -> ApiResult<PlanRecord> {
    super::documents::stored("plan record", p)
}

/// Stores the plan's current state as a version, with its history entry and event.
async fn write_version(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    p: &support_plan::Model,
) -> ApiResult<()> {
    let version = support_plan_version::ActiveModel {
        id: Set(Uuid::now_v7()),
        plan_id: Set(p.id),
        version: Set(p.version),
        status: Set(p.status),
        period_from: Set(p.period_from),
        period_to: Set(p.period_to),
        content: Set(p.content.clone()),
        record: Set(p.record.clone()),
        edited_by_staff_member_id: Set(viewer.staff_member_id),
        edited_at: Set(p.updated_at),
    }
    .insert(db)
    .await?;
    timeline::put(
        db,
        timeline::Entry {
            kind: EntryKind::PlanVersion,
            record_id: version.id,
            client_id: p.client_id,
            occurred_at: p.updated_at,
            organization_id: p.organization_id,
            visibility: visibility(p.kind, p.status),
            data: Some(DataCategory::Plans),
            category: None,
            status: RecordStatus::Current,
        },
    )
    .await?;
    events::record_change(
        db,
        viewer,
        EventKind::PlanChanged,
        p.client_id,
        RecordType::SupportPlan,
        p.id,
    )
    .await
}

/// A change to a plan.
#[derive(Debug, Clone)]
pub enum PlanChange {
    /// New text and period (drafts and proposals only).
    Revise {
        content: Box<PlanContent>,
        period_from: NaiveDate,
        period_to: Option<NaiveDate>,
    },
    /// Draft → proposed (案).
    Propose,
    /// Explanation to the client and their written consent (説明・同意).
    RecordConsent {
        explained_on: NaiveDate,
        explained_by: String,
        signed_by: String,
        signed_on: NaiveDate,
        method: String,
    },
    /// Proposed → active; requires written consent. Supersedes the previous active plan.
    Activate { activated_on: Option<NaiveDate> },
    /// Delivery of a copy (交付) to the client, family, municipality or consultation office.
    RecordDelivery {
        recipient: DeliveryRecipient,
        delivered_on: NaiveDate,
    },
    /// Delivery of a copy naming who received it, and for a service provider which one.
    RecordNamedDelivery(delivery::NewDelivery),
    /// Active → ended.
    End,
}

/// Applies a change as a new version.
pub async fn change(
    state: &Ctx,
    viewer: &Viewer,
    plan_id: Uuid,
    expected_version: i32,
    change: PlanChange,
) -> ApiResult<support_plan::Model> {
    db::retrying(|| change_once(state, viewer, plan_id, expected_version, change.clone())).await
}

/// One attempt of [`change`].
async fn change_once(
    state: &Ctx,
    viewer: &Viewer,
    plan_id: Uuid,
    expected_version: i32,
    change: PlanChange,
) -> ApiResult<support_plan::Model> {
    let txn = db::begin_write(&state.db).await?;
    let p = support_plan::Entity::find_by_id(plan_id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound("Support plan"))?;
    ClientWrite::for_record(viewer, p.client_id, "Support plan")
        .seen_as(facts(&p))
        .check_in(
            &txn,
            |viewer, rel| {
                p.organization_id == viewer.organization_id && writers(p.kind).0(viewer, rel)
            },
            "Only the plan's writers change it.",
        )
        .await?;
    if p.version != expected_version {
        return Err(ApiError::conflict(format!(
            "The plan is at version {}, not {expected_version}: reload it.",
            p.version
        )));
    }
    let mut record = record_of(&p.record)?;
    let mut am = p.clone().into_active_model();
    let wrong_state = |what: &str| {
        ApiError::conflict(format!(
            "A {} plan cannot be {what}.",
            status_word(p.status)
        ))
    };
    let mut superseded = None;
    match change {
        PlanChange::Revise {
            content,
            period_from,
            period_to,
        } => {
            if !matches!(p.status, PlanStatus::Draft | PlanStatus::Proposed) {
                return Err(wrong_state("revised; start a new plan instead"));
            }
            content.validate_for(p.kind)?;
            check_period(period_from, period_to)?;
            // Consent was given to the old text: a revised plan must be explained and signed again.
            record = PlanRecord::default();
            am.content = Set(to_json(&content)?);
            am.period_from = Set(period_from);
            am.period_to = Set(period_to);
        }
        PlanChange::Propose => {
            if p.status != PlanStatus::Draft {
                return Err(wrong_state("proposed"));
            }
            am.status = Set(PlanStatus::Proposed);
        }
        PlanChange::RecordConsent {
            explained_on,
            explained_by,
            signed_by,
            signed_on,
            method,
        } => {
            if p.status != PlanStatus::Proposed {
                return Err(wrong_state("consented to"));
            }
            if explained_on > signed_on {
                return Err(ApiError::bad_input(
                    "signedOn",
                    "Consent follows the explanation: signedOn is before explainedOn.",
                ));
            }
            if signed_on > today() || explained_on > today() {
                return Err(ApiError::bad_input(
                    "signedOn",
                    "Explanation and consent cannot be dated in the future.",
                ));
            }
            record.explained_on = Some(Date(explained_on));
            record.explained_by = Some(super::required_text("explainedBy", &explained_by, 100)?);
            record.consent_signed_by = Some(super::required_text("signedBy", &signed_by, 100)?);
            record.consent_signed_on = Some(Date(signed_on));
            record.consent_method = Some(super::required_text("method", &method, 50)?);
        }
        PlanChange::Activate { activated_on } => {
            if p.status != PlanStatus::Proposed {
                return Err(wrong_state("activated"));
            }
            if record.consent_signed_on.is_none() {
                return Err(ApiError::bad_input(
                    "planId",
                    "Record the client's written consent before activating the plan.",
                ));
            }
            let activated_on = activated_on.unwrap_or_else(today);
            let consented = record.consent_signed_on.map(|d| d.0);
            if consented.is_some_and(|c| activated_on < c) || activated_on > today() {
                return Err(ApiError::bad_input(
                    "effectiveOn",
                    "A plan comes into force between the day of consent and today.",
                ));
            }
            am.status = Set(PlanStatus::Active);
            am.activated_on = Set(Some(activated_on));
            superseded = support_plan::Entity::find()
                .filter(support_plan::Column::ClientId.eq(p.client_id))
                .filter(support_plan::Column::Kind.eq(p.kind))
                .filter(support_plan::Column::OrganizationId.eq(p.organization_id))
                .filter(support_plan::Column::Status.eq(PlanStatus::Active))
                .one(&txn)
                .await?;
        }
        PlanChange::RecordDelivery {
            recipient,
            delivered_on,
        } => {
            let d = NewDelivery {
                recipient,
                delivered_on,
                organization_id: None,
                received_by: None,
            };
            record
                .deliveries
                .push(delivery::check(&txn, &p, d, wrong_state).await?);
        }
        PlanChange::RecordNamedDelivery(d) => {
            record
                .deliveries
                .push(delivery::check(&txn, &p, d, wrong_state).await?);
        }
        PlanChange::End => {
            if p.status != PlanStatus::Active {
                return Err(wrong_state("ended"));
            }
            am.status = Set(PlanStatus::Ended);
        }
    }
    am.record = Set(to_json(&record)?);
    am.version = Set(p.version + 1);
    am.updated_by_staff_member_id = Set(viewer.staff_member_id);
    am.updated_at = Set(super::now());
    let model = am.update(&txn).await?;
    // Both updates come before the version rows: the outbox append that ends each
    // `write_version` must be the transaction's last lock (see `outbox`).
    let superseded = match superseded {
        Some(old) => {
            let mut am = old.clone().into_active_model();
            am.status = Set(PlanStatus::Superseded);
            am.version = Set(old.version + 1);
            am.updated_by_staff_member_id = Set(viewer.staff_member_id);
            am.updated_at = Set(super::now());
            Some(am.update(&txn).await?)
        }
        None => None,
    };
    write_version(&txn, viewer, &model).await?;
    if let Some(old) = superseded {
        write_version(&txn, viewer, &old).await?;
    }
    txn.commit().await?;
    Ok(model)
}

fn status_word(s: PlanStatus) -> &'static str {
    match s {
        PlanStatus::Draft => "draft",
        PlanStatus::Proposed => "proposed",
        PlanStatus::Active => "active",
        PlanStatus::Superseded => "superseded",
        PlanStatus::Ended => "ended",
    }
}

/// One plan the viewer may see.
pub async fn get(state: &Ctx, viewer: &Viewer, id: Uuid) -> ApiResult<support_plan::Model> {
    let p = support_plan::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("Support plan"))?;
    let scope = Scope::for_client(&state.db, viewer, p.client_id).await?;
    if !scope.can_see_record(p.client_id, facts(&p)) {
        return Err(ApiError::NotFound("Support plan"));
    }
    state
        .read_audits
        .record(
            viewer,
            entity::read_audit::ReadOperation::Plans,
            vec![(Some(p.client_id), vec![p.id])],
        )
        .await?;
    Ok(p)
}

/// The plans of clients the scope may see, newest first, at most 100 each (one query).
pub async fn of_clients(
    db: &impl ConnectionTrait,
    scope: &Scope,
    clients: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<support_plan::Model>>> {
    use sea_orm::QueryOrder;
    let plans = support_plan::Entity::find()
        .filter(support_plan::Column::ClientId.is_in(clients.iter().copied()))
        .order_by_desc(support_plan::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .filter(|p| scope.can_see_record(p.client_id, facts(p)))
        .collect();
    Ok(super::capped(super::group_by(plans, |p| p.client_id)))
}

/// The client of each plan (one query; callers have checked visibility through the plan).
pub async fn clients_of(db: &impl ConnectionTrait, ids: &[Uuid]) -> ApiResult<HashMap<Uuid, Uuid>> {
    let plans = support_plan::Entity::find()
        .filter(support_plan::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(plans.into_iter().map(|p| (p.id, p.client_id)).collect())
}

/// Versions of plans by plan id (one query), oldest first.
pub async fn versions(
    db: &impl ConnectionTrait,
    plan_ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<support_plan_version::Model>>> {
    use sea_orm::QueryOrder;
    Ok(super::capped(super::group_by(
        support_plan_version::Entity::find()
            .filter(support_plan_version::Column::PlanId.is_in(plan_ids.iter().copied()))
            .order_by_asc(support_plan_version::Column::Version)
            .all(db)
            .await?,
        |v| v.plan_id,
    )))
}

#[cfg(test)]
mod tests;
