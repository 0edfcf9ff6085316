//! `getpid`, `gettid`, `getppid`, `set_tid_address`: ids inside the container.

use crate::user::UserOutPtr;
use crate::{SysResult, Syscall};

impl Syscall<'_> {
    /// `getpid()`: the process id inside the container.
    pub fn sys_getpid(&self) -> SysResult {
        Ok(self.process.pid() as usize)
    }

    /// `gettid()`: the thread id inside the container.
    pub fn sys_gettid(&self) -> SysResult {
        Ok(self.tid as usize)
    }

    /// `getppid()`: the parent's pid; 0 for the container's first process.
    pub fn sys_getppid(&self) -> SysResult {
        Ok(self.process.ppid() as usize)
    }

    /// `set_tid_address(tidptr)`: where the thread's id is cleared at exit; returns the tid.
    /// The address is not checked now: Linux checks it when it writes there.
    pub fn sys_set_tid_address(&self, tidptr: UserOutPtr<i32>) -> SysResult {
        self.host.set_clear_child_tid(tidptr.addr());
        Ok(self.tid as usize)
    }
}
