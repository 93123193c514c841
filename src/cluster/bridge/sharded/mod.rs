//! The bridge over Redis 7 sharded pub/sub, wire-compatible with `@socket.io/redis-adapter`
//! 8.3's `createShardedAdapter`: `SSUBSCRIBE <prefix>#/#` and `<prefix>#/#<uid>#`, in `dynamic`
//! mode also `<prefix>#/#<room>#` for each room with members on this node, and `SPUBLISH` of
//! socket.io-adapter's `ClusterAdapter` messages (JSON, msgpack when binary).
//!
//! The same thread, queue, health check and backoff as the classic bridge (`runner`); what
//! differs is the connection (RESP3: the redis crate's RESP2 pub/sub connection has no
//! `SSUBSCRIBE`, so messages arrive as pushes on an ordinary multiplexed connection), the
//! channels and the messages (`message`), and the room subscriptions (`rooms`).
//!
//! What a 200 means here: Redis answers `SPUBLISH` with the number of subscribers of that
//! channel on the channel's shard. On the main channel, which every node subscribes, that is
//! the node count, checked against `PUBSUB SHARDNUMSUB <prefix>#/#` exactly as the classic
//! bridge checks `PUBLISH` (`subscribers`). On a room's channel it is the number of nodes that
//! had subscribed that room when Redis received the message: no fewer can be expected, since
//! nodes without members do not subscribe, so the publish is acknowledged with that count (0
//! included: no other node has the room).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, PushInfo, PushKind};
use tokio::sync::{mpsc, oneshot};

use super::control::{Control, Inner, Query, Queued};
use super::dispatch::Dispatcher;
use super::health::Health;
use super::options::{ClusterError, SubscriptionMode};
use super::outage::Outage;
use super::probing::{self, Probe, wait_probe};
use super::runner::{COMMAND_DEADLINE, CONNECT_TIMEOUT, PUBLISH_BATCH, SWEEP_EVERY, backoff_delay};
use super::subscribers::Subscribers;
use super::{NSP, random_id};
use crate::cluster::stats::{ChannelKind, ClusterStats};
use crate::cluster::{Handed, LocalNode, PublishError};
use crate::engine::Room;
use message::{Action, Arrival, ShardedChannels};
use rooms::{Plan, RoomChanges, RoomChannels};

mod message;
mod rooms;

/// The body of the bridge thread in sharded mode.
pub(super) fn bridge_thread(
    inner: Arc<Inner>,
    client: redis::Client,
    node: Arc<dyn LocalNode>,
    control: mpsc::UnboundedReceiver<Control>,
    mode: SubscriptionMode,
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
    let dispatch = Dispatcher::new(inner.clone(), node);
    runtime.block_on(run(inner, client, dispatch, mode, control));
}

async fn run(
    inner: Arc<Inner>,
    client: redis::Client,
    dispatch: Dispatcher,
    mut mode: SubscriptionMode,
    mut control: mpsc::UnboundedReceiver<Control>,
) {
    let changes = Arc::new(RoomChanges::new(inner.clone()));
    if mode == SubscriptionMode::Dynamic && !dispatch.node.watch_rooms(changes.clone()) {
        tracing::warn!(
            "this engine does not report its rooms: sharded pub/sub runs in static mode (every broadcast reaches every node)"
        );
        mode = SubscriptionMode::Static;
    }
    let mut runner = Sharded {
        channels: ShardedChannels::new(&inner.options.key_prefix, NSP, &inner.uid),
        inner,
        dispatch,
        client,
        subscribers: Subscribers::default(),
        mode,
        changes,
        rooms: RoomChannels::default(),
    };
    runner.run(&mut control).await;
}

/// One live connection: the subscribing one (RESP3, its pushes in `pushes`) and the publishing
/// one.
struct Conn {
    sub: MultiplexedConnection,
    pushes: mpsc::UnboundedReceiver<PushInfo>,
    publisher: MultiplexedConnection,
}

struct Sharded {
    inner: Arc<Inner>,
    dispatch: Dispatcher,
    client: redis::Client,
    channels: ShardedChannels,
    /// The nodes a broadcast on the main channel must reach to be acknowledged.
    subscribers: Subscribers,
    mode: SubscriptionMode,
    changes: Arc<RoomChanges>,
    rooms: RoomChannels,
}

impl Sharded {
    async fn run(&mut self, control: &mut mpsc::UnboundedReceiver<Control>) {
        let mut attempt: u32 = 0;
        let mut outage = Outage::default();
        self.inner.stats.set_connected(false);
        while !self.stopping() {
            match tokio::time::timeout(CONNECT_TIMEOUT, self.connect()).await {
                Ok(Ok((mut conn, live))) => {
                    attempt = 0;
                    self.subscribers.connected(live, Instant::now());
                    self.inner.stats.set_connected(true);
                    let down_for_s = outage
                        .recovered(Instant::now())
                        .map_or(0, |r| r.down_for.as_secs());
                    tracing::info!(
                        uid = %self.inner.uid,
                        mode = ?self.mode,
                        rooms = self.rooms.len(),
                        down_for_s,
                        "redis bridge connected and subscribed (sharded pub/sub)"
                    );
                    let reason = self.session(&mut conn, control).await;
                    self.inner.stats.set_connected(false);
                    self.subscribers.lost();
                    if self.stopping() {
                        break;
                    }
                    ClusterStats::bump(&self.inner.stats.reconnects);
                    outage.lost(Instant::now());
                    tracing::warn!(reason, "redis connection lost; reconnecting");
                }
                Ok(Err(e)) => {
                    if let Some(r) = outage.failed(Instant::now()) {
                        tracing::warn!(
                            down_for_s = r.down_for.as_secs(),
                            attempts = r.attempts,
                            error = %e,
                            "redis unavailable; retrying"
                        );
                    }
                }
                Err(_) => {
                    if let Some(r) = outage.failed(Instant::now()) {
                        tracing::warn!(
                            down_for_s = r.down_for.as_secs(),
                            attempts = r.attempts,
                            "redis connection attempt timed out; retrying"
                        );
                    }
                }
            }
            self.drop_queued();
            let delay = backoff_delay(attempt);
            attempt = attempt.saturating_add(1);
            if self.offline(delay, control).await.is_err() {
                break;
            }
        }
        self.drop_queued();
    }

    /// Waits `delay` without a connection (see the classic runner's `offline`).
    async fn offline(
        &mut self,
        delay: std::time::Duration,
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
                _ = self.inner.wake.notified() => {
                    self.drop_queued();
                    // The next connection subscribes the rooms present then: the changes of an
                    // outage would only pile up.
                    self.changes.take();
                }
            }
        }
    }

    fn stopping(&self) -> bool {
        self.inner.stopping.load(Ordering::Acquire)
    }

    /// Connects and subscribes (each confirmed by Redis before this returns): the main and own
    /// channels, python-socketio's channel, and in `dynamic` mode every room present now; then
    /// counts the subscribed nodes.
    async fn connect(&mut self) -> redis::RedisResult<(Conn, usize)> {
        let (tx, pushes) = mpsc::unbounded_channel();
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(COMMAND_DEADLINE));
        let mut sub = self
            .client
            .get_multiplexed_async_connection_with_config(&config.clone().set_push_sender(tx))
            .await?;
        shard_command(&mut sub, "SSUBSCRIBE", &self.channels.main).await?;
        shard_command(&mut sub, "SSUBSCRIBE", &self.channels.own).await?;
        if !self.inner.options.python_channel.is_empty() {
            sub.subscribe(&self.inner.options.python_channel).await?;
        }
        let publisher = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        let mut conn = Conn {
            sub,
            pushes,
            publisher,
        };
        if self.mode == SubscriptionMode::Dynamic {
            // Changes from before the snapshot are in it; the ones after it are applied next.
            self.changes.take();
            let present = self.present_rooms().await;
            let plan = self.rooms.reset(present);
            self.carry_out(&mut conn, plan).await?;
        }
        let live = self.server_count(&mut conn).await?;
        Ok((conn, live))
    }

    /// The rooms with members on this node now.
    async fn present_rooms(&self) -> Vec<Room> {
        let (tx, rx) = oneshot::channel();
        self.dispatch.node.all_rooms(
            NSP,
            Box::new(move |rooms| {
                let _ = tx.send(rooms);
            }),
        );
        rx.await.unwrap_or_default()
    }

    async fn carry_out(&self, conn: &mut Conn, plan: Plan) -> redis::RedisResult<()> {
        for room in &plan.subscribe {
            let channel = self.channels.room(room.as_str());
            shard_command(&mut conn.sub, "SSUBSCRIBE", &channel).await?;
        }
        for room in &plan.unsubscribe {
            let channel = self.channels.room(room.as_str());
            shard_command(&mut conn.sub, "SUNSUBSCRIBE", &channel).await?;
        }
        Ok(())
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
        if let Err(reason) = self.woken(conn).await {
            return reason;
        }
        loop {
            let step = tokio::select! {
                push = conn.pushes.recv() => match push {
                    Some(push) => self.on_push(push, conn).await,
                    None => Err("subscription connection closed"),
                },
                _ = self.inner.wake.notified() => self.woken(conn).await,
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

    /// Rooms changed or broadcasts were queued: subscribe first, so that a room's channel is
    /// confirmed before this node publishes to it.
    async fn woken(&mut self, conn: &mut Conn) -> Result<(), &'static str> {
        if self.mode == SubscriptionMode::Dynamic {
            let plan = self.rooms.apply(self.changes.take());
            if let Err(e) = self.carry_out(conn, plan).await {
                tracing::warn!(error = %e, "redis SSUBSCRIBE/SUNSUBSCRIBE of a room failed");
                return Err("room subscription failed");
            }
        }
        self.flush(conn).await
    }

    /// A PING on the subscribing connection, then PING and `PUBSUB SHARDNUMSUB` on the
    /// publishing one.
    fn probe(&self, conn: &Conn) -> Probe {
        let mut sub = conn.sub.clone();
        let mut publisher = conn.publisher.clone();
        let main = self.channels.main.clone();
        Box::pin(async move {
            redis::cmd("PING")
                .query_async::<redis::Value>(&mut sub)
                .await?;
            let ((_, live),): ((String, usize),) = redis::pipe()
                .cmd("PING")
                .ignore()
                .cmd("PUBSUB")
                .arg("SHARDNUMSUB")
                .arg(main)
                .query_async(&mut publisher)
                .await?;
            Ok(live)
        })
    }

    /// `serverCount()`: `PUBSUB SHARDNUMSUB <prefix>#/#` (every node subscribes it).
    async fn server_count(&self, conn: &mut Conn) -> redis::RedisResult<usize> {
        let (_, count): (String, usize) = redis::cmd("PUBSUB")
            .arg("SHARDNUMSUB")
            .arg(&self.channels.main)
            .query_async(&mut conn.publisher)
            .await?;
        Ok(count)
    }

    /// SPUBLISHes every queued broadcast, pipelined in batches, and answers each: on the main
    /// channel acknowledged when every expected node received it, on a room's channel with the
    /// count Redis reports (see the module's documentation).
    async fn flush(&mut self, conn: &mut Conn) -> Result<(), &'static str> {
        loop {
            let mut pipe = redis::pipe();
            let mut batch: Vec<(Queued, bool)> = Vec::new();
            while batch.len() < PUBLISH_BATCH {
                let Some(queued) = self.inner.queue.pop() else {
                    break;
                };
                let payload = match message::broadcast(&self.inner.uid, NSP, &queued.op) {
                    Ok(p) => p,
                    Err(e) => {
                        ClusterStats::bump(&self.inner.stats.decode_errors);
                        tracing::debug!(?e, "broadcast not publishable");
                        queued.answer(&self.inner.stats, Err(PublishError::Failed));
                        continue;
                    }
                };
                let (channel, room) = self.channels.broadcast_channel(self.mode, &queued.op.rooms);
                let main = room.is_none();
                pipe.cmd("SPUBLISH").arg(channel).arg(payload);
                batch.push((queued, main));
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
                    for ((queued, main), n) in batch.into_iter().zip(receivers) {
                        let outcome = if main {
                            self.subscribers.check(n, now)
                        } else {
                            Ok(Handed { receivers: n })
                        };
                        queued.answer(&self.inner.stats, outcome);
                    }
                    self.inner.stats.published(ChannelKind::Broadcast, sent);
                    continue;
                }
                Ok(Ok(_)) => (PublishError::Failed, "SPUBLISH answers did not match"),
                Ok(Err(_)) => (PublishError::Failed, "SPUBLISH failed"),
                Err(_) => (PublishError::TimedOut, "SPUBLISH timed out"),
            };
            let batch = batch.into_iter().map(|(queued, _)| queued);
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

    async fn on_push(&mut self, push: PushInfo, conn: &mut Conn) -> Result<(), &'static str> {
        match push.kind {
            PushKind::Disconnection => return Err("subscription connection closed"),
            PushKind::SMessage | PushKind::Message => {}
            // Subscription confirmations (also answered to the command that asked).
            _ => return Ok(()),
        }
        let python = push.kind == PushKind::Message;
        let Some(msg) = redis::Msg::from_push_info(push) else {
            return Ok(());
        };
        let channel = msg.get_channel_name();
        let payload = msg.get_payload_bytes();
        if python {
            if channel == self.inner.options.python_channel {
                self.inner.stats.received(ChannelKind::Python);
                self.dispatch.on_python(payload);
            }
            return Ok(());
        }
        let kind = match self.channels.arrival(channel) {
            Arrival::Foreign => return Ok(()),
            Arrival::Response => ChannelKind::Response,
            Arrival::Message => ChannelKind::Broadcast,
        };
        self.inner.stats.received(kind);
        self.on_message(payload, conn).await
    }

    async fn on_message(&mut self, payload: &[u8], conn: &mut Conn) -> Result<(), &'static str> {
        let stats = &self.inner.stats;
        match message::action(&self.inner.uid, NSP, payload) {
            Action::Own => ClusterStats::bump(&stats.own),
            Action::Ignore(why) => tracing::trace!(why, "cluster message ignored"),
            Action::Malformed(e) => {
                ClusterStats::bump(&stats.decode_errors);
                tracing::debug!(error = ?e, "undecodable redis message dropped");
            }
            Action::Deliver(inbound) => self.dispatch.deliver(inbound),
            Action::DeliverAndCount {
                inbound,
                requester,
                request_id,
            } => {
                self.dispatch.deliver(inbound);
                if let Ok(payload) = message::no_clients(&self.inner.uid, NSP, &request_id) {
                    let channel = self.channels.response_to(&requester);
                    self.spublish(conn, channel, payload).await?;
                }
            }
            Action::Apply(command) => self.dispatch.node.apply(command),
            Action::Fetch {
                requester,
                request_id,
                selector,
            } => {
                let control = self.inner.control.clone();
                let uid = self.inner.uid.clone();
                let channel = self.channels.response_to(&requester);
                self.dispatch.node.fetch_sockets(
                    selector,
                    Box::new(move |mut sockets| {
                        super::dispatch::stamp_node(&mut sockets, &uid);
                        match message::fetch_response(&uid, NSP, &request_id, &sockets) {
                            Ok(payload) => {
                                let _ = control.send(Control::Publish { channel, payload });
                            }
                            Err(e) => tracing::debug!(error = ?e, "fetch response not encodable"),
                        }
                    }),
                );
            }
            Action::Gathered(response) => self.dispatch.on_gather_response(response),
        }
        Ok(())
    }

    async fn control_online(&mut self, c: Control, conn: &mut Conn) -> Result<(), &'static str> {
        match c {
            Control::ServerCount(tx) => {
                let count = self.server_count(conn).await;
                let _ = tx.send(count.map_err(|_| ClusterError::Unavailable));
            }
            Control::Gather(Query::Rooms, reply) => reply.fail(ClusterError::Unsupported),
            Control::Gather(Query::Sockets(selector), reply) => {
                let servers = match self.server_count(conn).await {
                    Ok(n) => n,
                    Err(_) => {
                        reply.fail(ClusterError::Unavailable);
                        return Err("PUBSUB SHARDNUMSUB failed");
                    }
                };
                let request_id = random_id(16);
                let request = message::fetch_request(&self.inner.uid, NSP, &request_id, &selector);
                self.dispatch
                    .begin_gather(request_id, Query::Sockets(selector), reply, servers);
                match request {
                    Ok(payload) if servers > 1 => {
                        let channel = self.channels.main.clone();
                        self.spublish(conn, channel, payload).await?;
                    }
                    Ok(_) => {}
                    Err(e) => tracing::debug!(error = ?e, "fetch request not encodable"),
                }
            }
            Control::Publish { channel, payload } => self.spublish(conn, channel, payload).await?,
            // The sharded adapter's ClusterAdapter messages would carry these; ringcast does not
            // encode them yet (the server API answers 501 in sharded mode).
            Control::Request { done, .. } => {
                let _ = done.send(Err(ClusterError::Unsupported));
            }
            other => self.dispatch.control_offline(other),
        }
        Ok(())
    }

    /// SPUBLISHes an answer or a request (not a broadcast: nothing waits on its count).
    async fn spublish(
        &self,
        conn: &mut Conn,
        channel: String,
        payload: Vec<u8>,
    ) -> Result<(), &'static str> {
        let kind = if channel == self.channels.main {
            ChannelKind::Request
        } else {
            ChannelKind::Response
        };
        match redis::cmd("SPUBLISH")
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
                Err("SPUBLISH failed")
            }
        }
    }
}

/// `SSUBSCRIBE` or `SUNSUBSCRIBE` of one channel, answered by its one confirmation (a RESP3
/// push the connection hands back as the reply).
async fn shard_command(
    conn: &mut MultiplexedConnection,
    command: &str,
    channel: &str,
) -> redis::RedisResult<()> {
    redis::cmd(command)
        .arg(channel)
        .query_async::<redis::Value>(conn)
        .await
        .map(drop)
}
