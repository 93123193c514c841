//! The classic `@socket.io/redis-adapter` (8.x) protocol, as spoken by Node.js socket.io nodes
//! and `@socket.io/redis-emitter` (socketio/socket.io-redis-adapter `lib/index.ts`,
//! socketio/socket.io-redis-emitter `lib/index.ts`).
//!
//! Channels for namespace `/` and the default key `socket.io`:
//!
//! | channel                        | carries                                                  |
//! |--------------------------------|----------------------------------------------------------|
//! | `socket.io#/#`                 | broadcasts to everyone or to more than one room          |
//! | `socket.io#/#<room>#`          | broadcasts to exactly one room (`opts.rooms.size === 1`) |
//! | `socket.io-request#/#`         | requests; `PUBSUB NUMSUB` of it is the server count      |
//! | `socket.io-response#/#`        | responses (`publishOnSpecificResponseChannel: false`)    |
//! | `socket.io-response#/#<uid>#`  | responses when that option is on                         |
//!
//! A broadcast is always notepack MessagePack: `[uid, packet, opts]` with
//! `packet = {type: 2, data: [event, ...args], nsp}` (keys in that order, `id` only for acks)
//! and `opts = {rooms: [..], except: [..], flags: {..}}` (the emitter writes `rooms, flags,
//! except`). Binary arguments travel as MessagePack `bin`, not split into placeholders.
//! Requests and responses are JSON, except the ones that can carry binary (BROADCAST with ack
//! and its BROADCAST_ACK): "if the buffer starts with a `{` character" it is JSON, else msgpack.

use std::borrow::Cow;

use ringcast_codec::json::write_str;
use ringcast_codec::sio::check_placeholders;

use super::json::Json;
use super::msgpack::{self, Item, Reader, Writer};
use super::wire::{WireError, args_array, event_frames, read_event};
use super::{RemoteCommand, Selector, SocketInfo};
use crate::engine::BroadcastOp;
use crate::engine::Room;
use crate::engine::sid::Sid;

mod ringcast_data;
pub use ringcast_data::{command_request, server_side_emit_request};
use ringcast_data::{socket_meta, write_data};

/// The adapter's `RequestType` enum (`lib/index.ts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RequestType {
    Sockets = 0,
    AllRooms = 1,
    RemoteJoin = 2,
    RemoteLeave = 3,
    RemoteDisconnect = 4,
    RemoteFetch = 5,
    ServerSideEmit = 6,
    Broadcast = 7,
    BroadcastClientCount = 8,
    BroadcastAck = 9,
}

/// The channel names of one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channels {
    /// `socket.io#/#`: broadcasts; room channels append `<room>#`.
    pub broadcast: String,
    /// `socket.io#/#*`: the one pattern that covers every broadcast channel.
    pub pattern: String,
    /// `socket.io-request#/#`.
    pub request: String,
    /// `socket.io-response#/#`.
    pub response: String,
    /// `socket.io-response#/#<uid>#`.
    pub own_response: String,
    prefix: String,
}

/// What a broadcast channel name designates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BroadcastChannel<'c> {
    /// `socket.io#/#`: everyone, or more than one room (the rooms are in the message).
    Shared,
    /// `socket.io#/#<room>#`: exactly this room.
    Room(&'c str),
    /// Not a broadcast channel of this namespace.
    Foreign,
}

impl Channels {
    /// Channels for `prefix` (the adapter's `key`, default `socket.io`), `nsp` and this node's uid.
    pub fn new(prefix: &str, nsp: &str, uid: &str) -> Channels {
        let broadcast = format!("{prefix}#{nsp}#");
        let response = format!("{prefix}-response#{nsp}#");
        Channels {
            pattern: format!("{broadcast}*"),
            broadcast,
            request: format!("{prefix}-request#{nsp}#"),
            own_response: format!("{response}{uid}#"),
            response,
            prefix: prefix.to_owned(),
        }
    }

    /// The channel a broadcast goes to: the room's own channel when it targets exactly one room
    /// (`if (opts.rooms && opts.rooms.size === 1) channel += room + "#"`), else the shared one.
    pub fn broadcast_channel(&self, nsp: &str, rooms: &[Room]) -> String {
        match rooms {
            [room] => format!("{}#{nsp}#{room}#", self.prefix),
            _ => format!("{}#{nsp}#", self.prefix),
        }
    }

    /// Classifies a channel the pattern matched. Node takes `channel.slice(prefix.length, -1)`
    /// as the room, so a room channel must end with `#`; without it (as some ports publish)
    /// Node would look up a truncated room, so it is not ours either.
    pub fn classify<'c>(&self, channel: &'c str) -> BroadcastChannel<'c> {
        match channel.strip_prefix(self.broadcast.as_str()) {
            Some("") => BroadcastChannel::Shared,
            Some(rest) => match rest.strip_suffix('#') {
                Some("") | None => BroadcastChannel::Foreign,
                Some(room) => BroadcastChannel::Room(room),
            },
            None => BroadcastChannel::Foreign,
        }
    }
}

/// A decoded broadcast envelope whose event data is still MessagePack (decoded only once the
/// uid and namespace say the message is for us).
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope<'a> {
    pub uid: Cow<'a, str>,
    /// `"/"` when the packet has none (as the adapter defaults it).
    pub nsp: Cow<'a, str>,
    pub packet_type: u64,
    pub id: Option<u64>,
    pub rooms: Vec<String>,
    pub except: Vec<String>,
    data: &'a [u8],
}

/// A broadcast from another node, ready for [`crate::cluster::LocalNode`].
#[derive(Debug, Clone)]
pub struct Inbound {
    pub op: BroadcastOp,
    /// `except` entries that are rooms rather than socket ids (`io.except("room")`); the
    /// engine's `BroadcastOp` only carries socket ids.
    pub except_rooms: Vec<Room>,
}

impl<'a> Envelope<'a> {
    /// Parses `[uid, packet, opts]`.
    pub fn parse(payload: &'a [u8]) -> Result<Envelope<'a>, WireError> {
        let mut r = Reader::new(payload);
        let len = match r.read()? {
            Item::Array(n) if n >= 3 => n,
            _ => return Err(WireError::NotAnEnvelope),
        };
        let uid = match r.read()? {
            Item::Str(s) => s,
            _ => return Err(WireError::NotAnEnvelope),
        };
        let (mut nsp, mut packet_type, mut id, mut data) = (Cow::Borrowed("/"), None, None, None);
        let Item::Map(fields) = r.read()? else {
            return Err(WireError::NotAnEnvelope);
        };
        for _ in 0..fields {
            let key = r.read()?;
            match key {
                Item::Str(k) if k == "type" => packet_type = Some(uint(r.read()?)?),
                Item::Str(k) if k == "nsp" => match r.read()? {
                    Item::Str(s) => nsp = s,
                    Item::Nil | Item::Undefined => {}
                    _ => return Err(WireError::NotAnEnvelope),
                },
                Item::Str(k) if k == "id" => match r.read()? {
                    Item::Nil | Item::Undefined => {}
                    other => id = Some(uint(other)?),
                },
                Item::Str(k) if k == "data" => {
                    let start = r.position();
                    r.skip()?;
                    data = Some(r.slice(start, r.position()));
                }
                _ => r.skip()?,
            }
        }
        let (mut rooms, mut except) = (Vec::new(), Vec::new());
        match r.read()? {
            Item::Map(fields) => {
                for _ in 0..fields {
                    match r.read()? {
                        Item::Str(k) if k == "rooms" => rooms = r.str_list()?,
                        Item::Str(k) if k == "except" => except = r.str_list()?,
                        _ => r.skip()?,
                    }
                }
            }
            Item::Nil | Item::Undefined => {}
            _ => return Err(WireError::NotAnEnvelope),
        }
        for _ in 3..len {
            r.skip()?;
        }
        r.finish()?;
        Ok(Envelope {
            uid,
            nsp,
            packet_type: packet_type.ok_or(WireError::NotAnEnvelope)?,
            id,
            rooms,
            except,
            data: data.ok_or(WireError::NotAnEnvelope)?,
        })
    }

    /// Decodes the event and encodes it once into frames. The ack id is not kept: acks from
    /// this node's clients could not be routed back to the emitting node.
    pub fn to_inbound(&self) -> Result<Inbound, WireError> {
        // socket.io-parser: EVENT = 2; BINARY_EVENT = 5 appears only if a publisher encoded it.
        if self.packet_type != 2 && self.packet_type != 5 {
            return Err(WireError::NotAnEvent);
        }
        let mut r = Reader::new(self.data);
        let (name, args, attachments) = event_from_msgpack(&mut r)?;
        r.finish()?;
        let (except, except_rooms) = split_except(&self.except);
        let op = BroadcastOp {
            nsp: Room::from(&*self.nsp),
            rooms: self.rooms.iter().map(|r| Room::from(r.as_str())).collect(),
            except,
            except_rooms: Vec::new(),
            frames: event_frames(&self.nsp, &name, &args, attachments.into_iter()),
        };
        Ok(Inbound { op, except_rooms })
    }
}

/// Encodes `op` exactly as the Node adapter publishes a broadcast:
/// `[uid, {type: 2, data: [event, ...args], nsp}, {rooms, except, flags: {}}]`.
pub fn encode_broadcast(uid: &str, op: &BroadcastOp, w: &mut Writer) -> Result<(), WireError> {
    let event = read_event(op)?;
    let args = match Json::parse(args_array(&event.args).as_bytes())? {
        Json::Array(items) => items,
        _ => return Err(WireError::NotAnEvent),
    };
    w.array(3);
    w.str(uid);
    w.map(if event.id.is_some() { 4 } else { 3 });
    w.str("type");
    w.uint(2);
    w.str("data");
    w.array(1 + args.len());
    w.str(&event.name);
    for arg in &args {
        arg.write_msgpack(w, &event.attachments)?;
    }
    w.str("nsp");
    w.str(op.nsp.as_str());
    if let Some(id) = event.id {
        w.str("id");
        w.uint(id);
    }
    w.map(3);
    w.str("rooms");
    w.array(op.rooms.len());
    for room in &op.rooms {
        w.str(room.as_str());
    }
    w.str("except");
    // Socket ids and rooms alike, as socket.io's `except` set holds them.
    w.array(op.except.len() + op.except_rooms.len());
    for sid in &op.except {
        w.str(sid.as_str());
    }
    for room in &op.except_rooms {
        w.str(room.as_str());
    }
    w.str("flags");
    w.map(0);
    Ok(())
}

/// A request on `socket.io-request#<nsp>#`, from a Node node or the emitter (which sends no uid).
#[derive(Debug, Clone)]
pub enum Request {
    /// SOCKETS (0), from adapters before `fetchSockets`: the socket ids in `rooms`.
    Sockets {
        uid: Option<String>,
        request_id: String,
        selector: Selector,
    },
    AllRooms {
        uid: Option<String>,
        request_id: String,
    },
    /// REMOTE_JOIN / REMOTE_LEAVE / REMOTE_DISCONNECT with `opts`: apply, no reply.
    Command {
        uid: Option<String>,
        command: RemoteCommand,
    },
    /// The pre-`opts` forms `{sid, room, requestId}` (`{sid, close, requestId}` for a
    /// disconnect): only the node that has `sid` applies it and replies `{requestId}`.
    Legacy {
        uid: Option<String>,
        request_id: Option<String>,
        sid: String,
        command: RemoteCommand,
    },
    Fetch {
        uid: Option<String>,
        request_id: String,
        selector: Selector,
    },
    /// ringcast registers no `serverSideEmit` listeners, so it never acknowledges one (exactly
    /// like a Node node without a listener: the requester counts it as a missing response).
    ServerSideEmit {
        uid: Option<String>,
        request_id: Option<String>,
        /// `data` (`[event, ...args]`) as JSON text, for the gateway's own events
        /// (`ringcast:revoke`).
        data: Option<String>,
    },
    /// BROADCAST (7): a broadcast that waits for client acks.
    BroadcastWithAck {
        uid: Option<String>,
        request_id: String,
        inbound: Inbound,
    },
    /// A type ringcast does not handle (responses sent to the request channel, future types).
    Other { uid: Option<String>, kind: u64 },
}

impl Request {
    /// The sender's uid (absent for the emitter).
    pub fn uid(&self) -> Option<&str> {
        match self {
            Request::Sockets { uid, .. }
            | Request::AllRooms { uid, .. }
            | Request::Command { uid, .. }
            | Request::Legacy { uid, .. }
            | Request::Fetch { uid, .. }
            | Request::ServerSideEmit { uid, .. }
            | Request::BroadcastWithAck { uid, .. }
            | Request::Other { uid, .. } => uid.as_deref(),
        }
    }
}

// Long by design (~110 lines): one arm per request type of the adapter, each reading its own
// fields, so the whole wire format of a request reads in one place.
/// Parses a request for namespace `nsp`.
pub fn decode_request(payload: &[u8], nsp: &str) -> Result<Request, WireError> {
    let (value, attachments) = json_or_msgpack(payload)?;
    let uid = value.get("uid").and_then(Json::as_str).map(str::to_owned);
    let request_id = value.get("requestId").and_then(json_id);
    let kind = match value.get("type") {
        Some(Json::UInt(n)) => *n,
        _ => return Err(WireError::MissingField("type")),
    };
    let need_id = || {
        request_id
            .clone()
            .ok_or(WireError::MissingField("requestId"))
    };
    let selector = |opts: Option<&Json>| Selector {
        nsp: Room::from(nsp),
        rooms: rooms(opts.and_then(|o| o.get("rooms"))),
        except: rooms(opts.and_then(|o| o.get("except"))),
    };
    let opts = value.get("opts");
    const JOIN: u64 = RequestType::RemoteJoin as u64;
    const LEAVE: u64 = RequestType::RemoteLeave as u64;
    const DISCONNECT: u64 = RequestType::RemoteDisconnect as u64;
    Ok(match kind {
        0 => Request::Sockets {
            uid,
            request_id: need_id()?,
            selector: Selector {
                nsp: Room::from(nsp),
                rooms: rooms(value.get("rooms")),
                except: Vec::new(),
            },
        },
        1 => Request::AllRooms {
            uid,
            request_id: need_id()?,
        },
        JOIN | LEAVE | DISCONNECT if opts.is_some() => {
            let selector = selector(opts);
            let command = match kind {
                JOIN => RemoteCommand::Join {
                    selector,
                    rooms: rooms(value.get("rooms")),
                },
                LEAVE => RemoteCommand::Leave {
                    selector,
                    rooms: rooms(value.get("rooms")),
                },
                _ => RemoteCommand::Disconnect {
                    selector,
                    close: value.get("close") == Some(&Json::Bool(true)),
                },
            };
            Request::Command { uid, command }
        }
        JOIN | LEAVE | DISCONNECT => {
            let sid = value
                .get("sid")
                .and_then(Json::as_str)
                .ok_or(WireError::MissingField("sid"))?;
            let selector = Selector {
                nsp: Room::from(nsp),
                rooms: vec![Room::from(sid)],
                except: Vec::new(),
            };
            let room = || {
                value
                    .get("room")
                    .and_then(Json::as_str)
                    .map(Room::from)
                    .ok_or(WireError::MissingField("room"))
            };
            let command = match kind {
                JOIN => RemoteCommand::Join {
                    selector,
                    rooms: vec![room()?],
                },
                LEAVE => RemoteCommand::Leave {
                    selector,
                    rooms: vec![room()?],
                },
                _ => RemoteCommand::Disconnect {
                    selector,
                    close: value.get("close") == Some(&Json::Bool(true)),
                },
            };
            Request::Legacy {
                uid,
                request_id,
                sid: sid.to_owned(),
                command,
            }
        }
        5 => Request::Fetch {
            uid,
            request_id: need_id()?,
            selector: selector(opts),
        },
        6 => Request::ServerSideEmit {
            uid,
            request_id,
            data: value.get("data").map(|d| {
                let mut text = Vec::new();
                d.write(&mut text);
                String::from_utf8_lossy(&text).into_owned()
            }),
        },
        7 => {
            let packet = value
                .get("packet")
                .ok_or(WireError::MissingField("packet"))?;
            let inbound = inbound_from_json(packet, opts, &attachments, nsp)?;
            Request::BroadcastWithAck {
                uid,
                request_id: need_id()?,
                inbound,
            }
        }
        other => Request::Other { uid, kind: other },
    })
}

/// A response to a request this node made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub request_id: String,
    /// ALL_ROOMS responses.
    pub rooms: Option<Vec<String>>,
    /// REMOTE_FETCH responses.
    pub sockets: Option<Vec<SocketInfo>>,
}

/// Parses a response (JSON or msgpack).
pub fn decode_response(payload: &[u8]) -> Result<Response, WireError> {
    let (value, _) = json_or_msgpack(payload)?;
    let request_id = value
        .get("requestId")
        .and_then(json_id)
        .ok_or(WireError::MissingField("requestId"))?;
    let strings = |v: &Json| match v {
        Json::Array(items) => Some(
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
        ),
        _ => None,
    };
    let rooms = value.get("rooms").and_then(strings);
    let sockets = match value.get("sockets") {
        Some(Json::Array(items)) => Some(
            items
                .iter()
                .filter_map(|s| {
                    let id = s.get("id")?.as_str()?.to_owned();
                    let rooms = s.get("rooms").and_then(strings).unwrap_or_default();
                    let meta = s
                        .get("data")
                        .and_then(|d| d.get("ringcast"))
                        .map(socket_meta);
                    Some(SocketInfo { id, rooms, meta })
                })
                .collect(),
        ),
        _ => None,
    };
    Ok(Response {
        request_id,
        rooms,
        sockets,
    })
}

// ---- what ringcast sends ----

/// ALL_ROOMS request: `{"uid","requestId","type":1}`.
pub fn all_rooms_request(uid: &str, request_id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    obj_start(&mut out, "uid", uid);
    str_field(&mut out, "requestId", request_id);
    out.extend_from_slice(b",\"type\":1}");
    out
}

/// REMOTE_FETCH request: `{"uid","requestId","type":5,"opts":{"rooms","except"}}`.
pub fn fetch_request(uid: &str, request_id: &str, selector: &Selector) -> Vec<u8> {
    let mut out = Vec::with_capacity(96);
    obj_start(&mut out, "uid", uid);
    str_field(&mut out, "requestId", request_id);
    out.extend_from_slice(b",\"type\":5,\"opts\":{\"rooms\":");
    str_array(&mut out, selector.rooms.iter().map(Room::as_str));
    out.extend_from_slice(b",\"except\":");
    str_array(&mut out, selector.except.iter().map(Room::as_str));
    out.extend_from_slice(b"}}");
    out
}

/// Answer to ALL_ROOMS: `{"requestId","rooms":[..]}`.
pub fn all_rooms_response(request_id: &str, rooms: &[Room]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    obj_start(&mut out, "requestId", request_id);
    out.extend_from_slice(b",\"rooms\":");
    str_array(&mut out, rooms.iter().map(Room::as_str));
    out.push(b'}');
    out
}

/// Answer to SOCKETS (0): `{"requestId","sockets":[ids]}`.
pub fn sockets_response(request_id: &str, sockets: &[SocketInfo]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    obj_start(&mut out, "requestId", request_id);
    out.extend_from_slice(b",\"sockets\":");
    str_array(&mut out, sockets.iter().map(|s| s.id.as_str()));
    out.push(b'}');
    out
}

/// Answer to REMOTE_FETCH: `{"requestId","sockets":[{"id","handshake","rooms","data"}]}`.
/// ringcast keeps no handshake record or `socket.data`; it sends the handshake's fields empty
/// (so Node code reading `handshake.auth.x` gets `undefined` rather than a TypeError) and
/// `data: {}`, socket.io's default, or `data: {"ringcast": {...}}` with the socket's
/// [`SocketMeta`] (the server API's user lookup), a key Node code does not read.
pub fn fetch_response(request_id: &str, sockets: &[SocketInfo]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + 160 * sockets.len());
    obj_start(&mut out, "requestId", request_id);
    out.extend_from_slice(b",\"sockets\":[");
    for (i, s) in sockets.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        obj_start(&mut out, "id", &s.id);
        out.extend_from_slice(
            b",\"handshake\":{\"headers\":{},\"time\":\"\",\"address\":\"\",\"xdomain\":false,\"secure\":false,\
              \"issued\":0,\"url\":\"\",\"query\":{},\"auth\":{}},\"rooms\":",
        );
        str_array(&mut out, s.rooms.iter().map(String::as_str));
        write_data(&mut out, s.meta.as_ref());
    }
    out.extend_from_slice(b"]}");
    out
}

/// Answer to a legacy join/leave/disconnect: `{"requestId"}`.
pub fn legacy_ack(request_id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    obj_start(&mut out, "requestId", request_id);
    out.push(b'}');
    out
}

/// BROADCAST_CLIENT_COUNT: `{"type":8,"requestId","clientCount"}`.
pub fn client_count_response(request_id: &str, count: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(b"{\"type\":8");
    str_field(&mut out, "requestId", request_id);
    out.extend_from_slice(b",\"clientCount\":");
    msgpack::write_uint(&mut out, count as u64);
    out.push(b'}');
    out
}

// ---- helpers ----

/// Splits `except` into socket ids (what a `BroadcastOp` carries) and rooms.
pub(super) fn split_except(except: &[String]) -> (Vec<Sid>, Vec<Room>) {
    let mut sids = Vec::with_capacity(except.len());
    let mut rooms = Vec::new();
    for e in except {
        match Sid::parse(e) {
            Some(sid) => sids.push(sid),
            None => rooms.push(Room::from(e.as_str())),
        }
    }
    (sids, rooms)
}

/// Reads `[name, ...args]` from MessagePack: (name, bracket-less JSON args, attachments).
fn event_from_msgpack<'a>(
    r: &mut Reader<'a>,
) -> Result<(String, String, Vec<&'a [u8]>), WireError> {
    let n = match r.read()? {
        Item::Array(n) if n >= 1 => n,
        _ => return Err(WireError::NotAnEvent),
    };
    let name = match r.read()? {
        Item::Str(s) => s.into_owned(),
        _ => return Err(WireError::NotAnEvent),
    };
    let mut args = Vec::with_capacity(r.remaining() * 2);
    let mut attachments = Vec::new();
    for i in 1..n {
        if i > 1 {
            args.push(b',');
        }
        msgpack::to_json(r, &mut args, &mut attachments)?;
    }
    let args = String::from_utf8(args).map_err(|_| WireError::NotAnEvent)?;
    Ok((name, args, attachments))
}

/// A BROADCAST-with-ack request's `packet` and `opts`, already transcoded to JSON.
fn inbound_from_json(
    packet: &Json,
    opts: Option<&Json>,
    attachments: &[Vec<u8>],
    nsp: &str,
) -> Result<Inbound, WireError> {
    match packet.get("type") {
        Some(Json::UInt(2 | 5)) => {}
        _ => return Err(WireError::NotAnEvent),
    }
    let Some(Json::Array(data)) = packet.get("data") else {
        return Err(WireError::NotAnEvent);
    };
    let Some(Json::Str(name)) = data.first() else {
        return Err(WireError::NotAnEvent);
    };
    let mut args = Vec::new();
    for (i, arg) in data[1..].iter().enumerate() {
        if i > 0 {
            args.push(b',');
        }
        arg.write(&mut args);
    }
    let args = String::from_utf8(args).map_err(|_| WireError::NotAnEvent)?;
    check_placeholders(&args_array(&args), attachments.len())?;
    let packet_nsp = packet.get("nsp").and_then(Json::as_str).unwrap_or(nsp);
    let except: Vec<String> = rooms(opts.and_then(|o| o.get("except")))
        .iter()
        .map(|r| r.to_string())
        .collect();
    let (except, except_rooms) = split_except(&except);
    let op = BroadcastOp {
        nsp: Room::from(packet_nsp),
        rooms: rooms(opts.and_then(|o| o.get("rooms"))),
        except,
        except_rooms: Vec::new(),
        frames: event_frames(
            packet_nsp,
            name,
            &args,
            attachments.iter().map(Vec::as_slice),
        ),
    };
    Ok(Inbound { op, except_rooms })
}

/// JSON when the first byte is `{`, else notepack msgpack transcoded to JSON (binary values
/// become placeholders; the attachments are returned beside).
fn json_or_msgpack(payload: &[u8]) -> Result<(Json, Vec<Vec<u8>>), WireError> {
    if payload.first() == Some(&b'{') {
        return Ok((Json::parse(payload)?, Vec::new()));
    }
    let mut r = Reader::new(payload);
    let mut text = Vec::with_capacity(payload.len() * 2);
    let mut attachments = Vec::new();
    msgpack::to_json(&mut r, &mut text, &mut attachments)?;
    r.finish()?;
    Ok((
        Json::parse(&text)?,
        attachments.into_iter().map(<[u8]>::to_vec).collect(),
    ))
}

/// A list of room names (`null`/absent: none). Numbers are accepted as JS would stringify them.
fn rooms(value: Option<&Json>) -> Vec<Room> {
    match value {
        Some(Json::Array(items)) => items
            .iter()
            .filter_map(|item| match item {
                Json::Str(s) => Some(Room::from(s.as_str())),
                Json::Int(_) | Json::UInt(_) | Json::Float(_) => {
                    let mut text = Vec::new();
                    item.write(&mut text);
                    String::from_utf8(text).ok().map(Room::from)
                }
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A request id: uid2 strings in the adapter; numbers accepted from other implementations.
fn json_id(value: &Json) -> Option<String> {
    match value {
        Json::Str(s) => Some(s.clone()),
        Json::UInt(n) => Some(n.to_string()),
        _ => None,
    }
}

fn uint(item: Item<'_>) -> Result<u64, WireError> {
    match item {
        Item::UInt(n) => Ok(n),
        Item::Float(f) if f.fract() == 0.0 && (0.0..9.0e15).contains(&f) => Ok(f as u64),
        _ => Err(WireError::NotAnEnvelope),
    }
}

fn obj_start(out: &mut Vec<u8>, key: &str, value: &str) {
    out.push(b'{');
    write_str(out, key);
    out.push(b':');
    write_str(out, value);
}

fn str_field(out: &mut Vec<u8>, key: &str, value: &str) {
    out.push(b',');
    write_str(out, key);
    out.push(b':');
    write_str(out, value);
}

fn str_array<'s>(out: &mut Vec<u8>, items: impl Iterator<Item = &'s str>) {
    out.push(b'[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, item);
    }
    out.push(b']');
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
