//! The three client events and the server's replies.
//!
//! The spec's "Client → Server" table:
//!
//! | Event         | Data                      | Description           |
//! |---------------|---------------------------|-----------------------|
//! | `subscribe`   | `{room: "agent:123"}`     | Subscribe to room     |
//! | `unsubscribe` | `{room: "agent:123"}`     | Unsubscribe from room |
//! | `heartbeat`   | `{timestamp: 1234567890}` | Client heartbeat      |
//!
//! and its replies: `subscribed {room}`, `unsubscribed {room}`, `heartbeat_ack {timestamp}`,
//! `error {message}`. The heartbeat reply echoes the client's `timestamp` verbatim (its exact
//! JSON text, so `1.50` stays `1.50` and a 20-digit number loses nothing) and adds
//! `server_time` in epoch milliseconds.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::quoted;
use super::room_names::parse_room;
use crate::Room;

/// Server event confirming a subscription; data from [`reply_subscribed`].
pub const EV_SUBSCRIBED: &str = "subscribed";
/// Server event confirming an unsubscription; data from [`reply_unsubscribed`].
pub const EV_UNSUBSCRIBED: &str = "unsubscribed";
/// Server event answering a heartbeat; data is [`ClientAction::Heartbeat`]'s `reply_json`.
pub const EV_HEARTBEAT_ACK: &str = "heartbeat_ack";
/// Server event reporting a bad client event; data from [`reply_error`].
pub const EV_ERROR: &str = "error";

/// What a client event asks the server to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientAction {
    /// Join the room (the runtime enforces `max_rooms_per_socket`), then emit `subscribed`.
    Subscribe(Room),
    /// Leave the room, then emit `unsubscribed`.
    Unsubscribe(Room),
    /// Emit `heartbeat_ack` with `reply_json` as its data.
    Heartbeat {
        /// `{"timestamp":<client's value>,"server_time":<epoch ms>}`.
        reply_json: String,
    },
    /// Emit `error` with [`reply_error`]`(&message)` as its data.
    Error {
        /// Names the event and the problem, e.g. `subscribe: "room" must be a string`.
        message: String,
    },
}

/// Interprets one client event. `args_json` is the JSON array of the event's arguments
/// (`[{"room":"agent:1"}]`); only the first is read. `now_ms` is the server's clock in epoch
/// milliseconds, for the heartbeat reply.
pub fn handle_client_event(name: &str, args_json: &str, now_ms: u64) -> ClientAction {
    let result = match name {
        "subscribe" => room_arg(name, args_json).map(ClientAction::Subscribe),
        "unsubscribe" => room_arg(name, args_json).map(ClientAction::Unsubscribe),
        "heartbeat" => heartbeat(args_json, now_ms),
        _ => Err(format!("unknown event {}", quoted(name))),
    };
    result.unwrap_or_else(|message| ClientAction::Error { message })
}

/// Data for `subscribed`: `{"room":"agent:1"}`.
pub fn reply_subscribed(room: &Room) -> String {
    json_object("room", room.as_str())
}

/// Data for `unsubscribed`: `{"room":"agent:1"}`.
pub fn reply_unsubscribed(room: &Room) -> String {
    json_object("room", room.as_str())
}

/// Data for `error`: `{"message":"…"}`, JSON-escaped.
pub fn reply_error(message: &str) -> String {
    json_object("message", message)
}

// --- helpers ---------------------------------------------------------------------------------

fn json_object(key: &str, value: &str) -> String {
    serde_json::json!({ key: value }).to_string()
}

/// An object member as raw JSON: `None` only when absent. (`Option<&RawValue>` would also read
/// an explicit `null` as `None`, and `{"room": null}` is a wrong type, not a missing field.)
#[derive(Default)]
pub(super) struct Member<'a>(pub(super) Option<&'a RawValue>);

impl<'de: 'a, 'a> Deserialize<'de> for Member<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <&'de RawValue>::deserialize(deserializer).map(|raw| Member(Some(raw)))
    }
}

/// The first argument, which must be a JSON object.
pub(super) fn first_object<'a>(
    event: &str,
    args_json: &'a str,
    shape: &str,
) -> Result<&'a RawValue, String> {
    let args: Vec<&RawValue> = serde_json::from_str(args_json)
        .map_err(|_| format!("{event}: arguments must be a JSON array"))?;
    let first = args
        .first()
        .ok_or_else(|| format!("{event}: missing data, expected {shape}"))?;
    // A raw value has no leading whitespace, so its first byte tells its type.
    if !first.get().starts_with('{') {
        return Err(format!("{event}: data must be an object, expected {shape}"));
    }
    Ok(first)
}

fn room_arg(event: &str, args_json: &str) -> Result<Room, String> {
    #[derive(Deserialize)]
    struct RoomData<'a> {
        #[serde(borrow, default)]
        room: Member<'a>,
    }
    let data = first_object(event, args_json, r#"{"room": "<name>"}"#)?;
    let data: RoomData<'_> = serde_json::from_str(data.get())
        .map_err(|_| format!("{event}: data must have a single \"room\""))?;
    let raw = data
        .room
        .0
        .ok_or_else(|| format!("{event}: missing \"room\""))?;
    let name: String = serde_json::from_str(raw.get())
        .map_err(|_| format!("{event}: \"room\" must be a string"))?;
    parse_room(&name).map_err(|e| format!("{event}: invalid room {}: {e}", quoted(&name)))
}

fn heartbeat(args_json: &str, now_ms: u64) -> Result<ClientAction, String> {
    #[derive(Deserialize)]
    struct HeartbeatData<'a> {
        #[serde(borrow, default)]
        timestamp: Member<'a>,
    }
    const EVENT: &str = "heartbeat";
    let data = first_object(EVENT, args_json, r#"{"timestamp": <number>}"#)?;
    let data: HeartbeatData<'_> = serde_json::from_str(data.get())
        .map_err(|_| format!("{EVENT}: data must have a single \"timestamp\""))?;
    let raw = data
        .timestamp
        .0
        .ok_or_else(|| format!("{EVENT}: missing \"timestamp\""))?;
    // A JSON number starts with '-' or a digit; every other JSON type starts otherwise.
    if !raw
        .get()
        .starts_with(|c: char| c == '-' || c.is_ascii_digit())
    {
        return Err(format!("{EVENT}: \"timestamp\" must be a number"));
    }
    let reply_json = format!(r#"{{"timestamp":{},"server_time":{now_ms}}}"#, raw.get());
    Ok(ClientAction::Heartbeat { reply_json })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(name: &str) -> Room {
        Room::from(name)
    }

    fn error(message: &str) -> ClientAction {
        ClientAction::Error {
            message: message.to_owned(),
        }
    }

    fn heartbeat_reply(json: &str) -> ClientAction {
        ClientAction::Heartbeat {
            reply_json: json.to_owned(),
        }
    }

    macro_rules! event_cases {
        ($($name:ident: ($event:expr, $args:expr) => $expected:expr;)*) => {$(
            #[test]
            fn $name() {
                assert_eq!(handle_client_event($event, $args, 1_700_000_000_123), $expected);
            }
        )*};
    }

    event_cases! {
        subscribe_agent: ("subscribe", r#"[{"room":"agent:1"}]"#) => ClientAction::Subscribe(room("agent:1"));
        subscribe_dashboard: ("subscribe", r#"[{"room":"dashboard"}]"#) => ClientAction::Subscribe(room("dashboard"));
        subscribe_uuid_spaced: ("subscribe", r#" [ { "room" : "task:123e4567-e89b-12d3-a456-426614174000" } ] "#)
            => ClientAction::Subscribe(room("task:123e4567-e89b-12d3-a456-426614174000"));
        subscribe_escaped_string: ("subscribe", r#"[{"room":"agent:\u0031"}]"#) => ClientAction::Subscribe(room("agent:1"));
        subscribe_extra_fields_ignored: ("subscribe", r#"[{"room":"agent:1","x":[1,2]}]"#) => ClientAction::Subscribe(room("agent:1"));
        subscribe_extra_args_ignored: ("subscribe", r#"[{"room":"agent:1"},"more"]"#) => ClientAction::Subscribe(room("agent:1"));
        unsubscribe_task: ("unsubscribe", r#"[{"room":"task:9"}]"#) => ClientAction::Unsubscribe(room("task:9"));
        unsubscribe_conversation: ("unsubscribe", r#"[{"room":"conversation:c-1"}]"#) => ClientAction::Unsubscribe(room("conversation:c-1"));
        subscribe_no_args: ("subscribe", "[]") => error(r#"subscribe: missing data, expected {"room": "<name>"}"#);
        subscribe_not_array: ("subscribe", r#"{"room":"agent:1"}"#) => error("subscribe: arguments must be a JSON array");
        subscribe_bad_json: ("subscribe", "[{") => error("subscribe: arguments must be a JSON array");
        subscribe_string_data: ("subscribe", r#"["agent:1"]"#) => error(r#"subscribe: data must be an object, expected {"room": "<name>"}"#);
        subscribe_array_data: ("subscribe", r#"[["agent:1"]]"#) => error(r#"subscribe: data must be an object, expected {"room": "<name>"}"#);
        subscribe_null_data: ("subscribe", "[null]") => error(r#"subscribe: data must be an object, expected {"room": "<name>"}"#);
        subscribe_missing_room: ("subscribe", r#"[{"rooms":"agent:1"}]"#) => error(r#"subscribe: missing "room""#);
        subscribe_room_number: ("subscribe", r#"[{"room":123}]"#) => error(r#"subscribe: "room" must be a string"#);
        subscribe_room_null: ("subscribe", r#"[{"room":null}]"#) => error(r#"subscribe: "room" must be a string"#);
        subscribe_room_array: ("subscribe", r#"[{"room":["agent:1"]}]"#) => error(r#"subscribe: "room" must be a string"#);
        subscribe_duplicate_room: ("subscribe", r#"[{"room":"agent:1","room":"agent:2"}]"#) => error(r#"subscribe: data must have a single "room""#);
        subscribe_unknown_kind: ("subscribe", r#"[{"room":"users:1"}]"#)
            => error(r#"subscribe: invalid room "users:1": unknown room kind (expected dashboard, agent:{id}, task:{id} or conversation:{id})"#);
        subscribe_user_room: ("subscribe", r#"[{"room":"user:1"}]"#)
            => error(r#"subscribe: invalid room "user:1": user rooms are server-managed"#);
        unsubscribe_user_room: ("unsubscribe", r#"[{"room":"user:alice"}]"#)
            => error(r#"unsubscribe: invalid room "user:alice": user rooms are server-managed"#);
        subscribe_empty_id: ("subscribe", r#"[{"room":"agent:"}]"#) => error(r#"subscribe: invalid room "agent:": room id is empty"#);
        unsubscribe_bad_char: ("unsubscribe", r#"[{"room":"task:a b"}]"#)
            => error(r#"unsubscribe: invalid room "task:a b": room id may only contain A-Z, a-z, 0-9, '.', '_' and '-'"#);
        subscribe_empty_room: ("subscribe", r#"[{"room":""}]"#) => error(r#"subscribe: invalid room "": room name is empty"#);
        heartbeat_integer: ("heartbeat", r#"[{"timestamp":1234567890}]"#)
            => heartbeat_reply(r#"{"timestamp":1234567890,"server_time":1700000000123}"#);
        heartbeat_float_verbatim: ("heartbeat", r#"[{"timestamp":1.50}]"#)
            => heartbeat_reply(r#"{"timestamp":1.50,"server_time":1700000000123}"#);
        heartbeat_exponent_verbatim: ("heartbeat", r#"[{"timestamp":1.7e12}]"#)
            => heartbeat_reply(r#"{"timestamp":1.7e12,"server_time":1700000000123}"#);
        heartbeat_huge_verbatim: ("heartbeat", r#"[{"timestamp":123456789012345678901234567890}]"#)
            => heartbeat_reply(r#"{"timestamp":123456789012345678901234567890,"server_time":1700000000123}"#);
        heartbeat_negative: ("heartbeat", r#"[{ "timestamp" : -5 }]"#)
            => heartbeat_reply(r#"{"timestamp":-5,"server_time":1700000000123}"#);
        heartbeat_string: ("heartbeat", r#"[{"timestamp":"1234"}]"#) => error(r#"heartbeat: "timestamp" must be a number"#);
        heartbeat_null: ("heartbeat", r#"[{"timestamp":null}]"#) => error(r#"heartbeat: "timestamp" must be a number"#);
        heartbeat_object: ("heartbeat", r#"[{"timestamp":{}}]"#) => error(r#"heartbeat: "timestamp" must be a number"#);
        heartbeat_missing: ("heartbeat", "[{}]") => error(r#"heartbeat: missing "timestamp""#);
        heartbeat_no_args: ("heartbeat", "[]") => error(r#"heartbeat: missing data, expected {"timestamp": <number>}"#);
        heartbeat_number_data: ("heartbeat", "[5]") => error(r#"heartbeat: data must be an object, expected {"timestamp": <number>}"#);
        unknown_event: ("foo", "[]") => error(r#"unknown event "foo""#);
        event_names_are_case_sensitive: ("Subscribe", r#"[{"room":"agent:1"}]"#) => error(r#"unknown event "Subscribe""#);
        unknown_event_escaped: ("a\"b\n", "[]") => error(r#"unknown event "a\"b\n""#);
        server_event_from_client: ("subscribed", r#"[{"room":"agent:1"}]"#) => error(r#"unknown event "subscribed""#);
    }

    #[test]
    fn unknown_event_name_is_cut_at_64_chars() {
        let name = "x".repeat(1000);
        let ClientAction::Error { message } = handle_client_event(&name, "[]", 0) else {
            panic!("expected an error");
        };
        assert_eq!(message, format!("unknown event \"{}\"…", "x".repeat(64)));
    }

    #[test]
    fn cut_respects_char_boundaries() {
        let name = "é".repeat(100);
        let ClientAction::Error { message } = handle_client_event(&name, "[]", 0) else {
            panic!("expected an error");
        };
        assert_eq!(message, format!("unknown event \"{}\"…", "é".repeat(64)));
    }

    #[test]
    fn heartbeat_reply_is_valid_json_with_both_fields() {
        let ClientAction::Heartbeat { reply_json } =
            handle_client_event("heartbeat", r#"[{"timestamp":42}]"#, 7)
        else {
            panic!("expected a heartbeat");
        };
        let value: serde_json::Value = serde_json::from_str(&reply_json).expect("valid JSON");
        assert_eq!(
            value,
            serde_json::json!({"timestamp": 42, "server_time": 7})
        );
    }

    macro_rules! reply_cases {
        ($($name:ident: $call:expr => $expected:expr;)*) => {$(
            #[test]
            fn $name() {
                assert_eq!($call, $expected);
            }
        )*};
    }

    reply_cases! {
        reply_subscribed_room: reply_subscribed(&room("agent:1")) => r#"{"room":"agent:1"}"#;
        reply_unsubscribed_room: reply_unsubscribed(&room("dashboard")) => r#"{"room":"dashboard"}"#;
        reply_error_plain: reply_error("bad") => r#"{"message":"bad"}"#;
        reply_error_escapes_quotes: reply_error(r#"subscribe: "room" must be a string"#)
            => r#"{"message":"subscribe: \"room\" must be a string"}"#;
        reply_error_escapes_controls: reply_error("a\nb\u{1}") => r#"{"message":"a\nb\u0001"}"#;
        reply_error_keeps_unicode: reply_error("é…") => "{\"message\":\"é…\"}";
    }
}
