//! The syscall gate (DESIGN.md, decisions 1-2).
//!
//! Joining a container attaches an allow-all seccomp filter, the *gate*, to the task; the kernel
//! copies it to every descendant before its first instruction and no task can remove it. Tasks
//! with a filter take the syscall slow path through `__secure_computing`, where ONE ftrace hook
//! asks [`crate::module::KernelModule::gate_decide`] whether to take the call over; if so the
//! call is served by [`crate::module::KernelModule::gate_serve`] and the real syscall is skipped.
//! Tasks without a filter never reach the hook and pay nothing.

use crate::bindings;
use crate::error::{Error, Result};
use crate::task::TaskId;

/// The identity of a seccomp filter (its address); compared, never dereferenced.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FilterId(usize);

impl FilterId {
    /// The top seccomp filter of the current task, if it has one.
    pub fn of_current() -> Option<FilterId> {
        let task = TaskId::current();
        // SAFETY: the current task is alive; the shim only reads the pointer.
        let filter = unsafe { bindings::rvisor_task_seccomp_filter(task.as_usize() as *mut _) };
        FilterId::from_ptr(filter)
    }

    pub(crate) fn from_ptr(filter: *const core::ffi::c_void) -> Option<FilterId> {
        (!filter.is_null()).then_some(FilterId(filter as usize))
    }
}

/// A gate: an allow-all seccomp filter on every thread of the process that attached it, pinned
/// (kept alive, so its address cannot be reused) for as long as this value lives.
pub struct Gate {
    pin: core::ptr::NonNull<bindings::file>,
    filter: FilterId,
}

// SAFETY: the pin is a counted `struct file` reference; fput may be called from any task.
unsafe impl Send for Gate {}
// SAFETY: `&Gate` only reads the filter id or signals tasks.
unsafe impl Sync for Gate {}

impl Gate {
    /// Sets no_new_privs and attaches a new gate to every thread of the calling process.
    /// `EBUSY` if a thread could not be joined (it runs under other seccomp filters).
    pub fn attach_current() -> Result<Gate> {
        let mut pin: *mut bindings::file = core::ptr::null_mut();
        let mut filter: *const core::ffi::c_void = core::ptr::null();
        // SAFETY: both out-pointers are valid for writes; process context (an ioctl).
        let ret = unsafe { bindings::rvisor_gate_attach(&mut pin, &mut filter) };
        Error::check(ret as i64)?;
        let pin = core::ptr::NonNull::new(pin).ok_or(Error::EIO)?;
        Ok(Gate {
            pin,
            filter: FilterId(filter as usize),
        })
    }

    /// The gate's filter.
    pub fn filter(&self) -> FilterId {
        self.filter
    }

    /// Sends SIGKILL to every task behind this gate; returns how many were signalled.
    pub fn kill_members(&self) -> u32 {
        // SAFETY: the filter is pinned by `self`, so the address names this gate only.
        unsafe { bindings::rvisor_kill_filter_members(self.filter.0 as *const _) }
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        // SAFETY: releases the listener file reference taken by `rvisor_gate_attach`.
        unsafe { bindings::rvisor_gate_release(self.pin.as_ptr()) }
    }
}

/// The ftrace hook on `__secure_computing` and the task lifecycle tracepoints (fork, exec, exit),
/// installed while this value lives. Dropping it removes them and waits until no callback runs.
pub struct Hooks(());

impl Hooks {
    /// Installs the hooks; they call the module's `gate_*` and `task_*` methods.
    pub fn register() -> Result<Hooks> {
        // SAFETY: process context (module init); balanced by `drop`.
        let ret = unsafe { bindings::rvisor_hooks_register() };
        Error::check(ret as i64)?;
        Ok(Hooks(()))
    }
}

impl Drop for Hooks {
    fn drop(&mut self) {
        // SAFETY: the hooks were registered by `register`.
        unsafe { bindings::rvisor_hooks_unregister() }
    }
}

/// A syscall on its way through the gate: its number and arguments, read from the user's saved
/// registers.
pub struct Syscall<'a> {
    regs: &'a bindings::rvisor_pt_regs,
    task: TaskId,
    compat: bool,
}

/// What the gate does with a syscall.
pub enum Verdict {
    /// The kernel runs it untouched.
    Pass,
    /// [`crate::module::KernelModule::gate_serve`] runs in its place (process context).
    Serve,
    /// Answered already, in the callback: this is the result and the real call is skipped.
    Return(isize),
}

impl<'a> Syscall<'a> {
    pub(crate) fn new(regs: &'a bindings::rvisor_pt_regs, task: TaskId, compat: bool) -> Self {
        Syscall { regs, task, compat }
    }

    /// The calling task (the current one).
    #[inline(always)]
    pub fn task(&self) -> TaskId {
        self.task
    }

    /// The syscall number (x86-64 numbering, or i386 if [`Syscall::is_compat`]); -1 and other
    /// out-of-range values arrive as large numbers.
    #[inline(always)]
    pub fn nr(&self) -> usize {
        self.regs.orig_ax as usize
    }

    /// The arguments, in the x86-64 syscall order (rdi, rsi, rdx, r10, r8, r9).
    pub fn args(&self) -> [usize; 6] {
        let r = self.regs;
        [
            r.di as usize,
            r.si as usize,
            r.dx as usize,
            r.r10 as usize,
            r.r8 as usize,
            r.r9 as usize,
        ]
    }

    /// True for a call through the 32-bit entry (`int $0x80`).
    #[inline(always)]
    pub fn is_compat(&self) -> bool {
        self.compat
    }
}
