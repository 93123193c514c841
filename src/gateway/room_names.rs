//! Room names: the spec's four kinds.
//!
//! The spec: "`dashboard` - Global events (auto-subscribed on connect); `agent:{id}` -
//! Agent-specific events; `task:{id}` - Task-specific events; `conversation:{id}` -
//! Conversation messages". Its examples use UUIDs and short numbers as ids; ringcast accepts
//! 1–128 characters of `[A-Za-z0-9._-]`, which covers both and keeps room names safe to log.

use std::fmt;

use crate::Room;

/// The room every socket joins on connect.
pub const DASHBOARD: &str = "dashboard";

/// The kind of the server-managed user rooms `user:{id}` (see `user_rooms`).
pub const USER_KIND: &str = "user";

/// Longest room id (the part after `kind:`). A UUID is 36.
pub const MAX_ROOM_ID_LEN: usize = 128;

/// Why a room name was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RoomError {
    /// The name is empty.
    Empty,
    /// Neither `dashboard` nor `agent:`, `task:` or `conversation:` followed by an id.
    UnknownKind,
    /// Nothing after the `kind:` prefix.
    EmptyId,
    /// The id is longer than [`MAX_ROOM_ID_LEN`].
    IdTooLong,
    /// The id has a character outside `[A-Za-z0-9._-]`.
    BadIdChar,
    /// `user:{id}`: only the server puts sockets there (at connect, from the token), so no
    /// client may subscribe to or leave one and no publisher may name one as a room.
    ServerManaged,
    /// A user id with a character outside printable ASCII, or a space, `"` or `\`.
    BadUserIdChar,
}

/// Validates a room name from a client or a publisher.
pub fn parse_room(name: &str) -> Result<Room, RoomError> {
    if name.is_empty() {
        return Err(RoomError::Empty);
    }
    if name == DASHBOARD {
        return Ok(Room::from(name));
    }
    let (kind, id) = name.split_once(':').ok_or(RoomError::UnknownKind)?;
    if kind == USER_KIND {
        return Err(RoomError::ServerManaged);
    }
    if !matches!(kind, "agent" | "task" | "conversation") {
        return Err(RoomError::UnknownKind);
    }
    check_id(id)?;
    Ok(Room::from(name))
}

impl RoomError {
    /// What is wrong, for the client's `error` event or a 400 body.
    pub fn message(self) -> &'static str {
        match self {
            RoomError::Empty => "room name is empty",
            RoomError::UnknownKind => {
                "unknown room kind (expected dashboard, agent:{id}, task:{id} or conversation:{id})"
            }
            RoomError::EmptyId => "room id is empty",
            RoomError::IdTooLong => "room id is longer than 128 characters",
            RoomError::BadIdChar => "room id may only contain A-Z, a-z, 0-9, '.', '_' and '-'",
            RoomError::ServerManaged => "user rooms are server-managed",
            RoomError::BadUserIdChar => {
                "user id may only contain printable ASCII other than space, '\"' and '\\'"
            }
        }
    }
}

impl fmt::Display for RoomError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for RoomError {}

/// The room `kind:id` for an id taken from event data (the publish API's routing).
pub(crate) fn room_for(kind: &str, id: &str) -> Result<Room, RoomError> {
    check_id(id)?;
    Ok(Room::from(format!("{kind}:{id}")))
}

fn check_id(id: &str) -> Result<(), RoomError> {
    if id.is_empty() {
        return Err(RoomError::EmptyId);
    }
    if id.len() > MAX_ROOM_ID_LEN {
        return Err(RoomError::IdTooLong);
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(RoomError::BadIdChar);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Ok(())`: accepted and returned unchanged; `Err(e)`: refused with `e`.
    macro_rules! room_cases {
        ($($name:ident: $input:expr => $expected:expr;)*) => {$(
            #[test]
            fn $name() {
                let input: String = $input;
                let expected: Result<(), RoomError> = $expected;
                let want = expected.map(|()| Room::from(input.as_str()));
                assert_eq!(parse_room(&input), want, "input {input:?}");
            }
        )*};
    }

    room_cases! {
        dashboard: "dashboard".into() => Ok(());
        agent_number: "agent:123".into() => Ok(());
        agent_uuid: "agent:123e4567-e89b-12d3-a456-426614174000".into() => Ok(());
        task_dots_underscores: "task:a.b_c-D9".into() => Ok(());
        conversation_one_char: "conversation:x".into() => Ok(());
        id_of_128: format!("task:{}", "a".repeat(128)) => Ok(());
        id_of_129: format!("task:{}", "a".repeat(129)) => Err(RoomError::IdTooLong);
        empty: String::new() => Err(RoomError::Empty);
        unknown_kind: "users:1".into() => Err(RoomError::UnknownKind);
        user_room_is_server_managed: "user:1".into() => Err(RoomError::ServerManaged);
        user_room_bare_is_server_managed: "user:".into() => Err(RoomError::ServerManaged);
        kind_is_case_sensitive: "Agent:1".into() => Err(RoomError::UnknownKind);
        dashboard_with_id: "dashboard:1".into() => Err(RoomError::UnknownKind);
        dashboard_prefix: "dashboards".into() => Err(RoomError::UnknownKind);
        bare_kind: "agent".into() => Err(RoomError::UnknownKind);
        empty_id: "agent:".into() => Err(RoomError::EmptyId);
        colon_in_id: "agent:a:b".into() => Err(RoomError::BadIdChar);
        space_in_id: "task:a b".into() => Err(RoomError::BadIdChar);
        slash_in_id: "task:a/b".into() => Err(RoomError::BadIdChar);
        non_ascii_id: "task:\u{e9}".into() => Err(RoomError::BadIdChar);
        leading_space: " agent:1".into() => Err(RoomError::UnknownKind);
        trailing_newline: "agent:1\n".into() => Err(RoomError::BadIdChar);
        nul_in_id: "agent:1\0".into() => Err(RoomError::BadIdChar);
    }

    #[test]
    fn every_error_has_a_distinct_message() {
        let all = [
            RoomError::Empty,
            RoomError::UnknownKind,
            RoomError::EmptyId,
            RoomError::IdTooLong,
            RoomError::BadIdChar,
            RoomError::ServerManaged,
            RoomError::BadUserIdChar,
        ];
        let mut messages: Vec<&str> = all.iter().map(|e| e.message()).collect();
        messages.sort_unstable();
        messages.dedup();
        assert_eq!(messages.len(), all.len());
    }

    #[test]
    fn room_for_builds_and_validates() {
        assert_eq!(
            room_for("agent", "7").map(|r| r.as_str().to_owned()),
            Ok("agent:7".to_owned())
        );
        assert_eq!(room_for("task", ""), Err(RoomError::EmptyId));
        assert_eq!(room_for("task", "a b"), Err(RoomError::BadIdChar));
    }
}
