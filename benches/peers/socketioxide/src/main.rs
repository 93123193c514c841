//! The ringcast gateway's behaviour on socketioxide 0.18 + axum 0.8 + tokio: the Rust peer of
//! the benchmarks (benches/compare.sh).
//!
//! ```sh
//! cargo build --release --manifest-path benches/peers/socketioxide/Cargo.toml
//! benches/peers/socketioxide/target/release/ringcast-peer-socketioxide \
//!     --listen 127.0.0.1:PORT --jwt-secret S --api-key K [--path /ws/] [--workers N] \
//!     [--redis-url redis://127.0.0.1:6379/]
//! ```
//! Prints `ringcast listening on http://HOST:PORT` on stdout once it accepts. `--workers`
//! defaults to the CPUs the process may run on (1 under `taskset -c 0`). `--redis-url` makes
//! it one node of a cluster through `socketioxide-redis` (the `redis` crate driver): a publish
//! on any node reaches the room's sockets on every node. That adapter speaks its own protocol
//! (msgpack requests on `socket.io-request#/#`), not `@socket.io/redis-adapter`'s, so its nodes
//! cluster only with each other — the two-node benchmark runs two of this same peer.

use std::sync::OnceLock;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use jsonwebtoken::{DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Value, json};
use socketioxide::adapter::{Adapter, Emitter};
use socketioxide::extract::{AckSender, SocketRef, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;
use socketioxide::{SocketIo, SocketIoBuilder};
use socketioxide_redis::drivers::redis::redis_client;
use socketioxide_redis::{RedisAdapter, RedisAdapterCtr};
use subtle::ConstantTimeEq;

struct Config {
    listen: String,
    path: String,
    jwt_secret: String,
    api_key: String,
    workers: Option<usize>,
    redis_url: Option<String>,
}

static CONFIG: OnceLock<Config> = OnceLock::new();
/// Same tolerance as the Node and Python peers: 60 s on `exp`.
const LEEWAY_S: u64 = 60;
const MAX_BODY: usize = 1_000_000;

fn config() -> &'static Config {
    CONFIG.get().expect("configured before serving")
}

fn parse_args() -> Result<Config, String> {
    let mut c = Config {
        listen: "127.0.0.1:8000".into(),
        path: "/ws/".into(),
        jwt_secret: String::new(),
        api_key: String::new(),
        workers: None,
        redis_url: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => c.listen = val()?,
            "--path" => c.path = val()?,
            "--jwt-secret" => c.jwt_secret = val()?,
            "--api-key" => c.api_key = val()?,
            "--workers" => c.workers = Some(val()?.parse().map_err(|e| format!("--workers: {e}"))?),
            "--redis-url" => c.redis_url = Some(val()?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if c.jwt_secret.is_empty() || c.api_key.is_empty() {
        return Err("--jwt-secret and --api-key are required".into());
    }
    Ok(c)
}

fn main() {
    let cfg = match parse_args() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ringcast-peer-socketioxide: {e}");
            std::process::exit(2);
        }
    };
    let workers = cfg
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let _ = CONFIG.set(cfg);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(serve());
}

async fn serve() {
    let cfg = config();
    let builder = SocketIo::builder().req_path(cfg.path.trim_end_matches('/').to_owned());
    match &cfg.redis_url {
        None => {
            let (layer, io) = builder.build_layer();
            io.ns("/", on_connect.with(authenticate));
            listen(layer, io).await;
        }
        Some(url) => {
            let (layer, io) = redis_layer(builder, url).await.unwrap_or_else(|e| {
                eprintln!("ringcast-peer-socketioxide: redis {url}: {e}");
                std::process::exit(1);
            });
            listen(layer, io).await;
        }
    }
}

type RedisIo = SocketIo<RedisAdapter<Emitter>>;

/// The adapter's connection and the namespace's subscriptions are up before this returns, so
/// the node does not announce itself before it can hear the other nodes.
async fn redis_layer(
    builder: SocketIoBuilder,
    url: &str,
) -> Result<(SocketIoLayer<RedisAdapter<Emitter>>, RedisIo), String> {
    // The adapter's `redis` driver receives its subscriptions as RESP3 pushes on the connection
    // it also publishes on, so RESP3 it must be (Redis ≥ 6).
    let sep = if url.contains('?') { '&' } else { '?' };
    let client = redis_client::Client::open(format!("{url}{sep}protocol=resp3")).map_err(|e| e.to_string())?;
    let adapter = RedisAdapterCtr::new_with_redis(&client).await.map_err(|e| e.to_string())?;
    let (layer, io) = builder.with_adapter::<RedisAdapter<_>>(adapter).build_layer();
    io.ns("/", on_connect.with(authenticate)).await.map_err(|e| e.to_string())?;
    Ok((layer, io))
}

async fn listen<A: Adapter>(layer: SocketIoLayer<A>, io: SocketIo<A>) {
    let cfg = config();
    let app = Router::new()
        .route("/api/v1/emit", post(emit::<A>))
        .route("/healthz", get(|| async { "{\"ok\":true}" }))
        .with_state(io)
        .layer(layer);
    let listener = tokio::net::TcpListener::bind(&cfg.listen).await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    // axum leaves Nagle on; every message here is a small write somebody waits for.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    println!("ringcast listening on http://{addr}");
    axum::serve(listener, app).await.expect("serve");
}

#[derive(Debug)]
struct AuthError(&'static str);

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

#[derive(Deserialize)]
struct Claims {
    #[allow(dead_code)]
    sub: String,
}

/// CONNECT middleware: `{"token": <HS256 JWT>}` with `sub` and `exp`, else CONNECT_ERROR.
async fn authenticate(TryData(auth): TryData<Value>) -> Result<(), AuthError> {
    let token = auth.ok().and_then(|a| a.get("token").and_then(Value::as_str).map(str::to_owned));
    let token = token.filter(|t| !t.is_empty()).ok_or(AuthError("missing token"))?;
    let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.leeway = LEEWAY_S;
    validation.set_required_spec_claims(&["exp", "sub"]);
    let key = DecodingKey::from_secret(config().jwt_secret.as_bytes());
    jsonwebtoken::decode::<Claims>(&token, &key, &validation).map_err(|_| AuthError("invalid token"))?;
    Ok(())
}

fn room_of(data: &Value) -> Option<String> {
    let room = data.get("room")?.as_str()?;
    let ok = room == "dashboard"
        || ["agent:", "task:", "conversation:"].iter().any(|p| {
            room.strip_prefix(p).is_some_and(|id| {
                (1..=128).contains(&id.len())
                    && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            })
        });
    ok.then(|| room.to_owned())
}

async fn on_connect<A: Adapter>(socket: SocketRef<A>) {
    socket.join("dashboard");
    socket.on("subscribe", async |s: SocketRef<A>, TryData(data): TryData<Value>, ack: AckSender<A>| {
        match data.ok().as_ref().and_then(room_of) {
            Some(room) => {
                s.join(room.clone());
                let _ = s.emit("subscribed", &json!({ "room": room }));
                let _ = ack.send(&json!({ "room": room }));
            }
            None => fail(&s, ack, "invalid room"),
        }
    });
    socket.on("unsubscribe", async |s: SocketRef<A>, TryData(data): TryData<Value>, ack: AckSender<A>| {
        match data.ok().as_ref().and_then(room_of) {
            Some(room) => {
                s.leave(room.clone());
                let _ = s.emit("unsubscribed", &json!({ "room": room }));
                let _ = ack.send(&json!({ "room": room }));
            }
            None => fail(&s, ack, "invalid room"),
        }
    });
    socket.on("heartbeat", async |s: SocketRef<A>, TryData(data): TryData<Value>, ack: AckSender<A>| {
        let ts = data.ok().and_then(|d| d.get("timestamp").filter(|t| t.is_number()).cloned());
        match ts {
            Some(timestamp) => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64);
                let body = json!({ "timestamp": timestamp, "server_time": now });
                let _ = s.emit("heartbeat_ack", &body);
                let _ = ack.send(&body);
            }
            None => fail(&s, ack, "invalid heartbeat"),
        }
    });
}

fn fail<A: Adapter>(s: &SocketRef<A>, ack: AckSender<A>, message: &str) {
    let _ = s.emit("error", &json!({ "message": message }));
    let _ = ack.send(&json!({ "error": message }));
}

/// `POST /api/v1/emit`: `{"event", "rooms", "data"}` (or an array of them) → broadcast →
/// `{"delivered": N}`, N counting this node's sockets only (`sockets()` is local; with the
/// Redis adapter the emit also reaches every other node, whose sockets are not counted).
async fn emit<A: Adapter>(State(io): State<SocketIo<A>>, headers: HeaderMap, body: Bytes) -> JsonReply {
    let expected = format!("Bearer {}", config().api_key);
    let got = headers.get("authorization").map_or(&b""[..], |v| v.as_bytes());
    if !bool::from(got.ct_eq(expected.as_bytes())) {
        return reply(StatusCode::UNAUTHORIZED, json!({ "error": "unauthorized" }));
    }
    if body.len() > MAX_BODY {
        return reply(StatusCode::PAYLOAD_TOO_LARGE, json!({ "error": "body too large" }));
    }
    let Ok(parsed) = serde_json::from_slice::<Value>(&body) else {
        return reply(StatusCode::BAD_REQUEST, json!({ "error": "invalid JSON", "field": null }));
    };
    let items = match parsed {
        Value::Array(items) => items,
        one => vec![one],
    };
    let mut delivered = 0;
    for item in items {
        let (Some(event), Some(data)) = (item.get("event").and_then(Value::as_str), item.get("data")) else {
            return reply(StatusCode::BAD_REQUEST, json!({ "error": "missing event or data" }));
        };
        let rooms: Vec<String> = match item.get("rooms").and_then(Value::as_array) {
            Some(rs) => rs.iter().filter_map(|r| r.as_str().map(str::to_owned)).collect(),
            None => vec!["dashboard".to_owned()],
        };
        delivered += io.to(rooms.clone()).sockets().len();
        if io.to(rooms).emit(event, data).await.is_err() {
            // Some recipients' buffers were full: socketioxide drops for those (reported by
            // the generator as deliveries expected but not received).
        }
    }
    reply(StatusCode::OK, json!({ "delivered": delivered }))
}

type JsonReply = (StatusCode, [(header::HeaderName, &'static str); 1], String);

fn reply(status: StatusCode, body: Value) -> JsonReply {
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string())
}
