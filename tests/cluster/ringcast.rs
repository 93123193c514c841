//! Real ringcast nodes in a cluster: the e2e harness (tests/e2e/common, reused as is through
//! `#[path]` in main.rs) starts the binary; this adds `--redis-url`, `/readyz` polling and a
//! "connect, leave the default `dashboard`, join these rooms" helper for stock clients.

use std::cell::RefCell;
use std::io::{Read, Write};
use std::net::TcpStream;

use serde_json::{Value, json};

use crate::common::{Client, Connect, DEADLINE, Server, ServerOpts, publish};
use crate::support::wait_until;

/// A ringcast node (one worker, so one socket's events keep their order) clustering over the
/// Redis at 127.0.0.1:`redis_port`, whether or not anything listens there yet.
pub fn node(redis_port: u16) -> Server {
    node_with(&["--redis-url", &format!("redis://127.0.0.1:{redis_port}/")])
}

/// A node (one worker) started with these Redis settings (`--redis-url …`, `--redis-tls-ca …`).
pub fn node_with(redis_args: &[&str]) -> Server {
    Server::start(ServerOpts {
        workers: Some(1),
        extra: redis_args.iter().map(|a| (*a).to_owned()).collect(),
        ..ServerOpts::default()
    })
}

/// A node that is up and whose bridge is subscribed (`/readyz` says `ready`).
pub fn ready_node(redis_port: u16) -> Server {
    let server = node(redis_port);
    wait_ready(&server);
    server
}

/// `/readyz`'s `status` (`ready` or `degraded`).
pub fn readiness(server: &Server) -> String {
    let (status, body) = get(server, "/readyz");
    assert_eq!(
        status,
        200,
        "/readyz answered {status} {body:?}\n{}",
        server.context()
    );
    let v: Value = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("/readyz body is not JSON ({e}): {body:?}"));
    v["status"].as_str().unwrap_or_default().to_owned()
}

/// Polls `/readyz` until the bridge is connected (and so subscribed: it turns `Connected` only
/// after its SUBSCRIBE/PSUBSCRIBE replies).
pub fn wait_ready(server: &Server) {
    let last = RefCell::new(String::new());
    wait_until(
        "/readyz to say ready",
        || {
            *last.borrow_mut() = readiness(server);
            *last.borrow() == "ready"
        },
        || format!("last status {:?}\n{}", last.borrow(), server.context()),
    );
}

/// Connects socket `sock`, unsubscribes it from `dashboard` (every socket starts there) unless
/// `rooms` names it, and subscribes it to `rooms`. Returns its Socket.IO id.
pub fn socket_in(client: &mut Client, server: &Server, sock: &str, rooms: &[&str]) -> String {
    let connected = client.connected(sock, &Connect::to(server));
    if !rooms.contains(&"dashboard") {
        client.unsubscribe(sock, "dashboard");
    }
    for room in rooms.iter().filter(|r| **r != "dashboard") {
        client.subscribe(sock, room);
    }
    match connected["id"].as_str() {
        Some(id) => id.to_owned(),
        None => client.fail(&format!("{sock}: connect line without an id: {connected}")),
    }
}

/// Publishes through `server`'s HTTP API and asserts the status; returns the JSON body.
pub fn publish_status(server: &Server, body: &Value, want: u16) -> Value {
    let resp = publish(server, body);
    assert_eq!(
        resp.status,
        want,
        "publish {body} answered {} {:?}\n{}",
        resp.status,
        resp.body,
        server.context()
    );
    resp.json()
}

/// A `conversation:message` to `room` (`conversation:{id}`): the marker event tests publish
/// last, to every socket that must have seen everything before it.
pub fn marker(conversation_id: &str) -> Value {
    json!({
        "event": "conversation:message",
        "data": {"conversation_id": conversation_id, "message": {"text": "end"}}
    })
}

/// The events `sock` received up to and including the first `conversation:message` (the marker),
/// as `(event, args)`.
pub fn events_until_marker(client: &mut Client, sock: &str) -> Vec<(String, Vec<Value>)> {
    // `expect_event` consumes the marker; the events before it stay in the backlog.
    let end = client.expect_event(sock, "conversation:message");
    let mut got: Vec<(String, Vec<Value>)> = client
        .take_events(sock)
        .into_iter()
        .filter(|(event, _)| event != "subscribed" && event != "unsubscribed")
        .collect();
    got.push(("conversation:message".to_owned(), end));
    got
}

/// `GET path` (one request per connection); returns the status and the body.
pub fn get(server: &Server, path: &str) -> (u16, String) {
    let fail = |what: String| -> ! { panic!("GET {path}: {what}\n{}", server.context()) };
    let mut stream = TcpStream::connect(("127.0.0.1", server.port))
        .unwrap_or_else(|e| fail(format!("connect: {e}")));
    stream
        .set_read_timeout(Some(DEADLINE))
        .unwrap_or_else(|e| fail(format!("set_read_timeout: {e}")));
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
        server.port
    );
    stream
        .write_all(req.as_bytes())
        .unwrap_or_else(|e| fail(format!("write: {e}")));
    let mut raw = String::new();
    stream
        .read_to_string(&mut raw)
        .unwrap_or_else(|e| fail(format!("read (got {raw:?}): {e}")));
    let status = raw
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fail(format!("no status line in {raw:?}")));
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}
