//! The story at `info`: a periodic activity summary and the final "stopped" line.
//!
//! Both read the same counters `/metrics` renders (the workers' [`WorkerStats`] and the
//! gateway's [`GatewayStats`]); the summary logs their increase since the previous summary, and
//! nothing when there was none, so an idle node stays quiet. The [`Reporter`] thread also ends
//! the rate-limited lines' intervals ([`LogBudgets`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::log_budget::LogBudgets;
use crate::engine::stats::{DISCONNECT_REASONS, WorkerStats, sum};
use crate::metrics::GatewayStats;

/// How often the rate-limited lines' intervals end when the summary is off (0).
const BUDGET_INTERVAL_WITHOUT_SUMMARY: Duration = Duration::from_secs(60);

/// One reading of the counters the summary reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Sockets connected.
    pub connects: u64,
    /// Sockets disconnected, in the order of [`DISCONNECT_REASONS`].
    pub disconnects: [u64; DISCONNECT_REASONS.len()],
    /// Refused CONNECTs and `auth:refresh` tokens, by reason.
    pub auth_failures: BTreeMap<&'static str, u64>,
    /// CONNECTs refused for any reason (auth and namespace).
    pub connects_refused: u64,
    /// Connections refused at accept (node or per-IP cap: 503/429).
    pub connections_refused: u64,
    /// Publish API requests, by HTTP status.
    pub publish_requests: BTreeMap<u16, u64>,
    /// Events accepted by the publish API.
    pub published_events: u64,
    /// Client events refused by the per-socket rate limit.
    pub rate_limited: u64,
    /// Requests answered with an HTTP error before routing (400, 408, 413, 431).
    pub http_errors: u64,
    /// Connected sockets now (a gauge: reported, never diffed).
    pub sockets: u64,
    /// Open Engine.IO sessions now (a gauge).
    pub sessions: u64,
}

impl Snapshot {
    /// Reads the counters now.
    pub fn read(workers: &[WorkerStats], gateway: &GatewayStats) -> Snapshot {
        let total = |f: fn(&WorkerStats) -> u64| sum(workers, f);
        let disconnects = std::array::from_fn(|i| sum(workers, |w| w.disconnects[i].get()));
        Snapshot {
            connects: total(|w| w.connects.get()),
            disconnects,
            auth_failures: gateway.auth_failures(),
            connects_refused: total(|w| w.connects_refused.get()),
            connections_refused: total(|w| w.connections_refused.get()),
            publish_requests: gateway.publish_requests(),
            published_events: gateway.published_events.load(Ordering::Relaxed),
            rate_limited: gateway.rate_limited.load(Ordering::Relaxed),
            http_errors: total(|w| w.http_errors.get()),
            sockets: total(|w| w.sockets.get()),
            sessions: total(|w| w.sessions_polling.get() + w.sessions_websocket.get()),
        }
    }

    /// The increase of every counter since `earlier`; the gauges are this reading's.
    pub fn since(&self, earlier: &Snapshot) -> Snapshot {
        let mut disconnects = self.disconnects;
        for (n, before) in disconnects.iter_mut().zip(earlier.disconnects) {
            *n = n.saturating_sub(before);
        }
        Snapshot {
            connects: self.connects.saturating_sub(earlier.connects),
            disconnects,
            auth_failures: map_since(&self.auth_failures, &earlier.auth_failures),
            connects_refused: self
                .connects_refused
                .saturating_sub(earlier.connects_refused),
            connections_refused: self
                .connections_refused
                .saturating_sub(earlier.connections_refused),
            publish_requests: map_since(&self.publish_requests, &earlier.publish_requests),
            published_events: self
                .published_events
                .saturating_sub(earlier.published_events),
            rate_limited: self.rate_limited.saturating_sub(earlier.rate_limited),
            http_errors: self.http_errors.saturating_sub(earlier.http_errors),
            sockets: self.sockets,
            sessions: self.sessions,
        }
    }

    /// Whether no counter moved (the gauges do not count: an idle node logs nothing).
    pub fn is_quiet(&self) -> bool {
        self.connects == 0
            && self.disconnects.iter().all(|&n| n == 0)
            && self.auth_failures.is_empty()
            && self.connects_refused == 0
            && self.connections_refused == 0
            && self.publish_requests.is_empty()
            && self.published_events == 0
            && self.rate_limited == 0
            && self.http_errors == 0
    }

    /// Disconnects summed over the reasons.
    pub fn disconnects_total(&self) -> u64 {
        self.disconnects.iter().sum()
    }

    /// `transport close: 2, ping timeout: 1` (reasons with a count only; `none` when empty).
    pub fn disconnect_reasons(&self) -> String {
        by_key(
            DISCONNECT_REASONS
                .iter()
                .zip(self.disconnects)
                .map(|(r, n)| (r.as_str(), n)),
        )
    }

    /// Logs this increase as the interval's summary (`interval_s` long).
    fn log_summary(&self, interval_s: u64) {
        // Passed as `&str` so the text format quotes them (they hold spaces) and JSON gets a
        // plain string.
        let disconnect_reasons = self.disconnect_reasons();
        let auth_failure_reasons = by_key(self.auth_failures.iter().map(|(r, n)| (*r, *n)));
        let publish_statuses = by_key(self.publish_requests.iter().map(|(s, n)| (*s, *n)));
        tracing::info!(
            interval_s,
            connects = self.connects,
            disconnects = self.disconnects_total(),
            disconnect_reasons = disconnect_reasons.as_str(),
            auth_failures = self.auth_failures.values().sum::<u64>(),
            auth_failure_reasons = auth_failure_reasons.as_str(),
            publish_requests = self.publish_requests.values().sum::<u64>(),
            publish_statuses = publish_statuses.as_str(),
            published_events = self.published_events,
            connects_refused = self.connects_refused,
            connections_refused = self.connections_refused,
            rate_limited = self.rate_limited,
            http_errors = self.http_errors,
            sockets = self.sockets,
            sessions = self.sessions,
            "activity summary"
        );
    }
}

/// `earlier`'s keys subtracted from `now`'s, keeping the keys that grew.
fn map_since<K: Ord + Copy>(
    now: &BTreeMap<K, u64>,
    earlier: &BTreeMap<K, u64>,
) -> BTreeMap<K, u64> {
    now.iter()
        .map(|(k, n)| (*k, n.saturating_sub(earlier.get(k).copied().unwrap_or(0))))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// `key: n, key: n` for the non-zero counts; `none` when there are none.
fn by_key<K: std::fmt::Display>(counts: impl Iterator<Item = (K, u64)>) -> String {
    let mut out = String::new();
    for (key, n) in counts.filter(|(_, n)| *n > 0) {
        if !out.is_empty() {
            out.push_str(", ");
        }
        let _ = write!(out, "{key}: {n}");
    }
    if out.is_empty() {
        out.push_str("none");
    }
    out
}

/// The thread that logs the summary every interval and ends the rate-limited lines' intervals.
#[derive(Debug)]
pub struct Reporter {
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
    budgets: Arc<LogBudgets>,
    period: Duration,
    workers: Arc<[WorkerStats]>,
    gateway: Arc<GatewayStats>,
    started: Instant,
}

impl Reporter {
    /// Starts it: a summary every `summary_interval_s` seconds (0: no summary; the rate-limited
    /// lines' intervals then end every minute).
    pub fn start(
        summary_interval_s: u64,
        workers: Arc<[WorkerStats]>,
        gateway: Arc<GatewayStats>,
        budgets: Arc<LogBudgets>,
    ) -> std::io::Result<Reporter> {
        let summary = summary_interval_s > 0;
        let period = if summary {
            Duration::from_secs(summary_interval_s)
        } else {
            BUDGET_INTERVAL_WITHOUT_SUMMARY
        };
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = {
            let (workers, gateway, budgets) = (workers.clone(), gateway.clone(), budgets.clone());
            std::thread::Builder::new()
                .name("ringcast-summary".into())
                .spawn(move || {
                    // The counters start at 0 with the process, so the first interval counts
                    // from there. Reading them here instead raced with the first clients: the
                    // workers accept before this thread first runs (on a busy 2-core machine
                    // several milliseconds later), and whatever they counted meanwhile fell
                    // into the baseline and was never reported.
                    let mut last = Snapshot::default();
                    // Ends on `stop` (or its sender dropped).
                    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(period) {
                        budgets.end_interval(period.as_secs());
                        if summary {
                            let now = Snapshot::read(&workers, &gateway);
                            let delta = now.since(&last);
                            if !delta.is_quiet() {
                                delta.log_summary(period.as_secs());
                            }
                            last = now;
                        }
                    }
                })?
        };
        Ok(Reporter {
            stop,
            thread,
            budgets,
            period,
            workers,
            gateway,
            started: Instant::now(),
        })
    }

    /// After the drain: stops the thread, reports the lines still held back, and logs the final
    /// "stopped" line with the totals since start (the counters start at 0).
    pub fn stopped(self, drained: bool) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
        self.budgets.end_interval(self.period.as_secs());
        let total = Snapshot::read(&self.workers, &self.gateway);
        let disconnect_reasons = total.disconnect_reasons();
        tracing::info!(
            drained,
            uptime_s = self.started.elapsed().as_secs(),
            connects = total.connects,
            disconnects = total.disconnects_total(),
            disconnect_reasons = disconnect_reasons.as_str(),
            auth_failures = total.auth_failures.values().sum::<u64>(),
            publish_requests = total.publish_requests.values().sum::<u64>(),
            published_events = total.published_events,
            sessions_left = total.sessions,
            "stopped"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_increase_keeps_only_what_grew_and_the_gauges_of_now() {
        let earlier = Snapshot {
            connects: 3,
            disconnects: [1, 0, 0, 0, 0, 0, 0],
            auth_failures: BTreeMap::from([("invalid token", 2), ("token expired", 1)]),
            publish_requests: BTreeMap::from([(200, 5)]),
            sockets: 2,
            ..Snapshot::default()
        };
        let now = Snapshot {
            connects: 5,
            disconnects: [3, 0, 0, 1, 0, 0, 0],
            auth_failures: BTreeMap::from([("invalid token", 4), ("token expired", 1)]),
            publish_requests: BTreeMap::from([(200, 5), (401, 2)]),
            sockets: 1,
            ..Snapshot::default()
        };
        let d = now.since(&earlier);
        assert_eq!(d.connects, 2);
        assert_eq!(d.disconnects_total(), 3);
        assert_eq!(
            d.disconnect_reasons(),
            "transport close: 2, ping timeout: 1"
        );
        assert_eq!(d.auth_failures, BTreeMap::from([("invalid token", 2)]));
        assert_eq!(d.publish_requests, BTreeMap::from([(401, 2)]));
        assert_eq!(d.sockets, 1);
        assert!(!d.is_quiet());
    }

    #[test]
    fn an_interval_where_only_gauges_are_nonzero_is_quiet() {
        let s = Snapshot {
            connects: 7,
            sockets: 7,
            sessions: 7,
            ..Snapshot::default()
        };
        let d = s.since(&s);
        assert!(d.is_quiet(), "{d:?}");
        assert_eq!(d.sockets, 7);
        assert_eq!(d.disconnect_reasons(), "none");
    }

    #[test]
    fn counts_by_key_read_as_a_short_list() {
        let cases: [(&[(&str, u64)], &str); 3] = [
            (&[], "none"),
            (&[("a", 0)], "none"),
            (&[("a", 1), ("b", 0), ("c", 2)], "a: 1, c: 2"),
        ];
        for (counts, want) in cases {
            assert_eq!(by_key(counts.iter().copied()), want);
        }
    }
}
