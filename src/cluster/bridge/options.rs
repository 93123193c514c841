//! The bridge's settings and the errors of starting it and of querying the cluster.

use std::time::Duration;

use crate::cluster::streams::StreamOptions;

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
    /// Streams mode (XADD/XREAD on one stream); `None`: pub/sub.
    pub streams: Option<StreamOptions>,
    /// `Some`: Redis 7 sharded pub/sub (`SPUBLISH`/`SSUBSCRIBE`), wire-compatible with
    /// `@socket.io/redis-adapter`'s `createShardedAdapter`, instead of the classic adapter's
    /// `PUBLISH`/`PSUBSCRIBE`.
    pub sharded: Option<SubscriptionMode>,
    /// A second namespace whose broadcasts the bridge relays (the admin UI's `/admin`):
    /// published by [`super::Bridge::relay`] and heard on `<prefix>#<nsp>#`, over pub/sub in
    /// the classic and the streams modes alike (not in the stream: its events are live state,
    /// not worth replaying), delivered to this node's sockets of that namespace. `None`: `/`
    /// only.
    pub relay_namespace: Option<String>,
}

/// The sharded adapter's `subscriptionMode`: which channels a node subscribes. Every node of a
/// cluster must use the same one (a publisher picks the channel by its own mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionMode {
    /// `<prefix>#<nsp>#` and this node's `<prefix>#<nsp>#<uid>#` only: every broadcast goes to
    /// every node.
    Static,
    /// Also `<prefix>#<nsp>#<room>#` for each room with members on this node (the adapter's
    /// default): a broadcast to one room reaches only the nodes that have it.
    Dynamic,
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
            sharded: None,
            streams: None,
            relay_namespace: None,
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
    /// The cluster protocol in use has no such query (`allRooms` over sharded pub/sub: the
    /// `ClusterAdapter` messages have no ALL_ROOMS).
    Unsupported,
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
