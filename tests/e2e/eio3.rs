//! Engine.IO v3 clients (socket.io-client 2.5) behind `allow_eio3`: refused with socket.io's
//! exact 400 when it is off; when on, the real 2.x client authenticates with its handshake
//! query, subscribes, receives published events and errors, and keeps its session alive with
//! its own pings, over websocket only and over polling only; raw v3 polling bodies are checked
//! byte for byte, and bad ones get 400.

use std::time::Duration;

use serde_json::json;

use ringcast_test_support::{Client, Connect, Lang, Server, token, unique};

use crate::gateway;

/// socket.io's answer to an Engine.IO revision it does not serve.
const UNSUPPORTED: &str = r#"{"code":5,"message":"Unsupported protocol version"}"#;

fn eio3_gateway() -> Server {
    // The client pings every 300 ms; the server closes a session 300 + 2 000 ms after its last
    // ping, so a session alive after 3 s proves both directions of the v3 heartbeat.
    gateway()
        .args([
            "--allow-eio3",
            "true",
            "--ping-interval-ms",
            "300",
            "--ping-timeout-ms",
            "2000",
        ])
        .start()
}

#[test]
fn eio3_refused_with_code_5_when_not_allowed() {
    let server = gateway().start();
    for query in [
        "EIO=3&transport=polling",
        "EIO=3&transport=websocket",
        "EIO=2&transport=polling",
        "EIO=5&transport=polling",
        "EIO=&transport=polling",
        "EIO=four&transport=polling",
        "transport=polling",
    ] {
        let response = server.get(&format!("/ws/?{query}"));
        if (response.status, response.body.as_str()) != (400, UNSUPPORTED) {
            server.fail(&format!(
                "{query}: expected 400 {UNSUPPORTED}, got {} {:?}",
                response.status, response.body
            ));
        }
    }
    let mut client = Client::spawn(Lang::JsV2, &server);
    for transport in ["polling", "websocket"] {
        let how = Connect::to(&server).transports(&[transport]);
        client.connect(transport, &how);
        let line = client.expect(&format!("{transport}: connect_error"), |v| {
            v["sock"] == transport && (v["type"] == "connect" || v["type"] == "connect_error")
        });
        if line["type"] != "connect_error" || line["kind"] != "engine" {
            client.fail(&format!(
                "{transport}: expected an engine error, got {line}"
            ));
        }
    }
}

/// The spec's events over `transports` (the client's default, polling then the upgrade, when
/// empty); `transport` is the one the session ends up on.
fn spec_events(transports: &[&str], transport: &str) {
    let server = eio3_gateway();
    let mut client = Client::spawn(Lang::JsV2, &server);
    let with = |how: Connect| match transports {
        [] => how,
        some => how.transports(some),
    };
    let line = client.connected("s", &with(Connect::to(&server)));
    if transports.is_empty() {
        // The v3 upgrade: `2probe`, `3probe`, the paused poll's `1:6`, then `5`.
        client.expect("the upgrade to websocket", |v| {
            v["type"] == "upgrade" && v["sock"] == "s" && v["transport"] == transport
        });
    } else if line["transport"] != transport {
        client.fail(&format!(
            "connected over {}, not {transport}",
            line["transport"]
        ));
    }
    let room = format!("task:{}", unique("v2"));
    client.subscribe("s", &room);
    client.emit("s", "heartbeat", json!([{ "timestamp": 7 }]));
    let ack = client.expect_event("s", "heartbeat_ack");
    if ack.first().map(|a| &a["timestamp"]) != Some(&json!(7)) {
        client.fail(&format!("heartbeat_ack {ack:?}"));
    }
    client.emit("s", "subscribe", json!([{ "room": "lobby" }]));
    let error = client.expect_event("s", "error");
    if error.first().and_then(|e| e["message"].as_str()).is_none() {
        client.fail(&format!("error {error:?}"));
    }
    // Several heartbeats later (see `eio3_gateway`), the session is still up.
    std::thread::sleep(Duration::from_secs(3));
    server.publish_until_delivered(
        &json!({"event": "task:updated", "rooms": [room],
                "data": {"task_id": "1", "update": {"progress": 50}}}),
        1,
    );
    let got = client.expect_event("s", "task:updated");
    let fields = got.first().map(|d| (&d["task_id"], &d["update"]));
    if fields != Some((&json!("1"), &json!({"progress": 50}))) {
        client.fail(&format!("task:updated {got:?}"));
    }
    let disconnects = client.pending("s", "disconnect");
    if !disconnects.is_empty() {
        client.fail(&format!("the socket was disconnected: {disconnects:?}"));
    }
    // Refusals arrive as v4's string payload: the client's `error` event carries the message.
    let refusals = [
        (
            "no_token",
            Connect::to(&server).token(None),
            "missing token",
        ),
        (
            "garbage",
            Connect::to(&server).token(Some("not-a-jwt".into())),
            "invalid token",
        ),
        (
            "expired",
            Connect::to(&server).token(Some(token::expired())),
            "token expired",
        ),
    ];
    for (sock, how, want) in refusals {
        let message = client.refused(sock, &with(how));
        if message != want {
            client.fail(&format!(
                "{sock}: refused with {message:?}, expected {want:?}"
            ));
        }
    }
}

#[test]
fn eio3_client_spec_events_websocket_only() {
    spec_events(&["websocket"], "websocket");
}

#[test]
fn eio3_client_spec_events_polling_only() {
    spec_events(&["polling"], "polling");
}

#[test]
fn eio3_client_spec_events_after_the_upgrade() {
    spec_events(&[], "websocket");
}

/// The sid of a v3 handshake body `<len>:0{"sid":…}`, checking the length prefix.
fn handshake(server: &Server, query: &str) -> String {
    let response = server.get(&format!("/ws/?EIO=3&transport=polling{query}"));
    let Some((len, open)) = response.body.split_once(':') else {
        server.fail(&format!("handshake body {:?}", response.body));
    };
    let open_json = open.strip_prefix('0').unwrap_or_default();
    let parsed: serde_json::Value = serde_json::from_str(open_json).unwrap_or_default();
    if response.status != 200 || len != open.encode_utf16().count().to_string() {
        server.fail(&format!(
            "handshake {} {:?}",
            response.status, response.body
        ));
    }
    for key in ["upgrades", "pingInterval", "pingTimeout"] {
        if parsed.get(key).is_none() {
            server.fail(&format!("OPEN packet without {key}: {open}"));
        }
    }
    parsed["sid"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn eio3_raw_polling_bodies() {
    let server = eio3_gateway();
    let good = format!("&token={}", token::good());
    let path = |sid: &str| format!("/ws/?EIO=3&transport=polling&sid={sid}");
    // (handshake query, what the client POSTs, the next GET's body)
    let cases = [
        (good.as_str(), None, "2:40"),
        (good.as_str(), Some("1:2"), "2:401:3"),
        ("", None, r#"17:44"missing token""#),
    ];
    for (query, post, want) in cases {
        let sid = handshake(&server, query);
        if let Some(body) = post {
            let response = server.post(&path(&sid), &[], body.as_bytes());
            if (response.status, response.body.as_str()) != (200, "ok") {
                server.fail(&format!(
                    "POST {body:?}: {} {:?}",
                    response.status, response.body
                ));
            }
        }
        let response = server.get(&path(&sid));
        if (response.status, response.body.as_str()) != (200, want) {
            server.fail(&format!(
                "{query} {post:?}: GET {} {:?}, expected {want:?}",
                response.status, response.body
            ));
        }
    }
    for bad in ["4:4a", "x:4a", "2:9x", "1:", "1:\u{1F600}", "3:b2A"] {
        let sid = handshake(&server, &good);
        let response = server.post(&path(&sid), &[], bad.as_bytes());
        if response.status != 400 {
            server.fail(&format!(
                "bad payload {bad:?}: {} {:?}",
                response.status, response.body
            ));
        }
        // The session is closed: its next poll is refused.
        let after = server.get(&path(&sid));
        if after.status != 400 {
            server.fail(&format!(
                "after {bad:?}: GET {} {:?}",
                after.status, after.body
            ));
        }
    }
}
