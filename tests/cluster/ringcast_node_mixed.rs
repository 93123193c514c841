//! A mixed cluster: a Node socket.io 4.8 server on `@socket.io/redis-adapter` 8 and a real
//! ringcast node on one redis-server. Broadcasts cross both ways, and the Node server's
//! cluster-wide queries (`fetchSockets`, `allRooms`) see ringcast's sockets.

use serde_json::{Value, json};

use ringcast_test_support::{Client, Lang, Proc, RedisServer, redis_js, unique};

use crate::ringcast::{events_until_marker, publish_status, ready_node, socket_in};

#[test]
fn node_adapter_server_and_ringcast_share_broadcasts_and_sockets() {
    let redis = RedisServer::start();
    let ringcast = ready_node(redis.port);
    let mut node = Proc::node(&redis_js(), "node-server.js", &[&redis.port.to_string()]);
    node.expect("the Node server's ready line", |v| v["ready"] == true);

    let end = unique("end");
    let end_room = format!("conversation:{end}");
    let mut client = Client::spawn(Lang::Js, &ringcast);
    let agent_id = socket_in(&mut client, &ringcast, "agent", &["agent:7", &end_room]);
    socket_in(&mut client, &ringcast, "outsider", &[&end_room]);

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
        assert_eq!(names, want, "{sock} received {got:?}");
    }

    // ringcast → Node: system:alert goes to `dashboard`, which the Node server's client joined.
    let alert = json!({"message": "from ringcast", "severity": "info"});
    publish_status(
        &ringcast,
        &json!({"event": "system:alert", "data": alert}),
        200,
    );
    let got = node.expect("system:alert on the Node server's client", |v| {
        v["got"] == "system:alert"
    });
    assert_eq!(got["args"][0]["message"], "from ringcast", "{got}");
    assert_eq!(got["args"][0]["severity"], "info", "{got}");

    // Node's io.fetchSockets() and allRooms() include ringcast's socket and rooms.
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
    assert!(rooms.contains(&json!(end_room)), "{fetched}");
    // Node's own client plus ringcast's two sockets.
    assert_eq!(sockets.len(), 3, "{fetched}");

    node.write_line(r#"{"op":"allRooms"}"#);
    let all = node.expect("allRooms' result", |v| v["op"] == "allRooms");
    let all_rooms = all["result"].as_array().cloned().unwrap_or_default();
    for room in ["agent:7", end_room.as_str(), "dashboard"] {
        assert!(
            all_rooms.contains(&json!(room)),
            "{room} missing from {all}"
        );
    }
}
