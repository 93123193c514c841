//! Saved sessions: what a socket that lost its transport needs to come back, kept for the
//! disconnection window. Plain data, time as a parameter.

use std::collections::{HashMap, VecDeque};

use super::{Failure, LogMark, Pid, SentTrail, Seq};
use crate::engine::Room;
use crate::engine::sid::Sid;

/// A socket's state at the moment its transport went away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedSession {
    pub pid: Pid,
    pub sid: Sid,
    pub nsp: Room,
    /// Its rooms (not its own id).
    pub rooms: Vec<Room>,
    /// Who the handler said the socket belonged to (the token's subject): a reconnect with a
    /// token of someone else does not get it.
    pub owner: Option<String>,
    /// The log's head when the socket connected (or was restored).
    pub connected_head: Seq,
    /// The offsets of the last broadcasts queued to it.
    pub sent: SentTrail,
    /// Per source log, the offset after which nothing was queued to it
    /// ([`super::decide::unqueued_start`] at the disconnect).
    pub unqueued_after: Vec<Seq>,
    /// The core's [`LogMark`] at the save (a store whose offsets are one ordered log; default
    /// otherwise).
    pub mark: LogMark,
}

/// Saved sessions by pid. An entry is restorable until `saved + window`; an expired entry is
/// kept one more window so that a late client is told "expired" rather than "unknown", then
/// dropped (so entries live at most 2 × window).
#[derive(Debug)]
pub struct SessionTable {
    window_ms: u64,
    entries: HashMap<Pid, (u64, SavedSession)>,
    /// (expiry, pid) in save order, for purging; expiry only grows (one window, one clock).
    order: VecDeque<(u64, Pid)>,
}

impl SessionTable {
    pub fn new(window_ms: u64) -> Self {
        SessionTable {
            window_ms,
            entries: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Saves `session` at `now`, purging entries a window past their expiry.
    pub fn save(&mut self, session: SavedSession, now: u64) {
        self.purge(now);
        let expires = now.saturating_add(self.window_ms);
        self.order.push_back((expires, session.pid));
        self.entries.insert(session.pid, (expires, session));
    }

    /// Takes the session `pid` names (single use): [`Failure::Unknown`] if none,
    /// [`Failure::Expired`] if its window has passed.
    pub fn take(&mut self, pid: Pid, now: u64) -> Result<SavedSession, Failure> {
        let (expires, session) = self.entries.remove(&pid).ok_or(Failure::Unknown)?;
        if now > expires {
            return Err(Failure::Expired);
        }
        Ok(session)
    }

    /// Forgets `pid` (a reconnect whose token was refused).
    pub fn discard(&mut self, pid: Pid) -> bool {
        self.entries.remove(&pid).is_some()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn purge(&mut self, now: u64) {
        while let Some(&(expires, pid)) = self.order.front() {
            if now <= expires.saturating_add(self.window_ms) {
                break;
            }
            self.order.pop_front();
            // Only if that entry is still the one saved then (a pid is never reused, but the
            // check costs nothing).
            if self.entries.get(&pid).is_some_and(|(e, _)| *e == expires) {
                self.entries.remove(&pid);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ShardId;

    fn saved() -> SavedSession {
        SavedSession {
            pid: Pid::generate(ShardId(0)).expect("csprng"),
            sid: Sid::generate(ShardId(0)).expect("csprng"),
            nsp: Room::from("/"),
            rooms: vec![Room::from("dashboard")],
            owner: Some("alice".into()),
            connected_head: Seq(0),
            sent: SentTrail::default(),
            unqueued_after: Vec::new(),
            mark: LogMark::default(),
        }
    }

    #[test]
    fn a_session_is_restorable_for_its_window_and_once() {
        // (taken at, expected)
        let cases = [
            (0, Ok(())),
            (1_000, Ok(())),
            (1_001, Err(Failure::Expired)),
            (2_000, Err(Failure::Expired)),
        ];
        for (at, want) in cases {
            let mut table = SessionTable::new(1_000);
            let s = saved();
            table.save(s.clone(), 0);
            assert_eq!(table.take(s.pid, at).map(|_| ()), want, "taken at {at}");
            assert_eq!(table.take(s.pid, at), Err(Failure::Unknown), "single use");
        }
    }

    #[test]
    fn unknown_and_discarded_pids() {
        let mut table = SessionTable::new(1_000);
        let s = saved();
        assert_eq!(table.take(s.pid, 0), Err(Failure::Unknown));
        table.save(s.clone(), 0);
        assert!(table.discard(s.pid));
        assert_eq!(table.take(s.pid, 0), Err(Failure::Unknown));
    }

    #[test]
    fn expired_entries_are_purged_one_window_later() {
        let mut table = SessionTable::new(1_000);
        let old = saved();
        table.save(old.clone(), 0);
        table.save(saved(), 1_500);
        assert_eq!(table.len(), 2, "expired at 1000, kept until 2000");
        table.save(saved(), 2_001);
        assert_eq!(table.len(), 2);
        assert_eq!(table.take(old.pid, 2_001), Err(Failure::Unknown));
    }
}
