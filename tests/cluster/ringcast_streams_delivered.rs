//! Streams mode's publish answer: `delivered` is the number of sockets the event reached on
//! the node that was asked (as in classic mode), counted by its cores once the event came back
//! from XADD with its offset, not a placeholder. Two ringcast nodes on one redis-server: two
//! sockets in the room on node A, one on node B.

use serde_json::json;

use ringcast_test_support::recovery::numbered;
use ringcast_test_support::{Client, Lang, RedisServer, unique};

use crate::ringcast::{publish_status, socket_in};
use crate::ringcast_streams_recovery::streams_node;

#[test]
fn delivered_counts_the_sockets_reached_on_the_node_asked() {
    let redis = RedisServer::start();
    let a = streams_node(&redis);
    let b = streams_node(&redis);
    let room = format!("task:{}", unique("delivered"));
    let nobody = format!("task:{}", unique("nobody"));
    let mut on_a = Client::spawn(Lang::Js, &a);
    socket_in(&mut on_a, &a, "s1", &[&room]);
    socket_in(&mut on_a, &a, "s2", &[&room]);
    let mut on_b = Client::spawn(Lang::Js, &b);
    socket_in(&mut on_b, &b, "s1", &[&room]);

    // (node asked, its name, room, delivered there)
    let rows = [
        (&a, "A", &room, 2u64),
        (&b, "B", &room, 1),
        (&a, "A", &nobody, 0),
    ];
    for (n, (node, name, target, want)) in rows.into_iter().enumerate() {
        let body = json!({"event": "task:updated", "rooms": [target],
                          "data": {"task_id": target, "update": {"n": n}}});
        let answer = publish_status(node, &body, 200);
        assert_eq!(
            answer["delivered"].as_u64(),
            Some(want),
            "published through {name} to {target}: {answer}\n{}",
            node.context()
        );
    }
    // Every socket of the room got both events (the count is not instead of the delivery).
    for sock in ["s1", "s2"] {
        assert_eq!(numbers(&mut on_a, sock, 2), [0, 1], "{sock} on A");
    }
    assert_eq!(numbers(&mut on_b, "s1", 2), [0, 1], "s1 on B");
}

/// The numbers of the next `count` `task:updated` events on `sock`.
fn numbers(client: &mut Client, sock: &str, count: usize) -> Vec<u64> {
    (0..count)
        .map(|_| {
            let args = client.expect_event(sock, "task:updated");
            numbered(client, &args).0
        })
        .collect()
}
