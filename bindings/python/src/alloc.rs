//! The extension's global allocator: mimalloc (see Cargo.toml for why), called without the
//! alignment argument whenever the layout asks for no more than every block already has.
//!
//! mimalloc's `mi_malloc_aligned` takes a fast path too, but only after checking the alignment
//! and the free block it found; Rust asks for an alignment on every allocation, and nearly all
//! of them are the ordinary one. The rule is the one Rust's own `System` allocator applies to
//! `malloc`: mimalloc returns blocks of sixteen bytes or more on a sixteen-byte boundary (its
//! size classes above eight bytes are multiples of sixteen) and smaller ones on their size, so a
//! layout whose alignment is at most sixteen and at most its size needs nothing more.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// The alignment every mimalloc block of at least this size has (MI_MAX_ALIGN_SIZE).
const MIN_ALIGN: usize = 16;

pub struct MiMalloc;

#[inline(always)]
fn plain(layout: &Layout) -> bool {
    layout.align() <= MIN_ALIGN && layout.align() <= layout.size()
}

// SAFETY: every function hands mimalloc a request it serves with at least the layout's
// alignment (see `plain` and the module comment) and frees only what mimalloc allocated.
unsafe impl GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if plain(&layout) {
            mi::mi_malloc(layout.size()).cast()
        } else {
            mi::mi_malloc_aligned(layout.size(), layout.align()).cast()
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if plain(&layout) {
            mi::mi_zalloc(layout.size()).cast()
        } else {
            mi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        mi::mi_free(ptr.cast::<c_void>());
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= MIN_ALIGN && layout.align() <= new_size {
            mi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
        } else {
            mi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
        }
    }
}
