//! A long-polling client that never answers pings: with ping interval 300 ms and timeout 200 ms
//! the session is gone 200 ms after its ping (engine.io's reference timings; the exact instants
//! are the law of `codec/tests/eio_session.rs` on a simulated clock).
//!
//! Robust on a loaded machine: the only clock read is the client's own, after the ping arrived.
//! The server queued the ping before the client read it, so its pong deadline is at most 200 ms
//! after that read; a GET sent 201 ms after it finds the deadline passed whatever the scheduling
//! (the worker applies a passed deadline before serving a request).

use std::time::{Duration, Instant};

use ringcast_test_support::{http, raw};

use crate::gateway;

#[test]
fn a_silent_polling_client_is_gone_at_interval_plus_timeout() {
    let server = gateway()
        .args(["--ping-interval-ms", "300", "--ping-timeout-ms", "200"])
        .start();
    let sid = raw::polling_open(server.addr).unwrap_or_else(|e| server.fail(&e));
    let target = format!("{}?EIO=4&transport=polling&sid={sid}", raw::PATH);
    // Pending until the ping, 300 ms after the handshake.
    let ping = http::get(server.addr, &target).unwrap_or_else(|e| server.fail(&e));
    let ping_seen = Instant::now();
    assert_eq!((ping.status, ping.body.as_str()), (200, "2"), "the ping");
    std::thread::sleep(Duration::from_millis(201).saturating_sub(ping_seen.elapsed()));
    let after = http::get(server.addr, &target).unwrap_or_else(|e| server.fail(&e));
    assert_eq!(after.status, 400, "past the pong deadline: {}", after.body);
    assert!(
        after.body.contains("\"code\":1"),
        "Session ID unknown: {}",
        after.body
    );
}
