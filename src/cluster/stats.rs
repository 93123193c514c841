//! Counters of the Redis bridge: plain atomics, written by the bridge thread (and by workers for
//! publish refusals), read by anyone (the metrics endpoint) without a lock.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use super::PublishError;

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

/// Why a broadcast's publication was not acknowledged, for metrics: the bridge's
/// [`PublishError`]s (the engine's own `no_answer` is not the bridge's to count).
pub const UNCONFIRMED_REASONS: [PublishError; 6] = [
    PublishError::Unavailable,
    PublishError::Backlogged,
    PublishError::Failed,
    PublishError::TimedOut,
    PublishError::MissingSubscribers {
        receivers: 0,
        expected: 0,
    },
    PublishError::Dropped,
];

fn reason_index(e: PublishError) -> usize {
    match e {
        PublishError::Unavailable => 0,
        PublishError::Backlogged => 1,
        PublishError::Failed => 2,
        PublishError::TimedOut => 3,
        PublishError::MissingSubscribers { .. } => 4,
        PublishError::Dropped | PublishError::NoAnswer => 5,
    }
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis().min(u128::from(u64::MAX)) as u64)
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
    /// Round trip of the last health probe, in microseconds.
    pub(crate) ping_rtt_us: AtomicU64,
    /// Broadcasts Redis acknowledged (PUBLISH answered, every expected node counted).
    pub(crate) acknowledged: AtomicU64,
    /// Broadcasts not acknowledged, by reason ([`UNCONFIRMED_REASONS`] order).
    unconfirmed: [AtomicU64; 6],
    /// Streams mode: stream entries read (XREAD), this node's own included.
    pub(crate) stream_entries_read: AtomicU64,
    /// Streams mode: age of the last entry read when it was read, in ms (its id's time).
    pub(crate) stream_lag_ms: AtomicU64,
    /// Health probes that missed their deadline or failed (each ends the connection).
    pub(crate) health_failures: AtomicU64,
    /// Milliseconds Redis was unusable, over outages that ended.
    unusable_ms: AtomicU64,
    /// Unix milliseconds when the current outage began; 0 while usable.
    unusable_since: AtomicU64,
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
    pub acknowledged: u64,
    /// Indexed like [`UNCONFIRMED_REASONS`].
    pub unconfirmed: [u64; 6],
    pub health_failures: u64,
    /// Streams mode: entries read, and the age of the last one when read (ms).
    pub stream_entries_read: u64,
    pub stream_lag_ms: u64,
    /// Time Redis was unusable since the bridge started, the current outage included.
    pub unusable_ms: u64,
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
            acknowledged: self.acknowledged.load(Relaxed),
            unconfirmed: std::array::from_fn(|i| self.unconfirmed[i].load(Relaxed)),
            health_failures: self.health_failures.load(Relaxed),
            stream_entries_read: self.stream_entries_read.load(Relaxed),
            stream_lag_ms: self.stream_lag_ms.load(Relaxed),
            unusable_ms: self.unusable_ms(),
        }
    }

    /// Time unusable so far, the current outage included.
    pub fn unusable_ms(&self) -> u64 {
        let since = self.unusable_since.load(Relaxed);
        let current = if since == 0 {
            0
        } else {
            unix_ms().saturating_sub(since)
        };
        self.unusable_ms.load(Relaxed).saturating_add(current)
    }

    /// Connected (subscriptions confirmed) or not. Also keeps the unusable time: the bridge
    /// thread is the only writer.
    pub(crate) fn set_connected(&self, up: bool) {
        self.connected.store(up, Relaxed);
        let since = self.unusable_since.load(Relaxed);
        if up && since != 0 {
            self.unusable_ms
                .fetch_add(unix_ms().saturating_sub(since), Relaxed);
            self.unusable_since.store(0, Relaxed);
        } else if !up && since == 0 {
            self.unusable_since.store(unix_ms().max(1), Relaxed);
        }
    }

    /// `n` broadcasts not acknowledged, for `reason`.
    pub(crate) fn unconfirmed(&self, reason: PublishError, n: u64) {
        self.unconfirmed[reason_index(reason)].fetch_add(n, Relaxed);
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
