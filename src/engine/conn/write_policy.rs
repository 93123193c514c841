//! When WebSocket writers send broadcast frames: the core's write-coalescing policy, a sans-IO
//! state machine (`handle_*` in, `poll_*` out, time as a parameter) so its rules are
//! unit-tested on a simulated clock.
//!
//! Why hold at all: on loopback most of the server's CPU per delivery is the kernel's send path
//! per TCP segment (and the reader pays a wake-up and a read per segment). A reader that costs
//! real CPU per read (a tokio task per connection through a WebSocket crate) slows the publisher
//! sharing its machine, so publishes arrive a few milliseconds apart, each reaches each socket on
//! its own, and the server writes ~1 frame per send: 2.5 deliveries per TCP segment against
//! socketioxide's 4.7 (measured, fanout-1k). The previous rule (hold 0.5 ms when 3 broadcasts
//! fell within 2 ms, ~1 500/s) never engaged for those readers.
//!
//! The rules:
//! - A socket is *streaming* when its previous broadcast frame came less than [`HOT_GAP_US`]
//!   before this one. A writer woken for broadcast frames of a streaming socket, with nothing
//!   else queued (no reply, ack or ping), holds until the core's open *flush epoch* ends (and
//!   opens one if none is open), once per batch.
//! - While an epoch is open, a broadcast queues frames for streaming sockets whose writers are
//!   asleep without waking them: every broadcast of the epoch joins one send per socket, and
//!   the whole core's held writers are woken by one timer at its end.
//! - An epoch lasts what [`FRAMES_PER_SEND`] broadcasts take at the core's recent rate, at most
//!   [`MAX_HOLD_US`] (the bound on added latency).
//! - A socket that was idle (a lone event, the spec's 10/s dashboards) gets its frame at once,
//!   whatever the rest of the core is doing; so do replies, acks and control frames.

/// Broadcasts closer than this are "a stream" worth batching: 200+ per second to one socket.
/// Slower than that, batching would cost more latency than the segments it saves.
pub(crate) const HOT_GAP_US: u64 = 5_000;

/// A flush epoch is sized to gather about this many broadcasts.
///
/// 8 and 16 ms, not 4 and 8 ms: A/B'd on fanout-1k/5k with both generator personalities, two
/// rounds each, deliveries per TCP segment went 10.4–11.9 → 13.9–16.2 with the tokio reader
/// (1k) and 11.0–11.2 → 13.8–14.9 (5k), 20.8–21.5 → 22.1–24.4 with the epoll reader, with no
/// loss in deliveries per server CPU-second and p50/p99 within the rounds' spread (the readers'
/// queueing sets them there). 16 and 32 ms gathered more (21–25 per segment with the tokio
/// reader) but doubled the epoll reader's p99 at 1 000 clients (18–19 → 28–42 ms).
pub(crate) const FRAMES_PER_SEND: u64 = 8;

/// The longest a broadcast frame waits for company (the bound on added latency).
pub(crate) const MAX_HOLD_US: u64 = 16_000;

/// Gaps longer than this count as this long in the moving average, so one quiet second does not
/// take a hundred fast broadcasts to forget.
const GAP_CAP_US: u64 = 20_000;

/// What a woken writer found queued.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Batch {
    /// Something other than a broadcast frame is queued (a reply, an ack, a ping, a pong).
    pub urgent: bool,
    /// The connection is closing: flush, never wait.
    pub closing: bool,
    /// The socket's last broadcast frame followed the one before within the hot gap.
    pub streaming: bool,
    /// The writer already held once for this batch.
    pub held: bool,
}

/// Whether a writer should hold `batch` until the flush epoch ends.
pub(crate) fn should_hold(batch: Batch) -> bool {
    batch.streaming && !batch.urgent && !batch.closing && !batch.held
}

/// The core's write-coalescing clock: the recent gap between broadcasts and the open flush
/// epoch, if any.
#[derive(Debug, Default)]
pub(crate) struct FlushPolicy {
    /// Moving average of the gap between broadcasts (µs, ×8 fixed point: `avg8 / 8`).
    avg8: u64,
    last: Option<u64>,
    deadline: Option<u64>,
}

impl FlushPolicy {
    /// A broadcast is being fanned out at `now` (µs). Call [`FlushPolicy::handle_timeout`]
    /// first when the clock may have passed the deadline, so the writers of an epoch that
    /// ended are woken by its end.
    pub(crate) fn handle_broadcast(&mut self, now: u64) {
        if let Some(last) = self.last {
            // avg ← avg + (gap − avg) / 8, on capped gaps; the first gap seeds it.
            let sample = now.saturating_sub(last).min(GAP_CAP_US) * 8;
            self.avg8 = if self.avg8 == 0 {
                sample.max(1)
            } else {
                self.avg8 - self.avg8 / 8 + sample / 8
            };
        }
        self.last = Some(now);
    }

    /// Whether a socket that last got a broadcast frame at `last` is streaming when another
    /// one reaches it at `now`.
    pub(crate) fn streaming(last: Option<u64>, now: u64) -> bool {
        last.is_some_and(|last| now.saturating_sub(last) <= HOT_GAP_US)
    }

    /// The open epoch's deadline, if one is open at `now`: a broadcast leaves the asleep
    /// writers of streaming sockets asleep until then.
    pub(crate) fn open_epoch(&self, now: u64) -> Option<u64> {
        self.deadline.filter(|&d| now < d)
    }

    /// A writer holds at `now`: the deadline it waits for, opening an epoch if none is open.
    pub(crate) fn handle_hold(&mut self, now: u64) -> u64 {
        if let Some(d) = self.open_epoch(now) {
            return d;
        }
        let avg = (self.avg8 / 8).clamp(1, HOT_GAP_US);
        let deadline = now + (avg * FRAMES_PER_SEND).min(MAX_HOLD_US);
        self.deadline = Some(deadline);
        deadline
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

    fn policy_after(times: &[u64]) -> FlushPolicy {
        let mut p = FlushPolicy::default();
        for &t in times {
            p.handle_timeout(t);
            p.handle_broadcast(t);
        }
        p
    }

    /// (what, broadcasts at these instants (µs), when the socket got its previous one) →
    /// whether its writer holds, and for how long (µs) when it opens the epoch.
    type HoldCase<'a> = (&'a str, &'a [u64], Option<u64>, Option<u64>);

    #[test]
    fn hold_decision() {
        let stream_2ms: &[u64] = &[0, 2_000, 4_000, 6_000, 8_000, 10_000];
        let stream_half_ms: &[u64] = &[0, 500, 1_000, 1_500, 2_000, 2_500];
        let cases: &[HoldCase<'_>] = &[
            ("the first broadcast ever", &[1_000], None, None),
            (
                "a lone event after a quiet second",
                &[0, 1_000_000],
                Some(0),
                None,
            ),
            (
                "10 a second, the spec's dashboards",
                &[0, 100_000, 200_000, 300_000],
                Some(200_000),
                None,
            ),
            (
                "150 a second: a frame every 6.7 ms, not worth holding",
                &[0, 6_667, 13_334, 20_001],
                Some(13_334),
                None,
            ),
            // ~500/s, about the rate a per-task reader lets its publisher reach: 8 gaps.
            ("a stream 2 ms apart", stream_2ms, Some(8_000), Some(16_000)),
            (
                "a stream 0.5 ms apart",
                stream_half_ms,
                Some(2_000),
                Some(4_000),
            ),
            (
                "a socket that joined the stream just now is idle",
                stream_2ms,
                None,
                None,
            ),
            (
                // The average is capped at the hot gap: the epoch is at most 8 × 5 ms, then
                // capped at MAX_HOLD_US.
                "a clump after a quiet spell holds at the longest",
                &[0, 60_000, 60_100, 60_200],
                Some(60_100),
                Some(MAX_HOLD_US),
            ),
        ];
        for &(what, times, socket_last, want) in cases {
            let mut p = policy_after(times);
            let now = *times.last().unwrap_or(&0);
            let batch = Batch {
                streaming: FlushPolicy::streaming(socket_last, now),
                ..Batch::default()
            };
            let got = should_hold(batch).then(|| p.handle_hold(now) - now);
            assert_eq!(got, want, "{what}");
        }
    }

    /// A batch with anything but streaming broadcast frames, or already held, goes now.
    #[test]
    fn only_streaming_broadcasts_wait_and_only_once() {
        let streaming = Batch {
            streaming: true,
            ..Batch::default()
        };
        let cases: &[(Batch, bool)] = &[
            (streaming, true),
            (Batch::default(), false),
            (
                Batch {
                    urgent: true,
                    ..streaming
                },
                false,
            ),
            (
                Batch {
                    closing: true,
                    ..streaming
                },
                false,
            ),
            (
                Batch {
                    held: true,
                    ..streaming
                },
                false,
            ),
        ];
        for &(batch, want) in cases {
            assert_eq!(should_hold(batch), want, "{batch:?}");
        }
    }

    /// Writers that hold during an open epoch share its deadline; it ends once, at its instant.
    #[test]
    fn an_epoch_is_shared_and_ends_once() {
        let mut p = policy_after(&[0, 500, 1_000, 1_500, 2_000]);
        assert_eq!(p.open_epoch(2_000), None);
        let deadline = p.handle_hold(2_000);
        for t in [2_100, 2_900, deadline - 1] {
            p.handle_broadcast(t);
            assert_eq!(p.open_epoch(t), Some(deadline), "at {t}");
            assert_eq!(p.handle_hold(t), deadline, "at {t}");
        }
        assert!(!p.handle_timeout(deadline - 1), "not before the deadline");
        assert!(p.handle_timeout(deadline), "at the deadline");
        assert_eq!(p.poll_deadline(), None);
        assert_eq!(p.open_epoch(deadline), None);
        assert!(!p.handle_timeout(deadline + 1), "once");
        assert!(p.handle_hold(deadline + 400) > deadline, "the next epoch");
    }

    /// The added latency is bounded by MAX_HOLD_US whatever the rate.
    #[test]
    fn the_hold_never_exceeds_its_bound() {
        for gap in [1, 10, 100, 600, 1_000, 2_000, 5_000, 30_000] {
            let mut p = FlushPolicy::default();
            for i in 0..100u64 {
                let now = i * gap;
                p.handle_timeout(now);
                p.handle_broadcast(now);
                let held = p.handle_hold(now) - now;
                assert!(held <= MAX_HOLD_US, "gap {gap}: held {held}");
            }
        }
    }
}
