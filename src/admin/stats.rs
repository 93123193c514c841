//! `server_stats` (typed-events.ts `ServerStats`): what this node reports to the UI every 2 s,
//! with `aggregatedEvents` (the package's `EventBuffer` values) as the increase of the workers'
//! counters since the previous report to the same UI socket.

use serde_json::{Value, json};

use crate::engine::stats::{DISCONNECT_REASONS, WorkerStats};

/// The package's `setInterval(emitStats, 2000)`.
pub(super) const INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

/// What does not change while the process runs (`baseStats` in the package).
#[derive(Debug)]
pub(super) struct Base {
    /// `hostname#pid`: the package uses `hostname#pid` for cluster workers and the UI keys its
    /// server list by it, so two nodes on one host (tests, several processes per machine)
    /// stay apart.
    pub server_id: String,
    pub hostname: String,
    pub pid: u32,
    pub started: std::time::Instant,
}

impl Base {
    pub(super) fn new() -> Base {
        // The kernel's node name, what `os.hostname()` returns; this server runs on Linux only
        // (io_uring).
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_else(|_| "localhost".to_owned());
        let pid = std::process::id();
        Base {
            server_id: format!("{hostname}#{pid}"),
            hostname,
            pid,
            started: std::time::Instant::now(),
        }
    }
}

/// The node's counters the aggregated events are made of, summed over workers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Totals {
    /// Engine.IO handshakes (`rawConnection`).
    connections: u64,
    /// Socket.IO disconnects by reason (`rawDisconnection`, with the reason as `subType`).
    disconnections: [u64; DISCONNECT_REASONS.len()],
    /// Client events in, frames out (`packetsIn`, `packetsOut`).
    packets_in: u64,
    packets_out: u64,
    /// `bytesIn`, `bytesOut`.
    bytes_in: u64,
    bytes_out: u64,
}

impl Totals {
    pub(super) fn of(workers: &[WorkerStats]) -> Totals {
        let mut t = Totals::default();
        for w in workers {
            t.connections += w.handshakes_polling.get() + w.handshakes_websocket.get();
            for (sum, cell) in t.disconnections.iter_mut().zip(&w.disconnects) {
                *sum += cell.get();
            }
            t.packets_in += w.events_in.get();
            t.packets_out += w.frames_out.get();
            t.bytes_in += w.bytes_in.get();
            t.bytes_out += w.bytes_out.get();
        }
        t
    }

    /// `NamespaceEvent`s for what happened since `before`, stamped `timestamp_ms` (the
    /// package rounds its stamps down to the second). Types that did not happen are left out,
    /// as the package's buffer holds only what was pushed.
    pub(super) fn since(&self, before: &Totals, timestamp_ms: u64) -> Vec<Value> {
        let timestamp = timestamp_ms - timestamp_ms % 1000;
        let mut out = Vec::new();
        let mut push = |kind: &str, sub: Option<&str>, now: u64, then: u64| {
            let count = now.saturating_sub(then);
            if count > 0 {
                let mut e = json!({"timestamp": timestamp, "type": kind, "count": count});
                if let Some(sub) = sub {
                    e["subType"] = Value::from(sub);
                }
                out.push(e);
            }
        };
        push("rawConnection", None, self.connections, before.connections);
        for (i, reason) in DISCONNECT_REASONS.iter().enumerate() {
            push(
                "rawDisconnection",
                Some(reason.as_str()),
                self.disconnections[i],
                before.disconnections[i],
            );
        }
        push("packetsIn", None, self.packets_in, before.packets_in);
        push("packetsOut", None, self.packets_out, before.packets_out);
        push("bytesIn", None, self.bytes_in, before.bytes_in);
        push("bytesOut", None, self.bytes_out, before.bytes_out);
        out
    }
}

/// One `server_stats` argument. `admin_sockets`: the `/admin` sockets of this node, which
/// the workers' socket gauge counts along with `/`'s.
pub(super) fn server_stats(
    base: &Base,
    workers: &[WorkerStats],
    admin_sockets: u64,
    aggregated: Vec<Value>,
) -> String {
    let polling: u64 = workers.iter().map(|w| w.sessions_polling.get()).sum();
    let websocket: u64 = workers.iter().map(|w| w.sessions_websocket.get()).sum();
    let sockets: u64 = workers.iter().map(|w| w.sockets.get()).sum();
    json!({
        "serverId": base.server_id,
        "hostname": base.hostname,
        "pid": base.pid,
        "uptime": base.started.elapsed().as_secs_f64(),
        "clientsCount": polling + websocket,
        "pollingClientsCount": polling,
        "aggregatedEvents": aggregated,
        "namespaces": [
            {"name": "/", "socketsCount": sockets.saturating_sub(admin_sockets)},
            {"name": super::NAMESPACE, "socketsCount": admin_sockets},
        ],
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregated_events_are_the_increase_rounded_to_the_second() {
        let before = Totals {
            connections: 2,
            packets_in: 5,
            ..Totals::default()
        };
        let mut now = before;
        now.connections = 5;
        now.disconnections[0] = 1;
        let events = now.since(&before, 1_700_000_000_999);
        assert_eq!(
            Value::from(events),
            json!([
                {"timestamp": 1_700_000_000_000u64, "type": "rawConnection", "count": 3},
                {"timestamp": 1_700_000_000_000u64, "type": "rawDisconnection",
                 "subType": DISCONNECT_REASONS[0].as_str(), "count": 1},
            ])
        );
        assert!(now.since(&now, 0).is_empty());
    }
}
