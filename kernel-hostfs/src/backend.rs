//! [`Backend`]: the per-object primitives a storage layer provides to [`HostFs`].
//!
//! A backend never sees a path. It is handed a directory handle and one checked [`Name`] and
//! must look that name up *in that directory only*, without following a symbolic link and
//! without treating it as anything but one entry. Everything that makes a path safe (walking
//! components, clamping `..` at the root, resolving symbolic links inside the root, counting
//! them) is done above it by [`crate::walk`], so every backend (std + libc on the host, the
//! Linux VFS in the kernel module) gets the same confinement for free.
//!
//! A handle refers to one filesystem object, not to a name: once obtained it keeps meaning the
//! same object even if that object is renamed or unlinked (an `O_PATH` file descriptor on the
//! host, a `struct path` reference in the kernel).
//!
//! ```
//! use kernel_hostfs::{Backend, FileType, FsError, HostBackend, HostFs, Name};
//!
//! # let dir = std::env::temp_dir().join(format!("kernel-hostfs-doc-backend-{}", std::process::id()));
//! # std::fs::create_dir_all(dir.join("sub")).unwrap();
//! let root = HostFs::new(&dir)?.root();
//! // A backend is asked for one checked name in one held directory, nothing more:
//! let (_sub, type_) = HostBackend.lookup(root.handle(), Name::new("sub")?)?;
//! assert_eq!(type_, FileType::Dir);
//! // and a path, `.` or `..` cannot even be expressed as a `Name`.
//! assert!(Name::new("../etc").is_err() && Name::new("..").is_err());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), FsError>(())
//! ```
//!
//! [`HostFs`]: crate::HostFs

use alloc::vec::Vec;

use crate::error::FsResult;
use crate::listing::Listing;
use crate::metadata::{FileType, FsInfo, Metadata, Timespec};
use crate::name::Name;
use crate::vfs::WriteAccess;

/// What a new directory entry created by [`Backend::create`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A FIFO.
    NamedPipe,
    /// A socket inode (what `bind` leaves behind).
    Socket,
}

/// A new access or modification time for [`Backend::set_times`], as `utimensat` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUpdate {
    /// Leave the time as it is (`UTIME_OMIT`).
    Keep,
    /// Set it to the current time (`UTIME_NOW`).
    Now,
    /// Set it to this time.
    At(Timespec),
}

/// Per-object primitives of a storage layer. See the module documentation for the contract.
pub trait Backend: Send + Sync + 'static {
    /// An open reference to one filesystem object of this backend.
    type Handle: Send + Sync;

    /// Looks `name` up in `dir` without following a symbolic link, returning the object it
    /// names and its type. A mount point is crossed into the mounted filesystem's root.
    fn lookup(&self, dir: &Self::Handle, name: Name<'_>) -> FsResult<(Self::Handle, FileType)>;

    /// `stat` of the object itself (a symbolic link is not followed).
    fn metadata(&self, handle: &Self::Handle) -> FsResult<Metadata>;

    /// `stat` of what `path` names below `dir`, found by the storage layer in one step if it
    /// has one: `path` is names separated by `/` (none `.` or `..`), and the step must follow
    /// no symbolic link (a final one only if `follow_last`) and enter no mount [`lookup`]
    /// would not cross into, failing as a lookup of one name at a time would. `None` where it
    /// cannot (the default): the caller walks the path itself.
    ///
    /// [`lookup`]: Self::lookup
    fn metadata_beneath(
        &self,
        _dir: &Self::Handle,
        _path: &str,
        _follow_last: bool,
    ) -> FsResult<Option<Metadata>> {
        Ok(None)
    }

    /// The object's inode number, as [`metadata`](Self::metadata) reports it. The default
    /// asks `metadata`; a backend that can tell it alone for less overrides this.
    fn inode(&self, handle: &Self::Handle) -> FsResult<u64> {
        Ok(self.metadata(handle)?.inode)
    }

    /// When the object was created (`statx`'s `stx_btime`), if the filesystem records it.
    /// Backends that cannot tell keep the default, `None`.
    fn birth_time(&self, _handle: &Self::Handle) -> FsResult<Option<Timespec>> {
        Ok(None)
    }

    /// The target text of a symbolic link.
    fn read_link(&self, link: &Self::Handle) -> FsResult<Vec<u8>>;

    /// Reads from a regular file at `offset`, or from a FIFO in stream order (`offset` is
    /// ignored, as by `read`); returns how many bytes were read. Never blocks on a FIFO.
    fn read_at(&self, file: &Self::Handle, offset: u64, buf: &mut [u8]) -> FsResult<usize>;

    /// Reads a regular file at `offset` straight into the calling process's memory (up to
    /// `len` bytes at user address `user`), with no buffer in between: a short count if part
    /// of the memory is inaccessible, `EFAULT` if its first byte is. `None` for a backend
    /// whose files cannot reach user memory (the caller reads into a buffer instead).
    fn read_to_user(
        &self,
        _file: &Self::Handle,
        _offset: u64,
        _user: usize,
        _len: usize,
    ) -> Option<FsResult<usize>> {
        None
    }

    /// Writes a regular file at `offset` straight from the calling process's memory, as
    /// [`Backend::read_to_user`] reads it.
    fn write_from_user(
        &self,
        _file: &Self::Handle,
        _offset: u64,
        _user: usize,
        _len: usize,
    ) -> Option<FsResult<usize>> {
        None
    }

    /// Writes to a regular file at `offset`, or to a FIFO in stream order; returns how many
    /// bytes were written. Never blocks on a FIFO.
    fn write_at(&self, file: &Self::Handle, offset: u64, buf: &[u8]) -> FsResult<usize>;

    /// Sets a regular file's length, zero-filling when it grows.
    fn resize(&self, file: &Self::Handle, len: u64) -> FsResult<()>;

    /// Flushes an object's data (and, unless `data_only`, its metadata) to storage.
    fn sync(&self, handle: &Self::Handle, data_only: bool) -> FsResult<()>;

    /// Flushes the whole filesystem holding `handle`.
    fn sync_fs(&self, handle: &Self::Handle) -> FsResult<()>;

    /// `statfs` of the filesystem holding `handle`.
    fn fs_info(&self, handle: &Self::Handle) -> FsResult<FsInfo>;

    /// Creates `name` in `dir`, failing with `EEXIST` if the name is taken (even by a dangling
    /// symbolic link), and returns a handle to the new object.
    fn create(
        &self,
        dir: &Self::Handle,
        name: Name<'_>,
        kind: NodeKind,
        mode: u16,
    ) -> FsResult<Self::Handle>;

    /// Creates the symbolic link `name` in `dir` holding `target`, and returns its handle.
    fn symlink(&self, dir: &Self::Handle, name: Name<'_>, target: &str) -> FsResult<Self::Handle>;

    /// Gives the object `target` (never a directory) the new name `name` in `dir`.
    fn link(&self, target: &Self::Handle, dir: &Self::Handle, name: Name<'_>) -> FsResult<()>;

    /// Removes the entry `name` from `dir`: a directory (which must be empty) if `is_dir`,
    /// anything else otherwise, as `unlinkat` with or without `AT_REMOVEDIR`.
    fn unlink(&self, dir: &Self::Handle, name: Name<'_>, is_dir: bool) -> FsResult<()>;

    /// Moves `old_dir/old_name` to `new_dir/new_name`, replacing what is there as `rename`
    /// does.
    fn rename(
        &self,
        old_dir: &Self::Handle,
        old_name: Name<'_>,
        new_dir: &Self::Handle,
        new_name: Name<'_>,
    ) -> FsResult<()>;

    /// Lists a directory into `listing` (with [`Listing::append_dirents64`]).
    fn read_dir(&self, dir: &Self::Handle, listing: &mut Listing) -> FsResult<()>;

    /// Sets the permission bits of an object that is not a symbolic link.
    fn chmod(&self, handle: &Self::Handle, mode: u16) -> FsResult<()>;

    /// Changes owner and/or group of the object itself; `None` leaves one unchanged.
    fn chown(&self, handle: &Self::Handle, uid: Option<u32>, gid: Option<u32>) -> FsResult<()>;

    /// An unnamed regular file in `dir` with permission bits `mode` (`O_TMPFILE`), which may
    /// be linked later unless `exclusive`; `EOPNOTSUPP` where the backend cannot (the default).
    fn tmpfile(&self, _dir: &Self::Handle, _mode: u16, _exclusive: bool) -> FsResult<Self::Handle> {
        Err(crate::FsError::NotSupported)
    }

    /// Extended attribute `name` of `handle`'s object (see [`INode::get_xattr`]).
    ///
    /// [`INode::get_xattr`]: crate::INode::get_xattr
    fn get_xattr(&self, _handle: &Self::Handle, _name: &str, _value: &mut [u8]) -> FsResult<usize> {
        Err(crate::FsError::NotSupported)
    }

    /// The names of the extended attributes of `handle`'s object.
    fn list_xattr(&self, _handle: &Self::Handle, _list: &mut [u8]) -> FsResult<usize> {
        Ok(0)
    }

    /// Sets extended attribute `name` of `handle`'s object.
    fn set_xattr(
        &self,
        _handle: &Self::Handle,
        _name: &str,
        _value: &[u8],
        _flags: u32,
    ) -> FsResult<()> {
        Err(crate::FsError::NotSupported)
    }

    /// Removes extended attribute `name` of `handle`'s object.
    fn remove_xattr(&self, _handle: &Self::Handle, _name: &str) -> FsResult<()> {
        Err(crate::FsError::NotSupported)
    }

    /// Counts a writer of the regular file `file` for as long as the returned token lives, as
    /// Linux counts a file opened for writing (`ETXTBSY` while it runs as a program); `None`
    /// where the backend keeps no such count (the default).
    fn write_access(&self, _file: &Self::Handle) -> FsResult<Option<WriteAccess>> {
        Ok(None)
    }

    /// A record-lock operation on a regular file or directory (see
    /// [`INode::record_lock`](crate::INode::record_lock)); `NotSupported` by default.
    fn record_lock(
        &self,
        _handle: &Self::Handle,
        _op: crate::LockOp,
        _ofd: bool,
        _owner: usize,
        _lock: &mut crate::RecordLock,
    ) -> FsResult<()> {
        Err(crate::FsError::NotSupported)
    }

    /// Releases every record lock `owner` holds on the object.
    fn release_record_locks(&self, _handle: &Self::Handle, _owner: usize) {}

    /// Reports an inotify event of a description of the object (see
    /// [`INode::notify`](crate::INode::notify)); nothing by default.
    fn notify(&self, _handle: &Self::Handle, _mask: u32) {}

    /// Sets access and modification times of the object itself.
    fn set_times(
        &self,
        handle: &Self::Handle,
        atime: TimeUpdate,
        mtime: TimeUpdate,
    ) -> FsResult<()>;
}
