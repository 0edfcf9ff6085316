//! rvisor.ko: module init/exit, `/dev/rvisor`, membership of tasks in containers, and the
//! routing of contained tasks' syscalls.
//!
//! Membership follows the gate: a process joins with ADDSELF (the gate goes on all its threads)
//! and becomes its container's first process in rVisor; every task it creates is started by
//! rVisor's `clone` and registered by the fork tracepoint before it first runs, with the ids
//! rVisor gave it. Its exit is recorded by its own task as it exits.
//!
//! The crate is the kernel module: on other targets it is empty.
#![cfg(target_os = "none")]
#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

mod console;
mod container;
mod host;
mod inotify;
mod ioctl;
mod members;
mod signalfd;
mod socket;
mod stdio;
mod syscall;
mod sysview;
mod ttysignals;

use alloc::boxed::Box;
use alloc::sync::Arc;

use linux_kernel_module::gate::{FilterId, Gate, Hooks, Syscall, Verdict};
use linux_kernel_module::miscdev::MiscDevice;
use linux_kernel_module::module::KernelModule;
use linux_kernel_module::sync::AtomicContext;
use linux_kernel_module::task::{self, TaskId, TaskRef};
use linux_kernel_module::uapi::{
    RVISOR_IOC_ADDSELF, RVISOR_IOC_CREATE, RVISOR_IOC_ENTER, RVISOR_IOC_LIST, RVISOR_IOC_MOUNT,
    RVISOR_IOC_NEWPTY, RVISOR_IOC_OPENPTY, RVISOR_IOC_REMOVE,
};
use linux_kernel_module::{Error, Result};

use container::{Container, GateIndex, Registry};
use linux_kernel_module::process::{self, Work, WorkRun};
use linux_kernel_module::user_ptr::UserOutPtr;
use linux_object::process::ExitStatus;
use members::{Member, Node, Spawn, MEMBERS};
use syscall::Served;

/// How a process joins a container.
#[derive(Clone, Copy)]
enum Joining {
    /// As its first process, pid 1 (ADDSELF).
    First,
    /// From outside, into a running container (ENTER); with `tty`, the number of the pty of
    /// the container's whose slave becomes its stdio and controlling terminal.
    Entering { tty: Option<u32> },
}

/// The module.
pub struct Rvisor {
    // Fields drop in this order: the device and the hooks go first, so no callback can start
    // while the state below is dropped.
    _device: MiscDevice,
    _hooks: Hooks,
    containers: Registry,
    gates: GateIndex,
}

linux_kernel_module::module!(Rvisor);

impl Rvisor {
    /// True if the current task is contained (registered, or behind a gate).
    #[inline]
    fn current_is_contained(&self) -> bool {
        self.is_contained(TaskId::current())
    }

    /// True if `task`, the current task, is contained (registered, or behind a gate).
    #[inline]
    fn is_contained(&self, task: TaskId) -> bool {
        MEMBERS.contains(task) || self.behind_gate()
    }

    /// True if the current task runs behind a container's gate (registered or not).
    fn behind_gate(&self) -> bool {
        FilterId::of_current().is_some_and(|f| self.gates.contains(f))
    }

    /// Makes the calling process, all its threads, members of `container`, as `how` says:
    /// its first process in rVisor, or a process entering it from outside; with the caller's
    /// credentials and its stdio (or a terminal of the container's).
    fn join_current(&self, container: &Arc<Container>, how: Joining) -> Result {
        if self.current_is_contained() {
            return Err(Error::EPERM);
        }
        let process = match how {
            // One process joins a container: the rest are its descendants.
            Joining::First => container
                .linux()
                .spawn_init(alloc::string::String::new())
                .map_err(|_| Error::EBUSY)?,
            Joining::Entering { .. } => container
                .linux()
                .enter(alloc::string::String::new())
                .map_err(host::kernel_error)?,
        };
        let mut admitted = false;
        let joined = self.join_as(container, &process, how, &mut admitted);
        if joined.is_err() && !admitted && matches!(how, Joining::Entering { .. }) {
            // No task is its: its pid and descriptors go. (A first process stays, as the
            // container cannot be joined again.)
            process.abandon();
        }
        joined
    }

    /// [`join_current`](Self::join_current) once `process` is made; `admitted` says whether
    /// a task of the caller became its member (then its exit records the process's).
    fn join_as(
        &self,
        container: &Arc<Container>,
        process: &Arc<linux_object::process::LinuxProcess>,
        how: Joining,
        admitted: &mut bool,
    ) -> Result {
        process.set_credentials(host::current_credentials()?);
        match how {
            Joining::First => {
                if !console::console_stdio(process).map_err(host::kernel_error)? {
                    stdio::inherit(process).map_err(host::kernel_error)?;
                }
                // rVisor reparents orphans to pid 1, whose wait4 then reaps them on the host
                // too: the host must have reparented them to the same task.
                process::become_subreaper();
            }
            Joining::Entering { tty: Some(index) } => {
                console::terminal_stdio(process, index)?;
            }
            Joining::Entering { tty: None } => {
                stdio::inherit(process).map_err(host::kernel_error)?;
            }
        }
        process::disable_core_dumps();
        let gate = Gate::attach_current()?;
        let filter = gate.filter();
        container.add_gate(gate)?;
        self.gates.add(filter, container.clone())?;
        // Threads may be created while we register: repeat until a pass finds nothing new.
        // The leader goes first: its tid is the process id.
        loop {
            let mut threads = task::current_threads()?;
            threads.sort_by_key(|t| !t.is_thread_group_leader());
            let mut added = 0;
            for thread in &threads {
                if MEMBERS.contains(thread.id()) {
                    continue;
                }
                let tid = if thread.is_thread_group_leader() {
                    process.pid()
                } else {
                    process.new_thread().map_err(host::kernel_error)?
                };
                let member = Member {
                    container: container.clone(),
                    tid,
                    pid: process.pid(),
                    process: process.clone(),
                    seat: None,
                    image: None,
                    spawning: None,
                };
                let mut node = Box::new(Node::new(thread.clone(), member));
                node.set_pid_entry(Box::new(node.pid_entry()));
                self.admit(node)?;
                *admitted = true;
                added += 1;
            }
            if added == 0 {
                break;
            }
        }
        if matches!(how, Joining::Entering { .. }) {
            // Pid 1 may have ended since `enter` looked, its kill of every gated task coming
            // before our gate was kept: then we are in a container that is ending. (Pid 1's
            // exit is recorded before its kill takes the gates' lock, and our gate was kept
            // under that lock before this look.)
            let running = container
                .linux()
                .process(linux_object::container::INIT_PID)
                .is_some_and(|init| init.exit_status().is_none());
            if !running {
                return Err(Error::ESRCH);
            }
        }
        Ok(())
    }

    /// Registers a new member; `EAGAIN` (and nothing registered) if its container is dying.
    fn admit(&self, node: Box<Node>) -> Result {
        let container = node.member().container.clone();
        let count = container.members().clone();
        count.enter();
        // Counted in before the check: REMOVE either sees this member or we see it dying.
        if container.is_dying() {
            count.leave();
            return Err(Error::EAGAIN);
        }
        if MEMBERS.insert(node).is_err() {
            count.leave();
        }
        Ok(())
    }
}

impl KernelModule for Rvisor {
    fn init() -> Result<Self> {
        kernel_hal_lkm::install_platform(&kernel_hal_lkm::lkm::KernelPlatform)
            .map_err(|_| Error::EBUSY)?;
        // Hooks before the device: nobody can join before membership is tracked.
        let hooks = Hooks::register()?;
        let rvisor = Rvisor {
            _device: MiscDevice::register()?,
            _hooks: hooks,
            containers: Registry::new()?,
            gates: GateIndex::new(),
        };
        log::info!("loaded: /dev/rvisor ready");
        Ok(rvisor)
    }

    fn open(&self) -> Result {
        if self.current_is_contained() {
            return Err(Error::EPERM);
        }
        Ok(())
    }

    fn ioctl(&self, cmd: u32, arg: usize) -> Result<isize> {
        if self.current_is_contained() {
            return Err(Error::EPERM);
        }
        match cmd {
            RVISOR_IOC_CREATE => ioctl::create(self, arg),
            RVISOR_IOC_ADDSELF => ioctl::add_self(self, arg),
            RVISOR_IOC_REMOVE => ioctl::remove(self, arg),
            RVISOR_IOC_LIST => ioctl::list(self, arg),
            RVISOR_IOC_MOUNT => ioctl::mount(self, arg),
            RVISOR_IOC_OPENPTY => ioctl::open_pty(self, arg),
            RVISOR_IOC_ENTER => ioctl::enter(self, arg),
            RVISOR_IOC_NEWPTY => ioctl::new_pty(self, arg),
            _ => Err(Error::ENOTTY),
        }
    }

    #[inline]
    fn gate_decide(&self, call: &Syscall<'_>, atomic: &AtomicContext) -> Verdict {
        syscall::decide(
            call,
            || MEMBERS.with_atomic(call.task(), atomic, |_| ()).is_some() || self.behind_gate(),
            |answer| {
                MEMBERS.with_atomic(call.task(), atomic, |caller| {
                    answer.answer(caller.pid, caller.tid)
                })
            },
        )
    }

    fn gate_serve(&self, call: &Syscall<'_>) -> isize {
        let served = {
            let Some(caller) = MEMBERS.caller(call.task()) else {
                // Behind a gate but never registered (its registration failed): fail closed.
                log::warn!("unregistered task behind a gate: killed");
                task::kill_current();
                return Error::ENOSYS.to_syscall_return();
            };
            syscall::serve(&caller, call)
        };
        match served {
            Served::Value(value) => value,
            // Nothing of the call is alive any more: the task may end here.
            Served::Exit(exit) => process::exit_current(exit.code, exit.group),
        }
    }

    fn task_forked(&self, parent: TaskRef<'_>, child: TaskRef<'_>) {
        let found = MEMBERS.update(parent.id(), |m| {
            (m.spawning.take(), m.container.clone(), m.image.clone())
        });
        let (spawn, container, image) = match found {
            Some((Some(spawn), container, image)) => (spawn, container, image),
            Some((None, container, _)) => {
                // Every clone of a member is rVisor's: this one went around it.
                log::warn!(
                    "container {}: a task not started by rVisor: killed",
                    container.id()
                );
                child.kill();
                return;
            }
            None => {
                // A thread made by a process while it joins: it cannot be given an id here.
                if let Some(container) = parent
                    .seccomp_filter()
                    .and_then(|f| self.gates.container_of(f))
                {
                    log::warn!(
                        "container {}: a thread created while its process joined: killed",
                        container.id()
                    );
                    child.kill();
                }
                return;
            }
        };
        let set_child_tid = spawn.set_child_tid;
        let clear_signal_handlers = spawn.clear_signal_handlers;
        let tid = spawn.tid;
        let registered = register_child(self, child, container.clone(), spawn, image);
        if let Err(e) = registered {
            // Not registered means not contained: it must never run.
            log::warn!(
                "container {}: a new task could not be registered ({:?}): killed",
                container.id(),
                e
            );
            child.kill();
            return;
        }
        if clear_signal_handlers {
            // CLONE_CLEAR_SIGHAND: as an interrupting work, it runs before any signal is
            // delivered to the child (get_signal runs works first).
            let cleared = queue(child, WorkRun::Interrupting, process::clear_signal_handlers);
            if cleared.is_err() {
                log::warn!(
                    "container {}: a new task could not clear its signal handlers: killed",
                    container.id()
                );
                child.kill();
                return;
            }
        }
        if let Some(addr) = set_child_tid {
            // CLONE_CHILD_SETTID: the child stores its container tid before its first
            // instruction, in its own memory.
            let stored = queue(child, WorkRun::OnResume, move || {
                let _ = UserOutPtr::<i32>::new(addr).write(&(tid as i32));
            });
            if stored.is_err() {
                log::warn!(
                    "container {}: CLONE_CHILD_SETTID not honoured",
                    container.id()
                );
            }
        }
    }

    fn task_exited(&self, task: TaskRef<'_>) {
        let Some(node) = MEMBERS.remove(task.id()) else {
            return;
        };
        let code = task.exit_code();
        let count = node.member().container.members().clone();
        let leave = count.clone();
        // Recording the exit closes files and may free an image: the task does it itself, as
        // it exits, where it may sleep.
        let recorded = queue(task, WorkRun::AtExit, move || {
            finish_exit(node.member(), code);
            drop(node);
            count.leave();
        });
        if recorded.is_err() {
            // Its record is leaked: the container can still go.
            log::warn!("an exiting task's exit could not be recorded");
            leave.leave();
        }
    }

    fn task_stopped_or_continued(&self, task: TaskRef<'_>, parent: TaskRef<'_>) {
        // Only a weak reference in atomic context: the last reference to a process must not
        // go here.
        let Some(process) = MEMBERS.update(task.id(), |m| Arc::downgrade(&m.process)) else {
            return;
        };
        // rVisor's waits of the parent look again, woken from process context: the host
        // parent runs it, interrupted as a signal would (a call it is in restarts).
        // A parent past running works is exiting: nobody waits then.
        let _ = queue(parent, WorkRun::Interrupting, move || {
            if let Some(process) = process.upgrade() {
                process.state_changed();
            }
        });
    }

    fn task_execed(&self, task: TaskRef<'_>) {
        // A thread that executes becomes its process's leader and takes over the process id.
        if task.is_thread_group_leader() {
            MEMBERS.became_leader(task.id());
        }
    }
}

/// Registers `child`, which `spawn` describes, as a member (atomic context).
fn register_child(
    rvisor: &Rvisor,
    child: TaskRef<'_>,
    container: Arc<Container>,
    spawn: Spawn,
    image: Option<Arc<crate::host::ExecImage>>,
) -> Result {
    let member = Member {
        container,
        tid: spawn.tid,
        pid: spawn.process.pid(),
        process: spawn.process,
        seat: None,
        image,
        spawning: None,
    };
    let mut node = linux_kernel_module::allocator::try_box_atomic(Node::new(child.hold(), member))?;
    // Without memory for its index entry the task is still a member, found by a walk.
    if let Ok(entry) = linux_kernel_module::allocator::try_box_atomic(node.pid_entry()) {
        node.set_pid_entry(entry);
    }
    rvisor.admit(node)
}

/// Makes `task` run `work` in its own context (see `TaskRef::queue_work`); callable in atomic
/// context. If the work cannot be queued it is leaked, not dropped: what it owns may only be
/// dropped where sleeping is allowed.
pub(crate) fn queue(
    task: TaskRef<'_>,
    when: WorkRun,
    work: impl FnOnce() + Send + 'static,
) -> Result {
    use linux_kernel_module::allocator::try_box_atomic_or_back;
    /// What was not queued is leaked rather than dropped here.
    fn leaked<T>(value: T) -> Error {
        core::mem::forget(value);
        Error::ENOMEM
    }
    let work: Work = try_box_atomic_or_back(work).map_err(leaked)?;
    let work = try_box_atomic_or_back(work).map_err(leaked)?;
    task.queue_work(work, when).map_err(leaked)
}

/// Records in rVisor how a member task ended: `code` is its host exit code.
fn finish_exit(member: &Member, code: i32) {
    let signal = code & 0x7f;
    if signal != 0 {
        member.process.exit(ExitStatus::Signaled(signal as u8));
    } else {
        member.process.exit_thread(member.tid, (code >> 8) as u8);
    }
    // As in a pid namespace: when the first process ends, the container's other tasks die.
    if member.pid == linux_object::container::INIT_PID && member.process.exit_status().is_some() {
        member.container.kill_all();
    }
}
