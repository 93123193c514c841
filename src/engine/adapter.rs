//! The adapter contract: what the engine offers a cluster adapter and what it expects of one.
//!
//! The engine implements [`LocalNode`] (called from the adapter's thread); an adapter (the Redis
//! bridge in `crate::cluster`, or any other) implements [`Publisher`] (called from worker
//! threads). Broadcasts travel as [`BroadcastOp`]s: already-encoded frames (the Socket.IO EVENT
//! text `42[...]` is in `frames[0].payload()`, binary attachments follow as binary frames), so an
//! adapter re-reads the packet with the codec when it must transcode it for other nodes.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::BroadcastOp;
use super::rooms::Room;

/// Which local sockets a remote command applies to (socket.io's `BroadcastOptions`).
/// A room equal to a socket id designates that socket, as in socket.io.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    /// The namespace, `/`.
    pub nsp: Room,
    /// Sockets in any of these rooms; empty: every socket of the namespace.
    pub rooms: Vec<Room>,
    /// Minus sockets in any of these rooms (or with these ids).
    pub except: Vec<Room>,
}

/// A command from another node or an emitter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteCommand {
    /// `socketsJoin`: matching sockets join `rooms`.
    Join {
        selector: Selector,
        rooms: Vec<Room>,
    },
    /// `socketsLeave`: matching sockets leave `rooms`.
    Leave {
        selector: Selector,
        rooms: Vec<Room>,
    },
    /// `disconnectSockets`: matching sockets are disconnected (`close`: also close the transport).
    Disconnect { selector: Selector, close: bool },
}

/// What `fetchSockets` reports about a local socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketInfo {
    /// The socket id.
    pub id: String,
    /// Its rooms (its own id included, as socket.io reports it).
    pub rooms: Vec<String>,
}

/// The engine's side, called from the bridge thread. Implementations must not block the
/// caller for long and must not take a lock that workers take on their hot path.
pub trait LocalNode: Send + Sync + 'static {
    /// Whether any local socket is in `room` of `nsp` (used to skip room messages before decoding).
    fn has_local_room(&self, nsp: &str, room: &str) -> bool;
    /// Delivers a broadcast to local sockets on every worker. Never re-published.
    fn deliver(&self, op: BroadcastOp);
    /// Delivers a broadcast that must also skip every member of `except_rooms`: rooms that are
    /// not socket ids (`io.except("room")` on a Node.js node or the emitter), which a
    /// [`BroadcastOp`] cannot carry. The default cannot honour them and hands the broadcast
    /// back; the bridge then drops it and counts it as unsupported, because reaching sockets the
    /// sender excluded is worse than a missed delivery.
    fn deliver_except_rooms(
        &self,
        op: BroadcastOp,
        except_rooms: Vec<Room>,
    ) -> Result<(), BroadcastOp> {
        let _ = except_rooms;
        Err(op)
    }
    /// Applies a remote command to local sockets.
    fn apply(&self, command: RemoteCommand);
    /// The local sockets matching `selector`; `reply` is called once, from some thread.
    fn fetch_sockets(&self, selector: Selector, reply: Box<dyn FnOnce(Vec<SocketInfo>) + Send>);
    /// The rooms of `nsp` that have local members; `reply` is called once, from some thread.
    fn all_rooms(&self, nsp: &str, reply: Box<dyn FnOnce(Vec<Room>) + Send>);
}

/// The bridge's side, called from worker threads for broadcasts that originate on this node.
pub trait Publisher: Send + Sync + 'static {
    /// Queues `op` for publication to the other nodes. Must not block. `Err` when the node
    /// currently cannot publish (Redis down): the caller counts it and reports it (HTTP 503).
    fn publish(&self, op: &BroadcastOp) -> Result<(), PublishError>;
}

/// Why a publish to other nodes failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishError {
    /// Not connected to Redis right now.
    Unavailable,
    /// The outbound queue to Redis is full.
    Backlogged,
}

/// Where `fetch_sockets` results go.
pub type FetchReply = Box<dyn FnOnce(Vec<SocketInfo>) + Send>;

/// Gathers `fetch_sockets` answers from every worker and replies once, from the last one.
pub struct Collector {
    remaining: AtomicUsize,
    found: Mutex<Vec<SocketInfo>>,
    reply: Mutex<Option<FetchReply>>,
}

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector")
            .field("remaining", &self.remaining)
            .finish()
    }
}

impl Collector {
    /// Expects `workers` answers.
    pub fn new(workers: usize, reply: FetchReply) -> Self {
        Collector {
            remaining: AtomicUsize::new(workers),
            found: Mutex::new(Vec::new()),
            reply: Mutex::new(Some(reply)),
        }
    }

    /// One worker's answer.
    pub fn add(&self, mut sockets: Vec<SocketInfo>) {
        if let Ok(mut found) = self.found.lock() {
            found.append(&mut sockets);
        }
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            let all = self
                .found
                .lock()
                .map(|mut f| std::mem::take(&mut *f))
                .unwrap_or_default();
            if let Some(reply) = self.reply.lock().ok().and_then(|mut r| r.take()) {
                reply(all);
            }
        }
    }
}
