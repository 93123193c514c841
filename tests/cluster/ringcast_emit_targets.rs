//! Emit targets across nodes: a publish through B's HTTP API with `users`, `sockets` and the
//! `except_*` lists reaches exactly the right sockets on A, once, in every cluster mode
//! (classic PUBLISH, sharded SPUBLISH, streams XADD): the targets travel as the adapter's
//! `opts.rooms` / `opts.except` room lists.

use serde_json::{Value, json};

use ringcast_test_support::{Client, Connect, Lang, RedisServer, Server, token, unique};

use crate::ringcast::{
    events_until_marker, marker, node_with, publish_status, ready_node, ready_sharded_node,
    wait_ready,
};

fn streams_node(redis: &RedisServer) -> Server {
    let url = format!("redis://127.0.0.1:{}/", redis.port);
    let node = node_with(&["--redis-url", &url, "--cluster-mode", "streams"]);
    wait_ready(&node);
    node
}

#[test]
fn emit_targets_from_b_reach_exactly_their_sockets_on_a() {
    for mode in ["classic", "sharded", "streams"] {
        let redis = RedisServer::start();
        let start = || match mode {
            "sharded" => ready_sharded_node(redis.port, "dynamic"),
            "streams" => streams_node(&redis),
            _ => ready_node(redis.port),
        };
        let a = start();
        let b = start();
        let (task, end) = (format!("task:{}", unique("t")), unique("end"));
        let end_room = format!("conversation:{end}");

        // socket, user, rooms (every socket also stays in dashboard)
        let sockets: [(&str, &str, Vec<&str>); 3] = [
            ("alice1", "alice", vec![&end_room]),
            ("alice2", "alice", vec![&end_room]),
            ("bob", "bob", vec![&task, &end_room]),
        ];
        let mut client = Client::spawn(Lang::Js, &a);
        let mut sid = std::collections::HashMap::new();
        for (sock, user, rooms) in &sockets {
            let how = Connect::to(&a).token(Some(token::valid(user)));
            let line = client.connected(sock, &how);
            sid.insert(*sock, line["id"].as_str().unwrap_or_default().to_owned());
            for room in rooms {
                client.subscribe(sock, room);
            }
        }

        // case, its targets, the sockets on A it must reach
        let cases: Vec<(&str, Value, Vec<&str>)> = vec![
            (
                "users",
                json!({"users": ["alice"]}),
                vec!["alice1", "alice2"],
            ),
            (
                "sockets",
                json!({"sockets": [sid["alice2"]]}),
                vec!["alice2"],
            ),
            (
                "except_rooms",
                json!({"rooms": ["dashboard"], "except_rooms": [task]}),
                vec!["alice1", "alice2"],
            ),
            (
                "except_users",
                json!({"rooms": ["dashboard"], "except_users": ["alice"]}),
                vec!["bob"],
            ),
            (
                "except_sockets",
                json!({"users": ["alice", "bob"], "except_sockets": [sid["alice1"]]}),
                vec!["alice2", "bob"],
            ),
        ];
        for (case, targets, _) in &cases {
            let mut body =
                json!({"event": "system:alert", "data": {"message": case, "severity": "info"}});
            for (k, v) in targets.as_object().into_iter().flatten() {
                body[k] = v.clone();
            }
            let answer = publish_status(&b, &body, 200);
            assert_eq!(
                answer["delivered"], 0,
                "{mode} {case}: B has no sockets: {answer}"
            );
        }
        // Published after the cases by the same node: once it arrives, they have too.
        publish_status(&b, &marker(&end), 200);

        for (sock, _, _) in &sockets {
            let got = events_until_marker(&mut client, sock);
            let messages: Vec<&str> = got
                .iter()
                .filter(|(e, _)| e == "system:alert")
                .map(|(_, args)| args[0]["message"].as_str().unwrap_or_default())
                .collect();
            let want: Vec<&str> = cases
                .iter()
                .filter(|(_, _, to)| to.contains(sock))
                .map(|(case, _, _)| *case)
                .collect();
            assert_eq!(
                messages,
                want,
                "{mode}: {sock} received {got:?}\n{}",
                a.context()
            );
            assert_eq!(got.len(), want.len() + 1, "{mode}: {sock} received {got:?}");
        }
    }
}
