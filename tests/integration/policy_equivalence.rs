//! The SQL conditions the service layer filters with (`Scope::observation_condition`,
//! `Scope::timeline_condition`) must say exactly what the pure policy says, record by record.
//! Random worlds of memberships (current, ended, future), consents (active, revoked, expired,
//! named recipients) and observations are written straight into the database, and for every
//! organization the rows SQL returns are compared with the policy applied in Rust.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use entity::{
    care_team_membership::{self, CareRelationship},
    client,
    observation::{self, ObservationCategory, RecordStatus, Visibility},
    organization::{self, OrganizationKind},
    sharing_consent, staff_member, timeline_entry,
};
use kakehashi::{
    auth::{Viewer, policy::DataCategory},
    service::{
        access::{Scope, today},
        timeline::{self, EntryKind},
    },
};
use sea_orm::{ActiveModelTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::helpers::*;

/// A small deterministic generator (the worlds must be reproducible from the seed).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const CATEGORIES: [ObservationCategory; 6] = [
    ObservationCategory::Change,
    ObservationCategory::Stable,
    ObservationCategory::Unstable,
    ObservationCategory::RiskSign,
    ObservationCategory::Routine,
    ObservationCategory::Safeguarding,
];
const VISIBILITIES: [Visibility; 3] = [
    Visibility::Internal,
    Visibility::Consultation,
    Visibility::CareTeam,
];
const DATA: [&str; 4] = ["PROFILE", "OBSERVATIONS", "PLANS", "MEETINGS"];

#[tokio::test]
async fn sql_visibility_equals_the_pure_policy_on_random_worlds() {
    let app = TestApp::spawn().await;
    let db = &app.state.db;
    let orgs = organization::Entity::find().all(db).await.unwrap();
    let staff = staff_member::Entity::find().all(db).await.unwrap();
    let author_of = |org: Uuid| staff.iter().find(|s| s.organization_id == org).unwrap().id;
    let today = today();
    let now = Utc::now();
    let mut checked = 0usize;

    for seed in [7u64, 42, 1234] {
        let mut rng = Rng(seed);
        for _ in 0..12 {
            let client_id = Uuid::now_v7();
            let registered_by = orgs[rng.below(orgs.len() as u64) as usize].id;
            client::ActiveModel {
                id: Set(client_id),
                display_name: Set(format!("ランダム {seed}")),
                name_kana: Set("らんだむ".into()),
                birth_date: Set(None),
                support_category: Set(None),
                wishes: Set(None),
                family_contacts: Set(serde_json::json!([])),
                registered_by_organization_id: Set(registered_by),
                created_at: Set(now),
                updated_at: Set(now),
                version: Set(1),
            }
            .insert(db)
            .await
            .unwrap();
            for org in &orgs {
                // Current, ended, not yet started, or none.
                let (start, end) = match rng.below(4) {
                    0 => continue,
                    1 => (today - Duration::days(30), None),
                    2 => (today - Duration::days(60), Some(today - Duration::days(1))),
                    _ => (today + Duration::days(5), None),
                };
                care_team_membership::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    client_id: Set(client_id),
                    organization_id: Set(org.id),
                    relationship: Set(if org.kind == OrganizationKind::Facility {
                        CareRelationship::ServiceProvider
                    } else {
                        CareRelationship::Consultation
                    }),
                    service_type: Set(None),
                    start_date: Set(start),
                    end_date: Set(end),
                    added_by_staff_member_id: Set(author_of(org.id)),
                    ended_by_staff_member_id: Set(None),
                    created_at: Set(now),
                }
                .insert(db)
                .await
                .unwrap();
            }
            for _ in 0..rng.below(3) {
                let categories: Vec<&str> =
                    DATA.iter().copied().filter(|_| rng.chance(50)).collect();
                let recipients = rng.chance(40).then(|| {
                    serde_json::json!(
                        orgs.iter()
                            .filter(|_| rng.chance(50))
                            .map(|o| o.id.to_string())
                            .collect::<Vec<_>>()
                    )
                });
                let (granted, expires) = match rng.below(4) {
                    0 => (
                        today - Duration::days(400),
                        Some(today - Duration::days(35)),
                    ),
                    1 => (today + Duration::days(3), None),
                    _ => (
                        today - Duration::days(10),
                        rng.chance(50).then(|| today + Duration::days(100)),
                    ),
                };
                let revoked = rng.chance(25);
                sharing_consent::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    client_id: Set(client_id),
                    granted_by: Set("本人".into()),
                    signer_relationship: Set("CLIENT".into()),
                    granted_on: Set(granted),
                    recipient_organization_ids: Set(recipients),
                    data_categories: Set(serde_json::json!(categories)),
                    expires_on: Set(expires),
                    document_reference: Set(None),
                    recorded_by_staff_member_id: Set(staff[0].id),
                    recorded_by_organization_id: Set(registered_by),
                    created_at: Set(now),
                    revoked_on: Set(revoked.then_some(today)),
                    revoked_at: Set(revoked.then_some(now)),
                    revoked_by_staff_member_id: Set(None),
                    revocation_note: Set(None),
                }
                .insert(db)
                .await
                .unwrap();
            }
            for _ in 0..8 {
                let org = orgs[rng.below(orgs.len() as u64) as usize].id;
                let category = CATEGORIES[rng.below(6) as usize];
                let visibility = VISIBILITIES[rng.below(3) as usize];
                let id = Uuid::now_v7();
                observation::ActiveModel {
                    id: Set(id),
                    client_id: Set(client_id),
                    organization_id: Set(org),
                    author_staff_member_id: Set(author_of(org)),
                    version: Set(1),
                    fact: Set("9時に来所した。".into()),
                    interpretation: Set(None),
                    client_words: Set(None),
                    category: Set(category),
                    occurred_from: Set(now),
                    occurred_to: Set(None),
                    recorded_at: Set(now),
                    visibility: Set(visibility),
                    tags: Set(serde_json::json!([])),
                    cited_observation_ids: Set(serde_json::json!([])),
                    status: Set(RecordStatus::Current),
                    entered_in_error_reason: Set(None),
                    updated_by_staff_member_id: Set(author_of(org)),
                    updated_at: Set(now),
                    external_id: Set(None),
                }
                .insert(db)
                .await
                .unwrap();
                // A timeline entry of a random data category (or none), as plans and meetings write.
                let data = match rng.below(5) {
                    0 => None,
                    i => Some(
                        [
                            DataCategory::Profile,
                            DataCategory::Observations,
                            DataCategory::Plans,
                            DataCategory::Meetings,
                        ][i as usize - 1],
                    ),
                };
                timeline::put(
                    db,
                    timeline::Entry {
                        kind: EntryKind::MonitoringReport,
                        record_id: id,
                        client_id,
                        occurred_at: now,
                        organization_id: org,
                        visibility,
                        data,
                        category: (category == ObservationCategory::Safeguarding)
                            .then(|| "SAFEGUARDING".to_owned()),
                        status: RecordStatus::Current,
                    },
                )
                .await
                .unwrap();
            }
        }

        for org in &orgs {
            let viewer = Viewer {
                staff_member_id: author_of(org.id),
                organization_id: org.id,
                organization_kind: org.kind,
                role: entity::staff_member::StaffRole::OrgAdmin,
                session_id: Uuid::nil(),
            };
            let scope = Scope::for_viewer(db, &viewer).await.unwrap();
            let all = observation::Entity::find().all(db).await.unwrap();
            let by_policy: BTreeSet<Uuid> = all
                .iter()
                .filter(|o| scope.can_see_observation(o))
                .map(|o| o.id)
                .collect();
            let by_sql: BTreeSet<Uuid> = observation::Entity::find()
                .filter(scope.observation_condition())
                .all(db)
                .await
                .unwrap()
                .into_iter()
                .map(|o| o.id)
                .collect();
            assert_eq!(by_sql, by_policy, "observations, seed {seed}, {}", org.name);

            let entries = timeline_entry::Entity::find().all(db).await.unwrap();
            let by_policy: BTreeSet<(String, Uuid)> = entries
                .iter()
                .filter(|e| scope.can_see_entry(e))
                .map(|e| (e.kind.clone(), e.record_id))
                .collect();
            let by_sql: BTreeSet<(String, Uuid)> = timeline_entry::Entity::find()
                .filter(scope.timeline_condition())
                .all(db)
                .await
                .unwrap()
                .into_iter()
                .map(|e| (e.kind, e.record_id))
                .collect();
            assert_eq!(by_sql, by_policy, "timeline, seed {seed}, {}", org.name);
            checked += all.len() + entries.len();
        }
    }
    assert!(checked > 1000, "only {checked} decisions compared");
}
