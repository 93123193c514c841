//! Configuration: command-line flags, `RINGCAST_*` environment variables, an optional TOML file.
//!
//! Every setting has one canonical name (`ping_interval_ms`) used three ways:
//!
//! | layer   | spelling                                   | lists                         |
//! |---------|--------------------------------------------|-------------------------------|
//! | flag    | `--ping-interval-ms 25000`                 | repeat the flag (`--path /a`) |
//! | env     | `RINGCAST_PING_INTERVAL_MS=25000`          | comma list (`/a,/b`)          |
//! | file    | `ping_interval_ms = 25000` (`--config F`)  | TOML array                    |
//!
//! Precedence, highest first: flag > env > file > default. A layer sets a value or leaves it
//! alone; lists replace, they never merge across layers (so an env list can shrink a file list).
//! An empty environment variable counts as unset, the way `docker run -e X=` and compose files
//! leave placeholders.
//!
//! Loading validates everything a running server would trip over later: key files are read and
//! parsed, algorithm lists are checked against the keys, numbers against sane ranges. A bad
//! setting is one [`ConfigError`] whose `Display` is a single line naming the setting and why;
//! `main` prints it and exits with code 2 (as clap does for a usage error).
//!
//! Tests build a [`Config`] with [`Config::load_from`], passing arguments and an environment
//! map, so nothing here reads or writes the real process environment.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use jsonwebtoken::{Algorithm, AlgorithmFamily};
use serde::Deserialize;

use crate::auth::{self, AuthSettings, DevMaterial};
pub use crate::auth::{PemFile, Secret};

/// The server's whole configuration, validated. Plain typed fields: the runtime reads them
/// directly. Build it with [`Config::load`] (the process) or [`Config::load_from`] (tests).
#[derive(Clone, Debug)]
pub struct Config {
    /// Address the workers listen on (each its own `SO_REUSEPORT` socket).
    pub listen: SocketAddr,
    /// Engine.IO mount paths, each with a leading and a trailing slash (`/ws/`, `/socket.io/`).
    pub paths: Vec<String>,
    /// Worker threads, one runtime each. Default: the number of cores.
    pub workers: usize,
    /// Engine.IO `pingInterval` sent in the handshake.
    pub ping_interval_ms: u64,
    /// Engine.IO `pingTimeout` sent in the handshake.
    pub ping_timeout_ms: u64,
    /// Engine.IO `maxPayload`: the largest packet (WebSocket message or polling body) accepted.
    pub max_payload: usize,
    /// Time a client has after the Engine.IO handshake to send its Socket.IO CONNECT.
    pub connect_timeout_ms: u64,
    /// HMAC secret for HS256/384/512 (from `jwt_secret` or `jwt_secret_file`).
    pub jwt_secret: Option<Secret>,
    /// PEM public key (RSA, EC P-256/P-384 or Ed25519) that verifies asymmetric tokens.
    pub jwt_public_key: Option<PemFile>,
    /// PEM private key, only used by `ringcast token` to sign test tokens.
    pub jwt_private_key: Option<PemFile>,
    /// Algorithms a token's header may name, already checked against the keys above: an HS
    /// algorithm is here only with a secret, an asymmetric one only with a matching public key.
    /// Empty exactly in dev mode before [`auth::dev_mode_material`] fills it.
    pub jwt_algorithms: Vec<Algorithm>,
    /// Required `iss` claim, if set.
    pub jwt_issuer: Option<String>,
    /// Required `aud` claim (one of its values), if set.
    pub jwt_audience: Option<String>,
    /// Clock skew allowed when checking `exp` and `nbf`.
    pub jwt_leeway_secs: u64,
    /// Which rooms a client may subscribe to.
    pub room_policy: RoomPolicy,
    /// Once a connected socket's token `exp` has passed, the socket is disconnected after this
    /// long unless it sent a fresh token with `auth:refresh` (0: at once).
    pub token_expiry_grace_ms: u64,
    /// Keys accepted as `Authorization: Bearer <key>` by the publish API; several at once so a
    /// key can be rotated without downtime.
    pub api_keys: Vec<Secret>,
    /// Origins allowed cross-origin (exact `scheme://host[:port]`, lowercase), or just `*`.
    /// Empty: no cross-origin requests.
    pub cors_origins: Vec<String>,
    /// Send `Access-Control-Allow-Credentials: true` (never together with `*`).
    pub cors_credentials: bool,
    /// Open connections across all workers.
    pub max_connections: usize,
    /// Open connections from one IP address.
    pub max_connections_per_ip: usize,
    /// Time allowed to send a complete HTTP request head.
    pub handshake_timeout_ms: u64,
    /// Largest HTTP request head (request line and headers).
    pub max_http_head: usize,
    /// Rooms one socket may be in, `dashboard` included.
    pub max_rooms_per_socket: usize,
    /// Bytes queued for one connection before it is dropped as a slow consumer.
    pub max_outbound_bytes: usize,
    /// Deepest JSON nesting accepted from clients.
    pub max_json_depth: usize,
    /// Client events per second per socket (token bucket refill rate).
    pub event_rate_per_sec: u32,
    /// Client events a socket may send at once (token bucket size).
    pub event_rate_burst: u32,
    /// Redis server for clustering; `None`: a single node, no Redis.
    pub redis_url: Option<RedisUrl>,
    /// Channel prefix of the socket.io Redis adapter (its `key` option).
    pub redis_key_prefix: String,
    /// The one channel python-socketio's `AsyncRedisManager` publishes on (its `channel`).
    pub redis_python_channel: String,
    /// How long a request to the other nodes waits for their answers (the adapter's
    /// `requestsTimeout`).
    pub redis_request_timeout_ms: u64,
    /// PEM CA bundle that verifies a `rediss://` server instead of the system trust store;
    /// only ever set together with a `rediss://` [`Config::redis_url`] without `#insecure`.
    pub redis_tls_ca: Option<PemBundle>,
    /// `tracing` filter: a level (`info`) or directives (`info,ringcast=debug`).
    pub log_level: String,
    /// Log line format.
    pub log_format: LogFormat,
    /// Serve Prometheus metrics on `/metrics`.
    pub metrics: bool,
    /// On shutdown, time given to connections to close before they are cut.
    pub drain_timeout_ms: u64,
    /// Neither a JWT secret nor a public key was configured: the server must generate a random
    /// secret and API key at start ([`auth::dev_mode_material`]) and say so loudly.
    pub dev_mode: bool,
}

/// A configuration error: which setting, and why. `Display` is one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    setting: String,
    message: String,
}

/// A PEM certificate bundle (a CA that verifies a TLS server), read and parsed at load time:
/// at least one certificate, each one usable as a trust anchor. `Debug` shows the path and the
/// count, not kilobytes of PEM.
#[derive(Clone, PartialEq, Eq)]
pub struct PemBundle {
    path: PathBuf,
    pem: Vec<u8>,
    certificates: usize,
}

/// Log line format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Which rooms a client may subscribe to. Either way the room name must be valid
/// ([`crate::gateway::parse_room`]) and every socket is put in `dashboard` on connect, as the
/// spec says ("auto-subscribed on connect"). Under `Claims` the check is
/// [`crate::gateway::room_granted`] over the token's `rooms` claim.
// The variants' docs are `--help` text: plain words, no links.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoomPolicy {
    /// Any valid room.
    Open,
    /// Only rooms the token's `rooms` claim grants; a token without the claim grants none.
    Claims,
}

/// A Redis URL, validated at load: `redis://[user][:password@]host[:port][/db]`,
/// `rediss://` (TLS), or `unix:///path/to/redis.sock[?db=N&user=U&pass=P]`. `Debug` and
/// [`RedisUrl::redacted`] replace the password with `***`; the full text is only reachable
/// through [`RedisUrl::expose`], as for [`Secret`].
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(String);

/// The command line: server settings (accepted before or after a subcommand) and an optional
/// subcommand.
#[derive(Parser)]
#[command(
    name = "ringcast",
    version,
    about = "A thread-per-core io_uring Socket.IO v4 real-time gateway",
    after_help = "Every setting can also come from the environment variable shown and from the \
                  TOML file given by --config (key = the setting's name with underscores, e.g. \
                  ping_interval_ms). Precedence: flag > environment > file > default. Lists \
                  in the environment are comma-separated. See ringcast.example.toml."
)]
pub struct Cli {
    /// Server settings.
    #[command(flatten)]
    pub settings: Settings,
    /// What to do; without one, run the server.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Print a JWT signed with the configured jwt_private_key_file or JWT secret, for testing.
    Token(TokenArgs),
}

/// `ringcast token` arguments.
#[derive(Args)]
pub struct TokenArgs {
    /// The token's subject (`sub` claim).
    #[arg(long)]
    pub sub: String,
    /// Lifetime: `90s`, `15m`, `1h`, `7d`, combinations like `1h30m`, or plain seconds.
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    pub ttl: std::time::Duration,
    /// An extra claim; VALUE is parsed as JSON when it is JSON (`rooms=["agent:1"]`, `n=5`),
    /// otherwise taken as a string. Repeatable. `sub`, `exp` and `iat` have their own flags.
    #[arg(long = "claim", value_name = "KEY=VALUE", value_parser = parse_claim)]
    pub claims: Vec<(String, serde_json::Value)>,
}

/// One layer of raw settings: what the flags, the environment or the file said, each field
/// `None` when that layer is silent. Field names are the canonical setting names.
#[derive(Args, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// TOML configuration file. [env: RINGCAST_CONFIG]
    #[arg(long, global = true, value_name = "FILE")]
    #[serde(skip)]
    config: Option<PathBuf>,

    /// Address to listen on. [default: 0.0.0.0:8000] [env: RINGCAST_LISTEN]
    #[arg(long, global = true, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Engine.IO path, repeatable; normalised to a leading and trailing slash.
    /// [default: /ws/ and /socket.io/] [env: RINGCAST_PATHS (comma list)] [toml: paths]
    #[arg(long = "path", global = true, value_name = "PATH")]
    paths: Option<Vec<String>>,
    /// Worker threads. [default: number of cores] [env: RINGCAST_WORKERS]
    #[arg(long, global = true, value_name = "N")]
    workers: Option<usize>,

    /// Engine.IO ping interval. [default: 25000] [env: RINGCAST_PING_INTERVAL_MS]
    #[arg(long, global = true, value_name = "MS")]
    ping_interval_ms: Option<u64>,
    /// Engine.IO ping timeout. [default: 30000] [env: RINGCAST_PING_TIMEOUT_MS]
    #[arg(long, global = true, value_name = "MS")]
    ping_timeout_ms: Option<u64>,
    /// Largest Engine.IO packet accepted, in bytes. [default: 1000000] [env: RINGCAST_MAX_PAYLOAD]
    #[arg(long, global = true, value_name = "BYTES")]
    max_payload: Option<usize>,
    /// Time to send the Socket.IO CONNECT after the handshake. [default: 45000]
    /// [env: RINGCAST_CONNECT_TIMEOUT_MS]
    #[arg(long, global = true, value_name = "MS")]
    connect_timeout_ms: Option<u64>,

    /// HMAC secret for HS256/384/512 tokens; at least 32 bytes for HS256 (RFC 7518 §3.2).
    /// Prefer --jwt-secret-file: flags show up in `ps`. [env: RINGCAST_JWT_SECRET]
    #[arg(long, global = true, value_name = "SECRET")]
    jwt_secret: Option<String>,
    /// File holding the HMAC secret (one trailing newline is ignored).
    /// [env: RINGCAST_JWT_SECRET_FILE]
    #[arg(long, global = true, value_name = "FILE")]
    jwt_secret_file: Option<PathBuf>,
    /// PEM public key (RSA, EC P-256/P-384, Ed25519) verifying asymmetric tokens.
    /// [env: RINGCAST_JWT_PUBLIC_KEY_FILE]
    #[arg(long, global = true, value_name = "FILE")]
    jwt_public_key_file: Option<PathBuf>,
    /// PEM private key (PKCS#8 or PKCS#1 RSA); only `ringcast token` signs with it.
    /// [env: RINGCAST_JWT_PRIVATE_KEY_FILE]
    #[arg(long, global = true, value_name = "FILE")]
    jwt_private_key_file: Option<PathBuf>,
    /// Accepted token algorithms, comma list (`none` is refused). [default: HS256 with a
    /// secret; the public key's own algorithm (RS256, ES256, ES384, EdDSA) with a public key]
    /// [env: RINGCAST_JWT_ALGORITHMS]
    #[arg(long, global = true, value_name = "ALGS", value_delimiter = ',')]
    jwt_algorithms: Option<Vec<String>>,
    /// Required `iss` claim. [default: not checked] [env: RINGCAST_JWT_ISSUER]
    #[arg(long, global = true, value_name = "ISS")]
    jwt_issuer: Option<String>,
    /// Required `aud` claim. [default: tokens carrying any `aud` are refused, RFC 7519 §4.1.3]
    /// [env: RINGCAST_JWT_AUDIENCE]
    #[arg(long, global = true, value_name = "AUD")]
    jwt_audience: Option<String>,
    /// Clock skew allowed on `exp` and `nbf`, in seconds. [default: 30]
    /// [env: RINGCAST_JWT_LEEWAY_SECS]
    #[arg(long, global = true, value_name = "SECS")]
    jwt_leeway_secs: Option<u64>,
    /// Rooms a client may subscribe to: `open` (any valid room) or `claims` (only those the
    /// token's `rooms` claim grants: exact names like `task:123`, kind wildcards `agent:*`,
    /// `task:*`, `conversation:*`, or `*`). [default: open] [env: RINGCAST_ROOM_POLICY]
    #[arg(long, global = true, value_name = "POLICY")]
    room_policy: Option<RoomPolicy>,
    /// Time a socket whose token has expired stays connected, waiting for a fresh token sent
    /// with the `auth:refresh` event; at most a day. [default: 0 (disconnected at `exp`)]
    /// [env: RINGCAST_TOKEN_EXPIRY_GRACE_MS]
    #[arg(long, global = true, value_name = "MS")]
    token_expiry_grace_ms: Option<u64>,

    /// Publish API key (`Authorization: Bearer <key>`), repeatable for rotation; 16+ characters
    /// of A-Z a-z 0-9 - . _ ~ + / (RFC 6750 b64token). [env: RINGCAST_API_KEYS (comma list)]
    /// [toml: api_keys]
    #[arg(long = "api-key", global = true, value_name = "KEY")]
    api_keys: Option<Vec<String>>,
    /// Allowed cross-origin origin (`https://app.example.com`) or `*`, repeatable.
    /// [default: none] [env: RINGCAST_CORS_ORIGINS (comma list)] [toml: cors_origins]
    #[arg(long = "cors-origin", global = true, value_name = "ORIGIN")]
    cors_origins: Option<Vec<String>>,
    /// Allow credentialed cross-origin requests. [default: false] [env: RINGCAST_CORS_CREDENTIALS]
    #[arg(long, global = true, value_name = "BOOL", action = ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    cors_credentials: Option<bool>,

    /// Open connections in total. [default: 100000] [env: RINGCAST_MAX_CONNECTIONS]
    #[arg(long, global = true, value_name = "N")]
    max_connections: Option<usize>,
    /// Open connections per client IP. [default: 1000] [env: RINGCAST_MAX_CONNECTIONS_PER_IP]
    #[arg(long, global = true, value_name = "N")]
    max_connections_per_ip: Option<usize>,
    /// Time to receive a complete HTTP request head. [default: 10000]
    /// [env: RINGCAST_HANDSHAKE_TIMEOUT_MS]
    #[arg(long, global = true, value_name = "MS")]
    handshake_timeout_ms: Option<u64>,
    /// Largest HTTP request head, in bytes. [default: 16384] [env: RINGCAST_MAX_HTTP_HEAD]
    #[arg(long, global = true, value_name = "BYTES")]
    max_http_head: Option<usize>,
    /// Rooms per socket, `dashboard` included. [default: 100] [env: RINGCAST_MAX_ROOMS_PER_SOCKET]
    #[arg(long, global = true, value_name = "N")]
    max_rooms_per_socket: Option<usize>,
    /// Bytes queued per connection before it is dropped as a slow consumer.
    /// [default: 4194304 (4 MiB)] [env: RINGCAST_MAX_OUTBOUND_BYTES]
    #[arg(long, global = true, value_name = "BYTES")]
    max_outbound_bytes: Option<usize>,
    /// Deepest JSON nesting accepted from clients. [default: 32] [env: RINGCAST_MAX_JSON_DEPTH]
    #[arg(long, global = true, value_name = "N")]
    max_json_depth: Option<usize>,
    /// Client events per second per socket. [default: 100] [env: RINGCAST_EVENT_RATE_PER_SEC]
    #[arg(long, global = true, value_name = "N")]
    event_rate_per_sec: Option<u32>,
    /// Client events a socket may burst. [default: 200] [env: RINGCAST_EVENT_RATE_BURST]
    #[arg(long, global = true, value_name = "N")]
    event_rate_burst: Option<u32>,

    /// Redis for clustering: `redis://[user][:password@]host[:port][/db]`, `rediss://…` (TLS)
    /// or `unix:///path/redis.sock[?db=N&pass=P]`. Prefer the environment or the file when it
    /// holds a password: flags show up in `ps`. [default: none, a single node]
    /// [env: RINGCAST_REDIS_URL]
    #[arg(long, global = true, value_name = "URL")]
    redis_url: Option<String>,
    /// Channel prefix of the socket.io Redis adapter (its `key` option).
    /// [default: socket.io] [env: RINGCAST_REDIS_KEY_PREFIX]
    #[arg(long, global = true, value_name = "PREFIX")]
    redis_key_prefix: Option<String>,
    /// Channel python-socketio's Redis manager publishes on (its `channel` option).
    /// [default: socketio] [env: RINGCAST_REDIS_PYTHON_CHANNEL]
    #[arg(long, global = true, value_name = "CHANNEL")]
    redis_python_channel: Option<String>,
    /// Time a request to the other nodes waits for their answers. [default: 5000]
    /// [env: RINGCAST_REDIS_REQUEST_TIMEOUT_MS]
    #[arg(long, global = true, value_name = "MS")]
    redis_request_timeout_ms: Option<u64>,
    /// PEM CA bundle that verifies a rediss:// server (a private CA), replacing the system
    /// trust store. [default: the system trust store] [env: RINGCAST_REDIS_TLS_CA]
    #[arg(long, global = true, value_name = "FILE")]
    redis_tls_ca: Option<PathBuf>,

    /// Log filter: error, warn, info, debug, trace, off, or directives like
    /// `info,ringcast=debug`. [default: info] [env: RINGCAST_LOG_LEVEL]
    #[arg(long, global = true, value_name = "FILTER")]
    log_level: Option<String>,
    /// Log format. [default: text] [env: RINGCAST_LOG_FORMAT]
    #[arg(long, global = true, value_name = "FORMAT")]
    log_format: Option<LogFormat>,
    /// Serve Prometheus metrics on /metrics. [default: true] [env: RINGCAST_METRICS]
    #[arg(long, global = true, value_name = "BOOL", action = ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new())]
    metrics: Option<bool>,
    /// On shutdown, time connections get to close. [default: 10000] [env: RINGCAST_DRAIN_TIMEOUT_MS]
    #[arg(long, global = true, value_name = "MS")]
    drain_timeout_ms: Option<u64>,
}

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:8000";
/// Default Engine.IO paths: the spec's `/ws` and Socket.IO's own default.
pub const DEFAULT_PATHS: [&str; 2] = ["/ws/", "/socket.io/"];
/// Default `pingInterval` (the spec's server uses `ping_interval=25`).
pub const DEFAULT_PING_INTERVAL_MS: u64 = 25_000;
/// Default `pingTimeout` (the spec's server uses `ping_timeout=30`).
pub const DEFAULT_PING_TIMEOUT_MS: u64 = 30_000;
/// Default `maxPayload` (the spec's server uses `max_http_buffer_size=1_000_000`).
pub const DEFAULT_MAX_PAYLOAD: usize = 1_000_000;
/// Default CONNECT timeout (Socket.IO's `connectTimeout` default).
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 45_000;
/// Default JWT clock-skew leeway.
pub const DEFAULT_JWT_LEEWAY_SECS: u64 = 30;
/// Default connection cap. On these machines the 20 000 open-file hard limit per process
/// binds first; the cap matters where that limit is raised.
pub const DEFAULT_MAX_CONNECTIONS: usize = 100_000;
/// Default per-IP connection cap.
pub const DEFAULT_MAX_CONNECTIONS_PER_IP: usize = 1_000;
/// Default HTTP head timeout.
pub const DEFAULT_HANDSHAKE_TIMEOUT_MS: u64 = 10_000;
/// Default HTTP head bound.
pub const DEFAULT_MAX_HTTP_HEAD: usize = 16_384;
/// Default rooms per socket.
pub const DEFAULT_MAX_ROOMS_PER_SOCKET: usize = 100;
/// Default outbound queue bound: 4 MiB.
pub const DEFAULT_MAX_OUTBOUND_BYTES: usize = 4 * 1024 * 1024;
/// Default JSON depth bound.
pub const DEFAULT_MAX_JSON_DEPTH: usize = 32;
/// Default event rate.
pub const DEFAULT_EVENT_RATE_PER_SEC: u32 = 100;
/// Default event burst.
pub const DEFAULT_EVENT_RATE_BURST: u32 = 200;
/// Default grace after a token expires: none, the token's `exp` is the end of the session.
pub const DEFAULT_TOKEN_EXPIRY_GRACE_MS: u64 = 0;
/// Default adapter prefix: `@socket.io/redis-adapter`'s `key` default.
pub const DEFAULT_REDIS_KEY_PREFIX: &str = "socket.io";
/// Default python-socketio channel: `AsyncRedisManager`'s `channel='socketio'`.
pub const DEFAULT_REDIS_PYTHON_CHANNEL: &str = "socketio";
/// Default inter-node request timeout: the redis adapter's `requestsTimeout` (5 s).
pub const DEFAULT_REDIS_REQUEST_TIMEOUT_MS: u64 = 5_000;
/// Default log filter.
pub const DEFAULT_LOG_LEVEL: &str = "info";
/// Default drain timeout.
pub const DEFAULT_DRAIN_TIMEOUT_MS: u64 = 10_000;

impl Config {
    /// Loads from the process's arguments, `RINGCAST_*` environment and the `--config` file.
    /// Like any clap program it prints help or version and exits on `--help`/`--version`, and
    /// exits with code 2 on a malformed command line.
    pub fn load() -> Result<Config, ConfigError> {
        let cli = Cli::parse();
        Config::from_settings(cli.settings, &process_env()?)
    }

    /// Loads from explicit arguments (the first is the program name, as in `std::env::args`)
    /// and environment. A subcommand is accepted and ignored. `--help` comes back as an error
    /// holding clap's first line.
    pub fn load_from<I: IntoIterator<Item = String>>(
        args: I,
        env: &HashMap<String, String>,
    ) -> Result<Config, ConfigError> {
        let cli = Cli::try_parse_from(args).map_err(|e| {
            let text = e.to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ");
            ConfigError::new("arguments", first)
        })?;
        Config::from_settings(cli.settings, env)
    }

    /// Builds the configuration from parsed flags plus the environment map (which may name
    /// the file through `RINGCAST_CONFIG`). `main` uses this after `Cli::parse()` so the
    /// subcommand stays available.
    pub fn from_settings(
        flags: Settings,
        env: &HashMap<String, String>,
    ) -> Result<Config, ConfigError> {
        let env_layer = Settings::from_env(env)?;
        let file_path = flags.config.clone().or_else(|| env_layer.config.clone());
        let file_layer = match file_path {
            Some(path) => Settings::from_file(&path)?,
            None => Settings::default(),
        };
        resolve(flags.over(env_layer).over(file_layer))
    }
}

impl Config {
    /// The settings authentication works from ([`auth::Verifier::new`], [`auth::ApiKeys::new`],
    /// [`auth::mint`]).
    pub fn auth(&self) -> AuthSettings {
        AuthSettings {
            secret: self.jwt_secret.clone(),
            public_key: self.jwt_public_key.clone(),
            private_key: self.jwt_private_key.clone(),
            algorithms: self.jwt_algorithms.clone(),
            issuer: self.jwt_issuer.clone(),
            audience: self.jwt_audience.clone(),
            leeway_secs: self.jwt_leeway_secs,
            api_keys: self.api_keys.clone(),
        }
    }

    /// In dev mode, draws a random JWT secret and API key into the configuration
    /// ([`auth::dev_mode_material`]) and returns them with a token to print. `None` outside
    /// dev mode or when called a second time. [`Config::dev_mode`] stays true, so the server
    /// can still say it runs in dev mode.
    pub fn dev_mode_material(&mut self) -> Option<DevMaterial> {
        if !self.dev_mode {
            return None;
        }
        let mut settings = self.auth();
        let dev = auth::dev_mode_material(&mut settings)?;
        self.jwt_secret = settings.secret;
        self.jwt_algorithms = settings.algorithms;
        self.api_keys = settings.api_keys;
        Some(dev)
    }
}

impl From<auth::SettingError> for ConfigError {
    fn from(e: auth::SettingError) -> ConfigError {
        ConfigError::new(e.setting(), e.message())
    }
}

impl ConfigError {
    /// An error about `setting` (its canonical name, an env var or a flag).
    pub fn new(setting: impl Into<String>, message: impl Into<String>) -> ConfigError {
        // One line, always: messages may embed text from toml, io or clap errors.
        let message = message.into().replace(['\n', '\r'], " ");
        ConfigError {
            setting: setting.into(),
            message,
        }
    }

    /// The setting at fault.
    pub fn setting(&self) -> &str {
        &self.setting
    }

    /// Why.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting, self.message)
    }
}

impl std::error::Error for ConfigError {}

impl RedisUrl {
    /// Validates a Redis URL (the forms are in [`RedisUrl`]'s description): the scheme, a host
    /// and a numeric port and database for TCP, an absolute socket path for `unix://`. The
    /// error says what is wrong and never quotes the URL, which may hold a password.
    pub fn parse(url: &str) -> Result<RedisUrl, &'static str> {
        check_redis_url(url)?;
        Ok(RedisUrl(url.to_owned()))
    }

    /// The URL as configured, password included: for the Redis client, never for a log.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with the password (user-info or `pass=`/`password=` query value) replaced by
    /// `***`, safe to log.
    pub fn redacted(&self) -> String {
        redact_redis_url(&self.0)
    }

    /// `rediss://`: the connection runs over TLS.
    pub fn is_tls(&self) -> bool {
        self.0
            .split_once("://")
            .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("rediss"))
    }

    /// `rediss://…#insecure`: TLS without verifying the server's certificate (redis-rs's own
    /// switch; it also turns off SNI).
    pub fn is_insecure(&self) -> bool {
        self.is_tls() && self.0.split_once('#').is_some_and(|(_, f)| f == "insecure")
    }
}

impl PemBundle {
    /// Where the bundle was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The PEM text, as read.
    pub fn pem(&self) -> &[u8] {
        &self.pem
    }

    /// How many certificates it holds (at least one).
    pub fn certificates(&self) -> usize {
        self.certificates
    }
}

impl fmt::Debug for PemBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PemBundle")
            .field("path", &self.path)
            .field("certificates", &self.certificates)
            .finish()
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RedisUrl").field(&self.redacted()).finish()
    }
}

impl fmt::Debug for Cli {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cli").finish_non_exhaustive()
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Token(_) => f.write_str("Token"),
        }
    }
}

impl fmt::Debug for TokenArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenArgs")
            .field("sub", &self.sub)
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl fmt::Debug for Settings {
    // Settings hold raw secrets; nothing in them is printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings").finish_non_exhaustive()
    }
}

/// The process environment's `RINGCAST_*` variables. A non-UTF-8 value is an error rather than
/// silently ignored (`std::env::vars` would panic on it).
pub fn process_env() -> Result<HashMap<String, String>, ConfigError> {
    let mut env = HashMap::new();
    for (key, value) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if !key.starts_with(ENV_PREFIX) {
            continue;
        }
        let value = value
            .into_string()
            .map_err(|_| ConfigError::new(key, "value is not valid UTF-8"))?;
        env.insert(key.to_owned(), value);
    }
    Ok(env)
}

/// Parses `90s`, `15m`, `1h`, `7d`, `1h30m` or plain seconds into a duration (at least 1 s).
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return nonzero_secs(secs);
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for c in text.chars() {
        if let Some(digit) = c.to_digit(10) {
            let n = number.unwrap_or(0);
            number = Some(
                n.checked_mul(10)
                    .and_then(|n| n.checked_add(u64::from(digit)))
                    .ok_or("duration is too long")?,
            );
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            _ => {
                return Err(format!(
                    "bad duration {text:?}: expected e.g. 90s, 15m, 1h, 7d"
                ));
            }
        };
        let n = number
            .take()
            .ok_or(format!("bad duration {text:?}: a unit needs a number"))?;
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or("duration is too long")?;
    }
    if number.is_some() {
        return Err(format!(
            "bad duration {text:?}: the last number needs a unit (s, m, h, d)"
        ));
    }
    nonzero_secs(total)
}

// --- helpers ---------------------------------------------------------------------------------

const ENV_PREFIX: &str = "RINGCAST_";

/// A day: the ceiling for every time setting. Far beyond any sane timeout, and it keeps
/// `now_ms + timeout` nowhere near `u64` overflow.
const MAX_MS: u64 = 86_400_000;
/// 1 GiB: the ceiling for byte sizes. Larger is a unit mistake, and any such buffer would
/// exhaust the machine long before it filled.
const MAX_BYTES: usize = 1 << 30;

fn nonzero_secs(secs: u64) -> Result<std::time::Duration, String> {
    if secs == 0 {
        return Err("duration must be at least 1s".to_owned());
    }
    Ok(std::time::Duration::from_secs(secs))
}

/// `--claim k=v`: the value is JSON if it parses as JSON, else a string.
fn parse_claim(text: &str) -> Result<(String, serde_json::Value), String> {
    let (key, value) = text.split_once('=').ok_or("expected KEY=VALUE")?;
    if key.is_empty() {
        return Err("empty claim name".to_owned());
    }
    let value =
        serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.to_owned()));
    Ok((key.to_owned(), value))
}

/// Layering, generated from the field list so that adding a setting without wiring it into
/// every layer fails to compile (the struct literals need every field).
macro_rules! impl_layers {
    ($($field:ident),* $(,)?) => {
        impl Settings {
            /// `self` where set, `lower` elsewhere.
            fn over(self, lower: Settings) -> Settings {
                Settings { config: self.config.or(lower.config), $($field: self.$field.or(lower.$field)),* }
            }

            fn from_env(env: &HashMap<String, String>) -> Result<Settings, ConfigError> {
                Ok(Settings {
                    config: env_value(env, "config")?,
                    $($field: env_value(env, stringify!($field))?),*
                })
            }
        }

        /// Every setting's canonical name (TOML key; env var after `RINGCAST_` + uppercase).
        pub const SETTING_NAMES: &[&str] = &[$(stringify!($field)),*];
    };
}

impl_layers!(
    listen,
    paths,
    workers,
    ping_interval_ms,
    ping_timeout_ms,
    max_payload,
    connect_timeout_ms,
    jwt_secret,
    jwt_secret_file,
    jwt_public_key_file,
    jwt_private_key_file,
    jwt_algorithms,
    jwt_issuer,
    jwt_audience,
    jwt_leeway_secs,
    room_policy,
    token_expiry_grace_ms,
    api_keys,
    cors_origins,
    cors_credentials,
    max_connections,
    max_connections_per_ip,
    handshake_timeout_ms,
    max_http_head,
    max_rooms_per_socket,
    max_outbound_bytes,
    max_json_depth,
    event_rate_per_sec,
    event_rate_burst,
    redis_url,
    redis_key_prefix,
    redis_python_channel,
    redis_request_timeout_ms,
    redis_tls_ca,
    log_level,
    log_format,
    metrics,
    drain_timeout_ms,
);

impl Settings {
    fn from_file(path: &Path) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new("config", format!("{}: {e}", path.display())))?;
        toml::from_str(&text).map_err(|e| {
            let line = e.span().map(|span| line_of(&text, span.start));
            let at = line.map(|l| format!(" line {l}:")).unwrap_or_default();
            ConfigError::new("config", format!("{}:{at} {}", path.display(), e.message()))
        })
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()
        .iter()
        .take(offset)
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// A value type an environment variable can hold.
trait EnvValue: Sized {
    fn parse_env(raw: &str) -> Result<Self, String>;
}

fn env_value<T: EnvValue>(
    env: &HashMap<String, String>,
    name: &str,
) -> Result<Option<T>, ConfigError> {
    let key = format!("{ENV_PREFIX}{}", name.to_ascii_uppercase());
    match env.get(&key).map(|raw| raw.trim()) {
        None | Some("") => Ok(None),
        Some(raw) => T::parse_env(raw)
            .map(Some)
            .map_err(|why| ConfigError::new(key, why)),
    }
}

impl EnvValue for String {
    fn parse_env(raw: &str) -> Result<Self, String> {
        Ok(raw.to_owned())
    }
}

impl EnvValue for PathBuf {
    fn parse_env(raw: &str) -> Result<Self, String> {
        Ok(PathBuf::from(raw))
    }
}

impl EnvValue for Vec<String> {
    fn parse_env(raw: &str) -> Result<Self, String> {
        Ok(raw
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect())
    }
}

impl EnvValue for SocketAddr {
    fn parse_env(raw: &str) -> Result<Self, String> {
        raw.parse()
            .map_err(|_| format!("{raw:?} is not an address like 0.0.0.0:8000"))
    }
}

macro_rules! env_integer {
    ($($t:ty),*) => {$(
        impl EnvValue for $t {
            fn parse_env(raw: &str) -> Result<Self, String> {
                raw.parse().map_err(|_| format!("{raw:?} is not a non-negative integer"))
            }
        }
    )*};
}
env_integer!(u32, u64, usize);

impl EnvValue for bool {
    fn parse_env(raw: &str) -> Result<Self, String> {
        match raw.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(format!("{raw:?} is not a boolean (true/false)")),
        }
    }
}

impl EnvValue for LogFormat {
    fn parse_env(raw: &str) -> Result<Self, String> {
        LogFormat::from_str(raw, true).map_err(|_| format!("{raw:?} is not text or json"))
    }
}

impl EnvValue for RoomPolicy {
    fn parse_env(raw: &str) -> Result<Self, String> {
        RoomPolicy::from_str(raw, true).map_err(|_| format!("{raw:?} is not open or claims"))
    }
}

/// Checks `value` against `min..=max`, naming the setting.
fn ranged<T: PartialOrd + fmt::Display + Copy>(
    setting: &str,
    value: T,
    min: T,
    max: T,
    why: &str,
) -> Result<T, ConfigError> {
    if value < min || value > max {
        return Err(ConfigError::new(
            setting,
            format!("must be between {min} and {max} ({why}), got {value}"),
        ));
    }
    Ok(value)
}

fn ms(setting: &str, value: Option<u64>, default: u64, min: u64) -> Result<u64, ConfigError> {
    ranged(
        setting,
        value.unwrap_or(default),
        min,
        MAX_MS,
        "milliseconds, at most a day",
    )
}

/// Turns the merged layers into a validated [`Config`].
fn resolve(s: Settings) -> Result<Config, ConfigError> {
    let listen = match s.listen {
        Some(addr) => addr,
        None => DEFAULT_LISTEN
            .parse()
            .map_err(|_| ConfigError::new("listen", "bad built-in default"))?,
    };
    let paths = resolve_paths(s.paths)?;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let workers = ranged("workers", s.workers.unwrap_or(cores), 1, 1024, "threads")?;

    let ping_interval_ms = ms(
        "ping_interval_ms",
        s.ping_interval_ms,
        DEFAULT_PING_INTERVAL_MS,
        1,
    )?;
    let ping_timeout_ms = ms(
        "ping_timeout_ms",
        s.ping_timeout_ms,
        DEFAULT_PING_TIMEOUT_MS,
        1,
    )?;
    let connect_timeout_ms = ms(
        "connect_timeout_ms",
        s.connect_timeout_ms,
        DEFAULT_CONNECT_TIMEOUT_MS,
        1,
    )?;
    let handshake_timeout_ms = ms(
        "handshake_timeout_ms",
        s.handshake_timeout_ms,
        DEFAULT_HANDSHAKE_TIMEOUT_MS,
        1,
    )?;
    // 0 is meaningful here: close everything at once.
    let drain_timeout_ms = ms(
        "drain_timeout_ms",
        s.drain_timeout_ms,
        DEFAULT_DRAIN_TIMEOUT_MS,
        0,
    )?;
    // 0 is meaningful too: the token's `exp` (plus nothing) ends the session.
    let token_expiry_grace_ms = ms(
        "token_expiry_grace_ms",
        s.token_expiry_grace_ms,
        DEFAULT_TOKEN_EXPIRY_GRACE_MS,
        0,
    )?;
    let redis_request_timeout_ms = ms(
        "redis_request_timeout_ms",
        s.redis_request_timeout_ms,
        DEFAULT_REDIS_REQUEST_TIMEOUT_MS,
        1,
    )?;

    let max_payload = ranged(
        "max_payload",
        s.max_payload.unwrap_or(DEFAULT_MAX_PAYLOAD),
        1,
        MAX_BYTES,
        "bytes",
    )?;
    // A browser's upgrade request with cookies is 1-2 KiB: 1 KiB is the least that works.
    let max_http_head = ranged(
        "max_http_head",
        s.max_http_head.unwrap_or(DEFAULT_MAX_HTTP_HEAD),
        1024,
        1 << 20,
        "bytes; a browser's WebSocket upgrade request needs about 1-2 KiB",
    )?;
    let max_outbound_bytes = ranged(
        "max_outbound_bytes",
        s.max_outbound_bytes.unwrap_or(DEFAULT_MAX_OUTBOUND_BYTES),
        1024,
        MAX_BYTES,
        "bytes",
    )?;
    let max_connections = ranged(
        "max_connections",
        s.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS),
        1,
        100_000_000,
        "connections",
    )?;
    let max_connections_per_ip = ranged(
        "max_connections_per_ip",
        s.max_connections_per_ip
            .unwrap_or(DEFAULT_MAX_CONNECTIONS_PER_IP),
        1,
        100_000_000,
        "connections",
    )?;
    // Every socket joins `dashboard` on connect, so 1 is the least that works.
    let max_rooms_per_socket = ranged(
        "max_rooms_per_socket",
        s.max_rooms_per_socket
            .unwrap_or(DEFAULT_MAX_ROOMS_PER_SOCKET),
        1,
        1_000_000,
        "rooms; every socket is in dashboard",
    )?;
    // serde_json stops at 128 levels itself; recursive parsers need a bound on stack use.
    let max_json_depth = ranged(
        "max_json_depth",
        s.max_json_depth.unwrap_or(DEFAULT_MAX_JSON_DEPTH),
        1,
        128,
        "levels; serde_json's own limit is 128",
    )?;
    let event_rate_per_sec = ranged(
        "event_rate_per_sec",
        s.event_rate_per_sec.unwrap_or(DEFAULT_EVENT_RATE_PER_SEC),
        1,
        1_000_000,
        "events per second",
    )?;
    let event_rate_burst = ranged(
        "event_rate_burst",
        s.event_rate_burst.unwrap_or(DEFAULT_EVENT_RATE_BURST),
        1,
        1_000_000,
        "events",
    )?;
    // An hour of leeway is expiry switched off in practice.
    let jwt_leeway_secs = ranged(
        "jwt_leeway_secs",
        s.jwt_leeway_secs.unwrap_or(DEFAULT_JWT_LEEWAY_SECS),
        0,
        3_600,
        "seconds",
    )?;

    let jwt_secret = resolve_secret(s.jwt_secret, s.jwt_secret_file)?;
    let jwt_public_key = s
        .jwt_public_key_file
        .map(|path| read_key("jwt_public_key_file", path, PemFile::read_public))
        .transpose()?;
    let jwt_private_key = s
        .jwt_private_key_file
        .map(|path| read_key("jwt_private_key_file", path, PemFile::read_private))
        .transpose()?;
    let jwt_algorithms = resolve_algorithms(
        s.jwt_algorithms,
        jwt_secret.as_ref(),
        jwt_public_key.as_ref(),
    )?;
    let jwt_issuer = non_empty("jwt_issuer", s.jwt_issuer)?;
    let jwt_audience = non_empty("jwt_audience", s.jwt_audience)?;

    let api_keys = resolve_api_keys(s.api_keys.unwrap_or_default())?;
    let cors_origins = resolve_origins(s.cors_origins.unwrap_or_default())?;
    let cors_credentials = s.cors_credentials.unwrap_or(false);
    if cors_credentials && cors_origins.iter().any(|o| o == "*") {
        return Err(ConfigError::new(
            "cors_credentials",
            "cannot be true with cors_origins = \"*\": any web site could make requests \
             carrying your users' credentials; list the origins instead",
        ));
    }

    let redis_url = s.redis_url.map(resolve_redis_url).transpose()?;
    let redis_key_prefix = resolve_channel(
        "redis_key_prefix",
        s.redis_key_prefix,
        DEFAULT_REDIS_KEY_PREFIX,
        true,
    )?;
    let redis_python_channel = resolve_channel(
        "redis_python_channel",
        s.redis_python_channel,
        DEFAULT_REDIS_PYTHON_CHANNEL,
        false,
    )?;
    check_channels_apart(&redis_key_prefix, &redis_python_channel)?;
    let redis_tls_ca = s
        .redis_tls_ca
        .map(|path| read_pem_bundle("redis_tls_ca", path))
        .transpose()?;
    if redis_tls_ca.is_some() {
        check_tls_applies("redis_tls_ca", redis_url.as_ref())?;
    }

    let log_level = resolve_log_level(s.log_level)?;
    let dev_mode = jwt_secret.is_none() && jwt_public_key.is_none();

    let config = Config {
        listen,
        paths,
        workers,
        ping_interval_ms,
        ping_timeout_ms,
        max_payload,
        connect_timeout_ms,
        jwt_secret,
        jwt_public_key,
        jwt_private_key,
        jwt_algorithms,
        jwt_issuer,
        jwt_audience,
        jwt_leeway_secs,
        room_policy: s.room_policy.unwrap_or(RoomPolicy::Open),
        token_expiry_grace_ms,
        api_keys,
        cors_origins,
        cors_credentials,
        max_connections,
        max_connections_per_ip,
        handshake_timeout_ms,
        max_http_head,
        max_rooms_per_socket,
        max_outbound_bytes,
        max_json_depth,
        event_rate_per_sec,
        event_rate_burst,
        redis_url,
        redis_key_prefix,
        redis_python_channel,
        redis_request_timeout_ms,
        redis_tls_ca,
        log_level,
        log_format: s.log_format.unwrap_or(LogFormat::Text),
        metrics: s.metrics.unwrap_or(true),
        drain_timeout_ms,
        dev_mode,
    };
    check_private_key(&config)?;
    if !config.dev_mode {
        // Builds the verifier once so a key that parses as PEM but not as a key fails here, at
        // load, with exit code 2, rather than at the first connection.
        auth::Verifier::new(&config.auth())?;
    }
    Ok(config)
}

fn resolve_paths(paths: Option<Vec<String>>) -> Result<Vec<String>, ConfigError> {
    let raw = paths.unwrap_or_else(|| DEFAULT_PATHS.iter().map(|p| (*p).to_owned()).collect());
    if raw.is_empty() {
        return Err(ConfigError::new("paths", "at least one path is needed"));
    }
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for path in &raw {
        let normal = normalize_path(path)
            .map_err(|why| ConfigError::new("paths", format!("{path:?}: {why}")))?;
        if !out.contains(&normal) {
            out.push(normal);
        }
    }
    Ok(out)
}

/// `ws` → `/ws/`. The runtime matches request paths by prefix, so a path must end in a slash
/// (`/ws/` must not capture `/wsx`) and must not shadow the HTTP API's own routes.
fn normalize_path(raw: &str) -> Result<String, &'static str> {
    let p = raw.trim();
    if p.is_empty() {
        return Err("empty path");
    }
    if !p
        .bytes()
        .all(|b| b.is_ascii_graphic() && !matches!(b, b'?' | b'#' | b'%'))
    {
        return Err("may only contain visible ASCII without '?', '#' or '%'");
    }
    let mut path = String::with_capacity(p.len() + 2);
    if !p.starts_with('/') {
        path.push('/');
    }
    path.push_str(p);
    if !path.ends_with('/') {
        path.push('/');
    }
    if path == "/" {
        return Err("\"/\" would capture every request, the HTTP API's included");
    }
    let segments = &path[1..path.len() - 1];
    if segments
        .split('/')
        .any(|seg| seg.is_empty() || seg == "." || seg == "..")
    {
        return Err("has an empty, '.' or '..' segment");
    }
    for reserved in ["/api/", "/metrics/", "/healthz/", "/readyz/"] {
        if path.starts_with(reserved) {
            return Err("is reserved for the HTTP API (/api/, /metrics, /healthz, /readyz)");
        }
    }
    Ok(path)
}

fn resolve_secret(
    secret: Option<String>,
    file: Option<PathBuf>,
) -> Result<Option<Secret>, ConfigError> {
    let secret = match (secret, file) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::new(
                "jwt_secret",
                "set jwt_secret or jwt_secret_file, not both",
            ));
        }
        (Some(secret), None) => secret,
        (None, Some(path)) => {
            let mut text = std::fs::read_to_string(&path).map_err(|e| {
                ConfigError::new("jwt_secret_file", format!("{}: {e}", path.display()))
            })?;
            // `echo secret > file` adds one newline; it is not part of the secret.
            if text.ends_with('\n') {
                text.pop();
                if text.ends_with('\r') {
                    text.pop();
                }
            }
            text
        }
        (None, None) => return Ok(None),
    };
    if secret.is_empty() {
        return Err(ConfigError::new("jwt_secret", "is empty"));
    }
    Ok(Some(Secret::new(secret)))
}

fn read_key(
    setting: &str,
    path: PathBuf,
    read: fn(PathBuf) -> Result<PemFile, String>,
) -> Result<PemFile, ConfigError> {
    read(path).map_err(|why| ConfigError::new(setting, why))
}

/// Resolves the accepted algorithm list.
///
/// Default: HS256 with a secret, the public key's own algorithm with a public key, both with
/// both. An explicit list is strict: each entry needs its key, and each configured key needs
/// an entry, so a typo cannot leave a key silently unused. `none` is refused by name: RFC 7518
/// §3.6 defines it as an unsecured JWS, which anyone can forge.
fn resolve_algorithms(
    list: Option<Vec<String>>,
    secret: Option<&Secret>,
    public: Option<&PemFile>,
) -> Result<Vec<Algorithm>, ConfigError> {
    const SETTING: &str = "jwt_algorithms";
    let Some(list) = list else {
        let mut algs = Vec::new();
        if let Some(secret) = secret {
            check_secret_length(secret, Algorithm::HS256)?;
            algs.push(Algorithm::HS256);
        }
        if let Some(key) = public {
            algs.push(key.kind().default_algorithm());
        }
        return Ok(algs);
    };
    if list.is_empty() {
        return Err(ConfigError::new(
            SETTING,
            "is empty; leave it unset for the default",
        ));
    }
    let mut algs: Vec<Algorithm> = Vec::with_capacity(list.len());
    for name in &list {
        let name = name.trim();
        if name.eq_ignore_ascii_case("none") {
            return Err(ConfigError::new(
                SETTING,
                "\"none\" is never accepted: it means an unsigned token anyone can forge",
            ));
        }
        let alg: Algorithm = name.parse().map_err(|_| {
            ConfigError::new(
                SETTING,
                format!(
                    "unknown algorithm {name:?} (supported: HS256 HS384 HS512 RS256 RS384 \
                     RS512 PS256 PS384 PS512 ES256 ES384 EdDSA)"
                ),
            )
        })?;
        match (alg.family(), secret, public) {
            (AlgorithmFamily::Hmac, Some(secret), _) => check_secret_length(secret, alg)?,
            (AlgorithmFamily::Hmac, None, _) => {
                return Err(ConfigError::new(
                    SETTING,
                    format!(
                        "{alg:?} needs jwt_secret or jwt_secret_file (verifying an HMAC \
                         token with a public key is the algorithm-confusion attack)"
                    ),
                ));
            }
            (_, _, None) => {
                return Err(ConfigError::new(
                    SETTING,
                    format!("{alg:?} needs jwt_public_key_file"),
                ));
            }
            (_, _, Some(key)) if !key.kind().accepts(alg) => {
                return Err(ConfigError::new(
                    SETTING,
                    format!(
                        "{alg:?} cannot be verified with {} ({})",
                        key.kind().describe(),
                        key.path().display()
                    ),
                ));
            }
            _ => {}
        }
        if !algs.contains(&alg) {
            algs.push(alg);
        }
    }
    if secret.is_some() && !algs.iter().any(|a| a.family() == AlgorithmFamily::Hmac) {
        return Err(ConfigError::new(
            SETTING,
            "a JWT secret is configured but no HS algorithm is listed",
        ));
    }
    if let Some(key) = public
        && !algs.iter().any(|a| key.kind().accepts(*a))
    {
        return Err(ConfigError::new(
            SETTING,
            format!(
                "jwt_public_key_file is configured but no algorithm for {} is listed",
                key.kind().describe()
            ),
        ));
    }
    Ok(algs)
}

/// RFC 7518 §3.2: "A key of the same size as the hash output (for instance, 256 bits for
/// "HS256") or larger MUST be used with this algorithm."
fn check_secret_length(secret: &Secret, alg: Algorithm) -> Result<(), ConfigError> {
    let min = match alg {
        Algorithm::HS384 => 48,
        Algorithm::HS512 => 64,
        _ => 32,
    };
    if secret.expose().len() < min {
        return Err(ConfigError::new(
            "jwt_secret",
            format!(
                "is {} bytes; {alg:?} needs at least {min} (RFC 7518 §3.2: a key the size of \
                 the hash output or larger MUST be used)",
                secret.expose().len()
            ),
        ));
    }
    Ok(())
}

fn non_empty(setting: &str, value: Option<String>) -> Result<Option<String>, ConfigError> {
    match value {
        Some(v) if v.trim().is_empty() => Err(ConfigError::new(setting, "is empty")),
        other => Ok(other),
    }
}

/// RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
/// 16 characters is the floor: shorter keys can be guessed online.
fn resolve_api_keys(keys: Vec<String>) -> Result<Vec<Secret>, ConfigError> {
    let mut out: Vec<Secret> = Vec::with_capacity(keys.len());
    for (i, key) in keys.into_iter().enumerate() {
        let body = key.trim_end_matches('=');
        let valid = !body.is_empty()
            && body.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
            });
        // Never echo the key: the message names its position.
        if !valid {
            return Err(ConfigError::new(
                "api_keys",
                format!(
                    "key #{} may only contain A-Z a-z 0-9 - . _ ~ + / and trailing '=' \
                     (RFC 6750 b64token)",
                    i + 1
                ),
            ));
        }
        if key.len() < 16 {
            return Err(ConfigError::new(
                "api_keys",
                format!(
                    "key #{} is {} characters; at least 16 are needed",
                    i + 1,
                    key.len()
                ),
            ));
        }
        if !out.iter().any(|k| k.expose() == key) {
            out.push(Secret::new(key));
        }
    }
    Ok(out)
}

/// An origin is `scheme "://" host [ ":" port ]` (RFC 6454 §6.2), which browsers serialise in
/// lowercase with no path and no trailing slash; the runtime compares the `Origin` header to
/// these strings exactly.
fn resolve_origins(origins: Vec<String>) -> Result<Vec<String>, ConfigError> {
    let mut out: Vec<String> = Vec::with_capacity(origins.len());
    for origin in origins {
        let origin = origin.trim().to_ascii_lowercase();
        if origin != "*" {
            check_origin(&origin)
                .map_err(|why| ConfigError::new("cors_origins", format!("{origin:?}: {why}")))?;
        }
        if !out.contains(&origin) {
            out.push(origin);
        }
    }
    if out.len() > 1 && out.iter().any(|o| o == "*") {
        return Err(ConfigError::new(
            "cors_origins",
            "\"*\" already allows every origin; list origins or use \"*\" alone",
        ));
    }
    Ok(out)
}

fn check_origin(origin: &str) -> Result<(), &'static str> {
    let (scheme, rest) = origin
        .split_once("://")
        .ok_or("expected scheme://host[:port]")?;
    if scheme != "http" && scheme != "https" {
        return Err("scheme must be http or https");
    }
    if rest.is_empty() {
        return Err("missing host");
    }
    if rest.contains(['/', '?', '#']) {
        return Err("an origin has no path, query or trailing slash");
    }
    if !rest
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    {
        return Err("host may only contain letters, digits, '.', '-' and a :port");
    }
    Ok(())
}

fn resolve_log_level(level: Option<String>) -> Result<String, ConfigError> {
    let level = level.unwrap_or_else(|| DEFAULT_LOG_LEVEL.to_owned());
    let trimmed = level.trim();
    const LEVELS: [&str; 6] = ["error", "warn", "info", "debug", "trace", "off"];
    if LEVELS.iter().any(|l| l.eq_ignore_ascii_case(trimmed)) {
        return Ok(trimmed.to_ascii_lowercase());
    }
    // EnvFilter reads a bare word as a target name (`verbose` = "target verbose at trace"),
    // so only strings with a directive's `=` or `,` go to it; other words are typos.
    if trimmed.contains(['=', ',']) {
        return tracing_subscriber::EnvFilter::try_new(trimmed)
            .map(|_| trimmed.to_owned())
            .map_err(|e| ConfigError::new("log_level", format!("{trimmed:?}: {e}")));
    }
    Err(ConfigError::new(
        "log_level",
        format!(
            "{trimmed:?} is not one of error, warn, info, debug, trace, off, or a directive list"
        ),
    ))
}

fn resolve_redis_url(url: String) -> Result<RedisUrl, ConfigError> {
    // `url` is never part of the message: it may hold a password.
    RedisUrl::parse(&url).map_err(|why| ConfigError::new("redis_url", why))
}

/// The URL-ish checks behind [`RedisUrl::parse`]. Components split as RFC 3986 §3 does:
/// `scheme "://" authority path [ "?" query ] [ "#" fragment ]`, the authority ending at the
/// first `/`, `?` or `#`. redis-rs reads a TCP URL's database from the path
/// (`redis://host:6379/2`) and a unix URL's from the query (`unix:///run/redis.sock?db=2`,
/// with `user=` and `pass=`); its `#insecure` fragment turns off TLS verification.
fn check_redis_url(url: &str) -> Result<(), &'static str> {
    if url.is_empty() {
        return Err("is empty; leave it unset for a single node without Redis");
    }
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(
            "may only contain visible ASCII; percent-encode anything else (a space is %20)",
        );
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("expected redis://host:6379, rediss://host:6379 or unix:///path/redis.sock")?;
    let (before_fragment, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (hier, query) = before_fragment
        .split_once('?')
        .unwrap_or((before_fragment, ""));
    let (authority, path) = hier.split_at(hier.find('/').unwrap_or(hier.len()));
    // A password with a raw '/', '?' or '#' ends the authority early: the rest of it would
    // land in the path or query, where it would be neither used as a password nor redacted.
    if [path, query, fragment]
        .iter()
        .any(|part| part.contains('@'))
    {
        return Err(
            "has an '@' after the host: percent-encode '@', '/', '?' and '#' in a \
                    password (%40, %2F, %3F, %23)",
        );
    }
    // redis-rs refuses any other fragment on a TLS URL when the bridge starts ("only
    // #insecure is supported"); caught here it is a configuration error like the rest.
    if scheme.eq_ignore_ascii_case("rediss") && !fragment.is_empty() && fragment != "insecure" {
        return Err(
            "the only fragment a rediss:// URL takes is #insecure (no certificate \
                    verification)",
        );
    }
    if scheme.eq_ignore_ascii_case("redis") || scheme.eq_ignore_ascii_case("rediss") {
        check_redis_tcp(authority, path)
    } else if scheme.eq_ignore_ascii_case("unix") {
        check_redis_unix(authority, path, query)
    } else {
        Err("the scheme must be redis://, rediss:// (TLS) or unix://")
    }
}

fn check_redis_tcp(authority: &str, path: &str) -> Result<(), &'static str> {
    let host_port = authority
        .rfind('@')
        .map_or(authority, |at| &authority[at + 1..]);
    let port = match host_port.strip_prefix('[') {
        Some(bracketed) => {
            let (v6, after) = bracketed
                .split_once(']')
                .ok_or("an IPv6 host needs its closing ']'")?;
            v6.parse::<std::net::Ipv6Addr>()
                .map_err(|_| "the bracketed host is not an IPv6 address")?;
            match after {
                "" => None,
                _ => Some(
                    after
                        .strip_prefix(':')
                        .ok_or("expected ':port' after the IPv6 host")?,
                ),
            }
        }
        None => {
            let (host, port) = match host_port.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (host_port, None),
            };
            if host.is_empty() {
                return Err("missing host, as in redis://127.0.0.1:6379");
            }
            if !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
            {
                return Err("the host may only contain letters, digits, '.', '-' and '_'");
            }
            port
        }
    };
    if let Some(port) = port
        && !(is_digits(port) && port.parse::<u16>().is_ok_and(|p| p != 0))
    {
        return Err("the port must be a number from 1 to 65535");
    }
    match path.strip_prefix('/') {
        None | Some("") => Ok(()),
        Some(db) if is_digits(db) && db.parse::<u32>().is_ok() => Ok(()),
        Some(_) => Err("the path after the host must be a database number, as in \
                        redis://127.0.0.1:6379/0"),
    }
}

fn check_redis_unix(authority: &str, path: &str, query: &str) -> Result<(), &'static str> {
    // redis-rs reads a unix URL's credentials from the query only; a user-info password
    // would be silently ignored and the first AUTH would fail.
    if authority.contains('@') {
        return Err("a unix:// URL takes its password in the query: \
                    unix:///run/redis.sock?pass=...");
    }
    if !authority.is_empty() {
        return Err("expected unix:// and an absolute path, as in unix:///run/redis.sock");
    }
    if path.len() <= 1 {
        return Err("missing the socket path, as in unix:///run/redis.sock");
    }
    for pair in query.split('&') {
        if let Some(("db", db)) = pair.split_once('=')
            && !(is_digits(db) && db.parse::<u32>().is_ok())
        {
            return Err("db must be a database number, as in unix:///run/redis.sock?db=0");
        }
    }
    Ok(())
}

/// Reads a CA bundle the way the redis crate will use it (rustls-pki-types' PEM reader, then
/// `RootCertStore::add`), so a file the bridge could not use fails at load with exit code 2
/// instead of as a TLS error on every reconnection.
fn read_pem_bundle(setting: &str, path: PathBuf) -> Result<PemBundle, ConfigError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    let fail = |why: String| ConfigError::new(setting, format!("{}: {why}", path.display()));
    let pem = std::fs::read(&path).map_err(|e| fail(e.to_string()))?;
    let mut store = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| fail(format!("not a PEM certificate bundle: {e}")))?;
        store.add(cert).map_err(|e| {
            fail(format!(
                "certificate #{} is not usable as a CA: {e}",
                store.len() + 1
            ))
        })?;
    }
    if store.is_empty() {
        return Err(fail(
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".to_owned(),
        ));
    }
    let certificates = store.len();
    Ok(PemBundle {
        path,
        pem,
        certificates,
    })
}

/// TLS settings only mean something for a `rediss://` URL that verifies the server; anywhere
/// else they would be silently ignored, and the operator would believe the link protected.
fn check_tls_applies(setting: &str, url: Option<&RedisUrl>) -> Result<(), ConfigError> {
    match url {
        None => Err(ConfigError::new(
            setting,
            "is set but redis_url is not: set redis_url to a rediss:// URL",
        )),
        Some(url) if !url.is_tls() => Err(ConfigError::new(
            setting,
            "is set but redis_url is not a rediss:// URL: the connection would not use TLS",
        )),
        Some(url) if url.is_insecure() => Err(ConfigError::new(
            setting,
            "has no effect: redis_url ends in #insecure, which turns certificate verification \
             off; remove one or the other",
        )),
        Some(_) => Ok(()),
    }
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// `redis://user:pw@host/0?pass=pw` → `redis://user:***@host/0?pass=***`. Total over any text:
/// a [`RedisUrl`] is validated, but the redaction must not rely on that.
fn redact_redis_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "***".to_owned();
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    let mut out = format!("{scheme}://");
    match authority.rfind('@') {
        Some(at) => {
            match authority[..at].split_once(':') {
                Some((user, _)) => {
                    out.push_str(user);
                    out.push_str(":***");
                }
                // redis-cli reads a lone user-info (`redis://pw@host`) as the password.
                None => out.push_str("***"),
            }
            out.push_str(&authority[at..]);
        }
        None => out.push_str(authority),
    }
    let (before_fragment, fragment) = tail.split_at(tail.find('#').unwrap_or(tail.len()));
    match before_fragment.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _))
                        if key.eq_ignore_ascii_case("pass")
                            || key.eq_ignore_ascii_case("password") =>
                    {
                        format!("{key}=***")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            out.push_str(&pairs.join("&"));
        }
        None => out.push_str(before_fragment),
    }
    out.push_str(fragment);
    out
}

/// A Redis channel name or prefix. Redis itself takes any bytes; these are also logged and
/// typed into `redis-cli`, so they stay visible ASCII, and 256 bytes is far beyond any real
/// prefix (the defaults are 8 and 9). `in_pattern`: the name is the start of a PSUBSCRIBE
/// pattern (the adapter subscribes to `<prefix>#/#*`), where Redis reads `* ? [ ] \` as glob
/// syntax, so a prefix holding them would match other applications' channels.
fn resolve_channel(
    setting: &str,
    value: Option<String>,
    default: &str,
    in_pattern: bool,
) -> Result<String, ConfigError> {
    const MAX_CHANNEL_LEN: usize = 256;
    let name = value.unwrap_or_else(|| default.to_owned());
    if name.is_empty() {
        return Err(ConfigError::new(setting, "is empty"));
    }
    if name.len() > MAX_CHANNEL_LEN {
        return Err(ConfigError::new(
            setting,
            format!("is {} bytes; at most {MAX_CHANNEL_LEN}", name.len()),
        ));
    }
    if !name.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ConfigError::new(
            setting,
            format!("{name:?} may only contain visible ASCII, without spaces"),
        ));
    }
    if in_pattern && name.contains(['*', '?', '[', ']', '\\']) {
        return Err(ConfigError::new(
            setting,
            format!(
                "{name:?} may not contain * ? [ ] or \\: the adapter subscribes to the pattern \
                 <prefix>#/#* and Redis would read them as wildcards"
            ),
        ));
    }
    Ok(name)
}

/// The adapter uses `<prefix>#…` (broadcasts), `<prefix>-request#…` and `<prefix>-response#…`;
/// a python channel among them would reach the bridge twice, once read in the wrong format.
fn check_channels_apart(prefix: &str, python: &str) -> Result<(), ConfigError> {
    let clashes = ["#", "-request#", "-response#"].iter().any(|suffix| {
        python
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with(suffix))
    });
    if clashes {
        return Err(ConfigError::new(
            "redis_python_channel",
            format!(
                "{python:?} is also a channel of the socket.io adapter with redis_key_prefix \
                 {prefix:?}: each message would reach the bridge twice"
            ),
        ));
    }
    Ok(())
}

/// The private key only signs test tokens; make sure the server would accept what it signs.
fn check_private_key(config: &Config) -> Result<(), ConfigError> {
    const SETTING: &str = "jwt_private_key_file";
    let Some(private) = &config.jwt_private_key else {
        return Ok(());
    };
    let Some(public) = &config.jwt_public_key else {
        return Err(ConfigError::new(
            SETTING,
            "is set without jwt_public_key_file: the server verifies with the public key, so \
             tokens it signs would be refused",
        ));
    };
    if private.kind() != public.kind() {
        return Err(ConfigError::new(
            SETTING,
            format!(
                "holds {} but jwt_public_key_file holds {}",
                private.kind().describe(),
                public.kind().describe()
            ),
        ));
    }
    if !auth::key_pair_matches(private, public, &config.jwt_algorithms) {
        return Err(ConfigError::new(
            SETTING,
            "does not match jwt_public_key_file: a token it signs fails verification",
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
