//! `kakehashi import --kind plans`: support plans with every form field, one
//! `CreateSupportPlanInput` per JSON line (the shape `kakehashi export` writes under
//! `supportPlans[].content`, and the API takes). There is no batch mutation for plans, so each
//! line is one `createSupportPlan`; the client may be named by `clientExternalId` (resolved once
//! per run with `clientByExternalId`).
//!
//! Idempotent like the other kinds: each plan needs its `externalId`, and a plan whose external
//! id the organization already has is answered `UNCHANGED` without being sent (the server would
//! return the first plan unchanged anyway). The existing external ids are read once per client.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::{BadRecord, Endpoint, bad, post, post_raw};

/// The fields of `CreateSupportPlanInput`, plus `clientExternalId`.
const PLAN_FIELDS: &[&str] = &[
    "externalId",
    "clientId",
    "clientExternalId",
    "kind",
    "basedOnPlanId",
    "periodFrom",
    "periodTo",
    "content",
];

/// Checks one line's fields: the required ones present, nothing unknown, `content` an object.
/// Everything else (dates, enum values, the form's rules) is the server's to check.
pub(super) fn item(raw: Map<String, Value>) -> Result<Value, BadRecord> {
    for k in raw.keys() {
        if !PLAN_FIELDS.contains(&k.as_str()) {
            return Err(BadRecord {
                field: None,
                message: format!(
                    "unknown field {k:?}: a plan line holds {}",
                    PLAN_FIELDS.join(", ")
                ),
            });
        }
    }
    for f in ["externalId", "kind", "periodFrom", "content"] {
        if raw.get(f).is_none_or(Value::is_null) {
            return Err(bad(f, format!("{f} is required")));
        }
    }
    if !raw.contains_key("clientId") && !raw.contains_key("clientExternalId") {
        return Err(bad("clientId", "clientId or clientExternalId is required"));
    }
    if !raw["content"].is_object() {
        return Err(bad(
            "content",
            "content must be an object (PlanContentInput)",
        ));
    }
    if !raw["externalId"].is_string() {
        return Err(bad("externalId", "externalId must be text"));
    }
    Ok(Value::Object(raw))
}

const CLIENT_BY_EXTERNAL_ID: &str =
    "query($e: String!) { clientByExternalId(externalId: $e) { id } }";
const PLAN_EXTERNAL_IDS: &str = "query($c: ID!) { client(id: $c) { supportPlans { externalId } } }";
const CREATE: &str = "mutation($i: CreateSupportPlanInput!) { createSupportPlan(input: $i) { supportPlan { id externalId } } }";

/// What one run has learnt: clients by external id, and each client's plan external ids.
#[derive(Default)]
pub(super) struct PlanImport {
    clients: HashMap<String, Option<String>>,
    existing: HashMap<String, HashSet<String>>,
}

/// An item's result in the shape `importObservations` answers.
fn failed(index: usize, code: &Value, field: &Value, message: &Value) -> Value {
    json!({ "index": index, "outcome": "FAILED",
        "error": { "code": code, "field": field, "message": message } })
}

impl PlanImport {
    /// Sends a batch's plans one by one; one result per item, in order.
    pub(super) async fn send(
        &mut self,
        http: &reqwest::Client,
        endpoint: &Endpoint,
        items: Vec<Value>,
    ) -> anyhow::Result<Vec<Value>> {
        let mut results = Vec::with_capacity(items.len());
        for (index, mut input) in items.into_iter().enumerate() {
            let client = match input
                .as_object_mut()
                .and_then(|o| o.remove("clientExternalId"))
            {
                Some(Value::String(ext)) if input.get("clientId").is_none() => {
                    match self.client(http, endpoint, &ext).await? {
                        Some(id) => id,
                        None => {
                            results.push(failed(
                                index,
                                &json!("NOT_FOUND"),
                                &json!("clientExternalId"),
                                &json!(format!("no client of yours has the external id {ext:?}")),
                            ));
                            continue;
                        }
                    }
                }
                _ => input["clientId"].as_str().unwrap_or_default().to_owned(),
            };
            input["clientId"] = json!(client);
            let external = input["externalId"].as_str().unwrap_or_default().to_owned();
            let existing = match self.existing(http, endpoint, &client).await? {
                Ok(existing) => existing,
                Err(error) => {
                    let e = &error["extensions"];
                    results.push(failed(
                        index,
                        &e["code"],
                        &json!("clientId"),
                        &error["message"],
                    ));
                    continue;
                }
            };
            if existing.contains(&external) {
                results.push(json!({ "index": index, "outcome": "UNCHANGED" }));
                continue;
            }
            let body = post_raw(http, endpoint, CREATE, json!({ "i": input })).await?;
            match body["errors"].as_array().and_then(|e| e.first()) {
                Some(error) => {
                    let e = &error["extensions"];
                    results.push(failed(index, &e["code"], &e["field"], &error["message"]));
                }
                None => {
                    existing.insert(external);
                    results.push(json!({ "index": index, "outcome": "CREATED" }));
                }
            }
        }
        Ok(results)
    }

    /// The global id of the client the organization knows by `ext`, asked once per run.
    async fn client(
        &mut self,
        http: &reqwest::Client,
        endpoint: &Endpoint,
        ext: &str,
    ) -> anyhow::Result<Option<String>> {
        if let Some(found) = self.clients.get(ext) {
            return Ok(found.clone());
        }
        let data = post(http, endpoint, CLIENT_BY_EXTERNAL_ID, json!({ "e": ext })).await?;
        let id = data["clientByExternalId"]["id"].as_str().map(str::to_owned);
        self.clients.insert(ext.to_owned(), id.clone());
        Ok(id)
    }

    /// The organization's plan external ids for a client (asked once per run), or the error that
    /// reading the client gave (e.g. `NOT_FOUND`).
    async fn existing(
        &mut self,
        http: &reqwest::Client,
        endpoint: &Endpoint,
        client: &str,
    ) -> anyhow::Result<Result<&mut HashSet<String>, Value>> {
        use std::collections::hash_map::Entry;
        Ok(Ok(match self.existing.entry(client.to_owned()) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(slot) => {
                let body =
                    post_raw(http, endpoint, PLAN_EXTERNAL_IDS, json!({ "c": client })).await?;
                if let Some(error) = body["errors"].as_array().and_then(|e| e.first()) {
                    return Ok(Err(error.clone()));
                }
                slot.insert(
                    body["data"]["client"]["supportPlans"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|p| p["externalId"].as_str().map(str::to_owned))
                        .collect(),
                )
            }
        }))
    }
}
