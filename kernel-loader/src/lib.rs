//! rvisor.ko: module init/exit, `/dev/rvisor`, membership of tasks in containers, and the
//! routing of contained tasks' syscalls.
//!
//! Membership follows the gate: a process joins with ADDSELF (the gate goes on all its threads),
//! and every task it creates is registered by the fork tracepoint before it first runs, with the
//! next virtual pid of its container. Exit forgets it.
#![cfg_attr(target_os = "none", no_std)]
#![deny(unsafe_code)]

extern crate alloc;

mod container;
mod ioctl;
mod members;
mod syscall;

use alloc::boxed::Box;
use alloc::sync::Arc;

use linux_kernel_module::gate::{FilterId, Gate, Hooks, Syscall, Verdict};
use linux_kernel_module::miscdev::MiscDevice;
use linux_kernel_module::module::KernelModule;
use linux_kernel_module::sync::AtomicContext;
use linux_kernel_module::task::{self, TaskId, TaskRef};
use linux_kernel_module::uapi::{
    RVISOR_IOC_ADDSELF, RVISOR_IOC_CREATE, RVISOR_IOC_LIST, RVISOR_IOC_REMOVE,
};
use linux_kernel_module::{Error, Result};

use container::{Container, GateIndex, Registry};
use members::{Member, MemberTable, Node};

/// The module.
pub struct Rvisor {
    // Fields drop in this order: the device and the hooks go first, so no callback can start
    // while the state below is dropped.
    _device: MiscDevice,
    _hooks: Hooks,
    containers: Registry,
    gates: GateIndex,
    members: MemberTable,
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
        self.members.contains(task) || self.behind_gate()
    }

    /// True if the current task runs behind a container's gate (registered or not).
    fn behind_gate(&self) -> bool {
        FilterId::of_current().is_some_and(|f| self.gates.contains(f))
    }

    /// Makes the calling process, all its threads, members of `container`.
    fn join_current(&self, container: &Arc<Container>) -> Result {
        if self.current_is_contained() {
            return Err(Error::EPERM);
        }
        let gate = Gate::attach_current()?;
        let filter = gate.filter();
        container.add_gate(gate)?;
        self.gates.add(filter, container.clone())?;
        // Threads may be created while we register: repeat until a pass finds nothing new.
        // The leader goes first so that the process id is the first one handed out.
        let mut pid = None;
        loop {
            let mut threads = task::current_threads()?;
            threads.sort_by_key(|t| !t.is_thread_group_leader());
            let mut added = 0;
            for thread in &threads {
                if self.members.contains(thread.id()) {
                    continue;
                }
                let tid = container.alloc_pid()?;
                let pid = *pid.get_or_insert(tid);
                let member = Member {
                    container: container.clone(),
                    tid,
                    pid,
                };
                self.admit(Box::new(Node::new(thread.id(), member)))?;
                added += 1;
            }
            if added == 0 {
                break;
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
        if self.members.insert(node).is_err() {
            count.leave();
        }
        Ok(())
    }
}

impl KernelModule for Rvisor {
    fn init() -> Result<Self> {
        // Hooks before the device: nobody can join before membership is tracked.
        let hooks = Hooks::register()?;
        let rvisor = Rvisor {
            _device: MiscDevice::register()?,
            _hooks: hooks,
            containers: Registry::new()?,
            gates: GateIndex::new(),
            members: MemberTable::new(),
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
            _ => Err(Error::ENOTTY),
        }
    }

    #[inline]
    fn gate_decide(&self, call: &Syscall<'_>, atomic: &AtomicContext) -> Verdict {
        syscall::decide(
            call,
            || {
                self.members
                    .with_atomic(call.task(), atomic, |_| ())
                    .is_some()
                    || self.behind_gate()
            },
            |answer| {
                self.members
                    .with_atomic(call.task(), atomic, |caller| answer(caller, call))
            },
        )
    }

    fn gate_serve(&self, call: &Syscall<'_>) -> isize {
        let Some(caller) = self.members.get(call.task()) else {
            // Behind a gate but never registered (its registration failed): fail closed.
            log::warn!("unregistered task behind a gate: killed");
            task::kill_current();
            return Error::ENOSYS.to_syscall_return();
        };
        syscall::serve(
            &syscall::Context {
                caller: &caller,
                members: &self.members,
            },
            call,
        )
    }

    fn task_forked(&self, parent: TaskRef<'_>, child: TaskRef<'_>) {
        let (container, parent_pid) = match self
            .members
            .with(parent.id(), |m| (m.container.clone(), m.pid))
        {
            Some(found) => found,
            None => {
                // A process still joining (ADDSELF registers its threads itself).
                let Some(container) = parent
                    .seccomp_filter()
                    .and_then(|f| self.gates.container_of(f))
                else {
                    return;
                };
                if !child.is_thread_group_leader() {
                    return;
                }
                (container, 0)
            }
        };
        let registered = container.alloc_pid().and_then(|tid| {
            let pid = if child.is_thread_group_leader() {
                tid
            } else {
                parent_pid
            };
            let member = Member {
                container: container.clone(),
                tid,
                pid,
            };
            self.admit(linux_kernel_module::allocator::try_box_atomic(Node::new(
                child.id(),
                member,
            ))?)
        });
        if let Err(e) = registered {
            // Not registered means not contained: it must never run.
            log::warn!(
                "container {}: a new task could not be registered ({:?}): killed",
                container.id(),
                e
            );
            child.kill();
        }
    }

    fn task_exited(&self, task: TaskRef<'_>) {
        if let Some(node) = self.members.remove(task.id()) {
            let count = node.member().container.members().clone();
            // Drops this task's reference to the container first; REMOVE holds another until
            // the count reaches zero, so this one is never the last.
            drop(node);
            count.leave();
        }
    }

    fn task_execed(&self, task: TaskRef<'_>) {
        // A thread that executes becomes its process's leader and takes over the process id.
        if task.is_thread_group_leader() {
            self.members.update(task.id(), |m| m.tid = m.pid);
        }
    }
}
