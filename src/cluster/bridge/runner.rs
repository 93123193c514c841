//! The bridge thread: a current-thread tokio runtime that connects and subscribes, serves the
//! connection (messages, the workers' publish queue, control messages, PING, gather deadlines)
//! until it fails, then retries with backoff. The Redis IO lives here; what to do with each
//! message is the [`Dispatcher`]'s.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use redis::AsyncConnectionConfig;
use redis::aio::{MultiplexedConnection, PubSubSink, PubSubStream};
use tokio::sync::mpsc;

use super::control::{Control, Inner, Outgoing, Query, Queued};
use super::dispatch::Dispatcher;
use super::health::{Health, PONG_DEADLINE};
use super::inbound::{self, Route};
use super::options::ClusterError;
use super::outage::Outage;
use super::probing::{self, Probe, wait_probe};
use super::random_id;
use super::streams;
use super::subscribers::Subscribers;
use crate::cluster::adapter;
use crate::cluster::msgpack::Writer;
use crate::cluster::stats::{ChannelKind, ClusterStats};
use crate::cluster::stream_id::StreamId;
use crate::cluster::streams::StreamOptions;
use crate::cluster::{Handed, LocalNode, PublishError};
use crate::engine::BroadcastOp;
use crate::engine::recovery::LogMark;

/// Connecting (TCP + subscriptions) gives up after this long and counts as a failed attempt.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// First retry delay; doubled per failed attempt up to [`BACKOFF_CAP`].
const BACKOFF_BASE: Duration = Duration::from_millis(100);
const BACKOFF_CAP: Duration = Duration::from_secs(3);
/// Every command on the publishing connection (a pipelined batch of PUBLISHes included) must be
/// answered within this: the same bound as the health check's PONG deadline, so a hung Redis
/// fails the publishes in flight within 1 s and the connection is dropped.
pub(super) const COMMAND_DEADLINE: Duration = PONG_DEADLINE;
/// How often pending cluster queries are checked against their deadline (5 s by default, so a
/// quarter second of lateness at most).
pub(super) const SWEEP_EVERY: Duration = Duration::from_millis(250);
/// Broadcasts per pipelined round trip to Redis.
pub(super) const PUBLISH_BATCH: usize = 256;

/// How long to wait before connection attempt `attempt + 1` (`attempt` failures so far).
pub(super) fn backoff_delay(attempt: u32) -> Duration {
    BACKOFF_BASE
        .saturating_mul(1 << attempt.min(5))
        .min(BACKOFF_CAP)
}

/// One live connection: the subscription's two halves and the connection that publishes.
struct Conn {
    sink: PubSubSink,
    stream: PubSubStream,
    publisher: MultiplexedConnection,
}

struct Runner {
    inner: Arc<Inner>,
    dispatch: Dispatcher,
    client: redis::Client,
    /// The nodes each broadcast must reach to be acknowledged.
    subscribers: Subscribers,
    /// The last mark sent to the cores (streams mode with recovery).
    marked: LogMark,
}

/// The body of the bridge thread.
pub(super) fn bridge_thread(
    inner: Arc<Inner>,
    client: redis::Client,
    node: Arc<dyn LocalNode>,
    control: mpsc::UnboundedReceiver<Control>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the Redis bridge runtime; clustering is off");
            return;
        }
    };
    let mut bridge = Runner {
        dispatch: Dispatcher::new(inner.clone(), node),
        inner,
        client,
        subscribers: Subscribers::default(),
        marked: LogMark::default(),
    };
    if let Some(opts) = bridge.inner.options.streams.clone() {
        let reader = super::streams::read_loop(
            bridge.inner.clone(),
            bridge.client.clone(),
            bridge.dispatch.node.clone(),
            opts,
        );
        runtime.spawn(reader);
    }
    runtime.block_on(bridge.run(control));
}

impl Runner {
    async fn run(&mut self, mut control: mpsc::UnboundedReceiver<Control>) {
        let mut attempt: u32 = 0;
        // The failed attempts are logged spaced out (3 s, 6 s, 12 s … 5 min apart), each with
        // how long Redis has been down; the reconnection says how long the outage lasted.
        let mut outage = Outage::default();
        // Unusable until the first connection: counted in the unusable time.
        self.inner.stats.set_connected(false);
        loop {
            if self.stopping() {
                break;
            }
            match tokio::time::timeout(CONNECT_TIMEOUT, self.connect()).await {
                Ok(Ok((mut conn, live))) => {
                    attempt = 0;
                    self.subscribers.connected(live, Instant::now());
                    self.inner.stats.set_connected(true);
                    match outage.recovered(Instant::now()) {
                        Some(r) => tracing::info!(
                            uid = %self.inner.uid,
                            down_for_s = r.down_for.as_secs(),
                            attempts = r.attempts,
                            "redis is back: bridge connected and subscribed"
                        ),
                        None => {
                            tracing::info!(uid = %self.inner.uid, "redis bridge connected and subscribed")
                        }
                    }
                    let reason = self.session(&mut conn, &mut control).await;
                    self.inner.stats.set_connected(false);
                    self.subscribers.lost();
                    if self.stopping() {
                        break;
                    }
                    ClusterStats::bump(&self.inner.stats.reconnects);
                    outage.lost(Instant::now());
                    tracing::warn!(reason, "redis connection lost; reconnecting");
                }
                // Refused, unreachable, or a TLS handshake that failed (the error says which:
                // "invalid peer certificate: UnknownIssuer" for a CA that does not match).
                Ok(Err(e)) => {
                    if let Some(r) = outage.failed(Instant::now()) {
                        tracing::warn!(
                            down_for_s = r.down_for.as_secs(),
                            attempts = r.attempts,
                            error = %e,
                            "cannot connect to redis; retrying"
                        )
                    }
                }
                Err(_) => {
                    if let Some(r) = outage.failed(Instant::now()) {
                        tracing::warn!(
                            down_for_s = r.down_for.as_secs(),
                            attempts = r.attempts,
                            "redis connection attempt timed out; retrying"
                        )
                    }
                }
            }
            self.drop_queued();
            let delay = backoff_delay(attempt);
            attempt = attempt.saturating_add(1);
            if self.offline(delay, &mut control).await.is_err() {
                break;
            }
        }
        // Stopping: whoever still waits on a queued broadcast gets an answer now.
        self.drop_queued();
    }

    /// Waits `delay` without a connection: control messages are answered offline, queued
    /// broadcasts dropped, and gathers begun before the connection broke still end at their
    /// deadline. `Err` when the bridge must stop.
    async fn offline(
        &mut self,
        delay: Duration,
        control: &mut mpsc::UnboundedReceiver<Control>,
    ) -> Result<(), ()> {
        let until = tokio::time::Instant::now() + delay;
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(until) => return Ok(()),
                _ = sweep.tick() => self.dispatch.expire(Instant::now()),
                c = control.recv() => match c {
                    Some(Control::Stop) | None => return Err(()),
                    Some(c) => self.dispatch.control_offline(c),
                },
                _ = self.inner.wake.notified() => self.drop_queued(),
            }
        }
    }

    fn stopping(&self) -> bool {
        self.inner.stopping.load(Ordering::Acquire)
    }

    /// Connects and subscribes (each SUBSCRIBE/PSUBSCRIBE confirmed by Redis before this
    /// returns), then counts the subscribed nodes.
    async fn connect(&self) -> redis::RedisResult<(Conn, usize)> {
        let ch = &self.inner.channels;
        let (mut sink, stream) = self.client.get_async_pubsub().await?.split();
        sink.psubscribe(&ch.pattern).await?;
        let mut channels = vec![
            ch.request.as_str(),
            ch.response.as_str(),
            ch.own_response.as_str(),
        ];
        if !self.inner.options.python_channel.is_empty() {
            channels.push(&self.inner.options.python_channel);
        }
        if let Some((_, relay)) = &self.inner.relay {
            channels.push(relay);
        }
        sink.subscribe(&channels).await?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(COMMAND_DEADLINE));
        let publisher = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        let mut conn = Conn {
            sink,
            stream,
            publisher,
        };
        let live = self.server_count(&mut conn).await?;
        Ok((conn, live))
    }

    /// Serves one connection until it fails (returns why) or the bridge stops.
    async fn session(
        &mut self,
        conn: &mut Conn,
        control: &mut mpsc::UnboundedReceiver<Control>,
    ) -> &'static str {
        let mut health = Health::new(Instant::now());
        let mut probe: Option<Probe> = None;
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        // Broadcasts queued in the instant between `Connected` and now.
        if let Err(reason) = self.flush(conn).await {
            return reason;
        }
        loop {
            let step = tokio::select! {
                msg = conn.stream.next() => match msg {
                    Some(msg) => self.on_message(&msg, conn).await,
                    None => Err("subscription connection closed"),
                },
                _ = self.inner.wake.notified() => self.flush(conn).await,
                c = control.recv() => match c {
                    Some(Control::Stop) | None => return "stopping",
                    Some(c) => self.control_online(c, conn).await,
                },
                answer = wait_probe(&mut probe) => {
                    probe = None;
                    probing::on_probe_answer(&self.inner.stats, &mut self.subscribers, &mut health, answer)
                }
                _ = tokio::time::sleep_until(health.next_wakeup().into()) => {
                    probing::health_due(&self.inner.stats, &mut health, &mut probe, || self.probe(conn))
                }
                _ = sweep.tick() => {
                    self.dispatch.expire(Instant::now());
                    Ok(())
                }
            };
            if let Err(reason) = step {
                return reason;
            }
        }
    }

    /// A PING on the subscription connection, then PING and `PUBSUB NUMSUB` on the publishing
    /// one: both connections answer, and the live node count comes back.
    fn probe(&self, conn: &Conn) -> Probe {
        let mut sink = conn.sink.clone();
        let mut publisher = conn.publisher.clone();
        let request = self.inner.channels.request.clone();
        Box::pin(async move {
            sink.ping::<redis::Value>().await?;
            let ((_, live),): ((String, usize),) = redis::pipe()
                .cmd("PING")
                .ignore()
                .cmd("PUBSUB")
                .arg("NUMSUB")
                .arg(request)
                .query_async(&mut publisher)
                .await?;
            Ok(live)
        })
    }

    /// `op` as the adapter publishes it: its channel and its encoding. One that cannot be
    /// encoded is counted and logged (`None`).
    fn broadcast_message(&self, op: &BroadcastOp) -> Option<(String, Vec<u8>)> {
        let mut w = Writer::new();
        if let Err(e) = adapter::encode_broadcast(&self.inner.uid, op, &mut w) {
            ClusterStats::bump(&self.inner.stats.decode_errors);
            tracing::debug!(?e, "broadcast not publishable");
            return None;
        }
        let channel = self
            .inner
            .channels
            .broadcast_channel(op.nsp.as_str(), &op.rooms);
        Some((channel, w.buf))
    }

    /// Publishes every queued broadcast, pipelined in batches, and answers each with what
    /// Redis said: acknowledged (every expected node counted as a receiver) or why not.
    async fn flush(&mut self, conn: &mut Conn) -> Result<(), &'static str> {
        if let Some(opts) = self.inner.options.streams.clone() {
            return self.flush_streams(conn, &opts).await;
        }
        loop {
            let mut pipe = redis::pipe();
            let mut batch = Vec::new();
            while batch.len() < PUBLISH_BATCH {
                let Some(queued) = self.inner.queue.pop() else {
                    break;
                };
                let Some((channel, payload)) = self.broadcast_message(&queued.op) else {
                    queued.answer(&self.inner.stats, Err(PublishError::Failed));
                    continue;
                };
                pipe.cmd("PUBLISH").arg(channel).arg(payload);
                batch.push(queued);
            }
            if batch.is_empty() {
                return Ok(());
            }
            let sent = batch.len() as u64;
            let reply = tokio::time::timeout(
                COMMAND_DEADLINE,
                pipe.query_async::<Vec<usize>>(&mut conn.publisher),
            )
            .await;
            let (failure, reason) = match reply {
                Ok(Ok(receivers)) if receivers.len() == batch.len() => {
                    let now = Instant::now();
                    for (queued, n) in batch.into_iter().zip(receivers) {
                        let outcome = self.subscribers.check(n, now);
                        queued.answer(&self.inner.stats, outcome);
                    }
                    self.inner.stats.published(ChannelKind::Broadcast, sent);
                    continue;
                }
                Ok(Ok(_)) => (PublishError::Failed, "PUBLISH answers did not match"),
                Ok(Err(_)) => (PublishError::Failed, "PUBLISH failed"),
                Err(_) => (PublishError::TimedOut, "PUBLISH timed out"),
            };
            Queued::fail_batch(
                &self.inner.stats,
                batch,
                sent,
                failure,
                "publishing to redis",
                reason,
            );
            return Err(reason);
        }
    }

    /// Streams mode: XADDs every queued broadcast, pipelined in batches; each one XADD
    /// acknowledged is delivered to this node's sockets with its entry id as offset, then
    /// answered; a failed batch is answered 503 and nothing of it is delivered here.
    async fn flush_streams(
        &mut self,
        conn: &mut Conn,
        opts: &StreamOptions,
    ) -> Result<(), &'static str> {
        loop {
            let mut pipe = redis::pipe();
            let mut batch = Vec::new();
            while batch.len() < PUBLISH_BATCH {
                let Some(queued) = self.inner.queue.pop() else {
                    break;
                };
                match streams::entry_of(&self.inner.uid, &queued.op) {
                    Ok((fields, broadcast)) => {
                        pipe.add_command(streams::xadd(opts, &fields));
                        batch.push((queued, broadcast));
                    }
                    Err(e) => {
                        ClusterStats::bump(&self.inner.stats.decode_errors);
                        tracing::debug!(?e, "broadcast not publishable");
                        queued.answer(&self.inner.stats, Err(PublishError::Failed));
                    }
                }
            }
            if batch.is_empty() {
                self.send_mark(opts);
                return Ok(());
            }
            let sent = batch.len() as u64;
            let reply = tokio::time::timeout(
                COMMAND_DEADLINE,
                pipe.query_async::<Vec<String>>(&mut conn.publisher),
            )
            .await;
            let (failure, reason) = match reply {
                Ok(Ok(ids)) if ids.len() == batch.len() => {
                    for ((mut queued, broadcast), id) in batch.into_iter().zip(ids) {
                        let Ok(id) = StreamId::parse(&id) else {
                            queued.answer(&self.inner.stats, Err(PublishError::Failed));
                            continue;
                        };
                        let count = queued
                            .ack
                            .as_mut()
                            .and_then(crate::engine::adapter::PublishAck::take_count);
                        match streams::inbound_of(opts, &broadcast, id) {
                            Ok(inbound) => self.dispatch.deliver_counted(inbound, count),
                            Err(_) => ClusterStats::bump(&self.inner.stats.decode_errors),
                        }
                        // In the stream: every node reads it, one that was away catches up.
                        queued.answer(&self.inner.stats, Ok(Handed { receivers: 1 }));
                    }
                    self.inner.stats.published(ChannelKind::Broadcast, sent);
                    continue;
                }
                Ok(Ok(_)) => (PublishError::Failed, "XADD answers did not match"),
                Ok(Err(_)) => (PublishError::Failed, "XADD failed"),
                Err(_) => (PublishError::TimedOut, "XADD timed out"),
            };
            Queued::fail_batch(
                &self.inner.stats,
                batch.into_iter().map(|(queued, _)| queued),
                sent,
                failure,
                "appending to the redis stream",
                reason,
            );
            return Err(reason);
        }
    }

    /// Tells the cores where the stream reader is, now that no XADD of this node is in flight.
    ///
    /// Why here and not from the reader: an entry of this node's is delivered by the flush,
    /// once its XADD answers, and the reader may read it first. Every entry up to the reader's
    /// position was added by a flush that has ended (flushes run one at a time on this thread
    /// and none is running now) or by another node (delivered by the reader before it moved
    /// the position). So each core receives the mark after every broadcast it covers, on the
    /// same FIFO queue from this thread.
    fn send_mark(&mut self, opts: &StreamOptions) {
        if !opts.recovery {
            return;
        }
        let mark = opts.position.mark();
        if mark != self.marked {
            self.marked = mark;
            self.dispatch.node.mark(mark);
        }
    }

    /// Broadcasts accepted just before the connection failed: answered as not published.
    fn drop_queued(&mut self) {
        let mut lost = 0;
        while let Some(queued) = self.inner.queue.pop() {
            queued.answer(&self.inner.stats, Err(PublishError::Unavailable));
            lost += 1;
        }
        if lost > 0 {
            self.inner
                .stats
                .publish_failed
                .fetch_add(lost, Ordering::Relaxed);
            tracing::warn!(lost, "broadcasts not published: redis unavailable");
        }
    }

    async fn on_message(&mut self, msg: &redis::Msg, conn: &mut Conn) -> Result<(), &'static str> {
        let channel = msg.get_channel_name();
        let payload = msg.get_payload_bytes();
        let route = inbound::route(&self.inner, channel, msg.from_pattern());
        if let Some(kind) = route.kind() {
            self.inner.stats.received(kind);
        }
        match route {
            Route::Broadcast => self.dispatch.on_broadcast(channel, payload),
            Route::Request => {
                if let Some((channel, payload)) = self.dispatch.on_request(payload) {
                    self.publish(conn, ChannelKind::Response, channel, payload)
                        .await?;
                }
            }
            Route::Response => self.dispatch.on_response(payload),
            Route::Python => self.dispatch.on_python(payload),
            Route::Relay => self.dispatch.on_relay(payload),
            Route::Ignored => {}
        }
        Ok(())
    }

    async fn control_online(&mut self, c: Control, conn: &mut Conn) -> Result<(), &'static str> {
        match c {
            Control::ServerCount(tx) => {
                let count = self.server_count(conn).await;
                let _ = tx.send(count.map_err(|_| ClusterError::Unavailable));
            }
            Control::Gather(query, reply) => {
                let servers = match self.server_count(conn).await {
                    Ok(n) => n,
                    Err(_) => {
                        reply.fail(ClusterError::Unavailable);
                        return Err("PUBSUB NUMSUB failed");
                    }
                };
                let request_id = random_id(6);
                let request = match &query {
                    Query::Sockets(selector) => {
                        adapter::fetch_request(&self.inner.uid, &request_id, selector)
                    }
                    Query::Rooms => adapter::all_rooms_request(&self.inner.uid, &request_id),
                };
                self.dispatch
                    .begin_gather(request_id, query, reply, servers);
                // This node is one of the subscribers: `numSub <= 1` means nobody else to ask.
                if servers > 1 {
                    let channel = self.inner.channels.request.clone();
                    self.publish(conn, ChannelKind::Request, channel, request)
                        .await?;
                }
            }
            Control::Publish { channel, payload } => {
                self.publish(conn, ChannelKind::Response, channel, payload)
                    .await?
            }
            Control::ApplyLegacy { command, ack } => {
                self.dispatch.node.apply(command);
                if let Some((channel, payload)) = ack {
                    self.publish(conn, ChannelKind::Response, channel, payload)
                        .await?;
                }
            }
            Control::Request { request, done } => {
                let uid = &self.inner.uid;
                let ch = &self.inner.channels;
                let (kind, channel, payload) = match &request {
                    Outgoing::Command(command) => (
                        ChannelKind::Request,
                        ch.request.clone(),
                        adapter::command_request(uid, command),
                    ),
                    Outgoing::ServerSideEmit(data) => (
                        ChannelKind::Request,
                        ch.request.clone(),
                        adapter::server_side_emit_request(uid, data),
                    ),
                    Outgoing::Relay(op) => {
                        let Some((channel, payload)) = self.broadcast_message(op) else {
                            let _ = done.send(Err(ClusterError::Unsupported));
                            return Ok(());
                        };
                        (ChannelKind::Broadcast, channel, payload)
                    }
                };
                let sent = self.publish(conn, kind, channel, payload).await;
                let _ = done.send(sent.map_err(|_| ClusterError::Unavailable));
                sent?;
            }
            other => self.dispatch.control_offline(other),
        }
        Ok(())
    }

    async fn server_count(&self, conn: &mut Conn) -> redis::RedisResult<usize> {
        let (_, count): (String, usize) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(&self.inner.channels.request)
            .query_async(&mut conn.publisher)
            .await?;
        Ok(count)
    }

    async fn publish(
        &self,
        conn: &mut Conn,
        kind: ChannelKind,
        channel: String,
        payload: Vec<u8>,
    ) -> Result<(), &'static str> {
        match redis::cmd("PUBLISH")
            .arg(channel)
            .arg(payload)
            .query_async::<()>(&mut conn.publisher)
            .await
        {
            Ok(()) => {
                self.inner.stats.published(kind, 1);
                Ok(())
            }
            Err(e) => {
                ClusterStats::bump(&self.inner.stats.publish_failed);
                tracing::warn!(error = %e, "publishing to redis failed");
                Err("PUBLISH failed")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_100ms_up_to_3s() {
        let delays: Vec<u128> = (0..8).map(|a| backoff_delay(a).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1600, 3000, 3000, 3000]);
        assert_eq!(backoff_delay(u32::MAX), BACKOFF_CAP);
    }
}
