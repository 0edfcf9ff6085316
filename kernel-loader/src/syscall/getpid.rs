//! `getpid`, `gettid`, `getppid`: virtual ids, the container's own pid space.

use linux_kernel_module::gate::Syscall;
use linux_kernel_module::task::TaskId;

use super::{Context, SysResult};
use crate::members::Member;

/// The caller's process id in its container.
pub fn sys_getpid(caller: &Member, _: &Syscall<'_>) -> isize {
    caller.pid as isize
}

/// The caller's thread id in its container.
pub fn sys_gettid(caller: &Member, _: &Syscall<'_>) -> isize {
    caller.tid as isize
}

/// The parent's process id in the container; 0 when the parent is outside it (as for the
/// first process of a pid namespace).
pub fn sys_getppid(ctx: &Context<'_>, _: &Syscall<'_>) -> SysResult {
    let parent: TaskId = TaskId::current_parent();
    let ppid = ctx
        .members
        .with(parent, |p| {
            if p.container.id() == ctx.caller.container.id() {
                p.pid
            } else {
                0
            }
        })
        .unwrap_or(0);
    Ok(ppid as usize)
}
