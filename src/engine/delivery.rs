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

/// The batches this core waits on: per batch, the counts so far and the cores still to answer.
#[derive(Debug, Default)]
pub struct PendingCounts {
    batches: Slab<Batch>,
}

#[derive(Debug)]
struct Batch {
    remaining: usize,
    counts: Vec<usize>,
    waker: Option<Waker>,
}

impl PendingCounts {
    /// A new batch of `n` broadcasts; its slot.
    pub fn open(&mut self, n: usize) -> usize {
        self.batches.insert(Batch {
            remaining: 0,
            counts: vec![0; n],
            waker: None,
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

    /// Another core's count for the broadcast `token` names (a [`Msg::Delivered`]).
    pub fn delivered(&mut self, token: ReplyToken, count: usize) {
        let Some(b) = self.batches.get_mut(token.slot()) else {
            return;
        };
        if let Some(c) = b.counts.get_mut(token.index()) {
            *c += count;
        }
        b.remaining = b.remaining.saturating_sub(1);
        if b.remaining == 0
            && let Some(waker) = b.waker.take()
        {
            waker.wake();
        }
    }

    /// The counts once every asked core answered; otherwise remembers `waker`.
    pub fn poll_done(&mut self, slot: usize, waker: &Waker) -> Option<Vec<usize>> {
        match self.batches.get_mut(slot) {
            Some(b) if b.remaining == 0 => Some(self.batches.remove(slot).counts),
            Some(b) => {
                b.waker = Some(waker.clone());
                None
            }
            None => Some(Vec::new()),
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
        assert_eq!(p.poll_done(slot, waker), Some(vec![12, 3]));
        // A late or unknown answer is ignored.
        p.delivered(ReplyToken::new(slot, 0), 1);
        p.delivered(ReplyToken::new(99, 0), 1);
    }
}
