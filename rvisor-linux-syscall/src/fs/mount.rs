//! `mount`, `umount2`: the container's own mount tree. A container's root may mount rVisor's
//! procfs and sysfs, a new tmpfs, or bind a directory (or file) of the container elsewhere in
//! it; nothing it mounts can name the host outside its root, since every path is resolved by
//! the container's own walk.
//!
//! What is served: new mounts of `proc`, `sysfs` and `tmpfs`; `MS_BIND` (with `MS_REC`, the
//! mounts below the source come along); `MS_REMOUNT` changing `nosuid`, `nodev`, `noexec`
//! and the access-time flags; the propagation changes (`MS_PRIVATE`, `MS_SLAVE`,
//! `MS_SHARED`, `MS_UNBINDABLE`), accepted with nothing to do, as every mount of a container
//! is private to it. Refused: `MS_MOVE` and a remount that changes `MS_RDONLY` (`EINVAL`:
//! rVisor writes through the host's VFS, which would not enforce it), other filesystem types
//! (`ENODEV`).

use alloc::string::String;
use alloc::sync::Arc;
use kernel_hostfs::{FileSystem, FileType, INode, PATH_MAX};
use linux_object::mount::{MountFlags, Mounts};
use linux_object::procfs::ProcFs;
use linux_object::LxError;

use super::path::{Located, AT_FDCWD};
use crate::user::UserInPtr;
use crate::{SysResult, Syscall};

const MS_REMOUNT: u32 = 32;
const MS_BIND: u32 = 4096;
const MS_MOVE: u32 = 8192;
const MS_REC: u32 = 16384;
const MS_SILENT: u32 = 32768;
/// `MS_UNBINDABLE | MS_PRIVATE | MS_SLAVE | MS_SHARED`.
const MS_PROPAGATION: u32 = (1 << 17) | (1 << 18) | (1 << 19) | (1 << 20);
/// `MS_MGC_VAL` and its mask: the magic old callers put in the high half (dropped, as
/// Linux drops it when it is there).
const MS_MGC_VAL: u32 = 0xc0ed_0000;
const MS_MGC_MASK: u32 = 0xffff_0000;
/// The flags a mount keeps, and `MS_NOATIME | MS_NODIRATIME | MS_RELATIME`.
const MS_KEPT: u32 = 1 | 2 | 4 | 8 | (1 << 10) | (1 << 11) | (1 << 21);

const MNT_FORCE: u32 = 1;
const MNT_DETACH: u32 = 2;
const MNT_EXPIRE: u32 = 4;
const UMOUNT_NOFOLLOW: u32 = 8;

/// The longest option string read (`mount` reads a page).
const DATA_MAX: usize = 4096;

impl Syscall<'_> {
    /// `mount(source, target, fstype, flags, data)`.
    pub fn sys_mount(
        &self,
        source: UserInPtr<u8>,
        target: UserInPtr<u8>,
        fstype: UserInPtr<u8>,
        flags: usize,
        data: UserInPtr<u8>,
    ) -> SysResult {
        if self.process.credentials().euid != 0 {
            return Err(LxError::EPERM);
        }
        let mut flags = flags as u32 & !MS_SILENT;
        if flags & MS_MGC_MASK == MS_MGC_VAL {
            flags &= !MS_MGC_MASK;
        }
        let target = target.read_path()?;
        let point = self.resolve(AT_FDCWD, &target, true)?;
        let mounts = self.process.mounts().clone();
        if flags & MS_MOVE != 0 {
            return Err(LxError::EINVAL);
        }
        if flags & MS_REMOUNT != 0 {
            let snapshot = mounts.snapshot();
            let mount = snapshot
                .covering(&point.path)
                .filter(|_| point.path != "/")
                .ok_or(LxError::EINVAL)?;
            let new = MountFlags::from_bits_truncate(flags & MS_KEPT);
            if new.contains(MountFlags::RDONLY) != mount.flags().contains(MountFlags::RDONLY) {
                return Err(LxError::EINVAL);
            }
            return mounts.set_flags(&point.path, new);
        }
        if flags & MS_PROPAGATION != 0 {
            // Every mount is private to its container already.
            return Ok(0);
        }
        let kept = MountFlags::from_bits_truncate(flags & MS_KEPT) | MountFlags::RELATIME;
        let covered_parent = self.parent_of(&point)?;
        if flags & MS_BIND != 0 {
            let source = source.read_path()?;
            let from = self.resolve(AT_FDCWD, &source, true)?;
            let (from_dir, point_dir) = (
                from.inode.file_type()? == FileType::Dir,
                point.inode.file_type()? == FileType::Dir,
            );
            if from_dir != point_dir {
                return Err(if from_dir {
                    LxError::ENOTDIR
                } else {
                    LxError::EISDIR
                });
            }
            // A new bind takes no flags of its own (`MS_RDONLY` is for a remount), as Linux.
            let kept = MountFlags::RELATIME;
            let snapshot = mounts.snapshot();
            let held = snapshot.holding(&from.path).ok_or(LxError::EINVAL)?;
            let (source_name, fstype) = (String::from(held.source()), String::from(held.fstype()));
            mounts.mount(
                &point.path,
                covered_parent,
                from.inode.clone(),
                &source_name,
                &fstype,
                kept,
            )?;
            if flags & MS_REC != 0 {
                self.bind_submounts(&snapshot, &from, &point)?;
            }
            return Ok(0);
        }
        if point.inode.file_type()? != FileType::Dir {
            return Err(LxError::ENOTDIR);
        }
        let fstype = fstype.read_cstring(255)?;
        let root: Arc<dyn INode> = match fstype.as_slice() {
            b"proc" | b"sysfs" => {
                let container = self.process.container().ok_or(LxError::ESRCH)?;
                let fs = if fstype.as_slice() == b"proc" {
                    ProcFs::new(&container)
                } else {
                    ProcFs::new_sysfs(&container)
                };
                fs.root_inode()
            }
            b"tmpfs" => {
                let options = if data.is_null() {
                    String::new()
                } else {
                    let bytes = data.read_cstring(DATA_MAX)?;
                    String::from_utf8(bytes).map_err(|_| LxError::EINVAL)?
                };
                self.host
                    .new_tmpfs(&options, kept.contains(MountFlags::RDONLY))?
            }
            _ => return Err(LxError::ENODEV),
        };
        let fstype = String::from_utf8_lossy(&fstype).into_owned();
        let source = if source.is_null() {
            fstype.clone()
        } else {
            String::from_utf8_lossy(&source.read_cstring(PATH_MAX - 1)?).into_owned()
        };
        mounts.mount(&point.path, covered_parent, root, &source, &fstype, kept)?;
        Ok(0)
    }

    /// `umount2(target, flags)`: `EINVAL` for a path that is not a mount point (the root
    /// included) or unknown flags, `EBUSY` for a mount with mounts below it unless
    /// `MNT_DETACH` (which takes them too).
    pub fn sys_umount2(&self, target: UserInPtr<u8>, flags: u32) -> SysResult {
        if flags & !(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW) != 0
            || flags & MNT_EXPIRE != 0 && flags & (MNT_FORCE | MNT_DETACH) != 0
        {
            return Err(LxError::EINVAL);
        }
        if self.process.credentials().euid != 0 {
            return Err(LxError::EPERM);
        }
        let target = target.read_path()?;
        let point = self.resolve(AT_FDCWD, &target, flags & UMOUNT_NOFOLLOW == 0)?;
        if point.path == "/" {
            return Err(LxError::EINVAL);
        }
        self.process
            .mounts()
            .unmount(&point.path, flags & MNT_DETACH != 0)?;
        Ok(0)
    }

    /// The directory holding `node` (for `..` from what is mounted on it).
    fn parent_of(&self, node: &Located) -> Result<Arc<dyn INode>, LxError> {
        let parent_path = match node.path.rfind('/') {
            Some(0) | None => "/",
            Some(slash) => node.path.get(..slash).unwrap_or("/"),
        };
        // Mount points are the container's paths, whatever root the caller has.
        let mut walker = self.container_walker()?;
        let root = walker.root(0)?;
        Ok(walker.walk(root, parent_path, true)?.inode)
    }

    /// Binds, below `point`, what was mounted below `from` (`MS_BIND | MS_REC`).
    fn bind_submounts(&self, snapshot: &Mounts, from: &Located, point: &Located) -> SysResult {
        let prefix = if from.path == "/" {
            String::new()
        } else {
            from.path.clone()
        };
        for mount in snapshot.iter().skip(1) {
            let Some(rest) = mount.point().strip_prefix(prefix.as_str()) else {
                continue;
            };
            if !rest.starts_with('/') || mount.point() == point.path {
                continue;
            }
            let mut new_point = point.path.clone();
            if new_point == "/" {
                new_point.clear();
            }
            new_point.push_str(rest);
            let located = Located {
                inode: mount.root().clone(),
                path: new_point.clone(),
            };
            let parent = self.parent_of(&located)?;
            self.process.mounts().mount(
                &new_point,
                parent,
                mount.root().clone(),
                mount.source(),
                mount.fstype(),
                mount.flags(),
            )?;
        }
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use crate::fs::testing::{err, run, Sandbox};
    use linux_object::LxError;

    const MOUNT: u32 = 165;
    const UMOUNT2: u32 = 166;
    const OPEN: u32 = 2;
    const READ: u32 = 0;
    const MS_REMOUNT: usize = 32;
    const MS_BIND: usize = 4096;
    const MS_REC: usize = 16384;
    const MS_PRIVATE: usize = 1 << 18;
    const MNT_DETACH: usize = 2;

    fn read_file(sandbox: &Sandbox, sys: &crate::Syscall<'_>, path: &str) -> std::vec::Vec<u8> {
        let fd = run(sys, OPEN, &[sandbox.cstr(path), 0]);
        assert!(fd >= 0, "open {path}: {fd}");
        let buf = sandbox.buf(64);
        let len = run(sys, READ, &[fd as usize, buf, 64]);
        assert!(len >= 0);
        sandbox.user.get_bytes(buf, len as usize)
    }

    #[test]
    fn procfs_and_binds_are_mounted_and_unmounted_inside_the_container() {
        let sandbox = Sandbox::new("mount");
        sandbox.mkdir("p");
        sandbox.mkdir("a");
        sandbox.mkdir("a/inner");
        sandbox.write("a/file", b"in a");
        sandbox.mkdir("b");
        let sys = sandbox.syscall();
        let (proc_type, p) = (sandbox.cstr("proc"), sandbox.cstr("/p"));
        assert_eq!(run(&sys, MOUNT, &[proc_type, p, proc_type, 0, 0]), 0);
        assert_eq!(
            read_file(&sandbox, &sys, "/p/sys/kernel/ostype"),
            b"Linux\n"
        );
        // A bind shows the source's tree at the target; `..` leads back to the root's.
        let (a, b) = (sandbox.cstr("/a"), sandbox.cstr("/b"));
        assert_eq!(run(&sys, MOUNT, &[a, b, 0, MS_BIND, 0]), 0);
        assert_eq!(read_file(&sandbox, &sys, "/b/file"), b"in a");
        assert_eq!(read_file(&sandbox, &sys, "/b/../a/file"), b"in a");
        // Not a mount point; mounts below; unknown type; a user who is not root.
        assert_eq!(
            run(&sys, UMOUNT2, &[sandbox.cstr("/a"), 0]),
            err(LxError::EINVAL)
        );
        assert_eq!(
            run(&sys, UMOUNT2, &[sandbox.cstr("/"), 0]),
            err(LxError::EINVAL)
        );
        let ext4 = sandbox.cstr("ext4");
        assert_eq!(
            run(&sys, MOUNT, &[ext4, b, ext4, 0, 0]),
            err(LxError::ENODEV)
        );
        assert_eq!(
            run(
                &sys,
                MOUNT,
                &[0, sandbox.cstr("/"), 0, MS_REC | MS_PRIVATE, 0]
            ),
            0
        );
        let user = sandbox.syscall_as(1000, 1000);
        assert_eq!(
            run(&user, MOUNT, &[proc_type, b, proc_type, 0, 0]),
            err(LxError::EPERM)
        );
        assert_eq!(run(&user, UMOUNT2, &[b, 0]), err(LxError::EPERM));
        // Read-only remounts are refused; other flags change.
        let nosuid_noexec = 2 | 8;
        assert_eq!(
            run(&sys, MOUNT, &[0, p, 0, MS_REMOUNT | 1, 0]),
            err(LxError::EINVAL)
        );
        assert_eq!(
            run(&sys, MOUNT, &[0, p, 0, MS_REMOUNT | nosuid_noexec, 0]),
            0
        );
        assert_eq!(run(&sys, UMOUNT2, &[p, 0]), 0);
        assert_eq!(
            run(&sys, OPEN, &[sandbox.cstr("/p/sys/kernel/ostype"), 0]),
            err(LxError::ENOENT)
        );
        // A recursive bind takes the mounts below its source along.
        assert_eq!(
            run(
                &sys,
                MOUNT,
                &[proc_type, sandbox.cstr("/a/inner"), proc_type, 0, 0]
            ),
            0
        );
        assert_eq!(
            run(
                &sys,
                MOUNT,
                &[a, sandbox.cstr("/p"), 0, MS_BIND | MS_REC, 0]
            ),
            0
        );
        assert_eq!(
            read_file(&sandbox, &sys, "/p/inner/sys/kernel/ostype"),
            b"Linux\n"
        );
        assert_eq!(run(&sys, UMOUNT2, &[p, 0]), err(LxError::EBUSY));
        assert_eq!(run(&sys, UMOUNT2, &[p, MNT_DETACH]), 0);
        assert_eq!(run(&sys, UMOUNT2, &[b, 0xff]), err(LxError::EINVAL));
    }
}
