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
    w.array(op.except.len());
    for sid in &op.except {
        w.str(sid.as_str());
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
        6 => Request::ServerSideEmit { uid, request_id },
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
                    Some(SocketInfo { id, rooms })
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
/// `data: {}`, socket.io's default.
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
        out.extend_from_slice(b",\"data\":{}}");
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
fn split_except(except: &[String]) -> (Vec<Sid>, Vec<Room>) {
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
mod tests {
    use ringcast_codec::ws::OpCode;

    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn text(op: &BroadcastOp) -> String {
        String::from_utf8(op.frames[0].payload().to_vec()).unwrap()
    }

    fn op(rooms: &[&str], except: &[Sid], args: &str, attachments: &[&[u8]]) -> BroadcastOp {
        BroadcastOp {
            nsp: Room::from("/"),
            rooms: rooms.iter().map(|r| Room::from(*r)).collect(),
            except: except.to_vec(),
            frames: event_frames("/", "ev", args, attachments.iter().copied()),
        }
    }

    /// redis-interop.md §2(a): `io.to("dashboard").emit("agent:status_changed", {id:"42",
    /// status:"online"})` from node `aB3xY9`.
    const ADAPTER_GOLDEN: &str = "93 a6 614233785939 83 a4 74797065 02 a4 64617461 92 b4 6167656e743a7374617475735f6368616e676564
        82 a2 6964 a2 3432 a6 737461747573 a6 6f6e6c696e65 a3 6e7370 a1 2f 83 a5 726f6f6d73 91 a9 64617368626f617264
        a6 657863657074 90 a5 666c616773 80";

    /// redis-interop.md §2(b): `emitter.to("task:7").emit("task:created", {id:"7"})`.
    const EMITTER_GOLDEN: &str = "93a7656d697474657283a47479706502a46461746192ac7461736b3a6372656174656481a26964a137a36e7370a12f83a5726f6f6d7391a67461736b3a37a5666c61677380a665786365707490";

    #[test]
    fn encodes_the_node_adapter_golden_vector_byte_for_byte() {
        let op = BroadcastOp {
            nsp: Room::from("/"),
            rooms: vec![Room::from("dashboard")],
            except: Vec::new(),
            frames: event_frames(
                "/",
                "agent:status_changed",
                r#"{"id":"42","status":"online"}"#,
                std::iter::empty(),
            ),
        };
        let mut w = Writer::new();
        encode_broadcast("aB3xY9", &op, &mut w).unwrap();
        assert_eq!(w.buf, hex(ADAPTER_GOLDEN));
    }

    #[test]
    fn decodes_the_node_adapter_golden_vector() {
        let bytes = hex(ADAPTER_GOLDEN);
        let env = Envelope::parse(&bytes).unwrap();
        assert_eq!(
            (&*env.uid, &*env.nsp, env.packet_type, env.id),
            ("aB3xY9", "/", 2, None)
        );
        assert_eq!(
            (env.rooms.as_slice(), env.except.as_slice()),
            (&["dashboard".to_owned()][..], &[][..])
        );
        let inbound = env.to_inbound().unwrap();
        assert_eq!(
            text(&inbound.op),
            r#"42["agent:status_changed",{"id":"42","status":"online"}]"#
        );
        assert_eq!(inbound.op.rooms, vec![Room::from("dashboard")]);
        assert!(inbound.except_rooms.is_empty());
    }

    #[test]
    fn decodes_the_emitter_golden_vector_with_its_key_order() {
        let bytes = hex(EMITTER_GOLDEN);
        let env = Envelope::parse(&bytes).unwrap();
        assert_eq!(&*env.uid, "emitter");
        assert_eq!(env.rooms, vec!["task:7".to_owned()]);
        let inbound = env.to_inbound().unwrap();
        assert_eq!(text(&inbound.op), r#"42["task:created",{"id":"7"}]"#);
        assert_eq!(inbound.op.frames.len(), 1);
    }

    #[test]
    fn binary_arguments_become_attachment_frames_and_back_to_bin() {
        // Node: io.emit("ev", Buffer.from([1,2]), {a: new Uint8Array([3])}) → bin + ext type 0.
        let bytes = hex(
            "93 a1 78 83 a4 74797065 02 a4 64617461 93 a2 6576 c4 02 0102 81 a1 61 c7 01 00 03
             a3 6e7370 a1 2f 83 a5 726f6f6d73 90 a6 657863657074 90 a5 666c616773 80",
        );
        let inbound = Envelope::parse(&bytes).unwrap().to_inbound().unwrap();
        assert_eq!(
            text(&inbound.op),
            r#"452-["ev",{"_placeholder":true,"num":0},{"a":{"_placeholder":true,"num":1}}]"#
        );
        assert_eq!(inbound.op.frames.len(), 3);
        assert_eq!(inbound.op.frames[1].opcode(), OpCode::Binary);
        assert_eq!(&inbound.op.frames[2].payload()[..], &[3]);
        // Published back, binary travels as `bin` (ArrayBuffers become Buffers, as in Node).
        let mut w = Writer::new();
        encode_broadcast("x", &inbound.op, &mut w).unwrap();
        assert_eq!(
            w.buf,
            hex(
                "93 a1 78 83 a4 74797065 02 a4 64617461 93 a2 6576 c4 02 0102 81 a1 61 c4 01 03
                 a3 6e7370 a1 2f 83 a5 726f6f6d73 90 a6 657863657074 90 a5 666c616773 80"
            )
        );
    }

    #[test]
    fn except_splits_socket_ids_from_rooms_and_publishes_ids() {
        let sid = Sid::parse("AAAAAAAAAAAAAAAAAAAB").unwrap();
        // [uid, {type:2, data:["ev"], nsp:"/"}, {rooms:[], except:[sid, "vip"], flags:{}}]
        let mut w = Writer::new();
        w.array(3);
        w.str("node01");
        w.map(3);
        w.str("type");
        w.uint(2);
        w.str("data");
        w.array(1);
        w.str("ev");
        w.str("nsp");
        w.str("/");
        w.map(3);
        w.str("rooms");
        w.array(0);
        w.str("except");
        w.array(2);
        w.str(sid.as_str());
        w.str("vip");
        w.str("flags");
        w.map(0);
        let inbound = Envelope::parse(&w.buf).unwrap().to_inbound().unwrap();
        assert_eq!(inbound.op.except, vec![sid]);
        assert_eq!(inbound.except_rooms, vec![Room::from("vip")]);
        let mut out = Writer::new();
        encode_broadcast("me", &op(&["a", "b"], &[sid], "1", &[]), &mut out).unwrap();
        let env = Envelope::parse(&out.buf).unwrap();
        assert_eq!(env.except, vec![sid.as_str().to_owned()]);
        assert_eq!(env.rooms, vec!["a".to_owned(), "b".to_owned()]);
    }

    #[test]
    fn notepack_quirks_in_event_data() {
        // data: ["ev", undefined, {a: undefined, d: Date(0)}, 1.5, BigInt(-3)]
        let bytes = hex("93 a1 78 82 a4 74797065 02 a4 64617461 95 a2 6576 d4 00 00 82 a1 61 d4 00 00 a1 64 d7 00 0000000000000000
             cb 3ff8000000000000 c7 02 01 2d33 83 a5 726f6f6d73 90 a6 657863657074 90 a5 666c616773 80");
        let inbound = Envelope::parse(&bytes).unwrap().to_inbound().unwrap();
        assert_eq!(
            text(&inbound.op),
            r#"42["ev",null,{"d":"1970-01-01T00:00:00.000Z"},1.5,-3]"#
        );
        assert_eq!(inbound.op.nsp, Room::from("/"));
    }

    macro_rules! envelope_errors {
        ($($name:ident: $hex:expr => $err:expr;)*) => {$(
            #[test]
            fn $name() {
                let bytes = hex($hex);
                let got = Envelope::parse(&bytes).and_then(|e| e.to_inbound().map(|_| ()));
                assert_eq!(got.err(), Some($err));
            }
        )*};
    }

    envelope_errors! {
        env_not_an_array: "81 a1 61 01" => WireError::NotAnEnvelope;
        env_too_short: "92 a1 78 80" => WireError::NotAnEnvelope;
        env_uid_not_str: "93 01 80 80" => WireError::NotAnEnvelope;
        env_no_data: "93 a1 78 81 a4 74797065 02 80" => WireError::NotAnEnvelope;
        env_no_type: "93 a1 78 81 a4 64617461 91 a1 65 80" => WireError::NotAnEnvelope;
        env_connect_packet: "93 a1 78 82 a4 74797065 00 a4 64617461 91 a1 65 80" => WireError::NotAnEvent;
        env_empty_data: "93 a1 78 82 a4 74797065 02 a4 64617461 90 80" => WireError::NotAnEvent;
        env_numeric_event: "93 a1 78 82 a4 74797065 02 a4 64617461 91 01 80" => WireError::NotAnEvent;
        env_truncated: "93 a1 78 82 a4 74797065 02 a4 64617461 92 a1" => WireError::Msgpack(MsgpackError::Truncated);
        env_trailing: "93 a1 78 82 a4 74797065 02 a4 64617461 91 a1 65 80 00" => WireError::Msgpack(MsgpackError::TrailingBytes);
    }

    use super::msgpack::MsgpackError;

    #[test]
    fn missing_nsp_defaults_to_root_and_opts_may_be_nil() {
        let bytes = hex("93 a1 78 82 a4 74797065 02 a4 64617461 91 a1 65 c0");
        let env = Envelope::parse(&bytes).unwrap();
        assert_eq!(&*env.nsp, "/");
        assert!(env.rooms.is_empty());
        assert_eq!(text(&env.to_inbound().unwrap().op), r#"42["e"]"#);
    }

    macro_rules! channel_cases {
        ($($name:ident: $channel:expr => $want:expr;)*) => {$(
            #[test]
            fn $name() {
                let ch = Channels::new("socket.io", "/", "abc123");
                assert_eq!(ch.classify($channel), $want);
            }
        )*};
    }

    channel_cases! {
        ch_shared: "socket.io#/#" => BroadcastChannel::Shared;
        ch_room: "socket.io#/#agent:7#" => BroadcastChannel::Room("agent:7");
        ch_room_with_hash: "socket.io#/#a#b#" => BroadcastChannel::Room("a#b");
        ch_no_trailing_hash: "socket.io#/#agent:7" => BroadcastChannel::Foreign;
        ch_other_nsp: "socket.io#/admin#" => BroadcastChannel::Foreign;
        ch_other_prefix: "other#/#room#" => BroadcastChannel::Foreign;
    }

    #[test]
    fn channel_names_follow_the_adapter() {
        let ch = Channels::new("socket.io", "/", "abc123");
        assert_eq!(ch.pattern, "socket.io#/#*");
        assert_eq!(ch.request, "socket.io-request#/#");
        assert_eq!(ch.response, "socket.io-response#/#");
        assert_eq!(ch.own_response, "socket.io-response#/#abc123#");
        assert_eq!(
            ch.broadcast_channel("/", &[Room::from("task:7")]),
            "socket.io#/#task:7#"
        );
        assert_eq!(ch.broadcast_channel("/", &[]), "socket.io#/#");
        assert_eq!(
            ch.broadcast_channel("/", &[Room::from("a"), Room::from("b")]),
            "socket.io#/#"
        );
    }

    fn sel(rooms: &[&str], except: &[&str]) -> Selector {
        Selector {
            nsp: Room::from("/"),
            rooms: rooms.iter().map(|r| Room::from(*r)).collect(),
            except: except.iter().map(|r| Room::from(*r)).collect(),
        }
    }

    fn rooms(names: &[&str]) -> Vec<Room> {
        names.iter().map(|r| Room::from(*r)).collect()
    }

    #[test]
    fn decodes_requests_from_the_adapter_and_the_emitter() {
        let req = |s: &str| decode_request(s.as_bytes(), "/").unwrap();
        assert!(matches!(req(r#"{"uid":"n1","requestId":"r1","type":1}"#),
            Request::AllRooms { uid: Some(u), request_id } if u == "n1" && request_id == "r1"));
        // The emitter's socketsJoin: no uid.
        match req(r#"{"type":2,"opts":{"rooms":["agent:7"],"except":["x"]},"rooms":["vip"]}"#) {
            Request::Command { uid: None, command } => {
                assert_eq!(
                    command,
                    RemoteCommand::Join {
                        selector: sel(&["agent:7"], &["x"]),
                        rooms: rooms(&["vip"])
                    }
                )
            }
            other => panic!("{other:?}"),
        }
        match req(r#"{"uid":"n1","type":3,"opts":{"rooms":[],"except":[]},"rooms":["a","b"]}"#) {
            Request::Command { command, .. } => assert_eq!(
                command,
                RemoteCommand::Leave {
                    selector: sel(&[], &[]),
                    rooms: rooms(&["a", "b"])
                }
            ),
            other => panic!("{other:?}"),
        }
        match req(r#"{"type":4,"opts":{"rooms":["r"],"except":[]},"close":true}"#) {
            Request::Command { command, .. } => assert_eq!(
                command,
                RemoteCommand::Disconnect {
                    selector: sel(&["r"], &[]),
                    close: true
                }
            ),
            other => panic!("{other:?}"),
        }
        match req(r#"{"uid":"n1","requestId":"r2","type":5,"opts":{"rooms":["r"],"except":["s"]}}"#)
        {
            Request::Fetch {
                request_id,
                selector,
                ..
            } => assert_eq!((request_id.as_str(), selector), ("r2", sel(&["r"], &["s"]))),
            other => panic!("{other:?}"),
        }
        match req(r#"{"requestId":"r3","type":2,"sid":"abc","room":"vip"}"#) {
            Request::Legacy {
                request_id,
                sid,
                command,
                ..
            } => {
                assert_eq!((request_id.as_deref(), sid.as_str()), (Some("r3"), "abc"));
                assert_eq!(
                    command,
                    RemoteCommand::Join {
                        selector: sel(&["abc"], &[]),
                        rooms: rooms(&["vip"])
                    }
                );
            }
            other => panic!("{other:?}"),
        }
        match req(r#"{"requestId":"r4","type":4,"sid":"abc","close":false}"#) {
            Request::Legacy { command, .. } => assert_eq!(
                command,
                RemoteCommand::Disconnect {
                    selector: sel(&["abc"], &[]),
                    close: false
                }
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            req(r#"{"uid":"emitter","type":6,"data":["hello",1]}"#),
            Request::ServerSideEmit {
                request_id: None,
                ..
            }
        ));
        assert!(matches!(
            req(r#"{"uid":"n","type":6,"requestId":"q","data":["hello"]}"#),
            Request::ServerSideEmit {
                request_id: Some(_),
                ..
            }
        ));
        match req(r#"{"requestId":"r5","type":0,"rooms":["a"]}"#) {
            Request::Sockets {
                request_id,
                selector,
                ..
            } => assert_eq!((request_id.as_str(), selector), ("r5", sel(&["a"], &[]))),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            req(r#"{"uid":"n","type":42}"#),
            Request::Other { kind: 42, .. }
        ));
    }

    #[test]
    fn decodes_a_msgpack_broadcast_with_ack_request() {
        // notepack({uid:"n1", requestId:"q1", type:7, packet:{type:2, data:["ev", Buffer<09>], nsp:"/"},
        //           opts:{rooms:["r"], except:[], flags:{timeout:1000}}})
        let mut w = Writer::new();
        w.map(5);
        for (k, v) in [("uid", "n1"), ("requestId", "q1")] {
            w.str(k);
            w.str(v);
        }
        w.str("type");
        w.uint(7);
        w.str("packet");
        w.map(3);
        w.str("type");
        w.uint(2);
        w.str("data");
        w.array(2);
        w.str("ev");
        w.bin(&[9]);
        w.str("nsp");
        w.str("/");
        w.str("opts");
        w.map(3);
        w.str("rooms");
        w.array(1);
        w.str("r");
        w.str("except");
        w.array(0);
        w.str("flags");
        w.map(1);
        w.str("timeout");
        w.uint(1000);
        match decode_request(&w.buf, "/").unwrap() {
            Request::BroadcastWithAck {
                request_id,
                inbound,
                uid,
            } => {
                assert_eq!((request_id.as_str(), uid.as_deref()), ("q1", Some("n1")));
                assert_eq!(
                    text(&inbound.op),
                    r#"451-["ev",{"_placeholder":true,"num":0}]"#
                );
                assert_eq!(&inbound.op.frames[1].payload()[..], &[9]);
                assert_eq!(inbound.op.rooms, rooms(&["r"]));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn request_errors() {
        for (bad, want) in [
            (&b"{\"uid\":\"n\"}"[..], WireError::MissingField("type")),
            (b"{\"type\":1}", WireError::MissingField("requestId")),
            (
                b"{\"type\":2,\"room\":\"x\"}",
                WireError::MissingField("sid"),
            ),
            (
                b"{not json",
                WireError::Json(super::super::json::JsonError::Invalid),
            ),
            (b"\xc1", WireError::Msgpack(MsgpackError::ReservedByte)),
        ] {
            assert_eq!(
                decode_request(bad, "/").err(),
                Some(want),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn decodes_responses() {
        let r = decode_response(br#"{"requestId":"r1","rooms":["a","b"]}"#).unwrap();
        assert_eq!(
            (r.request_id.as_str(), r.rooms),
            ("r1", Some(vec!["a".to_owned(), "b".to_owned()]))
        );
        let r = decode_response(br#"{"requestId":"r2","sockets":[{"id":"s1","handshake":{},"rooms":["s1","x"],"data":{}}]}"#).unwrap();
        assert_eq!(
            r.sockets,
            Some(vec![SocketInfo {
                id: "s1".into(),
                rooms: vec!["s1".into(), "x".into()]
            }])
        );
        assert!(decode_response(br#"{"type":6,"data":1}"#).is_err());
    }

    #[test]
    fn builds_requests_and_responses_as_the_adapter_does() {
        let s = |b: Vec<u8>| String::from_utf8(b).unwrap();
        assert_eq!(
            s(all_rooms_request("me", "q")),
            r#"{"uid":"me","requestId":"q","type":1}"#
        );
        assert_eq!(
            s(fetch_request("me", "q", &sel(&["a"], &["b"]))),
            r#"{"uid":"me","requestId":"q","type":5,"opts":{"rooms":["a"],"except":["b"]}}"#
        );
        assert_eq!(
            s(all_rooms_response("q", &rooms(&["a", "b\""]))),
            r#"{"requestId":"q","rooms":["a","b\""]}"#
        );
        assert_eq!(
            s(sockets_response(
                "q",
                &[SocketInfo {
                    id: "s".into(),
                    rooms: vec![]
                }]
            )),
            r#"{"requestId":"q","sockets":["s"]}"#
        );
        assert_eq!(s(legacy_ack("q")), r#"{"requestId":"q"}"#);
        assert_eq!(
            s(client_count_response("q", 0)),
            r#"{"type":8,"requestId":"q","clientCount":0}"#
        );
        let fetched = s(fetch_response(
            "q",
            &[SocketInfo {
                id: "s".into(),
                rooms: vec!["s".into(), "r".into()],
            }],
        ));
        let parsed = Json::parse(fetched.as_bytes()).unwrap();
        let socket = match parsed.get("sockets") {
            Some(Json::Array(items)) => items[0].clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(socket.get("id"), Some(&Json::Str("s".into())));
        assert_eq!(
            socket.get("rooms"),
            Some(&Json::Array(vec![
                Json::Str("s".into()),
                Json::Str("r".into())
            ]))
        );
        assert!(matches!(
            socket.get("handshake").and_then(|h| h.get("auth")),
            Some(Json::Object(_))
        ));
        // A response we build decodes as a response.
        assert_eq!(
            decode_response(fetched.as_bytes())
                .unwrap()
                .sockets
                .map(|s| s.len()),
            Some(1)
        );
    }

    #[test]
    fn ack_ids_are_published_but_not_delivered() {
        let mut w = Writer::new();
        let mut with_id = op(&[], &[], "1", &[]);
        let mut buf = ringcast_codec::ws::FrameBuf::new();
        ringcast_codec::sio::write_event(&mut buf, "/", Some(12), 0, "ev", "1");
        with_id.frames = vec![buf.finish(OpCode::Text)];
        encode_broadcast("me", &with_id, &mut w).unwrap();
        let env = Envelope::parse(&w.buf).unwrap();
        assert_eq!(env.id, Some(12));
        assert_eq!(text(&env.to_inbound().unwrap().op), r#"42["ev",1]"#);
    }

    #[test]
    fn unpublishable_broadcasts_are_errors() {
        let mut not_event = op(&[], &[], "", &[]);
        not_event.frames = vec![ringcast_codec::ws::OutFrame::new(OpCode::Text, b"40")];
        assert_eq!(
            encode_broadcast("me", &not_event, &mut Writer::new()).err(),
            Some(WireError::NotAnEvent)
        );
        let mut missing_attachment = op(&[], &[], r#"{"_placeholder":true,"num":0}"#, &[b"x"]);
        missing_attachment.frames.truncate(1);
        assert!(encode_broadcast("me", &missing_attachment, &mut Writer::new()).is_err());
        assert_eq!(
            encode_broadcast(
                "me",
                &BroadcastOp {
                    frames: vec![],
                    ..op(&[], &[], "", &[])
                },
                &mut Writer::new()
            )
            .err(),
            Some(WireError::NotAnEvent)
        );
    }
}
