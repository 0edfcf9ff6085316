//! Tasks (threads) of the host kernel, as rVisor sees them.

use alloc::vec::Vec;
use core::ptr::NonNull;

use crate::bindings;
use crate::error::{Error, Result};

/// The identity of a live task: the address of its `task_struct`, used as a key only.
///
/// A `TaskId` is never dereferenced by Rust. It names a task for as long as that task has not
/// passed its exit tracepoint; rVisor drops every `TaskId` it keeps at that point, so a recycled
/// address can never be confused with an old member.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct TaskId(usize);

impl TaskId {
    /// The task running this code.
    pub fn current() -> TaskId {
        // SAFETY: a plain call into the shim.
        TaskId(unsafe { bindings::rvisor_current() } as usize)
    }

    /// The parent (real_parent) of the current task, as `getppid` sees it.
    pub fn current_parent() -> TaskId {
        // SAFETY: a plain call into the shim.
        TaskId(unsafe { bindings::rvisor_current_real_parent() } as usize)
    }

    pub(crate) fn from_ptr(task: *mut bindings::task_struct) -> TaskId {
        TaskId(task as usize)
    }

    /// The raw value, for hashing.
    pub fn as_usize(self) -> usize {
        self.0
    }
}

/// A task the kernel handed to a callback, alive for the callback's duration.
#[derive(Clone, Copy)]
pub struct TaskRef<'a> {
    task: NonNull<bindings::task_struct>,
    _life: core::marker::PhantomData<&'a ()>,
}

impl TaskRef<'_> {
    /// # Safety
    ///
    /// `task` must be a live task for the lifetime chosen by the caller.
    pub(crate) unsafe fn from_raw(task: *mut bindings::task_struct) -> Self {
        // A tracepoint never passes NULL; a dangling-but-unused value is never dereferenced.
        TaskRef {
            task: NonNull::new(task).unwrap_or(NonNull::dangling()),
            _life: core::marker::PhantomData,
        }
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        TaskId(self.task.as_ptr() as usize)
    }

    pub(crate) fn as_ptr(&self) -> *mut bindings::task_struct {
        self.task.as_ptr()
    }

    /// True if the task leads its thread group (a new process rather than a new thread).
    pub fn is_thread_group_leader(&self) -> bool {
        // SAFETY: the task is alive for `'a` (the constructor's contract).
        unsafe { bindings::rvisor_task_is_thread_group_leader(self.task.as_ptr()) }
    }

    /// The task's top seccomp filter, if any.
    pub fn seccomp_filter(&self) -> Option<crate::gate::FilterId> {
        // SAFETY: the task is alive for `'a`; the shim only reads the pointer.
        let filter = unsafe { bindings::rvisor_task_seccomp_filter(self.task.as_ptr()) };
        crate::gate::FilterId::from_ptr(filter)
    }

    /// Sends SIGKILL to the task's thread group.
    pub fn kill(&self) {
        // SAFETY: the task is alive for `'a`.
        unsafe { bindings::rvisor_send_sigkill(self.task.as_ptr()) };
    }

    /// A counted reference to the task, which outlives this one.
    pub fn hold(&self) -> HeldTask {
        // SAFETY: the task is alive for `'a`, so taking a reference is valid.
        unsafe { bindings::rvisor_get_task(self.task.as_ptr()) };
        HeldTask(self.task)
    }
}

/// Sends SIGKILL to the current task's thread group: it dies on its way back to user space.
pub fn kill_current() {
    // SAFETY: a plain call into the shim.
    unsafe { bindings::rvisor_kill_current() }
}

/// A counted reference to a task (`get_task_struct`), released on drop.
pub struct HeldTask(NonNull<bindings::task_struct>);

impl HeldTask {
    /// The task's id.
    pub fn id(&self) -> TaskId {
        TaskId(self.0.as_ptr() as usize)
    }

    /// The host process id of the task's thread group as the calling (host) task's pid
    /// namespace numbers it, 0 if it is not visible there; never shown to a container.
    pub fn host_pid_seen_by_caller(&self) -> i32 {
        // SAFETY: the task is held alive by our reference.
        unsafe { bindings::rvisor_task_tgid_vnr(self.0.as_ptr()) }
    }

    /// The host's pid (thread id) of the task; for logs only, never shown to a container.
    pub fn host_tid(&self) -> i32 {
        // SAFETY: the task is held alive by our reference.
        unsafe { bindings::rvisor_task_host_pid(self.0.as_ptr()) }
    }

    /// True if the task leads its thread group (its tid is the process id).
    pub fn is_thread_group_leader(&self) -> bool {
        // SAFETY: the task is held alive by our reference.
        unsafe { bindings::rvisor_task_is_thread_group_leader(self.0.as_ptr()) }
    }

    /// Sends SIGKILL to the task's thread group.
    pub fn kill(&self) {
        // SAFETY: the task is held alive by our reference.
        unsafe { bindings::rvisor_send_sigkill(self.0.as_ptr()) };
    }

    /// The task, for as long as this reference lives.
    pub fn task(&self) -> TaskRef<'_> {
        // SAFETY: the task is held alive by our reference for the returned lifetime.
        unsafe { TaskRef::from_raw(self.0.as_ptr()) }
    }

    pub(crate) fn as_ptr(&self) -> *mut bindings::task_struct {
        self.0.as_ptr()
    }
}

// SAFETY: a counted `task_struct` reference may be used and released from any thread; every
// method goes through kernel entries that take the locks they need.
unsafe impl Send for HeldTask {}
// SAFETY: as for `Send`: the methods take `&self` and are safe to call concurrently.
unsafe impl Sync for HeldTask {}

impl Clone for HeldTask {
    fn clone(&self) -> Self {
        self.task().hold()
    }
}

impl Drop for HeldTask {
    fn drop(&mut self) {
        // SAFETY: releases the reference taken by `current_threads`.
        unsafe { bindings::rvisor_put_task(self.0.as_ptr()) };
    }
}

/// Every thread of the current process, held.
pub fn current_threads() -> Result<Vec<HeldTask>> {
    let mut room = 8usize;
    loop {
        let mut raw: Vec<*mut bindings::task_struct> = Vec::new();
        raw.try_reserve_exact(room).map_err(|_| Error::ENOMEM)?;
        // SAFETY: `raw` has room for `room` pointers; the shim stores at most that many.
        let n = unsafe { bindings::rvisor_current_threads(raw.as_mut_ptr(), room as u32) } as usize;
        // SAFETY: the shim wrote min(n, room) pointers.
        unsafe { raw.set_len(core::cmp::min(n, room)) };
        let held: Vec<HeldTask> = raw
            .into_iter()
            .filter_map(NonNull::new)
            .map(HeldTask)
            .collect();
        if n <= room {
            return Ok(held);
        }
        // Threads were created meanwhile: drop these references and count again.
        drop(held);
        room = n.checked_add(8).ok_or(Error::ENOMEM)?;
    }
}

/// True if the caller has CAP_SYS_ADMIN.
pub fn capable_sys_admin() -> bool {
    // SAFETY: a plain call into the shim.
    unsafe { bindings::rvisor_capable_sys_admin() }
}

pub use bindings::rvisor_ids as Ids;

/// The caller's user and group ids in its user namespace.
pub fn current_ids() -> Ids {
    let mut ids = Ids::default();
    // SAFETY: `ids` is valid for a write.
    unsafe { bindings::rvisor_current_ids(&mut ids) };
    ids
}

/// One of the host's id calls (`setuid` and the like), by what it changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdCall {
    /// `setuid(uid)`
    SetUid,
    /// `setgid(gid)`
    SetGid,
    /// `setreuid(ruid, euid)`
    SetReUid,
    /// `setregid(rgid, egid)`
    SetReGid,
    /// `setresuid(ruid, euid, suid)`
    SetResUid,
    /// `setresgid(rgid, egid, sgid)`
    SetResGid,
    /// `setfsuid(fsuid)`
    SetFsUid,
    /// `setfsgid(fsgid)`
    SetFsGid,
    /// `setgroups(size, list)`, `list` in the caller's memory
    SetGroups,
}

/// Runs the host's id call `call` for the calling thread with `args` (the syscall's own
/// arguments); returns its value.
pub fn host_id_call(call: IdCall, args: [usize; 3]) -> Result<usize> {
    let call = match call {
        IdCall::SetUid => bindings::rvisor_id_call_RVISOR_SETUID,
        IdCall::SetGid => bindings::rvisor_id_call_RVISOR_SETGID,
        IdCall::SetReUid => bindings::rvisor_id_call_RVISOR_SETREUID,
        IdCall::SetReGid => bindings::rvisor_id_call_RVISOR_SETREGID,
        IdCall::SetResUid => bindings::rvisor_id_call_RVISOR_SETRESUID,
        IdCall::SetResGid => bindings::rvisor_id_call_RVISOR_SETRESGID,
        IdCall::SetFsUid => bindings::rvisor_id_call_RVISOR_SETFSUID,
        IdCall::SetFsGid => bindings::rvisor_id_call_RVISOR_SETFSGID,
        IdCall::SetGroups => bindings::rvisor_id_call_RVISOR_SETGROUPS,
    };
    let [a0, a1, a2] = args;
    // SAFETY: process context (a served call); the host's entry checks its arguments and
    // reads setgroups' list from the caller's memory itself.
    let ret = unsafe { bindings::rvisor_host_id_call(call, a0 as _, a1 as _, a2 as _) };
    Error::check(ret).map(|value| value as usize)
}

/// The caller's supplementary groups in its user namespace.
pub fn current_groups() -> Result<Vec<u32>> {
    let mut room = 16usize;
    loop {
        let mut groups: Vec<u32> = Vec::new();
        groups.try_reserve_exact(room).map_err(|_| Error::ENOMEM)?;
        groups.resize(room, 0);
        let max = i32::try_from(room).map_err(|_| Error::ENOMEM)?;
        // SAFETY: `groups` has `room` writable entries; the shim stores at most that many.
        let count = unsafe { bindings::rvisor_current_groups(groups.as_mut_ptr(), max) };
        let count = usize::try_from(count).map_err(|_| Error::EIO)?;
        if count <= room {
            groups.truncate(count);
            return Ok(groups);
        }
        room = count;
    }
}

/// The caller's effective uid in its user namespace.
pub fn current_euid() -> u32 {
    // SAFETY: a plain call into the shim.
    unsafe { bindings::rvisor_current_euid() }
}

/// Sets the address the kernel clears and futex-wakes when the current thread exits
/// (`set_tid_address`).
pub fn set_clear_child_tid(addr: usize) {
    // SAFETY: a plain call into the shim; the address is only used with user accessors.
    unsafe { bindings::rvisor_set_clear_child_tid(addr as _) }
}

/// Sleeps about `ms` milliseconds; `EINTR` if a signal is pending for the caller.
pub fn sleep_interruptible(ms: u32) -> Result {
    // SAFETY: a plain call into the shim, from process context.
    if unsafe { bindings::rvisor_msleep_interruptible(ms) } {
        Err(Error::EINTR)
    } else {
        Ok(())
    }
}

/// A reference on this module: while one is held, `rmmod` is refused as busy.
pub struct ModuleRef(());

impl ModuleRef {
    /// Takes a reference; `None` while the module is being unloaded.
    pub fn get() -> Option<ModuleRef> {
        // SAFETY: a plain call into the shim.
        unsafe { bindings::rvisor_module_get() }.then_some(ModuleRef(()))
    }
}

impl Drop for ModuleRef {
    fn drop(&mut self) {
        // SAFETY: balances the successful `rvisor_module_get` of `get`.
        unsafe { bindings::rvisor_module_put() }
    }
}
