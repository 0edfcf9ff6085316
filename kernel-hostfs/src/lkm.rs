//! [`KernelBackend`]: the [`Backend`] of the kernel module, over the Linux VFS
//! (`linux_kernel_module::vfs`). Built only for `target_os = "none"`, the kernel's target.
//!
//! A handle is a held `struct path`; each primitive is one VFS operation on one object and at
//! most one checked [`Name`], so the confinement of [`crate::walk`] holds here exactly as on
//! the host backend. Permissions are those of the calling task, as for the host backend's
//! process: the syscall layer checks the contained process's own.

use alloc::sync::Arc;
use alloc::vec::Vec;

use linux_kernel_module::path::HostDir;
use linux_kernel_module::vfs::{set, SetAttr, Stat, VfsObject};
use linux_kernel_module::Error;

use crate::backend::{Backend, NodeKind, TimeUpdate};
use crate::error::{FsError, FsResult};
use crate::hostfs::HostFs;
use crate::listing::Listing;
use crate::metadata::{FileType, FsInfo, Metadata, Timespec};
use crate::name::Name;

/// The Linux VFS as a [`Backend`].
pub struct KernelBackend;

impl HostFs<KernelBackend> {
    /// A filesystem rooted at the held host directory `root` (a container's root).
    pub fn in_kernel(root: &HostDir) -> FsResult<Arc<Self>> {
        Self::with_backend(KernelBackend, root.object().map_err(fs_error)?)
    }
}

fn fs_error(error: Error) -> FsError {
    FsError::from_errno(error.errno())
}

fn time(update: TimeUpdate, exact: u32, now: u32) -> (u32, i64, u32) {
    match update {
        TimeUpdate::Keep => (0, 0, 0),
        TimeUpdate::Now => (now, 0, 0),
        // nsec is below 10^9 by `Timespec`'s contract; out of range it is refused by the VFS.
        TimeUpdate::At(Timespec { sec, nsec }) => {
            (exact, sec, u32::try_from(nsec).unwrap_or(u32::MAX))
        }
    }
}

fn set_attr(handle: &VfsObject, attr: &SetAttr) -> FsResult<()> {
    handle.set_attr(attr).map_err(fs_error)
}

/// What a host `stat` of an object says, as [`Metadata`] (also for files the kernel opened
/// outside any HostFs, such as a process's inherited stdio).
pub fn metadata_of(stat: &Stat) -> FsResult<Metadata> {
    let timespec = |sec: i64, nsec: u32| Timespec {
        sec,
        nsec: i64::from(nsec),
    };
    Ok(Metadata {
        dev: stat.dev,
        inode: stat.ino,
        size: stat.size,
        blk_size: stat.blksize,
        blocks: stat.blocks,
        type_: FileType::from_mode(stat.mode).ok_or(FsError::Io)?,
        // Masked to the twelve permission bits, which fit.
        mode: (stat.mode & 0o7777) as u16,
        nlinks: stat.nlink.into(),
        uid: stat.uid,
        gid: stat.gid,
        rdev: stat.rdev,
        atime: timespec(stat.atime_sec, stat.atime_nsec),
        mtime: timespec(stat.mtime_sec, stat.mtime_nsec),
        ctime: timespec(stat.ctime_sec, stat.ctime_nsec),
    })
}

impl Backend for KernelBackend {
    type Handle = VfsObject;

    fn lookup(&self, dir: &VfsObject, name: Name<'_>) -> FsResult<(VfsObject, FileType)> {
        let (object, type_bits) = dir.lookup(name.as_str().as_bytes()).map_err(fs_error)?;
        let type_ = FileType::from_mode(type_bits).ok_or(FsError::Io)?;
        Ok((object, type_))
    }

    fn metadata(&self, handle: &VfsObject) -> FsResult<Metadata> {
        metadata_of(&handle.stat().map_err(fs_error)?)
    }

    fn metadata_beneath(
        &self,
        dir: &VfsObject,
        path: &str,
        follow_last: bool,
    ) -> FsResult<Option<Metadata>> {
        match dir.stat_beneath(path.as_bytes(), follow_last) {
            Ok(Some(stat)) => metadata_of(&stat).map(Some),
            Ok(None) => Ok(None),
            Err(error) => Err(fs_error(error)),
        }
    }

    fn inode(&self, handle: &VfsObject) -> FsResult<u64> {
        handle.ino().map_err(fs_error)
    }

    fn read_link(&self, link: &VfsObject) -> FsResult<Vec<u8>> {
        link.read_link().map_err(fs_error)
    }

    fn read_at(&self, file: &VfsObject, offset: u64, buf: &mut [u8]) -> FsResult<usize> {
        file.read_at(offset, buf).map_err(fs_error)
    }

    fn read_to_user(
        &self,
        file: &VfsObject,
        offset: u64,
        user: usize,
        len: usize,
    ) -> Option<FsResult<usize>> {
        Some(file.read_to_user(offset, user, len).map_err(fs_error))
    }

    fn write_from_user(
        &self,
        file: &VfsObject,
        offset: u64,
        user: usize,
        len: usize,
    ) -> Option<FsResult<usize>> {
        Some(file.write_from_user(offset, user, len).map_err(fs_error))
    }

    fn write_at(&self, file: &VfsObject, offset: u64, buf: &[u8]) -> FsResult<usize> {
        file.write_at(offset, buf).map_err(fs_error)
    }

    fn tmpfile(&self, dir: &VfsObject, mode: u16, exclusive: bool) -> FsResult<VfsObject> {
        let object = dir
            .tmpfile(u32::from(mode & 0o7777), exclusive)
            .map_err(fs_error)?;
        // The VFS applied the host task's umask; the syscall layer applied the contained
        // process's already, so the requested bits are set exactly.
        let made = self.metadata(&object)?.mode;
        if made & 0o777 != mode & 0o777 {
            self.chmod(&object, (made & 0o7000) | (mode & 0o777))?;
        }
        Ok(object)
    }

    fn get_xattr(&self, handle: &VfsObject, name: &str, value: &mut [u8]) -> FsResult<usize> {
        handle.get_xattr(name.as_bytes(), value).map_err(fs_error)
    }

    fn list_xattr(&self, handle: &VfsObject, list: &mut [u8]) -> FsResult<usize> {
        handle.list_xattr(list).map_err(fs_error)
    }

    fn set_xattr(&self, handle: &VfsObject, name: &str, value: &[u8], flags: u32) -> FsResult<()> {
        handle
            .set_xattr(name.as_bytes(), value, flags)
            .map_err(fs_error)
    }

    fn remove_xattr(&self, handle: &VfsObject, name: &str) -> FsResult<()> {
        handle.remove_xattr(name.as_bytes()).map_err(fs_error)
    }

    fn write_access(&self, file: &VfsObject) -> FsResult<Option<crate::WriteAccess>> {
        let access = file.write_access().map_err(fs_error)?;
        Ok(Some(alloc::boxed::Box::new(access)))
    }

    fn resize(&self, file: &VfsObject, len: u64) -> FsResult<()> {
        file.truncate(len).map_err(fs_error)
    }

    fn record_lock(
        &self,
        handle: &VfsObject,
        op: crate::LockOp,
        ofd: bool,
        owner: usize,
        lock: &mut crate::RecordLock,
    ) -> FsResult<()> {
        let op = match op {
            crate::LockOp::Test => linux_kernel_module::vfs::LockOp::Test,
            crate::LockOp::Set => linux_kernel_module::vfs::LockOp::Set,
            crate::LockOp::Wait => linux_kernel_module::vfs::LockOp::Wait,
        };
        let mut raw = linux_kernel_module::vfs::RecordLock {
            start: lock.start,
            end: lock.end,
            type_: lock.type_,
            pid: lock.pid,
        };
        handle
            .record_lock(op, ofd, owner, &mut raw)
            .map_err(fs_error)?;
        *lock = crate::RecordLock {
            start: raw.start,
            end: raw.end,
            type_: raw.type_,
            pid: raw.pid,
        };
        Ok(())
    }

    fn release_record_locks(&self, handle: &VfsObject, owner: usize) {
        handle.release_record_locks(owner);
    }

    fn notify(&self, handle: &VfsObject, mask: u32) {
        linux_kernel_module::notify::notify_object(handle, mask);
    }

    fn sync(&self, handle: &VfsObject, data_only: bool) -> FsResult<()> {
        handle.fsync(data_only).map_err(fs_error)
    }

    fn sync_fs(&self, handle: &VfsObject) -> FsResult<()> {
        handle.sync_fs().map_err(fs_error)
    }

    fn fs_info(&self, handle: &VfsObject) -> FsResult<FsInfo> {
        let info = handle.statfs().map_err(fs_error)?;
        Ok(FsInfo {
            magic: info.type_,
            bsize: info.bsize,
            frsize: info.frsize,
            blocks: info.blocks,
            bfree: info.bfree,
            bavail: info.bavail,
            files: info.files,
            ffree: info.ffree,
            namemax: info.namelen,
            flags: info.flags,
        })
    }

    fn create(
        &self,
        dir: &VfsObject,
        name: Name<'_>,
        kind: NodeKind,
        mode: u16,
    ) -> FsResult<VfsObject> {
        let type_ = match kind {
            NodeKind::File => FileType::File,
            NodeKind::Dir => FileType::Dir,
            NodeKind::NamedPipe => FileType::NamedPipe,
            NodeKind::Socket => FileType::Socket,
        };
        let object = dir
            .create(
                name.as_str().as_bytes(),
                type_.mode_bits() | u32::from(mode & 0o7777),
            )
            .map_err(fs_error)?;
        // The VFS applies the host task's umask; the syscall layer applied the contained
        // process's already, so the requested bits are set exactly.
        let created = self.metadata(&object)?.mode;
        if created & 0o777 != mode & 0o777 {
            self.chmod(&object, (created & 0o7000) | (mode & 0o777))?;
        }
        Ok(object)
    }

    fn symlink(&self, dir: &VfsObject, name: Name<'_>, target: &str) -> FsResult<VfsObject> {
        dir.symlink(name.as_str().as_bytes(), target.as_bytes())
            .map_err(fs_error)
    }

    fn link(&self, target: &VfsObject, dir: &VfsObject, name: Name<'_>) -> FsResult<()> {
        dir.link(target, name.as_str().as_bytes()).map_err(fs_error)
    }

    fn unlink(&self, dir: &VfsObject, name: Name<'_>, is_dir: bool) -> FsResult<()> {
        dir.unlink(name.as_str().as_bytes(), is_dir)
            .map_err(fs_error)
    }

    fn rename(
        &self,
        old_dir: &VfsObject,
        old_name: Name<'_>,
        new_dir: &VfsObject,
        new_name: Name<'_>,
    ) -> FsResult<()> {
        old_dir
            .rename(
                old_name.as_str().as_bytes(),
                new_dir,
                new_name.as_str().as_bytes(),
            )
            .map_err(fs_error)
    }

    fn read_dir(&self, dir: &VfsObject, listing: &mut Listing) -> FsResult<()> {
        let mut pos = 0;
        let mut end = false;
        while !end {
            listing.append_dirents64(
                |records| {
                    end = dir.read_dir(&mut pos, records).map_err(fs_error)?;
                    Ok(())
                },
                // A filesystem that does not fill d_type: ask the object itself. An entry
                // removed meanwhile (or whose name is not text, which no lookup can name) is
                // left out, as a later getdents would.
                |name| {
                    let Ok(name) = core::str::from_utf8(name) else {
                        return Ok(None);
                    };
                    match Name::new(name).and_then(|name| self.lookup(dir, name)) {
                        Ok((_, type_)) => Ok(Some(type_)),
                        Err(FsError::NotFound) => Ok(None),
                        Err(error) => Err(error),
                    }
                },
            )?;
        }
        Ok(())
    }

    fn chmod(&self, handle: &VfsObject, mode: u16) -> FsResult<()> {
        let attr = SetAttr {
            valid: set::MODE,
            mode: u32::from(mode & 0o7777),
            ..SetAttr::default()
        };
        set_attr(handle, &attr)
    }

    fn chown(&self, handle: &VfsObject, uid: Option<u32>, gid: Option<u32>) -> FsResult<()> {
        let attr = SetAttr {
            valid: uid.map_or(0, |_| set::UID) | gid.map_or(0, |_| set::GID),
            uid: uid.unwrap_or(0),
            gid: gid.unwrap_or(0),
            ..SetAttr::default()
        };
        set_attr(handle, &attr)
    }

    fn set_times(&self, handle: &VfsObject, atime: TimeUpdate, mtime: TimeUpdate) -> FsResult<()> {
        let (a_valid, atime_sec, atime_nsec) = time(atime, set::ATIME, set::ATIME_NOW);
        let (m_valid, mtime_sec, mtime_nsec) = time(mtime, set::MTIME, set::MTIME_NOW);
        let attr = SetAttr {
            valid: a_valid | m_valid,
            atime_sec,
            atime_nsec,
            mtime_sec,
            mtime_nsec,
            ..SetAttr::default()
        };
        set_attr(handle, &attr)
    }
}
