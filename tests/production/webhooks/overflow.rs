//! A receiver that never answers fills the bounded queue: further events are dropped, counted
//! in /metrics and logged, and the clients are served all along.

use serde_json::json;

use ringcast_test_support::{Answer, Metrics, WebhookSink, unique, wait_until};

use super::{HOOK_SECRET, clients, connect, gateway_to};

#[test]
fn a_full_queue_drops_and_counts_events_without_blocking_clients() {
    let sink = WebhookSink::start(HOOK_SECRET, Answer::Hang);
    // One event per batch and a queue of 2: the first batch hangs in flight (a minute's
    // timeout), two events wait, and every further one is dropped.
    let server = gateway_to(
        &sink,
        &[
            "--webhook-batch-ms",
            "0",
            "--webhook-batch-max",
            "1",
            "--webhook-queue",
            "2",
            "--webhook-timeout-ms",
            "60000",
        ],
    );
    let mut c = clients(&server);
    connect(&mut c, &server, "a", &unique("overflow-user"));
    sink.wait_requests(1);
    // 10 subscribes: each answered (the worker never waits), each a webhook event.
    for i in 0..10 {
        let room = format!("task:overflow-{i}");
        c.send(
            &json!({"cmd": "emit", "sock": "a", "event": "subscribe", "args": [{"room": room}]}),
        );
        c.expect("subscribed", |v| {
            v["event"] == "subscribed" && v["args"][0]["room"] == room.as_str()
        });
    }
    let m = Metrics::scrape(&server);
    // 10 subscribes after the connect took the sender: 2 queued, 8 dropped.
    assert_eq!(m.value("ringcast_webhook_events_dropped_total"), Some(8.0));
    assert_eq!(m.value("ringcast_webhook_events_sent_total"), Some(0.0));
    let log = || server.log_text();
    wait_until(
        "the drop WARN",
        || log().contains("webhook queue full"),
        log,
    );
}
