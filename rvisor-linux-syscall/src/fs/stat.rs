//! `stat`, `fstat`, `lstat`, `newfstatat`: an object's [`Metadata`] as the x86-64
//! `struct stat`.

use kernel_hostfs::{Metadata, PATH_MAX};
use linux_object::LxError;

use super::path::{
    Object, AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_STATX_SYNC_TYPE, AT_SYMLINK_NOFOLLOW,
};
use crate::user::{UserInPtr, UserOutPtr, UserValue};
use crate::{SysResult, Syscall};

/// The x86-64 `struct stat` (144 bytes), built from an object's [`Metadata`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat(pub Metadata);

impl UserValue for Stat {
    const SIZE: usize = 144;

    fn from_user_bytes(_bytes: &[u8]) -> Self {
        // The kernel only ever writes a `struct stat`; reading one back is a test's business
        // and goes through `fields`.
        Self(Metadata {
            dev: 0,
            inode: 0,
            size: 0,
            blk_size: 0,
            blocks: 0,
            type_: kernel_hostfs::FileType::File,
            mode: 0,
            nlinks: 0,
            uid: 0,
            gid: 0,
            rdev: 0,
            atime: Default::default(),
            mtime: Default::default(),
            ctime: Default::default(),
        })
    }

    fn to_user_bytes(&self, out: &mut [u8]) {
        let m = &self.0;
        let mut put = |offset: usize, value: u64, width: usize| {
            if let Some(field) = out.get_mut(offset..offset + width) {
                field.copy_from_slice(value.to_le_bytes().get(..width).unwrap_or_default());
            }
        };
        put(0, m.dev, 8);
        put(8, m.inode, 8);
        put(16, m.nlinks, 8);
        put(24, u64::from(m.st_mode()), 4);
        put(28, u64::from(m.uid), 4);
        put(32, u64::from(m.gid), 4);
        put(36, 0, 4);
        put(40, m.rdev, 8);
        put(48, m.size, 8);
        put(56, u64::from(m.blk_size), 8);
        put(64, m.blocks, 8);
        // Two's complement: a time before 1970 is a negative `long`.
        put(72, m.atime.sec as u64, 8);
        put(80, m.atime.nsec as u64, 8);
        put(88, m.mtime.sec as u64, 8);
        put(96, m.mtime.nsec as u64, 8);
        put(104, m.ctime.sec as u64, 8);
        put(112, m.ctime.nsec as u64, 8);
        put(120, 0, 8);
        put(128, 0, 8);
        put(136, 0, 8);
    }
}

impl Syscall<'_> {
    /// `newfstatat(dirfd, path, statbuf, flags)`. The path is read first (`EFAULT`,
    /// `ENOENT` for an empty one without `AT_EMPTY_PATH`), then the flags are checked
    /// (`EINVAL`), then the object is found, and only then is the buffer written (`EFAULT`),
    /// in Linux's order.
    pub fn sys_newfstatat(
        &self,
        dirfd: i32,
        path: UserInPtr<u8>,
        statbuf: UserOutPtr<Stat>,
        flags: u32,
    ) -> SysResult {
        path.with_cstring(PATH_MAX - 1, |path| {
            let empty_path = flags & AT_EMPTY_PATH != 0;
            if path.is_empty() && empty_path && dirfd >= 0 {
                // Linux (6.11+) goes straight to `fstat` here, without looking at other flags.
                return self.sys_fstat(dirfd, statbuf);
            }
            if flags & !(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE)
                != 0
            {
                return Err(LxError::EINVAL);
            }
            let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
            let metadata =
                self.object_metadata(&mut self.walker(), dirfd, path, follow, empty_path)?;
            statbuf.write(Stat(metadata))?;
            Ok(0)
        })
    }

    /// `stat(path, statbuf)`.
    pub fn sys_stat(&self, path: UserInPtr<u8>, statbuf: UserOutPtr<Stat>) -> SysResult {
        self.stat_path(path, statbuf, true)
    }

    /// `lstat(path, statbuf)`: a final symbolic link is described, not followed.
    pub fn sys_lstat(&self, path: UserInPtr<u8>, statbuf: UserOutPtr<Stat>) -> SysResult {
        self.stat_path(path, statbuf, false)
    }

    fn stat_path(&self, path: UserInPtr<u8>, statbuf: UserOutPtr<Stat>, follow: bool) -> SysResult {
        path.with_path(|path| {
            let metadata = self.metadata_at(&mut self.walker(), AT_FDCWD, path, follow)?;
            statbuf.write(Stat(metadata))?;
            Ok(0)
        })
    }

    /// `fstat(fd, statbuf)`: any descriptor, `O_PATH` ones included.
    pub fn sys_fstat(&self, fd: i32, statbuf: UserOutPtr<Stat>) -> SysResult {
        let file = self.file_raw(fd)?;
        statbuf.write(Stat(Object::File(file).metadata()?))?;
        Ok(0)
    }
}

/// `st_mode` etc. read back from a written `struct stat`, for tests.
#[cfg(test)]
pub(crate) fn fields(bytes: &[u8]) -> (u64, u64, u32, u32, u32, u64) {
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    (
        u64_at(8),
        u64_at(16),
        u32_at(24),
        u32_at(28),
        u32_at(32),
        u64_at(48),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::testing::{err, int, run, Sandbox};
    use std::os::unix::fs::MetadataExt;

    const STAT: u32 = 4;
    const FSTAT: u32 = 5;
    const LSTAT: u32 = 6;
    const NEWFSTATAT: u32 = 262;

    #[test]
    fn stat_matches_the_host() {
        let sandbox = Sandbox::new("stat-basic");
        sandbox.write("f", b"hello");
        sandbox.symlink("f", "l");
        let sys = sandbox.syscall();
        let buf = sandbox.buf(144);
        assert_eq!(run(&sys, STAT, &[sandbox.cstr("l"), buf]), 0);
        let host = std::fs::metadata(sandbox.host("f")).unwrap();
        let (ino, nlink, mode, uid, gid, size) = fields(&sandbox.user.get_bytes(buf, 144));
        assert_eq!(
            (ino, nlink, mode, uid, gid, size),
            (host.ino(), 1, 0o100644, 0, 0, 5)
        );
        let bytes = sandbox.user.get_bytes(buf, 144);
        assert_eq!(
            u64::from_le_bytes(bytes[0..8].try_into().unwrap()),
            host.dev()
        );
        assert_eq!(
            i64::from_le_bytes(bytes[88..96].try_into().unwrap()),
            host.mtime()
        );
        assert_eq!(
            i64::from_le_bytes(bytes[96..104].try_into().unwrap()),
            host.mtime_nsec()
        );
        assert_eq!(run(&sys, LSTAT, &[sandbox.cstr("l"), buf]), 0);
        let (_, _, mode, _, _, size) = fields(&sandbox.user.get_bytes(buf, 144));
        assert_eq!((mode, size), (0o120777, 1));
    }

    #[test]
    fn fstatat_flags_and_errors() {
        let sandbox = Sandbox::new("stat-at");
        sandbox.mkdir("d");
        sandbox.write("d/f", b"");
        let sys = sandbox.syscall();
        let buf = sandbox.buf(144);
        let empty = sandbox.cstr("");
        let f = sandbox.cstr("f");
        assert_eq!(
            run(&sys, STAT, &[sandbox.cstr("nothing"), 0]),
            err(LxError::ENOENT)
        );
        assert_eq!(
            run(&sys, STAT, &[sandbox.cstr("d/f"), 0]),
            err(LxError::EFAULT)
        );
        assert_eq!(run(&sys, STAT, &[empty, buf]), err(LxError::ENOENT));
        let at_fdcwd = int(AT_FDCWD);
        assert_eq!(
            run(&sys, NEWFSTATAT, &[at_fdcwd, f, buf, 0x2]),
            err(LxError::EINVAL)
        );
        assert_eq!(
            run(&sys, NEWFSTATAT, &[at_fdcwd, empty, buf, 0]),
            err(LxError::ENOENT)
        );
        assert_eq!(run(&sys, NEWFSTATAT, &[at_fdcwd, empty, buf, 0x1000]), 0);
        let (_, _, mode, _, _, _) = fields(&sandbox.user.get_bytes(buf, 144));
        assert_eq!(mode, 0o040755);
        let dir = sys.resolve(AT_FDCWD, "d", true).unwrap();
        let fd = sys
            .process
            .files()
            .add(
                linux_object::fs::File::with_path(dir.inode, Default::default(), dir.path),
                false,
            )
            .unwrap() as usize;
        assert_eq!(run(&sys, NEWFSTATAT, &[fd, f, buf, 0x100]), 0);
        assert_eq!(fields(&sandbox.user.get_bytes(buf, 144)).2, 0o100644);
        assert_eq!(run(&sys, FSTAT, &[fd, buf]), 0);
        assert_eq!(fields(&sandbox.user.get_bytes(buf, 144)).2, 0o040755);
        assert_eq!(run(&sys, FSTAT, &[99, buf]), err(LxError::EBADF));
        assert_eq!(run(&sys, NEWFSTATAT, &[99, f, buf, 0]), err(LxError::EBADF));
    }
}
