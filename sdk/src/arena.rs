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

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::cell::UnsafeCell;
use core::ptr;

/// WebAssembly page size.
const PAGE: usize = 64 * 1024;

/// Bytes served from a static buffer before linear memory is grown. The buffer is part of the
/// module's initial memory (zero-initialised, so it costs nothing in the memory image and no
/// page until touched): a typical call then never grows memory, which spares the host the
/// work of changing the instance's accessible size on every call.
const STATIC_BYTES: usize = 1 << 20;

#[repr(C, align(16))]
struct Buffer([u8; STATIC_BYTES]);

/// The static part of the arena; only its address is used.
static mut BUFFER: Buffer = Buffer([0; STATIC_BYTES]);

/// The arena's region: `[next, end)` is free; `next` only moves backwards when the latest
/// allocation is freed or shrunk. Both are 0 until the first allocation.
struct State {
    next: usize,
    end: usize,
}

/// The allocator; install it with `#[global_allocator]` (see the module documentation).
pub struct Arena {
    state: UnsafeCell<State>,
}

// SAFETY: a plugin instance is single-threaded (no threads exist in wasm32-wasip2 plugins),
// so the state is never accessed concurrently.
unsafe impl Sync for Arena {}

impl Arena {
    /// An empty arena; memory is taken from the instance as allocations need it.
    pub const fn new() -> Self {
        Self {
            state: UnsafeCell::new(State { next: 0, end: 0 }),
        }
    }
}

impl Default for Arena {
    fn default() -> Self {
        Self::new()
    }
}

impl State {
    /// Makes `[start, start + size)` part of the region, growing linear memory when the region
    /// is at its top; `false` when it cannot (the region is the static buffer or another part
    /// of memory grew past it, or the instance reached its memory cap).
    fn extend(&mut self, start: usize, size: usize) -> bool {
        let Some(wanted) = start.checked_add(size) else {
            return false;
        };
        if wanted <= self.end {
            return true;
        }
        if self.end != wasm32::memory_size(0) * PAGE {
            return false;
        }
        // At least 4 pages at a time: fewer trips to the host, little waste.
        let pages = (wanted - self.end).div_ceil(PAGE).max(4);
        if wasm32::memory_grow(0, pages) == usize::MAX {
            return false;
        }
        self.end += pages * PAGE;
        true
    }

    fn alloc(&mut self, layout: Layout) -> *mut u8 {
        if self.end == 0 {
            let buffer = ptr::addr_of_mut!(BUFFER) as usize;
            self.next = buffer;
            self.end = buffer + STATIC_BYTES;
        }
        let aligned = |at: usize| (at + layout.align() - 1) & !(layout.align() - 1);
        let start = aligned(self.next);
        if !self.extend(start, layout.size()) {
            // Carry on from the top of linear memory.
            let top = wasm32::memory_size(0) * PAGE;
            self.next = top;
            self.end = top;
            let start = aligned(top);
            if !self.extend(start, layout.size()) {
                return ptr::null_mut();
            }
            self.next = start + layout.size();
            return start as *mut u8;
        }
        self.next = start + layout.size();
        start as *mut u8
    }
}

// SAFETY: every block handed out lies in the static buffer or in linear memory obtained from
// `memory.grow` for the arena alone, is aligned as asked, and is never handed out twice while live: `next` only
// moves back over the latest block, once its owner gave it up.
unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: single-threaded, see `Sync`.
        let state = unsafe { &mut *self.state.get() };
        state.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: single-threaded, see `Sync`.
        let state = unsafe { &mut *self.state.get() };
        if ptr as usize + layout.size() == state.next {
            state.next = ptr as usize;
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: single-threaded, see `Sync`.
        let state = unsafe { &mut *self.state.get() };
        let start = ptr as usize;
        if start + layout.size() == state.next {
            // The latest block grows or shrinks where it is.
            if new_size <= layout.size() || state.extend(start, new_size) {
                state.next = start + new_size;
                return ptr;
            }
        } else if new_size <= layout.size() {
            return ptr;
        }
        // SAFETY: `layout.align()` is a valid alignment and `new_size` is non-zero (the
        // `GlobalAlloc::realloc` contract).
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let new = state.alloc(new_layout);
        if !new.is_null() {
            // SAFETY: both blocks are live, distinct and at least `min(old, new)` long.
            unsafe { ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
        }
        new
    }
}
