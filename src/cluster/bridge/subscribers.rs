//! How many nodes a broadcast must reach before a publish may say "delivered", sans IO.
//!
//! Redis answers `PUBLISH` with the number of subscribers that received the message. Every
//! socket.io node (ringcast or Node's redis adapter) holds one `PSUBSCRIBE socket.io#/#*`, so
//! for a broadcast channel that number is the count of nodes that got it, this one included.
//! The nodes there are: `PUBSUB NUMSUB` of the request channel, which every node subscribes
//! after its broadcast pattern on the same connection (so a node counted there already has its
//! pattern confirmed). It is refreshed with every health probe (every 250 ms).
//!
//! The gap this closes: when Redis restarts it forgets every subscription. The first node back
//! counts only itself, and would call a PUBLISH that reached 1 receiver complete while the
//! other nodes are still reconnecting. So across our own reconnection the count seen before
//! the outage is kept as a floor, for at most [`RESUBSCRIBE_GRACE`] (a node that does not come
//! back by then is taken as gone) or until the live count reaches it again. A PUBLISH counted
//! by fewer receivers than expected is not a 200.

use std::time::{Duration, Instant};

use crate::cluster::{Handed, PublishError};

/// How long the pre-outage node count still counts after we reconnect. A peer retries at most
/// 3 s apart (the bridge's backoff cap) and each attempt may take up to 3 s (its connect
/// timeout), so a live peer is back within ~6 s of Redis; 10 s leaves margin.
pub(super) const RESUBSCRIBE_GRACE: Duration = Duration::from_secs(10);

/// The nodes expected to receive each broadcast.
#[derive(Debug, Default)]
pub(super) struct Subscribers {
    /// The last live count (`PUBSUB NUMSUB` of the request channel).
    live: usize,
    /// The count before an outage, and until when it still holds.
    floor: Option<(usize, Instant)>,
    /// The connection was lost: the floor starts at the next reconnection.
    pending_floor: Option<usize>,
}

impl Subscribers {
    /// The connection to Redis was lost: remember how many nodes there were.
    pub(super) fn lost(&mut self) {
        let before = self.expected_floor().max(self.live);
        self.pending_floor = Some(before.max(self.pending_floor.unwrap_or(0)));
        self.floor = None;
    }

    /// Connected (subscriptions confirmed) at `now`, with `live` nodes subscribed.
    pub(super) fn connected(&mut self, live: usize, now: Instant) {
        if let Some(before) = self.pending_floor.take() {
            self.floor = Some((before, now + RESUBSCRIBE_GRACE));
        }
        self.counted(live, now);
    }

    /// A fresh `PUBSUB NUMSUB` at `now`.
    pub(super) fn counted(&mut self, live: usize, now: Instant) {
        self.live = live;
        if let Some((floor, until)) = self.floor
            && (live >= floor || now >= until)
        {
            self.floor = None;
        }
    }

    /// The nodes a broadcast must reach at `now`.
    pub(super) fn expected(&self, now: Instant) -> usize {
        match self.floor {
            Some((floor, until)) if now < until => floor.max(self.live),
            _ => self.live,
        }
    }

    fn expected_floor(&self) -> usize {
        self.floor.map_or(0, |(f, _)| f)
    }

    /// Whether a PUBLISH that Redis counted `receivers` for reached every expected node.
    pub(super) fn check(&self, receivers: usize, now: Instant) -> Result<Handed, PublishError> {
        let expected = self.expected(now);
        if receivers >= expected {
            Ok(Handed { receivers })
        } else {
            Err(PublishError::MissingSubscribers {
                receivers,
                expected,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn while_connected_the_live_count_decides() {
        let t0 = Instant::now();
        let mut sub = Subscribers::default();
        sub.connected(2, t0);
        let cases = [
            (2, Ok(Handed { receivers: 2 })),
            (3, Ok(Handed { receivers: 3 })),
            (
                1,
                Err(PublishError::MissingSubscribers {
                    receivers: 1,
                    expected: 2,
                }),
            ),
        ];
        for (receivers, want) in cases {
            assert_eq!(sub.check(receivers, t0), want, "{receivers} receivers");
        }
        // A node that leaves while we are connected is seen leaving.
        sub.counted(1, t0 + s(1));
        assert_eq!(sub.check(1, t0 + s(1)), Ok(Handed { receivers: 1 }));
    }

    #[test]
    fn after_a_reconnection_the_nodes_seen_before_are_expected_until_they_are_back() {
        let t0 = Instant::now();
        let mut sub = Subscribers::default();
        sub.connected(2, t0);
        sub.lost();
        // Redis restarted: we are back first and count only ourselves.
        sub.connected(1, t0 + s(5));
        assert_eq!(sub.expected(t0 + s(5)), 2);
        assert!(sub.check(1, t0 + s(5)).is_err());
        // The peer resubscribed.
        sub.counted(2, t0 + s(6));
        assert_eq!(sub.check(2, t0 + s(6)), Ok(Handed { receivers: 2 }));
        // The floor is gone: a peer leaving later is a live decision again.
        sub.counted(1, t0 + s(7));
        assert_eq!(sub.expected(t0 + s(7)), 1);
    }

    #[test]
    fn a_peer_that_does_not_come_back_is_given_up_after_the_grace() {
        let t0 = Instant::now();
        let mut sub = Subscribers::default();
        sub.connected(3, t0);
        sub.lost();
        sub.connected(2, t0 + s(1));
        let back = t0 + s(1);
        let cases = [(back, 3), (back + s(9), 3), (back + RESUBSCRIBE_GRACE, 2)];
        for (at, want) in cases {
            assert_eq!(sub.expected(at), want);
        }
        sub.counted(2, back + RESUBSCRIBE_GRACE);
        assert_eq!(sub.expected(back + s(60)), 2);
    }

    #[test]
    fn repeated_failed_reconnections_keep_the_highest_count() {
        let t0 = Instant::now();
        let mut sub = Subscribers::default();
        sub.connected(2, t0);
        sub.lost();
        sub.lost();
        sub.connected(1, t0 + s(2));
        // Lost again before the peer was back: the floor still holds the peer.
        sub.lost();
        sub.connected(1, t0 + s(4));
        assert_eq!(sub.expected(t0 + s(4)), 2);
    }
}
