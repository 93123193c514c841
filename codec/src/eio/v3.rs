//! Engine.IO protocol v3 (engine.io-parser 2.x, what socket.io-client 2.x speaks): text
//! packets, WebSocket binary frames and the two polling payload forms.
//!
//! Rules taken from socket.io's `packages/engine.io/lib/parser-v3/index.ts` (the reference
//! server's copy of engine.io-parser 2.2):
//! - A text packet is `<type digit><data>` as in v4; binary data sent as text is `b` + the
//!   type digit + base64 (`b4AQID`: a message of `01 02 03`).
//! - A WebSocket binary frame carries the type byte first (`04 01 02 03`), unlike v4's bare
//!   bytes.
//! - The string payload (polling, or a client that asked for `b64=1`) is `<len>:<packet>`
//!   repeated, `len` counted in UTF-16 code units (JavaScript's `String#length`), so `4€`
//!   (4 UTF-8 bytes) is `2:4€` and `4😀` is `3:4😀`. `0:` records are skipped.
//! - The binary payload (polling from a client that supports binary, used when a packet is
//!   binary) is, per packet, `00` (text) or `01` (binary), the length as one byte per decimal
//!   digit, `ff`, then the packet: text as UTF-8 (its length counted in bytes), binary as the
//!   type byte plus the data. Example: `01 04 ff 04 01 02 03` is a binary message `01 02 03`.
//!
//! Decoding is stricter than the reference in one place: a binary-payload record shorter than
//! its length is an error (engine.io-parser's `slice` silently truncates it).

use std::borrow::Cow;

use base64::Engine as _;
use bytes::Bytes;

use super::{BASE64, EioError, Packet, base64_record_len, put_base64};
use crate::Sink;
use crate::ws::{OpCode, OutFrame};

/// Most decimal digits a binary-payload length may have (engine.io-parser stops at 310, the
/// length of `Number.MAX_VALUE`; 20 digits already exceed any `usize`).
const MAX_LEN_DIGITS: usize = 20;

/// Decodes a v3 text packet (a WebSocket text frame, or one record of a string payload).
///
/// Types `0`..=`6` as in v4; `b4` + base64 is a binary message. `b` with another type is an
/// error: no v3 client sends binary anything but messages.
pub fn decode_text(text: &str) -> Result<Packet<'_>, EioError> {
    match text.strip_prefix('b') {
        Some(rest) => match rest.strip_prefix('4') {
            Some(b64) => Ok(Packet::Binary(Cow::Owned(
                BASE64.decode(b64).map_err(|_| EioError::BadBase64)?,
            ))),
            None => Err(EioError::UnknownType),
        },
        None => super::decode_text(text),
    }
}

/// Decodes a v3 WebSocket binary frame (or a binary record of a binary payload): the type
/// byte, then the data. Only a message (`04`) is meaningful; anything else is an error.
pub fn decode_binary(data: &[u8]) -> Result<Packet<'_>, EioError> {
    match data.split_first() {
        Some((4, rest)) => Ok(Packet::Binary(Cow::Borrowed(rest))),
        Some(_) => Err(EioError::UnknownType),
        None => Err(EioError::Empty),
    }
}

/// Splits a v3 polling POST body into packets. A body starting with an ASCII digit is the
/// string form, anything else the binary form (engine.io-client sends the binary form as
/// `application/octet-stream`, always starting with a `00`/`01` flag byte). Yields an error
/// for a bad record and then stops; an empty body is [`EioError::Empty`].
pub fn decode_payload(body: &[u8]) -> PayloadIter<'_> {
    let binary = body.first().is_some_and(|b| !b.is_ascii_digit());
    PayloadIter {
        rest: body,
        binary,
        started: false,
        failed: false,
    }
}

/// Iterator returned by [`decode_payload`].
#[derive(Debug)]
pub struct PayloadIter<'a> {
    rest: &'a [u8],
    binary: bool,
    started: bool,
    failed: bool,
}

impl<'a> Iterator for PayloadIter<'a> {
    type Item = Result<Packet<'a>, EioError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let first = !self.started;
        self.started = true;
        let item = if self.binary {
            self.next_binary()?
        } else {
            self.next_string(first)?
        };
        self.failed = item.is_err();
        Some(item)
    }
}

impl<'a> PayloadIter<'a> {
    /// One `<len>:<packet>` record, skipping `0:` ones. `None`: the body is used up.
    fn next_string(&mut self, first: bool) -> Option<Result<Packet<'a>, EioError>> {
        if first && self.rest.is_empty() {
            return Some(Err(EioError::Empty));
        }
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let Some(colon) = memchr::memchr(b':', self.rest) else {
                return Some(Err(EioError::BadLength));
            };
            let Some(units) = parse_decimal(&self.rest[..colon]) else {
                return Some(Err(EioError::BadLength));
            };
            let after = &self.rest[colon + 1..];
            let Some(len) = utf16_prefix_len(after, units) else {
                return Some(Err(EioError::BadLength));
            };
            let (record, tail) = after.split_at(len);
            self.rest = tail;
            if record.is_empty() {
                continue;
            }
            return Some(
                std::str::from_utf8(record)
                    .map_err(|_| EioError::InvalidUtf8)
                    .and_then(decode_text),
            );
        }
    }

    /// One `<flag><digits>ff<packet>` record. `None`: the body is used up.
    fn next_binary(&mut self) -> Option<Result<Packet<'a>, EioError>> {
        let (&flag, after_flag) = self.rest.split_first()?;
        let Some(end) = after_flag.iter().position(|&b| b == 0xff) else {
            return Some(Err(EioError::BadLength));
        };
        let digits = &after_flag[..end];
        if digits.is_empty() || digits.len() > MAX_LEN_DIGITS || digits.iter().any(|&d| d > 9) {
            return Some(Err(EioError::BadLength));
        }
        let len = digits.iter().try_fold(0usize, |n, &d| {
            n.checked_mul(10)?.checked_add(usize::from(d))
        });
        let body = &after_flag[end + 1..];
        let Some(len) = len.filter(|&len| len <= body.len()) else {
            return Some(Err(EioError::BadLength));
        };
        let (record, tail) = body.split_at(len);
        self.rest = tail;
        Some(if flag == 0 {
            std::str::from_utf8(record)
                .map_err(|_| EioError::InvalidUtf8)
                .and_then(decode_text)
        } else {
            decode_binary(record)
        })
    }
}

/// Length in UTF-16 code units (JavaScript's `String#length`) of the UTF-8 text `bytes`: one
/// per character, two for a character outside the BMP (a 4-byte UTF-8 sequence).
pub fn utf16_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .map(|&b| usize::from(b & 0xc0 != 0x80) + usize::from(b >= 0xf0))
        .sum()
}

/// How many bytes of `bytes` hold exactly `units` UTF-16 code units; `None` if it is shorter or
/// the count ends inside a surrogate pair (a 4-byte character).
fn utf16_prefix_len(bytes: &[u8], units: usize) -> Option<usize> {
    let mut counted = 0;
    let mut i = 0;
    while counted < units {
        let b = *bytes.get(i)?;
        let (width, weight) = match b {
            0x00..=0x7f => (1, 1),
            0xc0..=0xdf => (2, 1),
            0xe0..=0xef => (3, 1),
            0xf0..=0xf7 => (4, 2),
            // A continuation byte where a character should start: not UTF-8.
            _ => return None,
        };
        counted += weight;
        i += width;
    }
    (counted == units && i <= bytes.len()).then_some(i)
}

/// `digits` as a decimal number: ASCII digits only, at least one.
fn parse_decimal(digits: &[u8]) -> Option<usize> {
    if digits.is_empty() || digits.len() > MAX_LEN_DIGITS {
        return None;
    }
    digits.iter().try_fold(0usize, |n, &d| {
        d.is_ascii_digit().then_some(())?;
        n.checked_mul(10)?.checked_add(usize::from(d - b'0'))
    })
}

/// Bytes `frame` takes as one record of a string payload, length prefix included.
pub fn string_record_len(frame: &OutFrame) -> usize {
    let bytes = match frame.opcode() {
        OpCode::Binary => packet_len(frame),
        _ => frame.payload().len(),
    };
    decimal_len(packet_len(frame)) + 1 + bytes
}

/// The packet's length as a string record counts it: UTF-16 units of a text packet, the
/// ASCII `b4` + base64 of a binary one.
fn packet_len(frame: &OutFrame) -> usize {
    let payload = frame.payload();
    if frame.opcode() == OpCode::Binary {
        // `b` + `4` + base64: one more than v4's `b` + base64.
        base64_record_len(payload.len()) + 1
    } else {
        utf16_len(&payload)
    }
}

fn decimal_len(mut n: usize) -> usize {
    let mut digits = 1;
    while n >= 10 {
        n /= 10;
        digits += 1;
    }
    digits
}

/// Encodes server frames (text frames carry an Engine.IO text packet, binary frames a binary
/// message's data) as one v3 polling body: the binary form when `supports_binary` and some
/// frame is binary (as engine.io's `encodePayload` does), else the string form.
pub fn encode_payload(frames: &[OutFrame], supports_binary: bool) -> Bytes {
    let binary = supports_binary && frames.iter().any(|f| f.opcode() == OpCode::Binary);
    let mut out = Vec::new();
    for frame in frames {
        let payload = frame.payload();
        match (binary, frame.opcode() == OpCode::Binary) {
            (true, is_binary) => {
                out.push(u8::from(is_binary));
                let len = payload.len() + usize::from(is_binary);
                put_len_digits(&mut out, len);
                out.push(0xff);
                if is_binary {
                    out.push(4);
                }
                out.extend_from_slice(&payload);
            }
            (false, true) => {
                out.put(packet_len(frame).to_string().as_bytes());
                out.extend_from_slice(b":b4");
                put_base64(&mut out, &payload);
            }
            (false, false) => {
                out.put(utf16_len(&payload).to_string().as_bytes());
                out.push(b':');
                out.extend_from_slice(&payload);
            }
        }
    }
    Bytes::from(out)
}

/// One `<len>:<packet>` record of a string payload for an Engine.IO text packet.
pub fn string_record(packet: &[u8]) -> Bytes {
    let mut out = utf16_len(packet).to_string().into_bytes();
    out.push(b':');
    out.extend_from_slice(packet);
    Bytes::from(out)
}

/// The decimal digits of `n` as one byte each (`1 2` for 12).
fn put_len_digits(out: &mut Vec<u8>, n: usize) {
    out.extend(n.to_string().bytes().map(|d| d - b'0'));
}

/// A binary message frame in v3's WebSocket form: `04` then the data.
pub fn ws_binary_frame(data: &[u8]) -> OutFrame {
    let mut buf = crate::ws::FrameBuf::with_capacity(1 + data.len());
    buf.put_u8(4);
    buf.put(data);
    buf.finish(OpCode::Binary)
}

/// Appends a packet in its v3 text form (`b4` + base64 for binary).
pub fn encode_text(out: &mut impl Sink, packet: &Packet<'_>) {
    match packet {
        Packet::Binary(data) => {
            out.put(b"b4");
            put_base64(out, data);
        }
        other => super::encode_text(out, other),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn bin(b: &[u8]) -> Packet<'static> {
        Packet::Binary(Cow::Owned(b.to_vec()))
    }

    fn payload(body: &[u8]) -> Vec<Result<Packet<'_>, EioError>> {
        decode_payload(body).collect()
    }

    fn text(s: &str) -> OutFrame {
        OutFrame::new(OpCode::Text, s.as_bytes())
    }

    // engine.io-parser 2.x's README and test suite: `encodePayload`/`decodePayload`.
    macro_rules! payload_cases {
        ($($name:ident: $body:expr => $want:expr;)*) => {$(
            #[test]
            fn $name() {
                assert_eq!(payload($body), $want);
            }
        )*};
    }

    payload_cases! {
        string_two: b"6:4hello2:4a" => vec![Ok(Packet::Message("hello")), Ok(Packet::Message("a"))];
        string_ping: b"1:2" => vec![Ok(Packet::Ping(""))];
        string_probe_and_close: b"6:2probe1:1" => vec![Ok(Packet::Ping("probe")), Ok(Packet::Close)];
        string_utf16_bmp: "4:4€€€".as_bytes() => vec![Ok(Packet::Message("€€€"))];
        string_utf16_astral: "3:4😀".as_bytes() => vec![Ok(Packet::Message("😀"))];
        string_base64: b"10:b4AQIDBA==" => vec![Ok(bin(&[1, 2, 3, 4]))];
        string_zero_records_skipped: b"0:1:6" => vec![Ok(Packet::Noop)];
        string_empty: b"" => vec![Err(EioError::Empty)];
        string_no_colon: b"12" => vec![Err(EioError::BadLength)];
        string_short: b"9:4abc" => vec![Err(EioError::BadLength)];
        string_bytes_not_units: "4:4€".as_bytes() => vec![Err(EioError::BadLength)];
        string_half_surrogate: "2:4😀".as_bytes() => vec![Err(EioError::BadLength)];
        string_bad_length_char: b"1a:4" => vec![Err(EioError::BadLength)];
        string_bad_packet_stops: b"2:4a1:92:4b" => vec![Ok(Packet::Message("a")), Err(EioError::UnknownType)];
        string_trailing_digits: b"2:4a3" => vec![Ok(Packet::Message("a")), Err(EioError::BadLength)];
        string_bad_base64: b"4:b4!!" => vec![Err(EioError::BadBase64)];
        string_b_other_type: b"3:b2A" => vec![Err(EioError::UnknownType)];
        binary_text_and_data: &[0, 6, 0xff, b'4', b'h', b'e', b'l', b'l', b'o', 1, 4, 0xff, 4, 1, 2, 3]
            => vec![Ok(Packet::Message("hello")), Ok(bin(&[1, 2, 3]))];
        binary_long_length: &[1, 1, 2, 0xff, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
            => vec![Ok(bin(&[0; 11]))];
        binary_text_utf8_bytes: &[0, 4, 0xff, b'4', 0xe2, 0x82, 0xac] => vec![Ok(Packet::Message("€"))];
        binary_no_terminator: &[1, 3, 4] => vec![Err(EioError::BadLength)];
        binary_digit_over_9: &[1, 12, 0xff, 4] => vec![Err(EioError::BadLength)];
        binary_truncated: &[1, 5, 0xff, 4, 1] => vec![Err(EioError::BadLength)];
        binary_not_a_message: &[1, 2, 0xff, 2, 1] => vec![Err(EioError::UnknownType)];
    }

    #[test]
    fn text_packets() {
        assert_eq!(decode_text("4hi"), Ok(Packet::Message("hi")));
        assert_eq!(decode_text("2probe"), Ok(Packet::Ping("probe")));
        assert_eq!(decode_text("b4AQID"), Ok(bin(&[1, 2, 3])));
        assert_eq!(decode_text("bAQID"), Err(EioError::UnknownType));
        assert_eq!(decode_text("7"), Err(EioError::UnknownType));
        let mut out = Vec::new();
        encode_text(&mut out, &bin(&[1, 2, 3]));
        assert_eq!(out, b"b4AQID");
    }

    #[test]
    fn websocket_binary_frames_carry_the_type_byte() {
        assert_eq!(
            decode_binary(&[4, 1, 2]),
            Ok(Packet::Binary(Cow::Borrowed(&[1, 2])))
        );
        assert_eq!(decode_binary(&[]), Err(EioError::Empty));
        assert_eq!(decode_binary(&[2]), Err(EioError::UnknownType));
        assert_eq!(&ws_binary_frame(&[1, 2]).payload()[..], &[4, 1, 2]);
    }

    #[test]
    fn encode_string_form() {
        let frames = [
            text("40"),
            text("42[\"a\",\"€😀\"]"),
            OutFrame::new(OpCode::Binary, &[1, 2, 3, 4]),
        ];
        let body = encode_payload(&frames, false);
        assert_eq!(
            &body[..],
            "2:4013:42[\"a\",\"€😀\"]10:b4AQIDBA==".as_bytes()
        );
        let decoded: Vec<_> = payload(&body).into_iter().map(Result::unwrap).collect();
        assert_eq!(
            decoded,
            vec![
                Packet::Message("0"),
                Packet::Message("2[\"a\",\"€😀\"]"),
                bin(&[1, 2, 3, 4])
            ]
        );
        let lens: usize = frames.iter().map(string_record_len).sum();
        assert_eq!(
            lens,
            body.len(),
            "record lengths are bytes, prefixes UTF-16 units"
        );
    }

    #[test]
    fn encode_binary_form_when_a_frame_is_binary() {
        let frames = [text("4€"), OutFrame::new(OpCode::Binary, &[9; 12])];
        let body = encode_payload(&frames, true);
        let mut want = vec![0, 4, 0xff, b'4', 0xe2, 0x82, 0xac, 1, 1, 3, 0xff, 4];
        want.extend_from_slice(&[9; 12]);
        assert_eq!(&body[..], &want[..]);
        assert_eq!(
            payload(&body),
            vec![Ok(Packet::Message("€")), Ok(bin(&[9; 12]))]
        );
        // Text only: the string form even for a binary-capable client.
        assert_eq!(&encode_payload(&[text("3")], true)[..], b"1:3");
    }

    #[test]
    fn utf16_lengths() {
        for (s, units) in [
            ("", 0),
            ("a", 1),
            ("é", 1),
            ("€", 1),
            ("😀", 2),
            ("a😀€", 4),
        ] {
            assert_eq!(utf16_len(s.as_bytes()), units, "{s}");
            assert_eq!(utf16_len(s.as_bytes()), s.encode_utf16().count(), "{s}");
        }
        assert_eq!(&string_record(b"6")[..], b"1:6");
    }
}
