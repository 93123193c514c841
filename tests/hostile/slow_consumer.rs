//! A client that stops reading while ~1 000 events/s flow to its room.
//!
//! Policy (docs/SECURITY.md): a session whose outbound queue passes `max_outbound_bytes` is
//! closed as a slow consumer; the server never buffers more for it. Here the bound is 256 KiB
//! so the test is quick. Before the server's queue grows at all, the kernel absorbs some bytes:
//! the slow client's receive buffer (pinned to 4 KiB here), the server's send buffer (loopback
//! autotuning can take it to several MiB, `net.ipv4.tcp_wmem`), and the websocket writer's
//! batch (up to 256 KiB). So the flood runs until the server lets go of the socket, at most
//! 45 s, and each event carries 1 KiB so a few MiB pass in seconds.
//!
//! Asserted: the server closes the slow client's socket without that client reading a byte
//! (its fd leaves /proc/PID/fd), the metrics count a slow-consumer disconnect, RSS stays under
//! baseline + 64 MiB, and three healthy clients receive every event in order.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ringcast_test_support::raw::{self, Ended, Ws};
use ringcast_test_support::{http, procfs, token};

/// Events per publish request, and the pause between requests: 50 per 50 ms = 1 000/s.
const BATCH: usize = 50;
const PAUSE: Duration = Duration::from_millis(50);
/// RSS allowance over the baseline.
const RSS_SLACK_KIB: u64 = 64 * 1024;

#[test]
fn slow_consumer_is_dropped_and_others_get_everything() {
    let log = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile-slow.log");
    let server = crate::gateway()
        .args(["--max-outbound-bytes", "262144"])
        .launch()
        .log_file(log)
        .start();
    let addr = server.addr;
    let token = token::good();

    // Three healthy clients, each collecting the alert messages until "end".
    let (done_tx, done_rx) = mpsc::channel();
    for _ in 0..3 {
        let mut client = raw::sio_client(addr, &token).expect("healthy client connects");
        let done = done_tx.clone();
        std::thread::spawn(move || {
            let mut got = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(120);
            let result = loop {
                match client.ws.next_text(deadline) {
                    Ok(packet) => {
                        if let Some((name, data)) = raw::event_of(&packet)
                            && name == "system:alert"
                        {
                            let m = data["message"].as_str().unwrap_or("").to_owned();
                            if m == "end" {
                                break Ok(got);
                            }
                            got.push(m);
                        }
                    }
                    Err(n) => break Err(raw::describe(&n)),
                }
            };
            let _ = done.send(result);
        });
    }

    // The slow client: a 4 KiB receive buffer, connected, then it never reads again.
    let slow = slow_client(addr, &token);
    let (slow_local, _) = slow.addrs();
    let inode = procfs::tcp_inode(addr, slow_local).expect("server side of the slow client");
    assert!(
        procfs::holds_socket(server.pid, inode),
        "server holds the slow socket"
    );

    let baseline = server.rss_kib();
    let mut peak = baseline;
    let pad = "p".repeat(1000);
    let mut sent = 0usize;
    let start = Instant::now();
    let mut released_at = None;
    while start.elapsed() < Duration::from_secs(45) {
        let items: Vec<String> = (sent..sent + BATCH)
            .map(|i| {
                format!(
                    r#"{{"event":"system:alert","data":{{"message":"ev-{i}","severity":"info","pad":"{pad}"}}}}"#
                )
            })
            .collect();
        let r = http::publish(addr, &format!("[{}]", items.join(","))).expect("publish");
        assert_eq!(r.status, 200, "publish: {}", r.body);
        sent += BATCH;
        peak = peak.max(server.rss_kib());
        if released_at.is_none() && !procfs::holds_socket(server.pid, inode) {
            released_at = Some(sent);
        }
        // One more second of traffic after the release shows the others are unaffected.
        if released_at.is_some_and(|at| sent >= at + 1000) {
            break;
        }
        std::thread::sleep(PAUSE);
    }
    let r = http::publish(addr, &raw::alert_body("end")).expect("publish end");
    assert_eq!(r.status, 200);

    let disconnects = metric(addr, "slow_consumer_disconnects");
    let mut failures = Vec::new();
    match released_at {
        Some(at) => eprintln!(
            "slow consumer released after {at} events ({} KiB of payload)",
            at * 1070 / 1024
        ),
        None => failures.push(format!(
            "the server still holds the slow client's socket after {sent} events ({} s)",
            start.elapsed().as_secs()
        )),
    }
    if disconnects < 1 {
        failures.push(format!("slow_consumer_disconnects is {disconnects}"));
    }
    eprintln!(
        "RSS baseline {baseline} KiB, peak {peak} KiB (+{} KiB), {sent} events",
        peak.saturating_sub(baseline)
    );
    if peak > baseline + RSS_SLACK_KIB {
        failures.push(format!("RSS peaked at {peak} KiB, baseline {baseline} KiB"));
    }
    let want: Vec<String> = (0..sent).map(|i| format!("ev-{i}")).collect();
    for i in 0..3 {
        match done_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Ok(got)) if got == want => {}
            Ok(Ok(got)) => failures.push(format!(
                "healthy client got {} of {sent} events (first gap near {:?})",
                got.len(),
                got.iter().zip(&want).position(|(a, b)| a != b)
            )),
            Ok(Err(e)) => failures.push(format!("healthy client {i}: {e}")),
            Err(_) => failures.push(format!("healthy client {i} did not finish")),
        }
    }
    // Reading now, the slow client drains what the kernel held and then meets the end.
    let mut slow = slow;
    let mut buf = Vec::new();
    let ended = raw::read_until(
        &mut slow.stream,
        &mut buf,
        Instant::now() + Duration::from_secs(30),
        |_| false,
    );
    if ended != Some(Ended::Closed) {
        failures.push(format!("slow client: {ended:?} after {} bytes", buf.len()));
    }
    assert!(failures.is_empty(), "{}", failures.join("; "));
}

/// A Socket.IO client whose socket has a 4 KiB receive buffer.
fn slow_client(addr: SocketAddr, token: &str) -> Ws {
    raw::connect_small_window(addr)
        .and_then(|stream| raw::sio_client_on(stream, token))
        .expect("the slow client connects")
        .ws
}

/// The value of the first metric line whose name contains `name`.
fn metric(addr: SocketAddr, name: &str) -> u64 {
    let r = http::get(addr, "/metrics").expect("metrics");
    r.body
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains(name))
        .find_map(|l| l.split_whitespace().last()?.parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}
