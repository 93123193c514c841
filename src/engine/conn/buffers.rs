//! Per-core pools of websocket I/O buffers, so that an idle websocket holds none.
//!
//! A websocket needs a read buffer only while a read is in flight and a write buffer only while
//! a batch is being written; between messages (most of a subscriber's life) both sat empty at
//! their largest size, ~0.5 KiB of read buffer and at least the 101 response's 256 bytes of write
//! buffer per idle connection, more after a large batch. The reader now waits for readability
//! without a buffer and the writer gives its buffer back when it has nothing to send: both take
//! one from this core's pool when they need it, so a burst reuses the same few buffers instead
//! of calling the allocator per read or write.

use std::cell::RefCell;

/// Free buffers of one kind on this core, last in first out (the most recently used one is the
/// one most likely still in cache).
pub(crate) struct Pool {
    free: Vec<Vec<u8>>,
    /// Sum of the free buffers' capacities.
    held: usize,
    /// What a fresh buffer is allocated with.
    fresh: usize,
    /// Most bytes of free buffers this pool keeps; a buffer given back past it is freed.
    max_held: usize,
    /// Largest buffer kept; a larger one (after a large message or batch) is freed.
    max_buffer: usize,
}

impl Pool {
    pub(crate) const fn new(fresh: usize, max_buffer: usize, max_held: usize) -> Self {
        Pool {
            free: Vec::new(),
            held: 0,
            fresh,
            max_held,
            max_buffer,
        }
    }

    /// An empty buffer: a pooled one, or a fresh one of `fresh` bytes.
    pub(crate) fn take(&mut self) -> Vec<u8> {
        match self.free.pop() {
            Some(buf) => {
                self.held -= buf.capacity();
                buf
            }
            None => Vec::with_capacity(self.fresh),
        }
    }

    /// Gives `buf` back (its contents are dropped): kept for the next `take` unless it is larger
    /// than `max_buffer` or the pool already holds `max_held` bytes.
    pub(crate) fn give(&mut self, mut buf: Vec<u8>) {
        let cap = buf.capacity();
        if cap == 0 || cap > self.max_buffer || self.held + cap > self.max_held {
            return;
        }
        buf.clear();
        self.held += cap;
        self.free.push(buf);
    }

    /// Free buffers held now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.free.len()
    }
}

/// Read buffers start at 4 KiB: a pooled buffer is shared by every connection of the core, so it
/// can be larger than the 512 bytes an idle connection used to keep; the reader still grows its
/// buffer while a large message arrives. Reads in flight at once are few (a buffer is taken only
/// once the socket is readable and comes back as soon as its bytes are decoded): 64 of them,
/// 256 KiB, are kept.
const READ_FRESH: usize = 4096;
const READ_MAX_BUFFER: usize = 64 * 1024;
const READ_MAX_HELD: usize = 256 * 1024;

/// Write buffers start at 1 KiB (a broadcast frame is ~100–300 bytes) and grow with their batch.
/// A broadcast wakes every writer of the core in the same turn and each keeps its buffer until
/// its write completes, so up to one buffer per recipient is out at once: 2 MiB are kept (2 048
/// buffers of 1 KiB), enough for the 1 000 recipients of fanout-1k to reuse the same buffers
/// broadcast after broadcast, and 0.1 KiB per connection at 19 000 idle connections in the
/// worst case. A buffer over 64 KiB (a large batch) is freed rather than kept.
const WRITE_FRESH: usize = 1024;
const WRITE_MAX_BUFFER: usize = 64 * 1024;
const WRITE_MAX_HELD: usize = 2 * 1024 * 1024;

thread_local! {
    static READ: RefCell<Pool> = const { RefCell::new(Pool::new(READ_FRESH, READ_MAX_BUFFER, READ_MAX_HELD)) };
    static WRITE: RefCell<Pool> = const { RefCell::new(Pool::new(WRITE_FRESH, WRITE_MAX_BUFFER, WRITE_MAX_HELD)) };
}

/// A read buffer from this core's pool.
pub(crate) fn take_read() -> Vec<u8> {
    READ.with_borrow_mut(Pool::take)
}

/// Gives a read buffer back to this core's pool.
pub(crate) fn give_read(buf: Vec<u8>) {
    READ.with_borrow_mut(|p| p.give(buf));
}

/// A write buffer from this core's pool.
pub(crate) fn take_write() -> Vec<u8> {
    WRITE.with_borrow_mut(Pool::take)
}

/// Gives a write buffer back to this core's pool.
pub(crate) fn give_write(buf: Vec<u8>) {
    WRITE.with_borrow_mut(|p| p.give(buf));
}

#[cfg(test)]
mod tests {
    use super::Pool;

    #[test]
    fn a_given_buffer_is_taken_again_empty() {
        let mut pool = Pool::new(16, 1024, 4096);
        let mut buf = pool.take();
        assert_eq!(buf.capacity(), 16);
        buf.extend_from_slice(&[7; 100]);
        let cap = buf.capacity();
        let ptr = buf.as_ptr();
        pool.give(buf);
        let again = pool.take();
        assert_eq!(
            (again.as_ptr(), again.capacity(), again.len()),
            (ptr, cap, 0)
        );
        assert_eq!(pool.len(), 0);
    }

    #[test]
    fn what_is_kept_is_bounded() {
        // (buffer capacities given back, buffers kept): the pool keeps at most 4 096 bytes, no
        // buffer over 1 024 bytes, and no empty (unallocated) vector.
        let cases: &[(&[usize], usize)] = &[
            (&[1024, 1024, 1024, 1024], 4),
            (&[1024, 1024, 1024, 1024, 1024], 4),
            (&[2048], 0),
            (&[0, 512], 1),
            (&[1024, 2048, 512], 2),
        ];
        for &(caps, kept) in cases {
            let mut pool = Pool::new(16, 1024, 4096);
            for &cap in caps {
                pool.give(Vec::with_capacity(cap));
            }
            assert_eq!(pool.len(), kept, "{caps:?}");
        }
    }

    #[test]
    fn taking_frees_room_for_more() {
        let mut pool = Pool::new(16, 1024, 2048);
        pool.give(Vec::with_capacity(1024));
        pool.give(Vec::with_capacity(1024));
        pool.give(Vec::with_capacity(1024));
        assert_eq!(pool.len(), 2);
        let one = pool.take();
        pool.give(Vec::with_capacity(1024));
        assert_eq!(pool.len(), 2);
        drop(one);
    }
}
