//! Emit targets in a mixed cluster: a publish through ringcast's HTTP API with `sockets`,
//! `except_sockets` and `except_users` is honoured by a Node socket.io 4.8 server on
//! `@socket.io/redis-adapter` 8, since the targets travel as the adapter's own `opts.rooms` /
//! `opts.except` lists (a socket id is a room there).

use serde_json::json;

use ringcast_test_support::{Client, Connect, Lang, Proc, RedisServer, redis_js, token};

use crate::ringcast::{publish_status, ready_node};

#[test]
fn node_adapter_server_honours_ringcast_emit_targets() {
    let redis = RedisServer::start();
    let ringcast = ready_node(redis.port);
    let mut node = Proc::node(&redis_js(), "node-server.js", &[&redis.port.to_string()]);
    node.expect("the Node server's ready line", |v| v["ready"] == true);

    let mut client = Client::spawn(Lang::Js, &ringcast);
    let how = Connect::to(&ringcast).token(Some(token::valid("alice")));
    let alice = client.connected("alice", &how)["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    // The Node server's own client: the socket fetchSockets lists besides ringcast's.
    node.write_line(r#"{"op":"fetch"}"#);
    let fetched = node.expect("fetchSockets' result", |v| v["op"] == "fetch");
    let ids: Vec<String> = fetched["result"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["id"].as_str().map(str::to_owned))
        .filter(|id| *id != alice)
        .collect();
    assert_eq!(ids.len(), 1, "one Node client besides {alice}: {fetched}");
    let theirs = &ids[0];

    // message, targets, whether the Node client gets it, whether alice does
    let cases = [
        (
            "one",
            json!({"rooms": ["dashboard"], "except_sockets": [theirs]}),
            false,
            true,
        ),
        (
            "two",
            json!({"rooms": ["dashboard"], "except_users": ["alice"]}),
            true,
            false,
        ),
        ("three", json!({"sockets": [theirs]}), true, false),
        ("four", json!({"rooms": ["dashboard"]}), true, true),
    ];
    for (message, targets, _, _) in &cases {
        let mut body =
            json!({"event": "system:alert", "data": {"message": message, "severity": "info"}});
        for (k, v) in targets.as_object().into_iter().flatten() {
            body[k] = v.clone();
        }
        publish_status(&ringcast, &body, 200);
    }
    // Published in order through one node and one channel: each side gets its cases in order,
    // "four" (to everyone) last.
    let node_want: Vec<&str> = cases.iter().filter(|c| c.2).map(|c| c.0).collect();
    let node_got: Vec<String> = node_want
        .iter()
        .map(|_| {
            let line = node.expect("system:alert on the Node server's client", |v| {
                v["got"] == "system:alert"
            });
            line["args"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(node_got, node_want, "the Node client's alerts");
    let alice_want: Vec<&str> = cases.iter().filter(|c| c.3).map(|c| c.0).collect();
    let alice_got: Vec<String> = alice_want
        .iter()
        .map(|_| {
            let args = client.expect_event("alice", "system:alert");
            args[0]["message"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    assert_eq!(alice_got, alice_want, "alice's alerts");
}
