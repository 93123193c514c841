//! The Redis bridge: one thread per node running a current-thread tokio runtime with the
//! `redis` crate, between this node's engine ([`LocalNode`]) and the other nodes.
//!
//! - Subscriptions: one `PSUBSCRIBE socket.io#/#*` for every broadcast channel (not one per
//!   room), `SUBSCRIBE socket.io-request#/#`, `socket.io-response#/#`,
//!   `socket.io-response#/#<uid>#` and python-socketio's channel.
//! - Workers hand broadcasts over through a lock-free bounded queue ([`Publisher::publish`]
//!   never blocks: a full queue or a disconnected Redis is an immediate `Err`); the bridge
//!   encodes them and publishes them in pipelined batches (256 per round trip, 1 s deadline),
//!   and answers each one's [`PublishAck`] with Redis' receiver count checked against the nodes
//!   expected (`subscribers`), or with why it was not published.
//! - Failures: a node starts even when Redis is down; the bridge retries with exponential
//!   backoff (100 ms doubling to 3 s), resubscribes after every reconnection, and reports
//!   `Degraded` in between. A failed TLS handshake (`rediss://`: unknown CA, wrong host name)
//!   is one more failed attempt, logged with the reason and retried the same way. The failed
//!   attempts' WARN lines space out (3 s, 6 s, 12 s … at most 5 min apart, `outage`) and say how
//!   long Redis has been down; the reconnection logs the outage's length. A health probe every
//!   250 ms on both connections (`health`: 1 s deadline) detects a dead or hung Redis within
//!   1.25 s and measures the round trip.
//!
//! The submodules, by concern:
//! - `options`: settings, and the errors of starting the bridge and of cluster queries;
//! - `control`: the state shared with the workers, and the messages to the bridge thread;
//! - `runner`: the thread and all its Redis IO: connection, subscriptions, backoff, PING, the
//!   publish queue, the control messages that need Redis;
//! - `inbound`: pure decisions: which concern a message is, and what it calls for;
//! - `dispatch`: carries those decisions out against the engine;
//! - `gather`: the cluster queries in flight (fetchSockets, allRooms) and their deadlines;
//! - `outage`: when a failed reconnection is worth a log line;
//! - `health`: when to probe, and when an unanswered probe means Redis is hung;
//! - `subscribers`: how many nodes a PUBLISH must reach to be acknowledged;
//! - `sharded`: the same bridge over Redis 7 sharded pub/sub (`SPUBLISH`/`SSUBSCRIBE`, the
//!   sharded adapter's channels and `ClusterAdapter` messages) when
//!   [`RedisOptions::sharded`] is set.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::adapter::Channels;
use super::stats::{ClusterStats, ClusterStatus};
use super::{LocalNode, PublishAck, PublishError, Publisher, RemoteCommand, Selector, SocketInfo};
use crate::engine::BroadcastOp;
use control::{Control, Inner, Listener, Outgoing, Query, Queued, Reply};

mod control;
mod dispatch;
mod gather;
mod health;
mod inbound;
mod options;
mod outage;
mod probing;
mod runner;
mod sharded;
mod streams;
mod subscribers;
#[cfg(test)]
mod testing;

pub use options::{ClusterError, Gathered, RedisOptions, RedisTls, StartError, SubscriptionMode};

/// The one namespace ringcast serves.
const NSP: &str = "/";

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
    // Sharded pub/sub needs RESP3: its messages arrive as pushes on an ordinary connection
    // (the redis crate's RESP2 pub/sub connection has no SSUBSCRIBE).
    let client = open_client(url, &options.tls, options.sharded.is_some())?;
    let (inner, control_rx) = Inner::new(options);
    let inner = Arc::new(inner);
    let thread_inner = inner.clone();
    let thread = std::thread::Builder::new()
        .name("ringcast-redis".to_owned())
        .spawn(move || match thread_inner.options.sharded {
            Some(mode) => sharded::bridge_thread(thread_inner, client, node, control_rx, mode),
            None => runner::bridge_thread(thread_inner, client, node, control_rx),
        })
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

    /// Whether [`Bridge::command`] and [`Bridge::server_side_emit`] can reach the other nodes:
    /// not over sharded pub/sub, whose `ClusterAdapter` messages ringcast does not send yet.
    pub fn sends_requests(&self) -> bool {
        self.inner.options.sharded.is_none()
    }

    /// `socketsJoin` / `socketsLeave` / `disconnectSockets` on the other nodes: publishes the
    /// command as REMOTE_JOIN / REMOTE_LEAVE / REMOTE_DISCONNECT (which Node nodes obey too).
    /// Resolves once Redis took it; nodes do not answer these. This node's own sockets are
    /// the caller's to apply.
    pub fn command(
        &self,
        command: RemoteCommand,
    ) -> impl Future<Output = Result<(), ClusterError>> + Send + 'static {
        self.request(Outgoing::Command(command))
    }

    /// `serverSideEmit(event, ...args)` without an ack: `data_json` is `[event, ...args]`.
    pub fn server_side_emit(
        &self,
        data_json: String,
    ) -> impl Future<Output = Result<(), ClusterError>> + Send + 'static {
        self.request(Outgoing::ServerSideEmit(data_json))
    }

    /// Publishes `op`, a broadcast of [`RedisOptions::relay_namespace`], to the other nodes'
    /// sockets of that namespace on `<prefix>#<nsp>#` (`Unsupported` in sharded mode).
    /// Resolves once Redis took it. This node's own sockets are the caller's to reach.
    pub fn relay(
        &self,
        op: BroadcastOp,
    ) -> impl Future<Output = Result<(), ClusterError>> + Send + 'static {
        self.request(Outgoing::Relay(op))
    }

    /// Hears the other nodes' SERVER_SIDE_EMIT requests (their `data` array's JSON text), on the
    /// bridge thread. Set once; `false` when a listener is already set.
    pub fn listen(&self, listener: impl Fn(&str) + Send + Sync + 'static) -> bool {
        self.inner
            .listener
            .set(Listener(Box::new(listener)))
            .is_ok()
    }

    fn request(
        &self,
        request: Outgoing,
    ) -> impl Future<Output = Result<(), ClusterError>> + Send + 'static {
        let (done, rx) = oneshot::channel();
        self.control(Control::Request { request, done });
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
    fn delivers_locally(&self) -> bool {
        self.inner.options.streams.is_some()
    }

    fn publish(&self, op: &BroadcastOp, ack: Option<PublishAck>) -> Result<(), PublishError> {
        let inner = &self.inner;
        let refuse = |queued: Queued, e: PublishError| {
            ClusterStats::bump(&inner.stats.publish_refused);
            queued.answer(&inner.stats, Err(e));
            Err(e)
        };
        let queued = Queued {
            op: op.clone(),
            ack,
        };
        // Connected means subscribed and passing the health check (a hung Redis is
        // disconnected within 1.25 s): otherwise refused at once, not after a deadline.
        if inner.stats.status() != ClusterStatus::Connected {
            return refuse(queued, PublishError::Unavailable);
        }
        if let Err(queued) = inner.queue.push(queued) {
            return refuse(queued, PublishError::Backlogged);
        }
        // Takes tokio's waiter lock only while the bridge is parked; a busy bridge drains the
        // queue without being woken per message.
        inner.wake.notify_one();
        Ok(())
    }
}

/// The redis client for `url`, with the CA bundle of `tls` when there is one, speaking RESP3
/// when `resp3`.
pub fn open_client(url: &str, tls: &RedisTls, resp3: bool) -> Result<redis::Client, StartError> {
    use redis::IntoConnectionInfo;
    // Parsed first on its own so a malformed URL is reported as one, not as a TLS error.
    let mut info = url.into_connection_info().map_err(StartError::BadUrl)?;
    if resp3 {
        let settings = info
            .redis_settings()
            .clone()
            .set_protocol(redis::ProtocolVersion::RESP3);
        info = info.set_redis_settings(settings);
    }
    let Some(ca) = &tls.ca else {
        return redis::Client::open(info).map_err(StartError::BadUrl);
    };
    let certificates = redis::TlsCertificates {
        client_tls: None,
        root_cert: Some(ca.clone()),
    };
    redis::Client::build_with_tls(info, certificates).map_err(StartError::Tls)
}

/// rustls needs one crypto provider per process. Left to itself it picks one from its crate
/// features at the first handshake and panics when it finds none or two (feature unification
/// can add `ring` beside aws-lc-rs: the trap jsonwebtoken's backend features set too), and the
/// redis crate's `#insecure` verifier reads the process default without installing it.
/// Installing aws-lc-rs here makes the choice once; `Err` means one is already installed.
fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
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
