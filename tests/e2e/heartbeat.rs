//! `heartbeat {timestamp}` → `heartbeat_ack {timestamp, server_time}`, and with an ack callback
//! the client also gets an ack.

use serde_json::{Value, json};

use ringcast_test_support::{Client, Connect, Lang};

use crate::gateway;

/// Date.now() of a day in 2026: beyond 2^32, so a server storing it in 32 bits fails.
const TIMESTAMP: u64 = 1_795_654_085_753;

fn check_ack_event(client: &Client, got: &[Value]) {
    let [body] = got else {
        client.fail(&format!(
            "heartbeat_ack: expected one argument, got {got:?}"
        ))
    };
    if body["timestamp"] != json!(TIMESTAMP) {
        client.fail(&format!(
            "heartbeat_ack must echo timestamp {TIMESTAMP}: {body}"
        ));
    }
    let server_time = &body["server_time"];
    if !(server_time.is_number() || server_time.as_str().is_some_and(|s| !s.is_empty())) {
        client.fail(&format!("heartbeat_ack lacks server_time: {body}"));
    }
}

fn run(lang: Lang) {
    let server = gateway().start();
    let mut client = Client::spawn(lang, &server);
    client.connected("s", &Connect::to(&server));

    client.emit("s", "heartbeat", json!([{ "timestamp": TIMESTAMP }]));
    let got = client.expect_event("s", "heartbeat_ack");
    check_ack_event(&client, &got);

    let id = client.emit_ack("s", "heartbeat", json!([{ "timestamp": TIMESTAMP }]));
    let got = client.expect_event("s", "heartbeat_ack");
    check_ack_event(&client, &got);
    client.expect_ack("s", id);
}

#[test]
fn heartbeat_ack_js() {
    run(Lang::Js);
}

#[test]
fn heartbeat_ack_python() {
    run(Lang::Py);
}
