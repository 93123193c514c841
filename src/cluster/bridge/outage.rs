//! When to say that Redis is still down. The bridge retries every 3 s at most (its connection
//! backoff); logging each attempt would print a WARN every 3 s for as long as Redis stays away.
//! An [`Outage`] lets the first failure through, then one line after 3 s, 6 s more, 12 s more …
//! at most one per [`MAX_GAP`], each saying how long Redis has been down; the reconnection is
//! one line with the outage's length. Time is a parameter (unit-tested below).

use std::time::{Duration, Instant};

/// The gap after the first logged failure; doubled after each logged line.
const FIRST_GAP: Duration = Duration::from_secs(3);
/// The longest gap between two "still down" lines: five minutes, so a long outage still shows
/// up in any ten-minute window of the log.
const MAX_GAP: Duration = Duration::from_secs(300);

/// The state of one outage (none while connected).
#[derive(Debug, Default)]
pub(super) struct Outage {
    /// Down since then (`None`: connected, or never tried).
    since: Option<Instant>,
    /// Failed connection attempts in this outage.
    attempts: u32,
    /// The next failure at or after this instant is logged.
    next_line: Option<Instant>,
    /// The gap that follows the next logged line.
    gap: Duration,
}

/// What a logged line reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Report {
    /// How long Redis has been down.
    pub down_for: Duration,
    /// Failed connection attempts since the outage began.
    pub attempts: u32,
}

impl Outage {
    /// The connection broke at `now`: an outage begins (the caller logs that once, always).
    pub fn lost(&mut self, now: Instant) {
        *self = Outage {
            since: Some(now),
            attempts: 0,
            next_line: Some(now),
            gap: FIRST_GAP,
        };
    }

    /// A connection attempt failed at `now`: `Some` when this failure is to be logged.
    pub fn failed(&mut self, now: Instant) -> Option<Report> {
        let since = *self.since.get_or_insert(now);
        self.attempts = self.attempts.saturating_add(1);
        let due = self.next_line.is_none_or(|at| now >= at);
        if !due {
            return None;
        }
        let gap = if self.next_line.is_none() {
            FIRST_GAP
        } else {
            self.gap
        };
        self.next_line = Some(now + gap);
        self.gap = gap.saturating_mul(2).min(MAX_GAP);
        Some(Report {
            down_for: now.saturating_duration_since(since),
            attempts: self.attempts,
        })
    }

    /// Connected at `now`: the outage that ended, if there was one.
    pub fn recovered(&mut self, now: Instant) -> Option<Report> {
        let since = self.since?;
        let report = Report {
            down_for: now.saturating_duration_since(since),
            attempts: self.attempts,
        };
        *self = Outage::default();
        Some(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seconds (from the outage's start) of the failures that get a line, for a failure
    /// every `every` seconds during `for_secs`.
    fn logged(every: u64, for_secs: u64, lost_first: bool) -> Vec<(u64, u32)> {
        let t0 = Instant::now();
        let mut o = Outage::default();
        if lost_first {
            o.lost(t0);
        }
        (0..=for_secs)
            .step_by(every as usize)
            .filter_map(|s| o.failed(t0 + Duration::from_secs(s)))
            .map(|r| (r.down_for.as_secs(), r.attempts))
            .collect()
    }

    #[test]
    fn the_still_down_lines_space_out_to_five_minutes() {
        // A failure every second: lines at 0, 3, 3+6, 9+12, 21+24, 45+48, 93+96, 189+192,
        // then every 300 s.
        let secs: Vec<u64> = logged(1, 1_200, false).into_iter().map(|l| l.0).collect();
        assert_eq!(secs, [0, 3, 9, 21, 45, 93, 189, 381, 681, 981]);
    }

    #[test]
    fn each_line_counts_every_failed_attempt_so_far() {
        let lines = logged(3, 30, false);
        assert_eq!(lines, [(0, 1), (3, 2), (9, 4), (21, 8)]);
    }

    #[test]
    fn after_a_lost_connection_the_first_failure_is_logged_with_the_time_since() {
        let lines = logged(2, 10, true);
        assert_eq!(lines, [(0, 1), (4, 3), (10, 6)]);
    }

    #[test]
    fn recovery_reports_the_outage_once_and_resets() {
        let t0 = Instant::now();
        let mut o = Outage::default();
        assert_eq!(o.recovered(t0), None, "connected at start: no outage");
        o.failed(t0);
        o.failed(t0 + Duration::from_secs(3));
        let r = o.recovered(t0 + Duration::from_secs(5));
        assert_eq!(
            r,
            Some(Report {
                down_for: Duration::from_secs(5),
                attempts: 2
            })
        );
        assert_eq!(o.recovered(t0 + Duration::from_secs(6)), None);
        let again = o.failed(t0 + Duration::from_secs(7));
        assert_eq!(
            again.map(|r| (r.down_for, r.attempts)),
            Some((Duration::ZERO, 1)),
            "a new outage starts its own clock and its own spacing"
        );
    }
}
