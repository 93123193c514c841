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
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const LIMITS: DecodeLimits = DecodeLimits {
        max_depth: 32,
        max_attachments: 10,
    };

    fn p<'a>(
        kind: PacketType,
        nsp: &'a str,
        id: Option<u64>,
        attachments: usize,
        data: Option<&'a str>,
    ) -> Packet<'a> {
        Packet {
            kind,
            nsp,
            id,
            attachments,
            data,
        }
    }

    use PacketType::*;

    // Golden vectors: every encoding in the Socket.IO v5 protocol README ("Packet encoding"
    // tables and the sample session), each decoded and re-encoded through `write_packet`.
    macro_rules! golden {
        ($($name:ident: $wire:expr => $packet:expr;)*) => {$(
            #[test]
            fn $name() {
                let want: Packet<'_> = $packet;
                assert_eq!(Packet::decode($wire, &LIMITS), Ok(want));
                let mut out = Vec::new();
                write_packet(&mut out, &want);
                assert_eq!(out, format!("4{}", $wire).as_bytes());
            }
        )*};
    }

    golden! {
        golden_connect_main: "0" => p(Connect, "/", None, 0, None);
        golden_connect_main_sid: r#"0{"sid":"wZX3oN0bSVIhsaknAAAI"}"# => p(Connect, "/", None, 0, Some(r#"{"sid":"wZX3oN0bSVIhsaknAAAI"}"#));
        golden_connect_admin: "0/admin," => p(Connect, "/admin", None, 0, None);
        golden_connect_admin_sid: r#"0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"# => p(Connect, "/admin", None, 0, Some(r#"{"sid":"oSO0OpakMV_3jnilAAAA"}"#));
        golden_connect_error: r#"4{"message":"Not authorized"}"# => p(ConnectError, "/", None, 0, Some(r#"{"message":"Not authorized"}"#));
        golden_event: r#"2["foo"]"# => p(Event, "/", None, 0, Some(r#"["foo"]"#));
        golden_event_admin: r#"2/admin,["bar"]"# => p(Event, "/admin", None, 0, Some(r#"["bar"]"#));
        golden_binary_event: r#"51-["baz",{"_placeholder":true,"num":0}]"# => p(BinaryEvent, "/", None, 1, Some(r#"["baz",{"_placeholder":true,"num":0}]"#));
        golden_binary_event_admin: r#"52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"# =>
            p(BinaryEvent, "/admin", None, 2, Some(r#"["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#));
        golden_event_ack: r#"212["foo"]"# => p(Event, "/", Some(12), 0, Some(r#"["foo"]"#));
        golden_ack_empty: "312[]" => p(Ack, "/", Some(12), 0, Some("[]"));
        golden_event_admin_ack: r#"2/admin,13["foo"]"# => p(Event, "/admin", Some(13), 0, Some(r#"["foo"]"#));
        golden_ack_admin: r#"3/admin,13["bar"]"# => p(Ack, "/admin", Some(13), 0, Some(r#"["bar"]"#));
        golden_binary_event_ack: r#"51-14["foo",{"_placeholder":true,"num":0}]"# => p(BinaryEvent, "/", Some(14), 1, Some(r#"["foo",{"_placeholder":true,"num":0}]"#));
        golden_ack_14: r#"314["bar"]"# => p(Ack, "/", Some(14), 0, Some(r#"["bar"]"#));
        golden_event_15: r#"215["foo"]"# => p(Event, "/", Some(15), 0, Some(r#"["foo"]"#));
        golden_binary_ack: r#"61-15["bar",{"_placeholder":true,"num":0}]"# => p(BinaryAck, "/", Some(15), 1, Some(r#"["bar",{"_placeholder":true,"num":0}]"#));
        golden_disconnect: "1" => p(Disconnect, "/", None, 0, None);
        golden_disconnect_admin: "1/admin," => p(Disconnect, "/admin", None, 0, None);
        golden_sample_hey_jude: r#"2["hey","Jude"]"# => p(Event, "/", None, 0, Some(r#"["hey","Jude"]"#));
        golden_sample_tellme: r#"2/admin,1["tellme"]"# => p(Event, "/admin", Some(1), 0, Some(r#"["tellme"]"#));
        golden_sample_binary_ack: r#"61-/admin,1[{"_placeholder":true,"num":0}]"# => p(BinaryAck, "/admin", Some(1), 1, Some(r#"[{"_placeholder":true,"num":0}]"#));
        golden_suite_connect_token: r#"0{"token":"123"}"# => p(Connect, "/", None, 0, Some(r#"{"token":"123"}"#));
        golden_suite_message: r#"2["message",1,"2",{"3":[true]}]"# => p(Event, "/", None, 0, Some(r#"["message",1,"2",{"3":[true]}]"#));
        golden_connect_error_string: r#"4"Not authorized""# => p(ConnectError, "/", None, 0, Some(r#""Not authorized""#));
    }

    #[test]
    fn namespace_may_run_to_the_end() {
        // The protocol test suite sends `40/random` and `41/custom` without a comma.
        assert_eq!(
            Packet::decode("0/random", &LIMITS),
            Ok(p(Connect, "/random", None, 0, None))
        );
        assert_eq!(
            Packet::decode("1/custom", &LIMITS),
            Ok(p(Disconnect, "/custom", None, 0, None))
        );
    }

    macro_rules! errors {
        ($($name:ident: $wire:expr => $err:expr;)*) => {$(
            #[test]
            fn $name() {
                assert_eq!(Packet::decode($wire, &LIMITS), Err($err));
            }
        )*};
    }

    errors! {
        err_empty: "" => SioError::Empty;
        err_type_7: "7" => SioError::UnknownType;
        err_type_letter: "abc" => SioError::UnknownType;
        err_att_no_dash: r#"51["a"]"# => SioError::BadAttachments;
        err_att_no_digits: r#"5-["a"]"# => SioError::BadAttachments;
        err_att_letters: r#"5x-["a"]"# => SioError::BadAttachments;
        err_att_over_limit: r#"511-["a"]"# => SioError::BadAttachments;
        err_att_overflow: r#"599999999999999999999999-["a"]"# => SioError::BadAttachments;
        err_att_end: "5" => SioError::BadAttachments;
        err_ack_id_overflow: r#"299999999999999999999999["a"]"# => SioError::BadAckId;
        err_ack_without_id: r#"3["a"]"# => SioError::BadAckId;
        err_binary_ack_without_id: r#"61-[{"_placeholder":true,"num":0}]"# => SioError::BadAckId;
        err_invalid_json: "2[\"a\"" => SioError::InvalidJson;
        err_invalid_json_tail: r#"2["a"]x"# => SioError::InvalidJson;
        err_suite_invalid_handshake: "abc" => SioError::UnknownType;
        err_event_object: r#"2{"a":1}"# => SioError::NotAnArray;
        err_event_string: r#"2"a""# => SioError::NotAnArray;
        err_event_empty: "2[]" => SioError::NotAnArray;
        err_event_name_object: r#"2[{"a":1}]"# => SioError::EventNameNotString;
        err_event_name_null: "2[null]" => SioError::EventNameNotString;
        err_event_name_bool: "2[true]" => SioError::EventNameNotString;
        err_event_name_array: r#"2[["a"]]"# => SioError::EventNameNotString;
        err_event_name_connect: r#"2["connect"]"# => SioError::EventNameReserved;
        err_event_name_connect_error: r#"2["connect_error",{}]"# => SioError::EventNameReserved;
        err_event_name_disconnect: r#"2["disconnect"]"# => SioError::EventNameReserved;
        err_event_name_disconnecting: r#"2["disconnecting"]"# => SioError::EventNameReserved;
        err_event_name_new_listener: r#"2["newListener"]"# => SioError::EventNameReserved;
        err_event_name_remove_listener: r#"2["removeListener"]"# => SioError::EventNameReserved;
        err_event_name_reserved_escaped: r#"2["conn\u0065ct"]"# => SioError::EventNameReserved;
        err_binary_event_name_reserved: r#"51-["disconnect",{"_placeholder":true,"num":0}]"# => SioError::EventNameReserved;
        err_binary_event_name_null: r#"51-[null,{"_placeholder":true,"num":0}]"# => SioError::EventNameNotString;
        err_event_missing: "2" => SioError::MissingData;
        err_event_nsp_missing: "2/admin," => SioError::MissingData;
        err_event_nsp_swallows_data: r#"2/admin["a"]"# => SioError::MissingData;
        err_ack_object: r#"31{"a":1}"# => SioError::NotAnArray;
        err_ack_missing: "31" => SioError::MissingData;
        err_connect_array: "0[1]" => SioError::NotAnObject;
        err_connect_string: r#"0"x""# => SioError::NotAnObject;
        err_connect_error_array: "4[1]" => SioError::NotAnObject;
        err_connect_error_missing: "4" => SioError::MissingData;
        err_too_deep: "2[\"a\",[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]" => SioError::TooDeep;
    }

    #[test]
    fn depth_limit_is_exact() {
        let nested = |n: usize| format!("2[\"a\",{}{}]", "[".repeat(n), "]".repeat(n));
        let limits = DecodeLimits {
            max_depth: 4,
            ..LIMITS
        };
        assert!(Packet::decode(&nested(3), &limits).is_ok());
        assert_eq!(Packet::decode(&nested(4), &limits), Err(SioError::TooDeep));
    }

    #[test]
    fn disconnect_data_is_tolerated_if_json() {
        assert_eq!(
            Packet::decode("1{}", &LIMITS),
            Ok(p(Disconnect, "/", None, 0, Some("{}")))
        );
        assert_eq!(Packet::decode("1{", &LIMITS), Err(SioError::InvalidJson));
    }

    macro_rules! events {
        ($($name:ident: $wire:expr => $ev:expr, $args:expr;)*) => {$(
            #[test]
            fn $name() {
                let packet = Packet::decode($wire, &LIMITS).unwrap();
                let event = packet.event().unwrap();
                assert_eq!((&*event.name, event.args), ($ev, $args));
            }
        )*};
    }

    events! {
        ev_subscribe: r#"2["subscribe",{"room":"agent:123"}]"# => "subscribe", r#"{"room":"agent:123"}"#;
        ev_heartbeat: r#"2["heartbeat",{"timestamp":1234567890}]"# => "heartbeat", r#"{"timestamp":1234567890}"#;
        ev_no_args: r#"2["foo"]"# => "foo", "";
        ev_two_args: r#"2["hey","Jude",2]"# => "hey", r#""Jude",2"#;
        ev_whitespace: "2[ \"a\" , 1 , 2 ]" => "a", "1 , 2";
        ev_whitespace_no_args: "2[ \"a\" ]" => "a", "";
        ev_escaped_name: r#"2["a\"b\u00e9",1]"# => "a\"bé", "1";
        ev_binary: r#"51-["baz",{"_placeholder":true,"num":0}]"# => "baz", r#"{"_placeholder":true,"num":0}"#;
        ev_nsp_ack: r#"2/admin,13["foo",[1,[2]]]"# => "foo", "[1,[2]]";
        // socket.io-parser's isPayloadValid: `typeof payload[0] === "number"` is a name.
        ev_number_name: r#"2[1,{"room":"agent:1"}]"# => "1", r#"{"room":"agent:1"}"#;
        ev_number_name_alone: "2[42]" => "42", "";
        ev_negative_number_name: "2[-1.5e3,2]" => "-1.5e3", "2";
        ev_zero_name_with_ack: "27[0]" => "0", "";
        ev_binary_number_name: r#"51-[7,{"_placeholder":true,"num":0}]"# => "7", r#"{"_placeholder":true,"num":0}"#;
        // Names that only look reserved are ordinary names.
        ev_reserved_other_case: r#"2["Connect"]"# => "Connect", "";
        ev_reserved_prefix: r#"2["disconnected"]"# => "disconnected", "";
    }

    #[test]
    fn event_name_borrows_without_escapes() {
        let packet = Packet::decode(r#"2["subscribe",{}]"#, &LIMITS).unwrap();
        assert!(matches!(
            packet.event().unwrap().name,
            Cow::Borrowed("subscribe")
        ));
    }

    #[test]
    fn event_on_hand_built_packets_never_panics() {
        for data in [
            "",
            "[",
            "[\"",
            "[\"a\"",
            "[\"a\",",
            "[\"a\" x",
            "{}",
            "[null]",
            "[\"connect\"]",
            "[]",
            "[\"\\ud800\"]",
            "[[]]",
        ] {
            let packet = p(Event, "/", None, 0, Some(data));
            assert!(packet.event().is_err(), "{data:?}");
        }
        assert_eq!(
            p(Ack, "/", Some(1), 0, Some("[]")).event(),
            Err(SioError::NotAnArray)
        );
        assert_eq!(
            p(Event, "/", None, 0, None).event(),
            Err(SioError::MissingData)
        );
    }

    macro_rules! placeholders {
        ($($name:ident: $json:expr, $n:expr => $want:expr;)*) => {$(
            #[test]
            fn $name() {
                assert_eq!(check_placeholders($json, $n), $want);
            }
        )*};
    }

    placeholders! {
        ph_one: r#"["baz",{"_placeholder":true,"num":0}]"#, 1 => Ok(());
        ph_two: r#"["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#, 2 => Ok(());
        ph_nested_and_reordered: r#"["a",{"x":[{"num":1,"_placeholder":true}]},{"_placeholder":true,"num":0}]"#, 2 => Ok(());
        ph_none_needed: r#"["a",1]"#, 0 => Ok(());
        ph_repeated_ref: r#"[{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]"#, 1 => Ok(());
        ph_out_of_range: r#"["a",{"_placeholder":true,"num":1}]"#, 1 => Err(SioError::AttachmentMismatch);
        ph_unreferenced: r#"["a",{"_placeholder":true,"num":0}]"#, 2 => Err(SioError::AttachmentMismatch);
        ph_count_lies_zero: r#"["a",{"_placeholder":true,"num":0}]"#, 0 => Err(SioError::AttachmentMismatch);
        ph_missing_num: r#"["a",{"_placeholder":true}]"#, 1 => Err(SioError::AttachmentMismatch);
        ph_num_string: r#"["a",{"_placeholder":true,"num":"0"}]"#, 1 => Err(SioError::AttachmentMismatch);
        ph_num_negative: r#"["a",{"_placeholder":true,"num":-1}]"#, 1 => Err(SioError::AttachmentMismatch);
        ph_num_float: r#"["a",{"_placeholder":true,"num":0.5}]"#, 1 => Err(SioError::AttachmentMismatch);
        ph_false_is_plain_object: r#"["a",{"_placeholder":false,"num":7}]"#, 0 => Ok(());
        ph_last_duplicate_wins: r#"["a",{"_placeholder":true,"_placeholder":false,"num":7}]"#, 0 => Ok(());
        ph_as_string_value_ignored: r#"["_placeholder",{"k":"_placeholder"}]"#, 0 => Ok(());
        ph_escaped_key: r#"["a",{"\u005fplaceholder":true,"num":0}]"#, 1 => Ok(());
        ph_huge_count: r#"["a"]"#, usize::MAX => Err(SioError::AttachmentMismatch);
        ph_invalid_json: r#"["a",{"_placeholder":true,"num":0}"#, 1 => Err(SioError::InvalidJson);
    }

    fn written(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    macro_rules! writers {
        ($($name:ident: $f:expr => $want:expr;)*) => {$(
            #[test]
            fn $name() {
                assert_eq!(written($f), $want);
            }
        )*};
    }

    writers! {
        w_event: |o| write_event(o, "/", None, 0, "foo", "") => r#"42["foo"]"#;
        w_event_args: |o| write_event(o, "/", None, 0, "hey", r#""Jude""#) => r#"42["hey","Jude"]"#;
        w_event_nsp: |o| write_event(o, "/admin", None, 0, "bar", "") => r#"42/admin,["bar"]"#;
        w_event_nsp_id: |o| write_event(o, "/admin", Some(13), 0, "foo", "") => r#"42/admin,13["foo"]"#;
        w_event_empty_nsp: |o| write_event(o, "", Some(12), 0, "foo", "") => r#"4212["foo"]"#;
        w_binary_event: |o| write_event(o, "/admin", None, 2, "baz", r#"{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}"#) =>
            r#"452-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
        w_event_escaped: |o| write_event(o, "/", None, 0, "a\"b\n", "1") => r#"42["a\"b\n",1]"#;
        w_ack_empty: |o| write_ack(o, "/", 12, 0, "") => "4312[]";
        w_ack_admin: |o| write_ack(o, "/admin", 13, 0, r#""bar""#) => r#"43/admin,13["bar"]"#;
        w_binary_ack: |o| write_ack(o, "/admin", 1, 1, r#"{"_placeholder":true,"num":0}"#) => r#"461-/admin,1[{"_placeholder":true,"num":0}]"#;
        w_connect: |o| write_connect(o, "/", "wZX3oN0bSVIhsaknAAAI") => r#"40{"sid":"wZX3oN0bSVIhsaknAAAI"}"#;
        w_connect_admin: |o| write_connect(o, "/admin", "oSO0OpakMV_3jnilAAAA") => r#"40/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#;
        w_connect_error: |o| write_connect_error(o, "/", "Not authorized") => r#"44{"message":"Not authorized"}"#;
        w_connect_error_suite: |o| write_connect_error(o, "/random", "Invalid namespace") => r#"44/random,{"message":"Invalid namespace"}"#;
        w_disconnect: |o| write_disconnect(o, "/") => "41";
        w_disconnect_admin: |o| write_disconnect(o, "/admin") => "41/admin,";
    }

    #[test]
    fn writers_into_a_frame_buf() {
        let mut buf = crate::ws::FrameBuf::new();
        write_event(
            &mut buf,
            "/",
            None,
            0,
            "subscribed",
            r#"{"room":"agent:123"}"#,
        );
        let frame = buf.finish(crate::ws::OpCode::Text);
        assert_eq!(
            &frame.payload()[..],
            br#"42["subscribed",{"room":"agent:123"}]"#
        );
        assert_eq!(frame.bytes()[..2], [0x81, 37]);
    }

    #[test]
    fn parse_json_checks_depth_first() {
        let mut ok = br#"["a",{"b":[1,2]}]"#.to_vec();
        let value = parse_json(&mut ok, 3).unwrap();
        assert_eq!(
            simd_json::prelude::Writable::encode(&value),
            r#"["a",{"b":[1,2]}]"#
        );
        let mut deep = br#"["a",{"b":[1,2]}]"#.to_vec();
        assert_eq!(parse_json(&mut deep, 2).err(), Some(SioError::TooDeep));
        let mut bad = b"[1,".to_vec();
        assert_eq!(parse_json(&mut bad, 3).err(), Some(SioError::InvalidJson));
        let mut huge = vec![b'['; 1_000_000];
        assert_eq!(parse_json(&mut huge, 32).err(), Some(SioError::TooDeep));
    }

    #[test]
    fn close_codes_say_why() {
        let deep = format!("2[\"a\",{}{}]", "[".repeat(40), "]".repeat(40));
        for (wire, code) in [
            ("9", CloseCode::PROTOCOL_ERROR),
            (r#"51["a"]"#, CloseCode::PROTOCOL_ERROR),
            (r#"3["a"]"#, CloseCode::PROTOCOL_ERROR),
            ("2[\"a\"", CloseCode::INVALID_PAYLOAD),
            (r#"2{"a":1}"#, CloseCode::INVALID_PAYLOAD),
            ("2[null]", CloseCode::INVALID_PAYLOAD),
            (r#"2["disconnect"]"#, CloseCode::INVALID_PAYLOAD),
            ("0[1]", CloseCode::INVALID_PAYLOAD),
            (&deep, CloseCode::POLICY_VIOLATION),
        ] {
            let err = Packet::decode(wire, &LIMITS).expect_err(wire);
            assert_eq!(err.close_code(), code, "{wire}");
        }
    }

    #[test]
    fn reserved_events() {
        assert!(is_reserved_event("disconnect"));
        assert!(!is_reserved_event("subscribe"));
    }

    #[test]
    fn binary_assembler_completes_at_count() {
        let mut asm = BinaryAssembler::new(2);
        assert!(!asm.is_complete());
        assert!(!asm.handle_attachment(bytes::Bytes::from_static(&[1, 2])));
        assert!(asm.handle_attachment(bytes::Bytes::from_static(&[3, 4])));
        assert_eq!(
            asm.into_attachments(),
            vec![
                bytes::Bytes::from_static(&[1, 2]),
                bytes::Bytes::from_static(&[3, 4])
            ]
        );
    }
}
