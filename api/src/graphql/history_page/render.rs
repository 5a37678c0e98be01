//! Running a [`Plan`]: the resolvers' service calls in their order, then the page written
//! straight into the response's JSON. `None` anywhere means "let the executor answer".

use std::collections::HashMap;

use async_graphql::{InputType, Variables};
use entity::{observation, timeline_entry};
use uuid::Uuid;

use super::{
    Arg, ClientField, ConnectionField, EdgeField, EntryField, ItemField, Keyed, ObservationField,
    OrganizationField, PageInfoField, Plan, StaffField,
};
use crate::{
    auth::Credential,
    graphql::{
        history::history_kind,
        ids,
        observation::{ObservationCategory, RecordStatus, Visibility},
    },
    service::{
        Ctx, clients,
        history::{self, ObservationPage, PageAuthor, PageOrganization},
        timeline::{EntryKind, HistoryFilter, PageQuery},
    },
};

/// The page's `{"data": …}` body, or `None` when the executor must answer (see the module
/// above). Reads are audited only once the page is complete.
pub(crate) async fn answer(
    ctx: &Ctx,
    plan: &Plan,
    credential: &Credential,
    variables: &Variables,
) -> Option<String> {
    let viewer = credential.viewer()?;
    let client_id = match plan.client_id.value(variables)? {
        async_graphql::Value::String(s) => ids::decode("Client", "id", &s.into()).ok()?,
        _ => return None,
    };
    let first = match plan.first.value(variables) {
        None | Some(async_graphql::Value::Null) => None,
        Some(async_graphql::Value::Number(n)) => Some(i32::try_from(n.as_i64()?).ok()?),
        Some(_) => return None,
    };
    let after = match plan.after.value(variables) {
        None | Some(async_graphql::Value::Null) => None,
        Some(async_graphql::Value::String(s)) => Some(s),
        Some(_) => return None,
    };
    let scope = declined(ctx.scopes.get(&ctx.db, viewer.organization_id).await)?;
    declined(scope.require(client_id))?;
    // The entries and their observations in one statement (the resolvers take two).
    let query = PageQuery::new(
        &ctx.history_counts,
        &scope.narrowed(&[client_id]),
        client_id,
        &HistoryFilter::default(),
        (first, after.as_deref()),
        plan.counts_total,
    );
    let found = declined(
        history::observation_page(
            &ctx.db,
            &ctx.history_counts,
            declined(query)?,
            &plan.observation_columns,
            plan.shows_authors,
        )
        .await,
    )?;
    let edges: Vec<Edge> = found
        .page
        .items
        .iter()
        .filter_map(|(cursor, entry)| {
            let observation = found.records.get(&(entry.kind, entry.record_id))?;
            Some(Edge {
                cursor,
                entry,
                observation: observation.as_ref(),
            })
        })
        .collect();
    let page = Page {
        edges,
        found: &found,
    };
    let mut out = Out(Vec::with_capacity(256 + 400 * page.edges.len()));
    out.raw("{\"data\":{");
    out.key(&plan.client_key);
    out.raw("{");
    for (i, (key, field)) in plan.client.iter().enumerate() {
        out.comma(i);
        out.key(key);
        match field {
            ClientField::Typename => out.string("Client"),
            ClientField::Id => out.string(&ids::encode("Client", client_id)),
            ClientField::History(fields) => page.connection(&mut out, fields)?,
        }
    }
    out.raw("}}}");
    let body = String::from_utf8(out.0).ok()?;
    // The client's row and the audits, as the `client` and `history` resolvers do them. (Should
    // the second audit fail after the first, the executor's retry audits the client's row
    // twice: an audit may repeat a read, never miss one.)
    declined(clients::get(ctx, viewer, &scope, client_id).await)?;
    let read: Vec<Uuid> = found.page.items.iter().map(|(_, e)| e.record_id).collect();
    declined(
        ctx.read_audits
            .record(
                viewer,
                entity::read_audit::ReadOperation::History,
                vec![(Some(client_id), read)],
            )
            .await,
    )?;
    Some(body)
}

/// The value, or `None` (the executor answers) with the reason in the debug log.
fn declined<T, E: std::fmt::Debug>(result: Result<T, E>) -> Option<T> {
    result
        .map_err(|e| tracing::debug!(target: "kakehashi::history_page", "declined: {e:?}"))
        .ok()
}

impl Arg {
    /// The argument's value; `None` when left out (a variable not provided is left out too).
    fn value(&self, variables: &Variables) -> Option<async_graphql::Value> {
        match self {
            Arg::Absent => None,
            Arg::Literal(v) => Some(v.clone()),
            Arg::Variable(name) => variables.get(name).cloned(),
        }
    }
}

struct Edge<'a> {
    cursor: &'a str,
    entry: &'a timeline_entry::Model,
    /// The observation, for an observation's entry.
    observation: Option<&'a observation::Model>,
}

struct Page<'a> {
    edges: Vec<Edge<'a>>,
    found: &'a ObservationPage,
}

impl Page<'_> {
    fn connection(&self, out: &mut Out, fields: &Keyed<ConnectionField>) -> Option<()> {
        out.raw("{");
        for (i, (key, field)) in fields.iter().enumerate() {
            out.comma(i);
            out.key(key);
            match field {
                ConnectionField::Typename => out.string("HistoryConnection"),
                ConnectionField::TotalCount => out.raw(&self.found.page.total_count.to_string()),
                ConnectionField::PageInfo(fields) => self.page_info(out, fields),
                ConnectionField::Edges(fields) => {
                    out.raw("[");
                    for (n, edge) in self.edges.iter().enumerate() {
                        out.comma(n);
                        self.edge(out, edge, fields)?;
                    }
                    out.raw("]");
                }
            }
        }
        out.raw("}");
        Some(())
    }

    fn page_info(&self, out: &mut Out, fields: &Keyed<PageInfoField>) {
        out.raw("{");
        for (i, (key, field)) in fields.iter().enumerate() {
            out.comma(i);
            out.key(key);
            match field {
                PageInfoField::Typename => out.string("PageInfo"),
                PageInfoField::HasPreviousPage => out.boolean(self.found.page.has_previous_page),
                PageInfoField::HasNextPage => out.boolean(self.found.page.has_next_page),
                PageInfoField::StartCursor => out.optional(self.edges.first().map(|e| e.cursor)),
                PageInfoField::EndCursor => out.optional(self.edges.last().map(|e| e.cursor)),
            }
        }
        out.raw("}");
    }

    fn edge(&self, out: &mut Out, edge: &Edge, fields: &Keyed<EdgeField>) -> Option<()> {
        out.raw("{");
        for (i, (key, field)) in fields.iter().enumerate() {
            out.comma(i);
            out.key(key);
            match field {
                EdgeField::Typename => out.string("HistoryEdge"),
                EdgeField::Cursor => out.string(edge.cursor),
                EdgeField::Node(fields) => {
                    out.raw("{");
                    for (n, (key, field)) in fields.iter().enumerate() {
                        out.comma(n);
                        out.key(key);
                        match field {
                            EntryField::Typename => out.string("HistoryEntry"),
                            EntryField::Kind => out.enumeration(history_kind(edge.entry.kind)),
                            EntryField::OccurredAt => {
                                out.string(&edge.entry.occurred_at.to_rfc3339())
                            }
                            EntryField::Item(fields) => self.item(out, edge, fields)?,
                        }
                    }
                    out.raw("}");
                }
            }
        }
        out.raw("}");
        Some(())
    }

    fn item(&self, out: &mut Out, edge: &Edge, fields: &Keyed<ItemField>) -> Option<()> {
        out.raw("{");
        let mut written = 0;
        for (key, field) in fields {
            match (field, edge.observation) {
                (ItemField::Typename, _) => {
                    out.comma(written);
                    out.key(key);
                    out.string(type_name(edge.entry.kind));
                }
                (ItemField::Observation(field), Some(o)) => {
                    out.comma(written);
                    out.key(key);
                    self.observation(out, o, field)?;
                }
                (ItemField::Observation(_), None) => continue,
            }
            written += 1;
        }
        out.raw("}");
        Some(())
    }

    fn observation(
        &self,
        out: &mut Out,
        o: &observation::Model,
        field: &ObservationField,
    ) -> Option<()> {
        use ObservationField as F;
        match field {
            F::Typename => out.string("Observation"),
            F::Id => out.string(&ids::encode("Observation", o.id)),
            F::Fact => out.string(&o.fact),
            F::Interpretation => out.optional(o.interpretation.as_deref()),
            F::ClientWords => out.optional(o.client_words.as_deref()),
            F::Category => out.enumeration(ObservationCategory::from(o.category)),
            F::OccurredFrom => out.string(&o.occurred_from.to_rfc3339()),
            F::OccurredTo => out.optional(o.occurred_to.map(|t| t.to_rfc3339()).as_deref()),
            F::RecordedAt => out.string(&o.recorded_at.to_rfc3339()),
            F::UpdatedAt => out.string(&o.updated_at.to_rfc3339()),
            F::Visibility => out.enumeration(Visibility::from(o.visibility)),
            F::RecordStatus => out.enumeration(RecordStatus::from(o.status)),
            F::EnteredInErrorReason => out.optional(o.entered_in_error_reason.as_deref()),
            F::Tags => {
                out.raw("[");
                for (i, tag) in o.tags.0.iter().enumerate() {
                    out.comma(i);
                    out.string(tag);
                }
                out.raw("]");
            }
            F::Author(fields) => {
                let author = self.found.authors.get(&o.author_staff_member_id);
                if author.is_none() {
                    tracing::debug!(target: "kakehashi::history_page", "declined: no author");
                }
                let author = author?;
                staff(out, author, &self.found.organizations, fields)?;
            }
            F::Organization(fields) => {
                let org = self.found.organizations.get(&o.organization_id)?;
                organization(out, org, fields);
            }
        }
        Some(())
    }
}

fn staff(
    out: &mut Out,
    s: &PageAuthor,
    organizations: &HashMap<Uuid, PageOrganization>,
    fields: &Keyed<StaffField>,
) -> Option<()> {
    out.raw("{");
    for (i, (key, field)) in fields.iter().enumerate() {
        out.comma(i);
        out.key(key);
        match field {
            StaffField::Typename => out.string("StaffMember"),
            StaffField::Id => out.string(&ids::encode("StaffMember", s.id)),
            StaffField::DisplayName => out.string(&s.display_name),
            StaffField::Organization(fields) => {
                organization(out, organizations.get(&s.organization_id)?, fields);
            }
        }
    }
    out.raw("}");
    Some(())
}

fn organization(out: &mut Out, o: &PageOrganization, fields: &Keyed<OrganizationField>) {
    out.raw("{");
    for (i, (key, field)) in fields.iter().enumerate() {
        out.comma(i);
        out.key(key);
        match field {
            OrganizationField::Typename => out.string("Organization"),
            OrganizationField::Id => out.string(&ids::encode("Organization", o.id)),
            OrganizationField::Name => out.string(&o.name),
        }
    }
    out.raw("}");
}

/// The GraphQL type of an entry's record (the members of `HistoryItem`).
fn type_name(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Observation => "Observation",
        EntryKind::PlanVersion => "SupportPlanVersion",
        EntryKind::Meeting => "Meeting",
        EntryKind::Brief => "MeetingBrief",
        EntryKind::MonitoringReport => "MonitoringReport",
        EntryKind::ConsentGranted | EntryKind::ConsentRevoked => "SharingConsent",
        EntryKind::Restraint => "RestraintRecord",
        EntryKind::Accident => "AccidentReport",
        EntryKind::Complaint => "ComplaintRecord",
    }
}

/// The response being written, escaped as `serde_json` escapes the executor's answer.
struct Out(Vec<u8>);

impl Out {
    fn raw(&mut self, s: &str) {
        self.0.extend_from_slice(s.as_bytes());
    }

    fn comma(&mut self, index: usize) {
        if index > 0 {
            self.0.push(b',');
        }
    }

    fn key(&mut self, key: &str) {
        self.string(key);
        self.0.push(b':');
    }

    fn string(&mut self, s: &str) {
        // Writing into a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut self.0, s);
    }

    fn optional(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.string(s),
            None => self.raw("null"),
        }
    }

    fn boolean(&mut self, b: bool) {
        self.raw(if b { "true" } else { "false" });
    }

    /// An enum value under its GraphQL name, as the type itself renders it.
    fn enumeration(&mut self, value: impl InputType) {
        match value.to_value() {
            async_graphql::Value::Enum(name) => self.string(name.as_str()),
            _ => self.raw("null"),
        }
    }
}
