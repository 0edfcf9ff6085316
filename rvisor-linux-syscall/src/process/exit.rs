//! `exit`, `exit_group`, `wait4`: the end of threads and processes, and reaping them.

use crate::user::UserOutPtr;
use crate::{SysResult, Syscall};
use linux_object::process::{ExitStatus, WaitTarget};
use linux_object::LxError;

/// `wait4` option: return 0 at once if no child has changed state.
const WNOHANG: u32 = 0x1;
/// `wait4` option: report stopped children too (job control is not modelled: none stops).
const WUNTRACED: u32 = 0x2;
/// `wait4` option: report continued children too (none is, without job control).
const WCONTINUED: u32 = 0x8;
/// `wait4` option: only the caller's own children, not its threads' (one table here).
const WNOTHREAD: u32 = 0x2000_0000;
/// `wait4` option: all children whatever their exit signal.
const WALL: u32 = 0x4000_0000;
/// `wait4` option: only children with a non-`SIGCHLD` exit signal (not told apart here).
const WCLONE: u32 = 0x8000_0000;

/// The size of `struct rusage` on x86-64: 2 `timeval`s and 14 longs.
const RUSAGE_SIZE: usize = 144;

impl Syscall<'_> {
    /// `exit(code)`: ends the calling thread; the process ends with its last thread.
    pub fn sys_exit(&self, code: i32) -> SysResult {
        // Only the low byte is kept, as Linux keeps it.
        let code = code as u8;
        self.process.exit_thread(self.tid, code);
        self.host.exit_thread(ExitStatus::Exited(code));
        Ok(0)
    }

    /// `exit_group(code)`: ends every thread of the process.
    pub fn sys_exit_group(&self, code: i32) -> SysResult {
        let status = ExitStatus::Exited(code as u8);
        self.process.exit(status);
        self.host.exit_group(status);
        Ok(0)
    }

    /// `wait4(pid, wstatus, options, rusage)`: waits for a child to exit and reaps it; returns
    /// its pid, or 0 with `WNOHANG` when none has exited yet. `pid` -1 is any child, 0 any
    /// child in the caller's process group, `< -1` any child in group `-pid`.
    pub async fn sys_wait4(
        &self,
        pid: i32,
        wstatus: UserOutPtr<i32>,
        options: u32,
        rusage: UserOutPtr<u8>,
    ) -> SysResult {
        let known = WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WALL | WCLONE;
        if options & !known != 0 {
            return Err(LxError::EINVAL);
        }
        let target = match pid {
            // -INT_MIN is no process group.
            i32::MIN => return Err(LxError::ESRCH),
            pid if pid > 0 => WaitTarget::Pid(pid.unsigned_abs()),
            0 => WaitTarget::Group(self.process.pgid()),
            -1 => WaitTarget::Any,
            pid => WaitTarget::Group(pid.unsigned_abs()),
        };
        let Some((pid, status)) = self
            .process
            .wait_child(target, options & WNOHANG != 0)
            .await?
        else {
            return Ok(0);
        };
        self.host.reaped(pid);
        // The child is reaped even if the results cannot be stored, as on Linux.
        wstatus.write_if_not_null(status.wait_status())?;
        if !rusage.is_null() {
            // Resource usage is not accounted: all zero.
            rusage.write_bytes(&[0; RUSAGE_SIZE])?;
        }
        Ok(pid as usize)
    }
}
