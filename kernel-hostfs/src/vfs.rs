//! The VFS interface the rest of rVisor programs against: [`INode`] (one filesystem object)
//! and [`FileSystem`] (a tree of them), in the shape of rcore-fs.
//!
//! Paths given to [`INode::lookup_follow`] and friends are resolved *inside* the filesystem: an
//! absolute path starts at the filesystem's root, `..` never climbs above that root, and a
//! symbolic link is resolved as if the root were `/`.
//!
//! ```
//! # use kernel_hostfs::{FileType, HostFs, FileSystem};
//! # let dir = std::env::temp_dir().join(format!("kernel-hostfs-doc-vfs-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let fs = HostFs::new(&dir)?;
//! let root = fs.root_inode();
//! let etc = root.create("etc", FileType::Dir, 0o755)?;
//! let passwd = etc.create("passwd", FileType::File, 0o644)?;
//! passwd.write_at(0, b"root:x:0:0::/root:/bin/sh\n")?;
//!
//! // `..` above the root is the root, so this is /etc/passwd of the container.
//! let same = etc.lookup("../../../etc/passwd")?;
//! assert_eq!(same.metadata()?.inode, passwd.metadata()?.inode);
//!
//! let names: Vec<String> = root.read_dir().map(|e| e.map(|e| e.name)).collect::<Result<_, _>>()?;
//! assert_eq!(names, [".", "..", "etc"]);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), kernel_hostfs::FsError>(())
//! ```

use alloc::string::String;
use alloc::sync::Arc;
use core::any::Any;

use crate::backend::TimeUpdate;
use crate::error::{FsError, FsResult};
use crate::listing::Listing;
use crate::metadata::{DirEntry, FileType, FsInfo, Metadata, Timespec};

/// A filesystem: a tree of [`INode`]s under one root.
pub trait FileSystem: Send + Sync {
    /// The root directory.
    fn root_inode(&self) -> Arc<dyn INode>;

    /// Flushes everything written to the filesystem to storage (`syncfs`).
    fn sync(&self) -> FsResult<()>;

    /// What `statfs` reports.
    fn info(&self) -> FsResult<FsInfo>;
}

/// The directory a path's last component lives in, and that component, as
/// [`INode::lookup_parent`] returns them for calls that create, remove or rename an entry.
pub struct PathParent {
    /// The directory that holds (or will hold) the entry.
    pub dir: Arc<dyn INode>,
    /// The last component, unresolved. It may be `.` or `..` (the path `/` gives `.`): each
    /// call decides what that means, as Linux does.
    pub name: String,
    /// The path ended in `/`, so the entry must be (or become) a directory.
    pub must_be_dir: bool,
}

/// A counted writer of a file (see [`INode::write_access`]): dropping it ends the count.
pub type WriteAccess = alloc::boxed::Box<dyn Any + Send + Sync>;

/// What a [`INode::record_lock`] call does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LockOp {
    /// `F_GETLK`: fills the lock with the first one that conflicts (type `F_UNLCK`: none).
    Test,
    /// `F_SETLK`: takes or releases the lock; `WouldBlock` on a conflict.
    Set,
    /// `F_SETLKW`: as `Set`, waiting for a conflicting lock to go (`Deadlock` if that would
    /// never happen; `Restart` when a signal ends the wait).
    Wait,
}

/// A POSIX record lock, in `struct flock` terms with an absolute range.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct RecordLock {
    /// First byte.
    pub start: i64,
    /// Last byte (included); `i64::MAX` for "to the end of the file, however long".
    pub end: i64,
    /// `F_RDLCK` (0), `F_WRLCK` (1) or `F_UNLCK` (2).
    pub type_: i16,
    /// After a test: the holder's host process id; -1 for an open file description's lock.
    pub pid: i32,
}

/// One filesystem object: a file, a directory, a symbolic link, a device node, a FIFO or a
/// socket. Operations that make no sense for the object's type fail as Linux fails them
/// (`EISDIR` reading a directory, `ENOTDIR` looking a name up in a file, …).
pub trait INode: Any + Send + Sync {
    /// Reads up to `buf.len()` bytes at `offset`; returns the count, 0 at end of file. A FIFO
    /// ignores `offset` and reads in stream order.
    fn read_at(&self, offset: usize, buf: &mut [u8]) -> FsResult<usize>;

    /// Writes `buf` at `offset`, growing the file as needed; returns the count written. A
    /// FIFO ignores `offset`.
    fn write_at(&self, offset: usize, buf: &[u8]) -> FsResult<usize>;

    /// Reads a regular file at `offset` straight into the calling process's memory, up to
    /// `len` bytes at user address `user`: a short count if part of the memory is
    /// inaccessible, `EFAULT` if its first byte is. `None` where the object or its filesystem
    /// cannot (the caller goes through [`INode::read_at`] and a buffer).
    fn read_at_user(&self, _offset: usize, _user: usize, _len: usize) -> Option<FsResult<usize>> {
        None
    }

    /// Writes a regular file at `offset` straight from the calling process's memory, as
    /// [`INode::read_at_user`] reads it.
    fn write_at_user(&self, _offset: usize, _user: usize, _len: usize) -> Option<FsResult<usize>> {
        None
    }

    /// What `stat` reports about this object.
    fn metadata(&self) -> FsResult<Metadata>;

    /// An unnamed regular file in this directory with permission bits `mode` (`O_TMPFILE`),
    /// which [`INode::link`] may name later unless `exclusive` (`O_EXCL`). `EOPNOTSUPP` where
    /// the filesystem cannot make one (the default).
    fn create_unnamed(&self, _mode: u16, _exclusive: bool) -> FsResult<Arc<dyn INode>> {
        Err(FsError::NotSupported)
    }

    /// Extended attribute `name`'s value in `value`, or its size for an empty `value`:
    /// `ENODATA` if the object has none so named, `ERANGE` if `value` is too small,
    /// `EOPNOTSUPP` where the filesystem keeps none (the default).
    fn get_xattr(&self, _name: &str, _value: &mut [u8]) -> FsResult<usize> {
        Err(FsError::NotSupported)
    }

    /// The names of the object's extended attributes, each followed by a NUL, in `list`, or
    /// their length for an empty `list` (`ERANGE` if `list` is too small); none by default.
    fn list_xattr(&self, _list: &mut [u8]) -> FsResult<usize> {
        Ok(0)
    }

    /// Sets extended attribute `name` to `value`; `flags` is `XATTR_CREATE` (`EEXIST` if it
    /// exists), `XATTR_REPLACE` (`ENODATA` if not) or 0. `EOPNOTSUPP` by default.
    fn set_xattr(&self, _name: &str, _value: &[u8], _flags: u32) -> FsResult<()> {
        Err(FsError::NotSupported)
    }

    /// Removes extended attribute `name` (`ENODATA` if there is none). `EOPNOTSUPP` by
    /// default.
    fn remove_xattr(&self, _name: &str) -> FsResult<()> {
        Err(FsError::NotSupported)
    }

    /// Counts a writer of this regular file for as long as the returned token lives, as
    /// Linux counts a file opened for writing: `ETXTBSY` while it runs as a program, and
    /// running it meanwhile gives `ETXTBSY`. `None` where the filesystem keeps no such count
    /// (the default).
    fn write_access(&self) -> FsResult<Option<WriteAccess>> {
        Ok(None)
    }

    /// A POSIX record-lock operation (`fcntl`'s `F_GETLK`, `F_SETLK`, `F_SETLKW` and their
    /// `F_OFD_*` forms) on the object, for the holder `owner` (a process's descriptor table,
    /// or with `ofd` an open file description). `NotSupported` where the filesystem keeps no
    /// lock table (the default).
    fn record_lock(
        &self,
        _op: LockOp,
        _ofd: bool,
        _owner: usize,
        _lock: &mut RecordLock,
    ) -> FsResult<()> {
        Err(FsError::NotSupported)
    }

    /// Releases every record lock `owner` holds on the object (a process closing any of its
    /// descriptors of it, an open file description's end).
    fn release_record_locks(&self, _owner: usize) {}

    /// Reports an inotify event (`IN_OPEN`, `IN_CLOSE_WRITE`, `IN_CLOSE_NOWRITE`) of a
    /// description of the object, which the filesystem's own operations do not report, to
    /// its watchers and its directory's. Filesystems whose objects no host process can watch
    /// keep the default, which reports nothing.
    fn notify(&self, _mask: u32) {}

    /// What `stat` reports about the object `path` names below this directory, where the
    /// filesystem can find it in one step: `path` is names separated by `/`, none `.` or `..`;
    /// a symbolic link on the way (or a final one, if `follow_last`) or anything else a walk
    /// must handle itself gives `None`, as does a filesystem with no such step (the default).
    /// Errors are those a walk one name at a time would meet.
    fn metadata_beneath(&self, _path: &str, _follow_last: bool) -> FsResult<Option<Metadata>> {
        Ok(None)
    }

    /// The object's type, which never changes: `metadata().type_` without asking the
    /// filesystem again where the node knows it.
    fn file_type(&self) -> FsResult<FileType> {
        Ok(self.metadata()?.type_)
    }

    /// When this object was created (`statx`'s `stx_btime`), if the filesystem records it;
    /// the default is `None`.
    fn birth_time(&self) -> FsResult<Option<Timespec>> {
        Ok(None)
    }

    /// Sets the permission bits (`mode & 0o7777`). `EOPNOTSUPP` on a symbolic link, as
    /// `fchmodat(AT_SYMLINK_NOFOLLOW)`.
    fn chmod(&self, mode: u16) -> FsResult<()>;

    /// Changes owner and/or group; `None` leaves one unchanged.
    fn chown(&self, uid: Option<u32>, gid: Option<u32>) -> FsResult<()>;

    /// Sets access and modification times, as `utimensat`.
    fn set_times(&self, atime: TimeUpdate, mtime: TimeUpdate) -> FsResult<()>;

    /// Sets a regular file's length.
    fn resize(&self, len: usize) -> FsResult<()>;

    /// Flushes data and metadata to storage (`fsync`).
    fn sync_all(&self) -> FsResult<()>;

    /// Flushes data to storage (`fdatasync`).
    fn sync_data(&self) -> FsResult<()>;

    /// The entry `name` of this directory, not following a symbolic link: `.` is this
    /// directory, `..` its parent (the root's parent is the root).
    fn find(&self, name: &str) -> FsResult<Arc<dyn INode>>;

    /// Resolves `path` from this directory (or from the root if it is absolute), following
    /// symbolic links on the way and, if `follow_last`, the final one too.
    fn lookup_follow(&self, path: &str, follow_last: bool) -> FsResult<Arc<dyn INode>>;

    /// Resolves all of `path` but its last component, following symbolic links; the
    /// directory found must exist.
    fn lookup_parent(&self, path: &str) -> FsResult<PathParent>;

    /// Creates `name` in this directory: a regular file, directory, FIFO or socket inode.
    /// Device nodes are refused with `EPERM`; symbolic links are made by [`INode::symlink`].
    fn create(&self, name: &str, type_: FileType, mode: u16) -> FsResult<Arc<dyn INode>>;

    /// Creates the symbolic link `name` in this directory holding `target`.
    fn symlink(&self, name: &str, target: &str) -> FsResult<Arc<dyn INode>>;

    /// The target of this symbolic link (`EINVAL` if this is not one, as `readlink`).
    fn read_link(&self) -> FsResult<String>;

    /// Adds `name` in this directory as a new hard link to `other` (of the same filesystem).
    fn link(&self, name: &str, other: &Arc<dyn INode>) -> FsResult<()>;

    /// Removes the non-directory entry `name` (`EISDIR` for a directory, as `unlink`).
    fn unlink(&self, name: &str) -> FsResult<()>;

    /// Removes the empty directory `name` (`ENOTDIR`, `ENOTEMPTY` as `rmdir`).
    fn rmdir(&self, name: &str) -> FsResult<()>;

    /// Renames `old_name` of this directory to `new_name` in `target`, replacing what is
    /// there as `rename` does.
    fn move_(&self, old_name: &str, target: &Arc<dyn INode>, new_name: &str) -> FsResult<()>;

    /// A snapshot of this directory's entries: `.`, `..`, then the entries in storage order,
    /// as a listing from the start (`rewinddir`) would read them. `ENOTDIR` if this is not a
    /// directory.
    fn list(&self) -> FsResult<Listing>;

    /// The filesystem this object belongs to.
    fn fs(&self) -> Arc<dyn FileSystem>;

    /// What `statfs` reports for the filesystem that holds this object, which may be one
    /// mounted somewhere below the root of [`fs`](Self::fs). The default asks `fs`.
    fn fs_info(&self) -> FsResult<FsInfo> {
        self.fs().info()
    }

    /// This object as `Any`, to recognise objects of the same filesystem.
    fn as_any_ref(&self) -> &dyn Any;
}

impl dyn INode {
    /// Resolves `path` following every symbolic link, the last one included (as `stat`).
    pub fn lookup(&self, path: &str) -> FsResult<Arc<dyn INode>> {
        self.lookup_follow(path, true)
    }

    /// Iterates over the entries of this directory, `.` and `..` first.
    pub fn read_dir(&self) -> ReadDir<'_> {
        ReadDir {
            dir: self,
            listing: None,
            next: 0,
            done: false,
        }
    }

    /// This object as its concrete type, if it is one.
    pub fn downcast_ref<T: INode>(&self) -> Option<&T> {
        self.as_any_ref().downcast_ref::<T>()
    }
}

/// Iterator over a directory's entries, from [`read_dir`](trait.INode.html#method.read_dir):
/// one snapshot, taken at the first call to `next`. Yields an error once and then stops if the
/// directory cannot be read.
pub struct ReadDir<'a> {
    dir: &'a dyn INode,
    listing: Option<Listing>,
    next: usize,
    done: bool,
}

impl Iterator for ReadDir<'_> {
    type Item = FsResult<DirEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let listing = match &mut self.listing {
            Some(listing) => listing,
            slot => match self.dir.list() {
                Ok(listing) => slot.insert(listing),
                Err(error) => {
                    self.done = true;
                    return Some(Err(error));
                }
            },
        };
        let Some(entry) = listing.get(self.next) else {
            self.done = true;
            return None;
        };
        self.next += 1;
        Some(entry.to_entry())
    }
}
