//! procfs served by rVisor: `/proc` of a container, rendered from rVisor's own state (its
//! process table, fd tables, mounts) and from the [`SystemView`] of the host tasks behind
//! them — never the host's `/proc`. Pids, uids and times are the container's: its first
//! process is pid 1 and its uptime starts when it was made.
//!
//! Every file is rendered whole when read (as Linux's `seq_file` renders a record at a
//! time), and a read at an offset takes the bytes from there.
//!
//! ```
//! use kernel_hostfs::{FileSystem, HostFs, INode};
//! use linux_object::container::Container;
//! use linux_object::procfs::ProcFs;
//! # let dir = std::env::temp_dir().join(format!("linux-object-doc-procfs-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let memory = kernel_hal_lkm::platform().unwrap().new_physical_memory(16).unwrap();
//! let container = Container::new(7, HostFs::new(&dir)?.root_inode(), memory);
//! let init = container.spawn_init("/sbin/init".into())?;
//! let proc = ProcFs::new(&container).root_inode();
//!
//! let status = proc.lookup("1/status")?;
//! let mut text = [0u8; 64];
//! let len = status.read_at(0, &mut text)?;
//! assert!(text[..len].starts_with(b"Name:\tinit\n"));
//! assert_eq!(proc.lookup("2").err(), Some(kernel_hostfs::FsError::NotFound));
//! # drop(init);
//! # Ok::<(), linux_object::LxError>(())
//! ```

mod render;
mod view;

pub use view::{CpuInfo, MachineInfo, NoView, SystemView, TaskMemory, TaskStat};

use crate::container::{Container, Pid};
use crate::credentials::Credentials;
use crate::process::LinuxProcess;
use alloc::format;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use kernel_hal_lkm::platform;
use kernel_hal_lkm::sync::Mutex;
use kernel_hostfs::{
    FileSystem, FileType, FsError, FsInfo, FsResult, INode, Listing, Metadata, PathParent,
    TimeUpdate, Timespec,
};

/// Which of rVisor's synthesized filesystems a tree is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tree {
    /// procfs: the system files and the processes.
    Proc,
    /// sysfs: the few files programs read to learn the machine's processors.
    Sys,
}

impl Tree {
    /// The static entries of the root.
    fn entries(self) -> &'static [Entry] {
        match self {
            Self::Proc => PROC_ENTRIES,
            Self::Sys => SYS_ENTRIES,
        }
    }

    /// `f_type`: `PROC_SUPER_MAGIC` or `SYSFS_MAGIC`.
    fn magic(self) -> u64 {
        match self {
            Self::Proc => 0x9fa0,
            Self::Sys => 0x6265_6572,
        }
    }

    /// The device number its objects report (anonymous devices, as Linux's).
    fn dev(self) -> u64 {
        match self {
            Self::Proc => crate::fs::pseudo_fs_dev(0),
            Self::Sys => crate::fs::pseudo_fs_dev(1),
        }
    }
}

/// A container's procfs (or sysfs: see [`ProcFs::new_sysfs`]).
pub struct ProcFs {
    container: Weak<Container>,
    tree: Tree,
    /// Itself, for [`INode::fs`].
    this: Weak<ProcFs>,
}

impl ProcFs {
    /// The procfs of `container`.
    pub fn new(container: &Arc<Container>) -> Arc<Self> {
        Self::with_tree(container, Tree::Proc)
    }

    /// The sysfs of `container`: read-only, and only what programs read to learn the
    /// machine (`devices/system/cpu/{online,possible,present}`) and an empty `fs/cgroup`.
    pub fn new_sysfs(container: &Arc<Container>) -> Arc<Self> {
        Self::with_tree(container, Tree::Sys)
    }

    fn with_tree(container: &Arc<Container>, tree: Tree) -> Arc<Self> {
        Arc::new_cyclic(|this| Self {
            container: Arc::downgrade(container),
            tree,
            this: this.clone(),
        })
    }

    fn node(&self, node: Node) -> Arc<dyn INode> {
        Arc::new(ProcINode::new(
            self.this.upgrade(),
            self.container.clone(),
            self.tree,
            node,
        ))
    }
}

impl FileSystem for ProcFs {
    fn root_inode(&self) -> Arc<dyn INode> {
        self.node(Node::Root)
    }

    fn sync(&self) -> FsResult<()> {
        Ok(())
    }

    fn info(&self) -> FsResult<FsInfo> {
        Ok(FsInfo::simple(self.tree.magic()))
    }
}

/// A file of a process's directory (also of `task/TID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PidFile {
    Stat,
    Status,
    Statm,
    Cmdline,
    Environ,
    Comm,
    Mounts,
    MountInfo,
    Cgroup,
    OomScoreAdj,
    LoginUid,
    Maps,
    Limits,
}

/// A symbolic link of a process's directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PidLink {
    Exe,
    Cwd,
    Root,
}

/// A namespace of `/proc/PID/ns/`, in Linux's order there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NsKind {
    Net,
    Uts,
    Ipc,
    Pid,
    PidForChildren,
    User,
    Mnt,
    Cgroup,
    Time,
    TimeForChildren,
}

/// The entries of `/proc/PID/ns/`.
const NS_ENTRIES: &[(&str, NsKind)] = &[
    ("net", NsKind::Net),
    ("uts", NsKind::Uts),
    ("ipc", NsKind::Ipc),
    ("pid", NsKind::Pid),
    ("pid_for_children", NsKind::PidForChildren),
    ("user", NsKind::User),
    ("mnt", NsKind::Mnt),
    ("cgroup", NsKind::Cgroup),
    ("time", NsKind::Time),
    ("time_for_children", NsKind::TimeForChildren),
];

/// `nsfs`'s device number (an anonymous device, as Linux's usually is: `0:4`).
const NSFS_DEV: u64 = 4;

impl NsKind {
    /// The type name its link shows (`pid` for `pid_for_children` too).
    fn label(self) -> &'static str {
        match self {
            Self::Net => "net",
            Self::Uts => "uts",
            Self::Ipc => "ipc",
            Self::Pid | Self::PidForChildren => "pid",
            Self::User => "user",
            Self::Mnt => "mnt",
            Self::Cgroup => "cgroup",
            Self::Time | Self::TimeForChildren => "time",
        }
    }

    /// The namespace's inode number for the processes of container `id`. Every process of
    /// a container shares one of each (and a child the same `*_for_children`), and no two
    /// containers share one, but the user namespace, which is the host's first: rVisor
    /// gives a container no ids of its own (Linux's `PROC_USER_INIT_INO`).
    fn inode_number(self, id: u64) -> u32 {
        let index = match self {
            Self::Net => 0,
            Self::Uts => 1,
            Self::Ipc => 2,
            Self::Pid | Self::PidForChildren => 3,
            Self::User => return 0xEFFF_FFFD,
            Self::Mnt => 4,
            Self::Cgroup => 5,
            Self::Time | Self::TimeForChildren => 6,
        };
        // Above the numbers Linux hands out first (from 0xF0000000), in a block per
        // container.
        0xF010_0000u32
            .wrapping_add((id as u32).wrapping_mul(8))
            .wrapping_add(index)
    }
}

/// The entries of a process's directory (and of a thread's, `task` aside).
const PID_ENTRIES: &[(&str, PidEntry)] = &[
    ("cgroup", PidEntry::File(PidFile::Cgroup)),
    ("cmdline", PidEntry::File(PidFile::Cmdline)),
    ("comm", PidEntry::File(PidFile::Comm)),
    ("cwd", PidEntry::Link(PidLink::Cwd)),
    ("environ", PidEntry::File(PidFile::Environ)),
    ("exe", PidEntry::Link(PidLink::Exe)),
    ("fd", PidEntry::Fds),
    ("fdinfo", PidEntry::FdInfos),
    ("limits", PidEntry::File(PidFile::Limits)),
    ("loginuid", PidEntry::File(PidFile::LoginUid)),
    ("maps", PidEntry::File(PidFile::Maps)),
    ("mountinfo", PidEntry::File(PidFile::MountInfo)),
    ("mounts", PidEntry::File(PidFile::Mounts)),
    ("ns", PidEntry::Nss),
    ("oom_score_adj", PidEntry::File(PidFile::OomScoreAdj)),
    ("root", PidEntry::Link(PidLink::Root)),
    ("stat", PidEntry::File(PidFile::Stat)),
    ("statm", PidEntry::File(PidFile::Statm)),
    ("status", PidEntry::File(PidFile::Status)),
    ("task", PidEntry::Tasks),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PidEntry {
    File(PidFile),
    Link(PidLink),
    Fds,
    FdInfos,
    Tasks,
    Nss,
}

/// A system-wide file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SysFile {
    Uptime,
    LoadAvg,
    MemInfo,
    Stat,
    Version,
    Filesystems,
    CpuInfo,
    /// A constant value, with its newline.
    Value(&'static str),
    OsRelease,
    Hostname,
    Uuid,
    BootId,
    /// `devices/system/cpu/online`, as a CPU list.
    CpusOnline,
    /// `devices/system/cpu/possible` (and `present`).
    CpusPossible,
}

/// An entry of the static part of the tree.
struct Entry {
    name: &'static str,
    kind: EntryKind,
}

enum EntryKind {
    Dir(&'static [Entry]),
    File(SysFile),
    Link(&'static str),
}

const fn file(name: &'static str, file: SysFile) -> Entry {
    Entry {
        name,
        kind: EntryKind::File(file),
    }
}

const fn dir(name: &'static str, entries: &'static [Entry]) -> Entry {
    Entry {
        name,
        kind: EntryKind::Dir(entries),
    }
}

/// `/sys`.
static SYS_ENTRIES: &[Entry] = &[
    dir(
        "devices",
        &[dir(
            "system",
            &[dir(
                "cpu",
                &[
                    file("online", SysFile::CpusOnline),
                    file("possible", SysFile::CpusPossible),
                    file("present", SysFile::CpusPossible),
                ],
            )],
        )],
    ),
    dir("fs", &[dir("cgroup", &[])]),
];

/// `/proc` without the processes and `self`.
static PROC_ENTRIES: &[Entry] = &[
    file("cpuinfo", SysFile::CpuInfo),
    file("filesystems", SysFile::Filesystems),
    file("loadavg", SysFile::LoadAvg),
    file("meminfo", SysFile::MemInfo),
    Entry {
        name: "mounts",
        kind: EntryKind::Link("self/mounts"),
    },
    file("stat", SysFile::Stat),
    dir(
        "sys",
        &[
            dir(
                "fs",
                &[
                    file("file-max", SysFile::Value("9223372036854775807\n")),
                    file("nr_open", SysFile::Value("1048576\n")),
                    file("pipe-max-size", SysFile::Value("1048576\n")),
                ],
            ),
            dir(
                "kernel",
                &[
                    file("cap_last_cap", SysFile::Value("40\n")),
                    file("hostname", SysFile::Hostname),
                    file("ngroups_max", SysFile::Value("65536\n")),
                    file("osrelease", SysFile::OsRelease),
                    file("ostype", SysFile::Value("Linux\n")),
                    file("overflowgid", SysFile::Value("65534\n")),
                    file("overflowuid", SysFile::Value("65534\n")),
                    file("pid_max", SysFile::Value("32768\n")),
                    dir(
                        "random",
                        &[
                            file("boot_id", SysFile::BootId),
                            file("uuid", SysFile::Uuid),
                        ],
                    ),
                    file("tainted", SysFile::Value("0\n")),
                ],
            ),
            dir(
                "net",
                &[dir("core", &[file("somaxconn", SysFile::Value("4096\n"))])],
            ),
            dir(
                "vm",
                &[
                    file("max_map_count", SysFile::Value("65530\n")),
                    file("overcommit_memory", SysFile::Value("0\n")),
                ],
            ),
        ],
    ),
    file("uptime", SysFile::Uptime),
    file("version", SysFile::Version),
];

/// What a procfs inode is.
#[derive(Clone, Copy)]
enum Node {
    Root,
    /// `/proc/self` or `/proc/thread-self`.
    SelfLink {
        thread: bool,
    },
    /// A directory or file of the static tree; `parent` is its directory's (`None`: the
    /// root's).
    Static {
        entry: &'static Entry,
        parent: Option<&'static Entry>,
    },
    /// `/proc/PID`, or `/proc/PID/task/TID` with `tid`.
    Process {
        pid: Pid,
        tid: Option<Pid>,
    },
    /// A file of one.
    File {
        pid: Pid,
        tid: Option<Pid>,
        file: PidFile,
    },
    /// A link of one.
    Link {
        pid: Pid,
        tid: Option<Pid>,
        link: PidLink,
    },
    /// `fd/` of one (`fdinfo/` with `info`).
    Fds {
        pid: Pid,
        tid: Option<Pid>,
        info: bool,
    },
    /// `fd/N` (a link), or `fdinfo/N` (a file) with `info`.
    Fd {
        pid: Pid,
        tid: Option<Pid>,
        fd: i32,
        info: bool,
    },
    /// `task/` of a process.
    Tasks {
        pid: Pid,
    },
    /// `ns/` of a process.
    Nss {
        pid: Pid,
        tid: Option<Pid>,
    },
    /// `ns/NAME`: a link to the namespace.
    Ns {
        pid: Pid,
        tid: Option<Pid>,
        kind: NsKind,
    },
    /// A namespace itself, where an `ns/NAME` link leads (an `nsfs` file).
    Namespace {
        kind: NsKind,
    },
}

/// One object of a container's procfs.
struct ProcINode {
    fs: Option<Arc<ProcFs>>,
    container: Weak<Container>,
    tree: Tree,
    node: Node,
    /// The file's text as its first read (at offset 0) rendered it: the reads that follow
    /// take it from here, as from Linux's `seq_file` buffer, so a file is one snapshot and
    /// the read that finds its end renders nothing. Every lookup makes a new inode, so this
    /// is per open file.
    rendered: Mutex<Option<Vec<u8>>>,
}

impl ProcINode {
    fn new(fs: Option<Arc<ProcFs>>, container: Weak<Container>, tree: Tree, node: Node) -> Self {
        Self {
            fs,
            container,
            tree,
            node,
            rendered: Mutex::new(None),
        }
    }

    fn container(&self) -> FsResult<Arc<Container>> {
        self.container.upgrade().ok_or(FsError::NotFound)
    }

    fn with_node(&self, node: Node) -> Arc<dyn INode> {
        Arc::new(ProcINode::new(
            self.fs.clone(),
            self.container.clone(),
            self.tree,
            node,
        ))
    }

    /// The process `pid` (any of its threads' ids for `/proc/TID`), alive or a zombie.
    fn process(&self, pid: Pid) -> FsResult<Arc<LinuxProcess>> {
        self.container()?.process(pid).ok_or(FsError::NotFound)
    }

    /// The calling thread: `(pid, tid)`.
    fn caller(&self) -> FsResult<(Pid, Pid)> {
        self.container()?.view().caller().ok_or(FsError::NotFound)
    }

    /// `path`, an absolute path inside the container, as the caller's `d_path` names it:
    /// relative to the root the caller changed to (`chroot`), if any. Other link targets
    /// (`pipe:[…]`) are left alone.
    fn seen_by_caller(&self, path: String) -> FsResult<String> {
        if !path.starts_with('/') {
            return Ok(path);
        }
        let (pid, _) = self.caller()?;
        let root = self.process(pid)?.root();
        let shown = root.show(&path);
        Ok(if shown.len() == path.len() {
            path
        } else {
            String::from(shown)
        })
    }

    /// The caller's credentials, for the checks Linux makes with `ptrace_may_access`.
    fn caller_credentials(&self) -> FsResult<Credentials> {
        let (pid, _) = self.caller()?;
        Ok(self.process(pid)?.credentials())
    }

    /// Whether the caller may see `target`'s private parts (`fd/`, `environ`, the links):
    /// the same user, or root (Linux's `PTRACE_MODE_READ_FSCREDS`, capabilities aside).
    fn may_inspect(&self, target: &LinuxProcess) -> FsResult<()> {
        let caller = self.caller_credentials()?;
        let target = target.credentials();
        let same_user = caller.fsuid == target.uid
            && caller.fsuid == target.euid
            && caller.fsuid == target.suid;
        if caller.euid == 0 || same_user {
            Ok(())
        } else {
            Err(FsError::AccessDenied)
        }
    }

    /// A stable inode number for the node.
    fn inode_number(&self) -> u64 {
        let per_pid = |pid: Pid, tid: Option<Pid>, kind: u64| {
            (u64::from(tid.unwrap_or(pid)) << 16) | (u64::from(tid.is_some()) << 15) | kind
        };
        match self.node {
            Node::Root => 1,
            Node::SelfLink { thread } => 2 + u64::from(thread),
            Node::Static { entry, .. } => 0x1000 + (entry as *const Entry as u64 & 0xffff) / 8,
            Node::Process { pid, tid } => per_pid(pid, tid, 1),
            Node::File { pid, tid, file } => per_pid(pid, tid, 16 + file as u64),
            Node::Link { pid, tid, link } => per_pid(pid, tid, 48 + link as u64),
            Node::Fds { pid, tid, info } => per_pid(pid, tid, 2 + 2 * u64::from(info)),
            Node::Tasks { pid } => per_pid(pid, None, 3),
            Node::Nss { pid, tid } => per_pid(pid, tid, 5),
            Node::Ns { pid, tid, kind } => per_pid(pid, tid, 64 + kind as u64),
            Node::Namespace { kind } => self
                .container
                .upgrade()
                .map_or(0, |container| u64::from(kind.inode_number(container.id()))),
            Node::Fd { pid, tid, fd, info } => {
                ((1 + u64::from(info)) << 40)
                    | (u64::from(tid.unwrap_or(pid)) << 20)
                    | (fd as u64 & 0xf_ffff)
            }
        }
    }

    fn type_(&self) -> FileType {
        match self.node {
            Node::Root
            | Node::Process { .. }
            | Node::Fds { .. }
            | Node::Tasks { .. }
            | Node::Nss { .. } => FileType::Dir,
            Node::Fd { info: true, .. } => FileType::File,
            Node::SelfLink { .. } | Node::Link { .. } | Node::Fd { .. } | Node::Ns { .. } => {
                FileType::SymLink
            }
            Node::File { .. } | Node::Namespace { .. } => FileType::File,
            Node::Static { entry, .. } => match entry.kind {
                EntryKind::Dir(_) => FileType::Dir,
                EntryKind::File(_) => FileType::File,
                EntryKind::Link(_) => FileType::SymLink,
            },
        }
    }

    /// The node of entry `name` of this directory.
    fn child(&self, name: &str) -> FsResult<Node> {
        match self.node {
            Node::Root if self.tree == Tree::Sys => static_child(SYS_ENTRIES, None, name),
            Node::Root => {
                if name == "self" || name == "thread-self" {
                    return Ok(Node::SelfLink {
                        thread: name == "thread-self",
                    });
                }
                if let Ok(pid) = name.parse::<Pid>() {
                    if name.starts_with('0') || name.starts_with('+') {
                        return Err(FsError::NotFound);
                    }
                    let process = self.process(pid)?;
                    // `/proc/TID` of a thread that leads no group is reachable, unlisted.
                    return Ok(Node::Process {
                        pid: process.pid(),
                        tid: None,
                    })
                    .map(|node| match node {
                        Node::Process { pid: leader, .. } if leader != pid => Node::Process {
                            pid: leader,
                            tid: Some(pid),
                        },
                        node => node,
                    });
                }
                static_child(PROC_ENTRIES, None, name)
            }
            Node::Static { entry, .. } => match entry.kind {
                EntryKind::Dir(entries) => static_child(entries, Some(entry), name),
                _ => Err(FsError::NotDir),
            },
            Node::Process { pid, tid } => {
                let (_, entry) = PID_ENTRIES
                    .iter()
                    .find(|(entry, _)| *entry == name)
                    .ok_or(FsError::NotFound)?;
                Ok(match *entry {
                    PidEntry::File(file) => Node::File { pid, tid, file },
                    PidEntry::Link(link) => Node::Link { pid, tid, link },
                    PidEntry::Fds => Node::Fds {
                        pid,
                        tid,
                        info: false,
                    },
                    PidEntry::FdInfos => Node::Fds {
                        pid,
                        tid,
                        info: true,
                    },
                    PidEntry::Tasks if tid.is_none() => Node::Tasks { pid },
                    PidEntry::Tasks => return Err(FsError::NotFound),
                    PidEntry::Nss => Node::Nss { pid, tid },
                })
            }
            Node::Nss { pid, tid } => {
                let (_, kind) = NS_ENTRIES
                    .iter()
                    .find(|(entry, _)| *entry == name)
                    .ok_or(FsError::NotFound)?;
                Ok(Node::Ns {
                    pid,
                    tid,
                    kind: *kind,
                })
            }
            Node::Tasks { pid } => {
                let tid = name.parse::<Pid>().map_err(|_| FsError::NotFound)?;
                let threads = self.process(pid)?.threads();
                if !threads.contains(&tid) || name.starts_with(['0', '+']) {
                    return Err(FsError::NotFound);
                }
                Ok(Node::Process {
                    pid,
                    tid: Some(tid),
                })
            }
            Node::Fds { pid, tid, info } => {
                let process = self.process(pid)?;
                self.may_inspect(&process)?;
                let fd = name.parse::<i32>().map_err(|_| FsError::NotFound)?;
                if name.starts_with(['0', '+']) && name != "0" {
                    return Err(FsError::NotFound);
                }
                process.files().get(fd).map_err(|_| FsError::NotFound)?;
                Ok(Node::Fd { pid, tid, fd, info })
            }
            _ => Err(FsError::NotDir),
        }
    }

    /// This directory's entries, `.` and `..` aside.
    fn entries(&self) -> FsResult<Vec<(String, Node)>> {
        let mut entries = Vec::new();
        let mut push = |name: String, node: Node| -> FsResult<()> {
            entries.try_reserve(1).map_err(|_| FsError::NoMemory)?;
            entries.push((name, node));
            Ok(())
        };
        match self.node {
            Node::Root => {
                for entry in self.tree.entries() {
                    push(
                        entry.name.into(),
                        Node::Static {
                            entry,
                            parent: None,
                        },
                    )?;
                }
                if self.tree == Tree::Sys {
                    return Ok(entries);
                }
                push("self".into(), Node::SelfLink { thread: false })?;
                push("thread-self".into(), Node::SelfLink { thread: true })?;
                for pid in self.container()?.pids() {
                    push(format!("{pid}"), Node::Process { pid, tid: None })?;
                }
            }
            Node::Static { entry, .. } => {
                let EntryKind::Dir(children) = entry.kind else {
                    return Err(FsError::NotDir);
                };
                for child in children {
                    let node = Node::Static {
                        entry: child,
                        parent: Some(entry),
                    };
                    push(child.name.into(), node)?;
                }
            }
            Node::Process { tid, .. } => {
                for (name, _) in PID_ENTRIES {
                    if *name == "task" && tid.is_some() {
                        continue;
                    }
                    let node = self.child(name)?;
                    push((*name).into(), node)?;
                }
            }
            Node::Tasks { pid } => {
                for tid in self.process(pid)?.threads() {
                    push(
                        format!("{tid}"),
                        Node::Process {
                            pid,
                            tid: Some(tid),
                        },
                    )?;
                }
            }
            Node::Nss { pid, tid } => {
                for (name, kind) in NS_ENTRIES {
                    let kind = *kind;
                    push((*name).into(), Node::Ns { pid, tid, kind })?;
                }
            }
            Node::Fds { pid, tid, info } => {
                let process = self.process(pid)?;
                self.may_inspect(&process)?;
                let fds: Vec<i32> = process.files().open_fds().collect();
                for fd in fds {
                    push(format!("{fd}"), Node::Fd { pid, tid, fd, info })?;
                }
            }
            _ => return Err(FsError::NotDir),
        }
        Ok(entries)
    }

    /// The directory this node is in (the root's is the root).
    fn parent(&self) -> Node {
        match self.node {
            Node::Root | Node::SelfLink { .. } => Node::Root,
            Node::Static { parent, .. } => match parent {
                Some(entry) => Node::Static {
                    entry,
                    // Only the node's own parent matters for `..`; its grandparent is found
                    // again from the root when climbing further.
                    parent: static_parent_of(self.tree, entry),
                },
                None => Node::Root,
            },
            Node::Process { tid: None, .. } => Node::Root,
            Node::Process { pid, tid: Some(_) } => Node::Tasks { pid },
            Node::File { pid, tid, .. }
            | Node::Link { pid, tid, .. }
            | Node::Fds { pid, tid, .. }
            | Node::Nss { pid, tid } => Node::Process { pid, tid },
            Node::Ns { pid, tid, .. } => Node::Nss { pid, tid },
            // A namespace is in no directory of procfs; as nsfs's root, its own.
            Node::Namespace { kind } => Node::Namespace { kind },
            Node::Tasks { pid } => Node::Process { pid, tid: None },
            Node::Fd { pid, tid, info, .. } => Node::Fds { pid, tid, info },
        }
    }

    /// The text of this file.
    fn render(&self) -> FsResult<Vec<u8>> {
        let container = self.container()?;
        let text = match self.node {
            Node::Static { entry, .. } => match entry.kind {
                EntryKind::File(file) => render::system_file(&container, file)?,
                EntryKind::Dir(_) => return Err(FsError::IsDir),
                EntryKind::Link(_) => return Err(FsError::InvalidArgument),
            },
            Node::File { pid, tid, file } => {
                let process = self.process(pid)?;
                if matches!(file, PidFile::Environ | PidFile::Maps) {
                    self.may_inspect(&process)?;
                }
                render::process_file(&container, &process, tid, file)?
            }
            Node::Root
            | Node::Process { .. }
            | Node::Fds { .. }
            | Node::Tasks { .. }
            | Node::Nss { .. } => return Err(FsError::IsDir),
            // An nsfs file opens but has nothing to read.
            Node::Namespace { .. } => return Err(FsError::InvalidArgument),
            Node::Fd {
                pid,
                fd,
                info: true,
                ..
            } => {
                let process = self.process(pid)?;
                self.may_inspect(&process)?;
                render::fd_info(&container, &process, fd)?
            }
            Node::SelfLink { .. } | Node::Link { .. } | Node::Fd { .. } | Node::Ns { .. } => {
                return Err(FsError::InvalidArgument)
            }
        };
        Ok(text)
    }

    /// The owner of the node: a process's effective ids for its directory and what is in
    /// it (as Linux's `pid_revalidate`), root for the rest.
    fn owner(&self) -> (u32, u32) {
        let pid = match self.node {
            Node::Process { pid, .. }
            | Node::File { pid, .. }
            | Node::Link { pid, .. }
            | Node::Fds { pid, .. }
            | Node::Fd { pid, .. }
            | Node::Tasks { pid }
            | Node::Nss { pid, .. }
            | Node::Ns { pid, .. } => pid,
            _ => return (0, 0),
        };
        match self.process(pid) {
            Ok(process) => {
                let credentials = process.credentials();
                (credentials.euid, credentials.egid)
            }
            Err(_) => (0, 0),
        }
    }

    fn mode(&self) -> u16 {
        match self.node {
            Node::Root | Node::Process { .. } | Node::Tasks { .. } => 0o555,
            Node::Fds { .. } => 0o500,
            Node::Nss { .. } => 0o511,
            Node::SelfLink { .. } | Node::Link { .. } | Node::Ns { .. } => 0o777,
            Node::Namespace { .. } => 0o444,
            Node::Fd { info: true, .. } => 0o444,
            Node::Fd { .. } => 0o700,
            Node::File { file, .. } => match file {
                PidFile::Environ => 0o400,
                PidFile::Comm | PidFile::OomScoreAdj | PidFile::LoginUid => 0o644,
                _ => 0o444,
            },
            Node::Static { entry, .. } => match entry.kind {
                EntryKind::Dir(_) => 0o555,
                EntryKind::Link(_) => 0o777,
                EntryKind::File(SysFile::Hostname) => 0o644,
                EntryKind::File(_) => 0o444,
            },
        }
    }
}

/// Where a magic link leads, if `link` is one: `/proc/PID/fd/N` to the open file
/// description (opening the link opens its object even when no path leads to it: a pipe, a
/// socket, an unlinked file), `/proc/PID/ns/NAME` to the namespace, as Linux's magic links
/// do. `EACCES` where the caller may not inspect the process, `ENOENT` if the descriptor
/// was closed meanwhile.
pub fn magic_link_target(link: &dyn INode) -> Option<FsResult<MagicTarget>> {
    let proc_inode = link.downcast_ref::<ProcINode>()?;
    match proc_inode.node {
        Node::Fd {
            pid,
            fd,
            info: false,
            ..
        } => Some((|| {
            let process = proc_inode.process(pid)?;
            proc_inode.may_inspect(&process)?;
            let file = process.files().get(fd).map_err(|_| FsError::NotFound)?;
            Ok(MagicTarget::File(file))
        })()),
        Node::Ns { pid, kind, .. } => Some((|| {
            let process = proc_inode.process(pid)?;
            proc_inode.may_inspect(&process)?;
            Ok(MagicTarget::Object(
                proc_inode.with_node(Node::Namespace { kind }),
            ))
        })()),
        _ => None,
    }
}

/// Where a magic link of procfs leads.
pub enum MagicTarget {
    /// An open file description (`fd/N`).
    File(Arc<dyn crate::fs::FileLike>),
    /// An object no path names (a namespace, from `ns/NAME`).
    Object(Arc<dyn INode>),
}

/// Entry `name` of the static directory `entries`, whose own entry is `dir`.
fn static_child(
    entries: &'static [Entry],
    dir: Option<&'static Entry>,
    name: &str,
) -> FsResult<Node> {
    entries
        .iter()
        .find(|entry| entry.name == name)
        .map(|entry| Node::Static { entry, parent: dir })
        .ok_or(FsError::NotFound)
}

/// The directory holding the static entry `target` of `tree` (`None`: the root).
fn static_parent_of(tree: Tree, target: &'static Entry) -> Option<&'static Entry> {
    fn search(
        entries: &'static [Entry],
        dir: Option<&'static Entry>,
        target: &'static Entry,
    ) -> Option<Option<&'static Entry>> {
        for entry in entries {
            if core::ptr::eq(entry, target) {
                return Some(dir);
            }
            if let EntryKind::Dir(children) = entry.kind {
                if let Some(found) = search(children, Some(entry), target) {
                    return Some(found);
                }
            }
        }
        None
    }
    search(tree.entries(), None, target).flatten()
}

impl INode for ProcINode {
    fn read_at(&self, offset: usize, buf: &mut [u8]) -> FsResult<usize> {
        let mut rendered = self.rendered.lock();
        if offset == 0 || rendered.is_none() {
            *rendered = Some(self.render()?);
        }
        let text = rendered.as_deref().unwrap_or_default();
        let rest = text.get(offset..).unwrap_or_default();
        let len = rest.len().min(buf.len());
        buf.get_mut(..len)
            .ok_or(FsError::Io)?
            .copy_from_slice(rest.get(..len).unwrap_or_default());
        Ok(len)
    }

    fn write_at(&self, _offset: usize, buf: &[u8]) -> FsResult<usize> {
        // What is read next shows the write.
        *self.rendered.lock() = None;
        let lx = |error: crate::error::LxError| FsError::from_errno(error.errno());
        match self.node {
            Node::File {
                pid,
                tid,
                file: PidFile::Comm,
            } => {
                // Linux's `comm_write`: only the caller's own threads, EINVAL for the rest.
                let (caller, _) = self.caller()?;
                if self.process(pid)?.pid() != caller {
                    return Err(FsError::InvalidArgument);
                }
                let view = self.container()?.view();
                view.set_comm(tid.unwrap_or(pid), buf).map_err(lx)?;
                Ok(buf.len())
            }
            Node::File {
                pid,
                file: PidFile::OomScoreAdj,
                ..
            } => {
                let value = core::str::from_utf8(buf)
                    .ok()
                    .and_then(|text| text.trim().parse::<i32>().ok())
                    .ok_or(FsError::InvalidArgument)?;
                let view = self.container()?.view();
                view.set_oom_score_adj(pid, value).map_err(lx)?;
                Ok(buf.len())
            }
            Node::Root | Node::Process { .. } | Node::Fds { .. } | Node::Tasks { .. } => {
                Err(FsError::IsDir)
            }
            // A file without a write operation: Linux's `vfs_write` on it fails this way.
            // What a container may write (`comm`, `oom_score_adj`) is not served yet, and
            // is refused the same way rather than silently dropped.
            _ => Err(FsError::Io),
        }
    }

    fn metadata(&self) -> FsResult<Metadata> {
        let (uid, gid) = self.owner();
        let now = platform().map(|p| p.realtime_now()).unwrap_or_default();
        let time = Timespec {
            sec: i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
            nsec: i64::from(now.subsec_nanos()),
        };
        let type_ = self.type_();
        let nlinks = match self.node {
            Node::Root if self.tree == Tree::Proc => {
                2 + self.container().map_or(0, |c| c.pids().len() as u64)
            }
            _ if type_ == FileType::Dir => 2,
            _ => 1,
        };
        let size = match self.node {
            Node::SelfLink { .. }
            | Node::Link { .. }
            | Node::Fd { info: false, .. }
            | Node::Ns { .. } => self.read_link().map_or(0, |target| target.len() as u64),
            Node::Static {
                entry:
                    Entry {
                        kind: EntryKind::Link(target),
                        ..
                    },
                ..
            } => target.len() as u64,
            _ => 0,
        };
        let dev = match self.node {
            Node::Namespace { .. } => NSFS_DEV,
            _ => self.tree.dev(),
        };
        Ok(Metadata {
            dev,
            inode: self.inode_number(),
            size,
            blk_size: 1024,
            blocks: 0,
            type_,
            mode: self.mode(),
            nlinks,
            uid,
            gid,
            rdev: 0,
            atime: time,
            mtime: time,
            ctime: time,
        })
    }

    fn chmod(&self, _mode: u16) -> FsResult<()> {
        Err(FsError::NotPermitted)
    }

    fn chown(&self, _uid: Option<u32>, _gid: Option<u32>) -> FsResult<()> {
        Err(FsError::NotPermitted)
    }

    fn set_times(&self, _atime: TimeUpdate, _mtime: TimeUpdate) -> FsResult<()> {
        Err(FsError::NotPermitted)
    }

    fn resize(&self, _len: usize) -> FsResult<()> {
        // `O_TRUNC` of a procfs file changes nothing and succeeds, as on Linux.
        Ok(())
    }

    fn sync_all(&self) -> FsResult<()> {
        Ok(())
    }

    fn sync_data(&self) -> FsResult<()> {
        Ok(())
    }

    fn find(&self, name: &str) -> FsResult<Arc<dyn INode>> {
        if self.type_() != FileType::Dir {
            return Err(FsError::NotDir);
        }
        match name {
            "." => Ok(self.with_node(self.node)),
            ".." => Ok(self.with_node(self.parent())),
            name => Ok(self.with_node(self.child(name)?)),
        }
    }

    fn lookup_follow(&self, path: &str, _follow_last: bool) -> FsResult<Arc<dyn INode>> {
        // Names alone, as a filesystem is asked from the outside; the syscall layer's walk
        // follows links and crosses mounts itself.
        let mut current: Arc<dyn INode> = self.with_node(if path.starts_with('/') {
            Node::Root
        } else {
            self.node
        });
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
            None => (self.with_node(self.node), trimmed),
        };
        Ok(PathParent {
            dir,
            name: String::from(if name.is_empty() { "." } else { name }),
            must_be_dir: trimmed.len() < path.len(),
        })
    }

    fn create(&self, _name: &str, _type: FileType, _mode: u16) -> FsResult<Arc<dyn INode>> {
        // procfs makes no entries: Linux's lookup leaves the name negative and the create
        // fails with it.
        Err(FsError::NotFound)
    }

    fn symlink(&self, _name: &str, _target: &str) -> FsResult<Arc<dyn INode>> {
        Err(FsError::NotPermitted)
    }

    fn read_link(&self) -> FsResult<String> {
        match self.node {
            Node::SelfLink { thread } => {
                let (pid, tid) = self.caller()?;
                Ok(if thread {
                    format!("{pid}/task/{tid}")
                } else {
                    format!("{pid}")
                })
            }
            Node::Static {
                entry:
                    Entry {
                        kind: EntryKind::Link(target),
                        ..
                    },
                ..
            } => Ok(String::from(*target)),
            Node::Link { pid, link, .. } => {
                let process = self.process(pid)?;
                self.may_inspect(&process)?;
                if process.exit_status().is_some() {
                    return Err(FsError::NotFound);
                }
                let path = match link {
                    PidLink::Exe => process.exec_path(),
                    PidLink::Cwd => process.cwd().path,
                    PidLink::Root => process.root().path.clone(),
                };
                self.seen_by_caller(path)
            }
            Node::Fd {
                pid,
                fd,
                info: false,
                ..
            } => {
                let process = self.process(pid)?;
                self.may_inspect(&process)?;
                let file = process.files().get(fd).map_err(|_| FsError::NotFound)?;
                self.seen_by_caller(render::fd_target(&*file)?)
            }
            Node::Ns { pid, kind, .. } => {
                let process = self.process(pid)?;
                self.may_inspect(&process)?;
                let id = self.container()?.id();
                Ok(format!("{}:[{}]", kind.label(), kind.inode_number(id)))
            }
            _ => Err(FsError::InvalidArgument),
        }
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

    fn list(&self) -> FsResult<Listing> {
        let dot_dot = ProcINode::new(
            self.fs.clone(),
            self.container.clone(),
            self.tree,
            self.parent(),
        )
        .inode_number();
        let mut listing = Listing::with_dots(self.inode_number(), dot_dot)?;
        for (name, node) in self.entries()? {
            let child = ProcINode::new(None, Weak::new(), self.tree, node);
            listing.push(&name, child.inode_number(), child.type_())?;
        }
        Ok(listing)
    }

    fn fs(&self) -> Arc<dyn FileSystem> {
        match &self.fs {
            Some(fs) => fs.clone(),
            None => Arc::new(ProcFs {
                container: self.container.clone(),
                tree: self.tree,
                this: Weak::new(),
            }),
        }
    }

    fn as_any_ref(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests;
