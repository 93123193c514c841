//! Starting the gateway from a [`Config`]: logging, the engine (clustered or not), dev mode,
//! signals and the drain.

use std::sync::Arc;
use std::time::Duration;

use super::cluster_link::ClusterLink;
use super::handler::Gateway;
use super::summary::Reporter;
#[cfg(feature = "cluster")]
use crate::cluster::streams::{StreamOptions, StreamsStore};
#[cfg(feature = "cluster")]
use crate::cluster::{Publisher, RedisOptions, RedisTls, SubscriptionMode};
#[cfg(feature = "cluster")]
use crate::config::ClusterMode;
use crate::config::{Config, LogFormat};
#[cfg(feature = "cluster")]
use crate::engine::recovery::RecoveryStore;
use crate::engine::recovery::{LogBounds, RecoveryConfig};
use crate::engine::{CorsConfig, EngineConfig, Running};

/// The engine settings a gateway configuration implies.
pub fn engine_config(config: &Config) -> EngineConfig {
    use ringcast_codec::eio::SessionConfig;
    EngineConfig {
        listen: config.listen.addrs().to_vec(),
        workers: config.workers,
        pin_cores: true,
        paths: config.paths.clone(),
        msgpack_paths: config.msgpack_paths.clone(),
        echo_paths: Vec::new(),
        session: SessionConfig {
            ping_interval: config.ping_interval_ms,
            ping_timeout: config.ping_timeout_ms,
            max_payload: config.max_payload,
            max_queued_bytes: config.max_outbound_bytes,
        },
        connect_timeout_ms: config.connect_timeout_ms,
        handshake_timeout_ms: config.handshake_timeout_ms,
        http_limits: ringcast_codec::http::Limits {
            max_head: config.max_http_head,
            ..Default::default()
        },
        cors: CorsConfig {
            origins: config.cors_origins.clone(),
            credentials: config.cors_credentials,
            credentialed_origins: config.admin.origin.iter().cloned().collect(),
        },
        max_json_depth: config.max_json_depth,
        allow_eio3: config.allow_eio3,
        max_connections: config.max_connections,
        max_connections_per_ip: config.max_connections_per_ip,
        compression: config.ws_compression.then_some(crate::engine::Compression {
            threshold: config.ws_compression_threshold,
        }),
        recovery: config.recovery.then_some(RecoveryConfig {
            max_disconnection_ms: config.recovery_max_disconnection_ms,
            log: LogBounds {
                max_events: config.recovery_log_max_events,
                max_bytes: config.recovery_log_max_bytes,
                max_age_ms: config.recovery_log_max_age_ms,
            },
        }),
    }
}

/// Runs the gateway until SIGTERM/SIGINT, then drains (a second signal exits at once).
pub fn run(mut config: Config) -> std::io::Result<()> {
    init_logging(&config);
    let dev = config.dev_mode_material();
    for warning in config.warnings() {
        tracing::warn!(setting = warning.setting, "{}", warning.message);
    }
    let gateway = Gateway::new(&config).map_err(|e| std::io::Error::other(e.to_string()))?;
    let signals = block_signals();
    let link = gateway.cluster_link();
    let (stats, budgets) = (gateway.stats(), gateway.budgets());
    let gateway: Arc<Gateway> = Arc::new(gateway);
    let running =
        start_engine(&config, gateway.clone(), link).map_err(|e| listen_error(&config, e))?;
    if config.redis_url.is_some() {
        gateway.relay_admin_stats(running.stats())?;
    }
    let reporter = Reporter::start(
        config.log_summary_interval_secs,
        running.stats(),
        stats,
        budgets,
    )?;
    tracing::info!(
        addr = %running.local_addr,
        driver = running.driver,
        workers = config.workers,
        summary_interval_s = config.log_summary_interval_secs,
        "ringcast ready"
    );
    println!("ringcast listening on http://{}", running.local_addr);
    if let Some(dev) = dev {
        tracing::warn!(
            "DEV MODE: no JWT secret or public key configured; a random secret was generated. Not for production."
        );
        // Saved before the token is printed: whoever reads the token may run `token --dev` next.
        save_dev_secret(&config);
        println!("dev token (sub \"dev\", 24h, every room): {}", dev.token);
        println!("dev API key: {}", dev.api_key);
    }
    let signal = wait_signal(&signals);
    tracing::info!(
        signal,
        "draining: closing every session; a second signal exits at once"
    );
    std::thread::spawn(move || {
        let again = wait_signal(&signals);
        tracing::warn!(signal = again, "second signal: exiting now");
        std::process::exit(1);
    });
    let drained = running.shutdown(Duration::from_millis(config.drain_timeout_ms));
    if !drained {
        tracing::warn!(
            timeout_ms = config.drain_timeout_ms,
            "drain timeout: exiting with sessions still open"
        );
    }
    reporter.stopped(drained);
    Ok(())
}

/// Keeps the dev secret in the state directory so `ringcast token --dev` can mint more tokens
/// for this server. A directory that cannot be written costs only that, so it is a warning.
fn save_dev_secret(config: &Config) {
    let (Some(dir), Some(secret)) = (config.dev_state_dir(), &config.jwt_secret) else {
        tracing::warn!(
            "no state directory (state_dir, HOME): `ringcast token --dev` cannot find this server's secret"
        );
        return;
    };
    match crate::auth::save_dev_secret(&dir, secret) {
        Ok(path) => println!(
            "dev secret saved to {} (mode 0600): `ringcast token --dev --sub NAME` mints more tokens",
            path.display()
        ),
        Err(e) => tracing::warn!(
            dir = %dir.display(),
            error = %e,
            "cannot save the dev secret: `ringcast token --dev` will not find it"
        ),
    }
}

/// Starts the engine: alone, or clustered over Redis when `redis_url` is set.
#[cfg(feature = "cluster")]
fn start_engine(
    config: &Config,
    gateway: Arc<Gateway>,
    link: ClusterLink,
) -> std::io::Result<Running> {
    let Some(url) = &config.redis_url else {
        let g = gateway.clone();
        return crate::engine::start_clustered(engine_config(config), gateway, move |node| {
            g.set_node(&node);
            Ok(None)
        });
    };
    let options = RedisOptions {
        key_prefix: config.redis_key_prefix.clone(),
        python_channel: config.redis_python_channel.clone(),
        request_timeout: Duration::from_millis(config.redis_request_timeout_ms),
        tls: RedisTls {
            ca: config.redis_tls_ca.as_ref().map(|ca| ca.pem().to_vec()),
        },
        sharded: sharded_mode(config),
        streams: stream_options(config),
        // The admin UI's events reach the other nodes' UIs (`socket.io#/admin#`).
        relay_namespace: config
            .admin
            .enabled
            .then(|| crate::admin::NAMESPACE.to_owned()),
        ..RedisOptions::default()
    };
    // Streams mode with recovery: sessions and missed events live in Redis, so a client
    // recovers on any node.
    let store: Option<Arc<dyn RecoveryStore>> = match &options.streams {
        Some(opts) if config.recovery => {
            let client = crate::cluster::open_client(url.expose(), &options.tls, false)?;
            Some(Arc::new(StreamsStore::new(client, opts.clone())))
        }
        _ => None,
    };
    tracing::info!(url = %url.redacted(), mode = ?config.cluster_mode, "clustering over Redis");
    let g = gateway.clone();
    crate::engine::start_with_store(engine_config(config), gateway, store, move |node| {
        g.set_node(&node);
        let bridge = crate::cluster::start(url.expose(), options, node)?;
        link.set(bridge.clone());
        Ok(Some(bridge as Arc<dyn Publisher>))
    })
}

/// The bridge's sharded subscription mode, `None` for classic pub/sub.
#[cfg(feature = "cluster")]
fn sharded_mode(config: &Config) -> Option<SubscriptionMode> {
    use crate::config::{ClusterMode, ShardedSubscriptionMode};
    match (config.cluster_mode, config.sharded_subscription_mode) {
        (ClusterMode::Pubsub | ClusterMode::Streams, _) => None,
        (ClusterMode::Sharded, ShardedSubscriptionMode::Static) => Some(SubscriptionMode::Static),
        (ClusterMode::Sharded, ShardedSubscriptionMode::Dynamic) => Some(SubscriptionMode::Dynamic),
    }
}

/// Streams mode's settings, or `None` in pub/sub mode.
#[cfg(feature = "cluster")]
fn stream_options(config: &Config) -> Option<StreamOptions> {
    (config.cluster_mode == ClusterMode::Streams).then(|| StreamOptions {
        stream: config.redis_stream_name.clone(),
        max_len: config.redis_stream_max_len,
        read_count: config.redis_stream_read_count,
        block_ms: config.redis_stream_block_ms,
        session_prefix: config.redis_session_key_prefix.clone(),
        recovery: config.recovery,
        max_disconnection_ms: config.recovery_max_disconnection_ms,
        position: Default::default(),
    })
}

/// Starts the engine; this build has no clustering (the `cluster` feature is off).
#[cfg(not(feature = "cluster"))]
fn start_engine(
    config: &Config,
    gateway: Arc<Gateway>,
    _link: ClusterLink,
) -> std::io::Result<Running> {
    if config.redis_url.is_some() {
        eprintln!(
            "ringcast: invalid configuration: redis_url: this build has no clustering (built without the `cluster` feature)"
        );
        std::process::exit(2);
    }
    let g = gateway.clone();
    crate::engine::start_clustered(engine_config(config), gateway, move |node| {
        g.set_node(&node);
        Ok(None)
    })
}

/// A listen address that cannot be bound is a configuration error: one line naming the
/// setting, exit code 2, like every other bad setting.
fn listen_error(config: &Config, e: std::io::Error) -> std::io::Error {
    use std::io::ErrorKind::{AddrInUse, AddrNotAvailable, PermissionDenied};
    if matches!(e.kind(), AddrInUse | AddrNotAvailable | PermissionDenied) {
        eprintln!(
            "ringcast: invalid configuration: listen: cannot listen on {}: {e}",
            config.listen
        );
        std::process::exit(2);
    }
    e
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_env_filter(filter);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Blocks SIGINT and SIGTERM in this thread before the workers start (they inherit the mask),
/// so only [`wait_signal`] ever sees them.
fn block_signals() -> libc::sigset_t {
    // SAFETY: sigset_t is a plain bit array; all-zero is a valid (empty) value.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid, initialised sigset_t owned by this frame.
    unsafe { libc::sigemptyset(&mut set) };
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: as above; SIGINT and SIGTERM are valid signal numbers.
        unsafe { libc::sigaddset(&mut set, signal) };
    }
    // SAFETY: `set` is initialised; a null old-mask pointer is allowed; this only changes the
    // calling thread's mask.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    set
}

fn wait_signal(set: &libc::sigset_t) -> i32 {
    let mut signal = 0;
    // SAFETY: `set` was initialised by `block_signals`; sigwait writes the signal number into
    // `signal`, a valid i32.
    unsafe {
        libc::sigwait(set, &mut signal);
    }
    signal
}
