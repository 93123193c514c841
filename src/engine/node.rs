//! Starting the workers: one thread per core, each with its own monoio runtime (io_uring, or
//! epoll where io_uring is unavailable), its own SO_REUSEPORT listener, and its own state.

use std::future::poll_fn;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::mpsc;
use std::task::Poll;
use std::time::Duration;

use monoio::io::AsyncReadRent;
use socket2::{Domain, Protocol, Socket as RawSocket, Type};

use crate::engine::Room;
use crate::engine::adapter::{
    Collector, CountReport, DeliveryCount, DeliveryCounter, LocalNode, Publisher, RemoteCommand,
    RoomWatch, Selector, SocketInfo,
};
use crate::engine::conn;
use crate::engine::limits::Admission;
use crate::engine::mesh::{Doorbell, Mesh};
use crate::engine::recovery::{LocalStore, LogMark, RecoveryStore};
use crate::engine::rooms::Directory;
use crate::engine::sid::ShardId;
use crate::engine::stats::WorkerStats;
use crate::engine::worker::{Shared, Worker, install, with_worker};
use crate::engine::{EngineConfig, Handler, Msg};

/// A running engine: its address and the threads serving it.
#[derive(Debug)]
pub struct Running {
    /// The address the workers accept on (the real port when configured with port 0).
    pub local_addr: SocketAddr,
    /// Which io driver the workers run (`io_uring` or `epoll`).
    pub driver: &'static str,
    threads: Vec<std::thread::JoinHandle<()>>,
    mesh: Arc<Mesh<Msg>>,
    drained: mpsc::Receiver<ShardId>,
    stats: Arc<[WorkerStats]>,
}

impl Running {
    /// The workers' counters (what `/metrics` sums), for readers outside the workers.
    pub fn stats(&self) -> Arc<[WorkerStats]> {
        self.stats.clone()
    }

    /// Waits for every worker thread to end.
    pub fn join(self) {
        for t in self.threads {
            let _ = t.join();
        }
    }

    /// Asks every worker to stop accepting and to close every session (clients are told, so
    /// they reconnect elsewhere), then waits until all sessions are gone or `timeout` passes.
    /// Returns whether every worker drained in time.
    pub fn shutdown(&self, timeout: Duration) -> bool {
        let workers = self.mesh.workers();
        for i in 0..workers {
            self.mesh.inject(ShardId(i as u16), Msg::Shutdown);
        }
        let deadline = std::time::Instant::now() + timeout;
        let mut drained = 0;
        while drained < workers {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.drained.recv_timeout(left) {
                Ok(_) => drained += 1,
                Err(_) => return false,
            }
        }
        true
    }
}

/// Starts `config.workers` workers serving `handler`; returns once every worker accepts.
pub fn start(config: EngineConfig, handler: Arc<dyn Handler>) -> std::io::Result<Running> {
    start_clustered(config, handler, |_| Ok(None))
}

/// Like [`start`], with clustering: `cluster` receives this node's [`LocalNode`] handle and
/// returns the publisher that carries local broadcasts to the other nodes.
pub fn start_clustered(
    config: EngineConfig,
    handler: Arc<dyn Handler>,
    cluster: impl FnOnce(Arc<dyn LocalNode>) -> std::io::Result<Option<Arc<dyn Publisher>>>,
) -> std::io::Result<Running> {
    start_with_store(config, handler, None, cluster)
}

/// Like [`start_clustered`], with the recovery store given (a cluster-wide one) instead of
/// the one-node [`LocalStore`] that `config.recovery` otherwise gets; `None`: that default.
pub fn start_with_store(
    config: EngineConfig,
    handler: Arc<dyn Handler>,
    store: Option<Arc<dyn RecoveryStore>>,
    cluster: impl FnOnce(Arc<dyn LocalNode>) -> std::io::Result<Option<Arc<dyn Publisher>>>,
) -> std::io::Result<Running> {
    let workers = config.workers.clamp(1, ShardId::MAX_SHARDS);
    let listeners = bind_everywhere(&config.listen, workers)?;
    let local_addr = listeners
        .first()
        .and_then(|l| l.first())
        .ok_or_else(|| std::io::Error::other("no listen address"))?
        .local_addr()?;
    let (mesh, bells) = Mesh::<Msg>::new(workers)?;
    let directory = Arc::new(Directory::default());
    let stats: Arc<[WorkerStats]> = (0..workers).map(|_| WorkerStats::default()).collect();
    let admission = Arc::new(Admission::new(
        config.max_connections,
        config.max_connections_per_ip,
    ));
    let recovery: Option<Arc<dyn RecoveryStore>> = match (config.recovery, store) {
        (Some(_), Some(store)) => Some(store),
        (Some(r), None) => Some(Arc::new(LocalStore::new(r, workers)?)),
        (None, _) => None,
    };
    let node: Arc<dyn LocalNode> = Arc::new(NodeHandle {
        mesh: mesh.clone(),
        directory: directory.clone(),
        recovery: recovery.clone(),
        compression: config.compression,
    });
    let publisher = cluster(node)?;
    let config = Arc::new(EngineConfig { workers, ..config });
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let (ready_tx, ready_rx) = mpsc::channel::<std::io::Result<&'static str>>();
    let (drained_tx, drained) = mpsc::channel::<ShardId>();
    let mut threads = Vec::with_capacity(workers);
    for (i, (listeners, bell)) in listeners.into_iter().zip(bells).enumerate() {
        let shared = Shared {
            config: config.clone(),
            handler: handler.clone(),
            mesh: mesh.clone(),
            directory: directory.clone(),
            publisher: publisher.clone(),
            recovery: recovery.clone(),
            stats: stats.clone(),
            admission: admission.clone(),
        };
        let (ready, drained) = (ready_tx.clone(), drained_tx.clone());
        let thread = std::thread::Builder::new()
            .name(format!("ringcast-w{i}"))
            .spawn(move || {
                if shared.config.pin_cores {
                    pin_to_core(i % cores);
                }
                worker_thread(ShardId(i as u16), shared, listeners, bell, ready, drained);
            })?;
        threads.push(thread);
    }
    drop(ready_tx);
    let mut driver = "io_uring";
    for _ in 0..workers {
        match ready_rx.recv() {
            Ok(Ok(d)) => driver = d,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(std::io::Error::other("a worker exited during start-up")),
        }
    }
    Ok(Running {
        local_addr,
        driver,
        threads,
        mesh,
        drained,
        stats,
    })
}

/// Binds every address of `addrs` for every worker: `result[worker][address]`. Port 0 is
/// resolved once, by the first address, and the others take the same port (a host name's
/// addresses share it).
fn bind_everywhere(addrs: &[SocketAddr], workers: usize) -> std::io::Result<Vec<Vec<TcpListener>>> {
    let mut per_worker: Vec<Vec<TcpListener>> = (0..workers).map(|_| Vec::new()).collect();
    let mut port = 0;
    for &addr in addrs {
        let mut addr = addr;
        if addr.port() == 0 {
            addr.set_port(port);
        }
        let listeners = bind_all(addr, workers)?;
        if port == 0 {
            port = listeners
                .first()
                .map(|l| l.local_addr())
                .transpose()?
                .map_or(0, |a| a.port());
        }
        for (mine, l) in per_worker.iter_mut().zip(listeners) {
            mine.push(l);
        }
    }
    Ok(per_worker)
}

/// Binds one SO_REUSEPORT listener per worker on the same address (port 0 resolved once).
fn bind_all(addr: SocketAddr, workers: usize) -> std::io::Result<Vec<TcpListener>> {
    if addr.port() != 0 {
        // SO_REUSEPORT would let a second server on the same port silently share its
        // connections (with different secrets, half the tokens would fail). A plain bind first
        // (SO_REUSEADDR only, so TIME_WAIT leftovers of a restart don't count) fails with
        // EADDRINUSE when anything already listens there.
        let probe = RawSocket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        probe.set_reuse_address(true)?;
        probe.bind(&addr.into())?;
        probe.listen(1)?;
        drop(probe);
    }
    let mut listeners = Vec::with_capacity(workers);
    let mut addr = addr;
    for _ in 0..workers {
        let socket = RawSocket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_reuse_address(true)?;
        socket.set_reuse_port(true)?;
        // Accepted sockets inherit TCP_NODELAY from the listener (Linux clones the listening
        // socket's options), so no setsockopt per connection: that was ~1 % of the connect
        // storm's server CPU. `accepted_sockets_inherit_nodelay` checks the inheritance.
        socket.set_nodelay(true)?;
        socket.bind(&addr.into())?;
        socket.listen(4096)?;
        // Non-blocking for the epoll driver, which accepts with accept4(2) until EAGAIN: a
        // blocking listener would park the worker thread inside accept (io_uring does not mind).
        socket.set_nonblocking(true)?;
        let listener: TcpListener = socket.into();
        if addr.port() == 0 {
            addr = listener.local_addr()?;
        }
        listeners.push(listener);
    }
    Ok(listeners)
}

fn pin_to_core(core: usize) {
    // SAFETY: cpu_set_t is a plain bit array; all-zero is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: CPU_SET writes one bit inside `set`, which it bounds-checks against its size.
    unsafe { libc::CPU_SET(core, &mut set) };
    // SAFETY: `set` is initialised and its size is passed; pid 0 means the calling thread.
    if unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) } != 0 {
        tracing::warn!(core, "could not pin worker to its core");
    }
}

/// How much of io_uring's task-work tuning a worker's ring gets (best first; a kernel that
/// refuses one falls back to the next).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RingSetup {
    /// `IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN` (Linux 6.1): completions are
    /// posted only when the worker asks for them, at its `io_uring_enter` with GETEVENTS, which
    /// monoio makes when its run queue is empty. A busy worker is then never interrupted to
    /// post one completion at a time, and a turn of its loop reaps them in one batch. Measured
    /// on fanout-1k with the tokio reader (2 runs each, same binary): deliveries per server
    /// CPU-s 1.01 M → 1.15 M (+13 %), deliveries per TCP segment 17–19 → 21.5; reqresp within
    /// noise (−4 %).
    DeferTaskrun,
    /// `IORING_SETUP_COOP_TASKRUN` (Linux 5.19). Without it a completion produced on another
    /// CPU (a loopback peer's send is processed in softirq on the sender's CPU) is handed to the
    /// worker as task work with an IPI that interrupts it as if by a signal: profiling the
    /// request/response benchmark showed ~40 % of the worker's cycles in
    /// `irqentry_exit_to_user_mode` and the `get_signal` spin lock (perf, 100 clients, heartbeat
    /// → heartbeat_ack). With the flag the task work waits for the worker's next
    /// `io_uring_enter`, which a busy worker makes at every loop turn and an idle one is woken
    /// from.
    CoopTaskrun,
    Plain,
}

/// Submission queue entries per ring.
const SQ_ENTRIES: u32 = 1024;

/// Completion queue entries per ring (io_uring's default is twice [`SQ_ENTRIES`]): the kernel
/// sizes its cancel hash from it ("hash_bits = ilog2(p->cq_entries) - 5", clamped to 1..8), and
/// every armed poll (one per idle websocket) sits in that table. monoio submits an ASYNC_CANCEL
/// after each close (its fd drop makes a close op and drops it), which walks one bucket: with 64
/// buckets that was ~150 entries per disconnect at 10 000 connections and `io_poll_find` ~4 % of a
/// connect storm's CPU; 256 buckets cut the walk 4x. The larger ring also keeps a burst of
/// completions from overflowing. Cost: 128 KiB of ring per worker.
const CQ_ENTRIES: u32 = 8192;

/// One worker's runtime: io_uring when the kernel has it, epoll otherwise. Every ring is used
/// by its worker thread only (monoio's cross-thread wake-ups go through an eventfd, not the
/// ring), which SINGLE_ISSUER requires.
fn build_runtime(
    setup: RingSetup,
) -> std::io::Result<
    monoio::FusionRuntime<
        monoio::time::TimeDriver<monoio::IoUringDriver>,
        monoio::time::TimeDriver<monoio::LegacyDriver>,
    >,
> {
    let mut urb = io_uring::IoUring::builder();
    urb.setup_cqsize(CQ_ENTRIES);
    match setup {
        RingSetup::DeferTaskrun => {
            urb.setup_single_issuer();
            urb.setup_defer_taskrun();
        }
        RingSetup::CoopTaskrun => {
            urb.setup_coop_taskrun();
        }
        RingSetup::Plain => {}
    }
    monoio::RuntimeBuilder::<monoio::FusionDriver>::new()
        .with_entries(SQ_ENTRIES)
        .uring_builder(urb)
        .enable_timer()
        .build()
}

fn worker_thread(
    shard: ShardId,
    shared: Shared,
    listeners: Vec<TcpListener>,
    bell: Doorbell,
    ready: mpsc::Sender<std::io::Result<&'static str>>,
    drained: mpsc::Sender<ShardId>,
) {
    let built = build_runtime(RingSetup::DeferTaskrun)
        .or_else(|e| {
            tracing::debug!(error = %e, "io_uring without DEFER_TASKRUN (kernel older than 6.1?)");
            build_runtime(RingSetup::CoopTaskrun)
        })
        .or_else(|e| {
            tracing::debug!(error = %e, "io_uring without COOP_TASKRUN (kernel older than 5.19?)");
            build_runtime(RingSetup::Plain)
        });
    let mut runtime = match built {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let driver = match &runtime {
        monoio::FusionRuntime::Uring(_) => "io_uring",
        monoio::FusionRuntime::Legacy(_) => "epoll",
    };
    tracing::info!(worker = shard.0, driver, "worker starting");
    install(Worker::new(shard, shared));
    runtime.block_on(async move {
        let mut accepting = Vec::with_capacity(listeners.len());
        for listener in listeners {
            match monoio::net::TcpListener::from_std(listener) {
                Ok(l) => accepting.push(l),
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return;
                }
            }
        }
        let bell = match monoio::net::UnixStream::from_std(bell.0) {
            Ok(b) => b,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        monoio::spawn(mesh_loop(bell));
        monoio::spawn(timer_loop());
        monoio::spawn(flush_loop());
        let _ = ready.send(Ok(driver));
        // One accept loop per address; each ends at shutdown.
        let loops: Vec<_> = accepting
            .into_iter()
            .map(|l| monoio::spawn(accept_loop(l)))
            .collect();
        for l in loops {
            l.await;
        }
        drain().await;
        let _ = drained.send(shard);
    });
}

async fn accept_loop(listener: monoio::net::TcpListener) {
    let canceller = monoio::io::Canceller::new();
    let handle = canceller.handle();
    with_worker(|w| w.on_shutdown_cancel(canceller));
    loop {
        if with_worker(|w| w.is_shutting_down()) {
            return;
        }
        match listener.cancelable_accept(handle.clone()).await {
            Ok((stream, peer)) => {
                if with_worker(|w| w.is_shutting_down()) {
                    return;
                }
                match with_worker(|w| w.admission.try_admit(peer.ip())) {
                    Ok(permit) => {
                        conn::spawn_serve(stream, peer, Vec::new(), permit);
                    }
                    Err(refusal) => {
                        with_worker(|w| w.stats().connections_refused.add(1));
                        tracing::debug!(peer = %peer, ?refusal, "connection refused at accept");
                        monoio::spawn(conn::refuse(stream, refusal));
                    }
                }
            }
            Err(_) if with_worker(|w| w.is_shutting_down()) => return,
            Err(e) => {
                // EMFILE/ENFILE: back off instead of spinning on a full descriptor table.
                tracing::warn!(error = %e, "accept failed");
                monoio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// After shutdown: wait until every session is gone (clients were told to go).
async fn drain() {
    while !with_worker(|w| w.is_drained()) {
        monoio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs each deadline of the core's timer heap at its instant: sleeps until the earliest one,
/// woken early when an earlier one is pushed (`Worker::push_timer`). One sleep per distinct
/// millisecond that has a deadline: 10 000 sessions on a 25 s ping interval are 400 wakeups a
/// second, each running the deadlines due (the pings those sessions need anyway); the
/// fixed tick it replaces (a tenth of the shortest deadline) let two chained deadlines (ping,
/// then pong due) each land up to a tick late.
async fn timer_loop() {
    loop {
        match with_worker(|w| w.next_timer()) {
            Some((at, instant)) => {
                let mut sleep = std::pin::pin!(monoio::time::sleep_until(
                    monoio::time::Instant::from_std(instant)
                ));
                poll_fn(|cx| {
                    if sleep.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(());
                    }
                    with_worker(|w| w.poll_timer(at, cx.waker()))
                })
                .await;
            }
            None => poll_fn(|cx| with_worker(|w| w.poll_timer(u64::MAX, cx.waker()))).await,
        }
        with_worker(|w| w.run_timers());
    }
}

/// Wakes the websocket writers held for a flush epoch when it ends (see
/// `conn::write_policy`): one timer per core, not one per connection.
async fn flush_loop() {
    loop {
        let deadline = poll_fn(|cx| with_worker(|w| w.poll_flush_deadline(cx.waker()))).await;
        monoio::time::sleep_until(monoio::time::Instant::from_std(deadline)).await;
        with_worker(|w| w.flush_due());
    }
}

async fn mesh_loop(mut bell: monoio::net::UnixStream) {
    let mut bell_buf = vec![0u8; 64];
    loop {
        let (taken, backlog) = with_worker(drain_mesh);
        if taken > 0 {
            yield_now().await;
            continue;
        }
        if backlog > 0 {
            monoio::time::sleep(Duration::from_millis(1)).await;
            continue;
        }
        let (mesh, me) = with_worker(|w| (w.mesh.clone(), w.shard));
        mesh.going_to_sleep(me);
        let (taken, _) = with_worker(drain_mesh);
        if taken > 0 {
            mesh.awake(me);
            continue;
        }
        let (res, b) = bell.read(bell_buf).await;
        bell_buf = b;
        mesh.awake(me);
        if res.is_err() {
            tracing::error!("mesh doorbell failed; this worker no longer hears other cores");
            return;
        }
    }
}

fn drain_mesh(w: &mut Worker) -> (usize, usize) {
    let mesh = w.mesh.clone();
    let taken = mesh.drain(w.shard, |msg| handle_msg(w, msg));
    (taken, w.flush_backlog())
}

fn handle_msg(w: &mut Worker, msg: Msg) {
    match msg {
        Msg::Broadcast { op, reply } => {
            let count = w.fan_out(&op);
            if let Some((origin, token)) = reply {
                w.send(origin, Msg::Delivered { token, count });
            }
        }
        Msg::BroadcastExceptRooms { op, except_rooms } => {
            w.fan_out_except(&op, &except_rooms);
        }
        Msg::BroadcastCounted { op, counter } => counter.add(w.fan_out(&op)),
        Msg::Delivered { token, count } => w.pending.delivered(token, count),
        Msg::Published { token, outcome } => w.pending.published(token, outcome),
        Msg::Handoff { fd, peer, preread } => conn::adopt(w, fd, peer, preread),
        Msg::Remote(command) => w.apply_remote(command),
        Msg::Fetch {
            selector,
            collector,
        } => collector.add(w.fetch(&selector)),
        Msg::Mark(mark) => w.mark = w.mark.max(mark),
        Msg::Shutdown => w.begin_shutdown(),
    }
}

/// Lets the runtime run other tasks (and submit IO) before this one continues.
async fn yield_now() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

/// This node as the Redis bridge sees it: commands become mesh messages to every worker.
struct NodeHandle {
    mesh: Arc<Mesh<Msg>>,
    directory: Arc<Directory>,
    /// Events from other nodes get offsets here too (connection state recovery).
    recovery: Option<Arc<dyn RecoveryStore>>,
    /// permessage-deflate: events from other nodes get a shared compressed variant too.
    compression: Option<crate::engine::Compression>,
}

impl NodeHandle {
    /// The cores (bitmask) that may have recipients of `op`: every core for the whole
    /// namespace; else those with members of a target room, and the core a socket-id room names.
    fn cores_for(&self, op: &crate::engine::BroadcastOp) -> u64 {
        if op.rooms.is_empty() {
            return u64::MAX;
        }
        op.rooms.iter().fold(0, |m, r| {
            let sid_core =
                crate::engine::sid::Sid::parse(r.as_str()).map_or(0, |s| 1u64 << s.shard().index());
            m | self.directory.workers_of(op.nsp.as_str(), r.as_str()) | sid_core
        })
    }

    /// Gives `op` its offset, to be sent to the cores in the bitmask `to`.
    fn record(&self, op: crate::engine::BroadcastOp, to: u64) -> crate::engine::BroadcastOp {
        let op = match &self.recovery {
            // Only `/` sockets are recovered; another namespace's events (the admin UI's, which
            // this path delivers) get no offset, so no handler ever sees one as an argument.
            Some(store) if op.nsp.as_str() == "/" => store.record(store.remote_log(), op, to),
            _ => op,
        };
        // After recording: the recovery store may re-frame the event with its offset.
        op.share_deflated(self.compression)
    }
}

impl LocalNode for NodeHandle {
    fn has_local_room(&self, nsp: &str, room: &str) -> bool {
        self.directory.workers_of(nsp, room) != 0
    }

    fn deliver(&self, op: crate::engine::BroadcastOp) {
        let mask = self.cores_for(&op);
        let op = self.record(op, mask);
        let op = Arc::new(crate::engine::SharedBroadcast::new(op));
        for i in 0..self.mesh.workers() {
            if mask & (1 << i) != 0 {
                self.mesh.inject(
                    ShardId(i as u16),
                    Msg::Broadcast {
                        op: op.clone(),
                        reply: None,
                    },
                );
            }
        }
    }

    fn deliver_counted(&self, op: crate::engine::BroadcastOp, report: CountReport) {
        let mask = self.cores_for(&op);
        let op = self.record(op, mask);
        let op = Arc::new(crate::engine::SharedBroadcast::new(op));
        let cores: Vec<usize> = (0..self.mesh.workers())
            .filter(|i| mask & (1 << i) != 0)
            .collect();
        if cores.is_empty() {
            report.report(DeliveryCount(0));
            return;
        }
        let counter = Arc::new(DeliveryCounter::new(cores.len(), report));
        for i in cores {
            self.mesh.inject(
                ShardId(i as u16),
                Msg::BroadcastCounted {
                    op: op.clone(),
                    counter: counter.clone(),
                },
            );
        }
    }

    fn deliver_except_rooms(
        &self,
        op: crate::engine::BroadcastOp,
        except_rooms: Vec<Room>,
    ) -> Result<(), crate::engine::BroadcastOp> {
        // Every core: an excluded room's members may be anywhere, and targets may be too.
        let op = self.record(op, u64::MAX);
        let op = Arc::new(crate::engine::SharedBroadcast::new(op));
        let except_rooms: Arc<[Room]> = except_rooms.into();
        for i in 0..self.mesh.workers() {
            self.mesh.inject(
                ShardId(i as u16),
                Msg::BroadcastExceptRooms {
                    op: op.clone(),
                    except_rooms: except_rooms.clone(),
                },
            );
        }
        Ok(())
    }

    fn apply(&self, command: RemoteCommand) {
        for i in 0..self.mesh.workers() {
            self.mesh
                .inject(ShardId(i as u16), Msg::Remote(command.clone()));
        }
    }

    fn fetch_sockets(&self, selector: Selector, reply: Box<dyn FnOnce(Vec<SocketInfo>) + Send>) {
        let collector = Arc::new(Collector::new(self.mesh.workers(), reply));
        for i in 0..self.mesh.workers() {
            self.mesh.inject(
                ShardId(i as u16),
                Msg::Fetch {
                    selector: selector.clone(),
                    collector: collector.clone(),
                },
            );
        }
    }

    fn all_rooms(&self, nsp: &str, reply: Box<dyn FnOnce(Vec<Room>) + Send>) {
        reply(self.directory.rooms(nsp));
    }

    fn mark(&self, mark: LogMark) {
        for i in 0..self.mesh.workers() {
            self.mesh.inject(ShardId(i as u16), Msg::Mark(mark));
        }
    }

    fn watch_rooms(&self, watch: Arc<dyn RoomWatch>) -> bool {
        self.directory.set_watch(watch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_sockets_inherit_nodelay() {
        let listeners = bind_all("127.0.0.1:0".parse().expect("addr"), 1).expect("bind");
        let addr = listeners[0].local_addr().expect("local addr");
        let _client = std::net::TcpStream::connect(addr).expect("connect");
        let (accepted, _) = listeners[0].accept().expect("accept");
        let nodelay = socket2::SockRef::from(&accepted)
            .nodelay()
            .expect("getsockopt");
        assert!(
            nodelay,
            "the accept loop relies on TCP_NODELAY being inherited"
        );
    }
}
