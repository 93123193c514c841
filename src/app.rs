//! The gateway: the spec's behaviour (`../shared/spec/websocket-api.md`) as one [`Handler`] on
//! the engine, and [`run`], which starts it from a [`Config`].

use std::any::Any;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::auth::{ApiKeys, Claims, Verifier};
use crate::cluster::{Bridge, ClusterStatus, Publisher, RedisOptions, RedisTls};
use crate::config::{Config, LogFormat, RoomPolicy};
use crate::engine::{
    self, BroadcastOp, BroadcastOutcome, ConnectInfo, CorsConfig, EngineConfig, Handler, HttpReply,
    HttpRequest, HttpResponse, Socket,
};
use crate::gateway::{self as client, ClientAction};
use crate::room::Room;

/// The gateway's handler.
pub struct Gateway {
    verifier: Verifier,
    api_keys: ApiKeys,
    max_rooms: usize,
    metrics: bool,
    rate: RateLimit,
    room_policy: RoomPolicy,
    expiry_grace_ms: u64,
    /// The Redis bridge, once started (clustered nodes only).
    cluster: Arc<OnceLock<Arc<Bridge>>>,
    stats: Arc<crate::metrics::GatewayStats>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("max_rooms", &self.max_rooms)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// Builds the handler from a validated configuration (dev mode already resolved).
    pub fn new(config: &Config) -> Result<Gateway, crate::config::ConfigError> {
        let auth = config.auth();
        Ok(Gateway {
            verifier: Verifier::new(&auth)?,
            api_keys: ApiKeys::new(&auth),
            max_rooms: config.max_rooms_per_socket,
            metrics: config.metrics,
            rate: RateLimit {
                per_sec: f64::from(config.event_rate_per_sec),
                burst: f64::from(config.event_rate_burst),
            },
            room_policy: config.room_policy,
            cluster: Arc::default(),
            expiry_grace_ms: config.token_expiry_grace_ms,
            stats: Default::default(),
        })
    }

    /// `/readyz`: ready while accepting; with Redis configured, `degraded` (still 200: local
    /// clients are served) while the bridge is disconnected.
    fn readiness(&self) -> HttpResponse {
        match self.cluster.get().map(|b| b.status()) {
            Some(ClusterStatus::Connected) => {
                HttpResponse::json(200, r#"{"status":"ready","redis":"connected"}"#)
            }
            Some(_) => HttpResponse::json(200, r#"{"status":"degraded","redis":"disconnected"}"#),
            None => HttpResponse::json(200, r#"{"status":"ready"}"#),
        }
    }

    /// Whether the room policy lets this socket into `room`.
    fn may_enter(&self, socket: &Socket<'_>, room: &str) -> bool {
        match self.room_policy {
            RoomPolicy::Open => true,
            RoomPolicy::Claims => socket
                .data::<SocketState>()
                .and_then(|s| s.claims.rooms.as_deref())
                .is_some_and(|patterns| client::room_granted(patterns, room)),
        }
    }

    /// Disconnects the socket once its token's `exp` (plus the grace) has passed.
    fn schedule_expiry(&self, socket: &mut Socket<'_>) {
        let Some(expires) = socket.data::<SocketState>().and_then(|s| s.claims.exp) else {
            return;
        };
        let due = expires
            .saturating_mul(1000)
            .saturating_add(self.expiry_grace_ms);
        socket.set_deadline(Some(Duration::from_millis(due.saturating_sub(epoch_ms()))));
    }

    /// `auth:refresh {token}`: verifies the new token like a CONNECT token; it must name the same
    /// subject. On success the socket's claims (rooms, `exp`) are replaced.
    fn refresh(&self, socket: &mut Socket<'_>, args: &str) -> (&'static str, String) {
        let token = match client::parse_refresh(args) {
            Ok(t) => t,
            Err(message) => return (client::EV_ERROR, client::reply_error(&message)),
        };
        let now_secs = epoch_ms() / 1000;
        let claims = match self.verifier.verify_token_at(&token, now_secs) {
            Ok(c) => c,
            Err(e) => {
                self.stats.auth_failure(e.message());
                return (
                    client::EV_ERROR,
                    client::reply_error(&format!("auth:refresh: {}", e.message())),
                );
            }
        };
        let Some(state) = socket.data_mut::<SocketState>() else {
            return (
                client::EV_ERROR,
                client::reply_error("auth:refresh: not authenticated"),
            );
        };
        if state.claims.sub != claims.sub {
            return (
                client::EV_ERROR,
                client::reply_error("auth:refresh: the token names another subject"),
            );
        }
        let exp = claims.exp.unwrap_or(0);
        state.claims = claims;
        self.schedule_expiry(socket);
        (EV_AUTH_REFRESHED, format!(r#"{{"exp":{exp}}}"#))
    }

    fn publish(&self, req: &HttpRequest<'_>) -> HttpReply {
        let reply = |status: u16, body: String| {
            self.stats.publish_request(status);
            HttpResponse::json(status, body)
        };
        if req.head.method != ringcast_codec::http::Method::Post {
            let mut r = reply(405, r#"{"error":"use POST"}"#.to_owned());
            r.headers.push(("Allow", "POST".to_owned()));
            return HttpReply::Now(r);
        }
        if !self.api_keys.check_bearer(req.head.authorization) {
            let mut r = reply(401, r#"{"error":"missing or invalid API key"}"#.to_owned());
            r.headers.push(("WWW-Authenticate", "Bearer".to_owned()));
            return HttpReply::Now(r);
        }
        let publishes = match client::parse_publish(req.body, SystemTime::now()) {
            Ok(p) => p,
            Err(e) => return HttpReply::Now(reply(400, e.to_json())),
        };
        let ops: Vec<BroadcastOp> = publishes
            .into_iter()
            .map(|p| BroadcastOp {
                nsp: Room::from("/"),
                rooms: p.rooms,
                except: Vec::new(),
                frames: engine::encode_event("/", None, p.event, &p.data_json, &[]),
            })
            .collect();
        let stats = self.stats.clone();
        HttpReply::Broadcast {
            ops,
            respond: Box::new(move |outcome| {
                let response = publish_response(outcome);
                stats.publish_request(response.status);
                stats.published_events.fetch_add(
                    outcome.delivered.len() as u64,
                    std::sync::atomic::Ordering::Relaxed,
                );
                stats.cluster_publish_failures.fetch_add(
                    outcome.cluster_failures as u64,
                    std::sync::atomic::Ordering::Relaxed,
                );
                response
            }),
        }
    }
}

/// The reply to a successful `auth:refresh`: `{"exp": <the new token's exp>}`.
pub const EV_AUTH_REFRESHED: &str = "auth:refreshed";

/// Client events per socket: a token bucket (`per_sec` refill, `burst` capacity).
#[derive(Debug, Clone, Copy)]
struct RateLimit {
    per_sec: f64,
    burst: f64,
}

/// What the gateway keeps per socket: the verified claims and the event token bucket.
#[derive(Debug)]
pub struct SocketState {
    /// The claims of the token the socket authenticated with (or refreshed to).
    pub claims: Claims,
    tokens: f64,
    refilled: Instant,
    /// Events refused in a row; past the burst size the socket is disconnected.
    strikes: u32,
}

impl SocketState {
    fn new(claims: Claims, rate: RateLimit) -> Self {
        SocketState {
            claims,
            tokens: rate.burst,
            refilled: Instant::now(),
            strikes: 0,
        }
    }

    /// Takes one token; `false` when the socket is over its rate.
    fn take(&mut self, rate: RateLimit) -> bool {
        let now = Instant::now();
        let elapsed = now.duration_since(self.refilled).as_secs_f64();
        self.refilled = now;
        self.tokens = (self.tokens + elapsed * rate.per_sec).min(rate.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.strikes = 0;
            true
        } else {
            self.strikes += 1;
            false
        }
    }
}

/// `{"delivered": N}` (sockets reached on this node, summed over the events), plus per-event
/// counts; 503 when the events could not be published to the other nodes.
fn publish_response(outcome: &BroadcastOutcome) -> HttpResponse {
    let total: usize = outcome.delivered.iter().sum();
    let per_event = outcome
        .delivered
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(",");
    if outcome.cluster_failures > 0 {
        return HttpResponse::json(
            503,
            format!(
                r#"{{"error":"cluster unavailable: delivered on this node only","delivered":{total},"events":[{per_event}]}}"#
            ),
        );
    }
    HttpResponse::json(
        200,
        format!(r#"{{"delivered":{total},"events":[{per_event}]}}"#),
    )
}

fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Handler for Gateway {
    fn authorize(&self, info: &ConnectInfo<'_>) -> Result<Box<dyn Any>, String> {
        match self.verifier.verify_connect(info.auth) {
            Ok(claims) => Ok(Box::new(SocketState::new(claims, self.rate))),
            Err(e) => {
                self.stats.auth_failure(e.message());
                Err(e.message().to_owned())
            }
        }
    }

    fn on_connect(&self, socket: &mut Socket<'_>, _info: &ConnectInfo<'_>) {
        // Under the "claims" policy even the auto-joined dashboard must be granted.
        if self.may_enter(socket, client::DASHBOARD) {
            socket.join(Room::from(client::DASHBOARD));
        }
        self.schedule_expiry(socket);
        if let Some(sub) = socket
            .data::<SocketState>()
            .and_then(|s| s.claims.sub.clone())
        {
            tracing::debug!(sid = ?socket.id(), sub, "socket connected");
        }
    }

    fn on_event(
        &self,
        socket: &mut Socket<'_>,
        event: &str,
        args: &str,
        ack: Option<u64>,
        _attachments: &[Bytes],
    ) {
        let rate = self.rate;
        let (allowed, strikes) = match socket.data_mut::<SocketState>() {
            Some(state) => (state.take(rate), state.strikes),
            None => (true, 0),
        };
        if !allowed {
            self.stats
                .rate_limited
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if f64::from(strikes) > rate.burst {
                // Sustained abuse: a whole burst's worth of refused events in a row.
                tracing::warn!(sid = ?socket.id(), "disconnecting a socket that keeps exceeding its event rate");
                socket.emit(
                    client::EV_ERROR,
                    &client::reply_error("rate limit exceeded: disconnecting"),
                );
                socket.disconnect();
            } else {
                socket.emit(
                    client::EV_ERROR,
                    &client::reply_error("rate limit exceeded"),
                );
            }
            return;
        }
        if event == client::EV_AUTH_REFRESH {
            let (reply_event, reply) = self.refresh(socket, args);
            socket.emit(reply_event, &reply);
            if let Some(id) = ack {
                socket.ack(id, &reply);
            }
            return;
        }
        let (reply_event, reply) = match client::handle_client_event(event, args, epoch_ms()) {
            ClientAction::Subscribe(room) if !self.may_enter(socket, room.as_str()) => {
                let message = format!("forbidden: the token does not grant room \"{room}\"");
                (client::EV_ERROR, client::reply_error(&message))
            }
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
            ClientAction::Error { message } => {
                self.stats
                    .client_errors
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                (client::EV_ERROR, client::reply_error(&message))
            }
        };
        socket.emit(reply_event, &reply);
        if let Some(id) = ack {
            socket.ack(id, &reply);
        }
    }

    fn on_deadline(&self, socket: &mut Socket<'_>) {
        let Some(expires) = socket.data::<SocketState>().and_then(|s| s.claims.exp) else {
            return;
        };
        let due = expires
            .saturating_mul(1000)
            .saturating_add(self.expiry_grace_ms);
        if due > epoch_ms() {
            // Refreshed since the deadline was set.
            self.schedule_expiry(socket);
            return;
        }
        tracing::debug!(sid = ?socket.id(), "token expired: disconnecting");
        socket.emit(client::EV_ERROR, &client::reply_error("token expired"));
        socket.disconnect();
    }

    fn on_http(
        &self,
        req: &HttpRequest<'_>,
        server: &mut engine::Emitter<'_>,
    ) -> Option<HttpReply> {
        let reply = match req.head.path {
            "/api/v1/emit" => self.publish(req),
            "/healthz" => HttpReply::Now(HttpResponse::json(200, r#"{"status":"ok"}"#)),
            "/readyz" => HttpReply::Now(self.readiness()),
            "/metrics" if self.metrics => {
                let cluster = self.cluster.get().map(|b| b.stats().snapshot());
                let body = crate::metrics::render(
                    server.stats(),
                    server.directory(),
                    &self.stats,
                    cluster.as_ref(),
                );
                let mut r = HttpResponse::json(200, body);
                r.content_type = crate::metrics::CONTENT_TYPE;
                HttpReply::Now(r)
            }
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
        http_limits: ringcast_codec::http::Limits {
            max_head: config.max_http_head,
            ..Default::default()
        },
        cors: CorsConfig {
            origins: config.cors_origins.clone(),
            credentials: config.cors_credentials,
        },
        max_json_depth: config.max_json_depth,
        max_connections: config.max_connections,
        max_connections_per_ip: config.max_connections_per_ip,
    }
}

/// Runs the gateway until SIGTERM/SIGINT, then drains (a second signal exits at once).
pub fn run(mut config: Config) -> std::io::Result<()> {
    init_logging(&config);
    let dev = config.dev_mode_material();
    let gateway = Gateway::new(&config).map_err(|e| std::io::Error::other(e.to_string()))?;
    let signals = block_signals();
    let cluster = gateway.cluster.clone();
    let gateway: Arc<Gateway> = Arc::new(gateway);
    let running = match &config.redis_url {
        None => crate::server::start(engine_config(&config), gateway)
            .map_err(|e| listen_error(&config, e))?,
        Some(url) => {
            let options = RedisOptions {
                key_prefix: config.redis_key_prefix.clone(),
                python_channel: config.redis_python_channel.clone(),
                request_timeout: Duration::from_millis(config.redis_request_timeout_ms),
                tls: RedisTls {
                    ca: config.redis_tls_ca.as_ref().map(|ca| ca.pem().to_vec()),
                },
                ..RedisOptions::default()
            };
            tracing::info!(url = %url.redacted(), "clustering over Redis");
            crate::server::start_clustered(engine_config(&config), gateway, |node| {
                let bridge = crate::cluster::start(url.expose(), options, node)?;
                let _ = cluster.set(bridge.clone());
                Ok(Some(bridge as Arc<dyn Publisher>))
            })
            .map_err(|e| listen_error(&config, e))?
        }
    };
    tracing::info!(addr = %running.local_addr, driver = running.driver, workers = config.workers, "ringcast ready");
    println!("ringcast listening on http://{}", running.local_addr);
    if let Some(dev) = dev {
        tracing::warn!(
            "DEV MODE: no JWT secret or public key configured; a random secret was generated. Not for production."
        );
        println!("dev token (sub \"dev\", 24h): {}", dev.token);
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
    Ok(())
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
