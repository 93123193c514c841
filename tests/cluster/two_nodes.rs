//! Two real ringcast nodes on one redis-server: a publish through B's HTTP API reaches the
//! right stock clients on A, exactly once, and no others.

use serde_json::json;

use ringcast_test_support::{Client, Lang, RedisServer, unique};

use crate::ringcast::{events_until_marker, marker, publish_status, ready_node, socket_in};

#[test]
fn publish_on_b_reaches_room_members_on_a_exactly_once() {
    let redis = RedisServer::start();
    let a = ready_node(redis.port);
    let b = ready_node(redis.port);
    let (task, end) = (unique("t"), unique("end"));
    let (task_room, end_room) = (format!("task:{task}"), format!("conversation:{end}"));

    let mut client = Client::spawn(Lang::Js, &a);
    // socket, its rooms, whether `task:updated` (routed to task:{id} and dashboard) reaches it
    let sockets: [(&str, Vec<&str>, bool); 3] = [
        ("task_only", vec![&task_room, &end_room], true),
        (
            "task_and_dashboard",
            vec![&task_room, "dashboard", &end_room],
            true,
        ),
        ("outsider", vec![&end_room], false),
    ];
    for (sock, rooms, _) in &sockets {
        socket_in(&mut client, &a, sock, rooms);
    }

    let update = json!({"task_id": task, "update": {"progress": 50}});
    let answer = publish_status(&b, &json!({"event": "task:updated", "data": update}), 200);
    assert_eq!(answer["delivered"], 0, "B has no local sockets: {answer}");
    // Published after the update by the same node: once it arrives, the update has too.
    publish_status(&b, &marker(&end), 200);

    for (sock, _, reached) in &sockets {
        let got = events_until_marker(&mut client, sock);
        let names: Vec<&str> = got.iter().map(|(e, _)| e.as_str()).collect();
        let want: &[&str] = if *reached {
            &["task:updated", "conversation:message"]
        } else {
            &["conversation:message"]
        };
        assert_eq!(names, want, "{sock} received {got:?}\n{}", b.context());
        if *reached {
            let data = &got[0].1[0];
            assert_eq!(data["task_id"], json!(task), "{sock}: {data}");
            assert_eq!(data["update"], json!({"progress": 50}), "{sock}: {data}");
        }
    }
}
