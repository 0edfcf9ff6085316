//! rVisor's `/dev` ([`DevFs`]) and `/dev/pts` ([`DevPtsFs`]): synthesized directories whose
//! nodes name the devices rVisor serves itself — never the host's `/dev`.
//!
//! `/dev` holds the memory devices (`null`, `zero`, `full`, `random`, `urandom`), `tty`
//! (the opener's controlling terminal), `console`, `ptmx` (a new pseudo-terminal), the links
//! `fd`, `stdin`, `stdout`, `stderr` into `/proc/self/fd`, and the directories `pts` (where
//! the container's devpts is mounted) and `shm`. Opening a node is the syscall layer's
//! business: it goes by the node's device number, as Linux's `chrdev_open` does.
//!
//! ```
//! use kernel_hostfs::{FileSystem, FileType};
//! use linux_object::devfs::DevFs;
//! use linux_object::tty::DevPts;
//!
//! let dev = DevFs::new().root_inode();
//! let null = dev.lookup("null")?.metadata()?;
//! assert_eq!((null.type_, null.mode, null.rdev), (FileType::CharDevice, 0o666, 0x103));
//! assert_eq!(dev.lookup("stdout")?.read_link()?, "/proc/self/fd/1");
//! # Ok::<(), kernel_hostfs::FsError>(())
//! ```

use crate::fs::Device;
use crate::tty::DevPts;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use core::any::Any;
use kernel_hal_lkm::platform;
use kernel_hostfs::{
    FileSystem, FileType, FsError, FsInfo, FsResult, INode, Listing, Metadata, PathParent,
    TimeUpdate, Timespec,
};

/// `TMPFS_MAGIC`: `/dev` is a `devtmpfs`, which reports tmpfs's magic.
const TMPFS_MAGIC: u64 = 0x0102_1994;
/// `DEVPTS_SUPER_MAGIC`.
const DEVPTS_SUPER_MAGIC: u64 = 0x1cd1;

/// The device number `/dev`'s objects report (an anonymous device).
const DEVFS_DEV: u64 = crate::fs::pseudo_fs_dev(2);
/// The device number devpts's objects report.
pub(crate) const DEVPTS_DEV: u64 = crate::fs::pseudo_fs_dev(3);

/// What a `/dev` entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dir,
    /// A character device `major:minor`.
    Char(u32, u32),
    Link(&'static str),
}

/// One entry of `/dev`: name, kind, permission bits.
struct Entry {
    name: &'static str,
    kind: Kind,
    mode: u16,
}

/// The entries of `/dev`, in the order `ls -f` shows them.
const ENTRIES: &[Entry] = &[
    Entry {
        name: "console",
        kind: Kind::Char(5, 1),
        mode: 0o600,
    },
    Entry {
        name: "fd",
        kind: Kind::Link("/proc/self/fd"),
        mode: 0o777,
    },
    Entry {
        name: "full",
        kind: Kind::Char(1, 7),
        mode: 0o666,
    },
    Entry {
        name: "null",
        kind: Kind::Char(1, 3),
        mode: 0o666,
    },
    Entry {
        name: "ptmx",
        kind: Kind::Char(5, 2),
        mode: 0o666,
    },
    Entry {
        name: "pts",
        kind: Kind::Dir,
        mode: 0o755,
    },
    Entry {
        name: "random",
        kind: Kind::Char(1, 8),
        mode: 0o666,
    },
    Entry {
        name: "shm",
        kind: Kind::Dir,
        mode: 0o1777,
    },
    Entry {
        name: "stderr",
        kind: Kind::Link("/proc/self/fd/2"),
        mode: 0o777,
    },
    Entry {
        name: "stdin",
        kind: Kind::Link("/proc/self/fd/0"),
        mode: 0o777,
    },
    Entry {
        name: "stdout",
        kind: Kind::Link("/proc/self/fd/1"),
        mode: 0o777,
    },
    Entry {
        name: "tty",
        kind: Kind::Char(5, 0),
        mode: 0o666,
    },
    Entry {
        name: "urandom",
        kind: Kind::Char(1, 9),
        mode: 0o666,
    },
    Entry {
        name: "zero",
        kind: Kind::Char(1, 5),
        mode: 0o666,
    },
];

/// Now on the real-time clock, for node times.
fn now() -> Timespec {
    let now = platform().map(|p| p.realtime_now()).unwrap_or_default();
    Timespec {
        sec: i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
        nsec: i64::from(now.subsec_nanos()),
    }
}

/// A metadata record of a synthesized node.
#[allow(clippy::too_many_arguments)]
fn node_metadata(
    dev: u64,
    inode: u64,
    type_: FileType,
    mode: u16,
    uid: u32,
    gid: u32,
    rdev: u64,
    size: u64,
    time: Timespec,
) -> Metadata {
    Metadata {
        dev,
        inode,
        size,
        blk_size: 4096,
        blocks: 0,
        type_,
        mode,
        nlinks: if type_ == FileType::Dir { 2 } else { 1 },
        uid,
        gid,
        rdev,
        atime: time,
        mtime: time,
        ctime: time,
    }
}

/// A container's `/dev`.
pub struct DevFs {
    made: Timespec,
    this: Weak<DevFs>,
}

impl DevFs {
    /// A `/dev` made now.
    pub fn new() -> Arc<Self> {
        Arc::new_cyclic(|this| Self {
            made: now(),
            this: this.clone(),
        })
    }
}

impl FileSystem for DevFs {
    fn root_inode(&self) -> Arc<dyn INode> {
        Arc::new(DevINode {
            fs: self.this.upgrade(),
            made: self.made,
            node: None,
        })
    }

    fn sync(&self) -> FsResult<()> {
        Ok(())
    }

    fn info(&self) -> FsResult<FsInfo> {
        Ok(FsInfo::simple(TMPFS_MAGIC))
    }
}

/// A node of `/dev`: the root (`None`) or an entry (its index in [`ENTRIES`]).
struct DevINode {
    fs: Option<Arc<DevFs>>,
    made: Timespec,
    node: Option<usize>,
}

impl DevINode {
    fn entry(&self) -> Option<&'static Entry> {
        self.node.and_then(|index| ENTRIES.get(index))
    }

    fn kind(&self) -> Kind {
        self.entry().map_or(Kind::Dir, |entry| entry.kind)
    }

    fn with_node(&self, node: Option<usize>) -> Arc<dyn INode> {
        Arc::new(DevINode {
            fs: self.fs.clone(),
            made: self.made,
            node,
        })
    }

    fn inode_number(node: Option<usize>) -> u64 {
        node.map_or(1, |index| index as u64 + 2)
    }
}

/// Refusals shared by both filesystems' nodes: their entries are fixed.
macro_rules! fixed_tree {
    () => {
        fn write_at(&self, _offset: usize, _buf: &[u8]) -> FsResult<usize> {
            // Opening a node gives its device; an inode write only comes for a directory.
            Err(FsError::IsDir)
        }

        fn set_times(&self, _atime: TimeUpdate, _mtime: TimeUpdate) -> FsResult<()> {
            Ok(())
        }

        fn resize(&self, _len: usize) -> FsResult<()> {
            // `O_TRUNC` of a device changes nothing, as on Linux.
            Ok(())
        }

        fn sync_all(&self) -> FsResult<()> {
            Ok(())
        }

        fn sync_data(&self) -> FsResult<()> {
            Ok(())
        }

        fn lookup_follow(&self, path: &str, _follow_last: bool) -> FsResult<Arc<dyn INode>> {
            // Names alone: the syscall layer's walk follows links and crosses mounts.
            let mut current = if path.starts_with('/') {
                self.fs().root_inode()
            } else {
                self.find(".")?
            };
            for name in path.split('/').filter(|name| !name.is_empty()) {
                current = current.find(name)?;
            }
            Ok(current)
        }

        fn lookup_parent(&self, path: &str) -> FsResult<PathParent> {
            let trimmed = path.trim_end_matches('/');
            let (dir, name) = match trimmed.rsplit_once('/') {
                Some((dir, name)) => (
                    self.lookup_follow(if dir.is_empty() { "/" } else { dir }, true)?,
                    name,
                ),
                None => (self.find(".")?, trimmed),
            };
            Ok(PathParent {
                dir,
                name: String::from(if name.is_empty() { "." } else { name }),
                must_be_dir: trimmed.len() < path.len(),
            })
        }

        fn create(&self, _name: &str, _type: FileType, _mode: u16) -> FsResult<Arc<dyn INode>> {
            // No storage behind these directories (tmpfs is not served yet): a filesystem
            // with no room left, as a full tmpfs says.
            Err(FsError::NoSpace)
        }

        fn symlink(&self, _name: &str, _target: &str) -> FsResult<Arc<dyn INode>> {
            Err(FsError::NoSpace)
        }

        fn link(&self, _name: &str, _other: &Arc<dyn INode>) -> FsResult<()> {
            Err(FsError::NotPermitted)
        }

        fn unlink(&self, _name: &str) -> FsResult<()> {
            Err(FsError::NotPermitted)
        }

        fn rmdir(&self, _name: &str) -> FsResult<()> {
            Err(FsError::NotPermitted)
        }

        fn move_(&self, _old: &str, _target: &Arc<dyn INode>, _new: &str) -> FsResult<()> {
            Err(FsError::NotPermitted)
        }

        fn as_any_ref(&self) -> &dyn Any {
            self
        }
    };
}

impl INode for DevINode {
    fn read_at(&self, _offset: usize, _buf: &mut [u8]) -> FsResult<usize> {
        match self.kind() {
            Kind::Dir => Err(FsError::IsDir),
            _ => Err(FsError::InvalidArgument),
        }
    }

    fn metadata(&self) -> FsResult<Metadata> {
        let inode = Self::inode_number(self.node);
        let (type_, rdev, size, mode) = match (self.kind(), self.entry()) {
            (Kind::Dir, entry) => (FileType::Dir, 0, 0, entry.map_or(0o755, |entry| entry.mode)),
            (Kind::Char(major, minor), Some(entry)) => (
                FileType::CharDevice,
                Device::dev_t(major, minor),
                0,
                entry.mode,
            ),
            (Kind::Link(target), _) => (FileType::SymLink, 0, target.len() as u64, 0o777),
            (Kind::Char(..), None) => return Err(FsError::Io),
        };
        Ok(node_metadata(
            DEVFS_DEV, inode, type_, mode, 0, 0, rdev, size, self.made,
        ))
    }

    fn chmod(&self, _mode: u16) -> FsResult<()> {
        Err(FsError::NotPermitted)
    }

    fn chown(&self, _uid: Option<u32>, _gid: Option<u32>) -> FsResult<()> {
        Err(FsError::NotPermitted)
    }

    fn find(&self, name: &str) -> FsResult<Arc<dyn INode>> {
        let node = self.node;
        let own_dir = match self.kind() {
            Kind::Dir => node,
            _ => return Err(FsError::NotDir),
        };
        match (own_dir, name) {
            (_, ".") => Ok(self.with_node(node)),
            (_, "..") | (None, "") => Ok(self.with_node(None)),
            (None, name) => {
                let index = ENTRIES
                    .iter()
                    .position(|entry| entry.name == name)
                    .ok_or(FsError::NotFound)?;
                Ok(self.with_node(Some(index)))
            }
            // `pts` and `shm` are empty (devpts is mounted over `pts`).
            (Some(_), _) => Err(FsError::NotFound),
        }
    }

    fn read_link(&self) -> FsResult<String> {
        match self.kind() {
            Kind::Link(target) => Ok(String::from(target)),
            _ => Err(FsError::InvalidArgument),
        }
    }

    fn list(&self) -> FsResult<Listing> {
        if self.kind() != Kind::Dir {
            return Err(FsError::NotDir);
        }
        let mut listing =
            Listing::with_dots(Self::inode_number(self.node), Self::inode_number(None))?;
        if self.node.is_none() {
            for (index, entry) in ENTRIES.iter().enumerate() {
                let type_ = match entry.kind {
                    Kind::Dir => FileType::Dir,
                    Kind::Char(..) => FileType::CharDevice,
                    Kind::Link(_) => FileType::SymLink,
                };
                listing.push(entry.name, Self::inode_number(Some(index)), type_)?;
            }
        }
        Ok(listing)
    }

    fn fs(&self) -> Arc<dyn FileSystem> {
        match &self.fs {
            Some(fs) => fs.clone(),
            None => DevFs::new(),
        }
    }

    fixed_tree!();
}

/// A container's devpts instance as a filesystem: `ptmx` and one node per live pty.
pub struct DevPtsFs {
    devpts: Arc<DevPts>,
    made: Timespec,
    this: Weak<DevPtsFs>,
}

impl DevPtsFs {
    /// The filesystem of `devpts`.
    pub fn new(devpts: Arc<DevPts>) -> Arc<Self> {
        Arc::new_cyclic(|this| Self {
            devpts,
            made: now(),
            this: this.clone(),
        })
    }

    /// The mount options Linux shows for it (`gid=5,mode=620,ptmxmode=666`, as container
    /// engines mount it).
    pub const OPTIONS: &'static str = "gid=5,mode=620,ptmxmode=666";
}

impl FileSystem for DevPtsFs {
    fn root_inode(&self) -> Arc<dyn INode> {
        Arc::new(PtsINode {
            fs: self.this.upgrade(),
            devpts: self.devpts.clone(),
            made: self.made,
            node: PtsNode::Root,
        })
    }

    fn sync(&self) -> FsResult<()> {
        Ok(())
    }

    fn info(&self) -> FsResult<FsInfo> {
        Ok(FsInfo::simple(DEVPTS_SUPER_MAGIC))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PtsNode {
    Root,
    Ptmx,
    Slave(u32),
}

/// A node of devpts.
struct PtsINode {
    fs: Option<Arc<DevPtsFs>>,
    devpts: Arc<DevPts>,
    made: Timespec,
    node: PtsNode,
}

impl PtsINode {
    fn with_node(&self, node: PtsNode) -> Arc<dyn INode> {
        Arc::new(PtsINode {
            fs: self.fs.clone(),
            devpts: self.devpts.clone(),
            made: self.made,
            node,
        })
    }

    /// Linux's devpts numbers: the root 1, `ptmx` 2, slave N at N + 3.
    fn inode_number(node: PtsNode) -> u64 {
        match node {
            PtsNode::Root => 1,
            PtsNode::Ptmx => 2,
            PtsNode::Slave(index) => u64::from(index) + 3,
        }
    }

    fn slave(&self, index: u32) -> FsResult<Arc<crate::tty::Pty>> {
        self.devpts.get(index).ok_or(FsError::NotFound)
    }
}

impl INode for PtsINode {
    fn read_at(&self, _offset: usize, _buf: &mut [u8]) -> FsResult<usize> {
        match self.node {
            PtsNode::Root => Err(FsError::IsDir),
            _ => Err(FsError::InvalidArgument),
        }
    }

    fn metadata(&self) -> FsResult<Metadata> {
        let inode = Self::inode_number(self.node);
        Ok(match self.node {
            PtsNode::Root => node_metadata(
                DEVPTS_DEV,
                inode,
                FileType::Dir,
                0o755,
                0,
                0,
                0,
                0,
                self.made,
            ),
            PtsNode::Ptmx => node_metadata(
                DEVPTS_DEV,
                inode,
                FileType::CharDevice,
                0o666,
                0,
                0,
                Device::dev_t(5, 2),
                0,
                self.made,
            ),
            PtsNode::Slave(index) => self.slave(index)?.slave_metadata(),
        })
    }

    fn chmod(&self, mode: u16) -> FsResult<()> {
        match self.node {
            PtsNode::Slave(index) => {
                self.slave(index)?.chmod(mode);
                Ok(())
            }
            _ => Err(FsError::NotPermitted),
        }
    }

    fn chown(&self, uid: Option<u32>, gid: Option<u32>) -> FsResult<()> {
        match self.node {
            PtsNode::Slave(index) => {
                self.slave(index)?.chown(uid, gid);
                Ok(())
            }
            _ => Err(FsError::NotPermitted),
        }
    }

    fn find(&self, name: &str) -> FsResult<Arc<dyn INode>> {
        if self.node != PtsNode::Root {
            return Err(FsError::NotDir);
        }
        match name {
            "." | ".." | "" => Ok(self.with_node(PtsNode::Root)),
            "ptmx" => Ok(self.with_node(PtsNode::Ptmx)),
            name => {
                // Only canonical decimal numbers name a slave ("01" does not).
                let index: u32 = name.parse().map_err(|_| FsError::NotFound)?;
                if alloc::format!("{index}") != name {
                    return Err(FsError::NotFound);
                }
                self.slave(index)?;
                Ok(self.with_node(PtsNode::Slave(index)))
            }
        }
    }

    fn read_link(&self) -> FsResult<String> {
        Err(FsError::InvalidArgument)
    }

    fn list(&self) -> FsResult<Listing> {
        if self.node != PtsNode::Root {
            return Err(FsError::NotDir);
        }
        let mut listing = Listing::with_dots(1, 1)?;
        for index in self.devpts.indices() {
            listing.push(
                &alloc::format!("{index}"),
                Self::inode_number(PtsNode::Slave(index)),
                FileType::CharDevice,
            )?;
        }
        listing.push("ptmx", 2, FileType::CharDevice)?;
        Ok(listing)
    }

    fn fs(&self) -> Arc<dyn FileSystem> {
        match &self.fs {
            Some(fs) => fs.clone(),
            None => DevPtsFs::new(self.devpts.clone()),
        }
    }

    fixed_tree!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::OpenFlags;

    #[test]
    fn dev_lists_only_rvisor_s_nodes() {
        let dev = DevFs::new().root_inode();
        let names: Vec<String> = dev.read_dir().map(|entry| entry.unwrap().name).collect();
        assert_eq!(
            names,
            [
                ".", "..", "console", "fd", "full", "null", "ptmx", "pts", "random", "shm",
                "stderr", "stdin", "stdout", "tty", "urandom", "zero"
            ]
        );
        let tty = dev.lookup("tty").unwrap().metadata().unwrap();
        assert_eq!(tty.rdev, Device::dev_t(5, 0));
        assert_eq!(dev.lookup("sda").err(), Some(FsError::NotFound));
        assert_eq!(dev.lookup("null/x").err(), Some(FsError::NotDir));
        let shm = dev.lookup("shm").unwrap().metadata().unwrap();
        assert_eq!((shm.type_, shm.mode), (FileType::Dir, 0o1777));
        assert_eq!(dev.fs().info().unwrap().magic, TMPFS_MAGIC);
    }

    #[test]
    fn devpts_shows_its_own_live_ptys() {
        let devpts = DevPts::new();
        let pts = DevPtsFs::new(devpts.clone()).root_inode();
        let node = pts.lookup("ptmx").unwrap().metadata().unwrap();
        let master = devpts
            .open_master(node, OpenFlags::RDWR, 1000, Timespec::default())
            .unwrap();
        let slave = pts.lookup("0").unwrap().metadata().unwrap();
        assert_eq!(
            (slave.rdev, slave.uid, slave.gid, slave.mode),
            (Device::dev_t(136, 0), 1000, 5, 0o620)
        );
        assert_eq!(pts.lookup("00").err(), Some(FsError::NotFound));
        let other = DevPtsFs::new(DevPts::new()).root_inode();
        assert_eq!(other.lookup("0").err(), Some(FsError::NotFound));
        let names: Vec<String> = pts.read_dir().map(|entry| entry.unwrap().name).collect();
        assert_eq!(names, [".", "..", "0", "ptmx"]);
        drop(master);
        assert_eq!(pts.lookup("0").err(), Some(FsError::NotFound));
    }
}
