//! `inotify_init`, `inotify_init1`, `inotify_add_watch`, `inotify_rm_watch`: an inotify
//! instance as a descriptor ([`Inotify`]), with Linux's checks (`inotify_user.c`) in its
//! order.

use alloc::sync::Arc;
use kernel_hostfs::{FileType, PATH_MAX};
use linux_object::credentials::Access;
use linux_object::fs::inotify::{
    ALL_INOTIFY_BITS, IN_DONT_FOLLOW, IN_MASK_ADD, IN_MASK_CREATE, IN_ONLYDIR,
};
use linux_object::fs::{FileLike, Inotify, OpenFlags};
use linux_object::LxError;

use super::path::{Walker, AT_FDCWD};
use crate::user::UserInPtr;
use crate::{SysResult, Syscall};

/// `IN_NONBLOCK` (`O_NONBLOCK`) and `IN_CLOEXEC` (`O_CLOEXEC`).
const IN_NONBLOCK: u32 = 0o4000;
const IN_CLOEXEC: u32 = 0o2_000_000;

impl Syscall<'_> {
    /// `inotify_init1(flags)`: `EINVAL` for a flag other than `IN_NONBLOCK`/`IN_CLOEXEC`,
    /// `EMFILE` past the user's instances (Linux's `max_user_instances`).
    pub fn sys_inotify_init1(&self, flags: u32) -> SysResult {
        if flags & !(IN_NONBLOCK | IN_CLOEXEC) != 0 {
            return Err(LxError::EINVAL);
        }
        let queue = Inotify::new_queue(self.process.credentials().euid)?;
        let (marks, max_watches) = self.host.inotify_marks(&queue)?;
        let file: Arc<dyn FileLike> = Inotify::new(
            queue,
            marks,
            OpenFlags::from_bits_truncate(flags & IN_NONBLOCK),
            max_watches,
        );
        let fd = self.process.files().add(file, flags & IN_CLOEXEC != 0)?;
        Ok(fd as usize)
    }

    /// `inotify_init()`: `inotify_init1` without flags.
    pub fn sys_inotify_init(&self) -> SysResult {
        self.sys_inotify_init1(0)
    }

    /// `inotify_add_watch(fd, path, mask)`: `EINVAL` for a mask with an unknown bit or none,
    /// `EBADF`, `EINVAL` for `IN_MASK_ADD` with `IN_MASK_CREATE` and for a descriptor that is
    /// not an instance; then the path's walk (`IN_DONT_FOLLOW` keeps a final symbolic link,
    /// `IN_ONLYDIR` wants a directory: `ENOTDIR`), read permission on the object (`EACCES`),
    /// and the watch: its descriptor, the object's existing one if it had one (`EEXIST` with
    /// `IN_MASK_CREATE`), `ENOSPC` past the user's watches.
    pub fn sys_inotify_add_watch(&self, fd: i32, path: UserInPtr<u8>, mask: u32) -> SysResult {
        if mask & !ALL_INOTIFY_BITS != 0 || mask & ALL_INOTIFY_BITS == 0 {
            return Err(LxError::EINVAL);
        }
        let file = self.file(fd)?;
        if mask & IN_MASK_ADD != 0 && mask & IN_MASK_CREATE != 0 {
            return Err(LxError::EINVAL);
        }
        let inotify = file
            .as_any()
            .downcast_ref::<Inotify>()
            .ok_or(LxError::EINVAL)?;
        path.with_cstring(PATH_MAX - 1, |path| {
            let mut walker = Walker::new(
                self.process.root().clone(),
                self.process.mounts().snapshot(),
                self.process.credentials(),
            );
            // Paths are UTF-8 in this filesystem: another name cannot exist.
            let path = core::str::from_utf8(path).map_err(|_| LxError::ENOENT)?;
            if path.is_empty() {
                return Err(LxError::ENOENT);
            }
            let follow = mask & IN_DONT_FOLLOW == 0;
            let found = self.resolve_with(&mut walker, AT_FDCWD, path, follow)?;
            let metadata = found.inode.metadata()?;
            if mask & IN_ONLYDIR != 0 && metadata.type_ != FileType::Dir {
                return Err(LxError::ENOTDIR);
            }
            walker.credentials().permission(&metadata, Access::READ)?;
            let wd = inotify.add_watch(&*found.inode, &metadata, mask)?;
            Ok(wd as usize)
        })
    }

    /// `inotify_rm_watch(fd, wd)`: `EBADF`, `EINVAL` for a descriptor that is not an
    /// instance or a watch it does not have.
    pub fn sys_inotify_rm_watch(&self, fd: i32, wd: i32) -> SysResult {
        let file = self.file(fd)?;
        let inotify = file
            .as_any()
            .downcast_ref::<Inotify>()
            .ok_or(LxError::EINVAL)?;
        inotify.remove_watch(wd)?;
        Ok(0)
    }
}
