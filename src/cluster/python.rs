//! python-socketio's pub/sub manager messages (`AsyncRedisManager`, `RedisManager`; files
//! `src/socketio/async_pubsub_manager.py`, `pubsub_manager.py`, `packet.py`).
//!
//! One Redis channel (`socketio` by default) carries JSON objects with a `method`:
//!
//! ```json
//! {"method":"emit","event":"task:created","data":[{"id":7}],"binary":false,
//!  "namespace":"/","room":"task:7","skip_sid":null,"callback":null,"host_id":"<32 hex>"}
//! {"method":"disconnect","sid":"…","namespace":"/","host_id":"…"}
//! {"method":"enter_room"|"leave_room","sid":"…","room":"…","namespace":"/","host_id":"…"}
//! {"method":"close_room","room":"…","namespace":"/","host_id":"…"}
//! ```
//!
//! - `room` is a string, a list of rooms, or null (everyone in the namespace); a socket id as
//!   the room addresses that one client. `skip_sid` is a string, a list, or null.
//! - `data`, by version. ≥ 5.15.1 always sends a **list of arguments** (`emit(ev, x)` → `[x]`,
//!   `emit(ev, (a, b))` → `[a, b]`) and its receivers unwrap it: one item is one argument,
//!   otherwise each item is an argument. 5.14.x sends the raw payload (a dict, a string, a
//!   list…), which is one argument. The message has no version field (5.14.2 already added
//!   `binary`), so ringcast does what a ≥ 5.15.1 receiver does: **a list is the argument
//!   list, anything else is a single argument**, and `null` / `[null]` mean no argument (the
//!   server's `_emit_internal` turns `None` into an empty argument list). The one payload this
//!   reads differently from a 5.14.x receiver is a bare list sent by a 5.14.x publisher, which
//!   a ≥ 5.15.1 Python receiver splits the same way.
//! - `binary: true` (≥ 5.14.2): `data` is `[<payload with {"_placeholder":true,"num":N}>,
//!   "<base64 attachment 0>", …]` (`Packet.deconstruct_binary`); the payload is unwrapped as
//!   above after the attachments are taken off.
//! - `callback` asks for the single recipient's ack to be published back; ringcast delivers the
//!   event without an ack id and logs it (acks over Redis are out of scope).
//! - python-socketio ≤ 5.13 publishes with `pickle`: not supported (only the JSON form is read,
//!   which every version since 2015 also accepts on receipt).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use ringcast_codec::sio::check_placeholders;

use super::json::Json;
use super::wire::{WireError, args_array, event_frames};
use super::{RemoteCommand, Selector};
use crate::engine::BroadcastOp;
use crate::engine::Room;
use crate::engine::sid::Sid;

/// One message from the python-socketio channel.
#[derive(Debug, Clone, PartialEq)]
pub enum PythonMessage {
    Emit(PythonEmit),
    /// disconnect / enter_room / leave_room / close_room.
    Command(RemoteCommand),
    /// An ack travelling back to a Python host; never for ringcast.
    Callback,
    /// A method this version does not know.
    Unknown(String),
}

/// An `emit` message.
#[derive(Debug, Clone, PartialEq)]
pub struct PythonEmit {
    pub nsp: Room,
    /// Empty: everyone in the namespace.
    pub rooms: Vec<Room>,
    /// `skip_sid` entries that are socket ids (others cannot name a ringcast socket).
    pub skip: Vec<Sid>,
    pub event: String,
    /// JSON of the arguments without the brackets, placeholders in place.
    pub args: String,
    pub attachments: Vec<Bytes>,
    /// The publisher asked for the recipient's ack (not supported: delivered without one).
    pub wants_ack: bool,
    pub host_id: Option<String>,
}

impl PythonEmit {
    /// The broadcast, encoded once.
    pub fn to_op(&self) -> BroadcastOp {
        BroadcastOp {
            nsp: self.nsp.clone(),
            rooms: self.rooms.clone(),
            except: self.skip.clone(),
            except_rooms: Vec::new(),
            frames: event_frames(
                self.nsp.as_str(),
                &self.event,
                &self.args,
                self.attachments.iter().map(|b| &b[..]),
            ),
        }
    }
}

/// Parses one message of the python-socketio channel.
pub fn decode(payload: &[u8]) -> Result<PythonMessage, WireError> {
    // pickle protocol 2+ starts with PROTO (0x80); protocol 0/1 dumps of a dict start with `(`
    // or `}`: none of them can start JSON text.
    if matches!(payload.first(), Some(0x80 | b'(' | b'}')) {
        return Err(WireError::Pickle);
    }
    let value = Json::parse(payload)?;
    let method = value
        .get("method")
        .and_then(Json::as_str)
        .ok_or(WireError::MissingField("method"))?;
    let nsp = match value.get("namespace") {
        Some(Json::Str(s)) if !s.is_empty() => Room::from(s.as_str()),
        _ => Room::from("/"),
    };
    let str_field = |key: &'static str| {
        value
            .get(key)
            .and_then(Json::as_str)
            .map(Room::from)
            .ok_or(WireError::MissingField(key))
    };
    let one = |nsp: &Room, sid: Room| Selector {
        nsp: nsp.clone(),
        rooms: vec![sid],
        except: Vec::new(),
    };
    Ok(match method {
        "emit" => PythonMessage::Emit(decode_emit(&value, nsp)?),
        "disconnect" => PythonMessage::Command(RemoteCommand::Disconnect {
            selector: one(&nsp, str_field("sid")?),
            close: false,
        }),
        "enter_room" => PythonMessage::Command(RemoteCommand::Join {
            selector: one(&nsp, str_field("sid")?),
            rooms: vec![str_field("room")?],
        }),
        "leave_room" => PythonMessage::Command(RemoteCommand::Leave {
            selector: one(&nsp, str_field("sid")?),
            rooms: vec![str_field("room")?],
        }),
        // Everyone in the room leaves it.
        "close_room" => {
            let room = str_field("room")?;
            PythonMessage::Command(RemoteCommand::Leave {
                selector: one(&nsp, room.clone()),
                rooms: vec![room],
            })
        }
        "callback" => PythonMessage::Callback,
        other => PythonMessage::Unknown(other.to_owned()),
    })
}

fn decode_emit(value: &Json, nsp: Room) -> Result<PythonEmit, WireError> {
    let event = value
        .get("event")
        .and_then(Json::as_str)
        .ok_or(WireError::MissingField("event"))?
        .to_owned();
    let data = value.get("data").unwrap_or(&Json::Null);
    let (payload, attachments) = if value.get("binary") == Some(&Json::Bool(true)) {
        let Json::Array(items) = data else {
            return Err(WireError::MissingField("data"));
        };
        let (payload, encoded) = items.split_first().ok_or(WireError::MissingField("data"))?;
        let attachments = encoded
            .iter()
            .map(|a| {
                a.as_str()
                    .and_then(|s| STANDARD.decode(s).ok())
                    .map(Bytes::from)
                    .ok_or(WireError::BadBase64)
            })
            .collect::<Result<Vec<_>, _>>()?;
        (payload, attachments)
    } else {
        (data, Vec::new())
    };
    let args: &[Json] = match payload {
        Json::Null => &[],
        Json::Array(items) if items.len() == 1 && items[0] == Json::Null => &[],
        Json::Array(items) => items,
        single => std::slice::from_ref(single),
    };
    let mut text = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            text.push(b',');
        }
        arg.write(&mut text);
    }
    let args = String::from_utf8(text).map_err(|_| WireError::MissingField("data"))?;
    if !attachments.is_empty() {
        check_placeholders(&args_array(&args), attachments.len())?;
    }
    Ok(PythonEmit {
        nsp,
        rooms: string_or_list(value.get("room"))
            .into_iter()
            .map(Room::from)
            .collect(),
        skip: string_or_list(value.get("skip_sid"))
            .into_iter()
            .filter_map(Sid::parse)
            .collect(),
        event,
        args,
        attachments,
        wants_ack: matches!(value.get("callback"), Some(c) if *c != Json::Null),
        host_id: value
            .get("host_id")
            .and_then(Json::as_str)
            .map(str::to_owned),
    })
}

/// `"a"` → `["a"]`, `["a","b"]` → both, null/absent → none.
fn string_or_list(value: Option<&Json>) -> Vec<&str> {
    match value {
        Some(Json::Str(s)) => vec![s.as_str()],
        Some(Json::Array(items)) => items.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn emit(json: &str) -> PythonEmit {
        match decode(json.as_bytes()).unwrap() {
            PythonMessage::Emit(e) => e,
            other => panic!("{other:?}"),
        }
    }

    fn frame(e: &PythonEmit) -> String {
        String::from_utf8(e.to_op().frames[0].payload().to_vec()).unwrap()
    }

    /// (`data` as published, the Socket.IO packet ringcast's clients receive). One line per case.
    macro_rules! data_cases {
        ($($name:ident: $data:expr => $packet:expr;)*) => {$(
            #[test]
            fn $name() {
                let e = emit(&format!(r#"{{"method":"emit","event":"ev","data":{},"namespace":"/","room":null}}"#, $data));
                assert_eq!(frame(&e), $packet);
            }
        )*};
    }

    data_cases! {
        // ≥ 5.15.1: always a list of arguments.
        list_of_one_is_one_argument: r#"[{"id":7}]"# => r#"42["ev",{"id":7}]"#;
        list_of_two_is_two_arguments: r#"[1,"x"]"# => r#"42["ev",1,"x"]"#;
        list_with_a_list_argument: "[[1,2]]" => r#"42["ev",[1,2]]"#;
        empty_list_is_no_argument: "[]" => r#"42["ev"]"#;
        list_of_null_is_no_argument: "[null]" => r#"42["ev"]"#;
        two_nulls_are_two_arguments: "[null,null]" => r#"42["ev",null,null]"#;
        // 5.14.x: the raw payload, one argument.
        raw_object_is_one_argument: r#"{"id":7}"# => r#"42["ev",{"id":7}]"#;
        raw_string_is_one_argument: r#""hi""# => r#"42["ev","hi"]"#;
        raw_number_is_one_argument: "3.5" => r#"42["ev",3.5]"#;
        raw_null_is_no_argument: "null" => r#"42["ev"]"#;
        key_order_is_kept: r#"[{"z":1,"a":2}]"# => r#"42["ev",{"z":1,"a":2}]"#;
    }

    #[test]
    fn rooms_and_skip_sid_as_string_list_or_null() {
        let sid = "AAAAAAAAAAAAAAAAAAAB";
        let e = emit(&format!(
            r#"{{"method":"emit","event":"ev","data":[1],"room":"agent:7","skip_sid":"{sid}"}}"#
        ));
        assert_eq!(
            (e.rooms, e.skip),
            (vec![Room::from("agent:7")], vec![Sid::parse(sid).unwrap()])
        );
        let e = emit(&format!(
            r#"{{"method":"emit","event":"ev","data":[1],"room":["a","b"],"skip_sid":["{sid}","not a sid"]}}"#
        ));
        assert_eq!(
            (e.rooms, e.skip.len()),
            (vec![Room::from("a"), Room::from("b")], 1)
        );
        let e = emit(r#"{"method":"emit","event":"ev","data":[1],"room":null,"skip_sid":null}"#);
        assert!(e.rooms.is_empty() && e.skip.is_empty());
        assert_eq!(e.nsp, Room::from("/"));
        assert!(!e.wants_ack);
    }

    #[test]
    fn full_message_as_python_socketio_5_18_publishes_it() {
        let e = emit(
            r#"{"method": "emit", "event": "task:created", "data": [{"id": 7}], "binary": false, "namespace": "/",
                "room": "task:7", "skip_sid": null, "callback": null, "host_id": "0123456789abcdef0123456789abcdef"}"#,
        );
        assert_eq!(frame(&e), r#"42["task:created",{"id":7}]"#);
        assert_eq!(
            e.host_id.as_deref(),
            Some("0123456789abcdef0123456789abcdef")
        );
        assert_eq!(e.to_op().rooms, vec![Room::from("task:7")]);
    }

    #[test]
    fn binary_emit_carries_base64_attachments() {
        // emit("ev", (b"\x01\x02", {"k": b"\x03"})) → deconstruct_binary of the argument list.
        let e = emit(
            r#"{"method":"emit","event":"ev","binary":true,"room":null,
                "data":[[{"_placeholder":true,"num":0},{"k":{"_placeholder":true,"num":1}}],"AQI=","Aw=="]}"#,
        );
        let op = e.to_op();
        assert_eq!(
            frame(&e),
            r#"452-["ev",{"_placeholder":true,"num":0},{"k":{"_placeholder":true,"num":1}}]"#
        );
        assert_eq!(
            (&op.frames[1].payload()[..], &op.frames[2].payload()[..]),
            (&[1u8, 2][..], &[3u8][..])
        );
        // One binary argument: `[payload]` unwraps to the single placeholder.
        let e = emit(
            r#"{"method":"emit","event":"ev","binary":true,"data":[[{"_placeholder":true,"num":0}],"AA=="]}"#,
        );
        assert_eq!(frame(&e), r#"451-["ev",{"_placeholder":true,"num":0}]"#);
    }

    #[test]
    fn commands() {
        let one = |sid: &str| Selector {
            nsp: Room::from("/"),
            rooms: vec![Room::from(sid)],
            except: vec![],
        };
        let cases = [
            (
                r#"{"method":"disconnect","sid":"s1","namespace":"/","host_id":"h"}"#,
                RemoteCommand::Disconnect {
                    selector: one("s1"),
                    close: false,
                },
            ),
            (
                r#"{"method":"enter_room","sid":"s1","room":"r","namespace":"/"}"#,
                RemoteCommand::Join {
                    selector: one("s1"),
                    rooms: vec![Room::from("r")],
                },
            ),
            (
                r#"{"method":"leave_room","sid":"s1","room":"r","namespace":"/"}"#,
                RemoteCommand::Leave {
                    selector: one("s1"),
                    rooms: vec![Room::from("r")],
                },
            ),
            (
                r#"{"method":"close_room","room":"r","namespace":"/"}"#,
                RemoteCommand::Leave {
                    selector: one("r"),
                    rooms: vec![Room::from("r")],
                },
            ),
        ];
        for (json, want) in cases {
            assert_eq!(
                decode(json.as_bytes()),
                Ok(PythonMessage::Command(want)),
                "{json}"
            );
        }
        assert_eq!(decode(br#"{"method":"callback","host_id":"h","sid":"s","namespace":"/","id":1,"args":[]}"#), Ok(PythonMessage::Callback));
        assert_eq!(
            decode(br#"{"method":"frobnicate"}"#),
            Ok(PythonMessage::Unknown("frobnicate".into()))
        );
    }

    #[test]
    fn errors() {
        let cases: &[(&[u8], WireError)] = &[
            (b"\x80\x04\x95", WireError::Pickle),
            (b"(dp0\n", WireError::Pickle),
            (br#"{"event":"ev"}"#, WireError::MissingField("method")),
            (br#"{"method":"emit","data":[1]}"#, WireError::MissingField("event")),
            (br#"{"method":"disconnect"}"#, WireError::MissingField("sid")),
            (br#"{"method":"emit","event":"e","binary":true,"data":[[1],"***"]}"#, WireError::BadBase64),
            (br#"{"method":"emit","event":"e","binary":true,"data":[[{"_placeholder":true,"num":3}],"AA=="]}"#, WireError::Codec(ringcast_codec::sio::SioError::AttachmentMismatch)),
            (b"not json", WireError::Json(crate::cluster::json::JsonError::Invalid)),
        ];
        for (bytes, want) in cases {
            assert_eq!(
                decode(bytes).err(),
                Some(*want),
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn callback_requests_are_flagged() {
        let e =
            emit(r#"{"method":"emit","event":"ev","data":[1],"room":"s","callback":["s","/",3]}"#);
        assert!(e.wants_ack);
        assert_eq!(frame(&e), r#"42["ev",1]"#);
    }
}
