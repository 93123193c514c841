//! The one-node recovery store: one event log and one session table per worker, each behind
//! a mutex that only its worker takes on the broadcast path.
//!
//! Why locks at all, on a thread-per-core server: a restore must read every producer's log (a
//! client comes back on whichever core SO_REUSEPORT picks) and take a session another core
//! saved. Asking the cores through the mesh would hold the CONNECT across an asynchronous
//! round trip (~20 µs per cross-core wake-up on these machines, and a reply state machine in
//! the worker); a per-producer mutex instead costs the producing core one uncontended
//! lock/unlock per broadcast (not per recipient), and it is contended only while a restore on
//! another core reads that log. Offsets come from one node-wide counter (one relaxed
//! `fetch_add` per broadcast), so merging the logs is a sort by offset; the low
//! [`SOURCE_BITS`] of an offset name its log (see [`super::trail`] for why the source matters).
//!
//! For the disconnect decision ([`super::decide::unqueued_start`]) each log also publishes its
//! last offset, and the last offset it sent to each core: per broadcast one release store per
//! target core and one for the head, read only when a socket disconnects.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use base64::Engine as _;
use ringcast_codec::sio::recovery::with_offset;
use ringcast_codec::ws::{OpCode, OutFrame};

use super::decide::{plan, unqueued_start};
use super::log::{EventLog, LoggedEvent};
use super::sessions::{SavedSession, SessionTable};
use super::{
    ClientOffset, Failure, LogSize, Pid, ReadAfter, RecoveryConfig, RecoveryStore, Replayed,
    Restored, SentTrail, Seq, Watermarks,
};
use crate::engine::sid::Sid;
use crate::engine::{BroadcastOp, Room};

/// Random bytes naming this process in its offsets: an offset from another process (a
/// restart) never matches, so it can only mean "unknown", never a wrong replay.
const EPOCH_BYTES: usize = 9;

/// Low bits of an offset that name its log: up to 255 logs (64 workers at most, as the
/// cores' bitmasks are `u64`, plus the link to other nodes).
pub const SOURCE_BITS: u32 = 8;
const SOURCE_MASK: u64 = (1 << SOURCE_BITS) - 1;

/// The one-node store (see the module docs).
pub struct LocalStore {
    config: RecoveryConfig,
    /// `<12 base64url chars>-`: every offset starts with it.
    epoch: String,
    start: Instant,
    /// The last offset given.
    next: AtomicU64,
    /// One per worker, then one for broadcasts from other nodes.
    logs: Box<[Mutex<EventLog>]>,
    /// One per worker: sessions saved by that worker (their pid names it).
    sessions: Box<[Mutex<SessionTable>]>,
    workers: usize,
    /// Per log, the last offset it logged.
    heads: Box<[AtomicU64]>,
    /// `sent[log * workers + core]`: the last offset `log` sent to `core`.
    sent: Box<[AtomicU64]>,
}

impl std::fmt::Debug for LocalStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalStore")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding it left plain data (at worst a log missing its last entry).
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl LocalStore {
    /// A store for `workers` workers. Fails only if the OS CSPRNG does.
    pub fn new(config: RecoveryConfig, workers: usize) -> std::io::Result<LocalStore> {
        let mut random = [0u8; EPOCH_BYTES];
        getrandom::fill(&mut random).map_err(|e| std::io::Error::other(e.to_string()))?;
        let mut epoch = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random);
        epoch.push('-');
        Ok(LocalStore {
            config,
            epoch,
            start: Instant::now(),
            next: AtomicU64::new(0),
            logs: (0..=workers)
                .map(|_| Mutex::new(EventLog::new(config.log)))
                .collect(),
            sessions: (0..workers)
                .map(|_| Mutex::new(SessionTable::new(config.max_disconnection_ms)))
                .collect(),
            workers,
            heads: (0..=workers).map(|_| AtomicU64::new(0)).collect(),
            sent: (0..(workers + 1) * workers)
                .map(|_| AtomicU64::new(0))
                .collect(),
        })
    }

    fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn offset_text(&self, seq: Seq) -> String {
        format!("{}{}", self.epoch, seq.0)
    }

    /// What a client's offset string names here.
    fn parse_offset(&self, offset: Option<&str>) -> ClientOffset {
        let Some(text) = offset else {
            return ClientOffset::None;
        };
        match text
            .strip_prefix(self.epoch.as_str())
            .and_then(|n| n.parse::<u64>().ok())
        {
            Some(n) => ClientOffset::Ours(Seq(n)),
            None => ClientOffset::Foreign,
        }
    }

    /// Per log, the highest offset it dropped, after applying the age bound now.
    fn evicted(&self) -> Vec<Seq> {
        let now = self.now();
        self.logs
            .iter()
            .map(|log| {
                let mut log = lock(log);
                log.trim(now);
                log.evicted()
            })
            .collect()
    }

    /// What `plan` sends to `saved`: the lost entries in queue order, then every log's
    /// entries after its start that reach `saved`, in offset order (`found`); and per log the
    /// last offset read. `None` if a log dropped one of them since the plan was made (a race with a
    /// producer's trim).
    fn gather(&self, saved: &SavedSession, plan: &super::decide::Plan) -> Option<ReadAfter> {
        let now = self.now();
        let mut resend = Vec::with_capacity(plan.resend.len());
        for &seq in &plan.resend {
            let log = lock(self.logs.get(self.source_of(seq))?);
            resend.push((seq, log.get(seq)?.frames.clone()));
        }
        let unqueued = self.read_after(&plan.after, now, |e| {
            e.reaches(&saved.nsp, saved.sid, &saved.rooms)
        })?;
        resend.extend(unqueued.found);
        Some(ReadAfter {
            found: resend,
            read: unqueued.read,
        })
    }

    /// Per log, the entries after its start in `after` that pass `wanted`. `None` if a log
    /// already dropped an entry after its start.
    fn read_after(
        &self,
        after: &[Seq],
        now: u64,
        wanted: impl Fn(&LoggedEvent) -> bool,
    ) -> Option<ReadAfter> {
        let mut found = Vec::new();
        let mut read = Vec::with_capacity(after.len());
        for (log, &from) in self.logs.iter().zip(after) {
            let mut log = lock(log);
            log.trim(now);
            if log.evicted() > from {
                return None;
            }
            let mut last = from;
            for e in log.after(from) {
                last = e.seq;
                if wanted(e) {
                    found.push((e.seq, e.frames.clone()));
                }
            }
            read.push(last);
        }
        found.sort_unstable_by_key(|(seq, _)| *seq);
        Some(ReadAfter { found, read })
    }
}

impl RecoveryStore for LocalStore {
    fn record(&self, log: usize, mut op: BroadcastOp, to: u64) -> BroadcastOp {
        let Some(first) = op.frames.first() else {
            return op;
        };
        if first.opcode() != OpCode::Text {
            return op;
        }
        // An offset is taken only for an eligible event; a gap in the offsets is harmless (the
        // decision compares positions, never counts).
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let seq = Seq((n << SOURCE_BITS) | (log as u64 & SOURCE_MASK));
        let Some(payload) = with_offset(&first.payload(), &self.offset_text(seq)) else {
            return op;
        };
        op.frames[0] = OutFrame::new(OpCode::Text, &payload);
        let event = LoggedEvent {
            seq,
            at_ms: self.now(),
            nsp: op.nsp.clone(),
            rooms: op.rooms.clone(),
            except: op.except.clone(),
            except_rooms: op.except_rooms.clone(),
            frames: op.frames.clone(),
        };
        let now = event.at_ms;
        // `sent` before `heads` (both release): a disconnect that reads this `heads` (acquire)
        // then sees this `sent`, so it never takes the event for handled.
        for core in (0..self.workers).filter(|c| to & (1 << c) != 0) {
            if let Some(sent) = self.sent.get(log * self.workers + core) {
                sent.store(seq.0, Ordering::Release);
            }
        }
        if let Some(entries) = self.logs.get(log) {
            lock(entries).push(event, now);
        }
        if let Some(head) = self.heads.get(log) {
            head.store(seq.0, Ordering::Release);
        }
        op
    }

    fn remote_log(&self) -> usize {
        self.logs.len() - 1
    }

    fn offset_of(&self, op: &BroadcastOp) -> Option<Seq> {
        let payload = op.frames.first()?.payload();
        // `…,"<epoch>-<n>"]`: the last string, read from the end (a few dozen bytes).
        let body = payload.strip_suffix(b"\"]")?;
        let open = body.iter().rposition(|&b| b == b'"')?;
        let text = std::str::from_utf8(&body[open + 1..]).ok()?;
        match self.parse_offset(Some(text)) {
            ClientOffset::Ours(seq) => Some(seq),
            _ => None,
        }
    }

    fn head(&self) -> Seq {
        // Above every offset given so far, whatever its log.
        Seq((self.next.load(Ordering::Relaxed) << SOURCE_BITS) | SOURCE_MASK)
    }

    fn sources(&self) -> usize {
        self.logs.len()
    }

    fn source_of(&self, seq: Seq) -> usize {
        (seq.0 & SOURCE_MASK) as usize
    }

    fn unqueued_after(&self, core: usize, seen: &Watermarks, connected_head: Seq) -> Vec<Seq> {
        let seen = seen.as_slice();
        (0..self.logs.len())
            .map(|log| {
                let head = self
                    .heads
                    .get(log)
                    .map_or(Seq::ZERO, |h| Seq(h.load(Ordering::Acquire)));
                let sent = self
                    .sent
                    .get(log * self.workers + core)
                    .map_or(Seq::ZERO, |s| Seq(s.load(Ordering::Acquire)));
                let seen = seen.get(log).copied().unwrap_or(Seq::ZERO);
                unqueued_start(seen, sent, head, connected_head)
            })
            .collect()
    }

    fn save(&self, session: SavedSession) {
        let now = self.now();
        if let Some(table) = self.sessions.get(session.pid.shard().index()) {
            lock(table).save(session, now);
        }
    }

    fn restore(
        &self,
        pid: Pid,
        offset: Option<&str>,
        owner: Option<&str>,
    ) -> Result<Restored, Failure> {
        let now = self.now();
        let table = self
            .sessions
            .get(pid.shard().index())
            .ok_or(Failure::Unknown)?;
        let saved = lock(table).take(pid, now)?;
        if saved.owner.as_deref() != owner {
            return Err(Failure::Auth);
        }
        let client = self.parse_offset(offset);
        let plan = plan(&saved, client, &self.evicted(), |seq| self.source_of(seq))?;
        let ReadAfter {
            found: missed,
            read,
        } = self.gather(&saved, &plan).ok_or(Failure::OffsetGone)?;
        let mut sent = SentTrail::default();
        for (seq, _) in &missed {
            sent.push(*seq);
        }
        Ok(Restored {
            sid: saved.sid,
            rooms: saved.rooms,
            missed: missed.into_iter().map(|(_, frames)| frames).collect(),
            sent,
            replayed: Replayed::new(read),
        })
    }

    fn catch_up(&self, nsp: &Room, sid: Sid, rooms: &[Room], after: &[Seq]) -> ReadAfter {
        // A log that dropped entries since the replay (a bound hit within the microseconds
        // between) gives what it still has: the socket is restored already.
        let now = self.now();
        match self.read_after(after, now, |e| e.reaches(nsp, sid, rooms)) {
            Some(found) => found,
            None => {
                let kept: Vec<Seq> = after
                    .iter()
                    .zip(&self.logs)
                    .map(|(&from, log)| from.max(lock(log).evicted()))
                    .collect();
                self.read_after(&kept, now, |e| e.reaches(nsp, sid, rooms))
                    .unwrap_or_default()
            }
        }
    }

    fn discard(&self, pid: Pid) {
        if let Some(table) = self.sessions.get(pid.shard().index()) {
            lock(table).discard(pid);
        }
    }

    fn size(&self) -> LogSize {
        let mut size = LogSize::default();
        for log in self.logs.iter() {
            let log = lock(log);
            size.entries += log.len();
            size.bytes += log.bytes();
        }
        for table in self.sessions.iter() {
            size.sessions += lock(table).len();
        }
        size
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::recovery::{LogBounds, LogMark};
    use crate::engine::sid::{ShardId, Sid};
    use crate::engine::{Room, encode_event};

    fn store(max_events: usize) -> LocalStore {
        let config = RecoveryConfig {
            max_disconnection_ms: 60_000,
            log: LogBounds {
                max_events,
                max_bytes: 1 << 20,
                max_age_ms: 60_000,
            },
        };
        LocalStore::new(config, 2).expect("csprng")
    }

    fn op(room: &str, n: u32) -> BroadcastOp {
        BroadcastOp {
            nsp: Room::from("/"),
            rooms: vec![Room::from(room)],
            except: Vec::new(),
            except_rooms: Vec::new(),
            frames: encode_event("/", None, "ev", &n.to_string(), &[]),
        }
    }

    /// Saves a session of core 1 that was queued `queued` (and saw nothing else).
    fn saved(store: &LocalStore, rooms: &[&str], queued: &[Seq]) -> (Pid, Sid) {
        let pid = Pid::generate(ShardId(1)).expect("csprng");
        let sid = Sid::generate(ShardId(1)).expect("csprng");
        let mut sent = SentTrail::default();
        let mut seen = Watermarks::new(store.sources());
        for &seq in queued {
            sent.push(seq);
            seen.observe(store.source_of(seq), seq);
        }
        store.save(SavedSession {
            pid,
            sid,
            nsp: Room::from("/"),
            rooms: rooms.iter().map(|r| Room::from(*r)).collect(),
            owner: Some("alice".into()),
            connected_head: Seq::ZERO,
            sent,
            unqueued_after: store.unqueued_after(1, &seen, Seq::ZERO),
            mark: LogMark::default(),
        });
        (pid, sid)
    }

    fn payloads(restored: &Restored) -> Vec<String> {
        restored
            .missed
            .iter()
            .map(|frames| String::from_utf8_lossy(&frames[0].payload()).into_owned())
            .collect()
    }

    #[test]
    fn offsets_are_in_the_frame_and_read_back() {
        let s = store(10);
        let a = s.record(0, op("r", 1), 0);
        let b = s.record(1, op("r", 2), 0);
        let (oa, ob) = (s.offset_of(&a), s.offset_of(&b));
        // The counter above the log's index: (1 << 8) | 0 and (2 << 8) | 1.
        assert_eq!((oa, ob), (Some(Seq(256)), Some(Seq(513))));
        assert_eq!((s.source_of(Seq(256)), s.source_of(Seq(513))), (0, 1));
        let text = String::from_utf8_lossy(&a.frames[0].payload()).into_owned();
        assert!(
            text.starts_with(r#"42["ev",1,""#) && text.ends_with(r#"-256"]"#),
            "{text}"
        );
        // Another process's store gives the same event another epoch: not ours.
        assert_eq!(store(10).offset_of(&a), None);
        assert_eq!(s.size().entries, 2);
    }

    #[test]
    fn a_restore_merges_every_log_by_offset_and_filters_by_room() {
        let s = store(10);
        let (pid, sid) = saved(&s, &["r"], &[]);
        for (log, room, n) in [(1, "r", 1), (0, "other", 2), (0, "r", 3), (2, "r", 4)] {
            s.record(log, op(room, n), 0);
        }
        let restored = s.restore(pid, None, Some("alice")).expect("restored");
        assert_eq!(restored.sid, sid);
        let got = payloads(&restored);
        assert_eq!(got.len(), 3, "{got:?}");
        for (p, n) in got.iter().zip([1, 3, 4]) {
            assert!(p.starts_with(&format!(r#"42["ev",{n},"#)), "{got:?}");
        }
        assert_eq!(restored.sent.last(), Some(Seq((4 << SOURCE_BITS) | 2)));
        assert_eq!(restored.sent.queued(), 3);
        assert_eq!(
            s.restore(pid, None, Some("alice")).err(),
            Some(Failure::Unknown)
        );
    }

    #[test]
    fn a_catch_up_reads_what_was_logged_after_the_replay() {
        let s = store(10);
        let (pid, sid) = saved(&s, &["r"], &[]);
        s.record(1, op("r", 1), 0);
        let restored = s.restore(pid, None, Some("alice")).expect("restored");
        assert_eq!(payloads(&restored).len(), 1);
        // Per log, how far the replay read: log 1 to its one entry, the others to their start.
        let first = Seq((1 << SOURCE_BITS) | 1);
        assert_eq!(restored.replayed.as_slice()[1], first);
        // Logged after the replay, before the socket is back in its rooms (its producer sent
        // it to no core for the socket): the catch-up finds it, and only what reaches it.
        s.record(0, op("r", 2), 0);
        s.record(2, op("other", 3), 0);
        let rooms = [Room::from("r")];
        let caught = s.catch_up(&Room::from("/"), sid, &rooms, restored.replayed.as_slice());
        let found: Vec<Seq> = caught.found.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(found, [Seq(2 << SOURCE_BITS)], "log 0, event 2");
        assert_eq!(caught.read[1], first, "nothing newer in log 1");
        assert_eq!(
            caught.read[2],
            Seq((3 << SOURCE_BITS) | 2),
            "read, not for it"
        );
        // From where the catch-up read, nothing more.
        let again = s.catch_up(&Room::from("/"), sid, &rooms, &caught.read);
        assert!(again.found.is_empty());
    }

    #[test]
    fn restore_failures() {
        let s = store(1);
        let (pid, _) = saved(&s, &["r"], &[]);
        assert_eq!(s.restore(pid, None, Some("bob")).err(), Some(Failure::Auth));
        // Sent event 1, the client holds nothing of it, and two more events pushed it out.
        let first = s.record(0, op("r", 1), 0b10);
        let first = s.offset_of(&first).expect("an offset");
        let (pid, _) = saved(&s, &["r"], &[first]);
        s.record(0, op("r", 2), 0);
        s.record(0, op("r", 3), 0);
        assert_eq!(
            s.restore(pid, None, Some("alice")).err(),
            Some(Failure::OffsetGone)
        );
        let (pid, _) = saved(&s, &["r"], &[]);
        s.discard(pid);
        assert_eq!(
            s.restore(pid, None, Some("alice")).err(),
            Some(Failure::Unknown)
        );
    }
}
