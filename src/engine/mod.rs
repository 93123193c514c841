//! The engine: Engine.IO sessions and Socket.IO sockets on thread-per-core workers, with a
//! handler API that applications (the gateway, the protocol reference server) plug into.
//!
//! Everything here runs on one worker thread at a time; per-core state is thread-local
//! ([`worker`]), and cores talk only through typed [`Msg`]s on the [`crate::mesh`].

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use ringcast_codec::eio::SessionConfig;
use ringcast_codec::http;
use ringcast_codec::ws::OutFrame;

use crate::room::Room;
use crate::sid::Sid;

pub mod directory;
pub mod limits;
pub mod rooms;

mod socket;
pub mod stats;
pub(crate) mod worker;

pub use socket::{Emitter, Socket, encode_event};

/// The arguments inside a JSON array text: `[1,"a"]` → `1,"a"` (what [`Socket::emit`] takes).
pub fn array_items(args: &str) -> &str {
    let t = args.trim();
    match (t.strip_prefix('['), t.ends_with(']')) {
        (Some(inner), true) => &inner[..inner.len() - 1],
        _ => t,
    }
}

/// Settings of the engine (transport and protocol); the gateway's settings live in `config`.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Address every worker listens on (SO_REUSEPORT spreads connections over workers).
    pub listen: SocketAddr,
    /// Number of workers, one per core.
    pub workers: usize,
    /// Pin worker `i` to core `i % cores`.
    pub pin_cores: bool,
    /// Engine.IO paths, each with a leading and trailing slash (`/ws/`, `/socket.io/`).
    pub paths: Vec<String>,
    /// Engine.IO paths whose message packets are echoed back verbatim, with no Socket.IO layer
    /// (the Engine.IO protocol suite's `/engine.io/` server). Usually empty.
    pub echo_paths: Vec<String>,
    /// Ping schedule, payload and queue limits of every session.
    pub session: SessionConfig,
    /// A connection that never sends Socket.IO CONNECT is closed after this many ms.
    pub connect_timeout_ms: u64,
    /// A request head must arrive within this many ms (slowloris).
    pub handshake_timeout_ms: u64,
    /// Request head limits.
    pub http_limits: http::Limits,
    /// CORS for polling and the handler's HTTP routes.
    pub cors: CorsConfig,
    /// Max JSON nesting depth accepted in Socket.IO packets.
    pub max_json_depth: usize,
    /// Max simultaneous TCP connections on the node; beyond it new ones get HTTP 503.
    pub max_connections: usize,
    /// Max simultaneous TCP connections from one client IP; beyond it HTTP 429.
    pub max_connections_per_ip: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            listen: SocketAddr::from(([0, 0, 0, 0], 8000)),
            workers: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            pin_cores: true,
            paths: vec!["/ws/".into(), "/socket.io/".into()],
            echo_paths: Vec::new(),
            session: SessionConfig::default(),
            connect_timeout_ms: 45_000,
            handshake_timeout_ms: 10_000,
            http_limits: http::Limits::default(),
            cors: CorsConfig::default(),
            max_json_depth: 32,
            max_connections: 100_000,
            max_connections_per_ip: 1_000,
        }
    }
}

/// Which cross-origin requests are allowed.
#[derive(Debug, Clone, Default)]
pub struct CorsConfig {
    /// Exact origins (`https://app.example.com`) or `*`. Empty: no cross-origin access.
    pub origins: Vec<String>,
    /// Send `Access-Control-Allow-Credentials: true` (never with a literal `*`).
    pub credentials: bool,
}

impl CorsConfig {
    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if allowed.
    pub fn allow<'a>(&'a self, origin: Option<&'a [u8]>) -> Option<&'a str> {
        let origin = std::str::from_utf8(origin?).ok()?;
        if self.origins.iter().any(|o| o == origin) {
            return Some(origin);
        }
        if self.origins.iter().any(|o| o == "*") {
            // With credentials a browser refuses `*`: reflect the origin instead.
            return Some(if self.credentials { origin } else { "*" });
        }
        None
    }
}

/// Why a socket was disconnected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisconnectReason {
    /// The client sent a Socket.IO DISCONNECT.
    ClientNamespaceDisconnect,
    /// The server disconnected the socket.
    ServerNamespaceDisconnect,
    /// The client closed the Engine.IO session or its connection.
    TransportClose,
    /// No pong within the ping timeout.
    PingTimeout,
    /// The client sent something the protocol forbids.
    ParseError,
    /// The outbound queue exceeded its bound.
    SlowConsumer,
    /// The server is shutting down.
    ServerShutdown,
}

impl DisconnectReason {
    /// The reason string socket.io uses.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::ParseError => "parse error",
            DisconnectReason::SlowConsumer => "slow consumer",
            DisconnectReason::ServerShutdown => "server shutting down",
        }
    }
}

/// What a handler sees of a Socket.IO CONNECT.
#[derive(Debug, Clone, Copy)]
pub struct ConnectInfo<'a> {
    /// The namespace, e.g. `/`.
    pub nsp: &'a str,
    /// The raw JSON of the CONNECT packet's auth object, if any.
    pub auth: Option<&'a str>,
    /// The peer address of the connection that carried the handshake.
    pub peer: SocketAddr,
}

/// A plain HTTP request routed to the handler (anything outside the Engine.IO paths).
#[derive(Debug, Clone, Copy)]
pub struct HttpRequest<'a> {
    pub head: &'a http::Request<'a>,
    pub body: &'a [u8],
    pub peer: SocketAddr,
}

/// A response to a plain HTTP request.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A JSON response.
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Self {
        HttpResponse {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body: body.into(),
        }
    }
}

/// How a handler answers a plain HTTP request.
pub enum HttpReply {
    /// Answer now.
    Now(HttpResponse),
    /// Run these broadcasts on every core (and publish them to other nodes when clustered),
    /// then answer from the outcome.
    Broadcast {
        ops: Vec<BroadcastOp>,
        respond: Box<dyn FnOnce(&BroadcastOutcome) -> HttpResponse>,
    },
}

impl std::fmt::Debug for HttpReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpReply::Now(r) => f.debug_tuple("Now").field(r).finish(),
            HttpReply::Broadcast { ops, .. } => {
                f.debug_struct("Broadcast").field("ops", ops).finish()
            }
        }
    }
}

/// What became of the broadcasts of an [`HttpReply::Broadcast`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BroadcastOutcome {
    /// Sockets reached on this node, per broadcast.
    pub delivered: Vec<usize>,
    /// Broadcasts that could not be published to the other nodes (Redis unavailable).
    pub cluster_failures: usize,
}

/// One broadcast: already encoded once; every recipient gets refcounted clones of `frames`.
#[derive(Debug, Clone)]
pub struct BroadcastOp {
    /// The namespace (`/`).
    pub nsp: Room,
    /// Target rooms; empty means every socket of the namespace.
    pub rooms: Vec<Room>,
    /// Sockets that must not receive it.
    pub except: Vec<Sid>,
    /// The Engine.IO message frame, followed by binary attachment frames if any.
    pub frames: Vec<OutFrame>,
}

/// Messages between cores.
#[derive(Debug)]
pub enum Msg {
    /// Fan a broadcast out to this core's members; if `reply` is set, answer with `Delivered`.
    Broadcast {
        op: Arc<BroadcastOp>,
        reply: Option<(crate::sid::ShardId, u64)>,
    },
    /// A broadcast from another node that also excludes the members of some rooms.
    BroadcastExceptRooms {
        op: Arc<BroadcastOp>,
        except_rooms: Arc<[Room]>,
    },
    /// The number of sockets a core reached for a broadcast with a reply token.
    Delivered { token: u64, count: usize },
    /// A connection accepted by another core whose request names a session this core owns.
    Handoff {
        fd: std::os::fd::OwnedFd,
        peer: SocketAddr,
        preread: Vec<u8>,
    },
    /// Apply a command from another node to the matching local sockets.
    Remote(crate::cluster::RemoteCommand),
    /// Report the local sockets matching a selector.
    Fetch {
        selector: crate::cluster::Selector,
        collector: Arc<directory::Collector>,
    },
    /// Stop accepting, tell clients, exit once drained (or at the deadline).
    Shutdown,
}

/// The application's side of the engine. Calls arrive on worker threads; implementations
/// are shared by all workers.
pub trait Handler: Send + Sync + 'static {
    /// Whether clients may connect to `nsp`. Others get `CONNECT_ERROR {"message":"Invalid namespace"}`.
    fn namespace_allowed(&self, nsp: &str) -> bool {
        nsp == "/"
    }

    /// Decides a CONNECT: `Ok(data)` accepts (the data is kept with the socket, see
    /// [`Socket::data`]); `Err(message)` refuses with `CONNECT_ERROR {"message": message}`.
    fn authorize(&self, info: &ConnectInfo<'_>) -> Result<Box<dyn std::any::Any>, String>;

    /// A socket connected (the CONNECT reply is already queued, so emits here follow it).
    fn on_connect(&self, socket: &mut Socket<'_>, info: &ConnectInfo<'_>);

    /// An event from the client. `args` is the JSON array of its arguments (`[{"room":"x"}]`);
    /// `ack` is set when the client wants an acknowledgement; `attachments` are the binary
    /// attachments its placeholders refer to.
    fn on_event(
        &self,
        socket: &mut Socket<'_>,
        event: &str,
        args: &str,
        ack: Option<u64>,
        attachments: &[Bytes],
    );

    /// An acknowledgement from the client for a server emit made with an ack id.
    fn on_ack(&self, socket: &mut Socket<'_>, id: u64, args: &str, attachments: &[Bytes]) {
        let _ = (socket, id, args, attachments);
    }

    /// The deadline set with [`Socket::set_deadline`] passed.
    fn on_deadline(&self, socket: &mut Socket<'_>) {
        let _ = socket;
    }

    /// The socket is gone; it has already left its rooms' indexes.
    fn on_disconnect(&self, socket: &mut Socket<'_>, reason: DisconnectReason) {
        let _ = (socket, reason);
    }

    /// A plain HTTP request outside the Engine.IO paths. `None` → 404.
    fn on_http(&self, req: &HttpRequest<'_>, server: &mut Emitter<'_>) -> Option<HttpReply> {
        let _ = (req, server);
        None
    }
}
