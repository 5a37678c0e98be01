//! The authorization rules, as pure functions over plain values.
//!
//! No I/O and no framework types here: the service layer asks these questions and scopes its
//! queries by the answers; the unit tests below cover every role × organization-kind case.

use entity::{organization::OrganizationKind, staff_member::StaffRole};
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

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Iterable;

    fn viewer(kind: OrganizationKind, role: StaffRole, org: Uuid) -> Viewer {
        Viewer {
            staff_member_id: Uuid::now_v7(),
            organization_id: org,
            organization_kind: kind,
            role,
            session_id: Uuid::now_v7(),
        }
    }

    #[test]
    fn roles_fit_only_their_organization_kind() {
        use OrganizationKind::*;
        use StaffRole::*;
        let expected = [
            (Facility, FacilityStaff, true),
            (Facility, ServiceManager, true),
            (Facility, ConsultationSpecialist, false),
            (Facility, OrgAdmin, true),
            (ConsultationOffice, FacilityStaff, false),
            (ConsultationOffice, ServiceManager, false),
            (ConsultationOffice, ConsultationSpecialist, true),
            (ConsultationOffice, OrgAdmin, true),
        ];
        assert_eq!(
            expected.len(),
            OrganizationKind::iter().count() * StaffRole::iter().count()
        );
        for (kind, role, fits) in expected {
            assert_eq!(role_fits(kind, role), fits, "{kind:?} × {role:?}");
        }
    }

    #[test]
    fn only_an_admin_of_the_same_organization_manages_staff() {
        let own = Uuid::now_v7();
        let other = Uuid::now_v7();
        for kind in OrganizationKind::iter() {
            for role in StaffRole::iter().filter(|r| role_fits(kind, *r)) {
                let v = viewer(kind, role, own);
                assert_eq!(
                    can_manage_staff(&v, own),
                    role == StaffRole::OrgAdmin,
                    "{kind:?} {role:?}"
                );
                assert!(
                    !can_manage_staff(&v, other),
                    "{kind:?} {role:?} must not manage another org"
                );
                assert!(can_list_staff(&v, own));
                assert!(!can_list_staff(&v, other));
            }
        }
    }
}
