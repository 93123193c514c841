//! When WebSocket writers send broadcast frames: the core's write-coalescing policy, a sans-IO
//! state machine (`handle_*` in, `poll_*` out, time as a parameter) so its rules are
//! unit-tested on a simulated clock.
//!
//! Why hold at all: on loopback most of the server's CPU per delivery is the kernel's send path
//! per TCP segment (and the reader pays a wake-up and a read per segment). A reader that costs
//! real CPU per read (a tokio task per connection through a WebSocket crate) slows the publisher
//! sharing its machine, so publishes arrive a few milliseconds apart, each reaches each socket on
//! its own, and the server writes ~1 frame per send: 2.5 deliveries per TCP segment against
//! socketioxide's 4.7 (measured, fanout-1k). A fixed 0.5 ms hold engaged only above ~1 500
//! broadcasts/s and so never did for those readers.
//!
//! The rule: while broadcasts arrive less than [`HOT_GAP_US`] apart, the writers they wake are
//! held until one deadline shared by the whole core (a flush epoch): every broadcast of the epoch
//! joins the same send per socket. The epoch's length is what [`FRAMES_PER_SEND`] frames take at
//! the recent rate, at most [`MAX_HOLD_US`]. A broadcast after a quiet gap (a lone event, the
//! spec's 10/s dashboards) goes out at once, and anything other than a broadcast frame (a reply,
//! an ack, a ping) never waits.

/// Broadcasts closer than this are "a stream" worth batching: 200+ per second. Slower than
/// that, batching would cost more latency than the segments it saves. Applies to the core (a
/// broadcast after a quieter gap goes out at once) and to each socket (a socket that received
/// nothing for this long is idle: its frame goes out at once whatever the core is doing).
pub(crate) const HOT_GAP_US: u64 = 5_000;

/// A flush epoch is sized to gather about this many frames per socket per send.
pub(crate) const FRAMES_PER_SEND: u64 = 4;

/// The longest a broadcast frame waits for company (the bound on added latency).
pub(crate) const MAX_HOLD_US: u64 = 8_000;

/// Gaps longer than this count as this long in the moving average, so one quiet second does not
/// take a hundred fast broadcasts to forget.
const GAP_CAP_US: u64 = 20_000;

/// The policy's knobs (the constants above, unless measuring).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tuning {
    pub hot_gap_us: u64,
    pub frames_per_send: u64,
    pub max_hold_us: u64,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            hot_gap_us: HOT_GAP_US,
            frames_per_send: FRAMES_PER_SEND,
            max_hold_us: MAX_HOLD_US,
        }
    }
}

/// What to do with the writers a broadcast just queued frames for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flush {
    /// Wake them now.
    Now,
    /// Leave them asleep: the core wakes every held writer at this instant (µs).
    At(u64),
}

/// The core's write-coalescing state: the recent gap between broadcasts and the open flush
/// epoch, if any.
#[derive(Debug, Default)]
pub(crate) struct FlushPolicy {
    tuning: Tuning,
    /// Moving average of the gap between broadcasts (µs, ×8 fixed point: `avg8 / 8`).
    avg8: u64,
    last: Option<u64>,
    deadline: Option<u64>,
}

impl FlushPolicy {
    pub(crate) fn new(tuning: Tuning) -> Self {
        FlushPolicy {
            tuning,
            ..FlushPolicy::default()
        }
    }

    /// A broadcast is being fanned out at `now` (µs): whether the writers it wakes go now or at
    /// the open epoch's deadline (each socket then asks [`FlushPolicy::for_socket`]). Call
    /// [`FlushPolicy::handle_timeout`] first when the clock may have passed the deadline, so
    /// the writers of an epoch that ended are woken by its end.
    pub(crate) fn handle_broadcast(&mut self, now: u64) -> Flush {
        let gap = match self.last {
            Some(last) => {
                let gap = now.saturating_sub(last);
                // avg ← avg + (gap − avg) / 8, on capped gaps; the first gap seeds it.
                let sample = gap.min(GAP_CAP_US) * 8;
                self.avg8 = if self.avg8 == 0 {
                    sample.max(1)
                } else {
                    self.avg8 - self.avg8 / 8 + sample / 8
                };
                gap
            }
            None => u64::MAX,
        };
        self.last = Some(now);
        if let Some(deadline) = self.deadline
            && now < deadline
        {
            return Flush::At(deadline);
        }
        let t = self.tuning;
        if gap > t.hot_gap_us {
            // A lone event, or a slow stream: never wait.
            return Flush::Now;
        }
        // Broadcasts that come in clumps (publishes read in one batch) have a long average
        // gap and a short one now: the writers the clump's first broadcast woke carry the rest,
        // and only sockets that still wait get the longest hold.
        let avg = (self.avg8 / 8).min(t.hot_gap_us);
        let hold = (avg * t.frames_per_send).min(t.max_hold_us);
        let deadline = now + hold;
        self.deadline = Some(deadline);
        Flush::At(deadline)
    }

    /// The decision for one socket whose writer is asleep, given the core's decision and when
    /// the socket last received a broadcast frame: an idle socket's frame goes out at once.
    pub(crate) fn for_socket(&self, core: Flush, socket_last: Option<u64>, now: u64) -> Flush {
        match socket_last {
            Some(last) if now.saturating_sub(last) <= self.tuning.hot_gap_us => core,
            _ => Flush::Now,
        }
    }

    /// When held writers must be woken, if any are.
    pub(crate) fn poll_deadline(&self) -> Option<u64> {
        self.deadline
    }

    /// The clock reached `now`: `true` when the epoch is over and its held writers must be
    /// woken now.
    pub(crate) fn handle_timeout(&mut self, now: u64) -> bool {
        match self.deadline {
            Some(d) if now >= d => {
                self.deadline = None;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Broadcasts at these instants (µs) → what the last one gets.
    #[test]
    fn flush_decision() {
        let cases: &[(&str, &[u64], Flush)] = &[
            ("the first broadcast ever", &[1_000], Flush::Now),
            ("a lone event after a quiet second", &[0, 1_000_000], Flush::Now),
            (
                "10 a second, the spec's dashboards",
                &[0, 100_000, 200_000, 300_000],
                Flush::Now,
            ),
            (
                "150 a second: a frame every 6.7 ms, not worth holding",
                &[0, 6_667, 13_334, 20_001, 26_668],
                Flush::Now,
            ),
            (
                // ~500/s, about the rate a per-task reader lets its publisher reach: epochs of
                // 4 gaps (8 ms): 2 000 → 10 000 → 18 000.
                "a stream 2 ms apart",
                &[0, 2_000, 4_000, 6_000, 8_000, 10_000, 12_000, 14_000, 16_000],
                Flush::At(18_000),
            ),
            (
                // Epochs of 4 gaps (2 ms): 500 → 2 500, 2 500 → 4 500.
                "a fast stream 0.5 ms apart",
                &[0, 500, 1_000, 1_500, 2_000, 2_500, 3_000, 3_500, 4_000],
                Flush::At(4_500),
            ),
            (
                // The clump's first broadcast woke the writers; sockets still asleep after it
                // wait for the longest epoch (the average gap is long).
                "the second of a clump after a quiet spell",
                &[0, 500, 1_000, 60_000, 60_500],
                Flush::At(60_500 + MAX_HOLD_US),
            ),
            (
                "a burst after a quiet spell: the gap since the last one rules",
                &[0, 500, 1_000, 1_500, 2_000, 2_500, 3_000, 60_000],
                Flush::Now,
            ),
        ];
        for (what, times, want) in cases {
            let mut p = FlushPolicy::new(Tuning::default());
            let mut got = Flush::Now;
            for &t in *times {
                // The worker ends an epoch whose deadline passed before it counts a broadcast.
                p.handle_timeout(t);
                got = p.handle_broadcast(t);
            }
            assert_eq!(got, *want, "{what}: {times:?}");
        }
    }

    /// Broadcasts inside an open epoch join it: one deadline, one send per socket.
    #[test]
    fn an_epoch_gathers_every_broadcast_until_its_deadline() {
        let mut p = FlushPolicy::new(Tuning::default());
        for t in (0..10).map(|i| i * 500) {
            p.handle_timeout(t);
            p.handle_broadcast(t);
        }
        p.handle_timeout(5_000);
        let Flush::At(deadline) = p.handle_broadcast(5_000) else {
            panic!("a 0.5 ms stream must hold");
        };
        for t in [5_100, 5_900, deadline - 1] {
            assert_eq!(p.handle_broadcast(t), Flush::At(deadline), "at {t}");
        }
        assert!(!p.handle_timeout(deadline - 1), "not before the deadline");
        assert!(p.handle_timeout(deadline), "at the deadline");
        assert_eq!(p.poll_deadline(), None);
        assert!(!p.handle_timeout(deadline + 1), "once");
        // The stream goes on: the next broadcast opens the next epoch.
        assert!(matches!(p.handle_broadcast(deadline + 400), Flush::At(d) if d > deadline));
    }

    /// (core decision, when the socket last got a broadcast, now) → the socket's decision.
    #[test]
    fn an_idle_socket_never_waits() {
        let p = FlushPolicy::new(Tuning::default());
        let at = Flush::At(9_000);
        let cases: &[(Flush, Option<u64>, u64, Flush)] = &[
            (at, None, 1_000, Flush::Now),
            (at, Some(0), 1_000, at),
            (at, Some(0), HOT_GAP_US, at),
            (at, Some(0), HOT_GAP_US + 1, Flush::Now),
            (Flush::Now, Some(900), 1_000, Flush::Now),
        ];
        for &(core, last, now, want) in cases {
            assert_eq!(p.for_socket(core, last, now), want, "{core:?} {last:?} {now}");
        }
    }

    /// The added latency is bounded by MAX_HOLD_US whatever the rate.
    #[test]
    fn the_hold_never_exceeds_its_bound() {
        for gap in [1, 10, 100, 600, 1_000, 2_000, 2_500] {
            let mut p = FlushPolicy::new(Tuning::default());
            for i in 0..100u64 {
                let now = i * gap;
                p.handle_timeout(now);
                if let Flush::At(d) = p.handle_broadcast(now) {
                    assert!(d - now <= MAX_HOLD_US, "gap {gap}: held {}", d - now);
                }
            }
        }
    }
}
