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
//!
//! Decoding follows socket.io-parser's `decodeString`: the namespace runs from `/` to the next
//! `,` or to the end (`40/custom` is namespace `/custom`, no data), the ack id is the digits
//! that follow, the rest is JSON. The JSON is validated by a tokenizer that builds nothing
//! (see [`crate::json`]); only its shape is checked here, per type (`isPayloadValid`).
//! Differences, all deliberate: the attachment count needs at least one digit (`5-[…]` is
//! rejected; JS reads it as 0), ACK/BINARY_ACK without an id is [`SioError::BadAckId`], an
//! EVENT name must be a string (socket.io also allows a number), and DISCONNECT data is
//! accepted if it is valid JSON (python-socketio ignores it; socket.io closes).

use std::borrow::Cow;

use crate::Sink;
use crate::json::{self, Kind, ScanError, Token, Tokenizer};
use crate::ws::{CloseCode, FrameBuf, OpCode, OutFrame};

pub mod msgpack;
pub mod recovery;
pub mod session;
pub mod v4;

pub use session::{
    AckId, CloseReason, CommandError, ConnectId, ConnectRequest, DisconnectReason,
    INVALID_NAMESPACE, Output, ParseError, Session, SessionConfig, SessionStats, Slot,
};

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

impl PacketType {
    /// BINARY_EVENT or BINARY_ACK: an attachment count precedes the namespace.
    pub fn is_binary(self) -> bool {
        matches!(self, PacketType::BinaryEvent | PacketType::BinaryAck)
    }
}

/// Why a Socket.IO packet was rejected. A malformed packet closes the connection in socket.io's
/// reference server; a bad CONNECT gets `CONNECT_ERROR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SioError {
    Empty,
    UnknownType,
    /// Attachment count missing its `-`, not a number, or too large.
    BadAttachments,
    /// Namespace not terminated by `,`. Not produced by [`Packet::decode`]: like socket.io, it
    /// accepts a namespace that runs to the end of the packet (`40/custom`).
    BadNamespace,
    /// Ack id too large for a `u64`, or missing on ACK/BINARY_ACK.
    BadAckId,
    /// The JSON data is not valid JSON.
    InvalidJson,
    /// EVENT/ACK data that is not an array (or an empty EVENT array).
    NotAnArray,
    /// The first element of an EVENT is neither a string nor a number (socket.io-parser's
    /// `isPayloadValid` accepts both).
    EventNameNotString,
    /// The EVENT's name is one of [`RESERVED_EVENTS`] (socket.io-parser: "invalid payload").
    EventNameReserved,
    /// CONNECT data that is present but not an object (CONNECT_ERROR: not an object or string).
    NotAnObject,
    /// Placeholder `num` out of range, or attachment count mismatch.
    AttachmentMismatch,
    /// JSON nested deeper than the limit.
    TooDeep,
    /// A packet type that requires data has none (EVENT, ACK, CONNECT_ERROR).
    MissingData,
}

impl SioError {
    /// The WebSocket close code for a session closed over this error (RFC 6455 §7.4.1): 1002
    /// when the packet's framing breaks the protocol (type, attachment count, namespace, ack id),
    /// 1007 when its JSON data is not valid or not the shape its type requires ("data within a
    /// message that was not consistent with the type of the message"), 1008 when it is valid but
    /// past a limit this server sets (the JSON nesting depth).
    pub fn close_code(self) -> CloseCode {
        match self {
            SioError::Empty
            | SioError::UnknownType
            | SioError::BadAttachments
            | SioError::BadNamespace
            | SioError::BadAckId => CloseCode::PROTOCOL_ERROR,
            SioError::InvalidJson
            | SioError::NotAnArray
            | SioError::EventNameNotString
            | SioError::EventNameReserved
            | SioError::NotAnObject
            | SioError::AttachmentMismatch
            | SioError::MissingData => CloseCode::INVALID_PAYLOAD,
            SioError::TooDeep => CloseCode::POLICY_VIOLATION,
        }
    }
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
    /// Max JSON nesting depth (default 32; values above 256 act as 256).
    pub max_depth: usize,
    /// Max attachments per packet (default 10).
    pub max_attachments: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_depth: 32,
            max_attachments: 10,
        }
    }
}

impl<'a> Packet<'a> {
    /// Decodes the header and checks the data's shape for the packet type (EVENT: a non-empty
    /// array whose first element is a string; ACK: an array; CONNECT: absent or an object;
    /// CONNECT_ERROR: an object or a string; depth within limits) without building a value.
    /// The whole data is validated as JSON. Placeholders are not checked here: see
    /// [`check_placeholders`].
    pub fn decode(text: &'a str, limits: &DecodeLimits) -> Result<Packet<'a>, SioError> {
        let bytes = text.as_bytes();
        let kind = match bytes.first() {
            None => return Err(SioError::Empty),
            Some(b'0') => PacketType::Connect,
            Some(b'1') => PacketType::Disconnect,
            Some(b'2') => PacketType::Event,
            Some(b'3') => PacketType::Ack,
            Some(b'4') => PacketType::ConnectError,
            Some(b'5') => PacketType::BinaryEvent,
            Some(b'6') => PacketType::BinaryAck,
            Some(_) => return Err(SioError::UnknownType),
        };
        let mut i = 1;
        let mut attachments = 0;
        if kind.is_binary() {
            let (n, end) = digits(bytes, i).ok_or(SioError::BadAttachments)?;
            if bytes.get(end) != Some(&b'-') || n > limits.max_attachments as u64 {
                return Err(SioError::BadAttachments);
            }
            attachments = n as usize;
            i = end + 1;
        }
        let mut nsp = "/";
        if bytes.get(i) == Some(&b'/') {
            // Every index used here is at an ASCII byte (or the end), so a char boundary.
            let end = memchr::memchr(b',', &bytes[i..]).map_or(bytes.len(), |off| i + off);
            nsp = &text[i..end];
            i = (end + 1).min(bytes.len());
        }
        let mut id = None;
        if bytes.get(i).is_some_and(u8::is_ascii_digit) {
            let (n, end) = digits(bytes, i).ok_or(SioError::BadAckId)?;
            id = Some(n);
            i = end;
        }
        if matches!(kind, PacketType::Ack | PacketType::BinaryAck) && id.is_none() {
            return Err(SioError::BadAckId);
        }
        let data = (i < bytes.len()).then(|| &text[i..]);
        check_shape(kind, data, limits.max_depth)?;
        Ok(Packet {
            kind,
            nsp,
            id,
            attachments,
            data,
        })
    }

    /// For EVENT/BINARY_EVENT: the event name (unescaped only if it has escapes) and the raw
    /// JSON of the remaining arguments, comma-separated without the brackets (`{"a":1}`,
    /// `1,"x"`, empty if none) — exactly what [`write_event`] takes as `args`.
    ///
    /// Other packet types: [`SioError::NotAnArray`] (there is no event to read).
    pub fn event(&self) -> Result<Event<'a>, SioError> {
        if !matches!(self.kind, PacketType::Event | PacketType::BinaryEvent) {
            return Err(SioError::NotAnArray);
        }
        let data = self.data.ok_or(SioError::MissingData)?;
        let mut tokens = Tokenizer::new(data.as_bytes(), 1);
        match tokens.next_token() {
            Ok(Some(Token::BeginArray)) => {}
            Ok(Some(_)) => return Err(SioError::NotAnArray),
            _ => return Err(SioError::InvalidJson),
        }
        let name = match tokens.next_token() {
            Ok(Some(Token::Str {
                start,
                end,
                escaped,
            })) => {
                let raw = data.get(start..end).ok_or(SioError::InvalidJson)?;
                if escaped {
                    json::unescape(raw).ok_or(SioError::InvalidJson)?
                } else {
                    Cow::Borrowed(raw)
                }
            }
            // A number is a name too (socket.io-parser accepts `typeof payload[0] === "number"`):
            // its JSON text, as Node's EventEmitter keys listeners by `String(name)`.
            Ok(Some(Token::Number { start, end })) => {
                Cow::Borrowed(data.get(start..end).ok_or(SioError::InvalidJson)?)
            }
            Ok(Some(Token::EndArray)) => return Err(SioError::NotAnArray),
            Ok(Some(_)) | Err(ScanError::TooDeep) => return Err(SioError::EventNameNotString),
            _ => return Err(SioError::InvalidJson),
        };
        if is_reserved_event(&name) {
            return Err(SioError::EventNameReserved);
        }
        let rest = trim_json_ws(data.get(tokens.pos()..).unwrap_or_default());
        let args = match rest.strip_prefix(',') {
            Some(args) => trim_json_ws(args.strip_suffix(']').ok_or(SioError::InvalidJson)?),
            None if rest == "]" => "",
            None => return Err(SioError::InvalidJson),
        };
        Ok(Event { name, args })
    }
}

/// An event's name and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<'a> {
    /// Borrowed unless the name had JSON escapes.
    pub name: Cow<'a, str>,
    /// The raw JSON text of the arguments after the name, without the surrounding array:
    /// `{"room":"x"}` for one argument, `1,2` for two, empty for none. (A borrowed slice of
    /// the packet; `[…]` around it would need a copy.)
    pub args: &'a str,
}

/// Event names socket.io-parser refuses on the wire (`RESERVED_EVENTS`): a server should not
/// dispatch them as application events.
pub const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Whether `name` is one of [`RESERVED_EVENTS`].
pub fn is_reserved_event(name: &str) -> bool {
    RESERVED_EVENTS.contains(&name)
}

/// Parses JSON with simd-json, borrowing strings from `buf` (which it rewrites in place),
/// after checking the nesting depth (so `[[[[…]]]]` can never overflow the stack).
pub fn parse_json<'a>(
    buf: &'a mut [u8],
    max_depth: usize,
) -> Result<simd_json::BorrowedValue<'a>, SioError> {
    if json::depth_within(buf, max_depth).is_none() {
        return Err(SioError::TooDeep);
    }
    simd_json::to_borrowed_value(buf).map_err(|_| SioError::InvalidJson)
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
        BinaryAssembler {
            expected,
            attachments: Vec::with_capacity(expected),
        }
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
///
/// As in socket.io-parser's `reconstructPacket`, any object whose `_placeholder` key is `true`
/// is a placeholder (other keys are ignored, the last duplicate key wins); `num` must be a
/// plain non-negative integer. Invalid JSON is [`SioError::InvalidJson`].
pub fn check_placeholders(json: &str, attachments: usize) -> Result<(), SioError> {
    // Each placeholder takes ~28 bytes, so a count above the text length is a lie; checking it
    // first also bounds the `used` allocation by the input size.
    if attachments > json.len() {
        return Err(SioError::AttachmentMismatch);
    }
    let mut used = vec![false; attachments];
    // One entry per open container: `Some` for an object being inspected, `None` for an array.
    let mut open: Vec<Option<ObjectScan>> = Vec::new();
    let mut tokens = Tokenizer::new(json.as_bytes(), json::MAX_STACK);
    while let Some(token) = tokens.next_token().map_err(scan_error)? {
        if token.kind().is_some()
            && let Some(Some(object)) = open.last_mut()
        {
            match object.key {
                KeyRole::Placeholder => object.placeholder = token == Token::Bool(true),
                KeyRole::Num => object.num = plain_index(json, token),
                KeyRole::Other => {}
            }
        }
        match token {
            Token::BeginObject => open.push(Some(ObjectScan::default())),
            Token::BeginArray => open.push(None),
            Token::EndArray => {
                open.pop();
            }
            Token::EndObject => {
                if let Some(Some(object)) = open.pop()
                    && object.placeholder
                {
                    let slot = object
                        .num
                        .and_then(|n| used.get_mut(n))
                        .ok_or(SioError::AttachmentMismatch)?;
                    *slot = true;
                }
            }
            Token::Key { start, end, .. } => {
                let key = json::unescape(json.get(start..end).unwrap_or_default())
                    .ok_or(SioError::InvalidJson)?;
                if let Some(Some(object)) = open.last_mut() {
                    object.key = match &*key {
                        "_placeholder" => KeyRole::Placeholder,
                        "num" => KeyRole::Num,
                        _ => KeyRole::Other,
                    };
                }
            }
            Token::Str { .. } | Token::Number { .. } | Token::Bool(_) | Token::Null => {}
        }
    }
    if used.iter().all(|&u| u) {
        Ok(())
    } else {
        Err(SioError::AttachmentMismatch)
    }
}

// ---- encoders: each writes a whole Engine.IO message packet (`4` + Socket.IO packet) ----

/// `4` `2`|`5<n>-` \[nsp,\] \[id\] `["<event>",<args>]`, where `args` is raw JSON of the arguments
/// separated by commas (`{"a":1}` or `1,"x"` or empty). `event` is JSON-escaped here.
///
/// `nsp` must start with `/` and contain no `,`; `/` (and empty) is omitted on the wire.
pub fn write_event(
    out: &mut impl Sink,
    nsp: &str,
    id: Option<u64>,
    attachments: usize,
    event: &str,
    args: &str,
) {
    let kind = if attachments > 0 {
        PacketType::BinaryEvent
    } else {
        PacketType::Event
    };
    put_header(out, kind, attachments, nsp, id);
    out.put_u8(b'[');
    json::write_str(out, event);
    if !args.is_empty() {
        out.put_u8(b',');
        out.put(args.as_bytes());
    }
    out.put_u8(b']');
}

/// `4` `3`|`6<n>-` \[nsp,\] id `[<args>]`.
pub fn write_ack(out: &mut impl Sink, nsp: &str, id: u64, attachments: usize, args: &str) {
    let kind = if attachments > 0 {
        PacketType::BinaryAck
    } else {
        PacketType::Ack
    };
    put_header(out, kind, attachments, nsp, Some(id));
    out.put_u8(b'[');
    out.put(args.as_bytes());
    out.put_u8(b']');
}

/// `40` \[nsp,\] `{"sid":"<sid>"}`.
pub fn write_connect(out: &mut impl Sink, nsp: &str, sid: &str) {
    put_header(out, PacketType::Connect, 0, nsp, None);
    out.put(b"{\"sid\":");
    json::write_str(out, sid);
    out.put_u8(b'}');
}

/// `44` \[nsp,\] `{"message":"<message>"}` (message JSON-escaped).
pub fn write_connect_error(out: &mut impl Sink, nsp: &str, message: &str) {
    put_header(out, PacketType::ConnectError, 0, nsp, None);
    out.put(b"{\"message\":");
    json::write_str(out, message);
    out.put_u8(b'}');
}

/// `41` \[nsp,\].
pub fn write_disconnect(out: &mut impl Sink, nsp: &str) {
    put_header(out, PacketType::Disconnect, 0, nsp, None);
}

/// `4` + `packet` re-encoded as is (header fields + raw data): relaying a decoded packet, or
/// any packet type the specific writers do not cover (a CONNECT with an arbitrary payload).
/// The attachment count is written for the binary types only.
pub fn write_packet(out: &mut impl Sink, packet: &Packet<'_>) {
    put_header(out, packet.kind, packet.attachments, packet.nsp, packet.id);
    if let Some(data) = packet.data {
        out.put(data.as_bytes());
    }
}

/// An EVENT (or BINARY_EVENT followed by one binary frame per attachment) encoded once into
/// server frames: the text frame carries [`write_event`]'s output.
pub fn encode_event(
    nsp: &str,
    id: Option<u64>,
    event: &str,
    args: &str,
    attachments: &[bytes::Bytes],
) -> Vec<OutFrame> {
    let mut buf = FrameBuf::with_capacity(event.len() + args.len() + 16);
    write_event(&mut buf, nsp, id, attachments.len(), event, args);
    let mut frames = Vec::with_capacity(1 + attachments.len());
    frames.push(buf.finish(OpCode::Text));
    frames.extend(attachments.iter().map(|a| OutFrame::new(OpCode::Binary, a)));
    frames
}

/// An ACK (or BINARY_ACK followed by one binary frame per attachment) encoded into server
/// frames: the text frame carries [`write_ack`]'s output.
pub fn encode_ack(nsp: &str, id: u64, args: &str, attachments: &[bytes::Bytes]) -> Vec<OutFrame> {
    let mut buf = FrameBuf::with_capacity(args.len() + 16);
    write_ack(&mut buf, nsp, id, attachments.len(), args);
    let mut frames = Vec::with_capacity(1 + attachments.len());
    frames.push(buf.finish(OpCode::Text));
    frames.extend(attachments.iter().map(|a| OutFrame::new(OpCode::Binary, a)));
    frames
}

/// One text frame holding what `write` writes (a CONNECT reply, a CONNECT_ERROR, a DISCONNECT).
pub fn encode_text(write: impl FnOnce(&mut FrameBuf)) -> OutFrame {
    let mut buf = FrameBuf::new();
    write(&mut buf);
    buf.finish(OpCode::Text)
}

/// `s` without leading and trailing JSON insignificant whitespace (RFC 8259 §2: space, tab,
/// LF, CR; all ASCII, so the cut is on char boundaries).
fn trim_json_ws(s: &str) -> &str {
    let is_ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let bytes = s.as_bytes();
    let start = bytes.iter().position(|b| !is_ws(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_ws(b))
        .map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or_default()
}

fn put_header(
    out: &mut impl Sink,
    kind: PacketType,
    attachments: usize,
    nsp: &str,
    id: Option<u64>,
) {
    out.put(&[b'4', b'0' + kind as u8]);
    if kind.is_binary() {
        json::write_u64(out, attachments as u64);
        out.put_u8(b'-');
    }
    if !nsp.is_empty() && nsp != "/" {
        out.put(nsp.as_bytes());
        out.put_u8(b',');
    }
    if let Some(id) = id {
        json::write_u64(out, id);
    }
}

/// Parses the ASCII digits at `bytes[from..]`: `(value, end)`; `None` if there are none or
/// they overflow a `u64`.
fn digits(bytes: &[u8], from: usize) -> Option<(u64, usize)> {
    let mut end = from;
    let mut n: u64 = 0;
    while let Some(&d) = bytes.get(end).filter(|d| d.is_ascii_digit()) {
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        end += 1;
    }
    (end > from).then_some((n, end))
}

fn scan_error(e: ScanError) -> SioError {
    match e {
        ScanError::Invalid => SioError::InvalidJson,
        ScanError::TooDeep => SioError::TooDeep,
    }
}

/// Validates `data` as JSON and checks the shape `kind` requires; see [`Packet::decode`].
fn check_shape(kind: PacketType, data: Option<&str>, max_depth: usize) -> Result<(), SioError> {
    let Some(data) = data else {
        return match kind {
            PacketType::Connect | PacketType::Disconnect => Ok(()),
            _ => Err(SioError::MissingData),
        };
    };
    let mut tokens = Tokenizer::new(data.as_bytes(), max_depth);
    let root = tokens
        .next_token()
        .map_err(scan_error)?
        .and_then(Token::kind)
        .ok_or(SioError::InvalidJson)?;
    match kind {
        PacketType::Event | PacketType::BinaryEvent => {
            if root != Kind::Array {
                return Err(SioError::NotAnArray);
            }
            match tokens.next_token().map_err(scan_error)? {
                Some(Token::Str {
                    start,
                    end,
                    escaped,
                }) => check_event_name(data, start, end, escaped)?,
                Some(Token::Number { .. }) => {}
                Some(Token::EndArray) => return Err(SioError::NotAnArray),
                Some(_) => return Err(SioError::EventNameNotString),
                None => return Err(SioError::InvalidJson),
            }
        }
        PacketType::Ack | PacketType::BinaryAck if root != Kind::Array => {
            return Err(SioError::NotAnArray);
        }
        PacketType::Connect if root != Kind::Object => return Err(SioError::NotAnObject),
        PacketType::ConnectError if !matches!(root, Kind::Object | Kind::String) => {
            return Err(SioError::NotAnObject);
        }
        _ => {}
    }
    while tokens.next_token().map_err(scan_error)?.is_some() {}
    Ok(())
}

/// Refuses a reserved event name, compared after unescaping as socket.io-parser's `JSON.parse`
/// does (`"conn\u0065ct"` is `connect`).
fn check_event_name(data: &str, start: usize, end: usize, escaped: bool) -> Result<(), SioError> {
    let raw = data.get(start..end).ok_or(SioError::InvalidJson)?;
    let reserved = if escaped {
        json::unescape(raw).is_some_and(|name| is_reserved_event(&name))
    } else {
        is_reserved_event(raw)
    };
    if reserved {
        Err(SioError::EventNameReserved)
    } else {
        Ok(())
    }
}

/// What the last key of an object being scanned for placeholders was.
#[derive(Debug, Default, Clone, Copy)]
enum KeyRole {
    #[default]
    Other,
    Placeholder,
    Num,
}

#[derive(Debug, Default, Clone, Copy)]
struct ObjectScan {
    key: KeyRole,
    placeholder: bool,
    num: Option<usize>,
}

/// `token` as an attachment index if it is a number made of digits only.
fn plain_index(json: &str, token: Token) -> Option<usize> {
    let Token::Number { start, end } = token else {
        return None;
    };
    let text = json.get(start..end)?;
    let (n, len) = digits(text.as_bytes(), 0)?;
    if len != text.len() {
        return None;
    }
    usize::try_from(n).ok()
}

#[cfg(test)]
mod tests;
