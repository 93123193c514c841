//! Per-core state: sessions in a slab, the room index, timers, and the cross-core endpoint.
//!
//! One [`Worker`] per thread, reached through [`with_worker`]. Nothing here is shared between
//! threads; other cores are reached only through [`Msg`]s on the mesh.

use std::any::Any;
use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::Instant;

use bytes::Bytes;
use ringcast_codec::eio::{CloseReason, Session, Transport};
use ringcast_codec::sio::{self};
use ringcast_codec::ws::{CloseCode, OutFrame};
use slab::Slab;
use smallvec::SmallVec;

use super::adapter::Publisher;
use super::conn::write_policy::FlushPolicy;
use super::delivery::PendingCounts;
use super::recovery::RecoveryStore;
use super::rooms::{Directory, RoomIndex};
use super::stats::WorkerStats;
use super::{DisconnectReason, EngineConfig, Handler, Msg, PathKind, Socket};
use crate::engine::Room;
use crate::engine::mesh::Mesh;
use crate::engine::sid::{ShardId, Sid};

mod eio3;
mod fanout;
mod recovery;
mod socketio;
mod timers;

pub(crate) use eio3::V3Open;
pub(crate) use recovery::Authorized;

/// How long a closed polling session waits for its client's next GET (clients poll again as
/// soon as a response arrives, so this is only reached when the client is gone).
pub(crate) const LINGER_MS: u64 = 5_000;

thread_local! {
    static WORKER: RefCell<Option<Worker>> = const { RefCell::new(None) };
}

/// Installs this thread's worker.
pub(crate) fn install(worker: Worker) {
    WORKER.with(|w| *w.borrow_mut() = Some(worker));
}

/// Runs `f` with this thread's worker. Never call it re-entrantly or across an `.await`.
///
/// # Panics
/// Outside a worker thread (a programming error, never input-driven).
pub(crate) fn with_worker<R>(f: impl FnOnce(&mut Worker) -> R) -> R {
    WORKER.with(|w| {
        let mut guard = w.borrow_mut();
        let worker = guard
            .as_mut()
            .expect("with_worker called outside a ringcast worker thread");
        f(worker)
    })
}

/// A handle on a session that survives slab-key reuse: the key plus the sid that must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConnRef {
    pub key: usize,
    pub sid: Sid,
}

/// A Socket.IO socket: one namespace of an Engine.IO session.
pub(crate) struct SocketSlot {
    pub nsp: Room,
    pub sid: Sid,
    /// Two inline: most sockets are in their user room and perhaps one more (32 bytes less in
    /// every idle connection's slab entry than four).
    pub rooms: SmallVec<[Room; 2]>,
    /// Broadcast sequence number of the last broadcast this socket received: a socket in
    /// several target rooms is reached once without building a set per broadcast.
    pub stamp: u64,
    pub data: Box<dyn Any>,
    /// When [`Handler::on_deadline`] is due for this socket (worker clock, ms).
    pub deadline: Option<u64>,
    /// Connection state recovery (`None` when off): its private session id, the offsets of
    /// the last broadcasts queued to it, and the log's head when it connected. Boxed: 112
    /// bytes that every idle connection carried inline while recovery is off (the default).
    pub recovery: Option<Box<recovery::SocketRecovery>>,
    /// When the socket connected (unix ms), for the server API's user lookup.
    pub connected_at_ms: u64,
}

/// The socket ids of a session's connected sockets, comma-separated (`-` when none), for logs.
struct SocketIds<'a>(&'a [Option<SocketSlot>]);

impl std::fmt::Display for SocketIds<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut ids = self.0.iter().flatten().map(|s| s.sid);
        match ids.next() {
            None => f.write_str("-"),
            Some(first) => {
                write!(f, "{first}")?;
                ids.try_for_each(|id| write!(f, ",{id}"))
            }
        }
    }
}

/// One Engine.IO session and its Socket.IO sockets.
pub(crate) struct Conn {
    pub sid: Sid,
    pub eio: Session,
    pub peer: SocketAddr,
    /// The Socket.IO side of the session (its namespaces, acks, binary attachments and connect
    /// timeout); `None` for an echo session. The worker only drives it ([`Worker::drive_sio`]).
    pub sio: Option<sio::Session<Sid>>,
    /// The application state of each connected socket, indexed by the session's [`Slot`].
    pub sockets: SmallVec<[Option<SocketSlot>; 1]>,
    /// What `authorize` returned for a CONNECT accepted by the session and not yet reported
    /// [`sio::Output::Connected`], by socket id.
    /// A `Vec`, not inline: an entry (~70 bytes) lives only between the CONNECT's decision and
    /// its `Connected` output, and [`Conn::trim_idle`] frees the storage after.
    pub authorized: Vec<Authorized>,
    /// WebSocket-level control frames (pong, close) for the websocket writer, ahead of the queue.
    /// A `Vec` (24 bytes), not one inline (56): a client's ping is rare, and
    /// [`Conn::trim_idle`] frees the storage after.
    pub ws_control: Vec<OutFrame>,
    /// Close the websocket with this code once the queue is written.
    pub ws_close: Option<CloseCode>,
    /// The close code that says why the session ended, for the websocket's close frame after
    /// the Engine.IO close packet (a protocol violation's; `None`: 1000, or 1001 at shutdown).
    pub close_code: Option<CloseCode>,
    pub ws_waker: Option<Waker>,
    pub poll_waker: Option<Waker>,
    /// Transport tasks attached (a websocket connection, a pending polling GET).
    pub attached: u8,
    pub ws_attached: bool,
    /// Deadline armed in the timer heap (u64::MAX: none).
    pub armed: u64,
    pub closed: bool,
    /// Echo Engine.IO messages instead of running Socket.IO (see `EngineConfig::echo_paths`).
    pub echo: bool,
    /// `Some` when the session's path uses the msgpack parser (`EngineConfig::msgpack_paths`):
    /// what the JSON encoders write is transcoded on the way to the queue, one binary message
    /// per packet (a binary packet is held here until its attachment frames arrived).
    /// Boxed: 8 bytes in every slab entry instead of 32 for a parser few paths use.
    pub msgpack: Option<Box<sio::msgpack::Outbound>>,
    /// The transport this session is counted under in the gauges.
    pub counted: Transport,
    /// A closed polling session waits until then for its client to collect the last packets.
    pub linger_until: Option<u64>,
    /// The websocket's descriptor while its task runs (to cut off a peer that stopped reading).
    pub ws_fd: Option<std::os::fd::RawFd>,
    /// Broadcast frames wait in the queue for the core's flush epoch to end (see
    /// [`FlushPolicy`]); the session is in [`Worker`]'s held list.
    pub held: bool,
    /// The frames queued now have waited for a flush epoch already: the writer sends them
    /// without holding again (cleared when it writes).
    pub waited: bool,
    /// When this session last got a broadcast frame (worker clock, µs).
    pub last_broadcast: Option<u64>,
    /// Its last broadcast frame followed the previous one closely (see [`FlushPolicy`]).
    pub streaming: bool,
    /// Something other than a broadcast was queued since the writer last drained (a reply, an
    /// ack, a ping): the writer sends at once instead of holding for a batch.
    pub urgent: bool,
    /// Its websocket negotiated permessage-deflate: the writer compresses data frames at or
    /// above `EngineConfig::compression`'s threshold.
    pub deflate: bool,
}

/// Every connection's slab entry is touched, so its size is memory per idle connection (issue
/// #12: 176 bytes less once rare fields were boxed, the inline room list halved and the session
/// settings shared). A new field that pushes past it should be boxed if it is rare, or the
/// budget raised knowingly.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Conn>() <= 616);

impl Conn {
    /// Wakes the websocket writer and the pending polling GET, whichever wait. Both can wait at
    /// once while an upgrade is being probed, and a queued message is for whichever transport
    /// carries the queue, so both are woken (waking one that finds nothing costs one poll).
    pub fn wake_transports(&mut self) {
        self.urgent = true;
        self.wake_for_broadcast();
    }

    /// Frees what the session's queues keep from their last use (see `eio::Session::trim`,
    /// `sio::Session::trim`: ~0.9 KiB per idle connection measured), for a transport that
    /// found nothing to send. Not while the session streams broadcasts: its queue would be
    /// allocated again for the next one, microseconds later.
    pub fn trim_idle(&mut self) {
        if self.streaming {
            return;
        }
        self.eio.trim();
        if self.authorized.is_empty() {
            self.authorized = Vec::new();
        }
        if self.ws_control.is_empty() {
            self.ws_control = Vec::new();
        }
        if let Some(sio) = &mut self.sio {
            sio.trim();
        }
    }

    /// Starts the WebSocket upgrade of this session (refused while a websocket is attached, or
    /// when the session's state machine refuses it).
    pub fn begin_upgrade(&mut self, now: u64) -> bool {
        !self.ws_attached && self.eio.handle_upgrade_request(now).is_ok()
    }

    /// Whether this open session already has, or is getting, its websocket: engine.io's
    /// `onWebSocket` accepts another one for the sid ("transport had already been upgraded")
    /// and closes it at once, leaving the session untouched.
    pub fn has_websocket(&self) -> bool {
        !self.closed
            && (self.ws_attached
                || self.eio.transport() == Transport::WebSocket
                || self.eio.is_upgrading())
    }

    /// Registers a polling GET. A closed session still answers GETs until its last packets (the
    /// close packet among them) are collected: see [`Worker::reap`].
    pub fn attach_poll(&mut self, now: u64) -> bool {
        if self.eio.transport() != Transport::Polling {
            return false;
        }
        // A deadline that has passed applies before the request, whether or not the timer task
        // has run yet: a GET at or after the pong deadline finds the session gone (400).
        if self.eio.poll_timeout().is_some_and(|t| t <= now) {
            self.eio.handle_timeout(now);
        }
        let ok = self.eio.handle_poll_request(now).is_ok();
        if ok {
            self.attached += 1;
        }
        ok
    }

    /// A polling GET is done (its response written or failed).
    pub fn detach_poll(&mut self) {
        self.attached = self.attached.saturating_sub(1);
    }

    /// Whether a polling POST may deliver packets to this session.
    pub fn accepts_post(&self) -> bool {
        self.eio.transport() == Transport::Polling && !self.closed
    }

    /// The payload for the pending GET; `Ready(None)` once the session closed with nothing left
    /// to say; otherwise `waker` is woken when there is something.
    pub fn poll_payload(&mut self, waker: &Waker) -> Poll<Option<Bytes>> {
        if let Some(body) = self.eio.poll_payload() {
            return Poll::Ready(Some(body));
        }
        if self.closed {
            return Poll::Ready(None);
        }
        self.poll_waker = Some(waker.clone());
        Poll::Pending
    }

    /// Whether the websocket writer is asleep waiting for frames (not woken yet, not writing):
    /// frames queued for a writer that is awake go out with its next write anyway.
    pub fn writer_asleep(&self) -> bool {
        self.ws_waker.is_some()
    }

    /// [`Conn::wake_transports`] for a broadcast frame whose flush epoch ended (or that goes
    /// out at once: see [`FlushPolicy`]).
    pub fn wake_for_broadcast(&mut self) {
        if let Some(w) = self.ws_waker.take() {
            w.wake();
        }
        if let Some(w) = self.poll_waker.take() {
            w.wake();
        }
    }
}

/// Per-core state.
pub(crate) struct Worker {
    pub shard: ShardId,
    pub config: Arc<EngineConfig>,
    /// The session settings every Engine.IO and Socket.IO session of this core shares (each
    /// holds an `Arc` clone: 8 bytes, not 32, in every connection's slab entry).
    eio_config: Arc<ringcast_codec::eio::SessionConfig>,
    sio_config: Arc<sio::SessionConfig>,
    pub handler: Arc<dyn Handler>,
    pub mesh: Arc<Mesh<Msg>>,
    pub directory: Arc<Directory>,
    pub publisher: Option<Arc<dyn Publisher>>,
    /// Connection state recovery's store, when it is on.
    pub recovery: Option<Arc<dyn RecoveryStore>>,
    /// Per source log, the highest offset this core fanned out (recovery's disconnect
    /// decision: see `recovery::decide`).
    pub seen: super::recovery::Watermarks,
    /// Where this core is in the cluster's ordered log (streams mode; see `LogMark`).
    pub mark: super::recovery::LogMark,
    pub all_stats: Arc<[WorkerStats]>,
    pub admission: Arc<super::limits::Admission>,
    pub conns: Slab<Conn>,
    pub by_sid: HashMap<Sid, usize>,
    /// Socket id → (session key, socket slot).
    pub sockets: HashMap<Sid, (usize, usize)>,
    /// Namespace → room → members (session key, socket slot).
    pub rooms: RoomIndex,
    pub stamp: u64,
    timers: BinaryHeap<Reverse<(u64, usize)>>,
    /// The instant (ms) the timer task sleeps until (`u64::MAX`: until woken).
    timer_target: u64,
    /// The timer task, asleep until `timer_target`: woken when an earlier deadline is pushed.
    timer_waker: Option<Waker>,
    epoch: Instant,
    /// Broadcasts waiting for other cores' delivery counts.
    pub pending: PendingCounts,
    /// Messages a full mesh queue handed back, per destination.
    pub backlog: Vec<VecDeque<Msg>>,
    shutting_down: bool,
    /// Cancels the pending accept at shutdown.
    stop_accepting: Vec<monoio::io::Canceller>,
    /// When the writers of fanned-out broadcasts are woken (the write-coalescing policy).
    pub(super) flush: FlushPolicy,
    /// Sessions with broadcast frames waiting for the flush epoch to end.
    pub(super) held: Vec<usize>,
    /// The flush task, waiting for an epoch to open.
    flush_waker: Option<Waker>,
}

/// What [`Worker::broadcast`] did.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sent {
    /// Sockets reached on this core.
    pub local: usize,
    /// Other cores asked to fan it out (and to report their counts, when asked to).
    pub cores_asked: usize,
}

/// What every worker of a node shares.
#[derive(Clone)]
pub(crate) struct Shared {
    pub config: Arc<EngineConfig>,
    pub handler: Arc<dyn Handler>,
    pub mesh: Arc<Mesh<Msg>>,
    pub directory: Arc<Directory>,
    pub publisher: Option<Arc<dyn Publisher>>,
    pub recovery: Option<Arc<dyn RecoveryStore>>,
    pub stats: Arc<[WorkerStats]>,
    pub admission: Arc<super::limits::Admission>,
}

impl Worker {
    pub fn new(shard: ShardId, shared: Shared) -> Self {
        let Shared {
            config,
            handler,
            mesh,
            directory,
            publisher,
            recovery,
            stats,
            admission,
        } = shared;
        let workers = mesh.workers();
        let seen = super::recovery::Watermarks::new(recovery.as_ref().map_or(0, |r| r.sources()));
        let eio_config = Arc::new(config.session);
        let sio_config = Arc::new(sio::SessionConfig {
            connect_timeout: config.connect_timeout_ms,
            limits: sio::DecodeLimits {
                max_depth: config.max_json_depth,
                ..Default::default()
            },
            ..Default::default()
        });
        Worker {
            shard,
            config,
            eio_config,
            sio_config,
            handler,
            mesh,
            directory,
            publisher,
            recovery,
            seen,
            mark: super::recovery::LogMark::default(),
            all_stats: stats,
            admission,
            conns: Slab::new(),
            by_sid: HashMap::new(),
            sockets: HashMap::new(),
            rooms: RoomIndex::new(),
            stamp: 0,
            timers: BinaryHeap::new(),
            timer_target: u64::MAX,
            timer_waker: None,
            epoch: Instant::now(),
            pending: PendingCounts::default(),
            backlog: (0..workers).map(|_| VecDeque::new()).collect(),
            shutting_down: false,
            stop_accepting: Vec::new(),
            flush: FlushPolicy::default(),
            held: Vec::new(),
            flush_waker: None,
        }
    }

    /// This worker's counters.
    #[inline]
    pub fn stats(&self) -> &WorkerStats {
        &self.all_stats[self.shard.index()]
    }

    /// Milliseconds on this worker's monotonic clock (the codec's `now`).
    pub fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Microseconds on the same clock (the write-coalescing policy's `now`).
    fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    // ---- write coalescing ----

    /// A broadcast is about to be fanned out on this core: ends a flush epoch whose deadline
    /// passed, counts the broadcast, and returns the time (µs) and the open epoch's deadline
    /// (the writers of streaming sockets stay asleep until then).
    pub(super) fn flush_for_broadcast(&mut self) -> (u64, Option<u64>) {
        let now = self.now_us();
        self.flush_due_at(now);
        self.flush.handle_broadcast(now);
        (now, self.flush.open_epoch(now))
    }

    /// The websocket writer of session `key` holds its batch until the flush epoch ends
    /// (opening one if none is open); its waker, registered as it waits, is woken then.
    pub fn hold_writer(&mut self, key: usize) {
        let now = self.now_us();
        self.flush.handle_hold(now);
        if let Some(c) = self.conns.get_mut(key) {
            c.waited = true;
            if !c.held {
                c.held = true;
                self.held.push(key);
            }
        }
        if let Some(w) = self.flush_waker.take() {
            w.wake();
        }
    }

    /// For the flush task: the instant the open epoch ends, or `Pending` (woken when one opens).
    pub fn poll_flush_deadline(&mut self, waker: &Waker) -> Poll<Instant> {
        match self.flush.poll_deadline() {
            Some(us) => Poll::Ready(self.epoch + std::time::Duration::from_micros(us)),
            None => {
                self.flush_waker = Some(waker.clone());
                Poll::Pending
            }
        }
    }

    /// For the flush task: wakes the held writers if the epoch is over.
    pub fn flush_due(&mut self) {
        let now = self.now_us();
        self.flush_due_at(now);
    }

    fn flush_due_at(&mut self, now: u64) {
        if !self.flush.handle_timeout(now) {
            return;
        }
        for key in std::mem::take(&mut self.held) {
            if let Some(c) = self.conns.get_mut(key) {
                c.held = false;
                c.wake_for_broadcast();
            }
        }
    }

    // ---- shutdown ----

    /// The accept loop's canceller: [`Worker::begin_shutdown`] stops accepting through it.
    pub fn on_shutdown_cancel(&mut self, canceller: monoio::io::Canceller) {
        self.stop_accepting.push(canceller);
    }

    /// Whether this worker is draining (accepts nothing new).
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down
    }

    /// Whether every session is gone.
    pub fn is_drained(&self) -> bool {
        self.conns.is_empty()
    }

    /// Stops accepting and closes every session.
    pub fn begin_shutdown(&mut self) {
        self.shutting_down = true;
        for c in self.stop_accepting.drain(..) {
            drop(c.cancel());
        }
        let keys: Vec<usize> = self.conns.iter().map(|(k, _)| k).collect();
        for key in keys {
            // An Engine.IO close (then WebSocket 1001), deliberately without a Socket.IO
            // DISCONNECT: stock clients treat DISCONNECT as "io server disconnect" and stay down,
            // while a closed transport makes them reconnect (to another node).
            self.close_session(key);
        }
    }

    // ---- sessions ----

    /// Creates a session on this core.
    pub fn open_session(
        &mut self,
        transport: Transport,
        peer: SocketAddr,
        kind: PathKind,
    ) -> std::io::Result<ConnRef> {
        let echo = kind == PathKind::Echo;
        let sid = Sid::generate(self.shard)?;
        let now = self.now();
        let eio = Session::new(self.eio_config.clone(), transport, now);
        let sio = (!echo).then(|| sio::Session::new(self.sio_config.clone(), now));
        let key = self.conns.insert(Conn {
            sid,
            eio,
            peer,
            sio,
            sockets: SmallVec::new(),
            authorized: Vec::new(),
            ws_control: Vec::new(),
            ws_close: None,
            close_code: None,
            ws_waker: None,
            poll_waker: None,
            attached: 0,
            ws_attached: false,
            armed: u64::MAX,
            closed: false,
            echo,
            msgpack: (kind == PathKind::Msgpack).then(Box::default),
            counted: transport,
            ws_fd: None,
            held: false,
            waited: false,
            last_broadcast: None,
            streaming: false,
            urgent: false,
            deflate: false,
            linger_until: None,
        });
        let stats = self.stats();
        match transport {
            Transport::Polling => {
                stats.handshakes_polling.add(1);
                stats.sessions_polling.add(1);
            }
            Transport::WebSocket => {
                stats.handshakes_websocket.add(1);
                stats.sessions_websocket.add(1);
            }
        }
        self.by_sid.insert(sid, key);
        self.rearm(key);
        Ok(ConnRef { key, sid })
    }

    /// The session `r` names, if it still exists.
    pub fn conn(&mut self, r: ConnRef) -> Option<&mut Conn> {
        self.conns.get_mut(r.key).filter(|c| c.sid == r.sid)
    }

    /// Looks a session up by the sid a client sent.
    pub fn lookup(&self, sid: Sid) -> Option<ConnRef> {
        self.by_sid.get(&sid).map(|&key| ConnRef { key, sid })
    }

    /// After any input to a session: wake its transports, handle closure, re-arm its timer.
    pub fn after(&mut self, key: usize) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        if let Some(reason) = conn.eio.poll_close() {
            let reason = match reason {
                CloseReason::ClientClose | CloseReason::TransportClose => {
                    DisconnectReason::TransportClose
                }
                CloseReason::ServerClose => {
                    if self.shutting_down {
                        DisconnectReason::ServerShutdown
                    } else {
                        DisconnectReason::ServerNamespaceDisconnect
                    }
                }
                CloseReason::PingTimeout => DisconnectReason::PingTimeout,
                CloseReason::ParseError | CloseReason::ConcurrentPoll => {
                    DisconnectReason::ParseError
                }
                CloseReason::SlowConsumer => DisconnectReason::SlowConsumer,
            };
            match reason {
                DisconnectReason::SlowConsumer => self.all_stats[self.shard.index()]
                    .slow_consumer_disconnects
                    .add(1),
                DisconnectReason::ParseError => {
                    // The Engine.IO layer's violations (a packet out of sequence, a second
                    // polling GET) are protocol errors; the Socket.IO layer set its own code.
                    let code = *conn.close_code.get_or_insert(CloseCode::PROTOCOL_ERROR);
                    let stats = &self.all_stats[self.shard.index()];
                    stats.protocol_errors.add(1);
                    stats.protocol_closes[super::stats::protocol_close_index(code)].add(1);
                }
                _ => {}
            }
            if matches!(
                reason,
                DisconnectReason::SlowConsumer | DisconnectReason::PingTimeout
            ) && let Some(fd) = conn.ws_fd
            {
                // The peer is not reading: its writer may be parked in a send that will never
                // finish. Shutting the socket down fails that send, so the task, the descriptor
                // and the admission slot are released now rather than when the peer wakes up.
                // SAFETY: `ws_fd` is set only while the websocket task holds the stream open
                // (cleared before it drops it); shutdown does not close the descriptor.
                unsafe {
                    libc::shutdown(fd, libc::SHUT_RDWR);
                }
            }
            // Both ids on both lines ("socket connected" too): the socket id is what the
            // application sees, the session id what the transport's URLs carry.
            let socket_id = SocketIds(&conn.sockets);
            if reason == DisconnectReason::SlowConsumer {
                tracing::warn!(session_id = %conn.sid, %socket_id, peer = %conn.peer, "disconnecting slow consumer: outbound queue over its bound");
            } else {
                tracing::debug!(session_id = %conn.sid, %socket_id, peer = %conn.peer, reason = reason.as_str(), "session closed");
            }
            conn.closed = true;
            if let Some(sio) = conn.sio.as_mut() {
                sio.handle_engine_closed(reason);
            }
            self.drive_sio(key);
        }
        if let Some(conn) = self.conns.get_mut(key)
            && !conn.closed
            && conn.eio.transport() != conn.counted
        {
            conn.counted = conn.eio.transport();
            let stats = &self.all_stats[self.shard.index()];
            stats.sessions_polling.sub(1);
            stats.sessions_websocket.add(1);
            stats.upgrades.add(1);
        }
        self.wake(key);
        self.rearm(key);
        self.reap(key);
    }

    /// Wakes whatever transport task waits on this session.
    pub fn wake(&mut self, key: usize) {
        if let Some(conn) = self.conns.get_mut(key) {
            conn.wake_transports();
        }
    }

    /// Removes a closed session once no transport task refers to it. A polling session whose
    /// client has not collected its last packets (the close packet among them) lingers until
    /// the next GET takes them or [`LINGER_MS`] passes: without it a client polling between
    /// two requests would find "Session ID unknown" instead of a clean close.
    pub fn reap(&mut self, key: usize) {
        let now = self.now();
        let Some(c) = self.conns.get_mut(key) else {
            return;
        };
        if !c.closed || c.attached != 0 {
            return;
        }
        let undelivered = c.counted == Transport::Polling && c.eio.queued_bytes() > 0;
        if undelivered {
            match c.linger_until {
                None => {
                    c.linger_until = Some(now + LINGER_MS);
                    c.armed = now + LINGER_MS;
                    self.push_timer(now + LINGER_MS, key);
                    return;
                }
                Some(until) if until > now => return,
                Some(_) => {}
            }
        }
        let conn = self.conns.remove(key);
        self.by_sid.remove(&conn.sid);
        match conn.counted {
            Transport::Polling => self.stats().sessions_polling.sub(1),
            Transport::WebSocket => self.stats().sessions_websocket.sub(1),
        }
    }

    /// Closes a session from the server side (a close packet is queued for the client).
    pub fn close_session(&mut self, key: usize) {
        let now = self.now();
        if let Some(conn) = self.conns.get_mut(key) {
            conn.eio.close(now);
        }
        self.after(key);
    }

    /// A socket the session reported gone: leaves its rooms, tells the handler, forgets it.
    fn release_socket(&mut self, key: usize, slot: usize, reason: DisconnectReason) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        let Some(Some(socket)) = conn.sockets.get(slot) else {
            return;
        };
        let (nsp, sid) = (socket.nsp.clone(), socket.sid);
        let rooms = socket.rooms.clone();
        self.save_for_recovery(key, slot, reason);
        for room in &rooms {
            self.index_leave(&nsp, room, key, slot);
        }
        if sid.shard() != self.shard {
            // A restored socket living away from the core its id names (see `on_connected`).
            self.index_leave(&nsp, &Room::from(sid.as_str()), key, slot);
        }
        let handler = self.handler.clone();
        {
            let mut s = Socket::new(self, key, slot);
            handler.on_disconnect(&mut s, reason);
        }
        self.sockets.remove(&sid);
        let stats = self.stats();
        stats.sockets.sub(1);
        stats.disconnects[super::stats::disconnect_index(reason)].add(1);
        if let Some(conn) = self.conns.get_mut(key)
            && let Some(entry) = conn.sockets.get_mut(slot)
        {
            *entry = None;
        }
    }
}
