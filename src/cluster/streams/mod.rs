//! Redis Streams mode (`cluster_mode = "streams"`), the format of
//! `@socket.io/redis-streams-adapter` 0.3: broadcasts are stream entries, their entry ids the
//! recovery offsets, and sessions live in Redis ([`store::StreamsStore`]), so a client of a node
//! that was deployed or crashed recovers on another node.
//!
//! - `entries`: reading XREAD and XRANGE replies (pure);
//! - `store`: the [`crate::engine::recovery::RecoveryStore`] on Redis.
//!
//! The bridge's side (XADD of local broadcasts, the XREAD loop) is `bridge::streams`.

mod entries;
mod store;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub use entries::{Entry, range_entries, read_entries};
pub use store::StreamsStore;
use store::seq_of;

use crate::cluster::stream_id::StreamId;
use crate::engine::recovery::{LogMark, Seq};

/// How far this node's stream reader has read, shared by the reader (which advances it), the
/// bridge (which sends it to the cores as their [`LogMark`]) and the recovery store (which
/// saves it as a socket's starting point at its connect). Runtime state riding with the
/// settings so all get the same one: clones share it, and two options compare equal whatever
/// their positions.
#[derive(Debug, Clone, Default)]
pub struct StreamPosition(Arc<Position>);

#[derive(Debug, Default)]
struct Position {
    at: AtomicU64,
    read: AtomicU64,
}

impl StreamPosition {
    /// The reader has read (or starts after) `id`, `entries` more entries than before.
    pub fn advance(&self, id: StreamId, entries: u64) {
        // Relaxed: a lower bound read by a worker at a socket's connect; a value a few
        // microseconds old only widens the replay window by entries the socket never got. The
        // marks the bridge sends from it are read on the reader's own thread.
        self.0.at.fetch_max(seq_of(id).0, Ordering::Relaxed);
        self.0.read.fetch_add(entries, Ordering::Relaxed);
    }

    /// Where the reader is, as a [`crate::engine::recovery::Seq`]'s value (0: nothing read).
    pub fn get(&self) -> u64 {
        self.0.at.load(Ordering::Relaxed)
    }

    /// Where the reader is, and how many entries it has read, as a core's [`LogMark`].
    pub fn mark(&self) -> LogMark {
        LogMark {
            upto: Seq(self.get()),
            read: self.0.read.load(Ordering::Relaxed),
        }
    }
}

impl PartialEq for StreamPosition {
    fn eq(&self, _: &StreamPosition) -> bool {
        true
    }
}

impl Eq for StreamPosition {}

/// Settings of streams mode, the streams adapter's options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamOptions {
    /// The stream's name (`streamName`).
    pub stream: String,
    /// `XADD … MAXLEN ~ <max_len>` (`maxLen`).
    pub max_len: usize,
    /// Entries per XREAD, and per XRANGE of a replay (`readCount`).
    pub read_count: usize,
    /// How long one XREAD blocks (`blockTimeInMs`).
    pub block_ms: u64,
    /// Saved sessions are at `<session_prefix><pid>` (`sessionKeyPrefix`).
    pub session_prefix: String,
    /// Connection state recovery on: live broadcasts carry their entry id as last argument.
    pub recovery: bool,
    /// How long a saved session can be restored (`maxDisconnectionDuration`).
    pub max_disconnection_ms: u64,
    /// Where this node's reader is (not a setting: see [`StreamPosition`]).
    pub position: StreamPosition,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            stream: "socket.io".to_owned(),
            max_len: 10_000,
            read_count: 100,
            block_ms: 5_000,
            session_prefix: "sio:session:".to_owned(),
            recovery: false,
            max_disconnection_ms: 120_000,
            position: StreamPosition::default(),
        }
    }
}
