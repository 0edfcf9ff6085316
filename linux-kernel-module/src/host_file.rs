//! [`HostFile`]: a file the host opened for a process before it joined a container (its
//! terminal, a pipe from the shell, a log file), held by rVisor as that process's stdio.

use alloc::boxed::Box;
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

/// What a [`FileWatch`] calls when its file wakes up.
pub(crate) struct WatchTarget {
    pub(crate) wake: Box<dyn Fn() + Send + Sync>,
}

/// A watch of a host file's wait queues: after an armed [`FileWatch::poll`], the file's next
/// wake-up (data, room, hang-up…) calls the watch's function once, in process context (a
/// workqueue), whatever context the host woke the queue from. Only FIFOs, sockets and
/// character devices (terminals) are watched.
pub struct FileWatch {
    raw: NonNull<bindings::rvisor_file_watch>,
    target: NonNull<WatchTarget>,
}

// SAFETY: the shim serialises the watch's state; the target's function is `Send + Sync`.
unsafe impl Send for FileWatch {}
// SAFETY: `poll` may run on several threads at once (the shim locks what it must).
unsafe impl Sync for FileWatch {}

impl FileWatch {
    /// A watch of `file` calling `wake`; `None` if the file is of a kind that is not watched
    /// or there is no memory.
    pub fn new(file: &HostFile, wake: Box<dyn Fn() + Send + Sync>) -> Option<Self> {
        let target = NonNull::from(Box::leak(Box::new(WatchTarget { wake })));
        // SAFETY: the file is held (the watch takes its own reference); `target` stays valid
        // until `rvisor_file_watch_free` has returned, after which no callback runs.
        let raw =
            unsafe { bindings::rvisor_file_watch_new(file.0.as_ptr(), target.as_ptr().cast()) };
        match NonNull::new(raw) {
            Some(raw) => Some(Self { raw, target }),
            None => {
                // SAFETY: the shim kept no pointer to it; it is ours, from `Box::leak` above.
                drop(unsafe { Box::from_raw(target.as_ptr()) });
                None
            }
        }
    }

    /// The file's readiness now (`EPOLL*` bits). With `arm`, the file's next wake-up calls
    /// the watch's function; a wake-up after this reading is never missed.
    pub fn poll(&self, arm: bool) -> u32 {
        // SAFETY: the watch is alive; process context.
        unsafe { bindings::rvisor_file_watch_poll(self.raw.as_ptr(), arm) }
    }
}

impl Drop for FileWatch {
    fn drop(&mut self) {
        // SAFETY: the watch is ours; after this no callback runs or is pending.
        unsafe { bindings::rvisor_file_watch_free(self.raw.as_ptr()) };
        // SAFETY: leaked by `new` for the watch, which no longer uses it.
        drop(unsafe { Box::from_raw(self.target.as_ptr()) });
    }
}

/// Called by the shim's workqueue when a watched file woke up.
///
/// # Safety
///
/// `ctx` must be the target a live [`FileWatch`] was made with.
#[no_mangle]
pub unsafe extern "C" fn rvisor_rs_file_watch_wake(ctx: *mut core::ffi::c_void) {
    // SAFETY: the caller's contract: the target lives until the watch is freed, and the
    // free waits for this callback to return.
    let target = unsafe { &*ctx.cast::<WatchTarget>() };
    (target.wake)();
}
