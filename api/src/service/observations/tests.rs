//! Unit tests of recording, grouping and amending observations.

use entity::{audit_event, outbox_event, timeline_entry};
use sea_orm::{Database, PaginatorTrait, QueryOrder};

use super::{group_commit::commit_group, *};

/// A fresh database: a SQLite file, or with `TEST_DATABASE_URL=postgres://…` a PostgreSQL
/// database of its own (dropped by [`drop_database`]).
async fn fresh_state(dir: &std::path::Path) -> (Ctx, Option<(String, String)>) {
    let (url, pg) = match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            // `postgres://user@host:port[/db][?…]` → `postgres://user@host:port`.
            let base = base.split('?').next().unwrap_or(&base);
            let authority = base.find("://").map_or(0, |i| i + 3);
            let server = match base[authority..].find('/') {
                Some(slash) => &base[..authority + slash],
                None => base,
            };
            let name = format!("kk_unit_{}", Uuid::new_v4().simple());
            let admin = Database::connect(format!("{server}/postgres"))
                .await
                .unwrap();
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            (format!("{server}/{name}"), Some((server.to_owned(), name)))
        }
        _ => (
            format!("sqlite://{}?mode=rwc", dir.join("group.db").display()),
            None,
        ),
    };
    let config = crate::Config {
        database_url: url,
        jwt_secret: Some(b"unit-test-secret-unit-test-secret-0123".to_vec()),
        ..crate::Config::default()
    };
    let state = crate::build_state(config).await.unwrap();
    (state.ctx.clone(), pg)
}

/// A facility with one staff member and one client of its own (the demo seed lives in the
/// tools crate, above this one).
async fn facility_with_client(state: &Ctx) -> (Viewer, Uuid) {
    use crate::service::{clients, organizations, staff};
    let org = organizations::create(
        &state.db,
        organizations::NewOrganization {
            kind: entity::organization::OrganizationKind::Facility,
            name: "ひまわり作業所".into(),
            service_types: vec!["就労継続支援B型".into()],
            municipality: "東京都千代田区".into(),
            office_number: None,
        },
    )
    .await
    .unwrap();
    let member = staff::insert(
        &state.db,
        &state.passwords,
        org.id,
        staff::NewStaffMember {
            email: "manager@himawari.example".into(),
            display_name: "サービス管理責任者".into(),
            role: entity::staff_member::StaffRole::ServiceManager,
            initial_password: "correct horse battery staple".into(),
            external_id: None,
        },
    )
    .await
    .unwrap();
    let viewer = Viewer {
        staff_member_id: member.id,
        organization_id: org.id,
        organization_kind: org.kind,
        role: member.role,
        session_id: Uuid::nil(),
    };
    let client = clients::register(
        state,
        &viewer,
        clients::NewClient {
            display_name: "山田 太郎".into(),
            name_kana: "やまだ たろう".into(),
            birth_date: None,
            support_category: None,
            wishes: None,
            family_contacts: vec![],
            external_id: None,
            service_type: None,
            start_date: None,
        },
    )
    .await
    .unwrap();
    (viewer, client.id)
}

async fn drop_database(state: Ctx, pg: Option<(String, String)>) {
    drop(state);
    if let Some((server, name)) = pg {
        let admin = Database::connect(format!("{server}/postgres"))
            .await
            .unwrap();
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .unwrap();
    }
}

fn content(fact: &str) -> ObservationContent {
    ObservationContent {
        fact: fact.to_owned(),
        interpretation: None,
        client_words: None,
        category: ObservationCategory::Stable,
        occurred_from: crate::service::micros(Utc::now()),
        occurred_to: None,
        visibility: Visibility::CareTeam,
        tags: vec![],
        cited_observation_ids: vec![],
    }
}

/// Queues the facts as one group; a fact starting with "✗" names a client that does not
/// exist, so its insert fails in the database. Returns each request's answer.
async fn group(
    state: &Ctx,
    viewer: &Viewer,
    client_id: Uuid,
    facts: &[&str],
) -> Vec<ApiResult<observation::Model>> {
    let mut jobs = Vec::new();
    for fact in facts {
        let c = content(fact);
        let client_id = if fact.starts_with('✗') {
            Uuid::now_v7()
        } else {
            client_id
        };
        jobs.push(NewRow {
            viewer: viewer.clone(),
            client_id,
            checked: texts(&c).unwrap(),
            content: c,
        });
    }
    commit_group(&state.db, jobs).await
}

/// A group is committed with one statement per table; when one of its inserts fails, that
/// request alone gets the error and every other one is stored whole, with its version,
/// history entry, audit entry and event, the events in the order the requests came.
#[tokio::test]
async fn a_group_commits_together_and_a_failing_insert_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (state, pg) = fresh_state(dir.path()).await;
    let (viewer, client_id) = facility_with_client(&state).await;

    let before = outbox_event::Entity::find().count(&state.db).await.unwrap();
    let all_good = group(
        &state,
        &viewer,
        client_id,
        &["一群の1", "一群の2", "一群の3"],
    )
    .await;
    let with_bad = group(
        &state,
        &viewer,
        client_id,
        &["混成の1", "✗ 存在しない本人", "混成の2"],
    )
    .await;
    assert!(all_good.iter().all(Result::is_ok));
    assert!(with_bad[0].is_ok() && with_bad[2].is_ok(), "{with_bad:?}");
    assert!(with_bad[1].is_err());

    let stored: Vec<Uuid> = all_good
        .iter()
        .chain([&with_bad[0], &with_bad[2]])
        .map(|r| r.as_ref().unwrap().id)
        .collect();
    for id in &stored {
        let o = observation::Entity::find_by_id(*id)
            .one(&state.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(o.client_id, client_id);
        let versions = observation_version::Entity::find()
            .filter(observation_version::Column::ObservationId.eq(*id))
            .count(&state.db)
            .await
            .unwrap();
        let entries = timeline_entry::Entity::find()
            .filter(timeline_entry::Column::RecordId.eq(*id))
            .count(&state.db)
            .await
            .unwrap();
        let audits = audit_event::Entity::find()
            .filter(audit_event::Column::Operation.eq("OBSERVATION_RECORDED"))
            .all(&state.db)
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a.record_ids == serde_json::json!([id]))
            .count();
        assert_eq!((versions, entries, audits), (1, 1, 1), "observation {id}");
    }
    let events: Vec<Uuid> = outbox_event::Entity::find()
        .order_by_asc(outbox_event::Column::Id)
        .all(&state.db)
        .await
        .unwrap()
        .into_iter()
        .skip(usize::try_from(before).unwrap())
        .map(|e| e.record_id)
        .collect();
    assert_eq!(events, stored, "one event each, in request order");
    let facts: Vec<String> = observation::Entity::find()
        .filter(observation::Column::Fact.contains("存在しない"))
        .all(&state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.fact)
        .collect();
    assert!(
        facts.is_empty(),
        "the failed insert left nothing: {facts:?}"
    );
    drop_database(state, pg).await;
}
