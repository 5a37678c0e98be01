//! The authorization rules, as pure functions over plain values.
//!
//! No I/O and no framework types here: the service layer asks these questions and scopes its
//! queries by the answers; the unit tests below cover every role × organization-kind case.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    care_team_membership::CareRelationship,
    observation::{ObservationCategory, Visibility},
    organization::OrganizationKind,
    staff_member::StaffRole,
};
use uuid::Uuid;

use super::Viewer;

/// Whether a role can exist in an organization of this kind.
pub fn role_fits(kind: OrganizationKind, role: StaffRole) -> bool {
    use OrganizationKind::*;
    use StaffRole::*;
    matches!(
        (kind, role),
        (Facility, FacilityStaff | ServiceManager | OrgAdmin)
            | (ConsultationOffice, ConsultationSpecialist | OrgAdmin)
    )
}

/// Org admins manage (create, deactivate, list) the staff of their own organization only.
pub fn can_manage_staff(viewer: &Viewer, organization_id: Uuid) -> bool {
    viewer.role == StaffRole::OrgAdmin && viewer.organization_id == organization_id
}

/// Staff lists of an organization are visible to that organization's own members.
pub fn can_list_staff(viewer: &Viewer, organization_id: Uuid) -> bool {
    viewer.organization_id == organization_id
}

/// What a sharing consent may cover (同意の範囲). Which records each category covers is decided
/// once, here, from the documents of the law (DOMAIN.md §3): the monitoring report
/// (モニタリング報告書) evaluates the service-use plan goal by goal and decides whether it must
/// change, so it is shared with the plans; the meeting record (会議録) and the facilities'
/// three-point briefs prepare and record meetings. The SDL states the same list per value, and a
/// test checks every record type against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DataCategory {
    /// Wishes, family contacts, certificates, support category.
    Profile,
    /// Daily records (支援記録): observations.
    Observations,
    /// Support plans and their versions, and monitoring reports.
    Plans,
    /// Meeting records (minutes) and three-point briefs.
    Meetings,
    /// Physical restraint records (身体拘束等の記録).
    Restraints,
    /// Accident and near-miss reports (事故・ヒヤリハット).
    Accidents,
    /// Complaint records (苦情の記録).
    Complaints,
}

/// From which day a consent shares a category's records with an organization: `None` shares all
/// of them, `Some(day)` only records of what happened on or after `day` (the organization's first
/// day on the care team, when the consent does not include earlier records).
pub type SharedFrom = Option<NaiveDate>;

/// The more generous of two shares (two consents in force add up).
fn wider(a: SharedFrom, b: SharedFrom) -> SharedFrom {
    match (a, b) {
        (None, _) | (_, None) => None,
        (Some(x), Some(y)) => Some(x.min(y)),
    }
}

/// The viewer organization's membership in a client's care team, today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    /// Never a member: the client does not exist for this organization.
    None,
    /// Was a member; the membership has ended (or not started yet).
    Past,
    /// A member today, in this relationship.
    Current(CareRelationship),
}

/// Everything the rules need to know about one client, from the viewer organization's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRelation {
    pub membership: Membership,
    /// Categories a consent in force shares with the viewer's organization today, each with the
    /// day its records are shared from.
    pub consented: BTreeMap<DataCategory, SharedFrom>,
    /// The organization that registered the client (and so wrote its profile).
    pub registered_by: Uuid,
}

impl ClientRelation {
    /// Whether a consent in force shares the category at all.
    pub fn shares(&self, category: DataCategory) -> bool {
        self.consented.contains_key(&category)
    }

    /// Whether a consent in force shares a record of the category about something that happened
    /// on `on` (JST).
    pub fn shares_record(&self, category: DataCategory, on: NaiveDate) -> bool {
        self.consented
            .get(&category)
            .is_some_and(|from| from.is_none_or(|from| on >= from))
    }
}

/// Adds what one consent shares to what others already do.
pub fn add_shares(
    into: &mut BTreeMap<DataCategory, SharedFrom>,
    covered: impl IntoIterator<Item = (DataCategory, SharedFrom)>,
) {
    for (category, from) in covered {
        into.entry(category)
            .and_modify(|f| *f = wider(*f, from))
            .or_insert(from);
    }
}

/// The parts of a consent the rules look at.
#[derive(Debug, Clone)]
pub struct ConsentFacts {
    pub granted_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub revoked: bool,
    /// The organizations the consent names (the client consents to named parties).
    pub recipients: Vec<Uuid>,
    /// The client also consented to organizations that join the care team later.
    pub covers_future_members: bool,
    /// Recipients also receive records of what happened before their first day on the team.
    pub includes_earlier_records: bool,
    /// When the consent was recorded: an organization added to the team after this is a "future
    /// member" of it.
    pub recorded_at: DateTime<Utc>,
    pub categories: Vec<DataCategory>,
}

/// The viewer organization's current care-team membership, as consent coverage needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberFacts {
    /// Its first day (利用開始日).
    pub start_date: NaiveDate,
    /// When it was added to the team.
    pub added_at: DateTime<Utc>,
    /// Another member objected to its addition and has not withdrawn the objection: nothing is
    /// shared with it under consent until then.
    pub objected: bool,
}

/// What a consent shares with `organization` on `today`: each category with the day its records
/// are shared from (empty when it shares nothing). A consent shares only with current members
/// (`member`), only with organizations it names (or, when the client consented to future
/// members, with organizations added after it was recorded), never while another member's
/// objection to the organization's addition is open, and records from before the organization's
/// first day only when it includes earlier records.
pub fn consent_covers(
    consent: &ConsentFacts,
    organization: Uuid,
    member: Option<&MemberFacts>,
    today: NaiveDate,
) -> Vec<(DataCategory, SharedFrom)> {
    let active = !consent.revoked
        && consent.granted_on <= today
        && consent.expires_on.is_none_or(|e| e >= today);
    let Some(member) = member.filter(|m| !m.objected) else {
        return Vec::new();
    };
    let named = consent.recipients.contains(&organization);
    let future = consent.covers_future_members && member.added_at > consent.recorded_at;
    if !(active && (named || future)) {
        return Vec::new();
    }
    let from = (!consent.includes_earlier_records).then_some(member.start_date);
    consent.categories.iter().map(|c| (*c, from)).collect()
}

/// Whether the client exists for the viewer's organization at all.
pub fn can_see_client(rel: &ClientRelation) -> bool {
    rel.membership != Membership::None
}

/// Whether the organization receives the client's live events (subscriptions, webhooks): current
/// care-team members only. A former member keeps reading its own past records, but what happens
/// to the client from now on is no longer its business.
pub fn follows_client(rel: &ClientRelation) -> bool {
    matches!(rel.membership, Membership::Current(_))
}

/// Details that only the organization a record or person belongs to sees: its own external
/// id (外部ID, the key in its record system), its staff members (as nodes, and their login
/// emails), the internal keys of the records in its audit entries (another organization's keys
/// would reveal records the viewer may not see).
pub fn is_own_organization(viewer_org: Uuid, owner_org: Uuid) -> bool {
    viewer_org == owner_org
}

/// Profile details (wishes, family, certificates): the registering organization always; other
/// current members only with consent. The profile is the client as they are now, not a record of
/// the past: a consent that shares it shares it whole.
pub fn can_see_profile(viewer_org: Uuid, rel: &ClientRelation) -> bool {
    match rel.membership {
        Membership::None => false,
        _ if rel.registered_by == viewer_org => true,
        Membership::Current(_) => rel.shares(DataCategory::Profile),
        Membership::Past => false,
    }
}

/// The parts of a record the visibility rules look at.
#[derive(Debug, Clone, Copy)]
pub struct RecordFacts {
    pub organization_id: Uuid,
    pub visibility: Visibility,
    pub category: ObservationCategory,
    /// The day (JST) what it records happened.
    pub on: NaiveDate,
}

/// The parts of any client record (observation, plan, meeting, brief, report, consent change)
/// the visibility rules look at.
#[derive(Debug, Clone, Copy)]
pub struct AnyRecordFacts {
    pub organization_id: Uuid,
    pub visibility: Visibility,
    /// The consent category that must cover the record; `None`: care-team coordination data
    /// that every current member sees (consent changes, meeting invitations).
    pub data: Option<DataCategory>,
    /// For observations: safeguarding reaches the consultation office without consent.
    pub safeguarding: bool,
    /// The day (JST) what it records happened: a consent that does not include earlier records
    /// shares only what happened from the organization's first day on.
    pub on: NaiveDate,
}

/// Whether the viewer's organization may read a client record of any kind: the writer always
/// (while it is or was on the team); others while current members, when the visibility reaches
/// them and consent covers the record's category (or none is needed), except that safeguarding
/// records reach the consultation office without consent.
pub fn can_see_record(viewer_org: Uuid, rel: &ClientRelation, rec: AnyRecordFacts) -> bool {
    if rel.membership == Membership::None {
        return false;
    }
    if rec.organization_id == viewer_org {
        return true;
    }
    let Membership::Current(relationship) = rel.membership else {
        return false;
    };
    let consultation = relationship == CareRelationship::Consultation;
    let reaches_viewer = match rec.visibility {
        Visibility::Internal => false,
        Visibility::Consultation => consultation,
        Visibility::CareTeam => true,
    };
    // Safeguarding reaches the office by legal duty (abuse prevention), not by consent: neither
    // consent nor the office's first day limits it.
    reaches_viewer
        && (rec.data.is_none_or(|d| rel.shares_record(d, rec.on))
            || (consultation && rec.safeguarding))
}

/// Whether the viewer's organization may read an observation: [`can_see_record`] with the
/// `OBSERVATIONS` category. Consent never blocks the safeguarding path (虐待・身体拘束).
pub fn can_see_observation(viewer_org: Uuid, rel: &ClientRelation, rec: RecordFacts) -> bool {
    can_see_record(
        viewer_org,
        rel,
        AnyRecordFacts {
            organization_id: rec.organization_id,
            visibility: rec.visibility,
            data: Some(DataCategory::Observations),
            safeguarding: rec.category == ObservationCategory::Safeguarding,
            on: rec.on,
        },
    )
}

/// Roles that coordinate a client's support (manage the care team, consents, certificates,
/// register clients).
pub fn coordinates(role: StaffRole) -> bool {
    matches!(
        role,
        StaffRole::ServiceManager | StaffRole::ConsultationSpecialist | StaffRole::OrgAdmin
    )
}

/// Registering a client: coordinators of any organization.
pub fn can_register_client(viewer: &Viewer) -> bool {
    coordinates(viewer.role)
}

/// Changing the care team, consents or certificates: a coordinator of a current member.
pub fn can_coordinate_client(viewer: &Viewer, rel: &ClientRelation) -> bool {
    coordinates(viewer.role) && matches!(rel.membership, Membership::Current(_))
}

/// Whether `relationship` suits an organization of `kind`.
pub fn relationship_fits(kind: OrganizationKind, relationship: CareRelationship) -> bool {
    matches!(
        (kind, relationship),
        (
            OrganizationKind::Facility,
            CareRelationship::ServiceProvider
        ) | (
            OrganizationKind::ConsultationOffice,
            CareRelationship::Consultation
        )
    )
}

/// Recording an observation: any staff of a current member, for their own organization.
pub fn can_record_observation(rel: &ClientRelation) -> bool {
    matches!(rel.membership, Membership::Current(_))
}

/// Amending or marking an observation entered-in-error: its author, or a service manager or
/// admin of the writing organization, while that organization is a current member.
pub fn can_amend_observation(
    viewer: &Viewer,
    rel: &ClientRelation,
    organization_id: Uuid,
    author: Uuid,
) -> bool {
    matches!(rel.membership, Membership::Current(_))
        && viewer.organization_id == organization_id
        && (viewer.staff_member_id == author
            || matches!(viewer.role, StaffRole::ServiceManager | StaffRole::OrgAdmin))
}

/// Writing a service-use plan or a monitoring report: a consultation specialist of the client's
/// current consultation office.
pub fn can_write_service_use_plan(viewer: &Viewer, rel: &ClientRelation) -> bool {
    viewer.role == StaffRole::ConsultationSpecialist
        && rel.membership == Membership::Current(CareRelationship::Consultation)
}

/// Writing an individual support plan or submitting a brief: a service manager of a current
/// service provider.
pub fn can_write_individual_plan(viewer: &Viewer, rel: &ClientRelation) -> bool {
    viewer.role == StaffRole::ServiceManager
        && rel.membership == Membership::Current(CareRelationship::ServiceProvider)
}

/// Objecting to an organization's addition to the care team: a coordinator of another current
/// member (the client's consultation office among them). The organization itself cannot.
pub fn can_object_to_member(viewer: &Viewer, rel: &ClientRelation, member_org: Uuid) -> bool {
    can_coordinate_client(viewer, rel) && viewer.organization_id != member_org
}

/// Scheduling a meeting or recording its minutes: a coordinator of a current member (the
/// consultation specialist for coordination and monitoring meetings, a facility's service
/// manager for its planning meetings).
pub fn can_host_meeting(viewer: &Viewer, rel: &ClientRelation) -> bool {
    can_coordinate_client(viewer, rel)
}

/// Reading a client's access history: an admin of a current member organization.
pub fn can_read_client_access_history(viewer: &Viewer, rel: &ClientRelation) -> bool {
    viewer.role == StaffRole::OrgAdmin && matches!(rel.membership, Membership::Current(_))
}

/// Reading the audit log of an organization's own staff: its admin.
pub fn can_read_audit_log(viewer: &Viewer) -> bool {
    viewer.role == StaffRole::OrgAdmin
}

/// The facility view is for facility staff; the consultation view for consultation specialists
/// (and their admins).
pub fn can_use_facility_view(viewer: &Viewer) -> bool {
    viewer.organization_kind == OrganizationKind::Facility
}

pub fn can_use_consultation_view(viewer: &Viewer) -> bool {
    viewer.organization_kind == OrganizationKind::ConsultationOffice
}

#[cfg(test)]
mod tests;
