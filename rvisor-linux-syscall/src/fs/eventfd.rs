//! `eventfd`, `eventfd2`: a counter as a descriptor ([`EventFd`]).

use alloc::sync::Arc;
use linux_object::fs::{EventFd, FileLike, OpenFlags};
use linux_object::LxError;

use crate::{SysResult, Syscall};

/// `EFD_SEMAPHORE`: a read takes 1, not the whole counter.
const EFD_SEMAPHORE: u32 = 1;
/// `EFD_NONBLOCK` (`O_NONBLOCK`).
const EFD_NONBLOCK: u32 = 0o4000;
/// `EFD_CLOEXEC` (`O_CLOEXEC`).
const EFD_CLOEXEC: u32 = 0o2_000_000;

impl Syscall<'_> {
    /// `eventfd2(initval, flags)`: `EINVAL` for a flag other than `EFD_SEMAPHORE`,
    /// `EFD_NONBLOCK` and `EFD_CLOEXEC`.
    pub fn sys_eventfd2(&self, initval: u32, flags: u32) -> SysResult {
        if flags & !(EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC) != 0 {
            return Err(LxError::EINVAL);
        }
        let file: Arc<dyn FileLike> = EventFd::new(
            initval,
            flags & EFD_SEMAPHORE != 0,
            OpenFlags::from_bits_truncate(flags & EFD_NONBLOCK),
        );
        let fd = self.process.files().add(file, flags & EFD_CLOEXEC != 0)?;
        Ok(fd as usize)
    }

    /// `eventfd(initval)`: `eventfd2` without flags.
    pub fn sys_eventfd(&self, initval: u32) -> SysResult {
        self.sys_eventfd2(initval, 0)
    }
}
