//! [`File`]: an open file description over an [`INode`], with its own offset.

use super::flock::{FlockKind, FlockTable, InodeKey, LockOwner};
use super::inotify::{IN_CLOSE_NOWRITE, IN_CLOSE_WRITE, IN_OPEN};
use super::{FileLike, OpenFlags, SeekFrom};
use crate::error::{LxError, LxResult};
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use core::any::Any;
use kernel_hal_lkm::sync::Mutex;
use kernel_hostfs::{DirEntryRef, FileType, INode, Listing, Metadata, WriteAccess};

/// An inode opened by `open`: regular files, directories (for `getdents64`, `fchdir`), FIFOs
/// and whatever else the filesystem serves.
///
/// ```
/// # use kernel_hostfs::{FileSystem, FileType, HostFs};
/// use linux_object::fs::{File, FileLike, OpenFlags, SeekFrom};
/// # let dir = std::env::temp_dir().join(format!("linux-object-doc-file-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let root = HostFs::new(&dir).unwrap().root_inode();
/// let inode = root.create("log", FileType::File, 0o644)?;
/// let log = File::new(inode, OpenFlags::WRONLY | OpenFlags::APPEND);
/// log.write(b"one ")?;
/// log.seek(SeekFrom::Start(0))?;
/// log.write(b"two")?; // O_APPEND: at the end whatever the offset
/// assert_eq!(log.metadata()?.size, 7);
/// assert_eq!(log.read(&mut [0; 4]), Err(linux_object::LxError::EBADF));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), linux_object::LxError>(())
/// ```
pub struct File {
    inode: Arc<dyn INode>,
    /// The absolute path the inode was reached by inside the container, when the opener knew
    /// it (for `fchdir` and `getcwd`).
    path: Option<String>,
    flags: Mutex<OpenFlags>,
    /// The file offset. Its lock is held across a read or write so concurrent calls on one
    /// description each see and advance a consistent offset, as Linux's `f_pos_lock`.
    offset: Mutex<u64>,
    /// A directory's entries as listed from its start, read on until the next listing from
    /// the start; taken and read with `offset` locked.
    listing: Mutex<Option<Listing>>,
    /// The `flock` lock this description holds, if any: the table and the inode, so that
    /// dropping the description releases it.
    flock: Mutex<Option<(Weak<FlockTable>, InodeKey)>>,
    /// For a regular file opened for writing, its count as a writer (see
    /// [`File::open`]), ended with the description.
    _writer: Option<WriteAccess>,
    /// Whether the description came from `open` (not `O_PATH`): its end is reported to
    /// inotify watchers as a close, as its start was as an open.
    reports_close: bool,
}

impl File {
    /// The type of the object it opened.
    pub fn file_type(&self) -> LxResult<FileType> {
        Ok(self.inode.file_type()?)
    }

    /// Opens `inode` with `flags` (access mode, `O_APPEND`, `O_NONBLOCK`; `O_CLOEXEC` belongs to
    /// the fd table and is dropped here).
    pub fn new(inode: Arc<dyn INode>, flags: OpenFlags) -> Arc<Self> {
        Self::build(inode, flags, None)
    }

    /// As [`new`](Self::new), remembering the absolute path `inode` was reached by.
    pub fn with_path(inode: Arc<dyn INode>, flags: OpenFlags, path: String) -> Arc<Self> {
        Self::build(inode, flags, Some(path))
    }

    /// What `open` makes: as [`with_path`](Self::with_path), and a regular file opened for
    /// writing counts as a writer of its file while the description lives, as on Linux:
    /// `ETXTBSY` while the file runs as a program, and running it meanwhile gives `ETXTBSY`.
    pub fn open(inode: Arc<dyn INode>, flags: OpenFlags, path: String) -> LxResult<Arc<Self>> {
        let writes = flags.intersects(OpenFlags::WRONLY | OpenFlags::RDWR)
            && !flags.contains(OpenFlags::PATH);
        let writer = if writes { inode.write_access()? } else { None };
        let reports = !flags.contains(OpenFlags::PATH);
        if reports {
            inode.notify(IN_OPEN);
        }
        Ok(Self::build_with(inode, flags, Some(path), writer, reports))
    }

    fn build(inode: Arc<dyn INode>, flags: OpenFlags, path: Option<String>) -> Arc<Self> {
        Self::build_with(inode, flags, path, None, false)
    }

    fn build_with(
        inode: Arc<dyn INode>,
        flags: OpenFlags,
        path: Option<String>,
        writer: Option<WriteAccess>,
        reports_close: bool,
    ) -> Arc<Self> {
        Arc::new(Self {
            inode,
            path,
            flags: Mutex::new(flags - OpenFlags::CLOEXEC),
            offset: Mutex::new(0),
            listing: Mutex::new(None),
            flock: Mutex::new(None),
            _writer: writer,
            reports_close,
        })
    }

    /// This description as a lock holder.
    fn lock_owner(&self) -> LockOwner {
        self as *const Self as usize
    }

    /// `flock` on this description's inode in `table`: takes a lock of `kind` (waiting for
    /// conflicting holders unless `nonblock`, then `EAGAIN`), or with `None` drops the one
    /// it holds. The lock is released when the description goes.
    pub async fn flock(
        &self,
        table: &Arc<FlockTable>,
        kind: Option<FlockKind>,
        nonblock: bool,
    ) -> LxResult {
        let metadata = self.inode.metadata()?;
        let inode = (metadata.dev, metadata.inode);
        let owner = self.lock_owner();
        match kind {
            None => {
                table.unlock(inode, owner);
                *self.flock.lock() = None;
                Ok(())
            }
            Some(kind) => {
                // Recorded first: a lock taken while the description is dropped is then
                // released with it.
                *self.flock.lock() = Some((Arc::downgrade(table), inode));
                table.lock(inode, owner, kind, nonblock).await
            }
        }
    }

    /// The absolute path the inode was opened by, if known.
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// Reads directory entries from the description's position (an index into the
    /// directory's [`Listing`]), handing each to `take` with the position after it. The
    /// position advances past each entry `take` accepts (`Ok(true)`) and stops at the first
    /// it refuses, at the end of the directory, or at an error (which is returned after the
    /// accepted entries are accounted for).
    pub fn read_dir(
        &self,
        mut take: impl FnMut(DirEntryRef<'_>, u64) -> LxResult<bool>,
    ) -> LxResult {
        self.with_listing(|listing, offset| {
            for entry in listing.entries_from(vfs_offset(*offset)?) {
                let next = offset.checked_add(1).ok_or(LxError::EOVERFLOW)?;
                if !take(entry, next)? {
                    break;
                }
                *offset = next;
            }
            Ok(())
        })
    }

    /// `getdents64` on this directory: hands `copy` the `linux_dirent64` records from the
    /// description's position on that fit whole in `max` bytes (whose `d_off` is the
    /// position after each) and, once it succeeds, advances the position past them. Returns
    /// their length: 0 at the end of the directory, `EINVAL` if the next record does not fit.
    pub fn read_dirents64(
        &self,
        max: usize,
        copy: impl FnOnce(&[u8]) -> LxResult,
    ) -> LxResult<usize> {
        self.with_listing(|listing, offset| {
            let index = vfs_offset(*offset)?;
            let (records, count) = listing.dirents64(index, max);
            if count == 0 {
                return match listing.get(index) {
                    Some(_) => Err(LxError::EINVAL),
                    None => Ok(0),
                };
            }
            copy(records)?;
            *offset = u64::try_from(count)
                .ok()
                .and_then(|count| offset.checked_add(count))
                .ok_or(LxError::EOVERFLOW)?;
            Ok(records.len())
        })
    }

    /// Runs `read` on the directory's listing and the description's position. At position
    /// 0 the directory is listed afresh, as after `rewinddir`; other positions read on in the
    /// listing taken then (or, without one, in a new one). The offset lock is held
    /// throughout, so `lseek` and other readers see a consistent position (Linux's
    /// `f_pos_lock`).
    fn with_listing<T>(&self, read: impl FnOnce(&Listing, &mut u64) -> LxResult<T>) -> LxResult<T> {
        let mut offset = self.offset.lock();
        let mut listing = self.listing.lock();
        let listing = match &mut *listing {
            Some(listing) if *offset != 0 => listing,
            slot => slot.insert(self.inode.list()?),
        };
        read(listing, &mut offset)
    }

    fn file_size(&self) -> LxResult<u64> {
        Ok(self.inode.metadata()?.size)
    }
}

impl Drop for File {
    /// The description's last descriptor is closed: its `flock` lock and its open file
    /// description record locks (`F_OFD_SETLK`, owned by the description's address, as
    /// Linux's by its `struct file`) go with it.
    fn drop(&mut self) {
        let owner = self.lock_owner();
        self.inode.release_record_locks(owner);
        if let Some((table, inode)) = self.flock.lock().take() {
            if let Some(table) = table.upgrade() {
                table.unlock(inode, owner);
            }
        }
        if self.reports_close {
            // As Linux's `fsnotify_close`, by the access mode the description was opened with.
            let flags = *self.flags.lock();
            let wrote = flags.intersects(OpenFlags::WRONLY | OpenFlags::RDWR);
            self.inode.notify(if wrote {
                IN_CLOSE_WRITE
            } else {
                IN_CLOSE_NOWRITE
            });
        }
    }
}

/// Converts a file offset to the `usize` the VFS takes; past `usize::MAX` is `EOVERFLOW`.
fn vfs_offset(offset: u64) -> LxResult<usize> {
    usize::try_from(offset).map_err(|_| LxError::EOVERFLOW)
}

/// `offset + count`, or `EOVERFLOW` if the file offset would pass what `loff_t` holds.
fn advance(offset: u64, count: usize) -> LxResult<u64> {
    u64::try_from(count)
        .ok()
        .and_then(|count| offset.checked_add(count))
        .filter(|end| i64::try_from(*end).is_ok())
        .ok_or(LxError::EOVERFLOW)
}

impl FileLike for File {
    fn read(&self, buf: &mut [u8]) -> LxResult<usize> {
        self.flags().check_readable()?;
        let mut offset = self.offset.lock();
        let count = self.inode.read_at(vfs_offset(*offset)?, buf)?;
        *offset = advance(*offset, count)?;
        Ok(count)
    }

    fn write(&self, buf: &[u8]) -> LxResult<usize> {
        self.flags().check_writable()?;
        let mut offset = self.offset.lock();
        if self.flags().contains(OpenFlags::APPEND) {
            *offset = self.file_size()?;
        }
        let count = self.inode.write_at(vfs_offset(*offset)?, buf)?;
        *offset = advance(*offset, count)?;
        Ok(count)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> LxResult<usize> {
        self.flags().check_readable()?;
        Ok(self.inode.read_at(vfs_offset(offset)?, buf)?)
    }

    fn read_to_user(&self, at: Option<u64>, user: usize, len: usize) -> Option<LxResult<usize>> {
        if let Err(error) = self.flags().check_readable() {
            return Some(Err(error));
        }
        let Some(at) = at else {
            let mut offset = self.offset.lock();
            let count = match vfs_offset(*offset) {
                Ok(start) => self.inode.read_at_user(start, user, len)?,
                Err(error) => return Some(Err(error)),
            };
            return Some(count.map_err(LxError::from).and_then(|count| {
                *offset = advance(*offset, count)?;
                Ok(count)
            }));
        };
        let start = match vfs_offset(at) {
            Ok(start) => start,
            Err(error) => return Some(Err(error)),
        };
        Some(
            self.inode
                .read_at_user(start, user, len)?
                .map_err(LxError::from),
        )
    }

    fn write_from_user(&self, at: Option<u64>, user: usize, len: usize) -> Option<LxResult<usize>> {
        if let Err(error) = self.flags().check_writable() {
            return Some(Err(error));
        }
        let append = self.flags().contains(OpenFlags::APPEND);
        // The offset is held across the write, as `write` does (`f_pos_lock`).
        let mut cursor = at.is_none().then(|| self.offset.lock());
        let start = match (&cursor, append) {
            (_, true) => self.file_size(),
            (Some(offset), false) => Ok(**offset),
            (None, false) => Ok(at.unwrap_or_default()),
        };
        let start = match start.and_then(vfs_offset) {
            Ok(start) => start,
            Err(error) => return Some(Err(error)),
        };
        let count = self.inode.write_at_user(start, user, len)?;
        Some(count.map_err(LxError::from).and_then(|count| {
            if let Some(offset) = cursor.as_mut() {
                **offset = advance(start as u64, count)?;
            }
            Ok(count)
        }))
    }

    /// Linux (see `pwrite(2)`, BUGS) appends on an `O_APPEND` description whatever `offset`
    /// says; so does this.
    fn write_at(&self, offset: u64, buf: &[u8]) -> LxResult<usize> {
        self.flags().check_writable()?;
        let offset = if self.flags().contains(OpenFlags::APPEND) {
            self.file_size()?
        } else {
            offset
        };
        Ok(self.inode.write_at(vfs_offset(offset)?, buf)?)
    }

    fn seek(&self, pos: SeekFrom) -> LxResult<u64> {
        let mut offset = self.offset.lock();
        let (base, delta) = match pos {
            SeekFrom::Start(to) => (0, i64::try_from(to).map_err(|_| LxError::EINVAL)?),
            SeekFrom::Current(delta) => (*offset, delta),
            SeekFrom::End(delta) => (self.file_size()?, delta),
        };
        let base = i64::try_from(base).map_err(|_| LxError::EOVERFLOW)?;
        // A result below zero is EINVAL, one past what loff_t holds EOVERFLOW (lseek(2)).
        let target = base.checked_add(delta).ok_or(LxError::EOVERFLOW)?;
        let target = u64::try_from(target).map_err(|_| LxError::EINVAL)?;
        *offset = target;
        Ok(target)
    }

    fn metadata(&self) -> LxResult<Metadata> {
        // Not `Ok(…?)`: that moves the metadata field by field (a `memcpy`), this as a whole.
        self.inode.metadata().map_err(LxError::from)
    }

    fn flags(&self) -> OpenFlags {
        *self.flags.lock()
    }

    fn set_flags(&self, flags: OpenFlags) {
        OpenFlags::set_settable(&self.flags, flags);
    }

    fn inode(&self) -> Option<Arc<dyn INode>> {
        Some(self.inode.clone())
    }

    fn sync(&self, data_only: bool) -> LxResult {
        if data_only {
            self.inode.sync_data()?;
        } else {
            self.inode.sync_all()?;
        }
        Ok(())
    }

    /// Regular files and directories have no `poll` operation on Linux's filesystems.
    fn pollable(&self) -> bool {
        false
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_executor::block_on;
    use kernel_hostfs::{FileSystem, FileType, HostFs};
    use std::path::PathBuf;

    struct Scratch(PathBuf);

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn scratch_file(name: &str) -> (Scratch, Arc<dyn INode>) {
        let dir =
            std::env::temp_dir().join(format!("linux-object-file-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let root = HostFs::new(&dir).unwrap().root_inode();
        let inode = root.create("f", FileType::File, 0o644).unwrap();
        inode.write_at(0, b"0123456789").unwrap();
        (Scratch(dir), inode)
    }

    #[test]
    fn reads_advance_the_offset_and_stop_at_end_of_file() {
        let (_dir, inode) = scratch_file("read");
        let file = File::new(inode, OpenFlags::empty());
        let mut buf = [0; 4];
        assert_eq!(file.read(&mut buf), Ok(4));
        assert_eq!(&buf, b"0123");
        assert_eq!(file.seek(SeekFrom::Current(0)), Ok(4));
        assert_eq!(file.read(&mut [0; 100]), Ok(6));
        assert_eq!(file.read(&mut buf), Ok(0));
    }

    #[test]
    fn access_mode_is_checked_as_linux_with_ebadf() {
        let (_dir, inode) = scratch_file("mode");
        let read_only = File::new(inode.clone(), OpenFlags::empty());
        assert_eq!(read_only.write(b"x"), Err(LxError::EBADF));
        assert_eq!(read_only.write_at(0, b"x"), Err(LxError::EBADF));
        let write_only = File::new(inode.clone(), OpenFlags::WRONLY);
        assert_eq!(write_only.read(&mut [0; 1]), Err(LxError::EBADF));
        assert_eq!(write_only.read_at(0, &mut [0; 1]), Err(LxError::EBADF));
        let neither = File::new(inode, OpenFlags::WRONLY | OpenFlags::RDWR);
        assert_eq!(neither.read(&mut [0; 1]), Err(LxError::EBADF));
        assert_eq!(neither.write(b"x"), Err(LxError::EBADF));
    }

    #[test]
    fn pread_and_pwrite_leave_the_offset_alone() {
        let (_dir, inode) = scratch_file("pread");
        let file = File::new(inode, OpenFlags::RDWR);
        assert_eq!(file.write_at(8, b"AB"), Ok(2));
        let mut buf = [0; 3];
        assert_eq!(file.read_at(7, &mut buf), Ok(3));
        assert_eq!(&buf, b"7AB");
        assert_eq!(file.seek(SeekFrom::Current(0)), Ok(0));
    }

    #[test]
    fn append_writes_at_the_end_even_through_pwrite() {
        let (_dir, inode) = scratch_file("append");
        let file = File::new(inode.clone(), OpenFlags::RDWR | OpenFlags::APPEND);
        assert_eq!(file.write(b"ab"), Ok(2));
        assert_eq!(file.seek(SeekFrom::Current(0)), Ok(12));
        assert_eq!(file.write_at(0, b"cd"), Ok(2));
        let mut buf = [0; 14];
        assert_eq!(inode.read_at(0, &mut buf), Ok(14));
        assert_eq!(&buf, b"0123456789abcd");
    }

    #[test]
    fn seek_rejects_negative_results_and_allows_holes() {
        let (_dir, inode) = scratch_file("seek");
        let file = File::new(inode, OpenFlags::RDWR);
        assert_eq!(file.seek(SeekFrom::End(-3)), Ok(7));
        assert_eq!(file.seek(SeekFrom::Current(-8)), Err(LxError::EINVAL));
        assert_eq!(file.seek(SeekFrom::Current(0)), Ok(7));
        assert_eq!(file.seek(SeekFrom::End(5)), Ok(15));
        assert_eq!(
            file.seek(SeekFrom::Current(i64::MAX)),
            Err(LxError::EOVERFLOW)
        );
        assert_eq!(SeekFrom::from_raw(-1, 0), Err(LxError::EINVAL));
        assert_eq!(SeekFrom::from_raw(0, 3), Err(LxError::EINVAL));
    }

    #[test]
    fn an_flock_lock_goes_with_its_description() {
        let (_dir, inode) = scratch_file("flock");
        let table = FlockTable::new();
        let first = File::new(inode.clone(), OpenFlags::empty());
        let second = File::new(inode, OpenFlags::empty());
        block_on(first.flock(&table, Some(FlockKind::Exclusive), true)).unwrap();
        let exclusive = Some(FlockKind::Exclusive);
        assert_eq!(
            block_on(second.flock(&table, exclusive, true)),
            Err(LxError::EAGAIN)
        );
        let dup = first.clone();
        drop(first);
        assert_eq!(
            block_on(second.flock(&table, exclusive, true)),
            Err(LxError::EAGAIN),
            "a duplicate still holds it"
        );
        drop(dup);
        block_on(second.flock(&table, exclusive, true)).unwrap();
        block_on(second.flock(&table, None, true)).unwrap();
    }

    #[test]
    fn set_flags_changes_only_append_and_nonblock() {
        let (_dir, inode) = scratch_file("flags");
        let file = File::new(inode, OpenFlags::WRONLY | OpenFlags::CLOEXEC);
        assert_eq!(file.flags(), OpenFlags::WRONLY);
        file.set_flags(OpenFlags::RDWR | OpenFlags::APPEND | OpenFlags::NONBLOCK);
        assert_eq!(
            file.flags(),
            OpenFlags::WRONLY | OpenFlags::APPEND | OpenFlags::NONBLOCK
        );
    }
}
