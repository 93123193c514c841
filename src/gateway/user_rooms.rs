//! User rooms: every socket joins the private room `user:{id}` named by its token's user claim
//! (`user_claim`, default `sub`), so a backend can reach one user on all their tabs with the
//! publish API's `users` target.
//!
//! The rule, in one place:
//! - a user id is 1–128 printable ASCII characters (0x21–0x7E) other than `"` and `\`: it goes
//!   into logs and JSON unescaped, and 128 matches the room ids' cap ([`MAX_ROOM_ID_LEN`]);
//! - the claim may be a JSON string or a non-negative integer (its digits), as ids in event
//!   data may;
//! - a token without the claim connects without a user room (tokens minted before this feature,
//!   or by a backend that has no users, keep working); a token whose claim is present but not a
//!   valid user id is refused at CONNECT, since its publisher could never address that user;
//! - clients never subscribe to or leave a `user:*` room, and publishers never name one as a
//!   room ([`super::RoomError::ServerManaged`]): the naming stays an internal detail.

use std::fmt;

use serde_json::Value;

use super::room_names::{MAX_ROOM_ID_LEN, RoomError, USER_KIND};
use crate::Room;
use crate::auth::Claims;

/// The room of user `id`, or why `id` is not a user id.
pub fn user_room(id: &str) -> Result<Room, RoomError> {
    if id.is_empty() {
        return Err(RoomError::EmptyId);
    }
    if id.len() > MAX_ROOM_ID_LEN {
        return Err(RoomError::IdTooLong);
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
    {
        return Err(RoomError::BadUserIdChar);
    }
    Ok(Room::from(format!("{USER_KIND}:{id}")))
}

/// Why a token's user claim names no valid user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserClaimError {
    /// The claim's name (`sub` by default).
    pub claim: String,
    /// What is wrong with its value.
    pub reason: String,
}

impl fmt::Display for UserClaimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid \"{}\" claim: {}", self.claim, self.reason)
    }
}

impl std::error::Error for UserClaimError {}

/// The user room of a token's `claim`: `Ok(None)` when the token has no such claim (it connects
/// without a user room), an error when the claim is there but names no valid user.
pub fn user_room_of(claims: &Claims, claim: &str) -> Result<Option<Room>, UserClaimError> {
    let error = |reason: &str| UserClaimError {
        claim: claim.to_owned(),
        reason: reason.to_owned(),
    };
    let id: String = if claim == "sub" {
        match &claims.sub {
            Some(sub) => sub.clone(),
            None => return Ok(None),
        }
    } else {
        match claims.extra.get(claim) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) if n.as_u64().is_some() => n.to_string(),
            Some(_) => return Err(error("must be a string or a non-negative integer")),
        }
    };
    user_room(&id)
        .map(Some)
        .map_err(|e| error(user_id_message(e)))
}

/// [`RoomError`]'s message for a user id (its `room id` wording names the wrong thing).
pub fn user_id_message(e: RoomError) -> &'static str {
    match e {
        RoomError::EmptyId => "user id is empty",
        RoomError::IdTooLong => "user id is longer than 128 characters",
        other => other.message(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(sub: Option<&str>, extra: Value) -> Claims {
        Claims {
            sub: sub.map(str::to_owned),
            exp: None,
            nbf: None,
            iat: None,
            rooms: None,
            extra: extra.as_object().cloned().unwrap_or_default().into(),
        }
    }

    #[test]
    fn user_room_table() {
        // (id, expected room or error)
        let cases: [(String, Result<&str, RoomError>); 10] = [
            ("alice".into(), Ok("user:alice")),
            ("42".into(), Ok("user:42")),
            ("a@b.c|x:y/z".into(), Ok("user:a@b.c|x:y/z")),
            ("a".repeat(128), Ok("")),
            ("a".repeat(129), Err(RoomError::IdTooLong)),
            (String::new(), Err(RoomError::EmptyId)),
            ("a b".into(), Err(RoomError::BadUserIdChar)),
            ("a\"b".into(), Err(RoomError::BadUserIdChar)),
            ("a\\b".into(), Err(RoomError::BadUserIdChar)),
            ("caf\u{e9}".into(), Err(RoomError::BadUserIdChar)),
        ];
        for (id, want) in cases {
            let got = user_room(&id);
            match want {
                Ok("") => assert_eq!(got, Ok(Room::from(format!("user:{id}"))), "{id:?}"),
                Ok(room) => assert_eq!(got, Ok(Room::from(room)), "{id:?}"),
                Err(e) => assert_eq!(got, Err(e), "{id:?}"),
            }
        }
        assert_eq!(user_room("a\nb"), Err(RoomError::BadUserIdChar));
        assert_eq!(user_room("a\u{7f}"), Err(RoomError::BadUserIdChar));
    }

    #[test]
    fn user_room_of_table() {
        let room = |s: &str| Ok(Some(Room::from(s)));
        let err = |claim: &str, reason: &str| {
            Err(UserClaimError {
                claim: claim.into(),
                reason: reason.into(),
            })
        };
        // (sub, extra claims, claim name, expected)
        let cases = vec![
            (Some("alice"), Value::Null, "sub", room("user:alice")),
            (None, Value::Null, "sub", Ok(None)),
            (
                Some("a b"),
                Value::Null,
                "sub",
                err(
                    "sub",
                    "user id may only contain printable ASCII other than space, '\"' and '\\'",
                ),
            ),
            (Some(""), Value::Null, "sub", err("sub", "user id is empty")),
            (
                Some("svc"),
                serde_json::json!({"uid": "u-1"}),
                "uid",
                room("user:u-1"),
            ),
            (
                Some("svc"),
                serde_json::json!({"uid": 7}),
                "uid",
                room("user:7"),
            ),
            (Some("svc"), serde_json::json!({}), "uid", Ok(None)),
            (
                Some("svc"),
                serde_json::json!({"uid": null}),
                "uid",
                Ok(None),
            ),
            (
                Some("svc"),
                serde_json::json!({"uid": -1}),
                "uid",
                err("uid", "must be a string or a non-negative integer"),
            ),
            (
                Some("svc"),
                serde_json::json!({"uid": ["a"]}),
                "uid",
                err("uid", "must be a string or a non-negative integer"),
            ),
        ];
        for (sub, extra, claim, want) in cases {
            assert_eq!(
                user_room_of(&claims(sub, extra.clone()), claim),
                want,
                "{sub:?} {extra} {claim}"
            );
        }
    }

    #[test]
    fn user_rooms_are_never_valid_client_rooms() {
        assert_eq!(
            super::super::parse_room("user:alice"),
            Err(RoomError::ServerManaged)
        );
    }
}
