//! The gateway's [`Handler`] on the engine: the spec's rules (the sibling modules) applied to
//! sockets and HTTP requests, with authentication, rate limits and room policy.

use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use super::cluster_link::ClusterLink;
use super::log_budget::LogBudgets;
use super::{self as spec, ClientAction};
use crate::admin::AdminUi;
use crate::auth::{ApiKeys, Claims, Verifier};
use crate::config::{Config, RoomPolicy};
use crate::engine::{
    self, BroadcastOp, ConnectInfo, Handler, HttpReply, HttpRequest, HttpResponse, Room, Socket,
};

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
    cluster: ClusterLink,
    stats: Arc<crate::metrics::GatewayStats>,
    /// The rate-limited INFO/WARN lines for auth failures and API 401s.
    budgets: Arc<LogBudgets>,
    /// The token claim naming the user whose room `user:{id}` every socket joins.
    user_claim: String,
    /// The admin UI on `/admin`, when `admin_ui` is on.
    admin: Option<Arc<AdminUi>>,
    /// Socket events to the webhook (a no-op when none is configured).
    webhooks: crate::webhooks::Webhooks,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("max_rooms", &self.max_rooms)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// The handle start-up code uses to hand the handler the Redis bridge.
    pub(super) fn cluster_link(&self) -> ClusterLink {
        self.cluster.clone()
    }

    /// The counters `/metrics` renders, for the activity summary.
    pub(super) fn stats(&self) -> Arc<crate::metrics::GatewayStats> {
        self.stats.clone()
    }

    /// The rate-limited lines' budgets, whose intervals the summary reporter ends.
    pub(super) fn budgets(&self) -> Arc<LogBudgets> {
        self.budgets.clone()
    }

    /// Hands the admin UI (if on) this node, once the engine has started it.
    pub(super) fn set_node(&self, node: &Arc<dyn crate::engine::adapter::LocalNode>) {
        if let Some(admin) = &self.admin {
            admin.set_node(node.clone(), Arc::new(self.cluster.clone()));
        }
    }

    /// Starts sending this node's admin UI `server_stats` to the other nodes (clustered, with
    /// `admin_ui` on).
    pub(super) fn relay_admin_stats(
        &self,
        workers: Arc<[crate::engine::stats::WorkerStats]>,
    ) -> std::io::Result<()> {
        match &self.admin {
            Some(admin) => admin.relay_stats(workers),
            None => Ok(()),
        }
    }

    /// Builds the handler from a validated configuration (dev mode already resolved).
    pub fn new(config: &Config) -> Result<Gateway, crate::config::ConfigError> {
        let auth = config.auth();
        let stats: Arc<crate::metrics::GatewayStats> = Default::default();
        let webhooks = crate::webhooks::Webhooks::start(&config.webhook, stats.clone())
            .map_err(|e| crate::config::ConfigError::new("webhook_url", e.to_string()))?;
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
            cluster: ClusterLink::default(),
            expiry_grace_ms: config.token_expiry_grace_ms,
            stats,
            budgets: Default::default(),
            user_claim: config.user_claim.clone(),
            admin: AdminUi::new(&config.admin).map(Arc::new),
            webhooks,
        })
    }

    /// `/readyz`: 200 while this node can serve what it promises. Clustered, that includes
    /// Redis: 503 while the bridge is disconnected, not yet resubscribed, or failing its
    /// health check (a publish would be refused then); the body says which. Without an API key
    /// the publish API refuses every request, and `publish` says so (the node still serves its
    /// clients, so it stays ready).
    fn readiness(&self) -> HttpResponse {
        let (status, mut body) = match self.cluster.redis_connected() {
            Some(true) => (
                200,
                serde_json::json!({"status": "ready", "redis": "connected"}),
            ),
            Some(false) => (
                503,
                serde_json::json!({
                    "status": "unavailable",
                    "redis": "disconnected",
                    "detail": "redis unreachable, unresponsive or not yet resubscribed: publishes are refused (503); local clients are still served",
                }),
            ),
            None => (200, serde_json::json!({"status": "ready"})),
        };
        if self.api_keys.is_empty() {
            body["publish"] = serde_json::json!("disabled: no api_keys configured");
        }
        HttpResponse::json(status, body.to_string())
    }

    /// Whether the room policy lets this socket into `room`.
    fn may_enter(&self, socket: &Socket<'_>, room: &str) -> bool {
        match self.room_policy {
            RoomPolicy::Open => true,
            RoomPolicy::Claims => socket
                .data::<SocketState>()
                .and_then(|s| s.claims.rooms.as_deref())
                .is_some_and(|patterns| spec::room_granted(patterns, room)),
        }
    }

    /// The rooms counted against `max_rooms_per_socket`: all but the user room, which the
    /// client neither chose nor can leave (counting it would cost every client one room of the
    /// budget it had before user rooms existed).
    fn client_rooms(&self, socket: &Socket<'_>) -> usize {
        let user_room = socket
            .data::<SocketState>()
            .and_then(|s| s.user_room.as_ref());
        let in_user_room = user_room.is_some_and(|r| socket.in_room(r.as_str()));
        socket.rooms().len() - usize::from(in_user_room)
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
        let token = match spec::parse_refresh(args) {
            Ok(t) => t,
            Err(message) => return (spec::EV_ERROR, spec::reply_error(&message)),
        };
        let now_secs = epoch_ms() / 1000;
        let claims = match self.verifier.verify_token_at(&token, now_secs) {
            Ok(c) if self.cluster.revocations().refuses(&c, now_secs) => {
                self.stats.auth_failure(REVOKED);
                return (
                    spec::EV_ERROR,
                    spec::reply_error(&format!("auth:refresh: {REVOKED}")),
                );
            }
            Ok(c) => c,
            Err(e) => {
                self.stats.auth_failure(e.message());
                if self.budgets.auth_failures.admit() {
                    tracing::info!(
                        peer = %OrDash(socket.peer()),
                        session_id = %OrDash(socket.session_id()),
                        socket_id = %OrDash(socket.id()),
                        reason = e.message(),
                        "auth:refresh refused"
                    );
                }
                return (
                    spec::EV_ERROR,
                    spec::reply_error(&format!("auth:refresh: {}", e.message())),
                );
            }
        };
        let Some(state) = socket.data_mut::<SocketState>() else {
            return (
                spec::EV_ERROR,
                spec::reply_error("auth:refresh: not authenticated"),
            );
        };
        if state.claims.sub != claims.sub {
            return (
                spec::EV_ERROR,
                spec::reply_error("auth:refresh: the token names another subject"),
            );
        }
        // The socket stays in the user room it joined at connect, so the new token must name
        // the same user (with `user_claim` other than `sub`, the check above is not enough).
        match spec::user_room_of(&claims, &self.user_claim) {
            Ok(room) if room == state.user_room => {}
            Ok(_) => {
                return (
                    spec::EV_ERROR,
                    spec::reply_error(&format!(
                        "auth:refresh: the token names another user (claim \"{}\")",
                        self.user_claim
                    )),
                );
            }
            Err(e) => {
                return (
                    spec::EV_ERROR,
                    spec::reply_error(&format!("auth:refresh: {e}")),
                );
            }
        }
        // `null` for a token without `exp` (accepted only with `jwt_require_exp` off).
        let exp = claims
            .exp
            .map_or_else(|| "null".to_owned(), |e| e.to_string());
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
            if self.budgets.api_unauthorized.admit() {
                // Whether a key was sent, never the key.
                let reason = match req.head.authorization {
                    None => "no Authorization header",
                    Some(_) => "invalid API key",
                };
                tracing::warn!(peer = %req.peer, path = req.head.path, reason, "publish API request refused: 401");
            }
            let mut r = reply(401, r#"{"error":"missing or invalid API key"}"#.to_owned());
            r.headers.push(("WWW-Authenticate", "Bearer".to_owned()));
            return HttpReply::Now(r);
        }
        let publishes = match spec::parse_publish(req.body, SystemTime::now()) {
            Ok(p) => p,
            Err(e) => return HttpReply::Now(reply(400, e.to_json())),
        };
        let ops: Vec<BroadcastOp> = publishes
            .into_iter()
            .map(|p| BroadcastOp {
                nsp: Room::from("/"),
                rooms: p.rooms,
                except: p.except,
                frames: engine::encode_event("/", None, p.event, &p.data_json, &[]),
                except_rooms: p.except_rooms,
            })
            .collect();
        let stats = self.stats.clone();
        HttpReply::Broadcast {
            ops,
            respond: Box::new(move |outcome| {
                let (status, body) = spec::publish_answer(outcome);
                let response = HttpResponse::json(status, body);
                stats.publish_request(response.status);
                stats.published_events.fetch_add(
                    outcome.delivered.len() as u64,
                    std::sync::atomic::Ordering::Relaxed,
                );
                stats.cluster_publish_failures.fetch_add(
                    spec::unconfirmed_events(outcome) as u64,
                    std::sync::atomic::Ordering::Relaxed,
                );
                response
            }),
        }
    }
}

/// Why a revoked token is refused (`POST /api/v1/revoke`), at CONNECT and `auth:refresh`.
const REVOKED: &str = "token revoked";

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
    /// `user:{id}` from the token's user claim (`user_claim`), joined at connect; `None` when
    /// the token has no such claim.
    pub user_room: Option<Room>,
    tokens: f64,
    refilled: Instant,
    /// Events refused in a row; past the burst size the socket is disconnected.
    strikes: u32,
}

impl SocketState {
    fn new(claims: Claims, user_room: Option<Room>, rate: RateLimit) -> Self {
        SocketState {
            claims,
            user_room,
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

/// The token's `sub` claim of the socket, for webhook events.
fn subject<'s>(socket: &'s Socket<'_>) -> Option<&'s str> {
    socket
        .data::<SocketState>()
        .and_then(|s| s.claims.sub.as_deref())
}

/// A value for a log field, or `-` when there is none (never `Some(…)`/`None`).
struct OrDash<T>(Option<T>);

impl<T: std::fmt::Display> std::fmt::Display for OrDash<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(v) => v.fmt(f),
            None => f.write_str("-"),
        }
    }
}

fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Handler for Gateway {
    fn namespace_allowed(&self, nsp: &str) -> bool {
        nsp == "/" || (self.admin.is_some() && nsp == crate::admin::NAMESPACE)
    }

    fn authorize(&self, info: &ConnectInfo<'_>) -> Result<Box<dyn Any>, String> {
        if let Some(admin) = &self.admin
            && info.nsp == crate::admin::NAMESPACE
        {
            return admin.authorize(info);
        }
        match self.verifier.verify_connect(info.auth) {
            Ok(claims)
                if self
                    .cluster
                    .revocations()
                    .refuses(&claims, epoch_ms() / 1000) =>
            {
                self.stats.auth_failure(REVOKED);
                if self.budgets.auth_failures.admit() {
                    tracing::info!(peer = %info.peer, nsp = info.nsp, reason = REVOKED, "CONNECT refused: token revoked");
                }
                Err(REVOKED.to_owned())
            }
            Ok(claims) => match spec::user_room_of(&claims, &self.user_claim) {
                Ok(user_room) => Ok(Box::new(SocketState::new(claims, user_room, self.rate))),
                Err(e) => {
                    let message = e.to_string();
                    self.stats.auth_failure("invalid user claim");
                    if self.budgets.auth_failures.admit() {
                        tracing::info!(peer = %info.peer, nsp = info.nsp, reason = %message, "CONNECT refused: invalid user claim");
                    }
                    Err(message)
                }
            },
            Err(e) => {
                self.stats.auth_failure(e.message());
                if self.budgets.auth_failures.admit() {
                    tracing::info!(peer = %info.peer, nsp = info.nsp, reason = e.message(), "CONNECT refused: authentication failed");
                }
                Err(e.message().to_owned())
            }
        }
    }

    fn owner(&self, data: &dyn Any) -> Option<String> {
        data.downcast_ref::<SocketState>()
            .and_then(|s| s.claims.sub.clone())
    }

    fn token_id(&self, data: &dyn Any) -> Option<String> {
        let claims = &data.downcast_ref::<SocketState>()?.claims;
        claims.extra.get("jti")?.as_str().map(str::to_owned)
    }

    fn may_rejoin(&self, socket: &Socket<'_>, room: &str) -> bool {
        // A recovered session keeps its user room when the fresh token names the same user
        // (the owner check matched `sub`, which may not be the user claim); any other user room
        // stays left, whatever the policy: the grants never name user rooms.
        if room.starts_with(spec::USER_KIND) && room[spec::USER_KIND.len()..].starts_with(':') {
            return socket
                .data::<SocketState>()
                .and_then(|s| s.user_room.as_ref())
                .is_some_and(|r| r.as_str() == room);
        }
        // The fresh token's grants decide, as a `subscribe` would.
        self.may_enter(socket, room)
    }

    fn on_connect(&self, socket: &mut Socket<'_>, info: &ConnectInfo<'_>) {
        if let Some(admin) = &self.admin
            && AdminUi::is_admin(socket)
        {
            admin.on_connect(socket);
            return;
        }
        // Under the "claims" policy even the auto-joined dashboard must be granted.
        if self.may_enter(socket, spec::DASHBOARD) {
            socket.join(Room::from(spec::DASHBOARD));
        }
        // Every socket whose token names a user joins its user room, whatever the room policy
        // (a recovered one is already back in it: joining again is a no-op).
        if let Some(room) = socket
            .data::<SocketState>()
            .and_then(|s| s.user_room.clone())
        {
            socket.join(room);
        }
        self.schedule_expiry(socket);
        self.webhooks
            .connect(socket, subject(socket), info.recovered);
        // Both ids, as "session closed" logs them, so one connection can be followed.
        tracing::debug!(
            socket_id = %OrDash(socket.id()),
            session_id = %OrDash(socket.session_id()),
            peer = %OrDash(socket.peer()),
            recovered = info.recovered,
            sub = socket
                .data::<SocketState>()
                .and_then(|s| s.claims.sub.as_deref())
                .unwrap_or("-"),
            "socket connected"
        );
        if let Some(admin) = &self.admin {
            admin.client_connected(socket);
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
        if let Some(admin) = &self.admin
            && AdminUi::is_admin(socket)
        {
            admin.on_event(socket, event, args);
            return;
        }
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
                tracing::warn!(
                    socket_id = %OrDash(socket.id()),
                    session_id = %OrDash(socket.session_id()),
                    peer = %OrDash(socket.peer()),
                    "disconnecting a socket that keeps exceeding its event rate"
                );
                socket.emit(
                    spec::EV_ERROR,
                    &spec::reply_error("rate limit exceeded: disconnecting"),
                );
                socket.disconnect();
            } else {
                socket.emit(spec::EV_ERROR, &spec::reply_error("rate limit exceeded"));
            }
            return;
        }
        if event == spec::EV_AUTH_REFRESH {
            let (reply_event, reply) = self.refresh(socket, args);
            socket.emit(reply_event, &reply);
            if let Some(id) = ack {
                socket.ack(id, &reply);
            }
            return;
        }
        let (reply_event, reply) = match spec::handle_client_event(event, args, epoch_ms()) {
            ClientAction::Subscribe(room) if !self.may_enter(socket, room.as_str()) => {
                let message = format!("forbidden: the token does not grant room \"{room}\"");
                (spec::EV_ERROR, spec::reply_error(&message))
            }
            ClientAction::Subscribe(room) => {
                if !socket.in_room(room.as_str()) && self.client_rooms(socket) >= self.max_rooms {
                    let message = format!("subscribe: too many rooms (at most {})", self.max_rooms);
                    (spec::EV_ERROR, spec::reply_error(&message))
                } else {
                    if socket.join(room.clone()) {
                        if let Some(admin) = &self.admin {
                            admin.client_room(socket, room.as_str(), true);
                        }
                        self.webhooks
                            .subscribe(socket, subject(socket), room.as_str());
                    }
                    (spec::EV_SUBSCRIBED, spec::reply_subscribed(&room))
                }
            }
            ClientAction::Unsubscribe(room) => {
                if socket.leave(room.as_str()) {
                    if let Some(admin) = &self.admin {
                        admin.client_room(socket, room.as_str(), false);
                    }
                    self.webhooks
                        .unsubscribe(socket, subject(socket), room.as_str());
                }
                (spec::EV_UNSUBSCRIBED, spec::reply_unsubscribed(&room))
            }
            ClientAction::Heartbeat { reply_json } => (spec::EV_HEARTBEAT_ACK, reply_json),
            ClientAction::Error { message } => {
                self.stats
                    .client_errors
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                (spec::EV_ERROR, spec::reply_error(&message))
            }
        };
        socket.emit(reply_event, &reply);
        if let Some(id) = ack {
            socket.ack(id, &reply);
        }
    }

    fn on_server_join(&self, socket: &mut Socket<'_>, room: &str) {
        // What the client would have been told had it subscribed itself.
        socket.emit(
            spec::EV_SUBSCRIBED,
            &spec::reply_subscribed(&Room::from(room)),
        );
    }

    fn on_server_leave(&self, socket: &mut Socket<'_>, room: &str) {
        socket.emit(
            spec::EV_UNSUBSCRIBED,
            &spec::reply_unsubscribed(&Room::from(room)),
        );
    }

    fn on_deadline(&self, socket: &mut Socket<'_>) {
        if let Some(admin) = &self.admin
            && AdminUi::is_admin(socket)
        {
            admin.on_deadline(socket);
            return;
        }
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
        tracing::debug!(
            socket_id = %OrDash(socket.id()),
            session_id = %OrDash(socket.session_id()),
            "token expired: disconnecting"
        );
        socket.emit(spec::EV_ERROR, &spec::reply_error("token expired"));
        socket.disconnect();
    }

    fn on_disconnect(&self, socket: &mut Socket<'_>, reason: engine::DisconnectReason) {
        if let Some(admin) = &self.admin {
            if AdminUi::is_admin(socket) {
                admin.on_disconnect();
                return;
            }
            admin.client_disconnected(socket, reason);
        }
        self.webhooks.disconnect(socket, subject(socket), reason);
    }

    fn on_http(
        &self,
        req: &HttpRequest<'_>,
        server: &mut engine::Emitter<'_>,
    ) -> Option<HttpReply> {
        let reply = match req.head.path {
            "/api/v1/emit" => self.publish(req),
            path if super::server_api::handles(path) => super::server_api::serve(
                &super::server_api::Context {
                    api_keys: &self.api_keys,
                    cluster: &self.cluster,
                    stats: &self.stats,
                },
                req,
                server,
            ),
            "/healthz" => HttpReply::Now(HttpResponse::json(200, r#"{"status":"ok"}"#)),
            "/readyz" => HttpReply::Now(self.readiness()),
            "/metrics" if self.metrics => {
                #[cfg(feature = "cluster")]
                let cluster = self.cluster.stats();
                #[cfg(not(feature = "cluster"))]
                let cluster = None;
                let body = crate::metrics::render(
                    server.stats(),
                    server.directory(),
                    &self.stats,
                    cluster.as_ref(),
                    server.recovery_size(),
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
