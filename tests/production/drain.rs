//! Graceful drain. On SIGTERM (or SIGINT) ringcast stops accepting and closes every session
//! with an Engine.IO close (and WebSocket close 1001, "going away", RFC 6455 §7.4.1) but
//! deliberately without a Socket.IO DISCONNECT: socket.io-client reports a closed transport as
//! `transport close` and reconnects (to another node behind the load balancer), whereas
//! DISCONNECT would read as `io server disconnect`, after which it stays down. It then exits 0;
//! a second signal during the drain exits at once, non-zero; a peer that cannot take its close
//! holds the drain at most `--drain-timeout-ms`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use ringcast_test_support::raw::{self, Eio};
use ringcast_test_support::{DEADLINE, Metrics, Proc, Server, http, token};

use crate::{gateway, node};

/// Sockets per kind: websocket-only, polling-only, and default (polling upgraded to websocket).
const PER_KIND: u64 = 100;

#[test]
fn sigterm_drains_every_client_with_transport_close_and_exits_0() {
    let mut server = gateway().args(["--drain-timeout-ms", "20000"]).start();
    let mut swarm = start_swarm(&server, PER_KIND);
    server.signal(libc::SIGTERM);
    let gone = swarm.expect("every socket's disconnect", |v| v["type"] == "disconnected");
    assert_eq!(
        gone["reasons"],
        json!({"transport close": 3 * PER_KIND}),
        "every client must see its transport close (so it reconnects); by kind: {}",
        gone["by_kind"]
    );
    let status = server.wait_exit(DEADLINE, "the drain after SIGTERM");
    assert_eq!(status.code(), Some(0), "{}", server.context());
    assert!(
        server.log_text().contains("draining"),
        "{}",
        server.context()
    );
}

#[test]
fn sigterm_under_traffic_every_client_still_reconnects() {
    // Events flow to every socket (`system:alert` goes to `dashboard`, which every socket is
    // in) while the drain runs, so polling clients are caught between two long-polls.
    let mut server = gateway().args(["--drain-timeout-ms", "20000"]).start();
    let mut swarm = start_swarm(&server, PER_KIND / 2);
    let stop = Arc::new(AtomicBool::new(false));
    let published = Arc::new(AtomicU64::new(0));
    let publisher = {
        let (stop, published, addr) = (stop.clone(), published.clone(), server.addr);
        std::thread::spawn(move || publish_until(addr, &stop, &published))
    };
    // Signal once events are flowing (a few publishes answered 200).
    let deadline = Instant::now() + DEADLINE;
    while published.load(Ordering::Relaxed) < 3 {
        if Instant::now() > deadline {
            server.fail("publishes never got through before the drain");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    server.signal(libc::SIGTERM);
    let gone = swarm.expect("every socket's disconnect", |v| v["type"] == "disconnected");
    stop.store(true, Ordering::Relaxed);
    publisher.join().expect("the publisher thread");
    let reasons = gone["reasons"].as_object().cloned().unwrap_or_default();
    let total: u64 = reasons.values().filter_map(Value::as_u64).sum();
    assert_eq!(total, 3 * (PER_KIND / 2), "{gone}");
    // Both make socket.io-client reconnect; `io server disconnect` (or anything else) would not.
    for reason in reasons.keys() {
        assert!(
            reason == "transport close" || reason == "transport error",
            "a client saw {reason:?}, after which it would not reconnect: {gone}"
        );
    }
    let status = server.wait_exit(DEADLINE, "the drain after SIGTERM");
    assert_eq!(status.code(), Some(0), "{}", server.context());
}

#[test]
fn second_signal_during_drain_exits_at_once_non_zero() {
    // A drain that cannot finish on its own (ten minutes), held open by a stalled peer.
    let mut server = stalled_server("600000");
    let _peer = stall(&server);
    server.signal(libc::SIGTERM);
    server.wait_log("draining");
    server.signal(libc::SIGINT);
    let status = server.wait_exit(DEADLINE, "a second signal during the drain");
    assert_eq!(status.code(), Some(1), "{}", server.context());
    assert!(
        server.log_text().contains("second signal"),
        "{}",
        server.context()
    );
}

#[test]
fn drain_timeout_bounds_a_stalled_peer_and_exits_0() {
    let mut server = stalled_server("1000");
    let _peer = stall(&server);
    server.signal(libc::SIGTERM);
    let status = server.wait_exit(DEADLINE, "the 1 s drain timeout with a stalled peer");
    assert_eq!(status.code(), Some(0), "{}", server.context());
    assert!(
        server.log_text().contains("drain timeout"),
        "the drain must have been cut by its timeout (else the peer did not stall it)\n{}",
        server.context()
    );
}

/// Starts `swarm.js` with `per_kind` sockets of each kind and waits until all are connected
/// (and upgraded) and the server counts them.
fn start_swarm(server: &Server, per_kind: u64) -> Proc {
    let config = json!({
        "url": server.url(), "path": "/ws/", "token": token::valid("drain-user"),
        "websocket": per_kind, "polling": per_kind, "upgrade": per_kind,
    });
    let mut swarm = node("swarm.js", &[&config.to_string()]);
    swarm.watch(server);
    let ready = swarm.expect("every socket connected", |v| v["type"] == "ready");
    assert_eq!(
        (
            &ready["transports"]["websocket"],
            &ready["transports"]["polling"]
        ),
        (&json!(2 * per_kind), &json!(per_kind)),
        "{ready}"
    );
    // The server sees the same; an upgrade completes on the server a moment after the client
    // reports it, so wait for the gauges rather than read them once.
    let want = [
        (
            "ringcast_connections{transport=\"websocket\"}",
            2 * per_kind,
        ),
        ("ringcast_connections{transport=\"polling\"}", per_kind),
        ("ringcast_sockets", 3 * per_kind),
    ];
    let deadline = Instant::now() + DEADLINE;
    loop {
        let m = Metrics::scrape(server);
        if want.iter().all(|(k, n)| m.value(k) == Some(*n as f64)) {
            break;
        }
        if Instant::now() > deadline {
            server.fail(&format!("gauges never reached {want:?}:\n{}", m.text()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    swarm
}

/// Publishes `system:alert` every 5 ms until `stop` or until the server stops answering,
/// counting the publishes answered 200 in `published`.
fn publish_until(addr: SocketAddr, stop: &AtomicBool, published: &AtomicU64) {
    let body = r#"{"event":"system:alert","data":{"message":"drain test","severity":"info"}}"#;
    // At most 2000 requests (10 s at 5 ms): bounded whatever happens.
    for _ in 0..2000 {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        match http::publish(addr, body) {
            Ok(resp) if resp.status == 200 => {
                published.fetch_add(1, Ordering::Relaxed);
            }
            Ok(_) => {}
            Err(_) => break,
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A server whose sessions never time out during the test (pings every 10 minutes) and whose
/// outbound bound is far above what [`stall`] sends, so the stalled session stays open.
fn stalled_server(drain_timeout_ms: &str) -> Server {
    gateway()
        .args([
            "--drain-timeout-ms",
            drain_timeout_ms,
            "--ping-interval-ms",
            "600000",
            "--max-outbound-bytes",
            "268435456",
        ])
        .start()
}

/// Connects a peer that never reads again (a small receive window, see
/// [`raw::connect_small_window`]) and sends it more than the TCP buffers between it and the
/// server can hold, so the server's writer for it is blocked when the drain starts.
fn stall(server: &Server) -> Eio {
    let peer = raw::connect_small_window(server.addr)
        .and_then(|stream| raw::sio_client_on(stream, &token::valid("stalled-user")))
        .unwrap_or_else(|e| server.fail(&format!("stalled peer: {e}")));
    // The kernel holds at most the server's send buffer (tcp_wmem's ceiling, 4 MiB by default)
    // plus the peer's few-KiB receive buffer; twice the ceiling plus 1 MiB is surely more.
    let wmem_max = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|t| t.split_whitespace().nth(2)?.parse::<usize>().ok())
        .unwrap_or(4 << 20);
    let total = 2 * wmem_max + (1 << 20);
    // 900 kB per event stays under the default 1 MB max_payload for the publish body.
    let message = "x".repeat(900_000);
    let event =
        json!({"event": "system:alert", "data": {"message": message, "severity": "warning"}});
    let mut sent = 0;
    while sent < total {
        let delivered = server.publish_ok(&event);
        assert_eq!(delivered, 1, "the stalled peer is the only socket");
        sent += message.len();
    }
    peer
}
