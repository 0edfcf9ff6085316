//! [`HostFile`]: a file the host opened for a process before it joined a container (its
//! terminal, a pipe from the shell, a log file), held by rVisor as that process's stdio.

use core::mem::MaybeUninit;
use core::ptr::NonNull;

use crate::bindings;
use crate::error::{Error, Result};
use crate::vfs::Stat;

/// A counted reference to a host `struct file`.
pub struct HostFile(NonNull<bindings::file>);

// SAFETY: a counted `struct file`; the VFS serialises what needs it and `fput` may run in any
// task.
unsafe impl Send for HostFile {}
// SAFETY: every operation through `&HostFile` is one the VFS allows concurrently.
unsafe impl Sync for HostFile {}

impl HostFile {
    /// The file behind the calling process's descriptor `fd`; `EBADF` if it has none.
    pub fn from_current_fd(fd: u32) -> Result<Self> {
        // SAFETY: process context; fget takes a reference we release on drop.
        let file = unsafe { bindings::rvisor_fget(fd) };
        NonNull::new(file).map(Self).ok_or(Error::EBADF)
    }

    /// Reads at the file's own position, waiting as the host's `read` would (interrupted by
    /// a signal with `ERESTARTSYS`/`EINTR`).
    pub fn read(&self, buf: &mut [u8]) -> Result<usize> {
        // SAFETY: `buf` is writable for its length; the file is held.
        let ret = unsafe {
            bindings::rvisor_host_file_read(
                self.0.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len() as _,
            )
        };
        Error::check(ret).map(|n| n as usize)
    }

    /// Whether a read would return at once (data, end of file or an error are there).
    pub fn is_readable(&self) -> bool {
        // SAFETY: the file is held.
        unsafe { bindings::rvisor_host_file_readable(self.0.as_ptr()) }
    }

    /// Writes at the file's own position (the host applies its `O_APPEND`).
    pub fn write(&self, buf: &[u8]) -> Result<usize> {
        // SAFETY: `buf` is readable for its length; the file is held.
        let ret = unsafe {
            bindings::rvisor_host_file_write(self.0.as_ptr(), buf.as_ptr().cast(), buf.len() as _)
        };
        Error::check(ret).map(|n| n as usize)
    }

    /// `fstat` of the file.
    #[inline]
    pub fn stat(&self) -> Result<Stat> {
        // Not zeroed first: the shim writes every field.
        let mut stat = MaybeUninit::<Stat>::uninit();
        // SAFETY: `stat` is valid for a write; the file is held.
        let ret = unsafe { bindings::rvisor_host_file_stat(self.0.as_ptr(), stat.as_mut_ptr()) };
        Error::check(ret.into())?;
        // SAFETY: on success rvisor_host_file_stat has written every field.
        Ok(unsafe { stat.assume_init() })
    }

    /// The file's access mode and status flags (`O_*`, as `F_GETFL` reports them).
    pub fn flags(&self) -> u32 {
        // SAFETY: the file is held.
        unsafe { bindings::rvisor_host_file_flags(self.0.as_ptr()) }
    }

    /// `ioctl(cmd, arg)` on the file, `arg` being the calling task's own argument (a user
    /// address for most requests, which the file's driver copies with its own checks).
    pub fn ioctl(&self, cmd: u32, arg: usize) -> Result<usize> {
        // SAFETY: the file is held; process context of the task whose pointer `arg` may be.
        let ret = unsafe { bindings::rvisor_host_file_ioctl(self.0.as_ptr(), cmd, arg as _) };
        Error::check(ret).map(|n| n as usize)
    }
}

impl Drop for HostFile {
    fn drop(&mut self) {
        // SAFETY: releases the reference taken by `from_current_fd`.
        unsafe { bindings::rvisor_file_put(self.0.as_ptr()) }
    }
}
