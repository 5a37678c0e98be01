//! `kakehashi export`: one client's complete history as JSON, every field the schema offers
//! walked from the introspected schema.

use super::*;

/// Fields never exported: analyses computed on demand, the viewer-relative ones, and the
/// paginated lists fetched separately.
const NOT_EXPORTED: &[&str] = &[
    "materials",
    "freshness",
    "reciprocity",
    "planAlignment",
    "factCheck",
    "axisCheck",
    "rendering",
    "history",
    "dueItems",
    "accessHistory",
    "recentObservations",
    "observations",
    "client",
    "previousDirection",
    "briefArrivals",
];

/// The schema compiled into this binary, for generating selections.
pub(super) struct SchemaIndex {
    types: HashMap<String, TypeKind>,
}

fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(n) => n.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

impl SchemaIndex {
    pub(super) fn new() -> anyhow::Result<Self> {
        let doc = async_graphql::parser::parse_schema(kakehashi::graphql::sdl())
            .context("parsing the built-in schema")?;
        let mut types = HashMap::new();
        for d in doc.definitions {
            if let TypeSystemDefinition::Type(t) = d {
                types.insert(t.node.name.node.to_string(), t.node.kind);
            }
        }
        Ok(Self { types })
    }

    pub(super) fn is_leaf(&self, name: &str) -> bool {
        matches!(
            self.types.get(name),
            None | Some(TypeKind::Scalar | TypeKind::Enum(_))
        )
    }

    /// Every readable field of `type_name`, objects to `depth` levels (leaves only at 0).
    pub(super) fn selection(&self, type_name: &str, depth: u32, skip: &HashSet<&str>) -> String {
        let mut parts = Vec::new();
        match self.types.get(type_name) {
            Some(TypeKind::Object(o)) => {
                for f in &o.fields {
                    let f = &f.node;
                    let name = f.name.node.as_str();
                    let needs_args = f
                        .arguments
                        .iter()
                        .any(|a| !a.node.ty.node.nullable && a.node.default_value.is_none());
                    let child = named(&f.ty.node);
                    if skip.contains(name)
                        || NOT_EXPORTED.contains(&name)
                        || needs_args
                        || child.ends_with("Connection")
                    {
                        continue;
                    }
                    if self.is_leaf(child) {
                        parts.push(name.to_owned());
                    } else if depth > 0 {
                        let inner = self.selection(child, depth - 1, &HashSet::new());
                        if !inner.is_empty() {
                            parts.push(format!("{name} {{ {inner} }}"));
                        }
                    }
                }
            }
            Some(TypeKind::Union(u)) => {
                parts.push("__typename".into());
                for m in &u.members {
                    let inner = self.selection(m.node.as_str(), depth, &HashSet::new());
                    if !inner.is_empty() {
                        parts.push(format!("... on {} {{ {inner} }}", m.node));
                    }
                }
            }
            _ => {}
        }
        parts.join(" ")
    }
}

/// Exports one client's complete history (as the endpoint's organization may see it).
pub async fn export(endpoint: &Endpoint, client: ClientSelector) -> anyhow::Result<Value> {
    let http = reqwest::Client::new();
    let schema = SchemaIndex::new()?;
    let id = match client {
        ClientSelector::Id(id) => id,
        ClientSelector::External(ext) => {
            let data = post(
                &http,
                endpoint,
                "query ExportFind($e: String!) { clientByExternalId(externalId: $e) { id } }",
                json!({ "e": ext }),
            )
            .await?;
            data["clientByExternalId"]["id"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| anyhow::anyhow!("no client has the external id {ext:?}"))?
        }
    };
    let lists = ["supportPlans", "meetings", "monitoringReports"];
    let profile = schema.selection("Client", 3, &lists.into_iter().collect());
    let data = post(
        &http,
        endpoint,
        &format!("query ExportClient($id: ID!) {{ client(id: $id) {{ {profile} }} }}"),
        json!({ "id": id }),
    )
    .await?;
    let mut out = Map::new();
    out.insert("format".into(), json!("kakehashi-client-export"));
    out.insert("version".into(), json!(1));
    out.insert("exportedAt".into(), json!(chrono::Utc::now().to_rfc3339()));
    out.insert("client".into(), data["client"].clone());
    for list in lists {
        let type_name = match list {
            "supportPlans" => "SupportPlan",
            "meetings" => "Meeting",
            _ => "MonitoringReport",
        };
        let sel = schema.selection(type_name, 3, &HashSet::new());
        let data = post(
            &http,
            endpoint,
            &format!("query ExportList($id: ID!) {{ client(id: $id) {{ {list} {{ {sel} }} }} }}"),
            json!({ "id": id }),
        )
        .await?;
        out.insert(list.into(), data["client"][list].clone());
    }
    let sel = schema.selection("Observation", 2, &HashSet::new());
    let query = format!(
        "query ExportObservations($id: ID!, $after: String) {{ client(id: $id) {{ observations(first: 100, after: $after, includeEnteredInError: true) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {sel} }} }} }} }}"
    );
    let mut observations = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = post(&http, endpoint, &query, json!({ "id": id, "after": after })).await?;
        let page = &data["client"]["observations"];
        observations.extend(page["nodes"].as_array().cloned().unwrap_or_default());
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    out.insert("observations".into(), Value::Array(observations));
    Ok(Value::Object(out))
}

/// How `export` names the client.
#[derive(Debug, Clone)]
pub enum ClientSelector {
    Id(String),
    External(String),
}
