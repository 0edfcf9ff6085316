//! `set_tid_address`: where to clear and wake on thread exit; returns the caller's virtual tid.

use linux_kernel_module::gate::Syscall;
use linux_kernel_module::task;

use super::{Context, SysResult};

/// Records `tidptr` as the thread's clear_child_tid, as Linux does, and returns its tid.
pub fn sys_set_tid_address(ctx: &Context<'_>, call: &Syscall<'_>) -> SysResult {
    let [tidptr, ..] = call.args();
    task::set_clear_child_tid(tidptr);
    Ok(ctx.caller.tid as usize)
}
