//! Who may write and read statutory records (身体拘束等・事故・苦情): pure rules beside
//! [`super::policy`], which decides who may *see* each record (by its own consent category).

use entity::{care_team_membership::CareRelationship, staff_member::StaffRole};

use super::{
    Viewer,
    policy::{ClientRelation, Membership, coordinates},
};

/// Recording a restraint or an accident: any staff of a facility that serves the client today.
/// Both happen while a service is provided, so only a current service provider records them.
pub fn can_record_at_facility(rel: &ClientRelation) -> bool {
    rel.membership == Membership::Current(CareRelationship::ServiceProvider)
}

/// Recording a complaint: any staff of a current care-team member (a consultation office
/// receives complaints too).
pub fn can_record_complaint(rel: &ClientRelation) -> bool {
    matches!(rel.membership, Membership::Current(_))
}

/// The audit summary (実地指導用の集計) of an organization's own statutory records: its
/// coordinators (service manager, consultation specialist, admin), not every staff member.
pub fn can_read_statutory_summary(viewer: &Viewer) -> bool {
    coordinates(viewer.role)
}

/// Resolving a complaint: its recorder, or a service manager or admin of the recording
/// organization (the 苦情解決責任者 is usually the manager), while a current member.
pub fn can_resolve_complaint(
    viewer: &Viewer,
    rel: &ClientRelation,
    organization_id: uuid::Uuid,
    recorder: uuid::Uuid,
) -> bool {
    matches!(rel.membership, Membership::Current(_))
        && viewer.organization_id == organization_id
        && (viewer.staff_member_id == recorder
            || matches!(
                viewer.role,
                StaffRole::ServiceManager | StaffRole::OrgAdmin | StaffRole::ConsultationSpecialist
            ))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use entity::organization::OrganizationKind;
    use sea_orm::Iterable;
    use uuid::Uuid;

    use super::*;

    fn rel(membership: Membership) -> ClientRelation {
        ClientRelation {
            membership,
            consented: BTreeMap::new(),
            registered_by: Uuid::now_v7(),
        }
    }

    fn viewer(role: StaffRole, org: Uuid) -> Viewer {
        Viewer {
            staff_member_id: Uuid::now_v7(),
            organization_id: org,
            organization_kind: OrganizationKind::Facility,
            role,
            session_id: Uuid::now_v7(),
        }
    }

    #[test]
    fn statutory_only_current_providers_record_restraints_and_accidents() {
        use CareRelationship as R;
        assert!(can_record_at_facility(&rel(Membership::Current(
            R::ServiceProvider
        ))));
        for m in [
            Membership::Current(R::Consultation),
            Membership::Past,
            Membership::None,
        ] {
            assert!(!can_record_at_facility(&rel(m)), "{m:?}");
        }
        assert!(can_record_complaint(&rel(Membership::Current(
            R::Consultation
        ))));
        assert!(!can_record_complaint(&rel(Membership::Past)));
        assert!(!can_record_complaint(&rel(Membership::None)));
    }

    #[test]
    fn statutory_summary_and_resolution_need_a_coordinator_or_the_recorder() {
        let org = Uuid::now_v7();
        let current = rel(Membership::Current(CareRelationship::ServiceProvider));
        for role in StaffRole::iter() {
            let v = viewer(role, org);
            assert_eq!(
                can_read_statutory_summary(&v),
                coordinates(role),
                "{role:?}"
            );
            // The recorder resolves its own complaint whatever its role.
            assert!(can_resolve_complaint(&v, &current, org, v.staff_member_id));
            assert_eq!(
                can_resolve_complaint(&v, &current, org, Uuid::now_v7()),
                role != StaffRole::FacilityStaff,
                "{role:?}"
            );
            // Never another organization's, never after leaving the team.
            assert!(!can_resolve_complaint(
                &v,
                &current,
                Uuid::now_v7(),
                v.staff_member_id
            ));
            assert!(!can_resolve_complaint(
                &v,
                &rel(Membership::Past),
                org,
                v.staff_member_id
            ));
        }
    }

    /// Each statutory category is shared by its own consent only, and unlike a safeguarding
    /// observation a restraint record never reaches the office without one.
    #[test]
    fn statutory_records_are_seen_under_their_own_category_only() {
        use chrono::NaiveDate;
        use entity::observation::Visibility;

        use crate::auth::policy::{AnyRecordFacts, DataCategory, can_see_record};

        let me = Uuid::now_v7();
        let writer = Uuid::now_v7();
        let on = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let office = |shared: &[DataCategory]| ClientRelation {
            membership: Membership::Current(CareRelationship::Consultation),
            consented: shared.iter().map(|c| (*c, None)).collect(),
            registered_by: writer,
        };
        let record = |data, visibility| AnyRecordFacts {
            organization_id: writer,
            visibility,
            data: Some(data),
            safeguarding: false,
            on,
        };
        let kinds = [
            DataCategory::Restraints,
            DataCategory::Accidents,
            DataCategory::Complaints,
        ];
        for kind in kinds {
            let rec = record(kind, Visibility::Consultation);
            assert!(
                !can_see_record(me, &office(&[]), rec),
                "{kind:?} without consent"
            );
            assert!(
                !can_see_record(me, &office(&[DataCategory::Observations]), rec),
                "{kind:?} under OBSERVATIONS"
            );
            for other in kinds.iter().filter(|k| **k != kind) {
                assert!(
                    !can_see_record(me, &office(&[*other]), rec),
                    "{kind:?} under {other:?}"
                );
            }
            assert!(can_see_record(me, &office(&[kind]), rec), "{kind:?}");
            // Visibility still limits: INTERNAL stays with the writer even under consent.
            let internal = record(kind, Visibility::Internal);
            assert!(!can_see_record(me, &office(&[kind]), internal));
            assert!(
                can_see_record(writer, &office(&[]), internal),
                "the writer always"
            );
        }
    }
}
