//! Per-core recycled memory for the connection task's future.
//!
//! Every accepted connection runs [`super::serve`], whose future is ~3.7 KiB (the HTTP routing
//! state: request head, polling, upgrade, the server API's routes). A websocket needs it only
//! for its handshake: at the upgrade the connection moves to a ~0.4 KiB reader task and this one
//! ends. Spawned as is, each handshake allocated those 3.7 KiB from the heap and freed them a
//! moment later, after the new session's long-lived allocations had been made around them;
//! glibc then cut those freed chunks up for later small allocations, and the next handshakes
//! took fresh memory again. Measured with 10 000 websockets connected in one storm: 2.3 KiB
//! per connection of freed, still resident heap (RSS 5.0 KiB per connection, 2.7 KiB when only
//! allocations of 3–4 KiB were moved out of the heap with glibc's `mmap_threshold`).
//!
//! [`InBlock`] keeps such a future in a fixed block taken from this core's free list and gives
//! the block back when the future is dropped, so handshake after handshake reuses the same few
//! blocks and never frees them among the sessions. The list keeps at most [`MAX_FREE`] blocks
//! (what a storm of that many handshakes at once needed); past it, blocks are freed.

use std::alloc::{Layout, alloc, dealloc, handle_alloc_error};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

/// One block: room for the largest future kept here (checked at compile time in
/// [`InBlock::new`]).
pub(crate) const BLOCK: usize = 4096;
/// The connection future is aligned to 128 bytes (64 fails the check in [`InBlock::new`]).
const ALIGN: usize = 128;
/// Free blocks kept per core: 1 024 × 4 KiB = 4 MiB at most, after a storm of that many
/// handshakes in flight at once.
const MAX_FREE: usize = 1024;

fn layout() -> Layout {
    // BLOCK is a non-zero multiple of ALIGN, a power of two: always a valid layout.
    Layout::from_size_align(BLOCK, ALIGN).unwrap_or_else(|_| unreachable!())
}

struct FreeBlocks {
    free: Vec<NonNull<u8>>,
    max: usize,
}

impl FreeBlocks {
    fn take(&mut self) -> NonNull<u8> {
        match self.free.pop() {
            Some(block) => block,
            None => {
                // SAFETY: the layout's size is non-zero.
                let ptr = unsafe { alloc(layout()) };
                NonNull::new(ptr).unwrap_or_else(|| handle_alloc_error(layout()))
            }
        }
    }

    fn give(&mut self, block: NonNull<u8>) {
        if self.free.len() < self.max {
            self.free.push(block);
        } else {
            // SAFETY: `block` came from `alloc(layout())` in `take` and is no longer used.
            unsafe { dealloc(block.as_ptr(), layout()) }
        }
    }
}

impl Drop for FreeBlocks {
    fn drop(&mut self) {
        for block in self.free.drain(..) {
            // SAFETY: as in `give`: allocated with this layout, owned by the list alone.
            unsafe { dealloc(block.as_ptr(), layout()) }
        }
    }
}

thread_local! {
    static FREE: RefCell<FreeBlocks> = const {
        RefCell::new(FreeBlocks { free: Vec::new(), max: MAX_FREE })
    };
}

/// A future kept in a block of this core's free list (see the module docs). `!Send`: the block
/// goes back to the list of the thread that drops it, which is the one that made it.
pub(crate) struct InBlock<F: Future> {
    block: NonNull<F>,
    /// Owns an `F`, and ties the type to this thread (a raw pointer is `!Send`).
    _owns: std::marker::PhantomData<*mut F>,
}

impl<F: Future> InBlock<F> {
    pub(crate) fn new(future: F) -> Self {
        const {
            assert!(
                std::mem::size_of::<F>() <= BLOCK,
                "future larger than a block"
            );
            assert!(
                std::mem::align_of::<F>() <= ALIGN,
                "future aligned past a block"
            );
        }
        let block = FREE.with_borrow_mut(FreeBlocks::take).cast::<F>();
        // SAFETY: the block is BLOCK bytes aligned to ALIGN, which holds an `F` (checked above),
        // and nothing else uses it until it is given back in `drop`.
        unsafe { block.as_ptr().write(future) };
        InBlock {
            block,
            _owns: std::marker::PhantomData,
        }
    }
}

impl<F: Future> Future for InBlock<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: the block holds the `F` written in `new` until `drop`, and `&mut self` gives
        // exclusive access to it.
        let future = unsafe { &mut *self.block.as_ptr() };
        // SAFETY: the `F` stays at this address until `drop` drops it in place: it is never
        // moved, so pinning it is sound.
        let future = unsafe { Pin::new_unchecked(future) };
        future.poll(cx)
    }
}

impl<F: Future> Drop for InBlock<F> {
    fn drop(&mut self) {
        // SAFETY: the block holds the `F` written in `new`, dropped only here.
        unsafe { std::ptr::drop_in_place(self.block.as_ptr()) };
        let block = self.block.cast::<u8>();
        // During thread teardown the list may be gone: the block is then freed instead.
        if FREE.try_with(|f| f.borrow_mut().give(block)).is_err() {
            // SAFETY: allocated with `layout()` in `FreeBlocks::take`; nothing refers to it.
            unsafe { dealloc(block.as_ptr(), layout()) }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;
    use std::task::Waker;

    use super::*;

    fn free_blocks() -> usize {
        FREE.with_borrow(|f| f.free.len())
    }

    fn poll_once<F: Future>(f: &mut InBlock<F>) -> Poll<F::Output> {
        let mut cx = Context::from_waker(Waker::noop());
        Pin::new(f).poll(&mut cx)
    }

    #[test]
    fn a_future_in_a_block_runs_to_its_output() {
        let mut pending = true;
        let mut f = InBlock::new(std::future::poll_fn(move |_| {
            if std::mem::take(&mut pending) {
                Poll::Pending
            } else {
                Poll::Ready(42)
            }
        }));
        assert_eq!(poll_once(&mut f), Poll::Pending);
        assert_eq!(poll_once(&mut f), Poll::Ready(42));
    }

    #[test]
    fn a_dropped_future_is_dropped_and_its_block_reused() {
        struct Flag(Rc<Cell<bool>>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.set(true);
            }
        }
        let dropped = Rc::new(Cell::new(false));
        let flag = Flag(dropped.clone());
        let f = InBlock::new(async move {
            let _flag = flag;
            std::future::pending::<()>().await;
        });
        let first = f.block.cast::<u8>();
        let before = free_blocks();
        drop(f);
        assert!(dropped.get(), "the future's state was dropped with it");
        assert_eq!(free_blocks(), before + 1, "the block went back to the list");
        let g = InBlock::new(async {});
        assert_eq!(
            g.block.cast::<u8>(),
            first,
            "the next future takes the same block"
        );
    }

    #[test]
    fn the_list_keeps_at_most_its_limit() {
        let mut list = FreeBlocks {
            free: Vec::new(),
            max: 2,
        };
        let blocks: Vec<_> = (0..3).map(|_| list.take()).collect();
        for b in blocks {
            list.give(b);
        }
        assert_eq!(list.free.len(), 2, "the third block was freed");
    }
}
