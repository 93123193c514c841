//! socket.io-adapter's `ClusterAdapter` messages (`lib/cluster-adapter.ts`, socket.io-adapter
//! 2.5.x), the format of `@socket.io/redis-streams-adapter` 0.3.x and of
//! `@socket.io/redis-adapter`'s sharded adapter (`createShardedAdapter`, 8.3.x). Pure: bytes in,
//! values out, and back.
//!
//! A message is `{type, data?, uid, nsp}` (the adapter builds `{type, data}` and `publish`
//! adds `uid` then `nsp`, which is the key order on the wire). It travels in three forms:
//!
//! | form                   | who                                   | functions                    |
//! |------------------------|---------------------------------------|------------------------------|
//! | msgpack of the whole   | streams adapter's PUBLISH/SPUBLISH    | [`ClusterMessage::encode_msgpack`], [`ClusterMessage::decode`] |
//! | JSON, or notepack when `data` has binary | sharded adapter (SPUBLISH) | [`ClusterMessage::encode_sharded`], [`ClusterMessage::decode`] |
//! | stream entry fields    | streams adapter's XADD / XREAD        | [`ClusterMessage::encode_entry`], [`ClusterMessage::decode_entry`] |
//!
//! [`ClusterMessage::decode`] reads both whole forms: "`{` first is JSON, else msgpack"
//! (sharded-adapter.ts `onRawMessage`; a msgpack map never starts with `0x7b`). Values the
//! adapters treat as opaque (the broadcast packet's arguments, fetched sockets, server-side
//! emit arguments and acks) are kept as ringcast keeps event arguments: JSON with each binary
//! value replaced by a `{"_placeholder":true,"num":N}` and the bytes beside it, so a broadcast
//! maps onto a [`BroadcastOp`]'s frames without another representation.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use ringcast_codec::sio::{SioError, check_placeholders};

use super::adapter::{Inbound, split_except};
use super::json::{Json, JsonError};
use super::msgpack::{self, MsgpackError, Reader, Writer};
use super::stream_id::StreamId;
use super::wire::{WireError, args_array, event_frames, read_event};
use crate::engine::{BroadcastOp, Room};

mod session;

pub use session::{SessionRecord, session_key, should_include_packet};

/// socket.io-adapter's `MessageType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum MessageType {
    InitialHeartbeat = 1,
    Heartbeat = 2,
    Broadcast = 3,
    SocketsJoin = 4,
    SocketsLeave = 5,
    DisconnectSockets = 6,
    FetchSockets = 7,
    FetchSocketsResponse = 8,
    ServerSideEmit = 9,
    ServerSideEmitResponse = 10,
    BroadcastClientCount = 11,
    BroadcastAck = 12,
    AdapterClose = 13,
}

/// Why a cluster message (or session record) was refused. Every variant leads to the same
/// reaction: the message is dropped and counted as a decode error (the adapter logs "invalid
/// format" and drops it too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageError {
    /// The msgpack, JSON or Socket.IO layer refused it.
    Wire(WireError),
    /// A `type` outside 1..=13 (the adapter logs "unknown message type" and ignores it).
    UnknownType(u64),
    /// A field the message's type needs is absent.
    MissingField(&'static str),
    /// A field has a value of the wrong kind (`rooms` that is not a list of strings, binary in
    /// a message type that cannot carry it, a stream entry `type` that is not decimal).
    BadField(&'static str),
    /// A stream entry's `data` (or a session record) that is neither JSON nor valid base64.
    BadBase64,
}

impl From<WireError> for MessageError {
    fn from(e: WireError) -> Self {
        MessageError::Wire(e)
    }
}

impl From<MsgpackError> for MessageError {
    fn from(e: MsgpackError) -> Self {
        MessageError::Wire(WireError::Msgpack(e))
    }
}

impl From<JsonError> for MessageError {
    fn from(e: JsonError) -> Self {
        MessageError::Wire(WireError::Json(e))
    }
}

impl From<SioError> for MessageError {
    fn from(e: SioError) -> Self {
        MessageError::Wire(WireError::Codec(e))
    }
}

/// One message between `ClusterAdapter` nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterMessage {
    /// The sender's uid (`randomBytes(8).toString("hex")`, `"emitter"` for emitters).
    pub uid: String,
    pub nsp: String,
    pub body: Body,
}

/// The type and `data` of a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    InitialHeartbeat,
    Heartbeat,
    /// A broadcast; with a `request_id` it waits for client acks (ephemeral, over PUBLISH).
    Broadcast(Broadcast),
    SocketsJoin {
        opts: Opts,
        rooms: Vec<String>,
    },
    SocketsLeave {
        opts: Opts,
        rooms: Vec<String>,
    },
    /// `close` is `undefined` unless the caller passed it (`disconnectSockets(close?)`);
    /// `null` reads as `undefined`.
    DisconnectSockets {
        opts: Opts,
        close: Option<bool>,
    },
    FetchSockets {
        opts: Opts,
        request_id: String,
    },
    /// `sockets`: `[{id, handshake, rooms, data}, ...]`, kept as sent.
    FetchSocketsResponse {
        request_id: String,
        sockets: Value,
    },
    /// `packet`: the `serverSideEmit` arguments; a `request_id` means an ack is expected.
    ServerSideEmit {
        request_id: Option<String>,
        packet: Value,
    },
    ServerSideEmitResponse {
        request_id: String,
        packet: Value,
    },
    BroadcastClientCount {
        request_id: String,
        client_count: u64,
    },
    BroadcastAck {
        request_id: String,
        packet: Value,
    },
    AdapterClose,
}

/// A JavaScript value the adapters pass through: JSON with binary values as placeholders, the
/// bytes in placeholder order.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub json: Json,
    pub attachments: Vec<Bytes>,
}

/// `opts` of a broadcast or a remote command: `{rooms, except, flags}` (`encodeOptions`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Opts {
    pub rooms: Vec<String>,
    /// Socket ids and rooms alike (`io.except("room")`).
    pub except: Vec<String>,
    /// `BroadcastFlags` (`volatile`, `local`, `timeout`, ...) as sent; `None` when absent
    /// (`flags: undefined`, which JSON drops).
    pub flags: Option<Json>,
}

/// BROADCAST's `data`: `{packet, requestId?, opts}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Broadcast {
    pub packet: EventPacket,
    pub opts: Opts,
    pub request_id: Option<String>,
}

/// A socket.io-parser packet as the adapter broadcasts it: `{type, data, nsp, id?}` (the
/// object socket.io's `BroadcastOperator.emit` builds; other keys are not kept).
#[derive(Debug, Clone, PartialEq)]
pub struct EventPacket {
    /// socket.io-parser's packet type: 2 (EVENT) from socket.io; 5 (BINARY_EVENT) only from
    /// publishers that encoded it.
    pub kind: u64,
    /// `[event, ...args]`, binary as placeholders.
    pub data: Vec<Json>,
    pub nsp: String,
    pub id: Option<u64>,
    pub attachments: Vec<Bytes>,
}

impl MessageType {
    /// The type of a numeric code (`None` outside 1..=13).
    pub fn from_code(code: u64) -> Option<MessageType> {
        use MessageType::*;
        const ALL: [MessageType; 13] = [
            InitialHeartbeat,
            Heartbeat,
            Broadcast,
            SocketsJoin,
            SocketsLeave,
            DisconnectSockets,
            FetchSockets,
            FetchSocketsResponse,
            ServerSideEmit,
            ServerSideEmitResponse,
            BroadcastClientCount,
            BroadcastAck,
            AdapterClose,
        ];
        let index = usize::try_from(code.checked_sub(1)?).ok()?;
        ALL.get(index).copied()
    }

    /// The types whose `data` may hold binary, so that the adapters check it (`mayContainBinary`
    /// in both adapters' `encode`): the others always travel as JSON in the entry and sharded
    /// forms.
    pub fn may_contain_binary(self) -> bool {
        matches!(
            self,
            MessageType::Broadcast
                | MessageType::FetchSocketsResponse
                | MessageType::ServerSideEmit
                | MessageType::ServerSideEmitResponse
                | MessageType::BroadcastAck
        )
    }
}

impl ClusterMessage {
    pub fn kind(&self) -> MessageType {
        match &self.body {
            Body::InitialHeartbeat => MessageType::InitialHeartbeat,
            Body::Heartbeat => MessageType::Heartbeat,
            Body::Broadcast(_) => MessageType::Broadcast,
            Body::SocketsJoin { .. } => MessageType::SocketsJoin,
            Body::SocketsLeave { .. } => MessageType::SocketsLeave,
            Body::DisconnectSockets { .. } => MessageType::DisconnectSockets,
            Body::FetchSockets { .. } => MessageType::FetchSockets,
            Body::FetchSocketsResponse { .. } => MessageType::FetchSocketsResponse,
            Body::ServerSideEmit { .. } => MessageType::ServerSideEmit,
            Body::ServerSideEmitResponse { .. } => MessageType::ServerSideEmitResponse,
            Body::BroadcastClientCount { .. } => MessageType::BroadcastClientCount,
            Body::BroadcastAck { .. } => MessageType::BroadcastAck,
            Body::AdapterClose => MessageType::AdapterClose,
        }
    }

    /// Whether the streams adapter sends it over PUB/SUB rather than the stream (`isEphemeral`:
    /// a broadcast with ack, SERVER_SIDE_EMIT, FETCH_SOCKETS; responses always are).
    pub fn is_ephemeral(&self) -> bool {
        match &self.body {
            Body::Broadcast(b) => b.request_id.is_some(),
            Body::ServerSideEmit { .. } | Body::FetchSockets { .. } => true,
            _ => false,
        }
    }

    /// The attachments of the message's one opaque value (none for the other types).
    pub fn attachments(&self) -> &[Bytes] {
        match &self.body {
            Body::Broadcast(b) => &b.packet.attachments,
            Body::FetchSocketsResponse { sockets: v, .. }
            | Body::ServerSideEmit { packet: v, .. }
            | Body::ServerSideEmitResponse { packet: v, .. }
            | Body::BroadcastAck { packet: v, .. } => &v.attachments,
            _ => &[],
        }
    }

    /// Decodes a whole message: JSON when the first byte is `{`, else MessagePack from
    /// @msgpack/msgpack (streams adapter) or notepack.io (sharded adapter).
    pub fn decode(payload: &[u8]) -> Result<ClusterMessage, MessageError> {
        let (value, attachments) = if payload.first() == Some(&b'{') {
            (Json::parse(payload)?, Vec::new())
        } else {
            msgpack_to_json(payload)?
        };
        let Json::Object(mut fields) = value else {
            return Err(MessageError::BadField("message"));
        };
        let uid = take_str(&mut fields, "uid")?;
        let nsp = take_str(&mut fields, "nsp")?;
        let kind = match take(&mut fields, "type") {
            Some(Json::UInt(n)) => n,
            Some(_) => return Err(MessageError::BadField("type")),
            None => return Err(MessageError::MissingField("type")),
        };
        let body = Body::from_data(kind, take(&mut fields, "data"), attachments)?;
        Ok(ClusterMessage::decoded(uid, nsp, body))
    }

    /// The whole message as @msgpack/msgpack's `encode(message)` writes it (the streams
    /// adapter's PUBLISH of ephemeral messages and of every response): `{type, data?, uid, nsp}`.
    pub fn encode_msgpack(&self) -> Result<Vec<u8>, MessageError> {
        let data = self.body.data_json();
        let mut w = Writer::new();
        w.map(if data.is_some() { 4 } else { 3 });
        w.str("type");
        w.uint(self.kind() as u64);
        if let Some(data) = &data {
            w.str("data");
            data.write_msgpack(&mut w, self.attachments())?;
        }
        w.str("uid");
        w.str(&self.uid);
        w.str("nsp");
        w.str(&self.nsp);
        Ok(w.buf)
    }

    /// The whole message as the sharded adapter's `encode` writes it: MessagePack when the type
    /// may carry binary and does, else `JSON.stringify(message)`.
    pub fn encode_sharded(&self) -> Result<Vec<u8>, MessageError> {
        if !self.attachments().is_empty() {
            return self.encode_msgpack();
        }
        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(b"{\"type\":");
        msgpack::write_uint(&mut out, self.kind() as u64);
        if let Some(data) = self.body.data_json() {
            out.extend_from_slice(b",\"data\":");
            data.write(&mut out);
        }
        out.extend_from_slice(b",\"uid\":");
        Json::Str(self.uid.clone()).write(&mut out);
        out.extend_from_slice(b",\"nsp\":");
        Json::Str(self.nsp.clone()).write(&mut out);
        out.push(b'}');
        Ok(out)
    }

    /// The stream entry the streams adapter XADDs (its private `encode`): `uid`, `nsp`, `type`
    /// as decimal text, and `data` (absent for heartbeats and ADAPTER_CLOSE): the base64 of
    /// `data`'s MessagePack when the type may carry binary and does, else `JSON.stringify`.
    ///
    /// An empty `nsp` is refused ([`MessageError::MissingField`]): every reader skips such an
    /// entry (`startPolling`'s `if (message.nsp)`, and [`Self::decode_entry`]), so writing it
    /// would append an event nobody receives. The whole forms carry `""` unchanged.
    pub fn encode_entry(&self) -> Result<Vec<(&'static str, String)>, MessageError> {
        if self.nsp.is_empty() {
            return Err(MessageError::MissingField("nsp"));
        }
        let mut fields = vec![
            ("uid", self.uid.clone()),
            ("nsp", self.nsp.clone()),
            ("type", (self.kind() as u8).to_string()),
        ];
        if let Some(data) = self.body.data_json() {
            let text = if self.attachments().is_empty() {
                let mut out = Vec::with_capacity(128);
                data.write(&mut out);
                String::from_utf8(out).map_err(|_| MessageError::BadField("data"))?
            } else {
                let mut w = Writer::new();
                data.write_msgpack(&mut w, self.attachments())?;
                BASE64.encode(&w.buf)
            };
            fields.push(("data", text));
        }
        Ok(fields)
    }

    /// Decodes a stream entry's field pairs as the streams adapter does (`mapResult`, then the
    /// static `decode`): a later duplicate field wins; `type` must be decimal digits (the
    /// adapter's `parseInt` would also take `3abc`, which no adapter writes); an empty or
    /// absent `data` is none; `data` starting with `{` is JSON, else base64 MessagePack.
    /// Invalid UTF-8 is replaced with U+FFFD, as the Redis clients decode bulk strings.
    pub fn decode_entry(fields: &[(&[u8], &[u8])]) -> Result<ClusterMessage, MessageError> {
        let field = |name: &str| {
            fields
                .iter()
                .rev()
                .find(|(k, _)| *k == name.as_bytes())
                .map(|(_, v)| String::from_utf8_lossy(v))
        };
        let uid = field("uid").ok_or(MessageError::MissingField("uid"))?;
        // startPolling skips entries without `nsp` (`if (message.nsp)`).
        let nsp = field("nsp")
            .filter(|n| !n.is_empty())
            .ok_or(MessageError::MissingField("nsp"))?;
        let kind = field("type").ok_or(MessageError::MissingField("type"))?;
        if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MessageError::BadField("type"));
        }
        let kind: u64 = kind.parse().map_err(|_| MessageError::BadField("type"))?;
        let (data, attachments) = match field("data").filter(|d| !d.is_empty()) {
            None => (None, Vec::new()),
            Some(text) if text.starts_with('{') => {
                (Some(Json::parse(text.as_bytes())?), Vec::new())
            }
            Some(text) => {
                let bytes = BASE64
                    .decode(text.as_bytes())
                    .map_err(|_| MessageError::BadBase64)?;
                let (json, attachments) = msgpack_to_json(&bytes)?;
                (Some(json), attachments)
            }
        };
        let body = Body::from_data(kind, data, attachments)?;
        Ok(ClusterMessage::decoded(
            uid.into_owned(),
            nsp.into_owned(),
            body,
        ))
    }

    /// A decoded message (either form). A broadcast's packet without `nsp` takes the message's:
    /// socket.io 4.8's `ClusterAdapter.broadcast` publishes (and XADDs) the packet before the
    /// in-memory adapter sets `packet.nsp`.
    fn decoded(uid: String, nsp: String, mut body: Body) -> ClusterMessage {
        if let Body::Broadcast(b) = &mut body
            && b.packet.nsp.is_empty()
        {
            b.packet.nsp = nsp.clone();
        }
        ClusterMessage { uid, nsp, body }
    }
}

impl Broadcast {
    /// The broadcast of `op`, as a Node node would publish it: `{type: 2, data: [event,
    /// ...args], nsp, id?}`, binary as attachments, `opts = {rooms, except, flags: {}}`
    /// (`except` = the op's socket ids, then `except_rooms`). No ack is awaited.
    pub fn from_op(op: &BroadcastOp, except_rooms: &[Room]) -> Result<Broadcast, MessageError> {
        let event = read_event(op)?;
        let Json::Array(args) = Json::parse(args_array(&event.args).as_bytes())? else {
            return Err(WireError::NotAnEvent.into());
        };
        let mut data = Vec::with_capacity(1 + args.len());
        data.push(Json::Str(event.name));
        data.extend(args);
        let except = op.except.iter().map(|s| s.as_str().to_owned());
        Ok(Broadcast {
            packet: EventPacket {
                kind: 2,
                data,
                nsp: op.nsp.as_str().to_owned(),
                id: event.id,
                attachments: event.attachments,
            },
            opts: Opts {
                rooms: op.rooms.iter().map(|r| r.as_str().to_owned()).collect(),
                except: except
                    .chain(except_rooms.iter().map(|r| r.as_str().to_owned()))
                    .collect(),
                flags: Some(Json::Object(Vec::new())),
            },
            request_id: None,
        })
    }

    /// Whether a receiver appends the stream entry id to this packet's arguments
    /// (`addOffsetIfNecessary`, when the server has connection state recovery on): an EVENT
    /// (type 2) without an ack id, not volatile (`flags.volatile === undefined`: any value,
    /// even `false`, counts as set), and not a broadcast waiting for acks (those are never in
    /// the stream).
    pub fn keeps_offset(&self) -> bool {
        let volatile = self.opts.flags.as_ref().and_then(|f| f.get("volatile"));
        self.packet.kind == 2
            && self.packet.id.is_none()
            && volatile.is_none()
            && self.request_id.is_none()
    }

    /// The broadcast for [`crate::cluster::LocalNode`]: the EVENT encoded once into frames, with
    /// `offset` appended as the last argument when given (`packet.data.push(offset)`: the live
    /// path passes it when [`Broadcast::keeps_offset`] and recovery is on; the replay of missed
    /// packets in `restoreSession` always appends it). The ack id is not kept (see
    /// [`crate::cluster::adapter::Envelope::to_inbound`]).
    pub fn to_inbound(&self, offset: Option<StreamId>) -> Result<Inbound, MessageError> {
        let packet = &self.packet;
        if packet.kind != 2 && packet.kind != 5 {
            return Err(WireError::NotAnEvent.into());
        }
        let Some(Json::Str(name)) = packet.data.first() else {
            return Err(WireError::NotAnEvent.into());
        };
        let mut args = Vec::with_capacity(64);
        for (i, arg) in packet.data[1..].iter().enumerate() {
            if i > 0 {
                args.push(b',');
            }
            arg.write(&mut args);
        }
        if let Some(offset) = offset {
            if packet.data.len() > 1 {
                args.push(b',');
            }
            Json::Str(offset.to_string()).write(&mut args);
        }
        let args = String::from_utf8(args).map_err(|_| WireError::NotAnEvent)?;
        check_placeholders(&args_array(&args), packet.attachments.len())?;
        let (except, except_rooms) = split_except(&self.opts.except);
        let op = BroadcastOp {
            nsp: Room::from(packet.nsp.as_str()),
            rooms: self
                .opts
                .rooms
                .iter()
                .map(|r| Room::from(r.as_str()))
                .collect(),
            except,
            except_rooms: Vec::new(),
            frames: event_frames(
                &packet.nsp,
                name,
                &args,
                packet.attachments.iter().map(Bytes::as_ref),
            ),
        };
        Ok(Inbound { op, except_rooms })
    }
}

impl Body {
    // Long by design (~90 lines): one arm per message type, each reading its own fields, so
    // the whole `data` format reads in one place (as adapter.rs's `decode_request`).
    /// The body of type `kind` from its `data` (already JSON, binary as placeholders numbered
    /// into `attachments`). Types without `data` ignore it, as the adapter does.
    fn from_data(
        kind: u64,
        data: Option<Json>,
        attachments: Vec<Bytes>,
    ) -> Result<Body, MessageError> {
        let kind = MessageType::from_code(kind).ok_or(MessageError::UnknownType(kind))?;
        let no_data = matches!(
            kind,
            MessageType::InitialHeartbeat | MessageType::Heartbeat | MessageType::AdapterClose
        );
        if !attachments.is_empty() && !no_data && !kind.may_contain_binary() {
            return Err(MessageError::BadField("data"));
        }
        let mut fields = match data {
            _ if no_data => Vec::new(),
            Some(Json::Object(fields)) => fields,
            Some(_) => return Err(MessageError::BadField("data")),
            None => return Err(MessageError::MissingField("data")),
        };
        let f = &mut fields;
        let value = |json: Json, attachments: Vec<Bytes>| Value { json, attachments };
        Ok(match kind {
            MessageType::InitialHeartbeat => Body::InitialHeartbeat,
            MessageType::Heartbeat => Body::Heartbeat,
            MessageType::AdapterClose => Body::AdapterClose,
            MessageType::Broadcast => {
                let packet = take(f, "packet").ok_or(MessageError::MissingField("packet"))?;
                Body::Broadcast(Broadcast {
                    packet: EventPacket::from_json(packet, attachments)?,
                    request_id: take_opt_str(f, "requestId")?,
                    opts: take_opts(f)?,
                })
            }
            MessageType::SocketsJoin => Body::SocketsJoin {
                opts: take_opts(f)?,
                rooms: take_strs(f, "rooms")?,
            },
            MessageType::SocketsLeave => Body::SocketsLeave {
                opts: take_opts(f)?,
                rooms: take_strs(f, "rooms")?,
            },
            MessageType::DisconnectSockets => Body::DisconnectSockets {
                opts: take_opts(f)?,
                // @msgpack/msgpack writes `close: undefined` as nil; both are falsy to the adapter.
                close: match take(f, "close") {
                    None | Some(Json::Null) => None,
                    Some(Json::Bool(b)) => Some(b),
                    Some(_) => return Err(MessageError::BadField("close")),
                },
            },
            MessageType::FetchSockets => Body::FetchSockets {
                opts: take_opts(f)?,
                request_id: take_str(f, "requestId")?,
            },
            MessageType::FetchSocketsResponse => Body::FetchSocketsResponse {
                request_id: take_str(f, "requestId")?,
                sockets: match take(f, "sockets") {
                    Some(json @ Json::Array(_)) => value(json, attachments),
                    Some(_) => return Err(MessageError::BadField("sockets")),
                    None => return Err(MessageError::MissingField("sockets")),
                },
            },
            MessageType::ServerSideEmit => Body::ServerSideEmit {
                request_id: take_opt_str(f, "requestId")?,
                packet: match take(f, "packet") {
                    Some(json @ Json::Array(_)) => value(json, attachments),
                    Some(_) => return Err(MessageError::BadField("packet")),
                    None => return Err(MessageError::MissingField("packet")),
                },
            },
            MessageType::ServerSideEmitResponse => Body::ServerSideEmitResponse {
                request_id: take_str(f, "requestId")?,
                packet: value(take(f, "packet").unwrap_or(Json::Null), attachments),
            },
            MessageType::BroadcastClientCount => Body::BroadcastClientCount {
                request_id: take_str(f, "requestId")?,
                client_count: match take(f, "clientCount") {
                    Some(Json::UInt(n)) => n,
                    Some(_) => return Err(MessageError::BadField("clientCount")),
                    None => return Err(MessageError::MissingField("clientCount")),
                },
            },
            MessageType::BroadcastAck => Body::BroadcastAck {
                request_id: take_str(f, "requestId")?,
                packet: value(take(f, "packet").unwrap_or(Json::Null), attachments),
            },
        })
    }

    /// `data` in the adapter's key order (`None` for the types without it).
    fn data_json(&self) -> Option<Json> {
        let s = |v: &str| Json::Str(v.to_owned());
        let obj = |fields: Vec<(&str, Json)>| {
            Json::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
        };
        Some(match self {
            Body::InitialHeartbeat | Body::Heartbeat | Body::AdapterClose => return None,
            Body::Broadcast(b) => {
                let mut fields = vec![("packet", b.packet.to_json())];
                if let Some(id) = &b.request_id {
                    fields.push(("requestId", s(id)));
                }
                fields.push(("opts", b.opts.to_json()));
                obj(fields)
            }
            Body::SocketsJoin { opts, rooms } | Body::SocketsLeave { opts, rooms } => {
                obj(vec![("opts", opts.to_json()), ("rooms", strs(rooms))])
            }
            Body::DisconnectSockets { opts, close } => {
                let mut fields = vec![("opts", opts.to_json())];
                if let Some(close) = close {
                    fields.push(("close", Json::Bool(*close)));
                }
                obj(fields)
            }
            Body::FetchSockets { opts, request_id } => {
                obj(vec![("opts", opts.to_json()), ("requestId", s(request_id))])
            }
            Body::FetchSocketsResponse {
                request_id,
                sockets,
            } => obj(vec![
                ("requestId", s(request_id)),
                ("sockets", sockets.json.clone()),
            ]),
            Body::ServerSideEmit { request_id, packet } => {
                let mut fields = Vec::with_capacity(2);
                if let Some(id) = request_id {
                    fields.push(("requestId", s(id)));
                }
                fields.push(("packet", packet.json.clone()));
                obj(fields)
            }
            Body::ServerSideEmitResponse { request_id, packet }
            | Body::BroadcastAck { request_id, packet } => obj(vec![
                ("requestId", s(request_id)),
                ("packet", packet.json.clone()),
            ]),
            Body::BroadcastClientCount {
                request_id,
                client_count,
            } => obj(vec![
                ("requestId", s(request_id)),
                ("clientCount", Json::UInt(*client_count)),
            ]),
        })
    }
}

impl Opts {
    fn to_json(&self) -> Json {
        let mut fields = vec![
            ("rooms".to_owned(), strs(&self.rooms)),
            ("except".to_owned(), strs(&self.except)),
        ];
        if let Some(flags) = &self.flags {
            fields.push(("flags".to_owned(), flags.clone()));
        }
        Json::Object(fields)
    }
}

impl EventPacket {
    fn from_json(packet: Json, attachments: Vec<Bytes>) -> Result<EventPacket, MessageError> {
        let Json::Object(mut fields) = packet else {
            return Err(MessageError::BadField("packet"));
        };
        let f = &mut fields;
        Ok(EventPacket {
            kind: match take(f, "type") {
                Some(Json::UInt(n)) => n,
                _ => return Err(MessageError::BadField("packet.type")),
            },
            data: match take(f, "data") {
                Some(Json::Array(items)) => items,
                _ => return Err(MessageError::BadField("packet.data")),
            },
            // Absent from what socket.io 4.8 publishes: `ClusterAdapter.broadcast` publishes the
            // packet before the in-memory adapter sets `packet.nsp`. Empty here, then the
            // message's `nsp` (see `ClusterMessage::decode`).
            nsp: match take(f, "nsp") {
                None => String::new(),
                Some(Json::Str(s)) => s,
                Some(_) => return Err(MessageError::BadField("packet.nsp")),
            },
            id: match take(f, "id") {
                None | Some(Json::Null) => None,
                Some(Json::UInt(n)) => Some(n),
                Some(_) => return Err(MessageError::BadField("packet.id")),
            },
            attachments,
        })
    }

    fn to_json(&self) -> Json {
        let mut fields = vec![
            ("type".to_owned(), Json::UInt(self.kind)),
            ("data".to_owned(), Json::Array(self.data.clone())),
            ("nsp".to_owned(), Json::Str(self.nsp.clone())),
        ];
        if let Some(id) = self.id {
            fields.push(("id".to_owned(), Json::UInt(id)));
        }
        Json::Object(fields)
    }
}

// ---- helpers ----

/// MessagePack (either library's) → JSON value and its attachments.
fn msgpack_to_json(payload: &[u8]) -> Result<(Json, Vec<Bytes>), MessageError> {
    let mut r = Reader::new(payload).timestamps();
    let mut text = Vec::with_capacity(payload.len() * 2);
    let mut attachments = Vec::new();
    msgpack::to_json(&mut r, &mut text, &mut attachments)?;
    r.finish()?;
    let json = Json::parse(&text)?;
    Ok((
        json,
        attachments
            .into_iter()
            .map(Bytes::copy_from_slice)
            .collect(),
    ))
}

/// Removes `key` (the last duplicate wins, as in `JSON.parse`; earlier ones are dropped too).
fn take(fields: &mut Vec<(String, Json)>, key: &str) -> Option<Json> {
    let last = fields.iter().rposition(|(k, _)| k == key)?;
    let value = fields.swap_remove(last).1;
    fields.retain(|(k, _)| k != key);
    Some(value)
}

fn take_str(fields: &mut Vec<(String, Json)>, key: &'static str) -> Result<String, MessageError> {
    match take(fields, key) {
        Some(Json::Str(s)) => Ok(s),
        Some(_) => Err(MessageError::BadField(key)),
        None => Err(MessageError::MissingField(key)),
    }
}

/// An optional string (`requestId`): absent is `None`; `null` is refused, since the adapter
/// tests `requestId !== undefined` and would wait for acks on a `null` id.
fn take_opt_str(
    fields: &mut Vec<(String, Json)>,
    key: &'static str,
) -> Result<Option<String>, MessageError> {
    match take(fields, key) {
        None => Ok(None),
        Some(Json::Str(s)) => Ok(Some(s)),
        Some(_) => Err(MessageError::BadField(key)),
    }
}

/// A list of strings; absent or `null` is empty (`new Set(undefined)`).
fn take_strs(
    fields: &mut Vec<(String, Json)>,
    key: &'static str,
) -> Result<Vec<String>, MessageError> {
    match take(fields, key) {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Json::Str(s) => Ok(s),
                _ => Err(MessageError::BadField(key)),
            })
            .collect(),
        Some(_) => Err(MessageError::BadField(key)),
    }
}

/// `opts`: required, since the adapter's `decodeOptions(undefined)` throws.
fn take_opts(fields: &mut Vec<(String, Json)>) -> Result<Opts, MessageError> {
    let Json::Object(mut opts) = take(fields, "opts").ok_or(MessageError::MissingField("opts"))?
    else {
        return Err(MessageError::BadField("opts"));
    };
    Ok(Opts {
        rooms: take_strs(&mut opts, "rooms")?,
        except: take_strs(&mut opts, "except")?,
        flags: take(&mut opts, "flags"),
    })
}

fn strs(items: &[String]) -> Json {
    Json::Array(items.iter().map(|s| Json::Str(s.clone())).collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
