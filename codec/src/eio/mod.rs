//! Engine.IO protocol v4: packets, polling payloads, the handshake, and the session state machine.
//!
//! CONTRACT (the server codes against these signatures; keep them).

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use crate::{Sink, json};

pub mod session;
pub mod v3;

pub use session::{
    CloseReason, Input, Protocol, Session, SessionConfig, SessionError, Transport, UPGRADE_TIMEOUT,
};

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
    /// A v3 payload record whose length prefix is missing, malformed or longer than the rest.
    BadLength,
}

/// Decodes a text packet: a WebSocket text message or one record of a polling payload.
///
/// Engine.IO v4: `<packet type>[<data>]`, types `0`..=`6`; `b` + base64 is a binary message
/// (what engine.io-parser's `decodePacket` also accepts on any text channel). Data after
/// `1`, `5` and `6` is ignored, as engine.io does.
pub fn decode_text(text: &str) -> Result<Packet<'_>, EioError> {
    let Some(&first) = text.as_bytes().first() else {
        return Err(EioError::Empty);
    };
    // The type is one ASCII byte, so `1..` is a char boundary whenever it matches below.
    let data = text.get(1..).unwrap_or_default();
    Ok(match first {
        b'0' => Packet::Open(data),
        b'1' => Packet::Close,
        b'2' => Packet::Ping(data),
        b'3' => Packet::Pong(data),
        b'4' => Packet::Message(data),
        b'5' => Packet::Upgrade,
        b'6' => Packet::Noop,
        b'b' => Packet::Binary(Cow::Owned(
            BASE64.decode(data).map_err(|_| EioError::BadBase64)?,
        )),
        _ => return Err(EioError::UnknownType),
    })
}

/// Decodes a WebSocket binary message: always a binary `Message` in v4.
pub fn decode_binary(data: &[u8]) -> Packet<'_> {
    Packet::Binary(Cow::Borrowed(data))
}

/// Splits a polling POST body into packets (records separated by [`SEPARATOR`]; `b` + base64
/// for binary). Yields an error for a bad record and then stops.
///
/// Every record must be a non-empty packet, so an empty body or a trailing separator yields
/// [`EioError::Empty`]. Records are checked for UTF-8 one by one (0x1e never occurs inside a
/// multi-byte sequence, so splitting first is sound). The caller enforces `maxPayload` on the
/// body before calling.
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
        let rest = self.rest?;
        let (record, tail) = match memchr::memchr(SEPARATOR, rest) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let item = std::str::from_utf8(record)
            .map_err(|_| EioError::InvalidUtf8)
            .and_then(decode_text);
        self.rest = if item.is_ok() { tail } else { None };
        Some(item)
    }
}

/// Appends `packet` in its text form (`"4hello"`, `"2probe"`, `"b" + base64` for binary).
pub fn encode_text(out: &mut impl Sink, packet: &Packet<'_>) {
    let (kind, data) = match packet {
        Packet::Open(d) => (b'0', *d),
        Packet::Close => (b'1', ""),
        Packet::Ping(d) => (b'2', *d),
        Packet::Pong(d) => (b'3', *d),
        Packet::Message(d) => (b'4', *d),
        Packet::Upgrade => (b'5', ""),
        Packet::Noop => (b'6', ""),
        Packet::Binary(b) => {
            out.put_u8(b'b');
            put_base64(out, b);
            return;
        }
    };
    out.put_u8(kind);
    out.put(data.as_bytes());
}

/// The length of `b` + base64 of `len` bytes (standard alphabet, padded).
pub fn base64_record_len(len: usize) -> usize {
    1 + len.div_ceil(3) * 4
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
///
/// Field order is socket.io's, so the handshake is byte-identical to the reference server's.
pub fn write_open(out: &mut impl Sink, handshake: &Handshake<'_>) {
    out.put(b"0{\"sid\":");
    json::write_str(out, handshake.sid);
    out.put(b",\"upgrades\":[");
    for (i, upgrade) in handshake.upgrades.iter().enumerate() {
        if i > 0 {
            out.put_u8(b',');
        }
        json::write_str(out, upgrade);
    }
    out.put(b"],\"pingInterval\":");
    json::write_u64(out, handshake.ping_interval);
    out.put(b",\"pingTimeout\":");
    json::write_u64(out, handshake.ping_timeout);
    out.put(b",\"maxPayload\":");
    json::write_u64(out, handshake.max_payload);
    out.put_u8(b'}');
}

/// Standard alphabet; encodes with padding, decodes with or without it (Node's
/// `Buffer.from(s, "base64")`, which engine.io uses, is just as lenient).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Appends base64 of `data` through a stack buffer: 768 input bytes (a multiple of 3, so only
/// the last chunk is padded) become 1024 output bytes per `put`.
pub(crate) fn put_base64(out: &mut impl Sink, data: &[u8]) {
    let mut buf = [0u8; 1024];
    for chunk in data.chunks(768) {
        let n = BASE64.encode_slice(chunk, &mut buf).unwrap_or(0);
        out.put(&buf[..n]);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn enc(p: &Packet<'_>) -> String {
        let mut out = Vec::new();
        encode_text(&mut out, p);
        String::from_utf8(out).unwrap()
    }

    fn bin(b: &[u8]) -> Packet<'static> {
        Packet::Binary(Cow::Owned(b.to_vec()))
    }

    // Golden vectors: the Engine.IO v4 protocol document (handshake, heartbeat, upgrade and
    // packet-encoding examples: "4hey", "4hello", "2probe", "3probe", "5", binary "bAQIDBA==" for
    // <01 02 03 04>) and engine.io-parser's changelog for v4.
    macro_rules! text_cases {
        ($($name:ident: $wire:expr => $packet:expr;)*) => {
            $(
                #[test]
                fn $name() {
                    let packet: Packet<'_> = $packet;
                    assert_eq!(decode_text($wire), Ok(packet.clone()));
                    assert_eq!(enc(&packet), $wire);
                }
            )*
        };
    }

    text_cases! {
        golden_open: r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"# =>
            Packet::Open(r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#);
        golden_close: "1" => Packet::Close;
        golden_ping: "2" => Packet::Ping("");
        golden_ping_probe: "2probe" => Packet::Ping("probe");
        golden_pong: "3" => Packet::Pong("");
        golden_pong_probe: "3probe" => Packet::Pong("probe");
        golden_message: "4hello" => Packet::Message("hello");
        golden_message_hey: "4hey" => Packet::Message("hey");
        golden_message_hello_world: "4HelloWorld" => Packet::Message("HelloWorld");
        golden_message_empty: "4" => Packet::Message("");
        golden_message_unicode: "4€€€" => Packet::Message("€€€");
        golden_message_sio: r#"42["hey","Jude"]"# => Packet::Message(r#"2["hey","Jude"]"#);
        golden_upgrade: "5" => Packet::Upgrade;
        golden_noop: "6" => Packet::Noop;
        golden_binary: "bAQIDBA==" => bin(&[1, 2, 3, 4]);
        golden_binary_3: "bAQID" => bin(&[1, 2, 3]);
        golden_binary_empty: "b" => bin(&[]);
    }

    macro_rules! text_errors {
        ($($name:ident: $wire:expr => $err:expr;)*) => {$(
            #[test]
            fn $name() {
                assert_eq!(decode_text($wire), Err($err));
            }
        )*};
    }

    text_errors! {
        err_empty: "" => EioError::Empty;
        err_type_7: "7" => EioError::UnknownType;
        err_type_letter: "x" => EioError::UnknownType;
        err_type_multibyte: "€4" => EioError::UnknownType;
        err_base64_bad_char: "bAQ*D" => EioError::BadBase64;
        err_base64_bad_len: "bA" => EioError::BadBase64;
    }

    #[test]
    fn lenient_forms_decode() {
        assert_eq!(decode_text("1junk"), Ok(Packet::Close));
        assert_eq!(decode_text("5x"), Ok(Packet::Upgrade));
        assert_eq!(decode_text("6x"), Ok(Packet::Noop));
        assert_eq!(
            decode_text("bAQIDBA"),
            Ok(bin(&[1, 2, 3, 4])),
            "missing padding"
        );
    }

    #[test]
    fn binary_frames_are_messages_in_v4() {
        // v4 changelog: a binary message is sent as-is, no type byte in front.
        assert_eq!(
            decode_binary(&[1, 2, 3]),
            Packet::Binary(Cow::Borrowed(&[1, 2, 3]))
        );
    }

    fn payload(body: &[u8]) -> Vec<Result<Packet<'_>, EioError>> {
        decode_payload(body).collect()
    }

    #[test]
    fn golden_payloads() {
        // Engine.IO v4 protocol document, "Packet encoding / HTTP long-polling".
        assert_eq!(
            payload(b"4hello\x1e2\x1e4world"),
            vec![
                Ok(Packet::Message("hello")),
                Ok(Packet::Ping("")),
                Ok(Packet::Message("world"))
            ]
        );
        assert_eq!(
            payload(b"4hello\x1ebAQIDBA=="),
            vec![Ok(Packet::Message("hello")), Ok(bin(&[1, 2, 3, 4]))]
        );
        // Same document, "Sending data": socket.send('hello'); socket.send('world').
        assert_eq!(
            payload(b"4hello\x1e4world"),
            vec![Ok(Packet::Message("hello")), Ok(Packet::Message("world"))]
        );
        // engine.io-parser v4 changelog: [message "hello", message "€€€"] => "4hello\x1e4€€€"
        assert_eq!(
            payload("4hello\x1e4€€€".as_bytes()),
            vec![Ok(Packet::Message("hello")), Ok(Packet::Message("€€€"))]
        );
        // [message "hello", binary <01 02 03>] => "4hello\x1ebAQID"
        assert_eq!(
            payload(b"4hello\x1ebAQID"),
            vec![Ok(Packet::Message("hello")), Ok(bin(&[1, 2, 3]))]
        );
        // Socket.IO README sample session, request n°5.
        assert_eq!(
            payload(b"42[\"hello\"]\x1e42[\"world\"]"),
            vec![
                Ok(Packet::Message("2[\"hello\"]")),
                Ok(Packet::Message("2[\"world\"]"))
            ]
        );
        assert_eq!(
            payload(b"2probe\x1e4hello\x1e1"),
            vec![
                Ok(Packet::Ping("probe")),
                Ok(Packet::Message("hello")),
                Ok(Packet::Close)
            ]
        );
        assert_eq!(payload(b"2"), vec![Ok(Packet::Ping(""))]);
    }

    macro_rules! payload_cases {
        ($($name:ident: $body:expr => $want:expr;)*) => {$(
            #[test]
            fn $name() {
                assert_eq!(payload($body), $want);
            }
        )*};
    }

    payload_cases! {
        payload_empty_body: b"" => vec![Err(EioError::Empty)];
        payload_trailing_separator: b"4a\x1e" => vec![Ok(Packet::Message("a")), Err(EioError::Empty)];
        payload_empty_middle_stops: b"4a\x1e\x1e4b" => vec![Ok(Packet::Message("a")), Err(EioError::Empty)];
        payload_bad_type_stops: b"4a\x1e9\x1e4b" => vec![Ok(Packet::Message("a")), Err(EioError::UnknownType)];
        payload_bad_utf8: b"4a\x1e4\xff" => vec![Ok(Packet::Message("a")), Err(EioError::InvalidUtf8)];
        payload_bad_base64: b"b!!\x1e4a" => vec![Err(EioError::BadBase64)];
    }

    #[test]
    fn write_open_matches_socket_io_byte_for_byte() {
        let mut out = Vec::new();
        let handshake = Handshake {
            sid: "lv_VI97HAXpY6yYWAAAC",
            upgrades: &["websocket"],
            ping_interval: 25000,
            ping_timeout: 20000,
            max_payload: 1000000,
        };
        write_open(&mut out, &handshake);
        assert_eq!(
            out,
            br#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
        );
        out.clear();
        write_open(
            &mut out,
            &Handshake {
                upgrades: &[],
                ping_interval: 300,
                ping_timeout: 200,
                ..handshake
            },
        );
        assert_eq!(
            out,
            br#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#
        );
    }

    #[test]
    fn base64_chunking_matches_one_shot() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
        for len in [0, 1, 2, 3, 767, 768, 769, 1536, 5000] {
            let mut out = Vec::new();
            put_base64(&mut out, &data[..len]);
            assert_eq!(out, BASE64.encode(&data[..len]).into_bytes(), "len {len}");
            assert_eq!(1 + out.len(), base64_record_len(len));
        }
    }
}
