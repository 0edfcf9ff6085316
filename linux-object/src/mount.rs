//! [`MountTable`]: a container's mount tree — its root filesystem and what is mounted on
//! directories inside it (rVisor's procfs, …), each [`Mount`] with its flags.
//!
//! The path walk asks the table at every step: entering a directory that is a mount point
//! goes to the root of what is mounted there, and `..` at the root of a mount goes to the
//! directory holding its mount point, as Linux's `follow_mount` and `follow_dotdot` do. A
//! mount point is named by its absolute path inside the container, the path the walk tracks.
//!
//! The table is read on every path walk and changed rarely, so readers take a snapshot
//! ([`Mounts`], one reference count) and a change publishes a new one.
//!
//! ```
//! use kernel_hostfs::{FileSystem, HostFs};
//! use linux_object::mount::{MountFlags, MountTable};
//! # let dir = std::env::temp_dir().join(format!("linux-object-doc-mount-{}", std::process::id()));
//! # std::fs::create_dir_all(dir.join("proc")).unwrap();
//! # std::fs::create_dir_all(dir.join("other")).unwrap();
//! let root = HostFs::new(&dir)?.root_inode();
//! let table = MountTable::new(root.clone(), "rootfs", "ext4");
//! let other = root.lookup("other")?;
//! table.mount("/proc", root.clone(), other, "proc", "proc", MountFlags::NOSUID)?;
//!
//! let mounts = table.snapshot();
//! assert!(mounts.covering("/proc").is_some());
//! assert!(mounts.covering("/proc/self").is_none());
//! assert_eq!(mounts.iter().map(|m| m.point()).collect::<Vec<_>>(), ["/", "/proc"]);
//! table.unmount("/proc", false)?;
//! assert!(table.snapshot().covering("/proc").is_none());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), linux_object::LxError>(())
//! ```

use crate::error::{LxError, LxResult};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use bitflags::bitflags;
use kernel_hal_lkm::sync::Mutex;
use kernel_hostfs::INode;

bitflags! {
    /// A mount's flags (the `MS_*` values of `mount(2)` that a mount keeps).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct MountFlags: u32 {
        /// `ro`: nothing on it may be written.
        const RDONLY = 1;
        /// `nosuid`: set-user-ID and set-group-ID bits are ignored by `execve`.
        const NOSUID = 2;
        /// `nodev`: device nodes on it cannot be opened.
        const NODEV = 4;
        /// `noexec`: nothing on it may be run.
        const NOEXEC = 8;
        /// `noatime`: access times are never updated.
        const NOATIME = 1 << 10;
        /// `nodiratime`: directory access times are never updated.
        const NODIRATIME = 1 << 11;
        /// `relatime`: access times are updated only when older than the modification.
        const RELATIME = 1 << 21;
    }
}

impl MountFlags {
    /// The options `/proc/self/mounts` shows for these flags, in Linux's order
    /// (`show_mnt_opts`): `ro` or `rw`, then the others.
    pub fn options(self) -> String {
        let mut text = String::from(if self.contains(Self::RDONLY) {
            "ro"
        } else {
            "rw"
        });
        for (flag, name) in [
            (Self::NOSUID, ",nosuid"),
            (Self::NODEV, ",nodev"),
            (Self::NOEXEC, ",noexec"),
            (Self::NOATIME, ",noatime"),
            (Self::NODIRATIME, ",nodiratime"),
            (Self::RELATIME, ",relatime"),
        ] {
            if self.contains(flag) {
                text.push_str(name);
            }
        }
        text
    }

    /// The `f_flags` bits `statfs` reports for these flags (`ST_*`, with `ST_VALID`).
    pub fn statfs_flags(self) -> u64 {
        /// `ST_VALID`: `f_flags` is filled in.
        const ST_VALID: u64 = 0x20;
        let kept = self.bits() & (Self::RDONLY | Self::NOSUID | Self::NODEV | Self::NOEXEC).bits();
        let times = [
            (Self::NOATIME, 0x400),
            (Self::NODIRATIME, 0x800),
            (Self::RELATIME, 0x1000),
        ];
        times
            .iter()
            .filter(|(flag, _)| self.contains(*flag))
            .fold(u64::from(kept) | ST_VALID, |bits, (_, st)| bits | st)
    }
}

/// One filesystem mounted somewhere in a container.
pub struct Mount {
    /// Its id, as `/proc/self/mountinfo` shows it.
    id: u32,
    /// The id of the mount its mount point lies on (its own for the root).
    parent_id: u32,
    /// Where it is mounted: an absolute path in the container, `/` for the root.
    point: String,
    /// The directory holding the mount point, where `..` at the mount's root leads (`None`
    /// for the root mount, whose `..` is itself).
    covered_parent: Option<Arc<dyn INode>>,
    /// The root of what is mounted.
    root: Arc<dyn INode>,
    /// What was mounted, as `mount` shows it (`proc`, `tmpfs`, a host path…).
    source: String,
    /// The filesystem type's name (`proc`, `ext4`, …).
    fstype: String,
    flags: MountFlags,
}

impl Mount {
    /// Its id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The id of the mount it lies on.
    pub fn parent_id(&self) -> u32 {
        self.parent_id
    }

    /// Where it is mounted.
    pub fn point(&self) -> &str {
        &self.point
    }

    /// The root of what is mounted.
    pub fn root(&self) -> &Arc<dyn INode> {
        &self.root
    }

    /// Where `..` at its root leads: the directory holding its mount point.
    pub fn covered_parent(&self) -> Option<&Arc<dyn INode>> {
        self.covered_parent.as_ref()
    }

    /// What was mounted.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The filesystem type's name.
    pub fn fstype(&self) -> &str {
        &self.fstype
    }

    /// Its flags.
    pub fn flags(&self) -> MountFlags {
        self.flags
    }
}

/// A snapshot of a container's mounts, oldest first: what one path walk uses.
#[derive(Clone)]
pub struct Mounts(Arc<Vec<Arc<Mount>>>);

impl Mounts {
    /// Whether only the root is mounted (the walk then has nothing to look for).
    pub fn only_root(&self) -> bool {
        self.0.len() <= 1
    }

    /// The mount whose mount point is `path` (the last one mounted there, which hides the
    /// others), if any other than the root.
    pub fn covering(&self, path: &str) -> Option<&Arc<Mount>> {
        self.0
            .iter()
            .skip(1)
            .rev()
            .find(|mount| mount.point == path)
    }

    /// The mount that holds `path`: the one whose mount point is its longest prefix (by
    /// whole components).
    pub fn holding(&self, path: &str) -> Option<&Arc<Mount>> {
        self.0
            .iter()
            .rev()
            .find(|mount| is_within(path, &mount.point))
    }

    /// Whether a walk of `path` (names alone, no `.` or `..`) from the directory at `start`
    /// (an absolute path: the walker's root when `path` is absolute) reaches a mount point on the way, so
    /// that it must go one name at a time rather than ask one filesystem for the whole path.
    /// Symbolic links on the way are not seen here: a one-step lookup stops at them.
    pub fn may_cross(&self, start: &str, path: &str) -> bool {
        if self.only_root() {
            return false;
        }
        let path = path.trim_matches('/');
        self.0.iter().skip(1).any(|mount| {
            let Some(below) = mount.point.strip_prefix(start) else {
                return false;
            };
            if !(start.ends_with('/') || below.is_empty() || below.starts_with('/')) {
                return false;
            }
            let below = below.trim_start_matches('/');
            below.is_empty() || is_within(path, below) && !path.is_empty()
        })
    }

    /// The mounts, oldest (the root) first.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Mount>> {
        self.0.iter()
    }
}

/// Whether `path` is `dir` or below it (by whole components; both absolute, or both
/// relative).
fn is_within(path: &str, dir: &str) -> bool {
    if dir == "/" {
        return true;
    }
    match path.strip_prefix(dir) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

/// A container's mounts.
pub struct MountTable {
    mounts: Mutex<Mounts>,
}

impl MountTable {
    /// A table holding only the root, `root`, mounted from `source` with type `fstype`.
    pub fn new(root: Arc<dyn INode>, source: &str, fstype: &str) -> Self {
        let root = Arc::new(Mount {
            id: ROOT_MOUNT_ID,
            parent_id: ROOT_MOUNT_ID,
            point: String::from("/"),
            covered_parent: None,
            root,
            source: String::from(source),
            fstype: String::from(fstype),
            flags: MountFlags::RELATIME,
        });
        Self {
            mounts: Mutex::new(Mounts(Arc::new(alloc::vec![root]))),
        }
    }

    /// Describes the root mount: its filesystem type and whether it is read-only (which
    /// its filesystem enforces).
    pub fn describe_root(&self, fstype: &str, read_only: bool) -> LxResult {
        let mut mounts = self.mounts.lock();
        let mut list = Vec::new();
        list.try_reserve_exact(mounts.0.len())
            .map_err(|_| LxError::ENOMEM)?;
        for (index, mount) in mounts.0.iter().enumerate() {
            if index > 0 {
                list.push(mount.clone());
                continue;
            }
            let mut flags = mount.flags;
            flags.set(MountFlags::RDONLY, read_only);
            list.push(Arc::new(Mount {
                id: mount.id,
                parent_id: mount.parent_id,
                point: mount.point.clone(),
                covered_parent: None,
                root: mount.root.clone(),
                source: mount.source.clone(),
                fstype: String::from(fstype),
                flags,
            }));
        }
        *mounts = Mounts(Arc::new(list));
        Ok(())
    }

    /// The mounts as they are now.
    pub fn snapshot(&self) -> Mounts {
        self.mounts.lock().clone()
    }

    /// Mounts `root` on the directory at `point` (an absolute path), whose parent
    /// directory is `covered_parent`. `EINVAL` for a relative point or the root itself,
    /// `ENOSPC` past [`MAX_MOUNTS`].
    pub fn mount(
        &self,
        point: &str,
        covered_parent: Arc<dyn INode>,
        root: Arc<dyn INode>,
        source: &str,
        fstype: &str,
        flags: MountFlags,
    ) -> LxResult {
        if !point.starts_with('/') || point == "/" {
            return Err(LxError::EINVAL);
        }
        let mut mounts = self.mounts.lock();
        if mounts.0.len() >= MAX_MOUNTS {
            return Err(LxError::ENOSPC);
        }
        let parent_id = mounts.holding(point).map_or(ROOT_MOUNT_ID, |m| m.id);
        let id = mounts
            .0
            .iter()
            .map(|m| m.id)
            .max()
            .unwrap_or(ROOT_MOUNT_ID)
            .checked_add(1)
            .ok_or(LxError::ENOMEM)?;
        let mut list = Vec::new();
        list.try_reserve_exact(mounts.0.len() + 1)
            .map_err(|_| LxError::ENOMEM)?;
        list.extend(mounts.0.iter().cloned());
        list.push(Arc::new(Mount {
            id,
            parent_id,
            point: String::from(point),
            covered_parent: Some(covered_parent),
            root,
            source: String::from(source),
            fstype: String::from(fstype),
            flags,
        }));
        *mounts = Mounts(Arc::new(list));
        Ok(())
    }

    /// Unmounts the last mount at `point`: `EINVAL` if nothing is mounted there, `EBUSY` if
    /// something is mounted below it, unless `detach`, which unmounts those too (`umount2`'s
    /// `MNT_DETACH`).
    pub fn unmount(&self, point: &str, detach: bool) -> LxResult {
        let mut mounts = self.mounts.lock();
        let index = (1..mounts.0.len())
            .rev()
            .find(|&i| mounts.0.get(i).is_some_and(|m| m.point == point))
            .ok_or(LxError::EINVAL)?;
        let below = |m: &Mount| m.point != point && is_within(&m.point, point);
        let busy = mounts.0.iter().skip(index + 1).any(|m| below(m));
        if busy && !detach {
            return Err(LxError::EBUSY);
        }
        let mut list = Vec::new();
        list.try_reserve_exact(mounts.0.len())
            .map_err(|_| LxError::ENOMEM)?;
        list.extend(
            mounts
                .0
                .iter()
                .enumerate()
                .filter(|(i, m)| *i != index && !(*i > index && below(m)))
                .map(|(_, m)| m.clone()),
        );
        *mounts = Mounts(Arc::new(list));
        Ok(())
    }

    /// Replaces the flags of the last mount at `point` (`MS_REMOUNT`): `EINVAL` if nothing
    /// is mounted there.
    pub fn set_flags(&self, point: &str, flags: MountFlags) -> LxResult<usize> {
        let mut mounts = self.mounts.lock();
        let index = (1..mounts.0.len())
            .rev()
            .find(|&i| mounts.0.get(i).is_some_and(|m| m.point == point))
            .ok_or(LxError::EINVAL)?;
        let mut list = Vec::new();
        list.try_reserve_exact(mounts.0.len())
            .map_err(|_| LxError::ENOMEM)?;
        for (i, mount) in mounts.0.iter().enumerate() {
            if i != index {
                list.push(mount.clone());
                continue;
            }
            list.push(Arc::new(Mount {
                id: mount.id,
                parent_id: mount.parent_id,
                point: mount.point.clone(),
                covered_parent: mount.covered_parent.clone(),
                root: mount.root.clone(),
                source: mount.source.clone(),
                fstype: mount.fstype.clone(),
                flags,
            }));
        }
        *mounts = Mounts(Arc::new(list));
        Ok(0)
    }
}

/// The most mounts a container may have (Linux's default `fs.mount-max`, per mount
/// namespace); past it `mount` fails with `ENOSPC`.
const MAX_MOUNTS: usize = 100_000;

/// The root mount's id (Linux numbers from an arbitrary base; what matters is that ids are
/// unique and parents name existing mounts).
const ROOT_MOUNT_ID: u32 = 21;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_within_a_directory_by_whole_components() {
        assert!(is_within("/proc", "/"));
        assert!(is_within("/proc/self", "/proc"));
        assert!(is_within("/proc", "/proc"));
        assert!(!is_within("/procfs", "/proc"));
        assert!(!is_within("/", "/proc"));
    }

    #[test]
    fn only_walks_reaching_a_mount_point_may_cross() {
        let dir =
            std::env::temp_dir().join(format!("linux-object-mount-cross-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let root = kernel_hostfs::HostFs::new(&dir).unwrap();
        let root = kernel_hostfs::FileSystem::root_inode(&*root);
        let table = MountTable::new(root.clone(), "rootfs", "ext4");
        assert!(!table.snapshot().may_cross("/", "/proc/self"));
        table
            .mount(
                "/proc",
                root.clone(),
                root.clone(),
                "proc",
                "proc",
                MountFlags::empty(),
            )
            .unwrap();
        table
            .mount(
                "/dev/pts",
                root.clone(),
                root,
                "devpts",
                "devpts",
                MountFlags::empty(),
            )
            .unwrap();
        let mounts = table.snapshot();
        assert!(mounts.may_cross("/", "/proc"));
        assert!(mounts.may_cross("/", "/proc/self/stat"));
        assert!(mounts.may_cross("/", "proc"));
        assert!(mounts.may_cross("/dev", "pts/0"));
        assert!(mounts.may_cross("/dev/pts", "0"));
        assert!(!mounts.may_cross("/", "/procfs"));
        assert!(!mounts.may_cross("/", "/etc/passwd"));
        assert!(!mounts.may_cross("/dev", "null"));
        assert!(!mounts.may_cross("/home", "proc"));
        // From a root a process changed to, absolute paths start there.
        assert!(mounts.may_cross("/dev", "/pts/0"));
        assert!(!mounts.may_cross("/dev", "/proc"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn flags_show_as_mount_options_and_statfs_bits() {
        let flags = MountFlags::RDONLY | MountFlags::NOSUID | MountFlags::RELATIME;
        assert_eq!(flags.options(), "ro,nosuid,relatime");
        assert_eq!(MountFlags::empty().options(), "rw");
        assert_eq!(flags.statfs_flags(), 0x1 | 0x2 | 0x20 | 0x1000);
    }
}
