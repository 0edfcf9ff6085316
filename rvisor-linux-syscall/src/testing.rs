//! Host-side support for tests of the syscall layer (hosted targets only).
//!
//! The host HAL's user copies reach only memory a HAL page table maps: the user memory of a
//! contained process. [`UserArena`] is such memory — frames of a fresh physical memory mapped
//! read-write at the start of a page table's region — with a bump allocator to place a call's
//! inputs and outputs, and an address just past it that faults.
//!
//! ```
//! use rvisor_linux_syscall::testing::UserArena;
//! use rvisor_linux_syscall::user::UserInPtr;
//!
//! let arena = UserArena::new(4);
//! let path = arena.put_cstr("/etc/passwd");
//! assert_eq!(UserInPtr::<u8>::from(path).read_path().unwrap(), "/etc/passwd");
//! assert!(UserInPtr::<u8>::from(arena.unmapped()).read_bytes(1).is_err());
//! ```
//!
//! [`TestMachine`] is a [`TaskHost`] over the host HAL, one [`TestTask`] per simulated thread:
//! a container on a temporary directory, fresh address spaces that are zircon VMARs on the
//! container's physical memory ([`VmarSpace`]), and a log of every request that reached the
//! host ([`HostEvent`]). Children and threads that `clone` starts are only recorded: a test
//! runs syscalls "as" one with another [`Syscall`] (see [`TestMachine::run`]). [`block_on`]
//! drives a call's future on the calling thread.
//!
//! ```
//! use rvisor_linux_syscall::testing::TestMachine;
//!
//! let machine = TestMachine::new();
//! let init = machine.init();
//! let child = machine.run(&init, 1, 57, [0; 6]); // fork
//! assert_eq!(child, 2);
//! assert_eq!(machine.run(&machine.process(2), 2, 39, [0; 6]), 2); // getpid as the child
//! ```

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::task::Wake;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::task::{Context, Poll, Waker};
use core::time::Duration;
use kernel_hal_lkm::{platform, MmuFlags, PageTable, PhysFrame, PAGE_SIZE};
use kernel_hostfs::{FileSystem, HostFs, INode};
use linux_object::container::{Container, Pid};
use linux_object::credentials::Credentials;
use linux_object::elf::{AddressSpace, LoadedProgram};
use linux_object::process::{ExitStatus, LinuxProcess};
use linux_object::vm::{vm_error, VmarSpace};
use linux_object::{LxError, LxResult};
use spin::Mutex;
use std::collections::BTreeMap;
use std::format;
use std::path::{Path, PathBuf};
use zircon_object::vm::{Placement, VmAddressRegion, VmError, VmObject};

use crate::host::{
    CloneFlags, CpuClock, ExecSpace, IdChange, LimitRequest, MmapFlags, MmapProt, MmapRequest,
    NewTask, ResourceLimit, SignalTarget, TaskHost,
};
use crate::user::{copy_from_user, copy_to_user, UserOutPtr};
use crate::Syscall;

/// Mapped user memory for a test, with a bump allocator.
pub struct UserArena {
    _table: Mutex<Box<dyn PageTable>>,
    _frames: Vec<PhysFrame>,
    base: usize,
    len: usize,
    next: AtomicUsize,
}

impl UserArena {
    /// `pages` pages of zeroed, readable and writable user memory.
    ///
    /// # Panics
    ///
    /// If the host HAL cannot provide them (a test setup failure).
    pub fn new(pages: usize) -> Self {
        // A buddy allocator hands out power-of-two runs.
        let memory = platform()
            .and_then(|platform| platform.new_physical_memory(pages.next_power_of_two()))
            .expect("host physical memory");
        let frames = PhysFrame::alloc_contiguous(&memory, pages, 0).expect("frames");
        let mut table = memory.clone().new_page_table().expect("page table");
        let base = table.region().start;
        let first = frames.first().map_or(0, PhysFrame::paddr);
        table
            .map(base, first, pages, MmuFlags::READ | MmuFlags::WRITE)
            .expect("mapping the arena");
        Self {
            _table: Mutex::new(table),
            _frames: frames,
            base,
            len: pages * PAGE_SIZE,
            next: AtomicUsize::new(0),
        }
    }

    /// The first address of the arena.
    pub fn base(&self) -> usize {
        self.base
    }

    /// An address right after the arena: not mapped, so any access there is `EFAULT`.
    pub fn unmapped(&self) -> usize {
        self.base + self.len
    }

    /// Reserves `len` bytes (8-byte aligned) and returns their address.
    ///
    /// # Panics
    ///
    /// If the arena is full.
    pub fn alloc(&self, len: usize) -> usize {
        let offset = self.next.fetch_add(len.div_ceil(8) * 8, Ordering::Relaxed);
        assert!(offset + len <= self.len, "user arena exhausted");
        self.base + offset
    }

    /// Places `bytes` in the arena and returns their address.
    pub fn put_bytes(&self, bytes: &[u8]) -> usize {
        let addr = self.alloc(bytes.len());
        copy_to_user(addr, bytes).expect("writing the arena");
        addr
    }

    /// Places `text` and a NUL in the arena and returns its address.
    pub fn put_cstr(&self, text: &str) -> usize {
        let mut bytes = Vec::from(text.as_bytes());
        bytes.push(0);
        self.put_bytes(&bytes)
    }

    /// Places `bytes` so that they end exactly at the end of the arena (the next byte faults).
    pub fn put_at_end(&self, bytes: &[u8]) -> usize {
        let addr = self.unmapped() - bytes.len();
        copy_to_user(addr, bytes).expect("writing the arena");
        addr
    }

    /// Reads `len` bytes at `addr`.
    pub fn get_bytes(&self, addr: usize, len: usize) -> Vec<u8> {
        let mut bytes = alloc::vec![0; len];
        copy_from_user(addr, &mut bytes).expect("reading the arena");
        bytes
    }
}

/// Frames of a test machine's physical memory (sparse: only touched frames cost memory).
const MACHINE_FRAMES: usize = 1 << 15;

/// What reached the host, in order.
#[derive(Clone)]
pub enum HostEvent {
    /// A wait's signal mask installed.
    WaitSigmaskSet(u64),
    /// The caller's CPUs set from `len` bytes at user address `mask`.
    SetOwnCpuAffinity {
        /// The bitmap's length.
        len: usize,
        /// Its user address.
        mask: usize,
    },
    /// The thread's own mask restored, at once or (`interrupted`) once a signal is delivered.
    WaitSigmaskRestored {
        /// Whether a signal ended the wait.
        interrupted: bool,
    },
    /// `set_tid_address` / `CLONE_CHILD_CLEARTID` of thread `tid`.
    ClearChildTid {
        /// The calling thread.
        tid: Pid,
        /// The address.
        addr: usize,
    },
    /// A task was started.
    Started(StartedTask),
    /// A program was installed in process `pid` by thread `tid`.
    Installed {
        /// The process.
        pid: Pid,
        /// The thread that called `execve`.
        tid: Pid,
        /// What was loaded.
        program: LoadedProgram,
        /// The task's new name.
        comm: String,
    },
    /// Thread `tid` of `pid` ended.
    ExitThread {
        /// The process.
        pid: Pid,
        /// The thread.
        tid: Pid,
        /// Its status.
        status: ExitStatus,
    },
    /// Every thread of `pid` ended.
    ExitGroup {
        /// The process.
        pid: Pid,
        /// Its status.
        status: ExitStatus,
    },
    /// Process `pid` reaped its child `child` with `wait4`.
    Reaped {
        /// The waiting process.
        pid: Pid,
        /// The child reaped.
        child: Pid,
    },
    /// An `mmap` request (file mappings name whether there was a file and its offset).
    Mmap {
        /// The process.
        pid: Pid,
        /// The address (hint or fixed).
        addr: usize,
        /// The length.
        len: usize,
        /// The protection.
        prot: MmapProt,
        /// The flags.
        flags: MmapFlags,
        /// The file's offset, for a file mapping.
        file_offset: Option<u64>,
    },
    /// An `munmap` request.
    Munmap {
        /// The process.
        pid: Pid,
        /// The address.
        addr: usize,
        /// The length.
        len: usize,
    },
    /// An `mprotect` request.
    Mprotect {
        /// The process.
        pid: Pid,
        /// The address.
        addr: usize,
        /// The length.
        len: usize,
        /// The protection.
        prot: MmapProt,
    },
    /// A signal sent by thread `tid` of process `pid`.
    Signal {
        /// The sending process.
        pid: Pid,
        /// The sending thread.
        tid: Pid,
        /// Where it goes.
        target: SignalTarget,
        /// The signal.
        signal: u32,
    },
    /// A resource-limit request.
    Limit(LimitRequest),
    /// An id change by thread `tid`.
    IdChange {
        /// The thread.
        tid: Pid,
        /// The change.
        change: IdChange,
    },
}

/// `RLIM_INFINITY`.
const RLIM_INFINITY: u64 = u64::MAX;

/// The limits a test process starts with: Linux's `INIT_RLIMITS` (8 MiB stack, no core
/// dumps, 8 MiB locked memory, 128 real-time priority levels are 0 here), the rest
/// unlimited.
fn default_limit(resource: u32) -> ResourceLimit {
    let (soft, hard) = match resource {
        3 => (8 << 20, RLIM_INFINITY),
        4 => (0, RLIM_INFINITY),
        8 => (8 << 20, 8 << 20),
        13 | 14 => (0, 0),
        _ => (RLIM_INFINITY, RLIM_INFINITY),
    };
    ResourceLimit { soft, hard }
}

/// A task `clone` asked the host to start.
#[derive(Clone)]
pub struct StartedTask {
    /// The thread that called `clone`.
    pub caller: Pid,
    /// The process the task runs in.
    pub process: Arc<LinuxProcess>,
    /// Its tid.
    pub tid: Pid,
    /// The flags.
    pub flags: CloneFlags,
    /// The exit signal.
    pub exit_signal: u8,
    /// The stack.
    pub stack: usize,
    /// The TLS base.
    pub tls: usize,
    /// `CLONE_CHILD_SETTID`'s address.
    pub set_child_tid: Option<usize>,
    /// `CLONE_CLEAR_SIGHAND`.
    pub clear_signal_handlers: bool,
    /// `CLONE_CHILD_CLEARTID`'s address.
    pub clear_child_tid: Option<usize>,
}

/// Every capability of Linux 6.x (`CAP_LAST_CAP` 40), as root has them.
pub const FULL_CAPABILITIES: u64 = (1 << 41) - 1;

struct MachineState {
    events: Vec<HostEvent>,
    /// Stops and continues of child processes not reported yet, as the host would keep them.
    stops: Vec<(Pid, linux_object::process::ChildState)>,
    /// The threads' capability sets (one for all: the tests' threads are root's).
    capabilities: crate::host::Capabilities,
    /// Each process's address space, made when first needed; `execve` replaces it.
    spaces: BTreeMap<Pid, Arc<VmarSpace>>,
    /// An error the next `start_task` fails with.
    fail_next_start: Option<LxError>,
    /// The limits set through `resource_limit`, by process and resource.
    limits: BTreeMap<(Pid, u32), ResourceLimit>,
    /// Each thread's ids once an id change reached the host, by tid.
    ids: BTreeMap<Pid, Credentials>,
    /// The System V segments' pages made, to drop their attachments at `munmap`.
    shared_memory: Vec<std::sync::Weak<TestSharedMemory>>,
}

/// A System V segment's pages on the test machine: only where each attachment is (process
/// and address); the tests look at the bookkeeping, not at the bytes.
pub struct TestSharedMemory {
    attached: Mutex<Vec<(Pid, usize)>>,
}

impl linux_object::ipc::shm::SharedMemory for TestSharedMemory {
    fn attachments(&self) -> usize {
        self.attached.lock().len()
    }

    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}

/// A [`TaskHost`] over the host HAL for tests: a container, its processes' address spaces,
/// and the log of what reached the host.
pub struct TestMachine {
    container: Arc<Container>,
    root_dir: PathBuf,
    /// The root directory was made for this machine and goes with it.
    owns_root: bool,
    state: Mutex<MachineState>,
}

/// One simulated thread of a [`TestMachine`]: the [`TaskHost`] its syscalls see.
pub struct TestTask {
    machine: Arc<TestMachine>,
    pid: Pid,
    tid: Pid,
}

impl TestMachine {
    /// Child `pid` stopped (or continued), as the host's job control would report it, and
    /// its parent's waits look again.
    pub fn change_child(&self, pid: Pid, change: linux_object::process::ChildState) {
        self.state.lock().stops.push((pid, change));
        if let Some(process) = self.container.process(pid) {
            process.state_changed();
        }
    }

    /// A machine whose container is rooted at a new, empty temporary directory.
    ///
    /// # Panics
    ///
    /// If the directory or the physical memory cannot be made (a test setup failure).
    pub fn new() -> Arc<Self> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let root_dir = std::env::temp_dir().join(format!(
            "rvisor-syscall-machine-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&root_dir).expect("container root");
        Self::build(root_dir, true)
    }

    /// A machine whose container is rooted at the existing directory `root_dir`, which is
    /// left in place when the machine goes.
    ///
    /// # Panics
    ///
    /// If the directory or the physical memory cannot be used (a test setup failure).
    pub fn on_root(root_dir: &Path) -> Arc<Self> {
        Self::build(root_dir.to_path_buf(), false)
    }

    fn build(root_dir: PathBuf, owns_root: bool) -> Arc<Self> {
        let memory = platform()
            .and_then(|platform| platform.new_physical_memory(MACHINE_FRAMES))
            .expect("physical memory");
        let root = HostFs::new(&root_dir).expect("host fs").root_inode();
        Arc::new(Self {
            container: Container::new(1, root, memory),
            root_dir,
            owns_root,
            state: Mutex::new(MachineState {
                events: Vec::new(),
                stops: Vec::new(),
                capabilities: crate::host::Capabilities {
                    effective: FULL_CAPABILITIES,
                    permitted: FULL_CAPABILITIES,
                    inheritable: 0,
                },
                spaces: BTreeMap::new(),
                fail_next_start: None,
                limits: BTreeMap::new(),
                ids: BTreeMap::new(),
                shared_memory: Vec::new(),
            }),
        })
    }

    /// The container.
    pub fn container(&self) -> &Arc<Container> {
        &self.container
    }

    /// The host directory the container's `/` is.
    pub fn root_dir(&self) -> &Path {
        &self.root_dir
    }

    /// Creates the container's first process (pid 1).
    ///
    /// # Panics
    ///
    /// If it exists already.
    pub fn init(&self) -> Arc<LinuxProcess> {
        self.container
            .spawn_init("/init".to_string())
            .expect("the first process")
    }

    /// The process (or thread's process) with `pid`.
    ///
    /// # Panics
    ///
    /// If there is none.
    pub fn process(&self, pid: Pid) -> Arc<LinuxProcess> {
        self.container
            .process(pid)
            .expect("a process with that pid")
    }

    /// The host of thread `tid` of process `pid`.
    pub fn task(self: &Arc<Self>, pid: Pid, tid: Pid) -> TestTask {
        TestTask {
            machine: self.clone(),
            pid,
            tid,
        }
    }

    /// Runs call `nr` as thread `tid` of `process` to completion; returns `rax`.
    pub fn run(
        self: &Arc<Self>,
        process: &Arc<LinuxProcess>,
        tid: Pid,
        nr: u32,
        args: [usize; 6],
    ) -> isize {
        let host = self.task(process.pid(), tid);
        let call = Syscall {
            process,
            tid,
            host: &host,
        };
        block_on(call.run(nr, args))
    }

    /// [`Syscall::run_now`] of call `nr` as thread `tid` of `process`.
    pub fn run_now(
        self: &Arc<Self>,
        process: &Arc<LinuxProcess>,
        tid: Pid,
        nr: u32,
        args: [usize; 6],
    ) -> Option<isize> {
        let host = self.task(process.pid(), tid);
        let call = Syscall {
            process,
            tid,
            host: &host,
        };
        call.run_now(nr, args)
    }

    /// Everything that reached the host so far.
    pub fn events(&self) -> Vec<HostEvent> {
        self.state.lock().events.clone()
    }

    /// The signals sent so far: `(target, signal)`.
    pub fn signals(&self) -> Vec<(SignalTarget, u32)> {
        self.events()
            .into_iter()
            .filter_map(|event| match event {
                HostEvent::Signal { target, signal, .. } => Some((target, signal)),
                _ => None,
            })
            .collect()
    }

    /// The tasks started so far.
    pub fn started(&self) -> Vec<StartedTask> {
        self.events()
            .into_iter()
            .filter_map(|event| match event {
                HostEvent::Started(task) => Some(task),
                _ => None,
            })
            .collect()
    }

    /// Makes the next `start_task` fail with `error`.
    pub fn fail_next_start(&self, error: LxError) {
        self.state.lock().fail_next_start = Some(error);
    }

    /// The address space of process `pid`: the one `execve` installed, or a fresh one.
    ///
    /// # Panics
    ///
    /// If a fresh page table cannot be made.
    pub fn space(&self, pid: Pid) -> Arc<VmarSpace> {
        let mut state = self.state.lock();
        state
            .spaces
            .entry(pid)
            .or_insert_with(|| Arc::new(self.fresh_space().expect("an address space")))
            .clone()
    }

    fn fresh_space(&self) -> LxResult<VmarSpace> {
        let memory = self.container.physical_memory().clone();
        let table = memory
            .clone()
            .new_page_table()
            .map_err(|error| vm_error(VmError::Hal(error)))?;
        Ok(VmarSpace::new(VmAddressRegion::new_root(table), memory))
    }

    fn record(&self, event: HostEvent) {
        self.state.lock().events.push(event);
    }
}

impl Drop for TestMachine {
    fn drop(&mut self) {
        if self.owns_root {
            // Best effort: a leftover temporary directory is harmless.
            let _ = std::fs::remove_dir_all(&self.root_dir);
        }
    }
}

/// The MMU rights of an `mmap` protection.
fn prot_flags(prot: MmapProt) -> MmuFlags {
    let mut flags = MmuFlags::empty();
    flags.set(MmuFlags::READ, prot.contains(MmapProt::READ));
    flags.set(MmuFlags::WRITE, prot.contains(MmapProt::WRITE));
    flags.set(MmuFlags::EXECUTE, prot.contains(MmapProt::EXEC));
    flags
}

/// A fresh address space for `execve`, installed into the machine.
struct TestExecSpace {
    space: Arc<VmarSpace>,
    machine: Arc<TestMachine>,
    pid: Pid,
    tid: Pid,
}

impl ExecSpace for TestExecSpace {
    fn space(&self) -> &dyn AddressSpace {
        &*self.space
    }

    fn install(self: Box<Self>, program: &LoadedProgram, comm: &str) -> LxResult {
        let mut state = self.machine.state.lock();
        state.spaces.insert(self.pid, self.space.clone());
        state.events.push(HostEvent::Installed {
            pid: self.pid,
            tid: self.tid,
            program: program.clone(),
            comm: comm.to_string(),
        });
        Ok(())
    }
}

impl TaskHost for TestTask {
    fn set_clear_child_tid(&self, addr: usize) {
        self.machine.record(HostEvent::ClearChildTid {
            tid: self.tid,
            addr,
        });
    }

    fn start_task(&self, task: &NewTask<'_>) -> LxResult {
        if let Some(error) = self.machine.state.lock().fail_next_start.take() {
            return Err(error);
        }
        self.machine.record(HostEvent::Started(StartedTask {
            caller: self.tid,
            process: task.process.clone(),
            tid: task.tid,
            flags: task.flags,
            exit_signal: task.exit_signal,
            stack: task.stack,
            tls: task.tls,
            set_child_tid: task.set_child_tid,
            clear_child_tid: task.clear_child_tid,
            clear_signal_handlers: task.clear_signal_handlers,
        }));
        Ok(())
    }

    fn new_exec_space(
        &self,
        random: Option<linux_object::vm::Randomization>,
    ) -> LxResult<Box<dyn ExecSpace>> {
        let space = self.machine.fresh_space()?;
        let space = match random {
            Some(random) => space.randomized(random),
            None => space,
        };
        Ok(Box::new(TestExecSpace {
            space: Arc::new(space),
            machine: self.machine.clone(),
            pid: self.pid,
            tid: self.tid,
        }))
    }

    fn exit_thread(&self, status: ExitStatus) {
        self.machine.record(HostEvent::ExitThread {
            pid: self.pid,
            tid: self.tid,
            status,
        });
    }

    fn exit_group(&self, status: ExitStatus) {
        self.machine.record(HostEvent::ExitGroup {
            pid: self.pid,
            status,
        });
    }

    fn mmap(&self, request: &MmapRequest) -> LxResult<usize> {
        self.machine.record(HostEvent::Mmap {
            pid: self.pid,
            addr: request.addr,
            len: request.len,
            prot: request.prot,
            flags: request.flags,
            file_offset: request.file.as_ref().map(|file| file.offset),
        });
        let space = self.machine.space(self.pid);
        let vmo = VmObject::new_paged(space.physical_memory(), request.len / PAGE_SIZE)
            .map_err(vm_error)?;
        if let Some(mapped) = &request.file {
            // A private snapshot of the file's bytes: enough for tests.
            let mut bytes = crate::user::try_buffer(request.len)?;
            let read = mapped
                .file
                .read_at(mapped.offset, &mut bytes)
                .map_err(|_| LxError::ENODEV)?;
            vmo.write(0, bytes.get(..read).unwrap_or_default())
                .map_err(vm_error)?;
        }
        let vmar = space.vmar();
        let flags = prot_flags(request.prot);
        if request.flags.contains(MmapFlags::FIXED_NOREPLACE) {
            return vmar
                .map(Placement::At(request.addr), &vmo, 0, request.len, flags)
                .map_err(|error| match error {
                    VmError::Overlap => LxError::EEXIST,
                    other => vm_error(other),
                });
        }
        if request.flags.contains(MmapFlags::FIXED) {
            return vmar
                .map_replacing(request.addr, &vmo, 0, request.len, flags)
                .map_err(vm_error);
        }
        if let Ok(addr) = vmar.map(Placement::At(request.addr), &vmo, 0, request.len, flags) {
            return Ok(addr);
        }
        let addr = space.reserve(request.len)?;
        vmar.map(Placement::At(addr), &vmo, 0, request.len, flags)
            .map_err(vm_error)
    }

    fn munmap(&self, addr: usize, len: usize) -> LxResult {
        self.machine.record(HostEvent::Munmap {
            pid: self.pid,
            addr,
            len,
        });
        let end = addr.saturating_add(len);
        for memory in self
            .machine
            .state
            .lock()
            .shared_memory
            .iter()
            .filter_map(|m| m.upgrade())
        {
            memory
                .attached
                .lock()
                .retain(|&(pid, at)| pid != self.pid || !(addr..end).contains(&at));
        }
        match self.machine.space(self.pid).vmar().unmap(addr, len) {
            // Nothing of this space is mapped outside its region.
            Ok(()) | Err(VmError::OutOfRange) => Ok(()),
            Err(error) => Err(vm_error(error)),
        }
    }

    fn mprotect(&self, addr: usize, len: usize, prot: MmapProt) -> LxResult {
        self.machine.record(HostEvent::Mprotect {
            pid: self.pid,
            addr,
            len,
            prot,
        });
        self.machine
            .space(self.pid)
            .vmar()
            .protect(addr, len, prot_flags(prot))
            .map_err(|error| match error {
                VmError::NotMapped | VmError::OutOfRange => LxError::ENOMEM,
                other => vm_error(other),
            })
    }

    fn new_shared_memory(
        &self,
        _key: i32,
        _size: usize,
    ) -> LxResult<Arc<dyn linux_object::ipc::shm::SharedMemory>> {
        let memory = Arc::new(TestSharedMemory {
            attached: Mutex::new(Vec::new()),
        });
        self.machine
            .state
            .lock()
            .shared_memory
            .push(Arc::downgrade(&memory));
        Ok(memory)
    }

    fn map_shared_memory(
        &self,
        memory: &dyn linux_object::ipc::shm::SharedMemory,
        addr: usize,
        len: usize,
        _prot: MmapProt,
        replace: bool,
    ) -> LxResult<usize> {
        let memory = memory
            .as_any()
            .downcast_ref::<TestSharedMemory>()
            .ok_or(LxError::EINVAL)?;
        let mut attached = memory.attached.lock();
        // Where the host would choose: one slot of 1 GiB per attachment made so far.
        let addr = if addr == 0 {
            0x4000_0000_0000 + attached.len() * 0x4000_0000
        } else {
            addr
        };
        let taken = attached
            .iter()
            .any(|&(pid, at)| pid == self.pid && at < addr + len && addr < at + len);
        if taken && !replace {
            return Err(LxError::EINVAL);
        }
        attached.push((self.pid, addr));
        Ok(addr)
    }

    fn unmap_shared_memory(
        &self,
        memory: &dyn linux_object::ipc::shm::SharedMemory,
        addr: usize,
        len: usize,
    ) -> LxResult {
        let memory = memory
            .as_any()
            .downcast_ref::<TestSharedMemory>()
            .ok_or(LxError::EINVAL)?;
        let end = addr.saturating_add(len);
        memory
            .attached
            .lock()
            .retain(|&(pid, at)| pid != self.pid || !(addr..end).contains(&at));
        Ok(())
    }

    fn maps_start_of(
        &self,
        memory: &dyn linux_object::ipc::shm::SharedMemory,
        addr: usize,
    ) -> bool {
        memory
            .as_any()
            .downcast_ref::<TestSharedMemory>()
            .is_some_and(|memory| memory.attached.lock().contains(&(self.pid, addr)))
    }

    fn cpu_time(&self, clock: CpuClock) -> Duration {
        match clock {
            CpuClock::Process => Duration::new(3, 500),
            CpuClock::Thread => Duration::new(1, 250),
        }
    }

    fn fill_random(&self, buf: &mut [u8]) {
        for (index, byte) in buf.iter_mut().enumerate() {
            *byte = index as u8 ^ 0x5a;
        }
    }

    fn child_stop_state(
        &self,
        pid: Pid,
        stopped: bool,
        continued: bool,
        consume: bool,
    ) -> Option<linux_object::process::ChildState> {
        use linux_object::process::ChildState;
        let mut state = self.machine.state.lock();
        let found = state.stops.iter().position(|(child, change)| {
            *child == pid
                && match change {
                    ChildState::Stopped(_) => stopped,
                    ChildState::Continued => continued,
                    ChildState::Exited(_) => false,
                }
        })?;
        let (_, change) = if consume {
            state.stops.remove(found)
        } else {
            state.stops[found]
        };
        Some(change)
    }

    fn capabilities(&self, tid: Option<Pid>) -> LxResult<crate::host::Capabilities> {
        if let Some(tid) = tid {
            self.cpu_affinity(Some(tid))?;
        }
        Ok(self.machine.state.lock().capabilities)
    }

    fn set_own_capabilities(&self, caps: crate::host::Capabilities) -> LxResult {
        let mut state = self.machine.state.lock();
        // The host's rule: nothing permitted that was not, nothing effective not permitted.
        if caps.permitted & !state.capabilities.permitted != 0
            || caps.effective & !caps.permitted != 0
        {
            return Err(LxError::EPERM);
        }
        state.capabilities = caps;
        Ok(())
    }

    fn cpu_affinity(&self, tid: Option<Pid>) -> LxResult<crate::host::CpuAffinity> {
        if let Some(tid) = tid {
            // Any thread of the container's processes.
            let known = self.machine.container.pids().iter().any(|&pid| {
                self.machine
                    .container
                    .process(pid)
                    .is_some_and(|p| p.threads().contains(&tid))
            });
            if !known {
                return Err(LxError::ESRCH);
            }
        }
        // Two CPUs, both usable, in a 64-bit word.
        Ok(crate::host::CpuAffinity {
            mask: alloc::vec![3, 0, 0, 0, 0, 0, 0, 0],
            cpus: 2,
        })
    }

    fn set_own_cpu_affinity(&self, len: usize, mask: usize) -> LxResult {
        self.machine
            .record(HostEvent::SetOwnCpuAffinity { len, mask });
        Ok(())
    }

    fn set_wait_sigmask(&self, mask: u64) {
        self.machine.record(HostEvent::WaitSigmaskSet(mask));
    }

    fn restore_wait_sigmask(&self, interrupted: bool) {
        self.machine
            .record(HostEvent::WaitSigmaskRestored { interrupted });
    }

    fn alone_in_memory(&self) -> bool {
        true
    }

    fn leave_shared_memory(&self) -> LxResult {
        Ok(())
    }

    fn personality(&self) -> u32 {
        // PER_LINUX: layouts are randomised, as by default on Linux.
        0
    }

    fn machine(&self) -> linux_object::elf::Machine {
        linux_object::elf::Machine {
            hwcap: 0x178b_fbff,
            ..Default::default()
        }
    }

    fn reaped(&self, child: Pid, rusage: UserOutPtr<u8>) -> LxResult {
        self.machine.record(HostEvent::Reaped {
            pid: self.pid,
            child,
        });
        crate::host::write_no_rusage(rusage)
    }

    fn send_signal(&self, target: SignalTarget, signal: u32) -> LxResult {
        self.machine.record(HostEvent::Signal {
            pid: self.pid,
            tid: self.tid,
            target,
            signal,
        });
        Ok(())
    }

    fn send_queue_signal(&self, pid: Pid, signal: u32, _value: u64) -> LxResult {
        self.send_signal(SignalTarget::Process(pid), signal)
    }

    fn signal_ignored_or_blocked(&self, _signal: u32) -> bool {
        false
    }

    fn change_ids(&self, change: IdChange) -> LxResult<usize> {
        self.machine.record(HostEvent::IdChange {
            tid: self.tid,
            change,
        });
        let mut ids = self.credentials()?;
        let value = apply_id_change(&mut ids, change)?;
        self.machine.state.lock().ids.insert(self.tid, ids);
        Ok(value)
    }

    fn credentials(&self) -> LxResult<Credentials> {
        if let Some(ids) = self.machine.state.lock().ids.get(&self.tid) {
            return Ok(ids.clone());
        }
        let process = self
            .machine
            .container
            .process(self.pid)
            .ok_or(LxError::ESRCH)?;
        Ok(process.credentials())
    }

    fn resource_limit(&self, request: &LimitRequest) -> LxResult<ResourceLimit> {
        let mut state = self.machine.state.lock();
        state.events.push(HostEvent::Limit(*request));
        let key = (request.pid, request.resource);
        let old = state
            .limits
            .get(&key)
            .copied()
            .unwrap_or_else(|| default_limit(request.resource));
        if let Some(new) = request.new {
            if new.hard > old.hard && !request.may_raise_hard {
                return Err(LxError::EPERM);
            }
            state.limits.insert(key, new);
        }
        Ok(old)
    }

    fn new_memfd(&self, name: &[u8], flags: u32) -> LxResult<Arc<dyn INode>> {
        // An unlinked file in a fresh directory stands in for a shmem file (no seals here).
        let _ = (name, flags);
        let dir = self.new_tmpfs("", false)?;
        let file = dir.create("memfd", kernel_hostfs::FileType::File, 0o777)?;
        dir.unlink("memfd")?;
        Ok(file)
    }

    fn new_tmpfs(&self, options: &str, read_only: bool) -> LxResult<Arc<dyn INode>> {
        // A fresh directory stands in for a tmpfs instance; options are not enforced here.
        let _ = (options, read_only);
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("rvisor-test-tmpfs-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|_| LxError::EIO)?;
        let fs = kernel_hostfs::HostFs::new(&dir).map_err(LxError::from)?;
        Ok(kernel_hostfs::FileSystem::root_inode(&*fs))
    }
}

/// Linux's rules for the id calls, short (`CAP_SETUID`/`CAP_SETGID` is effective uid 0):
/// what the test host does where the kernel host calls the kernel's own entries.
fn apply_id_change(ids: &mut Credentials, change: IdChange) -> LxResult<usize> {
    const KEEP: u32 = u32::MAX;
    let privileged = ids.euid == 0;
    let may = |new: u32, allowed: &[u32]| new == KEEP || privileged || allowed.contains(&new);
    let set = |field: &mut u32, new: u32| {
        if new != KEEP {
            *field = new;
        }
    };
    match change {
        IdChange::SetUid(uid) if privileged => {
            (ids.uid, ids.euid, ids.suid, ids.fsuid) = (uid, uid, uid, uid);
        }
        IdChange::SetUid(uid) if uid == ids.uid || uid == ids.suid => {
            (ids.euid, ids.fsuid) = (uid, uid);
        }
        IdChange::SetGid(gid) if privileged => {
            (ids.gid, ids.egid, ids.sgid, ids.fsgid) = (gid, gid, gid, gid);
        }
        IdChange::SetGid(gid) if gid == ids.gid || gid == ids.sgid => {
            (ids.egid, ids.fsgid) = (gid, gid);
        }
        IdChange::SetResUid(r, e, s) => {
            let current = [ids.uid, ids.euid, ids.suid];
            if !(may(r, &current) && may(e, &current) && may(s, &current)) {
                return Err(LxError::EPERM);
            }
            set(&mut ids.uid, r);
            set(&mut ids.euid, e);
            set(&mut ids.suid, s);
            ids.fsuid = ids.euid;
        }
        IdChange::SetResGid(r, e, s) => {
            let current = [ids.gid, ids.egid, ids.sgid];
            if !(may(r, &current) && may(e, &current) && may(s, &current)) {
                return Err(LxError::EPERM);
            }
            set(&mut ids.gid, r);
            set(&mut ids.egid, e);
            set(&mut ids.sgid, s);
            ids.fsgid = ids.egid;
        }
        IdChange::SetReUid(r, e) => {
            let old = ids.uid;
            if !(may(r, &[ids.uid, ids.euid]) && may(e, &[ids.uid, ids.euid, ids.suid])) {
                return Err(LxError::EPERM);
            }
            set(&mut ids.uid, r);
            set(&mut ids.euid, e);
            if r != KEEP || (e != KEEP && e != old) {
                ids.suid = ids.euid;
            }
            ids.fsuid = ids.euid;
        }
        IdChange::SetReGid(r, e) => {
            let old = ids.gid;
            if !(may(r, &[ids.gid, ids.egid]) && may(e, &[ids.gid, ids.egid, ids.sgid])) {
                return Err(LxError::EPERM);
            }
            set(&mut ids.gid, r);
            set(&mut ids.egid, e);
            if r != KEEP || (e != KEEP && e != old) {
                ids.sgid = ids.egid;
            }
            ids.fsgid = ids.egid;
        }
        IdChange::SetFsUid(fsuid) => {
            let old = ids.fsuid;
            if may(fsuid, &[ids.uid, ids.euid, ids.suid, ids.fsuid]) {
                ids.fsuid = fsuid;
            }
            return Ok(old as usize);
        }
        IdChange::SetFsGid(fsgid) => {
            let old = ids.fsgid;
            if may(fsgid, &[ids.gid, ids.egid, ids.sgid, ids.fsgid]) {
                ids.fsgid = fsgid;
            }
            return Ok(old as usize);
        }
        IdChange::SetGroups { size, list } if privileged => {
            ids.groups = crate::user::UserInPtr::<u32>::from(list).read_array(size)?;
        }
        _ => return Err(LxError::EPERM),
    }
    Ok(0)
}

/// Wakes the thread that drives a [`block_on`].
struct Unparker(std::thread::Thread);

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to completion on the calling thread, sleeping until woken between polls.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = core::pin::pin!(future);
    let waker = Waker::from(Arc::new(Unparker(std::thread::current())));
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut Context::from_waker(&waker)) {
            return output;
        }
        std::thread::park();
    }
}

/// A waker that does nothing: for polling a future by hand.
struct IgnoredWake;

impl Wake for IgnoredWake {
    fn wake(self: Arc<Self>) {}
}

/// Polls `future` once (with a waker that does nothing), as a test steps a call that waits.
pub fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    let waker = Waker::from(Arc::new(IgnoredWake));
    future.poll(&mut Context::from_waker(&waker))
}
