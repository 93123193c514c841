//! `/metrics` after real traffic from stock clients: the families `src/metrics.rs` documents
//! exist with their types and move by exactly what the traffic implies. `/healthz` and
//! `/readyz` answer JSON.

use std::time::{Duration, Instant};

use serde_json::json;

use ringcast_test_support::{API_KEY, DEADLINE, Metrics, Server, token, unique};

use crate::{gateway, node};

/// Every family `src/metrics.rs` registers, with its OpenMetrics type.
const FAMILIES: &[(&str, &str)] = &[
    ("ringcast_build_info", "gauge"),
    ("ringcast_connections", "gauge"),
    ("ringcast_handshakes", "counter"),
    ("ringcast_upgrades", "counter"),
    ("ringcast_sockets", "gauge"),
    ("ringcast_connects", "counter"),
    ("ringcast_disconnects", "counter"),
    ("ringcast_rooms", "gauge"),
    ("ringcast_room_memberships", "gauge"),
    ("ringcast_connects_refused", "counter"),
    ("ringcast_events_in", "counter"),
    ("ringcast_client_errors", "counter"),
    ("ringcast_frames_out", "counter"),
    ("ringcast_msgpack_broadcast_encodes", "counter"),
    ("ringcast_received_bytes", "counter"),
    ("ringcast_sent_bytes", "counter"),
    ("ringcast_broadcasts", "counter"),
    ("ringcast_broadcast_recipients", "counter"),
    ("ringcast_slow_consumer_disconnects", "counter"),
    ("ringcast_protocol_errors", "counter"),
    ("ringcast_handoffs", "counter"),
    ("ringcast_published_events", "counter"),
    ("ringcast_cluster_publish_failures", "counter"),
    ("ringcast_worker_connections", "gauge"),
    ("ringcast_worker_frames_out", "counter"),
    // Labelled by reason / status: they appear with their first sample.
    ("ringcast_auth_failures", "counter"),
    ("ringcast_protocol_error_closes", "counter"),
    ("ringcast_publish_requests", "counter"),
];

#[test]
fn metrics_families_exist_and_move_with_traffic() {
    let server = gateway().start();
    let before = Metrics::scrape(&server);
    for key in [
        "ringcast_handshakes_total{transport=\"polling\"}",
        "ringcast_handshakes_total{transport=\"websocket\"}",
        "ringcast_events_in_total",
        "ringcast_broadcast_recipients_total",
    ] {
        assert_eq!(before.value(key), Some(0.0), "fresh server: {key}");
    }

    let mut clients = node("clients.js", &[]);
    clients.watch(&server);
    clients.expect("ready", |v| v["type"] == "ready");
    let token = token::valid("metrics-user");
    let connect = |sock: &str, token: &str, transports: serde_json::Value| {
        json!({"cmd": "connect", "sock": sock, "url": server.url(), "path": "/ws/",
               "token": token, "transports": transports})
    };
    clients.send(&connect("ws", &token, json!(["websocket"])));
    clients.send(&connect("poll", &token, json!(["polling"])));
    clients.send(&connect("bad", "not-a-jwt", json!(["polling"])));
    for sock in ["ws", "poll"] {
        clients.expect(&format!("{sock} connect"), |v| {
            v["type"] == "connect" && v["sock"] == sock
        });
    }
    let refused = clients.expect("bad connect_error", |v| {
        v["type"] == "connect_error" && v["sock"] == "bad"
    });
    assert_eq!(refused["message"], "invalid token");

    let task_id = unique("metrics-task-");
    let room = format!("task:{task_id}");
    for sock in ["ws", "poll"] {
        clients.send(
            &json!({"cmd": "emit", "sock": sock, "event": "subscribe", "args": [{"room": room}]}),
        );
        clients.expect(&format!("{sock} subscribed"), |v| {
            v["sock"] == sock && v["event"] == "subscribed"
        });
    }
    clients.send(
        &json!({"cmd": "emit", "sock": "ws", "event": "heartbeat", "args": [{"timestamp": 1}]}),
    );
    clients.expect("heartbeat_ack", |v| v["event"] == "heartbeat_ack");

    let delivered = server.publish_ok(
        &json!({"event": "task:updated", "data": {"task_id": task_id, "update": {"p": 1}}}),
    );
    // task:updated goes to task:<id> and dashboard; each socket is reached once.
    assert_eq!(delivered, 2);
    for sock in ["ws", "poll"] {
        clients.expect(&format!("{sock} task:updated"), |v| {
            v["sock"] == sock && v["event"] == "task:updated"
        });
    }
    assert_eq!(
        server
            .publish_with_key("wrong-key-0123456789", b"{}")
            .status,
        401
    );
    assert_eq!(
        server
            .publish_with_key(API_KEY, b"{\"event\":\"nope\"}")
            .status,
        400
    );

    // The refused socket's polling session closes a moment after its CONNECT_ERROR.
    let m = wait_metrics(&server, "the refused session to close", |m| {
        m.value("ringcast_connections{transport=\"polling\"}") == Some(1.0)
    });
    let expect = [
        ("ringcast_connections{transport=\"websocket\"}", 1.0),
        ("ringcast_connections{transport=\"polling\"}", 1.0),
        ("ringcast_handshakes_total{transport=\"websocket\"}", 1.0),
        ("ringcast_handshakes_total{transport=\"polling\"}", 2.0),
        ("ringcast_sockets", 2.0),
        // task:<id>, dashboard and user:user-1 (both sockets' tokens name the same user)
        ("ringcast_rooms", 3.0),
        ("ringcast_room_memberships", 6.0),
        (
            "ringcast_auth_failures_total{reason=\"invalid token\"}",
            1.0,
        ),
        ("ringcast_connects_refused_total", 1.0),
        // two subscribes and a heartbeat
        ("ringcast_events_in_total", 3.0),
        ("ringcast_client_errors_total", 0.0),
        ("ringcast_broadcast_recipients_total", 2.0),
        ("ringcast_published_events_total", 1.0),
        ("ringcast_publish_requests_total{status=\"200\"}", 1.0),
        ("ringcast_publish_requests_total{status=\"401\"}", 1.0),
        ("ringcast_publish_requests_total{status=\"400\"}", 1.0),
        ("ringcast_upgrades_total", 0.0),
        ("ringcast_protocol_errors_total", 0.0),
    ];
    for (key, want) in expect {
        assert_eq!(m.value(key), Some(want), "{key}\n{}", m.text());
    }
    for (family, kind) in FAMILIES {
        assert_eq!(m.kind(family), Some(*kind), "# TYPE {family}\n{}", m.text());
    }
    // One fan-out per worker holding a recipient: the two sockets sit on one or two workers.
    let broadcasts = m.or_zero("ringcast_broadcasts_total");
    assert!((1.0..=2.0).contains(&broadcasts), "{}", m.text());
    let per_worker = m.or_zero("ringcast_worker_connections{worker=\"0\"}")
        + m.or_zero("ringcast_worker_connections{worker=\"1\"}");
    assert_eq!(per_worker, 2.0, "{}", m.text());
    for key in [
        "ringcast_frames_out_total",
        "ringcast_ws_writes_total",
        "ringcast_sent_bytes_total",
        "ringcast_received_bytes_total",
    ] {
        assert!(
            m.or_zero(key) > before.or_zero(key),
            "{key} did not move\n{}",
            m.text()
        );
    }
}

#[test]
fn health_endpoints_answer_json_and_metrics_can_be_turned_off() {
    let server = gateway().args(["--metrics", "false"]).start();
    for (path, body) in [
        ("/healthz", json!({"status": "ok"})),
        ("/readyz", json!({"status": "ready"})),
    ] {
        let resp = server.get(path);
        assert_eq!(resp.status, 200, "{path}");
        assert_eq!(
            resp.header("content-type"),
            Some("application/json"),
            "{path}"
        );
        assert_eq!(resp.try_json(), Some(body), "{path}: {:?}", resp.body);
    }
    assert_eq!(server.get("/metrics").status, 404, "--metrics false");
}

/// Scrapes until `pred` holds (gauges settle a moment after the clients see their events).
fn wait_metrics(server: &Server, what: &str, pred: impl Fn(&Metrics) -> bool) -> Metrics {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let m = Metrics::scrape(server);
        if pred(&m) {
            return m;
        }
        if Instant::now() > deadline {
            server.fail(&format!("waiting for {what}:\n{}", m.text()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
