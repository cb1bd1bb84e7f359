//! An arena allocator for plugins: allocation bumps a pointer, and freeing gives memory back
//! only when it is the most recent allocation. A plugin opts in with
//!
//! ```ignore
//! #[cfg(target_arch = "wasm32")]
//! #[global_allocator]
//! static ALLOCATOR: caravan_sdk::Arena = caravan_sdk::Arena::new();
//! ```
//!
//! Caravan runs every call in a fresh instance and throws the instance away afterwards, so
//! memory never needs to be reused across calls and most of a general-purpose allocator's work
//! (free lists, coalescing) is wasted. A plugin that builds its answer from many small strings
//! spends a large part of its call in `malloc` and `free`; with the arena it spends almost
//! none. The price is that memory freed out of order is only reclaimed when the call ends, so
//! a plugin that allocates and drops much more than it keeps (a parser working through a large
//! input in many temporary copies) should keep the default allocator: it would reach the
//! call's memory cap sooner.
//!
//! Growing a string or vector that is the latest allocation extends it in place, which covers
//! the common `push`/`format!` patterns without copying.
//!
//! The bookkeeping ([`Region`]) is plain arithmetic over addresses and a [`Memory`], so that
//! it is unit-tested natively; only [`Arena`] touches real memory, on `wasm32`.

#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use core::alloc::Layout;

/// WebAssembly page size.
const PAGE: usize = 64 * 1024;

/// Bytes served from a static buffer before linear memory is grown. The buffer is part of the
/// module's initial memory (zero-initialised, so it costs nothing in the memory image and no
/// page until touched): a typical call then never grows memory, which spares the host the
/// work of changing the instance's accessible size on every call. It is no larger than that:
/// when a call ends the host scans the instance's whole memory for pages to reset, and with a
/// 1 MiB buffer most of the pages scanned were ones no call had used.
const STATIC_BYTES: usize = 256 << 10;

/// Linear memory as the arena sees it.
trait Memory {
    /// Current size in bytes (always whole pages).
    fn size(&self) -> usize;
    /// Adds `pages` pages at the top; `false` when the instance may not grow.
    fn grow(&mut self, pages: usize) -> bool;
}

/// `at` rounded up to `layout`'s alignment, or `None` past the address space. Alignments are
/// powers of two: a mask, where `checked_next_multiple_of` would divide.
#[inline(always)]
fn align_up(at: usize, layout: Layout) -> Option<usize> {
    let mask = layout.align() - 1;
    at.checked_add(mask).map(|at| at & !mask)
}

/// The arena's free region `[next, end)`. `next` only moves backwards when the latest block is
/// freed or shrunk. Both are 0 until the first allocation, which starts in the static buffer.
#[derive(Debug, Default)]
struct Region {
    next: usize,
    end: usize,
}

impl Region {
    /// Makes `[start, start + size)` part of the region, growing memory when the region is at
    /// its top; `false` when it cannot (the region is the static buffer, another part of the
    /// program grew memory past it, or the instance reached its memory cap).
    fn extend(&mut self, memory: &mut impl Memory, start: usize, size: usize) -> bool {
        let Some(wanted) = start.checked_add(size) else {
            return false;
        };
        if wanted <= self.end {
            return true;
        }
        if self.end != memory.size() {
            return false;
        }
        // At least 4 pages at a time (fewer trips to the host, little waste), or just what is
        // missing when the cap is that close.
        let needed = (wanted - self.end).div_ceil(PAGE);
        let Some(pages) = [needed.max(4), needed]
            .into_iter()
            .find(|&pages| memory.grow(pages))
        else {
            return false;
        };
        self.end += pages * PAGE;
        true
    }

    /// The address of a new block, or `None` when memory cannot hold it. `buffer` is the
    /// static buffer's address, used on the first call.
    ///
    /// A block that fits the region is the common case and is inlined into the allocator's
    /// entry points: every string the host passes in and most the plugin builds are one
    /// allocation, so a call makes hundreds of them.
    #[inline(always)]
    fn alloc(&mut self, memory: &mut impl Memory, buffer: usize, layout: Layout) -> Option<usize> {
        if let Some(start) = align_up(self.next, layout)
            && let Some(end) = start.checked_add(layout.size())
            && end <= self.end
            && self.end != 0
        {
            self.next = end;
            return Some(start);
        }
        self.alloc_slow(memory, buffer, layout)
    }

    /// [`Self::alloc`] when the block does not fit the region: the first allocation, or one
    /// that grows memory.
    #[cold]
    #[inline(never)]
    fn alloc_slow(
        &mut self,
        memory: &mut impl Memory,
        buffer: usize,
        layout: Layout,
    ) -> Option<usize> {
        if self.end == 0 {
            self.next = buffer;
            self.end = buffer + STATIC_BYTES;
        }
        let start = align_up(self.next, layout)?;
        if self.extend(memory, start, layout.size()) {
            self.next = start + layout.size();
            return Some(start);
        }
        let top = memory.size();
        if self.end == top {
            // Already at the top: memory is full (the instance's cap).
            return None;
        }
        // The region is the static buffer, or other code grew memory past it: carry on from
        // the top, keeping the current region should that fail.
        let mut moved = Region {
            next: top,
            end: top,
        };
        let start = align_up(top, layout)?;
        if !moved.extend(memory, start, layout.size()) {
            return None;
        }
        moved.next = start + layout.size();
        *self = moved;
        Some(start)
    }

    /// Gives a block back: only the latest block is reclaimed.
    fn dealloc(&mut self, start: usize, layout: Layout) {
        if start + layout.size() == self.next {
            self.next = start;
        }
    }

    /// Resizes the block at `start` where it is when it can: a shrink, or the latest block
    /// growing into the region. `false` means a new block is needed.
    fn resize_in_place(
        &mut self,
        memory: &mut impl Memory,
        start: usize,
        layout: Layout,
        new_size: usize,
    ) -> bool {
        if start + layout.size() == self.next {
            if new_size <= layout.size() || self.extend(memory, start, new_size) {
                self.next = start + new_size;
                return true;
            }
            return false;
        }
        new_size <= layout.size()
    }
}

#[cfg(target_arch = "wasm32")]
pub use self::wasm::Arena;

#[cfg(target_arch = "wasm32")]
mod wasm {
    use core::alloc::{GlobalAlloc, Layout};
    use core::arch::wasm32;
    use core::cell::UnsafeCell;
    use core::ptr;

    use super::{Memory, PAGE, Region, STATIC_BYTES};

    #[repr(C, align(16))]
    struct Buffer([u8; STATIC_BYTES]);

    /// The static part of the arena; only its address is used.
    static mut BUFFER: Buffer = Buffer([0; STATIC_BYTES]);

    /// The instance's memory 0.
    struct Linear;

    impl Memory for Linear {
        fn size(&self) -> usize {
            wasm32::memory_size(0) * PAGE
        }

        fn grow(&mut self, pages: usize) -> bool {
            wasm32::memory_grow(0, pages) != usize::MAX
        }
    }

    /// The allocator; install it with `#[global_allocator]` (see the module documentation).
    pub struct Arena {
        region: UnsafeCell<Region>,
    }

    // SAFETY: a plugin instance is single-threaded (no threads exist in wasm32-wasip2
    // plugins), so the region is never accessed concurrently.
    unsafe impl Sync for Arena {}

    impl Arena {
        /// An empty arena; memory is taken from the instance as allocations need it.
        pub const fn new() -> Self {
            Self {
                region: UnsafeCell::new(Region { next: 0, end: 0 }),
            }
        }

        /// The region, for one allocator call.
        #[allow(clippy::mut_from_ref)]
        fn region(&self) -> &mut Region {
            // SAFETY: single-threaded (see `Sync`), and no allocator call re-enters another.
            unsafe { &mut *self.region.get() }
        }
    }

    impl Default for Arena {
        fn default() -> Self {
            Self::new()
        }
    }

    fn block(at: Option<usize>) -> *mut u8 {
        at.map_or(ptr::null_mut(), |at| at as *mut u8)
    }

    // SAFETY: every block handed out lies in the static buffer or in linear memory obtained
    // from `memory.grow` for the arena alone, is aligned as asked, and is never handed out
    // twice while live: `next` only moves back over the latest block, once its owner gave it
    // up (`Region`'s tests cover this bookkeeping).
    unsafe impl GlobalAlloc for Arena {
        // Inlined into the allocator shim, so an allocation that fits the region is one call
        // rather than two.
        #[inline]
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let buffer = ptr::addr_of_mut!(BUFFER) as usize;
            block(self.region().alloc(&mut Linear, buffer, layout))
        }

        #[inline]
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            self.region().dealloc(ptr as usize, layout);
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let region = self.region();
            if region.resize_in_place(&mut Linear, ptr as usize, layout, new_size) {
                return ptr;
            }
            // SAFETY: `layout.align()` is a valid alignment and `new_size` is non-zero (the
            // `GlobalAlloc::realloc` contract).
            let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            let buffer = ptr::addr_of_mut!(BUFFER) as usize;
            let new = block(region.alloc(&mut Linear, buffer, new_layout));
            if !new.is_null() {
                // SAFETY: both blocks are live, distinct and at least `min(old, new)` long.
                unsafe { ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
            }
            new
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Memory of `pages` pages that grows up to `cap` pages; nothing is stored.
    struct Fake {
        pages: usize,
        cap: usize,
    }

    impl Memory for Fake {
        fn size(&self) -> usize {
            self.pages * PAGE
        }

        fn grow(&mut self, pages: usize) -> bool {
            if self.pages + pages > self.cap {
                return false;
            }
            self.pages += pages;
            true
        }
    }

    /// The static buffer, somewhere inside the first 17 pages (stack and data).
    const BUFFER: usize = 0x2_0000;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    fn memory() -> Fake {
        Fake {
            pages: 40,
            cap: 512,
        }
    }

    #[test]
    fn blocks_come_from_the_static_buffer_aligned_and_without_overlap() {
        let (mut region, mut mem) = (Region::default(), memory());
        let a = region.alloc(&mut mem, BUFFER, layout(3, 1)).unwrap();
        let b = region.alloc(&mut mem, BUFFER, layout(8, 8)).unwrap();
        let c = region.alloc(&mut mem, BUFFER, layout(1, 16)).unwrap();
        assert_eq!(a, BUFFER);
        assert_eq!(b, BUFFER + 8, "aligned past the first block");
        assert_eq!(c % 16, 0);
        assert!(c >= b + 8);
        assert_eq!(mem.pages, 40, "no growth while the buffer has room");
    }

    #[test]
    fn only_the_latest_block_is_reclaimed() {
        let (mut region, mut mem) = (Region::default(), memory());
        let a = region.alloc(&mut mem, BUFFER, layout(100, 4)).unwrap();
        let b = region.alloc(&mut mem, BUFFER, layout(100, 4)).unwrap();
        region.dealloc(a, layout(100, 4));
        let c = region.alloc(&mut mem, BUFFER, layout(10, 4)).unwrap();
        assert!(c >= b + 100, "a block freed out of order is not reused");
        region.dealloc(c, layout(10, 4));
        let d = region.alloc(&mut mem, BUFFER, layout(10, 4)).unwrap();
        assert_eq!(d, c, "the latest block is reused");
    }

    #[test]
    fn the_latest_block_grows_and_shrinks_in_place_and_others_do_not_grow() {
        let (mut region, mut mem) = (Region::default(), memory());
        let a = region.alloc(&mut mem, BUFFER, layout(16, 8)).unwrap();
        assert!(region.resize_in_place(&mut mem, a, layout(16, 8), 4_000));
        assert_eq!(region.next, a + 4_000);
        assert!(region.resize_in_place(&mut mem, a, layout(4_000, 8), 100));
        assert_eq!(region.next, a + 100);
        let b = region.alloc(&mut mem, BUFFER, layout(16, 8)).unwrap();
        assert!(
            !region.resize_in_place(&mut mem, a, layout(100, 8), 200),
            "a block with another after it must move to grow"
        );
        assert!(region.resize_in_place(&mut mem, a, layout(100, 8), 50));
        assert_eq!(
            region.next,
            b + 16,
            "shrinking an older block changes nothing"
        );
    }

    #[test]
    fn past_the_static_buffer_memory_grows_at_the_top() {
        let (mut region, mut mem) = (Region::default(), memory());
        region
            .alloc(&mut mem, BUFFER, layout(STATIC_BYTES - 10, 1))
            .unwrap();
        let top = mem.size();
        let big = region.alloc(&mut mem, BUFFER, layout(300_000, 8)).unwrap();
        assert_eq!(big, top, "the block starts where memory ended");
        assert_eq!(mem.pages, 40 + 5, "300 000 bytes take 5 pages");
        // The next block follows it inside the grown pages, without growing again.
        let next = region.alloc(&mut mem, BUFFER, layout(1_000, 8)).unwrap();
        assert_eq!(next, big + 300_000);
        assert_eq!(mem.pages, 45);
        // The latest block grows in place by growing memory.
        assert!(region.resize_in_place(&mut mem, next, layout(1_000, 8), 100_000));
        assert!(mem.size() >= next + 100_000);
    }

    #[test]
    fn memory_grown_by_someone_else_is_never_handed_out() {
        let (mut region, mut mem) = (Region::default(), memory());
        region
            .alloc(&mut mem, BUFFER, layout(STATIC_BYTES, 1))
            .unwrap();
        let first = region.alloc(&mut mem, BUFFER, layout(10, 1)).unwrap();
        assert_eq!(first, 40 * PAGE);
        // The C library takes two pages at the top.
        mem.grow(2);
        let foreign = (mem.pages - 2) * PAGE..mem.size();
        // Small blocks still fit in the arena's own pages.
        let small = region.alloc(&mut mem, BUFFER, layout(10, 1)).unwrap();
        assert_eq!(small, first + 10);
        // A block too big for them starts above the foreign pages.
        let big = region.alloc(&mut mem, BUFFER, layout(5 * PAGE, 1)).unwrap();
        assert!(big >= foreign.end, "{big:#x} overlaps {foreign:x?}");
        assert!(!region.resize_in_place(&mut mem, small, layout(10, 1), 20));
    }

    #[test]
    fn at_the_memory_cap_allocation_fails_instead_of_overlapping() {
        let (mut region, mut mem) = (Region::default(), Fake { pages: 40, cap: 44 });
        region
            .alloc(&mut mem, BUFFER, layout(STATIC_BYTES, 1))
            .unwrap();
        let a = region.alloc(&mut mem, BUFFER, layout(3 * PAGE, 1)).unwrap();
        assert_eq!((a, mem.pages), (40 * PAGE, 44));
        assert!(
            region
                .alloc(&mut mem, BUFFER, layout(2 * PAGE, 1))
                .is_none()
        );
        mem.cap = 45;
        let exact = region
            .alloc(&mut mem, BUFFER, layout(PAGE + 10, 1))
            .unwrap();
        assert_eq!(
            (exact, mem.pages),
            (a + 3 * PAGE, 45),
            "one page when four do not fit"
        );
        mem.cap = 44;
        assert!(
            region
                .alloc(&mut mem, BUFFER, layout(STATIC_BYTES * 2, 1))
                .is_none()
        );
        // What is left below the cap still serves smaller blocks.
        let b = region.alloc(&mut mem, BUFFER, layout(100, 1)).unwrap();
        assert_eq!(b, exact + PAGE + 10);
    }
}
