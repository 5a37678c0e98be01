//! The page both servers are asked for: fetched, parsed into comparable rows, and checked equal
//! before anything is measured.

use super::*;

/// A history page as both servers answer it, for comparing them.
#[derive(Debug, PartialEq)]
pub(super) struct Row {
    pub(super) kind: String,
    pub(super) occurred_at: i64,
    pub(super) fact: Option<String>,
    pub(super) category: Option<String>,
    pub(super) author: Option<String>,
    pub(super) organization: Option<String>,
}

pub(super) struct Page {
    pub(super) total: u64,
    pub(super) has_next: bool,
    pub(super) end_cursor: Value,
    pub(super) rows: Vec<Row>,
}

pub(super) fn micros(v: &Value) -> anyhow::Result<i64> {
    let text = v.as_str().context("occurredAt")?;
    Ok(chrono::DateTime::parse_from_rfc3339(text)
        .with_context(|| format!("occurredAt {text}"))?
        .timestamp_micros())
}

pub(super) fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

/// Reads either server's page into the shared shape.
pub(super) fn parse_page(body: &Value) -> anyhow::Result<Page> {
    let (connection, item_key, author_key, org_key) =
        if let Some(h) = body.pointer("/data/client/history") {
            (h, "item", "author", "organization")
        } else if let Some(c) = body.pointer("/data/allTimelineEntries") {
            (
                c,
                "observationByRecordId",
                "staffMemberByAuthorStaffMemberId",
                "organizationByOrganizationId",
            )
        } else {
            bail!("not a history page: {body}");
        };
    if connection.is_null() || body.get("errors").is_some() {
        bail!("errors: {body}");
    }
    let rows = connection["edges"]
        .as_array()
        .context("edges")?
        .iter()
        .map(|e| {
            let node = &e["node"];
            let item = &node[item_key];
            let author = &item[author_key];
            Ok(Row {
                kind: node["kind"].as_str().context("kind")?.to_ascii_uppercase(),
                occurred_at: micros(&node["occurredAt"])?,
                fact: text(&item["fact"]),
                category: text(&item["category"]).map(|c| c.to_ascii_uppercase()),
                author: text(&author["displayName"]),
                organization: text(&author[org_key]["name"]),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Page {
        total: connection["totalCount"].as_u64().context("totalCount")?,
        has_next: connection["pageInfo"]["hasNextPage"] == true,
        end_cursor: connection["pageInfo"]["endCursor"].clone(),
        rows,
    })
}

pub(super) async fn post_text(
    http: &reqwest::Client,
    target_url: &str,
    headers: &Value,
    body: &str,
) -> anyhow::Result<String> {
    let mut request = http
        .post(target_url)
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (k, v) in headers.as_object().into_iter().flatten() {
        request = request.header(k.as_str(), v.as_str().unwrap_or_default());
    }
    let response = request.send().await?;
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        bail!("{target_url}: {status}: {text}");
    }
    Ok(text)
}

/// Builds a target: the first page's body and the deep page's (walking there by cursor), and
/// each page's response when it is the same byte for byte on a second request.
pub(super) async fn target(
    http: &reqwest::Client,
    name: &'static str,
    url: String,
    headers: Value,
    pid: u32,
    body_after: impl Fn(&Value) -> String,
    deep_after: usize,
) -> anyhow::Result<Target> {
    let first = body_after(&Value::Null);
    let mut cursor = Value::Null;
    let mut walked = 0;
    while walked < deep_after {
        let page = parse_page(&serde_json::from_str(
            &post_text(http, &url, &headers, &body_after(&cursor)).await?,
        )?)?;
        if !page.has_next {
            bail!("{name}: the history ended after {walked} entries");
        }
        walked += page.rows.len();
        cursor = page.end_cursor;
    }
    let deep = body_after(&cursor);
    let mut pages = BTreeMap::new();
    for (which, body) in [(Which::First, first), (Which::Deep, deep)] {
        let a = post_text(http, &url, &headers, &body).await?;
        let b = post_text(http, &url, &headers, &body).await?;
        parse_page(&serde_json::from_str(&a)?)?;
        pages.insert(which, (body, (a == b).then_some(a)));
    }
    Ok(Target {
        name,
        url,
        headers,
        pid,
        pages,
    })
}

pub(super) async fn kakehashi(
    http: &reqwest::Client,
    (client, _): (Uuid, Uuid),
    port: u16,
    pid: u32,
    deep_after: usize,
) -> anyhow::Result<Target> {
    let url = format!("http://127.0.0.1:{port}/graphql");
    let login: Value = http
        .post(&url)
        .json(&json!({ "query": "mutation { login(input: { email: \"specialist@aozora.example\", password: \"kakehashi-demo\" }) { accessToken } }" }))
        .send()
        .await?
        .json()
        .await?;
    let token = login["data"]["login"]["accessToken"]
        .as_str()
        .with_context(|| format!("login: {login}"))?;
    let db_client = kakehashi::graphql::ids::encode("Client", client).0;
    target(
        http,
        "Kakehashi",
        url,
        json!({ "authorization": format!("Bearer {token}") }),
        pid,
        |after| {
            json!({ "query": HISTORY_QUERY, "variables": { "c": db_client, "after": after } })
                .to_string()
        },
        deep_after,
    )
    .await
}

pub(super) async fn postgraphile(
    http: &reqwest::Client,
    (client, office): (Uuid, Uuid),
    port: u16,
    pid: u32,
    deep_after: usize,
) -> anyhow::Result<Target> {
    let url = format!("http://127.0.0.1:{port}/graphql");
    target(
        http,
        "PostGraphile",
        url,
        json!({}),
        pid,
        |after| {
            json!({ "query": POSTGRAPHILE_QUERY, "variables": { "c": client.to_string(), "org": office.to_string(), "after": after } })
                .to_string()
        },
        deep_after,
    )
    .await
}

pub(super) async fn fetch(
    http: &reqwest::Client,
    t: &Target,
    which: Which,
) -> anyhow::Result<Page> {
    let body = &t.pages[&which].0;
    parse_page(&serde_json::from_str(
        &post_text(http, &t.url, &t.headers, body).await?,
    )?)
}

/// Both servers must answer each page with the same entries before either is measured.
pub(super) async fn check(http: &reqwest::Client, k: &Target, p: &Target) -> anyhow::Result<()> {
    for which in [Which::First, Which::Deep] {
        let (a, b) = (fetch(http, k, which).await?, fetch(http, p, which).await?);
        let facts = a.rows.iter().filter(|r| r.fact.is_some()).count();
        if a.rows != b.rows {
            let first_difference = a
                .rows
                .iter()
                .zip(&b.rows)
                .find(|(x, y)| x != y)
                .map(|(x, y)| format!("{x:?} against {y:?}"))
                .unwrap_or_else(|| format!("{} rows against {}", a.rows.len(), b.rows.len()));
            bail!("the {} page differs: {first_difference}", which.label());
        }
        println!(
            "check, {} page: {} entries on both ({facts} observations), the same kinds, times, facts, categories, authors and organizations; totalCount {} (Kakehashi) and {} (PostGraphile)",
            which.label(),
            a.rows.len(),
            a.total,
            b.total
        );
        if a.rows.len() != PAGE_SIZE {
            bail!("the {} page has {} entries", which.label(), a.rows.len());
        }
        if a.total != b.total {
            bail!("totalCount differs");
        }
    }
    for t in [k, p] {
        for (which, (_, expected)) in &t.pages {
            if expected.is_none() {
                println!(
                    "note: {}'s {} page is not the same byte for byte twice; its bodies are not compared under load",
                    t.name,
                    which.label()
                );
            }
        }
    }
    Ok(())
}
