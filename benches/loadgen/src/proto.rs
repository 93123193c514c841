//! The client side of Engine.IO v4 / Socket.IO v5, sans-IO: what an incoming packet means to
//! the generator, and the few packets it sends. Frames and packets go through
//! `ringcast-codec`; only the client-specific parts (masking, the upgrade request, CONNECT
//! with auth) are here.

use std::sync::LazyLock;

use memchr::memmem::Finder;
use ringcast_codec::sio::{self, DecodeLimits, PacketType};
use ringcast_codec::ws::{self, FrameHeader, OpCode};
use ringcast_codec::{Sink, eio};

/// The event every publish carries (spec: `agent:status_changed`).
pub const DELIVERY_EVENT: &str = "agent:status_changed";
/// The field of a delivery's data the publisher stamps with its send time.
pub const SENT_FIELD: &[u8] = b"\"sent_ns\":";
/// The field of `heartbeat` / `heartbeat_ack` data that carries the client's timestamp.
pub const TIMESTAMP_FIELD: &[u8] = b"\"timestamp\":";

/// What one Engine.IO text packet from the server means to a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incoming {
    /// `0{…}`: the session is open; send CONNECT next.
    Open,
    /// `40{"sid":…}`: the namespace accepted our auth.
    Connected,
    /// `44{…}`: refused (bad token).
    Refused,
    /// `42["agent:status_changed",{…"sent_ns":N…}]`.
    Delivery { sent_ns: u64 },
    /// `42["heartbeat_ack",{"timestamp":N,…}]`.
    HeartbeatAck { timestamp: u64 },
    /// `2`: answer with `3`.
    Ping,
    /// `1`, or `41` (the server disconnected the namespace).
    Closed,
    /// `6` and any other event or packet the scenarios ignore.
    Other,
    /// Not Engine.IO / Socket.IO, or a delivery without its timestamp.
    Malformed,
}

/// Classifies one Engine.IO text packet (a WebSocket text message or a polling record).
pub fn classify(text: &str) -> Incoming {
    if let Some(hot) = classify_hot(text) {
        return hot;
    }
    match eio::decode_text(text) {
        Ok(eio::Packet::Open(_)) => Incoming::Open,
        Ok(eio::Packet::Ping(_)) => Incoming::Ping,
        Ok(eio::Packet::Close) => Incoming::Closed,
        Ok(eio::Packet::Message(sio_text)) => classify_sio(sio_text),
        Ok(_) => Incoming::Other,
        Err(_) => Incoming::Malformed,
    }
}

/// Classifies a decoded Engine.IO packet from a polling payload.
pub fn classify_packet(packet: &eio::Packet<'_>) -> Incoming {
    match packet {
        eio::Packet::Open(_) => Incoming::Open,
        eio::Packet::Ping(_) => Incoming::Ping,
        eio::Packet::Close => Incoming::Closed,
        eio::Packet::Message(sio_text) => classify_sio(sio_text),
        _ => Incoming::Other,
    }
}

/// The two packets a generator sees millions of times a second, recognised by their exact
/// prefix without a JSON scan: with the full decode (tokenising the ~200-byte data) the
/// generator spent ~30 % of its core in the JSON tokenizer during fan-out (perf, 1 000 clients)
/// and saturated before the server did. Anything else, including a delivery without its
/// timestamp, takes the full path ([`classify`]'s `None` here).
fn classify_hot(text: &str) -> Option<Incoming> {
    const DELIVERY: &[u8] = b"42[\"agent:status_changed\",";
    const ACK: &[u8] = b"42[\"heartbeat_ack\",";
    let bytes = text.as_bytes();
    if !bytes.ends_with(b"]") {
        return None;
    }
    if let Some(rest) = bytes.strip_prefix(DELIVERY) {
        let sent_ns = number_after(rest, &SENT)?;
        return Some(Incoming::Delivery { sent_ns });
    }
    let rest = bytes.strip_prefix(ACK)?;
    let timestamp = number_after(rest, &TIMESTAMP)?;
    Some(Incoming::HeartbeatAck { timestamp })
}

/// Searchers for the two stamped fields, built once (building a `memmem` searcher per packet
/// showed as 3 % of the generator's profile).
static SENT: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(SENT_FIELD));
static TIMESTAMP: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(TIMESTAMP_FIELD));

fn classify_sio(text: &str) -> Incoming {
    let Ok(packet) = sio::Packet::decode(text, &DecodeLimits::default()) else {
        return Incoming::Malformed;
    };
    match packet.kind {
        PacketType::Connect => Incoming::Connected,
        PacketType::ConnectError => Incoming::Refused,
        PacketType::Disconnect => Incoming::Closed,
        PacketType::Event => {
            let Ok(event) = packet.event() else {
                return Incoming::Malformed;
            };
            let (field, delivery) = match &*event.name {
                DELIVERY_EVENT => (&*SENT, true),
                "heartbeat_ack" => (&*TIMESTAMP, false),
                _ => return Incoming::Other,
            };
            match number_after(event.args.as_bytes(), field) {
                Some(sent_ns) if delivery => Incoming::Delivery { sent_ns },
                Some(timestamp) => Incoming::HeartbeatAck { timestamp },
                None => Incoming::Malformed,
            }
        }
        _ => Incoming::Other,
    }
}

/// The unsigned integer after `field` (`"name":`) in `json`, without parsing the rest: the
/// generator reads one number out of every delivery, and a full parse of the ~200-byte data
/// would cost more than the rest of the receive path.
pub fn number_field(json: &[u8], field: &[u8]) -> Option<u64> {
    number_after(json, &Finder::new(field))
}

/// [`number_field`] with a prebuilt searcher.
fn number_after(json: &[u8], field: &Finder<'_>) -> Option<u64> {
    let at = field.find(json)? + field.needle().len();
    let digits = json[at..].iter().skip_while(|b| **b == b' ');
    let mut value: u64 = 0;
    let mut any = false;
    for &b in digits {
        if !b.is_ascii_digit() {
            break;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        any = true;
    }
    any.then_some(value)
}

/// `40{"token":"<jwt>"}`: CONNECT to `/` with the auth object (whole Engine.IO message).
pub fn write_connect_auth(out: &mut impl Sink, token: &str) {
    out.put(b"40{\"token\":");
    ringcast_codec::json::write_str(out, token);
    out.put_u8(b'}');
}

/// `42["heartbeat",{"timestamp":N}]`.
pub fn write_heartbeat(out: &mut impl Sink, timestamp: u64) {
    let args = format!("{{\"timestamp\":{timestamp}}}");
    sio::write_event(out, "/", None, 0, "heartbeat", &args);
}

/// `3`: the answer to a server ping.
pub fn write_pong(out: &mut impl Sink) {
    eio::encode_text(out, &eio::Packet::Pong(""));
}

/// Appends a masked client frame (RFC 6455 §5.3: "A client MUST mask all frames that it sends
/// to the server") carrying `payload`.
pub fn write_client_frame(out: &mut Vec<u8>, opcode: OpCode, payload: &[u8], key: [u8; 4]) {
    let header = FrameHeader {
        fin: true,
        rsv: 0,
        opcode,
        mask: Some(key),
        payload_len: payload.len() as u64,
    };
    let mut head = [0u8; ws::MAX_HEADER];
    let n = header.encode(&mut head);
    out.extend_from_slice(&head[..n]);
    let start = out.len();
    out.extend_from_slice(payload);
    ws::mask::apply(&mut out[start..], key, 0);
}

/// The opening handshake (RFC 6455 §4.1) for `path?EIO=4&transport=websocket`.
pub fn write_upgrade_request(out: &mut Vec<u8>, host: &str, path: &str, key_b64: &str) {
    let target = format!("{path}?EIO=4&transport=websocket");
    crate::http1::write_request(
        out,
        "GET",
        host,
        &target,
        &[
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", key_b64),
            ("Sec-WebSocket-Version", "13"),
        ],
        b"",
    );
}

/// The `sid` of an OPEN packet's JSON (`0{"sid":"…",…}`): sids are base64url-ish, never escaped.
pub fn open_sid(open_json: &str) -> Option<&str> {
    let key = "\"sid\":\"";
    let start = open_json.find(key)? + key.len();
    let len = open_json[start..].find('"')?;
    Some(&open_json[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_server_packets() {
        let cases: &[(&str, Incoming)] = &[
            (
                r#"0{"sid":"abc","upgrades":[],"pingInterval":25000}"#,
                Incoming::Open,
            ),
            (r#"40{"sid":"xyz"}"#, Incoming::Connected),
            (r#"44{"message":"invalid token"}"#, Incoming::Refused),
            (
                r#"42["agent:status_changed",{"agent_id":"a","sent_ns":123456,"x":1}]"#,
                Incoming::Delivery { sent_ns: 123_456 },
            ),
            (
                r#"42["heartbeat_ack",{"timestamp":77,"server_time":1}]"#,
                Incoming::HeartbeatAck { timestamp: 77 },
            ),
            (
                r#"42["agent:status_changed",{"agent_id":"a"}]"#,
                Incoming::Malformed,
            ),
            (r#"42["subscribed",{"room":"x"}]"#, Incoming::Other),
            // The hot path's prefixes, with what must still fall back to the full decode.
            (
                r#"42["agent:status_changed",{"sent_ns":5}]"#,
                Incoming::Delivery { sent_ns: 5 },
            ),
            (
                r#"42["agent:status_changed",{"sent_ns":5}"#,
                Incoming::Malformed,
            ),
            (
                r#"42["agent:status_changed",{"sent_ns":"5"}]"#,
                Incoming::Malformed,
            ),
            (
                r#"42["heartbeat_ack",{"timestamp":9}]"#,
                Incoming::HeartbeatAck { timestamp: 9 },
            ),
            (r#"42["heartbeat_ack",{}]"#, Incoming::Malformed),
            (
                r#"42/x,["agent:status_changed",{"sent_ns":5}]"#,
                Incoming::Delivery { sent_ns: 5 },
            ),
            ("2", Incoming::Ping),
            ("1", Incoming::Closed),
            ("41", Incoming::Closed),
            ("6", Incoming::Other),
            ("9", Incoming::Malformed),
            ("42[", Incoming::Malformed),
        ];
        for (text, want) in cases {
            assert_eq!(classify(text), *want, "{text}");
        }
    }

    #[test]
    fn number_fields() {
        let cases: &[(&[u8], Option<u64>)] = &[
            (br#"{"sent_ns":42}"#, Some(42)),
            (br#"{"a":"b","sent_ns": 7,"c":1}"#, Some(7)),
            (br#"{"sent_ns":"7"}"#, None),
            (br#"{"sent_ns":99999999999999999999999}"#, None),
            (br#"{"other":1}"#, None),
        ];
        for (json, want) in cases {
            assert_eq!(
                number_field(json, SENT_FIELD),
                *want,
                "{}",
                String::from_utf8_lossy(json)
            );
        }
    }

    #[test]
    fn client_packets() {
        let mut out = Vec::new();
        write_connect_auth(&mut out, "a.b\"c");
        assert_eq!(out, br#"40{"token":"a.b\"c"}"#);
        out.clear();
        write_heartbeat(&mut out, 12);
        assert_eq!(out, br#"42["heartbeat",{"timestamp":12}]"#);
        out.clear();
        write_pong(&mut out);
        assert_eq!(out, b"3");
    }

    #[test]
    fn client_frames_are_masked_and_decode_back() {
        let key = [1, 2, 3, 4];
        let mut out = Vec::new();
        write_client_frame(&mut out, OpCode::Text, b"42[\"x\"]", key);
        assert_eq!(out[0], 0x81, "FIN + text");
        assert_eq!(out[1], 0x80 | 7, "mask bit + length 7");
        assert_eq!(&out[2..6], &key);
        let mut asm = ws::Assembler::new(ws::AssemblerConfig::default());
        let (used, msg) = asm.decode(&mut out).expect("a valid masked frame");
        assert_eq!(msg, Some(ws::Message::Text("42[\"x\"]")));
        assert_eq!(used, 2 + 4 + 7);
    }

    #[test]
    fn upgrade_request_and_sid() {
        let mut out = Vec::new();
        write_upgrade_request(&mut out, "127.0.0.1:1", "/ws/", "dGhlIHNhbXBsZSBub25jZQ==");
        let text = String::from_utf8(out).expect("ascii");
        assert!(text.starts_with("GET /ws/?EIO=4&transport=websocket HTTP/1.1\r\n"));
        assert!(text.contains("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"));
        assert!(text.ends_with("\r\n\r\n"));
        assert_eq!(
            open_sid(r#"{"sid":"Ab-1_x","upgrades":[]}"#),
            Some("Ab-1_x")
        );
        assert_eq!(open_sid(r#"{"upgrades":[]}"#), None);
    }
}
