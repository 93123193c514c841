//! The engine's settings: transport and protocol, given as values by whoever starts it (the
//! gateway derives them from its configuration).

use std::net::SocketAddr;

use ringcast_codec::eio::SessionConfig;
use ringcast_codec::http;

/// Settings of the engine (transport and protocol); the gateway's settings live in `config`.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Addresses every worker listens on (SO_REUSEPORT spreads connections over workers); the
    /// first one is [`Running::local_addr`](super::Running). Never empty.
    pub listen: Vec<SocketAddr>,
    /// Number of workers, one per core.
    pub workers: usize,
    /// Pin worker `i` to core `i % cores`.
    pub pin_cores: bool,
    /// Engine.IO paths, each with a leading and trailing slash (`/ws/`, `/socket.io/`).
    pub paths: Vec<String>,
    /// Engine.IO paths whose Socket.IO packets use `socket.io-msgpack-parser`'s wire form (one
    /// binary message per packet, see `ringcast_codec::sio::msgpack`) instead of the default
    /// JSON text parser. Usually empty. A path in both lists is served with msgpack.
    pub msgpack_paths: Vec<String>,
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
    /// Serve Engine.IO v3 (socket.io-client 2.x) as socket.io's `allowEIO3`: any `EIO` other
    /// than `4` is then v3. Off: HTTP 400 code 5 "Unsupported protocol version".
    pub allow_eio3: bool,
    /// Max simultaneous TCP connections on the node; beyond it new ones get HTTP 503.
    pub max_connections: usize,
    /// Max simultaneous TCP connections from one client IP; beyond it HTTP 429.
    pub max_connections_per_ip: usize,
    /// Connection state recovery ([`super::recovery`]); `None`: off, as in socket.io.
    pub recovery: Option<super::recovery::RecoveryConfig>,
    /// permessage-deflate on WebSocket upgrades that offer it; `None`: off, as in socket.io.
    pub compression: Option<Compression>,
}

/// permessage-deflate (RFC 7692) settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compression {
    /// Server message payloads shorter than this go uncompressed (socket.io's
    /// `perMessageDeflate.threshold`, 1024 by default).
    pub threshold: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            listen: vec![SocketAddr::from(([0, 0, 0, 0], 8000))],
            workers: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            pin_cores: true,
            paths: vec!["/ws/".into(), "/socket.io/".into()],
            msgpack_paths: Vec::new(),
            echo_paths: Vec::new(),
            session: SessionConfig::default(),
            connect_timeout_ms: 45_000,
            handshake_timeout_ms: 10_000,
            http_limits: http::Limits::default(),
            cors: CorsConfig::default(),
            max_json_depth: 32,
            allow_eio3: false,
            max_connections: 100_000,
            max_connections_per_ip: 1_000,
            recovery: None,
            compression: None,
        }
    }
}

/// What an Engine.IO path serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    /// Socket.IO with the default parser (JSON text packets, binary attachments).
    Json,
    /// Socket.IO with `socket.io-msgpack-parser`'s packets ([`EngineConfig::msgpack_paths`]).
    Msgpack,
    /// Engine.IO messages echoed back ([`EngineConfig::echo_paths`]).
    Echo,
}

impl EngineConfig {
    /// Every Engine.IO path with what it serves; a msgpack path wins over the same JSON path.
    pub fn path_kinds(&self) -> Vec<(String, PathKind)> {
        let msgpack = self
            .msgpack_paths
            .iter()
            .map(|p| (p.clone(), PathKind::Msgpack));
        let json = self
            .paths
            .iter()
            .filter(|p| !self.msgpack_paths.contains(p))
            .map(|p| (p.clone(), PathKind::Json));
        let echo = self.echo_paths.iter().map(|p| (p.clone(), PathKind::Echo));
        msgpack.chain(json).chain(echo).collect()
    }
}

/// Which cross-origin requests are allowed.
#[derive(Debug, Clone, Default)]
pub struct CorsConfig {
    /// Exact origins (`https://app.example.com`) or `*`. Empty: no cross-origin access.
    pub origins: Vec<String>,
    /// Send `Access-Control-Allow-Credentials: true` (never with a literal `*`).
    pub credentials: bool,
    /// Exact origins allowed with credentials whatever `credentials` says (the admin UI's,
    /// which connects with `withCredentials: true`).
    pub credentialed_origins: Vec<String>,
}

impl CorsConfig {
    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if allowed.
    pub fn allow<'a>(&'a self, origin: Option<&'a [u8]>) -> Option<&'a str> {
        let origin = std::str::from_utf8(origin?).ok()?;
        if self
            .origins
            .iter()
            .chain(&self.credentialed_origins)
            .any(|o| o == origin)
        {
            return Some(origin);
        }
        if self.origins.iter().any(|o| o == "*") {
            // With credentials a browser refuses `*`: reflect the origin instead.
            return Some(if self.credentials { origin } else { "*" });
        }
        None
    }

    /// Whether the answer to `origin` carries `Access-Control-Allow-Credentials: true`.
    pub fn credentials_for(&self, origin: &str) -> bool {
        self.credentials || self.credentialed_origins.iter().any(|o| o == origin)
    }
}
