//! Streams mode on the bridge thread: a local broadcast becomes one XADD entry (and is
//! delivered here once XADD gave its id, the offset), and a reader task on its own connection
//! XREADs every entry after the last one it read, delivering the other nodes' broadcasts.
//!
//! Catch-up: the reader keeps the id of the last entry it read across reconnections, so an
//! entry another node added while this one was away from Redis (up to the stream's `MAXLEN`)
//! is still delivered once Redis is back.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;

use super::control::Inner;
use crate::cluster::LocalNode;
use crate::cluster::adapter::Inbound;
use crate::cluster::cluster_message::{Body, Broadcast, ClusterMessage, MessageError};
use crate::cluster::stats::ClusterStats;
use crate::cluster::stream_id::StreamId;
use crate::cluster::streams::{Entry, StreamOptions, range_entries, read_entries};
use crate::engine::BroadcastOp;

/// Delay before the reader reconnects after a failure (the bridge's backoff cap: the reader
/// follows the same Redis, and the publish side reports the outage).
const READER_RETRY: Duration = Duration::from_millis(500);
/// Beyond the block time, how long an XREAD may take to answer before the connection counts
/// as hung.
const READ_SLACK: Duration = Duration::from_secs(1);

/// A stream entry's field/value pairs, as XADD takes them after `MAXLEN ~ <n> *`.
pub(super) struct Fields(pub(super) Vec<(&'static str, String)>);

/// A local broadcast as its entry's fields, and its adapter form.
pub(super) fn entry_of(uid: &str, op: &BroadcastOp) -> Result<(Fields, Broadcast), MessageError> {
    let broadcast = Broadcast::from_op(op, &op.except_rooms)?;
    let msg = ClusterMessage {
        uid: uid.to_owned(),
        nsp: op.nsp.as_str().to_owned(),
        body: Body::Broadcast(broadcast.clone()),
    };
    Ok((Fields(msg.encode_entry()?), broadcast))
}

/// `XADD <stream> MAXLEN ~ <n> * <fields…>`.
pub(super) fn xadd(opts: &StreamOptions, fields: &Fields) -> redis::Cmd {
    let mut cmd = redis::cmd("XADD");
    cmd.arg(&opts.stream)
        .arg("MAXLEN")
        .arg("~")
        .arg(opts.max_len)
        .arg("*");
    for (k, v) in &fields.0 {
        cmd.arg(*k).arg(v);
    }
    cmd
}

/// The broadcast for the engine, with its entry id as last argument when recovery keeps it.
pub(super) fn inbound_of(
    opts: &StreamOptions,
    broadcast: &Broadcast,
    id: StreamId,
) -> Result<Inbound, MessageError> {
    let offset = (opts.recovery && broadcast.keeps_offset()).then_some(id);
    broadcast.to_inbound(offset)
}

/// Hands a broadcast to the engine (the reader's copy of `Dispatcher::deliver`).
fn deliver(inner: &Inner, node: &dyn LocalNode, inbound: Inbound) {
    let stats = &inner.stats;
    if inbound.except_rooms.is_empty() {
        node.deliver(inbound.op);
        ClusterStats::bump(&stats.delivered);
    } else if node
        .deliver_except_rooms(inbound.op, inbound.except_rooms)
        .is_ok()
    {
        ClusterStats::bump(&stats.delivered);
    } else {
        ClusterStats::bump(&stats.unsupported);
    }
}

/// The reader task: XREAD from where it left off, forever (until the runtime stops).
pub(super) async fn read_loop(
    inner: Arc<Inner>,
    client: redis::Client,
    node: Arc<dyn LocalNode>,
    opts: StreamOptions,
) {
    let block = Duration::from_millis(opts.block_ms);
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(READ_SLACK))
        .set_response_timeout(Some(block + READ_SLACK));
    // `None` until the first connection tells where the stream ends.
    let mut last: Option<StreamId> = None;
    loop {
        if inner.stopping.load(Ordering::Acquire) {
            return;
        }
        let mut conn = match client
            .get_multiplexed_async_connection_with_config(&config)
            .await
        {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(error = %e, "stream reader cannot connect; retrying");
                tokio::time::sleep(READER_RETRY).await;
                continue;
            }
        };
        if let Err(e) = read_connected(&inner, &mut conn, &*node, &opts, &mut last).await {
            tracing::warn!(error = %e, last = ?last.map(|l| l.to_string()), "stream reader lost redis; catching up after reconnecting");
            tokio::time::sleep(READER_RETRY).await;
        }
    }
}

/// The reader's connection name (`CLIENT LIST`), so operators and tests can tell it apart.
const READER_NAME: &str = "ringcast-stream-reader";

/// Reads on one connection until it fails.
async fn read_connected(
    inner: &Inner,
    conn: &mut MultiplexedConnection,
    node: &dyn LocalNode,
    opts: &StreamOptions,
    last: &mut Option<StreamId>,
) -> redis::RedisResult<()> {
    redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg(READER_NAME)
        .query_async::<()>(conn)
        .await?;
    let from = match *last {
        Some(id) => id,
        None => {
            // The stream's last entry now (0-0 when empty): what this node starts after.
            let tail: redis::Value = redis::cmd("XREVRANGE")
                .arg(&opts.stream)
                .arg("+")
                .arg("-")
                .arg("COUNT")
                .arg(1)
                .query_async(conn)
                .await?;
            let id = range_entries(&tail).first().map_or(StreamId::MIN, |e| e.id);
            *last = Some(id);
            opts.position.advance(id, 0);
            inner.wake.notify_one();
            id
        }
    };
    let mut from = from;
    loop {
        if inner.stopping.load(Ordering::Acquire) {
            return Ok(());
        }
        let reply: redis::Value = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(opts.read_count)
            .arg("BLOCK")
            .arg(opts.block_ms)
            .arg("STREAMS")
            .arg(&opts.stream)
            .arg(from.to_string())
            .query_async(conn)
            .await?;
        let entries = read_entries(&reply);
        for entry in &entries {
            on_entry(inner, node, opts, entry);
            from = from.max(entry.id);
            *last = Some(from);
        }
        if !entries.is_empty() {
            opts.position.advance(from, entries.len() as u64);
            // The bridge sends the cores their mark once no XADD of its own is in flight.
            inner.wake.notify_one();
        }
    }
}

/// One entry read: another node's broadcast is delivered; this node's own (delivered after
/// its XADD), heartbeats and the other types are not.
fn on_entry(inner: &Inner, node: &dyn LocalNode, opts: &StreamOptions, entry: &Entry) {
    let stats = &inner.stats;
    let msg = match ClusterMessage::decode_entry(&entry.pairs()) {
        Ok(m) => m,
        Err(e) => {
            ClusterStats::bump(&stats.decode_errors);
            tracing::debug!(?e, id = %entry.id, "stream entry not understood");
            return;
        }
    };
    ClusterStats::bump(&stats.stream_entries_read);
    let lag = unix_ms().saturating_sub(entry.id.ms);
    stats.stream_lag_ms.store(lag, Ordering::Relaxed);
    if msg.uid == inner.uid {
        ClusterStats::bump(&stats.own);
        return;
    }
    let Body::Broadcast(b) = &msg.body else {
        return;
    };
    if b.request_id.is_some() || msg.nsp != super::NSP {
        return;
    }
    match inbound_of(opts, b, entry.id) {
        Ok(inbound) => deliver(inner, node, inbound),
        Err(e) => {
            ClusterStats::bump(&stats.decode_errors);
            tracing::debug!(?e, id = %entry.id, "stream broadcast not deliverable");
        }
    }
}

/// Milliseconds since the Unix epoch (0 if the clock is before it): a stream id's first half.
fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis().min(u128::from(u64::MAX)) as u64)
}
