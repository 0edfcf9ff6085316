//! `statx`: an object's [`Metadata`] (and birth time, where the filesystem records it) as
//! `struct statx`.
//!
//! What is filled is what Linux's VFS and its local filesystems (tmpfs, ext4) fill: the basic
//! fields (`STATX_BASIC_STATS`) whatever the caller asks for in `mask` (a request, not a
//! filter), and `STATX_BTIME` when it is asked for and the filesystem records a birth time.
//! `stx_attributes_mask` names the attributes the VFS itself knows (automount point, mount
//! root, DAX); no object carries any of them (the container's root is a directory of the
//! host, as a `chroot` root is, not a mount).
//!
//! Not filled, so never claimed in `stx_mask`: `STATX_MNT_ID`/`STATX_MNT_ID_UNIQUE` (the
//! container's mounts are not modelled, and the host's ids must not show), `STATX_DIOALIGN`,
//! `STATX_SUBVOL`, `STATX_WRITE_ATOMIC`, and the filesystem-specific attributes (immutable,
//! append-only, …) that only the host's inode flags know.

use kernel_hostfs::{Metadata, Timespec, PATH_MAX};
use linux_object::LxError;

use super::path::{
    located_file, Object, AT_EMPTY_PATH, AT_NO_AUTOMOUNT, AT_STATX_SYNC_TYPE, AT_SYMLINK_NOFOLLOW,
};
use crate::user::{UserInPtr, UserOutPtr, UserValue};
use crate::{SysResult, Syscall};

/// `STATX_TYPE` … `STATX_BLOCKS`: what `stat` reports.
pub(crate) const STATX_BASIC_STATS: u32 = 0x7ff;
/// `stx_btime` is filled.
pub(crate) const STATX_BTIME: u32 = 0x800;
/// The mask bit reserved for extending `struct statx`: asking for it is `EINVAL`.
const STATX__RESERVED: u32 = 0x8000_0000;

/// The attributes the VFS itself reports for every object: `STATX_ATTR_AUTOMOUNT`,
/// `STATX_ATTR_MOUNT_ROOT`, `STATX_ATTR_DAX`.
const VFS_ATTRIBUTES_MASK: u64 = 0x1000 | 0x2000 | 0x20_0000;

/// What `statx` reports about one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statx {
    /// The object's metadata.
    pub metadata: Metadata,
    /// Its birth time, if asked for and the filesystem records one.
    pub btime: Option<Timespec>,
}

/// The major number of a device id in `st_dev` encoding (glibc's `gnu_dev_major`).
fn dev_major(dev: u64) -> u32 {
    (((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff)) as u32
}

/// The minor number of a device id in `st_dev` encoding (glibc's `gnu_dev_minor`).
fn dev_minor(dev: u64) -> u32 {
    ((dev & 0xff) | ((dev >> 12) & !0xff)) as u32
}

impl UserValue for Statx {
    const SIZE: usize = 256;

    fn from_user_bytes(_bytes: &[u8]) -> Self {
        // The kernel only writes a `struct statx`; tests decode the bytes themselves.
        Self {
            metadata: super::stat::Stat::from_user_bytes(&[]).0,
            btime: None,
        }
    }

    fn to_user_bytes(&self, out: &mut [u8]) {
        let m = &self.metadata;
        let mut put = |offset: usize, value: u64, width: usize| {
            if let Some(field) = out.get_mut(offset..offset + width) {
                field.copy_from_slice(value.to_le_bytes().get(..width).unwrap_or_default());
            }
        };
        let mask = STATX_BASIC_STATS | self.btime.map_or(0, |_| STATX_BTIME);
        put(0, u64::from(mask), 4);
        put(4, u64::from(m.blk_size), 4);
        // `stx_attributes`: none of the VFS's attributes applies (see the module's doc).
        put(8, 0, 8);
        // `stx_nlink` is 32 bits wide: Linux truncates.
        put(16, m.nlinks, 4);
        put(20, u64::from(m.uid), 4);
        put(24, u64::from(m.gid), 4);
        put(28, u64::from(m.st_mode()), 2);
        put(32, m.inode, 8);
        put(40, m.size, 8);
        put(48, m.blocks, 8);
        put(56, VFS_ATTRIBUTES_MASK, 8);
        // `struct statx_timestamp`: a signed 64-bit second count and 32-bit nanoseconds.
        let mut put_time = |offset: usize, time: Timespec| {
            put(offset, time.sec as u64, 8);
            put(offset + 8, time.nsec as u64, 4);
        };
        put_time(64, m.atime);
        put_time(80, self.btime.unwrap_or_default());
        put_time(96, m.ctime);
        put_time(112, m.mtime);
        put(128, u64::from(dev_major(m.rdev)), 4);
        put(132, u64::from(dev_minor(m.rdev)), 4);
        put(136, u64::from(dev_major(m.dev)), 4);
        put(140, u64::from(dev_minor(m.dev)), 4);
    }
}

impl Syscall<'_> {
    /// `statx(dirfd, path, flags, mask, statxbuf)`.
    ///
    /// With `AT_EMPTY_PATH`, a null or empty path and `dirfd >= 0` describe `dirfd` itself
    /// (any descriptor, `O_PATH` included, `EBADF` if not open) without looking at the other
    /// flags, as Linux 6.11+. Otherwise the checks come in Linux's order: `EINVAL` for the
    /// reserved mask bit, for both `AT_STATX_FORCE_SYNC` and `AT_STATX_DONT_SYNC`, and for an
    /// unknown flag, then the path (`EFAULT`, `ENAMETOOLONG`, `ENOENT` if empty without
    /// `AT_EMPTY_PATH`), the walk, and last the buffer (`EFAULT`).
    ///
    /// The sync flags are accepted and ignored: every answer comes from the host's inode as
    /// it is now, which is what `AT_STATX_SYNC_AS_STAT` gives on a local filesystem.
    pub fn sys_statx(
        &self,
        dirfd: i32,
        path: UserInPtr<u8>,
        flags: u32,
        mask: u32,
        statxbuf: UserOutPtr<Statx>,
    ) -> SysResult {
        let empty_path = flags & AT_EMPTY_PATH != 0;
        if empty_path && dirfd >= 0 && (path.is_null() || path.read()? == 0) {
            check_mask_and_sync(flags, mask)?;
            let file = self.file_raw(dirfd)?;
            let object = match located_file(&*file) {
                Some(node) => Object::Node(node),
                None => Object::File(file),
            };
            return self.write_statx(&object, mask, statxbuf);
        }
        check_mask_and_sync(flags, mask)?;
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE)
            != 0
        {
            return Err(LxError::EINVAL);
        }
        // A null path with `AT_EMPTY_PATH` is the empty path (Linux 6.11+).
        let path = if path.is_null() && empty_path {
            alloc::vec::Vec::new()
        } else {
            path.read_cstring(PATH_MAX - 1)?
        };
        let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
        let mut walker = self.walker();
        if mask & STATX_BTIME == 0 {
            // Without a birth time, `stat`'s answer is all: no object need be kept.
            let metadata = self.object_metadata(&mut walker, dirfd, &path, follow, empty_path)?;
            statxbuf.write(Statx {
                metadata,
                btime: None,
            })?;
            return Ok(0);
        }
        let object = self.resolve_object(&mut walker, dirfd, &path, follow, empty_path)?;
        self.write_statx(&object, mask, statxbuf)
    }

    fn write_statx(&self, object: &Object, mask: u32, statxbuf: UserOutPtr<Statx>) -> SysResult {
        let btime = match object {
            Object::Node(node) if mask & STATX_BTIME != 0 => node.inode.birth_time()?,
            _ => None,
        };
        statxbuf.write(Statx {
            metadata: object.metadata()?,
            btime,
        })?;
        Ok(0)
    }
}

/// `EINVAL` for the reserved mask bit or for both sync flags at once.
fn check_mask_and_sync(flags: u32, mask: u32) -> Result<(), LxError> {
    if mask & STATX__RESERVED != 0 || flags & AT_STATX_SYNC_TYPE == AT_STATX_SYNC_TYPE {
        return Err(LxError::EINVAL);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::testing::{err, int, run, Sandbox};
    use crate::fs::AT_FDCWD;
    use std::os::unix::fs::MetadataExt;

    const STATX: u32 = 332;

    fn u32_at(bytes: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
    }

    fn u64_at(bytes: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
    }

    #[test]
    fn statx_fills_the_basic_fields_as_the_host_has_them() {
        let sandbox = Sandbox::new("statx-basic");
        sandbox.write("f", b"hello");
        sandbox.symlink("f", "l");
        let sys = sandbox.syscall();
        let buf = sandbox.buf(256);
        let at_fdcwd = int(AT_FDCWD);
        assert_eq!(
            run(&sys, STATX, &[at_fdcwd, sandbox.cstr("l"), 0, 0, buf]),
            0
        );
        let bytes = sandbox.user.get_bytes(buf, 256);
        let host = std::fs::metadata(sandbox.host("f")).unwrap();
        assert_eq!(u32_at(&bytes, 0), STATX_BASIC_STATS, "asked for nothing");
        assert_eq!(u32_at(&bytes, 16), 1, "nlink");
        assert_eq!(u32_at(&bytes, 28) & 0xffff, 0o100644);
        assert_eq!(u64_at(&bytes, 32), host.ino());
        assert_eq!(u64_at(&bytes, 40), 5);
        assert_eq!(u64_at(&bytes, 112) as i64, host.mtime());
        assert_eq!(u32_at(&bytes, 120) as i64, host.mtime_nsec());
        let dev = host.dev();
        assert_eq!(u32_at(&bytes, 136), libc::major(dev));
        assert_eq!(u32_at(&bytes, 140), libc::minor(dev));
        assert_eq!(u64_at(&bytes, 8), 0, "no attribute");
        assert_eq!(u64_at(&bytes, 56), VFS_ATTRIBUTES_MASK);
        assert_eq!(u64_at(&bytes, 144), 0, "no mount id");
        let all = 0xfff;
        assert_eq!(
            run(&sys, STATX, &[at_fdcwd, sandbox.cstr("f"), 0, all, buf]),
            0
        );
        let bytes = sandbox.user.get_bytes(buf, 256);
        // tmpfs and ext4 record a birth time; other host filesystems may not.
        if u32_at(&bytes, 0) & STATX_BTIME != 0 {
            assert!(u64_at(&bytes, 80) as i64 <= host.ctime());
            assert!(u64_at(&bytes, 80) > 0);
        }
        // Not following the link describes the link.
        let nofollow = int(AT_SYMLINK_NOFOLLOW as i32);
        assert_eq!(
            run(
                &sys,
                STATX,
                &[at_fdcwd, sandbox.cstr("l"), nofollow, 0x7ff, buf]
            ),
            0
        );
        let bytes = sandbox.user.get_bytes(buf, 256);
        assert_eq!(u32_at(&bytes, 28) & 0xffff, 0o120777);
        assert_eq!(
            run(&sys, STATX, &[at_fdcwd, sandbox.cstr("/"), 0, 0x7ff, buf]),
            0
        );
        let bytes = sandbox.user.get_bytes(buf, 256);
        assert_eq!(u32_at(&bytes, 28) & 0xffff, 0o040755);
    }

    #[test]
    fn statx_of_a_descriptor_and_of_the_working_directory() {
        let sandbox = Sandbox::new("statx-fd");
        sandbox.write("f", b"data");
        let sys = sandbox.syscall();
        let buf = sandbox.buf(256);
        let (reader, _writer) =
            linux_object::fs::Pipe::new_pair(linux_object::fs::OpenFlags::empty());
        let pipe = sys.process.files().add(reader, false).unwrap() as usize;
        let empty = int(AT_EMPTY_PATH as i32);
        // A null path with AT_EMPTY_PATH, unknown flags ignored on this path, as Linux 6.11+.
        assert_eq!(run(&sys, STATX, &[pipe, 0, empty | 0x1, 0x7ff, buf]), 0);
        let bytes = sandbox.user.get_bytes(buf, 256);
        assert_eq!(u32_at(&bytes, 28) & 0xffff, 0o010600);
        assert_eq!(
            u32_at(&bytes, 0),
            STATX_BASIC_STATS,
            "a pipe has no birth time"
        );
        assert_eq!(
            run(&sys, STATX, &[pipe, 0, empty, 0x8000_0000, buf]),
            err(LxError::EINVAL)
        );
        assert_eq!(
            run(&sys, STATX, &[99, sandbox.cstr(""), empty, 0x7ff, buf]),
            err(LxError::EBADF)
        );
        assert_eq!(
            run(&sys, STATX, &[int(-5), 0, empty, 0x7ff, buf]),
            err(LxError::EBADF)
        );
        // AT_FDCWD with an empty (or null) path and AT_EMPTY_PATH: the working directory.
        assert_eq!(run(&sys, STATX, &[int(AT_FDCWD), 0, empty, 0x7ff, buf]), 0);
        let bytes = sandbox.user.get_bytes(buf, 256);
        assert_eq!(u32_at(&bytes, 28) & 0xffff, 0o040755);
    }

    #[test]
    fn statx_errors_come_in_linux_order() {
        let sandbox = Sandbox::new("statx-errors");
        sandbox.write("f", b"");
        let sys = sandbox.syscall();
        let buf = sandbox.buf(256);
        let at_fdcwd = int(AT_FDCWD);
        let bad = sandbox.user.unmapped();
        // Mask and flags are checked before the path is looked at.
        for (flags, mask) in [(0x1, 0x7ff), (0, 0x8000_0000), (0x6000, 0x7ff)] {
            assert_eq!(
                run(&sys, STATX, &[at_fdcwd, bad, flags, mask, buf]),
                err(LxError::EINVAL),
                "flags {flags:#x} mask {mask:#x}"
            );
        }
        assert_eq!(
            run(&sys, STATX, &[at_fdcwd, bad, 0, 0x7ff, buf]),
            err(LxError::EFAULT)
        );
        assert_eq!(
            run(&sys, STATX, &[at_fdcwd, 0, 0, 0x7ff, buf]),
            err(LxError::EFAULT)
        );
        assert_eq!(
            run(&sys, STATX, &[at_fdcwd, sandbox.cstr(""), 0, 0x7ff, buf]),
            err(LxError::ENOENT)
        );
        assert_eq!(
            run(
                &sys,
                STATX,
                &[at_fdcwd, sandbox.cstr("none"), 0, 0x7ff, bad]
            ),
            err(LxError::ENOENT)
        );
        assert_eq!(
            run(&sys, STATX, &[at_fdcwd, sandbox.cstr("f"), 0, 0x7ff, bad]),
            err(LxError::EFAULT)
        );
        // The sync flags alone are fine, and so is asking for more than is known.
        for flags in [0x2000, 0x4000, 0x800] {
            assert_eq!(
                run(
                    &sys,
                    STATX,
                    &[at_fdcwd, sandbox.cstr("f"), flags, 0xfffff, buf]
                ),
                0
            );
        }
    }
}
