//! [`Container`]: one sandbox — its id, its root directory, its physical memory, and its pid
//! table.
//!
//! Pids are the container's own: the first process is pid 1, later ones take the next pid
//! after the last one handed out, so a reaped process's pid comes back only after the
//! counter wraps at [`PID_MAX`] (to 2: pid 1 is the first process's for good). A process
//! whose parent exits is adopted by pid 1, which reaps it.
//!
//! ```
//! use kernel_hostfs::{FileSystem, HostFs};
//! use linux_object::container::Container;
//! use linux_object::process::ExitStatus;
//! # let dir = std::env::temp_dir().join(format!("linux-object-doc-container-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let memory = kernel_hal_lkm::platform().unwrap().new_physical_memory(16).unwrap();
//! let container = Container::new(7, HostFs::new(&dir)?.root_inode(), memory);
//! let init = container.spawn_init("/sbin/init".into())?;
//! let child = init.fork()?;
//! assert_eq!((init.pid(), child.pid(), child.ppid()), (1, 2, 1));
//! child.exit(ExitStatus::Exited(3));
//! assert_eq!(container.pids(), [1, 2]); // a zombie keeps its pid until reaped
//! # Ok::<(), linux_object::LxError>(())
//! ```

use crate::error::{LxError, LxResult};
use crate::fd_table::FdTable;
use crate::fs::{FifoTable, FileOwners, FlockTable, HostStdio};
use crate::ipc::IpcNamespace;
use crate::mount::{MountFlags, MountTable};
use crate::net::unix::UnixNamespace;
use crate::process::{GroupIds, LinuxProcess, WorkingDir};
use crate::procfs::{NoView, SystemView};
use crate::tty::{DevPts, Pty, TtySignals};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;
use kernel_hal_lkm::sync::Mutex;
use kernel_hal_lkm::PhysicalMemory;
use kernel_hostfs::INode;

/// A process id inside a container.
pub type Pid = u32;

/// Pids are below this: Linux's default `kernel.pid_max`.
pub const PID_MAX: Pid = 32768;

/// The first process's pid.
pub const INIT_PID: Pid = 1;

/// The longest host name (`__NEW_UTS_LEN`): `uname` has 65 bytes for it with its NUL.
pub const HOST_NAME_MAX: usize = 64;

/// A new container's host name, until one is set.
pub const DEFAULT_HOSTNAME: &str = "localhost";

/// A process group: how many processes (zombies included) are in it, and its session.
struct ProcessGroup {
    members: usize,
    sid: Pid,
}

struct PidTable {
    /// Processes by pid, and by the tid of each of their other threads.
    processes: BTreeMap<Pid, Arc<LinuxProcess>>,
    /// The process groups in use, by id.
    groups: BTreeMap<Pid, ProcessGroup>,
    /// The sessions in use: how many processes are in each.
    sessions: BTreeMap<Pid, usize>,
    /// The pid the next search starts from.
    next: Pid,
}

impl PidTable {
    /// Every process, zombies included, once each.
    fn members(&self) -> impl Iterator<Item = &Arc<LinuxProcess>> {
        self.processes
            .iter()
            .filter(|(id, process)| **id == process.pid())
            .map(|(_, process)| process)
    }

    /// Whether `id` is taken: by a process or thread, or as the id of a process group or
    /// a session (Linux keeps a `struct pid` alive while anything refers to it).
    fn in_use(&self, id: Pid) -> bool {
        self.processes.contains_key(&id)
            || self.groups.contains_key(&id)
            || self.sessions.contains_key(&id)
    }

    /// Counts a process into the group and session `ids`.
    fn join(&mut self, ids: GroupIds) {
        self.groups
            .entry(ids.pgid)
            .or_insert(ProcessGroup {
                members: 0,
                sid: ids.sid,
            })
            .members += 1;
        *self.sessions.entry(ids.sid).or_insert(0) += 1;
    }

    /// Counts a process out of the group and session `ids`; an empty one is gone.
    fn leave(&mut self, ids: GroupIds) {
        if let Some(group) = self.groups.get_mut(&ids.pgid) {
            group.members = group.members.saturating_sub(1);
            if group.members == 0 {
                self.groups.remove(&ids.pgid);
            }
        }
        if let Some(members) = self.sessions.get_mut(&ids.sid) {
            *members = members.saturating_sub(1);
            if *members == 0 {
                self.sessions.remove(&ids.sid);
            }
        }
    }

    /// Moves `process` (a member) to the group and session `ids`.
    fn move_to(&mut self, process: &LinuxProcess, ids: GroupIds) {
        self.leave(process.group_ids());
        process.set_group_ids(ids);
        self.join(ids);
    }
}

/// Where a container's autobind names start: random, as Linux's (the container id if the
/// platform has no randomness).
fn unix_autobind_seed(id: u64) -> u32 {
    let mut bytes = [0u8; 4];
    match kernel_hal_lkm::platform() {
        Ok(platform) => platform.fill_random(&mut bytes),
        Err(_) => return id as u32,
    }
    u32::from_le_bytes(bytes)
}

/// A container.
pub struct Container {
    id: u64,
    root: Arc<dyn INode>,
    /// What is mounted where: the root, then rVisor's own filesystems.
    mounts: Arc<MountTable>,
    memory: Arc<dyn PhysicalMemory>,
    pids: Mutex<PidTable>,
    /// The `flock` locks its processes hold.
    flocks: Arc<FlockTable>,
    /// Its named pipes that are open.
    fifos: FifoTable,
    /// The owners `F_SETOWN` gave its descriptions.
    file_owners: FileOwners,
    /// The controlling terminal its processes open as `/dev/tty`: the host terminal its first
    /// process had as stdio, if any.
    terminal: Mutex<Option<Arc<dyn HostStdio>>>,
    /// Its devpts instance: its pseudo-terminals, numbered from 0.
    devpts: Arc<DevPts>,
    /// The pty whose slave is `/dev/console` (`rvisor run -t`'s).
    console: Mutex<Option<Arc<Pty>>>,
    /// The machine and the host tasks under it, as procfs shows them.
    view: Mutex<Arc<dyn SystemView>>,
    /// When it was made, on the view's boot clock: where its uptime starts.
    started: Mutex<Duration>,
    /// `/proc/sys/kernel/random/boot_id`: drawn when it was made.
    boot_id: [u8; 16],
    /// The host name its processes see (`uname`, `gethostname`), as the bytes it was set to:
    /// a container is its own UTS namespace, so the host's name never leaks in.
    hostname: Mutex<Vec<u8>>,
    /// The names its unix sockets are bound to (pathname and abstract): its own, so no
    /// other container's abstract names are visible.
    unix_names: Arc<UnixNamespace>,
    /// Its System V IPC objects: its own, so no other container's keys are visible.
    ipc: IpcNamespace,
}

impl Container {
    /// A container with no process yet.
    pub fn new(id: u64, root: Arc<dyn INode>, memory: Arc<dyn PhysicalMemory>) -> Arc<Self> {
        Arc::new(Self {
            id,
            mounts: Arc::new(MountTable::new(root.clone(), "rootfs", "rootfs")),
            root,
            memory,
            pids: Mutex::new(PidTable {
                processes: BTreeMap::new(),
                groups: BTreeMap::new(),
                sessions: BTreeMap::new(),
                next: INIT_PID,
            }),
            flocks: FlockTable::new(),
            fifos: FifoTable::new(),
            file_owners: FileOwners::new(),
            terminal: Mutex::new(None),
            devpts: DevPts::new(),
            console: Mutex::new(None),
            view: Mutex::new(Arc::new(NoView)),
            started: Mutex::new(Duration::ZERO),
            boot_id: {
                let mut id = [0u8; 16];
                if let Ok(platform) = kernel_hal_lkm::platform() {
                    platform.fill_random(&mut id);
                }
                id
            },
            hostname: Mutex::new(Vec::from(DEFAULT_HOSTNAME.as_bytes())),
            unix_names: UnixNamespace::new(unix_autobind_seed(id)),
            ipc: IpcNamespace::new(),
        })
    }

    /// Its IPC namespace.
    pub fn ipc(&self) -> &IpcNamespace {
        &self.ipc
    }

    /// The host name its processes see, as text (bytes that are not UTF-8 replaced).
    pub fn hostname(&self) -> String {
        String::from_utf8_lossy(&self.hostname.lock()).into_owned()
    }

    /// The host name as the bytes it was set to (`uname` copies them as they are).
    pub fn hostname_bytes(&self) -> Vec<u8> {
        self.hostname.lock().clone()
    }

    /// Changes the host name (the CLI at creation); `EINVAL` past [`HOST_NAME_MAX`] bytes,
    /// as Linux.
    pub fn set_hostname(&self, name: &str) -> LxResult {
        self.set_hostname_bytes(name.as_bytes())
    }

    /// Changes the host name to `name`, any bytes (`sethostname` copies what it is given);
    /// `EINVAL` past [`HOST_NAME_MAX`] bytes.
    pub fn set_hostname_bytes(&self, name: &[u8]) -> LxResult {
        if name.len() > HOST_NAME_MAX {
            return Err(LxError::EINVAL);
        }
        let mut copy = Vec::new();
        copy.try_reserve_exact(name.len())
            .map_err(|_| LxError::ENOMEM)?;
        copy.extend_from_slice(name);
        *self.hostname.lock() = copy;
        Ok(())
    }

    /// The names its unix sockets are bound to.
    pub fn unix_names(&self) -> &Arc<UnixNamespace> {
        &self.unix_names
    }

    /// The `flock` locks of its processes.
    pub fn flocks(&self) -> &Arc<FlockTable> {
        &self.flocks
    }

    /// The container's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The root directory of its filesystem.
    pub fn root(&self) -> &Arc<dyn INode> {
        &self.root
    }

    /// Installs the view of the machine and of its host tasks; its uptime starts now.
    pub fn set_view(&self, view: Arc<dyn SystemView>) {
        *self.started.lock() = view.machine().boot_time;
        *self.view.lock() = view;
    }

    /// The view of the machine and of its host tasks.
    pub fn view(&self) -> Arc<dyn SystemView> {
        self.view.lock().clone()
    }

    /// When it was made, on the view's boot clock.
    pub fn started(&self) -> Duration {
        *self.started.lock()
    }

    /// How long it has existed.
    pub fn uptime(&self) -> Duration {
        self.view()
            .machine()
            .boot_time
            .saturating_sub(self.started())
    }

    /// Its boot id (`/proc/sys/kernel/random/boot_id`).
    pub fn boot_id(&self) -> [u8; 16] {
        self.boot_id
    }

    /// The pid handed out last (`/proc/loadavg`'s last field).
    pub fn last_pid(&self) -> Pid {
        let next = self.pids.lock().next;
        if next <= INIT_PID + 1 {
            INIT_PID
        } else {
            next - 1
        }
    }

    /// Its named pipes that are open.
    pub fn fifos(&self) -> &FifoTable {
        &self.fifos
    }

    /// The owners of its descriptions (`F_SETOWN`).
    pub fn file_owners(&self) -> &FileOwners {
        &self.file_owners
    }

    /// Its mount tree.
    pub fn mounts(&self) -> &Arc<MountTable> {
        &self.mounts
    }

    /// Mounts the container's procfs on `/proc` (`nosuid,nodev,noexec,relatime`, as
    /// container engines mount it) and its sysfs on `/sys` (the same, read-only), each if
    /// the root has that directory: like Linux, rVisor mounts only on a directory that
    /// exists.
    pub fn mount_system_filesystems(self: &Arc<Self>) -> LxResult {
        let flags =
            MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC | MountFlags::RELATIME;
        let procfs = crate::procfs::ProcFs::new(self);
        self.mount_on_directory("proc", &*procfs, "proc", flags)?;
        let sysfs = crate::procfs::ProcFs::new_sysfs(self);
        self.mount_on_directory("sys", &*sysfs, "sysfs", flags | MountFlags::RDONLY)
    }

    /// Mounts the directory `root` (of another filesystem: a host directory, a tmpfs) on
    /// `target`, an absolute path of an existing directory inside the container, named
    /// without symbolic links, `.` or `..` (`EINVAL` otherwise, so that the mount point is
    /// the one path the walk reaches it by); `ENOENT`/`ENOTDIR` as a lookup gives them.
    pub fn mount_at(
        &self,
        target: &str,
        root: Arc<dyn INode>,
        source: &str,
        fstype: &str,
        flags: MountFlags,
    ) -> LxResult {
        if !target.starts_with('/') || target.len() >= kernel_hostfs::PATH_MAX {
            return Err(LxError::EINVAL);
        }
        let mounts = self.mounts.snapshot();
        let mut parent = self.root.clone();
        let mut dir = self.root.clone();
        let mut path = String::new();
        for name in target.split('/').filter(|name| !name.is_empty()) {
            if name == "." || name == ".." {
                return Err(LxError::EINVAL);
            }
            let child = dir.find(name)?;
            match child.file_type()? {
                kernel_hostfs::FileType::Dir => {}
                kernel_hostfs::FileType::SymLink => return Err(LxError::EINVAL),
                _ => return Err(LxError::ENOTDIR),
            }
            path.push('/');
            path.push_str(name);
            parent = dir;
            // A mount on a directory below another mount point lies on that mount.
            dir = match mounts.covering(&path) {
                Some(mount) => mount.root().clone(),
                None => child,
            };
        }
        if path.is_empty() {
            return Err(LxError::EINVAL);
        }
        self.mounts
            .mount(&path, parent, root, source, fstype, flags)
    }

    /// Mounts `fs` (of type `fstype`, also its source's name) on the directory `/name` of
    /// the root, if there is one.
    fn mount_on_directory(
        &self,
        name: &str,
        fs: &dyn kernel_hostfs::FileSystem,
        fstype: &str,
        flags: MountFlags,
    ) -> LxResult {
        match self.root.find(name) {
            Ok(point) if point.file_type()? == kernel_hostfs::FileType::Dir => {}
            _ => return Ok(()),
        }
        let point = alloc::format!("/{name}");
        self.mounts.mount(
            &point,
            self.root.clone(),
            fs.root_inode(),
            fstype,
            fstype,
            flags,
        )
    }

    /// Mounts rVisor's `/dev` (`devtmpfs`, `nosuid`) and the container's devpts on
    /// `/dev/pts` (`nosuid,noexec`), if its root has a `/dev` directory. Returns whether it
    /// did.
    pub fn mount_devfs(self: &Arc<Self>) -> LxResult<bool> {
        match self.root.find("dev") {
            Ok(point) if point.file_type()? == kernel_hostfs::FileType::Dir => {}
            _ => return Ok(false),
        }
        let devfs = crate::devfs::DevFs::new();
        let dev_root = kernel_hostfs::FileSystem::root_inode(&*devfs);
        self.mounts.mount(
            "/dev",
            self.root.clone(),
            dev_root.clone(),
            "devtmpfs",
            "devtmpfs",
            MountFlags::NOSUID | MountFlags::RELATIME,
        )?;
        let devpts = crate::devfs::DevPtsFs::new(self.devpts.clone());
        self.mounts.mount(
            "/dev/pts",
            dev_root.clone(),
            kernel_hostfs::FileSystem::root_inode(&*devpts),
            "devpts",
            "devpts",
            MountFlags::NOSUID | MountFlags::NOEXEC | MountFlags::RELATIME,
        )?;
        // Until tmpfs is served, `/dev/shm` is the root's own `dev/shm` directory where it
        // has one (files made there stay writable, as before devfs covered `/dev`), else
        // devfs's empty one.
        let own_shm = self
            .root
            .find("dev")
            .and_then(|dev| dev.find("shm"))
            .ok()
            .filter(|shm| {
                shm.file_type()
                    .is_ok_and(|t| t == kernel_hostfs::FileType::Dir)
            });
        if let Some(shm) = own_shm {
            self.mounts.mount(
                "/dev/shm",
                dev_root,
                shm,
                "shm",
                "rootfs",
                MountFlags::NOSUID | MountFlags::NODEV | MountFlags::RELATIME,
            )?;
        }
        Ok(true)
    }

    /// Its devpts instance.
    pub fn devpts(&self) -> &Arc<DevPts> {
        &self.devpts
    }

    /// Sets how its terminals signal its processes.
    pub fn set_tty_signals(&self, signals: Arc<dyn TtySignals>) {
        self.devpts.set_signals(signals);
    }

    /// Makes `pty`'s slave the container's `/dev/console`.
    pub fn set_console(&self, pty: Arc<Pty>) {
        *self.console.lock() = Some(pty);
    }

    /// The pty whose slave is `/dev/console`, if it is still open.
    pub fn console(&self) -> Option<Arc<Pty>> {
        let console = self.console.lock().clone()?;
        (!console.hung_up()).then_some(console)
    }

    /// Makes `terminal` the container's controlling terminal (`/dev/tty`).
    pub fn set_terminal(&self, terminal: Arc<dyn HostStdio>) {
        *self.terminal.lock() = Some(terminal);
    }

    /// The controlling terminal, if the container has one.
    pub fn terminal(&self) -> Option<Arc<dyn HostStdio>> {
        self.terminal.lock().clone()
    }

    /// Its physical memory, where its programs' frames live.
    pub fn physical_memory(&self) -> &Arc<dyn PhysicalMemory> {
        &self.memory
    }

    /// Creates the first process, pid 1, at the root with no descriptors; `EEXIST` if it was
    /// created already.
    pub fn spawn_init(self: &Arc<Self>, exec_path: String) -> LxResult<Arc<LinuxProcess>> {
        let mut table = self.pids.lock();
        if table.next != INIT_PID {
            return Err(LxError::EEXIST);
        }
        let cwd = WorkingDir {
            inode: self.root.clone(),
            path: String::from("/"),
        };
        let init = LinuxProcess::new(INIT_PID, self, None, cwd, exec_path, FdTable::new());
        table.processes.insert(INIT_PID, init.clone());
        table.join(init.group_ids());
        table.next = INIT_PID + 1;
        Ok(init)
    }

    /// Creates a process entering the container from outside (`rvisor exec`), as a process
    /// joining a pid namespace with `setns` and forking: the next free pid, no parent in the
    /// container (`getppid` is 0; whoever waits for it is outside), at the root with no
    /// descriptors, leading a session and a process group of its own (as runc's `exec`
    /// makes it with `setsid`). Nobody inside reaps it: its pid is freed when it exits.
    /// `ESRCH` if the first process has not been created or has exited (the container is
    /// ending), `EAGAIN` when every pid is taken.
    pub fn enter(self: &Arc<Self>, exec_path: String) -> LxResult<Arc<LinuxProcess>> {
        let running = self
            .process(INIT_PID)
            .is_some_and(|init| init.exit_status().is_none());
        if !running {
            return Err(LxError::ESRCH);
        }
        let cwd = WorkingDir {
            inode: self.root.clone(),
            path: String::from("/"),
        };
        // Without a parent, `LinuxProcess::new` makes the process its own group and session.
        self.register(|pid, container| {
            LinuxProcess::new(pid, container, None, cwd, exec_path, FdTable::new())
        })
    }

    /// Allocates a pid and registers the process `make` builds with it. `EAGAIN` when every
    /// pid is taken (as `fork` fails), `ESRCH` before the first process exists.
    pub(crate) fn register(
        self: &Arc<Self>,
        make: impl FnOnce(Pid, &Arc<Self>) -> Arc<LinuxProcess>,
    ) -> LxResult<Arc<LinuxProcess>> {
        self.allocate(make).map(|(_, process)| process)
    }

    /// Allocates a tid for a new thread of `process`: tids and pids are one space, as on
    /// Linux, and the pid table maps a thread's tid to its process.
    pub(crate) fn register_thread(self: &Arc<Self>, process: &Arc<LinuxProcess>) -> LxResult<Pid> {
        self.allocate(|_, _| process.clone()).map(|(tid, _)| tid)
    }

    /// Allocates the next free id and registers what `make` builds under it.
    fn allocate(
        self: &Arc<Self>,
        make: impl FnOnce(Pid, &Arc<Self>) -> Arc<LinuxProcess>,
    ) -> LxResult<(Pid, Arc<LinuxProcess>)> {
        let mut table = self.pids.lock();
        if table.next == INIT_PID {
            return Err(LxError::ESRCH);
        }
        let start = table.next;
        let mut pid = start;
        while table.in_use(pid) {
            pid = if pid + 1 >= PID_MAX {
                INIT_PID + 1
            } else {
                pid + 1
            };
            if pid == start {
                return Err(LxError::EAGAIN);
            }
        }
        let process = make(pid, self);
        table.processes.insert(pid, process.clone());
        if process.pid() == pid {
            table.join(process.group_ids());
        }
        table.next = if pid + 1 >= PID_MAX {
            INIT_PID + 1
        } else {
            pid + 1
        };
        Ok((pid, process))
    }

    /// Frees a reaped process's pid.
    pub(crate) fn release(&self, pid: Pid) {
        let mut table = self.pids.lock();
        if let Some(process) = table.processes.remove(&pid) {
            if process.pid() == pid {
                table.leave(process.group_ids());
            }
        }
    }

    /// Hands the children of exiting process `from` to pid 1; if pid 1 itself is exiting
    /// (or gone) they keep no parent.
    pub(crate) fn adopt_orphans(&self, from: Pid, orphans: BTreeMap<Pid, Arc<LinuxProcess>>) {
        if orphans.is_empty() {
            return;
        }
        match self.process(INIT_PID).filter(|_| from != INIT_PID) {
            Some(init) => init.adopt(orphans),
            None => orphans.values().for_each(|orphan| orphan.orphan()),
        }
    }

    /// The process with `pid` (or with a thread whose tid is `pid`), zombies included.
    pub fn process(&self, pid: Pid) -> Option<Arc<LinuxProcess>> {
        self.pids.lock().processes.get(&pid).cloned()
    }

    /// Every pid in use, in order.
    pub fn pids(&self) -> Vec<Pid> {
        self.pids.lock().processes.keys().copied().collect()
    }

    /// Every process, zombies included, in pid order.
    pub fn processes(&self) -> Vec<Arc<LinuxProcess>> {
        self.pids.lock().members().cloned().collect()
    }

    /// `setpgid(pid, pgid)` by `caller`, once the syscall layer has turned 0s into the
    /// caller's pid and `pid` and refused a negative `pgid`. As Linux:
    ///
    /// - `ESRCH`: `pid` names no process, or one that is neither the caller nor a child of
    ///   it;
    /// - `EINVAL`: `pid` is the id of a thread other than its process's first;
    /// - `EPERM`: the child is in another session; the process leads a session; `pgid` is
    ///   not its own pid and no process of the caller's session is in group `pgid`;
    /// - `EACCES`: the child has called `execve`.
    pub fn set_process_group(&self, caller: &LinuxProcess, pid: Pid, pgid: Pid) -> LxResult {
        let mut table = self.pids.lock();
        let target = table.processes.get(&pid).ok_or(LxError::ESRCH)?.clone();
        if target.pid() != pid {
            return Err(LxError::EINVAL);
        }
        let caller_ids = caller.group_ids();
        let target_ids = target.group_ids();
        if target.pid() != caller.pid() {
            if target.ppid() != caller.pid() {
                return Err(LxError::ESRCH);
            }
            if target_ids.sid != caller_ids.sid {
                return Err(LxError::EPERM);
            }
            if target.has_execed() {
                return Err(LxError::EACCES);
            }
        }
        if target_ids.sid == target.pid() {
            return Err(LxError::EPERM);
        }
        if pgid != pid {
            // Every member of a group is in its session: one record says for all.
            let joinable = table
                .groups
                .get(&pgid)
                .is_some_and(|group| group.sid == caller_ids.sid);
            if !joinable {
                return Err(LxError::EPERM);
            }
        }
        let ids = GroupIds {
            pgid,
            sid: target_ids.sid,
        };
        table.move_to(&target, ids);
        Ok(())
    }

    /// `setsid()` by `caller`: it leads a new session and a new group, both its pid, which
    /// is returned. `EPERM` if it leads a session already or its pid names a process group
    /// (its own included), as Linux.
    pub fn new_session(&self, caller: &LinuxProcess) -> LxResult<Pid> {
        let mut table = self.pids.lock();
        let pid = caller.pid();
        if caller.sid() == pid || table.groups.contains_key(&pid) {
            return Err(LxError::EPERM);
        }
        table.move_to(
            caller,
            GroupIds {
                pgid: pid,
                sid: pid,
            },
        );
        // A new session has no controlling terminal yet; the one it acquires is its leader's.
        caller.set_tty_detached(false);
        Ok(pid)
    }

    /// The processes of group `pgid`, zombies included (empty if there is no such group).
    pub fn group_members(&self, pgid: Pid) -> Vec<Arc<LinuxProcess>> {
        let table = self.pids.lock();
        if !table.groups.contains_key(&pgid) {
            return Vec::new();
        }
        table
            .members()
            .filter(|member| member.pgid() == pgid)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::{FileLike, OpenFlags, Pipe};
    use crate::process::{ExitStatus, WaitTarget};
    use crate::test_executor::{block_on, poll_once, CountingWaker};
    use kernel_hostfs::{FileSystem, HostFs};
    use std::pin::pin;
    use std::task::Poll;

    #[test]
    fn devfs_is_mounted_on_an_existing_dev_with_the_root_s_own_shm() {
        let dir = std::env::temp_dir().join(format!("linux-object-devfs-{}", std::process::id()));
        let memory = || {
            kernel_hal_lkm::platform()
                .unwrap()
                .new_physical_memory(4)
                .unwrap()
        };
        std::fs::create_dir_all(&dir).unwrap();
        let bare = Container::new(1, HostFs::new(&dir).unwrap().root_inode(), memory());
        assert!(!bare.mount_devfs().unwrap(), "no /dev: nothing mounted");
        std::fs::create_dir_all(dir.join("dev/shm")).unwrap();
        let container = Container::new(2, HostFs::new(&dir).unwrap().root_inode(), memory());
        assert!(container.mount_devfs().unwrap());
        let mounts = container.mounts().snapshot();
        let points: Vec<&str> = mounts.iter().map(|m| m.point()).collect();
        assert_eq!(points, ["/", "/dev", "/dev/pts", "/dev/shm"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn new_container() -> Arc<Container> {
        let dir =
            std::env::temp_dir().join(format!("linux-object-container-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let memory = kernel_hal_lkm::platform()
            .unwrap()
            .new_physical_memory(4)
            .unwrap();
        Container::new(1, HostFs::new(&dir).unwrap().root_inode(), memory)
    }

    #[test]
    fn mounts_go_on_existing_directories_named_without_links() {
        let dir = std::env::temp_dir().join(format!(
            "linux-object-container-mounts-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(dir.join("proc")).unwrap();
        std::fs::create_dir_all(dir.join("data/inner")).unwrap();
        std::fs::write(dir.join("file"), b"").unwrap();
        let _ = std::os::unix::fs::symlink("data", dir.join("link"));
        let memory = kernel_hal_lkm::platform()
            .unwrap()
            .new_physical_memory(4)
            .unwrap();
        let root = HostFs::new(&dir).unwrap().root_inode();
        let container = Container::new(1, root.clone(), memory);
        container.mount_system_filesystems().unwrap();
        let other = root.lookup("data/inner").unwrap();
        let mount = |target: &str| {
            container.mount_at(target, other.clone(), "src", "tmpfs", MountFlags::empty())
        };
        assert_eq!(mount("/data"), Ok(()));
        assert_eq!(mount("relative"), Err(LxError::EINVAL));
        assert_eq!(mount("/"), Err(LxError::EINVAL));
        assert_eq!(mount("/link"), Err(LxError::EINVAL));
        assert_eq!(mount("/data/../data"), Err(LxError::EINVAL));
        assert_eq!(mount("/file"), Err(LxError::ENOTDIR));
        assert_eq!(mount("/missing"), Err(LxError::ENOENT));
        assert_eq!(mount("/data"), Ok(()));
        let points: Vec<String> = container
            .mounts()
            .snapshot()
            .iter()
            .map(|m| m.point().into())
            .collect();
        // No `/sys` in this root: only procfs is mounted for the system.
        assert_eq!(points, ["/", "/proc", "/data", "/data"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn groups_and_sessions_start_at_pid_1_and_are_inherited() {
        let container = new_container();
        let init = container.spawn_init("/init".into()).unwrap();
        assert_eq!(init.group_ids(), GroupIds { pgid: 1, sid: 1 });
        let child = init.fork().unwrap();
        assert_eq!((child.pgid(), child.sid()), (1, 1));
        container.set_process_group(&init, 2, 2).unwrap();
        assert_eq!((child.pgid(), child.sid()), (2, 1));
        let grandchild = child.fork().unwrap();
        assert_eq!((grandchild.pgid(), grandchild.sid()), (2, 1));
        // CLONE_PARENT: the sibling's ids are its creator's, not its parent's.
        let sibling = grandchild.fork_sibling().unwrap();
        assert_eq!((sibling.ppid(), sibling.pgid()), (2, 2));
    }

    #[test]
    fn setpgid_follows_linux_rules() {
        let container = new_container();
        let init = container.spawn_init("/init".into()).unwrap();
        let child = init.fork().unwrap(); // 2
        let grandchild = child.fork().unwrap(); // 3
        assert_eq!(
            container.set_process_group(&init, 1, 1),
            Err(LxError::EPERM),
            "a session leader"
        );
        assert_eq!(
            container.set_process_group(&init, 3, 3),
            Err(LxError::ESRCH),
            "not a child"
        );
        assert_eq!(
            container.set_process_group(&init, 99, 99),
            Err(LxError::ESRCH)
        );
        assert_eq!(
            container.set_process_group(&init, 2, 7),
            Err(LxError::EPERM),
            "no group 7"
        );
        let thread = child.new_thread().unwrap();
        assert_eq!(
            container.set_process_group(&init, thread, thread),
            Err(LxError::EINVAL)
        );
        // The child makes its own group; its child joins it, then the parent moves it back.
        container.set_process_group(&child, 2, 2).unwrap();
        container.set_process_group(&child, 3, 2).unwrap();
        assert_eq!(grandchild.pgid(), 2);
        container.set_process_group(&grandchild, 3, 3).unwrap();
        assert_eq!(grandchild.pgid(), 3);
        container.set_process_group(&init, 2, 1).unwrap();
        assert_eq!(child.pgid(), 1);
        // After execve, the parent may no longer move it.
        child.did_exec("/bin/sh".into());
        assert_eq!(
            container.set_process_group(&init, 2, 2),
            Err(LxError::EACCES)
        );
        // The child itself still may.
        container.set_process_group(&child, 2, 2).unwrap();
    }

    #[test]
    fn setsid_makes_a_leader_once_and_isolates_it() {
        let container = new_container();
        let init = container.spawn_init("/init".into()).unwrap();
        assert_eq!(container.new_session(&init), Err(LxError::EPERM));
        let child = init.fork().unwrap();
        assert_eq!(container.new_session(&child), Ok(2));
        assert_eq!(child.group_ids(), GroupIds { pgid: 2, sid: 2 });
        assert_eq!(container.new_session(&child), Err(LxError::EPERM));
        // Another session: the parent cannot move it, nor join its group.
        assert_eq!(
            container.set_process_group(&init, 2, 2),
            Err(LxError::EPERM)
        );
        let other = init.fork().unwrap();
        assert_eq!(
            container.set_process_group(&init, other.pid(), 2),
            Err(LxError::EPERM)
        );
        // A group leader cannot start a session.
        container
            .set_process_group(&init, other.pid(), other.pid())
            .unwrap();
        assert_eq!(container.new_session(&other), Err(LxError::EPERM));
    }

    #[test]
    fn a_pid_naming_a_group_is_not_handed_out_again() {
        let container = new_container();
        let init = container.spawn_init("/init".into()).unwrap();
        let leader = init.fork().unwrap(); // 2
        container.set_process_group(&leader, 2, 2).unwrap();
        let member = leader.fork().unwrap(); // 3, in group 2
        leader.exit(ExitStatus::Exited(0));
        assert_eq!(
            block_on(init.wait_child(WaitTarget::Pid(2), false)),
            Ok(Some((2, ExitStatus::Exited(0))))
        );
        assert_eq!(member.pgid(), 2);
        container.pids.lock().next = PID_MAX - 1;
        assert_eq!(init.fork().unwrap().pid(), PID_MAX - 1);
        assert_eq!(init.fork().unwrap().pid(), 4, "2 names a group, 3 is taken");
        assert_eq!(container.processes().len(), 4);
    }

    #[test]
    fn the_host_name_is_the_containers_own() {
        let container = new_container();
        assert_eq!(container.hostname(), DEFAULT_HOSTNAME);
        container.set_hostname("box").unwrap();
        assert_eq!(container.hostname(), "box");
        assert_eq!(
            container.set_hostname(&"x".repeat(HOST_NAME_MAX + 1)),
            Err(LxError::EINVAL)
        );
        container.set_hostname(&"y".repeat(HOST_NAME_MAX)).unwrap();
        container.set_hostname_bytes(b"a\xffb").unwrap();
        assert_eq!(container.hostname_bytes(), b"a\xffb");
        assert_eq!(container.hostname(), "a\u{fffd}b");
    }

    #[test]
    fn pid_1_comes_first_and_only_once() {
        let container = new_container();
        assert_eq!(container.id(), 1);
        let init = container.spawn_init("/init".into()).unwrap();
        assert_eq!((init.pid(), init.ppid()), (1, 0));
        assert_eq!(init.cwd().path, "/");
        assert!(matches!(
            container.spawn_init("/init".into()),
            Err(LxError::EEXIST)
        ));
        let fresh = new_container();
        assert_eq!(
            fresh.register(|_, _| unreachable!()).err(),
            Some(LxError::ESRCH)
        );
    }

    #[test]
    fn a_process_entering_from_outside_gets_the_next_pid_and_no_parent() {
        let container = new_container();
        assert_eq!(
            container.enter("/bin/sh".into()).err(),
            Some(LxError::ESRCH),
            "no first process yet"
        );
        let init = container.spawn_init("/init".into()).unwrap();
        let child = init.fork().unwrap(); // 2
        let entered = container.enter("/bin/sh".into()).unwrap();
        assert_eq!((entered.pid(), entered.ppid()), (3, 0));
        assert_eq!(entered.group_ids(), GroupIds { pgid: 3, sid: 3 });
        assert_eq!(entered.cwd().path, "/");
        assert!(entered.files().is_empty());
        assert_eq!(container.pids(), [1, 2, 3]);
        assert!(container.processes().iter().any(|p| p.pid() == 3));
        assert!(
            init.children().iter().all(|&pid| pid != 3),
            "not init's child"
        );
        // Its own child is its to reap; when it exits first, pid 1 adopts that child.
        let grandchild = entered.fork().unwrap();
        assert_eq!(grandchild.ppid(), 3);
        entered.exit(ExitStatus::Exited(0));
        assert_eq!(container.pids(), [1, 2, 4], "gone at once: no zombie");
        assert_eq!(grandchild.ppid(), 1);
        assert_eq!(init.children(), [2, 4]);
        // The next one that enters takes the next pid; it exits by a signal the same way.
        let again = container.enter("/bin/sh".into()).unwrap();
        assert_eq!(again.pid(), 5);
        again.exit(ExitStatus::Signaled(9));
        assert_eq!(container.pids(), [1, 2, 4]);
        // Nothing enters a container whose first process has ended.
        child.exit(ExitStatus::Exited(0));
        init.exit(ExitStatus::Exited(0));
        assert_eq!(
            container.enter("/bin/sh".into()).err(),
            Some(LxError::ESRCH)
        );
    }

    #[test]
    fn reaped_pids_come_back_only_after_the_counter_wraps() {
        let container = new_container();
        let init = container.spawn_init("/init".into()).unwrap();
        let first = init.fork().unwrap();
        assert_eq!(first.pid(), 2);
        first.exit(ExitStatus::Exited(0));
        assert_eq!(
            block_on(init.wait_child(WaitTarget::Pid(2), false)),
            Ok(Some((2, ExitStatus::Exited(0))))
        );
        assert_eq!(container.pids(), [1]);
        assert_eq!(
            init.fork().unwrap().pid(),
            3,
            "2 is free but not reused yet"
        );
        container.pids.lock().next = PID_MAX - 1;
        assert_eq!(init.fork().unwrap().pid(), PID_MAX - 1);
        assert_eq!(
            init.fork().unwrap().pid(),
            2,
            "wrapped, 1 skipped, 2 free again"
        );
        assert_eq!(init.fork().unwrap().pid(), 4, "3 still in use");
    }

    #[test]
    fn fork_fails_with_eagain_when_every_pid_is_taken() {
        let container = new_container();
        let init = container.spawn_init("/init".into()).unwrap();
        for _ in 2..PID_MAX {
            init.fork().unwrap();
        }
        assert_eq!(init.fork().err(), Some(LxError::EAGAIN));
    }

    #[test]
    fn wait_reaps_zombies_and_reports_echild_and_wnohang() {
        let container = new_container();
        let init = container.spawn_init("/init".into()).unwrap();
        assert_eq!(
            block_on(init.wait_child(WaitTarget::Any, false)),
            Err(LxError::ECHILD)
        );
        let child = init.fork().unwrap();
        assert_eq!(block_on(init.wait_child(WaitTarget::Any, true)), Ok(None));
        assert_eq!(
            block_on(init.wait_child(WaitTarget::Pid(99), true)),
            Err(LxError::ECHILD)
        );
        let (counter, waker) = CountingWaker::new();
        let mut wait = pin!(init.wait_child(WaitTarget::Any, false));
        assert!(poll_once(wait.as_mut(), &waker).is_pending());
        child.exit(ExitStatus::Exited(7));
        assert_eq!(child.exit_status(), Some(ExitStatus::Exited(7)));
        assert_eq!(container.pids(), [1, 2], "a zombie until reaped");
        assert_eq!(counter.wakes(), 1);
        assert_eq!(
            poll_once(wait.as_mut(), &waker),
            Poll::Ready(Ok(Some((2, ExitStatus::Exited(7)))))
        );
        assert_eq!(container.pids(), [1]);
        assert_eq!(ExitStatus::Exited(7).wait_status(), 7 << 8);
        assert_eq!(ExitStatus::Signaled(9).wait_status(), 9);
    }

    #[test]
    fn orphans_go_to_pid_1_which_reaps_them() {
        let container = new_container();
        let init = container.spawn_init("/init".into()).unwrap();
        let parent = init.fork().unwrap();
        let grandchild = parent.fork().unwrap();
        grandchild.exit(ExitStatus::Exited(1)); // a zombie whose parent never waits
        let running = parent.fork().unwrap();
        parent.exit(ExitStatus::Exited(0));
        assert_eq!(running.ppid(), 1);
        assert_eq!(grandchild.ppid(), 1);
        assert_eq!(init.children(), [2, 3, 4]);
        let mut reaped: Vec<Pid> = Vec::new();
        while let Ok(Some((pid, _))) = block_on(init.wait_child(WaitTarget::Any, true)) {
            reaped.push(pid);
        }
        assert_eq!(reaped, [2, 3]);
        assert_eq!(container.pids(), [1, 4]);
    }

    #[test]
    fn fork_copies_descriptors_and_exit_closes_them() {
        let container = new_container();
        let init = container.spawn_init("/init".into()).unwrap();
        let (reader, writer) = Pipe::new_pair(OpenFlags::empty());
        init.files().add(writer, true).unwrap();
        let child = init.fork().unwrap();
        assert_eq!(child.exec_path(), "/init");
        init.files().close(0).unwrap();
        assert_eq!(
            reader.read(&mut [0; 1]),
            Err(LxError::EAGAIN),
            "the child holds a writer"
        );
        child.exit(ExitStatus::Exited(0));
        assert_eq!(reader.read(&mut [0; 1]), Ok(0), "end of file");
        let other = init.fork().unwrap();
        other
            .files()
            .add(Pipe::new_pair(OpenFlags::empty()).1, true)
            .unwrap();
        other.did_exec("/bin/sh".into());
        assert_eq!(other.exec_path(), "/bin/sh");
        assert!(other.files().is_empty(), "close-on-exec");
    }
}
