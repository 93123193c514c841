//! The publisher: `POST /api/v1/emit` over keep-alive HTTP/1.1 connections, one request in
//! flight per connection, either as fast as the server absorbs them or at a fixed rate.
//!
//! "Absorbs" means delivered, not just accepted: a server answers the POST once the broadcast
//! is queued, so a publisher that only waited for replies would let queues grow without bound
//! (Node buffers per socket, ringcast drops slow consumers). Saturating mode therefore also
//! keeps at most `max_lag` publishes not yet seen by the receivers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use ringcast_codec::Status;

use crate::clients::Shared;
use crate::clock;
use crate::histogram::Histogram;
use crate::http1;
use crate::proto;
use crate::reactor::{Conn, Poller, ReadOutcome};

/// How publishes are paced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// Back to back on every connection, within the delivery window.
    Saturate { max_lag: u64 },
    /// `per_sec` publishes per second on a fixed schedule (open loop).
    Rate { per_sec: f64 },
}

#[derive(Debug, Clone)]
pub struct PublishConfig {
    pub addr: SocketAddr,
    pub host: String,
    pub api_key: String,
    pub rooms: Vec<String>,
    /// Connections, hence most publishes in flight (16).
    pub in_flight: usize,
    pub pace: Pace,
    pub duration: Duration,
    /// Size of the event's `data` object in bytes (~200).
    pub data_bytes: usize,
    /// Receivers expected per publish (for the delivery window).
    pub receivers: u64,
    /// Never sleep in `epoll_wait` (see `ClientConfig::busy_poll`).
    pub busy_poll: bool,
}

#[derive(Debug, Default)]
pub struct PublishStats {
    pub published: u64,
    /// Sum of the servers' `{"delivered": N}` replies.
    pub delivered_sum: u64,
    pub first_send_ns: u64,
    pub last_send_ns: u64,
    /// POST → 200, per publish.
    pub api_ns: Histogram,
    /// Rate mode: publishes sent more than one interval behind schedule.
    pub late: u64,
    pub failures: u64,
    /// Publish connections the server closed and the publisher opened again.
    pub reconnects: u64,
    pub errors: Vec<String>,
}

/// Publishes for `cfg.duration`, then waits (up to 5 s) for the replies still in flight.
pub fn run_publisher(cfg: &PublishConfig, shared: Arc<Shared>) -> PublishStats {
    let mut stats = PublishStats::default();
    if let Err(e) = publish(cfg, &shared, &mut stats) {
        stats.failures += 1;
        stats.errors.push(format!("publisher: {e}"));
    }
    stats
}

struct PubConn {
    conn: Conn,
    pending: Vec<u8>,
    /// Send time of the request in flight.
    busy_since: Option<u64>,
}

fn publish(cfg: &PublishConfig, shared: &Shared, stats: &mut PublishStats) -> std::io::Result<()> {
    let mut poller = Poller::new(64)?;
    let mut conns = Vec::with_capacity(cfg.in_flight);
    for i in 0..cfg.in_flight.max(1) {
        conns.push(PubConn {
            conn: Conn::connect(cfg.addr, &poller, i as u64)?,
            pending: Vec::new(),
            busy_since: None,
        });
    }
    let auth = format!("Bearer {}", cfg.api_key);
    let rooms_json = serde_json::to_string(&cfg.rooms).unwrap_or_else(|_| "[]".into());
    let mut body = Vec::with_capacity(cfg.data_bytes + 128);
    let mut request = Vec::with_capacity(cfg.data_bytes + 256);
    let mut scratch = vec![0u8; 64 * 1024];
    let start = clock::now_ns();
    let end = start + cfg.duration.as_nanos() as u64;
    let grace_end = end + 5_000_000_000;
    let interval_ns = match cfg.pace {
        Pace::Rate { per_sec } if per_sec > 0.0 => (1e9 / per_sec) as u64,
        _ => 0,
    };
    let mut seq: u64 = 0;
    stats.first_send_ns = start;
    loop {
        let now = clock::now_ns();
        let in_flight = conns.iter().filter(|c| c.busy_since.is_some()).count();
        if now >= end && in_flight == 0 || now >= grace_end {
            break;
        }
        // Send what the pace allows on idle, connected connections.
        if now < end {
            for c in conns.iter_mut() {
                if c.busy_since.is_some() || !c.conn.is_connected() {
                    continue;
                }
                let now = clock::now_ns();
                let allowed = match cfg.pace {
                    Pace::Saturate { max_lag } => {
                        let seen = shared.deliveries.load(Ordering::Relaxed);
                        seq.saturating_sub(max_lag) * cfg.receivers <= seen
                    }
                    Pace::Rate { .. } => start + seq * interval_ns <= now,
                };
                if !allowed || now >= end {
                    break;
                }
                if interval_ns > 0 && now > start + (seq + 1) * interval_ns {
                    stats.late += 1;
                }
                body.clear();
                write_body(&mut body, &rooms_json, seq, now, cfg.data_bytes);
                request.clear();
                http1::write_request(
                    &mut request,
                    "POST",
                    &cfg.host,
                    "/api/v1/emit",
                    &[
                        ("Authorization", &auth),
                        ("Content-Type", "application/json"),
                    ],
                    &body,
                );
                c.conn.send(&request, &poller)?;
                c.busy_since = Some(now);
                stats.last_send_ns = now;
                seq += 1;
                stats.published += 1;
            }
        }
        // Rate mode sleeps until the next slot; saturating mode polls the delivery window.
        let timeout_ms = match cfg.pace {
            Pace::Rate { .. } => {
                let due = start + seq * interval_ns;
                (due.saturating_sub(clock::now_ns()) / 1_000_000).clamp(0, 5) as i32
            }
            Pace::Saturate { .. } => 1,
        };
        let timeout_ms = if cfg.busy_poll { 0 } else { timeout_ms };
        let events: Vec<_> = poller.wait(timeout_ms)?.collect();
        for ev in events {
            let Some(c) = conns.get_mut(ev.token as usize) else {
                continue;
            };
            if ev.writable {
                c.conn.finish_connect(&poller)?;
                c.conn.flush(&poller)?;
            }
            if !(ev.readable || ev.failed) {
                continue;
            }
            loop {
                let keep = c.pending.len();
                scratch[..keep].copy_from_slice(&c.pending);
                let (n, drained) = match c.conn.read_into(&mut scratch[keep..])? {
                    ReadOutcome::Data { n, drained } => (n, drained),
                    ReadOutcome::WouldBlock => break,
                    ReadOutcome::Closed => {
                        // "A client, server, or proxy MAY close the transport connection at
                        // any time" (RFC 9112 §9.6): Node's http server closes a keep-alive
                        // connection idle for 5 s (keepAliveTimeout), which happens to the last
                        // of the 16 when the delivery window, not the replies, paces the
                        // publisher. Open it again; a request it carried is lost.
                        if c.busy_since.take().is_some() {
                            stats.failures += 1;
                            if stats.errors.len() < 5 {
                                stats.errors.push(
                                    "the server closed a publish connection with a request in flight"
                                        .into(),
                                );
                            }
                        }
                        stats.reconnects += 1;
                        *c = PubConn {
                            conn: Conn::connect(cfg.addr, &poller, ev.token)?,
                            pending: Vec::new(),
                            busy_since: None,
                        };
                        break;
                    }
                };
                let mut pos = 0;
                let buf = &scratch[..keep + n];
                loop {
                    match http1::read_response(&buf[pos..]) {
                        Ok(Status::Complete(r)) => {
                            pos += r.consumed;
                            let now = clock::now_ns();
                            if let Some(sent) = c.busy_since.take() {
                                stats.api_ns.record(now.saturating_sub(sent));
                            }
                            match (r.status, proto::number_field(&r.body, b"\"delivered\":")) {
                                (200, Some(d)) => stats.delivered_sum += d,
                                (status, _) => {
                                    stats.failures += 1;
                                    if stats.errors.len() < 5 {
                                        let body = String::from_utf8_lossy(&r.body);
                                        stats
                                            .errors
                                            .push(format!("emit answered {status}: {body}"));
                                    }
                                }
                            }
                        }
                        Ok(Status::Partial) => break,
                        Err(e) => {
                            return Err(std::io::Error::other(format!("emit response: {e:?}")));
                        }
                    }
                }
                c.pending.clear();
                c.pending.extend_from_slice(&buf[pos..]);
                if drained {
                    break;
                }
            }
        }
    }
    Ok(())
}

/// The publish body: `agent:status_changed` to `rooms`, its `data` padded to `data_bytes` with
/// the fields the spec lists, plus `seq` and the `sent_ns` stamp the receivers subtract.
pub fn write_body(out: &mut Vec<u8>, rooms_json: &str, seq: u64, sent_ns: u64, data_bytes: usize) {
    use std::io::Write as _;
    let _ = write!(
        out,
        "{{\"event\":\"{}\",\"rooms\":{rooms_json},\"data\":",
        proto::DELIVERY_EVENT
    );
    let data_start = out.len();
    let _ = write!(
        out,
        "{{\"agent_id\":\"loadgen-{}\",\"old_status\":\"idle\",\"new_status\":\"busy\",\
\"timestamp\":\"2026-11-26T00:00:00.000Z\",\"seq\":{seq},\"sent_ns\":{sent_ns},\"pad\":\"",
        seq % 1000
    );
    // `"}` closes pad and data: 2 bytes.
    let used = out.len() - data_start + 2;
    out.resize(out.len() + data_bytes.saturating_sub(used), b'x');
    out.extend_from_slice(b"\"}}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read as _, Write as _};

    /// Reads one request (head + Content-Length body) off a blocking stream; false at EOF.
    fn read_request(stream: &mut std::net::TcpStream) -> bool {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 16];
            let mut req = httparse::Request::new(&mut headers);
            if let Ok(httparse::Status::Complete(head)) = req.parse(&buf) {
                let len = req
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .and_then(|h| std::str::from_utf8(h.value).ok()?.parse::<usize>().ok())
                    .unwrap_or(0);
                if buf.len() >= head + len {
                    return true;
                }
            }
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return false,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    #[test]
    fn an_idle_connection_the_server_closes_is_opened_again() {
        const REPLY: &[u8] =
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n{\"delivered\":1}";
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        // The first connection gets one answer and is then closed while idle (as Node closes
        // one after keepAliveTimeout); the second is kept and answered until the client leaves.
        let server = std::thread::spawn(move || {
            let (mut first, _) = listener.accept().expect("first accept");
            assert!(read_request(&mut first), "first request");
            first.write_all(REPLY).expect("first reply");
            drop(first);
            let (mut second, _) = listener.accept().expect("second accept");
            let mut answered = 0;
            while read_request(&mut second) {
                second.write_all(REPLY).expect("reply");
                answered += 1;
            }
            answered
        });
        // Publishes at 0, 0.5 and 1.0 s: the close lands half a second before the second one.
        let cfg = PublishConfig {
            addr,
            host: addr.to_string(),
            api_key: "k".into(),
            rooms: vec!["dashboard".into()],
            in_flight: 1,
            pace: Pace::Rate { per_sec: 2.0 },
            duration: Duration::from_millis(1_100),
            data_bytes: 200,
            receivers: 1,
            busy_poll: false,
        };
        let stats = run_publisher(&cfg, Arc::new(Shared::default()));
        assert_eq!(stats.errors, Vec::<String>::new());
        assert_eq!(
            (
                stats.published,
                stats.failures,
                stats.reconnects,
                stats.delivered_sum
            ),
            (3, 0, 1, 3)
        );
        drop(cfg);
        assert_eq!(server.join().expect("server thread"), 2);
    }

    #[test]
    fn body_is_json_with_padded_data() {
        for size in [0usize, 150, 200, 400] {
            let mut out = Vec::new();
            write_body(&mut out, r#"["dashboard"]"#, 7, 123_456_789, size);
            let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
            assert_eq!(v["event"], "agent:status_changed");
            assert_eq!(v["rooms"][0], "dashboard");
            assert_eq!(v["data"]["sent_ns"], 123_456_789);
            assert_eq!(v["data"]["seq"], 7);
            let data = serde_json::to_string(&v["data"]).expect("re-encode");
            assert!(
                data.len() >= size,
                "size {size}: data is {} bytes",
                data.len()
            );
            if size >= 200 {
                assert_eq!(
                    data.len(),
                    size,
                    "padding is exact once above the fixed fields"
                );
            }
        }
    }
}
