//! The Redis bridge: one thread per node running a current-thread tokio runtime with the
//! `redis` crate, between this node's engine ([`LocalNode`]) and the other nodes.
//!
//! - Subscriptions: one `PSUBSCRIBE socket.io#/#*` for every broadcast channel (not one per
//!   room), `SUBSCRIBE socket.io-request#/#`, `socket.io-response#/#`,
//!   `socket.io-response#/#<uid>#` and python-socketio's channel.
//! - Workers hand broadcasts over through a lock-free bounded queue ([`Publisher::publish`]
//!   never blocks: a full queue or a disconnected Redis is an immediate `Err`); the bridge
//!   encodes them and publishes them in pipelined batches.
//! - Failures: a node starts even when Redis is down; the bridge retries with exponential
//!   backoff (100 ms doubling to 3 s), resubscribes after every reconnection, and reports
//!   `Degraded` in between. A failed TLS handshake (`rediss://`: unknown CA, wrong host name)
//!   is one more failed attempt, logged with the reason and retried the same way. A PING every second on the subscription connection detects a dead
//!   connection within the 3 s PING timeout and measures the round trip.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;
use futures_util::StreamExt;
use redis::AsyncConnectionConfig;
use redis::aio::{MultiplexedConnection, PubSubSink, PubSubStream};
use tokio::sync::{Notify, mpsc, oneshot};

use super::adapter::{self, BroadcastChannel, Channels, Inbound, Request};
use super::msgpack::Writer;
use super::python::{self, PythonMessage};
use super::stats::{ChannelKind, ClusterStats, ClusterStatus};
use super::{LocalNode, PublishError, Publisher, RemoteCommand, Selector, SocketInfo};
use crate::engine::BroadcastOp;
use crate::engine::Room;
use crate::engine::sid::Sid;

/// The one namespace ringcast serves.
const NSP: &str = "/";
/// Connecting (TCP + subscriptions) gives up after this long and counts as a failed attempt.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// First retry delay; doubled per failed attempt up to [`BACKOFF_CAP`].
const BACKOFF_BASE: Duration = Duration::from_millis(100);
const BACKOFF_CAP: Duration = Duration::from_secs(3);
const PING_EVERY: Duration = Duration::from_secs(1);
const PING_TIMEOUT: Duration = Duration::from_secs(3);
/// How often pending cluster queries are checked against their deadline (5 s by default, so a
/// quarter second of lateness at most).
const SWEEP_EVERY: Duration = Duration::from_millis(250);
/// Broadcasts per pipelined round trip to Redis.
const PUBLISH_BATCH: usize = 256;

/// Settings of the bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisOptions {
    /// The adapter's `key` (channel prefix). Must match the Node nodes' and emitters'.
    pub key_prefix: String,
    /// python-socketio's channel (`AsyncRedisManager(channel=…)`); empty: not subscribed.
    pub python_channel: String,
    /// How long a cluster-wide request waits for the other nodes (the adapter's `requestsTimeout`).
    pub request_timeout: Duration,
    /// Capacity of the queue from workers to the bridge (broadcasts awaiting publication).
    pub queue_capacity: usize,
    /// Answer requests on `socket.io-response#/#<uid>#` (the adapter's
    /// `publishOnSpecificResponseChannel`) rather than the shared response channel.
    pub respond_on_specific_channel: bool,
    /// How a `rediss://` server is verified.
    pub tls: RedisTls,
}

/// TLS settings of a `rediss://` URL. The default verifies the server against the system trust
/// store (rustls-native-certs: `SSL_CERT_FILE`/`SSL_CERT_DIR`, else the distribution's bundle,
/// read at each connection); `#insecure` in the URL skips verification altogether.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RedisTls {
    /// PEM CA bundle that alone verifies the server (a private CA), replacing the system trust
    /// store. Only valid with a `rediss://` URL.
    pub ca: Option<Vec<u8>>,
}

impl Default for RedisOptions {
    fn default() -> Self {
        RedisOptions {
            key_prefix: "socket.io".to_owned(),
            python_channel: "socketio".to_owned(),
            request_timeout: Duration::from_secs(5),
            queue_capacity: 65_536,
            respond_on_specific_channel: false,
            tls: RedisTls::default(),
        }
    }
}

impl std::fmt::Debug for RedisTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTls")
            .field(
                "ca",
                &self
                    .ca
                    .as_ref()
                    .map(|pem| format!("{} bytes of PEM", pem.len())),
            )
            .finish()
    }
}

/// Why the bridge could not be started: a configuration error (an unreachable server is not one).
#[derive(Debug)]
pub enum StartError {
    /// The URL does not parse (`redis://[user:pass@]host[:port][/db]`,
    /// `rediss://…[#insecure]`, `unix:///path`).
    BadUrl(redis::RedisError),
    /// [`RedisOptions::tls`] is unusable: a CA bundle with a URL that is not `rediss://`, or a
    /// PEM the TLS library cannot read.
    Tls(redis::RedisError),
    /// The bridge thread could not be spawned.
    Thread(std::io::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::BadUrl(e) => write!(f, "invalid Redis URL: {e}"),
            StartError::Tls(e) => write!(f, "invalid Redis TLS settings: {e}"),
            StartError::Thread(e) => write!(f, "cannot start the Redis bridge thread: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

impl From<StartError> for std::io::Error {
    fn from(e: StartError) -> Self {
        match e {
            StartError::BadUrl(_) | StartError::Tls(_) => {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string())
            }
            StartError::Thread(e) => e,
        }
    }
}

/// Why a cluster-wide query failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterError {
    /// Not connected to Redis.
    Unavailable,
    /// The bridge has been shut down.
    Stopped,
}

/// The outcome of a cluster-wide query: this node's part plus every answer that arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gathered<T> {
    pub items: Vec<T>,
    /// The server count the query expected answers from (this node included).
    pub servers: usize,
    /// Other nodes that answered.
    pub responses: usize,
    /// Every other node answered before the request timeout.
    pub complete: bool,
}

/// A running bridge. Implements [`Publisher`] for the workers.
#[derive(Debug)]
pub struct Bridge {
    inner: Arc<Inner>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// Starts the bridge thread. Returns at once: the connection is made (and retried) in the
/// background; until it is up the bridge is [`ClusterStatus::Degraded`].
pub fn start(
    url: &str,
    options: RedisOptions,
    node: Arc<dyn LocalNode>,
) -> Result<Arc<Bridge>, StartError> {
    install_crypto_provider();
    let client = open_client(url, &options.tls)?;
    let uid = random_id(6);
    let (control, control_rx) = mpsc::unbounded_channel();
    let inner = Arc::new(Inner {
        channels: Channels::new(&options.key_prefix, NSP, &uid),
        queue: ArrayQueue::new(options.queue_capacity.max(1)),
        uid,
        options,
        wake: Notify::new(),
        control,
        stats: ClusterStats::default(),
        stopping: AtomicBool::new(false),
    });
    let thread_inner = inner.clone();
    let thread = std::thread::Builder::new()
        .name("ringcast-redis".to_owned())
        .spawn(move || bridge_thread(thread_inner, client, node, control_rx))
        .map_err(StartError::Thread)?;
    Ok(Arc::new(Bridge {
        inner,
        thread: Mutex::new(Some(thread)),
    }))
}

impl Bridge {
    /// This node's uid on the adapter's channels (6 random alphanumerics, like `uid2(6)`).
    pub fn uid(&self) -> &str {
        &self.inner.uid
    }

    pub fn status(&self) -> ClusterStatus {
        self.inner.stats.status()
    }

    pub fn stats(&self) -> &ClusterStats {
        &self.inner.stats
    }

    /// The channel names in use.
    pub fn channels(&self) -> &Channels {
        &self.inner.channels
    }

    /// `serverCount()`: subscribers of the request channel (every node, this one included).
    pub fn server_count(
        &self,
    ) -> impl Future<Output = Result<usize, ClusterError>> + Send + 'static {
        let (tx, rx) = oneshot::channel();
        self.control(Control::ServerCount(tx));
        async move { rx.await.unwrap_or(Err(ClusterError::Stopped)) }
    }

    /// `fetchSockets()` across the cluster: this node's matching sockets and the other nodes'
    /// (REMOTE_FETCH), waiting for `server_count() - 1` answers or the request timeout.
    pub fn fetch_sockets(
        &self,
        selector: Selector,
    ) -> impl Future<Output = Result<Gathered<SocketInfo>, ClusterError>> + Send + 'static {
        let (tx, rx) = oneshot::channel();
        self.control(Control::Gather(
            Query::Sockets(selector),
            Reply::Sockets(tx),
        ));
        async move { rx.await.unwrap_or(Err(ClusterError::Stopped)) }
    }

    /// `allRooms()` across the cluster (ALL_ROOMS), deduplicated and sorted.
    pub fn all_rooms(
        &self,
    ) -> impl Future<Output = Result<Gathered<String>, ClusterError>> + Send + 'static {
        let (tx, rx) = oneshot::channel();
        self.control(Control::Gather(Query::Rooms, Reply::Rooms(tx)));
        async move { rx.await.unwrap_or(Err(ClusterError::Stopped)) }
    }

    /// Stops the bridge thread and waits for it (queued broadcasts are dropped).
    pub fn shutdown(&self) {
        self.inner.stopping.store(true, Ordering::Release);
        self.control(Control::Stop);
        let thread = self.thread.lock().map(|mut t| t.take()).unwrap_or(None);
        if let Some(thread) = thread
            && thread.join().is_err()
        {
            tracing::error!("the Redis bridge thread panicked");
        }
    }

    fn control(&self, c: Control) {
        // Fails only once the thread has exited; the dropped reply sender then reports Stopped.
        let _ = self.inner.control.send(c);
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Publisher for Bridge {
    fn publish(&self, op: &BroadcastOp) -> Result<(), PublishError> {
        let inner = &self.inner;
        if inner.stats.status() != ClusterStatus::Connected {
            ClusterStats::bump(&inner.stats.publish_refused);
            return Err(PublishError::Unavailable);
        }
        if inner.queue.push(op.clone()).is_err() {
            ClusterStats::bump(&inner.stats.publish_refused);
            return Err(PublishError::Backlogged);
        }
        // Takes tokio's waiter lock only while the bridge is parked; a busy bridge drains the
        // queue without being woken per message.
        inner.wake.notify_one();
        Ok(())
    }
}

/// The redis client for `url`, with the CA bundle of `tls` when there is one.
fn open_client(url: &str, tls: &RedisTls) -> Result<redis::Client, StartError> {
    let Some(ca) = &tls.ca else {
        return redis::Client::open(url).map_err(StartError::BadUrl);
    };
    // Parsed first on its own so a malformed URL is reported as one, not as a TLS error.
    redis::Client::open(url).map_err(StartError::BadUrl)?;
    let certificates = redis::TlsCertificates {
        client_tls: None,
        root_cert: Some(ca.clone()),
    };
    redis::Client::build_with_tls(url, certificates).map_err(StartError::Tls)
}

/// rustls needs one crypto provider per process. Left to itself it picks one from its crate
/// features at the first handshake and panics when it finds none or two (feature unification
/// can add `ring` beside aws-lc-rs: the trap jsonwebtoken's backend features set too), and the
/// redis crate's `#insecure` verifier reads the process default without installing it.
/// Installing aws-lc-rs here makes the choice once; `Err` means one is already installed.
fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

// ---- the bridge thread ----

#[derive(Debug)]
struct Inner {
    uid: String,
    options: RedisOptions,
    channels: Channels,
    queue: ArrayQueue<BroadcastOp>,
    wake: Notify,
    control: mpsc::UnboundedSender<Control>,
    stats: ClusterStats,
    stopping: AtomicBool,
}

/// Messages to the bridge thread: from the API, and from `LocalNode` reply callbacks (which may
/// run on any thread).
enum Control {
    ServerCount(oneshot::Sender<Result<usize, ClusterError>>),
    Gather(Query, Reply),
    /// This node's part of a gather.
    LocalPart {
        request_id: String,
        part: Part,
    },
    /// Publish an answer to another node.
    Publish {
        channel: String,
        payload: Vec<u8>,
    },
    /// A legacy remote join/leave/disconnect for a socket found on this node.
    ApplyLegacy {
        command: RemoteCommand,
        ack: Option<(String, Vec<u8>)>,
    },
    Stop,
}

enum Query {
    Sockets(Selector),
    Rooms,
}

enum Reply {
    Sockets(oneshot::Sender<Result<Gathered<SocketInfo>, ClusterError>>),
    Rooms(oneshot::Sender<Result<Gathered<String>, ClusterError>>),
}

enum Part {
    Sockets(Vec<SocketInfo>),
    Rooms(Vec<String>),
}

struct Pending {
    reply: Reply,
    sockets: Vec<SocketInfo>,
    rooms: BTreeSet<String>,
    servers: usize,
    expected: usize,
    responses: usize,
    local_done: bool,
    deadline: Instant,
}

struct Conn {
    sink: PubSubSink,
    stream: PubSubStream,
    publisher: MultiplexedConnection,
}

struct Runner {
    inner: Arc<Inner>,
    node: Arc<dyn LocalNode>,
    client: redis::Client,
    pending: HashMap<String, Pending>,
    /// Logged once per connection: ringcast cannot exclude rooms without engine support.
    warned_except_rooms: bool,
}

fn bridge_thread(
    inner: Arc<Inner>,
    client: redis::Client,
    node: Arc<dyn LocalNode>,
    control: mpsc::UnboundedReceiver<Control>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the Redis bridge runtime; clustering is off");
            return;
        }
    };
    let mut bridge = Runner {
        inner,
        node,
        client,
        pending: HashMap::new(),
        warned_except_rooms: false,
    };
    runtime.block_on(bridge.run(control));
}

impl Runner {
    async fn run(&mut self, mut control: mpsc::UnboundedReceiver<Control>) {
        let mut attempt: u32 = 0;
        loop {
            if self.stopping() {
                break;
            }
            match tokio::time::timeout(CONNECT_TIMEOUT, self.connect()).await {
                Ok(Ok(mut conn)) => {
                    attempt = 0;
                    self.inner.stats.set_connected(true);
                    tracing::info!(uid = %self.inner.uid, "redis bridge connected and subscribed");
                    let reason = self.session(&mut conn, &mut control).await;
                    self.inner.stats.set_connected(false);
                    if self.stopping() {
                        break;
                    }
                    ClusterStats::bump(&self.inner.stats.reconnects);
                    tracing::warn!(reason, "redis connection lost; reconnecting");
                }
                // Refused, unreachable, or a TLS handshake that failed (the error says which:
                // "invalid peer certificate: UnknownIssuer" for a CA that does not match).
                Ok(Err(e)) => {
                    tracing::warn!(attempt, error = %e, "cannot connect to redis; retrying")
                }
                Err(_) => tracing::warn!(attempt, "redis connection attempt timed out; retrying"),
            }
            self.drop_queued();
            let delay = BACKOFF_BASE
                .saturating_mul(1 << attempt.min(5))
                .min(BACKOFF_CAP);
            attempt = attempt.saturating_add(1);
            let until = tokio::time::Instant::now() + delay;
            // Gathers begun before the connection broke still end at their deadline.
            let mut sweep = tokio::time::interval(SWEEP_EVERY);
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(until) => break,
                    _ = sweep.tick() => self.expire(Instant::now()),
                    c = control.recv() => match c {
                        Some(Control::Stop) | None => return,
                        Some(c) => self.control_offline(c),
                    },
                    _ = self.inner.wake.notified() => self.drop_queued(),
                }
            }
        }
    }

    fn stopping(&self) -> bool {
        self.inner.stopping.load(Ordering::Acquire)
    }

    async fn connect(&self) -> redis::RedisResult<Conn> {
        let ch = &self.inner.channels;
        let (mut sink, stream) = self.client.get_async_pubsub().await?.split();
        sink.psubscribe(&ch.pattern).await?;
        let mut channels = vec![
            ch.request.as_str(),
            ch.response.as_str(),
            ch.own_response.as_str(),
        ];
        if !self.inner.options.python_channel.is_empty() {
            channels.push(&self.inner.options.python_channel);
        }
        sink.subscribe(&channels).await?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(PING_TIMEOUT));
        let publisher = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        Ok(Conn {
            sink,
            stream,
            publisher,
        })
    }

    /// Serves one connection until it fails (returns why) or the bridge stops.
    async fn session(
        &mut self,
        conn: &mut Conn,
        control: &mut mpsc::UnboundedReceiver<Control>,
    ) -> &'static str {
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        // Broadcasts queued in the instant between `Connected` and now.
        if let Err(reason) = self.flush(conn).await {
            return reason;
        }
        loop {
            let step = tokio::select! {
                msg = conn.stream.next() => match msg {
                    Some(msg) => self.on_message(&msg, conn).await,
                    None => Err("subscription connection closed"),
                },
                _ = self.inner.wake.notified() => self.flush(conn).await,
                c = control.recv() => match c {
                    Some(Control::Stop) | None => return "stopping",
                    Some(c) => self.control_online(c, conn).await,
                },
                _ = ping.tick() => {
                    let sent = Instant::now();
                    match tokio::time::timeout(PING_TIMEOUT, conn.sink.ping::<redis::Value>()).await {
                        Ok(Ok(_)) => {
                            let rtt = sent.elapsed().as_micros().min(u128::from(u64::MAX)) as u64;
                            self.inner.stats.ping_rtt_us.store(rtt, Ordering::Relaxed);
                            Ok(())
                        }
                        Ok(Err(_)) => Err("PING failed"),
                        Err(_) => Err("PING timed out"),
                    }
                }
                _ = sweep.tick() => {
                    self.expire(Instant::now());
                    Ok(())
                }
            };
            if let Err(reason) = step {
                return reason;
            }
        }
    }

    /// Publishes every queued broadcast, pipelined in batches.
    async fn flush(&mut self, conn: &mut Conn) -> Result<(), &'static str> {
        loop {
            let mut pipe = redis::pipe();
            let mut batch = 0u64;
            while batch < PUBLISH_BATCH as u64 {
                let Some(op) = self.inner.queue.pop() else {
                    break;
                };
                let mut w = Writer::new();
                if let Err(e) = adapter::encode_broadcast(&self.inner.uid, &op, &mut w) {
                    ClusterStats::bump(&self.inner.stats.decode_errors);
                    tracing::debug!(?e, "broadcast not publishable");
                    continue;
                }
                let channel = self
                    .inner
                    .channels
                    .broadcast_channel(op.nsp.as_str(), &op.rooms);
                pipe.cmd("PUBLISH").arg(channel).arg(w.buf).ignore();
                batch += 1;
            }
            if batch == 0 {
                return Ok(());
            }
            if let Err(e) = pipe.query_async::<()>(&mut conn.publisher).await {
                self.inner
                    .stats
                    .publish_failed
                    .fetch_add(batch, Ordering::Relaxed);
                tracing::warn!(error = %e, lost = batch, "publishing to redis failed");
                return Err("PUBLISH failed");
            }
            self.inner.stats.published(ChannelKind::Broadcast, batch);
        }
    }

    /// Broadcasts accepted just before the connection failed: at-most-once, so they are lost.
    fn drop_queued(&mut self) {
        let mut lost = 0;
        while self.inner.queue.pop().is_some() {
            lost += 1;
        }
        if lost > 0 {
            self.inner
                .stats
                .publish_failed
                .fetch_add(lost, Ordering::Relaxed);
            tracing::warn!(lost, "broadcasts dropped: redis unavailable");
        }
    }

    async fn on_message(&mut self, msg: &redis::Msg, conn: &mut Conn) -> Result<(), &'static str> {
        let channel = msg.get_channel_name();
        let payload = msg.get_payload_bytes();
        let ch = &self.inner.channels;
        if msg.from_pattern() {
            self.inner.stats.received(ChannelKind::Broadcast);
            self.on_broadcast(channel, payload);
            Ok(())
        } else if channel == ch.request {
            self.inner.stats.received(ChannelKind::Request);
            self.on_request(payload, conn).await
        } else if channel == ch.response || channel == ch.own_response {
            self.inner.stats.received(ChannelKind::Response);
            self.on_response(payload);
            Ok(())
        } else if channel == self.inner.options.python_channel {
            self.inner.stats.received(ChannelKind::Python);
            self.on_python(payload);
            Ok(())
        } else {
            Ok(())
        }
    }

    fn on_broadcast(&mut self, channel: &str, payload: &[u8]) {
        let stats = &self.inner.stats;
        match self.inner.channels.classify(channel) {
            BroadcastChannel::Foreign => {
                ClusterStats::bump(&stats.skipped);
                return;
            }
            // Checked before decoding: most room messages are for rooms this node lacks. A room
            // named like a socket id designates that socket, which the directory does not list.
            BroadcastChannel::Room(room)
                if !self.node.has_local_room(NSP, room) && Sid::parse(room).is_none() =>
            {
                ClusterStats::bump(&stats.skipped);
                return;
            }
            _ => {}
        }
        let envelope = match adapter::Envelope::parse(payload) {
            Ok(e) => e,
            Err(e) => return self.decode_error("broadcast", e),
        };
        if envelope.uid == self.inner.uid {
            ClusterStats::bump(&stats.own);
            return;
        }
        if envelope.nsp != NSP {
            ClusterStats::bump(&stats.skipped);
            return;
        }
        match envelope.to_inbound() {
            Ok(inbound) => self.deliver(inbound),
            Err(e) => self.decode_error("broadcast", e),
        }
    }

    fn deliver(&mut self, inbound: Inbound) {
        let stats = &self.inner.stats;
        if inbound.except_rooms.is_empty() {
            self.node.deliver(inbound.op);
            ClusterStats::bump(&stats.delivered);
        } else if self
            .node
            .deliver_except_rooms(inbound.op, inbound.except_rooms)
            .is_ok()
        {
            ClusterStats::bump(&stats.delivered);
        } else {
            ClusterStats::bump(&stats.unsupported);
            if !self.warned_except_rooms {
                self.warned_except_rooms = true;
                tracing::warn!(
                    "dropping broadcasts that exclude rooms (io.except(room)): not supported by this engine"
                );
            }
        }
    }

    async fn on_request(&mut self, payload: &[u8], conn: &mut Conn) -> Result<(), &'static str> {
        let request = match adapter::decode_request(payload, NSP) {
            Ok(r) => r,
            Err(e) => {
                self.decode_error("request", e);
                return Ok(());
            }
        };
        if request.uid() == Some(self.inner.uid.as_str()) {
            ClusterStats::bump(&self.inner.stats.own);
            return Ok(());
        }
        let respond_to = self.response_channel(request.uid());
        let control = self.inner.control.clone();
        let publish = move |payload: Vec<u8>| {
            let _ = control.send(Control::Publish {
                channel: respond_to,
                payload,
            });
        };
        match request {
            Request::Sockets {
                request_id,
                selector,
                ..
            } => {
                self.node.fetch_sockets(
                    selector,
                    Box::new(move |s| publish(adapter::sockets_response(&request_id, &s))),
                );
            }
            Request::AllRooms { request_id, .. } => {
                self.node.all_rooms(
                    NSP,
                    Box::new(move |r| publish(adapter::all_rooms_response(&request_id, &r))),
                );
            }
            Request::Fetch {
                request_id,
                selector,
                ..
            } => {
                self.node.fetch_sockets(
                    selector,
                    Box::new(move |s| publish(adapter::fetch_response(&request_id, &s))),
                );
            }
            Request::Command { command, .. } => self.node.apply(command),
            Request::Legacy {
                request_id,
                sid,
                command,
                uid,
            } => {
                // Only the node that has the socket applies it and answers (`if (!socket) return`).
                let ack = request_id.map(|id| {
                    (
                        self.response_channel(uid.as_deref()),
                        adapter::legacy_ack(&id),
                    )
                });
                let control = self.inner.control.clone();
                let one = Selector {
                    nsp: Room::from(NSP),
                    rooms: vec![Room::from(sid.as_str())],
                    except: Vec::new(),
                };
                self.node.fetch_sockets(
                    one,
                    Box::new(move |found| {
                        if !found.is_empty() {
                            let _ = control.send(Control::ApplyLegacy { command, ack });
                        }
                    }),
                );
            }
            Request::ServerSideEmit { request_id, .. } => {
                tracing::debug!(
                    with_ack = request_id.is_some(),
                    "serverSideEmit ignored: ringcast has no server-side listeners"
                );
            }
            Request::BroadcastWithAck {
                request_id,
                inbound,
                ..
            } => {
                // Delivered without an ack id (client acks cannot be routed back over Redis
                // here), and announced as expecting 0 acks so the emitter does not wait for us.
                self.deliver(inbound);
                let channel = self.response_channel(None);
                self.publish(
                    conn,
                    ChannelKind::Response,
                    channel,
                    adapter::client_count_response(&request_id, 0),
                )
                .await?;
            }
            Request::Other { kind, .. } => tracing::debug!(kind, "request type ignored"),
        }
        Ok(())
    }

    fn on_response(&mut self, payload: &[u8]) {
        let response = match adapter::decode_response(payload) {
            Ok(r) => r,
            // Responses to other nodes' SERVER_SIDE_EMIT/BROADCAST acks have other shapes.
            Err(_) => return,
        };
        let Some(pending) = self.pending.get_mut(&response.request_id) else {
            return;
        };
        pending.responses += 1;
        if let Some(sockets) = response.sockets {
            pending.sockets.extend(sockets);
        }
        if let Some(rooms) = response.rooms {
            pending.rooms.extend(rooms);
        }
        self.complete_if_done(&response.request_id);
    }

    fn on_python(&mut self, payload: &[u8]) {
        let message = match python::decode(payload) {
            Ok(m) => m,
            Err(e) => return self.decode_error("python", e),
        };
        match message {
            PythonMessage::Emit(emit) => {
                if emit.nsp.as_str() != NSP {
                    ClusterStats::bump(&self.inner.stats.skipped);
                    return;
                }
                if !emit.rooms.is_empty()
                    && !emit.rooms.iter().any(|r| {
                        self.node.has_local_room(NSP, r.as_str())
                            || Sid::parse(r.as_str()).is_some()
                    })
                {
                    ClusterStats::bump(&self.inner.stats.skipped);
                    return;
                }
                if emit.wants_ack {
                    tracing::debug!(event = %emit.event, "python emit asks for an ack; delivered without one");
                }
                self.node.deliver(emit.to_op());
                ClusterStats::bump(&self.inner.stats.delivered);
            }
            PythonMessage::Command(command) => self.node.apply(command),
            PythonMessage::Callback => {}
            PythonMessage::Unknown(method) => {
                tracing::debug!(%method, "python-socketio method ignored")
            }
        }
    }

    async fn control_online(&mut self, c: Control, conn: &mut Conn) -> Result<(), &'static str> {
        match c {
            Control::ServerCount(tx) => {
                let count = self.server_count(conn).await;
                let _ = tx.send(count.map_err(|_| ClusterError::Unavailable));
            }
            Control::Gather(query, reply) => {
                let servers = match self.server_count(conn).await {
                    Ok(n) => n,
                    Err(_) => {
                        reply.fail(ClusterError::Unavailable);
                        return Err("PUBSUB NUMSUB failed");
                    }
                };
                let request_id = random_id(6);
                let request = match &query {
                    Query::Sockets(selector) => {
                        adapter::fetch_request(&self.inner.uid, &request_id, selector)
                    }
                    Query::Rooms => adapter::all_rooms_request(&self.inner.uid, &request_id),
                };
                self.begin_gather(request_id.clone(), query, reply, servers);
                // This node is one of the subscribers: `numSub <= 1` means nobody else to ask.
                if servers > 1 {
                    let channel = self.inner.channels.request.clone();
                    self.publish(conn, ChannelKind::Request, channel, request)
                        .await?;
                }
            }
            Control::Publish { channel, payload } => {
                self.publish(conn, ChannelKind::Response, channel, payload)
                    .await?
            }
            Control::ApplyLegacy { command, ack } => {
                self.node.apply(command);
                if let Some((channel, payload)) = ack {
                    self.publish(conn, ChannelKind::Response, channel, payload)
                        .await?;
                }
            }
            other => self.control_offline(other),
        }
        Ok(())
    }

    /// Control messages while disconnected (and the ones that need no connection).
    fn control_offline(&mut self, c: Control) {
        match c {
            Control::ServerCount(tx) => {
                let _ = tx.send(Err(ClusterError::Unavailable));
            }
            Control::Gather(_, reply) => reply.fail(ClusterError::Unavailable),
            Control::LocalPart { request_id, part } => {
                if let Some(pending) = self.pending.get_mut(&request_id) {
                    pending.local_done = true;
                    match part {
                        Part::Sockets(s) => pending.sockets.extend(s),
                        Part::Rooms(r) => pending.rooms.extend(r),
                    }
                    self.complete_if_done(&request_id);
                }
            }
            Control::Publish { .. } => ClusterStats::bump(&self.inner.stats.publish_failed),
            Control::ApplyLegacy { command, .. } => self.node.apply(command),
            Control::Stop => {}
        }
    }

    fn begin_gather(&mut self, request_id: String, query: Query, reply: Reply, servers: usize) {
        let control = self.inner.control.clone();
        let id = request_id.clone();
        let pending = Pending {
            reply,
            sockets: Vec::new(),
            rooms: BTreeSet::new(),
            servers,
            expected: servers.saturating_sub(1),
            responses: 0,
            local_done: false,
            deadline: Instant::now() + self.inner.options.request_timeout,
        };
        self.pending.insert(request_id, pending);
        match query {
            Query::Sockets(selector) => self.node.fetch_sockets(
                selector,
                Box::new(move |s| {
                    let _ = control.send(Control::LocalPart {
                        request_id: id,
                        part: Part::Sockets(s),
                    });
                }),
            ),
            Query::Rooms => self.node.all_rooms(
                NSP,
                Box::new(move |r| {
                    let rooms = r.iter().map(|r| r.as_str().to_owned()).collect();
                    let _ = control.send(Control::LocalPart {
                        request_id: id,
                        part: Part::Rooms(rooms),
                    });
                }),
            ),
        }
    }

    fn complete_if_done(&mut self, request_id: &str) {
        let done = self
            .pending
            .get(request_id)
            .is_some_and(|p| p.local_done && p.responses >= p.expected);
        if done && let Some(p) = self.pending.remove(request_id) {
            p.finish(true);
        }
    }

    /// Answers gathers past their deadline with what arrived.
    fn expire(&mut self, now: Instant) {
        let late: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in late {
            if let Some(p) = self.pending.remove(&id) {
                tracing::debug!(request = %id, responses = p.responses, expected = p.expected, "cluster request timed out");
                p.finish(false);
            }
        }
    }

    async fn server_count(&self, conn: &mut Conn) -> redis::RedisResult<usize> {
        let (_, count): (String, usize) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(&self.inner.channels.request)
            .query_async(&mut conn.publisher)
            .await?;
        Ok(count)
    }

    async fn publish(
        &self,
        conn: &mut Conn,
        kind: ChannelKind,
        channel: String,
        payload: Vec<u8>,
    ) -> Result<(), &'static str> {
        match redis::cmd("PUBLISH")
            .arg(channel)
            .arg(payload)
            .query_async::<()>(&mut conn.publisher)
            .await
        {
            Ok(()) => {
                self.inner.stats.published(kind, 1);
                Ok(())
            }
            Err(e) => {
                ClusterStats::bump(&self.inner.stats.publish_failed);
                tracing::warn!(error = %e, "publishing to redis failed");
                Err("PUBLISH failed")
            }
        }
    }

    /// Where to answer a request from `uid`.
    fn response_channel(&self, uid: Option<&str>) -> String {
        let ch = &self.inner.channels;
        match uid {
            Some(uid) if self.inner.options.respond_on_specific_channel => {
                format!("{}{uid}#", ch.response)
            }
            _ => ch.response.clone(),
        }
    }

    fn decode_error(&self, what: &'static str, e: super::wire::WireError) {
        ClusterStats::bump(&self.inner.stats.decode_errors);
        tracing::debug!(what, error = ?e, "undecodable redis message dropped");
    }
}

impl Reply {
    fn fail(self, e: ClusterError) {
        match self {
            Reply::Sockets(tx) => drop(tx.send(Err(e))),
            Reply::Rooms(tx) => drop(tx.send(Err(e))),
        }
    }
}

impl Pending {
    fn finish(self, complete: bool) {
        let (servers, responses) = (self.servers, self.responses);
        match self.reply {
            Reply::Sockets(tx) => drop(tx.send(Ok(Gathered {
                items: self.sockets,
                servers,
                responses,
                complete,
            }))),
            Reply::Rooms(tx) => drop(tx.send(Ok(Gathered {
                items: self.rooms.into_iter().collect(),
                servers,
                responses,
                complete,
            }))),
        }
    }
}

/// `len` random characters from `[A-Za-z0-9]`, like the adapter's `uid2`.
fn random_id(len: usize) -> String {
    const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = vec![0u8; len];
    if getrandom::fill(&mut bytes).is_err() {
        // Only uniqueness matters here (ids, not secrets): fall back to the clock.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (nanos >> (i * 5)) as u8;
        }
    }
    // 256 % 62 = 8: the first 8 characters are 1/32 likelier; irrelevant for ids.
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}
