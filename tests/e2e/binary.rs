//! Binary events and acks both ways against the protocol suite's reference server
//! (examples/reference.rs): `auth` echoes the handshake auth, `message` comes back as
//! `message-back` with the same arguments, `message-with-ack` acks with them; over each transport
//! mix and both stock clients.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use ringcast_test_support::{Client, Connect, Example, Lang};

use crate::gateway;

fn bin(bytes: &[u8]) -> Value {
    json!({ "$bin": STANDARD.encode(bytes) })
}

fn run(lang: Lang, transports: Option<&[&str]>) {
    run_with(lang, transports, false);
}

/// `msgpack`: on the reference server's `/msgpack/` path with the msgpack parser (binary as
/// native `bin` values inside one message, no attachments).
fn run_with(lang: Lang, transports: Option<&[&str]>, msgpack: bool) {
    let server = gateway().example(Example::Reference);
    let mut client = Client::spawn(lang, &server);
    let auth = json!({"token": "abc", "n": 1});
    let mut how = Connect::to(&server).path(None).auth(auth.clone());
    if msgpack {
        how = how.path(Some("/msgpack/")).parser("msgpack");
    }
    if let Some(t) = transports {
        how = how.transports(t);
    }
    client.connected("s", &how);
    let got = client.expect_event("s", "auth");
    assert_eq!(got, [auth], "auth event");

    // 64 KiB: several WebSocket frame-length forms and polling payload sizes away from tiny.
    let big: Vec<u8> = (0..65_536u32).map(|i| (i * 7 % 251) as u8).collect();
    // arguments, one case a line: plain, a lone buffer, buffers nested and mixed with JSON
    let cases: [Value; 4] = [
        json!([1, "two", {"three": [3.5, null, true]}]),
        json!([bin(&[0, 1, 2, 255])]),
        json!(["text", bin(b""), {"nested": [bin(&[9, 8, 7]), {"deeper": bin(&[0xff; 3])}]}, 42]),
        json!([bin(&big), "after"]),
    ];
    for args in &cases {
        client.emit("s", "message", args.clone());
        let got = client.expect_event("s", "message-back");
        if Value::Array(got.clone()) != *args {
            client.fail(&format!(
                "message-back: sent {args:.200}, got {:.200}",
                Value::Array(got)
            ));
        }
        let id = client.emit_ack("s", "message-with-ack", args.clone());
        let got = client.expect_ack("s", id);
        if Value::Array(got.clone()) != *args {
            client.fail(&format!(
                "ack: sent {args:.200}, got {:.200}",
                Value::Array(got)
            ));
        }
    }
}

#[test]
fn binary_round_trip_js_default_transports() {
    run(Lang::Js, None);
}

#[test]
fn binary_round_trip_js_polling() {
    run(Lang::Js, Some(&["polling"]));
}

#[test]
fn binary_round_trip_js_websocket() {
    run(Lang::Js, Some(&["websocket"]));
}

#[test]
fn binary_round_trip_python_polling() {
    run(Lang::Py, Some(&["polling"]));
}

#[test]
fn binary_round_trip_python_websocket() {
    run(Lang::Py, Some(&["websocket"]));
}

#[test]
fn binary_round_trip_js_msgpack_default_transports() {
    run_with(Lang::Js, None, true);
}

#[test]
fn binary_round_trip_js_msgpack_polling() {
    run_with(Lang::Js, Some(&["polling"]), true);
}

#[test]
fn binary_round_trip_python_msgpack_websocket() {
    run_with(Lang::Py, Some(&["websocket"]), true);
}

#[test]
fn binary_round_trip_python_msgpack_polling() {
    run_with(Lang::Py, Some(&["polling"]), true);
}
