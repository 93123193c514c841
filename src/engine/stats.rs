//! Per-worker counters, written by their worker only and summed by whoever reads them.
//!
//! Each worker owns one cache-line-aligned [`WorkerStats`]; with a single writer an update is a
//! relaxed load and store (no locked read-modify-write, no cache line shared between cores), so
//! counting a delivery costs about as much as not counting it. Readers (`/metrics`) sum the
//! workers' values; a reading may be a few updates behind, never torn.

use std::sync::atomic::{AtomicU64, Ordering};

use ringcast_codec::ws::CloseCode;

use super::DisconnectReason;

/// One counter or gauge with a single writer.
#[derive(Debug, Default)]
pub struct Cell(AtomicU64);

impl Cell {
    /// Adds `n` (only the owning worker calls this).
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.store(
            self.0.load(Ordering::Relaxed).wrapping_add(n),
            Ordering::Relaxed,
        );
    }

    /// Subtracts `n` (gauges; only the owning worker calls this).
    #[inline]
    pub fn sub(&self, n: u64) {
        self.0.store(
            self.0.load(Ordering::Relaxed).wrapping_sub(n),
            Ordering::Relaxed,
        );
    }

    /// The current value.
    #[inline]
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// What one worker counts.
#[derive(Debug, Default)]
#[repr(align(64))]
pub struct WorkerStats {
    /// Open Engine.IO sessions on long-polling (gauge).
    pub sessions_polling: Cell,
    /// Open Engine.IO sessions on WebSocket (gauge).
    pub sessions_websocket: Cell,
    /// Connected Socket.IO sockets (gauge).
    pub sockets: Cell,
    /// Room memberships on this worker (gauge).
    pub memberships: Cell,
    /// Engine.IO handshakes by transport.
    pub handshakes_polling: Cell,
    pub handshakes_websocket: Cell,
    /// Completed polling → WebSocket upgrades.
    pub upgrades: Cell,
    /// Socket.IO sockets connected (CONNECTs accepted).
    pub connects: Cell,
    /// Socket.IO sockets disconnected, by reason ([`disconnect_index`]).
    pub disconnects: [Cell; DISCONNECT_REASONS.len()],
    /// CONNECTs refused (auth and namespace).
    pub connects_refused: Cell,
    /// Client events received.
    pub events_in: Cell,
    /// Frames queued to clients (events, acks, control).
    pub frames_out: Cell,
    /// Broadcasts transcoded for msgpack-parser recipients: at most one per broadcast, on the
    /// first core that reached such a recipient.
    pub msgpack_broadcast_encodes: Cell,
    /// Writes (sends) to WebSocket connections: `frames_out / ws_writes` is how many frames the
    /// write coalescing puts in each send.
    pub ws_writes: Cell,
    /// Bytes read from and written to client connections.
    pub bytes_in: Cell,
    pub bytes_out: Cell,
    /// Broadcasts fanned out on this worker, and sockets they reached.
    pub broadcasts: Cell,
    pub broadcast_recipients: Cell,
    /// Sessions closed because their outbound queue passed its bound.
    pub slow_consumer_disconnects: Cell,
    /// Sessions closed for protocol violations.
    pub protocol_errors: Cell,
    /// The same closes by the reason their WebSocket close code gives ([`PROTOCOL_CLOSES`]).
    pub protocol_closes: [Cell; PROTOCOL_CLOSES.len()],
    /// Connections handed to the core owning their session.
    pub handoffs: Cell,
    /// HTTP requests outside the Engine.IO paths.
    pub http_requests: Cell,
    /// Connections refused at accept (node or per-IP cap).
    pub connections_refused: Cell,
    /// Requests answered with an HTTP error before routing: bad or oversized heads (400/431),
    /// heads or bodies cut short (408), bodies over the limit (413).
    pub http_errors: Cell,
    /// Connection state recovery: sessions saved at a transport-caused disconnect, sockets
    /// restored, and reconnects that got a fresh session, by reason
    /// ([`super::recovery::Failure::index`]).
    pub recovery_saved: Cell,
    /// Live sessions saved to a store that keeps them (streams mode: connect, join, leave,
    /// refresh), each one Redis `SET`.
    pub recovery_kept: Cell,
    pub recovery_restored: Cell,
    pub recovery_failed: [Cell; 4],
    /// permessage-deflate: frames written compressed (per recipient), compressor runs (a shared
    /// broadcast frame once, a per-socket frame once per recipient), bytes kept off the wire,
    /// and compressed client messages closed with 1009 for inflating past the maximum.
    pub ws_compressed_frames: Cell,
    pub ws_compressions: Cell,
    pub ws_compression_saved: Cell,
    pub ws_inflate_bombs: Cell,
}

/// Every disconnect reason, in the order of [`WorkerStats::disconnects`].
pub const DISCONNECT_REASONS: [DisconnectReason; 7] = [
    DisconnectReason::TransportClose,
    DisconnectReason::ClientNamespaceDisconnect,
    DisconnectReason::ServerNamespaceDisconnect,
    DisconnectReason::PingTimeout,
    DisconnectReason::ParseError,
    DisconnectReason::SlowConsumer,
    DisconnectReason::ServerShutdown,
];

/// The slot of `reason` in [`WorkerStats::disconnects`] (its place in [`DISCONNECT_REASONS`]).
pub fn disconnect_index(reason: DisconnectReason) -> usize {
    match reason {
        DisconnectReason::TransportClose => 0,
        DisconnectReason::ClientNamespaceDisconnect => 1,
        DisconnectReason::ServerNamespaceDisconnect => 2,
        DisconnectReason::PingTimeout => 3,
        DisconnectReason::ParseError => 4,
        DisconnectReason::SlowConsumer => 5,
        DisconnectReason::ServerShutdown => 6,
    }
}

/// The close codes a protocol violation closes a session with (see `SioError::close_code`), in
/// the order of [`WorkerStats::protocol_closes`], with the `reason` label `/metrics` gives each.
pub const PROTOCOL_CLOSES: [(CloseCode, &str); 3] = [
    (CloseCode::PROTOCOL_ERROR, "protocol_error"),
    (CloseCode::INVALID_PAYLOAD, "invalid_payload"),
    (CloseCode::POLICY_VIOLATION, "policy_violation"),
];

/// The slot of `code` in [`WorkerStats::protocol_closes`]; any other code counts as a protocol
/// error (the Engine.IO layer's violations all close with 1002).
pub fn protocol_close_index(code: CloseCode) -> usize {
    PROTOCOL_CLOSES
        .iter()
        .position(|(c, _)| *c == code)
        .unwrap_or(0)
}

/// A counter summed over the workers (what `/metrics` and the activity summary both read).
pub fn sum(workers: &[WorkerStats], f: impl Fn(&WorkerStats) -> u64) -> u64 {
    workers.iter().map(f).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_protocol_close_has_its_own_slot() {
        for (i, (code, _)) in PROTOCOL_CLOSES.iter().enumerate() {
            assert_eq!(protocol_close_index(*code), i, "{code:?}");
        }
        assert_eq!(protocol_close_index(CloseCode::NORMAL), 0);
    }

    #[test]
    fn every_reason_has_its_own_slot() {
        for (i, reason) in DISCONNECT_REASONS.iter().enumerate() {
            assert_eq!(disconnect_index(*reason), i, "{reason:?}");
        }
    }
}
