//! Engine.IO protocol v4: packets, polling payloads, the handshake, and the session state machine.
//!
//! CONTRACT (the server codes against these signatures; keep them).

use std::borrow::Cow;

use crate::Sink;

pub mod session;

pub use session::{CloseReason, Session, SessionConfig, SessionError, Transport};

/// Record separator between packets of a polling payload.
pub const SEPARATOR: u8 = 0x1e;

/// Engine.IO packet types (the leading digit of a text packet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum PacketType {
    Open = 0,
    Close = 1,
    Ping = 2,
    Pong = 3,
    Message = 4,
    Upgrade = 5,
    Noop = 6,
}

/// A decoded Engine.IO packet, borrowing from its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet<'a> {
    /// `0` + handshake JSON (servers send it; a client sending it is an error).
    Open(&'a str),
    Close,
    /// `2` + optional data (`"probe"` during an upgrade).
    Ping(&'a str),
    Pong(&'a str),
    /// `4` + text.
    Message(&'a str),
    /// A binary message: a WebSocket binary frame, or `b` + base64 in a polling payload.
    Binary(Cow<'a, [u8]>),
    Upgrade,
    Noop,
}

/// Why an Engine.IO packet or payload was rejected: the session is closed ("parse error").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EioError {
    /// An empty packet.
    Empty,
    /// The leading character is not `0`..=`6` (or `b` in a payload).
    UnknownType,
    /// `b` + invalid base64.
    BadBase64,
    /// The payload or packet exceeds `maxPayload`.
    TooLarge,
    /// Not UTF-8 where text is required.
    InvalidUtf8,
}

/// Decodes a text packet: a WebSocket text message or one record of a polling payload.
pub fn decode_text(text: &str) -> Result<Packet<'_>, EioError> {
    let _ = text;
    unimplemented!()
}

/// Decodes a WebSocket binary message: always a binary `Message` in v4.
pub fn decode_binary(data: &[u8]) -> Packet<'_> {
    Packet::Binary(Cow::Borrowed(data))
}

/// Splits a polling POST body into packets (records separated by [`SEPARATOR`]; `b` + base64
/// for binary). Yields an error for a bad record and then stops.
pub fn decode_payload(body: &[u8]) -> PayloadIter<'_> {
    PayloadIter { rest: Some(body) }
}

/// Iterator returned by [`decode_payload`].
#[derive(Debug)]
pub struct PayloadIter<'a> {
    rest: Option<&'a [u8]>,
}

impl<'a> Iterator for PayloadIter<'a> {
    type Item = Result<Packet<'a>, EioError>;
    fn next(&mut self) -> Option<Self::Item> {
        let _ = self.rest;
        unimplemented!()
    }
}

/// Appends `packet` in its text form (`"4hello"`, `"2probe"`, `"b" + base64` for binary).
pub fn encode_text(out: &mut impl Sink, packet: &Packet<'_>) {
    let _ = (out, packet);
    unimplemented!()
}

/// The fields of the OPEN packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handshake<'a> {
    pub sid: &'a str,
    /// `["websocket"]` on polling, `[]` on a websocket-only connection.
    pub upgrades: &'a [&'a str],
    pub ping_interval: u64,
    pub ping_timeout: u64,
    pub max_payload: u64,
}

/// Appends `0{"sid":"…","upgrades":[…],"pingInterval":…,"pingTimeout":…,"maxPayload":…}`.
pub fn write_open(out: &mut impl Sink, handshake: &Handshake<'_>) {
    let _ = (out, handshake);
    unimplemented!()
}
