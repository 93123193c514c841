//! Real ringcast nodes in a cluster: `--redis-url`, `/readyz` polling and a "connect, leave the
//! default `dashboard`, join these rooms" helper for stock clients.

use std::cell::RefCell;

use serde_json::{Value, json};

use ringcast_test_support::{Client, Connect, RedisServer, Server, wait_until};

use crate::gateway;

/// A ringcast node (one worker, so one socket's events keep their order) clustering over the
/// Redis at 127.0.0.1:`redis_port`, whether or not anything listens there yet.
pub fn node(redis_port: u16) -> Server {
    node_with(&["--redis-url", &format!("redis://127.0.0.1:{redis_port}/")])
}

/// A node (one worker) started with these Redis settings (`--redis-url …`, `--redis-tls-ca …`).
pub fn node_with(redis_args: &[&str]) -> Server {
    gateway().workers(1).args(redis_args).start()
}

/// A ready node (one worker) in sharded mode (`--cluster-mode sharded`) with this
/// `--sharded-subscription-mode` (`static` or `dynamic`).
pub fn ready_sharded_node(redis_port: u16, subscription_mode: &str) -> Server {
    let url = format!("redis://127.0.0.1:{redis_port}/");
    let server = node_with(&[
        "--redis-url",
        &url,
        "--cluster-mode",
        "sharded",
        "--sharded-subscription-mode",
        subscription_mode,
    ]);
    wait_ready(&server);
    server
}

/// `PUBSUB SHARDCHANNELS`: the sharded channels with at least one subscriber.
pub fn shard_channels(redis: &RedisServer) -> Vec<String> {
    let mut con = redis.connection();
    redis::cmd("PUBSUB")
        .arg("SHARDCHANNELS")
        .query(&mut con)
        .expect("PUBSUB SHARDCHANNELS")
}

/// Waits until `PUBSUB SHARDCHANNELS` holds (`present`) or lacks each of `channels`.
pub fn wait_shard_channels(redis: &RedisServer, channels: &[&str], present: bool) {
    let last = RefCell::new(Vec::new());
    wait_until(
        &format!("shard channels {channels:?} present: {present}"),
        || {
            *last.borrow_mut() = shard_channels(redis);
            channels
                .iter()
                .all(|c| last.borrow().iter().any(|s| s == c) == present)
        },
        || format!("PUBSUB SHARDCHANNELS: {:?}", last.borrow()),
    );
}

/// A node that is up and whose bridge is subscribed (`/readyz` says `ready`).
pub fn ready_node(redis_port: u16) -> Server {
    let server = node(redis_port);
    wait_ready(&server);
    server
}

/// `/readyz`'s `status`: `ready` (HTTP 200) or, clustered with Redis unusable, `unavailable`
/// (HTTP 503: probes read the status code). Asserts that the code matches the body.
pub fn readiness(server: &Server) -> String {
    let resp = server.get("/readyz");
    let (status, body) = (resp.status, resp.body);
    let v: Value = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("/readyz body is not JSON ({e}): {body:?}"));
    let said = v["status"].as_str().unwrap_or_default().to_owned();
    let want = if said == "ready" { 200 } else { 503 };
    assert_eq!(
        status,
        want,
        "/readyz answered {status} {body:?}\n{}",
        server.context()
    );
    said
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
    let resp = server.publish(body);
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
