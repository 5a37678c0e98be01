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
