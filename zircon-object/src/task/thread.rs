//! Threads of a process.

use super::{Process, TaskError};
use crate::object::{KObjectBase, KernelObject, Signal};
use alloc::sync::Arc;
use kernel_hal_lkm::sync::Mutex;

/// The life of a thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadState {
    /// Created, not started.
    New,
    /// Started and not exited.
    Running,
    /// Exited, or killed with its process.
    Dead,
}

/// A thread of a process.
pub struct Thread {
    base: KObjectBase,
    process: Arc<Process>,
    state: Mutex<ThreadState>,
}

impl Thread {
    /// A new thread of `process`, unless the process has exited.
    pub fn create(process: &Arc<Process>, name: &str) -> Result<Arc<Self>, TaskError> {
        let thread = Arc::new(Self {
            base: KObjectBase::new(),
            process: process.clone(),
            state: Mutex::new(ThreadState::New),
        });
        thread.set_name(name);
        process.add_thread(&thread)?;
        Ok(thread)
    }

    /// The process the thread belongs to.
    pub fn process(&self) -> &Arc<Process> {
        &self.process
    }

    /// New, running or dead.
    pub fn state(&self) -> ThreadState {
        *self.state.lock()
    }

    /// Starts a new thread.
    pub fn start(&self) -> Result<(), TaskError> {
        let mut state = self.state.lock();
        if *state != ThreadState::New {
            return Err(TaskError::BadState);
        }
        *state = ThreadState::Running;
        Ok(())
    }

    /// Ends the thread; the last thread to exit ends its process with code 0.
    pub fn exit(&self) {
        if self.die() {
            self.process.remove_thread(self);
        }
    }

    /// Marks the thread dead and signals it; returns whether it was alive.
    pub(super) fn die(&self) -> bool {
        let was_alive = {
            let mut state = self.state.lock();
            let was_alive = *state != ThreadState::Dead;
            *state = ThreadState::Dead;
            was_alive
        };
        if was_alive {
            self.signal_set(Signal::TASK_TERMINATED);
        }
        was_alive
    }
}

impl KernelObject for Thread {
    fn base(&self) -> &KObjectBase {
        &self.base
    }

    fn type_name(&self) -> &'static str {
        "Thread"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{Job, ProcessStatus};
    use kernel_hal_lkm::platform;

    fn process() -> Arc<Process> {
        let job = Job::root(platform().unwrap().new_physical_memory(4).unwrap());
        Process::create(&job, "threads").unwrap()
    }

    #[test]
    fn a_thread_starts_once_and_exits_once() {
        let process = process();
        let thread = Thread::create(&process, "t").unwrap();
        assert_eq!(thread.state(), ThreadState::New);
        thread.start().unwrap();
        assert_eq!(thread.start(), Err(TaskError::BadState));
        assert_eq!(thread.state(), ThreadState::Running);
        let sibling = Thread::create(&process, "u").unwrap();
        thread.exit();
        assert_eq!(thread.state(), ThreadState::Dead);
        assert!(thread.signal().contains(Signal::TASK_TERMINATED));
        // A sibling is left: the process runs on.
        assert_eq!(process.status(), ProcessStatus::Running);
        assert_eq!(process.threads().len(), 1);
        sibling.exit();
        assert_eq!(process.status(), ProcessStatus::Exited(0));
    }

    #[test]
    fn process_exit_kills_its_threads_and_takes_no_new_one() {
        let process = process();
        let thread = Thread::create(&process, "t").unwrap();
        process.exit(9);
        assert_eq!(thread.state(), ThreadState::Dead);
        assert!(thread.signal().contains(Signal::TASK_TERMINATED));
        assert_eq!(
            Thread::create(&process, "late").map(|_| ()),
            Err(TaskError::ProcessExited)
        );
        // The late exit of a killed thread changes nothing.
        thread.exit();
        assert_eq!(process.status(), ProcessStatus::Exited(9));
    }
}
