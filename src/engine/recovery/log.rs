//! The event log: a bounded, ordered list of the broadcasts one producer (a worker, or the
//! node's link to other nodes) gave offsets to. Plain data, time as a parameter.

use std::collections::VecDeque;
use std::sync::Arc;

use ringcast_codec::ws::OutFrame;

use super::{LogBounds, Seq};
use crate::engine::Room;
use crate::engine::sid::Sid;

/// One logged broadcast: whom it was for and its frames (the offset already in them).
#[derive(Debug)]
pub struct LoggedEvent {
    pub seq: Seq,
    /// When it was logged (the store's clock, ms).
    pub at_ms: u64,
    pub nsp: Room,
    /// Target rooms; empty: the whole namespace.
    pub rooms: Vec<Room>,
    pub except: Vec<Sid>,
    /// Sockets in any of these rooms were not recipients.
    pub except_rooms: Vec<Room>,
    pub frames: Vec<OutFrame>,
}

impl LoggedEvent {
    /// Bytes this entry holds (its frames; the rest is a few words).
    pub fn bytes(&self) -> usize {
        self.frames.iter().map(|f| f.bytes().len()).sum()
    }

    /// Whether socket `sid` of `nsp`, in `rooms`, was a recipient (socket.io's rule: any target
    /// room, or the socket's own id, and not excepted).
    pub fn reaches(&self, nsp: &Room, sid: Sid, rooms: &[Room]) -> bool {
        if self.nsp != *nsp
            || self.except.contains(&sid)
            || self.except_rooms.iter().any(|r| rooms.contains(r))
        {
            return false;
        }
        self.rooms.is_empty()
            || self
                .rooms
                .iter()
                .any(|r| r.as_str() == sid.as_str() || rooms.contains(r))
    }
}

/// Entries in offset order, bounded by count, bytes and age.
#[derive(Debug)]
pub struct EventLog {
    bounds: LogBounds,
    entries: VecDeque<Arc<LoggedEvent>>,
    bytes: usize,
    /// The highest offset dropped by a bound ([`Seq::ZERO`]: none): a replay that needs
    /// anything after an offset below it cannot be complete.
    evicted: Seq,
}

impl EventLog {
    pub fn new(bounds: LogBounds) -> Self {
        EventLog {
            bounds,
            entries: VecDeque::new(),
            bytes: 0,
            evicted: Seq::ZERO,
        }
    }

    /// Appends `event` (its offset above every entry's) and applies the bounds at `now`.
    pub fn push(&mut self, event: LoggedEvent, now: u64) {
        debug_assert!(self.entries.back().is_none_or(|e| e.seq < event.seq));
        self.bytes += event.bytes();
        self.entries.push_back(Arc::new(event));
        self.trim(now);
    }

    /// Drops entries past the age bound at `now`, then the oldest while over the count or
    /// byte bound.
    pub fn trim(&mut self, now: u64) {
        while let Some(front) = self.entries.front() {
            let old = now.saturating_sub(front.at_ms) > self.bounds.max_age_ms;
            let over =
                self.entries.len() > self.bounds.max_events || self.bytes > self.bounds.max_bytes;
            if !old && !over {
                break;
            }
            if let Some(e) = self.entries.pop_front() {
                self.bytes -= e.bytes();
                self.evicted = self.evicted.max(e.seq);
            }
        }
    }

    /// Entries after `from`, oldest first.
    pub fn after(&self, from: Seq) -> impl Iterator<Item = &Arc<LoggedEvent>> {
        let start = self.entries.partition_point(|e| e.seq <= from);
        self.entries.range(start..)
    }

    /// The entry with offset `seq`, if the log still holds it.
    pub fn get(&self, seq: Seq) -> Option<&Arc<LoggedEvent>> {
        let at = self.entries.partition_point(|e| e.seq < seq);
        self.entries.get(at).filter(|e| e.seq == seq)
    }

    /// The highest offset a bound dropped.
    pub fn evicted(&self) -> Seq {
        self.evicted
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use ringcast_codec::ws::OpCode;

    use super::*;

    fn event(seq: u64, at_ms: u64, room: &str, len: usize) -> LoggedEvent {
        LoggedEvent {
            seq: Seq(seq),
            at_ms,
            nsp: Room::from("/"),
            rooms: vec![Room::from(room)],
            except: Vec::new(),
            except_rooms: Vec::new(),
            frames: vec![OutFrame::new(OpCode::Text, &vec![b'x'; len])],
        }
    }

    fn bounds(max_events: usize, max_bytes: usize, max_age_ms: u64) -> LogBounds {
        LogBounds {
            max_events,
            max_bytes,
            max_age_ms,
        }
    }

    fn seqs(log: &EventLog, from: u64) -> Vec<u64> {
        log.after(Seq(from)).map(|e| e.seq.0).collect()
    }

    #[test]
    fn bounds_drop_the_oldest_and_remember_the_highest_dropped() {
        // (bounds, pushes as (seq, at_ms), now at the end, kept seqs, evicted)
        struct Case {
            name: &'static str,
            bounds: LogBounds,
            pushes: &'static [(u64, u64)],
            kept: &'static [u64],
            evicted: u64,
        }
        // Each frame is 10 payload bytes + a 2-byte header = 12 bytes.
        let cases = [
            Case {
                name: "within every bound",
                bounds: bounds(10, 1000, 1000),
                pushes: &[(1, 0), (2, 1), (3, 2)],
                kept: &[1, 2, 3],
                evicted: 0,
            },
            Case {
                name: "count",
                bounds: bounds(2, 1000, 1000),
                pushes: &[(1, 0), (2, 1), (3, 2)],
                kept: &[2, 3],
                evicted: 1,
            },
            Case {
                name: "bytes",
                bounds: bounds(10, 24, 1000),
                pushes: &[(1, 0), (2, 1), (3, 2)],
                kept: &[2, 3],
                evicted: 1,
            },
            Case {
                name: "age",
                bounds: bounds(10, 1000, 100),
                pushes: &[(1, 0), (2, 50), (5, 150)],
                kept: &[2, 5],
                evicted: 1,
            },
            Case {
                name: "gaps in offsets (other producers)",
                bounds: bounds(1, 1000, 1000),
                pushes: &[(4, 0), (9, 1)],
                kept: &[9],
                evicted: 4,
            },
        ];
        for case in cases {
            let mut log = EventLog::new(case.bounds);
            for &(seq, at) in case.pushes {
                log.push(event(seq, at, "r", 10), at);
            }
            assert_eq!(seqs(&log, 0), case.kept, "{}", case.name);
            assert_eq!(log.evicted(), Seq(case.evicted), "{}", case.name);
            assert_eq!(log.bytes(), 12 * case.kept.len(), "{}", case.name);
        }
    }

    #[test]
    fn after_starts_strictly_after_the_offset() {
        let mut log = EventLog::new(bounds(10, 1000, 1000));
        for seq in [2, 4, 6] {
            log.push(event(seq, 0, "r", 1), 0);
        }
        for (from, want) in [
            (0, &[2, 4, 6][..]),
            (2, &[4, 6]),
            (3, &[4, 6]),
            (6, &[]),
            (9, &[]),
        ] {
            assert_eq!(seqs(&log, from), want, "after {from}");
        }
        for (seq, found) in [(2, true), (3, false), (6, true), (7, false)] {
            assert_eq!(log.get(Seq(seq)).is_some(), found, "get {seq}");
        }
    }

    #[test]
    fn age_applies_on_trim_without_a_push() {
        let mut log = EventLog::new(bounds(10, 1000, 100));
        log.push(event(1, 0, "r", 1), 0);
        log.trim(100);
        assert_eq!(log.len(), 1, "exactly at the bound: kept");
        log.trim(101);
        assert!(log.is_empty());
        assert_eq!(log.evicted(), Seq(1));
    }

    #[test]
    fn reaches_follows_rooms_own_id_and_except() {
        let me = Sid::generate(crate::engine::ShardId(0)).expect("csprng");
        let other = Sid::generate(crate::engine::ShardId(0)).expect("csprng");
        let mut e = event(1, 0, "task:1", 1);
        let mine = [Room::from("task:1")];
        assert!(e.reaches(&Room::from("/"), me, &mine));
        assert!(!e.reaches(&Room::from("/"), me, &[Room::from("task:2")]));
        assert!(!e.reaches(&Room::from("/admin"), me, &mine));
        e.rooms = vec![Room::from(me.as_str())];
        assert!(e.reaches(&Room::from("/"), me, &[]), "its own id");
        assert!(!e.reaches(&Room::from("/"), other, &[]));
        e.rooms.clear();
        assert!(e.reaches(&Room::from("/"), other, &[]), "whole namespace");
        e.except = vec![other];
        assert!(!e.reaches(&Room::from("/"), other, &[]), "excepted");
        e.except.clear();
        e.except_rooms = vec![Room::from("user:bob")];
        assert!(
            !e.reaches(&Room::from("/"), me, &[Room::from("user:bob")]),
            "in an excepted room"
        );
        assert!(e.reaches(&Room::from("/"), me, &mine), "not in it");
    }
}
