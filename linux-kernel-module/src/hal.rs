//! What the kernel backend of `kernel-hal-lkm` is made of: shmem files as physical memory,
//! file mappings in the current process, the clocks, and a wait queue to park on.

use core::ptr::NonNull;
use core::time::Duration;

use crate::bindings;
use crate::error::{Error, Result};

/// `PROT_*` bits of a mapping.
pub mod prot {
    /// Readable.
    pub const READ: u32 = 1;
    /// Writable.
    pub const WRITE: u32 = 2;
    /// Executable.
    pub const EXEC: u32 = 4;
}

/// An unlinked shmem (tmpfs) file, held.
pub struct ShmemFile(NonNull<bindings::file>);

// SAFETY: a counted `struct file`; reads, writes and mappings of it are serialised by the VFS
// and the mm, and it may be released from any task.
unsafe impl Send for ShmemFile {}
// SAFETY: as above: every operation through `&ShmemFile` is safe to run concurrently.
unsafe impl Sync for ShmemFile {}

fn check_count(ret: i64, wanted: usize) -> Result<()> {
    let count = Error::check(ret)?;
    if usize::try_from(count).ok() == Some(wanted) {
        Ok(())
    } else {
        Err(Error::EIO)
    }
}

impl ShmemFile {
    /// A sparse file of `size` bytes named `name` (shown in `/proc/*/maps` of the processes
    /// mapping it).
    pub fn new(name: &core::ffi::CStr, size: u64) -> Result<Self> {
        let mut out = core::ptr::null_mut();
        // SAFETY: `name` is NUL-terminated; `out` is valid for a write; process context.
        let ret = unsafe { bindings::rvisor_shmem_new(name.as_ptr(), size, &mut out) };
        Error::check(ret.into())?;
        NonNull::new(out).map(Self).ok_or(Error::ENOMEM)
    }

    fn raw(&self) -> *mut bindings::file {
        self.0.as_ptr()
    }

    /// Fills `buf` from `offset`.
    pub fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        // SAFETY: `buf` is writable for its length; the file is held.
        let ret = unsafe {
            bindings::rvisor_file_read(
                self.raw(),
                offset,
                buf.as_mut_ptr().cast(),
                buf.len() as u64,
            )
        };
        check_count(ret, buf.len())
    }

    /// Writes all of `buf` at `offset`.
    pub fn write_all_at(&self, offset: u64, buf: &[u8]) -> Result<()> {
        // SAFETY: `buf` is readable for its length; the file is held.
        let ret = unsafe {
            bindings::rvisor_file_write(self.raw(), offset, buf.as_ptr().cast(), buf.len() as u64)
        };
        check_count(ret, buf.len())
    }

    /// Frees `len` bytes at `offset`: they read as zero afterwards.
    pub fn punch(&self, offset: u64, len: u64) -> Result<()> {
        // SAFETY: the file is held.
        Error::check(unsafe { bindings::rvisor_file_punch(self.raw(), offset, len) }.into())
            .map(drop)
    }

    /// Maps `len` bytes from `offset` at `addr` of the current process, copy-on-write
    /// (`MAP_PRIVATE`): what the process writes stays its own, and a fork copies it.
    /// `EEXIST` if something is mapped there already.
    pub fn map_into_current(&self, addr: usize, len: usize, prot: u32, offset: u64) -> Result<()> {
        // SAFETY: the file is held; vm_mmap changes only the current process's user mappings,
        // which no Rust object lives in.
        let ret = unsafe {
            bindings::rvisor_vm_map_file(self.raw(), addr as u64, len as u64, prot, offset)
        };
        Error::check(ret.into()).map(drop)
    }

    /// Maps all `len` bytes of the file shared (`MAP_SHARED`) into the current process at
    /// `addr` (a hint unless `flags` has `MAP_FIXED` or `MAP_FIXED_NOREPLACE`, the only flags
    /// kept); returns the address.
    pub fn map_shared_into_current(
        &self,
        addr: usize,
        len: usize,
        prot: u32,
        flags: u32,
    ) -> Result<usize> {
        // SAFETY: the file is held; vm_mmap changes only the current process's user mappings,
        // which no Rust object lives in, and checks every argument.
        let ret =
            unsafe { bindings::rvisor_vm_map_shared(self.raw(), addr as _, len as _, prot, flags) };
        Error::check(ret).map(|addr| addr as usize)
    }

    /// Unmaps from the current process the areas mapping this file within `addr..addr +
    /// len` that sit where an attachment at `addr` puts them (Linux's `shmdt`, which leaves
    /// other mappings in the range alone); how many it unmapped.
    pub fn unmap_range_from_current(&self, addr: usize, len: usize) -> Result<usize> {
        // SAFETY: the file is held; vm_munmap changes only the current process's user
        // mappings, which no Rust object lives in.
        let ret = unsafe { bindings::rvisor_vm_unmap_file_range(self.raw(), addr as _, len as _) };
        Error::check(ret).map(|count| count as usize)
    }

    /// How many memory areas of any process map this file (what System V's `shm_nattch`
    /// counts: an attachment, a forked copy of one, each piece `mprotect` splits one into).
    pub fn mappings(&self) -> usize {
        // SAFETY: the file is held; the walk takes the mapping's own lock.
        let count = unsafe { bindings::rvisor_file_mappings(self.raw()) };
        usize::try_from(count).unwrap_or(0)
    }

    /// The offset in this file and the `PROT_*` bits of the page at `addr` of the current
    /// process; `ENOENT` if no mapping of this file covers it.
    pub fn query_current(&self, addr: usize) -> Result<(u64, u32)> {
        let (mut offset, mut prot) = (0, 0);
        // SAFETY: the file is held; the outputs are valid for writes.
        let ret =
            unsafe { bindings::rvisor_vm_query(self.raw(), addr as u64, &mut offset, &mut prot) };
        Error::check(ret.into())?;
        Ok((offset, prot))
    }
}

impl Drop for ShmemFile {
    fn drop(&mut self) {
        // SAFETY: releases the reference this object holds, once.
        unsafe { bindings::rvisor_file_put(self.raw()) }
    }
}

/// Unmaps `addr..addr + len` of the current process.
pub fn unmap_current(addr: usize, len: usize) -> Result<()> {
    // SAFETY: changes only the current process's user mappings, which no Rust object lives in.
    Error::check(unsafe { bindings::rvisor_vm_unmap(addr as u64, len as u64) }.into()).map(drop)
}

/// `mprotect` of `addr..addr + len` of the current process.
pub fn protect_current(addr: usize, len: usize, prot: u32) -> Result<()> {
    // SAFETY: changes only the current process's user mappings, which no Rust object lives in.
    Error::check(unsafe { bindings::rvisor_vm_protect(addr as u64, len as u64, prot) }.into())
        .map(drop)
}

/// The end of the current process's user address space.
pub fn task_size() -> usize {
    // SAFETY: reads a constant of the current task's personality.
    unsafe { bindings::rvisor_task_size() as usize }
}

/// Time since boot (`ktime_get_ns`), never going back.
pub fn monotonic_now() -> Duration {
    // SAFETY: reads the clock; callable from any context.
    Duration::from_nanos(unsafe { bindings::rvisor_monotonic_ns() })
}

/// Time since the Unix epoch (`ktime_get_real_ns`).
pub fn realtime_now() -> Duration {
    // SAFETY: reads the clock; callable from any context.
    Duration::from_nanos(unsafe { bindings::rvisor_realtime_ns() })
}

/// How a [`WaitQueueParker::park`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Park {
    /// Unparked (before or during the park).
    Unparked,
    /// The timeout passed first.
    TimedOut,
    /// A signal is pending for the task.
    Interrupted,
}

/// A wait queue and a token: a task sleeps on it interruptibly until the token is given.
pub struct WaitQueueParker(NonNull<bindings::rvisor_parker>);

// SAFETY: the wait queue and the token are made for use from many tasks at once.
unsafe impl Send for WaitQueueParker {}
// SAFETY: as above.
unsafe impl Sync for WaitQueueParker {}

impl WaitQueueParker {
    /// A parker with no unpark pending.
    pub fn new() -> Result<Self> {
        // SAFETY: allocates and initialises a parker; process context.
        let raw = unsafe { bindings::rvisor_parker_new() };
        NonNull::new(raw).map(Self).ok_or(Error::ENOMEM)
    }

    /// Sleeps until unparked, for at most `timeout`, or until a signal is pending. Sleeps:
    /// process context only.
    pub fn park(&self, timeout: Option<Duration>) -> Park {
        let timeout_ns = timeout.map_or(-1, |timeout| {
            i64::try_from(timeout.as_nanos()).unwrap_or(i64::MAX)
        });
        // SAFETY: the parker is alive while `self` is; the caller may sleep.
        match unsafe { bindings::rvisor_parker_park(self.0.as_ptr(), timeout_ns) } as u32 {
            bindings::rvisor_park_result_RVISOR_PARK_TIMED_OUT => Park::TimedOut,
            bindings::rvisor_park_result_RVISOR_PARK_INTERRUPTED => Park::Interrupted,
            _ => Park::Unparked,
        }
    }

    /// The shim's parker (for the shim's own waits on it).
    pub(crate) fn as_ptr(&self) -> *mut bindings::rvisor_parker {
        self.0.as_ptr()
    }

    /// Wakes the parked task, or makes its next park return at once. Any context.
    pub fn unpark(&self) {
        // SAFETY: the parker is alive while `self` is; waking is allowed in any context.
        unsafe { bindings::rvisor_parker_unpark(self.0.as_ptr()) }
    }
}

impl Drop for WaitQueueParker {
    fn drop(&mut self) {
        // SAFETY: nobody can park on or unpark a parker being dropped (`&mut self`).
        unsafe { bindings::rvisor_parker_free(self.0.as_ptr()) }
    }
}
