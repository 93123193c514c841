//! What the Redis formats have in common: the error type, and the step between a Socket.IO
//! EVENT (name, JSON arguments, binary attachments) and the frames of a [`BroadcastOp`].

use std::borrow::Cow;

use bytes::Bytes;
use ringcast_codec::sio::{self, DecodeLimits, PacketType, SioError};
use ringcast_codec::ws::{FrameBuf, OpCode, OutFrame};

use super::json::JsonError;
use super::msgpack::MsgpackError;
use crate::engine::BroadcastOp;

/// Why a message from Redis (or a broadcast to publish) could not be converted. The reaction is
/// always the same: drop the message, count a decode error, log at debug level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    Msgpack(MsgpackError),
    Json(JsonError),
    /// A broadcast that is not `[uid, packet, opts]`, or a packet without `data`.
    NotAnEnvelope,
    /// A packet type other than EVENT (2) / BINARY_EVENT (5), or `data` that is not
    /// `[name, ...args]` with a string name.
    NotAnEvent,
    /// A request or python-socketio message missing a field its type needs.
    MissingField(&'static str),
    /// A python-socketio message serialized with pickle (python-socketio ≤ 5.13); only the
    /// JSON form (≥ 5.14) is understood.
    Pickle,
    /// A base64 attachment of a python-socketio `binary` emit that does not decode.
    BadBase64,
    /// The Socket.IO codec refused the packet (a broadcast to publish, or placeholders that do
    /// not match the attachments).
    Codec(SioError),
}

impl From<MsgpackError> for WireError {
    fn from(e: MsgpackError) -> Self {
        WireError::Msgpack(e)
    }
}

impl From<JsonError> for WireError {
    fn from(e: JsonError) -> Self {
        WireError::Json(e)
    }
}

impl From<SioError> for WireError {
    fn from(e: SioError) -> Self {
        WireError::Codec(e)
    }
}

/// Limits for re-reading broadcasts this node encoded itself (trusted, but still bounded).
const OWN_PACKET_LIMITS: DecodeLimits = DecodeLimits {
    max_depth: 128,
    max_attachments: 1024,
};

/// Encodes an EVENT once into frames: the Engine.IO message `42[…]` (or `45<n>-[…]`) as a text
/// frame, then one binary frame per attachment. `args` is the JSON of the arguments without
/// the surrounding brackets (`{"a":1},2`), placeholders already in place.
pub fn event_frames<'b>(
    nsp: &str,
    event: &str,
    args: &str,
    attachments: impl ExactSizeIterator<Item = &'b [u8]>,
) -> Vec<OutFrame> {
    let mut frames = Vec::with_capacity(1 + attachments.len());
    let mut buf = FrameBuf::with_capacity(event.len() + args.len() + 16);
    sio::write_event(&mut buf, nsp, None, attachments.len(), event, args);
    frames.push(buf.finish(OpCode::Text));
    frames.extend(attachments.map(|a| OutFrame::new(OpCode::Binary, a)));
    frames
}

/// The EVENT a broadcast carries, read back from its frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundEvent {
    pub name: String,
    /// JSON of the arguments without the brackets (empty for none).
    pub args: String,
    pub id: Option<u64>,
    pub attachments: Vec<Bytes>,
}

/// Reads the EVENT back from `op.frames` (text frame `4…`, then the attachments).
pub fn read_event(op: &BroadcastOp) -> Result<OutboundEvent, WireError> {
    let first = op.frames.first().ok_or(WireError::NotAnEvent)?.payload();
    let text = std::str::from_utf8(&first).map_err(|_| WireError::NotAnEvent)?;
    // The Engine.IO message type `4` precedes the Socket.IO packet.
    let text = text.strip_prefix('4').ok_or(WireError::NotAnEvent)?;
    let packet = sio::Packet::decode(text, &OWN_PACKET_LIMITS)?;
    if !matches!(packet.kind, PacketType::Event | PacketType::BinaryEvent) {
        return Err(WireError::NotAnEvent);
    }
    let attachments: Vec<Bytes> = op.frames[1..].iter().map(OutFrame::payload).collect();
    if attachments.len() != packet.attachments {
        return Err(WireError::Codec(SioError::AttachmentMismatch));
    }
    let event = packet.event()?;
    Ok(OutboundEvent {
        name: event.name.into_owned(),
        args: event.args.to_owned(),
        id: packet.id,
        attachments,
    })
}

/// `args` (bracket-less JSON) wrapped as an array, for parsers that need one value.
pub fn args_array(args: &str) -> Cow<'_, str> {
    Cow::Owned(format!("[{args}]"))
}
