//! A node that trusts the wrong CA (`--redis-tls-ca` names a different self-signed CA than the
//! one that signed redis-server's certificate): every TLS handshake fails, the node logs why
//! and keeps retrying, stays up (`/healthz`), reports `unavailable` (503) on `/readyz`, serves its own
//! clients, and receives nothing from a node whose CA is right.

use serde_json::json;

use ringcast_test_support::{Client, Lang, RedisServer, TestPki, unique, wait_until};

use crate::ringcast::{
    events_until_marker, marker, node_with, publish_status, readiness, socket_in, wait_ready,
};

/// Given, so the API forwards the data unchanged (it adds one only when absent).
const TS: &str = "2026-11-26T00:00:00.000Z";

/// What the bridge logs for each failed attempt, and rustls' reason for this one.
const FAILED_ATTEMPT: &str = "cannot connect to redis; retrying";
const UNKNOWN_CA: &str = "UnknownIssuer";

#[test]
fn a_node_with_the_wrong_ca_stays_up_degraded_and_local() {
    let pki = TestPki::generate("server");
    let stranger = TestPki::generate("stranger");
    let redis = RedisServer::start_tls(&pki);
    let url = redis.url();
    let (right, wrong) = (
        pki.ca.display().to_string(),
        stranger.ca.display().to_string(),
    );
    let a = node_with(&["--redis-url", &url, "--redis-tls-ca", &wrong]);
    let b = node_with(&["--redis-url", &url, "--redis-tls-ca", &right]);
    wait_ready(&b);

    // Two failed handshakes logged: the first attempt and at least one retry after backoff.
    let failures = || {
        a.log_text()
            .lines()
            .filter(|l| l.contains(FAILED_ATTEMPT) && l.contains(UNKNOWN_CA))
            .count()
    };
    wait_until(
        "two failed TLS handshakes in A's log",
        || failures() >= 2,
        || a.context(),
    );
    assert_eq!(readiness(&a), "unavailable", "{}", a.context());
    let resp = a.get("/healthz");
    let (status, body) = (resp.status, resp.body);
    assert_eq!(status, 200, "{body}\n{}", a.context());

    let (task, end) = (unique("t"), unique("end"));
    let mut client = Client::spawn(Lang::Js, &a);
    socket_in(
        &mut client,
        &a,
        "s",
        &[&format!("task:{task}"), &format!("conversation:{end}")],
    );

    // B reaches Redis but not A: B's own answer is whole (200, nobody local).
    let from_b = json!({"task_id": task, "update": {"from": "b"}, "timestamp": TS});
    let answer = publish_status(&b, &json!({"event": "task:updated", "data": from_b}), 200);
    assert_eq!(answer["delivered"], 0, "{answer}");

    // A delivers its own publishes locally and says (503) the other nodes were not reached.
    let from_a = json!({"task_id": task, "update": {"from": "a"}, "timestamp": TS});
    let answer = publish_status(&a, &json!({"event": "task:updated", "data": from_a}), 503);
    assert_eq!(answer["delivered"], 1, "{answer}");
    let answer = publish_status(&a, &marker(&end), 503);
    assert_eq!(answer["delivered"], 1, "{answer}");

    let got = events_until_marker(&mut client, "s");
    let updates: Vec<_> = got
        .iter()
        .filter(|(event, _)| event == "task:updated")
        .map(|(_, args)| args.clone())
        .collect();
    assert_eq!(
        updates,
        [vec![from_a]],
        "only A's own update: {got:?}\n{}",
        a.context()
    );

    assert_eq!(readiness(&a), "unavailable", "{}", a.context());
    let text = a.log_text();
    assert!(!text.contains("panicked"), "{}", a.context());
}
