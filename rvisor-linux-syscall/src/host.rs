//! [`TaskHost`]: what the syscall layer asks of the machine under a contained process. The
//! kernel module implements it over the calling Linux task; tests implement it over the host
//! HAL ([`crate::testing`]).
//!
//! The split: rVisor decides and validates (flags, permissions, pids, fds, the program image),
//! the host does what only the machine can — start a task, install an address space and start
//! a program in it, map memory into the task, end a thread. Every request reaching the host
//! has been checked as Linux checks it, so the host may pass it on to Linux as it is.
//!
//! Every method acts on the *calling* thread (the kernel knows it as `current`); a test host
//! is made per simulated thread.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use bitflags::bitflags;
use core::time::Duration;
use kernel_hostfs::INode;
use linux_object::container::Pid;
use linux_object::credentials::Credentials;
use linux_object::elf::Machine;
use linux_object::elf::{AddressSpace, LoadedProgram};
use linux_object::fs::{FileLike, HostSocketOps, SignalQueue};
use linux_object::ipc::shm::SharedMemory;
use linux_object::process::{ChildState, ExitStatus, LinuxProcess};
use linux_object::vm::Randomization;
use linux_object::LxResult;

use crate::user::UserOutPtr;

/// The size of `struct rusage` on x86-64: 2 `timeval`s and 14 longs.
pub const RUSAGE_SIZE: usize = 144;

/// Writes an all-zero `struct rusage` to `rusage` unless it is null: the usage of a child
/// that never ran as a host task.
pub fn write_no_rusage(rusage: UserOutPtr<u8>) -> LxResult {
    if rusage.is_null() {
        return Ok(());
    }
    rusage.write_bytes(&[0; RUSAGE_SIZE])
}

bitflags! {
    /// `clone` flags (`<uapi/linux/sched.h>`), without the exit signal (the low byte).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct CloneFlags: u32 {
        /// Share the address space.
        const VM = 0x0000_0100;
        /// Share root, cwd and umask.
        const FS = 0x0000_0200;
        /// Share the fd table.
        const FILES = 0x0000_0400;
        /// Share signal handlers.
        const SIGHAND = 0x0000_0800;
        /// Return a pidfd (refused: see `sys_clone`).
        const PIDFD = 0x0000_1000;
        /// Let a tracer follow the child (ptrace is refused anyway).
        const PTRACE = 0x0000_2000;
        /// The parent sleeps until the child execs or exits.
        const VFORK = 0x0000_4000;
        /// The child's parent is the caller's parent.
        const PARENT = 0x0000_8000;
        /// A thread of the caller's process.
        const THREAD = 0x0001_0000;
        /// New mount namespace.
        const NEWNS = 0x0002_0000;
        /// Share System V semaphore undo lists.
        const SYSVSEM = 0x0004_0000;
        /// Set the child's TLS (`fs` base) to the `tls` argument.
        const SETTLS = 0x0008_0000;
        /// Write the child's tid at `parent_tid` in the caller's memory.
        const PARENT_SETTID = 0x0010_0000;
        /// Clear (and futex-wake) `child_tid` in the child's memory when it exits.
        const CHILD_CLEARTID = 0x0020_0000;
        /// Ignored by Linux.
        const DETACHED = 0x0040_0000;
        /// A tracer cannot force CLONE_PTRACE.
        const UNTRACED = 0x0080_0000;
        /// Write the child's tid at `child_tid` in the child's memory.
        const CHILD_SETTID = 0x0100_0000;
        /// New cgroup namespace.
        const NEWCGROUP = 0x0200_0000;
        /// New UTS namespace.
        const NEWUTS = 0x0400_0000;
        /// New IPC namespace.
        const NEWIPC = 0x0800_0000;
        /// New user namespace.
        const NEWUSER = 0x1000_0000;
        /// New pid namespace.
        const NEWPID = 0x2000_0000;
        /// New network namespace.
        const NEWNET = 0x4000_0000;
        /// Share the I/O context.
        const IO = 0x8000_0000;
    }
}

/// A task to start: a new child process's first thread, or a new thread of the caller's
/// process. rVisor has registered it (pid/tid, parent) before the host sees it, so the task
/// can never be observed unregistered.
pub struct NewTask<'a> {
    /// The process the task runs in: a new child, or the caller's own for `CLONE_THREAD`.
    pub process: &'a Arc<LinuxProcess>,
    /// The task's thread id in the container (the child's pid for a new process).
    pub tid: Pid,
    /// The validated flags. The host acts on those about the machine — `VM` (share the
    /// memory, else copy it as `fork` does), `SIGHAND`, `THREAD`, `SETTLS`, `SYSVSEM`, `IO` —
    /// and may ignore the rest, which rVisor has handled (`FILES`, `FS`, `PARENT`, `VFORK`,
    /// `PARENT_SETTID`).
    pub flags: CloneFlags,
    /// The signal the parent gets when the child exits (`SIGCHLD` for `fork`); 0 for a thread.
    pub exit_signal: u8,
    /// The child's stack pointer; 0 keeps the caller's.
    pub stack: usize,
    /// The child's TLS base with `CLONE_SETTLS`.
    pub tls: usize,
    /// `CLONE_CHILD_SETTID`: where the child writes its tid (the container's), in its own
    /// memory, before it first runs user code. Linux ignores a fault there.
    pub set_child_tid: Option<usize>,
    /// `CLONE_CHILD_CLEARTID`: where the child's tid is cleared and a futex woken when it
    /// exits (what `set_tid_address` sets for the caller).
    pub clear_child_tid: Option<usize>,
    /// `CLONE_CLEAR_SIGHAND` (`clone3`): the child's signal handlers are reset to the default
    /// (those ignored stay ignored) before any signal reaches it.
    pub clear_signal_handlers: bool,
}

/// A fresh address space made for `execve`: the program is loaded into it through
/// [`space`](Self::space), and only once that succeeded does [`install`](Self::install) make it
/// the process's. Dropping it without installing discards it and leaves the caller untouched.
pub trait ExecSpace: Send {
    /// The loader's view of the space (it asks the space where the stack goes).
    fn space(&self) -> &dyn AddressSpace;

    /// Replaces the calling process's address space by this one and makes the calling thread
    /// start `program` (at `program.entry`, stack pointer `program.stack_pointer`, registers
    /// otherwise cleared) when the call returns. The host also does what exec does to the
    /// task (Linux's `begin_new_exec`): the other threads of the process end, the calling
    /// thread takes the process's pid as its tid, signal handlers are reset, the
    /// alternate signal stack, robust list, rseq and `clear_child_tid` are forgotten, and the
    /// task is named `comm` (truncated to 15 bytes). On error the old address space must
    /// still be in place.
    fn install(self: Box<Self>, program: &LoadedProgram, comm: &str) -> LxResult;
}

bitflags! {
    /// Memory protection (`PROT_*`) as `mmap` and `mprotect` take it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct MmapProt: u32 {
        /// Readable.
        const READ = 0x1;
        /// Writable.
        const WRITE = 0x2;
        /// Executable.
        const EXEC = 0x4;
        /// Usable for atomic operations (no effect on x86).
        const SEM = 0x8;
        /// `mprotect` only: extend down to the start of a grows-down mapping.
        const GROWSDOWN = 0x0100_0000;
        /// `mprotect` only: extend up to the end of a grows-up mapping (none on x86).
        const GROWSUP = 0x0200_0000;
    }
}

bitflags! {
    /// `mmap` flags (x86-64 values) that rVisor hands on; others are dropped before the host
    /// sees them.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct MmapFlags: u32 {
        /// Shared with other mappings of the same object.
        const SHARED = 0x01;
        /// Private copy-on-write.
        const PRIVATE = 0x02;
        /// At exactly `addr`, replacing what is there.
        const FIXED = 0x10;
        /// Not backed by a file.
        const ANONYMOUS = 0x20;
        /// In the low 2 GiB.
        const MAP_32BIT = 0x40;
        /// A stack that grows down.
        const GROWSDOWN = 0x0100;
        /// Ignored by Linux.
        const DENYWRITE = 0x0800;
        /// Ignored by Linux.
        const EXECUTABLE = 0x1000;
        /// Lock the pages.
        const LOCKED = 0x2000;
        /// Do not reserve swap.
        const NORESERVE = 0x4000;
        /// Prefault the pages.
        const POPULATE = 0x8000;
        /// With `POPULATE`: do not block on I/O.
        const NONBLOCK = 0x0001_0000;
        /// A thread stack (a hint).
        const STACK = 0x0002_0000;
        /// Huge pages (the size in bits 26..31).
        const HUGETLB = 0x0004_0000;
        /// Synchronous page faults (DAX files only).
        const SYNC = 0x0008_0000;
        /// At exactly `addr`, failing with `EEXIST` if anything is mapped there.
        const FIXED_NOREPLACE = 0x0010_0000;
    }
}

/// The file behind a file-backed mapping, for the host to map (the kernel maps the host
/// `struct file` under it; a kind it cannot map gives `ENODEV`).
pub struct MappedFile {
    /// The open file description the fd named; its access mode has been checked.
    pub file: Arc<dyn FileLike>,
    /// The offset in the file of the first mapped byte (page aligned).
    pub offset: u64,
}

/// An `mmap` that rVisor has validated, to be made by the host.
pub struct MmapRequest {
    /// The address: exact with `FIXED`/`FIXED_NOREPLACE` (page aligned, and the range within
    /// user space), else a hint.
    pub addr: usize,
    /// The length, a non-zero page multiple.
    pub len: usize,
    /// The protection (`READ`, `WRITE`, `EXEC`, `SEM` only).
    pub prot: MmapProt,
    /// The flags: exactly one of `SHARED` and `PRIVATE`, and `ANONYMOUS` iff `file` is `None`.
    /// With `HUGETLB` the raw huge-page-size bits 26..31 are kept.
    pub flags: MmapFlags,
    /// The file, for a file-backed mapping.
    pub file: Option<MappedFile>,
}

/// A CPU-time clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuClock {
    /// CPU time of every thread of the calling process (`CLOCK_PROCESS_CPUTIME_ID`).
    Process,
    /// CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID`).
    Thread,
}

/// Who a signal goes to, in the caller's container's ids. rVisor has found the target and
/// checked that the caller may signal it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalTarget {
    /// A process (`kill`): the signal is the process's, taken by whichever of its threads
    /// can (Linux's `PIDTYPE_TGID`).
    Process(Pid),
    /// One thread of a process (`tkill`, `tgkill`): the signal is that thread's.
    Thread {
        /// The process.
        pid: Pid,
        /// The thread.
        tid: Pid,
    },
}

/// A resource limit (`struct rlimit64`); `RLIM_INFINITY` is `u64::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceLimit {
    /// The soft limit (`rlim_cur`), what the kernel enforces.
    pub soft: u64,
    /// The hard limit (`rlim_max`), the ceiling of the soft one.
    pub hard: u64,
}

/// A resource-limit request rVisor passes to the host (`getrlimit`, `setrlimit`,
/// `prlimit64`) for every resource but `RLIMIT_NOFILE`, which rVisor keeps itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitRequest {
    /// The process whose limit it is: the caller's own, or another process of its container
    /// that it may change (checked).
    pub pid: Pid,
    /// The resource (`RLIMIT_*`), below `RLIM_NLIMITS` (16), never `RLIMIT_NOFILE` (7).
    pub resource: u32,
    /// The new limit (`soft <= hard` checked), or `None` to read only.
    pub new: Option<ResourceLimit>,
    /// Whether the caller may raise the hard limit (`CAP_SYS_RESOURCE`: effective uid 0).
    pub may_raise_hard: bool,
}

/// The CPUs a thread may run on, as `sched_getaffinity` gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuAffinity {
    /// The bitmap, one bit per CPU id, in the host's `cpumask_size()` bytes.
    pub mask: Vec<u8>,
    /// How many CPU ids there are: a caller's buffer must hold a bit for each.
    pub cpus: usize,
}

/// A thread's capability sets, one bit per capability (`capget`, `capset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// What it may do now.
    pub effective: u64,
    /// What it may make effective.
    pub permitted: u64,
    /// What an `execve` may keep.
    pub inheritable: u64,
}

/// A change of the calling thread's user or group ids: one of the id calls, with its
/// arguments as the program passed them. The host applies it with its own rules (capabilities,
/// security modules), so that what the thread may then do on the host and in rVisor agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdChange {
    /// `setuid(uid)`
    SetUid(u32),
    /// `setgid(gid)`
    SetGid(u32),
    /// `setreuid(ruid, euid)` (`u32::MAX` leaves one unchanged)
    SetReUid(u32, u32),
    /// `setregid(rgid, egid)`
    SetReGid(u32, u32),
    /// `setresuid(ruid, euid, suid)`
    SetResUid(u32, u32, u32),
    /// `setresgid(rgid, egid, sgid)`
    SetResGid(u32, u32, u32),
    /// `setfsuid(fsuid)`: never fails; returns the old one.
    SetFsUid(u32),
    /// `setfsgid(fsgid)`
    SetFsGid(u32),
    /// `setgroups(size, list)`: `list` is the address of `size` gids in the caller's memory.
    SetGroups {
        /// How many groups.
        size: usize,
        /// Their address.
        list: usize,
    },
}

/// The machine under the calling thread.
pub trait TaskHost: Sync {
    /// Records where the thread's id is cleared (and a futex woken) when it exits
    /// (`set_tid_address`, `CLONE_CHILD_CLEARTID`).
    fn set_clear_child_tid(&self, addr: usize);

    /// Starts `task`: a copy of the calling task (sharing what its flags say) that returns 0
    /// from `clone` in user mode. On error nothing was started and rVisor forgets the task.
    fn start_task(&self, task: &NewTask<'_>) -> LxResult;

    /// A fresh, empty address space for `execve` to load a program into, its layout moved by
    /// `random` (see [`Randomization`]) or, without, where Linux puts it with randomisation
    /// off.
    fn new_exec_space(&self, random: Option<Randomization>) -> LxResult<Box<dyn ExecSpace>>;

    /// The calling task's execution domain (`personality`), which its `execve` honours
    /// (`ADDR_NO_RANDOMIZE`).
    fn personality(&self) -> u32;

    /// True if the calling task is the only one its memory serves: no other thread, no
    /// process sharing it (`CLONE_VM`, as a `vfork` child shares its parent's).
    fn alone_in_memory(&self) -> bool;

    /// Gives the calling task memory of its own, as Linux's `execve` does before it loads a
    /// program: its other threads end and a process sharing the old memory keeps it. The
    /// point of no return of `execve` for such a task: on success, its old program is gone.
    fn leave_shared_memory(&self) -> LxResult;

    /// Ends the calling thread with `status` once this call returns; it never returns to
    /// user mode. rVisor has already recorded the exit (and, for the last thread, the
    /// process's). The host clears and wakes its `clear_child_tid`.
    fn exit_thread(&self, status: ExitStatus);

    /// Ends every thread of the calling process with `status` (`exit_group`) once this call
    /// returns. rVisor has already recorded the process's exit.
    fn exit_group(&self, status: ExitStatus);

    /// Maps memory into the calling process and returns its address.
    fn mmap(&self, request: &MmapRequest) -> LxResult<usize>;

    /// Unmaps `len` bytes (a non-zero page multiple) from the page-aligned `addr`; holes are
    /// fine.
    fn munmap(&self, addr: usize, len: usize) -> LxResult;

    /// Changes the protection of `len` bytes (a non-zero page multiple) from the page-aligned
    /// `addr`; `ENOMEM` if part of the range is not mapped.
    fn mprotect(&self, addr: usize, len: usize, prot: MmapProt) -> LxResult;

    /// New host pages for a System V shared memory segment of `size` bytes with key `key`
    /// (named as Linux names them: `SYSV` and the key in eight hex digits).
    fn new_shared_memory(&self, key: i32, size: usize) -> LxResult<Arc<dyn SharedMemory>>;

    /// Maps all `len` bytes of `memory` shared into the calling process with `prot`: at `addr`
    /// exactly (replacing what is mapped there only with `replace`, else `EINVAL`) or, for 0,
    /// where the host chooses; returns the address.
    fn map_shared_memory(
        &self,
        memory: &dyn SharedMemory,
        addr: usize,
        len: usize,
        prot: MmapProt,
        replace: bool,
    ) -> LxResult<usize>;

    /// Whether `addr` of the calling process is mapped to the first byte of `memory`.
    fn maps_start_of(&self, memory: &dyn SharedMemory, addr: usize) -> bool;

    /// Unmaps from the calling process what maps `memory` within `addr..addr + len` where an
    /// attachment at `addr` puts it (`shmdt`: other mappings in the range stay).
    fn unmap_shared_memory(&self, memory: &dyn SharedMemory, addr: usize, len: usize) -> LxResult;

    /// CPU time used so far by the calling thread or its process.
    fn cpu_time(&self, clock: CpuClock) -> Duration;

    /// Fills `buf` from the kernel's random source (`AT_RANDOM`).
    fn fill_random(&self, buf: &mut [u8]);

    /// What the auxiliary vector of a new program says of the machine.
    fn machine(&self) -> Machine;

    /// rVisor's `wait4` or `waitid` reaped the caller's child `pid` (its zombie is gone from
    /// the container): the host reaps the task it ran as, which the host keeps as its own
    /// zombie until then, and writes the child's `struct rusage` to `rusage` unless it is
    /// null, as Linux's `wait4` does (`EFAULT` if it cannot; the child is reaped all the same).
    /// The host accounts the child's times to the caller's process as it reaps it, so
    /// `getrusage(RUSAGE_CHILDREN)` and `times` (passed to the host) see the reaped children.
    fn reaped(&self, pid: Pid, rusage: UserOutPtr<u8>) -> LxResult;

    /// Sends `signal` (1..=64; never 0, which only checks) to `target` as `kill` (for a
    /// process) or `tkill` (for a thread) would: `si_code` `SI_USER` or `SI_TKILL`,
    /// `si_pid` the caller's pid *in the container* and `si_uid` its real uid, never host
    /// ids. rVisor has checked existence and permission. A target that has exited since (a
    /// zombie, or no task left) is not an error: the signal is dropped, as Linux drops a
    /// signal to a dying task. The container's pid 1 is an init: a signal it has no handler
    /// for is dropped, as for a pid namespace's init signalled from inside.
    fn send_signal(&self, target: SignalTarget, signal: u32) -> LxResult;

    /// Sends `signal` (1..=64) to process `pid` of the container as a POSIX message queue's
    /// notification would: `si_code` `SI_MESGQ`, `si_value` `value`, `si_pid` and `si_uid` the
    /// caller's container pid and real uid. A process that has exited since is not an error.
    fn send_queue_signal(&self, pid: Pid, signal: u32, value: u64) -> LxResult;

    /// Whether the calling thread blocks or ignores `signal` (a terminal's job control then
    /// lets a background read fail with `EIO` and a background write through, rather than
    /// stopping the process).
    fn signal_ignored_or_blocked(&self, signal: u32) -> bool;

    /// The stop or continue of the container's process `pid` that the host's job control made
    /// and that no wait reported yet: a stop if `stopped`, a continue if `continued`, consumed
    /// (as a wait that reports it consumes it) if `consume`. `None` if there is none (or no
    /// such process).
    fn child_stop_state(
        &self,
        pid: Pid,
        stopped: bool,
        continued: bool,
        consume: bool,
    ) -> Option<ChildState>;

    /// The capability sets of thread `tid` of the container (`None`: the caller) — the host
    /// task's own, which rVisor's id calls keep in step with its credentials; `ESRCH` if the
    /// container has no such thread.
    fn capabilities(&self, tid: Option<Pid>) -> LxResult<Capabilities>;

    /// Sets the caller's capability sets, by the host's rules (`EPERM` for a set that would
    /// grow past what permits it).
    fn set_own_capabilities(&self, caps: Capabilities) -> LxResult;

    /// The CPUs thread `tid` of the container (`None`: the caller) may run on; `ESRCH` if the
    /// container has no such thread.
    fn cpu_affinity(&self, tid: Option<Pid>) -> LxResult<CpuAffinity>;

    /// Sets the caller's CPUs from the `len`-byte bitmap at user address `mask`, with the
    /// host's own checks (its cpuset, `EINVAL` for a set with no CPU that may be used,
    /// `EFAULT`).
    fn set_own_cpu_affinity(&self, len: usize, mask: usize) -> LxResult;

    /// Blocks the signals of `mask` (and only those) in the calling thread for a wait, as
    /// `ppoll` and `pselect6` do; the mask the thread had is kept to be restored.
    fn set_wait_sigmask(&self, mask: u64);

    /// Ends what [`set_wait_sigmask`](Self::set_wait_sigmask) began. A wait that a signal
    /// ended (`interrupted`) leaves the kept mask to be restored once that signal is delivered
    /// (its handler runs with the wait's mask, as on Linux); any other restores it now.
    fn restore_wait_sigmask(&self, interrupted: bool);

    /// Applies `change` to the calling thread's ids as the host's own id call does (its
    /// errors, e.g. `EPERM`, included) and returns that call's value.
    fn change_ids(&self, change: IdChange) -> LxResult<usize>;

    /// The calling thread's ids, supplementary groups included, as the host has them.
    fn credentials(&self) -> LxResult<Credentials>;

    /// Reads, and with `request.new` replaces, the limit of `request.resource` of the
    /// process `request.pid` (every thread of it shares it), as Linux's `do_prlimit`; returns
    /// the limit as it was before. `EPERM` if the new hard limit is above the current one and
    /// `request.may_raise_hard` is false (only the host knows the current one); `ESRCH` if
    /// the process has no task left.
    fn resource_limit(&self, request: &LimitRequest) -> LxResult<ResourceLimit>;

    /// The root of a new tmpfs instance configured with tmpfs's own `options` (`size=`,
    /// `nr_inodes=`, `mode=`…), read-only if `read_only`, for `mount(2)`: the host's
    /// error for options it refuses (`EINVAL`).
    fn new_tmpfs(&self, options: &str, read_only: bool) -> LxResult<Arc<dyn INode>>;
    /// A host kernel socket `socket(family, ty, protocol)` (`ty` without its flags) in the
    /// container's network namespace, with the host's errors. Hosts without a network keep
    /// the default, `EAFNOSUPPORT` (a kernel without the family).
    fn open_socket(
        &self,
        _family: i32,
        _ty: i32,
        _protocol: i32,
    ) -> LxResult<Arc<dyn HostSocketOps>> {
        Err(linux_object::LxError::EAFNOSUPPORT)
    }

    /// The container pid of the host process `host_tgid`, if it is one of the container's
    /// processes (for `F_GETLK`, whose lock holders the host records by host tgid). Hosts
    /// without host processes keep the default, `None`.
    fn container_pid_of_host(&self, _host_tgid: i32) -> Option<Pid> {
        None
    }

    /// The `MFD_*` flags the host kernel's `memfd_create` takes. Hosts without memfds keep
    /// the default, those of Linux before 6.3 (`MFD_CLOEXEC`, `MFD_ALLOW_SEALING`,
    /// `MFD_HUGETLB`).
    fn memfd_flags(&self) -> u32 {
        0x7
    }

    /// A new memfd file named `memfd:NAME` (`name` without NUL bytes), as Linux's
    /// `memfd_create` makes it with `flags` (`MFD_ALLOW_SEALING`, `MFD_NOEXEC_SEAL`): an
    /// unlinked regular file of size 0 in host memory. Hosts without memfds keep the default,
    /// `ENOSYS`.
    fn new_memfd(&self, _name: &[u8], _flags: u32) -> LxResult<Arc<dyn INode>> {
        Err(linux_object::LxError::ENOSYS)
    }

    /// The seals of the file `inode` (`F_GET_SEALS`), or, with `add`, those after adding
    /// these (`F_ADD_SEALS`, on a description the caller checked is writable), kept and
    /// enforced by the host: `EINVAL` for a file that cannot be sealed (not a host shmem
    /// file) or an unknown seal, `EPERM` once `F_SEAL_SEAL` is set, `EBUSY` for
    /// `F_SEAL_WRITE` while a writable shared mapping exists. Hosts without seals keep the
    /// default, `EINVAL` for every file.
    fn seals(&self, _inode: &Arc<dyn INode>, _add: Option<u32>) -> LxResult<u32> {
        Err(linux_object::LxError::EINVAL)
    }

    /// The pending signals of whichever thread uses it, for a new `signalfd` (signals are
    /// queued by the host to the contained process's host tasks). Hosts that cannot take
    /// them keep the default, `ENOSYS`, as Linux without `CONFIG_SIGNALFD`.
    fn signal_queue(&self) -> LxResult<Arc<dyn SignalQueue>> {
        Err(linux_object::LxError::ENOSYS)
    }

    /// The host marks of a new inotify instance reporting to `queue`, and the watch limit of
    /// its user (Linux's `max_user_watches`). Hosts without host inodes keep the default:
    /// every watch is rVisor's own (and never fires), 8192 of them (Linux's least).
    fn inotify_marks(
        &self,
        _queue: &Arc<linux_object::fs::InotifyQueue>,
    ) -> LxResult<(Box<dyn linux_object::fs::InotifyMarks>, usize)> {
        Ok((Box::new(linux_object::fs::NoHostMarks), 8192))
    }
}
