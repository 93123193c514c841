//! Connection state recovery (socket.io ≥ 4.6's `connectionStateRecovery`, plus what it lacks):
//! a socket whose transport went away comes back with its id, its rooms and every broadcast it
//! missed.
//!
//! - Every broadcast EVENT without an ack id gets an offset ([`Seq`], written on the wire as
//!   `<epoch>-<n>`, the epoch random per process) as its last argument, in its frame, which is
//!   still encoded once per broadcast; the event is logged ([`log::EventLog`]).
//! - A socket disconnected by its transport (close, error, ping timeout, server shutdown) is
//!   saved ([`sessions::SavedSession`]) under its private id ([`Pid`]) for the disconnection
//!   window.
//! - A CONNECT carrying `pid` (and usually `offset`) restores it: where the replay starts is
//!   [`decide::plan`] (exact across cores: see [`trail`]); the worker queues the missed
//!   frames before the CONNECT reply.
//!
//! [`RecoveryStore`] is the boundary a cluster-wide store (Redis Streams: offsets are stream
//! entry ids, sessions are keys with a TTL) implements; [`local::LocalStore`] is the one-node
//! store.

use std::fmt;

use ringcast_codec::ws::OutFrame;

use super::sid::{ShardId, Sid};
use super::{BroadcastOp, Room};

pub mod decide;
pub mod local;
pub mod log;
pub mod sessions;
pub mod trail;

#[cfg(test)]
mod interleavings;

pub use local::LocalStore;
pub use log::LoggedEvent;
pub use sessions::SavedSession;
pub use trail::{LogMark, Replayed, SentTrail, Watermarks};

/// A position in the node's event log: offsets are given in increasing order across the node
/// (0: before the first event). A streams store can pack a stream id `<ms>-<n>` into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Seq(pub u64);

impl Seq {
    pub const ZERO: Seq = Seq(0);
}

/// What a reconnecting client said about its offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientOffset {
    /// No offset: it received no broadcast event (socket.io-client sends only `pid` then).
    None,
    /// An offset this store gave.
    Ours(Seq),
    /// A string this store did not give (another process, or garbage): it names nothing here.
    Foreign,
}

/// Why a reconnect got a fresh session instead of its old one (the `/metrics` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The disconnection window had passed.
    Expired,
    /// No such session (never saved, used already, or from another process).
    Unknown,
    /// An event after the client's position has left the log: the replay would have a hole.
    OffsetGone,
    /// The token was refused, or names another subject: the session is dropped.
    Auth,
}

impl Failure {
    pub const ALL: [Failure; 4] = [
        Failure::Expired,
        Failure::Unknown,
        Failure::OffsetGone,
        Failure::Auth,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Failure::Expired => "expired",
            Failure::Unknown => "unknown",
            Failure::OffsetGone => "offset_gone",
            Failure::Auth => "auth",
        }
    }

    /// Its slot in [`Failure::ALL`] (and the per-worker counters).
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A private session id: unguessable like a [`Sid`] (114 bits from the OS CSPRNG) and, like
/// it, naming the core whose table holds the saved session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pid(Sid);

impl Pid {
    pub fn generate(shard: ShardId) -> std::io::Result<Pid> {
        Sid::generate(shard).map(Pid)
    }

    pub fn parse(s: &str) -> Option<Pid> {
        Sid::parse(s).map(Pid)
    }

    pub fn shard(&self) -> ShardId {
        self.0.shard()
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Bounds of an event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogBounds {
    pub max_events: usize,
    pub max_bytes: usize,
    pub max_age_ms: u64,
}

/// Recovery settings (the engine's; the gateway derives them from its configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryConfig {
    /// How long a saved session can be restored (socket.io's `maxDisconnectionDuration`).
    pub max_disconnection_ms: u64,
    /// Bounds of each log (one per worker, one for events from other nodes).
    pub log: LogBounds,
}

/// A session brought back.
#[derive(Debug)]
pub struct Restored {
    pub sid: Sid,
    pub rooms: Vec<super::Room>,
    /// The missed broadcasts' frames, in offset order, each with its own offset.
    pub missed: Vec<Vec<OutFrame>>,
    /// The replayed offsets, as queued to the socket (its [`SentTrail`] from now on).
    pub sent: SentTrail,
    /// How far the replay read each source log: in-flight copies up to there are not queued,
    /// and [`RecoveryStore::catch_up`] reads on from there.
    pub replayed: Replayed,
}

/// Broadcasts read from the logs after given points: each with its offset, in offset order,
/// and per source log the last offset read (its start if none).
#[derive(Debug, Default)]
pub struct ReadAfter {
    pub found: Vec<(Seq, Vec<OutFrame>)>,
    pub read: Vec<Seq>,
}

/// What the log holds (for `/metrics`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogSize {
    pub entries: usize,
    pub bytes: usize,
    /// Saved sessions, restorable or recently expired.
    pub sessions: usize,
}

/// The recovery store: offsets and the event log, saved sessions. Called on worker threads
/// (and on the cluster bridge's thread for events from other nodes).
pub trait RecoveryStore: Send + Sync + 'static {
    /// Gives a broadcast its offset and logs it under producer `log` (a worker index, or
    /// [`RecoveryStore::remote_log`]), to be sent to the cores in the bitmask `to`: returns
    /// the op with the offset as its frames' last argument, or unchanged when it is not a
    /// broadcast EVENT without an ack id.
    fn record(&self, log: usize, op: BroadcastOp, to: u64) -> BroadcastOp;
    /// The producer index for broadcasts that arrive from other nodes.
    fn remote_log(&self) -> usize;
    /// The offset `op`'s frames carry, if this store gave it.
    fn offset_of(&self, op: &BroadcastOp) -> Option<Seq>;
    /// The last offset given.
    fn head(&self) -> Seq;
    /// How many source logs offsets come from (the length of a core's [`Watermarks`]).
    fn sources(&self) -> usize {
        1
    }
    /// The source log an offset of this store belongs to.
    fn source_of(&self, _seq: Seq) -> usize {
        0
    }
    /// Per source log, where the replay of what was never queued to a socket that leaves
    /// `core` now starts ([`decide::unqueued_start`]), given the core's watermarks. Empty for
    /// a store that replays from the client's offset alone (streams mode: one source).
    fn unqueued_after(&self, _core: usize, _seen: &Watermarks, _connected_head: Seq) -> Vec<Seq> {
        Vec::new()
    }
    /// Saves a session whose transport went away.
    fn save(&self, session: SavedSession);
    /// Takes the session `pid` names and the broadcasts it missed after what the client holds
    /// (`offset`); `owner` is who the fresh token names. A failure drops the session.
    fn restore(
        &self,
        pid: Pid,
        offset: Option<&str>,
        owner: Option<&str>,
    ) -> Result<Restored, Failure>;
    /// Drops the session `pid` names (a reconnect whose token was refused).
    fn discard(&self, pid: Pid);
    /// What the store holds now.
    fn size(&self) -> LogSize;
    /// Whether a live socket's session is saved on every change too (connect, join, leave), so
    /// a node that dies without a drain (SIGKILL, a crash) loses no client state; a socket that
    /// leaves for good (its own disconnect, a kick) is then [`RecoveryStore::discard`]ed.
    fn keeps_live(&self) -> bool {
        false
    }
    /// For a store that [`RecoveryStore::keeps_live`] and whose log is trimmed by length
    /// (Redis Streams' `MAXLEN`): a live session is saved again once its core's [`LogMark`]
    /// has read this many entries past the one saved, so the point its replay would start from
    /// is still in the log when the node dies. `None`: age alone decides.
    fn refresh_after_entries(&self) -> Option<u64> {
        None
    }
    /// The broadcasts that reach socket `sid` in `rooms` of `nsp` logged after `after` (per
    /// source log, where its replay read to: [`Restored::replayed`]). Read once a restored
    /// socket is back in its rooms: a broadcast logged between its replay and its rejoin was
    /// sent to no core for it (its producer saw no member there).
    fn catch_up(&self, nsp: &Room, sid: Sid, rooms: &[Room], after: &[Seq]) -> ReadAfter;
}

/// `pid` and `offset` from a CONNECT's auth object (both strings, as socket.io-client sends
/// them; anything else is ignored, as the reference's `_createSocket` does).
pub fn connect_fields(auth: Option<&str>) -> (Option<Pid>, Option<String>) {
    let Some(auth) = auth else {
        return (None, None);
    };
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(auth) else {
        return (None, None);
    };
    let pid = map.get("pid").and_then(|v| v.as_str()).and_then(Pid::parse);
    let offset = map
        .get("offset")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    (pid, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_fields_take_strings_only() {
        let pid = Pid::generate(ShardId(1)).expect("csprng");
        let p = pid.as_str();
        let cases: Vec<(String, Option<Pid>, Option<&str>)> = vec![
            (
                format!(r#"{{"token":"t","pid":"{p}","offset":"e-1"}}"#),
                Some(pid),
                Some("e-1"),
            ),
            (format!(r#"{{"token":"t","pid":"{p}"}}"#), Some(pid), None),
            (r#"{"token":"t"}"#.into(), None, None),
            (r#"{"pid":5,"offset":7}"#.into(), None, None),
            (r#"{"pid":"short"}"#.into(), None, None),
            ("[1]".into(), None, None),
            ("not json".into(), None, None),
        ];
        for (auth, want_pid, want_offset) in cases {
            let (got_pid, got_offset) = connect_fields(Some(&auth));
            assert_eq!(got_pid, want_pid, "{auth}");
            assert_eq!(got_offset.as_deref(), want_offset, "{auth}");
        }
        assert_eq!(connect_fields(None), (None, None));
    }

    #[test]
    fn a_pid_names_its_core() {
        for shard in [0u16, 3] {
            let pid = Pid::generate(ShardId(shard)).expect("csprng");
            assert_eq!(pid.shard(), ShardId(shard));
            assert_eq!(Pid::parse(pid.as_str()), Some(pid));
        }
    }
}
