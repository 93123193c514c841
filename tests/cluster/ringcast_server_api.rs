//! The server API across two ringcast nodes on one redis-server: room and user lookups see
//! both nodes' sockets (`nodes_answered: 2`), and join, leave, disconnect and revoke sent to
//! one node reach the sockets of the other, whose clients are told as if they had asked; in the
//! classic (pub/sub) and the streams cluster modes.

use serde_json::{Value, json};

use ringcast_test_support::{Client, Connect, Lang, RedisServer, Server, token};

use crate::ringcast::ready_node;
use crate::ringcast_streams_recovery::streams_node;

fn call(server: &Server, method: &str, path: &str, body: Option<Value>) -> Value {
    server.api_ok(method, path, body.as_ref())
}

#[test]
fn server_api_reaches_both_nodes() {
    // Classic PUBLISH and streams (XADD, recovery on): the requests and commands travel the
    // same way in both (the adapter's request channel).
    for mode in ["classic", "streams"] {
        reaches_both_nodes(mode);
    }
}

fn reaches_both_nodes(mode: &str) {
    let redis = RedisServer::start();
    let start = || match mode {
        "streams" => streams_node(&redis),
        _ => ready_node(redis.port),
    };
    let (a, b) = (start(), start());
    let mut on_a = Client::spawn(Lang::Js, &a);
    let mut on_b = Client::spawn(Lang::Py, &b);
    let as_user = |server: &Server, sub: &str| Connect::to(server).token(Some(token::valid(sub)));
    let a1 = on_a.connected("a1", &as_user(&a, "alice"))["id"].clone();
    let a2 = on_b.connected("a2", &as_user(&b, "alice"))["id"].clone();
    let bob = on_b.connected("bob", &as_user(&b, "bob"))["id"].clone();
    on_a.subscribe("a1", "task:1");
    on_b.subscribe("bob", "task:1");

    // Lookups through A see B's sockets.
    let room = call(&a, "GET", "/api/v1/rooms/task:1", None);
    assert_eq!(
        (&room["sockets"], &room["users"]),
        (&json!(2), &json!(["alice", "bob"])),
        "{mode}: {room}"
    );
    assert_eq!(
        (&room["nodes_answered"], &room["complete"]),
        (&json!(2), &json!(true)),
        "{mode}: {room}"
    );
    let user = call(&a, "GET", "/api/v1/users/alice", None);
    let sockets = user["sockets"].as_array().cloned().unwrap_or_default();
    let node_of = |id: &Value| {
        sockets
            .iter()
            .find(|s| &s["id"] == id)
            .map(|s| s["node"].clone())
    };
    assert_eq!(node_of(&a1), Some(json!("local")), "{mode}: {user}");
    let remote = node_of(&a2).unwrap_or_else(|| panic!("B's socket missing: {user}"));
    assert!(
        remote.as_str().is_some_and(|n| n.len() == 6),
        "B's cluster uid: {user}"
    );

    // Join by user through A: alice's sockets on both nodes; leave by id through B.
    let joined = call(
        &a,
        "POST",
        "/api/v1/rooms/task:2/join",
        Some(json!({"users": ["alice"]})),
    );
    assert_eq!(
        (&joined["count"], &joined["nodes_answered"]),
        (&json!(2), &json!(2)),
        "{mode}: {joined}"
    );
    assert_eq!(
        on_a.expect_event("a1", "subscribed"),
        [json!({"room": "task:2"})]
    );
    assert_eq!(
        on_b.expect_event("a2", "subscribed"),
        [json!({"room": "task:2"})]
    );
    let left = call(
        &b,
        "POST",
        "/api/v1/rooms/task:2/leave",
        Some(json!({"sockets": [a1]})),
    );
    assert_eq!(left["count"], 1, "{mode}: {left}");
    assert_eq!(
        on_a.expect_event("a1", "unsubscribed"),
        [json!({"room": "task:2"})]
    );

    // Disconnect B's bob through A.
    let kicked = call(
        &a,
        "POST",
        "/api/v1/disconnect",
        Some(json!({"sockets": [bob]})),
    );
    assert_eq!(kicked["count"], 1, "{mode}: {kicked}");
    on_b.expect("bob disconnected", |v| {
        v["type"] == "disconnect" && v["sock"] == "bob"
    });

    // Revoke alice through A: both her sockets go, and B refuses her tokens too.
    let until = token::now_secs() + 3600;
    let revoked = call(
        &a,
        "POST",
        "/api/v1/revoke",
        Some(json!({"sub": "alice", "until": until})),
    );
    assert_eq!(revoked["count"], 2, "{mode}: {revoked}");
    let line = on_a.expect("a1 disconnected", |v| {
        v["type"] == "disconnect" && v["sock"] == "a1"
    });
    assert_eq!(line["reason"], "io server disconnect", "{mode}: {line}");
    on_b.expect("a2 disconnected", |v| {
        v["type"] == "disconnect" && v["sock"] == "a2"
    });
    assert_eq!(on_b.refused("a3", &as_user(&b, "alice")), "token revoked");
    on_b.connected("bob2", &as_user(&b, "bob"));
}
