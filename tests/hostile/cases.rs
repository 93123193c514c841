//! The cases, one line each: `name: server, attack => expected answer;`. docs/SECURITY.md has
//! the same table in prose, with the defence that produces each answer.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::{Attack::*, Expect::*, SOON, hostile};
use ringcast_test_support::raw::{
    self, Eio, Ended, Next, OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_TEXT, WS_KEY, close_frame,
    frame, header, text,
};
use ringcast_test_support::token::{self, HOUR};
use ringcast_test_support::{API_KEY, SECRET, http};

// ---- builders ---------------------------------------------------------------------------------

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

/// A request head for `target` with extra header lines (each ending in CRLF).
fn get(target: &str, headers: &str) -> Vec<u8> {
    b(&format!(
        "GET {target} HTTP/1.1\r\nHost: x\r\n{headers}\r\n"
    ))
}

const EIO_WS: &str = "/ws/?EIO=4&transport=websocket";

/// An upgrade request with these `Connection`, version and key values ("-" leaves one out).
fn upgrade(method: &str, version: &str, connection: &str, ws_version: &str, key: &str) -> Vec<u8> {
    let mut h = format!("{method} {EIO_WS} {version}\r\nHost: x\r\nUpgrade: websocket\r\n");
    for (name, value) in [
        ("Connection", connection),
        ("Sec-WebSocket-Version", ws_version),
        ("Sec-WebSocket-Key", key),
    ] {
        if value != "-" {
            h.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    h.push_str("\r\n");
    b(&h)
}

/// A publish request with this Authorization value and body.
fn emit(auth: &str, body: &str) -> Vec<u8> {
    b(&format!(
        "POST /api/v1/emit HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ))
}

fn bearer() -> String {
    format!("Bearer {API_KEY}")
}

/// A polling POST of `body` to session `sid`.
fn poll_post(sid: &str, body: &[u8]) -> Vec<u8> {
    let mut r = b(&format!(
        "POST /ws/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    ));
    r.extend_from_slice(body);
    r
}

/// `payload` compressed as a client's permessage-deflate message (RFC 7692 §7.2.1).
fn deflated(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    assert!(ringcast_codec::ws::Deflater::new().compress(payload, &mut out));
    out
}

/// A 10 MB bomb (~10 KB compressed) cut into 16 fragments, RSV1 on the first only.
fn fragmented_bomb() -> Vec<u8> {
    let bomb = deflated(&vec![b'4'; 10_000_000]);
    let pieces: Vec<&[u8]> = bomb.chunks(bomb.len().div_ceil(16)).collect();
    let last = pieces.len() - 1;
    let frames: Vec<Vec<u8>> = pieces
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (rsv, op) = if i == 0 { (4, OP_TEXT) } else { (0, OP_CONT) };
            frame(i == last, rsv, op, p, true)
        })
        .collect();
    cat(&frames)
}

/// `n` nested arrays: `[[[…]]]`.
fn nested(n: usize) -> String {
    format!("{}{}", "[".repeat(n), "]".repeat(n))
}

/// A heartbeat event whose whole Engine.IO packet is exactly `len` bytes.
fn heartbeat_of_len(len: usize) -> String {
    let shell = r#"42["heartbeat",{"timestamp":1,"pad":""}]"#;
    let pad = "x".repeat(len - shell.len());
    format!(r#"42["heartbeat",{{"timestamp":1,"pad":"{pad}"}}]"#)
}

/// A CONNECT to `/` with `{"token": token}`.
fn connect(token: &str) -> Vec<u8> {
    text(&format!(r#"40{{"token":"{token}"}}"#))
}

fn hs(claims: serde_json::Value) -> String {
    token::hs256(SECRET.as_bytes(), &claims)
}

fn valid() -> serde_json::Value {
    token::claims(HOUR)
}

/// Valid claims (two hours) that take effect only in an hour.
fn not_yet_valid() -> serde_json::Value {
    let mut c = token::claims(2 * HOUR);
    c["nbf"] = (token::now_secs() + 3600).into();
    c
}

/// `auth:refresh` with `token`.
fn refresh(token: &str) -> Vec<u8> {
    text(&format!(r#"42["auth:refresh",{{"token":"{token}"}}]"#))
}

/// HS256 "signed" with the RSA public key's PEM bytes: the RS256 → HS256 confusion attack.
fn hs_with_public_pem() -> String {
    token::hs256(&token::key_pem("rsa_public.pem"), &valid())
}

// ---- the table ------------------------------------------------------------------------------

hostile! {
    // HTTP heads on a fresh connection: RFC 9112 framing, the head limits.
    http_garbage_bytes: Hs, Raw(b("\x00\x01\x02\x7f garbage \x7f\r\n\r\n")) => Http(400, "error");
    http_tls_client_hello: Hs, Raw(vec![0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, b'\r', b'\n', b'\r', b'\n']) => Http(400, "error");
    http2_preface: Hs, Raw(b("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")) => Http(400, "error");
    http_truncated_head_times_out: Hs, Raw(b("GET /ws/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n")) => Http(408, "error");
    http_head_over_16k: Hs, Raw(get("/healthz", &format!("X-Big: {}\r\n", "a".repeat(17_000)))) => Http(431, "error");
    http_head_without_end: Hs, Raw(b(&"A".repeat(20_000))) => Http(431, "error");
    http_65_headers: Hs, Raw(get("/healthz", &(0..65).map(|i| format!("X-H{i}: v\r\n")).collect::<String>())) => Http(431, "error");
    http_nul_in_header: Hs, Raw(get("/healthz", "X-Evil: a\0b\r\n")) => Http(400, "error");
    http_content_length_not_digits: Hs, Raw(b("POST /api/v1/emit HTTP/1.1\r\nContent-Length: 12abc\r\n\r\n")) => Http(400, "error");
    http_content_length_conflict: Hs, Raw(b("POST /api/v1/emit HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")) => Http(400, "error");
    http_content_length_overflow: Hs, Raw(b("POST /api/v1/emit HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n")) => Http(400, "error");
    http_chunked_smuggling: Hs, Raw(b("POST /api/v1/emit HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")) => Http(400, "error");
    http_body_over_max_payload: Hs, Raw(b("POST /api/v1/emit HTTP/1.1\r\nContent-Length: 1000001\r\n\r\n{")) => Http(413, "1000000");
    http_unknown_path: Hs, Raw(get("/../../etc/passwd", "")) => Http(404, "not found");
    emit_without_key: Hs, Raw(emit("", "{}")) => Http(401, "API key");
    emit_wrong_key: Hs, Raw(emit("Bearer not-the-key-0123456789", "{}")) => Http(401, "API key");
    emit_key_as_basic: Hs, Raw(emit(&format!("Basic {API_KEY}"), "{}")) => Http(401, "API key");
    emit_bad_json: Hs, Raw(emit(&bearer(), "{\"event\":")) => Http(400, "error");
    emit_unknown_event: Hs, Raw(emit(&bearer(), r#"{"event":"connect","data":{}}"#)) => Http(400, "event");
    emit_get_method: Hs, Raw(get("/api/v1/emit", "")) => Http(405, "POST");

    // The WebSocket opening handshake (RFC 6455 §4.2.1) and Engine.IO's query.
    ws_version_8: Hs, Raw(upgrade("GET", "HTTP/1.1", "Upgrade", "8", WS_KEY)) => HttpHead(426, "sec-websocket-version: 13");
    ws_version_missing: Hs, Raw(upgrade("GET", "HTTP/1.1", "Upgrade", "-", WS_KEY)) => HttpHead(426, "sec-websocket-version: 13");
    ws_key_short: Hs, Raw(upgrade("GET", "HTTP/1.1", "Upgrade", "13", "c2hvcnQ=")) => Http(400, "error");
    ws_key_missing: Hs, Raw(upgrade("GET", "HTTP/1.1", "Upgrade", "13", "-")) => Http(400, "error");
    ws_upgrade_h2c: Hs, Raw(get(EIO_WS, &format!("Upgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {WS_KEY}\r\nSec-WebSocket-Version: 13\r\n"))) => Http(400, "\"code\":3");
    ws_connection_not_upgrade: Hs, Raw(upgrade("GET", "HTTP/1.1", "keep-alive", "13", WS_KEY)) => Http(400, "error");
    ws_over_http10: Hs, Raw(upgrade("GET", "HTTP/1.0", "Upgrade", "13", WS_KEY)) => Http(400, "error");
    ws_upgrade_by_post: Hs, Raw(upgrade("POST", "HTTP/1.1", "Upgrade", "13", WS_KEY)) => Http(400, "\"code\":2");
    eio_version_3: Hs, Raw(get("/ws/?EIO=3&transport=polling", "")) => Http(400, "\"code\":5");
    eio_unknown_transport: Hs, Raw(get("/ws/?EIO=4&transport=flashsocket", "")) => Http(400, "\"code\":0");
    eio_websocket_without_upgrade: Hs, Raw(get(EIO_WS, "")) => Http(400, "\"code\":3");
    eio_unknown_sid: Hs, Raw(get("/ws/?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA", "")) => Http(400, "\"code\":1");
    eio_garbage_sid: Hs, Raw(get("/ws/?EIO=4&transport=polling&sid=%00%ff'\"<x>", "")) => Http(400, "\"code\":1");
    eio_unknown_sid_upgrade: Hs, Raw(get("/ws/?EIO=4&transport=websocket&sid=AAAAAAAAAAAAAAAAAAAA", &format!("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {WS_KEY}\r\nSec-WebSocket-Version: 13\r\n"))) => Http(400, "\"code\":1");
    eio_new_session_by_post: Hs, Raw(b("POST /ws/?EIO=4&transport=polling HTTP/1.1\r\nContent-Length: 2\r\n\r\n40")) => Http(400, "\"code\":2");

    // Engine.IO long-polling with a real session.
    poll_post_garbage_packet: Hs, Poll(|sid| poll_post(sid, b"9garbage")) => Http(400, "\"code\":3");
    poll_post_empty_body: Hs, Poll(|sid| poll_post(sid, b"")) => Http(400, "\"code\":3");
    poll_post_invalid_utf8: Hs, Poll(|sid| poll_post(sid, b"4\xff\xfe")) => Http(400, "\"code\":3");
    poll_post_bad_base64: Hs, Poll(|sid| poll_post(sid, b"b!!!!")) => Http(400, "\"code\":3");
    poll_post_over_max_payload: Hs, Poll(|sid| b(&format!("POST /ws/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nContent-Length: 1000001\r\n\r\n4"))) => Http(413, "1000000");
    poll_put_method: Hs, Poll(|sid| b(&format!("PUT /ws/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nContent-Length: 0\r\n\r\n"))) => Http(400, "\"code\":2");
    poll_post_100k_noops: Hs, Poll(|sid| poll_post(sid, &b"6\x1e".repeat(100_000)[..199_999])) => HttpHead(200, "content-length: 2");
    poll_concurrent_gets: Hs, Custom(concurrent_polling_gets) => Done;
    ws_second_websocket_for_a_sid: Hs, Custom(second_websocket_for_a_sid) => Done;

    // WebSocket frames from a connected Socket.IO client (RFC 6455 §5, §7.4).
    ws_unmasked_frame: Hs, Sio(frame(true, 0, OP_TEXT, br#"42["heartbeat",{"timestamp":1}]"#, false)) => Close(1002);
    ws_rsv1_without_extension: Hs, Sio(frame(true, 4, OP_TEXT, b"6", true)) => Close(1002);
    ws_rsv3: Hs, Sio(frame(true, 1, OP_TEXT, b"6", true)) => Close(1002);
    ws_reserved_opcode_3: Hs, Sio(frame(true, 0, 0x3, b"6", true)) => Close(1002);
    ws_reserved_control_opcode_b: Hs, Sio(frame(true, 0, 0xB, b"", true)) => Close(1002);
    ws_fragmented_ping: Hs, Sio(frame(false, 0, OP_PING, b"x", true)) => Close(1002);
    ws_ping_126_bytes: Hs, Sio(frame(true, 0, OP_PING, &[b'p'; 126], true)) => Close(1002);
    ws_close_126_bytes: Hs, Sio(frame(true, 0, OP_CLOSE, &[b'c'; 126], true)) => Close(1002);
    ws_continuation_first: Hs, Sio(frame(true, 0, OP_CONT, b"6", true)) => Close(1002);
    ws_text_inside_fragmented: Hs, Sio(cat(&[frame(false, 0, OP_TEXT, b"4", true), frame(true, 0, OP_TEXT, b"6", true)])) => Close(1002);
    ws_invalid_utf8: Hs, Sio(frame(true, 0, OP_TEXT, b"42[\"\xff\"]", true)) => Close(1007);
    ws_invalid_utf8_across_fragments: Hs, Sio(cat(&[frame(false, 0, OP_TEXT, b"4\xe2\x82", true), frame(true, 0, OP_CONT, b"(", true)])) => Close(1007);
    ws_overlong_utf8: Hs, Sio(frame(true, 0, OP_TEXT, b"4\xc0\xaf", true)) => Close(1007);
    ws_close_code_999: Hs, Sio(close_frame(999, b"")) => Close(1002);
    ws_close_code_1005: Hs, Sio(close_frame(1005, b"")) => Close(1002);
    ws_close_code_1006: Hs, Sio(close_frame(1006, b"")) => Close(1002);
    ws_close_code_2999: Hs, Sio(close_frame(2999, b"")) => Close(1002);
    ws_close_code_5000: Hs, Sio(close_frame(5000, b"")) => Close(1002);
    ws_close_one_byte_payload: Hs, Sio(frame(true, 0, OP_CLOSE, &[0x03], true)) => Close(1002);
    ws_close_reason_invalid_utf8: Hs, Sio(close_frame(1000, b"\xff")) => Close(1007);
    ws_close_4000_is_echoed: Hs, Sio(close_frame(4000, b"bye")) => Close(4000);
    ws_length_2_pow_63: Hs, Sio(header(true, 0, OP_TEXT, 1 << 63, true)) => Close(1002);
    ws_length_2_pow_63_minus_1: Hs, Sio(header(true, 0, OP_TEXT, (1 << 63) - 1, true)) => Close(1009);
    ws_message_one_over_limit: Hs, Sio(text(&heartbeat_of_len(1_000_001))) => Close(1009);
    ws_message_at_limit_is_served: Hs, Sio(text(&heartbeat_of_len(1_000_000))) => Reply(r#"42["heartbeat_ack",{"timestamp":1"#);
    ws_fragments_over_limit: Hs, Sio(cat(&[frame(false, 0, OP_TEXT, &[b'4'; 600_000], true), frame(true, 0, OP_CONT, &[b'x'; 600_000], true)])) => Close(1009);
    ws_ping_is_answered: Hs, Sio(frame(true, 0, OP_PING, b"are you there", true)) => Pong(b"are you there");

    // permessage-deflate (RFC 7692) on a server with --ws-compression true: RSV1 (rsv bit 4)
    // marks a compressed message. Without negotiation it is `ws_rsv1_without_extension` above.
    deflate_compressed_event_is_served: Deflate, DeflateSio(frame(true, 4, OP_TEXT, &deflated(br#"42["heartbeat",{"timestamp":1}]"#), true)) => Reply(r#"42["heartbeat_ack",{"timestamp":1"#);
    deflate_bomb: Deflate, DeflateSio(frame(true, 4, OP_TEXT, &deflated(&vec![b'4'; 10_000_000]), true)) => Close(1009);
    deflate_fragmented_bomb: Deflate, DeflateSio(fragmented_bomb()) => Close(1009);
    deflate_invalid_data: Deflate, DeflateSio(frame(true, 4, OP_TEXT, &[0xff, 0xff, 0xff], true)) => Close(1007);
    deflate_inflated_text_not_utf8: Deflate, DeflateSio(frame(true, 4, OP_TEXT, &deflated(b"42[\"\xff\"]"), true)) => Close(1007);
    deflate_rsv1_on_continuation: Deflate, DeflateSio(cat(&[frame(false, 4, OP_TEXT, &deflated(b"6"), true), frame(true, 4, OP_CONT, b"", true)])) => Close(1002);
    deflate_rsv1_on_ping: Deflate, DeflateSio(frame(true, 4, OP_PING, b"", true)) => Close(1002);
    deflate_rsv1_offer_not_negotiated: Deflate, Sio(frame(true, 4, OP_TEXT, &deflated(b"6"), true)) => Close(1002);

    // Engine.IO packets that break the protocol.
    eio_unknown_packet_type: Hs, Sio(text("9hello")) => Close(1002);
    eio_empty_text: Hs, Sio(text("")) => Close(1002);
    eio_bad_base64: Hs, Sio(text("b!!!")) => Close(1002);
    eio_open_from_client: Hs, Sio(text("0{}")) => EioClose(1002);
    eio_upgrade_without_probe: Hs, Sio(text("5")) => EioClose(1002);
    eio_binary_nobody_announced: Hs, Sio(frame(true, 0, OP_BINARY, b"\x01\x02", true)) => EioClose(1002);

    // Socket.IO packets that are malformed.
    sio_unknown_type: Hs, Sio(text(r#"49["heartbeat",{"timestamp":1}]"#)) => EioClose(1002);
    sio_ack_without_id: Hs, Sio(text("43[1]")) => EioClose(1002);
    sio_ack_id_overflow: Hs, Sio(text(r#"4299999999999999999999["heartbeat",{"timestamp":1}]"#)) => EioClose(1002);
    sio_attachments_over_max: Hs, Sio(text(r#"4599-["heartbeat",{"_placeholder":true,"num":0}]"#)) => EioClose(1002);
    sio_attachments_count_without_dash: Hs, Sio(text(r#"451["heartbeat"]"#)) => EioClose(1002);
    sio_attachments_promised_text_sent: Hs, Sio(cat(&[text(r#"451-["heartbeat",{"_placeholder":true,"num":0}]"#), text(r#"42["heartbeat",{"timestamp":1}]"#)])) => EioClose(1002);
    sio_placeholder_out_of_range: Hs, Sio(cat(&[text(r#"451-["heartbeat",{"_placeholder":true,"num":7}]"#), frame(true, 0, OP_BINARY, b"x", true)])) => EioClose(1007);
    sio_event_name_number: Hs, Sio(text(r#"42[1,{"room":"agent:1"}]"#)) => Error("unknown event");
    sio_event_name_null: Hs, Sio(text(r#"42[null,{"room":"agent:1"}]"#)) => EioClose(1007);
    sio_event_name_reserved: Hs, Sio(text(r#"42["disconnect",{}]"#)) => EioClose(1007);
    sio_event_name_reserved_escaped: Hs, Sio(text(r#"42["newListen\u0065r"]"#)) => EioClose(1007);
    sio_event_name_object: Hs, Sio(text(r#"42[{"a":1}]"#)) => EioClose(1007);
    sio_event_empty_array: Hs, Sio(text("42[]")) => EioClose(1007);
    sio_event_not_array: Hs, Sio(text(r#"42{"event":"subscribe"}"#)) => EioClose(1007);
    sio_event_invalid_json: Hs, Sio(text(r#"42["heartbeat",{]"#)) => EioClose(1007);
    sio_nesting_100k_deep: Hs, Sio(text(&format!(r#"42["heartbeat",{}]"#, nested(100_000)))) => EioClose(1008);
    sio_nesting_100k_in_connect: Hs, Eio(text(&format!(r#"40{{"token":{}}}"#, nested(100_000)))) => EioClose(1008);
    sio_connect_error_from_client: Hs, Sio(text(r#"44{"message":"x"}"#)) => EioClose(1002);
    sio_unknown_namespace: Hs, Eio(text(&format!(r#"40/admin,{{"token":"{}"}}"#, token::good()))) => ConnectError("Invalid namespace");
    sio_unknown_event: Hs, Sio(text(r#"42["rm -rf",{}]"#)) => Error("unknown event");
    sio_server_event_from_client: Hs, Sio(text(r#"42["system:alert",{"message":"fake"}]"#)) => Error("unknown event");
    sio_subscribe_bad_room: Hs, Sio(text(r#"42["subscribe",{"room":"../admin"}]"#)) => Error("invalid room");
    sio_subscribe_room_not_string: Hs, Sio(text(r#"42["subscribe",{"room":{"$gt":""}}]"#)) => Error("must be a string");
    sio_subscribe_past_max_rooms: Hs, Sio((1..=100).map(|i| text(&format!(r#"42["subscribe",{{"room":"agent:{i}"}}]"#))).collect::<Vec<_>>().concat()) => Error("too many rooms");
    sio_duplicate_connect_ignored: Hs, Sio(connect(&token::good())) => Alive;

    // Floods.
    connect_flood_one_session: Hs, Custom(one_session_connect_flood) => Done;
    connect_flood_200_sessions: Hs, Custom(connect_flood_sessions) => Done;
    connect_flood_bad_tokens: Hs, Custom(bad_token_flood) => Done;
    no_connect_within_timeout: Hs, Custom(no_connect_is_closed) => Done;
    event_flood_over_burst: Hs, Custom(event_flood) => Done;
    connections_over_per_ip_limit: Tight, Custom(per_ip_limit) => Done;

    // JWT attacks on CONNECT (`auth: {token}`), HS256 server.
    jwt_missing_auth: Hs, Eio(text("40")) => ConnectError("missing token");
    jwt_empty_token: Hs, Eio(connect("")) => ConnectError("missing token");
    jwt_not_a_jwt: Hs, Eio(connect("not.a.jwt")) => ConnectError("invalid token");
    jwt_alg_none: Hs, Eio(connect(&token::unsigned(r#"{"alg":"none","typ":"JWT"}"#, &valid()))) => ConnectError("algorithm not allowed");
    jwt_alg_none_mixed_case: Hs, Eio(connect(&token::unsigned(r#"{"alg":"nOnE"}"#, &valid()))) => ConnectError("algorithm not allowed");
    jwt_alg_hs512_not_allowed: Hs, Eio(connect(&token::hs256_with_header(r#"{"alg":"HS512"}"#, &valid(), SECRET.as_bytes()))) => ConnectError("algorithm not allowed");
    jwt_crit_header: Hs, Eio(connect(&token::hs256_with_header(r#"{"alg":"HS256","crit":["exp"]}"#, &valid(), SECRET.as_bytes()))) => ConnectError("invalid token");
    jwt_expired: Hs, Eio(connect(&hs(token::claims(-HOUR)))) => ConnectError("token expired");
    jwt_not_yet_valid: Hs, Eio(connect(&hs(not_yet_valid()))) => ConnectError("token not yet valid");
    jwt_without_exp: Hs, Eio(connect(&hs(serde_json::json!({"sub": "x"})))) => ConnectError("invalid token");
    jwt_tampered_payload: Hs, Eio(connect(&token::tampered(&token::good(), &serde_json::json!({"sub": "admin", "exp": 4_000_000_000u64})))) => ConnectError("invalid signature");
    jwt_wrong_secret: Hs, Eio(connect(&token::hs256(b"another-secret-of-at-least-32-bytes!!", &valid()))) => ConnectError("invalid signature");
    jwt_rs256_on_hs_server: Hs, Eio(connect(&token::rs256(&token::key_pem("rsa_private.pem"), &valid()))) => ConnectError("algorithm not allowed");
    jwt_900k_token: Hs, Eio(connect(&"e".repeat(900_000))) => ConnectError("invalid token");
    jwt_1mb_token: Hs, Eio(connect(&"e".repeat(1_000_000))) => Close(1009);
    jwt_audience_when_none_configured: Hs, Eio(connect(&hs(serde_json::json!({"sub": "x", "exp": token::now_secs() + 60, "aud": "other"})))) => ConnectError("invalid audience");
    jwt_refresh_alg_none: Hs, Sio(refresh(&token::unsigned(r#"{"alg":"none"}"#, &valid()))) => Error("auth:refresh: algorithm not allowed");
    jwt_refresh_expired: Hs, Sio(refresh(&hs(token::claims(-HOUR)))) => Error("auth:refresh: token expired");
    jwt_refresh_other_subject: Hs, Sio(refresh(&hs(serde_json::json!({"sub": "admin", "exp": token::now_secs() + 600})))) => Error("another subject");
    jwt_refresh_tampered_rooms: Hs, Sio(refresh(&token::tampered(&token::good(), &token::claims_with_rooms(&["*"])))) => Error("auth:refresh: invalid signature");

    // Room grants from the token (`--room-policy claims`).
    claims_room_not_granted: Claims, Custom(room_not_granted) => Done;

    // JWT attacks, server with only an RSA public key.
    jwt_hs256_signed_with_public_pem: Rsa, Eio(connect(&hs_with_public_pem())) => ConnectError("algorithm not allowed");
    jwt_rs256_other_key: Rsa, Eio(connect(&token::rs256(&token::key_pem("rsa_other_private.pem"), &valid()))) => ConnectError("invalid signature");
    jwt_rs256_valid_is_accepted: Rsa, Eio(connect(&token::rs256(&token::key_pem("rsa_private.pem"), &valid()))) => Reply("40{\"sid\"");
    jwt_alg_none_on_rsa: Rsa, Eio(connect(&token::unsigned(r#"{"alg":"none"}"#, &valid()))) => ConnectError("algorithm not allowed");
}

// ---- scenarios --------------------------------------------------------------------------------

/// Engine.IO: a second GET while one is pending closes the session; the second gets 400, the
/// pending one is answered with a close packet.
fn concurrent_polling_gets(addr: SocketAddr) -> Result<(), String> {
    let sid = raw::polling_open(addr)?;
    let target = format!("/ws/?EIO=4&transport=polling&sid={sid}");
    let first = std::thread::spawn(move || http::get(addr, &target));
    // The first GET must be pending before the second: wait until the server holds it.
    std::thread::sleep(Duration::from_millis(300));
    let second = http::get(addr, &format!("/ws/?EIO=4&transport=polling&sid={sid}"))?;
    if second.status != 400 || !second.body.contains("\"code\":3") {
        return Err(format!("second GET: {} {}", second.status, second.body));
    }
    let first = first.join().map_err(|_| "first GET panicked")??;
    if first.status != 200 || first.body != "1" {
        return Err(format!("first GET: {} {:?}", first.status, first.body));
    }
    let third = http::get(addr, &format!("/ws/?EIO=4&transport=polling&sid={sid}"))?;
    if third.status != 400 {
        return Err(format!(
            "the session survived: {} {}",
            third.status, third.body
        ));
    }
    Ok(())
}

/// A second WebSocket naming an upgraded sid: engine.io accepts it (101) and closes it at once
/// (a close frame without a status code); the first websocket's socket still gets its events.
fn second_websocket_for_a_sid(addr: SocketAddr) -> Result<(), String> {
    let mut first = raw::sio_client(addr, &token::good())?;
    let target = format!("/ws/?EIO=4&transport=websocket&sid={}", first.sid);
    let mut second = raw::Ws::upgrade(addr, &target)?;
    match second.next(Instant::now() + SOON) {
        Next::Frame(f) if f.opcode == OP_CLOSE && f.close_code().is_none() => {}
        other => return Err(format!("second websocket: {}", raw::describe(&other))),
    }
    match second.next(Instant::now() + SOON) {
        Next::Ended(Ended::Closed) => {}
        other => return Err(format!("after its close: {}", raw::describe(&other))),
    }
    first.ws.send_text(r#"42["heartbeat",{"timestamp":7}]"#)?;
    let ack = first
        .ws
        .wait_text(Instant::now() + SOON, |t| t.contains("heartbeat_ack"))?;
    if !ack.contains(r#""timestamp":7"#) {
        return Err(format!("first websocket: {ack}"));
    }
    Ok(())
}

/// 1000 CONNECTs on one session: one socket, duplicates ignored, the session still serves.
fn one_session_connect_flood(addr: SocketAddr) -> Result<(), String> {
    let mut eio = raw::sio_client(addr, &token::good())?;
    let one = connect(&token::good());
    eio.ws.send(&one.repeat(1000))?;
    crate::heartbeat(&mut eio.ws, Instant::now() + SOON)?;
    // Nothing but the heartbeat's answer came back: a second `40` would be a second socket.
    eio.ws.send_text(r#"42["heartbeat",{"timestamp":99}]"#)?;
    let after = eio
        .ws
        .wait_text(Instant::now() + SOON, |t| t.contains("heartbeat_ack"))?;
    if !after.contains("99") {
        return Err(format!("unexpected packet {after:?}"));
    }
    Ok(())
}

/// 200 sessions open at once, then all CONNECT in one burst: every one is answered `40`.
fn connect_flood_sessions(addr: SocketAddr) -> Result<(), String> {
    let mut sessions = (0..200)
        .map(|_| Eio::open(addr))
        .collect::<Result<Vec<_>, _>>()?;
    let token = token::good();
    for s in &mut sessions {
        s.ws.send(&connect(&token))?;
    }
    for (i, s) in sessions.iter_mut().enumerate() {
        let answer = s.ws.wait_text(Instant::now() + SOON, |t| {
            t.starts_with("40") || t.starts_with("44")
        })?;
        if !answer.starts_with("40{") {
            return Err(format!("session {i}: {answer}"));
        }
    }
    Ok(())
}

/// 300 CONNECTs with forged tokens on one session: each gets CONNECT_ERROR, then a good
/// token still connects (a refused CONNECT does not end the session, as in socket.io).
fn bad_token_flood(addr: SocketAddr) -> Result<(), String> {
    let mut eio = Eio::open(addr)?;
    let forged = token::hs256(b"guessed-secret-guessed-secret-guessed", &token::claims(60));
    eio.ws.send(&connect(&forged).repeat(300))?;
    for i in 0..300 {
        let answer = eio
            .ws
            .wait_text(Instant::now() + SOON, |t| t.starts_with('4'))?;
        if answer != r#"44{"message":"invalid signature"}"# {
            return Err(format!("answer {i}: {answer}"));
        }
    }
    let answer = eio.connect(&format!(r#"{{"token":"{}"}}"#, token::good()))?;
    if !answer.starts_with("40{") {
        return Err(format!("good token after the flood: {answer}"));
    }
    Ok(())
}

/// A session that never sends CONNECT is closed after connect_timeout (3 s here).
fn no_connect_is_closed(addr: SocketAddr) -> Result<(), String> {
    let mut eio = Eio::open(addr)?;
    crate::check_ws(
        &mut eio.ws,
        crate::Expect::EioClose(1000),
        Instant::now() + SOON,
    )
}

/// 300 heartbeats at once (burst 200, 100/s): the excess is refused with an `error` event
/// naming the rate limit, not served.
fn event_flood(addr: SocketAddr) -> Result<(), String> {
    let mut eio = raw::sio_client(addr, &token::good())?;
    let one = text(r#"42["heartbeat",{"timestamp":1}]"#);
    eio.ws.send(&one.repeat(300))?;
    eio.ws.send_text(r#"42["heartbeat",{"timestamp":2}]"#)?;
    let (mut acks, mut limited) = (0, 0);
    let deadline = Instant::now() + SOON;
    loop {
        let packet = match eio.ws.next_text(deadline) {
            Ok(p) => p,
            Err(crate::Next::Ended(crate::Ended::Timeout)) => break,
            Err(other) => return Err(raw::describe(&other)),
        };
        match raw::event_of(&packet) {
            Some((name, _)) if name == "heartbeat_ack" => acks += 1,
            Some((name, data))
                if name == "error"
                    && data["message"].as_str().is_some_and(|m| m.contains("rate")) =>
            {
                limited += 1
            }
            _ => {}
        }
        if acks + limited >= 301 {
            break;
        }
    }
    if acks > 201 || limited == 0 {
        return Err(format!(
            "{acks} of 301 heartbeats served, {limited} refused for the rate (burst is 200)"
        ));
    }
    Ok(())
}

/// `--max-connections-per-ip 8`: with the canary and 8 idle connections open, the next
/// connection from 127.0.0.1 is answered 429 with a JSON body; once they close, it is served.
fn per_ip_limit(addr: SocketAddr) -> Result<(), String> {
    let idle = (0..8)
        .map(|_| raw::connect(addr))
        .collect::<Result<Vec<_>, _>>()?;
    // The server counts a connection once it has accepted it: give the accepts a moment.
    std::thread::sleep(Duration::from_millis(200));
    let refused = http::get(addr, "/healthz")?;
    let body = refused.body;
    let json = serde_json::from_str::<serde_json::Value>(&body).is_ok();
    drop(idle);
    let deadline = Instant::now() + SOON;
    let served = loop {
        match http::get(addr, "/healthz") {
            Ok(r) if r.status == 200 => break true,
            _ if Instant::now() > deadline => break false,
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    if refused.status != 429 || !json {
        return Err(format!(
            "connection 10 from one IP: {} {body:?}",
            refused.status
        ));
    }
    if !served {
        return Err("not served again after the connections closed".into());
    }
    Ok(())
}

/// `--room-policy claims`: a token granting `dashboard` and `agent:7` may enter `agent:7` only;
/// `agent:*` is a pattern in a claim, never a room name.
fn room_not_granted(addr: SocketAddr) -> Result<(), String> {
    let token = token::hs256(
        SECRET.as_bytes(),
        &token::claims_with_rooms(&["dashboard", "agent:7"]),
    );
    let mut eio = raw::sio_client(addr, &token)?;
    let deadline = Instant::now() + SOON;
    for (room, want) in [
        ("conversation:secret", "forbidden"),
        ("agent:8", "forbidden"),
        ("agent:*", "invalid room"),
    ] {
        eio.ws
            .send_text(&format!(r#"42["subscribe",{{"room":"{room}"}}]"#))?;
        let packet = eio.ws.wait_text(deadline, |t| t.starts_with("42["))?;
        match raw::event_of(&packet) {
            Some((name, data))
                if name == "error"
                    && data["message"].as_str().is_some_and(|m| m.contains(want)) => {}
            _ => return Err(format!("subscribe {room}: {packet}")),
        }
    }
    eio.ws.send_text(r#"42["subscribe",{"room":"agent:7"}]"#)?;
    let packet = eio.ws.wait_text(deadline, |t| t.starts_with("42["))?;
    if !packet.starts_with(r#"42["subscribed",{"room":"agent:7"}"#) {
        return Err(format!("subscribe agent:7: {packet}"));
    }
    Ok(())
}
