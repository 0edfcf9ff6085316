//! Host-side support for tests of the syscall layer (hosted targets only).
//!
//! The host HAL's user copies reach only memory a HAL page table maps: the user memory of a
//! contained process. [`UserArena`] is such memory — frames of a fresh physical memory mapped
//! read-write at the start of a page table's region — with a bump allocator to place a call's
//! inputs and outputs, and an address just past it that faults.
//!
//! ```
//! use rvisor_linux_syscall::testing::UserArena;
//! use rvisor_linux_syscall::user::UserInPtr;
//!
//! let arena = UserArena::new(4);
//! let path = arena.put_cstr("/etc/passwd");
//! assert_eq!(UserInPtr::<u8>::from(path).read_path().unwrap(), "/etc/passwd");
//! assert!(UserInPtr::<u8>::from(arena.unmapped()).read_bytes(1).is_err());
//! ```

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};
use kernel_hal_lkm::{platform, MmuFlags, PageTable, PhysFrame, PAGE_SIZE};
use spin::Mutex;

use crate::user::{copy_from_user, copy_to_user};

/// Mapped user memory for a test, with a bump allocator.
pub struct UserArena {
    _table: Mutex<Box<dyn PageTable>>,
    _frames: Vec<PhysFrame>,
    base: usize,
    len: usize,
    next: AtomicUsize,
}

impl UserArena {
    /// `pages` pages of zeroed, readable and writable user memory.
    ///
    /// # Panics
    ///
    /// If the host HAL cannot provide them (a test setup failure).
    pub fn new(pages: usize) -> Self {
        let memory = platform()
            .and_then(|platform| platform.new_physical_memory(pages))
            .expect("host physical memory");
        let frames = PhysFrame::alloc_contiguous(&memory, pages, 0).expect("frames");
        let mut table = memory.clone().new_page_table().expect("page table");
        let base = table.region().start;
        let first = frames.first().map_or(0, PhysFrame::paddr);
        table
            .map(base, first, pages, MmuFlags::READ | MmuFlags::WRITE)
            .expect("mapping the arena");
        Self {
            _table: Mutex::new(table),
            _frames: frames,
            base,
            len: pages * PAGE_SIZE,
            next: AtomicUsize::new(0),
        }
    }

    /// The first address of the arena.
    pub fn base(&self) -> usize {
        self.base
    }

    /// An address right after the arena: not mapped, so any access there is `EFAULT`.
    pub fn unmapped(&self) -> usize {
        self.base + self.len
    }

    /// Reserves `len` bytes (8-byte aligned) and returns their address.
    ///
    /// # Panics
    ///
    /// If the arena is full.
    pub fn alloc(&self, len: usize) -> usize {
        let offset = self.next.fetch_add(len.div_ceil(8) * 8, Ordering::Relaxed);
        assert!(offset + len <= self.len, "user arena exhausted");
        self.base + offset
    }

    /// Places `bytes` in the arena and returns their address.
    pub fn put_bytes(&self, bytes: &[u8]) -> usize {
        let addr = self.alloc(bytes.len());
        copy_to_user(addr, bytes).expect("writing the arena");
        addr
    }

    /// Places `text` and a NUL in the arena and returns its address.
    pub fn put_cstr(&self, text: &str) -> usize {
        let mut bytes = Vec::from(text.as_bytes());
        bytes.push(0);
        self.put_bytes(&bytes)
    }

    /// Places `bytes` so that they end exactly at the end of the arena (the next byte faults).
    pub fn put_at_end(&self, bytes: &[u8]) -> usize {
        let addr = self.unmapped() - bytes.len();
        copy_to_user(addr, bytes).expect("writing the arena");
        addr
    }

    /// Reads `len` bytes at `addr`.
    pub fn get_bytes(&self, addr: usize, len: usize) -> Vec<u8> {
        let mut bytes = alloc::vec![0; len];
        copy_from_user(addr, &mut bytes).expect("reading the arena");
        bytes
    }
}

/// A [`TaskHost`](crate::TaskHost) that does nothing: enough for calls that never ask the
/// machine under the process for anything (the file calls).
#[derive(Debug, Default)]
pub struct NullHost;

impl crate::TaskHost for NullHost {
    fn set_clear_child_tid(&self, _addr: usize) {}
}

struct Unparker(std::thread::Thread);

impl alloc::task::Wake for Unparker {
    fn wake(self: alloc::sync::Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` (a syscall) to completion on this thread, parking between polls until a
/// waker fires.
pub fn block_on<F: core::future::Future>(future: F) -> F::Output {
    let mut future = core::pin::pin!(future);
    let waker = core::task::Waker::from(alloc::sync::Arc::new(Unparker(std::thread::current())));
    let mut cx = core::task::Context::from_waker(&waker);
    loop {
        if let core::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}
