//! `@socket.io/redis-emitter` → a real ringcast node: a room broadcast reaches the room's
//! stock client (and no other), and `socketsJoin` makes ringcast's sockets join a room.

use serde_json::json;

use ringcast_test_support::{Client, Lang, Proc, RedisServer, redis_js, unique};

use crate::ringcast::{events_until_marker, ready_node, socket_in};

#[test]
fn emitter_room_broadcast_and_sockets_join_reach_ringcast_clients() {
    let redis = RedisServer::start();
    let ringcast = ready_node(redis.port);
    let mut emitter = Proc::node(&redis_js(), "emitter-steps.js", &[&redis.port.to_string()]);
    emitter.expect("the emitter's ready line", |v| v["ready"] == true);

    let (end, task) = (unique("end"), unique("t"));
    let (end_room, task_room) = (format!("conversation:{end}"), format!("task:{task}"));
    let mut client = Client::spawn(Lang::Js, &ringcast);
    socket_in(&mut client, &ringcast, "agent", &["agent:7", &end_room]);
    socket_in(&mut client, &ringcast, "watcher", &["dashboard", &end_room]);
    socket_in(&mut client, &ringcast, "outsider", &[&end_room]);

    let status = json!({"agent_id": "7", "old_status": "idle", "new_status": "busy"});
    emitter.write_line(&json!({"op": "emit", "to": ["agent:7"], "event": "agent:status_changed", "args": [status]}).to_string());
    let message = json!({"conversation_id": end, "message": {"text": "end"}});
    emitter.write_line(&json!({"op": "emit", "to": [end_room], "event": "conversation:message", "args": [message]}).to_string());
    // socket, the events it must receive up to and including the marker
    let cases: [(&str, &[&str]); 3] = [
        ("agent", &["agent:status_changed", "conversation:message"]),
        ("watcher", &["conversation:message"]),
        ("outsider", &["conversation:message"]),
    ];
    for (sock, want) in cases {
        let got = events_until_marker(&mut client, sock);
        let names: Vec<&str> = got.iter().map(|(e, _)| e.as_str()).collect();
        assert_eq!(names, want, "{sock} received {got:?}");
        if sock == "agent" {
            assert_eq!(got[0].1, std::slice::from_ref(&status), "{got:?}");
        }
    }

    // emitter.in("dashboard").socketsJoin(task room): only the dashboard socket joins.
    emitter.write_line(
        &json!({"op": "socketsJoin", "in": ["dashboard"], "join": [task_room]}).to_string(),
    );
    emitter.expect("socketsJoin published", |v| {
        v["op"] == "socketsJoin" && v["done"] == true
    });
    // The join is applied asynchronously: publish to the task room alone until it reaches one
    // socket (earlier attempts reach none, so exactly one delivery happens).
    let update = json!({"task_id": task, "update": {"progress": 1}});
    ringcast.publish_until_delivered(
        &json!({"event": "task:updated", "rooms": [task_room], "data": update}),
        1,
    );
    let got = client.expect_event("watcher", "task:updated");
    assert_eq!(got[0]["task_id"], json!(task), "{got:?}");

    // Now that ringcast's directory has the room, the emitter's broadcast to it gets through too.
    let again = json!({"task_id": task, "update": {"progress": 2}});
    emitter.write_line(
        &json!({"op": "emit", "to": [task_room], "event": "task:updated", "args": [again]})
            .to_string(),
    );
    emitter.write_line(&json!({"op": "emit", "to": [end_room], "event": "conversation:message", "args": [message]}).to_string());
    let cases: [(&str, &[&str]); 3] = [
        ("agent", &["conversation:message"]),
        ("watcher", &["task:updated", "conversation:message"]),
        ("outsider", &["conversation:message"]),
    ];
    for (sock, want) in cases {
        let got = events_until_marker(&mut client, sock);
        let names: Vec<&str> = got.iter().map(|(e, _)| e.as_str()).collect();
        assert_eq!(names, want, "{sock} received {got:?}");
        if sock == "watcher" {
            assert_eq!(got[0].1, std::slice::from_ref(&again), "{got:?}");
        }
    }
}
