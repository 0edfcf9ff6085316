//! rVisor's Linux system calls.
//!
//! A [`Syscall`] is one call of one contained thread: the process it belongs to, its thread
//! id, and the [`TaskHost`] that does what only the machine under the process can do (start a
//! task, replace an address space, map memory). [`Syscall::run`] looks the number up in the
//! dispatch table ([`table`]) and returns what the thread's `rax` gets: the result, or
//! `-errno`. Numbers the table does not serve return `-ENOSYS`.
//!
//! Each call lives in a small function named after it (`sys_getpid`, `sys_openat`, …), one
//! file per family; every user address goes through [`user`]'s typed pointers; every error is
//! an [`LxError`]. The crate keeps no state of its own: the state is in `linux-object`.
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
// `testing` (hosted only) uses std for its temporary directories and its executor.
#[cfg(any(test, not(target_os = "none")))]
extern crate std;

pub mod host;
pub mod table;
#[cfg(not(target_os = "none"))]
pub mod testing;
pub mod user;

mod fs;
mod inet;
mod ipc;
mod mm;
mod net;
mod process;
mod system;

pub use fs::{IoVec, Stat, StatFs, Statx};

pub use host::TaskHost;
pub use linux_object::{LxError, LxResult};

use alloc::sync::Arc;
use linux_object::container::Pid;
use linux_object::process::LinuxProcess;

/// What a served call returns to the dispatcher: the value for `rax`, or an errno.
pub type SysResult = LxResult<usize>;

/// One system call of one contained thread.
pub struct Syscall<'a> {
    /// The calling process.
    pub process: &'a Arc<LinuxProcess>,
    /// The calling thread's id inside the container.
    pub tid: Pid,
    /// The machine under the process.
    pub host: &'a dyn TaskHost,
}

impl Syscall<'_> {
    /// Serves call `nr` with arguments `args` and returns the value for the thread's `rax`:
    /// the result, `-errno` on failure, `-ENOSYS` for a number this crate does not serve.
    pub async fn run(&self, nr: u32, args: [usize; 6]) -> isize {
        rax(self.dispatch(nr, args).await)
    }

    /// [`Syscall::run`] without a future, for the calls whose handlers never wait (most of
    /// them): `Some(rax)` for such a call or a number this crate does not serve, `None` for a
    /// call that may wait, which must go through [`Syscall::run`].
    pub fn run_now(&self, nr: u32, args: [usize; 6]) -> Option<isize> {
        match self.dispatch_now(nr, args) {
            table::Now::Done(result) => Some(rax(Some(result))),
            table::Now::Unknown => Some(rax(None)),
            table::Now::Later => None,
        }
    }
}

/// The value for `rax` of a dispatched call (`None`: not served).
fn rax(result: Option<SysResult>) -> isize {
    match result {
        Some(Ok(value)) => value as isize,
        Some(Err(error)) => -(error.errno() as isize),
        None => -(LxError::ENOSYS.errno() as isize),
    }
}
