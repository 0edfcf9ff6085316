//! The `host` backend: a directory of the machine the crate runs on, reached through std and
//! the libc `*at` calls. Used by the host build of rVisor and by every test.
//!
//! Each object is held as an `O_PATH | O_NOFOLLOW` descriptor, obtained by `openat` of one
//! name relative to its directory's descriptor, so an object keeps its identity however the
//! host renames things around it. Contents are read and written through a descriptor
//! re-opened from that one via its `/proc/self/fd/N` link (which names the object itself, not
//! a path), opened once and cached. `HostFs::new` checks that `/proc` is procfs.
//!
//! No host path string is ever resolved after the root: every other call names one entry in
//! a held directory descriptor or acts on a held descriptor.
//!
//! ```
//! use std::os::fd::AsFd;
//! use kernel_hostfs::{FileType, FsError, HostFs, INode};
//!
//! # let dir = std::env::temp_dir().join(format!("kernel-hostfs-doc-host-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let root = HostFs::new(&dir)?.root();
//! root.create("data", FileType::File, 0o600)?.write_at(0, b"bytes")?;
//! assert_eq!(std::fs::read(dir.join("data")).unwrap(), b"bytes");
//! // The handle's descriptor is an O_PATH one naming the object, for calls that need it.
//! let _fd = root.handle().as_fd();
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), FsError>(())
//! ```

use std::ffi::CString;
use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::{FileExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::string::String;
use std::sync::Arc;
use std::vec::Vec;

use spin::Mutex;

use crate::backend::{Backend, NodeKind, TimeUpdate};
use crate::error::{errno, FsError, FsResult};
use crate::hostfs::HostFs;
use crate::listing::Listing;
use crate::metadata::{FileType, FsInfo, Metadata, Timespec};
use crate::name::Name;

#[allow(unsafe_code)]
mod sys;

/// `f_type` of procfs (`PROC_SUPER_MAGIC`).
const PROC_SUPER_MAGIC: u64 = 0x9fa0;

/// Bytes asked of each `getdents64` call.
const DIRENT_BUFFER: usize = 16 * 1024;

impl From<io::Error> for FsError {
    fn from(error: io::Error) -> Self {
        FsError::from_errno(error.raw_os_error().unwrap_or(errno::EIO))
    }
}

impl std::error::Error for FsError {}

impl HostFs<HostBackend> {
    /// The host directory `root` as a filesystem. The path is resolved once, here, by the
    /// host (symbolic links in it are followed: choosing the root is the host's business).
    pub fn new(root: impl AsRef<Path>) -> FsResult<Arc<Self>> {
        check_procfs()?;
        let root = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
            .open(root)?;
        HostFs::with_backend(HostBackend, HostHandle::new(root.into()))
    }
}

/// Reopening through `/proc/self/fd` is only safe if that is the kernel's procfs.
fn check_procfs() -> FsResult<()> {
    let proc_fd = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
        .open("/proc/self/fd")?;
    match u64::try_from(sys::statfs(proc_fd.as_fd())?.f_type) {
        Ok(PROC_SUPER_MAGIC) => Ok(()),
        _ => Err(FsError::NotSupported),
    }
}

/// The host backend: stateless, everything lives in the handles.
#[derive(Debug, Default)]
pub struct HostBackend;

/// One host object: its `O_PATH` descriptor and, once needed, descriptors for its contents.
#[derive(Debug)]
pub struct HostHandle {
    object: OwnedFd,
    reader: Mutex<Option<Arc<File>>>,
    writer: Mutex<Option<Arc<File>>>,
}

impl HostHandle {
    fn new(object: OwnedFd) -> Self {
        Self {
            object,
            reader: Mutex::new(None),
            writer: Mutex::new(None),
        }
    }

    /// The `/proc/self/fd/N` link naming this very object.
    fn fd_link(&self) -> String {
        std::format!("/proc/self/fd/{}", self.object.as_raw_fd())
    }

    /// A descriptor for reading or writing the contents, opened on first use.
    fn contents(&self, write: bool) -> FsResult<Arc<File>> {
        let slot = if write { &self.writer } else { &self.reader };
        if let Some(file) = slot.lock().as_ref() {
            return Ok(file.clone());
        }
        // Opened outside the lock, which is a spin lock; a racing opener's file is kept.
        let opened = Arc::new(
            OpenOptions::new()
                .read(!write)
                .write(write)
                // Opening a FIFO must not wait for its other end, nor a tty become ours.
                .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
                .open(self.fd_link())?,
        );
        Ok(slot.lock().get_or_insert(opened).clone())
    }

    /// A fresh descriptor for reading a directory (each listing starts from the beginning).
    fn open_dir(&self) -> FsResult<OwnedFd> {
        sys::open_at(
            self.object.as_fd(),
            c".",
            libc::O_RDONLY | libc::O_DIRECTORY,
            0,
        )
    }
}

impl AsFd for HostHandle {
    /// The `O_PATH` descriptor of the object.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.object.as_fd()
    }
}

fn c_name(name: Name<'_>) -> FsResult<CString> {
    CString::new(name.as_str()).map_err(|_| FsError::InvalidArgument)
}

/// `openat(dir, name, O_PATH | O_NOFOLLOW)`: the object a name denotes, never a link's target.
fn open_object(dir: &HostHandle, name: &CString) -> FsResult<OwnedFd> {
    sys::open_at(dir.object.as_fd(), name, libc::O_PATH | libc::O_NOFOLLOW, 0)
}

/// `pread`/`pwrite` failed because the object is a stream (a FIFO): it has no offsets.
fn is_stream(error: &io::Error) -> bool {
    error.raw_os_error() == Some(libc::ESPIPE)
}

fn file_type(stat: &libc::stat) -> FsResult<FileType> {
    FileType::from_mode(stat.st_mode).ok_or(FsError::Io)
}

fn timespec(sec: i64, nsec: i64) -> Timespec {
    Timespec { sec, nsec }
}

fn to_metadata(stat: &libc::stat) -> FsResult<Metadata> {
    let unsigned = |value: i64| u64::try_from(value).map_err(|_| FsError::Overflow);
    Ok(Metadata {
        dev: stat.st_dev,
        inode: stat.st_ino,
        size: unsigned(stat.st_size)?,
        blk_size: u32::try_from(stat.st_blksize).map_err(|_| FsError::Overflow)?,
        blocks: unsigned(stat.st_blocks)?,
        type_: file_type(stat)?,
        // Masked to the twelve permission bits, which fit.
        mode: (stat.st_mode & 0o7777) as u16,
        nlinks: stat.st_nlink,
        uid: stat.st_uid,
        gid: stat.st_gid,
        rdev: stat.st_rdev,
        atime: timespec(stat.st_atime, stat.st_atime_nsec),
        mtime: timespec(stat.st_mtime, stat.st_mtime_nsec),
        ctime: timespec(stat.st_ctime, stat.st_ctime_nsec),
    })
}

/// `f_flags` bit: the other flags are valid.
const ST_VALID: u64 = 0x20;

fn to_libc_time(update: TimeUpdate) -> libc::timespec {
    match update {
        TimeUpdate::Keep => libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::UTIME_OMIT,
        },
        TimeUpdate::Now => libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::UTIME_NOW,
        },
        TimeUpdate::At(time) => libc::timespec {
            tv_sec: time.sec,
            tv_nsec: time.nsec,
        },
    }
}

fn chmod_object(handle: &HostHandle, mode: u16) -> FsResult<()> {
    // chmod through the fd link reaches the object itself; fchmod refuses O_PATH.
    std::fs::set_permissions(handle.fd_link(), Permissions::from_mode(u32::from(mode)))?;
    Ok(())
}

/// Gives a new object exactly the requested permission bits: the caller has applied the
/// contained process's umask already, so the host process's umask must not apply again.
fn apply_requested_mode(handle: &HostHandle, mode: u16) -> FsResult<()> {
    let current = to_metadata(&sys::stat(handle.object.as_fd())?)?.mode;
    if current & 0o777 != mode & 0o777 {
        chmod_object(handle, (current & 0o7000) | (mode & 0o777))?;
    }
    Ok(())
}

impl Backend for HostBackend {
    type Handle = HostHandle;

    fn lookup(&self, dir: &HostHandle, name: Name<'_>) -> FsResult<(HostHandle, FileType)> {
        let object = open_object(dir, &c_name(name)?)?;
        let type_ = file_type(&sys::stat(object.as_fd())?)?;
        Ok((HostHandle::new(object), type_))
    }

    fn metadata(&self, handle: &HostHandle) -> FsResult<Metadata> {
        to_metadata(&sys::stat(handle.object.as_fd())?)
    }

    fn birth_time(&self, handle: &HostHandle) -> FsResult<Option<Timespec>> {
        let info = sys::statx_btime(handle.object.as_fd())?;
        Ok((info.stx_mask & libc::STATX_BTIME != 0)
            .then(|| timespec(info.stx_btime.tv_sec, i64::from(info.stx_btime.tv_nsec))))
    }

    fn read_link(&self, link: &HostHandle) -> FsResult<Vec<u8>> {
        sys::read_link(link.object.as_fd())
    }

    fn read_at(&self, file: &HostHandle, offset: u64, buf: &mut [u8]) -> FsResult<usize> {
        let contents = file.contents(false)?;
        match contents.read_at(buf, offset) {
            Err(error) if is_stream(&error) => Ok((&*contents).read(buf)?),
            result => Ok(result?),
        }
    }

    fn write_at(&self, file: &HostHandle, offset: u64, buf: &[u8]) -> FsResult<usize> {
        let contents = file.contents(true)?;
        match contents.write_at(buf, offset) {
            Err(error) if is_stream(&error) => Ok((&*contents).write(buf)?),
            result => Ok(result?),
        }
    }

    fn resize(&self, file: &HostHandle, len: u64) -> FsResult<()> {
        Ok(file.contents(true)?.set_len(len)?)
    }

    fn get_xattr(&self, handle: &HostHandle, name: &str, value: &mut [u8]) -> FsResult<usize> {
        sys::get_xattr(handle.as_fd(), name, value)
    }

    fn list_xattr(&self, handle: &HostHandle, list: &mut [u8]) -> FsResult<usize> {
        sys::list_xattr(handle.as_fd(), list)
    }

    fn set_xattr(&self, handle: &HostHandle, name: &str, value: &[u8], flags: u32) -> FsResult<()> {
        sys::set_xattr(handle.as_fd(), name, value, flags)
    }

    fn remove_xattr(&self, handle: &HostHandle, name: &str) -> FsResult<()> {
        sys::remove_xattr(handle.as_fd(), name)
    }

    fn sync(&self, handle: &HostHandle, data_only: bool) -> FsResult<()> {
        // A read-only descriptor is enough for fsync, and opens directories too.
        let file = handle.contents(false)?;
        if data_only {
            file.sync_data()?;
        } else {
            file.sync_all()?;
        }
        Ok(())
    }

    fn sync_fs(&self, handle: &HostHandle) -> FsResult<()> {
        // syncfs refuses O_PATH descriptors.
        sys::syncfs(handle.contents(false)?.as_fd())
    }

    fn fs_info(&self, handle: &HostHandle) -> FsResult<FsInfo> {
        let info = sys::statfs(handle.object.as_fd())?;
        let field = |value: i64| u64::try_from(value).map_err(|_| FsError::Overflow);
        Ok(FsInfo {
            magic: field(info.f_type)?,
            bsize: field(info.f_bsize)?,
            frsize: field(info.f_frsize)?,
            blocks: info.f_blocks,
            bfree: info.f_bfree,
            bavail: info.f_bavail,
            files: info.f_files,
            ffree: info.f_ffree,
            namemax: field(info.f_namelen)?,
            // glibc's `statvfs` reports the kernel's `f_flags` without `ST_VALID`, which
            // every kernel since 2.6.36 sets.
            flags: sys::statvfs(handle.object.as_fd())?.f_flag | ST_VALID,
        })
    }

    fn create(
        &self,
        dir: &HostHandle,
        name: Name<'_>,
        kind: NodeKind,
        mode: u16,
    ) -> FsResult<HostHandle> {
        let name = c_name(name)?;
        let dir_fd = dir.object.as_fd();
        let handle = match kind {
            NodeKind::File => {
                let flags = libc::O_CREAT | libc::O_EXCL | libc::O_RDWR | libc::O_NOCTTY;
                let file = File::from(sys::open_at(dir_fd, &name, flags, mode.into())?);
                // The object descriptor is derived from the open file, not from the name,
                // which someone may have replaced since.
                let object = OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_PATH)
                    .open(std::format!("/proc/self/fd/{}", file.as_raw_fd()))?;
                let handle = HostHandle::new(object.into());
                let file = Arc::new(file);
                *handle.reader.lock() = Some(file.clone());
                *handle.writer.lock() = Some(file);
                handle
            }
            NodeKind::Dir => {
                sys::mkdir_at(dir_fd, &name, mode.into())?;
                HostHandle::new(open_object(dir, &name)?)
            }
            NodeKind::NamedPipe => {
                sys::mknod_at(dir_fd, &name, libc::S_IFIFO | libc::mode_t::from(mode))?;
                HostHandle::new(open_object(dir, &name)?)
            }
            NodeKind::Socket => {
                sys::mknod_at(dir_fd, &name, libc::S_IFSOCK | libc::mode_t::from(mode))?;
                HostHandle::new(open_object(dir, &name)?)
            }
        };
        apply_requested_mode(&handle, mode)?;
        Ok(handle)
    }

    fn symlink(&self, dir: &HostHandle, name: Name<'_>, target: &str) -> FsResult<HostHandle> {
        let name = c_name(name)?;
        let target = CString::new(target).map_err(|_| FsError::InvalidArgument)?;
        sys::symlink_at(&target, dir.object.as_fd(), &name)?;
        Ok(HostHandle::new(open_object(dir, &name)?))
    }

    fn link(&self, target: &HostHandle, dir: &HostHandle, name: Name<'_>) -> FsResult<()> {
        let object = CString::new(target.fd_link()).map_err(|_| FsError::InvalidArgument)?;
        sys::link_fd_path(&object, dir.object.as_fd(), &c_name(name)?)
    }

    fn unlink(&self, dir: &HostHandle, name: Name<'_>, is_dir: bool) -> FsResult<()> {
        let flags = if is_dir { libc::AT_REMOVEDIR } else { 0 };
        sys::unlink_at(dir.object.as_fd(), &c_name(name)?, flags)
    }

    fn rename(
        &self,
        old_dir: &HostHandle,
        old_name: Name<'_>,
        new_dir: &HostHandle,
        new_name: Name<'_>,
    ) -> FsResult<()> {
        let (old_name, new_name) = (c_name(old_name)?, c_name(new_name)?);
        sys::rename_at(
            old_dir.object.as_fd(),
            &old_name,
            new_dir.object.as_fd(),
            &new_name,
        )
    }

    fn read_dir(&self, dir: &HostHandle, listing: &mut Listing) -> FsResult<()> {
        let dir_fd = dir.open_dir()?;
        let mut filled = 1;
        while filled > 0 {
            listing.append_dirents64(
                |records| {
                    let len = records.len();
                    records
                        .try_reserve(DIRENT_BUFFER)
                        .map_err(|_| FsError::NoMemory)?;
                    records.resize(len + DIRENT_BUFFER, 0);
                    let result = records
                        .get_mut(len..)
                        .ok_or(FsError::Io)
                        .and_then(|buf| sys::getdents(dir_fd.as_fd(), buf));
                    filled = *result.as_ref().unwrap_or(&0);
                    records.truncate(len + filled);
                    result.map(drop)
                },
                // A filesystem that does not fill d_type: ask the object itself. An entry
                // removed meanwhile is left out, as a later getdents would.
                |name| {
                    let name = CString::new(name).map_err(|_| FsError::Io)?;
                    match sys::stat_at(dir_fd.as_fd(), &name, libc::AT_SYMLINK_NOFOLLOW) {
                        Ok(stat) => Ok(Some(file_type(&stat)?)),
                        Err(FsError::NotFound) => Ok(None),
                        Err(error) => Err(error),
                    }
                },
            )?;
        }
        Ok(())
    }

    fn chmod(&self, handle: &HostHandle, mode: u16) -> FsResult<()> {
        chmod_object(handle, mode)
    }

    fn chown(&self, handle: &HostHandle, uid: Option<u32>, gid: Option<u32>) -> FsResult<()> {
        // -1 is chown's "leave unchanged".
        sys::chown(
            handle.object.as_fd(),
            uid.unwrap_or(u32::MAX),
            gid.unwrap_or(u32::MAX),
        )
    }

    fn set_times(&self, handle: &HostHandle, atime: TimeUpdate, mtime: TimeUpdate) -> FsResult<()> {
        sys::set_times(
            handle.object.as_fd(),
            &[to_libc_time(atime), to_libc_time(mtime)],
        )
    }
}
