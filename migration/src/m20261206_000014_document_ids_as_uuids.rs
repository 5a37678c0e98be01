//! Ids inside stored documents become plain UUIDs. Plan contents and their delivery records,
//! meeting minutes and briefs held the API's global ids (`base64url("Organization:<uuid>")`),
//! so the database's format depended on how the API spells ids. Under each key that holds such
//! a reference (`providerOrganizationId`, `organizationId`, `ownerOrganizationId`,
//! `observationIds`) a global id of the expected kind becomes the UUID inside it and a UUID
//! stays as it is (so the step can run twice). Anything else there (the provider field was once
//! stored unchecked: free text, an id of another kind) would no longer decode and would empty
//! the whole document on reading, so it is dropped: set to null, or left out of a list. From
//! now on the API encodes and decodes these ids at its edge (`graphql::ids`).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, Statement},
};
use serde_json::Value;
use uuid::Uuid;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

/// The keys whose values are references to other records, with the kind they name.
const KEYS: [(&str, &str); 4] = [
    ("providerOrganizationId", "Organization"),
    ("organizationId", "Organization"),
    ("ownerOrganizationId", "Organization"),
    ("observationIds", "Observation"),
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
            let this = match KEYS.iter().find(|(k, _)| k == key) {
                Some((_, kind)) => to_uuids(child, kind),
                None => rewrite(child),
            };
            changed | this
        }),
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |changed, i| rewrite(i) | changed),
        _ => false,
    }
}

/// The reference(s) under a key: each becomes a UUID, or is dropped when it names nothing of
/// `kind`.
fn to_uuids(v: &mut Value, kind: &str) -> bool {
    match v {
        Value::Null => false,
        Value::Array(items) => {
            let kept: Vec<Value> = items
                .iter()
                .filter_map(|i| reference(i, kind))
                .map(|u| Value::String(u.to_string()))
                .collect();
            let changed = *items != kept;
            *items = kept;
            changed
        }
        other => {
            let new = reference(other, kind).map_or(Value::Null, |u| Value::String(u.to_string()));
            let changed = *other != new;
            *other = new;
            changed
        }
    }
}

/// The record a stored value names: a UUID, or a global id (`base64url("Kind:uuid")`) of `kind`.
fn reference(v: &Value, kind: &str) -> Option<Uuid> {
    let s = v.as_str()?;
    if let Ok(uuid) = Uuid::parse_str(s) {
        return Some(uuid);
    }
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(s).ok()?).ok()?;
    let (found, uuid) = text.split_once(':')?;
    if found == kind {
        Uuid::parse_str(uuid).ok()
    } else {
        None
    }
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
            "deliveries": [{ "organizationId": global("Client", org) }, { "organizationId": "ひまわり" }],
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
        // Another kind's id, or text, names no organization: dropped rather than left to
        // break the whole document's decoding.
        assert_eq!(doc["deliveries"][0]["organizationId"], Value::Null);
        assert_eq!(doc["deliveries"][1]["organizationId"], Value::Null);
        // A string under any other key is text, not a reference: untouched.
        assert_eq!(doc["note"], json!(global("Organization", org)));
        // Running it again changes nothing.
        let before = doc.clone();
        assert!(!rewrite(&mut doc));
        assert_eq!(doc, before);
    }
}
