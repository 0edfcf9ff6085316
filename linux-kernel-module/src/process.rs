//! The host half of the process calls rVisor serves: once rVisor has done a call's container
//! side (ids, parents, fds), these make the calling Linux task do the machine's side — start a
//! task, end one, reap one, replace its program — and run deferred work in a task's context.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ops::Range;

use crate::bindings;
use crate::error::{Error, Result};
use crate::task::{HeldTask, TaskRef};

/// `clone(flags, stack, NULL, child_tid, tls)` by the calling task: the child is a copy of the
/// caller returning 0 from this syscall in user mode. Returns the child's host pid, which is
/// for rVisor's bookkeeping only and never shown to a container.
pub fn host_clone(flags: u64, stack: usize, child_tid: usize, tls: usize) -> Result<i32> {
    // SAFETY: process context (a served syscall); the shim calls the kernel's own clone entry,
    // which copies the caller's saved user registers for the child.
    let ret = unsafe { bindings::rvisor_host_clone(flags, stack as _, child_tid as _, tls as _) };
    let pid = Error::check(ret)?;
    i32::try_from(pid).map_err(|_| Error::EIO)
}

/// Ends the calling thread, or with `group` its whole thread group, with exit code `code`
/// (as `exit`/`exit_group` would). Values still alive in the caller's frames are leaked, not
/// dropped: call this with nothing owned on the stack.
pub fn exit_current(code: i32, group: bool) -> ! {
    // SAFETY: process context; the kernel's exit entry ends the task and never returns.
    unsafe { bindings::rvisor_exit_current(code, group) }
}

/// Reaps the calling process's exited host child `host_pid`, waiting for it to become a zombie
/// if it is still on its way out. The host's own `wait4` writes the child's `struct rusage`
/// (its times and its reaped children's, as Linux's `getrusage(RUSAGE_BOTH)`) at the user
/// address `rusage` unless it is 0: `EFAULT` if it cannot, the child reaped all the same.
pub fn reap_host_child(host_pid: i32, rusage: usize) -> Result {
    // SAFETY: process context; wait4 with a NULL status pointer and a user rusage address,
    // which the host only ever reaches through copy_to_user.
    let ret = unsafe { bindings::rvisor_reap_host_child(host_pid, rusage as _) };
    Error::check(ret.into()).map(drop)
}

/// Who sends a signal, as its receiver's `siginfo` shows: ids in the sender's container, never
/// the host's.
#[derive(Clone, Copy, Debug)]
pub struct SignalSender {
    /// The sender's process id (`si_pid`).
    pub pid: u32,
    /// The sender's real user id (`si_uid`).
    pub uid: u32,
}

impl HeldTask {
    /// Sends `signal` (1..=64) to the task's process from the kernel (`SI_KERNEL`, no
    /// sender), as a terminal's signals come. An init (`to_init`) only gets a signal it has a
    /// handler for.
    pub fn send_kernel_signal(&self, signal: u32, to_init: bool) -> Result {
        let signal = i32::try_from(signal).map_err(|_| Error::EINVAL)?;
        // SAFETY: the task is held alive by our reference; the shim checks the signal number.
        let ret = unsafe { bindings::rvisor_send_kernel_signal(self.as_ptr(), signal, to_init) };
        Error::check(ret.into()).map(drop)
    }

    /// Sends `signal` (1..=64) to the task's process as `kill` would (`SI_USER`, from
    /// `sender`). An init (`to_init`) only gets a signal it has a handler for, as a pid
    /// namespace's init signalled from inside it.
    pub fn send_process_signal(&self, signal: u32, sender: SignalSender, to_init: bool) -> Result {
        let signal = i32::try_from(signal).map_err(|_| Error::EINVAL)?;
        // SAFETY: the task is held alive by our reference; the shim checks the signal number.
        let ret = unsafe {
            bindings::rvisor_send_process_signal(
                self.as_ptr(),
                signal,
                sender.pid as i32,
                sender.uid,
                to_init,
            )
        };
        Error::check(ret.into()).map(drop)
    }

    /// Sends `signal` (1..=64) to the task's process as a POSIX message queue's
    /// notification (`SI_MESGQ`, from `sender`, `si_value` `value`). An init (`to_init`) only
    /// gets a signal it has a handler for.
    pub fn send_queue_signal(
        &self,
        signal: u32,
        sender: SignalSender,
        value: u64,
        to_init: bool,
    ) -> Result {
        let signal = i32::try_from(signal).map_err(|_| Error::EINVAL)?;
        // SAFETY: the task is held alive by our reference; the shim checks the signal number.
        let ret = unsafe {
            bindings::rvisor_send_queue_signal(
                self.as_ptr(),
                signal,
                sender.pid as i32,
                sender.uid,
                value,
                to_init,
            )
        };
        Error::check(ret.into()).map(drop)
    }

    /// The stop or continue of the task's process that no wait reported yet, among those asked
    /// for, consumed if `consume`.
    pub fn stop_state(&self, stopped: bool, continued: bool, consume: bool) -> Option<StopState> {
        // SAFETY: the task is held; the shim takes its signal lock.
        let ret =
            unsafe { bindings::rvisor_task_stop_state(self.as_ptr(), stopped, continued, consume) };
        match ret {
            0 => None,
            ret if ret == bindings::RVISOR_CONTINUED as i32 => Some(StopState::Continued),
            signal => u8::try_from(signal).ok().map(StopState::Stopped),
        }
    }

    /// The task's capability sets (see [`capabilities`]).
    pub fn capabilities(&self) -> Capabilities {
        caps(self.as_ptr())
    }

    /// The CPUs the task may run on (see [`cpu_affinity`]).
    pub fn cpu_affinity(&self) -> Result<CpuAffinity> {
        affinity(self.as_ptr())
    }

    /// The resource limit `resource` of the task's process (see [`resource_limit`]).
    pub fn resource_limit(
        &self,
        resource: u32,
        new: Option<ResourceLimit>,
    ) -> Result<ResourceLimit> {
        prlimit(self.as_ptr(), resource, new)
    }
}

/// Sends `signal` (1..=64) to the calling thread alone, as `tgkill` would (`SI_TKILL`, from
/// `sender`); an init (`to_init`) drops a signal it has no handler for. It is taken on the way
/// back to user mode.
pub fn signal_current_thread(signal: u32, sender: SignalSender, to_init: bool) -> Result {
    let signal = i32::try_from(signal).map_err(|_| Error::EINVAL)?;
    // SAFETY: process context (a served call, or a work the task runs); the shim checks the
    // signal number and stages the siginfo in a page of the caller's own.
    let ret = unsafe {
        bindings::rvisor_signal_current_thread(signal, sender.pid as i32, sender.uid, to_init)
    };
    Error::check(ret.into()).map(drop)
}

/// A resource limit (`struct rlimit64`); `RLIM_INFINITY` is `u64::MAX`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ResourceLimit {
    /// The soft limit.
    pub soft: u64,
    /// The hard limit.
    pub hard: u64,
}

/// A job-control change of a process that a wait reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopState {
    /// This signal stopped it.
    Stopped(u8),
    /// `SIGCONT` continued it.
    Continued,
}

/// A task's capability sets, one bit per capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// What it may do now.
    pub effective: u64,
    /// What it may make effective.
    pub permitted: u64,
    /// What an `execve` may keep.
    pub inheritable: u64,
}

/// The calling thread's capability sets.
pub fn capabilities() -> Capabilities {
    caps(core::ptr::null_mut())
}

fn caps(task: *mut bindings::task_struct) -> Capabilities {
    let (mut effective, mut permitted, mut inheritable) = (0, 0, 0);
    // SAFETY: `task` is null or held alive by the caller; the three are valid for writes.
    unsafe { bindings::rvisor_task_caps(task, &mut effective, &mut permitted, &mut inheritable) };
    Capabilities {
        effective,
        permitted,
        inheritable,
    }
}

/// Sets the calling thread's capability sets by the host's own `capset` (its rules apply).
pub fn set_own_capabilities(caps: Capabilities) -> Result {
    // SAFETY: process context, in a served call of the calling task; the shim stages the
    // arguments in a page of the caller's own.
    let ret =
        unsafe { bindings::rvisor_set_own_caps(caps.effective, caps.permitted, caps.inheritable) };
    Error::check(ret).map(drop)
}

/// The CPUs a task may run on, as `sched_getaffinity` gives them.
pub struct CpuAffinity {
    /// The bitmap, one bit per CPU id, in the kernel's `cpumask_size()` bytes.
    pub mask: Vec<u8>,
    /// How many CPU ids there are (`nr_cpu_ids`): a caller's buffer must have a bit for each.
    pub cpus: usize,
}

/// The largest CPU bitmap a kernel has (`NR_CPUS` 8192).
const MAX_CPU_MASK: usize = 8192 / 8;

/// The CPUs the calling thread may run on.
pub fn cpu_affinity() -> Result<CpuAffinity> {
    affinity(core::ptr::null_mut())
}

fn affinity(task: *mut bindings::task_struct) -> Result<CpuAffinity> {
    let mut mask = Vec::new();
    mask.try_reserve_exact(MAX_CPU_MASK)
        .map_err(|_| Error::ENOMEM)?;
    mask.resize(MAX_CPU_MASK, 0);
    let mut cpus = 0;
    // SAFETY: process context; `task` is null or held alive by the caller; `mask` is writable
    // for its length and `cpus` for a write.
    let ret = unsafe {
        bindings::rvisor_task_affinity(task, mask.as_mut_ptr().cast(), mask.len() as _, &mut cpus)
    };
    let size = usize::try_from(Error::check(ret)?).map_err(|_| Error::EIO)?;
    mask.truncate(size);
    Ok(CpuAffinity {
        mask,
        cpus: cpus as usize,
    })
}

/// `sched_setaffinity(0, len, user_mask)` of the calling thread, by the host's own entry (its
/// permission checks and its cpuset apply); `user_mask` is the caller's user address.
pub fn set_own_cpu_affinity(len: usize, user_mask: usize) -> Result {
    // SAFETY: process context, in a served call of the calling task, whose memory the address
    // is in; the host's entry checks it.
    let ret = unsafe { bindings::rvisor_set_own_affinity(len as _, user_mask as _) };
    Error::check(ret).map(drop)
}

/// The calling process's limit `resource`, replaced by `new` if given, as `prlimit64(0, …)`
/// would do it (the host's checks included); returns the limit before.
pub fn resource_limit(resource: u32, new: Option<ResourceLimit>) -> Result<ResourceLimit> {
    prlimit(core::ptr::null_mut(), resource, new)
}

fn prlimit(
    task: *mut bindings::task_struct,
    resource: u32,
    new: Option<ResourceLimit>,
) -> Result<ResourceLimit> {
    let new = new.map(|limit| bindings::rvisor_rlimit {
        cur: limit.soft,
        max: limit.hard,
    });
    let mut old = bindings::rvisor_rlimit::default();
    let new_ptr = new
        .as_ref()
        .map_or(core::ptr::null(), |limit| limit as *const _);
    // SAFETY: process context; `task` is null or held alive by the caller; both buffers are
    // valid for the call.
    let ret = unsafe { bindings::rvisor_prlimit(task, resource, new_ptr, &mut old) };
    Error::check(ret.into())?;
    Ok(ResourceLimit {
        soft: old.cur,
        hard: old.max,
    })
}

/// True if a signal is pending for the calling task.
pub fn signal_pending() -> bool {
    // SAFETY: a plain call into the shim.
    unsafe { bindings::rvisor_signal_pending() }
}

/// True if the calling thread blocks or ignores `signal` (Linux's `is_ignored` in
/// `tty_jobctrl.c`).
pub fn signal_ignored_or_blocked(signal: u32) -> bool {
    let Ok(signal) = i32::try_from(signal) else {
        return false;
    };
    // SAFETY: a plain call into the shim, which checks the number and takes the lock.
    unsafe { bindings::rvisor_signal_ignored_or_blocked(signal) }
}

/// True if the calling task is the only task its memory map serves (no other thread, no
/// process sharing it, nobody holding it for a while).
pub fn alone_in_memory() -> bool {
    // SAFETY: a plain call into the shim.
    unsafe { bindings::rvisor_current_alone_in_memory() }
}

/// Gives the calling task a fresh memory map of its own through the host's `execve` of a
/// stub program (which never runs): other threads end, as `execve` ends them, and a process
/// that shared the old map (a vfork parent) keeps it. Past success, the old program is gone;
/// on failure nothing changed.
pub fn exec_fresh_memory() -> Result {
    // SAFETY: process context, in a served syscall of the calling task.
    let ret = unsafe { bindings::rvisor_exec_fresh_memory() };
    Error::check(ret.into()).map(drop)
}

/// Blocks exactly the signals of `mask` in the calling thread for a wait, keeping its own
/// mask to be restored (Linux's `set_user_sigmask`).
pub fn set_wait_sigmask(mask: u64) {
    // SAFETY: process context; the shim changes the caller's own mask.
    unsafe { bindings::rvisor_set_wait_sigmask(mask) }
}

/// Restores the mask [`set_wait_sigmask`] kept, unless the wait was `interrupted` and a signal
/// is pending: its delivery restores it then (Linux's `restore_saved_sigmask_unless`).
pub fn restore_wait_sigmask(interrupted: bool) {
    // SAFETY: process context; the shim changes the caller's own mask.
    unsafe { bindings::rvisor_restore_wait_sigmask(interrupted) }
}

/// True if the calling task is the only thread of its process.
pub fn current_is_single_threaded() -> bool {
    // SAFETY: a plain call into the shim.
    unsafe { bindings::rvisor_current_is_single_threaded() }
}

/// Makes the calling process's memory never dumped by the host: a core file would be written
/// in the host's working directory, outside the container's root. Forks inherit it.
pub fn disable_core_dumps() {
    // SAFETY: a plain call into the shim, on the calling task's own memory map.
    unsafe { bindings::rvisor_current_disable_core_dumps() }
}

/// Makes the calling process a child subreaper, as `prctl(PR_SET_CHILD_SUBREAPER, 1)` does:
/// the host reparents its descendants' orphans to it, not to the host's init.
pub fn become_subreaper() {
    // SAFETY: a plain call into the shim, on the calling task's own signal struct.
    unsafe { bindings::rvisor_current_become_subreaper() }
}

/// Maps anonymous memory into the calling process (`mmap` with `MAP_ANONYMOUS` in `flags`);
/// returns the address.
pub fn map_anonymous(addr: usize, len: usize, prot: u32, flags: u32) -> Result<usize> {
    // SAFETY: process context; vm_mmap checks every argument itself.
    let ret = unsafe { bindings::rvisor_vm_map_anon(addr as _, len as _, prot, flags) };
    Error::check(ret).map(|addr| addr as usize)
}

/// Unmaps everything the calling process has mapped, as `execve` does past its point of no
/// return. The caller must be the only user of its memory map.
pub fn exec_teardown() -> Result {
    // SAFETY: process context; the shim unmaps through vm_munmap, one mapping at a time.
    let ret = unsafe { bindings::rvisor_exec_teardown() };
    Error::check(ret.into()).map(drop)
}

/// What a program starts with after `execve`.
pub struct ExecStart<'a> {
    /// The entry point (the interpreter's, for a dynamic program).
    pub entry: usize,
    /// The initial stack pointer (at `argc`).
    pub sp: usize,
    /// The program break: the page after the program's highest segment.
    pub brk: usize,
    /// Where the process's `mmap`s start from, top down.
    pub mmap_base: usize,
    /// The task's new name; cut to 15 bytes.
    pub comm: &'a [u8],
    /// Where the argument strings lie on the new stack.
    pub args: core::ops::Range<usize>,
    /// Where the environment strings lie on the new stack.
    pub env: core::ops::Range<usize>,
}

/// Finishes `execve` for the calling task: sets the break, forgets the per-task user pointers
/// into the old image (rseq, robust list, `clear_child_tid`), resets signal handlers and the
/// alternate stack, renames the task, and makes it start at `start.entry` with `start.sp` and
/// all other registers zero when the syscall returns.
pub fn exec_start(start: &ExecStart<'_>) {
    let mut raw = bindings::rvisor_exec_start {
        entry: start.entry as _,
        sp: start.sp as _,
        brk: start.brk as _,
        mmap_base: start.mmap_base as _,
        arg_start: start.args.start as _,
        arg_end: start.args.end as _,
        env_start: start.env.start as _,
        env_end: start.env.end as _,
        ..Default::default()
    };
    // The last byte stays NUL.
    for (slot, &byte) in raw.comm.iter_mut().take(15).zip(start.comm) {
        *slot = byte as core::ffi::c_char;
    }
    // SAFETY: process context, in a served syscall of the calling task; `raw` is valid.
    unsafe { bindings::rvisor_exec_start(&raw) }
}

/// Resets the calling task's signal handlers to the default, except for ignored signals, as
/// Linux's `flush_signal_handlers(task, 0)`.
pub fn clear_signal_handlers() {
    // SAFETY: process context; the shim takes the task's sighand lock.
    unsafe { bindings::rvisor_clear_signal_handlers() }
}

/// Work for a task to run in its own context.
pub type Work = Box<dyn FnOnce() + Send>;

/// When a task runs a work queued with [`TaskRef::queue_work`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WorkRun {
    /// As it exits (queued from its exit tracepoint, before it is reaped).
    AtExit,
    /// On its way back to user mode.
    OnResume,
    /// On its way back to user mode, ending a wait in the kernel as a signal does: an
    /// interrupted call restarts, or gives `EINTR` if the work raised a signal whose handler
    /// asks so.
    Interrupting,
}

impl TaskRef<'_> {
    /// Makes the task run `work` in its own (process) context when `when` says. Callable in
    /// atomic context. On failure (the task is past running works) the work is handed back.
    pub fn queue_work(
        &self,
        work: Box<Work>,
        when: WorkRun,
    ) -> core::result::Result<(), Box<Work>> {
        let when = match when {
            WorkRun::AtExit => bindings::rvisor_work_run_RVISOR_WORK_AT_EXIT,
            WorkRun::OnResume => bindings::rvisor_work_run_RVISOR_WORK_ON_RESUME,
            WorkRun::Interrupting => bindings::rvisor_work_run_RVISOR_WORK_INTERRUPTING,
        };
        let data = Box::into_raw(work);
        // SAFETY: the task is alive for this reference's lifetime; `data` stays valid until the
        // shim hands it to `rvisor_rs_run_work`, exactly once, or fails and never uses it.
        let ret = unsafe { bindings::rvisor_task_work_add(self.as_ptr(), data.cast(), when) };
        if ret == 0 {
            Ok(())
        } else {
            // SAFETY: the shim refused the work, so `data` is still ours, from `into_raw` above.
            Err(unsafe { Box::from_raw(data) })
        }
    }
}

/// Runs a work queued by [`TaskRef::queue_work`].
///
/// # Safety
///
/// `data` must come from `queue_work`'s `Box::into_raw` and be passed here once.
#[no_mangle]
pub unsafe extern "C" fn rvisor_rs_run_work(data: *mut core::ffi::c_void) {
    // SAFETY: the caller's contract: a `Box<Work>` leaked by `queue_work`, run once.
    let work = unsafe { Box::from_raw(data.cast::<Work>()) };
    work();
}

impl TaskRef<'_> {
    /// The exit code of an exiting task: `code << 8` after `exit(code)`, else the number of
    /// the signal that killed it (with `0x80` if it dumped core).
    pub fn exit_code(&self) -> i32 {
        // SAFETY: the task is alive for this reference's lifetime.
        unsafe { bindings::rvisor_task_exit_code(self.as_ptr()) }
    }
}

/// CPU time used by the calling thread, or with `process` by all threads of its process, in
/// nanoseconds.
pub fn cpu_time_ns(process: bool) -> u64 {
    // SAFETY: a plain call into the shim.
    unsafe { bindings::rvisor_cpu_time_ns(process) }
}

/// Fills `buf` from the kernel's random pool.
pub fn random_bytes(buf: &mut [u8]) {
    // SAFETY: `buf` is writable for its length.
    unsafe { bindings::rvisor_random_bytes(buf.as_mut_ptr().cast(), buf.len() as _) }
}

/// What the auxiliary vector says of the machine to the calling process, as the host said it
/// to the first program of its memory map, and where the host's special mappings lie.
pub struct Machine {
    /// `AT_HWCAP`.
    pub hwcap: u64,
    /// `AT_HWCAP2`, if the host gives it.
    pub hwcap2: Option<u64>,
    /// `AT_MINSIGSTKSZ`, if the host gives it.
    pub minsigstksz: Option<u64>,
    /// `AT_SYSINFO_EHDR`: the vDSO, if mapped (`execve` keeps it).
    pub vdso: Option<u64>,
    /// `AT_RSEQ_FEATURE_SIZE` and `AT_RSEQ_ALIGN`, if the host gives them.
    pub rseq: Option<(u64, u64)>,
    /// From the first to the end of the last of the host's special mappings (the vDSO and its
    /// data pages), which `execve` keeps.
    pub special: Option<Range<usize>>,
}

/// The calling task's execution domain (`personality`).
pub fn personality() -> u32 {
    // SAFETY: a plain read of the calling task's field.
    unsafe { bindings::rvisor_personality() }
}

/// The calling process's [`Machine`].
pub fn machine() -> Machine {
    let mut raw = bindings::rvisor_machine::default();
    // SAFETY: process context; `raw` is valid for a write.
    unsafe { bindings::rvisor_machine(&mut raw) };
    let has = |bit: bindings::rvisor_machine_present| raw.present & bit != 0;
    Machine {
        hwcap: raw.hwcap,
        hwcap2: has(bindings::rvisor_machine_present_RVISOR_MACHINE_HWCAP2).then_some(raw.hwcap2),
        minsigstksz: has(bindings::rvisor_machine_present_RVISOR_MACHINE_MINSIGSTKSZ)
            .then_some(raw.minsigstksz),
        vdso: has(bindings::rvisor_machine_present_RVISOR_MACHINE_VDSO).then_some(raw.vdso),
        rseq: has(bindings::rvisor_machine_present_RVISOR_MACHINE_RSEQ)
            .then_some((raw.rseq_feature_size, raw.rseq_align)),
        special: (raw.special_end != 0)
            .then_some(raw.special_start as usize..raw.special_end as usize),
    }
}

/// Lets a lock waiter give the CPU away: reschedules if the caller may sleep and another task
/// should run, else only relaxes the CPU. Any context.
pub fn relax() {
    // SAFETY: a plain call into the shim, valid in any context.
    unsafe { bindings::rvisor_relax() }
}
