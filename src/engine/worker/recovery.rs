//! Connection state recovery on a worker: what an accepted CONNECT becomes (a fresh socket or
//! a restored one), and the session saved when a socket's transport goes away.

use std::any::Any;

use ringcast_codec::ws::OutFrame;
use smallvec::SmallVec;

use super::Worker;
use crate::engine::recovery::{Pid, Replayed, SavedSession, SentTrail, Seq, connect_fields};
use crate::engine::sid::Sid;
use crate::engine::{DisconnectReason, Room};

/// A socket's recovery state (see [`super::SocketSlot::recovery`]).
#[derive(Debug, Clone)]
pub(crate) struct SocketRecovery {
    pub pid: Pid,
    /// The offsets of the last broadcasts queued to it.
    pub sent: SentTrail,
    pub connected_head: Seq,
    /// When the store last saved it live (worker clock, ms; see [`Worker::refresh_kept`]).
    pub kept_at: u64,
    /// The core's `LogMark::read` at that save.
    pub kept_read: u64,
    /// How far a restored socket's replay read each source log (empty if not restored).
    pub replayed: Replayed,
}

impl SocketRecovery {
    /// Whether a broadcast with `offset`, of source log `source`, is queued to the socket
    /// (then remembered in its trail): not when its restore replayed it already, while this
    /// copy was still in the core's queue.
    pub fn queues(&mut self, offset: Seq, source: usize) -> bool {
        if self.replayed.covers(offset, source) {
            return false;
        }
        self.sent.push(offset);
        true
    }
}

/// A CONNECT the session accepted, waiting for its `Connected` output.
pub(crate) struct Authorized {
    pub sid: Sid,
    pub data: Box<dyn Any>,
    pub recovery: Option<Box<SocketRecovery>>,
    /// The rooms of a restored socket.
    pub restored: Option<Vec<Room>>,
}

/// What an accepted CONNECT becomes.
pub(super) struct Admitted {
    pub sid: Sid,
    pub recovery: Option<Box<SocketRecovery>>,
    pub restored: Option<Vec<Room>>,
    /// A restored socket's missed broadcasts, queued before the CONNECT reply.
    pub missed: Vec<Vec<OutFrame>>,
}

impl Worker {
    /// The socket an accepted CONNECT (`auth`, the handler's `data`) gets: with recovery on and
    /// a `pid` in `auth`, the saved session if the store gives it back; otherwise a fresh id.
    /// Fails only if the OS CSPRNG does.
    pub(super) fn admit(
        &mut self,
        auth: Option<&str>,
        data: &dyn Any,
    ) -> std::io::Result<Admitted> {
        let Some(store) = self.recovery.clone() else {
            return Ok(Admitted {
                sid: Sid::generate(self.shard)?,
                recovery: None,
                restored: None,
                missed: Vec::new(),
            });
        };
        let head = store.head();
        let (old, offset) = connect_fields(auth);
        if let Some(old) = old {
            let owner = self.handler.owner(data);
            match store.restore(old, offset.as_deref(), owner.as_deref()) {
                Ok(restored) => {
                    self.stats().recovery_restored.add(1);
                    tracing::debug!(socket_id = %restored.sid, missed = restored.missed.len(), "socket restored");
                    return Ok(Admitted {
                        sid: restored.sid,
                        // The same pid: socket.io-client reports `recovered` only when the
                        // reply's pid is the one it sent.
                        recovery: Some(Box::new(SocketRecovery {
                            pid: old,
                            sent: restored.sent,
                            connected_head: head,
                            kept_at: 0,
                            kept_read: 0,
                            replayed: restored.replayed,
                        })),
                        restored: Some(restored.rooms),
                        missed: restored.missed,
                    });
                }
                Err(failure) => {
                    self.stats().recovery_failed[failure.index()].add(1);
                    tracing::debug!(
                        reason = failure.as_str(),
                        "session not restored: a fresh one"
                    );
                }
            }
        }
        Ok(Admitted {
            sid: Sid::generate(self.shard)?,
            recovery: Some(Box::new(SocketRecovery {
                pid: Pid::generate(self.shard)?,
                sent: SentTrail::default(),
                connected_head: head,
                kept_at: 0,
                kept_read: 0,
                replayed: Replayed::default(),
            })),
            restored: None,
            missed: Vec::new(),
        })
    }

    /// A refused CONNECT (`auth`): the session its `pid` names is dropped, so a revoked or
    /// expired token never gets it back, even on a later try with a good one.
    pub(super) fn refused(&mut self, auth: Option<&str>) {
        let Some(store) = self.recovery.clone() else {
            return;
        };
        if let (Some(pid), _) = connect_fields(auth) {
            store.discard(pid);
            self.stats().recovery_failed[crate::engine::recovery::Failure::Auth.index()].add(1);
        }
    }

    /// Saves the socket in `slot` of session `key` if its transport went away (socket.io's
    /// list: transport close or error, ping timeout, server shutdown; not the client's own
    /// disconnect, a server-side kick, a protocol violation or a slow consumer).
    pub(super) fn save_for_recovery(&mut self, key: usize, slot: usize, reason: DisconnectReason) {
        let Some(store) = self.recovery.clone() else {
            return;
        };
        let Some(session) = self.session_of(key, slot) else {
            return;
        };
        if !matches!(
            reason,
            DisconnectReason::TransportClose
                | DisconnectReason::PingTimeout
                | DisconnectReason::ServerShutdown
        ) {
            if store.keeps_live() {
                // Saved while it lived: a socket that leaves for good must not come back.
                store.discard(session.pid);
            }
            return;
        }
        store.save(session);
        self.stats().recovery_saved.add(1);
    }

    /// Saves the live socket in `slot` of session `key` when the store keeps live sessions
    /// (Redis Streams: a node killed without a drain still leaves every session behind).
    pub(crate) fn keep_current(&mut self, key: usize, slot: usize) {
        let Some(store) = self.recovery.clone() else {
            return;
        };
        if !store.keeps_live() {
            return;
        }
        if let Some(session) = self.session_of(key, slot) {
            store.save(session);
            self.stats().recovery_kept.add(1);
            let (now, read) = (self.now(), self.mark.read);
            if let Some(Some(socket)) = self
                .conns
                .get_mut(key)
                .and_then(|c| c.sockets.get_mut(slot))
                && let Some(rec) = socket.recovery.as_mut()
            {
                rec.kept_at = now;
                rec.kept_read = read;
            }
        }
    }

    /// Saves again the live sockets of session `key` whose saved copy is half a disconnection
    /// window old, so it never expires in the store while the socket lives (a SIGKILL after a
    /// quiet hour still leaves it behind), or whose saved mark the log has moved half its
    /// length past (so a quiet socket's replay start is not trimmed away before a SIGKILL).
    /// Called from the session's timer, which fires at least every ping interval (25 s): with
    /// the 120 s window, one save per socket every 60–85 s, ~150 SETs/s for 10 000 sockets;
    /// while the stream grows by half its `MAXLEN` per ping interval or faster, one per socket
    /// per ping interval (400 SETs/s for 10 000 sockets).
    pub(super) fn refresh_kept(&mut self, key: usize) {
        let (Some(store), Some(config)) = (&self.recovery, self.config.recovery) else {
            return;
        };
        if !store.keeps_live() {
            return;
        }
        let now = self.now();
        let half = config.max_disconnection_ms / 2;
        let entries = store.refresh_after_entries().unwrap_or(u64::MAX);
        let read = self.mark.read;
        let Some(conn) = self.conns.get(key) else {
            return;
        };
        let stale: SmallVec<[usize; 1]> = conn
            .sockets
            .iter()
            .enumerate()
            .filter_map(|(slot, s)| {
                let rec = s.as_ref()?.recovery.as_deref()?;
                let old = now.saturating_sub(rec.kept_at) >= half;
                let behind = read.saturating_sub(rec.kept_read) >= entries;
                (old || behind).then_some(slot)
            })
            .collect();
        for slot in stale {
            self.keep_current(key, slot);
        }
    }

    /// A restored socket back in its rooms: what the logs gained for it between the replay and
    /// the rejoin is queued now (see [`crate::engine::recovery::RecoveryStore::catch_up`]), and
    /// the in-flight copies of it are skipped when they arrive. One more Redis read per restore
    /// in streams mode; one more pass over the logs' newest entries on one node.
    pub(super) fn catch_up(&mut self, key: usize, slot: usize) {
        let Some(store) = self.recovery.clone() else {
            return;
        };
        let Some(Some(socket)) = self.conns.get(key).and_then(|c| c.sockets.get(slot)) else {
            return;
        };
        let Some(after) = socket.recovery.as_deref().map(|r| r.replayed.clone()) else {
            return;
        };
        if after.is_empty() {
            return;
        }
        let caught = store.catch_up(&socket.nsp, socket.sid, &socket.rooms, after.as_slice());
        let mut frames = Vec::new();
        if let Some(Some(socket)) = self
            .conns
            .get_mut(key)
            .and_then(|c| c.sockets.get_mut(slot))
            && let Some(rec) = socket.recovery.as_mut()
        {
            for (seq, f) in caught.found {
                if rec.queues(seq, store.source_of(seq)) {
                    frames.extend(f);
                }
            }
            rec.replayed.extend_to(&caught.read);
        }
        for frame in frames {
            self.queue(key, frame);
        }
    }

    /// What the store saves of the socket in `slot` of session `key`, if it has recovery state.
    fn session_of(&self, key: usize, slot: usize) -> Option<SavedSession> {
        let store = self.recovery.as_ref()?;
        let socket = self.conns.get(key)?.sockets.get(slot)?.as_ref()?;
        let rec = socket.recovery.as_deref()?;
        Some(SavedSession {
            pid: rec.pid,
            sid: socket.sid,
            nsp: socket.nsp.clone(),
            rooms: socket.rooms.to_vec(),
            owner: self.handler.owner(socket.data.as_ref()),
            connected_head: rec.connected_head,
            sent: rec.sent,
            unqueued_after: store.unqueued_after(
                self.shard.index(),
                &self.seen,
                rec.connected_head,
            ),
            mark: self.mark,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sid::ShardId;

    #[test]
    fn a_restored_socket_skips_what_its_replay_sent() {
        let pid = Pid::generate(ShardId(0)).expect("csprng");
        // (per source, how far the replay read; (offset, source) arriving; offsets queued)
        type Case<'a> = (&'a [u64], &'a [(u64, usize)], &'a [u64]);
        let cases: [Case; 5] = [
            (&[], &[(1, 0), (2, 0), (3, 1)], &[1, 2, 3]),
            (&[7], &[(6, 0), (7, 0), (8, 0), (9, 0)], &[8, 9]),
            (&[7], &[(5, 0), (9, 0), (7, 0)], &[9]),
            // Two sources: each is compared with what the replay read of it.
            (&[7, 3], &[(6, 0), (5, 1), (3, 1), (8, 0)], &[5, 8]),
            (&[7], &[(2, 1)], &[2]),
        ];
        for (skip, arriving, want) in cases {
            let mut rec = SocketRecovery {
                pid,
                sent: SentTrail::default(),
                connected_head: Seq::ZERO,
                kept_at: 0,
                kept_read: 0,
                replayed: Replayed::new(skip.iter().map(|&s| Seq(s)).collect()),
            };
            let queued: Vec<u64> = arriving
                .iter()
                .filter(|&&(o, source)| rec.queues(Seq(o), source))
                .map(|&(o, _)| o)
                .collect();
            assert_eq!(queued, want, "skip {skip:?}");
            let trail: Vec<u64> = rec.sent.iter().map(|s| s.0).collect();
            assert_eq!(trail, want, "the trail holds what was queued");
        }
    }
}
