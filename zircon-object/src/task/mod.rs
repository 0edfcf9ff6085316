//! Tasks: jobs, processes and threads.
//!
//! A [`Job`] is a container's root: it owns the container's physical memory, and its
//! processes and child jobs. A [`Process`] is an address space (its root
//! [`VmAddressRegion`](crate::vm::VmAddressRegion), on a page table of the job's memory), its
//! futexes and its threads. A [`Thread`] runs in a process. Each signals
//! [`Signal::TASK_TERMINATED`](crate::object::Signal::TASK_TERMINATED) when it ends.
//!
//! ```
//! use kernel_hal_lkm::platform;
//! use zircon_object::{object::{KernelObject, Signal}, task::{Job, Process, ProcessStatus, Thread}};
//!
//! let container = Job::root(platform().unwrap().new_physical_memory(64).unwrap());
//! let process = Process::create(&container, "sh").unwrap();
//! let thread = Thread::create(&process, "main").unwrap();
//! thread.start().unwrap();
//! // The last thread's exit ends the process.
//! thread.exit();
//! assert_eq!(process.status(), ProcessStatus::Exited(0));
//! assert!(process.signal().contains(Signal::TASK_TERMINATED));
//! ```

mod job;
mod process;
mod thread;

pub use job::{Job, KILLED_RETURN_CODE};
pub use process::{Process, ProcessStatus};
pub use thread::{Thread, ThreadState};

use crate::vm::VmError;
use core::fmt;
use kernel_hal_lkm::HalError;

/// Errors of tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskError {
    /// the job was killed
    JobKilled,
    /// the process has exited
    ProcessExited,
    /// the thread is not in a state that allows this
    BadState,
    /// the address space could not be set up
    Vm(VmError),
    /// the HAL failed
    Hal(HalError),
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::JobKilled => f.write_str("the job was killed"),
            Self::ProcessExited => f.write_str("the process has exited"),
            Self::BadState => f.write_str("the thread is not in a state that allows this"),
            Self::Vm(error) => write!(f, "the address space could not be set up: {error}"),
            Self::Hal(error) => write!(f, "the HAL failed: {error}"),
        }
    }
}

impl From<VmError> for TaskError {
    fn from(error: VmError) -> Self {
        Self::Vm(error)
    }
}

impl From<HalError> for TaskError {
    fn from(error: HalError) -> Self {
        Self::Hal(error)
    }
}
