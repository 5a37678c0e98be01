//! Opaque global ids: `base64url("Type:uuid")`, so clients never build or parse them and `node`
//! can tell which table an id belongs to.

use async_graphql::ID;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

/// The global id of a record of `type_name`.
pub fn encode(type_name: &str, id: Uuid) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{type_name}:{id}")))
}

/// The GraphQL type of an outbox record type: its stored name, except care-team memberships.
pub fn record_type_name(t: entity::outbox_event::RecordType) -> &'static str {
    use entity::outbox_event::RecordType as T;
    match t {
        T::Client => "Client",
        T::CareTeamMembership => "CareTeamMember",
        T::SharingConsent => "SharingConsent",
        T::RecipientCertificate => "RecipientCertificate",
        T::Observation => "Observation",
        T::SupportPlan => "SupportPlan",
        T::Meeting => "Meeting",
        T::MeetingBrief => "MeetingBrief",
        T::MonitoringReport => "MonitoringReport",
        T::RestraintRecord => "RestraintRecord",
        T::AccidentReport => "AccidentReport",
        T::ComplaintRecord => "ComplaintRecord",
    }
}

/// The type name and UUID inside a global id; `BAD_USER_INPUT` when it is not one of ours.
pub fn decode_any(field: &str, id: &ID) -> ApiResult<(String, Uuid)> {
    let bad = || ApiError::bad_input(field, format!("{field} is not a valid id."));
    if id.len() > 128 {
        return Err(bad());
    }
    let bytes = URL_SAFE_NO_PAD.decode(id.as_str()).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (type_name, uuid) = text.split_once(':').ok_or_else(bad)?;
    let uuid = Uuid::parse_str(uuid).map_err(|_| bad())?;
    Ok((type_name.to_owned(), uuid))
}

/// The UUID inside a global id that must be of `type_name`. An id of another type is
/// `NOT_FOUND` (there is no such `type_name`), a malformed one `BAD_USER_INPUT`.
pub fn decode(type_name: &'static str, field: &str, id: &ID) -> ApiResult<Uuid> {
    let (found, uuid) = decode_any(field, id)?;
    if found == type_name {
        Ok(uuid)
    } else {
        Err(ApiError::NotFound(type_name))
    }
}

/// An opaque pagination cursor for a UUID key.
pub fn cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

/// The key inside a cursor.
pub fn decode_cursor(field: &str, cursor: &str) -> ApiResult<Uuid> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| Uuid::from_slice(&b).ok())
        .ok_or_else(|| ApiError::bad_input(field, format!("{field} is not a valid cursor.")))
}

/// A typed reference inside a document (`service::documents::refs`) read and written as the
/// global `ID` of its kind: the schema shows `ID`, storage holds the UUID. An input id is
/// checked before any resolver runs: another kind's id is `NOT_FOUND`, a malformed one
/// `BAD_USER_INPUT`, as with [`decode`].
macro_rules! document_ref {
    ($ty:ty, $kind:literal) => {
        impl async_graphql::InputType for $ty {
            type RawValueType = Self;

            fn type_name() -> std::borrow::Cow<'static, str> {
                <ID as async_graphql::InputType>::type_name()
            }

            fn create_type_info(registry: &mut async_graphql::registry::Registry) -> String {
                <ID as async_graphql::InputType>::create_type_info(registry)
            }

            fn parse(value: Option<async_graphql::Value>) -> async_graphql::InputValueResult<Self> {
                let id = <ID as async_graphql::InputType>::parse(value)
                    .map_err(async_graphql::InputValueError::propagate)?;
                // The same codes as `decode`: another kind's id names no such record
                // (NOT_FOUND); a malformed one is bad input.
                match decode_any("id", &id) {
                    Ok((kind, uuid)) if kind == $kind => Ok(Self(uuid)),
                    Ok(_) => Err(async_graphql::InputValueError::custom(concat!(
                        "not the id of an ",
                        $kind
                    ))
                    .with_extension("code", crate::error::ErrorCode::NotFound.as_str())),
                    Err(_) => Err(async_graphql::InputValueError::custom("not a valid id")
                        .with_extension("code", crate::error::ErrorCode::BadUserInput.as_str())),
                }
            }

            fn to_value(&self) -> async_graphql::Value {
                async_graphql::Value::String(encode($kind, self.0).0)
            }

            fn as_raw_value(&self) -> Option<&Self::RawValueType> {
                Some(self)
            }
        }

        impl async_graphql::OutputType for $ty {
            fn type_name() -> std::borrow::Cow<'static, str> {
                <ID as async_graphql::OutputType>::type_name()
            }

            fn create_type_info(registry: &mut async_graphql::registry::Registry) -> String {
                <ID as async_graphql::OutputType>::create_type_info(registry)
            }

            async fn resolve(
                &self,
                _: &async_graphql::ContextSelectionSet<'_>,
                _: &async_graphql::Positioned<async_graphql::parser::types::Field>,
            ) -> async_graphql::ServerResult<async_graphql::Value> {
                Ok(async_graphql::Value::String(encode($kind, self.0).0))
            }
        }
    };
}

document_ref!(crate::service::documents::OrganizationRef, "Organization");
document_ref!(crate::service::documents::ObservationRef, "Observation");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_foreign_or_broken_ones() {
        let u = Uuid::now_v7();
        let id = encode("Client", u);
        assert_eq!(decode("Client", "id", &id).unwrap(), u);
        assert_eq!(
            decode("Observation", "id", &id)
                .unwrap_err()
                .code()
                .as_str(),
            "NOT_FOUND"
        );
        for broken in ["", "!!!", "Q2xpZW50", &"A".repeat(500)] {
            assert_eq!(
                decode("Client", "id", &ID(broken.into()))
                    .unwrap_err()
                    .code()
                    .as_str(),
                "BAD_USER_INPUT"
            );
        }
        assert_eq!(decode_cursor("after", &cursor(u)).unwrap(), u);
        assert!(decode_cursor("after", "nope").is_err());
    }
}
