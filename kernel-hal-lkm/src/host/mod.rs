//! The host backend: the HAL surface served from user space, for tests on a hosted target.
//!
//! It does what the kernel backend will do, with the user-space twin of each kernel call:
//!
//! | surface | host | kernel |
//! |---|---|---|
//! | physical memory | a tmpfs file under `/dev/shm`, removed on drop | a `shmem_file_setup` file |
//! | pmem read/write | `pread`/`pwrite` at the frame's offset | `kernel_read`/`kernel_write` |
//! | page-table map | `mmap(MAP_SHARED\|MAP_FIXED)` of the file into a reserved region | `vm_mmap` into the current process |
//! | user copy | `process_vm_readv`/`writev` on the own process | `copy_from_user`/`copy_to_user` |
//! | park | a futex wait, interrupted by a signal handler | a wait queue, interrupted by a pending signal |
//!
//! User memory on the host is what host page tables map: user copies reach only the regions
//! those page tables reserved, never the Rust objects of the test process.
//!
//! ```
//! use kernel_hal_lkm::{host::HostPlatform, HalError, MmuFlags, PhysFrame, Platform};
//!
//! let memory = HostPlatform.new_physical_memory(1).unwrap();
//! let frame = PhysFrame::alloc(&memory).unwrap();
//! let mut table = memory.clone().new_page_table().unwrap();
//! let user = table.region().start;
//! table.map(user, frame.paddr(), 1, MmuFlags::READ | MmuFlags::WRITE).unwrap();
//!
//! HostPlatform.copy_to_user(user + 8, &0x1234_u64.to_ne_bytes()).unwrap();
//! let mut copy = [0; 8];
//! memory.read(frame.paddr() + 8, &mut copy).unwrap();
//! assert_eq!(u64::from_ne_bytes(copy), 0x1234);
//!
//! let kernel_side = 0_u64;
//! let mut byte = [0];
//! assert_eq!(
//!     HostPlatform.copy_from_user(&kernel_side as *const u64 as usize, &mut byte),
//!     Err(HalError::Fault)
//! );
//! ```

mod page_table;
mod parker;
mod physical_memory;

pub use page_table::{HostMmu, HostPageTable};
pub use parker::HostParker;
pub use physical_memory::{HostFile, HostPhysicalMemory};

use crate::surface::{HalError, Parker, PhysicalMemory, Platform, VirtAddr};
use alloc::sync::Arc;
use core::ops::Range;
use core::time::Duration;
use std::{
    io,
    sync::{OnceLock, PoisonError, RwLock},
    time::{Instant, SystemTime, UNIX_EPOCH},
    vec::Vec,
};

/// The host backend's [`Platform`].
pub struct HostPlatform;

/// The regions reserved by live host page tables: the process's user memory.
///
/// A user copy holds the read lock for its system call, and a region is given back under the
/// write lock, so a copy never reaches addresses the process may have reused.
static USER_REGIONS: RwLock<Vec<Range<VirtAddr>>> = RwLock::new(Vec::new());

/// Makes `region` user memory.
fn add_user_region(region: Range<VirtAddr>) {
    USER_REGIONS
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .push(region);
}

/// Makes `region` no longer user memory, and then runs `give_back`, before any copy can look.
fn remove_user_region(region: &Range<VirtAddr>, give_back: impl FnOnce()) {
    let mut regions = USER_REGIONS.write().unwrap_or_else(PoisonError::into_inner);
    regions.retain(|known| known != region);
    give_back();
}

/// Runs `copy` if `addr..addr + len` lies in one user region, which stays so meanwhile.
fn with_user_range(
    addr: VirtAddr,
    len: usize,
    copy: impl FnOnce() -> isize,
) -> Result<(), HalError> {
    let end = addr.checked_add(len).ok_or(HalError::Fault)?;
    let regions = USER_REGIONS.read().unwrap_or_else(PoisonError::into_inner);
    if !regions
        .iter()
        .any(|region| region.start <= addr && end <= region.end)
    {
        return Err(HalError::Fault);
    }
    check_user_copy(copy(), len)
}

/// The fixed point of [`HostPlatform::monotonic_now`]: the first time anyone asked.
static MONOTONIC_ORIGIN: OnceLock<Instant> = OnceLock::new();

impl Platform for HostPlatform {
    fn relax(&self) {
        std::thread::yield_now();
    }

    fn fill_random(&self, buf: &mut [u8]) {
        let mut filled = 0;
        while filled < buf.len() {
            let rest = &mut buf[filled..];
            // SAFETY: `rest` is writable for its length.
            let got = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
            if got > 0 {
                filled += got as usize;
            }
            // A signal may cut it short (got < 0, EINTR): go on for the rest.
        }
    }

    fn monotonic_now(&self) -> Duration {
        MONOTONIC_ORIGIN.get_or_init(Instant::now).elapsed()
    }

    fn realtime_now(&self) -> Duration {
        // A clock set before 1970 reads as the epoch rather than failing.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
    }

    fn copy_from_user(&self, src: VirtAddr, dst: &mut [u8]) -> Result<(), HalError> {
        let len = dst.len();
        let local = libc::iovec {
            iov_base: dst.as_mut_ptr().cast(),
            iov_len: len,
        };
        let remote = libc::iovec {
            iov_base: src as *mut libc::c_void,
            iov_len: len,
        };
        with_user_range(src, len, || {
            // SAFETY: `local` describes `dst`, which is exclusively borrowed for the call.
            // `remote` lies in a page table's reserved region, which holds no Rust object; the
            // kernel reads it through the process's page tables and reports EFAULT instead of
            // faulting.
            unsafe { libc::process_vm_readv(libc::getpid(), &local, 1, &remote, 1, 0) }
        })
    }

    fn copy_to_user(&self, dst: VirtAddr, src: &[u8]) -> Result<(), HalError> {
        let local = libc::iovec {
            iov_base: src.as_ptr() as *mut libc::c_void,
            iov_len: src.len(),
        };
        let remote = libc::iovec {
            iov_base: dst as *mut libc::c_void,
            iov_len: src.len(),
        };
        with_user_range(dst, src.len(), || {
            // SAFETY: `local` describes `src`, which the kernel only reads. `remote` lies in a
            // page table's reserved region, which holds only mappings of physical-memory files
            // and the reservation, never a Rust object; the kernel writes it through the
            // process's page tables and reports EFAULT for unmapped or read-only pages instead
            // of faulting.
            unsafe { libc::process_vm_writev(libc::getpid(), &local, 1, &remote, 1, 0) }
        })
    }

    fn new_parker(&self) -> Result<Arc<dyn Parker>, HalError> {
        Ok(Arc::new(HostParker::new()))
    }

    fn new_physical_memory(&self, max_frames: usize) -> Result<Arc<dyn PhysicalMemory>, HalError> {
        Ok(Arc::new(HostPhysicalMemory::new(max_frames)?))
    }
}

/// Turns the result of `process_vm_readv`/`writev` into the user copy's result.
fn check_user_copy(copied: isize, wanted: usize) -> Result<(), HalError> {
    if copied < 0 {
        return match io::Error::last_os_error().raw_os_error() {
            Some(libc::EFAULT) => Err(HalError::Fault),
            errno => Err(errno_error(errno)),
        };
    }
    // A short copy stopped at an inaccessible page.
    if copied.unsigned_abs() == wanted {
        Ok(())
    } else {
        Err(HalError::Fault)
    }
}

/// The HAL error for a failed system call's errno.
fn errno_error(errno: Option<i32>) -> HalError {
    HalError::Backend(errno.unwrap_or(libc::EIO))
}

/// The HAL error for a failed `std::io` call.
fn io_error(error: io::Error) -> HalError {
    errno_error(error.raw_os_error())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surface::{MmuFlags, PageTable, PhysAddr, PAGE_SIZE};
    use alloc::boxed::Box;

    /// A page of user memory: the memory, its frame, and the page table mapping it.
    fn user_page(flags: MmuFlags) -> (Arc<dyn PhysicalMemory>, PhysAddr, Box<dyn PageTable>) {
        let memory = HostPlatform.new_physical_memory(2).unwrap();
        let paddr = memory.frame_alloc_contiguous(1, 0).unwrap();
        let mut table = memory.clone().new_page_table().unwrap();
        let start = table.region().start;
        table.map(start + PAGE_SIZE, paddr, 1, flags).unwrap();
        (memory, paddr, table)
    }

    #[test]
    fn user_copies_reach_mapped_user_memory() {
        let (memory, paddr, table) = user_page(MmuFlags::READ | MmuFlags::WRITE);
        let user = table.region().start + PAGE_SIZE;
        HostPlatform.copy_to_user(user + 4, b"user").unwrap();
        let mut back = [0u8; 4];
        memory.read(paddr + 4, &mut back).unwrap();
        assert_eq!(&back, b"user");
        memory.write(paddr + 100, b"frame").unwrap();
        let mut seen = [0u8; 5];
        HostPlatform.copy_from_user(user + 100, &mut seen).unwrap();
        assert_eq!(&seen, b"frame");
    }

    #[test]
    fn user_copies_outside_mapped_user_memory_fault() {
        let (_memory, _paddr, table) = user_page(MmuFlags::READ);
        let user = table.region().start + PAGE_SIZE;
        let mut buf = [0u8; 8];
        // Read-only, reserved but unmapped, crossing into the reservation.
        assert_eq!(HostPlatform.copy_to_user(user, &buf), Err(HalError::Fault));
        assert_eq!(
            HostPlatform.copy_from_user(user - PAGE_SIZE, &mut buf),
            Err(HalError::Fault)
        );
        assert_eq!(
            HostPlatform.copy_from_user(user + PAGE_SIZE - 4, &mut buf),
            Err(HalError::Fault)
        );
        // Memory of the process that no page table reserved is never user memory.
        let kernel_side = [7u8; 8];
        assert_eq!(
            HostPlatform.copy_from_user(kernel_side.as_ptr() as usize, &mut buf),
            Err(HalError::Fault)
        );
        assert_eq!(
            HostPlatform.copy_from_user(8, &mut buf),
            Err(HalError::Fault)
        );
        assert_eq!(
            HostPlatform.copy_from_user(usize::MAX - 2, &mut buf),
            Err(HalError::Fault)
        );
        HostPlatform.copy_from_user(user, &mut buf).unwrap();
        // Once the page table is gone its region is no user memory either.
        let region_start = table.region().start;
        drop(table);
        assert_eq!(
            HostPlatform.copy_from_user(region_start + PAGE_SIZE, &mut buf),
            Err(HalError::Fault)
        );
    }

    #[test]
    fn clocks_advance() {
        let before = HostPlatform.monotonic_now();
        std::thread::sleep(Duration::from_millis(5));
        assert!(HostPlatform.monotonic_now() - before >= Duration::from_millis(5));
        // Any date after this code was written.
        assert!(HostPlatform.realtime_now() > Duration::from_secs(1_700_000_000));
    }
}
