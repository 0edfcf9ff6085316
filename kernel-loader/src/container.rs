//! Containers: a root directory, a hostname, a pid space and the gates of the processes that
//! joined it.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use kernel_hostfs::{FileSystem, HostFs};
use linux_kernel_module::gate::{FilterId, Gate};
use linux_kernel_module::host_socket::NetNamespace;
use linux_kernel_module::path::HostDir;
use linux_kernel_module::sync::{Mutex, SpinLock};
use linux_kernel_module::task::ModuleRef;
use linux_kernel_module::{Error, Result};

use crate::host::kernel_error;

/// The longest hostname, as Linux's `__NEW_UTS_LEN`.
pub const HOSTNAME_MAX: usize = 64;

/// The most frames a container's physical memory holds (4 GiB): a sparse file, so only the
/// frames programs use take memory.
const PHYSICAL_FRAMES: usize = 1 << 20;

/// A container's hostname, `uname`'s nodename inside it.
#[derive(Clone, Copy)]
pub struct Hostname {
    bytes: [u8; HOSTNAME_MAX],
    len: usize,
}

impl Hostname {
    /// `EINVAL` if `name` is empty, longer than [`HOSTNAME_MAX`] or holds a NUL.
    pub fn new(name: &[u8]) -> Result<Hostname> {
        if name.is_empty() || name.len() > HOSTNAME_MAX || name.contains(&0) {
            return Err(Error::EINVAL);
        }
        let mut bytes = [0; HOSTNAME_MAX];
        bytes
            .get_mut(..name.len())
            .ok_or(Error::EINVAL)?
            .copy_from_slice(name);
        Ok(Hostname {
            bytes,
            len: name.len(),
        })
    }

    /// The name's bytes, no NUL.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }
}

/// Live tasks of a container. Shared apart from the container so that the exit tracepoint can
/// count a task out after dropping its reference to the container, which therefore is never the
/// last one there (the last one is dropped by REMOVE, in process context).
pub struct MemberCount(AtomicU32);

impl MemberCount {
    /// How many tasks are members now.
    pub fn get(&self) -> u32 {
        self.0.load(Ordering::SeqCst)
    }

    /// Counts one task in.
    pub fn enter(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    /// Counts one task out.
    pub fn leave(&self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A container.
pub struct Container {
    id: u32,
    /// Held so the root cannot be unmounted or freed under the container (HostFs serves it).
    _root: HostDir,
    root_name: Vec<u8>,
    hostname: Hostname,
    creator_euid: u32,
    /// The network namespace its creator was in: every member's, so all its sockets are made
    /// in one namespace (members cannot change namespaces; ADDSELF from another is refused).
    network: NetNamespace,
    members: Arc<MemberCount>,
    dying: AtomicBool,
    gates: Mutex<Vec<Gate>>,
    /// rVisor's side of the container: its filesystem, physical memory and processes.
    linux: Arc<linux_object::container::Container>,
    /// The host pid of each of its processes still to be reaped by rVisor's `wait4`, by
    /// container pid.
    host_pids: Mutex<Vec<(u32, i32)>>,
    /// rmmod is refused while a container exists: no hook may outlive its members.
    _module: ModuleRef,
}

impl Container {
    /// The container's id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The root's host path, as its creator named it (canonical, absolute).
    pub fn root_name(&self) -> &[u8] {
        &self.root_name
    }

    /// The container's hostname.
    pub fn hostname(&self) -> &Hostname {
        &self.hostname
    }

    /// The effective uid of the creator: it may join without CAP_SYS_ADMIN.
    pub fn creator_euid(&self) -> u32 {
        self.creator_euid
    }

    /// The network namespace every member is in.
    pub fn network(&self) -> &NetNamespace {
        &self.network
    }

    /// Its live tasks.
    pub fn members(&self) -> &Arc<MemberCount> {
        &self.members
    }

    /// True once REMOVE started: no task may join or be born in it any more.
    pub fn is_dying(&self) -> bool {
        self.dying.load(Ordering::SeqCst)
    }

    /// rVisor's side of the container.
    pub fn linux(&self) -> &Arc<linux_object::container::Container> {
        &self.linux
    }

    /// Makes room to record one more host pid, so that [`add_host_pid`](Self::add_host_pid)
    /// does not fail once the task exists.
    pub fn reserve_host_pid(&self) -> Result {
        self.host_pids
            .lock()
            .try_reserve(1)
            .map_err(|_| Error::ENOMEM)
    }

    /// Records that container process `pid` runs as host process `host_pid`; room was made by
    /// [`reserve_host_pid`](Self::reserve_host_pid) (unless two forks raced for it).
    pub fn add_host_pid(&self, pid: u32, host_pid: i32) {
        let mut pids = self.host_pids.lock();
        if pids.try_reserve(1).is_ok() {
            pids.push((pid, host_pid));
        } else {
            drop(pids);
            log::warn!("container {}: no room for pid {pid}'s host pid", self.id);
        }
    }

    /// The container pid of the process that runs as host process `host_pid`, if any.
    pub fn pid_of_host(&self, host_pid: i32) -> Option<u32> {
        let pids = self.host_pids.lock();
        pids.iter().find(|&&(_, h)| h == host_pid).map(|&(p, _)| p)
    }

    /// Forgets and returns the host pid of container process `pid`.
    pub fn take_host_pid(&self, pid: u32) -> Option<i32> {
        let mut pids = self.host_pids.lock();
        let index = pids.iter().position(|&(p, _)| p == pid)?;
        Some(pids.swap_remove(index).1)
    }

    /// Keeps `gate` (one per joining process) until the container is freed.
    pub fn add_gate(&self, gate: Gate) -> Result {
        let mut gates = self.gates.lock();
        gates.try_reserve(1).map_err(|_| Error::ENOMEM)?;
        gates.push(gate);
        Ok(())
    }

    /// SIGKILLs every task behind one of the container's gates; returns how many.
    pub fn kill_all(&self) -> u32 {
        self.gates.lock().iter().map(Gate::kill_members).sum()
    }
}

/// The gates of every container, for the syscall path: which container does a task belong to
/// that joined (through its process) but is not registered yet. Small: one entry per ADDSELF.
pub struct GateIndex {
    gates: SpinLock<Vec<(FilterId, Arc<Container>)>>,
}

impl GateIndex {
    /// An empty index.
    pub const fn new() -> Self {
        GateIndex {
            gates: SpinLock::new(Vec::new()),
        }
    }

    /// The container whose gate is `filter`.
    pub fn container_of(&self, filter: FilterId) -> Option<Arc<Container>> {
        self.gates
            .lock()
            .iter()
            .find(|(f, _)| *f == filter)
            .map(|(_, c)| c.clone())
    }

    /// True if `filter` is a gate.
    pub fn contains(&self, filter: FilterId) -> bool {
        self.gates.lock().iter().any(|(f, _)| *f == filter)
    }

    /// Adds a gate. The vector grows outside the spin lock (allocation may sleep).
    pub fn add(&self, filter: FilterId, container: Arc<Container>) -> Result {
        loop {
            let needed = self.gates.lock().len() + 1;
            let mut grown = Vec::new();
            grown.try_reserve_exact(needed).map_err(|_| Error::ENOMEM)?;
            let mut gates = self.gates.lock();
            if gates.len() < grown.capacity() {
                grown.extend(gates.drain(..));
                grown.push((filter, container));
                core::mem::swap(&mut *gates, &mut grown);
                drop(gates);
                return Ok(());
            }
            // Another gate was added meanwhile: grow again.
        }
    }

    /// Forgets the gates of container `id`. The caller still holds the container, so no
    /// reference dropped here is the last.
    pub fn remove_container(&self, id: u32) {
        self.gates.lock().retain(|(_, c)| c.id != id);
    }
}

/// Every container, by id.
pub struct Registry {
    inner: Mutex<RegistryInner>,
}

struct RegistryInner {
    next_id: u32,
    containers: BTreeMap<u32, Arc<Container>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Result<Registry> {
        Ok(Registry {
            inner: Mutex::new(RegistryInner {
                next_id: 1,
                containers: BTreeMap::new(),
            })?,
        })
    }

    /// Creates a container rooted at `root`; returns it.
    pub fn create(
        &self,
        root: HostDir,
        hostname: Hostname,
        creator_euid: u32,
    ) -> Result<Arc<Container>> {
        let root_name = root.name()?;
        let network = NetNamespace::current()?;
        let module = ModuleRef::get().ok_or(Error::ENODEV)?;
        let fs = HostFs::in_kernel(&root).map_err(|e| kernel_error(e.into()))?;
        let memory = kernel_hal_lkm::platform()
            .and_then(|platform| platform.new_physical_memory(PHYSICAL_FRAMES))
            .map_err(|_| Error::ENOMEM)?;
        let mut inner = self.inner.lock();
        let id = inner.next_id;
        inner.next_id = id.checked_add(1).ok_or(Error::ENOSPC)?;
        let linux = linux_object::container::Container::new(u64::from(id), fs.root_inode(), memory);
        let name = core::str::from_utf8(hostname.as_bytes()).map_err(|_| Error::EINVAL)?;
        linux.set_hostname(name).map_err(kernel_error)?;
        let fstype = String::from_utf8_lossy(&root.fstype()).into_owned();
        linux
            .mounts()
            .describe_root(&fstype, root.read_only())
            .map_err(kernel_error)?;
        let view_root = {
            let mut copy = Vec::new();
            copy.try_reserve_exact(root_name.len())
                .map_err(|_| Error::ENOMEM)?;
            copy.extend_from_slice(&root_name);
            copy
        };
        linux.set_view(Arc::new(crate::sysview::KernelView::new(id, view_root)));
        linux.mount_system_filesystems().map_err(kernel_error)?;
        linux.set_tty_signals(Arc::new(crate::ttysignals::KernelTtySignals {
            id,
            linux: Arc::downgrade(&linux),
        }));
        linux.mount_devfs().map_err(kernel_error)?;
        let container = Arc::new(Container {
            id,
            _root: root,
            root_name,
            hostname,
            creator_euid,
            network,
            members: Arc::new(MemberCount(AtomicU32::new(0))),
            dying: AtomicBool::new(false),
            gates: Mutex::new(Vec::new())?,
            linux,
            host_pids: Mutex::new(Vec::new())?,
            _module: module,
        });
        inner.containers.insert(id, container.clone());
        Ok(container)
    }

    /// The container `id`, if it exists.
    pub fn get(&self, id: u32) -> Option<Arc<Container>> {
        self.inner.lock().containers.get(&id).cloned()
    }

    /// Every container, by id.
    pub fn all(&self) -> Vec<Arc<Container>> {
        self.inner.lock().containers.values().cloned().collect()
    }

    /// Marks `container` dying: no task joins or is born in it from now on.
    pub fn mark_dying(&self, container: &Container) {
        container.dying.store(true, Ordering::SeqCst);
    }

    /// Forgets container `id` (REMOVE, once its last member is gone).
    pub fn remove(&self, id: u32) -> Option<Arc<Container>> {
        self.inner.lock().containers.remove(&id)
    }
}
