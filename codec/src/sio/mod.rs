//! Socket.IO protocol v5 packets: decode, the event name without a full parse, binary
//! attachments, and encoders that write straight into a frame buffer.
//!
//! CONTRACT (the server codes against these signatures; keep them).
//!
//! Wire form (text): `<type>[<attachments>-][<nsp>,][<ack id>][<json data>]`, e.g.
//! `2["hello",1]`, `21["ev"]` (ack id 1), `2/admin,["ev"]`, `51-["b",{"_placeholder":true,"num":0}]`.
//! The Engine.IO message prefix `4` is NOT part of a Socket.IO packet: decoders take the text
//! after it; encoders write it (they produce the whole Engine.IO message, `42[…]`), because that
//! is what goes into one WebSocket frame and one polling record.

use std::borrow::Cow;

use crate::Sink;

/// Socket.IO packet types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum PacketType {
    Connect = 0,
    Disconnect = 1,
    Event = 2,
    Ack = 3,
    ConnectError = 4,
    BinaryEvent = 5,
    BinaryAck = 6,
}

/// Why a Socket.IO packet was rejected. A malformed packet closes the connection in socket.io's
/// reference server; a bad CONNECT gets `CONNECT_ERROR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SioError {
    Empty,
    UnknownType,
    /// Attachment count missing its `-`, not a number, or too large.
    BadAttachments,
    /// Namespace not terminated by `,`.
    BadNamespace,
    /// Ack id not a number or too large.
    BadAckId,
    /// The JSON data is not valid JSON.
    InvalidJson,
    /// EVENT/ACK data that is not an array (or an empty EVENT array).
    NotAnArray,
    /// The first element of an EVENT is not a string.
    EventNameNotString,
    /// CONNECT data that is present but not an object.
    NotAnObject,
    /// Placeholder `num` out of range, or attachment count mismatch.
    AttachmentMismatch,
    /// JSON nested deeper than the limit.
    TooDeep,
    /// A packet type that requires data has none (EVENT, ACK, CONNECT_ERROR).
    MissingData,
}

/// A decoded packet header with its raw JSON data (not parsed yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    pub kind: PacketType,
    /// `"/"` when absent.
    pub nsp: &'a str,
    pub id: Option<u64>,
    /// Number of binary attachments that follow (BINARY_EVENT / BINARY_ACK).
    pub attachments: usize,
    /// The raw JSON after the header, if any (`["ev",1]`, `{"token":"…"}`).
    pub data: Option<&'a str>,
}

/// Limits for decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Max JSON nesting depth (default 32).
    pub max_depth: usize,
    /// Max attachments per packet (default 10).
    pub max_attachments: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits { max_depth: 32, max_attachments: 10 }
    }
}

impl<'a> Packet<'a> {
    /// Decodes the header and checks the data's shape for the packet type (EVENT: a non-empty
    /// array whose first element is a string; ACK: an array; CONNECT: absent or an object;
    /// depth within limits) without building a value.
    pub fn decode(text: &'a str, limits: &DecodeLimits) -> Result<Packet<'a>, SioError> {
        let _ = (text, limits);
        unimplemented!()
    }

    /// For EVENT/BINARY_EVENT: the event name (unescaped only if it has escapes) and the raw
    /// JSON of the remaining arguments as a JSON array text (`[arg1,arg2]`, `[]` if none).
    pub fn event(&self) -> Result<Event<'a>, SioError> {
        unimplemented!()
    }
}

/// An event's name and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<'a> {
    pub name: Cow<'a, str>,
    /// The arguments after the name as a JSON array text (allocation only when the name had
    /// to be cut out of the middle; usually a borrowed slice like `[{"room":"x"}]` is not
    /// possible, so this is the raw text after the name's comma up to the final `]`: `{"room":"x"}`
    /// for one argument, `1,2` for two, empty for none).
    pub args: &'a str,
}

/// Parses JSON with simd-json, borrowing strings from `buf` (which it rewrites in place),
/// after checking the nesting depth (so `[[[[…]]]]` can never overflow the stack).
pub fn parse_json<'a>(buf: &'a mut [u8], max_depth: usize) -> Result<simd_json::BorrowedValue<'a>, SioError> {
    let _ = (buf, max_depth);
    unimplemented!()
}

/// Collects the binary attachments of a BINARY_EVENT/BINARY_ACK.
///
/// Call order: [`BinaryAssembler::new`] with the header packet's attachment count, then
/// [`BinaryAssembler::handle_attachment`] for each following binary message until it returns
/// `true` (complete); then [`BinaryAssembler::into_attachments`].
#[derive(Debug)]
pub struct BinaryAssembler {
    expected: usize,
    attachments: Vec<bytes::Bytes>,
}

impl BinaryAssembler {
    pub fn new(expected: usize) -> Self {
        BinaryAssembler { expected, attachments: Vec::with_capacity(expected) }
    }
    /// Adds one attachment; `true` once all have arrived.
    pub fn handle_attachment(&mut self, data: bytes::Bytes) -> bool {
        if self.attachments.len() < self.expected {
            self.attachments.push(data);
        }
        self.attachments.len() >= self.expected
    }
    pub fn is_complete(&self) -> bool {
        self.attachments.len() >= self.expected
    }
    pub fn into_attachments(self) -> Vec<bytes::Bytes> {
        self.attachments
    }
}

/// Checks that every `{"_placeholder":true,"num":N}` in `json` has `N < attachments` and that
/// each attachment is referenced (a lying attachment count is an error).
pub fn check_placeholders(json: &str, attachments: usize) -> Result<(), SioError> {
    let _ = (json, attachments);
    unimplemented!()
}

// ---- encoders: each writes a whole Engine.IO message packet (`4` + Socket.IO packet) ----

/// `4` `2`|`5<n>-` [nsp,] [id] `["<event>",<args>]`, where `args` is raw JSON of the arguments
/// separated by commas (`{"a":1}` or `1,"x"` or empty). `event` is JSON-escaped here.
pub fn write_event(out: &mut impl Sink, nsp: &str, id: Option<u64>, attachments: usize, event: &str, args: &str) {
    let _ = (out, nsp, id, attachments, event, args);
    unimplemented!()
}

/// `4` `3`|`6<n>-` [nsp,] id `[<args>]`.
pub fn write_ack(out: &mut impl Sink, nsp: &str, id: u64, attachments: usize, args: &str) {
    let _ = (out, nsp, id, attachments, args);
    unimplemented!()
}

/// `40` [nsp,] `{"sid":"<sid>"}`.
pub fn write_connect(out: &mut impl Sink, nsp: &str, sid: &str) {
    let _ = (out, nsp, sid);
    unimplemented!()
}

/// `44` [nsp,] `{"message":"<message>"}` (message JSON-escaped).
pub fn write_connect_error(out: &mut impl Sink, nsp: &str, message: &str) {
    let _ = (out, nsp, message);
    unimplemented!()
}

/// `41` [nsp,].
pub fn write_disconnect(out: &mut impl Sink, nsp: &str) {
    let _ = (out, nsp);
    unimplemented!()
}
