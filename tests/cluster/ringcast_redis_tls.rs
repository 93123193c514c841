//! Two real ringcast nodes clustering over `rediss://`: redis-server listens on a TLS port only
//! (`--port 0`), with a server certificate from a CA generated for the test, and each node
//! trusts that CA through `--redis-tls-ca`. A publish through B's HTTP API reaches a stock
//! client on A, so every byte between the nodes crossed TLS.

use serde_json::json;

use ringcast_test_support::{Client, Lang, RedisServer, TestPki, unique};

use crate::ringcast::{node_with, publish_status, socket_in, wait_ready};

#[test]
fn nodes_trusting_a_private_ca_cluster_over_tls() {
    let pki = TestPki::generate("private");
    let redis = RedisServer::start_tls(&pki);
    let url = redis.url();
    assert!(url.starts_with("rediss://"), "{url}");
    let ca = pki.ca.display().to_string();
    let args = ["--redis-url", url.as_str(), "--redis-tls-ca", ca.as_str()];
    let a = node_with(&args);
    let b = node_with(&args);
    wait_ready(&a);
    wait_ready(&b);

    let task = unique("t");
    let mut client = Client::spawn(Lang::Js, &a);
    socket_in(&mut client, &a, "s", &[&format!("task:{task}")]);

    let update = json!({"task_id": task, "update": {"progress": 75}, "timestamp": "2026-11-26T00:00:00.000Z"});
    let answer = publish_status(&b, &json!({"event": "task:updated", "data": update}), 200);
    assert_eq!(answer["delivered"], 0, "B has no local sockets: {answer}");
    assert_eq!(client.expect_event("s", "task:updated"), [update]);
}
