//! A mixed sharded cluster: a Node socket.io 4.8 server on `@socket.io/redis-adapter` 8.3's
//! `createShardedAdapter` (dynamic mode) and a real ringcast node in sharded mode on one
//! redis-server. Broadcasts cross both ways, Node's `serverCount()` counts both nodes and its
//! `fetchSockets()` sees ringcast's sockets.

use serde_json::{Value, json};

use ringcast_test_support::{Client, Lang, Proc, RedisServer, redis_js, unique};

use crate::ringcast::{
    events_until_marker, publish_status, ready_sharded_node, socket_in, wait_shard_channels,
};

#[test]
fn sharded_node_adapter_server_and_ringcast_share_broadcasts_and_sockets() {
    let redis = RedisServer::start();
    let ringcast = ready_sharded_node(redis.port, "dynamic");
    let port = redis.port.to_string();
    let mut node = Proc::node(
        &redis_js(),
        "node-server.js",
        &[&port, "sharded", "dynamic"],
    );
    node.expect("the Node server's ready line", |v| v["ready"] == true);

    let end = unique("end");
    let end_room = format!("conversation:{end}");
    let mut client = Client::spawn(Lang::Js, &ringcast);
    let agent_id = socket_in(&mut client, &ringcast, "agent", &["agent:7", &end_room]);
    socket_in(&mut client, &ringcast, "outsider", &[&end_room]);
    // Node publishes a one-room broadcast on that room's channel only: ringcast must hold it.
    let end_channel = format!("socket.io#/#{end_room}#");
    wait_shard_channels(&redis, &["socket.io#/#agent:7#", &end_channel], true);

    // Node → ringcast: io.to("agent:7").emit(…), then a marker to the room both sockets are in.
    let status = json!({"agent_id": "7", "old_status": "idle", "new_status": "busy"});
    node.write_line(&json!({"op": "emit", "room": "agent:7", "event": "agent:status_changed", "args": [status]}).to_string());
    let message = json!({"conversation_id": end, "message": {"text": "end"}});
    node.write_line(&json!({"op": "emit", "room": end_room, "event": "conversation:message", "args": [message]}).to_string());
    // socket, the events it must receive up to and including the marker
    let cases: [(&str, &[&str]); 2] = [
        ("agent", &["agent:status_changed", "conversation:message"]),
        ("outsider", &["conversation:message"]),
    ];
    for (sock, want) in cases {
        let got = events_until_marker(&mut client, sock);
        let names: Vec<&str> = got.iter().map(|(e, _)| e.as_str()).collect();
        assert_eq!(
            names,
            want,
            "{sock} received {got:?}\n{}",
            ringcast.context()
        );
        if sock == "agent" {
            assert_eq!(got[0].1, vec![status.clone()], "{got:?}");
        }
    }

    // ringcast → Node: system:alert goes to `dashboard` (its channel: the Node server's client
    // is there), answered with Redis' count of receivers.
    let alert = json!({"message": "from ringcast", "severity": "info"});
    let answer = publish_status(
        &ringcast,
        &json!({"event": "system:alert", "data": alert}),
        200,
    );
    assert_eq!(answer["receivers"], json!([1]), "{answer}");
    let got = node.expect("system:alert on the Node server's client", |v| {
        v["got"] == "system:alert"
    });
    assert_eq!(got["args"][0]["message"], "from ringcast", "{got}");
    assert_eq!(got["args"][0]["severity"], "info", "{got}");

    // Node's serverCount (PUBSUB SHARDNUMSUB) counts ringcast.
    node.write_line(r#"{"op":"serverCount"}"#);
    let count = node.expect("serverCount's result", |v| v["op"] == "serverCount");
    assert_eq!(count["result"], 2, "{count}");

    // Node's io.fetchSockets() includes ringcast's sockets, with their rooms.
    node.write_line(r#"{"op":"fetch"}"#);
    let fetched = node.expect("fetchSockets' result", |v| v["op"] == "fetch");
    let sockets = fetched["result"].as_array().cloned().unwrap_or_default();
    let ours: Vec<&Value> = sockets
        .iter()
        .filter(|s| s["id"] == agent_id.as_str())
        .collect();
    assert_eq!(ours.len(), 1, "ringcast socket {agent_id} in {fetched}");
    let rooms = ours[0]["rooms"].as_array().cloned().unwrap_or_default();
    assert!(rooms.contains(&json!("agent:7")), "{fetched}");
    // Node's own client plus ringcast's two sockets.
    assert_eq!(sockets.len(), 3, "{fetched}");
}
