//! `GET /metrics`: Prometheus exposition (OpenMetrics text) of the engine's per-worker counters
//! and the gateway's own, rendered with `prometheus-client` at scrape time.
//!
//! The hot paths never touch a shared counter: workers count in their own cache line
//! ([`WorkerStats`]); the rarely-hit gateway counters (auth failures, publish requests) sit
//! behind a mutex because contention there is nil. A scrape sums the workers.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

use crate::engine::recovery::{Failure, LogSize};
use crate::engine::rooms::Directory;
use crate::engine::stats::{DISCONNECT_REASONS, PROTOCOL_CLOSES, WorkerStats, sum};

/// The Content-Type of the exposition.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Counters the gateway keeps (rare events).
#[derive(Debug, Default)]
pub struct GatewayStats {
    auth_failures: Mutex<BTreeMap<&'static str, u64>>,
    publish_requests: Mutex<BTreeMap<u16, u64>>,
    /// Events accepted by the publish API.
    pub published_events: AtomicU64,
    /// Events that could not be published to the other nodes.
    pub cluster_publish_failures: AtomicU64,
    /// Client events answered with `error`.
    pub client_errors: AtomicU64,
    /// Client events refused by the per-socket rate limit.
    pub rate_limited: AtomicU64,
    /// The webhook sender's counters (rendered only when webhooks are on).
    pub webhooks: WebhookStats,
    /// Server API requests by endpoint and HTTP status.
    server_api_requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
}

/// The webhooks' counters: workers count drops, the sender thread the rest.
#[derive(Debug, Default)]
pub struct WebhookStats {
    /// Webhooks are configured: the counters are rendered.
    pub enabled: std::sync::atomic::AtomicBool,
    /// Events the receiver accepted (2xx).
    pub sent: AtomicU64,
    /// Events dropped because the queue was full.
    pub dropped: AtomicU64,
    /// Events given up after the last attempt failed.
    pub failed: AtomicU64,
    /// Requests repeated after a failure.
    pub retries: AtomicU64,
}

impl GatewayStats {
    /// Counts a refused CONNECT by reason (the CONNECT_ERROR message).
    pub fn auth_failure(&self, reason: &'static str) {
        if let Ok(mut m) = self.auth_failures.lock() {
            *m.entry(reason).or_default() += 1;
        }
    }

    /// Counts a publish API request by its HTTP status.
    pub fn publish_request(&self, status: u16) {
        if let Ok(mut m) = self.publish_requests.lock() {
            *m.entry(status).or_default() += 1;
        }
    }

    /// Counts a server API request by endpoint (`rooms`, `users`, ...) and HTTP status.
    pub fn server_api_request(&self, endpoint: &'static str, status: u16) {
        if let Ok(mut m) = self.server_api_requests.lock() {
            *m.entry((endpoint, status)).or_default() += 1;
        }
    }

    /// Refused CONNECTs (and `auth:refresh` tokens) so far, by reason.
    pub fn auth_failures(&self) -> BTreeMap<&'static str, u64> {
        self.auth_failures
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default()
    }

    /// Publish API requests so far, by HTTP status.
    pub fn publish_requests(&self) -> BTreeMap<u16, u64> {
        self.publish_requests
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default()
    }
}

type Labels = Vec<(String, String)>;

fn counter(registry: &mut Registry, name: &str, help: &str, value: u64) {
    let c: Counter = Counter::default();
    c.inc_by(value);
    registry.register(name, help, c);
}

fn counter_bytes(registry: &mut Registry, name: &str, help: &str, value: u64) {
    let c: Counter = Counter::default();
    c.inc_by(value);
    registry.register_with_unit(name, help, Unit::Bytes, c);
}

fn gauge(registry: &mut Registry, name: &str, help: &str, value: u64) {
    let g: Gauge = Gauge::default();
    g.set(value as i64);
    registry.register(name, help, g);
}

/// The Redis bridge's counters at scrape time.
#[cfg(feature = "cluster")]
pub use crate::cluster::StatsSnapshot as ClusterSnapshot;

/// A build without the `cluster` feature never has a Redis bridge to report.
#[cfg(not(feature = "cluster"))]
#[derive(Debug)]
pub enum ClusterSnapshot {}

/// Renders every metric.
pub fn render(
    workers: &[WorkerStats],
    directory: &Directory,
    gateway: &GatewayStats,
    cluster: Option<&ClusterSnapshot>,
    recovery_size: Option<LogSize>,
) -> String {
    let mut r = Registry::with_prefix("ringcast");
    build_info(&mut r);
    sessions(&mut r, workers, directory);
    socket_lifecycle(&mut r, workers);
    refusals(&mut r, workers, gateway);
    traffic(&mut r, workers, gateway);
    closes(&mut r, workers);
    publish(&mut r, gateway);
    per_worker(&mut r, workers);
    server_api(&mut r, gateway);
    if let Some(size) = recovery_size {
        recovery(&mut r, workers, size);
    }
    if let Some(c) = cluster {
        redis(&mut r, c);
    }
    if gateway.webhooks.enabled.load(Ordering::Relaxed) {
        webhooks(&mut r, &gateway.webhooks);
    }

    let mut out = String::with_capacity(8 * 1024);
    if encode(&mut out, &r).is_err() {
        out.clear();
    }
    out
}

/// `build_info`: the version.
fn build_info(r: &mut Registry) {
    let info: Family<Labels, Gauge> = Family::default();
    info.get_or_create(&vec![("version".into(), env!("CARGO_PKG_VERSION").into())])
        .set(1);
    r.register("build_info", "Build information", info);
}

/// Sessions, sockets and rooms.
fn sessions(r: &mut Registry, workers: &[WorkerStats], directory: &Directory) {
    let conns: Family<Labels, Gauge> = Family::default();
    conns
        .get_or_create(&vec![("transport".into(), "polling".into())])
        .set(sum(workers, |w| w.sessions_polling.get()) as i64);
    conns
        .get_or_create(&vec![("transport".into(), "websocket".into())])
        .set(sum(workers, |w| w.sessions_websocket.get()) as i64);
    r.register("connections", "Open Engine.IO sessions by transport", conns);

    let handshakes: Family<Labels, Counter> = Family::default();
    handshakes
        .get_or_create(&vec![("transport".into(), "polling".into())])
        .inc_by(sum(workers, |w| w.handshakes_polling.get()));
    handshakes
        .get_or_create(&vec![("transport".into(), "websocket".into())])
        .inc_by(sum(workers, |w| w.handshakes_websocket.get()));
    r.register(
        "handshakes",
        "Engine.IO handshakes by transport",
        handshakes,
    );

    counter(
        r,
        "upgrades",
        "Polling sessions upgraded to WebSocket",
        sum(workers, |w| w.upgrades.get()),
    );
    gauge(
        r,
        "sockets",
        "Connected Socket.IO sockets",
        sum(workers, |w| w.sockets.get()),
    );
    gauge(
        r,
        "rooms",
        "Rooms with at least one member on this node",
        directory.room_count() as u64,
    );
    gauge(
        r,
        "room_memberships",
        "Room memberships of connected sockets",
        sum(workers, |w| w.memberships.get()),
    );
}

/// Sockets connected and disconnected (by reason).
fn socket_lifecycle(r: &mut Registry, workers: &[WorkerStats]) {
    counter(
        r,
        "connects",
        "Socket.IO sockets connected (CONNECTs accepted)",
        sum(workers, |w| w.connects.get()),
    );
    let disconnects: Family<Labels, Counter> = Family::default();
    for (i, reason) in DISCONNECT_REASONS.iter().enumerate() {
        disconnects
            .get_or_create(&vec![("reason".into(), reason.as_str().into())])
            .inc_by(sum(workers, |w| w.disconnects[i].get()));
    }
    r.register(
        "disconnects",
        "Socket.IO sockets disconnected, by reason",
        disconnects,
    );
}

/// CONNECTs refused.
fn refusals(r: &mut Registry, workers: &[WorkerStats], gateway: &GatewayStats) {
    let auth: Family<Labels, Counter> = Family::default();
    if let Ok(m) = gateway.auth_failures.lock() {
        for (reason, n) in m.iter() {
            auth.get_or_create(&vec![("reason".into(), (*reason).into())])
                .inc_by(*n);
        }
    }
    r.register("auth_failures", "CONNECTs refused, by reason", auth);
    counter(
        r,
        "connects_refused",
        "CONNECTs refused for any reason (auth, namespace)",
        sum(workers, |w| w.connects_refused.get()),
    );
}

/// Events, frames, bytes and broadcasts.
fn traffic(r: &mut Registry, workers: &[WorkerStats], gateway: &GatewayStats) {
    counter(
        r,
        "events_in",
        "Client events received",
        sum(workers, |w| w.events_in.get()),
    );
    counter(
        r,
        "client_errors",
        "Client events answered with an error event",
        gateway.client_errors.load(Ordering::Relaxed),
    );
    counter(
        r,
        "rate_limited",
        "Client events refused by the per-socket rate limit",
        gateway.rate_limited.load(Ordering::Relaxed),
    );
    counter(
        r,
        "frames_out",
        "Frames queued to clients (events, acks, control)",
        sum(workers, |w| w.frames_out.get()),
    );
    counter(
        r,
        "msgpack_broadcast_encodes",
        "Broadcasts encoded for msgpack-parser clients (at most one per broadcast)",
        sum(workers, |w| w.msgpack_broadcast_encodes.get()),
    );
    counter(
        r,
        "ws_writes",
        "Writes to WebSocket connections (frames_out / ws_writes: frames per send)",
        sum(workers, |w| w.ws_writes.get()),
    );
    counter(
        r,
        "ws_compressed_frames",
        "Frames written compressed (permessage-deflate), per recipient",
        sum(workers, |w| w.ws_compressed_frames.get()),
    );
    counter(
        r,
        "ws_compressions",
        "permessage-deflate compressor runs (a broadcast frame once, a per-socket frame per recipient)",
        sum(workers, |w| w.ws_compressions.get()),
    );
    counter_bytes(
        r,
        "ws_compression_saved",
        "Bytes permessage-deflate kept off the wire",
        sum(workers, |w| w.ws_compression_saved.get()),
    );
    counter(
        r,
        "ws_inflate_bombs",
        "Compressed client messages that inflated past max_payload (closed with 1009)",
        sum(workers, |w| w.ws_inflate_bombs.get()),
    );
    counter_bytes(
        r,
        "received",
        "Bytes read from client connections",
        sum(workers, |w| w.bytes_in.get()),
    );
    counter_bytes(
        r,
        "sent",
        "Bytes written to client connections",
        sum(workers, |w| w.bytes_out.get()),
    );
    counter(
        r,
        "broadcasts",
        "Broadcast fan-outs run (one per worker reached)",
        sum(workers, |w| w.broadcasts.get()),
    );
    counter(
        r,
        "broadcast_recipients",
        "Sockets reached by broadcasts",
        sum(workers, |w| w.broadcast_recipients.get()),
    );
}

/// Sessions closed or connections refused by the engine, and handoffs between cores.
fn closes(r: &mut Registry, workers: &[WorkerStats]) {
    counter(
        r,
        "slow_consumer_disconnects",
        "Sessions closed because their outbound queue passed its bound",
        sum(workers, |w| w.slow_consumer_disconnects.get()),
    );
    counter(
        r,
        "protocol_errors",
        "Sessions closed for protocol violations",
        sum(workers, |w| w.protocol_errors.get()),
    );
    let by_reason: Family<Labels, Counter> = Family::default();
    for (i, (_, reason)) in PROTOCOL_CLOSES.iter().enumerate() {
        by_reason
            .get_or_create(&vec![("reason".into(), (*reason).into())])
            .inc_by(sum(workers, |w| w.protocol_closes[i].get()));
    }
    r.register(
        "protocol_error_closes",
        "Sessions closed for protocol violations, by the reason their WebSocket close code gives (protocol_error 1002, invalid_payload 1007, policy_violation 1008)",
        by_reason,
    );
    counter(
        r,
        "handoffs",
        "Connections handed to the core owning their session",
        sum(workers, |w| w.handoffs.get()),
    );
    counter(
        r,
        "http_errors",
        "Requests answered with an HTTP error before routing (400, 408, 413, 431)",
        sum(workers, |w| w.http_errors.get()),
    );
    counter(
        r,
        "connections_refused",
        "Connections refused at accept (node or per-IP cap)",
        sum(workers, |w| w.connections_refused.get()),
    );
}

/// The publish API.
fn publish(r: &mut Registry, gateway: &GatewayStats) {
    let publish: Family<Labels, Counter> = Family::default();
    if let Ok(m) = gateway.publish_requests.lock() {
        for (status, n) in m.iter() {
            publish
                .get_or_create(&vec![("status".into(), status.to_string())])
                .inc_by(*n);
        }
    }
    r.register(
        "publish_requests",
        "Publish API requests by HTTP status",
        publish,
    );
    counter(
        r,
        "published_events",
        "Events accepted by the publish API",
        gateway.published_events.load(Ordering::Relaxed),
    );
    counter(
        r,
        "cluster_publish_failures",
        "Events that could not be published to the other nodes",
        gateway.cluster_publish_failures.load(Ordering::Relaxed),
    );
}

/// Webhooks (only when they are on).
fn webhooks(r: &mut Registry, w: &WebhookStats) {
    let rows = [
        (
            "webhook_events_sent",
            "Webhook events the receiver accepted",
            &w.sent,
        ),
        (
            "webhook_events_dropped",
            "Webhook events dropped: the queue was full",
            &w.dropped,
        ),
        (
            "webhook_events_failed",
            "Webhook events given up after the last attempt",
            &w.failed,
        ),
        (
            "webhook_retries",
            "Webhook requests repeated after a failure",
            &w.retries,
        ),
    ];
    for (name, help, value) in rows {
        counter(r, name, help, value.load(Ordering::Relaxed));
    }
}

/// The server API: `server_api_requests_total{endpoint,status}`.
fn server_api(r: &mut Registry, gateway: &GatewayStats) {
    let requests: Family<Labels, Counter> = Family::default();
    if let Ok(m) = gateway.server_api_requests.lock() {
        for ((endpoint, status), n) in m.iter() {
            requests
                .get_or_create(&vec![
                    ("endpoint".into(), (*endpoint).into()),
                    ("status".into(), status.to_string()),
                ])
                .inc_by(*n);
        }
    }
    r.register(
        "server_api_requests",
        "Server API requests by endpoint and HTTP status",
        requests,
    );
}

/// Connection state recovery (only when it is on).
fn recovery(r: &mut Registry, workers: &[WorkerStats], size: LogSize) {
    counter(
        r,
        "recovery_sessions_saved",
        "Sessions saved at a transport-caused disconnect",
        sum(workers, |w| w.recovery_saved.get()),
    );
    counter(
        r,
        "recovery_sessions_kept",
        "Live sessions saved to Redis (streams mode: at connect, join, leave and refresh)",
        sum(workers, |w| w.recovery_kept.get()),
    );
    counter(
        r,
        "recovery_sessions_restored",
        "Reconnects that got their session back",
        sum(workers, |w| w.recovery_restored.get()),
    );
    let failed: Family<Labels, Counter> = Family::default();
    for f in Failure::ALL {
        failed
            .get_or_create(&vec![("reason".into(), f.as_str().into())])
            .inc_by(sum(workers, |w| w.recovery_failed[f.index()].get()));
    }
    r.register(
        "recovery_sessions_failed",
        "Reconnects with a pid that got a fresh session, by reason",
        failed,
    );
    gauge(
        r,
        "recovery_log_entries",
        "Broadcasts held in the recovery logs",
        size.entries as u64,
    );
    let bytes: Gauge = Gauge::default();
    bytes.set(size.bytes as i64);
    r.register_with_unit(
        "recovery_log",
        "Bytes of broadcast frames held in the recovery logs",
        Unit::Bytes,
        bytes,
    );
    gauge(
        r,
        "recovery_saved_sessions",
        "Saved sessions held (restorable, or expired less than a window ago)",
        size.sessions as u64,
    );
}

/// Per-worker (per-core) families.
fn per_worker(r: &mut Registry, workers: &[WorkerStats]) {
    let per_core: Family<Labels, Gauge> = Family::default();
    let per_core_out: Family<Labels, Counter> = Family::default();
    for (i, w) in workers.iter().enumerate() {
        let label = vec![("worker".into(), i.to_string())];
        per_core
            .get_or_create(&label)
            .set((w.sessions_polling.get() + w.sessions_websocket.get()) as i64);
        per_core_out
            .get_or_create(&label)
            .inc_by(w.frames_out.get());
    }
    r.register(
        "worker_connections",
        "Open sessions per worker (core)",
        per_core,
    );
    r.register(
        "worker_frames_out",
        "Frames queued per worker (core)",
        per_core_out,
    );
}

/// A build without clustering has no Redis families.
#[cfg(not(feature = "cluster"))]
fn redis(_r: &mut Registry, c: &ClusterSnapshot) {
    match *c {}
}

/// The Redis bridge (clustered nodes only).
#[cfg(feature = "cluster")]
fn redis(r: &mut Registry, c: &ClusterSnapshot) {
    gauge(
        r,
        "redis_connected",
        "1 while the Redis bridge is subscribed and publishing",
        u64::from(c.connected),
    );
    let published: Family<Labels, Counter> = Family::default();
    let received: Family<Labels, Counter> = Family::default();
    for kind in crate::cluster::ChannelKind::ALL {
        let label = vec![("channel".into(), kind.name().into())];
        published
            .get_or_create(&label)
            .inc_by(c.published[kind as usize]);
        received
            .get_or_create(&label)
            .inc_by(c.received[kind as usize]);
    }
    r.register(
        "redis_published",
        "Messages published to Redis, by channel kind",
        published,
    );
    r.register(
        "redis_received",
        "Messages received from Redis, by channel kind",
        received,
    );
    counter(
        r,
        "redis_skipped",
        "Room messages skipped before decoding (no local member)",
        c.skipped,
    );
    counter(
        r,
        "redis_decode_errors",
        "Redis messages that did not decode",
        c.decode_errors,
    );
    counter(
        r,
        "redis_unsupported",
        "Redis messages ringcast cannot honour",
        c.unsupported,
    );
    counter(
        r,
        "redis_publish_failures",
        "Publishes refused or failed (Redis away)",
        c.publish_refused + c.publish_failed,
    );
    counter(
        r,
        "redis_reconnects",
        "Reconnections to Redis",
        c.reconnects,
    );
    counter(
        r,
        "redis_publish_acknowledged",
        "Broadcasts Redis acknowledged with every expected node subscribed",
        c.acknowledged,
    );
    let unconfirmed: Family<Labels, Counter> = Family::default();
    for (i, reason) in crate::cluster::UNCONFIRMED_REASONS.iter().enumerate() {
        unconfirmed
            .get_or_create(&vec![("reason".into(), reason.reason().into())])
            .inc_by(c.unconfirmed[i]);
    }
    r.register(
        "redis_publish_unconfirmed",
        "Broadcasts not acknowledged by Redis (answered 503 when an HTTP publish waits), by reason",
        unconfirmed,
    );
    counter(
        r,
        "redis_health_check_failures",
        "Health probes (PING every 250 ms, 1 s deadline) that failed or timed out",
        c.health_failures,
    );
    let unusable: Counter<f64, std::sync::atomic::AtomicU64> = Counter::default();
    unusable.inc_by(c.unusable_ms as f64 / 1e3);
    r.register_with_unit(
        "redis_unusable",
        "Time Redis was unusable (disconnected, unresponsive, or resubscribing) since start",
        Unit::Seconds,
        unusable,
    );
    counter(
        r,
        "redis_stream_entries_read",
        "Streams mode: stream entries read with XREAD (this node's own included)",
        c.stream_entries_read,
    );
    let lag: Gauge<f64, std::sync::atomic::AtomicU64> = Gauge::default();
    lag.set(c.stream_lag_ms as f64 / 1e3);
    r.register_with_unit(
        "redis_stream_lag",
        "Streams mode: age of the last stream entry read, when it was read",
        Unit::Seconds,
        lag,
    );
    let rtt: Gauge<f64, std::sync::atomic::AtomicU64> = Gauge::default();
    rtt.set(c.ping_rtt_us as f64 / 1e6);
    r.register_with_unit(
        "redis_rtt",
        "Last Redis PING round trip",
        Unit::Seconds,
        rtt,
    );
}
