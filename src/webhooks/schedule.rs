//! When to send what: batching and retries as a sans-IO state machine. The sender feeds it
//! events ([`Schedule::handle_event`]) and request results ([`Schedule::handle_result`]), and
//! asks it what to send now ([`Schedule::poll_transmit`]) and when to ask again
//! ([`Schedule::poll_timeout`]). Time is a parameter, so the tests run on a simulated clock.
//!
//! One batch is outstanding at a time (in flight or waiting to be retried), and no new batch
//! is collected meanwhile: the events stay in the bounded queue, so its capacity is the one
//! bound on memory, and a receiver outage shows as counted drops rather than growth.

use std::time::{Duration, Instant};

/// The first retry waits this long; each next one twice as long.
const BACKOFF_BASE: Duration = Duration::from_millis(200);
/// No retry waits longer: 10 s keeps a recovered receiver from waiting long for its events.
const BACKOFF_CAP: Duration = Duration::from_secs(10);

/// The batching and retry bounds.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Most events per batch.
    pub batch_max: usize,
    /// Longest the first event of a batch waits for the batch to fill.
    pub batch_wait: Duration,
    /// Attempts per batch, the first included (at least 1).
    pub attempts: u32,
}

/// A request to make now: the whole body, and which attempt this is (1 for the first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// `{"events":[...]}`.
    pub body: String,
    /// How many events the body holds.
    pub events: usize,
    /// 1 for the first attempt.
    pub attempt: u32,
}

/// What became of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver took the batch (`events` of them).
    Sent { events: usize },
    /// It failed; the same body goes again at `at`.
    Retry { at: Instant },
    /// It failed for the last time; `events` are given up.
    GaveUp { events: usize },
}

/// The state machine over events already serialized (one JSON object each).
#[derive(Debug)]
pub struct Schedule {
    limits: Limits,
    /// Events of the batch being collected, and when its first one arrived.
    collecting: Vec<String>,
    opened: Option<Instant>,
    outstanding: Option<Outstanding>,
}

#[derive(Debug)]
struct Outstanding {
    body: String,
    events: usize,
    attempt: u32,
    /// `None` while in flight; the retry time while waiting.
    retry_at: Option<Instant>,
}

impl Schedule {
    /// An idle schedule.
    pub fn new(limits: Limits) -> Schedule {
        Schedule {
            limits: Limits {
                batch_max: limits.batch_max.max(1),
                attempts: limits.attempts.max(1),
                ..limits
            },
            collecting: Vec::new(),
            opened: None,
            outstanding: None,
        }
    }

    /// How many events it takes now: room left in the batch being collected, 0 while a batch
    /// is outstanding (the rest wait in the queue).
    pub fn room(&self) -> usize {
        if self.outstanding.is_some() {
            0
        } else {
            self.limits.batch_max - self.collecting.len()
        }
    }

    /// An event (its JSON object). Call only while [`Schedule::room`] is above 0.
    pub fn handle_event(&mut self, json: String, now: Instant) {
        debug_assert!(self.room() > 0);
        if self.collecting.is_empty() {
            self.opened = Some(now);
        }
        self.collecting.push(json);
    }

    /// The request to make now, if any: a retry that is due, or a batch that is full or whose
    /// first event has waited `batch_wait`.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        if let Some(o) = &mut self.outstanding {
            return match o.retry_at {
                Some(at) if at <= now => {
                    o.retry_at = None;
                    o.attempt += 1;
                    Some(Transmit {
                        body: o.body.clone(),
                        events: o.events,
                        attempt: o.attempt,
                    })
                }
                _ => None,
            };
        }
        let full = self.collecting.len() >= self.limits.batch_max;
        let due = self
            .opened
            .is_some_and(|t| now.saturating_duration_since(t) >= self.limits.batch_wait);
        if self.collecting.is_empty() || !(full || due) {
            return None;
        }
        let events = std::mem::take(&mut self.collecting);
        self.opened = None;
        let body = batch_body(&events);
        self.outstanding = Some(Outstanding {
            body: body.clone(),
            events: events.len(),
            attempt: 1,
            retry_at: None,
        });
        Some(Transmit {
            body,
            events: events.len(),
            attempt: 1,
        })
    }

    /// The result of the request [`Schedule::poll_transmit`] returned last. `jitter` in
    /// [0, 1) spreads retries of many nodes: the wait is `base · 2^(n-1) · (0.5 + jitter/2)`.
    pub fn handle_result(&mut self, ok: bool, now: Instant, jitter: f64) -> Option<Outcome> {
        let o = self.outstanding.as_mut()?;
        if ok {
            let events = o.events;
            self.outstanding = None;
            return Some(Outcome::Sent { events });
        }
        if o.attempt >= self.limits.attempts {
            let events = o.events;
            self.outstanding = None;
            return Some(Outcome::GaveUp { events });
        }
        let at = now + backoff(o.attempt, jitter);
        o.retry_at = Some(at);
        Some(Outcome::Retry { at })
    }

    /// When [`Schedule::poll_transmit`] may next have something: a retry's time or the
    /// collected batch's deadline. `None`: nothing until an event arrives (or a request in
    /// flight ends).
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.outstanding {
            Some(o) => o.retry_at,
            None => self.opened.map(|t| t + self.limits.batch_wait),
        }
    }

    /// Nothing collected and nothing outstanding.
    pub fn is_idle(&self) -> bool {
        self.collecting.is_empty() && self.outstanding.is_none()
    }
}

/// The wait before attempt `failed + 1`: 200 ms doubled per failed attempt, capped at 10 s,
/// scaled by 0.5–1.0 from `jitter` ("equal jitter": never less than half the backoff).
fn backoff(failed: u32, jitter: f64) -> Duration {
    let doubled = BACKOFF_BASE.saturating_mul(1u32 << failed.saturating_sub(1).min(16));
    doubled
        .min(BACKOFF_CAP)
        .mul_f64(0.5 + jitter.clamp(0.0, 1.0) / 2.0)
}

/// `{"events":[e1,e2,…]}` from the events' JSON objects.
fn batch_body(events: &[String]) -> String {
    let len = events.iter().map(|e| e.len() + 1).sum::<usize>();
    let mut body = String::with_capacity(len + 13);
    body.push_str(r#"{"events":["#);
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(e);
    }
    body.push_str("]}");
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn limits(batch_max: usize, wait_ms: u64, attempts: u32) -> Limits {
        Limits {
            batch_max,
            batch_wait: MS * wait_ms as u32,
            attempts,
        }
    }

    fn ev(n: usize) -> String {
        format!(r#"{{"n":{n}}}"#)
    }

    #[test]
    fn a_full_batch_goes_at_once() {
        let t0 = Instant::now();
        let mut s = Schedule::new(limits(3, 100, 5));
        for n in 0..3 {
            assert_eq!(s.poll_transmit(t0), None);
            s.handle_event(ev(n), t0);
        }
        let tx = s.poll_transmit(t0).expect("full batch");
        assert_eq!(tx.body, r#"{"events":[{"n":0},{"n":1},{"n":2}]}"#);
        assert_eq!((tx.events, tx.attempt), (3, 1));
        assert_eq!(
            s.room(),
            0,
            "nothing is collected while a batch is outstanding"
        );
    }

    #[test]
    fn a_partial_batch_waits_batch_wait_from_its_first_event() {
        let t0 = Instant::now();
        let mut s = Schedule::new(limits(100, 100, 5));
        s.handle_event(ev(1), t0);
        s.handle_event(ev(2), t0 + MS * 60);
        assert_eq!(s.poll_timeout(), Some(t0 + MS * 100));
        assert_eq!(s.poll_transmit(t0 + MS * 99), None);
        let tx = s.poll_transmit(t0 + MS * 100).expect("due");
        assert_eq!(tx.events, 2);
    }

    #[test]
    fn success_frees_the_schedule_for_the_next_batch() {
        let t0 = Instant::now();
        let mut s = Schedule::new(limits(1, 0, 5));
        s.handle_event(ev(1), t0);
        assert!(s.poll_transmit(t0).is_some());
        assert_eq!(
            s.handle_result(true, t0, 0.0),
            Some(Outcome::Sent { events: 1 })
        );
        assert!(s.is_idle());
        assert_eq!(s.room(), 1);
    }

    #[test]
    fn failures_retry_the_same_body_with_doubling_backoff_then_give_up() {
        let t0 = Instant::now();
        let mut s = Schedule::new(limits(2, 0, 4));
        s.handle_event(ev(1), t0);
        let first = s.poll_transmit(t0).expect("due").body;
        let mut now = t0;
        // Jitter 1.0 gives the full backoff: 200, 400, 800 ms.
        for (attempt, wait_ms) in [(2, 200), (3, 400), (4, 800)] {
            let Some(Outcome::Retry { at }) = s.handle_result(false, now, 1.0) else {
                panic!("attempt {attempt} should be a retry");
            };
            assert_eq!(at, now + MS * wait_ms);
            assert_eq!(s.poll_transmit(at - MS), None, "not before its time");
            let tx = s.poll_transmit(at).expect("retry due");
            assert_eq!((tx.body.as_str(), tx.attempt), (first.as_str(), attempt));
            now = at;
        }
        assert_eq!(
            s.handle_result(false, now, 1.0),
            Some(Outcome::GaveUp { events: 1 })
        );
        assert!(s.is_idle());
    }

    #[test]
    fn backoff_is_jittered_between_half_and_full_and_capped() {
        let cases = [
            (1, 0.0, 100),
            (1, 1.0, 200),
            (2, 0.5, 300),
            (6, 1.0, 6_400),
            (7, 1.0, 10_000),
            (30, 1.0, 10_000),
            (30, 0.0, 5_000),
        ];
        for (failed, jitter, want_ms) in cases {
            assert_eq!(backoff(failed, jitter), MS * want_ms, "{failed} {jitter}");
        }
    }

    #[test]
    fn a_result_without_a_request_is_ignored() {
        let mut s = Schedule::new(limits(2, 0, 2));
        assert_eq!(s.handle_result(false, Instant::now(), 0.0), None);
    }
}
