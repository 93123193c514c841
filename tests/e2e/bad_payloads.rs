//! Bad client payloads, unknown rooms and unknown events get an `error {message}` event, and
//! the connection stays usable.

use serde_json::{Value, json};

use ringcast_test_support::{Client, Connect, Lang};

use crate::gateway;

fn cases() -> Vec<(&'static str, Value)> {
    let long_id = "x".repeat(129);
    vec![
        ("subscribe", json!([])),                                       // no payload
        ("subscribe", json!(["agent:1"])),                              // a string, not {room}
        ("subscribe", json!([{}])),                                     // no room
        ("subscribe", json!([{ "room": 5 }])),                          // room not a string
        ("subscribe", json!([{ "room": "lobby" }])),                    // unknown room kind
        ("subscribe", json!([{ "room": "user:1" }])),                   // unknown room kind
        ("subscribe", json!([{ "room": "agent:" }])),                   // empty id
        ("subscribe", json!([{ "room": "agent:a b" }])),                // id outside [A-Za-z0-9._-]
        ("subscribe", json!([{ "room": "agent:a/b" }])),                // id outside [A-Za-z0-9._-]
        ("subscribe", json!([{ "room": format!("agent:{long_id}") }])), // id of 129 > 128
        ("unsubscribe", json!([{ "room": "nope" }])),                   // unknown room kind
        ("unsubscribe", json!([null])),                                 // null payload
        ("heartbeat", json!(["soon"])),                                 // not {timestamp}
        ("no_such_event", json!([{ "room": "agent:1" }])),              // unknown event
    ]
}

fn run(lang: Lang) {
    let server = gateway().start();
    let mut client = Client::spawn(lang, &server);
    client.connected("s", &Connect::to(&server));
    for (event, args) in cases() {
        client.emit("s", event, args.clone());
        let got = client.expect_event("s", "error");
        let message = got.first().and_then(|e| e["message"].as_str());
        if message.is_none_or(str::is_empty) {
            client.fail(&format!(
                "{event} {args}: expected error {{message}}, got {got:?}"
            ));
        }
    }
    // Still connected and working: the id-length boundary (128) is accepted, and the first
    // `subscribed` seen is this one (none of the bad subscribes produced one).
    client.subscribe("s", &format!("agent:{}", "x".repeat(128)));
    client.emit("s", "heartbeat", json!([{ "timestamp": 1 }]));
    client.expect_event("s", "heartbeat_ack");
    let disconnects = client.pending("s", "disconnect");
    if !disconnects.is_empty() {
        client.fail(&format!("the socket was disconnected: {disconnects:?}"));
    }
    let extra = client.take_events("s");
    if !extra.is_empty() {
        client.fail(&format!("unexpected events: {extra:?}"));
    }
}

#[test]
fn bad_payloads_get_error_js() {
    run(Lang::Js);
}

#[test]
fn bad_payloads_get_error_python() {
    run(Lang::Py);
}
