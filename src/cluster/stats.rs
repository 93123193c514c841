//! Counters of the Redis bridge: plain atomics, written by the bridge thread (and by workers for
//! publish refusals), read by anyone (the metrics endpoint) without a lock.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

/// The kinds of channel the bridge talks on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    /// `socket.io#/#…`: broadcasts.
    Broadcast = 0,
    /// `socket.io-request#/#`.
    Request = 1,
    /// `socket.io-response#/#…`.
    Response = 2,
    /// python-socketio's channel (`socketio`).
    Python = 3,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 4] = [
        ChannelKind::Broadcast,
        ChannelKind::Request,
        ChannelKind::Response,
        ChannelKind::Python,
    ];

    /// A label for metrics.
    pub fn name(self) -> &'static str {
        match self {
            ChannelKind::Broadcast => "broadcast",
            ChannelKind::Request => "request",
            ChannelKind::Response => "response",
            ChannelKind::Python => "python",
        }
    }
}

/// Whether the bridge can reach Redis right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterStatus {
    /// Subscribed and publishing.
    Connected,
    /// Not connected (never yet, or lost): publishes are refused, the bridge is retrying.
    Degraded,
}

/// Live counters. Every field only grows, except `connected` and `ping_rtt_us`.
#[derive(Debug, Default)]
pub struct ClusterStats {
    connected: AtomicBool,
    published: [AtomicU64; 4],
    received: [AtomicU64; 4],
    /// Room messages dropped before decoding: no local member in that room.
    pub(crate) skipped: AtomicU64,
    /// This node's own broadcasts and requests coming back through Redis.
    pub(crate) own: AtomicU64,
    /// Messages that did not decode (or broadcasts that did not encode).
    pub(crate) decode_errors: AtomicU64,
    /// Broadcasts not delivered because the engine refused them: ones that exclude rooms, from an
    /// engine whose `LocalNode::deliver_except_rooms` is the trait's refusing default (ringcast's
    /// engine implements it, so this stays 0 in ringcast).
    pub(crate) unsupported: AtomicU64,
    /// `publish` calls refused (Redis down, or the queue full).
    pub(crate) publish_refused: AtomicU64,
    /// Queued messages lost because the connection failed under them.
    pub(crate) publish_failed: AtomicU64,
    /// Connections lost (each is followed by reconnection attempts).
    pub(crate) reconnects: AtomicU64,
    /// Broadcasts handed to the engine.
    pub(crate) delivered: AtomicU64,
    /// Round trip of the last PING on the subscription connection, in microseconds.
    pub(crate) ping_rtt_us: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatsSnapshot {
    pub connected: bool,
    /// Indexed by `ChannelKind as usize`.
    pub published: [u64; 4],
    pub received: [u64; 4],
    pub skipped: u64,
    pub own: u64,
    pub decode_errors: u64,
    pub unsupported: u64,
    pub publish_refused: u64,
    pub publish_failed: u64,
    pub reconnects: u64,
    pub delivered: u64,
    pub ping_rtt_us: u64,
}

impl ClusterStats {
    pub fn status(&self) -> ClusterStatus {
        if self.connected.load(Relaxed) {
            ClusterStatus::Connected
        } else {
            ClusterStatus::Degraded
        }
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            connected: self.connected.load(Relaxed),
            published: std::array::from_fn(|i| self.published[i].load(Relaxed)),
            received: std::array::from_fn(|i| self.received[i].load(Relaxed)),
            skipped: self.skipped.load(Relaxed),
            own: self.own.load(Relaxed),
            decode_errors: self.decode_errors.load(Relaxed),
            unsupported: self.unsupported.load(Relaxed),
            publish_refused: self.publish_refused.load(Relaxed),
            publish_failed: self.publish_failed.load(Relaxed),
            reconnects: self.reconnects.load(Relaxed),
            delivered: self.delivered.load(Relaxed),
            ping_rtt_us: self.ping_rtt_us.load(Relaxed),
        }
    }

    pub(crate) fn set_connected(&self, up: bool) {
        self.connected.store(up, Relaxed);
    }

    pub(crate) fn published(&self, kind: ChannelKind, n: u64) {
        self.published[kind as usize].fetch_add(n, Relaxed);
    }

    pub(crate) fn received(&self, kind: ChannelKind) {
        self.received[kind as usize].fetch_add(1, Relaxed);
    }

    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }
}
