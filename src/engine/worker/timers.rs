//! The core's one timer heap: every session's next deadline (the Engine.IO ping schedule, the
//! Socket.IO connect timeout, a socket's token expiry, a closed polling session's linger),
//! lazily invalidated, and the timer task's sleep and wake.

use std::cmp::Reverse;
use std::task::{Poll, Waker};
use std::time::Instant;

use ringcast_codec::sio;
use smallvec::SmallVec;

use super::Worker;
use crate::engine::Socket;

impl Worker {
    /// Arms the timer heap with the session's next deadline if it changed.
    pub fn rearm(&mut self, key: usize) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        if conn.closed {
            conn.armed = u64::MAX;
            return;
        }
        let sockets = conn.sockets.iter().flatten().filter_map(|s| s.deadline);
        let next = [
            conn.eio.poll_timeout(),
            conn.sio.as_ref().and_then(sio::Session::poll_timeout),
        ]
        .into_iter()
        .flatten()
        .chain(sockets)
        .min()
        .unwrap_or(u64::MAX);
        if next != conn.armed {
            conn.armed = next;
            if next != u64::MAX {
                self.push_timer(next, key);
            }
        }
    }

    /// Pushes a deadline; wakes the timer task if it sleeps past it (a new session's first
    /// ping, 25 s out, lands behind the earliest and wakes nothing).
    pub(super) fn push_timer(&mut self, at: u64, key: usize) {
        self.timers.push(Reverse((at, key)));
        if at < self.timer_target {
            self.timer_target = at;
            if let Some(w) = self.timer_waker.take() {
                w.wake();
            }
        }
    }

    /// For the timer task: the earliest deadline in the heap (ms on [`Worker::now`]'s clock, and
    /// as an instant), stale entries included (waking for one costs a pop); `None`: empty heap.
    pub fn next_timer(&self) -> Option<(u64, Instant)> {
        let &Reverse((at, _)) = self.timers.peek()?;
        Some((at, self.epoch + std::time::Duration::from_millis(at)))
    }

    /// For the timer task sleeping until `target` ms (`u64::MAX`: until woken): `Ready` once an
    /// earlier deadline is in the heap, else `Pending` with its waker kept.
    pub fn poll_timer(&mut self, target: u64, waker: &Waker) -> Poll<()> {
        if self
            .timers
            .peek()
            .is_some_and(|&Reverse((at, _))| at < target)
        {
            return Poll::Ready(());
        }
        self.timer_target = target;
        self.timer_waker = Some(waker.clone());
        Poll::Pending
    }

    /// Runs every deadline that has passed.
    pub fn run_timers(&mut self) {
        // The timer task is awake: the next push need not wake it; it reads the heap again.
        self.timer_target = 0;
        let now = self.now();
        while let Some(&Reverse((deadline, key))) = self.timers.peek() {
            if deadline > now {
                break;
            }
            self.timers.pop();
            let Some(conn) = self.conns.get_mut(key) else {
                continue;
            };
            if conn.armed != deadline {
                continue; // stale entry: the session re-armed since
            }
            conn.armed = u64::MAX;
            conn.eio.handle_timeout(now);
            if let Some(sio) = conn.sio.as_mut() {
                sio.handle_timeout(now);
                self.drive_sio(key);
            }
            let Some(conn) = self.conns.get_mut(key) else {
                continue;
            };
            let due: SmallVec<[usize; 1]> = conn
                .sockets
                .iter_mut()
                .enumerate()
                .filter_map(|(slot, s)| match s {
                    Some(s) if s.deadline.is_some_and(|d| d <= now) => {
                        s.deadline = None;
                        Some(slot)
                    }
                    _ => None,
                })
                .collect();
            let handler = self.handler.clone();
            for slot in due {
                let mut s = Socket::new(self, key, slot);
                handler.on_deadline(&mut s);
            }
            self.refresh_kept(key);
            self.after(key);
        }
    }
}
