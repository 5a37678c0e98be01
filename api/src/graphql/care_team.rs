//! Care-team memberships (支援チーム) and sharing consents (情報共有の同意).

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{care_team_membership as membership, care_team_objection, sharing_consent};

use super::{Organization, context::ContextExt, ids, scalars::Date, staff::StaffMember};
use crate::{
    auth::policy::DataCategory as PolicyCategory,
    service::{self, access::parse_categories},
};

/// How an organization takes part in a client's support.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::care_team_membership::CareRelationship")]
pub enum CareRelationship {
    /// Provides a service to the client (サービス提供事業所).
    ServiceProvider,
    /// The client's consultation office (計画相談支援を担う相談支援事業所).
    Consultation,
}

/// What a sharing consent covers (同意の対象となる情報). Each value lists the record types it
/// covers; a test checks every record type against this list. Records that coordinate the team
/// (`CareTeamMember`, `SharingConsent`, a `Meeting`'s invitation and schedule) need no consent:
/// every current member sees them.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::auth::policy::DataCategory")]
pub enum DataCategory {
    /// Profile (基本情報): the client's wishes, family contacts, recipient certificates and
    /// support category (`Client` profile fields, `RecipientCertificate`).
    Profile,
    /// Daily records (支援記録): `Observation`.
    Observations,
    /// Support plans and their monitoring (計画・モニタリング): `SupportPlan`, `SupportPlanVersion`
    /// and `MonitoringReport`. A monitoring report evaluates the service-use plan goal by goal and
    /// decides whether it must change, so it travels with the plan.
    Plans,
    /// Meeting records and briefs (会議録・事前共有): a `Meeting`'s minutes and the facilities'
    /// three-point briefs (`MeetingBrief`).
    Meetings,
    /// Physical restraint records (身体拘束等の記録): `RestraintRecord`. Shared only under a
    /// consent that names this category; an abuse concern (虐待) stays a `SAFEGUARDING`
    /// observation, which reaches the consultation office by legal duty.
    Restraints,
    /// Accident and near-miss reports (事故・ヒヤリハット報告): `AccidentReport`.
    Accidents,
    /// Complaint records (苦情の記録): `ComplaintRecord`.
    Complaints,
}

/// Who signed a consent.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum SignerRelationship {
    /// The client (本人).
    Client,
    /// A legal guardian (成年後見人等).
    Guardian,
    /// A family member (家族).
    Family,
    /// Someone else (その他の代理人).
    Other,
}

impl SignerRelationship {
    fn as_str(self) -> &'static str {
        match self {
            Self::Client => "CLIENT",
            Self::Guardian => "GUARDIAN",
            Self::Family => "FAMILY",
            Self::Other => "OTHER",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "CLIENT" => Self::Client,
            "GUARDIAN" => Self::Guardian,
            "FAMILY" => Self::Family,
            _ => Self::Other,
        }
    }
}

/// One organization's membership in a client's care team.
pub(crate) struct CareTeamMember(pub membership::Model);

/// Care-team membership (支援チームへの参加): an organization, its relationship and its period.
#[Object]
impl CareTeamMember {
    /// Opaque global id.
    async fn id(&self) -> ID {
        ids::encode("CareTeamMember", self.0.id)
    }
    /// The member organization.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        Organization::load(ctx, self.0.organization_id).await
    }
    /// Service provider or consultation office.
    async fn relationship(&self) -> CareRelationship {
        self.0.relationship.into()
    }
    /// The service provided (サービス種別), for service providers.
    async fn service_type(&self) -> Option<&str> {
        self.0.service_type.as_deref()
    }
    /// First day of the membership (利用開始日).
    async fn start_date(&self) -> Date {
        Date(self.0.start_date)
    }
    /// Last day of the membership (利用終了日); null while ongoing.
    async fn end_date(&self) -> Option<Date> {
        self.0.end_date.map(Date)
    }
    /// True when the membership covers today.
    async fn current(&self) -> bool {
        self.0.is_current_on(service::access::today())
    }
    /// When it was added to the team (追加日時): a consent covers members added after it was
    /// recorded only when it covers future members.
    async fn added_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// What the consents in force share with this member today (同意に基づく共有範囲), per
    /// category with the first day of the records shared. Empty when no consent names it (nor
    /// covers future members), when it is not a current member, or while an objection to its
    /// addition is open: it then sees only its own records and the team's coordination data.
    async fn consent_shares(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ConsentShare>> {
        let loaders = ctx.loaders()?;
        let (consents, objections) = futures_util::try_join!(
            loaders.consents.load_one(self.0.client_id),
            loaders.care_team_objections.load_one(self.0.client_id)
        )?;
        let shares = service::care_team::shares_with(
            &self.0,
            &consents.unwrap_or_default(),
            &objections.unwrap_or_default(),
        );
        Ok(shares
            .into_iter()
            .map(|(category, from)| ConsentShare {
                category: category.into(),
                records_from: from.map(Date),
            })
            .collect())
    }
    /// Objections other members raised to this organization's addition (異議), oldest first,
    /// open and withdrawn.
    async fn objections(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CareTeamObjection>> {
        let list = ctx
            .loaders()?
            .care_team_objections
            .load_one(self.0.client_id)
            .await?
            .unwrap_or_default();
        Ok(list
            .into_iter()
            .filter(|o| o.membership_id == self.0.id)
            .map(CareTeamObjection)
            .collect())
    }
}

/// One category a consent shares with a care-team member (同意に基づく共有).
#[derive(SimpleObject)]
pub(super) struct ConsentShare {
    /// The category shared.
    pub category: DataCategory,
    /// The first day of the records shared (the member's first day on the team); null when the
    /// consent includes earlier records, so every record of the category is shared.
    pub records_from: Option<Date>,
}

/// An objection to an organization's addition to a client's care team.
pub(super) struct CareTeamObjection(pub care_team_objection::Model);

/// Objection (異議) by another member to an organization's addition to the care team: while it
/// is open, no consent shares records with that organization. Withdrawn, never deleted.
#[Object]
impl CareTeamObjection {
    /// Opaque global id.
    async fn id(&self) -> ID {
        ids::encode("CareTeamObjection", self.0.id)
    }
    /// The organization that objected.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        Organization::load(ctx, self.0.organization_id).await
    }
    /// The staff member who objected.
    async fn raised_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<StaffMember>> {
        Ok(ctx
            .loaders()?
            .staff_members
            .load_one(self.0.staff_member_id)
            .await?
            .map(StaffMember::new))
    }
    /// Why (理由).
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    /// When it was raised.
    async fn raised_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it was withdrawn; null while open.
    async fn withdrawn_at(&self) -> Option<DateTime<Utc>> {
        self.0.withdrawn_at
    }
}

/// A sharing consent (情報共有の同意).
pub(crate) struct SharingConsent(pub sharing_consent::Model);

/// Sharing consent (情報共有の同意): the client's or guardian's written consent to share
/// special-care personal information with the care team. Revocation is dated; nothing is deleted.
#[Object]
impl SharingConsent {
    /// Opaque global id.
    async fn id(&self) -> ID {
        ids::encode("SharingConsent", self.0.id)
    }
    /// Name of the person who signed (署名者).
    async fn granted_by(&self) -> &str {
        &self.0.granted_by
    }
    /// The signer's relationship to the client.
    async fn signer_relationship(&self) -> SignerRelationship {
        SignerRelationship::parse(&self.0.signer_relationship)
    }
    /// Date of signature (同意日).
    async fn granted_on(&self) -> Date {
        Date(self.0.granted_on)
    }
    /// The organizations the client consented to share with (提供先), by name. A consent
    /// recorded without naming any names the organizations on the care team that day; it does
    /// not follow the team as it changes.
    async fn recipient_organizations(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<Organization>> {
        let uuids = self
            .0
            .recipient_organization_ids
            .as_ref()
            .map(crate::service::json_uuids)
            .unwrap_or_default();
        let found = ctx
            .loaders()?
            .organizations
            .load_many(uuids.iter().copied())
            .await?;
        Ok(uuids
            .iter()
            .filter_map(|id| found.get(id).cloned().map(Organization))
            .collect())
    }
    /// The client also consented to organizations that join the care team later (今後加わる
    /// 事業所への提供への同意); otherwise a new member needs a consent that names it.
    async fn covers_future_members(&self) -> bool {
        self.0.covers_future_members
    }
    /// Recipients also receive records from before their first day on the team (加入前の記録の
    /// 提供への同意); otherwise each receives records from its first day on.
    async fn includes_earlier_records(&self) -> bool {
        self.0.includes_earlier_records
    }
    /// What may be shared.
    async fn data_categories(&self) -> Vec<DataCategory> {
        parse_categories(&self.0.data_categories)
            .into_iter()
            .map(Into::into)
            .collect()
    }
    /// Last day of validity (有効期限); null when open-ended.
    async fn expires_on(&self) -> Option<Date> {
        self.0.expires_on.map(Date)
    }
    /// Where the signed document is kept (同意書の保管場所・番号).
    async fn document_reference(&self) -> Option<&str> {
        self.0.document_reference.as_deref()
    }
    /// Date of revocation (撤回日); null while in force.
    async fn revoked_on(&self) -> Option<Date> {
        self.0.revoked_on.map(Date)
    }
    /// Why it was revoked.
    async fn revocation_note(&self) -> Option<&str> {
        self.0.revocation_note.as_deref()
    }
    /// The staff member who recorded it.
    async fn recorded_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<StaffMember>> {
        Ok(ctx
            .loaders()?
            .staff_members
            .load_one(self.0.recorded_by_staff_member_id)
            .await?
            .map(StaffMember::new))
    }
}

/// Input of `addCareTeamMember`.
#[derive(InputObject)]
pub(super) struct AddCareTeamMemberInput {
    /// The client's global id.
    pub client_id: ID,
    /// The organization to add (not your own).
    pub organization_id: ID,
    /// Its relationship; must fit the organization's kind.
    pub relationship: CareRelationship,
    /// For a service provider: the service (default: its first service type).
    pub service_type: Option<String>,
    /// First day (default: today).
    pub start_date: Option<Date>,
}

/// Result of membership changes.
#[derive(SimpleObject)]
pub(super) struct CareTeamMemberPayload {
    /// The membership after the change.
    pub care_team_member: CareTeamMember,
}

/// Input of `endCareTeamMembership`.
#[derive(InputObject)]
pub(super) struct EndCareTeamMembershipInput {
    /// The membership's global id.
    pub care_team_member_id: ID,
    /// Last day of the membership (default: today).
    pub end_date: Option<Date>,
}

/// Input of `objectToCareTeamMember`.
#[derive(InputObject)]
pub(super) struct ObjectToCareTeamMemberInput {
    /// The membership's global id.
    pub care_team_member_id: ID,
    /// Why (e.g. 本人の同意を確認していない).
    pub reason: String,
}

/// Input of `withdrawCareTeamObjection`.
#[derive(InputObject)]
pub(super) struct WithdrawCareTeamObjectionInput {
    /// The objection's global id.
    pub objection_id: ID,
}

/// Result of objection changes.
#[derive(SimpleObject)]
pub(super) struct CareTeamObjectionPayload {
    /// The objection after the change.
    pub objection: CareTeamObjection,
    /// The membership objected to.
    pub care_team_member: CareTeamMember,
}

/// Input of `recordSharingConsent`.
#[derive(InputObject)]
pub(super) struct RecordSharingConsentInput {
    /// The client's global id.
    pub client_id: ID,
    /// Name of the person who signed.
    pub granted_by: String,
    /// The signer's relationship to the client.
    pub signer_relationship: SignerRelationship,
    /// Date of signature (not in the future).
    pub granted_on: Date,
    /// The organizations the client consents to share with (提供先); omit to name the
    /// organizations on the care team today. The consent does not follow the team as it changes:
    /// an organization added later is covered only when named here or by `coversFutureMembers`.
    pub recipient_organization_ids: Option<Vec<ID>>,
    /// The client also consents to organizations that join the care team later.
    #[graphql(default)]
    pub covers_future_members: bool,
    /// Recipients also receive records from before their first day on the team.
    #[graphql(default)]
    pub includes_earlier_records: bool,
    /// What may be shared (at least one).
    pub data_categories: Vec<DataCategory>,
    /// Last day of validity.
    pub expires_on: Option<Date>,
    /// Where the signed document is kept.
    pub document_reference: Option<String>,
}

/// Result of consent changes.
#[derive(SimpleObject)]
pub(super) struct SharingConsentPayload {
    /// The consent after the change.
    pub sharing_consent: SharingConsent,
}

/// Input of `revokeSharingConsent`.
#[derive(InputObject)]
pub(super) struct RevokeSharingConsentInput {
    /// The consent's global id.
    pub sharing_consent_id: ID,
    /// Date of revocation (default: today). Sharing stops at once either way.
    pub revoked_on: Option<Date>,
    /// Why (e.g. 本人の申し出).
    pub note: Option<String>,
}

#[derive(Default)]
pub(super) struct CareTeamMutation;

#[Object]
impl CareTeamMutation {
    /// Adds another organization to a client's care team. Coordinators (service managers,
    /// specialists, admins) of a current member only; nobody adds their own organization. This
    /// does not widen any consent: the new member receives shared records only under a consent
    /// that names it or covers future members (see `CareTeamMember.consentShares`). Every member
    /// is notified (`CARE_TEAM_CHANGED`) and may object (`objectToCareTeamMember`).
    async fn add_care_team_member(
        &self,
        ctx: &Context<'_>,
        input: AddCareTeamMemberInput,
    ) -> async_graphql::Result<CareTeamMemberPayload> {
        let viewer = ctx.viewer()?;
        let new = service::care_team::NewMembership {
            client_id: ids::decode("Client", "clientId", &input.client_id)?,
            organization_id: ids::decode("Organization", "organizationId", &input.organization_id)?,
            relationship: input.relationship.into(),
            service_type: input.service_type,
            start_date: input.start_date.map(|d| d.0),
        };
        let model = service::care_team::add(ctx.state()?, viewer, new).await?;
        Ok(CareTeamMemberPayload {
            care_team_member: CareTeamMember(model),
        })
    }

    /// Ends a care-team membership. The organization keeps its own records but sees no one
    /// else's after the membership's last day (`endDate`, default today).
    async fn end_care_team_membership(
        &self,
        ctx: &Context<'_>,
        input: EndCareTeamMembershipInput,
    ) -> async_graphql::Result<CareTeamMemberPayload> {
        let viewer = ctx.viewer()?;
        let id = ids::decode(
            "CareTeamMember",
            "careTeamMemberId",
            &input.care_team_member_id,
        )?;
        let model =
            service::care_team::end(ctx.state()?, viewer, id, input.end_date.map(|d| d.0)).await?;
        Ok(CareTeamMemberPayload {
            care_team_member: CareTeamMember(model),
        })
    }

    /// Objects to an organization's addition to the care team (異議): until the objection is
    /// withdrawn, no consent shares records with it. Coordinators of another current member
    /// (the consultation office among them); every member is notified (`CARE_TEAM_CHANGED`).
    async fn object_to_care_team_member(
        &self,
        ctx: &Context<'_>,
        input: ObjectToCareTeamMemberInput,
    ) -> async_graphql::Result<CareTeamObjectionPayload> {
        let viewer = ctx.viewer()?;
        let id = ids::decode(
            "CareTeamMember",
            "careTeamMemberId",
            &input.care_team_member_id,
        )?;
        let (member, objection) =
            service::care_team::object(ctx.state()?, viewer, id, input.reason).await?;
        Ok(CareTeamObjectionPayload {
            objection: CareTeamObjection(objection),
            care_team_member: CareTeamMember(member),
        })
    }

    /// Withdraws an objection: coordinators of the organization that raised it.
    async fn withdraw_care_team_objection(
        &self,
        ctx: &Context<'_>,
        input: WithdrawCareTeamObjectionInput,
    ) -> async_graphql::Result<CareTeamObjectionPayload> {
        let viewer = ctx.viewer()?;
        let id = ids::decode("CareTeamObjection", "objectionId", &input.objection_id)?;
        let (member, objection) =
            service::care_team::withdraw_objection(ctx.state()?, viewer, id).await?;
        Ok(CareTeamObjectionPayload {
            objection: CareTeamObjection(objection),
            care_team_member: CareTeamMember(member),
        })
    }

    /// Records a signed sharing consent. Coordinators of a current care-team member.
    async fn record_sharing_consent(
        &self,
        ctx: &Context<'_>,
        input: RecordSharingConsentInput,
    ) -> async_graphql::Result<SharingConsentPayload> {
        let viewer = ctx.viewer()?;
        let recipients = match input.recipient_organization_ids {
            None => None,
            Some(list) => Some(
                list.iter()
                    .map(|id| ids::decode("Organization", "recipientOrganizationIds", id))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let new = service::consents::NewConsent {
            client_id: ids::decode("Client", "clientId", &input.client_id)?,
            granted_by: input.granted_by,
            signer_relationship: input.signer_relationship.as_str().to_owned(),
            granted_on: input.granted_on.0,
            recipient_organization_ids: recipients,
            covers_future_members: input.covers_future_members,
            includes_earlier_records: input.includes_earlier_records,
            data_categories: input
                .data_categories
                .into_iter()
                .map(PolicyCategory::from)
                .collect(),
            expires_on: input.expires_on.map(|d| d.0),
            document_reference: input.document_reference,
        };
        let model = service::consents::record(ctx.state()?, viewer, new).await?;
        Ok(SharingConsentPayload {
            sharing_consent: SharingConsent(model),
        })
    }

    /// Revokes a sharing consent: other organizations stop seeing the covered records at once.
    async fn revoke_sharing_consent(
        &self,
        ctx: &Context<'_>,
        input: RevokeSharingConsentInput,
    ) -> async_graphql::Result<SharingConsentPayload> {
        let viewer = ctx.viewer()?;
        let id = ids::decode(
            "SharingConsent",
            "sharingConsentId",
            &input.sharing_consent_id,
        )?;
        let model = service::consents::revoke(
            ctx.state()?,
            viewer,
            id,
            input.revoked_on.map(|d| d.0),
            input.note,
        )
        .await?;
        Ok(SharingConsentPayload {
            sharing_consent: SharingConsent(model),
        })
    }
}
