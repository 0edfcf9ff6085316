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
//! ```
//! use kernel_hal_lkm::{host::HostPlatform, Platform};
//!
//! let value = 0x1234_u64;
//! let mut copy = [0; 8];
//! HostPlatform.copy_from_user(&value as *const u64 as usize, &mut copy).unwrap();
//! assert_eq!(u64::from_ne_bytes(copy), 0x1234);
//! ```

mod page_table;
mod parker;
mod physical_memory;

pub use page_table::HostPageTable;
pub use parker::HostParker;
pub use physical_memory::HostPhysicalMemory;

use crate::surface::{HalError, Parker, PhysicalMemory, Platform, VirtAddr};
use alloc::sync::Arc;
use core::time::Duration;
use std::{
    io,
    sync::OnceLock,
    time::{Instant, SystemTime, UNIX_EPOCH},
};

/// The host backend's [`Platform`].
pub struct HostPlatform;

/// The fixed point of [`HostPlatform::monotonic_now`]: the first time anyone asked.
static MONOTONIC_ORIGIN: OnceLock<Instant> = OnceLock::new();

impl Platform for HostPlatform {
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
        let local = libc::iovec {
            iov_base: dst.as_mut_ptr().cast(),
            iov_len: dst.len(),
        };
        let remote = libc::iovec {
            iov_base: src as *mut libc::c_void,
            iov_len: dst.len(),
        };
        // SAFETY: `local` describes `dst`, which is exclusively borrowed for the call. The kernel
        // reads `remote` through the process's page tables and reports EFAULT instead of
        // faulting, so any `src` is acceptable.
        let copied = unsafe { libc::process_vm_readv(libc::getpid(), &local, 1, &remote, 1, 0) };
        check_user_copy(copied, dst.len())
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
        // SAFETY: `local` describes `src`, which the kernel only reads. The kernel writes
        // `remote` through the process's page tables and reports EFAULT for unmapped or
        // read-only pages instead of faulting; the caller names the user memory to overwrite,
        // which is the contract of `copy_to_user`.
        let copied = unsafe { libc::process_vm_writev(libc::getpid(), &local, 1, &remote, 1, 0) };
        check_user_copy(copied, src.len())
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

    #[test]
    fn user_copies_reach_the_process_memory() {
        let mut target = [0u8; 16];
        HostPlatform
            .copy_to_user(target.as_mut_ptr() as usize + 4, b"user")
            .unwrap();
        assert_eq!(&target[4..8], b"user");
        let mut back = [0u8; 4];
        HostPlatform
            .copy_from_user(target.as_ptr() as usize + 4, &mut back)
            .unwrap();
        assert_eq!(&back, b"user");
    }

    #[test]
    fn user_copies_of_unmapped_memory_fault() {
        let mut buf = [0u8; 8];
        // Page zero is never mapped in a Linux process.
        assert_eq!(
            HostPlatform.copy_from_user(8, &mut buf),
            Err(HalError::Fault)
        );
        assert_eq!(HostPlatform.copy_to_user(8, &buf), Err(HalError::Fault));
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
