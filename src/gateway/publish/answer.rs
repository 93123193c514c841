//! The publish API's answer: what `POST /api/v1/emit` says happened to its events.
//!
//! - `200 {"delivered": N, "events": [n, …]}`: every event reached `n` sockets on this node
//!   and, clustered, was handed to Redis and counted by every node expected to be subscribed
//!   (`"receivers": [r, …]`: the subscribers Redis counted per event, this node included).
//! - `503 {"error": …, "reason": …, "delivered": N, "events": [n, …], "unconfirmed": [i, …]}`:
//!   the events at the indices in `unconfirmed` are not known to have reached the other nodes
//!   (`reason`, the first one's: `redis_unavailable`, `redis_timeout`, `redis_error`,
//!   `subscribers_missing`, `publish_queue_full`, `bridge_stopped`, `no_answer`). They did reach
//!   the `events[i]` sockets of this node: a retry delivers them there again.

use std::fmt::Write;

use crate::engine::BroadcastOutcome;

/// The status and JSON body for `outcome`.
pub fn publish_answer(outcome: &BroadcastOutcome) -> (u16, String) {
    let total: usize = outcome.delivered.iter().sum();
    let events = join(outcome.delivered.iter());
    let mut unconfirmed = Vec::new();
    let mut receivers = Vec::new();
    let mut reason = None;
    for (i, answer) in outcome.cluster.iter().enumerate() {
        match answer {
            None => {}
            Some(Ok(handed)) => receivers.push(handed.receivers),
            Some(Err(e)) => {
                unconfirmed.push(i);
                reason.get_or_insert(e.reason());
            }
        }
    }
    if let Some(reason) = reason {
        let unconfirmed = join(unconfirmed.iter());
        return (
            503,
            format!(
                r#"{{"error":"not confirmed on the other nodes ({reason}): delivered on this node only","reason":"{reason}","delivered":{total},"events":[{events}],"unconfirmed":[{unconfirmed}]}}"#
            ),
        );
    }
    let mut body = format!(r#"{{"delivered":{total},"events":[{events}]"#);
    if !receivers.is_empty() {
        let _ = write!(body, r#","receivers":[{}]"#, join(receivers.iter()));
    }
    body.push('}');
    (200, body)
}

/// Unconfirmed events in `outcome` (for the failure counter).
pub fn unconfirmed_events(outcome: &BroadcastOutcome) -> usize {
    outcome
        .cluster
        .iter()
        .filter(|a| matches!(a, Some(Err(_))))
        .count()
}

fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    let mut out = String::new();
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{item}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::adapter::{Handed, PublishError};

    fn outcome(
        delivered: &[usize],
        cluster: &[Option<Result<usize, PublishError>>],
    ) -> BroadcastOutcome {
        BroadcastOutcome {
            delivered: delivered.to_vec(),
            cluster: cluster
                .iter()
                .map(|a| a.map(|r| r.map(|receivers| Handed { receivers })))
                .collect(),
        }
    }

    #[test]
    fn the_status_says_whether_every_event_reached_every_node() {
        let missing = PublishError::MissingSubscribers {
            receivers: 1,
            expected: 2,
        };
        let cases = [
            (
                "not clustered",
                outcome(&[3, 0], &[None, None]),
                200,
                r#"{"delivered":3,"events":[3,0]}"#.to_owned(),
            ),
            (
                "acknowledged by two nodes",
                outcome(&[3, 1], &[Some(Ok(2)), Some(Ok(2))]),
                200,
                r#"{"delivered":4,"events":[3,1],"receivers":[2,2]}"#.to_owned(),
            ),
            (
                "one event not acknowledged",
                outcome(&[3, 1], &[Some(Ok(2)), Some(Err(PublishError::TimedOut))]),
                503,
                r#"{"error":"not confirmed on the other nodes (redis_timeout): delivered on this node only","reason":"redis_timeout","delivered":4,"events":[3,1],"unconfirmed":[1]}"#.to_owned(),
            ),
            (
                "a node not yet resubscribed",
                outcome(&[0], &[Some(Err(missing))]),
                503,
                r#"{"error":"not confirmed on the other nodes (subscribers_missing): delivered on this node only","reason":"subscribers_missing","delivered":0,"events":[0],"unconfirmed":[0]}"#.to_owned(),
            ),
        ];
        for (name, outcome, status, body) in cases {
            assert_eq!(publish_answer(&outcome), (status, body), "{name}");
        }
    }

    #[test]
    fn unconfirmed_events_are_counted() {
        let o = outcome(
            &[0, 0, 0],
            &[
                Some(Ok(1)),
                Some(Err(PublishError::Unavailable)),
                Some(Err(PublishError::NoAnswer)),
            ],
        );
        assert_eq!(unconfirmed_events(&o), 2);
    }
}
