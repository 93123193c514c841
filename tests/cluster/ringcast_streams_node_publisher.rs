//! A Node publisher in a streams cluster: `io.to(room).emit(…)` on a Node socket.io 4.8 server
//! on `@socket.io/redis-streams-adapter` 0.3.1 (`tests/clients/js-redis/node-streams-server.js`)
//! is an entry the adapter XADDs (JSON `data`, or base64 msgpack when an argument is binary),
//! which a ringcast node in streams mode reads and delivers to its own clients in the room: with
//! recovery on, with the entry id as the last argument (the offset), as the Node server's own
//! clients get it.

use serde_json::{Value, json};

use ringcast_test_support::{Client, Lang, RedisServer, unique};

use crate::ringcast::{node_with, socket_in, wait_ready};
use crate::ringcast_streams_node_mixed::node_streams_server;

/// A stream entry id, `<ms>-<seq>`.
fn is_entry_id(v: &Value) -> bool {
    v.as_str()
        .and_then(|s| s.split_once('-'))
        .is_some_and(|(ms, seq)| {
            !ms.is_empty()
                && !seq.is_empty()
                && ms.bytes().chain(seq.bytes()).all(|b| b.is_ascii_digit())
        })
}

#[test]
fn a_node_servers_broadcasts_reach_ringcast_clients_in_streams_mode() {
    // (case, ringcast's --recovery)
    for (case, recovery) in [("recovery on", "true"), ("recovery off", "false")] {
        let redis = RedisServer::start();
        let url = format!("redis://127.0.0.1:{}/", redis.port);
        let ringcast = node_with(&[
            "--redis-url",
            &url,
            "--cluster-mode",
            "streams",
            "--recovery",
            recovery,
        ]);
        wait_ready(&ringcast);
        let (mut node, _) = node_streams_server(&redis, &[]);
        let room = format!("task:{}", unique("node-publisher"));
        let mut client = Client::spawn(Lang::Js, &ringcast);
        socket_in(&mut client, &ringcast, "s", &[&room]);

        // (what the Node server emits, the arguments before the offset on ringcast's client)
        let data = |n: u64| json!({"task_id": room, "update": {"n": n}});
        let emits = [
            (json!({"args": [data(1)]}), vec![data(1)]),
            (
                json!({"args": [data(2)], "binary": [1, 2, 3]}),
                vec![data(2), json!({"$bin": "AQID"})],
            ),
        ];
        for (emit, want) in emits {
            let mut cmd = json!({"op": "emit", "room": room, "event": "task:updated"});
            if let (Some(cmd), Some(emit)) = (cmd.as_object_mut(), emit.as_object()) {
                cmd.extend(emit.clone());
            }
            node.send(&cmd);
            let done = node.expect("the Node server's emit", |v| v["op"] == "emit");
            assert!(done.get("error").is_none(), "{case}: {done}");

            let mut got = client.expect_event("s", "task:updated");
            if recovery == "true" {
                let offset = got.pop().unwrap_or_default();
                assert!(is_entry_id(&offset), "{case}: offset {offset} in {got:?}");
            }
            assert_eq!(got, want, "{case}: {emit}");
        }
    }
}
