//! `waitid`: waiting for a child's exit and reporting it in a `siginfo_t`.
//!
//! Stopped and continued children are the host's job control's: a stop or continue not yet
//! reported is read from the child's host task (and consumed, unless `WNOWAIT`), as Linux's
//! `wait_task_stopped` and `wait_task_continued` do. pidfds do not exist in rVisor: `P_PIDFD` with a descriptor is `EBADF`, as
//! Linux answers for a descriptor that is not a pidfd.

use linux_object::process::{ChildReport, ChildState, ExitStatus, WaitOptions, WaitTarget};

use super::exit::HostStops;
use linux_object::LxError;

use crate::fs::access_ok;
use crate::host::write_no_rusage;
use crate::user::UserOutPtr;
use crate::{SysResult, Syscall};

/// `idtype`: any child.
const P_ALL: u32 = 0;
/// `idtype`: the child with pid `id`.
const P_PID: u32 = 1;
/// `idtype`: the children of process group `id` (0: the caller's).
const P_PGID: u32 = 2;
/// `idtype`: the child the pidfd `id` refers to.
const P_PIDFD: u32 = 3;

const WNOHANG: u32 = 0x1;
const WSTOPPED: u32 = 0x2;
const WEXITED: u32 = 0x4;
const WCONTINUED: u32 = 0x8;
const WNOWAIT: u32 = 0x0100_0000;
const WNOTHREAD: u32 = 0x2000_0000;
const WALL: u32 = 0x4000_0000;
const WCLONE: u32 = 0x8000_0000;

/// The signal a child's state change is reported as.
const SIGCHLD: i32 = 17;
/// `si_code`: the child called `exit`.
const CLD_EXITED: i32 = 1;
/// `si_code`: a signal killed the child.
const CLD_KILLED: i32 = 2;
/// `si_code`: a signal killed the child and it dumped core.
const CLD_DUMPED: i32 = 3;
/// `si_code`: a signal stopped the child.
const CLD_STOPPED: i32 = 5;
/// `si_code`: `SIGCONT` continued the child.
const CLD_CONTINUED: i32 = 6;
/// The signal that continues a stopped process.
const SIGCONT: i32 = 18;
/// The core-dump flag in a signal death's status byte.
const CORE_DUMPED: u8 = 0x80;

/// `sizeof(siginfo_t)`.
const SIGINFO_SIZE: usize = 128;

/// `si_code` and `si_status` for a child's end.
fn code_and_status(status: ExitStatus) -> (i32, i32) {
    match status {
        ExitStatus::Exited(code) => (CLD_EXITED, i32::from(code)),
        ExitStatus::Signaled(signal) if signal & CORE_DUMPED != 0 => {
            (CLD_DUMPED, i32::from(signal & !CORE_DUMPED))
        }
        ExitStatus::Signaled(signal) => (CLD_KILLED, i32::from(signal)),
    }
}

impl Syscall<'_> {
    /// `waitid(idtype, id, infop, options, rusage)`. `EINVAL` for an unknown option, for
    /// none of `WEXITED`, `WSTOPPED`, `WCONTINUED`, for an unknown `idtype`, a `P_PID` id
    /// below 1 or a negative `P_PGID`/`P_PIDFD` id, in Linux's order. On success `infop`
    /// gets `si_signo` (`SIGCHLD`), `si_errno`, `si_code`, `si_pid`, `si_uid` and
    /// `si_status`; with `WNOHANG` and nothing to report, all of them 0. Resource usage is
    /// not accounted: `rusage` is zeroed.
    pub async fn sys_waitid(
        &self,
        idtype: u32,
        id: i32,
        infop: UserOutPtr<u8>,
        options: u32,
        rusage: UserOutPtr<u8>,
    ) -> SysResult {
        let known = WNOHANG | WSTOPPED | WEXITED | WCONTINUED | WNOWAIT | WNOTHREAD | WALL | WCLONE;
        if options & !known != 0 || options & (WEXITED | WSTOPPED | WCONTINUED) == 0 {
            return Err(LxError::EINVAL);
        }
        let mut nonblocking_pidfd = false;
        let target = match idtype {
            P_ALL => WaitTarget::Any,
            P_PID if id > 0 => WaitTarget::Pid(id.unsigned_abs()),
            P_PGID if id == 0 => WaitTarget::Group(self.process.pgid()),
            P_PGID if id > 0 => WaitTarget::Group(id.unsigned_abs()),
            P_PIDFD if id >= 0 => {
                let (process, nonblock) = self.pidfd_process(id)?;
                nonblocking_pidfd = nonblock && options & WNOHANG == 0;
                WaitTarget::Pid(process.pid())
            }
            _ => return Err(LxError::EINVAL),
        };
        let wait = WaitOptions {
            exited: options & WEXITED != 0,
            stopped: options & WSTOPPED != 0,
            continued: options & WCONTINUED != 0,
            nohang: options & WNOHANG != 0 || nonblocking_pidfd,
            keep: options & WNOWAIT != 0,
        };
        let stops = HostStops(self.host);
        let exit = self.process.wait_child_change(target, wait, &stops).await?;
        if exit.is_none() && nonblocking_pidfd {
            return Err(LxError::EAGAIN);
        }
        // The host's reap writes the child's usage; a child kept (WNOWAIT), stopped or
        // continued has its usage unread: all zero.
        match exit {
            Some(e) if !wait.keep && matches!(e.state, ChildState::Exited(_)) => {
                self.host.reaped(e.pid, rusage)?
            }
            Some(_) => write_no_rusage(rusage)?,
            None => {}
        }
        if infop.is_null() {
            return Ok(0);
        }
        access_ok(infop.addr(), SIGINFO_SIZE)?;
        write_siginfo(infop, exit)?;
        Ok(0)
    }
}

/// Writes the fields Linux's `waitid` writes, and no others.
fn write_siginfo(infop: UserOutPtr<u8>, exit: Option<ChildReport>) -> Result<(), LxError> {
    let (signo, code, pid, uid, status) = match exit {
        Some(exit) => {
            let (code, status) = match exit.state {
                ChildState::Exited(status) => code_and_status(status),
                ChildState::Stopped(signal) => (CLD_STOPPED, i32::from(signal)),
                ChildState::Continued => (CLD_CONTINUED, SIGCONT),
            };
            (SIGCHLD, code, exit.pid as i32, exit.uid, status)
        }
        None => (0, 0, 0, 0, 0),
    };
    // si_signo, si_errno, si_code; then (after 4 bytes of padding) si_pid, si_uid, si_status.
    let head = [signo, 0, code].map(i32::to_le_bytes).concat();
    infop.write_bytes(&head)?;
    let child = [pid.to_le_bytes(), uid.to_le_bytes(), status.to_le_bytes()].concat();
    UserOutPtr::<u8>::from(infop.addr() + 16).write_bytes(&child)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{poll_once, HostEvent, TestMachine, UserArena};
    use crate::Syscall;
    use alloc::vec::Vec;
    use linux_object::credentials::Credentials;
    use std::task::Poll;

    const WAITID: u32 = 247;
    const WAIT4: u32 = 61;
    const FORK: u32 = 57;

    fn errno(error: LxError) -> isize {
        -(error.errno() as isize)
    }

    fn int(value: i32) -> usize {
        value as isize as usize
    }

    /// `(si_signo, si_errno, si_code, padding, si_pid, si_uid, si_status)`.
    fn siginfo(arena: &UserArena, addr: usize) -> [i32; 7] {
        let bytes = arena.get_bytes(addr, 28);
        let word =
            |index: usize| i32::from_le_bytes(bytes[index * 4..index * 4 + 4].try_into().unwrap());
        [0, 1, 2, 3, 4, 5, 6].map(word)
    }

    #[test]
    fn stops_and_continues_are_reported_once_each_and_wake_a_blocked_wait() {
        let machine = TestMachine::new();
        let init = machine.init();
        let arena = UserArena::new(1);
        assert_eq!(machine.run(&init, 1, FORK, [0; 6]), 2);
        let status = arena.alloc(4);
        let word =
            |arena: &UserArena| i32::from_le_bytes(arena.get_bytes(status, 4).try_into().unwrap());
        let untraced_nohang = 0x2 | WNOHANG as usize;
        assert_eq!(
            machine.run(&init, 1, WAIT4, [2, status, untraced_nohang, 0, 0, 0]),
            0
        );
        machine.change_child(2, ChildState::Stopped(19));
        // Not asked for: not reported, and not consumed.
        assert_eq!(
            machine.run(&init, 1, WAIT4, [2, status, WNOHANG as usize, 0, 0, 0]),
            0
        );
        assert_eq!(
            machine.run(&init, 1, WAIT4, [2, status, untraced_nohang, 0, 0, 0]),
            2
        );
        assert_eq!(word(&arena), 0x137f, "WIFSTOPPED, SIGSTOP");
        assert_eq!(
            machine.run(&init, 1, WAIT4, [2, status, untraced_nohang, 0, 0, 0]),
            0
        );
        // A wait blocked for a continue wakes when it happens.
        let info = arena.alloc(128);
        let host = machine.task(1, 1);
        let call = Syscall {
            process: &init,
            tid: 1,
            host: &host,
        };
        let args = [P_PID as usize, 2, info, WCONTINUED as usize, 0, 0];
        let mut wait = core::pin::pin!(call.run(WAITID, args));
        assert!(poll_once(wait.as_mut()).is_pending());
        machine.change_child(2, ChildState::Continued);
        assert_eq!(poll_once(wait.as_mut()), Poll::Ready(0));
        assert_eq!(siginfo(&arena, info)[..3], [SIGCHLD, 0, CLD_CONTINUED]);
        assert_eq!(siginfo(&arena, info)[4..], [2, 0, SIGCONT]);
        assert!(
            machine.process(2).exit_status().is_none(),
            "a continue reaps nothing"
        );
    }

    #[test]
    fn an_exit_is_reported_in_siginfo_and_the_child_reaped() {
        let machine = TestMachine::new();
        let init = machine.init();
        let arena = UserArena::new(1);
        assert_eq!(machine.run(&init, 1, FORK, [0; 6]), 2);
        let child = machine.process(2);
        child.set_credentials(Credentials::user(1000, 1000));
        let info = arena.put_bytes(&[0x5a; 128]);
        let rusage = arena.put_bytes(&[0x5a; 144]);
        let nohang = (WEXITED | WNOHANG) as usize;
        // Still running: zeros, and the padding is left alone.
        assert_eq!(
            machine.run(&init, 1, WAITID, [1, 2, info, nohang, rusage, 0]),
            0
        );
        assert_eq!(siginfo(&arena, info), [0, 0, 0, 0x5a5a_5a5a, 0, 0, 0]);
        assert_eq!(
            arena.get_bytes(rusage, 1),
            [0x5a],
            "nothing reported, nothing zeroed"
        );
        child.exit(ExitStatus::Exited(3));
        let keep = (WEXITED | WNOWAIT) as usize;
        assert_eq!(
            machine.run(&init, 1, WAITID, [P_PGID as usize, 0, info, keep, 0, 0]),
            0
        );
        assert_eq!(
            siginfo(&arena, info),
            [SIGCHLD, 0, CLD_EXITED, 0x5a5a_5a5a, 2, 1000, 3]
        );
        assert_eq!(
            machine.container().pids(),
            [1, 2],
            "WNOWAIT keeps the zombie"
        );
        let reap = WEXITED as usize;
        assert_eq!(
            machine.run(&init, 1, WAITID, [0, 0, info, reap, rusage, 0]),
            0
        );
        assert_eq!(siginfo(&arena, info)[4], 2);
        assert_eq!(arena.get_bytes(rusage, 144), [0; 144]);
        assert_eq!(machine.container().pids(), [1]);
        let reaped = machine
            .events()
            .into_iter()
            .filter_map(|event| match event {
                HostEvent::Reaped { pid, child } => Some((pid, child)),
                _ => None,
            });
        assert_eq!(
            reaped.collect::<Vec<_>>(),
            [(1, 2)],
            "the host reaps its task too"
        );
        assert_eq!(
            machine.run(&init, 1, WAITID, [0, 0, info, reap, 0, 0]),
            errno(LxError::ECHILD)
        );
    }

    #[test]
    fn a_signal_death_is_cld_killed_and_waitid_blocks_until_then() {
        let machine = TestMachine::new();
        let init = machine.init();
        let arena = UserArena::new(1);
        assert_eq!(machine.run(&init, 1, FORK, [0; 6]), 2);
        let info = arena.alloc(128);
        let host = machine.task(1, 1);
        let call = Syscall {
            process: &init,
            tid: 1,
            host: &host,
        };
        let args = [P_PID as usize, 2, info, WEXITED as usize, 0, 0];
        let mut wait = core::pin::pin!(call.run(WAITID, args));
        assert!(poll_once(wait.as_mut()).is_pending());
        machine.process(2).exit(ExitStatus::Signaled(9));
        assert_eq!(poll_once(wait.as_mut()), Poll::Ready(0));
        assert_eq!(siginfo(&arena, info)[..3], [SIGCHLD, 0, CLD_KILLED]);
        assert_eq!(siginfo(&arena, info)[6], 9);
        assert_eq!(
            code_and_status(ExitStatus::Signaled(0x80 | 11)),
            (CLD_DUMPED, 11)
        );
    }

    #[test]
    fn waitid_arguments_are_checked_as_linux() {
        let machine = TestMachine::new();
        let init = machine.init();
        let arena = UserArena::new(1);
        let info = arena.alloc(128);
        assert_eq!(machine.run(&init, 1, FORK, [0; 6]), 2);
        let waitid = |idtype: u32, id: i32, infop: usize, options: u32| {
            machine.run(
                &init,
                1,
                WAITID,
                [idtype as usize, int(id), infop, options as usize, 0, 0],
            )
        };
        assert_eq!(waitid(P_PID, 2, info, WNOHANG), errno(LxError::EINVAL));
        assert_eq!(
            waitid(P_PID, 2, info, WEXITED | 0x10),
            errno(LxError::EINVAL)
        );
        assert_eq!(waitid(P_PID, 0, info, WEXITED), errno(LxError::EINVAL));
        assert_eq!(waitid(P_PGID, -1, info, WEXITED), errno(LxError::EINVAL));
        assert_eq!(waitid(4, 1, info, WEXITED), errno(LxError::EINVAL));
        assert_eq!(waitid(P_PIDFD, -1, info, WEXITED), errno(LxError::EINVAL));
        assert_eq!(waitid(P_PIDFD, 1, info, WEXITED), errno(LxError::EBADF));
        assert_eq!(waitid(P_PID, 99, info, WEXITED), errno(LxError::ECHILD));
        // Stops are never reported: WNOHANG returns at once.
        assert_eq!(waitid(P_ALL, 0, info, WSTOPPED | WNOHANG), 0);
        machine.process(2).exit(ExitStatus::Exited(0));
        let bad = arena.unmapped();
        assert_eq!(waitid(P_ALL, 0, bad, WEXITED), errno(LxError::EFAULT));
        assert_eq!(machine.container().pids(), [1], "reaped even so");
    }

    #[test]
    fn wait4_zero_and_negative_pids_wait_for_a_group() {
        let machine = TestMachine::new();
        let init = machine.init();
        assert_eq!(machine.run(&init, 1, FORK, [0; 6]), 2);
        assert_eq!(machine.run(&init, 1, FORK, [0; 6]), 3);
        let container = machine.container();
        container.set_process_group(&init, 3, 3).unwrap();
        machine.process(3).exit(ExitStatus::Exited(0));
        machine.process(2).exit(ExitStatus::Exited(0));
        let wait4 = |pid: i32| machine.run(&init, 1, WAIT4, [int(pid), 0, 1, 0, 0, 0]);
        assert_eq!(wait4(-7), errno(LxError::ECHILD));
        assert_eq!(wait4(-3), 3);
        assert_eq!(wait4(0), 2, "the caller's group, 1");
        assert_eq!(wait4(0), errno(LxError::ECHILD));
    }
}
