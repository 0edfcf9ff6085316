//! Connecting a Rust type to the shim: [`KernelModule`] and the [`module!`](crate::module!) macro.
//!
//! The shim's `module_init`, `/dev/rvisor` file operations, gate callback and tracepoint probes
//! call fixed `rvisor_rs_*` symbols; `module!` generates them for one type, with static dispatch
//! (no function pointer on the syscall path), and keeps the one instance in a [`ModuleInstance`].

use alloc::boxed::Box;
use core::sync::atomic::{AtomicPtr, Ordering};

use crate::bindings;
use crate::error::{Error, Result};
use crate::gate::{Syscall, Verdict};
use crate::sync::AtomicContext;
use crate::task::TaskId;
use crate::task::TaskRef;

/// The module: built at `insmod`, dropped at `rmmod`.
///
/// The hook methods run in the contexts the kernel gives them; each says which. The ones marked
/// *atomic* must not sleep (no `GFP_KERNEL` allocation, no [`crate::sync::Mutex`]).
pub trait KernelModule: Sized + Sync + 'static {
    /// Module init. Registering the device and the hooks belongs here.
    fn init() -> Result<Self>;

    /// `open("/dev/rvisor")` (process context).
    fn open(&self) -> Result;

    /// `ioctl` on `/dev/rvisor` (process context): a non-negative result or an errno.
    fn ioctl(&self, cmd: u32, arg: usize) -> Result<isize>;

    /// The gate's ftrace callback (*atomic*, preemption disabled, on the syscall path of every
    /// task with a seccomp filter): whether the kernel runs the call, rVisor serves it, or it is
    /// answered already.
    fn gate_decide(&self, call: &Syscall<'_>, atomic: &AtomicContext) -> Verdict;

    /// A call taken over by the gate (process context, the caller's): its result, which the
    /// user sees in `rax`; the real syscall is skipped.
    fn gate_serve(&self, call: &Syscall<'_>) -> isize;

    /// `sched_process_fork` (*atomic*): `child` was created by `parent` and has not run yet.
    fn task_forked(&self, parent: TaskRef<'_>, child: TaskRef<'_>);

    /// `sched_process_exit` (*atomic*): `task` is exiting; its id must be forgotten now.
    fn task_exited(&self, task: TaskRef<'_>);

    /// `sched_process_exec` (*atomic*): `task` has just executed a new program.
    fn task_execed(&self, task: TaskRef<'_>);

    /// `signal_generate` of a `SIGCHLD` that reports a stop or a continue (*atomic*, the
    /// signal lock held): `task`'s process stopped or continued, and `parent` is told so.
    fn task_stopped_or_continued(&self, task: TaskRef<'_>, parent: TaskRef<'_>);
}

/// The one instance of the module, reachable from the shim's callbacks.
pub struct ModuleInstance<T> {
    ptr: AtomicPtr<T>,
}

impl<T: KernelModule> ModuleInstance<T> {
    /// An empty slot, for a `static`.
    pub const fn new() -> Self {
        ModuleInstance {
            ptr: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    fn get(&self) -> Option<&T> {
        let ptr = self.ptr.load(Ordering::Acquire);
        // SAFETY: a non-null pointer came from `Box::into_raw` in `init` and stays valid until
        // `exit`, which runs when the kernel guarantees no callback of this module is running or
        // can start (file operations closed, hooks unregistered and synchronised by `T`'s drop,
        // and no task inside a served call, since members pin the module).
        (!ptr.is_null()).then(|| unsafe { &*ptr })
    }

    #[doc(hidden)]
    pub fn init(&self) -> i32 {
        crate::printk::init(log::LevelFilter::Info);
        match T::init() {
            Ok(module) => {
                self.ptr
                    .store(Box::into_raw(Box::new(module)), Ordering::Release);
                0
            }
            Err(e) => -e.errno(),
        }
    }

    #[doc(hidden)]
    pub fn exit(&self) {
        let ptr = self.ptr.swap(core::ptr::null_mut(), Ordering::AcqRel);
        if !ptr.is_null() {
            // SAFETY: the pointer came from `Box::into_raw` in `init` and is taken out once.
            drop(unsafe { Box::from_raw(ptr) });
        }
    }

    #[doc(hidden)]
    pub fn dev_open(&self) -> i32 {
        match self.get().map(T::open) {
            Some(Ok(())) => 0,
            Some(Err(e)) => -e.errno(),
            None => -Error::ENODEV.errno(),
        }
    }

    #[doc(hidden)]
    pub fn dev_ioctl(&self, cmd: u32, arg: usize) -> i64 {
        match self.get().map(|m| m.ioctl(cmd, arg)) {
            Some(Ok(v)) => v as i64,
            Some(Err(e)) => -(e.errno() as i64),
            None => -(Error::ENODEV.errno() as i64),
        }
    }

    /// # Safety
    ///
    /// `regs` must be the current task's saved user registers (`task_pt_regs(current)`), `task`
    /// the current task, and preemption disabled.
    #[doc(hidden)]
    #[inline(always)]
    pub unsafe fn gate_decide(
        &self,
        regs: *const bindings::rvisor_pt_regs,
        task: *mut bindings::task_struct,
        compat: bool,
    ) -> bindings::rvisor_gate_decision {
        // SAFETY: per this function's contract `regs` is valid; it is only read here.
        let call = Syscall::new(unsafe { &*regs }, TaskId::from_ptr(task), compat);
        // SAFETY: the shim calls this between preempt_disable and preempt_enable.
        let atomic = unsafe { AtomicContext::new() };
        let verdict = match self.get() {
            Some(m) => m.gate_decide(&call, &atomic),
            None => Verdict::Pass,
        };
        let (verdict, ret) = match verdict {
            Verdict::Pass => (bindings::rvisor_gate_verdict_RVISOR_GATE_PASS, 0),
            Verdict::Serve => (bindings::rvisor_gate_verdict_RVISOR_GATE_SERVE, 0),
            Verdict::Return(value) => (bindings::rvisor_gate_verdict_RVISOR_GATE_RETURN, value),
        };
        bindings::rvisor_gate_decision {
            verdict: verdict as core::ffi::c_long,
            ret: ret as core::ffi::c_long,
        }
    }

    /// # Safety
    ///
    /// `regs` must be the current task's saved user registers (`task_pt_regs(current)`) and
    /// `task` the current task.
    #[doc(hidden)]
    #[inline(always)]
    pub unsafe fn gate_serve(
        &self,
        regs: *mut bindings::rvisor_pt_regs,
        task: *mut bindings::task_struct,
        compat: bool,
    ) -> i64 {
        // SAFETY: per this function's contract `regs` is valid; it is only read here.
        let call = Syscall::new(unsafe { &*regs }, TaskId::from_ptr(task), compat);
        match self.get() {
            Some(m) => m.gate_serve(&call) as i64,
            None => Error::ENOSYS.to_syscall_return() as i64,
        }
    }

    /// # Safety
    ///
    /// `parent` and `child` are live tasks for the duration of the call (the fork tracepoint).
    #[doc(hidden)]
    pub unsafe fn task_forked(
        &self,
        parent: *mut bindings::task_struct,
        child: *mut bindings::task_struct,
    ) {
        if let Some(m) = self.get() {
            // SAFETY: the caller passes live tasks for the duration of the call.
            let (parent, child) = unsafe { (TaskRef::from_raw(parent), TaskRef::from_raw(child)) };
            m.task_forked(parent, child);
        }
    }

    /// # Safety
    ///
    /// `task` and `parent` are live tasks for the duration of the call (the signal
    /// tracepoint).
    #[doc(hidden)]
    pub unsafe fn task_stopped_or_continued(
        &self,
        task: *mut bindings::task_struct,
        parent: *mut bindings::task_struct,
    ) {
        if let Some(m) = self.get() {
            // SAFETY: the caller passes live tasks for the duration of the call.
            let (task, parent) = unsafe { (TaskRef::from_raw(task), TaskRef::from_raw(parent)) };
            m.task_stopped_or_continued(task, parent);
        }
    }

    /// # Safety
    ///
    /// `task` is a live task for the duration of the call (the exit tracepoint).
    #[doc(hidden)]
    pub unsafe fn task_exited(&self, task: *mut bindings::task_struct) {
        if let Some(m) = self.get() {
            // SAFETY: the caller passes a live task for the duration of the call.
            m.task_exited(unsafe { TaskRef::from_raw(task) });
        }
    }

    /// # Safety
    ///
    /// `task` is a live task for the duration of the call (the exec tracepoint).
    #[doc(hidden)]
    pub unsafe fn task_execed(&self, task: *mut bindings::task_struct) {
        if let Some(m) = self.get() {
            // SAFETY: the caller passes a live task for the duration of the call.
            m.task_execed(unsafe { TaskRef::from_raw(task) });
        }
    }
}

impl<T: KernelModule> Default for ModuleInstance<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Makes `$ty` (a [`KernelModule`]) the module: generates the `rvisor_rs_*` symbols the C shim
/// calls, each dispatching statically to `$ty`'s methods.
#[macro_export]
macro_rules! module {
    ($ty:ty) => {
        static __RVISOR_MODULE: $crate::module::ModuleInstance<$ty> =
            $crate::module::ModuleInstance::new();

        #[allow(unsafe_code)]
        #[no_mangle]
        extern "C" fn rvisor_rs_init() -> i32 {
            __RVISOR_MODULE.init()
        }

        #[allow(unsafe_code)]
        #[no_mangle]
        extern "C" fn rvisor_rs_exit() {
            __RVISOR_MODULE.exit()
        }

        #[allow(unsafe_code)]
        #[no_mangle]
        extern "C" fn rvisor_rs_dev_open() -> i32 {
            __RVISOR_MODULE.dev_open()
        }

        #[allow(unsafe_code)]
        #[no_mangle]
        extern "C" fn rvisor_rs_dev_ioctl(cmd: u32, arg: u64) -> i64 {
            __RVISOR_MODULE.dev_ioctl(cmd, arg as usize)
        }

        #[allow(unsafe_code)]
        #[no_mangle]
        extern "C" fn rvisor_rs_gate_decide(
            regs: *const $crate::bindings::rvisor_pt_regs,
            task: *mut $crate::bindings::task_struct,
            compat: bool,
        ) -> $crate::bindings::rvisor_gate_decision {
            // SAFETY: the shim passes task_pt_regs(current) and current, preemption disabled.
            unsafe { __RVISOR_MODULE.gate_decide(regs, task, compat) }
        }

        #[allow(unsafe_code)]
        #[no_mangle]
        extern "C" fn rvisor_rs_gate_serve(
            regs: *mut $crate::bindings::rvisor_pt_regs,
            task: *mut $crate::bindings::task_struct,
            compat: bool,
        ) -> i64 {
            // SAFETY: the shim passes task_pt_regs(current) and current, of the calling task.
            unsafe { __RVISOR_MODULE.gate_serve(regs, task, compat) }
        }

        #[allow(unsafe_code)]
        #[no_mangle]
        extern "C" fn rvisor_rs_task_fork(
            parent: *mut $crate::bindings::task_struct,
            child: *mut $crate::bindings::task_struct,
        ) {
            // SAFETY: the shim's fork tracepoint passes the live parent and child.
            unsafe { __RVISOR_MODULE.task_forked(parent, child) }
        }

        #[allow(unsafe_code)]
        #[no_mangle]
        extern "C" fn rvisor_rs_task_exit(task: *mut $crate::bindings::task_struct) {
            // SAFETY: the shim's exit tracepoint passes the live exiting task.
            unsafe { __RVISOR_MODULE.task_exited(task) }
        }

        #[allow(unsafe_code)]
        #[no_mangle]
        extern "C" fn rvisor_rs_task_exec(task: *mut $crate::bindings::task_struct) {
            // SAFETY: the shim's exec tracepoint passes the live task.
            unsafe { __RVISOR_MODULE.task_execed(task) }
        }

        #[allow(unsafe_code)]
        #[no_mangle]
        extern "C" fn rvisor_rs_task_stop_report(
            task: *mut $crate::bindings::task_struct,
            parent: *mut $crate::bindings::task_struct,
        ) {
            // SAFETY: the shim's signal tracepoint passes live tasks.
            unsafe { __RVISOR_MODULE.task_stopped_or_continued(task, parent) }
        }
    };
}
