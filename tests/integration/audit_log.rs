//! The compact read audit (issue 22 item 4): reads land in `read_audits` at about a tenth of the
//! old row's size, the audit log answers as it did (old `audit_events` read rows included, one
//! list across both tables), and rows past the retention are exported, then deleted.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use entity::{audit_event, read_audit, read_audit_page};
use kakehashi::service::read_audits;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, Set, Statement,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{helpers::TestApp, views::client_id};

const LOG: &str = "query($after: String) { auditLog(first: 100, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id occurredAt operation clientId recordKeys staffMember { email } } } } }";

/// The whole audit log of the viewer's organization, paged `first` at a time.
async fn whole_log(app: &TestApp, admin: &str, first: usize) -> Vec<Value> {
    let query = LOG.replace("first: 100", &format!("first: {first}"));
    let mut out = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = app
            .gql(Some(admin), &query, json!({ "after": after }))
            .await;
        let log = &page["data"]["auditLog"];
        assert!(log.is_object(), "{page}");
        out.extend(
            log["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"].clone()),
        );
        if log["pageInfo"]["hasNextPage"] != true {
            return out;
        }
        after = log["pageInfo"]["endCursor"].clone();
    }
}

/// A UUIDv7 of a given time (as rows written then have).
fn id_at(t: chrono::DateTime<Utc>) -> Uuid {
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        t.timestamp() as u64,
        t.timestamp_subsec_nanos(),
    );
    Uuid::new_v7(ts)
}

/// An `audit_events` read row as the server wrote them before `read_audits` existed.
async fn old_read_row(
    app: &TestApp,
    at: chrono::DateTime<Utc>,
    staff_email: &str,
    client: Uuid,
    ids: &[Uuid],
) -> Uuid {
    let staff = entity::staff_member::Entity::find()
        .filter(entity::staff_member::Column::Email.eq(staff_email))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let id = id_at(at);
    audit_event::ActiveModel {
        id: Set(id),
        occurred_at: Set(at.with_timezone(&Utc)),
        staff_member_id: Set(staff.id),
        organization_id: Set(staff.organization_id),
        operation: Set("READ_OBSERVATIONS".into()),
        client_id: Set(Some(client)),
        record_ids: Set(json!(ids)),
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    id
}

fn uuid_of(global: &str) -> Uuid {
    kakehashi::graphql::ids::decode_any("id", &async_graphql::ID(global.to_owned()))
        .unwrap()
        .1
}

#[tokio::test]
async fn reads_are_compact_rows_and_the_log_reads_both_tables_as_one_list() {
    let app = TestApp::spawn().await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let (admin, _) = app.login("admin@himawari.example").await;
    let client = client_id(&app, &staff, "小川 さくら").await;
    let client_uuid = uuid_of(&client);
    // An old read row (JSON ids), written before this server's reads.
    let old_ids = vec![Uuid::now_v7(), Uuid::now_v7()];
    let old = old_read_row(
        &app,
        Utc::now() - TimeDelta::seconds(5),
        "staff@himawari.example",
        client_uuid,
        &old_ids,
    )
    .await;
    let history = app
        .gql(
            Some(&staff),
            "query($c: ID!) { client(id: $c) { displayName history(first: 50) { edges { node { kind } } } } }",
            json!({ "c": client }),
        )
        .await;
    let shown = history["data"]["client"]["history"]["edges"]
        .as_array()
        .unwrap()
        .len();
    assert!(shown >= 2, "{history}");
    // The same page twice: two rows, one stored page.
    app.gql(
        Some(&staff),
        "query($c: ID!) { client(id: $c) { history(first: 50) { edges { node { kind } } } } }",
        json!({ "c": client }),
    )
    .await;

    let log = whole_log(&app, &admin, 100).await;
    let reads: Vec<&Value> = log
        .iter()
        .filter(|n| n["operation"] == "READ_HISTORY")
        .collect();
    assert_eq!(reads.len(), 2, "{log:?}");
    for r in &reads {
        assert_eq!(r["clientId"], client);
        assert_eq!(r["recordKeys"].as_array().unwrap().len(), shown);
        assert_eq!(r["staffMember"]["email"], "staff@himawari.example");
    }
    assert_eq!(reads[0]["recordKeys"], reads[1]["recordKeys"]);
    let client_read = log
        .iter()
        .find(|n| n["operation"] == "READ_CLIENT")
        .expect("READ_CLIENT");
    assert_eq!(client_read["recordKeys"], json!([client_uuid.to_string()]));
    // The old row, with its ids, in its place in time (after the newer reads).
    let at = log
        .iter()
        .position(|n| uuid_of(n["id"].as_str().unwrap()) == old)
        .expect("the old row is listed");
    assert_eq!(log[at]["recordKeys"], json!(old_ids));
    let times: Vec<&str> = log
        .iter()
        .map(|n| n["occurredAt"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "newest first across both tables");
    // Small pages walk the same list: nothing skipped or repeated at the seams.
    assert_eq!(whole_log(&app, &admin, 1).await, log);
    assert_eq!(whole_log(&app, &admin, 3).await, log);
    let total = app
        .gql(
            Some(&admin),
            "{ auditLog(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(total["data"]["auditLog"]["totalCount"], log.len());

    // Stored compactly: reads in read_audits with a code, the page once.
    let history_rows = read_audit::Entity::find()
        .filter(read_audit::Column::Operation.eq(read_audit::ReadOperation::History))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(history_rows.len(), 2);
    assert!(
        history_rows
            .iter()
            .all(|r| r.page.is_some() && r.record_id.is_none())
    );
    assert_eq!(
        read_audit_page::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        1,
        "one page for two reads of it"
    );
    let old_style_reads = audit_event::Entity::find()
        .filter(audit_event::Column::Operation.starts_with("READ_"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(old_style_reads, 1, "only the row written before");
}

/// Bytes per row, measured on the database: 10,000 reads of one record, 10,000 reads of one
/// page of 50, 1,000 reads of distinct pages of 50, against 10,000 old rows of a page of 50.
#[tokio::test]
async fn a_read_row_is_about_a_hundred_bytes() {
    let app = TestApp::spawn().await;
    let db = &app.state.db;
    let (staff, org, client) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let page: Vec<Uuid> = (0..50).map(|_| Uuid::now_v7()).collect();

    let single = measure(&app, "read_audits", 10_000, async {
        for _ in 0..20 {
            let rows = (0..500)
                .flat_map(|_| {
                    read_audits::rows(
                        staff,
                        org,
                        read_audit::ReadOperation::Client,
                        vec![(Some(client), vec![Uuid::now_v7()])],
                    )
                })
                .collect::<Vec<_>>();
            read_audits::write(db, &rows).await.unwrap();
        }
    })
    .await;
    let same_page = measure(&app, "read_audits", 10_000, async {
        for _ in 0..20 {
            let rows = (0..500)
                .flat_map(|_| {
                    read_audits::rows(
                        staff,
                        org,
                        read_audit::ReadOperation::History,
                        vec![(Some(client), page.clone())],
                    )
                })
                .collect::<Vec<_>>();
            read_audits::write(db, &rows).await.unwrap();
        }
    })
    .await;
    let distinct_pages = measure(&app, "read_audits", 1_000, async {
        for _ in 0..2 {
            let rows = (0..500)
                .flat_map(|_| {
                    let ids = (0..50).map(|_| Uuid::now_v7()).collect();
                    read_audits::rows(
                        staff,
                        org,
                        read_audit::ReadOperation::History,
                        vec![(Some(client), ids)],
                    )
                })
                .collect::<Vec<_>>();
            read_audits::write(db, &rows).await.unwrap();
        }
    })
    .await;
    let old = measure(&app, "audit_events", 10_000, async {
        for _ in 0..20 {
            let rows = (0..500).map(|_| audit_event::ActiveModel {
                id: Set(Uuid::now_v7()),
                occurred_at: Set(kakehashi::service::now()),
                staff_member_id: Set(staff),
                organization_id: Set(org),
                operation: Set("READ_HISTORY".into()),
                client_id: Set(Some(client)),
                record_ids: Set(json!(page)),
            });
            audit_event::Entity::insert_many(rows)
                .exec_without_returning(db)
                .await
                .unwrap();
        }
    })
    .await;
    let backend = db.get_database_backend();
    let heap = if backend == DbBackend::Postgres {
        let row = db
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT avg(pg_column_size(r.*))::float8 AS n FROM read_audits r".to_owned(),
            ))
            .await
            .unwrap()
            .unwrap();
        format!(
            " (a read_audits tuple: {:.0} bytes)",
            row.try_get::<f64>("", "n").unwrap()
        )
    } else {
        String::new()
    };
    eprintln!(
        "audit bytes per row with indexes ({backend:?}): one record {single}, a page of 50 read again {same_page}, distinct pages of 50 {distinct_pages}; old audit_events row of 50 ids {old}{heap}"
    );
    assert!(single <= 300, "one-record read row: {single} bytes");
    assert!(same_page <= 300, "reread page row: {same_page} bytes");
    // A page read only once costs its ids (16 bytes each) and two rows: on SQLite a third of the
    // JSON row, on PostgreSQL (whose JSON row TOAST compresses) about a third more than it.
    assert!(distinct_pages <= 50 * 16 + 600, "{distinct_pages} bytes");
}

/// Bytes the database grew by per row while `write` added `rows` rows (tables and indexes;
/// on PostgreSQL the relation sizes, on SQLite the file's pages after a checkpoint).
async fn measure(app: &TestApp, table: &str, rows: u64, write: impl Future<Output = ()>) -> u64 {
    let before = size(app, table).await;
    write.await;
    (size(app, table).await - before) / rows
}

async fn size(app: &TestApp, table: &str) -> u64 {
    let db = &app.state.db;
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            if table == "read_audits" {
                "SELECT (pg_total_relation_size('read_audits') + pg_total_relation_size('read_audit_pages'))::bigint AS n".to_owned()
            } else {
                format!("SELECT pg_total_relation_size('{table}')::bigint AS n")
            }
        }
        _ => {
            db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                .await
                .unwrap();
            "SELECT (SELECT page_count FROM pragma_page_count()) * (SELECT page_size FROM pragma_page_size()) - (SELECT freelist_count FROM pragma_freelist_count()) * (SELECT page_size FROM pragma_page_size()) AS n".to_owned()
        }
    };
    let row = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await
        .unwrap()
        .unwrap();
    let n: i64 = row.try_get("", "n").unwrap();
    n as u64
}

#[tokio::test]
async fn rows_past_the_retention_are_exported_then_deleted() {
    let export = tempfile::tempdir().unwrap();
    let dir = export.path().to_owned();
    let app = TestApp::spawn_with(move |c| {
        c.audit.retention_months = 2;
        c.audit.prune_interval = Duration::from_secs(1);
        c.audit.export_dir = dir;
    })
    .await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let (admin, _) = app.login("admin@himawari.example").await;
    let client = client_id(&app, &staff, "小川 さくら").await;
    let client_uuid = uuid_of(&client);
    let long_ago = Utc::now() - TimeDelta::days(130);
    // Old reads of both kinds: an audit_events row and compact rows (one of them a page).
    let ids = vec![Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
    let old_event = old_read_row(&app, long_ago, "staff@himawari.example", client_uuid, &ids).await;
    let staff_id = entity::staff_member::Entity::find()
        .filter(entity::staff_member::Column::Email.eq("staff@himawari.example"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let mut old_rows = read_audits::rows(
        staff_id.id,
        staff_id.organization_id,
        read_audit::ReadOperation::History,
        vec![
            (Some(client_uuid), ids.clone()),
            (Some(client_uuid), vec![ids[0]]),
        ],
    );
    for r in &mut old_rows {
        r.audit.id = id_at(long_ago);
        if let Some(p) = &mut r.page {
            p.month = read_audits::month_number(long_ago);
        }
    }
    read_audits::write(&app.state.db, &old_rows).await.unwrap();
    // And a read today, which stays.
    app.gql(
        Some(&staff),
        "query($c: ID!) { client(id: $c) { displayName } }",
        json!({ "c": client }),
    )
    .await;

    let file = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let mut files = std::fs::read_dir(export.path()).unwrap();
            if let Some(f) = files.next() {
                let path = f.unwrap().path();
                if path.extension().is_some_and(|e| e == "jsonl") {
                    // The rename comes before the delete: wait for the rows to go too.
                    let left = read_audit::Entity::find()
                        .filter(
                            read_audit::Column::Id
                                .lt(read_audits::first_id_at(Utc::now() - TimeDelta::days(100))),
                        )
                        .count(&app.state.db)
                        .await
                        .unwrap();
                    if left == 0 {
                        return path;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await
    .expect("the pruning job exported and deleted in time");
    let lines: Vec<Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let by_id = |id: Uuid| {
        lines
            .iter()
            .find(|l| l["id"] == id.to_string())
            .unwrap_or_else(|| panic!("{id} exported: {lines:?}"))
    };
    assert_eq!(by_id(old_event)["recordIds"], json!(ids));
    assert_eq!(by_id(old_event)["operation"], "READ_OBSERVATIONS");
    let page_line = by_id(old_rows[0].audit.id);
    assert_eq!(page_line["recordIds"], json!(ids));
    assert_eq!(page_line["operation"], "READ_HISTORY");
    assert_eq!(page_line["clientId"], client_uuid.to_string());
    assert_eq!(page_line["staffMemberId"], staff_id.id.to_string());
    assert_eq!(by_id(old_rows[1].audit.id)["recordIds"], json!([ids[0]]));

    // Gone from the database and from the log; today's read stays.
    assert!(
        audit_event::Entity::find_by_id(old_event)
            .one(&app.state.db)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        read_audit_page::Entity::find()
            .filter(read_audit_page::Column::Month.eq(read_audits::month_number(long_ago)))
            .count(&app.state.db)
            .await
            .unwrap(),
        0
    );
    let log = whole_log(&app, &admin, 100).await;
    assert!(
        log.iter().any(|n| n["operation"] == "READ_CLIENT"),
        "{log:?}"
    );
    assert!(
        log.iter()
            .all(|n| n["occurredAt"].as_str().unwrap() > long_ago.to_rfc3339().as_str()),
        "{log:?}"
    );
}

/// A record delivered through a subscription is audited like a query's read (`READ_EVENT`),
/// through the same writer and durability rule.
#[tokio::test]
async fn a_delivered_event_is_a_compact_read_in_the_log() {
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let (admin, _) = app.login("admin@aozora.example").await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let yamada = client_id(&app, &specialist, "山田 太郎").await;
    let mut socket = crate::subscriptions::Raw::ready(&app, &specialist).await;
    socket
        .subscribe("1", crate::subscriptions::MY_EVENTS, json!({}))
        .await;
    crate::subscriptions::live_subscribers(&app, 1).await;
    let shared = crate::views::record(
        &app,
        &staff,
        &yamada,
        "10:20 作業変更の直後に大声を出した(約5分)。",
        "CARE_TEAM",
    )
    .await;
    let event = socket.event("myEvents").await;
    assert_eq!(event["record"]["id"], shared["id"]);
    let record = uuid_of(shared["id"].as_str().unwrap()).to_string();
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let log = whole_log(&app, &admin, 100).await;
            if let Some(n) = log.into_iter().find(|n| n["operation"] == "READ_EVENT") {
                return n;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the delivery is audited");
    assert_eq!(found["recordKeys"], json!([record]));
    assert_eq!(found["clientId"], yamada);
    assert_eq!(found["staffMember"]["email"], "specialist@aozora.example");
}

/// A staff member whose sockets each run their own subscription (tabs, devices, a view that
/// catches up from a cursor) receives a record once per socket, and the log says once that they
/// received it: one row, not one per socket and event.
#[tokio::test]
async fn a_record_delivered_to_several_sockets_of_one_viewer_is_one_read() {
    let app = TestApp::spawn().await;
    let (specialist, _) = app.login("specialist@aozora.example").await;
    let (admin, _) = app.login("admin@aozora.example").await;
    let (staff, _) = app.login("staff@himawari.example").await;
    let yamada = client_id(&app, &specialist, "山田 太郎").await;
    let own = |name: &str| {
        // A name of its own: sockets running the same operation would share one execution.
        crate::subscriptions::MY_EVENTS.replacen(
            "subscription(",
            &format!("subscription {name}("),
            1,
        )
    };
    let mut live = Vec::new();
    for i in 0..3 {
        let mut socket = crate::subscriptions::Raw::ready(&app, &specialist).await;
        socket
            .subscribe("1", &own(&format!("Tab{i}")), json!({}))
            .await;
        live.push(socket);
    }
    crate::subscriptions::live_subscribers(&app, 3).await;
    let record = |fact: &'static str| {
        let (app, staff, yamada) = (&app, &staff, &yamada);
        async move { crate::views::record(app, staff, yamada, fact, "CARE_TEAM").await }
    };
    record("13:50 作業台を拭いた。").await;
    let before = live[0].event("myEvents").await["cursor"].clone();
    for socket in &mut live[1..] {
        socket.event("myEvents").await;
    }
    let shared = record("14:05 作業台を2回叩いた(約1分)。").await;
    for socket in &mut live {
        assert_eq!(socket.event("myEvents").await["record"]["id"], shared["id"]);
    }
    let keys = json!([uuid_of(shared["id"].as_str().unwrap()).to_string()]);
    let reads = |log: Vec<Value>| {
        log.into_iter()
            .filter(|n| n["operation"] == "READ_EVENT" && n["recordKeys"] == keys)
            .count()
    };
    tokio::time::timeout(Duration::from_secs(10), async {
        while reads(whole_log(&app, &admin, 100).await) == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the deliveries are audited");
    // The live sockets' row is written; now another socket catches up from before the record.
    let mut catching_up = crate::subscriptions::Raw::ready(&app, &specialist).await;
    catching_up
        .subscribe("1", &own("CatchUp"), json!({ "after": before }))
        .await;
    let replayed = catching_up.event("myEvents").await;
    assert_eq!(replayed["record"]["id"], shared["id"], "{replayed}");
    // Longer than the flush delay: a row still queued is in the log by now.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(reads(whole_log(&app, &admin, 100).await), 1);
}
