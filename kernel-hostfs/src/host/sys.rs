//! The host backend's system calls: the only `unsafe` code in this crate.
//!
//! Each function wraps one libc call in a block as small as it can be, takes descriptors as
//! `BorrowedFd` (so they are open for the whole call) and names as `&CStr` (so they are
//! NUL-terminated and outlive the call), returns new descriptors as `OwnedFd`, and turns
//! failures into [`FsError`]. Nothing here resolves more than one name: paths are walked by
//! [`crate::walk`].

use std::ffi::CStr;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::vec::Vec;

use crate::error::{errno, FsError, FsResult};
use crate::name::PATH_MAX;

/// The empty name: with `AT_EMPTY_PATH` an `*at` call acts on the descriptor itself.
const SELF: &CStr = c"";

fn last_error() -> FsError {
    FsError::from_errno(
        io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(errno::EIO),
    )
}

fn check(ret: libc::c_int) -> FsResult<()> {
    if ret < 0 {
        Err(last_error())
    } else {
        Ok(())
    }
}

fn owned(fd: RawFd) -> FsResult<OwnedFd> {
    if fd < 0 {
        return Err(last_error());
    }
    // SAFETY: `fd` was just returned by the kernel as a new descriptor nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `openat(dir, name, flags | O_CLOEXEC, mode)`.
pub(super) fn open_at(
    dir: BorrowedFd<'_>,
    name: &CStr,
    flags: libc::c_int,
    mode: libc::mode_t,
) -> FsResult<OwnedFd> {
    let flags = flags | libc::O_CLOEXEC;
    // SAFETY: `name` is NUL-terminated and valid for the call; openat only reads it.
    let fd = unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags, mode) };
    owned(fd)
}

/// `fstatat(dir, name, flags)`.
pub(super) fn stat_at(
    dir: BorrowedFd<'_>,
    name: &CStr,
    flags: libc::c_int,
) -> FsResult<libc::stat> {
    let mut stat = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `name` is NUL-terminated; `stat` is valid for writes of one `struct stat`.
    let ret = unsafe { libc::fstatat(dir.as_raw_fd(), name.as_ptr(), stat.as_mut_ptr(), flags) };
    check(ret)?;
    // SAFETY: fstatat succeeded, so it initialised the whole struct.
    Ok(unsafe { stat.assume_init() })
}

/// `fstat` of the object `fd` refers to, even an `O_PATH` descriptor of a symbolic link.
pub(super) fn stat(fd: BorrowedFd<'_>) -> FsResult<libc::stat> {
    stat_at(fd, SELF, libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW)
}

/// `readlinkat` of the symbolic link an `O_PATH | O_NOFOLLOW` descriptor refers to.
pub(super) fn read_link(link: BorrowedFd<'_>) -> FsResult<Vec<u8>> {
    let mut target = std::vec![0u8; PATH_MAX];
    // SAFETY: `SELF` is NUL-terminated; `target` is valid for writes of `target.len()` bytes.
    let len = unsafe {
        libc::readlinkat(
            link.as_raw_fd(),
            SELF.as_ptr(),
            target.as_mut_ptr().cast(),
            target.len(),
        )
    };
    let len = usize::try_from(len).map_err(|_| last_error())?;
    // A target filling the buffer may have been cut short; Linux never stores one that long.
    if len >= target.len() {
        return Err(FsError::NameTooLong);
    }
    target.truncate(len);
    Ok(target)
}

/// `mkdirat(dir, name, mode)`.
pub(super) fn mkdir_at(dir: BorrowedFd<'_>, name: &CStr, mode: libc::mode_t) -> FsResult<()> {
    // SAFETY: `name` is NUL-terminated and valid for the call.
    check(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode) })
}

/// `mknodat(dir, name, mode, 0)`: `mode` carries the type bits (FIFO or socket here).
pub(super) fn mknod_at(dir: BorrowedFd<'_>, name: &CStr, mode: libc::mode_t) -> FsResult<()> {
    // SAFETY: `name` is NUL-terminated and valid for the call.
    check(unsafe { libc::mknodat(dir.as_raw_fd(), name.as_ptr(), mode, 0) })
}

/// `symlinkat(target, dir, name)`.
pub(super) fn symlink_at(target: &CStr, dir: BorrowedFd<'_>, name: &CStr) -> FsResult<()> {
    // SAFETY: both strings are NUL-terminated and valid for the call.
    check(unsafe { libc::symlinkat(target.as_ptr(), dir.as_raw_fd(), name.as_ptr()) })
}

/// `linkat(AT_FDCWD, object, dir, name, AT_SYMLINK_FOLLOW)` where `object` is the
/// `/proc/self/fd/N` link of a descriptor: links that very object, needing no capability
/// (unlike `AT_EMPTY_PATH`, which requires `CAP_DAC_READ_SEARCH`).
pub(super) fn link_fd_path(object: &CStr, dir: BorrowedFd<'_>, name: &CStr) -> FsResult<()> {
    let (cwd, follow) = (libc::AT_FDCWD, libc::AT_SYMLINK_FOLLOW);
    // SAFETY: both strings are NUL-terminated and valid for the call.
    check(unsafe { libc::linkat(cwd, object.as_ptr(), dir.as_raw_fd(), name.as_ptr(), follow) })
}

/// `unlinkat(dir, name, flags)`.
pub(super) fn unlink_at(dir: BorrowedFd<'_>, name: &CStr, flags: libc::c_int) -> FsResult<()> {
    // SAFETY: `name` is NUL-terminated and valid for the call.
    check(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), flags) })
}

/// `renameat(old_dir, old_name, new_dir, new_name)`.
pub(super) fn rename_at(
    old_dir: BorrowedFd<'_>,
    old_name: &CStr,
    new_dir: BorrowedFd<'_>,
    new_name: &CStr,
) -> FsResult<()> {
    let (old_dir, new_dir) = (old_dir.as_raw_fd(), new_dir.as_raw_fd());
    // SAFETY: both names are NUL-terminated and valid for the call.
    check(unsafe { libc::renameat(old_dir, old_name.as_ptr(), new_dir, new_name.as_ptr()) })
}

/// `fchownat(fd, "", uid, gid, AT_EMPTY_PATH)`: the object itself, never a link's target.
/// `u32::MAX` (`-1`) leaves an ID unchanged.
pub(super) fn chown(fd: BorrowedFd<'_>, uid: libc::uid_t, gid: libc::gid_t) -> FsResult<()> {
    let flags = libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW;
    // SAFETY: `SELF` is NUL-terminated and valid for the call.
    check(unsafe { libc::fchownat(fd.as_raw_fd(), SELF.as_ptr(), uid, gid, flags) })
}

/// `utimensat(fd, "", times, AT_EMPTY_PATH)`: the object itself, never a link's target.
pub(super) fn set_times(fd: BorrowedFd<'_>, times: &[libc::timespec; 2]) -> FsResult<()> {
    let flags = libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW;
    // SAFETY: `SELF` is NUL-terminated and `times` points to two timespecs, as required.
    check(unsafe { libc::utimensat(fd.as_raw_fd(), SELF.as_ptr(), times.as_ptr(), flags) })
}

/// `statx` of the object `fd` refers to (never a link's target), asking for its birth time.
pub(super) fn statx_btime(fd: BorrowedFd<'_>) -> FsResult<libc::statx> {
    let mut info = MaybeUninit::<libc::statx>::uninit();
    let flags = libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW;
    // SAFETY: `SELF` is NUL-terminated; `info` is valid for writes of one `struct statx`.
    let ret = unsafe {
        libc::statx(
            fd.as_raw_fd(),
            SELF.as_ptr(),
            flags,
            libc::STATX_BTIME,
            info.as_mut_ptr(),
        )
    };
    check(ret)?;
    // SAFETY: statx succeeded, so it initialised the whole struct.
    Ok(unsafe { info.assume_init() })
}

/// `fstatfs(fd)`.
pub(super) fn statfs(fd: BorrowedFd<'_>) -> FsResult<libc::statfs> {
    let mut info = MaybeUninit::<libc::statfs>::uninit();
    // SAFETY: `info` is valid for writes of one `struct statfs`.
    check(unsafe { libc::fstatfs(fd.as_raw_fd(), info.as_mut_ptr()) })?;
    // SAFETY: fstatfs succeeded, so it initialised the whole struct.
    Ok(unsafe { info.assume_init() })
}

/// `fstatvfs(fd)`: for the mount flags, which libc's `struct statfs` does not name.
pub(super) fn statvfs(fd: BorrowedFd<'_>) -> FsResult<libc::statvfs> {
    let mut info = MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `info` is valid for writes of one `struct statvfs`.
    check(unsafe { libc::fstatvfs(fd.as_raw_fd(), info.as_mut_ptr()) })?;
    // SAFETY: fstatvfs succeeded, so it initialised the whole struct.
    Ok(unsafe { info.assume_init() })
}

/// `syncfs(fd)`.
pub(super) fn syncfs(fd: BorrowedFd<'_>) -> FsResult<()> {
    // SAFETY: syncfs takes only a descriptor, open for the call.
    check(unsafe { libc::syncfs(fd.as_raw_fd()) })
}

/// `getdents64(dir, buf)`: fills `buf` with `linux_dirent64` records, returns the bytes used
/// (0 at the end of the directory).
pub(super) fn getdents(dir: BorrowedFd<'_>, buf: &mut [u8]) -> FsResult<usize> {
    let (fd, ptr, len) = (dir.as_raw_fd(), buf.as_mut_ptr(), buf.len());
    // SAFETY: `buf` is valid for writes of `len` bytes; the kernel writes at most that many.
    let ret = unsafe { libc::syscall(libc::SYS_getdents64, fd, ptr, len) };
    usize::try_from(ret).map_err(|_| last_error())
}

/// `/proc/self/fd/N` of `fd`: the object itself when a call follows it (a magic link leads to
/// the object the descriptor holds, symbolic links included), which the `*xattr` calls need
/// since they take no `AT_EMPTY_PATH` and refuse `O_PATH` descriptors.
fn proc_fd_path(fd: BorrowedFd<'_>) -> FsResult<std::ffi::CString> {
    std::ffi::CString::new(std::format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .map_err(|_| FsError::Io)
}

fn xattr_name(name: &str) -> FsResult<std::ffi::CString> {
    std::ffi::CString::new(name).map_err(|_| FsError::InvalidArgument)
}

fn size_result(ret: libc::ssize_t) -> FsResult<usize> {
    usize::try_from(ret).map_err(|_| last_error())
}

pub(super) fn get_xattr(fd: BorrowedFd<'_>, name: &str, value: &mut [u8]) -> FsResult<usize> {
    let (path, name) = (proc_fd_path(fd)?, xattr_name(name)?);
    // SAFETY: both strings are NUL-terminated; `value` is writable for its length.
    size_result(unsafe {
        libc::getxattr(
            path.as_ptr(),
            name.as_ptr(),
            value.as_mut_ptr().cast(),
            value.len(),
        )
    })
}

pub(super) fn list_xattr(fd: BorrowedFd<'_>, list: &mut [u8]) -> FsResult<usize> {
    let path = proc_fd_path(fd)?;
    // SAFETY: `path` is NUL-terminated; `list` is writable for its length.
    size_result(unsafe { libc::listxattr(path.as_ptr(), list.as_mut_ptr().cast(), list.len()) })
}

pub(super) fn set_xattr(fd: BorrowedFd<'_>, name: &str, value: &[u8], flags: u32) -> FsResult<()> {
    let (path, name) = (proc_fd_path(fd)?, xattr_name(name)?);
    // SAFETY: both strings are NUL-terminated; `value` is readable for its length.
    check(unsafe {
        libc::setxattr(
            path.as_ptr(),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            flags as libc::c_int,
        )
    })
}

pub(super) fn remove_xattr(fd: BorrowedFd<'_>, name: &str) -> FsResult<()> {
    let (path, name) = (proc_fd_path(fd)?, xattr_name(name)?);
    // SAFETY: both strings are NUL-terminated.
    check(unsafe { libc::removexattr(path.as_ptr(), name.as_ptr()) })
}
