//! Malformed packets on the msgpack parser's path (`--msgpack-path`), one line each: a
//! connected socket.io-msgpack-parser client sends them, and the session ends with the
//! Engine.IO close packet, then the WebSocket close code the JSON parser uses for the same
//! kind of fault (1002 framing, 1007 data, 1008 a limit), counted in `/metrics`; or the
//! connection stays and the client gets an `error` event. docs/SECURITY.md lists them.

use std::time::Instant;

use ringcast_test_support::raw::{self, Next, OP_BINARY, OP_CLOSE, OP_TEXT, SOON, binary, text};
use ringcast_test_support::{Metrics, token};

const PATH: &str = "/ws-msgpack/";

/// The answer a case expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// Engine.IO close `1`, then a WebSocket close frame with this code.
    Close(u16),
    /// A binary (msgpack) `error` event whose message holds this text; the session stays.
    Error(&'static str),
}

/// `{type, nsp: "/", data}` with the given type byte and raw data bytes (empty: no data).
fn packet(kind: u8, data: &[u8]) -> Vec<u8> {
    let mut b = vec![if data.is_empty() { 0x82 } else { 0x83 }, 0xa4];
    b.extend_from_slice(b"type");
    b.extend_from_slice(&[kind, 0xa3]);
    b.extend_from_slice(b"nsp");
    b.extend_from_slice(&[0xa1, b'/']);
    if !data.is_empty() {
        b.push(0xa4);
        b.extend_from_slice(b"data");
        b.extend_from_slice(data);
    }
    b
}

/// An EVENT whose data is `[name, {}]` with `name` already encoded.
fn event(name: &[u8]) -> Vec<u8> {
    let mut data = vec![0x92];
    data.extend_from_slice(name);
    data.push(0x80);
    packet(0x02, &data)
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn cases() -> Vec<(&'static str, Vec<u8>, Answer)> {
    use Answer::*;
    let heartbeat = cat(&[&[0x92, 0xa9], b"heartbeat", &[0x80]]);
    vec![
        // Not MessagePack: the bytes are not one well-formed value.
        (
            "truncated",
            packet(0x02, &heartbeat)[..12].to_vec(),
            Close(1007),
        ),
        ("reserved_byte_c1", vec![0xc1], Close(1007)),
        (
            "trailing_bytes",
            cat(&[&packet(0x02, &heartbeat), &[0x00]]),
            Close(1007),
        ),
        (
            "forged_map_length",
            vec![0xdf, 0xff, 0xff, 0xff, 0xff],
            Close(1007),
        ),
        (
            "forged_str_length",
            cat(&[&[0x81, 0xdb, 0x7f, 0xff, 0xff, 0xff], b"x"]),
            Close(1007),
        ),
        // MessagePack, but not a packet: its framing (1002).
        ("not_a_map", vec![0x93, 0x02, 0xa1, b'/', 0x90], Close(1002)),
        (
            "type_missing",
            cat(&[&[0x81, 0xa3], b"nsp", &[0xa1, b'/']]),
            Close(1002),
        ),
        ("type_5_binary_event", packet(0x05, &heartbeat), Close(1002)),
        (
            "type_string",
            cat(&[
                &[0x82, 0xa4],
                b"type",
                &[0xa1, b'2', 0xa3],
                b"nsp",
                &[0xa1, b'/'],
            ]),
            Close(1002),
        ),
        (
            "nsp_not_a_string",
            cat(&[&[0x82, 0xa4], b"type", &[0x01, 0xa3], b"nsp", &[0x01]]),
            Close(1002),
        ),
        (
            "nsp_without_slash",
            cat(&[&[0x82, 0xa4], b"type", &[0x01, 0xa3], b"nsp", &[0xa1, b'a']]),
            Close(1002),
        ),
        (
            "id_negative",
            cat(&[
                &[0x84, 0xa4],
                b"type",
                &[0x02, 0xa3],
                b"nsp",
                &[0xa1, b'/', 0xa4],
                b"data",
                &heartbeat,
                &[0xa2],
                b"id",
                &[0xff],
            ]),
            Close(1002),
        ),
        (
            "connect_error_from_client",
            packet(0x04, &cat(&[&[0x81, 0xa7], b"message", &[0xa1, b'x']])),
            Close(1002),
        ),
        // A packet whose data is not what its type needs (1007).
        ("event_without_data", packet(0x02, &[]), Close(1007)),
        ("event_data_a_map", packet(0x02, &[0x80]), Close(1007)),
        ("event_empty_array", packet(0x02, &[0x90]), Close(1007)),
        ("event_name_nil", event(&[0xc0]), Close(1007)),
        (
            "event_name_reserved",
            event(&cat(&[&[0xaa], b"disconnect"])),
            Close(1007),
        ),
        ("event_name_binary", event(&[0xc4, 0x01, 0x61]), Close(1007)),
        ("disconnect_with_data", packet(0x01, &[0x80]), Close(1007)),
        (
            "map_key_an_array",
            packet(0x02, &cat(&[&[0x92, 0xa1, b'e', 0x81, 0x90, 0x01]])),
            Close(1007),
        ),
        // Past a limit this server sets (1008): nesting, binary values per packet.
        (
            "nested_100k_deep",
            packet(
                0x02,
                &cat(&[&[0x92, 0xa1, b'e'], &[0x91; 100_000], &[0x01]]),
            ),
            Close(1008),
        ),
        (
            "binary_values_11",
            packet(0x02, &cat(&[&[0x9c, 0xa1, b'e'], &[0xc4, 0x00].repeat(11)])),
            Close(1008),
        ),
        // A text message on the msgpack path: not a packet of this parser.
        ("text_message", Vec::new(), Close(1002)),
        // Well-formed: a numeric event name is an unknown event, as on the JSON path.
        ("event_name_number", event(&[0x01]), Error("unknown event")),
    ]
}

#[test]
fn malformed_msgpack_packets_close_with_the_json_parsers_codes_and_are_counted() {
    let server = crate::gateway().args(["--msgpack-path", PATH]).start();
    let cases = cases();
    for (name, bytes, answer) in &cases {
        let mut eio = raw::msgpack_client(server.addr, PATH, &token::good())
            .unwrap_or_else(|e| server.fail(&format!("{name}: {e}")));
        let frame = if *name == "text_message" {
            text(r#"42["heartbeat",{"timestamp":1}]"#)
        } else {
            binary(bytes)
        };
        eio.ws.send(&frame).unwrap_or_else(|e| server.fail(&e));
        let got = read_answer(&mut eio.ws);
        if got != *answer {
            server.fail(&format!("{name}: expected {answer:?}, got {got:?}"));
        }
    }
    let m = Metrics::scrape(&server);
    for (code, reason) in [
        (1002, "protocol_error"),
        (1007, "invalid_payload"),
        (1008, "policy_violation"),
    ] {
        let want = cases
            .iter()
            .filter(|(_, _, a)| *a == Answer::Close(code))
            .count() as f64;
        let key = format!("ringcast_protocol_error_closes_total{{reason=\"{reason}\"}}");
        assert_eq!(m.value(&key), Some(want), "{key}\n{}", m.text());
    }
}

/// Reads until the answer: the close code (after the Engine.IO close `1`) or an error event.
fn read_answer(ws: &mut raw::Ws) -> Answer {
    let deadline = Instant::now() + SOON;
    let mut saw_eio_close = false;
    loop {
        match ws.next(deadline) {
            Next::Frame(f) if f.opcode == OP_CLOSE => {
                assert!(saw_eio_close, "no Engine.IO close before the close frame");
                return Answer::Close(f.close_code().unwrap_or(0));
            }
            Next::Frame(f) if f.opcode == OP_TEXT && f.payload == b"1" => saw_eio_close = true,
            Next::Frame(f) if f.opcode == OP_BINARY && contains(&f.payload, b"\xa5error") => {
                let text = String::from_utf8_lossy(&f.payload).into_owned();
                let message = ["unknown event"].into_iter().find(|m| text.contains(m));
                return Answer::Error(message.unwrap_or("(another message)"));
            }
            Next::Frame(_) => {}
            other => panic!("before any answer: {}", raw::describe(&other)),
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
