//! Delivery counts for broadcasts that cross cores: an HTTP publish answers with the number of
//! sockets each of its events reached, so every core that fans one out reports its count back to
//! the core that is holding the request.
//!
//! Plain data owned by the worker; the HTTP task that waits on a batch is in
//! `conn/http_api.rs`.
//!
//! A [`ReplyToken`] names one broadcast of such a batch (the waiting request's slot and the
//! broadcast's index); it travels in [`Msg::Broadcast`] and comes back in [`Msg::Delivered`].
//! Encoding and decoding live together here; nothing else looks inside a token. Plain data owned
//! by the worker; the HTTP task that waits on a batch is in `conn/http_api.rs`.

use std::task::Waker;

use slab::Slab;

use super::adapter::{Handed, PublishError};

#[cfg(doc)]
use super::Msg;

/// One broadcast of a counted batch: the batch's slot in [`PendingCounts`] (high 48 bits) and the
/// broadcast's index in it (low 16 bits; a publish carries at most 1 000 events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyToken(u64);

impl ReplyToken {
    /// Broadcasts per batch a token can address.
    pub const MAX_BATCH: usize = 1 << 16;

    /// Broadcast `index` of the batch in `slot`.
    pub fn new(slot: usize, index: usize) -> Self {
        debug_assert!(index < Self::MAX_BATCH);
        ReplyToken(((slot as u64) << 16) | (index as u64 & 0xffff))
    }

    fn slot(self) -> usize {
        (self.0 >> 16) as usize
    }

    fn index(self) -> usize {
        (self.0 & 0xffff) as usize
    }
}

/// A finished (or abandoned) batch: per broadcast, the sockets reached on this node and what
/// the cluster adapter answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub counts: Vec<usize>,
    /// `None`: not published to other nodes (not clustered).
    pub cluster: Vec<Option<Result<Handed, PublishError>>>,
}

/// The batches this core waits on: per batch, the counts so far and the answers (other cores',
/// the cluster adapter's) still to come.
#[derive(Debug, Default)]
pub struct PendingCounts {
    batches: Slab<Batch>,
}

#[derive(Debug)]
struct Batch {
    remaining: usize,
    counts: Vec<usize>,
    cluster: Vec<Option<Result<Handed, PublishError>>>,
    waker: Option<Waker>,
    /// The request stopped waiting (its bound passed): the slot is freed by the last answer,
    /// not before, so a late answer never lands in a newer batch that reused the slot.
    abandoned: bool,
}

impl PendingCounts {
    /// A new batch of `n` broadcasts; its slot.
    pub fn open(&mut self, n: usize) -> usize {
        self.batches.insert(Batch {
            remaining: 0,
            counts: vec![0; n],
            cluster: vec![None; n],
            waker: None,
            abandoned: false,
        })
    }

    /// Broadcast `index` of batch `slot` reached `local` sockets here and asked `cores` others.
    pub fn sent(&mut self, slot: usize, index: usize, local: usize, cores: usize) {
        if let Some(b) = self.batches.get_mut(slot) {
            if let Some(c) = b.counts.get_mut(index) {
                *c += local;
            }
            b.remaining += cores;
        }
    }

    /// Broadcast `index` of batch `slot` was handed to the cluster adapter with a
    /// [`super::adapter::PublishAck`]: the batch also waits for that answer. Until it comes the
    /// broadcast counts as [`PublishError::NoAnswer`].
    pub fn awaiting_ack(&mut self, slot: usize, index: usize) {
        if let Some(b) = self.batches.get_mut(slot)
            && let Some(c) = b.cluster.get_mut(index)
        {
            *c = Some(Err(PublishError::NoAnswer));
            b.remaining += 1;
        }
    }

    /// Another core's count for the broadcast `token` names (a [`Msg::Delivered`]).
    pub fn delivered(&mut self, token: ReplyToken, count: usize) {
        if let Some(b) = self.batches.get_mut(token.slot())
            && let Some(c) = b.counts.get_mut(token.index())
        {
            *c += count;
        }
        self.answered(token.slot());
    }

    /// The cluster adapter's answer for the broadcast `token` names (a [`Msg::Published`]).
    pub fn published(&mut self, token: ReplyToken, outcome: Result<Handed, PublishError>) {
        if let Some(b) = self.batches.get_mut(token.slot())
            && let Some(c) = b.cluster.get_mut(token.index())
        {
            *c = Some(outcome);
        }
        self.answered(token.slot());
    }

    fn answered(&mut self, slot: usize) {
        let Some(b) = self.batches.get_mut(slot) else {
            return;
        };
        b.remaining = b.remaining.saturating_sub(1);
        if b.remaining > 0 {
            return;
        }
        if b.abandoned {
            self.batches.remove(slot);
        } else if let Some(waker) = b.waker.take() {
            waker.wake();
        }
    }

    /// The outcome once every answer arrived; otherwise remembers `waker`.
    pub fn poll_done(&mut self, slot: usize, waker: &Waker) -> Option<Done> {
        match self.batches.get_mut(slot) {
            Some(b) if b.remaining == 0 => Some(Self::done(self.batches.remove(slot))),
            Some(b) => {
                b.waker = Some(waker.clone());
                None
            }
            None => Some(Done {
                counts: Vec::new(),
                cluster: Vec::new(),
            }),
        }
    }

    /// The request stops waiting: what arrived so far (unanswered publications stay
    /// [`PublishError::NoAnswer`]). The slot is freed now, or by its last late answer.
    pub fn abandon(&mut self, slot: usize) -> Done {
        let Some(b) = self.batches.get_mut(slot) else {
            return Done {
                counts: Vec::new(),
                cluster: Vec::new(),
            };
        };
        if b.remaining == 0 {
            return Self::done(self.batches.remove(slot));
        }
        b.abandoned = true;
        b.waker = None;
        Done {
            counts: b.counts.clone(),
            cluster: b.cluster.clone(),
        }
    }

    fn done(b: Batch) -> Done {
        Done {
            counts: b.counts,
            cluster: b.cluster,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trip() {
        for (slot, index) in [(0, 0), (1, 999), (12345, 65535), (1 << 40, 7)] {
            let t = ReplyToken::new(slot, index);
            assert_eq!((t.slot(), t.index()), (slot, index));
        }
    }

    #[test]
    fn a_batch_completes_when_every_asked_core_answered() {
        let waker = std::task::Waker::noop();
        let mut p = PendingCounts::default();
        let slot = p.open(2);
        p.sent(slot, 0, 3, 2);
        p.sent(slot, 1, 1, 1);
        assert_eq!(p.poll_done(slot, waker), None);
        p.delivered(ReplyToken::new(slot, 0), 5);
        p.delivered(ReplyToken::new(slot, 1), 2);
        assert_eq!(p.poll_done(slot, waker), None);
        p.delivered(ReplyToken::new(slot, 0), 4);
        assert_eq!(
            p.poll_done(slot, waker).map(|d| d.counts),
            Some(vec![12, 3])
        );
        // A late or unknown answer is ignored.
        p.delivered(ReplyToken::new(slot, 0), 1);
        p.delivered(ReplyToken::new(99, 0), 1);
    }

    #[test]
    fn a_clustered_batch_also_waits_for_the_adapters_answers() {
        let waker = std::task::Waker::noop();
        let mut p = PendingCounts::default();
        let slot = p.open(2);
        for i in 0..2 {
            p.awaiting_ack(slot, i);
            p.sent(slot, i, 1, 0);
        }
        assert_eq!(p.poll_done(slot, waker), None);
        p.published(ReplyToken::new(slot, 1), Err(PublishError::TimedOut));
        assert_eq!(p.poll_done(slot, waker), None);
        p.published(ReplyToken::new(slot, 0), Ok(Handed { receivers: 2 }));
        assert_eq!(
            p.poll_done(slot, waker),
            Some(Done {
                counts: vec![1, 1],
                cluster: vec![
                    Some(Ok(Handed { receivers: 2 })),
                    Some(Err(PublishError::TimedOut))
                ],
            })
        );
    }

    #[test]
    fn an_abandoned_batch_reports_no_answer_and_frees_its_slot_at_the_last_late_answer() {
        let mut p = PendingCounts::default();
        let slot = p.open(1);
        p.awaiting_ack(slot, 0);
        p.sent(slot, 0, 3, 0);
        let done = p.abandon(slot);
        assert_eq!(done.counts, vec![3]);
        assert_eq!(done.cluster, vec![Some(Err(PublishError::NoAnswer))]);
        // Still held: a new batch gets another slot, so the late answer cannot land in it.
        let other = p.open(1);
        assert_ne!(other, slot);
        p.published(ReplyToken::new(slot, 0), Ok(Handed { receivers: 1 }));
        // Freed now: the slot is reused.
        assert_eq!(p.open(1), slot);
    }
}
