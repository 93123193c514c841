//! The settings table: every setting, declared once.
//!
//! A row names the setting (also its TOML key), its type, its command-line flag and value name,
//! its environment variable, its default and its `--help` text; [`super::macros`] generates the
//! raw layer [`Settings`] with its clap arguments, the environment and file layers, the
//! defaults layer and [`SETTING_NAMES`] from it. What a value means (ranges, cross-checks, the
//! typed [`super::Config`] field) is [`super::resolve`]'s business.
//!
//! The order of the rows is the order of `--help`.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

use super::macros::settings;
use super::{ClusterMode, ConfigError, LogFormat, RoomPolicy, ShardedSubscriptionMode};

settings! {
    /// TOML configuration file.
    config: PathBuf => Scalar { flag: "config", value: "FILE", env: "RINGCAST_CONFIG", }

    /// Address to listen on: `IP:PORT` (`127.0.0.1:8000`, `[::1]:8000`), `HOST:PORT` (every
    /// address the name resolves to at start), `:PORT` or a bare `PORT` (every IPv4 interface).
    listen: String => Scalar {
        flag: "listen", value: "ADDR", env: "RINGCAST_LISTEN",
        default: "0.0.0.0:8000".to_owned(),
    }
    /// Engine.IO path, repeatable; normalised to a leading and trailing slash.
    paths: Vec<String> => Repeated {
        flag: "path", value: "PATH", env: "RINGCAST_PATHS",
        // The spec's `/ws` and Socket.IO's own default.
        default: vec!["/ws/".to_owned(), "/socket.io/".to_owned()],
        shown: "/ws/ and /socket.io/",
    }
    /// Engine.IO path served with `socket.io-msgpack-parser`'s packets instead of JSON text,
    /// repeatable; normalised like `paths`. A path in both lists is a msgpack path.
    msgpack_paths: Vec<String> => Repeated {
        flag: "msgpack-path", value: "PATH", env: "RINGCAST_MSGPACK_PATHS",
        // Off: a client must opt into the parser, and its path says so.
        default: Vec::new(),
        shown: "none",
    }
    /// Worker threads.
    workers: usize => Scalar {
        flag: "workers", value: "N", env: "RINGCAST_WORKERS",
        default: cores(),
        shown: "number of cores",
    }

    /// Engine.IO ping interval.
    ping_interval_ms: u64 => Scalar {
        flag: "ping-interval-ms", value: "MS", env: "RINGCAST_PING_INTERVAL_MS",
        // The spec's server uses `ping_interval=25`.
        default: 25_000,
    }
    /// Engine.IO ping timeout.
    ping_timeout_ms: u64 => Scalar {
        flag: "ping-timeout-ms", value: "MS", env: "RINGCAST_PING_TIMEOUT_MS",
        // The spec's server uses `ping_timeout=30`.
        default: 30_000,
    }
    /// Largest Engine.IO packet accepted, in bytes.
    max_payload: usize => Scalar {
        flag: "max-payload", value: "BYTES", env: "RINGCAST_MAX_PAYLOAD",
        // The spec's server uses `max_http_buffer_size=1_000_000`.
        default: 1_000_000,
    }
    /// Accept permessage-deflate (RFC 7692) on WebSocket upgrades that offer it: server
    /// messages at least `ws_compression_threshold` bytes long go compressed.
    ws_compression: bool => Bool {
        flag: "ws-compression", value: "BOOL", env: "RINGCAST_WS_COMPRESSION",
        // Off, as socket.io's `perMessageDeflate` (CPU and ~43 KiB per compressing client).
        default: false,
    }
    /// Smallest server message payload compressed when ws_compression is on.
    ws_compression_threshold: usize => Scalar {
        flag: "ws-compression-threshold", value: "BYTES", env: "RINGCAST_WS_COMPRESSION_THRESHOLD",
        // socket.io's `perMessageDeflate.threshold` default (1 KiB).
        default: 1024,
    }
    /// Time to send the Socket.IO CONNECT after the handshake.
    connect_timeout_ms: u64 => Scalar {
        flag: "connect-timeout-ms", value: "MS", env: "RINGCAST_CONNECT_TIMEOUT_MS",
        // Socket.IO's `connectTimeout` default.
        default: 45_000,
    }

    /// HMAC secret for HS256/384/512 tokens; at least 32 bytes for HS256 (RFC 7518 §3.2).
    /// Prefer --jwt-secret-file: flags show up in `ps`.
    jwt_secret: String => Scalar {
        flag: "jwt-secret", value: "SECRET", env: "RINGCAST_JWT_SECRET",
    }
    /// File holding the HMAC secret (one trailing newline is ignored).
    jwt_secret_file: PathBuf => Scalar {
        flag: "jwt-secret-file", value: "FILE", env: "RINGCAST_JWT_SECRET_FILE",
    }
    /// PEM public key (RSA, EC P-256/P-384, Ed25519) verifying asymmetric tokens.
    jwt_public_key_file: PathBuf => Scalar {
        flag: "jwt-public-key-file", value: "FILE", env: "RINGCAST_JWT_PUBLIC_KEY_FILE",
    }
    /// PEM private key (PKCS#8 or PKCS#1 RSA); only `ringcast token` signs with it.
    jwt_private_key_file: PathBuf => Scalar {
        flag: "jwt-private-key-file", value: "FILE", env: "RINGCAST_JWT_PRIVATE_KEY_FILE",
    }
    /// Accepted token algorithms, comma list (`none` is refused).
    jwt_algorithms: Vec<String> => Delimited {
        flag: "jwt-algorithms", value: "ALGS", env: "RINGCAST_JWT_ALGORITHMS",
        // Unset, the keys decide (`resolve::algorithms`).
        shown: "HS256 with a secret; the public key's own algorithm (RS256, ES256, ES384, \
                EdDSA) with a public key",
    }
    /// Required `iss` claim.
    jwt_issuer: String => Scalar {
        flag: "jwt-issuer", value: "ISS", env: "RINGCAST_JWT_ISSUER",
        shown: "not checked",
    }
    /// Required `aud` claim.
    jwt_audience: String => Scalar {
        flag: "jwt-audience", value: "AUD", env: "RINGCAST_JWT_AUDIENCE",
        shown: "tokens carrying any `aud` are refused, RFC 7519 §4.1.3",
    }
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    jwt_leeway_secs: u64 => Scalar {
        flag: "jwt-leeway-secs", value: "SECS", env: "RINGCAST_JWT_LEEWAY_SECS",
        default: 30,
    }
    /// Refuse tokens without an `exp` claim. `false` accepts them (a start-up WARN says so): such
    /// a token never expires, as python-socketio backends may mint; a token whose `exp` has
    /// passed is still refused.
    jwt_require_exp: bool => Bool {
        flag: "jwt-require-exp", value: "BOOL", env: "RINGCAST_JWT_REQUIRE_EXP",
        default: true,
    }
    /// Rooms a client may subscribe to: `open` (any valid room) or `claims` (only those the
    /// token's `rooms` claim grants: exact names like `task:123`, kind wildcards `agent:*`,
    /// `task:*`, `conversation:*`, or `*`).
    room_policy: RoomPolicy => Scalar {
        flag: "room-policy", value: "POLICY", env: "RINGCAST_ROOM_POLICY",
        default: RoomPolicy::Open,
    }
    /// Time a socket whose token has expired stays connected, waiting for a fresh token sent
    /// with the `auth:refresh` event; at most a day.
    token_expiry_grace_ms: u64 => Scalar {
        flag: "token-expiry-grace-ms", value: "MS", env: "RINGCAST_TOKEN_EXPIRY_GRACE_MS",
        // None: the token's `exp` is the end of the session.
        default: 0,
        shown: "0 (disconnected at `exp`)",
    }

    /// Publish API key (`Authorization: Bearer <key>`), repeatable for rotation; 16+ characters
    /// of A-Z a-z 0-9 - . _ ~ + / (RFC 6750 b64token).
    api_keys: Vec<String> => Repeated {
        flag: "api-key", value: "KEY", env: "RINGCAST_API_KEYS",
        default: Vec::new(),
    }
    /// Allowed cross-origin origin (`https://app.example.com`) or `*`, repeatable.
    cors_origins: Vec<String> => Repeated {
        flag: "cors-origin", value: "ORIGIN", env: "RINGCAST_CORS_ORIGINS",
        default: Vec::new(),
        shown: "none",
    }
    /// Allow credentialed cross-origin requests.
    cors_credentials: bool => Bool {
        flag: "cors-credentials", value: "BOOL", env: "RINGCAST_CORS_CREDENTIALS",
        default: false,
    }

    /// Open connections in total.
    max_connections: usize => Scalar {
        flag: "max-connections", value: "N", env: "RINGCAST_MAX_CONNECTIONS",
        // On these machines the 20 000 open-file hard limit per process binds first; the cap
        // matters where that limit is raised.
        default: 100_000,
    }
    /// Open connections per client IP.
    max_connections_per_ip: usize => Scalar {
        flag: "max-connections-per-ip", value: "N", env: "RINGCAST_MAX_CONNECTIONS_PER_IP",
        default: 1_000,
    }
    /// Time to receive a complete HTTP request head.
    handshake_timeout_ms: u64 => Scalar {
        flag: "handshake-timeout-ms", value: "MS", env: "RINGCAST_HANDSHAKE_TIMEOUT_MS",
        default: 10_000,
    }
    /// Largest HTTP request head, in bytes.
    max_http_head: usize => Scalar {
        flag: "max-http-head", value: "BYTES", env: "RINGCAST_MAX_HTTP_HEAD",
        default: 16_384,
    }
    /// Rooms per socket, `dashboard` included.
    max_rooms_per_socket: usize => Scalar {
        flag: "max-rooms-per-socket", value: "N", env: "RINGCAST_MAX_ROOMS_PER_SOCKET",
        default: 100,
    }
    /// Bytes queued per connection before it is dropped as a slow consumer.
    max_outbound_bytes: usize => Scalar {
        flag: "max-outbound-bytes", value: "BYTES", env: "RINGCAST_MAX_OUTBOUND_BYTES",
        default: 4 * 1024 * 1024,
        shown: "4194304 (4 MiB)",
    }
    /// Deepest JSON nesting accepted from clients.
    max_json_depth: usize => Scalar {
        flag: "max-json-depth", value: "N", env: "RINGCAST_MAX_JSON_DEPTH",
        default: 32,
    }
    /// Serve Engine.IO v3 clients (socket.io-client 2.x): the reversed heartbeat, v3 polling
    /// payloads, Socket.IO protocol v4 with the token in the handshake query. Off: `EIO=3` gets
    /// HTTP 400 `{"code":5,"message":"Unsupported protocol version"}`.
    allow_eio3: bool => Bool {
        flag: "allow-eio3", value: "BOOL", env: "RINGCAST_ALLOW_EIO3",
        // Off, as socket.io's `allowEIO3`.
        default: false,
    }
    /// Client events per second per socket.
    event_rate_per_sec: u32 => Scalar {
        flag: "event-rate-per-sec", value: "N", env: "RINGCAST_EVENT_RATE_PER_SEC",
        default: 100,
    }
    /// Client events a socket may burst.
    event_rate_burst: u32 => Scalar {
        flag: "event-rate-burst", value: "N", env: "RINGCAST_EVENT_RATE_BURST",
        default: 200,
    }

    /// Connection state recovery (socket.io ≥ 4.6): a client whose connection drops gets its
    /// socket id, rooms and missed broadcasts back on reconnect. Every broadcast event then
    /// carries an offset string as its last argument (see README "Delivery guarantees").
    recovery: bool => Bool {
        flag: "recovery", value: "BOOL", env: "RINGCAST_RECOVERY",
        // Off, as in socket.io: the extra argument breaks python-socketio handlers that take
        // exactly one (python-socketio 5.18 calls `handler(*args)`: a TypeError).
        default: false,
    }
    /// How long a session whose transport went away can be restored.
    recovery_max_disconnection_ms: u64 => Scalar {
        flag: "recovery-max-disconnection-ms", value: "MS", env: "RINGCAST_RECOVERY_MAX_DISCONNECTION_MS",
        // socket.io's `maxDisconnectionDuration` default (2 minutes).
        default: 120_000,
    }
    /// Broadcasts kept for recovery, per worker (and once more for events from other nodes).
    recovery_log_max_events: usize => Scalar {
        flag: "recovery-log-max-events", value: "N", env: "RINGCAST_RECOVERY_LOG_MAX_EVENTS",
        // 10 000: two minutes at ~80 broadcasts/s per core.
        default: 10_000,
    }
    /// Bytes of broadcast frames kept for recovery, per worker (and once more for events from
    /// other nodes).
    recovery_log_max_bytes: usize => Scalar {
        flag: "recovery-log-max-bytes", value: "BYTES", env: "RINGCAST_RECOVERY_LOG_MAX_BYTES",
        // 8 MiB: 10 000 events of ~800 bytes.
        default: 8 * 1024 * 1024,
        shown: "8388608 (8 MiB)",
    }
    /// Age past which a broadcast leaves the recovery log.
    recovery_log_max_age_ms: u64 => Scalar {
        flag: "recovery-log-max-age-ms", value: "MS", env: "RINGCAST_RECOVERY_LOG_MAX_AGE_MS",
        // The disconnection window's default: a session restorable for 2 minutes needs at most
        // the events of the 2 minutes since it dropped.
        default: 120_000,
    }

    /// Redis for clustering: `redis://[user][:password@]host[:port][/db]`, `rediss://…` (TLS)
    /// or `unix:///path/redis.sock[?db=N&pass=P]`. Prefer the environment or the file when it
    /// holds a password: flags show up in `ps`.
    redis_url: String => Scalar {
        flag: "redis-url", value: "URL", env: "RINGCAST_REDIS_URL",
        shown: "none, a single node",
    }
    /// Channel prefix of the socket.io Redis adapter (its `key` option).
    redis_key_prefix: String => Scalar {
        flag: "redis-key-prefix", value: "PREFIX", env: "RINGCAST_REDIS_KEY_PREFIX",
        // `@socket.io/redis-adapter`'s `key` default.
        default: "socket.io".to_owned(),
    }
    /// Channel python-socketio's Redis manager publishes on (its `channel` option).
    redis_python_channel: String => Scalar {
        flag: "redis-python-channel", value: "CHANNEL", env: "RINGCAST_REDIS_PYTHON_CHANNEL",
        // `AsyncRedisManager`'s `channel='socketio'`.
        default: "socketio".to_owned(),
    }
    /// Time a request to the other nodes waits for their answers.
    redis_request_timeout_ms: u64 => Scalar {
        flag: "redis-request-timeout-ms", value: "MS", env: "RINGCAST_REDIS_REQUEST_TIMEOUT_MS",
        // The redis adapter's `requestsTimeout`.
        default: 5_000,
    }
    /// PEM CA bundle that verifies a rediss:// server (a private CA), replacing the system
    /// trust store.
    redis_tls_ca: PathBuf => Scalar {
        flag: "redis-tls-ca", value: "FILE", env: "RINGCAST_REDIS_TLS_CA",
        shown: "the system trust store",
    }
    /// In sharded mode, which channels a node subscribes: `static` (the namespace's and its
    /// own) or `dynamic` (also one per room with members on the node). Every node of a
    /// cluster must use the same.
    sharded_subscription_mode: ShardedSubscriptionMode => Scalar {
        flag: "sharded-subscription-mode", value: "MODE", env: "RINGCAST_SHARDED_SUBSCRIPTION_MODE",
        // `createShardedAdapter`'s `subscriptionMode` default.
        default: ShardedSubscriptionMode::Dynamic,
    }

    /// How nodes exchange broadcasts through Redis: pubsub (PUBLISH, `@socket.io/redis-adapter`'s
    /// format; at most once), streams (XADD/XREAD on one stream, the format of
    /// `@socket.io/redis-streams-adapter` 0.3; with recovery, sessions and missed events survive
    /// a node's restart or crash) or sharded (Redis 7 SPUBLISH/SSUBSCRIBE, the redis adapter's
    /// `createShardedAdapter`). Every node of a cluster must use the same. See
    /// docs/CLUSTERING.md.
    cluster_mode: ClusterMode => Scalar {
        flag: "cluster-mode", value: "MODE", env: "RINGCAST_CLUSTER_MODE",
        default: ClusterMode::Pubsub,
    }
    /// Streams mode: the Redis stream's name (the streams adapter's `streamName`).
    redis_stream_name: String => Scalar {
        flag: "redis-stream-name", value: "NAME", env: "RINGCAST_REDIS_STREAM_NAME",
        // The streams adapter's default.
        default: "socket.io".to_owned(),
    }
    /// Streams mode: entries the stream keeps, about (XADD `MAXLEN ~`; the adapter's `maxLen`).
    redis_stream_max_len: usize => Scalar {
        flag: "redis-stream-max-len", value: "N", env: "RINGCAST_REDIS_STREAM_MAX_LEN",
        // The streams adapter's default: 10 000 entries, ~2 minutes at 80 broadcasts/s.
        default: 10_000,
    }
    /// Streams mode: entries per XREAD and per XRANGE of a replay (the adapter's `readCount`).
    redis_stream_read_count: usize => Scalar {
        flag: "redis-stream-read-count", value: "N", env: "RINGCAST_REDIS_STREAM_READ_COUNT",
        // The streams adapter's default.
        default: 100,
    }
    /// Streams mode: how long one XREAD blocks waiting for entries (the adapter's
    /// `blockTimeInMs`).
    redis_stream_block_ms: u64 => Scalar {
        flag: "redis-stream-block-ms", value: "MS", env: "RINGCAST_REDIS_STREAM_BLOCK_MS",
        // The streams adapter's default.
        default: 5_000,
    }
    /// Streams mode: the Redis key prefix of saved sessions (the adapter's `sessionKeyPrefix`).
    redis_session_key_prefix: String => Scalar {
        flag: "redis-session-key-prefix", value: "PREFIX", env: "RINGCAST_REDIS_SESSION_KEY_PREFIX",
        // The streams adapter's default.
        default: "sio:session:".to_owned(),
    }

    /// Log filter: error, warn, info, debug, trace, off, or directives like
    /// `info,ringcast=debug`.
    log_level: String => Scalar {
        flag: "log-level", value: "FILTER", env: "RINGCAST_LOG_LEVEL",
        default: "info".to_owned(),
    }
    /// Log format.
    log_format: LogFormat => Scalar {
        flag: "log-format", value: "FORMAT", env: "RINGCAST_LOG_FORMAT",
        default: LogFormat::Text,
    }
    /// Seconds between the INFO activity summaries (connects, disconnects and auth failures by
    /// reason, publishes, rejections: the /metrics counters' increase); an interval in which
    /// nothing happened logs nothing. 0 turns the summary off.
    log_summary_interval_secs: u64 => Scalar {
        flag: "log-summary-interval-secs", value: "SECS", env: "RINGCAST_LOG_SUMMARY_INTERVAL_SECS",
        // A minute: one line per minute on a busy node, none on an idle one.
        default: 60,
        shown: "60 (0: off)",
    }
    /// Serve Prometheus metrics on /metrics.
    metrics: bool => Bool {
        flag: "metrics", value: "BOOL", env: "RINGCAST_METRICS",
        default: true,
    }
    /// On shutdown, time connections get to close.
    drain_timeout_ms: u64 => Scalar {
        flag: "drain-timeout-ms", value: "MS", env: "RINGCAST_DRAIN_TIMEOUT_MS",
        default: 10_000,
    }
    /// Directory for what the server keeps between runs: in dev mode the generated JWT secret
    /// (`dev-jwt-secret`, mode 0600, directory 0700), which `ringcast token` signs with in dev
    /// mode.
    state_dir: PathBuf => Scalar {
        flag: "state-dir", value: "DIR", env: "RINGCAST_STATE_DIR",
        shown: "$XDG_STATE_HOME/ringcast, else ~/.local/state/ringcast",
    }
    /// Token claim naming the user: every socket joins the room `user:{value}` at connect, which
    /// the publish API's `users` target reaches. A token without the claim connects without a
    /// user room; one whose value is not 1-128 printable ASCII (no space, `"`, `\`) is refused.
    user_claim: String => Scalar {
        flag: "user-claim", value: "CLAIM", env: "RINGCAST_USER_CLAIM",
        // RFC 7519 §4.1.2: `sub` identifies the principal that is the subject of the JWT.
        default: "sub".to_owned(),
    }

    /// Serve the Socket.IO admin UI's server side (`@socket.io/admin-ui` 0.5) on namespace
    /// `/admin`: live stats, sockets and rooms, and the UI's emit/join/leave/disconnect commands.
    admin_ui: bool => Bool {
        flag: "admin-ui", value: "BOOL", env: "RINGCAST_ADMIN_UI",
        // Off: it can disconnect every client, so an operator turns it on.
        default: false,
    }
    /// The admin UI's login name.
    admin_username: String => Scalar {
        flag: "admin-username", value: "NAME", env: "RINGCAST_ADMIN_USERNAME",
        // The name the admin UI's docs use.
        default: "admin".to_owned(),
    }
    /// The bcrypt hash (`$2b$10$…`) of the admin UI's password, required with admin_ui on and
    /// admin_auth = "password".
    admin_password_hash: String => Scalar {
        flag: "admin-password-hash", value: "HASH", env: "RINGCAST_ADMIN_PASSWORD_HASH",
        shown: "none",
    }
    /// The admin UI's login check: "password" (admin_username and admin_password_hash) or
    /// "none" (anyone who reaches the port is an administrator).
    admin_auth: String => Scalar {
        flag: "admin-auth", value: "MODE", env: "RINGCAST_ADMIN_AUTH",
        // "none" only when written out, as the package's `auth: false`.
        default: "password".to_owned(),
    }
    /// The admin UI's mode: "production" (stats only) or "development" (also every socket, its
    /// rooms, connects and disconnects, as the package's `mode`).
    admin_mode: String => Scalar {
        flag: "admin-mode", value: "MODE", env: "RINGCAST_ADMIN_MODE",
        // The cheap one: development sends an event to the UI per connect, join and leave.
        default: "production".to_owned(),
    }
    /// The origin the admin UI is served from (`https://admin.socket.io`): allowed cross-origin
    /// with credentials (the UI connects with `withCredentials: true`).
    admin_origin: String => Scalar {
        flag: "admin-origin", value: "ORIGIN", env: "RINGCAST_ADMIN_ORIGIN",
        shown: "none",
    }

    /// Webhook receiver: `http://host[:port]/path` that gets connect, disconnect, subscribe
    /// and unsubscribe events as signed JSON batches. Plain HTTP only: put a local TLS proxy in
    /// front for https. Unset: no webhooks.
    webhook_url: String => Scalar {
        flag: "webhook-url", value: "URL", env: "RINGCAST_WEBHOOK_URL",
    }
    /// HMAC-SHA256 key of the webhooks' `X-Ringcast-Signature`; required with webhook_url, at
    /// least 32 bytes.
    webhook_secret: String => Scalar {
        flag: "webhook-secret", value: "SECRET", env: "RINGCAST_WEBHOOK_SECRET",
    }
    /// Event types sent to the webhook, comma list of connect, disconnect, subscribe,
    /// unsubscribe.
    webhook_events: Vec<String> => Delimited {
        flag: "webhook-events", value: "TYPES", env: "RINGCAST_WEBHOOK_EVENTS",
        // Unset: all four.
        shown: "connect,disconnect,subscribe,unsubscribe",
    }
    /// Most events in one webhook request.
    webhook_batch_max: usize => Scalar {
        flag: "webhook-batch-max", value: "N", env: "RINGCAST_WEBHOOK_BATCH_MAX",
        // 100 events of ~250 bytes: a 25 KB body, one request per 100 connects at peak.
        default: 100,
    }
    /// Longest an event waits for its batch to fill before it is sent.
    webhook_batch_ms: u64 => Scalar {
        flag: "webhook-batch-ms", value: "MS", env: "RINGCAST_WEBHOOK_BATCH_MS",
        // A tenth of a second: below what a backend's "who is online" view notices.
        default: 100,
    }
    /// Events waiting to be sent, across the workers; beyond it new events are dropped and
    /// counted (ringcast_webhook_events_dropped_total).
    webhook_queue: usize => Scalar {
        flag: "webhook-queue", value: "N", env: "RINGCAST_WEBHOOK_QUEUE",
        // ~2.5 MB of events at ~250 bytes each: 100 full batches, seconds of a receiver outage.
        default: 10_000,
    }
    /// Time one webhook request gets (connect, send, answer) before it counts as failed.
    webhook_timeout_ms: u64 => Scalar {
        flag: "webhook-timeout-ms", value: "MS", env: "RINGCAST_WEBHOOK_TIMEOUT_MS",
        default: 5_000,
    }
    /// Attempts per batch (the first and the retries) before it is dropped; retries wait
    /// 200 ms doubled per attempt, with jitter, at most 10 s.
    webhook_attempts: u32 => Scalar {
        flag: "webhook-attempts", value: "N", env: "RINGCAST_WEBHOOK_ATTEMPTS",
        // 5 attempts: about 3 s of backoff (0.2 + 0.4 + 0.8 + 1.6), a receiver's restart.
        default: 5,
    }
}

/// The default worker count: one per core.
fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

impl fmt::Debug for Settings {
    // Settings hold raw secrets; nothing in them is printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings").finish_non_exhaustive()
    }
}
