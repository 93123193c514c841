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
//!
//! Layout: [`settings`] is the table that declares every setting once (name = TOML key, flag,
//! environment variable, default, `--help` text), expanded by [`macros`]; [`cli`], [`env`] and
//! [`file`] are the three layers; [`resolve`] merges them and checks every value into a
//! [`Config`]; [`redis`] and [`redis_tls`] hold the Redis URL, channel and CA checks.
//!
//! Adding a setting: a row in [`settings`], a field in [`Config`], and its check and
//! assignment in [`resolve`]; the flag, the environment variable, the TOML key, the default,
//! `--help` and [`SETTING_NAMES`] follow from the row (and the tests then ask for a precedence
//! case and a line in `ringcast.example.toml`).

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use jsonwebtoken::Algorithm;
use serde::Deserialize;

use crate::auth::{self, AuthSettings, DevMaterial};
pub use crate::auth::{PemFile, Secret};

mod admin;
mod cli;
mod env;
mod file;
mod known_secrets;
mod macros;
mod redis;
mod redis_tls;
mod resolve;
mod settings;
mod toml_form;
mod webhook;

pub use admin::{AdminAuth, AdminConfig, AdminMode, AdminPasswordHash};
#[cfg(test)]
use cli::parse_claim;
pub use cli::{Cli, Command, TokenArgs, Ttl, parse_duration, parse_ttl};
pub use env::process_env;
#[cfg(test)]
use redis::redact_redis_url;
pub use redis::{PemBundle, RedisUrl};
pub use settings::{SETTING_NAMES, Settings};
pub use webhook::{WebhookEvents, WebhookSettings, WebhookUrl};

/// The addresses of the `listen` setting: never empty, no repeats.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenAddrs(Vec<SocketAddr>);

impl ListenAddrs {
    /// One address.
    pub fn one(addr: SocketAddr) -> Self {
        ListenAddrs(vec![addr])
    }

    /// `None` when `addrs` is empty.
    pub fn new(addrs: Vec<SocketAddr>) -> Option<Self> {
        (!addrs.is_empty()).then_some(ListenAddrs(addrs))
    }

    /// Every address.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.0
    }

    /// The port (the first address's: a host name's addresses share it).
    pub fn port(&self) -> u16 {
        self.0.first().map_or(0, SocketAddr::port)
    }
}

impl std::fmt::Display for ListenAddrs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, a) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

/// The server's whole configuration, validated. Plain typed fields: the runtime reads them
/// directly. Build it with [`Config::from_settings`] (the process, after [`Cli::parse`]) or
/// [`Config::load_from`] (tests).
#[derive(Clone, Debug)]
pub struct Config {
    /// Addresses the workers listen on (each its own `SO_REUSEPORT` socket per address): one,
    /// or every address a host name resolved to at start.
    pub listen: ListenAddrs,
    /// Engine.IO mount paths, each with a leading and a trailing slash (`/ws/`, `/socket.io/`).
    pub paths: Vec<String>,
    /// Engine.IO paths served with the msgpack parser (`/ws-msgpack/`), normalised like `paths`.
    pub msgpack_paths: Vec<String>,
    /// Worker threads, one runtime each. Default: the number of cores.
    pub workers: usize,
    /// Engine.IO `pingInterval` sent in the handshake.
    pub ping_interval_ms: u64,
    /// Engine.IO `pingTimeout` sent in the handshake.
    pub ping_timeout_ms: u64,
    /// Engine.IO `maxPayload`: the largest packet (WebSocket message or polling body) accepted.
    pub max_payload: usize,
    /// permessage-deflate on WebSocket upgrades that offer it.
    pub ws_compression: bool,
    /// Smallest server message payload that goes compressed.
    pub ws_compression_threshold: usize,
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
    /// Tokens without `exp` are refused.
    pub jwt_require_exp: bool,
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
    /// Engine.IO v3 clients (socket.io-client 2.x) are served.
    pub allow_eio3: bool,
    /// Client events per second per socket (token bucket refill rate).
    pub event_rate_per_sec: u32,
    /// Client events a socket may send at once (token bucket size).
    pub event_rate_burst: u32,
    /// Connection state recovery on.
    pub recovery: bool,
    /// How long a dropped session can be restored.
    pub recovery_max_disconnection_ms: u64,
    /// Recovery log bounds, per worker.
    pub recovery_log_max_events: usize,
    pub recovery_log_max_bytes: usize,
    pub recovery_log_max_age_ms: u64,
    /// Redis server for clustering; `None`: a single node, no Redis.
    pub redis_url: Option<RedisUrl>,
    /// Channel prefix of the socket.io Redis adapter (its `key` option).
    pub redis_key_prefix: String,
    /// The one channel python-socketio's `AsyncRedisManager` publishes on (its `channel`).
    pub redis_python_channel: String,
    /// How long a request to the other nodes waits for their answers (the adapter's
    /// `requestsTimeout`).
    pub redis_request_timeout_ms: u64,
    /// Pub/sub, streams or sharded pub/sub (see [`ClusterMode`]).
    pub cluster_mode: ClusterMode,
    /// Streams mode: the stream's name, its approximate length bound, the entries per read and
    /// the block time of one XREAD.
    pub redis_stream_name: String,
    pub redis_stream_max_len: usize,
    pub redis_stream_read_count: usize,
    pub redis_stream_block_ms: u64,
    /// Streams mode: the key prefix of saved sessions (`<prefix><pid>`).
    pub redis_session_key_prefix: String,
    /// PEM CA bundle that verifies a `rediss://` server instead of the system trust store;
    /// only ever set together with a `rediss://` [`Config::redis_url`] without `#insecure`.
    pub redis_tls_ca: Option<PemBundle>,
    /// Which channels a node subscribes in sharded mode (the sharded adapter's
    /// `subscriptionMode`).
    pub sharded_subscription_mode: ShardedSubscriptionMode,
    /// `tracing` filter: a level (`info`) or directives (`info,ringcast=debug`).
    pub log_level: String,
    /// Log line format.
    pub log_format: LogFormat,
    /// Seconds between the activity summaries logged at `info`; 0: none.
    pub log_summary_interval_secs: u64,
    /// Serve Prometheus metrics on `/metrics`.
    pub metrics: bool,
    /// On shutdown, time given to connections to close before they are cut.
    pub drain_timeout_ms: u64,
    /// Where the dev-mode secret is kept; `None`: [`Config::dev_state_dir`]'s default.
    pub state_dir: Option<PathBuf>,
    /// Neither a JWT secret nor a public key was configured: the server must generate a random
    /// secret and API key at start ([`auth::dev_mode_material`]) and say so loudly.
    pub dev_mode: bool,
    /// The token claim whose value names the socket's user room `user:{value}`.
    pub user_claim: String,
    /// The Socket.IO admin UI on `/admin` (`admin_*` settings).
    pub admin: AdminConfig,
    /// The `webhook_*` settings; webhooks run when a URL is set ([`WebhookSettings::active`]).
    pub webhook: WebhookSettings,
}

/// A configuration error: which setting, and why. `Display` is one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    setting: String,
    message: String,
}

/// A configuration that works but deserves the operator's attention: which setting, and why.
/// Loading cannot log (logging is configured by the result), so [`Config::warnings`] lists
/// them and the server logs each at WARN once logging is up.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigWarning {
    /// The setting at fault (its canonical name).
    pub setting: &'static str,
    /// Why; never the secret itself.
    pub message: String,
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

/// How nodes exchange broadcasts through Redis (docs/CLUSTERING.md says when to use which).
// The variants' docs are `--help` text: plain words, no links.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClusterMode {
    /// PUBLISH on the socket.io redis adapter's channels: at most once, no cross-node recovery.
    Pubsub,
    /// XADD and XREAD on one Redis stream (the redis streams adapter's format): a node that was
    /// away catches up, and with recovery sessions move between nodes.
    Streams,
    /// Redis 7 sharded pub/sub (SPUBLISH, SSUBSCRIBE), like the redis adapter's
    /// createShardedAdapter: a broadcast to one room reaches only the nodes that have it.
    Sharded,
}

/// Which channels a node subscribes in sharded mode.
// The variants' docs are `--help` text: plain words, no links.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShardedSubscriptionMode {
    /// The namespace's channel and the node's own: every broadcast reaches every node.
    Static,
    /// Also one channel per room with members on the node: a broadcast to one room reaches
    /// only the nodes that have it.
    Dynamic,
}

/// Which rooms a client may subscribe to. Either way the room name must be valid
/// ([`crate::gateway::parse_room`]). Under `Open` every socket is put in `dashboard` on
/// connect, as the spec says ("auto-subscribed on connect"); under `Claims` the check is
/// [`crate::gateway::room_granted`] over the token's `rooms` claim, for `dashboard` too.
// The variants' docs are `--help` text: plain words, no links.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoomPolicy {
    /// Any valid room.
    Open,
    /// Only rooms the token's `rooms` claim grants; a token without the claim grants none.
    Claims,
}

impl Config {
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
        resolve::from_layers(flags, env)
    }

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
            require_exp: self.jwt_require_exp,
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

impl Config {
    /// The state directory: `state_dir`, else `$XDG_STATE_HOME/ringcast`, else
    /// `~/.local/state/ringcast` (the XDG Base Directory default). `None` when none is set and
    /// there is no home directory (a `DynamicUser=` service without `StateDirectory=`).
    pub fn dev_state_dir(&self) -> Option<PathBuf> {
        if let Some(dir) = &self.state_dir {
            return Some(dir.clone());
        }
        let non_empty = |var: &str| std::env::var_os(var).filter(|v| !v.is_empty());
        if let Some(state) = non_empty("XDG_STATE_HOME") {
            return Some(PathBuf::from(state).join("ringcast"));
        }
        non_empty("HOME").map(|home| PathBuf::from(home).join(".local/state/ringcast"))
    }

    /// What the server should warn about at start: a JWT key without any API key (the publish
    /// API then answers every request 401), tokens accepted without `exp`, and secrets or keys
    /// that look guessable ([`known_secrets::low_entropy_bits`]).
    pub fn warnings(&self) -> Vec<ConfigWarning> {
        let mut out = Vec::new();
        if !self.dev_mode && self.api_keys.is_empty() {
            out.push(ConfigWarning {
                setting: "api_keys",
                message: "no API key is configured: the publish API (POST /api/v1/emit) \
                          refuses every request with 401; set api_keys (--api-key, \
                          RINGCAST_API_KEYS) to publish"
                    .to_owned(),
            });
        }
        if !self.jwt_require_exp {
            out.push(ConfigWarning {
                setting: "jwt_require_exp",
                message: "jwt_require_exp is false: tokens without an `exp` claim are accepted \
                          and never expire (their sockets stay connected until they leave); \
                          a token whose `exp` has passed is still refused"
                    .to_owned(),
            });
        }
        if let Some(bits) = self
            .jwt_secret
            .as_ref()
            .and_then(|s| known_secrets::low_entropy_bits(s.expose()))
        {
            out.push(low_entropy("jwt_secret", "the secret", bits));
        }
        for (i, key) in self.api_keys.iter().enumerate() {
            if let Some(bits) = known_secrets::low_entropy_bits(key.expose()) {
                out.push(low_entropy("api_keys", &format!("key #{}", i + 1), bits));
            }
        }
        out
    }
}

fn low_entropy(setting: &'static str, what: &str, bits: f64) -> ConfigWarning {
    ConfigWarning {
        setting,
        message: format!(
            "{what} looks guessable: about {bits:.0} bits by its character frequencies, \
             under {:.0}; {}",
            known_secrets::WARN_BELOW_BITS,
            known_secrets::GENERATE
        ),
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod safety_tests;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
