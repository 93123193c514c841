//! The gateway: the spec's behaviour (`../shared/spec/websocket-api.md`) as one [`Handler`] on
//! the engine, and [`run`], which starts it from a [`Config`].

use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::auth::{ApiKeys, Claims, Verifier};
use crate::config::{Config, LogFormat};
use crate::engine::{
    self, BroadcastOp, BroadcastOutcome, ConnectInfo, CorsConfig, EngineConfig, Handler, HttpReply, HttpRequest, HttpResponse, Socket,
};
use crate::gateway::{self as client, ClientAction};
use crate::room::Room;

/// The gateway's handler.
pub struct Gateway {
    verifier: Verifier,
    api_keys: ApiKeys,
    max_rooms: usize,
    metrics: bool,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").field("max_rooms", &self.max_rooms).finish_non_exhaustive()
    }
}

impl Gateway {
    /// Builds the handler from a validated configuration (dev mode already resolved).
    pub fn new(config: &Config) -> Result<Gateway, crate::config::ConfigError> {
        Ok(Gateway {
            verifier: Verifier::new(config)?,
            api_keys: ApiKeys::new(config),
            max_rooms: config.max_rooms_per_socket,
            metrics: config.metrics,
        })
    }

    fn publish(&self, req: &HttpRequest<'_>) -> HttpReply {
        if req.head.method != ringcast_codec::http::Method::Post {
            let mut r = HttpResponse::json(405, r#"{"error":"use POST"}"#);
            r.headers.push(("Allow", "POST".to_owned()));
            return HttpReply::Now(r);
        }
        if !self.api_keys.check_bearer(req.head.authorization) {
            let mut r = HttpResponse::json(401, r#"{"error":"missing or invalid API key"}"#);
            r.headers.push(("WWW-Authenticate", "Bearer".to_owned()));
            return HttpReply::Now(r);
        }
        let publishes = match client::parse_publish(req.body, SystemTime::now()) {
            Ok(p) => p,
            Err(e) => return HttpReply::Now(HttpResponse::json(400, e.to_json())),
        };
        let ops = publishes
            .into_iter()
            .map(|p| BroadcastOp {
                nsp: Room::from("/"),
                rooms: p.rooms,
                except: Vec::new(),
                frames: engine::encode_event("/", None, p.event, &p.data_json, &[]),
            })
            .collect();
        HttpReply::Broadcast { ops, respond: Box::new(publish_response) }
    }
}

/// `{"delivered": N}` (sockets reached on this node, summed over the events), plus per-event
/// counts; 503 when the events could not be published to the other nodes.
fn publish_response(outcome: &BroadcastOutcome) -> HttpResponse {
    let total: usize = outcome.delivered.iter().sum();
    let per_event = outcome.delivered.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(",");
    if outcome.cluster_failures > 0 {
        return HttpResponse::json(
            503,
            format!(r#"{{"error":"cluster unavailable: delivered on this node only","delivered":{total},"events":[{per_event}]}}"#),
        );
    }
    HttpResponse::json(200, format!(r#"{{"delivered":{total},"events":[{per_event}]}}"#))
}

fn epoch_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl Handler for Gateway {
    fn authorize(&self, info: &ConnectInfo<'_>) -> Result<Box<dyn Any>, String> {
        match self.verifier.verify_connect(info.auth) {
            Ok(claims) => Ok(Box::new(claims)),
            Err(e) => Err(e.message().to_owned()),
        }
    }

    fn on_connect(&self, socket: &mut Socket<'_>, _info: &ConnectInfo<'_>) {
        socket.join(Room::from(client::DASHBOARD));
        if let Some(sub) = socket.data::<Claims>().and_then(|c| c.sub.clone()) {
            tracing::debug!(sid = ?socket.id(), sub, "socket connected");
        }
    }

    fn on_event(&self, socket: &mut Socket<'_>, event: &str, args: &str, ack: Option<u64>, _attachments: &[Bytes]) {
        let (reply_event, reply) = match client::handle_client_event(event, args, epoch_ms()) {
            ClientAction::Subscribe(room) => {
                if !socket.in_room(room.as_str()) && socket.rooms().len() >= self.max_rooms {
                    let message = format!("subscribe: too many rooms (at most {})", self.max_rooms);
                    (client::EV_ERROR, client::reply_error(&message))
                } else {
                    socket.join(room.clone());
                    (client::EV_SUBSCRIBED, client::reply_subscribed(&room))
                }
            }
            ClientAction::Unsubscribe(room) => {
                socket.leave(room.as_str());
                (client::EV_UNSUBSCRIBED, client::reply_unsubscribed(&room))
            }
            ClientAction::Heartbeat { reply_json } => (client::EV_HEARTBEAT_ACK, reply_json),
            ClientAction::Error { message } => (client::EV_ERROR, client::reply_error(&message)),
        };
        socket.emit(reply_event, &reply);
        if let Some(id) = ack {
            socket.ack(id, &reply);
        }
    }

    fn on_http(&self, req: &HttpRequest<'_>, _server: &mut engine::Emitter<'_>) -> Option<HttpReply> {
        let reply = match req.head.path {
            "/api/v1/emit" => self.publish(req),
            "/healthz" => HttpReply::Now(HttpResponse::json(200, r#"{"status":"ok"}"#)),
            "/readyz" => HttpReply::Now(HttpResponse::json(200, r#"{"status":"ready"}"#)),
            "/metrics" if !self.metrics => return None,
            _ => return None,
        };
        Some(reply)
    }
}

/// The engine settings a gateway configuration implies.
pub fn engine_config(config: &Config) -> EngineConfig {
    use ringcast_codec::eio::SessionConfig;
    EngineConfig {
        listen: config.listen,
        workers: config.workers,
        pin_cores: true,
        paths: config.paths.clone(),
        echo_paths: Vec::new(),
        session: SessionConfig {
            ping_interval: config.ping_interval_ms,
            ping_timeout: config.ping_timeout_ms,
            max_payload: config.max_payload,
            max_queued_bytes: config.max_outbound_bytes,
        },
        connect_timeout_ms: config.connect_timeout_ms,
        handshake_timeout_ms: config.handshake_timeout_ms,
        http_limits: ringcast_codec::http::Limits { max_head: config.max_http_head, ..Default::default() },
        cors: CorsConfig { origins: config.cors_origins.clone(), credentials: config.cors_credentials },
        max_json_depth: config.max_json_depth,
        max_connections_per_worker: config.max_connections.div_ceil(config.workers.max(1)),
    }
}

/// Runs the gateway until SIGTERM/SIGINT, then drains (a second signal exits at once).
pub fn run(mut config: Config) -> std::io::Result<()> {
    init_logging(&config);
    let dev = crate::auth::dev_mode_material(&mut config);
    let gateway = Gateway::new(&config).map_err(|e| std::io::Error::other(e.to_string()))?;
    let signals = block_signals();
    let running = crate::server::start(engine_config(&config), Arc::new(gateway))?;
    tracing::info!(addr = %running.local_addr, driver = running.driver, workers = config.workers, "ringcast ready");
    println!("ringcast listening on http://{}", running.local_addr);
    if let Some(dev) = dev {
        tracing::warn!("DEV MODE: no JWT secret or public key configured; a random secret was generated. Not for production.");
        println!("dev token (sub \"dev\", 24h): {}", dev.token);
        println!("dev API key: {}", dev.api_key);
    }
    let signal = wait_signal(&signals);
    tracing::info!(signal, "draining: closing every session; a second signal exits at once");
    std::thread::spawn(move || {
        let again = wait_signal(&signals);
        tracing::warn!(signal = again, "second signal: exiting now");
        std::process::exit(1);
    });
    let drained = running.shutdown(Duration::from_millis(config.drain_timeout_ms));
    if !drained {
        tracing::warn!(timeout_ms = config.drain_timeout_ms, "drain timeout: exiting with sessions still open");
    }
    Ok(())
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_level).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Blocks SIGINT and SIGTERM in this thread before the workers start (they inherit the mask),
/// so only [`wait_signal`] ever sees them.
fn block_signals() -> libc::sigset_t {
    // SAFETY: `set` is a plain value initialised by sigemptyset before use; pthread_sigmask only
    // reads it and changes the calling thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
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
