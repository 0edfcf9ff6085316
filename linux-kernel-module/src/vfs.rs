//! Filesystem objects under a container's root, held by the kernel: [`VfsObject`], a counted
//! `struct path`, and the one-name operations the VFS backend of `kernel-hostfs` is made of.
//!
//! Every operation takes at most one *name*: a single path component the caller has checked
//! (no `/`, no NUL, not `.` or `..`, at most 255 bytes). Walking paths, clamping `..` and
//! resolving symbolic links inside the root are done above, in `kernel_hostfs::walk`, so the
//! kernel is never handed a path it could resolve outside the root.

use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::ptr::NonNull;

use crate::bindings;
use crate::error::{Error, Result};
use crate::path::HostDir;

pub use bindings::{rvisor_setattr as SetAttr, rvisor_stat as Stat, rvisor_statfs as StatFs};

/// `rvisor_setattr.valid` bits.
pub mod set {
    pub use crate::bindings::{
        rvisor_setattr_valid_RVISOR_SET_ATIME as ATIME,
        rvisor_setattr_valid_RVISOR_SET_ATIME_NOW as ATIME_NOW,
        rvisor_setattr_valid_RVISOR_SET_GID as GID, rvisor_setattr_valid_RVISOR_SET_MODE as MODE,
        rvisor_setattr_valid_RVISOR_SET_MTIME as MTIME,
        rvisor_setattr_valid_RVISOR_SET_MTIME_NOW as MTIME_NOW,
        rvisor_setattr_valid_RVISOR_SET_UID as UID,
    };
}

/// The longest name one component may have (`NAME_MAX`).
const NAME_MAX: usize = 255;
/// The longest symbolic link target (`PATH_MAX`).
const LINK_MAX: usize = 4096;
/// How much one `readdir` round lists.
const READDIR_CHUNK: usize = 4096;

/// Linux's `XATTR_NAME_MAX`.
const XATTR_NAME_MAX: usize = 255;

/// `name` as C text (NUL-terminated, on the stack): `ERANGE` if it is empty or too long, as
/// Linux's `import_xattr_name`; `EINVAL` if it holds a NUL.
fn xattr_name(name: &[u8]) -> Result<[u8; XATTR_NAME_MAX + 1]> {
    if name.is_empty() || name.len() > XATTR_NAME_MAX {
        return Err(Error::ERANGE);
    }
    if name.contains(&0) {
        return Err(Error::EINVAL);
    }
    let mut text = [0u8; XATTR_NAME_MAX + 1];
    text.get_mut(..name.len())
        .ok_or(Error::ERANGE)?
        .copy_from_slice(name);
    Ok(text)
}

/// A regular file opened to run it, whose writers are kept out while it is held (see
/// [`VfsObject::open_exec`]).
pub struct ExecFile(NonNull<bindings::file>);

// SAFETY: a counted `struct file`; `fput` and `allow_write_access` may run in any task.
unsafe impl Send for ExecFile {}
// SAFETY: the only operation through `&ExecFile`, `vm_mmap`, takes the locks it needs itself.
unsafe impl Sync for ExecFile {}

impl ExecFile {
    /// Maps `len` bytes of the file from `offset` at `addr` in the calling process,
    /// privately (copy on write) and exactly there, with `prot`.
    pub fn map_into_current(&self, addr: usize, len: usize, prot: u32, offset: u64) -> Result<()> {
        // SAFETY: process context; the file is held and vm_mmap checks every argument.
        let ret = unsafe {
            bindings::rvisor_exec_map(self.0.as_ptr(), addr as _, len as _, prot, offset)
        };
        Error::check(ret).map(|_| ())
    }
}

impl Drop for ExecFile {
    fn drop(&mut self) {
        // SAFETY: releases what `rvisor_exec_open` took: the write denial and the reference.
        unsafe { bindings::rvisor_exec_close(self.0.as_ptr()) }
    }
}

/// A counted writer of a regular file (see [`VfsObject::write_access`]).
pub struct WriteAccess(VfsObject);

impl Drop for WriteAccess {
    fn drop(&mut self) {
        // SAFETY: ends the count `rvisor_vfs_get_write_access` took on this object, which is
        // still held (released after this, with the object).
        unsafe { bindings::rvisor_vfs_put_write_access(self.0.raw()) }
    }
}

/// Storage the shim fills with a held object (a counted `struct path` and the files opened
/// from it) and empties when this is dropped. Nothing else points to it between calls, so it
/// may live anywhere and move freely.
pub(crate) struct Holder(UnsafeCell<bindings::rvisor_path>);

// SAFETY: a counted `struct path` and counted files; the kernel objects they refer to are
// safe to use and release from any task.
unsafe impl Send for Holder {}
// SAFETY: every operation through `&Holder` is one the VFS serialises itself (inode locks),
// and the lazily opened files are installed with cmpxchg in the shim.
unsafe impl Sync for Holder {}

impl Holder {
    /// The holder `fill` fills: `fill` is a shim call given the storage, returning 0 or
    /// -errno.
    ///
    /// # Safety
    ///
    /// `fill` must leave a held object in the storage when it returns 0, and nothing it must
    /// release when it fails.
    pub(crate) unsafe fn fill(
        fill: impl FnOnce(*mut bindings::rvisor_path) -> i64,
    ) -> Result<Self> {
        let mut out = MaybeUninit::<bindings::rvisor_path>::uninit();
        Error::check(fill(out.as_mut_ptr()))?;
        // SAFETY: `fill` succeeded, so (by this function's contract) it filled the storage.
        Ok(Self(UnsafeCell::new(unsafe { out.assume_init() })))
    }

    pub(crate) fn raw(&self) -> *mut bindings::rvisor_path {
        self.0.get()
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        // SAFETY: the storage holds the references `fill` took, released here once.
        unsafe { bindings::rvisor_path_put(self.raw()) }
    }
}

/// One held filesystem object: it stays the same object (and its mount stays mounted) while
/// this lives, whatever is renamed or unlinked meanwhile.
pub struct VfsObject(Holder);

/// What [`VfsObject::record_lock`] does: `F_GETLK`, `F_SETLK` or `F_SETLKW`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LockOp {
    /// Finds a conflicting lock.
    Test,
    /// Takes or releases a lock without waiting.
    Set,
    /// Takes a lock, waiting for conflicting ones to go.
    Wait,
}

/// A POSIX record lock: an absolute, inclusive range, its type (`F_RDLCK` …) and, after a
/// test, its holder's host tgid (-1 for an open file description's lock).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RecordLock {
    /// First byte.
    pub start: i64,
    /// Last byte (included), `i64::MAX` to the end.
    pub end: i64,
    /// `F_RDLCK`, `F_WRLCK` or `F_UNLCK`.
    pub type_: i16,
    /// The holder's host tgid.
    pub pid: i32,
}

fn checked_name(name: &[u8]) -> Result<i32> {
    if name.is_empty() || name.len() > NAME_MAX || name.contains(&0) || name.contains(&b'/') {
        return Err(Error::EINVAL);
    }
    i32::try_from(name.len()).map_err(|_| Error::EINVAL)
}

fn zeroed_bytes(len: usize) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(len).map_err(|_| Error::ENOMEM)?;
    bytes.resize(len, 0);
    Ok(bytes)
}

impl HostDir {
    /// The directory as a [`VfsObject`] (another reference to it).
    pub fn object(&self) -> Result<VfsObject> {
        // SAFETY: `self` holds the path for the duration of the call; the clone fills the
        // storage with another reference and cannot fail.
        let holder = unsafe {
            Holder::fill(|out| {
                bindings::rvisor_path_clone(self.as_raw(), out);
                0
            })
        }?;
        Ok(VfsObject(holder))
    }
}

/// The `MFD_*` flags the running kernel's `memfd_create` takes (`MFD_EXEC` and
/// `MFD_NOEXEC_SEAL` since 6.3).
pub fn memfd_flags() -> u32 {
    // SAFETY: reads constants only.
    unsafe { bindings::rvisor_memfd_flags() }
}

impl VfsObject {
    /// A new memfd named `memfd:NAME` as Linux's `memfd_create` makes it (`name` without NUL
    /// bytes, `flags` among [`memfd_flags`]: `MFD_ALLOW_SEALING`, `MFD_NOEXEC_SEAL`): an
    /// unlinked shmem file, and the root directory of the internal mount it lives on.
    pub fn new_memfd(name: &[u8], flags: u32) -> Result<(VfsObject, VfsObject)> {
        const PREFIX: &[u8] = b"memfd:";
        if name.contains(&0) {
            return Err(Error::EINVAL);
        }
        let mut full = Vec::new();
        full.try_reserve_exact(PREFIX.len() + name.len() + 1)
            .map_err(|_| Error::ENOMEM)?;
        full.extend_from_slice(PREFIX);
        full.extend_from_slice(name);
        full.push(0);
        let mut root = MaybeUninit::<bindings::rvisor_path>::uninit();
        // SAFETY: `full` is NUL-terminated; on success the shim fills both storages with
        // counted paths (the file's and its mount root's), on failure neither.
        let file = unsafe {
            Holder::fill(|out| {
                bindings::rvisor_memfd_new(full.as_ptr().cast(), flags, root.as_mut_ptr(), out)
                    .into()
            })
        }?;
        // SAFETY: the shim succeeded, so it filled the root's storage too.
        let root = Holder(UnsafeCell::new(unsafe { root.assume_init() }));
        Ok((VfsObject(root), VfsObject(file)))
    }

    /// The seals of this shmem regular file (`F_GET_SEALS`), or, with `add`, those after
    /// adding these (`F_ADD_SEALS`, the description checked writable by the caller), with
    /// the host's own seal field and errors (`EINVAL`, `EPERM`, `EBUSY`).
    pub fn seals(&self, add: Option<u32>) -> Result<u32> {
        // SAFETY: the object is held; the shim takes the inode's lock to change the seals.
        let ret =
            unsafe { bindings::rvisor_vfs_seals(self.raw(), add.is_some(), add.unwrap_or(0)) };
        let seals = Error::check(ret.into())?;
        Ok(u32::try_from(seals).unwrap_or(0))
    }

    pub(crate) fn raw(&self) -> *mut bindings::rvisor_path {
        self.0.raw()
    }

    /// Looks `name` up in this directory without following a final symbolic link, crossing
    /// mount points; returns the object and its `S_IFMT` bits.
    pub fn lookup(&self, name: &[u8]) -> Result<(VfsObject, u32)> {
        let len = checked_name(name)?;
        let mut type_bits = 0;
        // SAFETY: `name` has `len` readable bytes; `out` and `type_bits` are valid for writes;
        // the directory is held by `self`; process context (the VFS may sleep). The lookup
        // fills `out` when it succeeds.
        let holder = unsafe {
            Holder::fill(|out| {
                bindings::rvisor_vfs_lookup(
                    self.raw(),
                    name.as_ptr().cast(),
                    len,
                    out,
                    &mut type_bits,
                )
                .into()
            })
        }?;
        Ok((VfsObject(holder), type_bits))
    }

    /// Maps `len` bytes of the file from `offset` into the calling process (`mmap` with
    /// `prot` and `flags`, `addr` a hint or exact as the flags say); returns the address.
    pub fn map_into_current(
        &self,
        addr: usize,
        len: usize,
        prot: u32,
        flags: u32,
        offset: u64,
    ) -> Result<usize> {
        // SAFETY: process context; the object is held and vm_mmap checks every argument.
        let ret = unsafe {
            bindings::rvisor_vfs_mmap(self.raw(), addr as _, len as _, prot, flags, offset)
        };
        Error::check(ret).map(|addr| addr as usize)
    }

    /// Opens this regular file to run it, as Linux's `open_exec`: `EACCES` on a `noexec`
    /// mount, `ETXTBSY` while it is open for writing; while the [`ExecFile`] lives, opening
    /// it for writing gives `ETXTBSY`.
    pub fn open_exec(&self) -> Result<ExecFile> {
        let mut file = core::ptr::null_mut();
        // SAFETY: process context; the object is held and `file` is valid for a write.
        let ret = unsafe { bindings::rvisor_exec_open(self.raw(), &mut file) };
        Error::check(ret.into())?;
        NonNull::new(file).map(ExecFile).ok_or(Error::EIO)
    }

    /// An unnamed regular file in this directory (`O_TMPFILE`) with permission bits `mode`,
    /// which `linkat` may name later unless `exclusive` (`O_EXCL`).
    pub fn tmpfile(&self, mode: u32, exclusive: bool) -> Result<VfsObject> {
        // SAFETY: the object is held; on success the shim fills the storage with the new
        // file's counted path.
        let holder = unsafe {
            Holder::fill(|out| {
                bindings::rvisor_vfs_tmpfile(self.raw(), mode, exclusive, out).into()
            })
        }?;
        Ok(VfsObject(holder))
    }

    /// Extended attribute `name` in `value` (its size for an empty `value`), with the caller's
    /// credentials and the host's checks: `ENODATA`, `ERANGE`, `EOPNOTSUPP` as Linux gives
    /// them; `ERANGE` for a name that is empty or longer than `XATTR_NAME_MAX`.
    pub fn get_xattr(&self, name: &[u8], value: &mut [u8]) -> Result<usize> {
        let name = xattr_name(name)?;
        let buffer = if value.is_empty() {
            core::ptr::null_mut()
        } else {
            value.as_mut_ptr().cast()
        };
        // SAFETY: the object is held; `name` is NUL-terminated; `buffer` is null or writable
        // for `value.len()` bytes.
        let ret = unsafe {
            bindings::rvisor_vfs_getxattr(
                self.raw(),
                name.as_ptr().cast(),
                buffer,
                value.len() as _,
            )
        };
        Error::check(ret).map(|n| n as usize)
    }

    /// The names of the object's extended attributes in `list` (their length for an empty
    /// `list`).
    pub fn list_xattr(&self, list: &mut [u8]) -> Result<usize> {
        let buffer = if list.is_empty() {
            core::ptr::null_mut()
        } else {
            list.as_mut_ptr().cast()
        };
        // SAFETY: the object is held; `buffer` is null or writable for `list.len()` bytes.
        let ret = unsafe { bindings::rvisor_vfs_listxattr(self.raw(), buffer, list.len() as _) };
        Error::check(ret).map(|n| n as usize)
    }

    /// Sets extended attribute `name` to `value` (`flags`: `XATTR_CREATE`, `XATTR_REPLACE`).
    pub fn set_xattr(&self, name: &[u8], value: &[u8], flags: u32) -> Result<()> {
        let name = xattr_name(name)?;
        // SAFETY: the object is held; `name` is NUL-terminated; `value` is readable for its
        // length.
        let ret = unsafe {
            bindings::rvisor_vfs_setxattr(
                self.raw(),
                name.as_ptr().cast(),
                value.as_ptr().cast(),
                value.len() as _,
                flags as _,
            )
        };
        Error::check(ret.into()).map(drop)
    }

    /// Removes extended attribute `name`.
    pub fn remove_xattr(&self, name: &[u8]) -> Result<()> {
        let name = xattr_name(name)?;
        // SAFETY: the object is held; `name` is NUL-terminated.
        let ret = unsafe { bindings::rvisor_vfs_removexattr(self.raw(), name.as_ptr().cast()) };
        Error::check(ret.into()).map(drop)
    }

    /// Counts a writer of this regular file for as long as the [`WriteAccess`] lives, as
    /// Linux does for a file opened for writing: `ETXTBSY` while it runs as a program (and
    /// running it meanwhile gives `ETXTBSY`).
    pub fn write_access(&self) -> Result<WriteAccess> {
        // SAFETY: the object is held; on success the shim fills the storage with another
        // reference, which the access keeps until it ends the count.
        let holder = unsafe {
            Holder::fill(|out| bindings::rvisor_vfs_get_write_access(self.raw(), out).into())
        }?;
        Ok(WriteAccess(VfsObject(holder)))
    }

    /// `stat` of the object itself.
    #[inline]
    pub fn stat(&self) -> Result<Stat> {
        // Not zeroed first: the shim writes every field (on the syscall path of `fstat`).
        let mut stat = MaybeUninit::<Stat>::uninit();
        // SAFETY: `stat` is valid for a write; the object is held.
        let ret = unsafe { bindings::rvisor_vfs_stat(self.raw(), stat.as_mut_ptr()) };
        Error::check(ret.into())?;
        // SAFETY: on success rvisor_vfs_stat has written every field.
        Ok(unsafe { stat.assume_init() })
    }

    /// `stat` of what `path` names below this directory, found by the host's walk in one call
    /// (see `rvisor_vfs_stat_beneath`): `path` is names separated by `/`, none `.` or `..`
    /// (`EINVAL` otherwise). `None` when that walk would follow a symbolic link or enter a host
    /// interface's mount, or when `path` is longer than the stack copy it is made C text in:
    /// the caller walks it one name at a time instead.
    pub fn stat_beneath(&self, path: &[u8], follow: bool) -> Result<Option<Stat>> {
        const SHORT_PATH: usize = 256;
        if path.contains(&0) || path.split(|&b| b == b'/').any(|n| n == b"." || n == b"..") {
            return Err(Error::EINVAL);
        }
        let mut c_path = [0u8; SHORT_PATH];
        let Some(text) = c_path
            .get_mut(..path.len())
            .filter(|_| path.len() < SHORT_PATH)
        else {
            return Ok(None);
        };
        text.copy_from_slice(path);
        let mut stat = MaybeUninit::<Stat>::uninit();
        // SAFETY: `c_path` is NUL-terminated (its bytes past `path` are zero); `stat` is valid
        // for a write; the directory is held; process context (the VFS may sleep).
        let ret = unsafe {
            bindings::rvisor_vfs_stat_beneath(
                self.raw(),
                c_path.as_ptr().cast(),
                follow,
                stat.as_mut_ptr(),
            )
        };
        if Error::check(ret.into())? != 0 {
            return Ok(None);
        }
        // SAFETY: on 0 rvisor_vfs_stat_beneath has written every field.
        Ok(Some(unsafe { stat.assume_init() }))
    }

    /// The inode number `stat` reports for the object, without the rest of [`stat`](Self::stat).
    pub fn ino(&self) -> Result<u64> {
        let mut ino = 0;
        // SAFETY: `ino` is valid for a write; the object is held.
        let ret = unsafe { bindings::rvisor_vfs_ino(self.raw(), &mut ino) };
        Error::check(ret.into())?;
        Ok(ino)
    }

    /// The target of this symbolic link (`EINVAL` if it is not one).
    pub fn read_link(&self) -> Result<Vec<u8>> {
        let mut target = zeroed_bytes(LINK_MAX)?;
        // SAFETY: `target` has LINK_MAX writable bytes; the object is held.
        let ret = unsafe {
            bindings::rvisor_vfs_readlink(self.raw(), target.as_mut_ptr().cast(), LINK_MAX as i32)
        };
        let len = Error::check(ret.into())?;
        target.truncate(usize::try_from(len).map_err(|_| Error::EIO)?);
        Ok(target)
    }

    /// Reads at `offset` (a FIFO in stream order, never waiting).
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        // SAFETY: `buf` is writable for its length; the object is held.
        let ret = unsafe {
            bindings::rvisor_vfs_read(
                self.raw(),
                offset,
                buf.as_mut_ptr().cast(),
                buf.len() as u64,
            )
        };
        Error::check(ret).and_then(|count| usize::try_from(count).map_err(|_| Error::EIO))
    }

    /// Writes at `offset` (a FIFO in stream order, never waiting).
    pub fn write_at(&self, offset: u64, buf: &[u8]) -> Result<usize> {
        // SAFETY: `buf` is readable for its length; the object is held.
        let ret = unsafe {
            bindings::rvisor_vfs_write(self.raw(), offset, buf.as_ptr().cast(), buf.len() as u64)
        };
        Error::check(ret).and_then(|count| usize::try_from(count).map_err(|_| Error::EIO))
    }

    /// Reads a regular file at `offset` straight into the calling process's memory: up to
    /// `len` bytes at user address `user`. A short count if part of the buffer is
    /// inaccessible, `EFAULT` if its first byte is.
    pub fn read_to_user(&self, offset: u64, user: usize, len: usize) -> Result<usize> {
        // SAFETY: the object is held; the shim checks `user..user + len` with access_ok and
        // copies through the kernel's user-copy routines, which handle faults.
        let ret =
            unsafe { bindings::rvisor_vfs_read_user(self.raw(), offset, user as _, len as _) };
        Error::check(ret).and_then(|count| usize::try_from(count).map_err(|_| Error::EIO))
    }

    /// Writes a regular file at `offset` straight from the calling process's memory, as
    /// [`VfsObject::read_to_user`] reads it.
    pub fn write_from_user(&self, offset: u64, user: usize, len: usize) -> Result<usize> {
        // SAFETY: as for `read_to_user`.
        let ret =
            unsafe { bindings::rvisor_vfs_write_user(self.raw(), offset, user as _, len as _) };
        Error::check(ret).and_then(|count| usize::try_from(count).map_err(|_| Error::EIO))
    }

    /// Sets a regular file's length.
    pub fn truncate(&self, len: u64) -> Result<()> {
        // SAFETY: the object is held.
        Error::check(unsafe { bindings::rvisor_vfs_truncate(self.raw(), len) }.into()).map(drop)
    }

    /// A POSIX record-lock operation with the host's own lock table (see the shim's
    /// `rvisor_vfs_lock`). `Wait` may sleep; a signal ends it with `ERESTARTSYS`.
    pub fn record_lock(
        &self,
        op: LockOp,
        ofd: bool,
        owner: usize,
        lock: &mut RecordLock,
    ) -> Result<()> {
        let op = match op {
            LockOp::Test => bindings::RVISOR_LOCK_TEST,
            LockOp::Set => bindings::RVISOR_LOCK_SET,
            LockOp::Wait => bindings::RVISOR_LOCK_WAIT,
        };
        let mut raw = bindings::rvisor_lock {
            start: lock.start,
            end: lock.end,
            type_: i32::from(lock.type_),
            pid: lock.pid,
        };
        // SAFETY: the object is held; `raw` is a live, initialised struct for the call's
        // duration; process context (a served call), where the shim may sleep.
        let ret =
            unsafe { bindings::rvisor_vfs_lock(self.raw(), op as i32, ofd, owner as _, &mut raw) };
        Error::check(ret.into())?;
        *lock = RecordLock {
            start: raw.start,
            end: raw.end,
            type_: i16::try_from(raw.type_).map_err(|_| Error::EIO)?,
            pid: raw.pid,
        };
        Ok(())
    }

    /// Releases every POSIX record lock `owner` holds on the object.
    pub fn release_record_locks(&self, owner: usize) {
        // SAFETY: the object is held; process context.
        unsafe { bindings::rvisor_vfs_unlock_owner(self.raw(), owner as _) }
    }

    /// Flushes the object (its data only, if `data_only`).
    pub fn fsync(&self, data_only: bool) -> Result<()> {
        // SAFETY: the object is held.
        Error::check(unsafe { bindings::rvisor_vfs_fsync(self.raw(), data_only) }.into()).map(drop)
    }

    /// Flushes the filesystem holding the object.
    pub fn sync_fs(&self) -> Result<()> {
        // SAFETY: the object is held.
        Error::check(unsafe { bindings::rvisor_vfs_syncfs(self.raw()) }.into()).map(drop)
    }

    /// `statfs` of the filesystem holding the object.
    pub fn statfs(&self) -> Result<StatFs> {
        let mut statfs = StatFs::default();
        // SAFETY: `statfs` is valid for a write; the object is held.
        let ret = unsafe { bindings::rvisor_vfs_statfs(self.raw(), &mut statfs) };
        Error::check(ret.into())?;
        Ok(statfs)
    }

    /// Creates `name` in this directory; `mode` holds `S_IFREG`, `S_IFDIR`, `S_IFIFO` or
    /// `S_IFSOCK` and the permission bits. `EEXIST` if the name is taken.
    pub fn create(&self, name: &[u8], mode: u32) -> Result<VfsObject> {
        let len = checked_name(name)?;
        // SAFETY: `name` has `len` readable bytes; `out` is valid for a write; held directory.
        // The creation fills `out` when it succeeds.
        let holder = unsafe {
            Holder::fill(|out| {
                bindings::rvisor_vfs_create(self.raw(), name.as_ptr().cast(), len, mode, out).into()
            })
        }?;
        Ok(VfsObject(holder))
    }

    /// Creates the symbolic link `name` in this directory holding `target`.
    pub fn symlink(&self, name: &[u8], target: &[u8]) -> Result<VfsObject> {
        let len = checked_name(name)?;
        if target.is_empty() || target.len() >= LINK_MAX || target.contains(&0) {
            return Err(Error::EINVAL);
        }
        let mut c_target = zeroed_bytes(target.len() + 1)?;
        c_target[..target.len()].copy_from_slice(target);
        // SAFETY: `name` has `len` bytes, `c_target` is NUL-terminated, `out` is writable;
        // the creation fills `out` when it succeeds.
        let holder = unsafe {
            Holder::fill(|out| {
                bindings::rvisor_vfs_symlink(
                    self.raw(),
                    name.as_ptr().cast(),
                    len,
                    c_target.as_ptr().cast(),
                    out,
                )
                .into()
            })
        }?;
        Ok(VfsObject(holder))
    }

    /// Adds `name` in this directory as a hard link to `target`.
    pub fn link(&self, target: &VfsObject, name: &[u8]) -> Result<()> {
        let len = checked_name(name)?;
        // SAFETY: both objects are held; `name` has `len` readable bytes.
        let ret = unsafe {
            bindings::rvisor_vfs_link(target.raw(), self.raw(), name.as_ptr().cast(), len)
        };
        Error::check(ret.into()).map(drop)
    }

    /// Removes `name` from this directory: an empty directory if `is_dir`, anything else if not.
    pub fn unlink(&self, name: &[u8], is_dir: bool) -> Result<()> {
        let len = checked_name(name)?;
        // SAFETY: the directory is held; `name` has `len` readable bytes.
        let ret =
            unsafe { bindings::rvisor_vfs_unlink(self.raw(), name.as_ptr().cast(), len, is_dir) };
        Error::check(ret.into()).map(drop)
    }

    /// Moves `old_name` of this directory to `new_name` in `new_dir`, as `rename`.
    pub fn rename(&self, old_name: &[u8], new_dir: &VfsObject, new_name: &[u8]) -> Result<()> {
        let old_len = checked_name(old_name)?;
        let new_len = checked_name(new_name)?;
        // SAFETY: both directories are held; each name has its length of readable bytes.
        let ret = unsafe {
            bindings::rvisor_vfs_rename(
                self.raw(),
                old_name.as_ptr().cast(),
                old_len,
                new_dir.raw(),
                new_name.as_ptr().cast(),
                new_len,
            )
        };
        Error::check(ret.into()).map(drop)
    }

    /// Appends to `out` the next run of this directory's entries from position `pos` (0 at
    /// the start), up to a page of them, as `linux_dirent64` records the way `getdents64`
    /// fills them (`.` and `..` included when the filesystem lists them, `d_off` the
    /// filesystem's position after each), in the filesystem's order, and advances `pos` past
    /// them. Returns whether the listing reached the end of the directory.
    pub fn read_dir(&self, pos: &mut i64, out: &mut Vec<u8>) -> Result<bool> {
        out.try_reserve(READDIR_CHUNK).map_err(|_| Error::ENOMEM)?;
        let len = out.len();
        let spare = out.spare_capacity_mut();
        let room = spare.len();
        let mut end = false;
        // SAFETY: `spare` is `room` (at least READDIR_CHUNK) writable bytes; `pos` and `end`
        // are valid; the directory is held.
        let ret = unsafe {
            bindings::rvisor_vfs_readdir(
                self.raw(),
                pos,
                spare.as_mut_ptr().cast(),
                READDIR_CHUNK as u64,
                &mut end,
            )
        };
        let filled = usize::try_from(Error::check(ret)?).map_err(|_| Error::EIO)?;
        if filled > room {
            return Err(Error::EIO);
        }
        // SAFETY: the shim wrote every one of the `filled` bytes after `len` (records, names
        // and their padding), which are within the capacity.
        unsafe { out.set_len(len + filled) };
        Ok(end || filled == 0)
    }

    /// Changes what `attr.valid` names: mode, owner, group, times.
    pub fn set_attr(&self, attr: &SetAttr) -> Result<()> {
        // SAFETY: `attr` is readable; the object is held.
        Error::check(unsafe { bindings::rvisor_vfs_setattr(self.raw(), attr) }.into()).map(drop)
    }
}
