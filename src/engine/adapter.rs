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
use super::recovery::LogMark;
use super::rooms::Room;
pub use super::rooms::RoomWatch;

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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SocketInfo {
    /// The socket id.
    pub id: String,
    /// Its rooms (its own id included, as socket.io reports it).
    pub rooms: Vec<String>,
    /// What ringcast knows beyond socket.io's fields (the server API's user lookup); `None`
    /// from a node that does not send it (a Node socket.io node, the sharded adapter).
    pub meta: Option<SocketMeta>,
}

/// A ringcast socket's details for the server API: they travel in the fetch-sockets answer's
/// `data.ringcast`, where a Node socket.io node ignores them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SocketMeta {
    /// The token's `sub` ([`Handler::owner`](crate::engine::Handler::owner)).
    pub sub: Option<String>,
    /// `websocket` or `polling`: the transport the session uses now.
    pub transport: String,
    /// When the socket connected, unix milliseconds.
    pub connected_at_ms: u64,
    /// The cluster uid of the node that answered with it; `None` for this node's own sockets.
    pub node: Option<String>,
    /// The token's id (`jti`, [`Handler::token_id`](crate::engine::Handler::token_id)).
    pub jti: Option<String>,
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
    /// [`LocalNode::deliver`], reporting how many sockets it reached once every core fanned it
    /// out. The default cannot count: it reports 0.
    fn deliver_counted(&self, op: BroadcastOp, report: CountReport) {
        self.deliver(op);
        drop(report);
    }
    /// Applies a remote command to local sockets.
    fn apply(&self, command: RemoteCommand);
    /// The local sockets matching `selector`; `reply` is called once, from some thread.
    fn fetch_sockets(&self, selector: Selector, reply: Box<dyn FnOnce(Vec<SocketInfo>) + Send>);
    /// The rooms of `nsp` that have local members; `reply` is called once, from some thread.
    fn all_rooms(&self, nsp: &str, reply: Box<dyn FnOnce(Vec<Room>) + Send>);
    /// Tells every core that each broadcast of the cluster's ordered log up to `mark` has been
    /// handed over (by [`LocalNode::deliver`] and its kin, from this same thread, before this
    /// call), so a core that saves a session can say where its replay starts. An adapter
    /// without such a log never calls it.
    fn mark(&self, mark: LogMark) {
        let _ = mark;
    }
    /// Tells `watch` from now on whenever a room gains its first member on this node or loses
    /// its last (an adapter with a channel per room subscribes and unsubscribes on it). `false`
    /// when this engine cannot (the default) or a watch is already installed.
    fn watch_rooms(&self, watch: std::sync::Arc<dyn RoomWatch>) -> bool {
        let _ = watch;
        false
    }
}

/// The bridge's side, called from worker threads for broadcasts that originate on this node.
pub trait Publisher: Send + Sync + 'static {
    /// Queues `op` for publication to the other nodes. Must not block. `Err` when the node
    /// currently cannot publish (Redis down, queue full).
    ///
    /// With an `ack` (an HTTP publish waiting for the truth), the adapter completes it exactly
    /// once: [`PublishAck::complete`] with [`Handed`] once Redis acknowledged the PUBLISH, or
    /// with the [`PublishError`] that stopped it, `Err` included. An ack the adapter drops
    /// unanswered (a bug, or the adapter stopping) completes itself with
    /// [`PublishError::Dropped`], so a waiting request never waits for a lost answer.
    fn publish(&self, op: &BroadcastOp, ack: Option<PublishAck>) -> Result<(), PublishError>;

    /// Whether the adapter also delivers this node's own broadcasts to its local sockets, once
    /// the cluster has given them their offset (Redis Streams: the entry id XADD returns). The
    /// worker then hands a broadcast over and fans nothing out itself.
    fn delivers_locally(&self) -> bool {
        false
    }
}

/// A publication Redis acknowledged: `receivers` subscribers (nodes, this one included) got it,
/// no fewer than the nodes the adapter expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handed {
    pub receivers: usize,
}

/// Why a publish to other nodes failed, or is not known to have reached them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishError {
    /// Not connected to Redis right now (or Redis stopped answering its health check).
    Unavailable,
    /// The outbound queue to Redis is full.
    Backlogged,
    /// Redis answered the PUBLISH with an error, or the connection broke under it.
    Failed,
    /// Redis did not answer the PUBLISH within the adapter's command deadline.
    TimedOut,
    /// Redis counted fewer subscribers than the nodes expected (a node not yet resubscribed).
    MissingSubscribers { receivers: usize, expected: usize },
    /// The adapter dropped the publication without an answer (it is stopping).
    Dropped,
    /// No answer reached the waiting request within its bound.
    NoAnswer,
}

impl PublishError {
    /// A stable name for JSON bodies and metric labels.
    pub fn reason(self) -> &'static str {
        match self {
            PublishError::Unavailable => "redis_unavailable",
            PublishError::Backlogged => "publish_queue_full",
            PublishError::Failed => "redis_error",
            PublishError::TimedOut => "redis_timeout",
            PublishError::MissingSubscribers { .. } => "subscribers_missing",
            PublishError::Dropped => "bridge_stopped",
            PublishError::NoAnswer => "no_answer",
        }
    }
}

/// Where the answer to one publication goes: the way back to the worker core whose HTTP
/// request waits on it (the engine sends it there through the mesh's injector as a
/// `Msg::Published`: any thread may complete it, no lock). Completed at most once; dropped
/// unanswered, it answers [`PublishError::Dropped`].
pub struct PublishAck {
    answer: Option<AckFn>,
    /// Where an adapter that delivers locally reports how many sockets it reached here.
    count: Option<CountReport>,
}

/// The engine's side of a [`PublishAck`].
struct AckFn(Box<dyn FnOnce(Result<Handed, PublishError>) + Send>);

impl std::fmt::Debug for PublishAck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublishAck")
            .field("answered", &self.answer.is_none())
            .finish()
    }
}

impl PublishAck {
    /// An ack that calls `answer` with the outcome, once.
    pub fn new(answer: impl FnOnce(Result<Handed, PublishError>) + Send + 'static) -> Self {
        PublishAck {
            answer: Some(AckFn(Box::new(answer))),
            count: None,
        }
    }

    /// Also expects the local delivery count, from an adapter that
    /// [`Publisher::delivers_locally`]: `count` is called once (0 if the event was not
    /// delivered here).
    pub fn counting(mut self, count: impl FnOnce(DeliveryCount) + Send + 'static) -> Self {
        self.count = Some(CountReport(Some(Box::new(count))));
        self
    }

    /// Whether it expects a local delivery count.
    pub fn counts(&self) -> bool {
        self.count.is_some()
    }

    /// The count reporter, for the adapter that delivers the event here.
    pub fn take_count(&mut self) -> Option<CountReport> {
        self.count.take()
    }

    /// Answers the waiting request.
    pub fn complete(mut self, outcome: Result<Handed, PublishError>) {
        self.send(outcome);
    }

    fn send(&mut self, outcome: Result<Handed, PublishError>) {
        if let Some(AckFn(answer)) = self.answer.take() {
            answer(outcome);
        }
    }
}

impl Drop for PublishAck {
    fn drop(&mut self) {
        self.send(Err(PublishError::Dropped));
    }
}

/// How many local sockets a broadcast reached (every core's fan-out, summed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeliveryCount(pub usize);

/// Reports a [`DeliveryCount`] once; dropped unreported, it reports 0, so a waiting publish
/// never waits for a count that will not come.
pub struct CountReport(Option<Box<dyn FnOnce(DeliveryCount) + Send>>);

impl std::fmt::Debug for CountReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CountReport")
            .field("reported", &self.0.is_none())
            .finish()
    }
}

impl CountReport {
    pub fn report(mut self, count: DeliveryCount) {
        if let Some(report) = self.0.take() {
            report(count);
        }
    }
}

impl Drop for CountReport {
    fn drop(&mut self) {
        if let Some(report) = self.0.take() {
            report(DeliveryCount(0));
        }
    }
}

/// Sums the fan-out counts of `cores` cores and reports the total from the last one.
#[derive(Debug)]
pub struct DeliveryCounter {
    remaining: AtomicUsize,
    total: AtomicUsize,
    report: Mutex<Option<CountReport>>,
}

impl DeliveryCounter {
    pub fn new(cores: usize, report: CountReport) -> Self {
        DeliveryCounter {
            remaining: AtomicUsize::new(cores),
            total: AtomicUsize::new(0),
            report: Mutex::new(Some(report)),
        }
    }

    /// One core reached `count` sockets.
    pub fn add(&self, count: usize) {
        self.total.fetch_add(count, Ordering::AcqRel);
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1
            && let Some(report) = self.report.lock().ok().and_then(|mut r| r.take())
        {
            report.report(DeliveryCount(self.total.load(Ordering::Acquire)));
        }
    }
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
