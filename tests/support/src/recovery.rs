//! Connection state recovery with a stock socket.io-client behind a [`Proxy`]: connect through
//! the proxy with reconnection at once, the next `connect` (or the server's `connect_error`),
//! and the numbered `task:updated` events a recovered client receives, each `[data, offset]`
//! (socket.io-client hands the offset to handlers as the last argument).

use std::net::SocketAddr;

use serde_json::{Value, json};

use crate::{Client, Connect, Lang, Proxy, Server, token, unique};

/// Reconnect at once and keep trying while the proxy refuses.
pub fn reconnecting() -> Value {
    json!({"reconnection": true, "reconnectionDelay": 50, "reconnectionDelayMax": 200,
           "randomizationFactor": 0})
}

/// A JS client connected through `proxy` (WebSocket only: a polling session outlives a cut TCP
/// connection until its ping timeout), subscribed to `room`. Returns its socket id.
pub fn connect_through(
    client: &mut Client,
    server: &Server,
    proxy: &Proxy,
    auth: Value,
    room: &str,
) -> String {
    let how = Connect::to(server)
        .url(proxy.url())
        .auth(auth)
        .transports(&["websocket"])
        .options(reconnecting());
    let line = client.connected("s", &how);
    client.subscribe("s", room);
    line["id"].as_str().unwrap_or_default().to_owned()
}

/// The next `connect`, or `connect_error` from the server (not from the transport).
pub fn answer(client: &mut Client, what: &str) -> Value {
    client.expect(what, |v| {
        v["type"] == "connect"
            || (v["type"] == "connect_error"
                && v["message"] != "websocket error"
                && v["message"] != "xhr poll error")
    })
}

/// The `n` of a `task:updated` event's data, and its offset (the last argument).
pub fn numbered(client: &Client, args: &[Value]) -> (u64, String) {
    match args {
        [data, Value::String(offset)] => (
            data["update"]["n"].as_u64().unwrap_or(u64::MAX),
            offset.clone(),
        ),
        _ => client.fail(&format!("expected [data, offset], got {args:?}")),
    }
}

/// Receives the next `count` `task:updated` events on socket `s` and returns their numbers;
/// fails on an offset seen twice.
pub fn receive(client: &mut Client, count: usize) -> Vec<u64> {
    let mut got = Vec::new();
    let mut offsets: Vec<String> = Vec::new();
    for _ in 0..count {
        let args = client.expect_event("s", "task:updated");
        let (n, offset) = numbered(client, &args);
        assert!(
            !offsets.contains(&offset),
            "offset {offset} twice: {offsets:?}"
        );
        offsets.push(offset);
        got.push(n);
    }
    got
}

/// A stock JS client of `server`, connected through `proxy` with a good token and subscribed to
/// a fresh `task:<prefix>-…` room: the client, the room and its socket id.
pub fn subscribed_through(
    server: &Server,
    proxy: &Proxy,
    prefix: &str,
) -> (Client, String, String) {
    let mut client = Client::spawn(Lang::Js, server);
    let room = format!("task:{}", unique(prefix));
    let id = connect_through(
        &mut client,
        server,
        proxy,
        json!({"token": token::good()}),
        &room,
    );
    (client, room, id)
}

/// Lets a client that `proxy` kept off back in, to `upstream`, and asserts it recovered there
/// with socket id `id` (`context`: what to print on failure). Returns its `connect` line.
pub fn recovered_at(
    client: &mut Client,
    proxy: &Proxy,
    upstream: SocketAddr,
    id: &str,
    context: impl Fn() -> String,
) -> Value {
    proxy.set_upstream(upstream);
    proxy.block(false);
    let back = answer(client, "the client back");
    assert_eq!(back["recovered"], true, "{back}\n{}", context());
    assert_eq!(back["id"], id, "the old socket id: {back}");
    back
}
