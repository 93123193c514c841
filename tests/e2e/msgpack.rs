//! The msgpack parser (`--msgpack-path`): stock socket.io-client 4.8 with
//! socket.io-msgpack-parser 3.0.2, and python-socketio's msgpack serializer, get the spec's
//! flow on the msgpack path (JWT in the CONNECT auth, subscribe, a published event with nested
//! JSON, an ack, an `error` event), one broadcast reaches JSON and msgpack clients alike,
//! encoded for msgpack once, and connection state recovery works on the msgpack path.

use serde_json::{Value, json};

use ringcast_test_support::{Client, Connect, Lang, Metrics, Proxy, Server};

use crate::gateway;

const MSGPACK_PATH: &str = "/ws-msgpack/";

fn server() -> Server {
    gateway()
        .workers(2)
        .args(["--msgpack-path", MSGPACK_PATH])
        .start()
}

fn msgpack(server: &Server, transports: Option<&[&str]>) -> Connect {
    let how = Connect::to(server)
        .path(Some(MSGPACK_PATH))
        .parser("msgpack");
    match transports {
        Some(t) => how.transports(t),
        None => how,
    }
}

/// Nested JSON with the values whose encodings differ between JSON and MessagePack: floats,
/// negative and 53-bit integers, escapes and non-ASCII text, null, empty containers.
fn update() -> Value {
    json!({"progress": 50, "ratio": 0.25, "delta": -7, "big": 9_007_199_254_740_991_u64,
           "steps": [1, 2.5, {"deep": [true, null, "é\"x\n"]}], "none": {}, "empty": []})
}

fn spec_flow(lang: Lang, transports: Option<&[&str]>) {
    let server = server();
    let mut client = Client::spawn(lang, &server);
    client.connected("s", &msgpack(&server, transports));
    client.subscribe("s", "task:9");

    server.publish_until_delivered(
        &json!({"event": "task:updated", "rooms": ["task:9"],
                "data": {"task_id": "9", "update": update()}}),
        1,
    );
    let got = client.expect_event("s", "task:updated");
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["task_id"], "9", "{got:?}");
    assert_eq!(got[0]["update"], update(), "{got:?}");

    let id = client.emit_ack("s", "heartbeat", json!([{"timestamp": 1_234_567}]));
    let ack = client.expect_ack("s", id);
    assert_eq!(ack[0]["timestamp"], 1_234_567, "{ack:?}");
    assert!(ack[0]["server_time"].is_u64(), "{ack:?}");

    client.emit("s", "subscribe", json!([{"room": "../admin"}]));
    let error = client.expect_event("s", "error");
    let message = error[0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("invalid room"), "{error:?}");
}

#[test]
fn msgpack_js_default_transports() {
    spec_flow(Lang::Js, None);
}

#[test]
fn msgpack_js_polling() {
    spec_flow(Lang::Js, Some(&["polling"]));
}

#[test]
fn msgpack_js_websocket() {
    spec_flow(Lang::Js, Some(&["websocket"]));
}

#[test]
fn msgpack_python_polling() {
    spec_flow(Lang::Py, Some(&["polling"]));
}

#[test]
fn msgpack_python_websocket() {
    spec_flow(Lang::Py, Some(&["websocket"]));
}

#[test]
fn msgpack_refuses_a_bad_token_like_json() {
    let server = server();
    for lang in [Lang::Js, Lang::Py] {
        let mut client = Client::spawn(lang, &server);
        let how = msgpack(&server, Some(&["websocket"])).token(Some("not-a-jwt".into()));
        assert_eq!(client.refused("s", &how), "invalid token", "{lang:?}");
    }
}

/// One publish to a room whose members use both parsers, on both workers: every member gets
/// the same event, and the msgpack form was built once for the broadcast.
#[test]
fn one_broadcast_reaches_json_and_msgpack_clients() {
    let server = server();
    let mut js = Client::spawn(Lang::Js, &server);
    let mut py = Client::spawn(Lang::Py, &server);
    // Two of each parser, so each worker likely holds both kinds (the sid names the worker).
    let ws = Some(&["websocket"][..]);
    js.connected("json", &Connect::to(&server).transports(&["websocket"]));
    js.connected("mp1", &msgpack(&server, ws));
    js.connected("mp2", &msgpack(&server, Some(&["polling"])));
    py.connected("json", &Connect::to(&server).transports(&["websocket"]));
    py.connected("mp", &msgpack(&server, ws));
    for sock in ["json", "mp1", "mp2"] {
        js.subscribe(sock, "task:9");
    }
    for sock in ["json", "mp"] {
        py.subscribe(sock, "task:9");
    }

    let before = Metrics::scrape(&server).or_zero("ringcast_msgpack_broadcast_encodes_total");
    let data = json!({"task_id": "9", "update": update()});
    let delivered =
        server.publish_ok(&json!({"event": "task:updated", "rooms": ["task:9"], "data": data}));
    assert_eq!(delivered, 5);
    for (client, socks) in [
        (&mut js, &["json", "mp1", "mp2"][..]),
        (&mut py, &["json", "mp"]),
    ] {
        for sock in socks {
            let got = client.expect_event(sock, "task:updated");
            assert_eq!(
                got[0]["update"],
                update(),
                "{:?} {sock}: {got:?}",
                client.lang
            );
            assert_eq!(got[0]["task_id"], "9", "{:?} {sock}: {got:?}", client.lang);
        }
    }
    let after = Metrics::scrape(&server).or_zero("ringcast_msgpack_broadcast_encodes_total");
    assert_eq!(after - before, 1.0, "msgpack encodes of one broadcast");
}

/// With `--recovery true`, a msgpack client's broadcasts end with their offset, and after a
/// network drop socket.io-client's msgpack CONNECT (auth with `pid` and `offset`) gets its id,
/// its room and the event it missed back (`recovered`).
#[test]
fn msgpack_client_recovers_after_a_network_drop() {
    let server = gateway()
        .workers(2)
        .args(["--msgpack-path", MSGPACK_PATH, "--recovery", "true"])
        .start();
    let proxy = Proxy::start(server.addr);
    let mut client = Client::spawn(Lang::Js, &server);
    let how = msgpack(&server, Some(&["websocket"]))
        .url(proxy.url())
        .options(json!({"reconnection": true, "reconnectionDelay": 50,
                        "reconnectionDelayMax": 200, "randomizationFactor": 0}));
    let id = client.connected("s", &how)["id"].clone();
    client.subscribe("s", "task:9");
    let publish = |n: u64| {
        server.publish_ok(&json!({"event": "task:updated", "rooms": ["task:9"],
                                  "data": {"task_id": "9", "update": {"n": n}}}))
    };
    let numbered = |args: &[Value]| match args {
        [data, Value::String(offset)] if offset.contains('-') => data["update"]["n"].as_u64(),
        _ => None,
    };

    assert_eq!(publish(1), 1);
    let got = client.expect_event("s", "task:updated");
    assert_eq!(numbered(&got), Some(1), "[data, offset]: {got:?}");

    proxy.block(true);
    proxy.sever();
    client.expect("the client's disconnect", |v| v["type"] == "disconnect");
    assert_eq!(publish(2), 0, "nobody is connected");
    proxy.block(false);
    let back = client.expect("the client back", |v| v["type"] == "connect");
    assert_eq!(back["recovered"], true, "{back}");
    assert_eq!(back["id"], id, "{back}");
    let got = client.expect_event("s", "task:updated");
    assert_eq!(numbered(&got), Some(2), "the missed event: {got:?}");
}
