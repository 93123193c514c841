//! The publish API's body (`POST /api/v1/emit`): which server events a backend may publish,
//! what their data must hold, and which rooms receive them.
//!
//! A body is one item or an array of up to [`MAX_PUBLISH_ITEMS`]:
//!
//! ```json
//! {"event": "agent:status_changed", "rooms": ["agent:1"], "data": {"agent_id": "1", "old_status": "idle", "new_status": "busy"}}
//! ```
//!
//! The spec's "Server → Client" table fixes the eight events and their fields; every field but
//! `timestamp` is required here, and `timestamp` (ISO 8601 UTC with milliseconds,
//! `2026-11-26T00:00:00.000Z`) is added when absent. The data is otherwise forwarded byte for
//! byte: numbers, key order and unknown fields are the publisher's.
//!
//! Without `rooms`, an event goes where the spec's rooms say it belongs:
//!
//! | event                                        | rooms                                            |
//! |----------------------------------------------|--------------------------------------------------|
//! | `agent:status_changed`, `agent:heartbeat`    | `agent:{agent_id}`, `dashboard`                  |
//! | `task:created`, `task:updated`, `task:completed` | `task:{task_id}`, `dashboard`                |
//! | `task:assigned`                              | `task:{task_id}`, `agent:{agent_id}`, `dashboard` |
//! | `conversation:message`                       | `conversation:{conversation_id}`                 |
//! | `system:alert`                               | `dashboard`                                      |
//!
//! Ids (`agent_id`, `task_id`, `conversation_id`) must be strings or non-negative integers;
//! used for routing they must also be valid room ids.
//!
//! Targets beyond rooms (all optional, each 1–1000 entries, errors name the entry: `users[1]`):
//!
//! | field            | means                                                          |
//! |------------------|----------------------------------------------------------------|
//! | `users`          | every socket of these users (their `user:{id}` rooms)          |
//! | `sockets`        | these sockets (Socket.IO ids; a socket id is its own room)     |
//! | `except_rooms`   | no socket in any of these rooms                                |
//! | `except_users`   | no socket of these users                                       |
//! | `except_sockets` | not these sockets                                              |
//!
//! `rooms`, `users` and `sockets` add up (a socket matched twice gets the event once); when an
//! item has none of them the event is routed by the table above. User rooms are never named
//! in `rooms`/`except_rooms`: those answer 400 pointing to `users`/`except_users`.
//!
//! The caller bounds the body's size (e.g. by `max_payload`) before calling; this module
//! bounds the item and room counts.

use std::borrow::Cow;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::quoted;
use super::room_names::{DASHBOARD, RoomError, parse_room, room_for};
use super::user_rooms::{user_id_message, user_room};
use crate::Room;
use crate::engine::Sid;

/// Most items in one array body. A backend with more splits them; 1000 keeps one request's
/// work (and the 400 it may earn) bounded.
pub const MAX_PUBLISH_ITEMS: usize = 1000;

/// Most explicit rooms in one item; also the cap of each target list (`users`, `sockets`,
/// `except_*`).
pub const MAX_PUBLISH_ROOMS: usize = 1000;

/// The eight events a backend may publish, in the spec's order.
pub const SERVER_EVENTS: [&str; 8] = [
    "agent:status_changed",
    "agent:heartbeat",
    "task:created",
    "task:assigned",
    "task:updated",
    "task:completed",
    "conversation:message",
    "system:alert",
];

/// One event to broadcast: its name, its rooms (deduplicated, in routing order) and its data
/// as JSON text with `timestamp` filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publish {
    /// One of [`SERVER_EVENTS`].
    pub event: &'static str,
    /// Where it goes; never empty: rooms, user rooms and socket ids (a sid is a room).
    pub rooms: Vec<Room>,
    /// Sockets in any of these rooms (rooms and user rooms) do not get it.
    pub except_rooms: Vec<Room>,
    /// These sockets do not get it.
    pub except: Vec<Sid>,
    /// The event's data, a JSON object.
    pub data_json: String,
}

/// Why a publish body was refused: the HTTP API answers 400 with [`InvalidPublish::to_json`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidPublish {
    /// Where: `body`, `event`, `rooms[2]`, `data.agent_id`; in an array body prefixed with the
    /// item's index, `[3].data.task_id`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// Parses and validates a publish body. `now` fills in absent timestamps (one value for the
/// whole request).
pub fn parse_publish(body: &[u8], now: SystemTime) -> Result<Vec<Publish>, InvalidPublish> {
    let text = std::str::from_utf8(body).map_err(|_| InvalidPublish::new("body", "not UTF-8"))?;
    let timestamp = iso8601_utc(now);
    match text.trim_start().as_bytes().first() {
        Some(b'{') => {
            let item: &RawValue = serde_json::from_str(text)
                .map_err(|e| InvalidPublish::new("body", json_error(&e)))?;
            Ok(vec![parse_item(item, &timestamp, "")?])
        }
        Some(b'[') => {
            let items = serde_json::from_str::<BoundedItems<'_>>(text)
                .map_err(|e| match e.classify() {
                    // The only data error an array of raw values can raise is the item cap;
                    // the body is valid JSON, so the message must not say it is not.
                    serde_json::error::Category::Data => InvalidPublish::new(
                        "body",
                        format!(
                            "more than {MAX_PUBLISH_ITEMS} events in one request; send them \
                             in several"
                        ),
                    ),
                    _ => InvalidPublish::new("body", json_error(&e)),
                })?
                .0;
            if items.is_empty() {
                return Err(InvalidPublish::new(
                    "body",
                    "empty array: nothing to publish",
                ));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, item)| parse_item(item, &timestamp, &format!("[{i}].")))
                .collect()
        }
        _ => Err(InvalidPublish::new(
            "body",
            "must be a JSON object or an array of objects",
        )),
    }
}

/// `2026-11-26T00:00:00.000Z`: ISO 8601 / RFC 3339 UTC with milliseconds, as JavaScript's
/// `Date.prototype.toISOString` writes it. Times before 1970 are written as the epoch.
pub fn iso8601_utc(t: SystemTime) -> String {
    let ms = t
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    // Past year 275 760 (no clock gets there) JavaScript would throw; write its last date.
    ringcast_codec::date::iso8601(ms.min(ringcast_codec::date::MAX_JS_MS)).unwrap_or_default()
}

impl InvalidPublish {
    /// An error at `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> InvalidPublish {
        InvalidPublish {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The 400 body: `{"error":"…","field":"…"}`.
    pub fn to_json(&self) -> String {
        serde_json::json!({ "error": self.message, "field": self.field }).to_string()
    }
}

impl fmt::Display for InvalidPublish {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for InvalidPublish {}

// --- helpers ---------------------------------------------------------------------------------

/// How an event is routed when the item has no `rooms`.
#[derive(Clone, Copy)]
enum DefaultRooms {
    /// `agent:{agent_id}` + `dashboard`.
    Agent,
    /// `task:{task_id}` + `dashboard`.
    Task,
    /// `task:{task_id}` + `agent:{agent_id}` + `dashboard`.
    TaskAndAgent,
    /// `conversation:{conversation_id}`.
    Conversation,
    /// `dashboard`.
    Dashboard,
}

struct EventSpec {
    name: &'static str,
    /// The spec table's fields except `timestamp`. `agent:heartbeat`'s `metadata` is optional:
    /// a heartbeat without metadata still says the agent is alive.
    required: &'static [&'static str],
    route: DefaultRooms,
}

const EVENTS: [EventSpec; 8] = [
    EventSpec {
        name: "agent:status_changed",
        required: &["agent_id", "old_status", "new_status"],
        route: DefaultRooms::Agent,
    },
    EventSpec {
        name: "agent:heartbeat",
        required: &["agent_id"],
        route: DefaultRooms::Agent,
    },
    EventSpec {
        name: "task:created",
        required: &["task_id", "task"],
        route: DefaultRooms::Task,
    },
    EventSpec {
        name: "task:assigned",
        required: &["task_id", "agent_id", "task"],
        route: DefaultRooms::TaskAndAgent,
    },
    EventSpec {
        name: "task:updated",
        required: &["task_id", "update"],
        route: DefaultRooms::Task,
    },
    EventSpec {
        name: "task:completed",
        required: &["task_id", "result"],
        route: DefaultRooms::Task,
    },
    EventSpec {
        name: "conversation:message",
        required: &["conversation_id", "message"],
        route: DefaultRooms::Conversation,
    },
    EventSpec {
        name: "system:alert",
        required: &["message", "severity"],
        route: DefaultRooms::Dashboard,
    },
];

/// Data fields that name a room id: typed strictly (string or integer) whether or not they
/// are used for routing, since clients use them as ids.
const ID_FIELDS: [&str; 3] = ["agent_id", "task_id", "conversation_id"];

const ITEM_FIELDS: [&str; 8] = [
    "event",
    "rooms",
    "data",
    "users",
    "sockets",
    "except_rooms",
    "except_users",
    "except_sockets",
];

/// A JSON array of at most [`MAX_PUBLISH_ITEMS`] raw values; the visitor stops at item 1001
/// instead of parsing an unbounded array first.
struct BoundedItems<'a>(Vec<&'a RawValue>);

impl<'de> Deserialize<'de> for BoundedItems<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ItemsVisitor;
        impl<'de> Visitor<'de> for ItemsVisitor {
            type Value = BoundedItems<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of events")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<&'de RawValue>()? {
                    if items.len() == MAX_PUBLISH_ITEMS {
                        return Err(serde::de::Error::custom(format!(
                            "more than {MAX_PUBLISH_ITEMS} events in one request"
                        )));
                    }
                    items.push(item);
                }
                Ok(BoundedItems(items))
            }
        }
        deserializer.deserialize_seq(ItemsVisitor)
    }
}

/// A JSON object's members as raw values, in order, refusing duplicate keys (a publisher's
/// router and a browser's `JSON.parse` could otherwise read different values).
struct RawObject<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'a> RawObject<'a> {
    fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    /// `field` names the object in errors; `key_prefix` goes before a member's name
    /// (`data.` for the data, `[3].` for an item of an array body).
    fn parse(
        raw: &'a RawValue,
        field: &str,
        key_prefix: &str,
    ) -> Result<RawObject<'a>, InvalidPublish> {
        if !raw.get().starts_with('{') {
            return Err(InvalidPublish::new(field, "must be an object"));
        }
        let object: RawObject<'a> = serde_json::from_str(raw.get())
            .map_err(|e| InvalidPublish::new(field, json_error(&e)))?;
        // Sorting keeps this O(n log n): a 1 MB body can hold ~100 000 keys.
        let mut keys: Vec<&str> = object.0.iter().map(|(k, _)| k.as_ref()).collect();
        keys.sort_unstable();
        if let Some(pair) = keys.windows(2).find(|w| w[0] == w[1]) {
            return Err(InvalidPublish::new(
                format!("{key_prefix}{}", pair[0]),
                "duplicate key",
            ));
        }
        Ok(object)
    }
}

impl<'de> Deserialize<'de> for RawObject<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Key<'a>(#[serde(borrow)] Cow<'a, str>);

        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = RawObject<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some((Key(key), value)) = map.next_entry::<Key<'de>, &'de RawValue>()? {
                    members.push((key, value));
                }
                Ok(RawObject(members))
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// serde_json's message, which names the line and column.
fn json_error(e: &serde_json::Error) -> String {
    format!("invalid JSON: {e}")
}

fn parse_item(item: &RawValue, timestamp: &str, prefix: &str) -> Result<Publish, InvalidPublish> {
    let at = |field: &str| format!("{prefix}{field}");
    let item_field = if prefix.is_empty() {
        "body"
    } else {
        &prefix[..prefix.len() - 1]
    };
    let object = RawObject::parse(item, item_field, prefix)?;
    if let Some((key, _)) = object
        .0
        .iter()
        .find(|(k, _)| !ITEM_FIELDS.contains(&k.as_ref()))
    {
        return Err(InvalidPublish::new(
            at(key),
            "unknown field (expected event, rooms, data, users, sockets, except_rooms, \
             except_users, except_sockets)",
        ));
    }

    let event_raw = object
        .get("event")
        .ok_or_else(|| InvalidPublish::new(at("event"), "missing"))?;
    let event: Cow<'_, str> = serde_json::from_str(event_raw.get())
        .map_err(|_| InvalidPublish::new(at("event"), "must be a string"))?;
    let spec = EVENTS.iter().find(|s| s.name == event).ok_or_else(|| {
        InvalidPublish::new(
            at("event"),
            format!(
                "unknown event {} (expected one of {})",
                quoted(&event),
                SERVER_EVENTS.join(", ")
            ),
        )
    })?;

    let data_raw = object
        .get("data")
        .ok_or_else(|| InvalidPublish::new(at("data"), "missing"))?;
    let data = RawObject::parse(data_raw, &at("data"), &at("data."))?;
    for field in spec.required {
        if data.get(field).is_none() {
            return Err(InvalidPublish::new(
                at(&format!("data.{field}")),
                format!("missing (required by {})", spec.name),
            ));
        }
    }
    let mut ids: Vec<(&str, String)> = Vec::with_capacity(2);
    for field in ID_FIELDS {
        if let Some(raw) = data.get(field) {
            let id = id_text(raw).ok_or_else(|| {
                InvalidPublish::new(
                    at(&format!("data.{field}")),
                    "must be a string or a non-negative integer",
                )
            })?;
            ids.push((field, id));
        }
    }

    check_typed_fields(&data, &at)?;

    let mut rooms: Vec<Room> = Vec::new();
    if let Some(raw) = object.get("rooms") {
        rooms = explicit_rooms(raw, &at("rooms"), "users")?;
    }
    if let Some(raw) = object.get("users") {
        add_unique(&mut rooms, users(raw, &at("users"))?);
    }
    if let Some(raw) = object.get("sockets") {
        let sids = sockets(raw, &at("sockets"))?;
        add_unique(
            &mut rooms,
            sids.iter().map(|s| Room::from(s.as_str())).collect(),
        );
    }
    let targeted = ["rooms", "users", "sockets"]
        .iter()
        .any(|f| object.get(f).is_some());
    if !targeted {
        rooms = route(spec.route, &ids, &|f: &str| at(&format!("data.{f}")))?;
    }
    let mut except_rooms: Vec<Room> = Vec::new();
    if let Some(raw) = object.get("except_rooms") {
        except_rooms = explicit_rooms(raw, &at("except_rooms"), "except_users")?;
    }
    if let Some(raw) = object.get("except_users") {
        add_unique(&mut except_rooms, users(raw, &at("except_users"))?);
    }
    let except = match object.get("except_sockets") {
        Some(raw) => sockets(raw, &at("except_sockets"))?,
        None => Vec::new(),
    };

    let data_json = if data.get("timestamp").is_some() {
        data_raw.get().to_owned()
    } else {
        // Every event has at least one required field, so the object is non-empty and a
        // comma after the inserted member is always right. A raw value starts at its '{'.
        let rest = &data_raw.get()[1..];
        let mut out = String::with_capacity(data_raw.get().len() + 40);
        out.push_str("{\"timestamp\":\"");
        out.push_str(timestamp);
        out.push_str("\",");
        out.push_str(rest);
        out
    };
    Ok(Publish {
        event: spec.name,
        rooms,
        except_rooms,
        except,
        data_json,
    })
}

/// The data fields with a type every event shares: `timestamp` (when the publisher gives one)
/// is an ISO 8601 date-time string, as the one filled in is, and `severity` (`system:alert`) is
/// a string. The spec names no set of severities, so any string passes; the README suggests
/// `info`, `warning`, `error`, `critical`.
fn check_typed_fields(
    data: &RawObject<'_>,
    at: &dyn Fn(&str) -> String,
) -> Result<(), InvalidPublish> {
    if let Some(raw) = data.get("timestamp") {
        let text = serde_json::from_str::<Cow<'_, str>>(raw.get()).ok();
        if !text.as_deref().is_some_and(is_iso8601_date_time) {
            return Err(InvalidPublish::new(
                at("data.timestamp"),
                "must be an ISO 8601 date-time string like \"2026-11-26T00:00:00.000Z\" \
                 (leave it out and the server fills it in)",
            ));
        }
    }
    if let Some(raw) = data.get("severity")
        && serde_json::from_str::<Cow<'_, str>>(raw.get()).is_err()
    {
        return Err(InvalidPublish::new(
            at("data.severity"),
            "must be a string, e.g. \"info\", \"warning\", \"error\" or \"critical\"",
        ));
    }
    Ok(())
}

/// RFC 3339's `date-time` (the ISO 8601 profile JSON and JavaScript use):
/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, `t`/`z` and a space for `T` allowed as RFC 3339
/// §5.6 notes. Field ranges are checked (month 1-12, day 1-31, hour 0-23, minute 0-59, second
/// 0-60 for a leap second); the day is not checked against its month.
fn is_iso8601_date_time(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(range)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let in_range = |range, min, max| digits(range).is_some_and(|n| (min..=max).contains(&n));
    let date_time_ok = digits(0..4).is_some()
        && b.get(4) == Some(&b'-')
        && in_range(5..7, 1, 12)
        && b.get(7) == Some(&b'-')
        && in_range(8..10, 1, 31)
        && matches!(b.get(10), Some(b'T' | b't' | b' '))
        && in_range(11..13, 0, 23)
        && b.get(13) == Some(&b':')
        && in_range(14..16, 0, 59)
        && b.get(16) == Some(&b':')
        && in_range(17..19, 0, 60);
    if !date_time_ok {
        return false;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        let fraction = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if fraction == 0 {
            return false;
        }
        i += 1 + fraction;
    }
    match b.get(i) {
        Some(b'Z' | b'z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            i + 6 == b.len()
                && in_range(i + 1..i + 3, 0, 23)
                && b.get(i + 3) == Some(&b':')
                && in_range(i + 4..i + 6, 0, 59)
        }
        _ => false,
    }
}

/// An id as room-id text: a JSON string's content, or a non-negative integer's digits.
fn id_text(raw: &RawValue) -> Option<String> {
    let text = raw.get();
    if text.starts_with('"') {
        return serde_json::from_str::<String>(text).ok();
    }
    text.parse::<u64>().ok().map(|n| n.to_string())
}

/// A target list: a JSON array of 1–[`MAX_PUBLISH_ROOMS`] strings (`what` names them; `empty`
/// is the message for `[]`).
fn string_list<'a>(
    raw: &'a RawValue,
    field: &str,
    what: &str,
    empty: &str,
) -> Result<Vec<Cow<'a, str>>, InvalidPublish> {
    let names: Vec<Cow<'a, str>> = if raw.get().starts_with('[') {
        serde_json::from_str::<Vec<Cow<'a, str>>>(raw.get()).ok()
    } else {
        None
    }
    .ok_or_else(|| InvalidPublish::new(field, format!("must be an array of {what}")))?;
    if names.is_empty() {
        return Err(InvalidPublish::new(field, empty));
    }
    if names.len() > MAX_PUBLISH_ROOMS {
        return Err(InvalidPublish::new(
            field,
            format!("more than {MAX_PUBLISH_ROOMS} {what} in one event"),
        ));
    }
    Ok(names)
}

/// Appends the rooms of `more` not already in `rooms`, keeping the order.
fn add_unique(rooms: &mut Vec<Room>, more: Vec<Room>) {
    for room in more {
        if !rooms.contains(&room) {
            rooms.push(room);
        }
    }
}

/// `rooms` or `except_rooms`; a user room there is refused with a pointer to `users_field`.
fn explicit_rooms(
    raw: &RawValue,
    field: &str,
    users_field: &str,
) -> Result<Vec<Room>, InvalidPublish> {
    let empty = if users_field == "users" {
        "is empty (leave it out to route by event)"
    } else {
        "is empty (leave it out)"
    };
    let names = string_list(raw, field, "room names", empty)?;
    let mut rooms: Vec<Room> = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let room = parse_room(name).map_err(|e| {
            let message = match e {
                RoomError::ServerManaged => format!(
                    "invalid room {}: user rooms are server-managed; name the user in \
                     \"{users_field}\" instead",
                    quoted(name)
                ),
                e => format!("invalid room {}: {e}", quoted(name)),
            };
            InvalidPublish::new(format!("{field}[{i}]"), message)
        })?;
        if !rooms.contains(&room) {
            rooms.push(room);
        }
    }
    Ok(rooms)
}

/// `users` or `except_users`: user ids, as the tokens' user claim names them.
fn users(raw: &RawValue, field: &str) -> Result<Vec<Room>, InvalidPublish> {
    let ids = string_list(raw, field, "user ids", "is empty (leave it out)")?;
    let mut rooms: Vec<Room> = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let room = user_room(id).map_err(|e| {
            InvalidPublish::new(
                format!("{field}[{i}]"),
                format!("invalid user id {}: {}", quoted(id), user_id_message(e)),
            )
        })?;
        if !rooms.contains(&room) {
            rooms.push(room);
        }
    }
    Ok(rooms)
}

/// `sockets` or `except_sockets`: Socket.IO socket ids (`socket.id` on the client).
fn sockets(raw: &RawValue, field: &str) -> Result<Vec<Sid>, InvalidPublish> {
    let ids = string_list(raw, field, "socket ids", "is empty (leave it out)")?;
    let mut sids: Vec<Sid> = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let sid = Sid::parse(id).ok_or_else(|| {
            InvalidPublish::new(
                format!("{field}[{i}]"),
                format!(
                    "invalid socket id {}: expected the 20-character socket.id a client sees \
                     (A-Z, a-z, 0-9, '-', '_')",
                    quoted(id)
                ),
            )
        })?;
        if !sids.contains(&sid) {
            sids.push(sid);
        }
    }
    Ok(sids)
}

fn route(
    route: DefaultRooms,
    ids: &[(&str, String)],
    at: &dyn Fn(&str) -> String,
) -> Result<Vec<Room>, InvalidPublish> {
    let room = |kind: &str, field: &str| -> Result<Room, InvalidPublish> {
        // Required fields were checked before routing, so the id is present.
        let id = ids
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, id)| id.as_str())
            .ok_or_else(|| InvalidPublish::new(at(field), "missing"))?;
        room_for(kind, id).map_err(|e| {
            InvalidPublish::new(
                at(field),
                format!("cannot route to {kind}:{}: {e}", quoted(id)),
            )
        })
    };
    let dashboard = Room::from(DASHBOARD);
    Ok(match route {
        DefaultRooms::Agent => vec![room("agent", "agent_id")?, dashboard],
        DefaultRooms::Task => vec![room("task", "task_id")?, dashboard],
        DefaultRooms::TaskAndAgent => {
            vec![
                room("task", "task_id")?,
                room("agent", "agent_id")?,
                dashboard,
            ]
        }
        DefaultRooms::Conversation => vec![room("conversation", "conversation_id")?],
        DefaultRooms::Dashboard => vec![dashboard],
    })
}

mod answer;
#[cfg(test)]
mod tests;

pub use answer::{publish_answer, unconfirmed_events};
