//! Rate-limited log lines: at most [`LINES_PER_INTERVAL`] lines of one kind (auth failures, API
//! 401s) per reporting interval; the rest are counted and reported as one "(k more suppressed)"
//! line when the interval ends ([`super::summary::Reporter`] ends it), so a credential-stuffing
//! client cannot flood the log, and the count of what it did is still there.

use std::sync::Mutex;

/// Lines of one kind logged per interval before the rest are only counted: enough to see who
/// and why (peer, reason) in a burst, few enough that 10 000 refusals a minute stay 11 lines.
pub const LINES_PER_INTERVAL: u32 = 10;

/// The level a kind logs at (and its suppression line with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
}

/// One kind of rate-limited line.
#[derive(Debug)]
pub struct LineBudget {
    /// What the lines are, in the suppression line: `auth failures`.
    kind: &'static str,
    level: Level,
    state: Mutex<Window>,
}

/// The count of one interval (plain data: the rules, unit-tested below).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Window {
    logged: u32,
    suppressed: u64,
}

impl Window {
    /// Whether one more line may be logged in this interval (counted either way).
    fn admit(&mut self) -> bool {
        if self.logged < LINES_PER_INTERVAL {
            self.logged += 1;
            true
        } else {
            self.suppressed += 1;
            false
        }
    }

    /// Ends the interval: the lines held back in it, and a fresh window.
    fn end(&mut self) -> u64 {
        std::mem::take(self).suppressed
    }
}

impl LineBudget {
    /// A budget for lines of `kind` logged at `level`.
    pub const fn new(kind: &'static str, level: Level) -> LineBudget {
        LineBudget {
            kind,
            level,
            state: Mutex::new(Window {
                logged: 0,
                suppressed: 0,
            }),
        }
    }

    /// Whether the caller may log its line now; `false` means it was counted as suppressed.
    pub fn admit(&self) -> bool {
        // A poisoned lock (a panic while holding it, which the code under it cannot do) still
        // holds a valid count.
        let mut window = self.state.lock().unwrap_or_else(|p| p.into_inner());
        window.admit()
    }

    /// Ends the interval, logging "(k more suppressed)" when lines were held back in it.
    pub fn end_interval(&self, interval_s: u64) {
        let suppressed = self.state.lock().unwrap_or_else(|p| p.into_inner()).end();
        if suppressed == 0 {
            return;
        }
        let kind = self.kind;
        match self.level {
            Level::Info => tracing::info!(
                kind,
                suppressed,
                interval_s,
                "{kind}: ({suppressed} more suppressed)"
            ),
            Level::Warn => tracing::warn!(
                kind,
                suppressed,
                interval_s,
                "{kind}: ({suppressed} more suppressed)"
            ),
        }
    }
}

/// The gateway's rate-limited line kinds.
#[derive(Debug)]
pub struct LogBudgets {
    /// Refused CONNECTs and `auth:refresh` tokens (INFO: clients with stale tokens are routine).
    pub auth_failures: LineBudget,
    /// Publish API requests without a valid key (WARN: a backend is misconfigured, or someone
    /// is guessing keys).
    pub api_unauthorized: LineBudget,
}

impl Default for LogBudgets {
    fn default() -> Self {
        LogBudgets {
            auth_failures: LineBudget::new("auth failures", Level::Info),
            api_unauthorized: LineBudget::new("publish API 401s", Level::Warn),
        }
    }
}

impl LogBudgets {
    /// Ends the interval of every kind (see [`LineBudget::end_interval`]).
    pub fn end_interval(&self, interval_s: u64) {
        self.auth_failures.end_interval(interval_s);
        self.api_unauthorized.end_interval(interval_s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_admits_its_budget_then_counts_the_rest() {
        // (lines offered, admitted, suppressed)
        let cases = [(0, 0, 0), (1, 1, 0), (10, 10, 0), (11, 10, 1), (25, 10, 15)];
        for (offered, admitted, suppressed) in cases {
            let mut w = Window::default();
            let got = (0..offered).filter(|_| w.admit()).count();
            assert_eq!(got, admitted, "{offered} offered");
            assert_eq!(w.end(), suppressed, "{offered} offered");
        }
    }

    #[test]
    fn ending_the_interval_starts_a_fresh_budget() {
        let mut w = Window::default();
        for _ in 0..12 {
            w.admit();
        }
        assert_eq!(w.end(), 2);
        assert_eq!(w, Window::default());
        assert!(w.admit(), "a new interval logs again");
        assert_eq!(w.end(), 0);
    }
}
