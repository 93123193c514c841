//! The sender thread: drains the queue into the [`Schedule`], makes the requests it asks for,
//! feeds back their results, counts, and logs (rate-limited). Workers only push and unpark it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_queue::ArrayQueue;

use super::http;
use super::schedule::{Limits, Outcome, Schedule};
use crate::auth::Secret;
use crate::config::WebhookUrl;
use crate::metrics::GatewayStats;

/// At most one "request failed" WARN per 10 s: an unreachable receiver would otherwise log
/// every retry of every batch.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// What the thread needs.
pub(super) struct Sender {
    pub queue: Arc<ArrayQueue<String>>,
    pub url: WebhookUrl,
    pub secret: Secret,
    pub limits: Limits,
    pub timeout: Duration,
    pub stats: Arc<GatewayStats>,
}

impl Sender {
    /// Runs until the process ends.
    pub(super) fn run(self) {
        let mut schedule = Schedule::new(self.limits);
        let mut last_failure_log: Option<Instant> = None;
        loop {
            let now = Instant::now();
            while schedule.room() > 0 {
                match self.queue.pop() {
                    Some(event) => schedule.handle_event(event, now),
                    None => break,
                }
            }
            if let Some(tx) = schedule.poll_transmit(now) {
                if tx.attempt > 1 {
                    self.stats.webhooks.retries.fetch_add(1, Ordering::Relaxed);
                }
                let timestamp = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let result = http::post(
                    &self.url,
                    self.secret.expose().as_bytes(),
                    timestamp,
                    &tx.body,
                    self.timeout,
                );
                let ok = matches!(result, Ok(200..=299));
                if !ok && due(&mut last_failure_log, Instant::now()) {
                    let error = match &result {
                        Ok(status) => format!("answered {status}"),
                        Err(e) => e.clone(),
                    };
                    tracing::warn!(url = %self.url, attempt = tx.attempt, events = tx.events, error, "webhook request failed");
                }
                let jitter = f64::from(getrandom::u32().unwrap_or(0)) / f64::from(u32::MAX);
                match schedule.handle_result(ok, Instant::now(), jitter) {
                    Some(Outcome::Sent { events }) => {
                        self.stats
                            .webhooks
                            .sent
                            .fetch_add(events as u64, Ordering::Relaxed);
                    }
                    Some(Outcome::GaveUp { events }) => {
                        self.stats
                            .webhooks
                            .failed
                            .fetch_add(events as u64, Ordering::Relaxed);
                        tracing::warn!(url = %self.url, events, attempts = tx.attempt, "webhook batch given up");
                    }
                    Some(Outcome::Retry { .. }) | None => {}
                }
                continue;
            }
            // Parked until the next batch or retry is due; a worker's push unparks it.
            let wait = schedule
                .poll_timeout()
                .map_or(Duration::from_secs(1), |t| t.saturating_duration_since(now));
            if !wait.is_zero() && (schedule.room() == 0 || self.queue.is_empty()) {
                std::thread::park_timeout(wait);
            }
        }
    }
}

/// Whether a rate-limited line may go now (and notes that it does).
fn due(last: &mut Option<Instant>, now: Instant) -> bool {
    if last.is_some_and(|t| now.saturating_duration_since(t) < LOG_EVERY) {
        return false;
    }
    *last = Some(now);
    true
}
