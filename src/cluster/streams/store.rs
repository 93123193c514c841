//! The recovery store of streams mode: sessions are Redis keys, offsets are stream entry ids,
//! and the missed events are read back from the stream, as `@socket.io/redis-streams-adapter`
//! 0.3 does (`persistSession`, `restoreSession`).
//!
//! Why blocking calls on the worker thread: [`RecoveryStore`] is synchronous (a restore must
//! finish before the CONNECT reply, on the worker that holds the session), and a round trip to
//! a local Redis costs ~0.1 ms, against the ~20 µs cross-core hop and a reply state machine an
//! asynchronous restore would need. Each call is bounded by [`CALL_DEADLINE`], so a hung Redis
//! stalls a worker at most 1 s per call, and a failure means a fresh session, never a wrong one.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use redis::Value;

use super::StreamOptions;
use super::entries::range_entries;
use crate::cluster::cluster_message::{
    Body, ClusterMessage, SessionRecord, session_key, should_include_packet,
};
use crate::cluster::json::Json;
use crate::cluster::stream_id::StreamId;
use crate::engine::recovery::{
    Failure, LogSize, Pid, ReadAfter, RecoveryStore, Replayed, Restored, SavedSession, SentTrail,
    Seq,
};
use crate::engine::sid::Sid;
use crate::engine::{BroadcastOp, Room};

/// Every Redis call of the store is answered within this, or counts as failed: the bridge's
/// command deadline (a hung Redis is declared so after 1 s there too).
const CALL_DEADLINE: Duration = Duration::from_secs(1);
/// XRANGE calls of one replay at most: the adapter's `RESTORE_SESSION_MAX_XRANGE_CALLS` (100 ×
/// `read_count` = 10 000 entries by default, the stream's default length).
const MAX_XRANGE_CALLS: usize = 100;

/// The streams-mode [`RecoveryStore`] (see the module docs).
pub struct StreamsStore {
    client: redis::Client,
    opts: StreamOptions,
    /// One connection shared by the workers; `None` after a failure (reopened at the next call).
    conn: Mutex<Option<redis::Connection>>,
}

impl std::fmt::Debug for StreamsStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamsStore")
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

/// A stream id as a [`Seq`]: milliseconds in the high 44 bits (until the year 2527), the
/// sequence in the low 20 (saturating at 1 048 575 entries in one millisecond). Only ordering
/// is asked of it (a socket's [`SentTrail`]); the text form stays the real id.
pub fn seq_of(id: StreamId) -> Seq {
    Seq((id.ms << 20) | id.seq.min((1 << 20) - 1))
}

/// The stream id a [`seq_of`] value stands for (exact below 1 048 576 entries per millisecond,
/// else the id's millisecond capped: never after the real id).
fn id_of(seq: Seq) -> StreamId {
    StreamId {
        ms: seq.0 >> 20,
        seq: seq.0 & ((1 << 20) - 1),
    }
}

/// The keys of a saved session's `data` that say where its replay may start (ringcast's
/// sessions only: a Node server's have none). `since`: where the reader was when the socket
/// connected or was restored. `upto`: the core's [`crate::engine::recovery::LogMark`] at the
/// save (every entry up to it that the socket was to get had been queued to it). `last`: the
/// last offset queued to it, absent when none was.
const SINCE: &str = "since";
const UPTO: &str = "upto";
const LAST: &str = "last";

/// The key of a saved session's `data` that lists the offsets last queued to it, in queue
/// order (its [`SentTrail`], up to 8).
const SENT: &str = "sent";

/// What a ringcast session record says about where its replay may start (see [`SINCE`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Points {
    since: Option<StreamId>,
    upto: Option<StreamId>,
    last: Option<StreamId>,
    /// The offsets last queued to the socket, in queue order ([`SENT`]).
    sent: Vec<StreamId>,
}

impl Points {
    fn of(data: &Json) -> Points {
        let id = |key| match data.get(key) {
            Some(Json::Str(s)) => StreamId::parse(s).ok(),
            _ => None,
        };
        let sent = match data.get(SENT) {
            Some(Json::Array(ids)) => ids
                .iter()
                .filter_map(|v| match v {
                    Json::Str(s) => StreamId::parse(s).ok(),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        Points {
            since: id(SINCE),
            upto: id(UPTO),
            last: id(LAST),
            sent,
        }
    }

    /// What was queued to the socket after the client's offset `client` but has a smaller
    /// entry id, in queue order: a replay after `client` misses it. That happens when this
    /// node's XADD answered after another node's later entry was read (the two reach a core
    /// by different paths), and the connection died with the earlier one in flight.
    fn queued_after_but_older(&self, client: StreamId) -> Vec<StreamId> {
        let Some(at) = self.sent.iter().position(|&id| id == client) else {
            return Vec::new();
        };
        self.sent[at + 1..]
            .iter()
            .copied()
            .filter(|&id| id < client)
            .collect()
    }
}

/// The entry after which a restore replays, or why there is none.
///
/// 1. The client holds the last offset queued to the socket (or none was queued), and that is
///    not after the core's mark: it got everything queued, and every entry up to the mark it
///    was to get was queued. So what it missed is exactly what follows the mark, and the mark
///    only has to be in the stream; its own offset may have been trimmed (a socket quiet
///    while `MAXLEN` other entries went by). This start also skips entries queued to the
///    socket out of stream order (this node's XADD answered after another node's later entry
///    was read), which a replay after the client's offset would send twice.
/// 2. Otherwise after the client's offset, if the stream still has it (the adapter's rule).
/// 3. A client with no offset: after where the reader was at its connect.
fn replay_start(
    client: Option<StreamId>,
    points: &Points,
    exists: impl Fn(StreamId) -> bool,
) -> Result<StreamId, Failure> {
    let caught_up = points.last.is_none() || client == points.last;
    if let Some(upto) = points.upto
        && caught_up
        && client.is_none_or(|o| o <= upto)
        && exists(upto)
    {
        return Ok(upto);
    }
    match client {
        Some(o) if exists(o) => Ok(o),
        Some(_) => Err(Failure::OffsetGone),
        None => points
            .since
            .filter(|&s| exists(s))
            .ok_or(Failure::OffsetGone),
    }
}

impl StreamsStore {
    /// A store on `client` (the bridge's Redis). Connects lazily.
    pub fn new(client: redis::Client, opts: StreamOptions) -> StreamsStore {
        StreamsStore {
            client,
            opts,
            conn: Mutex::new(None),
        }
    }

    /// Runs `f` on the connection, opening it first if needed; a failure drops it. A kept
    /// connection that turns out dead (Redis restarted since the last call) is replaced and `f`
    /// tried once more; a timeout is not retried (a hung Redis would stall the worker twice).
    fn with_conn<T>(
        &self,
        f: impl Fn(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> redis::RedisResult<T> {
        let mut guard: MutexGuard<'_, Option<redis::Connection>> =
            self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let reused = guard.is_some();
        match self.call(&mut guard, &f) {
            Err(e)
                if reused && (e.is_connection_dropped() || e.is_io_error()) && !e.is_timeout() =>
            {
                self.call(&mut guard, &f)
            }
            other => other,
        }
    }

    fn call<T>(
        &self,
        slot: &mut Option<redis::Connection>,
        f: &impl Fn(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> redis::RedisResult<T> {
        if slot.is_none() {
            let conn = self.client.get_connection_with_timeout(CALL_DEADLINE)?;
            conn.set_read_timeout(Some(CALL_DEADLINE))?;
            conn.set_write_timeout(Some(CALL_DEADLINE))?;
            *slot = Some(conn);
        }
        let Some(conn) = slot.as_mut() else {
            return Err(redis::RedisError::from((
                redis::ErrorKind::Io,
                "no connection",
            )));
        };
        let result = f(conn);
        if result.is_err() {
            *slot = None;
        }
        result
    }

    fn key(&self, pid: &str) -> String {
        session_key(&self.opts.session_prefix, pid)
    }

    /// GETDEL of the session and XRANGE of the offset, in one MULTI (the adapter sends them
    /// together; MULTI makes the pair atomic, so two nodes never both restore one session).
    fn take(&self, pid: Pid, offset: &str) -> Result<(SessionRecord, bool), Failure> {
        let key = self.key(pid.as_str());
        let (raw, found): (Option<Vec<u8>>, Value) = self
            .with_conn(|c| {
                redis::pipe()
                    .atomic()
                    .cmd("GETDEL")
                    .arg(&key)
                    .cmd("XRANGE")
                    .arg(&self.opts.stream)
                    .arg(offset)
                    .arg(offset)
                    .query(c)
            })
            .map_err(restore_failed)?;
        Ok((saved_record(raw)?, !range_entries(&found).is_empty()))
    }

    /// GETDEL of the session alone (a client without an offset: the starting point is in the
    /// record).
    fn take_record(&self, pid: Pid) -> Result<SessionRecord, Failure> {
        let key = self.key(pid.as_str());
        let raw: Option<Vec<u8>> = self
            .with_conn(|c| redis::cmd("GETDEL").arg(&key).query(c))
            .map_err(restore_failed)?;
        saved_record(raw)
    }

    /// Whether entry `id` is still in the stream (`MAXLEN ~` trims the oldest first, so then
    /// every later one is too).
    fn exists(&self, id: StreamId) -> bool {
        let id = id.to_string();
        let found: redis::RedisResult<Value> = self.with_conn(|c| {
            redis::cmd("XRANGE")
                .arg(&self.opts.stream)
                .arg(&id)
                .arg(&id)
                .query(c)
        });
        found.is_ok_and(|v| !range_entries(&v).is_empty())
    }

    /// The broadcasts after `offset` that reach `rooms` in `nsp`, each with its entry id as
    /// last argument, in stream order (bounded COUNT loop, as the adapter's), and the last
    /// entry read (whether it reached them or not).
    fn replay(
        &self,
        nsp: &str,
        rooms: &[String],
        offset: StreamId,
    ) -> (Vec<(StreamId, BroadcastOp)>, Option<StreamId>) {
        let mut out = Vec::new();
        let mut read = None;
        let mut from = offset;
        for _ in 0..MAX_XRANGE_CALLS {
            let Some(start) = from.next() else {
                break;
            };
            let reply: redis::RedisResult<Value> = self.with_conn(|c| {
                redis::cmd("XRANGE")
                    .arg(&self.opts.stream)
                    .arg(start.to_string())
                    .arg("+")
                    .arg("COUNT")
                    .arg(self.opts.read_count)
                    .query(c)
            });
            let entries = match reply {
                Ok(v) => range_entries(&v),
                Err(e) => {
                    tracing::warn!(error = %e, "replaying missed events from redis failed");
                    break;
                }
            };
            let Some(last) = entries.last().map(|e| e.id) else {
                break;
            };
            read = Some(last);
            out.extend(
                entries
                    .iter()
                    .filter_map(|e| broadcast_of(e, nsp, Some(rooms))),
            );
            if entries.len() < self.opts.read_count {
                break;
            }
            from = last;
        }
        (out, read)
    }
}

impl StreamsStore {
    /// The broadcasts of `nsp` at exactly `ids`, in that order (those still in the stream),
    /// each with its id as last argument.
    fn entries(&self, nsp: &str, ids: &[StreamId]) -> Vec<(StreamId, BroadcastOp)> {
        let mut out = Vec::new();
        for id in ids {
            let id = id.to_string();
            let reply: redis::RedisResult<Value> = self.with_conn(|c| {
                redis::cmd("XRANGE")
                    .arg(&self.opts.stream)
                    .arg(&id)
                    .arg(&id)
                    .query(c)
            });
            if let Ok(v) = reply {
                out.extend(
                    range_entries(&v)
                        .iter()
                        .filter_map(|e| broadcast_of(e, nsp, None)),
                );
            }
        }
        out
    }
}

/// A stream entry as the broadcast a socket of `nsp` receives, with its id as offset: `None`
/// if it is not a broadcast of `nsp`, or (with `rooms`) reaches none of them.
fn broadcast_of(
    entry: &super::Entry,
    nsp: &str,
    rooms: Option<&[String]>,
) -> Option<(StreamId, BroadcastOp)> {
    let msg = ClusterMessage::decode_entry(&entry.pairs()).ok()?;
    let Body::Broadcast(b) = &msg.body else {
        return None;
    };
    if msg.nsp != nsp || rooms.is_some_and(|rooms| !should_include_packet(rooms, &b.opts)) {
        return None;
    }
    let inbound = b.to_inbound(Some(entry.id)).ok()?;
    Some((entry.id, inbound.op))
}

/// The last string argument of a broadcast's first frame (`…,"<offset>"]`), read from the end.
fn last_string(op: &BroadcastOp) -> Option<String> {
    let payload = op.frames.first()?.payload();
    let body = payload.strip_suffix(b"\"]")?;
    let open = body.iter().rposition(|&b| b == b'"')?;
    std::str::from_utf8(&body[open + 1..])
        .ok()
        .map(str::to_owned)
}

/// A restore's Redis call failed: a fresh session.
fn restore_failed(e: redis::RedisError) -> Failure {
    tracing::warn!(error = %e, "restoring a session from redis failed: a fresh one");
    Failure::Unknown
}

/// A GETDEL's value as the saved session (none, or not a session record: a fresh one).
fn saved_record(raw: Option<Vec<u8>>) -> Result<SessionRecord, Failure> {
    let raw = raw.ok_or(Failure::Unknown)?;
    SessionRecord::decode(&raw).map_err(|_| Failure::Unknown)
}

/// Whether a saved session's `data` lets the fresh token's subject (`owner`) take it back.
///
/// ringcast writes `data.owner` (the token's `sub`, or `null` without one) and then it must
/// match. A Node socket.io node writes its `socket.data` (`{}` unless the application set it;
/// socket.io's `_onclose`: `persistSession({sid, pid, rooms: [...this.rooms], data: this.data})`),
/// and the reference restores on the pid alone. Its sessions have no `owner` key: the pid (a
/// secret only that client was sent, 96 random bits: `base64id`'s 12 bytes of
/// `crypto.randomBytes`) and the token, verified again on this CONNECT, are what is checked. A
/// Node application that sets `socket.data.owner` to the token's `sub` gets the check too.
fn owner_matches(data: &Json, owner: Option<&str>) -> bool {
    match data.get("owner") {
        None => true,
        Some(Json::Str(saved)) => Some(saved.as_str()) == owner,
        Some(_) => owner.is_none(),
    }
}

impl RecoveryStore for StreamsStore {
    fn record(&self, _log: usize, op: BroadcastOp, _to: u64) -> BroadcastOp {
        // The bridge gave it its offset already (the entry id XADD or XREAD returned).
        op
    }

    fn remote_log(&self) -> usize {
        0
    }

    fn offset_of(&self, op: &BroadcastOp) -> Option<Seq> {
        StreamId::parse(&last_string(op)?).ok().map(seq_of)
    }

    fn head(&self) -> Seq {
        // Where this node's reader is: every entry XADDed after it has a larger id, so a socket
        // admitted now missed nothing before it that it could have got.
        Seq(self.opts.position.get())
    }

    fn save(&self, session: SavedSession) {
        let sid = session.sid.as_str().to_owned();
        // `socket.rooms` holds the socket's own id: Node nodes' `shouldIncludePacket` needs it
        // to replay broadcasts sent to that socket alone.
        let mut rooms = vec![sid.clone()];
        rooms.extend(session.rooms.iter().map(|r| r.as_str().to_owned()));
        let owner = session.owner.map_or(Json::Null, Json::Str);
        let mut data = vec![("owner".to_owned(), owner)];
        // Where the replay may start ([`replay_start`]). Zero (nothing read yet) says nothing
        // and is not saved.
        let points = [
            (SINCE, session.connected_head),
            (UPTO, session.mark.upto),
            (LAST, session.sent.last().unwrap_or(Seq::ZERO)),
        ];
        for (key, seq) in points {
            if seq > Seq::ZERO {
                data.push((key.to_owned(), Json::Str(id_of(seq).to_string())));
            }
        }
        if session.sent.queued() > 0 {
            let sent = session.sent.iter().map(|s| Json::Str(id_of(s).to_string()));
            data.push((SENT.to_owned(), Json::Array(sent.collect())));
        }
        let record = SessionRecord {
            sid,
            pid: session.pid.as_str().to_owned(),
            rooms,
            data: Json::Object(data),
        };
        let Ok(text) = record.encode() else {
            return;
        };
        let key = self.key(session.pid.as_str());
        let window = self.opts.max_disconnection_ms;
        let result: redis::RedisResult<()> = self.with_conn(|c| {
            redis::cmd("SET")
                .arg(&key)
                .arg(&text)
                .arg("PX")
                .arg(window)
                .query(c)
        });
        if let Err(e) = result {
            tracing::warn!(error = %e, "saving a session to redis failed: it cannot be recovered");
        }
    }

    fn restore(
        &self,
        pid: Pid,
        offset: Option<&str>,
        owner: Option<&str>,
    ) -> Result<Restored, Failure> {
        let client = match offset.map(StreamId::parse) {
            None => None,
            Some(Ok(id)) => Some(id),
            Some(Err(_)) => {
                // A string that is no stream id is not an offset of this cluster.
                self.discard(pid);
                return Err(Failure::OffsetGone);
            }
        };
        // Beyond the adapter, which needs an offset that is still in the stream: a client
        // without one (socket.io-client sends one only once a broadcast gave it one), and a
        // quiet one whose offset was trimmed, recover from the points ringcast saved
        // ([`replay_start`]). A Node server's session has none of them.
        let (record, client_exists) = match client {
            Some(o) => self.take(pid, &o.to_string())?,
            None => (self.take_record(pid)?, false),
        };
        if !owner_matches(&record.data, owner) {
            return Err(Failure::Auth);
        }
        let points = Points::of(&record.data);
        let offset = replay_start(client, &points, |id| {
            if Some(id) == client {
                client_exists
            } else {
                self.exists(id)
            }
        })?;
        let sid = Sid::parse(&record.sid).ok_or(Failure::Unknown)?;
        // After the client's offset: first what was queued after it with an older id (it was
        // queued to this socket, so no room filter), then the stream after it.
        let mut missed = match client.filter(|&o| o == offset) {
            Some(o) => self.entries("/", &points.queued_after_but_older(o)),
            None => Vec::new(),
        };
        let (after, read_upto) = self.replay("/", &record.rooms, offset);
        missed.extend(after);
        // One source (the stream, read in order by one bridge): replayed in stream order.
        let mut sent = SentTrail::default();
        for (id, _) in &missed {
            sent.push(seq_of(*id));
        }
        Ok(Restored {
            sid,
            rooms: record
                .rooms
                .iter()
                .filter(|r| **r != record.sid)
                .map(|r| Room::from(r.as_str()))
                .collect(),
            missed: missed.into_iter().map(|(_, op)| op.frames).collect(),
            sent,
            // One source; the catch-up after the rejoin reads on from here.
            replayed: Replayed::new(vec![seq_of(read_upto.unwrap_or(offset))]),
        })
    }

    fn discard(&self, pid: Pid) {
        let key = self.key(pid.as_str());
        let result: redis::RedisResult<()> =
            self.with_conn(|c| redis::cmd("DEL").arg(&key).query(c));
        if let Err(e) = result {
            tracing::debug!(error = %e, "dropping a saved session in redis failed");
        }
    }

    fn size(&self) -> LogSize {
        // The log is the stream and the sessions are keys: Redis holds them, not this node.
        LogSize::default()
    }

    fn keeps_live(&self) -> bool {
        true
    }

    fn catch_up(&self, nsp: &Room, sid: Sid, rooms: &[Room], after: &[Seq]) -> ReadAfter {
        let Some(&after) = after.first() else {
            return ReadAfter::default();
        };
        // `socket.rooms` holds the socket's own id (as in a saved record).
        let mut names = vec![sid.as_str().to_owned()];
        names.extend(rooms.iter().map(|r| r.as_str().to_owned()));
        let (missed, read) = self.replay(nsp.as_str(), &names, id_of(after));
        ReadAfter {
            found: missed
                .into_iter()
                .map(|(id, op)| (seq_of(id), op.frames))
                .collect(),
            read: vec![read.map_or(after, seq_of)],
        }
    }

    fn refresh_after_entries(&self) -> Option<u64> {
        // `MAXLEN ~ n` keeps at least the last n entries: a mark saved at most n/2 entries
        // ago survives until n/2 more are added.
        Some((self.opts.max_len as u64 / 2).max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_saved_owner_must_be_the_tokens_subject_when_there_is_one() {
        let data = |owner: Option<Json>| {
            Json::Object(owner.map(|o| ("owner".to_owned(), o)).into_iter().collect())
        };
        let alice = || Some(Json::Str("alice".to_owned()));
        // (case, saved data, the fresh token's sub, restored)
        let cases = [
            ("ringcast, same sub", data(alice()), Some("alice"), true),
            ("ringcast, other sub", data(alice()), Some("bob"), false),
            ("ringcast, token without sub", data(alice()), None, false),
            (
                "ringcast, saved without sub",
                data(Some(Json::Null)),
                None,
                true,
            ),
            (
                "ringcast, saved without sub, now one",
                data(Some(Json::Null)),
                Some("bob"),
                false,
            ),
            ("Node, socket.data = {}", data(None), Some("alice"), true),
            (
                "Node, socket.data = undefined",
                Json::Null,
                Some("alice"),
                true,
            ),
            (
                "Node, data.owner set, other sub",
                data(alice()),
                Some("bob"),
                false,
            ),
        ];
        for (case, saved, sub, want) in cases {
            assert_eq!(owner_matches(&saved, sub), want, "{case}");
        }
    }

    #[test]
    fn the_replay_starts_at_the_mark_when_the_client_got_everything_queued() {
        let id = |ms: u64| StreamId { ms, seq: 0 };
        let points = |since: Option<u64>, upto: Option<u64>, last: Option<u64>| Points {
            since: since.map(id),
            upto: upto.map(id),
            last: last.map(id),
            sent: Vec::new(),
        };
        let gone = Err(Failure::OffsetGone);
        // (case, client offset, saved points, entries still in the stream, start)
        let cases = [
            (
                "quiet: its offset trimmed, the mark kept",
                Some(3),
                points(Some(1), Some(40), Some(3)),
                vec![40],
                Ok(id(40)),
            ),
            (
                "caught up: the mark, not its offset (skips what was queued out of order)",
                Some(30),
                points(Some(1), Some(40), Some(30)),
                vec![30, 40],
                Ok(id(40)),
            ),
            (
                "behind what was queued: after its offset",
                Some(20),
                points(Some(1), Some(40), Some(30)),
                vec![20, 30, 40],
                Ok(id(20)),
            ),
            (
                "behind, its offset trimmed",
                Some(20),
                points(Some(1), Some(40), Some(30)),
                vec![30, 40],
                gone,
            ),
            (
                "queued after the mark: after its offset",
                Some(50),
                points(Some(1), Some(40), Some(50)),
                vec![40, 50],
                Ok(id(50)),
            ),
            (
                "the mark trimmed too",
                Some(3),
                points(Some(1), Some(40), Some(3)),
                vec![],
                gone,
            ),
            (
                "no offset, nothing queued: the mark",
                None,
                points(Some(1), Some(40), None),
                vec![1, 40],
                Ok(id(40)),
            ),
            (
                "no offset, something queued (lost in flight): since the connect",
                None,
                points(Some(1), Some(40), Some(30)),
                vec![1, 30, 40],
                Ok(id(1)),
            ),
            (
                "no offset, no mark yet: since the connect",
                None,
                points(Some(1), None, None),
                vec![1],
                Ok(id(1)),
            ),
            (
                "a Node server's session: its offset",
                Some(7),
                Points::default(),
                vec![7],
                Ok(id(7)),
            ),
            (
                "a Node server's session, no offset",
                None,
                Points::default(),
                vec![1],
                gone,
            ),
        ];
        for (case, client, saved, kept, want) in cases {
            let got = replay_start(client.map(id), &saved, |x| kept.iter().any(|&k| id(k) == x));
            assert_eq!(got, want, "{case}");
        }
    }

    #[test]
    fn what_was_queued_after_the_clients_offset_with_an_older_id_is_sent_too() {
        let id = |ms: u64| StreamId { ms, seq: 0 };
        let points = |sent: &[u64]| Points {
            sent: sent.iter().map(|&s| id(s)).collect(),
            ..Points::default()
        };
        // (case, queued in this order, client's offset, sent before the replay after it)
        let cases: [(&str, &[u64], u64, &[u64]); 4] = [
            (
                "stream order: the replay has it all",
                &[10, 20, 30],
                20,
                &[],
            ),
            ("an older entry queued last", &[10, 30, 20], 30, &[20]),
            ("older and newer after it", &[30, 10, 40, 20], 30, &[10, 20]),
            ("its offset not remembered", &[10, 30, 20], 5, &[]),
        ];
        for (case, sent, client, want) in cases {
            let got = points(sent).queued_after_but_older(id(client));
            let want: Vec<StreamId> = want.iter().map(|&w| id(w)).collect();
            assert_eq!(got, want, "{case}");
        }
    }

    #[test]
    fn id_of_gives_back_the_id_seq_of_took() {
        // (id, the id back): exact below 2^20 entries in a millisecond, capped above.
        let cases = [
            ((1, 0), (1, 0)),
            ((1_700_000_000_000, 7), (1_700_000_000_000, 7)),
            (
                (1_700_000_000_000, (1 << 20) - 1),
                (1_700_000_000_000, (1 << 20) - 1),
            ),
            (
                (1_700_000_000_000, 1 << 20),
                (1_700_000_000_000, (1 << 20) - 1),
            ),
        ];
        for ((ms, seq), (back_ms, back_seq)) in cases {
            let back = id_of(seq_of(StreamId { ms, seq }));
            assert_eq!((back.ms, back.seq), (back_ms, back_seq), "{ms}-{seq}");
        }
    }

    #[test]
    fn seq_of_keeps_the_stream_order() {
        let ids = [
            (0, 0),
            (0, 1),
            (1, 0),
            (1_700_000_000_000, 7),
            (1_700_000_000_001, 0),
        ];
        let seqs: Vec<Seq> = ids
            .iter()
            .map(|&(ms, seq)| seq_of(StreamId { ms, seq }))
            .collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    }
}
