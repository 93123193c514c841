//! Redis down when a real ringcast node starts: the node serves its own clients (`/readyz`
//! `unavailable`, HTTP 503, HTTP publish answers 503 yet delivers locally); once redis-server comes up on
//! that port the bridge connects by itself (`ready`) and cross-node delivery works.

use serde_json::json;

use ringcast_test_support::{Client, Lang, RedisServer, free_port, unique};

use crate::ringcast::{node, publish_status, readiness, ready_node, socket_in, wait_ready};

/// Given, so the API forwards the data unchanged (it adds one only when absent).
const TS: &str = "2026-11-26T00:00:00.000Z";

#[test]
fn node_started_without_redis_serves_locally_then_joins_the_cluster() {
    let port = free_port();
    let a = node(port);
    assert_eq!(readiness(&a), "unavailable", "{}", a.context());

    let task = unique("t");
    let mut client = Client::spawn(Lang::Js, &a);
    socket_in(&mut client, &a, "s", &[&format!("task:{task}")]);

    // Local delivery still happens; the 503 says the other nodes were not reached.
    let first = json!({"task_id": task, "update": {"step": 1}, "timestamp": TS});
    let answer = publish_status(&a, &json!({"event": "task:updated", "data": first}), 503);
    assert_eq!(answer["delivered"], 1, "{answer}");
    assert!(answer["error"].is_string(), "{answer}");
    assert_eq!(client.expect_event("s", "task:updated"), [first]);

    let _redis = RedisServer::start_on(port);
    // The bridge retries with a backoff capped at 3 s; wait_ready's deadline is 30 s.
    wait_ready(&a);
    let b = ready_node(port);

    let second = json!({"task_id": task, "update": {"step": 2}, "timestamp": TS});
    let answer = publish_status(&b, &json!({"event": "task:updated", "data": second}), 200);
    assert_eq!(answer["delivered"], 0, "B has no local sockets: {answer}");
    assert_eq!(client.expect_event("s", "task:updated"), [second]);

    // And A's own publishes are whole again.
    let third = json!({"task_id": task, "update": {"step": 3}, "timestamp": TS});
    let answer = publish_status(&a, &json!({"event": "task:updated", "data": third}), 200);
    assert_eq!(answer["delivered"], 1, "{answer}");
    assert_eq!(client.expect_event("s", "task:updated"), [third]);
}
