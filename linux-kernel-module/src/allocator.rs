//! The kernel heap (kmalloc) as Rust's global allocator.

use alloc::boxed::Box;
use core::alloc::{GlobalAlloc, Layout};

use crate::bindings;
use crate::error::{Error, Result};
use crate::user_ptr::Pod;

/// kmalloc with `GFP_KERNEL`: may sleep, so never allocate through it in atomic context (under a
/// [`crate::sync::SpinLock`], in a tracepoint or in the gate's ftrace callback); use
/// [`try_box_atomic`] there.
pub struct KernelAllocator;

// SAFETY: kmalloc returns memory aligned to ARCH_KMALLOC_MINALIGN, and the shim rounds
// over-aligned requests to a power of two at least as large as the alignment, which kmalloc aligns
// naturally; kfree accepts every pointer kmalloc and krealloc return.
unsafe impl GlobalAlloc for KernelAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: a plain call into the shim; it returns NULL on failure.
        unsafe { bindings::rvisor_kmalloc(layout.size() as _, layout.align() as _) as *mut u8 }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from `alloc`/`realloc` of this allocator (GlobalAlloc's contract).
        unsafe { bindings::rvisor_kfree(ptr as *const _) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= 8 {
            // SAFETY: `ptr` is ours; krealloc keeps kmalloc's minimum alignment.
            return unsafe { bindings::rvisor_krealloc(ptr as *mut _, new_size as _) as *mut u8 };
        }
        // krealloc does not know about larger alignments: move by hand.
        // SAFETY: `new_size` is non-zero and `layout.align()` a power of two (realloc's contract).
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: as in `alloc`.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are live, distinct and at least `min(old, new)` bytes long.
            unsafe {
                core::ptr::copy_nonoverlapping(ptr, new, core::cmp::min(layout.size(), new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

#[cfg(target_os = "none")]
#[global_allocator]
static ALLOCATOR: KernelAllocator = KernelAllocator;

/// `Box::new` for atomic context: `GFP_ATOMIC`, and `ENOMEM` instead of an abort on failure.
pub fn try_box_atomic<T>(value: T) -> Result<Box<T>> {
    try_box_atomic_or_back(value).map_err(|_| Error::ENOMEM)
}

/// [`try_box_atomic`] that hands the value back on failure, for values that must not be dropped
/// where the allocation failed (their drop may sleep).
pub fn try_box_atomic_or_back<T>(value: T) -> core::result::Result<Box<T>, T> {
    let layout = Layout::new::<T>();
    if layout.size() == 0 {
        return Ok(Box::new(value));
    }
    // SAFETY: a plain call into the shim; it returns NULL on failure.
    let ptr = unsafe { bindings::rvisor_kmalloc_atomic(layout.size() as _, layout.align() as _) }
        as *mut T;
    if ptr.is_null() {
        return Err(value);
    }
    // SAFETY: `ptr` is a fresh allocation of `T`'s size and alignment; once written it is a valid
    // `T`. The global allocator is kmalloc, so the Box's eventual kfree matches the allocation.
    unsafe {
        ptr.write(value);
        Ok(Box::from_raw(ptr))
    }
}

/// A zeroed `T` on the heap: for structures too large for the kernel stack. `ENOMEM` on failure.
pub fn try_box_zeroed<T: Pod>() -> Result<Box<T>> {
    let layout = Layout::new::<T>();
    if layout.size() == 0 {
        return Err(Error::EINVAL);
    }
    // SAFETY: the layout has a non-zero size.
    let ptr = unsafe { alloc::alloc::alloc_zeroed(layout) } as *mut T;
    if ptr.is_null() {
        return Err(Error::ENOMEM);
    }
    // SAFETY: a fresh allocation of `T`'s layout, all zero, which is a valid `T` (`T: Pod`).
    Ok(unsafe { Box::from_raw(ptr) })
}
