//! python-socketio `AsyncRedisManager(write_only=True).emit(…)` → a real ringcast node: `room`
//! as a string, as a list, and absent each reach exactly the right stock clients, once.

use serde_json::json;

use ringcast_test_support::{Client, Lang, Proc, RedisServer, unique};

use crate::ringcast::{events_until_marker, ready_node, socket_in};

#[test]
fn python_manager_rooms_reach_the_right_ringcast_clients() {
    let redis = RedisServer::start();
    let ringcast = ready_node(redis.port);
    let end = unique("end");
    let end_room = format!("conversation:{end}");

    let mut client = Client::spawn(Lang::Js, &ringcast);
    // socket, its rooms, the events it must receive (the script's order), marker last
    let sockets: [(&str, Vec<&str>, &[&str]); 4] = [
        (
            "task9",
            vec!["task:9", &end_room],
            &["task:updated 9", "system:alert", "end"],
        ),
        (
            "agent3",
            vec!["agent:3", &end_room],
            &["task:updated 10", "system:alert", "end"],
        ),
        // In both listed rooms: still once.
        (
            "both",
            vec!["task:10", "agent:3", &end_room],
            &["task:updated 10", "system:alert", "end"],
        ),
        ("outsider", vec![&end_room], &["system:alert", "end"]),
    ];
    for (sock, rooms, _) in &sockets {
        socket_in(&mut client, &ringcast, sock, rooms);
    }

    Proc::python("redis_manager_rooms.py", &[&redis.port.to_string(), &end]).wait_success();

    for (sock, _, want) in &sockets {
        let got = events_until_marker(&mut client, sock);
        let names: Vec<String> = got
            .iter()
            .map(|(event, args)| match event.as_str() {
                "task:updated" => format!(
                    "task:updated {}",
                    args[0]["task_id"].as_str().unwrap_or("?")
                ),
                "conversation:message" => "end".to_owned(),
                other => other.to_owned(),
            })
            .collect();
        assert_eq!(
            names,
            *want,
            "{sock} received {got:?}\n{}",
            ringcast.context()
        );
        // One argument each, the dict as published.
        assert!(
            got.iter().all(|(_, args)| args.len() == 1),
            "{sock}: {got:?}"
        );
        if let Some((_, args)) = got.iter().find(|(e, _)| e == "system:alert") {
            assert_eq!(
                args[0],
                json!({"message": "all", "severity": "info"}),
                "{sock}"
            );
        }
    }
}
