//! File and path calls: descriptors (`read`, `write`, `lseek`, `fcntl`, `ioctl`, …), paths
//! (`openat`, `stat`, `mkdir`, `rename`, …) and the pieces they share: descriptor look-ups
//! that refuse `O_PATH` descriptors where Linux does, and the path walk of [`path`].
//!
//! Permission checks are made here, with the process's
//! [`Credentials`](linux_object::credentials::Credentials), because the filesystem acts with
//! the host's (see `kernel-hostfs`): search permission on each directory walked, read/write
//! permission at open, write and search permission on a directory whose entries change.

mod access;
mod chmod;
mod chown;
mod chroot;
mod close_range;
mod copy;
mod dir;
mod epoll;
mod eventfd;
mod fadvise;
mod fallocate;
mod fcntl;
mod flock;
mod inotify;
mod ioctl;
mod link;
mod memfd;
mod mknod;
mod mount;
mod open;
mod path;
mod pipe;
mod poll;
mod rw;
mod seek;
mod select;
mod setattr;
mod signalfd;
mod splice;
mod stat;
mod statfs;
mod statx;
mod sync;
mod timerfd;
mod truncate;
mod tty;
mod utimes;
mod xattr;

#[cfg(test)]
pub(crate) mod testing;

pub(crate) use path::{Located, Object, AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW};
pub(crate) use poll::read_time;
pub use rw::IoVec;
pub use stat::Stat;
pub use statfs::StatFs;
pub use statx::Statx;

use alloc::sync::Arc;
use kernel_hostfs::{FileType, INode};
use linux_object::fs::{File, FileLike, OpenFlags};
use linux_object::{LxError, LxResult};

use crate::user::USER_SPACE_END;
use crate::Syscall;

/// `ST_RDONLY` of `statfs`'s flags.
const ST_RDONLY: u64 = 1;

/// `checked`, the permission check of a write to `inode` (or to an entry of it, a
/// directory), in Linux's order: a read-only filesystem is `EROFS` before permission bits are
/// looked at (`mnt_want_write`, `sb_permission`). rVisor checks the bits itself and leaves the
/// read-only state to the host's VFS, which sees the write only if the bits allow it; the
/// filesystem is asked only when they refuse.
pub(crate) fn read_only_first(inode: &dyn INode, checked: LxResult) -> LxResult {
    match checked {
        Err(LxError::EACCES)
            if inode
                .fs_info()
                .is_ok_and(|info| info.flags & ST_RDONLY != 0) =>
        {
            Err(LxError::EROFS)
        }
        other => other,
    }
}

/// Most bytes one `read` or `write` moves (Linux's `MAX_RW_COUNT`, `INT_MAX` rounded down to
/// a page).
pub(crate) const MAX_RW_COUNT: usize = 0x7fff_f000;

/// Linux's `access_ok`: `EFAULT` unless `[addr, addr + len)` lies in user space. Calls that
/// check their whole buffer before doing anything (`read`, `getdents64`) use it to fail the
/// way Linux does before any byte moves.
pub(crate) fn access_ok(addr: usize, len: usize) -> LxResult {
    match addr.checked_add(len) {
        Some(end) if end <= USER_SPACE_END => Ok(()),
        _ => Err(LxError::EFAULT),
    }
}

/// Whether `file` is a stream, which has no offset (`ESPIPE` for `lseek`, `pread64`…): a
/// pipe, an inherited host file, or a FIFO or socket opened by path.
pub(crate) fn is_stream(file: &dyn FileLike) -> bool {
    match file
        .as_any()
        .downcast_ref::<File>()
        .and_then(|file| file.inode())
    {
        Some(inode) => matches!(
            inode.file_type(),
            Ok(FileType::NamedPipe | FileType::Socket)
        ),
        None => true,
    }
}

impl Syscall<'_> {
    /// The description `fd` names, for a call that does I/O or changes the object through
    /// it: `EBADF` if `fd` is not open or is an `O_PATH` descriptor (Linux's `fdget`).
    pub(crate) fn file(&self, fd: i32) -> LxResult<Arc<dyn FileLike>> {
        let file = self.file_raw(fd)?;
        if file.flags().contains(OpenFlags::PATH) {
            return Err(LxError::EBADF);
        }
        Ok(file)
    }

    /// The description `fd` names, `O_PATH` descriptors included (Linux's `fdget_raw`, for
    /// `fstat`, `fchdir`, `close`, `dup`…).
    pub(crate) fn file_raw(&self, fd: i32) -> LxResult<Arc<dyn FileLike>> {
        self.process.files().get(fd)
    }
}
