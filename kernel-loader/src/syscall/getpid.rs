//! `getpid`, `gettid`: virtual ids, answered in the gate's callback from the caller's record.

use linux_kernel_module::gate::Syscall;

use crate::members::Member;

/// The caller's process id in its container.
pub fn sys_getpid(caller: &Member, _: &Syscall<'_>) -> isize {
    caller.pid as isize
}

/// The caller's thread id in its container.
pub fn sys_gettid(caller: &Member, _: &Syscall<'_>) -> isize {
    caller.tid as isize
}
