//! The policy's unit tests: every rule over every role, organization kind and relation.

mod roles {
    use crate::auth::policy::*;
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
    fn only_current_members_follow_a_clients_events() {
        let rel = |membership| ClientRelation {
            membership,
            consented: BTreeMap::new(),
            registered_by: Uuid::now_v7(),
        };
        assert!(follows_client(&rel(Membership::Current(
            CareRelationship::ServiceProvider
        ))));
        assert!(follows_client(&rel(Membership::Current(
            CareRelationship::Consultation
        ))));
        // A former member still sees the client (its own records) but gets no new events.
        assert!(can_see_client(&rel(Membership::Past)));
        assert!(!follows_client(&rel(Membership::Past)));
        assert!(!follows_client(&rel(Membership::None)));
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

mod client_rules {
    use crate::auth::policy::*;
    use entity::care_team_membership::CareRelationship as R;
    use entity::observation::{ObservationCategory as C, Visibility as V};
    use sea_orm::Iterable;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn rel(
        membership: Membership,
        consented: &[DataCategory],
        registered_by: Uuid,
    ) -> ClientRelation {
        ClientRelation {
            membership,
            consented: consented.iter().map(|c| (*c, None)).collect(),
            registered_by,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        format!("{s}T00:00:00Z").parse().unwrap()
    }

    fn viewer(org: Uuid, kind: OrganizationKind, role: StaffRole) -> Viewer {
        Viewer {
            staff_member_id: Uuid::now_v7(),
            organization_id: org,
            organization_kind: kind,
            role,
            session_id: Uuid::now_v7(),
        }
    }

    #[test]
    fn consent_covers_only_active_consents_for_named_current_members_in_scope() {
        let me = Uuid::now_v7();
        let other = Uuid::now_v7();
        let base = ConsentFacts {
            granted_on: day("2026-04-01"),
            expires_on: Some(day("2027-03-31")),
            revoked: false,
            recipients: vec![me],
            covers_future_members: false,
            includes_earlier_records: true,
            recorded_at: at("2026-04-02"),
            categories: vec![DataCategory::Observations],
        };
        let member = MemberFacts {
            start_date: day("2026-01-10"),
            added_at: at("2026-01-10"),
            objected: false,
        };
        let today = day("2026-11-24");
        let covers =
            |c: &ConsentFacts, org, m: Option<&MemberFacts>, on| consent_covers(c, org, m, on);
        assert_eq!(
            covers(&base, me, Some(&member), today),
            vec![(DataCategory::Observations, None)]
        );
        assert!(
            covers(&base, me, None, today).is_empty(),
            "former members are not covered"
        );
        let revoked = ConsentFacts {
            revoked: true,
            ..base.clone()
        };
        assert!(covers(&revoked, me, Some(&member), today).is_empty());
        assert!(
            covers(&base, me, Some(&member), day("2027-04-01")).is_empty(),
            "expired"
        );
        assert!(
            covers(&base, me, Some(&member), day("2026-03-31")).is_empty(),
            "not yet granted"
        );
        assert!(
            covers(&base, other, Some(&member), today).is_empty(),
            "not a named recipient"
        );
        let objected = MemberFacts {
            objected: true,
            ..member
        };
        assert!(
            covers(&base, me, Some(&objected), today).is_empty(),
            "an open objection suspends sharing"
        );
    }

    /// A coordinator cannot widen a consent by adding an organization to the team: only a
    /// consent that names it, or covers future members, shares with it, and from its first day
    /// unless the consent includes earlier records.
    #[test]
    fn consent_does_not_widen_with_the_care_team() {
        let named = Uuid::now_v7();
        let newcomer = Uuid::now_v7();
        let today = day("2026-11-24");
        let consent = ConsentFacts {
            granted_on: day("2026-04-01"),
            expires_on: None,
            revoked: false,
            recipients: vec![named],
            covers_future_members: false,
            includes_earlier_records: false,
            recorded_at: at("2026-04-02"),
            categories: vec![DataCategory::Observations, DataCategory::Plans],
        };
        let joined_later = MemberFacts {
            start_date: day("2026-11-01"),
            added_at: at("2026-10-30"),
            objected: false,
        };
        assert!(consent_covers(&consent, newcomer, Some(&joined_later), today).is_empty());
        // Named: from its first day only.
        let named_member = MemberFacts {
            start_date: day("2026-03-01"),
            added_at: at("2026-03-01"),
            objected: false,
        };
        assert_eq!(
            consent_covers(&consent, named, Some(&named_member), today),
            vec![
                (DataCategory::Observations, Some(day("2026-03-01"))),
                (DataCategory::Plans, Some(day("2026-03-01")))
            ]
        );
        // Future members, when the client said so; added before the consent is not "future".
        let future = ConsentFacts {
            covers_future_members: true,
            ..consent.clone()
        };
        assert_eq!(
            consent_covers(&future, newcomer, Some(&joined_later), today).len(),
            2
        );
        let added_before = MemberFacts {
            added_at: at("2026-03-15"),
            ..joined_later
        };
        assert!(consent_covers(&future, newcomer, Some(&added_before), today).is_empty());
        // Earlier records when the consent includes them.
        let earlier = ConsentFacts {
            includes_earlier_records: true,
            ..future
        };
        assert_eq!(
            consent_covers(&earlier, newcomer, Some(&joined_later), today),
            vec![
                (DataCategory::Observations, None),
                (DataCategory::Plans, None)
            ]
        );
        // Two consents add up to the wider share.
        let mut shares = BTreeMap::new();
        add_shares(
            &mut shares,
            [(DataCategory::Plans, Some(day("2026-11-01")))],
        );
        add_shares(&mut shares, [(DataCategory::Plans, None)]);
        add_shares(
            &mut shares,
            [(DataCategory::Observations, Some(day("2026-11-01")))],
        );
        add_shares(
            &mut shares,
            [(DataCategory::Observations, Some(day("2026-10-01")))],
        );
        assert_eq!(shares[&DataCategory::Plans], None);
        assert_eq!(shares[&DataCategory::Observations], Some(day("2026-10-01")));
        // What the share means for records: from the first day on.
        let rel = ClientRelation {
            membership: Membership::Current(R::ServiceProvider),
            consented: shares,
            registered_by: named,
        };
        assert!(rel.shares_record(DataCategory::Observations, day("2026-10-01")));
        assert!(!rel.shares_record(DataCategory::Observations, day("2026-09-30")));
        assert!(rel.shares_record(DataCategory::Plans, day("2020-01-01")));
        assert!(!rel.shares_record(DataCategory::Meetings, day("2026-11-20")));
    }

    #[test]
    fn objections_come_from_coordinators_of_other_members() {
        let me = Uuid::now_v7();
        let newcomer = Uuid::now_v7();
        let current = rel(Membership::Current(R::Consultation), &[], me);
        let specialist = viewer(
            me,
            OrganizationKind::ConsultationOffice,
            StaffRole::ConsultationSpecialist,
        );
        assert!(can_object_to_member(&specialist, &current, newcomer));
        assert!(
            !can_object_to_member(&specialist, &current, me),
            "not to itself"
        );
        let staff = viewer(me, OrganizationKind::Facility, StaffRole::FacilityStaff);
        assert!(!can_object_to_member(
            &staff,
            &rel(Membership::Current(R::ServiceProvider), &[], me),
            newcomer
        ));
        assert!(!can_object_to_member(
            &specialist,
            &rel(Membership::Past, &[], me),
            newcomer
        ));
    }

    /// The full matrix: membership × consent × writer × visibility × category.
    #[test]
    fn observation_visibility_matrix() {
        let me = Uuid::now_v7();
        let other = Uuid::now_v7();
        let memberships = [
            Membership::None,
            Membership::Past,
            Membership::Current(R::ServiceProvider),
            Membership::Current(R::Consultation),
        ];
        for membership in memberships {
            for consent in [false, true] {
                let cats: &[DataCategory] = if consent {
                    &[DataCategory::Observations]
                } else {
                    &[]
                };
                let r = rel(membership, cats, other);
                for writer in [me, other] {
                    for visibility in V::iter() {
                        for category in C::iter() {
                            let seen = can_see_observation(
                                me,
                                &r,
                                RecordFacts {
                                    organization_id: writer,
                                    visibility,
                                    category,
                                    on: day("2026-11-20"),
                                },
                            );
                            let expected = match membership {
                                Membership::None => false,
                                _ if writer == me => true,
                                Membership::Past => false,
                                Membership::Current(rel) => {
                                    let reaches = visibility == V::CareTeam
                                        || (visibility == V::Consultation
                                            && rel == R::Consultation);
                                    reaches
                                        && (consent
                                            || (rel == R::Consultation
                                                && category == C::Safeguarding))
                                }
                            };
                            assert_eq!(
                                seen,
                                expected,
                                "{membership:?} consent={consent} own={} {visibility:?} {category:?}",
                                writer == me
                            );
                        }
                    }
                }
            }
        }
    }

    /// Non-observation records: consent category or none, and the same reach rules.
    #[test]
    fn record_visibility_by_data_category() {
        let me = Uuid::now_v7();
        let other = Uuid::now_v7();
        let plans = rel(
            Membership::Current(R::ServiceProvider),
            &[DataCategory::Plans],
            other,
        );
        let nothing = rel(Membership::Current(R::ServiceProvider), &[], other);
        let office = rel(Membership::Current(R::Consultation), &[], other);
        let rec = |data, visibility, safeguarding| AnyRecordFacts {
            organization_id: other,
            visibility,
            data,
            safeguarding,
            on: day("2026-11-20"),
        };
        assert!(can_see_record(
            me,
            &plans,
            rec(Some(DataCategory::Plans), V::CareTeam, false)
        ));
        assert!(!can_see_record(
            me,
            &plans,
            rec(Some(DataCategory::Meetings), V::CareTeam, false)
        ));
        assert!(!can_see_record(
            me,
            &plans,
            rec(Some(DataCategory::Plans), V::Consultation, false)
        ));
        assert!(!can_see_record(
            me,
            &nothing,
            rec(Some(DataCategory::Plans), V::CareTeam, false)
        ));
        assert!(
            can_see_record(me, &nothing, rec(None, V::CareTeam, false)),
            "coordination data needs no consent"
        );
        assert!(!can_see_record(me, &nothing, rec(None, V::Internal, false)));
        assert!(can_see_record(
            me,
            &office,
            rec(Some(DataCategory::Observations), V::Consultation, true)
        ));
        assert!(
            !can_see_record(
                me,
                &nothing,
                rec(Some(DataCategory::Observations), V::CareTeam, true)
            ),
            "safeguarding bypass is for the office only"
        );
        let former = rel(Membership::Past, &[DataCategory::Plans], other);
        assert!(!can_see_record(me, &former, rec(None, V::CareTeam, false)));
        assert!(can_see_record(
            me,
            &former,
            AnyRecordFacts {
                organization_id: me,
                ..rec(None, V::Internal, false)
            }
        ));
    }

    #[test]
    fn plan_and_meeting_authors() {
        let org = Uuid::now_v7();
        let office = rel(Membership::Current(R::Consultation), &[], org);
        let provider = rel(Membership::Current(R::ServiceProvider), &[], org);
        let past = rel(Membership::Past, &[], org);
        let v = |kind, role| viewer(org, kind, role);
        let specialist = v(
            OrganizationKind::ConsultationOffice,
            StaffRole::ConsultationSpecialist,
        );
        let manager = v(OrganizationKind::Facility, StaffRole::ServiceManager);
        let staff = v(OrganizationKind::Facility, StaffRole::FacilityStaff);
        assert!(can_write_service_use_plan(&specialist, &office));
        assert!(!can_write_service_use_plan(&specialist, &past));
        assert!(!can_write_service_use_plan(&manager, &provider));
        assert!(can_write_individual_plan(&manager, &provider));
        assert!(!can_write_individual_plan(&staff, &provider));
        assert!(!can_write_individual_plan(&manager, &past));
        assert!(can_host_meeting(&specialist, &office) && can_host_meeting(&manager, &provider));
        assert!(!can_host_meeting(&staff, &provider));
    }

    #[test]
    fn profile_needs_authorship_or_consent() {
        let me = Uuid::now_v7();
        let other = Uuid::now_v7();
        assert!(can_see_profile(
            me,
            &rel(Membership::Current(R::ServiceProvider), &[], me)
        ));
        assert!(can_see_profile(me, &rel(Membership::Past, &[], me)));
        assert!(!can_see_profile(
            me,
            &rel(Membership::None, &[DataCategory::Profile], me)
        ));
        assert!(!can_see_profile(
            me,
            &rel(
                Membership::Current(R::Consultation),
                &[DataCategory::Observations],
                other
            )
        ));
        assert!(can_see_profile(
            me,
            &rel(
                Membership::Current(R::Consultation),
                &[DataCategory::Profile],
                other
            )
        ));
        assert!(!can_see_profile(
            me,
            &rel(Membership::Past, &[DataCategory::Profile], other)
        ));
        assert!(!can_see_client(&rel(Membership::None, &[], other)));
        assert!(can_see_client(&rel(Membership::Past, &[], other)));
    }

    #[test]
    fn mutation_rules_by_role_and_membership() {
        let org = Uuid::now_v7();
        let current = rel(Membership::Current(R::ServiceProvider), &[], org);
        let past = rel(Membership::Past, &[], org);
        for kind in OrganizationKind::iter() {
            for role in StaffRole::iter().filter(|r| role_fits(kind, *r)) {
                let v = viewer(org, kind, role);
                let coordinator = role != StaffRole::FacilityStaff;
                assert_eq!(can_register_client(&v), coordinator, "{role:?}");
                assert_eq!(can_coordinate_client(&v, &current), coordinator, "{role:?}");
                assert!(!can_coordinate_client(&v, &past));
                assert!(can_record_observation(&current));
                assert!(!can_record_observation(&past));
                // Own observation: always amendable while current.
                assert!(can_amend_observation(&v, &current, org, v.staff_member_id));
                assert!(!can_amend_observation(&v, &past, org, v.staff_member_id));
                // A colleague's: managers and admins only. Another organization's: never.
                let colleague = Uuid::now_v7();
                assert_eq!(
                    can_amend_observation(&v, &current, org, colleague),
                    matches!(role, StaffRole::ServiceManager | StaffRole::OrgAdmin)
                );
                assert!(!can_amend_observation(
                    &v,
                    &current,
                    Uuid::now_v7(),
                    colleague
                ));
                assert_eq!(
                    can_read_client_access_history(&v, &current),
                    role == StaffRole::OrgAdmin
                );
                assert!(!can_read_client_access_history(&v, &past));
                assert_eq!(can_read_audit_log(&v), role == StaffRole::OrgAdmin);
                assert_eq!(
                    can_use_facility_view(&v),
                    kind == OrganizationKind::Facility
                );
                assert_eq!(
                    can_use_consultation_view(&v),
                    kind == OrganizationKind::ConsultationOffice
                );
            }
        }
        assert!(relationship_fits(
            OrganizationKind::Facility,
            R::ServiceProvider
        ));
        assert!(!relationship_fits(
            OrganizationKind::Facility,
            R::Consultation
        ));
        assert!(relationship_fits(
            OrganizationKind::ConsultationOffice,
            R::Consultation
        ));
        assert!(!relationship_fits(
            OrganizationKind::ConsultationOffice,
            R::ServiceProvider
        ));
    }
}
