//! The server API in a mixed cluster: a Node socket.io 4.8 node on `@socket.io/redis-adapter`
//! 8 obeys the joins, leaves and disconnects a ringcast node sends (REMOTE_JOIN, REMOTE_LEAVE,
//! REMOTE_DISCONNECT), and its sockets count in the lookups.

use serde_json::{Value, json};

use ringcast_test_support::{Proc, RedisServer, Server, redis_js};

use crate::ringcast::{publish_status, ready_node};

fn call(server: &Server, method: &str, path: &str, body: Value) -> Value {
    server.api_ok(method, path, Some(&body))
}

fn alert(room: &str, message: &str) -> Value {
    json!({"event": "system:alert", "rooms": [room], "data": {"message": message, "severity": "info"}})
}

#[test]
fn node_socketio_node_obeys_join_leave_and_disconnect() {
    let redis = RedisServer::start();
    let ringcast = ready_node(redis.port);
    let mut node = Proc::node(&redis_js(), "node-server.js", &[&redis.port.to_string()]);
    let ready = node.expect("the Node server's ready line", |v| v["ready"] == true);
    let sid = ready["sid"].clone();

    // Its socket is found by id, across the cluster.
    let joined = call(
        &ringcast,
        "POST",
        "/api/v1/rooms/task:5/join",
        json!({"sockets": [sid]}),
    );
    assert_eq!(joined["count"], 1, "{joined}");
    assert_eq!(joined["nodes_answered"], 2, "{joined}");
    let room = call(&ringcast, "GET", "/api/v1/rooms/task:5", Value::Null);
    assert_eq!(
        (&room["sockets"], &room["users"]),
        (&json!(1), &json!([])),
        "{room}"
    );

    // The join happened on the Node node: a broadcast to task:5 reaches its client.
    publish_status(&ringcast, &alert("task:5", "joined"), 200);
    let got = node.expect("the alert to task:5", |v| v["got"] == "system:alert");
    assert_eq!(got["args"][0]["message"], "joined", "{got}");

    // Leave, then a broadcast to task:5 and one to dashboard: only the second arrives.
    let left = call(
        &ringcast,
        "POST",
        "/api/v1/rooms/task:5/leave",
        json!({"sockets": [sid]}),
    );
    assert_eq!(left["count"], 1, "{left}");
    let room = call(&ringcast, "GET", "/api/v1/rooms/task:5", Value::Null);
    assert_eq!(room["sockets"], 0, "{room}");
    publish_status(&ringcast, &alert("task:5", "after leave"), 200);
    publish_status(&ringcast, &alert("dashboard", "marker"), 200);
    let got = node.expect("the next alert", |v| v["got"] == "system:alert");
    assert_eq!(got["args"][0]["message"], "marker", "{got}");

    // Disconnect: the Node client is told "io server disconnect".
    let kicked = call(
        &ringcast,
        "POST",
        "/api/v1/disconnect",
        json!({"sockets": [sid], "reason": "bye"}),
    );
    assert_eq!(kicked["count"], 1, "{kicked}");
    let gone = node.expect("the client's disconnect", |v| v["disconnect"].is_string());
    assert_eq!(gone["disconnect"], "io server disconnect", "{gone}");
}
