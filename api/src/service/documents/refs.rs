//! References from inside a stored document to other records: plain UUIDs in storage, so the
//! database's format does not depend on how the API spells ids. The GraphQL layer reads and
//! writes them as global `ID`s (`graphql::ids`), and checks on input that an id names a record
//! of the right kind.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An organization named in a document (提供事業者, 交付先, 担当, 照会先).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrganizationRef(pub Uuid);

/// An observation a document cites as its evidence (根拠の記録).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ObservationRef(pub Uuid);
