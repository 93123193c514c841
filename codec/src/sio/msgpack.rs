//! The `socket.io-msgpack-parser` wire form of Socket.IO packets (npm 3.0.2, python-socketio's
//! `msgpack_packet.py`): ONE binary Engine.IO message per packet, the MessagePack map
//! `{type, nsp, data, id}` (notepack.io's conventions, see [`crate::msgpack`]), binary as native
//! `bin` values inside `data`, no attachments and no BINARY_EVENT/BINARY_ACK types.
//!
//! The server keeps ONE Socket.IO state machine: [`decode`] turns a msgpack packet into the
//! text form [`super::Session::handle_text`] reads (binary values become placeholders plus
//! attachments, as socket.io-parser's `deconstructPacket` would have sent them), so every check
//! the JSON parser applies (event names, reserved names, namespaces, acks, depth) applies here
//! too; [`Outbound`] and [`encode_frames`] turn the frames the JSON encoders wrote back into
//! one msgpack message, so a broadcast is still encoded once per parser.
//!
//! The parser's own checks (`checkPacket`): `type` an integer CONNECT..CONNECT_ERROR (0–4),
//! `nsp` a string, `data` absent or a map for CONNECT, absent for DISCONNECT, a string or a
//! map for CONNECT_ERROR, an array otherwise; `id` absent or an integer. Other keys (the
//! `options` socket.io-client adds) are ignored; for a repeated key the last wins (a JS object).
//! Deliberately stricter: `nsp` must start with `/` and hold no `,` (the text form cannot say
//! anything else; socket.io answers such a namespace with "Invalid namespace" anyway), `id`
//! must be a non-negative integer (as the JSON parser's digits), and binary values in a
//! CONNECT, DISCONNECT or CONNECT_ERROR are [`MsgpackPacketError::BadData`].

use std::borrow::Cow;

use bytes::Bytes;

use super::{DecodeLimits, Packet, PacketType, SioError};
use crate::json::{self, Token, Tokenizer};
use crate::msgpack::{self, Item, MsgpackError, Reader, Writer};
use crate::ws::{CloseCode, OpCode, OutFrame};

/// Why a msgpack packet was rejected. Like the JSON parser's [`SioError`], it closes the
/// connection; [`MsgpackPacketError::close_code`] says with which code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsgpackPacketError {
    /// Not one well-formed MessagePack value: truncated, the reserved byte `0xc1`, bytes after
    /// the value, containers nested past [`msgpack::MAX_DEPTH`], a map key JavaScript could
    /// not have written, a bad BigInt.
    Malformed(MsgpackError),
    /// The value is not a map.
    NotAMap,
    /// `type` missing, not an integer, or outside CONNECT..CONNECT_ERROR (0–4).
    BadType,
    /// `nsp` missing, not a string, not starting with `/`, or holding a `,`.
    BadNamespace,
    /// `id` present but not a non-negative integer.
    BadId,
    /// `data` not what the type requires, or binary where the text form has no attachments.
    BadData,
    /// More binary values than [`DecodeLimits::max_attachments`].
    TooManyBinaries,
}

impl MsgpackPacketError {
    /// The WebSocket close code, chosen as the JSON parser chooses it ([`SioError::close_code`]):
    /// 1002 when the packet's framing breaks the protocol (not a map, type, namespace, id),
    /// 1007 when its bytes or data are not valid for its type, 1008 past a limit this server
    /// sets (nesting depth, binary values per packet).
    pub fn close_code(self) -> CloseCode {
        match self {
            MsgpackPacketError::NotAMap
            | MsgpackPacketError::BadType
            | MsgpackPacketError::BadNamespace
            | MsgpackPacketError::BadId => CloseCode::PROTOCOL_ERROR,
            MsgpackPacketError::Malformed(MsgpackError::TooDeep)
            | MsgpackPacketError::TooManyBinaries => CloseCode::POLICY_VIOLATION,
            MsgpackPacketError::Malformed(_) | MsgpackPacketError::BadData => {
                CloseCode::INVALID_PAYLOAD
            }
        }
    }
}

impl From<MsgpackError> for MsgpackPacketError {
    fn from(e: MsgpackError) -> Self {
        MsgpackPacketError::Malformed(e)
    }
}

/// A msgpack packet in the Socket.IO text form (without the Engine.IO `4`), with the binary
/// values its placeholders refer to, in socket.io-parser's traversal order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// `<type>[<n>-][<nsp>,][<id>][<json>]`: an EVENT/ACK with binary values is a
    /// BINARY_EVENT/BINARY_ACK whose count is `attachments.len()`.
    pub text: String,
    pub attachments: Vec<&'a [u8]>,
}

/// Decodes one msgpack packet (the whole binary Engine.IO message) into its text form.
/// Feed `text` to [`super::Session::handle_text`], then each attachment to `handle_binary`.
///
/// Each binary value costs ~28 bytes of text (`{"_placeholder":true,"num":N}`) for as little as
/// 2 bytes of input (`c4 00`): the count is refused past `limits.max_attachments` right after
/// the conversion, which the Engine.IO max payload (1 MB) bounds.
pub fn decode<'a>(
    bytes: &'a [u8],
    limits: &DecodeLimits,
) -> Result<Decoded<'a>, MsgpackPacketError> {
    let mut r = Reader::new(bytes);
    let Item::Map(entries) = r.read()? else {
        return Err(MsgpackPacketError::NotAMap);
    };
    let mut kind = None;
    let mut nsp = None;
    let mut id = None;
    let mut data: Option<&'a [u8]> = None;
    for _ in 0..entries {
        // Keys and values are read whole: a container key (`{[1,2]: …}`, which JavaScript
        // turns into the property "1,2") must not leave its items to be read as the value.
        let key = r.clone().read()?;
        r.skip()?;
        let start = r.position();
        // The value's first token, then the whole value skipped (`data` is kept as its bytes
        // and converted below; a container under another key is never looked into).
        let value = r.clone().read()?;
        r.skip()?;
        let Item::Str(key) = key else {
            // A numeric key is a property like any other, and none of the four.
            continue;
        };
        // notepack's `undefined` is a missing property.
        let value = (value != Item::Undefined).then_some(value);
        match &*key {
            "type" => kind = value,
            "nsp" => nsp = value,
            "id" => id = value,
            "data" => data = value.map(|_| r.slice(start, r.position())),
            _ => {}
        }
    }
    r.finish()?;
    let kind = packet_type(kind)?;
    let nsp = match nsp {
        Some(Item::Str(s)) if s.starts_with('/') && !s.contains(',') => s,
        _ => return Err(MsgpackPacketError::BadNamespace),
    };
    let id = ack_id(id)?;
    let data = data.map(|d| (d, Reader::new(d).read()));
    // python-socketio's serializer writes `data: None` (nil) on a CONNECT without auth and on
    // every DISCONNECT; socket.io-msgpack-parser leaves the key out. Both mean "no data".
    let data = match (kind, data) {
        (PacketType::Connect | PacketType::Disconnect, Some((_, Ok(Item::Nil)))) => None,
        (_, data) => data,
    };
    let data_ok = matches!(
        (kind, &data),
        (PacketType::Connect | PacketType::Disconnect, None)
            | (PacketType::Connect, Some((_, Ok(Item::Map(_)))))
            | (
                PacketType::ConnectError,
                Some((_, Ok(Item::Map(_) | Item::Str(_))))
            )
            | (
                PacketType::Event | PacketType::Ack,
                Some((_, Ok(Item::Array(_))))
            )
    );
    if !data_ok {
        return Err(MsgpackPacketError::BadData);
    }
    let mut json = Vec::new();
    let mut attachments = Vec::new();
    if let Some((d, _)) = data {
        let mut reader = Reader::new(d);
        msgpack::to_json(&mut reader, &mut json, &mut attachments)?;
        reader.finish()?;
    }
    if attachments.len() > limits.max_attachments {
        return Err(MsgpackPacketError::TooManyBinaries);
    }
    let mut text = Vec::with_capacity(json.len() + nsp.len() + 24);
    let kind = match (kind, attachments.is_empty()) {
        (_, true) => kind,
        (PacketType::Event, false) => PacketType::BinaryEvent,
        (PacketType::Ack, false) => PacketType::BinaryAck,
        (_, false) => return Err(MsgpackPacketError::BadData),
    };
    text.push(b'0' + kind as u8);
    if kind.is_binary() {
        msgpack::write_uint(&mut text, attachments.len() as u64);
        text.push(b'-');
    }
    if nsp != "/" {
        text.extend_from_slice(nsp.as_bytes());
        text.push(b',');
    }
    if let Some(id) = id {
        msgpack::write_uint(&mut text, id);
    }
    text.extend_from_slice(&json);
    // Every piece is UTF-8: ASCII digits, a `str`, and `to_json`'s escaped strings.
    let text = String::from_utf8(text).map_err(|_| MsgpackError::Unexpected)?;
    Ok(Decoded { text, attachments })
}

/// Writes the msgpack form of one text-form packet (`text` without the Engine.IO `4`, as the
/// JSON encoders wrote it) whose placeholders refer to `attachments`: the map
/// `{type, nsp, data, id}` with BINARY_EVENT/BINARY_ACK as EVENT/ACK and each placeholder
/// replaced by its attachment as `bin`. JSON numbers become integers when they are integers
/// that fit 64 bits (what python-socketio and notepack.io read as integers), float64 otherwise.
pub fn encode(text: &str, attachments: &[Bytes], out: &mut Writer) -> Result<(), SioError> {
    let packet = Packet::decode(text, &TRUSTED)?;
    if packet.attachments != attachments.len() {
        return Err(SioError::AttachmentMismatch);
    }
    let kind = match packet.kind {
        PacketType::BinaryEvent => PacketType::Event,
        PacketType::BinaryAck => PacketType::Ack,
        kind => kind,
    };
    out.map(2 + usize::from(packet.data.is_some()) + usize::from(packet.id.is_some()));
    out.str("type");
    out.uint(kind as u64);
    out.str("nsp");
    out.str(packet.nsp);
    if let Some(data) = packet.data {
        out.str("data");
        json_to_msgpack(data, attachments, out)?;
    }
    if let Some(id) = packet.id {
        out.str("id");
        out.uint(id);
    }
    Ok(())
}

/// Transcodes the frames of one packet as the JSON encoders wrote them (the `4…` text frame,
/// then one binary frame per attachment) into the one binary frame the msgpack parser reads.
pub fn encode_frames(frames: &[OutFrame]) -> Result<OutFrame, SioError> {
    let (first, rest) = frames.split_first().ok_or(SioError::Empty)?;
    let payload = first.payload();
    let text = std::str::from_utf8(&payload).map_err(|_| SioError::InvalidJson)?;
    let text = text.strip_prefix('4').ok_or(SioError::UnknownType)?;
    let attachments: Vec<Bytes> = rest.iter().map(OutFrame::payload).collect();
    let mut w = Writer::new();
    encode(text, &attachments, &mut w)?;
    Ok(OutFrame::new(OpCode::Binary, &w.buf))
}

/// One session's outbound side: takes the frames the JSON encoders produce, one at a time,
/// and gives back one msgpack frame per packet (holding a BINARY_EVENT/BINARY_ACK until its
/// attachments arrived).
#[derive(Debug, Default)]
pub struct Outbound {
    pending: Vec<OutFrame>,
    expected: usize,
}

impl Outbound {
    /// `Ok(Some(frame))`: send it; `Ok(None)`: attachments are still expected. A text frame
    /// that is not an Engine.IO message (`4…`) passes unchanged.
    pub fn push(&mut self, frame: OutFrame) -> Result<Option<OutFrame>, SioError> {
        if !self.pending.is_empty() {
            self.pending.push(frame);
            if self.pending.len() <= self.expected {
                return Ok(None);
            }
            let frames = std::mem::take(&mut self.pending);
            return encode_frames(&frames).map(Some);
        }
        if frame.opcode() != OpCode::Text {
            return Err(SioError::AttachmentMismatch);
        }
        let payload = frame.payload();
        if payload.first() != Some(&b'4') {
            return Ok(Some(frame));
        }
        let expected = attachment_count(&payload[1..]);
        if expected == 0 {
            return encode_frames(std::slice::from_ref(&frame)).map(Some);
        }
        self.expected = expected;
        self.pending.push(frame);
        Ok(None)
    }
}

/// Our own output is decoded again to transcode it: no depth or attachment limit applies.
const TRUSTED: DecodeLimits = DecodeLimits {
    max_depth: json::MAX_STACK,
    max_attachments: usize::MAX,
};

/// The attachment count in a text-form header (`51-…`), 0 for other types.
fn attachment_count(text: &[u8]) -> usize {
    match text.first() {
        Some(b'5' | b'6') => text[1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .fold(0usize, |n, &b| {
                n.saturating_mul(10).saturating_add(usize::from(b - b'0'))
            }),
        _ => 0,
    }
}

fn packet_type(item: Option<Item<'_>>) -> Result<PacketType, MsgpackPacketError> {
    let n = match item {
        Some(Item::UInt(n)) => n,
        // `Number.isInteger(2.0)` is true: notepack may carry an integral float.
        Some(Item::Float(f)) if f.fract() == 0.0 && (0.0..=4.0).contains(&f) => f as u64,
        _ => return Err(MsgpackPacketError::BadType),
    };
    Ok(match n {
        0 => PacketType::Connect,
        1 => PacketType::Disconnect,
        2 => PacketType::Event,
        3 => PacketType::Ack,
        4 => PacketType::ConnectError,
        _ => return Err(MsgpackPacketError::BadType),
    })
}

fn ack_id(item: Option<Item<'_>>) -> Result<Option<u64>, MsgpackPacketError> {
    match item {
        None => Ok(None),
        Some(Item::UInt(n)) => Ok(Some(n)),
        // Below 2^53 an integral float is exact (the largest id JS can count to).
        Some(Item::Float(f))
            if f.fract() == 0.0 && (0.0..9.007_199_254_740_992e15).contains(&f) =>
        {
            Ok(Some(f as u64))
        }
        Some(_) => Err(MsgpackPacketError::BadId),
    }
}

/// One open container while counting: its index in open order, and for an object what its
/// keys so far make of it as a placeholder (`{"_placeholder":true,"num":N}`).
#[derive(Debug)]
struct Open {
    index: usize,
    object: bool,
    key: Key,
    placeholder: bool,
    num: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Placeholder,
    Num,
    Other,
}

/// Writes JSON text as MessagePack in two passes over the tokenizer: the first counts each
/// container's items (a msgpack header comes before them) and finds placeholders (as
/// [`super::check_placeholders`] reads them: `_placeholder` true, the last duplicate key
/// wins); the second writes. No value tree is built.
fn json_to_msgpack(json: &str, attachments: &[Bytes], out: &mut Writer) -> Result<(), SioError> {
    let (counts, placeholders) = count(json, attachments.len())?;
    let mut tokens = Tokenizer::new(json.as_bytes(), json::MAX_STACK);
    let mut next = 0;
    while let Some(token) = tokens.next_token().map_err(|_| SioError::InvalidJson)? {
        match token {
            Token::BeginObject | Token::BeginArray => {
                let index = next;
                next += 1;
                let n = *counts.get(index).ok_or(SioError::InvalidJson)?;
                if token == Token::BeginArray {
                    out.array(n);
                    continue;
                }
                let Some(&Some(num)) = placeholders.get(index) else {
                    out.map(n);
                    continue;
                };
                out.bin(attachments.get(num).ok_or(SioError::AttachmentMismatch)?);
                // Skip the placeholder's own tokens (containers inside still take an index).
                let mut depth = 1;
                while depth > 0 {
                    match tokens.next_token().map_err(|_| SioError::InvalidJson)? {
                        Some(Token::BeginObject | Token::BeginArray) => {
                            depth += 1;
                            next += 1;
                        }
                        Some(Token::EndObject | Token::EndArray) => depth -= 1,
                        Some(_) => {}
                        None => return Err(SioError::InvalidJson),
                    }
                }
            }
            Token::EndObject | Token::EndArray => {}
            Token::Key { start, end, .. } | Token::Str { start, end, .. } => {
                out.str(&string(json, start, end)?);
            }
            Token::Number { start, end } => {
                write_number(out, json.get(start..end).ok_or(SioError::InvalidJson)?)
            }
            Token::Bool(b) => out.bool(b),
            Token::Null => out.nil(),
        }
    }
    Ok(())
}

/// Items per container (in open order) and, with attachments, which objects are placeholders.
#[allow(clippy::type_complexity)]
fn count(json: &str, attachments: usize) -> Result<(Vec<usize>, Vec<Option<usize>>), SioError> {
    let mut counts = Vec::new();
    let mut placeholders = Vec::new();
    let mut open: Vec<Open> = Vec::new();
    let mut tokens = Tokenizer::new(json.as_bytes(), json::MAX_STACK);
    while let Some(token) = tokens.next_token().map_err(|_| SioError::InvalidJson)? {
        match token {
            Token::Key { start, end, .. } => {
                if let Some(top) = open.last_mut() {
                    if let Some(n) = counts.get_mut(top.index) {
                        *n += 1;
                    }
                    if attachments > 0 {
                        top.key = match &*string(json, start, end)? {
                            "_placeholder" => Key::Placeholder,
                            "num" => Key::Num,
                            _ => Key::Other,
                        };
                    }
                }
            }
            Token::EndObject | Token::EndArray => {
                let Some(done) = open.pop() else {
                    return Err(SioError::InvalidJson);
                };
                if done.object && done.placeholder {
                    match done.num {
                        Some(n) if n < attachments => {
                            if let Some(slot) = placeholders.get_mut(done.index) {
                                *slot = Some(n);
                            }
                        }
                        _ => return Err(SioError::AttachmentMismatch),
                    }
                }
            }
            value => {
                if let Some(top) = open.last_mut() {
                    if !top.object {
                        if let Some(n) = counts.get_mut(top.index) {
                            *n += 1;
                        }
                    } else if attachments > 0 {
                        match top.key {
                            Key::Placeholder => top.placeholder = value == Token::Bool(true),
                            Key::Num => {
                                top.num = match value {
                                    Token::Number { start, end } => {
                                        json.get(start..end).and_then(|t| t.parse().ok())
                                    }
                                    _ => None,
                                }
                            }
                            Key::Other => {}
                        }
                    }
                }
                let object = value == Token::BeginObject;
                if object || value == Token::BeginArray {
                    open.push(Open {
                        index: counts.len(),
                        object,
                        key: Key::Other,
                        placeholder: false,
                        num: None,
                    });
                    counts.push(0);
                    placeholders.push(None);
                }
            }
        }
    }
    Ok((counts, placeholders))
}

/// A JSON string's content, unescaped. A lone surrogate (`"\ud800"`) has no UTF-8 form.
fn string(json: &str, start: usize, end: usize) -> Result<Cow<'_, str>, SioError> {
    let raw = json.get(start..end).ok_or(SioError::InvalidJson)?;
    json::unescape(raw).ok_or(SioError::InvalidJson)
}

fn write_number(out: &mut Writer, text: &str) {
    if !text.contains(['.', 'e', 'E']) {
        if let Ok(n) = text.parse::<i64>() {
            return out.int(n);
        }
        if let Ok(n) = text.parse::<u64>() {
            return out.uint(n);
        }
    }
    // The tokenizer checked the grammar, which `f64::from_str` accepts; huge exponents give ±inf,
    // which `JSON.parse` gives too (and notepack writes as float64).
    match text.parse::<f64>() {
        Ok(f) => out.number(f),
        Err(_) => out.nil(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
