//! `exit`, `exit_group`, `wait4`: the end of threads and processes, and reaping them.

use crate::host::{write_no_rusage, TaskHost};
use crate::user::UserOutPtr;
use crate::{SysResult, Syscall};
use linux_object::container::Pid;
use linux_object::process::{ChildState, ChildStops, ExitStatus, WaitOptions, WaitTarget};
use linux_object::LxError;

/// The host's stops and continues of the caller's children, for a wait.
pub(crate) struct HostStops<'a>(pub &'a dyn TaskHost);

impl ChildStops for HostStops<'_> {
    fn report(&self, pid: Pid, options: WaitOptions, consume: bool) -> Option<ChildState> {
        self.0
            .child_stop_state(pid, options.stopped, options.continued, consume)
    }
}

/// `wait4` option: return 0 at once if no child has changed state.
const WNOHANG: u32 = 0x1;
/// `wait4` option: report stopped children too.
const WUNTRACED: u32 = 0x2;
/// `wait4` option: report continued children too.
const WCONTINUED: u32 = 0x8;
/// `wait4` option: only the caller's own children, not its threads' (one table here).
const WNOTHREAD: u32 = 0x2000_0000;
/// `wait4` option: all children whatever their exit signal.
const WALL: u32 = 0x4000_0000;
/// `wait4` option: only children with a non-`SIGCHLD` exit signal (not told apart here).
const WCLONE: u32 = 0x8000_0000;

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

    /// `wait4(pid, wstatus, options, rusage)`: waits for a child to exit and reaps it (or, with
    /// `WUNTRACED`/`WCONTINUED`, to stop or continue: status `sig << 8 | 0x7f`, or `0xffff`);
    /// returns its pid, or 0 with `WNOHANG` when none has changed yet. `pid` -1 is any child, 0 any
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
        let wait = WaitOptions {
            exited: true,
            stopped: options & WUNTRACED != 0,
            continued: options & WCONTINUED != 0,
            nohang: options & WNOHANG != 0,
            keep: false,
        };
        let stops = HostStops(self.host);
        let Some(report) = self.process.wait_child_change(target, wait, &stops).await? else {
            return Ok(0);
        };
        // The child is reaped even if the results cannot be stored, as on Linux; the host's
        // reap writes its usage. A stopped or continued child's usage is not read: all zero.
        let (status, usage) = match report.state {
            ChildState::Exited(status) => {
                (status.wait_status(), self.host.reaped(report.pid, rusage))
            }
            // WIFSTOPPED: 0x7f with the signal above it; WIFCONTINUED: 0xffff.
            ChildState::Stopped(signal) => {
                ((i32::from(signal) << 8) | 0x7f, write_no_rusage(rusage))
            }
            ChildState::Continued => (0xffff, write_no_rusage(rusage)),
        };
        wstatus.write_if_not_null(status)?;
        usage?;
        Ok(report.pid as usize)
    }
}
