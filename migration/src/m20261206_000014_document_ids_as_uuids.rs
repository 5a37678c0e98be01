//! Ids inside stored documents become plain UUIDs. Plan contents and their delivery records,
//! meeting minutes, briefs and monitoring reports held the API's global ids
//! (`base64url("Organization:<uuid>")`), so the database's format depended on how the API spells
//! ids. Every string under a key that holds such a reference (`providerOrganizationId`,
//! `organizationId`, `ownerOrganizationId`, `observationIds`) is rewritten to the UUID inside
//! it; anything that is not a global id (already a UUID) is left as it is, so the step can run
//! twice. From now on the API encodes and decodes these ids at its edge (`graphql::ids`).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, Statement},
};
use serde_json::Value;
use uuid::Uuid;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The keys whose values are references to other records.
const KEYS: [&str; 4] = [
    "providerOrganizationId",
    "organizationId",
    "ownerOrganizationId",
    "observationIds",
];

/// Every JSON column that holds a document with such keys: (table, column).
const COLUMNS: [(&str, &str); 7] = [
    ("support_plans", "content"),
    ("support_plans", "record"),
    ("support_plan_versions", "content"),
    ("support_plan_versions", "record"),
    ("meeting_briefs", "content"),
    ("meetings", "minutes"),
    ("monitoring_reports", "content"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        for (table, column) in COLUMNS {
            let rows = db
                .query_all_raw(Statement::from_string(
                    backend,
                    format!("SELECT id, {column} AS doc FROM {table} WHERE {column} IS NOT NULL"),
                ))
                .await?;
            for row in rows {
                let id: Uuid = row.try_get("", "id")?;
                let mut doc: Value = row.try_get("", "doc")?;
                if !rewrite(&mut doc) {
                    continue;
                }
                manager
                    .exec_stmt(
                        Query::update()
                            .table(Alias::new(table))
                            .value(Alias::new(column), doc)
                            .and_where(Expr::col(Alias::new("id")).eq(id))
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }
}

/// Rewrites the references in a document to UUIDs; whether anything changed.
fn rewrite(v: &mut Value) -> bool {
    match v {
        Value::Object(map) => map.iter_mut().fold(false, |changed, (key, child)| {
            let this = if KEYS.contains(&key.as_str()) {
                to_uuids(child)
            } else {
                rewrite(child)
            };
            changed | this
        }),
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |changed, i| rewrite(i) | changed),
        _ => false,
    }
}

fn to_uuids(v: &mut Value) -> bool {
    match v {
        Value::String(s) => match uuid_in_global_id(s) {
            Some(uuid) => {
                *s = uuid.to_string();
                true
            }
            None => false,
        },
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |changed, i| to_uuids(i) | changed),
        _ => false,
    }
}

/// The UUID inside a global id (`base64url("Type:uuid")`), if `s` is one.
fn uuid_in_global_id(s: &str) -> Option<Uuid> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(s).ok()?).ok()?;
    let (_, uuid) = text.split_once(':')?;
    Uuid::parse_str(uuid).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn global(kind: &str, id: Uuid) -> String {
        URL_SAFE_NO_PAD.encode(format!("{kind}:{id}"))
    }

    #[test]
    fn global_ids_under_reference_keys_become_uuids_and_nothing_else_moves() {
        let (org, obs1, obs2) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let mut doc = json!({
            "needs": [{ "need": "外出", "providerOrganizationId": global("Organization", org) }],
            "decisions": [{ "text": "予告カード", "ownerOrganizationId": global("Organization", org) }],
            "recentChanges": [{ "text": "大声0回", "observationIds": [global("Observation", obs1), obs2.to_string()] }],
            "enquiries": [{ "addressee": "佐藤", "organizationId": null }],
            "note": global("Organization", org),
        });
        assert!(rewrite(&mut doc));
        assert_eq!(
            doc["needs"][0]["providerOrganizationId"],
            json!(org.to_string())
        );
        assert_eq!(
            doc["decisions"][0]["ownerOrganizationId"],
            json!(org.to_string())
        );
        assert_eq!(
            doc["recentChanges"][0]["observationIds"],
            json!([obs1.to_string(), obs2.to_string()])
        );
        assert_eq!(doc["enquiries"][0]["organizationId"], Value::Null);
        // A string under any other key is text, not a reference: untouched.
        assert_eq!(doc["note"], json!(global("Organization", org)));
        // Running it again changes nothing.
        let before = doc.clone();
        assert!(!rewrite(&mut doc));
        assert_eq!(doc, before);
    }
}
