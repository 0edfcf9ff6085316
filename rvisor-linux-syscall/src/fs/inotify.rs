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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::testing::{err, run, Sandbox};
    use linux_object::fs::inotify::{IN_ATTRIB, IN_CREATE, IN_IGNORED};

    const INOTIFY_INIT: u32 = 253;
    const INOTIFY_ADD_WATCH: u32 = 254;
    const INOTIFY_RM_WATCH: u32 = 255;
    const INOTIFY_INIT1: u32 = 294;
    const READ: u32 = 0;
    const IOCTL: u32 = 16;
    const FIONREAD: usize = 0x541B;
    const PIPE: u32 = 22;

    #[test]
    fn init_flags_and_the_description() {
        let sandbox = Sandbox::new("inotify-init");
        let sys = sandbox.syscall();
        assert_eq!(run(&sys, INOTIFY_INIT1, &[1]), err(LxError::EINVAL));
        let fd = run(&sys, INOTIFY_INIT1, &[(IN_NONBLOCK | IN_CLOEXEC) as usize]);
        assert!(fd >= 0);
        assert!(sys.process.files().cloexec(fd as i32).unwrap());
        let file = sys.file(fd as i32).unwrap();
        assert_eq!(file.flags(), OpenFlags::NONBLOCK);
        let buf = sandbox.buf(64);
        assert_eq!(
            run(&sys, READ, &[fd as usize, buf, 64]),
            err(LxError::EAGAIN)
        );
        let plain = run(&sys, INOTIFY_INIT, &[]);
        assert!(plain >= 0);
        assert!(!sys.process.files().cloexec(plain as i32).unwrap());
        let out = sandbox.buf(4);
        assert_eq!(run(&sys, IOCTL, &[plain as usize, FIONREAD, out]), 0);
        assert_eq!(sandbox.user.get_bytes(out, 4), 0i32.to_le_bytes());
        assert_eq!(
            run(&sys, IOCTL, &[plain as usize, 0x4004_4900, 0]),
            err(LxError::EINVAL)
        );
        assert_eq!(run(&sys, IOCTL, &[plain as usize, 0x4004_4900, 5]), 0);
        sandbox.mkdir("d");
        let wd = run(
            &sys,
            INOTIFY_ADD_WATCH,
            &[plain as usize, sandbox.cstr("d"), IN_CREATE as usize],
        );
        assert_eq!(wd, 5);
        assert_eq!(
            run(&sys, IOCTL, &[plain as usize, 0x5401, out]),
            err(LxError::ENOTTY)
        );
    }

    #[test]
    fn add_watch_checks_in_linux_order() {
        let sandbox = Sandbox::new("inotify-add");
        sandbox.mkdir("d");
        sandbox.write("d/f", b"");
        sandbox.symlink("f", "d/link");
        let sys = sandbox.syscall();
        let fd = run(&sys, INOTIFY_INIT1, &[0]) as usize;
        let dir = sandbox.cstr("d");
        let add = |fd: usize, path: usize, mask: u32| {
            run(&sys, INOTIFY_ADD_WATCH, &[fd, path, mask as usize])
        };
        // The mask first, even before the descriptor.
        assert_eq!(add(99, dir, 0), err(LxError::EINVAL));
        assert_eq!(add(99, dir, IN_CREATE | 0x1000), err(LxError::EINVAL));
        assert_eq!(add(99, dir, IN_CREATE), err(LxError::EBADF));
        assert_eq!(
            add(fd, dir, IN_CREATE | IN_MASK_ADD | IN_MASK_CREATE),
            err(LxError::EINVAL)
        );
        let pipe = sandbox.buf(8);
        assert_eq!(run(&sys, PIPE, &[pipe]), 0);
        let reader = i32::from_le_bytes(sandbox.user.get_bytes(pipe, 4).try_into().unwrap());
        assert_eq!(add(reader as usize, dir, IN_CREATE), err(LxError::EINVAL));
        // Then the path.
        assert_eq!(
            add(fd, sandbox.user.unmapped(), IN_CREATE),
            err(LxError::EFAULT)
        );
        assert_eq!(add(fd, sandbox.cstr(""), IN_CREATE), err(LxError::ENOENT));
        assert_eq!(
            add(fd, sandbox.cstr("d/none"), IN_CREATE),
            err(LxError::ENOENT)
        );
        assert_eq!(
            add(fd, sandbox.cstr("d/f"), IN_ATTRIB | IN_ONLYDIR),
            err(LxError::ENOTDIR)
        );
        // A symbolic link is followed unless IN_DONT_FOLLOW: two objects, two watches.
        assert_eq!(add(fd, dir, IN_CREATE | IN_ONLYDIR), 1);
        assert_eq!(add(fd, dir, IN_ATTRIB), 1);
        assert_eq!(
            add(fd, dir, IN_ATTRIB | IN_MASK_CREATE),
            err(LxError::EEXIST)
        );
        assert_eq!(add(fd, sandbox.cstr("d/link"), IN_ATTRIB), 2);
        assert_eq!(add(fd, sandbox.cstr("d/f"), IN_ATTRIB), 2);
        assert_eq!(
            add(fd, sandbox.cstr("d/link"), IN_ATTRIB | IN_DONT_FOLLOW),
            3
        );
    }

    #[test]
    fn watching_needs_read_permission() {
        let sandbox = Sandbox::new("inotify-perm");
        sandbox.write("secret", b"");
        sandbox.chmod("secret", 0o200);
        let sys = sandbox.syscall_as(1000, 1000);
        let fd = run(&sys, INOTIFY_INIT1, &[0]) as usize;
        assert_eq!(
            run(
                &sys,
                INOTIFY_ADD_WATCH,
                &[fd, sandbox.cstr("secret"), IN_ATTRIB as usize]
            ),
            err(LxError::EACCES)
        );
    }

    #[test]
    fn rm_watch_ends_a_watch_with_ignored() {
        let sandbox = Sandbox::new("inotify-rm");
        sandbox.mkdir("d");
        let sys = sandbox.syscall();
        let fd = run(&sys, INOTIFY_INIT1, &[IN_NONBLOCK as usize]) as usize;
        assert_eq!(run(&sys, INOTIFY_RM_WATCH, &[99, 1]), err(LxError::EBADF));
        assert_eq!(run(&sys, INOTIFY_RM_WATCH, &[fd, 1]), err(LxError::EINVAL));
        let wd = run(
            &sys,
            INOTIFY_ADD_WATCH,
            &[fd, sandbox.cstr("d"), IN_CREATE as usize],
        );
        assert_eq!(wd, 1);
        assert_eq!(run(&sys, INOTIFY_RM_WATCH, &[fd, 1]), 0);
        assert_eq!(run(&sys, INOTIFY_RM_WATCH, &[fd, 1]), err(LxError::EINVAL));
        let buf = sandbox.buf(64);
        assert_eq!(run(&sys, READ, &[fd, buf, 64]), 16);
        let record = sandbox.user.get_bytes(buf, 16);
        assert_eq!(record[0..4], 1i32.to_ne_bytes());
        assert_eq!(record[4..8], IN_IGNORED.to_ne_bytes());
    }
}
