//! The health check of a live connection, sans IO: when to PING, and when a PING unanswered
//! for too long means Redis is hung (a `kill -STOP`ped or wedged server keeps its TCP
//! connections open, so only a deadline tells). The runner sends the probe (a PING on the
//! subscription connection, then PING + `PUBSUB NUMSUB` on the publishing one) and reports
//! back; time is a parameter, so the decisions are unit-tested on a simulated clock below.
//!
//! The bound: a probe every [`PING_EVERY`] (250 ms) and a [`PONG_DEADLINE`] of 1 s, so a
//! Redis that stops answering is declared unusable at most 1.25 s after its last answer (the
//! probe in flight when it froze was sent at most 250 ms earlier). Publishes in flight then
//! fail on their own 1 s command deadline; new ones are refused at once.

use std::time::{Duration, Instant};

/// Time between the answer to one probe and the next probe.
pub(super) const PING_EVERY: Duration = Duration::from_millis(250);
/// How long a probe may stay unanswered. A healthy Redis answers in well under 1 ms on a LAN;
/// 1 s leaves room for a busy server (a large `KEYS`, a fork for `BGSAVE`) without calling it
/// dead.
pub(super) const PONG_DEADLINE: Duration = Duration::from_secs(1);

/// The state of the health check of one connection.
#[derive(Debug)]
pub(super) struct Health {
    /// The probe in flight was sent then.
    sent_at: Option<Instant>,
    /// The last probe was answered then (or the connection was made).
    answered_at: Instant,
}

/// What the deadline says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Nothing to do before [`Health::next_wakeup`].
    Wait,
    /// A probe is due: send it, then call [`Health::handle_ping_sent`].
    Ping,
    /// The probe in flight is past its deadline: Redis is unusable.
    Hung { waited: Duration },
}

impl Health {
    /// A connection made (and answering) at `now`.
    pub(super) fn new(now: Instant) -> Health {
        Health {
            sent_at: None,
            answered_at: now,
        }
    }

    pub(super) fn handle_ping_sent(&mut self, now: Instant) {
        self.sent_at = Some(now);
    }

    /// The probe was answered at `now`: its round trip.
    pub(super) fn handle_pong(&mut self, now: Instant) -> Duration {
        let rtt = self
            .sent_at
            .take()
            .map_or(Duration::ZERO, |sent| now.saturating_duration_since(sent));
        self.answered_at = now;
        rtt
    }

    /// What is due at `now`.
    pub(super) fn poll_deadline(&self, now: Instant) -> Verdict {
        match self.sent_at {
            Some(sent) if now >= sent + PONG_DEADLINE => Verdict::Hung {
                waited: now.saturating_duration_since(sent),
            },
            Some(_) => Verdict::Wait,
            None if now >= self.answered_at + PING_EVERY => Verdict::Ping,
            None => Verdict::Wait,
        }
    }

    /// When [`Health::poll_deadline`] next has something to say.
    pub(super) fn next_wakeup(&self) -> Instant {
        match self.sent_at {
            Some(sent) => sent + PONG_DEADLINE,
            None => self.answered_at + PING_EVERY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_probe_is_due_250ms_after_the_last_answer() {
        let t0 = Instant::now();
        let h = Health::new(t0);
        let cases = [
            (0, Verdict::Wait),
            (249, Verdict::Wait),
            (250, Verdict::Ping),
        ];
        for (at, want) in cases {
            assert_eq!(h.poll_deadline(t0 + ms(at)), want, "at {at} ms");
        }
        assert_eq!(h.next_wakeup(), t0 + ms(250));
    }

    #[test]
    fn an_answered_probe_reports_its_round_trip_and_schedules_the_next() {
        let t0 = Instant::now();
        let mut h = Health::new(t0);
        h.handle_ping_sent(t0 + ms(250));
        assert_eq!(h.poll_deadline(t0 + ms(900)), Verdict::Wait);
        assert_eq!(h.handle_pong(t0 + ms(253)), ms(3));
        assert_eq!(h.next_wakeup(), t0 + ms(503));
        assert_eq!(h.poll_deadline(t0 + ms(502)), Verdict::Wait);
        assert_eq!(h.poll_deadline(t0 + ms(503)), Verdict::Ping);
    }

    #[test]
    fn a_probe_unanswered_for_1s_means_hung() {
        let t0 = Instant::now();
        let mut h = Health::new(t0);
        h.handle_ping_sent(t0 + ms(250));
        assert_eq!(h.next_wakeup(), t0 + ms(1_250));
        let cases = [
            (1_249, Verdict::Wait),
            (1_250, Verdict::Hung { waited: ms(1_000) }),
            (4_000, Verdict::Hung { waited: ms(3_750) }),
        ];
        for (at, want) in cases {
            assert_eq!(h.poll_deadline(t0 + ms(at)), want, "at {at} ms");
        }
    }

    #[test]
    fn a_freeze_just_after_an_answer_is_detected_within_1250ms() {
        // The worst case: Redis answers a probe, then freezes.
        let t0 = Instant::now();
        let mut h = Health::new(t0);
        h.handle_ping_sent(t0 + ms(250));
        h.handle_pong(t0 + ms(251));
        let mut now = h.next_wakeup();
        assert_eq!(h.poll_deadline(now), Verdict::Ping);
        h.handle_ping_sent(now);
        now = h.next_wakeup();
        assert!(matches!(h.poll_deadline(now), Verdict::Hung { .. }));
        assert_eq!(now - (t0 + ms(251)), PING_EVERY + PONG_DEADLINE);
    }
}
