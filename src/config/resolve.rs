//! Resolution: the layers merged (flag > env > file > default, each layer setting a value or
//! leaving it alone; lists replace, never merge) and every value checked, into a [`Config`].
//!
//! Checks run in a fixed order, so a configuration with several mistakes always reports the
//! same one first: paths, numbers, JWT keys and algorithms, API keys, CORS, Redis, logging,
//! then the key pair and a trial [`auth::Verifier`].

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;

use super::redis::Redis;
use super::settings::Merged;
use super::{Config, ConfigError, ListenAddrs, Settings, file, known_secrets};
use crate::auth::{self, Secret};

mod jwt;
use jwt::{Jwt, check_private_key};

/// A day: the ceiling for every time setting. Far beyond any sane timeout, and it keeps
/// `now_ms + timeout` nowhere near `u64` overflow.
const MAX_MS: u64 = 86_400_000;
/// 1 GiB: the ceiling for byte sizes. Larger is a unit mistake, and any such buffer would
/// exhaust the machine long before it filled.
const MAX_BYTES: usize = 1 << 30;

/// Merges the flags, the environment (which may name the file through `RINGCAST_CONFIG`), the
/// file and the defaults, and checks the result.
pub(super) fn from_layers(
    flags: Settings,
    env: &HashMap<String, String>,
) -> Result<Config, ConfigError> {
    let env_layer = Settings::from_env(env)?;
    let file_path = flags.config.clone().or_else(|| env_layer.config.clone());
    let file_layer = match file_path {
        Some(path) => file::read(&path)?,
        None => Settings::default(),
    };
    resolve(flags.over(env_layer).over(file_layer).with_defaults())
}

/// Turns the merged layers into a validated [`Config`].
fn resolve(m: Merged) -> Result<Config, ConfigError> {
    let paths = resolve_paths(&m.paths)?;
    let msgpack_paths = normalize_paths("msgpack_paths", &m.msgpack_paths)?;
    check_numbers(&m)?;
    let jwt = Jwt::resolve(
        m.jwt_secret,
        m.jwt_secret_file,
        m.jwt_public_key_file,
        m.jwt_private_key_file,
        m.jwt_algorithms,
    )?;
    let jwt_issuer = non_empty("jwt_issuer", m.jwt_issuer)?;
    let jwt_audience = non_empty("jwt_audience", m.jwt_audience)?;
    let api_keys = resolve_api_keys(m.api_keys)?;
    let cors_origins = resolve_origins(m.cors_origins)?;
    check_credentials(m.cors_credentials, &cors_origins)?;
    let redis = Redis::resolve(
        m.redis_url,
        m.redis_key_prefix,
        m.redis_python_channel,
        m.redis_tls_ca,
    )?;
    let log_level = resolve_log_level(m.log_level)?;
    let webhook = super::webhook::resolve(super::webhook::Raw {
        url: m.webhook_url,
        secret: m.webhook_secret,
        events: m.webhook_events,
        // 10 000 events of ~250 bytes: a 2.5 MB body, the most a receiver should take at once.
        batch_max: ranged(
            "webhook_batch_max",
            m.webhook_batch_max,
            1,
            10_000,
            "events",
        )?,
        batch_ms: ms("webhook_batch_ms", m.webhook_batch_ms, 0)?,
        // 10 M events of ~250 bytes: 2.5 GB, the machine's memory long before.
        queue: ranged("webhook_queue", m.webhook_queue, 1, 10_000_000, "events")?,
        timeout_ms: ms("webhook_timeout_ms", m.webhook_timeout_ms, 1)?,
        // 20 attempts: over a minute of 10 s-capped backoff; more is an outage, not a blip.
        attempts: ranged("webhook_attempts", m.webhook_attempts, 1, 20, "attempts")?,
    })?;
    let dev_mode = jwt.secret.is_none() && jwt.public_key.is_none();
    let admin = super::admin::resolve(super::admin::Raw {
        enabled: m.admin_ui,
        username: m.admin_username,
        password_hash: m.admin_password_hash,
        auth: m.admin_auth,
        mode: m.admin_mode,
        origin: m.admin_origin.map(resolve_admin_origin).transpose()?,
    })?;

    let config = Config {
        listen: resolve_listen(&m.listen)?,
        paths,
        msgpack_paths,
        workers: m.workers,
        ping_interval_ms: m.ping_interval_ms,
        ping_timeout_ms: m.ping_timeout_ms,
        max_payload: m.max_payload,
        ws_compression: m.ws_compression,
        ws_compression_threshold: m.ws_compression_threshold,
        connect_timeout_ms: m.connect_timeout_ms,
        jwt_secret: jwt.secret,
        jwt_public_key: jwt.public_key,
        jwt_private_key: jwt.private_key,
        jwt_algorithms: jwt.algorithms,
        jwt_issuer,
        jwt_audience,
        jwt_leeway_secs: m.jwt_leeway_secs,
        jwt_require_exp: m.jwt_require_exp,
        room_policy: m.room_policy,
        token_expiry_grace_ms: m.token_expiry_grace_ms,
        api_keys,
        cors_origins,
        cors_credentials: m.cors_credentials,
        max_connections: m.max_connections,
        max_connections_per_ip: m.max_connections_per_ip,
        handshake_timeout_ms: m.handshake_timeout_ms,
        max_http_head: m.max_http_head,
        max_rooms_per_socket: m.max_rooms_per_socket,
        max_outbound_bytes: m.max_outbound_bytes,
        max_json_depth: m.max_json_depth,
        allow_eio3: m.allow_eio3,
        event_rate_per_sec: m.event_rate_per_sec,
        event_rate_burst: m.event_rate_burst,
        recovery: m.recovery,
        recovery_max_disconnection_ms: m.recovery_max_disconnection_ms,
        recovery_log_max_events: m.recovery_log_max_events,
        recovery_log_max_bytes: m.recovery_log_max_bytes,
        recovery_log_max_age_ms: m.recovery_log_max_age_ms,
        redis_url: redis.url,
        redis_key_prefix: redis.key_prefix,
        redis_python_channel: redis.python_channel,
        redis_request_timeout_ms: m.redis_request_timeout_ms,
        redis_tls_ca: redis.tls_ca,
        cluster_mode: m.cluster_mode,
        sharded_subscription_mode: m.sharded_subscription_mode,
        redis_stream_name: non_empty_text("redis_stream_name", m.redis_stream_name)?,
        redis_stream_max_len: m.redis_stream_max_len,
        redis_stream_read_count: m.redis_stream_read_count,
        redis_stream_block_ms: m.redis_stream_block_ms,
        redis_session_key_prefix: non_empty_text(
            "redis_session_key_prefix",
            m.redis_session_key_prefix,
        )?,
        log_level,
        log_format: m.log_format,
        log_summary_interval_secs: m.log_summary_interval_secs,
        metrics: m.metrics,
        drain_timeout_ms: m.drain_timeout_ms,
        state_dir: m.state_dir,
        dev_mode,
        user_claim: non_empty_text("user_claim", m.user_claim)?
            .trim()
            .to_owned(),
        admin,
        webhook,
    };
    check_private_key(&config)?;
    if !config.dev_mode {
        // Builds the verifier once so a key that parses as PEM but not as a key fails here, at
        // load, with exit code 2, rather than at the first connection.
        auth::Verifier::new(&config.auth())?;
    }
    Ok(config)
}

/// `IP:PORT`, `:PORT` or `PORT` (the last two on every IPv4 interface, as the default
/// `0.0.0.0:8000`). Host names are not resolved: the engine binds one address.
fn resolve_listen(raw: &str) -> Result<ListenAddrs, ConfigError> {
    resolve_listen_with(raw, |host, port| {
        use std::net::ToSocketAddrs;
        (host, port).to_socket_addrs().map(Iterator::collect)
    })
}

/// [`resolve_listen`] with the host-name resolver as a parameter (unit tests pass their own).
/// Accepted: `IP:PORT`, `[IPv6]:PORT`, `HOST:PORT` (every address the name resolves to at
/// start), `:PORT` and a bare `PORT` (every IPv4 interface).
pub(super) fn resolve_listen_with(
    raw: &str,
    resolve: impl Fn(&str, u16) -> std::io::Result<Vec<SocketAddr>>,
) -> Result<ListenAddrs, ConfigError> {
    const FORMS: &str = "accepted forms: IP:PORT (127.0.0.1:8000, [::1]:8000), HOST:PORT \
                         (localhost:8000: every address it resolves to), :PORT or PORT (every \
                         IPv4 interface, e.g. :8000)";
    let text = raw.trim();
    let port_only = text.strip_prefix(':').unwrap_or(text);
    if let Ok(port) = port_only.parse::<u16>() {
        return Ok(ListenAddrs::one(SocketAddr::from(([0, 0, 0, 0], port))));
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(ListenAddrs::one(addr));
    }
    let bad = || ConfigError::new("listen", format!("{text:?} is not an address; {FORMS}"));
    let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == ':') {
        return Err(bad());
    }
    let mut addrs = resolve(host, port).map_err(|e| {
        ConfigError::new("listen", format!("cannot resolve {host:?}: {e}; {FORMS}"))
    })?;
    let mut seen = std::collections::HashSet::new();
    addrs.retain(|a| seen.insert(*a));
    ListenAddrs::new(addrs).ok_or_else(|| {
        ConfigError::new(
            "listen",
            format!("{host:?} resolves to no address; {FORMS}"),
        )
    })
}

/// The numeric settings' ranges.
fn check_numbers(m: &Merged) -> Result<(), ConfigError> {
    ranged("workers", m.workers, 1, 1024, "threads")?;
    ms("ping_interval_ms", m.ping_interval_ms, 1)?;
    ms("ping_timeout_ms", m.ping_timeout_ms, 1)?;
    ms("connect_timeout_ms", m.connect_timeout_ms, 1)?;
    ms("handshake_timeout_ms", m.handshake_timeout_ms, 1)?;
    // 0 is meaningful here: close everything at once.
    ms("drain_timeout_ms", m.drain_timeout_ms, 0)?;
    // 0 is meaningful too: the token's `exp` (plus nothing) ends the session.
    ms("token_expiry_grace_ms", m.token_expiry_grace_ms, 0)?;
    ms("redis_request_timeout_ms", m.redis_request_timeout_ms, 1)?;
    ms(
        "recovery_max_disconnection_ms",
        m.recovery_max_disconnection_ms,
        1,
    )?;
    ms("recovery_log_max_age_ms", m.recovery_log_max_age_ms, 1)?;
    ranged(
        "redis_stream_max_len",
        m.redis_stream_max_len,
        1,
        100_000_000,
        "entries",
    )?;
    ranged(
        "redis_stream_read_count",
        m.redis_stream_read_count,
        1,
        100_000,
        "entries",
    )?;
    // XREAD BLOCK 0 blocks forever: the reader could not notice a stop or a hung Redis.
    ms("redis_stream_block_ms", m.redis_stream_block_ms, 1)?;
    ranged(
        "recovery_log_max_events",
        m.recovery_log_max_events,
        1,
        100_000_000,
        "events",
    )?;
    ranged(
        "recovery_log_max_bytes",
        m.recovery_log_max_bytes,
        1024,
        MAX_BYTES,
        "bytes",
    )?;

    ranged("max_payload", m.max_payload, 1, MAX_BYTES, "bytes")?;
    ranged(
        "ws_compression_threshold",
        m.ws_compression_threshold,
        0,
        MAX_BYTES,
        "bytes",
    )?;
    // A browser's upgrade request with cookies is 1-2 KiB: 1 KiB is the least that works.
    ranged(
        "max_http_head",
        m.max_http_head,
        1024,
        1 << 20,
        "bytes; a browser's WebSocket upgrade request needs about 1-2 KiB",
    )?;
    ranged(
        "max_outbound_bytes",
        m.max_outbound_bytes,
        1024,
        MAX_BYTES,
        "bytes",
    )?;
    let conns = 100_000_000;
    ranged(
        "max_connections",
        m.max_connections,
        1,
        conns,
        "connections",
    )?;
    ranged(
        "max_connections_per_ip",
        m.max_connections_per_ip,
        1,
        conns,
        "connections",
    )?;
    // Every socket joins `dashboard` on connect, so 1 is the least that works.
    ranged(
        "max_rooms_per_socket",
        m.max_rooms_per_socket,
        1,
        1_000_000,
        "rooms; every socket is in dashboard",
    )?;
    // serde_json stops at 128 levels itself; recursive parsers need a bound on stack use.
    ranged(
        "max_json_depth",
        m.max_json_depth,
        1,
        128,
        "levels; serde_json's own limit is 128",
    )?;
    ranged(
        "event_rate_per_sec",
        m.event_rate_per_sec,
        1,
        1_000_000,
        "events per second",
    )?;
    ranged(
        "event_rate_burst",
        m.event_rate_burst,
        1,
        1_000_000,
        "events",
    )?;
    // An hour of leeway is expiry switched off in practice.
    ranged("jwt_leeway_secs", m.jwt_leeway_secs, 0, 3_600, "seconds")?;
    // A day: past that a summary tells nobody anything; 0 turns it off.
    ranged(
        "log_summary_interval_secs",
        m.log_summary_interval_secs,
        0,
        86_400,
        "seconds; 0 turns the summary off",
    )?;
    Ok(())
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

fn ms(setting: &str, value: u64, min: u64) -> Result<u64, ConfigError> {
    ranged(setting, value, min, MAX_MS, "milliseconds, at most a day")
}

/// `cors_credentials` with `*` would let any site send your users' credentials.
fn check_credentials(credentials: bool, origins: &[String]) -> Result<(), ConfigError> {
    if credentials && origins.iter().any(|o| o == "*") {
        return Err(ConfigError::new(
            "cors_credentials",
            "cannot be true with cors_origins = \"*\": any web site could make requests \
             carrying your users' credentials; list the origins instead",
        ));
    }
    Ok(())
}

fn resolve_paths(raw: &[String]) -> Result<Vec<String>, ConfigError> {
    if raw.is_empty() {
        return Err(ConfigError::new("paths", "at least one path is needed"));
    }
    normalize_paths("paths", raw)
}

/// Each path normalised (see [`normalize_path`]), duplicates dropped.
fn normalize_paths(setting: &'static str, raw: &[String]) -> Result<Vec<String>, ConfigError> {
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for path in raw {
        let normal = normalize_path(path)
            .map_err(|why| ConfigError::new(setting, format!("{path:?}: {why}")))?;
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

fn non_empty(setting: &str, value: Option<String>) -> Result<Option<String>, ConfigError> {
    match value {
        Some(v) if v.trim().is_empty() => Err(ConfigError::new(setting, "is empty")),
        other => Ok(other),
    }
}

/// A required text setting that must not be blank (a stream name, a key prefix).
fn non_empty_text(setting: &str, value: String) -> Result<String, ConfigError> {
    if value.trim().is_empty() {
        return Err(ConfigError::new(setting, "is empty"));
    }
    Ok(value)
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
        if known_secrets::is_example(&key) {
            return Err(ConfigError::new(
                "api_keys",
                format!(
                    "key #{} is the example key printed in ringcast's docs, which anyone can \
                     read; {}",
                    i + 1,
                    known_secrets::GENERATE
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

/// `admin_origin`: one exact origin; `*` cannot go with the credentials the UI sends.
fn resolve_admin_origin(origin: String) -> Result<String, ConfigError> {
    let origin = origin.trim().to_ascii_lowercase();
    if origin == "*" {
        return Err(ConfigError::new(
            "admin_origin",
            "\"*\" cannot carry credentials; name the UI's origin",
        ));
    }
    check_origin(&origin)
        .map_err(|why| ConfigError::new("admin_origin", format!("{origin:?}: {why}")))?;
    Ok(origin)
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

fn resolve_log_level(level: String) -> Result<String, ConfigError> {
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
