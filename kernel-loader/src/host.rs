//! The machine under a contained task: [`KernelTaskHost`], rVisor's `TaskHost` over the calling
//! Linux task.
//!
//! rVisor's syscall layer decides and validates; what it asks of the host here is done to the
//! current task with the kernel's own entries: `clone` for a new task (registered by the fork
//! tracepoint from the starter's [`Spawn`]), `vm_mmap`/`vm_munmap`/`mprotect` for memory, and
//! for `execve` a teardown of the old mappings followed by the new image's, all at once. Exits
//! are only recorded here: the gate ends the task once nothing of the call is left alive.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;

use kernel_hal_lkm::sync::Mutex;
use kernel_hal_lkm::PhysicalMemory;
use kernel_hostfs::{HostFs, HostINode, INode, KernelBackend};
use linux_kernel_module::hal;
use linux_kernel_module::path::HostDir;
use linux_kernel_module::process::{self, ExecStart, SignalSender, WorkRun};
use linux_kernel_module::task::{self, HeldTask, IdCall, TaskId};
use linux_kernel_module::vfs::{ExecFile, VfsObject};
use linux_kernel_module::Error;
use linux_object::container::{Pid, INIT_PID};
use linux_object::credentials::Credentials;
use linux_object::elf::{AddressSpace, LoadedProgram, Machine, Protection};
use linux_object::fs::{File, FileLike, SignalQueue};
use linux_object::ipc::shm::SharedMemory;
use linux_object::process::{ChildState, ExitStatus, LinuxProcess};
use linux_object::vm::{Randomization, VmarSpace};
use linux_object::{LxError, LxResult};
use rvisor_linux_syscall::host::{
    write_no_rusage, Capabilities, CloneFlags, CpuAffinity, CpuClock, ExecSpace, IdChange,
    LimitRequest, MmapFlags, MmapProt, MmapRequest, NewTask, ResourceLimit, SignalTarget, TaskHost,
};
use rvisor_linux_syscall::user::UserOutPtr;
use zircon_object::vm::VmAddressRegion;

use crate::container::Container;
use crate::members::{Spawn, MEMBERS};
use crate::queue;

/// The errno of a kernel error, as rVisor's syscall layer reports it.
pub fn lx_error(error: Error) -> LxError {
    LxError::try_from_errno(error.errno()).unwrap_or(LxError::EIO)
}

/// The kernel error of an rVisor one.
pub fn kernel_error(error: LxError) -> Error {
    Error::from_kernel(-i64::from(error.errno())).unwrap_or(Error::EIO)
}

/// How the task ends once its call is over: `exit(code)`, or `exit_group(code)`.
#[derive(Clone, Copy)]
pub struct Exit {
    /// The exit code (its low byte is what a parent sees).
    pub code: i32,
    /// Whether every thread of the process ends.
    pub group: bool,
}

/// rVisor's host for one call of the current task.
pub struct KernelTaskHost<'a> {
    /// The caller's container.
    pub container: &'a Arc<Container>,
    /// The caller's process.
    pub process: &'a Arc<LinuxProcess>,
    /// The exit the call asked for, if any.
    exit: Mutex<Option<Exit>>,
}

/// A System V segment's pages: an unlinked shmem file, as Linux's own segments are, mapped
/// shared by `shmat`; its attachments are the memory areas mapping it, in any process.
struct HostSharedMemory(hal::ShmemFile);

impl SharedMemory for HostSharedMemory {
    fn attachments(&self) -> usize {
        self.0.mappings()
    }

    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}

impl<'a> KernelTaskHost<'a> {
    /// The host for a call of `process`, in `container`.
    pub fn new(container: &'a Arc<Container>, process: &'a Arc<LinuxProcess>) -> Self {
        KernelTaskHost {
            container,
            process,
            exit: Mutex::new(None),
        }
    }

    /// The exit the call asked for, once it is over.
    pub fn into_exit(self) -> Option<Exit> {
        self.exit.into_inner()
    }

    /// The host task of the container's thread `tid` (`ESRCH` if the container has none).
    fn thread(&self, tid: Pid) -> LxResult<HeldTask> {
        MEMBERS
            .find_thread(self.container.id(), None, tid)
            .ok_or(LxError::ESRCH)
    }
}

/// The clone flags the host acts on (the rest rVisor did itself, see `NewTask`).
fn host_clone_flags(task: &NewTask<'_>) -> u64 {
    let kept = CloneFlags::VM
        | CloneFlags::SIGHAND
        | CloneFlags::THREAD
        | CloneFlags::SETTLS
        | CloneFlags::SYSVSEM
        | CloneFlags::IO
        | CloneFlags::CHILD_CLEARTID;
    // A process made with CLONE_VM (a vfork child) shares its parent's memory, as on Linux:
    // its execve first leaves it for memory of its own (`leave_shared_memory`).
    let flags = task.flags & kept;
    u64::from(flags.bits()) | u64::from(task.exit_signal)
}

impl TaskHost for KernelTaskHost<'_> {
    fn set_clear_child_tid(&self, addr: usize) {
        task::set_clear_child_tid(addr);
    }

    fn start_task(&self, new: &NewTask<'_>) -> LxResult {
        let me = TaskId::current();
        let spawn = Spawn {
            process: new.process.clone(),
            tid: new.tid,
            set_child_tid: new.set_child_tid,
            clear_signal_handlers: new.clear_signal_handlers,
        };
        // The host's record of its processes must have room before the child exists.
        let is_process = !new.flags.contains(CloneFlags::THREAD);
        if is_process {
            self.container.reserve_host_pid().map_err(lx_error)?;
        }
        MEMBERS.update(me, |m| m.spawning = Some(spawn));
        let started = process::host_clone(
            host_clone_flags(new),
            new.stack,
            new.clear_child_tid.unwrap_or(0),
            new.tls,
        );
        let leftover = MEMBERS.update(me, |m| m.spawning.take()).flatten();
        // A signal arriving during the host's fork gives ERESTARTNOINTR, passed on: the kernel
        // restarts the call once the handler ran, as it does a native fork.
        let host_pid = started.map_err(lx_error)?;
        if leftover.is_some() {
            // The tracepoint did not take it: the child runs unregistered, and is killed there.
            return Err(LxError::EAGAIN);
        }
        if is_process {
            self.container.add_host_pid(new.tid, host_pid);
        }
        Ok(())
    }

    fn container_pid_of_host(&self, host_tgid: i32) -> Option<Pid> {
        // Forked processes are recorded with their host pid; the ones that joined (the first
        // process, `rvisor exec`'s) are found among the member tasks.
        self.container
            .pid_of_host(host_tgid)
            .or_else(|| MEMBERS.pid_of_host_task(self.container.id(), host_tgid))
    }

    fn personality(&self) -> u32 {
        process::personality()
    }

    fn alone_in_memory(&self) -> bool {
        process::alone_in_memory()
    }

    fn child_stop_state(
        &self,
        pid: Pid,
        stopped: bool,
        continued: bool,
        consume: bool,
    ) -> Option<ChildState> {
        // Any thread of the process: its signal state is the process's.
        let task = MEMBERS.find_process(self.container.id(), pid)?;
        match task.stop_state(stopped, continued, consume)? {
            process::StopState::Stopped(signal) => Some(ChildState::Stopped(signal)),
            process::StopState::Continued => Some(ChildState::Continued),
        }
    }

    fn capabilities(&self, tid: Option<Pid>) -> LxResult<Capabilities> {
        let caps = match tid {
            None => process::capabilities(),
            Some(tid) => self.thread(tid)?.capabilities(),
        };
        Ok(Capabilities {
            effective: caps.effective,
            permitted: caps.permitted,
            inheritable: caps.inheritable,
        })
    }

    fn set_own_capabilities(&self, caps: Capabilities) -> LxResult {
        process::set_own_capabilities(process::Capabilities {
            effective: caps.effective,
            permitted: caps.permitted,
            inheritable: caps.inheritable,
        })
        .map_err(lx_error)
    }

    fn cpu_affinity(&self, tid: Option<Pid>) -> LxResult<CpuAffinity> {
        let affinity = match tid {
            None => process::cpu_affinity(),
            Some(tid) => self.thread(tid)?.cpu_affinity(),
        }
        .map_err(lx_error)?;
        Ok(CpuAffinity {
            mask: affinity.mask,
            cpus: affinity.cpus,
        })
    }

    fn set_own_cpu_affinity(&self, len: usize, mask: usize) -> LxResult {
        process::set_own_cpu_affinity(len, mask).map_err(lx_error)
    }

    fn set_wait_sigmask(&self, mask: u64) {
        process::set_wait_sigmask(mask);
    }

    fn restore_wait_sigmask(&self, interrupted: bool) {
        process::restore_wait_sigmask(interrupted);
    }

    fn leave_shared_memory(&self) -> LxResult {
        process::exec_fresh_memory().map_err(lx_error)
    }

    fn new_exec_space(&self, random: Option<Randomization>) -> LxResult<Box<dyn ExecSpace>> {
        let memory: Arc<dyn PhysicalMemory> = self.container.linux().physical_memory().clone();
        let table = memory
            .clone()
            .new_page_table()
            .map_err(|_| LxError::ENOMEM)?;
        let mut space = VmarSpace::new(VmAddressRegion::new_root(table), memory);
        // The vDSO stays where the host put it (near the top): the new stack goes below it.
        if let Some(special) = process::machine().special {
            space = space.with_stack_below(special.start);
        }
        if let Some(random) = random {
            space = space.randomized(random);
        }
        Ok(Box::new(KernelExecSpace {
            space: Arc::new(space),
            plan: Mutex::new(ExecPlan::default()),
        }))
    }

    fn exit_thread(&self, status: ExitStatus) {
        *self.exit.lock() = Some(Exit {
            code: exit_code(status),
            group: false,
        });
    }

    fn exit_group(&self, status: ExitStatus) {
        *self.exit.lock() = Some(Exit {
            code: exit_code(status),
            group: true,
        });
    }

    fn mmap(&self, request: &MmapRequest) -> LxResult<usize> {
        let prot = request.prot.bits() & (MmapProt::READ | MmapProt::WRITE | MmapProt::EXEC).bits();
        let Some(mapped) = &request.file else {
            return process::map_anonymous(request.addr, request.len, prot, request.flags.bits())
                .map_err(lx_error);
        };
        // A file of the container root maps its host file; pipes, terminals and the like
        // cannot be mapped, as on Linux.
        let inode = mapped
            .file
            .as_any()
            .downcast_ref::<File>()
            .and_then(|file| file.inode())
            .ok_or(LxError::ENODEV)?;
        let host = inode
            .downcast_ref::<HostINode<KernelBackend>>()
            .ok_or(LxError::ENODEV)?;
        host.handle()
            .map_into_current(
                request.addr,
                request.len,
                prot,
                request.flags.bits(),
                mapped.offset,
            )
            .map_err(lx_error)
    }

    fn munmap(&self, addr: usize, len: usize) -> LxResult {
        hal::unmap_current(addr, len).map_err(lx_error)
    }

    fn mprotect(&self, addr: usize, len: usize, prot: MmapProt) -> LxResult {
        hal::protect_current(addr, len, prot.bits()).map_err(lx_error)
    }

    fn new_shared_memory(&self, key: i32, size: usize) -> LxResult<Arc<dyn SharedMemory>> {
        let name = alloc::format!("SYSV{:08x}\0", key as u32);
        let name =
            core::ffi::CStr::from_bytes_with_nul(name.as_bytes()).map_err(|_| LxError::EINVAL)?;
        let file = hal::ShmemFile::new(name, size as u64).map_err(lx_error)?;
        Ok(Arc::new(HostSharedMemory(file)))
    }

    fn map_shared_memory(
        &self,
        memory: &dyn SharedMemory,
        addr: usize,
        len: usize,
        prot: MmapProt,
        replace: bool,
    ) -> LxResult<usize> {
        let memory = memory
            .as_any()
            .downcast_ref::<HostSharedMemory>()
            .ok_or(LxError::EINVAL)?;
        let flags = match (addr, replace) {
            (0, _) => 0,
            (_, true) => MmapFlags::FIXED.bits(),
            (_, false) => MmapFlags::FIXED_NOREPLACE.bits(),
        };
        match memory
            .0
            .map_shared_into_current(addr, len, prot.bits(), flags)
        {
            // shmat without SHM_REMAP over a mapping: EINVAL, as Linux's do_shmat.
            Err(Error::EEXIST) => Err(LxError::EINVAL),
            other => other.map_err(lx_error),
        }
    }

    fn unmap_shared_memory(&self, memory: &dyn SharedMemory, addr: usize, len: usize) -> LxResult {
        let memory = memory
            .as_any()
            .downcast_ref::<HostSharedMemory>()
            .ok_or(LxError::EINVAL)?;
        memory
            .0
            .unmap_range_from_current(addr, len)
            .map(drop)
            .map_err(lx_error)
    }

    fn maps_start_of(&self, memory: &dyn SharedMemory, addr: usize) -> bool {
        memory
            .as_any()
            .downcast_ref::<HostSharedMemory>()
            .and_then(|memory| memory.0.query_current(addr).ok())
            .is_some_and(|(offset, _)| offset == 0)
    }

    fn cpu_time(&self, clock: CpuClock) -> Duration {
        Duration::from_nanos(process::cpu_time_ns(clock == CpuClock::Process))
    }

    fn fill_random(&self, buf: &mut [u8]) {
        process::random_bytes(buf);
    }

    fn machine(&self) -> Machine {
        let machine = process::machine();
        Machine {
            hwcap: machine.hwcap,
            hwcap2: machine.hwcap2,
            minsigstksz: machine.minsigstksz,
            vdso: machine.vdso,
            rseq: machine.rseq,
        }
    }

    fn reaped(&self, pid: Pid, rusage: UserOutPtr<u8>) -> LxResult {
        // A child whose host task never started used nothing.
        let Some(host_pid) = self.container.take_host_pid(pid) else {
            return write_no_rusage(rusage);
        };
        match process::reap_host_child(host_pid, rusage.addr()) {
            Ok(()) => Ok(()),
            Err(Error::EFAULT) => Err(LxError::EFAULT),
            // Not the caller's on the host: an orphan of a process that entered from outside
            // went to its host parent's reaper, which reaps its task.
            Err(Error::ECHILD) => write_no_rusage(rusage),
            Err(error) => {
                log::warn!(
                    "container {}: reaping pid {pid}'s task: {error:?}",
                    self.container.id()
                );
                write_no_rusage(rusage)
            }
        }
    }

    fn send_signal(&self, target: SignalTarget, signal: u32) -> LxResult {
        let container = self.container.id();
        let (pid, found) = match target {
            SignalTarget::Process(pid) => (pid, MEMBERS.find_process(container, pid)),
            SignalTarget::Thread { pid, tid } => {
                (pid, MEMBERS.find_thread(container, Some(pid), tid))
            }
        };
        // No task left: dropped, as Linux drops a signal to a dying task.
        let Some(task) = found else {
            return Ok(());
        };
        let sender = SignalSender {
            pid: self.process.pid(),
            uid: self.process.credentials().uid,
        };
        let to_init = pid == INIT_PID;
        if matches!(target, SignalTarget::Process(_)) {
            return task
                .send_process_signal(signal, sender, to_init)
                .map_err(lx_error);
        }
        if task.id() == TaskId::current() {
            return process::signal_current_thread(signal, sender, to_init).map_err(lx_error);
        }
        // Only the thread itself can queue a signal for itself alone: it does so on its way
        // to user mode, and a wait it is in ends as if the signal had come.
        let queued = queue(task.task(), WorkRun::Interrupting, move || {
            if let Err(error) = process::signal_current_thread(signal, sender, to_init) {
                log::warn!("a thread's signal {signal} was not queued: {error:?}");
            }
        });
        match queued {
            // Past running works: the thread is exiting, and the signal is dropped.
            Err(Error::ESRCH) | Ok(()) => Ok(()),
            Err(error) => Err(lx_error(error)),
        }
    }

    fn send_queue_signal(&self, pid: Pid, signal: u32, value: u64) -> LxResult {
        let container = self.container.id();
        let Some(task) = MEMBERS.find_process(container, pid) else {
            return Ok(());
        };
        let sender = SignalSender {
            pid: self.process.pid(),
            uid: self.process.credentials().uid,
        };
        task.send_queue_signal(signal, sender, value, pid == INIT_PID)
            .map_err(lx_error)
    }

    fn signal_ignored_or_blocked(&self, signal: u32) -> bool {
        process::signal_ignored_or_blocked(signal)
    }

    fn change_ids(&self, change: IdChange) -> LxResult<usize> {
        let (call, args) = match change {
            IdChange::SetUid(uid) => (IdCall::SetUid, [uid as usize, 0, 0]),
            IdChange::SetGid(gid) => (IdCall::SetGid, [gid as usize, 0, 0]),
            IdChange::SetReUid(r, e) => (IdCall::SetReUid, [r as usize, e as usize, 0]),
            IdChange::SetReGid(r, e) => (IdCall::SetReGid, [r as usize, e as usize, 0]),
            IdChange::SetResUid(r, e, s) => {
                (IdCall::SetResUid, [r as usize, e as usize, s as usize])
            }
            IdChange::SetResGid(r, e, s) => {
                (IdCall::SetResGid, [r as usize, e as usize, s as usize])
            }
            IdChange::SetFsUid(fsuid) => (IdCall::SetFsUid, [fsuid as usize, 0, 0]),
            IdChange::SetFsGid(fsgid) => (IdCall::SetFsGid, [fsgid as usize, 0, 0]),
            IdChange::SetGroups { size, list } => (IdCall::SetGroups, [size, list, 0]),
        };
        task::host_id_call(call, args).map_err(lx_error)
    }

    fn credentials(&self) -> LxResult<Credentials> {
        current_credentials().map_err(lx_error)
    }

    fn open_socket(
        &self,
        family: i32,
        ty: i32,
        protocol: i32,
    ) -> LxResult<Arc<dyn linux_object::fs::HostSocketOps>> {
        crate::socket::KernelSocket::open(family, ty, protocol)
    }

    fn signal_queue(&self) -> LxResult<Arc<dyn SignalQueue>> {
        Ok(crate::signalfd::KernelSignalQueue::new())
    }

    fn inotify_marks(
        &self,
        queue: &Arc<linux_object::fs::InotifyQueue>,
    ) -> LxResult<(Box<dyn linux_object::fs::InotifyMarks>, usize)> {
        crate::inotify::KernelInotifyMarks::new(queue)
    }

    fn resource_limit(&self, request: &LimitRequest) -> LxResult<ResourceLimit> {
        let task = if request.pid == self.process.pid() {
            None
        } else {
            let pid = request.pid;
            let found = MEMBERS.find_process(self.container.id(), pid);
            Some(found.ok_or(LxError::ESRCH)?)
        };
        let limit = |new: Option<process::ResourceLimit>| match &task {
            Some(task) => task.resource_limit(request.resource, new),
            None => process::resource_limit(request.resource, new),
        };
        let new = request.new.map(|new| process::ResourceLimit {
            soft: new.soft,
            hard: new.hard,
        });
        // Raising a hard limit takes CAP_SYS_RESOURCE in the container as well as on the host.
        if let Some(new) = new.filter(|_| !request.may_raise_hard) {
            if new.hard > limit(None).map_err(lx_error)?.hard {
                return Err(LxError::EPERM);
            }
        }
        let old = limit(new).map_err(lx_error)?;
        Ok(ResourceLimit {
            soft: old.soft,
            hard: old.hard,
        })
    }

    fn memfd_flags(&self) -> u32 {
        linux_kernel_module::vfs::memfd_flags()
    }

    fn new_memfd(&self, name: &[u8], flags: u32) -> LxResult<Arc<dyn INode>> {
        let (root, file) = VfsObject::new_memfd(name, flags).map_err(lx_error)?;
        let fs = HostFs::with_backend(KernelBackend, root).map_err(LxError::from)?;
        let inode: Arc<dyn INode> = fs.adopt(file).map_err(LxError::from)?;
        Ok(inode)
    }

    fn seals(&self, inode: &Arc<dyn INode>, add: Option<u32>) -> LxResult<u32> {
        let host = inode
            .downcast_ref::<HostINode<KernelBackend>>()
            .ok_or(LxError::EINVAL)?;
        host.handle().seals(add).map_err(lx_error)
    }

    fn new_tmpfs(&self, options: &str, read_only: bool) -> LxResult<Arc<dyn INode>> {
        let dir = HostDir::new_tmpfs(options.as_bytes(), read_only).map_err(lx_error)?;
        let fs = HostFs::in_kernel(&dir).map_err(LxError::from)?;
        Ok(kernel_hostfs::FileSystem::root_inode(&*fs))
    }
}

/// The calling thread's ids and supplementary groups, as rVisor's credentials.
pub fn current_credentials() -> Result<Credentials, Error> {
    let ids = task::current_ids();
    Ok(Credentials {
        uid: ids.uid,
        euid: ids.euid,
        suid: ids.suid,
        fsuid: ids.fsuid,
        gid: ids.gid,
        egid: ids.egid,
        sgid: ids.sgid,
        fsgid: ids.fsgid,
        groups: task::current_groups()?,
    })
}

/// The code `exit`/`exit_group` pass for `status`.
fn exit_code(status: ExitStatus) -> i32 {
    match status {
        ExitStatus::Exited(code) => i32::from(code),
        // Not asked by rVisor's exit calls; a signal's number as a code otherwise.
        ExitStatus::Signaled(signal) => i32::from(signal),
    }
}

/// A running program's image: what its memory maps that must live as long as the mappings.
pub struct ExecImage {
    /// The address space it was built in, whose frames back the stack's initial pages and the
    /// image's copied pages (mapped privately: their unwritten pages are those frames).
    _space: Arc<VmarSpace>,
    /// The executable, kept from writers while the program runs (Linux's `mm->exe_file`).
    _executable: Option<ExecFile>,
}

/// A mapping `install` makes besides the VMAR's.
enum Planned {
    /// `len` bytes at `vaddr` of the plan's file `file`, from `offset`.
    File {
        vaddr: usize,
        len: usize,
        prot: u32,
        file: usize,
        offset: u64,
    },
    /// `len` bytes of zeroed memory at `vaddr` (a `.bss`).
    Zeroed { vaddr: usize, len: usize, prot: u32 },
}

/// The files `execve` opened and the mappings it will make of them.
#[derive(Default)]
struct ExecPlan {
    /// The files opened to run, in order (the program's first), each with the address of the
    /// node it was opened from.
    files: Vec<(usize, ExecFile)>,
    maps: Vec<Planned>,
}

/// The address space `execve` builds: a VMAR whose page table maps nothing until installed,
/// and the file and zeroed mappings planned beside it. Files are opened as Linux's
/// `open_exec` opens them (`ETXTBSY`, `noexec`) while the old program still runs, so a refusal
/// leaves it untouched; they are mapped at install, privately, straight from the host file's
/// pages, as Linux's `binfmt_elf` maps them.
struct KernelExecSpace {
    space: Arc<VmarSpace>,
    plan: Mutex<ExecPlan>,
}

/// The `PROT_*` bits of a protection.
fn prot_bits(prot: Protection) -> u32 {
    let mut bits = MmapProt::empty();
    bits.set(MmapProt::READ, prot.contains(Protection::READ));
    bits.set(MmapProt::WRITE, prot.contains(Protection::WRITE));
    bits.set(MmapProt::EXEC, prot.contains(Protection::EXEC));
    bits.bits()
}

impl KernelExecSpace {
    /// The index in the plan of `file`'s exec file, opened now if it was not yet (the pieces
    /// of one image come one after the other).
    fn exec_file(&self, file: &dyn INode) -> LxResult<usize> {
        let key = file as *const dyn INode as *const () as usize;
        {
            let plan = self.plan.lock();
            if let Some(index) = plan.files.iter().position(|(node, _)| *node == key) {
                return Ok(index);
            }
        }
        let host = file
            .downcast_ref::<HostINode<KernelBackend>>()
            .ok_or(LxError::EACCES)?;
        let opened = host.handle().open_exec().map_err(lx_error)?;
        let mut plan = self.plan.lock();
        plan.files.try_reserve(1).map_err(|_| LxError::ENOMEM)?;
        plan.files.push((key, opened));
        Ok(plan.files.len() - 1)
    }

    fn plan(&self, planned: Planned) -> LxResult {
        let mut plan = self.plan.lock();
        plan.maps.try_reserve(1).map_err(|_| LxError::ENOMEM)?;
        plan.maps.push(planned);
        Ok(())
    }

    /// Makes the planned mappings in the current process; past the point of no return.
    fn map_planned(plan: &ExecPlan) -> Result<(), Error> {
        for planned in &plan.maps {
            match *planned {
                Planned::File {
                    vaddr,
                    len,
                    prot,
                    file,
                    offset,
                } => {
                    let (_, file) = plan.files.get(file).ok_or(Error::EIO)?;
                    file.map_into_current(vaddr, len, prot, offset)?;
                }
                Planned::Zeroed { vaddr, len, prot } => {
                    let anonymous = MmapFlags::PRIVATE | MmapFlags::ANONYMOUS | MmapFlags::FIXED;
                    process::map_anonymous(vaddr, len, prot, anonymous.bits())?;
                }
            }
        }
        Ok(())
    }
}

impl AddressSpace for KernelExecSpace {
    fn reserve(&self, len: usize) -> LxResult<usize> {
        self.space.reserve(len)
    }

    fn map(&self, vaddr: usize, len: usize, prot: Protection) -> LxResult {
        self.space.map(vaddr, len, prot)
    }

    fn write(&self, vaddr: usize, data: &[u8]) -> LxResult {
        self.space.write(vaddr, data)
    }

    fn map_file(
        &self,
        vaddr: usize,
        len: usize,
        prot: Protection,
        file: &dyn INode,
        offset: usize,
    ) -> LxResult {
        let file = self.exec_file(file)?;
        self.space.reserve_range(vaddr, len)?;
        self.plan(Planned::File {
            vaddr,
            len,
            prot: prot_bits(prot),
            file,
            offset: offset as u64,
        })
    }

    fn map_zeroed(&self, vaddr: usize, len: usize, prot: Protection) -> LxResult {
        self.space.reserve_range(vaddr, len)?;
        self.plan(Planned::Zeroed {
            vaddr,
            len,
            prot: prot_bits(prot),
        })
    }

    fn stack_top(&self) -> usize {
        self.space.stack_top()
    }

    fn map_stack(&self, bottom: usize, len: usize, sp: usize, contents: &[u8]) -> LxResult {
        self.space.map_stack(bottom, len, sp, contents)
    }
}

impl ExecSpace for KernelExecSpace {
    fn space(&self) -> &dyn AddressSpace {
        self
    }

    fn install(self: Box<Self>, program: &LoadedProgram, comm: &str) -> LxResult {
        // `execve` left any shared memory first (`leave_shared_memory`), so no other thread
        // runs in what the teardown removes; should one have appeared, nothing is torn down.
        if !process::current_is_single_threaded() {
            return Err(LxError::EAGAIN);
        }
        let KernelExecSpace { space, plan } = *self;
        let mut plan = plan.into_inner();
        // The point of no return: past the teardown, a failure can only kill the task.
        if let Err(error) = process::exec_teardown() {
            log::warn!("execve: tearing down the old image failed ({error:?}): killed");
            task::kill_current();
            return Err(lx_error(error));
        }
        if let Err(error) = space.vmar().activate() {
            log::warn!("execve: mapping the new image failed ({error}): killed");
            task::kill_current();
            return Err(LxError::ENOMEM);
        }
        if let Err(error) = Self::map_planned(&plan) {
            log::warn!("execve: mapping the program's file failed ({error:?}): killed");
            task::kill_current();
            return Err(lx_error(error));
        }
        if let Some(stack) = space.unbacked_stack() {
            let anonymous = MmapFlags::PRIVATE | MmapFlags::ANONYMOUS | MmapFlags::FIXED;
            let prot = MmapProt::READ | MmapProt::WRITE;
            let mapped = process::map_anonymous(
                stack.start,
                stack.end - stack.start,
                prot.bits(),
                anonymous.bits(),
            );
            if let Err(error) = mapped {
                log::warn!("execve: mapping the stack failed ({error:?}): killed");
                task::kill_current();
                return Err(lx_error(error));
            }
        }
        process::exec_start(&ExecStart {
            entry: program.entry,
            sp: program.stack_pointer,
            brk: program.brk,
            mmap_base: space.mmap_base(),
            comm: comm.as_bytes(),
            args: program.args.clone(),
            env: program.env.clone(),
        });
        // The program's file stays denied to writers; the interpreter's is given back, as
        // Linux gives it back at the end of `execve`.
        let executable = (!plan.files.is_empty()).then(|| plan.files.swap_remove(0).1);
        drop(plan);
        let image = Arc::new(ExecImage {
            _space: space,
            _executable: executable,
        });
        let old = MEMBERS
            .update(TaskId::current(), |m| m.image.replace(image))
            .flatten();
        // Outside the member lock: the old image's frames are given back to the file.
        drop(old);
        Ok(())
    }
}
