//! Open files: the [`FileLike`] trait every kind of open file description implements, and its
//! kinds — [`File`] (an [`INode`](kernel_hostfs::INode) with an offset), [`Pipe`] (one end of
//! an anonymous pipe) and [`HostStdio`] (a file the process inherited from the host when it
//! joined the container).
//!
//! A `FileLike` is an *open file description*: `dup` and `fork` share it (offset and status
//! flags included) through an `Arc`, and it is released when the last descriptor naming it is
//! closed. Reads and writes come in two forms: [`FileLike::read`]/[`FileLike::write`] never
//! block (they give `EAGAIN` where a blocking call would wait), and
//! [`FileLike::poll_read`]/[`FileLike::poll_write`] return `Pending` and register the waker
//! instead; [`read_file`] and [`write_file`] wrap those in futures for the syscall layer.
//!
//! ```
//! use linux_object::fs::{read_file, write_file, Pipe};
//! # fn block_on<F: core::future::Future>(f: F) -> F::Output {
//! #     let mut f = core::pin::pin!(f);
//! #     let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
//! #     loop { if let core::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
//! # }
//!
//! let (reader, writer) = Pipe::new_pair(Default::default());
//! block_on(write_file(&*writer, b"ping"))?;
//! drop(writer); // the last writer gone: the reader sees end of file after the data
//! let mut buf = [0; 8];
//! assert_eq!(block_on(read_file(&*reader, &mut buf))?, 4);
//! assert_eq!(block_on(read_file(&*reader, &mut buf))?, 0);
//! # Ok::<(), linux_object::LxError>(())
//! ```

mod described;
mod device;
mod epoll;
mod eventfd;
mod file;
mod flock;
mod host_socket;
pub mod inotify;
mod owner;
mod pidfd;
mod pipe;
mod signalfd;
mod stdio;
mod timerfd;
mod waiters;

pub use described::DescribedInode;
pub use device::Device;
pub use epoll::{Epoll, EpollEvent, EpollEvents};
pub use eventfd::EventFd;
pub use file::File;
pub use flock::{FlockKind, FlockTable, InodeKey, LockOwner};
pub use host_socket::{HostSocket, HostSocketOps, RecvCall, SendCall};
pub use inotify::{HostMark, HostWatch, Inotify, InotifyMarks, InotifyQueue, NoHostMarks};
pub use owner::{FileOwners, Owner, OwnerKind};
pub use pidfd::PidFd;
pub use pipe::{FifoTable, Pipe, Reservation, Taken, PIPE_BUF, PIPE_CAPACITY};
pub use signalfd::{SignalFd, SignalQueue, SIGINFO_SIZE};
pub use stdio::{HostStdio, StdioFile};
pub use timerfd::{TimerClock, TimerFd, TimerSpec};
pub use waiters::{Waiters, Woken};

use crate::error::{LxError, LxResult};
use bitflags::bitflags;
use core::any::Any;
use core::future::poll_fn;
use core::task::{Context, Poll};
use kernel_hostfs::Metadata;

bitflags! {
    /// The `O_*` flags of `open` (x86-64 values) that an open file description keeps or that
    /// the fd table needs. Creation flags (`O_CREAT`, `O_EXCL`, `O_TRUNC`, …) are the syscall
    /// layer's business and are not kept.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct OpenFlags: u32 {
        /// Open for writing only (access mode 1).
        const WRONLY = 0o1;
        /// Open for reading and writing (access mode 2).
        const RDWR = 0o2;
        /// Every write goes to the end of the file.
        const APPEND = 0o2000;
        /// Calls that would wait give `EAGAIN` instead.
        const NONBLOCK = 0o4000;
        /// `O_DSYNC`: kept for `F_GETFL`; every write already reaches the host file.
        const DSYNC = 0o10_000;
        /// `FASYNC`: kept for `F_GETFL` (no `SIGIO` is sent: signals are the host's).
        const ASYNC = 0o20_000;
        /// `O_DIRECT`: kept for `F_GETFL`; I/O goes through the host's page cache anyway.
        const DIRECT = 0o40_000;
        /// `O_LARGEFILE`: set by every `open` on x86-64, as Linux forces it there.
        const LARGEFILE = 0o100_000;
        /// `O_DIRECTORY`, as `open` was given it.
        const DIRECTORY = 0o200_000;
        /// `O_NOFOLLOW`, as `open` was given it.
        const NOFOLLOW = 0o400_000;
        /// `O_NOATIME`, as `open` or `F_SETFL` was given it.
        const NOATIME = 0o1_000_000;
        /// The descriptor is closed by `execve` (kept in the fd table, not the description).
        const CLOEXEC = 0o2_000_000;
        /// `__O_SYNC` (`O_SYNC` is this with `O_DSYNC`): kept for `F_GETFL`.
        const SYNC = 0o4_000_000;
        /// `O_PATH`: the description only names its object; no I/O through it.
        const PATH = 0o10_000_000;
    }
}

/// The access-mode bits of [`OpenFlags`] (`O_ACCMODE`).
const ACCESS_MODE_MASK: u32 = 0o3;

impl OpenFlags {
    /// May this description be read? Access modes `O_RDONLY` (0) and `O_RDWR` (2).
    pub fn readable(self) -> bool {
        !self.contains(Self::PATH) && matches!(self.bits() & ACCESS_MODE_MASK, 0 | 2)
    }

    /// May this description be written? Access modes `O_WRONLY` (1) and `O_RDWR` (2). Mode 3
    /// is neither readable nor writable, as on Linux.
    pub fn writable(self) -> bool {
        !self.contains(Self::PATH) && matches!(self.bits() & ACCESS_MODE_MASK, 1 | 2)
    }

    /// `EBADF` unless the description may be read, as `read` on a write-only one gives.
    pub fn check_readable(self) -> LxResult {
        if self.readable() {
            Ok(())
        } else {
            Err(LxError::EBADF)
        }
    }

    /// `EBADF` unless the description may be written.
    pub fn check_writable(self) -> LxResult {
        if self.writable() {
            Ok(())
        } else {
            Err(LxError::EBADF)
        }
    }

    /// These flags with the [`SETTABLE`](Self::SETTABLE) ones replaced by those of
    /// `flags` (what `fcntl(F_SETFL)` does to a description's flags).
    pub fn with_settable(self, flags: Self) -> Self {
        (self - Self::SETTABLE) | (flags & Self::SETTABLE)
    }

    /// Replaces the [`SETTABLE`](Self::SETTABLE) flags of a description's `kept` flags by
    /// those of `flags`, under its lock (every description's `FileLike::set_flags`).
    pub fn set_settable(kept: &kernel_hal_lkm::sync::Mutex<Self>, flags: Self) {
        let mut kept = kept.lock();
        *kept = kept.with_settable(flags);
    }

    /// The flags `fcntl(F_SETFL)` may change (Linux's `SETFL_MASK`): `O_APPEND`,
    /// `O_NONBLOCK`, `FASYNC`, `O_DIRECT` and `O_NOATIME`.
    pub const SETTABLE: Self = Self::APPEND
        .union(Self::NONBLOCK)
        .union(Self::ASYNC)
        .union(Self::DIRECT)
        .union(Self::NOATIME);
}

bitflags! {
    /// Readiness events (`POLL*` of `<poll.h>`, x86-64 values; the `EPOLL*` bits are the
    /// same).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct PollEvents: u16 {
        /// There is data to read.
        const IN = 0x1;
        /// There is urgent data to read.
        const PRI = 0x2;
        /// Writing will not block.
        const OUT = 0x4;
        /// An error condition (always reported, asked for or not).
        const ERR = 0x8;
        /// Hang up: the other end is gone (always reported).
        const HUP = 0x10;
        /// The descriptor is not open (`poll` only).
        const NVAL = 0x20;
        /// Normal data to read.
        const RDNORM = 0x40;
        /// Priority-band data to read.
        const RDBAND = 0x80;
        /// Normal data may be written.
        const WRNORM = 0x100;
        /// Priority-band data may be written.
        const WRBAND = 0x200;
        /// A message (unused by Linux).
        const MSG = 0x400;
        /// The object was removed (unused by Linux).
        const REMOVE = 0x1000;
        /// The peer closed its writing half (sockets).
        const RDHUP = 0x2000;
    }
}

impl PollEvents {
    /// What an object that cannot be waited for is, always (Linux's `DEFAULT_POLLMASK`, for
    /// regular files and directories whatever their access mode): readable and writable.
    pub const ALWAYS: Self = Self::IN
        .union(Self::OUT)
        .union(Self::RDNORM)
        .union(Self::WRNORM);
}

/// What `fstat` reports for an object of Linux's anonymous inode filesystem (an epoll,
/// eventfd, timerfd, signalfd or pidfd): one shared inode, mode 0600, owned by root.
/// The device number (`st_dev`, encoding `0:minor`) of rVisor's own filesystem number
/// `index` (procfs, sysfs, devfs, devpts): an anonymous device, as Linux's pseudo filesystems
/// have, numbered down from the top of the anonymous range so that it never meets one the
/// host gives its own filesystems (a tmpfs volume, an overlay), which it numbers up from the
/// bottom: tools take two objects with the same device and inode for one.
pub const fn pseudo_fs_dev(index: u64) -> u64 {
    /// The anonymous devices' minors end below `1 << 20` (`MINORMASK`).
    const FIRST: u64 = (1 << 20) - 16;
    let minor = FIRST + index;
    (minor & 0xff) | ((minor >> 8) << 20)
}

pub(crate) fn anonymous_inode_metadata() -> Metadata {
    Metadata {
        dev: 0,
        inode: 0,
        size: 0,
        blk_size: 4096,
        blocks: 0,
        type_: kernel_hostfs::FileType::File,
        mode: 0o600,
        nlinks: 1,
        uid: 0,
        gid: 0,
        rdev: 0,
        atime: kernel_hostfs::Timespec::default(),
        mtime: kernel_hostfs::Timespec::default(),
        ctime: kernel_hostfs::Timespec::default(),
    }
}

/// Where `lseek` counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeekFrom {
    /// `SEEK_SET`: from the start of the file.
    Start(u64),
    /// `SEEK_CUR`: from the current offset.
    Current(i64),
    /// `SEEK_END`: from the end of the file.
    End(i64),
}

impl SeekFrom {
    /// Decodes `lseek`'s `(offset, whence)`; `EINVAL` for an unknown `whence`, as Linux gives
    /// for `SEEK_DATA`/`SEEK_HOLE` on filesystems without holes too.
    pub fn from_raw(offset: i64, whence: u32) -> LxResult<Self> {
        match whence {
            0 => u64::try_from(offset)
                .map(Self::Start)
                .map_err(|_| LxError::EINVAL),
            1 => Ok(Self::Current(offset)),
            2 => Ok(Self::End(offset)),
            _ => Err(LxError::EINVAL),
        }
    }
}

/// An open file description.
pub trait FileLike: Any + Send + Sync {
    /// Reads at the current offset without ever waiting: `EAGAIN` where a blocking read would
    /// wait. `EBADF` if the description was not opened for reading.
    fn read(&self, buf: &mut [u8]) -> LxResult<usize>;

    /// Writes at the current offset (or the end, with `O_APPEND`) without ever waiting.
    /// `EBADF` if the description was not opened for writing.
    fn write(&self, buf: &[u8]) -> LxResult<usize>;

    /// Reads, or registers `cx`'s waker and returns `Pending` where a blocking read would
    /// wait. Kinds that never wait keep this default.
    fn poll_read(&self, _cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<LxResult<usize>> {
        Poll::Ready(self.read(buf))
    }

    /// Writes some of `buf`, or registers `cx`'s waker and returns `Pending` where a blocking
    /// write would wait. A partial count is a success; [`write_file`] loops.
    fn poll_write(&self, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<LxResult<usize>> {
        Poll::Ready(self.write(buf))
    }

    /// Reads at `offset` without moving the file offset (`pread64`); `ESPIPE` on a stream.
    fn read_at(&self, _offset: u64, _buf: &mut [u8]) -> LxResult<usize> {
        Err(LxError::ESPIPE)
    }

    /// Writes at `offset` without moving the file offset (`pwrite64`); `ESPIPE` on a stream.
    fn write_at(&self, _offset: u64, _buf: &[u8]) -> LxResult<usize> {
        Err(LxError::ESPIPE)
    }

    /// Reads into the calling process's memory directly (`len` bytes at most at user address
    /// `user`), at the file offset (advancing it) or, with `at`, at that offset: what
    /// [`FileLike::read`] and [`FileLike::read_at`] do with no kernel buffer between the
    /// object and the program. A short count if part of the memory is inaccessible, `EFAULT`
    /// if its first byte is. `None` for kinds that cannot; the caller uses a buffer.
    fn read_to_user(&self, _at: Option<u64>, _user: usize, _len: usize) -> Option<LxResult<usize>> {
        None
    }

    /// Writes from the calling process's memory directly, as [`FileLike::read_to_user`]
    /// reads (`O_APPEND` writes at the end).
    fn write_from_user(
        &self,
        _at: Option<u64>,
        _user: usize,
        _len: usize,
    ) -> Option<LxResult<usize>> {
        None
    }

    /// Moves the offset (`lseek`) and returns the new one; `ESPIPE` on a stream.
    fn seek(&self, _pos: SeekFrom) -> LxResult<u64> {
        Err(LxError::ESPIPE)
    }

    /// What `fstat` reports.
    fn metadata(&self) -> LxResult<Metadata>;

    /// The status flags `fcntl(F_GETFL)` reports: access mode, `O_APPEND`, `O_NONBLOCK`.
    fn flags(&self) -> OpenFlags;

    /// Replaces the [`OpenFlags::SETTABLE`] flags (`fcntl(F_SETFL)`); others are ignored, as
    /// Linux ignores them.
    fn set_flags(&self, flags: OpenFlags);

    /// The description's readiness now (Linux's `f_op->poll`, for `poll` and `select`). With
    /// `cx`, its waker is also registered to be woken when the readiness may have changed
    /// (data or room arrived, the other end went away), so a poll that found nothing ready
    /// can sleep. Kinds that never wait keep the default, [`PollEvents::ALWAYS`], and never
    /// wake anyone.
    fn poll_events(&self, _cx: Option<&Context<'_>>) -> PollEvents {
        PollEvents::ALWAYS
    }

    /// Whether the description can be waited for (Linux's `file_can_poll`: its file has a
    /// `poll` operation). `epoll_ctl` refuses the others with `EPERM`; `poll` and `select`
    /// report them [`PollEvents::ALWAYS`]. Kinds that wait for something keep the default.
    fn pollable(&self) -> bool {
        true
    }

    /// The inode behind this description, if it has one (for `fchdir`, `fstatat(fd, "")`…).
    fn inode(&self) -> Option<alloc::sync::Arc<dyn kernel_hostfs::INode>> {
        None
    }

    /// Flushes to storage (`fsync`); `EINVAL` for kinds that cannot, as Linux.
    fn sync(&self, _data_only: bool) -> LxResult {
        Err(LxError::EINVAL)
    }

    /// This description as a socket, if it is one (`ENOTSOCK` for the socket calls if not).
    fn as_socket(&self) -> Option<&dyn crate::net::Socket> {
        None
    }

    /// This description as `Any`, to recognise its kind.
    fn as_any(&self) -> &dyn Any;
}

/// Reads from `file`, waiting while a blocking read would (a future for the syscall layer).
pub async fn read_file(file: &dyn FileLike, buf: &mut [u8]) -> LxResult<usize> {
    poll_fn(|cx| file.poll_read(cx, buf)).await
}

/// Writes all of `buf` to `file`, waiting while a blocking write would, and returns its length.
/// An error after part of `buf` was written returns the count written so far, as `write(2)`
/// does; `O_NONBLOCK` returns the first partial count (or `EAGAIN` if nothing fit).
pub async fn write_file(file: &dyn FileLike, buf: &[u8]) -> LxResult<usize> {
    if buf.is_empty() {
        // Still checks the access mode: `write(fd, p, 0)` on a read-only fd is `EBADF`.
        return file.write(buf);
    }
    let mut written = 0;
    while let Some(rest) = buf.get(written..).filter(|rest| !rest.is_empty()) {
        match poll_fn(|cx| file.poll_write(cx, rest)).await {
            Ok(count) => written += count,
            Err(error) if written == 0 => return Err(error),
            Err(_) => break,
        }
        if file.flags().contains(OpenFlags::NONBLOCK) {
            break;
        }
    }
    Ok(written)
}
